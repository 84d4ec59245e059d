//! Engine client tests: auto-reconnect (S15), queueing while disconnected, giving up,
//! heartbeat from the client side, idle timeout, close from another thread.

use std::io::Read;
use std::sync::Arc;
use std::time::{Duration, Instant};

use libsock::engine::{
    Client, ClientConfig, DisconnectReason, Event, Heartbeat, IdleMode, Server, ServerConfig,
};
use libsock::{ErrorKind, Result};

const SLOW: Duration = Duration::from_secs(20);

mod common;
use common::{frame, pull_until, small_buffered_peer};

fn on_client(c: &Client) -> impl Fn(Option<Duration>) -> Result<Vec<Event>> + '_ {
    move |t| c.next_events(64, t)
}

fn on_server(s: &Server) -> impl Fn(Option<Duration>) -> Result<Vec<Event>> + '_ {
    move |t| s.next_events(64, t)
}

fn fast_backoff() -> ClientConfig {
    ClientConfig::new().backoff(Duration::from_millis(20), Duration::from_millis(200))
}

/// Bind a server on a port that was just freed (a few tries: the port may linger briefly).
fn bind_again(addr: &str) -> Server {
    let mut last = None;
    for _ in 0..100 {
        match Server::bind(addr, ServerConfig::new()) {
            Ok(s) => return s,
            Err(e) => last = Some(e),
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("could not bind {addr} again: {last:?}");
}

/// Collect `n` messages at the server, in arrival order.
fn server_messages(server: &Server, n: usize) -> Vec<String> {
    let mut got = Vec::new();
    pull_until(on_server(server), SLOW, |e| {
        if let Event::Message { data, .. } = e {
            got.push(String::from_utf8(data.to_vec()).unwrap());
        }
        got.len() == n
    });
    got
}

#[test]
fn s15_client_reconnects_and_messages_queued_meanwhile_arrive_once_in_order() {
    let server = Server::bind("127.0.0.1:0", ServerConfig::new()).unwrap();
    let addr = server.local_addr().to_string();
    let client = Client::connect(addr.as_str(), fast_backoff()).unwrap();
    let evs = pull_until(on_client(&client), SLOW, |e| {
        matches!(e, Event::Connected { .. })
    });
    assert_eq!(evs.last().unwrap().client(), 1);
    for i in 0..10 {
        client.send(format!("m{i}").as_bytes()).unwrap();
    }
    let first = server_messages(&server, 10);
    assert_eq!(first, (0..10).map(|i| format!("m{i}")).collect::<Vec<_>>());

    // The server goes away; the client notices and starts reconnecting.
    server.shutdown(Duration::ZERO);
    drop(server);
    let evs = pull_until(on_client(&client), SLOW, |e| {
        matches!(e, Event::Reconnecting { .. })
    });
    assert!(evs
        .iter()
        .any(|e| matches!(e, Event::Disconnected { client: 1, .. })));
    assert!(!client.is_connected());
    // Messages sent while down are queued.
    for i in 10..30 {
        client.send(format!("m{i}").as_bytes()).unwrap();
    }
    // A few more retries fail while nobody listens.
    std::thread::sleep(Duration::from_millis(300));

    let server = bind_again(&addr);
    let evs = pull_until(on_client(&client), SLOW, |e| {
        matches!(e, Event::Connected { .. })
    });
    assert_eq!(evs.last().unwrap().client(), 2);
    let attempts: Vec<u32> = evs
        .iter()
        .filter_map(|e| match e {
            Event::Reconnecting { attempt, .. } => Some(*attempt),
            _ => None,
        })
        .collect();
    assert!(
        attempts.windows(2).all(|w| w[1] == w[0] + 1),
        "{attempts:?}"
    );
    let second = server_messages(&server, 20);
    assert_eq!(
        second,
        (10..30).map(|i| format!("m{i}")).collect::<Vec<_>>()
    );
    // Nothing more (no duplicates).
    std::thread::sleep(Duration::from_millis(200));
    let extra: Vec<Event> = server
        .next_events(100, Some(Duration::ZERO))
        .unwrap()
        .into_iter()
        .filter(|e| matches!(e, Event::Message { .. }))
        .collect();
    assert!(extra.is_empty(), "{extra:?}");
    let st = client.stats();
    assert_eq!(st.connections, 2);
    assert!(st.failed_attempts >= 1);
    client.close(Duration::from_secs(1));
}

#[test]
fn client_gives_up_after_max_attempts() {
    // A port nobody listens on: bind, read the port, close.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let client = Client::connect(("127.0.0.1", port), fast_backoff().max_attempts(2)).unwrap();
    let evs = pull_until(on_client(&client), SLOW, |e| matches!(e, Event::Closed));
    let kinds: Vec<_> = evs.iter().map(|e| e.kind()).collect();
    use libsock::engine::EventKind::*;
    assert_eq!(
        kinds,
        vec![Reconnecting, Reconnecting, Disconnected, Closed]
    );
    let reason = evs[2].reason().unwrap();
    assert_eq!(evs[2].client(), 0);
    assert_eq!(
        reason.error_kind(),
        Some(ErrorKind::ConnectionRefused),
        "{reason}"
    );
    assert_eq!(
        client.next_events(1, None).unwrap_err().kind(),
        ErrorKind::Closed
    );
    assert_eq!(client.send(b"x").unwrap_err().kind(), ErrorKind::Closed);
}

#[test]
fn send_queue_is_bounded_while_disconnected() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let client =
        Client::connect(("127.0.0.1", port), fast_backoff().send_queue_bytes(1000)).unwrap();
    let msg = [1u8; 100]; // 104 bytes framed
    for _ in 0..9 {
        client.send(&msg).unwrap();
    }
    let e = client.send(&msg).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::QueueFull, "{e}");
    assert_eq!(client.stats().queued_bytes, 9 * 104);
    client.close(Duration::ZERO);
    assert_eq!(client.send(&msg).unwrap_err().kind(), ErrorKind::Closed);
}

