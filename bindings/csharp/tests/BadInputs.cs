// The bad-input catalogue (tests-data/bad_inputs.json), C# door: every row listing "csharp" must
// end in its documented outcome (the exception's error name, or no exception for OK, or the
// engine's DISCONNECTED:<reason>) within 30 s. Each row runs on its own thread, so a hang fails
// that row only; a row marked "pending" is reported without failing the test.
// LS_BAD_INPUTS_ALL=1 runs every row whose op this door executes, listed or not, and prints
// each outcome (how the rows for "csharp" were chosen).
using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;

namespace Libsock.Tests
{
    /// <summary>Runs the rows of tests-data/bad_inputs.json that list the C# door.</summary>
    public static class BadInputs
    {
        const string DoorName = "csharp";
        const int RowDeadlineMs = 30000;

        /// <summary>Thrown when a row needs something this door's executors do not do.</summary>
        sealed class NoExecutor : Exception
        {
            public NoExecutor(string what) : base("no executor for " + what) { }
        }

        /// <summary>The table test.</summary>
        public static void Table()
        {
            string path = Environment.GetEnvironmentVariable("LS_BAD_INPUTS");
            if (string.IsNullOrEmpty(path)) path = "tests-data/bad_inputs.json";
            var doc = (Dictionary<string, object>)new Json(File.ReadAllText(path, Encoding.UTF8)).Value();
            bool all = Environment.GetEnvironmentVariable("LS_BAD_INPUTS_ALL") == "1";
            int tried = 0, clean = 0, pending = 0, wrong = 0, hangs = 0;
            var failures = new List<string>();
            foreach (Dictionary<string, object> row in (List<object>)doc["rows"])
            {
                bool listed = ((List<object>)row["doors"]).Contains(DoorName);
                if (!listed && !all) continue;
                string id = (string)row["id"];
                string got = null;
                var th = new Thread(() => got = Run(row)) { IsBackground = true, Name = "row-" + id };
                th.Start();
                if (!th.Join(RowDeadlineMs)) got = "HANG";
                if (!listed)
                {
                    if (!got.StartsWith("NO-EXECUTOR"))
                        Console.WriteLine($"  unlisted {id}: {got} (expected {string.Join(" or ", Expected(row))})");
                    continue;
                }
                tried++;
                var want = Expected(row);
                if (want.Contains(got)) { clean++; continue; }
                if (got == "HANG") hangs++;
                bool isPending = row.ContainsKey("pending");
                if (isPending && got != "HANG") pending++;
                else if (got != "HANG") wrong++;
                string line = $"{id}: {got}, expected {string.Join(" or ", want)}";
                Console.WriteLine("  " + (isPending ? "pending " : "FAIL    ") + line);
                if (!isPending) failures.Add(line);
            }
            Console.WriteLine($"  bad-input table (csharp): {tried} rows tried, {clean} ended in their documented outcome, " +
                              $"{pending} pending, {wrong} wrong, 0 crashes, {hangs} hangs");
            T.Check(tried > 0, "rows for the csharp door");
            T.Check(failures.Count == 0, $"{failures.Count} rows failed: {string.Join("; ", failures)}");
        }

        static List<string> Expected(Dictionary<string, object> row)
        {
            var e = row["expect"];
            var r = new List<string>();
            if (e is List<object> l) foreach (var x in l) r.Add((string)x);
            else r.Add((string)e);
            return r;
        }

        /// <summary>One row's outcome: "OK", an error name, "DISCONNECTED:reason", or "CS:" and another exception.</summary>
        static string Run(Dictionary<string, object> row)
        {
            try
            {
                return Execute((string)row["op"], (Dictionary<string, object>)row["input"]);
            }
            catch (NoExecutor e) { return "NO-EXECUTOR " + e.Message; }
            catch (LibsockException e) { return e.Name; }
            catch (Exception e) { return $"CS:{e.GetType().Name} ({e.Message})"; }
        }

