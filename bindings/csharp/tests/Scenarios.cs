// docs/SCENARIOS.md S01-S17 for the C# door, on loopback, against peers written with Mono's own
// System.Net.Sockets (TcpListener, TcpClient, Socket, UdpClient: no libsock on that side) and
// libsock-to-libsock where the scenario is about the engine's two ends.
using System;
using System.Collections.Generic;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Threading;

namespace Libsock.Tests
{
    /// <summary>The scenarios every door passes (docs/SCENARIOS.md).</summary>
    public static class Scenarios
    {
        /// <summary>Adds the scenarios to the run.</summary>
        public static void Register(List<KeyValuePair<string, Action>> t)
        {
            t.Add(new KeyValuePair<string, Action>("s01_connect_send_echo_close", S01));
            t.Add(new KeyValuePair<string, Action>("s02_connection_refused", S02));
            t.Add(new KeyValuePair<string, Action>("s03_recv_timeout_then_works", S03));
            t.Add(new KeyValuePair<string, Action>("s04_64mib_each_way", S04));
            t.Add(new KeyValuePair<string, Action>("s05_length_prefixed_1000_messages_system_net_peer", S05));
            t.Add(new KeyValuePair<string, Action>("s05_length_prefixed_libsock_to_libsock", S05Libsock));
            t.Add(new KeyValuePair<string, Action>("s05_length_prefixed_python_stdlib_peer", S05Python));
            t.Add(new KeyValuePair<string, Action>("s06_crlf_lines_and_long_line", S06));
            t.Add(new KeyValuePair<string, Action>("s07_half_close", S07));
            t.Add(new KeyValuePair<string, Action>("s08_misuse", S08));
            t.Add(new KeyValuePair<string, Action>("s09_buffer_too_small", S09));
            t.Add(new KeyValuePair<string, Action>("s10_udp_send_to_recv_from_truncation", S10));
            t.Add(new KeyValuePair<string, Action>("s11_listener_port0_accept_timeout", S11));
            t.Add(new KeyValuePair<string, Action>("s12_options_read_back", S12));
            t.Add(new KeyValuePair<string, Action>("s13_engine_50_system_net_clients_echo", S13));
            t.Add(new KeyValuePair<string, Action>("s14_engine_broadcast_50", S14));
            t.Add(new KeyValuePair<string, Action>("s15_engine_client_reconnect", S15));
            t.Add(new KeyValuePair<string, Action>("s16_engine_heartbeat_lost", S16));
            t.Add(new KeyValuePair<string, Action>("s17_close_from_another_thread", S17));
            t.Add(new KeyValuePair<string, Action>("s17_engine_close_wakes_next_event", S17Engine));
        }

        // ------------------------------------------------------------------ System.Net peers

        /// <summary>A TcpListener on a free loopback port, serving one client with <paramref name="serve"/>
        /// on a thread; returns the address and the thread.</summary>
        internal static Thread Peer(Action<Socket> serve, out string address, string name = "peer")
        {
            var l = new TcpListener(IPAddress.Loopback, 0);
            l.Start();
            address = "127.0.0.1:" + ((IPEndPoint)l.LocalEndpoint).Port;
            return T.Start(() =>
            {
                try
                {
                    if (!l.Server.Poll(30000000, SelectMode.SelectRead)) throw new TestFailure("nobody connected to the peer");
                    using (Socket s = l.AcceptSocket())
                    {
                        s.ReceiveTimeout = 30000;
                        s.SendTimeout = 30000;
                        serve(s);
                    }
                }
                finally { l.Stop(); }
            }, name);
        }

        internal static void ReadExact(Socket s, byte[] buf, int off, int n)
        {
            while (n > 0)
            {
                int k = s.Receive(buf, off, n, SocketFlags.None);
                if (k == 0) throw new EndOfStreamException($"peer: end of stream with {n} bytes missing");
                off += k;
                n -= k;
            }
        }

        internal static void Echo(Socket s)
        {
            var buf = new byte[65536];
            int n;
            while ((n = s.Receive(buf)) > 0) s.Send(buf, 0, n, SocketFlags.None);
        }

