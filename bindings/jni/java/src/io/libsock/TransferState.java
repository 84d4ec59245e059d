package io.libsock;

/**
 * Where a {@link FileTransfer} is: core's {@code TransferState}, with its stable numbers (the
 * same in every door).
 */
public enum TransferState {
    /** Nothing exchanged yet, or the header and (version 2) the resume offer in progress. */
    STARTING(1),
    /** File bytes are moving. */
    TRANSFERRING(2),
    /** Every byte moved; the SHA-256 and the verdict are being exchanged. */
    VERIFYING(3),
    /** Complete: the receiver verified the SHA-256 and renamed the file into place. */
    DONE(4),
    /** Ended by an error (thrown by the step that failed; see {@link FileTransfer#error()}). */
    FAILED(5);

    private final int code;

    TransferState(int code) {
        this.code = code;
    }

    /**
     * The stable number (1 = {@code STARTING} ... 5 = {@code FAILED}).
     *
     * @return the code
     */
    public int code() {
        return code;
    }

    /**
     * The state for a number from {@link #code()}.
     *
     * @param code 1..5
     * @return the state ({@link #FAILED} for a number core does not give)
     */
    public static TransferState fromCode(int code) {
        for (TransferState s : values()) {
            if (s.code == code) {
                return s;
            }
        }
        return FAILED;
    }
}
