//! Engine datagram server: datagrams pulled as events, replies with send_to.

use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use libsock::engine::{DatagramServer, DatagramServerConfig, Event};
use libsock::ErrorKind;

/// A datagram server with default settings on a loopback port, its address, and a plain UDP
/// peer whose receives give up after 10 s.
fn server_and_peer() -> (DatagramServer, SocketAddr, UdpSocket) {
    let server = DatagramServer::bind("127.0.0.1:0", DatagramServerConfig::new()).unwrap();
    let to = server.local_addr().as_inet().unwrap();
    let peer = UdpSocket::bind("127.0.0.1:0").unwrap();
    peer.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    (server, to, peer)
}

#[test]
fn datagrams_arrive_as_events_and_replies_go_back() {
    let (server, to, peer) = server_and_peer();
    for i in 0..20u8 {
        peer.send_to(&[i; 10], to).unwrap();
    }
    let mut got = Vec::new();
    let end = Instant::now() + Duration::from_secs(20);
    while got.len() < 20 && Instant::now() < end {
        for ev in server
            .next_events(8, Some(Duration::from_millis(50)))
            .unwrap()
        {
            match ev {
                Event::Datagram { peer: from, data } => {
                    assert_eq!(from.as_inet().unwrap(), peer.local_addr().unwrap());
                    server.send_to(&data[..1], &from).unwrap();
                    got.push(data);
                }
                other => panic!("unexpected {other:?}"),
            }
        }
    }
    assert_eq!(got.len(), 20);
    let mut buf = [0u8; 16];
    let mut replies = 0;
    while replies < 20 {
        let (n, from) = peer.recv_from(&mut buf).unwrap();
        assert_eq!(n, 1);
        assert_eq!(from, to);
        replies += 1;
    }
    let st = server.stats();
    assert_eq!(st.datagrams_in, 20);
    assert_eq!(st.datagrams_out, 20);
    server.shutdown();
    assert_eq!(server.next_events(4, None).unwrap(), vec![Event::Closed]);
    assert_eq!(
        server.next_events(4, None).unwrap_err().kind(),
        ErrorKind::Closed
    );
    assert_eq!(
        server
            .send_to(b"x", &libsock::Addr::Inet(to))
            .unwrap_err()
            .kind(),
        ErrorKind::Closed
    );
}

#[test]
fn unix_endpoints_are_unsupported_here() {
    let e = DatagramServer::bind("unix:/tmp/nope.sock", DatagramServerConfig::new()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported);
}

#[test]
fn send_to_endpoint_takes_text_resolves_names_and_refuses_what_is_not_udp() {
    let server = DatagramServer::bind("127.0.0.1:0", DatagramServerConfig::new()).unwrap();
    let peer = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    peer.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let port = peer.local_addr().unwrap().port();
    let mut b = [0u8; 16];
    for to in [format!("127.0.0.1:{port}"), format!("localhost:{port}")] {
        let n = server
            .send_to_endpoint(b"hello", to.as_str(), Some(Duration::from_secs(5)))
            .unwrap();
        assert_eq!(n, 5);
        let (n, from) = peer.recv_from(&mut b).unwrap();
        assert_eq!(
            (&b[..n], from),
            (&b"hello"[..], server.local_addr().as_inet().unwrap())
        );
    }
    for (to, kind) in [
        ("nowhere", ErrorKind::InvalidArgument),
        ("256.1.1.1:5", ErrorKind::InvalidArgument),
        ("unix:/tmp/x", ErrorKind::InvalidArgument),
    ] {
        let e = server.send_to_endpoint(b"x", to, None).unwrap_err();
        assert_eq!(e.kind(), kind, "{to}: {e}");
    }
    server.shutdown();
}

