//! TLS: a TLS config handle built by setters (no structs, no callbacks: MATLAB's loadlibrary and
//! Pascal read every declaration), attached to `ls_tcp_connect_ex` / `ls_listen_ex` through an
//! options object (and to the engine through an engine config), and what a handshake agreed on.
//!
//! Translation only: the settings are core's `TlsClient` / `TlsServer` (core/src/tls.rs), built
//! once per change and shared by every connection made with them.

use std::ffi::c_char;
use std::sync::Mutex;
use std::time::Duration;

use libsock::tls::{ClientAuth, ClientTls, ServerTls, TlsClient, TlsServer, TlsVersion};
use libsock::{Error, TlsInfo};

use crate::boundary::{bad_arg, call, flag_arg, in_bytes, in_str, out_bytes, write_text, Out};
use crate::handles::{as_conn, conn, insert, options, remove, tls_config, Obj, Side, TlsEntry};

/// What the handshake of the connection in `o` agreed on (None: a plain connection).
fn as_conn_info(o: &Obj) -> Option<TlsInfo> {
    as_conn(o).tls_info()
}

// ---------------------------------------------------------------------------------------------
// Constants
// ---------------------------------------------------------------------------------------------

/// `ls_tls_set_min_version`: TLS 1.2 and 1.3 are accepted (the default).
pub const LS_TLS_VERSION_1_2: i32 = 12;
/// `ls_tls_set_min_version`: only TLS 1.3 is accepted.
pub const LS_TLS_VERSION_1_3: i32 = 13;

/// `ls_tls_set_client_auth`: the server asks for no client certificate (the default).
pub const LS_TLS_CLIENT_AUTH_NONE: i32 = 0;
/// `ls_tls_set_client_auth`: the server asks for a client certificate and verifies one when
/// sent; clients without one are accepted.
pub const LS_TLS_CLIENT_AUTH_OPTIONAL: i32 = 1;
/// `ls_tls_set_client_auth`: the server requires a client certificate signed by the given CA
/// (mutual TLS); a client without one fails its handshake with `LS_ERR_TLS`.
pub const LS_TLS_CLIENT_AUTH_REQUIRED: i32 = 2;

/// A text buffer of this many bytes holds any SHA-256 fingerprint libsock writes (64 hex digits
/// and the NUL).
pub const LS_FINGERPRINT_MAX: i32 = 65;

// ---------------------------------------------------------------------------------------------
// The config object
// ---------------------------------------------------------------------------------------------

/// Lock the settings of a TLS config object.
pub(crate) fn entry(o: &Obj) -> std::sync::MutexGuard<'_, TlsEntry> {
    match o {
        Obj::Tls(m) => m.lock().unwrap_or_else(|p| p.into_inner()),
        _ => unreachable!("checked by tls_config()"),
    }
}

/// Change the settings of TLS config `handle`.
fn with_entry(
    handle: i64,
    f: impl FnOnce(&mut TlsEntry) -> Result<(), Error>,
) -> Result<(), Error> {
    let o = tls_config(handle)?;
    let mut e = entry(&o);
    f(&mut e)
}

fn new_config(side: Side, out_handle: *mut i64) -> Result<(), Error> {
    let out = Out::new(out_handle, "out_handle")?;
    out.set(insert(Obj::Tls(Mutex::new(TlsEntry {
        side,
        alpn: Vec::new(),
        built: None,
    })))?);
    Ok(())
}

/// Create a client TLS config: the server is verified against the system's roots and the host
/// name connected to (an IP address against the certificate's IP addresses), TLS 1.2 and 1.3,
/// a 10 s handshake timeout. Change it with the `ls_tls_set_*` / `ls_tls_add_*` setters, attach
/// it to an options object with `ls_options_set_tls` and connect with `ls_tcp_connect_ex` (or
/// to an engine config with `ls_engine_config_set_tls`). Free it with `ls_tls_config_free` (or
/// `ls_close`); what it was attached to keeps its settings.
#[no_mangle]
pub unsafe extern "C" fn ls_tls_client_config_new(out_handle: *mut i64) -> i32 {
    call("ls_tls_client_config_new", || {
        new_config(Side::Client(TlsClient::new()), out_handle)
    })
}

