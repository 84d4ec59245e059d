//! JNI glue for KCP (reliable UDP, core's `libsock::kcp`): `io.libsock.KcpServer` (the engine's,
//! pulled like `Server`: its events, pending count, local address, notify descriptor and
//! shutdown go through the engine glue's generic calls) and the blocking `io.libsock.KcpSession`.
//!
//! The tuning arrives as a `long[]` of the reference implementation's words, in this order:
//! `{nodelay, interval ms, resend, nc (0/1), send window, recv window, mtu, min RTO ms (-1:
//! core's default, 0: automatic), stream (0/1), dead link}` — core's `KcpKey` order; core's
//! `KcpSettings` checks it, with the same ranges and messages as in every door.

use std::sync::Arc;
use std::time::Duration;

use jni::objects::{JByteArray, JClass, JIntArray, JLongArray, JString};
use jni::sys::{jboolean, jint, jlong};
use jni::{Env, EnvUnowned};
use libsock::engine::SendPolicy;
use libsock::kcp::{KcpConfig, KcpKey, KcpServer, KcpServerConfig, KcpSession, KcpSettings};

use super::engine::longs;
use super::{
    get, insert, invalid, jstr, new_bytes, read_array, run, socket_options, string, JErr, JResult,
    Obj,
};
use libsock_flat::engine_timeout;

pub(crate) fn kcp_server(h: jlong) -> JResult<Arc<KcpServer>> {
    match get(h, "KCP server")? {
        Obj::Kcp(k) => Ok(k),
        _ => Err(JErr::BadHandle(h, "KCP server")),
    }
}

fn session(h: jlong) -> JResult<Arc<KcpSession>> {
    match get(h, "KCP session")? {
        Obj::KcpSession(k) => Ok(k),
        _ => Err(JErr::BadHandle(h, "KCP session")),
    }
}

fn ms_of(v: i64, what: &str) -> JResult<Duration> {
    u64::try_from(v)
        .map(Duration::from_millis)
        .map_err(|_| invalid(format!("kcp {what} {v} ms is negative")))
}

/// Core's KCP tuning from the ten values (see the module): they are core's `KcpKey`s 1 to 10 in
/// order, set and checked by core's `KcpSettings` as the C door's `ls_kcp_config_set` does (the
/// same ranges and messages in every door); a minimum RTO of -1 stays core's default.
fn kcp_config(env: &Env<'_>, p: &JLongArray<'_>) -> JResult<KcpConfig> {
    let p: [i64; 10] = longs(env, p, "KCP parameters")?;
    let mut s = KcpSettings::new();
    for (key, v) in KcpKey::ALL.into_iter().zip(p) {
        if key == KcpKey::MinRtoMs && v == -1 {
            continue;
        }
        s.set(key, v)?;
    }
    Ok(s.config()?)
}

/// `static native void kcpCheck(long[] kcp)`: core's check of a KCP tuning, so the Java option
/// builder refuses a bad value when it is set.
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_kcpCheck<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    p: JLongArray<'l>,
) {
    run(&mut env, |env| {
        kcp_config(env, &p)?;
        Ok(())
    })
}

/// The server settings: `{event capacity, idle timeout ms (-1 never), max clients (-1 no
/// limit), send queue bytes, send policy (0 error, 1 disconnect), linger ms, close timeout
/// ms}`, checked by core's `KcpServerConfig::validate`.
fn server_config(env: &Env<'_>, k: KcpConfig, p: &JLongArray<'_>) -> JResult<KcpServerConfig> {
    let p: [i64; 7] = longs(env, p, "KCP server settings")?;
    let size = |v: i64, what: &str| libsock_flat::size(v, what);
    let cfg = KcpServerConfig::new()
        .kcp(k)
        .event_capacity(size(p[0], "event_capacity")?)
        .idle_timeout(match p[1] {
            -1 => None,
            v => Some(ms_of(v, "idle_timeout")?),
        })
        .max_clients(match p[2] {
            -1 => None,
            v => Some(size(v, "max_clients")?),
        })
        .send_queue_bytes(size(p[3], "send_queue_bytes")?)
        .send_policy(match p[4] {
            0 => SendPolicy::Error,
            1 => SendPolicy::Disconnect,
            v => return Err(invalid(format!("send policy {v}"))),
        })
        .linger(ms_of(p[5], "linger")?)
        .close_timeout(ms_of(p[6], "close_timeout")?);
    cfg.validate()?;
    Ok(cfg)
}

