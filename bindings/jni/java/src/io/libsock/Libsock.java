package io.libsock;

import java.io.IOException;

/** Library-wide information. */
public final class Libsock {
    private Libsock() {}

    /**
     * Timeout argument of a blocking call: use the object's default timeout (its
     * {@code setTimeout}, initially forever). The same number as the C door's
     * {@code LS_TIMEOUT_DEFAULT}; engine pulls, which have no default, wait forever.
     */
    public static final int TIMEOUT_DEFAULT = -2;

    /** Timeout argument or setting: wait forever (the C door's {@code LS_TIMEOUT_FOREVER}). */
    public static final int TIMEOUT_FOREVER = -1;

    /** Timeout argument or setting: do not wait (the C door's {@code LS_TIMEOUT_POLL}). */
    public static final int TIMEOUT_POLL = 0;

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

    /**
     * Sets the number of the engine's worker threads (default: 2, or 1 on a single core). It
     * takes effect when the engine starts: call it before the first {@link Server},
     * {@link Client} or {@link DatagramServer}, or after {@link #shutdownEngine()}.
     *
     * @param threads 1 to 1024
     * @return true if the engine is not running, so the value applies to its next start
     * @throws InvalidArgumentException for a count outside 1..1024
     * @throws IOException never otherwise
     */
    public static boolean setEngineThreads(int threads) throws IOException {
        return Native.engineSetThreads(threads);
    }
}
