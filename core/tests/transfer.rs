//! Files with name, size and SHA-256 (`libsock::transfer`): scenario S22 (50 MB broken in the
//! middle, then resumed; never a partial file under the final name), refusal to overwrite, a
//! changed partial file detected, checksum mismatches from a hand-made peer, version 1, TLS,
//! progress read from another thread and cancel.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::thread;
use std::time::Duration;

use common::*;
use libsock::tls::{self_signed, TlsClient, TlsServer};
use libsock::transfer::{
    FileTransfer, RecvOptions, SendOptions, TransferState, CHUNK, PART_SUFFIX,
};
use libsock::{ConnectOptions, Connection, ErrorKind, ListenOptions, Listener};

const WAIT: Duration = Duration::from_secs(20);

/// A connected pair (client, server) over loopback TCP, TLS when asked (a self-signed server
/// certificate trusted by its pin), with a 20 s timeout on every wait.
fn pair(tls: bool) -> (Connection, Connection) {
    let mut lo = ListenOptions::new().conn_timeout(Some(WAIT));
    let mut co = ConnectOptions::new()
        .connect_timeout(WAIT)
        .timeout(Some(WAIT));
    if tls {
        let (cert, key) = self_signed(&["127.0.0.1"]).unwrap();
        let pin = libsock::tls::fingerprint_pem(cert.as_bytes()).unwrap();
        lo = lo.tls(
            TlsServer::new()
                .cert_pem(cert.as_bytes(), key.as_bytes())
                .unwrap()
                .build()
                .unwrap(),
        );
        co = co.tls(TlsClient::new().pin_sha256(&pin).unwrap().build().unwrap());
    }
    let l = Listener::bind_with("127.0.0.1:0", &lo).unwrap();
    let addr = l.local_addr().unwrap();
    let t = thread::spawn(move || l.accept(Some(WAIT)).map(|(c, _)| c));
    let c = Connection::connect_with(addr, &co).unwrap();
    let s = t.join().unwrap().unwrap();
    assert_eq!(c.is_tls(), tls);
    (c, s)
}

fn part_of(p: &Path) -> std::path::PathBuf {
    let mut s = p.as_os_str().to_os_string();
    s.push(PART_SUFFIX);
    s.into()
}

/// S22 over `tls`: `size` bytes, the sender closes the connection once half is sent; the
/// receiver keeps the partial file and never shows the final name; a second transfer with
/// resume sends only the rest; both ends report the same offset and the file's SHA-256.
fn break_then_resume(tls: bool, size: usize) {
    let dir = TempDir::new("s22");
    let src = dir.path("big.bin");
    let data = urandom(size);
    std::fs::write(&src, &data).unwrap();
    let inbox = dir.path("inbox");
    std::fs::create_dir(&inbox).unwrap();
    let out = inbox.join("big.bin");
    let part = part_of(&out);

    // First attempt: broken in the middle.
    let (c, s) = pair(tls);
    let recv_dir = inbox.clone();
    let receiving = thread::spawn(move || {
        let t = FileTransfer::receiver(&recv_dir, &RecvOptions::new()).unwrap();
        let r = t.run(&s);
        (r, t.progress())
    });
    let sender = FileTransfer::sender(&src, &SendOptions::new()).unwrap();
    while sender.progress().done < size as u64 / 2 {
        assert_ne!(sender.step(&c).unwrap(), TransferState::Done);
        assert!(!out.exists(), "the final name appeared before the end");
    }
    c.close();
    let (r, p) = receiving.join().unwrap();
    let e = r.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Closed, "{e}");
    assert!(e.to_string().contains(PART_SUFFIX), "{e}");
    assert_eq!(p.state, TransferState::Failed);
    assert!(p.done > 0 && p.done < size as u64, "{p:?}");
    assert!(!out.exists());
    let kept = std::fs::read(&part).unwrap();
    assert_eq!(kept.len() as u64, p.done);
    assert!(kept[..] == data[..kept.len()]);

    // Second attempt: resumed.
    let (c, s) = pair(tls);
    let recv_dir = inbox.clone();
    let receiving = thread::spawn(move || {
        let t = FileTransfer::receiver(&recv_dir, &RecvOptions::new().resume(true)).unwrap();
        t.run(&s)
    });
    let sender = FileTransfer::sender(&src, &SendOptions::new()).unwrap();
    loop {
        let state = sender.step(&c).unwrap();
        if state == TransferState::Done {
            break;
        }
        if state == TransferState::Transferring {
            assert!(!out.exists(), "the final name appeared before the end");
        }
    }
    let got = receiving.join().unwrap().unwrap();
    let sent = sender.info();
    assert_eq!(sent.resumed_at, kept.len() as u64);
    assert_eq!(got.resumed_at, kept.len() as u64);
    assert_eq!(got.offered, kept.len() as u64);
    let want = hex(&sha256(&data));
    assert_eq!(sent.sha256, want);
    assert_eq!(got.sha256, want);
    assert_eq!(got.path, out);
    assert_eq!(sha256_file(&out), sha256(&data));
    assert!(!part.exists());
    let p = sender.progress();
    assert_eq!(
        (p.done, p.total, p.state),
        (size as u64, size as u64, TransferState::Done)
    );
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[test]
fn s22_50mb_broken_in_the_middle_then_resumed() {
    break_then_resume(false, 50_000_000);
}

