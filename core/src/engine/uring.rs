//! The io_uring backend of the plaintext TCP [`Server`](super::Server) (Linux).
//!
//! One driver thread per server owns a ring and does all of the server's socket work through
//! it, with the same client table, send queues, counters and event queue as the tokio path
//! (so every `Server` method, event and stat means the same on both):
//! - **accept**: one multishot accept; each new socket gets the per-connection options, an id
//!   and its `Connected` event (taking room in the event queue first, as the tokio path does:
//!   when the queue is full, accepting pauses and newcomers wait in the backlog).
//! - **receive**: one multishot receive per connection, filling buffers from a provided buffer
//!   ring shared by all connections (an idle connection holds no read buffer). Each completion's
//!   bytes are copied once into a block that messages are cut from with the engine's decoder
//!   (so a message is the same `Bytes` as on the tokio path); the buffer goes back to the ring
//!   at once. A full event queue pauses the connection's receive (it is cancelled, and armed
//!   again when room frees up): TCP flow control then slows the peer.
//! - **send**: senders never write to the socket: a frame is queued and the driver is woken
//!   (one `eventfd` write per idle-to-busy transition of the driver, not per message); the
//!   driver takes each client's whole queue and submits it as one `sendmsg` of up to 64 frames,
//!   and all the connections' sends, receives and re-arms of one round go to the kernel in one
//!   `io_uring_enter`.
//! - **stop**: `disconnect`, send-policy stops and `shutdown(grace)` work as on the tokio path
//!   (graceful: flush, FIN, wait for the peer's FIN up to the deadline, at most 2 s after our
//!   FIN; otherwise cut at once).
//!
//! What it does not do (the server then runs on the tokio path, and says why in
//! [`Server::backend_note`](super::Server::backend_note)): TLS, Unix sockets, a heartbeat
//! interval (pings are still answered), an idle timeout.

use std::collections::{HashMap, VecDeque};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Waker};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use io_uring::{cqueue, opcode, squeue, types, IoUring};
use socket2::SockRef;

use super::{Shared, Slot};
use crate::addr::Addr;
use crate::engine::events::{ClientId, DisconnectReason, Event, TryPush};
use crate::engine::link::Counters;
use crate::engine::sendq::{self, Chunk, SendQueue};
use crate::engine::stream::conn_options;
use crate::error::Error;
use crate::framing::Decoder;

/// Submission queue entries (the completion queue is twice as large; completions beyond it
/// are kept by the kernel, which every kernel with multishot receive does).
const RING_ENTRIES: u32 = 4096;
/// Provided receive buffers, shared by every connection of the server: many small ones, since
/// each receive completion holds one until the driver has copied it (measured: 256 of 16 KiB
/// ran out at 10,000 clients, and every receive that finds none ends and must be armed again).
const BUFS: u16 = 1024;
/// Size of one provided buffer (4 MiB in all, touched only as load spreads over them).
const BUF_SIZE: usize = 4 * 1024;
/// The buffer group id.
const BGID: u16 = 7;
/// Frames per `sendmsg`.
const MAX_IOV: usize = 64;
/// How long a graceful close waits, after its FIN, for the peer's.
const LINGER: Duration = Duration::from_secs(2);
/// Size of the blocks messages are cut from.
const SCRATCH_BLOCK: usize = 64 * 1024;

// What a completion belongs to (the low 3 bits of its user data; the rest is the client id).
const K_ACCEPT: u64 = 0;
const K_RECV: u64 = 1;
const K_SEND: u64 = 2;
const K_WAKE: u64 = 3;
const K_CANCEL: u64 = 4;

fn ud(id: ClientId, kind: u64) -> u64 {
    (id << 3) | kind
}

