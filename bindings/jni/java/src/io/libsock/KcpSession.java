package io.libsock;

import java.io.IOException;
import java.util.Objects;

/**
 * A blocking KCP conversation with one peer (core's {@code libsock::kcp::KcpSession}):
 * reliable, ordered messages over UDP, wire-compatible with the reference KCP implementation.
 *
 * <p>The session has no thread of its own: it sends, retransmits, acknowledges and reads the
 * socket while one of its calls runs ({@link #send}, {@link #recv}, {@link #flush},
 * {@link #poll}); a program that stays away for long should wait in {@code recv} or call
 * {@code poll}. {@link #close()} from another thread wakes a blocked call
 * ({@link ClosedException}).
 *
 * <pre>{@code
 * try (KcpSession s = KcpSession.connect("127.0.0.1:4000")) {
 *     s.send("hello".getBytes(StandardCharsets.UTF_8));
 *     byte[] reply = s.recv(5000);
 *     s.flush(5000);     // everything sent is acknowledged
 * }
 * }</pre>
 */
public final class KcpSession implements AutoCloseable {
    private final NativeHandle handle;
    private volatile int timeout = -1;

    private KcpSession(long id) {
        this.handle = new NativeHandle(this, id);
    }

    /**
     * Starts a conversation with {@code endpoint} with the default tuning and a random conv.
     *
     * @param endpoint {@code "host:port"}
     * @return the session
     * @throws IOException if the endpoint is malformed or cannot be reached
     */
    public static KcpSession connect(String endpoint) throws IOException {
        return connect(endpoint, new KcpOptions(), -1);
    }

    /**
     * Starts conversation {@code conv} with {@code endpoint} (Python's {@code kcp_connect}).
     * Nothing is sent until the first message: KCP has no handshake.
     *
     * @param endpoint {@code "host:port"}
     * @param options the KCP tuning
     * @param conv the conversation id (0 to 4294967295), or -1 for a random one
     * @return the session
     * @throws IOException if the endpoint is malformed, an option is invalid, or the endpoint
     *     is a Unix one ({@link UnsupportedException})
     */
    public static KcpSession connect(String endpoint, KcpOptions options, long conv)
            throws IOException {
        Objects.requireNonNull(endpoint, "endpoint");
        KcpOptions o = Objects.requireNonNull(options, "options");
        return new KcpSession(Native.kcpConnect(endpoint, conv, o.params(), null, null));
    }

    private int t(int timeoutMillis) {
        return timeoutMillis == Libsock.TIMEOUT_DEFAULT ? timeout : timeoutMillis;
    }

    /**
     * The default timeout of {@link #send(byte[])}, {@link #recv()} and {@link #flush()}.
     *
     * @param millis milliseconds, -1 forever (the default), 0 poll
     * @throws InvalidArgumentException for a negative value other than -1
     */
    public void setTimeout(int millis) throws InvalidArgumentException {
        timeout = Timeouts.check(millis);
    }

    /**
     * The default timeout.
     *
     * @return milliseconds, -1 forever
     */
    public int getTimeout() {
        return timeout;
    }

    /**
     * Sends one message, waiting up to the default timeout while too much is unacknowledged.
     *
     * @param data the message (not empty)
     * @throws FrameTooLargeException beyond the largest KCP message
     * @throws TimeoutException when the window stayed full
     * @throws IOException on other failures
     */
    public void send(byte[] data) throws IOException {
        send(data, timeout);
    }

    /**
     * Sends one message, waiting up to {@code timeoutMillis} while too much is
     * unacknowledged.
     *
     * @param data the message (not empty)
     * @param timeoutMillis -1 forever, 0 poll, milliseconds, or -2 the default
     * @throws IOException as {@link #send(byte[])}
     */
    public void send(byte[] data, int timeoutMillis) throws IOException {
        Objects.requireNonNull(data, "data");
        Native.kcpSend(handle.id(), data, 0, data.length, t(timeoutMillis));
    }

    /**
     * The next message, waiting up to the default timeout.
     *
     * @return the message
     * @throws TimeoutException when none came in time
     * @throws ConnectionAbortedException when the peer stopped acknowledging (dead link)
     * @throws IOException on other failures
     */
    public byte[] recv() throws IOException {
        return recv(timeout);
    }

    /**
     * The next message, waiting up to {@code timeoutMillis}.
     *
     * @param timeoutMillis -1 forever, 0 poll, milliseconds, or -2 the default
     * @return the message
     * @throws IOException as {@link #recv()}
     */
    public byte[] recv(int timeoutMillis) throws IOException {
        return Native.kcpRecv(handle.id(), t(timeoutMillis));
    }

    /**
     * Waits until everything sent is acknowledged, up to the default timeout.
     *
     * @throws TimeoutException when it was not in time
     * @throws IOException on other failures
     */
    public void flush() throws IOException {
        flush(timeout);
    }

    /**
     * Waits until everything sent is acknowledged, up to {@code timeoutMillis}.
     *
     * @param timeoutMillis -1 forever, 0 poll, milliseconds, or -2 the default
     * @throws IOException as {@link #flush()}
     */
    public void flush(int timeoutMillis) throws IOException {
        Native.kcpFlush(handle.id(), t(timeoutMillis));
    }

    /**
     * Runs the protocol for up to {@code timeoutMillis} without taking messages (acknowledge,
     * retransmit).
     *
     * @param timeoutMillis 0 or more milliseconds
     * @return 1 when a message is ready for {@link #recv()}, else 0
     * @throws IOException on failure
     */
    public int poll(int timeoutMillis) throws IOException {
        return Native.kcpPoll(handle.id(), timeoutMillis);
    }

    /**
     * The counters.
     *
     * @return a snapshot
     * @throws BadHandleException after {@link #close()}
     */
    public KcpStats stats() throws IOException {
        return new KcpStats(Native.kcpSessionStats(handle.id()));
    }

    /**
     * The conversation id.
     *
     * @return conv (0 to 4294967295)
     * @throws BadHandleException after {@link #close()}
     */
    public long conv() throws IOException {
        return Native.kcpConv(handle.id());
    }

    /**
     * The peer's address.
     *
     * @return e.g. {@code "127.0.0.1:4000"}
     * @throws BadHandleException after {@link #close()}
     */
    public String peerAddress() throws IOException {
        return Native.kcpAddress(handle.id(), true);
    }

    /**
     * The local address.
     *
     * @return e.g. {@code "127.0.0.1:51234"}
     * @throws BadHandleException after {@link #close()}
     */
    public String localAddress() throws IOException {
        return Native.kcpAddress(handle.id(), false);
    }

    /**
     * True once {@link #close()} was called.
     *
     * @return whether the session is closed
     */
    public boolean isClosed() {
        return handle.isClosed();
    }

    /**
     * Closes the session at once (KCP has no close on the wire: the peer's session ends by its
     * idle timeout). A call blocked in another thread throws {@link ClosedException}.
     * Idempotent.
     */
    @Override
    public void close() {
        handle.close();
    }

    @Override
    public String toString() {
        return "KcpSession(" + (isClosed() ? "closed" : "open") + ")";
    }
}
