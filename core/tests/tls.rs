//! TLS on the blocking layer: a libsock client and server (and refusals, each with its own
//! reason), over loopback. Certificates are made here (rcgen): a CA with a leaf it signed, a
//! self-signed device certificate, expired and not-yet-valid ones.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use common::*;
use libsock::tls::{self_signed, ClientAuth, TlsClient, TlsServer, TlsVersion};
use libsock::{ConnectOptions, Connection, ErrorKind, Framing, ListenOptions, Listener, Shutdown};

const WAIT: Duration = Duration::from_secs(10);

/// A CA and a leaf certificate for `names` that it signed, valid from `days.0` to `days.1`
/// days from now (all PEM): (ca, leaf, leaf key).
fn ca_and_leaf(names: &[&str], days: (i64, i64)) -> (String, String, String) {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(rcgen::DnType::CommonName, "libsock test CA");
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let leaf_key = KeyPair::generate().unwrap();
    let mut leaf =
        CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap();
    let now = time::OffsetDateTime::now_utc();
    leaf.not_before = now + time::Duration::days(days.0);
    leaf.not_after = now + time::Duration::days(days.1);
    let leaf_cert = leaf.signed_by(&leaf_key, &ca_cert, &ca_key).unwrap();
    (ca_cert.pem(), leaf_cert.pem(), leaf_key.serialize_pem())
}

/// A TLS listener on loopback; `serve` gets the result of one accept. Returns the port.
fn serve<T: Send + 'static>(
    server: TlsServer,
    framing: Framing,
    serve: impl FnOnce(libsock::Result<Connection>) -> T + Send + 'static,
) -> (u16, JoinHandle<T>) {
    let l = Listener::bind_with(
        "127.0.0.1:0",
        &ListenOptions::new()
            .framing(framing)
            .conn_timeout(Some(WAIT))
            .tls(server.build().unwrap()),
    )
    .unwrap();
    let port = l.local_addr().unwrap().port();
    let t = thread::spawn(move || serve(l.accept(Some(WAIT)).map(|(c, _)| c)));
    (port, t)
}

fn connect(
    port: u16,
    host: &str,
    client: TlsClient,
    framing: Framing,
) -> libsock::Result<Connection> {
    Connection::connect_with(
        format!("{host}:{port}"),
        &ConnectOptions::new()
            .connect_timeout(WAIT)
            .timeout(Some(WAIT))
            .framing(framing)
            .tls(client.build()?),
    )
}

fn device() -> (String, String, String) {
    let (cert, key) = self_signed(&["device.local", "127.0.0.1"]).unwrap();
    let pin = libsock::tls::fingerprint_pem(cert.as_bytes()).unwrap();
    (cert, key, pin)
}

#[test]
fn pinned_self_signed_framed_echo_both_ways_byte_exact() {
    let (cert, key, pin) = device();
    let framing = Framing::length_prefixed();
    let big = random_bytes(8 * MIB, 3);
    let expect = big.clone();
    let (port, t) = serve(
        TlsServer::new()
            .cert_pem(cert.as_bytes(), key.as_bytes())
            .unwrap()
            .alpn(["x-test"]),
        framing.clone(),
        move |c| {
            let c = c.unwrap();
            assert_eq!(c.tls_info().unwrap().alpn.as_deref(), Some(&b"x-test"[..]));
            for _ in 0..3 {
                let m = c.recv_msg().unwrap();
                c.send_msg(&m).unwrap();
            }
            // The client half-closes after its last message: a clean end of stream.
            assert_eq!(
                expect_kind(c.recv_msg(), ErrorKind::Closed).kind(),
                ErrorKind::Closed
            );
            c.send_msg(b"bye").unwrap();
            c.shutdown(Shutdown::Write).unwrap();
        },
    );
    let c = connect(
        port,
        "127.0.0.1",
        TlsClient::new().pin_sha256(&pin).unwrap().alpn(["x-test"]),
        framing,
    )
    .unwrap();
    let info = c.tls_info().unwrap();
    assert_eq!(info.version, "TLSv1.3");
    assert_eq!(info.peer_fingerprint().as_deref(), Some(pin.as_str()));
    for m in [&b"hello"[..], &b""[..], &big[..]] {
        c.send_msg(m).unwrap();
        assert!(c.recv_msg().unwrap()[..] == m[..]);
    }
    c.shutdown(Shutdown::Write).unwrap();
    assert_eq!(&c.recv_msg().unwrap()[..], b"bye");
    expect_kind(c.recv_msg(), ErrorKind::Closed);
    t.join().unwrap();
    let _ = expect;
}

