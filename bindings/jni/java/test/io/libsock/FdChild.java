package io.libsock;

import java.io.FileInputStream;
import java.io.ByteArrayOutputStream;

/**
 * The other process of the descriptor-passing test ({@code Issue16Test.xFdPassingBetweenProcesses}):
 * connects to the Unix socket given, receives one descriptor, reads the file behind it through a
 * {@link java.io.FileDescriptor} made by {@link FileDescriptors}, and sends back what it read.
 */
public final class FdChild {
    private FdChild() {}

    /**
     * {@code FdChild unix:/path}.
     *
     * @param args the endpoint
     * @throws Exception on failure (the parent sees the exit status)
     */
    public static void main(String[] args) throws Exception {
        try (TcpConnection c = TcpConnection.connect(args[0],
                new ConnectOptions().withTimeout(30_000))) {
            ReceivedFds r = c.recvFds(16, 4);
            if (r.fds().length != 1) {
                throw new AssertionError("expected one descriptor, got " + r.fds().length);
            }
            ByteArrayOutputStream content = new ByteArrayOutputStream();
            try (FileInputStream in = FileDescriptors.stream(r.fds()[0])) {
                byte[] buf = new byte[4096];
                for (int n; (n = in.read(buf)) > 0; ) {
                    content.write(buf, 0, n);
                }
            }
            c.sendAll(r.data());
            c.sendAll(content.toByteArray());
            c.shutdownOutput();
            c.recv(1);   // until the parent closes
        }
        System.exit(0);
    }
}
