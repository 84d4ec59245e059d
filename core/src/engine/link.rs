//! One live connection of the engine (server side or client side): the reader, the writer, the
//! send queue, heartbeat and idle timeout. Shared by [`Server`](super::Server) and
//! [`Client`](super::Client).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::Notify;
use tokio_util::codec::Decoder as _;

use super::codec::{encode_frame, CodecError, FrameCodec};
use super::events::{ClientId, DisconnectReason, Event, EventQueue};
use super::{Heartbeat, IdleMode};
use crate::error::{Error, Result};
use crate::framing::Framing;

/// Milliseconds since the first call (a cheap, Send-able clock for atomics).
pub(crate) fn now_ms() -> u64 {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    EPOCH.get_or_init(Instant::now).elapsed().as_millis() as u64
}

/// Counters shared by every connection of one object.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub bytes_in: AtomicU64,
    pub bytes_out: AtomicU64,
    pub msgs_in: AtomicU64,
    pub msgs_out: AtomicU64,
    pub queued_bytes: AtomicU64,
}

/// How one connection behaves (built from the server's or client's config).
#[derive(Debug, Clone)]
pub(crate) struct LinkCfg {
    pub framing: Framing,
    pub idle_timeout: Option<Duration>,
    pub idle_mode: IdleMode,
    pub heartbeat: Option<Heartbeat>,
}

impl LinkCfg {
    /// The heartbeat a framing can carry: with `Raw` framing (no message boundaries) a
    /// reply-only heartbeat is dropped, so raw byte streams pass untouched.
    pub(crate) fn heartbeat_for(framing: &Framing, hb: &Option<Heartbeat>) -> Option<Heartbeat> {
        match (framing, hb) {
            (Framing::Raw, Some(h)) if h.interval.is_none() => None,
            _ => hb.clone(),
        }
    }

    pub(crate) fn validate(&self) -> Result<()> {
        self.framing.validate()?;
        if let Some(hb) = &self.heartbeat {
            if self.framing == Framing::Raw {
                return Err(Error::invalid(
                    "a heartbeat needs a message framing (not Raw, where a ping could arrive glued to other bytes)",
                ));
            }
            if hb.ping == hb.pong {
                return Err(Error::invalid("heartbeat ping and pong payloads are equal"));
            }
            encode_frame(&self.framing, &hb.ping)?;
            encode_frame(&self.framing, &hb.pong)?;
            if hb.interval == Some(Duration::ZERO) {
                return Err(Error::invalid("heartbeat interval 0"));
            }
            if hb.misses == 0 {
                return Err(Error::invalid("heartbeat misses 0"));
            }
        }
        if self.idle_timeout == Some(Duration::ZERO) {
            return Err(Error::invalid("idle timeout 0 (use None for no timeout)"));
        }
        Ok(())
    }
}

/// A request to end the connection.
#[derive(Debug, Clone)]
pub(crate) struct Stop {
    pub reason: DisconnectReason,
    /// Deliver what is queued, then FIN.
    pub graceful: bool,
    /// Give up flushing at this time.
    pub deadline: Option<tokio::time::Instant>,
}

struct SqState {
    frames: VecDeque<Bytes>,
    bytes: usize,
    stop: Option<Stop>,
}

/// What the writer found in the queue.
enum Take {
    Frames,
    Empty,
    Finish,
}

/// Why a push was refused.
pub(crate) enum PushError {
    /// Over the byte bound.
    Full,
    /// The connection is stopping.
    Stopped,
}

/// A per-connection (server) or per-client (client, kept across reconnects) send queue of
/// encoded frames, bounded in bytes.
pub(crate) struct SendQueue {
    st: Mutex<SqState>,
    cap: usize,
    /// Wakes the writer.
    wake: Notify,
    /// Wakes the reader (stop requests).
    ctrl: Notify,
    /// Time of the last application frame queued (for idle mode ReadsAndWrites).
    last_app_push: AtomicU64,
    counters: std::sync::Arc<Counters>,
}

