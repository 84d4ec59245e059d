//! JNI glue for the event engine: `io.libsock.Server`, `io.libsock.Client` and
//! `io.libsock.DatagramServer`.
//!
//! Translation only, like the rest of the crate: the Java option builders pass their settings as
//! `(key, value)` pairs of core's engine setting numbers ([`ConfigKey`], the C door's
//! `LS_ECFG_*`; Java's `io.libsock.ConfigKey`), which become core's [`EngineSettings`] as in the
//! C door (core checks every value and combination, with the same messages in every door); the
//! objects live in the crate's handle table, and events come back as an `io.libsock.Event[]`
//! built with one constructor call per event, or, for `EngineObject.messages`, the messages at
//! the front of the queue as one `byte[]` of bodies back to back plus a `long[]` of client ids
//! and lengths (core's `next_messages_into`; Java cuts the bodies apart). A pull blocks the
//! calling Java thread inside the core's `next_events` (or `next_messages_into`). `shutdown`
//! from another thread (or `engine::shutdown`) makes the core queue the final `Closed` event,
//! which wakes it: the waiter takes `CLOSED`, and the pull after it throws `ClosedException`
//! (core's pull API). `close` frees the handle as well: a pull blocked on it throws
//! `ClosedException` at once, as `ls_next_event` returns `LS_ERR_CLOSED` after `ls_close`
//! (scenario S17).

use std::sync::Arc;

use jni::objects::{JByteArray, JClass, JIntArray, JLongArray, JObject, JObjectArray, JString};
use jni::sys::{jboolean, jint, jlong};
use jni::{jni_sig, jni_str, Env, EnvUnowned, JValue};
use libsock::engine::{
    self, Client, ConfigKey, DatagramServer, EngineSettings, Event, Server, SEND_WAIT,
};
use libsock::{Addr, Endpoint, Framing, SockOpt};

use super::{framing, get, insert, invalid, jstr, read_array, run, string, JErr, JResult, Obj};
use libsock_flat::{duration_ms, engine_timeout, grace};

// ------------------------------------------------------------------------------------------------
// Handle lookups

fn server(h: jlong) -> JResult<Arc<Server>> {
    match get(h, "server")? {
        Obj::Server(s) => Ok(s),
        _ => Err(JErr::BadHandle(h, "server")),
    }
}

fn client(h: jlong) -> JResult<Arc<Client>> {
    match get(h, "client")? {
        Obj::Client(c) => Ok(c),
        _ => Err(JErr::BadHandle(h, "client")),
    }
}

fn dgram_server(h: jlong) -> JResult<Arc<DatagramServer>> {
    match get(h, "datagram server")? {
        Obj::DgramServer(d) => Ok(d),
        _ => Err(JErr::BadHandle(h, "datagram server")),
    }
}

/// Any engine object (server, client or datagram server).
enum EngineObj {
    Server(Arc<Server>),
    Client(Arc<Client>),
    Dgram(Arc<DatagramServer>),
    Kcp(Arc<libsock::kcp::KcpServer>),
}

fn engine_obj(h: jlong) -> JResult<EngineObj> {
    const WHAT: &str = "server, client, datagram server or KCP server";
    Ok(match get(h, WHAT)? {
        Obj::Server(s) => EngineObj::Server(s),
        Obj::Client(c) => EngineObj::Client(c),
        Obj::DgramServer(d) => EngineObj::Dgram(d),
        Obj::Kcp(k) => EngineObj::Kcp(k),
        _ => return Err(JErr::BadHandle(h, WHAT)),
    })
}

// ------------------------------------------------------------------------------------------------
// Argument conversion

/// The `long[]` of a config, with its length checked.
pub(crate) fn longs<const N: usize>(
    env: &Env<'_>,
    a: &JLongArray<'_>,
    what: &'static str,
) -> JResult<[i64; N]> {
    if a.is_null() {
        return Err(JErr::Null(what));
    }
    if a.len(env)? != N {
        return Err(invalid(format!("{what} must hold {N} values")));
    }
    let mut v = [0i64; N];
    a.get_region(env, 0, &mut v)?;
    Ok(v)
}

/// A framing from `Framing.params()`: {kind, width, bigEndian, offset, headerLength,
/// adjustment, maxLength, lengthBits, flag, keep} plus the delimiter.
fn framing_of(env: &Env<'_>, p: &JLongArray<'_>, delimiter: &JByteArray<'_>) -> JResult<Framing> {
    let p: [i64; 10] = longs(env, p, "framing parameters")?;
    let int = |v: i64| i32::try_from(v).map_err(|_| invalid(format!("framing value {v}")));
    framing(
        env,
        int(p[0])?,
        int(p[1])?,
        p[2] != 0,
        int(p[3])?,
        int(p[4])?,
        p[5],
        p[6],
        int(p[7])?,
        p[8],
        p[9] != 0,
        delimiter,
    )
}

