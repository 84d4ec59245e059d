//! [`KcpServer`]: the engine's KCP endpoint, pulled like the TCP [`Server`](crate::engine::Server).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use socket2::{Domain, Protocol, Socket, Type};
use tokio::task::JoinHandle;

use super::proto::Kcp;
use super::{ms_since, KcpConfig};
use crate::addr::{Addr, ToEndpoint};
use crate::engine::{
    runtime_handle, ClientId, DisconnectReason, Event, EventQueue, SendPolicy, Stoppable, TryPush,
};
use crate::error::{Error, Result};
use crate::options::SocketOptions;

/// How a [`KcpServer`] behaves.
#[derive(Debug, Clone)]
pub struct KcpServerConfig {
    /// The KCP tuning of every session.
    pub kcp: KcpConfig,
    /// Socket options applied before bind (buffer sizes matter for many clients).
    pub options: SocketOptions,
    /// Bound of the event queue in events (default 4096). When it is full, messages stay in
    /// their sessions' KCP receive queues, whose windows close: the peers stop sending.
    pub event_capacity: usize,
    /// End a session when nothing arrived from it for this long (default 60 s; `None` =
    /// never). KCP has no close on the wire, so this is how a vanished peer's session ends.
    pub idle_timeout: Option<Duration>,
    /// The most sessions at once (`None` = no limit); datagrams opening more are ignored
    /// (counted as `refused`).
    pub max_clients: Option<usize>,
    /// Bound of each session's unacknowledged data in bytes (default 4 MiB).
    pub send_queue_bytes: usize,
    /// What a send to a session whose queue is full does.
    pub send_policy: SendPolicy,
    /// How long a finished (address, conv) is remembered so that late retransmissions do not
    /// open it again (default 10 s).
    pub linger: Duration,
    /// How long a graceful disconnect waits for the peer to acknowledge what was sent (default
    /// 5 s).
    pub close_timeout: Duration,
}

impl Default for KcpServerConfig {
    fn default() -> KcpServerConfig {
        KcpServerConfig {
            kcp: KcpConfig::default(),
            options: SocketOptions::new(),
            event_capacity: 4096,
            idle_timeout: Some(Duration::from_secs(60)),
            max_clients: None,
            send_queue_bytes: 4 << 20,
            send_policy: SendPolicy::Error,
            linger: Duration::from_secs(10),
            close_timeout: Duration::from_secs(5),
        }
    }
}

impl KcpServerConfig {
    /// The defaults.
    pub fn new() -> KcpServerConfig {
        KcpServerConfig::default()
    }
    /// Set the KCP tuning.
    pub fn kcp(mut self, k: KcpConfig) -> Self {
        self.kcp = k;
        self
    }
    /// Set the socket options.
    pub fn options(mut self, o: SocketOptions) -> Self {
        self.options = o;
        self
    }
    /// Bound the event queue (events).
    pub fn event_capacity(mut self, n: usize) -> Self {
        self.event_capacity = n;
        self
    }
    /// End sessions silent for `t` (`None` = never).
    pub fn idle_timeout(mut self, t: Option<Duration>) -> Self {
        self.idle_timeout = t;
        self
    }
    /// Limit the sessions at once.
    pub fn max_clients(mut self, n: Option<usize>) -> Self {
        self.max_clients = n;
        self
    }
    /// Bound each session's unacknowledged bytes.
    pub fn send_queue_bytes(mut self, n: usize) -> Self {
        self.send_queue_bytes = n;
        self
    }
    /// Set the send policy.
    pub fn send_policy(mut self, p: SendPolicy) -> Self {
        self.send_policy = p;
        self
    }
    /// How long finished conversations are remembered.
    pub fn linger(mut self, t: Duration) -> Self {
        self.linger = t;
        self
    }
    /// How long a graceful disconnect waits.
    pub fn close_timeout(mut self, t: Duration) -> Self {
        self.close_timeout = t;
        self
    }

