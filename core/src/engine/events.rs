//! Events and the bounded event queue every engine object is pulled through.

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, Weak};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::addr::Addr;
use crate::error::{Error, ErrorKind, Result};

use super::notify::NotifyFd;

/// A client id: `u64` from 1, never reused within one server. For a [`Client`](super::Client)
/// it is the connection number (1 for the first connection, 2 after the first reconnect, ...).
pub type ClientId = u64;

/// Why a connection ended. [`code`](DisconnectReason::code) is stable (the C door's
/// `LS_REASON_*`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DisconnectReason {
    /// The peer closed the connection in order (end of stream).
    PeerClosed,
    /// The peer reset the connection (or it broke: ECONNRESET, EPIPE ...).
    Reset,
    /// No application message arrived (or none moved either way, per [`IdleMode`]) for the idle
    /// timeout.
    ///
    /// [`IdleMode`]: super::IdleMode
    IdleTimeout,
    /// Nothing arrived for `interval × misses` of the heartbeat.
    HeartbeatLost,
    /// The peer sent a frame larger than the framing's `max_len` (or a malformed header).
    FrameTooLarge,
    /// The application disconnected the client.
    Kicked,
    /// The local server was shut down.
    ServerShutdown,
    /// Another error (kind and message).
    Error(ErrorKind, String),
    /// The client's send queue overflowed under [`SendPolicy::Disconnect`](super::SendPolicy).
    SendQueueFull,
    /// The local client was closed.
    Closed,
    /// TLS failed: the handshake (unknown CA, name or pin mismatch, protocol version, a
    /// plaintext peer, the handshake timeout ...), a TLS alert later, or a peer that closed
    /// without `close_notify` (the data may be truncated). The message names the reason.
    Tls(String),
}

impl DisconnectReason {
    /// One reason of each kind, in code order (1, 2, ...); `Error` stands with kind `Io` and an
    /// empty message. For tables of codes and names (the doors' constants, docs/NAMES.md).
    pub const ALL: [DisconnectReason; 11] = [
        DisconnectReason::PeerClosed,
        DisconnectReason::Reset,
        DisconnectReason::IdleTimeout,
        DisconnectReason::HeartbeatLost,
        DisconnectReason::FrameTooLarge,
        DisconnectReason::Kicked,
        DisconnectReason::ServerShutdown,
        DisconnectReason::Error(ErrorKind::Io, String::new()),
        DisconnectReason::SendQueueFull,
        DisconnectReason::Closed,
        DisconnectReason::Tls(String::new()),
    ];

    /// The stable numeric code: PeerClosed 1, Reset 2, IdleTimeout 3, HeartbeatLost 4,
    /// FrameTooLarge 5, Kicked 6, ServerShutdown 7, Error 8, SendQueueFull 9, Closed 10, Tls 11.
    pub fn code(&self) -> i32 {
        match self {
            DisconnectReason::PeerClosed => 1,
            DisconnectReason::Reset => 2,
            DisconnectReason::IdleTimeout => 3,
            DisconnectReason::HeartbeatLost => 4,
            DisconnectReason::FrameTooLarge => 5,
            DisconnectReason::Kicked => 6,
            DisconnectReason::ServerShutdown => 7,
            DisconnectReason::Error(..) => 8,
            DisconnectReason::SendQueueFull => 9,
            DisconnectReason::Closed => 10,
            DisconnectReason::Tls(_) => 11,
        }
    }

    /// The constant's name without prefix, e.g. `"HEARTBEAT_LOST"`.
    pub fn name(&self) -> &'static str {
        match self {
            DisconnectReason::PeerClosed => "PEER_CLOSED",
            DisconnectReason::Reset => "RESET",
            DisconnectReason::IdleTimeout => "IDLE_TIMEOUT",
            DisconnectReason::HeartbeatLost => "HEARTBEAT_LOST",
            DisconnectReason::FrameTooLarge => "FRAME_TOO_LARGE",
            DisconnectReason::Kicked => "KICKED",
            DisconnectReason::ServerShutdown => "SERVER_SHUTDOWN",
            DisconnectReason::Error(..) => "ERROR",
            DisconnectReason::SendQueueFull => "SEND_QUEUE_FULL",
            DisconnectReason::Closed => "CLOSED",
            DisconnectReason::Tls(_) => "TLS",
        }
    }

    /// For [`DisconnectReason::Error`], the error kind; for [`DisconnectReason::Tls`],
    /// [`ErrorKind::Tls`].
    pub fn error_kind(&self) -> Option<ErrorKind> {
        match self {
            DisconnectReason::Error(k, _) => Some(*k),
            DisconnectReason::Tls(_) => Some(ErrorKind::Tls),
            _ => None,
        }
    }

    /// The reason for an error that ended (or prevented) a connection: `Tls` for TLS errors,
    /// else `Error(kind, message)`.
    pub(crate) fn from_error(e: &crate::Error) -> DisconnectReason {
        match e {
            crate::Error::Tls(m) => DisconnectReason::Tls(m.clone()),
            e => DisconnectReason::Error(e.kind(), e.to_string()),
        }
    }

    /// Classify an I/O error that ended a connection.
    pub(crate) fn from_io(e: &std::io::Error) -> DisconnectReason {
        use std::io::ErrorKind as K;
        match e.kind() {
            K::ConnectionReset | K::BrokenPipe | K::ConnectionAborted => DisconnectReason::Reset,
            K::UnexpectedEof => DisconnectReason::PeerClosed,
            _ => DisconnectReason::Error(
                e.raw_os_error()
                    .map(ErrorKind::from_errno)
                    .unwrap_or(ErrorKind::Io),
                e.to_string(),
            ),
        }
    }
}

impl fmt::Display for DisconnectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DisconnectReason::PeerClosed => f.write_str("peer closed the connection"),
            DisconnectReason::Reset => f.write_str("connection reset"),
            DisconnectReason::IdleTimeout => f.write_str("idle timeout"),
            DisconnectReason::HeartbeatLost => f.write_str("heartbeat lost"),
            DisconnectReason::FrameTooLarge => f.write_str("frame too large"),
            DisconnectReason::Kicked => f.write_str("disconnected by the application"),
            DisconnectReason::ServerShutdown => f.write_str("server shut down"),
            DisconnectReason::Error(k, m) => write!(f, "error ({}): {m}", k.name()),
            DisconnectReason::SendQueueFull => f.write_str("send queue full"),
            DisconnectReason::Closed => f.write_str("closed"),
            DisconnectReason::Tls(m) => write!(f, "TLS: {m}"),
        }
    }
}

