//! The send queue of one engine connection (or of a client, kept across reconnects): encoded
//! frames bounded in bytes, a wait for room, stop requests, and direct writes from the
//! sender's thread when nothing is queued before a frame.

use std::collections::VecDeque;
use std::io::IoSlice;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::task::{Context, Waker};
use std::time::{Duration, Instant};

use bytes::{Buf, Bytes, BytesMut};

use super::codec::{EncodedBatch, GROUP_BYTES};
use super::events::DisconnectReason;
use super::link::{now_ms, Counters};
use crate::error::{Error, Result};

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

/// A send-queue entry: bytes to write and how many messages end in them, counted as sent once
/// all its bytes are written. One frame, the rest of a frame, or a batch's run of whole frames
/// (up to [`GROUP_BYTES`]: one iovec, however many messages it holds).
#[derive(Debug, Clone)]
pub(crate) struct Chunk {
    pub(crate) data: Bytes,
    pub(crate) msgs: u32,
}

impl Chunk {
    /// One frame (or the rest of one).
    pub(crate) fn one(data: Bytes) -> Chunk {
        Chunk { data, msgs: 1 }
    }

    pub(crate) fn len(&self) -> usize {
        self.data.len()
    }
}

/// The messages in `q`.
pub(crate) fn msgs_in(q: &VecDeque<Chunk>) -> usize {
    q.iter().map(|c| c.msgs as usize).sum()
}

/// A writer's view of the entries it took from the queue (the epoll and io_uring writers):
/// before a write, drop the empty entries at the front (empty frames, e.g. a `Raw` empty
/// message, are sent as soon as they are reached); after one, drop the bytes it took. Both
/// return the messages that were thereby sent.
pub(crate) fn skip_empty(out: &mut VecDeque<Chunk>) -> u64 {
    let mut sent = 0;
    while let Some(f) = out.front().filter(|f| f.data.is_empty()) {
        sent += f.msgs as u64;
        out.pop_front();
    }
    sent
}

/// See [`skip_empty`]: drop the `written` bytes at the front of `out`.
pub(crate) fn consume(out: &mut VecDeque<Chunk>, written: usize) -> u64 {
    let (mut left, mut sent) = (written, 0);
    while left > 0 {
        let Some(f) = out.front_mut() else {
            break;
        };
        if f.len() <= left {
            left -= f.len();
            sent += f.msgs as u64;
            out.pop_front();
        } else {
            f.data.advance(left);
            left = 0;
        }
    }
    sent
}

struct SqState {
    frames: VecDeque<Chunk>,
    bytes: usize,
    /// Bytes of a batch a sender is writing directly (see `try_direct_batch`): they count
    /// against the bound until the write ends, when what the socket did not take is queued.
    direct_bytes: usize,
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

impl SqState {
    /// Bytes counted against the bound: queued, plus a direct batch write in flight.
    fn used(&self) -> usize {
        self.bytes + self.direct_bytes
    }
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
    pub(crate) last_app_push: AtomicU64,
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
                direct_bytes: 0,
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

    /// The longest run of a batch's whole frames queued as one entry: never more than the
    /// bound, so a run that waits for room can get it.
    fn group(&self) -> usize {
        GROUP_BYTES.min(self.cap)
    }

