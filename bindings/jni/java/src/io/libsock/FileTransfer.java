package io.libsock;

import java.io.IOException;
import java.util.Objects;

/**
 * One side of one file transfer over a {@link TcpConnection} (plain or TLS, TCP or Unix): a
 * file with its name, size and SHA-256, resumable — core's {@code libsock::transfer}, the
 * protocol of {@code libsock send-file}/{@code recv-file}, so the other side may be any door
 * or the command line tool. The receiver writes to {@code NAME.libsock-part} and renames it to
 * the final name only when the SHA-256 matches: no partial file ever has the final name.
 *
 * <p>{@link #run(TcpConnection)} moves the whole transfer; {@link #step(TcpConnection)} one
 * piece (the handshake, at most 1 MiB of the file, or the checksum exchange), for a program
 * that shows progress or stops between pieces. {@link #progress()} and {@link #cancel()} work
 * from any thread while another runs it. Each wait is bounded by the connection's timeout.
 * Errors: a checksum mismatch or a peer that does not speak the protocol
 * {@link BadFrameException}; an existing file without overwrite {@link IoException} (EEXIST);
 * {@code cancel} {@link LibsockInterruptedException}.
 *
 * <pre>{@code
 * try (FileTransfer t = FileTransfer.receiver("incoming/", new TransferOptions().withResume(true))) {
 *     TransferInfo info = t.run(conn);
 *     System.out.println(info.path() + " " + info.sha256());
 * }
 * }</pre>
 */
public final class FileTransfer implements AutoCloseable {
    private final NativeHandle handle;

    private FileTransfer(long id) {
        this.handle = new NativeHandle(this, id);
    }

    /**
     * A transfer that sends the file at {@code path} with the default options.
     *
     * @param path the file to send
     * @return the transfer
     * @throws IOException when the file cannot be opened ({@link IoException} with the OS's
     *     error), or is a directory ({@link InvalidArgumentException})
     */
    public static FileTransfer sender(String path) throws IOException {
        return sender(path, new TransferOptions());
    }

    /**
     * A transfer that sends the file at {@code path} (opened now, so a missing file fails
     * here, before anything is sent).
     *
     * @param path the file to send
     * @param options {@code resume} (version 2, default on) and {@code name}
     * @return the transfer
     * @throws IOException when the file cannot be opened, or is a directory
     */
    public static FileTransfer sender(String path, TransferOptions options) throws IOException {
        Objects.requireNonNull(path, "path");
        TransferOptions o = Objects.requireNonNull(options, "options");
        return new FileTransfer(Native.transferSender(path, o.name,
                o.resume == null || o.resume));
    }

    /**
     * A transfer that receives one file into {@code dest} with the default options.
     *
     * @param dest the file to write, or a directory to write into under the sender's name
     * @return the transfer
     * @throws IOException when {@code dest} is an existing file ({@link IoException}, EEXIST)
     */
    public static FileTransfer receiver(String dest) throws IOException {
        return receiver(dest, new TransferOptions());
    }

    /**
     * A transfer that receives one file into {@code dest}: the file to write, or a directory
     * to write into under the sender's name (made safe: no directories, no dot names). An
     * existing file {@code dest} without {@code overwrite} is refused here; a file of the
     * sender's name in a directory after the header.
     *
     * @param dest a file or a directory
     * @param options {@code overwrite} and {@code resume}
     * @return the transfer
     * @throws IOException when {@code dest} is an existing file and overwrite is off
     */
    public static FileTransfer receiver(String dest, TransferOptions options) throws IOException {
        Objects.requireNonNull(dest, "dest");
        TransferOptions o = Objects.requireNonNull(options, "options");
        return new FileTransfer(Native.transferReceiver(dest, o.overwrite,
                o.resume != null && o.resume));
    }

    /**
     * Moves the transfer one piece forward over {@code conn}: the handshake, at most 1 MiB of
     * the file, or the checksum exchange.
     *
     * @param conn the connection (the peer runs the other side)
     * @return the state afterwards ({@link TransferState#DONE} when complete; a step after
     *     that does nothing)
     * @throws IOException when the step fails (the transfer is then {@link TransferState#FAILED}
     *     and a later step throws {@link InvalidArgumentException} naming the first error)
     */
    public TransferState step(TcpConnection conn) throws IOException {
        Objects.requireNonNull(conn, "conn");
        return TransferState.fromCode(Native.transferStep(handle.id(), conn.h()));
    }

    /**
     * Runs the transfer to its end over {@code conn} (as {@link #step(TcpConnection)} until
     * {@link TransferState#DONE}).
     *
     * @param conn the connection
     * @return what is known about the transfer, its SHA-256 included
     * @throws IOException when it fails
     */
    public TransferInfo run(TcpConnection conn) throws IOException {
        Objects.requireNonNull(conn, "conn");
        Native.transferRun(handle.id(), conn.h());
        return info();
    }

    /**
     * Bytes done, the total and the state, from any thread, without waiting.
     *
     * @return a snapshot
     * @throws BadHandleException after {@link #close()}
     */
    public TransferProgress progress() throws IOException {
        return new TransferProgress(Native.transferProgress(handle.id()));
    }

    /**
     * Stops the transfer at the start of its next step (from any thread): that step throws
     * {@link LibsockInterruptedException}. A step blocked in a wait finishes first (within the
     * connection's timeout); closing the connection ends that wait at once. A receiver keeps
     * its partial file, for a later {@code withResume(true)}.
     *
     * @throws BadHandleException after {@link #close()}
     */
    public void cancel() throws IOException {
        Native.transferCancel(handle.id());
    }

    /**
     * The name, path, size, protocol version, resume offsets and (once verified) SHA-256.
     *
     * @return what is known now
     * @throws BadHandleException after {@link #close()}
     */
    public TransferInfo info() throws IOException {
        return new TransferInfo(Native.transferInfo(handle.id()));
    }

    /**
     * The message of the error that ended the transfer, or null.
     *
     * @return the message
     * @throws BadHandleException after {@link #close()}
     */
    public String error() throws IOException {
        return (String) Native.transferInfo(handle.id())[3];
    }

    /**
     * True once {@link #close()} was called.
     *
     * @return whether this transfer is closed
     */
    public boolean isClosed() {
        return handle.isClosed();
    }

    /**
     * Frees the transfer (a step under way in another thread stops at its next piece, as
     * after {@link #cancel()}); the connection is not closed. Idempotent.
     */
    @Override
    public void close() {
        handle.close();
    }

    @Override
    public String toString() {
        try {
            TransferProgress p = progress();
            return "FileTransfer(" + p.done() + "/" + p.total() + ", " + p.state() + ")";
        } catch (IOException e) {
            return "FileTransfer(closed)";
        }
    }
}
