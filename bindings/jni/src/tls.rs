//! TLS for the Java door: `io.libsock.TlsConfig` (its subclasses `TlsClientConfig` and
//! `TlsServerConfig`), `io.libsock.Tls` (self-signed certificates, fingerprints) and
//! `TcpConnection.tlsInfo()`.
//!
//! A `TlsConfig` is a handle in the door's table ([`Obj::Tls`]) holding core's builder
//! ([`TlsClient`] or [`TlsServer`]). Every setter applies to the builder at once, so a bad
//! value (a malformed pin, PEM that holds no certificate, a file that cannot be read) throws
//! from the setter that was given it. The built configuration ([`ClientTls`] / [`ServerTls`]) is
//! made once, at the first `connect`/`listen` that uses it, and shared by every later one; a
//! setter called after that makes the next use build again (connections made before keep what
//! they were made with).

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use jni::objects::{JByteArray, JClass, JObject, JObjectArray, JString};
use jni::sys::{jboolean, jint, jlong};
use jni::{jni_sig, jni_str, EnvUnowned, JValue};
use libsock::tls::{ClientAuth, ClientTls, ServerTls, TlsClient, TlsServer, TlsVersion};

use crate::{
    conn, get, insert, invalid, jstr, new_bytes, opt_string, run, string, JErr, JResult, Obj,
};

/// One side's builder and, once used, what it built.
enum Side {
    /// A client's settings.
    Client(TlsClient, Option<ClientTls>),
    /// A server's settings.
    Server(TlsServer, Option<ServerTls>),
}

/// The native half of a Java `TlsConfig`.
pub(crate) struct TlsObj {
    side: Mutex<Side>,
}

impl TlsObj {
    fn lock(&self) -> MutexGuard<'_, Side> {
        self.side.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Change the client builder (`f` gets a copy, so a failed setter leaves it as it was) and
    /// forget what was built from it.
    fn client(
        &self,
        what: &str,
        f: impl FnOnce(TlsClient) -> libsock::Result<TlsClient>,
    ) -> JResult<()> {
        match &mut *self.lock() {
            Side::Client(b, built) => {
                *b = f(b.clone())?;
                *built = None;
                Ok(())
            }
            Side::Server(..) => Err(invalid(format!(
                "{what} is a client setting; this TlsConfig is a server's"
            ))),
        }
    }

    /// Change the server builder, as [`TlsObj::client`].
    fn server(
        &self,
        what: &str,
        f: impl FnOnce(TlsServer) -> libsock::Result<TlsServer>,
    ) -> JResult<()> {
        match &mut *self.lock() {
            Side::Server(b, built) => {
                *b = f(b.clone())?;
                *built = None;
                Ok(())
            }
            Side::Client(..) => Err(invalid(format!(
                "{what} is a server setting; this TlsConfig is a client's"
            ))),
        }
    }

    /// Change whichever side this is.
    fn either(
        &self,
        c: impl FnOnce(TlsClient) -> libsock::Result<TlsClient>,
        s: impl FnOnce(TlsServer) -> libsock::Result<TlsServer>,
    ) -> JResult<()> {
        match &mut *self.lock() {
            Side::Client(b, built) => {
                *b = c(b.clone())?;
                *built = None;
            }
            Side::Server(b, built) => {
                *b = s(b.clone())?;
                *built = None;
            }
        }
        Ok(())
    }
}

fn tls_obj(h: jlong) -> JResult<Arc<TlsObj>> {
    match get(h, "TLS config")? {
        Obj::Tls(t) => Ok(t),
        _ => Err(JErr::BadHandle(h, "TLS config")),
    }
}

/// The built client configuration of handle `h` (built now if it was not yet).
pub(crate) fn client_tls(h: jlong) -> JResult<ClientTls> {
    let t = tls_obj(h)?;
    let mut side = t.lock();
    match &mut *side {
        Side::Client(b, built) => {
            if built.is_none() {
                *built = Some(b.clone().build()?);
            }
            Ok(built.clone().expect("built above"))
        }
        Side::Server(..) => Err(invalid(
            "a server's TlsConfig was given where a client's is needed (TlsConfig.client())",
        )),
    }
}

