//! Options (S12): every `SockOpt` set and read back from the OS on a TCP socket, the UDP ones on
//! a datagram socket; options that do not apply give `Unsupported`; bad values give
//! `InvalidArgument`; `SocketOptions` applied before connect/bind read back.
//!
//! Linux notes: SO_RCVBUF/SO_SNDBUF read back doubled; TCP keeps the ECN bits of IP_TOS for
//! itself; SO_BROADCAST, SO_KEEPALIVE and SO_LINGER are generic socket flags the kernel accepts
//! on any socket; binding to a specific IPv6 address sets IPV6_V6ONLY.

mod common;

use std::time::Duration;

use common::*;
use libsock::{
    ConnectOptions, Connection, Datagram, DatagramOptions, ErrorKind, Framing, ListenOptions,
    Listener, Result, SockOpt, SocketOptions,
};

/// What setting `value` must read back as, or the error kind it must give.
#[derive(Debug, Clone, Copy)]
enum Want {
    Same,
    Is(i64),
    Err(ErrorKind),
}

fn check(
    what: &str,
    set: impl Fn(SockOpt, i64) -> Result<()>,
    get: impl Fn(SockOpt) -> Result<i64>,
    cases: &[(SockOpt, i64, Want)],
) {
    for &(opt, value, want) in cases {
        let r = set(opt, value);
        match want {
            Want::Same | Want::Is(_) => {
                r.unwrap_or_else(|e| panic!("{what}: set {} = {value}: {e}", opt.name()));
                let expect = if let Want::Is(v) = want { v } else { value };
                let got = get(opt).unwrap_or_else(|e| panic!("{what}: get {}: {e}", opt.name()));
                assert_eq!(got, expect, "{what}: {} set to {value}", opt.name());
            }
            Want::Err(kind) => {
                let e = r.expect_err(&format!("{what}: set {} = {value} should fail", opt.name()));
                assert_eq!(e.kind(), kind, "{what}: set {}: {e}", opt.name());
                assert!(
                    e.to_string().contains(opt.name()),
                    "{what}: the message names the option: {e}"
                );
                if kind == ErrorKind::Unsupported {
                    // Reading an option that does not apply is refused the same way.
                    let e = get(opt).expect_err(&format!("{what}: get {} should fail", opt.name()));
                    assert_eq!(e.kind(), kind, "{what}: get {}: {e}", opt.name());
                }
            }
        }
    }
}

fn covers_all(cases: &[(SockOpt, i64, Want)]) {
    for o in SockOpt::ALL {
        assert!(
            cases.iter().any(|c| c.0 == o),
            "option {} is not tested",
            o.name()
        );
    }
}

/// Every option on a connected IPv4 TCP socket.
#[test]
fn s12_every_option_on_tcp() {
    use Want::*;
    let (c, _s) = tcp_pair(Framing::Raw);
    let cases = [
        (SockOpt::NoDelay, 1, Same),
        (SockOpt::NoDelay, 0, Same),
        (SockOpt::KeepAlive, 1, Same),
        (SockOpt::KeepAlive, 0, Same),
        (SockOpt::KeepIdle, 30, Same),
        (SockOpt::KeepInterval, 5, Same),
        (SockOpt::KeepCount, 3, Same),
        // Setting a keepalive timing turns keepalive on.
        (SockOpt::KeepAlive, 1, Same),
        (SockOpt::Linger, 0, Same),
        (SockOpt::Linger, 7, Same),
        (SockOpt::Linger, -1, Same),
        (SockOpt::RecvBuffer, 65536, Is(131072)),
        (SockOpt::SendBuffer, 65536, Is(131072)),
        (SockOpt::ReuseAddress, 1, Same),
        (SockOpt::ReuseAddress, 0, Same),
        (SockOpt::ReusePort, 1, Same),
        (SockOpt::ReusePort, 0, Same),
        (SockOpt::Ttl, 17, Same),
        (SockOpt::Ttl, 255, Same),
        (SockOpt::Tos, 0x10, Same),
        (SockOpt::Tos, 0xB9, Is(0xB8)), // TCP owns the two ECN bits
        (SockOpt::V6Only, 1, Err(ErrorKind::Unsupported)),
        (SockOpt::Broadcast, 1, Same), // a generic flag on Linux, meaningless for TCP
        (SockOpt::Broadcast, 0, Same),
        (SockOpt::MulticastTtl, 4, Err(ErrorKind::Unsupported)),
        (SockOpt::MulticastLoop, 0, Err(ErrorKind::Unsupported)),
        (SockOpt::UserTimeout, 5000, Same),
        (SockOpt::UserTimeout, 0, Same),
    ];
    covers_all(&cases);
    check(
        "tcp",
        |o, v| c.set_option(o, v),
        |o| c.get_option(o),
        &cases,
    );
    // Setting keepalive timings turns keepalive on.
    c.set_option(SockOpt::KeepAlive, 0).unwrap();
    c.set_option(SockOpt::KeepIdle, 12).unwrap();
    assert_eq!(c.get_option(SockOpt::KeepAlive).unwrap(), 1);
    // The connection still works after all that.
    c.send_all(b"ok").unwrap();
    assert_eq!(&_s.recv_exact(2).unwrap()[..], b"ok");
}

