//! The event engine (tokio): servers with many clients, long-lived clients with auto-reconnect,
//! and datagram servers, all **pulled** through one API that every language can call.
//!
//! - [`Server`]: TCP or Unix listening endpoint; each client gets an id (`u64` from 1, never
//!   reused); events `Connected`, `Message`, `Disconnected`; commands `send`, `send_many`,
//!   `broadcast`, `disconnect`, `clients`, `stats`, `shutdown(grace)` from any thread.
//! - [`Client`]: one long connection with auto-reconnect (backoff with jitter), a bounded send
//!   queue kept across reconnects, events `Connected`, `Message`, `Disconnected`,
//!   `Reconnecting`.
//! - [`DatagramServer`]: a UDP endpoint giving `Datagram` events; `send_to`.
//!
//! Every object has the same pull API: `next_events(max, timeout)` (an empty vector on timeout,
//! [`ErrorKind::Closed`](crate::ErrorKind::Closed) after the final [`Event::Closed`]),
//! `next_event`, `next_event_into(buf, timeout)` (the C door's buffer-too-small semantics: the
//! event stays queued), `peek_len`, and `notify_fd()` (readable while events wait).
//!
//! **Backpressure**: the event queue is bounded (`event_capacity` events, and
//! [`EVENT_QUEUE_BYTES`] of message data whatever the messages' sizes). When it is full, the
//! connections stop reading their sockets (TCP flow control then slows the peers) and the
//! accept loop stops accepting; nothing is dropped and memory stays bounded. Each client's send
//! queue is bounded in bytes; [`SendPolicy`] says what happens when it is full.
//!
//! **Heartbeat wire format**: the ping and pong payloads (default `b"\0LSPING"` and
//! `b"\0LSPONG"`) are sent as ordinary frames of the connection's framing; the engine answers
//! a ping with a pong and delivers neither to the application.
//!
//! **Backends**: a plaintext TCP [`Server`] can run on io_uring instead of the tokio runtime
//! (Linux 6.0+: one driver thread per server with multishot accept and receive from a
//! provided buffer ring, and each client's queued frames sent as one `sendmsg`, all of a round
//! submitted with one system call). Ask for it with [`ServerConfig::backend`]`(`[`Backend::Uring`]`)`
//! or the environment variable `LIBSOCK_BACKEND=uring` ([`BACKEND_ENV`]); the default is the
//! tokio (epoll) path. Where io_uring cannot serve (TLS, Unix sockets, heartbeat intervals,
//! idle timeouts, or a kernel that refuses io_uring, as container sandboxes often do) the
//! server runs on the tokio path; [`Server::backend`] and [`Server::backend_note`] say which
//! backend a server got and why. Events, counters, errors and send policies are the same on
//! both.
//!
//! The runtime starts with the first engine object ([`set_worker_threads`] before that) and is
//! stopped by [`shutdown`]. On Linux its threads run under `SCHED_BATCH` (same CPU share, but a
//! thread woken by network input does not preempt the running one, which keeps messages in
//! batches on a busy CPU); set the environment variable `LIBSOCK_SCHED_BATCH=0`
//! ([`SCHED_BATCH_ENV`]) before the runtime starts to keep the normal policy.
//!
//! ```
//! use libsock::engine::{Client, ClientConfig, Event, Server, ServerConfig};
//! use std::time::Duration;
//!
//! let server = Server::bind("127.0.0.1:0", ServerConfig::new())?;
//! let client = Client::connect(server.local_addr().to_string(), ClientConfig::new())?;
//! client.send(b"hello")?;
//! let t = Some(Duration::from_secs(5));
//! let mut got = None;
//! for _ in 0..10 {
//!     for ev in server.next_events(16, t)? {
//!         if let Event::Message { client, data } = ev {
//!             server.send(client, &data)?; // echo
//!             got = Some(data);
//!         }
//!     }
//!     if got.is_some() { break; }
//! }
//! assert_eq!(&got.unwrap()[..], b"hello");
//! server.shutdown(Duration::from_secs(1));
//! # Ok::<(), libsock::Error>(())
//! ```

use std::time::Duration;

use bytes::Bytes;

mod client;
mod codec;
mod events;
mod link;
mod notify;
mod runtime;
mod sendq;
mod server;
mod settings;
mod stats;
mod stream;
mod udp;

