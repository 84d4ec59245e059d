// KCP from C# against a peer no one here wrote: the reference implementation (ikcp.c, from the PyPI
// package kcp) driven by python-tests/peers/kcp_ref.py in a Python process; both directions, 1,000
// messages byte-exact, in order, once. S23 runs the same in a network namespace whose loopback
// drops 10 % and 30 % of the UDP packets (nftables), the C# side being this test program started
// again inside it (`LibsockTests.exe --kcp-child LOSS`). Also: the multicast sending interface, a
// server's per-client statistics, batch sends and batch pulls (Messages).
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using System.Text;
using System.Threading;

namespace Libsock.Tests
{
    /// <summary>KCP, the multicast interface, client statistics, batch sends and pulls.</summary>
    public static class KcpTests
    {
        const int N = 1000;

        /// <summary>Adds the tests to the run.</summary>
        public static void Register(List<KeyValuePair<string, Action>> t)
        {
            t.Add(new KeyValuePair<string, Action>("kcp_session_against_the_reference_server", () => SessionAgainstReference(N)));
            t.Add(new KeyValuePair<string, Action>("kcp_reference_client_against_the_kcp_server", () => ServerAgainstReference(N)));
            t.Add(new KeyValuePair<string, Action>("kcp_events_reasons_and_errors", EventsAndErrors));
            t.Add(new KeyValuePair<string, Action>("s23_kcp_under_10_percent_loss", () => S23(10)));
            t.Add(new KeyValuePair<string, Action>("s23_kcp_under_30_percent_loss", () => S23(30)));
            t.Add(new KeyValuePair<string, Action>("multicast_sending_interface", MulticastInterface));
            t.Add(new KeyValuePair<string, Action>("server_client_stats", ClientStats));
            t.Add(new KeyValuePair<string, Action>("blocking_connection_stats", ConnectionStatsTest));
            t.Add(new KeyValuePair<string, Action>("engine_send_batch", SendBatch));
            t.Add(new KeyValuePair<string, Action>("engine_messages", Messages));
        }

        /// <summary>Message <paramref name="i"/> of a run: 1 to 3,000 bytes (kcp_ref.py's msg).</summary>
        internal static byte[] Msg(int i)
        {
            int n = (i * 37) % 3000 + 1, b = (i * 7) % 256;
            var m = new byte[n];
            for (int j = 0; j < n; j++) m[j] = (byte)((b + j) % 256);
            return m;
        }

        static bool Same(byte[] a, byte[] b)
        {
            if (a.Length != b.Length) return false;
            for (int i = 0; i < a.Length; i++) if (a[i] != b[i]) return false;
            return true;
        }

        // ------------------------------------------------------------------ the reference peer

        const string Driver = @"
import json, os, sys, time
sys.path.insert(0, os.environ['LS_KCP_PEERS'])
import kcp_ref
if sys.argv[1] == 'server':
    with kcp_ref.RefServer() as ref:
        print(ref.address[1], flush=True)
        line = sys.stdin.readline().split()
        conv, n = int(line[0]), int(line[1])
        got = ref.received.get(conv, [])
        print(json.dumps({'got': len(got), 'in_order': got == [kcp_ref.msg(i) for i in range(n)]}), flush=True)
    os._exit(0)
else:
    r = kcp_ref.run_ref_client(('127.0.0.1', int(sys.argv[2])), int(sys.argv[3]), int(sys.argv[4]), timeout=200)
    print(json.dumps(r), flush=True)
    os._exit(0)
";

        static string PeersDir()
        {
            string peer = Environment.GetEnvironmentVariable("LS_TEST_PEER");
            if (string.IsNullOrEmpty(peer)) peer = "python-tests/peers/stdlib_peer.py";
            return Path.GetDirectoryName(Path.GetFullPath(peer));
        }