    /// Check every setting (done by [`KcpServer::bind`]).
    pub fn validate(&self) -> Result<()> {
        self.kcp.validate()?;
        if self.event_capacity == 0 {
            return Err(Error::invalid(
                "event_capacity 0: an event queue that holds nothing delivers nothing",
            ));
        }
        if self.send_queue_bytes == 0 {
            return Err(Error::invalid(
                "send_queue_bytes 0: a send queue that holds nothing can send nothing",
            ));
        }
        if self.max_clients == Some(0) {
            return Err(Error::invalid("max_clients 0: a server that takes nobody"));
        }
        if self.idle_timeout == Some(Duration::ZERO) {
            return Err(Error::invalid("idle_timeout 0 (use None for never)"));
        }
        Ok(())
    }
}

/// A snapshot of a KCP server's counters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KcpServerStats {
    /// Sessions open now.
    pub connections: u64,
    /// Sessions opened since the start.
    pub connections_total: u64,
    /// Datagrams of new sessions ignored because of `max_clients`.
    pub refused: u64,
    /// Messages delivered to the application.
    pub messages_in: u64,
    /// Messages queued by the application.
    pub messages_out: u64,
    /// Message bytes delivered.
    pub bytes_in: u64,
    /// Message bytes queued.
    pub bytes_out: u64,
    /// UDP datagrams received.
    pub datagrams_in: u64,
    /// UDP datagrams sent.
    pub datagrams_out: u64,
    /// Datagrams that were not valid KCP (ignored).
    pub datagrams_bad: u64,
    /// Segments sent again (timeouts and fast resends), all sessions.
    pub retransmits: u64,
    /// Sends refused because a session's queue was full.
    pub send_queue_full: u64,
    /// Events waiting to be pulled.
    pub events_queued: u64,
}

struct Sess {
    key: (SocketAddr, u32),
    kcp: Kcp,
    last_in: Instant,
    /// Graceful disconnect requested: end once everything is acknowledged or at this time.
    closing: Option<Instant>,
    /// A message taken from KCP that found the event queue full.
    held: Option<Event>,
}

#[derive(Default)]
struct Table {
    by_key: HashMap<(SocketAddr, u32), ClientId>,
    by_id: HashMap<ClientId, Sess>,
    /// Finished conversations and when they may be forgotten.
    gone: HashMap<(SocketAddr, u32), Instant>,
    next_id: ClientId,
    stopped: bool,
    /// The task's registration with the event queue's room waiters.
    round: u64,
}

#[derive(Default)]
struct Counters {
    total: AtomicU64,
    refused: AtomicU64,
    msgs_in: AtomicU64,
    msgs_out: AtomicU64,
    bytes_in: AtomicU64,
    bytes_out: AtomicU64,
    dg_in: AtomicU64,
    dg_out: AtomicU64,
    dg_bad: AtomicU64,
    retransmits: AtomicU64,
    queue_full: AtomicU64,
}

struct Shared {
    sock: Arc<tokio::net::UdpSocket>,
    local: Addr,
    events: EventQueue,
    cfg: KcpServerConfig,
    table: Mutex<Table>,
    wake: tokio::sync::Notify,
    task: Mutex<Option<JoinHandle<()>>>,
    epoch: Instant,
    c: Counters,
}

/// A KCP server run by the engine: each (peer address, conv) is a session with a client id;
/// events `Connected`, `Message`, `Disconnected` and the final `Closed` are pulled like the
/// TCP [`Server`](crate::engine::Server)'s; `send`/`disconnect` return at once. See the
/// [module documentation](super) for the session layer.
pub struct KcpServer {
    inner: Arc<Shared>,
}

impl std::fmt::Debug for KcpServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KcpServer")
            .field("local", &self.inner.local)
            .finish()
    }
}

fn bind_udp(ep: &crate::Endpoint, options: &SocketOptions) -> Result<Socket> {
    let mut last = None;
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
            options.apply(&s)?;
            s.bind(&sa).map_err(|e| Error::os(op(), e))?;
            s.set_nonblocking(true).map_err(|e| Error::os(op(), e))?;
            Ok(s)
        })();
        match r {
            Ok(s) => return Ok(s),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| Error::invalid(format!("{ep}: no address"))))
}

