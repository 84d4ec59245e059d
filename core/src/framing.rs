//! Message framing: how a byte stream is cut into messages, so that messages never arrive glued
//! together or cut in half ("sticky packets").
//!
//! One [`Framing`] value describes the format; a [`Decoder`] cuts messages out of a growing
//! buffer (input may be split anywhere, down to one byte at a time) and [`Framing::encode`] /
//! [`Framing::encode_parts`] build frames. The blocking [`Connection`](crate::Connection) and the
//! event engine use the same decoder.
//!
//! ```
//! use bytes::BytesMut;
//! use libsock::{Decoder, Framing, LengthPrefixed};
//!
//! let framing = Framing::LengthPrefixed(LengthPrefixed::new(2).max_len(1024));
//! let mut wire = BytesMut::new();
//! framing.encode(b"hello", &mut wire).unwrap();
//! framing.encode(b"", &mut wire).unwrap();
//! assert_eq!(&wire[..], b"\x00\x05hello\x00\x00");
//!
//! let mut dec = Decoder::new(framing);
//! assert_eq!(&dec.decode(&mut wire).unwrap().unwrap()[..], b"hello");
//! assert_eq!(&dec.decode(&mut wire).unwrap().unwrap()[..], b"");
//! assert!(dec.decode(&mut wire).unwrap().is_none());
//! ```

use bytes::{Buf, BufMut, Bytes, BytesMut};

use crate::error::{Error, Result};

/// Default maximum message size for framings that take one: 16 MiB.
pub const DEFAULT_MAX_LEN: usize = 16 * 1024 * 1024;

/// The largest header a [`LengthPrefixed`] framing may have.
pub const MAX_HEADER_LEN: usize = 64;

/// How a stream is cut into messages.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Framing {
    /// No framing: a message is whatever one read returns; sending writes the bytes as they are.
    #[default]
    Raw,
    /// A header holding the length of the body.
    LengthPrefixed(LengthPrefixed),
    /// Messages end with a delimiter (e.g. `\n` or `\r\n`).
    Delimited(Delimited),
    /// Every message has the same size.
    Fixed(usize),
}

/// A length-prefixed framing: a header of `header_len` bytes holding, at `offset`, a length field
/// of `width` bytes. The body length is the field's value plus `adjustment` (use a negative
/// adjustment for protocols whose length counts the header). Optionally the field's top bits hold
/// a flag (`length_bits` < `width * 8`), as in HP-Socket's PACK header.
///
/// Build with [`LengthPrefixed::new`] and the chained setters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LengthPrefixed {
    /// Field width in bytes: 1, 2, 4 or 8.
    pub width: u8,
    /// Byte order of the field (network order = big endian, the default).
    pub big_endian: bool,
    /// Offset of the length field inside the header.
    pub offset: usize,
    /// Total header length (at least `offset + width`, at most [`MAX_HEADER_LEN`]).
    pub header_len: usize,
    /// Added to the field's value to get the body length.
    pub adjustment: i64,
    /// Largest body accepted or sent; a larger claim is [`Error::FrameTooLarge`].
    pub max_len: usize,
    /// How many low bits of the field hold the length (the rest hold `flag`).
    pub length_bits: u8,
    /// The value of the field's high bits (above `length_bits`), written on send, checked on
    /// receive.
    pub flag: u64,
    /// Deliver (and expect on send) the header in front of the body. When set, a sent message must
    /// start with `header_len` bytes of header whose length field the encoder fills in.
    pub keep_header: bool,
}

impl LengthPrefixed {
    /// A big-endian length field of `width` bytes (1, 2, 4 or 8) at the start of the frame,
    /// counting the body only, with `max_len` [`DEFAULT_MAX_LEN`].
    pub fn new(width: u8) -> LengthPrefixed {
        LengthPrefixed {
            width,
            big_endian: true,
            offset: 0,
            header_len: width as usize,
            adjustment: 0,
            max_len: DEFAULT_MAX_LEN,
            length_bits: width.saturating_mul(8),
            flag: 0,
            keep_header: false,
        }
    }
    /// Set the byte order (true = big endian / network order).
    pub fn big_endian(mut self, big: bool) -> Self {
        self.big_endian = big;
        self
    }
    /// Little-endian field.
    pub fn little_endian(self) -> Self {
        self.big_endian(false)
    }
    /// Put the field at `offset` inside the header (the header grows to fit it).
    pub fn offset(mut self, offset: usize) -> Self {
        self.offset = offset;
        self.header_len = self.header_len.max(offset + self.width as usize);
        self
    }
    /// Set the header length (bytes after the field up to `header_len` are part of the header).
    pub fn header_len(mut self, len: usize) -> Self {
        self.header_len = len;
        self
    }
    /// Body length = field value + `adj`.
    pub fn adjustment(mut self, adj: i64) -> Self {
        self.adjustment = adj;
        self
    }
    /// Largest body accepted or sent.
    pub fn max_len(mut self, max: usize) -> Self {
        self.max_len = max;
        self
    }
    /// Use only the low `length_bits` of the field for the length; the high bits carry `flag`.
    pub fn flag_bits(mut self, length_bits: u8, flag: u64) -> Self {
        self.length_bits = length_bits;
        self.flag = flag;
        self
    }
    /// Deliver the header with each message (and expect it on send).
    pub fn keep_header(mut self, keep: bool) -> Self {
        self.keep_header = keep;
        self
    }

    fn field_bits(&self) -> u32 {
        self.width as u32 * 8
    }

    fn length_mask(&self) -> u64 {
        if self.length_bits >= 64 {
            u64::MAX
        } else {
            (1u64 << self.length_bits) - 1
        }
    }

    fn validate(&self) -> Result<()> {
        if !matches!(self.width, 1 | 2 | 4 | 8) {
            return Err(Error::invalid(format!(
                "length field width {} (must be 1, 2, 4 or 8)",
                self.width
            )));
        }
        let end = self.offset.checked_add(self.width as usize);
        if end.is_none_or(|e| e > self.header_len) {
            return Err(Error::invalid(format!(
                "header_len {} is shorter than the field at offset {} + width {}",
                self.header_len, self.offset, self.width
            )));
        }
        if self.header_len > MAX_HEADER_LEN {
            return Err(Error::invalid(format!(
                "header_len {} exceeds {MAX_HEADER_LEN}",
                self.header_len
            )));
        }
        if self.length_bits == 0 || self.length_bits as u32 > self.field_bits() {
            return Err(Error::invalid(format!(
                "length_bits {} must be 1..={}",
                self.length_bits,
                self.field_bits()
            )));
        }
        let flag_bits = self.field_bits() - self.length_bits as u32;
        if flag_bits < 64 && self.flag >> flag_bits != 0 {
            return Err(Error::invalid(format!(
                "flag {:#x} does not fit in {flag_bits} bits",
                self.flag
            )));
        }
        Ok(())
    }

