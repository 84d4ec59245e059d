package io.libsock;

/**
 * Checks timeout settings (package-private). Timeouts are {@code int} milliseconds with the C
 * door's convention: per call -2 ({@link Libsock#TIMEOUT_DEFAULT}) the object's default, -1
 * forever, 0 poll, N ms (checked by the native side); a setting (a default timeout, a connect
 * or idle limit) is -1, 0 or N ms.
 */
final class Timeouts {
    private Timeouts() {}

    /** A timeout setting: -1 forever, 0 poll, positive; anything else is refused. */
    static int check(int ms) throws InvalidArgumentException {
        if (ms < -1) {
            throw new InvalidArgumentException(
                    "invalid argument: timeout_ms is " + ms
                            + " (use -1 for forever, 0 to poll, or a positive number of ms)",
                    ErrorKind.INVALID_ARGUMENT.code(), 0);
        }
        return ms;
    }
}