impl SendQueue {
    pub(crate) fn new(cap: usize, counters: std::sync::Arc<Counters>) -> SendQueue {
        SendQueue {
            st: Mutex::new(SqState {
                frames: VecDeque::new(),
                bytes: 0,
                stop: None,
            }),
            cap,
            wake: Notify::new(),
            ctrl: Notify::new(),
            last_app_push: AtomicU64::new(now_ms()),
            counters,
        }
    }

    fn lock(&self) -> MutexGuard<'_, SqState> {
        self.st.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queue an encoded frame. `force` ignores the bound (heartbeats). A frame larger than the
    /// whole bound is accepted when the queue is empty, so big messages can still be sent.
    pub(crate) fn push(&self, frame: Bytes, force: bool) -> std::result::Result<(), PushError> {
        let mut st = self.lock();
        if st.stop.is_some() {
            return Err(PushError::Stopped);
        }
        if !force && st.bytes > 0 && st.bytes + frame.len() > self.cap {
            return Err(PushError::Full);
        }
        st.bytes += frame.len();
        self.counters
            .queued_bytes
            .fetch_add(frame.len() as u64, Ordering::Relaxed);
        st.frames.push_back(frame);
        drop(st);
        if !force {
            self.last_app_push.store(now_ms(), Ordering::Relaxed);
        }
        self.wake.notify_one();
        Ok(())
    }

    /// Bytes queued now.
    pub(crate) fn queued(&self) -> usize {
        self.lock().bytes
    }

    /// Ask the connection to end. Requests merge: the first reason is kept, a non-graceful
    /// request overrides a graceful one, and the earliest deadline wins.
    pub(crate) fn request_stop(&self, stop: Stop) {
        let mut st = self.lock();
        match &mut st.stop {
            Some(old) => {
                old.graceful &= stop.graceful;
                old.deadline = match (old.deadline, stop.deadline) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
            }
            None => st.stop = Some(stop),
        }
        drop(st);
        self.ctrl.notify_one();
        self.wake.notify_one();
    }

    pub(crate) fn stop_requested(&self) -> Option<Stop> {
        self.lock().stop.clone()
    }

    /// Drop everything queued (the connection is gone for good).
    pub(crate) fn clear(&self) {
        let mut st = self.lock();
        self.counters
            .queued_bytes
            .fetch_sub(st.bytes as u64, Ordering::Relaxed);
        st.bytes = 0;
        st.frames.clear();
    }

    fn take(&self, out: &mut Vec<Bytes>, max_bytes: usize) -> Take {
        let mut st = self.lock();
        let mut n = 0;
        while let Some(f) = st.frames.front() {
            if n > 0 && n + f.len() > max_bytes {
                break;
            }
            n += f.len();
            out.push(st.frames.pop_front().expect("front exists"));
        }
        if n > 0 {
            st.bytes -= n;
            self.counters
                .queued_bytes
                .fetch_sub(n as u64, Ordering::Relaxed);
            return Take::Frames;
        }
        match &st.stop {
            Some(s) if s.graceful => Take::Finish,
            _ => Take::Empty,
        }
    }
}

/// Writes queued frames until a graceful stop finishes (Ok) or the socket fails (Err).
async fn write_loop<W: AsyncWrite + Unpin>(
    mut wr: W,
    sq: &SendQueue,
    counters: &Counters,
    fin: &Notify,
) -> std::io::Result<()> {
    let mut batch = Vec::new();
    let mut buf = BytesMut::new();
    loop {
        match sq.take(&mut batch, 256 * 1024) {
            Take::Frames => {
                let frames = batch.len() as u64;
                let mut bytes = 0u64;
                if batch.len() == 1 {
                    bytes = batch[0].len() as u64;
                    wr.write_all(&batch[0]).await?;
                } else {
                    for f in batch.iter() {
                        bytes += f.len() as u64;
                        if f.len() >= 64 * 1024 {
                            if !buf.is_empty() {
                                wr.write_all(&buf).await?;
                                buf.clear();
                            }
                            wr.write_all(f).await?;
                        } else {
                            buf.extend_from_slice(f);
                        }
                    }
                    if !buf.is_empty() {
                        wr.write_all(&buf).await?;
                        buf.clear();
                    }
                }
                batch.clear();
                counters.bytes_out.fetch_add(bytes, Ordering::Relaxed);
                counters.msgs_out.fetch_add(frames, Ordering::Relaxed);
            }
            Take::Empty => sq.wake.notified().await,
            Take::Finish => {
                wr.flush().await?;
                let _ = wr.shutdown().await;
                // The reader lingers until the peer closes too (or the deadline), so that
                // unread input does not turn our close into a reset that could destroy what
                // the peer has not read yet.
                fin.notify_one();
                std::future::pending::<()>().await;
            }
        }
    }
}

