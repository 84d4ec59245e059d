//! One live connection of the engine (server side or client side): the reader, the writer,
//! heartbeat and idle timeout, on a [`stream`](super::stream) fed by a
//! [`send queue`](super::sendq). Shared by [`Server`](super::Server) and
//! [`Client`](super::Client).
//!
//! Cost model (what keeps a round trip cheap and an idle connection small):
//! - A connection is one task driving one hand-written state machine ([`Conn`]): no split
//!   halves, no per-connection channels, no boxed futures unless a timer is configured.
//! - Reads go into a per-thread scratch block ([`SCRATCH`]); messages are cut out of it without
//!   copying (the frames of one read as positions first, then one split and a slice each,
//!   queued under one hold of the event queue's lock), and a connection keeps a buffer of its
//!   own only while it holds a partial frame. An idle connection holds no read buffer.
//! - A send (or a batch, as one piece) from any thread writes straight to the socket when
//!   nothing is queued before it (non-blocking; the send queue's state keeps the order); only
//!   what the socket does not take is queued for the connection's task, which is then woken.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::Future;
use std::io::IoSlice;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{ready, Context, Poll};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Sleep;

use super::codec::encode_frame;
use super::events::{ClientId, DisconnectReason, Event, EventQueue, TryPush};
use super::sendq::{self, Chunk, SendQueue};
use super::stream::AnyStream;
use super::{Heartbeat, IdleMode};
use crate::error::{Error, Result};
use crate::framing::{Decoder, Framing, PlainPrefix};

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
    /// The heartbeat's ping and pong frames, encoded once for every connection.
    ping: Option<Bytes>,
    pub(crate) pong: Option<Bytes>,
    /// The framing, when it is a plain length prefix: its header is written without the
    /// general encoder (the [`Decoder`] cuts it by the same short path).
    plain: Option<PlainPrefix>,
}

/// The encoded length of `data` with the link's framing (framing errors as for sending).
pub(crate) fn frame_len(cfg: &LinkCfg, data: &[u8]) -> Result<usize> {
    with_frame(cfg, data, |parts| parts.iter().map(|p| p.len()).sum())
}

/// Encode `data` with the link's framing (without copying the body) and hand the frame's
/// parts (header, body, trailer) to `f`. Framing errors come back to the caller.
pub(crate) fn with_frame<R>(
    cfg: &LinkCfg,
    data: &[u8],
    f: impl FnOnce(&[&[u8]; 3]) -> R,
) -> Result<R> {
    if let Some(lp) = &cfg.plain {
        let mut hdr = [0u8; 8];
        let w = lp.header(data.len(), &mut hdr)?;
        return Ok(f(&[&hdr[..w], data, &[]]));
    }
    let p = cfg.framing.encode_parts(data)?;
    Ok(f(&[p.header.as_bytes(), p.body, p.trailer]))
}

