//! `libsock.TLS` (TLS settings for `connect` and `listen`), `self_signed` and `fingerprint`.

use std::sync::OnceLock;

use libsock::tls::{ClientAuth, ClientTls, ServerTls, TlsClient, TlsServer, TlsVersion};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

use crate::convert::*;
use crate::errors::{invalid, to_pyerr};

/// `sni=`: name → (certificate, key), each a path or PEM bytes.
type SniCerts<'py> = std::collections::HashMap<String, (Bound<'py, PyAny>, Bound<'py, PyAny>)>;

/// PEM from a path (``str`` or ``os.PathLike``), PEM text or PEM bytes.
fn pem_arg(py: Python<'_>, obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Vec<u8>> {
    if let Ok(b) = obj.cast::<PyBytes>() {
        return Ok(b.as_bytes().to_vec());
    }
    if let Ok(text) = obj.extract::<String>() {
        if text.trim_start().starts_with("-----BEGIN") {
            // PEM text, e.g. from `libsock.self_signed`.
            return Ok(text.into_bytes());
        }
    }
    let path: std::path::PathBuf = obj
        .extract()
        .map_err(|_| invalid(py, format!("{what}: a file path or PEM bytes")))?;
    std::fs::read(&path).map_err(|e| {
        to_pyerr(
            py,
            libsock::Error::os(format!("read {what} {}", path.display()), e),
        )
    })
}

/// TLS settings, for ``libsock.connect(..., tls=...)`` (the client side) and
/// ``libsock.listen(..., tls=...)`` (the server side). Built once and shared by every
/// connection that uses them.
///
/// Client: certificates are verified against the system's roots unless ``ca`` (a PEM file or
/// PEM bytes of CA certificates), ``bundled_roots=True`` or ``pin`` (the SHA-256 fingerprint of
/// the server's certificate or public key: the safe way to trust a self-signed device) says
/// otherwise; ``server_name`` is the name checked and sent (default: the host connected to; an
/// IP address is checked against the certificate's IP addresses). ``cert``/``key`` present a
/// client certificate (mTLS). Turning verification off is only ``insecure=True``.
///
/// Server: ``cert`` and ``key`` (PEM files, text or bytes; the key PKCS#8, PKCS#1 or SEC1), ``sni``
/// a dict ``{name: (cert, key)}`` of more certificates chosen by the name the client asks
/// for, ``client_auth`` ``"optional"`` or ``"required"`` with ``client_ca``.
///
/// Both: ``alpn`` (protocols, most preferred first), ``min_version`` (``"1.2"`` or ``"1.3"``),
/// ``handshake_timeout`` (seconds, default 10), ``keylog=True`` writes the session keys to
/// the file named by ``SSLKEYLOGFILE`` (for Wireshark).
///
/// Example::
///
///     >>> cert, key = libsock.self_signed(["localhost", "127.0.0.1"])
///     >>> server = libsock.listen(("127.0.0.1", 0), tls=libsock.TLS(cert=cert, key=key))
///     >>> pin = libsock.fingerprint(cert)
///     >>> conn = libsock.connect(server.address, tls=libsock.TLS(pin=pin))
#[pyclass(frozen, module = "libsock", name = "TLS")]
pub(crate) struct PyTls {
    client: TlsClient,
    server: Option<TlsServer>,
    server_error: Option<String>,
    built_client: OnceLock<ClientTls>,
    built_server: OnceLock<ServerTls>,
}

impl PyTls {
    /// The client settings, built once.
    pub(crate) fn client(&self, py: Python<'_>) -> PyResult<ClientTls> {
        if let Some(c) = self.built_client.get() {
            return Ok(c.clone());
        }
        let c = self.client.clone().build().map_err(|e| to_pyerr(py, e))?;
        Ok(self.built_client.get_or_init(|| c).clone())
    }

