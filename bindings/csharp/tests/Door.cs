// What the C# door adds beyond the scenarios: one exception class per code with the names of
// docs/NAMES.md, UTF-8 both ways, disposal and finalization, the framing presets, datagram
// batches and multicast, the engine's commands and statistics, and the Task wrappers.
using System;
using System.Collections.Generic;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;

namespace Libsock.Tests
{
    /// <summary>Direct calls into libsock for the tests (the library's own Native class is internal).</summary>
    internal static unsafe class NativeAccess
    {
        [DllImport("libsock", EntryPoint = "ls_recv")]
        private static extern int ls_recv(long h, int timeout, byte* buf, UIntPtr cap, UIntPtr* len);

        [DllImport("libsock", EntryPoint = "ls_last_error")]
        private static extern IntPtr ls_last_error();

        internal static int Recv(long h, byte* buf, int cap, UIntPtr* len) => ls_recv(h, 0, buf, (UIntPtr)cap, len);

        internal static string LastError() => Marshal.PtrToStringAnsi(ls_last_error()); // ASCII here
    }

    /// <summary>Tests of the C# door itself.</summary>
    public static class Door
    {
        /// <summary>Adds the door's tests to the run.</summary>
        public static void Register(List<KeyValuePair<string, Action>> t)
        {
            t.Add(new KeyValuePair<string, Action>("errors_one_class_per_code", ErrorClasses));
            t.Add(new KeyValuePair<string, Action>("error_message_is_cores", ErrorMessage));
            t.Add(new KeyValuePair<string, Action>("strings_utf8_both_ways", Strings));
            t.Add(new KeyValuePair<string, Action>("dispose_and_finalizer", DisposeAndFinalizer));
            t.Add(new KeyValuePair<string, Action>("framing_presets", Framings));
            t.Add(new KeyValuePair<string, Action>("recv_until_and_bytes_available", RecvUntil));
            t.Add(new KeyValuePair<string, Action>("send_file_recv_file", Files));
            t.Add(new KeyValuePair<string, Action>("socket_options_object", OptionsObject));
            t.Add(new KeyValuePair<string, Action>("datagram_recv_many_connected_multicast", Datagrams));
            t.Add(new KeyValuePair<string, Action>("engine_config_keys_and_stats", EngineConfigAndStats));
            t.Add(new KeyValuePair<string, Action>("engine_server_commands", ServerCommands));
            t.Add(new KeyValuePair<string, Action>("engine_large_message_and_notify_fd", LargeEvent));
            t.Add(new KeyValuePair<string, Action>("engine_datagram_server_system_net_peer", DatagramServerPeer));
            t.Add(new KeyValuePair<string, Action>("engine_datagram_server_connect_and_send", DatagramServerConnect));
            t.Add(new KeyValuePair<string, Action>("engine_config_checked_by_core", EngineConfigChecked));
            t.Add(new KeyValuePair<string, Action>("async_wrappers", Async));
            t.Add(new KeyValuePair<string, Action>("system_net_client_to_libsock_listener", SystemNetClient));
            t.Add(new KeyValuePair<string, Action>("every_method_of_a_closed_object", EveryMethodClosed));
            t.Add(new KeyValuePair<string, Action>("unix_sockets_and_ipv6", UnixAndIpv6));
        }

        static readonly string[] Words =
        {
            "TIMEOUT", "CONNECTION_REFUSED", "CONNECTION_RESET", "CONNECTION_ABORTED", "CLOSED", "ADDR_IN_USE",
            "ADDR_NOT_AVAILABLE", "UNREACHABLE", "RESOLVE", "INVALID_ARGUMENT", "FRAME_TOO_LARGE", "BUFFER_TOO_SMALL",
            "BAD_HANDLE", "QUEUE_FULL", "UNSUPPORTED", "TLS", "IO", "INTERNAL", "INTERRUPTED", "BAD_FRAME",
        };

        static string Camel(string w)
        {
            var parts = w.Split('_');
            for (int i = 0; i < parts.Length; i++) parts[i] = parts[i].Substring(0, 1) + parts[i].Substring(1).ToLowerInvariant();
            return string.Join("", parts);
        }

