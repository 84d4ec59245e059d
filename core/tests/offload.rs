//! UDP offload (GSO on send, GRO on receive): every datagram arrives byte-exact, with its own
//! boundaries and sender, with offload on and off, between libsock sockets, the engine's
//! datagram server and Python's stdlib socket; batches with a short last datagram, mixed sizes,
//! interleaved destinations and the fallback when the kernel refuses a segmented send.
//!
//! Loopback drops datagrams only when a receive buffer overflows: every exchange here is
//! lock-step (a batch, then all of it received, or an acknowledgement) with batches well under
//! the default receive buffer, so nothing is lost; no timing is asserted.

mod common;

use std::net::UdpSocket;
use std::time::{Duration, Instant};

use common::*;
use libsock::engine::{DatagramServer, DatagramServerConfig, Event};
use libsock::{Addr, Datagram, DatagramOptions};

fn open(ep: &str, gso: bool, gro: bool) -> Datagram {
    let d = Datagram::bind_with(
        ep,
        &DatagramOptions {
            timeout: Some(SLOW),
            gso,
            gro,
            ..Default::default()
        },
    )
    .unwrap();
    // This kernel (CI's and these machines') has both: asking and not getting is a failure.
    assert_eq!(d.gso_enabled(), gso, "UDP_SEGMENT on {ep}");
    assert_eq!(d.gro_enabled(), gro, "UDP_GRO on {ep}");
    d
}

/// Datagram `i` of a run: `len` bytes that tell which one it is.
fn datagram(i: usize, len: usize) -> Vec<u8> {
    let mut v = random_bytes(len, i as u64 * 7919 + len as u64);
    if len >= 4 {
        v[..4].copy_from_slice(&(i as u32).to_be_bytes());
    }
    v
}

/// The batch shapes: equal sizes, a short last one, mixed runs, an empty datagram, sizes at
/// the segment limit, and more than one segmented message's worth.
fn shapes() -> Vec<Vec<usize>> {
    vec![
        vec![1200; 32],
        [vec![1200; 31], vec![77]].concat(),
        vec![500, 500, 500, 20, 700, 700, 1, 300, 300, 300, 300, 299],
        vec![64, 64, 0, 64, 64],
        vec![1; 40],
        vec![20000, 20000, 20000, 5],
        vec![100; 100],
        vec![9000],
    ]
}

/// Receive `want.len()` datagrams from `rx`, in turn with a batch, a single receive and a batch
/// without senders (`recv_many_sizes`), and check each against `want` (bytes, size, and the
/// sender where one is reported).
fn expect(rx: &Datagram, want: &[Vec<u8>], from: &Addr) {
    let mut got: Vec<(Vec<u8>, Option<Addr>)> = Vec::new();
    let mut storage = vec![0u8; 32 * 20480];
    let mut metas = Vec::new();
    let mut sizes = Vec::new();
    let mut turn = 0;
    while got.len() < want.len() {
        turn += 1;
        if turn % 3 == 2 {
            let mut buf = vec![0u8; 20480];
            let m = rx.recv_from(&mut buf).unwrap();
            assert!(!m.truncated);
            got.push((buf[..m.len].to_vec(), Some(m.peer)));
        } else if turn % 3 == 0 {
            let mut bufs: Vec<&mut [u8]> = storage.chunks_mut(20480).collect();
            let n = rx.recv_many_sizes(&mut bufs, &mut sizes).unwrap();
            assert_eq!(n, sizes.len());
            for (b, m) in bufs.iter().zip(&sizes) {
                assert!(!m.truncated);
                assert_eq!(m.len, m.full_len);
                got.push((b[..m.len].to_vec(), None));
            }
        } else {
            let mut bufs: Vec<&mut [u8]> = storage.chunks_mut(20480).collect();
            let n = rx.recv_many(&mut bufs, &mut metas).unwrap();
            assert_eq!(n, metas.len());
            for (b, m) in bufs.iter().zip(&metas) {
                assert!(!m.truncated);
                assert_eq!(m.len, m.full_len);
                got.push((b[..m.len].to_vec(), Some(m.peer.clone())));
            }
        }
    }
    assert_eq!(got.len(), want.len(), "more datagrams than sent");
    for (i, ((g, peer), w)) in got.iter().zip(want).enumerate() {
        assert_eq!(g.len(), w.len(), "datagram {i}: size");
        assert!(g == w, "datagram {i}: bytes differ");
        if let Some(peer) = peer {
            assert_eq!(peer, from, "datagram {i}: sender");
        }
    }
}

