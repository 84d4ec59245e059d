package io.libsock;

/**
 * Implemented by every exception libsock throws, including those that extend JDK classes
 * ({@link TimeoutException} is a {@link java.net.SocketTimeoutException},
 * {@link ConnectionRefusedException} a {@link java.net.ConnectException} ...), so the stable
 * code is available whatever the exception's superclass.
 */
public interface LibsockError {
    /**
     * The stable numeric code (see {@link ErrorKind#code()}).
     *
     * @return a negative error code
     */
    int code();

    /**
     * The error's kind.
     *
     * @return the kind for {@link #code()}
     */
    default ErrorKind kind() {
        return ErrorKind.fromCode(code());
    }

    /**
     * The OS error number (errno) behind the error, if the OS reported one.
     *
     * @return the errno, or 0
     */
    int osError();
}