/// Create a server TLS config. It needs a certificate and key (`ls_tls_set_cert_files` or
/// `ls_tls_set_cert_pem`; or SNI certificates, `ls_tls_add_sni_cert_*`); no client certificate
/// is asked for, TLS 1.2 and 1.3, a 10 s handshake timeout. Attach it to an options object with
/// `ls_options_set_tls` and listen with `ls_listen_ex` (`ls_accept` returns a connection whose
/// handshake completed), or to an engine config.
#[no_mangle]
pub unsafe extern "C" fn ls_tls_server_config_new(out_handle: *mut i64) -> i32 {
    call("ls_tls_server_config_new", || {
        new_config(Side::Server(TlsServer::new()), out_handle)
    })
}

/// Free TLS config `handle` (the same as `ls_close` on it, but only takes a TLS config). Options
/// objects and engine configs it was attached to keep its settings.
#[no_mangle]
pub extern "C" fn ls_tls_config_free(handle: i64) -> i32 {
    call("ls_tls_config_free", || {
        if handle == 0 {
            return Ok(());
        }
        tls_config(handle)?;
        remove(handle)
    })
}

// ---------------------------------------------------------------------------------------------
// Client settings
// ---------------------------------------------------------------------------------------------

/// Client: trust the CA certificates in the PEM file at `path` (instead of the system's roots).
#[no_mangle]
pub unsafe extern "C" fn ls_tls_set_ca_file(handle: i64, path: *const c_char) -> i32 {
    call("ls_tls_set_ca_file", || {
        // SAFETY: the caller promises a NUL-terminated string.
        let path = unsafe { in_str(path, "path") }?;
        with_entry(handle, |e| {
            let c = e.client("ls_tls_set_ca_file")?;
            *c = c.clone().ca_file(path)?;
            Ok(())
        })
    })
}

/// Client: trust the CA certificates in `len` bytes of PEM text at `pem`.
#[no_mangle]
pub unsafe extern "C" fn ls_tls_set_ca_pem(handle: i64, pem: *const u8, len: usize) -> i32 {
    call("ls_tls_set_ca_pem", || {
        // SAFETY: the caller promises `len` readable bytes.
        let pem = unsafe { in_bytes(pem, len, "pem") }?;
        with_entry(handle, |e| {
            let c = e.client("ls_tls_set_ca_pem")?;
            *c = c.clone().ca_pem(pem)?;
            Ok(())
        })
    })
}

/// Client: trust the Mozilla roots bundled in libsock (for systems without a usable store).
#[no_mangle]
pub extern "C" fn ls_tls_set_bundled_roots(handle: i64) -> i32 {
    call("ls_tls_set_bundled_roots", || {
        with_entry(handle, |e| {
            let c = e.client("ls_tls_set_bundled_roots")?;
            *c = c.clone().bundled_roots();
            Ok(())
        })
    })
}

/// Client: trust only a server whose certificate, or its public key, has this SHA-256
/// fingerprint (64 hex digits, colons allowed; `ls_fingerprint` computes it). Call again to
/// allow several (e.g. during a key change). No CA, name or date is checked: the pin is the
/// identity. The safe way to trust a self-signed device (instead of
/// `ls_tls_set_dangerous_no_verify`). A server with another certificate fails the handshake
/// with `LS_ERR_TLS` ("pin mismatch").
#[no_mangle]
pub unsafe extern "C" fn ls_tls_add_pin(handle: i64, sha256_hex: *const c_char) -> i32 {
    call("ls_tls_add_pin", || {
        // SAFETY: the caller promises a NUL-terminated string.
        let pin = unsafe { in_str(sha256_hex, "sha256_hex") }?;
        with_entry(handle, |e| {
            let c = e.client("ls_tls_add_pin")?;
            *c = c.clone().pin_sha256(pin)?;
            Ok(())
        })
    })
}

