package io.libsock;

/**
 * The local address is not on this host (code {@link ErrorKind#ADDR_NOT_AVAILABLE}): an {@link AddressException}, so a {@link java.net.BindException}.
 */
public class AddrNotAvailableException extends AddressException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message what failed (core's message, naming the address)
     * @param code the stable code (see {@link ErrorKind})
     * @param osError the OS error number, or 0
     */
    public AddrNotAvailableException(String message, int code, int osError) {
        super(message, code, osError);
    }
}
