// docs/SCENARIOS.md S18-S21 (TLS) for the C# door, against real peers: `openssl s_server` /
// `openssl s_client` (certificates from `openssl req` / `openssl x509`), Mono's own
// System.Net.Security.SslStream as a client and as a server (Mono 6.8 here speaks TLS 1.2, not
// 1.3; an RSA CA for it, as its X509Chain reads no EC keys), and
// libsock-to-libsock, blocking and on the engine. Every child process is waited for with a
// bound and killed (by its own Process object) when the test ends.
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Text;
using System.Threading;

namespace Libsock.Tests
{
    /// <summary>A test CA, a server certificate it signed (localhost, 127.0.0.1), a client certificate
    /// it signed, and a self-signed server certificate: made once by the openssl command.</summary>
    sealed class Pki
    {
        public readonly string Dir;
        public string CaPem => Path.Combine(Dir, "ca.pem");
        public string SrvPem => Path.Combine(Dir, "srv.pem");
        public string SrvKey => Path.Combine(Dir, "srv.key");
        public string CliPem => Path.Combine(Dir, "cli.pem");
        public string CliKey => Path.Combine(Dir, "cli.key");
        public string SelfPem => Path.Combine(Dir, "self.pem");
        public string SelfKey => Path.Combine(Dir, "self.key");
        public string RsaCaPem => Path.Combine(Dir, "rca.pem");
        public string RsaSrvPem => Path.Combine(Dir, "rsrv.pem");
        public string RsaSrvKey => Path.Combine(Dir, "rsrv.key");
        public string RsaSrvPfx => Path.Combine(Dir, "rsrv.pfx");

        static Pki made;
        static readonly object Lock = new object();

        public static Pki Get()
        {
            lock (Lock) return made ?? (made = new Pki());
        }

        /// <summary>Removes the certificates' folder (the runner calls it at the end).</summary>
        public static void Cleanup()
        {
            lock (Lock)
            {
                if (made != null) try { Directory.Delete(made.Dir, true); } catch (IOException) { }
                made = null;
            }
        }

        Pki()
        {
            Dir = Path.Combine(Path.GetTempPath(), "libsock-cs-tls-" + Process.GetCurrentProcess().Id);
            Directory.CreateDirectory(Dir);
            const string ec = "-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2";
            Ossl.Run(Dir, $"req -x509 {ec} -subj /CN=libsock-test-ca -keyout ca.key -out ca.pem");
            File.WriteAllText(Path.Combine(Dir, "srv.ext"), "subjectAltName=DNS:localhost,IP:127.0.0.1\n");
            Ossl.Run(Dir, $"req {ec} -subj /CN=localhost -keyout srv.key -out srv.csr");
            Ossl.Run(Dir, "x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile srv.ext -out srv.pem");
            File.WriteAllText(Path.Combine(Dir, "cli.ext"), "extendedKeyUsage=clientAuth\n");
            Ossl.Run(Dir, $"req {ec} -subj /CN=libsock-test-client -keyout cli.key -out cli.csr");
            Ossl.Run(Dir, "x509 -req -in cli.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile cli.ext -out cli.pem");
            // RSA too: Mono's X509Chain cannot read EC public keys.
            const string rsa = "-newkey rsa:2048 -nodes -days 2";
            Ossl.Run(Dir, $"req -x509 {rsa} -subj /CN=libsock-test-rsa-ca -keyout rca.key -out rca.pem");
            Ossl.Run(Dir, $"req {rsa} -subj /CN=localhost -keyout rsrv.key -out rsrv.csr");
            Ossl.Run(Dir, "x509 -req -in rsrv.csr -CA rca.pem -CAkey rca.key -CAcreateserial -days 2 -extfile srv.ext -out rsrv.pem");
            // Mono reads PKCS#12 files with the old encryption only (not OpenSSL 3's default).
            Ossl.Run(Dir, "pkcs12 -export -in rsrv.pem -inkey rsrv.key -out rsrv.pfx -passout pass:libsock " +
                          "-keypbe PBE-SHA1-3DES -certpbe PBE-SHA1-3DES -macalg sha1");
            Ossl.Run(Dir, $"req -x509 {ec} -subj /CN=self -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout self.key -out self.pem");
        }
    }

