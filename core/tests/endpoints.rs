//! Endpoints and address errors: malformed endpoints through connect/bind (S08-style bad input),
//! connection refused (S02), address in use (TCP, Unix live and stale), address not available,
//! resolve failures, dual-stack listeners, Unix stream sockets at paths and abstract names.

mod common;

use std::net::{SocketAddr, TcpListener};
use std::time::Duration;

use common::*;
use libsock::{Addr, ConnectOptions, Connection, Datagram, ErrorKind, ListenOptions, Listener};

/// Malformed endpoints are InvalidArgument from connect, bind and datagram bind, with a message
/// naming the bad part; nothing is resolved or opened.
#[test]
fn malformed_endpoints_name_the_bad_part() {
    let cases = [
        ("localhost", "missing port"),
        ("127.0.0.1:", "empty port"),
        ("127.0.0.1:http", "not a number"),
        ("127.0.0.1:65536", "out of range"),
        ("::1:80", "brackets"),
        ("[::1:80", "']'"),
        ("[::1]80", "':port'"),
        ("[not-v6]:80", "not an IPv6"),
        (":80", "empty host"),
        ("bad host:80", "character"),
        ("unix:", "empty"),
        ("unix:@", "empty"),
    ];
    for (text, part) in cases {
        let e = expect_kind(Connection::connect(text), ErrorKind::InvalidArgument);
        assert!(e.to_string().contains(part), "connect {text:?}: {e}");
        let e = expect_kind(Listener::bind(text), ErrorKind::InvalidArgument);
        assert!(e.to_string().contains(part), "bind {text:?}: {e}");
        let e = expect_kind(Datagram::bind(text), ErrorKind::InvalidArgument);
        assert!(e.to_string().contains(part), "datagram bind {text:?}: {e}");
        let e = expect_kind(Datagram::connect(text), ErrorKind::InvalidArgument);
        assert!(
            e.to_string().contains(part),
            "datagram connect {text:?}: {e}"
        );
    }
    // (host, port) pairs are checked too.
    let e = expect_kind(Connection::connect(("a/b", 80)), ErrorKind::InvalidArgument);
    assert!(e.to_string().contains("'/'"), "{e}");
    expect_kind(Connection::connect(("", 80)), ErrorKind::InvalidArgument);
    // A Unix path longer than sun_path, and an abstract name too long, are refused by name.
    let long_path = format!("unix:/tmp/{}", "x".repeat(200));
    let e = expect_kind(Listener::bind(&long_path), ErrorKind::InvalidArgument);
    assert!(e.to_string().contains("xxxx"), "{e}");
    expect_kind(Connection::connect(&long_path), ErrorKind::InvalidArgument);
    expect_kind(Datagram::bind(&long_path), ErrorKind::InvalidArgument);
    let e = expect_kind(
        Listener::bind(format!("unix:@{}", "y".repeat(200))),
        ErrorKind::InvalidArgument,
    );
    assert!(e.to_string().contains("abstract"), "{e}");
    let long = "a".repeat(300);
    let e = expect_kind(
        Listener::bind((long.as_str(), 1)),
        ErrorKind::InvalidArgument,
    );
    assert!(e.to_string().contains("253"), "{e}");
}

/// A free port: bound by std, then released.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// S02: connecting to a port nobody listens on is ConnectionRefused, naming the address.
#[test]
fn s02_connection_refused_names_the_address() {
    let port = free_port();
    let e = expect_kind(
        Connection::connect_timeout(format!("127.0.0.1:{port}"), SLOW),
        ErrorKind::ConnectionRefused,
    );
    assert!(e.to_string().contains(&format!("127.0.0.1:{port}")), "{e}");
    assert_eq!(e.os_error(), Some(libc::ECONNREFUSED));
    assert_eq!(e.code(), -2);
    // Through a name with two addresses (::1 and 127.0.0.1): both tried, still refused.
    let e = expect_kind(
        Connection::connect_timeout(format!("localhost:{port}"), SLOW),
        ErrorKind::ConnectionRefused,
    );
    assert!(e.to_string().contains("tried 2 addresses"), "{e}");
    // A Unix socket file nobody listens on (stale) is refused too.
    let dir = TempDir::new("refused");
    let p = dir.path("stale.sock");
    drop(std::os::unix::net::UnixListener::bind(&p).unwrap());
    let e = expect_kind(
        Connection::connect(format!("unix:{}", p.display())),
        ErrorKind::ConnectionRefused,
    );
    assert!(e.to_string().contains("stale.sock"), "{e}");
    // No file at all: the OS says ENOENT; the message names the path.
    let e = Connection::connect(format!("unix:{}", dir.path("none.sock").display())).unwrap_err();
    assert_eq!(e.os_error(), Some(libc::ENOENT), "{e}");
    assert!(e.to_string().contains("none.sock"), "{e}");
}

