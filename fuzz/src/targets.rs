//! The fuzz targets' bodies. Each takes the raw fuzz input, returns normally when every
//! property holds, and panics (a finding) when one is broken.

use std::time::Duration;

use bytes::BytesMut;
use libsock::{Connection, Error, ErrorKind, Framing, Shutdown};

use crate::budget;
use crate::check::{self, fail, show_bytes};
use crate::gen::{self, Chunks, Input};
use crate::model::{self, Event};

/// Largest wire the socket targets send: a Unix socket pair holds it without a reader, so one
/// thread can write and read in turn.
pub const SOCKET_WIRE_MAX: usize = 96 * 1024;

/// Heap a receiving connection may have live at its peak beyond [`RECV_BUDGET_PER_BYTE`] per
/// byte sent: one read chunk (64 KiB) and its growth, a few small allocations.
pub const RECV_BUDGET_BASE: usize = 1 << 20;

/// Heap a receiving connection may have live per byte sent to it (its buffer, the harness's
/// copies of the messages).
pub const RECV_BUDGET_PER_BYTE: usize = 8;

/// How long a blocking receive may take once everything is sent and the peer closed: any wait
/// at all means the reader missed the end of the stream (a hang is a finding).
const HANG: Duration = Duration::from_secs(10);

/// Target `decode_chunks`: any framing, any bytes, cut anywhere.
///
/// Input: framing, chunk plan (see [`gen`]), a mode byte (bit 0: use [`libsock::Decoder::cut`]
/// instead of `decode`), then the wire bytes.
///
/// Properties: decoding in chunks gives the same messages and errors as the whole buffer at
/// once; the whole buffer gives what the specification ([`model`]) says; plus the per-step
/// invariants of [`check::decode`] (limits, bounded buffering and heap, `needed`, no panic).
pub fn decode_chunks(data: &[u8]) {
    let mut inp = Input::new(data);
    let f = gen::framing(&mut inp);
    if f.validate().is_err() {
        return;
    }
    let chunks = Chunks::parse(&mut inp);
    let mode = inp.u8();
    let wire = inp.rest();
    let whole = check::decode(&f, &[wire], false);
    let got = check::decode(&f, &chunks.split(wire), mode & 1 != 0);
    match model::decode(&f, wire) {
        None => {
            check::check_raw(wire, &whole);
            check::check_raw(wire, &got);
        }
        Some(spec) => {
            check::compare_model(&f, &spec, &whole);
            check::compare_runs(
                &f,
                &whole,
                &got,
                "decoding in chunks",
                "decoding the whole buffer at once",
            );
        }
    }
}

/// Messages for [`encode_roundtrip`]: a length byte `L` then the content.
///
/// `L` up to 250: `L` bytes follow. 251: a message of the size the framing wants (the fixed
/// size up to 64 KiB, a kept header's length, else 0), filled with the next byte. 252: a large
/// message, 16 KiB plus a two-byte value (so over the send path's copy threshold), filled with
/// the next byte. 253: the previous message again. 254, 255: the previous message plus one
/// byte (the next one).
pub fn messages(f: &Framing, inp: &mut Input, wire_max: usize) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = Vec::new();
    let mut total = 0usize;
    while total < wire_max {
        let rest = inp.clone().rest();
        if rest.is_empty() {
            break;
        }
        let l = inp.u8();
        let m = match l {
            0..=250 => inp.bytes(l as usize).to_vec(),
            251 => {
                let n = match f {
                    Framing::Fixed(n) if *n <= 65536 => *n,
                    Framing::LengthPrefixed(lp) if lp.keep_header => lp.header_len,
                    _ => 0,
                };
                vec![inp.u8(); n]
            }
            252 => {
                let n = 16 * 1024 + inp.u16() as usize;
                vec![inp.u8(); n]
            }
            253 => out.last().cloned().unwrap_or_default(),
            _ => {
                let mut m = out.last().cloned().unwrap_or_default();
                m.push(inp.u8());
                m
            }
        };
        total += m.len() + 1;
        out.push(m);
    }
    out
}

