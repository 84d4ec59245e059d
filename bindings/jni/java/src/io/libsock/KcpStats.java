package io.libsock;

/**
 * KCP's own counters ({@link KcpSession#stats()}, {@link KcpServer#kcpStats()}): the message
 * counters and the datagram-level ones. A server's common counters (sessions, queued events)
 * are in its {@link EngineObject#stats()}.
 */
public final class KcpStats {
    /** Messages received (taken by the application, or delivered as events). */
    public final long messagesIn;
    /** Messages sent (queued to KCP). */
    public final long messagesOut;
    /** Message bytes received. */
    public final long bytesIn;
    /** Message bytes sent. */
    public final long bytesOut;
    /** UDP datagrams received. */
    public final long datagramsIn;
    /** UDP datagrams sent (data, acknowledgements, retransmissions). */
    public final long datagramsOut;
    /** Datagrams refused (not KCP, or another conversation). */
    public final long datagramsBad;
    /** Segments sent again (timeouts and fast resends). */
    public final long retransmits;
    /** Session: segments waiting to be sent or acknowledged (a server: 0). */
    public final long waiting;
    /** Session: the smoothed round-trip time in ms, 0 before the first acknowledgement (a server: 0). */
    public final long srttMs;

    KcpStats(long[] v) {
        messagesIn = v[0];
        messagesOut = v[1];
        bytesIn = v[2];
        bytesOut = v[3];
        datagramsIn = v[4];
        datagramsOut = v[5];
        datagramsBad = v[6];
        retransmits = v[7];
        waiting = v[8];
        srttMs = v[9];
    }

    @Override
    public String toString() {
        return "KcpStats(in " + messagesIn + " msgs/" + bytesIn + " B, out " + messagesOut
                + " msgs/" + bytesOut + " B, datagrams " + datagramsIn + " in/" + datagramsOut
                + " out/" + datagramsBad + " bad, retransmits " + retransmits + ")";
    }
}
