//! KCP (reliable UDP, core's `libsock::kcp`) in the C door: the KCP server is an engine object
//! made by `ls_kcp_server_bind` and then driven by the TCP server's calls (`ls_next_event`,
//! `ls_server_send`, `ls_server_disconnect`, `ls_server_clients`, `ls_server_client_address`,
//! `ls_server_shutdown`, `ls_engine_stats`, `ls_pending_events`, `ls_notify_fd`, `ls_close`);
//! the session is a blocking object made by `ls_kcp_connect` with `ls_kcp_send`,
//! `ls_kcp_recv`, `ls_kcp_flush`, `ls_kcp_poll`, `ls_kcp_conv` and `ls_close`.
//!
//! The KCP tuning lives in a KCP config handle (`ls_kcp_config_new`, `LS_KCP_*` keys: core's
//! [`KcpKey`] table), apart from the engine config: the session is no engine object, and the
//! engine config's keys (`LS_ECFG_*`) are one table that every door checks against core.
//!
//! Translation only, like the rest of the crate: every body runs in [`call`].

use std::ffi::c_char;
use std::sync::Mutex;
use std::time::Duration;

use libsock::kcp::{KcpKey, KcpServer, KcpSession, KcpSettings};
use libsock::{Error, Timeout};

use crate::boundary::{bad_arg, call, in_bytes, in_str, out_bytes, Out};
use crate::engine::{with_config, EngineConfig};
use crate::handles::{get, insert, options_value, wrong_kind, Engine, KcpEntry, Obj};
use libsock_flat::{engine_timeout, timeout as timeout_arg};

// ---------------------------------------------------------------------------------------------
// KCP config keys (ls_kcp_config_set / ls_kcp_config_get); core's `KcpKey` numbers
// ---------------------------------------------------------------------------------------------

/// KCP nodelay level: 0 off (a lost segment's RTO doubles), 1 on, 2 on with a linear backoff
/// (default 2).
pub const LS_KCP_NODELAY: i32 = 1;
/// KCP internal update interval in ms, 10..5000 (default 10).
pub const LS_KCP_INTERVAL_MS: i32 = 2;
/// KCP fast resend: after this many later segments were acknowledged (0 off; default 2).
pub const LS_KCP_RESEND: i32 = 3;
/// KCP no congestion control, 0/1 (default 1).
pub const LS_KCP_NC: i32 = 4;
/// KCP send window in segments, 1..65535 (default 128).
pub const LS_KCP_SEND_WINDOW: i32 = 5;
/// KCP receive window in segments, 128..65535 (default 128).
pub const LS_KCP_RECV_WINDOW: i32 = 6;
/// KCP bytes per datagram, headers included, 50..65000 (default 1400).
pub const LS_KCP_MTU: i32 = 7;
/// KCP minimum retransmission timeout in ms, 1..60000; 0 automatic (default: 30 ms with
/// nodelay, else 100 ms).
pub const LS_KCP_MIN_RTO_MS: i32 = 8;
/// KCP stream mode (no message boundaries), 0/1 (default 0).
pub const LS_KCP_STREAM: i32 = 9;
/// KCP dead link: transmissions of one segment without acknowledgement after which the peer
/// is gone (a session's calls then fail with `LS_ERR_CONNECTION_ABORTED`; a server's session
/// ends with `LS_REASON_HEARTBEAT_LOST`); default 20.
pub const LS_KCP_DEAD_LINK: i32 = 10;
/// KCP server: how long a finished (address, conv) is remembered so that late
/// retransmissions do not open it again, in ms (default 10000).
pub const LS_KCP_LINGER_MS: i32 = 11;

// ---------------------------------------------------------------------------------------------
// KCP statistics (ls_engine_stats); core's `KcpStat` numbers, apart from the LS_STAT_* ones
// ---------------------------------------------------------------------------------------------

