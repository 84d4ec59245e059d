//! More of the engine's C door: batch sends (core's `Server::send_batch` and
//! `Client::send_batch`) and one connection's statistics (`Server::client_stats`, and a
//! blocking connection's `Connection::stats`: the same `ConnectionStats`).
//!
//! Translation only, like the rest of the crate: every body runs in [`call`].

use std::time::UNIX_EPOCH;

use libsock::engine::Stat;
use libsock::{ConnectionStats, Error};

use crate::boundary::{bad_arg, call, check_len, in_bytes, sum_lens, Out};
use crate::engine::{as_client, as_server, client, server};
use crate::handles::{as_conn, conn};
use libsock_flat::engine_timeout;

/// `ls_server_client_stats`: when the client was admitted (accepted, and with TLS its handshake
/// done), in ms since 1970-01-01 UTC.
pub const LS_CLIENT_STAT_CONNECTED_SINCE_MS: i32 = 201;
/// `ls_server_client_stats`: 1 when the client speaks TLS, else 0.
pub const LS_CLIENT_STAT_TLS: i32 = 202;

/// The messages of a batch: `count` bodies back to back in `buf`, message i of `lens[i]` bytes.
///
/// # Safety
/// `lens` must hold `count` readable lengths and `buf` their sum of readable bytes.
unsafe fn batch<'a>(
    buf: *const u8,
    lens: *const usize,
    count: usize,
) -> Result<Vec<&'a [u8]>, Error> {
    let count = check_len(count, "count")?;
    if count == 0 {
        return Ok(Vec::new());
    }
    if lens.is_null() {
        return Err(bad_arg("lens is NULL"));
    }
    // SAFETY: non-null, and the caller promises `count` readable lengths.
    let lens = unsafe { std::slice::from_raw_parts(lens, count) };
    let total = sum_lens(lens)?;
    // SAFETY: the caller promises the sum of `lens` readable bytes.
    let data: &'a [u8] = unsafe { in_bytes(buf, total, "buf") }?;
    let mut at = 0;
    Ok(lens
        .iter()
        .map(|&l| {
            let m = &data[at..at + l];
            at += l;
            m
        })
        .collect())
}

/// Queue `count` messages to client `client` of server `handle` in order, as one batch (one
/// wake-up of the engine, written together): the bodies lie back to back in `buf`, message i
/// has `lens[i]` bytes. Each waits for room in the client's send queue, all within one
/// `timeout_ms` (-1 or -2 as long as it takes, 0 not at all, N ms). Every message is checked
/// first, so a bad one queues none (`LS_ERR_FRAME_TOO_LARGE`). `*out_sent` receives how many
/// were queued: all, or fewer when the time ran out (or the client went) after some were; when
/// not even the first could be, the error (`LS_ERR_TIMEOUT`, `LS_ERR_QUEUE_FULL`,
/// `LS_ERR_CLOSED`). `count` 0 queues nothing (`buf` and `lens` may then be NULL).
#[no_mangle]
pub unsafe extern "C" fn ls_server_send_batch(
    handle: i64,
    client: u64,
    buf: *const u8,
    lens: *const usize,
    count: usize,
    timeout_ms: i32,
    out_sent: *mut usize,
) -> i32 {
    call("ls_server_send_batch", || {
        // SAFETY: forwarded with the same promises.
        let msgs = unsafe { batch(buf, lens, count) }?;
        let out = Out::new(out_sent, "out_sent")?;
        let t = engine_timeout(timeout_ms)?;
        let o = server(handle)?;
        out.set(as_server(&o).send_batch(client, &msgs, t)?);
        Ok(())
    })
}

/// Queue `count` messages in order on client `handle`, as one batch (see
/// `ls_server_send_batch`: the same buffer layout, timeout and result). While disconnected
/// they wait in the queue and are sent after the next connect.
#[no_mangle]
pub unsafe extern "C" fn ls_client_send_batch(
    handle: i64,
    buf: *const u8,
    lens: *const usize,
    count: usize,
    timeout_ms: i32,
    out_sent: *mut usize,
) -> i32 {
    call("ls_client_send_batch", || {
        // SAFETY: forwarded with the same promises.
        let msgs = unsafe { batch(buf, lens, count) }?;
        let out = Out::new(out_sent, "out_sent")?;
        let t = engine_timeout(timeout_ms)?;
        let o = client(handle)?;
        out.set(as_client(&o).send_batch(&msgs, t)?);
        Ok(())
    })
}

