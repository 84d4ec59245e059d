package io.libsock;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.util.Objects;

/**
 * A connected TCP (or Unix stream, with a {@code "unix:/path"} endpoint) socket.
 *
 * <p>Every blocking call takes a timeout in milliseconds: -1 waits forever, 0 polls, and the
 * overloads without one use the connection's default ({@link #setTimeout(int)}, forever unless
 * set). A timeout throws {@link TimeoutException} (a {@link java.net.SocketTimeoutException})
 * and loses nothing: bytes that arrived stay buffered and the connection keeps working.
 *
 * <p>One thread may send while another receives. {@link #close()} may be called from any thread,
 * also while another thread is blocked on the connection: that call then throws
 * {@link ClosedException} at once. Using the connection after close throws
 * {@link BadHandleException}. Connections not closed are closed
 * when garbage-collected, but close them (try-with-resources) rather than rely on that.
 *
 * <pre>{@code
 * try (TcpConnection c = TcpConnection.connect("example.com", 7000, 3000)) {
 *     c.setFraming(Framing.lengthPrefixed());
 *     c.sendMsg("hello".getBytes(StandardCharsets.UTF_8));
 *     byte[] reply = c.recvMsg(5000);
 * }
 * }</pre>
 */
public final class TcpConnection implements AutoCloseable {
    private final NativeHandle handle;
    private volatile Framing framing;

    TcpConnection(long id, Framing framing) {
        this.handle = new NativeHandle(this, id);
        this.framing = framing;
    }

    long h() {
        return handle.id();
    }

    /**
     * Connects to {@code endpoint}: {@code "host:port"}, {@code "[::1]:port"} or
     * {@code "unix:/path"}.
     *
     * @param endpoint where to connect
     * @return the connection
     * @throws ConnectionRefusedException when nobody listens there
     * @throws InvalidArgumentException for a malformed endpoint
     * @throws IOException for other failures
     */
    public static TcpConnection connect(String endpoint) throws IOException {
        return connect(endpoint, new ConnectOptions());
    }

    /**
     * Connects with options.
     *
     * @param endpoint where to connect
     * @param options time limits, framing, socket options
     * @return the connection
     * @throws IOException when connecting fails
     */
    public static TcpConnection connect(String endpoint, ConnectOptions options)
            throws IOException {
        Objects.requireNonNull(endpoint, "endpoint");
        return open(endpoint, null, 0, options);
    }

    /**
     * Connects to {@code host} (a name or an IPv4/IPv6 literal) and {@code port}, trying every
     * address the name resolves to.
     *
     * @param host host name or IP literal
     * @param port port number
     * @return the connection
     * @throws IOException when connecting fails
     */
    public static TcpConnection connect(String host, int port) throws IOException {
        return connect(host, port, new ConnectOptions());
    }

    /**
     * Connects to {@code host} and {@code port} within {@code connectTimeoutMillis}.
     *
     * @param host host name or IP literal
     * @param port port number
     * @param connectTimeoutMillis limit for resolving and connecting
     * @return the connection
     * @throws IOException when connecting fails
     */
    public static TcpConnection connect(String host, int port, int connectTimeoutMillis)
            throws IOException {
        return connect(host, port, new ConnectOptions().withConnectTimeout(connectTimeoutMillis));
    }

    /**
     * Connects to {@code host} and {@code port} with options.
     *
     * @param host host name or IP literal
     * @param port port number
     * @param options time limits, framing, socket options
     * @return the connection
     * @throws IOException when connecting fails
     */
    public static TcpConnection connect(String host, int port, ConnectOptions options)
            throws IOException {
        Objects.requireNonNull(host, "host");
        return open(null, host, port, options);
    }