/// Parallel `int[]` keys and `long[]` values (both null: none).
fn pairs(
    env: &Env<'_>,
    keys: &JIntArray<'_>,
    values: &JLongArray<'_>,
    what: &'static str,
) -> JResult<Vec<(i32, i64)>> {
    match (keys.is_null(), values.is_null()) {
        (true, true) => return Ok(Vec::new()),
        (true, false) | (false, true) => return Err(JErr::Null(what)),
        _ => {}
    }
    let n = keys.len(env)?;
    if values.len(env)? != n {
        return Err(invalid(format!("{what}: keys and values differ in length")));
    }
    let mut ks = vec![0i32; n];
    let mut vs = vec![0i64; n];
    keys.get_region(env, 0, &mut ks)?;
    values.get_region(env, 0, &mut vs)?;
    Ok(ks.into_iter().zip(vs).collect())
}

/// Core's engine settings from what Java passes: `(key, value)` pairs of [`ConfigKey`] numbers
/// (each value checked by core for its key's range), the framing (null: the default), the
/// heartbeat payloads (null: the defaults) and socket options (applied over the object kind's
/// defaults, nodelay on). The combination is checked by core when the object is made.
#[allow(clippy::too_many_arguments)]
fn settings(
    env: &Env<'_>,
    keys: &JIntArray<'_>,
    values: &JLongArray<'_>,
    fr: &JLongArray<'_>,
    delimiter: &JByteArray<'_>,
    ping: &JByteArray<'_>,
    pong: &JByteArray<'_>,
    opt_nums: &JIntArray<'_>,
    opt_vals: &JLongArray<'_>,
) -> JResult<EngineSettings> {
    let mut s = EngineSettings::new();
    for (k, v) in pairs(env, keys, values, "engine settings")? {
        s.set(ConfigKey::from_code_checked(k)?, v)?;
    }
    if !fr.is_null() {
        s.set_framing(framing_of(env, fr, delimiter)?);
    }
    match (ping.is_null(), pong.is_null()) {
        (true, true) => {}
        (false, false) => {
            s.set_heartbeat_payloads(env.convert_byte_array(ping)?, env.convert_byte_array(pong)?)
        }
        (true, false) => return Err(JErr::Null("ping")),
        (false, true) => return Err(JErr::Null("pong")),
    }
    for (n, v) in pairs(env, opt_nums, opt_vals, "socket options")? {
        s.set_option(SockOpt::from_number(n)?, v)?;
    }
    Ok(s)
}

/// `static native void engineSettingCheck(int key, long value)`: core's check of one setting
/// (an unknown key, a value outside the key's range), as `ls_engine_config_set` makes it, so a
/// Java option builder refuses a bad value when it is set, with core's message.
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_engineSettingCheck<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    key: jint,
    value: jlong,
) {
    run(&mut env, |_| {
        EngineSettings::new().set(ConfigKey::from_code_checked(key)?, value)?;
        Ok(())
    })
}

fn endpoint_of(env: &Env<'_>, text: &JString<'_>) -> JResult<Endpoint> {
    Ok(Endpoint::parse(&string(env, text, "endpoint")?)?)
}

/// Copy `off..off+len` of `b`, after looking the handle up (so a closed handle wins over bad
/// data only when the data is fine: null data is reported first, as everywhere in the glue).
fn data(env: &Env<'_>, b: &JByteArray<'_>, off: jint, len: jint) -> JResult<Vec<u8>> {
    read_array(env, b, off, len)
}

// ------------------------------------------------------------------------------------------------
// Events

