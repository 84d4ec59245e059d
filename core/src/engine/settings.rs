//! Engine settings by number: the one table every flat door (C's `LS_ECFG_*`, Java, Pascal,
//! MATLAB) uses to configure servers, clients and datagram servers with `(key, value)` pairs of
//! integers, beside [`SockOpt`](crate::SockOpt)'s numbers for socket options.
//!
//! [`EngineSettings`] records values by [`ConfigKey`] (plus the framing, socket options and
//! heartbeat payloads) and builds the typed configs; values are checked for their type's range
//! when set, and the configs are validated by core when an object is made, so every door gives
//! the same answer for the same input.
//!
//! ```
//! use libsock::engine::{ConfigKey, EngineSettings};
//!
//! let mut s = EngineSettings::new();
//! s.set(ConfigKey::MaxClients, 100)?;
//! s.set(ConfigKey::HeartbeatIntervalMs, 500)?;
//! assert_eq!(s.server().max_clients, Some(100));
//! assert_eq!(s.get(ConfigKey::SendQueueBytes), 4 << 20); // the default
//! assert!(s.set(ConfigKey::SendPolicy, 7).is_err());
//! # Ok::<(), libsock::Error>(())
//! ```

use std::time::Duration;

use bytes::Bytes;

use super::{ClientConfig, DatagramServerConfig, Heartbeat, IdleMode, SendPolicy, ServerConfig};
use crate::error::{Error, Result};
use crate::framing::Framing;
use crate::options::{SockOpt, SocketOptions};

/// An engine setting's stable number (the C door's `LS_ECFG_*`). Booleans are 0/1, times are
/// milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ConfigKey {
    /// Server: most clients at once (-1 = no limit, the default; 0 is refused).
    MaxClients,
    /// Server and client: bound of each send queue in bytes (default 4 MiB).
    SendQueueBytes,
    /// Server: what a full send queue does: 0 error (default), 1 disconnect the client.
    SendPolicy,
    /// All: bound of the event queue in events (default 4096).
    EventCapacity,
    /// Server and client: close a connection idle this long (ms; 0 = never, the default).
    IdleTimeoutMs,
    /// Server and client: 0 only messages received count as activity (default), 1 messages
    /// sent count too.
    IdleMode,
    /// Server and client: ping after this much silence (ms, at least 10); 0 only answer pings
    /// (default); -1 no heartbeat at all.
    HeartbeatIntervalMs,
    /// Server and client: silent heartbeat intervals before the peer is declared dead
    /// (default 3).
    HeartbeatMisses,
    /// Client: reconnect after a failure, 0/1 (default 1).
    Reconnect,
    /// Client: first retry delay (ms, default 100, at least 10).
    BackoffMinMs,
    /// Client: longest retry delay (ms, default 10000).
    BackoffMaxMs,
    /// Client: give up after this many failed attempts in a row (0 = never, the default).
    MaxAttempts,
    /// Client: time limit of one connect attempt (ms, default 10000).
    ConnectTimeoutMs,
    /// Client: randomize retry delays, 0/1 (default 1).
    Jitter,
    /// Server: listen backlog (default 1024; 0 = the default).
    Backlog,
    /// Server: how long a graceful disconnect may flush (ms, default 5000).
    CloseTimeoutMs,
    /// Datagram server: largest datagram received whole (default 65536).
    MaxDatagram,
    /// Server on a Unix path: remove a stale socket file first, 0/1 (default 0).
    RemoveStale,
}

impl ConfigKey {
    /// Every key, in code order (1, 2, ...).
    pub const ALL: [ConfigKey; 18] = [
        ConfigKey::MaxClients,
        ConfigKey::SendQueueBytes,
        ConfigKey::SendPolicy,
        ConfigKey::EventCapacity,
        ConfigKey::IdleTimeoutMs,
        ConfigKey::IdleMode,
        ConfigKey::HeartbeatIntervalMs,
        ConfigKey::HeartbeatMisses,
        ConfigKey::Reconnect,
        ConfigKey::BackoffMinMs,
        ConfigKey::BackoffMaxMs,
        ConfigKey::MaxAttempts,
        ConfigKey::ConnectTimeoutMs,
        ConfigKey::Jitter,
        ConfigKey::Backlog,
        ConfigKey::CloseTimeoutMs,
        ConfigKey::MaxDatagram,
        ConfigKey::RemoveStale,
    ];