        static void ErrorClasses()
        {
            var seen = new HashSet<Type>();
            for (int i = 0; i < Words.Length; i++)
            {
                int code = -(i + 1);
                T.Equal(Words[i], ErrorCodes.Name(code), $"ls_error_name({code})");
                LibsockException e = LibsockException.FromCode(code, "m");
                string want = Words[i] == "TIMEOUT" ? "LibsockTimeoutException" : Camel(Words[i]) + "Exception";
                T.Equal(want, e.GetType().Name, $"class of {Words[i]}");
                T.Equal(code, e.Code, "Code");
                T.Equal(Words[i], e.Name, "Name");
                T.Check(seen.Add(e.GetType()), "two codes share a class");
                var f = typeof(ErrorCodes).GetField(Words[i]);
                T.Check(f != null && (int)f.GetValue(null) == code, $"ErrorCodes.{Words[i]}");
            }
            T.Equal("UNKNOWN", ErrorCodes.Name(-999), "an unknown code");
            T.Equal("operation timed out", ErrorCodes.Describe(ErrorCodes.TIMEOUT), "ls_strerror");
            T.Equal(-999, LibsockException.FromCode(-999, "x").Code, "unknown codes still make a LibsockException");
        }

        static void ErrorMessage()
        {
            var e = T.Throws<InvalidArgumentException>(() => Connection.Connect("256.1.1.1:80", 1000), "a bad address");
            T.Check(e.Message.StartsWith("invalid argument: "), $"core's text: {e.Message}");
            T.Check(!e.Message.Contains("ls_tcp_connect"), "no function name in front");
            // The message is per thread: another thread's failure does not leak into ours.
            Thread other = T.Start(() => T.Throws<LibsockTimeoutException>(() => Listener.Listen("127.0.0.1:0").Accept(0), "poll"), "other");
            T.Join(other);
            var e2 = T.Throws<ResolveException>(() => Connection.Connect("no-such-host.invalid:80", 5000), "resolve");
            T.Check(e2.Message.Contains("no-such-host.invalid"), e2.Message);
        }

        static void Strings()
        {
            // Text messages in UTF-8 both ways.
            using (var l = Listener.Listen("127.0.0.1:0", framing: Framing.Lines()))
            using (var c = Connection.Connect(l.LocalAddress, 5000, framing: Framing.Lines()))
            using (var a = l.Accept(5000))
            {
                const string text = "grüße, 世界, ✓ and 🙂";
                c.SendMsg(text);
                T.Equal(text, a.RecvMsgString(5000), "non-ASCII text round trip");
                // Bytes that are not UTF-8 arrive as bytes, and decode with U+FFFD, no crash.
                c.SendMsg(new byte[] { 0x61, 0xff, 0xfe, 0x62 });
                byte[] raw = a.RecvMsg(5000);
                T.Bytes(new byte[] { 0x61, 0xff, 0xfe, 0x62 }, raw, "raw bytes");
                T.Check(Utf8Decode(raw).Contains("\uFFFD"), "invalid UTF-8 decodes with replacement characters");
                // recv_until with a text delimiter that is not ASCII.
                c.SetFraming(Framing.Raw());
                c.SendAll("a→b→");
                T.Equal("a→", a.RecvUntil("→", 64, 5000), "text delimiter");
            }
            var s1 = T.Throws<InvalidArgumentException>(() => Connection.Connect("127.0.0.1:80\uD800", 100), "a lone surrogate");
            T.Check(s1.Message.Contains("lone UTF-16 surrogate 0xd800"), s1.Message);
            var s2 = T.Throws<InvalidArgumentException>(() => Listener.Listen("127.0.0.1\0:0"), "an embedded NUL");
            T.Check(s2.Message.Contains("NUL"), s2.Message);
            T.Throws<InvalidArgumentException>(() => Framing.Delimited("\uDC00"), "a lone surrogate delimiter");
            T.Throws<InvalidArgumentException>(() => Datagram.Bind(null), "a null address");
            // A host name that is not ASCII: a clear resolve or argument error, no crash.
            T.Throws<LibsockException>(() => Connection.Connect("bücher.invalid:80", 2000), "an IDN host");
        }

        static string Utf8Decode(byte[] b) => new System.Text.UTF8Encoding(false, false).GetString(b);

        static void DisposeAndFinalizer()
        {
            // A connection that is never disposed is closed by its SafeHandle's finalizer: the
            // System.Net peer then reads the end of the stream.
            var l = new TcpListener(IPAddress.Loopback, 0);
            l.Start();
            int port = ((IPEndPoint)l.LocalEndpoint).Port;
            Leak(port);
            using (Socket s = l.AcceptSocket())
            {
                s.ReceiveTimeout = 1000;
                int n = -1;
                for (int i = 0; i < 20 && n != 0; i++)
                {
                    GC.Collect();
                    GC.WaitForPendingFinalizers();
                    try { n = s.Receive(new byte[16]); }
                    catch (SocketException) { }
                }
                T.Equal(0, n, "the finalizer closed the leaked connection");
            }
            l.Stop();
            // using: closed at the end of the block; closed objects say so.
            Listener kept;
            using (kept = Listener.Listen("127.0.0.1:0")) T.Check(!kept.IsClosed, "open inside using");
            T.Check(kept.IsClosed, "closed after using");
            var e = T.Throws<ObjectDisposedException>(() => kept.Accept(0), "accept after dispose");
            T.Check(e.Message.Contains("closed"), e.Message);
            kept.Dispose(); // twice is harmless
            var cfg = new EngineConfig();
            cfg.Close();
            T.Throws<ObjectDisposedException>(() => Server.Listen("127.0.0.1:0", cfg), "a closed config");
        }

