//! [`Server`]: accepts TCP or Unix clients and turns their frames into events.

pub use crate::conn::ConnectionStats;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use socket2::{Domain, Protocol, SockRef, Socket, Type};
use tokio::runtime::Handle;
use tokio::task::JoinHandle;

use super::codec::encode_frame;
use super::events::{ClientId, DisconnectReason, Event, EventQueue, Source};
use super::link::{with_frame, Conn, Counters, Drive, Env, LinkCfg, ReadSide, TaskCount};
use super::runtime::{self, Stoppable};
use super::sendq::{PushError, SendQueue, Stop};
use super::stream::{conn_options, tls_io_error, AnyStream, ReadAhead};
use super::{Heartbeat, IdleMode, SendPolicy};
use crate::addr::{Addr, Endpoint, ToEndpoint};
use crate::error::{Error, Result};
use crate::framing::Framing;
use crate::options::SocketOptions;

#[cfg(target_os = "linux")]
#[path = "uring.rs"]
mod uring;

/// How a [`Server`] behaves. Built with chained setters.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Framing of every connection (default: 4-byte big-endian length prefix).
    pub framing: Framing,
    /// Socket options: applied to the listening socket before bind, and the per-connection ones
    /// (nodelay, keepalive, linger, buffer sizes, TCP user timeout) to each accepted socket.
    /// Default: nodelay on.
    pub options: SocketOptions,
    /// Listen backlog (default 1024).
    pub backlog: i32,
    /// For Unix paths: remove a stale socket file before binding (default off).
    pub remove_stale: bool,
    /// Most clients at once; an extra connection is closed at once and counted as refused
    /// (`None` = no limit, the default; `Some(0)` is refused by [`ServerConfig::validate`]).
    pub max_clients: Option<usize>,
    /// Bound of each client's send queue in bytes (default 4 MiB).
    pub send_queue_bytes: usize,
    /// What a full send queue does (default [`SendPolicy::Error`]).
    pub send_policy: SendPolicy,
    /// Bound of the event queue in events (default 4096).
    pub event_capacity: usize,
    /// Close a client silent for this long ([`DisconnectReason::IdleTimeout`]); default none.
    pub idle_timeout: Option<Duration>,
    /// What counts as activity for the idle timeout.
    pub idle_mode: IdleMode,
    /// Application heartbeat (default: answer pings only, [`Heartbeat::reply_only`]).
    pub heartbeat: Option<Heartbeat>,
    /// How long a graceful `disconnect` may take to flush before the connection is cut
    /// (default 5 s).
    pub close_timeout: Duration,
    /// Speak TLS with every client (default: plaintext). Handshakes run on the engine, each
    /// within the settings' handshake timeout; a client is `Connected` once its handshake is
    /// done, and a failed handshake is a `Warning` event of kind `Tls` (the peer never became a
    /// client) counted in [`ServerStats::tls_failures`].
    pub tls: Option<crate::tls::ServerTls>,
    /// How the server does its socket work (default [`Backend::Auto`]; see [`Backend`]).
    pub backend: Backend,
}

/// How a [`Server`] does its socket work.
///
/// The io_uring backend serves plaintext TCP servers without a heartbeat interval or idle
/// timeout; anything else runs on the tokio (epoll) path, and so does every server where the
/// kernel refuses io_uring (often the case in containers). Both give the same events, counters
/// and errors. [`Server::backend`] says which one a server got and
/// [`Server::backend_note`] why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Backend {
    /// The environment variable [`BACKEND_ENV`] (`auto`, `epoll` or `uring`) decides when set;
    /// otherwise the tokio (epoll) path.
    #[default]
    Auto,
    /// The tokio runtime (epoll on Linux).
    Epoll,
    /// io_uring (Linux 6.0+) when the kernel and the config allow it, else the tokio path.
    Uring,
}

impl Backend {
    /// The name used by [`BACKEND_ENV`]: `auto`, `epoll` or `uring`.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Auto => "auto",
            Backend::Epoll => "epoll",
            Backend::Uring => "uring",
        }
    }
}

/// The environment variable that chooses the backend of servers whose config says
/// [`Backend::Auto`]: `epoll`, `uring` or `auto` (read when a server is bound; any other value
/// makes `bind` fail with `InvalidArgument`).
pub const BACKEND_ENV: &str = "LIBSOCK_BACKEND";

/// The backend `cfg` asks for, after [`BACKEND_ENV`].
fn requested_backend(cfg: &ServerConfig) -> Result<Backend> {
    if cfg.backend != Backend::Auto {
        return Ok(cfg.backend);
    }
    match std::env::var(BACKEND_ENV) {
        Err(_) => Ok(Backend::Auto),
        Ok(v) => match v.trim().to_ascii_lowercase().as_str() {
            "" | "auto" => Ok(Backend::Auto),
            "epoll" | "tokio" => Ok(Backend::Epoll),
            "uring" | "io_uring" => Ok(Backend::Uring),
            _ => Err(Error::invalid(format!(
                "{BACKEND_ENV}={v:?}: expected auto, epoll or uring"
            ))),
        },
    }
}

/// Why a server with `cfg` cannot run on io_uring (None: it can, as far as the config goes).
fn uring_unsupported(cfg: &ServerConfig, unix: bool) -> Option<&'static str> {
    if !cfg!(target_os = "linux") {
        Some("io_uring is Linux only")
    } else if unix {
        Some("Unix sockets are not served by the io_uring backend")
    } else if cfg.tls.is_some() {
        Some("TLS is not served by the io_uring backend")
    } else if cfg.heartbeat.as_ref().is_some_and(|h| h.interval.is_some()) {
        Some("a heartbeat interval is not served by the io_uring backend")
    } else if cfg.idle_timeout.is_some() {
        Some("an idle timeout is not served by the io_uring backend")
    } else {
        None
    }
}

impl Default for ServerConfig {
    fn default() -> ServerConfig {
        ServerConfig {
            framing: Framing::length_prefixed(),
            options: SocketOptions::new().nodelay(true),
            backlog: 1024,
            remove_stale: false,
            max_clients: None,
            send_queue_bytes: 4 << 20,
            send_policy: SendPolicy::Error,
            event_capacity: 4096,
            idle_timeout: None,
            idle_mode: IdleMode::Reads,
            heartbeat: Some(Heartbeat::reply_only()),
            close_timeout: Duration::from_secs(5),
            tls: None,
            backend: Backend::Auto,
        }
    }
}

