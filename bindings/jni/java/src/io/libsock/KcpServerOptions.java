package io.libsock;

import java.util.Objects;

/**
 * How a {@link KcpServer} behaves: the KCP tuning of every session ({@link KcpOptions}) and
 * the server's limits, core's {@code KcpServerConfig}. Immutable; every {@code with...} returns
 * a copy. Unset values keep core's defaults: 4,096 queued events, idle timeout 60 s, no client
 * limit, 4 MiB of unacknowledged data per session with {@link SendPolicy#ERROR}, linger 10 s,
 * close timeout 5 s. The combination is checked by core when the server is made.
 */
public final class KcpServerOptions {
    KcpOptions kcp = new KcpOptions();
    long eventCapacity = 4096;
    long idleTimeout = 60_000;
    long maxClients = -1;
    long sendQueue = 4L << 20;
    SendPolicy policy = SendPolicy.ERROR;
    long linger = 10_000;
    long closeTimeout = 5_000;
    SocketOptions options = new SocketOptions();

    /** Core's defaults. */
    public KcpServerOptions() {}

    private KcpServerOptions copy() {
        KcpServerOptions c = new KcpServerOptions();
        c.kcp = kcp;
        c.eventCapacity = eventCapacity;
        c.idleTimeout = idleTimeout;
        c.maxClients = maxClients;
        c.sendQueue = sendQueue;
        c.policy = policy;
        c.linger = linger;
        c.closeTimeout = closeTimeout;
        c.options = options.copy();
        return c;
    }

    long[] params() {
        return new long[] {eventCapacity, idleTimeout, maxClients, sendQueue,
            policy == SendPolicy.DISCONNECT ? 1 : 0, linger, closeTimeout};
    }

    /**
     * The KCP tuning of every session.
     *
     * @param kcp the tuning
     * @return a copy
     */
    public KcpServerOptions withKcp(KcpOptions kcp) {
        KcpServerOptions c = copy();
        c.kcp = Objects.requireNonNull(kcp, "kcp");
        return c;
    }

    /**
     * The bound of the event queue. When it is full, messages wait in their sessions' KCP
     * queues and the windows close: nothing is dropped.
     *
     * @param events at least 1
     * @return a copy
     */
    public KcpServerOptions withEventCapacity(int events) {
        KcpServerOptions c = copy();
        c.eventCapacity = events;
        return c;
    }

    /**
     * End a session when nothing arrived from it for this long (reason
     * {@link DisconnectReason#IDLE_TIMEOUT}): KCP has no close on the wire.
     *
     * @param millis milliseconds (at least 1), or -1 for never
     * @return a copy
     */
    public KcpServerOptions withIdleTimeout(int millis) {
        KcpServerOptions c = copy();
        c.idleTimeout = millis;
        return c;
    }

    /**
     * The most sessions at once; datagrams opening more are ignored (counted in
     * {@link Stats#refused}).
     *
     * @param clients at least 1, or -1 for no limit
     * @return a copy
     */
    public KcpServerOptions withMaxClients(int clients) {
        KcpServerOptions c = copy();
        c.maxClients = clients;
        return c;
    }

    /**
     * The bound of each session's unacknowledged data and what a send beyond it does.
     *
     * @param bytes at least 1
     * @param policy {@link SendPolicy#ERROR} (the send throws {@link QueueFullException}) or
     *     {@link SendPolicy#DISCONNECT}
     * @return a copy
     */
    public KcpServerOptions withSendQueue(long bytes, SendPolicy policy) {
        KcpServerOptions c = copy();
        c.sendQueue = bytes;
        c.policy = Objects.requireNonNull(policy, "policy");
        return c;
    }

    /**
     * How long a finished (address, conv) is remembered so that late retransmissions do not
     * open it again.
     *
     * @param millis milliseconds
     * @return a copy
     */
    public KcpServerOptions withLinger(int millis) {
        KcpServerOptions c = copy();
        c.linger = millis;
        return c;
    }

    /**
     * How long a graceful {@link KcpServer#disconnect(long, boolean)} waits for the peer to
     * acknowledge what was sent.
     *
     * @param millis milliseconds
     * @return a copy
     */
    public KcpServerOptions withCloseTimeout(int millis) {
        KcpServerOptions c = copy();
        c.closeTimeout = millis;
        return c;
    }

    /**
     * A socket option of the UDP socket, applied before binding (buffer sizes matter for many
     * clients).
     *
     * @param option the option
     * @param value its value
     * @return a copy
     */
    public KcpServerOptions withOption(SockOpt option, long value) {
        KcpServerOptions c = copy();
        c.options.values.put(Objects.requireNonNull(option, "option"), value);
        return c;
    }
}