        /// <summary>Starts the reference peer (python3 with kcp_ref.py) with <paramref name="args"/>.</summary>
        static Process Reference(string args, out string scriptDir)
        {
            scriptDir = Issue16.TempDir("kcpref");
            string script = Path.Combine(scriptDir, "driver.py");
            File.WriteAllText(script, Driver);
            var psi = new ProcessStartInfo("python3", $"'{script}' {args}")
            {
                UseShellExecute = false,
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            psi.EnvironmentVariables["LS_KCP_PEERS"] = PeersDir();
            return Process.Start(psi);
        }

        /// <summary>A line of the peer's output within <paramref name="ms"/>.</summary>
        static string Line(Process p, int ms, string what)
        {
            var t = p.StandardOutput.ReadLineAsync();
            if (!t.Wait(ms) || t.Result == null)
            {
                try { p.Kill(); } catch (InvalidOperationException) { }
                var err = p.StandardError.ReadToEndAsync();
                throw new TestFailure($"the reference peer gave no {what} within {ms} ms: {(err.Wait(5000) ? err.Result : "")}");
            }
            return t.Result;
        }

        static void End(Process p, string dir)
        {
            if (!p.WaitForExit(10000)) { try { p.Kill(); } catch (InvalidOperationException) { } p.WaitForExit(5000); }
            p.Dispose();
            Directory.Delete(dir, true);
        }

        /// <summary>A value of a flat JSON object printed by the driver ("null", "true", a number).</summary>
        static string J(string json, string key)
        {
            int i = json.IndexOf("\"" + key + "\":", StringComparison.Ordinal);
            if (i < 0) throw new TestFailure($"no {key} in {json}");
            i += key.Length + 3;
            int j = i;
            while (j < json.Length && json[j] != ',' && json[j] != '}') j++;
            return json.Substring(i, j - i).Trim();
        }

        /// <summary>C#'s KcpSession against the reference server: <paramref name="n"/> messages echoed;
        /// returns the session's retransmits.</summary>
        static long SessionAgainstReference(int n)
        {
            const long conv = 0x0BADC0DE;
            Process p = Reference("server", out string dir);
            try
            {
                int port = int.Parse(Line(p, 30000, "port"));
                long retransmits;
                using (var s = KcpSession.Connect($"127.0.0.1:{port}", conv))
                {
                    s.Timeout = 120000;
                    T.Equal(conv, s.Conv, "conv");
                    for (int i = 0; i < n; i++) s.Send(Msg(i));
                    for (int i = 0; i < n; i++)
                        if (!Same(Msg(i), s.Recv())) throw new TestFailure($"echo {i} differs");
                    T.Throws<LibsockTimeoutException>(() => s.Recv(200), "nothing twice");
                    s.Flush();
                    KcpStats st = s.Stats();
                    T.Equal((long)n, st.MessagesOut, "messages out");
                    T.Equal((long)n, st.MessagesIn, "messages in");
                    T.Equal(0L, st.Waiting, "segments waiting after the flush");
                    T.Check(st.DatagramsIn > 0 && st.DatagramsOut > 0, "datagrams counted: " + st);
                    T.Equal($"127.0.0.1:{port}", s.PeerAddress, "peer address");
                    retransmits = st.Retransmits;
                }
                p.StandardInput.WriteLine($"{conv} {n}");
                p.StandardInput.Flush();
                string r = Line(p, 30000, "report");
                T.Equal(n.ToString(), J(r, "got"), "messages the reference server got");
                T.Equal("true", J(r, "in_order"), "the reference server got them once, in order, exact");
                return retransmits;
            }
            finally { End(p, dir); }
        }

        /// <summary>The reference client against C#'s KcpServer echoing on a thread; returns the
        /// server's retransmits.</summary>
        static long ServerAgainstReference(int n)
        {
            const long conv = 0x55667788;
            using (var server = KcpServer.Bind("127.0.0.1:0", new EngineConfig().Set(ConfigKey.IDLE_TIMEOUT_MS, 120000)))
            {
                var got = new List<byte[]>();
                int connected = 0;
                ulong client = 0;
                var stop = new ManualResetEventSlim();
                var th = T.Start(() =>
                {
                    while (!stop.IsSet)
                        foreach (Event e in server.Events(256, 50))
                        {
                            if (e.Kind == EventKind.MESSAGE) { got.Add(e.Data); server.Send(e.Client, e.Data); }
                            else if (e.Kind == EventKind.CONNECTED) { connected++; client = e.Client; }
                        }
                }, "kcp-echo");
                Process p = Reference($"client {server.LocalPort} {conv} {n}", out string dir);
                string r;
                try { r = Line(p, 110000, "result"); }
                finally { End(p, dir); stop.Set(); T.Join(th, 10000); }
                T.Equal(n.ToString(), J(r, "received"), "echoes the reference client got");
                T.Equal("null", J(r, "first_bad"), "the first bad echo");
                T.Equal("false", J(r, "extra"), "an echo twice");
                T.Equal(1, connected, "one CONNECTED");
                T.Equal(n, got.Count, "messages the server got");
                for (int i = 0; i < n; i++) if (!Same(Msg(i), got[i])) throw new TestFailure($"server message {i} differs");
                T.Equal(1, server.Clients().Length, "one client");
                T.Equal(client, server.Clients()[0], "its id");
                T.Check(server.ClientAddress(client).StartsWith("127.0.0.1:"), "its address");
                Stats st = server.Stats();
                T.Equal((long)n, st.MessagesIn, "messages in");
                T.Equal((long)n, st.MessagesOut, "messages out");
                T.Equal(1L, st.ConnectionsTotal, "connections total");
                KcpStats k = server.KcpStats();
                T.Check(k.DatagramsIn > 0 && k.DatagramsOut > 0, "datagrams counted: " + k);
                T.Equal(-1L, k.Waiting, "a server keeps no WAITING");
                return k.Retransmits;
            }
        }

        static void EventsAndErrors()
        {
            T.Throws<InvalidArgumentException>(() => new KcpConfig().Set(KcpKey.MTU, 10), "MTU 10");
            T.Throws<InvalidArgumentException>(() => new KcpConfig().Set(KcpKey.NODELAY, 3), "nodelay 3");
            T.Equal(1400L, new KcpConfig().Get(KcpKey.MTU), "the default MTU");
            T.Throws<UnsupportedException>(() => KcpServer.Bind("unix:/tmp/libsock-cs-kcp.sock"), "a Unix address");
            using (var kcp = new KcpConfig().Set(KcpKey.INTERVAL_MS, 10))
            using (var server = KcpServer.Bind("127.0.0.1:0", new EngineConfig().Set(ConfigKey.IDLE_TIMEOUT_MS, 300), kcp))
            {
                var s = KcpSession.Connect(server.LocalAddress, kcp: kcp);
                T.Check(s.Conv > 0 && s.Conv < (1L << 31), "a random conv: " + s.Conv);
                T.Throws<InvalidArgumentException>(() => s.Send(new byte[0]), "an empty message");
                T.Throws<FrameTooLargeException>(() => s.Send(new byte[200000]), "a message above 127 fragments");
                s.Send(T.B("hello"));
                Event c = T.WaitKind(server, EventKind.CONNECTED);
                T.Check(c != null, "CONNECTED");
                Event m = T.WaitKind(server, EventKind.MESSAGE);
                T.Check(m != null && T.S(m.Data) == "hello", "the message");
                T.Equal(c.Client, m.Client, "the same client");
                Event d = T.WaitKind(server, EventKind.DISCONNECTED, 20000);   // the session went silent
                T.Check(d != null && d.Reason == DisconnectReason.IDLE_TIMEOUT, $"idle timeout: {d}");
                T.Throws<ClosedException>(() => server.Send(d.Client, T.B("x")), "a send to a gone client");
                var s2 = KcpSession.Connect(server.LocalAddress, 77);
                s2.Send(T.B("kick me"));
                Event c2 = T.WaitKind(server, EventKind.CONNECTED);
                T.Check(c2 != null, "the second CONNECTED");
                T.Check(T.WaitKind(server, EventKind.MESSAGE) != null, "the second message");
                server.Disconnect(c2.Client);
                Event d2 = T.WaitKind(server, EventKind.DISCONNECTED);
                T.Check(d2 != null && d2.Reason == DisconnectReason.KICKED, $"kicked: {d2}");
                server.Shutdown();
                T.Check(T.WaitKind(server, EventKind.CLOSED) != null, "CLOSED");
                T.Throws<ClosedException>(() => server.NextEvent(0), "a pull after CLOSED");
                // Close from another thread wakes a blocked Recv.
                var closer = T.Start(() => { Thread.Sleep(200); s.Close(); }, "closer");
                T.Throws<ClosedException>(() => s.Recv(30000), "a Recv blocked while closed");
                T.Join(closer);
                T.Throws<ObjectDisposedException>(() => s.Recv(0), "a Recv after Close");
                s2.Close();
            }
        }

        // ------------------------------------------------------------------ S23

        const string LossRules = @"
table inet libsock_loss {{
    chain in {{
        type filter hook input priority 0; policy accept;
        meta l4proto udp numgen random mod 100 < {0} drop
    }}
}}
";

        static string Run(string exe, string args, int ms, string stdin = null)
        {
            var psi = new ProcessStartInfo(exe, args)
            {
                UseShellExecute = false,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                RedirectStandardInput = stdin != null,
            };
            using (var p = Process.Start(psi))
            {
                var o = p.StandardOutput.ReadToEndAsync();
                var e = p.StandardError.ReadToEndAsync();
                if (stdin != null) { p.StandardInput.Write(stdin); p.StandardInput.Close(); }
                if (!p.WaitForExit(ms))
                {
                    try { p.Kill(); } catch (InvalidOperationException) { }
                    p.WaitForExit(5000);
                    throw new TestFailure($"{exe} {args} did not end within {ms} ms: {(o.Wait(1000) ? o.Result : "")}");
                }
                o.Wait(5000);
                e.Wait(5000);
                if (p.ExitCode != 0) throw new TestFailure($"{exe} {args} failed ({p.ExitCode}): {o.Result} {e.Result}");
                return o.Result;
            }
        }

        static void S23(int loss)
        {
            if (Environment.UserName != "root")
            {
                // CI runs as root, where this must run (a skip there fails 55-csharp.sh).
                throw new TestSkipped("a network namespace with packet loss needs root (ip netns, nft)");
            }
            string ns = $"lscs{Process.GetCurrentProcess().Id}x{loss}";
            Run("ip", $"netns add {ns}", 30000);
            try
            {
                Run("ip", $"netns exec {ns} ip link set lo up", 30000);
                Run("ip", $"netns exec {ns} nft -f -", 30000, string.Format(LossRules, loss));
                string exe = Assembly.GetEntryAssembly().Location;
                string output = Run("ip", $"netns exec {ns} mono --debug '{exe}' --kcp-child {loss}", 115000);
                Console.WriteLine("    " + output.Trim().Replace("\n", "\n    "));
                T.Check(output.Contains("kcp-child: ok"), "the child's verdict: " + output);
            }
            finally { Run("ip", $"netns del {ns}", 30000); }
        }

        /// <summary>The C# side of S23 inside the lossy namespace: a UDP probe that the loss is real,
        /// then both directions against the reference; prints what it saw and "kcp-child: ok".
        /// Returns the exit code.</summary>
        public static int Child(int loss)
        {
            try
            {
                int arrived = UdpProbe();
                double want = 2000 * (100 - loss) / 100.0;
                Console.WriteLine($"loss {loss} %: {arrived} of 2000 UDP datagrams arrived");
                T.Check(arrived > want * 0.8 && arrived < want * 1.2 + 20, $"the loss is not {loss} %: {arrived} of 2000 arrived");
                long a = SessionAgainstReference(N);
                Console.WriteLine($"C# KcpSession -> reference server: {N} echoes intact, once, in order; {a} retransmits");
                long b = ServerAgainstReference(N);
                Console.WriteLine($"reference client -> C# KcpServer: {N} echoes intact, once, in order; {b} retransmits");
                T.Check(a > 0 && b > 0, "the loss was not felt (no retransmits)");
                Console.WriteLine("kcp-child: ok");
                return 0;
            }
            catch (Exception e)
            {
                Console.WriteLine($"kcp-child: FAIL {e.GetType().Name}: {e.Message}");
                return 1;
            }
            finally { Library.ShutdownEngine(); }
        }

        static int UdpProbe()
        {
            using (var a = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0)))
            using (var b = new UdpClient())
            {
                var to = (IPEndPoint)a.Client.LocalEndPoint;
                int n = 0;
                var x = new byte[] { 120 };
                for (int batch = 0; batch < 20; batch++)
                {
                    for (int i = 0; i < 100; i++) b.Send(x, 1, to);
                    while (a.Client.Poll(50000, SelectMode.SelectRead))
                    {
                        IPEndPoint from = null;
                        a.Receive(ref from);
                        n++;
                    }
                }
                return n;
            }
        }

