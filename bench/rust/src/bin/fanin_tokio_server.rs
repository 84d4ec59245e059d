//! (d) Hand-written tokio echo server for 4-byte big-endian length-prefixed frames.
//!
//! Usage: fanin_tokio_server [lifetime_secs]. Binds 127.0.0.1:0, prints `PORT <n>` and serves
//! until killed or the lifetime (default 900 s) passes. One worker thread per available CPU (the
//! driver pins it with taskset). Each connection reads into a buffer, and writes back every
//! complete frame it holds with one write (frames > 1 MiB close the connection).
use std::io::Write;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};

const MAX_FRAME: usize = 1 << 20;

async fn serve(mut s: TcpStream) {
    let _ = s.set_nodelay(true);
    let mut buf: Vec<u8> = Vec::with_capacity(4096);
    let mut tmp = [0u8; 4096];
    loop {
        let n = match s.read(&mut tmp).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        buf.extend_from_slice(&tmp[..n]);
        // Find the end of the last complete frame.
        let mut end = 0;
        while buf.len() - end >= 4 {
            let len = u32::from_be_bytes(buf[end..end + 4].try_into().unwrap()) as usize;
            if len > MAX_FRAME {
                return;
            }
            if buf.len() - end < 4 + len {
                break;
            }
            end += 4 + len;
        }
        if end > 0 {
            if s.write_all(&buf[..end]).await.is_err() {
                return;
            }
            buf.drain(..end);
        }
    }
}

fn main() {
    libsock_bench::raise_nofile();
    let lifetime: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(900);
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        // Backlog 1024 like the other servers (TcpListener::bind gives 128 here, and an
        // overflowing accept queue would leave "connected" clients the server never sees).
        let sock = TcpSocket::new_v4().expect("socket");
        sock.set_reuseaddr(true).expect("reuseaddr");
        sock.bind("127.0.0.1:0".parse().unwrap()).expect("bind");
        let l: TcpListener = sock.listen(1024).expect("listen");
        println!("PORT {}", l.local_addr().unwrap().port());
        std::io::stdout().flush().unwrap();
        let accept = async {
            loop {
                if let Ok((s, _)) = l.accept().await {
                    tokio::spawn(serve(s));
                }
            }
        };
        tokio::select! {
            _ = accept => {}
            _ = tokio::time::sleep(Duration::from_secs(lifetime)) => {}
        }
    });
}
