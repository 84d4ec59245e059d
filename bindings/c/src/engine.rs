//! The engine's C door: event-driven servers, long-lived clients and datagram servers (core's
//! `libsock::engine`), configured through an engine config handle and pulled with
//! `ls_next_event`.
//!
//! Translation only, like the rest of the crate: every body runs in [`call`].

use std::ffi::c_char;
use std::sync::Mutex;
use std::time::Duration;

use libsock::engine::{
    self, Client, ConfigKey, DatagramServer, EngineSettings, EventInfo, EventKind, Heartbeat,
    Server, ServerConfig, Stat, SEND_WAIT,
};
use libsock::kcp::{KcpServer, KcpStat};
use libsock::{Addr, Bytes, Error};

use crate::boundary::{
    bad_arg, call, check_len, flag_arg, in_bytes, in_str, out_array, out_bytes, write_text, Out,
};
use crate::handles::{get, insert, tls_config, wrong_kind, Engine, Obj};
// The flat doors' timeouts (shared with the JNI glue): a pull's -1 or -2 waits forever (engine
// objects have no default), a grace is 0 or more ms.
use libsock_flat::{duration_ms, engine_timeout, grace as grace_arg};

// ---------------------------------------------------------------------------------------------
// Event kinds, disconnect reasons (the numbers are core's stable codes)
// ---------------------------------------------------------------------------------------------

/// `ls_next_event` kind: a connection was made (server: a client was accepted, the buffer gets
/// its address as text; client: connected to the server).
pub const LS_EVENT_CONNECTED: i32 = 1;
/// `ls_next_event` kind: a framed message arrived (the buffer gets it).
pub const LS_EVENT_MESSAGE: i32 = 2;
/// `ls_next_event` kind: a connection ended; `*out_value` is the `LS_REASON_*` code and the buffer
/// gets the reason as text. Every CONNECTED is followed by exactly one DISCONNECTED with the same
/// client id; a client whose connect attempt failed for good reports client 0.
pub const LS_EVENT_DISCONNECTED: i32 = 3;
/// `ls_next_event` kind: a client lost its connection (or could not connect) and tries again:
/// `*out_client` is the attempt number (1 for the first retry), `*out_value` the delay in ms.
pub const LS_EVENT_RECONNECTING: i32 = 4;
/// `ls_next_event` kind: a datagram arrived at a datagram server (the buffer gets it; the sender's
/// address is not in this event: use `ls_next_datagram` to get it).
pub const LS_EVENT_DATAGRAM: i32 = 5;
/// `ls_next_event` kind: the object stopped (shutdown, close, or a client gave up reconnecting);
/// the last event. Pulling again gives `LS_ERR_CLOSED`.
pub const LS_EVENT_CLOSED: i32 = 6;
/// `ls_next_event` kind: something went wrong that ended no connection (server only), reported
/// once per episode: `*out_value` is the `LS_ERR_*` code of what failed and the buffer gets a
/// message in words. `LS_ERR_QUEUE_FULL` with the client's id in `*out_client`: a send to that
/// client was refused or a broadcast skipped it because its send queue is full (a slow
/// consumer under `LS_SEND_POLICY_ERROR`; counted in `LS_STAT_SEND_QUEUE_FULL`); again only
/// after its queue took a message. Another code with client 0: accepting failed (e.g. out of
/// descriptors, EMFILE; counted in `LS_STAT_ACCEPT_ERRORS`); the server pauses accepting and
/// retries. `LS_ERR_TLS` with client 0: a TLS handshake with a would-be client failed (it never
/// became a client; the text names the reason and the address; counted in
/// `LS_STAT_TLS_FAILURES`).
pub const LS_EVENT_WARNING: i32 = 7;

/// Disconnect reason: the peer closed the connection in order.
pub const LS_REASON_PEER_CLOSED: i32 = 1;
/// Disconnect reason: the peer reset the connection (or it broke).
pub const LS_REASON_RESET: i32 = 2;
/// Disconnect reason: nothing arrived (or moved, per `LS_ECFG_IDLE_MODE`) for the idle timeout.
pub const LS_REASON_IDLE_TIMEOUT: i32 = 3;
/// Disconnect reason: nothing arrived for heartbeat interval x misses.
pub const LS_REASON_HEARTBEAT_LOST: i32 = 4;
/// Disconnect reason: the peer sent a frame above the framing's max_len. (A malformed header,
/// e.g. a wrong HP-Socket flag, ends the connection with `LS_REASON_ERROR`, its text naming the
/// bad frame.)
pub const LS_REASON_FRAME_TOO_LARGE: i32 = 5;
/// Disconnect reason: the application disconnected the client (`ls_server_disconnect`).
pub const LS_REASON_KICKED: i32 = 6;
/// Disconnect reason: the server was shut down.
pub const LS_REASON_SERVER_SHUTDOWN: i32 = 7;
/// Disconnect reason: another error (the text in the buffer says which).
pub const LS_REASON_ERROR: i32 = 8;
/// Disconnect reason: the client's send queue overflowed under `LS_SEND_POLICY_DISCONNECT`.
pub const LS_REASON_SEND_QUEUE_FULL: i32 = 9;
/// Disconnect reason: the local client was closed (`ls_client_close`, `ls_close`).
pub const LS_REASON_CLOSED: i32 = 10;
/// Disconnect reason: TLS failed: the handshake (unknown CA, name or pin mismatch, protocol
/// version, a plaintext peer, the handshake timeout ...), a TLS alert later, or a peer that
/// closed without close_notify (the data may be truncated); the text names the reason.
pub const LS_REASON_TLS: i32 = 11;

// ---------------------------------------------------------------------------------------------
// Engine config keys (ls_engine_config_set / ls_engine_config_get); values are int64_t
// ---------------------------------------------------------------------------------------------

