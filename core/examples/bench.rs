//! A small hand-rolled benchmark of the blocking layer against the alternatives, on loopback:
//!
//! - **ping-pong**: 64-byte request, 64-byte reply, one at a time (round trips per second);
//! - **framed echo**: 4-byte big-endian length + 100-byte payload; a client writer thread pipelines
//!   frames while a reader takes the echoes back (messages per second, end to end).
//!
//! Each is run with (a) libsock `Connection` (raw `send_all`/`recv_exact_into`, and
//! `send_msg`/`recv_msg` with length-prefixed framing), (b) `std::net::TcpStream` with hand
//! framing (a `BufReader` for reads, one `write_all` per frame), (c) hand-written tokio, one
//! current-thread runtime per side. Server and client sides each have their own thread, the same
//! way for all three. Runs are interleaved (A B C A B C ...) and the table gives the median and
//! the min-max of the repetitions.
//!
//! Run pinned to one CPU, in release mode:
//!
//! ```text
//! cargo build --release -p libsock --example bench
//! taskset -c 0 target/release/examples/bench
//! ```
//!
//! Optional arguments: `reps` (default 5), `scale` (default 1.0, multiplies the loop counts) and
//! a comma-separated subset of `libsock,std,tokio` (for profiling one implementation).

use std::io::{BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use libsock::{ConnectOptions, Connection, Framing, ListenOptions, Listener, SocketOptions};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const PING: usize = 64;
const PAYLOAD: usize = 100;

/// The three implementations.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Imp {
    Libsock,
    Std,
    Tokio,
}

impl Imp {
    const ALL: [Imp; 3] = [Imp::Libsock, Imp::Std, Imp::Tokio];
    fn key(self) -> &'static str {
        match self {
            Imp::Libsock => "libsock",
            Imp::Std => "std",
            Imp::Tokio => "tokio",
        }
    }
    fn name(self) -> &'static str {
        match self {
            Imp::Libsock => "libsock Connection",
            Imp::Std => "std::net TcpStream",
            Imp::Tokio => "tokio (current-thread)",
        }
    }
}

fn libsock_pair(framing: Framing) -> (Connection, thread::JoinHandle<Connection>) {
    let opts = SocketOptions::new().nodelay(true);
    let l = Listener::bind_with(
        "127.0.0.1:0",
        &ListenOptions::new()
            .framing(framing.clone())
            .options(opts.clone()),
    )
    .expect("bind");
    let addr = l.local_addr().expect("local addr");
    let server = thread::spawn(move || {
        let (c, _) = l.accept(Some(Duration::from_secs(10))).expect("accept");
        c.set_option(libsock::SockOpt::NoDelay, 1).expect("nodelay");
        c
    });
    let c = Connection::connect_with(
        addr,
        &ConnectOptions::new()
            .connect_timeout(Duration::from_secs(5))
            .framing(framing)
            .options(opts),
    )
    .expect("connect");
    (c, server)
}

fn std_pair() -> (TcpStream, TcpListener) {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let c = TcpStream::connect(l.local_addr().unwrap()).expect("connect");
    c.set_nodelay(true).unwrap();
    (c, l)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .expect("tokio runtime")
}

