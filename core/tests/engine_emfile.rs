//! An engine server out of descriptors loses no connection it accepted. A test binary of its
//! own: it lowers the process's RLIMIT_NOFILE, which would starve tests running beside it.

#![cfg(target_os = "linux")]

use std::io::{ErrorKind as IoKind, Read, Write};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use libsock::engine::{Backend, Event, Server, ServerConfig};
use socket2::{Domain, Socket, Type};

mod common;
use common::frame;

/// The descriptors open in this process.
fn open_fds() -> Vec<i32> {
    let dir = std::fs::read_dir("/proc/self/fd").expect("/proc/self/fd");
    let mut fds: Vec<i32> = dir
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    // The directory's own descriptor is closed by now: drop the ones that are.
    // SAFETY: F_GETFD on any number only asks whether it is open.
    fds.retain(|&fd| unsafe { libc::fcntl(fd, libc::F_GETFD) } >= 0);
    fds
}

fn set_nofile(soft: u64, hard: u64) {
    let r = libc::rlimit {
        rlim_cur: soft,
        rlim_max: hard,
    };
    // SAFETY: a valid rlimit for this process.
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &r) }, 0);
}

fn nofile() -> (u64, u64) {
    let mut r = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes the struct.
    assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) }, 0);
    (r.rlim_cur, r.rlim_max)
}

/// Each connection the server takes needs a descriptor for the socket and, for the first few
/// (read by a waiting consumer itself), one more for a duplicate. With an odd number of
/// descriptors left, an accept takes the last one and the duplicate fails: that connection
/// must still be served (it used to be dropped with the client's bytes unread, which resets
/// the client), and the clients left in the backlog are served once descriptors are back.
#[test]
fn a_server_out_of_descriptors_loses_no_accepted_connection() {
    const CLIENTS: usize = 6;
    // The epoll backend, whose first connections are read by a waiting consumer (io_uring's
    // take no duplicate).
    let cfg = ServerConfig::new().backend(Backend::Epoll);
    let server = Arc::new(Server::bind("127.0.0.1:0", cfg).unwrap());
    let to: SocketAddr = server.local_addr().as_inet().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let echo = {
        let (server, stop) = (server.clone(), stop.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                for ev in server
                    .next_events(64, Some(Duration::from_millis(20)))
                    .unwrap()
                {
                    if let Event::Message { client, data } = ev {
                        server.send(client, &data).unwrap();
                    }
                }
            }
        })
    };
    // The clients' sockets are made before the limit drops (connecting needs no descriptor).
    let clients: Vec<Socket> = (0..CLIENTS)
        .map(|_| Socket::new(Domain::IPV4, Type::STREAM, None).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(100));
    // The smallest limit that leaves exactly three descriptors free: an accept and its
    // duplicate, then an accept whose duplicate fails.
    let open = open_fds();
    let limit = (0u64..)
        .find(|&l| l - open.iter().filter(|&&f| (f as u64) < l).count() as u64 == 3)
        .unwrap();
    let (soft, hard) = nofile();
    set_nofile(limit, hard);
    let msgs: Vec<Vec<u8>> = (0..CLIENTS)
        .map(|i| frame(format!("hello {i}").as_bytes()))
        .collect();
    let mut streams: Vec<std::net::TcpStream> = Vec::new();
    for (c, m) in clients.into_iter().zip(&msgs) {
        c.connect_timeout(&to.into(), Duration::from_secs(10))
            .unwrap();
        let mut s: std::net::TcpStream = c.into();
        s.write_all(m).unwrap();
        streams.push(s);
    }
    // While starved: every client is either echoed or waits in the backlog; none is reset.
    let mut echoed = vec![false; CLIENTS];
    for (i, s) in streams.iter_mut().enumerate() {
        s.set_read_timeout(Some(Duration::from_millis(500)))
            .unwrap();
        let mut got = vec![0u8; msgs[i].len()];
        match s.read_exact(&mut got) {
            Ok(()) => {
                assert_eq!(got, msgs[i]);
                echoed[i] = true;
            }
            Err(e) if matches!(e.kind(), IoKind::WouldBlock | IoKind::TimedOut) => {}
            Err(e) => panic!("client {i} while the server was out of descriptors: {e}"),
        }
    }
    let starved = echoed.iter().filter(|&&e| e).count();
    set_nofile(soft, hard);
    assert!(starved >= 2, "accepted while starved: {echoed:?}");
    assert!(
        starved < CLIENTS,
        "the limit did not starve the server: {echoed:?}"
    );
    // Descriptors are back: the rest are accepted (the accept loop retries) and echoed.
    let end = Instant::now() + Duration::from_secs(20);
    for (i, s) in streams.iter_mut().enumerate().filter(|(i, _)| !echoed[*i]) {
        s.set_read_timeout(Some(
            end.saturating_duration_since(Instant::now())
                .max(Duration::from_millis(1)),
        ))
        .unwrap();
        let mut got = vec![0u8; msgs[i].len()];
        s.read_exact(&mut got)
            .unwrap_or_else(|e| panic!("client {i} after the descriptors came back: {e}"));
        assert_eq!(got, msgs[i]);
    }
    stop.store(true, Ordering::Relaxed);
    echo.join().unwrap();
    assert_eq!(server.stats().connections_total, CLIENTS as u64);
    server.shutdown(Duration::from_secs(1));
}