/// Send every shape as one batch (send_many until all went), then receive it all.
fn exchange(tx: &Datagram, rx: &Datagram) {
    let to = rx.local_addr().unwrap();
    let from = tx.local_addr().unwrap();
    for (k, shape) in shapes().iter().enumerate() {
        let want: Vec<Vec<u8>> = shape
            .iter()
            .enumerate()
            .map(|(i, l)| datagram(k * 1000 + i, *l))
            .collect();
        let msgs: Vec<&[u8]> = want.iter().map(|v| v.as_slice()).collect();
        let mut sent = 0;
        while sent < msgs.len() {
            sent += tx.send_many(&msgs[sent..], Some(&to)).unwrap();
        }
        expect(rx, &want, &from);
    }
}

#[test]
fn batches_arrive_whole_with_offload_on_and_off_v4() {
    for (gso, gro) in [(true, true), (true, false), (false, true), (false, false)] {
        let tx = open("127.0.0.1:0", gso, false);
        let rx = open("127.0.0.1:0", false, gro);
        exchange(&tx, &rx);
    }
}

#[test]
fn batches_arrive_whole_with_offload_v6() {
    let tx = open("[::1]:0", true, false);
    let rx = open("[::1]:0", false, true);
    exchange(&tx, &rx);
}

/// A connected sender's batches (no address per message) are segmented too.
#[test]
fn connected_sender_batches() {
    let rx = open("127.0.0.1:0", false, true);
    let tx = Datagram::connect(rx.local_addr().unwrap()).unwrap();
    assert!(tx.gso_enabled());
    let want: Vec<Vec<u8>> = (0..50).map(|i| datagram(i, 333)).collect();
    let msgs: Vec<&[u8]> = want.iter().map(|v| v.as_slice()).collect();
    let mut sent = 0;
    while sent < msgs.len() {
        sent += tx.send_many(&msgs[sent..], None).unwrap();
    }
    expect(&rx, &want, &tx.local_addr().unwrap());
}

/// One sender, two receivers, batches to each in turn and single datagrams in between: each
/// receiver gets its own datagrams and nothing else.
#[test]
fn interleaved_destinations() {
    let tx = open("127.0.0.1:0", true, false);
    let a = open("127.0.0.1:0", false, true);
    let b = open("127.0.0.1:0", false, false);
    let from = tx.local_addr().unwrap();
    for round in 0..5 {
        let mut want_a = Vec::new();
        let mut want_b = Vec::new();
        for (i, dst) in [&a, &b, &a, &b].iter().enumerate() {
            let batch: Vec<Vec<u8>> = (0..10)
                .map(|j| datagram(round * 100 + i * 10 + j, if j == 9 { 50 } else { 400 }))
                .collect();
            let msgs: Vec<&[u8]> = batch.iter().map(|v| v.as_slice()).collect();
            let to = dst.local_addr().unwrap();
            let mut sent = 0;
            while sent < msgs.len() {
                sent += tx.send_many(&msgs[sent..], Some(&to)).unwrap();
            }
            let single = datagram(round * 100 + 90 + i, 400);
            tx.send_to(&single, &to).unwrap();
            let want = if i % 2 == 0 { &mut want_a } else { &mut want_b };
            want.extend(batch);
            want.push(single);
        }
        expect(&a, &want_a, &from);
        expect(&b, &want_b, &from);
    }
}

/// With receive offload, a buffer smaller than the datagram cuts that datagram only (reported
/// as truncated with its real size); the next datagram starts at its own boundary.
#[test]
fn gro_truncation_keeps_the_boundaries() {
    let tx = open("127.0.0.1:0", true, false);
    let rx = open("127.0.0.1:0", false, true);
    let want: Vec<Vec<u8>> = (0..20)
        .map(|i| datagram(i, if i == 19 { 30 } else { 1000 }))
        .collect();
    let msgs: Vec<&[u8]> = want.iter().map(|v| v.as_slice()).collect();
    let mut sent = 0;
    while sent < msgs.len() {
        sent += tx
            .send_many(&msgs[sent..], Some(&rx.local_addr().unwrap()))
            .unwrap();
    }
    let mut seen = 0;
    let mut metas = Vec::new();
    let mut sizes = Vec::new();
    while seen < want.len() {
        let mut storage = vec![0u8; 3 * 100];
        let mut bufs: Vec<&mut [u8]> = storage.chunks_mut(100).collect();
        // In turn with and without the senders: the same cuts either way.
        let got: Vec<(usize, usize, bool)> = if seen % 2 == 0 {
            rx.recv_many(&mut bufs, &mut metas).unwrap();
            metas
                .iter()
                .map(|m| (m.len, m.full_len, m.truncated))
                .collect()
        } else {
            rx.recv_many_sizes(&mut bufs, &mut sizes).unwrap();
            sizes
                .iter()
                .map(|m| (m.len, m.full_len, m.truncated))
                .collect()
        };
        for (b, (len, full_len, truncated)) in bufs.iter().zip(got) {
            let w = &want[seen];
            assert_eq!(full_len, w.len(), "datagram {seen}");
            assert_eq!(truncated, w.len() > 100, "datagram {seen}");
            assert_eq!(len, w.len().min(100), "datagram {seen}");
            assert_eq!(&b[..len], &w[..len], "datagram {seen}");
            seen += 1;
        }
        if seen < want.len() {
            // What is taken and not yet handed over is reported as the next datagram's size.
            assert_eq!(rx.bytes_available().unwrap(), want[seen].len());
        }
    }
}

