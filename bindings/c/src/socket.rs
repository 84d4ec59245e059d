//! What every socket has: bytes available, addresses, options and timeouts.

use std::ffi::c_char;

use crate::boundary::{
    bad_arg, call, opt_arg, out_bytes, timeout_ms, timeout_setting, write_text, Out,
};
use crate::engine;
use crate::handles::{get, wrong_kind, Obj};
use libsock::{Addr, Error};

/// Bytes that can be read now without waiting (for a datagram socket: the size of the next
/// datagram, 0 if none).
#[no_mangle]
pub unsafe extern "C" fn ls_bytes_available(handle: i64, out_count: *mut usize) -> i32 {
    call("ls_bytes_available", || {
        let out = Out::new(out_count, "out_count")?;
        let o = get(handle)?;
        let n = match &*o {
            Obj::Conn(c) => c.bytes_available()?,
            Obj::Dgram(d) => d.bytes_available()?,
            other => return Err(wrong_kind(handle, other, "connection or datagram socket")),
        };
        out.set(n);
        Ok(())
    })
}

fn local_addr(handle: i64) -> Result<Addr, Error> {
    let o = get(handle)?;
    match &*o {
        Obj::Conn(c) => c.local_addr(),
        Obj::Listener(l) => l.local_addr(),
        Obj::Dgram(d) => d.local_addr(),
        other => engine::local_addr(other)
            .ok_or_else(|| wrong_kind(handle, other, "socket, server or datagram server")),
    }
}

