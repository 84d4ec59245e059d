//! Socket options: one [`SocketOptions`] value applied before bind/connect, and the same options
//! by number or name ([`SockOpt`]) to set and read back afterwards — the form the C ABI
//! (`LS_OPT_*`), Python (`conn.set_option("nodelay", True)`) and the other doors use.
//!
//! Every value read back comes from the OS (`getsockopt`), not from what was asked: the kernel may
//! round (Linux doubles buffer sizes, for example).

use std::net::Ipv4Addr;
use std::time::Duration;

use socket2::{Domain, Socket, TcpKeepalive};

use crate::error::{Error, Result};

/// A socket option by number. The numbers are stable: they are the C ABI's `LS_OPT_*` values.
///
/// Values are `i64`: booleans are 0/1; units are given per option.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SockOpt {
    /// TCP_NODELAY (0/1): send small writes at once (no Nagle delay).
    NoDelay = 1,
    /// SO_KEEPALIVE (0/1): kernel keepalive probes.
    KeepAlive = 2,
    /// TCP_KEEPIDLE, seconds of idleness before the first probe (setting it enables keepalive).
    KeepIdle = 3,
    /// TCP_KEEPINTVL, seconds between probes (setting it enables keepalive).
    KeepInterval = 4,
    /// TCP_KEEPCNT, unanswered probes before the connection is dropped (enables keepalive).
    KeepCount = 5,
    /// SO_LINGER in seconds: -1 off (close returns at once, data still sent), 0 abortive close
    /// (RST), N wait up to N seconds.
    Linger = 6,
    /// SO_RCVBUF in bytes (Linux reports double the requested value).
    RecvBuffer = 7,
    /// SO_SNDBUF in bytes (Linux reports double the requested value).
    SendBuffer = 8,
    /// SO_REUSEADDR (0/1).
    ReuseAddress = 9,
    /// SO_REUSEPORT (0/1).
    ReusePort = 10,
    /// IP_TTL / IPV6_UNICAST_HOPS.
    Ttl = 11,
    /// IP_TOS / IPV6_TCLASS.
    Tos = 12,
    /// IPV6_V6ONLY (0/1), v6 sockets only.
    V6Only = 13,
    /// SO_BROADCAST (0/1).
    Broadcast = 14,
    /// IP_MULTICAST_TTL / IPV6_MULTICAST_HOPS.
    MulticastTtl = 15,
    /// IP_MULTICAST_LOOP / IPV6_MULTICAST_LOOP (0/1).
    MulticastLoop = 16,
    /// TCP_USER_TIMEOUT in milliseconds (Linux): how long sent data may stay unacknowledged.
    UserTimeout = 17,
}

impl SockOpt {
    /// Every option, in number order.
    pub const ALL: [SockOpt; 17] = [
        SockOpt::NoDelay,
        SockOpt::KeepAlive,
        SockOpt::KeepIdle,
        SockOpt::KeepInterval,
        SockOpt::KeepCount,
        SockOpt::Linger,
        SockOpt::RecvBuffer,
        SockOpt::SendBuffer,
        SockOpt::ReuseAddress,
        SockOpt::ReusePort,
        SockOpt::Ttl,
        SockOpt::Tos,
        SockOpt::V6Only,
        SockOpt::Broadcast,
        SockOpt::MulticastTtl,
        SockOpt::MulticastLoop,
        SockOpt::UserTimeout,
    ];

    /// The stable number (`LS_OPT_*`).
    pub fn number(self) -> i32 {
        self as i32
    }

    /// The option for a number.
    pub fn from_number(n: i32) -> Result<SockOpt> {
        SockOpt::ALL
            .iter()
            .copied()
            .find(|o| o.number() == n)
            .ok_or_else(|| Error::invalid(format!("unknown option number {n}")))
    }

