package io.libsock;

import java.io.IOException;

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

    /**
     * Stops libsock's engine: every {@link Server}, {@link Client} and {@link DatagramServer}
     * stops at once (threads waiting for their events wake; later commands throw
     * {@link ClosedException}) and the engine's threads are joined. A new engine object starts
     * the engine again. Call it before unloading, e.g. when an Android service ends.
     *
     * @throws IOException never in practice (declared for native failures)
     */
    public static void shutdownEngine() throws IOException {
        Native.engineShutdownAll();
    }
}