    /// The stable number (the C door's `LS_ECFG_*`): 1 for `MaxClients` ... 18 for
    /// `RemoveStale`.
    pub fn code(self) -> i32 {
        ConfigKey::ALL.iter().position(|k| *k == self).unwrap_or(0) as i32 + 1
    }

    /// The key for a number, if any.
    pub fn from_code(code: i32) -> Option<ConfigKey> {
        usize::try_from(code)
            .ok()
            .and_then(|c| c.checked_sub(1))
            .and_then(|i| ConfigKey::ALL.get(i).copied())
    }

    /// The key for a number, or `InvalidArgument` naming the valid range.
    pub fn from_code_checked(code: i32) -> Result<ConfigKey> {
        ConfigKey::from_code(code).ok_or_else(|| {
            Error::invalid(format!(
                "engine setting {code} does not exist (the keys are 1..={})",
                ConfigKey::ALL.len()
            ))
        })
    }

    /// The constant's name without prefix, e.g. `"MAX_CLIENTS"` (`LS_ECFG_MAX_CLIENTS`).
    pub fn name(self) -> &'static str {
        match self {
            ConfigKey::MaxClients => "MAX_CLIENTS",
            ConfigKey::SendQueueBytes => "SEND_QUEUE_BYTES",
            ConfigKey::SendPolicy => "SEND_POLICY",
            ConfigKey::EventCapacity => "EVENT_CAPACITY",
            ConfigKey::IdleTimeoutMs => "IDLE_TIMEOUT_MS",
            ConfigKey::IdleMode => "IDLE_MODE",
            ConfigKey::HeartbeatIntervalMs => "HEARTBEAT_INTERVAL_MS",
            ConfigKey::HeartbeatMisses => "HEARTBEAT_MISSES",
            ConfigKey::Reconnect => "RECONNECT",
            ConfigKey::BackoffMinMs => "BACKOFF_MIN_MS",
            ConfigKey::BackoffMaxMs => "BACKOFF_MAX_MS",
            ConfigKey::MaxAttempts => "MAX_ATTEMPTS",
            ConfigKey::ConnectTimeoutMs => "CONNECT_TIMEOUT_MS",
            ConfigKey::Jitter => "JITTER",
            ConfigKey::Backlog => "BACKLOG",
            ConfigKey::CloseTimeoutMs => "CLOSE_TIMEOUT_MS",
            ConfigKey::MaxDatagram => "MAX_DATAGRAM",
            ConfigKey::RemoveStale => "REMOVE_STALE",
        }
    }

    /// The range a value must be in (the type's range: core validates the combination when an
    /// object is made), and its description for messages.
    fn range(self) -> (i64, i64, &'static str) {
        const U32: i64 = u32::MAX as i64;
        const I32: i64 = i32::MAX as i64;
        const COUNT: i64 = isize::MAX as i64;
        match self {
            ConfigKey::SendPolicy => (0, 1, "0 (error) or 1 (disconnect)"),
            ConfigKey::IdleMode => (0, 1, "0 (reads) or 1 (reads and writes)"),
            ConfigKey::Reconnect | ConfigKey::Jitter | ConfigKey::RemoveStale => (0, 1, "0 or 1"),
            ConfigKey::SendQueueBytes | ConfigKey::EventCapacity => (0, COUNT, "0 or more"),
            ConfigKey::MaxClients => (-1, COUNT, "-1 (no limit) or a count"),
            ConfigKey::HeartbeatIntervalMs => (
                -1,
                I32,
                "-1 (no heartbeat), 0 (answer pings only) or a number of ms",
            ),
            ConfigKey::HeartbeatMisses | ConfigKey::MaxAttempts => (0, U32, "0..4294967295"),
            ConfigKey::MaxDatagram => (0, I32, "0 or more"),
            ConfigKey::Backlog => (0, I32, "0 (the default) or more"),
            _ => (0, I32, "0 or more ms, at most 2147483647"),
        }
    }
}