impl ServerConfig {
    /// The defaults (see the fields).
    pub fn new() -> ServerConfig {
        ServerConfig::default()
    }

    super::connection_setters!();
    /// Set the listen backlog.
    pub fn backlog(mut self, n: i32) -> Self {
        self.backlog = n;
        self
    }
    /// Remove a stale Unix socket file before binding.
    pub fn remove_stale(mut self, on: bool) -> Self {
        self.remove_stale = on;
        self
    }
    /// Most clients at once (at least 1; unset = no limit).
    pub fn max_clients(mut self, n: usize) -> Self {
        self.max_clients = Some(n);
        self
    }
    /// Most clients at once, `None` for no limit (for doors that carry "no limit" as a value).
    pub fn max_clients_opt(mut self, n: Option<usize>) -> Self {
        self.max_clients = n;
        self
    }
    /// What a full send queue does.
    pub fn send_policy(mut self, p: SendPolicy) -> Self {
        self.send_policy = p;
        self
    }
    /// Limit of a graceful disconnect.
    pub fn close_timeout(mut self, t: Duration) -> Self {
        self.close_timeout = t;
        self
    }
    /// Choose the backend (see [`Backend`]).
    pub fn backend(mut self, b: Backend) -> Self {
        self.backend = b;
        self
    }
    /// Speak TLS with every client (see [`ServerConfig::tls`](ServerConfig#structfield.tls)).
    pub fn tls(mut self, tls: crate::tls::ServerTls) -> Self {
        self.tls = Some(tls);
        self
    }

    /// Check every setting (done by [`Server::bind`]): a framing that makes sense, a heartbeat
    /// with two different non-empty payloads and an interval of at least
    /// [`MIN_HEARTBEAT_INTERVAL`](super::MIN_HEARTBEAT_INTERVAL), non-zero queue bounds and
    /// `max_clients`, a backlog that is not negative. `InvalidArgument` names the setting.
    pub fn validate(&self) -> Result<()> {
        self.link().validate()?;
        super::check_queues(Some(self.send_queue_bytes), self.event_capacity)?;
        if self.max_clients == Some(0) {
            return Err(Error::invalid(
                "max_clients 0: a server that accepts no client (leave it unset for no limit)",
            ));
        }
        if self.backlog < 0 {
            return Err(Error::invalid(format!(
                "backlog {} is negative",
                self.backlog
            )));
        }
        Ok(())
    }

    fn link(&self) -> LinkCfg {
        LinkCfg::new(
            self.framing.clone(),
            self.idle_timeout,
            self.idle_mode,
            &self.heartbeat,
        )
    }
}

#[cfg(target_os = "linux")]
type Prepared = Option<uring::Prepared>;
#[cfg(not(target_os = "linux"))]
type Prepared = Option<()>;

/// The backend a server gets, why, and (io_uring) its ready ring.
fn choose_backend(cfg: &ServerConfig, unix: bool) -> Result<(Backend, String, Prepared)> {
    let epoll = |why: &str| Ok((Backend::Epoll, format!("epoll (tokio): {why}"), None));
    match requested_backend(cfg)? {
        Backend::Epoll => epoll("chosen by the config or LIBSOCK_BACKEND"),
        Backend::Auto => {
            epoll("the default (io_uring is chosen with Backend::Uring or LIBSOCK_BACKEND=uring)")
        }
        Backend::Uring => {
            if let Some(why) = uring_unsupported(cfg, unix) {
                return epoll(why);
            }
            #[cfg(target_os = "linux")]
            {
                match uring::prepare() {
                    Ok(p) => Ok((
                        Backend::Uring,
                        "io_uring: multishot accept and receive with a provided buffer ring, \
                         batched sends"
                            .into(),
                        Some(p),
                    )),
                    Err(why) => epoll(&format!("io_uring unavailable: {why}")),
                }
            }
            #[cfg(not(target_os = "linux"))]
            epoll("io_uring is Linux only")
        }
    }
}

/// A snapshot of a server's counters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerStats {
    /// Clients connected now.
    pub connections: u64,
    /// Clients accepted since the start.
    pub connections_total: u64,
    /// Connections closed at once because of `max_clients`.
    pub refused: u64,
    /// Bytes received.
    pub bytes_in: u64,
    /// Bytes sent (frames written to sockets, headers included).
    pub bytes_out: u64,
    /// Application messages received (heartbeats not counted).
    pub messages_in: u64,
    /// Frames written (heartbeat frames included).
    pub messages_out: u64,
    /// Bytes waiting in all send queues.
    pub queued_bytes: u64,
    /// Events waiting to be pulled.
    pub events_queued: u64,
    /// Sends refused and broadcast deliveries skipped because a client's send queue was full
    /// (under [`SendPolicy::Error`]; each episode also gives a `Warning` event).
    pub send_queue_full: u64,
    /// Failed accepts (e.g. EMFILE: out of descriptors); each episode also gives a `Warning`
    /// event, and the server pauses accepting for 100 ms instead of spinning.
    pub accept_errors: u64,
    /// Failed TLS handshakes (each also gives a `Warning` event of kind `Tls`, while the event
    /// queue has room) and connections refused because too many handshakes were under way.
    pub tls_failures: u64,
}

struct Slot {
    peer: Addr,
    /// This client's counters; the server's totals add them up (see [`Server::stats`]).
    counters: Arc<Counters>,
    since: std::time::SystemTime,
    /// What the TLS handshake agreed on (TLS servers only).
    tls: Option<crate::TlsInfo>,
    sq: SendQueue,
    /// A `Warning` was queued for the current full-queue episode (cleared by the next send
    /// that fits).
    warned_full: AtomicBool,
    /// The connection's read side, when waiting consumers may read it themselves.
    side: Option<Arc<ReadSide>>,
}

/// Hashes client ids (server-made sequential numbers, so no flooding concern) with one
/// multiplication instead of SipHash: `send` looks the client up on every message.
#[derive(Default)]
struct IdHasher(u64);

impl std::hash::Hasher for IdHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ b as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

type BuildIdHasher = std::hash::BuildHasherDefault<IdHasher>;

struct Clients {
    map: HashMap<ClientId, Arc<Slot>, BuildIdHasher>,
    stopping: bool,
}

