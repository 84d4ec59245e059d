//! One live connection of the engine (server side or client side): the reader, the writer, the
//! send queue, heartbeat and idle timeout. Shared by [`Server`](super::Server) and
//! [`Client`](super::Client).
//!
//! Cost model (what keeps a round trip cheap and an idle connection small):
//! - A connection is one task driving one hand-written state machine ([`Conn`]): no split
//!   halves, no per-connection channels, no boxed futures unless a timer is configured.
//! - Reads go into a per-thread scratch block ([`SCRATCH`]); messages are cut out of it without
//!   copying, and a connection keeps a buffer of its own only while it holds a partial frame.
//!   An idle connection holds no read buffer.
//! - A send from any thread writes straight to the socket when nothing is queued before it
//!   (non-blocking, under the send queue's lock so order holds); only what the socket does not
//!   take is queued for the connection's task, which is then woken.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::Future;
use std::io::IoSlice;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::task::{ready, Context, Poll, Waker};
use std::time::{Duration, Instant};

use bytes::{Buf, Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Sleep;

use super::codec::encode_frame;
use super::events::{ClientId, DisconnectReason, Event, EventQueue, TryPush};
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
    pong: Option<Bytes>,
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
    fn tick_period(&self) -> Option<Duration> {
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

/// A request to end the connection.
#[derive(Debug, Clone)]
pub(crate) struct Stop {
    pub reason: DisconnectReason,
    /// Deliver what is queued, then FIN.
    pub graceful: bool,
    /// Give up flushing at this time.
    pub deadline: Option<tokio::time::Instant>,
}

/// Who is writing to the socket now (at most one, so frames keep their order).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Writer {
    /// Nobody: the next frame may be written directly by its sender.
    Idle,
    /// The connection task holds frames taken from `frames` that it has not finished writing.
    Task,
    /// A sender is writing its frame directly (without the lock); frames queued meanwhile
    /// wait, and the sender hands any unwritten rest back to the front of the queue.
    Direct,
}

struct SqState {
    frames: VecDeque<Bytes>,
    bytes: usize,
    stop: Option<Box<Stop>>,
    /// The live connection's socket while its task runs (-1: none), for direct writes. Cleared
    /// by [`SendQueue::detach`], which waits for a direct write in flight, before the socket
    /// is closed: a direct write never reaches a reused descriptor.
    fd: i32,
    writer: Writer,
    /// The connection task, woken for new frames and stop requests.
    waker: Option<Waker>,
    /// The front frame is the rest of a frame whose start a direct write sent on the live
    /// connection: it belongs to that connection only (see [`SendQueue::detach`]).
    front_partial: bool,
}

/// Why a push was refused.
pub(crate) enum PushError {
    /// Over the byte bound.
    Full,
    /// The frame alone is larger than the bound: it could never be queued.
    TooLarge {
        /// The frame's length.
        len: usize,
        /// The queue's bound.
        cap: usize,
    },
    /// The connection is stopping.
    Stopped,
}

/// A per-connection (server) or per-client (client, kept across reconnects) send queue of
/// encoded frames, bounded in bytes.
pub(crate) struct SendQueue {
    st: Mutex<SqState>,
    /// Signalled when a direct write ends while `detach` waits for it.
    direct_done: Condvar,
    /// Signalled when queued bytes leave the queue (or it stops) while senders wait for room.
    room: Condvar,
    /// Senders waiting on `room` (no notification is paid while there are none).
    room_waiters: AtomicUsize,
    /// Something the task must look at changed (frames queued for it, a stop request, a
    /// direct write that ended with a rest): a hint that spares the task the lock otherwise.
    dirty: AtomicBool,
    cap: usize,
    /// Note the time of application pushes (idle mode `ReadsAndWrites`).
    track_push: bool,
    /// Time of the last application frame queued (for idle mode ReadsAndWrites).
    last_app_push: AtomicU64,
    counters: Arc<Counters>,
}

impl PushError {
    /// The error a sender gets for a frame larger than the whole queue.
    pub(crate) fn too_large(len: usize, cap: usize) -> Error {
        Error::FrameTooLarge {
            len: len as u64,
            max: cap as u64,
        }
    }
}

impl SendQueue {
    pub(crate) fn new(cap: usize, track_push: bool, counters: Arc<Counters>) -> SendQueue {
        SendQueue {
            st: Mutex::new(SqState {
                frames: VecDeque::new(),
                bytes: 0,
                stop: None,
                fd: -1,
                writer: Writer::Idle,
                waker: None,
                front_partial: false,
            }),
            direct_done: Condvar::new(),
            room: Condvar::new(),
            room_waiters: AtomicUsize::new(0),
            dirty: AtomicBool::new(false),
            cap,
            track_push,
            last_app_push: AtomicU64::new(if track_push { now_ms() } else { 0 }),
            counters,
        }
    }

    fn lock(&self) -> MutexGuard<'_, SqState> {
        self.st.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Wait until a frame of `len` bytes fits the bound (or the queue stops, or `deadline`
    /// passes: `false`). Woken by the task taking frames, never polled; a thread with an
    /// interrupt check (Ctrl-C in Python) looks at it between slices.
    pub(crate) fn wait_room(&self, len: usize, deadline: Option<Instant>) -> Result<bool> {
        let check = crate::wait::interrupt_check();
        let mut st = self.lock();
        loop {
            if st.stop.is_some() || st.bytes + len <= self.cap || len > self.cap {
                return Ok(true);
            }
            let now = Instant::now();
            let mut wait = match deadline {
                Some(d) if d <= now => return Ok(false),
                Some(d) => d - now,
                None => Duration::from_secs(3600),
            };
            if check.is_some() {
                wait = wait.min(crate::wait::INTERRUPT_SLICE);
            }
            self.room_waiters.fetch_add(1, Ordering::SeqCst);
            st = self
                .room
                .wait_timeout(st, wait)
                .unwrap_or_else(|p| p.into_inner())
                .0;
            self.room_waiters.fetch_sub(1, Ordering::SeqCst);
            if let Some(c) = check {
                if c() {
                    return Err(Error::Interrupted {
                        op: "send (waiting for room in the send queue)".into(),
                    });
                }
            }
        }
    }

    /// Wake senders waiting for room (call with the lock held, after the bytes went down).
    fn room_made(&self) {
        if self.room_waiters.load(Ordering::SeqCst) > 0 {
            self.room.notify_all();
        }
    }

    /// Queue an encoded frame (or write it at once). `force` ignores the bound (heartbeats).
    pub(crate) fn push(&self, frame: Bytes, force: bool) -> std::result::Result<(), PushError> {
        self.push_inner(&[&frame[..], &[], &[]], Some(&frame), force)
    }

    /// Queue (or write at once) a frame given as its encoded parts (see [`with_frame`]),
    /// copying only what has to wait in the queue.
    pub(crate) fn push_parts(
        &self,
        parts: &[&[u8]; 3],
        force: bool,
    ) -> std::result::Result<(), PushError> {
        self.push_inner(parts, None, force)
    }

    fn push_inner(
        &self,
        parts: &[&[u8]; 3],
        owned: Option<&Bytes>,
        force: bool,
    ) -> std::result::Result<(), PushError> {
        let len: usize = parts.iter().map(|p| p.len()).sum();
        let mut st = self.lock();
        if st.stop.is_some() {
            return Err(PushError::Stopped);
        }
        if !force && st.bytes + len > self.cap {
            return Err(if len > self.cap {
                PushError::TooLarge { len, cap: self.cap }
            } else {
                PushError::Full
            });
        }
        if self.track_push && !force {
            self.last_app_push.store(now_ms(), Ordering::Relaxed);
        }
        if st.fd >= 0 && st.writer == Writer::Idle && st.frames.is_empty() {
            // Nothing is ahead of this frame: write it now, without holding the lock (the
            // connection's task may want it meanwhile). A failure (or a full socket) is left to
            // the task, whose own write then sees it.
            st.writer = Writer::Direct;
            let fd = st.fd;
            drop(st);
            let written = direct_send(fd, parts).unwrap_or(0);
            if written > 0 {
                self.counters
                    .bytes_out
                    .fetch_add(written as u64, Ordering::Relaxed);
            }
            let mut st = self.lock();
            st.writer = Writer::Idle;
            if written == len {
                self.counters.msgs_out.fetch_add(1, Ordering::Relaxed);
            } else {
                // The rest goes first: frames queued meanwhile came after it.
                let rest = rest_of(parts, owned, written);
                st.bytes += rest.len();
                self.counters
                    .queued_bytes
                    .fetch_add(rest.len() as u64, Ordering::Relaxed);
                st.frames.push_front(rest);
                st.front_partial = true;
            }
            if st.fd < 0 {
                // `detach` is waiting for this write to end.
                self.direct_done.notify_all();
            }
            let w = if !st.frames.is_empty() || st.stop.is_some() {
                st.waker.clone()
            } else {
                None
            };
            drop(st);
            self.wake(w);
            return Ok(());
        }
        let rest = rest_of(parts, owned, 0);
        st.bytes += rest.len();
        self.counters
            .queued_bytes
            .fetch_add(rest.len() as u64, Ordering::Relaxed);
        st.frames.push_back(rest);
        // A task busy writing takes the queue when it is done, a direct writer wakes it when
        // done; an idle one is woken now.
        let w = if st.writer == Writer::Idle {
            st.waker.clone()
        } else {
            None
        };
        drop(st);
        self.wake(w);
        Ok(())
    }

    fn wake(&self, w: Option<Waker>) {
        if let Some(w) = w {
            self.dirty.store(true, Ordering::Release);
            w.wake();
        }
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
            None => st.stop = Some(Box::new(stop)),
        }
        self.room_made();
        let w = st.waker.clone();
        drop(st);
        self.wake(w);
    }

    pub(crate) fn stop_requested(&self) -> Option<Stop> {
        self.lock().stop.as_deref().cloned()
    }

    /// Drop everything queued (the connection is gone for good).
    pub(crate) fn clear(&self) {
        let mut st = self.lock();
        self.counters
            .queued_bytes
            .fetch_sub(st.bytes as u64, Ordering::Relaxed);
        st.bytes = 0;
        st.frames = VecDeque::new();
        st.front_partial = false;
        self.room_made();
    }

    /// A connection starts: direct writes may use `fd` from now on.
    fn attach(&self, fd: i32) {
        let mut st = self.lock();
        st.fd = if DIRECT_WRITES { fd } else { -1 };
        st.writer = Writer::Idle;
    }

    /// The connection ends (call before its socket is closed): no direct write may start, and
    /// one in flight is waited for (it is non-blocking: microseconds).
    pub(crate) fn detach(&self) {
        let mut st = self.lock();
        st.fd = -1;
        while st.writer == Writer::Direct {
            st = self.direct_done.wait(st).unwrap_or_else(|p| p.into_inner());
        }
        if std::mem::take(&mut st.front_partial) {
            // The rest of a frame begun on the connection that ended: sent on the next one (a
            // client's queue outlives its connections) it would start the new stream in the
            // middle of a frame. It is lost with the connection, like the frames in flight.
            if let Some(rest) = st.frames.pop_front() {
                st.bytes -= rest.len();
                self.counters
                    .queued_bytes
                    .fetch_sub(rest.len() as u64, Ordering::Relaxed);
                self.room_made();
            }
        }
        st.writer = Writer::Idle;
        st.waker = None;
    }

    /// True if something changed that the task must [`sync`](SendQueue::sync) for (and clear
    /// the hint).
    fn take_dirty(&self) -> bool {
        self.dirty.load(Ordering::Relaxed) && self.dirty.swap(false, Ordering::Acquire)
    }

    /// The connection task's look at the queue: register its waker, hand it the queued frames
    /// when it has finished the previous ones (`out` empty), and return the stop request and
    /// whether a direct write is in flight.
    fn sync(&self, cx: &Context<'_>, out: &mut VecDeque<Bytes>) -> (Option<Stop>, bool) {
        let mut st = self.lock();
        if !st.waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            st.waker = Some(cx.waker().clone());
        }
        if out.is_empty() && st.writer != Writer::Direct {
            if !st.frames.is_empty() {
                std::mem::swap(&mut st.frames, out);
                st.front_partial = false;
                self.counters
                    .queued_bytes
                    .fetch_sub(st.bytes as u64, Ordering::Relaxed);
                st.bytes = 0;
                self.room_made();
            }
            st.writer = if out.is_empty() {
                Writer::Idle
            } else {
                Writer::Task
            };
        }
        (st.stop.as_deref().cloned(), st.writer == Writer::Direct)
    }
}

