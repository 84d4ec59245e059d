//! Message calls over real sockets: `send_msgs` and `send_msgs_packed` batches of every size (one staged send, staged
//! chunks, large bodies sent in place) against every receive call (`recv_msg`, `recv_msg_into`,
//! `recv_msgs`, `recv_msgs_into`, `recv_msgs_packed`) for every framing; what a too-small buffer, a timeout inside
//! a frame, an oversized frame in a batch and a bad message in a batch leave behind.

mod common;

use std::io::Write;
use std::net::TcpStream;
use std::time::Duration;

use bytes::BytesMut;
use common::*;
use libsock::{Delimited, Error, ErrorKind, Framing, LengthPrefixed};

/// Makes a valid message of about `n` bytes from a seed.
type MakeMsg = fn(usize, u64) -> Vec<u8>;

/// Framings to test, each with its message maker.
fn framings() -> Vec<(Framing, MakeMsg)> {
    fn any(n: usize, seed: u64) -> Vec<u8> {
        random_bytes(n, seed)
    }
    fn no_newline(n: usize, seed: u64) -> Vec<u8> {
        random_bytes(n, seed)
            .into_iter()
            .map(|b| if b == b'\n' { b'n' } else { b })
            .collect()
    }
    fn fixed(_n: usize, seed: u64) -> Vec<u8> {
        random_bytes(37, seed)
    }
    fn with_header(n: usize, seed: u64) -> Vec<u8> {
        // 6-byte header (kept), the length field filled in by the encoder.
        random_bytes(n + 6, seed)
    }
    vec![
        (Framing::length_prefixed(), any),
        (
            Framing::LengthPrefixed(LengthPrefixed::new(4).little_endian()),
            any,
        ),
        (Framing::LengthPrefixed(LengthPrefixed::new(2)), |n, s| {
            random_bytes(n.min(65535), s)
        }),
        (Framing::hp_pack(0x155, 0x3F_FFFF), any),
        (
            Framing::LengthPrefixed(
                LengthPrefixed::new(4)
                    .offset(2)
                    .header_len(6)
                    .adjustment(-6)
                    .keep_header(true),
            ),
            with_header,
        ),
        (Framing::lines(), no_newline),
        (
            Framing::Delimited(Delimited::new(b"\n".to_vec()).keep_delimiter(true)),
            no_newline,
        ),
        (Framing::Fixed(37), fixed),
    ]
}

/// What the receiver gets for `m` sent with `f`.
fn delivered(f: &Framing, m: &[u8]) -> Vec<u8> {
    match f {
        Framing::Delimited(d) if d.keep_delimiter => [m, &d.delimiter[..]].concat(),
        Framing::LengthPrefixed(lp) if lp.keep_header => {
            let mut out = BytesMut::new();
            f.encode(m, &mut out).unwrap();
            out.to_vec()
        }
        _ => m.to_vec(),
    }
}

/// Message sizes for one batch: mostly small, some over 16 KiB (sent from where they are when
/// the batch is large), and enough of them that some batches exceed 256 KiB.
fn sizes(batch: usize) -> Vec<usize> {
    match batch {
        0 => vec![],
        1 => vec![0],
        2 => vec![100; 64],
        3 => vec![100, 20_000, 5, 0, 70_000, 100],
        4 => (0..400).map(|i| (i * 37) % 1500).collect(),
        5 => vec![200_000, 1, 150_000, 2, 30_000],
        _ => (0..3000).map(|i| 100 + i % 50).collect(),
    }
}