struct Shared {
    handle: Handle,
    cfg: ServerConfig,
    link: LinkCfg,
    local: Addr,
    events: EventQueue,
    clients: Mutex<Clients>,
    next_id: AtomicU64,
    /// The monotonic counters of clients that are gone (live clients keep their own).
    retired: Counters,
    total: AtomicU64,
    refused: AtomicU64,
    /// See [`ServerStats::send_queue_full`].
    queue_full: AtomicU64,
    /// See [`ServerStats::accept_errors`].
    accept_errors: AtomicU64,
    /// See [`ServerStats::tls_failures`].
    tls_failures: AtomicU64,
    /// TLS handshakes under way (bounded by [`MAX_HANDSHAKES`]).
    handshakes: std::sync::atomic::AtomicUsize,
    /// Wakes handshakes under way when the server shuts down.
    hs_stop: tokio::sync::Notify,
    tasks: TaskCount,
    accept: Mutex<Option<JoinHandle<()>>>,
    unix_path: Option<PathBuf>,
    done: Mutex<bool>,
    /// The backend serving this server, and why.
    backend: Backend,
    backend_note: String,
    /// Wakes the io_uring driver (its server-level work: shutdown).
    #[cfg(target_os = "linux")]
    uring_wake: Option<Arc<uring::Wake>>,
    /// The io_uring driver's listening socket (-1 on the tokio path). Owned here, not by the
    /// driver, so `shutdown` can stop it listening (new connections are refused at once) with
    /// no risk of touching a reused descriptor; closed when the server is dropped.
    uring_listener: i32,
    /// The epoll set in which waiting consumers watch the connections they may read
    /// themselves (see [`ReadSide`]; -1 when they may not: TLS, a heartbeat interval or an
    /// idle timeout, io_uring, other systems). Closed when the server is dropped.
    consumer_ep: i32,
    /// Connections in `consumer_ep`.
    sides: std::sync::atomic::AtomicUsize,
    /// Plain connections admitted beyond [`DRIVE_MAX`] (read by the runtime alone): while
    /// there are any, consumers do not read connections themselves.
    unsided: std::sync::atomic::AtomicUsize,
    /// Whether consumers wait on the connections.
    drive: Arc<Drive>,
}

/// Consumers read the connections themselves only while the server has at most this many
/// (each one costs a second descriptor, and one that stands aside for them checks every 10 ms
/// whether they still do; with more connections the runtime's reads, batched across
/// connections, are the cheaper way). The connections admitted beyond it are the runtime's
/// alone, and while any is live consumers read none.
const DRIVE_MAX: usize = 16;

#[cfg(target_os = "linux")]
impl Shared {
    /// A waiting consumer's read of client `id`'s connection, if consumers read it (its
    /// `side`): what it queued.
    fn fill_one(&self, id: ClientId, slot: &Slot) -> usize {
        let Some(side) = &slot.side else {
            return 0;
        };
        side.fill(&Env {
            id,
            cfg: &self.link,
            sq: &slot.sq,
            events: &self.events,
            counters: &slot.counters,
        })
    }
}

/// A consumer that finds the queue empty reads the connections whose sockets are ready
/// itself (see [`ReadSide`]), and waits on the server's consumer epoll set.
#[cfg(target_os = "linux")]
impl Source for Shared {
    fn fill(&self, _q: &EventQueue) -> usize {
        if self.sides.load(Ordering::Relaxed) == 1 {
            // One connection (a server with one peer, the usual device link): read it straight
            // away. Asking the epoll set which one is ready first would be a second system
            // call per read (a read that finds nothing costs what a check that finds nothing
            // does).
            let solo = {
                let c = self.lock_clients();
                let mut it = c.map.iter();
                match (it.next(), it.next()) {
                    (Some((id, slot)), None) => Some((*id, Arc::clone(slot))),
                    _ => None,
                }
            };
            if let Some((id, slot)) = solo {
                return self.fill_one(id, &slot);
            }
        }
        let mut evs = [libc::epoll_event { events: 0, u64: 0 }; 16];
        // SAFETY: a valid epoll descriptor and room for `evs.len()` events.
        let n =
            unsafe { libc::epoll_wait(self.consumer_ep, evs.as_mut_ptr(), evs.len() as i32, 0) };
        let mut queued = 0;
        for ev in &evs[..n.max(0) as usize] {
            let id = ev.u64;
            let Some(slot) = self.lock_clients().map.get(&id).cloned() else {
                continue;
            };
            queued += self.fill_one(id, &slot);
        }
        queued
    }

    fn fd(&self) -> i32 {
        let n = self.sides.load(Ordering::Relaxed);
        if n == 0 || self.unsided.load(Ordering::Relaxed) > 0 {
            return -1;
        }
        self.consumer_ep
    }

    fn driving(&self, on: bool) {
        self.drive.set(on);
    }

    fn wait_fill(&self, _q: &EventQueue, _wait: Duration) -> Option<usize> {
        None
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        if self.consumer_ep >= 0 {
            // SAFETY: our own epoll descriptor, closed once.
            unsafe { libc::close(self.consumer_ep) };
        }
        if self.uring_listener >= 0 {
            // SAFETY: our own listening socket, closed once, by its last owner.
            unsafe { libc::close(self.uring_listener) };
        }
    }
}

/// An event-driven server: a listening TCP or Unix endpoint whose clients are served by the
/// engine runtime. Every method may be called from any thread. Dropping it shuts it down at
/// once (use [`shutdown`](Server::shutdown) for a graceful stop).
///
/// Who reads the connections (Linux, the epoll backend, plain TCP or Unix, no heartbeat
/// interval and no idle timeout): while the server has at most 16 connections, a consumer that
/// pulls from an empty event queue reads the ready ones itself and waits in `poll(2)` on them,
/// so request–reply traffic costs no thread switch per message; the engine's runtime stands
/// aside meanwhile and reads again once no consumer has waited for 10 ms. With more
/// connections, TLS, io_uring, a heartbeat interval or an idle timeout, or once
/// [`notify_fd`](Server::notify_fd) was handed out, the runtime reads and the consumer takes
/// what it queued. Either way each message is one event, once, in order per client, within
/// the event queue's bound.
pub struct Server {
    inner: Arc<Shared>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("local", &self.inner.local)
            .finish()
    }
}

