// KCP, reliable messages over UDP (core's libsock::kcp through ls_kcp_*): the tuning (KcpConfig,
// the reference implementation's words), the engine's KcpServer (the TCP Server's calls and
// events) and the blocking KcpSession of a client.
using System;
using System.Threading;
using System.Threading.Tasks;

namespace Libsock
{
    /// <summary>KCP tuning keys (<c>LS_KCP_*</c>), the reference implementation's words; times in ms.</summary>
    public enum KcpKey
    {
        /// <summary><c>LS_KCP_NODELAY</c>: 0 off (a lost segment's RTO doubles), 1 on, 2 on with a linear backoff (default 2).</summary>
        NODELAY = 1,
        /// <summary><c>LS_KCP_INTERVAL_MS</c>: the internal update interval, 10..5000 ms (default 10).</summary>
        INTERVAL_MS = 2,
        /// <summary><c>LS_KCP_RESEND</c>: fast resend after this many later segments were acknowledged (0 off; default 2).</summary>
        RESEND = 3,
        /// <summary><c>LS_KCP_NC</c>: no congestion control, 0/1 (default 1).</summary>
        NC = 4,
        /// <summary><c>LS_KCP_SEND_WINDOW</c>: the send window in segments, 1..65535 (default 128).</summary>
        SEND_WINDOW = 5,
        /// <summary><c>LS_KCP_RECV_WINDOW</c>: the receive window in segments, 128..65535 (default 128).</summary>
        RECV_WINDOW = 6,
        /// <summary><c>LS_KCP_MTU</c>: bytes per datagram, headers included, 50..65000 (default 1400).</summary>
        MTU = 7,
        /// <summary><c>LS_KCP_MIN_RTO_MS</c>: the minimum retransmission timeout, 1..60000 ms; 0 automatic (30 ms with nodelay, else 100 ms).</summary>
        MIN_RTO_MS = 8,
        /// <summary><c>LS_KCP_STREAM</c>: stream mode (no message boundaries), 0/1 (default 0).</summary>
        STREAM = 9,
        /// <summary><c>LS_KCP_DEAD_LINK</c>: transmissions of one segment without acknowledgement after which the peer is gone (default 20).</summary>
        DEAD_LINK = 10,
        /// <summary><c>LS_KCP_LINGER_MS</c>: server: how long a finished (address, conv) is remembered, so late retransmissions do not open it again (default 10000).</summary>
        LINGER_MS = 11,
    }

    /// <summary>KCP counters (<c>LS_KCP_STAT_*</c>) of a <see cref="KcpServer"/> or a <see cref="KcpSession"/>.</summary>
    public enum KcpStat
    {
        /// <summary><c>LS_KCP_STAT_DATAGRAMS_IN</c>: UDP datagrams received.</summary>
        DATAGRAMS_IN = 101,
        /// <summary><c>LS_KCP_STAT_DATAGRAMS_OUT</c>: UDP datagrams sent (data, acknowledgements, retransmissions).</summary>
        DATAGRAMS_OUT = 102,
        /// <summary><c>LS_KCP_STAT_DATAGRAMS_BAD</c>: datagrams refused (not KCP, or another conversation).</summary>
        DATAGRAMS_BAD = 103,
        /// <summary><c>LS_KCP_STAT_RETRANSMITS</c>: segments sent again (timeouts and fast resends).</summary>
        RETRANSMITS = 104,
        /// <summary><c>LS_KCP_STAT_WAITING</c>: session: segments waiting to be sent or acknowledged.</summary>
        WAITING = 105,
        /// <summary><c>LS_KCP_STAT_SRTT_MS</c>: session: the smoothed round-trip time in ms (0 before the first acknowledgement).</summary>
        SRTT_MS = 106,
    }

    /// <summary>The counters of a KCP server or session, read at one moment
    /// (<see cref="KcpServer.KcpStats"/>, <see cref="KcpSession.Stats"/>); -1 for one the object
    /// does not keep.</summary>
    public sealed class KcpStats
    {
        /// <summary>Bytes of messages received.</summary>
        public long BytesIn { get; internal set; }

        /// <summary>Bytes of messages sent.</summary>
        public long BytesOut { get; internal set; }

        /// <summary>Messages received.</summary>
        public long MessagesIn { get; internal set; }

        /// <summary>Messages sent.</summary>
        public long MessagesOut { get; internal set; }

        /// <summary>UDP datagrams received.</summary>
        public long DatagramsIn { get; internal set; }

