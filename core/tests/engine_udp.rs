//! Engine datagram server: datagrams pulled as events, replies with send_to.

use std::net::UdpSocket;
use std::time::{Duration, Instant};

use libsock::engine::{DatagramServer, DatagramServerConfig, Event};
use libsock::ErrorKind;

#[test]
fn datagrams_arrive_as_events_and_replies_go_back() {
    let server = DatagramServer::bind("127.0.0.1:0", DatagramServerConfig::new()).unwrap();
    let to = server.local_addr().as_inet().unwrap();
    let peer = UdpSocket::bind("127.0.0.1:0").unwrap();
    peer.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    for i in 0..20u8 {
        peer.send_to(&[i; 10], to).unwrap();
    }
    let mut got = Vec::new();
    let end = Instant::now() + Duration::from_secs(20);
    while got.len() < 20 && Instant::now() < end {
        for ev in server
            .next_events(8, Some(Duration::from_millis(50)))
            .unwrap()
        {
            match ev {
                Event::Datagram { peer: from, data } => {
                    assert_eq!(from.as_inet().unwrap(), peer.local_addr().unwrap());
                    server.send_to(&data[..1], &from).unwrap();
                    got.push(data);
                }
                other => panic!("unexpected {other:?}"),
            }
        }
    }
    assert_eq!(got.len(), 20);
    let mut buf = [0u8; 16];
    let mut replies = 0;
    while replies < 20 {
        let (n, from) = peer.recv_from(&mut buf).unwrap();
        assert_eq!(n, 1);
        assert_eq!(from, to);
        replies += 1;
    }
    let st = server.stats();
    assert_eq!(st.datagrams_in, 20);
    assert_eq!(st.datagrams_out, 20);
    server.shutdown();
    assert_eq!(server.next_events(4, None).unwrap(), vec![Event::Closed]);
    assert_eq!(
        server.next_events(4, None).unwrap_err().kind(),
        ErrorKind::Closed
    );
    assert_eq!(
        server
            .send_to(b"x", &libsock::Addr::Inet(to))
            .unwrap_err()
            .kind(),
        ErrorKind::Closed
    );
}

#[test]
fn unix_endpoints_are_unsupported_here() {
    let e = DatagramServer::bind("unix:/tmp/nope.sock", DatagramServerConfig::new()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported);
}

#[test]
fn send_to_endpoint_takes_text_resolves_names_and_refuses_what_is_not_udp() {
    let server = DatagramServer::bind("127.0.0.1:0", DatagramServerConfig::new()).unwrap();
    let peer = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    peer.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let port = peer.local_addr().unwrap().port();
    let mut b = [0u8; 16];
    for to in [format!("127.0.0.1:{port}"), format!("localhost:{port}")] {
        let n = server
            .send_to_endpoint(b"hello", to.as_str(), Some(Duration::from_secs(5)))
            .unwrap();
        assert_eq!(n, 5);
        let (n, from) = peer.recv_from(&mut b).unwrap();
        assert_eq!(
            (&b[..n], from),
            (&b"hello"[..], server.local_addr().as_inet().unwrap())
        );
    }
    for (to, kind) in [
        ("nowhere", ErrorKind::InvalidArgument),
        ("256.1.1.1:5", ErrorKind::InvalidArgument),
        ("unix:/tmp/x", ErrorKind::InvalidArgument),
    ] {
        let e = server.send_to_endpoint(b"x", to, None).unwrap_err();
        assert_eq!(e.kind(), kind, "{to}: {e}");
    }
    server.shutdown();
}