impl LinkCfg {
    /// A connection config. With `Raw` framing (no message boundaries) a reply-only heartbeat
    /// is dropped, so raw byte streams pass untouched.
    pub(crate) fn new(
        framing: Framing,
        idle_timeout: Option<Duration>,
        idle_mode: IdleMode,
        heartbeat: &Option<Heartbeat>,
    ) -> LinkCfg {
        let heartbeat = match (&framing, heartbeat) {
            (Framing::Raw, Some(h)) if h.interval.is_none() => None,
            _ => heartbeat.clone(),
        };
        let ping = heartbeat
            .as_ref()
            .and_then(|h| encode_frame(&framing, &h.ping).ok());
        let pong = heartbeat
            .as_ref()
            .and_then(|h| encode_frame(&framing, &h.pong).ok());
        LinkCfg {
            plain: framing.plain_prefix(),
            framing,
            idle_timeout,
            idle_mode,
            heartbeat,
            ping,
            pong,
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
            if hb.ping.is_empty() || hb.pong.is_empty() {
                return Err(Error::invalid(
                    "empty heartbeat ping or pong payload (every empty message would be taken \
                     for one)",
                ));
            }
            if hb.ping == hb.pong {
                return Err(Error::invalid("heartbeat ping and pong payloads are equal"));
            }
            encode_frame(&self.framing, &hb.ping)?;
            encode_frame(&self.framing, &hb.pong)?;
            if let Some(t) = hb.interval.filter(|t| *t < super::MIN_HEARTBEAT_INTERVAL) {
                return Err(Error::invalid(format!(
                    "heartbeat interval {t:?} is below the floor of {:?}",
                    super::MIN_HEARTBEAT_INTERVAL
                )));
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

    /// How often liveness is checked (`None`: no heartbeat interval and no idle timeout, so
    /// the connection needs neither a timer nor the clock).
    pub(crate) fn tick_period(&self) -> Option<Duration> {
        [
            self.heartbeat.as_ref().and_then(|h| h.interval),
            self.idle_timeout,
        ]
        .into_iter()
        .flatten()
        .min()
        .map(|d| (d / 4).clamp(Duration::from_millis(5), Duration::from_millis(500)))
    }

    /// True when the idle timeout counts queued writes (the send path then notes the time).
    pub(crate) fn tracks_writes(&self) -> bool {
        self.idle_timeout.is_some() && self.idle_mode == IdleMode::ReadsAndWrites
    }
}

/// Size of the per-thread read block.
const SCRATCH_BLOCK: usize = 64 * 1024;
/// A read into less room than this takes a fresh block.
const MIN_READ: usize = 4 * 1024;
/// The largest read of a consumer that reads a connection itself (see [`ReadState::chunk`]).
const MAX_SIDE_READ: usize = 256 * 1024;

thread_local! {
    /// The runtime thread's read block. Reads land here; messages are split off it without
    /// copying (they keep their part of the block alive until dropped) and the rest of the
    /// block serves the next read, of any connection.
    static SCRATCH: RefCell<BytesMut> = RefCell::new(BytesMut::new());
}

/// Read what the socket has into the thread's scratch block; the bytes read (empty at end of
/// stream). With `keep == false` the bytes are left in the block's spare room (discarded) and
/// only their count is returned.
fn poll_read_scratch(
    stream: &mut AnyStream,
    cx: &mut Context<'_>,
    keep: bool,
) -> Poll<std::io::Result<(usize, BytesMut)>> {
    SCRATCH.with(|s| {
        let mut s = s.borrow_mut();
        if s.capacity() - s.len() < MIN_READ {
            s.reserve(SCRATCH_BLOCK);
        }
        let mut rb = ReadBuf::uninit(s.spare_capacity_mut());
        ready!(Pin::new(stream).poll_read(cx, &mut rb))?;
        let n = rb.filled().len();
        if !keep {
            return Poll::Ready(Ok((n, BytesMut::new())));
        }
        let len = s.len() + n;
        // SAFETY: poll_read initialised and filled the first n bytes of the spare capacity.
        unsafe { s.set_len(len) };
        Poll::Ready(Ok((n, s.split())))
    })
}

/// Read into `buf`'s spare capacity (at least `want` bytes of room).
fn poll_read_into(
    stream: &mut AnyStream,
    cx: &mut Context<'_>,
    buf: &mut BytesMut,
    want: usize,
) -> Poll<std::io::Result<usize>> {
    if buf.capacity() - buf.len() < want {
        buf.reserve(want);
    }
    let mut rb = ReadBuf::uninit(buf.spare_capacity_mut());
    ready!(Pin::new(stream).poll_read(cx, &mut rb))?;
    let n = rb.filled().len();
    let len = buf.len() + n;
    // SAFETY: poll_read initialised and filled the first n bytes of the spare capacity.
    unsafe { buf.set_len(len) };
    Poll::Ready(Ok(n))
}

/// The heartbeat and idle state of one connection.
struct Liveness {
    last_rx: u64,
    last_app_rx: u64,
    last_ping: u64,
    /// Fires every `period` to check.
    timer: Pin<Box<Sleep>>,
    period: Duration,
}

/// How long a graceful close waits, after its FIN, for the peer to close too.
const LINGER: Duration = Duration::from_secs(2);

/// A graceful stop in progress: flush, FIN, then wait for the peer's FIN (discarding input).
struct Stopping {
    reason: DisconnectReason,
    deadline: Pin<Box<Sleep>>,
    eof: bool,
    fin_sent: bool,
}

/// Messages delivered under one hold of the event queue's lock (see `Conn::take_frames`).
const HOLD_MAX: usize = 64;

/// Send-queue entries (frames, or runs of a batch's frames) written per `writev`.
const MAX_IOV: usize = 64;

/// One connection's state machine (see the module docs).
pub(crate) struct Conn {
    stream: AnyStream,
    rd: Reader,
    /// The runtime stands aside from reading (a consumer reads the socket): when to look
    /// again whether one still does.
    aside: Option<Pin<Box<Sleep>>>,
    /// The read side's count of consumer waits when last looked at.
    seen_drives: u64,
    /// Frames taken from the send queue, being written.
    out: VecDeque<Chunk>,
    /// Liveness bookkeeping (only with a heartbeat interval or an idle timeout).
    live: Option<Box<Liveness>>,
    stopping: Option<Box<Stopping>>,
    /// The waker (its data pointer) registered with the send queue; a new one means sync.
    waker_id: usize,
    /// Sync with the send queue on the next round (the task finished its frames).
    sync_next: bool,
}

/// What a connection works with, lent at each poll (so the connection's task stores no
/// references next to the owners: a smaller task).
pub(crate) struct Env<'a> {
    pub id: ClientId,
    pub cfg: &'a LinkCfg,
    pub sq: &'a SendQueue,
    pub events: &'a EventQueue,
    pub counters: &'a Counters,
}

impl Conn {
    /// [`poll`](Conn::poll) with a panic inside it caught: the connection ends with reason
    /// `Error(Internal, message)`, reported like any other end, and the runtime thread goes on.
    pub(crate) fn poll_guarded(
        &mut self,
        cx: &mut Context<'_>,
        env: &Env<'_>,
    ) -> Poll<DisconnectReason> {
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.poll(cx, env))) {
            Ok(p) => p,
            Err(payload) => {
                let e = Error::from_panic(&*payload);
                Poll::Ready(DisconnectReason::Error(e.kind(), e.to_string()))
            }
        }
    }

    /// Drive the connection; Ready with the reason when it has ended.
    pub(crate) fn poll(&mut self, cx: &mut Context<'_>, env: &Env<'_>) -> Poll<DisconnectReason> {
        let r = self.poll_inner(cx, env);
        super::events::defer::tick();
        r
    }