/// A burst that arrives while nobody waits is read into the queue by the engine (nothing is
/// left to the kernel's small receive buffer); a consumer that then waits on the empty queue
/// reads the socket itself (request–reply without a hand-off), and every datagram arrives
/// once, byte-exact, whichever of the two read it.
#[test]
fn a_waiting_consumer_reads_itself_and_a_burst_is_still_queued() {
    let (server, to, peer) = server_and_peer();
    for i in 0..200u32 {
        peer.send_to(&i.to_be_bytes(), to).unwrap();
    }
    let end = Instant::now() + Duration::from_secs(20);
    while server.stats().datagrams_in < 200 && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(server.pending(), 200, "the burst waits in the queue");
    let burst = server.next_events(1000, Some(Duration::ZERO)).unwrap();
    let want: Vec<Vec<u8>> = (0..200u32).map(|i| i.to_be_bytes().to_vec()).collect();
    let got: Vec<Vec<u8>> = burst
        .iter()
        .map(|e| e.data().expect("a datagram").to_vec())
        .collect();
    assert_eq!(got, want);
    // Request–reply: each reply is read by the waiting consumer (or the engine) exactly once.
    let mut buf = [0u8; 64];
    for i in 0..500u32 {
        let msg = [&i.to_be_bytes()[..], b"-ping"].concat();
        peer.send_to(&msg, to).unwrap();
        let ev = server
            .next_event(Some(Duration::from_secs(10)))
            .unwrap()
            .expect("the datagram within 10 s");
        let Event::Datagram { peer: from, data } = ev else {
            panic!("unexpected {ev:?}")
        };
        assert_eq!(&data[..], &msg[..]);
        server.send_to(&data, &from).unwrap();
        let (n, _) = peer.recv_from(&mut buf).unwrap();
        assert_eq!(&buf[..n], &msg[..]);
    }
    assert_eq!(server.stats().datagrams_in, 700);
    assert_eq!(server.pending(), 0);
}

/// Several threads waiting at once: one reads the socket, the others wait for the queue; every
/// datagram is taken exactly once, and a shutdown wakes them all (the reading one included).
#[test]
fn concurrent_waiters_take_each_datagram_once_and_a_shutdown_wakes_them() {
    use std::sync::{Arc, Mutex};
    // A receive buffer that holds the whole run: the test is about the waiters, and on a
    // loaded machine they may all be off the CPU for longer than a default buffer lasts
    // (the kernel then drops datagrams, as UDP does).
    let cfg = DatagramServerConfig::new()
        .options(libsock::SocketOptions::new().recv_buffer_size(4 << 20));
    let server = Arc::new(DatagramServer::bind("127.0.0.1:0", cfg).unwrap());
    let to = server.local_addr().as_inet().unwrap();
    let seen = Arc::new(Mutex::new(Vec::<u32>::new()));
    let threads: Vec<_> = (0..3)
        .map(|_| {
            let (server, seen) = (server.clone(), seen.clone());
            std::thread::spawn(move || loop {
                match server.next_events(4, None) {
                    Ok(evs) => {
                        for ev in evs {
                            match ev {
                                Event::Datagram { data, .. } => seen
                                    .lock()
                                    .unwrap()
                                    .push(u32::from_be_bytes(data[..4].try_into().unwrap())),
                                Event::Closed => {}
                                other => panic!("unexpected {other:?}"),
                            }
                        }
                    }
                    Err(e) => return e.kind(),
                }
            })
        })
        .collect();
    let peer = UdpSocket::bind("127.0.0.1:0").unwrap();
    for i in 0..2000u32 {
        peer.send_to(&i.to_be_bytes(), to).unwrap();
        if i % 50 == 0 {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    let end = Instant::now() + Duration::from_secs(20);
    while seen.lock().unwrap().len() < 2000 && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(5));
    }
    server.shutdown();
    for t in threads {
        assert_eq!(t.join().unwrap(), ErrorKind::Closed);
    }
    let mut seen = seen.lock().unwrap().clone();
    seen.sort_unstable();
    assert_eq!(seen, (0..2000u32).collect::<Vec<_>>(), "each datagram once");
}