thread_local! {
    /// This thread is a driver: its own wake-ups need no eventfd write (it looks at the ready
    /// list before it waits).
    static ON_DRIVER: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// How senders and the event queue wake a driver: the ids to look at, and an eventfd the
/// driver has a read armed on.
pub(super) struct Wake {
    fd: OwnedFd,
    signaled: AtomicBool,
    ready: Mutex<Vec<ClientId>>,
}

impl Wake {
    fn new() -> std::io::Result<Wake> {
        // SAFETY: plain syscall; the fd is owned by the returned value.
        let fd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC) };
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(Wake {
            // SAFETY: just created, owned by nobody else.
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
            signaled: AtomicBool::new(false),
            ready: Mutex::new(Vec::new()),
        })
    }

    /// Ask the driver to look at `id` (0: the server itself: room in the event queue,
    /// shutdown).
    pub(super) fn wake(&self, id: ClientId) {
        self.ready
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(id);
        if ON_DRIVER.with(|d| d.get()) {
            return;
        }
        if !self.signaled.swap(true, Ordering::AcqRel) {
            let one = 1u64.to_ne_bytes();
            // SAFETY: writing 8 bytes from a valid buffer to our own eventfd.
            let _ = unsafe { libc::write(self.fd.as_raw_fd(), one.as_ptr().cast(), 8) };
        }
    }

    fn take(&self) -> Vec<ClientId> {
        std::mem::take(&mut *self.ready.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

/// A waker that wakes the driver for one client.
struct IdWaker {
    id: ClientId,
    wake: Arc<Wake>,
}

impl std::task::Wake for IdWaker {
    fn wake(self: Arc<Self>) {
        self.wake.wake(self.id);
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.wake.wake(self.id);
    }
}

fn waker(id: ClientId, wake: &Arc<Wake>) -> Waker {
    Waker::from(Arc::new(IdWaker {
        id,
        wake: wake.clone(),
    }))
}

/// The provided buffer ring: page-aligned ring entries and the buffers they point to.
struct BufRing {
    ring: *mut types::BufRingEntry,
    ring_layout: std::alloc::Layout,
    bufs: *mut u8,
    bufs_layout: std::alloc::Layout,
    tail: u16,
}

// SAFETY: the ring and buffers are plain memory owned by this value; only the driver thread
// uses them after it is moved there.
unsafe impl Send for BufRing {}

impl BufRing {
    fn new() -> std::io::Result<BufRing> {
        let oom = || std::io::Error::from(std::io::ErrorKind::OutOfMemory);
        let ring_layout =
            std::alloc::Layout::from_size_align(BUFS as usize * 16, 4096).map_err(|_| oom())?;
        let bufs_layout = std::alloc::Layout::from_size_align(BUFS as usize * BUF_SIZE, 4096)
            .map_err(|_| oom())?;
        // SAFETY: non-zero sizes; checked for null below.
        let ring = unsafe { std::alloc::alloc_zeroed(ring_layout) } as *mut types::BufRingEntry;
        // SAFETY: as above.
        let bufs = unsafe { std::alloc::alloc(bufs_layout) };
        if ring.is_null() || bufs.is_null() {
            return Err(oom());
        }
        let mut r = BufRing {
            ring,
            ring_layout,
            bufs,
            bufs_layout,
            tail: 0,
        };
        for bid in 0..BUFS {
            r.give(bid);
        }
        r.publish();
        Ok(r)
    }

    /// Put buffer `bid` back (seen by the kernel after [`publish`](BufRing::publish)).
    fn give(&mut self, bid: u16) {
        let i = (self.tail & (BUFS - 1)) as usize;
        // SAFETY: i < BUFS, inside the ring; bid < BUFS, inside the buffers.
        unsafe {
            let e = &mut *self.ring.add(i);
            e.set_addr(self.bufs.add(bid as usize * BUF_SIZE) as u64);
            e.set_len(BUF_SIZE as u32);
            e.set_bid(bid);
        }
        self.tail = self.tail.wrapping_add(1);
    }

    fn publish(&self) {
        // SAFETY: the tail field of the ring's first entry, shared with the kernel, written
        // with release ordering as the kernel's protocol says.
        unsafe {
            let t = types::BufRingEntry::tail(self.ring) as *const AtomicU16;
            (*t).store(self.tail, Ordering::Release);
        }
    }

    fn buf(&self, bid: u16, len: usize) -> &[u8] {
        // SAFETY: bid < BUFS and len <= BUF_SIZE (the kernel filled that much of it).
        unsafe { std::slice::from_raw_parts(self.bufs.add(bid as usize * BUF_SIZE), len) }
    }
}

impl Drop for BufRing {
    fn drop(&mut self) {
        // SAFETY: allocated in `new` with these layouts (the ring is gone: the driver drops
        // the IoUring first).
        unsafe {
            std::alloc::dealloc(self.ring as *mut u8, self.ring_layout);
            std::alloc::dealloc(self.bufs, self.bufs_layout);
        }
    }
}

/// A ring ready to drive a server (made in `bind`, so a kernel that refuses io_uring is
/// known before the server starts and the tokio path serves instead).
pub(super) struct Prepared {
    ring: IoUring,
    bufs: BufRing,
    pub(super) wake: Arc<Wake>,
}

/// Set up a ring with a provided buffer ring; the error says why io_uring cannot be used.
pub(super) fn prepare() -> Result<Prepared, String> {
    let ring = IoUring::builder()
        .build(RING_ENTRIES)
        .map_err(|e| format!("io_uring_setup failed ({e})"))?;
    let bufs = BufRing::new().map_err(|e| format!("buffer ring allocation failed ({e})"))?;
    // SAFETY: the ring memory lives in `bufs`, which the driver keeps until after the ring is
    // dropped (fields drop in declaration order: `ring` first).
    unsafe {
        ring.submitter()
            .register_buf_ring_with_flags(bufs.ring as u64, BUFS, BGID, 0)
            .map_err(|e| format!("provided buffer rings unsupported ({e}; Linux 5.19+)"))?;
    }
    if !kernel_at_least(6, 0) {
        return Err("multishot receive needs Linux 6.0".into());
    }
    Ok(Prepared {
        ring,
        bufs,
        wake: Arc::new(Wake::new().map_err(|e| format!("eventfd failed ({e})"))?),
    })
}

fn kernel_at_least(major: u32, minor: u32) -> bool {
    // SAFETY: utsname is plain data, filled by uname.
    let mut u: libc::utsname = unsafe { std::mem::zeroed() };
    // SAFETY: valid pointer to a utsname.
    if unsafe { libc::uname(&mut u) } != 0 {
        return false;
    }
    let rel: String = u
        .release
        .iter()
        .take_while(|c| **c != 0)
        .map(|c| *c as u8 as char)
        .collect();
    let mut it = rel.split(|c: char| !c.is_ascii_digit());
    let ma: u32 = it.next().and_then(|x| x.parse().ok()).unwrap_or(0);
    let mi: u32 = it.next().and_then(|x| x.parse().ok()).unwrap_or(0);
    (ma, mi) >= (major, minor)
}

/// A graceful stop in progress.
struct Stopping {
    reason: DisconnectReason,
    deadline: Instant,
    eof: bool,
    fin_sent: bool,
}

/// One client on the ring.
struct UConn {
    fd: OwnedFd,
    slot: Arc<Slot>,
    waker: Waker,
    decoder: Decoder,
    /// A partial frame, or what arrived behind a message waiting for room.
    pend: BytesMut,
    /// A message waiting for room in the event queue (receiving pauses meanwhile).
    held: Option<Bytes>,
    room: u64,
    /// Frames taken from the send queue; the front ones are in the send in flight.
    out: VecDeque<Chunk>,
    iov: Vec<libc::iovec>,
    msg: Box<libc::msghdr>,
    sending: bool,
    recv_armed: bool,
    stopping: Option<Stopping>,
    /// Its bookkeeping is done (`Disconnected` queued); the socket closes when its operations
    /// in flight have completed.
    ended: bool,
}

struct Driver {
    ring: IoUring,
    bufs: BufRing,
    s: Arc<Shared>,
    wake: Arc<Wake>,
    conns: HashMap<ClientId, Box<UConn>>,
    scratch: BytesMut,
    accept_armed: bool,
    accept_failing: bool,
    accept_retry: Option<Instant>,
    accept_round: u64,
    accepted: VecDeque<(OwnedFd, Addr)>,
    server_waker: Waker,
    wake_buf: Box<u64>,
    stopping: bool,
    cqes: Vec<(u64, i32, u32)>,
}

/// Start the driver thread for `s` (its listening socket is `s.uring_listener`).
pub(super) fn start(p: Prepared, s: Arc<Shared>) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name("libsock-uring".into())
        .spawn(move || {
            ON_DRIVER.with(|d| d.set(true));
            // The same scheduling policy as the runtime's threads (see SCHED_BATCH_ENV).
            super::super::runtime::batch_scheduling();
            super::super::events::defer::flush();
            let server_waker = waker(0, &p.wake);
            let mut d = Driver {
                ring: p.ring,
                bufs: p.bufs,
                s,
                wake: p.wake,
                conns: HashMap::new(),
                scratch: BytesMut::new(),
                accept_armed: false,
                accept_failing: false,
                accept_retry: None,
                accept_round: 0,
                accepted: VecDeque::new(),
                server_waker,
                wake_buf: Box::new(0),
                stopping: false,
                cqes: Vec::with_capacity(256),
            };
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| d.run()));
            if let Err(payload) = r {
                // A bug in the driver must not hang the application: every client ends with
                // the panic as its reason (as a panicking connection task does on the tokio
                // path) and the server stops listening.
                let e = Error::from_panic(&*payload);
                let reason = DisconnectReason::Error(
                    crate::ErrorKind::Internal,
                    format!("the io_uring driver failed: {e}"),
                );
                let ids: Vec<ClientId> = d.conns.keys().copied().collect();
                for id in ids {
                    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        d.end(id, reason.clone())
                    }));
                }
                d.s.events.push_force(Event::Warning {
                    client: 0,
                    error: crate::ErrorKind::Internal,
                    message: format!("{reason}; the server accepts no more clients"),
                });
            }
            super::super::events::defer::stop();
        })
}