/// The kind of an [`Event`], with stable numeric codes (the C door's `LS_EVENT_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EventKind {
    /// [`Event::Connected`] (1).
    Connected,
    /// [`Event::Message`] (2).
    Message,
    /// [`Event::Disconnected`] (3).
    Disconnected,
    /// [`Event::Reconnecting`] (4).
    Reconnecting,
    /// [`Event::Datagram`] (5).
    Datagram,
    /// [`Event::Closed`] (6).
    Closed,
    /// [`Event::Warning`] (7).
    Warning,
}

impl EventKind {
    /// Every kind, in code order (1, 2, ...).
    pub const ALL: [EventKind; 7] = [
        EventKind::Connected,
        EventKind::Message,
        EventKind::Disconnected,
        EventKind::Reconnecting,
        EventKind::Datagram,
        EventKind::Closed,
        EventKind::Warning,
    ];

    /// The stable code: Connected 1, Message 2, Disconnected 3, Reconnecting 4, Datagram 5,
    /// Closed 6, Warning 7.
    pub fn code(self) -> i32 {
        match self {
            EventKind::Connected => 1,
            EventKind::Message => 2,
            EventKind::Disconnected => 3,
            EventKind::Reconnecting => 4,
            EventKind::Datagram => 5,
            EventKind::Closed => 6,
            EventKind::Warning => 7,
        }
    }

    /// The constant's name without prefix, e.g. `"MESSAGE"`.
    pub fn name(self) -> &'static str {
        match self {
            EventKind::Connected => "CONNECTED",
            EventKind::Message => "MESSAGE",
            EventKind::Disconnected => "DISCONNECTED",
            EventKind::Reconnecting => "RECONNECTING",
            EventKind::Datagram => "DATAGRAM",
            EventKind::Closed => "CLOSED",
            EventKind::Warning => "WARNING",
        }
    }
}

/// What an engine object reports. Pulled with `next_events`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// A connection was made (server: a client was accepted; client: connected to the server).
    Connected {
        /// The client id (server) or connection number (client).
        client: ClientId,
        /// The peer's address.
        peer: Addr,
    },
    /// A framed message arrived.
    Message {
        /// Who sent it (server) or the connection number (client).
        client: ClientId,
        /// The message (without framing).
        data: Bytes,
    },
    /// A connection ended. Every `Connected` is followed by exactly one `Disconnected` with the
    /// same id. A [`Client`](super::Client) whose connect attempt failed for good reports
    /// `Disconnected { client: 0, reason: Error(..) }`.
    Disconnected {
        /// The client id (server) or connection number (client).
        client: ClientId,
        /// Why.
        reason: DisconnectReason,
    },
    /// A client lost its connection (or could not connect) and tries again after `delay`.
    Reconnecting {
        /// The attempt about to be made (1 for the first retry).
        attempt: u32,
        /// How long the client waits before it.
        delay: Duration,
    },
    /// A datagram arrived (datagram server).
    Datagram {
        /// The sender.
        peer: Addr,
        /// The datagram.
        data: Bytes,
    },
    /// The object stopped (shutdown, close, or gave up reconnecting): the last event. Pulling
    /// after it gives [`ErrorKind::Closed`].
    Closed,
    /// Something went wrong that ended no connection but that the application must be able to
    /// see. Reported once per episode (again only after the condition cleared):
    /// - `QueueFull`, client set: a send to that client was refused, or a broadcast skipped it,
    ///   because its send queue was full (a slow consumer under [`SendPolicy::Error`]); counted
    ///   in `ServerStats::send_queue_full`.
    /// - `Io` (or another kind), client 0: accepting failed, e.g. out of descriptors (EMFILE);
    ///   the server pauses accepting and retries; counted in `ServerStats::accept_errors`.
    ///
    /// [`SendPolicy::Error`]: super::SendPolicy::Error
    Warning {
        /// The client concerned (0 for the server itself).
        client: ClientId,
        /// What kind of failure.
        error: ErrorKind,
        /// What happened, in words.
        message: String,
    },
}

impl Event {
    /// The event's kind.
    pub fn kind(&self) -> EventKind {
        match self {
            Event::Connected { .. } => EventKind::Connected,
            Event::Message { .. } => EventKind::Message,
            Event::Disconnected { .. } => EventKind::Disconnected,
            Event::Reconnecting { .. } => EventKind::Reconnecting,
            Event::Datagram { .. } => EventKind::Datagram,
            Event::Closed => EventKind::Closed,
            Event::Warning { .. } => EventKind::Warning,
        }
    }

    /// The client id (0 for events without one).
    pub fn client(&self) -> ClientId {
        match self {
            Event::Connected { client, .. }
            | Event::Message { client, .. }
            | Event::Disconnected { client, .. }
            | Event::Warning { client, .. } => *client,
            _ => 0,
        }
    }

    /// The message or datagram bytes, if any.
    pub fn data(&self) -> Option<&Bytes> {
        match self {
            Event::Message { data, .. } | Event::Datagram { data, .. } => Some(data),
            _ => None,
        }
    }

    /// The peer address of `Connected` and `Datagram`.
    pub fn peer(&self) -> Option<&Addr> {
        match self {
            Event::Connected { peer, .. } | Event::Datagram { peer, .. } => Some(peer),
            _ => None,
        }
    }

    /// The error kind of `Warning`.
    pub fn warning(&self) -> Option<ErrorKind> {
        match self {
            Event::Warning { error, .. } => Some(*error),
            _ => None,
        }
    }

    /// The reason of `Disconnected`.
    pub fn reason(&self) -> Option<&DisconnectReason> {
        match self {
            Event::Disconnected { reason, .. } => Some(reason),
            _ => None,
        }
    }

    /// The bytes [`next_event_into`](EventQueue::next_event_into) copies into the caller's buffer:
    /// Message and Datagram: the data; Connected: the peer address as UTF-8 text (e.g.
    /// `127.0.0.1:5000`); Disconnected: the reason as text; Warning: the message; Reconnecting
    /// and Closed: nothing.
    pub fn payload(&self) -> std::borrow::Cow<'_, [u8]> {
        use std::borrow::Cow;
        match self {
            Event::Message { data, .. } | Event::Datagram { data, .. } => Cow::Borrowed(&data[..]),
            Event::Connected { peer, .. } => Cow::Owned(peer.to_string().into_bytes()),
            Event::Disconnected { reason, .. } => Cow::Owned(reason.to_string().into_bytes()),
            Event::Warning { message, .. } => Cow::Borrowed(message.as_bytes()),
            _ => Cow::Borrowed(&[]),
        }
    }
}

