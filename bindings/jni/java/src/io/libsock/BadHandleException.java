package io.libsock;

/**
 * A closed, unknown or wrong-kind native handle (code {@link ErrorKind#BAD_HANDLE}). A subclass of {@link ClosedException}: using an object after {@code close()} throws it.
 */
public class BadHandleException extends ClosedException {
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
