package io.libsock;

/**
 * The peer sent a malformed frame (code {@link ErrorKind#BAD_FRAME}): it breaks the framing's
 * rules, e.g. a wrong HP-Socket PACK flag or a length that the adjustment makes negative. The
 * stream cannot be resynchronised: close the connection.
 */
public class BadFrameException extends LibsockException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message what failed
     * @param code the stable code (see {@link ErrorKind})
     * @param osError the OS error number, or 0
     */
    public BadFrameException(String message, int code, int osError) {
        super(message, code, osError);
    }
}
