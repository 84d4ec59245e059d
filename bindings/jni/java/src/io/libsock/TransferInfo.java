package io.libsock;

/**
 * What is known about a {@link FileTransfer} ({@link FileTransfer#info()}): core's
 * {@code TransferInfo}, whose words are {@code name}, {@code path}, {@code size},
 * {@code version}, {@code offered}, {@code resumed_at}, {@code sha256}.
 */
public final class TransferInfo {
    private final String name;
    private final String path;
    private final String sha256;
    private final long size;
    private final int version;
    private final long offered;
    private final long resumedAt;

    TransferInfo(Object[] r) {
        name = (String) r[0];
        path = (String) r[1];
        sha256 = (String) r[2];
        long[] v = (long[]) r[4];
        size = v[0];
        version = (int) v[1];
        offered = v[2];
        resumedAt = v[3];
    }

    /**
     * The file's name as the sender announced it (on a receiver, the safe version of it that
     * was used).
     *
     * @return the name ("" on a receiver before the header)
     */
    public String name() {
        return name;
    }

    /**
     * The sender's file, or the receiver's final path (known after the header).
     *
     * @return the path
     */
    public String path() {
        return path;
    }

    /**
     * The file's size in bytes.
     *
     * @return the size
     */
    public long size() {
        return size;
    }

    /**
     * The protocol version spoken: 1 or 2 (0 on a receiver before the header).
     *
     * @return the version
     */
    public int version() {
        return version;
    }

    /**
     * The bytes the receiver offered to resume from (0: none).
     *
     * @return the offered offset
     */
    public long offered() {
        return offered;
    }

    /**
     * Where the bytes started: the offered offset when the sender accepted it, else 0.
     *
     * @return the resume offset
     */
    public long resumedAt() {
        return resumedAt;
    }

    /**
     * The SHA-256 of the whole file in lower-case hex, once verified ("" before).
     *
     * @return the digest
     */
    public String sha256() {
        return sha256;
    }

    @Override
    public String toString() {
        return "TransferInfo(" + name + ", " + size + " bytes, version " + version
                + ", resumed at " + resumedAt + ", sha256 " + sha256 + ")";
    }
}