    /// <summary>The TLS scenarios (S18-S21) and the door's TLS checks.</summary>
    public static class TlsScenarios
    {
        /// <summary>Adds the TLS tests to the run.</summary>
        public static void Register(List<KeyValuePair<string, Action>> t)
        {
            t.Add(new KeyValuePair<string, Action>("s18_tls_ca_name_1mib_libsock_to_libsock", S18Libsock));
            t.Add(new KeyValuePair<string, Action>("s18_tls_ca_name_openssl_s_server", S18OpensslServer));
            t.Add(new KeyValuePair<string, Action>("s18_tls_mono_sslstream_client", S18SslStream));
            t.Add(new KeyValuePair<string, Action>("s18_s19_tls_mono_sslstream_server", SslStreamServer));
            t.Add(new KeyValuePair<string, Action>("s19_tls_pin_self_signed_openssl_s_server", S19Openssl));
            t.Add(new KeyValuePair<string, Action>("s19_tls_pin_self_signed_libsock_to_libsock", S19Libsock));
            t.Add(new KeyValuePair<string, Action>("s20_mutual_tls_libsock_to_libsock", S20Libsock));
            t.Add(new KeyValuePair<string, Action>("s20_mutual_tls_openssl_s_client", S20OpensslClient));
            t.Add(new KeyValuePair<string, Action>("s21_plaintext_and_silent_peers", S21));
            t.Add(new KeyValuePair<string, Action>("s21_openssl_s_client_plaintext_server", S21PlainServer));
            t.Add(new KeyValuePair<string, Action>("tls_engine_echo_and_wrong_pin", EngineTls));
            t.Add(new KeyValuePair<string, Action>("tls_config_checks", ConfigChecks));
        }

        const int Mib = 1 << 20;

        static byte[] Random(int n)
        {
            var b = new byte[n];
            new System.Random(n).NextBytes(b);
            return b;
        }

        static string Sha(byte[] b, int len)
        {
            using (var h = SHA256.Create()) return BitConverter.ToString(h.ComputeHash(b, 0, len));
        }

        static TlsConfig CaServer(Pki p) => TlsConfig.Server().SetCertFiles(p.SrvPem, p.SrvKey);

        static TlsConfig CaClient(Pki p) => TlsConfig.Client().SetCaFile(p.CaPem);

        /// <summary>A TLS listener on 127.0.0.1 with <paramref name="tls"/>.</summary>
        static Listener TlsListen(TlsConfig tls)
        {
            using (var o = new SocketOptions().SetTls(tls)) return Listener.Listen("127.0.0.1:0", 0, o);
        }

        static Connection TlsConnect(string address, TlsConfig tls, int timeoutMs = 10000)
        {
            using (var o = new SocketOptions().SetTls(tls)) return Connection.Connect(address, timeoutMs, o);
        }

        /// <summary>Echoes one connection of <paramref name="l"/> until end of stream, on a thread.</summary>
        static Thread Echo(Listener l, string name) => T.Start(() =>
        {
            using (var c = l.Accept(20000))
            {
                var buf = new byte[65536];
                int n;
                while ((n = c.Recv(buf, 0, buf.Length, 20000)) > 0) c.SendAll(buf, 0, n);
            }
        }, name);

        static void S18Libsock()
        {
            var p = Pki.Get();
            using (var st = CaServer(p))
            using (var ct = CaClient(p))
            using (var l = TlsListen(st))
            {
                var th = Echo(l, "s18-echo");
                var data = Random(Mib);
                var back = new byte[Mib];
                using (var c = TlsConnect($"localhost:{l.LocalPort}", ct))
                {
                    T.Check(c.IsTls, "IsTls on the client");
                    var info = c.TlsInfo;
                    T.Check(info.Version == "TLSv1.3" || info.Version == "TLSv1.2", "version " + info.Version);
                    T.Check(info.Cipher.StartsWith("TLS"), "cipher " + info.Cipher);
                    T.Equal(Tls.Fingerprint(File.ReadAllText(p.SrvPem)), info.PeerFingerprint, "the server's fingerprint");
                    T.Equal(info.PeerFingerprint, Tls.Fingerprint(info.PeerCertificate), "the DER certificate's fingerprint");
                    T.Equal(null, info.Alpn, "no ALPN");
                    var sender = T.Start(() => c.SendAll(data), "s18-send");
                    c.RecvExact(back, 0, Mib, 30000);
                    T.Join(sender);
                    c.Shutdown(ShutdownHow.WRITE);
                }
                T.Join(th);
                T.Bytes(data, back, "1 MiB echoed over TLS");
                // The CA's certificate is for localhost and 127.0.0.1: another name is refused.
                using (var bad = CaClient(p).SetServerName("not-this-host.example"))
                {
                    var th2 = T.Start(() => { try { l.Accept(15000).Close(); } catch (LibsockException) { } }, "s18-accept-bad");
                    var e = T.Throws<TlsException>(() => TlsConnect($"127.0.0.1:{l.LocalPort}", bad).Close(), "a wrong name");
                    T.Check(e.Message.Length > 0 && e.Name == "TLS", "the TLS error names the reason: " + e.Message);
                    T.Join(th2);
                }
            }
        }

