// docs/SCENARIOS.md S22 (file transfer with a break and a resume), S24 (SOCKS5 through dante's
// danted, with a deny rule) and descriptor passing with a second process (a Python program using
// the standard library's socket.send_fds/recv_fds), all on real sockets.
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Threading;

namespace Libsock.Tests
{
    /// <summary>What issue 16 brought to the C# door: file transfer, proxies, descriptors.</summary>
    public static class Issue16
    {
        /// <summary>Adds the tests to the run.</summary>
        public static void Register(List<KeyValuePair<string, Action>> t)
        {
            t.Add(new KeyValuePair<string, Action>("s22_file_transfer_50mb_break_then_resume", S22));
            t.Add(new KeyValuePair<string, Action>("file_transfer_errors_cancel_and_async", TransferErrors));
            t.Add(new KeyValuePair<string, Action>("file_transfer_against_a_python_stdlib_peer", TransferInterop));
            t.Add(new KeyValuePair<string, Action>("s24_socks5_through_danted", S24));
            t.Add(new KeyValuePair<string, Action>("socks5_user_and_password_through_microsocks", Microsocks));
            t.Add(new KeyValuePair<string, Action>("http_connect_through_tinyproxy", Tinyproxy));
            t.Add(new KeyValuePair<string, Action>("fds_with_a_python_process", FdsWithPython));
            t.Add(new KeyValuePair<string, Action>("fds_between_two_libsock_connections", FdsLocal));
        }

        internal static string TempDir(string what)
        {
            string d = Path.Combine(Path.GetTempPath(), $"libsock-cs-{what}-{Process.GetCurrentProcess().Id}-{Guid.NewGuid():N}");
            Directory.CreateDirectory(d);
            return d;
        }

        internal static string Hex(byte[] b)
        {
            var s = new StringBuilder(b.Length * 2);
            foreach (byte x in b) s.Append(x.ToString("x2"));
            return s.ToString();
        }

        static string Sha256File(string path)
        {
            using (var f = File.OpenRead(path))
            using (var h = SHA256.Create())
                return Hex(h.ComputeHash(f));
        }

        /// <summary>A connected pair on loopback: (client, accepted), both with a 30 s timeout.</summary>
        static void Pair(Listener l, out Connection client, out Connection server)
        {
            client = Connection.Connect(l.LocalAddress, 10000);
            server = l.Accept(10000);
            client.Timeout = 30000;
            server.Timeout = 30000;
        }

        // ------------------------------------------------------------------ S22

        static void S22()
        {
            const int size = 50000000;
            string dir = TempDir("s22");
            try
            {
                var data = new byte[size];
                new Random(22).NextBytes(data);
                string src = Path.Combine(dir, "big.bin");
                File.WriteAllBytes(src, data);
                string digest;
                using (var h = SHA256.Create()) digest = Hex(h.ComputeHash(data));
                data = null;
                string inbox = Path.Combine(dir, "in");
                Directory.CreateDirectory(inbox);
                string final = Path.Combine(inbox, "big.bin"), part = final + ".libsock-part";
                long kept;
                using (var l = Listener.Listen("127.0.0.1:0"))
                {
                    // 1. Broken in the middle: the sender's connection closes once half is sent.
                    Pair(l, out Connection client, out Connection conn);
                    Exception error = null;
                    using (var receiver = FileTransfer.Receiver(inbox))
                    {
                        var th = new Thread(() =>
                        {
                            try { receiver.Run(conn); }
                            catch (Exception e) { error = e; }
                        }) { IsBackground = true };
                        th.Start();
                        using (var sender = FileTransfer.Sender(src))
                        {
                            while (sender.Progress().Done < size / 2)
                            {
                                T.Equal(TransferState.TRANSFERRING, sender.Step(client), "a step in the middle");
                                T.Check(!File.Exists(final), "a partial file under the final name");
                            }
                        }
                        client.Close();
                        T.Check(th.Join(30000), "the receiver did not end after the break");
                        T.Throws<InvalidArgumentException>(() => receiver.Step(conn), "a step after the failure");
                        conn.Close();
                        T.Check(error is ClosedException, $"the receiver's error: {error}");
                        T.Check(!File.Exists(final), "the final name exists after the break");
                        kept = new FileInfo(part).Length;
                        T.Check(kept > 0 && kept < size, $"the partial file has {kept} bytes");
                        TransferProgress p = receiver.Progress();
                        T.Equal(kept, p.Done, "the receiver's progress");
                        T.Equal((long)size, p.Total, "the receiver's total");
                        T.Equal(TransferState.FAILED, p.State, "the receiver's state");
                    }

                    // 2. Resumed: only the rest goes.
                    Pair(l, out client, out conn);
                    using (var resumed = FileTransfer.Receiver(inbox, resume: true))
                    using (var sender = FileTransfer.Sender(src))
                    {
                        TransferInfo got = null;
                        var th = new Thread(() =>
                        {
                            try { got = resumed.Run(conn); }
                            catch (Exception e) { error = e; }
                        }) { IsBackground = true };
                        error = null;
                        th.Start();
                        TransferState s;
                        while ((s = sender.Step(client)) != TransferState.DONE)
                            if (s == TransferState.TRANSFERRING)
                                T.Check(!File.Exists(final), "the final name exists before the check");
                        T.Check(th.Join(30000), "the resumed receiver did not end");
                        T.Check(error == null, $"the resumed receiver failed: {error}");
                        T.Equal(kept, got.ResumedAt, "the receiver resumed at the kept bytes");
                        T.Equal(kept, sender.Info.ResumedAt, "the sender resumed at the kept bytes");
                        T.Equal(2, got.Version, "protocol version");
                        T.Equal(digest, got.Sha256, "the receiver's SHA-256");
                        T.Equal(digest, sender.Sha256, "the sender's SHA-256");
                        T.Equal("big.bin", got.Name, "the name");
                        T.Equal(final, got.Path, "the receiver's path");
                        T.Equal(TransferState.DONE, resumed.State, "the receiver's state");
                        T.Equal((long)size, sender.Progress().Done, "the sender's progress");
                    }
                    client.Close();
                    conn.Close();
                }
                T.Check(!File.Exists(part), "the partial file is left");
                T.Equal(digest, Sha256File(final), "the received file's SHA-256");
            }
            finally { Directory.Delete(dir, true); }
        }