/// Server: most clients at once; an extra connection is closed at once and counted
/// (`LS_STAT_REFUSED`). -1 = no limit (default); 0 is refused (`LS_ERR_INVALID_ARGUMENT` from
/// `ls_server_listen`, as in every door).
pub const LS_ECFG_MAX_CLIENTS: i32 = 1;
/// Server and client: bound of each send queue in bytes (default 4 MiB). A client's queue also
/// holds messages while it is reconnecting. A message larger than the whole bound is refused
/// with `LS_ERR_FRAME_TOO_LARGE`, even into an empty queue. 0 is refused when the object is made
/// (`LS_ERR_INVALID_ARGUMENT`).
pub const LS_ECFG_SEND_QUEUE_BYTES: i32 = 2;
/// Server: what a full send queue does, `LS_SEND_POLICY_ERROR` (default) or
/// `LS_SEND_POLICY_DISCONNECT`.
pub const LS_ECFG_SEND_POLICY: i32 = 3;
/// All: bound of the event queue in events (default 4096). When it is full the engine stops
/// reading sockets: nothing is dropped, memory stays bounded. 0 is refused when the object is
/// made (`LS_ERR_INVALID_ARGUMENT`).
pub const LS_ECFG_EVENT_CAPACITY: i32 = 4;
/// Server and client: close a connection idle for this many ms (`LS_REASON_IDLE_TIMEOUT`);
/// 0 = never (default).
pub const LS_ECFG_IDLE_TIMEOUT_MS: i32 = 5;
/// Server and client: what the idle timeout counts as activity, `LS_IDLE_READS` (default) or
/// `LS_IDLE_READS_AND_WRITES`.
pub const LS_ECFG_IDLE_MODE: i32 = 6;
/// Server and client: send a heartbeat ping after this many ms of silence (sub-second is fine,
/// at least 10 ms) and declare the peer dead after `LS_ECFG_HEARTBEAT_MISSES` silent intervals.
/// 0 (default): only answer the peer's pings; -1: no heartbeat at all (pings are delivered as
/// messages). An active heartbeat needs a message framing (not raw). 1-9 ms are refused when
/// the object is made (`LS_ERR_INVALID_ARGUMENT`).
pub const LS_ECFG_HEARTBEAT_INTERVAL_MS: i32 = 7;
/// Server and client: silent heartbeat intervals before the peer is declared dead (default 3;
/// 0 is refused when the object is made).
pub const LS_ECFG_HEARTBEAT_MISSES: i32 = 8;
/// Client: reconnect after a failed attempt or a lost connection, 0/1 (default 1).
pub const LS_ECFG_RECONNECT: i32 = 9;
/// Client: first retry delay in ms (default 100, at least 10); it doubles per attempt up to the
/// maximum, which must not be smaller (else `LS_ERR_INVALID_ARGUMENT` from `ls_client_connect`).
pub const LS_ECFG_BACKOFF_MIN_MS: i32 = 10;
/// Client: longest retry delay in ms (default 10000).
pub const LS_ECFG_BACKOFF_MAX_MS: i32 = 11;
/// Client: give up after this many failed attempts in a row; 0 = never (default).
pub const LS_ECFG_MAX_ATTEMPTS: i32 = 12;
/// Client: time limit of one connect attempt in ms, name lookup included (default 10000; 0 is
/// refused by `ls_client_connect`).
pub const LS_ECFG_CONNECT_TIMEOUT_MS: i32 = 13;
/// Client: randomize each retry delay within [delay/2, delay], 0/1 (default 1).
pub const LS_ECFG_JITTER: i32 = 14;
/// Server: listen backlog (default 1024).
pub const LS_ECFG_BACKLOG: i32 = 15;
/// Server: how long a graceful `ls_server_disconnect` may flush before the connection is cut, in
/// ms (default 5000).
pub const LS_ECFG_CLOSE_TIMEOUT_MS: i32 = 16;
/// Datagram server: largest datagram received whole (default 65536, the most: 1..65536);
/// longer ones are cut.
pub const LS_ECFG_MAX_DATAGRAM: i32 = 17;
/// Server on a Unix path: remove a stale socket file before binding, 0/1 (default 0).
pub const LS_ECFG_REMOVE_STALE: i32 = 18;

/// `LS_ECFG_SEND_POLICY`: a send to a full queue fails with `LS_ERR_QUEUE_FULL` (broadcasts skip
/// that client).
pub const LS_SEND_POLICY_ERROR: i32 = 0;
/// `LS_ECFG_SEND_POLICY`: the slow client is disconnected (`LS_REASON_SEND_QUEUE_FULL`); the
/// send itself succeeds.
pub const LS_SEND_POLICY_DISCONNECT: i32 = 1;

/// `LS_ECFG_IDLE_MODE`: only messages received count as activity.
pub const LS_IDLE_READS: i32 = 0;
/// `LS_ECFG_IDLE_MODE`: messages received or queued for sending count as activity.
pub const LS_IDLE_READS_AND_WRITES: i32 = 1;

// ---------------------------------------------------------------------------------------------
// Statistics (ls_engine_stats; the numbers and names are core's `Stat` table)
// ---------------------------------------------------------------------------------------------

/// Server: clients connected now. Client: 1 while connected, else 0.
pub const LS_STAT_CONNECTIONS: i32 = 1;
/// Server: clients accepted since the start. Client: connections made so far.
pub const LS_STAT_CONNECTIONS_TOTAL: i32 = 2;
/// Server: connections closed at once because of `LS_ECFG_MAX_CLIENTS`.
pub const LS_STAT_REFUSED: i32 = 3;
/// All: bytes received.
pub const LS_STAT_BYTES_IN: i32 = 4;
/// All: bytes sent (frames with their headers).
pub const LS_STAT_BYTES_OUT: i32 = 5;
/// All: application messages (datagrams) received; heartbeats are not counted.
pub const LS_STAT_MESSAGES_IN: i32 = 6;
/// All: frames (datagrams) sent, heartbeats included.
pub const LS_STAT_MESSAGES_OUT: i32 = 7;
/// Server and client: bytes waiting in the send queues.
pub const LS_STAT_QUEUED_BYTES: i32 = 8;
/// All: events waiting to be pulled.
pub const LS_STAT_EVENTS_QUEUED: i32 = 9;
/// Client: failed connect attempts so far.
pub const LS_STAT_FAILED_ATTEMPTS: i32 = 10;
/// Server: sends refused (`LS_ERR_QUEUE_FULL`) and broadcast deliveries skipped because a
/// client's send queue was full (under `LS_SEND_POLICY_ERROR`; each episode also gives an
/// `LS_EVENT_WARNING`).
pub const LS_STAT_SEND_QUEUE_FULL: i32 = 11;
/// Server: failed accepts (e.g. EMFILE: out of descriptors); each episode also gives an
/// `LS_EVENT_WARNING`.
pub const LS_STAT_ACCEPT_ERRORS: i32 = 12;
/// Server and client: failed TLS handshakes (each also reported: on a server by an
/// `LS_EVENT_WARNING` with `LS_ERR_TLS`, on a client by a disconnect with `LS_REASON_TLS`).
pub const LS_STAT_TLS_FAILURES: i32 = 13;

// ---------------------------------------------------------------------------------------------
// Engine config objects
// ---------------------------------------------------------------------------------------------

/// What an engine config handle records: core's flat engine settings (values by `LS_ECFG_*`
/// key, the framing, socket options and heartbeat payloads), turned into core's configs when a
/// server, client or datagram server is made (the object takes a copy; the config may be
/// changed, reused or closed afterwards).
pub(crate) type EngineConfig = EngineSettings;

/// The engine config behind `h`.
fn config(h: i64) -> Result<std::sync::Arc<Obj>, Error> {
    let o = get(h)?;
    match &*o {
        Obj::EngineConfig(_) => Ok(o),
        other => Err(wrong_kind(h, other, "engine config")),
    }
}

/// Run `f` on the engine config behind `h` (0 = the defaults).
pub(crate) fn with_config<R>(h: i64, f: impl FnOnce(&EngineConfig) -> R) -> Result<R, Error> {
    if h == 0 {
        return Ok(f(&EngineConfig::new()));
    }
    let o = config(h)?;
    match &*o {
        Obj::EngineConfig(m) => Ok(f(&m.lock().unwrap_or_else(|p| p.into_inner()))),
        _ => unreachable!("checked by config()"),
    }
}

/// Create an engine config: settings for `ls_server_listen`, `ls_client_connect` and
/// `ls_dgram_server_bind`. Set numbers with `ls_engine_config_set(cfg, LS_ECFG_*, value)`, the
/// framing with the `ls_set_framing_*` functions (default: a 4-byte big-endian length prefix),
/// socket options with `ls_set_option` (default: `LS_OPT_NODELAY` on) and heartbeat payloads
/// with `ls_engine_config_set_heartbeat_payloads`. Keys that do not apply to the object made
/// are ignored, so one config can serve a server and its clients. The object made takes a copy:
/// the config may be changed, reused or closed (`ls_close`) afterwards.
#[no_mangle]
pub unsafe extern "C" fn ls_engine_config_new(out_handle: *mut i64) -> i32 {
    call("ls_engine_config_new", || {
        let out = Out::new(out_handle, "out_handle")?;
        out.set(insert(Obj::EngineConfig(Mutex::new(EngineConfig::new())))?);
        Ok(())
    })
}