impl Driver {
    fn push(&mut self, e: squeue::Entry) {
        loop {
            // SAFETY: every entry points into memory that outlives its operation (the
            // connection's boxed msghdr and iovecs, the driver's wake buffer).
            if unsafe { self.ring.submission().push(&e) }.is_ok() {
                return;
            }
            let _ = self.ring.submit();
        }
    }

    fn arm_wake(&mut self) {
        let e = opcode::Read::new(
            types::Fd(self.wake.fd.as_raw_fd()),
            (&mut *self.wake_buf as *mut u64).cast(),
            8,
        )
        .build()
        .user_data(ud(0, K_WAKE));
        self.push(e);
    }

    fn arm_accept(&mut self) {
        if self.accept_armed || self.stopping {
            return;
        }
        self.accept_armed = true;
        let e = opcode::AcceptMulti::new(types::Fd(self.s.uring_listener))
            .flags(libc::SOCK_CLOEXEC)
            .build()
            .user_data(ud(0, K_ACCEPT));
        self.push(e);
    }

    fn cancel(&mut self, target: u64) {
        let e = opcode::AsyncCancel::new(target)
            .build()
            .user_data(ud(0, K_CANCEL));
        self.push(e);
    }

    fn run(&mut self) {
        self.arm_wake();
        self.arm_accept();
        loop {
            self.cqes.clear();
            for c in self.ring.completion() {
                self.cqes.push((c.user_data(), c.result(), c.flags()));
            }
            let cqes = std::mem::take(&mut self.cqes);
            for &(u, res, flags) in &cqes {
                let id = u >> 3;
                match u & 7 {
                    K_ACCEPT => self.on_accept(res, flags),
                    K_RECV => self.on_recv(id, res, flags),
                    K_SEND => self.on_send(id, res),
                    K_WAKE => self.arm_wake(),
                    _ => {}
                }
            }
            self.cqes = cqes;
            self.bufs.publish();
            // Look at what senders, the event queue and our own work asked for.
            loop {
                self.wake.signaled.store(false, Ordering::Release);
                let ids = self.wake.take();
                if ids.is_empty() {
                    break;
                }
                for id in ids {
                    if id == 0 {
                        self.service_server();
                    } else {
                        self.service(id);
                    }
                }
            }
            if !self.stopping && self.s.lock_clients().stopping {
                self.stopping = true;
                if self.accept_armed {
                    self.cancel(ud(0, K_ACCEPT));
                }
                self.accepted.clear();
            }
            let now = Instant::now();
            let mut next: Option<Instant> = None;
            let due: Vec<ClientId> = self
                .conns
                .iter()
                .filter_map(|(id, c)| {
                    let st = c.stopping.as_ref().filter(|_| !c.ended)?;
                    if st.deadline <= now {
                        Some(*id)
                    } else {
                        next = Some(next.map_or(st.deadline, |n| n.min(st.deadline)));
                        None
                    }
                })
                .collect();
            for id in due {
                let r = self.conns[&id].stopping.as_ref().map(|s| s.reason.clone());
                self.end(id, r.unwrap_or(DisconnectReason::ServerShutdown));
            }
            if let Some(t) = self.accept_retry {
                if t <= now {
                    self.accept_retry = None;
                    self.arm_accept();
                } else {
                    next = Some(next.map_or(t, |n| n.min(t)));
                }
            }
            if self.stopping && self.conns.is_empty() && !self.accept_armed {
                break;
            }
            super::super::events::defer::flush();
            let r = match next {
                Some(t) => {
                    let d = t.saturating_duration_since(Instant::now());
                    let ts = types::Timespec::new()
                        .sec(d.as_secs())
                        .nsec(d.subsec_nanos().max(1000));
                    let args = types::SubmitArgs::new().timespec(&ts);
                    self.ring.submitter().submit_with_args(1, &args)
                }
                None => self.ring.submit_and_wait(1),
            };
            if let Err(e) = r {
                if !matches!(
                    e.raw_os_error(),
                    Some(libc::ETIME | libc::EINTR | libc::EBUSY)
                ) {
                    // The ring broke: end everything rather than hang.
                    let ids: Vec<ClientId> = self.conns.keys().copied().collect();
                    for id in ids {
                        self.end(
                            id,
                            DisconnectReason::Error(
                                crate::ErrorKind::Internal,
                                format!("io_uring_enter failed: {e}"),
                            ),
                        );
                    }
                    self.conns.clear();
                    self.s.events.push_force(Event::Warning {
                        client: 0,
                        error: crate::ErrorKind::Internal,
                        message: format!(
                            "io_uring_enter failed ({e}): the server accepts no more clients"
                        ),
                    });
                    break;
                }
            }
        }
    }

