//! Timeouts (S03, S11), connect to a full backlog, close from another thread (S17), and "nothing
//! is lost": a too-small buffer (S09) or a timeout in the middle of a read keeps the data.
//!
//! Time bounds are loose on purpose (the machine is shared): a timeout must come after about the
//! asked time and within twice it; "promptly" means within a few seconds.

mod common;

use std::io::Write;
use std::net::TcpListener;
use std::time::{Duration, Instant};

use common::*;
use libsock::{
    ConnectOptions, Connection, Datagram, ErrorKind, Framing, ListenOptions, Listener, Result,
};

const ASKED: Duration = Duration::from_millis(200);

/// S03: recv from a silent `std::net` peer times out after about 200 ms, through every receive
/// call; afterwards the connection still works both ways.
#[test]
fn s03_recv_timeout_silent_peer_then_connection_still_works() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let c = Connection::connect_with(
        ("127.0.0.1", port),
        &ConnectOptions::new()
            .connect_timeout(Duration::from_secs(5))
            .framing(Framing::lines()),
    )
    .unwrap();
    let (mut peer, _) = l.accept().unwrap();
    let mut buf = [0u8; 16];
    assert_times_out(ASKED, || c.with_timeout(ASKED).recv_into(&mut buf));
    assert_times_out(ASKED, || c.with_timeout(ASKED).recv_msg());
    assert_times_out(ASKED, || c.with_timeout(ASKED).recv_exact(3));
    assert_times_out(ASKED, || c.with_timeout(ASKED).recv_until(b"\n", 100));
    assert_times_out(ASKED, || c.with_timeout(ASKED).recv_msgs(10));
    // The default timeout applies when none is given for the call.
    c.set_timeout(Some(ASKED));
    assert_eq!(c.timeout(), Some(ASKED));
    assert_times_out(ASKED, || c.recv_msg());
    let e = c.recv_msg().unwrap_err();
    let text = e.to_string();
    assert!(
        text.contains("200 ms") && text.contains(&format!("127.0.0.1:{port}")),
        "{text}"
    );
    // Zero means poll once.
    let t0 = Instant::now();
    expect_kind(
        c.with_timeout(Duration::ZERO).recv_into(&mut buf),
        ErrorKind::Timeout,
    );
    assert!(t0.elapsed() < Duration::from_millis(150));
    // Still works.
    peer.write_all(b"hello\n").unwrap();
    assert_eq!(&c.recv_msg().unwrap()[..], b"hello");
    c.send_msg(b"back").unwrap();
    let mut got = [0u8; 5];
    std::io::Read::read_exact(&mut peer, &mut got).unwrap();
    assert_eq!(&got, b"back\n");
}

/// S11: a listener on port 0 reports its real port; accept with no client times out.
#[test]
fn s11_accept_timeout_with_no_client() {
    let l = Listener::bind("127.0.0.1:0").unwrap();
    let port = port_of(&l.local_addr().unwrap());
    assert_ne!(port, 0);
    // The port is really bound: std can connect to it.
    let _probe = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let (_c, peer) = l.accept(Some(SLOW)).unwrap();
    assert_eq!(peer.as_inet().unwrap().ip().to_string(), "127.0.0.1");
    let asked = Duration::from_millis(300);
    assert_times_out(asked, || l.accept(Some(asked)));
    let e = l.accept(Some(Duration::from_millis(10))).unwrap_err();
    assert!(
        e.to_string()
            .contains(&format!("accept on 127.0.0.1:{port}")),
        "{e}"
    );
}

/// Fill a listener's queue (backlog 0: the kernel then queues one connection) until a connect
/// times out, keeping the connections alive; returns them.
fn fill_backlog(endpoint: &str) -> Vec<Connection> {
    let mut held = Vec::new();
    for _ in 0..64 {
        match Connection::connect_timeout(endpoint, Duration::from_millis(150)) {
            Ok(c) => held.push(c),
            Err(e) if e.kind() == ErrorKind::Timeout => return held,
            Err(e) => panic!("filling the backlog of {endpoint}: {e}"),
        }
    }
    panic!("64 connections to {endpoint} went through a backlog of 0");
}

/// A connect to a TCP listener whose queue is full (it never accepts) times out after the asked
/// 300 ms, well below the OS's SYN-retry time.
#[test]
fn connect_to_full_tcp_backlog_times_out() {
    let l = Listener::bind_with("127.0.0.1:0", &ListenOptions::new().backlog(0)).unwrap();
    let endpoint = addr_text(&l);
    let held = fill_backlog(&endpoint);
    assert!(!held.is_empty(), "at least one connection is queued");
    let asked = Duration::from_millis(300);
    assert_times_out(asked, || {
        Connection::connect_with(&endpoint, &ConnectOptions::new().connect_timeout(asked))
    });
    // The queued connection is still there to accept.
    l.accept(Some(SLOW)).unwrap();
}

