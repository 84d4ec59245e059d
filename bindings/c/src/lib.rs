//! The C ABI of libsock: `libsock.so` / `libsock.a` and `include/libsock.h` (generated from this
//! file by cbindgen).
//!
//! Translation only: every function checks its arguments, looks its handle up in the table, calls
//! core and turns the result into a return code, all inside [`boundary::call`] (no panic crosses
//! the boundary). See `bindings/c/README-C.md` for the rules a C caller relies on.
#![allow(clippy::missing_safety_doc)]
// every function's safety rules are in the header's preamble
// The doc comments are written for C readers (cbindgen copies them into the header): addresses
// such as "[::1]:5000" are text, not Rust links, and escaping them would put backslashes into
// the header. Links to private items name the Rust helpers for the readers of this source.
#![allow(rustdoc::broken_intra_doc_links, rustdoc::private_intra_doc_links)]

mod boundary;
pub mod engine;

use std::ffi::c_char;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::Duration;

use boundary::{
    as_conn, as_dgram, as_listener, bad_arg, call, check_len, conn, dgram, flag_arg, get, in_bytes,
    in_str, insert, listener, opt_arg, options, options_value, out_bytes, remove, timeout_arg,
    timeout_ms, timeout_setting, with_last, write_text, wrong_kind, Obj, OptionsEntry, Out,
    ERROR_TEXTS,
};
use libsock::{
    Addr, ConnectOptions, Connection, Datagram, DatagramOptions, Error, Framing, ListenOptions,
    Listener, MulticastInterface, Shutdown, Timeout,
};
use libsock_flat as flat;

// ---------------------------------------------------------------------------------------------
// Version
// ---------------------------------------------------------------------------------------------

/// Major version of libsock (checked against Cargo.toml by a test).
pub const LS_VERSION_MAJOR: i32 = 0;
/// Minor version of libsock.
pub const LS_VERSION_MINOR: i32 = 1;
/// Patch version of libsock.
pub const LS_VERSION_PATCH: i32 = 0;
/// Version of the binary interface; the shared library's SONAME is `libsock.so.<LS_ABI_VERSION>`.
/// It changes only when a function's signature or meaning changes incompatibly.
pub const LS_ABI_VERSION: i32 = 0;

// ---------------------------------------------------------------------------------------------
// Return codes (stable: a code never changes meaning)
// ---------------------------------------------------------------------------------------------

/// Success.
pub const LS_OK: i32 = 0;
/// A wait ran out of time (connect, recv, accept, resolve ...). The handle stays usable and no
/// data is lost: bytes read so far stay buffered for the next call.
pub const LS_ERR_TIMEOUT: i32 = -1;
/// Nobody listens at the address (ECONNREFUSED).
pub const LS_ERR_CONNECTION_REFUSED: i32 = -2;
/// The peer reset the connection (ECONNRESET).
pub const LS_ERR_CONNECTION_RESET: i32 = -3;
/// The connection was aborted locally (ECONNABORTED).
pub const LS_ERR_CONNECTION_ABORTED: i32 = -4;
/// The peer finished sending (orderly close) before the call could complete, or the handle was
/// closed by another thread while the call was blocked.
pub const LS_ERR_CLOSED: i32 = -5;
/// The local address is taken (EADDRINUSE, or a live Unix socket path).
pub const LS_ERR_ADDR_IN_USE: i32 = -6;
/// The local address is not on this host (EADDRNOTAVAIL).
pub const LS_ERR_ADDR_NOT_AVAILABLE: i32 = -7;
/// No route to the network or host.
pub const LS_ERR_UNREACHABLE: i32 = -8;
/// A host name could not be resolved.
pub const LS_ERR_RESOLVE: i32 = -9;
/// A malformed address, an out-of-range value, a NULL pointer, a size above `PTRDIFF_MAX`, a
/// string that is not UTF-8 ...
pub const LS_ERR_INVALID_ARGUMENT: i32 = -10;
/// A frame exceeds the framing's `max_len` (nothing of the claimed size was allocated).
pub const LS_ERR_FRAME_TOO_LARGE: i32 = -11;
/// The caller's buffer cannot hold the result; the needed size is in `*out_len` and a message
/// stays queued for the next call.
pub const LS_ERR_BUFFER_TOO_SMALL: i32 = -12;
/// An unknown or closed handle, or a handle of another kind than the function takes.
pub const LS_ERR_BAD_HANDLE: i32 = -13;
/// A bounded queue is full.
pub const LS_ERR_QUEUE_FULL: i32 = -14;
/// The operation or option does not exist on this OS or for this kind of socket.
pub const LS_ERR_UNSUPPORTED: i32 = -15;
/// A TLS handshake or certificate failure.
pub const LS_ERR_TLS: i32 = -16;
/// Any other OS error; `ls_last_os_error()` gives the errno.
pub const LS_ERR_IO: i32 = -17;
/// A bug inside libsock (a caught panic, for example).
pub const LS_ERR_INTERNAL: i32 = -18;
/// A wait was interrupted.
pub const LS_ERR_INTERRUPTED: i32 = -19;
/// The peer sent a malformed frame: it breaks the framing's rules (a wrong HP-Socket PACK flag,
/// a length that the adjustment makes negative). The stream cannot be resynchronised: close the
/// connection. `ls_last_os_error()` gives EBADMSG.
pub const LS_ERR_BAD_FRAME: i32 = -20;