#[test]
fn ca_trust_checks_the_name_and_the_dates() {
    let (ca, leaf, key) = ca_and_leaf(&["localhost", "127.0.0.1"], (-1, 30));
    for (host, name, ok) in [
        ("127.0.0.1", None, true),
        ("localhost", None, true),
        ("127.0.0.1", Some("other.example"), false),
    ] {
        let (l2, k2) = (leaf.clone(), key.clone());
        let (port, t) = serve(
            TlsServer::new()
                .cert_pem(l2.as_bytes(), k2.as_bytes())
                .unwrap(),
            Framing::Raw,
            |c| c.map(|c| c.send_all(b"hi")).is_ok(),
        );
        let mut client = TlsClient::new().ca_pem(ca.as_bytes()).unwrap();
        if let Some(n) = name {
            client = client.server_name(n);
        }
        match connect(port, host, client, Framing::Raw) {
            Ok(c) => {
                assert!(ok, "{host} {name:?} connected");
                assert_eq!(&c.recv_exact(2).unwrap()[..], b"hi");
            }
            Err(e) => {
                assert!(!ok, "{host} {name:?}: {e}");
                assert_eq!(e.kind(), ErrorKind::Tls);
                assert!(e.to_string().contains("name mismatch"), "{e}");
            }
        }
        let _ = t.join();
    }
    for (days, why) in [((-30, -1), "expired"), ((2, 30), "not yet valid")] {
        let (ca, leaf, key) = ca_and_leaf(&["127.0.0.1"], days);
        let (port, t) = serve(
            TlsServer::new()
                .cert_pem(leaf.as_bytes(), key.as_bytes())
                .unwrap(),
            Framing::Raw,
            |c| c.is_ok(),
        );
        let e = connect(
            port,
            "127.0.0.1",
            TlsClient::new().ca_pem(ca.as_bytes()).unwrap(),
            Framing::Raw,
        )
        .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Tls);
        assert!(e.to_string().contains(why), "{e}");
        assert!(!t.join().unwrap(), "the server's handshake must fail too");
    }
}

#[test]
fn unknown_ca_and_pin_mismatch_are_refused_with_their_reasons() {
    let (cert, key, _) = device();
    let (_, _, other_pin) = device();
    for (client, why) in [
        (TlsClient::new(), "unknown CA"),
        (TlsClient::new().bundled_roots(), "unknown CA"),
        (
            TlsClient::new().pin_sha256(&other_pin).unwrap(),
            "pin mismatch",
        ),
    ] {
        let (c2, k2) = (cert.clone(), key.clone());
        let (port, t) = serve(
            TlsServer::new()
                .cert_pem(c2.as_bytes(), k2.as_bytes())
                .unwrap(),
            Framing::Raw,
            |c| c.is_ok(),
        );
        let e = connect(port, "127.0.0.1", client, Framing::Raw).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Tls, "{e}");
        assert!(e.to_string().contains(why), "{why}: {e}");
        assert!(!t.join().unwrap());
    }
}

#[test]
fn plaintext_peers_and_silent_peers_get_clear_errors_not_hangs() {
    // A TLS client talking to a plaintext server.
    let plain = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = plain.local_addr().unwrap().port();
    let t = thread::spawn(move || {
        let (mut s, _) = plain.accept().unwrap();
        let _ = s.write_all(b"HTTP/1.0 400 Bad Request\r\n\r\n");
        let mut b = [0u8; 512];
        let _ = s.read(&mut b);
    });
    let (_, _, pin) = device();
    let e = connect(
        port,
        "127.0.0.1",
        TlsClient::new().pin_sha256(&pin).unwrap(),
        Framing::Raw,
    )
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Tls, "{e}");
    assert!(e.to_string().contains("not TLS"), "{e}");
    t.join().unwrap();

    // A plaintext client talking to a TLS server: accept fails with the reason.
    let (cert, key, _) = device();
    let (port, t) = serve(
        TlsServer::new()
            .cert_pem(cert.as_bytes(), key.as_bytes())
            .unwrap(),
        Framing::Raw,
        |c| c.map(|_| ()).unwrap_err(),
    );
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.write_all(b"GET / HTTP/1.0\r\n\r\n").unwrap();
    let e = t.join().unwrap();
    assert_eq!(e.kind(), ErrorKind::Tls, "{e}");

    // A silent server: the handshake timeout ends the wait.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let e = connect(
        port,
        "127.0.0.1",
        TlsClient::new()
            .pin_sha256(&pin)
            .unwrap()
            .handshake_timeout(Duration::from_millis(300)),
        Framing::Raw,
    )
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
    assert!(e.to_string().contains("TLS handshake"), "{e}");
    drop(silent);
}

