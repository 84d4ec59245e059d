//! Stream connections: connecting, sending and receiving (also on connected datagram sockets
//! where a function says so), files, and half-close.

use std::ffi::c_char;
use std::time::Duration;

use crate::boundary::{
    bad_arg, call, check_len, in_bytes, in_str, out_array, out_bytes, sum_lens, timeout_arg, Out,
};
use crate::handles::{as_conn, conn, get, insert, options_value, wrong_kind, Obj};
use crate::{LS_SHUT_BOTH, LS_SHUT_READ, LS_SHUT_WRITE};
use libsock::{ConnectOptions, Connection, Error, Shutdown, Timeout};

// ---------------------------------------------------------------------------------------------
// Connections and listeners
// ---------------------------------------------------------------------------------------------

fn connect_timeout(timeout_ms: i32) -> Result<Option<Duration>, Error> {
    match timeout_arg(timeout_ms)? {
        Timeout::Default | Timeout::Never => Ok(None),
        Timeout::After(d) => Ok(Some(d)),
    }
}

/// Connect to `address`: "host:port", "[v6]:port", "unix:/path" or "unix:@abstract". Host names
/// are resolved and every address is tried in turn. `timeout_ms` limits resolving and connecting
/// together (-1 or -2: the OS's own limit). On success `*out_handle` is the new connection, with
/// raw framing and no default timeout (calls wait forever unless given a timeout).
#[no_mangle]
pub unsafe extern "C" fn ls_tcp_connect(
    address: *const c_char,
    timeout_ms: i32,
    out_handle: *mut i64,
) -> i32 {
    call("ls_tcp_connect", || unsafe {
        // SAFETY: forwarded with the same promises.
        connect_impl(address, timeout_ms, 0, out_handle)
    })
}

/// `ls_tcp_connect` with the socket options of options object `options_handle` (0 = none)
/// applied before connecting, its TLS config (`ls_options_set_tls`) and its proxy
/// (`ls_options_set_proxy`: the connection goes through the proxy to `address`).
#[no_mangle]
pub unsafe extern "C" fn ls_tcp_connect_ex(
    address: *const c_char,
    timeout_ms: i32,
    options_handle: i64,
    out_handle: *mut i64,
) -> i32 {
    call("ls_tcp_connect_ex", || unsafe {
        // SAFETY: forwarded with the same promises.
        connect_impl(address, timeout_ms, options_handle, out_handle)
    })
}