enum AnyListener {
    Tcp(tokio::net::TcpListener),
    Unix(tokio::net::UnixListener),
}

impl AnyListener {
    async fn accept(&self) -> std::io::Result<(AnyStream, Addr)> {
        match self {
            AnyListener::Tcp(l) => {
                let (s, a) = l.accept().await?;
                Ok((AnyStream::Tcp(s), Addr::Inet(a)))
            }
            AnyListener::Unix(l) => {
                let (s, a) = l.accept().await?;
                let addr = match a.as_pathname() {
                    Some(p) => Addr::Unix(Some(p.to_path_buf())),
                    None => Addr::Unix(None),
                };
                Ok((AnyStream::Unix(s), addr))
            }
        }
    }
}

impl Server {
    /// Listen on `endpoint` (`"127.0.0.1:0"`, `"[::]:8000"`, `"unix:/path"`, ...) and start
    /// serving. Starts the engine runtime if needed.
    pub fn bind(endpoint: impl ToEndpoint, cfg: ServerConfig) -> Result<Server> {
        let ep = endpoint.to_endpoint()?;
        cfg.validate()?;
        let link = cfg.link();
        let handle = runtime::handle()?;
        let (sock, local, unix_path) = bind_socket(&ep, &cfg)?;
        let unix = unix_path.is_some() || ep.is_unix();
        let (backend, backend_note, prepared) = choose_backend(&cfg, unix)?;
        let mut uring_listener = -1;
        let listener = if backend == Backend::Uring {
            // The driver submits blocking-mode sockets: io_uring then waits for readiness
            // itself instead of handing back EAGAIN.
            sock.set_nonblocking(false)
                .map_err(|e| Error::os(format!("listen on {local}"), e))?;
            uring_listener = std::os::fd::IntoRawFd::into_raw_fd(sock);
            None
        } else {
            let _g = handle.enter();
            Some(if unix {
                let std: std::os::unix::net::UnixListener = sock.into();
                AnyListener::Unix(
                    tokio::net::UnixListener::from_std(std)
                        .map_err(|e| Error::os(format!("listen on {local}"), e))?,
                )
            } else {
                let std: std::net::TcpListener = sock.into();
                AnyListener::Tcp(
                    tokio::net::TcpListener::from_std(std)
                        .map_err(|e| Error::os(format!("listen on {local}"), e))?,
                )
            })
        };
        // Waiting consumers may read plain connections themselves (Linux, tokio backend).
        #[cfg(target_os = "linux")]
        let consumer_ep =
            if backend == Backend::Epoll && cfg.tls.is_none() && link.tick_period().is_none() {
                // SAFETY: creates a descriptor we own (closed in Shared's Drop).
                unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) }
            } else {
                -1
            };
        #[cfg(not(target_os = "linux"))]
        let consumer_ep = -1;
        let shared = Arc::new(Shared {
            handle: handle.clone(),
            events: EventQueue::new(cfg.event_capacity)?,
            link,
            cfg,
            local,
            clients: Mutex::new(Clients {
                map: HashMap::default(),
                stopping: false,
            }),
            next_id: AtomicU64::new(1),
            retired: Counters::default(),
            total: AtomicU64::new(0),
            refused: AtomicU64::new(0),
            queue_full: AtomicU64::new(0),
            accept_errors: AtomicU64::new(0),
            tls_failures: AtomicU64::new(0),
            handshakes: Default::default(),
            hs_stop: tokio::sync::Notify::new(),
            tasks: TaskCount::default(),
            accept: Mutex::new(None),
            unix_path,
            done: Mutex::new(false),
            backend,
            backend_note,
            #[cfg(target_os = "linux")]
            uring_wake: prepared.as_ref().map(|p| p.wake.clone()),
            uring_listener,
            consumer_ep,
            sides: Default::default(),
            unsided: Default::default(),
            drive: Arc::default(),
        });
        #[cfg(target_os = "linux")]
        if consumer_ep >= 0 {
            let source: std::sync::Weak<dyn Source> = Arc::downgrade(&shared) as _;
            shared.events.set_source(source);
        }
        match listener {
            Some(listener) => {
                let task = handle.spawn(accept_loop(shared.clone(), listener));
                *shared.accept.lock().unwrap_or_else(|p| p.into_inner()) = Some(task);
            }
            None => {
                #[cfg(target_os = "linux")]
                if let Some(p) = prepared {
                    uring::start(p, shared.clone())
                        .map_err(|e| Error::os("start the io_uring driver thread", e))?;
                }
                #[cfg(not(target_os = "linux"))]
                let _ = prepared;
            }
        }
        runtime::register_arc(&shared);
        Ok(Server { inner: shared })
    }

    fn events(&self) -> &EventQueue {
        &self.inner.events
    }

    /// The address actually bound (with the real port when 0 was asked).
    pub fn local_addr(&self) -> Addr {
        self.inner.local.clone()
    }

    /// Queue `data` as one frame to `client`. Errors: `Closed` for an unknown or disconnected
    /// client (or a stopped server); `QueueFull` when its send queue is full under
    /// [`SendPolicy::Error`] (under [`SendPolicy::Disconnect`] the client is disconnected
    /// instead and this returns `Ok`); `FrameTooLarge` for a frame larger than the whole send
    /// queue (`send_queue_bytes`: it could never be queued, so it is refused even when the queue
    /// is empty); framing errors (`FrameTooLarge`, ...) as the framing says.
    ///
    /// `Ok` means the frame is queued, not that the peer has it: frames still queued or in the
    /// kernel's buffers when the connection breaks are lost (TCP has no end-to-end
    /// acknowledgement; the application's own replies are the proof of delivery).
    pub fn send(&self, client: ClientId, data: &[u8]) -> Result<()> {
        with_frame(&self.inner.link, data, |parts| {
            let slot = self.inner.slot(client)?;
            let r = slot.sq.push_parts(parts, false);
            self.inner.pushed(client, &slot, r)
        })?
    }

    /// [`send`](Server::send), but when the client's queue is full, wait up to `timeout`
    /// (`None` = forever, zero = not at all) for room instead of applying the send policy:
    /// woken when the connection takes queued frames, never polled. `Timeout` when no room came
    /// in time (the frame is not queued; the policy then applies as for `send`), `Closed` when
    /// the client disconnects meanwhile.
    pub fn send_timeout(
        &self,
        client: ClientId,
        data: &[u8],
        timeout: Option<Duration>,
    ) -> Result<()> {
        let deadline = timeout.map(crate::wait::instant_after);
        let slot = self.inner.slot(client)?;
        loop {
            let r = with_frame(&self.inner.link, data, |parts| {
                (
                    slot.sq.push_parts(parts, false),
                    parts.iter().map(|p| p.len()).sum(),
                )
            })?;
            match r {
                (Err(PushError::Full), len) => {
                    if !slot.sq.wait_room(len, deadline)? {
                        self.inner.pushed(client, &slot, Err(PushError::Full))?;
                        return Err(Error::Timeout {
                            op: format!("send to client {client}: waiting for room in its queue"),
                            ms: timeout.unwrap_or_default().as_millis(),
                        });
                    }
                }
                (r, _) => return self.inner.pushed(client, &slot, r),
            }
        }
    }

    /// Queue `msgs` to `client` in order, as one batch (encoded into one buffer; written at
    /// once by the calling thread when nothing is queued before it, otherwise taken by the
    /// connection's task with one wake-up and written with `writev`), each waiting for room as
    /// [`send_timeout`](Server::send_timeout) does, all within one `timeout`. A message the
    /// framing refuses, or one larger than the whole queue, queues none. Returns how many were
    /// queued: all, or fewer when the time ran out (or the client went) after some were; an
    /// error when not even the first could be. While its time allows, the batch lets at most
    /// 256 KiB (or the bound, if smaller) wait in the client's queue before it waits, as
    /// [`Client::send_batch`](super::Client::send_batch) does.
    pub fn send_batch(
        &self,
        client: ClientId,
        msgs: &[&[u8]],
        timeout: Option<Duration>,
    ) -> Result<usize> {
        let frames = super::codec::encode_batch(
            &self.inner.cfg.framing,
            msgs,
            self.inner.cfg.send_queue_bytes,
        )?;
        let slot = self.inner.slot(client)?;
        match slot
            .sq
            .push_all(frames, timeout.map(crate::wait::instant_after))
        {
            Ok(n) if n > 0 || msgs.is_empty() => {
                self.inner.pushed(client, &slot, Ok(()))?;
                Ok(n)
            }
            Ok(_) => {
                self.inner.pushed(client, &slot, Err(PushError::Full))?;
                Err(Error::Timeout {
                    op: format!("send to client {client}: waiting for room in its queue"),
                    ms: timeout.unwrap_or_default().as_millis(),
                })
            }
            Err((n, _)) if n > 0 => Ok(n),
            Err((_, e)) => self.inner.pushed(client, &slot, Err(e)).map(|()| 0),
        }
    }

    /// Queue `data` to each of `clients` (encoded once). Returns how many clients it was queued
    /// for: unknown clients and (under [`SendPolicy::Error`]) clients with a full queue are
    /// skipped (each skip counted in [`ServerStats::send_queue_full`]). `FrameTooLarge` when
    /// the frame is larger than `send_queue_bytes`.
    pub fn send_many(&self, clients: &[ClientId], data: &[u8]) -> Result<usize> {
        let frame = encode_frame(&self.inner.cfg.framing, data)?;
        if frame.len() > self.inner.cfg.send_queue_bytes {
            // No client could take it: an error, not a count of 0.
            return Err(PushError::too_large(
                frame.len(),
                self.inner.cfg.send_queue_bytes,
            ));
        }
        let slots: Vec<(ClientId, Arc<Slot>)> = {
            let c = self.inner.lock_clients();
            if c.stopping {
                return Err(Error::closed("send: the server is shut down"));
            }
            clients
                .iter()
                .filter_map(|id| c.map.get(id).map(|s| (*id, s.clone())))
                .collect()
        };
        Ok(slots
            .iter()
            .filter(|(id, s)| self.inner.push(*id, s, frame.clone()).is_ok())
            .count())
    }

    /// Queue `data` to every connected client except `except`. Returns how many clients it was
    /// queued for (see [`send_many`](Server::send_many)).
    pub fn broadcast(&self, data: &[u8], except: Option<ClientId>) -> Result<usize> {
        let ids: Vec<ClientId> = self
            .inner
            .lock_clients()
            .map
            .keys()
            .copied()
            .filter(|id| Some(*id) != except)
            .collect();
        self.send_many(&ids, data)
    }

    /// Disconnect `client`: `graceful` delivers what is queued first, then closes (FIN), within
    /// the config's `close_timeout`; otherwise the connection is cut at once. Returns at once;
    /// the `Disconnected { reason: Kicked }` event follows. `Closed` for an unknown client.
    pub fn disconnect(&self, client: ClientId, graceful: bool) -> Result<()> {
        let slot = self.inner.slot(client)?;
        slot.sq.request_stop(Stop {
            reason: DisconnectReason::Kicked,
            graceful,
            deadline: Some(crate::wait::tokio_after(self.inner.cfg.close_timeout)),
        });
        Ok(())
    }

    /// The connected clients and their addresses, by id.
    pub fn clients(&self) -> Vec<(ClientId, Addr)> {
        let mut v: Vec<(ClientId, Addr)> = self
            .inner
            .lock_clients()
            .map
            .iter()
            .map(|(id, s)| (*id, s.peer.clone()))
            .collect();
        v.sort_by_key(|(id, _)| *id);
        v
    }

    /// The peer address of `client`, if connected.
    pub fn peer_addr(&self, client: ClientId) -> Result<Addr> {
        Ok(self.inner.slot(client)?.peer.clone())
    }

    /// Bytes waiting in `client`'s send queue.
    pub fn queued_bytes(&self, client: ClientId) -> Result<usize> {
        Ok(self.inner.slot(client)?.sq.queued())
    }

    /// What the TLS handshake with `client` agreed on (version, cipher suite, ALPN, the
    /// client's certificate chain when it sent one); `None` on a plaintext server. `Closed`
    /// for an unknown client.
    pub fn tls_info(&self, client: ClientId) -> Result<Option<crate::TlsInfo>> {
        Ok(self.inner.slot(client)?.tls.clone())
    }

    /// One client's counters, its address and since when it is connected. `Closed` for an
    /// unknown client.
    pub fn client_stats(&self, client: ClientId) -> Result<ConnectionStats> {
        let slot = self.inner.slot(client)?;
        let c = &slot.counters;
        Ok(ConnectionStats {
            peer: slot.peer.clone(),
            connected_since: slot.since,
            bytes_in: c.bytes_in.load(Ordering::Relaxed),
            bytes_out: c.bytes_out.load(Ordering::Relaxed),
            messages_in: c.msgs_in.load(Ordering::Relaxed),
            messages_out: c.msgs_out.load(Ordering::Relaxed),
            queued_bytes: c.queued_bytes.load(Ordering::Relaxed),
            tls: slot.tls.is_some(),
        })
    }

    /// The counters: the clients that are gone plus every live client's (each connection
    /// counts on its own counters, so no cache line is shared between connections).
    pub fn stats(&self) -> ServerStats {
        let s = &self.inner;
        let r = &s.retired;
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let (mut bytes_in, mut bytes_out, mut msgs_in, mut msgs_out) = (
            load(&r.bytes_in),
            load(&r.bytes_out),
            load(&r.msgs_in),
            load(&r.msgs_out),
        );
        let mut queued = 0;
        let connections = {
            let c = s.lock_clients();
            for slot in c.map.values() {
                let k = &slot.counters;
                bytes_in += load(&k.bytes_in);
                bytes_out += load(&k.bytes_out);
                msgs_in += load(&k.msgs_in);
                msgs_out += load(&k.msgs_out);
                queued += load(&k.queued_bytes);
            }
            c.map.len() as u64
        };
        ServerStats {
            connections,
            connections_total: s.total.load(Ordering::Relaxed),
            refused: s.refused.load(Ordering::Relaxed),
            bytes_in,
            bytes_out,
            messages_in: msgs_in,
            messages_out: msgs_out,
            queued_bytes: queued,
            events_queued: s.events.len() as u64,
            send_queue_full: s.queue_full.load(Ordering::Relaxed),
            accept_errors: s.accept_errors.load(Ordering::Relaxed),
            tls_failures: s.tls_failures.load(Ordering::Relaxed),
        }
    }

    /// Stop: no new clients; every client's queued messages are delivered within `grace`, then
    /// every connection is closed (`Disconnected { reason: ServerShutdown }` for each), and the
    /// final [`Event::Closed`] is queued. Blocks until done (at most `grace` plus a little);
    /// wakes every thread waiting in `next_events`. Idempotent.
    pub fn shutdown(&self, grace: Duration) {
        self.inner.shutdown(grace)
    }

    /// The backend serving this server: [`Backend::Uring`] or [`Backend::Epoll`] (never
    /// `Auto`).
    pub fn backend(&self) -> Backend {
        self.inner.backend
    }

    /// Why this server got its backend (e.g. `epoll (tokio): TLS is not served by the io_uring
    /// backend`), for logs and for tests that must know which path they exercised.
    pub fn backend_note(&self) -> &str {
        &self.inner.backend_note
    }

    /// True once [`shutdown`](Server::shutdown) has begun.
    pub fn is_shut_down(&self) -> bool {
        self.inner.lock_clients().stopping
    }
}