        static void S18OpensslServer()
        {
            var p = Pki.Get();
            int port = FreePort();
            using (var srv = new Child("openssl", $"s_server -quiet -accept 127.0.0.1:{port} -cert {p.SrvPem} -key {p.SrvKey}"))
            using (var ct = CaClient(p))
            {
                var c = Retry(() => TlsConnect($"localhost:{port}", ct));
                var data = Random(Mib);
                using (c)
                {
                    T.Equal(true, c.IsTls, "IsTls");
                    c.SendAll(data);
                    // s_server writes what it receives to its stdout.
                    T.Check(srv.WaitForOut(Mib, 30000), $"openssl s_server received 1 MiB (got {srv.OutLength})");
                }
                byte[] got = srv.Out();
                T.Equal(Sha(data, Mib), Sha(got, Mib), "the bytes s_server received");
            }
        }

        static void S18SslStream()
        {
            // Mono's SslStream as the client (Mono 6.8's btls: TLS 1.2), verifying libsock's server
            // by building its chain to the test CA (an RSA one: Mono's X509Chain reads no EC keys).
            var p = Pki.Get();
            var caDer = new System.Security.Cryptography.X509Certificates.X509Certificate2(p.RsaCaPem);
            using (var st = TlsConfig.Server().SetCertFiles(p.RsaSrvPem, p.RsaSrvKey))
            using (var l = TlsListen(st))
            {
                const int size = 256 * 1024;
                var th = T.Start(() =>
                {
                    using (var c = l.Accept(20000))
                        c.SendAll(c.RecvExact(size, 20000));
                }, "s18-sslstream-echo");
                using (var tc = new TcpClient())
                {
                    tc.Connect(IPAddress.Loopback, l.LocalPort);
                    tc.ReceiveTimeout = tc.SendTimeout = 20000;
                    string issuer = null;
                    using (var s = new SslStream(tc.GetStream(), false, (o, cert, chain, errors) =>
                    {
                        issuer = cert?.Issuer;
                        if (cert == null) return false;
                        using (var ch = new System.Security.Cryptography.X509Certificates.X509Chain())
                        {
                            ch.ChainPolicy.RevocationMode = System.Security.Cryptography.X509Certificates.X509RevocationMode.NoCheck;
                            ch.ChainPolicy.VerificationFlags = System.Security.Cryptography.X509Certificates.X509VerificationFlags.AllowUnknownCertificateAuthority;
                            ch.ChainPolicy.ExtraStore.Add(caDer);
                            if (!ch.Build(new System.Security.Cryptography.X509Certificates.X509Certificate2(cert))) return false;
                            var root = ch.ChainElements[ch.ChainElements.Count - 1].Certificate;
                            return root.Thumbprint == caDer.Thumbprint && (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) == 0;
                        }
                    }))
                    {
                        s.AuthenticateAsClient("localhost", null, SslProtocols.Tls12, false);
                        T.Equal(SslProtocols.Tls12, s.SslProtocol, "SslStream's protocol");
                        T.Check(issuer != null && issuer.Contains("libsock-test-rsa-ca"), "the server's certificate issuer: " + issuer);
                        var data = Random(size);
                        var back = new byte[data.Length];
                        var w = T.Start(() => { s.Write(data, 0, data.Length); s.Flush(); }, "s18-sslstream-write");
                        int got = 0;
                        while (got < back.Length)
                        {
                            int n = s.Read(back, got, back.Length - got);
                            if (n <= 0) break;
                            got += n;
                        }
                        T.Join(w);
                        T.Bytes(data, back, "256 KiB echoed between SslStream and libsock");
                    }
                }
                T.Join(th);
            }
        }

