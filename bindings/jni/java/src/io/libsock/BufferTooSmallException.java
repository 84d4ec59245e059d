package io.libsock;

/**
 * The caller's buffer cannot hold the next message (code {@link ErrorKind#BUFFER_TOO_SMALL}).
 * The message stays queued: call again with a buffer of at least {@link #needed()} bytes.
 */
public class BufferTooSmallException extends LibsockException {
    private static final long serialVersionUID = 1L;
    /** The size the message needs. */
    private final long needed;

    /**
     * Creates the exception.
     *
     * @param message what failed
     * @param needed the size the message needs
     */
    public BufferTooSmallException(String message, long needed) {
        super(message, ErrorKind.BUFFER_TOO_SMALL.code(), 0);
        this.needed = needed;
    }

    /**
     * The size the message needs.
     *
     * @return bytes
     */
    public long needed() {
        return needed;
    }
}
