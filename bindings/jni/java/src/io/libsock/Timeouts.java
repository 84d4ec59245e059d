package io.libsock;

/** Checks timeout arguments (package-private). */
final class Timeouts {
    private Timeouts() {}

    /** Milliseconds: -1 forever, 0 poll, positive; anything else is rejected. */
    static int check(int ms) throws InvalidArgumentException {
        if (ms < -1) {
            throw new InvalidArgumentException(
                    "invalid argument: timeout " + ms
                            + " ms (use -1 for forever, 0 to poll, or a positive number)",
                    ErrorKind.INVALID_ARGUMENT.code(), 0);
        }
        return ms;
    }
}