    private static TcpConnection open(String endpoint, String host, int port, ConnectOptions o)
            throws IOException {
        Objects.requireNonNull(o, "options");
        long id = Native.connect(endpoint, host, port, o.connectTimeout, o.timeout,
                o.options.numbers(), o.options.vals(), o.tls == null ? 0 : o.tls.id(), o.proxy);
        TcpConnection c = new TcpConnection(id, Framing.raw());
        if (o.framing != Framing.raw()) {
            try {
                c.setFraming(o.framing);
            } catch (IOException | RuntimeException e) {
                c.close();
                throw e;
            }
        }
        return c;
    }

    // ---- sending

    /**
     * Sends what the socket takes in one system call.
     *
     * @param data the bytes
     * @return bytes sent (at least one, unless {@code data} is empty)
     * @throws IOException on failure
     */
    public int send(byte[] data) throws IOException {
        return send(data, 0, data.length, Native.DEFAULT);
    }

    /**
     * Sends what the socket takes of {@code data[off..off+len]} in one system call.
     *
     * @param data the array
     * @param off first byte
     * @param len number of bytes
     * @param timeoutMillis time allowed (-1 forever, 0 poll)
     * @return bytes sent
     * @throws IOException on failure
     */
    public int send(byte[] data, int off, int len, int timeoutMillis) throws IOException {
        Checks.range(off, len, data.length);
        return Native.connSend(h(), data, off, len, timeoutMillis);
    }

    /**
     * Sends all of {@code data}.
     *
     * @param data the bytes
     * @throws IOException on failure
     */
    public void sendAll(byte[] data) throws IOException {
        sendAll(data, 0, data.length, Native.DEFAULT);
    }

    /**
     * Sends all of {@code data[off..off+len]}.
     *
     * @param data the array
     * @param off first byte
     * @param len number of bytes
     * @throws IOException on failure
     */
    public void sendAll(byte[] data, int off, int len) throws IOException {
        sendAll(data, off, len, Native.DEFAULT);
    }

    /**
     * Sends all of {@code data[off..off+len]} within {@code timeoutMillis}.
     *
     * @param data the array
     * @param off first byte
     * @param len number of bytes
     * @param timeoutMillis time allowed for the whole send (-1 forever)
     * @throws IOException on failure
     */
    public void sendAll(byte[] data, int off, int len, int timeoutMillis) throws IOException {
        Checks.range(off, len, data.length);
        Native.connSendAll(h(), data, off, len, timeoutMillis);
    }

    /**
     * Sends the buffer's remaining bytes (no copy for a direct buffer) and advances its
     * position.
     *
     * @param buf the bytes between position and limit
     * @throws IOException on failure
     */
    public void sendAll(ByteBuffer buf) throws IOException {
        int pos = buf.position();
        int len = buf.remaining();
        if (buf.isDirect()) {
            Native.connSendAllDirect(h(), buf, pos, len, Native.DEFAULT);
        } else if (buf.hasArray()) {
            Native.connSendAll(h(), buf.array(), buf.arrayOffset() + pos, len, Native.DEFAULT);
        } else {
            byte[] copy = new byte[len];
            buf.duplicate().get(copy);
            Native.connSendAll(h(), copy, 0, len, Native.DEFAULT);
        }
        Checks.position(buf, pos + len);
    }

    // ---- receiving bytes

    /**
     * Receives up to {@code maxBytes} (waits for at least one).
     *
     * @param maxBytes the most to return
     * @return the bytes; an empty array when the peer closed in order
     * @throws IOException on failure
     */
    public byte[] recv(int maxBytes) throws IOException {
        return recv(maxBytes, Native.DEFAULT);
    }

    /**
     * Receives up to {@code maxBytes} within {@code timeoutMillis}.
     *
     * @param maxBytes the most to return
     * @param timeoutMillis time allowed (-1 forever, 0 poll)
     * @return the bytes; an empty array when the peer closed in order
     * @throws TimeoutException when nothing arrived in time
     * @throws IOException on other failures
     */
    public byte[] recv(int maxBytes, int timeoutMillis) throws IOException {
        if (maxBytes < 0) {
            throw new IllegalArgumentException("maxBytes " + maxBytes + " is negative");
        }
        byte[] buf = new byte[maxBytes];
        int n = Native.connRecv(h(), buf, 0, maxBytes, timeoutMillis);
        if (n == maxBytes) {
            return buf;
        }
        byte[] out = new byte[n];
        System.arraycopy(buf, 0, out, 0, n);
        return out;
    }