/// Engine settings as flat `(key, value)` pairs, with the framing, socket options and heartbeat
/// payloads: what a flat door's "engine config" object holds. Values not set are core's
/// defaults; [`server`](EngineSettings::server), [`client`](EngineSettings::client) and
/// [`datagram`](EngineSettings::datagram) build the typed configs (keys that do not apply to an
/// object kind are ignored, so one set of settings can serve a server and its clients).
#[derive(Debug, Clone, Default)]
pub struct EngineSettings {
    values: [Option<i64>; ConfigKey::ALL.len()],
    framing: Option<Framing>,
    /// Socket options as set, in order, applied over the object kind's own defaults.
    options: Vec<(SockOpt, i64)>,
    payloads: Option<(Bytes, Bytes)>,
    server_tls: Option<crate::tls::ServerTls>,
    client_tls: Option<crate::tls::ClientTls>,
    proxy: Option<crate::Proxy>,
}

fn ms_of(d: Duration) -> i64 {
    d.as_millis().min(i64::MAX as u128) as i64
}

fn ms(v: i64) -> Duration {
    Duration::from_millis(v.max(0) as u64)
}

impl EngineSettings {
    /// Nothing set: every value is core's default.
    pub fn new() -> EngineSettings {
        EngineSettings::default()
    }

    /// Set `key` to `value`; `InvalidArgument` naming the range when the value is outside its
    /// type's range (combinations and floors are checked when an object is made).
    pub fn set(&mut self, key: ConfigKey, value: i64) -> Result<()> {
        let (lo, hi, what) = key.range();
        if value < lo || value > hi {
            return Err(Error::invalid(format!(
                "engine setting {} is {value}, it must be {what}",
                key.name()
            )));
        }
        self.values[key.code() as usize - 1] = Some(value);
        Ok(())
    }

    /// The value of `key`: as set, or core's default.
    pub fn get(&self, key: ConfigKey) -> i64 {
        self.values[key.code() as usize - 1].unwrap_or_else(|| default_of(key))
    }

    /// Use `framing` (default: a 4-byte big-endian length prefix).
    pub fn set_framing(&mut self, framing: Framing) {
        self.framing = Some(framing);
    }

    /// Record a socket option (checked now, applied when an object is made).
    pub fn set_option(&mut self, opt: SockOpt, value: i64) -> Result<()> {
        SocketOptions::new().set(opt, value)?;
        self.options.retain(|(o, _)| *o != opt);
        self.options.push((opt, value));
        Ok(())
    }

    /// A socket option recorded with [`set_option`](EngineSettings::set_option).
    pub fn get_option(&self, opt: SockOpt) -> Result<i64> {
        self.options
            .iter()
            .find(|(o, _)| *o == opt)
            .map(|(_, v)| *v)
            .ok_or_else(|| {
                Error::invalid(format!(
                    "option {} was not set on these engine settings",
                    opt.name()
                ))
            })
    }

    /// Use other heartbeat payloads (both non-empty and different: checked when an object is
    /// made).
    pub fn set_heartbeat_payloads(&mut self, ping: impl Into<Bytes>, pong: impl Into<Bytes>) {
        self.payloads = Some((ping.into(), pong.into()));
    }

    fn options_over(&self, mut base: SocketOptions) -> SocketOptions {
        for (opt, value) in &self.options {
            // Checked when set.
            let _ = base.set(*opt, *value);
        }
        base
    }

    fn heartbeat(&self) -> Option<Heartbeat> {
        let misses = self.get(ConfigKey::HeartbeatMisses) as u32;
        let mut hb = match self.get(ConfigKey::HeartbeatIntervalMs) {
            -1 => return None,
            0 => Heartbeat {
                misses,
                ..Heartbeat::reply_only()
            },
            n => Heartbeat::new(ms(n), misses),
        };
        if let Some((ping, pong)) = &self.payloads {
            hb = hb.payloads(ping.clone(), pong.clone());
        }
        Some(hb)
    }

    fn idle(&self) -> (Option<Duration>, IdleMode) {
        let t = match self.get(ConfigKey::IdleTimeoutMs) {
            0 => None,
            n => Some(ms(n)),
        };
        let mode = match self.get(ConfigKey::IdleMode) {
            1 => IdleMode::ReadsAndWrites,
            _ => IdleMode::Reads,
        };
        (t, mode)
    }