/// KCP server and session: UDP datagrams received.
pub const LS_KCP_STAT_DATAGRAMS_IN: i32 = 101;
/// KCP server and session: UDP datagrams sent (data, acknowledgements, retransmissions).
pub const LS_KCP_STAT_DATAGRAMS_OUT: i32 = 102;
/// KCP server and session: datagrams refused (not KCP, or another conversation).
pub const LS_KCP_STAT_DATAGRAMS_BAD: i32 = 103;
/// KCP server and session: segments sent again (timeouts and fast resends).
pub const LS_KCP_STAT_RETRANSMITS: i32 = 104;
/// KCP session: segments waiting to be sent or acknowledged.
pub const LS_KCP_STAT_WAITING: i32 = 105;
/// KCP session: the smoothed round-trip time in ms (0 before the first acknowledgement).
pub const LS_KCP_STAT_SRTT_MS: i32 = 106;

/// `ls_kcp_connect`'s `conv`: pick a random conversation id (1 to 2^31 - 1).
pub const LS_KCP_CONV_RANDOM: i64 = -1;

// ---------------------------------------------------------------------------------------------
// KCP configs
// ---------------------------------------------------------------------------------------------

/// Run `f` on the KCP settings behind `h` (0 = the defaults).
fn with_kcp_config<R>(h: i64, f: impl FnOnce(&KcpSettings) -> R) -> Result<R, Error> {
    if h == 0 {
        return Ok(f(&KcpSettings::new()));
    }
    let o = get(h)?;
    match &*o {
        Obj::KcpConfig(m) => Ok(f(&m.lock().unwrap_or_else(|p| p.into_inner()))),
        other => Err(wrong_kind(h, other, "KCP config")),
    }
}

/// Create a KCP config: the KCP tuning for `ls_kcp_server_bind` and `ls_kcp_connect` (the
/// reference implementation's words: `LS_KCP_NODELAY`, `_INTERVAL_MS`, `_RESEND`, `_NC`,
/// `_SEND_WINDOW`, `_RECV_WINDOW`, `_MTU`, `_MIN_RTO_MS`, `_STREAM`, `_DEAD_LINK`, and the
/// server's `_LINGER_MS`). Unset keys keep core's defaults (the "fast" profile: nodelay 2,
/// interval 10 ms, resend 2, no congestion control). Both ends should agree on the MTU and the
/// stream mode. The object made takes a copy; free the config with `ls_close`.
#[no_mangle]
pub unsafe extern "C" fn ls_kcp_config_new(out_handle: *mut i64) -> i32 {
    call("ls_kcp_config_new", || {
        let out = Out::new(out_handle, "out_handle")?;
        out.set(insert(Obj::KcpConfig(Mutex::new(KcpSettings::new())))?);
        Ok(())
    })
}

/// Set `key` (`LS_KCP_*`) of KCP config `config_handle` to `value` (booleans 0/1, times in
/// ms). An unknown key or a value outside the key's range gives `LS_ERR_INVALID_ARGUMENT`
/// naming the range.
#[no_mangle]
pub extern "C" fn ls_kcp_config_set(config_handle: i64, key: i32, value: i64) -> i32 {
    call("ls_kcp_config_set", || {
        let key = KcpKey::from_code_checked(key)?;
        let o = get(config_handle)?;
        match &*o {
            Obj::KcpConfig(m) => m.lock().unwrap_or_else(|p| p.into_inner()).set(key, value),
            other => Err(wrong_kind(config_handle, other, "KCP config")),
        }
    })
}

/// The value of `key` (`LS_KCP_*`) in KCP config `config_handle`: as set, or the default.
#[no_mangle]
pub unsafe extern "C" fn ls_kcp_config_get(
    config_handle: i64,
    key: i32,
    out_value: *mut i64,
) -> i32 {
    call("ls_kcp_config_get", || {
        let out = Out::new(out_value, "out_value")?;
        let key = KcpKey::from_code_checked(key)?;
        if config_handle == 0 {
            return Err(Error::BadHandle(0));
        }
        out.set(with_kcp_config(config_handle, |s| s.get(key))?);
        Ok(())
    })
}

// ---------------------------------------------------------------------------------------------
// KCP servers
// ---------------------------------------------------------------------------------------------

