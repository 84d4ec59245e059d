//! JNI glue for the event engine: `io.libsock.Server`, `io.libsock.Client` and
//! `io.libsock.DatagramServer`.
//!
//! Translation only, like the rest of the crate: the Java option builders flatten themselves into
//! `long[]` arrays (layouts below, mirrored by `ServerOptions.config()` and
//! `ClientOptions.config()`), the objects live in the crate's handle table, and events come back
//! as an `io.libsock.Event[]` built with one constructor call per event. A pull blocks the calling
//! Java thread inside the core's `next_events`; `close` or `shutdown` from another thread (or
//! `engine::shutdown`) makes the core queue the final `Closed` event, which wakes it.

use std::sync::Arc;
use std::time::Duration;

use jni::objects::{JByteArray, JClass, JIntArray, JLongArray, JObject, JObjectArray, JString};
use jni::sys::{jboolean, jint, jlong};
use jni::{jni_sig, jni_str, Env, EnvUnowned, JValue};
use libsock::engine::{
    self, Client, ClientConfig, DatagramServer, DatagramServerConfig, Event, Heartbeat, IdleMode,
    SendPolicy, Server, ServerConfig, SEND_WAIT,
};
use libsock::{Addr, Endpoint, Framing, SockOpt, SocketOptions};

use super::{
    framing, get, insert, invalid, jstr, read_array, run, socket_options, string, JErr, JResult,
    Obj,
};

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
}

fn engine_obj(h: jlong) -> JResult<EngineObj> {
    const WHAT: &str = "server, client or datagram server";
    Ok(match get(h, WHAT)? {
        Obj::Server(s) => EngineObj::Server(s),
        Obj::Client(c) => EngineObj::Client(c),
        Obj::DgramServer(d) => EngineObj::Dgram(d),
        _ => return Err(JErr::BadHandle(h, WHAT)),
    })
}

// ------------------------------------------------------------------------------------------------
// Argument conversion

/// The `long[]` of a config, with its length checked.
fn longs<const N: usize>(
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

fn count(v: i64, what: &str) -> JResult<usize> {
    usize::try_from(v).map_err(|_| invalid(format!("{what} {v} is negative")))
}

fn millis(v: i64, what: &str) -> JResult<Duration> {
    u64::try_from(v)
        .map(Duration::from_millis)
        .map_err(|_| invalid(format!("{what} {v} ms is negative")))
}

/// `-1` = none, otherwise milliseconds.
fn opt_millis(v: i64, what: &str) -> JResult<Option<Duration>> {
    if v == -1 {
        Ok(None)
    } else {
        millis(v, what).map(Some)
    }
}

fn idle_mode(v: i64) -> JResult<IdleMode> {
    match v {
        0 => Ok(IdleMode::Reads),
        1 => Ok(IdleMode::ReadsAndWrites),
        o => Err(invalid(format!("idle mode {o}"))),
    }
}

/// Heartbeat mode 0 = off (pings neither sent, answered nor filtered), 1 = answer only, 2 =
/// active (`interval`, `misses`); null payloads keep the defaults.
fn heartbeat(
    env: &Env<'_>,
    mode: i64,
    interval: i64,
    misses: i64,
    ping: &JByteArray<'_>,
    pong: &JByteArray<'_>,
) -> JResult<Option<Heartbeat>> {
    let mut hb = match mode {
        0 => return Ok(None),
        1 => Heartbeat::reply_only(),
        2 => {
            let misses =
                u32::try_from(misses).map_err(|_| invalid(format!("heartbeat misses {misses}")))?;
            Heartbeat::new(millis(interval, "heartbeat interval")?, misses)
        }
        o => return Err(invalid(format!("heartbeat mode {o}"))),
    };
    if !ping.is_null() {
        hb.ping = env.convert_byte_array(ping)?.into();
    }
    if !pong.is_null() {
        hb.pong = env.convert_byte_array(pong)?.into();
    }
    Ok(Some(hb))
}

/// `base` plus the options numbered in `nums` (null arrays add nothing).
fn with_options(
    env: &Env<'_>,
    mut base: SocketOptions,
    nums: &JIntArray<'_>,
    vals: &JLongArray<'_>,
) -> JResult<SocketOptions> {
    if nums.is_null() || vals.is_null() {
        return Ok(base);
    }
    let n = nums.len(env)?;
    if vals.len(env)? != n {
        return Err(invalid("option numbers and values differ in length"));
    }
    let mut ns = vec![0i32; n];
    let mut vs = vec![0i64; n];
    nums.get_region(env, 0, &mut ns)?;
    vals.get_region(env, 0, &mut vs)?;
    for (num, v) in ns.into_iter().zip(vs) {
        base.set(SockOpt::from_number(num)?, v)?;
    }
    Ok(base)
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
            delay.as_millis().min(i64::MAX as u128) as i64,
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
/// waiting for the first up to `timeoutMs` (-1 forever, 0 poll); an empty array on timeout;
/// `ClosedException` after the final `CLOSED` event was taken.
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
        let t = super::opt_duration(t)?;
        let max = max as usize;
        let evs = match engine_obj(h)? {
            EngineObj::Server(s) => s.next_events(max, t)?,
            EngineObj::Client(c) => c.next_events(max, t)?,
            EngineObj::Dgram(d) => d.next_events(max, t)?,
        };
        events_array(env, &evs)
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
        };
        match a {
            Some(a) => jstr(env, &a.to_string()),
            None => Ok(JString::null()),
        }
    })
}

