package io.libsock;

/**
 * A connection's counters, a snapshot of core's {@code ConnectionStats}: one connected client's
 * on a {@link Server} ({@link Server#clientStats(long)}), or a blocking {@link TcpConnection}'s
 * ({@link TcpConnection#stats()}).
 */
public final class ConnectionStats {
    /** The peer's address, e.g. {@code "127.0.0.1:51234"}. */
    public final String peer;
    /** When the connection was made (a server's client: admitted, with TLS its handshake done), in ms since the epoch. */
    public final long connectedSince;
    /** Bytes received (with TLS: application bytes). */
    public final long bytesIn;
    /** Bytes sent (frames with their headers; with TLS: application bytes). */
    public final long bytesOut;
    /** Application messages received (heartbeats not counted). */
    public final long messagesIn;
    /** Frames written (an engine's heartbeats included). */
    public final long messagesOut;
    /** Bytes waiting in the send queue (0 for a blocking connection). */
    public final long queuedBytes;
    /** It speaks TLS. */
    public final boolean tls;

    ConnectionStats(String peer, long[] v) {
        this.peer = peer;
        connectedSince = v[0];
        bytesIn = v[1];
        bytesOut = v[2];
        messagesIn = v[3];
        messagesOut = v[4];
        queuedBytes = v[5];
        tls = v[6] != 0;
    }

    @Override
    public String toString() {
        return "ConnectionStats(" + peer + ", in " + messagesIn + " msgs/" + bytesIn + " B, out "
                + messagesOut + " msgs/" + bytesOut + " B, queued " + queuedBytes + " B"
                + (tls ? ", TLS" : "") + ")";
    }
}