    fn poll_inner(&mut self, cx: &mut Context<'_>, env: &Env<'_>) -> Poll<DisconnectReason> {
        if self.stopping.is_some() {
            return self.poll_stopping(cx, env);
        }
        loop {
            let waker_id = cx.waker().data() as usize;
            let sync = std::mem::take(&mut self.sync_next)
                || self.waker_id != waker_id
                || env.sq.take_dirty();
            let stop = if sync {
                self.waker_id = waker_id;
                env.sq.sync(cx, &mut self.out).0
            } else {
                None
            };
            if let Some(stop) = stop {
                // Consumers no longer read the socket; input after the stop is discarded by
                // this task (`poll_stopping`), so it reads again.
                let held = self.with_rs(|rs| {
                    rs.pend = BytesMut::new();
                    rs.held.take()
                });
                if let Reader::Shared(side) = &self.rd {
                    side.close();
                }
                self.aside = None;
                let _ = self.stream.set_reading(true);
                if let Some(data) = held {
                    // Nothing read is lost: the waiting message goes in regardless of the bound.
                    env.events.push_force(Event::Message {
                        client: env.id,
                        data,
                    });
                }
                if !stop.graceful {
                    return Poll::Ready(stop.reason);
                }
                let far = tokio::time::Instant::now() + Duration::from_secs(86400 * 365);
                self.stopping = Some(Box::new(Stopping {
                    deadline: Box::pin(tokio::time::sleep_until(stop.deadline.unwrap_or(far))),
                    reason: stop.reason,
                    eof: false,
                    fin_sent: false,
                }));
                return self.poll_stopping(cx, env);
            }
            let mut progress = false;
            if !self.out.is_empty() || self.stream.wants_write() {
                match self.poll_write_out(cx, env) {
                    Poll::Ready(Ok(())) => {
                        // Done: take what was queued meanwhile (or let senders write again).
                        self.sync_next = true;
                        progress = true;
                    }
                    Poll::Ready(Err(e)) => {
                        return Poll::Ready(match env.sq.stop_requested() {
                            // Failing while stopping on request: the request's reason.
                            Some(stop) => stop.reason,
                            None => self.stream.reason(&e),
                        });
                    }
                    Poll::Pending => {}
                }
            }
            match self.poll_read_side(cx, env) {
                Poll::Ready(Ok(())) => progress = true,
                Poll::Ready(Err(reason)) => return Poll::Ready(reason),
                Poll::Pending => {}
            }
            if let Some(r) = self.poll_liveness(cx, env) {
                return Poll::Ready(r);
            }
            if !progress {
                return Poll::Pending;
            }
        }
    }

    /// Write the frames in `out`; Ready(Ok) once all are written.
    fn poll_write_out(&mut self, cx: &mut Context<'_>, env: &Env<'_>) -> Poll<std::io::Result<()>> {
        loop {
            let sent = sendq::skip_empty(&mut self.out);
            if sent > 0 {
                env.counters.msgs_out.fetch_add(sent, Ordering::Relaxed);
            }
            if self.out.is_empty() {
                if self.out.capacity() > 16 {
                    self.out = VecDeque::new();
                }
                // TLS: records the session still holds go out before the frames count as sent.
                if self.stream.wants_write() {
                    ready!(Pin::new(&mut self.stream).poll_flush(cx))?;
                }
                return Poll::Ready(Ok(()));
            }
            let mut iov = [IoSlice::new(&[]); MAX_IOV];
            let mut n = 0;
            for f in self.out.iter().take(MAX_IOV) {
                iov[n] = IoSlice::new(&f.data);
                n += 1;
            }
            let w = ready!(Pin::new(&mut self.stream).poll_write_vectored(cx, &iov[..n]))?;
            if w == 0 {
                return Poll::Ready(Err(std::io::ErrorKind::WriteZero.into()));
            }
            env.counters
                .bytes_out
                .fetch_add(w as u64, Ordering::Relaxed);
            let done = sendq::consume(&mut self.out, w);
            env.counters.msgs_out.fetch_add(done, Ordering::Relaxed);
        }
    }

    /// Deliver a waiting message, or read and deliver what arrived. Ready(Ok) on progress.
    /// A shared read side (see [`ReadSide`]) is read here only while no consumer reads it.
    fn poll_read_side(
        &mut self,
        cx: &mut Context<'_>,
        env: &Env<'_>,
    ) -> Poll<Result<(), DisconnectReason>> {
        let side = match &mut self.rd {
            Reader::Own(rs) => return rs.poll_read(&mut self.stream, &mut self.live, cx, env),
            Reader::Shared(side) => side.clone(),
        };
        side.set_task(cx.waker());
        let mut st = side.lock();
        if let Some(end) = st.end.take() {
            // A consumer read the end of the stream (or an error): reported from here.
            return Poll::Ready(Err(match end {
                SideEnd::Eof => st.rs.end_of_stream(&mut self.stream, cx, env),
                SideEnd::Io(e) => self.stream.reason(&e),
                SideEnd::Framing(r) => r,
            }));
        }
        if let Err(e) = self.poll_aside(&side, cx) {
            return Poll::Ready(Err(self.stream.reason(&e)));
        }
        if self.aside.is_some() && st.rs.held.is_none() {
            return Poll::Pending;
        }
        // (A message a consumer's read left waiting for room is delivered from here, aside
        // or not: `poll_read` takes it and the frames behind it before any read.)
        st.rs.poll_read(&mut self.stream, &mut self.live, cx, env)
    }