    /**
     * Receives into {@code buf}.
     *
     * @param buf the destination
     * @return bytes received, or -1 at end of stream (as {@link InputStream#read(byte[])})
     * @throws IOException on failure
     */
    public int recvInto(byte[] buf) throws IOException {
        return recvInto(buf, 0, buf.length, Native.DEFAULT);
    }

    /**
     * Receives into {@code buf[off..off+len]}.
     *
     * @param buf the destination
     * @param off first byte to write
     * @param len the most to receive
     * @return bytes received, -1 at end of stream, 0 if {@code len} is 0
     * @throws IOException on failure
     */
    public int recvInto(byte[] buf, int off, int len) throws IOException {
        return recvInto(buf, off, len, Native.DEFAULT);
    }

    /**
     * Receives into {@code buf[off..off+len]} within {@code timeoutMillis}.
     *
     * @param buf the destination
     * @param off first byte to write
     * @param len the most to receive
     * @param timeoutMillis time allowed (-1 forever, 0 poll)
     * @return bytes received, -1 at end of stream, 0 if {@code len} is 0
     * @throws IOException on failure
     */
    public int recvInto(byte[] buf, int off, int len, int timeoutMillis) throws IOException {
        Checks.range(off, len, buf.length);
        int n = Native.connRecv(h(), buf, off, len, timeoutMillis);
        return n == 0 && len > 0 ? -1 : n;
    }

    /**
     * Receives into the buffer's space between position and limit (no copy for a direct
     * buffer) and advances its position.
     *
     * @param buf the destination
     * @return bytes received, or -1 at end of stream
     * @throws IOException on failure
     */
    public int recvInto(ByteBuffer buf) throws IOException {
        return recvInto(buf, Native.DEFAULT);
    }

    /**
     * {@link #recvInto(ByteBuffer)} within {@code timeoutMillis}.
     *
     * @param buf the destination
     * @param timeoutMillis time allowed (-1 forever, 0 poll)
     * @return bytes received, or -1 at end of stream
     * @throws IOException on failure
     */
    public int recvInto(ByteBuffer buf, int timeoutMillis) throws IOException {
        int pos = buf.position();
        int len = buf.remaining();
        if (buf.isReadOnly()) {
            throw new java.nio.ReadOnlyBufferException();
        }
        int n;
        if (buf.isDirect()) {
            n = Native.connRecvDirect(h(), buf, pos, len, timeoutMillis);
        } else {
            n = Native.connRecv(h(), buf.array(), buf.arrayOffset() + pos, len, timeoutMillis);
        }
        Checks.position(buf, pos + n);
        return n == 0 && len > 0 ? -1 : n;
    }

    /**
     * Receives exactly {@code n} bytes.
     *
     * @param n the number of bytes
     * @return the bytes
     * @throws ClosedException if the peer closes first (what arrived stays buffered)
     * @throws IOException on other failures
     */
    public byte[] recvExact(int n) throws IOException {
        return recvExact(n, Native.DEFAULT);
    }

    /**
     * Receives exactly {@code n} bytes within {@code timeoutMillis}.
     *
     * @param n the number of bytes
     * @param timeoutMillis time allowed for all of them
     * @return the bytes
     * @throws IOException on failure
     */
    public byte[] recvExact(int n, int timeoutMillis) throws IOException {
        byte[] buf = new byte[n];
        Native.connRecvExact(h(), buf, 0, n, timeoutMillis);
        return buf;
    }