        internal static byte[] Header(int n) => new[] { (byte)(n >> 24), (byte)(n >> 16), (byte)(n >> 8), (byte)n };

        // ------------------------------------------------------------------ S01-S12

        static void S01()
        {
            Thread peer = Peer(Echo, out string address);
            var data = new byte[1024];
            new Random(1).NextBytes(data);
            var c = Connection.Connect(address, 5000);
            c.SendAll(data);
            T.Bytes(data, c.RecvExact(1024, 5000), "echo of 1 KiB");
            T.Equal(address, c.PeerAddress, "peer address");
            c.Close();
            c.Close(); // harmless
            c.Dispose();
            T.Check(c.IsClosed, "closed");
            T.Join(peer);
        }

        static void S02()
        {
            // A port that was just free: bind with System.Net, note the port, close.
            var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            int port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            string address = "127.0.0.1:" + port;
            var e = T.Throws<ConnectionRefusedException>(() => Connection.Connect(address, 5000), "connect to a closed port");
            T.Check(e.Message.Contains(address), $"the message names the address: {e.Message}");
            T.Equal(ErrorCodes.CONNECTION_REFUSED, e.Code, "code");
            T.Equal("CONNECTION_REFUSED", e.Name, "name");
            T.Check(e is IOException, "a LibsockException is an IOException");
        }

        static void S03()
        {
            var release = new ManualResetEventSlim();
            Thread peer = Peer(s =>
            {
                release.Wait(30000); // silent until told
                var b = new byte[5];
                ReadExact(s, b, 0, 5);
                s.Send(b);
            }, out string address);
            using (var c = Connection.Connect(address, 5000))
            {
                double t0 = T.Now;
                var e = T.Throws<LibsockTimeoutException>(() => c.Recv(16, 200), "recv from a silent peer");
                double dt = T.Now - t0;
                T.Check(dt >= 190 && dt < 5000, $"timed out after {dt:F0} ms (200 ms asked)");
                T.Check(e.Message.Contains("timed out"), e.Message);
                T.Equal("TIMEOUT", e.Name, "name");
                release.Set();
                c.SendAll(T.B("still"));
                T.Equal("still", T.S(c.RecvExact(5, 5000)), "the connection works after the timeout");
            }
            T.Join(peer);
        }

        static void S04()
        {
            const int size = 64 << 20;
            var data = new byte[size];
            new Random(4).NextBytes(data);
            byte[] want;
            using (var sha = SHA256.Create()) want = sha.ComputeHash(data);
            byte[] peerGot = null;
            // The System.Net peer reads 64 MiB while sending its own 64 MiB back (the same bytes).
            Thread peer = Peer(s =>
            {
                Thread writer = T.Start(() =>
                {
                    for (int off = 0; off < size; off += 1 << 20) s.Send(data, off, 1 << 20, SocketFlags.None);
                }, "peer-writer");
                var got = new byte[size];
                ReadExact(s, got, 0, size);
                T.Join(writer, 120000);
                using (var sha = SHA256.Create()) peerGot = sha.ComputeHash(got);
            }, out string address);
            using (var c = Connection.Connect(address, 5000))
            {
                Thread writer = T.Start(() => c.SendAll(data), "writer");
                var got = new byte[size];
                c.RecvExact(got, 0, size, 120000);
                T.Join(writer, 120000);
                using (var sha = SHA256.Create()) T.Bytes(want, sha.ComputeHash(got), "SHA-256 of what libsock received");
            }
            T.Join(peer, 120000);
            T.Bytes(want, peerGot, "SHA-256 of what the System.Net peer received");
        }

        static List<byte[]> RandomMessages(int seed, int count, int max)
        {
            var r = new Random(seed);
            var list = new List<byte[]>();
            for (int i = 0; i < count; i++)
            {
                var m = new byte[i == 0 ? 0 : r.Next(0, max + 1)];
                r.NextBytes(m);
                list.Add(m);
            }
            return list;
        }

