//! TLS settings (rustls with the `ring` provider, chosen explicitly: no process-wide default),
//! built once and shared (`Arc`) by every connection that uses them.
//!
//! - [`TlsClient`]: whom to trust (the system's roots by default; a CA file or PEM; the bundled
//!   Mozilla roots; or a **pinned SHA-256 fingerprint** of the peer's certificate or public key,
//!   the safe way to talk to a self-signed device), the server name (default: the host
//!   connected to; IP addresses are checked against IP SANs), a client certificate (mTLS), ALPN,
//!   the lowest version, the handshake timeout. Turning verification off exists only as
//!   [`TlsClient::dangerous_no_verify`], and says so on stderr once.
//! - [`TlsServer`]: certificate chain and key (PEM: PKCS#8, PKCS#1 or SEC1), more certificates
//!   chosen by SNI, client certificates none / optional / required with a CA, ALPN, the lowest
//!   version, the handshake timeout.
//!
//! A failed handshake is an [`Error::Tls`] whose message names the reason
//! (unknown CA, name mismatch, expired, not yet valid, pin mismatch, protocol version,
//! plaintext peer, no client certificate).
//!
//! ```
//! use libsock::tls::{self_signed, TlsClient, TlsServer};
//!
//! let (cert, key) = self_signed(&["localhost", "127.0.0.1"])?;
//! let server = TlsServer::new().cert_pem(cert.as_bytes(), key.as_bytes())?.build()?;
//! let pin = libsock::tls::fingerprint_pem(cert.as_bytes())?;
//! let client = TlsClient::new().pin_sha256(&pin)?.build()?;
//! # let _ = (server, client);
//! # Ok::<(), libsock::Error>(())
//! ```

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Once};
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::server::{ClientHello, ResolvesServerCert, WebPkiClientVerifier};
use rustls::sign::CertifiedKey;
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};

use crate::error::{Error, Result};

/// How long a handshake may take unless set otherwise.
pub const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The lowest protocol version a side accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TlsVersion {
    /// TLS 1.2 and 1.3 (default).
    #[default]
    V1_2,
    /// TLS 1.3 only.
    V1_3,
}

impl std::str::FromStr for TlsVersion {
    type Err = Error;
    /// `"1.2"` or `"1.3"`.
    fn from_str(s: &str) -> Result<TlsVersion> {
        match s {
            "1.2" => Ok(TlsVersion::V1_2),
            "1.3" => Ok(TlsVersion::V1_3),
            other => Err(Error::invalid(format!(
                "TLS version {other:?} (must be \"1.2\" or \"1.3\")"
            ))),
        }
    }
}

/// The `ring` provider, chosen for every configuration (no process-wide default is installed,
/// so an application's own choice elsewhere is never disturbed). rustls marks ring's provider
/// deprecated because it lacks post-quantum key exchange; aws-lc-rs has it but needs a C and
/// assembler toolchain that not every door's users have.
#[allow(deprecated)]
fn provider() -> Arc<CryptoProvider> {
    use rustls::crypto::ring::kx_group;
    let mut p = rustls::crypto::ring::default_provider();
    // X25519 first (as OpenSSL and browsers prefer it): ring's provider lists P-384 first, and
    // ring computes P-384 with generic big-number code, several times slower per handshake.
    p.kx_groups = vec![kx_group::X25519, kx_group::SECP256R1, kx_group::SECP384R1];
    Arc::new(p)
}

static TLS12_AND_13: &[&rustls::SupportedProtocolVersion] =
    &[&rustls::version::TLS13, &rustls::version::TLS12];
static TLS13_ONLY: &[&rustls::SupportedProtocolVersion] = &[&rustls::version::TLS13];

fn versions(v: TlsVersion) -> &'static [&'static rustls::SupportedProtocolVersion] {
    match v {
        TlsVersion::V1_2 => TLS12_AND_13,
        TlsVersion::V1_3 => TLS13_ONLY,
    }
}