    /// Serve TLS with these settings (a server made from these settings; `None`: plaintext).
    pub fn set_server_tls(&mut self, tls: Option<crate::tls::ServerTls>) {
        self.server_tls = tls;
    }

    /// Speak TLS with these settings (a client made from these settings; `None`: plaintext).
    pub fn set_client_tls(&mut self, tls: Option<crate::tls::ClientTls>) {
        self.client_tls = tls;
    }

    /// Connect through this proxy (a client made from these settings; `None`: directly).
    pub fn set_proxy(&mut self, proxy: Option<crate::Proxy>) {
        self.proxy = proxy;
    }

    /// The server config these settings describe.
    pub fn server(&self) -> ServerConfig {
        let d = ServerConfig::new();
        let (idle, mode) = self.idle();
        ServerConfig {
            framing: self.framing.clone().unwrap_or(d.framing),
            options: self.options_over(d.options),
            backlog: match self.get(ConfigKey::Backlog) as i32 {
                0 => d.backlog,
                n => n,
            },
            remove_stale: self.get(ConfigKey::RemoveStale) == 1,
            max_clients: usize::try_from(self.get(ConfigKey::MaxClients)).ok(),
            send_queue_bytes: self.get(ConfigKey::SendQueueBytes) as usize,
            send_policy: match self.get(ConfigKey::SendPolicy) {
                1 => SendPolicy::Disconnect,
                _ => SendPolicy::Error,
            },
            event_capacity: self.get(ConfigKey::EventCapacity) as usize,
            idle_timeout: idle,
            idle_mode: mode,
            heartbeat: self.heartbeat(),
            close_timeout: ms(self.get(ConfigKey::CloseTimeoutMs)),
            tls: self.server_tls.clone(),
        }
    }

    /// The client config these settings describe.
    pub fn client(&self) -> ClientConfig {
        let d = ClientConfig::new();
        let (idle, mode) = self.idle();
        ClientConfig {
            framing: self.framing.clone().unwrap_or(d.framing),
            options: self.options_over(d.options),
            connect_timeout: ms(self.get(ConfigKey::ConnectTimeoutMs)),
            reconnect: self.get(ConfigKey::Reconnect) == 1,
            backoff_min: ms(self.get(ConfigKey::BackoffMinMs)),
            backoff_max: ms(self.get(ConfigKey::BackoffMaxMs)),
            jitter: self.get(ConfigKey::Jitter) == 1,
            max_attempts: self.get(ConfigKey::MaxAttempts) as u32,
            send_queue_bytes: self.get(ConfigKey::SendQueueBytes) as usize,
            event_capacity: self.get(ConfigKey::EventCapacity) as usize,
            idle_timeout: idle,
            idle_mode: mode,
            heartbeat: self.heartbeat(),
            tls: self.client_tls.clone(),
            proxy: self.proxy.clone(),
        }
    }

    /// The datagram server config these settings describe.
    pub fn datagram(&self) -> DatagramServerConfig {
        DatagramServerConfig {
            options: self.options_over(DatagramServerConfig::new().options),
            max_datagram: self.get(ConfigKey::MaxDatagram) as usize,
            event_capacity: self.get(ConfigKey::EventCapacity) as usize,
            ..DatagramServerConfig::new()
        }
    }
}