    /// The option's name in snake case (as Python keyword arguments spell it).
    pub fn name(self) -> &'static str {
        match self {
            SockOpt::NoDelay => "nodelay",
            SockOpt::KeepAlive => "keepalive",
            SockOpt::KeepIdle => "keepalive_idle",
            SockOpt::KeepInterval => "keepalive_interval",
            SockOpt::KeepCount => "keepalive_count",
            SockOpt::Linger => "linger",
            SockOpt::RecvBuffer => "recv_buffer_size",
            SockOpt::SendBuffer => "send_buffer_size",
            SockOpt::ReuseAddress => "reuse_address",
            SockOpt::ReusePort => "reuse_port",
            SockOpt::Ttl => "ttl",
            SockOpt::Tos => "tos",
            SockOpt::V6Only => "v6_only",
            SockOpt::Broadcast => "broadcast",
            SockOpt::MulticastTtl => "multicast_ttl",
            SockOpt::MulticastLoop => "multicast_loop",
            SockOpt::UserTimeout => "tcp_user_timeout",
        }
    }

    /// The option with this name.
    pub fn from_name(name: &str) -> Result<SockOpt> {
        SockOpt::ALL
            .iter()
            .copied()
            .find(|o| o.name() == name)
            .ok_or_else(|| {
                let names: Vec<_> = SockOpt::ALL.iter().map(|o| o.name()).collect();
                Error::invalid(format!(
                    "unknown option {name:?} (known: {})",
                    names.join(", ")
                ))
            })
    }

    /// True for on/off options (values 0 and 1).
    pub fn is_bool(self) -> bool {
        matches!(
            self,
            SockOpt::NoDelay
                | SockOpt::KeepAlive
                | SockOpt::ReuseAddress
                | SockOpt::ReusePort
                | SockOpt::V6Only
                | SockOpt::Broadcast
                | SockOpt::MulticastLoop
        )
    }
}

fn os(op: &str, e: std::io::Error) -> Error {
    if matches!(
        e.raw_os_error(),
        Some(libc::ENOPROTOOPT) | Some(libc::EOPNOTSUPP)
    ) {
        return Error::Unsupported(format!("{op}: not available for this kind of socket ({e})"));
    }
    Error::os(op, e)
}

fn is_v6(s: &Socket) -> Result<bool> {
    let d = s.domain().map_err(|e| os("getsockopt SO_DOMAIN", e))?;
    Ok(d == Domain::IPV6)
}

fn is_ip(s: &Socket) -> Result<bool> {
    let d = s.domain().map_err(|e| os("getsockopt SO_DOMAIN", e))?;
    Ok(d == Domain::IPV6 || d == Domain::IPV4)
}

fn need_ip(s: &Socket, opt: SockOpt) -> Result<()> {
    if is_ip(s)? {
        Ok(())
    } else {
        Err(Error::Unsupported(format!(
            "option {} applies to IP sockets only",
            opt.name()
        )))
    }
}

/// Multicast options mean nothing on a stream socket (Linux refuses to set them with a bare
/// EINVAL but reads them back): say so clearly, both ways.
fn need_ip_dgram(s: &Socket, opt: SockOpt) -> Result<()> {
    need_ip(s, opt)?;
    match s.r#type() {
        Ok(t) if t == socket2::Type::STREAM => Err(Error::Unsupported(format!(
            "option {} applies to UDP sockets only",
            opt.name()
        ))),
        _ => Ok(()),
    }
}

fn to_u32(opt: SockOpt, v: i64) -> Result<u32> {
    u32::try_from(v).map_err(|_| {
        Error::invalid(format!(
            "value {v} for option {} is out of range",
            opt.name()
        ))
    })
}

fn secs(opt: SockOpt, v: i64) -> Result<Duration> {
    if v <= 0 {
        return Err(Error::invalid(format!(
            "option {} needs a positive number of seconds, got {v}",
            opt.name()
        )));
    }
    Ok(Duration::from_secs(to_u32(opt, v)? as u64))
}