fn pem_err(what: &str, e: impl std::fmt::Display) -> Error {
    Error::invalid(format!("{what}: {e}"))
}

/// The certificates in PEM text (one or more `CERTIFICATE` blocks).
fn certs_from_pem(pem: &[u8], what: &str) -> Result<Vec<CertificateDer<'static>>> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| pem_err(what, e))?;
    if certs.is_empty() {
        return Err(Error::invalid(format!("{what}: no PEM CERTIFICATE found")));
    }
    Ok(certs)
}

/// The private key in PEM text (PKCS#8, PKCS#1 or SEC1).
fn key_from_pem(pem: &[u8], what: &str) -> Result<PrivateKeyDer<'static>> {
    PrivateKeyDer::from_pem_slice(pem).map_err(|e| pem_err(what, e))
}

fn read_file(path: &Path, what: &str) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| Error::os(format!("read {what} {}", path.display()), e))
}

/// A self-signed certificate and its private key (both PEM) for `names` (host names and IP
/// addresses, which become the certificate's subject alternative names): for trying TLS in a
/// minute, tests, and devices trusted by [`TlsClient::pin_sha256`].
pub fn self_signed(names: &[&str]) -> Result<(String, String)> {
    if names.is_empty() {
        return Err(Error::invalid("a certificate needs at least one name"));
    }
    let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    let ck = rcgen::generate_simple_self_signed(names)
        .map_err(|e| Error::invalid(format!("generate a certificate: {e}")))?;
    Ok((ck.cert.pem(), ck.key_pair.serialize_pem()))
}

/// The SHA-256 fingerprint of a DER certificate, as 64 lowercase hex digits.
pub fn fingerprint(der: &[u8]) -> String {
    hex(ring::digest::digest(&ring::digest::SHA256, der).as_ref())
}

/// The SHA-256 fingerprint of the first certificate in PEM text.
pub fn fingerprint_pem(pem: &[u8]) -> Result<String> {
    Ok(fingerprint(&certs_from_pem(pem, "certificate")?[0]))
}

/// The SHA-256 fingerprint of a DER certificate's public key (its SubjectPublicKeyInfo): stays
/// the same when the certificate is renewed with the same key.
pub fn public_key_fingerprint(der: &[u8]) -> Result<String> {
    let spki = spki_of(der).ok_or_else(|| Error::invalid("not an X.509 certificate"))?;
    Ok(hex(
        ring::digest::digest(&ring::digest::SHA256, spki).as_ref()
    ))
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// One DER element at the front of a buffer: its tag, its content, the whole element, and the
/// bytes after it.
type DerElement<'a> = (u8, &'a [u8], &'a [u8], &'a [u8]);

/// The DER element at the front of `d`.
fn der(d: &[u8]) -> Option<DerElement<'_>> {
    let tag = *d.first()?;
    let first = *d.get(1)?;
    let (len, hdr) = if first < 0x80 {
        (first as usize, 2)
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 4 {
            return None;
        }
        let mut len = 0usize;
        for i in 0..n {
            len = (len << 8) | *d.get(2 + i)? as usize;
        }
        (len, 2 + n)
    };
    let end = hdr.checked_add(len)?;
    let whole = d.get(..end)?;
    Some((tag, &d[hdr..end], whole, &d[end..]))
}

/// The SubjectPublicKeyInfo (whole DER element) of a certificate.
fn spki_of(cert: &[u8]) -> Option<&[u8]> {
    let (_, cert_body, _, _) = der(cert)?;
    let (_, tbs, _, _) = der(cert_body)?;
    let mut rest = tbs;
    // [0] version (optional), serial, signature algorithm, issuer, validity, subject, SPKI.
    let (tag, _, _, r) = der(rest)?;
    if tag == 0xa0 {
        rest = r;
    }
    for _ in 0..5 {
        rest = der(rest)?.3;
    }
    Some(der(rest)?.2)
}

