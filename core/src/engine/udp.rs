//! [`DatagramServer`]: a UDP endpoint whose datagrams are pulled as events.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use socket2::{Domain, Protocol, Socket, Type};
use tokio::task::JoinHandle;

use super::events::{Event, EventQueue, Source};
use super::runtime::{self, Stoppable};
use crate::addr::{Addr, ToEndpoint};
use crate::error::{Error, Result};
use crate::offload::{self, Gso};
use crate::options::SocketOptions;

/// How long [`DatagramServer::send_to`] waits while the socket's send buffer is full.
pub const SEND_WAIT: Duration = Duration::from_secs(5);

/// How a [`DatagramServer`] behaves.
#[derive(Debug, Clone)]
pub struct DatagramServerConfig {
    /// Socket options applied before bind.
    pub options: SocketOptions,
    /// Largest datagram received whole (default 65,536); longer ones are cut to this size.
    pub max_datagram: usize,
    /// Bound of the event queue in events (default 4096); when full, the socket is not read
    /// (the kernel's receive buffer then drops datagrams, as UDP does).
    pub event_capacity: usize,
    /// UDP offload (default on; Linux): `UDP_GRO` on receive (one system call takes up to
    /// 64 KiB of a sender's datagrams, each still its own [`Event::Datagram`]) and
    /// `UDP_SEGMENT` in [`DatagramServer::send_many_to`], each where the kernel takes it and
    /// with the fallbacks of [`crate::offload`].
    pub offload: bool,
}

impl Default for DatagramServerConfig {
    fn default() -> DatagramServerConfig {
        DatagramServerConfig {
            options: SocketOptions::new(),
            max_datagram: 65536,
            event_capacity: 4096,
            offload: true,
        }
    }
}

impl DatagramServerConfig {
    /// The defaults.
    pub fn new() -> DatagramServerConfig {
        DatagramServerConfig::default()
    }
    /// Set the socket options.
    pub fn options(mut self, o: SocketOptions) -> Self {
        self.options = o;
        self
    }
    /// Largest datagram received whole.
    pub fn max_datagram(mut self, n: usize) -> Self {
        self.max_datagram = n;
        self
    }
    /// Bound the event queue (events).
    pub fn event_capacity(mut self, n: usize) -> Self {
        self.event_capacity = n;
        self
    }
    /// Turn UDP offload (GSO and GRO) on or off.
    pub fn offload(mut self, on: bool) -> Self {
        self.offload = on;
        self
    }

    /// Check every setting (done by [`DatagramServer::bind`]): `max_datagram` from 1 to
    /// [`MAX_DATAGRAM`](super::MAX_DATAGRAM), a non-zero event capacity.
    pub fn validate(&self) -> Result<()> {
        super::check_queues(None, self.event_capacity)?;
        if self.max_datagram == 0 || self.max_datagram > super::MAX_DATAGRAM {
            return Err(Error::invalid(format!(
                "max_datagram {} (must be 1..={})",
                self.max_datagram,
                super::MAX_DATAGRAM
            )));
        }
        Ok(())
    }
}

/// A snapshot of a datagram server's counters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DatagramStats {
    /// Datagrams received.
    pub datagrams_in: u64,
    /// Datagrams sent.
    pub datagrams_out: u64,
    /// Bytes received.
    pub bytes_in: u64,
    /// Bytes sent.
    pub bytes_out: u64,
    /// Events waiting to be pulled.
    pub events_queued: u64,
}

struct Shared {
    /// The socket (non-blocking). Sends and a driving consumer use it directly; the engine's
    /// reader registers a duplicate with the runtime only while no consumer drives (see
    /// `recv_loop`).
    sock: std::net::UdpSocket,
    local: Addr,
    events: EventQueue,
    task: Mutex<Option<JoinHandle<()>>>,
    dg_in: AtomicU64,
    dg_out: AtomicU64,
    bytes_in: AtomicU64,
    bytes_out: AtomicU64,
    gso: Gso,
    gro: bool,
    /// Largest datagram received whole.
    max: usize,
    /// A consumer reads the socket itself (see [`Source`]): the runtime's reader stands aside.
    driving: AtomicBool,
    /// Times a consumer started driving (the reader comes back after [`IDLE`] without one).
    drives: AtomicU64,
    /// The runtime's reader has the socket registered and reads it.
    reading: AtomicBool,
    /// Tells the reader that a consumer started driving (so it lets go of the socket).
    started: tokio::sync::Notify,
    /// The socket's `SO_RCVTIMEO` in microseconds (0: none set).
    rcvtimeo: AtomicU64,
    /// Consecutive consumer waits that each read one datagram (see `wait_fill`).
    singles: AtomicU32,
    /// A read found the connected peer's ICMP port-unreachable (`ECONNREFUSED`), which a
    /// read takes from the socket: the next `send` or `next_datagram_into` reports it.
    #[cfg(target_os = "linux")]
    refused: AtomicBool,
    /// The driving consumer's receive buffers (allocated on first use). Whoever reads the
    /// socket (a driving consumer or the engine's reader) holds this lock from the read until
    /// the datagrams are queued, so that they are queued in the order they were read.
    pull: Mutex<PullBuf>,
}

