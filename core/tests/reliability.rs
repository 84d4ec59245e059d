//! Regression tests for the defects a peer's bytes or a careless setting could trigger (issue 11):
//! memory follows bytes received, never bytes claimed; no length arithmetic overflows; delimited
//! framing never changes message boundaries; settings are validated once, in core; slow
//! consumers are visible. Real sockets over loopback; the peer is a plain `std` socket that
//! writes exactly the bytes under test.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::Write;
use std::net::{Shutdown, TcpListener, TcpStream};
use std::time::Duration;

use common::*;
use libsock::engine::{
    Client, ClientConfig, DatagramServer, DatagramServerConfig, DisconnectReason, Event, Heartbeat,
    SendPolicy, Server, ServerConfig,
};
use libsock::{Connection, Delimited, ErrorKind, Framing, LengthPrefixed, ListenOptions, Listener};

/// Records the largest single allocation (or reallocation) this thread asked for.
struct Largest;

thread_local! {
    static LARGEST: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: forwards to the system allocator; only records sizes.
unsafe impl GlobalAlloc for Largest {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = LARGEST.try_with(|c| c.set(c.get().max(layout.size())));
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = LARGEST.try_with(|c| c.set(c.get().max(new_size)));
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Largest = Largest;

/// The largest allocation this thread made while running `f`, and `f`'s result.
fn largest_in<T>(f: impl FnOnce() -> T) -> (usize, T) {
    LARGEST.with(|c| c.set(0));
    let r = f();
    (LARGEST.with(|c| c.get()), r)
}

const WAIT: Duration = Duration::from_secs(10);

/// A libsock connection with `framing` whose peer is a plain socket.
fn raw_peer(framing: Framing) -> (Connection, TcpStream) {
    let l = Listener::bind_with(
        "127.0.0.1:0",
        &ListenOptions::new()
            .framing(framing)
            .conn_timeout(Some(WAIT)),
    )
    .unwrap();
    let peer = TcpStream::connect(l.local_addr().unwrap().as_inet().unwrap()).unwrap();
    peer.set_read_timeout(Some(WAIT)).unwrap();
    let (conn, _) = l.accept(Some(WAIT)).unwrap();
    (conn, peer)
}

#[test]
fn a_claimed_length_allocates_nothing_of_its_size() {
    // Each framing accepts a huge frame; the peer claims 2^39 bytes, sends one, and closes.
    let w8 = Framing::LengthPrefixed(LengthPrefixed::new(8).max_len(1 << 40));
    let mut claim8 = (1u64 << 39).to_be_bytes().to_vec();
    claim8.push(b'x');
    let mut claim4 = u32::MAX.to_be_bytes().to_vec();
    claim4.push(b'x');
    let cases: Vec<(Framing, Vec<u8>)> = vec![
        (w8, claim8),
        (Framing::Fixed(1 << 40), b"x".to_vec()),
        (
            Framing::LengthPrefixed(LengthPrefixed::new(4).max_len(usize::MAX)),
            claim4,
        ),
    ];
    for (framing, wire) in cases {
        let (conn, mut peer) = raw_peer(framing.clone());
        peer.write_all(&wire).unwrap();
        peer.shutdown(Shutdown::Write).unwrap();
        let (largest, r) = largest_in(|| conn.recv_msg());
        let e = expect_kind(r, ErrorKind::Closed);
        assert!(e.to_string().contains("inside a frame"), "{framing:?}: {e}");
        assert!(
            largest < 1 << 20,
            "{framing:?}: one allocation of {largest} bytes for {} bytes received",
            wire.len()
        );
    }
}

#[test]
fn a_big_frame_that_does_arrive_is_received_whole() {
    // Growing with the bytes received still delivers a large frame byte-exact.
    let framing = Framing::LengthPrefixed(LengthPrefixed::new(8).max_len(1 << 40));
    let (conn, mut peer) = raw_peer(framing);
    let body = random_bytes(5 * MIB + 3, 11);
    let mut wire = (body.len() as u64).to_be_bytes().to_vec();
    wire.extend_from_slice(&body);
    let t = std::thread::spawn(move || {
        peer.write_all(&wire).unwrap();
        peer
    });
    assert_eq!(&conn.recv_msg().unwrap()[..], &body[..]);
    drop(t.join().unwrap());
}

#[test]
fn an_all_ones_header_with_the_largest_max_len_is_an_error_not_a_panic() {
    let framing = Framing::LengthPrefixed(LengthPrefixed::new(8).max_len(usize::MAX));
    let (conn, mut peer) = raw_peer(framing.clone());
    peer.write_all(&[0xFF; 9]).unwrap();
    let e = expect_kind(conn.recv_msg(), ErrorKind::FrameTooLarge);
    assert!(e.to_string().contains("18446744073709551615"), "{e}");

    // The engine: the client's connection ends with reason FrameTooLarge (it used to panic and
    // be reported as server-shutdown).
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let client = Client::connect(
        l.local_addr().unwrap().to_string(),
        ClientConfig::new().framing(framing).reconnect(false),
    )
    .unwrap();
    let (mut s, _) = l.accept().unwrap();
    s.write_all(&[0xFF; 9]).unwrap();
    let reason = loop {
        match client.next_event(Some(WAIT)).unwrap().expect("an event") {
            Event::Disconnected { reason, .. } => break reason,
            Event::Connected { .. } => continue,
            other => panic!("unexpected {other:?}"),
        }
    };
    assert_eq!(reason, DisconnectReason::FrameTooLarge);
}

#[test]
fn delimited_sends_never_change_message_boundaries() {
    for (delim, bad, good) in [
        (&b"\n\n"[..], &b"line1\n"[..], &b"line1"[..]),
        (b"\r\n\r\n", b"header\r\n", b"header\r\n\r"),
        (b"aa", b"xa", b"xb"),
        (b"abab", b"xab", b"xba"),
    ] {
        let framing = Framing::Delimited(Delimited::new(delim.to_vec()));
        let (c, s) = tcp_pair(framing);
        let e = expect_kind(c.send_msg(bad), ErrorKind::InvalidArgument);
        assert!(e.to_string().contains("delimiter"), "{e}");
        c.send_msg(good).unwrap();
        c.send_msg(b"next").unwrap();
        assert_eq!(&s.recv_msg().unwrap()[..], good, "{delim:?}");
        assert_eq!(&s.recv_msg().unwrap()[..], b"next", "{delim:?}");
    }
}

#[test]
fn a_message_larger_than_the_send_queue_is_refused_even_when_it_is_empty() {
    let server = Server::bind("127.0.0.1:0", ServerConfig::new().send_queue_bytes(1024)).unwrap();
    let client = Client::connect(
        server.local_addr().to_string(),
        ClientConfig::new().send_queue_bytes(1024),
    )
    .unwrap();
    let e = expect_kind(client.send(&[7u8; 5000]), ErrorKind::FrameTooLarge);
    assert!(e.to_string().contains("1024"), "{e}");
    client.send(&[7u8; 1000]).unwrap();
    let id = loop {
        if let Some(Event::Connected { client, .. }) = server.next_event(Some(WAIT)).unwrap() {
            break client;
        }
    };
    expect_kind(server.send(id, &[1u8; 5000]), ErrorKind::FrameTooLarge);
    expect_kind(
        server.broadcast(&[1u8; 5000], None),
        ErrorKind::FrameTooLarge,
    );
    server.send(id, &[1u8; 1000]).unwrap();
    client.close(Duration::from_secs(1));
    server.shutdown(Duration::from_secs(1));
}

#[test]
fn absurd_settings_are_refused_by_core() {
    let hb = |ms: u64| Some(Heartbeat::new(Duration::from_millis(ms), 3));
    let servers = [
        ("send_queue_bytes", ServerConfig::new().send_queue_bytes(0)),
        ("event_capacity", ServerConfig::new().event_capacity(0)),
        ("max_clients", ServerConfig::new().max_clients(0)),
        ("heartbeat interval", ServerConfig::new().heartbeat(hb(0))),
        ("heartbeat interval", ServerConfig::new().heartbeat(hb(1))),
        (
            "empty heartbeat",
            ServerConfig::new().heartbeat(Some(Heartbeat::reply_only().payloads(&b""[..], "p"))),
        ),
        ("backlog", ServerConfig::new().backlog(-1)),
    ];
    for (what, cfg) in servers {
        let e = expect_kind(Server::bind("127.0.0.1:0", cfg), ErrorKind::InvalidArgument);
        let text = e.to_string();
        assert!(
            what.split(' ').any(|w| text.contains(w)),
            "{what}: the message does not name the setting: {text}"
        );
    }
    let clients = [
        (
            "connect_timeout",
            ClientConfig::new().connect_timeout(Duration::ZERO),
        ),
        (
            "backoff",
            ClientConfig::new().backoff(Duration::ZERO, Duration::ZERO),
        ),
        (
            "backoff",
            ClientConfig::new().backoff(Duration::from_secs(2), Duration::from_secs(1)),
        ),
        ("send_queue_bytes", ClientConfig::new().send_queue_bytes(0)),
        ("event_capacity", ClientConfig::new().event_capacity(0)),
    ];
    for (what, cfg) in clients {
        let e = expect_kind(
            Client::connect("127.0.0.1:9", cfg),
            ErrorKind::InvalidArgument,
        );
        assert!(e.to_string().contains(what), "{what}: {e}");
    }
    for n in [0, 65537] {
        expect_kind(
            DatagramServer::bind("127.0.0.1:0", DatagramServerConfig::new().max_datagram(n)),
            ErrorKind::InvalidArgument,
        );
    }
    // The floors themselves are accepted.
    let s = Server::bind("127.0.0.1:0", ServerConfig::new().heartbeat(hb(10))).unwrap();
    s.shutdown(Duration::ZERO);
    expect_kind(s.next_events(0, None), ErrorKind::InvalidArgument);
    // A dotted host that is no IPv4 address never reaches the resolver.
    let e = expect_kind(
        Connection::connect("256.1.1.1:80"),
        ErrorKind::InvalidArgument,
    );
    assert!(e.to_string().contains("not an IPv4 address"), "{e}");
}

#[test]
fn a_slow_consumer_is_visible_in_stats_and_as_one_warning() {
    let server = Server::bind(
        "127.0.0.1:0",
        ServerConfig::new()
            .send_queue_bytes(256 * 1024)
            .send_policy(SendPolicy::Error),
    )
    .unwrap();
    // A client that never reads, with small buffers.
    let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    sock.set_recv_buffer_size(4096).unwrap();
    sock.connect(&server.local_addr().as_inet().unwrap().into())
        .unwrap();
    let _slow: TcpStream = sock.into();
    let id = loop {
        if let Some(Event::Connected { client, .. }) = server.next_event(Some(WAIT)).unwrap() {
            break client;
        }
    };
    let msg = vec![3u8; 16 * 1024];
    // Fill until a send is refused twice in a row with a pause between: then the kernel's
    // buffers are full too and no room appears while the client does not read.
    // Each run of refusals after a send that fitted is one episode, with one warning.
    let (mut refused, mut in_a_row, mut sent, mut episodes) = (0u64, 0, 0, 0);
    while in_a_row < 2 {
        match server.send(id, &msg) {
            Ok(()) => {
                in_a_row = 0;
                sent += 1;
            }
            Err(e) if e.kind() == ErrorKind::QueueFull => {
                refused += 1;
                if in_a_row == 0 {
                    episodes += 1;
                }
                in_a_row += 1;
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(e) => panic!("{e}"),
        }
        assert!(sent < 10_000, "the queue never filled");
    }
    // Broadcasts skip it: counted, and no new warning (the episode goes on).
    for _ in 0..5 {
        assert_eq!(server.broadcast(&msg, None).unwrap(), 0);
    }
    assert_eq!(server.stats().send_queue_full, refused + 5);
    let mut warnings = Vec::new();
    while let Some(ev) = server.next_event(Some(Duration::from_millis(200))).unwrap() {
        if let Event::Warning {
            client,
            error,
            message,
        } = ev
        {
            warnings.push((client, error, message));
        }
    }
    assert_eq!(warnings.len(), episodes, "{warnings:?}");
    assert_eq!((warnings[0].0, warnings[0].1), (id, ErrorKind::QueueFull));
    assert!(warnings[0].2.contains("not reading"), "{}", warnings[0].2);
    server.shutdown(Duration::ZERO);
}

#[test]
fn end_of_stream_inside_a_frame_reports_the_left_over_bytes() {
    // A tail that does not form a frame is reported, never dropped silently.
    let (conn, mut peer) = raw_peer(Framing::lines());
    peer.write_all(b"whole\npartial").unwrap();
    peer.shutdown(Shutdown::Write).unwrap();
    assert_eq!(&conn.recv_msg().unwrap()[..], b"whole");
    let e = expect_kind(conn.recv_msg(), ErrorKind::Closed);
    assert!(e.to_string().contains("7 bytes left over"), "{e}");
}

#[test]
fn closing_after_skipping_an_oversized_frame_is_a_fin_not_a_reset() {
    // The peer sends a header claiming 2 GiB, then (after the receiver reported it) part of the
    // body, then waits for the close. Closing with those bytes unread used to reset the
    // connection, so the peer's read failed with "Connection reset" instead of seeing the end.
    let framing = Framing::LengthPrefixed(LengthPrefixed::new(4).max_len(1 << 20));
    for close_by_drop in [false, true] {
        let (conn, mut peer) = raw_peer(framing.clone());
        peer.write_all(&0x7fff_ffffu32.to_be_bytes()).unwrap();
        expect_kind(conn.recv_msg(), ErrorKind::FrameTooLarge);
        peer.write_all(&[0u8; 100]).unwrap();
        // Wait (bounded) until the body is in the receiver's kernel buffer.
        let fd = conn.fd();
        for _ in 0..1000 {
            let mut n: libc::c_int = 0;
            // SAFETY: FIONREAD writes one int.
            unsafe { libc::ioctl(fd, libc::FIONREAD, &mut n) };
            if n == 100 {
                break;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        if close_by_drop {
            drop(conn);
        } else {
            conn.close();
        }
        let mut b = [0u8; 1];
        let r = std::io::Read::read(&mut peer, &mut b);
        assert_eq!(r.map_err(|e| e.kind()), Ok(0), "drop {close_by_drop}");
    }
}

#[test]
fn a_paused_application_holds_bounded_received_bytes_whatever_the_message_size() {
    // The event queue is bounded in bytes too: 1 MiB messages from a peer to a server whose
    // application does not pull stop being read at EVENT_QUEUE_BYTES (not at 4096 events,
    // which would be 4 GiB), and all arrive intact once it pulls.
    let server = Server::bind("127.0.0.1:0", ServerConfig::new()).unwrap();
    let mut peer = TcpStream::connect(server.local_addr().as_inet().unwrap()).unwrap();
    peer.set_write_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let body = random_bytes(MIB, 5);
    let mut frame = (MIB as u32).to_be_bytes().to_vec();
    frame.extend_from_slice(&body);
    // The stream is `total` frames back to back; `pos` bytes of it are written.
    let total = 600usize;
    let stream_len = total * frame.len();
    let mut pos = 0usize;
    let write_some = move |peer: &mut TcpStream, pos: &mut usize| -> bool {
        let at = *pos % frame.len();
        let end = frame.len().min(at + (stream_len - *pos));
        match peer.write(&frame[at..end]) {
            Ok(n) => {
                *pos += n;
                true
            }
            Err(_) => false, // stalled for half a second: the server stopped reading
        }
    };
    while pos < stream_len && write_some(&mut peer, &mut pos) {}
    assert!(
        pos < stream_len,
        "600 MiB went in without the server stopping to read"
    );
    let queued = server.stats().events_queued as usize;
    assert!(
        queued * MIB <= libsock::engine::EVENT_QUEUE_BYTES + 2 * MIB,
        "{queued} messages of 1 MiB queued"
    );
    // Pull everything while the rest is written from another thread.
    peer.set_write_timeout(Some(WAIT)).unwrap();
    let t = std::thread::spawn(move || {
        while pos < stream_len {
            assert!(
                write_some(&mut peer, &mut pos),
                "the server stopped reading for good"
            );
        }
        peer
    });
    let mut got = 0;
    while got < total {
        for ev in server.next_events(64, Some(WAIT)).unwrap() {
            if let Event::Message { data, .. } = ev {
                assert!(data[..] == body[..], "message {got} changed");
                got += 1;
            }
        }
    }
    drop(t.join().unwrap());
    server.shutdown(Duration::ZERO);
}