        static string Execute(string op, Dictionary<string, object> input)
        {
            if (input.ContainsKey("timeout_s")) throw new NoExecutor("timeout_s (seconds as a float: Python's)");
            switch (op)
            {
                case "connect":
                    Connection.Connect(Text(input["address"]), input.ContainsKey("timeout_ms") ? Int(input, "timeout_ms", 0) : 5000).Close();
                    return "OK";
                case "listen":
                    Listener.Listen(Text(input["address"]), Int(input, "backlog", 0)).Close();
                    return "OK";
                case "udp_bind":
                    Datagram.Bind(Text(input["address"])).Close();
                    return "OK";
                case "udp_send_to":
                    using (var d = Datagram.Bind("127.0.0.1:0")) d.SendTo(T.B("x"), Text(input["address"]));
                    return "OK";
                case "engine_config":
                    using (Engine(Str(input, "object"), Dict(input, "settings"))) { }
                    return "OK";
                case "engine_send":
                    EngineSend(Str(input, "object"), Dict(input, "settings"), Int(input, "size", 0));
                    return "OK";
                case "engine_events":
                    using (var s = Server.Listen("127.0.0.1:0")) s.Events(Int(input, "max", 1), Int(input, "timeout_ms", 0));
                    return "OK";
                case "engine_peer_bytes":
                    return EnginePeerBytes(input);
                case "tls_config":
                    TlsConfigRow(input);
                    return "OK";
                case "proxy_connect":
                    ProxyConnect(input);
                    return "OK";
                case "fds":
                    Fds(input);
                    return "OK";
                case "kcp_config":
                    KcpConfigRow(input);
                    return "OK";
                case "kcp_server":
                    using (var cfg = Config(input.ContainsKey("settings") ? Dict(input, "settings") : new Dictionary<string, object>()))
                        KcpServer.Bind(input.ContainsKey("address") ? Text(input["address"]) : "127.0.0.1:0", cfg).Close();
                    return "OK";
                case "kcp_connect":
                    KcpSession.Connect(Text(input["address"]), Long(input, "conv", KcpSession.RandomConv)).Close();
                    return "OK";
                case "kcp_session":
                    KcpSessionRow(input);
                    return "OK";
                case "client_stats":
                    ClientStatsRow(input);
                    return "OK";
                case "send_batch":
                    SendBatchRow(input);
                    return "OK";
                case "multicast_interface":
                    using (var d = Datagram.Bind("127.0.0.1:0")) d.SetMulticastInterface(Text(input["interface"]));
                    return "OK";
                case "transfer":
                    if (Str(input, "side") == "sender")
                        FileTransfer.Sender(Text(input["path"]), input.ContainsKey("name") ? Text(input["name"]) : null).Close();
                    else if (Str(input, "side") == "receiver")
                        FileTransfer.Receiver(Text(input["path"])).Close();
                    else throw new NoExecutor("transfer side " + Str(input, "side"));
                    return "OK";
            }
            using (var l = Listener.Listen("127.0.0.1:0"))
            {
                var c = Connection.Connect(l.LocalAddress, 10000);
                using (var a = l.Accept(10000))
                {
                    try
                    {
                        switch (op)
                        {
                            case "set_timeout":
                                c.SetTimeout(Int(input, "timeout_ms", 0));
                                return "OK";
                            case "recv":
                                c.Recv(16, Int(input, "timeout_ms", 0));
                                return "OK";
                            case "accept":
                                l.Accept(Int(input, "timeout_ms", 0)).Close();
                                return "OK";
                            case "framing":
                                c.SetFraming(MakeFraming(Dict(input, "framing")));
                                return "OK";
                            case "set_option":
                            {
                                object name = input["name"];
                                SockOpt opt = name is string s ? (SockOpt)Enum.Parse(typeof(SockOpt), s.ToUpperInvariant())
                                                               : (SockOpt)checked((int)(long)name);
                                long v = Long(input, "value", 0);
                                if (Str(input, "socket") == "udp")
                                    using (var d = Datagram.Bind("127.0.0.1:0")) d.SetOption(opt, v);
                                else c.SetOption(opt, v);
                                return "OK";
                            }
                            case "send_msg":
                                Setup(() => c.SetFraming(MakeFraming(Dict(input, "framing"))));
                                c.SendMsg(new byte[Int(input, "size", 0)]);
                                return "OK";
                            case "recv_msgs":
                                Setup(() => a.SetFraming(Framing.LengthPrefixed()));
                                a.RecvMsgs(Int(input, "max", 0), 100);
                                return "OK";
                            case "recv_msg_small":
                                Setup(() =>
                                {
                                    a.SetFraming(Framing.LengthPrefixed());
                                    c.SetFraming(Framing.LengthPrefixed());
                                    c.SendMsg(new byte[Int(input, "size", 0)]);
                                });
                                var buf = new byte[Int(input, "cap", 0)];
                                a.RecvMsg(buf, 0, buf.Length, 10000);
                                return "OK";
                            case "peer_bytes":
                                Setup(() => c.SendAll(Bytes(input["bytes"])));
                                c.Close();
                                Setup(() => a.SetFraming(MakeFraming(Dict(input, "framing"))));
                                a.RecvMsg(10000);
                                return "OK";
                            default:
                                throw new NoExecutor("op " + op);
                        }
                    }
                    finally { c.Close(); }
                }
            }
        }