super::pull_api!(Server);

impl Drop for Server {
    fn drop(&mut self) {
        self.inner.shutdown(Duration::ZERO);
    }
}

impl Stoppable for Shared {
    fn stop_now(&self) {
        self.shutdown(Duration::ZERO);
    }
}

impl Shared {
    /// Add a departing client's monotonic counters to the retired totals.
    fn retire(&self, c: &Counters) {
        let r = &self.retired;
        for (to, from) in [
            (&r.bytes_in, &c.bytes_in),
            (&r.bytes_out, &c.bytes_out),
            (&r.msgs_in, &c.msgs_in),
            (&r.msgs_out, &c.msgs_out),
        ] {
            to.fetch_add(from.load(Ordering::Relaxed), Ordering::Relaxed);
        }
    }

    fn lock_clients(&self) -> MutexGuard<'_, Clients> {
        self.clients.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn slot(&self, client: ClientId) -> Result<Arc<Slot>> {
        let c = self.lock_clients();
        if c.stopping {
            return Err(Error::closed(format!(
                "client {client}: the server is shut down"
            )));
        }
        c.map
            .get(&client)
            .cloned()
            .ok_or_else(|| Error::closed(format!("client {client}: not connected")))
    }

    fn push(&self, id: ClientId, slot: &Slot, frame: bytes::Bytes) -> Result<()> {
        let r = slot.sq.push(frame, false);
        self.pushed(id, slot, r)
    }

