//! KCP settings and counters by number, for the flat doors (the C door's `LS_KCP_*` and
//! `LS_KCP_STAT_*`; JNI can use the same numbers): [`KcpKey`] names a tuning value of
//! [`KcpConfig`] (plus the server's `linger`), [`KcpSettings`] records them as flat
//! `(key, value)` pairs, and [`KcpStat`] names the counters a KCP server or session keeps
//! beyond the engine's [`Stat`](crate::engine::Stat) table.
//!
//! The engine's own settings (event capacity, idle timeout, max clients, send queue bound,
//! send policy, close timeout, socket options) stay in
//! [`EngineSettings`](crate::engine::EngineSettings), which builds a [`KcpServerConfig`](super::KcpServerConfig) with
//! [`EngineSettings::kcp_server`](crate::engine::EngineSettings::kcp_server).
//!
//! ```
//! use libsock::kcp::{KcpKey, KcpSettings};
//!
//! let mut s = KcpSettings::new();
//! s.set(KcpKey::Nodelay, 1)?;
//! s.set(KcpKey::IntervalMs, 20)?;
//! assert_eq!(s.config()?.interval.as_millis(), 20);
//! assert_eq!(s.get(KcpKey::Mtu), 1400); // the default
//! assert!(s.set(KcpKey::Nodelay, 3).is_err());
//! # Ok::<(), libsock::Error>(())
//! ```

use std::time::Duration;

use super::{KcpConfig, KcpServerStats, KcpStats};
use crate::engine::Stat;
use crate::error::{Error, Result};

/// A KCP tuning value's stable number (the C door's `LS_KCP_*`). The words are the reference
/// implementation's; booleans are 0/1, times milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KcpKey {
    /// Nodelay level 0, 1 or 2 (default 2).
    Nodelay,
    /// The internal update interval in ms, 10..=5000 (default 10).
    IntervalMs,
    /// Fast resend after this many later segments were acknowledged (0 = off; default 2).
    Resend,
    /// No congestion control, 0/1 (default 1).
    Nc,
    /// Send window in segments, 1..=65535 (default 128).
    SendWindow,
    /// Receive window in segments, 128..=65535 (default 128).
    RecvWindow,
    /// Bytes per datagram, KCP headers included, 50..=65000 (default 1400).
    Mtu,
    /// Minimum retransmission timeout in ms, 1..=60000; 0 = automatic (default: 30 ms with
    /// nodelay, else 100 ms).
    MinRtoMs,
    /// Stream mode (no message boundaries), 0/1 (default 0).
    Stream,
    /// Transmissions of one segment without acknowledgement after which the peer is gone
    /// (default 20, at least 1).
    DeadLink,
    /// Server: how long a finished (address, conv) is remembered, in ms (default 10000).
    LingerMs,
}

impl KcpKey {
    /// Every key, in code order (1, 2, ...).
    pub const ALL: [KcpKey; 11] = [
        KcpKey::Nodelay,
        KcpKey::IntervalMs,
        KcpKey::Resend,
        KcpKey::Nc,
        KcpKey::SendWindow,
        KcpKey::RecvWindow,
        KcpKey::Mtu,
        KcpKey::MinRtoMs,
        KcpKey::Stream,
        KcpKey::DeadLink,
        KcpKey::LingerMs,
    ];

    /// The stable number: 1 for `Nodelay` ... 11 for `LingerMs`.
    pub fn code(self) -> i32 {
        KcpKey::ALL.iter().position(|k| *k == self).unwrap_or(0) as i32 + 1
    }

    /// The key for a number, or `InvalidArgument` naming the valid range.
    pub fn from_code_checked(code: i32) -> Result<KcpKey> {
        usize::try_from(code)
            .ok()
            .and_then(|c| c.checked_sub(1))
            .and_then(|i| KcpKey::ALL.get(i).copied())
            .ok_or_else(|| {
                Error::invalid(format!(
                    "kcp setting {code} does not exist (the keys are 1..={})",
                    KcpKey::ALL.len()
                ))
            })
    }

    /// The constant's name without prefix, e.g. `"NODELAY"` (`LS_KCP_NODELAY`).
    pub fn name(self) -> &'static str {
        match self {
            KcpKey::Nodelay => "NODELAY",
            KcpKey::IntervalMs => "INTERVAL_MS",
            KcpKey::Resend => "RESEND",
            KcpKey::Nc => "NC",
            KcpKey::SendWindow => "SEND_WINDOW",
            KcpKey::RecvWindow => "RECV_WINDOW",
            KcpKey::Mtu => "MTU",
            KcpKey::MinRtoMs => "MIN_RTO_MS",
            KcpKey::Stream => "STREAM",
            KcpKey::DeadLink => "DEAD_LINK",
            KcpKey::LingerMs => "LINGER_MS",
        }
    }

    /// The range a value must be in (combinations are checked by [`KcpConfig::validate`]).
    fn range(self) -> (i64, i64, &'static str) {
        const U32: i64 = u32::MAX as i64;
        const I32: i64 = i32::MAX as i64;
        match self {
            KcpKey::Nodelay => (0, 2, "0, 1 or 2"),
            KcpKey::IntervalMs => (10, 5000, "10..=5000 ms"),
            KcpKey::Nc | KcpKey::Stream => (0, 1, "0 or 1"),
            KcpKey::SendWindow => (1, 65535, "1..=65535"),
            KcpKey::RecvWindow => (128, 65535, "128..=65535"),
            KcpKey::Mtu => (50, 65000, "50..=65000"),
            KcpKey::MinRtoMs => (0, 60000, "0 (automatic) or 1..=60000 ms"),
            KcpKey::DeadLink => (1, U32, "1..=4294967295"),
            KcpKey::Resend => (0, U32, "0..=4294967295"),
            KcpKey::LingerMs => (0, I32, "0 or more ms, at most 2147483647"),
        }
    }
}

