//! Engine server tests over real loopback sockets; peers are the blocking libsock `Connection`
//! or plain std sockets. Every loop is bounded; time bounds are generous.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use libsock::engine::{
    DisconnectReason, Event, Heartbeat, IdleMode, SendPolicy, Server, ServerConfig,
};
use libsock::{ConnectOptions, Connection, ErrorKind, Framing, Result};

mod common;
use common::{frame, small_buffered_peer};

const SLOW: Duration = Duration::from_secs(20);

fn peer(server: &Server) -> Connection {
    let opts = ConnectOptions::new()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Some(Duration::from_secs(20)))
        .framing(Framing::length_prefixed());
    Connection::connect_with(server.local_addr(), &opts).expect("connect")
}

/// Pull events until `pred` matches one (returned with everything before it); panics after
/// `limit`.
fn pull_until(
    server: &Server,
    limit: Duration,
    mut pred: impl FnMut(&Event) -> bool,
) -> Vec<Event> {
    let end = Instant::now() + limit;
    let mut seen = Vec::new();
    while Instant::now() < end {
        for ev in server
            .next_events(64, Some(Duration::from_millis(50)))
            .expect("next_events")
        {
            let hit = pred(&ev);
            seen.push(ev);
            if hit {
                return seen;
            }
        }
    }
    panic!("event not seen within {limit:?}; saw {seen:?}");
}

