//! 64 MiB of random bytes each way, byte-exact (SHA-256 compared), through `send_all`/`recv_exact`
//! against a `std::net` peer, through framing (1 MiB messages) and through
//! `send_file`/`recv_file` (scenario S04). Also S01 (1 KiB echo) against a `std::net` peer.

mod common;

use std::io::{Read, Write};
use std::net::{Shutdown as StdShutdown, TcpListener};
use std::sync::OnceLock;
use std::time::Duration;

use common::*;
use libsock::{ConnectOptions, Connection, ErrorKind, Framing, Shutdown};
use sha2::{Digest, Sha256};

const BIG: usize = 64 * MIB;

/// Two 64 MiB random buffers and their SHA-256, made once per test binary (hashing is slow in a
/// debug build, so the senders' hashes are shared between tests).
fn data() -> &'static [(Vec<u8>, [u8; 32]); 2] {
    static DATA: OnceLock<[(Vec<u8>, [u8; 32]); 2]> = OnceLock::new();
    DATA.get_or_init(|| {
        let mk = || {
            let v = urandom(BIG);
            let h = sha256(&v);
            (v, h)
        };
        [mk(), mk()]
    })
}

#[test]
fn s01_echo_1kib_with_std_peer_and_close_twice() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let peer = std::thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        let mut buf = vec![0u8; 1024];
        s.read_exact(&mut buf).unwrap();
        s.write_all(&buf).unwrap();
    });
    let c = Connection::connect_with(
        ("127.0.0.1", port),
        &ConnectOptions::new()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Some(Duration::from_secs(10))),
    )
    .unwrap();
    assert_eq!(port_of(&c.peer_addr()), port);
    let data = random_bytes(1024, 1);
    c.send_all(&data).unwrap();
    let back = c.recv_exact(1024).unwrap();
    assert_eq!(&back[..], &data[..]);
    peer.join().unwrap();
    // The std peer closed: the raw read gives 0, a message read gives Closed.
    let mut b = [0u8; 8];
    assert_eq!(c.recv(&mut b).unwrap(), 0);
    c.close();
    c.close(); // harmless
    assert!(c.is_closed());
    expect_kind(c.send_all(b"x"), ErrorKind::Closed);
    expect_kind(c.recv(&mut b), ErrorKind::Closed);
    expect_kind(c.local_addr(), ErrorKind::Closed);
    // The peer address is still known after close.
    assert_eq!(port_of(&c.peer_addr()), port);
}

/// Client (libsock) sends 64 MiB with `send_all` and half-closes; the `std::net` peer hashes what
/// it reads up to end of stream, then sends its own 64 MiB, which the client takes with
/// `recv_exact`.
#[test]
fn s04_64mib_each_way_send_all_recv_exact_std_peer() {
    let [(up, up_hash), (down, down_hash)] = data();
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let peer = std::thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let mut h = Sha256::new();
        let mut total = 0usize;
        let mut buf = vec![0u8; 256 * 1024];
        loop {
            let n = s.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            total += n;
            h.update(&buf[..n]);
        }
        s.write_all(down).unwrap();
        s.shutdown(StdShutdown::Write).unwrap();
        (total, <[u8; 32]>::from(h.finalize()))
    });
    let c = Connection::connect_with(
        format!("127.0.0.1:{port}"),
        &ConnectOptions::new()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Some(Duration::from_secs(30))),
    )
    .unwrap();
    c.send_all(up).unwrap();
    c.shutdown(Shutdown::Write).unwrap();
    let back = c.recv_exact(BIG).unwrap();
    assert_eq!(back.len(), BIG);
    assert!(
        sha256(&back) == *down_hash,
        "64 MiB from the std peer differ"
    );
    let (total, got_hash) = peer.join().unwrap();
    assert_eq!(total, BIG);
    assert!(
        got_hash == *up_hash,
        "64 MiB received by the std peer differ"
    );
    // End of stream after exactly 64 MiB.
    expect_kind(c.recv_exact(1), ErrorKind::Closed);
}