#[cfg(target_os = "linux")]
impl Shared {
    /// Set `SO_RCVTIMEO` to about `wait`, keeping the one set if it is between half of `wait`
    /// and `wait` plus a millisecond (a call that waits the same each time sets it once).
    fn receive_timeout(&self, fd: i32, wait: Duration) {
        let want = (wait.as_micros() as u64).max(1);
        let now = self.rcvtimeo.load(Ordering::Relaxed);
        if now >= want / 2 && now <= want + 1000 {
            return;
        }
        let tv = libc::timeval {
            tv_sec: (want / 1_000_000) as libc::time_t,
            tv_usec: (want % 1_000_000) as libc::suseconds_t,
        };
        // SAFETY: a valid timeval for SO_RCVTIMEO on our socket.
        let r = unsafe {
            libc::setsockopt(
                fd,
                libc::SOL_SOCKET,
                libc::SO_RCVTIMEO,
                &tv as *const libc::timeval as *const libc::c_void,
                std::mem::size_of::<libc::timeval>() as libc::socklen_t,
            )
        };
        if r == 0 {
            self.rcvtimeo.store(want, Ordering::Relaxed);
        }
    }
}

/// What a consumer's read of the socket did.
#[cfg(target_os = "linux")]
enum Read {
    /// This many datagrams were queued as events.
    Queued(usize),
    /// One datagram of this many bytes, from this peer, was copied into the consumer's buffer.
    Direct(usize, Addr),
}

/// Receive buffers of the consumer that drives the socket.
#[derive(Default)]
struct PullBuf {
    headers: offload::RecvHeaders,
    storage: Vec<u8>,
    got: VecDeque<offload::Seg>,
}

impl Shared {
    /// Bytes per receive buffer: a coalesced one with GRO, else the largest datagram.
    fn slot(&self) -> usize {
        if self.gro {
            offload::GRO_SLOT.max(self.max)
        } else {
            self.max
        }
    }

    /// A consumer's read: under the reader lock, `prepare` the socket, take what one receive
    /// system call with `flags` gives and queue it (in arrival order). With `direct`, a read
    /// that took exactly one datagram which fits there copies it there instead, with no event
    /// ([`Read::Direct`]): the queue was empty (see [`EventQueue::drive`]) and only a reader
    /// holding this lock queues datagrams, so it is still the next one in arrival order.
    #[cfg(target_os = "linux")]
    fn read_batch(
        &self,
        q: &EventQueue,
        flags: libc::c_int,
        one: bool,
        prepare: impl FnOnce(i32),
        direct: Option<&mut [u8]>,
    ) -> std::io::Result<Read> {
        let slot = self.slot();
        let mut b = self.pull.lock().unwrap_or_else(|p| p.into_inner());
        let PullBuf {
            headers,
            storage,
            got,
        } = &mut *b;
        if storage.is_empty() {
            storage.resize(slot * RECV_SLOTS, 0);
        }
        // A read that waits must not wait behind, or overtake, what the engine's reader queued
        // since the caller last looked (it queues under this lock too).
        if flags & libc::MSG_DONTWAIT == 0 && !q.is_empty() {
            return Ok(Read::Queued(0));
        }
        let fd = std::os::fd::AsRawFd::as_raw_fd(&self.sock);
        prepare(fd);
        let room = if one { slot } else { storage.len() };
        if let Err(e) = offload::recv(fd, headers, &mut storage[..room], slot, flags, got) {
            self.note_read_error(&e);
            return Err(e);
        }
        let n = got.len();
        if let (Some(buf), 1) = (direct, n) {
            let len = got[0].len.min(self.max);
            if len <= buf.len() {
                let seg = got.pop_front().expect("one datagram was read");
                buf[..len].copy_from_slice(&storage[seg.at..seg.at + len]);
                self.count_in(len);
                return Ok(Read::Direct(len, seg.peer));
            }
        }
        let storage = &storage[..];
        q.push_batch(
            got.drain(..)
                .map(|seg| self.datagram(seg.peer, &storage[seg.at..seg.at + seg.len])),
            true,
        );
        Ok(Read::Queued(n))
    }

