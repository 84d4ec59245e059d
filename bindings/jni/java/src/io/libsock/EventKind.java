package io.libsock;

/**
 * The kind of an engine {@link Event}. {@link #code()} is the same number in every language
 * door (the C ABI's {@code LS_EVENT_*}).
 */
public enum EventKind {
    /** A connection was made: a server accepted a client, or a client connected (1). */
    CONNECTED(1),
    /** A framed message arrived (2). */
    MESSAGE(2),
    /** A connection ended; see {@link Event#reason()} (3). */
    DISCONNECTED(3),
    /** A client lost its connection and tries again; see {@link Event#attempt()} (4). */
    RECONNECTING(4),
    /** A datagram arrived at a {@link DatagramServer} (5). */
    DATAGRAM(5),
    /** The object stopped; the last event it gives (6). */
    CLOSED(6),
    /**
     * Something went wrong that ended no connection (servers only, once per episode); see
     * {@link Event#errorKind()} and {@link Event#reasonText()} (7). {@link ErrorKind#QUEUE_FULL}
     * with the client set: a send to that client was refused or a broadcast skipped it because
     * its send queue is full (a slow consumer); another kind with client 0: accepting failed
     * (e.g. out of descriptors).
     */
    WARNING(7);

    private static final EventKind[] BY_CODE = {null, CONNECTED, MESSAGE, DISCONNECTED,
        RECONNECTING, DATAGRAM, CLOSED, WARNING};

    /** The stable code. */
    private final int code;

    EventKind(int code) {
        this.code = code;
    }

    /**
     * The stable numeric code.
     *
     * @return 1 to 7
     */
    public int code() {
        return code;
    }

    /**
     * The kind for a code.
     *
     * @param code a code returned by {@link #code()}
     * @return the kind
     * @throws IllegalArgumentException for an unknown code
     */
    public static EventKind fromCode(int code) {
        if (code < 1 || code >= BY_CODE.length) {
            throw new IllegalArgumentException("unknown event kind " + code);
        }
        return BY_CODE[code];
    }
}