        static void TransferErrors()
        {
            string dir = TempDir("xfer");
            try
            {
                string src = Path.Combine(dir, "a.txt");
                File.WriteAllText(src, "hello transfer");
                T.Throws<IoException>(() => FileTransfer.Sender(Path.Combine(dir, "missing")), "a missing file");
                T.Throws<InvalidArgumentException>(() => FileTransfer.Sender(dir), "a directory");
                T.Throws<InvalidArgumentException>(() => FileTransfer.Sender(null), "a null path");
                T.Throws<IoException>(() => FileTransfer.Receiver(src), "an existing file without overwrite");
                using (var l = Listener.Listen("127.0.0.1:0"))
                {
                    // Cancel before the first step; then a step is refused.
                    Pair(l, out Connection client, out Connection conn);
                    using (var s = FileTransfer.Sender(src))
                    {
                        s.Cancel();
                        T.Throws<InterruptedException>(() => s.Step(client), "a cancelled step");
                        T.Equal(TransferState.FAILED, s.State, "state after cancel");
                    }
                    client.Close();
                    conn.Close();

                    // RunAsync on both ends, a name given, into a file path with overwrite.
                    Pair(l, out client, out conn);
                    string dest = Path.Combine(dir, "b.txt");
                    File.WriteAllText(dest, "old");
                    using (var s = FileTransfer.Sender(src, name: "given.txt"))
                    using (var r = FileTransfer.Receiver(dest, overwrite: true))
                    {
                        var rt = r.RunAsync(conn);
                        var st = s.RunAsync(client);
                        T.Check(st.Wait(30000) && rt.Wait(30000), "the transfer tasks did not end");
                        T.Equal("given.txt", rt.Result.Name, "the announced name");
                        T.Equal(14L, rt.Result.Size, "size");
                        T.Equal(st.Result.Sha256, rt.Result.Sha256, "both SHA-256");
                        T.Equal("hello transfer", File.ReadAllText(dest), "the overwritten file");
                    }
                    client.Close();
                    conn.Close();

                    // A cancelled token ends RunAsync with InterruptedException once the waiting piece
                    // ends (the connection's 300 ms timeout, or its close).
                    Pair(l, out client, out conn);
                    conn.Timeout = 300;
                    using (var r = FileTransfer.Receiver(Path.Combine(dir, "never")))
                    using (var cts = new CancellationTokenSource())
                    {
                        var rt = r.RunAsync(conn, cts.Token);
                        cts.Cancel();
                        try { rt.Wait(30000); }
                        catch (AggregateException) { }
                        T.Check(rt.IsFaulted, "the cancelled task did not fault");
                        Exception e = rt.Exception.InnerException;
                        T.Check(e is InterruptedException || e is LibsockTimeoutException, $"the cancelled task's error: {e}");
                    }
                    client.Close();
                    conn.Close();
                }
                T.Check(!File.Exists(Path.Combine(dir, "never")), "a cancelled receive left a file");
            }
            finally { Directory.Delete(dir, true); }
        }