/// One `io.libsock.Event(int kind, long client, String peer, byte[] data, int reason,
/// int errorCode, String reasonText, int attempt, long delayMillis)`.
fn event_object<'l>(env: &mut Env<'l>, class: &JClass<'l>, ev: &Event) -> JResult<JObject<'l>> {
    let peer = match ev.peer() {
        Some(p) => JObject::from(jstr(env, &p.to_string())?),
        None => JObject::null(),
    };
    let bytes = match ev.data() {
        Some(d) => JObject::from(env.byte_array_from_slice(d)?),
        None => JObject::null(),
    };
    // DISCONNECTED: the reason, its error kind and its text; WARNING: its error kind and its
    // message (reasonText on the Java side).
    let (reason, error_code, text) = match (ev.reason(), ev) {
        (Some(r), _) => (
            r.code(),
            r.error_kind().map_or(0, |k| k.code()),
            JObject::from(jstr(env, &r.to_string())?),
        ),
        (None, Event::Warning { error, message, .. }) => {
            (0, error.code(), JObject::from(jstr(env, message)?))
        }
        (None, _) => (0, 0, JObject::null()),
    };
    let (attempt, delay) = match ev {
        Event::Reconnecting { attempt, delay } => (
            i32::try_from(*attempt).unwrap_or(i32::MAX),
            duration_ms(*delay),
        ),
        _ => (0, 0),
    };
    let obj = env.new_object(
        class,
        jni_sig!("(IJLjava/lang/String;[BIILjava/lang/String;IJ)V"),
        &[
            JValue::Int(ev.kind().code()),
            JValue::Long(ev.client() as i64),
            JValue::Object(&peer),
            JValue::Object(&bytes),
            JValue::Int(reason),
            JValue::Int(error_code),
            JValue::Object(&text),
            JValue::Int(attempt),
            JValue::Long(delay),
        ],
    )?;
    // One event's temporaries at a time, however large the batch.
    for o in [peer, bytes, text] {
        if !o.is_null() {
            env.delete_local_ref(o);
        }
    }
    Ok(obj)
}

fn events_array<'l>(env: &mut Env<'l>, events: &[Event]) -> JResult<JObjectArray<'l>> {
    let class = env.find_class(jni_str!("io/libsock/Event"))?;
    let arr = env.new_object_array(events.len() as jint, &class, JObject::null())?;
    for (i, ev) in events.iter().enumerate() {
        let o = event_object(env, &class, ev)?;
        arr.set_element(env, i, &o)?;
        env.delete_local_ref(o);
    }
    env.delete_local_ref(class);
    Ok(arr)
}

/// `static native Event[] engineEvents(long h, int max, int timeoutMs)`: up to `max` events,
/// waiting for the first up to `timeoutMs` (-1 or -2 forever, 0 poll); an empty array on
/// timeout; `ClosedException` after the final `CLOSED` event was taken, or when `close` freed
/// the handle while this call waited (as `ls_next_event` after `ls_close`; the events it may
/// have taken meanwhile go with the handle).
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_engineEvents<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    h: jlong,
    max: jint,
    t: jint,
) -> JObjectArray<'l> {
    run(&mut env, |env| {
        // max 0 is refused by core (InvalidArgument), with the same message as in every door.
        if max < 0 {
            return Err(invalid(format!("max {max} is negative")));
        }
        let t = engine_timeout(t)?;
        let max = max as usize;
        let evs = match engine_obj(h)? {
            EngineObj::Server(s) => s.next_events(max, t),
            EngineObj::Client(c) => c.next_events(max, t),
            EngineObj::Dgram(d) => d.next_events(max, t),
            EngineObj::Kcp(k) => k.next_events(max, t),
        };
        // Handles are never reused: gone from the table means `close` freed it meanwhile.
        if get(h, "engine object").is_err() {
            return Err(libsock::Error::closed(format!("handle {h} was closed by close()")).into());
        }
        events_array(env, &evs?)
    })
}

/// The most messages one `engineMessages` call takes, whatever `max` says (the rest stay queued
/// for the next call): bounds the per-thread arrays of sizes and client ids.
const MESSAGES_PER_CALL: usize = 4096;

/// What a batch of messages lands in before it is copied into one Java `byte[]`: at least this
/// many bytes per call (a larger first message is taken alone, into a buffer of its size).
const MESSAGES_BUF: usize = 64 * 1024;

/// One thread's landing place for `engineMessages`, reused from call to call.
struct MessageScratch {
    buf: Vec<u8>,
    sizes: Vec<usize>,
    clients: Vec<u64>,
}

thread_local! {
    static MESSAGE_SCRATCH: std::cell::RefCell<MessageScratch> =
        const { std::cell::RefCell::new(MessageScratch {
            buf: Vec::new(),
            sizes: Vec::new(),
            clients: Vec::new(),
        }) };
}

impl EngineObj {
    /// Core's `next_messages_into` of whichever object this is.
    fn messages_into(
        &self,
        buf: &mut [u8],
        sizes: &mut [usize],
        clients: &mut [u64],
        t: Option<std::time::Duration>,
    ) -> libsock::Result<Option<usize>> {
        match self {
            EngineObj::Server(s) => s.next_messages_into(buf, sizes, Some(clients), t),
            EngineObj::Client(c) => c.next_messages_into(buf, sizes, Some(clients), t),
            EngineObj::Dgram(d) => d.next_messages_into(buf, sizes, Some(clients), t),
            EngineObj::Kcp(k) => k.next_messages_into(buf, sizes, Some(clients), t),
        }
    }
}

