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
