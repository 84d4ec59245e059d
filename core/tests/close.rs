//! Closing: an orderly close reads as `Closed` (0 from raw `recv`), an abortive close (SO_LINGER
//! 0) as `ConnectionReset`; a graceful close delivers everything queued; close and drop are
//! idempotent and harmless.

mod common;

use std::io::Read;
use std::time::Duration;

use common::*;
use libsock::{ErrorKind, Framing, SockOpt, SocketOptions};

/// Orderly close: the peer's message calls give Closed, raw recv gives 0.
#[test]
fn orderly_close_is_closed() {
    let (c, s) = tcp_pair(Framing::length_prefixed());
    c.send_msg(b"last words").unwrap();
    c.close();
    c.close();
    assert_eq!(&s.recv_msg().unwrap()[..], b"last words");
    let e = expect_kind(s.recv_msg(), ErrorKind::Closed);
    assert_eq!(e.code(), -5);
    let mut b = [0u8; 4];
    assert_eq!(s.recv(&mut b).unwrap(), 0);
}

/// Abortive close (linger 0): the peer sees a reset, distinct from an orderly close; a
/// `std::net` peer too.
#[test]
fn abortive_close_is_connection_reset() {
    let (c, s) = tcp_pair(Framing::length_prefixed());
    c.set_option(SockOpt::Linger, 0).unwrap();
    c.close();
    let e = expect_kind(s.recv_msg(), ErrorKind::ConnectionReset);
    assert_eq!(e.os_error(), Some(libc::ECONNRESET));

    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let c = libsock::Connection::connect_with(
        l.local_addr().unwrap(),
        &libsock::ConnectOptions::new()
            .connect_timeout(SLOW)
            .options(SocketOptions::new().linger(Some(Duration::ZERO))),
    )
    .unwrap();
    let (mut peer, _) = l.accept().unwrap();
    drop(c); // dropping closes too
    let e = peer.read(&mut [0u8; 8]).unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset, "{e}");
}

/// A graceful close right after a large send delivers every byte before end of stream.
#[test]
fn graceful_close_delivers_what_was_queued() {
    let (c, s) = tcp_pair(Framing::Raw);
    let data = urandom(8 * MIB);
    let want = sha256(&data);
    let t = std::thread::spawn(move || {
        c.send_all(&data).unwrap();
        c.close();
    });
    let got = s.recv_exact(8 * MIB).unwrap();
    assert!(sha256(&got) == want);
    expect_kind(s.recv_exact(1), ErrorKind::Closed);
    t.join().unwrap();
}

/// S08 (the Rust door's share): every call after close is `Closed`, never a crash or a call on a
/// reused descriptor; empty buffers get a defined answer.
#[test]
fn s08_use_after_close_and_empty_buffers() {
    let (c, s) = tcp_pair(Framing::length_prefixed());
    // Empty buffers: a message does not fit in zero bytes (and stays queued); raw calls are no-ops.
    c.send_msg(b"abc").unwrap();
    let e = expect_kind(s.recv_msg_into(&mut []), ErrorKind::BufferTooSmall);
    assert_eq!(e.needed(), Some(3));
    assert_eq!(&s.recv_msg().unwrap()[..], b"abc");
    assert_eq!(s.recv(&mut []).unwrap(), 0);
    s.recv_exact_into(&mut []).unwrap();
    c.send_all(&[]).unwrap();
    let d = libsock::Datagram::bind("127.0.0.1:0").unwrap();
    d.send_to(b"xyz", &d.local_addr().unwrap()).unwrap();
    let m = d.recv_from(&mut []).unwrap();
    assert!(m.truncated && m.len == 0 && m.full_len == 3, "{m:?}");

    c.close();
    let mut b = [0u8; 4];
    expect_kind(c.send(b"x"), ErrorKind::Closed);
    expect_kind(c.send_all(b"x"), ErrorKind::Closed);
    expect_kind(c.send_msg(b"x"), ErrorKind::Closed);
    expect_kind(c.recv(&mut b), ErrorKind::Closed);
    expect_kind(c.recv_exact(1), ErrorKind::Closed);
    expect_kind(c.recv_exact_into(&mut b), ErrorKind::Closed);
    expect_kind(c.recv_until(b"\n", 10), ErrorKind::Closed);
    expect_kind(c.recv_msg(), ErrorKind::Closed);
    expect_kind(c.recv_msg_into(&mut b), ErrorKind::Closed);
    expect_kind(c.recv_msgs(4), ErrorKind::Closed);
    expect_kind(c.shutdown(libsock::Shutdown::Both), ErrorKind::Closed);
    expect_kind(c.bytes_available(), ErrorKind::Closed);
    expect_kind(c.local_addr(), ErrorKind::Closed);
    expect_kind(c.get_option(SockOpt::NoDelay), ErrorKind::Closed);
    expect_kind(c.set_option(SockOpt::NoDelay, 1), ErrorKind::Closed);
    expect_kind(c.send_file("/dev/null", 0, Some(0)), ErrorKind::Closed);
    let e = expect_kind(c.recv_msg(), ErrorKind::Closed);
    assert!(
        e.to_string().contains("127.0.0.1"),
        "the message names the peer: {e}"
    );

    d.close();
    expect_kind(d.recv_from(&mut b), ErrorKind::Closed);
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
    expect_kind(d.local_addr(), ErrorKind::Closed);
    expect_kind(d.get_option(SockOpt::Broadcast), ErrorKind::Closed);
    d.close();
    assert!(d.is_closed());
}