    fn on_accept(&mut self, res: i32, flags: u32) {
        if !cqueue::more(flags) {
            self.accept_armed = false;
        }
        if res < 0 {
            if res == -libc::ECANCELED || self.stopping {
                return;
            }
            let e = std::io::Error::from_raw_os_error(-res);
            let pause = matches!(
                -res,
                libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM
            );
            self.s
                .accept_errors
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            if !self.accept_failing {
                self.accept_failing = true;
                let e = Error::os(format!("accept on {}", self.s.local), e);
                self.s.events.push_force(Event::Warning {
                    client: 0,
                    error: e.kind(),
                    message: format!(
                        "{e}; accepting pauses and resumes when it works again{}",
                        if pause {
                            " (out of descriptors or memory)"
                        } else {
                            ""
                        }
                    ),
                });
            }
            if !self.accept_armed {
                self.accept_retry =
                    Some(Instant::now() + Duration::from_millis(if pause { 100 } else { 1 }));
            }
            return;
        }
        self.accept_failing = false;
        // SAFETY: a descriptor the kernel just gave us.
        let fd = unsafe { OwnedFd::from_raw_fd(res) };
        if self.stopping {
            return;
        }
        let _ = conn_options(&self.s.cfg.options).apply(&SockRef::from(&fd));
        let peer = SockRef::from(&fd)
            .peer_addr()
            .map(|a| Addr::from_sockaddr(&a))
            .unwrap_or(Addr::Unix(None));
        self.accepted.push_back((fd, peer));
        self.admit_waiting();
        if !self.accept_armed && self.accepted.is_empty() && self.accept_retry.is_none() {
            self.arm_accept();
        }
    }