#[test]
fn a_peer_closing_without_close_notify_is_a_truncation() {
    let (cert, key, pin) = device();
    let (port, t) = serve(
        TlsServer::new()
            .cert_pem(cert.as_bytes(), key.as_bytes())
            .unwrap(),
        Framing::Raw,
        |c| {
            let c = c.unwrap();
            c.send_all(b"partial").unwrap();
            // A FIN without close_notify.
            // SAFETY: shutdown on the connection's own open descriptor.
            unsafe { libc::shutdown(c.fd(), libc::SHUT_RDWR) };
            thread::sleep(Duration::from_millis(200));
        },
    );
    let c = connect(
        port,
        "127.0.0.1",
        TlsClient::new().pin_sha256(&pin).unwrap(),
        Framing::Raw,
    )
    .unwrap();
    assert_eq!(&c.recv_exact(7).unwrap()[..], b"partial");
    let mut b = [0u8; 16];
    let e = c.recv(&mut b).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Tls, "{e}");
    assert!(e.to_string().contains("without close_notify"), "{e}");
    t.join().unwrap();
}

#[test]
fn mutual_tls_required_and_optional() {
    let (ca, leaf, key) = ca_and_leaf(&["127.0.0.1"], (-1, 30));
    let (client_ca, client_leaf, client_key) = ca_and_leaf(&["client"], (-1, 30));
    let server = |auth: ClientAuth| {
        TlsServer::new()
            .cert_pem(leaf.as_bytes(), key.as_bytes())
            .unwrap()
            .client_auth(auth)
    };
    let trusting = || TlsClient::new().ca_pem(ca.as_bytes()).unwrap();
    // Required, and given: the server sees the client's certificate.
    let (port, t) = serve(
        server(ClientAuth::Required(client_ca.clone().into_bytes())),
        Framing::Raw,
        |c| c.unwrap().tls_info().unwrap().peer_certificates.len(),
    );
    let c = connect(
        port,
        "127.0.0.1",
        trusting()
            .client_cert_pem(client_leaf.as_bytes(), client_key.as_bytes())
            .unwrap(),
        Framing::Raw,
    )
    .unwrap();
    assert_eq!(t.join().unwrap(), 1);
    drop(c);
    // Required, and missing: refused on both sides (TLS 1.3 reports it to the client at its
    // first receive).
    let (port, t) = serve(
        server(ClientAuth::Required(client_ca.clone().into_bytes())),
        Framing::Raw,
        |c| c.map(|_| ()).unwrap_err(),
    );
    let r = connect(port, "127.0.0.1", trusting(), Framing::Raw)
        .and_then(|c| c.recv_exact(1).map(|_| ()));
    let e = r.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Tls, "{e}");
    let se = t.join().unwrap();
    assert!(se.to_string().contains("no client certificate"), "{se}");
    // Optional: accepted without one.
    let (port, t) = serve(
        server(ClientAuth::Optional(client_ca.into_bytes())),
        Framing::Raw,
        |c| c.unwrap().tls_info().unwrap().peer_certificates.len(),
    );
    let c = connect(port, "127.0.0.1", trusting(), Framing::Raw).unwrap();
    assert_eq!(t.join().unwrap(), 0);
    drop(c);
}

#[test]
fn tls13_only_meets_tls12_only_with_a_version_error() {
    let (cert, key, pin) = device();
    let (port, t) = serve(
        TlsServer::new()
            .cert_pem(cert.as_bytes(), key.as_bytes())
            .unwrap()
            .min_version(TlsVersion::V1_3),
        Framing::Raw,
        |c| c.is_ok(),
    );
    // rustls has no "1.2 only" client setting; a 1.3-only server and a default client agree
    // on 1.3.
    let c = connect(
        port,
        "127.0.0.1",
        TlsClient::new().pin_sha256(&pin).unwrap(),
        Framing::Raw,
    )
    .unwrap();
    assert_eq!(c.tls_info().unwrap().version, "TLSv1.3");
    assert!(t.join().unwrap());
}

