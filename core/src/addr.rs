//! Endpoints (what the user writes) and addresses (what the OS reports).
//!
//! An [`Endpoint`] is parsed from text: `host:port`, `[v6addr]:port`, `unix:/path`, or (Linux)
//! `unix:@name` for an abstract Unix socket; or built from a `(host, port)` pair or a
//! [`SocketAddr`]. Host names are resolved with a timeout by [`Endpoint::resolve`], which returns
//! every address, so connecting can try each (v6 and v4) before failing.
//!
//! An [`Addr`] is a concrete address (IP socket address or Unix address), as reported by
//! `local_addr`, `peer_addr`, `accept` and `recv_from`; its `Display` form parses back as an
//! `Endpoint`.

use std::fmt;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use socket2::SockAddr;

use crate::error::{Error, Result};

/// A place to connect to or bind: an internet host and port, or a Unix socket.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// A host name or IP literal and a port.
    Inet {
        /// Host name or IP literal (IPv6 literals without brackets).
        host: String,
        /// Port (0 = any, when binding).
        port: u16,
    },
    /// A Unix socket at a filesystem path.
    Unix(PathBuf),
    /// A Linux abstract Unix socket name (no file; written `unix:@name`).
    Abstract(Vec<u8>),
}

impl Endpoint {
    /// Parse `host:port`, `[v6]:port`, `unix:/path` or `unix:@name`.
    ///
    /// ```
    /// use libsock::Endpoint;
    /// assert_eq!(Endpoint::parse("localhost:80").unwrap(), Endpoint::inet("localhost", 80));
    /// assert_eq!(Endpoint::parse("[::1]:8080").unwrap(), Endpoint::inet("::1", 8080));
    /// assert!(Endpoint::parse("localhost").is_err()); // no port
    /// ```
    pub fn parse(text: &str) -> Result<Endpoint> {
        if let Some(rest) = text.strip_prefix("unix:") {
            if let Some(name) = rest.strip_prefix('@') {
                if name.is_empty() {
                    return Err(Error::invalid(format!(
                        "{text:?}: abstract Unix socket name is empty"
                    )));
                }
                return Ok(Endpoint::Abstract(name.as_bytes().to_vec()));
            }
            if rest.is_empty() {
                return Err(Error::invalid(format!(
                    "{text:?}: Unix socket path is empty"
                )));
            }
            if rest.contains('\0') {
                return Err(Error::invalid(format!(
                    "{text:?}: Unix socket path contains a NUL byte"
                )));
            }
            return Ok(Endpoint::Unix(PathBuf::from(rest)));
        }
        let (host, port) = if let Some(rest) = text.strip_prefix('[') {
            let close = rest.find(']').ok_or_else(|| {
                Error::invalid(format!("{text:?}: missing ']' after IPv6 address"))
            })?;
            let host = &rest[..close];
            let after = &rest[close + 1..];
            let port = after
                .strip_prefix(':')
                .ok_or_else(|| Error::invalid(format!("{text:?}: expected ':port' after ']'")))?;
            if host.parse::<std::net::Ipv6Addr>().is_err() {
                return Err(Error::invalid(format!(
                    "{text:?}: {host:?} is not an IPv6 address"
                )));
            }
            (host, port)
        } else {
            let colon = text.rfind(':').ok_or_else(|| {
                Error::invalid(format!(
                    "{text:?}: missing port (expected host:port, [v6]:port or unix:/path)"
                ))
            })?;
            let host = &text[..colon];
            if host.contains(':') {
                return Err(Error::invalid(format!(
                    "{text:?}: IPv6 addresses need brackets, as in [::1]:80"
                )));
            }
            (host, &text[colon + 1..])
        };
        let port = parse_port(text, port)?;
        Endpoint::check_host(host)?;
        Ok(Endpoint::Inet {
            host: host.to_string(),
            port,
        })
    }

    /// An internet endpoint from a host (name or literal) and a port.
    pub fn inet(host: impl Into<String>, port: u16) -> Endpoint {
        Endpoint::Inet {
            host: host.into(),
            port,
        }
    }