/// Set `key` (`LS_ECFG_*`) of engine config `config_handle` to `value` (booleans 0/1, times in
/// ms). An unknown key or a value out of the key's range gives `LS_ERR_INVALID_ARGUMENT` naming
/// the range.
#[no_mangle]
pub extern "C" fn ls_engine_config_set(config_handle: i64, key: i32, value: i64) -> i32 {
    call("ls_engine_config_set", || {
        let key = ConfigKey::from_code_checked(key)?;
        let o = config(config_handle)?;
        if let Obj::EngineConfig(m) = &*o {
            m.lock()
                .unwrap_or_else(|p| p.into_inner())
                .set(key, value)?;
        }
        Ok(())
    })
}

/// The value of `key` (`LS_ECFG_*`) in engine config `config_handle`: as set, or the default.
#[no_mangle]
pub unsafe extern "C" fn ls_engine_config_get(
    config_handle: i64,
    key: i32,
    out_value: *mut i64,
) -> i32 {
    call("ls_engine_config_get", || {
        let out = Out::new(out_value, "out_value")?;
        let key = ConfigKey::from_code_checked(key)?;
        let o = config(config_handle)?;
        if let Obj::EngineConfig(m) = &*o {
            out.set(m.lock().unwrap_or_else(|p| p.into_inner()).get(key));
        }
        Ok(())
    })
}

/// Use other heartbeat payloads than the default "\0LSPING" / "\0LSPONG" (both non-empty and
/// different, else `LS_ERR_INVALID_ARGUMENT`). A frame equal to `ping` is answered with `pong`; neither is delivered as a
/// message.
#[no_mangle]
pub unsafe extern "C" fn ls_engine_config_set_heartbeat_payloads(
    config_handle: i64,
    ping: *const u8,
    ping_len: usize,
    pong: *const u8,
    pong_len: usize,
) -> i32 {
    call("ls_engine_config_set_heartbeat_payloads", || {
        // SAFETY: the caller promises `ping_len` and `pong_len` readable bytes.
        let ping = unsafe { in_bytes(ping, ping_len, "ping") }?;
        let pong = unsafe { in_bytes(pong, pong_len, "pong") }?;
        // Core's check of the pair (empty or equal payloads), with core's message, now rather
        // than when the object is made.
        let (ping, pong) = (Bytes::copy_from_slice(ping), Bytes::copy_from_slice(pong));
        ServerConfig::new()
            .heartbeat(Some(
                Heartbeat::reply_only().payloads(ping.clone(), pong.clone()),
            ))
            .validate()?;
        let o = config(config_handle)?;
        if let Obj::EngineConfig(m) = &*o {
            m.lock()
                .unwrap_or_else(|p| p.into_inner())
                .set_heartbeat_payloads(ping, pong);
        }
        Ok(())
    })
}

/// Speak TLS with the settings of TLS config `tls_handle` (0: plaintext again, on both sides):
/// a server config for `ls_server_listen` (every client's handshake runs on the engine; a failed
/// one is an `LS_EVENT_WARNING` with `LS_ERR_TLS`, never a client), a client config for
/// `ls_client_connect` (each connection and reconnection handshakes; a failure is a disconnect
/// with `LS_REASON_TLS`). One engine config may hold one of each. The settings are taken as
/// they are now (built here: a server config without a certificate is refused here).
#[no_mangle]
pub extern "C" fn ls_engine_config_set_tls(config_handle: i64, tls_handle: i64) -> i32 {
    call("ls_engine_config_set_tls", || {
        let o = config(config_handle)?;
        let Obj::EngineConfig(m) = &*o else {
            unreachable!("checked by config()")
        };
        if tls_handle == 0 {
            let mut c = m.lock().unwrap_or_else(|p| p.into_inner());
            c.set_server_tls(None);
            c.set_client_tls(None);
            return Ok(());
        }
        let t = tls_config(tls_handle)?;
        let mut e = crate::tls::entry(&t);
        if e.is_server() {
            let s = e.server_tls()?;
            m.lock()
                .unwrap_or_else(|p| p.into_inner())
                .set_server_tls(Some(s));
        } else {
            let c = e.client_tls()?;
            m.lock()
                .unwrap_or_else(|p| p.into_inner())
                .set_client_tls(Some(c));
        }
        Ok(())
    })
}

/// Connect `ls_client_connect`'s client through a proxy: `url` as for `ls_options_set_proxy`
/// ("socks5://[user:password@]host[:port]" or "http://[user:password@]host[:port]"; "" removes
/// it), parsed and checked here (`LS_ERR_INVALID_ARGUMENT`). Every attempt, reconnects
/// included, goes through the proxy again (the exchange runs on the engine, bounded by
/// `LS_ECFG_CONNECT_TIMEOUT_MS`); a refusal by the proxy is a failed attempt like any other
/// (its reason and message say what the proxy answered). A Unix socket address cannot be
/// reached through a proxy (`ls_client_connect` refuses it). Servers ignore the setting.
#[no_mangle]
pub unsafe extern "C" fn ls_engine_config_set_proxy(config_handle: i64, url: *const c_char) -> i32 {
    call("ls_engine_config_set_proxy", || {
        // SAFETY: the caller promises a NUL-terminated string.
        let text = unsafe { in_str(url, "url") }?;
        let proxy = if text.is_empty() {
            None
        } else {
            Some(libsock::Proxy::parse(text)?)
        };
        let o = config(config_handle)?;
        let Obj::EngineConfig(m) = &*o else {
            unreachable!("checked by config()")
        };
        m.lock().unwrap_or_else(|p| p.into_inner()).set_proxy(proxy);
        Ok(())
    })
}

// ---------------------------------------------------------------------------------------------
// Servers
// ---------------------------------------------------------------------------------------------

/// The server behind `h`.
pub(crate) fn server(h: i64) -> Result<std::sync::Arc<Obj>, Error> {
    let o = get(h)?;
    match &*o {
        Obj::Server(_) => Ok(o),
        other => Err(wrong_kind(h, other, "server")),
    }
}

pub(crate) fn as_server(o: &Obj) -> &Server {
    match o {
        Obj::Server(e) => &e.obj,
        _ => unreachable!("checked by server()"),
    }
}

/// Start an event-driven server listening on `address` ("127.0.0.1:0" picks a free port: read it
/// with `ls_local_port`; "[::]:port"; "unix:/path") with the settings of engine config
/// `config_handle` (0 = the defaults: 4-byte big-endian length-prefixed messages). The engine's
/// threads start with the first engine object. Pull what happens with `ls_next_event`; stop with
/// `ls_server_shutdown` (graceful) or `ls_close` (at once, and frees the handle). Settings that
/// make no sense together or alone (a zero queue bound, `LS_ECFG_MAX_CLIENTS` 0, a heartbeat
/// under 10 ms, a heartbeat with raw framing ...) give `LS_ERR_INVALID_ARGUMENT` naming the
/// setting, as in every door.
#[no_mangle]
pub unsafe extern "C" fn ls_server_listen(
    address: *const c_char,
    config_handle: i64,
    out_handle: *mut i64,
) -> i32 {
    call("ls_server_listen", || {
        let out = Out::new(out_handle, "out_handle")?;
        // SAFETY: the caller promises a NUL-terminated string.
        let address = unsafe { in_str(address, "address") }?;
        let cfg = with_config(config_handle, EngineConfig::server)?;
        let s = Server::bind(address, cfg)?;
        out.set(insert(Obj::Server(Engine::new(s)))?);
        Ok(())
    })
}