/// Whom a client trusts.
#[derive(Debug, Clone)]
enum Trust {
    /// The system's roots (bundled roots when the system has none).
    System,
    /// The bundled Mozilla roots.
    Bundled,
    /// These CA certificates.
    Cas(Vec<CertificateDer<'static>>),
    /// A certificate or public key whose SHA-256 is one of these.
    Pins(Vec<[u8; 32]>),
    /// Nobody is checked (dangerous).
    Nothing,
}

/// TLS settings of a client. Build with the setters, then [`build`](TlsClient::build) once
/// and share the result.
#[derive(Debug, Clone)]
pub struct TlsClient {
    trust: Trust,
    server_name: Option<String>,
    client_cert: Option<(Vec<CertificateDer<'static>>, Arc<PrivateKeyDer<'static>>)>,
    alpn: Vec<Vec<u8>>,
    min_version: TlsVersion,
    handshake_timeout: Duration,
    keylog: bool,
}

impl Default for TlsClient {
    fn default() -> TlsClient {
        TlsClient {
            trust: Trust::System,
            server_name: None,
            client_cert: None,
            alpn: Vec::new(),
            min_version: TlsVersion::V1_2,
            handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
            keylog: false,
        }
    }
}

impl TlsClient {
    /// Trust the system's roots; check the name connected to; TLS 1.2 and 1.3; 10 s handshake.
    pub fn new() -> TlsClient {
        TlsClient::default()
    }

    /// Trust the CA certificates in a PEM file (instead of the system's roots).
    pub fn ca_file(self, path: impl AsRef<Path>) -> Result<TlsClient> {
        let pem = read_file(path.as_ref(), "CA file")?;
        self.ca_pem(&pem)
    }

    /// Trust the CA certificates in PEM text (instead of the system's roots).
    pub fn ca_pem(mut self, pem: &[u8]) -> Result<TlsClient> {
        self.trust = Trust::Cas(certs_from_pem(pem, "CA certificates")?);
        Ok(self)
    }

    /// Trust the bundled Mozilla roots (for systems without a usable store).
    pub fn bundled_roots(mut self) -> TlsClient {
        self.trust = Trust::Bundled;
        self
    }

    /// Trust only a peer whose certificate, or its public key, has this SHA-256 fingerprint
    /// (64 hex digits, colons allowed; call again to allow several, e.g. during a key change).
    /// No CA, name or date is checked: the pin is the identity.
    pub fn pin_sha256(mut self, fingerprint: &str) -> Result<TlsClient> {
        let hexs: String = fingerprint.chars().filter(|c| *c != ':').collect();
        if hexs.len() != 64 || !hexs.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(Error::invalid(format!(
                "pin {fingerprint:?} is not a SHA-256 fingerprint (64 hex digits)"
            )));
        }
        let mut pin = [0u8; 32];
        for (i, b) in pin.iter_mut().enumerate() {
            *b = u8::from_str_radix(&hexs[2 * i..2 * i + 2], 16).expect("checked hex");
        }
        match &mut self.trust {
            Trust::Pins(p) => p.push(pin),
            other => *other = Trust::Pins(vec![pin]),
        }
        Ok(self)
    }

    /// Do not verify the server at all. Anyone on the path can read and change the traffic:
    /// for tests only. Says so on stderr once per process.
    pub fn dangerous_no_verify(mut self) -> TlsClient {
        self.trust = Trust::Nothing;
        self
    }

    /// The name sent in SNI and checked in the certificate (default: the host connected to).
    pub fn server_name(mut self, name: impl Into<String>) -> TlsClient {
        self.server_name = Some(name.into());
        self
    }

    /// Present this certificate chain and key (PEM) when the server asks (mTLS).
    pub fn client_cert_pem(mut self, chain: &[u8], key: &[u8]) -> Result<TlsClient> {
        let chain = certs_from_pem(chain, "client certificate")?;
        let key = key_from_pem(key, "client key")?;
        self.client_cert = Some((chain, Arc::new(key)));
        Ok(self)
    }

