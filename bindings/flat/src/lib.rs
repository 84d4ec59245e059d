//! What libsock's flat doors share: the doors whose arguments are plain integers, byte buffers
//! and handles (the C ABI in `bindings/c`, and through it Pascal and MATLAB; the JNI glue in
//! `bindings/jni`). Each door converts its own integer types (C's `size_t`, Java's `long`) and
//! reports errors its own way; what the numbers *mean* is decided here once, so the doors agree:
//!
//! - **Millisecond timeouts** ([`timeout`], [`timeout_setting`], [`engine_timeout`],
//!   [`timeout_ms`], [`grace`]): `-2` ([`TIMEOUT_DEFAULT`]) the handle's default, `-1`
//!   ([`TIMEOUT_FOREVER`]) forever, `0` ([`TIMEOUT_POLL`]) poll, `N` milliseconds; durations
//!   the engine reports (a reconnect delay) as milliseconds ([`duration_ms`]).
//! - **Framings from integers** ([`length_prefixed`], [`delimited`], [`fixed`], [`hp_pack`]):
//!   the values go to core's framing builders and core's check, with core's messages; what
//!   core's types cannot hold (a width or a bit count that is no `u8`, a negative size) is
//!   refused here in core's words, and HP-Socket's flag outside 0..1023 before it is cut to
//!   a `u16`. Each door keeps its own defaults for absent values (C reads a `max_len` of 0 as
//!   16 MiB; Java passes every value).
//!
//! - **Handles** ([`registry::Registry`]): objects behind positive `i64` handles, counted up
//!   and never reused, with one set of rules: the C door's and the JNI glue's objects live in
//!   one each.
//!
//! Internal to the workspace (`publish = false`).

pub mod registry;

use std::time::Duration;

use libsock::framing::DEFAULT_MAX_LEN;
use libsock::{Delimited, Error, Framing, LengthPrefixed, Result, Timeout};

// ------------------------------------------------------------------------------------------------
// Timeouts

/// Timeout argument: the handle's default timeout (C's `LS_TIMEOUT_DEFAULT`, Java's
/// `Libsock.TIMEOUT_DEFAULT`).
pub const TIMEOUT_DEFAULT: i32 = -2;
/// Timeout argument or setting: wait forever.
pub const TIMEOUT_FOREVER: i32 = -1;
/// Timeout argument or setting: do not wait (poll once).
pub const TIMEOUT_POLL: i32 = 0;

fn ms(ms: i32) -> Duration {
    Duration::from_millis(ms.max(0) as u64)
}

/// A per-call timeout: -2 the handle's default, -1 forever, 0 poll, N milliseconds.
pub fn timeout(t: i32) -> Result<Timeout> {
    match t {
        TIMEOUT_DEFAULT => Ok(Timeout::Default),
        TIMEOUT_FOREVER => Ok(Timeout::Never),
        0.. => Ok(Timeout::After(ms(t))),
        _ => Err(Error::invalid(format!(
            "timeout_ms is {t} (use -2 for the default, -1 for forever, 0 to poll, or a positive number of ms)"
        ))),
    }
}

/// A timeout setting (a handle's default, a connect limit): -1 forever (`None`), 0 poll, N
/// milliseconds. -2 has nothing to refer to here and is refused.
pub fn timeout_setting(t: i32) -> Result<Option<Duration>> {
    match t {
        TIMEOUT_FOREVER => Ok(None),
        0.. => Ok(Some(ms(t))),
        _ => Err(Error::invalid(format!(
            "timeout_ms is {t} (use -1 for forever, 0 to poll, or a positive number of ms)"
        ))),
    }
}

/// An engine pull's timeout: -1 forever, and -2 too (engine objects have no default timeout),
/// 0 poll, N milliseconds.
pub fn engine_timeout(t: i32) -> Result<Option<Duration>> {
    match t {
        TIMEOUT_DEFAULT => Ok(None),
        _ => timeout_setting(t),
    }
}

