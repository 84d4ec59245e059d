//! Full TLS handshakes per second over loopback, libsock client to libsock server (blocking
//! layer), one byte each way per connection: `cargo run --release -p libsock --example
//! tls_handshakes [COUNT]`. For profiling the handshake path (`perf record`); the side-by-side
//! comparison with Python's ssl is `bench/tls.py`.

use std::time::{Duration, Instant};

use libsock::tls::{fingerprint_pem, self_signed, TlsClient, TlsServer};
use libsock::{ConnectOptions, Connection, ListenOptions, Listener};

fn main() -> libsock::Result<()> {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(500);
    let (cert, key) = self_signed(&["127.0.0.1"])?;
    let server = TlsServer::new()
        .cert_pem(cert.as_bytes(), key.as_bytes())?
        .build()?;
    let client = TlsClient::new()
        .pin_sha256(&fingerprint_pem(cert.as_bytes())?)?
        .build()?;
    let l = Listener::bind_with("127.0.0.1:0", &ListenOptions::new().tls(server))?;
    let addr = l.local_addr()?;
    let t = std::thread::spawn(move || -> libsock::Result<()> {
        for _ in 0..n {
            let (c, _) = l.accept(Some(Duration::from_secs(10)))?;
            let b = c.recv_exact(1)?;
            c.send_all(&b)?;
            c.close();
        }
        Ok(())
    });
    let opts = ConnectOptions::new()
        .timeout(Some(Duration::from_secs(10)))
        .tls(client);
    let t0 = Instant::now();
    for _ in 0..n {
        let c = Connection::connect_with(addr.clone(), &opts)?;
        c.send_all(b"x")?;
        c.recv_exact(1)?;
        c.close();
    }
    let secs = t0.elapsed().as_secs_f64();
    t.join().expect("server thread")?;
    println!("{n} handshakes in {secs:.3} s: {:.0}/s", n as f64 / secs);
    Ok(())
}
