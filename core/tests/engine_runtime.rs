//! The engine runtime as a whole: `engine::shutdown()` stops every object and joins the
//! runtime's threads; a new object starts it again. One test in its own binary, because the
//! runtime is global to the process.

use std::sync::Arc;
use std::time::{Duration, Instant};

use libsock::engine::{self, Client, ClientConfig, Event, Server, ServerConfig};
use libsock::ErrorKind;

fn until_connected(pull: impl Fn() -> Vec<Event>) {
    let end = Instant::now() + Duration::from_secs(20);
    while Instant::now() < end {
        if pull().iter().any(|e| matches!(e, Event::Connected { .. })) {
            return;
        }
    }
    panic!("never connected");
}

fn engine_threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .map(|d| {
            d.filter_map(|t| t.ok())
                .filter(|t| {
                    std::fs::read_to_string(t.path().join("comm"))
                        .map(|c| c.starts_with("libsock-engine"))
                        .unwrap_or(false)
                })
                .count()
        })
        .unwrap_or(0)
}

#[test]
fn shutdown_stops_everything_wakes_waiters_joins_threads_and_restarts() {
    assert!(
        engine::set_worker_threads(1).unwrap(),
        "runtime not started yet"
    );
    assert!(engine::set_worker_threads(0).is_err());
    assert!(!engine::is_running());
    let server = Arc::new(Server::bind("127.0.0.1:0", ServerConfig::new()).unwrap());
    assert!(engine::is_running());
    assert_eq!(engine::worker_threads(), 1);
    let client = Client::connect(server.local_addr(), ClientConfig::new()).unwrap();
    until_connected(|| {
        client
            .next_events(8, Some(Duration::from_millis(50)))
            .unwrap()
    });
    until_connected(|| {
        server
            .next_events(8, Some(Duration::from_millis(50)))
            .unwrap()
    });
    if cfg!(target_os = "linux") {
        assert!(engine_threads() >= 1);
    }

    // A thread waits on the server while the engine is shut down from here.
    let s2 = server.clone();
    let waiter = std::thread::spawn(move || {
        let mut kinds = Vec::new();
        loop {
            match s2.next_events(16, None) {
                Ok(evs) => kinds.extend(evs.iter().map(|e| e.kind())),
                Err(e) => return (kinds, e.kind()),
            }
        }
    });
    std::thread::sleep(Duration::from_millis(100));
    let t0 = Instant::now();
    engine::shutdown();
    assert!(t0.elapsed() < Duration::from_secs(10));
    assert!(!engine::is_running());
    let (kinds, err) = waiter.join().unwrap();
    assert_eq!(err, ErrorKind::Closed);
    use libsock::engine::EventKind::*;
    assert_eq!(kinds.last(), Some(&Closed), "{kinds:?}");
    assert!(kinds.contains(&Disconnected), "{kinds:?}");
    assert_eq!(server.send(1, b"x").unwrap_err().kind(), ErrorKind::Closed);
    assert_eq!(client.send(b"x").unwrap_err().kind(), ErrorKind::Closed);
    if cfg!(target_os = "linux") {
        assert_eq!(engine_threads(), 0, "runtime threads joined");
    }
    engine::shutdown(); // idempotent
    drop(client);
    drop(server);

    // A new object starts the runtime again.
    let server = Server::bind("127.0.0.1:0", ServerConfig::new()).unwrap();
    assert!(engine::is_running());
    let client = Client::connect(server.local_addr(), ClientConfig::new()).unwrap();
    client.send(b"again").unwrap();
    let end = Instant::now() + Duration::from_secs(20);
    let mut got = None;
    while got.is_none() && Instant::now() < end {
        for ev in server
            .next_events(8, Some(Duration::from_millis(50)))
            .unwrap()
        {
            if let Event::Message { data, .. } = ev {
                got = Some(data);
            }
        }
    }
    assert_eq!(got.unwrap().as_ref(), b"again");
    engine::shutdown();
}