/// Client: DANGER: do not verify the server at all; anyone on the path can read and change
/// the traffic. For tests only; libsock says so on stderr once per process. To trust a
/// self-signed server, pin it instead (`ls_tls_add_pin`).
#[no_mangle]
pub extern "C" fn ls_tls_set_dangerous_no_verify(handle: i64) -> i32 {
    call("ls_tls_set_dangerous_no_verify", || {
        with_entry(handle, |e| {
            let c = e.client("ls_tls_set_dangerous_no_verify")?;
            *c = c.clone().dangerous_no_verify();
            Ok(())
        })
    })
}

/// Client: the name sent in SNI and checked in the server's certificate (default: the host
/// given to connect, an IP address checked against the certificate's IP addresses).
#[no_mangle]
pub unsafe extern "C" fn ls_tls_set_server_name(handle: i64, name: *const c_char) -> i32 {
    call("ls_tls_set_server_name", || {
        // SAFETY: the caller promises a NUL-terminated string.
        let name = unsafe { in_str(name, "name") }?;
        // An empty name is core's to refuse (when the config is built), as in every door.
        with_entry(handle, |e| {
            let c = e.client("ls_tls_set_server_name")?;
            *c = c.clone().server_name(name);
            Ok(())
        })
    })
}

// ---------------------------------------------------------------------------------------------
// Certificates (both sides: a client's for mTLS, a server's own)
// ---------------------------------------------------------------------------------------------

/// The certificate chain and private key from PEM files (the key PKCS#8, PKCS#1 or SEC1): a
/// server's own certificate, or on a client config the certificate presented when the server
/// asks for one (mutual TLS).
#[no_mangle]
pub unsafe extern "C" fn ls_tls_set_cert_files(
    handle: i64,
    cert_path: *const c_char,
    key_path: *const c_char,
) -> i32 {
    call("ls_tls_set_cert_files", || {
        // SAFETY: the caller promises NUL-terminated strings.
        let cert = unsafe { in_str(cert_path, "cert_path") }?;
        let key = unsafe { in_str(key_path, "key_path") }?;
        with_entry(handle, |e| {
            e.built = None;
            match &mut e.side {
                Side::Client(c) => *c = c.clone().client_cert_files(cert, key)?,
                Side::Server(s) => *s = s.clone().cert_files(cert, key)?,
            }
            Ok(())
        })
    })
}

/// `ls_tls_set_cert_files` from PEM text in memory: `cert_len` bytes at `cert`, `key_len` bytes
/// at `key` (as `ls_tls_self_signed` writes them).
#[no_mangle]
pub unsafe extern "C" fn ls_tls_set_cert_pem(
    handle: i64,
    cert: *const u8,
    cert_len: usize,
    key: *const u8,
    key_len: usize,
) -> i32 {
    call("ls_tls_set_cert_pem", || {
        // SAFETY: the caller promises `cert_len` and `key_len` readable bytes.
        let cert = unsafe { in_bytes(cert, cert_len, "cert") }?;
        let key = unsafe { in_bytes(key, key_len, "key") }?;
        with_entry(handle, |e| {
            e.built = None;
            match &mut e.side {
                Side::Client(c) => *c = c.clone().client_cert_pem(cert, key)?,
                Side::Server(s) => *s = s.clone().cert_pem(cert, key)?,
            }
            Ok(())
        })
    })
}

fn read(path: &str, what: &str) -> Result<Vec<u8>, Error> {
    std::fs::read(path).map_err(|e| Error::os(format!("read {what} {path}"), e))
}