        // ------------------------------------------------------------------ multicast, client stats, batches

        static void MulticastInterface()
        {
            // Multicast to a group on loopback: the receiver joins on 127.0.0.1, the sender sends
            // out of 127.0.0.1 (without the interface the datagram would leave by the default route).
            using (var rx = Datagram.Bind("0.0.0.0:0", new SocketOptions().Set(SockOpt.REUSE_ADDRESS, true)))
            using (var tx = Datagram.Bind("127.0.0.1:0"))
            {
                rx.JoinMulticast("239.255.16.16", "127.0.0.1");
                tx.SetMulticastInterface("127.0.0.1");
                tx.SetOption(SockOpt.MULTICAST_LOOP, true);
                tx.SendTo(T.B("to the group"), $"239.255.16.16:{rx.LocalPort}");
                ReceivedDatagram d = rx.RecvFrom(100, 5000);
                T.Equal("to the group", T.S(d.Data), "the group's datagram");
                T.Check(d.Peer.StartsWith("127.0.0.1:"), "sent from the loopback interface: " + d.Peer);
                tx.SetMulticastInterface(null);                     // the OS's choice again
                T.Throws<InvalidArgumentException>(() => tx.SetMulticastInterface("not an interface"), "a malformed interface");
                T.Throws<AddrNotAvailableException>(() => tx.SetMulticastInterface("192.0.2.123"), "an address this host does not have");
            }
        }

