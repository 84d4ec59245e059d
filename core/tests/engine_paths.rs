//! Engine tests for the fast paths: sends written directly from the caller's thread (and what
//! happens when the socket does not take all of it), reads cut out of the per-thread scratch
//! block (frames split anywhere or glued together), and a client's descriptor that must never
//! be written after it closed. Real loopback sockets; peers are plain std sockets or the
//! blocking libsock `Connection`. Every loop is bounded; time bounds are generous.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use libsock::engine::{DisconnectReason, Event, Server, ServerConfig};
use libsock::{ConnectOptions, Connection, ErrorKind, Framing};

const SLOW: Duration = Duration::from_secs(20);

fn peer(server: &Server) -> Connection {
    let opts = ConnectOptions::new()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Some(Duration::from_secs(20)))
        .framing(Framing::length_prefixed());
    Connection::connect_with(server.local_addr(), &opts).expect("connect")
}

fn raw_peer(server: &Server) -> TcpStream {
    let s = TcpStream::connect(server.local_addr().as_inet().unwrap()).expect("connect");
    s.set_read_timeout(Some(SLOW)).unwrap();
    s.set_nodelay(true).unwrap();
    s
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

fn connected_id(server: &Server) -> u64 {
    pull_until(server, SLOW, |e| matches!(e, Event::Connected { .. }))
        .last()
        .unwrap()
        .client()
}

fn frame(msg: &[u8]) -> Vec<u8> {
    let mut v = (msg.len() as u32).to_be_bytes().to_vec();
    v.extend_from_slice(msg);
    v
}

/// A message whose bytes say which message it is: `i` repeated, `len` bytes.
fn message(i: u32, len: usize) -> Vec<u8> {
    let mut v = Vec::with_capacity(len.max(4));
    v.extend_from_slice(&i.to_be_bytes());
    while v.len() < len {
        v.push((i as u8).wrapping_mul(31).wrapping_add(v.len() as u8));
    }
    v.truncate(len.max(4));
    v
}

/// Messages from 4 bytes to 512 KiB: small ones are written whole, big ones fill the socket
/// and leave a rest for the connection's task, and the small ones after them must wait.
fn sizes() -> Vec<usize> {
    (0..200u32)
        .map(|i| match i % 10 {
            3 => 512 * 1024,
            7 => 70_000,
            _ => 4 + (i as usize * 37) % 300,
        })
        .collect()
}

#[test]
fn direct_writes_and_queued_rests_keep_order_byte_exact() {
    let server = Server::bind(
        "127.0.0.1:0",
        ServerConfig::new().send_queue_bytes(64 << 20),
    )
    .unwrap();
    let conn = peer(&server);
    let id = connected_id(&server);
    let sizes = sizes();
    let mut total = 0u64;
    for (i, n) in sizes.iter().enumerate() {
        let m = message(i as u32, *n);
        total += 4 + m.len() as u64;
        server.send(id, &m).unwrap();
    }
    // The peer has not read yet: big messages could not all be written at once.
    for (i, n) in sizes.iter().enumerate() {
        let got = conn.recv_msg().unwrap();
        assert_eq!(&got[..], &message(i as u32, *n)[..], "message {i}");
    }
    // Every frame was written (directly or by the task) and counted once.
    let end = Instant::now() + SLOW;
    loop {
        let st = server.stats();
        if st.messages_out == sizes.len() as u64 && st.bytes_out == total {
            assert_eq!(st.queued_bytes, 0);
            break;
        }
        assert!(Instant::now() < end, "stats never settled: {st:?}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn several_threads_sending_to_one_client_keep_each_threads_order() {
    let server = Arc::new(
        Server::bind(
            "127.0.0.1:0",
            ServerConfig::new().send_queue_bytes(64 << 20),
        )
        .unwrap(),
    );
    let conn = peer(&server);
    let id = connected_id(&server);
    const THREADS: u32 = 4;
    const EACH: u32 = 400;
    let senders: Vec<_> = (0..THREADS)
        .map(|t| {
            let server = server.clone();
            std::thread::spawn(move || {
                for seq in 0..EACH {
                    // Now and then a big one, so some sends leave a rest behind.
                    let len = if seq % 50 == 49 { 200_000 } else { 16 };
                    let mut m = vec![0u8; len];
                    m[..4].copy_from_slice(&t.to_be_bytes());
                    m[4..8].copy_from_slice(&seq.to_be_bytes());
                    server.send(id, &m).unwrap();
                }
            })
        })
        .collect();
    let mut next = [0u32; THREADS as usize];
    for _ in 0..THREADS * EACH {
        let m = conn.recv_msg().unwrap();
        let t = u32::from_be_bytes(m[..4].try_into().unwrap()) as usize;
        let seq = u32::from_be_bytes(m[4..8].try_into().unwrap());
        assert_eq!(seq, next[t], "thread {t}'s messages out of order");
        assert!(m[8..].iter().all(|b| *b == 0), "corrupt message");
        next[t] += 1;
    }
    for s in senders {
        s.join().unwrap();
    }
    assert!(next.iter().all(|n| *n == EACH));
}

#[test]
fn frames_cut_anywhere_or_glued_together_arrive_whole_and_in_order() {
    let server = Server::bind("127.0.0.1:0", ServerConfig::new()).unwrap();
    let mut s = raw_peer(&server);
    let id = connected_id(&server);
    let msgs: Vec<Vec<u8>> = (0..60u32)
        .map(|i| message(i, if i % 20 == 9 { 300_000 } else { 5 + i as usize }))
        .collect();
    let mut wire = Vec::new();
    for m in &msgs {
        wire.extend_from_slice(&frame(m));
    }
    // First third byte by byte (every frame split at every offset), then pieces of odd sizes,
    // then the rest in one write (many frames glued together).
    let third = frame(&msgs[0]).len() + frame(&msgs[1]).len() + frame(&msgs[2]).len();
    for b in &wire[..third] {
        s.write_all(std::slice::from_ref(b)).unwrap();
    }
    let mut at = third;
    for chunk in [1usize, 3, 4, 5, 7, 4096, 65_537, 3] {
        let end = (at + chunk).min(wire.len());
        s.write_all(&wire[at..end]).unwrap();
        at = end;
    }
    s.write_all(&wire[at..]).unwrap();
    let mut got = Vec::new();
    let end = Instant::now() + SLOW;
    while got.len() < msgs.len() {
        assert!(
            Instant::now() < end,
            "got {} of {} messages",
            got.len(),
            msgs.len()
        );
        for ev in server
            .next_events(64, Some(Duration::from_millis(50)))
            .unwrap()
        {
            if let Event::Message { client, data } = ev {
                assert_eq!(client, id);
                got.push(data);
            }
        }
    }
    for (i, (g, m)) in got.iter().zip(&msgs).enumerate() {
        assert_eq!(&g[..], &m[..], "message {i}");
    }
    assert_eq!(server.stats().messages_in, msgs.len() as u64);
    assert_eq!(server.stats().bytes_in, wire.len() as u64);
}

#[test]
fn graceful_disconnect_after_a_partial_direct_write_delivers_everything() {
    // A send queue that can hold the 6 MiB message (a frame larger than the queue is refused).
    let server =
        Server::bind("127.0.0.1:0", ServerConfig::new().send_queue_bytes(8 << 20)).unwrap();
    // A peer with a small receive buffer that does not read yet.
    let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    sock.set_recv_buffer_size(4096).unwrap();
    sock.connect(&server.local_addr().as_inet().unwrap().into())
        .unwrap();
    let mut s: TcpStream = sock.into();
    s.set_read_timeout(Some(SLOW)).unwrap();
    let id = connected_id(&server);
    let big = message(1, 6 << 20);
    server.send(id, &big).unwrap();
    server.send(id, b"after").unwrap();
    assert!(
        server.queued_bytes(id).unwrap() > 0,
        "a 6 MiB message cannot fit a stalled peer's buffers"
    );
    server.disconnect(id, true).unwrap();
    let mut wire = Vec::new();
    s.read_to_end(&mut wire).unwrap();
    let mut want = frame(&big);
    want.extend_from_slice(&frame(b"after"));
    assert_eq!(wire.len(), want.len());
    assert!(wire == want, "stream differs");
    drop(s);
    let evs = pull_until(&server, SLOW, |e| matches!(e, Event::Disconnected { .. }));
    assert_eq!(
        evs.last().unwrap().reason(),
        Some(&DisconnectReason::Kicked)
    );
}

#[test]
fn a_gone_clients_sends_never_reach_the_clients_after_it() {
    // One thread keeps sending to client A while A is kicked and new clients connect (their
    // sockets may reuse A's descriptor number): none of them may receive A's bytes.
    let server = Arc::new(Server::bind("127.0.0.1:0", ServerConfig::new()).unwrap());
    let _a = raw_peer(&server);
    let a = connected_id(&server);
    let sending = Arc::new(AtomicBool::new(true));
    let sender = {
        let server = server.clone();
        let sending = sending.clone();
        std::thread::spawn(move || {
            let mut sent = 0u64;
            while sending.load(Ordering::Relaxed) {
                match server.send(a, b"FOR-A-ONLY") {
                    Ok(()) => sent += 1,
                    Err(e) if e.kind() == ErrorKind::Closed => break,
                    // A's queue is full (A does not read): keep trying until it is gone.
                    Err(e) if e.kind() == ErrorKind::QueueFull => std::thread::yield_now(),
                    Err(e) => panic!("send: {e}"),
                }
            }
            sent
        })
    };
    std::thread::sleep(Duration::from_millis(20));
    server.disconnect(a, false).unwrap();
    let mut others = Vec::new();
    for i in 0..20u32 {
        let c = peer(&server);
        c.send_msg(&message(i, 12)).unwrap();
        others.push((i, c));
    }
    // Echo what the new clients say; they must get exactly their own message back.
    let mut echoed = 0;
    let end = Instant::now() + SLOW;
    while echoed < others.len() {
        assert!(Instant::now() < end, "echoed {echoed} of {}", others.len());
        for ev in server
            .next_events(64, Some(Duration::from_millis(50)))
            .unwrap()
        {
            if let Event::Message { client, data } = ev {
                assert_ne!(client, a);
                server.send(client, &data).unwrap();
                echoed += 1;
            }
        }
    }
    for (i, c) in &others {
        assert_eq!(&c.recv_msg().unwrap()[..], &message(*i, 12)[..]);
        c.set_timeout(Some(Duration::from_millis(100)));
        let e = c.recv_msg().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Timeout, "client {i} got more: {e}");
    }
    sending.store(false, Ordering::Relaxed);
    let sent = sender.join().unwrap();
    assert!(sent > 0, "the sender never sent to A");
}

#[test]
fn echo_under_a_full_event_queue_loses_nothing_and_keeps_order() {
    // Event capacity 2: the connections stop reading while the queue is full, and a message
    // cut out of the scratch block waits for room (with the frames behind it kept).
    let server = Server::bind("127.0.0.1:0", ServerConfig::new().event_capacity(2)).unwrap();
    let mut peers: Vec<TcpStream> = (0..3).map(|_| raw_peer(&server)).collect();
    let mut wire = Vec::new();
    for i in 0..500u32 {
        wire.extend_from_slice(&frame(&message(i, 9 + (i as usize % 7))));
    }
    for p in &mut peers {
        p.write_all(&wire).unwrap();
    }
    // Only now start pulling, one event at a time.
    let mut per_client: std::collections::HashMap<u64, u32> = Default::default();
    let mut n = 0;
    let end = Instant::now() + SLOW;
    while n < 3 * 500 {
        assert!(Instant::now() < end, "got {n} of 1500");
        if let Some(Event::Message { client, data }) =
            server.next_event(Some(Duration::from_millis(50))).unwrap()
        {
            let next = per_client.entry(client).or_insert(0);
            assert_eq!(&data[..], &message(*next, 9 + (*next as usize % 7))[..]);
            *next += 1;
            n += 1;
        }
    }
    assert!(per_client.values().all(|v| *v == 500));
}

#[test]
fn every_framing_kind_round_trips_through_the_engine() {
    // Plain length prefixes take the engine's short path; the others the general codec.
    use libsock::LengthPrefixed;
    let framings = [
        Framing::length_prefixed(),
        Framing::LengthPrefixed(LengthPrefixed::new(2).little_endian()),
        Framing::LengthPrefixed(LengthPrefixed::new(1)),
        Framing::LengthPrefixed(LengthPrefixed::new(8)),
        Framing::LengthPrefixed(LengthPrefixed::new(4).offset(2).header_len(6)),
        Framing::hp_pack(0x15, 1 << 20),
        Framing::lines(),
        Framing::Fixed(6),
    ];
    for f in framings {
        // (No heartbeat: its ping would not fit Fixed(6).)
        let cfg = ServerConfig::new().framing(f.clone()).heartbeat(None);
        let server = Server::bind("127.0.0.1:0", cfg).unwrap();
        let opts = ConnectOptions::new()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Some(SLOW))
            .framing(f.clone());
        let c = Connection::connect_with(server.local_addr(), &opts).unwrap();
        let msgs: [&[u8]; 3] = [b"abcdef", b"ghijkl", b"mnopqr"];
        for m in msgs {
            c.send_msg(m).unwrap();
        }
        let mut n = 0;
        let end = Instant::now() + SLOW;
        while n < msgs.len() {
            assert!(Instant::now() < end, "{f:?}: echoed {n}");
            for ev in server
                .next_events(16, Some(Duration::from_millis(50)))
                .unwrap()
            {
                if let Event::Message { client, data } = ev {
                    assert_eq!(&data[..], msgs[n], "{f:?}");
                    server.send(client, &data).unwrap();
                    n += 1;
                }
            }
        }
        for m in msgs {
            assert_eq!(&c.recv_msg().unwrap()[..], m, "{f:?}");
        }
        if let Some(max) = f.max_len() {
            // Refused on the sender's side (a fixed frame of the wrong size is an argument
            // error, anything else too large).
            let e = server.send(1, &vec![0u8; max + 1]).unwrap_err();
            let want = match f {
                Framing::Fixed(_) => ErrorKind::InvalidArgument,
                _ => ErrorKind::FrameTooLarge,
            };
            assert_eq!(e.kind(), want, "{f:?}");
        }
    }
}

#[cfg(target_os = "linux")]
#[test]
fn runtime_threads_run_under_sched_batch() {
    // (Unless LIBSOCK_SCHED_BATCH=0 is set for this test process, or it runs under a policy
    // other than SCHED_OTHER.)
    let server = Server::bind("127.0.0.1:0", ServerConfig::new()).unwrap();
    let _c = peer(&server);
    connected_id(&server);
    let mut policies = Vec::new();
    for t in std::fs::read_dir("/proc/self/task").unwrap() {
        let t = t.unwrap();
        let comm = std::fs::read_to_string(t.path().join("comm")).unwrap_or_default();
        if comm.trim() == "libsock-engine" {
            let tid: i32 = t.file_name().to_str().unwrap().parse().unwrap();
            // SAFETY: plain query of a thread of this process.
            policies.push(unsafe { libc::sched_getscheduler(tid) });
        }
    }
    assert!(!policies.is_empty(), "no engine runtime thread found");
    // A policy other than the normal one (e.g. the test run under `chrt --idle 0`) is inherited
    // and left alone.
    // SAFETY: plain query of the calling thread.
    let own = unsafe { libc::sched_getscheduler(0) };
    let want = match std::env::var(libsock::engine::SCHED_BATCH_ENV) {
        _ if own != libc::SCHED_OTHER => own,
        Ok(v) if v == "0" => libc::SCHED_OTHER,
        _ => libc::SCHED_BATCH,
    };
    assert!(policies.iter().all(|p| *p == want), "{policies:?}");
}
