package io.libsock;

import static io.libsock.LibsockTest.check;
import static io.libsock.LibsockTest.eq;
import static io.libsock.LibsockTest.expect;
import static io.libsock.LibsockTest.str;
import static io.libsock.LibsockTest.utf8;

import io.libsock.LibsockTest.Peer;
import java.io.BufferedReader;
import java.io.DataInputStream;
import java.io.File;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

/**
 * TLS in the Java door: scenarios S18-S21 of docs/SCENARIOS.md (methods {@code s18...} to
 * {@code s21...}, run by {@link LibsockTest#main}) plus settings and misuse checks
 * ({@code xTls...}). The peers are real: the JDK's own {@code javax.net.ssl} (SSLServerSocket
 * and SSLSocket with PKCS12 key stores made by {@code openssl pkcs12}), {@code openssl s_server}
 * and {@code s_client}, and libsock itself. The certificates (a CA, a server and a client
 * certificate signed by it) are made by openssl once per run; every wait and every child
 * process is bounded.
 */
final class TlsTest {
    private TlsTest() {}

    /** Upper bound of any single wait. */
    static final int WAIT_MS = 10_000;

    /** The key stores' password. */
    static final char[] PASS = "changeit".toCharArray();

    // ------------------------------------------------------------------ certificates

    /** The files of the test PKI, made once. */
    static final class Pki {
        final File dir;

        Pki(File dir) {
            this.dir = dir;
        }

        String path(String name) {
            return new File(dir, name).getAbsolutePath();
        }

        String text(String name) throws IOException {
            return new String(Files.readAllBytes(Paths.get(path(name))), StandardCharsets.US_ASCII);
        }
    }

    private static Pki pki;

    static synchronized Pki pki() throws Exception {
        if (pki != null) {
            return pki;
        }
        File d = Files.createTempDirectory("ls-java-tls-").toFile();
        d.deleteOnExit();
        openssl(d, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out",
                "ca.pem", "-days", "30", "-subj", "/CN=libsock java test CA");
        String[][] certs = {{"server", "DNS:localhost,IP:127.0.0.1"}, {"client", "DNS:client"}};
        for (String[] c : certs) {
            String n = c[0];
            openssl(d, "req", "-newkey", "rsa:2048", "-nodes", "-keyout", n + ".key", "-out",
                    n + ".csr", "-subj", "/CN=" + n);
            Files.write(Paths.get(d.getPath(), n + ".ext"),
                    utf8("subjectAltName=" + c[1] + "\n"));
            openssl(d, "x509", "-req", "-in", n + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                    "-CAcreateserial", "-out", n + ".pem", "-days", "30", "-extfile", n + ".ext");
            // The JDK's key store for the same certificate and key.
            openssl(d, "pkcs12", "-export", "-in", n + ".pem", "-inkey", n + ".key", "-certfile",
                    "ca.pem", "-name", n, "-out", n + ".p12", "-passout", "pass:changeit");
        }
        Tls.SelfSigned dev = Tls.selfSigned("device.local", "127.0.0.1");
        Files.write(Paths.get(d.getPath(), "device.pem"), utf8(dev.certPem()));
        Files.write(Paths.get(d.getPath(), "device.key"), utf8(dev.keyPem()));
        for (File f : d.listFiles()) {
            f.deleteOnExit();
        }
        pki = new Pki(d);
        return pki;
    }

