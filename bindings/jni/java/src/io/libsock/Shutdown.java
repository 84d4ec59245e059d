package io.libsock;

/**
 * Which direction {@link TcpConnection#shutdown(Shutdown)} shuts down; the numbers are the C
 * ABI's {@code LS_SHUT_*}, the names core's {@code Shutdown} (docs/NAMES.md).
 */
public enum Shutdown {
    /** No more receiving ({@code LS_SHUT_READ}). */
    READ(0),
    /** No more sending: a half-close, the peer reads end of stream ({@code LS_SHUT_WRITE}). */
    WRITE(1),
    /** Both directions ({@code LS_SHUT_BOTH}). */
    BOTH(2);

    /** The C ABI's number. */
    private final int code;

    Shutdown(int code) {
        this.code = code;
    }

    /**
     * The C ABI's number ({@code LS_SHUT_*}).
     *
     * @return 0, 1 or 2
     */
    public int code() {
        return code;
    }
}