    /// Admit accepted sockets while the event queue has room for their `Connected`; pause
    /// accepting when it has none.
    fn admit_waiting(&mut self) {
        while !self.accepted.is_empty() {
            let mut cx = Context::from_waker(&self.server_waker);
            let s = self.s.clone();
            let permit = match s.events.try_reserve(&mut cx, &mut self.accept_round) {
                Ok(Some(p)) => p,
                Ok(None) => {
                    if self.accept_armed {
                        self.cancel(ud(0, K_ACCEPT));
                    }
                    return;
                }
                Err(_) => {
                    self.accepted.clear();
                    return;
                }
            };
            let (fd, peer) = self.accepted.pop_front().expect("an accepted socket");
            let (id, slot) = {
                let mut c = s.lock_clients();
                if c.stopping {
                    return;
                }
                if s.cfg.max_clients.is_some_and(|m| c.map.len() >= m) {
                    s.refused.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    continue;
                }
                let id = s.next_id.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let counters = Arc::new(Counters::default());
                let slot = Arc::new(Slot {
                    peer: peer.clone(),
                    since: std::time::SystemTime::now(),
                    tls: None,
                    sq: SendQueue::new(
                        s.cfg.send_queue_bytes,
                        s.link.tracks_writes(),
                        counters.clone(),
                    ),
                    counters,
                    warned_full: AtomicBool::new(false),
                    side: None,
                });
                c.map.insert(id, slot.clone());
                s.total.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                s.tasks.inc();
                (id, slot)
            };
            permit.push(Event::Connected { client: id, peer });
            // SAFETY: msghdr is plain data; zero is its empty value.
            let msg: Box<libc::msghdr> = Box::new(unsafe { std::mem::zeroed() });
            let c = Box::new(UConn {
                fd,
                slot,
                waker: waker(id, &self.wake),
                decoder: Decoder::new(s.cfg.framing.clone()),
                pend: BytesMut::new(),
                held: None,
                room: 0,
                out: VecDeque::new(),
                iov: Vec::new(),
                msg,
                sending: false,
                recv_armed: false,
                stopping: None,
                ended: false,
            });
            self.conns.insert(id, c);
            self.arm_recv(id);
            self.service(id);
        }
    }

