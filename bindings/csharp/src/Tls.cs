// TLS: a config object per side (ls_tls_client_config_new / ls_tls_server_config_new) built by
// chained setters and attached to SocketOptions (blocking connect and listen) or to an
// EngineConfig; what a handshake agreed on (TlsInfo); self-signed certificates and fingerprints.
// Every check is core's: a setter refuses a malformed value with InvalidArgumentException, and
// the settings as a whole are checked when a connect, listen or engine object builds them.
using System;

namespace Libsock
{
    /// <summary>The lowest TLS version a <see cref="TlsConfig"/> accepts (<c>LS_TLS_VERSION_*</c>).</summary>
    public enum TlsVersion
    {
        /// <summary><c>LS_TLS_VERSION_1_2</c>: TLS 1.2 and 1.3 (the default).</summary>
        V1_2 = 12,
        /// <summary><c>LS_TLS_VERSION_1_3</c>: TLS 1.3 only.</summary>
        V1_3 = 13,
    }

    /// <summary>Which client certificates a TLS server asks for (<c>LS_TLS_CLIENT_AUTH_*</c>).</summary>
    public enum TlsClientAuth
    {
        /// <summary><c>LS_TLS_CLIENT_AUTH_NONE</c>: no client certificate is asked for (the default).</summary>
        NONE = 0,
        /// <summary><c>LS_TLS_CLIENT_AUTH_OPTIONAL</c>: a client certificate is asked for and verified
        /// against the CA when one is sent; clients without one are accepted.</summary>
        OPTIONAL = 1,
        /// <summary><c>LS_TLS_CLIENT_AUTH_REQUIRED</c>: mutual TLS: a client without a certificate
        /// signed by the CA fails its handshake (<see cref="TlsException"/>).</summary>
        REQUIRED = 2,
    }

    /// <summary>TLS settings for one side, made by <see cref="Client"/> or <see cref="Server"/> and
    /// changed by setters that return the config (so they chain). Attach it with
    /// <see cref="SocketOptions.SetTls"/> (then <see cref="Connection.Connect(string, int, SocketOptions, Framing)"/>
    /// completes the handshake before it returns, and <see cref="Listener.Accept"/> before it returns a
    /// client) or with <see cref="EngineConfig.SetTls"/> (handshakes on the engine's threads). A client
    /// verifies the server against the system's roots and the host it connected to, unless a CA
    /// (<see cref="SetCaFile"/>, <see cref="SetCaPem"/>) or a pin (<see cref="AddPin"/>) says otherwise.
    /// A failed handshake is <see cref="TlsException"/>, its message naming the reason ("unknown CA",
    /// "name mismatch", "pin mismatch", "not TLS ..."). Owned by a SafeHandle like every libsock
    /// object: dispose it when done (what it was attached to keeps its settings).</summary>
    public sealed class TlsConfig : LibsockObject
    {
        private TlsConfig(long id, bool server) : base(id) { IsServer = server; }

        /// <summary>True for a server config (<see cref="Server"/>), false for a client config.</summary>
        public bool IsServer { get; }

        /// <summary>A client config: the server verified against the system's roots and the host name
        /// connected to, TLS 1.2 and 1.3, a 10 s handshake timeout.</summary>
        public static unsafe TlsConfig Client()
        {
            long h;
            Utf8.Check(Native.ls_tls_client_config_new(&h));
            return new TlsConfig(h, false);
        }

        /// <summary>A server config: it needs a certificate and key (<see cref="SetCertPem"/>,
        /// <see cref="SetCertFiles"/> or SNI certificates); no client certificate asked for, TLS 1.2
        /// and 1.3, a 10 s handshake timeout.</summary>
        public static unsafe TlsConfig Server()
        {
            long h;
            Utf8.Check(Native.ls_tls_server_config_new(&h));
            return new TlsConfig(h, true);
        }

        private unsafe TlsConfig Text(string value, string what, Func<long, IntPtr, int> call)
        {
            byte[] a = Utf8.Encode(value, what);
            long h = Acquire();
            try
            {
                fixed (byte* p = a) Fail(call(h, (IntPtr)p));
            }
            finally { Release(); }
            return this;
        }

        private TlsConfig Do(Func<long, int> call)
        {
            Call(call);
            return this;
        }

