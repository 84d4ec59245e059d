//! Connecting through a proxy: SOCKS5 (RFC 1928; no authentication or user name and password,
//! RFC 1929) and HTTP `CONNECT` (with optional Basic authentication).
//!
//! A [`Proxy`] is parsed once from a URL — `socks5://host:port`, `socks5://user:pass@host:port`,
//! `socks5h://...` (the same: libsock always lets a SOCKS5 proxy resolve host names),
//! `http://host:port`, `http://user:pass@host:port` — and used by the blocking layer
//! ([`ConnectOptions::proxy`](crate::ConnectOptions::proxy)) and the engine client
//! ([`ClientConfig::proxy`](crate::engine::ClientConfig::proxy)). The target's host name goes to
//! the proxy as it was written (remote DNS); IP literals go as IPv4 or IPv6 addresses.
//!
//! The exchange itself is written once here as small steps (requests to send, replies to
//! check); the blocking layer and the engine each drive it with their own I/O.
//!
//! A proxy's refusal is an [`Error::Proxy`] naming the proxy and its reply, with the
//! [`ErrorKind`] that fits it best (no kind was added for proxies):
//!
//! | the proxy's answer | kind |
//! |---|---|
//! | SOCKS5 1 "general SOCKS server failure" | `Io` |
//! | SOCKS5 2 "connection not allowed by ruleset", 5 "connection refused" | `ConnectionRefused` |
//! | SOCKS5 3 "network unreachable", 4 "host unreachable" | `Unreachable` |
//! | SOCKS5 6 "TTL expired" | `Timeout` |
//! | SOCKS5 7 "command not supported", 8 "address type not supported" | `Unsupported` |
//! | no acceptable authentication method, user name or password rejected | `ConnectionRefused` |
//! | HTTP 504 | `Timeout` |
//! | any other HTTP status but 2xx (403, 407, 502, 503 ...) | `ConnectionRefused` |
//! | a reply that is not SOCKS5 or HTTP | `Io` |

use std::fmt;
use std::str::FromStr;

use crate::addr::Endpoint;
use crate::error::{Error, ErrorKind, Result};

/// Which protocol a [`Proxy`] speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProxyKind {
    /// SOCKS version 5 (RFC 1928); the proxy resolves host names.
    Socks5,
    /// An HTTP proxy's `CONNECT` method (a tunnel).
    Http,
}

impl ProxyKind {
    /// The URL scheme: `"socks5"` or `"http"`.
    pub fn scheme(self) -> &'static str {
        match self {
            ProxyKind::Socks5 => "socks5",
            ProxyKind::Http => "http",
        }
    }

    fn label(self) -> &'static str {
        match self {
            ProxyKind::Socks5 => "SOCKS5",
            ProxyKind::Http => "HTTP",
        }
    }
}

/// A proxy to connect through: its protocol, address and (optional) user name and password.
/// `Debug` and `Display` never show the password.
///
/// ```
/// use libsock::{Proxy, ProxyKind};
/// let p: Proxy = "socks5://alice:s%40cret@127.0.0.1:1080".parse().unwrap();
/// assert_eq!(p.kind(), ProxyKind::Socks5);
/// assert_eq!(p.port(), 1080);
/// assert_eq!(p.username(), Some("alice"));
/// assert_eq!(p.to_string(), "socks5://alice@127.0.0.1:1080");
/// assert!(Proxy::parse("ftp://127.0.0.1:21").is_err());
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Proxy {
    kind: ProxyKind,
    host: String,
    port: u16,
    auth: Option<(String, String)>,
}

impl fmt::Debug for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Proxy")
            .field("kind", &self.kind)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("username", &self.username())
            .finish()
    }
}

impl fmt::Display for Proxy {
    /// The URL without the password: `socks5://alice@127.0.0.1:1080`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://", self.kind.scheme())?;
        if let Some(u) = self.username() {
            write!(f, "{}@", percent_encode(u))?;
        }
        write!(f, "{}", host_port(&self.host, self.port))
    }
}

