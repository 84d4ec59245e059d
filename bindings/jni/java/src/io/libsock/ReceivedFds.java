package io.libsock;

/**
 * What {@link TcpConnection#recvFds(int, int)} received: bytes and the file descriptors that
 * came with them. The descriptors are this process's own and the caller's to close.
 */
public final class ReceivedFds {
    private final byte[] data;
    private final int[] fds;

    ReceivedFds(byte[] data, int[] fds) {
        this.data = data;
        this.fds = fds;
    }

    /**
     * The bytes (empty at the end of the stream).
     *
     * @return the bytes received
     */
    public byte[] data() {
        return data;
    }

    /**
     * The descriptors, in the order they were sent (see {@link FileDescriptors} to use or close
     * them).
     *
     * @return descriptor numbers, possibly none
     */
    public int[] fds() {
        return fds.clone();
    }

    @Override
    public String toString() {
        return "ReceivedFds(" + data.length + " bytes, " + fds.length + " fds)";
    }
}