/// Whether `framing` must accept `msg` for sending, and if not, the error kind it must give:
/// the exact conditions under which a message arrives unchanged.
fn expected_check(f: &Framing, msg: &[u8]) -> Result<(), Option<ErrorKind>> {
    match f {
        Framing::Raw => Ok(()),
        Framing::Fixed(n) if msg.len() == *n => Ok(()),
        Framing::Fixed(_) => Err(Some(ErrorKind::InvalidArgument)),
        Framing::Delimited(d) => {
            if msg.len() > d.max_len {
                return Err(Some(ErrorKind::FrameTooLarge));
            }
            // It arrives unchanged exactly when the delimiter's first occurrence in
            // msg + delimiter is the one the sender appended.
            let joined = [msg, &d.delimiter[..]].concat();
            if model::find(&joined, &d.delimiter) == Some(msg.len()) {
                Ok(())
            } else {
                Err(Some(ErrorKind::InvalidArgument))
            }
        }
        Framing::LengthPrefixed(lp) => {
            if lp.keep_header && msg.len() < lp.header_len {
                return Err(Some(ErrorKind::InvalidArgument));
            }
            let body = msg.len() - if lp.keep_header { lp.header_len } else { 0 };
            let field = body as i128 - lp.adjustment as i128;
            if body > lp.max_len || field > model::length_mask(lp) as i128 {
                Err(Some(ErrorKind::FrameTooLarge))
            } else if field < 0 {
                // A body shorter than the adjustment: either kind is a fair description.
                Err(None)
            } else {
                Ok(())
            }
        }
    }
}

/// What `msg`, accepted for sending, must arrive as: itself, with a kept delimiter after it, and
/// a kept header's length field holding the body length (and the flag).
fn expected_arrival(f: &Framing, msg: &[u8]) -> Vec<u8> {
    let mut m = msg.to_vec();
    if let Framing::Delimited(d) = f {
        if d.keep_delimiter {
            m.extend_from_slice(&d.delimiter);
        }
    }
    if let Framing::LengthPrefixed(lp) = f {
        if lp.keep_header {
            let body = msg.len() - lp.header_len;
            let field = (body as i128 - lp.adjustment as i128) as u64;
            let flag = if lp.length_bits >= 64 {
                0
            } else {
                lp.flag << lp.length_bits
            };
            model::write_field(lp, &mut m, field | flag);
        }
    }
    m
}