/// Set `opt` to `value` on `sock`.
pub fn set_option(sock: &Socket, opt: SockOpt, value: i64) -> Result<()> {
    let op = format!("set option {}", opt.name());
    let flag = || -> Result<bool> {
        match value {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(Error::invalid(format!(
                "option {} takes 0 or 1, got {value}",
                opt.name()
            ))),
        }
    };
    match opt {
        SockOpt::NoDelay => sock.set_tcp_nodelay(flag()?),
        SockOpt::KeepAlive => sock.set_keepalive(flag()?),
        SockOpt::KeepIdle => {
            sock.set_tcp_keepalive(&TcpKeepalive::new().with_time(secs(opt, value)?))
        }
        SockOpt::KeepInterval => {
            sock.set_tcp_keepalive(&TcpKeepalive::new().with_interval(secs(opt, value)?))
        }
        SockOpt::KeepCount => {
            let n = to_u32(opt, value)?;
            if n == 0 {
                return Err(Error::invalid("keepalive_count must be at least 1"));
            }
            sock.set_tcp_keepalive(&TcpKeepalive::new().with_retries(n))
        }
        SockOpt::Linger => match value {
            -1 => sock.set_linger(None),
            v if v >= 0 => sock.set_linger(Some(Duration::from_secs(to_u32(opt, v)? as u64))),
            v => {
                return Err(Error::invalid(format!(
                    "linger takes -1 (off), 0 (abortive) or seconds, got {v}"
                )))
            }
        },
        SockOpt::RecvBuffer => sock.set_recv_buffer_size(positive(opt, value)?),
        SockOpt::SendBuffer => sock.set_send_buffer_size(positive(opt, value)?),
        SockOpt::ReuseAddress => sock.set_reuse_address(flag()?),
        SockOpt::ReusePort => reuse_port(sock, flag()?),
        SockOpt::Ttl => {
            need_ip(sock, opt)?;
            let v = to_u32(opt, value)?;
            if v == 0 || v > 255 {
                return Err(Error::invalid(format!("ttl {value} outside 1..=255")));
            }
            if is_v6(sock)? {
                sock.set_unicast_hops_v6(v)
            } else {
                sock.set_ttl_v4(v)
            }
        }
        SockOpt::Tos => {
            need_ip(sock, opt)?;
            let v = to_u32(opt, value)?;
            if v > 255 {
                return Err(Error::invalid(format!("tos {value} outside 0..=255")));
            }
            if is_v6(sock)? {
                tclass_v6(sock, v)
            } else {
                tos_v4(sock, v)
            }
        }
        SockOpt::V6Only => {
            if !is_v6(sock)? {
                return Err(Error::Unsupported(
                    "v6_only applies to IPv6 sockets only".into(),
                ));
            }
            sock.set_only_v6(flag()?)
        }
        SockOpt::Broadcast => sock.set_broadcast(flag()?),
        SockOpt::MulticastTtl => {
            need_ip_dgram(sock, opt)?;
            let v = to_u32(opt, value)?;
            if v > 255 {
                return Err(Error::invalid(format!(
                    "multicast_ttl {value} outside 0..=255"
                )));
            }
            if is_v6(sock)? {
                sock.set_multicast_hops_v6(v)
            } else {
                sock.set_multicast_ttl_v4(v)
            }
        }
        SockOpt::MulticastLoop => {
            need_ip_dgram(sock, opt)?;
            if is_v6(sock)? {
                sock.set_multicast_loop_v6(flag()?)
            } else {
                sock.set_multicast_loop_v4(flag()?)
            }
        }
        SockOpt::UserTimeout => user_timeout_set(sock, value)?,
    }
    .map_err(|e| os(&op, e))
}

fn positive(opt: SockOpt, v: i64) -> Result<usize> {
    if v <= 0 || v > i32::MAX as i64 {
        return Err(Error::invalid(format!(
            "{} must be between 1 and {}, got {v}",
            opt.name(),
            i32::MAX
        )));
    }
    Ok(v as usize)
}