    /// [`client_cert_pem`](TlsClient::client_cert_pem) from files.
    pub fn client_cert_files(
        self,
        chain: impl AsRef<Path>,
        key: impl AsRef<Path>,
    ) -> Result<TlsClient> {
        let c = read_file(chain.as_ref(), "client certificate")?;
        let k = read_file(key.as_ref(), "client key")?;
        self.client_cert_pem(&c, &k)
    }

    /// Offer these ALPN protocols, most preferred first (e.g. `["h2", "http/1.1"]`).
    pub fn alpn<I, P>(mut self, protocols: I) -> TlsClient
    where
        I: IntoIterator<Item = P>,
        P: AsRef<[u8]>,
    {
        self.alpn = protocols.into_iter().map(|p| p.as_ref().to_vec()).collect();
        self
    }

    /// The lowest version accepted.
    pub fn min_version(mut self, v: TlsVersion) -> TlsClient {
        self.min_version = v;
        self
    }

    /// How long the handshake may take (it completes before `connect` returns).
    pub fn handshake_timeout(mut self, t: Duration) -> TlsClient {
        self.handshake_timeout = t;
        self
    }

    /// Write the session keys to the file named by the `SSLKEYLOGFILE` environment variable
    /// (when set), so that a capture can be decrypted with Wireshark.
    pub fn keylog(mut self, on: bool) -> TlsClient {
        self.keylog = on;
        self
    }

    /// Build the rustls configuration once; share the result between connections.
    pub fn build(self) -> Result<ClientTls> {
        check_common(&self.alpn, self.handshake_timeout)?;
        if self.server_name.as_deref() == Some("") {
            return Err(Error::invalid(
                "empty TLS server name (leave it unset to use the host connected to)",
            ));
        }
        let provider = provider();
        let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(versions(self.min_version))
            .map_err(|e| Error::Tls(format!("protocol versions: {e}")))?;
        let algs = provider.signature_verification_algorithms;
        let builder = match &self.trust {
            Trust::System | Trust::Bundled | Trust::Cas(_) => {
                let roots = roots_for(&self.trust)?;
                builder.with_root_certificates(roots)
            }
            Trust::Pins(pins) => builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(PinVerifier {
                    pins: Some(pins.clone()),
                    algs,
                })),
            Trust::Nothing => {
                static WARN: Once = Once::new();
                WARN.call_once(|| {
                    eprintln!(
                        "libsock: WARNING: TLS certificate verification is off \
                         (dangerous_no_verify): anyone on the path can read and change the traffic"
                    )
                });
                builder
                    .dangerous()
                    .with_custom_certificate_verifier(Arc::new(PinVerifier { pins: None, algs }))
            }
        };
        let mut cfg = match &self.client_cert {
            Some((chain, key)) => builder
                .with_client_auth_cert(chain.clone(), key.clone_key())
                .map_err(|e| Error::invalid(format!("client certificate and key: {e}")))?,
            None => builder.with_no_client_auth(),
        };
        cfg.alpn_protocols = self.alpn.clone();
        if self.keylog {
            cfg.key_log = Arc::new(rustls::KeyLogFile::new());
        }
        Ok(ClientTls {
            config: Arc::new(cfg),
            server_name: self.server_name,
            handshake_timeout: self.handshake_timeout,
        })
    }
}