/// Target `encode_roundtrip`: what the encoder accepts comes back unchanged.
///
/// Input: framing, chunk plan, a mode byte, then messages (see [`messages`]).
///
/// Properties: `check_msg` accepts a message exactly when it can arrive unchanged (and rejects
/// it with the documented kind otherwise); `encode` and `encode_parts` agree with it and with
/// each other; the frames of the accepted messages decode, whole and in chunks, to exactly those
/// messages and leave nothing buffered. Mode bit 0: also send the messages through a
/// [`Connection`] (bit 1: one `send_msgs` call, else `send_msg` each) and check that the bytes
/// on the wire are `encode`'s, and that a rejected message sends nothing.
pub fn encode_roundtrip(data: &[u8]) {
    let mut inp = Input::new(data);
    let f = gen::framing(&mut inp);
    if f.validate().is_err() {
        return;
    }
    let chunks = Chunks::parse(&mut inp);
    let mode = inp.u8();
    let msgs = messages(&f, &mut inp, SOCKET_WIRE_MAX);
    let mut wire = BytesMut::new();
    let mut accepted = Vec::new();
    let mut verdicts = Vec::new();
    for m in &msgs {
        let verdict = f.check_msg(m);
        let expected = expected_check(&f, m);
        match (&verdict, expected) {
            (Ok(()), Ok(())) => {}
            (Err(e), Err(None))
                if matches!(
                    e.kind(),
                    ErrorKind::InvalidArgument | ErrorKind::FrameTooLarge
                ) => {}
            (Err(e), Err(Some(kind))) if e.kind() == kind => {}
            (v, x) => fail(
                &f,
                format!(
                    "check_msg({}) gave {v:?} where {x:?} was expected",
                    show_bytes(m)
                ),
            ),
        }
        let before = wire.len();
        let encoded = f.encode(m, &mut wire);
        match (&verdict, encoded) {
            (Ok(()), Ok(())) => {}
            (Err(a), Err(b)) if a.kind() == b.kind() && wire.len() == before => {}
            (v, e) => fail(
                &f,
                format!("encode({}) gave {e:?}, check_msg {v:?}", show_bytes(m)),
            ),
        }
        match (f.encode_parts(m), &verdict) {
            (Ok(p), Ok(())) => {
                let joined = [p.header.as_bytes(), p.body, p.trailer].concat();
                if joined != wire[before..] || p.len() != joined.len() {
                    fail(
                        &f,
                        format!(
                            "encode_parts({}) gave {} where encode gave {}",
                            show_bytes(m),
                            show_bytes(&joined),
                            show_bytes(&wire[before..])
                        ),
                    );
                }
            }
            (Err(a), Err(b)) if a.kind() == b.kind() => {}
            (p, v) => fail(
                &f,
                format!(
                    "encode_parts({}) gave {:?}, check_msg {v:?}",
                    show_bytes(m),
                    p.err()
                ),
            ),
        }
        if verdict.is_ok() {
            accepted.push(m.as_slice());
        }
        verdicts.push(verdict);
    }
    let expected: Vec<Event> = accepted
        .iter()
        .map(|m| Event::Msg(expected_arrival(&f, m)))
        .collect();
    let whole = check::decode(&f, &[&wire[..]], false);
    let got = check::decode(&f, &chunks.split(&wire), mode & 4 != 0);
    if f == Framing::Raw {
        check::check_raw(&wire, &whole);
        check::check_raw(&wire, &got);
    } else {
        check::compare_runs(
            &f,
            &expected,
            &whole,
            "decoding the encoded messages whole",
            "the messages sent",
        );
        check::compare_runs(
            &f,
            &expected,
            &got,
            "decoding the encoded messages in chunks",
            "the messages sent",
        );
    }
    if mode & 1 != 0 {
        send_path(&f, &msgs, &verdicts, &wire, mode & 2 != 0);
    }
}

/// Everything readable on `conn` now (a Raw connection, polled).
fn drain_raw(conn: &Connection, scratch: &mut [u8], out: &mut Vec<u8>) {
    loop {
        match conn.with_timeout(Duration::ZERO).recv_into(scratch) {
            Ok(0) => fail(&Framing::Raw, "the sender closed"),
            Ok(n) => out.extend_from_slice(&scratch[..n]),
            Err(e) if e.kind() == ErrorKind::Timeout => return,
            Err(e) => fail(&Framing::Raw, format!("reading the sent frames: {e}")),
        }
    }
}

/// Send `msgs` through a connection with framing `f` and check the bytes against `wire`.
fn send_path(
    f: &Framing,
    msgs: &[Vec<u8>],
    verdicts: &[libsock::Result<()>],
    wire: &[u8],
    batch: bool,
) {
    let (tx, rx) = Connection::pair().expect("a Unix socket pair");
    tx.set_framing(f.clone()).expect("a valid framing");
    tx.set_timeout(Some(HANG));
    let mut scratch = vec![0u8; 64 * 1024];
    let mut got = Vec::with_capacity(wire.len());
    if batch {
        let all: Vec<&[u8]> = msgs.iter().map(|m| m.as_slice()).collect();
        if let Some(bad) = verdicts.iter().position(|v| v.is_err()) {
            // One rejected message: the batch is refused whole, nothing sent.
            match tx.send_msgs(&all) {
                Err(e) if e.kind() == verdicts[bad].as_ref().unwrap_err().kind() => {}
                other => fail(
                    f,
                    format!(
                        "send_msgs with message {bad} rejected by check_msg ({:?}) gave {other:?}",
                        verdicts[bad]
                    ),
                ),
            }
            drain_raw(&rx, &mut scratch, &mut got);
            if !got.is_empty() {
                fail(f, format!("a refused send_msgs sent {}", show_bytes(&got)));
            }
        }
        let ok: Vec<&[u8]> = msgs
            .iter()
            .zip(verdicts)
            .filter(|(_, v)| v.is_ok())
            .map(|(m, _)| m.as_slice())
            .collect();
        if let Err(e) = tx.send_msgs(&ok) {
            fail(f, format!("send_msgs of accepted messages: {e}"));
        }
        drain_raw(&rx, &mut scratch, &mut got);
    } else {
        for (m, v) in msgs.iter().zip(verdicts) {
            match (tx.send_msg(m), v) {
                (Ok(()), Ok(())) => {}
                (Err(a), Err(b)) if a.kind() == b.kind() => {}
                (r, v) => fail(
                    f,
                    format!("send_msg({}) gave {r:?}, check_msg {v:?}", show_bytes(m)),
                ),
            }
            drain_raw(&rx, &mut scratch, &mut got);
        }
    }
    if got != wire {
        fail(
            f,
            format!(
                "send_msg{} put {} on the wire where encode gives {}",
                if batch { "s" } else { "" },
                show_bytes(&got),
                show_bytes(wire)
            ),
        );
    }
}

