//! Listeners: listening for stream connections and accepting them.

use std::ffi::c_char;

use crate::boundary::{bad_arg, call, in_str, timeout_arg, Out};
use crate::handles::{as_listener, insert, listener, options_value, Obj};
use libsock::{Error, ListenOptions, Listener};

/// Listen on `address` ("127.0.0.1:0" picks a free port: read it with `ls_local_port`;
/// "[::]:port" accepts IPv4 clients too; "unix:/path"). `backlog` is the queue of connections not
/// yet accepted (0 = the default, 1024). SO_REUSEADDR is on.
#[no_mangle]
pub unsafe extern "C" fn ls_listen(
    address: *const c_char,
    backlog: i32,
    out_handle: *mut i64,
) -> i32 {
    call("ls_listen", || unsafe {
        // SAFETY: forwarded with the same promises.
        listen_impl(address, backlog, 0, out_handle)
    })
}

/// `ls_listen` with the socket options of options object `options_handle` (0 = none) applied
/// before binding.
#[no_mangle]
pub unsafe extern "C" fn ls_listen_ex(
    address: *const c_char,
    backlog: i32,
    options_handle: i64,
    out_handle: *mut i64,
) -> i32 {
    call("ls_listen_ex", || unsafe {
        // SAFETY: forwarded with the same promises.
        listen_impl(address, backlog, options_handle, out_handle)
    })
}

unsafe fn listen_impl(
    address: *const c_char,
    backlog: i32,
    options_handle: i64,
    out_handle: *mut i64,
) -> Result<(), Error> {
    let out = Out::new(out_handle, "out_handle")?;
    // SAFETY: the caller promises a NUL-terminated string.
    let address = unsafe { in_str(address, "address") }?;
    if backlog < 0 {
        return Err(bad_arg(format!(
            "backlog is {backlog}, it must be 0 or more"
        )));
    }
    crate::options::refuse_proxy(options_handle, "a listener")?;
    let mut opts = ListenOptions::new().options(options_value(options_handle)?);
    opts.tls = crate::tls::server_for(options_handle)?;
    if backlog > 0 {
        opts = opts.backlog(backlog);
    }
    let l = Listener::bind_with(address, &opts)?;
    out.set(insert(Obj::Listener(l))?);
    Ok(())
}

/// Wait for a client on listener `handle` and return the new connection in `*out_handle`.
/// `timeout_ms`: -2 the listener's default (`ls_set_timeout`, initially forever), -1 forever, 0
/// poll, N milliseconds; `LS_ERR_TIMEOUT` when no client came. The connection gets the framing
/// set on the listener (`ls_set_framing_*` on the listener handle). The client's address:
/// `ls_peer_address(*out_handle, ...)`.
#[no_mangle]
pub unsafe extern "C" fn ls_accept(handle: i64, timeout_ms: i32, out_handle: *mut i64) -> i32 {
    call("ls_accept", || {
        let out = Out::new(out_handle, "out_handle")?;
        let t = timeout_arg(timeout_ms)?;
        let o = listener(handle)?;
        let (c, _peer) = as_listener(&o).accept_with(t)?;
        out.set(insert(Obj::Conn(c))?);
        Ok(())
    })
}