    /// Stand aside from reading while consumers read the socket (they waited on it since the
    /// last look), and take the reading back once none has for [`ASIDE`].
    fn poll_aside(&mut self, side: &ReadSide, cx: &mut Context<'_>) -> std::io::Result<()> {
        let drive = &side.drive;
        if self.aside.is_none() {
            let drives = drive.drives.load(Ordering::Acquire);
            if !drive.driving.load(Ordering::Acquire) && drives == self.seen_drives {
                return Ok(());
            }
            self.seen_drives = drives;
            self.stream.set_reading(false)?;
            self.aside = Some(Box::pin(tokio::time::sleep(ASIDE)));
        }
        let Some(t) = self.aside.as_mut() else {
            return Ok(());
        };
        while t.as_mut().poll(cx).is_ready() {
            let drives = drive.drives.load(Ordering::Acquire);
            if drive.driving.load(Ordering::Acquire) || drives != self.seen_drives {
                self.seen_drives = drives;
                t.as_mut().reset(tokio::time::Instant::now() + ASIDE);
                continue;
            }
            self.aside = None;
            return self.stream.set_reading(true);
        }
        Ok(())
    }

    /// The read state, wherever it lives.
    fn with_rs<R>(&mut self, f: impl FnOnce(&mut ReadState) -> R) -> R {
        match &mut self.rd {
            Reader::Own(rs) => f(rs),
            Reader::Shared(side) => f(&mut side.lock().rs),
        }
    }

    /// The heartbeat / idle timer: check when it fires.
    fn poll_liveness(&mut self, cx: &mut Context<'_>, env: &Env<'_>) -> Option<DisconnectReason> {
        let l = self.live.as_mut()?;
        while l.timer.as_mut().poll(cx).is_ready() {
            if let Some(r) = check_liveness(l, env.cfg, env.sq) {
                return Some(r);
            }
            let next = tokio::time::Instant::now() + l.period;
            l.timer.as_mut().reset(next);
        }
        None
    }

    /// A graceful stop: the reader stops delivering; flush what is queued, FIN, then wait for
    /// the peer to close too (or the deadline), so that unread input does not turn our close
    /// into a reset that could destroy what the peer has not read yet.
    fn poll_stopping(&mut self, cx: &mut Context<'_>, env: &Env<'_>) -> Poll<DisconnectReason> {
        let mut s = self.stopping.take().expect("stopping");
        let r = self.poll_stopping_with(&mut s, cx, env);
        self.stopping = Some(s);
        r
    }

    fn poll_stopping_with(
        &mut self,
        s: &mut Stopping,
        cx: &mut Context<'_>,
        env: &Env<'_>,
    ) -> Poll<DisconnectReason> {
        loop {
            let mut progress = false;
            let (stop, direct) = env.sq.sync(cx, &mut self.out);
            if let Some(stop) = stop {
                if !stop.graceful {
                    return Poll::Ready(s.reason.clone());
                }
                if let Some(d) = stop.deadline.filter(|d| *d < s.deadline.deadline()) {
                    s.deadline.as_mut().reset(d);
                }
            }
            if s.deadline.as_mut().poll(cx).is_ready() {
                return Poll::Ready(s.reason.clone());
            }
            if !self.out.is_empty() || self.stream.wants_write() {
                match self.poll_write_out(cx, env) {
                    Poll::Ready(Ok(())) => progress = true,
                    Poll::Ready(Err(_)) => return Poll::Ready(s.reason.clone()),
                    Poll::Pending => {}
                }
            } else if !s.fin_sent
                && !direct
                && Pin::new(&mut self.stream).poll_shutdown(cx).is_ready()
            {
                s.fin_sent = true;
                if s.eof {
                    return Poll::Ready(s.reason.clone());
                }
                // Linger at most LINGER after our FIN for the peer's.
                let linger = tokio::time::Instant::now() + LINGER;
                if linger < s.deadline.deadline() {
                    s.deadline.as_mut().reset(linger);
                }
                progress = true;
            }
            if !s.eof {
                // Input after the stop is discarded.
                if let Poll::Ready(r) = poll_read_scratch(&mut self.stream, cx, false) {
                    if !matches!(r, Ok((n, _)) if n > 0) {
                        s.eof = true;
                        if s.fin_sent {
                            return Poll::Ready(s.reason.clone());
                        }
                    }
                    progress = true;
                }
            }
            if !progress {
                return Poll::Pending;
            }
        }
    }
}

/// What the read half of a connection keeps between reads: the decoder, a partial frame,
/// and a message waiting for room in the event queue.
pub(crate) struct ReadState {
    decoder: Decoder,
    /// A partial frame (empty, without allocation, between frames).
    pend: BytesMut,
    /// A message waiting for room in the event queue (reading stops meanwhile).
    held: Option<Bytes>,
    /// Registration for room in the event queue.
    room: u64,
    /// The size of a consumer's read ([`ReadSide::fill`]): [`SCRATCH_BLOCK`], doubled up to
    /// [`MAX_SIDE_READ`] each time a read fills all the room it had (a busy stream is read in
    /// a few large reads, as the blocking layer's are; a quiet one keeps small blocks).
    chunk: usize,
}