/// `{byte[] bodies, long[] meta}` for the messages taken into `buf` (their bodies back to back
/// at its start; `meta[2k]` message k's client id, `meta[2k + 1]` its length).
fn messages_result<'l>(
    env: &mut Env<'l>,
    buf: &[u8],
    sizes: &[usize],
    clients: &[u64],
) -> JResult<JObjectArray<'l>> {
    let at: usize = sizes.iter().sum();
    let bodies = env.byte_array_from_slice(&buf[..at])?;
    let meta: Vec<i64> = clients
        .iter()
        .zip(sizes)
        .flat_map(|(&c, &len)| [c as i64, len as i64])
        .collect();
    let lens = env.new_long_array(meta.len())?;
    lens.set_region(env, 0, &meta)?;
    let arr = env.new_object_array(2, jni_str!("java/lang/Object"), JObject::null())?;
    arr.set_element(env, 0, &bodies)?;
    arr.set_element(env, 1, &lens)?;
    env.delete_local_ref(bodies);
    env.delete_local_ref(lens);
    Ok(arr)
}

/// `static native Object[] engineMessages(long h, int max, int timeoutMs)`: the messages at the
/// front of a server's, client's or KCP server's queue (core's `next_messages_into`), waiting
/// for the first event up to `timeoutMs` as `engineEvents` does: `{byte[] bodies, long[] meta}`
/// with the bodies back to back and, for message k, its client id in `meta[2k]` and its length
/// in `meta[2k + 1]`; null when the time ran out or the next event is not a message (it stays
/// queued for `engineEvents`). At most `max` (and `MESSAGES_PER_CALL`) messages, as many as
/// fit in `MESSAGES_BUF` bytes; a larger first message is taken alone. Errors as
/// `engineEvents` (max 0 refused by core); a datagram server's events carry senders, so it is
/// refused (`InvalidArgumentException`), as `ls_next_messages` refuses it.
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_engineMessages<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    h: jlong,
    max: jint,
    t: jint,
) -> JObjectArray<'l> {
    run(&mut env, |env| {
        if max < 0 {
            return Err(invalid(format!("max {max} is negative")));
        }
        let mut t = engine_timeout(t)?;
        let obj = engine_obj(h)?;
        if matches!(obj, EngineObj::Dgram(_)) {
            return Err(invalid(format!(
                "handle {h} is a datagram server: take its datagrams with events() or nextEvent()"
            )));
        }
        // max 0 reaches core, which refuses it with the same words in every door.
        let k = (max as usize).min(MESSAGES_PER_CALL);
        MESSAGE_SCRATCH.with_borrow_mut(|s| {
            if s.buf.len() < MESSAGES_BUF {
                s.buf.resize(MESSAGES_BUF, 0);
            }
            if s.sizes.len() < k {
                s.sizes.resize(k, 0);
                s.clients.resize(k, 0);
            }
            let (sizes, clients) = (&mut s.sizes[..k], &mut s.clients[..k]);
            // A first message larger than the scratch buffer stays queued: take it (and what
            // fits behind it) into a buffer of its size, without waiting again. Should another
            // thread take it meanwhile, this is a timeout, or another message too large.
            let mut big: Vec<u8> = Vec::new();
            let n = loop {
                let buf = if big.is_empty() { &mut s.buf } else { &mut big };
                match obj.messages_into(buf, sizes, clients, t) {
                    Err(e) => match e.needed() {
                        Some(needed) => {
                            big = vec![0; needed.max(1)];
                            t = Some(std::time::Duration::ZERO);
                        }
                        None => break Err(e),
                    },
                    r => break r,
                }
            };
            // Handles are never reused: gone from the table means `close` freed it meanwhile.
            if get(h, "engine object").is_err() {
                return Err(
                    libsock::Error::closed(format!("handle {h} was closed by close()")).into(),
                );
            }
            match n? {
                None | Some(0) => Ok(JObjectArray::default()),
                Some(n) => {
                    let buf = if big.is_empty() { &s.buf } else { &big };
                    messages_result(env, buf, &sizes[..n], &clients[..n])
                }
            }
        })
    })
}

/// `static native int enginePending(long h)`: events waiting now.
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_enginePending<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    h: jlong,
) -> jint {
    run(&mut env, |_| {
        let n = match engine_obj(h)? {
            EngineObj::Server(s) => s.pending(),
            EngineObj::Client(c) => c.pending(),
            EngineObj::Dgram(d) => d.pending(),
            EngineObj::Kcp(k) => k.pending(),
        };
        Ok(n.min(i32::MAX as usize) as jint)
    })
}