/// Wait (bounded by SLOW) until `n` events are queued.
fn wait_pending(server: &Server, n: usize) {
    let t0 = Instant::now();
    while server.pending() < n && t0.elapsed() < SLOW {
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// The kind code of the next event (waiting up to SLOW for it).
fn next_kind(server: &Server) -> i32 {
    server
        .next_event(Some(SLOW))
        .unwrap()
        .unwrap()
        .kind()
        .code()
}

/// Runs an echo loop on a thread until `stop` is set; returns how many messages it echoed.
fn echo_thread(
    server: Arc<Server>,
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<Result<usize>> {
    std::thread::spawn(move || {
        let mut n = 0;
        while !stop.load(Ordering::Relaxed) {
            for ev in server.next_events(256, Some(Duration::from_millis(20)))? {
                if let Event::Message { client, data } = ev {
                    server.send(client, &data)?;
                    n += 1;
                }
            }
        }
        Ok(n)
    })
}

#[test]
fn s13_fifty_clients_each_get_their_hundred_messages_back_in_order() {
    let server = Arc::new(Server::bind("127.0.0.1:0", ServerConfig::new()).unwrap());
    let stop = Arc::new(AtomicBool::new(false));
    let echo = echo_thread(server.clone(), stop.clone());
    let clients: Vec<_> = (0..50)
        .map(|c| {
            let conn = peer(&server);
            std::thread::spawn(move || {
                for m in 0..100 {
                    conn.send_msg(format!("client {c} message {m}").as_bytes())
                        .unwrap();
                }
                for m in 0..100 {
                    let got = conn.recv_msg().unwrap();
                    assert_eq!(&got[..], format!("client {c} message {m}").as_bytes());
                }
            })
        })
        .collect();
    for c in clients {
        c.join().unwrap();
    }
    stop.store(true, Ordering::Relaxed);
    assert_eq!(echo.join().unwrap().unwrap(), 5000);
    let st = server.stats();
    assert_eq!(st.messages_in, 5000);
    assert_eq!(st.connections_total, 50);
    server.shutdown(Duration::from_secs(1));
}

#[test]
fn s14_broadcast_reaches_each_of_fifty_clients_exactly_once() {
    let server = Server::bind("127.0.0.1:0", ServerConfig::new()).unwrap();
    let conns: Vec<Connection> = (0..50).map(|_| peer(&server)).collect();
    let mut connected = 0;
    pull_until(&server, SLOW, |e| {
        if matches!(e, Event::Connected { .. }) {
            connected += 1;
        }
        connected == 50
    });
    assert_eq!(server.clients().len(), 50);
    assert_eq!(server.broadcast(b"to everyone", None).unwrap(), 50);
    assert_eq!(server.broadcast(b"end", None).unwrap(), 50);
    for c in &conns {
        assert_eq!(&c.recv_msg().unwrap()[..], b"to everyone");
        assert_eq!(&c.recv_msg().unwrap()[..], b"end");
    }
    // `except` skips one client.
    let first = server.clients()[0].0;
    assert_eq!(server.broadcast(b"not you", Some(first)).unwrap(), 49);
    server.shutdown(Duration::from_secs(1));
}

#[test]
fn client_ids_start_at_one_and_are_never_reused() {
    let server = Server::bind("127.0.0.1:0", ServerConfig::new()).unwrap();
    let mut ids = Vec::new();
    for _ in 0..3 {
        let c = peer(&server);
        let evs = pull_until(&server, SLOW, |e| matches!(e, Event::Connected { .. }));
        ids.push(evs.last().unwrap().client());
        drop(c);
        let evs = pull_until(&server, SLOW, |e| matches!(e, Event::Disconnected { .. }));
        assert_eq!(
            evs.last().unwrap().reason(),
            Some(&DisconnectReason::PeerClosed)
        );
    }
    assert_eq!(ids, vec![1, 2, 3]);
}

#[test]
fn max_clients_refuses_extra_connections_and_counts_them() {
    let server = Server::bind("127.0.0.1:0", ServerConfig::new().max_clients(2)).unwrap();
    let a = peer(&server);
    let b = peer(&server);
    let mut n = 0;
    pull_until(&server, SLOW, |e| {
        n += matches!(e, Event::Connected { .. }) as usize;
        n == 2
    });
    let c = peer(&server);
    // The third connection is closed at once: its read sees the end of the stream.
    let e = c.recv_msg().unwrap_err();
    assert!(
        matches!(e.kind(), ErrorKind::Closed | ErrorKind::ConnectionReset),
        "{e}"
    );
    assert_eq!(server.stats().refused, 1);
    assert_eq!(server.stats().connections, 2);
    // The others still work.
    a.send_msg(b"still here").unwrap();
    let evs = pull_until(&server, SLOW, |e| matches!(e, Event::Message { .. }));
    assert_eq!(evs.last().unwrap().data().unwrap().as_ref(), b"still here");
    drop(b);
}

#[test]
fn idle_timeout_disconnects_a_silent_client() {
    let idle = Duration::from_millis(300);
    let server = Server::bind(
        "127.0.0.1:0",
        ServerConfig::new().idle_timeout(Some(idle), IdleMode::Reads),
    )
    .unwrap();
    let c = peer(&server);
    let t0 = Instant::now();
    let evs = pull_until(&server, SLOW, |e| matches!(e, Event::Disconnected { .. }));
    assert_eq!(
        evs.last().unwrap().reason(),
        Some(&DisconnectReason::IdleTimeout)
    );
    assert!(t0.elapsed() >= idle / 2);
    assert!(t0.elapsed() < idle + Duration::from_secs(5));
    assert!(c.recv_msg().is_err());
}

#[test]
fn s16_heartbeat_declares_a_silent_peer_dead_within_interval_times_misses() {
    let interval = Duration::from_millis(200);
    let misses = 3;
    let server = Server::bind(
        "127.0.0.1:0",
        ServerConfig::new().heartbeat(Some(Heartbeat::new(interval, misses))),
    )
    .unwrap();
    // A raw peer that reads everything but never answers.
    let mut raw = TcpStream::connect(server.local_addr().as_inet().unwrap()).unwrap();
    raw.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let reader = std::thread::spawn(move || {
        let mut all = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(n) = raw.read(&mut buf) {
            if n == 0 {
                break;
            }
            all.extend_from_slice(&buf[..n]);
        }
        all
    });
    pull_until(&server, SLOW, |e| matches!(e, Event::Connected { .. }));
    let t0 = Instant::now();
    let evs = pull_until(&server, SLOW, |e| matches!(e, Event::Disconnected { .. }));
    let took = t0.elapsed();
    assert_eq!(
        evs.last().unwrap().reason(),
        Some(&DisconnectReason::HeartbeatLost)
    );
    assert!(
        took < interval * misses + Duration::from_secs(3),
        "took {took:?}"
    );
    // The peer was pinged (framed "\0LSPING") before being given up.
    let got = reader.join().unwrap();
    assert!(got.starts_with(&frame(b"\0LSPING")), "{got:?}");
}

#[test]
fn pings_are_answered_and_never_delivered() {
    let server = Server::bind("127.0.0.1:0", ServerConfig::new()).unwrap();
    let mut raw = TcpStream::connect(server.local_addr().as_inet().unwrap()).unwrap();
    raw.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    raw.write_all(&frame(b"\0LSPING")).unwrap();
    let mut pong = vec![0u8; frame(b"\0LSPONG").len()];
    raw.read_exact(&mut pong).unwrap();
    assert_eq!(pong, frame(b"\0LSPONG"));
    raw.write_all(&frame(b"\0LSPONG")).unwrap();
    raw.write_all(&frame(b"app")).unwrap();
    let evs = pull_until(&server, SLOW, |e| matches!(e, Event::Message { .. }));
    let msgs: Vec<_> = evs.iter().filter_map(|e| e.data()).collect();
    assert_eq!(msgs, vec![&bytes::Bytes::from_static(b"app")]);
}

#[test]
fn frame_too_large_disconnects_with_that_reason() {
    let server = Server::bind(
        "127.0.0.1:0",
        ServerConfig::new().framing(Framing::LengthPrefixed(
            libsock::LengthPrefixed::new(4).max_len(1000),
        )),
    )
    .unwrap();
    let mut raw = TcpStream::connect(server.local_addr().as_inet().unwrap()).unwrap();
    raw.write_all(&0x7fff_ffffu32.to_be_bytes()).unwrap();
    let evs = pull_until(&server, SLOW, |e| matches!(e, Event::Disconnected { .. }));
    assert_eq!(
        evs.last().unwrap().reason(),
        Some(&DisconnectReason::FrameTooLarge)
    );
    // Sending too large a message is refused at once.
    assert_eq!(
        server.send(1, &[0u8; 2000]).unwrap_err().kind(),
        ErrorKind::FrameTooLarge
    );
}

/// A peer with a small receive buffer that never reads.
fn stalled_peer(server: &Server) -> socket2::Socket {
    let s = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    s.set_recv_buffer_size(4096).unwrap();
    s.connect(&server.local_addr().as_inet().unwrap().into())
        .unwrap();
    s
}

#[test]
fn slow_reader_with_error_policy_gets_queue_full_and_memory_stays_bounded() {
    let bound = 64 * 1024;
    let server = Server::bind(
        "127.0.0.1:0",
        ServerConfig::new()
            .send_queue_bytes(bound)
            .send_policy(SendPolicy::Error),
    )
    .unwrap();
    let _stalled = stalled_peer(&server);
    let id = pull_until(&server, SLOW, |e| matches!(e, Event::Connected { .. }))
        .last()
        .unwrap()
        .client();
    let msg = vec![7u8; 16 * 1024];
    let mut full = None;
    for i in 0..10_000 {
        match server.send(id, &msg) {
            Ok(()) => {}
            Err(e) => {
                full = Some((i, e));
                break;
            }
        }
        if i % 64 == 63 {
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    let (i, e) = full.expect("the queue never filled");
    assert_eq!(e.kind(), ErrorKind::QueueFull, "{e}");
    assert!(i > 0);
    assert!(server.queued_bytes(id).unwrap() <= bound);
    assert!(server.stats().queued_bytes <= bound as u64);
    // The client is still connected: the policy only refuses.
    assert_eq!(server.clients().len(), 1);
}

#[test]
fn slow_reader_with_disconnect_policy_is_kicked() {
    let server = Server::bind(
        "127.0.0.1:0",
        ServerConfig::new()
            .send_queue_bytes(64 * 1024)
            .send_policy(SendPolicy::Disconnect),
    )
    .unwrap();
    let _stalled = stalled_peer(&server);
    let id = pull_until(&server, SLOW, |e| matches!(e, Event::Connected { .. }))
        .last()
        .unwrap()
        .client();
    let msg = vec![7u8; 16 * 1024];
    for _ in 0..10_000 {
        if server.send(id, &msg).is_err() {
            break;
        }
    }
    let evs = pull_until(&server, SLOW, |e| matches!(e, Event::Disconnected { .. }));
    assert_eq!(
        evs.last().unwrap().reason(),
        Some(&DisconnectReason::SendQueueFull)
    );
    assert_eq!(server.stats().queued_bytes, 0);
    assert_eq!(server.send(id, b"x").unwrap_err().kind(), ErrorKind::Closed);
}

#[test]
fn consumer_that_stops_pulling_stops_the_reads_and_nothing_is_lost() {
    let cap = 16;
    // Small socket buffers so that 2 MB cannot hide in the kernel.
    let server = Server::bind(
        "127.0.0.1:0",
        ServerConfig::new()
            .event_capacity(cap)
            .options(libsock::SocketOptions::new().recv_buffer_size(16 * 1024)),
    )
    .unwrap();
    let opts = ConnectOptions::new()
        .timeout(Some(Duration::from_secs(60)))
        .framing(Framing::length_prefixed())
        .options(libsock::SocketOptions::new().send_buffer_size(16 * 1024));
    let conn = Connection::connect_with(server.local_addr(), &opts).unwrap();
    let total = 20_000usize;
    let sender = std::thread::spawn(move || {
        let msg = [b'x'; 100];
        for i in 0..total {
            let mut m = msg;
            m[..8].copy_from_slice(&(i as u64).to_be_bytes());
            conn.send_msg(&m).unwrap();
        }
        conn
    });
    // Do not pull for a while: the queue stays at its bound.
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        server.pending() <= cap,
        "{} events queued",
        server.pending()
    );
    assert!(
        !sender.is_finished(),
        "2 MB went through without anybody pulling"
    );
    let mut next = 0usize;
    let end = Instant::now() + Duration::from_secs(60);
    while next < total && Instant::now() < end {
        for ev in server
            .next_events(64, Some(Duration::from_millis(100)))
            .unwrap()
        {
            assert!(server.pending() <= cap + 1);
            if let Event::Message { data, .. } = ev {
                let i = u64::from_be_bytes(data[..8].try_into().unwrap()) as usize;
                assert_eq!(i, next, "messages out of order or lost");
                next += 1;
            }
        }
    }
    assert_eq!(next, total);
    let _conn = sender.join().unwrap();
}

#[test]
fn graceful_shutdown_delivers_queued_messages() {
    let server = Server::bind("127.0.0.1:0", ServerConfig::new()).unwrap();
    let conn = peer(&server);
    let id = pull_until(&server, SLOW, |e| matches!(e, Event::Connected { .. }))
        .last()
        .unwrap()
        .client();
    let n = 1000u32;
    for i in 0..n {
        let mut m = vec![0u8; 1024];
        m[..4].copy_from_slice(&i.to_be_bytes());
        server.send(id, &m).unwrap();
    }
    let reader = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        let mut got = 0u32;
        loop {
            match conn.recv_msg() {
                Ok(m) => {
                    assert_eq!(u32::from_be_bytes(m[..4].try_into().unwrap()), got);
                    got += 1;
                }
                Err(e) => {
                    assert_eq!(e.kind(), ErrorKind::Closed, "{e}");
                    return got;
                }
            }
        }
    });
    server.shutdown(Duration::from_secs(10));
    assert_eq!(reader.join().unwrap(), n);
    let evs = pull_until(&server, SLOW, |e| matches!(e, Event::Closed));
    assert!(evs
        .iter()
        .any(|e| e.reason() == Some(&DisconnectReason::ServerShutdown)));
    assert_eq!(
        server.next_events(1, None).unwrap_err().kind(),
        ErrorKind::Closed
    );
    assert_eq!(server.send(id, b"x").unwrap_err().kind(), ErrorKind::Closed);
}

#[test]
fn graceful_disconnect_flushes_then_closes() {
    let server = Server::bind("127.0.0.1:0", ServerConfig::new()).unwrap();
    let conn = peer(&server);
    let id = pull_until(&server, SLOW, |e| matches!(e, Event::Connected { .. }))
        .last()
        .unwrap()
        .client();
    for i in 0..100u32 {
        server.send(id, &i.to_be_bytes()).unwrap();
    }
    server.disconnect(id, true).unwrap();
    for i in 0..100u32 {
        assert_eq!(&conn.recv_msg().unwrap()[..], &i.to_be_bytes());
    }
    assert_eq!(conn.recv_msg().unwrap_err().kind(), ErrorKind::Closed);
    drop(conn);
    let evs = pull_until(&server, SLOW, |e| matches!(e, Event::Disconnected { .. }));
    assert_eq!(
        evs.last().unwrap().reason(),
        Some(&DisconnectReason::Kicked)
    );
    assert_eq!(
        server.disconnect(id, false).unwrap_err().kind(),
        ErrorKind::Closed
    );
}

#[test]
fn s17_shutdown_from_another_thread_wakes_next_events() {
    let server = Arc::new(Server::bind("127.0.0.1:0", ServerConfig::new()).unwrap());
    let waiting = Arc::new(AtomicUsize::new(0));
    let waiters: Vec<_> = (0..2)
        .map(|_| {
            let s = server.clone();
            let w = waiting.clone();
            std::thread::spawn(move || {
                w.fetch_add(1, Ordering::SeqCst);
                let mut saw_closed = false;
                for _ in 0..10 {
                    match s.next_events(16, None) {
                        Ok(evs) => saw_closed |= evs.contains(&Event::Closed),
                        Err(e) => return (saw_closed, e.kind(), Instant::now()),
                    }
                }
                panic!("next_events never failed");
            })
        })
        .collect();
    while waiting.load(Ordering::SeqCst) < 2 {
        std::thread::yield_now();
    }
    std::thread::sleep(Duration::from_millis(200));
    let t0 = Instant::now();
    server.shutdown(Duration::ZERO);
    let mut closed_seen = 0;
    for w in waiters {
        let (saw, kind, at) = w.join().unwrap();
        assert_eq!(kind, ErrorKind::Closed);
        assert!(at.duration_since(t0) < Duration::from_secs(2));
        closed_seen += saw as usize;
    }
    assert_eq!(
        closed_seen, 1,
        "exactly one waiter takes the final Closed event"
    );
}

fn readable(fd: i32, ms: i32) -> bool {
    let mut p = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd.
    let n = unsafe { libc::poll(&mut p, 1, ms) };
    n == 1 && p.revents & libc::POLLIN != 0
}

#[test]
fn notify_fd_is_readable_exactly_while_events_wait() {
    let server = Server::bind("127.0.0.1:0", ServerConfig::new()).unwrap();
    let fd = server.notify_fd();
    assert!(fd >= 0);
    assert!(!readable(fd, 0));
    let conn = peer(&server);
    assert!(readable(fd, 10_000));
    assert!(readable(fd, 0), "level-triggered: still readable");
    let evs = server.next_events(100, Some(Duration::ZERO)).unwrap();
    assert!(matches!(evs[0], Event::Connected { .. }));
    assert!(!readable(fd, 0), "reset once the queue is empty");
    conn.send_msg(b"ping").unwrap();
    assert!(readable(fd, 10_000));
    let evs = server.next_events(100, Some(Duration::ZERO)).unwrap();
    assert_eq!(evs[0].data().unwrap().as_ref(), b"ping");
    assert!(!readable(fd, 0));
    // Several messages in one read go in together (one run): the fd says so as for one.
    conn.send_msgs(&[b"a", b"b", b"c", b"d"]).unwrap();
    assert!(
        readable(fd, 10_000),
        "messages queued together make the fd readable"
    );
    let mut got = Vec::new();
    while got.len() < 4 {
        for ev in server.next_events(100, Some(SLOW)).unwrap() {
            got.push(ev.data().unwrap().clone());
        }
    }
    assert_eq!(got, [&b"a"[..], b"b", b"c", b"d"]);
    assert!(!readable(fd, 0));
    server.shutdown(Duration::ZERO);
    assert!(readable(fd, 0), "readable once closed");
}

#[test]
fn next_event_into_keeps_an_event_that_does_not_fit() {
    let server = Server::bind("127.0.0.1:0", ServerConfig::new()).unwrap();
    let conn = peer(&server);
    let mut buf = [0u8; 256];
    let info = server
        .next_event_into(&mut buf, Some(SLOW))
        .unwrap()
        .unwrap();
    assert_eq!(info.kind.code(), 1);
    assert_eq!(info.client, 1);
    let text = std::str::from_utf8(&buf[..info.len]).unwrap();
    assert_eq!(text, conn.local_addr().unwrap().to_string());
    conn.send_msg(&[9u8; 100]).unwrap();
    assert_eq!(server.peek_len(Some(SLOW)).unwrap(), Some(100));
    let mut small = [0u8; 10];
    let e = server.next_event_into(&mut small, Some(SLOW)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::BufferTooSmall);
    assert_eq!(e.needed(), Some(100));
    let info = server
        .next_event_into(&mut buf, Some(SLOW))
        .unwrap()
        .unwrap();
    assert_eq!(info.kind.code(), 2);
    assert_eq!(&buf[..info.len], &[9u8; 100][..]);
    assert_eq!(
        server
            .next_event_into(&mut buf, Some(Duration::ZERO))
            .unwrap(),
        None
    );
    drop(conn);
    let info = server
        .next_event_into(&mut buf, Some(SLOW))
        .unwrap()
        .unwrap();
    assert_eq!(info.kind.code(), 3);
    assert_eq!(info.reason.unwrap().code(), 1);
}

#[test]
fn next_messages_into_takes_the_queued_messages_back_to_back() {
    let server = Server::bind("127.0.0.1:0", ServerConfig::new()).unwrap();
    let conn = peer(&server);
    let (mut buf, mut sizes, mut ids) = ([0u8; 64], [0usize; 8], [0u64; 8]);
    // The first event is not a message: nothing taken, it stays for next_event_into.
    let n = server
        .next_messages_into(&mut buf, &mut sizes, Some(&mut ids), Some(SLOW))
        .unwrap();
    assert_eq!(n, Some(0));
    assert_eq!(next_kind(&server), 1);
    for m in [&b"one"[..], b"two", b"three", b"four"] {
        conn.send_msg(m).unwrap();
    }
    wait_pending(&server, 4);
    // "four" does not fit the 3 bytes left after three messages: it stays queued.
    let n = server
        .next_messages_into(&mut buf[..14], &mut sizes, Some(&mut ids), Some(SLOW))
        .unwrap();
    assert_eq!(n, Some(3));
    assert_eq!(&sizes[..3], &[3, 3, 5]);
    assert_eq!(&buf[..11], b"onetwothree");
    assert_eq!(&ids[..3], &[1, 1, 1]);
    // The first does not fit at all: BufferTooSmall with its size, still queued.
    let e = server
        .next_messages_into(&mut buf[..2], &mut sizes, None, Some(SLOW))
        .unwrap_err();
    assert_eq!((e.kind(), e.needed()), (ErrorKind::BufferTooSmall, Some(4)));
    let n = server
        .next_messages_into(&mut buf, &mut sizes[..1], None, Some(SLOW))
        .unwrap();
    assert_eq!((n, sizes[0], &buf[..4]), (Some(1), 4, &b"four"[..]));
    // Nothing left: None on timeout; bad sizes are refused.
    let none = server.next_messages_into(&mut buf, &mut sizes, None, Some(Duration::ZERO));
    assert_eq!(none.unwrap(), None);
    let e = server
        .next_messages_into(&mut buf, &mut [], None, Some(Duration::ZERO))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    let e = server
        .next_messages_into(
            &mut buf,
            &mut sizes,
            Some(&mut ids[..2]),
            Some(Duration::ZERO),
        )
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
}

#[test]
fn next_messages_with_hands_out_views_and_takes_exactly_those() {
    let server = Server::bind("127.0.0.1:0", ServerConfig::new()).unwrap();
    let conn = peer(&server);
    let mut seen: Vec<(u64, Vec<u8>)> = Vec::new();
    // The first event is not a message: nothing handed out or taken.
    let n = server
        .next_messages_with(8, Some(SLOW), |c, d| seen.push((c, d.to_vec())))
        .unwrap();
    assert_eq!(n, Some(0));
    assert!(seen.is_empty());
    assert_eq!(next_kind(&server), 1);
    for m in [&b"one"[..], b"two", b"three", b"four", b""] {
        conn.send_msg(m).unwrap();
    }
    wait_pending(&server, 5);
    // At most `max`: three now, in order, the rest stays queued.
    let n = server
        .next_messages_with(3, Some(SLOW), |c, d| seen.push((c, d.to_vec())))
        .unwrap();
    assert_eq!(n, Some(3));
    let got: Vec<&[u8]> = seen.iter().map(|(_, d)| &d[..]).collect();
    assert_eq!(got, [&b"one"[..], b"two", b"three"]);
    assert!(seen.iter().all(|(c, _)| *c == 1));
    assert_eq!(server.pending(), 2);
    seen.clear();
    let n = server
        .next_messages_with(8, Some(SLOW), |c, d| seen.push((c, d.to_vec())))
        .unwrap();
    assert_eq!(n, Some(2));
    assert_eq!(seen, [(1, b"four".to_vec()), (1, Vec::new())]);
    // Nothing left: None on timeout; max 0 is refused.
    let none = server.next_messages_with(8, Some(Duration::ZERO), |_, _| panic!("no message"));
    assert_eq!(none.unwrap(), None);
    let e = server
        .next_messages_with(0, Some(Duration::ZERO), |_, _| {})
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    // The connection's end comes as an event, which the message view leaves in place.
    drop(conn);
    wait_pending(&server, 1);
    let n = server
        .next_messages_with(8, Some(SLOW), |_, _| panic!("no message"))
        .unwrap();
    assert_eq!(n, Some(0));
    assert_eq!(next_kind(&server), 3);
}

#[test]
fn next_events_timeout_gives_an_empty_batch() {
    let server = Server::bind("127.0.0.1:0", ServerConfig::new()).unwrap();
    let t0 = Instant::now();
    assert!(server
        .next_events(10, Some(Duration::from_millis(100)))
        .unwrap()
        .is_empty());
    assert!(t0.elapsed() >= Duration::from_millis(90));
    assert_eq!(server.next_event(Some(Duration::ZERO)).unwrap(), None);
}

#[test]
fn unix_endpoint_server_echoes() {
    let path = std::env::temp_dir().join(format!("libsock-engine-{}.sock", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let ep = format!("unix:{}", path.display());
    let server = Server::bind(ep.as_str(), ServerConfig::new()).unwrap();
    let opts = ConnectOptions::new()
        .timeout(Some(SLOW))
        .framing(Framing::length_prefixed());
    let conn = Connection::connect_with(ep.as_str(), &opts).unwrap();
    conn.send_msg(b"over unix").unwrap();
    let evs = pull_until(&server, SLOW, |e| matches!(e, Event::Message { .. }));
    let ev = evs.last().unwrap();
    server.send(ev.client(), ev.data().unwrap()).unwrap();
    assert_eq!(&conn.recv_msg().unwrap()[..], b"over unix");
    server.shutdown(Duration::ZERO);
    assert!(!path.exists(), "the socket file is removed on shutdown");
}

#[allow(clippy::unnecessary_cast)] // rlim_t is not u64 everywhere
fn raise_nofile(want: u64) -> u64 {
    let mut r = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: valid pointer to an rlimit.
    unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) };
    let target = want.min(r.rlim_max as u64);
    if (r.rlim_cur as u64) < target {
        r.rlim_cur = target as _;
        // SAFETY: as above.
        unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &r) };
        // SAFETY: as above.
        unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) };
    }
    r.rlim_cur as u64
}

