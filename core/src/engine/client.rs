//! [`Client`]: one long connection with auto-reconnect and a send queue kept across reconnects.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use socket2::{Domain, Protocol, Socket, Type};
use tokio::runtime::Handle;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use super::events::{DisconnectReason, Event, EventQueue, Source};
use super::link::{
    frame_len, run_conn, with_frame, Counters, Drive, Env, LinkCfg, ReadSide, TaskCount,
};
use super::runtime::{self, Stoppable};
use super::sendq::{PushError, SendQueue, Stop};
use super::stream::{conn_options, tls_io_error, AnyStream, ReadAhead};
use super::{Heartbeat, IdleMode};
use crate::addr::{Addr, Endpoint, ToEndpoint};
use crate::error::{Error, ErrorKind, Result};
use crate::framing::Framing;
use crate::options::SocketOptions;

/// How a [`Client`] behaves. Built with chained setters.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Framing (default: 4-byte big-endian length prefix, as the server's default).
    pub framing: Framing,
    /// Socket options applied before connecting (default: nodelay on).
    pub options: SocketOptions,
    /// Time limit of one connect attempt, name lookup included (default 10 s).
    pub connect_timeout: Duration,
    /// Reconnect after a failed attempt or a lost connection (default on).
    pub reconnect: bool,
    /// First retry delay (default 100 ms); doubles per attempt up to `backoff_max`.
    pub backoff_min: Duration,
    /// Longest retry delay (default 10 s).
    pub backoff_max: Duration,
    /// Randomize each delay within [delay/2, delay] (default on), so many clients do not
    /// reconnect in step.
    pub jitter: bool,
    /// Give up after this many failed attempts in a row (0 = never, the default).
    pub max_attempts: u32,
    /// Bound of the send queue in bytes (default 4 MiB); it holds messages while disconnected,
    /// and a send that would exceed it fails with `QueueFull`.
    pub send_queue_bytes: usize,
    /// Bound of the event queue in events (default 4096).
    pub event_capacity: usize,
    /// Close the connection when idle this long (then reconnect, if on).
    pub idle_timeout: Option<Duration>,
    /// What counts as activity for the idle timeout.
    pub idle_mode: IdleMode,
    /// Application heartbeat (default: answer pings only).
    pub heartbeat: Option<Heartbeat>,
    /// Speak TLS (default: plaintext). Every connection, reconnects included, shakes hands
    /// within the settings' handshake timeout before it is `Connected`; the server's name is
    /// the endpoint's host unless the settings name one. A failed handshake is a failed
    /// attempt: a `Warning` event of kind `Tls` with the reason, a count in
    /// [`ClientStats::tls_failures`], then the usual backoff (or, without reconnect, the final
    /// `Disconnected` with reason `Tls`).
    pub tls: Option<crate::tls::ClientTls>,
    /// Connect through this proxy (SOCKS5 or HTTP `CONNECT`; default: none). Every attempt,
    /// reconnects included, goes through the proxy again; its exchange runs on the engine's
    /// runtime within `connect_timeout`. TLS, when set, runs end to end with the target over
    /// the tunnel (the server name is the target's host). The `Connected` event's peer is the
    /// proxy's address. A refusal is a failed attempt like any other (see [`crate::Proxy`] for
    /// the error kinds).
    pub proxy: Option<crate::Proxy>,
}

impl Default for ClientConfig {
    fn default() -> ClientConfig {
        ClientConfig {
            framing: Framing::length_prefixed(),
            options: SocketOptions::new().nodelay(true),
            connect_timeout: Duration::from_secs(10),
            reconnect: true,
            backoff_min: Duration::from_millis(100),
            backoff_max: Duration::from_secs(10),
            jitter: true,
            max_attempts: 0,
            send_queue_bytes: 4 << 20,
            event_capacity: 4096,
            idle_timeout: None,
            idle_mode: IdleMode::Reads,
            heartbeat: Some(Heartbeat::reply_only()),
            tls: None,
            proxy: None,
        }
    }
}

impl ClientConfig {
    /// The defaults (see the fields).
    pub fn new() -> ClientConfig {
        ClientConfig::default()
    }

