package io.libsock;

import static io.libsock.LibsockTest.check;
import static io.libsock.LibsockTest.eq;
import static io.libsock.LibsockTest.expect;
import static io.libsock.LibsockTest.str;
import static io.libsock.LibsockTest.utf8;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The engine part of the Java door's suite: scenarios S13-S17 of docs/SCENARIOS.md against
 * {@link Server}, {@link Client} and {@link DatagramServer} (methods {@code s13...} to
 * {@code s17...}, run by {@link LibsockTest#main}) plus bad-input checks ({@code x...}). Peers
 * are JDK {@code java.net} sockets speaking the 4-byte big-endian length prefix by hand, or
 * io.libsock clients. Every wait is bounded.
 */
final class EngineTest {
    private EngineTest() {}

    /** Upper bound of any single wait for an event. */
    static final int WAIT_MS = 10_000;

    // ------------------------------------------------------------------ helpers

    static Socket jdkClient(int port) throws IOException {
        Socket s = new Socket(InetAddress.getByName("127.0.0.1"), port);
        s.setSoTimeout(WAIT_MS);
        s.setTcpNoDelay(true);
        return s;
    }

    static void writeFrame(DataOutputStream out, byte[] b) throws IOException {
        out.writeInt(b.length);
        out.write(b);
    }

    static byte[] readFrame(DataInputStream in) throws IOException {
        int n = in.readInt();
        check(n >= 0 && n < (1 << 24), "sane frame length " + n);
        byte[] b = new byte[n];
        in.readFully(b);
        return b;
    }

    /** Pulls until an event of {@code kind} arrives (others are collected into {@code seen}). */
    static Event waitFor(EngineObject o, EventKind kind, List<Event> seen) throws IOException {
        long deadline = System.currentTimeMillis() + WAIT_MS;
        while (System.currentTimeMillis() < deadline) {
            for (Event e : o.events(64, 200)) {
                if (e.kind() == kind) {
                    return e;
                }
                if (seen != null) {
                    seen.add(e);
                }
            }
        }
        throw new AssertionError("no " + kind + " event within " + WAIT_MS + " ms");
    }

    static Event waitFor(EngineObject o, EventKind kind) throws IOException {
        return waitFor(o, kind, null);
    }

    /** Pulls MESSAGE events until {@code n} arrived; returns their texts in order. */
    static List<String> messages(EngineObject o, int n) throws IOException {
        List<String> got = new ArrayList<>();
        long deadline = System.currentTimeMillis() + WAIT_MS;
        while (got.size() < n && System.currentTimeMillis() < deadline) {
            for (Event e : o.events(64, 200)) {
                if (e.kind() == EventKind.MESSAGE) {
                    got.add(e.text());
                }
            }
        }
        return got;
    }

    /** A server event loop on its own thread that echoes every message until stopped. */
    static final class EchoLoop {
        final AtomicBoolean stop = new AtomicBoolean();
        final AtomicReference<Throwable> error = new AtomicReference<>();
        final Thread thread;
        volatile int connected;
        volatile int echoed;

        EchoLoop(Server server) {
            thread = new Thread(() -> {
                try {
                    while (!stop.get()) {
                        for (Event e : server.events(256, 100)) {
                            if (e.kind() == EventKind.MESSAGE) {
                                server.send(e.client(), e.data());
                                echoed++;
                            } else if (e.kind() == EventKind.CONNECTED) {
                                connected++;
                            }
                        }
                    }
                } catch (Throwable t) {
                    error.set(t);
                }
            }, "echo-loop");
            thread.setDaemon(true);
            thread.start();
        }

        void stop() throws Exception {
            stop.set(true);
            thread.join(WAIT_MS);
            check(!thread.isAlive(), "echo loop stopped");
            if (error.get() != null) {
                throw new AssertionError("echo loop failed: " + error.get(), error.get());
            }
        }
    }

    // ------------------------------------------------------------------ scenarios

    /** S13: 50 clients each send 100 framed messages; a Java-driven server echoes them. */
    static void s13EngineEcho50x100() throws Exception {
        final int clients = 50;
        final int msgs = 100;
        try (Server server = Server.listen("127.0.0.1:0")) {
            EchoLoop loop = new EchoLoop(server);
            int port = server.localPort();
            List<LibsockTest.Peer> peers = new ArrayList<>();
            for (int c = 0; c < clients; c++) {
                final int id = c;
                peers.add(new LibsockTest.Peer("s13-client-" + c, () -> {
                    try (Socket s = jdkClient(port)) {
                        DataOutputStream out = new DataOutputStream(s.getOutputStream());
                        DataInputStream in = new DataInputStream(s.getInputStream());
                        for (int i = 0; i < msgs; i++) {
                            writeFrame(out, utf8("client " + id + " message " + i));
                        }
                        out.flush();
                        for (int i = 0; i < msgs; i++) {
                            eq("client " + id + " message " + i, str(readFrame(in)),
                                    "echo in order");
                        }
                    }
                }));
            }
            for (LibsockTest.Peer p : peers) {
                p.join();
            }
            loop.stop();
            eq(clients * msgs, loop.echoed, "messages echoed");
            Stats st = server.stats();
            eq((long) clients, st.connectionsTotal, "connections total");
            eq((long) clients * msgs, st.messagesIn, "messages in");
            server.shutdown(1000);
        }
    }

    /** S14: a broadcast reaches each of 50 clients exactly once. */
    static void s14EngineBroadcast50() throws Exception {
        final int clients = 50;
        try (Server server = Server.listen("127.0.0.1:0")) {
            int port = server.localPort();
            List<Socket> socks = new ArrayList<>();
            try {
                for (int c = 0; c < clients; c++) {
                    socks.add(jdkClient(port));
                }
                int connected = 0;
                long deadline = System.currentTimeMillis() + WAIT_MS;
                while (connected < clients && System.currentTimeMillis() < deadline) {
                    for (Event e : server.events(64, 200)) {
                        if (e.kind() == EventKind.CONNECTED) {
                            connected++;
                            check(e.peer() != null && e.peer().startsWith("127.0.0.1:"),
                                    "peer address " + e.peer());
                        }
                    }
                }
                eq(clients, connected, "connected");
                long[] ids = server.clients();
                eq(clients, ids.length, "clients()");
                check(server.clientAddress(ids[0]).startsWith("127.0.0.1:"), "clientAddress");
                eq(clients, server.broadcast(utf8("news")), "broadcast count");
                // A second broadcast marks the end: each client must read "news" then "end",
                // so a duplicate "news" would show up in place of "end".
                eq(clients - 1, server.broadcast(utf8("end"), ids[0]), "broadcast except one");
                eq(1, server.sendMany(new long[] {ids[0], 999_999}, utf8("end")), "sendMany");
                for (Socket s : socks) {
                    DataInputStream in = new DataInputStream(s.getInputStream());
                    eq("news", str(readFrame(in)), "broadcast received");
                    eq("end", str(readFrame(in)), "received exactly once");
                }
            } finally {
                for (Socket s : socks) {
                    s.close();
                }
            }
        }
    }

    /** S15: the client reconnects after a server restart; messages queued meanwhile arrive. */
    static void s15EngineClientReconnect() throws Exception {
        ServerOptions so = new ServerOptions().withOption(SockOpt.REUSE_ADDRESS, 1);
        Server first = Server.listen("127.0.0.1:0", so);
        int port = first.localPort();
        String ep = "127.0.0.1:" + port;
        try (Client client = Client.connect(ep, new ClientOptions().withReconnect(50, 300))) {
            Event c1 = waitFor(client, EventKind.CONNECTED);
            eq(1L, c1.client(), "first connection number");
            check(client.isConnected(), "isConnected");
            eq(ep, client.peerAddress(), "peer address");
            for (int i = 0; i < 3; i++) {
                client.send(utf8("before " + i));
            }
            eq(Arrays.asList("before 0", "before 1", "before 2"), messages(first, 3),
                    "before restart");
            first.shutdown(0);
            first.close();
            Event d = waitFor(client, EventKind.DISCONNECTED);
            eq(1L, d.client(), "disconnected connection");
            check(!client.isConnected(), "not connected while the server is down");
            List<String> expected = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                client.send(utf8("queued " + i));
                expected.add("queued " + i);
            }
            List<Event> seen = new ArrayList<>();
            Event r = waitFor(client, EventKind.RECONNECTING, seen);
            check(r.attempt() >= 1 && r.delayMillis() >= 0, "reconnecting " + r);
            Server second = null;
            long deadline = System.currentTimeMillis() + WAIT_MS;
            while (second == null) {
                try {
                    second = Server.listen(ep, so);
                } catch (AddressException e) {
                    if (System.currentTimeMillis() > deadline) {
                        throw e;
                    }
                    Thread.sleep(50);
                }
            }
            try (Server s2 = second) {
                Event c2 = waitFor(client, EventKind.CONNECTED);
                check(c2.client() >= 2, "a new connection number: " + c2.client());
                eq(expected, messages(s2, 10), "queued messages once, in order");
                // Nothing more arrives (no duplicates).
                client.send(utf8("last"));
                eq(Arrays.asList("last"), messages(s2, 1), "no duplicate before the last");
                check(client.stats().connectionsTotal >= 2, "stats count connections");
                client.close(1000);
                s2.shutdown(0);
            }
        }
    }

    /** S16: a peer that stops answering is declared dead with HEARTBEAT_LOST. */
    static void s16EngineHeartbeatLost() throws Exception {
        final int interval = 300;
        final int misses = 3;
        ServerOptions o = new ServerOptions().withHeartbeat(interval, misses);
        try (Server server = Server.listen("127.0.0.1:0", o);
                Client alive = Client.connect(server.localAddress(), new ClientOptions())) {
            // The io.libsock client answers pings; the JDK socket never reads nor writes.
            waitFor(alive, EventKind.CONNECTED);
            Event a = waitFor(server, EventKind.CONNECTED);
            try (Socket silent = jdkClient(server.localPort())) {
                List<Event> seen = new ArrayList<>();
                Event b = waitFor(server, EventKind.CONNECTED, seen);
                long t0 = System.nanoTime();
                Event d = waitFor(server, EventKind.DISCONNECTED, seen);
                long ms = (System.nanoTime() - t0) / 1_000_000;
                eq(b.client(), d.client(), "the silent peer is the one declared dead");
                eq(DisconnectReason.HEARTBEAT_LOST, d.reason(), "reason");
                eq(4, d.reason().code(), "reason code");
                check(d.reasonText() != null && !d.reasonText().isEmpty(), "reason text");
                check(ms < interval * misses + 5000, "declared dead in time: " + ms + " ms");
                check(silent.isConnected(), "the silent socket was open");
            }
            // The answering client is still connected after several intervals.
            eq(a.client(), server.clients()[0], "answering client still connected");
            check(alive.isConnected(), "client side still connected");
        }
    }

    /** Pulls from {@code o} on a thread until it throws: the kinds taken and what it threw. */
    static final class Waiter {
        final List<EventKind> kinds = new ArrayList<>();
        final AtomicReference<Throwable> thrown = new AtomicReference<>();
        final Thread thread;
        volatile long returnedAt;

        Waiter(EngineObject o) {
            thread = new Thread(() -> {
                try {
                    while (true) {
                        for (Event e : o.events(16, Libsock.TIMEOUT_FOREVER)) {
                            kinds.add(e.kind());
                        }
                    }
                } catch (Throwable e) {
                    returnedAt = System.nanoTime();
                    thrown.set(e);
                }
            }, "s17-waiter");
            thread.setDaemon(true);
            thread.start();
        }

        /** Waits for the thread; returns how long after {@code t0} it returned, in ms. */
        long join(long t0) throws InterruptedException {
            thread.join(5000);
            check(!thread.isAlive(), "the blocked events() returned");
            return (returnedAt - t0) / 1_000_000;
        }
    }

    /**
     * S17 (engine), as in the C door: {@code close()} from another thread makes a blocked
     * events() throw ClosedException promptly (the handle is gone, like ls_next_event's
     * LS_ERR_CLOSED after ls_close); {@code shutdown()} wakes it with the final CLOSED event,
     * and the pull after it throws ClosedException (core's pull API).
     */
    static void s17EngineCloseWakesEvents() throws Exception {
        // close() of a server, a client (retrying: nobody listens) and a datagram server.
        for (int i = 0; i < 3; i++) {
            EngineObject o = i == 0 ? Server.listen("127.0.0.1:0")
                    : i == 1 ? Client.connect("127.0.0.1:1",
                            new ClientOptions().withReconnect(1000, 1000))
                    : DatagramServer.bind("127.0.0.1:0");
            Waiter w = new Waiter(o);
            Thread.sleep(200);
            long t0 = System.nanoTime();
            o.close();
            long ms = w.join(t0);
            check(ms < 1000, "woke promptly: " + ms + " ms");
            Throwable e = w.thrown.get();
            check(e instanceof ClosedException && !(e instanceof BadHandleException),
                    o + ": close() gives ClosedException, got " + e);
            check(!w.kinds.contains(EventKind.CLOSED), "no CLOSED event after close(): "
                    + w.kinds);
            expect(BadHandleException.class, () -> o.events(1, 0));
        }
        // shutdown() of a server, close(grace) of a client: CLOSED, then ClosedException.
        Server server = Server.listen("127.0.0.1:0");
        Client client = Client.connect("127.0.0.1:1", new ClientOptions().withReconnect(1000,
                1000));
        List<Waiter> waiters = new ArrayList<>();
        for (EngineObject o : new EngineObject[] {server, client}) {
            waiters.add(new Waiter(o));
        }
        Thread.sleep(200);
        long t0 = System.nanoTime();
        server.shutdown(0);
        client.shutdown(0);
        for (Waiter w : waiters) {
            long ms = w.join(t0);
            check(ms < 2000, "woke promptly: " + ms + " ms");
            Throwable e = w.thrown.get();
            check(e instanceof ClosedException && !(e instanceof BadHandleException),
                    "after CLOSED: ClosedException, got " + e);
            eq(EventKind.CLOSED, w.kinds.get(w.kinds.size() - 1), "the last event");
        }
        expect(ClosedException.class, () -> client.events(1, 1000));
        server.close();
        client.close();
        expect(BadHandleException.class, () -> server.events(1, 0));
    }

    /** Java's engine setting numbers are core's: core names each key in its range message. */
    static void xEngineSettingNumbersAreCores() throws Exception {
        for (ConfigKey k : ConfigKey.values()) {
            InvalidArgumentException e = expect(InvalidArgumentException.class,
                    () -> Native.engineSettingCheck(k.code(), Long.MIN_VALUE));
            check(e.getMessage().contains("engine setting " + k.name() + " is "),
                    k + " (" + k.code() + "): " + e.getMessage());
        }
        eq(18, ConfigKey.values().length, "as many keys as core");
        for (int bad : new int[] {0, 19, -1}) {
            InvalidArgumentException e = expect(InvalidArgumentException.class,
                    () -> Native.engineSettingCheck(bad, 0));
            check(e.getMessage().contains("does not exist"), e.getMessage());
        }
        // Pairs go to core as they are: an unknown key or a value out of range is refused.
        expect(InvalidArgumentException.class, () -> Native.serverBind("127.0.0.1:0",
                new int[] {99}, new long[] {1}, null, null, null, null, null, null, 0));
        expect(InvalidArgumentException.class, () -> Native.serverBind("127.0.0.1:0",
                new int[] {ConfigKey.SEND_POLICY.code()}, new long[] {2}, null, null, null, null,
                null, null, 0));
        expect(InvalidArgumentException.class, () -> Native.clientConnect("127.0.0.1:1",
                new int[] {1, 2}, new long[] {1}, null, null, null, null, null, null, 0, null));
        expect(NullPointerException.class, () -> Native.dgramServerBind("127.0.0.1:0",
                new int[] {ConfigKey.MAX_DATAGRAM.code()}, null, null, null));
        // And what they set is used: a server of at most one client refuses the second.
        try (Server s = Server.listen("127.0.0.1:0", new ServerOptions().withMaxClients(1))) {
            String a = "127.0.0.1:" + s.localPort();
            try (Socket one = new Socket("127.0.0.1", s.localPort());
                    Socket two = new Socket("127.0.0.1", s.localPort())) {
                check(one.isConnected() && two.isConnected(), "both connected");
                waitFor(s, EventKind.CONNECTED);
                long t0 = System.currentTimeMillis();
                while (s.stats().refused == 0 && System.currentTimeMillis() - t0 < WAIT_MS) {
                    Thread.sleep(10);
                }
                eq(1L, s.stats().refused, "the second client refused (" + a + ")");
            }
        }
    }

    // ------------------------------------------------------------------ API and bad input

    /** A datagram server gets DATAGRAM events and replies with sendTo. */
    static void xEngineDatagramServer() throws Exception {
        try (DatagramServer d = DatagramServer.bind("127.0.0.1:0");
                DatagramSocket s = new DatagramSocket(0, InetAddress.getByName("127.0.0.1"))) {
            s.setSoTimeout(WAIT_MS);
            String a = d.localAddress();
            int port = Integer.parseInt(a.substring(a.lastIndexOf(':') + 1));
            byte[] ping = utf8("ping");
            s.send(new DatagramPacket(ping, ping.length, InetAddress.getByName("127.0.0.1"),
                    port));
            Event e = d.nextEvent(WAIT_MS);
            check(e != null, "a datagram event");
            eq(EventKind.DATAGRAM, e.kind(), "kind");
            eq("ping", e.text(), "data");
            eq("127.0.0.1:" + s.getLocalPort(), e.peer(), "peer");
            eq(4, d.sendTo(utf8("pong"), e.peer()), "sent");
            DatagramPacket p = new DatagramPacket(new byte[16], 16);
            s.receive(p);
            eq("pong", new String(p.getData(), 0, p.getLength(), "UTF-8"), "reply");
            eq(1L, d.stats().messagesIn, "datagrams in");
            check(d.nextEvent(0) == null, "null on timeout");
        }
    }

    /**
     * A datagram server connected to one peer: send before connect is InvalidArgument; after
     * connect, send goes to the peer (which sees the server's address), the peer's replies come
     * back as DATAGRAM events naming it, a stranger's datagram is dropped, sendTo still reaches
     * anyone, connecting again moves to another peer, and a peer where nothing listens makes a
     * later send ConnectionRefused.
     */
    static void xEngineDatagramServerConnect() throws Exception {
        InetAddress lo = InetAddress.getByName("127.0.0.1");
        try (DatagramServer c = DatagramServer.bind("127.0.0.1:0");
                DatagramSocket peer = new DatagramSocket(0, lo);
                DatagramSocket stranger = new DatagramSocket(0, lo)) {
            peer.setSoTimeout(WAIT_MS);
            stranger.setSoTimeout(WAIT_MS);
            String ca = c.localAddress();
            int cport = Integer.parseInt(ca.substring(ca.lastIndexOf(':') + 1));
            InvalidArgumentException early =
                    expect(InvalidArgumentException.class, () -> c.send(utf8("early")));
            eq(ErrorKind.INVALID_ARGUMENT, early.kind(), "send before connect");
            check(early.getMessage().contains("not connected"),
                    "the message says why: " + early.getMessage());
            String pa = "127.0.0.1:" + peer.getLocalPort();
            eq(pa, c.connect(pa), "connected to");
            // Once connected the kernel drops another sender's datagram.
            byte[] stray = utf8("stranger");
            stranger.send(new DatagramPacket(stray, stray.length, lo, cport));
            DatagramPacket p = new DatagramPacket(new byte[64], 64);
            for (int i = 0; i < 5; i++) {
                byte[] req = utf8("request " + i);
                eq(req.length, c.send(req), "sent " + i);
                p.setLength(64);
                peer.receive(p);
                eq("request " + i, new String(p.getData(), 0, p.getLength(), "UTF-8"),
                        "the peer got request " + i);
                eq(cport, p.getPort(), "from the datagram server's port");
                eq(lo, p.getAddress(), "from the datagram server's address");
                byte[] rep = utf8("reply " + i);
                peer.send(new DatagramPacket(rep, rep.length, lo, cport));
                Event e = c.nextEvent(WAIT_MS);
                check(e != null, "reply event " + i);
                eq(EventKind.DATAGRAM, e.kind(), "kind " + i);
                eq("reply " + i, e.text(), "reply " + i);
                eq(pa, e.peer(), "the reply's sender " + i);
            }
            Event none = c.nextEvent(100);
            check(none == null, "the stranger's datagram came through: " + none);
            // sendTo still reaches anyone.
            String sa = "127.0.0.1:" + stranger.getLocalPort();
            eq(6, c.sendTo(utf8("direct"), sa), "sendTo while connected");
            p.setLength(64);
            stranger.receive(p);
            eq("direct", new String(p.getData(), 0, p.getLength(), "UTF-8"), "sendTo arrived");
            // Connecting again moves to the other peer: send reaches it, its reply comes in.
            eq(sa, c.connect(sa), "connected to the second peer");
            eq(5, c.send(utf8("moved")), "sent to the second peer");
            p.setLength(64);
            stranger.receive(p);
            eq("moved", new String(p.getData(), 0, p.getLength(), "UTF-8"), "second peer got it");
            eq(cport, p.getPort(), "from the datagram server");
            byte[] back = utf8("back");
            stranger.send(new DatagramPacket(back, back.length, lo, cport));
            Event e = c.nextEvent(WAIT_MS);
            check(e != null && e.kind() == EventKind.DATAGRAM, "the second peer's reply: " + e);
            eq("back", e.text(), "second peer's reply");
            eq(sa, e.peer(), "second peer's reply sender");
            // A peer where nothing listens: the ICMP error comes back on a later send.
            String gone;
            try (DatagramSocket g = new DatagramSocket(0, lo)) {
                gone = "127.0.0.1:" + g.getLocalPort();
            }
            eq(gone, c.connect(gone), "connected to a closed port");
            IOException refused = null;
            for (int i = 0; i < 50 && refused == null; i++) {
                try {
                    c.send(utf8("anyone?"));
                    Thread.sleep(10);
                } catch (IOException x) {
                    refused = x;
                }
            }
            check(refused instanceof ConnectionRefusedException,
                    "ConnectionRefused after the ICMP error, got " + refused);
            eq(ErrorKind.CONNECTION_REFUSED, ((LibsockError) refused).kind(), "kind");
        }
    }

    /** A client's bounded send queue gives QueueFullException while disconnected. */
    static void xEngineQueueFull() throws Exception {
        int port;
        try (ServerSocket ss = LibsockTest.jdkServer()) {
            port = ss.getLocalPort();
        }
        ClientOptions o = new ClientOptions().withReconnect(1000, 1000).withSendQueue(1000);
        try (Client c = Client.connect("127.0.0.1:" + port, o)) {
            c.send(new byte[600]);
            QueueFullException e = expect(QueueFullException.class, () -> c.send(new byte[600]));
            eq(ErrorKind.QUEUE_FULL, e.kind(), "kind");
            check(e instanceof IOException, "an IOException");
            c.send(new byte[100]);
        }
    }

    /** Kicking a client, unknown clients, stats, frame limits. */
    static void xEngineDisconnectAndErrors() throws Exception {
        ServerOptions o = new ServerOptions()
                .withFraming(Framing.lengthPrefixed().withMaxLength(64))
                .withMaxClients(1);
        try (Server server = Server.listen("127.0.0.1:0", o);
                Socket s = jdkClient(server.localPort())) {
            long id = waitFor(server, EventKind.CONNECTED).client();
            expect(FrameTooLargeException.class, () -> server.send(id, new byte[65]));
            expect(ClosedException.class, () -> server.send(id + 1000, utf8("x")));
            expect(ClosedException.class, () -> server.clientAddress(id + 1000));
            eq(0L, server.queuedBytes(id), "nothing queued");
            server.send(id, utf8("bye"));
            server.disconnect(id, true);
            DataInputStream in = new DataInputStream(s.getInputStream());
            eq("bye", str(readFrame(in)), "graceful disconnect delivers what was queued");
            eq(-1, in.read(), "then FIN");
            s.shutdownOutput();
            Event d = waitFor(server, EventKind.DISCONNECTED);
            eq(DisconnectReason.KICKED, d.reason(), "kicked");
            eq(0, server.clients().length, "no clients");
            try (Socket big = jdkClient(server.localPort())) {
                long id2 = waitFor(server, EventKind.CONNECTED).client();
                DataOutputStream out = new DataOutputStream(big.getOutputStream());
                writeFrame(out, new byte[100]);
                Event d2 = waitFor(server, EventKind.DISCONNECTED);
                eq(id2, d2.client(), "same client");
                eq(DisconnectReason.FRAME_TOO_LARGE, d2.reason(), "frame too large");
            }
        }
    }

    /** Pulls one event at a time (nothing else is taken) until one of {@code kind} arrives. */
    static Event nextOf(EngineObject o, EventKind kind) throws IOException {
        long deadline = System.currentTimeMillis() + WAIT_MS;
        while (System.currentTimeMillis() < deadline) {
            Event e = o.nextEvent(200);
            if (e != null && e.kind() == kind) {
                return e;
            }
        }
        throw new AssertionError("no " + kind + " event within " + WAIT_MS + " ms");
    }

    /** Waits until {@code o} has at least {@code n} events queued. */
    static void awaitPending(EngineObject o, int n) throws Exception {
        long deadline = System.currentTimeMillis() + WAIT_MS;
        while (o.pendingEvents() < n) {
            check(System.currentTimeMillis() < deadline, n + " events queued within " + WAIT_MS
                    + " ms, " + o.pendingEvents() + " are");
            Thread.sleep(5);
        }
    }

    /**
     * EngineObject.messages over loopback: a client's sendBatch reaches the server's messages()
     * whole, in order, with the client's id (bodies from empty to larger than one call's 64 KiB
     * buffer); max bounds a call; an event that is not a message stays queued for nextEvent
     * (the client's CONNECTED before its messages, the server's DISCONNECTED after the last);
     * timeouts and bad arguments as events().
     */
    static void xEngineMessages() throws Exception {
        final int n = 300;
        byte[][] batch = new byte[n][];
        for (int i = 0; i < n; i++) {
            batch[i] = i == 150 ? new byte[100_000] : utf8("message " + i + ".".repeat(i % 7));
        }
        batch[7] = new byte[0];
        Arrays.fill(batch[150], (byte) 'x');
        Server server = Server.listen("127.0.0.1:0");
        try (Client client = Client.connect("127.0.0.1:" + server.localPort())) {
            long id = nextOf(server, EventKind.CONNECTED).client();
            eq(0, server.messages(8, 0).size(), "nothing queued: an empty list at once");
            long t0 = System.nanoTime();
            eq(0, server.messages(8, 200).size(), "an empty list when the time ran out");
            long ms = (System.nanoTime() - t0) / 1_000_000;
            check(ms >= 190 && ms < 5000, "waited the timeout: " + ms + " ms");
            eq(n, client.sendBatch(batch, 5_000), "client batch");
            awaitPending(server, n);
            // max bounds a call; the first call of many takes more than one.
            List<Message> first = server.messages(3, 0);
            eq(3, first.size(), "max 3");
            List<Message> got = new ArrayList<>(first);
            int calls = 1;
            int most = 0;
            long deadline = System.currentTimeMillis() + WAIT_MS;
            while (got.size() < n && System.currentTimeMillis() < deadline) {
                List<Message> m = server.messages(1000, 200);
                most = Math.max(most, m.size());
                got.addAll(m);
                calls++;
            }
            eq(n, got.size(), "every message, in " + calls + " calls");
            check(most > 100, "a call takes many messages at once: at most " + most);
            for (int i = 0; i < n; i++) {
                Message m = got.get(i);
                eq(id, m.client(), "message " + i + "'s client id");
                check(Arrays.equals(batch[i], m.data()), "message " + i + " in order, intact ("
                        + m.data().length + " bytes, " + batch[i].length + " sent)");
            }
            eq("message 1.", got.get(1).text(), "text()");
            check(got.get(1).toString().contains("client " + id), got.get(1).toString());
            eq(0, server.pendingEvents(), "nothing left");

            // The client's CONNECTED is queued before the server's messages: messages() leaves
            // it for nextEvent, then takes the batch with the connection number as the id.
            byte[][] back = {utf8("a"), utf8("bb"), new byte[0], utf8("dddd")};
            eq(4, server.sendBatch(id, back, 5_000), "server batch");
            awaitPending(client, 1 + back.length);
            eq(0, client.messages(64, WAIT_MS).size(), "CONNECTED is next: no messages");
            eq(EventKind.CONNECTED, client.nextEvent(0).kind(), "CONNECTED stayed queued");
            List<Message> cm = client.messages(64, WAIT_MS);
            eq(back.length, cm.size(), "the client's messages");
            for (int i = 0; i < back.length; i++) {
                eq(1L, cm.get(i).client(), "the connection number");
                check(Arrays.equals(back[i], cm.get(i).data()), "client message " + i);
            }

            // Messages, then the client closes: messages() stops before DISCONNECTED.
            client.sendBatch(new byte[][] {utf8("last 1"), utf8("last 2")}, 5_000);
            client.close(2_000);
            awaitPending(server, 3);
            List<Message> last = server.messages(64, WAIT_MS);
            eq(2, last.size(), "the last messages");
            eq("last 2", last.get(1).text(), "in order");
            eq(0, server.messages(64, WAIT_MS).size(), "after the client closed: no messages");
            eq(0, server.messages(64, 0).size(), "still none");
            Event d = server.nextEvent(0);
            check(d != null && d.kind() == EventKind.DISCONNECTED, "DISCONNECTED stayed: " + d);
            eq(id, d.client(), "the client that left");

            // Bad arguments, as events() gives them.
            InvalidArgumentException none = expect(InvalidArgumentException.class,
                    () -> server.messages(0, 0));
            check(none.getMessage().contains("at least one"), "core's message: "
                    + none.getMessage());
            expect(InvalidArgumentException.class, () -> server.messages(-1, 0));
            expect(InvalidArgumentException.class, () -> server.messages(1, -5));

            // The end: CLOSED is not a message; after it, ClosedException; after close(),
            // BadHandleException.
            server.shutdown(0);
            eq(0, server.messages(64, WAIT_MS).size(), "CLOSED is next: no messages");
            eq(EventKind.CLOSED, server.nextEvent(0).kind(), "CLOSED stayed queued");
            expect(ClosedException.class, () -> server.messages(64, 0));
            server.close();
            expect(BadHandleException.class, () -> server.messages(64, 0));
        } finally {
            server.close();
        }
        // A datagram server's events carry senders: messages() refuses it.
        try (DatagramServer d = DatagramServer.bind("127.0.0.1:0")) {
            InvalidArgumentException e = expect(InvalidArgumentException.class,
                    () -> d.messages(8, 0));
            check(e.getMessage().contains("datagram server"), e.getMessage());
        }
        // close() from another thread wakes a blocked messages() with ClosedException.
        Server s = Server.listen("127.0.0.1:0");
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        Thread w = new Thread(() -> {
            try {
                s.messages(8, Libsock.TIMEOUT_FOREVER);
            } catch (Throwable t) {
                thrown.set(t);
            }
        }, "messages-waiter");
        w.setDaemon(true);
        w.start();
        Thread.sleep(200);
        s.close();
        w.join(5000);
        check(!w.isAlive(), "the blocked messages() returned");
        check(thrown.get() instanceof ClosedException
                && !(thrown.get() instanceof BadHandleException),
                "close() gives ClosedException, got " + thrown.get());
    }

    /** Bad input: closed handles, null data, malformed endpoints, bad options and arguments. */
    static void xEngineBadInput() throws Exception {
        expect(InvalidArgumentException.class, () -> Server.listen("not an endpoint"));
        expect(NullPointerException.class, () -> Server.listen(null));
        expect(NullPointerException.class, () -> Client.connect("127.0.0.1:1", null));
        // A value outside its setting's range is refused when set, with core's message (as
        // ls_engine_config_set gives it); -1 clients is "no limit" and a heartbeat of -1 "none",
        // as in every door.
        InvalidArgumentException range = expect(InvalidArgumentException.class,
                () -> new ServerOptions().withMaxClients(-2));
        check(range.getMessage().contains("engine setting MAX_CLIENTS is -2"), range.getMessage());
        expect(InvalidArgumentException.class, () -> new ServerOptions().withHeartbeat(-2, 3));
        expect(InvalidArgumentException.class, () -> new ClientOptions().withMaxAttempts(-1));
        expect(InvalidArgumentException.class, () -> DatagramServer.bind("127.0.0.1:0", -5, -1));
        new ServerOptions().withMaxClients(-1).withHeartbeat(-1, 3).withIdleTimeout(-1,
                IdleMode.READS);
        // What the values mean together is core's to check, when the object is made (same
        // message in every door): a heartbeat under 10 ms, a backoff minimum above its maximum.
        InvalidArgumentException hb = expect(InvalidArgumentException.class,
                () -> Server.listen("127.0.0.1:0", new ServerOptions().withHeartbeat(5, 3)));
        check(hb.getMessage().contains("below the floor"), hb.getMessage());
        InvalidArgumentException bo = expect(InvalidArgumentException.class,
                () -> Client.connect("127.0.0.1:1", new ClientOptions().withReconnect(500, 100)));
        check(bo.getMessage().contains("greater than the maximum"), bo.getMessage());
        expect(InvalidArgumentException.class, () -> Server.listen("127.0.0.1:0",
                new ServerOptions().withFraming(Framing.raw()).withHeartbeat(100, 3)));
        Server server = Server.listen("127.0.0.1:0");
        expect(NullPointerException.class, () -> server.send(1, null));
        expect(NullPointerException.class, () -> server.broadcast(null));
        expect(IndexOutOfBoundsException.class, () -> server.send(1, new byte[4], 2, 3));
        InvalidArgumentException none = expect(InvalidArgumentException.class,
                () -> server.events(0, 0));
        check(none.getMessage().contains("at least one"), "core's message: " + none.getMessage());
        expect(InvalidArgumentException.class, () -> server.events(1, -5));
        eq(0, server.events(8, 0).size(), "empty list on timeout");
        check(server.nextEvent(10) == null, "null on timeout");
        eq(0, server.pendingEvents(), "pendingEvents");
        eq(0, server.pending(), "pending (the former name)");
        check(server.toString().startsWith("Server(127.0.0.1:"), "toString");
        server.close();
        server.close();
        check(server.isClosed(), "isClosed");
        expect(BadHandleException.class, () -> server.send(1, utf8("x")));
        expect(BadHandleException.class, () -> server.events(1, 0));
        expect(BadHandleException.class, server::stats);
        expect(BadHandleException.class, server::clients);
        expect(BadHandleException.class, () -> server.shutdown(0));
        Client client = Client.connect("127.0.0.1:1");
        expect(NullPointerException.class, () -> client.send(null));
        client.shutdown(0);
        expect(ClosedException.class, () -> client.send(utf8("x")));
        client.close();
        expect(BadHandleException.class, () -> client.send(utf8("x")));
        expect(BadHandleException.class, client::isConnected);
    }

    /** Settings whose meaning core checks, refused when the object is made (as in every door). */
    static void xEngineSettingsCheckedByCore() throws Exception {
        InvalidArgumentException e = expect(InvalidArgumentException.class,
                () -> Server.listen("127.0.0.1:0", new ServerOptions().withMaxClients(0)));
        check(e.getMessage().contains("max_clients 0"), e.getMessage());
        e = expect(InvalidArgumentException.class, () -> Server.listen("127.0.0.1:0",
                new ServerOptions().withSendQueue(0, SendPolicy.ERROR)));
        check(e.getMessage().contains("send_queue_bytes 0"), e.getMessage());
        e = expect(InvalidArgumentException.class,
                () -> Server.listen("127.0.0.1:0", new ServerOptions().withEventCapacity(0)));
        check(e.getMessage().contains("event_capacity 0"), e.getMessage());
        e = expect(InvalidArgumentException.class,
                () -> Server.listen("127.0.0.1:0", new ServerOptions().withHeartbeat(9, 3)));
        check(e.getMessage().contains("below the floor"), e.getMessage());
        e = expect(InvalidArgumentException.class, () -> Server.listen("127.0.0.1:0",
                new ServerOptions().withHeartbeatPayloads(new byte[0], utf8("PONG"))));
        check(e.getMessage().contains("empty heartbeat"), e.getMessage());
        e = expect(InvalidArgumentException.class, () -> Client.connect("127.0.0.1:1",
                new ClientOptions().withConnectTimeout(0)));
        check(e.getMessage().contains("connect_timeout 0"), e.getMessage());
        e = expect(InvalidArgumentException.class, () -> Client.connect("127.0.0.1:1",
                new ClientOptions().withReconnect(5, 100)));
        check(e.getMessage().contains("below the floor"), e.getMessage());
        e = expect(InvalidArgumentException.class, () -> Client.connect("127.1:80"));
        check(e.getMessage().contains("not an IPv4 address"), e.getMessage());
        e = expect(InvalidArgumentException.class, () -> Server.listen("256.1.1.1:0"));
        check(e.getMessage().contains("not an IPv4 address"), e.getMessage());
        // The floors themselves are fine; max clients 1 and the default (no limit) too.
        try (Server s = Server.listen("127.0.0.1:0",
                new ServerOptions().withHeartbeat(10, 3).withMaxClients(1));
                Client c = Client.connect("127.0.0.1:1", new ClientOptions().withReconnect(10, 10))) {
            check(s.localPort() > 0 && !c.isClosed(), "made");
        }
    }

    /** A message larger than the whole send queue is FrameTooLargeException, even when empty. */
    static void xEngineFrameLargerThanSendQueue() throws Exception {
        ServerOptions o = new ServerOptions().withSendQueue(1024, SendPolicy.ERROR);
        try (Server server = Server.listen("127.0.0.1:0", o);
                Socket s = jdkClient(server.localPort())) {
            long id = waitFor(server, EventKind.CONNECTED).client();
            FrameTooLargeException e = expect(FrameTooLargeException.class,
                    () -> server.send(id, new byte[2000]));
            eq(ErrorKind.FRAME_TOO_LARGE, e.kind(), "kind");
            expect(FrameTooLargeException.class, () -> server.broadcast(new byte[2000]));
            server.send(id, new byte[100]);
            DataInputStream in = new DataInputStream(s.getInputStream());
            eq(100, readFrame(in).length, "what fits still goes, the refused one did not");
        }
        try (Client c = Client.connect("127.0.0.1:1",
                new ClientOptions().withReconnect(1000, 1000).withSendQueue(1024))) {
            expect(FrameTooLargeException.class, () -> c.send(new byte[2000]));
            c.send(new byte[100]);
        }
    }

    /**
     * A slow consumer: a client that never reads while the server sends until its queue is
     * full. Exactly one WARNING (QUEUE_FULL, that client), and stats count every refusal.
     */
    static void xEngineWarningForSlowConsumer() throws Exception {
        ServerOptions o = new ServerOptions().withSendQueue(65536, SendPolicy.ERROR)
                .withOption(SockOpt.SEND_BUFFER_SIZE, 8192);
        try (Server server = Server.listen("127.0.0.1:0", o)) {
            Socket s = new Socket();
            s.setReceiveBufferSize(4096);
            s.connect(new java.net.InetSocketAddress("127.0.0.1", server.localPort()), 5000);
            try {
                long id = waitFor(server, EventKind.CONNECTED).client();
                byte[] chunk = new byte[16384];
                // Fill the queue without a refusal: a message is sent only while it fits, and
                // once it would not, the queue is watched until the engine can move nothing
                // more into the kernel (a refusal, then room, would be two episodes).
                long frame = chunk.length + 4;
                for (int i = 0; i < 10_000; i++) {
                    long q = server.queuedBytes(id);
                    if (q + frame <= 65536) {
                        server.send(id, chunk);
                        continue;
                    }
                    Thread.sleep(150);
                    if (server.queuedBytes(id) == q) {
                        break;
                    }
                }
                expect(QueueFullException.class, () -> server.send(id, chunk));
                expect(QueueFullException.class, () -> server.send(id, chunk));
                eq(0, server.broadcast(chunk), "the broadcast skipped it");
                eq(3L, server.stats().sendQueueFull, "stats.sendQueueFull");
                eq(0L, server.stats().acceptErrors, "stats.acceptErrors");
                int warnings = 0;
                for (List<Event> evs = server.events(64, 300); !evs.isEmpty();
                        evs = server.events(64, 300)) {
                    for (Event e : evs) {
                        if (e.kind() != EventKind.WARNING) {
                            continue;
                        }
                        warnings++;
                        eq(id, e.client(), "the slow client");
                        eq(ErrorKind.QUEUE_FULL, e.errorKind(), "kind");
                        check(e.reasonText().contains("send queue is full"), e.reasonText());
                        check(e.toString().startsWith("Event.WARNING("), e.toString());
                    }
                }
                eq(1, warnings, "one warning per episode");
                eq(7, EventKind.WARNING.code(), "code");
                eq(EventKind.WARNING, EventKind.fromCode(7), "fromCode");
            } finally {
                s.close();
            }
        }
    }

    /** A Unix endpoint with line framing (delimited framing crosses the glue too). */
    static void xEngineUnixLines() throws Exception {
        java.io.File f = java.io.File.createTempFile("libsock-engine", ".sock");
        check(f.delete(), "temp file removed");
        String ep = "unix:" + f.getPath();
        try (Server server = Server.listen(ep, new ServerOptions().withFraming(Framing.lines()));
                Client client = Client.connect(ep,
                        new ClientOptions().withFraming(Framing.lines()).withoutReconnect())) {
            eq(ep, server.localAddress(), "local address");
            eq(0, server.localPort(), "no port");
            client.send(utf8("hello"));
            Event m = waitFor(server, EventKind.MESSAGE);
            eq("hello", m.text(), "line without its delimiter");
            server.send(m.client(), utf8("world"));
            eq(Arrays.asList("world"), messages(client, 1), "reply");
            expect(InvalidArgumentException.class, () -> Libsock.setEngineThreads(0));
        } finally {
            f.delete();
        }
    }

    /** Libsock.shutdownEngine() stops every engine object and wakes waiters; the engine restarts. */
    static void xEngineShutdownAll() throws Exception {
        try (DatagramServer d = DatagramServer.bind("127.0.0.1:0")) {
            ConcurrentHashMap<String, Object> out = new ConcurrentHashMap<>();
            Thread t = new Thread(() -> {
                try {
                    out.put("event", d.nextEvent(-1));
                } catch (Throwable e) {
                    out.put("event", e);
                }
            });
            t.setDaemon(true);
            t.start();
            Thread.sleep(200);
            Libsock.shutdownEngine();
            t.join(5000);
            check(!t.isAlive(), "woken by shutdownEngine");
            Object v = out.get("event");
            check(v instanceof Event && ((Event) v).kind() == EventKind.CLOSED
                    || v instanceof ClosedException, "woke with " + v);
            expect(ClosedException.class, () -> d.sendTo(utf8("x"), "127.0.0.1:9"));
        }
        try (Server s = Server.listen("127.0.0.1:0")) {
            check(s.localPort() > 0, "the engine starts again");
        }
    }
}