    /// Room in the event queue (or a shutdown): retry what waited for it.
    fn service_server(&mut self) {
        self.admit_waiting();
        if self.accepted.is_empty() && self.accept_retry.is_none() {
            self.arm_accept();
        }
    }

    fn arm_recv(&mut self, id: ClientId) {
        let Some(c) = self.conns.get_mut(&id) else {
            return;
        };
        if c.recv_armed || c.ended || c.held.is_some() || c.stopping.as_ref().is_some_and(|s| s.eof)
        {
            return;
        }
        c.recv_armed = true;
        let e = opcode::RecvMulti::new(types::Fd(c.fd.as_raw_fd()), BGID)
            .build()
            .user_data(ud(id, K_RECV));
        self.push(e);
    }

    fn on_recv(&mut self, id: ClientId, res: i32, flags: u32) {
        let bid = cqueue::buffer_select(flags);
        let data = match (bid, res > 0) {
            (Some(b), true) => Some(b),
            (Some(b), false) => {
                self.bufs.give(b);
                None
            }
            _ => None,
        };
        let Some(c) = self.conns.get_mut(&id) else {
            if let Some(b) = data {
                self.bufs.give(b);
            }
            return;
        };
        if !cqueue::more(flags) {
            c.recv_armed = false;
        }
        if c.ended {
            if let Some(b) = data {
                self.bufs.give(b);
            }
            self.reap(id);
            return;
        }
        if let Some(b) = data {
            let n = res as usize;
            c.slot
                .counters
                .bytes_in
                .fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
            if c.stopping.is_none() {
                let bytes = self.bufs.buf(b, n);
                if c.held.is_some() || !c.pend.is_empty() {
                    c.pend.extend_from_slice(bytes);
                } else {
                    if self.scratch.capacity() - self.scratch.len() < n {
                        self.scratch.reserve(SCRATCH_BLOCK.max(n));
                    }
                    self.scratch.extend_from_slice(bytes);
                    c.pend = self.scratch.split();
                }
            }
            self.bufs.give(b);
            // Back to the kernel at once, not after the whole batch of completions.
            self.bufs.publish();
            if let Err(r) = self.take_frames(id) {
                self.end(id, r);
                return;
            }
        } else if res == 0 {
            self.on_eof(id);
            return;
        } else if res < 0 && res != -libc::ENOBUFS && res != -libc::ECANCELED {
            let e = std::io::Error::from_raw_os_error(-res);
            let reason = match &c.stopping {
                Some(s) => s.reason.clone(),
                None => DisconnectReason::from_io(&e),
            };
            self.end(id, reason);
            return;
        }
        self.arm_recv(id);
    }

    fn on_eof(&mut self, id: ClientId) {
        let Some(c) = self.conns.get_mut(&id) else {
            return;
        };
        if let Some(s) = &mut c.stopping {
            s.eof = true;
            if s.fin_sent {
                let r = s.reason.clone();
                self.end(id, r);
            }
            return;
        }
        if let Some(data) = c.held.take() {
            self.s
                .events
                .push_force(Event::Message { client: id, data });
        }
        // Whole frames behind a held message still count; only a partial tail is reported.
        let _ = self.take_frames_force(id);
        let Some(c) = self.conns.get_mut(&id) else {
            return;
        };
        if !c.pend.is_empty() {
            let tail = &c.pend[..c.pend.len().min(16)];
            let hex: Vec<String> = tail.iter().map(|b| format!("{b:02x}")).collect();
            self.s.events.push_force(Event::Warning {
                client: id,
                error: crate::ErrorKind::Closed,
                message: format!(
                    "client {}: end of stream inside a frame, {} bytes left over (they form \
                     no whole message; first bytes: {}{})",
                    id,
                    c.pend.len(),
                    hex.join(" "),
                    if c.pend.len() > 16 { " ..." } else { "" }
                ),
            });
        }
        self.end(id, DisconnectReason::PeerClosed);
    }

    /// Deliver whatever whole frames `pend` holds, beyond the bound (the connection ends).
    fn take_frames_force(&mut self, id: ClientId) -> Result<(), DisconnectReason> {
        let Some(c) = self.conns.get_mut(&id) else {
            return Ok(());
        };
        loop {
            match c.decoder.decode(&mut c.pend) {
                Ok(Some(frame)) => {
                    if let Some(h) = &self.s.link.heartbeat {
                        if frame == h.ping || frame == h.pong {
                            continue;
                        }
                    }
                    c.slot
                        .counters
                        .msgs_in
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    self.s.events.push_force(Event::Message {
                        client: id,
                        data: frame,
                    });
                }
                Ok(None) => return Ok(()),
                Err(_) => return Ok(()),
            }
        }
    }