#[test]
fn thousand_clients_echo_byte_exact() {
    let n = 1000usize;
    // LIBSOCK_ENGINE_ROUNDS=1000 turns this into a quick throughput measurement.
    let rounds: usize = std::env::var("LIBSOCK_ENGINE_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let limit = raise_nofile(20_000);
    if limit < (n as u64) * 2 + 200 {
        eprintln!("skipped: RLIMIT_NOFILE {limit} is too low for {n} clients");
        return;
    }
    let server = Arc::new(Server::bind("127.0.0.1:0", ServerConfig::new().backlog(2048)).unwrap());
    let stop = Arc::new(AtomicBool::new(false));
    let echo = echo_thread(server.clone(), stop.clone());
    let addr = server.local_addr().as_inet().unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let t0 = Instant::now();
    let ok = rt.block_on(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut tasks = Vec::new();
        for c in 0..n {
            tasks.push(tokio::spawn(async move {
                let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
                s.set_nodelay(true).unwrap();
                for r in 0..rounds {
                    let body: Vec<u8> = (0..64).map(|i| (c * 7 + r * 13 + i) as u8).collect();
                    s.write_all(&frame(&body)).await.unwrap();
                    let mut back = vec![0u8; 4 + 64];
                    s.read_exact(&mut back).await.unwrap();
                    assert_eq!(&back[4..], &body[..]);
                }
                1usize
            }));
        }
        let mut ok = 0;
        for t in tasks {
            ok += t.await.unwrap();
        }
        ok
    });
    let took = t0.elapsed();
    stop.store(true, Ordering::Relaxed);
    assert_eq!(ok, n);
    assert_eq!(echo.join().unwrap().unwrap(), n * rounds);
    eprintln!(
        "{n} clients x {rounds} round trips of 64 bytes: {:?} ({:.0} round trips/s)",
        took,
        (n * rounds) as f64 / took.as_secs_f64()
    );
    server.shutdown(Duration::from_secs(1));
}