impl FromStr for Proxy {
    type Err = Error;
    fn from_str(s: &str) -> Result<Proxy> {
        Proxy::parse(s)
    }
}

impl Proxy {
    /// Parse a proxy URL: `socks5://[user:pass@]host[:port]` (also `socks5h://`, the same),
    /// `http://[user:pass@]host[:port]`. The port defaults to 1080 for SOCKS5 and 80 for HTTP;
    /// `%XX` escapes in the user name and password are decoded (write `@` as `%40`). IPv6
    /// hosts go in brackets. `InvalidArgument` names what is wrong.
    pub fn parse(url: &str) -> Result<Proxy> {
        let bad = |why: &str| Error::invalid(format!("proxy URL {:?}: {why}", redact(url)));
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| bad("expected scheme://host:port (socks5:// or http://)"))?;
        let kind = match scheme.to_ascii_lowercase().as_str() {
            "socks5" | "socks5h" => ProxyKind::Socks5,
            "http" => ProxyKind::Http,
            "https" => return Err(bad("https proxies (TLS to the proxy) are not supported")),
            "socks4" | "socks4a" => return Err(bad("SOCKS4 is not supported, only SOCKS5")),
            _ => return Err(bad("unknown scheme (expected socks5, socks5h or http)")),
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.contains(['/', '?', '#']) {
            return Err(bad("a proxy URL has no path, query or fragment"));
        }
        let (userinfo, hostport) = match rest.rfind('@') {
            Some(i) => (Some(&rest[..i]), &rest[i + 1..]),
            None => (None, rest),
        };
        let (host, port) = if let Some(r) = hostport.strip_prefix('[') {
            let close = r
                .find(']')
                .ok_or_else(|| bad("missing ']' after the IPv6 address"))?;
            let host = &r[..close];
            if host.parse::<std::net::Ipv6Addr>().is_err() {
                return Err(bad("not an IPv6 address in brackets"));
            }
            let after = &r[close + 1..];
            let port = match after {
                "" => None,
                p => Some(
                    p.strip_prefix(':')
                        .ok_or_else(|| bad("expected ':port' after ']'"))?,
                ),
            };
            (host, port)
        } else {
            match hostport.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (hostport, None),
            }
        };
        if host.is_empty() {
            return Err(bad("the host is missing"));
        }
        if host.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(bad("the host contains a space or a control character"));
        }
        if host.contains(':') && !hostport.starts_with('[') {
            return Err(bad("write an IPv6 proxy address in brackets: [::1]:1080"));
        }
        let port = match port {
            None => match kind {
                ProxyKind::Socks5 => 1080,
                ProxyKind::Http => 80,
            },
            Some(p) => match p.parse::<u16>() {
                Ok(0) => return Err(bad("port 0")),
                Ok(n) => n,
                Err(_) => return Err(bad("the port is not a number from 1 to 65535")),
            },
        };
        let mut proxy = Proxy {
            kind,
            host: host.to_string(),
            port,
            auth: None,
        };
        if let Some(ui) = userinfo {
            let (u, p) = ui.split_once(':').unwrap_or((ui, ""));
            let u = percent_decode(u).ok_or_else(|| bad("a bad %XX escape in the user name"))?;
            let p = percent_decode(p).ok_or_else(|| bad("a bad %XX escape in the password"))?;
            proxy = proxy
                .with_auth(&u, &p)
                .map_err(|e| bad(e.to_string().trim_start_matches("invalid argument: ")))?;
        }
        Ok(proxy)
    }

    /// A SOCKS5 proxy at `host:port`, without authentication.
    pub fn socks5(host: impl Into<String>, port: u16) -> Proxy {
        Proxy {
            kind: ProxyKind::Socks5,
            host: host.into(),
            port,
            auth: None,
        }
    }

    /// An HTTP `CONNECT` proxy at `host:port`, without authentication.
    pub fn http(host: impl Into<String>, port: u16) -> Proxy {
        Proxy {
            kind: ProxyKind::Http,
            host: host.into(),
            port,
            auth: None,
        }
    }

    /// Authenticate with a user name and password (SOCKS5: RFC 1929, each 1 to 255 bytes;
    /// HTTP: Basic, the user name without `:`).
    pub fn with_auth(mut self, username: &str, password: &str) -> Result<Proxy> {
        match self.kind {
            ProxyKind::Socks5 => {
                if username.is_empty() || username.len() > 255 {
                    return Err(Error::invalid(format!(
                        "SOCKS5 user name of {} bytes (RFC 1929 allows 1 to 255)",
                        username.len()
                    )));
                }
                if password.is_empty() || password.len() > 255 {
                    return Err(Error::invalid(format!(
                        "SOCKS5 password of {} bytes (RFC 1929 allows 1 to 255)",
                        password.len()
                    )));
                }
            }
            ProxyKind::Http => {
                if username.contains(':') {
                    return Err(Error::invalid(
                        "an HTTP proxy user name cannot contain ':' (Basic authentication)",
                    ));
                }
                if username.contains(['\r', '\n']) || password.contains(['\r', '\n']) {
                    return Err(Error::invalid(
                        "an HTTP proxy user name or password cannot contain a line break",
                    ));
                }
            }
        }
        self.auth = Some((username.to_string(), password.to_string()));
        Ok(self)
    }

    /// The protocol.
    pub fn kind(&self) -> ProxyKind {
        self.kind
    }

    /// The proxy's host (name or IP literal, IPv6 without brackets).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The proxy's port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The user name, when the proxy is given one.
    pub fn username(&self) -> Option<&str> {
        self.auth.as_ref().map(|(u, _)| u.as_str())
    }

    /// Where the proxy listens, as an endpoint to connect to.
    pub fn endpoint(&self) -> Endpoint {
        Endpoint::inet(self.host.clone(), self.port)
    }

    /// The operation named in errors: `connect to example.com:80 through SOCKS5 proxy
    /// 127.0.0.1:1080`.
    pub(crate) fn op(&self, target: &Target) -> String {
        format!(
            "connect to {} through {} proxy {}",
            host_port(&target.host, target.port),
            self.kind.label(),
            host_port(&self.host, self.port)
        )
    }

    /// An error met while reaching the proxy itself, saying it was the proxy: `connect to
    /// 127.0.0.1:1080 (the SOCKS5 proxy for example.com:80): connection refused (os error 111)`.
    pub(crate) fn reaching(&self, target: &Target, e: Error) -> Error {
        let note = |op: String| {
            format!(
                "{op} (the {} proxy for {})",
                self.kind.label(),
                host_port(&target.host, target.port)
            )
        };
        match e {
            Error::Os { kind, op, source } => Error::Os {
                kind,
                op: note(op),
                source,
            },
            Error::Timeout { op, ms } => Error::Timeout { op: note(op), ms },
            other => other,
        }
    }

    /// The first bytes to send to the proxy.
    pub(crate) fn start(&self, target: &Target) -> Result<Vec<u8>> {
        match self.kind {
            ProxyKind::Socks5 => Ok(if self.auth.is_some() {
                vec![5, 2, 0, 2]
            } else {
                vec![5, 1, 0]
            }),
            ProxyKind::Http => Ok(self.http_request(target)),
        }
    }

    fn refused(&self, target: &Target, kind: ErrorKind, reason: String) -> Error {
        Error::Proxy {
            kind,
            op: self.op(target),
            reason,
        }
    }

    /// SOCKS5: check the method the proxy chose (2 bytes); `Some(request)` is the
    /// user name/password request to send when it chose that method.
    pub(crate) fn socks_method(&self, target: &Target, reply: [u8; 2]) -> Result<Option<Vec<u8>>> {
        self.socks_version(target, reply[0])?;
        match (reply[1], &self.auth) {
            (0, _) => Ok(None),
            (2, Some((u, p))) => {
                let mut v = Vec::with_capacity(3 + u.len() + p.len());
                v.push(1);
                v.push(u.len() as u8);
                v.extend_from_slice(u.as_bytes());
                v.push(p.len() as u8);
                v.extend_from_slice(p.as_bytes());
                Ok(Some(v))
            }
            (0xff, None) => Err(self.refused(
                target,
                ErrorKind::ConnectionRefused,
                "the proxy accepts none of the offered authentication methods (it wants a \
                 user name and password?)"
                    .into(),
            )),
            (0xff, Some(_)) => Err(self.refused(
                target,
                ErrorKind::ConnectionRefused,
                "the proxy accepts neither no authentication nor a user name and password".into(),
            )),
            (m, _) => Err(self.refused(
                target,
                ErrorKind::Io,
                format!("the proxy chose authentication method {m}, which was not offered"),
            )),
        }
    }

    fn socks_version(&self, target: &Target, v: u8) -> Result<()> {
        if v == 5 {
            return Ok(());
        }
        Err(self.refused(
            target,
            ErrorKind::Io,
            format!("not a SOCKS5 proxy: its reply starts with byte 0x{v:02x}, not 0x05"),
        ))
    }

    /// SOCKS5: check the answer to the user name/password request (2 bytes).
    pub(crate) fn socks_auth(&self, target: &Target, reply: [u8; 2]) -> Result<()> {
        if reply[0] != 1 {
            return Err(self.refused(
                target,
                ErrorKind::Io,
                format!(
                    "a bad answer to the user name/password request: version {}, not 1",
                    reply[0]
                ),
            ));
        }
        if reply[1] != 0 {
            return Err(self.refused(
                target,
                ErrorKind::ConnectionRefused,
                format!(
                    "the proxy rejected the user name {:?} or its password (status {})",
                    self.username().unwrap_or(""),
                    reply[1]
                ),
            ));
        }
        Ok(())
    }

    /// SOCKS5: the CONNECT request for the target.
    pub(crate) fn socks_connect(&self, target: &Target) -> Vec<u8> {
        let mut v = vec![5, 1, 0];
        match target.host.parse::<std::net::IpAddr>() {
            Ok(std::net::IpAddr::V4(ip)) => {
                v.push(1);
                v.extend_from_slice(&ip.octets());
            }
            Ok(std::net::IpAddr::V6(ip)) => {
                v.push(4);
                v.extend_from_slice(&ip.octets());
            }
            Err(_) => {
                v.push(3);
                v.push(target.host.len() as u8);
                v.extend_from_slice(target.host.as_bytes());
            }
        }
        v.extend_from_slice(&target.port.to_be_bytes());
        v
    }

    /// SOCKS5: check the first 2 bytes of the CONNECT reply (version, reply code).
    pub(crate) fn socks_reply(&self, target: &Target, head: [u8; 2]) -> Result<()> {
        self.socks_version(target, head[0])?;
        let (kind, words) = match head[1] {
            0 => return Ok(()),
            1 => (ErrorKind::Io, "general SOCKS server failure"),
            2 => (
                ErrorKind::ConnectionRefused,
                "connection not allowed by ruleset",
            ),
            3 => (ErrorKind::Unreachable, "network unreachable"),
            4 => (ErrorKind::Unreachable, "host unreachable"),
            5 => (ErrorKind::ConnectionRefused, "connection refused"),
            6 => (ErrorKind::Timeout, "TTL expired"),
            7 => (ErrorKind::Unsupported, "command not supported"),
            8 => (ErrorKind::Unsupported, "address type not supported"),
            _ => (ErrorKind::Io, "an unassigned reply code"),
        };
        Err(self.refused(
            target,
            kind,
            format!("the proxy replied {} ({words})", head[1]),
        ))
    }

    /// SOCKS5: after the reply's version and code, its reserved byte, address type and first
    /// address byte (3 bytes): how many bytes of the bound address and port remain.
    pub(crate) fn socks_rest(&self, target: &Target, b: [u8; 3]) -> Result<usize> {
        match b[1] {
            1 => Ok(3 + 2),
            4 => Ok(15 + 2),
            3 => Ok(b[2] as usize + 2),
            t => Err(self.refused(
                target,
                ErrorKind::Io,
                format!("the proxy's reply has an unknown address type {t}"),
            )),
        }
    }

    fn http_request(&self, target: &Target) -> Vec<u8> {
        let hp = host_port(&target.host, target.port);
        let mut r = format!("CONNECT {hp} HTTP/1.1\r\nHost: {hp}\r\n");
        if let Some((u, p)) = &self.auth {
            r.push_str("Proxy-Authorization: Basic ");
            r.push_str(&base64(format!("{u}:{p}").as_bytes()));
            r.push_str("\r\n");
        }
        r.push_str("\r\n");
        r.into_bytes()
    }

    /// HTTP: check the proxy's response head (status line and headers, up to the blank line).
    pub(crate) fn http_response(&self, target: &Target, head: &[u8]) -> Result<()> {
        let text = String::from_utf8_lossy(head);
        let line = text.lines().next().unwrap_or("").trim_end();
        let mut parts = line.splitn(3, ' ');
        let version = parts.next().unwrap_or("");
        let code = parts.next().and_then(|c| c.parse::<u16>().ok());
        let code = match code {
            Some(c) if version.starts_with("HTTP/") => c,
            _ => {
                return Err(self.refused(
                    target,
                    ErrorKind::Io,
                    format!("not an HTTP proxy: it answered {:?}", shorten(line)),
                ))
            }
        };
        if (200..300).contains(&code) {
            return Ok(());
        }
        let kind = if code == 504 {
            ErrorKind::Timeout
        } else {
            ErrorKind::ConnectionRefused
        };
        Err(self.refused(
            target,
            kind,
            format!("the proxy answered {:?}", shorten(line)),
        ))
    }

    /// The error for a reply head longer than libsock reads.
    pub(crate) fn http_too_long(&self, target: &Target) -> Error {
        self.refused(
            target,
            ErrorKind::Io,
            format!("the proxy's response head is longer than {HTTP_HEAD_MAX} bytes"),
        )
    }
}