        /// <summary>Client: trust the CA certificates of the PEM file at <paramref name="path"/>
        /// (instead of the system's roots).</summary>
        public unsafe TlsConfig SetCaFile(string path) =>
            Text(path, "path", (h, p) => Native.ls_tls_set_ca_file(h, (byte*)p));

        /// <summary>Client: trust the CA certificates of PEM text <paramref name="pem"/>.</summary>
        public unsafe TlsConfig SetCaPem(string pem)
        {
            byte[] a = Utf8.Encode(pem, "pem");
            long h = Acquire();
            try
            {
                fixed (byte* p = a) Fail(Native.ls_tls_set_ca_pem(h, p, Utf8.Size(a.Length - 1)));
            }
            finally { Release(); }
            return this;
        }

        /// <summary>Client: trust the roots bundled with libsock (Mozilla's) instead of the system's.</summary>
        public TlsConfig SetBundledRoots() => Do(h => Native.ls_tls_set_bundled_roots(h));

        /// <summary>Client: trust exactly the server certificate (or public key) whose SHA-256
        /// fingerprint is <paramref name="sha256Hex"/> (64 hex digits, colons allowed;
        /// <see cref="Tls.Fingerprint(string)"/> computes it). Call again to allow several. No CA, name
        /// or date is checked: the safe way to talk to a self-signed device.</summary>
        public unsafe TlsConfig AddPin(string sha256Hex) =>
            Text(sha256Hex, "pin", (h, p) => Native.ls_tls_add_pin(h, (byte*)p));

        /// <summary>Client: DANGER: accepts any server certificate, so anyone on the path can read and
        /// change the traffic (libsock says so on stderr). For a self-signed server use
        /// <see cref="AddPin"/> instead.</summary>
        public TlsConfig SetDangerousNoVerify() => Do(h => Native.ls_tls_set_dangerous_no_verify(h));

        /// <summary>Client: the name sent (SNI) and verified, instead of the host connected to.</summary>
        public unsafe TlsConfig SetServerName(string name) =>
            Text(name, "name", (h, p) => Native.ls_tls_set_server_name(h, (byte*)p));

        /// <summary>The certificate chain and private key from PEM files: the server's own, or a
        /// client's for a server that asks for one (mutual TLS).</summary>
        public unsafe TlsConfig SetCertFiles(string certPath, string keyPath)
        {
            byte[] c = Utf8.Encode(certPath, "certPath"), k = Utf8.Encode(keyPath, "keyPath");
            long h = Acquire();
            try
            {
                fixed (byte* cp = c)
                fixed (byte* kp = k)
                    Fail(Native.ls_tls_set_cert_files(h, cp, kp));
            }
            finally { Release(); }
            return this;
        }

        /// <summary><see cref="SetCertFiles"/> from PEM text (as <see cref="Tls.SelfSigned"/> makes it).</summary>
        public unsafe TlsConfig SetCertPem(string certPem, string keyPem)
        {
            byte[] c = Utf8.Encode(certPem, "certPem"), k = Utf8.Encode(keyPem, "keyPem");
            long h = Acquire();
            try
            {
                fixed (byte* cp = c)
                fixed (byte* kp = k)
                    Fail(Native.ls_tls_set_cert_pem(h, cp, Utf8.Size(c.Length - 1), kp, Utf8.Size(k.Length - 1)));
            }
            finally { Release(); }
            return this;
        }

        /// <summary>Server: the certificate and key (PEM text) for clients that ask for host
        /// <paramref name="name"/> by SNI; others get the default certificate. Once per name.</summary>
        public unsafe TlsConfig AddSniCertPem(string name, string certPem, string keyPem)
        {
            byte[] n = Utf8.Encode(name, "name"), c = Utf8.Encode(certPem, "certPem"), k = Utf8.Encode(keyPem, "keyPem");
            long h = Acquire();
            try
            {
                fixed (byte* np = n)
                fixed (byte* cp = c)
                fixed (byte* kp = k)
                    Fail(Native.ls_tls_add_sni_cert_pem(h, np, cp, Utf8.Size(c.Length - 1), kp, Utf8.Size(k.Length - 1)));
            }
            finally { Release(); }
            return this;
        }