/// The part of a frame not yet written, as one buffer (`owned`: the frame itself, when the
/// caller has it as one).
fn rest_of(parts: &[&[u8]; 3], owned: Option<&Bytes>, written: usize) -> Bytes {
    if let Some(b) = owned {
        return b.slice(written..);
    }
    let len: usize = parts.iter().map(|p| p.len()).sum();
    let mut b = BytesMut::with_capacity(len - written);
    let mut skip = written;
    for p in parts {
        let k = skip.min(p.len());
        b.extend_from_slice(&p[k..]);
        skip -= k;
    }
    b.freeze()
}

/// Direct writes from the sender's thread need `MSG_NOSIGNAL` (a closed peer must not raise
/// SIGPIPE in the host program); elsewhere every frame goes through the connection's task.
const DIRECT_WRITES: bool = cfg!(any(target_os = "linux", target_os = "android"));

/// One non-blocking `send`/`sendmsg` of `parts` on `fd`: bytes written (0 when the socket is
/// full).
#[cfg(any(target_os = "linux", target_os = "android"))]
fn direct_send(fd: i32, parts: &[&[u8]; 3]) -> std::io::Result<usize> {
    let mut iov = [libc::iovec {
        iov_base: std::ptr::null_mut(),
        iov_len: 0,
    }; 3];
    let mut n = 0;
    for p in parts.iter().filter(|p| !p.is_empty()) {
        iov[n] = libc::iovec {
            iov_base: p.as_ptr() as *mut libc::c_void,
            iov_len: p.len(),
        };
        n += 1;
    }
    if n == 0 {
        return Ok(0);
    }
    let flags = libc::MSG_NOSIGNAL | libc::MSG_DONTWAIT;
    loop {
        // SAFETY: the iovecs point into live slices borrowed for this call; `fd` is the
        // connection's socket, kept open while the send queue's lock (held by our caller)
        // says it is attached.
        let r = unsafe {
            if n == 1 {
                libc::send(fd, iov[0].iov_base, iov[0].iov_len, flags)
            } else {
                let mut msg: libc::msghdr = std::mem::zeroed();
                msg.msg_iov = iov.as_mut_ptr();
                msg.msg_iovlen = n as _;
                libc::sendmsg(fd, &msg, flags)
            }
        };
        if r >= 0 {
            return Ok(r as usize);
        }
        let e = std::io::Error::last_os_error();
        match e.kind() {
            std::io::ErrorKind::Interrupted => continue,
            std::io::ErrorKind::WouldBlock => return Ok(0),
            _ => return Err(e),
        }
    }
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn direct_send(_fd: i32, _parts: &[&[u8]; 3]) -> std::io::Result<usize> {
    Ok(0)
}

/// Size of the per-thread read block.
const SCRATCH_BLOCK: usize = 64 * 1024;
/// A read into less room than this takes a fresh block.
const MIN_READ: usize = 4 * 1024;

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

/// Frames written per `writev`.
const MAX_IOV: usize = 64;

/// One connection's state machine (see the module docs).
pub(crate) struct Conn {
    stream: AnyStream,
    decoder: Decoder,
    /// A partial frame (empty, without allocation, between frames).
    pend: BytesMut,
    /// A message waiting for room in the event queue (reading stops meanwhile).
    held: Option<Bytes>,
    /// Registration for room in the event queue.
    room: u64,
    /// Frames taken from the send queue, being written.
    out: VecDeque<Bytes>,
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
                if let Some(data) = self.held.take() {
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
                self.pend = BytesMut::new();
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
            while self.out.front().is_some_and(|f| f.is_empty()) {
                self.out.pop_front();
                env.counters.msgs_out.fetch_add(1, Ordering::Relaxed);
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
                iov[n] = IoSlice::new(f);
                n += 1;
            }
            let w = ready!(Pin::new(&mut self.stream).poll_write_vectored(cx, &iov[..n]))?;
            if w == 0 {
                return Poll::Ready(Err(std::io::ErrorKind::WriteZero.into()));
            }
            env.counters
                .bytes_out
                .fetch_add(w as u64, Ordering::Relaxed);
            let mut left = w;
            let mut done = 0u64;
            while left > 0 {
                let f = self
                    .out
                    .front_mut()
                    .expect("written bytes belong to frames");
                if f.len() <= left {
                    left -= f.len();
                    self.out.pop_front();
                    done += 1;
                } else {
                    f.advance(left);
                    left = 0;
                }
            }
            env.counters.msgs_out.fetch_add(done, Ordering::Relaxed);
        }
    }

    /// Deliver a waiting message, or read and deliver what arrived. Ready(Ok) on progress.
    fn poll_read_side(
        &mut self,
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
            if let Some(l) = &mut self.live {
                l.last_rx = now_ms();
                l.last_app_rx = l.last_rx;
            }
            // Whole frames that arrived with it.
            let mut pend = std::mem::take(&mut self.pend);
            let r = self.take_frames(&mut pend, cx, env);
            self.pend = pend;
            self.release_pend();
            r?;
            return Poll::Ready(Ok(()));
        }
        let n = if self.pend.is_empty() {
            let mut data = match ready!(poll_read_scratch(&mut self.stream, cx, true)) {
                Ok((_, d)) => d,
                Err(e) => return Poll::Ready(Err(self.stream.reason(&e))),
            };
            let n = data.len();
            if n > 0 {
                self.note_read(n, env);
                let r = self.take_frames(&mut data, cx, env);
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
            let n = match ready!(poll_read_into(&mut self.stream, cx, &mut self.pend, want)) {
                Ok(n) => n,
                Err(e) => return Poll::Ready(Err(self.stream.reason(&e))),
            };
            if n > 0 {
                self.note_read(n, env);
                let mut pend = std::mem::take(&mut self.pend);
                let r = self.take_frames(&mut pend, cx, env);
                self.pend = pend;
                self.release_pend();
                r?;
            }
            n
        };
        if n == 0 {
            return Poll::Ready(Err(DisconnectReason::PeerClosed));
        }
        Poll::Ready(Ok(()))
    }

    fn note_read(&mut self, n: usize, env: &Env<'_>) {
        env.counters.bytes_in.fetch_add(n as u64, Ordering::Relaxed);
        if let Some(l) = &mut self.live {
            l.last_rx = now_ms();
        }
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
        cx: &mut Context<'_>,
        env: &Env<'_>,
    ) -> Result<(), DisconnectReason> {
        while self.held.is_none() {
            let next = self.decoder.decode(buf);
            let frame = match next {
                Ok(Some(f)) => f,
                Ok(None) => break,
                Err(Error::FrameTooLarge { .. }) => return Err(DisconnectReason::FrameTooLarge),
                Err(e) => return Err(DisconnectReason::Error(e.kind(), e.to_string())),
            };
            if let Some(h) = &env.cfg.heartbeat {
                if frame == h.ping {
                    if let Some(p) = &env.cfg.pong {
                        let _ = env.sq.push(p.clone(), true);
                    }
                    continue;
                }
                if frame == h.pong {
                    continue;
                }
            }
            if let Some(l) = &mut self.live {
                l.last_app_rx = now_ms();
                l.last_rx = l.last_app_rx;
            }
            env.counters.msgs_in.fetch_add(1, Ordering::Relaxed);
            let ev = Event::Message {
                client: env.id,
                data: frame,
            };
            match env.events.try_push(ev, cx, &mut self.room) {
                TryPush::Pushed => {}
                TryPush::Full(Event::Message { data, .. }) => self.held = Some(data),
                TryPush::Full(_) | TryPush::Closed => return Err(closed()),
            }
        }
        Ok(())
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
    pub(crate) fn start(stream: AnyStream, cfg: &LinkCfg, sq: &SendQueue) -> Conn {
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
            decoder: Decoder::new(cfg.framing.clone()),
            pend: BytesMut::new(),
            held: None,
            room: 0,
            out: VecDeque::new(),
            live,
            stopping: None,
            waker_id: 0,
            sync_next: true,
        }
    }
}

