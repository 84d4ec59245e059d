//! The server's backend choice (io_uring or the tokio/epoll path): which one a config gets,
//! the reason given when it falls back, and the same events and bytes from both. Real loopback
//! sockets and blocking peers; every wait is bounded.
//!
//! The rest of the engine's server tests run on either backend with `LIBSOCK_BACKEND=uring` or
//! `LIBSOCK_BACKEND=epoll` (CI runs `engine_server` both ways).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use libsock::engine::{Backend, DisconnectReason, Event, Heartbeat, Server, ServerConfig};
use libsock::{ConnectOptions, Connection, ErrorKind, Framing};

const SLOW: Duration = Duration::from_secs(20);

/// A server asking for `b`; with `Uring`, the machine's kernel may refuse io_uring (a
/// container's seccomp filter), and then the note must say so.
fn server(b: Backend, cfg: ServerConfig) -> Server {
    let s = Server::bind("127.0.0.1:0", cfg.backend(b)).expect("bind");
    if b == Backend::Uring
        && s.backend() != Backend::Uring
        && !s.backend_note().contains("not served")
    {
        assert!(
            s.backend_note().contains("io_uring unavailable"),
            "fell back without saying the kernel refused: {}",
            s.backend_note()
        );
        eprintln!("note: this kernel refuses io_uring: {}", s.backend_note());
    }
    s
}

fn peer(s: &Server) -> Connection {
    let opts = ConnectOptions::new()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Some(SLOW))
        .framing(Framing::length_prefixed());
    Connection::connect_with(s.local_addr(), &opts).expect("connect")
}

/// Pull events (echoing messages when `echo`) until `pred` matches one; everything seen.
fn pull_until(s: &Server, echo: bool, mut pred: impl FnMut(&Event) -> bool) -> Vec<Event> {
    let end = Instant::now() + SLOW;
    let mut seen = Vec::new();
    while Instant::now() < end {
        for ev in s
            .next_events(256, Some(Duration::from_millis(50)))
            .expect("next_events")
        {
            if echo {
                if let Event::Message { client, data } = &ev {
                    s.send(*client, data).expect("echo");
                }
            }
            let hit = pred(&ev);
            seen.push(ev);
            if hit {
                return seen;
            }
        }
    }
    panic!("event not seen within {SLOW:?}; saw {seen:?}");
}

#[test]
fn uring_is_chosen_when_asked_on_a_kernel_that_allows_it() {
    let s = server(Backend::Uring, ServerConfig::new());
    if s.backend() == Backend::Uring {
        assert!(
            s.backend_note().starts_with("io_uring"),
            "{}",
            s.backend_note()
        );
    }
    assert_ne!(s.backend(), Backend::Auto);
}

#[test]
fn epoll_is_chosen_when_asked() {
    let s = server(Backend::Epoll, ServerConfig::new());
    assert_eq!(s.backend(), Backend::Epoll);
    assert!(
        s.backend_note().starts_with("epoll"),
        "{}",
        s.backend_note()
    );
}