#[test]
fn a_one_event_queue_still_delivers_everything() {
    let server = Server::bind("127.0.0.1:0", ServerConfig::new().event_capacity(1)).unwrap();
    let conns: Vec<Connection> = (0..3).map(|_| peer(&server)).collect();
    for (i, c) in conns.iter().enumerate() {
        for m in 0..50u32 {
            c.send_msg(&[&[i as u8][..], &m.to_be_bytes()].concat())
                .unwrap();
        }
    }
    let mut next = [0u32; 3];
    let mut connected = 0;
    let end = Instant::now() + SLOW;
    while next.iter().sum::<u32>() < 150 && Instant::now() < end {
        for ev in server
            .next_events(8, Some(Duration::from_millis(50)))
            .unwrap()
        {
            assert!(server.pending() <= 1 + 3);
            match ev {
                Event::Connected { .. } => connected += 1,
                Event::Message { data, .. } => {
                    let c = data[0] as usize;
                    assert_eq!(u32::from_be_bytes(data[1..5].try_into().unwrap()), next[c]);
                    next[c] += 1;
                }
                other => panic!("unexpected {other:?}"),
            }
        }
    }
    assert_eq!(connected, 3);
    assert_eq!(next, [50, 50, 50]);
}

#[test]
fn an_aborted_peer_gives_reset() {
    let server = Server::bind("127.0.0.1:0", ServerConfig::new()).unwrap();
    let s = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    s.connect(&server.local_addr().as_inet().unwrap().into())
        .unwrap();
    pull_until(&server, SLOW, |e| matches!(e, Event::Connected { .. }));
    s.set_linger(Some(Duration::ZERO)).unwrap();
    drop(s);
    let evs = pull_until(&server, SLOW, |e| matches!(e, Event::Disconnected { .. }));
    assert_eq!(evs.last().unwrap().reason(), Some(&DisconnectReason::Reset));
    assert_eq!(evs.last().unwrap().reason().unwrap().code(), 2);
}

