package io.libsock;

import java.util.Objects;

/**
 * How a {@link FileTransfer} sends or receives: core's words {@code resume}, {@code name}
 * (sender) and {@code overwrite} (receiver). Immutable; every {@code with...} returns a copy.
 *
 * <pre>{@code
 * FileTransfer.receiver("incoming/", new TransferOptions().withResume(true).withOverwrite(true));
 * FileTransfer.sender("backup.tar", new TransferOptions().withName("backup-monday.tar"));
 * }</pre>
 */
public final class TransferOptions {
    Boolean resume;
    String name;
    boolean overwrite;

    /** The defaults: a sender speaks version 2 under the file's own name; a receiver neither resumes nor overwrites. */
    public TransferOptions() {}

    private TransferOptions copy() {
        TransferOptions c = new TransferOptions();
        c.resume = resume;
        c.name = name;
        c.overwrite = overwrite;
        return c;
    }

    /**
     * Sender: speak version 2 of the protocol, which lets a receiver resume (true, the
     * default), or version 1 (false), for a receiver from before version 2. Receiver: go on
     * from the partial file ({@code NAME.libsock-part}) an interrupted transfer left (default
     * false: start over); the sender then sends only the rest when the first bytes match.
     *
     * @param resume on or off
     * @return a copy
     */
    public TransferOptions withResume(boolean resume) {
        TransferOptions c = copy();
        c.resume = resume;
        return c;
    }

    /**
     * Sender: the name the receiver is told (default: the file's own name, without its
     * directory).
     *
     * @param name the name
     * @return a copy
     */
    public TransferOptions withName(String name) {
        TransferOptions c = copy();
        c.name = Objects.requireNonNull(name, "name");
        return c;
    }

    /**
     * Receiver: replace an existing file of the final name (default false: refuse it with
     * {@link IoException}, errno EEXIST).
     *
     * @param overwrite on or off
     * @return a copy
     */
    public TransferOptions withOverwrite(boolean overwrite) {
        TransferOptions c = copy();
        c.overwrite = overwrite;
        return c;
    }
}