/// `static native String engineLocalAddress(long h)`: a server's bound address, or a client's
/// peer while connected (null otherwise).
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_engineLocalAddress<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    h: jlong,
) -> JString<'l> {
    run(&mut env, |env| {
        let a: Option<Addr> = match engine_obj(h)? {
            EngineObj::Server(s) => Some(s.local_addr()),
            EngineObj::Client(c) => c.peer_addr(),
            EngineObj::Dgram(d) => Some(d.local_addr()),
            EngineObj::Kcp(k) => Some(k.local_addr()),
        };
        match a {
            Some(a) => jstr(env, &a.to_string()),
            None => Ok(JString::null()),
        }
    })
}

/// `static native long[] engineStats(long h)`: {connections, connectionsTotal, refused,
/// bytesIn, bytesOut, messagesIn, messagesOut, queuedBytes, eventsQueued, connected (0/1),
/// failedAttempts, sendQueueFull, acceptErrors, tlsFailures}.
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_engineStats<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    h: jlong,
) -> JLongArray<'l> {
    run(&mut env, |env| {
        let v: [u64; 14] = match engine_obj(h)? {
            EngineObj::Server(s) => {
                let s = s.stats();
                [
                    s.connections,
                    s.connections_total,
                    s.refused,
                    s.bytes_in,
                    s.bytes_out,
                    s.messages_in,
                    s.messages_out,
                    s.queued_bytes,
                    s.events_queued,
                    0,
                    0,
                    s.send_queue_full,
                    s.accept_errors,
                    s.tls_failures,
                ]
            }
            EngineObj::Client(c) => {
                let s = c.stats();
                [
                    s.connected as u64,
                    s.connections,
                    0,
                    s.bytes_in,
                    s.bytes_out,
                    s.messages_in,
                    s.messages_out,
                    s.queued_bytes,
                    s.events_queued,
                    s.connected as u64,
                    s.failed_attempts,
                    0,
                    0,
                    s.tls_failures,
                ]
            }
            EngineObj::Dgram(d) => {
                let s = d.stats();
                [
                    0,
                    0,
                    0,
                    s.bytes_in,
                    s.bytes_out,
                    s.datagrams_in,
                    s.datagrams_out,
                    0,
                    s.events_queued,
                    0,
                    0,
                    0,
                    0,
                    0,
                ]
            }
            EngineObj::Kcp(k) => {
                let s = k.stats();
                [
                    s.connections,
                    s.connections_total,
                    s.refused,
                    s.bytes_in,
                    s.bytes_out,
                    s.messages_in,
                    s.messages_out,
                    0,
                    s.events_queued,
                    0,
                    0,
                    s.send_queue_full,
                    0,
                    0,
                ]
            }
        };
        let v: Vec<i64> = v.iter().map(|&x| x.min(i64::MAX as u64) as i64).collect();
        let arr = env.new_long_array(v.len())?;
        arr.set_region(env, 0, &v)?;
        Ok(arr)
    })
}

/// `static native void engineShutdown(long h, int graceMs)`: a server's `shutdown(grace)`, a
/// client's `close(grace)`, a datagram server's `shutdown()`. The handle stays valid, so the
/// remaining events (up to `CLOSED`) can still be pulled.
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_engineShutdown<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    h: jlong,
    grace_ms: jint,
) {
    run(&mut env, |_| {
        let grace = grace(grace_ms)?;
        match engine_obj(h)? {
            EngineObj::Server(s) => s.shutdown(grace),
            EngineObj::Client(c) => c.close(grace),
            EngineObj::Dgram(d) => d.shutdown(),
            // KCP has no flush on shutdown: graceful ends are per session (disconnect).
            EngineObj::Kcp(k) => k.shutdown(),
        }
        Ok(())
    })
}

/// `static native void engineShutdownAll()`: `engine::shutdown()`.
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_engineShutdownAll<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
) {
    run(&mut env, |_| {
        engine::shutdown();
        Ok(())
    })
}

/// `static native boolean engineSetThreads(int n)`: the engine's worker thread count for its
/// next start; true if it is not running (so the value applies at once).
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_engineSetThreads<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    n: jint,
) -> jboolean {
    run(&mut env, |_| {
        let n = usize::try_from(n).map_err(|_| invalid(format!("worker threads {n}")))?;
        Ok(engine::set_worker_threads(n)?)
    })
}

// ------------------------------------------------------------------------------------------------
// Server