/// `static native long[] engineStats(long h)`: {connections, connectionsTotal, refused,
/// bytesIn, bytesOut, messagesIn, messagesOut, queuedBytes, eventsQueued, connected (0/1),
/// failedAttempts, sendQueueFull, acceptErrors}.
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_engineStats<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    h: jlong,
) -> JLongArray<'l> {
    run(&mut env, |env| {
        let v: [u64; 13] = match engine_obj(h)? {
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
        let grace = millis(grace_ms as i64, "grace")?;
        match engine_obj(h)? {
            EngineObj::Server(s) => s.shutdown(grace),
            EngineObj::Client(c) => c.close(grace),
            EngineObj::Dgram(d) => d.shutdown(),
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

/// `static native long serverBind(String endpoint, long[] config, long[] framing,
/// byte[] delimiter, byte[] ping, byte[] pong, int[] optNums, long[] optValues)`.
///
/// `config` = {maxClients, sendQueueBytes (-1 default), sendPolicy (0 error, 1 disconnect),
/// eventCapacity (-1 default), idleTimeoutMs (-1 none), idleMode (0 reads, 1 reads and writes),
/// heartbeatMode (0 off, 1 answer only, 2 active), heartbeatIntervalMs, heartbeatMisses,
/// backlog (-1 default), closeTimeoutMs (-1 default), removeStale (0/1)}.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub extern "system" fn Java_io_libsock_Native_serverBind<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    text: JString<'l>,
    config: JLongArray<'l>,
    fr: JLongArray<'l>,
    delimiter: JByteArray<'l>,
    ping: JByteArray<'l>,
    pong: JByteArray<'l>,
    opt_nums: JIntArray<'l>,
    opt_vals: JLongArray<'l>,
) -> jlong {
    run(&mut env, |env| {
        let ep = endpoint_of(env, &text)?;
        let c: [i64; 12] = longs(env, &config, "server config")?;
        let mut cfg = ServerConfig::new()
            .framing(framing_of(env, &fr, &delimiter)?)
            .max_clients_opt(match c[0] {
                -1 => None,
                n => Some(count(n, "max clients")?),
            })
            .send_policy(match c[2] {
                0 => SendPolicy::Error,
                1 => SendPolicy::Disconnect,
                o => return Err(invalid(format!("send policy {o}"))),
            })
            .idle_timeout(opt_millis(c[4], "idle timeout")?, idle_mode(c[5])?)
            .heartbeat(heartbeat(env, c[6], c[7], c[8], &ping, &pong)?)
            .remove_stale(c[11] != 0);
        // Start from the defaults (nodelay on) and add the caller's options.
        let o = with_options(env, cfg.options.clone(), &opt_nums, &opt_vals)?;
        cfg = cfg.options(o);
        if c[1] != -1 {
            cfg = cfg.send_queue_bytes(count(c[1], "send queue bytes")?);
        }
        if c[3] != -1 {
            cfg = cfg.event_capacity(count(c[3], "event capacity")?);
        }
        if c[9] != -1 {
            let b = i32::try_from(c[9]).map_err(|_| invalid(format!("backlog {}", c[9])))?;
            cfg = cfg.backlog(b);
        }
        if c[10] != -1 {
            cfg = cfg.close_timeout(millis(c[10], "close timeout")?);
        }
        let s = Server::bind(ep, cfg)?;
        Ok(insert(Obj::Server(Arc::new(s))))
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

// ------------------------------------------------------------------------------------------------
// Client

/// `static native long clientConnect(String endpoint, long[] config, long[] framing,
/// byte[] delimiter, byte[] ping, byte[] pong, int[] optNums, long[] optValues)`: returns at
/// once; the events tell how connecting goes.
///
/// `config` = {connectTimeoutMs (-1 default), reconnect (0/1), backoffMinMs (-1 default),
/// backoffMaxMs (-1 default), jitter (0/1), maxAttempts, sendQueueBytes (-1 default),
/// eventCapacity (-1 default), idleTimeoutMs (-1 none), idleMode, heartbeatMode,
/// heartbeatIntervalMs, heartbeatMisses}.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub extern "system" fn Java_io_libsock_Native_clientConnect<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    text: JString<'l>,
    config: JLongArray<'l>,
    fr: JLongArray<'l>,
    delimiter: JByteArray<'l>,
    ping: JByteArray<'l>,
    pong: JByteArray<'l>,
    opt_nums: JIntArray<'l>,
    opt_vals: JLongArray<'l>,
) -> jlong {
    run(&mut env, |env| {
        let ep = endpoint_of(env, &text)?;
        let c: [i64; 13] = longs(env, &config, "client config")?;
        let mut cfg = ClientConfig::new()
            .framing(framing_of(env, &fr, &delimiter)?)
            .reconnect(c[1] != 0)
            .jitter(c[4] != 0)
            .max_attempts(
                u32::try_from(c[5]).map_err(|_| invalid(format!("max attempts {}", c[5])))?,
            )
            .idle_timeout(opt_millis(c[8], "idle timeout")?, idle_mode(c[9])?)
            .heartbeat(heartbeat(env, c[10], c[11], c[12], &ping, &pong)?);
        // Start from the defaults (nodelay on) and add the caller's options.
        let o = with_options(env, cfg.options.clone(), &opt_nums, &opt_vals)?;
        cfg = cfg.options(o);
        if c[0] != -1 {
            cfg = cfg.connect_timeout(millis(c[0], "connect timeout")?);
        }
        let min = if c[2] != -1 {
            millis(c[2], "backoff minimum")?
        } else {
            cfg.backoff_min
        };
        let max = if c[3] != -1 {
            millis(c[3], "backoff maximum")?
        } else {
            cfg.backoff_max
        };
        cfg = cfg.backoff(min, max);
        if c[6] != -1 {
            cfg = cfg.send_queue_bytes(count(c[6], "send queue bytes")?);
        }
        if c[7] != -1 {
            cfg = cfg.event_capacity(count(c[7], "event capacity")?);
        }
        let cl = Client::connect(ep, cfg)?;
        Ok(insert(Obj::Client(Arc::new(cl))))
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

// ------------------------------------------------------------------------------------------------
// Datagram server

/// `static native long dgramServerBind(String endpoint, int maxDatagram, int eventCapacity,
/// int[] optNums, long[] optValues)` (-1 keeps a default).
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_dgramServerBind<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    text: JString<'l>,
    max_datagram: jint,
    event_capacity: jint,
    opt_nums: JIntArray<'l>,
    opt_vals: JLongArray<'l>,
) -> jlong {
    run(&mut env, |env| {
        let ep = endpoint_of(env, &text)?;
        let mut cfg =
            DatagramServerConfig::new().options(socket_options(env, &opt_nums, &opt_vals)?);
        if max_datagram != -1 {
            cfg = cfg.max_datagram(count(max_datagram as i64, "max datagram")?);
        }
        if event_capacity != -1 {
            cfg = cfg.event_capacity(count(event_capacity as i64, "event capacity")?);
        }
        let d = DatagramServer::bind(ep, cfg)?;
        Ok(insert(Obj::DgramServer(Arc::new(d))))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions() {
        assert_eq!(opt_millis(-1, "x").unwrap(), None);
        assert_eq!(
            opt_millis(250, "x").unwrap(),
            Some(Duration::from_millis(250))
        );
        assert!(opt_millis(-2, "x").is_err());
        assert!(count(-1, "x").is_err());
        assert_eq!(idle_mode(1).unwrap(), IdleMode::ReadsAndWrites);
        assert!(idle_mode(7).is_err());
    }

    #[test]
    fn engine_handles_are_typed() {
        let s = Server::bind("127.0.0.1:0", ServerConfig::new()).unwrap();
        let h = insert(Obj::Server(Arc::new(s)));
        assert!(server(h).is_ok());
        assert!(matches!(client(h), Err(JErr::BadHandle(..))));
        assert!(matches!(dgram_server(h), Err(JErr::BadHandle(..))));
        super::super::table().remove(&h).unwrap().close();
        assert!(matches!(server(h), Err(JErr::BadHandle(..))));
    }
}