/// A name tries every address: a server on 127.0.0.1 only is reached through "localhost" even
/// though ::1 comes first.
#[test]
fn localhost_tries_every_address() {
    let l = Listener::bind("127.0.0.1:0").unwrap();
    let port = port_of(&l.local_addr().unwrap());
    let c = Connection::connect_timeout(("localhost", port), SLOW).unwrap();
    assert_eq!(
        c.peer_addr().as_inet().unwrap().ip().to_string(),
        "127.0.0.1"
    );
    l.accept(Some(SLOW)).unwrap();
}

/// A host name that does not resolve is a Resolve error (or Timeout, if the resolver is slow),
/// within the connect timeout.
#[test]
fn unresolvable_host() {
    let t0 = std::time::Instant::now();
    let e = Connection::connect_with(
        "no-such-host.invalid:80",
        &ConnectOptions::new().connect_timeout(Duration::from_secs(3)),
    )
    .unwrap_err();
    assert!(
        matches!(e.kind(), ErrorKind::Resolve | ErrorKind::Timeout),
        "{e}"
    );
    assert!(e.to_string().contains("no-such-host.invalid"), "{e}");
    assert!(t0.elapsed() < Duration::from_secs(7));
}

/// TCP: a port bound by someone else is AddrInUse (even with SO_REUSEADDR, which listeners set);
/// an address that is not on this host is AddrNotAvailable.
#[test]
fn tcp_addr_in_use_and_not_available() {
    let std_l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = std_l.local_addr().unwrap().port();
    let e = expect_kind(
        Listener::bind(format!("127.0.0.1:{port}")),
        ErrorKind::AddrInUse,
    );
    assert!(e.to_string().contains(&format!("127.0.0.1:{port}")), "{e}");
    assert_eq!(e.code(), -6);
    let d = Datagram::bind("127.0.0.1:0").unwrap();
    expect_kind(
        Datagram::bind(d.local_addr().unwrap()),
        ErrorKind::AddrInUse,
    );
    let e = expect_kind(Listener::bind("203.0.113.7:0"), ErrorKind::AddrNotAvailable);
    assert!(e.to_string().contains("203.0.113.7"), "{e}");
}

/// Unix stream at a path in a temp dir: connect, talk, addresses; a path bound by a live server
/// is AddrInUse; a stale socket file is AddrInUse unless remove_stale; a regular file is never
/// removed; closing the listener removes its file.
#[test]
fn unix_stream_paths_live_and_stale() {
    let dir = TempDir::new("ustream");
    let p = dir.path("srv.sock");
    let ep = format!("unix:{}", p.display());
    let l = Listener::bind(&ep).unwrap();
    assert_eq!(l.local_addr().unwrap(), Addr::Unix(Some(p.clone())));
    let c = Connection::connect(&ep).unwrap();
    c.set_timeout(Some(SLOW));
    let (s, peer) = l.accept(Some(SLOW)).unwrap();
    assert_eq!(peer, Addr::Unix(None), "a connecting client is unnamed");
    assert!(c.is_unix() && s.is_unix());
    assert_eq!(c.peer_addr(), Addr::Unix(Some(p.clone())));
    c.send_all(b"over unix").unwrap();
    assert_eq!(&s.recv_exact(9).unwrap()[..], b"over unix");

    // Live server: AddrInUse, whatever remove_stale says; the live socket is untouched.
    let e = expect_kind(Listener::bind(&ep), ErrorKind::AddrInUse);
    assert!(e.to_string().contains("live"), "{e}");
    expect_kind(
        Listener::bind_with(&ep, &ListenOptions::new().remove_stale(true)),
        ErrorKind::AddrInUse,
    );
    let c2 = Connection::connect(&ep).unwrap();
    l.accept(Some(SLOW)).unwrap();
    drop(c2);

    // Closing the listener removes the file.
    l.close();
    assert!(!p.exists());

    // Stale file (std leaves it behind): AddrInUse unless asked to remove it.
    drop(std::os::unix::net::UnixListener::bind(&p).unwrap());
    assert!(p.exists());
    let e = expect_kind(Listener::bind(&ep), ErrorKind::AddrInUse);
    assert!(e.to_string().contains("stale"), "{e}");
    let l = Listener::bind_with(&ep, &ListenOptions::new().remove_stale(true)).unwrap();
    let _c = Connection::connect(&ep).unwrap();
    l.accept(Some(SLOW)).unwrap();
    drop(l);

    // A regular file is in the way: never removed.
    let f = dir.path("file.sock");
    std::fs::write(&f, b"data").unwrap();
    expect_kind(
        Listener::bind_with(
            format!("unix:{}", f.display()),
            &ListenOptions::new().remove_stale(true),
        ),
        ErrorKind::AddrInUse,
    );
    assert_eq!(std::fs::read(&f).unwrap(), b"data");
}

