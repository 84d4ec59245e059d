//! `Connection::stats`: a blocking connection's counters (bytes and messages each way, when it
//! was made), over real loopback TCP and a Unix socket pair, and read while another thread is
//! blocked in a receive on the same connection.

use std::time::{Duration, SystemTime};

use libsock::{Connection, Framing, Listener};

const WAIT: Option<Duration> = Some(Duration::from_secs(10));

fn tcp_pair() -> (Connection, Connection) {
    let listener = Listener::bind("127.0.0.1:0").unwrap();
    let client = Connection::connect(listener.local_addr().unwrap()).unwrap();
    let (server, _) = listener.accept(WAIT).unwrap();
    client.set_timeout(WAIT);
    server.set_timeout(WAIT);
    (client, server)
}

#[test]
fn bytes_and_messages_each_way() {
    let before = SystemTime::now();
    let (a, b) = tcp_pair();
    let s = a.stats();
    assert_eq!(
        (s.bytes_in, s.bytes_out, s.messages_in, s.messages_out),
        (0, 0, 0, 0)
    );
    assert!(s.connected_since >= before - Duration::from_secs(1));
    assert_eq!(s.peer, b.local_addr().unwrap());
    assert!(!s.tls);
    assert_eq!(s.queued_bytes, 0);

    // Raw bytes: counted as bytes, not messages.
    a.send_all(&[7u8; 1000]).unwrap();
    assert_eq!(b.recv_exact(1000).unwrap().len(), 1000);
    assert_eq!(a.stats().bytes_out, 1000);
    assert_eq!(b.stats().bytes_in, 1000);
    assert_eq!(a.stats().messages_out, 0);

    // Messages with a 4-byte length prefix: the frames' bytes and one count per message.
    a.set_framing(Framing::length_prefixed()).unwrap();
    b.set_framing(Framing::length_prefixed()).unwrap();
    a.send_msg(b"hello").unwrap();
    a.send_msgs(&[b"one", b"two", b"three"]).unwrap();
    a.send_msg(&vec![1u8; 100_000]).unwrap(); // a large body goes out vectored
    assert_eq!(&b.recv_msg().unwrap()[..], b"hello");
    let mut got = 0;
    while got < 3 {
        // At most the three small ones: the large one may be all here already.
        got += b.recv_msgs(3 - got).unwrap().len();
    }
    let mut big = vec![0u8; 200_000];
    assert_eq!(b.recv_msg_into(&mut big).unwrap(), 100_000);
    let frames = 1000 + (4 + 5) + (4 + 3) + (4 + 3) + (4 + 5) + (4 + 100_000);
    let (sa, sb) = (a.stats(), b.stats());
    assert_eq!(sa.bytes_out, frames);
    assert_eq!(sb.bytes_in, frames);
    assert_eq!(sa.messages_out, 5);
    assert_eq!(sb.messages_in, 5);
    assert_eq!(sb.messages_out, 0);
    assert_eq!(sa.messages_in, 0);
}

#[test]
fn failed_sends_count_nothing() {
    let (a, _b) = tcp_pair();
    a.set_framing(Framing::LengthPrefixed(libsock::LengthPrefixed::new(1)))
        .unwrap();
    assert!(a.send_msg(&[0u8; 300]).is_err()); // too large for a 1-byte header
    let s = a.stats();
    assert_eq!((s.bytes_out, s.messages_out), (0, 0));
}

#[test]
fn stats_do_not_wait_behind_a_blocked_receive() {
    let (a, b) = tcp_pair();
    b.set_timeout(None);
    std::thread::scope(|scope| {
        let blocked = scope.spawn(|| b.recv_exact(4));
        std::thread::sleep(Duration::from_millis(100));
        // The receiver holds the receive lock; stats must still answer at once.
        assert_eq!(b.stats().bytes_in, 0);
        a.send_all(b"wake").unwrap();
        assert_eq!(&blocked.join().unwrap().unwrap()[..], b"wake");
    });
    assert_eq!(b.stats().bytes_in, 4);
}

#[cfg(unix)]
#[test]
fn unix_pair_and_files_are_counted() {
    let (a, b) = Connection::pair().unwrap();
    a.set_timeout(WAIT);
    b.set_timeout(WAIT);
    let dir = std::env::temp_dir().join(format!("libsock-stats-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let src = dir.join("src.bin");
    std::fs::write(&src, vec![3u8; 70_000]).unwrap();
    std::thread::scope(|scope| {
        let sender = scope.spawn(|| a.send_file(&src, 0, None));
        let dst = dir.join("dst.bin");
        assert_eq!(b.recv_file(&dst, 70_000).unwrap(), 70_000);
        assert_eq!(sender.join().unwrap().unwrap(), 70_000);
    });
    assert_eq!(a.stats().bytes_out, 70_000);
    assert_eq!(b.stats().bytes_in, 70_000);
    std::fs::remove_dir_all(&dir).unwrap();
}
