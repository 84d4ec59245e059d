package io.libsock;

/** What the engine does when a client's send queue is full. */
public enum SendPolicy {
    /** The send throws {@link QueueFullException} and nothing is queued (the default). */
    ERROR,
    /**
     * The slow client is disconnected ({@link DisconnectReason#SEND_QUEUE_FULL}); the send
     * itself succeeds.
     */
    DISCONNECT
}