        static void S05()
        {
            // The peer: a length-prefixed (4-byte big-endian) echo built by hand on System.Net.
            Thread peer = Peer(s =>
            {
                var h = new byte[4];
                var body = new byte[64 * 1024];
                for (int i = 0; i < 1000; i++)
                {
                    ReadExact(s, h, 0, 4);
                    int n = (h[0] << 24) | (h[1] << 16) | (h[2] << 8) | h[3];
                    if (n > body.Length) throw new TestFailure($"peer: message {i} claims {n} bytes");
                    ReadExact(s, body, 0, n);
                    s.Send(h);
                    s.Send(body, 0, n, SocketFlags.None);
                }
            }, out string address);
            var msgs = RandomMessages(5, 1000, 64 * 1024);
            using (var c = Connection.Connect(address, 5000, framing: Framing.LengthPrefixed(4)))
            {
                Thread writer = T.Start(() => { foreach (var m in msgs) c.SendMsg(m); }, "writer");
                for (int i = 0; i < msgs.Count; i++) T.Bytes(msgs[i], c.RecvMsg(30000), $"message {i}");
                T.Join(writer);
            }
            T.Join(peer);
        }

        /// <summary>S05 against a peer in another language: python-tests/peers/stdlib_peer.py lenecho
        /// (Python's socket and struct modules only), as the C, C++ and Pascal doors run it.</summary>
        static void S05Python()
        {
            string script = Environment.GetEnvironmentVariable("LS_TEST_PEER") ?? "python-tests/peers/stdlib_peer.py";
            T.Check(File.Exists(script), $"the Python peer {script} (LS_TEST_PEER)");
            var msgs = RandomMessages(505, 1000, 64 * 1024);
            using (var l = Listener.Listen("127.0.0.1:0", framing: Framing.LengthPrefixed()))
            {
                var psi = new System.Diagnostics.ProcessStartInfo("python3", $"{script} lenecho {l.LocalPort}")
                {
                    UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true,
                };
                using (var p = System.Diagnostics.Process.Start(psi))
                {
                    try
                    {
                        using (var a = l.Accept(30000))
                        {
                            Thread writer = T.Start(() => { foreach (var m in msgs) a.SendMsg(m); }, "writer");
                            for (int i = 0; i < msgs.Count; i++) T.Bytes(msgs[i], a.RecvMsg(30000), $"message {i}");
                            T.Join(writer);
                        }
                        System.Threading.Tasks.Task<string> output = p.StandardOutput.ReadToEndAsync();
                        T.Check(p.WaitForExit(30000), "the Python peer exited");
                        T.Equal(0, p.ExitCode, "the Python peer's exit status: " + p.StandardError.ReadToEnd());
                        T.Check(output.Wait(5000) && output.Result.Contains("1000"), $"the peer echoed 1000 frames: {output.Result}");
                    }
                    finally
                    {
                        if (!p.HasExited) p.Kill();
                    }
                }
            }
        }

        static void S05Libsock()
        {
            var msgs = RandomMessages(55, 1000, 64 * 1024);
            using (var l = Listener.Listen("127.0.0.1:0", framing: Framing.LengthPrefixed(4, false)))
            {
                Thread server = T.Start(() =>
                {
                    using (var a = l.Accept(10000))
                        for (int i = 0; i < 1000; i++) a.SendMsg(a.RecvMsg(30000));
                }, "libsock-echo");
                using (var c = Connection.Connect(l.LocalAddress, 5000, framing: Framing.LengthPrefixed(4, false)))
                {
                    Thread writer = T.Start(() => c.SendMsgs(msgs), "writer");
                    int got = 0;
                    while (got < msgs.Count)
                        foreach (var m in c.RecvMsgs(64, 30000)) { T.Bytes(msgs[got], m, $"message {got}"); got++; }
                    T.Join(writer);
                }
                T.Join(server);
            }
        }