        static void Leak(int port)
        {
            var c = Connection.Connect("127.0.0.1:" + port, 5000);
            T.Check(c.Handle > 0, "a handle");
        }

        static void Framings()
        {
            Action<Framing, byte[][]> roundTrip = (f, msgs) =>
            {
                using (var l = Listener.Listen("127.0.0.1:0", framing: f))
                using (var c = Connection.Connect(l.LocalAddress, 5000, framing: f))
                using (var a = l.Accept(5000))
                {
                    foreach (var m in msgs) c.SendMsg(m);
                    foreach (var m in msgs) T.Bytes(m, a.RecvMsg(5000), f.ToString());
                }
            };
            roundTrip(Framing.LengthPrefixed(2, false), new[] { T.B("a"), new byte[0], new byte[65535] });
            roundTrip(Framing.LengthPrefixed(8), new[] { T.B("eight"), T.B("bytes") });
            roundTrip(Framing.LengthPrefixed(1, true, 1000), new[] { new byte[255] });
            roundTrip(Framing.Fixed(3), new[] { T.B("abc"), T.B("def") });
            roundTrip(Framing.HpPack(7), new[] { T.B("hp"), T.B("pack") });
            roundTrip(Framing.CrLf(), new[] { T.B("one"), T.B("two") });
            roundTrip(Framing.Delimited(new byte[] { 0 }, 100), new[] { T.B("nul-ended") });
            // A header with a type byte before a 2-byte length that counts the whole frame.
            roundTrip(Framing.LengthPrefixed(2, true, 1, 3, -3), new[] { T.B("with header") });
            // Wire format checked against a System.Net peer: 2-byte little-endian lengths.
            Thread peer = Scenarios.Peer(s =>
            {
                var b = new byte[5];
                Scenarios.ReadExact(s, b, 0, 5);
                if (b[0] != 3 || b[1] != 0) throw new TestFailure($"peer: header {b[0]} {b[1]}");
                s.Send(new byte[] { 2, 0, (byte)'o', (byte)'k' });
            }, out string address);
            using (var c = Connection.Connect(address, 5000, framing: Framing.LengthPrefixed(2, false)))
            {
                c.SendMsg(T.B("abc"));
                T.Equal("ok", c.RecvMsgString(5000), "little-endian reply");
            }
            T.Join(peer);
            T.Throws<InvalidArgumentException>(() => Listener.Listen("127.0.0.1:0", framing: Framing.LengthPrefixed(3)), "width 3");
            T.Throws<InvalidArgumentException>(() => Listener.Listen("127.0.0.1:0", framing: Framing.HpPack(1024)), "flag 1024");
            using (var l = Listener.Listen("127.0.0.1:0", framing: Framing.LengthPrefixed(4, true, 10)))
            using (var c = Connection.Connect(l.LocalAddress, 5000, framing: Framing.LengthPrefixed(4, true, 10)))
                T.Throws<FrameTooLargeException>(() => c.SendMsg(new byte[11]), "above max_len");
        }

        static void RecvUntil()
        {
            Thread peer = Scenarios.Peer(s => { s.Send(T.B("HEAD|body|tail")); s.Receive(new byte[1]); }, out string address);
            using (var c = Connection.Connect(address, 5000))
            {
                T.Equal("HEAD|", T.S(c.RecvUntil(T.B("|"), 64, 5000)), "up to the delimiter");
                double end = T.Now + 5000;
                while (c.BytesAvailable < 9 && T.Now < end) Thread.Sleep(10);
                T.Equal(9L, c.BytesAvailable, "bytes available");
                T.Throws<FrameTooLargeException>(() => c.RecvUntil(T.B("#"), 4, 1000), "no delimiter within 4 bytes");
                T.Equal("body|", T.S(c.RecvUntil(T.B("|"), 64, 5000)), "the bytes stayed buffered");
                T.Equal("tail", T.S(c.RecvExact(4, 5000)), "rest");
                c.SendAll(T.B("x"));
            }
            T.Join(peer);
        }