/// What [`next_event_into`](EventQueue::next_event_into) returns besides the bytes it copied:
/// every field a C caller needs, as plain numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventInfo {
    /// The kind.
    pub kind: EventKind,
    /// The client id (0 when the event has none).
    pub client: ClientId,
    /// Bytes copied into the buffer (see [`Event::payload`]).
    pub len: usize,
    /// Disconnected: the reason (its [`code`](DisconnectReason::code) for C).
    pub reason: Option<DisconnectReason>,
    /// Connected and Datagram: the peer.
    pub peer: Option<Addr>,
    /// Warning: the kind of failure (its [`code`](ErrorKind::code) for C).
    pub warning: Option<ErrorKind>,
    /// Reconnecting: the attempt number.
    pub attempt: u32,
    /// Reconnecting: the delay before it.
    pub delay: Duration,
}

impl EventInfo {
    /// A datagram of `len` bytes from `peer`.
    pub(crate) fn datagram(len: usize, peer: Addr) -> EventInfo {
        EventInfo {
            kind: EventKind::Datagram,
            client: 0,
            len,
            reason: None,
            peer: Some(peer),
            warning: None,
            attempt: 0,
            delay: Duration::ZERO,
        }
    }
}

/// The queue's places: single events, and runs of messages of one client that one read cut
/// (one block of received bytes and the messages' positions in it). A run is `len()` events
/// for every count and bound; a message becomes an [`Event`] (a slice of the block) only when
/// a pull hands it out as one, and the pulls that copy messages out make none.
#[derive(Default)]
struct Slots {
    slots: VecDeque<Slot>,
    /// Events held (a run counts each of its messages).
    count: usize,
}

enum Slot {
    One(Event),
    Run(Run),
}

struct Run {
    client: ClientId,
    block: Bytes,
    /// `(start, end)` of each message in `block`; messages `at..` are still queued.
    cuts: Vec<(usize, usize)>,
    at: usize,
}

impl Slots {
    fn len(&self) -> usize {
        self.count
    }

    fn is_empty(&self) -> bool {
        self.count == 0
    }

    fn push_back(&mut self, ev: Event) {
        self.slots.push_back(Slot::One(ev));
        self.count += 1;
    }

    fn push_run(&mut self, client: ClientId, block: Bytes, cuts: Vec<(usize, usize)>) {
        if cuts.is_empty() {
            return;
        }
        self.count += cuts.len();
        self.slots.push_back(Slot::Run(Run {
            client,
            block,
            cuts,
            at: 0,
        }));
    }

    /// The payload length of the first event (0 when empty).
    fn front_len(&self) -> usize {
        match self.slots.front() {
            Some(Slot::One(ev)) => ev.payload().len(),
            Some(Slot::Run(r)) => {
                let (s, e) = r.cuts[r.at];
                e - s
            }
            None => 0,
        }
    }

    /// Take the first event.
    fn pop_front(&mut self) -> Option<Event> {
        let ev = match self.slots.front_mut()? {
            Slot::One(_) => match self.slots.pop_front() {
                Some(Slot::One(ev)) => ev,
                _ => unreachable!("the front slot is one event"),
            },
            Slot::Run(r) => {
                let (s, e) = r.cuts[r.at];
                r.at += 1;
                let ev = Event::Message {
                    client: r.client,
                    data: r.block.slice(s..e),
                };
                if r.at == r.cuts.len() {
                    self.slots.pop_front();
                }
                ev
            }
        };
        self.count -= 1;
        Some(ev)
    }

    /// Take up to `max` events.
    fn take(&mut self, max: usize) -> Vec<Event> {
        let n = max.min(self.count);
        let mut out = Vec::with_capacity(n);
        while out.len() < n {
            match self.pop_front() {
                Some(ev) => out.push(ev),
                None => break,
            }
        }
        out
    }

    /// Hand the messages at the front to `f` in order, at most `max`, without making an event
    /// of them; `f` returns false to leave that message queued (and stop). Stops at the first
    /// event that is not a message. Returns how many were taken and their bytes.
    fn take_messages(
        &mut self,
        max: usize,
        mut f: impl FnMut(ClientId, &[u8]) -> bool,
    ) -> (usize, usize) {
        let (mut n, mut bytes) = (0, 0);
        while n < max {
            match self.slots.front_mut() {
                Some(Slot::One(Event::Message { client, data })) => {
                    if !f(*client, data) {
                        break;
                    }
                    bytes += data.len();
                    n += 1;
                    self.slots.pop_front();
                }
                Some(Slot::Run(r)) => {
                    // The run's messages that may be taken, in one pass over its cuts.
                    let rest = &r.cuts[r.at..];
                    let rest = &rest[..rest.len().min(max - n)];
                    let mut took = 0;
                    for &(s, e) in rest {
                        if !f(r.client, &r.block[s..e]) {
                            break;
                        }
                        bytes += e - s;
                        took += 1;
                    }
                    r.at += took;
                    n += took;
                    if r.at < r.cuts.len() {
                        break; // `max` reached, or `f` left this one
                    }
                    self.slots.pop_front();
                }
                _ => break,
            }
        }
        self.count -= n;
        (n, bytes)
    }
}

struct Inner {
    q: Slots,
    /// Message and datagram bytes in `q` (bounded by [`EVENT_QUEUE_BYTES`] as `q` is by the
    /// capacity).
    bytes: usize,
    /// Places taken by producers that waited for room and have not pushed yet.
    reserved: usize,
    /// No more events will come (the final `Closed` event is queued).
    closed: bool,
    /// Threads waiting in `wait_ready` (a push wakes them only if there are any).
    waiting: usize,
    /// `notify_fd` was handed out: keep the fd's state in step with the queue (until then the
    /// fd is left alone, which saves two system calls per batch of events).
    armed: bool,
    /// A wake-up of the consumers is owed and queued on a runtime thread (see [`defer`]).
    wake_pending: bool,
    /// Producers waiting for room (connection tasks, the accept loop).
    room: Vec<Waker>,
    /// Incremented each time `room` is emptied, so a producer registers once per round.
    room_round: u64,
    /// A consumer is reading the queue's [`Source`] itself (at most one at a time).
    driving: bool,
    /// The last read of the source before waiting found nothing (request–reply traffic): the
    /// next waiting consumer waits in `poll(2)` first instead of trying a read that would fail.
    expect_empty: bool,
}

