package io.libsock;

/**
 * What {@link Datagram#recvFrom(byte[], int, int, int)} received: how many bytes were written,
 * the datagram's real size, whether it was truncated, and who sent it.
 */
public final class ReceivedDatagram {
    private final int length;
    private final long fullLength;
    private final boolean truncated;
    private final String sender;

    ReceivedDatagram(int length, long fullLength, boolean truncated, String sender) {
        this.length = length;
        this.fullLength = fullLength;
        this.truncated = truncated;
        this.sender = sender;
    }

    /**
     * Bytes written into the buffer.
     *
     * @return bytes
     */
    public int length() {
        return length;
    }

    /**
     * The datagram's size: larger than {@link #length()} when truncated (where the OS cannot
     * tell the exact size it is at least {@code length() + 1}).
     *
     * @return bytes
     */
    public long fullLength() {
        return fullLength;
    }

    /**
     * True when the datagram did not fit and its tail was discarded.
     *
     * @return whether truncated
     */
    public boolean truncated() {
        return truncated;
    }

    /**
     * The sender's address, e.g. {@code "127.0.0.1:5000"}, usable with
     * {@link Datagram#sendTo(byte[], String)}.
     *
     * @return the address as text
     */
    public String sender() {
        return sender;
    }

    /**
     * A description.
     *
     * @return text
     */
    @Override
    public String toString() {
        return "ReceivedDatagram[" + length + " bytes from " + sender
                + (truncated ? ", truncated from " + fullLength : "") + "]";
    }
}