/// Run one connection until it ends; returns why. `Connected` has been queued by the caller;
/// the caller queues `Disconnected`.
pub(crate) async fn run_conn(stream: AnyStream, env: Env<'_>) -> DisconnectReason {
    struct Detach<'a>(&'a SendQueue);
    impl Drop for Detach<'_> {
        fn drop(&mut self) {
            self.0.detach();
        }
    }
    let mut conn = Conn::start(stream, env.cfg, env.sq);
    // Declared after `conn`, so dropped (detaching) before it, also when cancelled.
    let _detach = Detach(env.sq);
    std::future::poll_fn(|cx| conn.poll_guarded(cx, &env)).await
}

/// A connected stream: TCP, Unix, or TLS over either.
pub(crate) enum AnyStream {
    Tcp(tokio::net::TcpStream),
    Unix(tokio::net::UnixStream),
    /// TLS (client or server side) over a TCP or Unix stream, after its handshake.
    Tls(Box<tokio_rustls::TlsStream<AnyStream>>),
}

/// Dispatch a poll method to the stream inside.
macro_rules! each_stream {
    ($self:expr, $s:ident => $e:expr) => {
        match $self.get_mut() {
            AnyStream::Tcp($s) => $e,
            AnyStream::Unix($s) => $e,
            AnyStream::Tls($s) => $e,
        }
    };
}