/// Where a queue's events come from, when a waiting consumer can read it itself: the datagram
/// server's socket, or TCP connections (an engine client's, a server's first few: see
/// `link::ReadSide`). A consumer that finds the queue empty takes what the socket holds in its
/// own thread and waits in `poll(2)` on the socket, instead of waiting for a runtime thread to
/// read it and hand the events over (a thread switch per message in request–reply traffic).
/// The runtime's reader stands aside while a consumer drives, and reads as before when none
/// waits, so bursts that arrive while the application is busy still go to the queue.
pub(crate) trait Source: Send + Sync {
    /// Take what is waiting now without blocking and queue it with
    /// [`EventQueue::push_batch`]; how many events were queued (0: nothing was waiting).
    fn fill(&self, q: &EventQueue) -> usize;
    /// The descriptor that is readable when [`fill`](Source::fill) would find something.
    fn fd(&self) -> i32;
    /// A consumer starts (`true`) or stops (`false`) waiting on the source (a pull that does
    /// not wait only calls [`fill`](Source::fill)).
    fn driving(&self, on: bool);
    /// Wait up to `wait` for something to read, read it and queue it as
    /// [`fill`](Source::fill) does, in one blocking system call: how many events were queued
    /// (0 on timeout, on a signal, or when the object was stopped). `None` when the source
    /// cannot now (the caller then waits in `poll(2)` on [`fd`](Source::fd) and the queue's fd).
    fn wait_fill(&self, q: &EventQueue, wait: Duration) -> Option<usize>;
}

/// The part of a queue that a runtime thread may keep to wake consumers later.
struct Core {
    inner: Mutex<Inner>,
    readable: Condvar,
    fd: NotifyFd,
}

impl Core {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Make waiting consumers see what is queued: the fd (if handed out) and the condvar.
    fn wake_locked(&self, i: &mut Inner) {
        i.wake_pending = false;
        if i.armed && (!i.q.is_empty() || i.closed) {
            self.fd.set();
        }
        if i.waiting > 0 {
            self.readable.notify_all();
        }
    }
}

/// Deferred consumer wake-ups on the engine's runtime threads.
///
/// A connection task that queues an event while the consumer waits does not wake it at once:
/// the wake-up is owed and paid when the runtime thread runs out of ready tasks (before it
/// parks), after [`DEFER_MAX`] deferred events, or once it is [`DEFER_TIME`] old (checked
/// after every connection poll, so a thread kept busy by a bulk transfer still pays soon).
/// The consumer then takes the events of every connection that became ready in one batch
/// instead of one thread switch per event (on a single CPU, an immediate wake-up preempts
/// the runtime thread after each event).
pub(crate) mod defer {
    use std::cell::RefCell;
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    /// Pay the owed wake-ups after this many deferred events even if the thread stays busy.
    pub(super) const DEFER_MAX: usize = 256;
    /// Pay the owed wake-ups when the oldest is this old, even if the thread stays busy.
    pub(crate) const DEFER_TIME: Duration = Duration::from_millis(1);

    struct Owed {
        /// This thread is a runtime worker (it calls [`flush`] before parking).
        active: bool,
        queues: Vec<Arc<super::Core>>,
        events: usize,
        /// When the first of the owed wake-ups was deferred.
        since: Option<Instant>,
        /// Connection polls since the clock was last read (it is read every 16th).
        polls: u32,
    }

    thread_local! {
        static OWED: RefCell<Owed> = const {
            RefCell::new(Owed {
                active: false,
                queues: Vec::new(),
                events: 0,
                since: None,
                polls: 0,
            })
        };
    }

    /// Called by the runtime before a worker parks (and when it stops): pay every owed
    /// wake-up, and defer wake-ups on this thread from now on.
    pub(crate) fn flush() {
        let queues = OWED
            .try_with(|o| {
                let mut o = o.borrow_mut();
                o.active = true;
                o.events = 0;
                o.since = None;
                std::mem::take(&mut o.queues)
            })
            .unwrap_or_default();
        for c in queues {
            let mut i = c.lock();
            if i.wake_pending {
                c.wake_locked(&mut i);
            }
        }
    }

    /// Stop deferring on this thread (it is about to exit) and pay what is owed.
    pub(crate) fn stop() {
        flush();
        let _ = OWED.try_with(|o| o.borrow_mut().active = false);
    }

    /// Owe a wake-up of `core` (its `wake_pending` is set by the caller, under its lock).
    /// False when this thread does not defer: the caller wakes at once.
    pub(super) fn owe(core: &Arc<super::Core>) -> bool {
        OWED.try_with(|o| {
            let mut o = o.borrow_mut();
            if !o.active {
                return false;
            }
            if o.queues.is_empty() {
                o.since = Some(Instant::now());
            }
            o.queues.push(core.clone());
            true
        })
        .unwrap_or(false)
    }

    /// Count one deferred event; after too many, pay now. Call without any queue lock held.
    pub(super) fn counted() {
        counted_n(1)
    }

    /// Count `n` deferred events (see [`counted`]).
    pub(super) fn counted_n(n: usize) {
        let over = OWED
            .try_with(|o| {
                let mut o = o.borrow_mut();
                if o.queues.is_empty() {
                    return false;
                }
                o.events += n;
                o.events >= DEFER_MAX
            })
            .unwrap_or(false);
        if over {
            flush();
        }
    }

    /// Called after each connection poll: pay the owed wake-ups once the oldest is
    /// [`DEFER_TIME`] old (the clock is read every 16th poll while something is owed; a
    /// poll is short, bounded by tokio's cooperative budget). Costs a thread-local check
    /// when nothing is owed.
    pub(crate) fn tick() {
        let due = OWED
            .try_with(|o| {
                let mut o = o.borrow_mut();
                if o.queues.is_empty() {
                    return false;
                }
                o.polls = o.polls.wrapping_add(1);
                o.polls % 16 == 0 && o.since.is_some_and(|t| t.elapsed() >= DEFER_TIME)
            })
            .unwrap_or(false);
        if due {
            flush();
        }
    }
}

/// Several pushes under one lock of an [`EventQueue`] (see [`EventQueue::hold`]).
pub(crate) struct Hold<'a> {
    q: &'a EventQueue,
    i: std::mem::ManuallyDrop<MutexGuard<'a, Inner>>,
    pushed: usize,
}