// ---------------------------------------------------------------------------------------------
// Socket options (ls_set_option / ls_get_option); values are int64_t, booleans 0/1
// ---------------------------------------------------------------------------------------------

/// TCP_NODELAY (0/1): send small writes at once.
pub const LS_OPT_NODELAY: i32 = 1;
/// SO_KEEPALIVE (0/1): kernel keepalive probes.
pub const LS_OPT_KEEPALIVE: i32 = 2;
/// TCP_KEEPIDLE: seconds of idleness before the first probe (setting it enables keepalive).
pub const LS_OPT_KEEPALIVE_IDLE: i32 = 3;
/// TCP_KEEPINTVL: seconds between probes (setting it enables keepalive).
pub const LS_OPT_KEEPALIVE_INTERVAL: i32 = 4;
/// TCP_KEEPCNT: unanswered probes before the connection is dropped (enables keepalive).
pub const LS_OPT_KEEPALIVE_COUNT: i32 = 5;
/// SO_LINGER in seconds: -1 off, 0 abortive close (RST), N wait up to N seconds.
pub const LS_OPT_LINGER: i32 = 6;
/// SO_RCVBUF in bytes (Linux reports double the value set). Core's option `recv_buffer_size`
/// (docs/NAMES.md; `LS_OPT_RECV_BUFFER` before).
pub const LS_OPT_RECV_BUFFER_SIZE: i32 = 7;
/// SO_SNDBUF in bytes (Linux reports double the value set). Core's option `send_buffer_size`
/// (`LS_OPT_SEND_BUFFER` before).
pub const LS_OPT_SEND_BUFFER_SIZE: i32 = 8;
/// SO_REUSEADDR (0/1).
pub const LS_OPT_REUSE_ADDRESS: i32 = 9;
/// SO_REUSEPORT (0/1).
pub const LS_OPT_REUSE_PORT: i32 = 10;
/// IP_TTL / IPV6_UNICAST_HOPS.
pub const LS_OPT_TTL: i32 = 11;
/// IP_TOS / IPV6_TCLASS.
pub const LS_OPT_TOS: i32 = 12;
/// IPV6_V6ONLY (0/1).
pub const LS_OPT_V6_ONLY: i32 = 13;
/// SO_BROADCAST (0/1).
pub const LS_OPT_BROADCAST: i32 = 14;
/// IP_MULTICAST_TTL / IPV6_MULTICAST_HOPS.
pub const LS_OPT_MULTICAST_TTL: i32 = 15;
/// IP_MULTICAST_LOOP / IPV6_MULTICAST_LOOP (0/1).
pub const LS_OPT_MULTICAST_LOOP: i32 = 16;
/// TCP_USER_TIMEOUT in milliseconds (Linux). Core's option `tcp_user_timeout`
/// (`LS_OPT_USER_TIMEOUT` before).
pub const LS_OPT_TCP_USER_TIMEOUT: i32 = 17;