        /// <summary>UDP datagrams sent.</summary>
        public long DatagramsOut { get; internal set; }

        /// <summary>Datagrams refused (not KCP, or another conversation).</summary>
        public long DatagramsBad { get; internal set; }

        /// <summary>Segments sent again.</summary>
        public long Retransmits { get; internal set; }

        /// <summary>Session: segments waiting to be sent or acknowledged (-1 on a server).</summary>
        public long Waiting { get; internal set; }

        /// <summary>Session: the smoothed round-trip time in ms (-1 on a server).</summary>
        public long SrttMs { get; internal set; }

        internal static KcpStats Read(Func<int, long> get) => new KcpStats
        {
            BytesIn = get((int)Stat.BYTES_IN),
            BytesOut = get((int)Stat.BYTES_OUT),
            MessagesIn = get((int)Stat.MESSAGES_IN),
            MessagesOut = get((int)Stat.MESSAGES_OUT),
            DatagramsIn = get((int)KcpStat.DATAGRAMS_IN),
            DatagramsOut = get((int)KcpStat.DATAGRAMS_OUT),
            DatagramsBad = get((int)KcpStat.DATAGRAMS_BAD),
            Retransmits = get((int)KcpStat.RETRANSMITS),
            Waiting = get((int)KcpStat.WAITING),
            SrttMs = get((int)KcpStat.SRTT_MS),
        };

        /// <summary>A one-line summary.</summary>
        public override string ToString() =>
            $"messages in {MessagesIn} out {MessagesOut}, datagrams in {DatagramsIn} out {DatagramsOut} bad {DatagramsBad}, retransmits {Retransmits}";
    }

    /// <summary>KCP tuning for <see cref="KcpServer.Bind"/> and <see cref="KcpSession.Connect"/>:
    /// unset keys keep core's defaults (the reference's "fast" profile: nodelay 2, interval 10 ms,
    /// resend 2, no congestion control). Both ends should agree on the MTU and the stream mode.
    /// The object made takes a copy.</summary>
    public sealed class KcpConfig : LibsockObject
    {
        private KcpConfig(long id) : base(id) { }

        /// <summary>A config with every default.</summary>
        public KcpConfig() : this(New()) { }

        private static unsafe long New()
        {
            long h;
            Utf8.Check(Native.ls_kcp_config_new(&h));
            return h;
        }

        /// <summary>Sets <paramref name="key"/> (a value outside its range is
        /// <see cref="InvalidArgumentException"/> naming the range); returns this config.</summary>
        public KcpConfig Set(KcpKey key, long value)
        {
            Call(h => Native.ls_kcp_config_set(h, (int)key, value));
            return this;
        }

        /// <summary>The value of <paramref name="key"/>: as set, or the default.</summary>
        public unsafe long Get(KcpKey key)
        {
            long h = Acquire();
            try
            {
                long v;
                Fail(Native.ls_kcp_config_get(h, (int)key, &v));
                return v;
            }
            finally { Release(); }
        }

        internal static long IdOf(KcpConfig c)
        {
            if (c == null) return 0;
            if (c.IsClosed) throw new ObjectDisposedException(nameof(KcpConfig));
            return c.Handle;
        }
    }

    /// <summary>A KCP server on a UDP port (<see cref="Bind"/>): each peer (address and
    /// conversation id, opened by its first valid KCP datagram) is a client with the TCP
    /// <see cref="Server"/>'s events (CONNECTED, MESSAGE, DISCONNECTED, CLOSED) and commands
    /// (<see cref="ServerBase.Send"/>, <see cref="ServerBase.Disconnect"/>,
    /// <see cref="ServerBase.Clients"/>, <see cref="ServerBase.ClientAddress"/>,
    /// <see cref="ServerBase.Shutdown"/>, at once: KCP has no close on the wire). A session whose
    /// peer stops acknowledging ends with <see cref="DisconnectReason.HEARTBEAT_LOST"/>, a silent
    /// one with <see cref="DisconnectReason.IDLE_TIMEOUT"/>.</summary>
    public sealed class KcpServer : ServerBase
    {
        private KcpServer(long id) : base(id) { }