#[test]
fn an_interrupt_check_ends_a_waiting_next_events() {
    let server = Server::bind("127.0.0.1:0", ServerConfig::new()).unwrap();
    let t0 = Instant::now();
    let e = libsock::with_interrupt_check(|| true, || server.next_events(1, None)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Interrupted);
    assert!(t0.elapsed() < Duration::from_secs(2));
}

#[test]
fn graceful_shutdown_with_a_chatty_peer_loses_nothing() {
    // The peer keeps sending while the server shuts down: unread input must not turn the
    // server's close into a reset that destroys replies the peer has not read yet.
    let server = Server::bind("127.0.0.1:0", ServerConfig::new()).unwrap();
    let conn = Arc::new(peer(&server));
    let id = pull_until(&server, SLOW, |e| matches!(e, Event::Connected { .. }))
        .last()
        .unwrap()
        .client();
    let stop = Arc::new(AtomicBool::new(false));
    let chatter = {
        let (conn, stop) = (conn.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) && n < 100_000 {
                if conn.send_msg(&[1u8; 512]).is_err() {
                    break;
                }
                n += 1;
                if n % 16 == 0 {
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
        })
    };
    let n = 2000u32;
    for i in 0..n {
        let mut m = vec![0u8; 1024];
        m[..4].copy_from_slice(&i.to_be_bytes());
        server.send(id, &m).unwrap();
    }
    let reader = {
        let (conn, stop) = (conn.clone(), stop.clone());
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(200));
            let mut got = 0u32;
            while let Ok(m) = conn.recv_msg() {
                assert_eq!(u32::from_be_bytes(m[..4].try_into().unwrap()), got);
                got += 1;
            }
            stop.store(true, Ordering::Relaxed);
            conn.close();
            got
        })
    };
    server.shutdown(Duration::from_secs(10));
    assert_eq!(reader.join().unwrap(), n);
    chatter.join().unwrap();
}