// ---------------------------------------------------------------------------------------------
// Other constants
// ---------------------------------------------------------------------------------------------

/// `timeout_ms` value: use the handle's default timeout (set with `ls_set_timeout`).
pub const LS_TIMEOUT_DEFAULT: i32 = -2;
/// `timeout_ms` value: wait forever.
pub const LS_TIMEOUT_FOREVER: i32 = -1;
/// `timeout_ms` value: do not wait (poll once).
pub const LS_TIMEOUT_POLL: i32 = 0;

/// `ls_socket_shutdown` direction: no more receiving.
pub const LS_SHUT_READ: i32 = 0;
/// `ls_socket_shutdown` direction: no more sending (half-close; the peer reads end of stream).
pub const LS_SHUT_WRITE: i32 = 1;
/// `ls_socket_shutdown` direction: both.
pub const LS_SHUT_BOTH: i32 = 2;

/// A text buffer of this many bytes holds any address libsock writes (`ls_local_address`,
/// `ls_peer_address`, the peer of `ls_recv_from`), terminating NUL included.
pub const LS_ADDRESS_MAX: i32 = 256;

/// `max_len` value for the framing functions: the default limit, 16 MiB.
pub const LS_DEFAULT_MAX_LEN: i32 = 0;

// ---------------------------------------------------------------------------------------------
// Library
// ---------------------------------------------------------------------------------------------

/// The library version as a static NUL-terminated string, e.g. "0.1.0". Never NULL.
#[no_mangle]
pub extern "C" fn ls_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// A fixed English description of return code `code` (static, never NULL; "unknown error code"
/// for a number that is no `LS_ERR_*`).
#[no_mangle]
pub extern "C" fn ls_strerror(code: i32) -> *const c_char {
    static_text(code, |t| &t.descriptions, c"unknown error code")
}

/// The name of return code `code` without the `LS_ERR_` prefix, e.g. "TIMEOUT" for -1, "OK" for
/// 0 (static, never NULL; "UNKNOWN" for a number that is no `LS_ERR_*`). For bindings that cannot
/// see the header's macros.
#[no_mangle]
pub extern "C" fn ls_error_name(code: i32) -> *const c_char {
    static_text(code, |t| &t.names, c"UNKNOWN")
}

fn static_text(
    code: i32,
    pick: impl Fn(&boundary::ErrorTexts) -> &Vec<std::ffi::CString>,
    unknown: &'static std::ffi::CStr,
) -> *const c_char {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        if code > 0 {
            return unknown.as_ptr();
        }
        let i = (-(code as i64)) as usize;
        pick(&ERROR_TEXTS)
            .get(i)
            .map_or(unknown.as_ptr(), |c| c.as_ptr())
    }))
    .unwrap_or(unknown.as_ptr())
}