/// The heartbeat and idle state of one connection.
struct Liveness {
    last_rx: u64,
    last_app_rx: u64,
    last_ping: u64,
    ping: Option<Bytes>,
    pong: Option<Bytes>,
}

/// Run one connection until it ends; returns why. `Connected` has been queued by the caller;
/// the caller queues `Disconnected`.
pub(crate) async fn run_conn<S>(
    stream: S,
    id: ClientId,
    cfg: &LinkCfg,
    sq: &SendQueue,
    events: &EventQueue,
    counters: &Counters,
) -> DisconnectReason
where
    S: AsyncRead + AsyncWrite + Send,
{
    let (rd, wr) = tokio::io::split(stream);
    let fin = Notify::new();
    let writer = write_loop(wr, sq, counters, &fin);
    let reader = read_loop(rd, id, cfg, sq, events, counters, &fin);
    tokio::pin!(writer, reader);
    tokio::select! {
        biased;
        r = &mut reader => r,
        w = &mut writer => match (w, sq.stop_requested()) {
            // Failing while stopping on request: the request's reason.
            (_, Some(stop)) => stop.reason,
            (Ok(()), None) => DisconnectReason::Closed,
            (Err(e), None) => DisconnectReason::from_io(&e),
        },
    }
}

async fn read_loop<R: AsyncRead>(
    rd: R,
    id: ClientId,
    cfg: &LinkCfg,
    sq: &SendQueue,
    events: &EventQueue,
    counters: &Counters,
    fin: &Notify,
) -> DisconnectReason {
    tokio::pin!(rd);
    let mut codec = FrameCodec::new(cfg.framing.clone());
    // Reads start small (idle connections cost little) and grow while reads fill the buffer.
    let mut buf = BytesMut::new();
    let mut chunk = 4 * 1024;
    let now = now_ms();
    let hb = cfg.heartbeat.as_ref();
    let mut live = Liveness {
        last_rx: now,
        last_app_rx: now,
        last_ping: now,
        ping: hb.and_then(|h| encode_frame(&cfg.framing, &h.ping).ok()),
        pong: hb.and_then(|h| encode_frame(&cfg.framing, &h.pong).ok()),
    };
    let period = [hb.and_then(|h| h.interval), cfg.idle_timeout]
        .into_iter()
        .flatten()
        .min()
        .map(|d| (d / 4).clamp(Duration::from_millis(5), Duration::from_millis(500)));
    let mut ticker = period.map(|p| {
        let mut t = tokio::time::interval(p);
        t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        t
    });
    loop {
        if let Some(stop) = sq.stop_requested() {
            return finish_stop(stop, sq, rd.as_mut(), &mut buf, fin).await;
        }
        // Hand out every whole frame already buffered.
        loop {
            match codec.decode(&mut buf) {
                Ok(Some(frame)) => {
                    live.last_rx = now_ms();
                    if let Some(h) = hb {
                        if frame == h.ping {
                            if let Some(p) = &live.pong {
                                let _ = sq.push(p.clone(), true);
                            }
                            continue;
                        }
                        if frame == h.pong {
                            continue;
                        }
                    }
                    live.last_app_rx = live.last_rx;
                    counters.msgs_in.fetch_add(1, Ordering::Relaxed);
                    let ev = Event::Message {
                        client: id,
                        data: frame,
                    };
                    if let Some(stop) = deliver(ev, sq, events).await {
                        return finish_stop(stop, sq, rd.as_mut(), &mut buf, fin).await;
                    }
                    // Time spent waiting for the application does not count as silence.
                    live.last_rx = now_ms();
                    live.last_app_rx = live.last_rx;
                }
                Ok(None) => break,
                Err(CodecError::Frame(Error::FrameTooLarge { .. })) => {
                    return DisconnectReason::FrameTooLarge
                }
                Err(CodecError::Frame(e)) => {
                    return DisconnectReason::Error(e.kind(), e.to_string())
                }
                Err(CodecError::Io(e)) => return DisconnectReason::from_io(&e),
            }
        }
        let want = codec.needed(&buf).clamp(chunk, 1 << 20);
        if buf.capacity() - buf.len() < want {
            buf.reserve(want);
        }
        let spare = buf.capacity() - buf.len();
        tokio::select! {
            biased;
            _ = sq.ctrl.notified() => {}
            r = rd.read_buf(&mut buf) => match r {
                Ok(0) => return DisconnectReason::PeerClosed,
                Ok(n) => {
                    if n == spare {
                        chunk = (chunk * 2).min(256 * 1024);
                    }
                    counters.bytes_in.fetch_add(n as u64, Ordering::Relaxed);
                    live.last_rx = now_ms();
                }
                Err(e) => return DisconnectReason::from_io(&e),
            },
            _ = async {
                match ticker.as_mut() {
                    Some(t) => { t.tick().await; }
                    None => std::future::pending::<()>().await,
                }
            } => {
                if let Some(r) = check_liveness(&mut live, cfg, sq) {
                    return r;
                }
            }
        }
    }
}