        static void ProxyConnect(Dictionary<string, object> input)
        {
            string proxy = Text(input["proxy"]), address = Text(input["address"]);
            if (Str(input, "object") == "client")
            {
                using (var cfg = new EngineConfig())
                {
                    cfg.SetProxy(proxy);
                    Client.Connect(address, cfg).Close();
                }
                return;
            }
            if (Str(input, "object") != "connection") throw new NoExecutor("proxy_connect object " + Str(input, "object"));
            using (var o = new SocketOptions())
            {
                o.SetProxy(proxy);
                Connection.Connect(address, 5000, o).Close();
            }
        }

        /// <summary>The kcp_session op: a KCP server on loopback and a session with it, then one call.</summary>
        static void KcpSessionRow(Dictionary<string, object> input)
        {
            using (var server = KcpServer.Bind("127.0.0.1:0"))
            using (var s = KcpSession.Connect(server.LocalAddress))
            {
                int size = Int(input, "size", 0), timeout = Int(input, "timeout_ms", 1000);
                switch (Str(input, "call"))
                {
                    case "send": s.Send(new byte[size], timeout); break;
                    case "recv": s.Recv(timeout); break;
                    case "flush": s.Flush(timeout); break;
                    case "poll": s.Poll(timeout); break;
                    case "server_send": server.Send(12345, new byte[size]); break;
                    default: throw new NoExecutor("kcp_session call " + Str(input, "call"));
                }
            }
        }

        /// <summary>A server on loopback with one System.Net client; the client's id, or one no
        /// client has ("unknown").</summary>
        static ulong ConnectedClient(Server s, TcpClient tc, string which)
        {
            tc.Connect(IPAddress.Loopback, s.LocalPort);
            Event e = T.WaitKind(s, EventKind.CONNECTED);
            if (e == null) throw new InvalidOperationException("setup failed: no CONNECTED");
            return which == "unknown" ? e.Client + 1000 : e.Client;
        }

        static void ClientStatsRow(Dictionary<string, object> input)
        {
            object st = input["stat"];
            Stat stat = st is string n ? (Stat)Enum.Parse(typeof(Stat), n.ToUpperInvariant()) : (Stat)checked((int)(long)st);
            using (var s = Server.Listen("127.0.0.1:0"))
            using (var tc = new TcpClient())
                s.ClientStat(ConnectedClient(s, tc, Str(input, "client")), stat);
        }