/// The longest HTTP response head read from a proxy.
pub(crate) const HTTP_HEAD_MAX: usize = 16 * 1024;

/// Where to go through the proxy: the target's host (as written) and port.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub(crate) host: String,
    pub(crate) port: u16,
}

impl Target {
    /// The target of a proxied connection: an internet endpoint whose host name fits SOCKS5's
    /// 255 bytes. A Unix socket cannot be reached through a proxy.
    pub(crate) fn of(ep: &Endpoint, proxy: &Proxy) -> Result<Target> {
        match ep {
            Endpoint::Inet { host, port } => {
                if host.len() > 255 {
                    return Err(Error::invalid(format!(
                        "host name of {} bytes: a proxy takes at most 255",
                        host.len()
                    )));
                }
                if host.contains(['\r', '\n', ' ']) {
                    return Err(Error::invalid(format!(
                        "host name {host:?} contains a space or line break"
                    )));
                }
                Ok(Target {
                    host: host.clone(),
                    port: *port,
                })
            }
            other => Err(Error::invalid(format!(
                "{other} is a Unix socket: it cannot be reached through {} proxy {}",
                proxy.kind.label(),
                host_port(&proxy.host, proxy.port)
            ))),
        }
    }
}

/// The proxy exchange over a blocking byte stream: `send` writes all bytes, `recv` fills the
/// buffer exactly. Errors of `send` and `recv` pass through unchanged.
pub(crate) fn handshake_blocking(
    proxy: &Proxy,
    target: &Target,
    send: &mut dyn FnMut(&[u8]) -> Result<()>,
    recv: &mut dyn FnMut(&mut [u8]) -> Result<()>,
) -> Result<()> {
    send(&proxy.start(target)?)?;
    match proxy.kind {
        ProxyKind::Socks5 => {
            let mut m = [0u8; 2];
            recv(&mut m)?;
            if let Some(auth) = proxy.socks_method(target, m)? {
                send(&auth)?;
                recv(&mut m)?;
                proxy.socks_auth(target, m)?;
            }
            send(&proxy.socks_connect(target))?;
            recv(&mut m)?;
            proxy.socks_reply(target, m)?;
            let mut b = [0u8; 3];
            recv(&mut b)?;
            let mut rest = vec![0u8; proxy.socks_rest(target, b)?];
            recv(&mut rest)
        }
        ProxyKind::Http => {
            let mut head = Vec::with_capacity(256);
            let mut b = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") {
                if head.len() >= HTTP_HEAD_MAX {
                    return Err(proxy.http_too_long(target));
                }
                recv(&mut b)?;
                head.push(b[0]);
            }
            proxy.http_response(target, &head)
        }
    }
}