    fn read_field(&self, header: &[u8]) -> u64 {
        let f = &header[self.offset..self.offset + self.width as usize];
        // The usual widths as one load each (the frame loop runs this per message).
        match (f.len(), self.big_endian) {
            (4, true) => u32::from_be_bytes([f[0], f[1], f[2], f[3]]) as u64,
            (4, false) => u32::from_le_bytes([f[0], f[1], f[2], f[3]]) as u64,
            (2, true) => u16::from_be_bytes([f[0], f[1]]) as u64,
            (2, false) => u16::from_le_bytes([f[0], f[1]]) as u64,
            (_, true) => f.iter().fold(0u64, |v, &b| (v << 8) | b as u64),
            (_, false) => f.iter().rev().fold(0u64, |v, &b| (v << 8) | b as u64),
        }
    }

    fn write_field(&self, header: &mut [u8], v: u64) {
        let w = self.width as usize;
        let f = &mut header[self.offset..self.offset + w];
        match (w, self.big_endian) {
            (4, true) => f.copy_from_slice(&(v as u32).to_be_bytes()),
            (4, false) => f.copy_from_slice(&(v as u32).to_le_bytes()),
            _ => {
                for (i, b) in f.iter_mut().enumerate() {
                    let shift = if self.big_endian {
                        (w - 1 - i) * 8
                    } else {
                        i * 8
                    };
                    *b = (v >> shift) as u8;
                }
            }
        }
    }

    /// The field value (length and flag) for a body of `body_len` bytes that passed the checks.
    fn field_value(&self, body_len: usize) -> u64 {
        let field = (body_len as i128 - self.adjustment as i128) as u64 & self.length_mask();
        field
            | if self.length_bits as u32 >= 64 {
                0
            } else {
                self.flag << self.length_bits
            }
    }

    /// The largest body the field can describe.
    fn field_capacity(&self) -> u64 {
        let max_field = self.length_mask() as i128;
        (max_field + self.adjustment as i128).clamp(0, u64::MAX as i128) as u64
    }
}

/// A delimiter framing: each message ends with `delimiter`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delimited {
    /// The delimiter bytes (not empty).
    pub delimiter: Vec<u8>,
    /// Longest message (without the delimiter); a longer one is [`Error::FrameTooLarge`] and is
    /// skipped up to its delimiter.
    pub max_len: usize,
    /// Deliver messages with their delimiter.
    pub keep_delimiter: bool,
}

impl Delimited {
    /// Messages ending with `delimiter`, up to [`DEFAULT_MAX_LEN`] bytes, delimiter stripped.
    pub fn new(delimiter: impl Into<Vec<u8>>) -> Delimited {
        Delimited {
            delimiter: delimiter.into(),
            max_len: DEFAULT_MAX_LEN,
            keep_delimiter: false,
        }
    }
    /// Longest message.
    pub fn max_len(mut self, max: usize) -> Self {
        self.max_len = max;
        self
    }
    /// Keep the delimiter on received messages.
    pub fn keep_delimiter(mut self, keep: bool) -> Self {
        self.keep_delimiter = keep;
        self
    }

    /// True when `msg` followed by the delimiter would be read back as a shorter message: the
    /// delimiter's first occurrence in `msg + delimiter` starts inside `msg`. With a delimiter
    /// whose start repeats at its end (`\n\n`, `\r\n\r\n`, `aa`), a message ending in a
    /// prefix of it (`"line\n"` before `"\n\n"`) is such a message. A message containing the
    /// whole delimiter is checked separately.
    pub fn ends_ambiguously(&self, msg: &[u8]) -> bool {
        let dl = self.delimiter.len();
        if dl < 2 {
            return false;
        }
        let tail = &msg[msg.len().saturating_sub(dl - 1)..];
        let early = |joined: &[u8]| {
            memchr::memmem::find(joined, &self.delimiter).is_some_and(|i| i < tail.len())
        };
        if dl <= MAX_AMBIGUITY_CHECK {
            // On the stack: this runs for every delimited message sent.
            let mut joined = [0u8; 2 * MAX_AMBIGUITY_CHECK];
            joined[..tail.len()].copy_from_slice(tail);
            joined[tail.len()..tail.len() + dl].copy_from_slice(&self.delimiter);
            early(&joined[..tail.len() + dl])
        } else {
            early(&[tail, &self.delimiter[..]].concat())
        }
    }
}

/// Delimiters up to this length are checked for ambiguity without allocating.
const MAX_AMBIGUITY_CHECK: usize = 32;

/// A frame's header (on the stack; no allocation per message).
#[derive(Debug, Clone, Copy)]
pub struct Header {
    bytes: [u8; MAX_HEADER_LEN],
    len: usize,
}

impl Header {
    const EMPTY: Header = Header {
        bytes: [0; MAX_HEADER_LEN],
        len: 0,
    };
    /// The header bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

/// The three pieces of an encoded frame: header, body (borrowed from the message) and trailer.
#[derive(Debug)]
pub struct Parts<'a> {
    /// Bytes before the body.
    pub header: Header,
    /// The body.
    pub body: &'a [u8],
    /// Bytes after the body (the delimiter, for delimited framing).
    pub trailer: &'a [u8],
}

impl Parts<'_> {
    /// Total encoded length.
    pub fn len(&self) -> usize {
        self.header.len + self.body.len() + self.trailer.len()
    }
    /// True when nothing is to be sent.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The largest body HP-Socket's PACK header can carry (its 22-bit length field).
pub const HP_PACK_MAX_LEN: usize = 0x3F_FFFF;

impl Framing {
    /// A big-endian 4-byte length prefix (the most common framing), max body [`DEFAULT_MAX_LEN`].
    pub fn length_prefixed() -> Framing {
        Framing::LengthPrefixed(LengthPrefixed::new(4))
    }

    /// Lines ending in `\n` (a `\r` before it is part of the line unless the delimiter is
    /// `\r\n`).
    pub fn lines() -> Framing {
        Framing::Delimited(Delimited::new(b"\n".to_vec()))
    }