/// Start a KCP server: a UDP socket bound to `address` ("127.0.0.1:0" picks a free port: read
/// it with `ls_local_port`; "[::]:port") whose sessions (one per peer address and conv, opened
/// by the peer's first valid KCP datagram) are clients, pulled and answered with the TCP
/// server's calls: `ls_next_event` (`LS_EVENT_CONNECTED`, `_MESSAGE`, `_DISCONNECTED`,
/// `_CLOSED`), `ls_server_send`, `ls_server_disconnect`, `ls_server_clients`,
/// `ls_server_client_address`, `ls_server_shutdown` (at once: KCP has no close on the wire),
/// `ls_engine_stats` (with `LS_KCP_STAT_*`), `ls_pending_events`, `ls_notify_fd`, `ls_close`.
/// Engine config `config_handle` (0 = defaults) gives `LS_ECFG_EVENT_CAPACITY`,
/// `_MAX_CLIENTS`, `_SEND_QUEUE_BYTES` (a session's unacknowledged bytes), `_SEND_POLICY`,
/// `_CLOSE_TIMEOUT_MS`, `_IDLE_TIMEOUT_MS` (unset: 60000, since silence is how a KCP session
/// ends; 0 never) and socket options; KCP config `kcp_config_handle` (0 = defaults) the KCP
/// tuning. A session whose peer stops acknowledging ends with `LS_REASON_HEARTBEAT_LOST`, a
/// silent one with `LS_REASON_IDLE_TIMEOUT`. A Unix address is `LS_ERR_UNSUPPORTED`; bad
/// settings `LS_ERR_INVALID_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn ls_kcp_server_bind(
    address: *const c_char,
    config_handle: i64,
    kcp_config_handle: i64,
    out_handle: *mut i64,
) -> i32 {
    call("ls_kcp_server_bind", || {
        let out = Out::new(out_handle, "out_handle")?;
        // SAFETY: the caller promises a NUL-terminated string.
        let address = unsafe { in_str(address, "address") }?;
        let kcp = with_kcp_config(kcp_config_handle, |s| s.clone())?;
        let cfg = with_config(config_handle, |e: &EngineConfig| e.kcp_server(&kcp))??;
        let s = KcpServer::bind(address, cfg)?;
        out.set(insert(Obj::KcpServer(Engine::new(s)))?);
        Ok(())
    })
}

// ---------------------------------------------------------------------------------------------
// KCP sessions (blocking)
// ---------------------------------------------------------------------------------------------

/// The KCP session behind `h`.
fn session(h: i64) -> Result<std::sync::Arc<Obj>, Error> {
    let o = get(h)?;
    match &*o {
        Obj::KcpSession(_) => Ok(o),
        other => Err(wrong_kind(h, other, "KCP session")),
    }
}

fn as_session(o: &Obj) -> &KcpEntry {
    match o {
        Obj::KcpSession(k) => k,
        _ => unreachable!("checked by session()"),
    }
}

/// A per-call timeout of a session: -2 its default (`ls_set_timeout`), -1 forever, 0 poll, N ms.
fn call_timeout(k: &KcpEntry, timeout_ms: i32) -> Result<Option<Duration>, Error> {
    Ok(match timeout_arg(timeout_ms)? {
        Timeout::Default => *k.timeout.lock().unwrap_or_else(|p| p.into_inner()),
        Timeout::Never => None,
        Timeout::After(d) => Some(d),
    })
}

