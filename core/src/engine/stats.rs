//! Engine statistics by number: the one table every door names its counters from (the C door's
//! `LS_STAT_*`, Java's `Stats` fields, Pascal's `TLsEngineStats`, the keys of Python's
//! `stats()` dicts and MATLAB's `stats(s)` fields), beside [`ConfigKey`](super::ConfigKey) for
//! settings.
//!
//! [`ServerStats`], [`ClientStats`] and [`DatagramStats`] are read by [`Stat`] with their `get`
//! method; a statistic an object does not keep is `None`.
//!
//! ```
//! use libsock::engine::{ClientStats, Stat};
//!
//! assert_eq!(Stat::QueuedBytes.code(), 8);
//! assert_eq!(Stat::QueuedBytes.name(), "QUEUED_BYTES");
//! let s = ClientStats { connected: true, connections: 3, ..ClientStats::default() };
//! assert_eq!(s.get(Stat::Connections), Some(1)); // connected now
//! assert_eq!(s.get(Stat::ConnectionsTotal), Some(3)); // connections made
//! assert_eq!(s.get(Stat::Refused), None); // a server's counter
//! ```

use super::{ClientStats, DatagramStats, ServerStats};

/// An engine statistic's stable number (the C door's `LS_STAT_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Stat {
    /// Server: clients connected now. Client: 1 while connected, else 0.
    Connections,
    /// Server: clients accepted since the start. Client: connections made so far.
    ConnectionsTotal,
    /// Server: connections closed at once because of `max_clients`.
    Refused,
    /// All: bytes received.
    BytesIn,
    /// All: bytes sent (frames with their headers).
    BytesOut,
    /// All: application messages (datagrams) received; heartbeats are not counted.
    MessagesIn,
    /// All: frames (datagrams) sent, heartbeats included.
    MessagesOut,
    /// Server and client: bytes waiting in the send queues.
    QueuedBytes,
    /// All: events waiting to be pulled.
    EventsQueued,
    /// Client: failed connect attempts so far.
    FailedAttempts,
    /// Server: sends refused and broadcast deliveries skipped because a client's send queue was
    /// full.
    SendQueueFull,
    /// Server: failed accepts (e.g. EMFILE).
    AcceptErrors,
    /// Server and client: failed TLS handshakes (each also reported by an event).
    TlsFailures,
}

impl Stat {
    /// Every statistic, in code order (1, 2, ...).
    pub const ALL: [Stat; 13] = [
        Stat::Connections,
        Stat::ConnectionsTotal,
        Stat::Refused,
        Stat::BytesIn,
        Stat::BytesOut,
        Stat::MessagesIn,
        Stat::MessagesOut,
        Stat::QueuedBytes,
        Stat::EventsQueued,
        Stat::FailedAttempts,
        Stat::SendQueueFull,
        Stat::AcceptErrors,
        Stat::TlsFailures,
    ];

    /// The stable number (the C door's `LS_STAT_*`): 1 for `Connections` ... 13 for
    /// `TlsFailures`.
    pub fn code(self) -> i32 {
        Stat::ALL.iter().position(|s| *s == self).unwrap_or(0) as i32 + 1
    }

    /// The statistic for a number, if any.
    pub fn from_code(code: i32) -> Option<Stat> {
        usize::try_from(code)
            .ok()
            .and_then(|c| c.checked_sub(1))
            .and_then(|i| Stat::ALL.get(i).copied())
    }

    /// The constant's name without prefix, e.g. `"BYTES_IN"` (`LS_STAT_BYTES_IN`); in lower
    /// case, the key of Python's `stats()` dicts.
    pub fn name(self) -> &'static str {
        match self {
            Stat::Connections => "CONNECTIONS",
            Stat::ConnectionsTotal => "CONNECTIONS_TOTAL",
            Stat::Refused => "REFUSED",
            Stat::BytesIn => "BYTES_IN",
            Stat::BytesOut => "BYTES_OUT",
            Stat::MessagesIn => "MESSAGES_IN",
            Stat::MessagesOut => "MESSAGES_OUT",
            Stat::QueuedBytes => "QUEUED_BYTES",
            Stat::EventsQueued => "EVENTS_QUEUED",
            Stat::FailedAttempts => "FAILED_ATTEMPTS",
            Stat::SendQueueFull => "SEND_QUEUE_FULL",
            Stat::AcceptErrors => "ACCEPT_ERRORS",
            Stat::TlsFailures => "TLS_FAILURES",
        }
    }
}