fn roots_for(trust: &Trust) -> Result<RootCertStore> {
    let mut roots = RootCertStore::empty();
    match trust {
        Trust::Cas(cas) => {
            for c in cas {
                roots
                    .add(c.clone())
                    .map_err(|e| Error::invalid(format!("CA certificate: {e}")))?;
            }
        }
        Trust::System => {
            let found = rustls_native_certs::load_native_certs();
            let (added, _) = roots.add_parsable_certificates(found.certs);
            if added == 0 {
                roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
            }
        }
        _ => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    Ok(roots)
}

/// The checks both sides share (done once, by `build`, for every door): ALPN protocols of 1 to
/// 255 bytes, a handshake timeout of at least 1 ms.
fn check_common(alpn: &[Vec<u8>], handshake_timeout: Duration) -> Result<()> {
    if let Some(p) = alpn.iter().find(|p| p.is_empty() || p.len() > 255) {
        return Err(Error::invalid(format!(
            "ALPN protocol of {} bytes: each protocol has 1 to 255 bytes",
            p.len()
        )));
    }
    if handshake_timeout < Duration::from_millis(1) {
        return Err(Error::invalid(format!(
            "handshake timeout {handshake_timeout:?}: a handshake needs a limit of at least 1 ms"
        )));
    }
    Ok(())
}

/// A built client configuration: cheap to clone, shared by every connection that uses it.
#[derive(Debug, Clone)]
pub struct ClientTls {
    pub(crate) config: Arc<rustls::ClientConfig>,
    server_name: Option<String>,
    /// How long a handshake may take.
    pub handshake_timeout: Duration,
}

impl ClientTls {
    /// The name to send and check: the one set, else `host` (an IP literal is checked against
    /// the certificate's IP addresses).
    pub(crate) fn name_for(&self, host: &str) -> Result<ServerName<'static>> {
        let name = self.server_name.as_deref().unwrap_or(host);
        let bare = name
            .strip_prefix('[')
            .and_then(|n| n.strip_suffix(']'))
            .unwrap_or(name);
        ServerName::try_from(bare.to_string())
            .map_err(|_| Error::invalid(format!("{name:?} is no valid TLS server name")))
    }
}

/// Trusts exactly the pinned certificates or public keys (`pins`), or, with `None`
/// (dangerous_no_verify), any certificate; handshake signatures are checked either way.
#[derive(Debug)]
struct PinVerifier {
    pins: Option<Vec<[u8; 32]>>,
    algs: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for PinVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        let Some(pins) = &self.pins else {
            return Ok(ServerCertVerified::assertion());
        };
        let cert = ring::digest::digest(&ring::digest::SHA256, end_entity);
        let key = spki_of(end_entity).map(|k| ring::digest::digest(&ring::digest::SHA256, k));
        let hit = pins
            .iter()
            .any(|p| p[..] == *cert.as_ref() || key.as_ref().is_some_and(|k| p[..] == *k.as_ref()));
        if hit {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(CertificateError::Other(
                rustls::OtherError(Arc::new(PinMismatch(fingerprint(end_entity)))),
            )))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algs)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algs)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algs.supported_schemes()
    }
}

/// The peer's certificate matched no pin (its fingerprint is given).
#[derive(Debug)]
struct PinMismatch(String);

impl std::fmt::Display for PinMismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "pin mismatch: the certificate's SHA-256 is {}, pinned was another",
            self.0
        )
    }
}

impl std::error::Error for PinMismatch {}

/// Client certificates a server asks for.
#[derive(Debug, Clone, Default)]
pub enum ClientAuth {
    /// None (default).
    #[default]
    None,
    /// Asked for and verified against these CAs when sent; clients without one are accepted.
    Optional(Vec<u8>),
    /// Required, verified against these CAs (PEM).
    Required(Vec<u8>),
}

/// TLS settings of a server. Build with the setters, then [`build`](TlsServer::build).
#[derive(Debug, Clone)]
pub struct TlsServer {
    default_cert: Option<(Vec<CertificateDer<'static>>, Arc<PrivateKeyDer<'static>>)>,
    by_name: Vec<(
        String,
        Vec<CertificateDer<'static>>,
        Arc<PrivateKeyDer<'static>>,
    )>,
    client_auth: ClientAuth,
    alpn: Vec<Vec<u8>>,
    min_version: TlsVersion,
    handshake_timeout: Duration,
    keylog: bool,
}

