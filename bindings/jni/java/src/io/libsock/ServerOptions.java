package io.libsock;

import java.util.Objects;

/**
 * How a {@link Server} behaves. Immutable; every {@code with...} returns a copy. Unset values
 * keep the engine's defaults: 4-byte big-endian length prefix, no client limit, 4 MiB send queue
 * per client with {@link SendPolicy#ERROR}, 4,096 queued events, no idle timeout, heartbeat
 * pings answered (not sent), nodelay on.
 *
 * <pre>{@code
 * ServerOptions o = new ServerOptions()
 *         .withFraming(Framing.delimited("\n"))
 *         .withMaxClients(1000)
 *         .withSendQueue(1 << 20, SendPolicy.DISCONNECT)
 *         .withIdleTimeout(60_000, IdleMode.READS)
 *         .withHeartbeat(500, 3);                  // ping after 500 ms of silence, dead after 3
 * }</pre>
 */
public final class ServerOptions implements Cloneable {
    Framing framing = Framing.lengthPrefixed();
    long maxClients = -1;
    long sendQueueBytes = -1;
    SendPolicy sendPolicy = SendPolicy.ERROR;
    long eventCapacity = -1;
    long idleTimeout = -1;
    IdleMode idleMode = IdleMode.READS;
    int heartbeatMode = 1;
    long heartbeatInterval = 0;
    long heartbeatMisses = 3;
    byte[] ping;
    byte[] pong;
    long backlog = -1;
    long closeTimeout = -1;
    boolean removeStale;
    SocketOptions options = new SocketOptions();

    /** The engine's defaults. */
    public ServerOptions() {}

    private ServerOptions copy() {
        try {
            ServerOptions c = (ServerOptions) super.clone();
            c.options = options.copy();
            return c;
        } catch (CloneNotSupportedException e) {
            throw new AssertionError(e);
        }
    }

    private static long nonNegative(long v, String what) throws InvalidArgumentException {
        if (v < 0) {
            throw new InvalidArgumentException("invalid argument: " + what + " " + v
                    + " is negative", ErrorKind.INVALID_ARGUMENT.code(), 0);
        }
        return v;
    }

    /** The flat config for the native side (layout in bindings/jni/src/engine.rs). */
    long[] config() {
        return new long[] {maxClients, sendQueueBytes, sendPolicy.ordinal(), eventCapacity,
            idleTimeout, idleMode.ordinal(), heartbeatMode, heartbeatInterval, heartbeatMisses,
            backlog, closeTimeout, removeStale ? 1 : 0};
    }

    /**
     * The framing of every connection.
     *
     * @param framing the framing (not {@link Framing#raw()} when a heartbeat is sent)
     * @return a copy
     */
    public ServerOptions withFraming(Framing framing) {
        ServerOptions c = copy();
        c.framing = Objects.requireNonNull(framing, "framing");
        return c;
    }

    /**
     * The most clients at once; an extra connection is closed at once and counted in
     * {@link Stats#refused}.
     *
     * @param max clients, at least 1 (no limit unless set; 0 is refused by
     *     {@link Server#bind}, as in every door)
     * @return a copy
     * @throws InvalidArgumentException for a negative number
     */
    public ServerOptions withMaxClients(int max) throws InvalidArgumentException {
        ServerOptions c = copy();
        c.maxClients = nonNegative(max, "max clients");
        return c;
    }

    /**
     * Bounds each client's send queue, and says what a full queue does.
     *
     * @param bytes the bound in bytes (at least 1; a message larger than the bound throws
     *        {@link FrameTooLargeException}, even into an empty queue)
     * @param policy {@link SendPolicy#ERROR} (the send throws {@link QueueFullException},
     *        broadcasts skip the client, counted in {@link Stats#sendQueueFull}, and a
     *        {@link EventKind#WARNING} tells once per episode) or
     *        {@link SendPolicy#DISCONNECT} (the slow client is disconnected)
     * @return a copy
     * @throws InvalidArgumentException for a negative bound
     */
    public ServerOptions withSendQueue(long bytes, SendPolicy policy)
            throws InvalidArgumentException {
        ServerOptions c = copy();
        c.sendQueueBytes = nonNegative(bytes, "send queue bytes");
        c.sendPolicy = Objects.requireNonNull(policy, "policy");
        return c;
    }

