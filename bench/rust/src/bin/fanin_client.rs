//! The fan-in load generator, the same for every server.
//!
//! Usage: fanin_client PORT N K [timeout_secs]
//!
//! Opens N TCP connections to 127.0.0.1:PORT (at most 256 connects in flight), prints
//! `CONNECTED` once all are up, waits for a line on stdin (`GO`), then every client does K
//! sequential round trips: a 64-byte payload behind a 4-byte big-endian length, and reads the
//! 68-byte echo back, checked byte for byte (the payload carries the client number and the
//! sequence number). Prints one JSON line `{"ok":..,"round_trips":..,"secs":..,"errors":..}`
//! and exits 0 only if all N*K echoes came back exact before the timeout (default 120 s).
//! One current-thread tokio runtime (epoll): the driver pins it to one CPU.
use std::io::{BufRead, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{watch, Semaphore};

const PAYLOAD: usize = 64;

fn frame(client: u32, seq: u32) -> [u8; 4 + PAYLOAD] {
    let mut f = [0u8; 4 + PAYLOAD];
    f[..4].copy_from_slice(&(PAYLOAD as u32).to_be_bytes());
    f[4..8].copy_from_slice(&client.to_be_bytes());
    f[8..12].copy_from_slice(&seq.to_be_bytes());
    for (i, b) in f[12..].iter_mut().enumerate() {
        *b = (client as u8)
            .wrapping_mul(31)
            .wrapping_add(seq as u8)
            .wrapping_add(i as u8);
    }
    f
}

async fn connect(port: u16) -> std::io::Result<TcpStream> {
    let mut last = None;
    for _ in 0..20 {
        match TcpStream::connect(("127.0.0.1", port)).await {
            Ok(s) => {
                s.set_nodelay(true)?;
                return Ok(s);
            }
            Err(e) => {
                last = Some(e);
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
    Err(last.unwrap())
}

fn fail(msg: &str) -> ! {
    println!("{{\"ok\":false,\"error\":{:?}}}", msg);
    std::io::stdout().flush().ok();
    std::process::exit(1);
}

fn main() {
    libsock_bench::raise_nofile();
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 4 {
        eprintln!("usage: fanin_client PORT N K [timeout_secs]");
        std::process::exit(2);
    }
    let port: u16 = args[1].parse().expect("port");
    let n: u32 = args[2].parse().expect("N");
    let k: u32 = args[3].parse().expect("K");
    let timeout = Duration::from_secs(args.get(4).and_then(|a| a.parse().ok()).unwrap_or(120));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let res = rt.block_on(async move {
        // Connect phase.
        let sem = Arc::new(Semaphore::new(256));
        let mut conns = Vec::with_capacity(n as usize);
        for _ in 0..n {
            let sem = sem.clone();
            conns.push(tokio::spawn(async move {
                let _p = sem.acquire().await.unwrap();
                connect(port).await
            }));
        }
        let mut streams = Vec::with_capacity(n as usize);
        let connect_deadline = tokio::time::sleep(timeout);
        tokio::pin!(connect_deadline);
        for c in conns {
            tokio::select! {
                r = c => match r {
                    Ok(Ok(s)) => streams.push(s),
                    Ok(Err(e)) => fail(&format!("connect: {e}")),
                    Err(e) => fail(&format!("connect task: {e}")),
                },
                _ = &mut connect_deadline => fail("connect phase timed out"),
            }
        }
        println!("CONNECTED {}", streams.len());
        std::io::stdout().flush().ok();
        // Wait for GO (blocking read of stdin on a helper thread).
        let (tx, mut rx) = watch::channel(false);
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = std::io::stdin().lock().read_line(&mut line);
            let _ = tx.send(true);
        });
        let _ = rx.wait_for(|go| *go).await;
        let errors = Arc::new(AtomicU64::new(0));
        let done = Arc::new(AtomicU64::new(0));
        let start = Instant::now();
        let mut tasks = Vec::with_capacity(n as usize);
        for (id, mut s) in streams.into_iter().enumerate() {
            let errors = errors.clone();
            let done = done.clone();
            tasks.push(tokio::spawn(async move {
                let mut back = [0u8; 4 + PAYLOAD];
                for seq in 0..k {
                    let f = frame(id as u32, seq);
                    if s.write_all(&f).await.is_err() || s.read_exact(&mut back).await.is_err() {
                        errors.fetch_add(1, Ordering::Relaxed);
                        return None;
                    }
                    if back != f {
                        errors.fetch_add(1, Ordering::Relaxed);
                        return None;
                    }
                    done.fetch_add(1, Ordering::Relaxed);
                }
                // Keep the connection open until all are done: closing is not measured.
                Some(s)
            }));
        }
        let all = async {
            let mut kept = Vec::with_capacity(tasks.len());
            for t in tasks {
                kept.push(t.await);
            }
            kept
        };
        let kept = tokio::select! {
            k = all => k,
            _ = tokio::time::sleep(timeout) => fail(&format!(
                "ping-pong phase timed out after {:?} with {} of {} round trips",
                timeout, done.load(Ordering::Relaxed), n as u64 * k as u64)),
        };
        let secs = start.elapsed().as_secs_f64();
        drop(kept);
        (
            secs,
            done.load(Ordering::Relaxed),
            errors.load(Ordering::Relaxed),
        )
    });
    let (secs, done, errors) = res;
    let expected = n as u64 * k as u64;
    let ok = errors == 0 && done == expected;
    println!(
        "{{\"ok\":{},\"round_trips\":{},\"expected\":{},\"errors\":{},\"secs\":{:.6}}}",
        ok, done, expected, errors, secs
    );
    std::io::stdout().flush().ok();
    std::process::exit(if ok { 0 } else { 1 });
}
