package io.libsock;

import static io.libsock.LibsockTest.check;
import static io.libsock.LibsockTest.eq;
import static io.libsock.LibsockTest.expect;
import static io.libsock.LibsockTest.utf8;

import java.io.File;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * What issue 16 brought to the Java door, against real peers: S22 (file transfer of 50 MB with
 * a break in the middle, then resume), S23 without loss (KCP against the reference
 * implementation; with loss it runs in a network namespace from .ci/suites/50-java.sh, see
 * {@link KcpCheck}), S24 (SOCKS5 through dante's danted), descriptor passing between two
 * processes, the multicast sending interface, per-client statistics, batch sends and the
 * notify descriptor. Run from {@link LibsockTest#main}.
 */
final class Issue16Test {
    private Issue16Test() {}

    static Path tempDir(String prefix) throws IOException {
        return Files.createTempDirectory(prefix);
    }

    static void removeTree(Path p) {
        try (Stream<Path> s = Files.walk(p)) {
            s.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException e) {
            // best effort
        }
    }

    /** The next event of {@code kind}, one pull at a time (others are skipped), within 30 s. */
    static Event next(EngineObject o, EventKind kind) throws IOException {
        long deadline = System.currentTimeMillis() + 30_000;
        while (System.currentTimeMillis() < deadline) {
            Event e = o.nextEvent(200);
            if (e != null && e.kind() == kind) {
                return e;
            }
        }
        throw new AssertionError("no " + kind + " event within 30 s");
    }

    static byte[] readAll(InputStream in) throws IOException {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        byte[] buf = new byte[4096];
        for (int n; (n = in.read(buf)) > 0; ) {
            out.write(buf, 0, n);
        }
        return out.toByteArray();
    }

    static String sha256(Path f) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        try (InputStream in = Files.newInputStream(f)) {
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
        }
        StringBuilder sb = new StringBuilder();
        for (byte b : md.digest()) {
            sb.append(String.format("%02x", b));
        }
        return sb.toString();
    }

    // ------------------------------------------------------------------ S22

    /**
     * S22: 50 MB from a Java sender to a Java receiver (both core's protocol); the receiver cuts
     * the connection after about 20 MB; no file has the final name then, only the partial one;
     * a second transfer with resume sends the rest; SHA-256 equal.
     */
    @SuppressWarnings("try")
    static void s22FileTransferWithBreakAndResume() throws Exception {
        Path dir = tempDir("ls-java-s22-");
        try {
            Path src = dir.resolve("source.bin");
            Random r = new Random(22);
            byte[] chunk = new byte[1 << 20];
            try (OutputStream out = Files.newOutputStream(src)) {
                for (int i = 0; i < 50; i++) {
                    r.nextBytes(chunk);
                    out.write(chunk);
                }
            }
            String want = sha256(src);
            Path inDir = Files.createDirectory(dir.resolve("in"));
            Path dest = inDir.resolve("copy.bin");
            Path part = inDir.resolve("copy.bin.libsock-part");
            try (Listener l = Listener.listen("127.0.0.1:0")) {
                String ep = "127.0.0.1:" + l.localPort();
                // 1. Broken after about 20 MB.
                LibsockTest.Peer sender = new LibsockTest.Peer("s22-sender-1", () -> {
                    try (TcpConnection c = TcpConnection.connect(ep,
                            new ConnectOptions().withTimeout(30_000));
                         FileTransfer t = FileTransfer.sender(src.toString())) {
                        expect(IOException.class, () -> t.run(c));
                        eq(TransferState.FAILED, t.progress().state(), "the sender's state");
                        check(t.error() != null, "the sender tells its error");
                    }
                });
                try (TcpConnection c = l.accept(30_000);
                     FileTransfer t = FileTransfer.receiver(dest.toString())) {
                    c.setTimeout(30_000);
                    while (t.progress().done() < 20L << 20) {
                        TransferState s = t.step(c);
                        check(s == TransferState.STARTING || s == TransferState.TRANSFERRING,
                                "still transferring: " + s);
                        TransferProgress p = t.progress();
                        if (p.state() == TransferState.TRANSFERRING) {
                            eq(50L << 20, p.total(), "total");
                        }
                        check(!Files.exists(dest), "no file under the final name while receiving");
                    }
                    c.close();   // the break
                    check(Files.exists(part), "the partial file is kept");
                }
                sender.join();
                check(!Files.exists(dest), "no file under the final name after the break");
                long kept = Files.size(part);
                check(kept >= 20L << 20 && kept < 50L << 20, "partial size " + kept);
                // 2. Resumed.
                LibsockTest.Peer sender2 = new LibsockTest.Peer("s22-sender-2", () -> {
                    try (TcpConnection c = TcpConnection.connect(ep,
                            new ConnectOptions().withTimeout(30_000));
                         FileTransfer t = FileTransfer.sender(src.toString(),
                                 new TransferOptions().withName("ignored-by-a-file-dest.bin"))) {
                        TransferInfo info = t.run(c);
                        eq(want, info.sha256(), "the sender's SHA-256");
                        eq(2, info.version(), "protocol version");
                    }
                });
                TransferInfo info;
                try (TcpConnection c = l.accept(30_000);
                     FileTransfer t = FileTransfer.receiver(dest.toString(),
                             new TransferOptions().withResume(true))) {
                    c.setTimeout(30_000);
                    info = t.run(c);
                    eq(TransferState.DONE, t.step(c), "a step after the end does nothing");
                    TransferProgress p = t.progress();
                    eq(50L << 20, p.done(), "done");
                    eq(TransferState.DONE, p.state(), "state");
                }
                sender2.join();
                check(info.resumedAt() > 0 && info.resumedAt() <= kept,
                        "resumed at " + info.resumedAt() + " of " + kept);
                eq(info.resumedAt(), info.offered(), "the offer was taken");
                eq(50L << 20, info.size(), "size");
                eq(want, info.sha256(), "the receiver's SHA-256");
                eq(dest.toString(), info.path(), "the final path");
                eq(want, sha256(dest), "the file's SHA-256");
                check(!Files.exists(part), "the partial file is gone");
            }
        } finally {
            removeTree(dir);
        }
    }

    /** File transfer errors: an existing file (EEXIST), a missing one, cancel, a closed handle. */
    @SuppressWarnings("try")
    static void xFileTransferErrors() throws Exception {
        Path dir = tempDir("ls-java-xfer-");
        try {
            Path f = dir.resolve("exists.bin");
            Files.write(f, utf8("here"));
            IoException e = expect(IoException.class, () -> FileTransfer.receiver(f.toString()));
            eq(17, e.osError(), "EEXIST");
            check(e.getMessage().contains("exists"), e.getMessage());
            FileTransfer.receiver(f.toString(), new TransferOptions().withOverwrite(true)).close();
            IoException missing = expect(IoException.class,
                    () -> FileTransfer.sender(dir.resolve("none").toString()));
            eq(2, missing.osError(), "ENOENT");
            expect(InvalidArgumentException.class, () -> FileTransfer.sender(dir.toString()));
            // A cancelled transfer fails its next step with INTERRUPTED; the peer sees an error.
            try (Listener l = Listener.listen("127.0.0.1:0")) {
                LibsockTest.Peer peer = new LibsockTest.Peer("xfer-peer", () -> {
                    try (TcpConnection c = TcpConnection.connect("127.0.0.1:" + l.localPort(),
                            new ConnectOptions().withTimeout(10_000));
                         FileTransfer t = FileTransfer.receiver(dir.resolve("out.bin").toString())) {
                        expect(IOException.class, () -> t.run(c));
                    }
                });
                try (TcpConnection c = l.accept(10_000);
                     FileTransfer t = FileTransfer.sender(f.toString())) {
                    t.cancel();
                    expect(LibsockInterruptedException.class, () -> t.step(c));
                    expect(InvalidArgumentException.class, () -> t.step(c));
                    check(t.error().contains("cancel"), t.error());
                    t.close();
                    t.close();
                    expect(BadHandleException.class, t::progress);
                }
                peer.join();
            }
        } finally {
            removeTree(dir);
        }
    }

    /**
     * {@code cancel()} from another thread: the receiver stops reading after the first piece,
     * the sender (running in its own thread, blocked on a full socket) is cancelled from this
     * one; its run ends with LibsockInterruptedException, the receiver's with an error, and the
     * partial file stays for a resume.
     */
    static void xFileTransferCancelFromAnotherThread() throws Exception {
        Path dir = tempDir("ls-java-cancel-");
        try {
            Path src = dir.resolve("big.bin");
            Files.write(src, LibsockTest.random(new Random(7), 24 << 20));
            Path dest = dir.resolve("out.bin");
            try (Listener l = Listener.listen("127.0.0.1:0");
                 FileTransfer sender = FileTransfer.sender(src.toString())) {
                java.util.concurrent.atomic.AtomicReference<Throwable> ended =
                        new java.util.concurrent.atomic.AtomicReference<>();
                LibsockTest.Peer peer = new LibsockTest.Peer("cancelled-sender", () -> {
                    try (TcpConnection c = TcpConnection.connect("127.0.0.1:" + l.localPort(),
                            new ConnectOptions().withTimeout(30_000))) {
                        ended.set(expect(IOException.class, () -> sender.run(c)));
                    }
                });
                try (TcpConnection c = l.accept(30_000);
                     FileTransfer receiver = FileTransfer.receiver(dest.toString())) {
                    c.setTimeout(30_000);
                    while (receiver.step(c) != TransferState.TRANSFERRING || receiver.progress().done() == 0) {
                        check(receiver.progress().state() != TransferState.DONE, "not done yet");
                    }
                    sender.cancel();   // from this thread, while the sender's run is under way
                    expect(IOException.class, () -> {
                        while (receiver.step(c) != TransferState.DONE) {
                            // read until the cancelled sender goes away
                        }
                    });
                }
                peer.join();
                check(ended.get() instanceof LibsockInterruptedException,
                        "the sender's run ended by cancel: " + ended.get());
                eq(TransferState.FAILED, sender.progress().state(), "the sender's state");
                check(!Files.exists(dest), "no file under the final name");
                check(Files.exists(dir.resolve("out.bin.libsock-part")), "the partial file stays");
            }
        } finally {
            removeTree(dir);
        }
    }

    /** The Python side of {@link #xFileTransferWithPython}: argv = port, role, path. */
    static final String PY_TRANSFER = String.join("\n",
            "import sys, libsock",
            "port, role, path = int(sys.argv[1]), sys.argv[2], sys.argv[3]",
            "with libsock.connect(('127.0.0.1', port), timeout=30) as c:",
            "    t = libsock.FileTransfer.sender(path) if role == 'send' else libsock.FileTransfer.receiver(path)",
            "    info = t.run(c)",
            "    print(info['sha256'], info['size'], flush=True)");

    /**
     * File transfer between doors: a Java sender to a Python receiver and a Python sender to a
     * Java receiver (the installed libsock package: CI's 30-python suite installs it before this
     * one), 5 MB each way, SHA-256 equal on both sides.
     */
    static void xFileTransferWithPython() throws Exception {
        Path dir = tempDir("ls-java-xfer-py-");
        try {
            Path src = dir.resolve("from-java.bin");
            Files.write(src, LibsockTest.random(new Random(16), 5 << 20));
            String want = sha256(src);
            try (Listener l = Listener.listen("127.0.0.1:0")) {
                for (String role : new String[] {"recv", "send"}) {
                    Path pyPath = role.equals("recv") ? dir.resolve("got-by-python.bin") : src;
                    Process py = new ProcessBuilder("python3", "-c", PY_TRANSFER,
                            Integer.toString(l.localPort()), role, pyPath.toString())
                            .redirectErrorStream(true).start();
                    TransferInfo info;
                    try (TcpConnection c = l.accept(30_000)) {
                        c.setTimeout(30_000);
                        try (FileTransfer t = role.equals("recv") ? FileTransfer.sender(src.toString())
                                : FileTransfer.receiver(dir.resolve("got-by-java.bin").toString())) {
                            info = t.run(c);
                        }
                    } finally {
                        if (!py.waitFor(60, TimeUnit.SECONDS)) {
                            py.destroyForcibly();
                        }
                    }
                    String out = new String(readAll(py.getInputStream()), StandardCharsets.UTF_8).trim();
                    eq(0, py.exitValue(), "the Python side (" + role + "): " + out);
                    eq(want + " " + (5 << 20), out, "what Python verified");
                    eq(want, info.sha256(), "what Java verified");
                }
            }
            eq(want, sha256(dir.resolve("got-by-python.bin")), "the file Python wrote");
            eq(want, sha256(dir.resolve("got-by-java.bin")), "the file Java wrote");
        } finally {
            removeTree(dir);
        }
    }

    // ------------------------------------------------------------------ S23

    /** S23 without loss: KCP both ways against the reference implementation (PyPI kcp). */
    static void s23KcpAgainstTheReference() throws Exception {
        System.out.println("  " + KcpCheck.run(1000, 0));
    }

    /** KcpServer and KcpSession, libsock on both ends: events, clients, stats, errors. */
    @SuppressWarnings("try")
    static void xKcpServerAndSession() throws Exception {
        expect(InvalidArgumentException.class, () -> new KcpOptions().withNodelay(3));
        expect(InvalidArgumentException.class, () -> new KcpOptions().withInterval(5));
        expect(InvalidArgumentException.class, () -> new KcpOptions().withMtu(10));
        expect(InvalidArgumentException.class, () -> new KcpOptions().withRecvWindow(16));
        expect(InvalidArgumentException.class,
                () -> KcpServer.bind("127.0.0.1:0", new KcpServerOptions().withEventCapacity(0)));
        KcpOptions tuned = new KcpOptions().withNodelay(1).withInterval(20).withResend(2)
                .withNc(true).withSendWindow(64).withRecvWindow(256).withMtu(1200)
                .withMinRto(20).withStream(false).withDeadLink(30);
        try (KcpServer server = KcpServer.bind("127.0.0.1:0",
                new KcpServerOptions().withKcp(tuned).withIdleTimeout(30_000));
             KcpSession s = KcpSession.connect("127.0.0.1:" + server.localPort(), tuned, 77)) {
            check(server.notifyFd() >= 0, "notify fd");
            s.setTimeout(10_000);
            s.send(utf8("hello kcp"));
            Event connected = server.nextEvent(10_000);
            eq(EventKind.CONNECTED, connected.kind(), "first event");
            long id = connected.client();
            eq(s.localAddress(), connected.peer(), "peer");
            Event m = server.nextEvent(10_000);
            eq(EventKind.MESSAGE, m.kind(), "message");
            eq("hello kcp", m.text(), "data");
            eq(77L, server.conv(id), "conv");
            check(Arrays.equals(new long[] {id}, server.clients()), "clients");
            eq(s.localAddress(), server.clientAddress(id), "client address");
            server.send(id, utf8("back"));
            eq("back", new String(s.recv(), StandardCharsets.UTF_8), "reply");
            expect(InvalidArgumentException.class, () -> server.send(id, new byte[0]));
            expect(FrameTooLargeException.class, () -> s.send(new byte[200 * 1200]));
            expect(ClosedException.class, () -> server.send(id + 100, utf8("x")));
            s.flush();
            Stats st = server.stats();
            eq(1L, st.connections, "sessions");
            eq(1L, st.messagesIn, "messages in");
            eq(1L, st.messagesOut, "messages out");
            KcpStats ks = server.kcpStats();
            check(ks.datagramsIn > 0 && ks.datagramsOut > 0, "datagrams " + ks);
            KcpStats ss = s.stats();
            eq(1L, ss.messagesOut, "session out");
            eq(1L, ss.messagesIn, "session in");
            server.disconnect(id, false);
            Event d = server.nextEvent(10_000);
            eq(EventKind.DISCONNECTED, d.kind(), "kicked");
            eq(DisconnectReason.KICKED, d.reason(), "reason");
            expect(TimeoutException.class, () -> s.recv(100));
            s.close();
            expect(BadHandleException.class, () -> s.recv(0));
            server.shutdown(0);
            Event last = server.nextEvent(10_000);
            eq(EventKind.CLOSED, last.kind(), "closed");
        }
        expect(UnsupportedException.class, () -> KcpSession.connect("unix:/tmp/x.sock"));
    }

    // ------------------------------------------------------------------ S24

    /** A running danted: SOCKS5, no authentication, a rule refusing 127.0.0.1:{@code denied}. */
    static final class Dante implements AutoCloseable {
        final Process proc;
        final int port;
        final Path dir;

        Dante(int denied) throws Exception {
            String exe = new File("/usr/sbin/danted").exists() ? "/usr/sbin/danted" : "danted";
            dir = tempDir("ls-java-danted-");
            port = closedPort();
            boolean root = "root".equals(System.getProperty("user.name"));
            Path conf = dir.resolve("danted.conf");
            Files.write(conf, utf8("logoutput: stderr\n"
                    + "internal: 127.0.0.1 port = " + port + "\n"
                    + "external: 127.0.0.1\n"
                    + "clientmethod: none\nsocksmethod: none\n"
                    + (root ? "user.privileged: root\nuser.unprivileged: nobody\n" : "")
                    + "client pass { from: 127.0.0.0/8 to: 0.0.0.0/0 }\n"
                    + "socks block { from: 0.0.0.0/0 to: 127.0.0.1/32 port = " + denied
                    + " log: error }\n"
                    + "socks pass { from: 0.0.0.0/0 to: 0.0.0.0/0 }\n"));
            proc = new ProcessBuilder(exe, "-f", conf.toString(), "-N", "1", "-p",
                    dir.resolve("danted.pid").toString())
                    .redirectErrorStream(true)
                    .redirectOutput(dir.resolve("log").toFile())
                    .start();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (true) {
                if (!proc.isAlive()) {
                    throw new AssertionError("danted exited at start: " + log());
                }
                try (Socket s = new Socket()) {
                    s.connect(new InetSocketAddress("127.0.0.1", port), 1000);
                    break;
                } catch (IOException e) {
                    if (System.nanoTime() > deadline) {
                        close();
                        throw new AssertionError("danted did not listen on " + port + ": " + log());
                    }
                    Thread.sleep(20);
                }
            }
        }

        String url() {
            return "socks5://127.0.0.1:" + port;
        }

        String log() {
            try {
                return new String(Files.readAllBytes(dir.resolve("log")), StandardCharsets.UTF_8);
            } catch (IOException e) {
                return "";
            }
        }

        @Override
        public void close() {
            proc.destroyForcibly();
            try {
                proc.waitFor(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            removeTree(dir);
        }
    }

    /** A loopback port nobody listens on (bound, then closed). */
    static int closedPort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            return s.getLocalPort();
        }
    }

    /**
     * S24: through danted to a JDK echo server named by a host name the proxy resolves, 1 KiB
     * echoed; a target refused by the proxy's rule and one where nobody listens are each
     * ConnectionRefusedException naming the target, the proxy and its reply. Then the engine's
     * client through the proxy.
     */
    static void s24Socks5ThroughDanted() throws Exception {
        int denied = closedPort();
        try (Dante px = new Dante(denied)) {
            byte[] payload = LibsockTest.random(new Random(24), 1024);
            ServerSocket ss = LibsockTest.jdkServer();
            int port = ss.getLocalPort();
            LibsockTest.Peer peer = LibsockTest.jdkPeer(ss, s -> {
                byte[] b = new byte[1024];
                new java.io.DataInputStream(s.getInputStream()).readFully(b);
                s.getOutputStream().write(b);
            });
            try (TcpConnection c = TcpConnection.connect("localhost:" + port,
                    new ConnectOptions().withTimeout(30_000).withProxy(px.url()))) {
                c.sendAll(payload);
                check(Arrays.equals(payload, c.recvExact(1024)), "echo through the proxy");
                eq(px.port, c.peerPort(), "the socket's peer is the proxy");
            }
            peer.join();
            ConnectionRefusedException e = expect(ConnectionRefusedException.class,
                    () -> TcpConnection.connect("127.0.0.1:" + denied,
                            new ConnectOptions().withTimeout(30_000).withProxy(px.url())));
            String msg = e.getMessage();
            check(msg.contains("connection not allowed by ruleset"), msg);
            check(msg.contains("127.0.0.1:" + denied), msg);
            check(msg.contains("SOCKS5 proxy 127.0.0.1:" + px.port), msg);
            check(e instanceof java.net.ConnectException, "a java.net.ConnectException");
            ConnectionRefusedException nobody = expect(ConnectionRefusedException.class,
                    () -> TcpConnection.connect("127.0.0.1:" + closedPort(),
                            new ConnectOptions().withTimeout(30_000).withProxy(px.url())));
            check(nobody.getMessage().contains("replied 5 (connection refused)"), nobody.getMessage());

            // The engine's client: every attempt through the proxy.
            try (Server server = Server.listen("127.0.0.1:0");
                 Client client = Client.connect("localhost:" + server.localPort(),
                         new ClientOptions().withProxy(px.url()))) {
                Event c = next(client, EventKind.CONNECTED);
                check(c.peer().endsWith(":" + px.port), "the client's peer is the proxy: " + c.peer());
                Event sc = next(server, EventKind.CONNECTED);
                client.send(utf8("via socks"));
                Event m = next(server, EventKind.MESSAGE);
                eq("via socks", m.text(), "message through the proxy");
                server.send(sc.client(), utf8("back"));
                eq("back", next(client, EventKind.MESSAGE).text(), "reply");
            }
            // The engine's client gives up on a refusing proxy, with its reply.
            try (Client client = Client.connect("127.0.0.1:" + denied,
                    new ClientOptions().withoutReconnect().withProxy(px.url()))) {
                Event d = next(client, EventKind.DISCONNECTED);
                check(d.reasonText().contains("connection not allowed by ruleset"), d.toString());
            }
        }
    }

    /** Bad proxy URLs are InvalidArgumentException with core's words, when set. */
    static void xProxyUrlsAreChecked() throws Exception {
        String[][] bad = {
            {"socks5://127.0.0.1:0", "port 0"},
            {"socks5://127.0.0.1:70000", "1 to 65535"},
            {"socks5://alice@127.0.0.1:1080", "password of 0 bytes"},
        };
        for (String[] b : bad) {
            InvalidArgumentException e = expect(InvalidArgumentException.class,
                    () -> new ConnectOptions().withProxy(b[0]));
            check(e.getMessage().contains(b[1]), b[0] + ": " + e.getMessage());
            expect(InvalidArgumentException.class, () -> new ClientOptions().withProxy(b[0]));
        }
        new ConnectOptions().withProxy(null);
        expect(IOException.class, () -> TcpConnection.connect("unix:/tmp/none.sock",
                new ConnectOptions().withProxy("socks5://127.0.0.1:1080")));
    }

    // ------------------------------------------------------------------ fd passing

    /**
     * Descriptor passing between two processes: this JVM sends an open file's descriptor over a
     * Unix connection to a child JVM ({@link FdChild}), which reads the file through it and sends
     * the contents back; the peer credentials name the child's pid.
     */
    static void xFdPassingBetweenProcesses() throws Exception {
        Path dir = tempDir("ls-java-fds-");
        try {
            Path file = dir.resolve("secret.txt");
            byte[] content = utf8("read through a passed descriptor\n");
            Files.write(file, content);
            String ep = "unix:" + dir.resolve("s.sock");
            try (Listener l = Listener.listen(ep)) {
                String java = Paths.get(System.getProperty("java.home"), "bin", "java").toString();
                Process child = new ProcessBuilder(java, "-Xcheck:jni", "-cp",
                        System.getProperty("java.class.path"), "io.libsock.FdChild", ep)
                        .redirectErrorStream(true).redirectOutput(dir.resolve("child.log").toFile())
                        .start();
                try (TcpConnection c = l.accept(60_000);
                     FileInputStream in = new FileInputStream(file.toFile())) {
                    c.setTimeout(60_000);
                    PeerCredentials cr = c.peerCredentials();
                    eq((int) child.pid(), cr.pid, "the peer's pid");
                    check(cr.uid >= 0 && cr.gid >= 0, "uid/gid " + cr);
                    c.sendFds(utf8("fd!"), in.getFD());
                    eq("fd!", new String(c.recvExact(3), StandardCharsets.UTF_8), "bytes with the fd");
                    check(Arrays.equals(content, c.recvExact(content.length)), "the file via the fd");
                    eq(0, c.recv(1).length, "the child closed");
                } finally {
                    if (!child.waitFor(60, TimeUnit.SECONDS)) {
                        child.destroyForcibly();
                    }
                }
                eq(0, child.exitValue(), "the child's exit status: "
                        + new String(Files.readAllBytes(dir.resolve("child.log")), StandardCharsets.UTF_8));
            }
        } finally {
            removeTree(dir);
        }
    }

    /** Descriptors within one process: several, int and FileDescriptor, and the errors. */
    static void xFdPassingErrors() throws Exception {
        Path dir = tempDir("ls-java-fds2-");
        try {
            Path a = dir.resolve("a");
            Path b = dir.resolve("b");
            Files.write(a, utf8("AAA"));
            Files.write(b, utf8("BBB"));
            String ep = "unix:" + dir.resolve("s.sock");
            try (Listener l = Listener.listen(ep);
                 TcpConnection c = TcpConnection.connect(ep);
                 TcpConnection s = l.accept(10_000);
                 FileInputStream fa = new FileInputStream(a.toFile());
                 FileInputStream fb = new FileInputStream(b.toFile())) {
                int na = FileDescriptors.fd(fa.getFD());
                check(na > 2, "a descriptor number " + na);
                c.sendFds(utf8("x"), new int[] {na, FileDescriptors.fd(fb.getFD())});
                ReceivedFds r = s.recvFds(10, 4, 10_000);
                eq("x", new String(r.data(), StandardCharsets.UTF_8), "data");
                eq(2, r.fds().length, "two descriptors");
                check(r.fds()[0] != na, "a new descriptor in the receiver");
                try (FileInputStream in = FileDescriptors.stream(r.fds()[0])) {
                    eq("AAA", new String(readAll(in), StandardCharsets.UTF_8), "a");
                }
                FileDescriptors.close(r.fds()[1]);
                expect(IoException.class, () -> FileDescriptors.close(r.fds()[1]));
                // More descriptors than asked for: an error, the bytes stay.
                // (three: the control buffer for one descriptor has room for two on 64-bit Linux)
                c.sendFds(utf8("y"), fa.getFD(), fb.getFD(), fa.getFD());
                IoException many = expect(IoException.class, () -> s.recvFds(10, 1, 10_000));
                check(many.getMessage().contains("descriptor"), many.getMessage());
                eq("y", new String(s.recvFds(10, 4, 10_000).data(), StandardCharsets.UTF_8),
                        "the bytes stayed");
                c.sendFds(utf8("huge maxBytes"), new int[0]);
                eq("huge maxBytes", new String(s.recvFds(Integer.MAX_VALUE, 4, 10_000).data(),
                        StandardCharsets.UTF_8), "Integer.MAX_VALUE bytes asked: what is there");
                expect(InvalidArgumentException.class, () -> c.sendFds(utf8("z"), new int[] {-1}));
                expect(InvalidArgumentException.class, () -> FileDescriptors.fileDescriptor(-1));
                expect(InvalidArgumentException.class,
                        () -> FileDescriptors.fd(new java.io.FileDescriptor()));
            }
            try (Listener l = Listener.listen("127.0.0.1:0");
                 TcpConnection c = TcpConnection.connect("127.0.0.1:" + l.localPort());
                 TcpConnection s = l.accept(10_000)) {
                expect(UnsupportedException.class, () -> c.sendFds(utf8("x"), new int[] {0}));
                expect(UnsupportedException.class, () -> s.recvFds(1, 1, 0));
                expect(UnsupportedException.class, c::peerCredentials);
            }
        } finally {
            removeTree(dir);
        }
    }

    // ------------------------------------------------------------------ parity

    /** The multicast sending interface: a datagram to a group over loopback. */
    static void xMulticastInterface() throws Exception {
        String group = "239.255.77.78";
        java.util.Map<SockOpt, Long> reuse = new java.util.HashMap<>();
        reuse.put(SockOpt.REUSE_ADDRESS, 1L);
        try (Datagram rx = Datagram.bind("0.0.0.0:0", reuse, 10_000)) {
            rx.joinMulticast(group, "127.0.0.1");
            java.util.Map<SockOpt, Long> loop = new java.util.HashMap<>();
            loop.put(SockOpt.MULTICAST_LOOP, 1L);
            try (Datagram tx = Datagram.bind("127.0.0.1:0", loop, 10_000)) {
                tx.setMulticastInterface("127.0.0.1");
                tx.setMulticastInterface(null);
                tx.setMulticastInterface("127.0.0.1");
                tx.sendTo(utf8("to the group"), group + ":" + rx.localPort());
                byte[] buf = new byte[64];
                ReceivedDatagram r = rx.recvFrom(buf);
                eq("to the group", new String(buf, 0, r.length(), StandardCharsets.UTF_8), "data");
                eq("127.0.0.1:" + tx.localPort(), r.sender(), "sender");
                expect(InvalidArgumentException.class, () -> tx.setMulticastInterface("not-an-iface"));
                expect(AddrNotAvailableException.class, () -> tx.setMulticastInterface("192.0.2.1"));
            }
            rx.leaveMulticast(group, "127.0.0.1");
        }
    }

    /** Per-client statistics on the engine's server. */
    static void xServerClientStats() throws Exception {
        try (Server server = Server.listen("127.0.0.1:0");
             TcpConnection c = TcpConnection.connect("127.0.0.1:" + server.localPort(),
                     new ConnectOptions().withFraming(Framing.lengthPrefixed()).withTimeout(10_000))) {
            long before = System.currentTimeMillis();
            Event conn = next(server, EventKind.CONNECTED);
            long id = conn.client();
            c.sendMsgs(utf8("one"), utf8("two"), utf8("three!"));
            for (int i = 0; i < 3; i++) {
                next(server, EventKind.MESSAGE);
            }
            server.send(id, utf8("hello"));
            eq("hello", new String(c.recvMsg(), StandardCharsets.UTF_8), "reply");
            // The engine counts a write when the write call returns, which may come after the
            // client already read the bytes: wait (bounded) for the count.
            for (int i = 0; i < 1000 && server.clientStats(id).messagesOut < 1; i++) {
                Thread.sleep(5);
            }
            ConnectionStats st = server.clientStats(id);
            eq(c.localAddress(), st.peer, "peer");
            eq(3L, st.messagesIn, "messages in");
            eq(3L * 4 + 3 + 3 + 6, st.bytesIn, "bytes in");
            eq(1L, st.messagesOut, "messages out");
            eq(4L + 5, st.bytesOut, "bytes out");
            eq(0L, st.queuedBytes, "queued");
            check(!st.tls, "plain");
            check(Math.abs(st.connectedSince - before) < 600_000, "connected since " + st.connectedSince);
            expect(ClosedException.class, () -> server.clientStats(id + 1000));
        }
    }

    /** A blocking connection's counters (core's Connection::stats, merged from main). */
    @SuppressWarnings("try")
    static void xConnectionStats() throws Exception {
        try (Listener l = Listener.listen("127.0.0.1:0",
                new ListenOptions().withFraming(Framing.lengthPrefixed()));
             TcpConnection c = TcpConnection.connect("127.0.0.1:" + l.localPort(),
                     new ConnectOptions().withFraming(Framing.lengthPrefixed()).withTimeout(10_000));
             TcpConnection s = l.accept(10_000)) {
            c.sendMsgs(utf8("one"), utf8("three"));
            eq("one", new String(s.recvMsg(10_000), StandardCharsets.UTF_8), "first");
            eq("three", new String(s.recvMsg(10_000), StandardCharsets.UTF_8), "second");
            ConnectionStats cs = c.stats();
            ConnectionStats ss = s.stats();
            eq(2L, cs.messagesOut, "messages out");
            eq(4L + 3 + 4 + 5, cs.bytesOut, "bytes out");
            eq(2L, ss.messagesIn, "messages in");
            eq(4L + 3 + 4 + 5, ss.bytesIn, "bytes in");
            eq(0L, cs.queuedBytes, "a blocking connection queues nothing");
            eq(s.localAddress(), cs.peer, "peer");
            check(!cs.tls, "plain");
            c.close();
            expect(BadHandleException.class, c::stats);
        }
    }

    /** Batch sends: Server.sendBatch, Client.sendBatch, TcpConnection.sendMsgs. */
    static void xBatchSends() throws Exception {
        byte[][] batch = {utf8("a"), utf8("bb"), new byte[0], utf8("dddd")};
        try (Server server = Server.listen("127.0.0.1:0");
             Client client = Client.connect("127.0.0.1:" + server.localPort())) {
            check(client.notifyFd() >= 0 && server.notifyFd() >= 0, "notify fds");
            check(server.notifyFd() != client.notifyFd(), "one notify fd per object");
            Event sc = next(server, EventKind.CONNECTED);
            eq(4, client.sendBatch(batch, 5_000), "client batch");
            for (byte[] want : batch) {
                check(Arrays.equals(want, next(server, EventKind.MESSAGE).data()),
                        "server got the batch in order");
            }
            eq(4, server.sendBatch(sc.client(), batch, 5_000), "server batch");
            next(client, EventKind.CONNECTED);
            for (byte[] want : batch) {
                check(Arrays.equals(want, next(client, EventKind.MESSAGE).data()),
                        "client got the batch in order");
            }
            expect(ClosedException.class, () -> server.sendBatch(sc.client() + 99, batch, 0));
            expect(NullPointerException.class,
                    () -> server.sendBatch(sc.client(), new byte[][] {null}, 0));
            eq(0, client.sendBatch(new byte[0][], 0), "an empty batch");
        }
        try (Listener l = Listener.listen("127.0.0.1:0",
                new ListenOptions().withFraming(Framing.lengthPrefixed(1)));
             TcpConnection c = TcpConnection.connect("127.0.0.1:" + l.localPort(),
                     new ConnectOptions().withFraming(Framing.lengthPrefixed(1)).withTimeout(10_000));
             TcpConnection s = l.accept(10_000)) {
            c.sendMsgs(batch);
            byte[][] got = new byte[batch.length][];
            for (int i = 0; i < batch.length; i++) {
                got[i] = s.recvMsg(10_000);
            }
            check(Arrays.deepEquals(batch, got), "sendMsgs in order, boundaries kept");
            // A message the framing cannot carry: nothing of the batch is sent.
            expect(FrameTooLargeException.class,
                    () -> c.sendMsgs(utf8("fits"), new byte[300]));
            expect(TimeoutException.class, () -> s.recvMsg(200));
            c.sendMsgs(new byte[][] {utf8("after")}, 5_000);
            eq("after", new String(s.recvMsg(10_000), StandardCharsets.UTF_8), "still works");
        }
    }
}