    /// The server settings, built once.
    pub(crate) fn server(&self, py: Python<'_>) -> PyResult<ServerTls> {
        if let Some(s) = self.built_server.get() {
            return Ok(s.clone());
        }
        let Some(server) = &self.server else {
            return Err(invalid(
                py,
                self.server_error
                    .clone()
                    .unwrap_or_else(|| "a TLS server needs cert= and key=".into()),
            ));
        };
        let s = server.clone().build().map_err(|e| to_pyerr(py, e))?;
        Ok(self.built_server.get_or_init(|| s).clone())
    }
}

#[pymethods]
impl PyTls {
    #[new]
    #[pyo3(signature = (*, ca = None, pin = None, bundled_roots = false, server_name = None,
                        cert = None, key = None, alpn = None, min_version = "1.2",
                        handshake_timeout = None, insecure = false, keylog = false, sni = None,
                        client_auth = None, client_ca = None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        ca: Option<&Bound<'_, PyAny>>,
        pin: Option<&Bound<'_, PyAny>>,
        bundled_roots: bool,
        server_name: Option<String>,
        cert: Option<&Bound<'_, PyAny>>,
        key: Option<&Bound<'_, PyAny>>,
        alpn: Option<Vec<String>>,
        min_version: &str,
        handshake_timeout: Option<&Bound<'_, PyAny>>,
        insecure: bool,
        keylog: bool,
        sni: Option<SniCerts<'_>>,
        client_auth: Option<&str>,
        client_ca: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<PyTls> {
        let e = |e: libsock::Error| to_pyerr(py, e);
        let version: TlsVersion = min_version.parse().map_err(e)?;
        let hs = match handshake_timeout {
            Some(t) if !t.is_none() => Some(
                timeout_value(t)?
                    .ok_or_else(|| invalid(py, "handshake_timeout must be a number of seconds"))?,
            ),
            _ => None,
        };
        let alpn = alpn.unwrap_or_default();
        // The client side.
        let mut c = TlsClient::new()
            .min_version(version)
            .keylog(keylog)
            .alpn(&alpn);
        if let Some(ca) = ca {
            c = c.ca_pem(&pem_arg(py, ca, "ca")?).map_err(e)?;
        }
        if bundled_roots {
            c = c.bundled_roots();
        }
        if let Some(pin) = pin {
            let pins: Vec<String> = match pin.extract::<String>() {
                Ok(p) => vec![p],
                Err(_) => pin
                    .extract()
                    .map_err(|_| invalid(py, "pin: a fingerprint or a list of them"))?,
            };
            for p in pins {
                c = c.pin_sha256(&p).map_err(e)?;
            }
        }
        if insecure {
            c = c.dangerous_no_verify();
        }
        if let Some(n) = server_name {
            c = c.server_name(n);
        }
        if let Some(t) = hs {
            c = c.handshake_timeout(t);
        }
        let pair = match (cert, key) {
            (Some(cert), Some(key)) => Some((pem_arg(py, cert, "cert")?, pem_arg(py, key, "key")?)),
            (None, None) => None,
            _ => return Err(invalid(py, "cert and key go together")),
        };
        if let Some((cert, key)) = &pair {
            c = c.client_cert_pem(cert, key).map_err(e)?;
        }
        // The server side (only when it has a certificate).
        let mut server = None;
        let mut server_error = None;
        let mut s = TlsServer::new()
            .min_version(version)
            .keylog(keylog)
            .alpn(&alpn);
        if let Some(t) = hs {
            s = s.handshake_timeout(t);
        }
        if let Some((cert, key)) = &pair {
            s = s.cert_pem(cert, key).map_err(e)?;
        }
        let mut has_cert = pair.is_some();
        for (name, (cert, key)) in sni.unwrap_or_default() {
            let (cert, key) = (
                pem_arg(py, &cert, "sni cert")?,
                pem_arg(py, &key, "sni key")?,
            );
            s = s.sni_cert_pem(&name, &cert, &key).map_err(e)?;
            has_cert = true;
        }
        let ca = match client_ca {
            Some(ca) => Some(pem_arg(py, ca, "client_ca")?),
            None => None,
        };
        s = s.client_auth(match (client_auth, ca) {
            (None | Some("none"), _) => ClientAuth::None,
            (Some("optional"), Some(ca)) => ClientAuth::Optional(ca),
            (Some("required"), Some(ca)) => ClientAuth::Required(ca),
            (Some("optional" | "required"), None) => {
                return Err(invalid(
                    py,
                    "client_auth needs client_ca (the CAs to check with)",
                ))
            }
            (Some(other), _) => {
                return Err(invalid(
                    py,
                    format!(
                        "client_auth {other:?} (must be \"none\", \"optional\" or \"required\")"
                    ),
                ))
            }
        });
        if has_cert {
            server = Some(s);
        } else {
            server_error = Some("a TLS server needs cert= and key= (or sni=)".into());
        }
        let t = PyTls {
            client: c,
            server,
            server_error,
            built_client: OnceLock::new(),
            built_server: OnceLock::new(),
        };
        // Build the client side now so a bad setting fails here, not at the first connect.
        t.client(py)?;
        Ok(t)
    }
}