/// The local address of a connection, listener or datagram socket as text ("127.0.0.1:5000",
/// "[::1]:5000", "unix:/path"), NUL-terminated; `*out_len` receives its length without the NUL.
/// `LS_ERR_BUFFER_TOO_SMALL` with the needed size in `*out_len` if it does not fit
/// (`LS_ADDRESS_MAX` bytes always do).
#[no_mangle]
pub unsafe extern "C" fn ls_local_address(
    handle: i64,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> i32 {
    call("ls_local_address", || {
        // SAFETY: the caller promises `cap` writable bytes.
        let buf = unsafe { out_bytes(buf.cast(), cap, 0, "buf") }?;
        let out = Out::new(out_len, "out_len")?;
        write_text(&local_addr(handle)?.to_string(), buf, &out)
    })
}

/// The peer's address of a connection (known even after the peer left) or of a connected
/// datagram socket, as text; as `ls_local_address`.
#[no_mangle]
pub unsafe extern "C" fn ls_peer_address(
    handle: i64,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> i32 {
    call("ls_peer_address", || {
        // SAFETY: the caller promises `cap` writable bytes.
        let buf = unsafe { out_bytes(buf.cast(), cap, 0, "buf") }?;
        let out = Out::new(out_len, "out_len")?;
        let o = get(handle)?;
        let a = match &*o {
            Obj::Conn(c) => c.peer_addr(),
            Obj::Dgram(d) => d.peer_addr()?,
            Obj::Client(e) => e.obj.peer_addr().ok_or_else(|| Error::Closed {
                op: "peer address: the client is not connected now".into(),
            })?,
            Obj::KcpSession(k) => k.session.peer_addr(),
            other => {
                return Err(wrong_kind(
                    handle,
                    other,
                    "connection, datagram socket, client or KCP session",
                ))
            }
        };
        write_text(&a.to_string(), buf, &out)
    })
}

/// The local port of a connection, listener or datagram socket (0 for Unix sockets): the real
/// port of a listener bound to port 0.
#[no_mangle]
pub unsafe extern "C" fn ls_local_port(handle: i64, out_port: *mut i32) -> i32 {
    call("ls_local_port", || {
        let out = Out::new(out_port, "out_port")?;
        out.set(local_addr(handle)?.port() as i32);
        Ok(())
    })
}

/// Set socket option `option` (`LS_OPT_*`) to `value` on a connection, listener or datagram
/// socket, or record it on an options object for a later `ls_*_ex` call. Booleans are 0/1.
#[no_mangle]
pub extern "C" fn ls_set_option(handle: i64, option: i32, value: i64) -> i32 {
    call("ls_set_option", || {
        let opt = opt_arg(option)?;
        let o = get(handle)?;
        match &*o {
            Obj::Conn(c) => c.set_option(opt, value),
            Obj::Listener(l) => l.set_option(opt, value),
            Obj::Dgram(d) => d.set_option(opt, value),
            Obj::Options(m) => {
                let mut e = m.lock().unwrap_or_else(|p| p.into_inner());
                e.opts.set(opt, value)?;
                e.values.insert(option, value);
                Ok(())
            }
            Obj::EngineConfig(m) => m
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .set_option(opt, value),
            other => Err(wrong_kind(
                handle,
                other,
                "socket, options object or engine config",
            )),
        }
    })
}

/// Read socket option `option` back from the OS into `*out_value` (the kernel may round: Linux
/// doubles buffer sizes). On an options object: the value recorded with `ls_set_option`
/// (`LS_ERR_INVALID_ARGUMENT` if none was).
#[no_mangle]
pub unsafe extern "C" fn ls_get_option(handle: i64, option: i32, out_value: *mut i64) -> i32 {
    call("ls_get_option", || {
        let out = Out::new(out_value, "out_value")?;
        let opt = opt_arg(option)?;
        let o = get(handle)?;
        let v = match &*o {
            Obj::Conn(c) => c.get_option(opt)?,
            Obj::Listener(l) => l.get_option(opt)?,
            Obj::Dgram(d) => d.get_option(opt)?,
            Obj::Options(m) => {
                let e = m.lock().unwrap_or_else(|p| p.into_inner());
                *e.values.get(&option).ok_or_else(|| {
                    bad_arg(format!(
                        "option {} was not set on this options object",
                        opt.name()
                    ))
                })?
            }
            Obj::EngineConfig(m) => m
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get_option(opt)?,
            other => {
                return Err(wrong_kind(
                    handle,
                    other,
                    "socket, options object or engine config",
                ))
            }
        };
        out.set(v);
        Ok(())
    })
}

/// Set the default timeout of `handle`'s blocking calls (those given `LS_TIMEOUT_DEFAULT`, and
/// every send): -1 forever (the initial value), 0 poll, N milliseconds. On a listener it is the
/// default of `ls_accept`.
#[no_mangle]
pub extern "C" fn ls_set_timeout(handle: i64, timeout_ms: i32) -> i32 {
    call("ls_set_timeout", || {
        let t = timeout_setting(timeout_ms)?;
        let o = get(handle)?;
        match &*o {
            Obj::Conn(c) => c.set_timeout(t),
            Obj::Dgram(d) => d.set_timeout(t),
            Obj::Listener(l) => l.set_timeout(t),
            Obj::KcpSession(k) => *k.timeout.lock().unwrap_or_else(|p| p.into_inner()) = t,
            other => return Err(wrong_kind(handle, other, "socket")),
        }
        Ok(())
    })
}

/// The default timeout of `handle` in milliseconds (-1 = forever).
#[no_mangle]
pub unsafe extern "C" fn ls_get_timeout(handle: i64, out_timeout_ms: *mut i32) -> i32 {
    call("ls_get_timeout", || {
        let out = Out::new(out_timeout_ms, "out_timeout_ms")?;
        let o = get(handle)?;
        let ms = match &*o {
            Obj::Conn(c) => timeout_ms(c.timeout()),
            Obj::Dgram(d) => timeout_ms(d.timeout()),
            Obj::Listener(l) => timeout_ms(l.timeout()),
            Obj::KcpSession(k) => timeout_ms(*k.timeout.lock().unwrap_or_else(|p| p.into_inner())),
            other => return Err(wrong_kind(handle, other, "socket")),
        };
        out.set(ms);
        Ok(())
    })
}