/// Read `opt` back from the OS.
pub fn get_option(sock: &Socket, opt: SockOpt) -> Result<i64> {
    let op = format!("get option {}", opt.name());
    let b = |r: std::io::Result<bool>| r.map(i64::from);
    match opt {
        SockOpt::NoDelay => b(sock.tcp_nodelay()),
        SockOpt::KeepAlive => b(sock.keepalive()),
        SockOpt::KeepIdle => sock.tcp_keepalive_time().map(|d| d.as_secs() as i64),
        SockOpt::KeepInterval => sock.tcp_keepalive_interval().map(|d| d.as_secs() as i64),
        SockOpt::KeepCount => sock.tcp_keepalive_retries().map(i64::from),
        SockOpt::Linger => sock
            .linger()
            .map(|l| l.map(|d| d.as_secs() as i64).unwrap_or(-1)),
        SockOpt::RecvBuffer => sock.recv_buffer_size().map(|v| v as i64),
        SockOpt::SendBuffer => sock.send_buffer_size().map(|v| v as i64),
        SockOpt::ReuseAddress => b(sock.reuse_address()),
        SockOpt::ReusePort => reuse_port_get(sock),
        SockOpt::Ttl => {
            need_ip(sock, opt)?;
            if is_v6(sock)? {
                sock.unicast_hops_v6().map(i64::from)
            } else {
                sock.ttl_v4().map(i64::from)
            }
        }
        SockOpt::Tos => {
            need_ip(sock, opt)?;
            if is_v6(sock)? {
                tclass_v6_get(sock)
            } else {
                tos_v4_get(sock)
            }
        }
        SockOpt::V6Only => {
            if !is_v6(sock)? {
                return Err(Error::Unsupported(
                    "v6_only applies to IPv6 sockets only".into(),
                ));
            }
            b(sock.only_v6())
        }
        SockOpt::Broadcast => b(sock.broadcast()),
        SockOpt::MulticastTtl => {
            need_ip_dgram(sock, opt)?;
            if is_v6(sock)? {
                sock.multicast_hops_v6().map(i64::from)
            } else {
                sock.multicast_ttl_v4().map(i64::from)
            }
        }
        SockOpt::MulticastLoop => {
            need_ip_dgram(sock, opt)?;
            if is_v6(sock)? {
                b(sock.multicast_loop_v6())
            } else {
                b(sock.multicast_loop_v4())
            }
        }
        SockOpt::UserTimeout => user_timeout_get(sock)?,
    }
    .map_err(|e| os(&op, e))
}

#[cfg(all(unix, not(any(target_os = "solaris", target_os = "illumos"))))]
fn reuse_port(sock: &Socket, on: bool) -> std::io::Result<()> {
    sock.set_reuse_port(on)
}
#[cfg(all(unix, not(any(target_os = "solaris", target_os = "illumos"))))]
fn reuse_port_get(sock: &Socket) -> std::io::Result<i64> {
    sock.reuse_port().map(i64::from)
}
#[cfg(not(all(unix, not(any(target_os = "solaris", target_os = "illumos")))))]
fn reuse_port(_: &Socket, _: bool) -> std::io::Result<()> {
    Err(std::io::Error::from(std::io::ErrorKind::Unsupported))
}
#[cfg(not(all(unix, not(any(target_os = "solaris", target_os = "illumos")))))]
fn reuse_port_get(_: &Socket) -> std::io::Result<i64> {
    Err(std::io::Error::from(std::io::ErrorKind::Unsupported))
}

