package io.libsock;

import java.io.IOException;

/**
 * The base class of libsock's own exceptions: an {@link IOException} with the stable numeric
 * {@link #code()}. Errors that Java already has a class for are thrown as subclasses of those
 * instead ({@link TimeoutException}, {@link ConnectionRefusedException}, {@link AddressException},
 * {@link UnreachableException}, {@link ResolveException}); all implement {@link LibsockError}.
 */
public class LibsockException extends IOException implements LibsockError {
    private static final long serialVersionUID = 1L;
    /** The stable error code. */
    private final int code;
    /** The OS error number, or 0. */
    private final int osError;

    /**
     * An exception with a message and a code.
     *
     * @param message what failed, with which address
     * @param code a code from {@link ErrorKind#code()}
     * @param osError the OS error number, or 0
     */
    public LibsockException(String message, int code, int osError) {
        super(message);
        this.code = code;
        this.osError = osError;
    }

    /**
     * The stable numeric code.
     *
     * @return the code (see {@link ErrorKind})
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