/// Every batch shape of `send_msgs`, for every framing, received by each receive call in turn;
/// every message arrives whole, in order, nothing is left.
#[test]
fn send_msgs_batches_arrive_whole_through_every_receive_call() {
    for (fi, (f, make)) in framings().into_iter().enumerate() {
        let (c, s) = tcp_pair(f.clone());
        let mut want: Vec<Vec<u8>> = Vec::new();
        let sender = {
            let mut batches: Vec<Vec<Vec<u8>>> = Vec::new();
            for b in 0..7 {
                let batch: Vec<Vec<u8>> = sizes(b)
                    .into_iter()
                    .enumerate()
                    .map(|(i, n)| make(n, (fi * 1000 + b * 100 + i) as u64))
                    .collect();
                want.extend(batch.iter().map(|m| delivered(&f, m)));
                batches.push(batch);
            }
            std::thread::spawn(move || {
                for (b, batch) in batches.iter().enumerate() {
                    // Every batch shape goes out through both batch sends, over the framings.
                    if (b + fi) % 2 == 0 {
                        let slices: Vec<&[u8]> = batch.iter().map(|m| &m[..]).collect();
                        c.send_msgs(&slices).unwrap();
                    } else {
                        let lens: Vec<usize> = batch.iter().map(|m| m.len()).collect();
                        c.send_msgs_packed(&batch.concat(), &lens).unwrap();
                    }
                }
                c
            })
        };
        let mut got: Vec<Vec<u8>> = Vec::new();
        let mut buf = vec![0u8; 300_000];
        let mut data = Vec::new();
        let mut ends = Vec::new();
        let mut turn = 0;
        while got.len() < want.len() {
            match turn % 5 {
                0 => got.push(s.recv_msg().unwrap().to_vec()),
                1 => {
                    let n = s.recv_msg_into(&mut buf).unwrap();
                    got.push(buf[..n].to_vec());
                }
                2 => {
                    let room = want.len() - got.len();
                    got.extend(
                        s.recv_msgs(room.min(50))
                            .unwrap()
                            .iter()
                            .map(|m| m.to_vec()),
                    );
                }
                3 => {
                    let room = want.len() - got.len();
                    let mut lens = vec![0usize; room.min(50)];
                    let k = s.recv_msgs_into(&mut buf, &mut lens).unwrap();
                    assert!(k >= 1 && k <= lens.len());
                    let mut start = 0;
                    for &n in &lens[..k] {
                        got.push(buf[start..start + n].to_vec());
                        start += n;
                    }
                }
                _ => {
                    let room = want.len() - got.len();
                    data.clear();
                    ends.clear();
                    let k = s
                        .recv_msgs_packed(room.min(50), &mut data, &mut ends)
                        .unwrap();
                    assert_eq!(k, ends.len());
                    let mut start = 0;
                    for &e in &ends {
                        got.push(data[start..e].to_vec());
                        start = e;
                    }
                }
            }
            turn += 1;
        }
        let c = sender.join().unwrap();
        assert_eq!(got.len(), want.len(), "{f:?}");
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            assert!(
                g == w,
                "{f:?}: message {i} differs ({} vs {} bytes)",
                g.len(),
                w.len()
            );
        }
        c.close();
        expect_kind(s.recv_msg(), ErrorKind::Closed);
    }
}

/// A message larger than the caller's buffer stays queued whichever call comes next, and the
/// messages behind it are not disturbed.
#[test]
fn too_small_buffer_keeps_the_message_for_every_next_call() {
    let (c, s) = tcp_pair(Framing::length_prefixed());
    let big = random_bytes(5000, 1);
    c.send_msgs(&[&big[..], b"after", &big[..], b"last"])
        .unwrap();
    let mut small = [0u8; 100];
    let e = expect_kind(s.recv_msg_into(&mut small), ErrorKind::BufferTooSmall);
    assert_eq!(e.needed(), Some(5000));
    // Still too small: still queued.
    expect_kind(s.recv_msg_into(&mut small), ErrorKind::BufferTooSmall);
    let mut data = Vec::new();
    let mut ends = Vec::new();
    assert!(s.recv_msgs_packed(1, &mut data, &mut ends).unwrap() == 1);
    assert_eq!(&data[..], &big[..]);
    assert_eq!(s.recv_msg_into(&mut small).unwrap(), 5);
    assert_eq!(&small[..5], b"after");
    expect_kind(s.recv_msg_into(&mut small), ErrorKind::BufferTooSmall);
    let mut rest = s.recv_msgs(10).unwrap();
    while rest.len() < 2 {
        rest.extend(s.recv_msgs(10).unwrap());
    }
    assert_eq!(rest.len(), 2, "{rest:?}");
    assert_eq!(&rest[0][..], &big[..]);
    assert_eq!(&rest[1][..], b"last");
}

