package io.libsock;

/**
 * A malformed address, an out-of-range number or another bad argument that libsock's core rejected (code {@link ErrorKind#INVALID_ARGUMENT}). Programming errors detected in Java itself use the JDK's classes instead: {@code null} gives {@link NullPointerException}, a bad offset or length {@link IndexOutOfBoundsException}.
 */
public class InvalidArgumentException extends LibsockException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message what failed
     * @param code the stable code (see {@link ErrorKind})
     * @param osError the OS error number, or 0
     */
    public InvalidArgumentException(String message, int code, int osError) {
        super(message, code, osError);
    }
}