impl Hold<'_> {
    /// Room now, as `(free places, bytes queued)`: a message fits while there is a free place
    /// and fewer than [`EVENT_QUEUE_BYTES`] are queued (the rule of
    /// [`EventQueue::try_push`]). `None` once the queue is closed.
    pub(crate) fn room(&self) -> Option<(usize, usize)> {
        if self.i.closed {
            return None;
        }
        let free = self
            .q
            .capacity
            .saturating_sub(self.i.q.len() + self.i.reserved);
        Some((free, self.i.bytes))
    }

    /// Register `cx` to be woken when room frees up (as a refused
    /// [`EventQueue::try_push`] does).
    pub(crate) fn wait_room(&mut self, cx: &mut Context<'_>, round: &mut u64) {
        EventQueue::wait_room(&mut self.i, cx, round);
    }

    /// Push the messages of one read of `client` (positions `cuts` in `block`, `bytes` in all)
    /// that [`room`](Hold::room) said fit, as one run.
    pub(crate) fn push_run(
        &mut self,
        client: ClientId,
        block: Bytes,
        cuts: Vec<(usize, usize)>,
        bytes: usize,
    ) {
        self.i.bytes += bytes;
        self.pushed += cuts.len();
        self.i.q.push_run(client, block, cuts);
    }

    /// Wake the consumers for what [`push_run`](Hold::push_run) queued (the lock was held
    /// throughout, so the queue held `len - pushed` events before). `by_task`: false when a
    /// consumer that reads a [`Source`] queued them, which takes them next (only the other
    /// waiting consumers are woken, as for [`EventQueue::push_batch`] by a driver).
    pub(crate) fn signal(&mut self, by_task: bool) {
        if self.pushed > 0 {
            if by_task {
                self.q.signal(&mut self.i, self.pushed);
            } else {
                self.q.signal_consumers(&mut self.i, self.pushed);
            }
        }
    }
}

impl Drop for Hold<'_> {
    fn drop(&mut self) {
        // SAFETY: `i` is not used after this; the lock is released before the count, which
        // may pay owed wake-ups (they take queue locks).
        unsafe { std::mem::ManuallyDrop::drop(&mut self.i) };
        if self.pushed > 0 {
            defer::counted_n(self.pushed);
        }
    }
}

/// The bytes of message and datagram events an [`EventQueue`] holds before its producers wait
/// (as they do at its event capacity): a paused application holds at most this much received
/// data plus one message, whatever the messages' sizes.
pub const EVENT_QUEUE_BYTES: usize = 32 << 20;

/// The bytes an event holds (its message or datagram).
fn data_len(ev: &Event) -> usize {
    ev.data().map_or(0, |d| d.len())
}

/// A bounded queue of events: filled by the engine's tasks, pulled by any thread.
///
/// Producers that must respect the bound (messages, new connections, datagrams) wait for room
/// (a reservation), which stops their socket reads: the engine never drops
/// an event and never grows the queue past `capacity` plus one `Disconnected` per live
/// connection (those are pushed regardless of the bound, so a shutdown never waits for the
/// application). The [`notify_fd`](EventQueue::notify_fd) is readable exactly while events are
/// waiting or the queue is closed (once events are queued by the engine's threads, it becomes
/// readable when those threads have finished the work at hand, at the latest after a few
/// hundred events).
pub struct EventQueue {
    core: Arc<Core>,
    capacity: usize,
    /// What a waiting consumer may read itself (see [`Source`]).
    source: OnceLock<Weak<dyn Source>>,
}

impl fmt::Debug for EventQueue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = self.lock();
        f.debug_struct("EventQueue")
            .field("len", &i.q.len())
            .field("capacity", &self.capacity)
            .field("closed", &i.closed)
            .finish()
    }
}

/// Room for one event, taken by [`EventQueue::reserve`].
pub(crate) struct Permit<'a> {
    q: &'a EventQueue,
    used: bool,
}

impl Permit<'_> {
    /// Queue the event in the reserved place.
    pub(crate) fn push(mut self, ev: Event) {
        self.used = true;
        let mut i = self.q.lock();
        i.reserved -= 1;
        self.q.push_locked(&mut i, ev);
        drop(i);
        defer::counted();
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        if !self.used {
            let mut i = self.q.lock();
            i.reserved -= 1;
            let w = self.q.take_room_waiters(&mut i);
            drop(i);
            w.into_iter().for_each(Waker::wake);
        }
    }
}

/// What [`EventQueue::try_push`] did.
pub(crate) enum TryPush {
    /// Queued.
    Pushed,
    /// No room: the event is given back and the task will be woken when there is room.
    Full(Event),
    /// The queue is closed (the event is dropped).
    Closed,
}

impl EventQueue {
    pub(crate) fn new(capacity: usize) -> Result<EventQueue> {
        Ok(EventQueue {
            core: Arc::new(Core {
                inner: Mutex::new(Inner {
                    q: Slots::default(),
                    bytes: 0,
                    reserved: 0,
                    closed: false,
                    waiting: 0,
                    armed: false,
                    wake_pending: false,
                    room: Vec::new(),
                    room_round: 0,
                    driving: false,
                    expect_empty: false,
                }),
                readable: Condvar::new(),
                fd: NotifyFd::new()?,
            }),
            capacity: capacity.max(1),
            source: OnceLock::new(),
        })
    }

    /// Let waiting consumers read `source` themselves (set once, by the object that owns the
    /// queue; a weak reference, so the queue does not keep its owner alive).
    #[cfg(unix)]
    pub(crate) fn set_source(&self, source: Weak<dyn Source>) {
        let _ = self.source.set(source);
    }

