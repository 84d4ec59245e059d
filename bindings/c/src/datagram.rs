//! Datagram sockets: UDP and Unix datagram, multicast.

use std::ffi::c_char;
use std::net::IpAddr;

use crate::boundary::{
    bad_arg, call, check_len, in_bytes, in_str, out_array, out_bytes, timeout_arg, write_text, Out,
};
use crate::handles::{as_dgram, dgram, insert, options_value, Obj};
use crate::LS_ADDRESS_MAX;
use libsock::{Addr, Datagram, DatagramOptions, Error, MulticastInterface, Timeout};

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
    if crate::handles::options_tls(options_handle)?.is_some() {
        return Err(bad_arg(
            "the options object has a TLS config (ls_options_set_tls): datagram sockets do not speak TLS",
        ));
    }
    crate::options::refuse_proxy(options_handle, "a datagram socket")?;
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
        let text_len = write_peer(Some(&meta.peer), peer)?;
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
/// * LS_ADDRESS_MAX`; without it the kernel is not asked for the senders at all, which makes
/// the receive cheaper (about 100 ns per datagram on Linux). `timeout_ms`: -2 the handle's
/// default (`ls_set_timeout`), -1 forever, 0 poll, N milliseconds, for the first datagram; what
/// else is queued then comes with it in the same system call. `LS_ERR_TIMEOUT` when none came.
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
        // SAFETY: the caller promises `count` writable lengths.
        let lens = unsafe { out_array(out_lens, count, "out_lens", "size_t") }?
            .ok_or_else(|| bad_arg("out_lens is NULL"))?;
        let out = Out::new(out_count, "out_count")?;
        let t = timeout_arg(timeout_ms)?;
        let o = dgram(handle)?;
        let d = as_dgram(&o);
        let mut slots: Vec<&mut [u8]> = data.chunks_mut(slot).collect();
        let mut tr = (!out_truncated.is_null())
            // SAFETY: the caller promises `count` writable entries in each array given.
            .then(|| unsafe { std::slice::from_raw_parts_mut(out_truncated, count) });
        if peer_bufs.is_null() {
            // No senders wanted: core asks the kernel for none (a cheaper receive).
            let mut sizes = Vec::with_capacity(count.min(1024));
            let n = d.recv_many_sizes_timeout(&mut slots, &mut sizes, t)?;
            for (i, m) in sizes.iter().enumerate() {
                lens[i] = m.len;
                if let Some(tr) = &mut tr {
                    tr[i] = m.truncated as i32;
                }
            }
            out.set(n);
            return Ok(());
        }
        let mut metas = Vec::with_capacity(count.min(1024));
        d.recv_many_timeout(&mut slots, &mut metas, t)?;
        for (l, m) in lens.iter_mut().zip(&metas) {
            *l = m.len;
        }
        if let Some(tr) = tr {
            for (t, m) in tr.iter_mut().zip(&metas) {
                *t = m.truncated as i32;
            }
        }
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
        out.set(metas.len());
        Ok(())
    })
}

/// Write `peer` as text with its NUL into `buf` (at least one byte; empty text for none), cut
/// to fit (see [`fit_address`]); returns the text's length. `Addr::with_text` writes an IPv4
/// address on the stack: formatting it with `Display` cost ~1,800 instructions per datagram.
pub(crate) fn write_peer(peer: Option<&Addr>, buf: &mut [u8]) -> Result<usize, Error> {
    let mut put = |text: &str| -> Result<usize, Error> {
        let text = fit_address(text, buf.len());
        // Cannot fail: the address was cut to fit.
        let mut written = 0usize;
        write_text(text, buf, &Out::new(&mut written, "written")?)?;
        Ok(text.len())
    };
    match peer {
        Some(p) => p.with_text(put),
        None => put(""),
    }
}

/// Cut an address that cannot fit `cap` bytes with its NUL (only a pathological abstract Unix
/// name can) at a character boundary.
pub(crate) fn fit_address(text: &str, cap: usize) -> &str {
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

/// Send multicast datagrams of datagram socket `handle` out of interface `iface`: NULL or ""
/// the OS's choice, an IPv4 interface address ("127.0.0.1") or an IPv6 interface index ("1")
/// (IP_MULTICAST_IF / IPV6_MULTICAST_IF). A malformed interface is
/// `LS_ERR_INVALID_ARGUMENT`; one that does not exist on this host `LS_ERR_ADDR_NOT_AVAILABLE`.
#[no_mangle]
pub unsafe extern "C" fn ls_set_multicast_interface(handle: i64, iface: *const c_char) -> i32 {
    call("ls_set_multicast_interface", || {
        let interface = if iface.is_null() {
            MulticastInterface::Default
        } else {
            // SAFETY: the caller promises a NUL-terminated string.
            unsafe { in_str(iface, "iface") }?.parse::<MulticastInterface>()?
        };
        let o = dgram(handle)?;
        as_dgram(&o).set_multicast_interface(interface)
    })
}