    /**
     * Fills {@code buf[off..off+len]} completely.
     *
     * @param buf the destination
     * @param off first byte
     * @param len number of bytes
     * @param timeoutMillis time allowed for all of them
     * @throws IOException on failure
     */
    public void recvExactInto(byte[] buf, int off, int len, int timeoutMillis) throws IOException {
        Checks.range(off, len, buf.length);
        Native.connRecvExact(h(), buf, off, len, timeoutMillis);
    }

    /**
     * Receives up to and including {@code delimiter}.
     *
     * @param delimiter the delimiter (not empty)
     * @param max the most bytes to accept without finding it
     * @return the bytes, delimiter included
     * @throws FrameTooLargeException if {@code max} bytes arrive without the delimiter
     * @throws IOException on other failures
     */
    public byte[] recvUntil(byte[] delimiter, int max) throws IOException {
        return recvUntil(delimiter, max, Native.DEFAULT);
    }

    /**
     * {@link #recvUntil(byte[], int)} within {@code timeoutMillis}.
     *
     * @param delimiter the delimiter (not empty)
     * @param max the most bytes to accept without finding it
     * @param timeoutMillis time allowed
     * @return the bytes, delimiter included
     * @throws IOException on failure
     */
    public byte[] recvUntil(byte[] delimiter, int max, int timeoutMillis) throws IOException {
        Objects.requireNonNull(delimiter, "delimiter");
        return Native.connRecvUntil(h(), delimiter, max, timeoutMillis);
    }

    // ---- messages

    /**
     * Sends one message through the connection's framing.
     *
     * @param msg the message
     * @throws FrameTooLargeException if it exceeds the framing's maximum
     * @throws IOException on other failures
     */
    public void sendMsg(byte[] msg) throws IOException {
        sendMsg(msg, 0, msg.length, Native.DEFAULT);
    }

    /**
     * Sends {@code msg[off..off+len]} as one message within {@code timeoutMillis}.
     *
     * @param msg the array
     * @param off first byte
     * @param len message length
     * @param timeoutMillis time allowed
     * @throws IOException on failure
     */
    public void sendMsg(byte[] msg, int off, int len, int timeoutMillis) throws IOException {
        Checks.range(off, len, msg.length);
        Native.connSendMsg(h(), msg, off, len, timeoutMillis);
    }

    /**
     * Receives the next message through the connection's framing.
     *
     * @return the message
     * @throws ClosedException at end of stream
     * @throws FrameTooLargeException if the peer announces a message over the maximum
     * @throws IOException on other failures
     */
    public byte[] recvMsg() throws IOException {
        return Native.connRecvMsg(h(), Native.DEFAULT);
    }

    /**
     * Receives the next message within {@code timeoutMillis}.
     *
     * @param timeoutMillis time allowed (-1 forever, 0 poll)
     * @return the message
     * @throws IOException on failure
     */
    public byte[] recvMsg(int timeoutMillis) throws IOException {
        return Native.connRecvMsg(h(), timeoutMillis);
    }

    /**
     * Sends several messages through the connection's framing with as few system calls as
     * possible (their frames go out together in vectored writes): core's {@code send_msgs}.
     * Every message is checked against the framing before anything is sent, so a bad one sends
     * none.
     *
     * @param msgs the messages, in order (none null)
     * @throws FrameTooLargeException for a message the framing cannot carry (nothing sent)
     * @throws IOException on other failures
     */
    public void sendMsgs(byte[]... msgs) throws IOException {
        sendMsgs(msgs, Native.DEFAULT);
    }

    /**
     * {@link #sendMsgs(byte[]...)} within {@code timeoutMillis}.
     *
     * @param msgs the messages, in order (none null)
     * @param timeoutMillis time allowed (-1 forever, 0 poll, -2 the default)
     * @throws IOException on failure
     */
    public void sendMsgs(byte[][] msgs, int timeoutMillis) throws IOException {
        Objects.requireNonNull(msgs, "msgs");
        for (byte[] m : msgs) {
            Objects.requireNonNull(m, "a message");
        }
        Native.connSendMsgs(h(), msgs, timeoutMillis);
    }