#[test]
fn close_from_another_thread_wakes_a_blocked_tls_receive() {
    let (cert, key, pin) = device();
    let (port, t) = serve(
        TlsServer::new()
            .cert_pem(cert.as_bytes(), key.as_bytes())
            .unwrap(),
        Framing::Raw,
        |c| {
            let c = c.unwrap();
            thread::sleep(Duration::from_secs(2));
            drop(c);
        },
    );
    let c = std::sync::Arc::new(
        connect(
            port,
            "127.0.0.1",
            TlsClient::new().pin_sha256(&pin).unwrap(),
            Framing::Raw,
        )
        .unwrap(),
    );
    let c2 = c.clone();
    let closer = thread::spawn(move || {
        thread::sleep(Duration::from_millis(200));
        c2.close();
    });
    let mut b = [0u8; 8];
    let e = c.recv(&mut b).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Closed, "{e}");
    closer.join().unwrap();
    t.join().unwrap();
}

#[test]
fn send_file_goes_through_tls() {
    let (cert, key, pin) = device();
    let data = random_bytes(3 * MIB + 5, 9);
    let dir = std::env::temp_dir().join(format!("ls-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("f.bin");
    std::fs::write(&path, &data).unwrap();
    let n = data.len();
    let (port, t) = serve(
        TlsServer::new()
            .cert_pem(cert.as_bytes(), key.as_bytes())
            .unwrap(),
        Framing::Raw,
        move |c| c.unwrap().recv_exact(n).unwrap(),
    );
    let c = connect(
        port,
        "127.0.0.1",
        TlsClient::new().pin_sha256(&pin).unwrap(),
        Framing::Raw,
    )
    .unwrap();
    assert_eq!(c.send_file(&path, 0, None).unwrap(), n as u64);
    assert!(t.join().unwrap()[..] == data[..]);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// 64 MiB each way at once through TLS with framing (64 messages of 1 MiB each way, sent by one
/// thread while another receives), byte-exact by hash.
#[test]
fn sixty_four_mib_each_way_with_framing_byte_exact() {
    let (cert, key, pin) = device();
    let framing = Framing::length_prefixed();
    let block = urandom(MIB);
    let n = 64;
    let digest_of = |blocks: usize, block: &[u8]| {
        let mut all = Vec::with_capacity(blocks * block.len() + blocks);
        for i in 0..blocks {
            all.extend_from_slice(block);
            all.push(i as u8);
        }
        sha256(&all)
    };
    let want = digest_of(n, &block);
    let b2 = block.clone();
    let (port, t) = serve(
        TlsServer::new()
            .cert_pem(cert.as_bytes(), key.as_bytes())
            .unwrap(),
        framing.clone(),
        move |c| {
            let c = std::sync::Arc::new(c.unwrap());
            let tx = c.clone();
            let sender = thread::spawn(move || {
                let mut m = b2.clone();
                m.push(0);
                for i in 0..n {
                    *m.last_mut().unwrap() = i as u8;
                    tx.send_msg(&m).unwrap();
                }
            });
            let mut got = Vec::with_capacity(n * (MIB + 1));
            for _ in 0..n {
                got.extend_from_slice(&c.recv_msg().unwrap());
            }
            sender.join().unwrap();
            sha256(&got)
        },
    );
    let c = std::sync::Arc::new(
        connect(
            port,
            "127.0.0.1",
            TlsClient::new().pin_sha256(&pin).unwrap(),
            framing,
        )
        .unwrap(),
    );
    let tx = c.clone();
    let b3 = block.clone();
    let sender = thread::spawn(move || {
        let mut m = b3;
        m.push(0);
        for i in 0..n {
            *m.last_mut().unwrap() = i as u8;
            tx.send_msg(&m).unwrap();
        }
    });
    let mut got = Vec::with_capacity(n * (MIB + 1));
    for _ in 0..n {
        got.extend_from_slice(&c.recv_msg().unwrap());
    }
    sender.join().unwrap();
    assert_eq!(sha256(&got), want, "client side");
    assert_eq!(t.join().unwrap(), want, "server side");
}