    /// HP-Socket's PACK header: 4 bytes little endian, the low 22 bits the body length, the high
    /// 10 bits `flag` (checked on receive), bodies up to `max_len`. Unchecked (for constants):
    /// [`try_hp_pack`](Framing::try_hp_pack) is the checked form every door uses.
    pub fn hp_pack(flag: u64, max_len: usize) -> Framing {
        Framing::LengthPrefixed(
            LengthPrefixed::new(4)
                .little_endian()
                .flag_bits(22, flag)
                .max_len(max_len),
        )
    }

    /// [`hp_pack`](Framing::hp_pack), checked: `InvalidArgument` for a `flag` above 1023 (it has
    /// 10 bits) or a `max_len` of 0 or above [`HP_PACK_MAX_LEN`] (0x3FFFFF, what the 22-bit
    /// length holds; HP-Socket's own default).
    pub fn try_hp_pack(flag: u64, max_len: usize) -> Result<Framing> {
        if max_len == 0 || max_len > HP_PACK_MAX_LEN {
            return Err(Error::invalid(format!(
                "HP-Socket max_len {max_len} must be 1..={HP_PACK_MAX_LEN} (a 22-bit length)"
            )));
        }
        let f = Framing::hp_pack(flag, max_len);
        f.validate()?;
        Ok(f)
    }

    /// The fast-path form of a bare length header (see [`PlainPrefix`]), if this is one.
    pub(crate) fn plain_prefix(&self) -> Option<PlainPrefix> {
        match self {
            Framing::LengthPrefixed(lp)
                if matches!(lp.width, 1 | 2 | 4 | 8)
                    && lp.offset == 0
                    && lp.header_len == lp.width as usize
                    && lp.adjustment == 0
                    && lp.length_bits as u32 == lp.field_bits()
                    && !lp.keep_header =>
            {
                Some(PlainPrefix {
                    width: lp.width as usize,
                    big_endian: lp.big_endian,
                    max_len: lp.max_len as u64,
                    cap: lp.length_mask().min(lp.max_len as u64),
                })
            }
            _ => None,
        }
    }

    /// Check that the parameters make sense.
    pub fn validate(&self) -> Result<()> {
        match self {
            Framing::Raw => Ok(()),
            Framing::LengthPrefixed(lp) => lp.validate(),
            Framing::Delimited(d) => {
                if d.delimiter.is_empty() {
                    Err(Error::invalid("empty delimiter"))
                } else {
                    Ok(())
                }
            }
            Framing::Fixed(0) => Err(Error::invalid("fixed frame size 0")),
            Framing::Fixed(_) => Ok(()),
        }
    }

    /// The largest message this framing accepts, if it has a limit.
    pub fn max_len(&self) -> Option<usize> {
        match self {
            Framing::Raw => None,
            Framing::LengthPrefixed(lp) => Some(lp.max_len),
            Framing::Delimited(d) => Some(d.max_len),
            Framing::Fixed(n) => Some(*n),
        }
    }

    /// Split `msg` into header, body and trailer for sending (vectored, without copying the body).
    ///
    /// Errors: a body over `max_len` or over what the length field can hold is
    /// [`Error::FrameTooLarge`]; a delimited message containing its delimiter, or a fixed message
    /// of the wrong size, is [`Error::InvalidArgument`].
    pub fn encode_parts<'a>(&'a self, msg: &'a [u8]) -> Result<Parts<'a>> {
        self.check_msg(msg)?;
        Ok(self.parts_unchecked(msg))
    }

    /// The checks of [`encode_parts`](Framing::encode_parts), without building anything: `Ok`
    /// when `msg` can be sent with this framing.
    pub fn check_msg(&self, msg: &[u8]) -> Result<()> {
        match self {
            Framing::Raw => Ok(()),
            Framing::Fixed(n) => {
                if msg.len() != *n {
                    return Err(Error::invalid(format!(
                        "message of {} bytes for fixed framing of {n} bytes",
                        msg.len()
                    )));
                }
                Ok(())
            }
            Framing::Delimited(d) => {
                if msg.len() > d.max_len {
                    return Err(Error::FrameTooLarge {
                        len: msg.len() as u64,
                        max: d.max_len as u64,
                    });
                }
                if memchr::memmem::find(msg, &d.delimiter).is_some() {
                    return Err(Error::invalid(
                        "message contains the delimiter; it would arrive as two messages",
                    ));
                }
                if d.ends_ambiguously(msg) {
                    return Err(Error::invalid(format!(
                        "message ends with bytes that, followed by the delimiter {:?}, read as \
                         the delimiter one byte early; it would arrive changed",
                        String::from_utf8_lossy(&d.delimiter)
                    )));
                }
                Ok(())
            }
            Framing::LengthPrefixed(lp) => {
                if lp.keep_header && msg.len() < lp.header_len {
                    return Err(Error::invalid(format!(
                        "message of {} bytes is shorter than its {}-byte header",
                        msg.len(),
                        lp.header_len
                    )));
                }
                let body = if lp.keep_header {
                    msg.len() - lp.header_len
                } else {
                    msg.len()
                };
                let len = body as u64;
                let cap = lp.field_capacity().min(lp.max_len as u64);
                if len > cap {
                    return Err(Error::FrameTooLarge { len, max: cap });
                }
                let field = len as i128 - lp.adjustment as i128;
                if field < 0 || field as u64 > lp.length_mask() {
                    return Err(Error::FrameTooLarge { len, max: cap });
                }
                Ok(())
            }
        }
    }

    /// [`encode_parts`](Framing::encode_parts) for a message that passed
    /// [`check_msg`](Framing::check_msg) (an unchecked message gives a wrong header, never
    /// undefined behaviour).
    pub(crate) fn parts_unchecked<'a>(&'a self, msg: &'a [u8]) -> Parts<'a> {
        match self {
            Framing::Raw | Framing::Fixed(_) => Parts {
                header: Header::EMPTY,
                body: msg,
                trailer: &[],
            },
            Framing::Delimited(d) => Parts {
                header: Header::EMPTY,
                body: msg,
                trailer: &d.delimiter,
            },
            Framing::LengthPrefixed(lp) => {
                let mut header = Header::EMPTY;
                header.len = lp.header_len;
                let body = if lp.keep_header {
                    let h = lp.header_len.min(msg.len());
                    header.bytes[..h].copy_from_slice(&msg[..h]);
                    &msg[h..]
                } else {
                    msg
                };
                lp.write_field(
                    &mut header.bytes[..lp.header_len],
                    lp.field_value(body.len()),
                );
                Parts {
                    header,
                    body,
                    trailer: &[],
                }
            }
        }
    }