impl ServerStats {
    /// The value of statistic `stat`, or `None` for one a server does not keep
    /// (`FailedAttempts`).
    pub fn get(&self, stat: Stat) -> Option<u64> {
        match stat {
            Stat::Connections => Some(self.connections),
            Stat::ConnectionsTotal => Some(self.connections_total),
            Stat::Refused => Some(self.refused),
            Stat::BytesIn => Some(self.bytes_in),
            Stat::BytesOut => Some(self.bytes_out),
            Stat::MessagesIn => Some(self.messages_in),
            Stat::MessagesOut => Some(self.messages_out),
            Stat::QueuedBytes => Some(self.queued_bytes),
            Stat::EventsQueued => Some(self.events_queued),
            Stat::SendQueueFull => Some(self.send_queue_full),
            Stat::AcceptErrors => Some(self.accept_errors),
            Stat::TlsFailures => Some(self.tls_failures),
            Stat::FailedAttempts => None,
        }
    }
}

impl ClientStats {
    /// The value of statistic `stat` (`Connections` is 1 while connected, `ConnectionsTotal`
    /// the connections made), or `None` for one a client does not keep (`Refused`,
    /// `SendQueueFull`, `AcceptErrors`).
    pub fn get(&self, stat: Stat) -> Option<u64> {
        match stat {
            Stat::Connections => Some(self.connected as u64),
            Stat::ConnectionsTotal => Some(self.connections),
            Stat::BytesIn => Some(self.bytes_in),
            Stat::BytesOut => Some(self.bytes_out),
            Stat::MessagesIn => Some(self.messages_in),
            Stat::MessagesOut => Some(self.messages_out),
            Stat::QueuedBytes => Some(self.queued_bytes),
            Stat::EventsQueued => Some(self.events_queued),
            Stat::FailedAttempts => Some(self.failed_attempts),
            Stat::TlsFailures => Some(self.tls_failures),
            Stat::Refused | Stat::SendQueueFull | Stat::AcceptErrors => None,
        }
    }
}

impl DatagramStats {
    /// The value of statistic `stat` (`MessagesIn`/`MessagesOut` count datagrams), or `None`
    /// for one a datagram server does not keep.
    pub fn get(&self, stat: Stat) -> Option<u64> {
        match stat {
            Stat::BytesIn => Some(self.bytes_in),
            Stat::BytesOut => Some(self.bytes_out),
            Stat::MessagesIn => Some(self.datagrams_in),
            Stat::MessagesOut => Some(self.datagrams_out),
            Stat::EventsQueued => Some(self.events_queued),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_names_are_distinct() {
        for (i, s) in Stat::ALL.iter().enumerate() {
            assert_eq!(s.code(), i as i32 + 1);
            assert_eq!(Stat::from_code(s.code()), Some(*s));
        }
        assert_eq!(Stat::from_code(0), None);
        assert_eq!(Stat::from_code(Stat::ALL.len() as i32 + 1), None);
        let mut names: Vec<_> = Stat::ALL.iter().map(|s| s.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Stat::ALL.len());
    }

    #[test]
    fn every_object_keeps_what_it_counts() {
        let server = ServerStats::default();
        let client = ClientStats::default();
        let dgram = DatagramStats::default();
        for s in Stat::ALL {
            let kept = [server.get(s), client.get(s), dgram.get(s)];
            assert!(kept.iter().any(Option::is_some), "{s:?} is kept by nobody");
        }
        assert_eq!(dgram.get(Stat::Connections), None);
    }
}
