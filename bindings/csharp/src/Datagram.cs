// Datagram sockets (UDP or Unix datagram): send_to / recv_from, batches with recvmmsg, connected
// datagram sockets, multicast.
using System;
using System.Collections.Generic;

namespace Libsock
{
    /// <summary>A datagram received by <see cref="Datagram.RecvFrom"/> or <see cref="Datagram.RecvMany"/>.</summary>
    public sealed class ReceivedDatagram
    {
        /// <summary>The bytes (cut to the buffer when <see cref="Truncated"/>).</summary>
        public byte[] Data { get; }

        /// <summary>The sender's address as text ("127.0.0.1:5000").</summary>
        public string Peer { get; }

        /// <summary>True when the datagram was larger than the buffer (its tail is lost, as with recvfrom).</summary>
        public bool Truncated { get; }

        /// <summary>A received datagram.</summary>
        public ReceivedDatagram(byte[] data, string peer, bool truncated)
        {
            Data = data; Peer = peer; Truncated = truncated;
        }

        /// <summary>"N bytes from PEER".</summary>
        public override string ToString() => $"{Data.Length} bytes from {Peer}{(Truncated ? " (truncated)" : "")}";
    }

    /// <summary>A datagram socket: <see cref="Bind"/> for send_to / recv_from, <see cref="Connect"/>
    /// for one peer (<see cref="Send"/> / <see cref="Recv"/>).</summary>
    public sealed class Datagram : SocketBase
    {
        private Datagram(long id) : base(id) { }

        /// <summary>Opens a UDP socket bound to <paramref name="address"/> ("0.0.0.0:5000",
        /// "127.0.0.1:0", "[::]:0") or a Unix datagram socket ("unix:/path"); options (e.g.
        /// REUSE_ADDRESS for a multicast receiver) are applied before binding.</summary>
        public static unsafe Datagram Bind(string address, SocketOptions options = null)
        {
            byte[] a = Utf8.Encode(address, "address");
            long h;
            int rc;
            fixed (byte* p = a)
                rc = options == null ? Native.ls_udp_bind(p, &h) : Native.ls_udp_bind_ex(p, Connection.Opt(options), &h);
            Utf8.Check(rc);
            return new Datagram(h);
        }

        /// <summary>Opens a datagram socket connected to <paramref name="address"/>: it talks to that peer only.</summary>
        public static unsafe Datagram Connect(string address, SocketOptions options = null)
        {
            byte[] a = Utf8.Encode(address, "address");
            long h;
            int rc;
            fixed (byte* p = a)
                rc = options == null ? Native.ls_udp_connect(p, &h) : Native.ls_udp_connect_ex(p, Connection.Opt(options), &h);
            Utf8.Check(rc);
            return new Datagram(h);
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
                    Fail(Native.ls_send_to(h, data.Length == 0 ? null : d, Utf8.Size(data.Length), p));
            }
            finally { Release(); }
        }

        /// <summary>Receives one datagram of at most <paramref name="maxBytes"/> bytes, with its
        /// sender; a longer one is cut and reported as <see cref="ReceivedDatagram.Truncated"/>.</summary>
        public unsafe ReceivedDatagram RecvFrom(int maxBytes = 65536, int timeoutMs = Timeouts.Default)
        {
            if (maxBytes <= 0) throw new InvalidArgumentException($"invalid argument: maxBytes {maxBytes} must be positive");
            var buf = new byte[maxBytes];
            long h = Acquire();
            try
            {
                byte* peer = stackalloc byte[256];
                UIntPtr n, pn;
                int trunc;
                fixed (byte* p = buf)
                    Fail(Native.ls_recv_from(h, timeoutMs, p, Utf8.Size(maxBytes), &n, peer, (UIntPtr)256, &pn, &trunc));
                var data = new byte[Utf8.Long(n)];
                Buffer.BlockCopy(buf, 0, data, 0, data.Length);
                return new ReceivedDatagram(data, Utf8.Decode(peer, Utf8.Long(pn)), trunc != 0);
            }
            finally { Release(); }
        }

