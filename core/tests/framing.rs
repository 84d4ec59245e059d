//! Framing: every framing under random splits (property tests), oversized claims, empty frames,
//! the HP-Socket PACK preset against hand-built bytes, and the same over a real socket whose peer
//! writes one byte at a time.

mod common;

use std::io::Write;
use std::net::TcpStream;
use std::time::Duration;

use bytes::BytesMut;
use common::*;
use libsock::{Decoder, Delimited, Error, ErrorKind, Framing, LengthPrefixed};
use proptest::prelude::*;

/// Feed `wire` to a decoder in chunks of the given sizes (cycled), collecting every result.
/// Stops at the first error other than FrameTooLarge (the stream cannot be trusted after it).
fn decode_split(
    f: &Framing,
    wire: &[u8],
    chunks: &[usize],
) -> (Vec<Result<Vec<u8>, Error>>, usize) {
    let mut dec = Decoder::new(f.clone());
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    let mut pos = 0;
    let mut k = 0;
    while pos < wire.len() {
        let n = chunks[k % chunks.len()].max(1).min(wire.len() - pos);
        k += 1;
        buf.extend_from_slice(&wire[pos..pos + n]);
        pos += n;
        loop {
            match dec.decode(&mut buf) {
                Ok(Some(m)) => out.push(Ok(m.to_vec())),
                Ok(None) => break,
                Err(e) => {
                    let fatal = e.kind() != ErrorKind::FrameTooLarge;
                    out.push(Err(e));
                    if fatal {
                        return (out, buf.len());
                    }
                }
            }
        }
    }
    (out, buf.len())
}

/// Drop bytes of `msg` until `msg + delim` holds the delimiter only at its end, so that the
/// message may hold partial delimiters but never reads as two messages.
fn without_delimiter(mut msg: Vec<u8>, delim: &[u8]) -> Vec<u8> {
    // Also when the delimiter overlaps the end of the message ("a" + "aa" reads as "" + "a").
    loop {
        let framed = [&msg[..], delim].concat();
        match memchr::memmem::find(&framed, delim) {
            Some(i) if i < msg.len() => {
                msg.remove(i);
            }
            _ => return msg,
        }
    }
}

/// A framing and messages that it can carry.
fn framing_and_messages() -> impl Strategy<Value = (Framing, Vec<Vec<u8>>)> {
    let msgs =
        |max: usize| prop::collection::vec(prop::collection::vec(any::<u8>(), 0..=max), 0..12);
    prop_oneof![
        // Plain length prefixes of every width and byte order.
        (prop::sample::select(vec![1u8, 2, 4, 8]), any::<bool>()).prop_flat_map(move |(w, be)| {
            let max = if w == 1 { 255 } else { 3000 };
            (
                Just(Framing::LengthPrefixed(
                    LengthPrefixed::new(w).big_endian(be),
                )),
                msgs(max),
            )
        }),
        // A header with the field at an offset, counting the header, delivered with the body.
        (0usize..5, 0usize..4).prop_flat_map(move |(off, extra)| {
            let hl = off + 2 + extra;
            let lp = LengthPrefixed::new(2)
                .little_endian()
                .offset(off)
                .header_len(hl)
                .adjustment(-(hl as i64))
                .keep_header(true);
            let m =
                prop::collection::vec(prop::collection::vec(any::<u8>(), hl..=hl + 2000), 0..10);
            (Just(Framing::LengthPrefixed(lp)), m)
        }),
        // HP-Socket PACK with any flag.
        (0u64..0x400)
            .prop_flat_map(move |flag| (Just(Framing::hp_pack(flag, 0x3F_FFFF)), msgs(3000))),
        // Delimiters of 1 to 5 bytes; messages made of the delimiter's bytes and a few others,
        // so partial delimiters inside messages are common.
        (
            prop::sample::select(vec![
                b"\n".to_vec(),
                b"\r\n".to_vec(),
                b"<END>".to_vec(),
                vec![0u8],
                b"aa".to_vec(),
            ]),
            any::<bool>(),
        )
            .prop_flat_map(|(d, keep)| {
                let alphabet: Vec<u8> = b"\r\n<END>a\0xy".to_vec();
                let dd = d.clone();
                let m = prop::collection::vec(
                    prop::collection::vec(prop::sample::select(alphabet), 0..200),
                    0..15,
                )
                .prop_map(move |ms| ms.into_iter().map(|m| without_delimiter(m, &dd)).collect());
                (
                    Just(Framing::Delimited(Delimited::new(d).keep_delimiter(keep))),
                    m,
                )
            }),
        // Fixed sizes.
        (1usize..40, 0usize..20).prop_flat_map(|(n, count)| {
            (
                Just(Framing::Fixed(n)),
                prop::collection::vec(prop::collection::vec(any::<u8>(), n..=n), count..=count),
            )
        }),
    ]
}