/// KCP tuning as flat `(key, value)` pairs: what a flat door's "KCP config" object holds.
/// Values not set are core's defaults ([`KcpConfig::default`], linger 10 s).
#[derive(Debug, Clone, Default)]
pub struct KcpSettings {
    values: [Option<i64>; KcpKey::ALL.len()],
}

fn default_of(key: KcpKey) -> i64 {
    let d = KcpConfig::default();
    match key {
        KcpKey::Nodelay => d.nodelay as i64,
        KcpKey::IntervalMs => d.interval.as_millis() as i64,
        KcpKey::Resend => d.resend as i64,
        KcpKey::Nc => d.nc as i64,
        KcpKey::SendWindow => d.send_window as i64,
        KcpKey::RecvWindow => d.recv_window as i64,
        KcpKey::Mtu => d.mtu as i64,
        KcpKey::MinRtoMs => d.min_rto.map_or(0, |t| t.as_millis() as i64),
        KcpKey::Stream => d.stream as i64,
        KcpKey::DeadLink => d.dead_link as i64,
        KcpKey::LingerMs => super::KcpServerConfig::default().linger.as_millis() as i64,
    }
}

impl KcpSettings {
    /// Nothing set: every value is core's default.
    pub fn new() -> KcpSettings {
        KcpSettings::default()
    }

    /// Set `key` to `value`; `InvalidArgument` naming the range when it is outside.
    pub fn set(&mut self, key: KcpKey, value: i64) -> Result<()> {
        let (lo, hi, what) = key.range();
        if value < lo || value > hi {
            return Err(Error::invalid(format!(
                "kcp setting {} is {value}, it must be {what}",
                key.name()
            )));
        }
        self.values[key.code() as usize - 1] = Some(value);
        Ok(())
    }

    /// The value of `key`: as set, or core's default.
    pub fn get(&self, key: KcpKey) -> i64 {
        self.values[key.code() as usize - 1].unwrap_or_else(|| default_of(key))
    }

    /// The KCP tuning these settings describe, checked ([`KcpConfig::validate`]).
    pub fn config(&self) -> Result<KcpConfig> {
        let g = |k| self.get(k);
        let c = KcpConfig {
            nodelay: g(KcpKey::Nodelay) as u32,
            interval: Duration::from_millis(g(KcpKey::IntervalMs) as u64),
            resend: g(KcpKey::Resend) as u32,
            nc: g(KcpKey::Nc) == 1,
            send_window: g(KcpKey::SendWindow) as u32,
            recv_window: g(KcpKey::RecvWindow) as u32,
            mtu: g(KcpKey::Mtu) as usize,
            min_rto: match g(KcpKey::MinRtoMs) {
                0 => None,
                n => Some(Duration::from_millis(n as u64)),
            },
            stream: g(KcpKey::Stream) == 1,
            dead_link: g(KcpKey::DeadLink) as u32,
        };
        c.validate()?;
        Ok(c)
    }

    /// The server's linger (how long finished conversations are remembered).
    pub fn linger(&self) -> Duration {
        Duration::from_millis(self.get(KcpKey::LingerMs) as u64)
    }
}

/// A KCP counter's stable number beyond the engine's [`Stat`] table (the C door's
/// `LS_KCP_STAT_*`, read with the same call as the engine's statistics). The numbers start at
/// 101 so that they never meet a [`Stat`] code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KcpStat {
    /// Server and session: UDP datagrams received.
    DatagramsIn,
    /// Server and session: UDP datagrams sent (data, acknowledgements, retransmissions).
    DatagramsOut,
    /// Server and session: datagrams refused (not KCP, or another conversation).
    DatagramsBad,
    /// Server and session: segments sent again (timeouts and fast resends).
    Retransmits,
    /// Session: segments waiting to be sent or acknowledged.
    Waiting,
    /// Session: the smoothed round-trip time in ms (0 before the first acknowledgement).
    SrttMs,
}

impl KcpStat {
    /// Every KCP counter, in code order (101, 102, ...).
    pub const ALL: [KcpStat; 6] = [
        KcpStat::DatagramsIn,
        KcpStat::DatagramsOut,
        KcpStat::DatagramsBad,
        KcpStat::Retransmits,
        KcpStat::Waiting,
        KcpStat::SrttMs,
    ];

