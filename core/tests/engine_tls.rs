//! TLS on the engine: a TLS `Server` and TLS `Client`s (and the blocking layer as the other
//! end), over loopback. Handshakes run on the runtime; failures are events with their reasons
//! and counters, never silent drops; graceful closes send close_notify; a peer that closes
//! without it is a truncation; reconnect shakes hands again.

mod common;

use std::io::{Read, Write};
use std::time::Duration;

use libsock::engine::{Client, ClientConfig, DisconnectReason, Event, Server, ServerConfig};
use libsock::tls::{self_signed, ClientAuth, ClientTls, ServerTls, TlsClient, TlsServer};
use libsock::{ConnectOptions, Connection, ErrorKind, Framing, Result};

const SLOW: Duration = Duration::from_secs(20);

/// Pull until `pred` matches (the callers pull one event at a time, so nothing after the match
/// is lost).
fn pull_until(
    pull: impl Fn(Option<Duration>) -> Result<Vec<Event>>,
    pred: impl FnMut(&Event) -> bool,
) -> Vec<Event> {
    common::pull_until(pull, SLOW, pred)
}

/// An event without its payload (for failure messages).
fn brief(e: &Event) -> String {
    match e {
        Event::Message { client, data } => {
            format!("Message(client {client}, {} bytes)", data.len())
        }
        other => format!("{other:?}"),
    }
}

/// A self-signed certificate for 127.0.0.1 and localhost: (server settings, pin).
fn device() -> (ServerTls, String, String) {
    let (cert, key) = self_signed(&["localhost", "127.0.0.1"]).unwrap();
    let pin = libsock::tls::fingerprint_pem(cert.as_bytes()).unwrap();
    let server = TlsServer::new()
        .cert_pem(cert.as_bytes(), key.as_bytes())
        .unwrap()
        .handshake_timeout(Duration::from_millis(800))
        .build()
        .unwrap();
    (server, pin, cert)
}

fn pinned(pin: &str) -> ClientTls {
    TlsClient::new().pin_sha256(pin).unwrap().build().unwrap()
}

fn tls_server(tls: ServerTls) -> (Server, String) {
    let s = Server::bind("127.0.0.1:0", ServerConfig::new().tls(tls)).unwrap();
    let addr = s.local_addr().to_string();
    (s, addr)
}

fn no_reconnect() -> ClientConfig {
    ClientConfig::new()
        .reconnect(false)
        .connect_timeout(Duration::from_secs(5))
}

fn warning_of(evs: &[Event]) -> (ErrorKind, String) {
    match evs.last() {
        Some(Event::Warning { error, message, .. }) => (*error, message.clone()),
        other => panic!("expected a warning, got {other:?}"),
    }
}

#[test]
fn engine_client_and_server_echo_framed_messages_through_tls() {
    let (tls, pin, _) = device();
    let (server, addr) = tls_server(tls);
    let client = Client::connect(addr.as_str(), no_reconnect().tls(pinned(&pin))).unwrap();
    let msgs: Vec<Vec<u8>> = (0..200u32)
        .map(|i| common::random_bytes(1 + (i as usize * 97) % 70_000, i as u64))
        .collect();
    // Sent before the handshake is done: queued, then delivered in order after it.
    for m in &msgs {
        client.send(m).unwrap();
    }
    let evs = pull_until(
        |t| server.next_events(1, t),
        |e| matches!(e, Event::Connected { .. }),
    );
    let Some(Event::Connected { client: id, .. }) = evs.last() else {
        unreachable!()
    };
    let info = server.tls_info(*id).unwrap().expect("a TLS client");
    assert!(info.version.starts_with("TLSv1."), "{info:?}");
    let mut got = Vec::new();
    pull_until(
        |t| server.next_events(1, t),
        |e| {
            if let Event::Message { client, data } = e {
                server.send(*client, data).unwrap();
                got.push(data.to_vec());
            }
            got.len() == msgs.len()
        },
    );
    assert_eq!(got, msgs);
    let mut back = Vec::new();
    pull_until(
        |t| client.next_events(1, t),
        |e| {
            if let Event::Message { data, .. } = e {
                back.push(data.to_vec());
            }
            back.len() == msgs.len()
        },
    );
    assert_eq!(back, msgs);
    let ci = client.tls_info().expect("connected over TLS");
    assert_eq!(ci.peer_fingerprint().as_deref(), Some(pin.as_str()));
    assert_eq!(client.stats().tls_failures, 0);
    // A graceful close: close_notify then FIN, seen by the server as an orderly end.
    client.close(Duration::from_secs(5));
    let evs = pull_until(
        |t| server.next_events(1, t),
        |e| matches!(e, Event::Disconnected { .. }),
    );
    assert!(
        matches!(
            evs.last(),
            Some(Event::Disconnected {
                reason: DisconnectReason::PeerClosed,
                ..
            })
        ),
        "{:?}",
        evs.iter().map(brief).collect::<Vec<_>>()
    );
}

