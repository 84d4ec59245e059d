//! [`KcpSession`]: a blocking KCP conversation over one connected UDP socket.

use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::proto::Kcp;
use super::{ms_since, random_conv, KcpConfig};
use crate::addr::{Addr, ToEndpoint};
use crate::datagram::{Datagram, DatagramOptions};
use crate::error::{Error, ErrorKind, Result};
use crate::holder::Timeout;
use crate::options::SocketOptions;

/// A snapshot of a session's counters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KcpStats {
    /// Messages sent (queued to KCP).
    pub messages_out: u64,
    /// Messages received (taken by the application).
    pub messages_in: u64,
    /// Message bytes sent.
    pub bytes_out: u64,
    /// Message bytes received.
    pub bytes_in: u64,
    /// UDP datagrams sent (data, acks, retransmissions).
    pub datagrams_out: u64,
    /// UDP datagrams received.
    pub datagrams_in: u64,
    /// Datagrams refused (not KCP, or another conversation).
    pub datagrams_bad: u64,
    /// Segments sent again (timeouts and fast resends).
    pub retransmits: u64,
    /// Segments waiting to be sent or acknowledged.
    pub waiting: u64,
    /// The smoothed round-trip time in ms (0 before the first acknowledgement).
    pub srtt_ms: u64,
}

struct State {
    kcp: Kcp,
    stats: KcpStats,
}

/// A KCP conversation with one peer over a connected UDP socket, used from blocking code.
///
/// KCP runs on timers; a session has no thread of its own: it makes progress (sends,
/// retransmits, acknowledges, reads the socket) while a call of it runs — `send`, `recv`,
/// `flush`, `poll`. An application that stays away for long should call
/// [`poll`](KcpSession::poll) (or simply wait in `recv`) so the peer's data gets acknowledged.
/// Several threads may use one session; [`close`](KcpSession::close) from any thread wakes a
/// blocked call, which returns `Closed`.
///
/// ```
/// use libsock::kcp::{KcpConfig, KcpServer, KcpServerConfig, KcpSession};
/// use libsock::engine::Event;
/// use std::time::Duration;
///
/// let server = KcpServer::bind("127.0.0.1:0", KcpServerConfig::new())?;
/// let s = KcpSession::connect(server.local_addr().to_string(), None, KcpConfig::new())?;
/// s.send(b"hello")?;
/// let t = Some(Duration::from_secs(5));
/// loop {
///     match server.next_event(t)? {
///         Some(Event::Message { client, data }) => { server.send(client, &data)?; break; }
///         Some(_) => continue,
///         None => panic!("no message"),
///     }
/// }
/// assert_eq!(&s.recv(t)?[..], b"hello");
/// s.flush(t)?;
/// s.close();
/// server.shutdown();
/// # Ok::<(), libsock::Error>(())
/// ```
pub struct KcpSession {
    sock: Datagram,
    state: Mutex<State>,
    epoch: Instant,
    conv: u32,
    /// Segments allowed to wait before `send` blocks.
    limit: usize,
    peer: Addr,
    stream: bool,
    dead_link: u32,
}

impl std::fmt::Debug for KcpSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KcpSession")
            .field("conv", &self.conv)
            .field("peer", &self.peer)
            .finish()
    }
}

/// The error of a session whose peer stopped acknowledging.
fn dead_link(op: &str, n: u32) -> Error {
    Error::os(
        format!("{op}: the peer stopped acknowledging (a segment was sent {n} times without an acknowledgement: dead link)"),
        std::io::Error::from_raw_os_error(libc::ECONNABORTED),
    )
}

impl KcpSession {
    /// Connect a UDP socket to `endpoint` and start conversation `conv` (`None`: a random
    /// id from 1 to 2³¹ − 1, [`random_conv`]). Nothing is sent until the first message: KCP has no
    /// handshake (a peer learns of the session from its first segment).
    pub fn connect(endpoint: impl ToEndpoint, conv: Option<u32>, cfg: KcpConfig) -> Result<Self> {
        KcpSession::connect_with(endpoint, conv, cfg, SocketOptions::new())
    }