    /// The result of a push as the caller sees it (and the send policy's action).
    fn pushed(
        &self,
        id: ClientId,
        slot: &Slot,
        r: std::result::Result<(), PushError>,
    ) -> Result<()> {
        if r.is_ok() && slot.warned_full.load(Ordering::Relaxed) {
            slot.warned_full.store(false, Ordering::Relaxed);
        }
        if matches!(r, Err(PushError::Full)) && self.cfg.send_policy == SendPolicy::Error {
            self.queue_full.fetch_add(1, Ordering::Relaxed);
            if !slot.warned_full.swap(true, Ordering::Relaxed) {
                self.events.push_force(Event::Warning {
                    client: id,
                    error: crate::ErrorKind::QueueFull,
                    message: format!(
                        "client {id} is not reading: its send queue is full ({} of {} bytes); \
                         sends to it are refused and broadcasts skip it until it drains",
                        slot.sq.queued(),
                        self.cfg.send_queue_bytes
                    ),
                });
            }
        }
        match r {
            Ok(()) => Ok(()),
            Err(PushError::Stopped) => {
                Err(Error::closed(format!("send to client {id}: disconnecting")))
            }
            Err(PushError::TooLarge { len, cap }) => Err(PushError::too_large(len, cap)),
            Err(PushError::Full) => match self.cfg.send_policy {
                SendPolicy::Error => Err(Error::QueueFull(format!(
                    "send to client {id}: its send queue holds {} bytes (bound {})",
                    slot.sq.queued(),
                    self.cfg.send_queue_bytes
                ))),
                SendPolicy::Disconnect => {
                    slot.sq.request_stop(Stop {
                        reason: DisconnectReason::SendQueueFull,
                        graceful: false,
                        deadline: None,
                    });
                    Ok(())
                }
            },
        }
    }

