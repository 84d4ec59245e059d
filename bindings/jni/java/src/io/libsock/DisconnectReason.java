package io.libsock;

/**
 * Why an engine connection ended. {@link #code()} is the same number in every language door
 * (the C ABI's {@code LS_REASON_*}).
 */
public enum DisconnectReason {
    /** The peer closed the connection in order (1). */
    PEER_CLOSED(1),
    /** The peer reset the connection, or it broke (2). */
    RESET(2),
    /** Nothing arrived (or moved, per {@link IdleMode}) for the idle timeout (3). */
    IDLE_TIMEOUT(3),
    /** Nothing arrived for heartbeat interval times misses (4). */
    HEARTBEAT_LOST(4),
    /** The peer sent a frame larger than the framing allows, or a malformed header (5). */
    FRAME_TOO_LARGE(5),
    /** The application disconnected the client (6). */
    KICKED(6),
    /** The local server was shut down (7). */
    SERVER_SHUTDOWN(7),
    /** Another error; see {@link Event#errorKind()} and {@link Event#reasonText()} (8). */
    ERROR(8),
    /** The client's send queue overflowed under {@link SendPolicy#DISCONNECT} (9). */
    SEND_QUEUE_FULL(9),
    /** The local client was closed (10). */
    CLOSED(10),
    /**
     * TLS failed (11): the handshake (unknown CA, name or pin mismatch, protocol version, a
     * plaintext peer, the handshake timeout ...), a TLS alert later, or a peer that closed
     * without {@code close_notify} (the data may be truncated); {@link Event#reasonText()}
     * names the reason and {@link Event#errorKind()} is {@link ErrorKind#TLS}.
     */
    TLS(11);

    /** The stable code. */
    private final int code;

    DisconnectReason(int code) {
        this.code = code;
    }

    /**
     * The stable numeric code.
     *
     * @return 1 to 11
     */
    public int code() {
        return code;
    }

    /**
     * The reason for a code.
     *
     * @param code a code returned by {@link #code()}
     * @return the reason, or {@link #ERROR} for an unknown code
     */
    public static DisconnectReason fromCode(int code) {
        for (DisconnectReason r : values()) {
            if (r.code == code) {
                return r;
            }
        }
        return ERROR;
    }
}