impl EngineSettings {
    /// The KCP server config these settings and the KCP tuning `kcp` describe: the event
    /// capacity, max clients, send queue bound, send policy, close timeout and socket options
    /// apply; the idle timeout too, but when it was never set a KCP server keeps its own
    /// default (60 s: KCP has no close on the wire, so silence is how a session ends), and 0
    /// means never. `InvalidArgument` for a tuning that [`KcpConfig::validate`] refuses.
    ///
    /// [`KcpConfig::validate`]: crate::kcp::KcpConfig::validate
    pub fn kcp_server(&self, kcp: &crate::kcp::KcpSettings) -> Result<crate::kcp::KcpServerConfig> {
        let d = crate::kcp::KcpServerConfig::new();
        let idle = match self.values[ConfigKey::IdleTimeoutMs.code() as usize - 1] {
            None => d.idle_timeout,
            Some(0) => None,
            Some(n) => Some(ms(n)),
        };
        Ok(crate::kcp::KcpServerConfig {
            kcp: kcp.config()?,
            options: self.options_over(d.options),
            event_capacity: self.get(ConfigKey::EventCapacity) as usize,
            idle_timeout: idle,
            max_clients: usize::try_from(self.get(ConfigKey::MaxClients)).ok(),
            send_queue_bytes: self.get(ConfigKey::SendQueueBytes) as usize,
            send_policy: match self.get(ConfigKey::SendPolicy) {
                1 => SendPolicy::Disconnect,
                _ => SendPolicy::Error,
            },
            linger: kcp.linger(),
            close_timeout: ms(self.get(ConfigKey::CloseTimeoutMs)),
        })
    }
}

/// Core's default for `key`, read from the typed configs' defaults (one source of truth).
fn default_of(key: ConfigKey) -> i64 {
    let s = ServerConfig::new();
    let c = ClientConfig::new();
    let d = DatagramServerConfig::new();
    match key {
        ConfigKey::MaxClients => s.max_clients.map_or(-1, |n| n as i64),
        ConfigKey::SendQueueBytes => s.send_queue_bytes as i64,
        ConfigKey::SendPolicy => (s.send_policy == SendPolicy::Disconnect) as i64,
        ConfigKey::EventCapacity => s.event_capacity as i64,
        ConfigKey::IdleTimeoutMs => s.idle_timeout.map_or(0, ms_of),
        ConfigKey::IdleMode => (s.idle_mode == IdleMode::ReadsAndWrites) as i64,
        ConfigKey::HeartbeatIntervalMs => match &s.heartbeat {
            None => -1,
            Some(h) => h.interval.map_or(0, ms_of),
        },
        ConfigKey::HeartbeatMisses => s.heartbeat.as_ref().map_or(3, |h| h.misses as i64),
        ConfigKey::Reconnect => c.reconnect as i64,
        ConfigKey::BackoffMinMs => ms_of(c.backoff_min),
        ConfigKey::BackoffMaxMs => ms_of(c.backoff_max),
        ConfigKey::MaxAttempts => c.max_attempts as i64,
        ConfigKey::ConnectTimeoutMs => ms_of(c.connect_timeout),
        ConfigKey::Jitter => c.jitter as i64,
        ConfigKey::Backlog => s.backlog as i64,
        ConfigKey::CloseTimeoutMs => ms_of(s.close_timeout),
        ConfigKey::MaxDatagram => d.max_datagram as i64,
        ConfigKey::RemoveStale => s.remove_stale as i64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_defaults_build_the_default_configs() {
        for (i, k) in ConfigKey::ALL.iter().enumerate() {
            assert_eq!(k.code(), i as i32 + 1);
            assert_eq!(ConfigKey::from_code(k.code()), Some(*k));
        }
        assert_eq!(ConfigKey::from_code(0), None);
        assert_eq!(ConfigKey::from_code(19), None);
        assert!(ConfigKey::from_code_checked(-1).is_err());
        let s = EngineSettings::new();
        assert_eq!(s.server().max_clients, None);
        assert!(s.server().validate().is_ok());
        assert!(s.client().validate().is_ok());
        assert!(s.datagram().validate().is_ok());
        assert_eq!(
            s.client().connect_timeout,
            ClientConfig::new().connect_timeout
        );
    }

    #[test]
    fn values_outside_the_type_range_are_refused_and_core_checks_the_rest() {
        let mut s = EngineSettings::new();
        assert!(s.set(ConfigKey::SendPolicy, 2).is_err());
        assert!(s.set(ConfigKey::MaxClients, -2).is_err());
        s.set(ConfigKey::MaxClients, 0).unwrap();
        let e = s.server().validate().unwrap_err();
        assert!(e.to_string().contains("max_clients 0"), "{e}");
        s.set(ConfigKey::HeartbeatIntervalMs, 5).unwrap();
        s.set(ConfigKey::MaxClients, 3).unwrap();
        assert!(s.server().validate().is_err());
        assert_eq!(s.get(ConfigKey::MaxClients), 3);
    }
}
