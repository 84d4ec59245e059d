package io.libsock;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.net.ConnectException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The Java door's test suite: scenarios S01-S12 and S17 of docs/SCENARIOS.md (methods {@code s01...}
 * to {@code s17...}; the engine's S13-S17 are in {@link EngineTest} and TLS's S18-S21 in
 * {@link TlsTest}, both run from here too) plus
 * bad-input and API checks ({@code x...}), against real peers over
 * loopback (the JDK's own java.net sockets where a scenario needs another implementation).
 * Plain Java, no JUnit: run {@code java -Xcheck:jni -Djava.library.path=target/release -cp ...
 * io.libsock.LibsockTest}; the last line is {@code java: N passed, N failed}.
 */
public final class LibsockTest {
    private LibsockTest() {}

    /** A test still running after this long fails (and the suite moves on). */
    static final long TEST_TIMEOUT_MS = 120_000;

    // ------------------------------------------------------------------ harness

    static void check(boolean cond, String what) {
        if (!cond) {
            throw new AssertionError(what);
        }
    }

    static void eq(Object expected, Object actual, String what) {
        if (expected == null ? actual != null : !expected.equals(actual)) {
            throw new AssertionError(what + ": expected <" + expected + "> but was <" + actual + ">");
        }
    }

    interface Body {
        void run() throws Exception;
    }

    /** Runs {@code body}, which must throw {@code type}; returns the exception. */
    static <T extends Throwable> T expect(Class<T> type, Body body) throws Exception {
        try {
            body.run();
        } catch (Throwable t) {
            if (type.isInstance(t)) {
                return type.cast(t);
            }
            throw new AssertionError("expected " + type.getName() + " but got " + t, t);
        }
        throw new AssertionError("expected " + type.getName() + " but nothing was thrown");
    }

    /** A thread that records its failure; {@link #join()} rethrows it. */
    static final class Peer {
        final Thread thread;
        final AtomicReference<Throwable> error = new AtomicReference<>();

        Peer(String name, Body body) {
            thread = new Thread(() -> {
                try {
                    body.run();
                } catch (Throwable t) {
                    error.set(t);
                }
            }, name);
            thread.setDaemon(true);
            thread.start();
        }

        void join() throws Exception {
            thread.join(60_000);
            if (thread.isAlive()) {
                throw new AssertionError("peer thread " + thread.getName() + " did not finish");
            }
            Throwable t = error.get();
            if (t != null) {
                throw new AssertionError("peer failed: " + t, t);
            }
        }
    }

    interface SocketBody {
        void run(Socket s) throws Exception;
    }

    /** A JDK ServerSocket peer that accepts one client and runs {@code body} on it. */
    static Peer jdkPeer(ServerSocket ss, SocketBody body) {
        return new Peer("jdk-peer", () -> {
            try (ServerSocket server = ss; Socket s = server.accept()) {
                s.setSoTimeout(60_000);
                body.run(s);
            }
        });
    }

    static ServerSocket jdkServer() throws IOException {
        return new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"));
    }

    static byte[] random(Random r, int n) {
        byte[] b = new byte[n];
        r.nextBytes(b);
        return b;
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static String str(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }

    // ------------------------------------------------------------------ scenarios

    /** S01: connect, send 1 KiB, peer echoes, close; close twice is harmless. */
    static void s01EchoOneKib() throws Exception {
        ServerSocket ss = jdkServer();
        Peer peer = jdkPeer(ss, s -> {
            byte[] b = new DataInputStream(s.getInputStream()).readNBytes(1024);
            s.getOutputStream().write(b);
        });
        byte[] data = random(new Random(1), 1024);
        TcpConnection c = TcpConnection.connect("127.0.0.1", ss.getLocalPort(), 5000);
        c.sendAll(data);
        byte[] back = c.recvExact(1024, 5000);
        check(Arrays.equals(data, back), "echoed bytes differ");
        c.close();
        c.close();
        check(c.isClosed(), "isClosed after close");
        peer.join();
    }

    /** S02: connecting to a port nobody listens on gives ConnectException naming the address. */
    static void s02Refused() throws Exception {
        int port;
        try (ServerSocket ss = jdkServer()) {
            port = ss.getLocalPort();
        }
        final int p = port;
        ConnectException e = expect(ConnectException.class,
                () -> TcpConnection.connect("127.0.0.1", p, 5000));
        check(e instanceof LibsockError, "is a LibsockError");
        eq(ErrorKind.CONNECTION_REFUSED.code(), ((LibsockError) e).code(), "code");
        eq(ErrorKind.CONNECTION_REFUSED, ((LibsockError) e).kind(), "kind");
        check(e.getMessage().contains("127.0.0.1:" + p), "message names the address: " + e.getMessage());
        expect(ConnectException.class, () -> TcpConnection.connect("127.0.0.1:" + p));
    }

    /** S03: recv with a 200 ms timeout from a silent peer; the connection works afterwards. */
    static void s03RecvTimeout() throws Exception {
        ServerSocket ss = jdkServer();
        Object go = new Object();
        boolean[] release = {false};
        Peer peer = jdkPeer(ss, s -> {
            synchronized (go) {
                while (!release[0]) {
                    go.wait();
                }
            }
            s.getOutputStream().write(utf8("late"));
            s.getInputStream().read();
        });
        try (TcpConnection c = TcpConnection.connect("127.0.0.1", ss.getLocalPort(), 5000)) {
            long t0 = System.nanoTime();
            SocketTimeoutException e = expect(SocketTimeoutException.class, () -> c.recv(100, 200));
            long ms = (System.nanoTime() - t0) / 1_000_000;
            check(ms >= 190 && ms <= 2000, "timed out after " + ms + " ms");
            eq(ErrorKind.TIMEOUT.code(), ((LibsockError) e).code(), "code");
            // default timeout path too
            c.setTimeout(200);
            eq(200, c.getTimeout(), "getTimeout");
            c.setFraming(Framing.lengthPrefixed());
            expect(TimeoutException.class, c::recvMsg);
            c.setFraming(Framing.raw());
            c.setTimeout(-1);
            synchronized (go) {
                release[0] = true;
                go.notifyAll();
            }
            eq("late", str(c.recvExact(4, 5000)), "data after the timeout");
        }
        peer.join();
    }

    /** S04: 64 MiB of random bytes each way through a JDK echo peer, compared by SHA-256. */
    static void s04SixtyFourMib() throws Exception {
        final int total = 64 << 20;
        ServerSocket ss = jdkServer();
        Peer peer = jdkPeer(ss, s -> {
            InputStream in = s.getInputStream();
            OutputStream out = s.getOutputStream();
            byte[] buf = new byte[256 * 1024];
            int n;
            while ((n = in.read(buf)) > 0) {
                out.write(buf, 0, n);
            }
            s.shutdownOutput();
        });
        try (TcpConnection c = TcpConnection.connect("127.0.0.1", ss.getLocalPort(), 5000)) {
            MessageDigest sent = MessageDigest.getInstance("SHA-256");
            Peer sender = new Peer("sender", () -> {
                Random r = new Random(4);
                byte[] chunk = new byte[1 << 20];
                for (int off = 0; off < total; off += chunk.length) {
                    r.nextBytes(chunk);
                    sent.update(chunk);
                    c.sendAll(chunk, 0, chunk.length, 30_000);
                }
                c.shutdownOutput();
            });
            MessageDigest got = MessageDigest.getInstance("SHA-256");
            ByteBuffer direct = ByteBuffer.allocateDirect(512 * 1024);
            byte[] heap = new byte[300 * 1024];
            long received = 0;
            boolean useDirect = true;
            while (true) {
                int n;
                if (useDirect) {
                    direct.clear();
                    n = c.recvInto(direct, 30_000);
                    if (n > 0) {
                        direct.flip();
                        got.update(direct);
                    }
                } else {
                    n = c.recvInto(heap, 0, heap.length, 30_000);
                    if (n > 0) {
                        got.update(heap, 0, n);
                    }
                }
                if (n < 0) {
                    break;
                }
                received += n;
                useDirect = !useDirect;
            }
            sender.join();
            eq((long) total, received, "bytes received");
            check(Arrays.equals(sent.digest(), got.digest()), "SHA-256 differs");
        }
        peer.join();
    }

    /**
     * S05: 1,000 length-prefixed messages of random sizes 0-64 KiB each way; the peer is built by
     * hand with the JDK's DataInputStream/DataOutputStream (4-byte big-endian length + body).
     */
    static void s05LengthPrefixed() throws Exception {
        final int count = 1000;
        Random r = new Random(5);
        List<byte[]> msgs = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            msgs.add(random(r, r.nextInt(64 * 1024 + 1)));
        }
        ServerSocket ss = jdkServer();
        Peer peer = jdkPeer(ss, s -> {
            DataInputStream in = new DataInputStream(new java.io.BufferedInputStream(s.getInputStream()));
            DataOutputStream out = new DataOutputStream(new java.io.BufferedOutputStream(s.getOutputStream()));
            for (int i = 0; i < count; i++) {
                int len = in.readInt();
                byte[] b = new byte[len];
                in.readFully(b);
                if (!Arrays.equals(msgs.get(i), b)) {
                    throw new AssertionError("peer: message " + i + " differs");
                }
                out.writeInt(len);
                out.write(b);
            }
            out.flush();
        });
        try (TcpConnection c = TcpConnection.connect("127.0.0.1", ss.getLocalPort(),
                new ConnectOptions().withConnectTimeout(5000).withTimeout(30_000)
                        .withFraming(Framing.lengthPrefixed()))) {
            Peer sender = new Peer("sender", () -> {
                for (byte[] m : msgs) {
                    c.sendMsg(m);
                }
            });
            for (int i = 0; i < count; i++) {
                byte[] m = c.recvMsg();
                check(Arrays.equals(msgs.get(i), m), "message " + i + " differs (" + m.length
                        + " vs " + msgs.get(i).length + " bytes)");
            }
            sender.join();
        }
        peer.join();
    }

    /** The Python peer of {@link #s05PythonPeer()}: a length-prefixed echo built by hand. */
    static final String PY_ECHO = String.join("\n",
            "import socket, struct, sys",
            "srv = socket.socket()",
            "srv.bind(('127.0.0.1', 0))",
            "srv.listen(1)",
            "print(srv.getsockname()[1], flush=True)",
            "c, _ = srv.accept()",
            "f = c.makefile('rb')",
            "n = 0",
            "while True:",
            "    head = f.read(4)",
            "    if len(head) < 4:",
            "        break",
            "    (size,) = struct.unpack('>I', head)",
            "    body = f.read(size)",
            "    assert len(body) == size, 'short body'",
            "    c.sendall(struct.pack('>I', size) + body)",
            "    n += 1",
            "c.close()",
            "print('python peer echoed', n, flush=True)",
            "");

    /**
     * S05 against a peer in another language: a Python length-prefixed echo written by hand with
     * the struct module (4-byte big-endian length + body), 1,000 messages of 0-64 KiB.
     */
    static void s05PythonPeer() throws Exception {
        Process py;
        try {
            py = new ProcessBuilder("python3", "-c", PY_ECHO).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new AssertionError("python3 is needed for this scenario's peer: " + e);
        }
        try {
            java.io.BufferedReader out = new java.io.BufferedReader(
                    new java.io.InputStreamReader(py.getInputStream(), StandardCharsets.UTF_8));
            int port = Integer.parseInt(out.readLine().trim());
            Random r = new Random(55);
            List<byte[]> msgs = new ArrayList<>();
            for (int i = 0; i < 1000; i++) {
                msgs.add(random(r, r.nextInt(64 * 1024 + 1)));
            }
            try (TcpConnection c = TcpConnection.connect("127.0.0.1", port,
                    new ConnectOptions().withConnectTimeout(5000).withTimeout(30_000)
                            .withFraming(Framing.lengthPrefixed()))) {
                Peer sender = new Peer("sender", () -> {
                    for (byte[] m : msgs) {
                        c.sendMsg(m);
                    }
                    c.shutdownOutput();
                });
                for (int i = 0; i < msgs.size(); i++) {
                    check(Arrays.equals(msgs.get(i), c.recvMsg()), "message " + i + " differs");
                }
                expect(ClosedException.class, c::recvMsg);
                sender.join();
            }
            eq("python peer echoed 1000", out.readLine(), "python peer's report");
            check(py.waitFor(30, java.util.concurrent.TimeUnit.SECONDS), "python peer exits");
            eq(0, py.exitValue(), "python peer exit status");
        } finally {
            py.destroyForcibly();
        }
    }

    /**
     * S06: line framing with \r\n; a line longer than max_len gives FrameTooLargeException and
     * the lines around it arrive intact. A length prefix claiming 2 GiB is refused the same way.
     */
    static void s06LinesAndTooLong() throws Exception {
        ServerSocket ss = jdkServer();
        Peer peer = jdkPeer(ss, s -> {
            OutputStream out = s.getOutputStream();
            StringBuilder longLine = new StringBuilder();
            for (int i = 0; i < 1000; i++) {
                longLine.append('x');
            }
            out.write(utf8("hello\r\nworld\r\n" + longLine + "\r\nafter\r\n\r\n"));
            out.flush();
            s.getInputStream().read();
        });
        try (TcpConnection c = TcpConnection.connect("127.0.0.1", ss.getLocalPort(), 5000)) {
            c.setTimeout(5000);
            c.setFraming(Framing.delimited("\r\n").withMaxLength(64));
            eq("hello", str(c.recvMsg()), "line 1");
            eq("world", str(c.recvMsg()), "line 2");
            FrameTooLargeException e = expect(FrameTooLargeException.class, c::recvMsg);
            eq(ErrorKind.FRAME_TOO_LARGE.code(), e.code(), "code");
            eq("after", str(c.recvMsg()), "line after the long one");
            eq("", str(c.recvMsg()), "empty line");
        }
        peer.join();

        ServerSocket ss2 = jdkServer();
        Peer peer2 = jdkPeer(ss2, s -> {
            DataOutputStream out = new DataOutputStream(s.getOutputStream());
            out.writeInt(0x7fff_ffff);
            out.write(new byte[100]);
            out.flush();
            s.getInputStream().read();
        });
        try (TcpConnection c = TcpConnection.connect("127.0.0.1", ss2.getLocalPort(),
                new ConnectOptions().withTimeout(5000)
                        .withFraming(Framing.lengthPrefixed().withMaxLength(1 << 20)))) {
            expect(FrameTooLargeException.class, c::recvMsg);
            expect(FrameTooLargeException.class, () -> c.sendMsg(new byte[(1 << 20) + 1]));
        }
        peer2.join();
    }

    /** S07: half-close: shut down writing, the peer reads to end, then replies; reply read fully. */
    static void s07HalfClose() throws Exception {
        ServerSocket ss = jdkServer();
        Peer peer = jdkPeer(ss, s -> {
            byte[] all = s.getInputStream().readAllBytes();
            OutputStream out = s.getOutputStream();
            byte[] reply = new byte[200_000];
            Arrays.fill(reply, (byte) 'r');
            out.write(utf8("got " + all.length + " bytes\n"));
            out.write(reply);
            out.flush();
        });
        try (TcpConnection c = TcpConnection.connect("127.0.0.1", ss.getLocalPort(), 5000)) {
            c.setTimeout(10_000);
            c.sendAll(random(new Random(7), 100_000));
            c.shutdownOutput();
            java.io.ByteArrayOutputStream got = new java.io.ByteArrayOutputStream();
            byte[] buf = new byte[65536];
            int n;
            while ((n = c.recvInto(buf)) >= 0) {
                got.write(buf, 0, n);
            }
            byte[] all = got.toByteArray();
            String head = "got 100000 bytes\n";
            eq(head.length() + 200_000, all.length, "reply length");
            eq(head, new String(all, 0, head.length(), StandardCharsets.UTF_8), "reply head");
            eq(0, c.recv(10).length, "recv after end of stream returns an empty array");
        }
        peer.join();
    }

    /** S08: use after close, an invented handle, null and empty buffers: clear errors. */
    static void s08BadInput() throws Exception {
        try (Listener l = Listener.listen("127.0.0.1:0")) {
            TcpConnection c = TcpConnection.connect("127.0.0.1", l.localPort(), 5000);
            try (TcpConnection server = l.accept(5000)) {
                // null and bad ranges: JDK runtime exceptions, from Java and from the native side
                expect(NullPointerException.class, () -> c.sendAll((byte[]) null));
                expect(NullPointerException.class, () -> c.recvInto((byte[]) null));
                expect(NullPointerException.class, () -> c.sendMsg(null));
                expect(NullPointerException.class, () -> c.setFraming(null));
                expect(NullPointerException.class,
                        () -> Native.connSendAll(1L << 40, null, 0, 0, Native.DEFAULT));
                long h = handleOf(c);
                expect(NullPointerException.class,
                        () -> Native.connSendAll(h, null, 0, 0, Native.DEFAULT));
                expect(NullPointerException.class,
                        () -> Native.connect(null, null, 80, -1, -1, null, null, 0, null));
                expect(IndexOutOfBoundsException.class, () -> c.sendAll(new byte[4], 2, 3));
                expect(IndexOutOfBoundsException.class, () -> c.recvInto(new byte[4], -1, 2));
                expect(IndexOutOfBoundsException.class,
                        () -> Native.connSendAll(h, new byte[4], 2, 3, Native.DEFAULT));
                expect(IndexOutOfBoundsException.class,
                        () -> Native.connRecv(h, new byte[4], 0, 5, Native.DEFAULT));
                expect(InvalidArgumentException.class,
                        () -> Native.connRecvDirect(h, ByteBuffer.allocate(8), 0, 8, 0));
                // bad arguments libsock rejects: InvalidArgumentException (an IOException)
                expect(InvalidArgumentException.class, () -> c.recvUntil(new byte[0], 10, 0));
                expect(InvalidArgumentException.class, () -> c.setTimeout(-5));
                expect(InvalidArgumentException.class, () -> Native.connRecv(h, new byte[4], 0, 4, -7));
                expect(InvalidArgumentException.class, () -> c.setFraming(Framing.lengthPrefixed(3)));
                expect(InvalidArgumentException.class, () -> c.setFraming(Framing.delimited("")));
                expect(InvalidArgumentException.class, () -> c.setFraming(Framing.fixed(0)));
                expect(InvalidArgumentException.class, () -> c.setOption(SockOpt.NODELAY, 7));
                // an empty buffer where a message must go: buffer too small, message kept
                c.setFraming(Framing.lengthPrefixed());
                server.setFraming(Framing.lengthPrefixed());
                server.sendMsg(utf8("kept"));
                BufferTooSmallException e = expect(BufferTooSmallException.class,
                        () -> c.recvMsgInto(new byte[0], 0, 0, 5000));
                eq(4L, e.needed(), "needed");
                eq("kept", str(c.recvMsg(5000)), "message still there");
                // wrong kind of handle
                expect(BadHandleException.class, () -> Native.accept(h, 0));
                expect(BadHandleException.class, () -> Native.connRecvMsg(handleOf(l), 0));
                // use after close
                c.close();
                // BAD_HANDLE has its own class (docs/NAMES.md), no longer a ClosedException.
                BadHandleException ce = expect(BadHandleException.class, () -> c.sendAll(utf8("x")));
                eq(ErrorKind.BAD_HANDLE.code(), ce.code(), "code after close");
                check(!((Object) ce instanceof ClosedException), "BadHandleException is no ClosedException");
                expect(BadHandleException.class, () -> c.recv(10, 0));
                expect(BadHandleException.class, c::localAddress);
                expect(BadHandleException.class, () -> c.getOption(SockOpt.NODELAY));
                c.close();
            }
            // an invented handle
            expect(BadHandleException.class,
                    () -> Native.connSend(987_654_321L, new byte[1], 0, 1, 0));
            expect(BadHandleException.class, () -> Native.localAddress(-1));
            expect(BadHandleException.class, () -> Native.accept(0, 0));
            Native.close(987_654_321L); // harmless
        }
        // malformed addresses
        expect(InvalidArgumentException.class, () -> TcpConnection.connect("localhost"));
        expect(InvalidArgumentException.class, () -> TcpConnection.connect("[::1:80"));
        expect(InvalidArgumentException.class, () -> TcpConnection.connect("::1:80"));
        expect(InvalidArgumentException.class, () -> TcpConnection.connect("127.0.0.1", 70000));
        expect(InvalidArgumentException.class, () -> TcpConnection.connect("127.0.0.1", -1));
        expect(InvalidArgumentException.class, () -> TcpConnection.connect("bad host", 80));
        expect(InvalidArgumentException.class, () -> Listener.listen("127.0.0.1:http"));
        expect(InvalidArgumentException.class, () -> Datagram.bind("nowhere"));
        expect(NullPointerException.class, () -> TcpConnection.connect((String) null));
    }

    /** A panic inside the native library arrives as InternalException; all still works. */
    static void xPanicBecomesException() throws Exception {
        InternalException e = expect(InternalException.class, Native::selfTestPanic);
        eq(ErrorKind.INTERNAL, e.kind(), "kind");
        check(e.getMessage().contains("self-test panic"), e.getMessage());
        // Core's words for an internal error, as in every door.
        check(e.getMessage().startsWith("internal error: "), e.getMessage());
        try (Listener l = Listener.listen("127.0.0.1:0")) {
            check(l.localPort() > 0, "library still works after a panic");
        }
    }

    /**
     * Every error code has its own exception class, named after the code (docs/NAMES.md:
     * CamelCase + "Exception"; INTERRUPTED is LibsockInterruptedException), with its JDK base.
     */
    static void xEveryCodeHasItsOwnClass() throws Exception {
        java.util.Set<Class<?>> seen = new java.util.HashSet<>();
        for (ErrorKind k : ErrorKind.values()) {
            IOException e = Native.make(k.code(), "m", 0, 0);
            StringBuilder camel = new StringBuilder();
            for (String w : k.name().split("_")) {
                camel.append(w.charAt(0)).append(w.substring(1).toLowerCase());
            }
            String want = k == ErrorKind.INTERRUPTED ? "LibsockInterruptedException"
                    : camel + "Exception";
            eq(want, e.getClass().getSimpleName(), "class of " + k);
            eq(k.code(), ((LibsockError) e).code(), "code of " + k);
            eq("m", e.getMessage(), "message of " + k + " (core's, untouched)");
            check(seen.add(e.getClass()), "one class per code: " + e.getClass());
        }
        eq(20, seen.size(), "classes");
        check(Native.make(ErrorKind.ADDR_IN_USE.code(), "m", 0, 0) instanceof AddressException,
                "AddrInUseException is an AddressException (a BindException)");
        check(Native.make(ErrorKind.CONNECTION_RESET.code(), "m", 0, 0)
                instanceof java.net.SocketException, "reset is a SocketException");
        check(Native.make(ErrorKind.INTERRUPTED.code(), "m", 0, 0)
                instanceof java.io.InterruptedIOException, "an InterruptedIOException");
        check(Native.make(ErrorKind.TLS.code(), "m", 0, 0)
                instanceof javax.net.ssl.SSLException, "an SSLException");
    }

    /**
     * shutdown(how) means the same in every door: no argument half-closes (WRITE); the peer
     * reads end of stream and can still reply. Listener.bind, the former name of listen, works.
     */
    @SuppressWarnings("deprecation")
    static void xShutdownHowAndFormerNames() throws Exception {
        try (Listener l = Listener.bind("127.0.0.1:0");
                TcpConnection c = TcpConnection.connect("127.0.0.1", l.localPort(), 5000);
                TcpConnection s = l.accept(5000)) {
            c.sendAll(utf8("req"));
            c.shutdown();                       // WRITE: half-close
            eq("req", str(s.recvExact(3, 5000)), "data before the end of stream");
            eq(0, s.recv(10, 5000).length, "end of stream after the half-close");
            s.sendAll(utf8("reply"));           // the other direction still works
            eq("reply", str(c.recvExact(5, 5000)), "reply after shutdown()");
            s.shutdown(Shutdown.BOTH);
            eq(0, c.recv(10, 5000).length, "end of stream after BOTH");
        }
    }

    /** Reads the private handle of an object (tests only). */
    static long handleOf(Object o) throws Exception {
        java.lang.reflect.Field f = o.getClass().getDeclaredField("handle");
        f.setAccessible(true);
        return ((NativeHandle) f.get(o)).id();
    }

    /**
     * S09: a message larger than the caller's buffer gives BufferTooSmallException with the
     * needed size; the message is still there for the next call (byte[] and direct buffers).
     */
    static void s09BufferTooSmall() throws Exception {
        ServerSocket ss = jdkServer();
        byte[] m1 = random(new Random(9), 1000);
        byte[] m2 = random(new Random(10), 3000);
        Peer peer = jdkPeer(ss, s -> {
            DataOutputStream out = new DataOutputStream(s.getOutputStream());
            out.writeInt(m1.length);
            out.write(m1);
            out.writeInt(m2.length);
            out.write(m2);
            out.flush();
            s.getInputStream().read();
        });
        try (TcpConnection c = TcpConnection.connect("127.0.0.1", ss.getLocalPort(),
                new ConnectOptions().withTimeout(5000).withFraming(Framing.lengthPrefixed()))) {
            byte[] small = new byte[10];
            BufferTooSmallException e = expect(BufferTooSmallException.class, () -> c.recvMsgInto(small));
            eq(1000L, e.needed(), "needed");
            eq(ErrorKind.BUFFER_TOO_SMALL.code(), e.code(), "code");
            byte[] big = new byte[e.needed() > 0 ? (int) e.needed() + 5 : 0];
            int n = c.recvMsgInto(big, 5, (int) e.needed(), 5000);
            eq(1000, n, "length");
            check(Arrays.equals(m1, Arrays.copyOfRange(big, 5, 1005)), "message 1 intact");
            ByteBuffer d = ByteBuffer.allocateDirect(100);
            BufferTooSmallException e2 = expect(BufferTooSmallException.class, () -> c.recvMsgInto(d));
            eq(3000L, e2.needed(), "needed (direct)");
            eq(0, d.position(), "position unchanged");
            ByteBuffer d2 = ByteBuffer.allocateDirect(4096);
            eq(3000, c.recvMsgInto(d2), "length (direct)");
            d2.flip();
            byte[] got = new byte[d2.remaining()];
            d2.get(got);
            check(Arrays.equals(m2, got), "message 2 intact");
        }
        peer.join();
    }

    /** S10: UDP send_to / recv_from with a JDK DatagramSocket peer; truncation reported. */
    static void s10Udp() throws Exception {
        try (Datagram a = Datagram.bind("127.0.0.1:0"); Datagram b = Datagram.bind("127.0.0.1", 0);
                DatagramSocket jdk = new DatagramSocket(0, InetAddress.getByName("127.0.0.1"))) {
            a.setTimeout(5000);
            byte[] data = utf8("hello udp");
            eq(data.length, b.sendTo(data, a.localAddress()), "bytes sent");
            byte[] buf = new byte[64];
            ReceivedDatagram r = a.recvFrom(buf);
            eq(data.length, r.length(), "length");
            check(!r.truncated(), "not truncated");
            eq("hello udp", new String(buf, 0, r.length(), StandardCharsets.UTF_8), "data");
            eq(b.localAddress(), r.sender(), "sender");
            eq(b.localPort(), Integer.parseInt(r.sender().substring(r.sender().lastIndexOf(':') + 1)),
                    "sender port");
            // a datagram larger than the buffer
            b.sendTo(random(new Random(10), 100), a.localAddress());
            byte[] tiny = new byte[10];
            ReceivedDatagram t = a.recvFrom(tiny, 0, 10, 5000);
            check(t.truncated(), "truncated");
            eq(10, t.length(), "truncated length");
            check(t.fullLength() > 10, "full length reported: " + t.fullLength());
            // the JDK's DatagramSocket as the other peer, both ways
            jdk.send(new DatagramPacket(utf8("from jdk"), 8,
                    new InetSocketAddress("127.0.0.1", a.localPort())));
            ReceivedDatagram j = a.recvFrom(buf, 0, buf.length, 5000);
            eq("from jdk", new String(buf, 0, j.length(), StandardCharsets.UTF_8), "jdk data");
            eq("127.0.0.1:" + jdk.getLocalPort(), j.sender(), "jdk sender");
            a.sendTo(utf8("reply"), j.sender());
            DatagramPacket p = new DatagramPacket(new byte[64], 64);
            jdk.setSoTimeout(5000);
            jdk.receive(p);
            eq("reply", new String(p.getData(), 0, p.getLength(), StandardCharsets.UTF_8), "reply at jdk");
            eq(a.localPort(), p.getPort(), "reply's source port");
            // timeout, and a connected socket
            expect(SocketTimeoutException.class, () -> a.recvFrom(buf, 0, buf.length, 100));
            try (Datagram conn = Datagram.connect(a.localAddress())) {
                conn.send(utf8("connected"));
                eq("connected", str(a.recv(64)), "connected send");
                eq(a.localAddress(), conn.peerAddress(), "peer of connected socket");
            }
        }
    }

    /** S11: listener on port 0 reports its real port; accept with a timeout and no client. */
    static void s11ListenerPortZero() throws Exception {
        try (Listener l = Listener.listen("127.0.0.1:0")) {
            int port = l.localPort();
            check(port > 0, "real port reported: " + port);
            eq("127.0.0.1:" + port, l.localAddress(), "local address");
            long t0 = System.nanoTime();
            SocketTimeoutException e = expect(SocketTimeoutException.class, () -> l.accept(200));
            long ms = (System.nanoTime() - t0) / 1_000_000;
            check(ms >= 190 && ms <= 2000, "accept timed out after " + ms + " ms");
            eq(ErrorKind.TIMEOUT.code(), ((LibsockError) e).code(), "code");
            try (Socket jdk = new Socket("127.0.0.1", port); TcpConnection c = l.accept(5000)) {
                eq(jdk.getLocalPort(), c.peerPort(), "peer port");
                eq(port, c.localPort(), "accepted local port");
                jdk.getOutputStream().write(utf8("hi"));
                eq("hi", str(c.recvExact(2, 5000)), "data from jdk client");
            }
        }
    }

    /** S12: options set and read back from the OS. */
    static void s12Options() throws Exception {
        try (Listener l = Listener.listen("127.0.0.1:0");
                TcpConnection c = TcpConnection.connect("127.0.0.1", l.localPort(),
                        new ConnectOptions().withOption(SockOpt.NODELAY, 1));
                TcpConnection s = l.accept(5000)) {
            eq(1L, c.getOption(SockOpt.NODELAY), "nodelay from connect options");
            s.setOption(SockOpt.NODELAY, 1);
            eq(1L, s.getOption(SockOpt.NODELAY), "nodelay on the accepted side");
            c.setOption(SockOpt.NODELAY, 0);
            eq(0L, c.getOption(SockOpt.NODELAY), "nodelay off");
            c.setOption(SockOpt.NODELAY, 1);
            eq(1L, c.getOption(SockOpt.NODELAY), "nodelay on");
            c.setOption(SockOpt.KEEPALIVE, 1);
            eq(1L, c.getOption(SockOpt.KEEPALIVE), "keepalive");
            c.setOption(SockOpt.KEEPALIVE_IDLE, 30);
            eq(30L, c.getOption(SockOpt.KEEPALIVE_IDLE), "keepalive idle");
            c.setOption(SockOpt.KEEPALIVE_INTERVAL, 5);
            eq(5L, c.getOption(SockOpt.KEEPALIVE_INTERVAL), "keepalive interval");
            c.setOption(SockOpt.KEEPALIVE_COUNT, 4);
            eq(4L, c.getOption(SockOpt.KEEPALIVE_COUNT), "keepalive count");
            c.setOption(SockOpt.RECV_BUFFER_SIZE, 65536);
            long rcv = c.getOption(SockOpt.RECV_BUFFER_SIZE);
            check(rcv >= 65536, "recv buffer read back: " + rcv);
            c.setOption(SockOpt.SEND_BUFFER_SIZE, 32768);
            long snd = c.getOption(SockOpt.SEND_BUFFER_SIZE);
            check(snd >= 32768, "send buffer read back: " + snd);
            eq(1L, l.getOption(SockOpt.REUSE_ADDRESS), "listener reuse address");
            try (Datagram d = Datagram.bind("127.0.0.1:0")) {
                d.setOption(SockOpt.BROADCAST, 1);
                eq(1L, d.getOption(SockOpt.BROADCAST), "broadcast");
                d.setOption(SockOpt.TTL, 17);
                eq(17L, d.getOption(SockOpt.TTL), "ttl");
            }
        }
    }

    /** S17: close from another thread while a call is blocked: the call throws ClosedException. */
    static void s17CloseFromAnotherThread() throws Exception {
        try (Listener l = Listener.listen("127.0.0.1:0");
                TcpConnection c = TcpConnection.connect("127.0.0.1", l.localPort(), 5000)) {
            c.setFraming(Framing.lengthPrefixed());
            closeWhileBlocked(c::close, c::recvMsg, "recvMsg");
        }
        try (Listener l = Listener.listen("127.0.0.1:0");
                TcpConnection c = TcpConnection.connect("127.0.0.1", l.localPort(), 5000);
                TcpConnection s = l.accept(5000)) {
            closeWhileBlocked(s::close, () -> s.recv(10), "recv");
            closeWhileBlocked(c::close, () -> c.recvExact(10, -1), "recvExact");
        }
        Listener l = Listener.listen("127.0.0.1:0");
        closeWhileBlocked(l::close, l::accept, "accept");
        Datagram d = Datagram.bind("127.0.0.1:0");
        closeWhileBlocked(d::close, () -> d.recv(10), "datagram recv");
    }

    static void closeWhileBlocked(Runnable close, Body blocked, String what) throws Exception {
        Peer closer = new Peer("closer", () -> {
            Thread.sleep(200);
            close.run();
        });
        long t0 = System.nanoTime();
        expect(ClosedException.class, blocked);
        long ms = (System.nanoTime() - t0) / 1_000_000;
        check(ms < 2000, what + " returned " + ms + " ms after start");
        closer.join();
    }

    // ------------------------------------------------------------------ more of the API

    /** Unix stream sockets through the same classes. */
    static void xUnixSocket() throws Exception {
        String path = System.getProperty("java.io.tmpdir") + "/libsock-java-" + ProcessHandle.current().pid() + ".sock";
        try (Listener l = Listener.listen("unix:" + path);
                TcpConnection c = TcpConnection.connect("unix:" + path);
                TcpConnection s = l.accept(5000)) {
            eq("unix:" + path, l.localAddress(), "listener address");
            c.setFraming(Framing.lines());
            s.setFraming(Framing.lines());
            c.sendMsg(utf8("over unix"));
            eq("over unix", str(s.recvMsg(5000)), "message");
        }
        check(!new java.io.File(path).exists(), "socket file removed on close");
    }

    /** Listener framing and connection timeout pass to accepted connections; streams work. */
    static void xListenerOptionsAndStreams() throws Exception {
        try (Listener l = Listener.listen("127.0.0.1", 0, new ListenOptions()
                .withFraming(Framing.lengthPrefixed(2)).withConnectionTimeout(3000).withBacklog(16));
                TcpConnection c = TcpConnection.connect("127.0.0.1:" + l.localPort());
                TcpConnection s = l.accept(5000)) {
            eq(3000, s.getTimeout(), "accepted connection's timeout");
            check(s.getFraming() instanceof Framing.LengthPrefixed, "accepted connection's framing");
            c.getOutputStream().write(new byte[] {0, 3, 'a', 'b', 'c'});
            eq("abc", str(s.recvMsg()), "framed by the listener's framing");
            s.sendAll(utf8("stream"));
            byte[] buf = new byte[6];
            new DataInputStream(c.getInputStream()).readFully(buf);
            eq("stream", str(buf), "InputStream");
            check(s.bytesAvailable() == 0, "nothing available");
            s.sendAll(utf8("abc|def|"));
            eq("abc|", str(c.recvUntil(utf8("|"), 100, 5000)), "recvUntil");
            eq("def|", str(c.recvUntil(utf8("|"), 100, 5000)), "recvUntil 2");
            check(Libsock.version().matches("\\d+\\.\\d+\\.\\d+.*"), "version " + Libsock.version());
        }
    }

    /** A peer's frame with the wrong HP-Socket flag: BadFrameException (BAD_FRAME, -20), not IO. */
    static void xBadFrameFromPeer() throws Exception {
        eq(-20, ErrorKind.BAD_FRAME.code(), "code");
        eq(ErrorKind.BAD_FRAME, ErrorKind.fromCode(-20), "fromCode");
        Framing f = Framing.hpPack(0x155, 1 << 20);
        try (Listener l = Listener.listen("127.0.0.1:0", new ListenOptions().withFraming(f));
                TcpConnection c = TcpConnection.connect("127.0.0.1", l.localPort(), 5000);
                TcpConnection s = l.accept(5000)) {
            int hdr = (0x154 << 22) | 2; // the wrong flag, little endian
            c.sendAll(new byte[] {(byte) hdr, (byte) (hdr >>> 8), (byte) (hdr >>> 16),
                (byte) (hdr >>> 24), 'h', 'i'});
            BadFrameException e = expect(BadFrameException.class, () -> s.recvMsg(5000));
            eq(ErrorKind.BAD_FRAME, e.kind(), "kind");
            eq(-20, e.code(), "code");
            check(e instanceof LibsockException, "a LibsockException");
        }
    }

    /** HP-Socket PACK framing and a little-endian prefix round-trip between two libsock ends. */
    static void xFramingPresets() throws Exception {
        Framing[] framings = {
            Framing.hpPack(0x155, 1 << 20),
            Framing.lengthPrefixed(4).littleEndian().withMaxLength(100_000),
            Framing.lengthPrefixed(8),
            Framing.lengthPrefixed(2).withOffset(2).withAdjustment(-4),
            Framing.fixed(5),
        };
        for (Framing f : framings) {
            try (Listener l = Listener.listen("127.0.0.1:0", new ListenOptions().withFraming(f));
                    TcpConnection c = TcpConnection.connect("127.0.0.1:" + l.localPort(),
                            new ConnectOptions().withFraming(f).withTimeout(5000));
                    TcpConnection s = l.accept(5000)) {
                s.setTimeout(5000);
                byte[] m = f.toString().startsWith("Framing.fixed") ? utf8("12345") : utf8("payload " + f);
                c.sendMsg(m);
                check(Arrays.equals(m, s.recvMsg()), "round trip with " + f);
            }
        }
    }

    /** IPv6 loopback with a bare host literal and with brackets (skipped without IPv6). */
    static void xIpv6() throws Exception {
        Listener l;
        try {
            l = Listener.listen("[::1]:0");
        } catch (AddressException e) {
            System.out.println("NOTE xIpv6: no IPv6 loopback here (" + e.getMessage() + ")");
            return;
        }
        try (Listener listener = l;
                TcpConnection a = TcpConnection.connect("::1", listener.localPort(), 5000);
                TcpConnection b = TcpConnection.connect("[::1]:" + listener.localPort());
                TcpConnection s1 = listener.accept(5000);
                TcpConnection s2 = listener.accept(5000)) {
            eq("[::1]:" + listener.localPort(), a.peerAddress(), "peer address text");
            a.sendAll(utf8("six"));
            b.sendAll(utf8("six"));
            eq("six", str(s1.recvExact(3, 5000)), "first");
            eq("six", str(s2.recvExact(3, 5000)), "second");
        }
    }

    /** recvMsgs returns a burst of messages in one call (no local-reference overflow). */
    static void xRecvMsgsBatch() throws Exception {
        try (Listener l = Listener.listen("127.0.0.1:0", new ListenOptions().withFraming(Framing.lines()));
                TcpConnection c = TcpConnection.connect("127.0.0.1:" + l.localPort());
                TcpConnection s = l.accept(5000)) {
            StringBuilder burst = new StringBuilder();
            for (int i = 0; i < 500; i++) {
                burst.append("m").append(i).append('\n');
            }
            c.sendAll(utf8(burst.toString()));
            int next = 0;
            while (next < 500) {
                byte[][] got = s.recvMsgs(1000, 5000);
                check(got.length >= 1, "at least one message");
                for (byte[] m : got) {
                    eq("m" + next, str(m), "message " + next);
                    next++;
                }
            }
            // Room for no message is core's InvalidArgument (a loop around it would spin).
            InvalidArgumentException none = expect(InvalidArgumentException.class,
                    () -> s.recvMsgs(0, 0));
            check(none.getMessage().contains("at least one"), none.getMessage());
        }
    }

    /** Files: sendFile / recvFile. */
    static void xFiles() throws Exception {
        java.io.File src = java.io.File.createTempFile("libsock-java", ".bin");
        java.io.File dst = java.io.File.createTempFile("libsock-java", ".out");
        try {
            byte[] data = random(new Random(11), 300_000);
            java.nio.file.Files.write(src.toPath(), data);
            try (Listener l = Listener.listen("127.0.0.1:0");
                    TcpConnection c = TcpConnection.connect("127.0.0.1:" + l.localPort());
                    TcpConnection s = l.accept(5000)) {
                Peer p = new Peer("sendfile", () -> eq(300_000L, c.sendFile(src.getPath()), "sent"));
                eq(300_000L, s.recvFile(dst.getPath(), 300_000), "received");
                p.join();
            }
            check(Arrays.equals(data, java.nio.file.Files.readAllBytes(dst.toPath())), "file intact");
        } finally {
            src.delete();
            dst.delete();
        }
    }

    /** A connection dropped without close() is closed by the safety net once collected. */
    static void xUnclosedIsCleanedUp() throws Exception {
        try (Listener l = Listener.listen("127.0.0.1:0")) {
            leak(l.localPort());
            try (TcpConnection s = l.accept(5000)) {
                long deadline = System.currentTimeMillis() + 20_000;
                while (true) {
                    System.gc();
                    try {
                        byte[] b = s.recv(10, 100);
                        eq(0, b.length, "end of stream once the leaked connection is collected");
                        break;
                    } catch (SocketTimeoutException e) {
                        check(System.currentTimeMillis() < deadline, "leaked connection never closed");
                    }
                }
            }
        }
    }

    /**
     * Millisecond timeouts cross JNI with the C door's convention: -2 the object's default
     * (Libsock.TIMEOUT_DEFAULT), -1 forever, 0 poll, N ms; anything else is refused.
     */
    static void xTimeoutConventionIsCs() throws Exception {
        eq(-2, Libsock.TIMEOUT_DEFAULT, "LS_TIMEOUT_DEFAULT");
        eq(-1, Libsock.TIMEOUT_FOREVER, "LS_TIMEOUT_FOREVER");
        eq(0, Libsock.TIMEOUT_POLL, "LS_TIMEOUT_POLL");
        eq(Libsock.TIMEOUT_DEFAULT, Native.DEFAULT, "the value the no-timeout overloads pass");
        try (Listener l = Listener.listen("127.0.0.1:0");
                TcpConnection c = TcpConnection.connect("127.0.0.1", l.localPort(), 5000);
                TcpConnection a = l.accept(Libsock.TIMEOUT_DEFAULT)) {
            c.setTimeout(100);
            long t0 = System.nanoTime();
            expect(TimeoutException.class, () -> c.recv(16, Libsock.TIMEOUT_DEFAULT));
            long ms = (System.nanoTime() - t0) / 1_000_000;
            check(ms >= 80 && ms < 5000, "-2 waited the default 100 ms: " + ms);
            expect(TimeoutException.class, () -> c.recv(16, Libsock.TIMEOUT_POLL));
            for (int bad : new int[] {-3, Integer.MIN_VALUE}) {
                InvalidArgumentException e = expect(InvalidArgumentException.class,
                        () -> c.recv(16, bad));
                check(e.getMessage().contains("timeout_ms is " + bad), e.getMessage());
            }
            // A setting has no default to refer to: -2 is refused there, as by ls_set_timeout.
            expect(InvalidArgumentException.class, () -> c.setTimeout(-2));
            a.sendAll(utf8("x"));
            eq("x", str(c.recv(16, Libsock.TIMEOUT_FOREVER)), "-1 waits");
        }
        try (Listener l = Listener.listen("127.0.0.1:0")) {
            expect(TimeoutException.class, () -> l.accept(Libsock.TIMEOUT_POLL));
        }
    }

    private static void leak(int port) throws IOException {
        TcpConnection c = TcpConnection.connect("127.0.0.1", port);
        c.sendAll(new byte[0]);
    }

    // ------------------------------------------------------------------ runner

    /**
     * Runs every test method ({@code s..} and {@code x..}, or those named on the command line)
     * and prints {@code java: N passed, N failed}.
     *
     * @param args optional test-name filters (substrings)
     * @throws Exception never on a test failure; failures are counted
     */
    public static void main(String[] args) throws Exception {
        List<Method> tests = new ArrayList<>();
        for (Class<?> c : new Class<?>[] {LibsockTest.class, EngineTest.class, TlsTest.class,
                BadInputsTest.class, Issue16Test.class}) {
            for (Method m : c.getDeclaredMethods()) {
                String n = m.getName();
                if (Modifier.isStatic(m.getModifiers()) && m.getParameterCount() == 0
                        && (n.matches("s\\d\\d.*") || n.matches("x[A-Z].*"))) {
                    m.setAccessible(true);
                    tests.add(m);
                }
            }
        }
        tests.sort(Comparator.comparing(Method::getName));
        int passed = 0;
        int failed = 0;
        for (Method m : tests) {
            if (args.length > 0 && Arrays.stream(args).noneMatch(a -> m.getName().contains(a))) {
                continue;
            }
            long t0 = System.nanoTime();
            AtomicReference<Throwable> error = new AtomicReference<>();
            Thread t = new Thread(() -> {
                try {
                    m.invoke(null);
                } catch (InvocationTargetException e) {
                    error.set(e.getCause());
                } catch (Throwable e) {
                    error.set(e);
                }
            }, m.getName());
            t.setDaemon(true);
            t.start();
            t.join(TEST_TIMEOUT_MS);
            long ms = (System.nanoTime() - t0) / 1_000_000;
            if (t.isAlive()) {
                failed++;
                System.out.printf("FAIL %s: still running after %d ms%n", m.getName(), ms);
                for (StackTraceElement e : t.getStackTrace()) {
                    System.out.println("\tat " + e);
                }
            } else if (error.get() != null) {
                failed++;
                System.out.printf("FAIL %s: %s%n", m.getName(), error.get());
                error.get().printStackTrace(System.out);
            } else {
                passed++;
                System.out.printf("PASS %s (%d ms)%n", m.getName(), ms);
            }
        }
        System.out.printf("java: %d passed, %d failed%n", passed, failed);
        System.exit(failed == 0 && passed > 0 ? 0 : 1);
    }
}