    /// [`connect`](KcpSession::connect) with socket options (buffers, TOS, bind address ...).
    pub fn connect_with(
        endpoint: impl ToEndpoint,
        conv: Option<u32>,
        cfg: KcpConfig,
        options: SocketOptions,
    ) -> Result<Self> {
        cfg.validate()?;
        let ep = endpoint.to_endpoint()?;
        if ep.is_unix() {
            return Err(Error::Unsupported(
                "KCP runs over UDP: a Unix endpoint cannot carry it".into(),
            ));
        }
        let opts = DatagramOptions {
            options,
            ..DatagramOptions::default()
        };
        let sock = Datagram::connect_with(ep, &opts)?;
        let peer = sock.peer_addr()?;
        let conv = conv.unwrap_or_else(random_conv);
        Ok(KcpSession {
            sock,
            state: Mutex::new(State {
                kcp: cfg.build(conv),
                stats: KcpStats::default(),
            }),
            epoch: Instant::now(),
            conv,
            limit: (cfg.send_window as usize * 2).max(256),
            peer,
            stream: cfg.stream,
            dead_link: cfg.dead_link,
        })
    }

    /// The conversation id.
    pub fn conv(&self) -> u32 {
        self.conv
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> Addr {
        self.peer.clone()
    }

    /// The local address.
    pub fn local_addr(&self) -> Result<Addr> {
        self.sock.local_addr()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Send the datagrams KCP produced (a full socket buffer drops them: KCP sends again).
    fn output(&self, st: &mut State) {
        for d in st.kcp.take_output() {
            if let Ok(Some(_)) = self.sock.try_send(&d) {
                st.stats.datagrams_out += 1;
            }
        }
    }

    /// Run the protocol until `done` gives a value or the deadline passes (`Timeout` for `op`).
    fn pump<R>(
        &self,
        op: &str,
        timeout: Option<Duration>,
        mut done: impl FnMut(&mut State) -> Option<R>,
    ) -> Result<R> {
        let deadline = timeout.map(crate::wait::instant_after);
        let mut buf = vec![0u8; 65536];
        loop {
            if self.sock.is_closed() {
                return Err(Error::closed(op));
            }
            let wait = {
                let mut st = self.lock();
                let now = ms_since(self.epoch);
                st.kcp.drive(now);
                self.output(&mut st);
                if let Some(r) = done(&mut st) {
                    if st.kcp.probe_due() {
                        // The message taken reopened the window: tell the peer now, not at
                        // the caller's next call, which may be long after (or never).
                        st.kcp.flush();
                        self.output(&mut st);
                    }
                    return Ok(r);
                }
                if st.kcp.is_dead() {
                    return Err(dead_link(op, self.dead_link));
                }
                if st.kcp.is_idle() {
                    // Nothing to send or resend: sleep until a datagram comes (or the deadline).
                    Duration::from_secs(3600)
                } else {
                    Duration::from_millis(st.kcp.check(now).max(1) as u64)
                }
            };
            let wait = match deadline {
                Some(d) => {
                    let now = Instant::now();
                    if now >= d {
                        return Err(Error::Timeout {
                            op: op.into(),
                            ms: timeout.unwrap_or_default().as_millis(),
                        });
                    }
                    wait.min(d - now)
                }
                None => wait,
            };
            match self.sock.recv_from_timeout(&mut buf, Timeout::After(wait)) {
                Ok(meta) => {
                    let mut st = self.lock();
                    st.kcp.set_now(ms_since(self.epoch));
                    self.take(&mut st, &buf[..meta.len]);
                    // Take what else is waiting without blocking, then answer with acks.
                    for _ in 0..256 {
                        match self
                            .sock
                            .recv_from_timeout(&mut buf, Timeout::After(Duration::ZERO))
                        {
                            Ok(m) => self.take(&mut st, &buf[..m.len]),
                            Err(_) => break,
                        }
                    }
                    if st.kcp.acks_pending() {
                        st.kcp.flush();
                        self.output(&mut st);
                    }
                }
                Err(e) if e.kind() == ErrorKind::Timeout => {}
                // An ICMP port unreachable from an earlier send: the peer may not listen yet;
                // KCP sends again and the dead-link count ends a peer that never comes.
                Err(e) if e.kind() == ErrorKind::ConnectionRefused => {
                    std::thread::sleep(wait.min(Duration::from_millis(10)));
                }
                Err(e) => return Err(e),
            }
        }
    }

    fn take(&self, st: &mut State, d: &[u8]) {
        st.stats.datagrams_in += 1;
        if st.kcp.input(d).is_err() {
            st.stats.datagrams_bad += 1;
        }
    }

    /// Send one message (in stream mode: bytes), waiting up to `timeout` (`None` = forever)
    /// while too much is unacknowledged (twice the send window). Messages longer than
    /// [`KcpConfig::max_message`] are `FrameTooLarge`; empty ones `InvalidArgument`.
    pub fn send_timeout(&self, data: &[u8], timeout: Option<Duration>) -> Result<()> {
        if data.is_empty() {
            return Err(Error::invalid("kcp send: an empty message"));
        }
        let limit = self.limit;
        self.pump("kcp send", timeout, |st| {
            (st.kcp.waiting() < limit).then_some(())
        })?;
        let mut st = self.lock();
        if let Err(max) = st.kcp.send(data) {
            return Err(Error::FrameTooLarge {
                len: data.len() as u64,
                max: max as u64,
            });
        }
        st.stats.messages_out += 1;
        st.stats.bytes_out += data.len() as u64;
        st.kcp.set_now(ms_since(self.epoch));
        st.kcp.flush();
        self.output(&mut st);
        Ok(())
    }

    /// [`send_timeout`](KcpSession::send_timeout) waiting forever.
    pub fn send(&self, data: &[u8]) -> Result<()> {
        self.send_timeout(data, None)
    }

    /// The next message (stream mode: the bytes that arrived), waiting up to `timeout`
    /// (`None` = forever, zero = poll); `Timeout` error when none came.
    pub fn recv(&self, timeout: Option<Duration>) -> Result<Bytes> {
        let stream = self.stream;
        let msg = self.pump("kcp recv", timeout, |st| {
            let mut m = st.kcp.recv()?;
            if stream {
                while let Some(more) = st.kcp.recv() {
                    m.extend_from_slice(&more);
                }
            }
            st.stats.messages_in += 1;
            st.stats.bytes_in += m.len() as u64;
            Some(m)
        })?;
        Ok(Bytes::from(msg))
    }

    /// Wait until everything sent is acknowledged by the peer (up to `timeout`).
    pub fn flush(&self, timeout: Option<Duration>) -> Result<()> {
        self.pump("kcp flush", timeout, |st| {
            (st.kcp.waiting() == 0).then_some(())
        })
    }

    /// Run the protocol for up to `timeout` without taking messages (acknowledge, retransmit);
    /// returns the number of whole messages ready for [`recv`](KcpSession::recv).
    pub fn poll(&self, timeout: Duration) -> Result<usize> {
        match self.pump("kcp poll", Some(timeout), |_| None::<()>) {
            Err(e) if e.kind() == ErrorKind::Timeout => {}
            Err(e) => return Err(e),
            Ok(()) => {}
        }
        let st = self.lock();
        Ok(st.kcp.peek_size().map(|_| 1).unwrap_or(0))
    }

    /// The counters.
    pub fn stats(&self) -> KcpStats {
        let st = self.lock();
        let mut s = st.stats.clone();
        s.retransmits = st.kcp.retransmits();
        s.waiting = st.kcp.waiting() as u64;
        s.srtt_ms = st.kcp.srtt() as u64;
        s
    }

    /// Close the socket at once (idempotent): a blocked call returns `Closed`. Unacknowledged
    /// data is abandoned: call [`flush`](KcpSession::flush) first to deliver it. KCP has no
    /// close on the wire; the peer sees the session expire.
    pub fn close(&self) {
        self.sock.close();
    }

    /// True once closed.
    pub fn is_closed(&self) -> bool {
        self.sock.is_closed()
    }
}