fn tos_v4(sock: &Socket, v: u32) -> std::io::Result<()> {
    sock.set_tos_v4(v)
}
fn tos_v4_get(sock: &Socket) -> std::io::Result<i64> {
    sock.tos_v4().map(i64::from)
}
#[cfg(unix)]
fn tclass_v6(sock: &Socket, v: u32) -> std::io::Result<()> {
    sock.set_tclass_v6(v)
}
#[cfg(unix)]
fn tclass_v6_get(sock: &Socket) -> std::io::Result<i64> {
    sock.tclass_v6().map(i64::from)
}
#[cfg(not(unix))]
fn tclass_v6(_: &Socket, _: u32) -> std::io::Result<()> {
    Err(std::io::Error::from(std::io::ErrorKind::Unsupported))
}
#[cfg(not(unix))]
fn tclass_v6_get(_: &Socket) -> std::io::Result<i64> {
    Err(std::io::Error::from(std::io::ErrorKind::Unsupported))
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn user_timeout_set(sock: &Socket, ms: i64) -> Result<std::io::Result<()>> {
    if !(0..=u32::MAX as i64).contains(&ms) {
        return Err(Error::invalid(format!(
            "tcp_user_timeout {ms} ms is out of range"
        )));
    }
    let d = (ms > 0).then(|| Duration::from_millis(ms as u64));
    Ok(sock.set_tcp_user_timeout(d))
}
#[cfg(any(target_os = "linux", target_os = "android"))]
fn user_timeout_get(sock: &Socket) -> Result<std::io::Result<i64>> {
    Ok(sock
        .tcp_user_timeout()
        .map(|d| d.map(|d| d.as_millis() as i64).unwrap_or(0)))
}
#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn user_timeout_set(_: &Socket, _: i64) -> Result<std::io::Result<()>> {
    Err(Error::Unsupported(
        "tcp_user_timeout exists only on Linux and Android".into(),
    ))
}
#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn user_timeout_get(_: &Socket) -> Result<std::io::Result<i64>> {
    Err(Error::Unsupported(
        "tcp_user_timeout exists only on Linux and Android".into(),
    ))
}

/// Bind the socket to a network device (SO_BINDTODEVICE, Linux; needs CAP_NET_RAW except for
/// the device it is already on). An empty name unbinds.
pub fn set_bind_device(sock: &Socket, device: &str) -> Result<()> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        let d = (!device.is_empty()).then_some(device.as_bytes());
        sock.bind_device(d)
            .map_err(|e| os(&format!("bind to device {device:?}"), e))
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    {
        let _ = (sock, device);
        Err(Error::Unsupported(
            "binding to a device exists only on Linux and Android".into(),
        ))
    }
}

/// The device the socket is bound to (empty when none).
pub fn bind_device(sock: &Socket) -> Result<String> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        let d = sock.device().map_err(|e| os("get bound device", e))?;
        Ok(d.map(|v| String::from_utf8_lossy(&v).into_owned())
            .unwrap_or_default())
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    {
        let _ = sock;
        Err(Error::Unsupported(
            "binding to a device exists only on Linux and Android".into(),
        ))
    }
}

/// The outgoing interface for multicast: an IPv4 interface address (v4 sockets) or an interface
/// index (v6 sockets).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MulticastIf {
    /// IPv4: the address of the interface (0.0.0.0 = the default route's).
    V4(Ipv4Addr),
    /// IPv6: the interface index (0 = default).
    V6(u32),
}

/// Set IP_MULTICAST_IF / IPV6_MULTICAST_IF.
pub fn set_multicast_if(sock: &Socket, iface: MulticastIf) -> Result<()> {
    match iface {
        MulticastIf::V4(a) => sock.set_multicast_if_v4(&a),
        MulticastIf::V6(i) => sock.set_multicast_if_v6(i),
    }
    .map_err(|e| os("set multicast interface", e))
}

/// Read IP_MULTICAST_IF / IPV6_MULTICAST_IF back.
pub fn multicast_if(sock: &Socket) -> Result<MulticastIf> {
    if is_v6(sock)? {
        sock.multicast_if_v6()
            .map(MulticastIf::V6)
            .map_err(|e| os("get multicast interface", e))
    } else {
        sock.multicast_if_v4()
            .map(MulticastIf::V4)
            .map_err(|e| os("get multicast interface", e))
    }
}

/// Keepalive settings: idle time before the first probe, interval between probes, probe count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Keepalive {
    /// Idle time before the first probe (whole seconds are used).
    pub idle: Option<Duration>,
    /// Time between probes (whole seconds are used).
    pub interval: Option<Duration>,
    /// Unanswered probes before the connection is declared dead.
    pub count: Option<u32>,
}