/// Queue `len` bytes as one message (framed by the server's framing) to client `client`. Returns
/// at once. `LS_ERR_CLOSED` for an unknown or disconnected client or a stopped server;
/// `LS_ERR_QUEUE_FULL` when its send queue is full under `LS_SEND_POLICY_ERROR` (counted in
/// `LS_STAT_SEND_QUEUE_FULL`; the first refusal of an episode also queues an
/// `LS_EVENT_WARNING`); `LS_ERR_FRAME_TOO_LARGE` above the framing's max_len or above the whole
/// send queue (`LS_ECFG_SEND_QUEUE_BYTES`), even when it is empty.
#[no_mangle]
pub unsafe extern "C" fn ls_server_send(
    handle: i64,
    client: u64,
    buf: *const u8,
    len: usize,
) -> i32 {
    call("ls_server_send", || {
        // SAFETY: the caller promises `len` readable bytes.
        let data = unsafe { in_bytes(buf, len, "buf") }?;
        let o = get(handle)?;
        if let Obj::KcpServer(k) = &*o {
            return k.obj.send(client, data);
        }
        let o = server(handle)?;
        as_server(&o).send(client, data)
    })
}

/// Queue one message to each of the `count` clients in `clients` (encoded once). `*out_sent`
/// receives how many clients it was queued for: unknown clients and (under
/// `LS_SEND_POLICY_ERROR`) clients with a full queue are skipped (counted in
/// `LS_STAT_SEND_QUEUE_FULL`, with an `LS_EVENT_WARNING` per episode). `LS_ERR_FRAME_TOO_LARGE`
/// when the message is larger than `LS_ECFG_SEND_QUEUE_BYTES`.
#[no_mangle]
pub unsafe extern "C" fn ls_server_send_many(
    handle: i64,
    clients: *const u64,
    count: usize,
    buf: *const u8,
    len: usize,
    out_sent: *mut usize,
) -> i32 {
    call("ls_server_send_many", || {
        let count = check_len(count, "count")?;
        let ids: &[u64] = if count == 0 {
            &[]
        } else if clients.is_null() {
            return Err(bad_arg("clients is NULL"));
        } else {
            // SAFETY: non-null; the caller promises `count` readable ids.
            unsafe { std::slice::from_raw_parts(clients, count) }
        };
        // SAFETY: the caller promises `len` readable bytes.
        let data = unsafe { in_bytes(buf, len, "buf") }?;
        let out = Out::new(out_sent, "out_sent")?;
        let o = server(handle)?;
        out.set(as_server(&o).send_many(ids, data)?);
        Ok(())
    })
}

/// Queue one message to every connected client except `except_client` (0 = none).
/// `*out_sent` receives how many clients it was queued for (see `ls_server_send_many`).
#[no_mangle]
pub unsafe extern "C" fn ls_server_broadcast(
    handle: i64,
    buf: *const u8,
    len: usize,
    except_client: u64,
    out_sent: *mut usize,
) -> i32 {
    call("ls_server_broadcast", || {
        // SAFETY: the caller promises `len` readable bytes.
        let data = unsafe { in_bytes(buf, len, "buf") }?;
        let out = Out::new(out_sent, "out_sent")?;
        let o = server(handle)?;
        let except = (except_client != 0).then_some(except_client);
        out.set(as_server(&o).broadcast(data, except)?);
        Ok(())
    })
}

/// Disconnect client `client`: `graceful` 1 delivers what is queued first, then closes (within
/// `LS_ECFG_CLOSE_TIMEOUT_MS`); 0 cuts the connection at once. Returns at once; an
/// `LS_EVENT_DISCONNECTED` with `LS_REASON_KICKED` follows. `LS_ERR_CLOSED` for an unknown client.
#[no_mangle]
pub extern "C" fn ls_server_disconnect(handle: i64, client: u64, graceful: i32) -> i32 {
    call("ls_server_disconnect", || {
        let graceful = flag_arg(graceful, "graceful")?;
        let o = get(handle)?;
        if let Obj::KcpServer(k) = &*o {
            return k.obj.disconnect(client, graceful);
        }
        let o = server(handle)?;
        as_server(&o).disconnect(client, graceful)
    })
}

/// The ids of the connected clients, in increasing order, into `ids` (room for `cap`);
/// `*out_count` receives how many. `LS_ERR_BUFFER_TOO_SMALL` with the count in `*out_count`
/// when `cap` is too small (`ids` NULL and `cap` 0 ask for the count).
#[no_mangle]
pub unsafe extern "C" fn ls_server_clients(
    handle: i64,
    ids: *mut u64,
    cap: usize,
    out_count: *mut usize,
) -> i32 {
    call("ls_server_clients", || {
        let cap = check_len(cap, "cap")?;
        if cap > 0 && ids.is_null() {
            return Err(bad_arg("ids is NULL"));
        }
        let out = Out::new(out_count, "out_count")?;
        let o = get(handle)?;
        let list: Vec<u64> = match &*o {
            Obj::KcpServer(k) => k.obj.clients().iter().map(|c| c.0).collect(),
            _ => as_server(&*server(handle)?)
                .clients()
                .iter()
                .map(|c| c.0)
                .collect(),
        };
        if list.len() > cap {
            out.set(list.len());
            return Err(Error::BufferTooSmall {
                needed: list.len(),
                capacity: cap,
            });
        }
        for (i, id) in list.iter().enumerate() {
            // SAFETY: non-null (checked when cap > 0) and i < cap.
            unsafe { ids.add(i).write_unaligned(*id) };
        }
        out.set(list.len());
        Ok(())
    })
}