#[test]
fn engine_objects_are_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Server>();
    check::<libsock::engine::Client>();
    check::<libsock::engine::DatagramServer>();
    check::<Event>();
}

#[test]
fn raw_framing_passes_bytes_untouched_and_refuses_an_active_heartbeat() {
    let server = Server::bind("127.0.0.1:0", ServerConfig::new().framing(Framing::Raw)).unwrap();
    let mut raw = TcpStream::connect(server.local_addr().as_inet().unwrap()).unwrap();
    raw.write_all(b"\0LSPING").unwrap();
    let evs = pull_until(&server, SLOW, |e| matches!(e, Event::Message { .. }));
    assert_eq!(evs.last().unwrap().data().unwrap().as_ref(), b"\0LSPING");
    let e = Server::bind(
        "127.0.0.1:0",
        ServerConfig::new()
            .framing(Framing::Raw)
            .heartbeat(Some(Heartbeat::new(Duration::from_secs(1), 3))),
    )
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
}

#[test]
fn shutdown_cuts_a_graceful_disconnect_that_cannot_finish() {
    let server = Server::bind("127.0.0.1:0", ServerConfig::new()).unwrap();
    let _stalled = stalled_peer(&server);
    let id = pull_until(&server, SLOW, |e| matches!(e, Event::Connected { .. }))
        .last()
        .unwrap()
        .client();
    let msg = vec![0u8; 64 * 1024];
    for _ in 0..64 {
        if server.send(id, &msg).is_err() {
            break;
        }
    }
    // The peer never reads: this graceful disconnect would wait its full close_timeout (5 s).
    server.disconnect(id, true).unwrap();
    let t0 = Instant::now();
    server.shutdown(Duration::ZERO);
    assert!(t0.elapsed() < Duration::from_secs(3), "{:?}", t0.elapsed());
    let evs = pull_until(&server, SLOW, |e| matches!(e, Event::Closed));
    assert!(evs
        .iter()
        .any(|e| e.reason() == Some(&DisconnectReason::Kicked)));
    assert_eq!(server.stats().queued_bytes, 0);
}