fn expected(f: &Framing, m: &[u8]) -> Vec<u8> {
    match f {
        Framing::Delimited(d) if d.keep_delimiter => [m, &d.delimiter[..]].concat(),
        _ => m.to_vec(),
    }
}

/// With a kept header, the encoder writes the length field into the caller's header bytes.
fn with_encoded_header(f: &Framing, m: &[u8]) -> Vec<u8> {
    let mut out = BytesMut::new();
    f.encode(m, &mut out).unwrap();
    match f {
        Framing::LengthPrefixed(lp) if lp.keep_header => out.to_vec(),
        _ => expected(f, m),
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::with_cases(256)
    })]

    /// Encode random messages, feed the decoder with random chunk sizes (down to one byte), get
    /// the same messages back, nothing left over.
    #[test]
    fn every_framing_survives_random_splits(
        (f, msgs) in framing_and_messages(),
        chunks in prop::collection::vec(prop_oneof![Just(1usize), 1usize..8, 1usize..5000], 1..20),
    ) {
        let mut wire = BytesMut::new();
        for m in &msgs {
            f.encode(m, &mut wire).unwrap();
        }
        let (got, left) = decode_split(&f, &wire, &chunks);
        prop_assert_eq!(left, 0, "bytes left over");
        prop_assert_eq!(got.len(), msgs.len());
        for (i, (g, m)) in got.iter().zip(&msgs).enumerate() {
            let g = g.as_ref().map_err(|e| TestCaseError::fail(format!("message {i}: {e}")))?;
            prop_assert_eq!(g, &with_encoded_header(&f, m), "message {}", i);
        }
    }

    /// An oversized frame between good ones is reported once and skipped, whatever the splits.
    #[test]
    fn oversized_frame_is_skipped_under_random_splits(
        before in prop::collection::vec(any::<u8>(), 0..100),
        big in 101usize..5000,
        after in prop::collection::vec(any::<u8>(), 0..100),
        chunks in prop::collection::vec(1usize..300, 1..10),
    ) {
        let f = Framing::LengthPrefixed(LengthPrefixed::new(4).max_len(100));
        let mut wire = BytesMut::new();
        f.encode(&before, &mut wire).unwrap();
        wire.extend_from_slice(&(big as u32).to_be_bytes());
        wire.extend_from_slice(&vec![0xEE; big]);
        f.encode(&after, &mut wire).unwrap();
        let (got, left) = decode_split(&f, &wire, &chunks);
        prop_assert_eq!(left, 0);
        prop_assert_eq!(got.len(), 3);
        prop_assert_eq!(got[0].as_ref().unwrap(), &before);
        let too_large = matches!(got[1], Err(Error::FrameTooLarge { len, max: 100 }) if len == big as u64);
        prop_assert!(too_large, "{:?}", got[1]);
        prop_assert_eq!(got[2].as_ref().unwrap(), &after);
    }

    /// Raw framing hands over the bytes as they come; their concatenation is the stream.
    #[test]
    fn raw_framing_keeps_the_stream(
        data in prop::collection::vec(any::<u8>(), 0..5000),
        chunks in prop::collection::vec(1usize..700, 1..10),
    ) {
        let (got, left) = decode_split(&Framing::Raw, &data, &chunks);
        prop_assert_eq!(left, 0);
        let all: Vec<u8> = got.into_iter().flat_map(|r| r.unwrap()).collect();
        prop_assert_eq!(all, data);
    }
}