#[test]
fn a_plaintext_peer_and_a_silent_peer_are_warnings_and_the_server_goes_on() {
    let (tls, pin, _) = device();
    let (server, addr) = tls_server(tls);
    // Plaintext bytes where a ClientHello belongs.
    let mut plain = std::net::TcpStream::connect(&addr).unwrap();
    plain.write_all(b"GET / HTTP/1.0\r\n\r\n").unwrap();
    let evs = pull_until(
        |t| server.next_events(1, t),
        |e| matches!(e, Event::Warning { .. }),
    );
    let (kind, msg) = warning_of(&evs);
    assert_eq!(kind, ErrorKind::Tls, "{msg}");
    assert!(msg.contains("not TLS"), "{msg}");
    // The server answered with an alert and closed: the peer sees the end, no hang.
    plain
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut sink = Vec::new();
    let _ = plain.read_to_end(&mut sink);
    // A peer that says nothing: the handshake timeout (800 ms here) ends it.
    let silent = std::net::TcpStream::connect(&addr).unwrap();
    let evs = pull_until(
        |t| server.next_events(1, t),
        |e| matches!(e, Event::Warning { .. }),
    );
    let (kind, msg) = warning_of(&evs);
    assert_eq!(kind, ErrorKind::Tls);
    assert!(msg.contains("no handshake within 800 ms"), "{msg}");
    drop(silent);
    assert_eq!(server.stats().tls_failures, 2);
    assert_eq!(server.stats().connections_total, 0);
    // A real client still gets in.
    let _c = Client::connect(addr.as_str(), no_reconnect().tls(pinned(&pin))).unwrap();
    pull_until(
        |t| server.next_events(1, t),
        |e| matches!(e, Event::Connected { .. }),
    );
    assert_eq!(server.stats().connections_total, 1);
}

