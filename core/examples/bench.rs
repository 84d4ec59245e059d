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
//! A third workload, **framed echo batched**, is the same echo with the writer handing over
//! [`BATCH`] messages at a time (libsock `send_msgs`, one `write_all` of the joined frames for std,
//! a `BufWriter` flushed per batch for tokio) and the server echoing whatever it has decoded at once
//! (libsock `recv_msgs` + `send_msgs`; std and tokio flush their writer when no whole frame is left
//! in the read buffer); the client reader still takes one message per call (libsock
//! `recv_msg_into`), which is what the C ABI's framed echo does.
//!
//! Optional arguments: `reps` (default 5), `scale` (default 1.0, multiplies the loop counts), a
//! comma-separated subset of `libsock,std,tokio` (for profiling one implementation), a
//! comma-separated subset of the workloads `pingpong,framed,batched`, and the placement: `same`
//! (default: threads wherever the process may run, so pin the process with `taskset -c 0`) or
//! `split` (the server thread pinned to CPU 1, the client threads to CPU 0).

use std::io::{BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use libsock::{ConnectOptions, Connection, Framing, ListenOptions, Listener, SocketOptions};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const PING: usize = 64;
const PAYLOAD: usize = 100;
/// Messages per batch in the batched framed echo.
const BATCH: usize = 64;
/// Most messages the libsock server takes in one `recv_msgs` (std and tokio echo all they have
/// decoded from one read, up to 64 KiB of frames).
const SERVER_BATCH: usize = 1024;

/// CPU for the server thread (`SERVER_CPU`) and for the client threads (`CLIENT_CPU`) under the
/// `split` placement; -1 = not pinned.
static SERVER_CPU: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(-1);
static CLIENT_CPU: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(-1);

/// Pin the calling thread to `cpu` (if not negative).
fn pin(cpu: &std::sync::atomic::AtomicI32) {
    let cpu = cpu.load(std::sync::atomic::Ordering::Relaxed);
    if cpu < 0 {
        return;
    }
    // SAFETY: a zeroed cpu_set_t is valid; sched_setaffinity(0, ...) applies to this thread.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu as usize, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
    }
}

fn pin_server() {
    pin(&SERVER_CPU)
}

fn pin_client() {
    pin(&CLIENT_CPU)
}

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
                pin_server();
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
                pin_server();
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
                pin_server();
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
                pin_server();
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
                pin_server();
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
                pin_server();
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