/// Start a KCP session (conversation `conv`: 0..4294967295, or `LS_KCP_CONV_RANDOM` for a
/// random id from 1 to 2^31 - 1; read it with `ls_kcp_conv`) with the KCP server at `address`
/// ("host:port", "[v6]:port") over a connected UDP socket, with the tuning of KCP config
/// `kcp_config_handle` (0 = defaults) and the socket options of options object
/// `options_handle` (0 = none). Nothing is sent until the first message (KCP has no
/// handshake). The session runs only while one of its calls runs (`ls_kcp_send`, `ls_kcp_recv`,
/// `ls_kcp_flush`, `ls_kcp_poll`): wait in `ls_kcp_recv` or call `ls_kcp_poll` so that the
/// peer's data is acknowledged. Blocking calls take `timeout_ms` (-2 the default of
/// `ls_set_timeout`, initially forever; -1 forever; 0 poll; N ms). `ls_close` closes it (a call
/// blocked in another thread returns `LS_ERR_CLOSED`; unacknowledged data is abandoned:
/// `ls_kcp_flush` first). `ls_local_address`, `ls_peer_address` and `ls_engine_stats` work on it.
#[no_mangle]
pub unsafe extern "C" fn ls_kcp_connect(
    address: *const c_char,
    conv: i64,
    kcp_config_handle: i64,
    options_handle: i64,
    out_handle: *mut i64,
) -> i32 {
    call("ls_kcp_connect", || {
        let out = Out::new(out_handle, "out_handle")?;
        // SAFETY: the caller promises a NUL-terminated string.
        let address = unsafe { in_str(address, "address") }?;
        let conv = match conv {
            LS_KCP_CONV_RANDOM => None,
            0..=0xffff_ffff => Some(conv as u32),
            _ => {
                return Err(bad_arg(format!(
                    "conv is {conv}, it must be 0..4294967295 or LS_KCP_CONV_RANDOM (-1)"
                )))
            }
        };
        let cfg = with_kcp_config(kcp_config_handle, |s| s.config())??;
        let opts = options_value(options_handle)?;
        let s = KcpSession::connect_with(address, conv, cfg, opts)?;
        out.set(insert(Obj::KcpSession(KcpEntry {
            session: s,
            held: Mutex::new(None),
            timeout: Mutex::new(None),
        }))?);
        Ok(())
    })
}

/// Send `len` bytes as one message (stream mode: bytes), waiting up to `timeout_ms` while too
/// much is unacknowledged (twice the send window): `LS_ERR_TIMEOUT` then, and nothing was
/// queued. An empty message is `LS_ERR_INVALID_ARGUMENT`; one above what 127 fragments of the
/// MTU hold `LS_ERR_FRAME_TOO_LARGE`; a peer that stopped acknowledging
/// `LS_ERR_CONNECTION_ABORTED`.
#[no_mangle]
pub unsafe extern "C" fn ls_kcp_send(
    handle: i64,
    timeout_ms: i32,
    buf: *const u8,
    len: usize,
) -> i32 {
    call("ls_kcp_send", || {
        // SAFETY: the caller promises `len` readable bytes.
        let data = unsafe { in_bytes(buf, len, "buf") }?;
        let o = session(handle)?;
        let k = as_session(&o);
        let t = call_timeout(k, timeout_ms)?;
        k.session.send_timeout(data, t)
    })
}

/// Receive the next message (stream mode: the bytes that arrived) into `buf`, waiting up to
/// `timeout_ms`; `*out_len` receives its length. If `cap` is too small:
/// `LS_ERR_BUFFER_TOO_SMALL` with the needed size in `*out_len`, and the message stays for the
/// next call (`buf` NULL and `cap` 0 ask for the size). `LS_ERR_TIMEOUT` when none came.
#[no_mangle]
pub unsafe extern "C" fn ls_kcp_recv(
    handle: i64,
    timeout_ms: i32,
    buf: *mut u8,
    cap: usize,
    out_len: *mut usize,
) -> i32 {
    call("ls_kcp_recv", || {
        // SAFETY: the caller promises `cap` writable bytes (cap may be 0, e.g. to ask the size).
        let dst = unsafe { out_bytes(buf, cap, 0, "buf") }?;
        let len = Out::new(out_len, "out_len")?;
        let o = session(handle)?;
        let k = as_session(&o);
        let t = call_timeout(k, timeout_ms)?;
        let held = k.held.lock().unwrap_or_else(|p| p.into_inner()).take();
        let msg = match held {
            Some(m) => m,
            None => k.session.recv(t)?,
        };
        if msg.len() > dst.len() {
            len.set(msg.len());
            let needed = msg.len();
            *k.held.lock().unwrap_or_else(|p| p.into_inner()) = Some(msg);
            return Err(Error::BufferTooSmall {
                needed,
                capacity: dst.len(),
            });
        }
        dst[..msg.len()].copy_from_slice(&msg);
        len.set(msg.len());
        Ok(())
    })
}