impl AnyStream {
    /// The descriptor for direct writes, or -1 when bytes may not go straight to the socket
    /// (TLS: every byte goes through the session, written by the connection's task).
    fn raw_fd(&self) -> i32 {
        use std::os::fd::AsRawFd;
        match self {
            AnyStream::Tcp(s) => s.as_raw_fd(),
            AnyStream::Unix(s) => s.as_raw_fd(),
            AnyStream::Tls(_) => -1,
        }
    }

    /// TLS records are waiting in the session for room in the socket (a flush is owed).
    fn wants_write(&self) -> bool {
        match self {
            AnyStream::Tls(t) => t.get_ref().1.wants_write(),
            _ => false,
        }
    }

    /// What the TLS handshake agreed on (None for a plain stream).
    pub(crate) fn tls_info(&self) -> Option<crate::TlsInfo> {
        match self {
            AnyStream::Tls(t) => Some(match &**t {
                tokio_rustls::TlsStream::Client(c) => crate::TlsInfo::of(&**c.get_ref().1),
                tokio_rustls::TlsStream::Server(c) => crate::TlsInfo::of(&**c.get_ref().1),
            }),
            _ => None,
        }
    }

    /// The reason an I/O error ends the connection. On TLS, an early end of stream is a peer
    /// that closed without `close_notify` (a truncation), and a TLS failure keeps its reason.
    fn reason(&self, e: &std::io::Error) -> DisconnectReason {
        if let AnyStream::Tls(_) = self {
            if e.kind() == std::io::ErrorKind::UnexpectedEof {
                return DisconnectReason::Tls(
                    "the peer closed the connection without close_notify (the data may be \
                     truncated)"
                        .into(),
                );
            }
            if let Some(t) = e.get_ref().and_then(|r| r.downcast_ref::<rustls::Error>()) {
                return DisconnectReason::from_error(&crate::tls::tls_error("TLS connection", t));
            }
        }
        DisconnectReason::from_io(e)
    }
}