#[test]
fn s16_client_heartbeat_detects_a_peer_that_stopped_answering() {
    // The "server" accepts and reads but never answers.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let peer = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut buf = [0u8; 1024];
        let mut n = 0;
        while let Ok(k) = s.read(&mut buf) {
            if k == 0 {
                break;
            }
            n += k;
        }
        n
    });
    let interval = Duration::from_millis(100);
    let client = Client::connect(
        addr,
        ClientConfig::new()
            .reconnect(false)
            .heartbeat(Some(Heartbeat::new(interval, 4))),
    )
    .unwrap();
    pull_until(on_client(&client), SLOW, |e| {
        matches!(e, Event::Connected { .. })
    });
    let t0 = Instant::now();
    let evs = pull_until(on_client(&client), SLOW, |e| {
        matches!(e, Event::Disconnected { .. })
    });
    assert_eq!(
        evs.last().unwrap().reason(),
        Some(&DisconnectReason::HeartbeatLost)
    );
    assert!(t0.elapsed() < interval * 4 + Duration::from_secs(3));
    assert!(peer.join().unwrap() > 0, "the peer got pings");
    // Without reconnect the client then stops: Closed, then the Closed error.
    let end = Instant::now() + SLOW;
    loop {
        match client.next_events(16, Some(Duration::from_millis(50))) {
            Ok(_) => assert!(Instant::now() < end, "the client never closed"),
            Err(e) => {
                assert_eq!(e.kind(), ErrorKind::Closed);
                break;
            }
        }
    }
}

#[test]
fn heartbeat_between_two_engines_keeps_an_idle_link_alive_and_is_invisible() {
    let interval = Duration::from_millis(50);
    let server = Server::bind(
        "127.0.0.1:0",
        ServerConfig::new().heartbeat(Some(Heartbeat::new(interval, 3))),
    )
    .unwrap();
    let client = Client::connect(
        server.local_addr(),
        ClientConfig::new().heartbeat(Some(Heartbeat::new(interval, 3))),
    )
    .unwrap();
    pull_until(on_client(&client), SLOW, |e| {
        matches!(e, Event::Connected { .. })
    });
    // Ten intervals of application silence: pings and pongs flow, nobody sees them.
    std::thread::sleep(interval * 10);
    let evs = server.next_events(100, Some(Duration::ZERO)).unwrap();
    assert!(
        evs.iter().all(|e| matches!(e, Event::Connected { .. })),
        "{evs:?}"
    );
    let evs = client.next_events(100, Some(Duration::ZERO)).unwrap();
    assert!(evs.is_empty(), "{evs:?}");
    assert!(client.is_connected());
    assert_eq!(server.stats().messages_in, 0);
    assert!(server.stats().bytes_in > 0, "heartbeats moved");
    client.send(b"real").unwrap();
    let evs = pull_until(on_server(&server), SLOW, |e| {
        matches!(e, Event::Message { .. })
    });
    assert_eq!(evs.last().unwrap().data().unwrap().as_ref(), b"real");
}