    /// The stable number: 101 for `DatagramsIn` ... 106 for `SrttMs`.
    pub fn code(self) -> i32 {
        KcpStat::ALL.iter().position(|k| *k == self).unwrap_or(0) as i32 + 101
    }

    /// The counter for a number, if any.
    pub fn from_code(code: i32) -> Option<KcpStat> {
        usize::try_from(code)
            .ok()
            .and_then(|c| c.checked_sub(101))
            .and_then(|i| KcpStat::ALL.get(i).copied())
    }

    /// The constant's name without prefix, e.g. `"DATAGRAMS_IN"` (`LS_KCP_STAT_DATAGRAMS_IN`);
    /// in lower case, the key of Python's `stats()` dict.
    pub fn name(self) -> &'static str {
        match self {
            KcpStat::DatagramsIn => "DATAGRAMS_IN",
            KcpStat::DatagramsOut => "DATAGRAMS_OUT",
            KcpStat::DatagramsBad => "DATAGRAMS_BAD",
            KcpStat::Retransmits => "RETRANSMITS",
            KcpStat::Waiting => "WAITING",
            KcpStat::SrttMs => "SRTT_MS",
        }
    }
}

impl KcpServerStats {
    /// The engine statistic `stat`, if a KCP server keeps it (`Connections`,
    /// `ConnectionsTotal`, `Refused`, `BytesIn`, `BytesOut`, `MessagesIn`, `MessagesOut`,
    /// `EventsQueued`, `SendQueueFull`).
    pub fn get(&self, stat: Stat) -> Option<u64> {
        Some(match stat {
            Stat::Connections => self.connections,
            Stat::ConnectionsTotal => self.connections_total,
            Stat::Refused => self.refused,
            Stat::BytesIn => self.bytes_in,
            Stat::BytesOut => self.bytes_out,
            Stat::MessagesIn => self.messages_in,
            Stat::MessagesOut => self.messages_out,
            Stat::EventsQueued => self.events_queued,
            Stat::SendQueueFull => self.send_queue_full,
            _ => return None,
        })
    }

    /// The KCP counter `stat`, if a server keeps it (all but `Waiting` and `SrttMs`).
    pub fn get_kcp(&self, stat: KcpStat) -> Option<u64> {
        Some(match stat {
            KcpStat::DatagramsIn => self.datagrams_in,
            KcpStat::DatagramsOut => self.datagrams_out,
            KcpStat::DatagramsBad => self.datagrams_bad,
            KcpStat::Retransmits => self.retransmits,
            KcpStat::Waiting | KcpStat::SrttMs => return None,
        })
    }
}

impl KcpStats {
    /// The engine statistic `stat`, if a session keeps it (`BytesIn`, `BytesOut`,
    /// `MessagesIn`, `MessagesOut`).
    pub fn get(&self, stat: Stat) -> Option<u64> {
        Some(match stat {
            Stat::BytesIn => self.bytes_in,
            Stat::BytesOut => self.bytes_out,
            Stat::MessagesIn => self.messages_in,
            Stat::MessagesOut => self.messages_out,
            _ => return None,
        })
    }

    /// The KCP counter `stat` (a session keeps them all).
    pub fn get_kcp(&self, stat: KcpStat) -> Option<u64> {
        Some(match stat {
            KcpStat::DatagramsIn => self.datagrams_in,
            KcpStat::DatagramsOut => self.datagrams_out,
            KcpStat::DatagramsBad => self.datagrams_bad,
            KcpStat::Retransmits => self.retransmits,
            KcpStat::Waiting => self.waiting,
            KcpStat::SrttMs => self.srtt_ms,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_kcp_configs_and_every_key_round_trips() {
        let s = KcpSettings::new();
        assert_eq!(s.config().unwrap(), KcpConfig::default());
        for (i, k) in KcpKey::ALL.iter().enumerate() {
            assert_eq!(k.code(), i as i32 + 1);
            assert_eq!(KcpKey::from_code_checked(k.code()).unwrap(), *k);
        }
        assert!(KcpKey::from_code_checked(0).is_err());
        assert!(KcpKey::from_code_checked(12).is_err());
        for (i, k) in KcpStat::ALL.iter().enumerate() {
            assert_eq!(k.code(), i as i32 + 101);
            assert_eq!(KcpStat::from_code(k.code()), Some(*k));
        }
        assert_eq!(KcpStat::from_code(100), None);
        let mut s = KcpSettings::new();
        s.set(KcpKey::MinRtoMs, 5).unwrap();
        s.set(KcpKey::Stream, 1).unwrap();
        let c = s.config().unwrap();
        assert_eq!(c.min_rto, Some(Duration::from_millis(5)));
        assert!(c.stream);
        assert!(s.set(KcpKey::RecvWindow, 127).is_err());
        assert!(s.set(KcpKey::IntervalMs, 9).is_err());
    }
}
