package io.libsock;

/**
 * The connection was closed: by the peer (an orderly end of stream where data was required), by this program (use after {@link AutoCloseable#close()}), or from another thread while a call was blocked, which then returns at once with this exception. Code {@link ErrorKind#CLOSED}.
 */
public class ClosedException extends LibsockException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message what failed
     * @param code the stable code (see {@link ErrorKind})
     * @param osError the OS error number, or 0
     */
    public ClosedException(String message, int code, int osError) {
        super(message, code, osError);
    }
}