#[test]
fn client_idle_timeout_then_reconnect() {
    let server = Server::bind("127.0.0.1:0", ServerConfig::new()).unwrap();
    let client = Client::connect(
        server.local_addr(),
        fast_backoff().idle_timeout(Some(Duration::from_millis(200)), IdleMode::ReadsAndWrites),
    )
    .unwrap();
    let evs = pull_until(on_client(&client), SLOW, |e| {
        matches!(e, Event::Connected { client: 2, .. })
    });
    assert!(evs
        .iter()
        .any(|e| e.reason() == Some(&DisconnectReason::IdleTimeout)));
}

#[test]
fn echo_through_client_and_server() {
    let server = Arc::new(Server::bind("127.0.0.1:0", ServerConfig::new()).unwrap());
    let client = Client::connect(server.local_addr(), ClientConfig::new()).unwrap();
    let n = 500;
    for i in 0..n {
        client.send(format!("{i}").as_bytes()).unwrap();
    }
    let mut echoed = 0;
    pull_until(on_server(&server), SLOW, |e| {
        if let Event::Message { client, data } = e {
            server.send(*client, data).unwrap();
            echoed += 1;
        }
        echoed == n
    });
    let mut got = Vec::new();
    pull_until(on_client(&client), SLOW, |e| {
        if let Event::Message { data, .. } = e {
            got.push(String::from_utf8(data.to_vec()).unwrap());
        }
        got.len() == n
    });
    assert_eq!(got, (0..n).map(|i| format!("{i}")).collect::<Vec<_>>());
}

#[test]
fn close_from_another_thread_wakes_next_events_and_flushes() {
    let server = Server::bind("127.0.0.1:0", ServerConfig::new()).unwrap();
    let client = Arc::new(Client::connect(server.local_addr(), ClientConfig::new()).unwrap());
    pull_until(on_client(&client), SLOW, |e| {
        matches!(e, Event::Connected { .. })
    });
    let c2 = client.clone();
    let waiter = std::thread::spawn(move || {
        let mut kinds = Vec::new();
        loop {
            match c2.next_events(16, None) {
                Ok(evs) => kinds.extend(evs.iter().map(|e| e.kind())),
                Err(e) => return (kinds, e.kind()),
            }
        }
    });
    std::thread::sleep(Duration::from_millis(100));
    for i in 0..100u32 {
        client.send(&i.to_be_bytes()).unwrap();
    }
    client.close(Duration::from_secs(5));
    let (kinds, err) = waiter.join().unwrap();
    assert_eq!(err, ErrorKind::Closed);
    use libsock::engine::EventKind::*;
    assert_eq!(kinds, vec![Disconnected, Closed]);
    // Everything sent before close arrived.
    let mut n = 0u32;
    pull_until(on_server(&server), SLOW, |e| {
        if let Event::Message { data, .. } = e {
            assert_eq!(&data[..], &n.to_be_bytes());
            n += 1;
        }
        matches!(e, Event::Disconnected { .. })
    });
    assert_eq!(n, 100);
}