    /// An internet endpoint from a host and port, checking the host is well-formed.
    pub fn from_host_port(host: &str, port: u16) -> Result<Endpoint> {
        Endpoint::check_host(host)?;
        let host = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        Ok(Endpoint::inet(host, port))
    }

    fn check_host(host: &str) -> Result<()> {
        if host.is_empty() {
            return Err(Error::invalid("empty host name"));
        }
        if host.len() > 253 {
            return Err(Error::invalid(format!(
                "host name of {} characters is longer than 253",
                host.len()
            )));
        }
        if let Some(bad) = host
            .chars()
            .find(|c| c.is_whitespace() || c.is_control() || matches!(c, '/' | '@' | '\\'))
        {
            return Err(Error::invalid(format!(
                "host {host:?} contains the character {bad:?}"
            )));
        }
        // Digits and dots only: meant as an IPv4 address, never a name (no top-level domain is
        // numeric). Refused here unless it is a dotted quad, rather than handed to a resolver
        // that may read "127.1" or "1234" in the old inet_aton forms, or ask DNS about it.
        if host.bytes().all(|b| b.is_ascii_digit() || b == b'.')
            && host.parse::<std::net::Ipv4Addr>().is_err()
        {
            return Err(Error::invalid(format!(
                "host {host:?} is not an IPv4 address (four numbers 0-255 joined by dots)"
            )));
        }
        Ok(())
    }

    /// True for Unix (path or abstract) endpoints.
    pub fn is_unix(&self) -> bool {
        !matches!(self, Endpoint::Inet { .. })
    }

    /// Resolve to every address, in the resolver's order. IP literals need no lookup; names are
    /// looked up with `timeout` (`None` waits as long as the resolver does).
    pub fn resolve(&self, timeout: Option<Duration>) -> Result<Vec<Addr>> {
        match self {
            Endpoint::Unix(p) => Ok(vec![Addr::Unix(Some(p.clone()))]),
            Endpoint::Abstract(n) => Ok(vec![Addr::Abstract(n.clone())]),
            Endpoint::Inet { host, port } => Ok(resolve_host(host, *port, timeout)?
                .into_iter()
                .map(Addr::Inet)
                .collect()),
        }
    }
}

fn parse_port(text: &str, port: &str) -> Result<u16> {
    if port.is_empty() {
        return Err(Error::invalid(format!("{text:?}: empty port")));
    }
    if !port.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::invalid(format!(
            "{text:?}: port {port:?} is not a number"
        )));
    }
    port.parse::<u16>()
        .map_err(|_| Error::invalid(format!("{text:?}: port {port} is out of range 0-65535")))
}

/// Resolve `host` to socket addresses, waiting at most `timeout` for the system resolver.
///
/// IP literals and `localhost` return at once. A name lookup with a timeout runs `getaddrinfo` on
/// a short-lived helper thread (the system resolver cannot be cancelled); without a timeout it
/// runs on the caller's thread.
pub fn resolve_host(host: &str, port: u16, timeout: Option<Duration>) -> Result<Vec<SocketAddr>> {
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    Endpoint::check_host(host)?;
    if host.eq_ignore_ascii_case("localhost") {
        return Ok(vec![
            SocketAddr::new(IpAddr::V6(std::net::Ipv6Addr::LOCALHOST), port),
            SocketAddr::new(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), port),
        ]);
    }
    let lookup = {
        let host = host.to_string();
        move || -> std::result::Result<Vec<SocketAddr>, String> {
            (host.as_str(), port)
                .to_socket_addrs()
                .map(|it| it.collect())
                .map_err(|e| e.to_string())
        }
    };
    let result = match timeout {
        None => lookup(),
        Some(t) => {
            let (tx, rx) = std::sync::mpsc::channel();
            std::thread::Builder::new()
                .name("libsock-resolve".into())
                .spawn(move || {
                    let _ = tx.send(lookup());
                })
                .map_err(|e| Error::os(format!("resolve {host}"), e))?;
            match rx.recv_timeout(t) {
                Ok(r) => r,
                Err(_) => {
                    return Err(Error::Timeout {
                        op: format!("resolve {host}"),
                        ms: t.as_millis(),
                    })
                }
            }
        }
    };
    match result {
        Ok(v) if !v.is_empty() => Ok(v),
        Ok(_) => Err(Error::Resolve {
            host: host.to_string(),
            reason: "no addresses".into(),
        }),
        Err(reason) => Err(Error::Resolve {
            host: host.to_string(),
            reason,
        }),
    }
}