    super::connection_setters!();
    /// Time limit of one connect attempt.
    pub fn connect_timeout(mut self, t: Duration) -> Self {
        self.connect_timeout = t;
        self
    }
    /// Turn auto-reconnect on or off.
    pub fn reconnect(mut self, on: bool) -> Self {
        self.reconnect = on;
        self
    }
    /// Retry delays: from `min`, doubling, up to `max`.
    pub fn backoff(mut self, min: Duration, max: Duration) -> Self {
        self.backoff_min = min;
        self.backoff_max = max;
        self
    }
    /// Randomize retry delays.
    pub fn jitter(mut self, on: bool) -> Self {
        self.jitter = on;
        self
    }
    /// Give up after `n` failed attempts in a row (0 = never).
    pub fn max_attempts(mut self, n: u32) -> Self {
        self.max_attempts = n;
        self
    }

    /// Speak TLS (see [`ClientConfig::tls`](ClientConfig#structfield.tls)).
    pub fn tls(mut self, tls: crate::tls::ClientTls) -> Self {
        self.tls = Some(tls);
        self
    }

    /// Connect through a proxy (see [`ClientConfig::proxy`](ClientConfig#structfield.proxy)).
    pub fn proxy(mut self, proxy: crate::Proxy) -> Self {
        self.proxy = Some(proxy);
        self
    }