/// Read statistic `stat` of connected client `client` of server `handle` into `*out_value`:
/// `LS_STAT_BYTES_IN`, `LS_STAT_BYTES_OUT` (frames with their headers), `LS_STAT_MESSAGES_IN`
/// (heartbeats not counted), `LS_STAT_MESSAGES_OUT` (heartbeats included),
/// `LS_STAT_QUEUED_BYTES` (waiting in its send queue), `LS_CLIENT_STAT_CONNECTED_SINCE_MS` or
/// `LS_CLIENT_STAT_TLS`; its address comes from `ls_server_client_address`. Another `LS_STAT_*`
/// is `LS_ERR_UNSUPPORTED`; an unknown client `LS_ERR_CLOSED`. (Operation `client_stats` of
/// docs/NAMES.md, one counter per call as `ls_engine_stats`.)
#[no_mangle]
pub unsafe extern "C" fn ls_server_client_stats(
    handle: i64,
    client: u64,
    stat: i32,
    out_value: *mut i64,
) -> i32 {
    call("ls_server_client_stats", || {
        let out = Out::new(out_value, "out_value")?;
        check_stat(stat)?;
        let o = server(handle)?;
        let c = as_server(&o).client_stats(client)?;
        out.set(connection_stat(&c, stat, "client")?);
        Ok(())
    })
}

/// `InvalidArgument` unless `stat` is a statistic of one connection's (an `LS_STAT_*` or
/// `LS_CLIENT_STAT_*` number).
fn check_stat(stat: i32) -> Result<(), Error> {
    if Stat::from_code(stat).is_none()
        && stat != LS_CLIENT_STAT_CONNECTED_SINCE_MS
        && stat != LS_CLIENT_STAT_TLS
    {
        return Err(bad_arg(format!(
            "stat is {stat}, it is no LS_STAT_* constant nor LS_CLIENT_STAT_* (201, 202)"
        )));
    }
    Ok(())
}

/// Statistic `stat` (checked by [`check_stat`]) of one connection's counters; `Unsupported` for
/// an `LS_STAT_*` that is not kept per connection (`what` names the connection's kind).
fn connection_stat(c: &ConnectionStats, stat: i32, what: &str) -> Result<i64, Error> {
    let v: u64 = match Stat::from_code(stat) {
        Some(Stat::BytesIn) => c.bytes_in,
        Some(Stat::BytesOut) => c.bytes_out,
        Some(Stat::MessagesIn) => c.messages_in,
        Some(Stat::MessagesOut) => c.messages_out,
        Some(Stat::QueuedBytes) => c.queued_bytes,
        Some(s) => {
            return Err(Error::Unsupported(format!(
                "statistic {stat} (LS_STAT_{}) is not kept per {what}",
                s.name()
            )))
        }
        None if stat == LS_CLIENT_STAT_TLS => c.tls as u64,
        None => c
            .connected_since
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis().min(i64::MAX as u128) as u64),
    };
    Ok(v.min(i64::MAX as u64) as i64)
}

/// Read statistic `stat` of blocking connection `handle` (TCP or Unix, plain or TLS) into
/// `*out_value`: `LS_STAT_BYTES_IN`, `LS_STAT_BYTES_OUT` (application bytes, also with TLS),
/// `LS_STAT_MESSAGES_IN` / `LS_STAT_MESSAGES_OUT` (messages the `ls_recv_msg` / `ls_send_msg`
/// families moved), `LS_STAT_QUEUED_BYTES` (always 0: a blocking connection queues nothing),
/// `LS_CLIENT_STAT_CONNECTED_SINCE_MS` (when it was made, in ms since 1970-01-01 UTC) or
/// `LS_CLIENT_STAT_TLS`; another `LS_STAT_*` is `LS_ERR_UNSUPPORTED`. Never waits behind a call
/// blocked on the connection in another thread. (Operation `stats` of a connection in
/// docs/NAMES.md, one counter per call as `ls_engine_stats`.)
#[no_mangle]
pub unsafe extern "C" fn ls_connection_stats(handle: i64, stat: i32, out_value: *mut i64) -> i32 {
    call("ls_connection_stats", || {
        let out = Out::new(out_value, "out_value")?;
        check_stat(stat)?;
        let o = conn(handle)?;
        out.set(connection_stat(&as_conn(&o).stats(), stat, "connection")?);
        Ok(())
    })
}