/// The address of connected client `client` as text, NUL-terminated; `*out_len` receives its
/// length without the NUL (`LS_ERR_BUFFER_TOO_SMALL` with the needed size if it does not fit;
/// `LS_ADDRESS_MAX` bytes always do). `LS_ERR_CLOSED` for an unknown client.
#[no_mangle]
pub unsafe extern "C" fn ls_server_client_address(
    handle: i64,
    client: u64,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> i32 {
    call("ls_server_client_address", || {
        // SAFETY: the caller promises `cap` writable bytes.
        let buf = unsafe { out_bytes(buf.cast(), cap, 0, "buf") }?;
        let out = Out::new(out_len, "out_len")?;
        let o = get(handle)?;
        let a = match &*o {
            Obj::KcpServer(k) => k.obj.peer_addr(client)?,
            _ => as_server(&*server(handle)?).peer_addr(client)?,
        };
        write_text(&a.to_string(), buf, &out)
    })
}

/// Stop server `handle`: no new clients; every client's queued messages are delivered within
/// `grace_ms` (>= 0), then every connection is closed (`LS_REASON_SERVER_SHUTDOWN`) and the
/// final `LS_EVENT_CLOSED` is queued. Blocks until done (at most `grace_ms` plus a little) and
/// wakes threads waiting in `ls_next_event`. The handle stays valid to pull the last events;
/// free it with `ls_close`. Calling it again does nothing.
#[no_mangle]
pub extern "C" fn ls_server_shutdown(handle: i64, grace_ms: i32) -> i32 {
    call("ls_server_shutdown", || {
        let grace = grace_arg(grace_ms)?;
        let o = get(handle)?;
        if let Obj::KcpServer(k) = &*o {
            // KCP has no close on the wire: its sessions end at once.
            k.obj.shutdown();
            return Ok(());
        }
        let o = server(handle)?;
        as_server(&o).shutdown(grace);
        Ok(())
    })
}

// ---------------------------------------------------------------------------------------------
// Clients
// ---------------------------------------------------------------------------------------------

/// The client behind `h`.
pub(crate) fn client(h: i64) -> Result<std::sync::Arc<Obj>, Error> {
    let o = get(h)?;
    match &*o {
        Obj::Client(_) => Ok(o),
        other => Err(wrong_kind(h, other, "client")),
    }
}

pub(crate) fn as_client(o: &Obj) -> &Client {
    match o {
        Obj::Client(e) => &e.obj,
        _ => unreachable!("checked by client()"),
    }
}

/// Start a long-lived client of the server at `address` ("host:port", "[v6]:port",
/// "unix:/path") with the settings of engine config `config_handle` (0 = the defaults: length
/// prefix of 4 bytes, reconnect with backoff 100 ms..10 s, jitter). Returns at once: the
/// connection is made in the background, and `LS_EVENT_CONNECTED` (or `LS_EVENT_RECONNECTING`,
/// or `LS_EVENT_DISCONNECTED` with client 0 when it gives up) tells how it went. A malformed
/// address (or a host of digits and dots that is no dotted quad, e.g. "127.1") and settings that
/// make no sense (`LS_ECFG_CONNECT_TIMEOUT_MS` 0, a backoff under 10 ms or a minimum above the
/// maximum, a zero queue bound ...) fail here with `LS_ERR_INVALID_ARGUMENT`; an unreachable
/// server is reported through events.
#[no_mangle]
pub unsafe extern "C" fn ls_client_connect(
    address: *const c_char,
    config_handle: i64,
    out_handle: *mut i64,
) -> i32 {
    call("ls_client_connect", || {
        let out = Out::new(out_handle, "out_handle")?;
        // SAFETY: the caller promises a NUL-terminated string.
        let address = unsafe { in_str(address, "address") }?;
        let cfg = with_config(config_handle, EngineConfig::client)?;
        let c = Client::connect(address, cfg)?;
        out.set(insert(Obj::Client(Engine::new(c)))?);
        Ok(())
    })
}

/// Queue `len` bytes as one message. While disconnected it waits in the queue and is sent, in
/// order, after the next connect. `LS_ERR_QUEUE_FULL` when the queue's byte bound would be
/// exceeded; `LS_ERR_FRAME_TOO_LARGE` for a message larger than the whole bound
/// (`LS_ECFG_SEND_QUEUE_BYTES`), even into an empty queue; `LS_ERR_CLOSED` after
/// `ls_client_close`.
#[no_mangle]
pub unsafe extern "C" fn ls_client_send(handle: i64, buf: *const u8, len: usize) -> i32 {
    call("ls_client_send", || {
        // SAFETY: the caller promises `len` readable bytes.
        let data = unsafe { in_bytes(buf, len, "buf") }?;
        let o = client(handle)?;
        as_client(&o).send(data)
    })
}

/// Close client `handle`: while connected, what is queued is delivered within `grace_ms` (>= 0),
/// then the connection is closed (`LS_REASON_CLOSED`); messages still queued while disconnected
/// are dropped. The final `LS_EVENT_CLOSED` follows and waiters in `ls_next_event` wake. Blocks
/// until done. The handle stays valid to pull the last events; free it with `ls_close`.
#[no_mangle]
pub extern "C" fn ls_client_close(handle: i64, grace_ms: i32) -> i32 {
    call("ls_client_close", || {
        let grace = grace_arg(grace_ms)?;
        let o = client(handle)?;
        as_client(&o).close(grace);
        Ok(())
    })
}

// ---------------------------------------------------------------------------------------------
// Datagram servers
// ---------------------------------------------------------------------------------------------

/// Start a datagram server: a UDP socket bound to `address` ("0.0.0.0:5000", "127.0.0.1:0",
/// "[::]:0") whose datagrams arrive as `LS_EVENT_DATAGRAM` events, with the settings of engine
/// config `config_handle` (0 = defaults; `LS_ECFG_MAX_DATAGRAM`, `LS_ECFG_EVENT_CAPACITY` and
/// socket options apply). Reply with `ls_dgram_server_send_to`; the sender of a datagram comes
/// with `ls_next_datagram`.
#[no_mangle]
pub unsafe extern "C" fn ls_dgram_server_bind(
    address: *const c_char,
    config_handle: i64,
    out_handle: *mut i64,
) -> i32 {
    call("ls_dgram_server_bind", || {
        let out = Out::new(out_handle, "out_handle")?;
        // SAFETY: the caller promises a NUL-terminated string.
        let address = unsafe { in_str(address, "address") }?;
        let cfg = with_config(config_handle, EngineConfig::datagram)?;
        let d = DatagramServer::bind(address, cfg)?;
        out.set(insert(Obj::DgramServer(Engine::new(d)))?);
        Ok(())
    })
}

/// Run `f` on the datagram server behind `h`.
fn with_dgram_server<R>(
    h: i64,
    f: impl FnOnce(&Engine<DatagramServer>) -> Result<R, Error>,
) -> Result<R, Error> {
    let o = get(h)?;
    match &*o {
        Obj::DgramServer(e) => f(e),
        other => Err(wrong_kind(h, other, "datagram server")),
    }
}

/// Send one datagram of `len` bytes to `address` ("ip:port", "[v6]:port", "host:port") from
/// datagram server `handle` (waits up to 5 s if the socket's send buffer is full).
#[no_mangle]
pub unsafe extern "C" fn ls_dgram_server_send_to(
    handle: i64,
    buf: *const u8,
    len: usize,
    address: *const c_char,
) -> i32 {
    call("ls_dgram_server_send_to", || {
        // SAFETY: the caller promises `len` readable bytes and a NUL-terminated string.
        let data = unsafe { in_bytes(buf, len, "buf") }?;
        let address = unsafe { in_str(address, "address") }?;
        with_dgram_server(handle, |e| {
            e.obj.send_to_endpoint(data, address, Some(SEND_WAIT))
        })?;
        Ok(())
    })
}

/// Connect datagram server `handle` to one peer, `address` ("ip:port", "[v6]:port",
/// "host:port"; nothing is sent): from then on only that peer's datagrams are received,
/// `ls_dgram_server_send` sends to it without naming it (the kernel keeps its route: the
/// cheapest send, for a client of one server), and an ICMP error for it (nothing listens there)
/// makes the next send, or the next `ls_next_datagram` that finds nothing queued,
/// `LS_ERR_CONNECTION_REFUSED`. `ls_dgram_server_send_to` still sends anywhere (Linux);
/// connecting again moves to another peer.
#[no_mangle]
pub unsafe extern "C" fn ls_dgram_server_connect(handle: i64, address: *const c_char) -> i32 {
    call("ls_dgram_server_connect", || {
        // SAFETY: the caller promises a NUL-terminated string.
        let address = unsafe { in_str(address, "address") }?;
        with_dgram_server(handle, |e| e.obj.connect(address, Some(SEND_WAIT)))?;
        Ok(())
    })
}

/// Send one datagram of `len` bytes to the peer `ls_dgram_server_connect` gave datagram server
/// `handle` (waits up to 5 s if the socket's send buffer is full). `LS_ERR_INVALID_ARGUMENT`
/// if it was never connected.
#[no_mangle]
pub unsafe extern "C" fn ls_dgram_server_send(handle: i64, buf: *const u8, len: usize) -> i32 {
    call("ls_dgram_server_send", || {
        // SAFETY: the caller promises `len` readable bytes.
        let data = unsafe { in_bytes(buf, len, "buf") }?;
        with_dgram_server(handle, |e| e.obj.send(data))?;
        Ok(())
    })
}

// ---------------------------------------------------------------------------------------------
// The pull API (servers, clients, datagram servers)
// ---------------------------------------------------------------------------------------------

/// Run `f` on the engine object behind `h`; `Closed` if `ls_close` closed it meanwhile.
fn with_engine<R>(h: i64, f: impl FnOnce(&dyn Pull) -> Result<R, Error>) -> Result<R, Error> {
    let o = get(h)?;
    let (r, closed) = match &*o {
        Obj::Server(e) => (f(&e.obj), e.is_closed()),
        Obj::Client(e) => (f(&e.obj), e.is_closed()),
        Obj::DgramServer(e) => (f(&e.obj), e.is_closed()),
        Obj::KcpServer(e) => (f(&e.obj), e.is_closed()),
        other => return Err(wrong_kind(h, other, "server, client or datagram server")),
    };
    if closed {
        return Err(closed_by_ls_close(h));
    }
    r
}

/// The error of a pull whose handle `h` was closed by `ls_close` meanwhile.
fn closed_by_ls_close(h: i64) -> Error {
    Error::Closed {
        op: format!("handle {h} was closed by ls_close"),
    }
}

/// The pull API every engine object has.
trait Pull {
    fn pull_into(&self, buf: &mut [u8], t: Option<Duration>) -> libsock::Result<Option<EventInfo>>;
    fn pull_msgs(
        &self,
        buf: &mut [u8],
        sizes: &mut [usize],
        clients: Option<&mut [u64]>,
        t: Option<Duration>,
    ) -> libsock::Result<Option<usize>>;
    fn fd(&self) -> i32;
    fn waiting(&self) -> usize;
}

macro_rules! pull {
    ($t:ty) => {
        impl Pull for $t {
            fn pull_into(
                &self,
                buf: &mut [u8],
                t: Option<Duration>,
            ) -> libsock::Result<Option<EventInfo>> {
                self.next_event_into(buf, t)
            }
            fn pull_msgs(
                &self,
                buf: &mut [u8],
                sizes: &mut [usize],
                clients: Option<&mut [u64]>,
                t: Option<Duration>,
            ) -> libsock::Result<Option<usize>> {
                self.next_messages_into(buf, sizes, clients, t)
            }
            fn fd(&self) -> i32 {
                self.notify_fd()
            }
            fn waiting(&self) -> usize {
                self.pending()
            }
        }
    };
}
pull!(Server);
pull!(Client);
pull!(DatagramServer);
pull!(KcpServer);

fn timed_out(h: i64, ms: i32) -> Error {
    Error::Timeout {
        op: format!("next event on handle {h}"),
        ms: ms.max(0) as u128,
    }
}

/// Take the next event of server, client or datagram server `handle`, waiting up to
/// `timeout_ms` (-1 forever, 0 poll, N ms; -2 is forever too). On success: `*out_kind` the
/// `LS_EVENT_*` kind, `*out_client` the client id (server: a number from 1, never reused;
/// client: the connection number; 0 when the event has none; for `LS_EVENT_RECONNECTING` the
/// attempt number), `*out_value` the `LS_REASON_*` code for `LS_EVENT_DISCONNECTED`, the delay
/// in ms for `LS_EVENT_RECONNECTING`, the `LS_ERR_*` code of what failed for `LS_EVENT_WARNING`
/// (e.g. `LS_ERR_QUEUE_FULL`), else 0; and `buf` receives `*out_len` bytes: the message or
/// datagram, the peer address as text for CONNECTED, the reason as text for DISCONNECTED, the
/// warning in words for WARNING, nothing otherwise (no NUL is added). If `cap` is too small: `LS_ERR_BUFFER_TOO_SMALL` with
/// the needed size in `*out_len`, and the event stays queued for the next call (`buf` NULL and
/// `cap` 0 ask for the size). `LS_ERR_TIMEOUT` when nothing came; `LS_ERR_CLOSED` after the
/// final `LS_EVENT_CLOSED` was taken, or when `ls_close` closed the handle while waiting.
#[no_mangle]
pub unsafe extern "C" fn ls_next_event(
    handle: i64,
    timeout_ms: i32,
    out_kind: *mut i32,
    out_client: *mut u64,
    out_value: *mut i64,
    buf: *mut u8,
    cap: usize,
    out_len: *mut usize,
) -> i32 {
    call("ls_next_event", || {
        let kind = Out::new(out_kind, "out_kind")?;
        let cl = Out::new(out_client, "out_client")?;
        let value = Out::new(out_value, "out_value")?;
        // SAFETY: the caller promises `cap` writable bytes (cap may be 0, e.g. to ask the size).
        let data = unsafe { out_bytes(buf, cap, 0, "buf") }?;
        let len = Out::new(out_len, "out_len")?;
        let t = engine_timeout(timeout_ms)?;
        match with_engine(handle, |e| e.pull_into(data, t)) {
            Ok(Some(info)) => {
                let (c, v) = match info.kind {
                    EventKind::Disconnected => (
                        info.client,
                        info.reason.as_ref().map_or(0, |r| r.code() as i64),
                    ),
                    EventKind::Reconnecting => (info.attempt as u64, duration_ms(info.delay)),
                    EventKind::Warning => {
                        (info.client, info.warning.map_or(0, |k| k.code() as i64))
                    }
                    _ => (info.client, 0),
                };
                kind.set(info.kind.code());
                cl.set(c);
                value.set(v);
                len.set(info.len);
                Ok(())
            }
            Ok(None) => Err(timed_out(handle, timeout_ms)),
            Err(e) => {
                if let Some(needed) = e.needed() {
                    len.set(needed);
                }
                Err(e)
            }
        }
    })
}

/// Take the messages waiting at the front of server or client `handle`'s event queue in one
/// call, waiting up to `timeout_ms` (-1 forever, 0 poll, N ms; -2 is forever too) for the first
/// event: at most `count` (> 0) of them, their bodies back to back in `buf` (capacity `cap`),
/// message i's length in `out_lens[i]` (it starts at `buf` + the sum of `out_lens[0..i]`), the
/// client id of each in `out_clients[i]` (server; the connection number for a client) unless
/// `out_clients` is NULL, and how many in `*out_count`. It stops before the first event that
/// is not a message: `*out_count` 0 with `LS_OK` when that event is the first (take it with
/// `ls_next_event`, e.g. a DISCONNECTED), and before a message that does not fit the rest of
/// `buf` (it stays queued). When even the first message does not fit: `LS_ERR_BUFFER_TOO_SMALL`
/// with its size in `out_lens[0]`, `*out_count` 0, and it stays queued. `LS_ERR_TIMEOUT` when
/// nothing came; `LS_ERR_CLOSED` as `ls_next_event`. A datagram server's events carry senders:
/// pull those with `ls_next_datagram` (`LS_ERR_INVALID_ARGUMENT` here). One call pays the
/// boundary's cost (handle lookup, checks, the queue's lock) once per batch instead of once per
/// message (Python's `messages`).
#[no_mangle]
pub unsafe extern "C" fn ls_next_messages(
    handle: i64,
    timeout_ms: i32,
    buf: *mut u8,
    cap: usize,
    count: usize,
    out_lens: *mut usize,
    out_clients: *mut u64,
    out_count: *mut usize,
) -> i32 {
    call("ls_next_messages", || {
        // SAFETY: the caller promises `cap` writable bytes (cap may be 0, e.g. to ask the size).
        let data = unsafe { out_bytes(buf, cap, 0, "buf") }?;
        let count = check_len(count, "count")?;
        if count == 0 {
            return Err(bad_arg("count is 0: it must be at least 1"));
        }
        // SAFETY: the caller promises `count` writable lengths, and `count` writable ids at
        // `out_clients` unless it is NULL.
        let lens = unsafe { out_array(out_lens, count, "out_lens", "size_t") }?
            .ok_or_else(|| bad_arg("out_lens is NULL"))?;
        let clients = unsafe { out_array(out_clients, count, "out_clients", "uint64_t") }?;
        let out = Out::new(out_count, "out_count")?;
        let t = engine_timeout(timeout_ms)?;
        if let Obj::DgramServer(_) = &*get(handle)? {
            return Err(bad_arg(format!(
                "handle {handle} is a datagram server: take its datagrams with ls_next_datagram"
            )));
        }
        match with_engine(handle, |e| e.pull_msgs(data, lens, clients, t)) {
            Ok(Some(n)) => {
                out.set(n);
                Ok(())
            }
            Ok(None) => Err(timed_out(handle, timeout_ms)),
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

/// `ls_next_event` for a datagram server, with the sender: the next event's kind in
/// `*out_kind` (`LS_EVENT_DATAGRAM`, or the final `LS_EVENT_CLOSED`), the datagram in `buf`
/// (`*out_len` bytes) and the sender's address as text in `peer_buf` (NUL-terminated,
/// `peer_cap` at least `LS_ADDRESS_MAX`; its length in `*out_peer_len`). Too small a `buf`:
/// `LS_ERR_BUFFER_TOO_SMALL` with the needed size in `*out_len`, the datagram stays queued.
#[no_mangle]
pub unsafe extern "C" fn ls_next_datagram(
    handle: i64,
    timeout_ms: i32,
    out_kind: *mut i32,
    buf: *mut u8,
    cap: usize,
    out_len: *mut usize,
    peer_buf: *mut c_char,
    peer_cap: usize,
    out_peer_len: *mut usize,
) -> i32 {
    call("ls_next_datagram", || {
        let kind = Out::new(out_kind, "out_kind")?;
        // SAFETY: the caller promises `cap` and `peer_cap` writable bytes.
        let data = unsafe { out_bytes(buf, cap, 0, "buf") }?;
        let len = Out::new(out_len, "out_len")?;
        let peer = unsafe {
            out_bytes(
                peer_buf.cast(),
                peer_cap,
                crate::LS_ADDRESS_MAX as usize,
                "peer_buf",
            )
        }?;
        let peer_len = Out::new(out_peer_len, "out_peer_len")?;
        let t = engine_timeout(timeout_ms)?;
        // The request–reply pull: straight from the socket into `buf` when nothing is queued.
        let r = with_dgram_server(handle, |e| {
            let r = e.obj.next_datagram_into(data, t);
            match e.is_closed() {
                true => Err(closed_by_ls_close(handle)),
                false => Ok(r),
            }
        })?;
        match r {
            Ok(Some(info)) => {
                let n = crate::datagram::write_peer(info.peer.as_ref(), peer)?;
                kind.set(info.kind.code());
                len.set(info.len);
                peer_len.set(n);
                Ok(())
            }
            Ok(None) => Err(timed_out(handle, timeout_ms)),
            Err(e) => {
                if let Some(needed) = e.needed() {
                    len.set(needed);
                }
                Err(e)
            }
        }
    })
}

/// Events waiting now on server, client or datagram server `handle` (without waiting).
#[no_mangle]
pub unsafe extern "C" fn ls_pending_events(handle: i64, out_count: *mut usize) -> i32 {
    call("ls_pending_events", || {
        let out = Out::new(out_count, "out_count")?;
        let n = with_engine(handle, |e| Ok(e.waiting()))?;
        out.set(n);
        Ok(())
    })
}

/// A file descriptor that is readable while events wait on server, client or datagram server
/// `handle` (level-triggered; reset when a pull empties the queue; stays readable once the
/// object stopped), for poll/epoll/select, Qt's QSocketNotifier or an event loop. Valid until
/// the handle is closed; never read from it or close it.
#[no_mangle]
pub unsafe extern "C" fn ls_notify_fd(handle: i64, out_fd: *mut i32) -> i32 {
    call("ls_notify_fd", || {
        let out = Out::new(out_fd, "out_fd")?;
        let fd = with_engine(handle, |e| Ok(e.fd()))?;
        out.set(fd);
        Ok(())
    })
}

/// Read statistic `stat` (`LS_STAT_*`) of server, client or datagram server `handle` into
/// `*out_value`; also of a KCP server (`LS_STAT_CONNECTIONS`, `_CONNECTIONS_TOTAL`,
/// `_REFUSED`, `_BYTES_IN`, `_BYTES_OUT`, `_MESSAGES_IN`, `_MESSAGES_OUT`, `_EVENTS_QUEUED`,
/// `_SEND_QUEUE_FULL`, and the `LS_KCP_STAT_*` counters) or a KCP session (bytes and messages
/// in and out, and the `LS_KCP_STAT_*` counters). A statistic the object does not keep gives
/// `LS_ERR_UNSUPPORTED`.
#[no_mangle]
pub unsafe extern "C" fn ls_engine_stats(handle: i64, stat: i32, out_value: *mut i64) -> i32 {
    call("ls_engine_stats", || {
        let out = Out::new(out_value, "out_value")?;
        if let Some(v) = crate::handles::kcp_stat(handle, stat)? {
            out.set(v.min(i64::MAX as u64) as i64);
            return Ok(());
        }
        let key = Stat::from_code(stat).ok_or_else(|| {
            bad_arg(format!(
                "stat is {stat}, it is no LS_STAT_* constant (1..{LS_STAT_TLS_FAILURES}) \
                 nor LS_KCP_STAT_* (101..{})",
                KcpStat::ALL.len() + 100
            ))
        })?;
        let o = get(handle)?;
        let v: Option<u64> = match &*o {
            Obj::Server(e) => e.obj.stats().get(key),
            Obj::Client(e) => e.obj.stats().get(key),
            Obj::DgramServer(e) => e.obj.stats().get(key),
            Obj::KcpServer(e) => e.obj.stats().get(key),
            Obj::KcpSession(k) => k.session.stats().get(key),
            other => {
                return Err(wrong_kind(
                    handle,
                    other,
                    "server, client or datagram server",
                ))
            }
        };
        let v = v.ok_or_else(|| {
            Error::Unsupported(format!(
                "statistic {stat} is not kept by a {}",
                match &*o {
                    Obj::Client(_) => "client",
                    Obj::DgramServer(_) => "datagram server",
                    Obj::KcpServer(_) => "KCP server",
                    Obj::KcpSession(_) => "KCP session",
                    _ => "server",
                }
            ))
        })?;
        out.set(v.min(i64::MAX as u64) as i64);
        Ok(())
    })
}

/// Stop the engine: every server, client and datagram server stops at once (their waiters wake,
/// their last events are queued, later commands return `LS_ERR_CLOSED`; their handles stay valid
/// until `ls_close`), then the engine's threads are joined (up to 5 s), so the library can be
/// unloaded cleanly (MATLAB `unloadlibrary`, Delphi `FreeLibrary`). The blocking layer is not
/// affected. A new engine object made afterwards starts the engine again. Safe to call more
/// than once and from any thread. (Operation `shutdown_engine` of docs/NAMES.md.)
#[no_mangle]
pub extern "C" fn ls_shutdown_engine() -> i32 {
    call("ls_shutdown_engine", || {
        engine::shutdown();
        Ok(())
    })
}

/// Deprecated: the former name of `ls_shutdown_engine`, which it calls (kept for programs
/// written against earlier headers and examples).
#[no_mangle]
pub extern "C" fn ls_shutdown() -> i32 {
    ls_shutdown_engine()
}

/// Address of an engine object (for `ls_local_address` / `ls_local_port`).
pub(crate) fn local_addr(o: &Obj) -> Option<Addr> {
    match o {
        Obj::Server(e) => Some(e.obj.local_addr()),
        Obj::DgramServer(e) => Some(e.obj.local_addr()),
        Obj::KcpServer(e) => Some(e.obj.local_addr()),
        Obj::KcpSession(k) => k.session.local_addr().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use libsock::engine::{ClientConfig, DatagramServerConfig, DisconnectReason};
    use libsock::ErrorKind;

    #[test]
    fn event_macros_match_core_codes() {
        let kinds = [
            (LS_EVENT_CONNECTED, EventKind::Connected),
            (LS_EVENT_MESSAGE, EventKind::Message),
            (LS_EVENT_DISCONNECTED, EventKind::Disconnected),
            (LS_EVENT_RECONNECTING, EventKind::Reconnecting),
            (LS_EVENT_DATAGRAM, EventKind::Datagram),
            (LS_EVENT_CLOSED, EventKind::Closed),
            (LS_EVENT_WARNING, EventKind::Warning),
        ];
        for (m, k) in kinds {
            assert_eq!(m, k.code(), "{k:?}");
        }
    }

    #[test]
    fn reason_macros_match_core_codes() {
        let reasons = [
            (LS_REASON_PEER_CLOSED, DisconnectReason::PeerClosed),
            (LS_REASON_RESET, DisconnectReason::Reset),
            (LS_REASON_IDLE_TIMEOUT, DisconnectReason::IdleTimeout),
            (LS_REASON_HEARTBEAT_LOST, DisconnectReason::HeartbeatLost),
            (LS_REASON_FRAME_TOO_LARGE, DisconnectReason::FrameTooLarge),
            (LS_REASON_KICKED, DisconnectReason::Kicked),
            (LS_REASON_SERVER_SHUTDOWN, DisconnectReason::ServerShutdown),
            (
                LS_REASON_ERROR,
                DisconnectReason::Error(ErrorKind::Io, String::new()),
            ),
            (LS_REASON_SEND_QUEUE_FULL, DisconnectReason::SendQueueFull),
            (LS_REASON_CLOSED, DisconnectReason::Closed),
            (LS_REASON_TLS, DisconnectReason::Tls(String::new())),
        ];
        assert_eq!(reasons.len(), DisconnectReason::ALL.len());
        for (m, r) in reasons {
            assert_eq!(m, r.code(), "{r:?}");
        }
    }

    #[test]
    fn every_stat_is_cores_stat_with_its_number_and_name() {
        let stats = [
            (LS_STAT_CONNECTIONS, "LS_STAT_CONNECTIONS"),
            (LS_STAT_CONNECTIONS_TOTAL, "LS_STAT_CONNECTIONS_TOTAL"),
            (LS_STAT_REFUSED, "LS_STAT_REFUSED"),
            (LS_STAT_BYTES_IN, "LS_STAT_BYTES_IN"),
            (LS_STAT_BYTES_OUT, "LS_STAT_BYTES_OUT"),
            (LS_STAT_MESSAGES_IN, "LS_STAT_MESSAGES_IN"),
            (LS_STAT_MESSAGES_OUT, "LS_STAT_MESSAGES_OUT"),
            (LS_STAT_QUEUED_BYTES, "LS_STAT_QUEUED_BYTES"),
            (LS_STAT_EVENTS_QUEUED, "LS_STAT_EVENTS_QUEUED"),
            (LS_STAT_FAILED_ATTEMPTS, "LS_STAT_FAILED_ATTEMPTS"),
            (LS_STAT_SEND_QUEUE_FULL, "LS_STAT_SEND_QUEUE_FULL"),
            (LS_STAT_ACCEPT_ERRORS, "LS_STAT_ACCEPT_ERRORS"),
            (LS_STAT_TLS_FAILURES, "LS_STAT_TLS_FAILURES"),
        ];
        assert_eq!(stats.len(), Stat::ALL.len());
        for ((code, name), s) in stats.iter().zip(Stat::ALL) {
            assert_eq!(*code, s.code(), "{name}");
            assert_eq!(*name, format!("LS_STAT_{}", s.name()));
        }
    }

    #[test]
    fn every_key_is_cores_key_with_its_number_and_name() {
        let keys = [
            (LS_ECFG_MAX_CLIENTS, "LS_ECFG_MAX_CLIENTS"),
            (LS_ECFG_SEND_QUEUE_BYTES, "LS_ECFG_SEND_QUEUE_BYTES"),
            (LS_ECFG_SEND_POLICY, "LS_ECFG_SEND_POLICY"),
            (LS_ECFG_EVENT_CAPACITY, "LS_ECFG_EVENT_CAPACITY"),
            (LS_ECFG_IDLE_TIMEOUT_MS, "LS_ECFG_IDLE_TIMEOUT_MS"),
            (LS_ECFG_IDLE_MODE, "LS_ECFG_IDLE_MODE"),
            (
                LS_ECFG_HEARTBEAT_INTERVAL_MS,
                "LS_ECFG_HEARTBEAT_INTERVAL_MS",
            ),
            (LS_ECFG_HEARTBEAT_MISSES, "LS_ECFG_HEARTBEAT_MISSES"),
            (LS_ECFG_RECONNECT, "LS_ECFG_RECONNECT"),
            (LS_ECFG_BACKOFF_MIN_MS, "LS_ECFG_BACKOFF_MIN_MS"),
            (LS_ECFG_BACKOFF_MAX_MS, "LS_ECFG_BACKOFF_MAX_MS"),
            (LS_ECFG_MAX_ATTEMPTS, "LS_ECFG_MAX_ATTEMPTS"),
            (LS_ECFG_CONNECT_TIMEOUT_MS, "LS_ECFG_CONNECT_TIMEOUT_MS"),
            (LS_ECFG_JITTER, "LS_ECFG_JITTER"),
            (LS_ECFG_BACKLOG, "LS_ECFG_BACKLOG"),
            (LS_ECFG_CLOSE_TIMEOUT_MS, "LS_ECFG_CLOSE_TIMEOUT_MS"),
            (LS_ECFG_MAX_DATAGRAM, "LS_ECFG_MAX_DATAGRAM"),
            (LS_ECFG_REMOVE_STALE, "LS_ECFG_REMOVE_STALE"),
        ];
        assert_eq!(keys.len(), ConfigKey::ALL.len());
        for ((code, name), k) in keys.iter().zip(ConfigKey::ALL) {
            assert_eq!(*code, k.code(), "{name}");
            assert_eq!(*name, format!("LS_ECFG_{}", k.name()));
        }
        assert!(ConfigKey::from_code_checked(0).is_err());
        assert!(ConfigKey::from_code_checked(keys.len() as i32 + 1).is_err());
        assert_eq!(LS_SEND_POLICY_DISCONNECT, 1);
        assert_eq!(LS_IDLE_READS_AND_WRITES, 1);
    }

    #[test]
    fn a_default_config_gives_cores_defaults() {
        let c = EngineConfig::new();
        let s = c.server();
        let d = ServerConfig::new();
        assert_eq!(s.framing, d.framing);
        assert_eq!(s.backlog, d.backlog);
        assert_eq!(s.send_queue_bytes, d.send_queue_bytes);
        assert_eq!(s.event_capacity, d.event_capacity);
        assert_eq!(s.heartbeat, d.heartbeat);
        assert_eq!(s.close_timeout, d.close_timeout);
        let cc = c.client();
        let dc = ClientConfig::new();
        assert_eq!(cc.backoff_min, dc.backoff_min);
        assert_eq!(cc.backoff_max, dc.backoff_max);
        assert_eq!(cc.connect_timeout, dc.connect_timeout);
        assert_eq!(cc.reconnect, dc.reconnect);
        assert_eq!(cc.heartbeat, dc.heartbeat);
        assert_eq!(
            c.datagram().max_datagram,
            DatagramServerConfig::new().max_datagram
        );
    }
}