pub use client::{Client, ClientConfig, ClientStats};
pub use codec::{CodecError, FrameCodec};
pub use events::{
    ClientId, DisconnectReason, Event, EventInfo, EventKind, EventQueue, EVENT_QUEUE_BYTES,
};
pub use runtime::{is_running, set_worker_threads, shutdown, worker_threads, SCHED_BATCH_ENV};
pub use server::{Backend, ConnectionStats, Server, ServerConfig, ServerStats, BACKEND_ENV};
pub use settings::{ConfigKey, EngineSettings};
pub use stats::Stat;
pub use udp::{DatagramServer, DatagramServerConfig, DatagramStats, SEND_WAIT};

// Shared with the KCP server (crate::kcp), which runs on the same runtime and queues.
pub(crate) use events::TryPush;
pub(crate) use runtime::{handle as runtime_handle, register_arc, Stoppable};

/// The shortest heartbeat interval accepted: a shorter one floods the peer with pings.
pub const MIN_HEARTBEAT_INTERVAL: Duration = Duration::from_millis(10);
/// The shortest reconnect delay accepted: a shorter one reconnects in a tight loop.
pub const MIN_BACKOFF: Duration = Duration::from_millis(10);
/// The largest `max_datagram` accepted: no UDP datagram is longer than 65,535 bytes.
pub const MAX_DATAGRAM: usize = 65536;

/// The checks every engine object makes of its queue bounds.
fn check_queues(send_queue_bytes: Option<usize>, event_capacity: usize) -> crate::Result<()> {
    if send_queue_bytes == Some(0) {
        return Err(crate::Error::invalid(
            "send_queue_bytes 0: a send queue that holds nothing can send nothing",
        ));
    }
    if event_capacity == 0 {
        return Err(crate::Error::invalid(
            "event_capacity 0: an event queue that holds nothing delivers nothing",
        ));
    }
    Ok(())
}

/// The default heartbeat ping payload.
pub const DEFAULT_PING: &[u8] = b"\0LSPING";
/// The default heartbeat pong payload.
pub const DEFAULT_PONG: &[u8] = b"\0LSPONG";

/// What the idle timeout counts as activity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IdleMode {
    /// Only application messages received (default).
    #[default]
    Reads,
    /// Application messages received or queued for sending.
    ReadsAndWrites,
}

/// What happens when a client's send queue is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SendPolicy {
    /// The send returns [`ErrorKind::QueueFull`](crate::ErrorKind::QueueFull) and nothing is
    /// queued (default); broadcasts skip that client (their return value counts who got it).
    #[default]
    Error,
    /// The slow client is disconnected (reason
    /// [`SendQueueFull`](DisconnectReason::SendQueueFull)); the send itself succeeds.
    Disconnect,
}

/// The application heartbeat.
///
/// Frames whose payload equals `ping` are answered with `pong` and, like `pong` frames, never
/// delivered as messages. With an `interval`, a ping is sent whenever nothing has arrived for
/// `interval`, and the connection is declared dead ([`DisconnectReason::HeartbeatLost`]) when
/// nothing has arrived for `interval × misses`. Without one, pings are only answered. Needs a
/// message framing (not `Raw`, where a ping could arrive glued to other bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heartbeat {
    /// Send a ping after this much silence (`None`: only answer pings). Sub-second is fine.
    pub interval: Option<Duration>,
    /// Silent intervals before the peer is declared dead.
    pub misses: u32,
    /// The ping payload.
    pub ping: Bytes,
    /// The pong payload.
    pub pong: Bytes,
}

impl Heartbeat {
    /// Ping after `interval` of silence, dead after `misses` silent intervals; default payloads.
    pub fn new(interval: Duration, misses: u32) -> Heartbeat {
        Heartbeat {
            interval: Some(interval),
            misses,
            ..Heartbeat::reply_only()
        }
    }

    /// Only answer the peer's pings (the default of servers and clients).
    pub fn reply_only() -> Heartbeat {
        Heartbeat {
            interval: None,
            misses: 3,
            ping: Bytes::from_static(DEFAULT_PING),
            pong: Bytes::from_static(DEFAULT_PONG),
        }
    }

    /// Use other payloads.
    pub fn payloads(mut self, ping: impl Into<Bytes>, pong: impl Into<Bytes>) -> Heartbeat {
        self.ping = ping.into();
        self.pong = pong.into();
        self
    }
}