    fn lock(&self) -> MutexGuard<'_, SqState> {
        self.st.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Wait until a frame of `len` bytes fits the bound (or the queue stops, or `deadline`
    /// passes: `false`). Woken by the task taking frames, never polled; a thread with an
    /// interrupt check (Ctrl-C in Python) looks at it between slices.
    pub(crate) fn wait_room(&self, len: usize, deadline: Option<Instant>) -> Result<bool> {
        self.wait_room_below(len, self.cap, deadline)
    }

    /// [`wait_room`](SendQueue::wait_room) for room under `limit` (at most the bound), or an
    /// empty queue.
    fn wait_room_below(&self, len: usize, limit: usize, deadline: Option<Instant>) -> Result<bool> {
        let check = crate::wait::interrupt_check();
        let mut st = self.lock();
        loop {
            if st.stop.is_some() || st.used() + len <= limit || st.used() == 0 || len > self.cap {
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
    pub(crate) fn room_made(&self) {
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

    /// Queue the frames at the front of `frames`, in order, while they fit (one lock, one
    /// wake-up of the connection's task, which writes them with `writev`); returns how many
    /// were taken. The rest stay in `frames` for after [`wait_room`](SendQueue::wait_room).
    /// The caller has checked that no frame exceeds the bound on its own.
    pub(crate) fn push_batch(
        &self,
        frames: &mut VecDeque<Chunk>,
        limit: usize,
    ) -> std::result::Result<usize, PushError> {
        let mut st = self.lock();
        if st.stop.is_some() {
            return Err(PushError::Stopped);
        }
        let (mut n, mut added) = (0, 0);
        while let Some(f) = frames.front() {
            // Under `limit`; a frame larger than it (never than the bound) goes into an empty
            // queue.
            let used = st.used();
            if used + f.len() > limit && (used > 0 || f.len() > self.cap) {
                break;
            }
            let f = frames.pop_front().expect("a front frame");
            st.bytes += f.len();
            added += f.len();
            st.frames.push_back(f);
            n += 1;
        }
        if n == 0 {
            return Ok(0);
        }
        if self.track_push {
            self.last_app_push.store(now_ms(), Ordering::Relaxed);
        }
        self.counters
            .queued_bytes
            .fetch_add(added as u64, Ordering::Relaxed);
        let w = if st.writer == Writer::Idle {
            st.waker.clone()
        } else {
            None
        };
        drop(st);
        self.wake(w);
        Ok(n)
    }

    /// Queue a batch's frames in order, waiting for room (up to `deadline`) whenever the queue
    /// is full: how many were queued before the time ran out (`Ok` with fewer than all), or the
    /// push error that stopped it. When nothing is queued or being written and the whole batch
    /// fits the bound, the sender's thread writes it first, as one piece (no hand-off to the
    /// connection's task, one iovec for the kernel to copy); only what the socket does not
    /// take is queued, ahead of anything queued meanwhile.
    pub(crate) fn push_all(
        &self,
        batch: EncodedBatch,
        deadline: Option<Instant>,
    ) -> std::result::Result<usize, (usize, PushError)> {
        let total = batch.ends.len();
        let batch = match self.try_direct_batch(batch) {
            Ok(r) => return r.map(|()| total).map_err(|e| (0, e)),
            Err(batch) => batch,
        };
        let mut frames = batch.queued_from(0, self.group());
        loop {
            // A sender that may still wait keeps the queue short: it waits once
            // `soft_limit()` bytes are queued rather than filling the whole bound, so the
            // frames in flight stay in cache and the socket, not the queue, holds the backlog
            // (a sender faster than its peer otherwise keeps megabytes queued: on one CPU the
            // framed echo ran 25-39 % slower with 4 MiB queued than with 256 KiB). When the
            // time is up, what fits the whole bound is queued as before.
            let can_wait = deadline.is_none_or(|d| Instant::now() < d);
            let limit = if can_wait {
                self.soft_limit()
            } else {
                self.cap
            };
            if let Err(e) = self.push_batch(&mut frames, limit) {
                return Err((total - msgs_in(&frames), e));
            }
            let Some(next) = frames.front() else {
                return Ok(total);
            };
            match self.wait_room_below(next.len(), limit, deadline) {
                Ok(true) => {}
                // The time is up: one more round queues what fits the whole bound.
                Ok(false) if limit < self.cap => {}
                _ => return Ok(total - msgs_in(&frames)),
            }
        }
    }

    /// How much a batch sender that may wait lets queue before it waits (see
    /// [`push_all`](SendQueue::push_all)): [`SOFT_LIMIT`], or the bound if smaller.
    fn soft_limit(&self) -> usize {
        SOFT_LIMIT.min(self.cap)
    }

    /// The direct path of [`push_all`](SendQueue::push_all): the batch back (`Err`) when it
    /// does not apply (something is queued or being written, no attached socket, or the batch
    /// does not fit the bound), otherwise the batch was written and/or queued whole. A batch
    /// written whole gives its buffers back to the thread for the next one.
    fn try_direct_batch(
        &self,
        batch: EncodedBatch,
    ) -> std::result::Result<std::result::Result<(), PushError>, EncodedBatch> {
        let len = batch.all.len();
        let mut st = self.lock();
        if st.stop.is_some() {
            return Ok(Err(PushError::Stopped));
        }
        if len == 0
            || st.fd < 0
            || st.writer != Writer::Idle
            || !st.frames.is_empty()
            || st.used() + len > self.cap
        {
            return Err(batch);
        }
        if self.track_push {
            self.last_app_push.store(now_ms(), Ordering::Relaxed);
        }
        // Reserve the batch's room while the lock is released, so pushes meanwhile keep the
        // bound counting what may come back.
        st.writer = Writer::Direct;
        st.direct_bytes = len;
        let fd = st.fd;
        drop(st);
        let written = direct_send(fd, &[&batch.all, &[], &[]]).unwrap_or(0);
        let whole = batch.ends.iter().take_while(|&&e| e <= written).count();
        if written > 0 {
            self.counters
                .bytes_out
                .fetch_add(written as u64, Ordering::Relaxed);
            self.counters
                .msgs_out
                .fetch_add(whole as u64, Ordering::Relaxed);
        }
        let mut st = self.lock();
        st.writer = Writer::Idle;
        st.direct_bytes = 0;
        if written > 0 {
            // Senders waiting for room see what the socket took.
            self.room_made();
        }
        if written < len {
            // The rest goes first, in order: frames queued meanwhile came after it.
            let first_start = if whole == 0 { 0 } else { batch.ends[whole - 1] };
            let rest = batch.queued_from(written, self.group());
            st.bytes += len - written;
            self.counters
                .queued_bytes
                .fetch_add((len - written) as u64, Ordering::Relaxed);
            for f in rest.into_iter().rev() {
                st.frames.push_front(f);
            }
            st.front_partial = written > first_start;
            self.direct_write_ended(st);
        } else {
            self.direct_write_ended(st);
            batch.recycle();
        }
        Ok(Ok(()))
    }

    /// After a direct write (the lock taken again, the writer back to idle): let a waiting
    /// `detach` go on, and wake the task if frames were left for it or a stop came meanwhile.
    fn direct_write_ended(&self, st: MutexGuard<'_, SqState>) {
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
        if !force && st.used() + len > self.cap {
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
                st.frames.push_front(Chunk::one(rest));
                st.front_partial = true;
            }
            self.direct_write_ended(st);
            return Ok(());
        }
        let rest = rest_of(parts, owned, 0);
        st.bytes += rest.len();
        self.counters
            .queued_bytes
            .fetch_add(rest.len() as u64, Ordering::Relaxed);
        st.frames.push_back(Chunk::one(rest));
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
    pub(crate) fn attach(&self, fd: i32) {
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
    pub(crate) fn take_dirty(&self) -> bool {
        self.dirty.load(Ordering::Relaxed) && self.dirty.swap(false, Ordering::Acquire)
    }

    /// The connection task's look at the queue: register its waker, hand it the queued frames
    /// when it has finished the previous ones (`out` empty), and return the stop request and
    /// whether a direct write is in flight.
    pub(crate) fn sync(&self, cx: &Context<'_>, out: &mut VecDeque<Chunk>) -> (Option<Stop>, bool) {
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

/// Queued bytes at which a batch sender that may wait starts waiting (see
/// [`SendQueue::push_all`]).
const SOFT_LIMIT: usize = 256 * 1024;

/// Direct writes from the sender's thread need `MSG_NOSIGNAL` (a closed peer must not raise
/// SIGPIPE in the host program); elsewhere every frame goes through the connection's task.
const DIRECT_WRITES: bool = cfg!(any(target_os = "linux", target_os = "android"));

/// One non-blocking `send`/`sendmsg` of `parts` on `fd`: bytes written (0 when the socket is
/// full).
#[cfg(any(target_os = "linux", target_os = "android"))]
fn direct_send(fd: i32, parts: &[&[u8]; 3]) -> std::io::Result<usize> {
    let mut iov = [IoSlice::new(&[]); 3];
    let mut n = 0;
    for p in parts.iter().filter(|p| !p.is_empty()) {
        iov[n] = IoSlice::new(p);
        n += 1;
    }
    if n == 0 {
        return Ok(0);
    }
    loop {
        // `fd` is the connection's socket, kept open while the send queue's lock (held by our
        // caller) says it is attached.
        match send_nosignal(fd, &iov[..n]) {
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return Ok(0),
            r => return r,
        }
    }
}

/// One `send` (one slice) or `sendmsg` of `bufs` on the socket `fd`, without waiting and
/// without SIGPIPE (a closed peer is an error, never a signal to the host program): the bytes
/// written, or the OS error as it came (`WouldBlock` when the socket is full).
#[cfg(any(target_os = "linux", target_os = "android"))]
pub(crate) fn send_nosignal(fd: i32, bufs: &[IoSlice<'_>]) -> std::io::Result<usize> {
    let flags = libc::MSG_NOSIGNAL | libc::MSG_DONTWAIT;
    // SAFETY: the slices are live for the call, and IoSlice is ABI-compatible with iovec; a
    // zeroed msghdr is valid.
    let r = unsafe {
        if let [one] = bufs {
            libc::send(fd, one.as_ptr().cast(), one.len(), flags)
        } else {
            let mut msg: libc::msghdr = std::mem::zeroed();
            msg.msg_iov = bufs.as_ptr() as *mut libc::iovec;
            msg.msg_iovlen = bufs.len().min(1024) as _;
            libc::sendmsg(fd, &msg, flags)
        }
    };
    if r < 0 {
        Err(std::io::Error::last_os_error())
    } else {
        Ok(r as usize)
    }
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn direct_send(_fd: i32, _parts: &[&[u8]; 3]) -> std::io::Result<usize> {
    Ok(0)
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
            sq.lock().frames.front().map(|f| &f.data[..]),
            Some(&b"whole"[..])
        );
    }
}
