// Engine settings: one handle set key by key (LS_ECFG_*), plus framing, socket options and
// heartbeat payloads; the objects made take a copy.
namespace Libsock
{
    /// <summary>Settings for <see cref="Server.Listen"/>, <see cref="Client.Connect"/> and
    /// <see cref="DatagramServer.Bind"/>: numbers by <see cref="ConfigKey"/> (times in ms), the
    /// framing (default: 4-byte big-endian length prefix), socket options (default: NODELAY on)
    /// and heartbeat payloads. Keys that do not apply to an object are ignored, so one config can
    /// serve a server and its clients; each object takes a copy. A value out of its key's range is
    /// <see cref="InvalidArgumentException"/> here; settings that make no sense together, when the
    /// object is made.</summary>
    public sealed class EngineConfig : LibsockObject
    {
        private EngineConfig(long id) : base(id) { }

        /// <summary>A config with every default.</summary>
        public EngineConfig() : this(New()) { }

        private static unsafe long New()
        {
            long h;
            Utf8.Check(Native.ls_engine_config_new(&h));
            return h;
        }

        /// <summary>Sets <paramref name="key"/> to <paramref name="value"/> (booleans 0/1, times in
        /// ms); returns this config for chaining.</summary>
        public EngineConfig Set(ConfigKey key, long value)
        {
            Call(h => Native.ls_engine_config_set(h, (int)key, value));
            return this;
        }

        /// <summary>The value of <paramref name="key"/>: as set, or the default.</summary>
        public unsafe long Get(ConfigKey key)
        {
            long h = Acquire();
            try
            {
                long v;
                Fail(Native.ls_engine_config_get(h, (int)key, &v));
                return v;
            }
            finally { Release(); }
        }

        /// <summary>The framing of every connection made with this config; returns this config.</summary>
        public EngineConfig SetFraming(Framing framing)
        {
            if (framing == null) throw new InvalidArgumentException("invalid argument: framing is null");
            Call(h => framing.Apply(h));
            return this;
        }

        /// <summary>A socket option of every connection made with this config; returns this config.</summary>
        public EngineConfig SetOption(SockOpt option, long value)
        {
            Call(h => Native.ls_set_option(h, (int)option, value));
            return this;
        }

        /// <summary>Sends a heartbeat ping after <paramref name="intervalMs"/> of silence (at least
        /// 10 ms; 0 only answers pings, -1 off) and declares the peer dead after
        /// <paramref name="misses"/> silent intervals.</summary>
        public EngineConfig SetHeartbeat(int intervalMs, int misses = 3) =>
            Set(ConfigKey.HEARTBEAT_INTERVAL_MS, intervalMs).Set(ConfigKey.HEARTBEAT_MISSES, misses);

        /// <summary>Reconnects (clients) with a delay from <paramref name="backoffMinMs"/> doubling
        /// up to <paramref name="backoffMaxMs"/>.</summary>
        public EngineConfig SetReconnect(int backoffMinMs, int backoffMaxMs) =>
            Set(ConfigKey.RECONNECT, 1).Set(ConfigKey.BACKOFF_MIN_MS, backoffMinMs).Set(ConfigKey.BACKOFF_MAX_MS, backoffMaxMs);

        /// <summary>Replaces the heartbeat payloads (default "\0LSPING" / "\0LSPONG"; both non-empty
        /// and different).</summary>
        public unsafe EngineConfig SetHeartbeatPayloads(byte[] ping, byte[] pong)
        {
            if (ping == null || pong == null) throw new InvalidArgumentException("invalid argument: a heartbeat payload is null");
            long h = Acquire();
            try
            {
                fixed (byte* a = ping)
                fixed (byte* b = pong)
                    Fail(Native.ls_engine_config_set_heartbeat_payloads(h, ping.Length == 0 ? null : a, Utf8.Size(ping.Length),
                                                                         pong.Length == 0 ? null : b, Utf8.Size(pong.Length)));
            }
            finally { Release(); }
            return this;
        }

        /// <summary>TLS for every connection made with this config (null: plain TCP): a server config
        /// for <see cref="Server.Listen"/> (a failed handshake is a WARNING with
        /// <see cref="TlsException"/>'s code, counted in <see cref="Stat.TLS_FAILURES"/>), a client
        /// config for <see cref="Client.Connect"/> (a failed handshake is a DISCONNECTED with reason
        /// <see cref="DisconnectReason.TLS"/>). The settings are built and checked here
        /// (<see cref="InvalidArgumentException"/>); the config keeps them, so <paramref name="tls"/>
        /// may be changed or disposed afterwards. Returns this config.</summary>
        public EngineConfig SetTls(TlsConfig tls)
        {
            long t = TlsConfig.IdOf(tls);
            Call(h => Native.ls_engine_config_set_tls(h, t));
            System.GC.KeepAlive(tls);
            return this;
        }

        /// <summary>Connects <see cref="Client.Connect"/>'s client through a proxy (the URL as for
        /// <see cref="SocketOptions.SetProxy"/>; null or "" removes it), checked here
        /// (<see cref="InvalidArgumentException"/>). Every attempt, reconnects included, goes through
        /// the proxy, bounded by <see cref="ConfigKey.CONNECT_TIMEOUT_MS"/>; a refusal by the proxy is a
        /// failed attempt like any other, its reason text saying what the proxy answered. Servers
        /// ignore it. Returns this config.</summary>
        public unsafe EngineConfig SetProxy(string url)
        {
            byte[] u = Utf8.Encode(url ?? "", "url");
            long h = Acquire();
            try
            {
                fixed (byte* p = u) Fail(Native.ls_engine_config_set_proxy(h, p));
            }
            finally { Release(); }
            return this;
        }

        internal static long IdOf(EngineConfig c)
        {
            if (c == null) return 0;
            if (c.IsClosed) throw new System.ObjectDisposedException(nameof(EngineConfig));
            return c.Handle;
        }
    }
}