/// Unix stream with an abstract name (`unix:@name`): no file; a second bind is AddrInUse.
#[test]
fn unix_stream_abstract_name() {
    let name = abstract_name("stream");
    let ep = format!("unix:@{name}");
    let l = Listener::bind(&ep).unwrap();
    assert_eq!(
        l.local_addr().unwrap(),
        Addr::Abstract(name.as_bytes().to_vec())
    );
    expect_kind(Listener::bind(&ep), ErrorKind::AddrInUse);
    let c = Connection::connect(&ep).unwrap();
    let (s, _) = l.accept(Some(SLOW)).unwrap();
    s.set_timeout(Some(SLOW));
    c.send_all(b"abstract").unwrap();
    assert_eq!(&s.recv_exact(8).unwrap()[..], b"abstract");
    assert_eq!(c.peer_addr().to_string(), ep);
    drop(l);
    // Gone with the listener.
    expect_kind(Connection::connect(&ep), ErrorKind::ConnectionRefused);
}

/// A dual-stack listener on [::]:0 accepts a v4 client (reported as 127.0.0.1, not as a
/// v4-mapped v6 address) and a v6 client; with dualstack off, v4 clients are refused.
#[test]
fn dual_stack_listener_accepts_v4_client() {
    let l = Listener::bind("[::]:0").unwrap();
    let port = port_of(&l.local_addr().unwrap());
    let c4 = Connection::connect_timeout(("127.0.0.1", port), SLOW).unwrap();
    let (s4, peer) = l.accept(Some(SLOW)).unwrap();
    let want: SocketAddr = c4.local_addr().unwrap().as_inet().unwrap();
    assert_eq!(peer, Addr::Inet(want));
    assert!(peer.as_inet().unwrap().is_ipv4(), "{peer}");
    assert_eq!(peer.as_inet().unwrap().ip().to_string(), "127.0.0.1");
    assert_eq!(s4.peer_addr(), peer);
    c4.send_all(b"v4").unwrap();
    s4.set_timeout(Some(SLOW));
    assert_eq!(&s4.recv_exact(2).unwrap()[..], b"v4");
    // The accepted socket's local address is v4 too.
    assert!(s4.local_addr().unwrap().as_inet().unwrap().is_ipv4());

    let c6 = Connection::connect_timeout(format!("[::1]:{port}"), SLOW).unwrap();
    let (_s6, peer6) = l.accept(Some(SLOW)).unwrap();
    assert_eq!(peer6.as_inet().unwrap().ip().to_string(), "::1");
    drop(c6);

    let only6 = Listener::bind_with("[::]:0", &ListenOptions::new().dualstack(false)).unwrap();
    let port6 = port_of(&only6.local_addr().unwrap());
    expect_kind(
        Connection::connect_timeout(("127.0.0.1", port6), SLOW),
        ErrorKind::ConnectionRefused,
    );
}

/// Addresses print in a form that parses back as an endpoint (what the doors show users).
#[test]
fn addresses_round_trip_through_text() {
    let l = Listener::bind("[::1]:0").unwrap();
    let a = l.local_addr().unwrap();
    let text = a.to_string();
    assert!(text.starts_with("[::1]:"), "{text}");
    let c = Connection::connect(&text).unwrap();
    assert_eq!(c.peer_addr(), a);
}