        static void SslStreamServer()
        {
            // Mono's SslStream as the server (TLS 1.2, an RSA certificate from a PKCS#12 file): a
            // libsock client trusts it through the CA and the name, then through its pin; a wrong pin
            // is the TLS error. Each connection echoes 64 KiB.
            var p = Pki.Get();
            const int size = 64 * 1024;
            var cert = new System.Security.Cryptography.X509Certificates.X509Certificate2(p.RsaSrvPfx, "libsock");
            var tl = new TcpListener(IPAddress.Loopback, 0);
            tl.Start();
            int port = ((IPEndPoint)tl.LocalEndpoint).Port;
            int echoed = 0, refused = 0;
            var server = T.Start(() =>
            {
                for (int i = 0; i < 3; i++)
                {
                    using (var tc = tl.AcceptTcpClient())
                    {
                        tc.ReceiveTimeout = tc.SendTimeout = 20000;
                        using (var s = new SslStream(tc.GetStream(), false))
                        {
                            try { s.AuthenticateAsServer(cert, false, SslProtocols.Tls12, false); }
                            catch (Exception e) when (e is AuthenticationException || e is IOException) { refused++; continue; }
                            var buf = new byte[size];
                            int got = 0, n;
                            while (got < size && (n = s.Read(buf, got, size - got)) > 0) got += n;
                            s.Write(buf, 0, got);
                            s.Flush();
                            echoed++;
                        }
                    }
                }
            }, "sslstream-server");
            try
            {
                string fp = Tls.Fingerprint(File.ReadAllText(p.RsaSrvPem));
                var data = Random(size);
                using (var byCa = TlsConfig.Client().SetCaFile(p.RsaCaPem))
                using (var byPin = TlsConfig.Client().AddPin(fp))
                {
                    var ends = new[] { new KeyValuePair<TlsConfig, string>(byCa, $"localhost:{port}"),
                                       new KeyValuePair<TlsConfig, string>(byPin, $"127.0.0.1:{port}") };
                    foreach (var end in ends)
                    {
                        using (var c = TlsConnect(end.Value, end.Key))
                        {
                            T.Equal("TLSv1.2", c.TlsInfo.Version, "the version Mono's SslStream speaks");
                            T.Equal(fp, c.TlsInfo.PeerFingerprint, "SslStream's certificate");
                            c.SendAll(data);
                            T.Bytes(data, c.RecvExact(size, 20000), "64 KiB echoed by SslStream");
                        }
                    }
                }
                using (var wrong = TlsConfig.Client().AddPin(new string('b', 64)))
                    T.Throws<TlsException>(() => TlsConnect($"127.0.0.1:{port}", wrong).Close(), "a wrong pin against SslStream");
                T.Join(server);
                T.Equal(2, echoed, "connections SslStream echoed");
                T.Equal(1, refused, "handshakes SslStream saw fail");
            }
            finally { tl.Stop(); }
        }

        static void S19Openssl()
        {
            var p = Pki.Get();
            string pin = Tls.Fingerprint(File.ReadAllText(p.SelfPem));
            T.Equal(64, pin.Length, "a fingerprint has 64 hex digits");
            int port = FreePort();
            using (var srv = new Child("openssl", $"s_server -quiet -accept 127.0.0.1:{port} -cert {p.SelfPem} -key {p.SelfKey}"))
            {
                using (var ct = TlsConfig.Client().AddPin(pin))
                using (var c = Retry(() => TlsConnect($"127.0.0.1:{port}", ct)))
                {
                    T.Equal(pin, c.TlsInfo.PeerFingerprint, "the pinned certificate");
                    c.SendAll("pinned hello\n");
                    T.Check(srv.WaitForOut(13, 20000), "s_server received the line");
                    T.Equal("pinned hello\n", Encoding.ASCII.GetString(srv.Out()), "what s_server received");
                }
                using (var wrong = TlsConfig.Client().AddPin(new string('0', 64)))
                {
                    var e = T.Throws<TlsException>(() => TlsConnect($"127.0.0.1:{port}", wrong).Close(), "a wrong pin");
                    T.Check(e.Message.Contains("pin"), "the message names the pin: " + e.Message);
                }
                // Without a pin or CA, the self-signed certificate is not trusted ...
                using (var plain = TlsConfig.Client())
                    T.Throws<TlsException>(() => TlsConnect($"127.0.0.1:{port}", plain).Close(), "an untrusted self-signed server");
                // ... unless checking is turned off (the dangerous way, for comparison).
                using (var danger = TlsConfig.Client().SetDangerousNoVerify())
                using (var c = TlsConnect($"127.0.0.1:{port}", danger))
                    T.Equal(pin, c.TlsInfo.PeerFingerprint, "the unverified server's certificate");
            }
        }