unsafe fn connect_impl(
    address: *const c_char,
    timeout_ms: i32,
    options_handle: i64,
    out_handle: *mut i64,
) -> Result<(), Error> {
    let out = Out::new(out_handle, "out_handle")?;
    // SAFETY: the caller promises a NUL-terminated string.
    let address = unsafe { in_str(address, "address") }?;
    let mut opts = ConnectOptions::new().options(options_value(options_handle)?);
    opts.connect_timeout = connect_timeout(timeout_ms)?;
    opts.tls = crate::tls::client_for(options_handle)?;
    opts.proxy = crate::handles::options_proxy(options_handle)?;
    let c = Connection::connect_with(address, &opts)?;
    out.set(insert(Obj::Conn(c))?);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Sending and receiving
// ---------------------------------------------------------------------------------------------

/// Send what the socket takes now (at least one byte, waiting up to the handle's default
/// timeout); `*out_sent` receives the count. Connections and connected datagram sockets.
#[no_mangle]
pub unsafe extern "C" fn ls_send(
    handle: i64,
    buf: *const u8,
    len: usize,
    out_sent: *mut usize,
) -> i32 {
    call("ls_send", || {
        // SAFETY: the caller promises `len` readable bytes.
        let data = unsafe { in_bytes(buf, len, "buf") }?;
        let out = Out::new(out_sent, "out_sent")?;
        let o = get(handle)?;
        let n = match &*o {
            Obj::Conn(c) => c.send(data)?,
            Obj::Dgram(d) => d.send(data)?,
            other => return Err(wrong_kind(handle, other, "connection or datagram socket")),
        };
        out.set(n);
        Ok(())
    })
}

/// Send all `len` bytes on connection `handle` (the handle's default timeout applies to each
/// wait for progress).
#[no_mangle]
pub unsafe extern "C" fn ls_send_all(handle: i64, buf: *const u8, len: usize) -> i32 {
    call("ls_send_all", || {
        // SAFETY: the caller promises `len` readable bytes.
        let data = unsafe { in_bytes(buf, len, "buf") }?;
        let o = conn(handle)?;
        as_conn(&o).send_all(data)
    })
}

/// Receive what is there (waiting for at least one byte) into `buf` (capacity `cap` > 0);
/// `*out_len` receives the count, 0 when the peer closed in order (end of stream). Connections
/// and connected datagram sockets (for a datagram, an empty datagram also gives 0 and a truncated
/// one is cut silently: use `ls_recv_from` to learn about truncation). `timeout_ms`: -2 the
/// handle's default, -1 forever, 0 poll, N milliseconds.
#[no_mangle]
pub unsafe extern "C" fn ls_recv(
    handle: i64,
    timeout_ms: i32,
    buf: *mut u8,
    cap: usize,
    out_len: *mut usize,
) -> i32 {
    call("ls_recv", || {
        // SAFETY: the caller promises `cap` writable bytes.
        let data = unsafe { out_bytes(buf, cap, 1, "buf") }?;
        let out = Out::new(out_len, "out_len")?;
        let t = timeout_arg(timeout_ms)?;
        let o = get(handle)?;
        let n = match &*o {
            Obj::Conn(c) => c.with_timeout(t).recv_into(data)?,
            Obj::Dgram(d) => d.recv_from_timeout(data, t)?.len,
            other => return Err(wrong_kind(handle, other, "connection or datagram socket")),
        };
        out.set(n);
        Ok(())
    })
}

/// Receive exactly `len` bytes into `buf` on connection `handle`. `LS_ERR_CLOSED` if the peer
/// closes first, `LS_ERR_TIMEOUT` when `timeout_ms` runs out; either way the bytes that did
/// arrive stay buffered for the next call. `timeout_ms` limits the whole call.
#[no_mangle]
pub unsafe extern "C" fn ls_recv_exact(
    handle: i64,
    timeout_ms: i32,
    buf: *mut u8,
    len: usize,
) -> i32 {
    call("ls_recv_exact", || {
        // SAFETY: the caller promises `len` writable bytes.
        let data = unsafe { out_bytes(buf, len, 0, "buf") }?;
        let t = timeout_arg(timeout_ms)?;
        let o = conn(handle)?;
        as_conn(&o).with_timeout(t).recv_exact_into(data)
    })
}

/// Receive up to and including the delimiter `delim` (`dlen` > 0 bytes) into `buf`; `*out_len`
/// receives the length, delimiter included. `LS_ERR_FRAME_TOO_LARGE` when `cap` bytes arrive
/// without the delimiter (they stay buffered). Independent of the connection's framing.
#[no_mangle]
pub unsafe extern "C" fn ls_recv_until(
    handle: i64,
    timeout_ms: i32,
    delim: *const u8,
    dlen: usize,
    buf: *mut u8,
    cap: usize,
    out_len: *mut usize,
) -> i32 {
    call("ls_recv_until", || {
        // SAFETY: the caller promises `dlen` readable and `cap` writable bytes.
        let delim = unsafe { in_bytes(delim, dlen, "delim") }?;
        if delim.is_empty() {
            return Err(bad_arg(
                "dlen is 0: the delimiter must have at least one byte",
            ));
        }
        let data = unsafe { out_bytes(buf, cap, 1, "buf") }?;
        let out = Out::new(out_len, "out_len")?;
        let t = timeout_arg(timeout_ms)?;
        let o = conn(handle)?;
        let line = as_conn(&o).with_timeout(t).recv_until(delim, data.len())?;
        data[..line.len()].copy_from_slice(&line);
        out.set(line.len());
        Ok(())
    })
}

/// Send one message of `len` bytes (0 allowed where the framing allows it) through the
/// connection's framing (`ls_set_framing_*`): a length header, a delimiter, ...
#[no_mangle]
pub unsafe extern "C" fn ls_send_msg(handle: i64, buf: *const u8, len: usize) -> i32 {
    call("ls_send_msg", || {
        // SAFETY: the caller promises `len` readable bytes.
        let data = unsafe { in_bytes(buf, len, "buf") }?;
        let o = conn(handle)?;
        as_conn(&o).send_msg(data)
    })
}

/// Send `count` messages through the connection's framing with as few system calls as possible
/// (their frames go out together in vectored writes): the bodies lie back to back in `buf`,
/// message i has `lens[i]` bytes (so `buf` holds the sum of `lens`). Every message is checked
/// against the framing before anything is sent (`LS_ERR_FRAME_TOO_LARGE` sends none). `count` 0
/// sends nothing (`buf` and `lens` may then be NULL). The handle's default timeout applies to
/// each wait for progress, as in `ls_send_msg`.
#[no_mangle]
pub unsafe extern "C" fn ls_send_msgs(
    handle: i64,
    buf: *const u8,
    lens: *const usize,
    count: usize,
) -> i32 {
    call("ls_send_msgs", || {
        let count = check_len(count, "count")?;
        if count == 0 {
            conn(handle)?;
            return Ok(());
        }
        if lens.is_null() {
            return Err(bad_arg("lens is NULL"));
        }
        // SAFETY: non-null, and the caller promises `count` readable lengths.
        let lens = unsafe { std::slice::from_raw_parts(lens, count) };
        let total = sum_lens(lens)?;
        // SAFETY: the caller promises the sum of `lens` readable bytes.
        let data = unsafe { in_bytes(buf, total, "buf") }?;
        let o = conn(handle)?;
        // Core walks the bodies with `lens` as they are: no slice built per message.
        as_conn(&o).send_msgs_packed(data, lens)
    })
}

/// Receive one message through the connection's framing into `buf`; `*out_len` receives its
/// length. A message larger than `cap` gives `LS_ERR_BUFFER_TOO_SMALL` with the needed size in
/// `*out_len` and stays queued: call again with a larger buffer (`buf` NULL and `cap` 0 ask for
/// the size of the next message). `LS_ERR_CLOSED` at end of
/// stream, `LS_ERR_FRAME_TOO_LARGE` for a frame above the framing's `max_len`.
/// `timeout_ms`: -2 the handle's default, -1 forever, 0 poll, N milliseconds.
#[no_mangle]
pub unsafe extern "C" fn ls_recv_msg(
    handle: i64,
    timeout_ms: i32,
    buf: *mut u8,
    cap: usize,
    out_len: *mut usize,
) -> i32 {
    call("ls_recv_msg", || {
        // SAFETY: the caller promises `cap` writable bytes (cap may be 0, e.g. to ask the size).
        let data = unsafe { out_bytes(buf, cap, 0, "buf") }?;
        let out = Out::new(out_len, "out_len")?;
        let t = timeout_arg(timeout_ms)?;
        let o = conn(handle)?;
        match as_conn(&o).with_timeout(t).recv_msg_into(data) {
            Ok(n) => {
                out.set(n);
                Ok(())
            }
            Err(e) => {
                if let Some(needed) = e.needed() {
                    out.set(needed);
                }
                Err(e)
            }
        }
    })
}

/// Receive up to `count` (> 0) messages through the connection's framing in one call: their
/// bodies go back to back into `buf` (capacity `cap`), message i's length into `out_lens[i]` (it
/// starts at `buf` + the sum of `out_lens[0..i]`), and `*out_count` receives how many (at least
/// 1). Only the first message is waited for (`timeout_ms`: -2 the handle's default, -1 forever, 0
/// poll, N milliseconds); the others are those already received, or readable without waiting. A
/// message that does not fit the rest of `buf` stays queued for the next call. When even the
/// first does not fit: `LS_ERR_BUFFER_TOO_SMALL`, its size in `out_lens[0]`, `*out_count` 0, and
/// it stays queued (`buf` NULL and `cap` 0 ask for the size of the next message). An error met
/// after the first message (end of stream, a frame above `max_len`, a reset ...) ends the batch
/// with `LS_OK` and is returned by the next message call on the handle (`ls_recv_msgs`,
/// `ls_recv_msg`), so no message before it is lost. One call pays the boundary's cost (handle
/// lookup, checks) once per batch instead of once per message.
#[no_mangle]
pub unsafe extern "C" fn ls_recv_msgs(
    handle: i64,
    timeout_ms: i32,
    buf: *mut u8,
    cap: usize,
    count: usize,
    out_lens: *mut usize,
    out_count: *mut usize,
) -> i32 {
    call("ls_recv_msgs", || {
        // SAFETY: the caller promises `cap` writable bytes (cap may be 0, e.g. to ask the size).
        let data = unsafe { out_bytes(buf, cap, 0, "buf") }?;
        let count = check_len(count, "count")?;
        if count == 0 {
            // Room for no message: core's InvalidArgument (its message, as in every door).
            let t = timeout_arg(timeout_ms)?;
            let o = conn(handle)?;
            as_conn(&o).with_timeout(t).recv_msgs_into(data, &mut [])?;
            return Err(bad_arg("count is 0: it must be at least 1"));
        }
        // SAFETY: the caller promises `count` writable lengths.
        let lens = unsafe { out_array(out_lens, count, "out_lens", "size_t") }?
            .ok_or_else(|| bad_arg("out_lens is NULL"))?;
        let out = Out::new(out_count, "out_count")?;
        let t = timeout_arg(timeout_ms)?;
        let o = conn(handle)?;
        // Core waits for the first message only, keeps a message that does not fit queued and
        // an error met after the first for the next call.
        match as_conn(&o).with_timeout(t).recv_msgs_into(data, lens) {
            Ok(k) => {
                out.set(k);
                Ok(())
            }
            Err(e) => {
                if let Some(needed) = e.needed() {
                    lens[0] = needed;
                    out.set(0);
                }
                Err(e)
            }
        }
    })
}

/// Send `len` bytes of the file at `path` starting at `offset` (`len` -1: to the end of the
/// file) on connection `handle`, with sendfile(2) where available; `*out_sent` receives the count.
#[no_mangle]
pub unsafe extern "C" fn ls_send_file(
    handle: i64,
    path: *const c_char,
    offset: u64,
    len: i64,
    out_sent: *mut u64,
) -> i32 {
    call("ls_send_file", || {
        // SAFETY: the caller promises a NUL-terminated string.
        let path = unsafe { in_str(path, "path") }?;
        let out = Out::new(out_sent, "out_sent")?;
        let len = match len {
            -1 => None,
            n if n >= 0 => Some(n as u64),
            n => {
                return Err(bad_arg(format!(
                    "len is {n}, use -1 for the rest of the file"
                )))
            }
        };
        let o = conn(handle)?;
        out.set(as_conn(&o).send_file(path, offset, len)?);
        Ok(())
    })
}

/// Receive exactly `len` bytes from connection `handle` into a new file at `path` (created or
/// truncated); `*out_received` receives the count.
#[no_mangle]
pub unsafe extern "C" fn ls_recv_file(
    handle: i64,
    path: *const c_char,
    len: u64,
    out_received: *mut u64,
) -> i32 {
    call("ls_recv_file", || {
        // SAFETY: the caller promises a NUL-terminated string.
        let path = unsafe { in_str(path, "path") }?;
        let out = Out::new(out_received, "out_received")?;
        let o = conn(handle)?;
        out.set(as_conn(&o).recv_file(path, len)?);
        Ok(())
    })
}

// ---------------------------------------------------------------------------------------------
// State, addresses, options, timeouts
// ---------------------------------------------------------------------------------------------

/// Shut down one direction of connection `handle`: `LS_SHUT_WRITE` (half-close: the peer reads
/// end of stream after what was sent, and can still reply), `LS_SHUT_READ` or `LS_SHUT_BOTH`.
/// The handle stays open; `ls_close` releases it.
#[no_mangle]
pub extern "C" fn ls_socket_shutdown(handle: i64, how: i32) -> i32 {
    call("ls_socket_shutdown", || {
        let how = match how {
            LS_SHUT_READ => Shutdown::Read,
            LS_SHUT_WRITE => Shutdown::Write,
            LS_SHUT_BOTH => Shutdown::Both,
            _ => {
                return Err(bad_arg(format!(
                "how is {how}, it must be LS_SHUT_READ (0), LS_SHUT_WRITE (1) or LS_SHUT_BOTH (2)"
            )))
            }
        };
        let o = conn(handle)?;
        as_conn(&o).shutdown(how)
    })
}