        static void S06()
        {
            Thread peer = Peer(s =>
            {
                s.Send(T.B("first line\r\nsecond\r\n" + new string('x', 100) + "\r\nafter\r\n"));
                var b = new byte[64];
                ReadExact(s, b, 0, 9); // "bye line\r\n" minus one: wait until the test is done
            }, out string address);
            using (var c = Connection.Connect(address, 5000, framing: Framing.Delimited("\r\n", 64)))
            {
                T.Equal("first line", c.RecvMsgString(5000), "line 1");
                T.Equal("second", c.RecvMsgString(5000), "line 2");
                var e = T.Throws<FrameTooLargeException>(() => c.RecvMsg(5000), "a 100-byte line with max_len 64");
                T.Equal("FRAME_TOO_LARGE", e.Name, "name");
                T.Equal("after", c.RecvMsgString(5000), "the line after the long one");
                c.SendAll(T.B("bye line\r"));
            }
            T.Join(peer);
        }

        static void S07()
        {
            byte[] reply = new byte[300000];
            new Random(7).NextBytes(reply);
            Thread peer = Peer(s =>
            {
                var all = new MemoryStream();
                var buf = new byte[8192];
                int n;
                while ((n = s.Receive(buf)) > 0) all.Write(buf, 0, n); // to the end of stream
                if (all.Length != 100000) throw new TestFailure($"peer got {all.Length} bytes before the end");
                s.Send(reply);
                s.Shutdown(SocketShutdown.Send);
            }, out string address);
            using (var c = Connection.Connect(address, 5000))
            {
                c.SendAll(new byte[100000]);
                c.Shutdown(); // half-close: write
                var got = new MemoryStream();
                byte[] chunk;
                while ((chunk = c.Recv(65536, 10000)).Length > 0) got.Write(chunk, 0, chunk.Length);
                T.Bytes(reply, got.ToArray(), "the reply after our half-close");
                T.Throws<LibsockException>(() => c.SendAll(T.B("x")), "send after shutdown(write)");
            }
            T.Join(peer);
        }

        static void S08()
        {
            Thread peer = Peer(Echo, out string address);
            var c = Connection.Connect(address, 5000);
            c.Close();
            T.Throws<ObjectDisposedException>(() => c.Send(T.B("x")), "send after close");
            T.Throws<ObjectDisposedException>(() => c.RecvMsg(0), "recv after close");
            T.Throws<ObjectDisposedException>(() => { var _ = c.LocalAddress; }, "address after close");
            c.Close();
            T.Join(peer);
            using (var l = Listener.Listen("127.0.0.1:0"))
            using (var c2 = Connection.Connect(l.LocalAddress, 5000))
            {
                T.Throws<InvalidArgumentException>(() => c2.SendAll((byte[])null), "null buffer");
                T.Throws<InvalidArgumentException>(() => c2.Recv(new byte[4], 0, 0, 0), "empty receive buffer");
                T.Throws<InvalidArgumentException>(() => c2.Recv(new byte[4], 2, 3, 0), "offset and count outside the buffer");
                T.Throws<InvalidArgumentException>(() => c2.Recv(0, 0), "maxBytes 0");
                T.Throws<InvalidArgumentException>(() => Connection.Connect(null, 100), "null address");
                T.Throws<InvalidArgumentException>(() => c2.SetFraming(null), "null framing");
            }
            // An invented handle: libsock answers BAD_HANDLE, the process lives.
            var e = T.Throws<BadHandleException>(() => Invented.Recv(987654321), "an invented handle");
            T.Equal(ErrorCodes.BAD_HANDLE, e.Code, "code");
            T.Check(e.Message.StartsWith("bad handle 987654321"), e.Message);
        }