    /// Append the frame of a message that passed [`check_msg`](Framing::check_msg) to `out`
    /// (header written in place: no [`Parts`] built).
    pub(crate) fn encode_unchecked_into(&self, msg: &[u8], out: &mut Vec<u8>) {
        match self {
            Framing::Raw | Framing::Fixed(_) => out.extend_from_slice(msg),
            Framing::Delimited(d) => {
                out.extend_from_slice(msg);
                out.extend_from_slice(&d.delimiter);
            }
            Framing::LengthPrefixed(lp)
                if lp.offset == 0 && lp.width == 4 && lp.header_len == 4 && !lp.keep_header =>
            {
                // The usual 4-byte header: written as one value.
                let v = lp.field_value(msg.len()) as u32;
                out.extend_from_slice(&if lp.big_endian {
                    v.to_be_bytes()
                } else {
                    v.to_le_bytes()
                });
                out.extend_from_slice(msg);
            }
            Framing::LengthPrefixed(lp) => {
                let start = out.len();
                let hl = lp.header_len;
                let body_len = if lp.keep_header && msg.len() >= hl {
                    out.extend_from_slice(msg);
                    msg.len() - hl
                } else {
                    out.resize(start + hl, 0);
                    out.extend_from_slice(msg);
                    msg.len()
                };
                lp.write_field(&mut out[start..start + hl], lp.field_value(body_len));
            }
        }
    }

    /// Append the encoded frame for `msg` to `out`.
    pub fn encode(&self, msg: &[u8], out: &mut BytesMut) -> Result<()> {
        let p = self.encode_parts(msg)?;
        out.reserve(p.len());
        out.put_slice(p.header.as_bytes());
        out.put_slice(p.body);
        out.put_slice(p.trailer);
        Ok(())
    }
}

/// Cuts messages out of a buffer that grows as bytes arrive.
///
/// Call [`decode`](Decoder::decode) after each read; it removes one message (or the bytes it had to
/// skip) from the front of the buffer. State is kept between calls, so input may be split
/// anywhere. A too-large frame is reported once as [`Error::FrameTooLarge`]; its bytes are then
/// skipped as they arrive (never buffered), and decoding resumes with the next frame.
#[derive(Debug, Clone)]
pub struct Decoder {
    framing: Framing,
    /// Delimited: bytes of the buffer already searched for the delimiter.
    scanned: usize,
    /// Delimited: skipping an oversized line until its delimiter.
    discarding: bool,
    /// Length-prefixed: bytes of an oversized frame still to skip.
    skip: u64,
    /// A bare length header, for the fast path.
    fast: Option<PlainPrefix>,
}

/// The most common framings, a bare length header of 1, 2, 4 or 8 bytes at the start of the
/// frame that counts the body (no offset, adjustment, flag or kept header), decoded and encoded
/// by a short path that runs once per message: by the blocking [`Connection`](crate::Connection)
/// and the engine alike.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PlainPrefix {
    width: usize,
    big_endian: bool,
    /// Largest body accepted (the framing's `max_len`).
    max_len: u64,
    /// Largest body sent (`max_len`, or less if the field cannot hold it).
    cap: u64,
}

impl PlainPrefix {
    /// The length of the frame at the front of `buf`, if its header is there.
    #[inline(always)]
    fn read(&self, buf: &[u8]) -> Option<u64> {
        if self.width == 4 {
            // The usual 4-byte header as one load (this runs per message received).
            let h: [u8; 4] = buf.get(..4)?.try_into().ok()?;
            return Some(if self.big_endian {
                u32::from_be_bytes(h)
            } else {
                u32::from_le_bytes(h)
            } as u64);
        }
        self.read_any(buf)
    }

    /// The whole frame at the front of `buf`: `(start, end)` of its body, `end` being the bytes
    /// it uses. `None` when the frame is not all there, or claims more than `max_len` (which
    /// [`Decoder::cut`] then reports and skips).
    #[inline(always)]
    pub(crate) fn frame(&self, buf: &[u8]) -> Option<(usize, usize)> {
        let len = self.read(buf)?;
        if len > self.max_len {
            return None;
        }
        let end = (len as usize).checked_add(self.width)?;
        (buf.len() >= end).then_some((self.width, end))
    }

    /// Cut the whole frames at the front of `buf` into `cuts` (body `(start, end)` positions
    /// in `buf`), at most `cuts.len()`, while the bodies' total is below `max_bytes` (the
    /// frame that reaches it is the last), stopping before a frame that is not all there or
    /// is too large (the caller's general path deals with what it stopped at). Returns how
    /// many were cut, the bytes they use, and their bodies' total. One loop per header width
    /// and byte order, so each frame costs a load, a compare and a store (the engine cuts
    /// every received message here).
    #[inline]
    pub(crate) fn cut_run(
        &self,
        buf: &[u8],
        cuts: &mut [(usize, usize)],
        max_bytes: usize,
    ) -> (usize, usize, usize) {
        match (self.width, self.big_endian) {
            (4, true) => self.cut_run_with(buf, cuts, max_bytes, 4, |h| {
                u32::from_be_bytes([h[0], h[1], h[2], h[3]]) as u64
            }),
            (4, false) => self.cut_run_with(buf, cuts, max_bytes, 4, |h| {
                u32::from_le_bytes([h[0], h[1], h[2], h[3]]) as u64
            }),
            (w, _) => self.cut_run_with(buf, cuts, max_bytes, w, |h| {
                self.read_any(h).unwrap_or(u64::MAX)
            }),
        }
    }

    #[inline(always)]
    fn cut_run_with(
        &self,
        buf: &[u8],
        cuts: &mut [(usize, usize)],
        max_bytes: usize,
        w: usize,
        read: impl Fn(&[u8]) -> u64,
    ) -> (usize, usize, usize) {
        let (mut n, mut off, mut bytes) = (0, 0, 0);
        for c in cuts.iter_mut() {
            if bytes >= max_bytes {
                break;
            }
            let Some(h) = buf.get(off..off + w) else {
                break;
            };
            let len = read(h);
            if len > self.max_len {
                break;
            }
            let len = len as usize;
            // `len` <= max_len, which fits memory: no overflow below.
            if buf.len() - off - w < len {
                break;
            }
            *c = (off + w, off + w + len);
            off += w + len;
            bytes += len;
            n += 1;
        }
        (n, off, bytes)
    }