/// Server: serve this certificate chain and key (PEM text) to clients that ask for `name` by
/// SNI; others get the default certificate (`ls_tls_set_cert_*`). Call once per name.
#[no_mangle]
pub unsafe extern "C" fn ls_tls_add_sni_cert_pem(
    handle: i64,
    name: *const c_char,
    cert: *const u8,
    cert_len: usize,
    key: *const u8,
    key_len: usize,
) -> i32 {
    call("ls_tls_add_sni_cert_pem", || {
        // SAFETY: the caller promises a NUL-terminated string and the readable bytes.
        let name = unsafe { in_str(name, "name") }?;
        let cert = unsafe { in_bytes(cert, cert_len, "cert") }?;
        let key = unsafe { in_bytes(key, key_len, "key") }?;
        with_entry(handle, |e| {
            let s = e.server("ls_tls_add_sni_cert_pem")?;
            *s = s.clone().sni_cert_pem(name, cert, key)?;
            Ok(())
        })
    })
}

/// `ls_tls_add_sni_cert_pem` from PEM files.
#[no_mangle]
pub unsafe extern "C" fn ls_tls_add_sni_cert_files(
    handle: i64,
    name: *const c_char,
    cert_path: *const c_char,
    key_path: *const c_char,
) -> i32 {
    call("ls_tls_add_sni_cert_files", || {
        // SAFETY: the caller promises NUL-terminated strings.
        let name = unsafe { in_str(name, "name") }?;
        let cert = read(unsafe { in_str(cert_path, "cert_path") }?, "certificate")?;
        let key = read(unsafe { in_str(key_path, "key_path") }?, "private key")?;
        with_entry(handle, |e| {
            let s = e.server("ls_tls_add_sni_cert_files")?;
            *s = s.clone().sni_cert_pem(name, &cert, &key)?;
            Ok(())
        })
    })
}

fn client_auth(mode: i32, ca: Vec<u8>) -> Result<ClientAuth, Error> {
    match mode {
        LS_TLS_CLIENT_AUTH_NONE => Ok(ClientAuth::None),
        LS_TLS_CLIENT_AUTH_OPTIONAL | LS_TLS_CLIENT_AUTH_REQUIRED if ca.is_empty() => Err(bad_arg(
            "client_auth needs the CA certificates to check client certificates with",
        )),
        LS_TLS_CLIENT_AUTH_OPTIONAL => Ok(ClientAuth::Optional(ca)),
        LS_TLS_CLIENT_AUTH_REQUIRED => Ok(ClientAuth::Required(ca)),
        other => Err(bad_arg(format!(
            "mode is {other}, it must be LS_TLS_CLIENT_AUTH_NONE (0), \
             LS_TLS_CLIENT_AUTH_OPTIONAL (1) or LS_TLS_CLIENT_AUTH_REQUIRED (2)"
        ))),
    }
}

/// Server: which client certificates to ask for (`LS_TLS_CLIENT_AUTH_*`), verified against the
/// CA certificates in `ca_len` bytes of PEM text at `ca_pem` (may be NULL and 0 with
/// `LS_TLS_CLIENT_AUTH_NONE`).
#[no_mangle]
pub unsafe extern "C" fn ls_tls_set_client_auth(
    handle: i64,
    mode: i32,
    ca_pem: *const u8,
    ca_len: usize,
) -> i32 {
    call("ls_tls_set_client_auth", || {
        // SAFETY: the caller promises `ca_len` readable bytes.
        let ca = unsafe { in_bytes(ca_pem, ca_len, "ca_pem") }?;
        let auth = client_auth(mode, ca.to_vec())?;
        with_entry(handle, |e| {
            let s = e.server("ls_tls_set_client_auth")?;
            *s = s.clone().client_auth(auth);
            Ok(())
        })
    })
}

/// `ls_tls_set_client_auth` with the CA certificates from the PEM file at `ca_path` (not read,
/// and may be NULL, with `LS_TLS_CLIENT_AUTH_NONE`).
#[no_mangle]
pub unsafe extern "C" fn ls_tls_set_client_auth_file(
    handle: i64,
    mode: i32,
    ca_path: *const c_char,
) -> i32 {
    call("ls_tls_set_client_auth_file", || {
        let ca = if mode == LS_TLS_CLIENT_AUTH_NONE {
            Vec::new()
        } else {
            // SAFETY: the caller promises a NUL-terminated string.
            read(unsafe { in_str(ca_path, "ca_path") }?, "client CA")?
        };
        let auth = client_auth(mode, ca)?;
        with_entry(handle, |e| {
            let s = e.server("ls_tls_set_client_auth_file")?;
            *s = s.clone().client_auth(auth);
            Ok(())
        })
    })
}