    static void openssl(File dir, String... args) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add("openssl");
        cmd.addAll(Arrays.asList(args));
        try (Proc p = new Proc(dir, cmd.toArray(new String[0]))) {
            int rc = p.exit(60_000);
            if (rc != 0) {
                throw new AssertionError("openssl " + args[0] + " failed (" + rc + "): " + p.output());
            }
        }
    }

    /** A child process whose output (stdout and stderr) a daemon thread collects by line. */
    static final class Proc implements AutoCloseable {
        final Process process;
        final LinkedBlockingQueue<String> lines = new LinkedBlockingQueue<>();
        final StringBuffer all = new StringBuffer();
        final Thread reader;

        Proc(File dir, String... cmd) throws IOException {
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
            if (dir != null) {
                pb.directory(dir);
            }
            process = pb.start();
            reader = new Thread(() -> {
                try (BufferedReader r = new BufferedReader(
                        new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = r.readLine()) != null) {
                        all.append(line).append('\n');
                        lines.add(line);
                    }
                } catch (IOException e) {
                    // the process was killed
                }
            }, "proc-reader");
            reader.setDaemon(true);
            reader.start();
        }

        /** The first line containing {@code text}, or an AssertionError after {@code ms}. */
        String line(String text, long ms) throws InterruptedException {
            long end = System.nanoTime() + ms * 1_000_000;
            while (true) {
                long left = (end - System.nanoTime()) / 1_000_000;
                String l = left > 0 ? lines.poll(left, TimeUnit.MILLISECONDS) : null;
                if (l == null) {
                    throw new AssertionError("no line with '" + text + "' in " + ms + " ms: " + all);
                }
                if (l.contains(text)) {
                    return l;
                }
            }
        }

        /** The exit code; the process is killed (and the test fails) if it runs longer. */
        int exit(long ms) throws InterruptedException {
            if (!process.waitFor(ms, TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                throw new AssertionError("child still running after " + ms + " ms: " + all);
            }
            reader.join(ms);
            return process.exitValue();
        }

        String output() throws InterruptedException {
            reader.join(WAIT_MS);
            return all.toString();
        }

        @Override
        public void close() {
            process.destroyForcibly();
            try {
                process.waitFor(WAIT_MS, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    // ------------------------------------------------------------------ JDK peers

    static KeyStore keyStore(String p12) throws Exception {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = new FileInputStream(p12)) {
            ks.load(in, PASS);
        }
        return ks;
    }

    static KeyStore trustStore(String caPem) throws Exception {
        KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
        ks.load(null, null);
        try (InputStream in = new FileInputStream(caPem)) {
            ks.setCertificateEntry("ca", CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        return ks;
    }

    /** A JDK SSLContext with these keys (or none) trusting these CAs. */
    static SSLContext jdkContext(KeyStore keys, KeyStore trust) throws Exception {
        KeyManagerFactory kmf = null;
        if (keys != null) {
            kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(keys, PASS);
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), null);
        return ctx;
    }

    /** A JDK TLS server socket on loopback with the server certificate. */
    static SSLServerSocket jdkTlsServer(boolean needClientAuth, String... alpn) throws Exception {
        Pki p = pki();
        SSLContext ctx = jdkContext(keyStore(p.path("server.p12")), trustStore(p.path("ca.pem")));
        SSLServerSocket ss = (SSLServerSocket) ctx.getServerSocketFactory()
                .createServerSocket(0, 50, InetAddress.getByName("127.0.0.1"));
        SSLParameters params = ss.getSSLParameters();
        params.setNeedClientAuth(needClientAuth);
        if (alpn.length > 0) {
            params.setApplicationProtocols(alpn);
        }
        ss.setSSLParameters(params);
        return ss;
    }

    /** A JDK TLS client socket to loopback that checks the server's name (127.0.0.1). */
    static SSLSocket jdkTlsClient(int port, KeyStore keys) throws Exception {
        SSLContext ctx = jdkContext(keys, trustStore(pki().path("ca.pem")));
        SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket("127.0.0.1", port);
        SSLParameters params = s.getSSLParameters();
        params.setEndpointIdentificationAlgorithm("HTTPS");
        s.setSSLParameters(params);
        s.setSoTimeout(WAIT_MS);
        return s;
    }

    /** Reads exactly {@code n} bytes from a JDK socket. */
    static byte[] readFully(Socket s, int n) throws IOException {
        byte[] b = new byte[n];
        new DataInputStream(s.getInputStream()).readFully(b);
        return b;
    }

    /** A JDK peer that accepts one TLS client and echoes {@code n} bytes back. */
    static Peer jdkEcho(SSLServerSocket ss, int n) {
        return new Peer("jdk-tls-echo", () -> {
            try (SSLServerSocket server = ss; Socket s = server.accept()) {
                s.setSoTimeout(WAIT_MS);
                InputStream in = s.getInputStream();
                OutputStream out = s.getOutputStream();
                byte[] buf = new byte[65536];
                int done = 0;
                while (done < n) {
                    int k = in.read(buf, 0, Math.min(buf.length, n - done));
                    check(k > 0, "the JDK echo peer got end of stream after " + done + " bytes");
                    out.write(buf, 0, k);
                    done += k;
                }
                out.flush();
            }
        });
    }

    /** A JDK TLS server that accepts one client whose handshake must fail, and ignores why. */
    static Peer jdkRefused(SSLServerSocket ss) {
        return new Peer("jdk-tls-refused", () -> {
            try (SSLServerSocket server = ss; Socket s = server.accept()) {
                s.setSoTimeout(WAIT_MS);
                ((SSLSocket) s).startHandshake();
                s.getInputStream().read();
            } catch (IOException expected) {
                // the libsock client refused the server: what the test checks on its side
            }
        });
    }

    static ConnectOptions tlsOptions(TlsClientConfig tls) throws IOException {
        return new ConnectOptions().withConnectTimeout(WAIT_MS).withTimeout(WAIT_MS).withTls(tls);
    }

    /** Sends {@code data} on a thread while this thread receives it back; returns what came. */
    static byte[] echoThrough(TcpConnection c, byte[] data) throws Exception {
        Peer sender = new Peer("tls-sender", () -> c.sendAll(data));
        byte[] got = c.recvExact(data.length);
        sender.join();
        return got;
    }

    static byte[] random(int n) {
        byte[] b = new byte[n];
        new Random(n).nextBytes(b);
        return b;
    }

    // ------------------------------------------------------------------ S18: CA trust

    /** S18: libsock client to a JDK SSLServerSocket: CA trust, name check, ALPN, 1 MiB echo. */
    static void s18TlsEchoLibsockClientToJdkServer() throws Exception {
        Pki p = pki();
        SSLServerSocket ss = jdkTlsServer(false, "x-echo");
        int port = ss.getLocalPort();
        byte[] data = random(1 << 20);
        Peer peer = jdkEcho(ss, data.length);
        try (TlsClientConfig tls = TlsConfig.client().caFile(p.path("ca.pem")).alpn("h2", "x-echo");
             TcpConnection c = TcpConnection.connect("127.0.0.1", port, tlsOptions(tls))) {
            check(c.isTls(), "isTls");
            TlsInfo info = c.tlsInfo();
            eq("x-echo", info.alpn(), "ALPN agreed with the JDK");
            check(info.version().equals("TLSv1.3") || info.version().equals("TLSv1.2"), info.version());
            check(!info.cipher().isEmpty(), "a cipher suite");
            eq(Tls.fingerprint(p.text("server.pem")), info.peerFingerprint(), "the server's certificate");
            eq(2, info.peerCertificates().size(), "the JDK sends its chain (server, CA)");
            check(Arrays.equals(data, echoThrough(c, data)), "1 MiB byte-exact through TLS");
        }
        peer.join();
    }

    /** S18: a wrong name and an unknown CA give TlsException naming the reason. */
    static void s18TlsRefusalsNameTheReason() throws Exception {
        Pki p = pki();
        Object[][] cases = {
            {TlsConfig.client().caFile(p.path("ca.pem")).serverName("wrong.example"), "name mismatch"},
            {TlsConfig.client(), "unknown CA"}, // the system's roots do not know the test CA
            {TlsConfig.client().pin(Tls.fingerprint(p.text("device.pem"))), "pin mismatch"},
        };
        for (Object[] cs : cases) {
            try (TlsClientConfig tls = (TlsClientConfig) cs[0]) {
                SSLServerSocket ss = jdkTlsServer(false);
                Peer peer = jdkRefused(ss);
                TlsException e = expect(TlsException.class,
                        () -> TcpConnection.connect("127.0.0.1", ss.getLocalPort(), tlsOptions(tls)));
                check(e.getMessage().contains((String) cs[1]), "'" + cs[1] + "' in: " + e.getMessage());
                check(e instanceof SSLException, "a javax.net.ssl.SSLException");
                eq(ErrorKind.TLS, e.kind(), "kind");
                eq(ErrorKind.TLS.code(), e.code(), "code");
                peer.join();
            }
        }
    }

    /** S18: a JDK SSLSocket client (checking the name 127.0.0.1) to a libsock TLS listener. */
    static void s18TlsEchoJdkClientToLibsockServer() throws Exception {
        Pki p = pki();
        byte[] data = random(1 << 20);
        try (TlsServerConfig tls = TlsConfig.server().certFiles(p.path("server.pem"), p.path("server.key"));
             Listener l = Listener.listen("127.0.0.1", 0, new ListenOptions().withTls(tls))) {
            AtomicReference<byte[]> got = new AtomicReference<>();
            Peer client = new Peer("jdk-tls-client", () -> {
                try (SSLSocket s = jdkTlsClient(l.localPort(), null)) {
                    Peer sender = new Peer("jdk-sender", () -> {
                        s.getOutputStream().write(data);
                        s.getOutputStream().flush();
                    });
                    got.set(readFully(s, data.length));
                    sender.join();
                    eq("TLSv1.3", s.getSession().getProtocol(), "the JDK's version");
                }
            });
            try (TcpConnection c = l.accept(WAIT_MS)) {
                TlsInfo info = c.tlsInfo();
                eq(null, info.peerCertificate(), "no client certificate was asked for");
                eq(null, info.peerFingerprint(), "no client fingerprint");
                byte[] buf = new byte[65536];
                int done = 0;
                while (done < data.length) {
                    int n = c.recvInto(buf, 0, buf.length);
                    check(n > 0, "end of stream after " + done);
                    c.sendAll(Arrays.copyOf(buf, n));
                    done += n;
                }
            } // close_notify: the JDK's close waits for it
            client.join();
            check(Arrays.equals(data, got.get()), "1 MiB byte-exact through a libsock TLS server");
        }
    }

    /** S18: libsock to libsock with framing: messages of 0 B to 1 MiB, then close_notify. */
    static void s18TlsFramedLibsockToLibsock() throws Exception {
        Pki p = pki();
        byte[][] msgs = {utf8("hello"), new byte[0], random(65536), random(1 << 20)};
        try (TlsServerConfig st = TlsConfig.server().certPem(p.text("server.pem"), p.text("server.key"));
             TlsClientConfig ct = TlsConfig.client().caPem(p.text("ca.pem"));
             Listener l = Listener.listen("127.0.0.1:0", new ListenOptions().withTls(st)
                     .withFraming(Framing.lengthPrefixed()).withConnectionTimeout(WAIT_MS))) {
            Peer server = new Peer("libsock-tls-echo", () -> {
                try (TcpConnection s = l.accept(WAIT_MS)) {
                    for (int i = 0; i < msgs.length; i++) {
                        s.sendMsg(s.recvMsg());
                    }
                    s.shutdown(); // close_notify, then FIN
                    expect(ClosedException.class, () -> s.recvMsg());
                }
            });
            try (TcpConnection c = TcpConnection.connect("127.0.0.1:" + l.localPort(),
                    tlsOptions(ct).withFraming(Framing.lengthPrefixed()))) {
                for (byte[] m : msgs) {
                    c.sendMsg(m);
                    check(Arrays.equals(m, c.recvMsg()), "message of " + m.length + " bytes");
                }
                expect(ClosedException.class, () -> c.recvMsg()); // the server's close_notify
                c.shutdown();
            }
            server.join();
        }
    }

    /** S18: openssl s_client (TLS 1.3, CA trust, ALPN) to a libsock TLS listener. */
    static void s18TlsOpensslClientToLibsockServer() throws Exception {
        Pki p = pki();
        try (TlsServerConfig tls = TlsConfig.server().certFiles(p.path("server.pem"), p.path("server.key"))
                        .alpn("x-echo");
             Listener l = Listener.listen("127.0.0.1", 0, new ListenOptions().withTls(tls));
             Proc cli = new Proc(null, "openssl", "s_client", "-connect", "127.0.0.1:" + l.localPort(),
                     "-CAfile", p.path("ca.pem"), "-verify_return_error", "-alpn", "x-echo",
                     "-tls1_3", "-quiet")) {
            try (OutputStream in = cli.process.getOutputStream();
                 TcpConnection c = l.accept(WAIT_MS)) {
                c.setTimeout(WAIT_MS);
                eq("TLSv1.3", c.tlsInfo().version(), "version");
                eq("x-echo", c.tlsInfo().alpn(), "ALPN");
                in.write(utf8("from openssl\n"));
                in.flush();
                eq("from openssl\n", str(c.recvUntil(utf8("\n"), 100)), "s_client's line");
                c.sendAll(utf8("from libsock\n"));
                c.shutdown(); // close_notify: s_client sees the end and exits
            }
            cli.line("from libsock", WAIT_MS);
            eq(0, cli.exit(WAIT_MS), "s_client's exit code");
        }
    }

    /** S18: SNI picks the server's certificate by the name the client asks for; others get
     * the default one. */
    static void s18TlsSniPicksTheCertificate() throws Exception {
        Pki p = pki();
        try (TlsServerConfig st = TlsConfig.server().certFiles(p.path("device.pem"), p.path("device.key"))
                        .sniCertFiles("localhost", p.path("server.pem"), p.path("server.key"));
             Listener l = Listener.listen("127.0.0.1:0", new ListenOptions().withTls(st))) {
            String[][] cases = {{"localhost", "server.pem"}, {"other.example", "device.pem"}};
            for (String[] cs : cases) {
                Peer server = new Peer("sni-server", () -> {
                    try (TcpConnection s = l.accept(WAIT_MS)) {
                        s.setTimeout(WAIT_MS);
                        s.sendAll(s.recvExact(1));
                    }
                });
                try (TlsClientConfig ct = TlsConfig.client().pin(Tls.fingerprint(p.text(cs[1])))
                                .serverName(cs[0]);
                     TcpConnection c = TcpConnection.connect("127.0.0.1", l.localPort(), tlsOptions(ct))) {
                    c.sendAll(new byte[] {1});
                    eq(1, (int) c.recvExact(1)[0], "echo");
                    eq(Tls.fingerprint(p.text(cs[1])), c.tlsInfo().peerFingerprint(),
                            "SNI " + cs[0] + " gets " + cs[1]);
                }
                server.join();
            }
        }
    }

    // ------------------------------------------------------------------ S19: pinned

    /** S19: a pinned self-signed certificate: the right pin (certificate or public key) works,
     * a wrong one is refused, and the server keeps serving. */
    static void s19TlsPinnedSelfSigned() throws Exception {
        Tls.SelfSigned dev = Tls.selfSigned("device.local", "127.0.0.1");
        Tls.SelfSigned other = Tls.selfSigned("device.local");
        check(!dev.fingerprint().equals(other.fingerprint()), "two certificates, two pins");
        check(dev.fingerprint().matches("[0-9a-f]{64}"), "64 hex digits: " + dev.fingerprint());
        check(!dev.toString().contains("PRIVATE"), "toString never shows the key");
        try (TlsServerConfig st = TlsConfig.server().certPem(dev.certPem(), dev.keyPem());
             Listener l = Listener.listen("127.0.0.1:0", new ListenOptions().withTls(st))) {
            AtomicInteger served = new AtomicInteger();
            AtomicInteger refused = new AtomicInteger();
            Peer server = new Peer("libsock-tls-pinned", () -> {
                for (int i = 0; i < 4; i++) {
                    try (TcpConnection s = l.accept(WAIT_MS)) {
                        s.setTimeout(WAIT_MS);
                        s.sendAll(s.recvExact(4));
                        served.incrementAndGet();
                    } catch (TlsException e) {
                        refused.incrementAndGet();
                    }
                }
            });
            String ep = "127.0.0.1:" + l.localPort();
            try (TlsClientConfig ct = TlsConfig.client().pin(dev.fingerprint());
                 TcpConnection c = TcpConnection.connect(ep, tlsOptions(ct))) {
                c.sendAll(utf8("pin1"));
                eq("pin1", str(c.recvExact(4)), "echo with the certificate's pin");
                byte[] der = c.tlsInfo().peerCertificate();
                eq(dev.fingerprint(), Tls.fingerprint(der), "DER and PEM fingerprints agree");
                try (TlsClientConfig wrong = TlsConfig.client().pin(other.fingerprint())) {
                    TlsException e = expect(TlsException.class,
                            () -> TcpConnection.connect(ep, tlsOptions(wrong)));
                    check(e.getMessage().contains("pin mismatch"), e.getMessage());
                    check(e.getMessage().contains(dev.fingerprint()), "names the certificate seen");
                }
                // A pin of the public key (stays across renewals), colons allowed.
                String spki = Tls.publicKeyFingerprint(der).replaceAll("(..)(?!$)", "$1:");
                try (TlsClientConfig byKey = TlsConfig.client().pin(spki);
                     TcpConnection k = TcpConnection.connect(ep, tlsOptions(byKey))) {
                    k.sendAll(utf8("pin2"));
                    eq("pin2", str(k.recvExact(4)), "echo with the public key's pin");
                }
                // No verification at all (tests only; libsock warns on stderr once).
                try (TlsClientConfig none = TlsConfig.client().dangerousNoVerify();
                     TcpConnection k = TcpConnection.connect(ep, tlsOptions(none))) {
                    k.sendAll(utf8("none"));
                    eq("none", str(k.recvExact(4)), "echo without verification");
                    eq(dev.fingerprint(), k.tlsInfo().peerFingerprint(), "the certificate is still seen");
                }
            }
            server.join();
            eq(3, served.get(), "served");
            eq(1, refused.get(), "the refused client's handshake failed on the server too");
        }
    }

    /** S19: libsock client pinning openssl s_server's self-signed certificate (TLS 1.2 only);
     * a client that wants TLS 1.3 is refused with the reason. */
    static void s19TlsPinnedOpensslServer() throws Exception {
        Pki p = pki();
        String pin = Tls.fingerprint(p.text("device.pem"));
        try (Proc srv = new Proc(null, "openssl", "s_server", "-accept", "0", "-cert",
                p.path("device.pem"), "-key", p.path("device.key"), "-tls1_2", "-rev",
                "-naccept", "2")) {
            String line = srv.line("ACCEPT", WAIT_MS);
            int port = Integer.parseInt(line.substring(line.lastIndexOf(':') + 1).trim());
            try (TlsClientConfig tls = TlsConfig.client().pin(pin);
                 TcpConnection c = TcpConnection.connect("127.0.0.1", port, tlsOptions(tls))) {
                eq("TLSv1.2", c.tlsInfo().version(), "s_server speaks TLS 1.2 only");
                c.sendAll(utf8("hello\n"));
                eq("olleh\n", str(c.recvUntil(utf8("\n"), 100)), "s_server -rev");
            }
            try (TlsClientConfig v13 = TlsConfig.client().pin(pin).minVersion(TlsVersion.V1_3)) {
                TlsException e = expect(TlsException.class,
                        () -> TcpConnection.connect("127.0.0.1", port, tlsOptions(v13)));
                check(e.getMessage().contains("protocol version"), e.getMessage());
            }
        }
    }

    // ------------------------------------------------------------------ S20: mutual TLS

    /** S20: a libsock server requiring client certificates: a JDK client with one is served
     * (its certificate is seen), one without is refused on both sides, no hang. */
    static void s20TlsMutualJdkClientToLibsockServer() throws Exception {
        Pki p = pki();
        try (TlsServerConfig tls = TlsConfig.server().certFiles(p.path("server.pem"), p.path("server.key"))
                        .clientAuthFile(ClientAuth.REQUIRED, p.path("ca.pem"));
             Listener l = Listener.listen("127.0.0.1", 0, new ListenOptions().withTls(tls))) {
            Peer good = new Peer("jdk-mtls-client", () -> {
                try (SSLSocket s = jdkTlsClient(l.localPort(), keyStore(p.path("client.p12")))) {
                    s.getOutputStream().write(utf8("from jdk"));
                    eq("hello jdk", str(readFully(s, 9)), "libsock's answer");
                }
            });
            try (TcpConnection c = l.accept(WAIT_MS)) {
                c.setTimeout(WAIT_MS);
                eq("from jdk", str(c.recvExact(8)), "the JDK's bytes");
                eq(Tls.fingerprint(p.text("client.pem")), c.tlsInfo().peerFingerprint(),
                        "the client's certificate");
                c.sendAll(utf8("hello jdk"));
            } // close_notify: the JDK's close waits for it
            good.join();
            AtomicReference<Throwable> jdkSaw = new AtomicReference<>();
            Peer bad = new Peer("jdk-no-cert", () -> {
                try (SSLSocket s = jdkTlsClient(l.localPort(), null)) {
                    s.startHandshake();
                    s.getOutputStream().write(utf8("x"));
                    s.getInputStream().read();
                } catch (IOException e) {
                    jdkSaw.set(e);
                }
            });
            TlsException e = expect(TlsException.class, () -> l.accept(WAIT_MS));
            check(e.getMessage().contains("no client certificate"), e.getMessage());
            bad.join();
            check(jdkSaw.get() != null, "the JDK client saw its refusal");
        }
    }

    /** S20: a libsock client with a certificate to a JDK SSLServerSocket and to openssl
     * s_server, both requiring one; without one, libsock says why. */
    static void s20TlsMutualLibsockClient() throws Exception {
        Pki p = pki();
        // The JDK server.
        SSLServerSocket ss = jdkTlsServer(true);
        AtomicReference<String> seen = new AtomicReference<>();
        Peer peer = new Peer("jdk-mtls-server", () -> {
            try (SSLServerSocket server = ss; SSLSocket s = (SSLSocket) server.accept()) {
                s.setSoTimeout(WAIT_MS);
                byte[] b = readFully(s, 4);
                seen.set(s.getSession().getPeerPrincipal().getName());
                s.getOutputStream().write(b);
            }
        });
        try (TlsClientConfig tls = TlsConfig.client().caFile(p.path("ca.pem"))
                        .certFiles(p.path("client.pem"), p.path("client.key"));
             TcpConnection c = TcpConnection.connect("127.0.0.1", ss.getLocalPort(), tlsOptions(tls))) {
            c.sendAll(utf8("mtls"));
            eq("mtls", str(c.recvExact(4)), "echo from the JDK");
        }
        peer.join();
        eq("CN=client", seen.get(), "the JDK saw the client certificate");
        // Without a certificate: TLS 1.3 clients finish first, so the refusal may arrive with
        // the first read; either way it is a TlsException, never a hang.
        SSLServerSocket ss2 = jdkTlsServer(true);
        Peer refused = jdkRefused(ss2);
        try (TlsClientConfig tls = TlsConfig.client().caFile(p.path("ca.pem"))) {
            expect(TlsException.class, () -> {
                try (TcpConnection c = TcpConnection.connect("127.0.0.1", ss2.getLocalPort(), tlsOptions(tls))) {
                    c.sendAll(utf8("x"));
                    c.recv(1);
                }
            });
        }
        refused.join();
        // openssl s_server requiring a client certificate.
        try (Proc srv = new Proc(null, "openssl", "s_server", "-accept", "0", "-cert",
                p.path("server.pem"), "-key", p.path("server.key"), "-Verify", "1",
                "-verify_return_error", "-CAfile", p.path("ca.pem"), "-rev", "-naccept", "1")) {
            String line = srv.line("ACCEPT", WAIT_MS);
            int port = Integer.parseInt(line.substring(line.lastIndexOf(':') + 1).trim());
            try (TlsClientConfig tls = TlsConfig.client().caFile(p.path("ca.pem"))
                            .certPem(p.text("client.pem"), p.text("client.key"));
                 TcpConnection c = TcpConnection.connect("127.0.0.1", port, tlsOptions(tls))) {
                c.sendAll(utf8("abc\n"));
                eq("cba\n", str(c.recvUntil(utf8("\n"), 100)), "s_server -rev over mTLS");
            }
        }
    }

    // ------------------------------------------------------------------ S21: wrong peers

    /** S21: a TLS client meets a plaintext server (TlsException) and a silent one (the
     * handshake timeout: TimeoutException, no hang). */
    static void s21TlsClientMeetsPlaintextAndSilentServers() throws Exception {
        try (ServerSocket plain = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"));
             TlsClientConfig tls = TlsConfig.client().dangerousNoVerify().handshakeTimeout(300)) {
            Peer ssh = new Peer("plaintext-server", () -> {
                try (Socket s = plain.accept()) {
                    s.setSoTimeout(WAIT_MS);
                    s.getOutputStream().write(utf8("SSH-2.0-OpenSSH_9.2\r\n"));
                    s.getInputStream().read(new byte[1000]);
                } catch (IOException e) {
                    // the client gave up: expected
                }
            });
            TlsException e = expect(TlsException.class,
                    () -> TcpConnection.connect("127.0.0.1", plain.getLocalPort(), tlsOptions(tls)));
            check(e.getMessage().contains("not TLS"), e.getMessage());
            ssh.join();
            // Silent: accepted by the OS backlog, nobody ever answers.
            TimeoutException t = expect(TimeoutException.class,
                    () -> TcpConnection.connect("127.0.0.1", plain.getLocalPort(), tlsOptions(tls)));
            check(t.getMessage().contains("TLS handshake"), t.getMessage());
            eq(ErrorKind.TIMEOUT, t.kind(), "kind");
        }
    }

    /** S21: a libsock TLS server meets a plaintext client (TlsException) and a silent one
     * (TimeoutException after its handshake timeout), then serves a real client. */
    static void s21TlsServerMeetsPlaintextAndSilentClients() throws Exception {
        Pki p = pki();
        try (TlsServerConfig st = TlsConfig.server().certFiles(p.path("server.pem"), p.path("server.key"))
                        .handshakeTimeout(300);
             TlsClientConfig ct = TlsConfig.client().caFile(p.path("ca.pem"));
             Listener l = Listener.listen("127.0.0.1", 0, new ListenOptions().withTls(st))) {
            try (Socket s = new Socket("127.0.0.1", l.localPort())) {
                s.getOutputStream().write(utf8("GET / HTTP/1.0\r\n\r\n"));
                TlsException e = expect(TlsException.class, () -> l.accept(WAIT_MS));
                check(e.getMessage().contains("not TLS"), e.getMessage());
            }
            try (Socket silent = new Socket("127.0.0.1", l.localPort())) {
                TimeoutException t = expect(TimeoutException.class, () -> l.accept(WAIT_MS));
                check(t.getMessage().contains("TLS handshake"), t.getMessage());
                check(silent.isConnected(), "the silent client is still there");
            }
            Peer good = new Peer("good-client", () -> {
                try (TcpConnection c = TcpConnection.connect("127.0.0.1", l.localPort(), tlsOptions(ct))) {
                    c.sendAll(utf8("still"));
                    eq("still", str(c.recvExact(5)), "echo after the bad clients");
                }
            });
            try (TcpConnection s = l.accept(WAIT_MS)) {
                s.setTimeout(WAIT_MS);
                s.sendAll(s.recvExact(5));
            }
            good.join();
        }
    }

    // ------------------------------------------------------------------ settings and misuse

    /** Bad settings throw from the setter given them, with the door's exceptions. */
    static void xTlsBadSettingsAreRefused() throws Exception {
        try (TlsClientConfig c = TlsConfig.client(); TlsServerConfig s = TlsConfig.server()) {
            expect(InvalidArgumentException.class, () -> c.pin("not-a-fingerprint"));
            expect(InvalidArgumentException.class, () -> c.pin("ab"));
            expect(InvalidArgumentException.class, () -> c.caPem("no certificate here"));
            IOException e = expect(IOException.class, () -> c.caFile("/nonexistent/ca.pem"));
            check(e instanceof LibsockError && !(e instanceof InvalidArgumentException),
                    "a missing file is an OS error: " + e);
            check(e.toString().contains("/nonexistent/ca.pem"), "names the file: " + e);
            expect(InvalidArgumentException.class, () -> c.handshakeTimeout(0));
            expect(InvalidArgumentException.class, () -> c.handshakeTimeout(-1));
            expect(InvalidArgumentException.class, () -> c.alpn(""));
            expect(InvalidArgumentException.class, () -> c.serverName(""));
            expect(NullPointerException.class, () -> c.alpn((String[]) null));
            expect(NullPointerException.class, () -> c.alpn("a", null));
            expect(NullPointerException.class, () -> c.minVersion(null));
            expect(NullPointerException.class, () -> c.pin(null));
            expect(InvalidArgumentException.class, () -> c.certPem("x", "y"));
            expect(InvalidArgumentException.class, () -> s.clientAuth(ClientAuth.REQUIRED, null));
            expect(InvalidArgumentException.class, () -> s.clientAuth(ClientAuth.OPTIONAL, "not pem"));
            expect(InvalidArgumentException.class, () -> s.sniCertPem("", "x", "y"));
            s.clientAuth(ClientAuth.NONE, null);
            // A server without a certificate cannot work: check() and listen say so.
            InvalidArgumentException none = expect(InvalidArgumentException.class, s::check);
            check(none.getMessage().contains("certificate"), none.getMessage());
            expect(InvalidArgumentException.class,
                    () -> Listener.listen("127.0.0.1:0", new ListenOptions().withTls(s)));
            // The settings that were refused left the configuration usable.
            c.check();
            expect(InvalidArgumentException.class, () -> Tls.selfSigned());
            expect(InvalidArgumentException.class, () -> Tls.fingerprint("garbage"));
            expect(InvalidArgumentException.class, () -> Tls.publicKeyFingerprint(new byte[] {1, 2}));
            expect(NullPointerException.class, () -> Tls.fingerprint((String) null));
            eq(64, Tls.fingerprint(new byte[] {1, 2, 3}).length(), "a DER digest is any bytes' SHA-256");
        }
    }

    /** A closed configuration is a BadHandleException wherever it is used; connections made
     * with it keep working. */
    static void xTlsClosedConfigAndPlainConnection() throws Exception {
        Tls.SelfSigned dev = Tls.selfSigned("127.0.0.1");
        TlsServerConfig st = TlsConfig.server().certPem(dev.certPem(), dev.keyPem());
        TlsClientConfig ct = TlsConfig.client().pin(dev.fingerprint());
        try (Listener l = Listener.listen("127.0.0.1:0", new ListenOptions().withTls(st))) {
            Peer server = new Peer("tls-server", () -> {
                try (TcpConnection s = l.accept(WAIT_MS)) {
                    s.setTimeout(WAIT_MS);
                    s.sendAll(s.recvExact(2));
                }
            });
            TcpConnection c = TcpConnection.connect("127.0.0.1", l.localPort(), tlsOptions(ct));
            st.close();
            ct.close();
            st.close(); // idempotent
            check(ct.isClosed(), "isClosed");
            c.sendAll(utf8("ok"));
            eq("ok", str(c.recvExact(2)), "a connection outlives its configuration");
            c.close();
            server.join();
            expect(BadHandleException.class, () -> ct.pin(dev.fingerprint()));
            expect(BadHandleException.class, ct::check);
            expect(BadHandleException.class,
                    () -> TcpConnection.connect("127.0.0.1", l.localPort(), tlsOptions(ct)));
            expect(BadHandleException.class, () -> c.tlsInfo());
            expect(BadHandleException.class, () -> c.isTls());
        }
        // A plain connection has no TLS details.
        try (Listener l = Listener.listen("127.0.0.1:0");
             TcpConnection c = TcpConnection.connect("127.0.0.1:" + l.localPort());
             TcpConnection s = l.accept(WAIT_MS)) {
            check(!c.isTls() && !s.isTls(), "plain");
            eq(null, c.tlsInfo(), "no TLS details");
        }
    }

    /** One configuration serves many connections; a setting changed after it was used
     * applies to the next connection. */
    static void xTlsConfigIsSharedAndChangesApplyToNewConnections() throws Exception {
        Tls.SelfSigned dev = Tls.selfSigned("127.0.0.1");
        Tls.SelfSigned other = Tls.selfSigned("127.0.0.1");
        try (TlsServerConfig st = TlsConfig.server().certPem(dev.certPem(), dev.keyPem());
             TlsClientConfig ct = TlsConfig.client().pin(dev.fingerprint());
             Listener l = Listener.listen("127.0.0.1:0", new ListenOptions().withTls(st))) {
            Peer server = new Peer("tls-server", () -> {
                for (int i = 0; i < 4; i++) {
                    try (TcpConnection s = l.accept(WAIT_MS)) {
                        s.setTimeout(WAIT_MS);
                        s.sendAll(s.recvExact(1));
                    } catch (TlsException refused) {
                        // the last client pins another certificate
                    }
                }
            });
            List<TcpConnection> open = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                TcpConnection c = TcpConnection.connect("127.0.0.1", l.localPort(), tlsOptions(ct));
                c.sendAll(new byte[] {(byte) i});
                eq(i, (int) c.recvExact(1)[0], "connection " + i);
                open.add(c);
            }
            // Another trust setting replaces the pin: the next connection is refused.
            ct.caPem(other.certPem());
            expect(TlsException.class,
                    () -> TcpConnection.connect("127.0.0.1", l.localPort(), tlsOptions(ct)));
            for (TcpConnection c : open) {
                check(c.isTls(), "earlier connections keep their settings");
                c.close();
            }
            server.join();
        }
    }

    /** A JDK TLS client whose TCP connection is closed under it (no close_notify): the data
     * may be truncated, so libsock reports a TlsException, not an orderly end; the engine ends
     * such a client with reason TLS. */
    static void xTlsTruncationIsNotAnOrderlyEnd() throws Exception {
        Pki p = pki();
        SSLContext ctx = jdkContext(null, trustStore(p.path("ca.pem")));
        try (TlsServerConfig st = TlsConfig.server().certFiles(p.path("server.pem"), p.path("server.key"));
             Listener l = Listener.listen("127.0.0.1:0", new ListenOptions().withTls(st));
             Server server = Server.listen("127.0.0.1:0", new ServerOptions().withTls(st))) {
            // The blocking layer: accept shakes hands, so it runs while the JDK client does.
            AtomicReference<TcpConnection> accepted = new AtomicReference<>();
            Peer acceptor = new Peer("acceptor", () -> accepted.set(l.accept(WAIT_MS)));
            Socket raw = new Socket("127.0.0.1", l.localPort());
            SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket(raw, "127.0.0.1", l.localPort(), false);
            s.setSoTimeout(WAIT_MS);
            s.startHandshake();
            acceptor.join();
            try (TcpConnection c = accepted.get()) {
                s.getOutputStream().write(utf8("part"));
                s.getOutputStream().flush();
                eq("part", str(c.recvExact(4, WAIT_MS)), "the bytes before the cut");
                raw.close(); // the TCP connection ends, no close_notify was sent
                TlsException e = expect(TlsException.class, () -> c.recv(10, WAIT_MS));
                check(e.getMessage().contains("without close_notify"), e.getMessage());
            }
            // The engine: the client ends with reason TLS.
            Socket raw2 = new Socket("127.0.0.1", server.localPort());
            SSLSocket s2 = (SSLSocket) ctx.getSocketFactory().createSocket(raw2, "127.0.0.1",
                    server.localPort(), false);
            s2.setSoTimeout(WAIT_MS);
            s2.startHandshake();
            java.io.DataOutputStream out = new java.io.DataOutputStream(s2.getOutputStream());
            EngineTest.writeFrame(out, utf8("part"));
            out.flush();
            List<Event> seen = new ArrayList<>();
            EngineTest.waitFor(server, EventKind.MESSAGE, seen);
            raw2.close();
            Event d = EngineTest.waitFor(server, EventKind.DISCONNECTED, seen);
            eq(DisconnectReason.TLS, d.reason(), "reason: " + d.reasonText());
            check(d.reasonText().contains("close_notify"), d.reasonText());
        }
    }

    /** close() from another thread wakes a call blocked in a TLS read. */
    static void xTlsCloseWakesBlockedRecv() throws Exception {
        Tls.SelfSigned dev = Tls.selfSigned("127.0.0.1");
        try (TlsServerConfig st = TlsConfig.server().certPem(dev.certPem(), dev.keyPem());
             TlsClientConfig ct = TlsConfig.client().pin(dev.fingerprint());
             Listener l = Listener.listen("127.0.0.1:0", new ListenOptions().withTls(st))) {
            CountDownLatch woken = new CountDownLatch(1);
            Peer server = new Peer("tls-server", () -> {
                // Holds the connection open and silent until the client's reader woke (an answer
                // to the client's close_notify could otherwise reach the reader first, as an
                // orderly end of stream).
                try (TcpConnection s = l.accept(WAIT_MS)) {
                    check(s.isTls(), "TLS");
                    check(woken.await(WAIT_MS, TimeUnit.MILLISECONDS), "the reader woke");
                }
            });
            TcpConnection c = TcpConnection.connect("127.0.0.1", l.localPort(), tlsOptions(ct));
            AtomicReference<Throwable> woke = new AtomicReference<>();
            Peer reader = new Peer("blocked-reader", () -> {
                try {
                    c.recv(10);
                } catch (IOException e) {
                    woke.set(e);
                }
            });
            Thread.sleep(200); // let it block (the test holds without it too)
            c.close();
            reader.join();
            woken.countDown();
            check(woke.get() instanceof ClosedException, "ClosedException, got " + woke.get());
            server.join();
        }
    }

    // ------------------------------------------------------------------ the engine over TLS

    /** Pulls until {@code n} MESSAGE events arrived (a batch may hold several); their data. */
    static List<byte[]> messages(EngineObject o, int n) throws IOException {
        List<byte[]> got = new ArrayList<>();
        long deadline = System.currentTimeMillis() + WAIT_MS;
        while (got.size() < n && System.currentTimeMillis() < deadline) {
            for (Event e : o.events(64, 200)) {
                if (e.kind() == EventKind.MESSAGE) {
                    got.add(e.data());
                }
            }
        }
        eq(n, got.size(), "messages within " + WAIT_MS + " ms");
        return got;
    }

    /** S18 on the engine: a TLS Server (CA-signed certificate) echoes framed messages to an
     * engine Client trusting the CA and to a JDK SSLSocket speaking the length prefix by hand;
     * the engine Client also talks to a JDK SSLServerSocket. */
    static void s18TlsEngineServerAndClient() throws Exception {
        Pki p = pki();
        byte[] big = random(1 << 20);
        try (TlsServerConfig st = TlsConfig.server().certFiles(p.path("server.pem"), p.path("server.key"));
             TlsClientConfig ct = TlsConfig.client().caFile(p.path("ca.pem"));
             Server server = Server.listen("127.0.0.1:0", new ServerOptions().withTls(st))) {
            EngineTest.EchoLoop loop = new EngineTest.EchoLoop(server);
            try (Client c = Client.connect("127.0.0.1:" + server.localPort(),
                    new ClientOptions().withTls(ct).withoutReconnect())) {
                EngineTest.waitFor(c, EventKind.CONNECTED);
                c.send(utf8("hello engine"));
                c.send(big);
                List<byte[]> got = messages(c, 2);
                eq("hello engine", str(got.get(0)), "first echo");
                check(Arrays.equals(big, got.get(1)), "1 MiB message byte-exact through the engine's TLS");
                eq(0L, c.stats().tlsFailures, "no TLS failure");
            }
            try (SSLSocket s = jdkTlsClient(server.localPort(), null)) {
                java.io.DataOutputStream out = new java.io.DataOutputStream(s.getOutputStream());
                EngineTest.writeFrame(out, utf8("from jdk"));
                out.flush();
                eq("from jdk", str(EngineTest.readFrame(new DataInputStream(s.getInputStream()))),
                        "the engine echoed the JDK's frame");
            }
            loop.stop();
            eq(0L, server.stats().tlsFailures, "no TLS failure on the server");
        }
        // The engine Client to a JDK TLS server.
        SSLServerSocket ss = jdkTlsServer(false);
        Peer peer = new Peer("jdk-tls-frames", () -> {
            try (SSLServerSocket srv = ss; Socket s = srv.accept()) {
                s.setSoTimeout(WAIT_MS);
                DataInputStream in = new DataInputStream(s.getInputStream());
                java.io.DataOutputStream out = new java.io.DataOutputStream(s.getOutputStream());
                EngineTest.writeFrame(out, EngineTest.readFrame(in));
                out.flush();
                check(in.read() == -1, "the engine client closed in order");
            }
        });
        try (TlsClientConfig ct = TlsConfig.client().caFile(p.path("ca.pem"));
             Client c = Client.connect("127.0.0.1:" + ss.getLocalPort(),
                     new ClientOptions().withTls(ct).withoutReconnect())) {
            EngineTest.waitFor(c, EventKind.CONNECTED);
            c.send(utf8("to jdk"));
            eq("to jdk", EngineTest.waitFor(c, EventKind.MESSAGE).text(), "the JDK's echo");
            c.close(2000); // graceful: close_notify, then FIN
        }
        peer.join();
    }

    /** S19 on the engine: a Client pinning the wrong certificate ends with reason TLS. */
    static void s19TlsEngineClientPinMismatch() throws Exception {
        Tls.SelfSigned dev = Tls.selfSigned("127.0.0.1");
        Tls.SelfSigned other = Tls.selfSigned("127.0.0.1");
        try (TlsServerConfig st = TlsConfig.server().certPem(dev.certPem(), dev.keyPem());
             TlsClientConfig wrong = TlsConfig.client().pin(other.fingerprint());
             TlsClientConfig right = TlsConfig.client().pin(dev.fingerprint());
             Server server = Server.listen("127.0.0.1:0", new ServerOptions().withTls(st))) {
            String ep = "127.0.0.1:" + server.localPort();
            try (Client c = Client.connect(ep, new ClientOptions().withTls(wrong).withoutReconnect())) {
                Event d = EngineTest.waitFor(c, EventKind.DISCONNECTED);
                eq(DisconnectReason.TLS, d.reason(), "reason");
                eq(11, d.reason().code(), "code");
                eq(ErrorKind.TLS, d.errorKind(), "error kind");
                check(d.reasonText().contains("pin mismatch"), d.reasonText());
                eq(1L, c.stats().tlsFailures, "client's TLS failures");
            }
            Event w = EngineTest.waitFor(server, EventKind.WARNING);
            eq(ErrorKind.TLS, w.errorKind(), "the server saw the refusal as a warning");
            try (Client c = Client.connect(ep, new ClientOptions().withTls(right).withoutReconnect())) {
                EngineTest.waitFor(c, EventKind.CONNECTED);
                Event conn = EngineTest.waitFor(server, EventKind.CONNECTED);
                check(conn.client() > 0, "a client id");
            }
            eq(1L, server.stats().tlsFailures, "server's TLS failures");
        }
    }

    /** S20 on the engine: a Server requiring client certificates serves a JDK client with one
     * and reports one without as a TLS warning. */
    static void s20TlsEngineMutual() throws Exception {
        Pki p = pki();
        try (TlsServerConfig st = TlsConfig.server().certFiles(p.path("server.pem"), p.path("server.key"))
                        .clientAuthFile(ClientAuth.REQUIRED, p.path("ca.pem"));
             Server server = Server.listen("127.0.0.1:0", new ServerOptions().withTls(st))) {
            EngineTest.EchoLoop loop = new EngineTest.EchoLoop(server);
            try (SSLSocket s = jdkTlsClient(server.localPort(), keyStore(p.path("client.p12")))) {
                java.io.DataOutputStream out = new java.io.DataOutputStream(s.getOutputStream());
                EngineTest.writeFrame(out, utf8("mutual"));
                out.flush();
                eq("mutual", str(EngineTest.readFrame(new DataInputStream(s.getInputStream()))), "echo");
            }
            loop.stop();
            try (SSLSocket s = jdkTlsClient(server.localPort(), null)) {
                try {
                    s.startHandshake();
                    s.getOutputStream().write(new byte[] {0, 0, 0, 1, 'x'});
                    s.getInputStream().read();
                } catch (IOException expected) {
                    // refused: what the server's warning below says
                }
            }
            Event w = EngineTest.waitFor(server, EventKind.WARNING);
            eq(ErrorKind.TLS, w.errorKind(), "kind");
            check(w.reasonText().contains("no client certificate"), w.reasonText());
            eq(1L, server.stats().tlsFailures, "TLS failures");
        }
    }

    /** S21 on the engine: plaintext and silent clients are TLS warnings (the handshake timeout
     * ends the silent one), counted, and the server goes on serving. */
    static void s21TlsEngineServerMeetsPlaintextAndSilentClients() throws Exception {
        Tls.SelfSigned dev = Tls.selfSigned("127.0.0.1");
        try (TlsServerConfig st = TlsConfig.server().certPem(dev.certPem(), dev.keyPem())
                        .handshakeTimeout(300);
             TlsClientConfig ct = TlsConfig.client().pin(dev.fingerprint());
             Server server = Server.listen("127.0.0.1:0", new ServerOptions().withTls(st))) {
            try (Socket plain = new Socket("127.0.0.1", server.localPort())) {
                plain.getOutputStream().write(utf8("GET / HTTP/1.0\r\n\r\n"));
                Event w = EngineTest.waitFor(server, EventKind.WARNING);
                eq(ErrorKind.TLS, w.errorKind(), "kind");
                check(w.reasonText().contains("not TLS"), w.reasonText());
                plain.setSoTimeout(WAIT_MS);
                InputStream in = plain.getInputStream();
                byte[] sink = new byte[4096];
                while (in.read(sink) >= 0) {
                    // the server's alert, then its end: no hang
                }
            } catch (IOException reset) {
                // a reset instead of an orderly end is fine too
            }
            try (Socket silent = new Socket("127.0.0.1", server.localPort())) {
                Event w = EngineTest.waitFor(server, EventKind.WARNING);
                eq(ErrorKind.TLS, w.errorKind(), "kind");
                check(w.reasonText().contains("handshake"), w.reasonText());
                check(silent.isConnected(), "the silent client was connected");
            }
            eq(2L, server.stats().tlsFailures, "TLS failures");
            eq(0L, server.stats().connectionsTotal, "nobody got in");
            EngineTest.EchoLoop loop = new EngineTest.EchoLoop(server);
            try (Client c = Client.connect("127.0.0.1:" + server.localPort(),
                    new ClientOptions().withTls(ct).withoutReconnect())) {
                EngineTest.waitFor(c, EventKind.CONNECTED);
                c.send(utf8("still here"));
                eq("still here", EngineTest.waitFor(c, EventKind.MESSAGE).text(), "served after them");
            }
            loop.stop();
        }
    }

    /** S15 over TLS: the server restarts, the client reconnects and shakes hands again;
     * messages queued meanwhile arrive once, in order, through the new TLS session. */
    static void s19TlsEngineReconnectShakesHandsAgain() throws Exception {
        Tls.SelfSigned dev = Tls.selfSigned("127.0.0.1");
        try (TlsServerConfig st = TlsConfig.server().certPem(dev.certPem(), dev.keyPem());
             TlsClientConfig ct = TlsConfig.client().pin(dev.fingerprint())) {
            ServerOptions so = new ServerOptions().withOption(SockOpt.REUSE_ADDRESS, 1).withTls(st);
            Server first = Server.listen("127.0.0.1:0", so);
            String ep = "127.0.0.1:" + first.localPort();
            try (Client client = Client.connect(ep, new ClientOptions().withTls(ct).withReconnect(50, 300))) {
                eq(1L, EngineTest.waitFor(client, EventKind.CONNECTED).client(), "first connection");
                client.send(utf8("before"));
                eq("before", str(messages(first, 1).get(0)), "before the restart");
                first.shutdown(0);
                first.close();
                EngineTest.waitFor(client, EventKind.DISCONNECTED);
                client.send(utf8("queued 1"));
                client.send(utf8("queued 2"));
                Server second = null;
                long deadline = System.currentTimeMillis() + WAIT_MS;
                while (second == null) {
                    try {
                        second = Server.listen(ep, so);
                    } catch (AddressException e) {
                        check(System.currentTimeMillis() < deadline, "the port came back: " + e);
                        Thread.sleep(50);
                    }
                }
                try (Server s2 = second) {
                    check(EngineTest.waitFor(client, EventKind.CONNECTED).client() >= 2, "a new connection");
                    List<byte[]> got = messages(s2, 2);
                    eq("queued 1", str(got.get(0)), "first queued message");
                    eq("queued 2", str(got.get(1)), "second queued message");
                    eq(0L, s2.stats().tlsFailures, "the new handshake succeeded");
                    eq(0L, client.stats().tlsFailures, "no TLS failure on the client");
                }
            }
        }
    }

    /** An engine object given the other side's configuration, or a closed one, is refused. */
    static void xTlsEngineMisuse() throws Exception {
        TlsServerConfig st = TlsConfig.server();
        expect(InvalidArgumentException.class,
                () -> Server.listen("127.0.0.1:0", new ServerOptions().withTls(st))); // no certificate
        st.close();
        expect(BadHandleException.class,
                () -> Server.listen("127.0.0.1:0", new ServerOptions().withTls(st)));
        TlsClientConfig ct = TlsConfig.client();
        ct.close();
        expect(BadHandleException.class,
                () -> Client.connect("127.0.0.1:9", new ClientOptions().withTls(ct)));
    }
}