    /**
     * Sends {@code data} with file descriptors attached (SCM_RIGHTS; Unix connections only):
     * the receiving process gets its own copies of the descriptors, which stay open here too.
     * Descriptors are {@code int}s because that is what the kernel passes; for a
     * {@link java.io.FileDescriptor} (of a {@code FileInputStream}, {@code FileOutputStream} or
     * {@code RandomAccessFile}) use {@link #sendFds(byte[], java.io.FileDescriptor...)} or
     * {@link FileDescriptors#fd(java.io.FileDescriptor)}. Keep the descriptors open until this
     * returns.
     *
     * @param data at least one byte (the descriptors travel with it)
     * @param fds the descriptors
     * @throws UnsupportedException on a TCP or TLS connection
     * @throws IOException on other failures (a closed descriptor: {@link IoException}, EBADF)
     */
    public void sendFds(byte[] data, int[] fds) throws IOException {
        sendFds(data, fds, Native.DEFAULT);
    }

    /**
     * {@link #sendFds(byte[], int[])} within {@code timeoutMillis}.
     *
     * @param data at least one byte
     * @param fds the descriptors
     * @param timeoutMillis time allowed (-1 forever, 0 poll, -2 the default)
     * @throws IOException on failure
     */
    public void sendFds(byte[] data, int[] fds, int timeoutMillis) throws IOException {
        Objects.requireNonNull(data, "data");
        Objects.requireNonNull(fds, "fds");
        Native.connSendFds(h(), data, 0, data.length, fds, timeoutMillis);
    }

    /**
     * {@link #sendFds(byte[], int[])} for {@link java.io.FileDescriptor}s (read through
     * {@link FileDescriptors#fd(java.io.FileDescriptor)}).
     *
     * @param data at least one byte
     * @param fds the descriptors (each valid)
     * @throws IOException on failure, {@link InvalidArgumentException} for an invalid one
     */
    public void sendFds(byte[] data, java.io.FileDescriptor... fds) throws IOException {
        Objects.requireNonNull(fds, "fds");
        int[] raw = new int[fds.length];
        for (int i = 0; i < fds.length; i++) {
            raw[i] = FileDescriptors.fd(fds[i]);
        }
        sendFds(data, raw);
    }

    /**
     * Receives up to {@code maxBytes} bytes and up to {@code maxFds} file descriptors sent with
     * them (Unix connections only). The descriptors are new in this process and the caller's to
     * close (close-on-exec is set): wrap one with {@link FileDescriptors#stream(int)} or
     * {@link FileDescriptors#fileDescriptor(int)}, or close it with
     * {@link FileDescriptors#close(int)}. More descriptors than {@code maxFds} throw
     * {@link IoException} (the extra ones are closed, the bytes stay for the next receive).
     *
     * @param maxBytes the most bytes to take (one call takes at most 1 MiB)
     * @param maxFds the most descriptors to take
     * @return the bytes (empty at the end of the stream) and the descriptors
     * @throws UnsupportedException on a TCP or TLS connection
     * @throws IOException on other failures
     */
    public ReceivedFds recvFds(int maxBytes, int maxFds) throws IOException {
        return recvFds(maxBytes, maxFds, Native.DEFAULT);
    }

    /**
     * {@link #recvFds(int, int)} within {@code timeoutMillis}.
     *
     * @param maxBytes the most bytes to take
     * @param maxFds the most descriptors to take
     * @param timeoutMillis time allowed (-1 forever, 0 poll, -2 the default)
     * @return the bytes and the descriptors
     * @throws IOException on failure
     */
    public ReceivedFds recvFds(int maxBytes, int maxFds, int timeoutMillis) throws IOException {
        Object[] r = Native.connRecvFds(h(), maxBytes, maxFds, timeoutMillis);
        return new ReceivedFds((byte[]) r[0], (int[]) r[1]);
    }