// ---------------------------------------------------------------------------------------------
// Both sides
// ---------------------------------------------------------------------------------------------

/// Add an ALPN protocol ("h2", "http/1.1", ...; 1 to 255 bytes), one call per protocol, most
/// preferred first. A client offers them; a server accepts the client's first one that it has
/// (and fails the handshake when it has none of them). `ls_tls_alpn` reads what was agreed.
#[no_mangle]
pub unsafe extern "C" fn ls_tls_add_alpn(handle: i64, protocol: *const c_char) -> i32 {
    call("ls_tls_add_alpn", || {
        // SAFETY: the caller promises a NUL-terminated string.
        let p = unsafe { in_str(protocol, "protocol") }?;
        // Its length (1 to 255 bytes) is core's to check when the config is built.
        with_entry(handle, |e| {
            e.built = None;
            e.alpn.push(p.as_bytes().to_vec());
            Ok(())
        })
    })
}

/// The lowest protocol version accepted: `LS_TLS_VERSION_1_2` (the default) or
/// `LS_TLS_VERSION_1_3`.
#[no_mangle]
pub extern "C" fn ls_tls_set_min_version(handle: i64, version: i32) -> i32 {
    call("ls_tls_set_min_version", || {
        let v = match version {
            LS_TLS_VERSION_1_2 => TlsVersion::V1_2,
            LS_TLS_VERSION_1_3 => TlsVersion::V1_3,
            other => {
                return Err(bad_arg(format!(
                    "version is {other}, it must be LS_TLS_VERSION_1_2 (12) or \
                     LS_TLS_VERSION_1_3 (13)"
                )))
            }
        };
        with_entry(handle, |e| {
            e.built = None;
            match &mut e.side {
                Side::Client(c) => *c = c.clone().min_version(v),
                Side::Server(s) => *s = s.clone().min_version(v),
            }
            Ok(())
        })
    })
}

/// How long a handshake may take, in milliseconds (at least 1; default 10000). It runs inside
/// `ls_tcp_connect_ex` / `ls_accept`; a peer that stays silent longer gives `LS_ERR_TIMEOUT`
/// ("TLS handshake ..."), a peer that does not speak TLS `LS_ERR_TLS`.
#[no_mangle]
pub extern "C" fn ls_tls_set_handshake_timeout(handle: i64, timeout_ms: i32) -> i32 {
    call("ls_tls_set_handshake_timeout", || {
        // A negative number is no duration; 0 is core's to refuse when the config is built.
        let ms = u64::try_from(timeout_ms).map_err(|_| {
            bad_arg(format!(
                "timeout_ms is {timeout_ms}: a handshake timeout is a number of milliseconds"
            ))
        })?;
        let t = Duration::from_millis(ms);
        with_entry(handle, |e| {
            e.built = None;
            match &mut e.side {
                Side::Client(c) => *c = c.clone().handshake_timeout(t),
                Side::Server(s) => *s = s.clone().handshake_timeout(t),
            }
            Ok(())
        })
    })
}

/// `on` 1: write the session keys to the file named by the environment variable
/// `SSLKEYLOGFILE` (when it is set), so that a capture can be decrypted with Wireshark; 0: do
/// not (the default).
#[no_mangle]
pub extern "C" fn ls_tls_set_keylog(handle: i64, on: i32) -> i32 {
    call("ls_tls_set_keylog", || {
        let on = flag_arg(on, "on")?;
        with_entry(handle, |e| {
            e.built = None;
            match &mut e.side {
                Side::Client(c) => *c = c.clone().keylog(on),
                Side::Server(s) => *s = s.clone().keylog(on),
            }
            Ok(())
        })
    })
}