/// A timeout in the middle of a frame loses nothing: the partial frame stays buffered, and the
/// message arrives whole once the rest comes, through each receive call.
#[test]
fn timeout_inside_a_frame_keeps_the_partial_frame() {
    let l = libsock::Listener::bind("127.0.0.1:0").unwrap();
    let port = port_of(&l.local_addr().unwrap());
    let mut peer = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let (s, _) = l.accept(Some(SLOW)).unwrap();
    s.set_framing(Framing::length_prefixed()).unwrap();
    let msg = random_bytes(3000, 7);
    let mut frame = (msg.len() as u32).to_be_bytes().to_vec();
    frame.extend_from_slice(&msg);
    let short = Duration::from_millis(50);
    for call in 0..4 {
        // Header and part of the body, then a pause longer than the receiver's timeout.
        peer.write_all(&frame[..2]).unwrap();
        let mut buf = vec![0u8; 4000];
        let r = match call {
            0 => s.with_timeout(short).recv_msg().map(|m| m.len()),
            1 => s.with_timeout(short).recv_msg_into(&mut buf),
            2 => s.with_timeout(short).recv_msgs(5).map(|v| v.len()),
            _ => s
                .with_timeout(short)
                .recv_msgs_packed(5, &mut Vec::new(), &mut Vec::new()),
        };
        expect_kind(r, ErrorKind::Timeout);
        peer.write_all(&frame[2..1500]).unwrap();
        let mut buf2 = vec![0u8; 4000];
        expect_kind(
            s.with_timeout(short).recv_msg_into(&mut buf2),
            ErrorKind::Timeout,
        );
        peer.write_all(&frame[1500..]).unwrap();
        let got = match call {
            0 => s.with_timeout(SLOW).recv_msg().unwrap().to_vec(),
            1 => {
                let n = s.with_timeout(SLOW).recv_msg_into(&mut buf).unwrap();
                buf[..n].to_vec()
            }
            2 => {
                let v = s.with_timeout(SLOW).recv_msgs(5).unwrap();
                assert_eq!(v.len(), 1);
                v[0].to_vec()
            }
            _ => {
                let (mut data, mut ends) = (Vec::new(), Vec::new());
                let k = s
                    .with_timeout(SLOW)
                    .recv_msgs_packed(5, &mut data, &mut ends)
                    .unwrap();
                assert_eq!((k, ends), (1, vec![msg.len()]));
                data
            }
        };
        assert!(got == msg, "call {call}: message differs");
    }
}

/// `recv_msgs_packed` delivers the messages before an oversized frame, reports the
/// FrameTooLarge on the next call, then goes on with the messages after it; nothing of the
/// claimed size is kept.
#[test]
fn recv_msgs_packed_reports_an_oversized_frame_on_the_next_call() {
    let (c, s) = tcp_pair(Framing::LengthPrefixed(LengthPrefixed::new(4).max_len(100)));
    let mut wire = Vec::new();
    for m in [&b"one"[..], b"two"] {
        wire.extend_from_slice(&(m.len() as u32).to_be_bytes());
        wire.extend_from_slice(m);
    }
    wire.extend_from_slice(&500u32.to_be_bytes());
    wire.extend_from_slice(&[0xAA; 500]);
    wire.extend_from_slice(&5u32.to_be_bytes());
    wire.extend_from_slice(b"three");
    c.send_all(&wire).unwrap();
    let (mut data, mut ends) = (Vec::new(), Vec::new());
    let mut n = 0;
    while n < 2 {
        n += s.recv_msgs_packed(10, &mut data, &mut ends).unwrap();
    }
    assert_eq!(n, 2);
    assert_eq!(&data[..], b"onetwo");
    assert_eq!(ends, vec![3, 6]);
    let e = expect_kind(
        s.recv_msgs_packed(10, &mut data, &mut ends),
        ErrorKind::FrameTooLarge,
    );
    assert!(
        matches!(e, Error::FrameTooLarge { len: 500, max: 100 }),
        "{e}"
    );
    data.clear();
    ends.clear();
    assert_eq!(s.recv_msgs_packed(10, &mut data, &mut ends).unwrap(), 1);
    assert_eq!(&data[..], b"three");
}