        static void S19Libsock()
        {
            var cert = Tls.SelfSigned("localhost", "127.0.0.1");
            T.Check(cert.CertPem.Contains("BEGIN CERTIFICATE") && cert.KeyPem.Contains("PRIVATE KEY"), "PEM text");
            T.Equal(Tls.Fingerprint(cert.CertPem), cert.Fingerprint, "the fingerprint of SelfSigned");
            using (var st = TlsConfig.Server().SetCertPem(cert.CertPem, cert.KeyPem).AddAlpn("x-libsock"))
            using (var l = TlsListen(st))
            {
                var th = Echo(l, "s19-echo");
                using (var ct = TlsConfig.Client().AddPin(cert.Fingerprint).AddAlpn("x-other", "x-libsock"))
                using (var c = TlsConnect($"127.0.0.1:{l.LocalPort}", ct))
                {
                    T.Equal("x-libsock", c.TlsInfo.Alpn, "the ALPN agreed");
                    c.SendAll("ping");
                    T.Equal("ping", T.S(c.RecvExact(4, 10000)), "echo");
                    c.Shutdown(ShutdownHow.WRITE);
                }
                T.Join(th);
                var th2 = T.Start(() => { try { l.Accept(15000).Close(); } catch (LibsockException) { } }, "s19-accept-bad");
                using (var wrong = TlsConfig.Client().AddPin(Tls.SelfSigned("localhost").Fingerprint))
                    T.Throws<TlsException>(() => TlsConnect($"127.0.0.1:{l.LocalPort}", wrong).Close(), "another certificate's pin");
                T.Join(th2);
            }
        }

        static void S20Libsock()
        {
            var p = Pki.Get();
            using (var st = CaServer(p).SetClientAuth(TlsClientAuth.REQUIRED, File.ReadAllText(p.CaPem)))
            using (var l = TlsListen(st))
            {
                string clientFp = null;
                var th = T.Start(() =>
                {
                    using (var a = l.Accept(20000))
                    {
                        clientFp = a.TlsInfo.PeerFingerprint;
                        a.SendAll(a.RecvExact(5, 20000));
                    }
                }, "s20-server");
                using (var ct = CaClient(p).SetCertFiles(p.CliPem, p.CliKey))
                using (var c = TlsConnect($"localhost:{l.LocalPort}", ct))
                {
                    c.SendAll("mutal");
                    T.Equal("mutal", T.S(c.RecvExact(5, 20000)), "echo with a client certificate");
                }
                T.Join(th);
                T.Equal(Tls.Fingerprint(File.ReadAllText(p.CliPem)), clientFp, "the server saw the client's certificate");

                // Without a certificate: the TLS error on one side (the server's Accept, and the
                // client's connect or its first read), and no hang.
                Exception serverSide = null;
                var th2 = T.Start(() =>
                {
                    try { l.Accept(20000).Close(); }
                    catch (Exception e) { serverSide = e; }
                }, "s20-server-refuses");
                Exception clientSide = null;
                using (var ct = CaClient(p))
                {
                    try
                    {
                        using (var c = TlsConnect($"localhost:{l.LocalPort}", ct))
                        {
                            c.SendAll("x");
                            c.Recv(16, 10000);
                        }
                    }
                    catch (LibsockException e) { clientSide = e; }
                }
                T.Join(th2);
                T.Check(serverSide is TlsException, $"the server's Accept: {serverSide?.GetType().Name}: {serverSide?.Message}");
                T.Check(clientSide is TlsException || clientSide is ClosedException || clientSide is ConnectionResetException,
                        $"the client without a certificate: {clientSide?.GetType().Name}: {clientSide?.Message}");
            }
        }