        static void SendBatchRow(Dictionary<string, object> input)
        {
            var batch = new List<byte[]>();
            foreach (object n in (List<object>)input["sizes"]) batch.Add(new byte[(long)n]);
            int timeout = Int(input, "timeout_ms", 5000);
            var settings = input.ContainsKey("settings") ? Dict(input, "settings") : new Dictionary<string, object>();
            if (Str(input, "object") == "client")
            {
                using (var c = (Client)Engine("client", settings)) c.SendBatch(batch, timeout);
                return;
            }
            using (var s = (Server)Engine("server", settings))
            using (var tc = new TcpClient())
                s.SendBatch(ConnectedClient(s, tc, Str(input, "client")), batch, timeout);
        }

        /// <summary>The kcp_config op: one KCP tuning key (core's word), a KCP server's engine
        /// setting, or the address a session connects to.</summary>
        static void KcpConfigRow(Dictionary<string, object> input)
        {
            string name = Str(input, "setting") ?? Str(input, "name");
            if (name == "address")
            {
                KcpSession.Connect(Text(input["value"])).Close();
                return;
            }
            KcpKey key;
            if (Enum.TryParse(name.ToUpperInvariant(), out key))
            {
                using (var k = new KcpConfig()) k.Set(key, Long(input, "value", 0));
                return;
            }
            ConfigKey ck;
            if (!Enum.TryParse(name.ToUpperInvariant(), out ck)) throw new NoExecutor("KCP setting " + name);
            using (var cfg = new EngineConfig())
            {
                cfg.Set(ck, Long(input, "value", 0));
                KcpServer.Bind("127.0.0.1:0", cfg).Close();
            }
        }