        static void Files()
        {
            string src = System.IO.Path.GetTempFileName(), dst = System.IO.Path.GetTempFileName();
            try
            {
                var data = new byte[200000];
                new Random(3).NextBytes(data);
                System.IO.File.WriteAllBytes(src, data);
                using (var l = Listener.Listen("127.0.0.1:0"))
                using (var c = Connection.Connect(l.LocalAddress, 5000))
                using (var a = l.Accept(5000))
                {
                    Thread w = T.Start(() => T.Equal(200000L, c.SendFile(src), "sent"), "send-file");
                    T.Equal(200000L, a.RecvFile(dst, 200000), "received");
                    T.Join(w);
                }
                T.Bytes(data, System.IO.File.ReadAllBytes(dst), "file copy");
            }
            finally
            {
                System.IO.File.Delete(src);
                System.IO.File.Delete(dst);
            }
        }

        static void OptionsObject()
        {
            using (var o = new SocketOptions().Set(SockOpt.REUSE_ADDRESS, true).Set(SockOpt.RECV_BUFFER_SIZE, 1 << 16))
            {
                T.Equal(1L, o.Get(SockOpt.REUSE_ADDRESS), "recorded");
                T.Throws<InvalidArgumentException>(() => o.Get(SockOpt.TTL), "not recorded");
                using (var l = Listener.Listen("127.0.0.1:0", 0, o))
                {
                    T.Equal(1L, l.GetOption(SockOpt.REUSE_ADDRESS), "applied before bind");
                    using (var from = new SocketOptions().SetLocalAddress("127.0.0.1:0").Set(SockOpt.NODELAY, 1))
                    using (var c = Connection.Connect(l.LocalAddress, 5000, from))
                    {
                        T.Equal(1L, c.GetOption(SockOpt.NODELAY), "nodelay applied");
                        using (var a = l.Accept(5000)) T.Equal(c.LocalAddress, a.PeerAddress, "addresses agree");
                    }
                }
            }
        }