/// `static native long serverBind(String endpoint, int[] keys, long[] values, long[] framing,
/// byte[] delimiter, byte[] ping, byte[] pong, int[] optNums, long[] optValues, long tlsConfig)`:
/// `keys` and `values` are `(ConfigKey number, value)` pairs (unset keys keep core's defaults);
/// a null framing is the default one (see `settings`); `tlsConfig` is a server `TlsConfig`
/// handle (0: plaintext): handshakes run on the engine, a failed one is a `WARNING` event (kind
/// `TLS`) counted in `tls_failures`.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub extern "system" fn Java_io_libsock_Native_serverBind<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    text: JString<'l>,
    keys: JIntArray<'l>,
    values: JLongArray<'l>,
    fr: JLongArray<'l>,
    delimiter: JByteArray<'l>,
    ping: JByteArray<'l>,
    pong: JByteArray<'l>,
    opt_nums: JIntArray<'l>,
    opt_vals: JLongArray<'l>,
    tls_config: jlong,
) -> jlong {
    run(&mut env, |env| {
        let ep = endpoint_of(env, &text)?;
        let mut s = settings(
            env, &keys, &values, &fr, &delimiter, &ping, &pong, &opt_nums, &opt_vals,
        )?;
        if tls_config != 0 {
            s.set_server_tls(Some(crate::tls::server_tls(tls_config)?));
        }
        let s = Server::bind(ep, s.server())?;
        insert(Obj::Server(Arc::new(s)))
    })
}

/// `static native void serverSend(long h, long client, byte[] b, int off, int len)`: queue one
/// message to `client`; `QueueFullException` when its send queue is full.
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_serverSend<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    h: jlong,
    id: jlong,
    b: JByteArray<'l>,
    off: jint,
    len: jint,
) {
    run(&mut env, |env| {
        let d = data(env, &b, off, len)?;
        server(h)?.send(id as u64, &d)?;
        Ok(())
    })
}

/// `static native int serverSendMany(long h, long[] clients, byte[] b, int off, int len)`: how
/// many clients it was queued for.
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_serverSendMany<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    h: jlong,
    ids: JLongArray<'l>,
    b: JByteArray<'l>,
    off: jint,
    len: jint,
) -> jint {
    run(&mut env, |env| {
        if ids.is_null() {
            return Err(JErr::Null("clients"));
        }
        let mut v = vec![0i64; ids.len(env)?];
        ids.get_region(env, 0, &mut v)?;
        let v: Vec<u64> = v.into_iter().map(|x| x as u64).collect();
        let d = data(env, &b, off, len)?;
        Ok(server(h)?.send_many(&v, &d)?.min(i32::MAX as usize) as jint)
    })
}

/// `static native int serverBroadcast(long h, byte[] b, int off, int len, long except)`: queue
/// to every client but `except` (0 = none); how many clients it was queued for.
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_serverBroadcast<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    h: jlong,
    b: JByteArray<'l>,
    off: jint,
    len: jint,
    except: jlong,
) -> jint {
    run(&mut env, |env| {
        let d = data(env, &b, off, len)?;
        let except = (except != 0).then_some(except as u64);
        Ok(server(h)?.broadcast(&d, except)?.min(i32::MAX as usize) as jint)
    })
}

/// `static native void serverDisconnect(long h, long client, boolean graceful)`.
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_serverDisconnect<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    h: jlong,
    id: jlong,
    graceful: jboolean,
) {
    run(&mut env, |_| {
        server(h)?.disconnect(id as u64, graceful)?;
        Ok(())
    })
}

/// `static native long[] serverClients(long h)`: connected client ids, ascending.
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_serverClients<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    h: jlong,
) -> JLongArray<'l> {
    run(&mut env, |env| {
        let ids: Vec<i64> = server(h)?
            .clients()
            .into_iter()
            .map(|(id, _)| id as i64)
            .collect();
        let arr = env.new_long_array(ids.len())?;
        arr.set_region(env, 0, &ids)?;
        Ok(arr)
    })
}

/// `static native String serverClientAddress(long h, long client)`: `ClosedException` when the
/// client is not connected.
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_serverClientAddress<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    h: jlong,
    id: jlong,
) -> JString<'l> {
    run(&mut env, |env| {
        let a = server(h)?.peer_addr(id as u64)?;
        jstr(env, &a.to_string())
    })
}

/// `static native long serverQueuedBytes(long h, long client)`: bytes in its send queue.
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_serverQueuedBytes<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    h: jlong,
    id: jlong,
) -> jlong {
    run(&mut env, |_| {
        Ok(server(h)?.queued_bytes(id as u64)?.min(i64::MAX as usize) as jlong)
    })
}