/// A self-signed certificate and key (PEM ``str``) for ``names`` (host names and IP
/// addresses): to try TLS in a minute, for tests, and for devices trusted by their pin.
///
/// Example: ``cert, key = libsock.self_signed(["localhost", "127.0.0.1"])``
#[pyfunction]
pub(crate) fn self_signed(py: Python<'_>, names: Vec<String>) -> PyResult<(String, String)> {
    let names: Vec<&str> = names.iter().map(|s| s.as_str()).collect();
    libsock::tls::self_signed(&names).map_err(|e| to_pyerr(py, e))
}

/// The SHA-256 fingerprint (64 hex digits) of a certificate given as PEM (``str`` or
/// ``bytes``) or DER ``bytes``: what ``TLS(pin=...)`` takes.
///
/// Example: ``pin = libsock.fingerprint(open("device.pem").read())``
#[pyfunction]
pub(crate) fn fingerprint(py: Python<'_>, cert: &Bound<'_, PyAny>) -> PyResult<String> {
    let bytes: Vec<u8> = match cert.extract::<String>() {
        Ok(s) => s.into_bytes(),
        Err(_) => cert
            .extract()
            .map_err(|_| invalid(py, "a certificate as PEM text or DER bytes"))?,
    };
    if bytes.starts_with(b"-----BEGIN") {
        libsock::tls::fingerprint_pem(&bytes).map_err(|e| to_pyerr(py, e))
    } else {
        Ok(libsock::tls::fingerprint(&bytes))
    }
}

/// The client TLS settings of a `tls=` argument: `None`/`False` none, `True` the defaults, or
/// a `libsock.TLS`.
pub(crate) fn client_tls(
    py: Python<'_>,
    tls: Option<&Bound<'_, PyAny>>,
) -> PyResult<Option<libsock::tls::ClientTls>> {
    let Some(t) = tls.filter(|t| !t.is_none()) else {
        return Ok(None);
    };
    if let Ok(b) = t.extract::<bool>() {
        return if b {
            Ok(Some(
                libsock::tls::TlsClient::new()
                    .build()
                    .map_err(|e| to_pyerr(py, e))?,
            ))
        } else {
            Ok(None)
        };
    }
    let t = t
        .cast::<PyTls>()
        .map_err(|_| PyTypeError::new_err("tls must be a libsock.TLS, True or None"))?;
    Ok(Some(t.get().client(py)?))
}

/// What a TLS handshake agreed on, as the dict every `tls_info` gives: ``version``, ``cipher``,
/// ``alpn``, ``peer_certificate`` (DER), ``peer_fingerprint``.
pub(crate) fn info_dict<'py>(
    py: Python<'py>,
    i: &libsock::TlsInfo,
) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("version", &i.version)?;
    d.set_item("cipher", &i.cipher)?;
    d.set_item("alpn", i.alpn.as_deref().map(|a| PyBytes::new(py, a)))?;
    d.set_item(
        "peer_certificate",
        i.peer_certificates.first().map(|c| PyBytes::new(py, c)),
    )?;
    d.set_item("peer_fingerprint", i.peer_fingerprint())?;
    Ok(d)
}