/// A bad message anywhere in a batch (small batch sent in one go, or a large one sent in
/// chunks) fails the call before anything is sent: the peer receives nothing from it.
#[test]
fn send_msgs_checks_every_message_before_sending() {
    let f = Framing::LengthPrefixed(LengthPrefixed::new(4).max_len(300_000));
    let (c, s) = tcp_pair(f);
    let small = [7u8; 100];
    let too_big = vec![0u8; 300_001];
    let mid = vec![1u8; 100_000];
    // Small batch, the bad message last.
    let e = expect_kind(
        c.send_msgs(&[&small[..], &small[..], &too_big[..]]),
        ErrorKind::FrameTooLarge,
    );
    assert!(
        matches!(e, Error::FrameTooLarge { len: 300_001, .. }),
        "{e}"
    );
    // Large batch (over 256 KiB before the bad one).
    let e = expect_kind(
        c.send_msgs(&[&mid[..], &mid[..], &mid[..], &small[..], &too_big[..]]),
        ErrorKind::FrameTooLarge,
    );
    assert!(matches!(e, Error::FrameTooLarge { .. }), "{e}");
    // A delimited message containing its delimiter.
    c.set_framing(Framing::lines()).unwrap();
    expect_kind(
        c.send_msgs(&[&b"fine"[..], &b"not\nfine"[..]]),
        ErrorKind::InvalidArgument,
    );
    c.set_framing(Framing::length_prefixed()).unwrap();
    c.send_msg(b"marker").unwrap();
    // The first thing the peer receives is the marker.
    s.set_framing(Framing::length_prefixed()).unwrap();
    assert_eq!(&s.recv_msg().unwrap()[..], b"marker");
    expect_kind(
        s.with_timeout(Duration::from_millis(50)).recv_msg(),
        ErrorKind::Timeout,
    );
}

/// `send_msgs_packed`: lengths that do not add up to the bytes given, or a message the framing
/// refuses, send nothing.
#[test]
fn send_msgs_packed_checks_the_lengths_and_every_message_first() {
    let f = Framing::LengthPrefixed(LengthPrefixed::new(4).max_len(1000));
    let (c, s) = tcp_pair(f);
    let e = expect_kind(
        c.send_msgs_packed(b"abcdef", &[3, 2]),
        ErrorKind::InvalidArgument,
    );
    assert!(e.to_string().contains("add up to 5"), "{e}");
    expect_kind(
        c.send_msgs_packed(b"ab", &[usize::MAX, 3]),
        ErrorKind::InvalidArgument,
    );
    let big = vec![9u8; 1001];
    expect_kind(
        c.send_msgs_packed(&[&b"ok"[..], &big[..]].concat(), &[2, 1001]),
        ErrorKind::FrameTooLarge,
    );
    c.send_msgs_packed(b"onetwo", &[3, 0, 3]).unwrap();
    assert_eq!(&s.recv_msg().unwrap()[..], b"one");
    assert_eq!(&s.recv_msg().unwrap()[..], b"");
    assert_eq!(&s.recv_msg().unwrap()[..], b"two");
    expect_kind(
        s.with_timeout(Duration::from_millis(50)).recv_msg(),
        ErrorKind::Timeout,
    );
    assert_eq!(c.stats().messages_out, 3);
}