impl FromStr for Endpoint {
    type Err = Error;
    fn from_str(s: &str) -> Result<Endpoint> {
        Endpoint::parse(s)
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Endpoint::Inet { host, port } if host.contains(':') => write!(f, "[{host}]:{port}"),
            Endpoint::Inet { host, port } => write!(f, "{host}:{port}"),
            Endpoint::Unix(p) => write!(f, "unix:{}", p.display()),
            Endpoint::Abstract(n) => write!(f, "unix:@{}", String::from_utf8_lossy(n)),
        }
    }
}

/// Anything that names an endpoint: `&str`, `String`, `(host, port)`, `SocketAddr`, `Endpoint`,
/// `Addr`.
pub trait ToEndpoint {
    /// Convert, or say what is malformed.
    fn to_endpoint(&self) -> Result<Endpoint>;

    /// The one address this names when that is known without parsing into an [`Endpoint`] or
    /// resolving (a plain IP literal, a socket address); `None` means "go the general way".
    fn ip_literal(&self) -> Option<Addr> {
        None
    }
}

impl ToEndpoint for Endpoint {
    fn to_endpoint(&self) -> Result<Endpoint> {
        Ok(self.clone())
    }
}
impl ToEndpoint for str {
    fn to_endpoint(&self) -> Result<Endpoint> {
        Endpoint::parse(self)
    }
    fn ip_literal(&self) -> Option<Addr> {
        Addr::parse_ip_literal(self)
    }
}
impl ToEndpoint for &str {
    fn to_endpoint(&self) -> Result<Endpoint> {
        Endpoint::parse(self)
    }
    fn ip_literal(&self) -> Option<Addr> {
        Addr::parse_ip_literal(self)
    }
}
impl ToEndpoint for String {
    fn to_endpoint(&self) -> Result<Endpoint> {
        Endpoint::parse(self)
    }
    fn ip_literal(&self) -> Option<Addr> {
        Addr::parse_ip_literal(self)
    }
}
impl ToEndpoint for (&str, u16) {
    fn to_endpoint(&self) -> Result<Endpoint> {
        Endpoint::from_host_port(self.0, self.1)
    }
}
impl ToEndpoint for (String, u16) {
    fn to_endpoint(&self) -> Result<Endpoint> {
        Endpoint::from_host_port(&self.0, self.1)
    }
}
impl ToEndpoint for SocketAddr {
    fn to_endpoint(&self) -> Result<Endpoint> {
        Ok(Endpoint::inet(self.ip().to_string(), self.port()))
    }
}
impl ToEndpoint for Addr {
    fn to_endpoint(&self) -> Result<Endpoint> {
        match self {
            Addr::Inet(sa) => sa.to_endpoint(),
            Addr::Unix(Some(p)) => Ok(Endpoint::Unix(p.clone())),
            Addr::Unix(None) => Err(Error::invalid("an unnamed Unix socket has no endpoint")),
            Addr::Abstract(n) => Ok(Endpoint::Abstract(n.clone())),
        }
    }
}
impl<T: ToEndpoint + ?Sized> ToEndpoint for &T
where
    T: ToEndpointRef,
{
    fn to_endpoint(&self) -> Result<Endpoint> {
        (**self).to_endpoint()
    }
}

/// Marker for types whose references are endpoints too (keeps the blanket impl from overlapping).
pub trait ToEndpointRef: ToEndpoint {}
impl ToEndpointRef for Endpoint {}
impl ToEndpointRef for String {}
impl ToEndpointRef for SocketAddr {}
impl ToEndpointRef for Addr {}

