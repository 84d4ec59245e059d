package io.libsock;

/** A snapshot of a {@link FileTransfer}'s progress ({@link FileTransfer#progress()}). */
public final class TransferProgress {
    private final long done;
    private final long total;
    private final TransferState state;

    TransferProgress(long[] v) {
        done = v[0];
        total = v[1];
        state = TransferState.fromCode((int) v[2]);
    }

    /**
     * Bytes of the file sent (a sender: handed to the connection) or written (a receiver),
     * counted from the start of the file: a resumed transfer starts at its offset.
     *
     * @return bytes done
     */
    public long done() {
        return done;
    }

    /**
     * The file's size (0 on a receiver until the sender's header arrived).
     *
     * @return bytes in all
     */
    public long total() {
        return total;
    }

    /**
     * Where the transfer is.
     *
     * @return the state
     */
    public TransferState state() {
        return state;
    }

    @Override
    public String toString() {
        return "TransferProgress(" + done + "/" + total + ", " + state + ")";
    }
}
