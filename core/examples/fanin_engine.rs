//! Fan-in benchmark server (e): the libsock engine from Rust, echoing every framed message.
//!
//! Binds 127.0.0.1:0 with the default framing (4-byte big-endian length prefix), prints
//! `PORT <n>`, then pulls events in batches with `next_events` and sends each message back to
//! its client, until killed or the lifetime passes (first argument, seconds; default 900).
//! The backend follows `LIBSOCK_BACKEND` (`epoll` or `uring`; bench/fanin.py sets it for the
//! `libsock-rs` and `libsock-rs-uring` servers); the one the server got is printed on stderr,
//! and a server that asked for io_uring and did not get it exits with an error rather than
//! measure the other path under the wrong name. Driven by bench/fanin.py:
//!
//! ```text
//! cargo build --release -p libsock --example fanin_engine
//! ```

use std::io::Write;
use std::time::{Duration, Instant};

use libsock::engine::{Event, Server, ServerConfig};

fn main() {
    // Raise the open-file limit to the hard limit (10,000 clients).
    // SAFETY: plain libc calls on a local struct.
    unsafe {
        let mut r = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) == 0 && r.rlim_cur < r.rlim_max {
            r.rlim_cur = r.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &r);
        }
    }
    let lifetime = Duration::from_secs(
        std::env::args()
            .nth(1)
            .and_then(|a| a.parse().ok())
            .unwrap_or(900),
    );
    let server = Server::bind(
        ("127.0.0.1", 0u16),
        ServerConfig::new().event_capacity(65536),
    )
    .expect("bind");
    eprintln!("backend: {}", server.backend_note());
    let asked = std::env::var(libsock::engine::BACKEND_ENV).unwrap_or_default();
    if asked == "uring" && server.backend() != libsock::engine::Backend::Uring {
        eprintln!("io_uring was asked for and not given");
        std::process::exit(2);
    }
    println!("PORT {}", server.local_addr());
    std::io::stdout().flush().expect("stdout");
    let end = Instant::now() + lifetime;
    while Instant::now() < end {
        let events = match server.next_events(1024, Some(Duration::from_secs(1))) {
            Ok(ev) => ev,
            Err(_) => break,
        };
        for ev in events {
            if let Event::Message { client, data } = ev {
                // A full send queue or a gone client only loses that client's echo: the load
                // generator then reports the missing reply as a failed run.
                let _ = server.send(client, &data);
            }
        }
    }
}