/// The built server configuration of handle `h` (built now if it was not yet).
pub(crate) fn server_tls(h: jlong) -> JResult<ServerTls> {
    let t = tls_obj(h)?;
    let mut side = t.lock();
    match &mut *side {
        Side::Server(b, built) => {
            if built.is_none() {
                *built = Some(b.clone().build()?);
            }
            Ok(built.clone().expect("built above"))
        }
        Side::Client(..) => Err(invalid(
            "a client's TlsConfig was given where a server's is needed (TlsConfig.server())",
        )),
    }
}

/// PEM text, or the contents of the file it names (`file` true).
fn pem_or_file(text: &str, file: bool, what: &str) -> JResult<Vec<u8>> {
    if !file {
        return Ok(text.as_bytes().to_vec());
    }
    std::fs::read(text)
        .map_err(|e| JErr::Core(libsock::Error::os(format!("read {what} {text}"), e)))
}

/// `static native long tlsNew(boolean server)`: an empty client (system roots, the host's name,
/// TLS 1.2 and 1.3, 10 s handshake) or server (no certificate yet) configuration.
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_tlsNew<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    server: jboolean,
) -> jlong {
    run(&mut env, |_| {
        let side = if server {
            Side::Server(TlsServer::new(), None)
        } else {
            Side::Client(TlsClient::new(), None)
        };
        insert(Obj::Tls(Arc::new(TlsObj {
            side: Mutex::new(side),
        })))
    })
}

/// `static native void tlsCa(long h, String pemOrPath, boolean file)`: trust these CA
/// certificates (client).
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_tlsCa<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    h: jlong,
    ca: JString<'l>,
    file: jboolean,
) {
    run(&mut env, |env| {
        let ca = string(env, &ca, if file { "CA file" } else { "CA PEM" })?;
        let t = tls_obj(h)?;
        let pem = pem_or_file(&ca, file, "CA file")?;
        t.client("the CA", |b| b.ca_pem(&pem))
    })
}

/// `static native void tlsBundledRoots(long h)`: trust the bundled Mozilla roots (client).
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_tlsBundledRoots<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    h: jlong,
) {
    run(&mut env, |_| {
        tls_obj(h)?.client("bundledRoots", |b| Ok(b.bundled_roots()))
    })
}

/// `static native void tlsPin(long h, String sha256)`: trust the peer whose certificate or
/// public key has this SHA-256 (client; call again for several).
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_tlsPin<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    h: jlong,
    pin: JString<'l>,
) {
    run(&mut env, |env| {
        let pin = string(env, &pin, "pin")?;
        tls_obj(h)?.client("pin", |b| b.pin_sha256(&pin))
    })
}

/// `static native void tlsDangerousNoVerify(long h)`: verify nothing (client; tests only).
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_tlsDangerousNoVerify<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    h: jlong,
) {
    run(&mut env, |_| {
        tls_obj(h)?.client("dangerousNoVerify", |b| Ok(b.dangerous_no_verify()))
    })
}

/// `static native void tlsServerName(long h, String name)`: the name sent (SNI) and checked
/// (client).
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_tlsServerName<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    h: jlong,
    name: JString<'l>,
) {
    run(&mut env, |env| {
        let name = string(env, &name, "server name")?;
        if name.is_empty() {
            return Err(invalid("server name is empty"));
        }
        tls_obj(h)?.client("serverName", |b| Ok(b.server_name(name)))
    })
}

/// `static native void tlsCert(long h, String sniName, String chain, String key, boolean files)`:
/// the certificate chain and key (PEM text, or files when `files`): a client's certificate
/// (mTLS), a server's default one, or (`sniName` not null) a server's one for that SNI name.
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_tlsCert<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    h: jlong,
    sni_name: JString<'l>,
    chain: JString<'l>,
    key: JString<'l>,
    files: jboolean,
) {
    run(&mut env, |env| {
        let sni = opt_string(env, &sni_name, "SNI name")?;
        let chain = string(env, &chain, "certificate")?;
        let key = string(env, &key, "private key")?;
        let t = tls_obj(h)?;
        let chain = pem_or_file(&chain, files, "certificate")?;
        let key = pem_or_file(&key, files, "private key")?;
        match sni {
            Some(name) => {
                if name.is_empty() {
                    return Err(invalid("SNI name is empty"));
                }
                t.server("sniCert", |b| b.sni_cert_pem(&name, &chain, &key))
            }
            None => t.either(
                |b| b.client_cert_pem(&chain, &key),
                |b| b.cert_pem(&chain, &key),
            ),
        }
    })
}