#[test]
fn s22_over_tls() {
    break_then_resume(true, 12_000_000 + 17);
}

#[test]
fn refuses_to_overwrite_unless_asked() {
    let dir = TempDir::new("overwrite");
    let src = dir.path("f.bin");
    std::fs::write(&src, b"new contents").unwrap();
    let out = dir.path("out.bin");
    std::fs::write(&out, b"precious").unwrap();
    // A file as the destination: refused before anything is received.
    let e = FileTransfer::receiver(&out, &RecvOptions::new()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Io);
    assert_eq!(e.os_error(), Some(libc::EEXIST));
    assert!(e.to_string().contains("exists"), "{e}");

    // A directory holding the sender's name: refused after the header, the sender is told.
    let inbox = dir.path("inbox");
    std::fs::create_dir(&inbox).unwrap();
    std::fs::write(inbox.join("f.bin"), b"old").unwrap();
    let (c, s) = pair(false);
    let recv_dir = inbox.clone();
    let receiving = thread::spawn(move || {
        FileTransfer::receiver(&recv_dir, &RecvOptions::new())
            .unwrap()
            .run(&s)
    });
    let e = FileTransfer::sender(&src, &SendOptions::new())
        .unwrap()
        .run(&c)
        .unwrap_err();
    assert_eq!(e.os_error(), Some(libc::EEXIST), "{e}");
    assert!(e.to_string().contains("refused"), "{e}");
    let e = receiving.join().unwrap().unwrap_err();
    assert_eq!(e.os_error(), Some(libc::EEXIST), "{e}");
    assert_eq!(std::fs::read(inbox.join("f.bin")).unwrap(), b"old");
    assert!(!part_of(&inbox.join("f.bin")).exists());

    // With overwrite: replaced.
    let (c, s) = pair(false);
    let recv_out = out.clone();
    let receiving = thread::spawn(move || {
        libsock::transfer::recv_file(&s, &recv_out, &RecvOptions::new().overwrite(true))
    });
    libsock::transfer::send_file(&c, &src, &SendOptions::new()).unwrap();
    receiving.join().unwrap().unwrap();
    assert_eq!(std::fs::read(&out).unwrap(), b"new contents");
    assert!(!part_of(&out).exists());
}

#[test]
fn a_changed_partial_file_is_detected_and_the_transfer_starts_over() {
    let dir = TempDir::new("corrupt");
    let data = urandom(3 * CHUNK as usize + 99);
    let src = dir.path("f.bin");
    std::fs::write(&src, &data).unwrap();
    let out = dir.path("f.out");
    // A partial file of the right length whose middle byte differs from the sender's.
    let mut partial = data[..CHUNK as usize + 5].to_vec();
    let mid = partial.len() / 2;
    partial[mid] ^= 0x40;
    std::fs::write(part_of(&out), &partial).unwrap();
    let (c, s) = pair(false);
    let recv_out = out.clone();
    let receiving = thread::spawn(move || {
        libsock::transfer::recv_file(&s, &recv_out, &RecvOptions::new().resume(true))
    });
    let sent = libsock::transfer::send_file(&c, &src, &SendOptions::new()).unwrap();
    let got = receiving.join().unwrap().unwrap();
    assert_eq!(sent.offered, partial.len() as u64);
    assert_eq!(sent.resumed_at, 0);
    assert_eq!(got.resumed_at, 0);
    assert!(std::fs::read(&out).unwrap() == data);
}

#[test]
fn a_wrong_checksum_from_a_hand_made_sender_is_refused() {
    let dir = TempDir::new("mismatch");
    let out = dir.path("out");
    let l = Listener::bind_with(
        "127.0.0.1:0",
        &ListenOptions::new().conn_timeout(Some(WAIT)),
    )
    .unwrap();
    let addr = l.local_addr().unwrap().to_string();
    let recv_out = out.clone();
    let receiving = thread::spawn(move || {
        let (s, _) = l.accept(Some(WAIT)).unwrap();
        libsock::transfer::recv_file(&s, &recv_out, &RecvOptions::new())
    });
    // Version 1 by hand with std's TcpStream: 10 bytes and a checksum of zeros.
    let mut raw = TcpStream::connect(&addr).unwrap();
    raw.set_read_timeout(Some(WAIT)).unwrap();
    let data = b"some bytes";
    let mut msg = b"LSF1".to_vec();
    msg.extend_from_slice(&(data.len() as u64).to_be_bytes());
    msg.extend_from_slice(&1u16.to_be_bytes());
    msg.extend_from_slice(b"x");
    msg.extend_from_slice(data);
    msg.extend_from_slice(&[0u8; 32]);
    raw.write_all(&msg).unwrap();
    let mut verdict = [9u8; 1];
    raw.read_exact(&mut verdict).unwrap();
    assert_eq!(verdict, [1]);
    let e = receiving.join().unwrap().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::BadFrame, "{e}");
    assert!(e.to_string().contains("checksum mismatch"), "{e}");
    assert!(!out.exists());
    assert!(!part_of(&out).exists());
}