/// A stream that ends inside a frame: the whole messages arrive, then a `Warning` names the
/// bytes left over (never dropped silently), then the disconnect.
#[test]
fn a_tail_that_forms_no_frame_is_reported() {
    let server =
        Server::bind("127.0.0.1:0", ServerConfig::new().framing(Framing::lines())).unwrap();
    let mut s = TcpStream::connect(server.local_addr().as_inet().unwrap()).unwrap();
    s.write_all(b"first\nsecond\nlast").unwrap();
    drop(s);
    let evs = pull_until(&server, SLOW, |e| matches!(e, Event::Disconnected { .. }));
    let msgs: Vec<&[u8]> = evs
        .iter()
        .filter_map(|e| match e {
            Event::Message { data, .. } => Some(&data[..]),
            _ => None,
        })
        .collect();
    assert_eq!(msgs, [&b"first"[..], b"second"]);
    let warning = evs
        .iter()
        .find_map(|e| match e {
            Event::Warning { error, message, .. } => Some((*error, message.clone())),
            _ => None,
        })
        .expect("a warning about the tail");
    assert_eq!(warning.0, ErrorKind::Closed);
    assert!(
        warning.1.contains("4 bytes left over") && warning.1.contains("6c 61 73 74"),
        "{}",
        warning.1
    );
}

/// The public tokio codec says the same at the end of a stream.
#[test]
fn the_frame_codec_reports_a_partial_frame_at_eof() {
    use tokio_util::codec::Decoder as _;
    let mut codec = libsock::engine::FrameCodec::new(Framing::lines());
    let mut buf = bytes::BytesMut::from(&b"ok\npart"[..]);
    assert_eq!(&codec.decode_eof(&mut buf).unwrap().unwrap()[..], b"ok");
    let e = codec.decode_eof(&mut buf).unwrap_err();
    assert!(e.to_string().contains("4 bytes left over"), "{e}");
    assert_eq!(&buf[..], b"part", "the bytes stay for the caller");
}