/// Attach TLS config `tls_handle` to options object `options_handle` (0 detaches): a client
/// config makes `ls_tcp_connect_ex` speak TLS (the handshake completes before it returns), a
/// server config makes `ls_listen_ex`'s listener accept TLS clients only. Later changes to the
/// config apply to later connections; freeing it does not detach it. The settings are checked
/// as a whole (core's checks: a server certificate, ALPN lengths, an empty server name, a
/// zero handshake timeout ...) when a connect or listen builds them: `LS_ERR_INVALID_ARGUMENT`
/// there. Datagram sockets refuse an options object with TLS.
#[no_mangle]
pub extern "C" fn ls_options_set_tls(options_handle: i64, tls_handle: i64) -> i32 {
    call("ls_options_set_tls", || {
        let tls = match tls_handle {
            0 => None,
            h => Some(tls_config(h)?),
        };
        let o = options(options_handle)?;
        if let Obj::Options(m) = &*o {
            m.lock().unwrap_or_else(|p| p.into_inner()).tls = tls;
        }
        Ok(())
    })
}

// ---------------------------------------------------------------------------------------------
// What the handshake agreed on
// ---------------------------------------------------------------------------------------------

/// `*out_is_tls` 1 when connection `handle` speaks TLS, else 0.
#[no_mangle]
pub unsafe extern "C" fn ls_is_tls(handle: i64, out_is_tls: *mut i32) -> i32 {
    call("ls_is_tls", || {
        let out = Out::new(out_is_tls, "out_is_tls")?;
        let o = conn(handle)?;
        out.set(as_conn(&o).is_tls() as i32);
        Ok(())
    })
}

unsafe fn info_text(
    handle: i64,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
    pick: impl FnOnce(TlsInfo) -> String,
) -> Result<(), Error> {
    // SAFETY: the caller promises `cap` writable bytes.
    let buf = unsafe { out_bytes(buf.cast(), cap, 0, "buf") }?;
    let out = Out::new(out_len, "out_len")?;
    let o = conn(handle)?;
    let text = as_conn_info(&o).map(pick).unwrap_or_default();
    write_text(&text, buf, &out)
}

