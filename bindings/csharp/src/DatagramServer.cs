// The engine's datagram server: UDP datagrams arrive as events.
using System;

namespace Libsock
{
    /// <summary>A UDP socket run by the engine (<see cref="Bind"/>): datagrams arrive as DATAGRAM
    /// events (<see cref="NextDatagram"/> also gives the sender); reply with <see cref="SendTo"/>, or
    /// <see cref="Connect"/> to one peer and <see cref="Send"/> to it.</summary>
    public sealed class DatagramServer : EngineObject
    {
        private DatagramServer(long id) : base(id) { }

        /// <summary>Binds to <paramref name="address"/> ("0.0.0.0:5000", "127.0.0.1:0") with
        /// <paramref name="config"/> (MAX_DATAGRAM, EVENT_CAPACITY and socket options apply).</summary>
        public static unsafe DatagramServer Bind(string address, EngineConfig config = null)
        {
            byte[] a = Utf8.Encode(address, "address");
            long h;
            fixed (byte* p = a) Utf8.Check(Native.ls_dgram_server_bind(p, EngineConfig.IdOf(config), &h));
            return new DatagramServer(h);
        }

        /// <summary>Sends one datagram to <paramref name="address"/> (data first, address last).</summary>
        public unsafe void SendTo(byte[] data, string address)
        {
            if (data == null) throw new InvalidArgumentException("invalid argument: data is null");
            byte[] a = Utf8.Encode(address, "address");
            long h = Acquire();
            try
            {
                fixed (byte* d = data)
                fixed (byte* p = a)
                    Fail(Native.ls_dgram_server_send_to(h, data.Length == 0 ? null : d, Utf8.Size(data.Length), p));
            }
            finally { Release(); }
        }

        /// <summary>Connects this datagram server to one peer, <paramref name="address"/> ("ip:port",
        /// "[v6]:port", "host:port"; nothing is sent). From then on only that peer's datagrams are
        /// received, <see cref="Send"/> sends to it without naming it (the kernel keeps its route: the
        /// cheapest send, for a client of one server), and an ICMP error for it (nothing listens there)
        /// makes the next send (or the next <see cref="NextDatagram"/> that finds nothing queued) throw <see cref="ConnectionRefusedException"/>. <see cref="SendTo"/> still
        /// sends anywhere; connecting again moves to another peer.</summary>
        public unsafe void Connect(string address)
        {
            byte[] a = Utf8.Encode(address, "address");
            long h = Acquire();
            try
            {
                fixed (byte* p = a) Fail(Native.ls_dgram_server_connect(h, p));
            }
            finally { Release(); }
        }

        /// <summary>Sends one datagram to the peer given to <see cref="Connect"/> (waits up to 5 s if the
        /// socket's send buffer is full); <see cref="InvalidArgumentException"/> if this datagram server
        /// was never connected.</summary>
        public unsafe void Send(byte[] data)
        {
            if (data == null) throw new InvalidArgumentException("invalid argument: data is null");
            long h = Acquire();
            try
            {
                fixed (byte* d = data) Fail(Native.ls_dgram_server_send(h, data.Length == 0 ? null : d, Utf8.Size(data.Length)));
            }
            finally { Release(); }
        }

        /// <summary>The next DATAGRAM event with its sender in <see cref="Event.Peer"/> (or the final
        /// CLOSED); null when none came within <paramref name="timeoutMs"/>.</summary>
        public unsafe Event NextDatagram(int timeoutMs = Timeouts.Forever)
        {
            var buf = new byte[65536];
            long h = Acquire();
            try
            {
                byte* peer = stackalloc byte[256];
                int kind;
                UIntPtr len, plen;
                int rc;
                fixed (byte* p = buf) rc = Native.ls_next_datagram(h, timeoutMs, &kind, p, Utf8.Size(buf.Length), &len, peer, (UIntPtr)256, &plen);
                if (rc == ErrorCodes.TIMEOUT) return null;
                Fail(rc);
                var data = new byte[Utf8.Long(len)];
                Buffer.BlockCopy(buf, 0, data, 0, data.Length);
                return new Event((EventKind)kind, 0, 0, data, kind == (int)EventKind.DATAGRAM ? Utf8.Decode(peer, Utf8.Long(plen)) : null);
            }
            finally { Release(); }
        }
    }
}