/// `static native int serverSendBatch(long h, long client, byte[][] msgs, int timeoutMs)`:
/// several messages to one client in order, as one batch (core's `send_batch`); how many were
/// queued.
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_serverSendBatch<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    h: jlong,
    id: jlong,
    msgs: JObjectArray<'l>,
    t: jint,
) -> jint {
    run(&mut env, |env| {
        let msgs = crate::extra::byte_arrays(env, &msgs)?;
        let slices: Vec<&[u8]> = msgs.iter().map(|m| m.as_slice()).collect();
        let t = engine_timeout(t)?;
        Ok(server(h)?
            .send_batch(id as u64, &slices, t)?
            .min(i32::MAX as usize) as jint)
    })
}

/// `static native Object[] serverClientStats(long h, long client)`: `{String peer, long[]
/// {connectedSince (ms since the epoch), bytesIn, bytesOut, messagesIn, messagesOut,
/// queuedBytes, tls (0/1)}}`; `ClosedException` for a client that is gone.
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_serverClientStats<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    h: jlong,
    id: jlong,
) -> JObjectArray<'l> {
    run(&mut env, |env| {
        let st = server(h)?.client_stats(id as u64)?;
        connection_stats(env, &st)
    })
}

/// `{String peer, long[] {connectedSince (ms since the epoch), bytesIn, bytesOut, messagesIn,
/// messagesOut, queuedBytes, tls (0/1)}}`: core's `ConnectionStats`, for `Server.clientStats`
/// and `TcpConnection.stats`.
pub(crate) fn connection_stats<'l>(
    env: &mut Env<'l>,
    st: &libsock::ConnectionStats,
) -> JResult<JObjectArray<'l>> {
    let since = st
        .connected_since
        .duration_since(std::time::UNIX_EPOCH)
        .map(duration_ms)
        .unwrap_or(0);
    let clamp = |v: u64| v.min(i64::MAX as u64) as i64;
    let arr = env.new_object_array(2, jni_str!("java/lang/Object"), JObject::null())?;
    let peer = jstr(env, &st.peer.to_string())?;
    arr.set_element(env, 0, &peer)?;
    let nums = env.new_long_array(7)?;
    nums.set_region(
        env,
        0,
        &[
            since,
            clamp(st.bytes_in),
            clamp(st.bytes_out),
            clamp(st.messages_in),
            clamp(st.messages_out),
            clamp(st.queued_bytes),
            st.tls as i64,
        ],
    )?;
    arr.set_element(env, 1, &nums)?;
    Ok(arr)
}

// ------------------------------------------------------------------------------------------------
// Client

/// `static native long clientConnect(String endpoint, int[] keys, long[] values, long[] framing,
/// byte[] delimiter, byte[] ping, byte[] pong, int[] optNums, long[] optValues, long tlsConfig)`:
/// returns at once; the events tell how connecting goes. Arguments as `serverBind`; `tlsConfig`
/// is a client `TlsConfig` handle (0: plaintext), every reconnection shakes hands again;
/// `proxy` (null: none) a proxy URL parsed by core, through which every attempt goes.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub extern "system" fn Java_io_libsock_Native_clientConnect<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    text: JString<'l>,
    keys: JIntArray<'l>,
    values: JLongArray<'l>,
    fr: JLongArray<'l>,
    delimiter: JByteArray<'l>,
    ping: JByteArray<'l>,
    pong: JByteArray<'l>,
    opt_nums: JIntArray<'l>,
    opt_vals: JLongArray<'l>,
    tls_config: jlong,
    proxy: JString<'l>,
) -> jlong {
    run(&mut env, |env| {
        let ep = endpoint_of(env, &text)?;
        let mut s = settings(
            env, &keys, &values, &fr, &delimiter, &ping, &pong, &opt_nums, &opt_vals,
        )?;
        if tls_config != 0 {
            s.set_client_tls(Some(crate::tls::client_tls(tls_config)?));
        }
        s.set_proxy(crate::proxy_of(env, &proxy)?);
        let cl = Client::connect(ep, s.client())?;
        insert(Obj::Client(Arc::new(cl)))
    })
}

/// `static native void clientSend(long h, byte[] b, int off, int len)`: queue one message (kept
/// while reconnecting); `QueueFullException` when the queue is full.
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_clientSend<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    h: jlong,
    b: JByteArray<'l>,
    off: jint,
    len: jint,
) {
    run(&mut env, |env| {
        let d = data(env, &b, off, len)?;
        client(h)?.send(&d)?;
        Ok(())
    })
}

/// `static native boolean clientIsConnected(long h)`.
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_clientIsConnected<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    h: jlong,
) -> jboolean {
    run(&mut env, |_| Ok(client(h)?.is_connected()))
}