/// The proxy exchange over an async stream (the engine's), byte for byte the same as
/// [`handshake_blocking`]; never reads past the proxy's reply.
pub(crate) async fn handshake_async<S>(proxy: &Proxy, target: &Target, s: &mut S) -> Result<()>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let op = || proxy.op(target);
    let io = |e: std::io::Error| {
        if e.kind() == std::io::ErrorKind::UnexpectedEof {
            closed_during(proxy, target)
        } else {
            Error::os(op(), e)
        }
    };
    s.write_all(&proxy.start(target)?).await.map_err(io)?;
    match proxy.kind {
        ProxyKind::Socks5 => {
            let mut m = [0u8; 2];
            s.read_exact(&mut m).await.map_err(io)?;
            if let Some(auth) = proxy.socks_method(target, m)? {
                s.write_all(&auth).await.map_err(io)?;
                s.read_exact(&mut m).await.map_err(io)?;
                proxy.socks_auth(target, m)?;
            }
            s.write_all(&proxy.socks_connect(target))
                .await
                .map_err(io)?;
            s.read_exact(&mut m).await.map_err(io)?;
            proxy.socks_reply(target, m)?;
            let mut b = [0u8; 3];
            s.read_exact(&mut b).await.map_err(io)?;
            let mut rest = vec![0u8; proxy.socks_rest(target, b)?];
            s.read_exact(&mut rest).await.map_err(io)?;
            Ok(())
        }
        ProxyKind::Http => {
            let mut head = Vec::with_capacity(256);
            while !head.ends_with(b"\r\n\r\n") {
                if head.len() >= HTTP_HEAD_MAX {
                    return Err(proxy.http_too_long(target));
                }
                let b = s.read_u8().await.map_err(io)?;
                head.push(b);
            }
            proxy.http_response(target, &head)
        }
    }
}