/// Copy the calling thread's last error message (UTF-8, NUL-terminated) into `buf`; `*out_len`
/// receives its length without the NUL. The message is core's, the same text in every language
/// door; it names the operation and the address, e.g. "connect to 127.0.0.1:9: connection
/// refused (os error 111)".
/// It is the message of the last call on this thread that failed (empty if none did); reading it
/// does not change it. Returns `LS_ERR_BUFFER_TOO_SMALL` with the needed size (NUL included) in
/// `*out_len` when `cap` is too small (`buf` NULL and `cap` 0 ask for the size).
#[no_mangle]
pub unsafe extern "C" fn ls_last_error_message(
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> i32 {
    // Not through `call`: a failure here must not replace the message being read.
    std::panic::catch_unwind(|| -> i32 {
        let Ok(out_len) = Out::new(out_len, "out_len") else {
            return LS_ERR_INVALID_ARGUMENT;
        };
        // SAFETY: the caller promises `cap` writable bytes at `buf`.
        let Ok(buf) = (unsafe { out_bytes(buf.cast(), cap, 0, "buf") }) else {
            return LS_ERR_INVALID_ARGUMENT;
        };
        with_last(|l| {
            let text = l.msg.to_str().unwrap_or("");
            match write_text(text, buf, &out_len) {
                Ok(()) => LS_OK,
                Err(e) => e.code(),
            }
        })
    })
    .unwrap_or(LS_ERR_INTERNAL)
}

/// The calling thread's last error message as a NUL-terminated UTF-8 string owned by libsock,
/// valid until the next `ls_*` call on this thread (copy it if you need it longer). Never NULL;
/// "" if no call failed on this thread.
#[no_mangle]
pub extern "C" fn ls_last_error() -> *const c_char {
    std::panic::catch_unwind(|| with_last(|l| l.msg.as_ptr())).unwrap_or(c"".as_ptr())
}

/// The return code of the last call on this thread that failed (0 if none did).
#[no_mangle]
pub extern "C" fn ls_last_error_code() -> i32 {
    std::panic::catch_unwind(|| with_last(|l| l.code)).unwrap_or(LS_ERR_INTERNAL)
}

/// The OS error number (errno) behind the last failed call on this thread, or 0 when that failure
/// did not come from the OS.
#[no_mangle]
pub extern "C" fn ls_last_os_error() -> i32 {
    std::panic::catch_unwind(|| with_last(|l| l.os)).unwrap_or(0)
}

/// Close any handle: a connection, listener, datagram socket, options object, engine config,
/// server, client or datagram server. The handle is invalid afterwards (`LS_ERR_BAD_HANDLE`), and
/// never reused. A call blocked on it in another thread (`ls_recv`, `ls_next_event` ...) returns
/// `LS_ERR_CLOSED` promptly. An engine object stops at once (connections are cut, queued
/// messages dropped: call `ls_server_shutdown` / `ls_client_close` first for a graceful stop). Closing handle 0 does nothing and returns `LS_OK`;
/// closing a handle twice returns `LS_ERR_BAD_HANDLE` the second time (and does no harm).
#[no_mangle]
pub extern "C" fn ls_close(handle: i64) -> i32 {
    call("ls_close", || {
        if handle == 0 {
            return Ok(());
        }
        remove(handle)
    })
}

// ---------------------------------------------------------------------------------------------
// Options objects (socket options applied before bind/connect)
// ---------------------------------------------------------------------------------------------

/// Create an options object: set options on it with `ls_set_option` (and
/// `ls_options_set_local_address`), then pass it to `ls_tcp_connect_ex`, `ls_listen_ex`,
/// `ls_udp_bind_ex` or `ls_udp_connect_ex`, which apply them before binding or connecting (needed
/// for SO_REUSEADDR on a multicast receiver, receive buffers that size the TCP window, ...). The
/// object may be reused; free it with `ls_close`.
#[no_mangle]
pub unsafe extern "C" fn ls_options_new(out_handle: *mut i64) -> i32 {
    call("ls_options_new", || {
        let out = Out::new(out_handle, "out_handle")?;
        out.set(insert(Obj::Options(Mutex::new(OptionsEntry::default())))?);
        Ok(())
    })
}

/// Bind the socket to this local address ("ip:port", "[v6]:port"; port 0 = any) before
/// connecting (`ls_tcp_connect_ex`, `ls_udp_connect_ex`).
#[no_mangle]
pub unsafe extern "C" fn ls_options_set_local_address(
    options_handle: i64,
    address: *const c_char,
) -> i32 {
    call("ls_options_set_local_address", || {
        // SAFETY: the caller promises a NUL-terminated string.
        let text = unsafe { in_str(address, "address") }?;
        let sa: SocketAddr = text.parse().map_err(|_| {
            bad_arg(format!(
                "address {text:?} is not an IP address with a port, as in 127.0.0.1:0 or [::1]:0"
            ))
        })?;
        let o = options(options_handle)?;
        if let Obj::Options(m) = &*o {
            m.lock().unwrap_or_else(|p| p.into_inner()).opts.local_addr = Some(sa);
        }
        Ok(())
    })
}

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
/// applied before connecting.
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
    let c = Connection::connect_with(address, &opts)?;
    out.set(insert(Obj::Conn(c))?);
    Ok(())
}

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
    let mut opts = ListenOptions::new().options(options_value(options_handle)?);
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