        [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
        static extern int pipe(int[] fds);

        [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
        static extern int close(int fd);

        /// <summary>The fds op: a connected pair (TCP, or a Unix socket in a temporary directory),
        /// then one call on the connecting side; a count of descriptors is that many copies of a
        /// pipe's read end.</summary>
        static void Fds(Dictionary<string, object> input)
        {
            string kind = Str(input, "socket"), dir = null, address;
            if (kind == "unix")
            {
                dir = Issue16.TempDir("badfds");
                address = "unix:" + Path.Combine(dir, "s.sock");
            }
            else if (kind == "tcp") address = "127.0.0.1:0";
            else throw new NoExecutor("fds socket " + kind);
            var p = new[] { -1, -1 };
            try
            {
                using (var l = Listener.Listen(address))
                using (var c = Connection.Connect(l.LocalAddress, 10000))
                using (var a = l.Accept(10000))
                {
                    c.Timeout = 5000;
                    switch (Str(input, "call"))
                    {
                        case "send_fds":
                        {
                            int[] fds;
                            object f = input["fds"];
                            if (f is long n)
                            {
                                Setup(() => { if (pipe(p) != 0) throw new InvalidOperationException("pipe(2) failed"); });
                                fds = new int[n];
                                for (int i = 0; i < n; i++) fds[i] = p[0];
                            }
                            else
                            {
                                var l2 = (List<object>)f;
                                fds = new int[l2.Count];
                                for (int i = 0; i < fds.Length; i++) fds[i] = checked((int)(long)l2[i]);
                            }
                            c.SendFds(Bytes(input["data"]), fds);
                            break;
                        }
                        case "recv_fds":
                            using (c.RecvFds(Int(input, "bufsize", 0), Int(input, "maxfds", 0), 100)) { }
                            break;
                        case "peer_credentials":
                            c.PeerCredentials();
                            break;
                        default: throw new NoExecutor("fds call " + Str(input, "call"));
                    }
                }
            }
            finally
            {
                if (p[0] >= 0) close(p[0]);
                if (p[1] >= 0) close(p[1]);
                if (dir != null) Directory.Delete(dir, true);
            }
        }

        /// <summary>Setup that must work before the bad input is tried.</summary>
        static void Setup(Action a)
        {
            try { a(); }
            catch (LibsockException e) { throw new InvalidOperationException("setup failed: " + e.Message, e); }
        }

        static string EnginePeerBytes(Dictionary<string, object> input)
        {
            using (var cfg = new EngineConfig())
            {
                Setup(() => cfg.SetFraming(MakeFraming(Dict(input, "framing"))));
                using (var s = Server.Listen("127.0.0.1:0", cfg))
                using (var tc = new TcpClient())
                {
                    tc.Connect(IPAddress.Loopback, s.LocalPort);
                    if (T.WaitKind(s, EventKind.CONNECTED) == null) throw new InvalidOperationException("setup failed: no CONNECTED");
                    tc.Client.Send(Bytes(input["bytes"]));
                    tc.Client.Shutdown(SocketShutdown.Send);
                    Event d = T.WaitKind(s, EventKind.DISCONNECTED, 20000);
                    if (d == null) return "NO-DISCONNECT";
                    return "DISCONNECTED:" + d.Reason;
                }
            }
        }

        /// <summary>An engine config with the row's settings (the caller disposes it).</summary>
        static EngineConfig Config(Dictionary<string, object> settings)
        {
            var cfg = new EngineConfig();
            try
            {
                foreach (var kv in settings)
                {
                    switch (kv.Key)
                    {
                        case "address":
                        case "heartbeat_pong":
                            break;
                        case "heartbeat_ping":
                            cfg.SetHeartbeatPayloads(Bytes(kv.Value),
                                settings.ContainsKey("heartbeat_pong") ? Bytes(settings["heartbeat_pong"]) : T.B("\0LSPONG"));
                            break;
                        case "framing":
                            cfg.SetFraming(MakeFraming((Dictionary<string, object>)kv.Value));
                            break;
                        default:
                        {
                            ConfigKey key;
                            try { key = (ConfigKey)Enum.Parse(typeof(ConfigKey), kv.Key.ToUpperInvariant()); }
                            catch (ArgumentException) { throw new NoExecutor("setting " + kv.Key); }
                            cfg.Set(key, Long(settings, kv.Key, 0));
                            break;
                        }
                    }
                }
                return cfg;
            }
            catch { cfg.Close(); throw; }
        }

        static EngineObject Engine(string obj, Dictionary<string, object> settings)
        {
            string address = settings.ContainsKey("address") ? Text(settings["address"]) : null;
            using (var cfg = Config(settings))
            {
                switch (obj)
                {
                    case "server": return Server.Listen(address ?? "127.0.0.1:0", cfg);
                    case "client": return Client.Connect(address ?? "127.0.0.1:1", cfg); // nobody listens on port 1
                    case "dgram": return DatagramServer.Bind(address ?? "127.0.0.1:0", cfg);
                    default: throw new NoExecutor("engine object " + obj);
                }
            }
        }

        static void EngineSend(string obj, Dictionary<string, object> settings, int size)
        {
            var data = new byte[size];
            if (obj == "client")
            {
                using (var c = (Client)Engine(obj, settings)) c.Send(data);
                return;
            }
            using (var s = (Server)Engine(obj, settings))
            using (var tc = new TcpClient())
            {
                tc.Connect(IPAddress.Loopback, s.LocalPort);
                Event e = T.WaitKind(s, EventKind.CONNECTED);
                if (e == null) throw new InvalidOperationException("setup failed: no CONNECTED");
                s.Send(e.Client, data);
            }
        }

        static Framing MakeFraming(Dictionary<string, object> f)
        {
            foreach (string k in new[] { "byteorder", "big_endian_int", "keep_header_int", "keep_int", "dlen", "length_bits", "flag_bits" })
                if (f.ContainsKey(k)) throw new NoExecutor("framing field " + k);
            string kind = Str(f, "kind");
            switch (kind)
            {
                case "raw":
                    return Framing.Raw();
                case "length":
                {
                    if (f.ContainsKey("flag")) throw new NoExecutor("framing field flag");
                    int width = Int(f, "width", 4);
                    bool big = !f.ContainsKey("big_endian") || (bool)f["big_endian"];
                    long max = Long(f, "max_len", 0);
                    if (f.ContainsKey("offset") || f.ContainsKey("header_len") || f.ContainsKey("adjustment") || f.ContainsKey("keep_header"))
                    {
                        long offset = Long(f, "offset", 0);
                        long header = f.ContainsKey("header_len") ? Long(f, "header_len", 0) : offset + width;
                        return Framing.LengthPrefixed(width, big, offset, header, Long(f, "adjustment", 0), max,
                                                      f.ContainsKey("keep_header") && (bool)f["keep_header"]);
                    }
                    return Framing.LengthPrefixed(width, big, max);
                }
                case "delimited":
                    return Framing.Delimited(Bytes(f["delimiter"]), Long(f, "max_len", 0), f.ContainsKey("keep") && (bool)f["keep"]);
                case "fixed":
                    return Framing.Fixed(Long(f, "size", 0));
                case "hp_pack":
                    return Framing.HpPack(Int(f, "flag", 0), Long(f, "max_len", 0));
                default:
                    throw new NoExecutor("framing " + kind);
            }
        }

        // ------------------------------------------------------------------ table values

        /// <summary>A TLS config of the row's side with its one setting, then built (as the C door
        /// does: EngineConfig.SetTls builds the settings).</summary>
        static void TlsConfigRow(Dictionary<string, object> input)
        {
            bool server = Str(input, "side") == "server";
            string setting = Str(input, "setting");
            using (var t = server ? TlsConfig.Server() : TlsConfig.Client())
            {
                if (server && setting != null && setting != "cert_pem")
                {
                    var own = Tls.SelfSigned("localhost");
                    t.SetCertPem(own.CertPem, own.KeyPem);
                }
                object v = input.ContainsKey("value") ? input["value"] : null;
                switch (setting)
                {
                    case null: break;
                    case "pin_sha256": t.AddPin(Text(v)); break;
                    case "server_name": t.SetServerName(Text(v)); break;
                    case "ca_pem": t.SetCaPem(Text(v)); break;
                    case "alpn":
                        foreach (var p in (List<object>)v) t.AddAlpn(Text(p));
                        break;
                    case "handshake_timeout_ms": t.SetHandshakeTimeout(Int(input, "value", 0)); break;
                    case "cert_pem":
                        var m = (Dictionary<string, object>)v;
                        t.SetCertPem(Text(m["cert"]), Text(m["key"]));
                        break;
                    case "client_auth":
                        string mode = Text(v);
                        if (mode == "required") t.SetClientAuth(TlsClientAuth.REQUIRED);
                        else if (mode == "optional") t.SetClientAuth(TlsClientAuth.OPTIONAL);
                        else throw new NoExecutor("client_auth " + mode);
                        break;
                    default: throw new NoExecutor("tls setting " + setting);
                }
                using (var cfg = new EngineConfig()) cfg.SetTls(t);
            }
        }

        static Dictionary<string, object> Dict(Dictionary<string, object> m, string k) => (Dictionary<string, object>)m[k];

        static string Str(Dictionary<string, object> m, string k) => m.ContainsKey(k) ? (string)m[k] : null;

        static long Long(Dictionary<string, object> m, string k, long dflt)
        {
            if (!m.ContainsKey(k)) return dflt;
            object v = m[k];
            if (v is bool b) return b ? 1 : 0;
            if (v is long l) return l;
            throw new NoExecutor($"{k}={v} (not a 64-bit integer)");
        }

        static int Int(Dictionary<string, object> m, string k, int dflt)
        {
            long v = Long(m, k, dflt);
            if (v < int.MinValue || v > int.MaxValue) throw new NoExecutor($"{k}={v} (not a 32-bit integer)");
            return (int)v;
        }

        /// <summary>A table value as text: a string, {"text", "repeat", "times", "then"} or
        /// {"text", "surrogate"} (a lone UTF-16 surrogate, which a C# string can hold).</summary>
        static string Text(object v)
        {
            if (v is string s) return s;
            var m = (Dictionary<string, object>)v;
            if (m.ContainsKey("hex")) throw new NoExecutor("raw bytes as text");
            if (m.ContainsKey("surrogate"))
                return Str(m, "text") + (char)Convert.ToInt32(Str(m, "surrogate"), 16);
            var sb = new StringBuilder(Str(m, "text") ?? "");
            for (long i = 0; i < Long(m, "times", 0); i++) sb.Append(Str(m, "repeat"));
            sb.Append(Str(m, "then") ?? "");
            return sb.ToString();
        }

        static byte[] Bytes(object v)
        {
            if (v is Dictionary<string, object> m && m.ContainsKey("hex"))
            {
                string h = (string)m["hex"];
                var b = new byte[h.Length / 2];
                for (int i = 0; i < b.Length; i++) b[i] = byte.Parse(h.Substring(2 * i, 2), NumberStyles.HexNumber);
                return b;
            }
            return Encoding.UTF8.GetBytes(Text(v));
        }
    }

    /// <summary>A small JSON reader (objects, arrays, strings with escapes - lone surrogates
    /// kept -, integers as long when they fit, other numbers as double, true, false, null).</summary>
    public sealed class Json
    {
        private readonly string _s;
        private int _i;

        /// <summary>A reader of <paramref name="text"/>.</summary>
        public Json(string text) { _s = text; }

        /// <summary>The document's value.</summary>
        public object Value()
        {
            Ws();
            char c = _s[_i];
            if (c == '{')
            {
                _i++;
                var d = new Dictionary<string, object>();
                Ws();
                if (_s[_i] == '}') { _i++; return d; }
                while (true)
                {
                    Ws();
                    string k = (string)Value();
                    Ws();
                    Expect(':');
                    d[k] = Value();
                    Ws();
                    if (_s[_i++] == '}') return d;
                }
            }
            if (c == '[')
            {
                _i++;
                var l = new List<object>();
                Ws();
                if (_s[_i] == ']') { _i++; return l; }
                while (true)
                {
                    l.Add(Value());
                    Ws();
                    if (_s[_i++] == ']') return l;
                }
            }
            if (c == '"') return Str();
            if (_s.Substring(_i).StartsWith("true")) { _i += 4; return true; }
            if (_s.Substring(_i).StartsWith("false")) { _i += 5; return false; }
            if (_s.Substring(_i).StartsWith("null")) { _i += 4; return null; }
            int start = _i;
            while (_i < _s.Length && "+-0123456789.eE".IndexOf(_s[_i]) >= 0) _i++;
            string num = _s.Substring(start, _i - start);
            if (long.TryParse(num, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long n)) return n;
            return double.Parse(num, CultureInfo.InvariantCulture);
        }

        private string Str()
        {
            Expect('"');
            var sb = new StringBuilder();
            while (_s[_i] != '"')
            {
                char c = _s[_i++];
                if (c != '\\') { sb.Append(c); continue; }
                char e = _s[_i++];
                switch (e)
                {
                    case 'n': sb.Append('\n'); break;
                    case 'r': sb.Append('\r'); break;
                    case 't': sb.Append('\t'); break;
                    case 'b': sb.Append('\b'); break;
                    case 'f': sb.Append('\f'); break;
                    case 'u': sb.Append((char)Convert.ToInt32(_s.Substring(_i, 4), 16)); _i += 4; break;
                    default: sb.Append(e); break;
                }
            }
            _i++;
            return sb.ToString();
        }

        private void Ws()
        {
            while (_i < _s.Length && char.IsWhiteSpace(_s[_i])) _i++;
        }

        private void Expect(char c)
        {
            if (_s[_i] != c) throw new FormatException($"JSON: expected '{c}' at {_i}");
            _i++;
        }
    }
}