/// Round trips per second of a 64-byte ping-pong.
fn ping_pong(imp: Imp, rounds: usize) -> f64 {
    match imp {
        Imp::Libsock => {
            let (c, server) = libsock_pair(Framing::Raw);
            let t = thread::spawn(move || {
                let s = server.join().unwrap();
                let mut buf = [0u8; PING];
                for _ in 0..rounds {
                    s.recv_exact_into(&mut buf).unwrap();
                    s.send_all(&buf).unwrap();
                }
            });
            let mut buf = [7u8; PING];
            let t0 = Instant::now();
            for _ in 0..rounds {
                c.send_all(&buf).unwrap();
                c.recv_exact_into(&mut buf).unwrap();
            }
            let el = t0.elapsed();
            t.join().unwrap();
            rounds as f64 / el.as_secs_f64()
        }
        Imp::Std => {
            let (mut c, l) = std_pair();
            let t = thread::spawn(move || {
                let (mut s, _) = l.accept().unwrap();
                s.set_nodelay(true).unwrap();
                let mut buf = [0u8; PING];
                for _ in 0..rounds {
                    s.read_exact(&mut buf).unwrap();
                    s.write_all(&buf).unwrap();
                }
            });
            let mut buf = [7u8; PING];
            let t0 = Instant::now();
            for _ in 0..rounds {
                c.write_all(&buf).unwrap();
                c.read_exact(&mut buf).unwrap();
            }
            let el = t0.elapsed();
            t.join().unwrap();
            rounds as f64 / el.as_secs_f64()
        }
        Imp::Tokio => {
            let l = TcpListener::bind("127.0.0.1:0").expect("bind");
            let addr = l.local_addr().unwrap();
            l.set_nonblocking(true).unwrap();
            let t = thread::spawn(move || {
                runtime().block_on(async move {
                    let l = tokio::net::TcpListener::from_std(l).unwrap();
                    let (mut s, _) = l.accept().await.unwrap();
                    s.set_nodelay(true).unwrap();
                    let mut buf = [0u8; PING];
                    for _ in 0..rounds {
                        s.read_exact(&mut buf).await.unwrap();
                        s.write_all(&buf).await.unwrap();
                    }
                })
            });
            let el = runtime().block_on(async move {
                let mut c = tokio::net::TcpStream::connect(addr).await.unwrap();
                c.set_nodelay(true).unwrap();
                let mut buf = [7u8; PING];
                let t0 = Instant::now();
                for _ in 0..rounds {
                    c.write_all(&buf).await.unwrap();
                    c.read_exact(&mut buf).await.unwrap();
                }
                t0.elapsed()
            });
            t.join().unwrap();
            rounds as f64 / el.as_secs_f64()
        }
    }
}

fn frame(i: usize) -> [u8; 4 + PAYLOAD] {
    let mut f = [0u8; 4 + PAYLOAD];
    f[..4].copy_from_slice(&(PAYLOAD as u32).to_be_bytes());
    f[4..12].copy_from_slice(&(i as u64).to_le_bytes());
    f
}

fn check(i: usize, payload: &[u8]) {
    assert_eq!(payload.len(), PAYLOAD);
    assert_eq!(
        u64::from_le_bytes(payload[..8].try_into().unwrap()),
        i as u64,
        "frame {i} out of order"
    );
}

/// Messages per second through a framed echo server, with a pipelined writer and reader.
fn framed_echo(imp: Imp, count: usize) -> f64 {
    match imp {
        Imp::Libsock => {
            let (c, server) = libsock_pair(Framing::length_prefixed());
            let t = thread::spawn(move || {
                let s = server.join().unwrap();
                for _ in 0..count {
                    let m = s.recv_msg().unwrap();
                    s.send_msg(&m).unwrap();
                }
            });
            let t0 = Instant::now();
            thread::scope(|sc| {
                sc.spawn(|| {
                    for i in 0..count {
                        c.send_msg(&frame(i)[4..]).unwrap();
                    }
                });
                for i in 0..count {
                    check(i, &c.recv_msg().unwrap());
                }
            });
            let el = t0.elapsed();
            t.join().unwrap();
            count as f64 / el.as_secs_f64()
        }
        Imp::Std => {
            let (c, l) = std_pair();
            let t = thread::spawn(move || {
                let (s, _) = l.accept().unwrap();
                s.set_nodelay(true).unwrap();
                let mut r = BufReader::with_capacity(64 * 1024, s.try_clone().unwrap());
                let mut w = s;
                let mut f = [0u8; 4 + PAYLOAD];
                for _ in 0..count {
                    r.read_exact(&mut f[..4]).unwrap();
                    let n = u32::from_be_bytes(f[..4].try_into().unwrap()) as usize;
                    assert_eq!(n, PAYLOAD);
                    r.read_exact(&mut f[4..4 + n]).unwrap();
                    w.write_all(&f[..4 + n]).unwrap();
                }
            });
            let mut w = c.try_clone().unwrap();
            let mut r = BufReader::with_capacity(64 * 1024, c);
            let t0 = Instant::now();
            thread::scope(|sc| {
                sc.spawn(move || {
                    for i in 0..count {
                        w.write_all(&frame(i)).unwrap();
                    }
                });
                let mut f = [0u8; 4 + PAYLOAD];
                for i in 0..count {
                    r.read_exact(&mut f[..4]).unwrap();
                    let n = u32::from_be_bytes(f[..4].try_into().unwrap()) as usize;
                    r.read_exact(&mut f[4..4 + n]).unwrap();
                    check(i, &f[4..4 + n]);
                }
            });
            let el = t0.elapsed();
            t.join().unwrap();
            count as f64 / el.as_secs_f64()
        }
        Imp::Tokio => {
            let l = TcpListener::bind("127.0.0.1:0").expect("bind");
            let addr = l.local_addr().unwrap();
            l.set_nonblocking(true).unwrap();
            let t = thread::spawn(move || {
                runtime().block_on(async move {
                    let l = tokio::net::TcpListener::from_std(l).unwrap();
                    let (s, _) = l.accept().await.unwrap();
                    s.set_nodelay(true).unwrap();
                    let (r, mut w) = s.into_split();
                    let mut r = tokio::io::BufReader::with_capacity(64 * 1024, r);
                    let mut f = [0u8; 4 + PAYLOAD];
                    for _ in 0..count {
                        r.read_exact(&mut f[..4]).await.unwrap();
                        let n = u32::from_be_bytes(f[..4].try_into().unwrap()) as usize;
                        r.read_exact(&mut f[4..4 + n]).await.unwrap();
                        w.write_all(&f[..4 + n]).await.unwrap();
                    }
                })
            });
            let el = runtime().block_on(async move {
                let c = tokio::net::TcpStream::connect(addr).await.unwrap();
                c.set_nodelay(true).unwrap();
                let (r, mut w) = c.into_split();
                let mut r = tokio::io::BufReader::with_capacity(64 * 1024, r);
                let t0 = Instant::now();
                // The writer is a task of the same current-thread runtime: it runs whenever the
                // reader waits.
                let writer = tokio::spawn(async move {
                    for i in 0..count {
                        w.write_all(&frame(i)).await.unwrap();
                    }
                    w
                });
                let mut f = [0u8; 4 + PAYLOAD];
                for i in 0..count {
                    r.read_exact(&mut f[..4]).await.unwrap();
                    let n = u32::from_be_bytes(f[..4].try_into().unwrap()) as usize;
                    r.read_exact(&mut f[4..4 + n]).await.unwrap();
                    check(i, &f[4..4 + n]);
                }
                let _w = writer.await.unwrap();
                t0.elapsed()
            });
            t.join().unwrap();
            count as f64 / el.as_secs_f64()
        }
    }
}

