// Options applied before bind or connect (ls_options_new + ls_set_option +
// ls_options_set_local_address, passed to the *_ex calls).
using System;

namespace Libsock
{
    /// <summary>Socket options applied before binding or connecting (SO_REUSEADDR for a multicast
    /// receiver, buffer sizes that size the TCP window, a local address to connect from). Pass it to
    /// <see cref="Connection.Connect(string, int, SocketOptions, Framing)"/>, <see cref="Listener.Listen"/>,
    /// <see cref="Datagram.Bind"/> or <see cref="Datagram.Connect"/>; it may be reused.</summary>
    public sealed class SocketOptions : LibsockObject
    {
        private SocketOptions(long id) : base(id) { }

        /// <summary>An empty set of options.</summary>
        public unsafe SocketOptions() : this(New()) { }

        private static unsafe long New()
        {
            long h;
            Utf8.Check(Native.ls_options_new(&h));
            return h;
        }

        /// <summary>Records option <paramref name="option"/> = <paramref name="value"/> (booleans 0/1);
        /// returns this object for chaining.</summary>
        public SocketOptions Set(SockOpt option, long value)
        {
            Call(h => Native.ls_set_option(h, (int)option, value));
            return this;
        }

        /// <summary>Records a boolean option; returns this object.</summary>
        public SocketOptions Set(SockOpt option, bool value) => Set(option, value ? 1 : 0);

        /// <summary>The value recorded for <paramref name="option"/> (InvalidArgumentException if none was).</summary>
        public unsafe long Get(SockOpt option)
        {
            long h = Acquire();
            try
            {
                long v;
                Fail(Native.ls_get_option(h, (int)option, &v));
                return v;
            }
            finally { Release(); }
        }

        /// <summary>Binds the socket to this local address ("ip:port"; port 0 = any) before connecting.</summary>
        public unsafe SocketOptions SetLocalAddress(string address)
        {
            byte[] a = Utf8.Encode(address, "address");
            long h = Acquire();
            try
            {
                fixed (byte* p = a) Fail(Native.ls_options_set_local_address(h, p));
            }
            finally { Release(); }
            return this;
        }

        /// <summary>Attaches TLS settings (null detaches): a client config makes
        /// <see cref="Connection.Connect(string, int, SocketOptions, Framing)"/> speak TLS (the handshake
        /// completes before it returns), a server config makes <see cref="Listener.Listen"/>'s listener
        /// accept TLS clients only. Later changes to <paramref name="tls"/> apply to later connections;
        /// disposing it does not detach it. The settings are checked as a whole at each connect or
        /// listen (<see cref="InvalidArgumentException"/> there). Datagram sockets refuse options with
        /// TLS. Returns this object.</summary>
        public SocketOptions SetTls(TlsConfig tls)
        {
            long t = TlsConfig.IdOf(tls);
            Call(h => Native.ls_options_set_tls(h, t));
            GC.KeepAlive(tls);
            return this;
        }

        /// <summary>Connects through a proxy: <paramref name="url"/> is
        /// "socks5://[user:password@]host[:port]" (socks5h:// the same; default port 1080) or
        /// "http://[user:password@]host[:port]" (HTTP CONNECT; default port 80), IPv6 hosts in
        /// brackets, "%XX" escapes in the user name and password; null or "" removes it. The URL is
        /// checked here (<see cref="InvalidArgumentException"/> naming what is wrong, never showing the
        /// password). <see cref="Connection.Connect(string, int, SocketOptions, Framing)"/> then asks
        /// the proxy for its address (the proxy resolves a host name); the timeout covers reaching
        /// the proxy and the exchange, TLS runs end to end with the target, and a refusal is the
        /// error of the proxy's reply (<see cref="ConnectionRefusedException"/> ..., its message saying
        /// what the proxy answered). <see cref="Connection.PeerAddress"/> is the proxy's address.
        /// Listeners, datagram sockets and Unix addresses refuse options with a proxy. Returns this
        /// object.</summary>
        public unsafe SocketOptions SetProxy(string url)
        {
            byte[] u = Utf8.Encode(url ?? "", "url");
            long h = Acquire();
            try
            {
                fixed (byte* p = u) Fail(Native.ls_options_set_proxy(h, p));
            }
            finally { Release(); }
            return this;
        }

        internal static long IdOf(SocketOptions o) => o == null ? 0 : o.Handle;
    }
}