/// One way of receiving, chosen by an operation byte.
#[derive(Debug, Clone, Copy)]
enum Op {
    /// `recv_msg`.
    Msg,
    /// `recv_msg_into` with a buffer of this size.
    MsgInto(usize),
    /// `recv_msgs(max)`.
    Msgs(usize),
    /// `recv_msgs_packed(max)`.
    Packed(usize),
    /// `recv_msgs_into` with a buffer of this size and this many lengths.
    MsgsInto(usize, usize),
}

/// Buffer sizes for the `_into` operations: tiny ones (a message does not fit) and roomy ones.
const SIZES: [usize; 8] = [0, 1, 2, 3, 5, 16, 300, 64 * 1024];

impl Op {
    fn from_byte(b: u8) -> Op {
        let size = SIZES[(b >> 3) as usize % SIZES.len()];
        let max = 1 + (b >> 3) as usize % 8;
        match b % 5 {
            0 => Op::Msg,
            1 => Op::MsgInto(size),
            2 => Op::Msgs(max),
            3 => Op::Packed(max),
            _ => Op::MsgsInto(size, 1 + (b >> 6) as usize * 3),
        }
    }
}

/// What one receive call ended with.
enum Step {
    /// Messages or a skippable error were recorded; call again.
    More,
    /// Nothing there yet (a poll timed out).
    Idle,
    /// End of stream.
    Closed,
    /// An error that ends the stream was recorded.
    Fatal,
}

/// The receiving side of [`recv_socket`]: calls the operations in turn and records what they
/// deliver.
struct Receiver<'a> {
    f: &'a Framing,
    conn: &'a Connection,
    ops: Vec<Op>,
    next: usize,
    events: Vec<Event>,
    /// The size a `BufferTooSmall` announced: the next message must have it.
    owed: Option<usize>,
    /// `BufferTooSmall` came twice for the owed message: the next call gets the room it needs.
    insist: bool,
    scratch: Vec<u8>,
    lens: Vec<usize>,
    data: Vec<u8>,
    ends: Vec<usize>,
}