        static void Datagrams()
        {
            using (var d = Datagram.Bind("127.0.0.1:0"))
            using (var peer = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0)))
            {
                for (int i = 0; i < 5; i++) peer.Send(T.B("dg" + i), 3, new IPEndPoint(IPAddress.Loopback, d.LocalPort));
                var got = new List<ReceivedDatagram>();
                double end = T.Now + 5000;
                while (got.Count < 5 && T.Now < end) got.AddRange(d.RecvMany(8, 1500, 1000));
                T.Equal(5, got.Count, "datagrams in batches");
                for (int i = 0; i < 5; i++) T.Equal("dg" + i, T.S(got[i].Data), "order");
                // A connected datagram socket talks to one peer.
                int peerPort = ((IPEndPoint)peer.Client.LocalEndPoint).Port;
                using (var cd = Datagram.Connect("127.0.0.1:" + peerPort))
                {
                    cd.Send(T.B("connected"));
                    IPEndPoint from = null;
                    peer.Client.ReceiveTimeout = 5000;
                    T.Equal("connected", T.S(peer.Receive(ref from)), "the peer got it");
                    peer.Send(T.B("back"), 4, from);
                    T.Equal("back", T.S(cd.Recv(100, 5000)), "reply");
                    T.Equal("127.0.0.1:" + peerPort, cd.PeerAddress, "peer address");
                }
            }
            using (var o = new SocketOptions().Set(SockOpt.REUSE_ADDRESS, 1))
            using (var m = Datagram.Bind("0.0.0.0:0", o))
            {
                m.SetOption(SockOpt.MULTICAST_LOOP, 1);
                m.SetOption(SockOpt.MULTICAST_TTL, 1);
                try
                {
                    m.JoinMulticast("239.255.77.77", "127.0.0.1");
                    m.LeaveMulticast("239.255.77.77", "127.0.0.1");
                }
                catch (LibsockException e) when (e is AddrNotAvailableException || e is UnreachableException ||
                                                 e is IoException || e is UnsupportedException)
                {
                    Console.WriteLine($"  (multicast join: {e.Message})"); // a sandbox without multicast routes
                }
                T.Throws<InvalidArgumentException>(() => m.JoinMulticast("ff02::1234", "127.0.0.1"), "an IPv6 group on an IPv4 interface");
                T.Throws<InvalidArgumentException>(() => m.JoinMulticast("not-a-group"), "not a group");
            }
        }

        static void EngineConfigAndStats()
        {
            using (var cfg = new EngineConfig())
            {
                T.Equal(4096L, cfg.Get(ConfigKey.EVENT_CAPACITY), "default event capacity");
                cfg.Set(ConfigKey.MAX_CLIENTS, 3).Set(ConfigKey.IDLE_MODE, (long)IdleMode.READS_AND_WRITES);
                T.Equal(3L, cfg.Get(ConfigKey.MAX_CLIENTS), "max clients");
                T.Equal(1L, cfg.Get(ConfigKey.IDLE_MODE), "idle mode");
                T.Throws<InvalidArgumentException>(() => cfg.Set(ConfigKey.SEND_POLICY, 2), "a policy that does not exist");
                T.Throws<InvalidArgumentException>(() => cfg.Set((ConfigKey)999, 1), "an unknown key");
                cfg.SetFraming(Framing.Lines()).SetOption(SockOpt.KEEPALIVE, 1);
                using (var s = Server.Listen("127.0.0.1:0", cfg))
                using (var c = Client.Connect(s.LocalAddress, cfg))
                {
                    T.Check(T.WaitKind(s, EventKind.CONNECTED) != null, "connected");
                    c.Send(T.B("line one"));
                    Event m = T.WaitKind(s, EventKind.MESSAGE);
                    T.Equal("line one", m?.Text, "lines framing from the config");
                    Stats st = s.Stats();
                    T.Equal(1L, st.Connections, "connections");
                    T.Equal(1L, st.MessagesIn, "messages in");
                    T.Check(st.BytesIn >= 9, "bytes in");
                    T.Equal(-1L, st.FailedAttempts, "a statistic the server does not keep");
                    T.Throws<UnsupportedException>(() => s.Stat(Stat.FAILED_ATTEMPTS), "Stat of one not kept");
                    T.Equal(1L, c.Stats().ConnectionsTotal, "client connections made");
                }
            }
        }

        static void ServerCommands()
        {
            using (var s = Server.Listen("127.0.0.1:0"))
            {
                var clients = new List<Client>();
                for (int i = 0; i < 3; i++) clients.Add(Client.Connect(s.LocalAddress));
                var ids = new List<ulong>();
                while (ids.Count < 3)
                {
                    Event e = T.WaitKind(s, EventKind.CONNECTED);
                    T.Check(e != null, "connected");
                    T.Check(e.Text.StartsWith("127.0.0.1:"), $"CONNECTED carries the peer address: {e.Text}");
                    T.Equal(e.Text, s.ClientAddress(e.Client), "ClientAddress");
                    ids.Add(e.Client);
                }
                ids.Sort();
                T.Equal(string.Join(",", ids), string.Join(",", s.Clients()), "Clients()");
                T.Equal(2, s.SendMany(new[] { ids[0], ids[1], 999UL }, T.B("some")), "SendMany skips unknown ids");
                T.Equal(2, s.Broadcast(T.B("all"), ids[2]), "Broadcast except one");
                T.Throws<ClosedException>(() => s.Send(999, T.B("x")), "send to an unknown client");
                s.Disconnect(ids[0], false);
                Event d = T.WaitKind(s, EventKind.DISCONNECTED);
                T.Check(d != null && d.Client == ids[0] && d.Reason == DisconnectReason.KICKED, $"kicked: {d}");
                T.Throws<ClosedException>(() => s.ClientAddress(ids[0]), "address of a gone client");
                T.Check(s.PendingEvents >= 0, "pending events");
                s.Shutdown(500);
                Event closed = T.WaitKind(s, EventKind.CLOSED);
                T.Check(closed != null, "the final CLOSED");
                T.Throws<ClosedException>(() => s.NextEvent(0), "pulling after CLOSED");
                foreach (var c in clients) { c.Close(100); c.Close(); }
            }
        }

        static void LargeEvent()
        {
            using (var cfg = new EngineConfig().SetFraming(Framing.LengthPrefixed(4, true, 8 << 20)))
            using (var s = Server.Listen("127.0.0.1:0", cfg))
            using (var c = Client.Connect(s.LocalAddress, cfg))
            {
                T.Check(s.NotifyFd > 0, "a notify descriptor");
                var big = new byte[3 << 20];
                new Random(11).NextBytes(big);
                c.Send(big);
                Event m = T.WaitKind(s, EventKind.MESSAGE, 20000);
                T.Check(m != null, "the large message arrived");
                T.Bytes(big, m.Data, "a 3 MiB event taken whole (the buffer grows)");
                var batch = s.Events(10, 0);
                T.Check(batch.Count == 0, "no more events");
            }
        }

        static void DatagramServerPeer()
        {
            using (var ds = DatagramServer.Bind("127.0.0.1:0"))
            using (var peer = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0)))
            {
                peer.Client.ReceiveTimeout = 5000;
                int peerPort = ((IPEndPoint)peer.Client.LocalEndPoint).Port;
                peer.Send(T.B("ping"), 4, new IPEndPoint(IPAddress.Loopback, ds.LocalPort));
                Event e = ds.NextDatagram(5000);
                T.Check(e != null && e.Kind == EventKind.DATAGRAM && e.Text == "ping", $"datagram event: {e}");
                T.Equal("127.0.0.1:" + peerPort, e.Peer, "sender");
                ds.SendTo(T.B("pong"), e.Peer);
                IPEndPoint from = null;
                T.Equal("pong", T.S(peer.Receive(ref from)), "reply");
                peer.Send(T.B("two"), 3, new IPEndPoint(IPAddress.Loopback, ds.LocalPort));
                Event e2 = T.WaitKind(ds, EventKind.DATAGRAM, 5000);
                T.Equal("two", e2?.Text, "as a plain event too");
                T.Equal(2L, ds.Stats().MessagesIn, "datagrams counted");
            }
        }

        // A datagram server connected to one peer: Send before Connect is InvalidArgument; after
        // Connect, Send goes to the peer (which sees the server's address), the peer's replies come
        // back naming it, a stranger's datagram is dropped, SendTo still reaches anyone, connecting
        // again moves to another peer, and a peer where nothing listens makes a later Send
        // ConnectionRefused.
        static void DatagramServerConnect()
        {
            using (var c = DatagramServer.Bind("127.0.0.1:0"))
            using (var peer = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0)))
            using (var stranger = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0)))
            {
                peer.Client.ReceiveTimeout = 5000;
                stranger.Client.ReceiveTimeout = 5000;
                var cEnd = new IPEndPoint(IPAddress.Loopback, c.LocalPort);
                var early = T.Throws<InvalidArgumentException>(() => c.Send(T.B("early")), "Send before Connect");
                T.Equal(ErrorCodes.INVALID_ARGUMENT, early.Code, "code");
                T.Check(early.Message.Contains("not connected"), $"the message says why: {early.Message}");
                string pa = "127.0.0.1:" + ((IPEndPoint)peer.Client.LocalEndPoint).Port;
                c.Connect(pa);
                // Once connected the kernel drops another sender's datagram.
                stranger.Send(T.B("stranger"), 8, cEnd);
                for (int i = 0; i < 5; i++)
                {
                    c.Send(T.B("request " + i));
                    IPEndPoint from = null;
                    T.Equal("request " + i, T.S(peer.Receive(ref from)), $"the peer got request {i}");
                    T.Equal(cEnd, from, $"request {i} came from the datagram server");
                    byte[] rep = T.B("reply " + i);
                    peer.Send(rep, rep.Length, cEnd);
                    Event e = c.NextDatagram(5000);
                    T.Check(e != null && e.Kind == EventKind.DATAGRAM, $"reply {i}: {e}");
                    T.Equal("reply " + i, e.Text, $"reply {i}");
                    T.Equal(pa, e.Peer, $"the sender of reply {i}");
                }
                Event none = c.NextDatagram(100);
                T.Check(none == null, $"the stranger's datagram came through: {none}");
                // SendTo still reaches anyone.
                string sa = "127.0.0.1:" + ((IPEndPoint)stranger.Client.LocalEndPoint).Port;
                c.SendTo(T.B("direct"), sa);
                IPEndPoint f2 = null;
                T.Equal("direct", T.S(stranger.Receive(ref f2)), "SendTo while connected");
                // Connecting again moves to the other peer.
                c.Connect(sa);
                c.Send(T.B("moved"));
                T.Equal("moved", T.S(stranger.Receive(ref f2)), "Send after moving to the second peer");
                T.Equal(cEnd, f2, "from the datagram server");
                stranger.Send(T.B("back"), 4, cEnd);
                Event b = c.NextDatagram(5000);
                T.Check(b != null && b.Kind == EventKind.DATAGRAM, $"the second peer's reply: {b}");
                T.Equal("back", b.Text, "the second peer's reply");
                T.Equal(sa, b.Peer, "the second peer's reply names it");
                // A peer where nothing listens: the ICMP error comes back on a later Send.
                string gone;
                using (var g = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0)))
                    gone = "127.0.0.1:" + ((IPEndPoint)g.Client.LocalEndPoint).Port;
                c.Connect(gone);
                Exception refused = null;
                for (int i = 0; i < 50 && refused == null; i++)
                {
                    try { c.Send(T.B("anyone?")); Thread.Sleep(10); }
                    catch (LibsockException e) { refused = e; }
                }
                T.Check(refused is ConnectionRefusedException,
                        $"ConnectionRefused after the ICMP error, got {refused?.GetType().Name}: {refused?.Message}");
            }
        }

        static void EngineConfigChecked()
        {
            using (var cfg = new EngineConfig().Set(ConfigKey.MAX_CLIENTS, 0))
            {
                var e = T.Throws<InvalidArgumentException>(() => Server.Listen("127.0.0.1:0", cfg), "max clients 0");
                T.Check(e.Message.ToLowerInvariant().Contains("max_clients") || e.Message.Contains("clients"), e.Message);
            }
            using (var cfg = new EngineConfig().Set(ConfigKey.SEND_QUEUE_BYTES, 1024))
            using (var c = Client.Connect("127.0.0.1:1", cfg))
            {
                T.Throws<FrameTooLargeException>(() => c.Send(new byte[2048]), "a message above the whole queue");
                c.Send(new byte[1000]);
                T.Throws<QueueFullException>(() => c.Send(new byte[1000]), "a full queue while disconnected");
            }
            T.Throws<InvalidArgumentException>(() => new EngineConfig().SetHeartbeatPayloads(T.B("P"), T.B("P")), "equal payloads");
        }

        static void Async()
        {
            using (var s = Server.Listen("127.0.0.1:0"))
            using (var c = Client.Connect(s.LocalAddress))
            {
                Task<Event> first = s.NextEventAsync();
                T.Check(first.Wait(10000), "NextEventAsync completed");
                T.Equal(EventKind.CONNECTED, first.Result.Kind, "the first event");
                var cts = new CancellationTokenSource();
                Task<Event> pending = s.NextEventAsync(cts.Token);
                Thread.Sleep(150);
                cts.Cancel();
                try
                {
                    pending.Wait(10000);
                    throw new TestFailure("the cancelled wait returned an event");
                }
                catch (AggregateException ae)
                {
                    T.Check(ae.InnerException is OperationCanceledException, $"cancelled: {ae.InnerException?.GetType().Name}");
                }
                c.Send(T.B("after cancel"));
                Task<Event> next = s.NextEventAsync();
                T.Check(next.Wait(10000) && next.Result.Text == "after cancel", "nothing was lost by the cancellation");
            }
            using (var l = Listener.Listen("127.0.0.1:0", framing: Framing.LengthPrefixed()))
            {
                Task<Connection> accepted = l.AcceptAsync();
                Task<Connection> connecting = Connection.ConnectAsync(l.LocalAddress, 5000, framing: Framing.LengthPrefixed());
                T.Check(Task.WaitAll(new Task[] { accepted, connecting }, 10000), "AcceptAsync and ConnectAsync");
                using (var a = accepted.Result)
                using (var c = connecting.Result)
                {
                    Task<byte[]> recv = a.RecvMsgAsync();
                    c.SendMsgAsync(T.B("async")).Wait(10000);
                    T.Check(recv.Wait(10000), "RecvMsgAsync");
                    T.Equal("async", T.S(recv.Result), "message");
                    // An await in an async method, as .NET code writes it.
                    T.Equal("awaited", RoundTrip(a, c).Result, "async/await");
                }
            }
        }

        static async Task<string> RoundTrip(Connection a, Connection c)
        {
            await c.SendMsgAsync(T.B("awaited"));
            byte[] m = await a.RecvMsgAsync();
            return T.S(m);
        }

        /// <summary>A plausible argument of each parameter type (null for types the door cannot get).</summary>
        static object Arg(Type t)
        {
            if (t == typeof(string)) return "127.0.0.1:1";
            if (t == typeof(byte[])) return new byte[16];
            if (t == typeof(int)) return 1;
            if (t == typeof(long)) return 1L;
            if (t == typeof(ulong)) return 1UL;
            if (t == typeof(bool)) return true;
            if (t.IsEnum) return Enum.GetValues(t).GetValue(0);
            if (t == typeof(IList<byte[]>)) return new List<byte[]> { new byte[1] };
            if (t == typeof(IList<ulong>)) return new ulong[] { 1 };
            if (t == typeof(CancellationToken)) return CancellationToken.None;
            if (t == typeof(Framing)) return Framing.Raw();
            if (t == typeof(SocketOptions) || t == typeof(EngineConfig) || t == typeof(TlsConfig)) return null;
            if (t == typeof(string[])) return new[] { "h2" };
            if (t == typeof(int[])) return new[] { 0 };
            if (t == typeof(IList<System.Runtime.InteropServices.SafeHandle>))
                return new List<System.Runtime.InteropServices.SafeHandle> { new SafeFdHandle(0, false) };
            if (t == typeof(Connection) || t == typeof(KcpConfig)) return null;
            throw new TestFailure("no argument for " + t);
        }

        /// <summary>Every public instance method and property of every kind of object, called after
        /// Close(): ObjectDisposedException each time (Close and Dispose themselves: nothing), no crash.</summary>
        static void EveryMethodClosed()
        {
            var made = new List<Func<LibsockObject>>
            {
                () => Listener.Listen("127.0.0.1:0"),
                () => { using (var l = Listener.Listen("127.0.0.1:0")) return Connection.Connect(l.LocalAddress, 5000); },
                () => Datagram.Bind("127.0.0.1:0"),
                () => new SocketOptions(),
                () => new EngineConfig(),
                () => Server.Listen("127.0.0.1:0"),
                () => Client.Connect("127.0.0.1:1"),
                () => DatagramServer.Bind("127.0.0.1:0"),
                () => TlsConfig.Client(),
                () => TlsConfig.Server(),
                () => FileTransfer.Sender(System.Reflection.Assembly.GetExecutingAssembly().Location),
                () => FileTransfer.Receiver(System.IO.Path.GetTempPath()),
                () => new KcpConfig(),
                () => KcpServer.Bind("127.0.0.1:0"),
                () => KcpSession.Connect("127.0.0.1:1"),
            };
            int calls = 0;
            foreach (var make in made)
            {
                LibsockObject o = make();
                o.Close();
                foreach (var m in o.GetType().GetMethods(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Instance))
                {
                    if (m.DeclaringType == typeof(object) || m.IsGenericMethodDefinition) continue;
                    string name = o.GetType().Name + "." + m.Name;
                    var ps = m.GetParameters();
                    var args = new object[ps.Length];
                    for (int i = 0; i < ps.Length; i++) args[i] = Arg(ps[i].ParameterType);
                    Exception got = null;
                    try
                    {
                        object r = m.Invoke(o, args);
                        if (r is Task task) task.Wait(10000);
                    }
                    catch (System.Reflection.TargetInvocationException e) { got = e.InnerException; }
                    catch (AggregateException e) { got = e.InnerException; }
                    if (got is AggregateException ae) got = ae.InnerException;
                    calls++;
                    bool harmless = m.Name == "Close" && ps.Length == 0 || m.Name == "Dispose" || m.Name == "ToString" ||
                                    m.Name == "GetHashCode" || m.Name == "Equals" || m.Name == "GetType" ||
                                    m.Name == "get_Handle" || m.Name == "get_IsClosed" || m.Name == "get_IsServer";
                    if (harmless) T.Check(got == null, $"{name} after Close threw {got?.GetType().Name}");
                    else T.Check(got is ObjectDisposedException, $"{name} after Close: {(got == null ? "no exception" : got.GetType().Name + ": " + got.Message)}");
                }
            }
            T.Check(calls > 100, $"methods tried: {calls}");
        }

        static void UnixAndIpv6()
        {
            string path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"libsock-cs-{System.Diagnostics.Process.GetCurrentProcess().Id}.sock");
            try
            {
                using (var l = Listener.Listen("unix:" + path, framing: Framing.Lines()))
                using (var c = Connection.Connect("unix:" + path, 5000, framing: Framing.Lines()))
                using (var a = l.Accept(5000))
                {
                    T.Equal("unix:" + path, l.LocalAddress, "a Unix listener's address");
                    T.Equal(0, l.LocalPort, "no port");
                    c.SendMsg("über unix");
                    T.Equal("über unix", a.RecvMsgString(5000), "a message over a Unix socket");
                    T.Throws<AddrInUseException>(() => Listener.Listen("unix:" + path), "a live socket path");
                }
            }
            finally { System.IO.File.Delete(path); }
            Listener l6;
            try { l6 = Listener.Listen("[::1]:0"); }
            catch (AddrNotAvailableException e) { Console.WriteLine($"  (no IPv6 loopback here: {e.Message})"); return; }
            using (l6)
            using (var c = Connection.Connect("::1", l6.LocalPort, 5000))
            using (var a = l6.Accept(5000))
            {
                T.Check(l6.LocalAddress.StartsWith("[::1]:"), l6.LocalAddress);
                c.SendAll(T.B("six"));
                T.Equal("six", T.S(a.RecvExact(3, 5000)), "over IPv6");
                T.Equal(c.LocalAddress, a.PeerAddress, "bracketed addresses agree");
            }
        }

        static void SystemNetClient()
        {
            // A System.Net TcpClient speaks to a libsock listener with hand-built 2-byte lengths.
            using (var l = Listener.Listen("127.0.0.1:0", framing: Framing.LengthPrefixed(2)))
            using (var tc = new TcpClient())
            {
                tc.Connect(IPAddress.Loopback, l.LocalPort);
                tc.Client.ReceiveTimeout = 5000;
                using (var a = l.Accept(5000))
                {
                    tc.Client.Send(new byte[] { 0, 5, (byte)'h', (byte)'e', (byte)'l', (byte)'l', (byte)'o', 0, 0 });
                    T.Equal("hello", a.RecvMsgString(5000), "message from System.Net");
                    T.Equal(0, a.RecvMsg(5000).Length, "an empty message");
                    a.SendMsg(T.B("hi"));
                    var b = new byte[4];
                    Scenarios.ReadExact(tc.Client, b, 0, 4);
                    T.Bytes(new byte[] { 0, 2, (byte)'h', (byte)'i' }, b, "framed reply on the wire");
                    tc.Client.Shutdown(SocketShutdown.Send);
                    T.Throws<ClosedException>(() => a.RecvMsg(5000), "end of stream");
                }
            }
        }
    }
}