fn note_read(n: usize, env: &Env<'_>, live: &mut Option<Box<Liveness>>) {
    env.counters.bytes_in.fetch_add(n as u64, Ordering::Relaxed);
    if let Some(l) = live {
        l.last_rx = now_ms();
    }
}

impl ReadState {
    fn new(framing: &Framing) -> ReadState {
        ReadState {
            decoder: Decoder::new(framing.clone()),
            pend: BytesMut::new(),
            held: None,
            room: 0,
            chunk: SCRATCH_BLOCK,
        }
    }

    /// Deliver a waiting message, or read and deliver what arrived. Ready(Ok) on progress.
    fn poll_read(
        &mut self,
        stream: &mut AnyStream,
        live: &mut Option<Box<Liveness>>,
        cx: &mut Context<'_>,
        env: &Env<'_>,
    ) -> Poll<Result<(), DisconnectReason>> {
        if let Some(data) = self.held.take() {
            let ev = Event::Message {
                client: env.id,
                data,
            };
            match env.events.try_push(ev, cx, &mut self.room) {
                TryPush::Pushed => {}
                TryPush::Full(Event::Message { data, .. }) => {
                    self.held = Some(data);
                    return Poll::Pending;
                }
                TryPush::Full(_) | TryPush::Closed => return Poll::Ready(Err(closed())),
            }
            // Time spent waiting for the application does not count as silence.
            if let Some(l) = live {
                l.last_rx = now_ms();
                l.last_app_rx = l.last_rx;
            }
            // Whole frames that arrived with it.
            let mut pend = std::mem::take(&mut self.pend);
            let r = self.take_frames(&mut pend, Some(cx), env, live);
            self.pend = pend;
            self.release_pend();
            r?;
            return Poll::Ready(Ok(()));
        }
        let n = if self.pend.is_empty() {
            let mut data = match ready!(poll_read_scratch(stream, cx, true)) {
                Ok((_, d)) => d,
                Err(e) => return Poll::Ready(Err(stream.reason(&e))),
            };
            let n = data.len();
            if n > 0 {
                note_read(n, env, live);
                let r = self.take_frames(&mut data, Some(cx), env, live);
                if !data.is_empty() {
                    // A partial frame (or frames behind a full event queue): keep a copy,
                    // with room for the rest of the frame.
                    let more = self.decoder.needed(&data).clamp(MIN_READ, 1 << 20);
                    let mut p = BytesMut::with_capacity(data.len() + more);
                    p.extend_from_slice(&data);
                    self.pend = p;
                }
                r?;
            }
            n
        } else {
            let want = self.decoder.needed(&self.pend).clamp(MIN_READ, 1 << 20);
            let n = match ready!(poll_read_into(stream, cx, &mut self.pend, want)) {
                Ok(n) => n,
                Err(e) => return Poll::Ready(Err(stream.reason(&e))),
            };
            if n > 0 {
                note_read(n, env, live);
                let mut pend = std::mem::take(&mut self.pend);
                let r = self.take_frames(&mut pend, Some(cx), env, live);
                self.pend = pend;
                self.release_pend();
                r?;
            }
            n
        };
        if n == 0 {
            return Poll::Ready(Err(self.end_of_stream(stream, cx, env)));
        }
        Poll::Ready(Ok(()))
    }

    /// The end of the stream: a tail that forms no frame is reported (never dropped
    /// silently); on TLS the peer's close_notify is answered.
    fn end_of_stream(
        &mut self,
        stream: &mut AnyStream,
        cx: &mut Context<'_>,
        env: &Env<'_>,
    ) -> DisconnectReason {
        if !self.pend.is_empty() {
            // Bytes that form no whole frame: reported, never dropped silently.
            let tail = &self.pend[..self.pend.len().min(16)];
            let hex: Vec<String> = tail.iter().map(|b| format!("{b:02x}")).collect();
            env.events.push_force(Event::Warning {
                client: env.id,
                error: crate::ErrorKind::Closed,
                message: format!(
                    "client {}: end of stream inside a frame, {} bytes left over (they form \
                     no whole message; first bytes: {}{})",
                    env.id,
                    self.pend.len(),
                    hex.join(" "),
                    if self.pend.len() > 16 { " ..." } else { "" }
                ),
            });
        }
        if let AnyStream::Tls(_) = stream {
            // The peer's close_notify: answer with ours (best effort, without waiting), so
            // a peer that waits for it (ssl's unwrap) sees an orderly end too.
            let _ = Pin::new(&mut *stream).poll_shutdown(cx);
        }
        DisconnectReason::PeerClosed
    }

    /// An empty partial-frame buffer gives its memory back (idle connections hold none).
    fn release_pend(&mut self) {
        if self.pend.is_empty() && self.pend.capacity() > 0 {
            self.pend = BytesMut::new();
        }
    }