        const string LsfDriver = @"
import json, os, socket, sys
sys.path.insert(0, os.environ['LS_PEERS'])
import lsf_peer
s = socket.create_connection(('127.0.0.1', int(sys.argv[2])), timeout=30)
try:
    if sys.argv[1] == 'send':
        r = lsf_peer.send(s, sys.argv[3], 2, int(sys.argv[4]) or None)
    else:
        r = lsf_peer.recv(s, sys.argv[3], False, sys.argv[4] == '1')
finally:
    s.close()
print(json.dumps(r), flush=True)
";

        /// <summary>Runs the protocol's standard-library implementation (python-tests/peers/lsf_peer.py)
        /// as a client of <paramref name="l"/>: "send PATH UPTO" or "recv OUT RESUME"; serve the
        /// accepted connection with <paramref name="serve"/>; returns the peer's JSON line.</summary>
        static string Lsf(Listener l, string dir, string args, Action<Connection> serve)
        {
            string script = Path.Combine(dir, "lsf_driver.py");
            File.WriteAllText(script, LsfDriver);
            var psi = new ProcessStartInfo("python3", $"'{script}' {args.Replace("PORT", l.LocalPort.ToString())}")
            {
                UseShellExecute = false,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            string peers = Path.GetDirectoryName(Path.GetFullPath(Environment.GetEnvironmentVariable("LS_TEST_PEER") ?? "python-tests/peers/stdlib_peer.py"));
            psi.EnvironmentVariables["LS_PEERS"] = peers;
            using (var p = Process.Start(psi))
            {
                var o = p.StandardOutput.ReadToEndAsync();
                var e = p.StandardError.ReadToEndAsync();
                try
                {
                    using (Connection c = l.Accept(30000))
                    {
                        c.Timeout = 30000;
                        serve(c);
                    }
                }
                finally
                {
                    if (!p.WaitForExit(30000)) { try { p.Kill(); } catch (InvalidOperationException) { } p.WaitForExit(5000); }
                }
                T.Check(o.Wait(5000) && e.Wait(5000), "the peer's output");
                T.Equal(0, p.ExitCode, "the Python peer's exit code (stderr: " + e.Result + ")");
                return o.Result.Trim();
            }
        }

        static string JsonValue(string json, string key)
        {
            int i = json.IndexOf("\"" + key + "\": ", StringComparison.Ordinal);
            if (i < 0) throw new TestFailure($"no {key} in {json}");
            i += key.Length + 4;
            int j = i;
            while (j < json.Length && json[j] != ',' && json[j] != '}') j++;
            return json.Substring(i, j - i).Trim().Trim('"');
        }

        /// <summary>Both directions against an implementation of the protocol without libsock: its
        /// sender into a C# receiver (broken after 2 MB by the peer, then resumed) and a C# sender
        /// into its receiver.</summary>
        static void TransferInterop()
        {
            string dir = TempDir("lsf");
            try
            {
                const int size = 5000000;
                var data = new byte[size];
                new Random(5).NextBytes(data);
                string src = Path.Combine(dir, "five.bin"), inbox = Path.Combine(dir, "in"), outbox = Path.Combine(dir, "out");
                File.WriteAllBytes(src, data);
                Directory.CreateDirectory(inbox);
                Directory.CreateDirectory(outbox);
                string digest = Sha256File(src);
                using (var l = Listener.Listen("127.0.0.1:0"))
                {
                    // Its sender stops after 2 MB: the C# receiver keeps the part.
                    Exception error = null;
                    Lsf(l, dir, $"send PORT '{src}' 2000000", c =>
                    {
                        using (var r = FileTransfer.Receiver(inbox))
                        {
                            try { r.Run(c); }
                            catch (Exception e) { error = e; }
                        }
                    });
                    T.Check(error is ClosedException, $"the receiver's error after the break: {error}");
                    T.Check(!File.Exists(Path.Combine(inbox, "five.bin")), "a partial file under the final name");
                    long kept = new FileInfo(Path.Combine(inbox, "five.bin.libsock-part")).Length;
                    T.Check(kept > 0 && kept <= 2000000, $"kept {kept} bytes");
                    // Again, whole: the C# receiver offers the part, its sender sends the rest.
                    TransferInfo got = null;
                    string sent = Lsf(l, dir, $"send PORT '{src}' 0", c =>
                    {
                        using (var r = FileTransfer.Receiver(inbox, resume: true)) got = r.Run(c);
                    });
                    T.Equal(kept.ToString(), JsonValue(sent, "resumed_at"), "where its sender resumed");
                    T.Equal("true", JsonValue(sent, "ok"), "its sender's verdict");
                    T.Equal(kept, got.ResumedAt, "where the C# receiver resumed");
                    T.Equal(digest, got.Sha256, "the C# receiver's SHA-256");
                    T.Equal(digest, Sha256File(Path.Combine(inbox, "five.bin")), "the received file");
                    // A C# sender into its receiver.
                    TransferInfo info = null;
                    string recv = Lsf(l, dir, $"recv PORT '{outbox}' 0", c =>
                    {
                        using (var s = FileTransfer.Sender(src)) info = s.Run(c);
                    });
                    T.Equal("true", JsonValue(recv, "ok"), "its receiver's verdict");
                    T.Equal(digest, JsonValue(recv, "sha256"), "its receiver's SHA-256");
                    T.Equal(digest, info.Sha256, "the C# sender's SHA-256");
                    T.Equal(digest, Sha256File(Path.Combine(outbox, "five.bin")), "the file it wrote");
                }
            }
            finally { Directory.Delete(dir, true); }
        }

        // ------------------------------------------------------------------ S24

        internal static int FreePort()
        {
            var l = new TcpListener(IPAddress.Loopback, 0);
            l.Start();
            int p = ((IPEndPoint)l.LocalEndpoint).Port;
            l.Stop();
            return p;
        }

        /// <summary>danted on a loopback port (SOCKS5, no authentication) whose rule refuses
        /// 127.0.0.1:<paramref name="denied"/>; killed by Dispose.</summary>
        sealed class Dante : IDisposable
        {
            public readonly int Port;
            readonly Process proc;
            readonly string dir;

            public Dante(int denied)
            {
                string exe = File.Exists("/usr/sbin/danted") ? "/usr/sbin/danted" : "danted";
                dir = TempDir("danted");
                Port = FreePort();
                string conf = Path.Combine(dir, "danted.conf");
                bool root = Environment.UserName == "root";
                File.WriteAllText(conf,
                    "logoutput: stderr\n" +
                    $"internal: 127.0.0.1 port = {Port}\n" +
                    "external: 127.0.0.1\n" +
                    "clientmethod: none\nsocksmethod: none\n" +
                    (root ? "user.privileged: root\nuser.unprivileged: nobody\n" : "") +
                    "client pass { from: 127.0.0.0/8 to: 0.0.0.0/0 }\n" +
                    $"socks block {{ from: 0.0.0.0/0 to: 127.0.0.1/32 port = {denied} log: error }}\n" +
                    "socks pass { from: 0.0.0.0/0 to: 0.0.0.0/0 }\n");
                var psi = new ProcessStartInfo("/bin/sh")
                {
                    Arguments = $"-c \"exec '{exe}' -f '{conf}' -N 1 -p '{dir}/danted.pid' </dev/null >'{dir}/log' 2>&1\"",
                    UseShellExecute = false,
                };
                proc = Process.Start(psi);
                double end = T.Now + 30000;
                while (true)
                {
                    if (proc.HasExited) throw new TestFailure($"danted exited at start ({proc.ExitCode}): {Log}");
                    try
                    {
                        using (var c = new TcpClient()) { c.Connect(IPAddress.Loopback, Port); break; }
                    }
                    catch (SocketException)
                    {
                        if (T.Now > end) throw new TestFailure($"danted did not listen on {Port}: {Log}");
                        Thread.Sleep(20);
                    }
                }
            }

            public string Url => $"socks5://127.0.0.1:{Port}";

            public string Log
            {
                get
                {
                    try { return File.ReadAllText(Path.Combine(dir, "log")); }
                    catch (IOException) { return ""; }
                }
            }

            public void Dispose()
            {
                try { if (!proc.HasExited) proc.Kill(); } catch (InvalidOperationException) { }
                proc.WaitForExit(10000);
                Directory.Delete(dir, true);
            }
        }

        /// <summary>A System.Net echo server for any number of clients until disposed.</summary>
        sealed class EchoServer : IDisposable
        {
            readonly TcpListener l = new TcpListener(IPAddress.Loopback, 0);
            readonly Thread th;
            volatile bool stop;

            public EchoServer()
            {
                l.Start();
                th = new Thread(() =>
                {
                    while (!stop)
                    {
                        if (!l.Server.Poll(100000, SelectMode.SelectRead)) continue;
                        Socket s;
                        try { s = l.AcceptSocket(); }
                        catch (Exception) { return; }
                        var one = new Thread(() =>
                        {
                            using (s)
                            {
                                s.ReceiveTimeout = 30000;
                                var buf = new byte[65536];
                                try
                                {
                                    int n;
                                    while ((n = s.Receive(buf)) > 0) s.Send(buf, 0, n, SocketFlags.None);
                                }
                                catch (SocketException) { }
                            }
                        }) { IsBackground = true };
                        one.Start();
                    }
                }) { IsBackground = true };
                th.Start();
            }

            public int Port => ((IPEndPoint)l.LocalEndpoint).Port;

            public void Dispose()
            {
                stop = true;
                th.Join(5000);
                l.Stop();
            }
        }

        static void S24()
        {
            // The rule denies the port of a live server: a refusal there cannot be a direct connect.
            using (var deniedServer = Server.Listen("127.0.0.1:0"))
            {
                S24(deniedServer.LocalPort);
                T.Equal(0L, deniedServer.Stats().ConnectionsTotal, "nobody reached the denied server");
            }
        }

        static void S24(int denied)
        {
            using (var px = new Dante(denied))
            using (var echo = new EchoServer())
            using (var opts = new SocketOptions().SetProxy(px.Url))
            {
                // A host name the proxy resolves; 1 KiB echoed through the tunnel.
                var payload = new byte[1024];
                new Random(24).NextBytes(payload);
                using (var c = Connection.Connect($"localhost:{echo.Port}", 10000, opts))
                {
                    c.Timeout = 10000;
                    c.SendAll(payload);
                    T.Bytes(payload, c.RecvExact(1024), "the echo through the proxy");
                    T.Check(c.PeerAddress.EndsWith(":" + px.Port), $"the socket's peer is the proxy: {c.PeerAddress}");
                }
                // Refused by the proxy's rule: SOCKS5 reply 2, naming the target and the proxy.
                var e = T.Throws<ConnectionRefusedException>(() => Connection.Connect($"127.0.0.1:{denied}", 10000, opts), "the denied target");
                T.Check(e.Message.Contains("connection not allowed by ruleset"), "the rule's refusal: " + e.Message);
                T.Check(e.Message.Contains($"127.0.0.1:{denied}") && e.Message.Contains($"SOCKS5 proxy 127.0.0.1:{px.Port}"),
                        "the message names the target and the proxy: " + e.Message);
                T.Equal("CONNECTION_REFUSED", e.Name, "the error's name");
                // Nobody behind the proxy: SOCKS5 reply 5.
                e = T.Throws<ConnectionRefusedException>(() => Connection.Connect($"127.0.0.1:{FreePort()}", 10000, opts), "nobody listening");
                T.Check(e.Message.Contains("replied 5 (connection refused)"), "the proxy's reply 5: " + e.Message);
                // The engine client through the proxy: a length-prefixed frame comes back whole.
                using (var cfg = new EngineConfig().SetProxy(px.Url).Set(ConfigKey.RECONNECT, 0))
                using (var cl = Client.Connect($"localhost:{echo.Port}", cfg))
                {
                    T.Check(T.WaitKind(cl, EventKind.CONNECTED) != null, "the engine client did not connect through the proxy");
                    cl.Send(payload);
                    Event m = T.WaitKind(cl, EventKind.MESSAGE);
                    T.Check(m != null, "no echo on the engine client");
                    T.Bytes(payload, m.Data, "the engine client's echo");
                }
                // The engine client reconnects through the proxy: a libsock server kicks it, it comes
                // back (RECONNECTING, CONNECTED) and its next message arrives.
                using (var target = Server.Listen("127.0.0.1:0"))
                using (var cfg = new EngineConfig().SetProxy(px.Url).SetReconnect(50, 200))
                using (var cl = Client.Connect($"localhost:{target.LocalPort}", cfg))
                {
                    Event c1 = T.WaitKind(target, EventKind.CONNECTED);
                    T.Check(c1 != null && T.WaitKind(cl, EventKind.CONNECTED) != null, "the first connection through the proxy");
                    target.Disconnect(c1.Client, false);
                    T.Check(T.WaitKind(cl, EventKind.RECONNECTING) != null, "the client reconnects");
                    T.Check(T.WaitKind(cl, EventKind.CONNECTED) != null, "connected again through the proxy");
                    Event c2 = T.WaitKind(target, EventKind.CONNECTED);
                    T.Check(c2 != null && c2.Client != c1.Client, "a second client on the target");
                    cl.Send(T.B("after the reconnect"));
                    Event m = T.WaitKind(target, EventKind.MESSAGE);
                    T.Check(m != null && T.S(m.Data) == "after the reconnect", "the message after the reconnect");
                    T.Equal(2L, target.Stats().ConnectionsTotal, "two connections made");
                }
                // The engine client to the denied server: the proxy's refusal, in words, ends the attempt.
                using (var cfg = new EngineConfig().SetProxy(px.Url).Set(ConfigKey.RECONNECT, 0))
                using (var cl = Client.Connect($"127.0.0.1:{denied}", cfg))
                {
                    Event d = T.WaitKind(cl, EventKind.DISCONNECTED);
                    T.Check(d != null && d.Text.Contains("connection not allowed by ruleset"), $"the engine client's refusal: {d}");
                }
                // Removing the proxy: options without it connect directly.
                opts.SetProxy(null);
                using (var c = Connection.Connect($"127.0.0.1:{echo.Port}", 10000, opts))
                    T.Equal($"127.0.0.1:{echo.Port}", c.PeerAddress, "a direct connection after removing the proxy");
                T.Throws<InvalidArgumentException>(() => new SocketOptions().SetProxy("ftp://127.0.0.1:21"), "an unknown scheme");
                T.Throws<InvalidArgumentException>(() => new EngineConfig().SetProxy("socks5://127.0.0.1:0"), "port 0");
            }
        }

        /// <summary>microsocks with a user name and password: the right ones tunnel, a wrong password
        /// and no credentials are refused with words that never show the password.</summary>
        static void Microsocks()
        {
            int port = FreePort();
            var psi = new ProcessStartInfo(File.Exists("/usr/bin/microsocks") ? "/usr/bin/microsocks" : "microsocks",
                                           $"-i 127.0.0.1 -p {port} -u alice -P s3cret")
            {
                UseShellExecute = false,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            using (var px = Process.Start(psi))
            using (var echo = new EchoServer())
            {
                px.StandardOutput.ReadToEndAsync();   // drained, so the proxy never blocks on a full pipe
                px.StandardError.ReadToEndAsync();
                try
                {
                    double end = T.Now + 30000;
                    while (true)
                    {
                        if (px.HasExited) throw new TestFailure("microsocks exited at start");
                        try { using (var c = new TcpClient()) { c.Connect(IPAddress.Loopback, port); break; } }
                        catch (SocketException)
                        {
                            if (T.Now > end) throw new TestFailure("microsocks did not listen");
                            Thread.Sleep(20);
                        }
                    }
                    using (var opts = new SocketOptions().SetProxy($"socks5://alice:s3cret@127.0.0.1:{port}"))
                    using (var c = Connection.Connect($"localhost:{echo.Port}", 10000, opts))
                    {
                        c.Timeout = 10000;
                        c.SendAll(T.B("through microsocks"));
                        T.Equal("through microsocks", T.S(c.RecvExact(18)), "the echo");
                    }
                    using (var opts = new SocketOptions().SetProxy($"socks5://alice:nope@127.0.0.1:{port}"))
                    {
                        var ex = T.Throws<ConnectionRefusedException>(() => Connection.Connect($"localhost:{echo.Port}", 10000, opts), "a wrong password");
                        T.Check(ex.Message.Contains("rejected the user name \"alice\""), "the refusal's words: " + ex.Message);
                        T.Check(!ex.Message.Contains("nope"), "the message shows the password: " + ex.Message);
                    }
                    using (var opts = new SocketOptions().SetProxy($"socks5://127.0.0.1:{port}"))
                    {
                        var ex = T.Throws<ConnectionRefusedException>(() => Connection.Connect($"localhost:{echo.Port}", 10000, opts), "no credentials");
                        T.Check(ex.Message.Contains("accepts none of the offered authentication methods"), "the refusal's words: " + ex.Message);
                    }
                }
                finally
                {
                    try { if (!px.HasExited) px.Kill(); } catch (InvalidOperationException) { }
                    px.WaitForExit(10000);
                }
            }
        }

        /// <summary>Starts <paramref name="exe"/> (a proxy) and waits until it listens on
        /// <paramref name="port"/>; its output is drained.</summary>
        static Process StartProxy(string exe, string args, int port)
        {
            var px = Process.Start(new ProcessStartInfo(exe, args)
            {
                UseShellExecute = false,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            });
            px.StandardOutput.ReadToEndAsync();
            px.StandardError.ReadToEndAsync();
            double end = T.Now + 30000;
            while (true)
            {
                if (px.HasExited) throw new TestFailure($"{exe} exited at start ({px.ExitCode})");
                try { using (var c = new TcpClient()) { c.Connect(IPAddress.Loopback, port); return px; } }
                catch (SocketException)
                {
                    if (T.Now > end) { StopProxy(px); throw new TestFailure($"{exe} did not listen on {port}"); }
                    Thread.Sleep(20);
                }
            }
        }

        static void StopProxy(Process px)
        {
            try { if (!px.HasExited) px.Kill(); } catch (InvalidOperationException) { }
            px.WaitForExit(10000);
            px.Dispose();
        }

        /// <summary>HTTP CONNECT through tinyproxy, open and with Basic authentication: the echo, a
        /// missing password (407) and a target nobody listens on (500), each refusal a
        /// ConnectionRefusedException naming the proxy's answer.</summary>
        static void Tinyproxy()
        {
            string dir = TempDir("tinyproxy");
            var started = new List<Process>();
            try
            {
                string exe = File.Exists("/usr/bin/tinyproxy") ? "/usr/bin/tinyproxy" : "tinyproxy";
                var ports = new int[2];
                for (int i = 0; i < 2; i++)
                {
                    ports[i] = FreePort();
                    string conf = Path.Combine(dir, $"tinyproxy{i}.conf");
                    File.WriteAllText(conf,
                        $"Port {ports[i]}\nListen 127.0.0.1\nTimeout 30\nMaxClients 20\nAllow 127.0.0.1\n" +
                        $"LogLevel Info\nDisableViaHeader Yes\nPidFile \"{dir}/tinyproxy{i}.pid\"\n" +
                        (Environment.UserName == "root" ? "User nobody\nGroup nogroup\n" : "") +
                        (i == 1 ? "BasicAuth alice s3cret\n" : ""));
                    started.Add(StartProxy(exe, $"-d -c '{conf}'", ports[i]));
                }
                using (var echo = new EchoServer())
                {
                    foreach (string url in new[] { $"http://127.0.0.1:{ports[0]}", $"http://alice:s3cret@127.0.0.1:{ports[1]}" })
                        using (var opts = new SocketOptions().SetProxy(url))
                        using (var c = Connection.Connect($"127.0.0.1:{echo.Port}", 10000, opts))
                        {
                            c.Timeout = 10000;
                            c.SendAll(T.B("through tinyproxy"));
                            T.Equal("through tinyproxy", T.S(c.RecvExact(17)), "the echo through " + url.Replace("s3cret", "***"));
                        }
                    using (var opts = new SocketOptions().SetProxy($"http://127.0.0.1:{ports[1]}"))
                    {
                        var e = T.Throws<ConnectionRefusedException>(() => Connection.Connect($"127.0.0.1:{echo.Port}", 10000, opts), "no credentials");
                        T.Check(e.Message.Contains("407 Proxy Authentication Required"), "the proxy's answer: " + e.Message);
                    }
                    using (var opts = new SocketOptions().SetProxy($"http://127.0.0.1:{ports[0]}"))
                    {
                        var e = T.Throws<ConnectionRefusedException>(() => Connection.Connect($"127.0.0.1:{FreePort()}", 10000, opts), "nobody listening");
                        T.Check(e.Message.Contains("500 Unable to connect"), "the proxy's answer: " + e.Message);
                    }
                }
            }
            finally
            {
                foreach (var px in started) StopProxy(px);
                Directory.Delete(dir, true);
            }
        }

        // ------------------------------------------------------------------ descriptors

        [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
        static extern int pipe(int[] fds);

        [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
        static extern int close(int fd);

        const string FdPeer = @"
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(30)
s.connect(sys.argv[1])
cred = s.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12)
pid = int.from_bytes(cred[:4], 'little')
msg, fds, _, _ = socket.recv_fds(s, 100, 4)
assert msg == b'file' and len(fds) == 1, (msg, fds)
content = os.pread(fds[0], 1000, 0)
os.close(fds[0])
s.sendall(str(pid).encode() + b' ' + content)
assert s.recv(3) == b'ack'
r, w = os.pipe()
os.write(w, b'from the python pipe')
os.close(w)
socket.send_fds(s, [b'pipe'], [r])
os.close(r)
assert s.recv(10) == b''
";

        static void FdsWithPython()
        {
            string dir = TempDir("fds");
            try
            {
                string sock = Path.Combine(dir, "s.sock"), file = Path.Combine(dir, "f.txt");
                File.WriteAllText(file, "from the csharp file");
                using (var l = Listener.Listen("unix:" + sock))
                {
                    string script = Path.Combine(dir, "peer.py");
                    File.WriteAllText(script, FdPeer);
                    var psi = new ProcessStartInfo("python3", $"'{script}' '{sock}'")
                    {
                        UseShellExecute = false,
                        RedirectStandardError = true,
                    };
                    using (var py = Process.Start(psi))
                    {
                        var err = py.StandardError.ReadToEndAsync();
                        Connection c;
                        try { c = l.Accept(30000); }
                        catch (LibsockTimeoutException)
                        {
                            py.WaitForExit(5000);
                            throw new TestFailure("the Python peer did not connect: " + (err.Wait(5000) ? err.Result : ""));
                        }
                        using (c)
                        {
                            c.Timeout = 30000;
                            PeerCredentials cred = c.PeerCredentials();
                            T.Equal(py.Id, cred.Pid, "the peer's pid");
                            using (var fs = new FileStream(file, FileMode.Open, FileAccess.Read))
                                c.SendFds(T.B("file"), new List<System.Runtime.InteropServices.SafeHandle> { fs.SafeFileHandle });
                            byte[] back = c.RecvUntil(T.B("file"), 1000);
                            string text = T.S(back);
                            T.Equal(Process.GetCurrentProcess().Id + " from the csharp file", text, "what the peer read from our descriptor (and our pid as it saw it)");
                            c.SendAll(T.B("ack"));
                            using (ReceivedFds got = c.RecvFds(100, 4))
                            {
                                T.Equal("pipe", T.S(got.Data), "the bytes with the descriptor");
                                T.Equal(1, got.Fds.Length, "one descriptor");
                                using (var s = got.Fds[0].ToStream(FileAccess.Read))
                                using (var rd = new StreamReader(s))
                                    T.Equal("from the python pipe", rd.ReadToEnd(), "read through the received pipe");
                                T.Equal(-1, got.Fds[0].Fd, "a descriptor handed to a stream is detached");
                            }
                            c.Shutdown();
                        }
                        T.Check(py.WaitForExit(30000), "the Python peer did not end");
                        T.Check(err.Wait(5000), "the Python peer's stderr");
                        T.Equal(0, py.ExitCode, "the Python peer's exit code (stderr: " + err.Result + ")");
                    }
                }
            }
            finally { Directory.Delete(dir, true); }
        }

        static void FdsLocal()
        {
            string dir = TempDir("fds2");
            try
            {
                using (var l = Listener.Listen("unix:" + Path.Combine(dir, "s.sock")))
                using (var a = Connection.Connect("unix:" + Path.Combine(dir, "s.sock"), 10000))
                using (var b = l.Accept(10000))
                {
                    b.Timeout = 10000;
                    var cred = a.PeerCredentials();
                    T.Equal(Process.GetCurrentProcess().Id, cred.Pid, "our own pid across the socket");
                    string status = File.ReadAllText("/proc/self/status");   // "Uid:\t0\t0\t0\t0" (real first)
                    Func<string, string> Id = key => System.Text.RegularExpressions.Regex.Match(status, "\n" + key + ":\\s+(\\d+)").Groups[1].Value;
                    T.Equal(Id("Uid"), cred.Uid.ToString(), "our uid across the socket");
                    T.Equal(Id("Gid"), cred.Gid.ToString(), "our gid across the socket");
                    var p = new int[2];
                    T.Equal(0, pipe(p), "pipe(2)");
                    try
                    {
                        a.SendFds(T.B("xy"), p[1], p[1]);            // the same descriptor twice
                        using (ReceivedFds got = b.RecvFds(1, 4))   // 1 byte: the rest stays
                        {
                            T.Equal("x", T.S(got.Data), "first byte");
                            T.Equal(2, got.Fds.Length, "two descriptors");
                            T.Check(got.Fds[0].Fd != p[1] && got.Fds[1].Fd != p[1], "duplicates, not ours");
                            using (var w = got.Fds[1].ToStream(FileAccess.Write)) w.Write(T.B("ok"), 0, 2);
                        }
                        using (ReceivedFds rest = b.RecvFds(10, 4))
                        {
                            T.Equal("y", T.S(rest.Data), "the byte left");
                            T.Equal(0, rest.Fds.Length, "the rest comes without descriptors");
                        }
                        close(p[1]);
                        p[1] = -1;
                        using (var r = new SafeFdHandle(p[0]).ToStream(FileAccess.Read))
                        {
                            p[0] = -1;
                            var buf = new byte[10];
                            int n = r.Read(buf, 0, 10);
                            T.Equal("ok", Encoding.ASCII.GetString(buf, 0, n), "written through a received duplicate");
                        }
                        T.Throws<InvalidArgumentException>(() => a.SendFds(new byte[0], 0), "descriptors without bytes");
                        T.Throws<InvalidArgumentException>(() => a.SendFds(T.B("x"), -1), "a negative descriptor");
                        T.Throws<InvalidArgumentException>(() => b.RecvFds(0, 1), "no room for bytes");
                        a.SendFds(T.B("z"));                          // no descriptors: plain bytes
                        using (var z = b.RecvFds(10, 0)) T.Equal("z", T.S(z.Data), "bytes without descriptors");
                        a.Close();
                        using (var end = b.RecvFds(10, 1)) T.Equal(0, end.Data.Length, "end of stream");
                    }
                    finally
                    {
                        if (p[0] >= 0) close(p[0]);
                        if (p[1] >= 0) close(p[1]);
                    }
                }
                using (var l = Listener.Listen("127.0.0.1:0"))
                using (var a = Connection.Connect(l.LocalAddress, 10000))
                using (var b = l.Accept(10000))
                {
                    T.Throws<UnsupportedException>(() => a.SendFds(T.B("x"), 0), "descriptors over TCP");
                    T.Throws<UnsupportedException>(() => b.RecvFds(10, 1, 0), "descriptors over TCP");
                    T.Throws<UnsupportedException>(() => a.PeerCredentials(), "credentials over TCP");
                }
            }
            finally { Directory.Delete(dir, true); }
        }
    }
}