/// The setters a [`ServerConfig`] and a [`ClientConfig`] share (their connections behave the
/// same way): one definition for both.
macro_rules! connection_setters {
    () => {
        /// Set the framing.
        pub fn framing(mut self, f: crate::Framing) -> Self {
            self.framing = f;
            self
        }
        /// Set the socket options.
        pub fn options(mut self, o: crate::SocketOptions) -> Self {
            self.options = o;
            self
        }
        /// Bound the send queue (bytes; a larger frame is refused with `FrameTooLarge`).
        pub fn send_queue_bytes(mut self, n: usize) -> Self {
            self.send_queue_bytes = n;
            self
        }
        /// Bound the event queue (events).
        pub fn event_capacity(mut self, n: usize) -> Self {
            self.event_capacity = n;
            self
        }
        /// Close connections idle for `t` (`None` = never); `mode` says what counts.
        pub fn idle_timeout(
            mut self,
            t: Option<std::time::Duration>,
            mode: crate::engine::IdleMode,
        ) -> Self {
            self.idle_timeout = t;
            self.idle_mode = mode;
            self
        }
        /// Set the heartbeat (`None`: pings are neither sent nor answered nor filtered).
        pub fn heartbeat(mut self, h: Option<crate::engine::Heartbeat>) -> Self {
            self.heartbeat = h;
            self
        }
    };
}
use connection_setters;

/// Adds the pull API (delegating to the object's [`EventQueue`]) to an engine object.
macro_rules! pull_api {
    ($t:ty) => {
        impl $t {
            /// Take up to `max` events, waiting for the first up to `timeout` (`None` = forever,
            /// zero = poll). **An empty vector means the timeout passed.** After the final
            /// [`Event::Closed`](crate::engine::Event::Closed) has been taken: `Closed` error.
            /// Any thread may call it, while others send or shut down. `max` 0 is
            /// `InvalidArgument`.
            pub fn next_events(
                &self,
                max: usize,
                timeout: Option<std::time::Duration>,
            ) -> crate::Result<Vec<crate::engine::Event>> {
                self.events().next_events(max, timeout)
            }

            /// Take one event, waiting up to `timeout`; `Ok(None)` on timeout.
            pub fn next_event(
                &self,
                timeout: Option<std::time::Duration>,
            ) -> crate::Result<Option<crate::engine::Event>> {
                self.events().next_event(timeout)
            }

            /// Take one event into `buf` (see [`EventQueue::next_event_into`]): a too-small
            /// buffer gives `BufferTooSmall { needed }` and the event stays queued.
            ///
            /// [`EventQueue::next_event_into`]: crate::engine::EventQueue::next_event_into
            pub fn next_event_into(
                &self,
                buf: &mut [u8],
                timeout: Option<std::time::Duration>,
            ) -> crate::Result<Option<crate::engine::EventInfo>> {
                self.events().next_event_into(buf, timeout)
            }

            /// Take the messages at the front of the queue into `buf`, back to back (see
            /// [`EventQueue::next_messages_into`]): their sizes in `sizes`, their client ids
            /// in `clients` if given; `Ok(None)` on timeout, `Some(0)` when the next event is
            /// not a message.
            ///
            /// [`EventQueue::next_messages_into`]: crate::engine::EventQueue::next_messages_into
            pub fn next_messages_into(
                &self,
                buf: &mut [u8],
                sizes: &mut [usize],
                clients: Option<&mut [crate::engine::ClientId]>,
                timeout: Option<std::time::Duration>,
            ) -> crate::Result<Option<usize>> {
                self.events()
                    .next_messages_into(buf, sizes, clients, timeout)
            }

            /// Hand the messages at the front of the queue to `f` without copying them (see
            /// [`EventQueue::next_messages_with`]): `Ok(None)` on timeout, `Some(0)` when the
            /// next event is not a message. `f` runs with the queue locked.
            ///
            /// [`EventQueue::next_messages_with`]: crate::engine::EventQueue::next_messages_with
            pub fn next_messages_with(
                &self,
                max: usize,
                timeout: Option<std::time::Duration>,
                f: impl FnMut(crate::engine::ClientId, &[u8]),
            ) -> crate::Result<Option<usize>> {
                self.events().next_messages_with(max, timeout, f)
            }

            /// The payload size of the next event, waiting up to `timeout`, without taking it.
            pub fn peek_len(
                &self,
                timeout: Option<std::time::Duration>,
            ) -> crate::Result<Option<usize>> {
                self.events().peek_len(timeout)
            }

            /// A file descriptor readable while events are waiting (level-triggered; reset when
            /// a pull empties the queue; stays readable once the object is closed). Do not read
            /// or close it.
            pub fn notify_fd(&self) -> i32 {
                self.events().notify_fd()
            }

            /// Events waiting now.
            pub fn pending(&self) -> usize {
                self.events().len()
            }
        }
    };
}
pub(crate) use pull_api;