    /// Cut every whole frame out of `buf` and deliver it; stops early (leaving the rest in
    /// `buf`) when the event queue is full.
    fn take_frames(
        &mut self,
        buf: &mut BytesMut,
        cx: Option<&mut Context<'_>>,
        env: &Env<'_>,
        live: &mut Option<Box<Liveness>>,
    ) -> Result<(), DisconnectReason> {
        let mut pong = false;
        let r = self.take_runs(buf, cx, env, live, &mut pong);
        if pong {
            if let Some(p) = &env.cfg.pong {
                let _ = env.sq.push(p.clone(), true);
            }
        }
        r
    }

    /// [`take_frames`](Conn::take_frames) in runs of up to [`HOLD_MAX`] messages: under one
    /// hold of the event queue's lock, cut the frames that have room (positions only), split
    /// them off `buf` at once and queue a slice of that block per message (no per-message
    /// buffer bookkeeping). The first frame without room is held (reading stops); a ping seen
    /// sets `pong` (answered once the queue's lock is let go). Without `cx` (a consumer's read)
    /// nothing is registered for room: the caller wakes the connection's task instead.
    fn take_runs(
        &mut self,
        buf: &mut BytesMut,
        mut cx: Option<&mut Context<'_>>,
        env: &Env<'_>,
        live: &mut Option<Box<Liveness>>,
        pong: &mut bool,
    ) -> Result<(), DisconnectReason> {
        let mut cuts = [(0usize, 0usize); HOLD_MAX];
        // A consumer reading for itself (no task context) takes what it queues next: only the
        // other waiting consumers are signalled.
        let by_task = cx.is_some();
        while self.held.is_none() {
            let mut hold = env.events.hold();
            let Some((mut free, mut queued)) = hold.room() else {
                return Err(closed());
            };
            let queued0 = queued;
            let (mut n, mut off, mut err, mut full) = (0, 0, None, false);
            // The usual case, whole frames of a bare length prefix and no heartbeat: cut in a
            // tight loop (two loads and a compare per frame, no `Cut` built); what it stops at
            // (a partial or oversized frame, a full queue) goes through the general loop.
            if let (Some(f), None) = (self.decoder.plain(), &env.cfg.heartbeat) {
                let most = HOLD_MAX.min(free);
                let (k, used, bytes) = f.cut_run(
                    buf,
                    &mut cuts[..most],
                    super::EVENT_QUEUE_BYTES.saturating_sub(queued),
                );
                (n, off) = (k, used);
                free -= k;
                queued += bytes;
            }
            while n < HOLD_MAX {
                // `cut` takes a bare length prefix by its own short path.
                let cut = self.decoder.cut(&buf[off..]);
                match cut.msg {
                    Ok(Some((s, e))) => {
                        let (s, e) = (off + s, off + e);
                        off += cut.consumed;
                        if let Some(h) = &env.cfg.heartbeat {
                            // Heartbeat frames are answered or dropped, never queued.
                            if buf[s..e] == h.ping[..] {
                                *pong = true;
                                continue;
                            }
                            if buf[s..e] == h.pong[..] {
                                continue;
                            }
                        }
                        cuts[n] = (s, e);
                        n += 1;
                        if free == 0 || queued >= super::EVENT_QUEUE_BYTES {
                            full = true; // this one waits for room
                            break;
                        }
                        free -= 1;
                        queued += e - s;
                    }
                    Ok(None) => {
                        off += cut.consumed;
                        break;
                    }
                    Err(e) => {
                        off += cut.consumed;
                        err = Some(e);
                        break;
                    }
                }
            }
            let block = buf.split_to(off).freeze();
            if n > 0 {
                // Counted before the messages can be pulled (a reader of the stats after the
                // pull sees them); a held one is counted now too, as received.
                env.counters.msgs_in.fetch_add(n as u64, Ordering::Relaxed);
            }
            // The held message (the last cut) is not queued; `queued` grew by exactly the
            // bytes of the others. The run's list is sized to its messages (a queue of many
            // clients' short runs stays small).
            let last = if full { n - 1 } else { n };
            if last > 0 {
                hold.push_run(
                    env.id,
                    block.clone(),
                    cuts[..last].to_vec(),
                    queued - queued0,
                );
            }
            if full {
                let (s, e) = cuts[n - 1];
                self.held = Some(block.slice(s..e));
                if let Some(cx) = cx.as_deref_mut() {
                    hold.wait_room(cx, &mut self.room);
                }
            }
            hold.signal(by_task);
            drop(hold);
            if n > 0 {
                // Messages received (a held one too): the connection is not silent.
                if let Some(l) = live {
                    l.last_app_rx = now_ms();
                    l.last_rx = l.last_app_rx;
                }
            }
            match err {
                Some(Error::FrameTooLarge { .. }) => return Err(DisconnectReason::FrameTooLarge),
                Some(e) => return Err(DisconnectReason::Error(e.kind(), e.to_string())),
                None if n < HOLD_MAX || full => return Ok(()),
                None => {}
            }
        }
        Ok(())
    }
}

/// Where a connection's read state lives.
enum Reader {
    /// In the connection's task alone.
    Own(ReadState),
    /// Shared with consumers that read the socket themselves.
    Shared(Arc<ReadSide>),
}

/// How long the runtime stays aside from reading after the last consumer wait on the socket.
const ASIDE: Duration = Duration::from_millis(10);