        static void ClientStats()
        {
            long before = (long)(DateTime.UtcNow - new DateTime(1970, 1, 1, 0, 0, 0, DateTimeKind.Utc)).TotalMilliseconds;
            using (var server = Server.Listen("127.0.0.1:0"))
            using (var tc = new TcpClient())
            {
                tc.Connect(IPAddress.Loopback, server.LocalPort);
                Event c = T.WaitKind(server, EventKind.CONNECTED);
                T.Check(c != null, "CONNECTED");
                // Two length-prefixed messages from a System.Net client: 4 + 5 and 4 + 3 bytes.
                tc.Client.Send(new byte[] { 0, 0, 0, 5, 104, 101, 108, 108, 111, 0, 0, 0, 3, 97, 98, 99 });
                T.Check(T.WaitKind(server, EventKind.MESSAGE) != null && T.WaitKind(server, EventKind.MESSAGE) != null, "two messages");
                server.Send(c.Client, T.B("reply"));
                var buf = new byte[9];
                tc.Client.ReceiveTimeout = 10000;
                Scenarios.ReadExact(tc.Client, buf, 0, 9);
                // The engine counts a write when it returns, which can be just after the peer read it.
                ConnectionStats st = server.ClientStats(c.Client);
                for (double end = T.Now + 5000; st.MessagesOut < 1 && T.Now < end; st = server.ClientStats(c.Client)) Thread.Sleep(10);
                T.Equal(16L, st.BytesIn, "bytes in");
                T.Equal(2L, st.MessagesIn, "messages in");
                T.Equal(9L, st.BytesOut, "bytes out");
                T.Equal(1L, st.MessagesOut, "messages out");
                T.Equal(0L, st.QueuedBytes, "nothing queued");
                T.Check(!st.Tls, "not TLS");
                long now = (long)(DateTime.UtcNow - new DateTime(1970, 1, 1, 0, 0, 0, DateTimeKind.Utc)).TotalMilliseconds;
                T.Check(st.ConnectedSinceMs >= before - 1000 && st.ConnectedSinceMs <= now + 1000, $"connected since {st.ConnectedSince:o}");
                T.Throws<ClosedException>(() => server.ClientStats(c.Client + 1000), "an unknown client");
            }
        }