/// Bad values are InvalidArgument, naming the option and the value.
#[test]
fn bad_option_values_are_invalid_argument() {
    use Want::*;
    let (c, _s) = tcp_pair(Framing::Raw);
    let inv = Err(ErrorKind::InvalidArgument);
    let cases = [
        (SockOpt::NoDelay, 2, inv),
        (SockOpt::KeepAlive, -1, inv),
        (SockOpt::KeepIdle, 0, inv),
        (SockOpt::KeepInterval, -5, inv),
        (SockOpt::KeepCount, 0, inv),
        (SockOpt::Linger, -2, inv),
        (SockOpt::RecvBuffer, 0, inv),
        (SockOpt::SendBuffer, -1, inv),
        (SockOpt::SendBuffer, 1 << 40, inv),
        (SockOpt::Ttl, 0, inv),
        (SockOpt::Ttl, 256, inv),
        (SockOpt::Tos, 256, inv),
        (SockOpt::UserTimeout, -1, inv),
    ];
    for &(opt, value, _) in &cases {
        let e = expect_kind(c.set_option(opt, value), ErrorKind::InvalidArgument);
        let text = e.to_string();
        assert!(
            text.contains(opt.name()) || text.contains(&value.to_string()),
            "{text}"
        );
    }
    // The options were left alone.
    assert_eq!(c.get_option(SockOpt::Ttl).unwrap(), 64);
}

/// The UDP options on a datagram socket, and the TCP-only ones refused as Unsupported.
#[test]
fn s12_every_option_on_udp() {
    use Want::*;
    let d = Datagram::bind("127.0.0.1:0").unwrap();
    let uns = Err(ErrorKind::Unsupported);
    let cases = [
        (SockOpt::Broadcast, 1, Same),
        (SockOpt::Broadcast, 0, Same),
        (SockOpt::MulticastTtl, 4, Same),
        (SockOpt::MulticastTtl, 0, Same),
        (SockOpt::MulticastLoop, 0, Same),
        (SockOpt::MulticastLoop, 1, Same),
        (SockOpt::Ttl, 9, Same),
        (SockOpt::Tos, 0xB9, Same), // UDP keeps every bit
        (SockOpt::RecvBuffer, 100_000, Is(200_000)),
        (SockOpt::SendBuffer, 100_000, Is(200_000)),
        (SockOpt::ReuseAddress, 1, Same),
        (SockOpt::ReusePort, 1, Same),
        (SockOpt::KeepAlive, 1, Same), // generic flag, accepted
        (SockOpt::Linger, 3, Same),    // generic, accepted
        (SockOpt::NoDelay, 1, uns),
        (SockOpt::KeepIdle, 10, uns),
        (SockOpt::KeepInterval, 10, uns),
        (SockOpt::KeepCount, 2, uns),
        (SockOpt::UserTimeout, 100, uns),
        (SockOpt::V6Only, 1, uns),
    ];
    covers_all(&cases);
    check(
        "udp",
        |o, v| d.set_option(o, v),
        |o| d.get_option(o),
        &cases,
    );
    // The whole set read back at once.
    let all = d.options().unwrap();
    assert_eq!(all.broadcast, Some(false));
    assert_eq!(all.multicast_ttl, Some(0));
    assert_eq!(all.ttl, Some(9));
    assert_eq!(all.nodelay, None, "TCP options do not apply");
}