/// A concrete socket address, as the OS reports it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Addr {
    /// An IPv4 or IPv6 socket address.
    Inet(SocketAddr),
    /// A Unix socket path (`None` for an unnamed socket, e.g. a connecting client).
    Unix(Option<PathBuf>),
    /// A Linux abstract Unix socket name.
    Abstract(Vec<u8>),
}

/// `"a.b.c.d:port"` written the way [`Addr::with_text`] writes it (no leading zeros, each
/// number in range), read by hand: the standard parser, which also reads every other form,
/// costs ~350 instructions, paid per datagram by the doors that take a peer as text. Anything
/// else is `None` and goes to that parser, so this accepts nothing it would reject and reads
/// what it accepts the same way.
fn canonical_v4(t: &[u8]) -> Option<std::net::SocketAddrV4> {
    /// A decimal number of 1..=`max_digits` digits without a leading zero, ending at the first
    /// non-digit; its value and the index after it.
    fn num(t: &[u8], at: usize, max_digits: usize) -> Option<(u32, usize)> {
        let mut v = 0u32;
        let mut i = at;
        while i < t.len() && t[i].is_ascii_digit() {
            if i - at == max_digits || (i > at && v == 0) {
                return None;
            }
            v = v * 10 + (t[i] - b'0') as u32;
            i += 1;
        }
        (i > at).then_some((v, i))
    }
    let mut octets = [0u8; 4];
    let mut at = 0;
    for (k, o) in octets.iter_mut().enumerate() {
        let (v, next) = num(t, at, 3)?;
        *o = u8::try_from(v).ok()?;
        let sep = if k == 3 { b':' } else { b'.' };
        if t.get(next) != Some(&sep) {
            return None;
        }
        at = next + 1;
    }
    let (port, end) = num(t, at, 5)?;
    if end != t.len() {
        return None;
    }
    Some(std::net::SocketAddrV4::new(
        octets.into(),
        u16::try_from(port).ok()?,
    ))
}

impl Addr {
    /// Call `f` with this address as text, exactly as `Display` writes it. An IPv4 address (the
    /// common case, once per datagram in the doors' receive calls) is written by hand on the
    /// stack: the formatting machinery and a `String` cost ~2,000 instructions per datagram.
    pub fn with_text<R>(&self, f: impl FnOnce(&str) -> R) -> R {
        if let Addr::Inet(SocketAddr::V4(v4)) = self {
            /// Append the decimal digits of `v` at `buf[*n..]`.
            fn put(buf: &mut [u8; 21], n: &mut usize, mut v: u32) {
                let mut digits = [0u8; 5];
                let mut k = 0;
                loop {
                    digits[k] = b'0' + (v % 10) as u8;
                    k += 1;
                    v /= 10;
                    if v == 0 {
                        break;
                    }
                }
                while k > 0 {
                    k -= 1;
                    buf[*n] = digits[k];
                    *n += 1;
                }
            }
            let mut buf = [0u8; 21]; // "255.255.255.255:65535"
            let mut n = 0;
            for (i, o) in v4.ip().octets().iter().enumerate() {
                if i > 0 {
                    buf[n] = b'.';
                    n += 1;
                }
                put(&mut buf, &mut n, *o as u32);
            }
            buf[n] = b':';
            n += 1;
            put(&mut buf, &mut n, v4.port() as u32);
            // Only ASCII digits, dots and a colon were written.
            return f(std::str::from_utf8(&buf[..n]).unwrap_or(""));
        }
        f(&self.to_string())
    }

    /// The address a text names when it is a plain IP literal (`"1.2.3.4:5"`, `"[::1]:5"`):
    /// exactly what [`Endpoint::parse`] and resolution give for it, without building an
    /// [`Endpoint`] or resolving. `None` for anything else (host names, Unix paths, IPv6 scope
    /// ids), which must go the general way.
    pub fn parse_ip_literal(text: &str) -> Option<Addr> {
        if let Some(v4) = canonical_v4(text.as_bytes()) {
            return Some(Addr::Inet(SocketAddr::V4(v4)));
        }
        if text.contains('%') {
            return None;
        }
        text.parse::<SocketAddr>().ok().map(Addr::Inet)
    }