/// A segmented send the kernel refuses (here with EINVAL: SO_NO_CHECK forbids segmentation) is
/// sent again without it at once; every datagram arrives, and later batches too.
#[test]
fn refused_segmentation_falls_back_to_plain_datagrams() {
    let tx = open("127.0.0.1:0", true, false);
    let rx = open("127.0.0.1:0", false, true);
    let one: libc::c_int = 1;
    // SAFETY: one int option on a live socket.
    let r = unsafe {
        libc::setsockopt(
            tx.fd(),
            libc::SOL_SOCKET,
            libc::SO_NO_CHECK,
            &one as *const libc::c_int as *const libc::c_void,
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    assert_eq!(r, 0);
    exchange(&tx, &rx);
    exchange(&tx, &rx);
}

const PY_PEER: &str = r#"
import socket, struct, sys, hashlib
mode, family = sys.argv[1], sys.argv[2]
fam = socket.AF_INET6 if family == "6" else socket.AF_INET
host = "::1" if family == "6" else "127.0.0.1"
s = socket.socket(fam, socket.SOCK_DGRAM)
s.settimeout(10)
s.bind((host, 0))
print(s.getsockname()[1], flush=True)
peer_port = int(sys.stdin.readline())
peer = (host, peer_port)
if mode == "recv":
    # Receive batches of the announced count; acknowledge each; print each datagram.
    for line in sys.stdin:
        n = int(line)
        for _ in range(n):
            data, src = s.recvfrom(70000)
            assert src[1] == peer_port, src
            print(len(data), hashlib.sha256(data).hexdigest(), flush=True)
        s.sendto(b"ack", peer)
else:
    # Send segmented batches with UDP_SEGMENT (103) the stdlib way; wait for an ack each.
    UDP_SEGMENT = 103
    for line in sys.stdin:
        size, count, last = map(int, line.split())
        payload = b"".join(bytes([(i * 31 + j) % 251 for j in range(size)]) for i in range(count))
        payload += bytes([7]) * last
        s.sendmsg([payload], [(socket.SOL_UDP, UDP_SEGMENT, struct.pack("H", size))], 0, peer)
        ack, _ = s.recvfrom(16)
        assert ack == b"ack"
        print("sent", flush=True)
"#;

fn py_peer(mode: &str, v6: bool) -> Peer {
    let mut cmd = std::process::Command::new(require_tool("python3"));
    cmd.arg("-c")
        .arg(PY_PEER)
        .args([mode, if v6 { "6" } else { "4" }])
        .stdin(std::process::Stdio::piped());
    Peer::spawn(cmd)
}

fn tell(p: &mut Peer, line: &str) {
    use std::io::Write;
    let stdin = p.child.stdin.as_mut().unwrap();
    writeln!(stdin, "{line}").unwrap();
    stdin.flush().unwrap();
}

/// libsock sends segmented batches to a stdlib socket: it reads each datagram whole.
#[test]
fn segmented_batches_to_a_python_stdlib_peer() {
    for (v6, gso) in [(false, true), (true, true), (false, false)] {
        let mut py = py_peer("recv", v6);
        let port: u16 = py.line().parse().unwrap();
        let tx = open(if v6 { "[::1]:0" } else { "127.0.0.1:0" }, gso, false);
        tell(&mut py, &port_of(&tx.local_addr().unwrap()).to_string());
        let to: Addr = if v6 {
            Addr::Inet(format!("[::1]:{port}").parse().unwrap())
        } else {
            Addr::Inet(format!("127.0.0.1:{port}").parse().unwrap())
        };
        for (k, shape) in shapes().iter().enumerate() {
            let want: Vec<Vec<u8>> = shape
                .iter()
                .enumerate()
                .map(|(i, l)| datagram(k * 1000 + i, *l))
                .collect();
            tell(&mut py, &want.len().to_string());
            let msgs: Vec<&[u8]> = want.iter().map(|v| v.as_slice()).collect();
            let mut sent = 0;
            while sent < msgs.len() {
                sent += tx.send_many(&msgs[sent..], Some(&to)).unwrap();
            }
            for (i, w) in want.iter().enumerate() {
                let line = py.line();
                let expect = format!("{} {}", w.len(), hex(&sha256(w)));
                assert_eq!(line, expect, "shape {k} datagram {i}");
            }
            let mut ack = [0u8; 8];
            let m = tx.recv_from(&mut ack).unwrap();
            assert_eq!(&ack[..m.len], b"ack");
        }
        drop(py.child.stdin.take());
        py.wait_ok();
    }
}

/// A stdlib peer sends segmented messages (UDP_SEGMENT through sendmsg): libsock with receive
/// offload cuts them back into the peer's datagrams, with the peer as sender of each.
#[test]
fn segmented_sends_from_a_python_stdlib_peer() {
    for (v6, gro) in [(false, true), (true, true), (false, false)] {
        let mut py = py_peer("send", v6);
        let port: u16 = py.line().parse().unwrap();
        let rx = open(if v6 { "[::1]:0" } else { "127.0.0.1:0" }, false, gro);
        tell(&mut py, &port_of(&rx.local_addr().unwrap()).to_string());
        for (size, count, last) in [(1000, 40, 0), (1000, 40, 17), (50, 64, 0), (7, 3, 1)] {
            tell(&mut py, &format!("{size} {count} {last}"));
            let mut want: Vec<Vec<u8>> = (0..count)
                .map(|i| (0..size).map(|j| ((i * 31 + j) % 251) as u8).collect())
                .collect();
            if last > 0 {
                want.push(vec![7u8; last]);
            }
            let from = Addr::Inet(
                format!("{}:{port}", if v6 { "[::1]" } else { "127.0.0.1" })
                    .parse()
                    .unwrap(),
            );
            expect(&rx, &want, &from);
            rx.send_to(b"ack", &from).unwrap();
            assert_eq!(py.line(), "sent");
        }
        drop(py.child.stdin.take());
        py.wait_ok();
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The engine's datagram server, offload on and off: segmented batches from a libsock sender
/// arrive as one event per datagram; `send_many_to` replies arrive whole at a std peer.
#[test]
fn engine_datagram_server_with_and_without_offload() {
    for offload in [true, false] {
        let server =
            DatagramServer::bind("127.0.0.1:0", DatagramServerConfig::new().offload(offload))
                .unwrap();
        let tx = open("127.0.0.1:0", true, false);
        let from = tx.local_addr().unwrap();
        let to = server.local_addr();
        for (k, shape) in shapes().iter().enumerate() {
            let want: Vec<Vec<u8>> = shape
                .iter()
                .enumerate()
                .map(|(i, l)| datagram(k * 1000 + i, *l))
                .collect();
            let msgs: Vec<&[u8]> = want.iter().map(|v| v.as_slice()).collect();
            let mut sent = 0;
            while sent < msgs.len() {
                sent += tx.send_many(&msgs[sent..], Some(&to)).unwrap();
            }
            let mut got = Vec::new();
            let end = Instant::now() + SLOW;
            while got.len() < want.len() {
                assert!(
                    Instant::now() < end,
                    "shape {k}: {} of {}",
                    got.len(),
                    want.len()
                );
                for ev in server
                    .next_events(64, Some(Duration::from_millis(100)))
                    .unwrap()
                {
                    match ev {
                        Event::Datagram { peer, data } => {
                            assert_eq!(peer, from);
                            got.push(data);
                        }
                        other => panic!("unexpected {other:?}"),
                    }
                }
            }
            for (i, (g, w)) in got.iter().zip(&want).enumerate() {
                assert!(
                    g[..] == w[..],
                    "shape {k} datagram {i}: {} vs {}",
                    g.len(),
                    w.len()
                );
            }
        }
        // Replies in batches, to a std peer.
        let peer = UdpSocket::bind("127.0.0.1:0").unwrap();
        peer.set_read_timeout(Some(SLOW)).unwrap();
        let pa = Addr::Inet(peer.local_addr().unwrap());
        let want: Vec<Vec<u8>> = (0..30)
            .map(|i| datagram(i, if i == 29 { 3 } else { 900 }))
            .collect();
        let msgs: Vec<&[u8]> = want.iter().map(|v| v.as_slice()).collect();
        let mut sent = 0;
        while sent < msgs.len() {
            sent += server.send_many_to(&msgs[sent..], &pa, Some(SLOW)).unwrap();
        }
        let mut buf = [0u8; 2048];
        for (i, w) in want.iter().enumerate() {
            let (n, src) = peer.recv_from(&mut buf).unwrap();
            assert_eq!(&buf[..n], &w[..], "reply {i}");
            assert_eq!(Addr::Inet(src), to);
        }
        assert_eq!(server.stats().datagrams_out, 30);
    }
}