/// Wait up to `timeout_ms` until everything sent is acknowledged by the peer
/// (`LS_ERR_TIMEOUT` when it was not).
#[no_mangle]
pub extern "C" fn ls_kcp_flush(handle: i64, timeout_ms: i32) -> i32 {
    call("ls_kcp_flush", || {
        let o = session(handle)?;
        let k = as_session(&o);
        let t = call_timeout(k, timeout_ms)?;
        k.session.flush(t)
    })
}

/// Run the protocol for `timeout_ms` (0 or more; -1 and -2 are refused: this call always
/// returns after its time) without taking messages: acknowledge, retransmit, read the socket.
/// `*out_ready` receives 1 when a message is ready for `ls_kcp_recv`, else 0.
#[no_mangle]
pub unsafe extern "C" fn ls_kcp_poll(handle: i64, timeout_ms: i32, out_ready: *mut usize) -> i32 {
    call("ls_kcp_poll", || {
        let out = Out::new(out_ready, "out_ready")?;
        let t = engine_timeout(timeout_ms)?.ok_or_else(|| {
            bad_arg(format!(
                "timeout_ms is {timeout_ms}: ls_kcp_poll runs for a time, 0 or more ms"
            ))
        })?;
        let o = session(handle)?;
        let k = as_session(&o);
        let held = k.held.lock().unwrap_or_else(|p| p.into_inner()).is_some();
        let n = k.session.poll(t)?;
        out.set(if held { 1 } else { n });
        Ok(())
    })
}

/// The conversation id of KCP session `handle`.
#[no_mangle]
pub unsafe extern "C" fn ls_kcp_conv(handle: i64, out_conv: *mut i64) -> i32 {
    call("ls_kcp_conv", || {
        let out = Out::new(out_conv, "out_conv")?;
        let o = session(handle)?;
        out.set(as_session(&o).session.conv() as i64);
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use libsock::kcp::KcpStat;

    #[test]
    fn every_kcp_key_and_stat_is_cores_with_its_number_and_name() {
        let keys = [
            (LS_KCP_NODELAY, "LS_KCP_NODELAY"),
            (LS_KCP_INTERVAL_MS, "LS_KCP_INTERVAL_MS"),
            (LS_KCP_RESEND, "LS_KCP_RESEND"),
            (LS_KCP_NC, "LS_KCP_NC"),
            (LS_KCP_SEND_WINDOW, "LS_KCP_SEND_WINDOW"),
            (LS_KCP_RECV_WINDOW, "LS_KCP_RECV_WINDOW"),
            (LS_KCP_MTU, "LS_KCP_MTU"),
            (LS_KCP_MIN_RTO_MS, "LS_KCP_MIN_RTO_MS"),
            (LS_KCP_STREAM, "LS_KCP_STREAM"),
            (LS_KCP_DEAD_LINK, "LS_KCP_DEAD_LINK"),
            (LS_KCP_LINGER_MS, "LS_KCP_LINGER_MS"),
        ];
        assert_eq!(keys.len(), KcpKey::ALL.len());
        for ((code, name), k) in keys.iter().zip(KcpKey::ALL) {
            assert_eq!(*code, k.code(), "{name}");
            assert_eq!(*name, format!("LS_KCP_{}", k.name()));
        }
        let stats = [
            (LS_KCP_STAT_DATAGRAMS_IN, "LS_KCP_STAT_DATAGRAMS_IN"),
            (LS_KCP_STAT_DATAGRAMS_OUT, "LS_KCP_STAT_DATAGRAMS_OUT"),
            (LS_KCP_STAT_DATAGRAMS_BAD, "LS_KCP_STAT_DATAGRAMS_BAD"),
            (LS_KCP_STAT_RETRANSMITS, "LS_KCP_STAT_RETRANSMITS"),
            (LS_KCP_STAT_WAITING, "LS_KCP_STAT_WAITING"),
            (LS_KCP_STAT_SRTT_MS, "LS_KCP_STAT_SRTT_MS"),
        ];
        assert_eq!(stats.len(), KcpStat::ALL.len());
        for ((code, name), s) in stats.iter().zip(KcpStat::ALL) {
            assert_eq!(*code, s.code(), "{name}");
            assert_eq!(*name, format!("LS_KCP_STAT_{}", s.name()));
        }
    }
}
