//! Reliable UDP with KCP, wire-compatible with the reference KCP implementation (`ikcp.c`).
//!
//! - [`KcpSession`]: a blocking session over one UDP socket connected to a peer, with a
//!   conversation id (conv): `send`/`recv` messages with timeouts, `flush`, `close`.
//! - [`KcpServer`]: the engine's KCP endpoint on the tokio runtime, pulled like the TCP
//!   [`Server`](crate::engine::Server): events `Connected`, `Message`, `Disconnected` with client
//!   ids and reasons, an idle timeout, bounded queues.
//!
//! **The protocol** is libsock's own implementation ([`proto`]) written from the protocol's
//! description: segments `conv u32, cmd u8 (81 push, 82 ack, 83 window ask, 84 window tell),
//! frg u8, wnd u16, ts u32, sn u32, una u32, len u32, data`, little endian, several per
//! datagram up to the MTU. The tuning of [`KcpConfig`] is the reference's: nodelay, interval,
//! fast resend, no congestion control, window sizes, MTU, minimum RTO, stream mode, dead link.
//!
//! **The session layer**, which KCP itself leaves to its users:
//! - *Conversation ids*: the client picks the conv (by default a random one from 1 to
//!   2³¹ − 1, see [`random_conv`]); the server keys its sessions by (peer address, conv), so two clients
//!   behind one NAT address with different convs, or one client with two convs, are distinct
//!   sessions.
//! - *Handshake*: none on the wire (a reference peer sends none): the server opens a session
//!   when the first valid KCP datagram of a new (address, conv) arrives, and KCP's own
//!   retransmission makes that survive loss (a lost first datagram is sent again). Datagrams
//!   that are not KCP (shorter than a header, unknown command) open nothing and are counted.
//!   A session that ended is remembered for [`KcpServerConfig::linger`], so late
//!   retransmissions of a finished conversation do not reopen it.
//! - *Expiry*: KCP has no close on the wire, so a session ends when nothing arrived for the
//!   idle timeout ([`DisconnectReason::IdleTimeout`](crate::engine::DisconnectReason)), when a
//!   segment went unacknowledged `dead_link` times ([`DisconnectReason::HeartbeatLost`]: the
//!   peer stopped answering), or when the application disconnects it.
//! - *Timers*: each session is updated when its own `check` says (the next flush or
//!   retransmission), never in a busy loop; an idle session costs nothing.
//!
//! [`DisconnectReason::HeartbeatLost`]: crate::engine::DisconnectReason::HeartbeatLost

use std::time::Duration;

use crate::error::{Error, Result};

pub mod proto;
mod server;
mod session;
mod settings;

pub use server::{KcpServer, KcpServerConfig, KcpServerStats};
pub use session::{KcpSession, KcpStats};
pub use settings::{KcpKey, KcpSettings, KcpStat};

/// The KCP tuning, the same on both ends of a conversation for best results (only the MTU
/// and stream mode must be compatible; windows are advertised).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KcpConfig {
    /// Nodelay level: 0 off (a segment's RTO doubles on each loss), 1 on (grows by half:
    /// exponential), 2 on (grows by half the current estimate: linear). Default 2: under heavy
    /// loss an unlucky segment lost ten times in a row waits seconds, not minutes (measured: at
    /// 30 % loss with level 1, one run in a few stalled for 20 s to over 2 minutes).
    pub nodelay: u32,
    /// The internal update interval (10 ms to 5 s; default 10 ms).
    pub interval: Duration,
    /// Fast resend after this many later segments were acknowledged (0 = off; default 2).
    pub resend: u32,
    /// No congestion control: send at the window's pace (default true, the "fast" profile).
    pub nc: bool,
    /// Send window in segments (default 128).
    pub send_window: u32,
    /// Receive window in segments (default 128; at least 128).
    pub recv_window: u32,
    /// Bytes per datagram, KCP headers included (default 1400; 50 to 65,000).
    pub mtu: usize,
    /// Minimum retransmission timeout (default 30 ms with nodelay, else 100 ms).
    pub min_rto: Option<Duration>,
    /// Stream mode: no message boundaries (bytes may be merged and split). Default false.
    pub stream: bool,
    /// Transmissions of one segment without acknowledgement after which the peer is declared
    /// gone (default 20).
    pub dead_link: u32,
}

impl Default for KcpConfig {
    fn default() -> KcpConfig {
        KcpConfig {
            nodelay: 2,
            interval: Duration::from_millis(10),
            resend: 2,
            nc: true,
            send_window: 128,
            recv_window: 128,
            mtu: 1400,
            min_rto: None,
            stream: false,
            dead_link: 20,
        }
    }
}

impl KcpConfig {
    /// The defaults (the "fast" profile: nodelay 2, interval 10 ms, resend 2, nc).
    pub fn new() -> KcpConfig {
        KcpConfig::default()
    }