/// Options applied to a socket before bind/connect. `None` leaves the OS default.
///
/// ```
/// use libsock::SocketOptions;
/// use std::time::Duration;
/// let opts = SocketOptions::new()
///     .nodelay(true)
///     .keepalive(Duration::from_secs(30), Duration::from_secs(5), 3)
///     .recv_buffer_size(1 << 20);
/// assert_eq!(opts.nodelay, Some(true));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SocketOptions {
    /// TCP_NODELAY.
    pub nodelay: Option<bool>,
    /// SO_KEEPALIVE with its timings (`Some(Keepalive::default())` = on with OS timings).
    pub keepalive: Option<Keepalive>,
    /// SO_LINGER: `Some(None)` off, `Some(Some(0s))` abortive close, `Some(Some(d))` wait.
    pub linger: Option<Option<Duration>>,
    /// SO_RCVBUF.
    pub recv_buffer_size: Option<usize>,
    /// SO_SNDBUF.
    pub send_buffer_size: Option<usize>,
    /// SO_REUSEADDR (listeners set it by default).
    pub reuse_address: Option<bool>,
    /// SO_REUSEPORT.
    pub reuse_port: Option<bool>,
    /// IP_TTL / IPV6_UNICAST_HOPS.
    pub ttl: Option<u32>,
    /// IP_TOS / IPV6_TCLASS.
    pub tos: Option<u32>,
    /// IPV6_V6ONLY (listeners on `[::]` are dual-stack unless this is true).
    pub v6_only: Option<bool>,
    /// SO_BROADCAST.
    pub broadcast: Option<bool>,
    /// Multicast TTL / hops.
    pub multicast_ttl: Option<u32>,
    /// Multicast loopback.
    pub multicast_loop: Option<bool>,
    /// Outgoing multicast interface.
    pub multicast_if: Option<MulticastIf>,
    /// TCP_USER_TIMEOUT (Linux).
    pub tcp_user_timeout: Option<Duration>,
    /// SO_BINDTODEVICE (Linux).
    pub bind_device: Option<String>,
    /// Local address a client binds before connecting (port 0 = any).
    pub local_addr: Option<std::net::SocketAddr>,
}

impl SocketOptions {
    /// No options: OS defaults everywhere.
    pub fn new() -> SocketOptions {
        SocketOptions::default()
    }
    /// Set TCP_NODELAY.
    pub fn nodelay(mut self, on: bool) -> Self {
        self.nodelay = Some(on);
        self
    }
    /// Turn keepalive on with these timings.
    pub fn keepalive(mut self, idle: Duration, interval: Duration, count: u32) -> Self {
        self.keepalive = Some(Keepalive {
            idle: Some(idle),
            interval: Some(interval),
            count: Some(count),
        });
        self
    }
    /// Set SO_LINGER (`Some(Duration::ZERO)` = abortive close).
    pub fn linger(mut self, linger: Option<Duration>) -> Self {
        self.linger = Some(linger);
        self
    }
    /// Set SO_RCVBUF.
    pub fn recv_buffer_size(mut self, n: usize) -> Self {
        self.recv_buffer_size = Some(n);
        self
    }
    /// Set SO_SNDBUF.
    pub fn send_buffer_size(mut self, n: usize) -> Self {
        self.send_buffer_size = Some(n);
        self
    }
    /// Set SO_REUSEADDR.
    pub fn reuse_address(mut self, on: bool) -> Self {
        self.reuse_address = Some(on);
        self
    }
    /// Set SO_REUSEPORT.
    pub fn reuse_port(mut self, on: bool) -> Self {
        self.reuse_port = Some(on);
        self
    }
    /// Set the TTL / hop limit.
    pub fn ttl(mut self, ttl: u32) -> Self {
        self.ttl = Some(ttl);
        self
    }
    /// Set IP_TOS / IPV6_TCLASS.
    pub fn tos(mut self, tos: u32) -> Self {
        self.tos = Some(tos);
        self
    }
    /// Set IPV6_V6ONLY.
    pub fn v6_only(mut self, on: bool) -> Self {
        self.v6_only = Some(on);
        self
    }
    /// Set SO_BROADCAST.
    pub fn broadcast(mut self, on: bool) -> Self {
        self.broadcast = Some(on);
        self
    }
    /// Set the multicast TTL / hops.
    pub fn multicast_ttl(mut self, ttl: u32) -> Self {
        self.multicast_ttl = Some(ttl);
        self
    }
    /// Set multicast loopback.
    pub fn multicast_loop(mut self, on: bool) -> Self {
        self.multicast_loop = Some(on);
        self
    }
    /// Set the outgoing multicast interface.
    pub fn multicast_if(mut self, iface: MulticastIf) -> Self {
        self.multicast_if = Some(iface);
        self
    }
    /// Set TCP_USER_TIMEOUT.
    pub fn tcp_user_timeout(mut self, d: Duration) -> Self {
        self.tcp_user_timeout = Some(d);
        self
    }
    /// Bind to a network device.
    pub fn bind_device(mut self, dev: impl Into<String>) -> Self {
        self.bind_device = Some(dev.into());
        self
    }
    /// Bind a client to this local address before connecting.
    pub fn local_addr(mut self, addr: std::net::SocketAddr) -> Self {
        self.local_addr = Some(addr);
        self
    }