#[test]
fn what_uring_does_not_serve_falls_back_to_epoll_with_the_reason() {
    let idle = ServerConfig::new().idle_timeout(
        Some(Duration::from_secs(30)),
        libsock::engine::IdleMode::Reads,
    );
    let s = server(Backend::Uring, idle);
    assert_eq!(s.backend(), Backend::Epoll);
    assert!(
        s.backend_note().contains("idle timeout"),
        "{}",
        s.backend_note()
    );

    let hb = ServerConfig::new().heartbeat(Some(Heartbeat::new(Duration::from_secs(5), 3)));
    let s = server(Backend::Uring, hb);
    assert_eq!(s.backend(), Backend::Epoll);
    assert!(
        s.backend_note().contains("heartbeat"),
        "{}",
        s.backend_note()
    );

    let (cert, key) = libsock::tls::self_signed(&["localhost"]).unwrap();
    let tls = libsock::tls::TlsServer::new()
        .cert_pem(cert.as_bytes(), key.as_bytes())
        .unwrap()
        .build()
        .unwrap();
    let s = server(Backend::Uring, ServerConfig::new().tls(tls));
    assert_eq!(s.backend(), Backend::Epoll);
    assert!(s.backend_note().contains("TLS"), "{}", s.backend_note());

    let dir = std::env::temp_dir().join(format!("libsock-backend-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join("s.sock");
    let s = Server::bind(
        format!("unix:{}", path.display()),
        ServerConfig::new().backend(Backend::Uring),
    )
    .expect("bind unix");
    assert_eq!(s.backend(), Backend::Epoll);
    assert!(s.backend_note().contains("Unix"), "{}", s.backend_note());
    drop(s);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_bad_backend_variable_is_an_invalid_argument() {
    // The only test here that leaves the backend to the variable (the others set it in the
    // config, which wins), so setting it cannot change another test's server.
    let before = std::env::var_os(libsock::engine::BACKEND_ENV);
    std::env::set_var(libsock::engine::BACKEND_ENV, "kqueue");
    let r = Server::bind("127.0.0.1:0", ServerConfig::new());
    match before {
        Some(v) => std::env::set_var(libsock::engine::BACKEND_ENV, v),
        None => std::env::remove_var(libsock::engine::BACKEND_ENV),
    }
    let e = r.expect_err("bind with LIBSOCK_BACKEND=kqueue");
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    assert!(e.to_string().contains("LIBSOCK_BACKEND"), "{e}");
}

/// What a server reports for one peer that sends three messages (one split across two writes,
/// two glued in one write, a ping among them) and closes, in a comparable form.
fn one_peer_story(b: Backend) -> Vec<String> {
    let s = server(b, ServerConfig::new());
    let mut t = TcpStream::connect(s.local_addr().to_string()).expect("connect");
    let mut wire = Vec::new();
    for m in [&b"first"[..], b"\0LSPING", b"second", b"third"] {
        wire.extend_from_slice(&(m.len() as u32).to_be_bytes());
        wire.extend_from_slice(m);
    }
    t.write_all(&wire[..6]).unwrap();
    std::thread::sleep(Duration::from_millis(20));
    t.write_all(&wire[6..]).unwrap();
    // The pong comes back (pings are answered on both backends).
    let mut pong = [0u8; 11];
    t.set_read_timeout(Some(SLOW)).unwrap();
    t.read_exact(&mut pong).unwrap();
    assert_eq!(&pong[4..], b"\0LSPONG");
    drop(t);
    let evs = pull_until(&s, false, |e| matches!(e, Event::Disconnected { .. }));
    let st = s.stats();
    assert_eq!(st.messages_in, 3);
    assert_eq!(st.bytes_in, wire.len() as u64);
    evs.iter()
        .map(|e| match e {
            Event::Connected { client, .. } => format!("connected {client}"),
            Event::Message { client, data } => {
                format!("message {client} {}", String::from_utf8_lossy(data))
            }
            Event::Disconnected { client, reason } => format!("disconnected {client} {reason}"),
            other => format!("{other:?}"),
        })
        .collect()
}

#[test]
fn both_backends_tell_the_same_story() {
    let u = one_peer_story(Backend::Uring);
    let e = one_peer_story(Backend::Epoll);
    assert_eq!(u, e);
    assert_eq!(
        u,
        [
            "connected 1",
            "message 1 first",
            "message 1 second",
            "message 1 third",
            &format!("disconnected 1 {}", DisconnectReason::PeerClosed),
        ]
    );
}

#[test]
fn uring_echoes_large_and_small_frames_byte_exact() {
    let s = server(Backend::Uring, ServerConfig::new());
    let c = peer(&s);
    // Frames far larger than one provided buffer (16 KiB), and many small ones.
    let big: Vec<u8> = (0..(3 << 20)).map(|i| (i * 7 + i / 1000) as u8).collect();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let srv = std::sync::Arc::new(s);
    let echo = {
        let srv = srv.clone();
        let stop = stop.clone();
        std::thread::spawn(move || {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let evs = srv
                    .next_events(256, Some(Duration::from_millis(20)))
                    .unwrap();
                let brief: Vec<String> = evs
                    .iter()
                    .map(|e| format!("{:?} {:?}", e.kind(), e.reason()))
                    .collect();
                for ev in evs {
                    if let Event::Disconnected { .. } = &ev {
                        panic!("{brief:?}");
                    }
                    match ev {
                        Event::Message { client, data } => {
                            srv.send_timeout(client, &data, Some(SLOW)).unwrap()
                        }
                        Event::Connected { .. } => {}
                        other => panic!("unexpected {other:?}"),
                    }
                }
            }
        })
    };
    for round in 0..3 {
        c.send_msg(&big).unwrap();
        for i in 0..500u32 {
            c.send_msg(&i.to_be_bytes()).unwrap();
        }
        let back = c.recv_msg().unwrap();
        assert!(back[..] == big[..], "round {round}: big frame differs");
        for i in 0..500u32 {
            assert_eq!(c.recv_msg().unwrap()[..], i.to_be_bytes(), "round {round}");
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    echo.join().unwrap();
    // A write is counted when the write call returns, which can come after the peer read it.
    let t0 = std::time::Instant::now();
    while srv.stats().messages_out < 3 * 501 && t0.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(5));
    }
    let st = srv.stats();
    assert_eq!(st.messages_in, 3 * 501);
    assert_eq!(st.messages_out, 3 * 501);
}

#[test]
fn uring_cuts_a_client_that_does_not_read_while_its_send_is_stuck() {
    let s = server(
        Backend::Uring,
        ServerConfig::new().send_queue_bytes(64 << 20),
    );
    let c = peer(&s);
    let evs = pull_until(&s, false, |e| matches!(e, Event::Connected { .. }));
    let id = evs.last().unwrap().client();
    // Far more than the socket buffers take: the send stays in flight in the kernel.
    let chunk = vec![1u8; 1 << 20];
    for _ in 0..16 {
        s.send(id, &chunk).unwrap();
    }
    std::thread::sleep(Duration::from_millis(100));
    assert!(s.queued_bytes(id).unwrap() < 16 << 20 || s.stats().bytes_out > 0);
    s.disconnect(id, false).unwrap();
    let evs = pull_until(&s, false, |e| matches!(e, Event::Disconnected { .. }));
    assert_eq!(
        evs.last().unwrap().reason(),
        Some(&DisconnectReason::Kicked)
    );
    drop(c);
    // The server goes on: a new client is served.
    let c2 = peer(&s);
    c2.send_msg(b"after").unwrap();
    let evs = pull_until(&s, true, |e| matches!(e, Event::Message { .. }));
    assert_eq!(evs.last().unwrap().data().unwrap(), &b"after"[..]);
    assert_eq!(&c2.recv_msg().unwrap()[..], b"after");
    s.shutdown(Duration::from_secs(1));
}

#[test]
fn uring_shutdown_ends_every_client_and_closes() {
    let s = server(Backend::Uring, ServerConfig::new());
    let peers: Vec<Connection> = (0..20).map(|_| peer(&s)).collect();
    let mut connected = 0;
    pull_until(&s, false, |e| {
        connected += matches!(e, Event::Connected { .. }) as usize;
        connected == 20
    });
    s.shutdown(Duration::from_secs(2));
    let mut disconnected = 0;
    let evs = pull_until(&s, false, |e| {
        if let Event::Disconnected { reason, .. } = e {
            assert_eq!(reason, &DisconnectReason::ServerShutdown);
            disconnected += 1;
        }
        matches!(e, Event::Closed)
    });
    assert_eq!(disconnected, 20, "{evs:?}");
    // Every peer sees the end of its stream.
    for p in peers {
        let e = p.recv_msg().expect_err("closed by the server");
        assert!(
            matches!(e.kind(), ErrorKind::Closed | ErrorKind::ConnectionReset),
            "{e}"
        );
    }
    assert!(TcpStream::connect(s.local_addr().to_string()).is_err());
}