/// `static native void tlsClientAuth(long h, int mode, String ca, boolean file)`: which client
/// certificates a server asks for: 0 none, 1 optional, 2 required (checked against `ca`).
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_tlsClientAuth<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    h: jlong,
    mode: jint,
    ca: JString<'l>,
    file: jboolean,
) {
    run(&mut env, |env| {
        let ca = opt_string(env, &ca, "client CA")?;
        let t = tls_obj(h)?;
        let ca = match ca {
            Some(c) => Some(pem_or_file(&c, file, "client CA file")?),
            None => None,
        };
        let auth =
            match (mode, ca) {
                (0, _) => ClientAuth::None,
                (1, Some(ca)) => ClientAuth::Optional(ca),
                (2, Some(ca)) => ClientAuth::Required(ca),
                (1 | 2, None) => return Err(invalid(
                    "client auth needs the client CA (the CAs to check client certificates with)",
                )),
                (m, _) => return Err(invalid(format!("client auth mode {m}"))),
            };
        if let ClientAuth::Optional(ca) | ClientAuth::Required(ca) = &auth {
            // Refuse PEM without a certificate here, not at the first listen.
            libsock::tls::TlsClient::new()
                .ca_pem(ca)
                .map_err(|e| invalid(e.to_string().replace("CA certificates", "client CA")))?;
        }
        t.server("clientAuth", |b| Ok(b.client_auth(auth)))
    })
}

/// `static native void tlsAlpn(long h, String[] protocols)`: ALPN protocols, most preferred
/// first (either side).
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_tlsAlpn<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    h: jlong,
    protocols: JObjectArray<'l, JString<'l>>,
) {
    run(&mut env, |env| {
        if protocols.is_null() {
            return Err(JErr::Null("protocols"));
        }
        let n = protocols.len(env)?;
        let mut list = Vec::with_capacity(n);
        for i in 0..n {
            let p = protocols.get_element(env, i)?;
            if p.is_null() {
                return Err(JErr::Null("an ALPN protocol"));
            }
            let s = string(env, &p, "ALPN protocol")?;
            env.delete_local_ref(p);
            if s.is_empty() || s.len() > 255 {
                return Err(invalid(format!(
                    "ALPN protocol {s:?} must be 1 to 255 bytes"
                )));
            }
            list.push(s);
        }
        let t = tls_obj(h)?;
        let l2 = list.clone();
        t.either(|b| Ok(b.alpn(&list)), |b| Ok(b.alpn(&l2)))
    })
}

/// `static native void tlsMinVersion(long h, String version)`: `"1.2"` or `"1.3"` (either side).
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_tlsMinVersion<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    h: jlong,
    version: JString<'l>,
) {
    run(&mut env, |env| {
        let v: TlsVersion = string(env, &version, "version")?.parse()?;
        tls_obj(h)?.either(|b| Ok(b.min_version(v)), |b| Ok(b.min_version(v)))
    })
}

/// `static native void tlsHandshakeTimeout(long h, int ms)`: how long a handshake may take
/// (milliseconds, at least 1; either side).
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_tlsHandshakeTimeout<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    h: jlong,
    ms: jint,
) {
    run(&mut env, |_| {
        if ms <= 0 {
            return Err(invalid(format!(
                "handshake timeout {ms} ms (must be at least 1 ms: a handshake always has a limit)"
            )));
        }
        let d = Duration::from_millis(ms as u64);
        tls_obj(h)?.either(
            |b| Ok(b.handshake_timeout(d)),
            |b| Ok(b.handshake_timeout(d)),
        )
    })
}

/// `static native void tlsKeylog(long h, boolean on)`: write session keys to `SSLKEYLOGFILE`.
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_tlsKeylog<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    h: jlong,
    on: jboolean,
) {
    run(&mut env, |_| {
        tls_obj(h)?.either(|b| Ok(b.keylog(on)), |b| Ok(b.keylog(on)))
    })
}

/// `static native void tlsBuild(long h)`: build now (what the first `connect`/`listen` would
/// do), so that a configuration that cannot work fails here.
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_tlsBuild<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    h: jlong,
) {
    run(&mut env, |_| {
        let server = matches!(&*tls_obj(h)?.lock(), Side::Server(..));
        if server {
            server_tls(h).map(drop)
        } else {
            client_tls(h).map(drop)
        }
    })
}