    /// Set one option by number/name, as the C and Python doors do.
    pub fn set(&mut self, opt: SockOpt, value: i64) -> Result<()> {
        let b = || match value {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(Error::invalid(format!(
                "option {} takes 0 or 1, got {value}",
                opt.name()
            ))),
        };
        let ka = |s: &mut SocketOptions| {
            s.keepalive
                .get_or_insert_with(Keepalive::default)
                .to_owned()
        };
        match opt {
            SockOpt::NoDelay => self.nodelay = Some(b()?),
            SockOpt::KeepAlive => {
                self.keepalive = if b()? {
                    Some(self.keepalive.unwrap_or_default())
                } else {
                    None
                }
            }
            SockOpt::KeepIdle => {
                let mut k = ka(self);
                k.idle = Some(secs(opt, value)?);
                self.keepalive = Some(k);
            }
            SockOpt::KeepInterval => {
                let mut k = ka(self);
                k.interval = Some(secs(opt, value)?);
                self.keepalive = Some(k);
            }
            SockOpt::KeepCount => {
                let mut k = ka(self);
                k.count = Some(to_u32(opt, value)?);
                self.keepalive = Some(k);
            }
            SockOpt::Linger => {
                self.linger = Some(match value {
                    -1 => None,
                    v if v >= 0 => Some(Duration::from_secs(v as u64)),
                    v => return Err(Error::invalid(format!("linger {v}"))),
                })
            }
            SockOpt::RecvBuffer => self.recv_buffer_size = Some(positive(opt, value)?),
            SockOpt::SendBuffer => self.send_buffer_size = Some(positive(opt, value)?),
            SockOpt::ReuseAddress => self.reuse_address = Some(b()?),
            SockOpt::ReusePort => self.reuse_port = Some(b()?),
            SockOpt::Ttl => self.ttl = Some(to_u32(opt, value)?),
            SockOpt::Tos => self.tos = Some(to_u32(opt, value)?),
            SockOpt::V6Only => self.v6_only = Some(b()?),
            SockOpt::Broadcast => self.broadcast = Some(b()?),
            SockOpt::MulticastTtl => self.multicast_ttl = Some(to_u32(opt, value)?),
            SockOpt::MulticastLoop => self.multicast_loop = Some(b()?),
            SockOpt::UserTimeout => {
                self.tcp_user_timeout = Some(Duration::from_millis(to_u32(opt, value)? as u64))
            }
        }
        Ok(())
    }