/// `static native long kcpServerBind(String endpoint, long[] kcp, long[] server, int[] optNums,
/// long[] optValues)`: a KCP server on a UDP socket (see the module for the arrays).
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_kcpServerBind<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    text: JString<'l>,
    kcp: JLongArray<'l>,
    server: JLongArray<'l>,
    opt_nums: JIntArray<'l>,
    opt_vals: JLongArray<'l>,
) -> jlong {
    run(&mut env, |env| {
        let ep = libsock::Endpoint::parse(&string(env, &text, "endpoint")?)?;
        let k = kcp_config(env, &kcp)?;
        let cfg =
            server_config(env, k, &server)?.options(socket_options(env, &opt_nums, &opt_vals)?);
        let s = KcpServer::bind(&ep, cfg)?;
        insert(Obj::Kcp(Arc::new(s)))
    })
}

/// `static native void kcpServerSend(long h, long client, byte[] b, int off, int len)`.
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_kcpServerSend<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    h: jlong,
    id: jlong,
    b: JByteArray<'l>,
    off: jint,
    len: jint,
) {
    run(&mut env, |env| {
        let d = read_array(env, &b, off, len)?;
        kcp_server(h)?.send(id as u64, &d)?;
        Ok(())
    })
}

/// `static native void kcpServerDisconnect(long h, long client, boolean graceful)`.
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_kcpServerDisconnect<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    h: jlong,
    id: jlong,
    graceful: jboolean,
) {
    run(&mut env, |_| {
        kcp_server(h)?.disconnect(id as u64, graceful)?;
        Ok(())
    })
}

/// `static native long[] kcpServerClients(long h)`: `{id, conv, id, conv, ...}` by id.
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_kcpServerClients<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    h: jlong,
) -> JLongArray<'l> {
    run(&mut env, |env| {
        let mut v = Vec::new();
        for (id, _, conv) in kcp_server(h)?.clients() {
            v.push(id as i64);
            v.push(conv as i64);
        }
        let arr = env.new_long_array(v.len())?;
        arr.set_region(env, 0, &v)?;
        Ok(arr)
    })
}

/// `static native String kcpServerClientAddress(long h, long client)`.
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_kcpServerClientAddress<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    h: jlong,
    id: jlong,
) -> JString<'l> {
    run(&mut env, |env| {
        let a = kcp_server(h)?.peer_addr(id as u64)?;
        jstr(env, &a.to_string())
    })
}

fn long_array<'l>(env: &mut Env<'l>, v: &[u64]) -> JResult<JLongArray<'l>> {
    let v: Vec<i64> = v.iter().map(|&x| x.min(i64::MAX as u64) as i64).collect();
    let arr = env.new_long_array(v.len())?;
    arr.set_region(env, 0, &v)?;
    Ok(arr)
}

/// `static native long[] kcpServerStats(long h)`: `{messagesIn, messagesOut, bytesIn,
/// bytesOut, datagramsIn, datagramsOut, datagramsBad, retransmits, waiting (0), srttMs (0)}`
/// (the common counters come through `engineStats`).
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_kcpServerStats<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    h: jlong,
) -> JLongArray<'l> {
    run(&mut env, |env| {
        let s = kcp_server(h)?.stats();
        long_array(
            env,
            &[
                s.messages_in,
                s.messages_out,
                s.bytes_in,
                s.bytes_out,
                s.datagrams_in,
                s.datagrams_out,
                s.datagrams_bad,
                s.retransmits,
                0,
                0,
            ],
        )
    })
}