/// The engine's reader and a consumer that reads the socket itself take turns (the reader
/// comes back after the consumer paused); datagrams from one sender are still queued in the
/// order they were sent, none twice, none lost.
#[test]
fn datagrams_keep_their_order_while_the_reader_and_the_consumer_take_turns() {
    use std::sync::Arc;
    let server =
        Arc::new(DatagramServer::bind("127.0.0.1:0", DatagramServerConfig::new()).unwrap());
    let to = server.local_addr().as_inet().unwrap();
    let consumer = {
        let server = server.clone();
        std::thread::spawn(move || {
            let mut next = 0u32;
            let mut pulls = 0u32;
            while next < 3000 {
                let evs = server
                    .next_events(3, Some(Duration::from_secs(10)))
                    .unwrap();
                assert!(!evs.is_empty(), "nothing for 10 s after {next}");
                for ev in evs {
                    let d = ev.data().expect("a datagram");
                    assert_eq!(u32::from_be_bytes(d[..4].try_into().unwrap()), next);
                    next += 1;
                }
                pulls += 1;
                if pulls % 97 == 0 {
                    // Long enough for the engine's reader to take the socket back.
                    std::thread::sleep(Duration::from_millis(25));
                }
            }
        })
    };
    let peer = UdpSocket::bind("127.0.0.1:0").unwrap();
    for round in 0..30u32 {
        for i in 0..100u32 {
            peer.send_to(&(round * 100 + i).to_be_bytes(), to).unwrap();
        }
        // Let the server catch up so that the kernel's buffer never overflows.
        let end = Instant::now() + Duration::from_secs(10);
        while server.stats().datagrams_in < u64::from(round * 100 + 100) && Instant::now() < end {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    consumer.join().unwrap();
    assert_eq!(server.stats().datagrams_in, 3000);
}

/// Request and reply put a waiting consumer on one-buffer reads (three waits in four, see
/// `wait_fill`); a burst waiting in the socket afterwards is read in batches again after at
/// most three one-datagram reads, and every datagram arrives once, in order, across the
/// switches between the two.
#[test]
fn after_request_and_reply_a_burst_is_read_in_batches_again() {
    let (server, to, peer) = server_and_peer();
    let wait = Some(Duration::from_secs(10));
    let mut buf = [0u8; 1500];
    for i in 0..50u32 {
        peer.send_to(&i.to_be_bytes(), to).unwrap();
        let ev = server.next_event(wait).unwrap().expect("the request");
        let (data, from) = match ev {
            Event::Datagram { data, peer, .. } => (data, peer),
            other => panic!("unexpected {other:?}"),
        };
        server.send_to(&data, &from).unwrap();
        let (n, _) = peer.recv_from(&mut buf).unwrap();
        assert_eq!(&buf[..n], &i.to_be_bytes());
    }
    // 120 x 100 B fit the default receive buffer; on loopback each is queued when send_to
    // returns.
    let mut d = [0x5au8; 100];
    for i in 0..120u32 {
        d[..4].copy_from_slice(&i.to_be_bytes());
        peer.send_to(&d, to).unwrap();
    }
    let mut next = 0u32;
    let mut sizes = Vec::new();
    while next < 120 {
        let evs = server.next_events(64, wait).unwrap();
        assert!(!evs.is_empty(), "nothing for 10 s after {next}");
        sizes.push(evs.len());
        for ev in evs {
            let d = ev.data().expect("a datagram");
            assert_eq!(u32::from_be_bytes(d[..4].try_into().unwrap()), next);
            next += 1;
        }
    }
    // Read one per wait, the burst would take 120 pulls; in batches again after at most three
    // single reads, it takes ~17 (fewer when the engine's own reader, which reads in batches,
    // took the socket back in between: it does after 10 ms without a waiting consumer).
    assert!(
        sizes.len() <= 60,
        "pull sizes {sizes:?}: the burst was not read in batches"
    );
}

/// `next_datagram_into`, the request–reply pull: replies taken straight into the caller's
/// buffer with their sender, an empty datagram included; a burst that waited in the queue is
/// taken in order, each datagram once, whether by `next_datagram_into` or by `next_events`
/// mixed with it.
#[test]
fn next_datagram_takes_replies_straight_and_a_burst_in_order() {
    let (server, to, peer) = server_and_peer();
    let wait = Some(Duration::from_secs(10));
    let me = peer.local_addr().unwrap();
    let mut buf = [0u8; 256];
    let mut back = [0u8; 256];
    for i in 0..300u32 {
        // Every tenth request is an empty datagram (a receive of 0 bytes is still one).
        let msg: Vec<u8> = match i % 10 {
            0 => Vec::new(),
            _ => [&i.to_be_bytes()[..], b"-ping"].concat(),
        };
        peer.send_to(&msg, to).unwrap();
        let info = server
            .next_datagram_into(&mut buf, wait)
            .unwrap()
            .expect("the request within 10 s");
        assert_eq!(info.kind, libsock::engine::EventKind::Datagram);
        assert_eq!(&buf[..info.len], &msg[..], "request {i}");
        let from = info.peer.expect("a datagram has a sender");
        assert_eq!(from.as_inet().unwrap(), me);
        server.send_to(&buf[..info.len], &from).unwrap();
        let (n, _) = peer.recv_from(&mut back).unwrap();
        assert_eq!(&back[..n], &msg[..]);
    }
    assert_eq!(server.stats().datagrams_in, 300);
    assert_eq!(server.pending(), 0);
    // A burst while nobody pulls, then taken by both pulls in turn. (121: the reads of 8 leave
    // a last read of one datagram, which must not overtake those still queued.)
    for i in 0..121u32 {
        peer.send_to(&i.to_be_bytes(), to).unwrap();
    }
    let mut got: Vec<u32> = Vec::new();
    let word = |d: &[u8]| u32::from_be_bytes(d.try_into().expect("4 bytes"));
    let mut round = 0;
    while got.len() < 121 {
        round += 1;
        if round % 3 != 0 {
            let info = server.next_datagram_into(&mut buf, wait).unwrap();
            let info = info.expect("the burst within 10 s");
            got.push(word(&buf[..info.len]));
        } else {
            for ev in server.next_events(3, wait).unwrap() {
                got.push(word(ev.data().expect("a datagram")));
            }
        }
    }
    assert_eq!(got, (0..121u32).collect::<Vec<_>>(), "each once, in order");
    assert_eq!(server.stats().datagrams_in, 421);
    assert_eq!(server.pending(), 0);
    // Nothing more: a timeout, not a datagram.
    let none = server
        .next_datagram_into(&mut buf, Some(Duration::from_millis(30)))
        .unwrap();
    assert!(none.is_none(), "{none:?}");
}

/// A datagram larger than `next_datagram_into`'s buffer is not lost: `BufferTooSmall` says its
/// size and it stays first, for a larger buffer (or `next_event`).
#[test]
fn next_datagram_keeps_a_datagram_too_large_for_the_buffer() {
    let (server, to, peer) = server_and_peer();
    let wait = Some(Duration::from_secs(10));
    let big = [0x42u8; 700];
    peer.send_to(&big, to).unwrap();
    peer.send_to(b"after", to).unwrap();
    let mut small = [0u8; 100];
    let e = server.next_datagram_into(&mut small, wait).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::BufferTooSmall, "{e}");
    assert_eq!(e.needed(), Some(700));
    let mut buf = vec![0u8; 1000];
    let info = server.next_datagram_into(&mut buf, wait).unwrap().unwrap();
    assert_eq!(&buf[..info.len], &big[..]);
    let info = server.next_datagram_into(&mut buf, wait).unwrap().unwrap();
    assert_eq!(&buf[..info.len], b"after");
}

/// A shutdown wakes a thread waiting in `next_datagram_into`: it takes the final `Closed`
/// event, and the next call is a `Closed` error.
#[test]
fn a_shutdown_wakes_next_datagram() {
    let (server, to, peer) = server_and_peer();
    // Two request/reply rounds first, so that the waiter's read is a one-buffer one (a
    // `recvmsg`, where a read woken by the shutdown must not pass for an empty datagram).
    let mut buf = [0u8; 64];
    for i in 0..2u8 {
        peer.send_to(&[i], to).unwrap();
        let info = server
            .next_datagram_into(&mut buf, Some(Duration::from_secs(10)))
            .unwrap()
            .expect("a request");
        assert_eq!(&buf[..info.len], &[i]);
    }
    let server = std::sync::Arc::new(server);
    let waiter = {
        let s = server.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 64];
            let t0 = Instant::now();
            let r = s.next_datagram_into(&mut buf, Some(Duration::from_secs(30)));
            (r.map(|i| i.map(|i| i.kind)), t0.elapsed())
        })
    };
    std::thread::sleep(Duration::from_millis(100));
    server.shutdown();
    let (r, took) = waiter.join().unwrap();
    assert_eq!(r.unwrap(), Some(libsock::engine::EventKind::Closed));
    assert!(took < Duration::from_secs(20), "woken after {took:?}");
    let mut buf = [0u8; 64];
    let e = server.next_datagram_into(&mut buf, None).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Closed);
}