/// `recv_msgs` slices of one batch stay valid and unchanged while later batches arrive and are
/// received (they share one buffer that must not be reused under them).
#[test]
fn recv_msgs_slices_survive_later_reads() {
    let (c, s) = tcp_pair(Framing::length_prefixed());
    let msgs: Vec<Vec<u8>> = (0..200).map(|i| random_bytes(100 + i, i as u64)).collect();
    let slices: Vec<&[u8]> = msgs.iter().map(|m| &m[..]).collect();
    c.send_msgs(&slices[..100]).unwrap();
    let mut kept = Vec::new();
    while kept.len() < 100 {
        kept.extend(s.recv_msgs(100 - kept.len()).unwrap());
    }
    c.send_msgs(&slices[100..]).unwrap();
    let mut later = Vec::new();
    while later.len() < 100 {
        later.extend(s.recv_msgs(100 - later.len()).unwrap());
    }
    for (i, m) in kept.iter().chain(&later).enumerate() {
        assert_eq!(&m[..], &msgs[i][..], "message {i}");
    }
}

/// `recv_msgs_into` fills the caller's buffer: a message that does not fit the room left stays
/// queued and comes first next time; a first message too big is `BufferTooSmall` with its size;
/// an oversized frame met after the first message is reported by the next call.
#[test]
fn recv_msgs_into_keeps_what_does_not_fit_and_reports_errors_once() {
    let (c, s) = tcp_pair(Framing::LengthPrefixed(LengthPrefixed::new(4).max_len(100)));
    let mut wire = Vec::new();
    let frame = |wire: &mut Vec<u8>, m: &[u8]| {
        wire.extend_from_slice(&(m.len() as u32).to_be_bytes());
        wire.extend_from_slice(m);
    };
    frame(&mut wire, b"aaaa");
    frame(&mut wire, b"bbbbbbbb");
    frame(&mut wire, b"cc");
    c.send_all(&wire).unwrap();
    let mut buf = [0u8; 10];
    let mut lens = [0usize; 8];
    let mut got = Vec::new();
    // "aaaa" fits, "bbbbbbbb" does not fit the 6 bytes left: it stays queued.
    while got.is_empty() {
        let k = s.recv_msgs_into(&mut buf, &mut lens).unwrap();
        got.extend(lens[..k].iter().copied());
    }
    assert_eq!(got, vec![4]);
    assert_eq!(&buf[..4], b"aaaa");
    // Next call: the kept message first, then "cc" if it arrived already.
    let k = s.recv_msgs_into(&mut buf, &mut lens).unwrap();
    assert_eq!(lens[0], 8);
    assert_eq!(&buf[..8], b"bbbbbbbb");
    if k == 1 {
        let k = s.recv_msgs_into(&mut buf, &mut lens).unwrap();
        assert_eq!((k, lens[0]), (1, 2));
        assert_eq!(&buf[..2], b"cc");
    } else {
        assert_eq!((k, lens[1]), (2, 2));
        assert_eq!(&buf[8..10], b"cc");
    }
    // A first message bigger than the whole buffer: BufferTooSmall with its size, kept.
    let mut wire = Vec::new();
    frame(&mut wire, &[7u8; 20]);
    frame(&mut wire, b"ok");
    wire.extend_from_slice(&500u32.to_be_bytes());
    wire.extend_from_slice(&[0xAA; 500]);
    frame(&mut wire, b"after");
    c.send_all(&wire).unwrap();
    let e = expect_kind(
        s.recv_msgs_into(&mut buf, &mut lens),
        ErrorKind::BufferTooSmall,
    );
    assert_eq!(e.needed(), Some(20));
    let mut big = [0u8; 64];
    let mut total = Vec::new();
    loop {
        match s.recv_msgs_into(&mut big, &mut lens) {
            Ok(k) => total.extend(lens[..k].iter().copied()),
            Err(e) => {
                assert_eq!(e.kind(), ErrorKind::FrameTooLarge, "{e}");
                break;
            }
        }
    }
    assert_eq!(total, vec![20, 2]);
    let k = s.recv_msgs_into(&mut big, &mut lens).unwrap();
    assert_eq!((k, lens[0]), (1, 5));
    assert_eq!(&big[..5], b"after");
    // Room for no message is a caller's mistake (a loop around it would spin), not a no-op.
    let e = s.recv_msgs_into(&mut big, &mut []).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
    assert_eq!(
        s.recv_msgs(0).unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
}