        /// <summary>Starts a KCP server on <paramref name="address"/> ("127.0.0.1:0", "[::]:port").
        /// <paramref name="config"/> gives EVENT_CAPACITY, MAX_CLIENTS, SEND_QUEUE_BYTES (a session's
        /// unacknowledged bytes), SEND_POLICY, CLOSE_TIMEOUT_MS, IDLE_TIMEOUT_MS (unset: 60000,
        /// since silence is how a KCP session ends; 0 never) and socket options;
        /// <paramref name="kcp"/> the KCP tuning. A Unix address is
        /// <see cref="UnsupportedException"/>; bad settings <see cref="InvalidArgumentException"/>.</summary>
        public static unsafe KcpServer Bind(string address, EngineConfig config = null, KcpConfig kcp = null)
        {
            byte[] a = Utf8.Encode(address, "address");
            long h;
            fixed (byte* p = a)
                Utf8.Check(Native.ls_kcp_server_bind(p, EngineConfig.IdOf(config), KcpConfig.IdOf(kcp), &h));
            return new KcpServer(h);
        }

        /// <summary>One KCP counter; <see cref="UnsupportedException"/> for one a server does not keep
        /// (<see cref="KcpStat.WAITING"/>, <see cref="KcpStat.SRTT_MS"/>).</summary>
        public long Stat(KcpStat stat) => base.Stat((Libsock.Stat)(int)stat); // the same C call

        /// <summary>The server's KCP counters and message totals (the connection counters are in
        /// <see cref="EngineObject.Stats"/>).</summary>
        public KcpStats KcpStats() => Libsock.KcpStats.Read(s =>
        {
            try { return base.Stat((Libsock.Stat)s); }
            catch (UnsupportedException) { return -1; }
        });
    }

    /// <summary>A KCP session with a KCP server (<see cref="Connect"/>): reliable, ordered messages
    /// over a connected UDP socket. KCP has no handshake, and the session runs only while one of
    /// its calls runs: wait in <see cref="Recv"/> or call <see cref="Poll"/> so the peer's data is
    /// acknowledged. Waits take milliseconds (<see cref="Timeouts"/>: -2 the default of
    /// <see cref="Timeout"/>, initially forever). <see cref="LibsockObject.Close"/> from another
    /// thread makes a blocked call throw <see cref="ClosedException"/>; unacknowledged data is
    /// abandoned (<see cref="Flush"/> first).</summary>
    public sealed class KcpSession : LibsockObject
    {
        /// <summary><c>LS_KCP_CONV_RANDOM</c>: pick a random conversation id (1 to 2^31 - 1).</summary>
        public const long RandomConv = -1;

        private KcpSession(long id) : base(id) { }

        /// <summary>Starts a session with the KCP server at <paramref name="address"/> ("host:port",
        /// "[v6]:port"), conversation <paramref name="conv"/> (0..4294967295, or
        /// <see cref="RandomConv"/>), with the tuning of <paramref name="kcp"/> and the socket options
        /// of <paramref name="options"/>. Nothing is sent before the first message.</summary>
        public static unsafe KcpSession Connect(string address, long conv = RandomConv, KcpConfig kcp = null, SocketOptions options = null)
        {
            byte[] a = Utf8.Encode(address, "address");
            long o = options == null ? 0 : Connection.Opt(options);
            long h;
            fixed (byte* p = a)
                Utf8.Check(Native.ls_kcp_connect(p, conv, KcpConfig.IdOf(kcp), o, &h));
            return new KcpSession(h);
        }

        /// <summary>Sends <paramref name="data"/> as one message (stream mode: bytes), waiting up to
        /// <paramref name="timeoutMs"/> while too much is unacknowledged (twice the send window;
        /// <see cref="LibsockTimeoutException"/> then, and nothing was queued). An empty message is
        /// <see cref="InvalidArgumentException"/>; one above 127 fragments of the MTU
        /// <see cref="FrameTooLargeException"/>; a peer that stopped acknowledging
        /// <see cref="ConnectionAbortedException"/>.</summary>
        public unsafe void Send(byte[] data, int timeoutMs = Timeouts.Default)
        {
            if (data == null) throw new InvalidArgumentException("invalid argument: data is null");
            long h = Acquire();
            try
            {
                fixed (byte* p = data) Fail(Native.ls_kcp_send(h, timeoutMs, data.Length == 0 ? null : p, Utf8.Size(data.Length)));
            }
            finally { Release(); }
        }

        [ThreadStatic] private static byte[] _buffer;