    /// Apply every option that is set to `sock` (the local address is the caller's business:
    /// clients bind it before connecting).
    pub fn apply(&self, sock: &Socket) -> Result<()> {
        let bi = |v: bool| v as i64;
        if let Some(v) = self.reuse_address {
            set_option(sock, SockOpt::ReuseAddress, bi(v))?;
        }
        if let Some(v) = self.reuse_port {
            set_option(sock, SockOpt::ReusePort, bi(v))?;
        }
        if let Some(v) = self.v6_only {
            set_option(sock, SockOpt::V6Only, bi(v))?;
        }
        if let Some(v) = self.nodelay {
            set_option(sock, SockOpt::NoDelay, bi(v))?;
        }
        if let Some(k) = self.keepalive {
            set_option(sock, SockOpt::KeepAlive, 1)?;
            if let Some(d) = k.idle {
                set_option(sock, SockOpt::KeepIdle, d.as_secs().max(1) as i64)?;
            }
            if let Some(d) = k.interval {
                set_option(sock, SockOpt::KeepInterval, d.as_secs().max(1) as i64)?;
            }
            if let Some(n) = k.count {
                set_option(sock, SockOpt::KeepCount, n as i64)?;
            }
        }
        if let Some(l) = self.linger {
            set_option(
                sock,
                SockOpt::Linger,
                l.map(|d| d.as_secs() as i64).unwrap_or(-1),
            )?;
        }
        if let Some(n) = self.recv_buffer_size {
            set_option(sock, SockOpt::RecvBuffer, n as i64)?;
        }
        if let Some(n) = self.send_buffer_size {
            set_option(sock, SockOpt::SendBuffer, n as i64)?;
        }
        if let Some(v) = self.ttl {
            set_option(sock, SockOpt::Ttl, v as i64)?;
        }
        if let Some(v) = self.tos {
            set_option(sock, SockOpt::Tos, v as i64)?;
        }
        if let Some(v) = self.broadcast {
            set_option(sock, SockOpt::Broadcast, bi(v))?;
        }
        if let Some(v) = self.multicast_ttl {
            set_option(sock, SockOpt::MulticastTtl, v as i64)?;
        }
        if let Some(v) = self.multicast_loop {
            set_option(sock, SockOpt::MulticastLoop, bi(v))?;
        }
        if let Some(i) = self.multicast_if {
            set_multicast_if(sock, i)?;
        }
        if let Some(d) = self.tcp_user_timeout {
            set_option(sock, SockOpt::UserTimeout, d.as_millis() as i64)?;
        }
        if let Some(dev) = &self.bind_device {
            set_bind_device(sock, dev)?;
        }
        Ok(())
    }

    /// Read every option that applies to `sock` back from the OS (options that do not apply to
    /// this kind of socket stay `None`).
    pub fn read(sock: &Socket) -> SocketOptions {
        let g = |o| get_option(sock, o).ok();
        let gb = |o| g(o).map(|v| v != 0);
        let keepalive = match gb(SockOpt::KeepAlive) {
            Some(true) => Some(Keepalive {
                idle: g(SockOpt::KeepIdle).map(|s| Duration::from_secs(s as u64)),
                interval: g(SockOpt::KeepInterval).map(|s| Duration::from_secs(s as u64)),
                count: g(SockOpt::KeepCount).map(|n| n as u32),
            }),
            _ => None,
        };
        SocketOptions {
            nodelay: gb(SockOpt::NoDelay),
            keepalive,
            linger: g(SockOpt::Linger).map(|s| (s >= 0).then(|| Duration::from_secs(s as u64))),
            recv_buffer_size: g(SockOpt::RecvBuffer).map(|v| v as usize),
            send_buffer_size: g(SockOpt::SendBuffer).map(|v| v as usize),
            reuse_address: gb(SockOpt::ReuseAddress),
            reuse_port: gb(SockOpt::ReusePort),
            ttl: g(SockOpt::Ttl).map(|v| v as u32),
            tos: g(SockOpt::Tos).map(|v| v as u32),
            v6_only: gb(SockOpt::V6Only),
            broadcast: gb(SockOpt::Broadcast),
            multicast_ttl: g(SockOpt::MulticastTtl).map(|v| v as u32),
            multicast_loop: gb(SockOpt::MulticastLoop),
            multicast_if: multicast_if(sock).ok(),
            tcp_user_timeout: g(SockOpt::UserTimeout)
                .filter(|v| *v > 0)
                .map(|v| Duration::from_millis(v as u64)),
            bind_device: bind_device(sock).ok().filter(|d| !d.is_empty()),
            local_addr: sock.local_addr().ok().and_then(|a| a.as_socket()),
        }
    }
}