    /// Queue the events of one read of a [`Source`], regardless of the bound (they are already
    /// out of the socket; one read holds at most a few hundred). `by_driver`: the consumer that
    /// drives pushes them (no one to wake through the fd); otherwise the engine's reader does.
    pub(crate) fn push_batch(&self, evs: impl IntoIterator<Item = Event>, by_driver: bool) {
        let mut i = self.lock();
        if i.closed {
            return;
        }
        let before = i.q.len();
        for ev in evs {
            i.bytes += data_len(&ev);
            i.q.push_back(ev);
        }
        let added = i.q.len() - before;
        if added == 0 {
            return;
        }
        if by_driver {
            self.signal_consumers(&mut i, added);
        } else {
            self.signal(&mut i, added);
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.core.lock()
    }

    fn push_locked(&self, i: &mut Inner, ev: Event) {
        if i.closed {
            return;
        }
        i.bytes += data_len(&ev);
        i.q.push_back(ev);
        self.signal(i, 1);
    }

    /// After pushing `added` events (under the same lock): wake the consumers if any wait (or
    /// the fd is handed out), now or, on a runtime thread, when it has finished the work at
    /// hand.
    fn signal(&self, i: &mut Inner, added: usize) {
        if i.driving {
            // A consumer waits in poll(2) on the source and this fd (see `wait_ready`).
            self.core.fd.set();
        }
        self.signal_consumers(i, added);
    }

    /// After pushing `added` events: wake the consumers that wait on the condvar or the
    /// handed-out fd.
    fn signal_consumers(&self, i: &mut Inner, added: usize) {
        if i.wake_pending || (i.waiting == 0 && !i.armed) {
            return;
        }
        if i.armed && i.waiting == 0 && i.q.len() > added {
            // The fd is already readable: it was set with the events queued before these.
            return;
        }
        if defer::owe(&self.core) {
            i.wake_pending = true;
        } else {
            self.core.wake_locked(i);
        }
    }

    fn has_room(&self, i: &Inner) -> bool {
        i.q.len() + i.reserved < self.capacity && i.bytes < EVENT_QUEUE_BYTES
    }

    /// Register `cx` to be woken when room frees up; `round` remembers the registration so a
    /// task polled again registers only once per round.
    fn wait_room(i: &mut Inner, cx: &mut Context<'_>, round: &mut u64) {
        if *round == i.room_round + 1 {
            return;
        }
        *round = i.room_round + 1;
        i.room.push(cx.waker().clone());
    }

    fn take_room_waiters(&self, i: &mut Inner) -> Vec<Waker> {
        if i.room.is_empty() || (!self.has_room(i) && !i.closed) {
            return Vec::new();
        }
        i.room_round += 1;
        std::mem::take(&mut i.room)
    }

    /// Queue `ev` if there is room; otherwise give it back and wake `cx` when room frees up
    /// (or the queue closes). `round` is the caller's registration state (start at 0).
    pub(crate) fn try_push(&self, ev: Event, cx: &mut Context<'_>, round: &mut u64) -> TryPush {
        let mut i = self.lock();
        if i.closed {
            return TryPush::Closed;
        }
        if !self.has_room(&i) {
            Self::wait_room(&mut i, cx, round);
            return TryPush::Full(ev);
        }
        i.bytes += data_len(&ev);
        i.q.push_back(ev);
        self.signal(&mut i, 1);
        drop(i);
        defer::counted();
        TryPush::Pushed
    }

    /// Hold the queue's lock for the messages of one read (a connection's run, see
    /// [`Hold::push_run`]): taken once instead of per message. Drop the hold before taking any
    /// other lock.
    pub(crate) fn hold(&self) -> Hold<'_> {
        Hold {
            q: self,
            i: std::mem::ManuallyDrop::new(self.lock()),
            pushed: 0,
        }
    }