fn check_liveness(live: &mut Liveness, cfg: &LinkCfg, sq: &SendQueue) -> Option<DisconnectReason> {
    let now = now_ms();
    if let Some(h) = &cfg.heartbeat {
        if let Some(iv) = h.interval {
            let iv = iv.as_millis() as u64;
            let silent = now.saturating_sub(live.last_rx);
            if silent >= iv * h.misses as u64 {
                return Some(DisconnectReason::HeartbeatLost);
            }
            if silent >= iv && now.saturating_sub(live.last_ping) >= iv {
                if let Some(p) = &live.ping {
                    let _ = sq.push(p.clone(), true);
                }
                live.last_ping = now;
            }
        }
    }
    if let Some(idle) = cfg.idle_timeout {
        let last = match cfg.idle_mode {
            IdleMode::Reads => live.last_app_rx,
            IdleMode::ReadsAndWrites => live
                .last_app_rx
                .max(sq.last_app_push.load(Ordering::Relaxed)),
        };
        if now.saturating_sub(last) >= idle.as_millis() as u64 {
            return Some(DisconnectReason::IdleTimeout);
        }
    }
    None
}

/// Queue an event, waiting for room (this is where reading stops when the application does
/// not pull). A stop request while waiting queues the event anyway (nothing read is lost) and
/// returns the stop.
async fn deliver(ev: Event, sq: &SendQueue, events: &EventQueue) -> Option<Stop> {
    let permit = tokio::select! {
        biased;
        p = events.reserve() => p,
        _ = sq.ctrl.notified() => {
            events.push_force(ev);
            return Some(sq.stop_requested().unwrap_or(Stop {
                reason: DisconnectReason::Closed,
                graceful: false,
                deadline: None,
            }));
        }
    };
    match permit {
        Ok(p) => {
            p.push(ev);
            None
        }
        Err(_) => Some(Stop {
            reason: DisconnectReason::Closed,
            graceful: false,
            deadline: None,
        }),
    }
}

/// A stop was requested: end now, or (graceful) wait for the writer to flush and finish, up to
/// the deadline. The reader stops reading meanwhile.
/// How long a graceful close waits, after its FIN, for the peer to close too.
const LINGER: Duration = Duration::from_secs(2);

