package io.libsock;

import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;

/**
 * Between descriptor numbers ({@code int}, what {@link TcpConnection#sendFds(byte[], int[])}
 * sends and {@link TcpConnection#recvFds(int, int)} returns) and {@link FileDescriptor}, the
 * JDK's descriptor object.
 *
 * <p>The JDK has no public way to do either: a {@code FileDescriptor} keeps its number in a
 * private {@code int} field, {@code fd} in OpenJDK and {@code descriptor} in Android's libcore.
 * These methods read and write that field from native code (JNI is not bound by Java's access
 * checks, and no {@code --add-opens} is needed), as the platform's own native code does. On a
 * JVM with neither field they throw {@link UnsupportedException}, never crash; only OpenJDK is
 * tested here (CI has no Android device). A {@code FileDescriptor} made by
 * {@link #fileDescriptor(int)} is not tracked by the JDK's cleaner: close the stream made on it
 * (which closes the descriptor), or the descriptor stays open until the process ends.
 */
public final class FileDescriptors {
    private FileDescriptors() {}

    /**
     * The number inside a {@link FileDescriptor} (e.g. {@code stream.getFD()}).
     *
     * @param fd a descriptor object
     * @return its number
     * @throws InvalidArgumentException when it is not valid (closed, or never opened)
     * @throws UnsupportedException on a JVM whose FileDescriptor has no such field
     * @throws IOException on other failures
     */
    public static int fd(FileDescriptor fd) throws IOException {
        if (fd == null) {
            throw new NullPointerException("fd");
        }
        int n = Native.fdOf(fd);
        if (n < 0) {
            throw new InvalidArgumentException("invalid argument: the FileDescriptor is not valid"
                    + " (closed, or never opened)", ErrorKind.INVALID_ARGUMENT.code(), 0);
        }
        return n;
    }

    /**
     * A new {@link FileDescriptor} holding {@code fd}, which it takes over: closing a stream
     * made on it closes {@code fd}.
     *
     * @param fd a descriptor number this process owns (e.g. from
     *     {@link ReceivedFds#fds()})
     * @return the descriptor object
     * @throws InvalidArgumentException for a negative number
     * @throws UnsupportedException on a JVM whose FileDescriptor has no such field
     * @throws IOException on other failures
     */
    public static FileDescriptor fileDescriptor(int fd) throws IOException {
        return Native.fdObject(fd);
    }

    /**
     * A stream reading from {@code fd}, which it takes over (closing the stream closes it).
     *
     * @param fd a descriptor number this process owns, open for reading
     * @return the stream
     * @throws IOException as {@link #fileDescriptor(int)}
     */
    public static FileInputStream stream(int fd) throws IOException {
        return new FileInputStream(fileDescriptor(fd));
    }

    /**
     * A stream writing to {@code fd}, which it takes over (closing the stream closes it).
     *
     * @param fd a descriptor number this process owns, open for writing
     * @return the stream
     * @throws IOException as {@link #fileDescriptor(int)}
     */
    public static FileOutputStream outputStream(int fd) throws IOException {
        return new FileOutputStream(fileDescriptor(fd));
    }

    /**
     * Closes a descriptor number (one received and not wanted).
     *
     * @param fd a descriptor number this process owns
     * @throws IoException with the OS's error (EBADF) for one that is not open
     * @throws IOException on other failures
     */
    public static void close(int fd) throws IOException {
        Native.fdClose(fd);
    }
}