    /// Cut whole frames out of `pend` and deliver them; stops (holding one message and pausing
    /// the receive) when the event queue is full.
    fn take_frames(&mut self, id: ClientId) -> Result<(), DisconnectReason> {
        let Some(c) = self.conns.get_mut(&id) else {
            return Ok(());
        };
        if c.stopping.is_some() {
            c.pend = BytesMut::new();
            return Ok(());
        }
        if let Some(data) = c.held.take() {
            let mut cx = Context::from_waker(&c.waker);
            match self
                .s
                .events
                .try_push(Event::Message { client: id, data }, &mut cx, &mut c.room)
            {
                TryPush::Pushed => {}
                TryPush::Full(Event::Message { data, .. }) => {
                    c.held = Some(data);
                    return Ok(());
                }
                TryPush::Full(_) | TryPush::Closed => return Err(DisconnectReason::Closed),
            }
        }
        let link = &self.s.link;
        while c.held.is_none() {
            let frame = match c.decoder.decode(&mut c.pend) {
                Ok(Some(f)) => f,
                Ok(None) => break,
                Err(Error::FrameTooLarge { .. }) => return Err(DisconnectReason::FrameTooLarge),
                Err(e) => return Err(DisconnectReason::Error(e.kind(), e.to_string())),
            };
            if let Some(h) = &link.heartbeat {
                if frame == h.ping {
                    if let Some(p) = &link.pong {
                        let _ = c.slot.sq.push(p.clone(), true);
                    }
                    continue;
                }
                if frame == h.pong {
                    continue;
                }
            }
            c.slot
                .counters
                .msgs_in
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let mut cx = Context::from_waker(&c.waker);
            match self.s.events.try_push(
                Event::Message {
                    client: id,
                    data: frame,
                },
                &mut cx,
                &mut c.room,
            ) {
                TryPush::Pushed => {}
                TryPush::Full(Event::Message { data, .. }) => c.held = Some(data),
                TryPush::Full(_) | TryPush::Closed => return Err(DisconnectReason::Closed),
            }
        }
        if c.pend.is_empty() {
            if c.pend.capacity() > 0 {
                c.pend = BytesMut::new();
            }
        } else if c.held.is_none() && c.pend.capacity() >= SCRATCH_BLOCK / 2 {
            // A partial frame cut from a shared block: keep a copy of its own, with room for the
            // rest of the frame, so the block is not held by an idle connection.
            let more = c.decoder.needed(&c.pend).clamp(4096, 1 << 20);
            let mut p = BytesMut::with_capacity(c.pend.len() + more);
            p.extend_from_slice(&c.pend);
            c.pend = p;
        }
        if c.held.is_some() && c.recv_armed {
            // Stop receiving until there is room (TCP flow control slows the peer).
            self.cancel(ud(id, K_RECV));
        }
        Ok(())
    }

    /// Look at one client: a message waiting for room, its send queue, a stop request.
    fn service(&mut self, id: ClientId) {
        let Some(c) = self.conns.get_mut(&id) else {
            return;
        };
        if c.ended {
            return;
        }
        if c.held.is_some() {
            if let Err(r) = self.take_frames(id) {
                self.end(id, r);
                return;
            }
            self.arm_recv(id);
        }
        let Some(c) = self.conns.get_mut(&id) else {
            return;
        };
        let cx = Context::from_waker(&c.waker);
        let (stop, _) = c.slot.sq.sync(&cx, &mut c.out);
        if let Some(stop) = stop {
            match &mut c.stopping {
                None => {
                    if let Some(data) = c.held.take() {
                        // Nothing read is lost: the waiting message goes in regardless.
                        self.s
                            .events
                            .push_force(Event::Message { client: id, data });
                    }
                    if !stop.graceful {
                        self.end(id, stop.reason);
                        return;
                    }
                    let far = Instant::now() + Duration::from_secs(86400 * 365);
                    c.stopping = Some(Stopping {
                        reason: stop.reason,
                        deadline: stop.deadline.map_or(far, |d| d.into_std()),
                        eof: false,
                        fin_sent: false,
                    });
                    c.pend = BytesMut::new();
                }
                Some(s) => {
                    if !stop.graceful {
                        let r = s.reason.clone();
                        self.end(id, r);
                        return;
                    }
                    if let Some(d) = stop.deadline.map(|d| d.into_std()) {
                        s.deadline = s.deadline.min(d);
                    }
                }
            }
        }
        let Some(c) = self.conns.get_mut(&id) else {
            return;
        };
        if c.sending {
            return;
        }
        if !c.out.is_empty() {
            self.send(id);
            return;
        }
        if let Some(s) = &mut c.stopping {
            if !s.fin_sent {
                s.fin_sent = true;
                // SAFETY: our live socket.
                unsafe { libc::shutdown(c.fd.as_raw_fd(), libc::SHUT_WR) };
                if s.eof {
                    let r = s.reason.clone();
                    self.end(id, r);
                    return;
                }
                s.deadline = s.deadline.min(Instant::now() + LINGER);
            }
            // Keep receiving (and discarding) until the peer's FIN.
            self.arm_recv(id);
        }
    }