    fn shutdown(&self, grace: Duration) {
        let slots: Vec<Arc<Slot>> = {
            let mut c = self.lock_clients();
            let first = !c.stopping;
            c.stopping = true;
            if first {
                if let Some(t) = self.accept.lock().unwrap_or_else(|p| p.into_inner()).take() {
                    t.abort();
                }
                self.hs_stop.notify_waiters();
                if self.uring_listener >= 0 {
                    // Stop listening now (connections are refused from here on; the driver's
                    // accept ends), rather than when the driver thread gets to it.
                    // SAFETY: our own listening socket, open while `self` lives.
                    unsafe { libc::shutdown(self.uring_listener, libc::SHUT_RDWR) };
                }
                #[cfg(target_os = "linux")]
                if let Some(w) = &self.uring_wake {
                    w.wake(0);
                }
                if let Some(p) = &self.unix_path {
                    let _ = std::fs::remove_file(p);
                }
            }
            c.map.values().cloned().collect()
        };
        let mut done = self.done.lock().unwrap_or_else(|p| p.into_inner());
        if *done {
            return;
        }
        let deadline = crate::wait::tokio_after(grace);
        for s in &slots {
            s.sq.request_stop(Stop {
                reason: DisconnectReason::ServerShutdown,
                graceful: true,
                deadline: Some(deadline),
            });
        }
        if !self
            .tasks
            .wait_zero(grace.saturating_add(Duration::from_millis(500)))
        {
            for s in self.lock_clients().map.values() {
                s.sq.request_stop(Stop {
                    reason: DisconnectReason::ServerShutdown,
                    graceful: false,
                    deadline: None,
                });
            }
            self.tasks.wait_zero(Duration::from_secs(2));
        }
        // Tasks that did not end (a runtime already stopped) still owe their Disconnected.
        for (id, s) in self.lock_clients().map.drain() {
            self.retire(&s.counters);
            s.sq.clear();
            self.events.push_force(Event::Disconnected {
                client: id,
                reason: DisconnectReason::ServerShutdown,
            });
        }
        self.events.close();
        *done = true;
    }
}

async fn accept_loop(s: Arc<Shared>, listener: AnyListener) {
    // A Warning was queued for the current run of failed accepts.
    let mut accept_failing = false;
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(x) => {
                accept_failing = false;
                x
            }
            Err(e) => {
                // Out of descriptors or memory: pause instead of spinning.
                let pause = matches!(
                    e.raw_os_error(),
                    Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM)
                );
                s.accept_errors.fetch_add(1, Ordering::Relaxed);
                if !accept_failing {
                    accept_failing = true;
                    let e = Error::os(format!("accept on {}", s.local), e);
                    s.events.push_force(Event::Warning {
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
                tokio::time::sleep(Duration::from_millis(if pause { 100 } else { 1 })).await;
                continue;
            }
        };
        if let AnyStream::Tcp(t) = &stream {
            let _ = conn_options(&s.cfg.options).apply(&SockRef::from(t));
        }
        if let Some(tls) = &s.cfg.tls {
            // The handshake runs in a task of its own: a slow or silent peer holds up nobody.
            if s.handshakes.fetch_add(1, Ordering::AcqRel) >= MAX_HANDSHAKES {
                s.handshakes.fetch_sub(1, Ordering::AcqRel);
                s.tls_failures.fetch_add(1, Ordering::Relaxed);
                continue;
            }
            s.handle
                .spawn(tls_accept(s.clone(), tls.clone(), stream, peer));
            continue;
        }
        // No room for its Connected event: wait (holding this one connection) and accept no
        // more meanwhile; newcomers wait in the backlog.
        let Ok(permit) = s.events.reserve().await else {
            return;
        };
        if !admit(&s, stream, peer, permit) {
            return;
        }
    }
}

/// Most TLS handshakes under way at once; a connection beyond is closed at once (and counted
/// in `tls_failures`), so a flood of silent peers cannot hold unbounded memory.
const MAX_HANDSHAKES: usize = 1024;

/// Shake hands with a newly accepted peer (within the handshake timeout, or until the server
/// shuts down), then admit it as a client. A failure is a `Warning` (the peer never became a
/// client, so there is no `Disconnected`) and a count in `tls_failures`.
async fn tls_accept(s: Arc<Shared>, tls: crate::tls::ServerTls, stream: AnyStream, peer: Addr) {
    struct Pending<'a>(&'a Shared);
    impl Drop for Pending<'_> {
        fn drop(&mut self) {
            self.0.handshakes.fetch_sub(1, Ordering::AcqRel);
        }
    }
    let _pending = Pending(&s);
    let stop = s.hs_stop.notified();
    tokio::pin!(stop);
    stop.as_mut().enable();
    if s.lock_clients().stopping {
        return;
    }
    let acceptor = tokio_rustls::TlsAcceptor::from(tls.config.clone());
    let op = || format!("TLS handshake with {peer}");
    let r = tokio::select! {
        r = tokio::time::timeout(tls.handshake_timeout, acceptor.accept(ReadAhead::new(stream))) => r,
        _ = stop => return,
    };
    let err = match r {
        Ok(Ok(t)) => {
            let stream = AnyStream::Tls(Box::new(tokio_rustls::TlsStream::Server(t)));
            let Ok(permit) = s.events.reserve().await else {
                return;
            };
            admit(&s, stream, peer, permit);
            return;
        }
        Ok(Err(e)) => tls_io_error(&op(), &e),
        Err(_) => Error::Tls(format!(
            "{}: no handshake within {} ms (a silent or plaintext peer?)",
            op().trim_start_matches("TLS "),
            tls.handshake_timeout.as_millis()
        )),
    };
    s.tls_failures.fetch_add(1, Ordering::Relaxed);
    // Best effort: a flood of failing peers must not fill the queue the clients' events need.
    s.events.try_push_now(Event::Warning {
        client: 0,
        error: err.kind(),
        message: err.to_string(),
    });
}

