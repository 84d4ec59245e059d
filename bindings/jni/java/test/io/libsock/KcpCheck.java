package io.libsock;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * S23: KCP echo of {@code n} messages both ways against the reference implementation (ikcp.c,
 * the PyPI package {@code kcp}, driven by python-tests/peers/kcp_ref.py in a child process):
 * libsock's {@link KcpSession} against the reference server, and the reference client against
 * libsock's {@link KcpServer}. Every message intact, once, in order. Run from the suite without
 * loss ({@code Issue16Test.s23KcpAgainstTheReference}) and by .ci/suites/50-java.sh as
 * {@code main(n, loss)} inside a network namespace whose loopback drops {@code loss} % of the
 * UDP packets (nftables), where retransmissions must also have happened.
 */
public final class KcpCheck {
    private KcpCheck() {}

    static final long CONV = 0x11223344L;

    /** Message {@code i}: 1 to 3,000 bytes, as kcp_ref.py's {@code msg(i)}. */
    static byte[] msg(int i) {
        int n = (i * 37) % 3000 + 1;
        int base = (i * 7) % 256;
        byte[] b = new byte[n];
        for (int j = 0; j < n; j++) {
            b[j] = (byte) ((base + j) % 256);
        }
        return b;
    }

    /** The Python side: the reference server (prints its port, then a verdict when stdin closes) or client. */
    static final String PEER = String.join("\n",
            "import json, sys",
            "sys.path.insert(0, sys.argv[1])",
            "from kcp_ref import RefServer, run_ref_client, msg",
            "if sys.argv[2] == 'server':",
            "    conv, n = int(sys.argv[3]), int(sys.argv[4])",
            "    with RefServer() as ref:",
            "        print(ref.address[1], flush=True)",
            "        sys.stdin.read()",
            "        got = ref.received.get(conv, [])",
            "        print(json.dumps({'got': len(got), 'exact': got == [msg(i) for i in range(n)]}), flush=True)",
            "else:",
            "    r = run_ref_client(('127.0.0.1', int(sys.argv[3])), int(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6]))",
            "    print(json.dumps(r), flush=True)");

    static File peersDir() {
        File d = new File(System.getProperty("user.dir"), "python-tests/peers");
        if (!new File(d, "kcp_ref.py").isFile()) {
            throw new AssertionError("python-tests/peers/kcp_ref.py not found from "
                    + System.getProperty("user.dir") + " (run from the repository's root)");
        }
        return d;
    }

    static Process python(String... args) throws IOException {
        List<String> cmd = new ArrayList<>(Arrays.asList("python3", "-c", PEER,
                peersDir().getPath()));
        cmd.addAll(Arrays.asList(args));
        return new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    }

    /** Reads one line of {@code p}'s output within {@code millis}, or fails. */
    static String line(Process p, BufferedReader r, long millis) throws Exception {
        AtomicReference<Object> got = new AtomicReference<>();
        Thread t = new Thread(() -> {
            try {
                got.set(r.readLine());
            } catch (IOException e) {
                got.set(e);
            }
        }, "peer-reader");
        t.setDaemon(true);
        t.start();
        t.join(millis);
        if (t.isAlive()) {
            p.destroyForcibly();
            throw new AssertionError("the Python peer said nothing in " + millis + " ms");
        }
        Object o = got.get();
        if (!(o instanceof String)) {
            throw new AssertionError("the Python peer ended without an answer: " + o);
        }
        return (String) o;
    }

