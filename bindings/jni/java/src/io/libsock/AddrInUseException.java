package io.libsock;

/**
 * The local address is taken (code {@link ErrorKind#ADDR_IN_USE}): an {@link AddressException}, so a {@link java.net.BindException}.
 */
public class AddrInUseException extends AddressException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message what failed (core's message, naming the address)
     * @param code the stable code (see {@link ErrorKind})
     * @param osError the OS error number, or 0
     */
    public AddrInUseException(String message, int code, int osError) {
        super(message, code, osError);
    }
}
