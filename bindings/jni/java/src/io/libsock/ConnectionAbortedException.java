package io.libsock;

/**
 * The connection was aborted locally (code {@link ErrorKind#CONNECTION_ABORTED}): a {@link java.net.SocketException}.
 */
public class ConnectionAbortedException extends java.net.SocketException implements LibsockError {
    private static final long serialVersionUID = 1L;
    /** The stable error code. */
    private final int code;
    /** The OS error number, or 0. */
    private final int osError;

    /**
     * Creates the exception.
     *
     * @param message what failed (core's message)
     * @param code the stable code (see {@link ErrorKind})
     * @param osError the OS error number, or 0
     */
    public ConnectionAbortedException(String message, int code, int osError) {
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
