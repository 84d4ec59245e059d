package io.libsock;

/** What counts as activity for the engine's idle timeout. */
public enum IdleMode {
    /** Only messages received (the default). */
    READS,
    /** Messages received or queued for sending. */
    READS_AND_WRITES
}