/// The same for a Unix listener (the kernel answers EAGAIN at once there).
#[test]
fn connect_to_full_unix_backlog_times_out() {
    let dir = TempDir::new("backlog");
    let endpoint = format!("unix:{}", dir.path("b.sock").display());
    let l = Listener::bind_with(&endpoint, &ListenOptions::new().backlog(0)).unwrap();
    let held = fill_backlog(&endpoint);
    assert!(!held.is_empty());
    let asked = Duration::from_millis(300);
    assert_times_out(asked, || {
        Connection::connect_with(&endpoint, &ConnectOptions::new().connect_timeout(asked))
    });
    l.accept(Some(SLOW)).unwrap();
}

/// A connect timeout to an address that never answers (a TEST-NET address, SYNs go nowhere or
/// are refused at once where there is no route): never longer than twice the asked time.
#[test]
fn connect_timeout_is_bounded_for_an_unanswering_address() {
    let asked = Duration::from_millis(300);
    let t0 = Instant::now();
    let r = Connection::connect_with(
        "192.0.2.123:9",
        &ConnectOptions::new().connect_timeout(asked),
    );
    let took = t0.elapsed();
    assert!(r.is_err(), "nobody should answer at 192.0.2.123");
    assert!(
        took <= asked * 2 + Duration::from_millis(100),
        "took {took:?}"
    );
}

/// Run `block` on another thread, close from this one after `after`, and check the blocked call
/// returns `Closed` promptly.
fn assert_close_unblocks<T: std::fmt::Debug + Send>(
    what: &str,
    block: impl FnOnce() -> Result<T> + Send,
    close: impl FnOnce(),
) {
    std::thread::scope(|sc| {
        let t = sc.spawn(move || {
            let r = block();
            (r, Instant::now())
        });
        std::thread::sleep(Duration::from_millis(200));
        assert!(!t.is_finished(), "{what}: the call did not block");
        let closed_at = Instant::now();
        close();
        let (r, returned_at) = t.join().unwrap();
        let e = match r {
            Ok(v) => panic!("{what}: expected Closed, got Ok({v:?})"),
            Err(e) => e,
        };
        assert_eq!(e.kind(), ErrorKind::Closed, "{what}: {e}");
        let lag = returned_at.saturating_duration_since(closed_at);
        assert!(
            lag < Duration::from_secs(2),
            "{what}: returned {lag:?} after close"
        );
    });
}

/// S17: close from another thread unblocks recv, recv_exact, recv_msg, send_all, accept and a
/// datagram recv_from, each with `Closed`. (The calls have a 30 s timeout, so a failure to unblock
/// shows up as Timeout instead of a hang.)
#[test]
fn s17_close_from_another_thread_unblocks() {
    let long = Some(Duration::from_secs(30));
    let (c, _s) = tcp_pair(Framing::length_prefixed());
    c.set_timeout(long);
    let mut buf = [0u8; 64];
    assert_close_unblocks("recv", || c.recv(&mut buf), || c.close());
    // Calls after close fail at once, with Closed too.
    expect_kind(c.recv(&mut buf), ErrorKind::Closed);
    expect_kind(c.recv_msg(), ErrorKind::Closed);

    let (c, _s) = tcp_pair(Framing::length_prefixed());
    c.set_timeout(long);
    assert_close_unblocks("recv_msg", || c.recv_msg(), || c.close());

    let (c, _s) = tcp_pair(Framing::Raw);
    c.set_timeout(long);
    assert_close_unblocks("recv_exact", || c.recv_exact(10), || c.close());

    let (c, _s) = tcp_pair(Framing::Raw);
    c.set_timeout(long);
    let big = vec![0u8; 256 * MIB];
    assert_close_unblocks(
        "send_all to a peer that does not read",
        || c.send_all(&big),
        || c.close(),
    );

    let (c, s) = Connection::pair().unwrap();
    c.set_timeout(long);
    assert_close_unblocks("recv on a Unix stream", || c.recv_msg(), || c.close());
    drop(s);

    let l = Listener::bind("127.0.0.1:0").unwrap();
    assert_close_unblocks("accept", || l.accept(long).map(|(_, a)| a), || l.close());
    expect_kind(l.accept(long), ErrorKind::Closed);
    expect_kind(l.local_addr(), ErrorKind::Closed);

    let d = Datagram::bind("127.0.0.1:0").unwrap();
    d.set_timeout(long);
    let mut dbuf = [0u8; 64];
    assert_close_unblocks(
        "datagram recv_from",
        || d.recv_from(&mut dbuf),
        || d.close(),
    );
    expect_kind(
        d.send_to(
            b"x",
            &"127.0.0.1:9"
                .parse::<std::net::SocketAddr>()
                .unwrap()
                .into(),
        ),
        ErrorKind::Closed,
    );

    let (d, _e) = Datagram::pair().unwrap();
    d.set_timeout(long);
    assert_close_unblocks("unix datagram recv", || d.recv(&mut dbuf), || d.close());
}