    /// Check every setting (done by [`Client::connect`]): the framing and heartbeat (as for a
    /// server), a connect timeout above zero, retry delays of at least
    /// [`MIN_BACKOFF`](super::MIN_BACKOFF) with `backoff_min <= backoff_max`, non-zero queue
    /// bounds. `InvalidArgument` names the setting.
    pub fn validate(&self) -> Result<()> {
        self.link().validate()?;
        super::check_queues(Some(self.send_queue_bytes), self.event_capacity)?;
        if self.connect_timeout.is_zero() {
            return Err(Error::invalid(
                "connect_timeout 0: no connect attempt could succeed",
            ));
        }
        if self.backoff_min < super::MIN_BACKOFF {
            return Err(Error::invalid(format!(
                "backoff minimum {:?} is below the floor of {:?}",
                self.backoff_min,
                super::MIN_BACKOFF
            )));
        }
        if self.backoff_min > self.backoff_max {
            return Err(Error::invalid(format!(
                "backoff minimum {:?} is greater than the maximum {:?}",
                self.backoff_min, self.backoff_max
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

/// A snapshot of a client's state and counters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientStats {
    /// Connected now.
    pub connected: bool,
    /// Connections made so far (the current connection's number).
    pub connections: u64,
    /// Failed connect attempts so far.
    pub failed_attempts: u64,
    /// Bytes received.
    pub bytes_in: u64,
    /// Bytes sent.
    pub bytes_out: u64,
    /// Application messages received.
    pub messages_in: u64,
    /// Frames written (heartbeats included).
    pub messages_out: u64,
    /// Bytes waiting in the send queue.
    pub queued_bytes: u64,
    /// Events waiting to be pulled.
    pub events_queued: u64,
    /// Failed TLS handshakes (each also a failed attempt and a `Warning` event).
    pub tls_failures: u64,
}

struct Shared {
    cfg: ClientConfig,
    link: LinkCfg,
    endpoint: Endpoint,
    events: EventQueue,
    sq: SendQueue,
    counters: Arc<Counters>,
    closing: AtomicBool,
    wake: Notify,
    connected: Mutex<Option<Addr>>,
    /// What the current connection's TLS handshake agreed on.
    tls_info: Mutex<Option<crate::TlsInfo>>,
    tls_failures: AtomicU64,
    sessions: AtomicU64,
    failed: AtomicU64,
    tasks: TaskCount,
    task: Mutex<Option<JoinHandle<()>>>,
    done: Mutex<bool>,
    /// The current connection's read side, when waiting consumers may read it themselves.
    side: Mutex<Option<Arc<ReadSide>>>,
    /// Whether consumers wait on the connection (see [`ReadSide`]).
    drive: Arc<Drive>,
}

impl Shared {
    fn side(&self) -> Option<Arc<ReadSide>> {
        self.side.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn set_side(&self, side: Option<Arc<ReadSide>>) {
        *self.side.lock().unwrap_or_else(|p| p.into_inner()) = side;
    }
}

/// A consumer that finds the queue empty reads the connection itself (see [`ReadSide`]).
#[cfg(unix)]
impl Source for Shared {
    fn fill(&self, _q: &EventQueue) -> usize {
        let Some(side) = self.side() else {
            return 0;
        };
        side.fill(&Env {
            id: 0,
            cfg: &self.link,
            sq: &self.sq,
            events: &self.events,
            counters: &self.counters,
        })
    }

    fn fd(&self) -> i32 {
        self.side().map_or(-1, |s| s.fd())
    }

    fn driving(&self, on: bool) {
        self.drive.set(on);
    }

    fn wait_fill(&self, _q: &EventQueue, _wait: Duration) -> Option<usize> {
        // The socket stays non-blocking (the runtime writes it): the caller waits in poll(2).
        None
    }
}

/// A long-lived connection to a server, kept up by the engine: it connects in the background,
/// reconnects with backoff when the connection is lost, and sends what was queued meanwhile in
/// order. Every method may be called from any thread. Dropping it closes it at once.
///
/// Who reads the connection (Linux, plain TCP or Unix, no heartbeat interval and no idle
/// timeout): a consumer that pulls from an empty event queue reads the socket itself and
/// waits in `poll(2)` on it, so request–reply traffic costs no thread switch per message; the
/// engine's runtime stands aside meanwhile and reads again once no consumer has waited for
/// 10 ms, so input that arrives while the application is busy still goes to the queue (up to
/// its bound). Elsewhere (TLS, a heartbeat interval or an idle timeout, other systems, or
/// once [`notify_fd`](Client::notify_fd) was handed out) the runtime reads and the consumer
/// takes what it queued. Either way each message is one event, once, in order. (The runtime's
/// read registration is a second descriptor of the socket: a plain connection holds two.)
pub struct Client {
    inner: Arc<Shared>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("endpoint", &self.inner.endpoint)
            .finish()
    }
}

impl Client {
    /// Start connecting to `endpoint`; returns at once. The `Connected` event (or
    /// `Reconnecting` / `Disconnected { client: 0, .. }` on failure) tells how it went. Messages
    /// sent before the connection is up are queued.
    pub fn connect(endpoint: impl ToEndpoint, cfg: ClientConfig) -> Result<Client> {
        let endpoint = endpoint.to_endpoint()?;
        cfg.validate()?;
        if let Some(p) = &cfg.proxy {
            // A target no proxy can reach (a Unix socket, a host name over 255 bytes) fails now.
            crate::proxy::Target::of(&endpoint, p)?;
        }
        if let Some(tls) = &cfg.tls {
            // A name TLS cannot check (e.g. a Unix path without `server_name`) fails now.
            tls.name_for(&tls_host(&endpoint))?;
        }
        let link = cfg.link();
        let handle: Handle = runtime::handle()?;
        let counters = Arc::new(Counters::default());
        let shared = Arc::new(Shared {
            events: EventQueue::new(cfg.event_capacity)?,
            sq: SendQueue::new(cfg.send_queue_bytes, link.tracks_writes(), counters.clone()),
            counters,
            link,
            cfg,
            endpoint,
            closing: AtomicBool::new(false),
            wake: Notify::new(),
            connected: Mutex::new(None),
            tls_info: Mutex::new(None),
            tls_failures: AtomicU64::new(0),
            sessions: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            tasks: TaskCount::default(),
            task: Mutex::new(None),
            done: Mutex::new(false),
            side: Mutex::new(None),
            drive: Arc::default(),
        });
        #[cfg(unix)]
        {
            let source: std::sync::Weak<dyn Source> = Arc::downgrade(&shared) as _;
            shared.events.set_source(source);
        }
        shared.tasks.inc();
        let task = handle.spawn(client_loop(shared.clone()));
        *shared.task.lock().unwrap_or_else(|p| p.into_inner()) = Some(task);
        runtime::register_arc(&shared);
        Ok(Client { inner: shared })
    }

    fn events(&self) -> &EventQueue {
        &self.inner.events
    }

    /// Queue `data` as one frame. While disconnected it waits in the queue and is sent, in
    /// order, after the next connect. `QueueFull` when the queue's byte bound would be exceeded;
    /// `FrameTooLarge` for a frame larger than the whole queue (`send_queue_bytes`), even when it
    /// is empty; `Ok` means queued, not delivered: frames queued or in the kernel's buffers when
    /// the connection breaks are lost, as with any TCP send;
    /// `Closed` after `close`; framing errors as the framing says.
    pub fn send(&self, data: &[u8]) -> Result<()> {
        let r = with_frame(&self.inner.link, data, |parts| {
            if self.inner.closing.load(Ordering::Acquire) {
                return Err(PushError::Stopped);
            }
            self.inner.sq.push_parts(parts, false)
        })?;
        match r {
            Ok(()) => Ok(()),
            Err(PushError::Stopped) => Err(Error::closed("send: the client is closed")),
            Err(PushError::TooLarge { len, cap }) => Err(PushError::too_large(len, cap)),
            Err(PushError::Full) => Err(Error::QueueFull(format!(
                "send to {}: the send queue holds {} bytes (bound {})",
                self.inner.endpoint,
                self.inner.sq.queued(),
                self.inner.cfg.send_queue_bytes
            ))),
        }
    }

    /// [`send`](Client::send), but when the queue is full, wait up to `timeout` (`None` =
    /// forever, zero = not at all) for room instead of failing with `QueueFull`: woken when the
    /// connection takes queued frames, never polled. `Timeout` when no room came in time (the
    /// frame is not queued); the other errors as for `send`.
    pub fn send_timeout(&self, data: &[u8], timeout: Option<Duration>) -> Result<()> {
        self.send_until(data, timeout.map(crate::wait::instant_after), timeout)
    }

    /// Queue several messages in order, each waiting for room as
    /// [`send_timeout`](Client::send_timeout) does, all within one `timeout`. Every message is
    /// checked against the framing and the queue bound first, so a bad one queues none. Returns
    /// how many were queued: all of them, or fewer when the time ran out (or the client closed)
    /// after some were; an error when not even the first could be.
    ///
    /// While its time allows, the batch lets at most 256 KiB (or the bound, if smaller) wait in
    /// the queue before it waits for the connection to take them, rather than filling the whole
    /// bound: the backlog stays in the socket, and what is queued stays in cache. When the time
    /// is up, what fits the whole bound is queued.
    pub fn send_batch(&self, msgs: &[&[u8]], timeout: Option<Duration>) -> Result<usize> {
        let frames = super::codec::encode_batch(
            &self.inner.cfg.framing,
            msgs,
            self.inner.cfg.send_queue_bytes,
        )?;
        if self.inner.closing.load(Ordering::Acquire) {
            return Err(Error::closed("send: the client is closed"));
        }
        match self
            .inner
            .sq
            .push_all(frames, timeout.map(crate::wait::instant_after))
        {
            Ok(n) if n > 0 || msgs.is_empty() => Ok(n),
            Ok(_) => Err(Error::Timeout {
                op: format!(
                    "send to {}: waiting for room in the send queue",
                    self.inner.endpoint
                ),
                ms: timeout.unwrap_or_default().as_millis(),
            }),
            Err((n, _)) if n > 0 => Ok(n),
            Err(_) => Err(Error::closed("send: the client is closed")),
        }
    }

    fn send_until(
        &self,
        data: &[u8],
        deadline: Option<std::time::Instant>,
        timeout: Option<Duration>,
    ) -> Result<()> {
        loop {
            match self.send(data) {
                Err(e) if e.kind() == ErrorKind::QueueFull => {
                    let len = frame_len(&self.inner.link, data)?;
                    if !self.inner.sq.wait_room(len, deadline)? {
                        return Err(Error::Timeout {
                            op: format!(
                                "send to {}: waiting for room in the send queue",
                                self.inner.endpoint
                            ),
                            ms: timeout.unwrap_or_default().as_millis(),
                        });
                    }
                }
                r => return r,
            }
        }
    }

    /// True while connected.
    pub fn is_connected(&self) -> bool {
        self.peer_addr().is_some()
    }

    /// The server's address while connected.
    pub fn peer_addr(&self) -> Option<Addr> {
        self.inner
            .connected
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// What the current connection's TLS handshake agreed on (version, cipher suite, ALPN,
    /// the server's certificate chain); `None` while disconnected or without TLS.
    pub fn tls_info(&self) -> Option<crate::TlsInfo> {
        self.inner
            .tls_info
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The endpoint this client connects to.
    pub fn endpoint(&self) -> &Endpoint {
        &self.inner.endpoint
    }

    /// State and counters.
    pub fn stats(&self) -> ClientStats {
        let s = &self.inner;
        let c = &s.counters;
        ClientStats {
            connected: self.is_connected(),
            connections: s.sessions.load(Ordering::Relaxed),
            failed_attempts: s.failed.load(Ordering::Relaxed),
            bytes_in: c.bytes_in.load(Ordering::Relaxed),
            bytes_out: c.bytes_out.load(Ordering::Relaxed),
            messages_in: c.msgs_in.load(Ordering::Relaxed),
            messages_out: c.msgs_out.load(Ordering::Relaxed),
            queued_bytes: c.queued_bytes.load(Ordering::Relaxed),
            events_queued: s.events.len() as u64,
            tls_failures: s.tls_failures.load(Ordering::Relaxed),
        }
    }

    /// Close: while connected, what is queued is delivered within `grace`, then the connection
    /// is closed (`Disconnected { reason: Closed }`); messages still queued while disconnected
    /// are dropped. The final [`Event::Closed`] follows; waiters in `next_events` wake. Blocks
    /// until done (at most `grace` plus a little). Idempotent.
    pub fn close(&self, grace: Duration) {
        self.inner.close(grace)
    }
}

super::pull_api!(Client);

impl Drop for Client {
    fn drop(&mut self) {
        self.inner.close(Duration::ZERO);
    }
}

impl Stoppable for Shared {
    fn stop_now(&self) {
        self.close(Duration::ZERO);
    }
}

impl Shared {
    fn close(&self, grace: Duration) {
        let mut done = self.done.lock().unwrap_or_else(|p| p.into_inner());
        if *done {
            return;
        }
        self.closing.store(true, Ordering::Release);
        self.sq.request_stop(Stop {
            reason: DisconnectReason::Closed,
            graceful: true,
            deadline: Some(crate::wait::tokio_after(grace)),
        });
        self.wake.notify_one();
        if !self
            .tasks
            .wait_zero(grace.saturating_add(Duration::from_millis(500)))
        {
            self.sq.request_stop(Stop {
                reason: DisconnectReason::Closed,
                graceful: false,
                deadline: None,
            });
            if !self.tasks.wait_zero(Duration::from_secs(2)) {
                if let Some(t) = self.task.lock().unwrap_or_else(|p| p.into_inner()).take() {
                    t.abort();
                }
            }
        }
        self.sq.clear();
        self.events.close();
        *done = true;
    }
}

struct Rng(u64);

impl Rng {
    fn new() -> Rng {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        Rng(t ^ (&t as *const u64 as u64).rotate_left(29) | 1)
    }
    /// A number in [0, 1).
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn backoff(cfg: &ClientConfig, attempt: u32, rng: &mut Rng) -> Duration {
    let exp = attempt.saturating_sub(1).min(30);
    let d = cfg
        .backoff_min
        .saturating_mul(1u32 << exp)
        .min(cfg.backoff_max);
    if cfg.jitter {
        d.mul_f64(0.5 + 0.5 * rng.next())
    } else {
        d
    }
}

async fn client_loop(s: Arc<Shared>) {
    struct Guard<'a>(&'a Shared);
    impl Drop for Guard<'_> {
        fn drop(&mut self) {
            *self.0.connected.lock().unwrap_or_else(|p| p.into_inner()) = None;
            self.0.tasks.dec();
        }
    }
    let _g = Guard(&s);
    let mut rng = Rng::new();
    let mut attempt = 0u32;
    let mut last_err: Option<Error> = None;
    loop {
        if s.closing.load(Ordering::Acquire) {
            break;
        }
        let r = tokio::select! {
            r = start_session(&s.endpoint, &s.cfg) => r,
            _ = s.wake.notified() => break,
        };
        match r {
            Ok((stream, peer)) => {
                last_err = None;
                attempt = 0;
                let id = s.sessions.fetch_add(1, Ordering::Relaxed) + 1;
                *s.connected.lock().unwrap_or_else(|p| p.into_inner()) = Some(peer.clone());
                *s.tls_info.lock().unwrap_or_else(|p| p.into_inner()) = stream.tls_info();
                s.events.push_force(Event::Connected { client: id, peer });
                let env = Env {
                    id,
                    cfg: &s.link,
                    sq: &s.sq,
                    events: &s.events,
                    counters: &s.counters,
                };
                let side = ReadSide::for_stream(id, &s.link, &stream, &s.drive, -1);
                s.set_side(side.clone());
                let reason = run_conn(stream, env, side).await;
                s.set_side(None);
                *s.connected.lock().unwrap_or_else(|p| p.into_inner()) = None;
                *s.tls_info.lock().unwrap_or_else(|p| p.into_inner()) = None;
                s.events
                    .push_force(Event::Disconnected { client: id, reason });
                if s.closing.load(Ordering::Acquire) || !s.cfg.reconnect {
                    break;
                }
            }
            Err(e) => {
                s.failed.fetch_add(1, Ordering::Relaxed);
                if e.kind() == ErrorKind::Tls {
                    s.tls_failures.fetch_add(1, Ordering::Relaxed);
                    if s.cfg.reconnect {
                        // The next attempt follows; say why this one failed (best effort).
                        s.events.try_push_now(Event::Warning {
                            client: 0,
                            error: ErrorKind::Tls,
                            message: e.to_string(),
                        });
                    }
                }
                last_err = Some(e);
                if !s.cfg.reconnect {
                    break;
                }
            }
        }
        attempt += 1;
        if s.cfg.max_attempts > 0 && attempt > s.cfg.max_attempts {
            break;
        }
        let delay = backoff(&s.cfg, attempt, &mut rng);
        // Wait for room rather than growing the queue while nobody pulls.
        let permit = tokio::select! {
            p = s.events.reserve() => p,
            _ = s.wake.notified() => break,
        };
        match permit {
            Ok(p) => p.push(Event::Reconnecting { attempt, delay }),
            Err(_) => break,
        }
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = s.wake.notified() => break,
        }
    }
    if let Some(e) = last_err {
        if !s.closing.load(Ordering::Acquire) {
            s.events.push_force(Event::Disconnected {
                client: 0,
                reason: DisconnectReason::from_error(&e),
            });
        }
    }
    if !s.closing.load(Ordering::Acquire) {
        // Gave up (or no reconnect): no more events will come.
        s.sq.request_stop(Stop {
            reason: DisconnectReason::Closed,
            graceful: false,
            deadline: None,
        });
        s.sq.clear();
        s.events.close();
    }
}

/// One connect attempt (see [`connect_once`]), then, with TLS, the handshake within its
/// timeout.
async fn start_session(ep: &Endpoint, cfg: &ClientConfig) -> Result<(AnyStream, Addr)> {
    let (stream, peer) = connect_once(ep, cfg).await?;
    let Some(tls) = &cfg.tls else {
        // Reads and writes registered apart, so that waiting consumers can read it themselves
        // (see `ReadSide`; a plain stream on Linux, else unchanged).
        let stream = stream
            .split_registration()
            .map_err(|e| Error::os(format!("register the connection to {peer}"), e))?;
        return Ok((stream, peer));
    };
    let name = tls.name_for(&tls_host(ep))?;
    let op = || format!("TLS handshake with {peer}");
    let connector = tokio_rustls::TlsConnector::from(tls.config.clone());
    match tokio::time::timeout(
        tls.handshake_timeout,
        connector.connect(name, ReadAhead::new(stream)),
    )
    .await
    {
        Ok(Ok(t)) => Ok((
            AnyStream::Tls(Box::new(tokio_rustls::TlsStream::Client(t))),
            peer,
        )),
        Ok(Err(e)) => Err(tls_io_error(&op(), &e)),
        Err(_) => Err(Error::Tls(format!(
            "{}: no handshake within {} ms (a silent or plaintext server?)",
            op().trim_start_matches("TLS "),
            tls.handshake_timeout.as_millis()
        ))),
    }
}

/// The host a TLS client names (SNI) and checks when the settings name none.
fn tls_host(ep: &Endpoint) -> String {
    match ep {
        Endpoint::Inet { host, .. } => host.clone(),
        other => other.to_string(),
    }
}

/// One connect attempt to every address of the endpoint (or of the proxy, then the proxy's
/// exchange), within the connect timeout.
async fn connect_once(ep: &Endpoint, cfg: &ClientConfig) -> Result<(AnyStream, Addr)> {
    let t = cfg.connect_timeout;
    let Some(proxy) = &cfg.proxy else {
        return match tokio::time::timeout(t, connect_inner(ep, cfg)).await {
            Ok(r) => r,
            Err(_) => Err(Error::Timeout {
                op: format!("connect to {ep}"),
                ms: t.as_millis(),
            }),
        };
    };
    let target = crate::proxy::Target::of(ep, proxy)?;
    let attempt = async {
        let (mut stream, peer) = connect_inner(&proxy.endpoint(), cfg)
            .await
            .map_err(|e| proxy.reaching(&target, e))?;
        crate::proxy::handshake_async(proxy, &target, &mut stream).await?;
        Ok((stream, peer))
    };
    match tokio::time::timeout(t, attempt).await {
        Ok(r) => r,
        Err(_) => Err(Error::Timeout {
            op: proxy.op(&target),
            ms: t.as_millis(),
        }),
    }
}

async fn connect_inner(ep: &Endpoint, cfg: &ClientConfig) -> Result<(AnyStream, Addr)> {
    let addrs: Vec<Addr> = match ep {
        Endpoint::Inet { host, port } => match host.parse::<std::net::IpAddr>() {
            Ok(ip) => vec![Addr::Inet(std::net::SocketAddr::new(ip, *port))],
            Err(_) => tokio::net::lookup_host((host.as_str(), *port))
                .await
                .map_err(|e| Error::Resolve {
                    host: host.clone(),
                    reason: e.to_string(),
                })?
                .map(Addr::Inet)
                .collect(),
        },
        other => other.resolve(None)?,
    };
    let mut last = None;
    for addr in &addrs {
        match connect_addr(addr, cfg).await {
            Ok(s) => return Ok((s, addr.clone())),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| Error::Resolve {
        host: ep.to_string(),
        reason: "no addresses".into(),
    }))
}

async fn connect_addr(addr: &Addr, cfg: &ClientConfig) -> Result<AnyStream> {
    let op = || format!("connect to {addr}");
    let sa = addr.to_sockaddr()?;
    match addr {
        Addr::Inet(s) => {
            let sock = Socket::new(Domain::for_address(*s), Type::STREAM, Some(Protocol::TCP))
                .map_err(|e| Error::os(op(), e))?;
            conn_options(&cfg.options).apply(&sock)?;
            if let Some(local) = cfg.options.local_addr {
                sock.bind(&local.into()).map_err(|e| {
                    Error::os(format!("bind {local} before connecting to {addr}"), e)
                })?;
            }
            sock.set_nonblocking(true).map_err(|e| Error::os(op(), e))?;
            let std: std::net::TcpStream = sock.into();
            let ts = tokio::net::TcpSocket::from_std_stream(std);
            let stream = ts.connect(*s).await.map_err(|e| Error::os(op(), e))?;
            Ok(AnyStream::Tcp(stream))
        }
        _ => {
            let sock =
                Socket::new(Domain::UNIX, Type::STREAM, None).map_err(|e| Error::os(op(), e))?;
            sock.set_nonblocking(true).map_err(|e| Error::os(op(), e))?;
            loop {
                match sock.connect(&sa) {
                    Ok(()) => break,
                    Err(e) if e.raw_os_error() == Some(libc::EAGAIN) => {
                        // A full backlog: try again shortly.
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                    Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => break,
                    Err(e) => return Err(Error::os(op(), e)),
                }
            }
            let std: std::os::unix::net::UnixStream = sock.into();
            let us = tokio::net::UnixStream::from_std(std).map_err(|e| Error::os(op(), e))?;
            us.writable().await.map_err(|e| Error::os(op(), e))?;
            if let Some(e) = us.take_error().map_err(|e| Error::os(op(), e))? {
                return Err(Error::os(op(), e));
            }
            Ok(AnyStream::Unix(us))
        }
    }
}
