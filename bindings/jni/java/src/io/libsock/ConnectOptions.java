package io.libsock;

import java.util.Objects;

/**
 * How {@link TcpConnection#connect(String, ConnectOptions)} connects: time limits, framing and
 * socket options applied before connecting. Immutable; every {@code with...} returns a copy.
 *
 * <pre>{@code
 * ConnectOptions o = new ConnectOptions()
 *         .withConnectTimeout(3000)
 *         .withTimeout(5000)
 *         .withFraming(Framing.lengthPrefixed())
 *         .withOption(SockOpt.NODELAY, 1);
 * }</pre>
 */
public final class ConnectOptions {
    int connectTimeout = -1;
    int timeout = -1;
    Framing framing = Framing.raw();
    SocketOptions options = new SocketOptions();
    TlsClientConfig tls;
    String proxy;

    /** Defaults: no time limits, raw framing, the OS's options. */
    public ConnectOptions() {}

    private ConnectOptions copy() {
        ConnectOptions c = new ConnectOptions();
        c.connectTimeout = connectTimeout;
        c.timeout = timeout;
        c.framing = framing;
        c.options = options.copy();
        c.tls = tls;
        c.proxy = proxy;
        return c;
    }

    /**
     * Limit resolving and connecting together.
     *
     * @param millis milliseconds, -1 for the OS's own limit
     * @return a copy
     * @throws InvalidArgumentException for a negative value other than -1
     */
    public ConnectOptions withConnectTimeout(int millis) throws InvalidArgumentException {
        ConnectOptions c = copy();
        c.connectTimeout = Timeouts.check(millis);
        return c;
    }

    /**
     * The default timeout of every later blocking call on the connection.
     *
     * @param millis milliseconds, -1 forever, 0 poll
     * @return a copy
     * @throws InvalidArgumentException for a negative value other than -1
     */
    public ConnectOptions withTimeout(int millis) throws InvalidArgumentException {
        ConnectOptions c = copy();
        c.timeout = Timeouts.check(millis);
        return c;
    }

    /**
     * The framing for {@code sendMsg}/{@code recvMsg}.
     *
     * @param framing the framing
     * @return a copy
     */
    public ConnectOptions withFraming(Framing framing) {
        ConnectOptions c = copy();
        c.framing = Objects.requireNonNull(framing, "framing");
        return c;
    }

    /**
     * A socket option applied before connecting.
     *
     * @param option the option
     * @param value its value (0/1 for on/off options)
     * @return a copy
     */
    public ConnectOptions withOption(SockOpt option, long value) {
        ConnectOptions c = copy();
        c.options.values.put(Objects.requireNonNull(option, "option"), value);
        return c;
    }

    /**
     * Speak TLS with these settings: the handshake completes (within the configuration's
     * handshake timeout, and the connect timeout) before {@code connect} returns; a failed one
     * throws {@link TlsException} naming the reason (unknown CA, name mismatch, pin mismatch,
     * a peer that does not speak TLS ...). The configuration is used, not copied: keep it
     * open until connecting is done.
     *
     * @param tls client settings ({@link TlsConfig#client()}), or null for plain TCP
     * @return a copy
     */
    public ConnectOptions withTls(TlsClientConfig tls) {
        ConnectOptions c = copy();
        c.tls = tls;
        return c;
    }

    /**
     * Connect through a proxy: {@code "socks5://host:port"}, {@code "socks5://user:pass@host:port"}
     * (SOCKS5, the proxy resolves the target's name; user and password percent-decoded) or
     * {@code "http://host:port"} (HTTP {@code CONNECT}). The URL is checked now by core
     * ({@link InvalidArgumentException} with core's message for a bad one); connecting goes to
     * the proxy, which connects to the target, within the connect timeout. A refusal by the
     * proxy throws the exception that fits its reply ({@link ConnectionRefusedException},
     * {@link UnreachableException}, {@link ConnectionAbortedException} for a rule that denies
     * it ...) with the proxy's reply in the message. TLS runs end to end with the target (its
     * host is the name checked).
     *
     * @param url the proxy's URL, or null to connect directly
     * @return a copy
     * @throws java.io.IOException ({@link InvalidArgumentException}) for a URL core refuses
     */
    public ConnectOptions withProxy(String url) throws java.io.IOException {
        if (url != null) {
            Native.proxyCheck(url);
        }
        ConnectOptions c = copy();
        c.proxy = url;
        return c;
    }
}