    /// [`read`](PlainPrefix::read) for the other widths (out of line: the 4-byte path stays
    /// short).
    #[inline(never)]
    fn read_any(&self, buf: &[u8]) -> Option<u64> {
        let f = buf.get(..self.width)?;
        Some(if self.big_endian {
            f.iter().fold(0u64, |v, &b| (v << 8) | b as u64)
        } else {
            f.iter().rev().fold(0u64, |v, &b| (v << 8) | b as u64)
        })
    }

    /// The header for a body of `len` bytes in `hdr`; its length. `FrameTooLarge` when the
    /// body is over `max_len` or the field.
    #[inline]
    pub(crate) fn header(&self, len: usize, hdr: &mut [u8; 8]) -> Result<usize> {
        let v = len as u64;
        if v > self.cap {
            return Err(Error::FrameTooLarge {
                len: v,
                max: self.cap,
            });
        }
        let w = self.width;
        match (w, self.big_endian) {
            (4, true) => hdr[..4].copy_from_slice(&(v as u32).to_be_bytes()),
            (4, false) => hdr[..4].copy_from_slice(&(v as u32).to_le_bytes()),
            _ => {
                for (i, b) in hdr[..w].iter_mut().enumerate() {
                    let shift = if self.big_endian {
                        (w - 1 - i) * 8
                    } else {
                        i * 8
                    };
                    *b = (v >> shift) as u8;
                }
            }
        }
        Ok(w)
    }

    /// Append the frame of `msg` to `out`; `false` (nothing appended) when `msg` is too large
    /// (the caller gets the error from [`Framing::check_msg`]).
    #[inline(always)]
    pub(crate) fn encode_into(&self, msg: &[u8], out: &mut Vec<u8>) -> bool {
        let n = msg.len() as u64;
        if n > self.cap {
            return false;
        }
        // The usual 4-byte header as one value (this runs per message sent).
        match (self.width, self.big_endian) {
            (4, true) => out.extend_from_slice(&(n as u32).to_be_bytes()),
            (4, false) => out.extend_from_slice(&(n as u32).to_le_bytes()),
            _ => self.put_header(n, out),
        }
        out.extend_from_slice(msg);
        true
    }

    /// The header's length in bytes.
    #[inline]
    pub(crate) fn width(&self) -> usize {
        self.width
    }

    /// True when a body of `len` bytes can be sent (within `max_len` and the field).
    #[inline]
    pub(crate) fn fits(&self, len: usize) -> bool {
        len as u64 <= self.cap
    }

    /// Append the frames of `msgs` to `out` (the batch send: reserve room for them all first,
    /// else `out` grows as it goes). The first message over `cap` stops it and is returned, with
    /// the frames before it appended; the caller gets the error from [`Framing::check_msg`].
    #[inline]
    pub(crate) fn encode_all<'m>(
        &self,
        mut msgs: impl Iterator<Item = &'m [u8]>,
        out: &mut Vec<u8>,
    ) -> std::result::Result<(), &'m [u8]> {
        match self.encode_run(&mut msgs, out, usize::MAX, usize::MAX) {
            Run::TooLarge(m) => Err(m),
            _ => Ok(()),
        }
    }

    /// Append the frames of messages taken from `msgs` to `out` until they run out
    /// ([`Run::Done`]), `out` holds `stop` bytes or more ([`Run::Full`]), a body over
    /// `copy_max` comes ([`Run::Big`]: not appended, for the caller to send from where it is)
    /// or one over `cap` ([`Run::TooLarge`]: not appended).
    #[inline]
    pub(crate) fn encode_run<'m>(
        &self,
        msgs: &mut impl Iterator<Item = &'m [u8]>,
        out: &mut Vec<u8>,
        stop: usize,
        copy_max: usize,
    ) -> Run<'m> {
        if self.width != 4 {
            for m in msgs {
                if m.len() > copy_max {
                    return Run::Big(m);
                }
                if !self.encode_into(m, out) {
                    return Run::TooLarge(m);
                }
                if out.len() >= stop {
                    return Run::Full;
                }
            }
            return Run::Done;
        }
        // The usual 4-byte header: each frame written with two copies at a position kept in a
        // register (a `Vec` push per piece re-reads and re-writes the length through memory).
        let mut at = out.len();
        let run = loop {
            let Some(m) = msgs.next() else {
                break Run::Done;
            };
            let n = m.len();
            if n > copy_max {
                break Run::Big(m);
            }
            if n as u64 > self.cap {
                break Run::TooLarge(m);
            }
            // A slice holds at most isize::MAX bytes: 4 + n cannot overflow.
            if out.capacity() - at < 4 + n {
                // SAFETY: the first `at` bytes were written below.
                unsafe { out.set_len(at) };
                out.reserve(4 + n);
            }
            let h = if self.big_endian {
                (n as u32).to_be_bytes()
            } else {
                (n as u32).to_le_bytes()
            };
            // SAFETY: the buffer has room for 4 + n bytes at `at` (checked above); `m` is a
            // shared borrow, so it cannot overlap `out`, which is borrowed mutably.
            unsafe {
                let p = out.as_mut_ptr().add(at);
                std::ptr::copy_nonoverlapping(h.as_ptr(), p, 4);
                std::ptr::copy_nonoverlapping(m.as_ptr(), p.add(4), n);
            }
            at += 4 + n;
            if at >= stop {
                break Run::Full;
            }
        };
        // SAFETY: every byte up to `at` was written.
        unsafe { out.set_len(at) };
        run
    }

    /// Append the header of a body of `n` bytes (at most `cap`) of any width.
    #[inline(never)]
    fn put_header(&self, n: u64, out: &mut Vec<u8>) {
        let mut hdr = [0u8; 8];
        if let Ok(w) = self.header(n as usize, &mut hdr) {
            out.extend_from_slice(&hdr[..w]);
        }
    }
}