    /// The reference implementation's defaults (nodelay 0, interval 100 ms, no fast resend,
    /// congestion control on, windows 32/128).
    pub fn normal() -> KcpConfig {
        KcpConfig {
            nodelay: 0,
            interval: Duration::from_millis(100),
            resend: 0,
            nc: false,
            send_window: 32,
            ..KcpConfig::default()
        }
    }

    /// Set nodelay, interval, resend and nc at once (the reference's `ikcp_nodelay`).
    pub fn nodelay(mut self, nodelay: u32, interval: Duration, resend: u32, nc: bool) -> Self {
        self.nodelay = nodelay;
        self.interval = interval;
        self.resend = resend;
        self.nc = nc;
        self
    }

    /// Set the send and receive windows (segments).
    pub fn windows(mut self, send: u32, recv: u32) -> Self {
        self.send_window = send;
        self.recv_window = recv;
        self
    }

    /// Set the MTU.
    pub fn mtu(mut self, mtu: usize) -> Self {
        self.mtu = mtu;
        self
    }

    /// Set the minimum RTO.
    pub fn min_rto(mut self, t: Duration) -> Self {
        self.min_rto = Some(t);
        self
    }

    /// Stream mode on or off.
    pub fn stream(mut self, on: bool) -> Self {
        self.stream = on;
        self
    }

    /// Set the dead-link count.
    pub fn dead_link(mut self, n: u32) -> Self {
        self.dead_link = n;
        self
    }

    /// Check every setting: nodelay 0..=2, interval 10 ms..=5 s, windows 1..=65535 (receive at
    /// least 128), MTU 50..=65000, minimum RTO 1 ms..=60 s, dead link at least 1.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(Error::invalid(m));
        if self.nodelay > 2 {
            return bad(format!("kcp nodelay {} (must be 0, 1 or 2)", self.nodelay));
        }
        if self.interval < Duration::from_millis(10) || self.interval > Duration::from_secs(5) {
            return bad(format!(
                "kcp interval {:?} (must be 10 ms to 5 s)",
                self.interval
            ));
        }
        if self.send_window == 0 || self.send_window > 65535 {
            return bad(format!(
                "kcp send window {} (must be 1..=65535)",
                self.send_window
            ));
        }
        if self.recv_window < 128 || self.recv_window > 65535 {
            return bad(format!(
                "kcp receive window {} (must be 128..=65535: a message may have 127 fragments)",
                self.recv_window
            ));
        }
        if self.mtu < 50 || self.mtu > 65000 {
            return bad(format!("kcp mtu {} (must be 50..=65000)", self.mtu));
        }
        if let Some(r) = self.min_rto {
            if r < Duration::from_millis(1) || r > Duration::from_secs(60) {
                return bad(format!("kcp min_rto {r:?} (must be 1 ms to 60 s)"));
            }
        }
        if self.dead_link == 0 {
            return bad("kcp dead_link 0 (must be at least 1)".into());
        }
        Ok(())
    }

    /// A control block for `conv` with this tuning.
    pub(crate) fn build(&self, conv: u32) -> proto::Kcp {
        let mut k = proto::Kcp::new(conv);
        k.set_mtu(self.mtu);
        k.set_nodelay(
            self.nodelay,
            self.interval.as_millis() as u32,
            self.resend,
            self.nc,
        );
        if let Some(r) = self.min_rto {
            k.set_min_rto(r.as_millis() as u32);
        }
        k.set_windows(self.send_window, self.recv_window);
        k.set_stream(self.stream);
        k.set_dead_link(self.dead_link);
        k
    }

    /// The largest message a session with this tuning sends (message mode; stream mode has
    /// no limit).
    pub fn max_message(&self) -> usize {
        (self.mtu - proto::OVERHEAD) * proto::MAX_FRAGMENTS
    }
}

/// A random conversation id from 1 to 2³¹ − 1 (from the OS's random source, falling back to
/// the clock and the process id). The wire field is 32 bits unsigned, but some wrappers of the
/// reference implementation take it as a C `int` (the PyPI package `kcp` fails on larger
/// ids), so random ids stay below 2³¹.
pub fn random_conv() -> u32 {
    let mut b = [0u8; 4];
    // SAFETY: getrandom writes at most 4 bytes into `b`.
    let n = unsafe { libc::getrandom(b.as_mut_ptr().cast(), 4, 0) };
    let mut v = u32::from_ne_bytes(b);
    if n != 4 {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        v = t.subsec_nanos() ^ (t.as_secs() as u32).rotate_left(16) ^ std::process::id();
    }
    v &= 0x7fff_ffff;
    if v == 0 {
        1
    } else {
        v
    }
}

/// Milliseconds since `epoch` on the 32-bit KCP clock.
pub(crate) fn ms_since(epoch: std::time::Instant) -> u32 {
    epoch.elapsed().as_millis() as u32
}