impl Receiver<'_> {
    fn deliver(&mut self, m: &[u8]) {
        self.insist = false;
        if let Some(n) = self.owed.take() {
            if m.len() != n {
                fail(
                    self.f,
                    format!(
                        "a message of {} bytes came after BufferTooSmall said {n}",
                        m.len()
                    ),
                );
            }
        }
        check::check_message(self.f, m);
        self.events.push(Event::Msg(m.to_vec()));
    }

    fn error(&mut self, e: Error, op: Op, polling: bool) -> Step {
        if let Some(ev) = check::event_of(&e) {
            if self.owed.is_some() {
                fail(
                    self.f,
                    format!("{e} where a message kept by BufferTooSmall was owed"),
                );
            }
            check::check_error(self.f, &ev);
            let fatal = ev.is_fatal();
            self.events.push(ev);
            return if fatal { Step::Fatal } else { Step::More };
        }
        match e {
            Error::BufferTooSmall { needed, capacity } => {
                let room = match op {
                    Op::MsgInto(n) | Op::MsgsInto(n, _) => n,
                    _ => fail(self.f, format!("{op:?} gave {e}")),
                };
                if capacity != room || needed <= capacity {
                    fail(self.f, format!("{op:?} gave {e}"));
                }
                if let Some(n) = self.owed {
                    if n != needed {
                        fail(self.f, format!("{e} after an earlier one said {n}"));
                    }
                    self.insist = true;
                }
                self.owed = Some(needed);
                Step::More
            }
            e if e.kind() == ErrorKind::Timeout && polling => Step::Idle,
            e if e.kind() == ErrorKind::Closed => {
                if let Some(n) = self.owed {
                    fail(
                        self.f,
                        format!("{e} where a kept message of {n} bytes was owed"),
                    );
                }
                Step::Closed
            }
            e => fail(
                self.f,
                format!(
                    "{op:?} gave {e} ({})",
                    if polling {
                        "polling"
                    } else {
                        "after the peer closed"
                    }
                ),
            ),
        }
    }

    /// One receive call with `timeout`.
    fn step(&mut self, timeout: Duration, polling: bool) -> Step {
        let mut op = self.ops[self.next % self.ops.len()];
        self.next += 1;
        if self.insist {
            // The same small buffer gave the same answer twice: now take the message.
            op = Op::Msg;
        }
        let c = self.conn.with_timeout(timeout);
        let r = match op {
            Op::Msg => c.recv_msg().map(|m| self.deliver(&m)),
            Op::MsgInto(n) => {
                let mut buf = std::mem::take(&mut self.scratch);
                let r = c
                    .recv_msg_into(&mut buf[..n])
                    .map(|k| self.deliver(&buf[..k]));
                self.scratch = buf;
                r
            }
            Op::Msgs(max) => c.recv_msgs(max).map(|v| {
                if v.is_empty() || v.len() > max {
                    fail(
                        self.f,
                        format!("recv_msgs({max}) gave {} messages", v.len()),
                    );
                }
                v.iter().for_each(|m| self.deliver(m))
            }),
            Op::Packed(max) => {
                let (mut data, mut ends) = (
                    std::mem::take(&mut self.data),
                    std::mem::take(&mut self.ends),
                );
                data.clear();
                ends.clear();
                data.push(0xEE); // appended after what is there
                let r = c.recv_msgs_packed(max, &mut data, &mut ends).map(|k| {
                    if k == 0 || k > max || ends.len() != k || data[0] != 0xEE {
                        fail(
                            self.f,
                            format!("recv_msgs_packed({max}) gave {k}, ends {ends:?}"),
                        );
                    }
                    let mut at = 1;
                    for &e in &ends {
                        if e < at || e > data.len() {
                            fail(self.f, format!("recv_msgs_packed ends {ends:?}"));
                        }
                        self.deliver(&data[at..e]);
                        at = e;
                    }
                    if at != data.len() {
                        fail(self.f, format!("recv_msgs_packed ends {ends:?}"));
                    }
                });
                (self.data, self.ends) = (data, ends);
                r
            }
            Op::MsgsInto(n, max) => {
                let (mut buf, mut lens) = (
                    std::mem::take(&mut self.scratch),
                    std::mem::take(&mut self.lens),
                );
                let r = c.recv_msgs_into(&mut buf[..n], &mut lens[..max]).map(|k| {
                    let total: usize = lens[..k.min(max)].iter().sum();
                    if k == 0 || k > max || total > n {
                        fail(
                            self.f,
                            format!("recv_msgs_into({n}, {max}) gave {k}, lens {lens:?}"),
                        );
                    }
                    let mut at = 0;
                    for &l in &lens[..k] {
                        self.deliver(&buf[at..at + l]);
                        at += l;
                    }
                });
                (self.scratch, self.lens) = (buf, lens);
                r
            }
        };
        match r {
            Ok(()) => Step::More,
            Err(e) => self.error(e, op, polling),
        }
    }
}