/// On Unix stream sockets the IP and TCP options are Unsupported; buffer sizes work.
#[test]
fn options_on_unix_stream() {
    use Want::*;
    let (u, _v) = Connection::pair().unwrap();
    let uns = Err(ErrorKind::Unsupported);
    let cases = [
        (SockOpt::RecvBuffer, 65536, Is(131072)),
        (SockOpt::SendBuffer, 65536, Is(131072)),
        (SockOpt::NoDelay, 1, uns),
        (SockOpt::KeepIdle, 10, uns),
        (SockOpt::Ttl, 10, uns),
        (SockOpt::Tos, 0x10, uns),
        (SockOpt::V6Only, 1, uns),
        (SockOpt::MulticastTtl, 1, uns),
        (SockOpt::MulticastLoop, 1, uns),
        (SockOpt::UserTimeout, 100, uns),
    ];
    check(
        "unix",
        |o, v| u.set_option(o, v),
        |o| u.get_option(o),
        &cases,
    );
    // Linux refuses to set SO_REUSEPORT on a Unix socket (EOPNOTSUPP) but reads it back as 0.
    expect_kind(u.set_option(SockOpt::ReusePort, 1), ErrorKind::Unsupported);
    assert_eq!(u.get_option(SockOpt::ReusePort).unwrap(), 0);
}

/// IPV6_V6ONLY on v6 listeners: [::] is dual-stack by default, v6-only on request; a specific
/// v6 address is v6-only (the kernel sets it at bind).
#[test]
fn v6_only_read_back() {
    let dual = Listener::bind("[::]:0").unwrap();
    assert_eq!(dual.get_option(SockOpt::V6Only).unwrap(), 0);
    let only = Listener::bind_with("[::]:0", &ListenOptions::new().dualstack(false)).unwrap();
    assert_eq!(only.get_option(SockOpt::V6Only).unwrap(), 1);
    let lo6 = Listener::bind("[::1]:0").unwrap();
    assert_eq!(lo6.get_option(SockOpt::V6Only).unwrap(), 1);
    // Too late to change once bound.
    expect_kind(
        dual.set_option(SockOpt::V6Only, 1),
        ErrorKind::InvalidArgument,
    );
    // A v6 TCP connection: TTL means the hop limit, TOS the traffic class.
    let c = Connection::connect_timeout(
        dual.local_addr()
            .unwrap()
            .to_string()
            .replace("[::]", "[::1]"),
        SLOW,
    )
    .unwrap();
    c.set_option(SockOpt::Ttl, 42).unwrap();
    assert_eq!(c.get_option(SockOpt::Ttl).unwrap(), 42);
    c.set_option(SockOpt::Tos, 0x20).unwrap();
    assert_eq!(c.get_option(SockOpt::Tos).unwrap(), 0x20);
}