/// Why [`PlainPrefix::encode_run`] stopped.
pub(crate) enum Run<'m> {
    /// The messages ran out.
    Done,
    /// The output reached the size asked for.
    Full,
    /// This body is over the copy limit (not appended).
    Big(&'m [u8]),
    /// This body is over the framing's limit (not appended).
    TooLarge(&'m [u8]),
}

/// What [`Decoder::cut`] found at the front of a buffer.
#[derive(Debug)]
pub struct Cut {
    /// Bytes at the front of the buffer that are used up (a whole frame, or bytes skipped); the
    /// caller drops them before the next call, also after an error.
    pub consumed: usize,
    /// The message's range in the buffer (`Some((start, end))`), `None` when no whole message is
    /// there yet, or the error (an oversized frame, whose bytes are skipped, or a bad header, which
    /// stays at the front and breaks the stream).
    pub msg: Result<Option<(usize, usize)>>,
}

impl Cut {
    fn new(consumed: usize, msg: Option<(usize, usize)>) -> Cut {
        Cut {
            consumed,
            msg: Ok(msg),
        }
    }
    fn err(consumed: usize, e: Error) -> Cut {
        Cut {
            consumed,
            msg: Err(e),
        }
    }
}

impl Decoder {
    /// A decoder for `framing` (call [`Framing::validate`] first for user-supplied values).
    pub fn new(framing: Framing) -> Decoder {
        Decoder {
            fast: framing.plain_prefix(),
            framing,
            scanned: 0,
            discarding: false,
            skip: 0,
        }
    }

    /// The framing in use.
    pub fn framing(&self) -> &Framing {
        &self.framing
    }

    /// Take the next message from the front of `buf`, if a whole one is there.
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Bytes>> {
        let cut = self.cut(buf);
        match cut.msg {
            Ok(Some((start, end))) => {
                buf.advance(start);
                let msg = buf.split_to(end - start).freeze();
                buf.advance(cut.consumed - end);
                Ok(Some(msg))
            }
            other => {
                buf.advance(cut.consumed);
                other.map(|_| None)
            }
        }
    }

    /// Find the next message at the front of `buf` without touching the buffer: the message's
    /// range (if a whole one is there) or the error, and how many bytes at the front are used up
    /// (the frame with its header and delimiter, or bytes skipped). The caller must drop exactly
    /// `consumed` bytes from the front before the next call, which continues from the state this
    /// one left. [`decode`](Decoder::decode) is this plus the buffer bookkeeping; readers that copy
    /// messages out use it to avoid making a `Bytes` per message.
    ///
    /// ```
    /// use libsock::{Decoder, Framing};
    ///
    /// let mut dec = Decoder::new(Framing::length_prefixed());
    /// let wire = b"\0\0\0\x02hi\0\0\0\x05wor";
    /// let cut = dec.cut(wire);
    /// assert_eq!(cut.msg.unwrap(), Some((4, 6)));
    /// assert_eq!(&wire[4..6], b"hi");
    /// assert_eq!(cut.consumed, 6);
    /// // Drop the used bytes; the next frame is not complete yet.
    /// let rest = &wire[cut.consumed..];
    /// let cut = dec.cut(rest);
    /// assert_eq!(cut.msg.unwrap(), None);
    /// assert_eq!(cut.consumed, 0);
    /// ```
    #[inline]
    pub fn cut(&mut self, buf: &[u8]) -> Cut {
        if let Some((start, end)) = self.cut_plain(buf) {
            return Cut::new(end, Some((start, end)));
        }
        self.cut_general(buf)
    }

    /// The short path of [`cut`](Decoder::cut) for a bare length header: when a whole frame
    /// of at most `max_len` is at the front of `buf`, the message's range `(start, end)` (and
    /// `end` bytes are used up). `None` for anything else, which [`cut`](Decoder::cut) then
    /// handles.
    #[inline]
    pub(crate) fn cut_plain(&self, buf: &[u8]) -> Option<(usize, usize)> {
        self.plain()?.frame(buf)
    }

    /// The short path's framing when it applies now (a bare length header, not skipping an
    /// oversized frame): a batch receive copies it out once and cuts frame after frame with
    /// [`PlainPrefix::frame`], without going through [`cut`](Decoder::cut) per message.
    #[inline]
    pub(crate) fn plain(&self) -> Option<PlainPrefix> {
        self.fast.filter(|_| self.skip == 0)
    }

    fn cut_general(&mut self, buf: &[u8]) -> Cut {
        match &self.framing {
            Framing::Raw if buf.is_empty() => Cut::new(0, None),
            Framing::Raw => Cut::new(buf.len(), Some((0, buf.len()))),
            Framing::Fixed(n) if buf.len() < *n => Cut::new(0, None),
            Framing::Fixed(n) => Cut::new(*n, Some((0, *n))),
            Framing::Delimited(d) => {
                let (dl, max, keep) = (d.delimiter.len(), d.max_len, d.keep_delimiter);
                // Bytes dropped so far (a skipped oversized line) in this call.
                let mut base = 0;
                loop {
                    let rest = &buf[base..];
                    let from = self.scanned.saturating_sub(dl - 1);
                    let found = memchr::memmem::find(&rest[from..], &d.delimiter).map(|i| i + from);
                    match found {
                        Some(i) if self.discarding => {
                            base += i + dl;
                            self.discarding = false;
                            self.scanned = 0;
                            continue;
                        }
                        Some(i) if i > max => {
                            self.scanned = 0;
                            return Cut::err(
                                base + i + dl,
                                Error::FrameTooLarge {
                                    len: i as u64,
                                    max: max as u64,
                                },
                            );
                        }
                        Some(i) => {
                            self.scanned = 0;
                            let end = if keep { i + dl } else { i };
                            return Cut::new(base + i + dl, Some((base, base + end)));
                        }
                        None => {
                            let keep_tail = rest.len().min(dl - 1);
                            if self.discarding {
                                self.scanned = keep_tail;
                                return Cut::new(base + rest.len() - keep_tail, None);
                            }
                            // The shortest the line can still be, if a delimiter starts in the
                            // tail we keep.
                            let least = rest.len() - keep_tail;
                            if least > max {
                                self.scanned = keep_tail;
                                self.discarding = true;
                                return Cut::err(
                                    base + least,
                                    Error::FrameTooLarge {
                                        len: least as u64,
                                        max: max as u64,
                                    },
                                );
                            }
                            self.scanned = rest.len();
                            return Cut::new(base, None);
                        }
                    }
                }
            }
            Framing::LengthPrefixed(lp) => {
                let mut base = 0;
                if self.skip > 0 {
                    let n = (buf.len() as u64).min(self.skip) as usize;
                    base = n;
                    self.skip -= n as u64;
                    if self.skip > 0 {
                        return Cut::new(base, None);
                    }
                }
                let rest = &buf[base..];
                if rest.len() < lp.header_len {
                    return Cut::new(base, None);
                }
                let raw = lp.read_field(rest);
                let value = raw & lp.length_mask();
                if (lp.length_bits as u32) < lp.field_bits() {
                    let flag = raw >> lp.length_bits;
                    if flag != lp.flag {
                        return Cut::err(
                            base,
                            Error::BadFrame(format!(
                                "header flag {flag:#x} where {:#x} was expected",
                                lp.flag
                            )),
                        );
                    }
                }
                let body = if lp.adjustment == 0 {
                    value
                } else {
                    let body = value as i128 + lp.adjustment as i128;
                    if body < 0 {
                        return Cut::err(
                            base,
                            Error::BadFrame(format!(
                                "length field {value} with adjustment {} gives a negative length",
                                lp.adjustment
                            )),
                        );
                    }
                    body.min(u64::MAX as i128) as u64
                };
                if body > lp.max_len as u64 {
                    return Decoder::too_large(&mut self.skip, rest.len(), base, body, lp);
                }
                // body <= max_len <= usize::MAX, but header_len + body may still overflow.
                let Some(total) = (body as usize).checked_add(lp.header_len) else {
                    return Decoder::too_large(&mut self.skip, rest.len(), base, body, lp);
                };
                if rest.len() < total {
                    return Cut::new(base, None);
                }
                let start = if lp.keep_header { 0 } else { lp.header_len };
                Cut::new(base + total, Some((base + start, base + total)))
            }
        }
    }

    /// An oversized frame at `base` (with `avail` bytes from its header on in the buffer):
    /// reported once, its body skipped as it arrives.
    fn too_large(skip: &mut u64, avail: usize, base: usize, body: u64, lp: &LengthPrefixed) -> Cut {
        let after = avail - lp.header_len;
        let n = (after as u64).min(body) as usize;
        *skip = body - n as u64;
        Cut::err(
            base + lp.header_len + n,
            Error::FrameTooLarge {
                len: body,
                // A frame within max_len whose header and body overflow the address space
                // reports the largest size this machine can hold.
                max: (lp.max_len as u64).min(usize::MAX as u64 - lp.header_len as u64),
            },
        )
    }

    /// How many more bytes are needed, at least, before [`decode`](Decoder::decode) can return a
    /// message (0 when unknown). Lets a reader size its next read.
    pub fn needed(&self, buf: &BytesMut) -> usize {
        match &self.framing {
            Framing::Raw => usize::from(buf.is_empty()),
            Framing::Fixed(n) => n.saturating_sub(buf.len()),
            Framing::Delimited(_) => 1,
            Framing::LengthPrefixed(lp) => {
                if self.skip > 0 {
                    return (self.skip.min(1 << 20) as usize)
                        .saturating_sub(buf.len())
                        .max(1);
                }
                if buf.len() < lp.header_len {
                    return lp.header_len - buf.len();
                }
                let value = lp.read_field(&buf[..lp.header_len]) & lp.length_mask();
                let body = (value as i128 + lp.adjustment as i128).clamp(0, lp.max_len as i128);
                (body as usize)
                    .saturating_add(lp.header_len)
                    .saturating_sub(buf.len())
            }
        }
    }

    /// Forget any partial state (after the buffer was cleared).
    pub fn reset(&mut self) {
        self.scanned = 0;
        self.discarding = false;
        self.skip = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `cut_run` cuts what `frame` cuts one at a time, for every plain header width and byte
    /// order, and stops where it must: the room in `cuts`, the byte budget (the frame that
    /// reaches it is the last), a partial frame, a frame over `max_len`.
    #[test]
    fn cut_run_cuts_what_frame_cuts_and_stops_where_it_must() {
        for width in [1u8, 2, 4, 8] {
            for big in [true, false] {
                let mut lp = LengthPrefixed::new(width).max_len(200);
                if !big {
                    lp = lp.little_endian();
                }
                let framing = Framing::LengthPrefixed(lp);
                let f = framing.plain_prefix().unwrap();
                let mut wire = BytesMut::new();
                let bodies: Vec<Vec<u8>> = (0..10u8).map(|i| vec![i; 10 + i as usize]).collect();
                for b in &bodies {
                    framing.encode(b, &mut wire).unwrap();
                }
                let whole = wire.len();
                // A partial frame at the end, then (after it) nothing.
                framing.encode(&[7u8; 50], &mut wire).unwrap();
                let wire = &wire[..whole + 3];
                let mut one = Vec::new();
                let mut off = 0;
                while let Some((s, e)) = f.frame(&wire[off..]) {
                    one.push((off + s, off + e));
                    off += e;
                }
                assert_eq!(one.len(), 10, "width {width} big {big}");
                let mut cuts = [(0, 0); 16];
                let (n, used, bytes) = f.cut_run(wire, &mut cuts, usize::MAX);
                assert_eq!((n, used), (10, whole), "width {width} big {big}");
                assert_eq!(&cuts[..n], &one[..]);
                assert_eq!(bytes, bodies.iter().map(Vec::len).sum::<usize>());
                for (k, &(s, e)) in cuts[..n].iter().enumerate() {
                    assert_eq!(&wire[s..e], &bodies[k][..]);
                }
                // Room for 4: four cut.
                let (n, used, _) = f.cut_run(wire, &mut cuts[..4], usize::MAX);
                assert_eq!((n, used), (4, one[3].1));
                // A budget of 11 bytes: the first body (10) is below it, the second reaches it.
                let (n, _, bytes) = f.cut_run(wire, &mut cuts, 11);
                assert_eq!((n, bytes), (2, 21));
                // A budget of 0: nothing.
                assert_eq!(f.cut_run(wire, &mut cuts, 0), (0, 0, 0));
            }
        }
        // A header claiming more than max_len stops the run before that frame.
        let framing = Framing::LengthPrefixed(LengthPrefixed::new(4).max_len(100));
        let f = framing.plain_prefix().unwrap();
        let mut wire = BytesMut::new();
        framing.encode(b"ok", &mut wire).unwrap();
        wire.extend_from_slice(&1000u32.to_be_bytes());
        wire.extend_from_slice(&[0u8; 1000]);
        let mut cuts = [(0, 0); 4];
        assert_eq!(f.cut_run(&wire, &mut cuts, usize::MAX), (1, 6, 2));
    }

    fn decode_all(f: &Framing, wire: &[u8], chunk: usize) -> Vec<Result<Vec<u8>>> {
        let mut dec = Decoder::new(f.clone());
        let mut buf = BytesMut::new();
        let mut out = Vec::new();
        for c in wire.chunks(chunk.max(1)) {
            buf.extend_from_slice(c);
            loop {
                match dec.decode(&mut buf) {
                    Ok(Some(m)) => out.push(Ok(m.to_vec())),
                    Ok(None) => break,
                    Err(e) => {
                        // Only an oversized frame can be skipped; anything else breaks the stream.
                        let fatal = !matches!(e, Error::FrameTooLarge { .. });
                        out.push(Err(e));
                        if fatal {
                            return out;
                        }
                    }
                }
            }
        }
        out
    }

    #[test]
    fn hp_pack_matches_hand_built_bytes() {
        let f = Framing::hp_pack(0x2A5, 4096);
        let mut wire = BytesMut::new();
        f.encode(b"abc", &mut wire).unwrap();
        // (0x2A5 << 22) | 3, little endian
        let v: u32 = (0x2A5 << 22) | 3;
        let mut expect = v.to_le_bytes().to_vec();
        expect.extend_from_slice(b"abc");
        assert_eq!(&wire[..], &expect[..]);
        let got = decode_all(&f, &expect, 1);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].as_ref().unwrap(), b"abc");
        // A wrong flag is a bad frame.
        let wrong = decode_all(&Framing::hp_pack(1, 4096), &expect, 100);
        assert!(matches!(wrong[0], Err(Error::BadFrame(_))));
    }

    #[test]
    fn oversized_claim_errors_without_allocating_and_resyncs() {
        let f = Framing::LengthPrefixed(LengthPrefixed::new(4).max_len(100));
        let mut wire = vec![0, 0, 1, 0]; // claims 256
        wire.extend(std::iter::repeat_n(7u8, 256));
        wire.extend_from_slice(&[0, 0, 0, 2, b'o', b'k']);
        let got = decode_all(&f, &wire, 3);
        assert!(matches!(
            got[0],
            Err(Error::FrameTooLarge { len: 256, max: 100 })
        ));
        assert_eq!(got[1].as_ref().unwrap(), b"ok");
        assert_eq!(got.len(), 2);

        let mut dec = Decoder::new(f);
        let mut buf = BytesMut::from(&[0xFFu8, 0xFF, 0xFF, 0xFF][..]);
        let e = dec.decode(&mut buf).unwrap_err();
        assert!(matches!(
            e,
            Error::FrameTooLarge {
                len: 0xFFFF_FFFF,
                ..
            }
        ));
        assert!(buf.capacity() < 1024);
    }

    #[test]
    fn length_counting_header_with_offset() {
        // 2 bytes of type, 2-byte LE length counting the whole frame (header 6 bytes).
        let f = Framing::LengthPrefixed(
            LengthPrefixed::new(2)
                .little_endian()
                .offset(2)
                .header_len(6)
                .adjustment(-6)
                .keep_header(true),
        );
        let mut wire = BytesMut::new();
        f.encode(b"TY\0\0ZZbody", &mut wire).unwrap();
        assert_eq!(&wire[..], b"TY\x0a\x00ZZbody");
        let got = decode_all(&f, &wire, 1);
        assert_eq!(got[0].as_ref().unwrap(), b"TY\x0a\x00ZZbody");
    }

    #[test]
    fn encode_rejects_what_does_not_fit() {
        let f = Framing::LengthPrefixed(LengthPrefixed::new(1));
        assert!(matches!(
            f.encode_parts(&[0; 256]).unwrap_err(),
            Error::FrameTooLarge { len: 256, max: 255 }
        ));
        assert!(f.encode_parts(&[0; 255]).is_ok());
        let d = Framing::Delimited(Delimited::new(b"\r\n".to_vec()));
        assert_eq!(
            d.encode_parts(b"a\r\nb").unwrap_err().kind(),
            crate::ErrorKind::InvalidArgument
        );
        assert!(Framing::Fixed(4).encode_parts(b"abc").is_err());
        assert!(Framing::Fixed(0).validate().is_err());
        assert!(Framing::LengthPrefixed(LengthPrefixed::new(3))
            .validate()
            .is_err());
    }

    /// Every string over {a, b} up to length 2..=3 as delimiter, every message up to length 5:
    /// a message is accepted for sending exactly when it decodes back unchanged, alone and
    /// followed by another message.
    #[test]
    fn delimited_accepts_exactly_what_decodes_back() {
        fn words(max: usize) -> Vec<Vec<u8>> {
            let mut all = vec![Vec::new()];
            let mut last = vec![Vec::new()];
            for _ in 0..max {
                last = last
                    .iter()
                    .flat_map(|w: &Vec<u8>| {
                        [b'a', b'b'].map(|c| {
                            let mut w = w.clone();
                            w.push(c);
                            w
                        })
                    })
                    .collect();
                all.extend(last.iter().cloned());
            }
            all
        }
        for delim in words(3).into_iter().filter(|d| d.len() >= 2) {
            let f = Framing::Delimited(Delimited::new(delim.clone()));
            for msg in words(5) {
                let mut wire = msg.clone();
                wire.extend_from_slice(&delim);
                wire.extend_from_slice(b"z");
                wire.extend_from_slice(&delim);
                let got = decode_all(&f, &wire, wire.len());
                let round_trips = got.len() == 2
                    && got[0].as_ref().is_ok_and(|m| *m == msg)
                    && got[1].as_ref().is_ok_and(|m| m == b"z");
                assert_eq!(
                    f.check_msg(&msg).is_ok(),
                    round_trips,
                    "delimiter {delim:?}, message {msg:?}: {got:?}"
                );
            }
        }
    }

    #[test]
    fn long_line_errors_then_lines_continue() {
        let f = Framing::Delimited(Delimited::new(b"\r\n".to_vec()).max_len(5));
        let wire = b"one\r\n0123456789abcdef\r\ntwo\r\n\r\n";
        for chunk in [1, 2, 3, 7, 100] {
            let got = decode_all(&f, wire, chunk);
            assert_eq!(got[0].as_ref().unwrap(), b"one", "chunk {chunk}");
            assert!(
                matches!(got[1], Err(Error::FrameTooLarge { .. })),
                "chunk {chunk}"
            );
            assert_eq!(got[2].as_ref().unwrap(), b"two", "chunk {chunk}");
            assert_eq!(got[3].as_ref().unwrap(), b"", "chunk {chunk}");
            assert_eq!(got.len(), 4, "chunk {chunk}");
        }
    }
}
