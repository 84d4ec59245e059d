package io.libsock;

/**
 * The operation or option does not exist on this OS or kind of socket (code {@link ErrorKind#UNSUPPORTED}).
 */
public class UnsupportedException extends LibsockException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message what failed (core's message)
     * @param code the stable code (see {@link ErrorKind})
     * @param osError the OS error number, or 0
     */
    public UnsupportedException(String message, int code, int osError) {
        super(message, code, osError);
    }
}
