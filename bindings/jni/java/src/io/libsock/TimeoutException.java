package io.libsock;

/**
 * A wait ran out of time (code {@link ErrorKind#TIMEOUT}): a {@link java.net.SocketTimeoutException}. Nothing is lost: bytes that arrived stay buffered for the next call, and the connection still works.
 */
public class TimeoutException extends java.net.SocketTimeoutException implements LibsockError {
    private static final long serialVersionUID = 1L;
    /** The stable error code. */
    private final int code;
    /** The OS error number, or 0. */
    private final int osError;

    /**
     * Creates the exception.
     *
     * @param message what failed, with which address
     * @param code the stable code (see {@link ErrorKind})
     * @param osError the OS error number, or 0
     */
    public TimeoutException(String message, int code, int osError) {
        super(message);
        this.code = code;
        this.osError = osError;
    }

    /**
     * The stable numeric code.
     *
     * @return the code
     */
    @Override
    public int code() {
        return code;
    }

    /**
     * The OS error number.
     *
     * @return the errno, or 0
     */
    @Override
    public int osError() {
        return osError;
    }
}