/// A 0xFFFFFFFF length claim is FrameTooLarge at once, and feeding megabytes afterwards keeps
/// the buffer small: nothing of the claimed size is allocated or kept.
#[test]
fn claim_of_4_gib_is_frame_too_large_and_memory_stays_flat() {
    for f in [
        Framing::LengthPrefixed(LengthPrefixed::new(4).max_len(MIB)),
        Framing::LengthPrefixed(LengthPrefixed::new(4).little_endian().max_len(MIB)),
        Framing::length_prefixed(),
    ] {
        let mut dec = Decoder::new(f.clone());
        let mut buf = BytesMut::new();
        buf.extend_from_slice(&[0xFF; 4]);
        let e = dec.decode(&mut buf).unwrap_err();
        assert!(
            matches!(
                e,
                Error::FrameTooLarge {
                    len: 0xFFFF_FFFF,
                    ..
                }
            ),
            "{f:?}: {e}"
        );
        assert_eq!(e.kind(), ErrorKind::FrameTooLarge);
        let junk = vec![0xAB; 64 * 1024];
        for _ in 0..128 {
            buf.extend_from_slice(&junk);
            assert!(dec.decode(&mut buf).unwrap().is_none());
            assert!(
                buf.capacity() <= 256 * 1024,
                "buffer grew to {}",
                buf.capacity()
            );
        }
        // The decoder asks for bounded reads while skipping.
        assert!(dec.needed(&buf) <= 2 * MIB);
    }
    // A 64-bit claim near u64::MAX does not overflow anything.
    let mut dec = Decoder::new(Framing::LengthPrefixed(
        LengthPrefixed::new(8).max_len(1000),
    ));
    let mut buf = BytesMut::from(&[0xFF; 8][..]);
    assert_eq!(
        dec.decode(&mut buf).unwrap_err().kind(),
        ErrorKind::FrameTooLarge
    );
    // An HP PACK claim of the largest 22-bit length over a small max_len.
    let mut dec = Decoder::new(Framing::hp_pack(0, 1000));
    let mut buf = BytesMut::from(&0x3F_FFFFu32.to_le_bytes()[..]);
    assert!(matches!(
        dec.decode(&mut buf).unwrap_err(),
        Error::FrameTooLarge {
            len: 0x3F_FFFF,
            max: 1000
        }
    ));
}

/// Empty messages are frames too: a header alone, a delimiter alone.
#[test]
fn empty_frames() {
    let cases: Vec<(Framing, Vec<u8>)> = vec![
        (Framing::length_prefixed(), vec![0, 0, 0, 0]),
        (Framing::LengthPrefixed(LengthPrefixed::new(1)), vec![0]),
        (
            Framing::LengthPrefixed(LengthPrefixed::new(8).little_endian()),
            vec![0; 8],
        ),
        (
            Framing::hp_pack(0x3FF, 100),
            (0x3FFu32 << 22).to_le_bytes().to_vec(),
        ),
        (Framing::lines(), b"\n".to_vec()),
        (
            Framing::Delimited(Delimited::new(b"\r\n".to_vec())),
            b"\r\n".to_vec(),
        ),
    ];
    for (f, wire) in cases {
        let mut enc = BytesMut::new();
        f.encode(b"", &mut enc).unwrap();
        assert_eq!(&enc[..], &wire[..], "{f:?}");
        // Three empty frames in a row, one byte at a time.
        let triple = wire.repeat(3);
        let (got, left) = decode_split(&f, &triple, &[1]);
        assert_eq!(left, 0);
        assert_eq!(got.len(), 3, "{f:?}");
        assert!(got.iter().all(|g| g.as_ref().unwrap().is_empty()), "{f:?}");
    }
}