// ---------------------------------------------------------------------------------------------
// Datagram sockets
// ---------------------------------------------------------------------------------------------

/// Open a UDP socket bound to `address` ("0.0.0.0:5000", "127.0.0.1:0", "[::]:0"), or a Unix
/// datagram socket ("unix:/path"). Send with `ls_send_to`, receive with `ls_recv_from`.
#[no_mangle]
pub unsafe extern "C" fn ls_udp_bind(address: *const c_char, out_handle: *mut i64) -> i32 {
    call("ls_udp_bind", || unsafe {
        // SAFETY: forwarded with the same promises.
        udp_impl(address, 0, out_handle, false)
    })
}

/// `ls_udp_bind` with the socket options of options object `options_handle` (0 = none) applied
/// before binding (e.g. `LS_OPT_REUSE_ADDRESS` for a multicast receiver).
#[no_mangle]
pub unsafe extern "C" fn ls_udp_bind_ex(
    address: *const c_char,
    options_handle: i64,
    out_handle: *mut i64,
) -> i32 {
    call("ls_udp_bind_ex", || unsafe {
        // SAFETY: forwarded with the same promises.
        udp_impl(address, options_handle, out_handle, false)
    })
}

/// Open a datagram socket connected to `address`: `ls_send`/`ls_recv` talk to that peer only.
/// The local side gets an ephemeral port.
#[no_mangle]
pub unsafe extern "C" fn ls_udp_connect(address: *const c_char, out_handle: *mut i64) -> i32 {
    call("ls_udp_connect", || unsafe {
        // SAFETY: forwarded with the same promises.
        udp_impl(address, 0, out_handle, true)
    })
}

/// `ls_udp_connect` with the socket options of options object `options_handle` (0 = none).
#[no_mangle]
pub unsafe extern "C" fn ls_udp_connect_ex(
    address: *const c_char,
    options_handle: i64,
    out_handle: *mut i64,
) -> i32 {
    call("ls_udp_connect_ex", || unsafe {
        // SAFETY: forwarded with the same promises.
        udp_impl(address, options_handle, out_handle, true)
    })
}

unsafe fn udp_impl(
    address: *const c_char,
    options_handle: i64,
    out_handle: *mut i64,
    connect: bool,
) -> Result<(), Error> {
    let out = Out::new(out_handle, "out_handle")?;
    // SAFETY: the caller promises a NUL-terminated string.
    let address = unsafe { in_str(address, "address") }?;
    let opts = DatagramOptions {
        options: options_value(options_handle)?,
        ..DatagramOptions::default()
    };
    let d = if connect {
        Datagram::connect_with(address, &opts)?
    } else {
        Datagram::bind_with(address, &opts)?
    };
    out.set(insert(Obj::Dgram(d))?);
    Ok(())
}

/// Send one datagram of `len` bytes to `address` ("ip:port", "[v6]:port", "host:port",
/// "unix:/path") from datagram socket `handle`. The whole datagram is sent or an error returned.
#[no_mangle]
pub unsafe extern "C" fn ls_send_to(
    handle: i64,
    buf: *const u8,
    len: usize,
    address: *const c_char,
) -> i32 {
    call("ls_send_to", || {
        // SAFETY: the caller promises `len` readable bytes and a NUL-terminated string.
        let data = unsafe { in_bytes(buf, len, "buf") }?;
        let address = unsafe { in_str(address, "address") }?;
        let o = dgram(handle)?;
        as_dgram(&o).send_to_endpoint(data, address, Timeout::Default)?;
        Ok(())
    })
}