async fn finish_stop<R: AsyncRead>(
    stop: Stop,
    sq: &SendQueue,
    mut rd: std::pin::Pin<&mut R>,
    scratch: &mut BytesMut,
    fin: &Notify,
) -> DisconnectReason {
    if stop.graceful {
        let far = tokio::time::Instant::now() + Duration::from_secs(86400 * 365);
        let sleep = tokio::time::sleep_until(stop.deadline.unwrap_or(far));
        tokio::pin!(sleep);
        let (mut eof, mut fin_sent) = (false, false);
        loop {
            if scratch.capacity() < 4096 {
                scratch.reserve(4096);
            }
            tokio::select! {
                _ = &mut sleep => break,
                _ = sq.ctrl.notified() => {
                    if let Some(s) = sq.stop_requested() {
                        if !s.graceful {
                            break;
                        }
                        if let Some(d) = s.deadline.filter(|d| *d < sleep.deadline()) {
                            sleep.as_mut().reset(d);
                        }
                    }
                }
                _ = fin.notified(), if !fin_sent => {
                    fin_sent = true;
                    if eof {
                        break;
                    }
                    // Linger at most LINGER after our FIN for the peer's.
                    let linger = tokio::time::Instant::now() + LINGER;
                    if linger < sleep.deadline() {
                        sleep.as_mut().reset(linger);
                    }
                }
                // Input after the stop is discarded.
                r = rd.read_buf(scratch), if !eof => {
                    scratch.clear();
                    if !matches!(r, Ok(n) if n > 0) {
                        eof = true;
                        if fin_sent {
                            break;
                        }
                    }
                }
            }
        }
    }
    stop.reason
}

/// A connected stream of either family.
pub(crate) enum AnyStream {
    Tcp(tokio::net::TcpStream),
    Unix(tokio::net::UnixStream),
}

impl AsyncRead for AnyStream {
    fn poll_read(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        match self.get_mut() {
            AnyStream::Tcp(s) => std::pin::Pin::new(s).poll_read(cx, buf),
            AnyStream::Unix(s) => std::pin::Pin::new(s).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for AnyStream {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        match self.get_mut() {
            AnyStream::Tcp(s) => std::pin::Pin::new(s).poll_write(cx, buf),
            AnyStream::Unix(s) => std::pin::Pin::new(s).poll_write(cx, buf),
        }
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        match self.get_mut() {
            AnyStream::Tcp(s) => std::pin::Pin::new(s).poll_flush(cx),
            AnyStream::Unix(s) => std::pin::Pin::new(s).poll_flush(cx),
        }
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        match self.get_mut() {
            AnyStream::Tcp(s) => std::pin::Pin::new(s).poll_shutdown(cx),
            AnyStream::Unix(s) => std::pin::Pin::new(s).poll_shutdown(cx),
        }
    }
}

/// The per-connection subset of `opts` (what applies to an accepted or connecting socket).
pub(crate) fn conn_options(opts: &crate::options::SocketOptions) -> crate::options::SocketOptions {
    crate::options::SocketOptions {
        nodelay: opts.nodelay,
        keepalive: opts.keepalive,
        linger: opts.linger,
        recv_buffer_size: opts.recv_buffer_size,
        send_buffer_size: opts.send_buffer_size,
        tcp_user_timeout: opts.tcp_user_timeout,
        ..Default::default()
    }
}

/// A live-task counter that a synchronous thread can wait on.
#[derive(Default)]
pub(crate) struct TaskCount {
    n: Mutex<usize>,
    cv: std::sync::Condvar,
}

impl TaskCount {
    pub(crate) fn inc(&self) {
        *self.n.lock().unwrap_or_else(|p| p.into_inner()) += 1;
    }
    pub(crate) fn dec(&self) {
        let mut n = self.n.lock().unwrap_or_else(|p| p.into_inner());
        *n = n.saturating_sub(1);
        if *n == 0 {
            self.cv.notify_all();
        }
    }
    /// Wait until no task is live, up to `t`; true if none is.
    pub(crate) fn wait_zero(&self, t: Duration) -> bool {
        let deadline = Instant::now() + t;
        let mut n = self.n.lock().unwrap_or_else(|p| p.into_inner());
        while *n > 0 {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            n = self
                .cv
                .wait_timeout(n, deadline - now)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        true
    }
}