        static void S20OpensslClient()
        {
            var p = Pki.Get();
            using (var st = CaServer(p).SetClientAuthFile(TlsClientAuth.REQUIRED, p.CaPem))
            using (var l = TlsListen(st))
            {
                using (var cli = new Child("openssl", $"s_client -quiet -connect 127.0.0.1:{l.LocalPort} -servername localhost " +
                                                      $"-CAfile {p.CaPem} -verify_return_error -cert {p.CliPem} -key {p.CliKey}", "hello from s_client\n"))
                using (var a = l.Accept(20000))
                {
                    T.Check(a.IsTls, "IsTls on the accepted connection");
                    T.Equal(Tls.Fingerprint(File.ReadAllText(p.CliPem)), a.TlsInfo.PeerFingerprint, "s_client's certificate");
                    T.Equal("hello from s_client\n", T.S(a.RecvUntil(T.B("\n"), 64, 20000)), "what s_client sent");
                    a.SendAll("hello from libsock\n");
                    T.Check(cli.WaitForOut(19, 20000), "s_client received the reply");
                    T.Equal("hello from libsock\n", Encoding.ASCII.GetString(cli.Out()), "what s_client printed");
                }
                // s_client without a certificate: the server's Accept fails with the TLS error.
                using (var cli = new Child("openssl", $"s_client -quiet -connect 127.0.0.1:{l.LocalPort} -servername localhost -CAfile {p.CaPem}", "x\n"))
                    T.Throws<TlsException>(() => l.Accept(20000).Close(), "s_client without a certificate");
            }
        }

        static void S21()
        {
            var cert = Tls.SelfSigned("127.0.0.1");
            using (var st = TlsConfig.Server().SetCertPem(cert.CertPem, cert.KeyPem).SetHandshakeTimeout(500))
            using (var l = TlsListen(st))
            {
                // A plaintext client (System.Net.Sockets) speaking HTTP: a clear TLS error.
                using (var plain = new TcpClient())
                {
                    plain.Connect(IPAddress.Loopback, l.LocalPort);
                    var hello = Encoding.ASCII.GetBytes("GET / HTTP/1.0\r\n\r\n");
                    plain.GetStream().Write(hello, 0, hello.Length);
                    T.Throws<TlsException>(() => l.Accept(10000).Close(), "a plaintext client");
                }
                // A silent client: the handshake timeout (500 ms), not a hang.
                using (var silent = new TcpClient())
                {
                    silent.Connect(IPAddress.Loopback, l.LocalPort);
                    var e = T.Throws<LibsockTimeoutException>(() => l.Accept(10000).Close(), "a silent client");
                    T.Check(e.Message.Contains("handshake"), "the timeout names the handshake: " + e.Message);
                }
                // The server keeps serving.
                var th = Echo(l, "s21-echo");
                using (var ct = TlsConfig.Client().AddPin(cert.Fingerprint))
                using (var c = TlsConnect($"127.0.0.1:{l.LocalPort}", ct))
                {
                    c.SendAll("still serving");
                    T.Equal("still serving", T.S(c.RecvExact(13, 10000)), "echo after the bad peers");
                    c.Shutdown(ShutdownHow.WRITE);
                }
                T.Join(th);
            }
            // A libsock TLS client against a plaintext server and a silent one.
            var tl = new TcpListener(IPAddress.Loopback, 0);
            tl.Start();
            try
            {
                int port = ((IPEndPoint)tl.LocalEndpoint).Port;
                var talker = T.Start(() =>
                {
                    using (var s = tl.AcceptTcpClient())
                    {
                        var msg = Encoding.ASCII.GetBytes("220 plain text service ready\r\n");
                        s.GetStream().Write(msg, 0, msg.Length);
                        s.GetStream().ReadTimeout = 10000;
                        try { s.GetStream().Read(new byte[4096], 0, 4096); } catch (IOException) { }
                    }
                }, "s21-plain-server");
                using (var ct = TlsConfig.Client().AddPin(cert.Fingerprint).SetHandshakeTimeout(5000))
                {
                    var e = T.Throws<TlsException>(() => TlsConnect($"127.0.0.1:{port}", ct).Close(), "a plaintext server");
                    T.Check(e.Message.Length > 0, "the TLS error says why: " + e.Message);
                }
                T.Join(talker);
                TcpClient held = null;
                var quiet = T.Start(() => { held = tl.AcceptTcpClient(); }, "s21-silent-server");
                using (var ct = TlsConfig.Client().AddPin(cert.Fingerprint).SetHandshakeTimeout(500))
                    T.Throws<LibsockTimeoutException>(() => TlsConnect($"127.0.0.1:{port}", ct).Close(), "a silent server");
                T.Join(quiet);
                held?.Close();
            }
            finally { tl.Stop(); }
        }