#[test]
fn a_pin_mismatch_ends_the_client_with_reason_tls() {
    let (tls, _, _) = device();
    let (server, addr) = tls_server(tls);
    let wrong = "00".repeat(32);
    let c = Client::connect(addr.as_str(), no_reconnect().tls(pinned(&wrong))).unwrap();
    let evs = pull_until(|t| c.next_events(1, t), |e| matches!(e, Event::Closed));
    let reason = evs
        .iter()
        .find_map(|e| match e {
            Event::Disconnected { client: 0, reason } => Some(reason.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no Disconnected: {evs:?}"));
    match &reason {
        DisconnectReason::Tls(m) => assert!(m.contains("pin"), "{m}"),
        other => panic!("expected reason Tls, got {other:?}"),
    }
    assert_eq!(reason.code(), 11);
    assert_eq!(reason.name(), "TLS");
    assert_eq!(reason.error_kind(), Some(ErrorKind::Tls));
    let st = c.stats();
    assert_eq!((st.tls_failures, st.failed_attempts), (1, 1));
    // The server saw the refusal too (our alert), as a warning.
    let evs = pull_until(
        |t| server.next_events(1, t),
        |e| matches!(e, Event::Warning { .. }),
    );
    assert_eq!(warning_of(&evs).0, ErrorKind::Tls);
}

#[test]
fn a_client_retrying_a_refusing_server_reports_each_failure_as_a_warning() {
    let (tls, _, _) = device();
    let (_server, addr) = tls_server(tls);
    // Trusts only the bundled public roots: the self-signed certificate is an unknown CA.
    let strict = TlsClient::new().bundled_roots().build().unwrap();
    let c = Client::connect(
        addr.as_str(),
        ClientConfig::new()
            .backoff(Duration::from_millis(20), Duration::from_millis(50))
            .max_attempts(2)
            .tls(strict),
    )
    .unwrap();
    let evs = pull_until(|t| c.next_events(1, t), |e| matches!(e, Event::Closed));
    let warnings: Vec<_> = evs
        .iter()
        .filter_map(|e| match e {
            Event::Warning { error, message, .. } => Some((*error, message.clone())),
            _ => None,
        })
        .collect();
    assert!(warnings.len() >= 2, "{evs:?}");
    for (k, m) in &warnings {
        assert_eq!(*k, ErrorKind::Tls);
        assert!(m.contains("unknown CA"), "{m}");
    }
    assert!(evs.iter().any(|e| matches!(
        e,
        Event::Disconnected {
            reason: DisconnectReason::Tls(_),
            ..
        }
    )));
    assert_eq!(c.stats().tls_failures, 3);
}

#[test]
fn an_abrupt_close_is_a_truncation_and_a_graceful_one_delivers_everything() {
    let (tls, pin, _) = device();
    let (server, addr) = tls_server(tls);
    let mut ids = Vec::new();
    // Each client's id at the server is taken before the next client connects: a TLS 1.3
    // client is connected once it has the server's Finished, before the server has its own,
    // so two handshakes under way could complete at the server in either order.
    let clients: Vec<Client> = (0..2)
        .map(|_| {
            let c = Client::connect(addr.as_str(), no_reconnect().tls(pinned(&pin))).unwrap();
            pull_until(
                |t| c.next_events(1, t),
                |e| matches!(e, Event::Connected { .. }),
            );
            pull_until(
                |t| server.next_events(1, t),
                |e| {
                    if let Event::Connected { client, .. } = e {
                        ids.push(*client);
                    }
                    matches!(e, Event::Connected { .. })
                },
            );
            c
        })
        .collect();
    // Graceful: 1,000 queued messages, then close_notify and FIN.
    for i in 0..1000u32 {
        server.send(ids[0], &i.to_be_bytes()).unwrap();
    }
    server.disconnect(ids[0], true).unwrap();
    let mut n = 0u32;
    let evs = pull_until(
        |t| clients[0].next_events(1, t),
        |e| {
            if let Event::Message { data, .. } = e {
                assert_eq!(&data[..], &n.to_be_bytes());
                n += 1;
            }
            matches!(e, Event::Disconnected { .. })
        },
    );
    assert_eq!(n, 1000);
    assert!(
        matches!(
            evs.last(),
            Some(Event::Disconnected {
                reason: DisconnectReason::PeerClosed,
                ..
            })
        ),
        "{:?}",
        evs.iter().map(brief).collect::<Vec<_>>()
    );
    // Abrupt: the socket closes without close_notify.
    server.disconnect(ids[1], false).unwrap();
    let evs = pull_until(
        |t| clients[1].next_events(1, t),
        |e| matches!(e, Event::Disconnected { .. }),
    );
    match evs.last() {
        Some(Event::Disconnected {
            reason: DisconnectReason::Tls(m),
            ..
        }) => assert!(m.contains("without close_notify"), "{m}"),
        other => panic!("expected a truncation, got {other:?}"),
    }
}

#[test]
fn reconnect_shakes_hands_again_after_a_server_restart() {
    let (tls, pin, _) = device();
    let (server, addr) = tls_server(tls.clone());
    let c = Client::connect(
        addr.as_str(),
        ClientConfig::new()
            .backoff(Duration::from_millis(20), Duration::from_millis(100))
            .tls(pinned(&pin)),
    )
    .unwrap();
    pull_until(
        |t| c.next_events(1, t),
        |e| matches!(e, Event::Connected { .. }),
    );
    server.shutdown(Duration::from_secs(2));
    drop(server);
    pull_until(
        |t| c.next_events(1, t),
        |e| matches!(e, Event::Disconnected { .. }),
    );
    let mut again = None;
    for _ in 0..100 {
        if let Ok(s) = Server::bind(addr.as_str(), ServerConfig::new().tls(tls.clone())) {
            again = Some(s);
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let server = again.expect("bind again");
    pull_until(
        |t| c.next_events(1, t),
        |e| matches!(e, Event::Connected { .. }),
    );
    c.send(b"after the restart").unwrap();
    let evs = pull_until(
        |t| server.next_events(1, t),
        |e| matches!(e, Event::Message { .. }),
    );
    assert!(
        matches!(evs.last(), Some(Event::Message { data, .. }) if &data[..] == b"after the restart")
    );
    assert_eq!(c.stats().connections, 2);
}

#[test]
fn the_engine_meets_the_blocking_layer_with_mutual_tls() {
    // Server certificate trusted by its pin; client certificate required and checked
    // against a CA file (here: the client's own self-signed certificate as the CA).
    let (server_cert, server_key) = self_signed(&["localhost"]).unwrap();
    let (client_cert, client_key) = self_signed(&["client"]).unwrap();
    let pin = libsock::tls::fingerprint_pem(server_cert.as_bytes()).unwrap();
    let tls = TlsServer::new()
        .cert_pem(server_cert.as_bytes(), server_key.as_bytes())
        .unwrap()
        .client_auth(ClientAuth::Required(client_cert.as_bytes().to_vec()))
        .build()
        .unwrap();
    let (server, addr) = tls_server(tls);
    let with_cert = TlsClient::new()
        .pin_sha256(&pin)
        .unwrap()
        .client_cert_pem(client_cert.as_bytes(), client_key.as_bytes())
        .unwrap();
    let conn = Connection::connect_with(
        addr.as_str(),
        &ConnectOptions::new()
            .timeout(Some(SLOW))
            .framing(Framing::length_prefixed())
            .tls(with_cert.build().unwrap()),
    )
    .unwrap();
    let evs = pull_until(
        |t| server.next_events(1, t),
        |e| matches!(e, Event::Connected { .. }),
    );
    let Some(Event::Connected { client: id, .. }) = evs.last() else {
        unreachable!()
    };
    let info = server.tls_info(*id).unwrap().unwrap();
    assert_eq!(
        info.peer_fingerprint(),
        Some(libsock::tls::fingerprint_pem(client_cert.as_bytes()).unwrap())
    );
    conn.send_msg(b"hello over mTLS").unwrap();
    let evs = pull_until(
        |t| server.next_events(1, t),
        |e| matches!(e, Event::Message { .. }),
    );
    let Some(Event::Message { data, .. }) = evs.last() else {
        unreachable!()
    };
    server.send(*id, &data[..]).unwrap();
    assert_eq!(&conn.recv_msg().unwrap()[..], b"hello over mTLS");
    conn.close();
    // Without a client certificate: refused, a warning at the server.
    let r = Connection::connect_with(
        addr.as_str(),
        &ConnectOptions::new().timeout(Some(SLOW)).tls(pinned(&pin)),
    )
    .and_then(|c| c.recv_msg().map(|_| ()));
    assert_eq!(r.unwrap_err().kind(), ErrorKind::Tls);
    let evs = pull_until(
        |t| server.next_events(1, t),
        |e| matches!(e, Event::Warning { .. }),
    );
    let (kind, msg) = warning_of(&evs);
    assert_eq!(kind, ErrorKind::Tls);
    assert!(msg.contains("client certificate"), "{msg}");
}