    static void finish(Process p) throws InterruptedException {
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
            throw new AssertionError("the Python peer did not exit");
        }
    }

    /** Both directions; throws AssertionError on any difference. Returns a summary. */
    static String run(int n, int loss) throws Exception {
        int wait = 240_000;
        // 1. libsock's session -> the reference server.
        long retransmitsSession;
        Process srv = python("server", Long.toString(CONV), Integer.toString(n));
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(srv.getInputStream(),
                    StandardCharsets.UTF_8));
            int port = Integer.parseInt(line(srv, out, 30_000).trim());
            try (KcpSession s = KcpSession.connect("127.0.0.1:" + port, new KcpOptions(), CONV)) {
                s.setTimeout(wait);
                LibsockTest.eq(CONV, s.conv(), "conv");
                for (int i = 0; i < n; i++) {
                    s.send(msg(i));
                }
                for (int i = 0; i < n; i++) {
                    byte[] m = s.recv();
                    if (!Arrays.equals(msg(i), m)) {
                        throw new AssertionError("echo " + i + " differs (" + m.length + " bytes)");
                    }
                }
                LibsockTest.expect(TimeoutException.class, () -> s.recv(200));   // nothing twice
                s.flush();
                KcpStats st = s.stats();
                LibsockTest.eq((long) n, st.messagesOut, "session messages out");
                LibsockTest.eq((long) n, st.messagesIn, "session messages in");
                LibsockTest.eq(0L, st.waiting, "unacknowledged segments after flush");
                retransmitsSession = st.retransmits;
            }
            OutputStream in = srv.getOutputStream();
            in.close();
            String verdict = line(srv, out, 30_000);
            LibsockTest.check(verdict.contains("\"got\": " + n) && verdict.contains("\"exact\": true"),
                    "the reference server got every message once, in order: " + verdict);
            finish(srv);
        } finally {
            srv.destroyForcibly();
        }
        // 2. The reference client -> libsock's KcpServer (echoing in a thread).
        long retransmitsServer;
        try (KcpServer server = KcpServer.bind("127.0.0.1:0")) {
            List<byte[]> got = new ArrayList<>();
            AtomicReference<Throwable> echoError = new AtomicReference<>();
            Thread echo = new Thread(() -> {
                try {
                    while (true) {
                        for (Event e : server.events(64, 500)) {
                            if (e.kind() == EventKind.MESSAGE) {
                                synchronized (got) {
                                    got.add(e.data());
                                }
                                server.send(e.client(), e.data());
                            } else if (e.kind() == EventKind.CLOSED) {
                                return;
                            }
                        }
                    }
                } catch (ClosedException | BadHandleException done) {
                    // shut down
                } catch (Throwable t) {
                    echoError.set(t);
                }
            }, "kcp-echo");
            echo.setDaemon(true);
            echo.start();
            Process cl = python("client", Integer.toString(server.localPort()),
                    Long.toString(CONV + 1), Integer.toString(n), Integer.toString(wait / 1000));
            String r;
            try {
                BufferedReader out = new BufferedReader(new InputStreamReader(cl.getInputStream(),
                        StandardCharsets.UTF_8));
                r = line(cl, out, wait + 30_000);
                finish(cl);
            } finally {
                cl.destroyForcibly();
            }
            LibsockTest.check(r.contains("\"received\": " + n) && r.contains("\"first_bad\": null")
                    && r.contains("\"extra\": false"), "the reference client's echoes: " + r);
            retransmitsServer = server.kcpStats().retransmits;
            server.shutdown(0);
            echo.join(30_000);
            LibsockTest.check(!echo.isAlive(), "the echo thread ended");
            if (echoError.get() != null) {
                throw new AssertionError("echo failed: " + echoError.get(), echoError.get());
            }
            synchronized (got) {
                LibsockTest.eq(n, got.size(), "messages the server got");
                for (int i = 0; i < n; i++) {
                    if (!Arrays.equals(msg(i), got.get(i))) {
                        throw new AssertionError("server message " + i + " differs");
                    }
                }
            }
        }
        if (loss > 0) {
            LibsockTest.check(retransmitsSession > 0 && retransmitsServer > 0,
                    "the loss was felt: retransmits " + retransmitsSession + "/" + retransmitsServer);
        }
        return "S23 KCP " + n + " messages at " + loss + " % loss: ok (retransmits session "
                + retransmitsSession + ", server " + retransmitsServer + ")";
    }

    /**
     * {@code KcpCheck N LOSS}: prints {@code KcpCheck: ok ...} and exits 0, or prints the failure
     * and exits 1; a watchdog ends the JVM with 2 after 540 s.
     *
     * @param args N and LOSS
     */
    public static void main(String[] args) {
        Thread dog = new Thread(() -> {
            try {
                Thread.sleep(540_000);
                System.out.println("KcpCheck: still running after 540 s");
                System.exit(2);
            } catch (InterruptedException e) {
                // done
            }
        }, "watchdog");
        dog.setDaemon(true);
        dog.start();
        try {
            System.out.println("KcpCheck: " + run(Integer.parseInt(args[0]), Integer.parseInt(args[1])));
            System.exit(0);
        } catch (Throwable t) {
            System.out.println("KcpCheck: FAIL " + t);
            t.printStackTrace(System.out);
            System.exit(1);
        }
    }
}