#[test]
fn unix_client_connects() {
    let path = std::env::temp_dir().join(format!("libsock-engine-c-{}.sock", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let ep = format!("unix:{}", path.display());
    let server = Server::bind(ep.as_str(), ServerConfig::new()).unwrap();
    let client = Client::connect(ep.as_str(), ClientConfig::new()).unwrap();
    client.send(b"hello unix").unwrap();
    let evs = pull_until(on_server(&server), SLOW, |e| {
        matches!(e, Event::Message { .. })
    });
    assert_eq!(evs.last().unwrap().data().unwrap().as_ref(), b"hello unix");
}

#[cfg(target_os = "linux")]
#[test]
fn abstract_unix_endpoints_work_both_ways() {
    let ep = format!("unix:@libsock-engine-{}", std::process::id());
    let server = Server::bind(ep.as_str(), ServerConfig::new()).unwrap();
    let client = Client::connect(ep.as_str(), ClientConfig::new()).unwrap();
    client.send(b"abstract").unwrap();
    let evs = pull_until(on_server(&server), SLOW, |e| {
        matches!(e, Event::Message { .. })
    });
    let ev = evs.last().unwrap();
    server.send(ev.client(), b"back").unwrap();
    let evs = pull_until(on_client(&client), SLOW, |e| {
        matches!(e, Event::Message { .. })
    });
    assert_eq!(evs.last().unwrap().data().unwrap().as_ref(), b"back");
}

/// A numbered 16 KiB message (4-byte big-endian length prefix framing on the wire).
fn numbered(i: u32) -> Vec<u8> {
    let mut m = vec![(i % 251) as u8; 16 * 1024];
    m[..4].copy_from_slice(&i.to_be_bytes());
    m
}

#[test]
fn send_timeout_and_send_batch_wait_for_room_instead_of_failing() {
    // A peer that does not read yet: the kernel buffers fill, then the client's queue.
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let client = Client::connect(
        l.local_addr().unwrap().to_string(),
        ClientConfig::new().send_queue_bytes(256 * 1024),
    )
    .unwrap();
    let (mut peer, _) = l.accept().unwrap();
    pull_until(
        |t| client.next_events(8, t),
        SLOW,
        |e| matches!(e, Event::Connected { .. }),
    );
    // Fill until a send is refused, and again after a pause: then the connection's task holds
    // all it can write and the queue is full for good while the peer does not read.
    let mut next = 0u32;
    let mut refused_in_a_row = 0;
    while refused_in_a_row < 2 {
        match client.send(&numbered(next)) {
            Ok(()) => {
                next += 1;
                refused_in_a_row = 0;
            }
            Err(e) if e.kind() == ErrorKind::QueueFull => {
                refused_in_a_row += 1;
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(e) => panic!("{e}"),
        }
        assert!(next < 100_000, "the queue never filled");
    }
    // Full: a bounded wait times out and queues nothing.
    let e = client
        .send_timeout(&numbered(next), Some(Duration::from_millis(100)))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
    // Now the peer reads everything; the batch waits for room as the queue drains.
    let total = next + 200;
    let reader = std::thread::spawn(move || {
        peer.set_read_timeout(Some(SLOW)).unwrap();
        let mut got = Vec::new();
        let mut frame = vec![0u8; 4 + 16 * 1024];
        for i in 0..total {
            peer.read_exact(&mut frame).unwrap();
            assert_eq!(&frame[..4], &(16u32 * 1024).to_be_bytes());
            assert_eq!(&frame[4..], &numbered(i)[..], "message {i}");
            got.push(i);
        }
        got.len()
    });
    let batch: Vec<Vec<u8>> = (next..total).map(numbered).collect();
    let refs: Vec<&[u8]> = batch.iter().map(|m| &m[..]).collect();
    assert_eq!(client.send_batch(&refs, Some(SLOW)).unwrap(), refs.len());
    assert_eq!(reader.join().unwrap(), total as usize);
    // A message that can never fit is refused at once, whatever the timeout.
    let e = client
        .send_timeout(&vec![0u8; 300 * 1024], None)
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::FrameTooLarge, "{e}");
    client.close(Duration::from_secs(1));
}

/// A server whose send queue holds `queue_bytes`, a plain TCP peer connected to it, and the
/// peer's client id (its `Connected` event taken).
fn server_and_peer(queue_bytes: usize) -> (Server, std::net::TcpStream, u64) {
    let server = Server::bind(
        "127.0.0.1:0",
        ServerConfig::new().send_queue_bytes(queue_bytes),
    )
    .unwrap();
    let peer = std::net::TcpStream::connect(server.local_addr().as_inet().unwrap()).unwrap();
    let id = match pull_until(
        |t| server.next_events(8, t),
        SLOW,
        |e| matches!(e, Event::Connected { .. }),
    )
    .pop()
    {
        Some(Event::Connected { client, .. }) => client,
        other => panic!("{other:?}"),
    };
    (server, peer, id)
}

#[test]
fn server_send_timeout_waits_for_a_slow_client() {
    let (server, mut peer, id) = server_and_peer(256 * 1024);
    let total = 2000u32; // 32 MiB: far more than the queue and the kernel buffers hold
    let reader = std::thread::spawn(move || {
        peer.set_read_timeout(Some(SLOW)).unwrap();
        std::thread::sleep(Duration::from_millis(200)); // let the queue fill first
        let mut frame = vec![0u8; 4 + 16 * 1024];
        for i in 0..total {
            peer.read_exact(&mut frame).unwrap();
            assert_eq!(&frame[4..], &numbered(i)[..], "message {i}");
        }
    });
    // The first half one by one, the rest in batches of 64 (each waiting for room as needed).
    for i in 0..total / 2 {
        server.send_timeout(id, &numbered(i), Some(SLOW)).unwrap();
    }
    let rest: Vec<Vec<u8>> = (total / 2..total).map(numbered).collect();
    for chunk in rest.chunks(64) {
        let refs: Vec<&[u8]> = chunk.iter().map(|m| &m[..]).collect();
        assert_eq!(
            server.send_batch(id, &refs, Some(SLOW)).unwrap(),
            refs.len()
        );
    }
    reader.join().unwrap();
    assert_eq!(server.stats().send_queue_full, 0, "no send was refused");
    // A write is counted when the write call returns, which can come after the peer read it.
    let t0 = std::time::Instant::now();
    while server.stats().messages_out < total as u64 && t0.elapsed() < SLOW {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(server.stats().messages_out, total as u64);
    // A batch to a client that is gone, and one with a message that can never fit.
    assert_eq!(
        server.send_batch(9999, &[b"x"], None).unwrap_err().kind(),
        ErrorKind::Closed
    );
    let big = vec![0u8; 300 * 1024];
    assert_eq!(
        server
            .send_batch(id, &[b"fits", &big], None)
            .unwrap_err()
            .kind(),
        ErrorKind::FrameTooLarge
    );
    server.shutdown(Duration::from_secs(1));
}

/// Batches of small messages written by the sender's thread while the socket takes only part
/// of them (a peer that reads slowly, in odd-sized pieces): the rest of a split frame and the
/// runs of whole frames behind it are queued in order, so every byte arrives once, in order,
/// and `messages_out` counts each message once.
#[test]
fn batches_written_in_part_by_the_sender_arrive_whole_and_are_counted_once() {
    let (server, mut peer, id) = server_and_peer(48 * 1024);
    let total = 30_000u32;
    let msg = |i: u32| {
        let mut m = vec![(i % 253) as u8; 20 + (i as usize * 7) % 300];
        m[..4].copy_from_slice(&i.to_be_bytes());
        m
    };
    let reader = std::thread::spawn(move || {
        peer.set_read_timeout(Some(SLOW)).unwrap();
        let mut wire = Vec::new();
        let mut buf = vec![0u8; 4093];
        let mut i = 0u32;
        while i < total {
            if i < total / 2 {
                std::thread::sleep(Duration::from_micros(200)); // slow at first: partial writes
            }
            let n = peer.read(&mut buf).unwrap();
            assert!(n > 0, "end of stream after {i} messages");
            wire.extend_from_slice(&buf[..n]);
            let mut at = 0;
            while wire.len() - at >= 4 {
                let len = u32::from_be_bytes(wire[at..at + 4].try_into().unwrap()) as usize;
                if wire.len() - at - 4 < len {
                    break;
                }
                assert_eq!(&wire[at + 4..at + 4 + len], &msg(i)[..], "message {i}");
                at += 4 + len;
                i += 1;
            }
            wire.drain(..at);
        }
    });
    let all: Vec<Vec<u8>> = (0..total).map(msg).collect();
    for chunk in all.chunks(64) {
        let refs: Vec<&[u8]> = chunk.iter().map(|m| &m[..]).collect();
        assert_eq!(
            server.send_batch(id, &refs, Some(SLOW)).unwrap(),
            refs.len()
        );
    }
    reader.join().unwrap();
    let t0 = std::time::Instant::now();
    while server.stats().messages_out < total as u64 && t0.elapsed() < SLOW {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(server.stats().messages_out, total as u64);
    server.shutdown(Duration::from_secs(1));
}

/// A batch sender that has time to wait keeps the send queue short: once 256 KiB are queued it
/// waits for the connection to take them, instead of filling the whole bound (megabytes
/// queued cost cache misses on every copy, and the socket buffers already hold a backlog).
/// When its time runs out it queues what fits the bound, as before, and says how many. What
/// was queued arrives whole and in order.
#[test]
fn a_waiting_batch_sender_keeps_the_queue_short_until_its_time_runs_out() {
    const SOFT: u64 = 256 * 1024;
    const RUN: u64 = 64 * 1024;
    const CAP: usize = 4 << 20;
    let (server, mut peer, id) = server_and_peer(CAP);
    // 16 MiB, while the peer reads nothing: the kernel's buffers fill, then the queue.
    let msgs: Vec<Vec<u8>> = (0..1024).map(numbered).collect();
    let refs: Vec<&[u8]> = msgs.iter().map(|m| &m[..]).collect();
    let wait = Duration::from_secs(3);
    let start = Instant::now();
    let (most_seen, queued) = std::thread::scope(|s| {
        let sender = s.spawn(|| server.send_batch(id, &refs, Some(wait)));
        // Sample the queue while the sender waits (well before its time is up).
        let mut most = 0;
        while start.elapsed() < wait / 2 {
            most = most.max(server.stats().queued_bytes);
            std::thread::sleep(Duration::from_millis(5));
        }
        (most, sender.join().unwrap().unwrap())
    });
    assert!(most_seen > 0, "the sender never queued anything");
    assert!(
        most_seen <= SOFT + RUN,
        "a sender with time to wait let {most_seen} bytes queue"
    );
    // Time ran out: the rest that fits the bound was queued, not all 16 MiB.
    let after = server.stats().queued_bytes;
    assert!(
        after > SOFT + RUN,
        "only {after} bytes queued when the time ran out"
    );
    assert!(after <= CAP as u64);
    assert!(queued > 0 && queued < msgs.len(), "queued {queued}");
    // The peer now reads: exactly the first `queued` messages, whole and in order.
    peer.set_read_timeout(Some(SLOW)).unwrap();
    let mut frame = vec![0u8; 4 + 16 * 1024];
    for (i, m) in msgs.iter().enumerate().take(queued) {
        peer.read_exact(&mut frame).unwrap();
        assert_eq!(&frame[4..], &m[..], "message {i}");
    }
    peer.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let mut extra = [0u8; 1];
    assert!(
        peer.read(&mut extra).is_err(),
        "bytes beyond the {queued} messages queued"
    );
}

/// Read one frame of the default framing from a blocking peer.
fn read_frame(peer: &mut std::net::TcpStream) -> Vec<u8> {
    let mut hdr = [0u8; 4];
    peer.read_exact(&mut hdr).unwrap();
    let mut body = vec![0u8; u32::from_be_bytes(hdr) as usize];
    peer.read_exact(&mut body).unwrap();
    body
}

/// The messages of the next pull (waiting up to `SLOW` for the first), and any other event.
fn pull_messages(c: &Client) -> (Vec<Vec<u8>>, Vec<Event>) {
    let (mut msgs, mut other) = (Vec::new(), Vec::new());
    for e in c.next_events(4096, Some(SLOW)).unwrap() {
        match e {
            Event::Message { data, .. } => msgs.push(data.to_vec()),
            e => other.push(e),
        }
    }
    (msgs, other)
}

/// A consumer that waits on an engine client reads the connection itself (request–reply
/// traffic then costs no hand-off between threads), and the engine's runtime reads again
/// while nobody waits. Whoever reads, the messages come whole, once, in order: replies read
/// by the waiting consumer, frames written one byte at a time, a burst larger than the
/// socket buffers written while nobody pulls (the runtime takes the reading back), then a
/// tail that forms no frame (reported) and the end of the stream.
#[test]
fn a_waiting_consumer_reads_the_client_connection_itself_and_nothing_is_lost() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    // Small socket buffers, so that the burst below must be read while it is written.
    let mut cfg = ClientConfig::new().reconnect(false);
    cfg.options.recv_buffer_size = Some(64 * 1024);
    let client = Client::connect(addr.as_str(), cfg).unwrap();
    let mut peer = small_buffered_peer(listener.accept().unwrap().0);
    pull_until(on_client(&client), SLOW, |e| {
        matches!(e, Event::Connected { .. })
    });
    use std::io::Write;
    // Request–reply: each reply arrives while the consumer waits for it.
    for i in 0..300u32 {
        client.send(&i.to_be_bytes()).unwrap();
        assert_eq!(read_frame(&mut peer), i.to_be_bytes());
        peer.write_all(&frame(&(i + 1_000_000).to_be_bytes()))
            .unwrap();
        let (msgs, other) = pull_messages(&client);
        assert!(other.is_empty(), "{other:?}");
        assert_eq!(
            msgs,
            vec![(i + 1_000_000).to_be_bytes().to_vec()],
            "reply {i}"
        );
    }
    // A frame written a byte at a time while the consumer waits: one message.
    let slow = frame(b"byte by byte");
    let writer = {
        let mut p = peer.try_clone().unwrap();
        std::thread::spawn(move || {
            for b in slow {
                p.write_all(&[b]).unwrap();
                std::thread::sleep(Duration::from_millis(2));
            }
        })
    };
    let (msgs, _) = pull_messages(&client);
    assert_eq!(msgs, vec![b"byte by byte".to_vec()]);
    writer.join().unwrap();
    // A burst of 2 MiB while nobody pulls: more than the socket buffers hold, so the writer
    // finishes only if the engine's runtime takes the reading back (the event queue holds
    // 4,096 messages).
    const BURST: u32 = 2 * 1024;
    let writer = {
        let mut p = peer.try_clone().unwrap();
        std::thread::spawn(move || {
            let mut body = vec![7u8; 1024];
            for i in 0..BURST {
                body[..4].copy_from_slice(&i.to_be_bytes());
                p.write_all(&frame(&body)).unwrap();
            }
        })
    };
    writer.join().unwrap();
    let mut next = 0u32;
    while next < BURST {
        let (msgs, other) = pull_messages(&client);
        assert!(other.is_empty(), "{other:?}");
        for m in msgs {
            assert_eq!(m.len(), 1024);
            assert_eq!(&m[..4], &next.to_be_bytes(), "burst message {next}");
            next += 1;
        }
    }
    // A tail that forms no frame, then the end of the stream, while the consumer waits.
    peer.write_all(&frame(b"last")).unwrap();
    peer.write_all(&[0, 0, 0]).unwrap();
    drop(peer);
    let evs = pull_until(on_client(&client), SLOW, |e| {
        matches!(e, Event::Disconnected { .. })
    });
    let msgs: Vec<_> = evs.iter().filter_map(|e| e.data()).collect();
    assert_eq!(msgs, vec![&b"last"[..]]);
    assert!(
        evs.iter().any(
            |e| matches!(e, Event::Warning { error: ErrorKind::Closed, message, .. }
            if message.contains("3 bytes left over"))
        ),
        "{evs:?}"
    );
    assert!(matches!(
        evs.last(),
        Some(Event::Disconnected {
            reason: DisconnectReason::PeerClosed,
            ..
        })
    ));
    assert_eq!(client.stats().messages_in, 300 + 1 + BURST as u64 + 1);
}

/// A frame over the framing's limit, read by a waiting consumer, ends the connection with
/// `FrameTooLarge` (as when the runtime reads it); the client then reconnects, and a consumer
/// reads the new connection as well.
#[test]
fn a_frame_too_large_read_by_a_waiting_consumer_ends_the_connection_and_the_next_one_works() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let mut cfg = fast_backoff();
    cfg.framing = libsock::Framing::LengthPrefixed(libsock::LengthPrefixed::new(4).max_len(1000));
    let client = Client::connect(addr.as_str(), cfg).unwrap();
    use std::io::Write;
    for round in 0..2u8 {
        let (mut peer, _) = listener.accept().unwrap();
        pull_until(on_client(&client), SLOW, |e| {
            matches!(e, Event::Connected { .. })
        });
        // The consumer waits (and reads) before the frames arrive.
        let writer = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            peer.write_all(&frame(&[round; 10])).unwrap();
            peer.write_all(&2000u32.to_be_bytes()).unwrap();
            peer
        });
        let evs = pull_until(on_client(&client), SLOW, |e| {
            matches!(e, Event::Disconnected { .. })
        });
        let _peer = writer.join().unwrap();
        let msgs: Vec<_> = evs.iter().filter_map(|e| e.data()).collect();
        assert_eq!(msgs, vec![&[round; 10][..]], "round {round}");
        assert!(
            matches!(
                evs.last(),
                Some(Event::Disconnected {
                    reason: DisconnectReason::FrameTooLarge,
                    ..
                })
            ),
            "{evs:?}"
        );
    }
}