/// The HP-Socket PACK preset: 4 bytes little endian, high 10 bits the flag, low 22 the length.
#[test]
fn hp_pack_against_hand_built_bytes() {
    for (flag, len) in [
        (0u64, 0usize),
        (0x3FF, 1),
        (0x155, 300),
        (0x2AA, 70_000),
        (1, 0x3F_FFFF),
    ] {
        let f = Framing::hp_pack(flag, 0x3F_FFFF);
        let body: Vec<u8> = (0..len).map(|i| (i * 31 % 256) as u8).collect();
        let header = ((flag as u32) << 22) | len as u32;
        let mut hand = header.to_le_bytes().to_vec();
        hand.extend_from_slice(&body);
        let mut enc = BytesMut::new();
        f.encode(&body, &mut enc).unwrap();
        assert!(
            enc[..] == hand[..],
            "flag {flag:#x} len {len}: encoding differs"
        );
        let (got, left) = decode_split(&f, &hand, &[1, 3, 65_536]);
        assert_eq!(left, 0);
        assert_eq!(got.len(), 1);
        assert!(got[0].as_ref().unwrap()[..] == body[..]);
    }
    // Hand-built bytes for flag 0x1A5, body "HP".
    let wire = [0x02, 0x00, 0x40, 0x69, b'H', b'P'];
    let (got, _) = decode_split(&Framing::hp_pack(0x1A5, 100), &wire, &[1]);
    assert_eq!(got[0].as_ref().unwrap(), b"HP");
    // The wrong flag is a bad frame (its own kind, with EBADMSG as the OS error).
    let (got, _) = decode_split(&Framing::hp_pack(0x1A4, 100), &wire, &[6]);
    let e = got[0].as_ref().unwrap_err();
    assert!(matches!(e, Error::BadFrame(_)), "{e}");
    assert_eq!(e.kind(), ErrorKind::BadFrame);
    assert_eq!(e.os_error(), Some(libc::EBADMSG));
    // A max_len beyond the 22-bit field, or a flag beyond 10 bits, is refused by the one check
    // every door goes through; at the limit a longer body cannot be encoded.
    for (flag, max) in [(0, usize::MAX), (0, 0x40_0000), (0, 0), (0x400, 100)] {
        let e = Framing::try_hp_pack(flag, max).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
    }
    assert!(Framing::try_hp_pack(0, usize::MAX)
        .unwrap_err()
        .to_string()
        .contains("must be 1..=4194303"));
    let f = Framing::try_hp_pack(0, libsock::framing::HP_PACK_MAX_LEN).unwrap();
    let mut enc = BytesMut::new();
    let e = f.encode(&vec![0; 0x40_0000], &mut enc).unwrap_err();
    assert!(
        matches!(
            e,
            Error::FrameTooLarge {
                len: 0x40_0000,
                max: 0x3F_FFFF
            }
        ),
        "{e}"
    );
    assert!(enc.is_empty(), "nothing written on error");
}

/// Encoding errors: what cannot be framed is refused with the right kind.
#[test]
fn encode_and_validate_errors() {
    let mut out = BytesMut::new();
    let e = Framing::LengthPrefixed(LengthPrefixed::new(1))
        .encode(&[0; 256], &mut out)
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::FrameTooLarge);
    let e = Framing::LengthPrefixed(LengthPrefixed::new(4).max_len(10))
        .encode(&[0; 11], &mut out)
        .unwrap_err();
    assert!(
        matches!(e, Error::FrameTooLarge { len: 11, max: 10 }),
        "{e}"
    );
    let e = Framing::lines()
        .encode(b"two\nlines", &mut out)
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    let e = Framing::Fixed(4).encode(b"12345", &mut out).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    assert!(out.is_empty());
    for bad in [
        Framing::Fixed(0),
        Framing::LengthPrefixed(LengthPrefixed::new(3)),
        Framing::LengthPrefixed(LengthPrefixed::new(4).header_len(2)),
        Framing::LengthPrefixed(LengthPrefixed::new(4).flag_bits(22, 0x400)),
        Framing::Delimited(Delimited::new(Vec::new())),
    ] {
        let e = bad.validate().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{bad:?}");
        // A connection refuses such a framing too.
        let (c, _s) = tcp_pair(Framing::Raw);
        expect_kind(c.set_framing(bad.clone()), ErrorKind::InvalidArgument);
    }
}