impl AsyncRead for AnyStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        each_stream!(self, s => Pin::new(s).poll_read(cx, buf))
    }
}

impl AsyncWrite for AnyStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        each_stream!(self, s => Pin::new(s).poll_write(cx, buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        each_stream!(self, s => Pin::new(s).poll_write_vectored(cx, bufs))
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        each_stream!(self, s => Pin::new(s).poll_flush(cx))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        each_stream!(self, s => Pin::new(s).poll_shutdown(cx))
    }
}

/// The error for a TLS handshake that failed with `e` (its TLS reason when it has one).
pub(crate) fn tls_io_error(op: &str, e: &std::io::Error) -> Error {
    if let Some(t) = e.get_ref().and_then(|r| r.downcast_ref::<rustls::Error>()) {
        return crate::tls::tls_error(op, t);
    }
    if e.kind() == std::io::ErrorKind::UnexpectedEof {
        return Error::Tls(format!(
            "{}: the peer closed the connection during the handshake (a plaintext peer, or it \
             refused us?)",
            op.trim_start_matches("TLS ")
        ));
    }
    Error::os(op.to_string(), std::io::Error::new(e.kind(), e.to_string()))
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The rest of a frame that a direct write began on a connection never goes out on the next
    /// one: detaching drops it, and only it.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    #[test]
    fn a_partly_written_frame_does_not_outlive_its_connection() {
        let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
        a.set_nonblocking(true).unwrap();
        let sq = SendQueue::new(64 << 20, false, Arc::new(Counters::default()));
        use std::os::fd::AsRawFd;
        sq.attach(a.as_raw_fd());
        // Far more than the socket buffers take: the direct write sends a part, queues the rest.
        let big = Bytes::from(vec![7u8; 8 << 20]);
        assert!(sq.push(big.clone(), false).is_ok());
        let rest = sq.queued();
        assert!(rest > 0 && rest < big.len(), "rest {rest}");
        // A whole frame queued behind it stays.
        assert!(sq.push(Bytes::from_static(b"whole"), false).is_ok());
        sq.detach();
        assert_eq!(sq.queued(), 5);
        assert_eq!(
            sq.lock().frames.front().map(|f| &f[..]),
            Some(&b"whole"[..])
        );
    }
}