fn stats(v: &[f64]) -> (f64, f64, f64) {
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let n = s.len();
    let median = if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2.0
    };
    (median, s[0], s[n - 1])
}

fn human(x: f64) -> String {
    if x >= 1e6 {
        format!("{:.2} M", x / 1e6)
    } else {
        format!("{:.1} k", x / 1e3)
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let reps: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(5).max(1);
    let scale: f64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(1.0);
    let only = args.next().unwrap_or_else(|| "libsock,std,tokio".into());
    let imps: Vec<Imp> = Imp::ALL
        .into_iter()
        .filter(|i| only.split(',').any(|k| k == i.key()))
        .collect();
    let rounds = ((20_000.0 * scale) as usize).max(100);
    let frames = ((200_000.0 * scale) as usize).max(1000);

    // Warm-up (page faults, first connections), not measured.
    for &imp in &imps {
        ping_pong(imp, rounds / 10);
        framed_echo(imp, frames / 10);
    }

    let mut pp: Vec<Vec<f64>> = vec![Vec::new(); 3];
    let mut fe: Vec<Vec<f64>> = vec![Vec::new(); 3];
    let started = Instant::now();
    for _ in 0..reps {
        for (k, &imp) in imps.iter().enumerate() {
            pp[k].push(ping_pong(imp, rounds));
        }
        for (k, &imp) in imps.iter().enumerate() {
            fe[k].push(framed_echo(imp, frames));
        }
    }
    let cpus = thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    println!(
        "libsock {} bench: {reps} interleaved repetitions, {rounds} round trips and {frames} \
         frames per run, {cpus} CPU(s) available to this process, {:.1} s\n",
        libsock::VERSION,
        started.elapsed().as_secs_f64()
    );
    println!("| benchmark | implementation | median /s | min /s | max /s |");
    println!("|---|---|---:|---:|---:|");
    for (title, data) in [
        ("ping-pong 64 B (round trips)", &pp),
        ("framed echo 4+100 B, pipelined (messages)", &fe),
    ] {
        for (k, imp) in imps.iter().enumerate() {
            let (m, lo, hi) = stats(&data[k]);
            println!(
                "| {title} | {} | {} | {} | {} |",
                imp.name(),
                human(m),
                human(lo),
                human(hi)
            );
        }
    }
}