    /// Wait for room for one event (the backpressure point). Cancel-safe.
    pub(crate) async fn reserve(&self) -> Result<Permit<'_>> {
        let mut round = 0u64;
        std::future::poll_fn(|cx| {
            let mut i = self.lock();
            if i.closed {
                return Poll::Ready(Err(Error::closed("event queue")));
            }
            if self.has_room(&i) {
                i.reserved += 1;
                return Poll::Ready(Ok(Permit {
                    q: self,
                    used: false,
                }));
            }
            Self::wait_room(&mut i, cx, &mut round);
            Poll::Pending
        })
        .await
    }

    /// Take room for one event if there is some now; otherwise register `cx` to be woken when
    /// room frees up (`round` as for [`try_push`](EventQueue::try_push)). `Err` once closed.
    /// For producers that are not futures (the io_uring driver).
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    pub(crate) fn try_reserve(
        &self,
        cx: &mut Context<'_>,
        round: &mut u64,
    ) -> Result<Option<Permit<'_>>> {
        let mut i = self.lock();
        if i.closed {
            return Err(Error::closed("event queue"));
        }
        if self.has_room(&i) {
            i.reserved += 1;
            return Ok(Some(Permit {
                q: self,
                used: false,
            }));
        }
        Self::wait_room(&mut i, cx, round);
        Ok(None)
    }

    /// Queue `ev` if there is room now; false (the event dropped) if not or closed. For
    /// best-effort reports that must not crowd out the events the application needs.
    pub(crate) fn try_push_now(&self, ev: Event) -> bool {
        let mut i = self.lock();
        if i.closed || !self.has_room(&i) {
            return false;
        }
        self.push_locked(&mut i, ev);
        drop(i);
        defer::counted();
        true
    }

    /// Queue an event regardless of the bound (for `Disconnected` and other once-per-connection
    /// events, so that stopping never waits for the application).
    pub(crate) fn push_force(&self, ev: Event) {
        let mut i = self.lock();
        self.push_locked(&mut i, ev);
        drop(i);
        defer::counted();
    }

    /// Queue the final [`Event::Closed`] and refuse everything after it (idempotent).
    pub(crate) fn close(&self) {
        let mut i = self.lock();
        if i.closed {
            return;
        }
        i.q.push_back(Event::Closed);
        i.closed = true;
        self.core.fd.set();
        self.core.readable.notify_all();
        i.room_round += 1;
        let w = std::mem::take(&mut i.room);
        drop(i);
        w.into_iter().for_each(Waker::wake);
    }

    /// Run `read` as the consumer that reads the queue's [`Source`] itself, when that is
    /// possible now: the queue is empty and open, no other consumer drives the source and the
    /// notify fd was not handed out (it must follow the queue). `None` (and `read` not run)
    /// otherwise. While `read` runs, other consumers wait on the queue as they do while a
    /// consumer waits in [`wait_ready`](EventQueue::wait_ready); they are woken after it, to
    /// take what it queued or to take over the reading.
    pub(crate) fn drive<R>(&self, read: impl FnOnce() -> R) -> Option<R> {
        /// Gives the source back even if `read` unwinds.
        struct Driving<'a>(&'a EventQueue);
        impl Drop for Driving<'_> {
            fn drop(&mut self) {
                let mut i = self.0.lock();
                i.driving = false;
                if i.waiting > 0 {
                    self.0.core.readable.notify_all();
                }
            }
        }
        let mut i = self.lock();
        if !i.q.is_empty() || i.closed || i.driving || i.armed {
            return None;
        }
        i.driving = true;
        drop(i);
        let _back = Driving(self);
        Some(read())
    }

    /// True once the final `Closed` event is queued.
    pub fn is_closed(&self) -> bool {
        self.lock().closed
    }

    /// Events waiting now.
    pub fn len(&self) -> usize {
        self.lock().q.len()
    }

    /// True when no event is waiting.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The bound (events).
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// A file descriptor that is readable while events are waiting (or the queue is closed), for
    /// epoll, asyncio's `add_reader`, Qt's `QSocketNotifier`. Level-triggered: it is reset when a
    /// pull empties the queue. Valid as long as the object lives; never read from or close it.
    pub fn notify_fd(&self) -> i32 {
        let mut i = self.lock();
        if !i.armed {
            i.armed = true;
            if !i.q.is_empty() || i.closed {
                self.core.fd.set();
            }
        }
        self.core.fd.fd()
    }

    /// Wait until an event is waiting (or the queue is closed, or the timeout passes); the guard
    /// is returned with the queue locked. `Ok(None)` on timeout. With a [`Source`], one waiting
    /// consumer at a time reads it itself (the others wait on the condvar as usual).
    fn wait_ready(&self, timeout: Option<Duration>) -> Result<Option<MutexGuard<'_, Inner>>> {
        let mut i = self.lock();
        if !i.q.is_empty() {
            return Ok(Some(i));
        }
        let deadline = timeout.map(crate::wait::instant_after);
        let check = crate::wait::interrupt_check();
        // A zero or passed timeout still reads the source once before it gives up.
        let mut filled = false;
        // The last round waited in poll(2): read before anything else.
        let mut polled = false;
        loop {
            if !i.q.is_empty() {
                return Ok(Some(i));
            }
            if i.closed {
                return Err(Error::closed("next event: the engine object is closed"));
            }
            // Not while the notify fd is handed out: it must follow the queue, which only the
            // engine's reader fills while no consumer waits.
            // A source with nothing to read now (a client between connections) is waited
            // for on the condvar, as a queue without one.
            let source = match i.driving || i.armed {
                true => None,
                false => self
                    .source
                    .get()
                    .and_then(Weak::upgrade)
                    .filter(|s| s.fd() >= 0),
            };
            let now = Instant::now();
            let mut wait = match deadline {
                Some(d) if d <= now && (filled || source.is_none()) => return Ok(None),
                Some(d) => d.saturating_duration_since(now),
                None => Duration::from_secs(3600),
            };
            if check.is_some() {
                wait = wait.min(crate::wait::INTERRUPT_SLICE);
            }
            if let Some(src) = source {
                i.driving = true;
                let read_first = polled || wait.is_zero() || !i.expect_empty;
                drop(i);
                // One blocking read where the source can (the cheapest wait: one system call).
                let mut waited = None;
                if !polled && !wait.is_zero() {
                    src.driving(true);
                    waited = src.wait_fill(self, wait);
                    src.driving(false);
                }
                let mut got = waited.unwrap_or(0);
                let mut ready = got > 0;
                let mut expect_empty = None;
                if waited.is_some() {
                    filled = true;
                    polled = false;
                } else {
                    got = if read_first { src.fill(self) } else { 0 };
                    filled = read_first;
                    if polled {
                        // A backlog behind the datagram that woke the poll: read first next time.
                        expect_empty = Some(got < 2);
                    } else if read_first && !wait.is_zero() {
                        expect_empty = Some(got == 0);
                    }
                    polled = false;
                    if got == 0 && !wait.is_zero() {
                        src.driving(true);
                        ready = poll_either(src.fd(), self.core.fd.fd(), wait);
                        src.driving(false);
                        // Whatever woke the poll is read by the next round, before any timeout.
                        filled = false;
                        polled = true;
                    }
                }
                i = self.lock();
                i.driving = false;
                if let Some(e) = expect_empty {
                    i.expect_empty = e;
                }
                if i.waiting > 0 {
                    // Another consumer may take over the reading, or take what was queued.
                    self.core.readable.notify_all();
                }
                if got > 0 || ready {
                    // Something to take: no signal check (it costs the caller's lock).
                    continue;
                }
            } else {
                i.waiting += 1;
                i = self
                    .core
                    .readable
                    .wait_timeout(i, wait)
                    .unwrap_or_else(|p| p.into_inner())
                    .0;
                i.waiting -= 1;
            }
            if let Some(c) = check {
                if i.q.is_empty() && c() {
                    return Err(Error::Interrupted {
                        op: "next event".into(),
                    });
                }
            }
        }
    }

    /// After taking events: reset the fd if the queue is empty; the producers to wake (room).
    fn after_pop(&self, i: &mut Inner) -> Vec<Waker> {
        if i.q.is_empty() && !i.closed {
            self.core.fd.reset();
        }
        self.take_room_waiters(i)
    }

    /// Take up to `max` events (at least 1). Waits for the first one up to `timeout` (`None` =
    /// forever, zero = poll); returns an **empty vector on timeout**. Once the object has stopped
    /// and its last event ([`Event::Closed`]) was taken, returns [`ErrorKind::Closed`]. May be
    /// called from any thread, by several at once; a shutdown from another thread wakes it.
    pub fn next_events(&self, max: usize, timeout: Option<Duration>) -> Result<Vec<Event>> {
        if max == 0 {
            return Err(Error::invalid(
                "take at most 0 events: a pull must allow at least one",
            ));
        }
        let Some(mut i) = self.wait_ready(timeout)? else {
            return Ok(Vec::new());
        };
        let out = i.q.take(max.max(1));
        i.bytes -= out.iter().map(data_len).sum::<usize>();
        let w = self.after_pop(&mut i);
        drop(i);
        w.into_iter().for_each(Waker::wake);
        Ok(out)
    }

    /// Take one event, waiting up to `timeout`; `Ok(None)` on timeout.
    pub fn next_event(&self, timeout: Option<Duration>) -> Result<Option<Event>> {
        Ok(self.next_events(1, timeout)?.pop())
    }

    /// The C door's pull: wait up to `timeout` for an event, copy its [`payload`](Event::payload)
    /// into `buf` and return its fields; `Ok(None)` on timeout. If `buf` is too small, returns
    /// [`Error::BufferTooSmall`] with the size needed and **keeps the event** at the front of the
    /// queue for the next call.
    pub fn next_event_into(
        &self,
        buf: &mut [u8],
        timeout: Option<Duration>,
    ) -> Result<Option<EventInfo>> {
        let Some(mut i) = self.wait_ready(timeout)? else {
            return Ok(None);
        };
        let len = i.q.front_len();
        if len > buf.len() {
            return Err(Error::BufferTooSmall {
                needed: len,
                capacity: buf.len(),
            });
        }
        let ev =
            i.q.pop_front()
                .expect("wait_ready returns a non-empty queue");
        buf[..len].copy_from_slice(&ev.payload());
        i.bytes -= data_len(&ev);
        let w = self.after_pop(&mut i);
        drop(i);
        w.into_iter().for_each(Waker::wake);
        let (attempt, delay) = match &ev {
            Event::Reconnecting { attempt, delay } => (*attempt, *delay),
            _ => (0, Duration::ZERO),
        };
        Ok(Some(EventInfo {
            kind: ev.kind(),
            client: ev.client(),
            len,
            reason: ev.reason().cloned(),
            peer: ev.peer().cloned(),
            warning: ev.warning(),
            attempt,
            delay,
        }))
    }

    /// The C door's batch pull: wait up to `timeout` for an event, then take the messages at
    /// the front of the queue, at most `sizes.len()`, copied back to back into
    /// `buf`: message `k` is `sizes[k]` bytes long and starts where message `k - 1` ended; its
    /// client id goes to `clients[k]` when `clients` is given (it must be as long as `sizes`).
    /// Returns how many were taken (`Ok(None)` on timeout). It stops before the first event
    /// that is not a message (`Some(0)` when that is the first: take it with
    /// [`next_event_into`](EventQueue::next_event_into)) and before the first message that
    /// does not fit in what is left of `buf`; if the very first message does not fit,
    /// [`Error::BufferTooSmall`] says its size and it stays queued. One lock, one wake-up of
    /// blocked producers per batch.
    pub fn next_messages_into(
        &self,
        buf: &mut [u8],
        sizes: &mut [usize],
        mut clients: Option<&mut [ClientId]>,
        timeout: Option<Duration>,
    ) -> Result<Option<usize>> {
        if clients.as_ref().is_some_and(|c| c.len() < sizes.len()) {
            return Err(Error::invalid(
                "the client ids array is shorter than the sizes array",
            ));
        }
        let (mut k, mut at, mut too_small) = (0usize, 0usize, None);
        let n = self.pull_messages(sizes.len(), timeout, |client, data| {
            let len = data.len();
            if len > buf.len() - at {
                if k == 0 {
                    too_small = Some(len);
                }
                return false;
            }
            buf[at..at + len].copy_from_slice(data);
            sizes[k] = len;
            if let Some(c) = clients.as_deref_mut() {
                c[k] = client;
            }
            at += len;
            k += 1;
            true
        })?;
        if let Some(len) = too_small {
            return Err(Error::BufferTooSmall {
                needed: len,
                capacity: buf.len(),
            });
        }
        Ok(n)
    }

    /// Hand the messages at the front of the queue to `f` without making an event, a slice or
    /// a copy of them: `f` gets each message's client and bytes (a view into the received
    /// block, valid during the call), and every message it was given is taken. At most `max`
    /// (at least 1), waiting for the first up to `timeout`; `Ok(None)` on timeout, `Some(0)`
    /// when the next event is not a message (take it with [`next_events`]). `f` runs with the
    /// queue locked: it must not call into this queue's object.
    ///
    /// [`next_events`]: EventQueue::next_events
    pub fn next_messages_with(
        &self,
        max: usize,
        timeout: Option<Duration>,
        mut f: impl FnMut(ClientId, &[u8]),
    ) -> Result<Option<usize>> {
        self.pull_messages(max, timeout, |client, data| {
            f(client, data);
            true
        })
    }

    /// The message pulls' common part: wait for the first event up to `timeout`, then hand
    /// the leading messages to `take` (at most `max`, until it returns false: that message
    /// stays) and drop the ones it took. `Ok(None)` on timeout, `Some(0)` when nothing was
    /// taken.
    fn pull_messages(
        &self,
        max: usize,
        timeout: Option<Duration>,
        take: impl FnMut(ClientId, &[u8]) -> bool,
    ) -> Result<Option<usize>> {
        if max == 0 {
            return Err(Error::invalid(
                "take at most 0 messages: a pull must allow at least one",
            ));
        }
        let Some(mut i) = self.wait_ready(timeout)? else {
            return Ok(None);
        };
        let (n, taken_bytes) = i.q.take_messages(max, take);
        if n == 0 {
            return Ok(Some(0));
        }
        i.bytes -= taken_bytes;
        let w = self.after_pop(&mut i);
        drop(i);
        w.into_iter().for_each(Waker::wake);
        Ok(Some(n))
    }

    /// The payload size of the next event without taking it (`Ok(None)` on timeout).
    pub fn peek_len(&self, timeout: Option<Duration>) -> Result<Option<usize>> {
        Ok(self.wait_ready(timeout)?.map(|i| i.q.front_len()))
    }
}