/// Make an accepted (and, with TLS, handshaken) connection a client: give it an id, queue its
/// `Connected` (into the room `permit` holds) and start its task. False once the server is
/// stopping.
fn admit(
    s: &Arc<Shared>,
    stream: AnyStream,
    peer: Addr,
    permit: super::events::Permit<'_>,
) -> bool {
    let sided = s.consumer_ep >= 0 && s.sides.load(Ordering::Relaxed) < DRIVE_MAX;
    let stream = if sided {
        // Reads and writes registered apart, so that waiting consumers can read it.
        match stream.split_registration() {
            Ok(st) => st,
            Err(_) => {
                s.accept_errors.fetch_add(1, Ordering::Relaxed);
                return true;
            }
        }
    } else {
        stream
    };
    let (id, slot) = {
        let mut c = s.lock_clients();
        if c.stopping {
            return false;
        }
        if s.cfg.max_clients.is_some_and(|m| c.map.len() >= m) {
            s.refused.fetch_add(1, Ordering::Relaxed);
            return true;
        }
        let id = s.next_id.fetch_add(1, Ordering::Relaxed);
        let counters = Arc::new(Counters::default());
        let side = match sided {
            true => ReadSide::for_stream(id, &s.link, &stream, &s.drive, s.consumer_ep),
            false => None,
        };
        match (&side, s.consumer_ep) {
            (Some(_), _) => s.sides.fetch_add(1, Ordering::Relaxed),
            (None, -1) => 0,
            (None, _) => s.unsided.fetch_add(1, Ordering::Relaxed),
        };
        let slot = Arc::new(Slot {
            peer: peer.clone(),
            since: std::time::SystemTime::now(),
            tls: stream.tls_info(),
            sq: SendQueue::new(
                s.cfg.send_queue_bytes,
                s.link.tracks_writes(),
                counters.clone(),
            ),
            counters,
            warned_full: AtomicBool::new(false),
            side,
        });
        c.map.insert(id, slot.clone());
        s.total.fetch_add(1, Ordering::Relaxed);
        s.tasks.inc();
        (id, slot)
    };
    permit.push(Event::Connected { client: id, peer });
    let conn = Conn::start(stream, &s.link, &slot.sq, slot.side.clone());
    s.handle.spawn(ConnTask {
        s: s.clone(),
        id,
        slot,
        conn: Some(conn),
    });
    true
}

/// One client's task: drives its [`Conn`] and, when it ends (or the task is dropped by a
/// runtime shutdown), removes the client and queues its `Disconnected`. Written as a plain
/// future holding the owners and the connection side by side (an `async fn` would keep its
/// arguments and locals twice over), so an idle client costs one small task.
struct ConnTask {
    s: Arc<Shared>,
    id: ClientId,
    slot: Arc<Slot>,
    /// `None` once finished (the socket is closed before the bookkeeping, as before).
    conn: Option<Conn>,
}

impl ConnTask {
    fn finish(&mut self, reason: DisconnectReason) {
        // Before the socket closes: no direct write or consumer read may use its descriptor
        // any more.
        self.slot.sq.detach();
        match &self.slot.side {
            Some(side) => {
                side.close();
                self.s.sides.fetch_sub(1, Ordering::Relaxed);
            }
            None if self.s.consumer_ep >= 0 => {
                self.s.unsided.fetch_sub(1, Ordering::Relaxed);
            }
            None => {}
        }
        self.conn = None;
        let removed = {
            let mut c = self.s.lock_clients();
            let removed = c.map.remove(&self.id).is_some();
            if removed {
                // Under the lock `stats` sums with: the totals never go down or count twice.
                self.s.retire(&self.slot.counters);
            }
            removed
        };
        self.slot.sq.clear();
        if removed {
            self.s.events.push_force(Event::Disconnected {
                client: self.id,
                reason,
            });
        }
        self.s.tasks.dec();
    }
}

impl std::future::Future for ConnTask {
    type Output = ();

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<()> {
        let t = &mut *self;
        let env = Env {
            id: t.id,
            cfg: &t.s.link,
            sq: &t.slot.sq,
            events: &t.s.events,
            counters: &t.slot.counters,
        };
        let Some(conn) = t.conn.as_mut() else {
            return std::task::Poll::Ready(());
        };
        let reason = std::task::ready!(conn.poll_guarded(cx, &env));
        t.finish(reason);
        std::task::Poll::Ready(())
    }
}

impl Drop for ConnTask {
    fn drop(&mut self) {
        if self.conn.is_some() {
            // Cancelled (runtime shutdown), or unwinding from a panic outside the guarded poll:
            // the bookkeeping still happens, with the true reason.
            let reason = if std::thread::panicking() {
                DisconnectReason::Error(
                    crate::ErrorKind::Internal,
                    "internal error: the connection's task panicked".into(),
                )
            } else {
                DisconnectReason::ServerShutdown
            };
            self.finish(reason);
        }
    }
}

/// Create, configure, bind and listen a socket for `ep`.
fn bind_socket(ep: &Endpoint, cfg: &ServerConfig) -> Result<(Socket, Addr, Option<PathBuf>)> {
    let addrs = ep.resolve(None)?;
    let mut last = None;
    for addr in &addrs {
        match bind_one(addr, cfg) {
            Ok(x) => return Ok(x),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| Error::invalid(format!("{ep}: no address to bind"))))
}

fn bind_one(addr: &Addr, cfg: &ServerConfig) -> Result<(Socket, Addr, Option<PathBuf>)> {
    let op = || format!("listen on {addr}");
    let sa = addr.to_sockaddr()?;
    let mut unix_path = None;
    let sock = match addr {
        Addr::Inet(s) => {
            let domain = Domain::for_address(*s);
            let sock = Socket::new(domain, Type::STREAM, Some(Protocol::TCP))
                .map_err(|e| Error::os(op(), e))?;
            let mut o = cfg.options.clone();
            o.reuse_address.get_or_insert(true);
            if domain == Domain::IPV6 {
                o.v6_only.get_or_insert(false);
            }
            o.apply(&sock)?;
            sock
        }
        Addr::Unix(Some(path)) => {
            crate::listener::prepare_unix_path(path, cfg.remove_stale)?;
            unix_path = Some(path.clone());
            Socket::new(Domain::UNIX, Type::STREAM, None).map_err(|e| Error::os(op(), e))?
        }
        _ => Socket::new(Domain::UNIX, Type::STREAM, None).map_err(|e| Error::os(op(), e))?,
    };
    sock.bind(&sa).map_err(|e| Error::os(op(), e))?;
    sock.listen(cfg.backlog).map_err(|e| Error::os(op(), e))?;
    sock.set_nonblocking(true).map_err(|e| Error::os(op(), e))?;
    let local = sock
        .local_addr()
        .map(|a| Addr::from_sockaddr(&a))
        .map_err(|e| Error::os(op(), e))?;
    Ok((sock, local, unix_path))
}