/// The TLS version connection `handle` agreed on, "TLSv1.3" or "TLSv1.2", as text (as
/// `ls_local_address` writes text); "" for a plain connection.
#[no_mangle]
pub unsafe extern "C" fn ls_tls_version(
    handle: i64,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> i32 {
    call("ls_tls_version", || unsafe {
        // SAFETY: forwarded with the same promises.
        info_text(handle, buf, cap, out_len, |i| i.version)
    })
}

/// The cipher suite connection `handle` agreed on, e.g. "TLS13_AES_256_GCM_SHA384", as text;
/// "" for a plain connection.
#[no_mangle]
pub unsafe extern "C" fn ls_tls_cipher(
    handle: i64,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> i32 {
    call("ls_tls_cipher", || unsafe {
        // SAFETY: forwarded with the same promises.
        info_text(handle, buf, cap, out_len, |i| i.cipher)
    })
}

/// The ALPN protocol connection `handle` agreed on, as text; "" when none was (or for a plain
/// connection).
#[no_mangle]
pub unsafe extern "C" fn ls_tls_alpn(
    handle: i64,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> i32 {
    call("ls_tls_alpn", || unsafe {
        // SAFETY: forwarded with the same promises.
        info_text(handle, buf, cap, out_len, |i| {
            i.alpn
                .map(|a| String::from_utf8_lossy(&a).into_owned())
                .unwrap_or_default()
        })
    })
}

/// The SHA-256 fingerprint of the peer's certificate (64 lowercase hex digits: what
/// `ls_tls_add_pin` takes) as text (`LS_FINGERPRINT_MAX` bytes hold it); "" when the peer sent
/// no certificate (a client without one, or a plain connection).
#[no_mangle]
pub unsafe extern "C" fn ls_tls_peer_fingerprint(
    handle: i64,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> i32 {
    call("ls_tls_peer_fingerprint", || unsafe {
        // SAFETY: forwarded with the same promises.
        info_text(handle, buf, cap, out_len, |i| {
            i.peer_fingerprint().unwrap_or_default()
        })
    })
}

/// The peer's certificate (DER bytes) into `buf`; `*out_len` receives its length, 0 when the
/// peer sent none (or for a plain connection). `LS_ERR_BUFFER_TOO_SMALL` with the needed size
/// in `*out_len` when it does not fit (`buf` NULL and `cap` 0 ask for the size).
#[no_mangle]
pub unsafe extern "C" fn ls_tls_peer_certificate(
    handle: i64,
    buf: *mut u8,
    cap: usize,
    out_len: *mut usize,
) -> i32 {
    call("ls_tls_peer_certificate", || {
        // SAFETY: the caller promises `cap` writable bytes.
        let buf = unsafe { out_bytes(buf, cap, 0, "buf") }?;
        let out = Out::new(out_len, "out_len")?;
        let o = conn(handle)?;
        let der = as_conn_info(&o)
            .and_then(|i| i.peer_certificates.into_iter().next())
            .unwrap_or_default();
        if der.len() > buf.len() {
            out.set(der.len());
            return Err(Error::BufferTooSmall {
                needed: der.len(),
                capacity: buf.len(),
            });
        }
        buf[..der.len()].copy_from_slice(&der);
        out.set(der.len());
        Ok(())
    })
}

// ---------------------------------------------------------------------------------------------
// Certificates for trying TLS, and fingerprints
// ---------------------------------------------------------------------------------------------

fn names_arg(names: &str) -> Vec<&str> {
    names
        .split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .collect()
}

/// Make a self-signed certificate and its private key for `names` (host names and IP addresses
/// separated by commas, e.g. "localhost,127.0.0.1": the certificate's subject alternative
/// names), both as PEM text: the certificate into `cert_buf` (`*out_cert_len` its length) and
/// the key into `key_buf` (`*out_key_len`), NUL-terminated. For trying TLS in a minute, tests,
/// and devices trusted by their pin (`ls_fingerprint`, `ls_tls_add_pin`). 4096 bytes hold
/// either. The buffers are bytes (`uint8_t`), not `char`, like those of `ls_fingerprint` and
/// `ls_tls_self_signed_files`: a function that takes a string or bytes as input writes its
/// text into bytes, so that MATLAB's calllib can return it through a `uint8Ptr` (cast a char
/// buffer in C). `LS_ERR_BUFFER_TOO_SMALL` when one does not fit, with the sizes needed (NUL
/// included) in both out-lengths; nothing is written then.
#[no_mangle]
pub unsafe extern "C" fn ls_tls_self_signed(
    names: *const c_char,
    cert_buf: *mut u8,
    cert_cap: usize,
    out_cert_len: *mut usize,
    key_buf: *mut u8,
    key_cap: usize,
    out_key_len: *mut usize,
) -> i32 {
    call("ls_tls_self_signed", || {
        // SAFETY: the caller promises a NUL-terminated string and the writable bytes.
        let names = unsafe { in_str(names, "names") }?;
        let cert_buf = unsafe { out_bytes(cert_buf, cert_cap, 0, "cert_buf") }?;
        let key_buf = unsafe { out_bytes(key_buf, key_cap, 0, "key_buf") }?;
        let out_cert = Out::new(out_cert_len, "out_cert_len")?;
        let out_key = Out::new(out_key_len, "out_key_len")?;
        let (cert, key) = libsock::tls::self_signed(&names_arg(names))?;
        if cert.len() >= cert_buf.len() || key.len() >= key_buf.len() {
            out_cert.set(cert.len() + 1);
            out_key.set(key.len() + 1);
            let (needed, capacity) = if cert.len() >= cert_buf.len() {
                (cert.len() + 1, cert_buf.len())
            } else {
                (key.len() + 1, key_buf.len())
            };
            return Err(Error::BufferTooSmall { needed, capacity });
        }
        write_text(&cert, cert_buf, &out_cert)?;
        write_text(&key, key_buf, &out_key)
    })
}

/// `ls_tls_self_signed` into files: the certificate (PEM) to `cert_path`, the key (PEM) to
/// `key_path` (created or replaced; the key file readable by its owner only), and its SHA-256
/// fingerprint as text into `pin_buf` (`LS_FINGERPRINT_MAX` bytes; `*out_pin_len` its length).
#[no_mangle]
pub unsafe extern "C" fn ls_tls_self_signed_files(
    names: *const c_char,
    cert_path: *const c_char,
    key_path: *const c_char,
    pin_buf: *mut u8,
    pin_cap: usize,
    out_pin_len: *mut usize,
) -> i32 {
    call("ls_tls_self_signed_files", || {
        // SAFETY: the caller promises NUL-terminated strings and the writable bytes.
        let names = unsafe { in_str(names, "names") }?;
        let cert_path = unsafe { in_str(cert_path, "cert_path") }?;
        let key_path = unsafe { in_str(key_path, "key_path") }?;
        let pin_buf =
            unsafe { out_bytes(pin_buf, pin_cap, LS_FINGERPRINT_MAX as usize, "pin_buf") }?;
        let out_pin = Out::new(out_pin_len, "out_pin_len")?;
        let (cert, key) = libsock::tls::self_signed(&names_arg(names))?;
        let pin = libsock::tls::fingerprint_pem(cert.as_bytes())?;
        write_file(key_path, key.as_bytes(), true)?;
        write_file(cert_path, cert.as_bytes(), false)?;
        write_text(&pin, pin_buf, &out_pin)
    })
}

fn write_file(path: &str, data: &[u8], private: bool) -> Result<(), Error> {
    use std::io::Write;
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = private;
    let e = |e| Error::os(format!("write {path}"), e);
    let mut f = o.open(path).map_err(e)?;
    f.write_all(data).map_err(e)
}

/// The SHA-256 fingerprint of a certificate, given as PEM text (its first certificate) or as
/// DER bytes (`len` bytes at `cert`), as 64 lowercase hex digits into `buf`
/// (`LS_FINGERPRINT_MAX` bytes, NUL-terminated; bytes, as `ls_tls_self_signed` explains): what
/// `ls_tls_add_pin` takes.
#[no_mangle]
pub unsafe extern "C" fn ls_fingerprint(
    cert: *const u8,
    len: usize,
    buf: *mut u8,
    cap: usize,
    out_len: *mut usize,
) -> i32 {
    call("ls_fingerprint", || {
        // SAFETY: the caller promises `len` readable and `cap` writable bytes.
        let cert = unsafe { in_bytes(cert, len, "cert") }?;
        let buf = unsafe { out_bytes(buf, cap, 0, "buf") }?;
        let out = Out::new(out_len, "out_len")?;
        if cert.is_empty() {
            return Err(bad_arg("cert is empty"));
        }
        let fp = if cert.trim_ascii_start().starts_with(b"-----BEGIN") {
            libsock::tls::fingerprint_pem(cert)?
        } else {
            libsock::tls::fingerprint(cert)
        };
        write_text(&fp, buf, &out)
    })
}

/// The client TLS settings attached to options handle `h`, built (None: plain).
pub(crate) fn client_for(h: i64) -> Result<Option<ClientTls>, Error> {
    match crate::handles::options_tls(h)? {
        Some(o) => Ok(Some(entry(&o).client_tls()?)),
        None => Ok(None),
    }
}

/// The server TLS settings attached to options handle `h`, built (None: plain).
pub(crate) fn server_for(h: i64) -> Result<Option<ServerTls>, Error> {
    match crate::handles::options_tls(h)? {
        Some(o) => Ok(Some(entry(&o).server_tls()?)),
        None => Ok(None),
    }
}