/// A timeout setting as milliseconds (-1 = forever, capped at `i32::MAX`).
pub fn timeout_ms(t: Option<Duration>) -> i32 {
    match t {
        None => TIMEOUT_FOREVER,
        Some(d) => d.as_millis().min(i32::MAX as u128) as i32,
    }
}

/// A duration the engine reports (a reconnect delay) as milliseconds, capped at `i64::MAX`.
pub fn duration_ms(d: Duration) -> i64 {
    d.as_millis().min(i64::MAX as u128) as i64
}

/// The grace of a graceful stop: 0 (at once) or more milliseconds.
pub fn grace(t: i32) -> Result<Duration> {
    if t < 0 {
        return Err(Error::invalid(format!(
            "grace_ms is {t}, it must be 0 (at once) or a positive number of ms"
        )));
    }
    Ok(ms(t))
}

// ------------------------------------------------------------------------------------------------
// Framings

/// A size that must not be negative (a Java `long`; C's `size_t` is checked by the C door).
pub fn size(v: i64, what: &str) -> Result<usize> {
    usize::try_from(v).map_err(|_| Error::invalid(format!("{what} {v} is negative")))
}

/// The arguments of a length-prefixed framing, as integers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LengthArgs {
    /// Field width in bytes: 1, 2, 4 or 8.
    pub width: i64,
    /// Byte order of the field.
    pub big_endian: bool,
    /// Offset of the field in the header.
    pub offset: usize,
    /// Header length; `None`: the field's end.
    pub header_len: Option<usize>,
    /// Body length = field value + adjustment.
    pub adjustment: i64,
    /// Largest body (taken as it is; the C door reads 0 as the default before).
    pub max_len: usize,
    /// Bits of the field that hold the length; `None`: all of them (no flag).
    pub length_bits: Option<i64>,
    /// The value of the field's other bits.
    pub flag: i64,
    /// Deliver (and expect on send) the header with each message.
    pub keep_header: bool,
}

impl LengthArgs {
    /// A plain length field of `width` bytes (big endian, no offset, no flag, max 16 MiB).
    pub fn new(width: i64) -> LengthArgs {
        LengthArgs {
            width,
            big_endian: true,
            offset: 0,
            header_len: None,
            adjustment: 0,
            max_len: DEFAULT_MAX_LEN,
            length_bits: None,
            flag: 0,
            keep_header: false,
        }
    }
}

/// A length-prefixed framing, checked by core. A width that is no `u8` and length bits that are
/// no `u8` get core's own messages; given length bits (0 or negative included) are never taken
/// for "not set".
pub fn length_prefixed(a: LengthArgs) -> Result<Framing> {
    let width = u8::try_from(a.width).map_err(|_| {
        Error::invalid(format!(
            "length field width {} (must be 1, 2, 4 or 8)",
            a.width
        ))
    })?;
    let mut lp = LengthPrefixed::new(width)
        .big_endian(a.big_endian)
        .offset(a.offset)
        .adjustment(a.adjustment)
        .max_len(a.max_len)
        .keep_header(a.keep_header);
    if let Some(h) = a.header_len {
        lp = lp.header_len(h);
    }
    if let Some(bits) = a.length_bits {
        match u8::try_from(bits) {
            Ok(b) => lp = lp.flag_bits(b, a.flag as u64),
            Err(_) => {
                // Core's order: what is wrong with the field first, then the bits.
                let field = u32::from(lp.width) * 8;
                Framing::LengthPrefixed(lp).validate()?;
                return Err(Error::invalid(format!(
                    "length_bits {bits} must be 1..={field}"
                )));
            }
        }
    }
    let f = Framing::LengthPrefixed(lp);
    f.validate()?;
    Ok(f)
}

/// A delimited framing, checked by core (an empty delimiter is refused: "empty delimiter").
pub fn delimited(delimiter: impl Into<Vec<u8>>, max_len: usize, keep: bool) -> Result<Framing> {
    let f = Framing::Delimited(
        Delimited::new(delimiter)
            .max_len(max_len)
            .keep_delimiter(keep),
    );
    f.validate()?;
    Ok(f)
}