        /// <summary>Receives up to <paramref name="count"/> datagrams with one recvmmsg(2) call,
        /// waiting only for the first; each at most <paramref name="slotSize"/> bytes.</summary>
        public unsafe List<ReceivedDatagram> RecvMany(int count, int slotSize = 65536, int timeoutMs = Timeouts.Default)
        {
            if (count <= 0) throw new InvalidArgumentException($"invalid argument: count {count} must be positive");
            if (slotSize <= 0) throw new InvalidArgumentException($"invalid argument: slotSize {slotSize} must be positive");
            var buf = new byte[(long)count * slotSize];
            var lens = new UIntPtr[count];
            var trunc = new int[count];
            var peers = new byte[count * 256];
            long h = Acquire();
            try
            {
                UIntPtr got;
                fixed (byte* p = buf)
                fixed (UIntPtr* l = lens)
                fixed (int* t = trunc)
                fixed (byte* pp = peers)
                {
                    Fail(Native.ls_recv_many(h, timeoutMs, p, Utf8.Size(slotSize), Utf8.Size(count), l, t, pp, &got));
                    var r = new List<ReceivedDatagram>();
                    for (int i = 0; i < (int)Utf8.Long(got); i++)
                    {
                        var d = new byte[Utf8.Long(lens[i])];
                        Buffer.BlockCopy(buf, i * slotSize, d, 0, d.Length);
                        byte* s = pp + i * 256;
                        int k = 0;
                        while (k < 256 && s[k] != 0) k++;
                        r.Add(new ReceivedDatagram(d, Utf8.Decode(s, k), t[i] != 0));
                    }
                    return r;
                }
            }
            finally { Release(); }
        }

        /// <summary>Sends one datagram to the connected peer.</summary>
        public unsafe void Send(byte[] data)
        {
            if (data == null) throw new InvalidArgumentException("invalid argument: data is null");
            long h = Acquire();
            try
            {
                UIntPtr sent;
                fixed (byte* d = data) Fail(Native.ls_send(h, data.Length == 0 ? null : d, Utf8.Size(data.Length), &sent));
            }
            finally { Release(); }
        }

        /// <summary>Receives one datagram from the connected peer (cut silently to
        /// <paramref name="maxBytes"/>: use <see cref="RecvFrom"/> to learn about truncation).</summary>
        public unsafe byte[] Recv(int maxBytes = 65536, int timeoutMs = Timeouts.Default)
        {
            if (maxBytes <= 0) throw new InvalidArgumentException($"invalid argument: maxBytes {maxBytes} must be positive");
            var buf = new byte[maxBytes];
            long h = Acquire();
            try
            {
                UIntPtr n;
                fixed (byte* p = buf) Fail(Native.ls_recv(h, timeoutMs, p, Utf8.Size(maxBytes), &n));
                var r = new byte[Utf8.Long(n)];
                Buffer.BlockCopy(buf, 0, r, 0, r.Length);
                return r;
            }
            finally { Release(); }
        }

        /// <summary>The connected peer's address.</summary>
        public string PeerAddress => Address(false);

        /// <summary>Joins multicast group <paramref name="group"/> ("239.1.2.3", "ff02::1234") on
        /// <paramref name="iface"/>: null or "" the default, an IPv4 interface address or an IPv6 index.</summary>
        public void JoinMulticast(string group, string iface = null) => Multicast(group, iface, true);

        /// <summary>Leaves a group joined with <see cref="JoinMulticast"/>.</summary>
        public void LeaveMulticast(string group, string iface = null) => Multicast(group, iface, false);

        /// <summary>Sends this socket's multicast datagrams out of <paramref name="iface"/>: null or ""
        /// the OS's choice, an IPv4 interface address ("127.0.0.1") or an IPv6 interface index ("1")
        /// (IP_MULTICAST_IF / IPV6_MULTICAST_IF). A malformed interface is
        /// <see cref="InvalidArgumentException"/>; one this host does not have
        /// <see cref="AddrNotAvailableException"/>.</summary>
        public unsafe void SetMulticastInterface(string iface)
        {
            byte[] i = Utf8.Encode(iface ?? "", "interface");
            long h = Acquire();
            try
            {
                fixed (byte* ip = i) Fail(Native.ls_set_multicast_interface(h, ip));
            }
            finally { Release(); }
        }

        private unsafe void Multicast(string group, string iface, bool join)
        {
            byte[] g = Utf8.Encode(group, "group");
            byte[] i = Utf8.Encode(iface ?? "", "interface");
            long h = Acquire();
            try
            {
                fixed (byte* gp = g)
                fixed (byte* ip = i)
                    Fail(join ? Native.ls_join_multicast(h, gp, ip) : Native.ls_leave_multicast(h, gp, ip));
            }
            finally { Release(); }
        }
    }
}
