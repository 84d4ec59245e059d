package io.libsock;

/**
 * A bounded send queue is full: the message was not queued (the engine's
 * {@link SendPolicy#ERROR} policy). Slow down, or retry after the peer has read. Code
 * {@link ErrorKind#QUEUE_FULL}.
 */
public class QueueFullException extends LibsockException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message what failed
     * @param code the stable code (see {@link ErrorKind})
     * @param osError the OS error number, or 0
     */
    public QueueFullException(String message, int code, int osError) {
        super(message, code, osError);
    }
}