        /// <summary>A blocking connection's counters against a System.Net peer: bytes and messages
        /// each way, since when; a counter a connection does not keep is UnsupportedException.</summary>
        static void ConnectionStatsTest()
        {
            long before = (long)(DateTime.UtcNow - new DateTime(1970, 1, 1, 0, 0, 0, DateTimeKind.Utc)).TotalMilliseconds;
            Thread peer = Scenarios.Peer(sock =>
            {
                var buf = new byte[16];
                Scenarios.ReadExact(sock, buf, 0, 16);                    // two framed messages: 4+5, 4+3
                sock.Send(new byte[] { 0, 0, 0, 2, 111, 107 });           // one back: 4+2
                sock.Receive(new byte[1]);                                // until we close
            }, out string address, "stats-peer");
            using (var c = Connection.Connect(address, 10000, framing: Framing.LengthPrefixed()))
            {
                c.Timeout = 10000;
                ConnectionStats st0 = c.Stats();
                T.Equal(0L, st0.BytesOut, "nothing sent yet");
                c.SendMsg(T.B("hello"));
                c.SendMsg(T.B("abc"));
                T.Equal("ok", T.S(c.RecvMsg()), "the reply");
                ConnectionStats st = c.Stats();
                T.Equal(16L, st.BytesOut, "bytes out");
                T.Equal(2L, st.MessagesOut, "messages out");
                T.Equal(6L, st.BytesIn, "bytes in");
                T.Equal(1L, st.MessagesIn, "messages in");
                T.Equal(0L, st.QueuedBytes, "a blocking connection queues nothing");
                T.Check(!st.Tls, "not TLS");
                long now = (long)(DateTime.UtcNow - new DateTime(1970, 1, 1, 0, 0, 0, DateTimeKind.Utc)).TotalMilliseconds;
                T.Check(st.ConnectedSinceMs >= before - 1000 && st.ConnectedSinceMs <= now + 1000, $"connected since {st.ConnectedSince:o}");
                T.Equal(16L, c.Stat(Stat.BYTES_OUT), "one counter");
                T.Throws<UnsupportedException>(() => c.Stat(Stat.CONNECTIONS), "a counter a connection does not keep");
            }
            T.Join(peer);
        }

