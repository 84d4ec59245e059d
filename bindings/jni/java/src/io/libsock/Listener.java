package io.libsock;

import java.io.IOException;
import java.util.Objects;

/**
 * A listening TCP (or Unix stream) socket.
 *
 * <pre>{@code
 * try (Listener l = Listener.listen("127.0.0.1:0")) {
 *     int port = l.localPort();                 // the real port
 *     try (TcpConnection c = l.accept(5000)) {  // TimeoutException after 5 s
 *         ...
 *     }
 * }
 * }</pre>
 *
 * <p>{@link #close()} from another thread makes a blocked {@link #accept()} throw
 * {@link ClosedException}.
 */
public final class Listener implements AutoCloseable {
    private final NativeHandle handle;
    private volatile Framing framing;

    private Listener(long id, Framing framing) {
        this.handle = new NativeHandle(this, id);
        this.framing = framing;
    }

    /**
     * Listens on {@code endpoint}: {@code "127.0.0.1:0"} (port 0 picks a free port),
     * {@code "[::]:8080"} (dual stack), {@code "unix:/tmp/app.sock"}.
     *
     * @param endpoint where to listen
     * @return the listener
     * @throws AddrInUseException if the address is taken
     * @throws AddrNotAvailableException if the address is not on this host
     * @throws IOException on other failures
     */
    public static Listener listen(String endpoint) throws IOException {
        return listen(endpoint, new ListenOptions());
    }

    /**
     * Listens on {@code endpoint} with options.
     *
     * @param endpoint where to listen
     * @param options backlog, reuse flags, framing and timeout for accepted connections
     * @return the listener
     * @throws IOException on failure
     */
    public static Listener listen(String endpoint, ListenOptions options) throws IOException {
        Objects.requireNonNull(endpoint, "endpoint");
        return open(endpoint, null, 0, options);
    }

    /**
     * Listens on {@code host} and {@code port}.
     *
     * @param host a local address or name ({@code "0.0.0.0"}, {@code "::"}, {@code "localhost"})
     * @param port the port, 0 for any free port
     * @return the listener
     * @throws IOException on failure
     */
    public static Listener listen(String host, int port) throws IOException {
        Objects.requireNonNull(host, "host");
        return open(null, host, port, new ListenOptions());
    }

    /**
     * Listens on {@code host} and {@code port} with options.
     *
     * @param host a local address or name
     * @param port the port, 0 for any free port
     * @param options listen options
     * @return the listener
     * @throws IOException on failure
     */
    public static Listener listen(String host, int port, ListenOptions options) throws IOException {
        Objects.requireNonNull(host, "host");
        return open(null, host, port, options);
    }

    /**
     * The former name of {@link #listen(String)}: every door calls a stream listener's creation
     * {@code listen} (docs/NAMES.md).
     *
     * @param endpoint where to listen
     * @return the listener
     * @throws IOException on failure
     * @deprecated use {@link #listen(String)}
     */
    @Deprecated
    public static Listener bind(String endpoint) throws IOException {
        return listen(endpoint);
    }

    /**
     * The former name of {@link #listen(String, ListenOptions)}.
     *
     * @param endpoint where to listen
     * @param options listen options
     * @return the listener
     * @throws IOException on failure
     * @deprecated use {@link #listen(String, ListenOptions)}
     */
    @Deprecated
    public static Listener bind(String endpoint, ListenOptions options) throws IOException {
        return listen(endpoint, options);
    }

    /**
     * The former name of {@link #listen(String, int)}.
     *
     * @param host a local address or name
     * @param port the port, 0 for any free port
     * @return the listener
     * @throws IOException on failure
     * @deprecated use {@link #listen(String, int)}
     */
    @Deprecated
    public static Listener bind(String host, int port) throws IOException {
        return listen(host, port);
    }