    /// The IP socket address, if this is one.
    pub fn as_inet(&self) -> Option<SocketAddr> {
        match self {
            Addr::Inet(sa) => Some(*sa),
            _ => None,
        }
    }

    /// The port of an internet address (0 for Unix addresses).
    pub fn port(&self) -> u16 {
        self.as_inet().map(|s| s.port()).unwrap_or(0)
    }

    /// The OS-level form.
    pub fn to_sockaddr(&self) -> Result<SockAddr> {
        match self {
            Addr::Inet(sa) => Ok(SockAddr::from(*sa)),
            Addr::Unix(Some(p)) => SockAddr::unix(p)
                .map_err(|e| Error::invalid(format!("Unix path {}: {e}", p.display()))),
            Addr::Unix(None) => Err(Error::invalid("an unnamed Unix socket address")),
            Addr::Abstract(name) => abstract_sockaddr(name),
        }
    }

    /// From the OS-level form.
    pub fn from_sockaddr(sa: &SockAddr) -> Addr {
        if let Some(s) = sa.as_socket() {
            return Addr::Inet(unmap_v4(s));
        }
        if sa.is_unnamed() {
            return Addr::Unix(None);
        }
        #[cfg(any(target_os = "linux", target_os = "android"))]
        if let Some(name) = sa.as_abstract_namespace() {
            return Addr::Abstract(name.to_vec());
        }
        match sa.as_pathname() {
            Some(p) => Addr::Unix(Some(p.to_path_buf())),
            None => Addr::Unix(None),
        }
    }

    /// From a socket address the kernel wrote (`len` bytes at `name`), as
    /// [`from_sockaddr`](Addr::from_sockaddr) gives it. IPv4 and IPv6 are read in place (a
    /// batch receive decodes one per datagram: going through a zeroed `SockAddr` copy cost
    /// ~65 instructions each); the rest goes the general way.
    ///
    /// Not inlined: inlined into `offload::recv`, the optimised code compares a stack value
    /// of which only some bytes are set, which valgrind's memcheck reports as a jump on
    /// uninitialised memory (the C suite runs the engine under it).
    ///
    /// # Safety
    /// `name` must hold `len` bytes written by the kernel (at most its size).
    #[cfg(unix)]
    #[inline(never)]
    pub(crate) unsafe fn from_raw(
        name: &std::mem::MaybeUninit<libc::sockaddr_storage>,
        len: libc::socklen_t,
    ) -> std::io::Result<Addr> {
        use std::net::{Ipv4Addr, Ipv6Addr, SocketAddrV4, SocketAddrV6};
        const V4: usize = std::mem::size_of::<libc::sockaddr_in>();
        const V6: usize = std::mem::size_of::<libc::sockaddr_in6>();
        let len = (len as usize).min(std::mem::size_of::<libc::sockaddr_storage>());
        let p = name.as_ptr();
        // Only the bytes the kernel wrote are read, field by field.
        if len == V4 || len == V6 {
            let family = std::ptr::read_unaligned(p as *const libc::sa_family_t);
            if len == V4 && family == libc::AF_INET as libc::sa_family_t {
                let sin = std::ptr::read_unaligned(p as *const libc::sockaddr_in);
                return Ok(Addr::Inet(SocketAddr::V4(SocketAddrV4::new(
                    Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr)),
                    u16::from_be(sin.sin_port),
                ))));
            }
            if len == V6 && family == libc::AF_INET6 as libc::sa_family_t {
                let sin6 = std::ptr::read_unaligned(p as *const libc::sockaddr_in6);
                return Ok(Addr::Inet(unmap_v4(SocketAddr::V6(SocketAddrV6::new(
                    Ipv6Addr::from(sin6.sin6_addr.s6_addr),
                    u16::from_be(sin6.sin6_port),
                    u32::from_be(sin6.sin6_flowinfo),
                    sin6.sin6_scope_id,
                )))));
            }
        }
        let (_, sa) = SockAddr::try_init(|storage, l| {
            std::ptr::copy_nonoverlapping(p as *const u8, storage as *mut u8, len);
            *l = len as libc::socklen_t;
            Ok(())
        })?;
        Ok(Addr::from_sockaddr(&sa))
    }
}