/// `static native int clientSendBatch(long h, byte[][] msgs, int timeoutMs)`: several messages
/// in order, at most one wake-up of the engine, each waiting for room within one timeout (-1 or -2
/// forever, 0 not at all); how many were queued (core's `send_batch`).
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_clientSendBatch<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    h: jlong,
    msgs: JObjectArray<'l>,
    t: jint,
) -> jint {
    run(&mut env, |env| {
        let msgs = crate::extra::byte_arrays(env, &msgs)?;
        let slices: Vec<&[u8]> = msgs.iter().map(|m| m.as_slice()).collect();
        let t = engine_timeout(t)?;
        Ok(client(h)?.send_batch(&slices, t)?.min(i32::MAX as usize) as jint)
    })
}

/// `static native int engineNotifyFd(long h)`: a descriptor readable while events wait
/// (level-triggered; do not read or close it), core's `notify_fd`.
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_engineNotifyFd<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    h: jlong,
) -> jint {
    run(&mut env, |_| {
        Ok(match engine_obj(h)? {
            EngineObj::Server(s) => s.notify_fd(),
            EngineObj::Client(c) => c.notify_fd(),
            EngineObj::Dgram(d) => d.notify_fd(),
            EngineObj::Kcp(k) => k.notify_fd(),
        })
    })
}

// ------------------------------------------------------------------------------------------------
// Datagram server

/// `static native long dgramServerBind(String endpoint, int[] keys, long[] values,
/// int[] optNums, long[] optValues)`: settings as `serverBind` (`MAX_DATAGRAM`,
/// `EVENT_CAPACITY` and socket options apply).
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_dgramServerBind<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    text: JString<'l>,
    keys: JIntArray<'l>,
    values: JLongArray<'l>,
    opt_nums: JIntArray<'l>,
    opt_vals: JLongArray<'l>,
) -> jlong {
    run(&mut env, |env| {
        let ep = endpoint_of(env, &text)?;
        let none = JByteArray::null();
        let s = settings(
            env,
            &keys,
            &values,
            &JLongArray::null(),
            &none,
            &none,
            &none,
            &opt_nums,
            &opt_vals,
        )?;
        let d = DatagramServer::bind(ep, s.datagram())?;
        insert(Obj::DgramServer(Arc::new(d)))
    })
}

/// `static native int dgramServerSendTo(long h, String peer, byte[] b, int off, int len)`: one
/// datagram to `peer` (`"host:port"`); bytes sent.
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_dgramServerSendTo<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    h: jlong,
    peer: JString<'l>,
    b: JByteArray<'l>,
    off: jint,
    len: jint,
) -> jint {
    run(&mut env, |env| {
        let to = string(env, &peer, "peer")?;
        let d = data(env, &b, off, len)?;
        let sent = dgram_server(h)?.send_to_endpoint(&d, to.as_str(), Some(SEND_WAIT))?;
        Ok(sent.min(i32::MAX as usize) as jint)
    })
}

/// `static native String dgramServerConnect(long h, String peer)`: connects the datagram server
/// to one peer (`"ip:port"`, `"host:port"`; nothing is sent): only its datagrams are received
/// from then on, `dgramServerSend` goes to it, an ICMP error for it makes a later send
/// ConnectionRefused. Returns the address connected to.
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_dgramServerConnect<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    h: jlong,
    peer: JString<'l>,
) -> JString<'l> {
    run(&mut env, |env| {
        let to = string(env, &peer, "peer")?;
        let a = dgram_server(h)?.connect(to.as_str(), Some(SEND_WAIT))?;
        jstr(env, &a.to_string())
    })
}

/// `static native int dgramServerSend(long h, byte[] b, int off, int len)`: one datagram to the
/// connected peer (InvalidArgument if never connected); bytes sent.
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_dgramServerSend<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    h: jlong,
    b: JByteArray<'l>,
    off: jint,
    len: jint,
) -> jint {
    run(&mut env, |env| {
        let d = data(env, &b, off, len)?;
        let sent = dgram_server(h)?.send(&d)?;
        Ok(sent.min(i32::MAX as usize) as jint)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_handles_are_typed() {
        let s = Server::bind("127.0.0.1:0", EngineSettings::new().server()).unwrap();
        let h = insert(Obj::Server(Arc::new(s))).unwrap();
        assert!(server(h).is_ok());
        assert!(matches!(client(h), Err(JErr::BadHandle(..))));
        assert!(matches!(dgram_server(h), Err(JErr::BadHandle(..))));
        super::super::remove(h);
        assert!(matches!(server(h), Err(JErr::BadHandle(..))));
    }
}