        /// <summary><see cref="AddSniCertPem"/> from PEM files.</summary>
        public unsafe TlsConfig AddSniCertFiles(string name, string certPath, string keyPath)
        {
            byte[] n = Utf8.Encode(name, "name"), c = Utf8.Encode(certPath, "certPath"), k = Utf8.Encode(keyPath, "keyPath");
            long h = Acquire();
            try
            {
                fixed (byte* np = n)
                fixed (byte* cp = c)
                fixed (byte* kp = k)
                    Fail(Native.ls_tls_add_sni_cert_files(h, np, cp, kp));
            }
            finally { Release(); }
            return this;
        }

        /// <summary>Server: which client certificates to ask for, verified against the CA
        /// certificates of PEM text <paramref name="caPem"/> (null only with
        /// <see cref="TlsClientAuth.NONE"/>).</summary>
        public unsafe TlsConfig SetClientAuth(TlsClientAuth mode, string caPem = null)
        {
            byte[] c = caPem == null ? null : Utf8.Encode(caPem, "caPem");
            long h = Acquire();
            try
            {
                fixed (byte* cp = c)
                    Fail(Native.ls_tls_set_client_auth(h, (int)mode, c == null ? null : cp, Utf8.Size(c == null ? 0 : c.Length - 1)));
            }
            finally { Release(); }
            return this;
        }

        /// <summary><see cref="SetClientAuth"/> with the CA certificates of the PEM file at
        /// <paramref name="caPath"/> (null only with <see cref="TlsClientAuth.NONE"/>).</summary>
        public unsafe TlsConfig SetClientAuthFile(TlsClientAuth mode, string caPath)
        {
            byte[] c = caPath == null ? null : Utf8.Encode(caPath, "caPath");
            long h = Acquire();
            try
            {
                fixed (byte* cp = c) Fail(Native.ls_tls_set_client_auth_file(h, (int)mode, c == null ? null : cp));
            }
            finally { Release(); }
            return this;
        }

        /// <summary>Offers (client) or accepts (server) these ALPN protocols, in order of preference
        /// (each 1 to 255 bytes); a server that has none of a client's fails the handshake.
        /// <see cref="TlsInfo.Alpn"/> says what was agreed.</summary>
        public unsafe TlsConfig AddAlpn(params string[] protocols)
        {
            if (protocols == null) throw new InvalidArgumentException("invalid argument: protocols is null");
            foreach (string protocol in protocols)
                Text(protocol, "protocol", (h, p) => Native.ls_tls_add_alpn(h, (byte*)p));
            return this;
        }

        /// <summary>The lowest version accepted (<see cref="TlsVersion.V1_2"/>, the default, or
        /// <see cref="TlsVersion.V1_3"/>).</summary>
        public TlsConfig SetMinVersion(TlsVersion version) => Do(h => Native.ls_tls_set_min_version(h, (int)version));

        /// <summary>How long a handshake may take, in ms (at least 1; default 10000): a silent peer
        /// gives <see cref="LibsockTimeoutException"/> after it.</summary>
        public TlsConfig SetHandshakeTimeout(int timeoutMs) => Do(h => Native.ls_tls_set_handshake_timeout(h, timeoutMs));

        /// <summary>Writes the session keys to the file named by the SSLKEYLOGFILE environment
        /// variable (for Wireshark) when <paramref name="on"/>.</summary>
        public TlsConfig SetKeylog(bool on = true) => Do(h => Native.ls_tls_set_keylog(h, on ? 1 : 0));

        internal static long IdOf(TlsConfig t)
        {
            if (t == null) return 0;
            if (t.IsClosed) throw new ObjectDisposedException(nameof(TlsConfig));
            return t.Handle;
        }

        /// <summary>"TlsConfig(client|server, handle N)".</summary>
        public override string ToString() => $"TlsConfig({(IsServer ? "server" : "client")}, handle {Handle}{(IsClosed ? ", closed" : "")})";
    }

    /// <summary>What a TLS handshake agreed on (<see cref="Connection.TlsInfo"/>), read once when asked.</summary>
    public sealed class TlsInfo
    {
        internal TlsInfo(string version, string cipher, string alpn, byte[] peerCertificate, string peerFingerprint)
        {
            Version = version;
            Cipher = cipher;
            Alpn = alpn;
            PeerCertificate = peerCertificate;
            PeerFingerprint = peerFingerprint;
        }

        /// <summary>The protocol version: "TLSv1.3" or "TLSv1.2".</summary>
        public string Version { get; }