/// Target `recv_socket`: the blocking receive path over a Unix socket pair.
///
/// Input: framing, chunk plan, an operation count byte (`% 8 + 1`) and that many operation
/// bytes (byte % 5: `recv_msg`, `recv_msg_into`, `recv_msgs`, `recv_msgs_packed`,
/// `recv_msgs_into`; the high bits pick the buffer size or the batch size), a close byte (bit 0:
/// close the sender instead of half-closing it), then the wire bytes (at most
/// [`SOCKET_WIRE_MAX`]).
///
/// The wire is written chunk by chunk from one end; after each chunk the other end, with the
/// framing, takes every message there with polls (timeout zero, which must lose nothing), in
/// turn with `recv_msg`, `recv_msg_into` (a `BufferTooSmall` must keep the message for the next
/// call), `recv_msgs`, `recv_msgs_packed` and `recv_msgs_into`. Then the sender half-closes (or
/// closes) and the receiver reads, blocking, until `Closed`.
///
/// Properties: the messages and errors are the pure decoder's for the whole buffer (an error
/// that ends the stream ends it here too), then `Closed`, and `Closed` again on the next call; no
/// panic, no hang; the receiver's heap stays within [`RECV_BUDGET_BASE`] +
/// [`RECV_BUDGET_PER_BYTE`] per byte sent, whatever a header claims.
pub fn recv_socket(data: &[u8]) {
    let mut inp = Input::new(data);
    let f = gen::framing(&mut inp);
    if f.validate().is_err() {
        return;
    }
    let chunks = Chunks::parse(&mut inp);
    let n_ops = 1 + inp.u8() as usize % 8;
    let ops: Vec<Op> = (0..n_ops).map(|_| Op::from_byte(inp.u8())).collect();
    let close = inp.u8() & 1 != 0;
    let wire = inp.rest();
    let wire = &wire[..wire.len().min(SOCKET_WIRE_MAX)];
    let whole = check::decode(&f, &[wire], false);
    let parts = chunks.split(wire);

    let (tx, rx) = Connection::pair().expect("a Unix socket pair");
    rx.set_framing(f.clone()).expect("a valid framing");
    tx.set_timeout(Some(HANG));
    let mut r = Receiver {
        f: &f,
        conn: &rx,
        ops,
        next: 0,
        events: Vec::with_capacity(whole.len() + 2),
        owed: None,
        insist: false,
        scratch: vec![0u8; 64 * 1024],
        lens: vec![0usize; 16],
        data: Vec::with_capacity(wire.len() + 1),
        ends: Vec::with_capacity(16),
    };
    let limit = RECV_BUDGET_BASE + RECV_BUDGET_PER_BYTE * wire.len();
    budget::start(limit);
    let mut end = Step::More;
    'feed: for c in &parts {
        tx.send_all(c).expect("sending to the receiver");
        loop {
            match r.step(Duration::ZERO, true) {
                Step::More => {}
                Step::Idle => break,
                Step::Closed => fail(&f, "Closed before the sender closed"),
                Step::Fatal => {
                    end = Step::Fatal;
                    break 'feed;
                }
            }
        }
    }
    if close {
        tx.close();
    } else {
        tx.shutdown(Shutdown::Write).expect("half-close");
    }
    if !matches!(end, Step::Fatal) {
        loop {
            match r.step(HANG, false) {
                Step::More => {}
                Step::Idle => unreachable!("a blocking call does not poll"),
                Step::Closed => {
                    // The end of the stream stays the end.
                    match rx.with_timeout(HANG).recv_msg() {
                        Err(e) if e.kind() == ErrorKind::Closed => {}
                        other => fail(&f, format!("recv_msg after Closed gave {other:?}")),
                    }
                    break;
                }
                Step::Fatal => break,
            }
        }
    }
    let peak = budget::stop();
    if peak > limit {
        fail(
            &f,
            format!(
                "receiving {} bytes had {peak} heap bytes live at the peak (limit {limit})",
                wire.len()
            ),
        );
    }
    if let Some(n) = r.owed {
        fail(
            &f,
            format!("a message of {n} kept by BufferTooSmall never came"),
        );
    }
    if f == Framing::Raw {
        check::check_raw(wire, &r.events);
    } else {
        check::compare_runs(
            &f,
            &whole,
            &r.events,
            "receiving over a socket",
            "decoding the whole buffer at once",
        );
    }
}
