// What connections, listeners and datagram sockets share: options, the default timeout, the
// local address, the framing, bytes available.
using System;

namespace Libsock
{
    /// <summary>The base of <see cref="Connection"/>, <see cref="Listener"/> and <see cref="Datagram"/>:
    /// socket options read back from the OS, the default timeout, addresses and framing.</summary>
    public abstract class SocketBase : LibsockObject
    {
        /// <summary>Wraps a handle just returned by libsock.</summary>
        protected SocketBase(long id) : base(id) { }

        /// <summary>Sets socket option <paramref name="option"/> (booleans 0/1).</summary>
        public void SetOption(SockOpt option, long value) => Call(h => Native.ls_set_option(h, (int)option, value));

        /// <summary>Sets a boolean socket option.</summary>
        public void SetOption(SockOpt option, bool value) => SetOption(option, value ? 1 : 0);

        /// <summary>Reads socket option <paramref name="option"/> back from the OS (Linux doubles buffer sizes).</summary>
        public unsafe long GetOption(SockOpt option)
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

        /// <summary>Sets the default timeout in milliseconds of the calls given
        /// <see cref="Timeouts.Default"/> and of every send: -1 forever (the initial value), 0 poll, N ms.</summary>
        public void SetTimeout(int timeoutMs) => Call(h => Native.ls_set_timeout(h, timeoutMs));

        /// <summary>The default timeout in milliseconds (-1 = forever).</summary>
        public unsafe int GetTimeout()
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

        /// <summary>The default timeout in milliseconds, as a property (<see cref="GetTimeout"/> /
        /// <see cref="SetTimeout"/>).</summary>
        public int Timeout
        {
            get => GetTimeout();
            set => SetTimeout(value);
        }

        /// <summary>Sets the framing of <see cref="Connection.SendMsg(byte[])"/> and
        /// <see cref="Connection.RecvMsg(int)"/>; on a listener, the framing of accepted connections.</summary>
        public void SetFraming(Framing framing)
        {
            if (framing == null) throw new InvalidArgumentException("invalid argument: framing is null");
            Call(h => framing.Apply(h));
        }

        /// <summary>The local address as text ("127.0.0.1:5000", "[::1]:5000", "unix:/path").</summary>
        public string LocalAddress => Address(true);

        /// <summary>The local port (0 for Unix sockets): the real port of a socket bound to port 0.</summary>
        public unsafe int LocalPort
        {
            get
            {
                long h = Acquire();
                try
                {
                    int p;
                    Fail(Native.ls_local_port(h, &p));
                    return p;
                }
                finally { Release(); }
            }
        }

        /// <summary>Bytes that can be read now without waiting (datagram sockets: the size of the next datagram).</summary>
        public unsafe long BytesAvailable
        {
            get
            {
                long h = Acquire();
                try
                {
                    UIntPtr n;
                    Fail(Native.ls_bytes_available(h, &n));
                    return Utf8.Long(n);
                }
                finally { Release(); }
            }
        }

        /// <summary>The local (true) or peer (false) address.</summary>
        internal unsafe string Address(bool local)
        {
            long h = Acquire();
            try
            {
                byte* buf = stackalloc byte[256];
                UIntPtr len;
                int rc = local ? Native.ls_local_address(h, buf, (UIntPtr)256, &len)
                               : Native.ls_peer_address(h, buf, (UIntPtr)256, &len);
                Fail(rc);
                return Utf8.Decode(buf, Utf8.Long(len));
            }
            finally { Release(); }
        }
    }
}