impl KcpServer {
    /// Bind a UDP socket at `endpoint` and serve KCP sessions on it.
    pub fn bind(endpoint: impl ToEndpoint, cfg: KcpServerConfig) -> Result<KcpServer> {
        let ep = endpoint.to_endpoint()?;
        if ep.is_unix() {
            return Err(Error::Unsupported(
                "KCP runs over UDP: a Unix endpoint cannot carry it".into(),
            ));
        }
        cfg.validate()?;
        let handle = runtime_handle()?;
        let sock = bind_udp(&ep, &cfg.options)?;
        let local = sock
            .local_addr()
            .map(|a| Addr::from_sockaddr(&a))
            .map_err(|e| Error::os("local address", e))?;
        let sock = {
            let _g = handle.enter();
            let std: std::net::UdpSocket = sock.into();
            Arc::new(
                tokio::net::UdpSocket::from_std(std)
                    .map_err(|e| Error::os(format!("bind UDP {local}"), e))?,
            )
        };
        let shared = Arc::new(Shared {
            sock,
            local,
            events: EventQueue::new(cfg.event_capacity)?,
            cfg,
            table: Mutex::new(Table {
                next_id: 1,
                ..Table::default()
            }),
            wake: tokio::sync::Notify::new(),
            task: Mutex::new(None),
            epoch: Instant::now(),
            c: Counters::default(),
        });
        let task = handle.spawn(run(shared.clone()));
        *shared.task.lock().unwrap_or_else(|p| p.into_inner()) = Some(task);
        crate::engine::register_arc(&shared);
        Ok(KcpServer { inner: shared })
    }