/// Messages per second through the framed echo with the writer handing over [`BATCH`] messages at
/// a time and the server echoing whatever it has decoded at once; the reader takes one message
/// per call.
fn framed_batched(imp: Imp, count: usize) -> f64 {
    assert_eq!(count % BATCH, 0, "count must be a multiple of the batch");
    match imp {
        Imp::Libsock => {
            let (c, server) = libsock_pair(Framing::length_prefixed());
            let t = thread::spawn(move || {
                pin_server();
                let s = server.join().unwrap();
                let mut done = 0;
                while done < count {
                    let msgs = s.recv_msgs(SERVER_BATCH).unwrap();
                    let slices: Vec<&[u8]> = msgs.iter().map(|m| &m[..]).collect();
                    s.send_msgs(&slices).unwrap();
                    done += msgs.len();
                }
            });
            let t0 = Instant::now();
            thread::scope(|sc| {
                sc.spawn(|| {
                    let mut frames = vec![[0u8; 4 + PAYLOAD]; BATCH];
                    for b in 0..count / BATCH {
                        for (k, f) in frames.iter_mut().enumerate() {
                            *f = frame(b * BATCH + k);
                        }
                        let slices: Vec<&[u8]> = frames.iter().map(|f| &f[4..]).collect();
                        c.send_msgs(&slices).unwrap();
                    }
                });
                // One message per call into the caller's buffer, as the C ABI's ls_recv_msg.
                let mut f = [0u8; 4 + PAYLOAD];
                for i in 0..count {
                    let n = c.recv_msg_into(&mut f).unwrap();
                    check(i, &f[..n]);
                }
            });
            let el = t0.elapsed();
            t.join().unwrap();
            count as f64 / el.as_secs_f64()
        }
        Imp::Std => {
            let (c, l) = std_pair();
            let t = thread::spawn(move || {
                pin_server();
                let (s, _) = l.accept().unwrap();
                s.set_nodelay(true).unwrap();
                let mut r = BufReader::with_capacity(64 * 1024, s.try_clone().unwrap());
                let mut w = s;
                let mut out = Vec::with_capacity(BATCH * (4 + PAYLOAD));
                let mut f = [0u8; 4 + PAYLOAD];
                for _ in 0..count {
                    r.read_exact(&mut f[..4]).unwrap();
                    let n = u32::from_be_bytes(f[..4].try_into().unwrap()) as usize;
                    assert_eq!(n, PAYLOAD);
                    r.read_exact(&mut f[4..4 + n]).unwrap();
                    out.extend_from_slice(&f[..4 + n]);
                    if !whole_frame(r.buffer()) {
                        w.write_all(&out).unwrap();
                        out.clear();
                    }
                }
                w.write_all(&out).unwrap();
            });
            let mut w = c.try_clone().unwrap();
            let mut r = BufReader::with_capacity(64 * 1024, c);
            let t0 = Instant::now();
            thread::scope(|sc| {
                sc.spawn(move || {
                    let mut out = Vec::with_capacity(BATCH * (4 + PAYLOAD));
                    for b in 0..count / BATCH {
                        out.clear();
                        for k in 0..BATCH {
                            out.extend_from_slice(&frame(b * BATCH + k));
                        }
                        w.write_all(&out).unwrap();
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
                pin_server();
                runtime().block_on(async move {
                    let l = tokio::net::TcpListener::from_std(l).unwrap();
                    let (s, _) = l.accept().await.unwrap();
                    s.set_nodelay(true).unwrap();
                    let (r, w) = s.into_split();
                    let mut r = tokio::io::BufReader::with_capacity(64 * 1024, r);
                    let mut w = tokio::io::BufWriter::with_capacity(64 * 1024, w);
                    let mut f = [0u8; 4 + PAYLOAD];
                    for _ in 0..count {
                        r.read_exact(&mut f[..4]).await.unwrap();
                        let n = u32::from_be_bytes(f[..4].try_into().unwrap()) as usize;
                        r.read_exact(&mut f[4..4 + n]).await.unwrap();
                        w.write_all(&f[..4 + n]).await.unwrap();
                        if !whole_frame(r.buffer()) {
                            w.flush().await.unwrap();
                        }
                    }
                    w.flush().await.unwrap();
                })
            });
            let el = runtime().block_on(async move {
                let c = tokio::net::TcpStream::connect(addr).await.unwrap();
                c.set_nodelay(true).unwrap();
                let (r, w) = c.into_split();
                let mut r = tokio::io::BufReader::with_capacity(64 * 1024, r);
                let t0 = Instant::now();
                let writer = tokio::spawn(async move {
                    let mut w = tokio::io::BufWriter::with_capacity(64 * 1024, w);
                    for b in 0..count / BATCH {
                        for k in 0..BATCH {
                            w.write_all(&frame(b * BATCH + k)).await.unwrap();
                        }
                        w.flush().await.unwrap();
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

/// True if `buf` starts with a whole 4-byte-length frame.
fn whole_frame(buf: &[u8]) -> bool {
    buf.len() >= 4 && buf.len() >= 4 + u32::from_be_bytes(buf[..4].try_into().unwrap()) as usize
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
    let workloads = args
        .next()
        .unwrap_or_else(|| "pingpong,framed,batched".into());
    let placement = args.next().unwrap_or_else(|| "same".into());
    match placement.as_str() {
        "same" => {}
        "split" => {
            SERVER_CPU.store(1, std::sync::atomic::Ordering::Relaxed);
            CLIENT_CPU.store(0, std::sync::atomic::Ordering::Relaxed);
        }
        other => panic!("placement {other:?} (expected same or split)"),
    }
    pin_client();
    let imps: Vec<Imp> = Imp::ALL
        .into_iter()
        .filter(|i| only.split(',').any(|k| k == i.key()))
        .collect();
    let rounds = ((20_000.0 * scale) as usize).max(100);
    let frames = ((200_000.0 * scale) as usize / BATCH).max(16) * BATCH;
    type Run = fn(Imp, usize) -> f64;
    let all: [(&str, &str, Run, usize); 3] = [
        (
            "pingpong",
            "ping-pong 64 B (round trips)",
            ping_pong,
            rounds,
        ),
        (
            "framed",
            "framed echo 4+100 B, pipelined, one send per message (messages)",
            framed_echo,
            frames,
        ),
        (
            "batched",
            "framed echo 4+100 B, pipelined, batches of 64 (messages)",
            framed_batched,
            frames,
        ),
    ];
    let chosen: Vec<_> = all
        .iter()
        .filter(|w| workloads.split(',').any(|k| k == w.0))
        .collect();

    // Warm-up (page faults, first connections), not measured.
    for w in &chosen {
        for &imp in &imps {
            (w.2)(imp, (w.3 / 10 / BATCH).max(1) * BATCH);
        }
    }

    let mut results: Vec<Vec<Vec<f64>>> = vec![vec![Vec::new(); imps.len()]; chosen.len()];
    let started = Instant::now();
    for rep in 0..reps {
        for (wi, w) in chosen.iter().enumerate() {
            // Interleaved, the order rotating from one repetition to the next.
            for j in 0..imps.len() {
                let k = (j + rep) % imps.len();
                results[wi][k].push((w.2)(imps[k], w.3));
            }
        }
    }
    let cpus = thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    println!(
        "libsock {} bench: {reps} interleaved repetitions, {rounds} round trips and {frames} \
         frames per run, placement {placement}, {cpus} CPU(s) available to this process, {:.1} s\n",
        libsock::VERSION,
        started.elapsed().as_secs_f64()
    );
    println!("| benchmark | implementation | median /s | min /s | max /s | vs tokio | vs std |");
    println!("|---|---|---:|---:|---:|---:|---:|");
    for (wi, w) in chosen.iter().enumerate() {
        let median = |imp: Imp| {
            imps.iter()
                .position(|&i| i == imp)
                .map(|k| stats(&results[wi][k]).0)
        };
        let ratio = |m: f64, base: Option<f64>| base.map_or("".into(), |b| format!("{:.2}", m / b));
        for (k, imp) in imps.iter().enumerate() {
            let (m, lo, hi) = stats(&results[wi][k]);
            println!(
                "| {} | {} | {} | {} | {} | {} | {} |",
                w.1,
                imp.name(),
                human(m),
                human(lo),
                human(hi),
                ratio(m, median(Imp::Tokio)),
                ratio(m, median(Imp::Std)),
            );
        }
    }
}
