package io.libsock;

import java.io.IOException;
import java.util.Objects;

/**
 * An event-driven server (libsock's engine): listens on a TCP or Unix endpoint, serves any
 * number of clients on the engine's threads, and reports what happens as {@link Event}s that
 * the application pulls: {@code CONNECTED}, {@code MESSAGE}, {@code DISCONNECTED}. Every client
 * gets an id (a {@code long} from 1, never reused). Every method may be called from any thread.
 *
 * <pre>{@code
 * try (Server server = Server.listen("127.0.0.1:7000", new ServerOptions()
 *         .withFraming(Framing.lengthPrefixed()).withHeartbeat(1000, 3))) {
 *     while (running) {
 *         for (Event e : server.events(64, 500)) {      // empty list on timeout
 *             if (e.kind() == EventKind.MESSAGE) {
 *                 server.send(e.client(), e.data());    // echo
 *             }
 *         }
 *     }
 *     server.shutdown(2000);                             // flush, then close everyone
 * }
 * }</pre>
 */
public final class Server extends EngineObject {
    private Server(long id) {
        super(id);
    }

    /**
     * Listens on {@code endpoint} with the default options (4-byte big-endian length prefix).
     *
     * @param endpoint {@code "127.0.0.1:0"}, {@code "[::]:8000"}, {@code "unix:/path"} ...
     * @return the running server
     * @throws IOException if the endpoint is malformed or cannot be bound
     */
    public static Server listen(String endpoint) throws IOException {
        return listen(endpoint, new ServerOptions());
    }

    /**
     * Listens on {@code endpoint} and starts serving. Starts the engine's threads if needed.
     *
     * @param endpoint {@code "127.0.0.1:0"}, {@code "[::]:8000"}, {@code "unix:/path"} ...
     * @param options framing, limits, liveness
     * @return the running server
     * @throws IOException if the endpoint is malformed or cannot be bound, or an option is
     *         invalid
     */
    public static Server listen(String endpoint, ServerOptions options) throws IOException {
        Objects.requireNonNull(endpoint, "endpoint");
        ServerOptions o = Objects.requireNonNull(options, "options");
        return new Server(Native.serverBind(endpoint, o.settings.keys(),
                o.settings.values(), o.framing.params(), o.framing.delimiterBytes(), o.ping,
                o.pong, o.options.numbers(), o.options.vals(), o.tls == null ? 0 : o.tls.id()));
    }

    /**
     * The former name of {@link #listen(String)}: every door calls a stream server's creation
     * {@code listen} (docs/NAMES.md).
     *
     * @param endpoint where to listen
     * @return the running server
     * @throws IOException on failure
     * @deprecated use {@link #listen(String)}
     */
    @Deprecated
    public static Server bind(String endpoint) throws IOException {
        return listen(endpoint);
    }

    /**
     * The former name of {@link #listen(String, ServerOptions)}.
     *
     * @param endpoint where to listen
     * @param options framing, limits, liveness
     * @return the running server
     * @throws IOException on failure
     * @deprecated use {@link #listen(String, ServerOptions)}
     */
    @Deprecated
    public static Server bind(String endpoint, ServerOptions options) throws IOException {
        return listen(endpoint, options);
    }

    /**
     * The address actually bound, e.g. {@code "127.0.0.1:40123"}.
     *
     * @return the local address
     * @throws BadHandleException after {@link #close()}
     */
    public String localAddress() throws IOException {
        return Native.engineLocalAddress(handle.id());
    }

    /**
     * The port actually bound (0 for Unix endpoints).
     *
     * @return the port
     * @throws BadHandleException after {@link #close()}
     */
    public int localPort() throws IOException {
        String a = localAddress();
        int i = a.lastIndexOf(':');
        if (a.startsWith("unix:") || i < 0) {
            return 0;
        }
        return Integer.parseInt(a.substring(i + 1));
    }

    /**
     * Queues {@code data} as one message to {@code client}; returns at once.
     *
     * @param client a client id from a {@code CONNECTED} event
     * @param data the message
     * @throws QueueFullException when the client's send queue is full ({@link SendPolicy#ERROR})
     * @throws ClosedException for an unknown or disconnected client, or a stopped server
     * @throws IOException for a message the framing cannot carry
     */
    public void send(long client, byte[] data) throws IOException {
        send(client, data, 0, Objects.requireNonNull(data, "data").length);
    }

