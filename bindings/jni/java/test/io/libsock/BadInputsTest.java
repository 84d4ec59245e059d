package io.libsock;

import java.io.IOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The bad-input catalogue (tests-data/bad_inputs.json), Java door: every row that lists
 * {@code "java"} must end in its documented outcome (the exception's {@link ErrorKind}, or no
 * exception for {@code OK}) within {@link #ROW_DEADLINE_MS}. Each row runs on its own thread, so
 * a hung row is reported and the rest still run; a row marked {@code pending} (a defect being
 * fixed in core) is reported but does not fail the test. Run by {@link LibsockTest#main}.
 */
final class BadInputsTest {
    private BadInputsTest() {}

    static final long ROW_DEADLINE_MS = 30_000;
    static final String DOOR = "java";

    /** The table's rows that list this door. */
    @SuppressWarnings("unchecked")
    static List<Map<String, Object>> rows() throws IOException {
        String path = System.getenv("LS_BAD_INPUTS");
        if (path == null || path.isEmpty()) {
            path = "tests-data/bad_inputs.json";
        }
        String text = new String(Files.readAllBytes(Paths.get(path)), StandardCharsets.UTF_8);
        Map<String, Object> doc = (Map<String, Object>) new Json(text).value();
        List<Map<String, Object>> out = new ArrayList<>();
        for (Object r : (List<Object>) doc.get("rows")) {
            Map<String, Object> row = (Map<String, Object>) r;
            if (((List<Object>) row.get("doors")).contains(DOOR)) {
                out.add(row);
            }
        }
        return out;
    }

    static void xBadInputTable() throws Exception {
        int tried = 0;
        int clean = 0;
        int pending = 0;
        int wrong = 0;
        int hangs = 0;
        List<String> failures = new ArrayList<>();
        for (Map<String, Object> row : rows()) {
            tried++;
            String id = (String) row.get("id");
            AtomicReference<String> outcome = new AtomicReference<>();
            Thread t = new Thread(() -> outcome.set(run(row)), "row-" + id);
            t.setDaemon(true);
            t.start();
            t.join(ROW_DEADLINE_MS);
            String got = t.isAlive() ? "HANG" : outcome.get();
            List<String> want = expected(row);
            if (want.contains(got)) {
                clean++;
                continue;
            }
            if ("HANG".equals(got)) {
                hangs++;
            }
            boolean isPending = row.containsKey("pending");
            if (isPending && !"HANG".equals(got)) {
                pending++;
            } else if (!"HANG".equals(got)) {
                wrong++;
            }
            String line = id + ": " + got + ", expected " + String.join(" or ", want);
            System.out.println("  " + (isPending ? "pending " : "FAIL    ") + line);
            if (!isPending) {
                failures.add(line);
            }
        }
        System.out.printf("  bad-input table (java): %d rows tried, %d ended in their documented outcome, "
                + "%d pending (another kind, defect still open), %d wrong, 0 crashes, %d hangs%n",
                tried, clean, pending, wrong, hangs);
        LibsockTest.check(tried > 0, "rows for the java door");
        LibsockTest.check(failures.isEmpty(), failures.size() + " rows failed: " + failures);
    }

    @SuppressWarnings("unchecked")
    static List<String> expected(Map<String, Object> row) {
        Object e = row.get("expect");
        List<String> out = new ArrayList<>();
        if (e instanceof List) {
            for (Object o : (List<Object>) e) {
                out.add((String) o);
            }
        } else {
            out.add((String) e);
        }
        return out;
    }

    /** Runs one row: "OK", an ErrorKind name, or "JAVA:" and the class of another exception. */
    @SuppressWarnings("unchecked")
    static String run(Map<String, Object> row) {
        try {
            execute((String) row.get("op"), (Map<String, Object>) row.get("input"));
            return "OK";
        } catch (Throwable t) {
            if (t instanceof LibsockError) {
                ErrorKind k = ((LibsockError) t).kind();
                return k != null ? k.name() : "CODE" + ((LibsockError) t).code();
            }
            return "JAVA:" + t.getClass().getSimpleName() + " (" + t.getMessage() + ")";
        }
    }

    // ------------------------------------------------------------------ executors

    /** Thrown when a row needs something the Java door's executors do not do (a table error). */
    static final class NoExecutor extends RuntimeException {
        private static final long serialVersionUID = 1L;

        NoExecutor(String what) {
            super("no executor for " + what);
        }
    }

    @SuppressWarnings("unchecked")
    static void execute(String op, Map<String, Object> in) throws Exception {
        switch (op) {
            case "connect":
                TcpConnection.connect(text(in.get("address")), new ConnectOptions().withConnectTimeout(5000))
                        .close();
                return;
            case "listen":
                Listener.listen(text(in.get("address"))).close();
                return;
            case "engine_config":
                engine((String) in.get("object"), (Map<String, Object>) in.get("settings")).close();
                return;
            case "engine_send":
                engineSend((String) in.get("object"), (Map<String, Object>) in.get("settings"),
                        num(in, "size", 0).intValueExact());
                return;
            case "tls_config":
                tlsConfig(in);
                return;
            case "engine_events":
                try (Server s = Server.listen("127.0.0.1:0")) {
                    s.events(num(in, "max", 1).intValueExact(), num(in, "timeout_ms", 0).intValueExact());
                }
                return;
            case "proxy_connect":
                proxyConnect(in);
                return;
            case "fds":
                fds(in);
                return;
            case "kcp_config":
                kcpConfig(in);
                return;
            case "transfer":
                transfer(in);
                return;
            case "kcp_connect":
                kcpConnect(in);
                return;
            case "multicast_interface":
                try (Datagram d = Datagram.bind("127.0.0.1:0")) {
                    d.setMulticastInterface(text(in.get("interface")));
                }
                return;
            default:
                break;
        }
        try (Listener l = Listener.listen("127.0.0.1:0");
                TcpConnection c = TcpConnection.connect("127.0.0.1", l.localPort(), 10_000);
                TcpConnection a = l.accept(10_000)) {
            switch (op) {
                case "set_timeout":
                    c.setTimeout(num(in, "timeout_ms", 0).intValueExact());
                    return;
                case "recv":
                    c.recv(16, num(in, "timeout_ms", 0).intValueExact());
                    return;
                case "framing":
                    c.setFraming(framing((Map<String, Object>) in.get("framing")));
                    return;
                case "set_option":
                    if ("udp".equals(in.get("socket"))) {
                        throw new NoExecutor("set_option on udp");
                    }
                    c.setOption(SockOpt.valueOf(((String) in.get("name")).toUpperCase(Locale.ROOT)),
                            num(in, "value", 0).longValueExact());
                    return;
                case "send_msg":
                    setup(() -> c.setFraming(framing((Map<String, Object>) in.get("framing"))));
                    c.sendMsg(new byte[num(in, "size", 0).intValueExact()]);
                    return;
                case "recv_msgs":
                    setup(() -> a.setFraming(Framing.lengthPrefixed()));
                    a.recvMsgs(num(in, "max", 0).intValueExact(), 100);
                    return;
                case "recv_msg_small":
                    setup(() -> {
                        a.setFraming(Framing.lengthPrefixed());
                        c.setFraming(Framing.lengthPrefixed());
                        c.sendMsg(new byte[num(in, "size", 0).intValueExact()]);
                    });
                    byte[] buf = new byte[num(in, "cap", 0).intValueExact()];
                    a.recvMsgInto(buf, 0, buf.length, 10_000);
                    return;
                default:
                    throw new NoExecutor("op " + op);
            }
        }
    }

    /** A connection or an engine client through a proxy (the URL or the target is bad). */
    static void proxyConnect(Map<String, Object> in) throws Exception {
        String proxy = text(in.get("proxy"));
        String address = text(in.get("address"));
        if ("client".equals(in.get("object"))) {
            Client.connect(address, new ClientOptions().withoutReconnect().withProxy(proxy)).close();
        } else {
            TcpConnection.connect(address, new ConnectOptions().withConnectTimeout(5000)
                    .withProxy(proxy)).close();
        }
    }

    /** Descriptor passing and peer credentials on a TCP or a Unix connection. */
    @SuppressWarnings("unchecked")
    static void fds(Map<String, Object> in) throws Exception {
        java.nio.file.Path dir = Files.createTempDirectory("ls-java-bad-fds-");
        String ep = "unix".equals(in.get("socket")) ? "unix:" + dir.resolve("s.sock") : "127.0.0.1:0";
        try (Listener l = Listener.listen(ep);
                TcpConnection c = TcpConnection.connect(ep.startsWith("unix:") ? ep
                        : "127.0.0.1:" + l.localPort(), new ConnectOptions().withTimeout(10_000));
                TcpConnection a = l.accept(10_000);
                java.io.FileInputStream devNull = new java.io.FileInputStream("/dev/null")) {
            switch ((String) in.get("call")) {
                case "send_fds": {
                    Object f = in.get("fds");
                    int[] fds;
                    if (f instanceof List) {
                        List<Object> list = (List<Object>) f;
                        fds = new int[list.size()];
                        for (int i = 0; i < fds.length; i++) {
                            fds[i] = ((BigInteger) list.get(i)).intValueExact();
                        }
                    } else {
                        fds = new int[((BigInteger) f).intValueExact()];
                        java.util.Arrays.fill(fds, FileDescriptors.fd(devNull.getFD()));
                    }
                    c.sendFds(text(in.get("data")).getBytes(StandardCharsets.UTF_8), fds, 10_000);
                    return;
                }
                case "recv_fds":
                    a.recvFds(num(in, "bufsize", 0).intValueExact(),
                            num(in, "maxfds", 0).intValueExact(), 100);
                    return;
                case "peer_credentials":
                    a.peerCredentials();
                    return;
                default:
                    throw new NoExecutor("fds call " + in.get("call"));
            }
        } finally {
            Files.deleteIfExists(dir.resolve("s.sock"));
            Files.deleteIfExists(dir);
        }
    }

    /**
     * One KCP setting ({@code setting}, {@code value}: the C door's words, e.g.
     * {@code interval_ms}), set through the Java builders; a server's setting by binding a
     * server with it.
     */
    static void kcpConfig(Map<String, Object> in) throws Exception {
        String name = (String) in.get("setting");
        BigInteger big = num(in, "value", 0);
        KcpOptions k = new KcpOptions();
        KcpServerOptions so = new KcpServerOptions();
        switch (name) {
            case "stream":
                if (big.signum() < 0 || big.compareTo(BigInteger.ONE) > 0) {
                    throw new NoExecutor("stream " + big + " (a Java boolean)");
                }
                k.withStream(big.signum() != 0);
                return;
            case "nc":
                if (big.signum() < 0 || big.compareTo(BigInteger.ONE) > 0) {
                    throw new NoExecutor("nc " + big + " (a Java boolean)");
                }
                k.withNc(big.signum() != 0);
                return;
            case "send_queue_bytes":
                KcpServer.bind("127.0.0.1:0", so.withSendQueue(big.longValueExact(), SendPolicy.ERROR))
                        .close();
                return;
            default:
                break;
        }
        int v = big.intValueExact();
        switch (name) {
            case "nodelay":
                k.withNodelay(v);
                return;
            case "interval_ms":
                k.withInterval(v);
                return;
            case "resend":
                k.withResend(v);
                return;
            case "mtu":
                k.withMtu(v);
                return;
            case "min_rto_ms":
                k.withMinRto(v);
                return;
            case "recv_window":
                k.withRecvWindow(v);
                return;
            case "send_window":
                k.withSendWindow(v);
                return;
            case "dead_link":
                k.withDeadLink(v);
                return;
            case "event_capacity":
                so = so.withEventCapacity(v);
                break;
            case "idle_timeout_ms":
                so = so.withIdleTimeout(v);
                break;
            case "max_clients":
                so = so.withMaxClients(v);
                break;
            case "linger_ms":
                so = so.withLinger(v);
                break;
            case "close_timeout_ms":
                so = so.withCloseTimeout(v);
                break;
            default:
                throw new NoExecutor("kcp setting " + name);
        }
        KcpServer.bind("127.0.0.1:0", so).close();
    }

    /** A KCP session to a bad address ({@code address}, {@code conv}). */
    static void kcpConnect(Map<String, Object> in) throws Exception {
        KcpSession.connect(text(in.get("address")), new KcpOptions(), num(in, "conv", -1).longValueExact())
                .close();
    }

    /** A file transfer made with a bad path ({@code side}, {@code path}, optional {@code name}). */
    static void transfer(Map<String, Object> in) throws Exception {
        String path = text(in.get("path"));
        if ("sender".equals(in.get("side"))) {
            TransferOptions o = new TransferOptions();
            if (in.containsKey("name")) {
                o = o.withName(text(in.get("name")));
            }
            FileTransfer.sender(path, o).close();
        } else {
            FileTransfer.receiver(path).close();
        }
    }

    interface Step {
        void run() throws Exception;
    }

    /** Setup that must work before the bad input is tried. */
    static void setup(Step s) throws Exception {
        try {
            s.run();
        } catch (IOException e) {
            throw new IllegalStateException("setup failed: " + e, e);
        }
    }

    static Framing framing(Map<String, Object> f) {
        String kind = (String) f.get("kind");
        for (String k : new String[] {"byteorder", "big_endian_int", "keep_header_int", "keep_int", "dlen"}) {
            if (f.containsKey(k)) {
                throw new NoExecutor("framing field " + k);
            }
        }
        switch (kind) {
            case "raw":
                return Framing.raw();
            case "length": {
                Framing.LengthPrefixed lp = Framing.lengthPrefixed(num(f, "width", 4).intValueExact());
                if (f.containsKey("offset")) {
                    lp = lp.withOffset(num(f, "offset", 0).intValueExact());
                }
                if (f.containsKey("header_len")) {
                    lp = lp.withHeaderLength(num(f, "header_len", 0).intValueExact());
                }
                if (f.containsKey("adjustment")) {
                    lp = lp.withAdjustment(num(f, "adjustment", 0).longValueExact());
                }
                if (f.containsKey("max_len")) {
                    lp = lp.withMaxLength(num(f, "max_len", 0).longValueExact());
                }
                if (f.containsKey("length_bits") || f.containsKey("flag")) {
                    lp = lp.withFlagBits(num(f, "length_bits", 32).intValueExact(), num(f, "flag", 0).longValueExact());
                }
                return lp;
            }
            case "delimited": {
                Framing.Delimited d = Framing.delimited(bytes(f.get("delimiter")));
                if (f.containsKey("max_len")) {
                    d = d.withMaxLength(num(f, "max_len", 0).longValueExact());
                }
                return d;
            }
            case "fixed":
                return Framing.fixed(num(f, "size", 0).intValueExact());
            case "hp_pack":
                return Framing.hpPack(num(f, "flag", 0).intValueExact(),
                        num(f, "max_len", 0x3FFFFF).longValueExact());
            default:
                throw new NoExecutor("framing " + kind);
        }
    }

    @SuppressWarnings("unchecked")
    static EngineObject engine(String object, Map<String, Object> s) throws IOException {
        String address = s.containsKey("address") ? text(s.get("address")) : null;
        if ("server".equals(object)) {
            ServerOptions o = new ServerOptions();
            for (String k : s.keySet()) {
                switch (k) {
                    case "max_clients":
                        o = o.withMaxClients(num(s, k, 0).intValueExact());
                        break;
                    case "send_queue_bytes":
                        o = o.withSendQueue(num(s, k, 0).longValueExact(), SendPolicy.ERROR);
                        break;
                    case "event_capacity":
                        o = o.withEventCapacity(num(s, k, 0).intValueExact());
                        break;
                    case "idle_timeout_ms":
                        o = o.withIdleTimeout(num(s, k, 0).intValueExact(), IdleMode.READS);
                        break;
                    case "heartbeat_interval_ms":
                        o = o.withHeartbeat(num(s, k, 0).intValueExact(), num(s, "heartbeat_misses", 3).intValueExact());
                        break;
                    case "heartbeat_ping":
                        o = o.withHeartbeatPayloads(bytes(s.get(k)), pong(s));
                        break;
                    case "backlog":
                        o = o.withBacklog(num(s, k, 0).intValueExact());
                        break;
                    case "close_timeout_ms":
                        o = o.withCloseTimeout(num(s, k, 0).intValueExact());
                        break;
                    case "framing":
                        o = o.withFraming(framing((Map<String, Object>) s.get(k)));
                        break;
                    case "heartbeat_misses":
                    case "heartbeat_pong":
                    case "address":
                        break;
                    default:
                        throw new NoExecutor("server setting " + k);
                }
            }
            return Server.listen(address != null ? address : "127.0.0.1:0", o);
        }
        if ("client".equals(object)) {
            ClientOptions o = new ClientOptions();
            for (String k : s.keySet()) {
                switch (k) {
                    case "send_queue_bytes":
                        o = o.withSendQueue(num(s, k, 0).longValueExact());
                        break;
                    case "event_capacity":
                        o = o.withEventCapacity(num(s, k, 0).intValueExact());
                        break;
                    case "connect_timeout_ms":
                        o = o.withConnectTimeout(num(s, k, 0).intValueExact());
                        break;
                    case "heartbeat_interval_ms":
                        o = o.withHeartbeat(num(s, k, 0).intValueExact(), num(s, "heartbeat_misses", 3).intValueExact());
                        break;
                    case "heartbeat_ping":
                        o = o.withHeartbeatPayloads(bytes(s.get(k)), pong(s));
                        break;
                    case "backoff_min_ms":
                    case "backoff_max_ms":
                        o = o.withReconnect(num(s, "backoff_min_ms", 100).intValueExact(),
                                num(s, "backoff_max_ms", 10_000).intValueExact());
                        break;
                    case "max_attempts":
                        o = o.withMaxAttempts(num(s, k, 0).intValueExact());
                        break;
                    case "framing":
                        o = o.withFraming(framing((Map<String, Object>) s.get(k)));
                        break;
                    case "heartbeat_misses":
                    case "heartbeat_pong":
                    case "address":
                        break;
                    default:
                        throw new NoExecutor("client setting " + k);
                }
            }
            // Nobody listens on port 1 of loopback: the client keeps trying, which is harmless.
            return Client.connect(address != null ? address : "127.0.0.1:1", o);
        }
        throw new NoExecutor("engine object " + object);
    }

    static byte[] pong(Map<String, Object> s) {
        return s.containsKey("heartbeat_pong") ? bytes(s.get("heartbeat_pong"))
                : "\0LSPONG".getBytes(StandardCharsets.UTF_8);
    }

    static void engineSend(String object, Map<String, Object> settings, int size) throws Exception {
        byte[] data = new byte[size];
        if ("client".equals(object)) {
            try (Client c = (Client) engine(object, settings)) {
                c.send(data);
            }
            return;
        }
        try (Server s = (Server) engine(object, settings);
                Socket peer = new Socket(InetAddress.getByName("127.0.0.1"), s.localPort())) {
            peer.setSoTimeout(10_000);
            long deadline = System.currentTimeMillis() + 10_000;
            while (System.currentTimeMillis() < deadline) {
                for (Event e : s.events(16, 100)) {
                    if (e.kind() == EventKind.CONNECTED) {
                        s.send(e.client(), data);
                        return;
                    }
                }
            }
            throw new IllegalStateException("setup failed: no CONNECTED event");
        }
    }

    /** One TLS setting (core's word) on a client or server configuration, then maybe build. */
    @SuppressWarnings("unchecked")
    static void tlsConfig(Map<String, Object> in) throws IOException {
        boolean server = "server".equals(in.get("side"));
        try (TlsClientConfig c = server ? null : TlsConfig.client();
                TlsServerConfig sv = server ? TlsConfig.server() : null) {
            TlsConfig<?> t = server ? sv : c;
            Object v = in.get("value");
            String setting = (String) in.getOrDefault("setting", "");
            switch (setting) {
                case "":
                    break;
                case "pin_sha256":
                    c.pin(text(v));
                    break;
                case "ca_pem":
                    c.caPem(text(v));
                    break;
                case "ca_file":
                    c.caFile(text(v));
                    break;
                case "server_name":
                    c.serverName(text(v));
                    break;
                case "alpn": {
                    List<String> protocols = new ArrayList<>();
                    for (Object o : (List<Object>) v) {
                        protocols.add(text(o));
                    }
                    t.alpn(protocols.toArray(new String[0]));
                    break;
                }
                case "handshake_timeout_ms":
                    t.handshakeTimeout(((BigInteger) v).intValueExact());
                    break;
                case "cert_pem": {
                    Map<String, Object> m = (Map<String, Object>) v;
                    t.certPem(text(m.get("cert")), text(m.get("key")));
                    break;
                }
                case "client_auth":
                    sv.clientAuth(ClientAuth.valueOf(text(v).toUpperCase(Locale.ROOT)), null);
                    break;
                default:
                    throw new NoExecutor("TLS setting " + setting);
            }
            if (Boolean.TRUE.equals(in.get("build"))) {
                t.check();
            }
        }
    }

    // ------------------------------------------------------------------ table values

    static BigInteger num(Map<String, Object> m, String key, long dflt) {
        Object v = m.get(key);
        if (v == null) {
            return BigInteger.valueOf(dflt);
        }
        if (v instanceof Boolean) {
            return ((Boolean) v) ? BigInteger.ONE : BigInteger.ZERO;
        }
        if (!(v instanceof BigInteger)) {
            throw new NoExecutor("non-integer " + key + "=" + v);
        }
        return (BigInteger) v;
    }

    /** A table value as text: a string, {"text", "repeat", "times", "then"} or {"text", "surrogate"}. */
    @SuppressWarnings("unchecked")
    static String text(Object v) {
        if (v instanceof String) {
            return (String) v;
        }
        Map<String, Object> m = (Map<String, Object>) v;
        if (m.containsKey("hex")) {
            throw new NoExecutor("raw bytes where Java takes a String");
        }
        StringBuilder b = new StringBuilder();
        b.append(m.getOrDefault("text", ""));
        if (m.containsKey("surrogate")) { // text and a lone UTF-16 surrogate: not Unicode text
            return b.append((char) Integer.parseInt((String) m.get("surrogate"), 16)).toString();
        }
        int times = num(m, "times", 0).intValueExact();
        for (int i = 0; i < times; i++) {
            b.append((String) m.get("repeat"));
        }
        b.append(m.getOrDefault("then", ""));
        return b.toString();
    }

    /** A table value as bytes: UTF-8 text, or {"hex": ...}. */
    @SuppressWarnings("unchecked")
    static byte[] bytes(Object v) {
        if (v instanceof Map && ((Map<String, Object>) v).containsKey("hex")) {
            String h = (String) ((Map<String, Object>) v).get("hex");
            byte[] out = new byte[h.length() / 2];
            for (int i = 0; i < out.length; i++) {
                out[i] = (byte) Integer.parseInt(h.substring(2 * i, 2 * i + 2), 16);
            }
            return out;
        }
        return text(v).getBytes(StandardCharsets.UTF_8);
    }

    /** A small JSON reader (objects, arrays, strings, integers as BigInteger, true/false/null). */
    static final class Json {
        private final String s;
        private int i;

        Json(String s) {
            this.s = s;
        }

        Object value() {
            ws();
            char c = s.charAt(i);
            if (c == '{') {
                Map<String, Object> m = new LinkedHashMap<>();
                i++;
                ws();
                if (s.charAt(i) == '}') {
                    i++;
                    return m;
                }
                while (true) {
                    ws();
                    String k = string();
                    ws();
                    expect(':');
                    m.put(k, value());
                    ws();
                    if (s.charAt(i) == ',') {
                        i++;
                        continue;
                    }
                    expect('}');
                    return m;
                }
            }
            if (c == '[') {
                List<Object> l = new ArrayList<>();
                i++;
                ws();
                if (s.charAt(i) == ']') {
                    i++;
                    return l;
                }
                while (true) {
                    l.add(value());
                    ws();
                    if (s.charAt(i) == ',') {
                        i++;
                        continue;
                    }
                    expect(']');
                    return l;
                }
            }
            if (c == '"') {
                return string();
            }
            for (String w : new String[] {"true", "false", "null"}) {
                if (s.startsWith(w, i)) {
                    i += w.length();
                    return "null".equals(w) ? null : Boolean.valueOf(w);
                }
            }
            int start = i;
            while (i < s.length() && "+-0123456789.eE".indexOf(s.charAt(i)) >= 0) {
                i++;
            }
            BigDecimal d = new BigDecimal(s.substring(start, i));
            try {
                return d.toBigIntegerExact();
            } catch (ArithmeticException notAnInteger) {
                return d;
            }
        }

        private String string() {
            expect('"');
            StringBuilder b = new StringBuilder();
            while (s.charAt(i) != '"') {
                char c = s.charAt(i++);
                if (c != '\\') {
                    b.append(c);
                    continue;
                }
                char e = s.charAt(i++);
                switch (e) {
                    case 'n':
                        b.append('\n');
                        break;
                    case 't':
                        b.append('\t');
                        break;
                    case 'r':
                        b.append('\r');
                        break;
                    case 'b':
                        b.append('\b');
                        break;
                    case 'f':
                        b.append('\f');
                        break;
                    case 'u':
                        b.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
                        i += 4;
                        break;
                    default:
                        b.append(e);
                }
            }
            i++;
            return b.toString();
        }

        private void ws() {
            while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
                i++;
            }
        }

        private void expect(char c) {
            if (s.charAt(i) != c) {
                throw new IllegalArgumentException("bad-input table: expected '" + c + "' at " + i);
            }
            i++;
        }
    }
}