        static void S09()
        {
            using (var l = Listener.Listen("127.0.0.1:0", framing: Framing.LengthPrefixed()))
            using (var c = Connection.Connect(l.LocalAddress, 5000, framing: Framing.LengthPrefixed()))
            using (var a = l.Accept(5000))
            {
                var msg = new byte[1000];
                new Random(9).NextBytes(msg);
                c.SendMsg(msg);
                var small = new byte[10];
                var e = T.Throws<BufferTooSmallException>(() => a.RecvMsg(small, 0, small.Length, 5000), "a 1000-byte message into 10 bytes");
                T.Equal(1000L, e.Needed, "needed size");
                T.Equal("BUFFER_TOO_SMALL", e.Name, "name");
                var big = new byte[e.Needed];
                int n = a.RecvMsg(big, 0, big.Length, 5000);
                T.Equal(1000, n, "length on the second call");
                T.Bytes(msg, big, "the message is still there");
            }
        }

        static void S10()
        {
            using (var d = Datagram.Bind("127.0.0.1:0"))
            using (var peer = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0)))
            {
                int peerPort = ((IPEndPoint)peer.Client.LocalEndPoint).Port;
                peer.Client.ReceiveTimeout = 10000;
                peer.Send(T.B("hello udp"), 9, new IPEndPoint(IPAddress.Loopback, d.LocalPort));
                var r = d.RecvFrom(2048, 5000);
                T.Equal("hello udp", T.S(r.Data), "datagram");
                T.Equal("127.0.0.1:" + peerPort, r.Peer, "sender");
                T.Check(!r.Truncated, "not truncated");
                d.SendTo(T.B("reply"), r.Peer);
                IPEndPoint from = null;
                T.Equal("reply", T.S(peer.Receive(ref from)), "the System.Net peer got the reply");
                T.Equal(d.LocalPort, from.Port, "from our port");
                var big = new byte[3000];
                peer.Send(big, big.Length, new IPEndPoint(IPAddress.Loopback, d.LocalPort));
                var t = d.RecvFrom(1000, 5000);
                T.Check(t.Truncated, "truncation reported");
                T.Equal(1000, t.Data.Length, "cut to the buffer");
                T.Throws<LibsockTimeoutException>(() => d.RecvFrom(100, 50), "nothing more");
            }
        }

        static void S11()
        {
            using (var l = Listener.Listen("127.0.0.1:0"))
            {
                T.Check(l.LocalPort > 0, "a real port");
                T.Equal("127.0.0.1:" + l.LocalPort, l.LocalAddress, "address");
                var e = T.Throws<LibsockTimeoutException>(() => l.Accept(100), "accept with nobody coming");
                T.Equal(ErrorCodes.TIMEOUT, e.Code, "code");
                // A System.Net client is then accepted.
                using (var tc = new TcpClient())
                {
                    tc.Connect(IPAddress.Loopback, l.LocalPort);
                    using (var a = l.Accept(5000))
                        T.Equal("127.0.0.1:" + ((IPEndPoint)tc.Client.LocalEndPoint).Port, a.PeerAddress, "the client's address");
                }
            }
        }

        static void S12()
        {
            using (var l = Listener.Listen("127.0.0.1:0"))
            using (var c = Connection.Connect(l.LocalAddress, 5000))
            {
                c.SetOption(SockOpt.NODELAY, true);
                T.Equal(1L, c.GetOption(SockOpt.NODELAY), "nodelay");
                c.SetOption(SockOpt.NODELAY, false);
                T.Equal(0L, c.GetOption(SockOpt.NODELAY), "nodelay off");
                c.SetOption(SockOpt.KEEPALIVE, true);
                T.Equal(1L, c.GetOption(SockOpt.KEEPALIVE), "keepalive");
                c.SetOption(SockOpt.KEEPALIVE_IDLE, 30);
                T.Equal(30L, c.GetOption(SockOpt.KEEPALIVE_IDLE), "keepalive idle");
                c.SetOption(SockOpt.RECV_BUFFER_SIZE, 65536);
                T.Check(c.GetOption(SockOpt.RECV_BUFFER_SIZE) >= 65536, "recv buffer read back (Linux doubles it)");
                c.SetOption(SockOpt.SEND_BUFFER_SIZE, 32768);
                T.Check(c.GetOption(SockOpt.SEND_BUFFER_SIZE) >= 32768, "send buffer read back");
                c.SetOption(SockOpt.LINGER, 2);
                T.Equal(2L, c.GetOption(SockOpt.LINGER), "linger");
                c.SetOption(SockOpt.TTL, 33);
                T.Equal(33L, c.GetOption(SockOpt.TTL), "ttl");
                c.Timeout = 1500;
                T.Equal(1500, c.GetTimeout(), "default timeout");
                var e = T.Throws<UnsupportedException>(() => c.SetOption(SockOpt.MULTICAST_TTL, 1), "a UDP option on TCP");
                T.Equal("UNSUPPORTED", e.Name, "name");
            }
        }

        // ------------------------------------------------------------------ S13-S17: the engine

        /// <summary>Serves events on a thread: echoes every message until the server closes.</summary>
        static Thread EchoServer(Server s, string name = "engine-echo") => T.Start(() =>
        {
            while (true)
            {
                Event e;
                try { e = s.NextEvent(-1); }
                catch (ClosedException) { return; }
                catch (ObjectDisposedException) { return; }
                if (e == null) continue;
                if (e.Kind == EventKind.MESSAGE)
                {
                    try { s.Send(e.Client, e.Data); }
                    catch (ClosedException) { } // the client left meanwhile
                }
                if (e.Kind == EventKind.CLOSED) return;
            }
        }, name);

        static void S13()
        {
            using (var server = Server.Listen("127.0.0.1:0"))
            {
                Thread loop = EchoServer(server);
                int port = server.LocalPort;
                var clients = new List<Thread>();
                int good = 0;
                for (int k = 0; k < 50; k++)
                {
                    int id = k;
                    clients.Add(T.Start(() =>
                    {
                        using (var tc = new TcpClient())
                        {
                            tc.Connect(IPAddress.Loopback, port);
                            Socket s = tc.Client;
                            s.ReceiveTimeout = 30000;
                            var sent = new List<byte[]>();
                            var r = new Random(1300 + id);
                            for (int i = 0; i < 100; i++)
                            {
                                var m = T.B($"client {id} message {i} " + new string('.', r.Next(0, 200)));
                                sent.Add(m);
                                s.Send(Header(m.Length));
                                s.Send(m);
                            }
                            var h = new byte[4];
                            for (int i = 0; i < 100; i++)
                            {
                                ReadExact(s, h, 0, 4);
                                int n = (h[0] << 24) | (h[1] << 16) | (h[2] << 8) | h[3];
                                var body = new byte[n];
                                ReadExact(s, body, 0, n);
                                T.Bytes(sent[i], body, $"client {id} reply {i}");
                            }
                            Interlocked.Increment(ref good);
                        }
                    }, $"client-{k}"));
                }
                foreach (var t in clients) T.Join(t, 90000);
                T.Equal(50, good, "clients that got their 100 messages back in order");
                T.Check(server.Stats().MessagesIn >= 5000, "stats count the messages");
                server.Shutdown(1000);
                T.Join(loop);
            }
        }

        static void S14()
        {
            using (var cfg = new EngineConfig().SetReconnect(50, 500))
            using (var server = Server.Listen("127.0.0.1:0", cfg))
            {
                var clients = new List<Client>();
                for (int i = 0; i < 50; i++) clients.Add(Client.Connect(server.LocalAddress, cfg));
                int connected = 0;
                double end = T.Now + 30000;
                while (connected < 50 && T.Now < end)
                {
                    Event e = server.NextEvent(100);
                    if (e != null && e.Kind == EventKind.CONNECTED) connected++;
                }
                T.Equal(50, connected, "clients connected");
                T.Equal(50, server.Clients().Length, "Clients()");
                foreach (var c in clients) T.Check(T.WaitKind(c, EventKind.CONNECTED) != null, "client saw CONNECTED");
                T.Equal(50, server.Broadcast(T.B("to everyone")), "broadcast queued for");
                foreach (var c in clients)
                {
                    Event m = T.WaitKind(c, EventKind.MESSAGE);
                    T.Check(m != null && m.Text == "to everyone", "each client receives the broadcast");
                }
                // exactly once: nothing more arrives
                foreach (var c in clients)
                {
                    Event more = c.NextEvent(20);
                    T.Check(more == null || more.Kind != EventKind.MESSAGE, "a second copy arrived");
                }
                foreach (var c in clients) c.Close();
            }
        }

        static void S15()
        {
            using (var cfg = new EngineConfig().Set(ConfigKey.BACKOFF_MIN_MS, 50).Set(ConfigKey.BACKOFF_MAX_MS, 200))
            {
                var s1 = Server.Listen("127.0.0.1:0", cfg);
                string address = s1.LocalAddress;
                using (var c = Client.Connect(address, cfg))
                {
                    T.Check(T.WaitKind(c, EventKind.CONNECTED) != null, "connected");
                    T.Check(T.WaitKind(s1, EventKind.CONNECTED) != null, "server saw it");
                    s1.Shutdown(0);
                    s1.Close();
                    Event d = T.WaitKind(c, EventKind.DISCONNECTED);
                    T.Check(d != null && (d.Reason == DisconnectReason.PEER_CLOSED || d.Reason == DisconnectReason.RESET),
                            $"disconnected by the server's stop: {d}");
                    for (int i = 0; i < 20; i++) c.Send(T.B("queued " + i));
                    Thread.Sleep(300); // a few refused attempts
                    using (var s2 = Server.Listen(address, cfg))
                    {
                        T.Check(T.WaitKind(s2, EventKind.CONNECTED) != null, "reconnected");
                        for (int i = 0; i < 20; i++)
                        {
                            Event m = s2.NextEvent(5000);
                            T.Check(m != null && m.Kind == EventKind.MESSAGE && m.Text == "queued " + i, $"message {i} once, in order: {m}");
                        }
                        c.Send(T.B("end"));
                        Event last = s2.NextEvent(5000);
                        T.Check(last != null && last.Text == "end", "nothing was sent twice");
                        int reconnecting = 0;
                        Event e;
                        double end = T.Now + 5000;
                        while ((e = c.NextEvent(100)) == null || e.Kind != EventKind.CONNECTED)
                        {
                            if (e != null && e.Kind == EventKind.RECONNECTING) reconnecting++;
                            T.Check(T.Now < end, "no second CONNECTED on the client");
                        }
                        T.Check(reconnecting >= 1, "RECONNECTING seen");
                        T.Equal(2UL, e.Client, "connection number 2");
                        T.Equal(1L, c.Stat(Stat.CONNECTIONS), "connected now");
                        T.Check(c.Connected, "Connected");
                    }
                }
            }
        }

        static void S16()
        {
            const int interval = 200, misses = 3;
            using (var cfg = new EngineConfig().SetHeartbeat(interval, misses).Set(ConfigKey.RECONNECT, 0))
            {
                using (var s = Server.Listen("127.0.0.1:0", cfg))
                using (var silent = new TcpClient())
                {
                    silent.Connect(IPAddress.Loopback, s.LocalPort); // connects, then says nothing
                    T.Check(T.WaitKind(s, EventKind.CONNECTED) != null, "connected");
                    double t0 = T.Now;
                    Event d = T.WaitKind(s, EventKind.DISCONNECTED, interval * misses + 5000);
                    double dt = T.Now - t0;
                    T.Check(d != null && d.Reason == DisconnectReason.HEARTBEAT_LOST, $"heartbeat lost: {d}");
                    T.Check(dt >= interval * (misses - 1) && dt <= interval * misses + 3000, $"declared dead after {dt:F0} ms");
                }
                // The client side: a System.Net server accepts and never answers.
                var l = new TcpListener(IPAddress.Loopback, 0);
                l.Start();
                try
                {
                    using (var c = Client.Connect("127.0.0.1:" + ((IPEndPoint)l.LocalEndpoint).Port, cfg))
                    {
                        T.Check(T.WaitKind(c, EventKind.CONNECTED) != null, "client connected");
                        double t0 = T.Now;
                        Event d = T.WaitKind(c, EventKind.DISCONNECTED, interval * misses + 5000);
                        double dt = T.Now - t0;
                        T.Check(d != null && d.Reason == DisconnectReason.HEARTBEAT_LOST, $"client: heartbeat lost: {d}");
                        T.Check(dt <= interval * misses + 3000, $"client declared the server dead after {dt:F0} ms");
                    }
                }
                finally { l.Stop(); }
            }
        }

        static void S17()
        {
            Thread peer = Peer(s => { var b = new byte[1]; s.Receive(b); }, out string address);
            var c = Connection.Connect(address, 5000, framing: Framing.LengthPrefixed());
            Exception got = null;
            double returned = 0;
            Thread blocked = T.Start(() =>
            {
                try { c.RecvMsg(-1); }
                catch (Exception e) { got = e; }
                returned = T.Now;
            }, "blocked-recv");
            Thread.Sleep(200);
            double t0 = T.Now;
            c.Close();
            T.Join(blocked, 10000);
            T.Check(got is ClosedException, $"the blocked call got ClosedException: {got?.GetType().Name}: {got?.Message}");
            T.Check(returned - t0 < 2000, $"promptly ({returned - t0:F0} ms)");
            T.Join(peer);
            // The same for accept.
            var l = Listener.Listen("127.0.0.1:0");
            got = null;
            blocked = T.Start(() =>
            {
                try { l.Accept(-1); }
                catch (Exception e) { got = e; }
            }, "blocked-accept");
            Thread.Sleep(200);
            l.Dispose();
            T.Join(blocked, 10000);
            T.Check(got is ClosedException, $"accept got ClosedException: {got?.GetType().Name}");
        }

        static void S17Engine()
        {
            var s = Server.Listen("127.0.0.1:0");
            Exception got = null;
            Thread waiter = T.Start(() =>
            {
                try { while (true) s.NextEvent(-1); }
                catch (Exception e) { got = e; }
            }, "blocked-next-event");
            Thread.Sleep(200);
            s.Close();
            T.Join(waiter, 10000);
            T.Check(got is ClosedException, $"NextEvent got ClosedException: {got?.GetType().Name}: {got?.Message}");
            // Through a shutdown from another thread: the final CLOSED, then ClosedException.
            var s2 = Server.Listen("127.0.0.1:0");
            var kinds = new List<EventKind>();
            got = null;
            waiter = T.Start(() =>
            {
                try { while (true) { var e = s2.NextEvent(-1); if (e != null) kinds.Add(e.Kind); } }
                catch (Exception e) { got = e; }
            }, "waiter-through-shutdown");
            Thread.Sleep(200);
            s2.Shutdown(100);
            T.Join(waiter, 10000);
            T.Check(kinds.Contains(EventKind.CLOSED), "the final CLOSED event");
            T.Check(got is ClosedException, $"then ClosedException: {got?.GetType().Name}");
            s2.Close();
            // Library.ShutdownEngine wakes a client's waiter too.
            var c = Client.Connect("127.0.0.1:1");
            got = null;
            waiter = T.Start(() =>
            {
                try { while (true) c.NextEvent(-1); }
                catch (Exception e) { got = e; }
            }, "waiter-engine-shutdown");
            Thread.Sleep(200);
            Library.ShutdownEngine();
            T.Join(waiter, 10000);
            T.Check(got is ClosedException, $"ShutdownEngine woke the client's waiter: {got?.GetType().Name}");
            c.Close();
        }
    }

    /// <summary>A connection object over an invented handle number (for S08): the C ABI must answer
    /// BAD_HANDLE.</summary>
    internal static class Invented
    {
        internal static unsafe void Recv(long handle)
        {
            var buf = new byte[8];
            UIntPtr n;
            fixed (byte* p = buf) Utf8Check(NativeAccess.Recv(handle, p, 8, &n));
        }

        static void Utf8Check(int rc)
        {
            if (rc < 0) throw LibsockException.FromCode(rc, NativeAccess.LastError());
        }
    }
}