    /**
     * The connection's counters: bytes and messages each way (messages: what the
     * {@code sendMsg}/{@code recvMsg} families moved), since when, TLS or not; core's
     * {@code Connection::stats}, the same {@link ConnectionStats} as
     * {@link Server#clientStats(long)} ({@code queuedBytes} is always 0: a blocking connection
     * queues nothing). Never waits behind a blocked call.
     *
     * @return a snapshot
     * @throws BadHandleException after {@link #close()}
     */
    public ConnectionStats stats() throws IOException {
        Object[] r = Native.connStats(h());
        return new ConnectionStats((String) r[0], (long[]) r[1]);
    }

    /**
     * The peer process's credentials as the kernel recorded them when the connection was made
     * (SO_PEERCRED; Unix connections on Linux).
     *
     * @return pid, uid and gid
     * @throws UnsupportedException on a TCP connection
     * @throws IOException on other failures
     */
    public PeerCredentials peerCredentials() throws IOException {
        long[] v = Native.connPeerCredentials(h());
        return new PeerCredentials((int) v[0], v[1], v[2]);
    }

    /**
     * Waits for one message, then returns up to {@code max} messages that have already arrived
     * (fewer native calls when messages come in bursts).
     *
     * @param max the most messages to return (at least 1 to receive anything)
     * @return the messages, in order
     * @throws IOException on failure
     */
    public byte[][] recvMsgs(int max) throws IOException {
        return Native.connRecvMsgs(h(), max, Native.DEFAULT);
    }

    /**
     * {@link #recvMsgs(int)} within {@code timeoutMillis} for the first message.
     *
     * @param max the most messages to return
     * @param timeoutMillis time allowed for the first message (-1 forever, 0 poll)
     * @return the messages, in order
     * @throws IOException on failure
     */
    public byte[][] recvMsgs(int max, int timeoutMillis) throws IOException {
        return Native.connRecvMsgs(h(), max, timeoutMillis);
    }

    /**
     * Receives the next message into {@code buf}.
     *
     * @param buf the destination
     * @return the message length
     * @throws BufferTooSmallException if it does not fit; the message stays queued and
     *     {@link BufferTooSmallException#needed()} tells the size needed
     * @throws IOException on other failures
     */
    public int recvMsgInto(byte[] buf) throws IOException {
        return recvMsgInto(buf, 0, buf.length, Native.DEFAULT);
    }

    /**
     * Receives the next message into {@code buf[off..off+len]} within {@code timeoutMillis}.
     *
     * @param buf the destination
     * @param off first byte to write
     * @param len space available
     * @param timeoutMillis time allowed
     * @return the message length
     * @throws BufferTooSmallException if it does not fit (it stays queued)
     * @throws IOException on other failures
     */
    public int recvMsgInto(byte[] buf, int off, int len, int timeoutMillis) throws IOException {
        Checks.range(off, len, buf.length);
        return Native.connRecvMsgInto(h(), buf, off, len, timeoutMillis);
    }

    /**
     * Receives the next message into the buffer's space between position and limit and
     * advances the position (no copy for a direct buffer).
     *
     * @param buf the destination
     * @return the message length
     * @throws BufferTooSmallException if it does not fit (it stays queued)
     * @throws IOException on other failures
     */
    public int recvMsgInto(ByteBuffer buf) throws IOException {
        int pos = buf.position();
        int len = buf.remaining();
        if (buf.isReadOnly()) {
            throw new java.nio.ReadOnlyBufferException();
        }
        int n;
        if (buf.isDirect()) {
            n = Native.connRecvMsgDirect(h(), buf, pos, len, Native.DEFAULT);
        } else {
            n = Native.connRecvMsgInto(h(), buf.array(), buf.arrayOffset() + pos, len,
                    Native.DEFAULT);
        }
        Checks.position(buf, pos + n);
        return n;
    }

