package io.libsock;

import java.util.Objects;

/**
 * How {@link Listener#listen(String, ListenOptions)} listens. Immutable; every {@code with...}
 * returns a copy.
 */
public final class ListenOptions {
    int backlog = -1;
    boolean reuseAddress = true;
    boolean reusePort = false;
    int connTimeout = -1;
    Framing framing = Framing.raw();
    SocketOptions options = new SocketOptions();
    TlsServerConfig tls;

    /** Defaults: backlog 1024, SO_REUSEADDR on, raw framing, no timeout on accepted sockets. */
    public ListenOptions() {}

    private ListenOptions copy() {
        ListenOptions c = new ListenOptions();
        c.backlog = backlog;
        c.reuseAddress = reuseAddress;
        c.reusePort = reusePort;
        c.connTimeout = connTimeout;
        c.framing = framing;
        c.options = options.copy();
        c.tls = tls;
        return c;
    }

    /**
     * The length of the queue of connections not yet accepted.
     *
     * @param backlog connections (the OS may cap it)
     * @return a copy
     */
    public ListenOptions withBacklog(int backlog) {
        ListenOptions c = copy();
        c.backlog = backlog;
        return c;
    }

    /**
     * SO_REUSEADDR (default on, so a restarted server can bind at once).
     *
     * @param on the setting
     * @return a copy
     */
    public ListenOptions withReuseAddress(boolean on) {
        ListenOptions c = copy();
        c.reuseAddress = on;
        return c;
    }

    /**
     * SO_REUSEPORT: several listeners share one port.
     *
     * @param on the setting
     * @return a copy
     */
    public ListenOptions withReusePort(boolean on) {
        ListenOptions c = copy();
        c.reusePort = on;
        return c;
    }

    /**
     * The default timeout given to accepted connections.
     *
     * @param millis milliseconds, -1 forever, 0 poll
     * @return a copy
     * @throws InvalidArgumentException for a negative value other than -1
     */
    public ListenOptions withConnectionTimeout(int millis) throws InvalidArgumentException {
        ListenOptions c = copy();
        c.connTimeout = Timeouts.check(millis);
        return c;
    }

    /**
     * The framing given to accepted connections.
     *
     * @param framing the framing
     * @return a copy
     */
    public ListenOptions withFraming(Framing framing) {
        ListenOptions c = copy();
        c.framing = Objects.requireNonNull(framing, "framing");
        return c;
    }

    /**
     * A socket option for the listening socket (accepted sockets inherit most of them).
     *
     * @param option the option
     * @param value its value
     * @return a copy
     */
    public ListenOptions withOption(SockOpt option, long value) {
        ListenOptions c = copy();
        c.options.values.put(Objects.requireNonNull(option, "option"), value);
        return c;
    }

    /**
     * Speak TLS with these settings: each connection's handshake completes before
     * {@code accept} returns it (within the configuration's handshake timeout); a failed one
     * makes {@code accept} throw {@link TlsException} naming the reason, and the listener keeps
     * serving. The configuration is used, not copied: keep it open while the listener is.
     *
     * @param tls server settings ({@link TlsConfig#server()}), or null for plain TCP
     * @return a copy
     */
    public ListenOptions withTls(TlsServerConfig tls) {
        ListenOptions c = copy();
        c.tls = tls;
        return c;
    }
}
