package io.libsock;

/** Library-wide information. */
public final class Libsock {
    private Libsock() {}

    /**
     * The version of the native libsock core, e.g. {@code "0.1.0"}.
     *
     * @return the version
     */
    public static String version() {
        return Native.version();
    }
}
