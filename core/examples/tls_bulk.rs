//! TLS bulk throughput over loopback, libsock to libsock (blocking layer): the client sends
//! `MIB` MiB in 64 KiB writes, the server reads them with 64 KiB receives. `cargo run --release
//! -p libsock --example tls_bulk [MIB] [plain]`. For profiling and instruction counts
//! (`perf stat`, callgrind); the side-by-side comparison with Python's ssl is `bench/tls.py`.

use std::time::{Duration, Instant};

use libsock::tls::{fingerprint_pem, self_signed, TlsClient, TlsServer};
use libsock::{ConnectOptions, Connection, ListenOptions, Listener};

fn main() -> libsock::Result<()> {
    let mut args = std::env::args().skip(1);
    let mib: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(256);
    let plain = args.next().as_deref() == Some("plain");
    let (cert, key) = self_signed(&["127.0.0.1"])?;
    let mut lopts = ListenOptions::new();
    let mut copts = ConnectOptions::new().timeout(Some(Duration::from_secs(30)));
    if !plain {
        lopts = lopts.tls(
            TlsServer::new()
                .cert_pem(cert.as_bytes(), key.as_bytes())?
                .build()?,
        );
        copts = copts.tls(
            TlsClient::new()
                .pin_sha256(&fingerprint_pem(cert.as_bytes())?)?
                .build()?,
        );
    }
    let l = Listener::bind_with("127.0.0.1:0", &lopts)?;
    let addr = l.local_addr()?;
    let total = mib << 20;
    let t = std::thread::spawn(move || -> libsock::Result<usize> {
        let (c, _) = l.accept(Some(Duration::from_secs(10)))?;
        let mut buf = vec![0u8; 64 * 1024];
        let mut n = 0;
        while n < total {
            let k = c.recv_into(&mut buf)?;
            if k == 0 {
                break;
            }
            n += k;
        }
        Ok(n)
    });
    let c = Connection::connect_with(addr, &copts)?;
    let chunk = vec![0xa5u8; 64 * 1024];
    let t0 = Instant::now();
    for _ in 0..total / chunk.len() {
        c.send_all(&chunk)?;
    }
    let got = t.join().expect("server thread")?;
    let secs = t0.elapsed().as_secs_f64();
    assert_eq!(got, total, "the server counted {got} of {total} bytes");
    println!(
        "{mib} MiB {} in {secs:.3} s: {:.0} MiB/s",
        if plain { "plaintext" } else { "through TLS" },
        mib as f64 / secs
    );
    Ok(())
}