    fn events(&self) -> &EventQueue {
        &self.inner.events
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> Addr {
        self.inner.local.clone()
    }

    /// Queue `data` as one message (stream mode: bytes) to `client`; returns at once. Errors:
    /// `Closed` for an unknown or ended session (or a stopped server); `FrameTooLarge` beyond
    /// [`KcpConfig::max_message`]; `QueueFull` when the session's unacknowledged data would
    /// pass `send_queue_bytes` under [`SendPolicy::Error`] (under `Disconnect` the session ends
    /// with `SendQueueFull` and this returns `Ok`); `InvalidArgument` for an empty message.
    pub fn send(&self, client: ClientId, data: &[u8]) -> Result<()> {
        let s = &self.inner;
        if data.is_empty() {
            return Err(Error::invalid("kcp send: an empty message"));
        }
        let mut t = s.lock();
        if t.stopped {
            return Err(Error::closed("kcp send: the server is shut down"));
        }
        let Some(sess) = t.by_id.get_mut(&client) else {
            return Err(Error::closed(format!(
                "kcp send to client {client}: no such session"
            )));
        };
        if sess.closing.is_some() {
            return Err(Error::closed(format!(
                "kcp send to client {client}: disconnecting"
            )));
        }
        let queued = sess.kcp.waiting() * sess.kcp.mss();
        if queued > 0 && queued + data.len() > s.cfg.send_queue_bytes {
            s.c.queue_full.fetch_add(1, Ordering::Relaxed);
            if s.cfg.send_policy == SendPolicy::Disconnect {
                s.end(&mut t, client, DisconnectReason::SendQueueFull);
                return Ok(());
            }
            return Err(Error::QueueFull(format!(
                "kcp send to client {client}: {queued} bytes unacknowledged (send_queue_bytes {})",
                s.cfg.send_queue_bytes
            )));
        }
        if let Err(max) = sess.kcp.send(data) {
            return Err(Error::FrameTooLarge {
                len: data.len() as u64,
                max: max as u64,
            });
        }
        s.c.msgs_out.fetch_add(1, Ordering::Relaxed);
        s.c.bytes_out
            .fetch_add(data.len() as u64, Ordering::Relaxed);
        sess.kcp.set_now(ms_since(s.epoch));
        sess.kcp.flush();
        let key = sess.key;
        let out = sess.kcp.take_output();
        s.output(key.0, out);
        drop(t);
        s.wake.notify_one();
        Ok(())
    }

    /// End `client`'s session: `graceful` waits (up to `close_timeout`) until the peer has
    /// acknowledged what was sent; otherwise at once. `Disconnected { reason: Kicked }`
    /// follows. `Closed` for an unknown session.
    pub fn disconnect(&self, client: ClientId, graceful: bool) -> Result<()> {
        let s = &self.inner;
        let mut t = s.lock();
        let Some(sess) = t.by_id.get_mut(&client) else {
            return Err(Error::closed(format!(
                "kcp disconnect client {client}: no such session"
            )));
        };
        if graceful && sess.kcp.waiting() > 0 {
            sess.closing = Some(Instant::now() + s.cfg.close_timeout);
            drop(t);
            s.wake.notify_one();
        } else {
            s.end(&mut t, client, DisconnectReason::Kicked);
        }
        Ok(())
    }

    /// The open sessions: client id, peer address and conv, by id.
    pub fn clients(&self) -> Vec<(ClientId, Addr, u32)> {
        let t = self.inner.lock();
        let mut v: Vec<_> = t
            .by_id
            .iter()
            .map(|(id, s)| (*id, Addr::Inet(s.key.0), s.key.1))
            .collect();
        v.sort_by_key(|c| c.0);
        v
    }

    /// The peer address of `client`.
    pub fn peer_addr(&self, client: ClientId) -> Result<Addr> {
        let t = self.inner.lock();
        t.by_id
            .get(&client)
            .map(|s| Addr::Inet(s.key.0))
            .ok_or_else(|| Error::closed(format!("client {client}: no such session")))
    }

    /// The counters.
    pub fn stats(&self) -> KcpServerStats {
        let s = &self.inner;
        let t = s.lock();
        let live: u64 = t.by_id.values().map(|x| x.kcp.retransmits()).sum();
        let c = &s.c;
        KcpServerStats {
            connections: t.by_id.len() as u64,
            connections_total: c.total.load(Ordering::Relaxed),
            refused: c.refused.load(Ordering::Relaxed),
            messages_in: c.msgs_in.load(Ordering::Relaxed),
            messages_out: c.msgs_out.load(Ordering::Relaxed),
            bytes_in: c.bytes_in.load(Ordering::Relaxed),
            bytes_out: c.bytes_out.load(Ordering::Relaxed),
            datagrams_in: c.dg_in.load(Ordering::Relaxed),
            datagrams_out: c.dg_out.load(Ordering::Relaxed),
            datagrams_bad: c.dg_bad.load(Ordering::Relaxed),
            retransmits: c.retransmits.load(Ordering::Relaxed) + live,
            send_queue_full: c.queue_full.load(Ordering::Relaxed),
            events_queued: s.events.len() as u64,
        }
    }

    /// Stop at once: every session ends (`Disconnected { reason: ServerShutdown }`), the final
    /// [`Event::Closed`] is queued and waiters wake. Idempotent.
    pub fn shutdown(&self) {
        self.inner.stop_now();
    }

    /// True once shut down.
    pub fn is_shut_down(&self) -> bool {
        self.inner.lock().stopped
    }
}

crate::engine::pull_api!(KcpServer);

impl Drop for KcpServer {
    fn drop(&mut self) {
        self.inner.stop_now();
    }
}

impl Stoppable for Shared {
    fn stop_now(&self) {
        if let Some(t) = self.task.lock().unwrap_or_else(|p| p.into_inner()).take() {
            t.abort();
        }
        let mut t = self.lock();
        if !t.stopped {
            t.stopped = true;
            let ids: Vec<ClientId> = {
                let mut v: Vec<_> = t.by_id.keys().copied().collect();
                v.sort();
                v
            };
            for id in ids {
                self.end(&mut t, id, DisconnectReason::ServerShutdown);
            }
        }
        drop(t);
        self.events.close();
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn output(&self, to: SocketAddr, out: Vec<Vec<u8>>) {
        for d in out {
            if self.sock.try_send_to(&d, to).is_ok() {
                self.c.dg_out.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Remove a session and report why it ended.
    fn end(&self, t: &mut Table, id: ClientId, reason: DisconnectReason) {
        if let Some(s) = t.by_id.remove(&id) {
            t.by_key.remove(&s.key);
            t.gone.insert(s.key, Instant::now() + self.cfg.linger);
            self.c
                .retransmits
                .fetch_add(s.kcp.retransmits(), Ordering::Relaxed);
            self.events
                .push_force(Event::Disconnected { client: id, reason });
        }
    }

    /// Hand `id`'s whole messages to the event queue while it has room. A message that finds
    /// the queue full is held (one per session); the rest stay in KCP, whose receive window
    /// then closes so the peer stops sending; the task is woken when room frees up.
    fn deliver(&self, t: &mut Table, id: ClientId, cx: &mut Context<'_>) {
        let mut round = t.round;
        let stream = self.cfg.kcp.stream;
        let Some(sess) = t.by_id.get_mut(&id) else {
            return;
        };
        if sess.closing.is_some() {
            // A session being disconnected delivers nothing more.
            sess.held = None;
            while sess.kcp.recv().is_some() {}
            return;
        }
        loop {
            let ev = match sess.held.take() {
                Some(ev) => ev,
                None => {
                    let Some(mut m) = sess.kcp.recv() else {
                        break;
                    };
                    if stream {
                        while let Some(more) = sess.kcp.recv() {
                            m.extend_from_slice(&more);
                        }
                    }
                    Event::Message {
                        client: id,
                        data: Bytes::from(m),
                    }
                }
            };
            let len = ev.data().map(|d| d.len()).unwrap_or(0) as u64;
            match self.events.try_push(ev, cx, &mut round) {
                TryPush::Pushed => {
                    self.c.msgs_in.fetch_add(1, Ordering::Relaxed);
                    self.c.bytes_in.fetch_add(len, Ordering::Relaxed);
                }
                TryPush::Full(ev) => {
                    sess.held = Some(ev);
                    break;
                }
                TryPush::Closed => break,
            }
        }
        t.round = round;
    }

    /// One datagram from `peer`: find or open its session, feed KCP, acknowledge, deliver.
    /// Returns when that session's timer is due next (`None`: the datagram was dropped).
    fn on_datagram(&self, data: &[u8], peer: SocketAddr, cx: &mut Context<'_>) -> Option<Instant> {
        self.c.dg_in.fetch_add(1, Ordering::Relaxed);
        if data.len() < super::proto::OVERHEAD
            || !(super::proto::CMD_PUSH..=super::proto::CMD_WINS).contains(&data[4])
        {
            self.c.dg_bad.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        let conv = u32::from_le_bytes([data[0], data[1], data[2], data[3]]);
        let key = (peer, conv);
        let now = Instant::now();
        let mut t = self.lock();
        if t.stopped {
            return None;
        }
        let id = match t.by_key.get(&key) {
            Some(id) => *id,
            None => {
                if let Some(until) = t.gone.get(&key) {
                    if *until > now {
                        // A late retransmission of a finished conversation.
                        self.c.dg_bad.fetch_add(1, Ordering::Relaxed);
                        return None;
                    }
                    t.gone.remove(&key);
                }
                if data[4] != super::proto::CMD_PUSH {
                    // Only data opens a session (a stray ack of a forgotten one does not).
                    self.c.dg_bad.fetch_add(1, Ordering::Relaxed);
                    return None;
                }
                if self.cfg.max_clients.is_some_and(|m| t.by_id.len() >= m) {
                    self.c.refused.fetch_add(1, Ordering::Relaxed);
                    return None;
                }
                let id = t.next_id;
                t.next_id += 1;
                t.by_key.insert(key, id);
                t.by_id.insert(
                    id,
                    Sess {
                        key,
                        kcp: self.cfg.kcp.build(conv),
                        last_in: now,
                        closing: None,
                        held: None,
                    },
                );
                self.c.total.fetch_add(1, Ordering::Relaxed);
                self.events.push_force(Event::Connected {
                    client: id,
                    peer: Addr::Inet(peer),
                });
                id
            }
        };
        let sess = t.by_id.get_mut(&id).expect("session just found");
        sess.kcp.set_now(ms_since(self.epoch));
        if sess.kcp.input(data).is_err() {
            self.c.dg_bad.fetch_add(1, Ordering::Relaxed);
        }
        sess.last_in = now;
        if sess.kcp.acks_pending() {
            sess.kcp.flush();
            let out = sess.kcp.take_output();
            self.output(peer, out);
        }
        self.deliver(&mut t, id, cx);
        let sess = t.by_id.get(&id)?;
        let ms = ms_since(self.epoch);
        Some(if sess.held.is_some() || !sess.kcp.is_idle() {
            now + Duration::from_millis(sess.kcp.check(ms) as u64)
        } else {
            now + self.cfg.idle_timeout.unwrap_or(Duration::from_secs(5))
        })
    }

    /// Run every session's timers that are due; end dead, idle and finished sessions; retry
    /// held deliveries; forget old finished conversations. Returns when to come back.
    fn tick(&self, cx: &mut Context<'_>) -> Instant {
        let now = Instant::now();
        let ms = ms_since(self.epoch);
        let mut t = self.lock();
        if t.stopped {
            return now + Duration::from_secs(3600);
        }
        t.gone.retain(|_, until| *until > now);
        let ids: Vec<ClientId> = t.by_id.keys().copied().collect();
        let mut next = now + Duration::from_secs(5);
        for id in ids {
            let (end, held) = {
                let sess = t.by_id.get_mut(&id).expect("listed");
                if !sess.kcp.is_idle() && sess.kcp.check(ms) == 0 {
                    sess.kcp.drive(ms);
                    let out = sess.kcp.take_output();
                    self.output(sess.key.0, out);
                }
                let end = if sess.kcp.is_dead() {
                    Some(DisconnectReason::HeartbeatLost)
                } else if self
                    .cfg
                    .idle_timeout
                    .is_some_and(|d| now.duration_since(sess.last_in) >= d)
                {
                    Some(DisconnectReason::IdleTimeout)
                } else if sess
                    .closing
                    .is_some_and(|c| sess.kcp.waiting() == 0 || now >= c)
                {
                    Some(DisconnectReason::Kicked)
                } else {
                    None
                };
                (end, sess.held.is_some() || sess.kcp.peek_size().is_some())
            };
            if let Some(r) = end {
                self.end(&mut t, id, r);
                continue;
            }
            if held {
                self.deliver(&mut t, id, cx);
            }
            let sess = t.by_id.get(&id).expect("listed");
            if !sess.kcp.is_idle() {
                next = next.min(now + Duration::from_millis(sess.kcp.check(ms).max(1) as u64));
            }
            if let Some(d) = self.cfg.idle_timeout {
                next = next.min(sess.last_in + d);
            }
            if let Some(c) = sess.closing {
                next = next.min(c);
            }
        }
        next
    }

    /// Retry the held deliveries: ready when one moved (or none is held).
    fn retry_held(&self, cx: &mut Context<'_>) -> Poll<()> {
        let mut t = self.lock();
        let ids: Vec<ClientId> = t
            .by_id
            .iter()
            .filter(|(_, s)| s.held.is_some())
            .map(|(id, _)| *id)
            .collect();
        let mut moved = ids.is_empty();
        for id in ids {
            self.deliver(&mut t, id, cx);
            moved |= t.by_id.get(&id).is_some_and(|s| s.held.is_none());
        }
        if moved {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }

    fn any_held(&self) -> bool {
        self.lock().by_id.values().any(|s| s.held.is_some())
    }
}

async fn run(s: Arc<Shared>) {
    let mut buf = vec![0u8; 65536];
    let mut next = Instant::now();
    loop {
        let held = s.any_held();
        tokio::select! {
            r = s.sock.recv_from(&mut buf) => {
                match r {
                    Ok((n, peer)) => {
                        // A new or busy session may need its timer sooner: only the sessions
                        // these datagrams touched are asked (not a round of every session).
                        next = std::future::poll_fn(|cx| {
                            let mut due = s.on_datagram(&buf[..n], peer, cx);
                            // Take what else waits without going round the loop.
                            for _ in 0..64 {
                                match s.sock.try_recv_from(&mut buf) {
                                    Ok((n, peer)) => {
                                        due = match (due, s.on_datagram(&buf[..n], peer, cx)) {
                                            (Some(a), Some(b)) => Some(a.min(b)),
                                            (a, b) => a.or(b),
                                        }
                                    }
                                    Err(_) => break,
                                }
                            }
                            Poll::Ready(due.map_or(next, |d| d.min(next)))
                        })
                        .await;
                    }
                    Err(_) => {
                        // ICMP errors from earlier sends surface here: ignore them.
                        tokio::time::sleep(Duration::from_millis(1)).await;
                    }
                }
            }
            _ = tokio::time::sleep_until(next.into()) => {
                next = std::future::poll_fn(|cx| Poll::Ready(s.tick(cx))).await;
            }
            _ = s.wake.notified() => {
                next = Instant::now();
            }
            _ = std::future::poll_fn(|cx| s.retry_held(cx)), if held => {}
        }
    }
}