    /**
     * The former name of {@link #listen(String, int, ListenOptions)}.
     *
     * @param host a local address or name
     * @param port the port, 0 for any free port
     * @param options listen options
     * @return the listener
     * @throws IOException on failure
     * @deprecated use {@link #listen(String, int, ListenOptions)}
     */
    @Deprecated
    public static Listener bind(String host, int port, ListenOptions options) throws IOException {
        return listen(host, port, options);
    }

    private static Listener open(String endpoint, String host, int port, ListenOptions o)
            throws IOException {
        Objects.requireNonNull(o, "options");
        long id = Native.listen(endpoint, host, port, o.backlog, o.reuseAddress, o.reusePort,
                o.connTimeout, o.options.numbers(), o.options.vals(),
                o.tls == null ? 0 : o.tls.id());
        Listener l = new Listener(id, Framing.raw());
        if (o.framing != Framing.raw()) {
            try {
                l.setFraming(o.framing);
            } catch (IOException | RuntimeException e) {
                l.close();
                throw e;
            }
        }
        return l;
    }

    /**
     * Waits for a client, forever.
     *
     * @return the connection (with this listener's framing and connection timeout)
     * @throws ClosedException if the listener is closed meanwhile
     * @throws IOException on other failures
     */
    public TcpConnection accept() throws IOException {
        return accept(-1);
    }

    /**
     * Waits for a client for at most {@code timeoutMillis}.
     *
     * @param timeoutMillis -1 forever, 0 poll, or milliseconds ({@link Libsock#TIMEOUT_DEFAULT}:
     *     the listener's default, forever)
     * @return the connection
     * @throws TimeoutException if no client came in time
     * @throws IOException on other failures
     */
    public TcpConnection accept(int timeoutMillis) throws IOException {
        Framing f = framing;
        long id = Native.accept(handle.id(), timeoutMillis);
        return new TcpConnection(id, f);
    }

    /**
     * The framing given to connections accepted from now on.
     *
     * @param framing the framing
     * @throws IOException if the framing's parameters are invalid
     */
    public void setFraming(Framing framing) throws IOException {
        Objects.requireNonNull(framing, "framing");
        framing.apply(handle.id());
        this.framing = framing;
    }

    /**
     * The default timeout given to connections accepted from now on.
     *
     * @param millis -1 forever, 0 poll, or milliseconds
     * @throws IOException on failure
     */
    public void setConnectionTimeout(int millis) throws IOException {
        Native.setTimeout(handle.id(), Timeouts.check(millis));
    }

    /**
     * The address actually bound, e.g. {@code "127.0.0.1:41234"}.
     *
     * @return the address as text
     * @throws IOException on failure
     */
    public String localAddress() throws IOException {
        return Native.localAddress(handle.id());
    }

    /**
     * The port actually bound (the real one when 0 was asked).
     *
     * @return the port
     * @throws IOException on failure
     */
    public int localPort() throws IOException {
        return Native.localPort(handle.id());
    }

    /**
     * Sets an option on the listening socket.
     *
     * @param option the option
     * @param value its value
     * @throws IOException if the OS rejects it
     */
    public void setOption(SockOpt option, long value) throws IOException {
        Native.setOption(handle.id(), option.number(), value);
    }

    /**
     * Reads an option of the listening socket back from the OS.
     *
     * @param option the option
     * @return its value
     * @throws IOException on failure
     */
    public long getOption(SockOpt option) throws IOException {
        return Native.getOption(handle.id(), option.number());
    }

    /**
     * True once closed.
     *
     * @return whether closed
     */
    public boolean isClosed() {
        return handle.isClosed();
    }

    /** Stops listening (idempotent); a blocked {@link #accept()} throws {@link ClosedException}. */
    @Override
    public void close() {
        handle.close();
    }

    /**
     * A description with the handle.
     *
     * @return text
     */
    @Override
    public String toString() {
        return handle.isClosed() ? "Listener[closed]" : "Listener[" + handle.id() + "]";
    }
}