/// Write `wire` to `s` one byte per send, with TCP_NODELAY and a short pause now and then, so
/// that the receiver sees the frames split everywhere.
fn trickle(mut s: TcpStream, wire: Vec<u8>) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        s.set_nodelay(true).unwrap();
        for (i, b) in wire.iter().enumerate() {
            s.write_all(std::slice::from_ref(b)).unwrap();
            if i % 3 == 0 {
                std::thread::sleep(Duration::from_micros(300));
            }
        }
    })
}

/// Over a real socket: a `std::net` peer writes hand-built frames one byte at a time; the
/// libsock receiver gets whole messages for every framing.
#[test]
fn frames_written_one_byte_at_a_time_over_tcp() {
    let msgs: Vec<&[u8]> = vec![b"first", b"", b"third message", b"x"];
    let mut cases: Vec<(Framing, Vec<u8>, Vec<Vec<u8>>)> = Vec::new();
    // 4-byte big-endian length.
    let mut w = Vec::new();
    for m in &msgs {
        w.extend_from_slice(&(m.len() as u32).to_be_bytes());
        w.extend_from_slice(m);
    }
    cases.push((
        Framing::length_prefixed(),
        w,
        msgs.iter().map(|m| m.to_vec()).collect(),
    ));
    // 2-byte little-endian length.
    let mut w = Vec::new();
    for m in &msgs {
        w.extend_from_slice(&(m.len() as u16).to_le_bytes());
        w.extend_from_slice(m);
    }
    cases.push((
        Framing::LengthPrefixed(LengthPrefixed::new(2).little_endian()),
        w,
        msgs.iter().map(|m| m.to_vec()).collect(),
    ));
    // HP PACK, flag 0x2B.
    let mut w = Vec::new();
    for m in &msgs {
        w.extend_from_slice(&((0x2Bu32 << 22) | m.len() as u32).to_le_bytes());
        w.extend_from_slice(m);
    }
    cases.push((
        Framing::hp_pack(0x2B, 1000),
        w,
        msgs.iter().map(|m| m.to_vec()).collect(),
    ));
    // \r\n lines, with a lone \r inside one.
    cases.push((
        Framing::Delimited(Delimited::new(b"\r\n".to_vec())),
        b"GET / HTTP/1.0\r\nHost: a\rb\r\n\r\nend\r\n".to_vec(),
        vec![
            b"GET / HTTP/1.0".to_vec(),
            b"Host: a\rb".to_vec(),
            b"".to_vec(),
            b"end".to_vec(),
        ],
    ));
    // Fixed 3-byte records.
    cases.push((
        Framing::Fixed(3),
        b"abcdefghi".to_vec(),
        vec![b"abc".to_vec(), b"def".to_vec(), b"ghi".to_vec()],
    ));
    let l = libsock::Listener::bind("127.0.0.1:0").unwrap();
    let port = port_of(&l.local_addr().unwrap());
    for (f, wire, want) in cases {
        let peer = TcpStream::connect(("127.0.0.1", port)).unwrap();
        let (c, _) = l.accept(Some(SLOW)).unwrap();
        c.set_timeout(Some(SLOW));
        c.set_framing(f.clone()).unwrap();
        let t = trickle(peer, wire);
        for (i, w) in want.iter().enumerate() {
            assert_eq!(&c.recv_msg().unwrap()[..], &w[..], "{f:?} message {i}");
        }
        t.join().unwrap();
        expect_kind(c.recv_msg(), ErrorKind::Closed);
    }
}

