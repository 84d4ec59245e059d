package io.libsock;

import java.io.IOException;
import java.util.Objects;

/**
 * A long-lived client connection (libsock's engine) with auto-reconnect (backoff with jitter),
 * heartbeat and a bounded send queue kept across reconnects: messages sent while disconnected
 * go out, in order, after the next connect. Events: {@code CONNECTED}, {@code MESSAGE},
 * {@code DISCONNECTED}, {@code RECONNECTING}. Every method may be called from any thread.
 *
 * <pre>{@code
 * try (Client c = Client.connect("127.0.0.1:7000", new ClientOptions()
 *         .withReconnect(100, 5000))) {
 *     c.send("hello".getBytes(StandardCharsets.UTF_8));   // queued until connected
 *     Event e = c.nextEvent(5000);                        // null on timeout
 * }
 * }</pre>
 */
public final class Client extends EngineObject {
    private Client(long id) {
        super(id);
    }

    /**
     * Starts connecting to {@code endpoint} with the default options; returns at once.
     *
     * @param endpoint {@code "host:port"}, {@code "[::1]:80"}, {@code "unix:/path"}
     * @return the client
     * @throws IOException if the endpoint is malformed
     */
    public static Client connect(String endpoint) throws IOException {
        return connect(endpoint, new ClientOptions());
    }

    /**
     * Starts connecting to {@code endpoint}; returns at once. The {@code CONNECTED} event (or
     * {@code RECONNECTING}, or {@code DISCONNECTED} with client 0 when it gives up) tells how
     * it went. Starts the engine's threads if needed.
     *
     * @param endpoint {@code "host:port"}, {@code "[::1]:80"}, {@code "unix:/path"}
     * @param options framing, reconnect, liveness, limits
     * @return the client
     * @throws IOException if the endpoint is malformed or an option is invalid
     */
    public static Client connect(String endpoint, ClientOptions options) throws IOException {
        Objects.requireNonNull(endpoint, "endpoint");
        ClientOptions o = Objects.requireNonNull(options, "options");
        return new Client(Native.clientConnect(endpoint, o.settings.keys(),
                o.settings.values(), o.framing.params(), o.framing.delimiterBytes(), o.ping,
                o.pong, o.options.numbers(), o.options.vals(), o.tls == null ? 0 : o.tls.id(),
                o.proxy));
    }

    /**
     * Queues {@code data} as one message; while disconnected it waits and is sent, in order,
     * after the next connect.
     *
     * @param data the message
     * @throws QueueFullException when the send queue's byte bound would be exceeded
     * @throws ClosedException after {@link #shutdown(int)}
     * @throws IOException for a message the framing cannot carry
     */
    public void send(byte[] data) throws IOException {
        send(data, 0, Objects.requireNonNull(data, "data").length);
    }

    /**
     * Queues {@code data[off..off+len]} as one message.
     *
     * @param data the array
     * @param off where the message starts
     * @param len its length
     * @throws QueueFullException when the send queue's byte bound would be exceeded
     * @throws ClosedException after {@link #shutdown(int)}
     * @throws IOException for a message the framing cannot carry
     */
    public void send(byte[] data, int off, int len) throws IOException {
        Checks.range(off, len, Objects.requireNonNull(data, "data").length);
        Native.clientSend(handle.id(), data, off, len);
    }

    /**
     * Queues several messages in order, as one batch (at most one wake-up of the engine): core's
     * {@code send_batch}. Each message waits for room in the send queue, all within
     * {@code timeoutMillis}; every message is checked against the framing and the queue's
     * bound first, so a bad one queues none. While disconnected they wait, as with
     * {@link #send(byte[])}.
     *
     * @param msgs the messages, in order (none null)
     * @param timeoutMillis time allowed for room (-1 forever, 0 not at all)
     * @return how many were queued: all, or fewer when the time ran out after some were
     * @throws TimeoutException when not even the first found room in time
     * @throws ClosedException after {@link #shutdown(int)}
     * @throws IOException for a message the framing cannot carry (none queued)
     */
    public int sendBatch(byte[][] msgs, int timeoutMillis) throws IOException {
        Objects.requireNonNull(msgs, "msgs");
        for (byte[] m : msgs) {
            Objects.requireNonNull(m, "a message");
        }
        return Native.clientSendBatch(handle.id(), msgs, timeoutMillis);
    }

    /**
     * True while connected.
     *
     * @return whether the connection is up
     * @throws BadHandleException after {@link #close()}
     */
    public boolean isConnected() throws IOException {
        return Native.clientIsConnected(handle.id());
    }

    /**
     * The server's address while connected.
     *
     * @return e.g. {@code "127.0.0.1:7000"}, or null while disconnected
     * @throws BadHandleException after {@link #close()}
     */
    public String peerAddress() throws IOException {
        return Native.engineLocalAddress(handle.id());
    }

    /**
     * Closes gracefully: while connected, what is queued is delivered within
     * {@code graceMillis}, then the connection is closed; messages still queued while
     * disconnected are dropped. Same as {@link #shutdown(int)}.
     *
     * @param graceMillis milliseconds to flush
     * @throws BadHandleException after {@link #close()}
     * @throws IOException for a negative grace
     */
    public void close(int graceMillis) throws IOException {
        shutdown(graceMillis);
    }

    @Override
    public String toString() {
        return "Client(" + (isClosed() ? "closed" : "open") + ")";
    }
}