/// `static native String[] tlsSelfSigned(String[] names)`: `{certificate PEM, key PEM}`.
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_tlsSelfSigned<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    names: JObjectArray<'l, JString<'l>>,
) -> JObjectArray<'l> {
    run(&mut env, |env| {
        if names.is_null() {
            return Err(JErr::Null("names"));
        }
        let n = names.len(env)?;
        let mut list = Vec::with_capacity(n);
        for i in 0..n {
            let s = names.get_element(env, i)?;
            if s.is_null() {
                return Err(JErr::Null("a name"));
            }
            list.push(string(env, &s, "name")?);
            env.delete_local_ref(s);
        }
        let refs: Vec<&str> = list.iter().map(|s| s.as_str()).collect();
        let (cert, key) = libsock::tls::self_signed(&refs)?;
        let arr = env.new_object_array(2, jni_str!("java/lang/String"), JObject::null())?;
        for (i, s) in [cert, key].iter().enumerate() {
            let js = jstr(env, s)?;
            arr.set_element(env, i, &js)?;
            env.delete_local_ref(js);
        }
        Ok(arr)
    })
}

/// `static native String tlsFingerprint(String pem, byte[] der, boolean publicKey)`: the SHA-256
/// fingerprint of a certificate (PEM text, else DER), or of its public key (DER only).
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_tlsFingerprint<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    pem: JString<'l>,
    der: JByteArray<'l>,
    public_key: jboolean,
) -> JString<'l> {
    run(&mut env, |env| {
        let fp = match opt_string(env, &pem, "certificate")? {
            Some(p) if !public_key => libsock::tls::fingerprint_pem(p.as_bytes())?,
            Some(_) => return Err(invalid("a public key fingerprint is taken of DER")),
            None => {
                if der.is_null() {
                    return Err(JErr::Null("certificate"));
                }
                let der = env.convert_byte_array(&der)?;
                if public_key {
                    libsock::tls::public_key_fingerprint(&der)?
                } else {
                    libsock::tls::fingerprint(&der)
                }
            }
        };
        jstr(env, &fp)
    })
}

/// `static native TlsInfo connTlsInfo(long h)`: what the handshake agreed on, null for a plain
/// connection.
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_connTlsInfo<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    h: jlong,
) -> JObject<'l> {
    run(&mut env, |env| {
        let c = conn(h)?;
        if c.is_closed() {
            return Err(JErr::BadHandle(h, "connection"));
        }
        let Some(info) = c.tls_info() else {
            return Ok(JObject::null());
        };
        let version = jstr(env, &info.version)?;
        let cipher = jstr(env, &info.cipher)?;
        let alpn = match &info.alpn {
            Some(a) => JObject::from(jstr(env, &String::from_utf8_lossy(a))?),
            None => JObject::null(),
        };
        let certs = env.new_object_array(
            info.peer_certificates.len() as jint,
            jni_str!("[B"),
            JObject::null(),
        )?;
        for (i, der) in info.peer_certificates.iter().enumerate() {
            let b = new_bytes(env, der)?;
            certs.set_element(env, i, &b)?;
            env.delete_local_ref(b);
        }
        let obj = env.new_object(
            jni_str!("io/libsock/TlsInfo"),
            jni_sig!("(Ljava/lang/String;Ljava/lang/String;Ljava/lang/String;[[B)V"),
            &[
                JValue::Object(&version),
                JValue::Object(&cipher),
                JValue::Object(&alpn),
                JValue::Object(&certs),
            ],
        )?;
        Ok(obj)
    })
}

/// `static native boolean connIsTls(long h)`.
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_connIsTls<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    h: jlong,
) -> jboolean {
    run(&mut env, |_| Ok(conn(h)?.is_tls()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_setter_keeps_the_builder_and_sides_are_checked() {
        let t = TlsObj {
            side: Mutex::new(Side::Client(TlsClient::new(), None)),
        };
        assert!(t.client("pin", |b| b.pin_sha256("nope")).is_err());
        assert!(t.client("pin", |b| b.pin_sha256(&"ab".repeat(32))).is_ok());
        match t.server("sniCert", Ok) {
            Err(JErr::Core(e)) => assert!(e.to_string().contains("server setting"), "{e}"),
            _ => panic!("a server setting on a client config"),
        }
    }
}
