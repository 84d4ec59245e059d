//! Framing: how a connection's byte stream is cut into messages (set on connections, and on
//! listeners and engine configs for the connections they make).

use crate::boundary::{self, call, flag_arg, in_bytes};
use crate::handles::{get, wrong_kind, Obj};
use libsock::{Error, Framing};
use libsock_flat as flat;

// ---------------------------------------------------------------------------------------------
// Framing (connections, and listeners: the framing given to accepted connections)
// ---------------------------------------------------------------------------------------------

fn set_framing(handle: i64, f: Framing) -> Result<(), Error> {
    f.validate()?;
    let o = get(handle)?;
    match &*o {
        Obj::Conn(c) => c.set_framing(f),
        Obj::Listener(l) => l.set_framing(f),
        Obj::EngineConfig(m) => {
            m.lock().unwrap_or_else(|p| p.into_inner()).set_framing(f);
            Ok(())
        }
        other => Err(wrong_kind(
            handle,
            other,
            "connection, listener or engine config",
        )),
    }
}

fn max_len_arg(max_len: usize) -> Result<usize, Error> {
    Ok(match boundary::check_len(max_len, "max_len")? {
        0 => libsock::framing::DEFAULT_MAX_LEN,
        n => n,
    })
}

/// No framing (the default): `ls_recv_msg` returns what one read gives, `ls_send_msg` sends the
/// bytes as they are.
#[no_mangle]
pub extern "C" fn ls_set_framing_raw(handle: i64) -> i32 {
    call("ls_set_framing_raw", || set_framing(handle, Framing::Raw))
}

/// Length-prefixed messages: a length field of `width` bytes (1, 2, 4 or 8) before each body,
/// big endian (network order) when `big_endian` is 1, little endian when 0. Bodies above
/// `max_len` bytes (0 = 16 MiB) are `LS_ERR_FRAME_TOO_LARGE`.
#[no_mangle]
pub extern "C" fn ls_set_framing_length(
    handle: i64,
    width: i32,
    big_endian: i32,
    max_len: usize,
) -> i32 {
    call("ls_set_framing_length", || {
        let f = flat::length_prefixed(flat::LengthArgs {
            big_endian: flag_arg(big_endian, "big_endian")?,
            max_len: max_len_arg(max_len)?,
            ..flat::LengthArgs::new(width.into())
        })?;
        set_framing(handle, f)
    })
}

/// Length-prefixed messages with a longer header: a header of `header_len` bytes holds the length
/// field (`width` bytes, byte order by `big_endian`) at `offset`; body length = field value +
/// `adjustment` (e.g. -`header_len` when the field counts the header). `keep_header` 1 delivers
/// each message with its header (and `ls_send_msg` then expects the header in front, its length
/// field filled in by libsock); 0 strips it (and `ls_send_msg` writes a zero header).
#[no_mangle]
pub extern "C" fn ls_set_framing_length_ex(
    handle: i64,
    width: i32,
    big_endian: i32,
    offset: usize,
    header_len: usize,
    adjustment: i64,
    max_len: usize,
    keep_header: i32,
) -> i32 {
    call("ls_set_framing_length_ex", || {
        let offset = boundary::check_len(offset, "offset")?;
        let header_len = boundary::check_len(header_len, "header_len")?;
        let f = flat::length_prefixed(flat::LengthArgs {
            big_endian: flag_arg(big_endian, "big_endian")?,
            offset,
            header_len: Some(header_len),
            adjustment,
            max_len: max_len_arg(max_len)?,
            keep_header: flag_arg(keep_header, "keep_header")?,
            ..flat::LengthArgs::new(width.into())
        })?;
        set_framing(handle, f)
    })
}

/// Delimited messages: each ends with `delim` (`dlen` > 0 bytes, e.g. "\r\n"). A message longer
/// than `max_len` (0 = 16 MiB) is `LS_ERR_FRAME_TOO_LARGE` and is skipped up to its delimiter.
/// `keep` 1 delivers messages with their delimiter, 0 without.
#[no_mangle]
pub unsafe extern "C" fn ls_set_framing_delimited(
    handle: i64,
    delim: *const u8,
    dlen: usize,
    max_len: usize,
    keep: i32,
) -> i32 {
    call("ls_set_framing_delimited", || {
        // SAFETY: the caller promises `dlen` readable bytes.
        let delim = unsafe { in_bytes(delim, dlen, "delim") }?;
        // An empty delimiter is core's to refuse ("empty delimiter"), as in every door.
        let f = flat::delimited(
            delim.to_vec(),
            max_len_arg(max_len)?,
            flag_arg(keep, "keep")?,
        )?;
        set_framing(handle, f)
    })
}

/// Fixed-size messages of `size` (> 0) bytes each.
#[no_mangle]
pub extern "C" fn ls_set_framing_fixed(handle: i64, size: usize) -> i32 {
    call("ls_set_framing_fixed", || {
        let size = boundary::check_len(size, "size")?;
        set_framing(handle, flat::fixed(size)?)
    })
}

/// HP-Socket's PACK framing: a 4-byte little-endian header, the low 22 bits the body length, the
/// high 10 bits `flag` (0..1023, checked on receive). `max_len` (0 = the maximum, 4194303).
#[no_mangle]
pub extern "C" fn ls_set_framing_hp_pack(handle: i64, flag: i32, max_len: usize) -> i32 {
    call("ls_set_framing_hp_pack", || {
        let max = match boundary::check_len(max_len, "max_len")? {
            0 => 0x3F_FFFF,
            n => n,
        };
        set_framing(handle, flat::hp_pack(flag.into(), max)?)
    })
}
