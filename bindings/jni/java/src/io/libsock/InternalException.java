package io.libsock;

/**
 * A bug inside libsock (code {@link ErrorKind#INTERNAL}): a caught panic in the native library, or a JNI failure. Please report it.
 */
public class InternalException extends LibsockException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message what failed (core's message)
     * @param code the stable code (see {@link ErrorKind})
     * @param osError the OS error number, or 0
     */
    public InternalException(String message, int code, int osError) {
        super(message, code, osError);
    }
}