/// Wait up to `wait` until `a` or `b` is readable (or has an error), in one `poll(2)`; true
/// if one is (false on timeout or when a signal interrupted the wait).
#[cfg(unix)]
fn poll_either(a: i32, b: i32, wait: Duration) -> bool {
    let mut fds = [
        libc::pollfd {
            fd: a,
            events: libc::POLLIN,
            revents: 0,
        },
        libc::pollfd {
            fd: b,
            events: libc::POLLIN,
            revents: 0,
        },
    ];
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        let ts = libc::timespec {
            tv_sec: wait.as_secs() as libc::time_t,
            tv_nsec: wait.subsec_nanos() as _,
        };
        // SAFETY: two valid pollfds on the stack and a valid timespec; no signal mask.
        unsafe { libc::ppoll(fds.as_mut_ptr(), 2, &ts, std::ptr::null()) > 0 }
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    {
        let ms = wait.as_micros().div_ceil(1000).min(i32::MAX as u128) as i32;
        // SAFETY: two valid pollfds on the stack.
        unsafe { libc::poll(fds.as_mut_ptr(), 2, ms) > 0 }
    }
}

/// Without `poll(2)` no queue has a source (see [`EventQueue::set_source`]).
#[cfg(not(unix))]
fn poll_either(_a: i32, _b: i32, _wait: Duration) -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    /// No wildcard: a kind or reason added to core fails to compile here until `ALL` lists it.
    fn position(k: EventKind) -> usize {
        match k {
            EventKind::Connected => 0,
            EventKind::Message => 1,
            EventKind::Disconnected => 2,
            EventKind::Reconnecting => 3,
            EventKind::Datagram => 4,
            EventKind::Closed => 5,
            EventKind::Warning => 6,
        }
    }

    fn reason_position(r: &DisconnectReason) -> usize {
        match r {
            DisconnectReason::PeerClosed => 0,
            DisconnectReason::Reset => 1,
            DisconnectReason::IdleTimeout => 2,
            DisconnectReason::HeartbeatLost => 3,
            DisconnectReason::FrameTooLarge => 4,
            DisconnectReason::Kicked => 5,
            DisconnectReason::ServerShutdown => 6,
            DisconnectReason::Error(..) => 7,
            DisconnectReason::SendQueueFull => 8,
            DisconnectReason::Closed => 9,
            DisconnectReason::Tls(_) => 10,
        }
    }

    #[test]
    fn the_tables_list_every_kind_and_reason_in_code_order() {
        for (i, k) in EventKind::ALL.iter().enumerate() {
            assert_eq!(position(*k), i);
            assert_eq!(k.code(), i as i32 + 1);
        }
        for (i, r) in DisconnectReason::ALL.iter().enumerate() {
            assert_eq!(reason_position(r), i);
            assert_eq!(r.code(), i as i32 + 1);
        }
    }
}