    /**
     * Sets the framing used by {@code sendMsg}/{@code recvMsg}. Bytes already buffered are
     * decoded with the new framing.
     *
     * @param framing the framing
     * @throws IOException if the framing's parameters are invalid
     */
    public void setFraming(Framing framing) throws IOException {
        Objects.requireNonNull(framing, "framing");
        framing.apply(h());
        this.framing = framing;
    }

    /**
     * The framing used by {@code sendMsg}/{@code recvMsg}.
     *
     * @return the framing
     */
    public Framing getFraming() {
        return framing;
    }

    // ---- files

    /**
     * Sends the whole file at {@code path} (sendfile(2) on Linux and Android).
     *
     * @param path the file
     * @return bytes sent
     * @throws IOException on failure
     */
    public long sendFile(String path) throws IOException {
        return sendFile(path, 0, -1);
    }

    /**
     * Sends {@code length} bytes of the file from {@code offset}.
     *
     * @param path the file
     * @param offset first byte of the file
     * @param length bytes to send, -1 for the rest of the file
     * @return bytes sent
     * @throws IOException on failure
     */
    public long sendFile(String path, long offset, long length) throws IOException {
        Objects.requireNonNull(path, "path");
        return Native.connSendFile(h(), path, offset, length, Native.DEFAULT);
    }

    /**
     * Receives exactly {@code length} bytes into a new file at {@code path}.
     *
     * @param path the file (created or truncated)
     * @param length bytes to receive
     * @return bytes received
     * @throws IOException on failure
     */
    public long recvFile(String path, long length) throws IOException {
        Objects.requireNonNull(path, "path");
        return Native.connRecvFile(h(), path, length, Native.DEFAULT);
    }

    // ---- state

    /**
     * Shuts down one direction (the handle stays open until {@link #close()}):
     * {@link Shutdown#WRITE} half-closes (the peer reads end of stream after our data and can
     * still reply), {@link Shutdown#READ} or {@link Shutdown#BOTH}, as {@code shutdown(how)} in
     * every door.
     *
     * @param how the direction
     * @throws IOException on failure
     */
    public void shutdown(Shutdown how) throws IOException {
        Native.connShutdown(h(), Objects.requireNonNull(how, "how").code());
    }

    /**
     * Half-closes: the same as {@code shutdown(Shutdown.WRITE)}, as a {@code shutdown} without
     * a direction means in every door (docs/NAMES.md). Before issue 12 this shut down both
     * directions; use {@code shutdown(Shutdown.BOTH)} for that.
     *
     * @throws IOException on failure
     */
    public void shutdown() throws IOException {
        shutdown(Shutdown.WRITE);
    }

    /**
     * Shuts down the sending side (half-close), as {@link java.net.Socket#shutdownOutput()}:
     * the same as {@code shutdown(Shutdown.WRITE)}.
     *
     * @throws IOException on failure
     */
    public void shutdownOutput() throws IOException {
        shutdown(Shutdown.WRITE);
    }

    /**
     * Shuts down the receiving side, as {@link java.net.Socket#shutdownInput()}: the same as
     * {@code shutdown(Shutdown.READ)}.
     *
     * @throws IOException on failure
     */
    public void shutdownInput() throws IOException {
        shutdown(Shutdown.READ);
    }

    /**
     * Bytes that can be read now without waiting (buffered here plus the OS's count).
     *
     * @return bytes
     * @throws IOException on failure
     */
    public long bytesAvailable() throws IOException {
        return Native.bytesAvailable(h());
    }

    /**
     * The local address, e.g. {@code "127.0.0.1:50312"}.
     *
     * @return the address as text
     * @throws IOException on failure
     */
    public String localAddress() throws IOException {
        return Native.localAddress(h());
    }

    /**
     * The local port (0 for Unix sockets).
     *
     * @return the port
     * @throws IOException on failure
     */
    public int localPort() throws IOException {
        return Native.localPort(h());
    }

