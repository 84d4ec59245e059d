package io.libsock;

/**
 * A closed, unknown or wrong-kind native handle (code {@link ErrorKind#BAD_HANDLE}): using an
 * object after {@code close()} throws it. Its own class, as every code's in every door (it was a
 * {@link ClosedException} before; {@link ClosedException} is the peer's close, or a close from
 * another thread while a call was blocked).
 */
public class BadHandleException extends LibsockException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message what failed
     * @param code the stable code (see {@link ErrorKind})
     * @param osError the OS error number, or 0
     */
    public BadHandleException(String message, int code, int osError) {
        super(message, code, osError);
    }
}