/// Both directions at once through `recv_exact_into` (the caller's buffer) between two libsock
/// ends, in uneven chunks (16 MiB each way: the 64 MiB cases are above).
#[test]
fn both_directions_at_once_recv_exact_into() {
    let (a, b) = tcp_pair(Framing::Raw);
    let a_data = &data()[0].0[..HALF];
    let b_data = &data()[1].0[..HALF];
    std::thread::scope(|sc| {
        sc.spawn(|| a.send_all(a_data).unwrap());
        sc.spawn(|| b.send_all(b_data).unwrap());
        let ha = sc.spawn(|| hash_exact_into(&a, HALF));
        let hb = hash_exact_into(&b, HALF);
        assert!(hb == sha256(a_data), "a -> b differs");
        assert!(ha.join().unwrap() == sha256(b_data), "b -> a differs");
    });
}

const HALF: usize = 16 * MIB;

fn hash_exact_into(c: &Connection, total: usize) -> [u8; 32] {
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 3 * MIB + 7];
    let mut left = total;
    while left > 0 {
        let n = left.min(buf.len());
        c.recv_exact_into(&mut buf[..n]).unwrap();
        h.update(&buf[..n]);
        left -= n;
    }
    h.finalize().into()
}

fn hash_msgs(c: &Connection) -> [u8; 32] {
    let mut h = Sha256::new();
    for i in 0..BIG / MIB {
        let m = c.recv_msg().unwrap();
        assert_eq!(m.len(), MIB, "message {i} has the wrong size");
        h.update(&m);
    }
    h.finalize().into()
}

/// 64 MiB each way as 64 messages of 1 MiB through length-prefixed framing.
#[test]
fn s04_64mib_each_way_through_framing_1mib_messages() {
    let (a, b) = tcp_pair(Framing::length_prefixed());
    let [(a_data, a_hash), (b_data, b_hash)] = data();
    std::thread::scope(|sc| {
        sc.spawn(|| {
            for m in a_data.chunks(MIB) {
                a.send_msg(m).unwrap();
            }
        });
        sc.spawn(|| {
            for m in b_data.chunks(MIB) {
                b.send_msg(m).unwrap();
            }
        });
        let ha = sc.spawn(|| hash_msgs(&a));
        let hb = hash_msgs(&b);
        assert!(hb == *a_hash, "a -> b differs");
        assert!(ha.join().unwrap() == *b_hash, "b -> a differs");
    });
}

/// 64 MiB each way with `send_file` (sendfile(2)) and `recv_file`, plus a range of a file.
#[test]
fn s04_64mib_each_way_send_file_recv_file() {
    let dir = TempDir::new("sendfile");
    let a_path = dir.path("a.bin");
    let b_path = dir.path("b.bin");
    let [(a_data, a_hash), (b_data, b_hash)] = data();
    std::fs::write(&a_path, a_data).unwrap();
    std::fs::write(&b_path, b_data).unwrap();
    let (a, b) = tcp_pair(Framing::Raw);
    std::thread::scope(|sc| {
        sc.spawn(|| assert_eq!(a.send_file(&a_path, 0, None).unwrap(), BIG as u64));
        sc.spawn(|| assert_eq!(b.send_file(&b_path, 0, None).unwrap(), BIG as u64));
        let t = sc.spawn(|| a.recv_file(dir.path("a_got.bin"), BIG as u64).unwrap());
        assert_eq!(
            b.recv_file(dir.path("b_got.bin"), BIG as u64).unwrap(),
            BIG as u64
        );
        assert_eq!(t.join().unwrap(), BIG as u64);
    });
    assert!(sha256_file(&dir.path("b_got.bin")) == *a_hash);
    assert!(sha256_file(&dir.path("a_got.bin")) == *b_hash);

    // A range in the middle of a file, then a plain send right behind it.
    let want = &a_data[1000..1000 + 70_000];
    assert_eq!(a.send_file(&a_path, 1000, Some(70_000)).unwrap(), 70_000);
    a.send_all(b"tail").unwrap();
    assert_eq!(&b.recv_exact(70_000).unwrap()[..], want);
    assert_eq!(&b.recv_exact(4).unwrap()[..], b"tail");

    // A range past the end of the file is refused before anything is sent.
    let e = expect_kind(
        a.send_file(&a_path, BIG as u64 - 10, Some(11)),
        ErrorKind::InvalidArgument,
    );
    assert!(e.to_string().contains("past the end"), "{e}");
    expect_kind(a.send_file(dir.path("missing.bin"), 0, None), ErrorKind::Io);
}