/// Over a real socket: a claim of 0xFFFFFFFF bytes is FrameTooLarge for `recv_msg`, and so is a
/// too-long line; `recv_msg_into` reports it the same way.
#[test]
fn oversized_claims_over_tcp() {
    let l = libsock::Listener::bind("127.0.0.1:0").unwrap();
    let port = port_of(&l.local_addr().unwrap());
    let mut peer = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let (c, _) = l.accept(Some(SLOW)).unwrap();
    c.set_timeout(Some(SLOW));
    c.set_framing(Framing::LengthPrefixed(LengthPrefixed::new(4).max_len(MIB)))
        .unwrap();
    peer.write_all(&[0xFF, 0xFF, 0xFF, 0xFF, 1, 2, 3]).unwrap();
    let e = expect_kind(c.recv_msg(), ErrorKind::FrameTooLarge);
    assert!(e.to_string().contains("4294967295"), "{e}");
    // The claimed bytes are skipped as they come: 16 MiB more produce no message, and the end of
    // stream inside the claimed frame is Closed.
    let writer = std::thread::spawn(move || {
        for _ in 0..16 {
            peer.write_all(&vec![0u8; MIB]).unwrap();
        }
    });
    expect_kind(c.recv_msg(), ErrorKind::Closed);
    writer.join().unwrap();

    // A too-long line, then a good one, through recv_msg_into.
    let mut peer = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let (c, _) = l.accept(Some(SLOW)).unwrap();
    c.set_timeout(Some(SLOW));
    c.set_framing(Framing::Delimited(
        Delimited::new(b"\n".to_vec()).max_len(16),
    ))
    .unwrap();
    peer.write_all(&[b'a'; 100_000]).unwrap();
    peer.write_all(b"\nok\n").unwrap();
    let mut buf = [0u8; 64];
    expect_kind(c.recv_msg_into(&mut buf), ErrorKind::FrameTooLarge);
    assert_eq!(c.recv_msg_into(&mut buf).unwrap(), 2);
    assert_eq!(&buf[..2], b"ok");
}

/// `recv_until` with a limit: FrameTooLarge when the delimiter does not come in time; the bytes
/// stay buffered for a later call.
#[test]
fn recv_until_limit_keeps_the_bytes() {
    let (c, s) = tcp_pair(Framing::Raw);
    c.send_all(b"0123456789abcdef|tail").unwrap();
    std::thread::sleep(Duration::from_millis(50));
    expect_kind(s.recv_until(b"|", 8), ErrorKind::FrameTooLarge);
    assert_eq!(&s.recv_until(b"|", 100).unwrap()[..], b"0123456789abcdef|");
    assert_eq!(&s.recv_exact(4).unwrap()[..], b"tail");
}

/// `recv_msgs` delivers the messages before an oversized frame, then reports the FrameTooLarge
/// on the next call (not lost), then goes on with the messages after it.
#[test]
fn recv_msgs_reports_an_oversized_frame_on_the_next_call() {
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
    std::thread::sleep(Duration::from_millis(100));
    let first = s.recv_msgs(10).unwrap();
    assert_eq!(first.len(), 2, "{first:?}");
    assert_eq!(&first[0][..], b"one");
    assert_eq!(&first[1][..], b"two");
    let e = expect_kind(s.recv_msgs(10), ErrorKind::FrameTooLarge);
    assert!(
        matches!(e, Error::FrameTooLarge { len: 500, max: 100 }),
        "{e}"
    );
    let last = s.recv_msgs(10).unwrap();
    assert_eq!(last.len(), 1);
    assert_eq!(&last[0][..], b"three");
}

/// Switching framing mid-stream (a text header, then binary frames, as in a protocol upgrade):
/// bytes already buffered are decoded with the new framing.
#[test]
fn switching_framing_keeps_buffered_bytes() {
    let (c, s) = tcp_pair(Framing::lines());
    let mut wire = b"HELLO v1\nUPGRADE\n".to_vec();
    for m in [&b"bin\x00\x01"[..], b"", b"\n\n"] {
        wire.extend_from_slice(&(m.len() as u32).to_be_bytes());
        wire.extend_from_slice(m);
    }
    c.send_all(&wire).unwrap();
    assert_eq!(&s.recv_msg().unwrap()[..], b"HELLO v1");
    assert_eq!(&s.recv_msg().unwrap()[..], b"UPGRADE");
    s.set_framing(Framing::length_prefixed()).unwrap();
    assert_eq!(s.framing(), Framing::length_prefixed());
    assert_eq!(&s.recv_msg().unwrap()[..], b"bin\x00\x01");
    assert_eq!(&s.recv_msg().unwrap()[..], b"");
    assert_eq!(&s.recv_msg().unwrap()[..], b"\n\n");
}
