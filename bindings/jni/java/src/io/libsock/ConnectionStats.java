package io.libsock;

/**
 * One connected client's counters on a {@link Server} ({@link Server#clientStats(long)}), a
 * snapshot of core's {@code ConnectionStats}.
 */
public final class ConnectionStats {
    /** The client's address, e.g. {@code "127.0.0.1:51234"}. */
    public final String peer;
    /** When the client was admitted (accepted, and with TLS its handshake done), in ms since the epoch. */
    public final long connectedSince;
    /** Bytes received from it. */
    public final long bytesIn;
    /** Bytes sent to it (frames with their headers). */
    public final long bytesOut;
    /** Application messages received from it (heartbeats not counted). */
    public final long messagesIn;
    /** Frames written to it (heartbeats included). */
    public final long messagesOut;
    /** Bytes waiting in its send queue. */
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