        static void SendBatch()
        {
            using (var server = Server.Listen("127.0.0.1:0"))
            using (var client = Client.Connect(server.LocalAddress))
            {
                Event c = T.WaitKind(server, EventKind.CONNECTED);
                T.Check(c != null && T.WaitKind(client, EventKind.CONNECTED) != null, "connected");
                var batch = new List<byte[]>();
                for (int i = 0; i < 100; i++) batch.Add(Msg(i));
                T.Equal(100, server.SendBatch(c.Client, batch, 10000), "server batch queued");
                for (int i = 0; i < 100; i++)
                {
                    Event m = T.WaitKind(client, EventKind.MESSAGE);
                    T.Check(m != null && Same(Msg(i), m.Data), $"client got message {i} in order");
                }
                T.Equal(100, client.SendBatch(batch), "client batch queued");
                for (int i = 0; i < 100; i++)
                {
                    Event m = T.WaitKind(server, EventKind.MESSAGE);
                    T.Check(m != null && Same(Msg(i), m.Data), $"server got message {i} in order");
                }
                T.Equal(0, client.SendBatch(new List<byte[]>()), "an empty batch");
                // One message above the framing's limit: none of the batch is queued.
                using (var small = Server.Listen("127.0.0.1:0", new EngineConfig().SetFraming(Framing.LengthPrefixed(4, true, 1000))))
                using (var cl = Client.Connect(small.LocalAddress))
                {
                    Event sc = T.WaitKind(small, EventKind.CONNECTED);
                    T.Check(sc != null, "connected to the small server");
                    T.Throws<FrameTooLargeException>(() => small.SendBatch(sc.Client, new List<byte[]> { T.B("ok"), new byte[2000] }), "a frame above the limit");
                    T.Check(T.WaitKind(cl, EventKind.MESSAGE, 500) == null, "nothing of the refused batch arrived");
                }
                T.Throws<ClosedException>(() => server.SendBatch(c.Client + 1000, batch), "an unknown client");
                T.Throws<InvalidArgumentException>(() => server.SendBatch(c.Client, new List<byte[]> { null }), "a null message");
            }
        }