#[test]
fn a_peer_that_does_not_speak_the_protocol_is_a_bad_frame() {
    let dir = TempDir::new("badheader");
    let (c, s) = pair(false);
    let d = dir.path("x");
    let receiving =
        thread::spawn(move || libsock::transfer::recv_file(&s, &d, &RecvOptions::new()));
    c.send_all(b"GET / HTTP/1.1\r\n\r\n").unwrap();
    let e = receiving.join().unwrap().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::BadFrame, "{e}");
    assert!(e.to_string().contains("not a libsock file sender"), "{e}");

    // A sender whose receiver answers something else.
    let src = dir.path("f");
    std::fs::write(&src, b"abc").unwrap();
    let (c, s) = pair(false);
    let answering = thread::spawn(move || {
        let _ = s.recv_exact(14 + 1);
        s.send_all(&[b'X'; 45]).unwrap();
    });
    let e = libsock::transfer::send_file(&c, &src, &SendOptions::new()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::BadFrame, "{e}");
    answering.join().unwrap();
}

#[test]
fn version_1_and_an_empty_file_and_a_unix_socket() {
    let dir = TempDir::new("v1");
    for (size, v2) in [(0usize, true), (0, false), (CHUNK as usize * 2 + 1, false)] {
        let src = dir.path(&format!("src-{size}-{v2}"));
        let data = urandom(size);
        std::fs::write(&src, &data).unwrap();
        let out = dir.path(&format!("out-{size}-{v2}"));
        let (c, s) = Connection::pair().unwrap();
        let recv_out = out.clone();
        let receiving = thread::spawn(move || {
            // resume on a version 1 sender: starts over, nothing to resume.
            libsock::transfer::recv_file(&s, &recv_out, &RecvOptions::new().resume(true))
        });
        let sent = libsock::transfer::send_file(&c, &src, &SendOptions::new().resume(v2)).unwrap();
        let got = receiving.join().unwrap().unwrap();
        assert_eq!(got.version, if v2 { 2 } else { 1 });
        assert_eq!(got.size, size as u64);
        assert_eq!(sent.sha256, got.sha256);
        assert_eq!(got.sha256, hex(&sha256(&data)));
        assert!(std::fs::read(&out).unwrap() == data);
    }
}

#[test]
fn progress_from_another_thread_and_cancel() {
    let dir = TempDir::new("progress");
    let size = 8 * CHUNK as usize + 3;
    let src = dir.path("f");
    std::fs::write(&src, urandom(size)).unwrap();
    let inbox = dir.path("in");
    std::fs::create_dir(&inbox).unwrap();
    let (c, s) = pair(false);
    let recv = FileTransfer::receiver(&inbox, &RecvOptions::new()).unwrap();
    let watched = recv.clone();
    let receiving = thread::spawn(move || recv.run(&s));
    let sender = FileTransfer::sender(&src, &SendOptions::new().name("renamed.bin")).unwrap();
    let running = {
        let sender = sender.clone();
        thread::spawn(move || sender.run(&c))
    };
    // Read the receiver's progress until it is finished: it never goes back, never passes the
    // total, and ends at the total.
    let mut last = 0;
    loop {
        let p = watched.progress();
        assert!(
            p.done >= last && (p.total == 0 || p.done <= p.total),
            "{p:?}"
        );
        last = p.done;
        if p.state.is_finished() {
            assert_eq!(p.state, TransferState::Done);
            assert_eq!((p.done, p.total), (size as u64, size as u64));
            break;
        }
        thread::sleep(Duration::from_millis(1));
    }
    running.join().unwrap().unwrap();
    let got = receiving.join().unwrap().unwrap();
    assert_eq!(got.name, "renamed.bin");
    assert_eq!(got.path, inbox.join("renamed.bin"));
    assert!(watched.error().is_none());

    // Cancel: the next step fails with Interrupted; later steps name that failure.
    let (c, _s) = pair(false);
    let t = FileTransfer::sender(&src, &SendOptions::new()).unwrap();
    t.cancel();
    let e = t.step(&c).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Interrupted);
    assert_eq!(t.progress().state, TransferState::Failed);
    assert!(t.error().unwrap().contains("cancelled"));
    let e = t.step(&c).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    assert!(e.to_string().contains("cancelled"), "{e}");
}

#[test]
fn a_missing_file_is_an_error_before_anything_is_sent() {
    let dir = TempDir::new("missing");
    let e = FileTransfer::sender(dir.path("nope"), &SendOptions::new()).unwrap_err();
    assert_eq!(e.os_error(), Some(libc::ENOENT));
    assert!(e.to_string().contains("nope"), "{e}");
    let e = FileTransfer::sender(dir.path(""), &SendOptions::new()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
}
