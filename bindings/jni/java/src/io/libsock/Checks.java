package io.libsock;

/**
 * Argument checks (package-private), written out because {@code java.util.Objects}'s index
 * checks only exist on Android from API level 30.
 */
final class Checks {
    private Checks() {}

    /** Throws unless {@code off..off+len} lies inside an array of {@code cap} elements. */
    static void range(int off, int len, int cap) {
        if (off < 0 || len < 0 || off > cap - len) {
            throw new IndexOutOfBoundsException(
                    "offset " + off + " and length " + len + " do not fit an array of " + cap);
        }
    }

    /** Sets a buffer's position through {@link java.nio.Buffer} (portable to Java 8 / Android). */
    static void position(java.nio.Buffer buf, int pos) {
        buf.position(pos);
    }
}