impl Default for TlsServer {
    fn default() -> TlsServer {
        TlsServer {
            default_cert: None,
            by_name: Vec::new(),
            client_auth: ClientAuth::None,
            alpn: Vec::new(),
            min_version: TlsVersion::V1_2,
            handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
            keylog: false,
        }
    }
}

impl TlsServer {
    /// No certificate yet (set one); no client certificates; TLS 1.2 and 1.3; 10 s handshake.
    pub fn new() -> TlsServer {
        TlsServer::default()
    }

    /// The certificate chain and private key (PEM) served by default.
    pub fn cert_pem(mut self, chain: &[u8], key: &[u8]) -> Result<TlsServer> {
        let chain = certs_from_pem(chain, "certificate")?;
        let key = key_from_pem(key, "private key")?;
        self.default_cert = Some((chain, Arc::new(key)));
        Ok(self)
    }

    /// [`cert_pem`](TlsServer::cert_pem) from files.
    pub fn cert_files(self, chain: impl AsRef<Path>, key: impl AsRef<Path>) -> Result<TlsServer> {
        let c = read_file(chain.as_ref(), "certificate")?;
        let k = read_file(key.as_ref(), "private key")?;
        self.cert_pem(&c, &k)
    }

    /// Serve this chain and key (PEM) to clients that ask for `name` by SNI.
    pub fn sni_cert_pem(mut self, name: &str, chain: &[u8], key: &[u8]) -> Result<TlsServer> {
        let chain = certs_from_pem(chain, "certificate")?;
        let key = key_from_pem(key, "private key")?;
        self.by_name
            .push((name.to_ascii_lowercase(), chain, Arc::new(key)));
        Ok(self)
    }

    /// Which client certificates to ask for.
    pub fn client_auth(mut self, auth: ClientAuth) -> TlsServer {
        self.client_auth = auth;
        self
    }

    /// Accept these ALPN protocols (the client's first one that is here wins).
    pub fn alpn<I, P>(mut self, protocols: I) -> TlsServer
    where
        I: IntoIterator<Item = P>,
        P: AsRef<[u8]>,
    {
        self.alpn = protocols.into_iter().map(|p| p.as_ref().to_vec()).collect();
        self
    }

    /// The lowest version accepted.
    pub fn min_version(mut self, v: TlsVersion) -> TlsServer {
        self.min_version = v;
        self
    }

    /// How long a client's handshake may take (it completes before `accept` returns).
    pub fn handshake_timeout(mut self, t: Duration) -> TlsServer {
        self.handshake_timeout = t;
        self
    }

    /// Write session keys to `SSLKEYLOGFILE` (see [`TlsClient::keylog`]).
    pub fn keylog(mut self, on: bool) -> TlsServer {
        self.keylog = on;
        self
    }

    /// Build the rustls configuration once; share the result between connections.
    pub fn build(self) -> Result<ServerTls> {
        check_common(&self.alpn, self.handshake_timeout)?;
        let provider = provider();
        let load = |chain: &Vec<CertificateDer<'static>>, key: &Arc<PrivateKeyDer<'static>>| {
            let signing = provider
                .key_provider
                .load_private_key(key.clone_key())
                .map_err(|e| Error::invalid(format!("private key: {e}")))?;
            Ok::<_, Error>(Arc::new(CertifiedKey::new(chain.clone(), signing)))
        };
        let default = match &self.default_cert {
            Some((c, k)) => Some(load(c, k)?),
            None => None,
        };
        let mut by_name = HashMap::new();
        for (n, c, k) in &self.by_name {
            by_name.insert(n.clone(), load(c, k)?);
        }
        if default.is_none() && by_name.is_empty() {
            return Err(Error::invalid(
                "a TLS server needs a certificate and key (cert_pem or cert_files)",
            ));
        }
        let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(versions(self.min_version))
            .map_err(|e| Error::Tls(format!("protocol versions: {e}")))?;
        let builder = match &self.client_auth {
            ClientAuth::None => builder.with_no_client_auth(),
            ClientAuth::Optional(ca) | ClientAuth::Required(ca) => {
                let roots = roots_for(&Trust::Cas(certs_from_pem(ca, "client CA")?))?;
                let v =
                    WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone());
                let v = if matches!(self.client_auth, ClientAuth::Optional(_)) {
                    v.allow_unauthenticated()
                } else {
                    v
                };
                builder.with_client_cert_verifier(
                    v.build()
                        .map_err(|e| Error::invalid(format!("client CA: {e}")))?,
                )
            }
        };
        let mut cfg = builder.with_cert_resolver(Arc::new(SniResolver { default, by_name }));
        cfg.alpn_protocols = self.alpn.clone();
        if self.keylog {
            cfg.key_log = Arc::new(rustls::KeyLogFile::new());
        }
        Ok(ServerTls {
            config: Arc::new(cfg),
            handshake_timeout: self.handshake_timeout,
        })
    }
}