/// Fixed-size messages, checked by core (0 is refused).
pub fn fixed(size: usize) -> Result<Framing> {
    let f = Framing::Fixed(size);
    f.validate()?;
    Ok(f)
}

/// HP-Socket's PACK framing, checked by core (`flag` 0..1023, `max_len` at most 0x3FFFFF);
/// a negative flag, which core's type cannot hold, is refused here.
pub fn hp_pack(flag: i64, max_len: usize) -> Result<Framing> {
    let flag =
        u64::try_from(flag).map_err(|_| Error::invalid(format!("flag {flag} is negative")))?;
    Framing::try_hp_pack(flag, max_len)
}

#[cfg(test)]
mod tests {
    use super::*;
    use libsock::ErrorKind;

    fn invalid<T: std::fmt::Debug>(r: Result<T>) -> String {
        let e = r.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
        e.to_string()
    }

    #[test]
    fn timeouts_have_one_meaning() {
        assert_eq!(timeout(-2).unwrap(), Timeout::Default);
        assert_eq!(timeout(-1).unwrap(), Timeout::Never);
        assert_eq!(timeout(0).unwrap(), Timeout::After(Duration::ZERO));
        assert_eq!(
            timeout(250).unwrap(),
            Timeout::After(Duration::from_millis(250))
        );
        for bad in [-3, i32::MIN] {
            assert!(invalid(timeout(bad)).contains(&format!("timeout_ms is {bad}")));
        }
        assert_eq!(timeout_setting(-1).unwrap(), None);
        assert!(timeout_setting(-2).is_err());
        assert_eq!(engine_timeout(-2).unwrap(), None);
        assert_eq!(engine_timeout(-1).unwrap(), None);
        assert!(engine_timeout(-3).is_err());
        assert_eq!(timeout_ms(None), -1);
        assert_eq!(timeout_ms(Some(Duration::from_secs(1 << 40))), i32::MAX);
        assert_eq!(duration_ms(Duration::from_millis(150)), 150);
        assert_eq!(duration_ms(Duration::MAX), i64::MAX);
        assert_eq!(grace(0).unwrap(), Duration::ZERO);
        assert!(invalid(grace(-1)).contains("grace_ms is -1"));
    }

    #[test]
    fn framings_from_integers_are_checked_by_core() {
        assert_eq!(
            length_prefixed(LengthArgs::new(4)).unwrap(),
            Framing::length_prefixed()
        );
        assert!(invalid(length_prefixed(LengthArgs::new(3))).contains("width 3"));
        assert!(invalid(length_prefixed(LengthArgs::new(300))).contains("width 300"));
        let bits = |b: i64| LengthArgs {
            length_bits: Some(b),
            flag: 5,
            ..LengthArgs::new(4)
        };
        assert!(invalid(length_prefixed(bits(0))).contains("length_bits 0 must be 1..=32"));
        assert!(invalid(length_prefixed(bits(-3))).contains("length_bits -3 must be 1..=32"));
        assert!(length_prefixed(bits(22)).is_ok());
        assert!(invalid(length_prefixed(LengthArgs {
            length_bits: Some(-3),
            ..LengthArgs::new(3)
        }))
        .contains("width 3"));
        assert!(invalid(delimited(Vec::new(), DEFAULT_MAX_LEN, false)).contains("empty delimiter"));
        assert!(delimited(b"\r\n".to_vec(), DEFAULT_MAX_LEN, false).is_ok());
        assert!(fixed(0).is_err());
        assert!(fixed(8).is_ok());
        assert!(invalid(hp_pack(1024, 10)).contains("flag 0x400 does not fit in 10 bits"));
        assert!(invalid(hp_pack(-1, 10)).contains("flag -1 is negative"));
        assert!(invalid(hp_pack(5, usize::MAX)).contains("must be 1..=4194303"));
        assert_eq!(
            hp_pack(5, 0x3F_FFFF).unwrap(),
            Framing::hp_pack(5, 0x3F_FFFF)
        );
        assert!(invalid(size(-1, "max length")).contains("max length -1 is negative"));
    }
}