    /**
     * The peer's address, e.g. {@code "[::1]:7000"} or {@code "unix:/tmp/s"}.
     *
     * @return the address as text
     * @throws IOException on failure
     */
    public String peerAddress() throws IOException {
        return Native.peerAddress(h());
    }

    /**
     * The peer's port (0 for Unix sockets).
     *
     * @return the port
     * @throws IOException on failure
     */
    public int peerPort() throws IOException {
        return Native.peerPort(h());
    }

    /**
     * Sets the default timeout of blocking calls.
     *
     * @param millis -1 forever, 0 poll, or milliseconds
     * @throws IOException on failure
     */
    public void setTimeout(int millis) throws IOException {
        Native.setTimeout(h(), Timeouts.check(millis));
    }

    /**
     * The default timeout of blocking calls.
     *
     * @return milliseconds, -1 for forever
     * @throws IOException on failure
     */
    public int getTimeout() throws IOException {
        return Native.getTimeout(h());
    }

    /**
     * Sets a socket option.
     *
     * @param option the option
     * @param value its value (0/1 for on/off options)
     * @throws IOException if the OS rejects it
     */
    public void setOption(SockOpt option, long value) throws IOException {
        Native.setOption(h(), option.number(), value);
    }

    /**
     * Reads a socket option back from the OS.
     *
     * @param option the option
     * @return its value
     * @throws IOException on failure
     */
    public long getOption(SockOpt option) throws IOException {
        return Native.getOption(h(), option.number());
    }

    /**
     * An {@link InputStream} over this connection ({@code read} returns -1 at end of stream;
     * closing the stream closes the connection).
     *
     * @return the stream
     */
    public InputStream getInputStream() {
        return new InputStream() {
            @Override
            public int read() throws IOException {
                byte[] one = new byte[1];
                int n = recvInto(one, 0, 1);
                return n < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                return recvInto(b, off, len);
            }

            @Override
            public int available() throws IOException {
                return (int) Math.min(Integer.MAX_VALUE, bytesAvailable());
            }

            @Override
            public void close() {
                TcpConnection.this.close();
            }
        };
    }

    /**
     * An {@link OutputStream} over this connection (every write sends all bytes; closing the
     * stream closes the connection).
     *
     * @return the stream
     */
    public OutputStream getOutputStream() {
        return new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                sendAll(new byte[] {(byte) b});
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                sendAll(b, off, len);
            }

            @Override
            public void close() {
                TcpConnection.this.close();
            }
        };
    }

    /**
     * What the TLS handshake agreed on: version, cipher suite, ALPN, the peer's certificate
     * and its fingerprint.
     *
     * @return the TLS details, or null for a plain connection
     * @throws BadHandleException if the connection is closed
     * @throws IOException on other failures
     */
    public TlsInfo tlsInfo() throws IOException {
        return Native.connTlsInfo(handle.id());
    }

    /**
     * True when the connection speaks TLS.
     *
     * @return whether TLS
     * @throws BadHandleException if the connection is closed
     * @throws IOException on other failures
     */
    public boolean isTls() throws IOException {
        return Native.connIsTls(handle.id());
    }

    /**
     * True once {@link #close()} was called.
     *
     * @return whether closed
     */
    public boolean isClosed() {
        return handle.isClosed();
    }

    /**
     * Closes the connection. Idempotent, callable from any thread; a call blocked on the
     * connection in another thread throws {@link ClosedException} promptly.
     */
    @Override
    public void close() {
        handle.close();
    }

    /**
     * A description with the handle and, while open, the peer.
     *
     * @return text
     */
    @Override
    public String toString() {
        if (handle.isClosed()) {
            return "TcpConnection[closed]";
        }
        try {
            return "TcpConnection[" + handle.id() + " -> " + peerAddress() + "]";
        } catch (IOException e) {
            return "TcpConnection[" + handle.id() + "]";
        }
    }
}