/// A v4-mapped IPv6 address (`::ffff:1.2.3.4`) as the v4 address it stands for.
fn unmap_v4(sa: SocketAddr) -> SocketAddr {
    if let SocketAddr::V6(v6) = sa {
        if let Some(v4) = v6.ip().to_ipv4_mapped() {
            return SocketAddr::new(IpAddr::V4(v4), v6.port());
        }
    }
    sa
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn abstract_sockaddr(name: &[u8]) -> Result<SockAddr> {
    use std::os::unix::ffi::OsStrExt;
    let mut bytes = Vec::with_capacity(name.len() + 1);
    bytes.push(0u8);
    bytes.extend_from_slice(name);
    SockAddr::unix(std::ffi::OsStr::from_bytes(&bytes))
        .map_err(|e| Error::invalid(format!("abstract Unix name: {e}")))
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn abstract_sockaddr(_name: &[u8]) -> Result<SockAddr> {
    Err(Error::Unsupported(
        "abstract Unix socket names exist only on Linux".into(),
    ))
}

impl fmt::Display for Addr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Addr::Inet(sa) => write!(f, "{sa}"),
            Addr::Unix(Some(p)) => write!(f, "unix:{}", p.display()),
            Addr::Unix(None) => write!(f, "unix:"),
            Addr::Abstract(n) => write!(f, "unix:@{}", String::from_utf8_lossy(n)),
        }
    }
}