        /// <summary>The next message (stream mode: the bytes that arrived), waiting up to
        /// <paramref name="timeoutMs"/>; <see cref="LibsockTimeoutException"/> when none came (nothing
        /// is lost). Messages of any size are taken whole.</summary>
        public unsafe byte[] Recv(int timeoutMs = Timeouts.Default)
        {
            byte[] buf = _buffer ?? (_buffer = new byte[64 * 1024]);
            long h = Acquire();
            try
            {
                int wait = timeoutMs;
                while (true)
                {
                    UIntPtr n;
                    int rc;
                    fixed (byte* p = buf) rc = Native.ls_kcp_recv(h, wait, p, Utf8.Size(buf.Length), &n);
                    if (rc == ErrorCodes.BUFFER_TOO_SMALL)
                    {
                        // The message stayed: take it with a bigger buffer, at once.
                        buf = new byte[Utf8.Long(n)];
                        if (buf.Length <= 1024 * 1024) _buffer = buf;
                        wait = 0;
                        continue;
                    }
                    Fail(rc);
                    var r = new byte[Utf8.Long(n)];
                    Buffer.BlockCopy(buf, 0, r, 0, r.Length);
                    return r;
                }
            }
            finally { Release(); }
        }

        /// <summary>Receives one message without blocking the caller: the wait runs on its own
        /// thread in slices of 100 ms, so <paramref name="cancellationToken"/> ends it
        /// (TaskCanceledException) without losing a message.</summary>
        public Task<byte[]> RecvAsync(CancellationToken cancellationToken = default(CancellationToken)) =>
            Connection.Sliced(ms => Recv(ms), cancellationToken);

        /// <summary>Waits up to <paramref name="timeoutMs"/> until everything sent is acknowledged
        /// (<see cref="LibsockTimeoutException"/> when it was not).</summary>
        public void Flush(int timeoutMs = Timeouts.Default) => Call(h => Native.ls_kcp_flush(h, timeoutMs));

        /// <summary>Runs the protocol for <paramref name="timeoutMs"/> (0 or more: it always returns
        /// after its time) without taking messages: acknowledges, retransmits, reads the socket.
        /// True when a message is ready for <see cref="Recv"/>.</summary>
        public unsafe bool Poll(int timeoutMs)
        {
            long h = Acquire();
            try
            {
                UIntPtr ready;
                Fail(Native.ls_kcp_poll(h, timeoutMs, &ready));
                return Utf8.Long(ready) != 0;
            }
            finally { Release(); }
        }

        /// <summary>The conversation id.</summary>
        public unsafe long Conv
        {
            get
            {
                long h = Acquire();
                try
                {
                    long c;
                    Fail(Native.ls_kcp_conv(h, &c));
                    return c;
                }
                finally { Release(); }
            }
        }

        /// <summary>The default timeout in milliseconds of the calls given <see cref="Timeouts.Default"/>
        /// (-1 forever, the initial value).</summary>
        public unsafe int Timeout
        {
            get
            {
                long h = Acquire();
                try
                {
                    int v;
                    Fail(Native.ls_get_timeout(h, &v));
                    return v;
                }
                finally { Release(); }
            }
            set => Call(h => Native.ls_set_timeout(h, value));
        }

        /// <summary>One counter: <see cref="KcpStat"/>; <see cref="UnsupportedException"/> for one a
        /// session does not keep.</summary>
        public unsafe long Stat(KcpStat stat) => Counter((int)stat);

        /// <summary>Every counter of the session (messages and bytes in and out, datagrams,
        /// retransmits, waiting segments, the smoothed round-trip time).</summary>
        public KcpStats Stats() => KcpStats.Read(s =>
        {
            try { return Counter(s); }
            catch (UnsupportedException) { return -1; }
        });

        private unsafe long Counter(int stat)
        {
            long h = Acquire();
            try
            {
                long v;
                Fail(Native.ls_engine_stats(h, stat, &v));
                return v;
            }
            finally { Release(); }
        }

        /// <summary>The local address as text.</summary>
        public string LocalAddress => Address(true);

        /// <summary>The server's address as text.</summary>
        public string PeerAddress => Address(false);

        private unsafe string Address(bool local)
        {
            long h = Acquire();
            try
            {
                byte* buf = stackalloc byte[256];
                UIntPtr len;
                Fail(local ? Native.ls_local_address(h, buf, (UIntPtr)256, &len) : Native.ls_peer_address(h, buf, (UIntPtr)256, &len));
                return Utf8.Decode(buf, Utf8.Long(len));
            }
            finally { Release(); }
        }
    }
}