/// Receive one datagram on `handle` into `buf` (capacity `cap` > 0): `*out_len` bytes written,
/// the sender's address as text in `peer_buf` (NUL-terminated, `peer_cap` at least
/// `LS_ADDRESS_MAX`) with its length in `*out_peer_len`, and `*out_truncated` 1 when the datagram
/// was larger than `buf` (its tail is lost, as with recvfrom), else 0. `timeout_ms`: -2 the
/// handle's default, -1 forever, 0 poll, N milliseconds.
#[no_mangle]
pub unsafe extern "C" fn ls_recv_from(
    handle: i64,
    timeout_ms: i32,
    buf: *mut u8,
    cap: usize,
    out_len: *mut usize,
    peer_buf: *mut c_char,
    peer_cap: usize,
    out_peer_len: *mut usize,
    out_truncated: *mut i32,
) -> i32 {
    call("ls_recv_from", || {
        // SAFETY: the caller promises `cap` and `peer_cap` writable bytes.
        let data = unsafe { out_bytes(buf, cap, 1, "buf") }?;
        let peer = unsafe {
            out_bytes(
                peer_buf.cast(),
                peer_cap,
                LS_ADDRESS_MAX as usize,
                "peer_buf",
            )
        }?;
        let out_len = Out::new(out_len, "out_len")?;
        let out_peer_len = Out::new(out_peer_len, "out_peer_len")?;
        let out_truncated = Out::new(out_truncated, "out_truncated")?;
        let t = timeout_arg(timeout_ms)?;
        let o = dgram(handle)?;
        let meta = as_dgram(&o).recv_from_timeout(data, t)?;
        let text_len = meta.peer.with_text(|text| -> Result<usize, Error> {
            let text = fit_address(text, peer.len());
            // Cannot fail: the address was cut to fit.
            let mut written = 0usize;
            write_text(text, peer, &Out::new(&mut written, "written")?)?;
            Ok(text.len())
        })?;
        out_len.set(meta.len);
        out_peer_len.set(text_len);
        out_truncated.set(meta.truncated as i32);
        Ok(())
    })
}

/// Receive up to `count` (> 0) datagrams on `handle` with one recvmmsg(2) call where the OS has
/// it, waiting for the first: datagram i goes to `buf + i * slot_size` (`buf` holds `count *
/// slot_size` bytes, `slot_size` > 0), its length to `out_lens[i]`; `*out_count` receives how
/// many arrived (at least 1). Optional (NULL = not wanted): `out_truncated[i]` 1 when datagram i
/// was larger than `slot_size` (its tail is lost), else 0; `peer_bufs` (`count *
/// LS_ADDRESS_MAX` bytes) receives datagram i's sender as NUL-terminated text at `peer_bufs + i
/// * LS_ADDRESS_MAX`. `timeout_ms`: -2 the handle's default (`ls_set_timeout`), -1 forever, 0
/// poll, N milliseconds, for the first datagram; what else is queued then comes with it in the
/// same system call. `LS_ERR_TIMEOUT` when none came.
#[no_mangle]
pub unsafe extern "C" fn ls_recv_many(
    handle: i64,
    timeout_ms: i32,
    buf: *mut u8,
    slot_size: usize,
    count: usize,
    out_lens: *mut usize,
    out_truncated: *mut i32,
    peer_bufs: *mut c_char,
    out_count: *mut usize,
) -> i32 {
    call("ls_recv_many", || {
        let slot = check_len(slot_size, "slot_size")?;
        let count = check_len(count, "count")?;
        if count == 0 {
            // No buffers: core's InvalidArgument (its message, as in every door).
            let o = dgram(handle)?;
            as_dgram(&o).recv_many(&mut [], &mut Vec::new())?;
            return Err(bad_arg("count is 0: it must be at least 1"));
        }
        if slot == 0 {
            return Err(bad_arg("slot_size is 0: it must be at least 1"));
        }
        let cap = slot
            .checked_mul(count)
            .filter(|&c| c <= isize::MAX as usize)
            .ok_or_else(|| bad_arg("count * slot_size is too large"))?;
        // SAFETY: the caller promises `count * slot_size` writable bytes.
        let data = unsafe { out_bytes(buf, cap, 1, "buf") }?;
        if out_lens.is_null() {
            return Err(bad_arg("out_lens is NULL"));
        }
        if out_lens.align_offset(std::mem::align_of::<usize>()) != 0 {
            return Err(bad_arg("out_lens is not aligned for size_t"));
        }
        let out = Out::new(out_count, "out_count")?;
        let t = timeout_arg(timeout_ms)?;
        let o = dgram(handle)?;
        let d = as_dgram(&o);
        let mut slots: Vec<&mut [u8]> = data.chunks_mut(slot).collect();
        let mut metas = Vec::with_capacity(count);
        d.recv_many_timeout(&mut slots, &mut metas, t)?;
        // SAFETY: the caller promises `count` writable entries in each array given.
        let lens = unsafe { std::slice::from_raw_parts_mut(out_lens, count) };
        for (l, m) in lens.iter_mut().zip(&metas) {
            *l = m.len;
        }
        if !out_truncated.is_null() {
            // SAFETY: as above.
            let tr = unsafe { std::slice::from_raw_parts_mut(out_truncated, count) };
            for (t, m) in tr.iter_mut().zip(&metas) {
                *t = m.truncated as i32;
            }
        }
        if !peer_bufs.is_null() {
            let width = LS_ADDRESS_MAX as usize;
            // SAFETY: as above: `count * LS_ADDRESS_MAX` writable bytes.
            let peers =
                unsafe { std::slice::from_raw_parts_mut(peer_bufs.cast::<u8>(), count * width) };
            for (p, m) in peers.chunks_mut(width).zip(&metas) {
                m.peer.with_text(|text| {
                    let text = fit_address(text, width);
                    p[..text.len()].copy_from_slice(text.as_bytes());
                    p[text.len()] = 0;
                });
            }
        }
        out.set(metas.len());
        Ok(())
    })
}