impl From<SocketAddr> for Addr {
    fn from(sa: SocketAddr) -> Addr {
        Addr::Inet(sa)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_text_and_ip_literals_match_the_general_way() {
        for c in [
            "0.0.0.0:0",
            "255.255.255.255:65535",
            "127.0.0.1:5",
            "10.20.30.40:8080",
            "1.0.100.9:10000",
            "[::1]:5000",
            "[fe80::1:2]:1",
        ] {
            let a = Addr::Inet(c.parse().unwrap());
            a.with_text(|t| assert_eq!(t, a.to_string()));
            assert_eq!(Addr::parse_ip_literal(c), Some(a.clone()));
            let general = Endpoint::parse(c).unwrap().resolve(None).unwrap();
            assert_eq!(general, vec![a]);
        }
        for c in [
            "localhost:80",
            "unix:/tmp/x",
            "[fe80::1%1]:5",
            "01.2.3.4:5",
            "1.2.3.4",
        ] {
            assert_eq!(Addr::parse_ip_literal(c), None, "{c}");
        }
        let u = Addr::Unix(Some("/tmp/s".into()));
        u.with_text(|t| assert_eq!(t, "unix:/tmp/s"));
    }

    #[test]
    fn parses_forms() {
        assert_eq!(
            Endpoint::parse("127.0.0.1:80").unwrap(),
            Endpoint::inet("127.0.0.1", 80)
        );
        assert_eq!(
            Endpoint::parse("[::1]:0").unwrap(),
            Endpoint::inet("::1", 0)
        );
        assert_eq!(
            Endpoint::parse("unix:/tmp/x.sock").unwrap(),
            Endpoint::Unix("/tmp/x.sock".into())
        );
        assert_eq!(
            Endpoint::parse("unix:@name").unwrap(),
            Endpoint::Abstract(b"name".to_vec())
        );
        assert_eq!(
            ("[::1]", 5).to_endpoint().unwrap(),
            Endpoint::inet("::1", 5)
        );
    }

    #[test]
    fn rejects_malformed_naming_the_part() {
        for (text, part) in [
            ("localhost", "missing port"),
            ("host:", "empty port"),
            ("host:http", "not a number"),
            ("host:65536", "out of range"),
            ("::1:80", "brackets"),
            ("[::1:80", "']'"),
            ("[::1]80", "':port'"),
            ("[nope]:80", "not an IPv6"),
            (":80", "empty host"),
            ("a b:80", "character"),
            ("256.1.1.1:80", "not an IPv4 address"),
            ("1.2.3:80", "not an IPv4 address"),
            ("127.1:80", "not an IPv4 address"),
            ("01234:80", "not an IPv4 address"),
            ("unix:", "empty"),
            ("unix:@", "empty"),
        ] {
            let e = Endpoint::parse(text).unwrap_err();
            assert_eq!(e.kind(), crate::ErrorKind::InvalidArgument, "{text}");
            assert!(e.to_string().contains(part), "{text}: {e}");
        }
    }

    #[test]
    fn display_round_trips() {
        for t in [
            "127.0.0.1:1",
            "[::1]:2",
            "unix:/a/b",
            "unix:@n",
            "example.com:3",
        ] {
            assert_eq!(Endpoint::parse(t).unwrap().to_string(), t);
        }
    }

    #[test]
    fn resolves_literals_and_localhost_without_lookup() {
        let v = resolve_host("localhost", 7, Some(Duration::from_millis(1))).unwrap();
        assert_eq!(v.len(), 2);
        let v = resolve_host("10.1.2.3", 7, Some(Duration::ZERO)).unwrap();
        assert_eq!(v, vec!["10.1.2.3:7".parse().unwrap()]);
    }

    #[test]
    fn unresolvable_name_is_resolve_error() {
        let e = resolve_host("no-such-host.invalid", 1, Some(Duration::from_secs(5))).unwrap_err();
        assert!(
            matches!(
                e.kind(),
                crate::ErrorKind::Resolve | crate::ErrorKind::Timeout
            ),
            "{e}"
        );
    }

    /// The hand-written IPv4 reader agrees with the standard parser: whatever it accepts, the
    /// standard parser reads as the same address, and it accepts every address `with_text`
    /// writes. Checked on every text of up to 9 characters over digits, `.` and `:`, on
    /// pseudo-random longer ones, and on the edges (leading zeros, 255/256, 65535/65536).
    #[test]
    fn canonical_v4_reads_only_what_the_standard_parser_reads_the_same() {
        let agree = |t: &str| {
            if let Some(a) = canonical_v4(t.as_bytes()) {
                assert_eq!(t.parse::<std::net::SocketAddrV4>().ok(), Some(a), "{t:?}");
            }
        };
        let alphabet = b"0123456789.:";
        for len in 0..=9u32 {
            let total = (alphabet.len() as u64).pow(len);
            let step = (total / 200_000).max(1);
            let mut k = 0;
            while k < total {
                let mut v = k;
                let t: String = (0..len)
                    .map(|_| {
                        let c = alphabet[(v % 12) as usize] as char;
                        v /= 12;
                        c
                    })
                    .collect();
                agree(&t);
                k += step;
            }
        }
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..200_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let a = std::net::SocketAddrV4::new((x as u32).into(), (x >> 32) as u16);
            Addr::Inet(SocketAddr::V4(a)).with_text(|t| {
                assert_eq!(canonical_v4(t.as_bytes()), Some(a), "{t:?}");
                assert_eq!(
                    Addr::parse_ip_literal(t),
                    Some(Addr::Inet(SocketAddr::V4(a)))
                );
            });
            // Longer texts made of the same pieces, most of them wrong somewhere.
            let t: String = (0..(x % 23))
                .map(|i| alphabet[((x >> (i * 2)) % 12) as usize] as char)
                .collect();
            agree(&t);
        }
        for t in [
            "1.2.3.4:5",
            "01.2.3.4:5",
            "1.2.3.4:05",
            "0.0.0.0:0",
            "255.255.255.255:65535",
            "256.1.1.1:1",
            "1.1.1.1:65536",
            "1.1.1:1",
            "1.1.1.1.1:1",
            "1.1.1.1",
            "1.1.1.1:",
            ":1",
            "1..1.1:1",
            "1.1.1.1:1 ",
            " 1.1.1.1:1",
            "1.1.1.1:100000",
            "1000.1.1.1:1",
        ] {
            agree(t);
            let std_ok = t.parse::<std::net::SocketAddrV4>().ok();
            let ours = Addr::parse_ip_literal(t);
            assert_eq!(ours, std_ok.map(|a| Addr::Inet(SocketAddr::V4(a))), "{t:?}");
        }
    }
}