        static void S21PlainServer()
        {
            // openssl s_client against a libsock listener without TLS: s_client fails and exits.
            using (var l = Listener.Listen("127.0.0.1:0"))
            {
                using (var cli = new Child("openssl", $"s_client -connect 127.0.0.1:{l.LocalPort}", ""))
                using (var a = l.Accept(20000))
                {
                    T.Check(!a.IsTls, "a plain listener's connection is not TLS");
                    T.Equal(null, a.TlsInfo, "TlsInfo of a plain connection");
                    T.Check(a.Recv(4096, 20000).Length > 0, "the ClientHello arrived as bytes");
                    a.SendAll("this is not TLS\r\n");
                    T.Check(cli.WaitForExit(20000), "s_client gave up");
                    T.Check(cli.ExitCode != 0, "s_client failed");
                }
            }
        }

        static void EngineTls()
        {
            var cert = Tls.SelfSigned("localhost", "127.0.0.1");
            using (var st = TlsConfig.Server().SetCertPem(cert.CertPem, cert.KeyPem))
            using (var scfg = new EngineConfig().SetTls(st))
            using (var server = Server.Listen("127.0.0.1:0", scfg))
            {
                string addr = $"127.0.0.1:{server.LocalPort}";
                using (var ct = TlsConfig.Client().AddPin(cert.Fingerprint))
                using (var ccfg = new EngineConfig().SetTls(ct))
                using (var client = Client.Connect(addr, ccfg))
                {
                    T.Check(T.WaitKind(client, EventKind.CONNECTED) != null, "the engine client connected over TLS");
                    client.Send(T.B("engine over TLS"));
                    var m = T.WaitKind(server, EventKind.MESSAGE);
                    T.Check(m != null, "the server got the message");
                    T.Equal("engine over TLS", m.Text, "the message");
                    server.Send(m.Client, m.Data);
                    var back = T.WaitKind(client, EventKind.MESSAGE);
                    T.Check(back != null && back.Text == "engine over TLS", "the echo");
                }
                // A blocking libsock client against the engine server, length-prefixed as the engine frames.
                using (var ct = TlsConfig.Client().AddPin(cert.Fingerprint))
                using (var c = TlsConnect(addr, ct))
                {
                    c.SetFraming(Framing.LengthPrefixed(4));
                    c.SendMsg(T.B("blocking to engine"));
                    var m = T.WaitKind(server, EventKind.MESSAGE);
                    T.Check(m != null && m.Text == "blocking to engine", "the engine server got the blocking client's message");
                }
                // A wrong pin: the client reports DISCONNECTED with reason TLS, the server a WARNING.
                using (var bad = TlsConfig.Client().AddPin(new string('a', 64)))
                using (var bcfg = new EngineConfig().SetTls(bad).Set(ConfigKey.RECONNECT, 0))
                using (var client = Client.Connect(addr, bcfg))
                {
                    var d = T.WaitKind(client, EventKind.DISCONNECTED);
                    T.Check(d != null, "DISCONNECTED after a wrong pin");
                    T.Equal(DisconnectReason.TLS, d.Reason, "the disconnect reason");
                    T.Check(client.Stats().TlsFailures >= 1, "the client counted the TLS failure");
                    var w = T.WaitKind(server, EventKind.WARNING);
                    T.Check(w != null && w.Value == ErrorCodes.TLS, $"the server's WARNING carries the TLS code: {w}");
                    T.Check(server.Stats().TlsFailures >= 1, "the server counted the TLS failure");
                }
            }
        }

        static void ConfigChecks()
        {
            using (var c = TlsConfig.Client())
            {
                T.Check(!c.IsServer, "a client config");
                T.Check(c.SetMinVersion(TlsVersion.V1_3).SetKeylog(false) == c, "setters chain");
            }
            // Malformed settings: refused by the setter or, at the latest, when the settings are
            // built (EngineConfig.SetTls), with InvalidArgumentException, as in every door.
            Refused(() => TlsConfig.Client().AddPin("abcd"), "a short pin");
            Refused(() => TlsConfig.Client().AddPin(null), "a null pin");
            Refused(() => TlsConfig.Client().SetHandshakeTimeout(0), "a zero handshake timeout");
            Refused(() => TlsConfig.Client().AddAlpn(""), "an empty ALPN protocol");
            Refused(() => TlsConfig.Client().SetCaPem("no certificate"), "a CA PEM without a certificate");
            Refused(() => TlsConfig.Client().SetServerName("a\0b"), "a server name with a NUL");
            T.Throws<InvalidArgumentException>(() => Tls.Fingerprint((string)null), "the fingerprint of null");
            // A server without a certificate is refused when it is built.
            using (var s = TlsConfig.Server())
            {
                T.Check(s.IsServer, "a server config");
                T.Throws<InvalidArgumentException>(() => new EngineConfig().SetTls(s), "a server config without a certificate");
                T.Throws<InvalidArgumentException>(() => TlsListen(s).Close(), "listening with a server config without a certificate");
            }
            var closed = TlsConfig.Client();
            closed.Dispose();
            T.Throws<ObjectDisposedException>(() => new SocketOptions().SetTls(closed), "a disposed TlsConfig");
            // A datagram socket refuses options with TLS.
            using (var t = TlsConfig.Client())
            using (var o = new SocketOptions().SetTls(t))
                T.Throws<InvalidArgumentException>(() => Datagram.Bind("127.0.0.1:0", o).Close(), "UDP with TLS");
        }

