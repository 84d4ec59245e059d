package io.libsock;

import java.io.IOException;
import java.util.Objects;

/**
 * A KCP server run by the engine: reliable, ordered messages over UDP, wire-compatible with the
 * reference KCP implementation (core's {@code libsock::kcp::KcpServer}). Each (peer address,
 * conv) is a session with a client id; the events and calls are those of {@link Server}:
 * {@code CONNECTED} (client, peer), {@code MESSAGE} (client, data), {@code DISCONNECTED}
 * (client, reason), then {@code CLOSED}, pulled with {@link #events(int, int)}.
 *
 * <p>KCP has no handshake and no close on the wire: a session opens with the first data
 * segment of a new (address, conv) and ends when nothing arrived for the idle timeout
 * ({@link DisconnectReason#IDLE_TIMEOUT}), when a segment went unacknowledged
 * {@code deadLink} times ({@link DisconnectReason#HEARTBEAT_LOST}), on {@link #disconnect}
 * ({@link DisconnectReason#KICKED}) or {@link #shutdown(int)}
 * ({@link DisconnectReason#SERVER_SHUTDOWN}).
 *
 * <pre>{@code
 * try (KcpServer server = KcpServer.bind("127.0.0.1:4000")) {
 *     for (Event e : server.events(64, 1000)) {
 *         if (e.kind() == EventKind.MESSAGE) {
 *             server.send(e.client(), e.data());   // echo
 *         }
 *     }
 * }
 * }</pre>
 */
public final class KcpServer extends EngineObject {
    private KcpServer(long id) {
        super(id);
    }

    /**
     * Binds a UDP socket at {@code endpoint} with the default options and serves KCP on it.
     *
     * @param endpoint {@code "127.0.0.1:0"}, {@code "[::]:4000"} ...
     * @return the running server
     * @throws IOException if the endpoint is malformed or cannot be bound
     */
    public static KcpServer bind(String endpoint) throws IOException {
        return bind(endpoint, new KcpServerOptions());
    }

    /**
     * Binds a UDP socket at {@code endpoint} and serves KCP on it.
     *
     * @param endpoint where to bind
     * @param options the KCP tuning and the server's limits
     * @return the running server
     * @throws IOException if the endpoint is malformed or cannot be bound, or an option is
     *     invalid ({@link InvalidArgumentException} with core's message)
     */
    public static KcpServer bind(String endpoint, KcpServerOptions options) throws IOException {
        Objects.requireNonNull(endpoint, "endpoint");
        KcpServerOptions o = Objects.requireNonNull(options, "options");
        return new KcpServer(Native.kcpServerBind(endpoint, o.kcp.params(), o.params(),
                o.options.numbers(), o.options.vals()));
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
     * The port actually bound.
     *
     * @return the port
     * @throws BadHandleException after {@link #close()}
     */
    public int localPort() throws IOException {
        String a = localAddress();
        return Integer.parseInt(a.substring(a.lastIndexOf(':') + 1));
    }

    /**
     * Queues {@code data} as one message to {@code client}; returns at once.
     *
     * @param client a client id from a {@code CONNECTED} event
     * @param data the message (not empty)
     * @throws QueueFullException when the session's unacknowledged data would pass its bound
     *     ({@link SendPolicy#ERROR})
     * @throws FrameTooLargeException beyond the largest KCP message (127 segments)
     * @throws ClosedException for a session that is gone
     * @throws IOException for an empty message ({@link InvalidArgumentException})
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
     * @throws IOException as {@link #send(long, byte[])}
     */
    public void send(long client, byte[] data, int off, int len) throws IOException {
        Checks.range(off, len, Objects.requireNonNull(data, "data").length);
        Native.kcpServerSend(handle.id(), client, data, off, len);
    }

    /**
     * Ends a session; a {@code DISCONNECTED} event with {@link DisconnectReason#KICKED}
     * follows.
     *
     * @param client the client id
     * @param graceful true: after the peer acknowledged what was sent (within the close
     *     timeout); false: at once
     * @throws ClosedException for an unknown client
     */
    public void disconnect(long client, boolean graceful) throws IOException {
        Native.kcpServerDisconnect(handle.id(), client, graceful);
    }

    /**
     * The ids of the open sessions, ascending.
     *
     * @return the ids
     * @throws BadHandleException after {@link #close()}
     */
    public long[] clients() throws IOException {
        long[] pairs = Native.kcpServerClients(handle.id());
        long[] ids = new long[pairs.length / 2];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = pairs[2 * i];
        }
        return ids;
    }

    /**
     * The conversation id (KCP's {@code conv}) of a session.
     *
     * @param client the client id
     * @return its conv
     * @throws ClosedException when the session is not open
     */
    public long conv(long client) throws IOException {
        long[] pairs = Native.kcpServerClients(handle.id());
        for (int i = 0; i + 1 < pairs.length; i += 2) {
            if (pairs[i] == client) {
                return pairs[i + 1];
            }
        }
        throw new ClosedException("closed: KCP session " + client + " is not open",
                ErrorKind.CLOSED.code(), 0);
    }

    /**
     * The address of a session's peer.
     *
     * @param client the client id
     * @return e.g. {@code "127.0.0.1:51234"}
     * @throws ClosedException when the session is not open
     */
    public String clientAddress(long client) throws IOException {
        return Native.kcpServerClientAddress(handle.id(), client);
    }

    /**
     * KCP's own counters: datagrams in, out and bad, retransmissions (the common counters are
     * in {@link #stats()}).
     *
     * @return a snapshot
     * @throws BadHandleException after {@link #close()}
     */
    public KcpStats kcpStats() throws IOException {
        return new KcpStats(Native.kcpServerStats(handle.id()));
    }

    /**
     * Stops at once: every session ends ({@link DisconnectReason#SERVER_SHUTDOWN}), the final
     * {@code CLOSED} event is queued and blocked pulls wake. KCP has no server-wide flush, so
     * {@code graceMillis} is checked but not waited for: end sessions gracefully one by one with
     * {@code disconnect(client, true)} first. Idempotent.
     *
     * @param graceMillis 0 or more (not waited for)
     * @throws BadHandleException after {@link #close()}
     * @throws IOException for a negative value
     */
    @Override
    public void shutdown(int graceMillis) throws IOException {
        super.shutdown(graceMillis);
    }

    @Override
    public String toString() {
        try {
            return "KcpServer(" + localAddress() + ")";
        } catch (IOException e) {
            return "KcpServer(closed)";
        }
    }
}