    /**
     * Queues {@code data[off..off+len]} as one message to {@code client}.
     *
     * @param client a client id
     * @param data the array
     * @param off where the message starts
     * @param len its length
     * @throws QueueFullException when the client's send queue is full ({@link SendPolicy#ERROR})
     * @throws ClosedException for an unknown or disconnected client, or a stopped server
     * @throws IOException for a message the framing cannot carry
     */
    public void send(long client, byte[] data, int off, int len) throws IOException {
        Checks.range(off, len, Objects.requireNonNull(data, "data").length);
        Native.serverSend(handle.id(), client, data, off, len);
    }

    /**
     * Queues several messages to {@code client} in order, as one batch (encoded into one
     * buffer, written at once by the calling thread when nothing is queued before it, else
     * taken by the connection with one wake-up): core's {@code send_batch}. Each message waits for room in the client's queue, all within
     * {@code timeoutMillis}. Every message is checked first, so a bad one queues none.
     *
     * @param client a client id
     * @param msgs the messages, in order (none null)
     * @param timeoutMillis time allowed for room (-1 forever, 0 not at all)
     * @return how many were queued: all, or fewer when the time ran out (or the client went)
     *     after some were
     * @throws TimeoutException when not even the first found room in time
     * @throws ClosedException for an unknown or disconnected client, or a stopped server
     * @throws IOException for a message the framing cannot carry (none queued)
     */
    public int sendBatch(long client, byte[][] msgs, int timeoutMillis) throws IOException {
        Objects.requireNonNull(msgs, "msgs");
        for (byte[] m : msgs) {
            Objects.requireNonNull(m, "a message");
        }
        return Native.serverSendBatch(handle.id(), client, msgs, timeoutMillis);
    }

    /**
     * One client's counters: core's {@code client_stats}.
     *
     * @param client a client id
     * @return a snapshot
     * @throws ClosedException for a client that is not connected
     * @throws BadHandleException after {@link #close()}
     */
    public ConnectionStats clientStats(long client) throws IOException {
        Object[] r = Native.serverClientStats(handle.id(), client);
        return new ConnectionStats((String) r[0], (long[]) r[1]);
    }

    /**
     * Queues {@code data} to each of {@code clients} (encoded once).
     *
     * @param clients client ids
     * @param data the message
     * @return how many clients it was queued for (unknown clients and full queues are skipped)
     * @throws ClosedException when the server is stopped
     * @throws IOException for a message the framing cannot carry
     */
    public int sendMany(long[] clients, byte[] data) throws IOException {
        Objects.requireNonNull(clients, "clients");
        Objects.requireNonNull(data, "data");
        return Native.serverSendMany(handle.id(), clients, data, 0, data.length);
    }

    /**
     * Queues {@code data} to every connected client.
     *
     * @param data the message
     * @return how many clients it was queued for
     * @throws ClosedException when the server is stopped
     * @throws IOException for a message the framing cannot carry
     */
    public int broadcast(byte[] data) throws IOException {
        return broadcast(data, 0);
    }

    /**
     * Queues {@code data} to every connected client except {@code exceptClient}.
     *
     * @param data the message
     * @param exceptClient the client to skip (0: none)
     * @return how many clients it was queued for
     * @throws ClosedException when the server is stopped
     * @throws IOException for a message the framing cannot carry
     */
    public int broadcast(byte[] data, long exceptClient) throws IOException {
        Objects.requireNonNull(data, "data");
        return Native.serverBroadcast(handle.id(), data, 0, data.length, exceptClient);
    }

    /**
     * Disconnects a client; returns at once, a {@code DISCONNECTED} event with
     * {@link DisconnectReason#KICKED} follows.
     *
     * @param client the client id
     * @param graceful true: deliver what is queued first, then close (within the close
     *        timeout); false: cut at once
     * @throws ClosedException for an unknown client
     */
    public void disconnect(long client, boolean graceful) throws IOException {
        Native.serverDisconnect(handle.id(), client, graceful);
    }

    /**
     * The ids of the connected clients, ascending.
     *
     * @return the ids
     * @throws BadHandleException after {@link #close()}
     */
    public long[] clients() throws IOException {
        return Native.serverClients(handle.id());
    }

    /**
     * A connected client's address.
     *
     * @param client the client id
     * @return e.g. {@code "127.0.0.1:51234"}
     * @throws ClosedException when the client is not connected
     */
    public String clientAddress(long client) throws IOException {
        return Native.serverClientAddress(handle.id(), client);
    }

    /**
     * Bytes waiting in a client's send queue.
     *
     * @param client the client id
     * @return the queued bytes
     * @throws ClosedException when the client is not connected
     */
    public long queuedBytes(long client) throws IOException {
        return Native.serverQueuedBytes(handle.id(), client);
    }

    @Override
    public String toString() {
        try {
            return "Server(" + localAddress() + ")";
        } catch (IOException e) {
            return "Server(closed)";
        }
    }
}
