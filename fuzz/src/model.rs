//! The specification: what decoding a whole buffer, followed by the end of the stream, must
//! give. Written plainly (byte loops, no shared code with the library) so that a mistake in
//! the library is not repeated here.
//!
//! Rules, per framing:
//!
//! - Fixed(n): consecutive `n`-byte messages; a shorter tail is left over.
//! - Delimited: each line up to the first occurrence of the delimiter is a message (with the
//!   delimiter when `keep_delimiter`); a line longer than `max_len` is `TooLarge` with its length
//!   and is skipped. At the end, a tail without a delimiter that is longer than `max_len` even
//!   if its last `delimiter.len() - 1` bytes began a delimiter is `TooLarge` with that shorter
//!   length (the decoder cannot wait for the rest of it); a shorter tail is left over.
//! - LengthPrefixed: a header (`header_len` bytes) whose field holds the flag in its high bits
//!   and the length in its low `length_bits`; a wrong flag, or a length the adjustment makes
//!   negative, is `Bad` and ends the stream. A body over [`effective_max`] (`max_len`, or less
//!   when such a frame would not fit in memory at all) is `TooLarge` with the claimed length
//!   and that limit, and is skipped. Otherwise the
//!   message is the body (with the header in front when `keep_header`); an incomplete frame is
//!   left over.
//! - Raw has no model (a message is whatever one read returned).

use libsock::{Delimited, Framing, LengthPrefixed};

/// One result of decoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A message.
    Msg(Vec<u8>),
    /// `Error::FrameTooLarge { len, max }` (skippable).
    TooLarge {
        /// The claimed or measured length.
        len: u64,
        /// The limit reported.
        max: u64,
    },
    /// `Error::BadFrame` with its text (ends the stream).
    Bad(String),
}

impl Event {
    /// True for an error that ends the stream.
    pub fn is_fatal(&self) -> bool {
        matches!(self, Event::Bad(_))
    }
}

/// The events for `wire` decoded whole (Raw: `None`, it has no model).
pub fn decode(f: &Framing, wire: &[u8]) -> Option<Vec<Event>> {
    match f {
        Framing::Raw => None,
        Framing::Fixed(n) => Some(
            wire.chunks_exact(*n)
                .map(|c| Event::Msg(c.to_vec()))
                .collect(),
        ),
        Framing::Delimited(d) => Some(delimited(d, wire)),
        Framing::LengthPrefixed(lp) => Some(length_prefixed(lp, wire)),
    }
}

/// The first occurrence of `needle` in `hay` (plain search).
pub fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.len() > hay.len() {
        return None;
    }
    (0..=hay.len() - needle.len()).find(|&i| &hay[i..i + needle.len()] == needle)
}

fn delimited(d: &Delimited, wire: &[u8]) -> Vec<Event> {
    let dl = d.delimiter.len();
    let mut out = Vec::new();
    let mut pos = 0;
    loop {
        let rest = &wire[pos..];
        match find(rest, &d.delimiter) {
            Some(i) if i > d.max_len => {
                out.push(Event::TooLarge {
                    len: i as u64,
                    max: d.max_len as u64,
                });
                pos += i + dl;
            }
            Some(i) => {
                let end = if d.keep_delimiter { i + dl } else { i };
                out.push(Event::Msg(rest[..end].to_vec()));
                pos += i + dl;
            }
            None => {
                let least = rest.len() - rest.len().min(dl - 1);
                if least > d.max_len {
                    out.push(Event::TooLarge {
                        len: least as u64,
                        max: d.max_len as u64,
                    });
                }
                return out;
            }
        }
    }
}

/// The field value of the header at the front of `h` (plain byte loop).
pub fn read_field(lp: &LengthPrefixed, h: &[u8]) -> u64 {
    let f = &h[lp.offset..lp.offset + lp.width as usize];
    let mut v = 0u64;
    for i in 0..f.len() {
        let b = if lp.big_endian {
            f[i]
        } else {
            f[f.len() - 1 - i]
        };
        v = (v << 8) | b as u64;
    }
    v
}

/// Write `v` into the field of the header at the front of `h` (plain byte loop).
pub fn write_field(lp: &LengthPrefixed, h: &mut [u8], v: u64) {
    let w = lp.width as usize;
    for i in 0..w {
        let shift = if lp.big_endian { w - 1 - i } else { i } * 8;
        h[lp.offset + i] = (v >> shift) as u8;
    }
}

/// The mask of the length bits.
pub fn length_mask(lp: &LengthPrefixed) -> u64 {
    if lp.length_bits >= 64 {
        u64::MAX
    } else {
        (1u64 << lp.length_bits) - 1
    }
}

/// The largest body a length-prefixed frame can have: `max_len`, and less when a frame of that
/// size and its header would not fit in memory (`header_len + body <= usize::MAX`). It is the
/// limit an oversized frame's error reports.
pub fn effective_max(lp: &LengthPrefixed) -> u64 {
    (lp.max_len as u64).min(usize::MAX as u64 - lp.header_len as u64)
}

fn length_prefixed(lp: &LengthPrefixed, wire: &[u8]) -> Vec<Event> {
    let hl = lp.header_len;
    let mut out = Vec::new();
    let mut pos = 0;
    while wire.len() - pos >= hl {
        let raw = read_field(lp, &wire[pos..]);
        let field_bits = lp.width as u32 * 8;
        if (lp.length_bits as u32) < field_bits && raw >> lp.length_bits != lp.flag {
            out.push(Event::Bad("wrong flag".into()));
            return out;
        }
        let body = (raw & length_mask(lp)) as i128 + lp.adjustment as i128;
        if body < 0 {
            out.push(Event::Bad("negative length".into()));
            return out;
        }
        let body = body.min(u64::MAX as i128) as u64;
        let avail = (wire.len() - pos - hl) as u64;
        let limit = effective_max(lp);
        if body > limit {
            out.push(Event::TooLarge {
                len: body,
                max: limit,
            });
            pos += hl + avail.min(body) as usize;
            continue;
        }
        if avail < body {
            break;
        }
        let start = if lp.keep_header { pos } else { pos + hl };
        let end = pos + hl + body as usize;
        out.push(Event::Msg(wire[start..end].to_vec()));
        pos = end;
    }
    out
}
