//! Framings and chunk plans from fuzz bytes.
//!
//! The layout is fixed and simple so that seeds can be written by hand (`fuzz/make_seeds.py`
//! writes the committed ones). A missing byte reads as 0, so every input is valid.
//!
//! Framing (first byte `k`, `k % 4` picks the variant):
//!
//! | variant | bytes after `k` |
//! |---|---|
//! | 0 Raw | none |
//! | 1 LengthPrefixed | `b`, offset, extra, max selector, max value (8, LE), adjustment value (8, LE), length-bits byte, flag value (8, LE) |
//! | 2 Delimited | `b`, max selector, max value (8, LE), then for a custom delimiter its length byte and bytes |
//! | 3 Fixed | size selector, size value (8, LE) |
//!
//! LengthPrefixed `b`: bits 0-1 width (1, 2, 4, 8), bit 2 little endian, bit 3 keep_header,
//! bit 4 flag bits in use, bits 5-7 adjustment kind (see [`adjustment`]). `header_len` is
//! `offset % 16 + width + extra % 16`. Length-bits byte: `1 + byte % (width*8)` low bits hold
//! the length; the flag is the flag value masked to the bits left, or unmasked when the byte's
//! top bit is set (an invalid framing, which the targets skip after `validate`).
//!
//! Delimited `b`: bit 0 keep_delimiter, bits 1-3 the delimiter: `\n`, `\r\n`, `\n\n`,
//! `\r\n\r\n`, `aa`, `aba`, `\0`, or custom (length byte `% 9`, 0 being the invalid empty one).
//!
//! Sizes (`max_len`, the fixed size) come from a selector byte and a value, see [`size`].

use libsock::framing::DEFAULT_MAX_LEN;
use libsock::{Delimited, Framing, LengthPrefixed};

/// A cursor over the fuzz input; reading past the end gives zeros (and empty slices).
#[derive(Debug, Clone)]
pub struct Input<'a> {
    data: &'a [u8],
}

impl<'a> Input<'a> {
    /// A cursor at the start of `data`.
    pub fn new(data: &'a [u8]) -> Input<'a> {
        Input { data }
    }

    /// The next byte (0 past the end).
    pub fn u8(&mut self) -> u8 {
        let b = self.data.first().copied().unwrap_or(0);
        self.data = self.data.get(1..).unwrap_or(&[]);
        b
    }

    /// The next eight bytes as a little-endian number (missing bytes are 0).
    pub fn u64(&mut self) -> u64 {
        let mut v = [0u8; 8];
        let b = self.bytes(8);
        v[..b.len()].copy_from_slice(b);
        u64::from_le_bytes(v)
    }

    /// The next two bytes as a little-endian number (missing bytes are 0).
    pub fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.u8(), self.u8()])
    }

    /// The next `n` bytes (fewer at the end).
    pub fn bytes(&mut self, n: usize) -> &'a [u8] {
        let n = n.min(self.data.len());
        let (a, b) = self.data.split_at(n);
        self.data = b;
        a
    }

    /// Everything not read yet.
    pub fn rest(self) -> &'a [u8] {
        self.data
    }
}

/// A size from a selector and a value: the value itself, small values, and the edges (2^40,
/// `usize::MAX` and just below it, `u32::MAX`, the default 16 MiB).
pub fn size(selector: u8, v: u64) -> usize {
    match selector % 8 {
        0 => v as usize,
        1 => (v % 256) as usize,
        2 => 1 << 40,
        3 => usize::MAX,
        4 => u32::MAX as usize,
        5 => usize::MAX - (v % 256) as usize,
        6 => DEFAULT_MAX_LEN,
        _ => (v % 65536) as usize,
    }
}

/// The adjustment of kind `kind` (0-7) for a header of `header_len` bytes, from value `v`:
/// none, minus or plus the header, a small signed value, any value, the extremes.
pub fn adjustment(kind: u8, header_len: usize, v: u64) -> i64 {
    match kind % 8 {
        0 => 0,
        1 => -(header_len as i64),
        2 => v as i8 as i64,
        3 => v as i64,
        4 => i64::MIN,
        5 => i64::MAX,
        6 => header_len as i64,
        _ => -((v % 1024) as i64),
    }
}