/// The read half of a connection that a waiting consumer may drive itself (on Linux, plain
/// connections without a heartbeat interval or idle timeout: the engine client's, and a
/// server's first few, which its consumers watch in an epoll set of their own): a
/// consumer that finds the event queue empty reads the socket in its own thread, cuts the
/// frames with the connection's decoder and queues them (in order, under this side's lock),
/// then waits in `poll(2)` on the socket, instead of waiting for a runtime thread to read and
/// hand the messages over (two thread switches per message in request–reply traffic). The
/// connection's task stands aside while consumers drive (its read registration is out of the
/// runtime's poll set) and reads again [`ASIDE`] after the last consumer wait, so input that
/// arrives while the application is busy still goes to the queue.
pub(crate) struct ReadSide {
    id: ClientId,
    st: Mutex<SideState>,
    /// The socket, while consumers may read it (-1: not now; set under `st`'s lock).
    fd: AtomicI32,
    /// Whether consumers wait on it (shared by the connections of one object).
    drive: Arc<Drive>,
    /// The consumers' epoll set that holds the socket (a server's), or -1.
    epfd: i32,
    /// The connection's task, woken when a consumer read the end of the stream.
    task: Mutex<Option<std::task::Waker>>,
}

/// Whether consumers of one engine object wait on its sockets themselves (see [`ReadSide`]).
#[derive(Debug, Default)]
pub(crate) struct Drive {
    /// A consumer waits on the sockets now.
    driving: AtomicBool,
    /// Consumer waits so far.
    drives: AtomicU64,
}

impl Drive {
    /// A consumer starts or stops waiting on the sockets.
    pub(crate) fn set(&self, on: bool) {
        if on {
            self.drives.fetch_add(1, Ordering::AcqRel);
        }
        self.driving.store(on, Ordering::Release);
    }
}

struct SideState {
    rs: ReadState,
    /// How the stream ended, when a consumer read it, for the task to report.
    end: Option<SideEnd>,
}

/// What a consumer's read ended the connection with.
enum SideEnd {
    /// The end of the stream.
    Eof,
    /// A read error.
    Io(std::io::Error),
    /// Bytes that break the framing (a frame too large, a bad header).
    Framing(DisconnectReason),
}

impl ReadSide {
    /// The read side of connection `id` on `stream`, or `None` where consumers cannot drive
    /// it (TLS, other systems, or a heartbeat interval or idle timeout to keep).
    /// With `epfd` (a server's consumers' epoll set, else -1) the socket joins that set, level-
    /// triggered, with `id` as its key, until the connection stops.
    pub(crate) fn for_stream(
        id: ClientId,
        cfg: &LinkCfg,
        stream: &AnyStream,
        drive: &Arc<Drive>,
        epfd: i32,
    ) -> Option<Arc<Self>> {
        if !stream.splits_reads() || cfg.tick_period().is_some() {
            return None;
        }
        let fd = stream.raw_fd();
        #[cfg(target_os = "linux")]
        if epfd >= 0 {
            let mut ev = libc::epoll_event {
                events: libc::EPOLLIN as u32,
                u64: id,
            };
            // SAFETY: a valid epoll descriptor and socket, and an event on the stack.
            if unsafe { libc::epoll_ctl(epfd, libc::EPOLL_CTL_ADD, fd, &mut ev) } != 0 {
                return None;
            }
        }
        Some(Arc::new(ReadSide {
            id,
            st: Mutex::new(SideState {
                rs: ReadState::new(&cfg.framing),
                end: None,
            }),
            fd: AtomicI32::new(fd),
            drive: drive.clone(),
            epfd,
            task: Mutex::new(None),
        }))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, SideState> {
        self.st.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn set_task(&self, w: &std::task::Waker) {
        let mut t = self.task.lock().unwrap_or_else(|p| p.into_inner());
        if !t.as_ref().is_some_and(|t| t.will_wake(w)) {
            *t = Some(w.clone());
        }
    }

    /// Consumers stop reading the socket (the connection stops, or its socket is about to
    /// close): under the lock, so no consumer's read is in flight.
    pub(crate) fn close(&self) {
        let _st = self.lock();
        self.withdraw();
    }

    /// No more reads by consumers (under `st`'s lock): out of the consumers' epoll set.
    fn withdraw(&self) {
        let fd = self.fd.swap(-1, Ordering::AcqRel);
        #[cfg(target_os = "linux")]
        if fd >= 0 && self.epfd >= 0 {
            // SAFETY: the socket is still open (its connection closes it after this).
            unsafe { libc::epoll_ctl(self.epfd, libc::EPOLL_CTL_DEL, fd, std::ptr::null_mut()) };
        }
        let _ = fd;
    }

    /// The socket to wait on (`-1`: none now, wait for the queue).
    pub(crate) fn fd(&self) -> i32 {
        self.fd.load(Ordering::Acquire)
    }

    /// A consumer's read: what the socket holds now (without waiting), cut into messages and
    /// queued in `env.events`; how many were queued. Nothing while the task reads (it queues).
    pub(crate) fn fill(&self, env: &Env<'_>) -> usize {
        let mut st = match self.st.try_lock() {
            Ok(g) => g,
            Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner(),
            Err(std::sync::TryLockError::WouldBlock) => return 0,
        };
        let fd = self.fd();
        if fd < 0 || st.end.is_some() {
            return 0;
        }
        let env = Env {
            id: self.id,
            ..*env
        };
        let before = env.counters.msgs_in.load(Ordering::Relaxed);
        let SideState { rs, end } = &mut *st;
        let got = |env: &Env<'_>| (env.counters.msgs_in.load(Ordering::Relaxed) - before) as usize;
        if let Some(data) = rs.held.take() {
            // A message that waited for room, and the whole frames behind it: first, within
            // the bound; no read until they are all queued.
            let ev = Event::Message {
                client: self.id,
                data: data.clone(),
            };
            if !env.events.try_push_now(ev) {
                rs.held = Some(data);
                return 0;
            }
            self.take_pend(rs, end, &env);
            // (The held message was counted when it was cut.)
            return 1 + got(&env);
        }
        let want = rs.decoder.needed(&rs.pend).clamp(rs.chunk, 1 << 20);
        if rs.pend.capacity() - rs.pend.len() < MIN_READ.max(rs.chunk / 4) {
            rs.pend.reserve(want);
        }
        let spare = rs.pend.spare_capacity_mut();
        let room = spare.len();
        // SAFETY: reads into the spare capacity of `pend`, `spare.len()` bytes.
        let n = unsafe {
            libc::recv(
                fd,
                spare.as_mut_ptr().cast(),
                spare.len(),
                libc::MSG_DONTWAIT,
            )
        };
        match n {
            n if n > 0 => {
                let n = n as usize;
                // SAFETY: recv initialised the first n bytes of the spare capacity.
                unsafe { rs.pend.set_len(rs.pend.len() + n) };
                if n == room && rs.chunk < MAX_SIDE_READ {
                    rs.chunk *= 2;
                }
                note_read(n, &env, &mut None);
                self.take_pend(rs, end, &env);
            }
            0 => {
                *end = Some(SideEnd::Eof);
                self.ended();
            }
            _ => {
                let e = std::io::Error::last_os_error();
                if !matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::Interrupted
                ) {
                    *end = Some(SideEnd::Io(e));
                    self.ended();
                }
            }
        }
        got(&env)
    }

    /// Queue the whole frames in `rs.pend` that have room. A message left waiting for room
    /// (`held`) is the connection task's to deliver (it registers for room): woken for it.
    fn take_pend(&self, rs: &mut ReadState, end: &mut Option<SideEnd>, env: &Env<'_>) {
        let mut pend = std::mem::take(&mut rs.pend);
        let r = rs.take_frames(&mut pend, None, env, &mut None);
        rs.pend = pend;
        if let Err(reason) = r {
            // A frame too large, or a framing error: the task ends the connection.
            *end = Some(SideEnd::Framing(reason));
            self.ended();
        } else if rs.held.is_some() {
            self.wake_task();
        }
    }

    fn wake_task(&self) {
        if let Some(w) = self.task.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
            w.wake_by_ref();
        }
    }

