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
    /** The values set, by engine setting number (the rest keep core's defaults). */
    ConfigKey.Settings settings = new ConfigKey.Settings();
    byte[] ping;
    byte[] pong;
    SocketOptions options = new SocketOptions();
    TlsServerConfig tls;

    /** The engine's defaults. */
    public ServerOptions() {}

    private ServerOptions copy() {
        try {
            ServerOptions c = (ServerOptions) super.clone();
            c.settings = settings.copy();
            c.options = options.copy();
            return c;
        } catch (CloneNotSupportedException e) {
            throw new AssertionError(e);
        }
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
     * @param max clients, at least 1, or -1 for no limit (the default); 0 is refused by
     *     {@link Server#listen}, as in every door
     * @return a copy
     * @throws InvalidArgumentException for a number below -1
     */
    public ServerOptions withMaxClients(int max) throws InvalidArgumentException {
        ServerOptions c = copy();
        c.settings.set(ConfigKey.MAX_CLIENTS, max);
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
        Objects.requireNonNull(policy, "policy");
        ServerOptions c = copy();
        c.settings.set(ConfigKey.SEND_QUEUE_BYTES, bytes);
        c.settings.set(ConfigKey.SEND_POLICY, policy == SendPolicy.DISCONNECT);
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
        c.settings.set(ConfigKey.EVENT_CAPACITY, events);
        return c;
    }

    /**
     * Disconnects clients that are silent for {@code millis}
     * ({@link DisconnectReason#IDLE_TIMEOUT}).
     *
     * @param millis milliseconds; 0 (or -1) for never, the default
     * @param mode what counts as activity
     * @return a copy
     * @throws InvalidArgumentException for a negative value other than -1
     */
    public ServerOptions withIdleTimeout(int millis, IdleMode mode)
            throws InvalidArgumentException {
        Objects.requireNonNull(mode, "mode");
        ServerOptions c = copy();
        c.settings.set(ConfigKey.IDLE_TIMEOUT_MS, millis == -1 ? 0 : millis);
        c.settings.set(ConfigKey.IDLE_MODE, mode == IdleMode.READS_AND_WRITES);
        return c;
    }

    /**
     * Sends a heartbeat ping after {@code intervalMillis} of silence and declares the client
     * dead ({@link DisconnectReason#HEARTBEAT_LOST}) after {@code misses} silent intervals.
     * Sub-second intervals are fine. Pings and pongs are answered and filtered by the engine.
     *
     * @param intervalMillis milliseconds (at least 10: 1 to 9 are refused with
     *     {@link InvalidArgumentException} when the object is made, as in every door); 0 only
     *     answers the peer's pings (the default) and -1 is no heartbeat, as the engine setting
     *     {@code HEARTBEAT_INTERVAL_MS} in every door
     * @param misses silent intervals allowed (at least 1, checked when the object is made)
     * @return a copy
     * @throws InvalidArgumentException for an interval below -1 or a negative number of misses
     */
    public ServerOptions withHeartbeat(int intervalMillis, int misses)
            throws InvalidArgumentException {
        ServerOptions c = copy();
        c.settings.set(ConfigKey.HEARTBEAT_INTERVAL_MS, intervalMillis);
        c.settings.set(ConfigKey.HEARTBEAT_MISSES, misses);
        return c;
    }

    /**
     * Turns the heartbeat off entirely: pings are neither sent, answered nor filtered.
     *
     * @return a copy
     */
    public ServerOptions withoutHeartbeat() {
        ServerOptions c = copy();
        c.settings.put(ConfigKey.HEARTBEAT_INTERVAL_MS, -1);
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
     * @param backlog pending connections (0: the default)
     * @return a copy
     * @throws InvalidArgumentException for a negative value
     */
    public ServerOptions withBacklog(int backlog) throws InvalidArgumentException {
        ServerOptions c = copy();
        c.settings.set(ConfigKey.BACKLOG, backlog);
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
        c.settings.set(ConfigKey.CLOSE_TIMEOUT_MS, millis);
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
        c.settings.set(ConfigKey.REMOVE_STALE, on);
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

    /**
     * Serve TLS with these settings. Handshakes run on the engine's threads and never block
     * the puller: a client appears (CONNECTED) once its handshake completed; a failed handshake
     * (a plaintext or silent client, a missing client certificate ...) is a WARNING event of
     * kind {@link ErrorKind#TLS} naming the reason, counted in {@link Stats#tlsFailures}, and
     * the server goes on. The configuration is used, not copied: keep it open until the server
     * is made.
     *
     * @param tls server settings ({@link TlsConfig#server()}), or null for plaintext
     * @return a copy
     */
    public ServerOptions withTls(TlsServerConfig tls) {
        ServerOptions c = copy();
        c.tls = tls;
        return c;
    }
}