    /// A waiting consumer's read (see `Source::wait_fill`), straight into `direct` where
    /// [`read_batch`](Shared::read_batch) can; `None` while the engine's reader has the socket.
    #[cfg(target_os = "linux")]
    fn wait_read(&self, q: &EventQueue, wait: Duration, direct: Option<&mut [u8]>) -> Option<Read> {
        // While the engine's reader has the socket, it may queue datagrams that this wait
        // would not see: the caller polls the queue's fd too instead.
        if self.reading.load(Ordering::Acquire) {
            return None;
        }
        // The socket is blocking (see `bind`): this waits for the first datagram, up to the
        // receive timeout; stop_now's shutdown(SHUT_RD) wakes it.
        //
        // While waits keep finding one datagram each (request and reply), three in four read
        // with one buffer: a batch read then costs the kernel a second, failing receive per
        // wait. Every fourth is a batch again, and a batch that finds more keeps batches
        // going, so a burst that starts during single reads is read in batches after at most
        // three datagrams.
        let streak = self.singles.load(Ordering::Relaxed);
        let one = streak % SINGLE_PROBE != 0;
        let r = self
            .read_batch(q, 0, one, |fd| self.receive_timeout(fd, wait), direct)
            .unwrap_or(Read::Queued(0));
        let next = match r {
            Read::Direct(..) | Read::Queued(1) => streak.wrapping_add(1),
            Read::Queued(0) => streak,
            Read::Queued(_) => 0,
        };
        self.singles.store(next, Ordering::Relaxed);
        Some(r)
    }

    /// Keep what a read's error says about the connected peer (see `refused`).
    #[cfg(target_os = "linux")]
    fn note_read_error(&self, e: &std::io::Error) {
        if e.raw_os_error() == Some(libc::ECONNREFUSED) {
            self.refused.store(true, Ordering::Release);
        }
    }

    /// The connected peer's refusal a read took from the socket, once: `ConnectionRefused`.
    #[cfg(target_os = "linux")]
    fn take_refused(&self, op: &dyn Fn() -> String) -> Result<()> {
        if self.refused.load(Ordering::Relaxed) && self.refused.swap(false, Ordering::AcqRel) {
            let e = std::io::Error::from_raw_os_error(libc::ECONNREFUSED);
            return Err(Error::os(op(), e));
        }
        Ok(())
    }

    /// Count `len` received bytes in one datagram.
    fn count_in(&self, len: usize) {
        self.dg_in.fetch_add(1, Ordering::Relaxed);
        self.bytes_in.fetch_add(len as u64, Ordering::Relaxed);
    }

    /// Count one received datagram and make its event.
    fn datagram(&self, peer: Addr, data: &[u8]) -> Event {
        let n = data.len().min(self.max);
        self.count_in(n);
        Event::Datagram {
            peer,
            data: Bytes::copy_from_slice(&data[..n]),
        }
    }
}

#[cfg(target_os = "linux")]
impl Source for Shared {
    fn fill(&self, q: &EventQueue) -> usize {
        // An error (WouldBlock, or an ICMP error from an earlier send_to, which reading
        // clears) queues nothing.
        match self.read_batch(q, libc::MSG_DONTWAIT, false, |_| {}, None) {
            Ok(Read::Queued(n)) => n,
            _ => 0,
        }
    }

    fn fd(&self) -> i32 {
        std::os::fd::AsRawFd::as_raw_fd(&self.sock)
    }

    fn wait_fill(&self, q: &EventQueue, wait: Duration) -> Option<usize> {
        match self.wait_read(q, wait, None)? {
            Read::Queued(n) => Some(n),
            Read::Direct(..) => unreachable!("a read without a buffer queues what it takes"),
        }
    }

    fn driving(&self, on: bool) {
        if on {
            self.drives.fetch_add(1, Ordering::Relaxed);
        }
        self.driving.store(on, Ordering::Release);
        if on && self.reading.load(Ordering::Acquire) {
            self.started.notify_one();
        }
    }
}

/// A UDP endpoint served by the engine: each datagram arrives as [`Event::Datagram`]; replies
/// go out with [`send_to`](DatagramServer::send_to) from any thread (straight to the socket,
/// no hand-off).
///
/// Who reads the socket (Linux): while no consumer waits in a pull, the engine's reader takes
/// datagrams into the event queue (up to its bound), so a burst that arrives while the
/// application is busy is not left to the kernel's receive buffer. A consumer that pulls from
/// an empty queue reads the socket itself and waits in `poll(2)` on it, so request–reply
/// traffic costs no thread switch per datagram (and while its waits keep finding one datagram
/// each, three in four read with one buffer, the kernel's cheapest receive; a burst is read in
/// batches again after at most three); the engine's reader then lets go of the
/// socket, and takes it back once no consumer has waited for 10 ms. Once
/// [`notify_fd`](DatagramServer::notify_fd) was handed out, only the engine's reader reads (the
/// fd follows the queue). Either way each datagram is taken once, in the order it was read
/// (as an event, or straight into the buffer of
/// [`next_datagram_into`](DatagramServer::next_datagram_into));
/// [`pending`](DatagramServer::pending) counts the events in the queue, not the datagrams still
/// in the socket's receive buffer.
///
/// Request and reply: [`next_datagram_into`](DatagramServer::next_datagram_into) takes the
/// next datagram into the caller's buffer, received there straight from the socket when
/// nothing is queued (no event at all); a client of one server can
/// [`connect`](DatagramServer::connect) to it and [`send`](DatagramServer::send) without
/// naming it, the kernel's cheapest send.
pub struct DatagramServer {
    inner: Arc<Shared>,
}