/// The error for a proxy that closed the connection before it finished its reply.
pub(crate) fn closed_during(proxy: &Proxy, target: &Target) -> Error {
    Error::Proxy {
        kind: ErrorKind::Closed,
        op: proxy.op(target),
        reason: "the proxy closed the connection before it finished its reply".into(),
    }
}

fn host_port(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

fn shorten(s: &str) -> String {
    s.chars().take(120).collect()
}

/// The URL with any password replaced by `***` (for error messages).
fn redact(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://") {
        if let Some(at) = rest.rfind('@') {
            let ui = &rest[..at];
            if let Some((u, _)) = ui.split_once(':') {
                return format!("{scheme}://{u}:***@{}", &rest[at + 1..]);
            }
        }
    }
    url.to_string()
}

fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn base64(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for c in data.chunks(3) {
        let n = (c[0] as u32) << 16
            | (*c.get(1).unwrap_or(&0) as u32) << 8
            | *c.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            if i <= c.len() {
                out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_and_bad_ones_say_why() {
        let p = Proxy::parse("socks5://127.0.0.1:1080").unwrap();
        assert_eq!(
            (p.kind(), p.host(), p.port()),
            (ProxyKind::Socks5, "127.0.0.1", 1080)
        );
        let p = Proxy::parse("SOCKS5H://proxy.example").unwrap();
        assert_eq!((p.kind(), p.port()), (ProxyKind::Socks5, 1080));
        let p = Proxy::parse("http://u:p%3Aq@[::1]:3128/").unwrap();
        assert_eq!(
            (p.kind(), p.host(), p.port()),
            (ProxyKind::Http, "::1", 3128)
        );
        assert_eq!(p.auth, Some(("u".into(), "p:q".into())));
        assert_eq!(p.to_string(), "http://u@[::1]:3128");
        assert!(!format!("{p:?}").contains("p:q"));
        assert_eq!(Proxy::parse("http://h").unwrap().port(), 80);
        for (url, says) in [
            ("127.0.0.1:1080", "scheme://"),
            ("ftp://h:1", "unknown scheme"),
            ("https://h:1", "https proxies"),
            ("socks4://h:1", "SOCKS4"),
            ("socks5://:1080", "host is missing"),
            ("socks5://h:0", "port 0"),
            ("socks5://h:99999", "1 to 65535"),
            ("socks5://h:x", "1 to 65535"),
            ("socks5://::1:1080", "brackets"),
            ("socks5://[::1:1080", "']'"),
            ("socks5://h:1/path", "no path"),
            ("http://pro xy:1", "a space or a control character"),
            ("socks5://h\0:1", "a space or a control character"),
            ("socks5://u@h:1", "password of 0 bytes"),
            ("socks5://u:p%zz@h:1", "%XX"),
        ] {
            let e = Proxy::parse(url).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{url}");
            assert!(e.to_string().contains(says), "{url}: {e}");
        }
        let long = "x".repeat(256);
        let e = Proxy::parse(&format!("socks5://{long}:pw@h:1")).unwrap_err();
        assert!(e.to_string().contains("256 bytes"), "{e}");
        let e = Proxy::parse("socks5://alice:secret@h:x").unwrap_err();
        assert!(!e.to_string().contains("secret"), "{e}");
    }

    #[test]
    fn requests_are_the_wire_format() {
        let t = Target {
            host: "example.com".into(),
            port: 443,
        };
        let p = Proxy::socks5("h", 1).with_auth("ab", "cde").unwrap();
        assert_eq!(p.start(&t).unwrap(), [5, 2, 0, 2]);
        assert_eq!(
            p.socks_method(&t, [5, 2]).unwrap().unwrap(),
            b"\x01\x02ab\x03cde"
        );
        let mut want = vec![5, 1, 0, 3, 11];
        want.extend_from_slice(b"example.com");
        want.extend_from_slice(&[1, 187]);
        assert_eq!(p.socks_connect(&t), want);
        let v6 = Target {
            host: "::1".into(),
            port: 80,
        };
        let r = p.socks_connect(&v6);
        assert_eq!((r[3], r.len()), (4, 4 + 16 + 2));
        let e = p.socks_reply(&t, [5, 5]).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::ConnectionRefused);
        assert_eq!(
            e.to_string(),
            "connect to example.com:443 through SOCKS5 proxy h:1: the proxy replied 5 \
             (connection refused)"
        );
        assert_eq!(
            p.socks_reply(&t, [5, 4]).unwrap_err().kind(),
            ErrorKind::Unreachable
        );
        assert_eq!(p.socks_reply(&t, [4, 0]).unwrap_err().kind(), ErrorKind::Io);
        let h = Proxy::http("h", 8080)
            .with_auth("Aladdin", "open sesame")
            .unwrap();
        let req = String::from_utf8(h.start(&t).unwrap()).unwrap();
        assert_eq!(
            req,
            "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\nProxy-Authorization: \
             Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==\r\n\r\n"
        );
        assert!(h
            .http_response(&t, b"HTTP/1.0 200 Connection established\r\n\r\n")
            .is_ok());
        let e = h
            .http_response(&t, b"HTTP/1.1 407 Proxy Authentication Required\r\n\r\n")
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::ConnectionRefused);
        assert!(
            e.to_string().contains("407 Proxy Authentication Required"),
            "{e}"
        );
        assert_eq!(base64(b"a"), "YQ==");
        assert_eq!(base64(b"ab"), "YWI=");
        assert_eq!(base64(b"abc"), "YWJj");
    }
}
