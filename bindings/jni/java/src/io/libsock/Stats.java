package io.libsock;

/**
 * A snapshot of an engine object's counters ({@link EngineObject#stats()}). Fields that do not
 * apply to the object are 0.
 */
public final class Stats {
    /** Server: clients connected now. Client: 1 while connected. */
    public final long connections;
    /** Server: clients accepted since the start. Client: connections made. */
    public final long connectionsTotal;
    /** Server: connections closed at once because of the max-clients limit. */
    public final long refused;
    /** Bytes received. */
    public final long bytesIn;
    /** Bytes sent (frame headers included). */
    public final long bytesOut;
    /** Messages (datagrams) received; heartbeats not counted. */
    public final long messagesIn;
    /** Frames (datagrams) sent. */
    public final long messagesOut;
    /** Bytes waiting in send queues. */
    public final long queuedBytes;
    /** Events waiting to be pulled. */
    public final long eventsQueued;
    /** Client: connected now. */
    public final boolean connected;
    /** Client: failed connect attempts. */
    public final long failedAttempts;
    /**
     * Server: sends refused and broadcast deliveries skipped because a client's send queue was
     * full (under {@link SendPolicy#ERROR}; each episode also gives a WARNING event).
     */
    public final long sendQueueFull;
    /** Server: failed accepts (e.g. out of descriptors); each episode gives a WARNING event. */
    public final long acceptErrors;
    /**
     * Server and client: failed TLS handshakes; each also gives an event (a server's a WARNING
     * of kind {@link ErrorKind#TLS}, a client's a DISCONNECTED with {@link DisconnectReason#TLS}
     * or a WARNING while it retries).
     */
    public final long tlsFailures;

    Stats(long[] v) {
        connections = v[0];
        connectionsTotal = v[1];
        refused = v[2];
        bytesIn = v[3];
        bytesOut = v[4];
        messagesIn = v[5];
        messagesOut = v[6];
        queuedBytes = v[7];
        eventsQueued = v[8];
        connected = v[9] != 0;
        failedAttempts = v[10];
        sendQueueFull = v[11];
        acceptErrors = v[12];
        tlsFailures = v[13];
    }

    @Override
    public String toString() {
        return "Stats(connections " + connections + ", total " + connectionsTotal + ", refused "
                + refused + ", in " + messagesIn + " msgs/" + bytesIn + " B, out " + messagesOut
                + " msgs/" + bytesOut + " B, queued " + queuedBytes + " B, events "
                + eventsQueued + ", send queue full " + sendQueueFull + ", accept errors "
                + acceptErrors + ", TLS failures " + tlsFailures + ")";
    }
}