    fn send(&mut self, id: ClientId) {
        let Some(c) = self.conns.get_mut(&id) else {
            return;
        };
        let sent = sendq::skip_empty(&mut c.out);
        if sent > 0 {
            c.slot
                .counters
                .msgs_out
                .fetch_add(sent, std::sync::atomic::Ordering::Relaxed);
        }
        if c.out.is_empty() {
            self.service(id);
            return;
        }
        c.iov.clear();
        for f in c.out.iter().take(MAX_IOV) {
            c.iov.push(libc::iovec {
                iov_base: f.data.as_ptr() as *mut libc::c_void,
                iov_len: f.len(),
            });
        }
        c.msg.msg_iov = c.iov.as_mut_ptr();
        c.msg.msg_iovlen = c.iov.len() as _;
        c.sending = true;
        let e = opcode::SendMsg::new(types::Fd(c.fd.as_raw_fd()), &*c.msg)
            .flags(libc::MSG_NOSIGNAL as u32)
            .build()
            .user_data(ud(id, K_SEND));
        self.push(e);
    }

    fn on_send(&mut self, id: ClientId, res: i32) {
        let Some(c) = self.conns.get_mut(&id) else {
            return;
        };
        c.sending = false;
        if c.ended {
            self.reap(id);
            return;
        }
        if res <= 0 {
            if res == -libc::EAGAIN || res == -libc::EINTR {
                self.send(id);
                return;
            }
            let e = if res == 0 {
                std::io::Error::from(std::io::ErrorKind::WriteZero)
            } else {
                std::io::Error::from_raw_os_error(-res)
            };
            let reason = match (&c.stopping, c.slot.sq.stop_requested()) {
                (Some(s), _) => s.reason.clone(),
                (None, Some(stop)) => stop.reason,
                (None, None) => DisconnectReason::from_io(&e),
            };
            self.end(id, reason);
            return;
        }
        let w = res as usize;
        c.slot
            .counters
            .bytes_out
            .fetch_add(w as u64, std::sync::atomic::Ordering::Relaxed);
        let done = sendq::consume(&mut c.out, w);
        c.slot
            .counters
            .msgs_out
            .fetch_add(done, std::sync::atomic::Ordering::Relaxed);
        if c.out.is_empty() {
            if c.out.capacity() > 16 {
                c.out = VecDeque::new();
            }
            self.service(id);
        } else {
            self.send(id);
        }
    }

    /// End a connection: its bookkeeping now (as the tokio path's task does), its socket
    /// once its operations in flight have completed.
    fn end(&mut self, id: ClientId, reason: DisconnectReason) {
        let Some(c) = self.conns.get_mut(&id) else {
            return;
        };
        if c.ended {
            return;
        }
        c.ended = true;
        let (recv, send) = (c.recv_armed, c.sending);
        let slot = c.slot.clone();
        c.held = None;
        c.pend = BytesMut::new();
        if recv {
            self.cancel(ud(id, K_RECV));
        }
        if send {
            self.cancel(ud(id, K_SEND));
        }
        slot.sq.detach();
        let s = self.s.clone();
        let removed = {
            let mut cl = s.lock_clients();
            let removed = cl.map.remove(&id).is_some();
            if removed {
                s.retire(&slot.counters);
            }
            removed
        };
        slot.sq.clear();
        self.reap(id);
        if removed {
            s.events
                .push_force(Event::Disconnected { client: id, reason });
        }
        s.tasks.dec();
    }

    /// Close an ended connection's socket once nothing of it is in flight.
    fn reap(&mut self, id: ClientId) {
        if self
            .conns
            .get(&id)
            .is_some_and(|c| c.ended && !c.recv_armed && !c.sending)
        {
            self.conns.remove(&id);
        }
    }
}
