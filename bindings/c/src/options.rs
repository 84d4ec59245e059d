//! Options objects: socket options recorded for a later `ls_*_ex` call, applied before binding
//! or connecting.

use std::ffi::c_char;
use std::net::SocketAddr;
use std::sync::Mutex;

use libsock::Proxy;

use crate::boundary::{bad_arg, call, in_str, Out};
use crate::handles::{insert, options, Obj, OptionsEntry};

// ---------------------------------------------------------------------------------------------
// Options objects (socket options applied before bind/connect)
// ---------------------------------------------------------------------------------------------

/// Create an options object: set options on it with `ls_set_option` (and
/// `ls_options_set_local_address`), then pass it to `ls_tcp_connect_ex`, `ls_listen_ex`,
/// `ls_udp_bind_ex` or `ls_udp_connect_ex`, which apply them before binding or connecting (needed
/// for SO_REUSEADDR on a multicast receiver, receive buffers that size the TCP window, ...);
/// `ls_options_set_tls` attaches a TLS config for `ls_tcp_connect_ex` and `ls_listen_ex`. The
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

/// Connect through a proxy: `url` is "socks5://[user:password@]host[:port]" (also socks5h://,
/// the same; default port 1080) or "http://[user:password@]host[:port]" (HTTP CONNECT; default
/// port 80); "%XX" escapes in the user name and password are decoded, IPv6 hosts go in
/// brackets; "" removes the proxy. Core parses and checks the URL here
/// (`LS_ERR_INVALID_ARGUMENT` naming what is wrong; the message never shows the password).
/// `ls_tcp_connect_ex` then reaches the proxy, asks it for the address it was given and
/// returns the tunnelled connection: its `timeout_ms` covers reaching the proxy and the
/// exchange; TLS set with `ls_options_set_tls` runs end to end with the target (the server name
/// checked is the target's); a refusal by the proxy is the error of that refusal
/// (`LS_ERR_CONNECTION_REFUSED`, `LS_ERR_UNREACHABLE`, ...; the message says what the proxy
/// answered). `ls_peer_address` gives the proxy's address. A Unix socket address cannot be
/// reached through a proxy; `ls_listen_ex` and the datagram calls refuse an options object
/// with a proxy.
#[no_mangle]
pub unsafe extern "C" fn ls_options_set_proxy(options_handle: i64, url: *const c_char) -> i32 {
    call("ls_options_set_proxy", || {
        // SAFETY: the caller promises a NUL-terminated string.
        let text = unsafe { in_str(url, "url") }?;
        let proxy = if text.is_empty() {
            None
        } else {
            Some(Proxy::parse(text)?)
        };
        let o = options(options_handle)?;
        if let Obj::Options(m) = &*o {
            m.lock().unwrap_or_else(|p| p.into_inner()).proxy = proxy;
        }
        Ok(())
    })
}

/// `LS_ERR_INVALID_ARGUMENT` when options handle `h` has a proxy: `what` (listening, a
/// datagram socket) cannot go through one.
pub(crate) fn refuse_proxy(h: i64, what: &str) -> Result<(), libsock::Error> {
    if crate::handles::options_proxy(h)?.is_some() {
        return Err(bad_arg(format!(
            "the options object has a proxy (ls_options_set_proxy): {what} cannot go through a \
             proxy, only ls_tcp_connect_ex can"
        )));
    }
    Ok(())
}