/// SocketOptions given before connect are in force, read back from the OS; listener options
/// too.
#[test]
fn socket_options_applied_before_connect_and_bind() {
    let l = Listener::bind_with(
        "127.0.0.1:0",
        &ListenOptions::new()
            .reuse_port(true)
            .options(SocketOptions::new().recv_buffer_size(50_000)),
    )
    .unwrap();
    assert_eq!(l.get_option(SockOpt::ReusePort).unwrap(), 1);
    assert_eq!(
        l.get_option(SockOpt::ReuseAddress).unwrap(),
        1,
        "listeners reuse by default"
    );
    assert_eq!(l.get_option(SockOpt::RecvBuffer).unwrap(), 100_000);
    let opts = SocketOptions::new()
        .nodelay(true)
        .keepalive(Duration::from_secs(40), Duration::from_secs(6), 4)
        .linger(Some(Duration::ZERO))
        .recv_buffer_size(70_000)
        .send_buffer_size(80_000)
        .ttl(33)
        .tos(0x10)
        .tcp_user_timeout(Duration::from_millis(4500))
        .local_addr("127.0.0.2:0".parse().unwrap());
    let c = Connection::connect_with(
        l.local_addr().unwrap(),
        &ConnectOptions::new().connect_timeout(SLOW).options(opts),
    )
    .unwrap();
    let (_s, peer) = l.accept(Some(SLOW)).unwrap();
    assert_eq!(
        peer.as_inet().unwrap().ip().to_string(),
        "127.0.0.2",
        "local bind address used"
    );
    let got = c.options().unwrap();
    assert_eq!(got.nodelay, Some(true));
    let ka = got.keepalive.expect("keepalive on");
    assert_eq!(ka.idle, Some(Duration::from_secs(40)));
    assert_eq!(ka.interval, Some(Duration::from_secs(6)));
    assert_eq!(ka.count, Some(4));
    assert_eq!(got.linger, Some(Some(Duration::ZERO)));
    assert_eq!(got.recv_buffer_size, Some(140_000));
    assert_eq!(got.send_buffer_size, Some(160_000));
    assert_eq!(got.ttl, Some(33));
    assert_eq!(got.tos, Some(0x10));
    assert_eq!(got.tcp_user_timeout, Some(Duration::from_millis(4500)));
    assert_eq!(got.local_addr.unwrap().ip().to_string(), "127.0.0.2");
    assert_eq!(got.multicast_ttl, None, "multicast does not apply to TCP");
    // The same by number, as the C ABI does it.
    assert_eq!(
        c.get_option(SockOpt::from_number(17).unwrap()).unwrap(),
        4500
    );
    // apply_options after connect.
    c.apply_options(&SocketOptions::new().nodelay(false).ttl(20))
        .unwrap();
    assert_eq!(c.get_option(SockOpt::NoDelay).unwrap(), 0);
    assert_eq!(c.get_option(SockOpt::Ttl).unwrap(), 20);
    // An option that does not apply, given before binding, fails the bind clearly.
    let e = expect_kind(
        Datagram::bind_with(
            "127.0.0.1:0",
            &DatagramOptions {
                options: SocketOptions::new().nodelay(true),
                ..Default::default()
            },
        ),
        ErrorKind::Unsupported,
    );
    assert!(e.to_string().contains("nodelay"), "{e}");
}

/// SO_BINDTODEVICE "lo" (needs CAP_NET_RAW: as root it must work; otherwise it must be refused
/// with EPERM, not ignored).
#[test]
fn bind_device_lo() {
    let l = Listener::bind("127.0.0.1:0").unwrap();
    let r = Connection::connect_with(
        l.local_addr().unwrap(),
        &ConnectOptions::new()
            .connect_timeout(SLOW)
            .options(SocketOptions::new().bind_device("lo")),
    );
    let root = unsafe { libc::geteuid() } == 0;
    match r {
        Ok(c) => assert_eq!(c.options().unwrap().bind_device.as_deref(), Some("lo")),
        Err(e) => {
            assert!(!root, "root may bind to a device: {e}");
            assert_eq!(e.os_error(), Some(libc::EPERM), "{e}");
        }
    }
}

/// Options by number and by name round-trip; unknown ones are InvalidArgument.
#[test]
fn option_numbers_and_names() {
    for o in SockOpt::ALL {
        assert_eq!(SockOpt::from_number(o.number()).unwrap(), o);
        assert_eq!(SockOpt::from_name(o.name()).unwrap(), o);
    }
    expect_kind(SockOpt::from_number(0), ErrorKind::InvalidArgument);
    expect_kind(SockOpt::from_number(999), ErrorKind::InvalidArgument);
    let e = expect_kind(SockOpt::from_name("no_such"), ErrorKind::InvalidArgument);
    assert!(
        e.to_string().contains("nodelay"),
        "the message lists the known names: {e}"
    );
}