/// A datagram server connected to one peer: `send` goes to it, only its datagrams are
/// received, `send_to` still sends anywhere; `send` before `connect` is `InvalidArgument`,
/// and a peer with nothing listening makes a later `send` `ConnectionRefused`.
#[test]
fn a_connected_datagram_server_talks_to_its_peer_only() {
    let (client, client_addr, peer) = server_and_peer();
    let e = client.send(b"early").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
    let to = peer.local_addr().unwrap();
    let got = client.connect(to.to_string().as_str(), None).unwrap();
    assert_eq!(got.as_inet().unwrap(), to);
    // Another sender's datagram is dropped by the kernel once connected.
    let stranger = UdpSocket::bind("127.0.0.1:0").unwrap();
    stranger.send_to(b"stranger", client_addr).unwrap();
    let wait = Some(Duration::from_secs(10));
    let mut buf = [0u8; 64];
    for i in 0..100u32 {
        let msg = i.to_be_bytes();
        assert_eq!(client.send(&msg).unwrap(), 4);
        let (n, from) = peer.recv_from(&mut buf).unwrap();
        assert_eq!((&buf[..n], from), (&msg[..], client_addr));
        peer.send_to(&msg, client_addr).unwrap();
        let info = client.next_datagram_into(&mut buf, wait).unwrap().unwrap();
        assert_eq!(&buf[..info.len], &msg[..]);
        assert_eq!(info.peer.unwrap().as_inet().unwrap(), to);
    }
    let none = client
        .next_datagram_into(&mut buf, Some(Duration::from_millis(50)))
        .unwrap();
    assert!(
        none.is_none(),
        "the stranger's datagram came through: {none:?}"
    );
    // send_to still reaches anyone.
    client
        .send_to(b"direct", &stranger.local_addr().unwrap().into())
        .unwrap();
    stranger
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let (n, _) = stranger.recv_from(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"direct");
    // Connected to a port where nothing listens: the ICMP error comes back on a later send.
    let gone = UdpSocket::bind("127.0.0.1:0").unwrap();
    let gone_addr = gone.local_addr().unwrap();
    drop(gone);
    client.connect(gone_addr, None).unwrap();
    let mut refused = None;
    for _ in 0..50 {
        match client.send(b"anyone?") {
            Ok(_) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => {
                refused = Some(e.kind());
                break;
            }
        }
    }
    assert_eq!(refused, Some(ErrorKind::ConnectionRefused));
    // A client that waits for a reply after each send: the waiting read takes the refusal from
    // the socket, and reports it (it is not lost to the next send's success).
    let mut kinds = Vec::new();
    for _ in 0..20 {
        if let Err(e) = client.send(b"anyone?") {
            kinds.push(("send", e.kind()));
            break;
        }
        match client.next_datagram_into(&mut buf, Some(Duration::from_millis(200))) {
            Ok(None) => {}
            Ok(Some(info)) => panic!("a datagram from nowhere: {info:?}"),
            Err(e) => {
                kinds.push(("next_datagram", e.kind()));
                break;
            }
        }
    }
    assert!(
        matches!(kinds[..], [(_, ErrorKind::ConnectionRefused)]),
        "{kinds:?}"
    );
}