// ------------------------------------------------------------------------------------------------
// Session

/// `static native long kcpConnect(String endpoint, long conv, long[] kcp, int[] optNums,
/// long[] optValues)`: a blocking session (`conv` -1: a random one). Nothing is sent until
/// the first message: KCP has no handshake.
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_kcpConnect<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    text: JString<'l>,
    conv: jlong,
    kcp: JLongArray<'l>,
    opt_nums: JIntArray<'l>,
    opt_vals: JLongArray<'l>,
) -> jlong {
    run(&mut env, |env| {
        let ep = libsock::Endpoint::parse(&string(env, &text, "endpoint")?)?;
        let conv = match conv {
            -1 => None,
            c => Some(
                u32::try_from(c)
                    .map_err(|_| invalid(format!("kcp conv {c} is not 0..4294967295")))?,
            ),
        };
        let k = kcp_config(env, &kcp)?;
        let s = KcpSession::connect_with(&ep, conv, k, socket_options(env, &opt_nums, &opt_vals)?)?;
        insert(Obj::KcpSession(Arc::new(s)))
    })
}

/// `static native void kcpSend(long h, byte[] b, int off, int len, int timeoutMs)`: one
/// message, waiting up to the timeout (-1 forever) while too much is unacknowledged.
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_kcpSend<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    h: jlong,
    b: JByteArray<'l>,
    off: jint,
    len: jint,
    t: jint,
) {
    run(&mut env, |env| {
        let d = read_array(env, &b, off, len)?;
        let t = engine_timeout(t)?;
        session(h)?.send_timeout(&d, t)?;
        Ok(())
    })
}

/// `static native byte[] kcpRecv(long h, int timeoutMs)`: the next message.
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_kcpRecv<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    h: jlong,
    t: jint,
) -> JByteArray<'l> {
    run(&mut env, |env| {
        let t = engine_timeout(t)?;
        let m = session(h)?.recv(t)?;
        new_bytes(env, &m)
    })
}

/// `static native void kcpFlush(long h, int timeoutMs)`: until everything sent is acknowledged.
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_kcpFlush<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    h: jlong,
    t: jint,
) {
    run(&mut env, |_| {
        let t = engine_timeout(t)?;
        session(h)?.flush(t)?;
        Ok(())
    })
}

/// `static native int kcpPoll(long h, int timeoutMs)`: run the protocol for up to the timeout
/// without taking messages; 1 when a message is ready, else 0.
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_kcpPoll<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    h: jlong,
    t: jint,
) -> jint {
    run(&mut env, |_| {
        if t < 0 {
            return Err(invalid(format!(
                "timeout_ms is {t}: poll needs 0 or a positive number of ms"
            )));
        }
        let n = session(h)?.poll(Duration::from_millis(t as u64))?;
        Ok(n.min(i32::MAX as usize) as jint)
    })
}

/// `static native long[] kcpSessionStats(long h)`: as `kcpServerStats`, with `waiting` and
/// `srttMs`.
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_kcpSessionStats<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    h: jlong,
) -> JLongArray<'l> {
    run(&mut env, |env| {
        let s = session(h)?.stats();
        long_array(
            env,
            &[
                s.messages_in,
                s.messages_out,
                s.bytes_in,
                s.bytes_out,
                s.datagrams_in,
                s.datagrams_out,
                s.datagrams_bad,
                s.retransmits,
                s.waiting,
                s.srtt_ms,
            ],
        )
    })
}

/// `static native long kcpConv(long h)`: the conversation id.
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_kcpConv<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    h: jlong,
) -> jlong {
    run(&mut env, |_| Ok(session(h)?.conv() as jlong))
}

/// `static native String kcpAddress(long h, boolean peer)`: the session's peer or local address.
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_kcpAddress<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    h: jlong,
    peer: jboolean,
) -> JString<'l> {
    run(&mut env, |env| {
        let s = session(h)?;
        let a = if peer { s.peer_addr() } else { s.local_addr()? };
        jstr(env, &a.to_string())
    })
}