impl std::fmt::Debug for DatagramServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatagramServer")
            .field("local", &self.inner.local)
            .finish()
    }
}

impl DatagramServer {
    /// Bind a UDP socket at `endpoint` (`"0.0.0.0:0"`, `"[::1]:5000"`, ...) and start
    /// receiving. Unix datagram endpoints are `Unsupported` here (use [`crate::Datagram`]).
    pub fn bind(endpoint: impl ToEndpoint, cfg: DatagramServerConfig) -> Result<DatagramServer> {
        let ep = endpoint.to_endpoint()?;
        if ep.is_unix() {
            return Err(Error::Unsupported(
                "the engine's datagram server takes UDP endpoints only".into(),
            ));
        }
        cfg.validate()?;
        let handle = runtime::handle()?;
        let mut last = None;
        let mut bound = None;
        for addr in ep.resolve(None)? {
            let op = || format!("bind UDP {addr}");
            let r = (|| -> Result<Socket> {
                let sa = addr.to_sockaddr()?;
                let domain = match &addr {
                    Addr::Inet(s) => Domain::for_address(*s),
                    _ => Domain::UNIX,
                };
                let s = Socket::new(domain, Type::DGRAM, Some(Protocol::UDP))
                    .map_err(|e| Error::os(op(), e))?;
                cfg.options.apply(&s)?;
                s.bind(&sa).map_err(|e| Error::os(op(), e))?;
                s.set_nonblocking(true).map_err(|e| Error::os(op(), e))?;
                Ok(s)
            })();
            match r {
                Ok(s) => {
                    bound = Some(s);
                    break;
                }
                Err(e) => last = Some(e),
            }
        }
        let sock = match bound {
            Some(s) => s,
            None => return Err(last.unwrap_or_else(|| Error::invalid(format!("{ep}: no address")))),
        };
        let local = sock
            .local_addr()
            .map(|a| Addr::from_sockaddr(&a))
            .map_err(|e| Error::os("local address", e))?;
        let fd = std::os::fd::AsRawFd::as_raw_fd(&sock);
        let (gso, gro) = if cfg.offload {
            (Gso::probe(fd), offload::enable_gro(fd))
        } else {
            (Gso::off(), false)
        };
        let sock: std::net::UdpSocket = sock.into();
        // Linux: the socket is blocking, so that a waiting consumer reads it in one system
        // call (see `Source::wait_fill`); every other read and every send says MSG_DONTWAIT.
        #[cfg(target_os = "linux")]
        sock.set_nonblocking(false)
            .map_err(|e| Error::os(format!("bind UDP {local}"), e))?;
        let shared = Arc::new(Shared {
            sock,
            local,
            events: EventQueue::new(cfg.event_capacity)?,
            task: Mutex::new(None),
            dg_in: AtomicU64::new(0),
            dg_out: AtomicU64::new(0),
            bytes_in: AtomicU64::new(0),
            bytes_out: AtomicU64::new(0),
            gso,
            gro,
            max: cfg.max_datagram,
            driving: AtomicBool::new(false),
            drives: AtomicU64::new(0),
            reading: AtomicBool::new(false),
            started: tokio::sync::Notify::new(),
            rcvtimeo: AtomicU64::new(0),
            singles: AtomicU32::new(0),
            #[cfg(target_os = "linux")]
            refused: AtomicBool::new(false),
            pull: Mutex::new(PullBuf::default()),
        });
        #[cfg(target_os = "linux")]
        {
            let source: std::sync::Weak<dyn Source> = Arc::downgrade(&shared) as _;
            shared.events.set_source(source);
        }
        let task = handle.spawn(recv_loop(shared.clone()));
        *shared.task.lock().unwrap_or_else(|p| p.into_inner()) = Some(task);
        runtime::register_arc(&shared);
        Ok(DatagramServer { inner: shared })
    }

