package io.libsock;

/**
 * The stable categories of libsock errors. {@link #code()} is the same negative number in every
 * language door (the C ABI's {@code LS_ERR_*}), so logs and protocols can compare codes.
 */
public enum ErrorKind {
    /** A wait ran out of time (-1). */
    TIMEOUT(-1),
    /** Nobody listens at the address (-2). */
    CONNECTION_REFUSED(-2),
    /** The peer reset the connection (-3). */
    CONNECTION_RESET(-3),
    /** The connection was aborted locally (-4). */
    CONNECTION_ABORTED(-4),
    /** The peer finished sending, or this object was closed (-5). */
    CLOSED(-5),
    /** The local address is already in use (-6). */
    ADDR_IN_USE(-6),
    /** The local address is not available on this host (-7). */
    ADDR_NOT_AVAILABLE(-7),
    /** No route to the network or host (-8). */
    UNREACHABLE(-8),
    /** A host name could not be resolved (-9). */
    RESOLVE(-9),
    /** A malformed address, an out-of-range value ... (-10). */
    INVALID_ARGUMENT(-10),
    /** A frame exceeds the framing's maximum length (-11). */
    FRAME_TOO_LARGE(-11),
    /** The caller's buffer cannot hold the message, which stays queued (-12). */
    BUFFER_TOO_SMALL(-12),
    /** An unknown, closed or foreign handle (-13). */
    BAD_HANDLE(-13),
    /** A bounded queue is full (-14). */
    QUEUE_FULL(-14),
    /** Not supported on this OS or kind of socket (-15). */
    UNSUPPORTED(-15),
    /** A TLS failure (-16). */
    TLS(-16),
    /** Another OS error; see {@link LibsockError#osError()} (-17). */
    IO(-17),
    /** A bug inside libsock (-18). */
    INTERNAL(-18),
    /** A wait was interrupted (-19). */
    INTERRUPTED(-19),
    /**
     * The peer sent a malformed frame, e.g. a wrong HP-Socket PACK flag (-20). The stream cannot
     * be resynchronised: close the connection.
     */
    BAD_FRAME(-20);

    /** The stable error code. */
    private final int code;

    ErrorKind(int code) {
        this.code = code;
    }

    /**
     * The stable numeric code.
     *
     * @return a negative number that never changes meaning
     */
    public int code() {
        return code;
    }

    /**
     * The kind for a code.
     *
     * @param code a code returned by {@link #code()}
     * @return the kind, or {@link #IO} for an unknown code
     */
    public static ErrorKind fromCode(int code) {
        for (ErrorKind k : values()) {
            if (k.code == code) {
                return k;
            }
        }
        return IO;
    }
}