        /// <summary>Waits (up to 10 s) until <paramref name="o"/> holds at least <paramref name="n"/> events.</summary>
        static bool PendingAtLeast(EngineObject o, long n)
        {
            double end = T.Now + 10000;
            while (o.PendingEvents < n)
            {
                if (T.Now > end) return false;
                Thread.Sleep(2);
            }
            return true;
        }

        /// <summary>EngineObject.Messages (ls_next_messages) over loopback: a batch sent with
        /// SendBatch pulled whole, in order, with the sender's id; at most max; a message larger
        /// than the landing buffer; the stop before a DISCONNECTED event; the errors.</summary>
        static void Messages()
        {
            using (var server = Server.Listen("127.0.0.1:0"))
            using (var client = Client.Connect(server.LocalAddress))
            {
                Event c = T.WaitKind(server, EventKind.CONNECTED);
                Event cc = T.WaitKind(client, EventKind.CONNECTED);
                T.Check(c != null && cc != null, "connected");
                T.Equal(0, server.Messages(8, 0).Count, "nothing queued: an empty list (the timeout)");
                // 100 messages of 1 to 3,000 bytes (about 150 KB: more than one 64 KiB landing buffer).
                var batch = new List<byte[]>();
                for (int i = 0; i < 100; i++) batch.Add(Msg(i));
                T.Equal(100, client.SendBatch(batch, 10000), "client batch queued");
                T.Check(PendingAtLeast(server, 100), "the server holds the 100 messages");
                int got = 0, calls = 0, first = -1;
                while (got < 100 && calls < 200)
                {
                    List<Message> ms = server.Messages(256, 5000);
                    calls++;
                    T.Check(ms.Count > 0, $"call {calls} took nothing after {got} messages");
                    if (first < 0) first = ms.Count;
                    foreach (Message m in ms)
                    {
                        T.Check(got < 100, "more messages than were sent");
                        T.Equal(c.Client, m.Client, $"client id of message {got}");
                        T.Check(Same(Msg(got), m.Data), $"message {got}: {m} differs (order or bytes)");
                        got++;
                    }
                }
                T.Equal(100, got, "messages pulled");
                T.Check(first > 1, $"the first call took {first} message(s) of 100 queued");
                T.Equal(0L, server.PendingEvents, "nothing left queued");
                // At most max; the rest stays for the next call. A client's id is its connection number.
                T.Equal(5, server.SendBatch(c.Client, new List<byte[]> { T.B("one"), T.B("two"), T.B(""), T.B("four"), T.B("five") }, 5000), "server batch queued");
                T.Check(PendingAtLeast(client, 5), "the client holds the 5 messages");
                List<Message> two = client.Messages(2, 5000);
                T.Equal(2, two.Count, "max 2");
                T.Equal("one", two[0].Text, "first of max 2");
                T.Equal("two", two[1].Text, "second of max 2");
                T.Equal(cc.Client, two[0].Client, "a client's messages carry its connection number");
                List<Message> rest = client.Messages(64, 5000);
                T.Equal(3, rest.Count, "the rest");
                T.Equal(0, rest[0].Data.Length, "an empty message in the batch");
                T.Equal("four five", rest[1].Text + " " + rest[2].Text, "the last two, in order");
                // Larger than the landing buffer: BUFFER_TOO_SMALL inside, taken whole.
                var big = new byte[300 * 1024];
                for (int i = 0; i < big.Length; i++) big[i] = (byte)(i * 31);
                T.Equal(2, server.SendBatch(c.Client, new List<byte[]> { big, T.B("after") }, 5000), "a large message queued");
                T.Check(PendingAtLeast(client, 2), "the client holds the large message");
                var large = new List<Message>();
                for (int i = 0; i < 10 && large.Count < 2; i++) large.AddRange(client.Messages(64, 5000));
                T.Equal(2, large.Count, "the large message and the next");
                T.Check(Same(big, large[0].Data), "the 300 KB message whole");
                T.Equal("after", large[1].Text, "then the small one");
                // Bad arguments: the door's InvalidArgumentException, nothing taken.
                client.Send(T.B("kept"));
                T.Check(PendingAtLeast(server, 1), "a message for the bad-argument calls");
                T.Throws<InvalidArgumentException>(() => server.Messages(0, 0), "max 0");
                T.Throws<InvalidArgumentException>(() => server.Messages(-1, 0), "max -1");
                T.Throws<InvalidArgumentException>(() => server.Messages(8, -3), "timeout -3");
                List<Message> kept = server.Messages(8, 5000);
                T.Check(kept.Count == 1 && kept[0].Text == "kept", "the bad calls took nothing");
                using (var ds = DatagramServer.Bind("127.0.0.1:0"))
                    T.Throws<InvalidArgumentException>(() => ds.Messages(8, 0), "a datagram server (core refuses)");
                // The client says two more things and leaves: Messages stops before DISCONNECTED,
                // returns nothing then, and NextEvent takes the DISCONNECTED.
                T.Equal(2, client.SendBatch(new List<byte[]> { T.B("last1"), T.B("last2") }, 5000), "last batch queued");
                client.Close(5000);
                T.Check(PendingAtLeast(server, 3), "the last messages and the DISCONNECTED");
                List<Message> last = server.Messages(8, 5000);
                T.Equal(2, last.Count, "the last messages, not the DISCONNECTED");
                T.Equal("last1 last2", last[0].Text + " " + last[1].Text, "the last messages in order");
                T.Equal(0, server.Messages(8, 5000).Count, "nothing while a DISCONNECTED is next");
                T.Equal(1L, server.PendingEvents, "the DISCONNECTED is still queued");
                Event d = server.NextEvent(5000);
                T.Check(d != null && d.Kind == EventKind.DISCONNECTED, $"then NextEvent: {d}");
                T.Equal(c.Client, d.Client, "the DISCONNECTED names the client");
                // After the final CLOSED: ClosedException, as NextEvent.
                server.Shutdown(1000);
                T.Check(T.WaitKind(server, EventKind.CLOSED) != null, "CLOSED after Shutdown");
                T.Throws<ClosedException>(() => server.Messages(8, 0), "Messages after CLOSED");
            }
        }
    }
}