    /// A consumer read the end: consumers wait on the queue from now on, and the task reports it.
    fn ended(&self) {
        self.withdraw();
        self.wake_task();
    }
}

fn closed() -> DisconnectReason {
    DisconnectReason::Closed
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
                if let Some(p) = &cfg.ping {
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

impl Conn {
    /// A connection on `stream`, bound to `sq` for direct writes from now on. Its owner must
    /// call [`SendQueue::detach`] before dropping it (before the socket closes).
    /// With `side`, waiting consumers share the read side (see [`ReadSide`]).
    pub(crate) fn start(
        stream: AnyStream,
        cfg: &LinkCfg,
        sq: &SendQueue,
        side: Option<Arc<ReadSide>>,
    ) -> Conn {
        sq.attach(stream.raw_fd());
        let live = cfg.tick_period().map(|p| {
            let now = now_ms();
            Box::new(Liveness {
                last_rx: now,
                last_app_rx: now,
                last_ping: now,
                timer: Box::pin(tokio::time::sleep(p)),
                period: p,
            })
        });
        Conn {
            stream,
            rd: match side {
                Some(side) => Reader::Shared(side),
                None => Reader::Own(ReadState::new(&cfg.framing)),
            },
            aside: None,
            seen_drives: 0,
            out: VecDeque::new(),
            live,
            stopping: None,
            waker_id: 0,
            sync_next: true,
        }
    }
}

/// Run one connection until it ends; returns why. `Connected` has been queued by the caller;
/// the caller queues `Disconnected`. With `side`, waiting consumers may read the connection
/// themselves (see [`ReadSide`]).
pub(crate) async fn run_conn(
    stream: AnyStream,
    env: Env<'_>,
    side: Option<Arc<ReadSide>>,
) -> DisconnectReason {
    struct Detach<'a>(&'a SendQueue, Option<Arc<ReadSide>>);
    impl Drop for Detach<'_> {
        fn drop(&mut self) {
            if let Some(side) = &self.1 {
                side.close();
            }
            self.0.detach();
        }
    }
    let mut conn = Conn::start(stream, env.cfg, env.sq, side.clone());
    // Declared after `conn`, so dropped (detaching) before it, also when cancelled.
    let _detach = Detach(env.sq, side);
    std::future::poll_fn(|cx| conn.poll_guarded(cx, &env)).await
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
        let deadline = crate::wait::instant_after(t);
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
