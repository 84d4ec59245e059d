package io.libsock;

/**
 * The base of the local-address errors, a {@link java.net.BindException}: libsock throws its
 * subclasses {@link AddrInUseException} (code {@link ErrorKind#ADDR_IN_USE}) and
 * {@link AddrNotAvailableException} (code {@link ErrorKind#ADDR_NOT_AVAILABLE}), one class per
 * code as in every door; {@code catch (AddressException e)} still catches both.
 */
public class AddressException extends java.net.BindException implements LibsockError {
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
    public AddressException(String message, int code, int osError) {
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
