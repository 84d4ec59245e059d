package io.libsock;

/**
 * Any other OS error (code {@link ErrorKind#IO}); {@link #osError()} gives the errno. Named after the code like every libsock exception (docs/NAMES.md); it is an {@link java.io.IOException} like all of them.
 */
public class IoException extends LibsockException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message what failed (core's message)
     * @param code the stable code (see {@link ErrorKind})
     * @param osError the OS error number, or 0
     */
    public IoException(String message, int code, int osError) {
        super(message, code, osError);
    }
}