    fn events(&self) -> &EventQueue {
        &self.inner.events
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> Addr {
        self.inner.local.clone()
    }

    /// The largest datagram received whole ([`DatagramServerConfig::max_datagram`]): a buffer
    /// this large always takes [`next_datagram_into`](DatagramServer::next_datagram_into).
    pub fn max_datagram(&self) -> usize {
        self.inner.max
    }

    /// Take the next datagram into `buf`, waiting up to `timeout` (`None` = forever, zero =
    /// poll), as [`next_event_into`](DatagramServer::next_event_into) does: an [`EventInfo`](super::EventInfo)
    /// of kind `Datagram` with its length and sender, or the final `Closed` event after
    /// [`shutdown`](DatagramServer::shutdown); `Ok(None)` on timeout; a `buf` too small for
    /// the datagram is `BufferTooSmall { needed }` and the datagram stays queued.
    ///
    /// The request–reply pull: when nothing is queued, the calling thread receives the
    /// datagram from the socket straight into `buf` (one system call, no event made, queued
    /// and taken). A burst is still read in batches into the queue (see the type's docs) and
    /// taken from there, in arrival order. Elsewhere than on Linux, and whenever the queue
    /// holds events or the notify fd was handed out, it is `next_event_into`.
    pub fn next_datagram_into(
        &self,
        buf: &mut [u8],
        timeout: Option<Duration>,
    ) -> Result<Option<super::EventInfo>> {
        #[cfg(target_os = "linux")]
        let timeout = {
            let start = Instant::now();
            if let Some(info) = self.direct(buf, timeout)? {
                return Ok(Some(info));
            }
            timeout.map(|t| t.saturating_sub(start.elapsed()))
        };
        self.events().next_event_into(buf, timeout)
    }

    /// One waiting read straight into `buf` if the queue is empty and the socket free (see
    /// [`next_datagram_into`](DatagramServer::next_datagram_into)); `None` when it did not
    /// take a datagram there (nothing came in time, it queued what it read, or it could not
    /// read now). `ConnectionRefused` when nothing is queued and a read found the connected
    /// peer's refusal.
    #[cfg(target_os = "linux")]
    fn direct(
        &self,
        buf: &mut [u8],
        timeout: Option<Duration>,
    ) -> Result<Option<super::EventInfo>> {
        let mut wait = timeout.unwrap_or(Duration::from_secs(3600));
        if wait.is_zero() {
            return Ok(None);
        }
        // As every wait of the queue: in slices while an interrupt check is installed.
        if crate::wait::interrupt_check().is_some() {
            wait = wait.min(crate::wait::INTERRUPT_SLICE);
        }
        let s = &self.inner;
        let read = s.events.drive(|| {
            s.driving(true);
            let r = s.wait_read(&s.events, wait, Some(buf));
            s.driving(false);
            r
        });
        if let Some(Some(Read::Direct(len, peer))) = read {
            return Ok(Some(super::EventInfo::datagram(len, peer)));
        }
        // Nothing to hand out: a refusal that a read took from the socket is the answer.
        if s.events.is_empty() {
            s.take_refused(&|| "next datagram from the connected peer".to_string())?;
        }
        Ok(None)
    }

    /// Send one datagram to `peer`, waiting up to [`SEND_WAIT`] while the socket's send buffer
    /// is full (see [`send_to_timeout`](DatagramServer::send_to_timeout)).
    pub fn send_to(&self, data: &[u8], peer: &Addr) -> Result<usize> {
        self.send_to_timeout(data, peer, Some(SEND_WAIT))
    }

    /// Send one datagram to `peer`, waiting up to `timeout` (`None` = forever, zero = not at
    /// all) while the socket's send buffer is full. `Timeout` when it stays full.
    pub fn send_to_timeout(
        &self,
        data: &[u8],
        peer: &Addr,
        timeout: Option<Duration>,
    ) -> Result<usize> {
        let op = || format!("send_to {peer}");
        if self.inner.events.is_closed() {
            return Err(Error::closed(op()));
        }
        let sa = peer
            .as_inet()
            .ok_or_else(|| Error::invalid(format!("{peer} is not a UDP address")))?;
        let (_, n) = self.send_waiting(&op, timeout, || {
            socket2::SockRef::from(&self.inner.sock)
                .send_to_with_flags(data, &sa.into(), libc::MSG_DONTWAIT)
                .map(|n| (1, n))
        })?;
        Ok(n)
    }

    /// Send several datagrams to `peer` with one system call where possible, waiting up to
    /// `timeout` (as [`send_to_timeout`](DatagramServer::send_to_timeout)) while the send buffer
    /// is full; returns how many were sent (at least one, or an error). Runs of equal-sized
    /// datagrams (the last may be shorter) go as one segmented message where the kernel takes
    /// `UDP_SEGMENT` ([`crate::offload`]); the peer sees the same datagrams either way.
    pub fn send_many_to(
        &self,
        msgs: &[&[u8]],
        peer: &Addr,
        timeout: Option<Duration>,
    ) -> Result<usize> {
        let op = || format!("send_many_to {peer}");
        if self.inner.events.is_closed() {
            return Err(Error::closed(op()));
        }
        if msgs.is_empty() {
            return Ok(0);
        }
        let sa = peer
            .as_inet()
            .ok_or_else(|| Error::invalid(format!("{peer} is not a UDP address")))?;
        let sa = socket2::SockAddr::from(sa);
        let fd = std::os::fd::AsRawFd::as_raw_fd(&self.inner.sock);
        let (n, _) = self.send_waiting(&op, timeout, || {
            let n = send_many_now(fd, msgs, &sa, &self.inner.gso)?;
            Ok((n, msgs[..n].iter().map(|m| m.len()).sum()))
        })?;
        Ok(n)
    }

    /// Run `f` (a non-blocking send returning datagrams and bytes sent) until it does not
    /// block, waiting for room up to `timeout`; counts what went.
    fn send_waiting(
        &self,
        op: &dyn Fn() -> String,
        timeout: Option<Duration>,
        mut f: impl FnMut() -> std::io::Result<(usize, usize)>,
    ) -> Result<(usize, usize)> {
        let deadline = timeout.map(crate::wait::instant_after);
        loop {
            match f() {
                Ok((d, n)) => {
                    self.inner.dg_out.fetch_add(d as u64, Ordering::Relaxed);
                    self.inner.bytes_out.fetch_add(n as u64, Ordering::Relaxed);
                    return Ok((d, n));
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    let now = Instant::now();
                    let left = match deadline {
                        Some(d) if now >= d => {
                            return Err(Error::Timeout {
                                op: op(),
                                ms: timeout.unwrap_or_default().as_millis(),
                            })
                        }
                        Some(d) => d - now,
                        None => Duration::from_millis(100),
                    };
                    let mut pfd = libc::pollfd {
                        fd: std::os::fd::AsRawFd::as_raw_fd(&self.inner.sock),
                        events: libc::POLLOUT,
                        revents: 0,
                    };
                    let ms = left.as_millis().clamp(1, 100) as i32;
                    // SAFETY: one valid pollfd on the stack.
                    unsafe { libc::poll(&mut pfd, 1, ms) };
                }
                Err(e) => return Err(Error::os(op(), e)),
            }
        }
    }

    /// Connect the socket to one peer (`connect(2)` on a UDP socket: nothing is sent), for an
    /// endpoint that talks to one server: from then on the socket takes only that peer's
    /// datagrams (what it had already received from others is still handed out),
    /// [`send`](DatagramServer::send) sends to it without naming it (the kernel keeps its
    /// route, which makes it the cheapest send: an unconnected `send_to` looks the route up
    /// for every datagram), and an ICMP error for it (nothing listens there) is reported as
    /// `ConnectionRefused` by the next `send` or
    /// [`next_datagram_into`](DatagramServer::next_datagram_into) that finds nothing queued.
    /// On Linux [`send_to`](DatagramServer::send_to) still sends anywhere (BSD systems refuse
    /// it on a connected socket); another `connect` moves the socket to another peer. `to` is
    /// as for [`send_to_endpoint`](DatagramServer::send_to_endpoint) (a host name is resolved
    /// within `timeout`). Returns the address connected to.
    pub fn connect(&self, to: impl ToEndpoint, timeout: Option<Duration>) -> Result<Addr> {
        let addr = self.peer_of(to, timeout)?;
        let op = || format!("connect UDP {} to {addr}", self.inner.local);
        if self.inner.events.is_closed() {
            return Err(Error::closed(op()));
        }
        let sa = addr
            .as_inet()
            .ok_or_else(|| Error::invalid(format!("{addr} is not a UDP address")))?;
        self.inner
            .sock
            .connect(sa)
            .map_err(|e| Error::os(op(), e))?;
        Ok(addr)
    }

    /// Send one datagram to the peer given to [`connect`](DatagramServer::connect), waiting up
    /// to [`SEND_WAIT`] while the socket's send buffer is full (see
    /// [`send_timeout`](DatagramServer::send_timeout)).
    pub fn send(&self, data: &[u8]) -> Result<usize> {
        self.send_timeout(data, Some(SEND_WAIT))
    }

    /// Send one datagram to the connected peer, waiting up to `timeout` (`None` = forever,
    /// zero = not at all) while the send buffer is full: `Timeout` when it stays full,
    /// `InvalidArgument` when the server was never connected, `ConnectionRefused` after the
    /// peer's host reported that nothing listens there.
    pub fn send_timeout(&self, data: &[u8], timeout: Option<Duration>) -> Result<usize> {
        let op = || "send to the connected peer".to_string();
        if self.inner.events.is_closed() {
            return Err(Error::closed(op()));
        }
        // A refusal that a read took from the socket (the kernel would have reported it here).
        #[cfg(target_os = "linux")]
        self.inner.take_refused(&op)?;
        let r = self.send_waiting(&op, timeout, || {
            socket2::SockRef::from(&self.inner.sock)
                .send_with_flags(data, libc::MSG_DONTWAIT)
                .map(|n| (1, n))
        });
        match r {
            Ok((_, n)) => Ok(n),
            Err(Error::Os { source, .. }) if source.raw_os_error() == Some(libc::EDESTADDRREQ) => {
                Err(Error::invalid(
                    "send: the datagram server is not connected (connect it to a peer first, \
                     or name the peer with send_to)",
                ))
            }
            Err(e) => Err(e),
        }
    }

    /// Send one datagram to `to`, an endpoint as text (`"host:port"`, `"[v6]:port"`) or any
    /// [`ToEndpoint`]: an IP literal is used as it is; a host name is resolved (within
    /// `timeout`) and its first address of this socket's family is used, as
    /// [`Datagram::send_to_endpoint`](crate::Datagram::send_to_endpoint) does. Then as
    /// [`send_to_timeout`](DatagramServer::send_to_timeout).
    pub fn send_to_endpoint(
        &self,
        data: &[u8],
        to: impl ToEndpoint,
        timeout: Option<Duration>,
    ) -> Result<usize> {
        let addr = self.peer_of(to, timeout)?;
        self.send_to_timeout(data, &addr, timeout)
    }

    /// The peer address `to` names: an IP literal as it is, a host name resolved (within
    /// `timeout`) to its first address of this socket's family.
    fn peer_of(&self, to: impl ToEndpoint, timeout: Option<Duration>) -> Result<Addr> {
        if let Some(addr) = to.ip_literal() {
            return Ok(addr);
        }
        let ep = to.to_endpoint()?;
        if ep.is_unix() {
            return Err(Error::invalid(format!("{ep} is not a UDP address")));
        }
        crate::datagram::pick_for(&self.inner.local, &ep, ep.resolve(timeout)?)
    }

    /// The counters.
    pub fn stats(&self) -> DatagramStats {
        let s = &self.inner;
        DatagramStats {
            datagrams_in: s.dg_in.load(Ordering::Relaxed),
            datagrams_out: s.dg_out.load(Ordering::Relaxed),
            bytes_in: s.bytes_in.load(Ordering::Relaxed),
            bytes_out: s.bytes_out.load(Ordering::Relaxed),
            events_queued: s.events.len() as u64,
        }
    }

    /// Stop receiving; queue the final [`Event::Closed`] and wake waiters. Idempotent.
    pub fn shutdown(&self) {
        self.inner.stop_now();
    }
}

super::pull_api!(DatagramServer);

impl Drop for DatagramServer {
    fn drop(&mut self) {
        self.inner.stop_now();
    }
}

impl Stoppable for Shared {
    fn stop_now(&self) {
        if let Some(t) = self.task.lock().unwrap_or_else(|p| p.into_inner()).take() {
            t.abort();
        }
        self.events.close();
        // Wake a consumer blocked in the socket's receive (see `Source::wait_fill`): it then
        // finds the queue closed. (On an unconnected UDP socket the call reports ENOTCONN but
        // still shuts the receive side and wakes the waiters.)
        #[cfg(target_os = "linux")]
        // SAFETY: shutdown on our own socket.
        unsafe {
            libc::shutdown(std::os::fd::AsRawFd::as_raw_fd(&self.sock), libc::SHUT_RD);
        }
    }
}

/// Send a batch without waiting (see [`DatagramServer::send_many_to`]).
#[cfg(target_os = "linux")]
fn send_many_now(
    fd: i32,
    msgs: &[&[u8]],
    to: &socket2::SockAddr,
    gso: &Gso,
) -> std::io::Result<usize> {
    offload::send_many(fd, msgs, Some(to), libc::MSG_DONTWAIT, gso)
}

/// Send a batch without waiting: one datagram at a time here.
#[cfg(not(target_os = "linux"))]
fn send_many_now(
    fd: i32,
    msgs: &[&[u8]],
    to: &socket2::SockAddr,
    _gso: &Gso,
) -> std::io::Result<usize> {
    use std::os::fd::BorrowedFd;
    // SAFETY: the socket outlives this call.
    let s = socket2::SockRef::from(&unsafe { BorrowedFd::borrow_raw(fd) });
    let mut sent = 0;
    for m in msgs {
        match s.send_to(m, to) {
            Ok(_) => sent += 1,
            Err(e) if sent > 0 && e.kind() == std::io::ErrorKind::WouldBlock => break,
            Err(e) => return Err(e),
        }
    }
    Ok(sent)
}

/// Coalesced buffers (or single datagrams) taken by one receive system call.
const RECV_SLOTS: usize = 8;

/// A waiting consumer whose waits each found one datagram reads with a full batch every this
/// many waits (one buffer in between; see `Source::wait_fill`).
#[cfg(target_os = "linux")]
const SINGLE_PROBE: u32 = 4;

/// How long the engine's reader stays away after the last consumer that read the socket
/// itself (see [`Source`]): a consumer that pulls again within it keeps reading itself, with no
/// runtime thread woken per datagram; after it, bursts go to the queue again.
const IDLE: Duration = Duration::from_millis(10);

/// A duplicate of the socket registered with the runtime for readability (dropping it
/// deregisters it). The socket is blocking on Linux (see `bind`): every read through this
/// registration says MSG_DONTWAIT.
#[cfg(target_os = "linux")]
fn register(s: &Shared) -> std::io::Result<tokio::io::unix::AsyncFd<std::os::fd::OwnedFd>> {
    let fd = std::os::fd::OwnedFd::from(s.sock.try_clone()?);
    // SAFETY: the AsyncFd owns this duplicate descriptor, which nothing else closes or
    // registers; it is deregistered when the AsyncFd is dropped, before the fd is closed.
    unsafe { tokio::io::unix::AsyncFd::register_with_interest(fd, tokio::io::Interest::READABLE) }
        .map_err(std::io::Error::from)
}

/// A duplicate of the socket registered with the runtime.
#[cfg(not(target_os = "linux"))]
fn register(s: &Shared) -> std::io::Result<tokio::net::UdpSocket> {
    tokio::net::UdpSocket::from_std(s.sock.try_clone()?)
}

/// The engine's reader. While no consumer waits in a pull, it reads with `recvmmsg(2)` (and
/// `UDP_GRO` when on): each datagram, cut back from coalesced buffers, is one event; a permit is
/// taken before each read so a full queue stops reading. When a consumer starts reading the
/// socket itself ([`Source`]), the reader deregisters the socket, so that the runtime is not
/// woken per datagram, and comes back once no consumer has done so for [`IDLE`].
#[cfg(target_os = "linux")]
async fn recv_loop(s: Arc<Shared>) {
    use std::os::fd::AsRawFd;
    let slot = s.slot();
    let mut storage = Vec::new();
    let mut headers = offload::RecvHeaders::default();
    let mut got: VecDeque<offload::Seg> = VecDeque::new();
    loop {
        let Ok(sock) = register(&s) else {
            // No registration (out of descriptors): consumers still read the socket.
            tokio::time::sleep(IDLE).await;
            continue;
        };
        if storage.is_empty() {
            storage.resize(slot * RECV_SLOTS, 0);
        }
        let fd = sock.as_raw_fd();
        s.reading.store(true, Ordering::Release);
        'reading: loop {
            // Room for at least one more event (a full queue stops reading).
            let Ok(permit) = s.events.reserve().await else {
                return;
            };
            drop(permit);
            loop {
                let started = s.started.notified();
                if s.driving.load(Ordering::Acquire) {
                    break 'reading;
                }
                let mut ready = tokio::select! {
                    r = sock.readable() => match r {
                        Ok(g) => g,
                        Err(_) => break,
                    },
                    _ = started => continue,
                };
                // Read and queue under the reader lock, as a driving consumer does, so that
                // datagrams are queued in the order they were read whoever reads them. A
                // consumer holding it is reading the socket: let it (never block this thread).
                let r = {
                    let reader = match s.pull.try_lock() {
                        Ok(g) => Some(g),
                        Err(std::sync::TryLockError::Poisoned(p)) => Some(p.into_inner()),
                        Err(std::sync::TryLockError::WouldBlock) => None,
                    };
                    match reader {
                        None => None,
                        Some(_reader) => {
                            let r = ready.try_io(|_| {
                                offload::recv(
                                    fd,
                                    &mut headers,
                                    &mut storage,
                                    slot,
                                    libc::MSG_DONTWAIT,
                                    &mut got,
                                )
                            });
                            if let Ok(Err(e)) = &r {
                                s.note_read_error(e);
                            }
                            if let Ok(Ok(_)) = r {
                                let evs = got.drain(..).map(|seg| {
                                    s.datagram(seg.peer, &storage[seg.at..seg.at + seg.len])
                                });
                                s.events.push_batch(evs, false);
                            }
                            Some(r.map(|r| r.is_ok()))
                        }
                    }
                };
                match r {
                    None => {
                        drop(ready);
                        tokio::task::yield_now().await;
                        continue;
                    }
                    Some(Err(_would_block)) => continue,
                    Some(Ok(false)) => {
                        // ICMP errors (port unreachable from an earlier send_to) surface here.
                        tokio::time::sleep(Duration::from_millis(1)).await;
                        break;
                    }
                    Some(Ok(true)) => break,
                }
            }
        }
        s.reading.store(false, Ordering::Release);
        drop(sock);
        // A consumer reads the socket itself: look again every IDLE until none has for IDLE.
        loop {
            let seen = s.drives.load(Ordering::Relaxed);
            tokio::time::sleep(IDLE).await;
            if !s.driving.load(Ordering::Acquire) && s.drives.load(Ordering::Relaxed) == seen {
                break;
            }
        }
    }
}

/// Receive one datagram at a time (no `recvmmsg` or offload here).
#[cfg(not(target_os = "linux"))]
async fn recv_loop(s: Arc<Shared>) {
    let Ok(sock) = register(&s) else {
        return;
    };
    let mut buf = vec![0u8; s.max];
    loop {
        let Ok(permit) = s.events.reserve().await else {
            return;
        };
        match sock.recv_from(&mut buf).await {
            Ok((n, peer)) => permit.push(s.datagram(Addr::Inet(peer), &buf[..n])),
            Err(_) => {
                // ICMP errors (port unreachable from an earlier send_to) surface here: ignore.
                drop(permit);
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        }
    }
}