/// Datagram receives time out too.
#[test]
fn datagram_recv_timeout() {
    let d = Datagram::bind("127.0.0.1:0").unwrap();
    let mut buf = [0u8; 16];
    d.set_timeout(Some(ASKED));
    assert_times_out(ASKED, || d.recv_from(&mut buf));
    assert_times_out(ASKED, || {
        d.recv_from_timeout(&mut buf, libsock::Timeout::After(ASKED))
    });
    let mut bufs = [&mut buf[..]];
    let mut metas = Vec::new();
    assert_times_out(ASKED, || d.recv_many(&mut bufs, &mut metas));
}

/// S09: a message larger than the caller's buffer is BufferTooSmall with the needed size and
/// stays queued for the next call (into a buffer, or as a message, or as raw bytes).
#[test]
fn s09_buffer_too_small_keeps_the_message() {
    let (c, s) = tcp_pair(Framing::length_prefixed());
    let m1 = random_bytes(1000, 1);
    let m2 = random_bytes(50, 2);
    c.send_msg(&m1).unwrap();
    c.send_msg(&m2).unwrap();
    let mut small = [0u8; 10];
    let e = expect_kind(s.recv_msg_into(&mut small), ErrorKind::BufferTooSmall);
    assert_eq!(e.needed(), Some(1000));
    assert!(e.to_string().contains("1000"), "{e}");
    // Again: still the same message, still too big.
    let e = expect_kind(s.recv_msg_into(&mut small), ErrorKind::BufferTooSmall);
    assert_eq!(e.needed(), Some(1000));
    let mut big = vec![0u8; 1000];
    assert_eq!(s.recv_msg_into(&mut big).unwrap(), 1000);
    assert_eq!(big, m1);
    // The next message is intact.
    assert_eq!(s.recv_msg_into(&mut big).unwrap(), 50);
    assert_eq!(&big[..50], &m2[..]);

    // After BufferTooSmall, recv_msg returns the kept message.
    c.send_msg(&m1).unwrap();
    expect_kind(s.recv_msg_into(&mut small), ErrorKind::BufferTooSmall);
    assert_eq!(&s.recv_msg().unwrap()[..], &m1[..]);

    // And raw reads see its bytes (the body, as it was decoded) first.
    c.send_msg(&m2).unwrap();
    c.send_all(b"raw").unwrap();
    expect_kind(s.recv_msg_into(&mut small), ErrorKind::BufferTooSmall);
    assert_eq!(&s.recv_exact(50).unwrap()[..], &m2[..]);
    assert_eq!(&s.recv_exact(3).unwrap()[..], b"raw");
}

/// A timeout in the middle of a read loses nothing: recv_exact_into, recv_exact and recv_msg
/// interrupted by a timeout and retried get every byte.
#[test]
fn timeout_mid_read_loses_nothing() {
    let (c, s) = tcp_pair(Framing::length_prefixed());
    let data = random_bytes(1000, 3);
    c.send_all(&data[..600]).unwrap();
    let mut buf = vec![0u8; 1000];
    assert_times_out(ASKED, || s.with_timeout(ASKED).recv_exact_into(&mut buf));
    assert_eq!(s.bytes_available().unwrap(), 600, "the 600 bytes are kept");
    c.send_all(&data[600..]).unwrap();
    let mut buf = vec![0u8; 1000];
    s.recv_exact_into(&mut buf).unwrap();
    assert_eq!(buf, data);

    c.send_all(&data[..10]).unwrap();
    assert_times_out(ASKED, || s.with_timeout(ASKED).recv_exact(1000));
    c.send_all(&data[10..]).unwrap();
    assert_eq!(&s.recv_exact(1000).unwrap()[..], &data[..]);

    // Half a frame (header and part of the body), a timeout, then the rest.
    let mut frame = (data.len() as u32).to_be_bytes().to_vec();
    frame.extend_from_slice(&data);
    c.send_all(&frame[..2]).unwrap();
    assert_times_out(ASKED, || s.with_timeout(ASKED).recv_msg());
    c.send_all(&frame[2..500]).unwrap();
    assert_times_out(ASKED, || s.with_timeout(ASKED).recv_msg());
    c.send_all(&frame[500..]).unwrap();
    assert_eq!(&s.recv_msg().unwrap()[..], &data[..]);
}

fn always_interrupt() -> bool {
    true
}

/// An installed interrupt check (the Python door's Ctrl-C) ends a wait with Interrupted within
/// about one slice, and the connection still works afterwards.
#[test]
fn interrupt_check_ends_a_wait() {
    let (c, s) = tcp_pair(Framing::Raw);
    let t0 = Instant::now();
    let r = libsock::with_interrupt_check(always_interrupt, || c.recv_exact(5));
    expect_kind(r, ErrorKind::Interrupted);
    assert!(t0.elapsed() < Duration::from_secs(2), "{:?}", t0.elapsed());
    s.send_all(b"later").unwrap();
    assert_eq!(&c.recv_exact(5).unwrap()[..], b"later");
}