/// Each client's own counters, and the server's totals that keep counting clients that left.
#[test]
fn per_client_stats_and_totals_that_outlive_clients() {
    let server = Server::bind("127.0.0.1:0", ServerConfig::new()).unwrap();
    let a = peer(&server);
    let b = peer(&server);
    let mut ids = Vec::new();
    pull_until(&server, SLOW, |e| {
        if let Event::Connected { client, .. } = e {
            ids.push(*client);
        }
        ids.len() == 2
    });
    for i in 0..10u8 {
        a.send_msg(&[i; 100]).unwrap();
    }
    b.send_msg(b"one").unwrap();
    let mut got = 0;
    pull_until(&server, SLOW, |e| {
        got += matches!(e, Event::Message { .. }) as usize;
        got == 11
    });
    let (sa, sb) = {
        let x = server.client_stats(ids[0]).unwrap();
        let y = server.client_stats(ids[1]).unwrap();
        if x.messages_in == 10 {
            (x, y)
        } else {
            (y, x)
        }
    };
    assert_eq!((sa.messages_in, sa.bytes_in), (10, 1040));
    assert_eq!((sb.messages_in, sb.bytes_in), (1, 7));
    assert!(!sa.tls && sa.connected_since <= std::time::SystemTime::now());
    assert_eq!(sa.peer, a.local_addr().unwrap());
    server.send(ids[0], b"reply").unwrap();
    assert_eq!(a.recv_msg().unwrap(), &b"reply"[..]);
    // One leaves: its counts stay in the totals.
    drop(b);
    pull_until(&server, SLOW, |e| matches!(e, Event::Disconnected { .. }));
    let st = server.stats();
    assert_eq!((st.messages_in, st.bytes_in), (11, 1047));
    assert_eq!((st.messages_out, st.bytes_out), (1, 9));
    assert_eq!(st.connections, 1);
    let gone = ids.iter().find(|i| server.client_stats(**i).is_err());
    assert_eq!(
        server
            .client_stats(*gone.expect("one is gone"))
            .unwrap_err()
            .kind(),
        ErrorKind::Closed
    );
}

/// A waiting consumer of a server with a few plain connections reads them itself (see the
/// engine client's test of the same), and the runtime reads again while nobody waits: requests
/// from three peers, each answered while the consumer waits for the next; a 1 MiB burst per
/// peer written while nobody pulls (more than small socket buffers hold); then tails that form
/// no frame and the ends of the streams. Every message arrives once, in order per peer.
#[test]
fn a_waiting_consumer_reads_a_few_connections_itself_and_nothing_is_lost() {
    consumer_reads_peers(3);
}

/// The same with one connection, which a waiting consumer reads without asking its epoll set
/// which connection is ready (the path of a server with one peer).
#[test]
fn a_waiting_consumer_reads_a_lone_connection_itself_and_nothing_is_lost() {
    consumer_reads_peers(1);
}

/// Requests from `n` peers, then bursts, tails and ends (see the tests above).
fn consumer_reads_peers(n: usize) {
    let mut cfg = ServerConfig::new();
    cfg.options.recv_buffer_size = Some(64 * 1024);
    let server = Server::bind("127.0.0.1:0", cfg).unwrap();
    let addr = server.local_addr().as_inet().unwrap();
    let mut peers: Vec<TcpStream> = (0..n)
        .map(|_| small_buffered_peer(TcpStream::connect(addr).unwrap()))
        .collect();
    let mut ids = Vec::new();
    pull_until(&server, SLOW, |e| {
        if let Event::Connected { client, .. } = e {
            ids.push(*client);
        }
        ids.len() == n
    });
    // Requests: each peer's message is read while the consumer waits, and answered.
    for round in 0..100u32 {
        for (k, p) in peers.iter_mut().enumerate() {
            p.write_all(&frame(&[&[k as u8][..], &round.to_be_bytes()].concat()))
                .unwrap();
            let evs = server.next_events(16, Some(SLOW)).unwrap();
            assert_eq!(evs.len(), 1, "round {round} peer {k}: {evs:?}");
            let Event::Message { client, data } = &evs[0] else {
                panic!("{evs:?}");
            };
            assert_eq!(
                (*client, &data[..]),
                (ids[k], &[&[k as u8][..], &round.to_be_bytes()].concat()[..])
            );
            server.send(*client, data).unwrap();
            let mut back = [0u8; 9];
            p.read_exact(&mut back).unwrap();
            assert_eq!(&back[4..], &data[..]);
        }
    }
    // Bursts while nobody pulls: the writers finish only if the runtime reads again (at most
    // 3,072 messages: the event queue holds 4,096).
    const BURST: u32 = 1024;
    let writers: Vec<_> = peers
        .iter()
        .enumerate()
        .map(|(k, p)| {
            let mut p = p.try_clone().unwrap();
            std::thread::spawn(move || {
                let mut body = vec![k as u8; 1000];
                for i in 0..BURST {
                    body[1..5].copy_from_slice(&i.to_be_bytes());
                    p.write_all(&frame(&body)).unwrap();
                }
                // A tail that forms no frame, then the end of the stream.
                p.write_all(&[0, 0]).unwrap();
                p.shutdown(std::net::Shutdown::Write).unwrap();
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    let mut next = vec![0u32; n];
    let (mut warnings, mut ends) = (0, 0);
    let end = Instant::now() + SLOW;
    while ends < n {
        assert!(Instant::now() < end, "got {next:?}, {ends} ends");
        for ev in server.next_events(4096, Some(SLOW)).unwrap() {
            match ev {
                Event::Message { client, data } => {
                    let k = ids.iter().position(|c| *c == client).unwrap();
                    assert_eq!(data.len(), 1000);
                    assert_eq!(data[0], k as u8);
                    assert_eq!(&data[1..5], &next[k].to_be_bytes(), "peer {k}");
                    next[k] += 1;
                }
                Event::Warning { message, .. } => {
                    assert!(message.contains("2 bytes left over"), "{message}");
                    warnings += 1;
                }
                Event::Disconnected { reason, .. } => {
                    assert_eq!(reason, DisconnectReason::PeerClosed);
                    ends += 1;
                }
                other => panic!("unexpected {other:?}"),
            }
        }
    }
    assert_eq!(next, vec![BURST; n]);
    assert_eq!(warnings, n);
    assert_eq!(server.stats().messages_in, (100 + BURST as u64) * n as u64);
    drop(peers);
}