        static void Refused(Func<TlsConfig> make, string what)
        {
            T.Throws<InvalidArgumentException>(() =>
            {
                using (var t = make())
                using (var cfg = new EngineConfig())
                    cfg.SetTls(t);
            }, what);
        }

        static int FreePort()
        {
            var l = new TcpListener(IPAddress.Loopback, 0);
            l.Start();
            int port = ((IPEndPoint)l.LocalEndpoint).Port;
            l.Stop();
            return port;
        }

        /// <summary>Connects until the peer process listens (ConnectionRefused while it starts), up to 20 s.</summary>
        static Connection Retry(Func<Connection> connect)
        {
            double end = T.Now + 20000;
            while (true)
            {
                try { return connect(); }
                catch (ConnectionRefusedException) when (T.Now < end) { Thread.Sleep(50); }
            }
        }
    }

    /// <summary>A child process with its stdout collected on a thread and its stderr drained; killed
    /// when disposed, and always waited for with a bound.</summary>
    sealed class Child : IDisposable
    {
        readonly Process p;
        readonly MemoryStream output = new MemoryStream();
        readonly Thread reader, errReader;

        public Child(string file, string args, string stdin = null)
        {
            var psi = new ProcessStartInfo(file, args)
            {
                UseShellExecute = false,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                RedirectStandardInput = true,
            };
            p = Process.Start(psi);
            if (stdin != null)
            {
                p.StandardInput.Write(stdin);
                p.StandardInput.Flush();
                if (stdin.Length == 0) p.StandardInput.Close();
            }
            reader = new Thread(() =>
            {
                var buf = new byte[65536];
                int n;
                try
                {
                    while ((n = p.StandardOutput.BaseStream.Read(buf, 0, buf.Length)) > 0)
                        lock (output) output.Write(buf, 0, n);
                }
                catch (Exception) { }
            }) { IsBackground = true };
            errReader = new Thread(() => { try { p.StandardError.ReadToEnd(); } catch (Exception) { } }) { IsBackground = true };
            reader.Start();
            errReader.Start();
        }

        public long OutLength { get { lock (output) return output.Length; } }

        public byte[] Out() { lock (output) return output.ToArray(); }

        /// <summary>Waits until stdout has <paramref name="n"/> bytes.</summary>
        public bool WaitForOut(long n, int ms)
        {
            double end = T.Now + ms;
            while (OutLength < n && T.Now < end) Thread.Sleep(20);
            return OutLength >= n;
        }

        public bool WaitForExit(int ms) => p.WaitForExit(ms);

        public int ExitCode => p.ExitCode;

        public void Dispose()
        {
            try { if (!p.HasExited) p.Kill(); } catch (InvalidOperationException) { }
            p.WaitForExit(10000);
            reader.Join(5000);
            errReader.Join(5000);
            p.Dispose();
        }
    }

    /// <summary>The openssl command for the test certificates.</summary>
    static class Ossl
    {
        /// <summary>Runs <c>openssl args</c> in <paramref name="dir"/> (30 s bound); fails on a nonzero exit.</summary>
        public static void Run(string dir, string args)
        {
            var psi = new ProcessStartInfo("openssl", args)
            {
                UseShellExecute = false,
                WorkingDirectory = dir,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            using (var p = Process.Start(psi))
            {
                var err = p.StandardError.ReadToEndAsync();
                p.StandardOutput.ReadToEnd();
                if (!p.WaitForExit(30000)) { p.Kill(); throw new TestFailure("openssl " + args + ": no exit within 30 s"); }
                if (p.ExitCode != 0) throw new TestFailure($"openssl {args}: exit {p.ExitCode}: {err.Result}");
            }
        }
    }
}