/// A framing (see the module documentation for the layout). It may be invalid: check with
/// [`Framing::validate`].
pub fn framing(inp: &mut Input) -> Framing {
    match inp.u8() % 4 {
        0 => Framing::Raw,
        1 => Framing::LengthPrefixed(length_prefixed(inp)),
        2 => Framing::Delimited(delimited(inp)),
        _ => {
            let sel = inp.u8();
            let v = inp.u64();
            Framing::Fixed(match sel % 8 {
                0 => (v % 17) as usize,
                1 => 1 + (v % 1024) as usize,
                2 => 1 << 40,
                3 => usize::MAX,
                _ => size(sel, v),
            })
        }
    }
}

fn length_prefixed(inp: &mut Input) -> LengthPrefixed {
    let b = inp.u8();
    let width = [1u8, 2, 4, 8][(b & 3) as usize];
    let offset = (inp.u8() % 16) as usize;
    let extra = (inp.u8() % 16) as usize;
    let header_len = offset + width as usize + extra;
    let max_sel = inp.u8();
    let max_len = size(max_sel, inp.u64());
    let adj = adjustment(b >> 5, header_len, inp.u64());
    let lb = inp.u8();
    let flag_v = inp.u64();
    let bits = width * 8;
    let mut lp = LengthPrefixed::new(width)
        .big_endian(b & 4 == 0)
        .offset(offset)
        .header_len(header_len)
        .adjustment(adj)
        .max_len(max_len)
        .keep_header(b & 8 != 0);
    if b & 16 != 0 {
        let length_bits = 1 + (lb & 0x7f) % bits;
        let flag_bits = (bits - length_bits) as u32;
        let flag = if lb & 0x80 != 0 {
            flag_v
        } else if flag_bits == 0 {
            0
        } else {
            flag_v & (u64::MAX >> (64 - flag_bits))
        };
        lp = lp.flag_bits(length_bits, flag);
    }
    lp
}

fn delimited(inp: &mut Input) -> Delimited {
    let b = inp.u8();
    let max_sel = inp.u8();
    let max_len = size(max_sel, inp.u64());
    let delimiter: Vec<u8> = match (b >> 1) % 8 {
        0 => b"\n".to_vec(),
        1 => b"\r\n".to_vec(),
        2 => b"\n\n".to_vec(),
        3 => b"\r\n\r\n".to_vec(),
        4 => b"aa".to_vec(),
        5 => b"aba".to_vec(),
        6 => b"\0".to_vec(),
        _ => {
            let n = (inp.u8() % 9) as usize;
            inp.bytes(n).to_vec()
        }
    };
    Delimited::new(delimiter)
        .max_len(max_len)
        .keep_delimiter(b & 1 != 0)
}

/// Most chunks [`Chunks::split`] makes.
pub const MAX_CHUNKS: usize = 4096;

/// Where the input is cut: a cycle of chunk sizes.
///
/// Layout: a count byte `n` (`% 16`), then `n` size bytes. A size 255 means "all the rest";
/// a size 0 is an empty chunk (the decoder is called with nothing new). No count, or only
/// zeros, means one byte at a time.
#[derive(Debug, Clone)]
pub struct Chunks {
    sizes: Vec<usize>,
}

impl Chunks {
    /// Read a chunk plan.
    pub fn parse(inp: &mut Input) -> Chunks {
        let n = (inp.u8() % 16) as usize;
        let mut sizes: Vec<usize> = inp
            .bytes(n)
            .iter()
            .map(|&b| if b == 255 { usize::MAX } else { b as usize })
            .collect();
        if sizes.iter().all(|&s| s == 0) {
            sizes = vec![1];
        }
        Chunks { sizes }
    }

    /// The whole input at once.
    pub fn whole() -> Chunks {
        Chunks {
            sizes: vec![usize::MAX],
        }
    }

    /// `wire` cut by the plan (an empty `wire` gives no chunk). After [`MAX_CHUNKS`] chunks the
    /// rest is one chunk (a large wire in one-byte chunks would only slow the fuzzer down).
    pub fn split<'w>(&self, wire: &'w [u8]) -> Vec<&'w [u8]> {
        let mut out = Vec::new();
        let mut rest = wire;
        for &s in self.sizes.iter().cycle() {
            if rest.is_empty() {
                break;
            }
            let s = if out.len() + 1 >= MAX_CHUNKS {
                usize::MAX
            } else {
                s
            };
            let (a, b) = rest.split_at(s.min(rest.len()));
            out.push(a);
            rest = b;
        }
        out
    }
}