        /// <summary>The cipher suite, e.g. "TLS13_AES_256_GCM_SHA384".</summary>
        public string Cipher { get; }

        /// <summary>The ALPN protocol agreed on; null when none was.</summary>
        public string Alpn { get; }

        /// <summary>The peer's certificate (DER bytes); null when the peer sent none (a client without one).</summary>
        public byte[] PeerCertificate { get; }

        /// <summary>The SHA-256 fingerprint of the peer's certificate (64 lowercase hex digits, what
        /// <see cref="TlsConfig.AddPin"/> takes); null when the peer sent none.</summary>
        public string PeerFingerprint { get; }

        /// <summary>"TLSv1.3 TLS13_... alpn=... peer=&lt;fingerprint&gt;".</summary>
        public override string ToString() =>
            $"{Version} {Cipher}{(Alpn == null ? "" : " alpn=" + Alpn)}{(PeerFingerprint == null ? "" : " peer=" + PeerFingerprint)}";
    }

    /// <summary>A certificate and its private key made by <see cref="Tls.SelfSigned"/>, as PEM text,
    /// with the certificate's fingerprint (the pin a client trusts it by).</summary>
    public sealed class SelfSignedCertificate
    {
        internal SelfSignedCertificate(string certPem, string keyPem, string fingerprint)
        {
            CertPem = certPem;
            KeyPem = keyPem;
            Fingerprint = fingerprint;
        }

        /// <summary>The certificate (PEM).</summary>
        public string CertPem { get; }

        /// <summary>The private key (PEM; keep it secret).</summary>
        public string KeyPem { get; }

        /// <summary>The certificate's SHA-256 fingerprint (64 lowercase hex digits), for <see cref="TlsConfig.AddPin"/>.</summary>
        public string Fingerprint { get; }
    }

    /// <summary>TLS helpers: self-signed certificates and fingerprints.</summary>
    public static class Tls
    {
        /// <summary>A self-signed certificate and key for <paramref name="names"/> (host names and IP
        /// addresses, e.g. "localhost", "127.0.0.1": the certificate's subject alternative names). For
        /// trying TLS, tests, and devices trusted by their pin.</summary>
        public static unsafe SelfSignedCertificate SelfSigned(params string[] names)
        {
            if (names == null || names.Length == 0) throw new InvalidArgumentException("invalid argument: names is empty");
            byte[] n = Utf8.Encode(string.Join(",", names), "names");
            var cert = new byte[8192];
            var key = new byte[8192];
            UIntPtr cl, kl;
            fixed (byte* np = n)
            fixed (byte* cp = cert)
            fixed (byte* kp = key)
                Utf8.Check(Native.ls_tls_self_signed(np, cp, (UIntPtr)cert.Length, &cl, kp, (UIntPtr)key.Length, &kl));
            string certPem, keyPem;
            fixed (byte* cp = cert) certPem = Utf8.Decode(cp, Utf8.Long(cl)).TrimEnd((char)0);
            fixed (byte* kp = key) keyPem = Utf8.Decode(kp, Utf8.Long(kl)).TrimEnd((char)0);
            return new SelfSignedCertificate(certPem, keyPem, Fingerprint(certPem));
        }

        /// <summary>The SHA-256 fingerprint (64 lowercase hex digits) of the first certificate of PEM
        /// text <paramref name="pem"/>: what <see cref="TlsConfig.AddPin"/> takes.</summary>
        public static string Fingerprint(string pem)
        {
            byte[] b = Utf8.Encode(pem, "pem");
            return Fingerprint(b, b.Length - 1);
        }

        /// <summary>The SHA-256 fingerprint of a certificate given as DER bytes (or PEM bytes).</summary>
        public static string Fingerprint(byte[] der)
        {
            if (der == null) throw new InvalidArgumentException("invalid argument: der is null");
            return Fingerprint(der, der.Length);
        }

        private static unsafe string Fingerprint(byte[] cert, int len)
        {
            byte* buf = stackalloc byte[128];
            UIntPtr n;
            fixed (byte* p = cert)
                Utf8.Check(Native.ls_fingerprint(len == 0 ? null : p, Utf8.Size(len), buf, (UIntPtr)128, &n));
            return Utf8.Decode(buf, Utf8.Long(n));
        }
    }
}