/// Picks the certificate by SNI, else the default one.
#[derive(Debug)]
struct SniResolver {
    default: Option<Arc<CertifiedKey>>,
    by_name: HashMap<String, Arc<CertifiedKey>>,
}

impl ResolvesServerCert for SniResolver {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        hello
            .server_name()
            .and_then(|n| self.by_name.get(&n.to_ascii_lowercase()))
            .cloned()
            .or_else(|| self.default.clone())
    }
}

/// A built server configuration: cheap to clone, shared by every connection that uses it.
#[derive(Debug, Clone)]
pub struct ServerTls {
    pub(crate) config: Arc<rustls::ServerConfig>,
    /// How long a client's handshake may take.
    pub handshake_timeout: Duration,
}

/// What a TLS peer that closed without close_notify means, in both layers' errors and reasons.
pub(crate) const TRUNCATED: &str =
    "the peer closed the connection without close_notify (the data may be truncated)";

/// The error for a failed handshake or a TLS failure later, naming the reason in words.
pub(crate) fn tls_error(op: &str, e: &rustls::Error) -> Error {
    use rustls::AlertDescription as A;
    let why = match e {
        rustls::Error::InvalidCertificate(c) => match c {
            CertificateError::UnknownIssuer => {
                "unknown CA: the certificate is not signed by a trusted authority".to_string()
            }
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                format!("name mismatch: {c:?}")
            }
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                "expired certificate".to_string()
            }
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                "certificate not yet valid".to_string()
            }
            CertificateError::Other(o) => o.to_string(),
            other => format!("bad certificate: {other:?}"),
        },
        rustls::Error::NoCertificatesPresented => {
            "no client certificate: the server requires one".to_string()
        }
        rustls::Error::AlertReceived(a) => match a {
            A::UnknownCA => "the peer does not trust our certificate (unknown CA)".to_string(),
            A::CertificateRequired => "the server requires a client certificate".to_string(),
            A::ProtocolVersion => "protocol version: no version both sides accept".to_string(),
            A::HandshakeFailure => "handshake failure: no parameters both sides accept".to_string(),
            A::BadCertificate | A::CertificateUnknown => {
                "the peer refused our certificate".to_string()
            }
            other => format!("the peer sent the alert {other:?}"),
        },
        rustls::Error::PeerIncompatible(p) => format!("protocol version or parameters: {p:?}"),
        rustls::Error::InvalidMessage(m) => {
            format!("not TLS: the peer sent something else (a plaintext peer?) ({m:?})")
        }
        rustls::Error::NoApplicationProtocol => "no ALPN protocol both sides accept".to_string(),
        other => other.to_string(),
    };
    // The error's own text starts with "TLS: ": do not say it twice.
    let op = op.strip_prefix("TLS ").unwrap_or(op);
    Error::Tls(format!("{op}: {why}"))
}