/// Cut an address that cannot fit `cap` bytes with its NUL (only a pathological abstract Unix
/// name can) at a character boundary.
fn fit_address(text: &str, cap: usize) -> &str {
    if text.len() < cap {
        return text;
    }
    let mut end = cap.saturating_sub(1);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

fn group_arg(group: &str) -> Result<IpAddr, Error> {
    group
        .parse()
        .map_err(|_| bad_arg(format!("group {group:?} is not an IP address")))
}

unsafe fn multicast(
    handle: i64,
    group: *const c_char,
    iface: *const c_char,
    join: bool,
) -> Result<(), Error> {
    // SAFETY: the caller promises NUL-terminated strings (iface may be NULL).
    let group = group_arg(unsafe { in_str(group, "group") }?)?;
    let interface = if iface.is_null() {
        MulticastInterface::Default
    } else {
        unsafe { in_str(iface, "iface") }?.parse::<MulticastInterface>()?
    };
    let o = dgram(handle)?;
    let d = as_dgram(&o);
    if join {
        d.join_multicast(group, interface)
    } else {
        d.leave_multicast(group, interface)
    }
}

/// Join multicast group `group` ("239.1.2.3", "ff02::1234") on interface `iface`: NULL or "" the
/// default, an IPv4 interface address ("127.0.0.1") or an IPv6 interface index ("1").
#[no_mangle]
pub unsafe extern "C" fn ls_join_multicast(
    handle: i64,
    group: *const c_char,
    iface: *const c_char,
) -> i32 {
    // SAFETY: forwarded with the same promises.
    call("ls_join_multicast", || unsafe {
        multicast(handle, group, iface, true)
    })
}

/// Leave a multicast group joined with `ls_join_multicast` (same arguments).
#[no_mangle]
pub unsafe extern "C" fn ls_leave_multicast(
    handle: i64,
    group: *const c_char,
    iface: *const c_char,
) -> i32 {
    // SAFETY: forwarded with the same promises.
    call("ls_leave_multicast", || unsafe {
        multicast(handle, group, iface, false)
    })
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
        let mut total = 0usize;
        for (i, &l) in lens.iter().enumerate() {
            total = total
                .checked_add(check_len(l, "lens[i]")?)
                .filter(|&t| t <= isize::MAX as usize)
                .ok_or_else(|| {
                    bad_arg(format!("the sum of lens is too large (at lens[{i}] = {l})"))
                })?;
        }
        // SAFETY: the caller promises the sum of `lens` readable bytes.
        let data = unsafe { in_bytes(buf, total, "buf") }?;
        let o = conn(handle)?;
        let mut at = 0;
        let msgs: Vec<&[u8]> = lens
            .iter()
            .map(|&l| {
                let m = &data[at..at + l];
                at += l;
                m
            })
            .collect();
        as_conn(&o).send_msgs(&msgs)
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
        if out_lens.is_null() {
            return Err(bad_arg("out_lens is NULL"));
        }
        if out_lens.align_offset(std::mem::align_of::<usize>()) != 0 {
            return Err(bad_arg("out_lens is not aligned for size_t"));
        }
        let out = Out::new(out_count, "out_count")?;
        let t = timeout_arg(timeout_ms)?;
        let o = conn(handle)?;
        // SAFETY: `out_lens` is not NULL and the caller promises `count` writable lengths.
        let lens = unsafe { std::slice::from_raw_parts_mut(out_lens, count) };
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
            other => {
                return Err(wrong_kind(
                    handle,
                    other,
                    "connection, datagram socket or client",
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
            other => return Err(wrong_kind(handle, other, "socket")),
        };
        out.set(ms);
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use libsock::{ErrorKind, SockOpt};

    #[test]
    fn error_macros_match_core_codes() {
        let macros = [
            LS_ERR_TIMEOUT,
            LS_ERR_CONNECTION_REFUSED,
            LS_ERR_CONNECTION_RESET,
            LS_ERR_CONNECTION_ABORTED,
            LS_ERR_CLOSED,
            LS_ERR_ADDR_IN_USE,
            LS_ERR_ADDR_NOT_AVAILABLE,
            LS_ERR_UNREACHABLE,
            LS_ERR_RESOLVE,
            LS_ERR_INVALID_ARGUMENT,
            LS_ERR_FRAME_TOO_LARGE,
            LS_ERR_BUFFER_TOO_SMALL,
            LS_ERR_BAD_HANDLE,
            LS_ERR_QUEUE_FULL,
            LS_ERR_UNSUPPORTED,
            LS_ERR_TLS,
            LS_ERR_IO,
            LS_ERR_INTERNAL,
            LS_ERR_INTERRUPTED,
            LS_ERR_BAD_FRAME,
        ];
        assert_eq!(macros.len(), ErrorKind::ALL.len());
        for (m, k) in macros.iter().zip(ErrorKind::ALL) {
            assert_eq!(*m, k.code(), "{k:?}");
        }
    }

    #[test]
    fn option_macros_match_core_numbers() {
        let macros = [
            LS_OPT_NODELAY,
            LS_OPT_KEEPALIVE,
            LS_OPT_KEEPALIVE_IDLE,
            LS_OPT_KEEPALIVE_INTERVAL,
            LS_OPT_KEEPALIVE_COUNT,
            LS_OPT_LINGER,
            LS_OPT_RECV_BUFFER_SIZE,
            LS_OPT_SEND_BUFFER_SIZE,
            LS_OPT_REUSE_ADDRESS,
            LS_OPT_REUSE_PORT,
            LS_OPT_TTL,
            LS_OPT_TOS,
            LS_OPT_V6_ONLY,
            LS_OPT_BROADCAST,
            LS_OPT_MULTICAST_TTL,
            LS_OPT_MULTICAST_LOOP,
            LS_OPT_TCP_USER_TIMEOUT,
        ];
        assert_eq!(macros.len(), SockOpt::ALL.len());
        for (m, o) in macros.iter().zip(SockOpt::ALL) {
            assert_eq!(*m, o.number(), "{o:?}");
        }
    }

    #[test]
    fn version_macros_match_cargo() {
        assert_eq!(
            LS_VERSION_MAJOR.to_string(),
            env!("CARGO_PKG_VERSION_MAJOR")
        );
        assert_eq!(
            LS_VERSION_MINOR.to_string(),
            env!("CARGO_PKG_VERSION_MINOR")
        );
        assert_eq!(
            LS_VERSION_PATCH.to_string(),
            env!("CARGO_PKG_VERSION_PATCH")
        );
    }

    #[test]
    fn timeout_constants_are_the_flat_doors() {
        assert_eq!(LS_TIMEOUT_DEFAULT, flat::TIMEOUT_DEFAULT);
        assert_eq!(LS_TIMEOUT_FOREVER, flat::TIMEOUT_FOREVER);
        assert_eq!(LS_TIMEOUT_POLL, flat::TIMEOUT_POLL);
    }
}