    /**
     * Bounds the event queue. When it is full the engine stops reading sockets (nothing is
     * dropped) until the application pulls.
     *
     * @param events the bound (at least 1)
     * @return a copy
     * @throws InvalidArgumentException for a negative bound
     */
    public ServerOptions withEventCapacity(int events) throws InvalidArgumentException {
        ServerOptions c = copy();
        c.eventCapacity = nonNegative(events, "event capacity");
        return c;
    }

    /**
     * Disconnects clients that are silent for {@code millis}
     * ({@link DisconnectReason#IDLE_TIMEOUT}).
     *
     * @param millis milliseconds, -1 for never (the default)
     * @param mode what counts as activity
     * @return a copy
     * @throws InvalidArgumentException for a negative value other than -1
     */
    public ServerOptions withIdleTimeout(int millis, IdleMode mode)
            throws InvalidArgumentException {
        ServerOptions c = copy();
        c.idleTimeout = Timeouts.check(millis);
        c.idleMode = Objects.requireNonNull(mode, "mode");
        return c;
    }

    /**
     * Sends a heartbeat ping after {@code intervalMillis} of silence and declares the client
     * dead ({@link DisconnectReason#HEARTBEAT_LOST}) after {@code misses} silent intervals.
     * Sub-second intervals are fine. Pings and pongs are answered and filtered by the engine.
     *
     * @param intervalMillis milliseconds (at least 10: a shorter interval is refused with
     *     {@link InvalidArgumentException} when the object is made, as in every door)
     * @param misses silent intervals allowed (at least 1, checked when the object is made)
     * @return a copy
     * @throws InvalidArgumentException for a negative value
     */
    public ServerOptions withHeartbeat(int intervalMillis, int misses)
            throws InvalidArgumentException {
        nonNegative(intervalMillis, "heartbeat interval");
        nonNegative(misses, "heartbeat misses");
        ServerOptions c = copy();
        c.heartbeatMode = 2;
        c.heartbeatInterval = intervalMillis;
        c.heartbeatMisses = misses;
        return c;
    }

    /**
     * Turns the heartbeat off entirely: pings are neither sent, answered nor filtered.
     *
     * @return a copy
     */
    public ServerOptions withoutHeartbeat() {
        ServerOptions c = copy();
        c.heartbeatMode = 0;
        return c;
    }

    /**
     * Other heartbeat payloads (default {@code "\0LSPING"} and {@code "\0LSPONG"}): both
     * non-empty and different, checked when the object is made.
     *
     * @param ping the ping message
     * @param pong the pong message
     * @return a copy
     */
    public ServerOptions withHeartbeatPayloads(byte[] ping, byte[] pong) {
        ServerOptions c = copy();
        c.ping = Objects.requireNonNull(ping, "ping").clone();
        c.pong = Objects.requireNonNull(pong, "pong").clone();
        return c;
    }

    /**
     * The listen backlog (default 1024).
     *
     * @param backlog pending connections
     * @return a copy
     * @throws InvalidArgumentException for a negative value
     */
    public ServerOptions withBacklog(int backlog) throws InvalidArgumentException {
        ServerOptions c = copy();
        c.backlog = nonNegative(backlog, "backlog");
        return c;
    }

    /**
     * How long a graceful {@link Server#disconnect(long, boolean)} may flush (default 5 s).
     *
     * @param millis milliseconds
     * @return a copy
     * @throws InvalidArgumentException for a negative value
     */
    public ServerOptions withCloseTimeout(int millis) throws InvalidArgumentException {
        ServerOptions c = copy();
        c.closeTimeout = nonNegative(millis, "close timeout");
        return c;
    }

    /**
     * For Unix endpoints: remove a stale socket file before binding.
     *
     * @param on true to remove it
     * @return a copy
     */
    public ServerOptions withRemoveStale(boolean on) {
        ServerOptions c = copy();
        c.removeStale = on;
        return c;
    }

    /**
     * A socket option for the listening socket and every accepted connection.
     *
     * @param option the option
     * @param value its value (0/1 for on/off options)
     * @return a copy
     */
    public ServerOptions withOption(SockOpt option, long value) {
        ServerOptions c = copy();
        c.options.values.put(Objects.requireNonNull(option, "option"), value);
        return c;
    }
}
