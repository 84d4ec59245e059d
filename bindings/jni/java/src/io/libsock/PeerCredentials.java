package io.libsock;

/**
 * The credentials of the process at the other end of a Unix connection, as the kernel recorded
 * them when the connection was made ({@link TcpConnection#peerCredentials()}).
 */
public final class PeerCredentials {
    /** The peer's process id. */
    public final int pid;
    /** The peer's user id (unsigned 32 bits, in a long). */
    public final long uid;
    /** The peer's group id (unsigned 32 bits, in a long). */
    public final long gid;

    PeerCredentials(int pid, long uid, long gid) {
        this.pid = pid;
        this.uid = uid;
        this.gid = gid;
    }

    @Override
    public String toString() {
        return "PeerCredentials(pid " + pid + ", uid " + uid + ", gid " + gid + ")";
    }
}
