package io.libsock;

import java.util.Objects;

/**
 * How a {@link Client} behaves. Immutable; every {@code with...} returns a copy. Unset values
 * keep the engine's defaults: 4-byte big-endian length prefix, 10 s connect timeout,
 * auto-reconnect on with backoff from 100 ms doubling to 10 s with jitter and no attempt limit,
 * 4 MiB send queue, 4,096 queued events, no idle timeout, heartbeat pings answered (not sent),
 * nodelay on.
 *
 * <pre>{@code
 * ClientOptions o = new ClientOptions()
 *         .withReconnect(50, 2000)                 // backoff 50 ms .. 2 s
 *         .withMaxAttempts(20)
 *         .withHeartbeat(1000, 3);
 * }</pre>
 */
public final class ClientOptions implements Cloneable {
    Framing framing = Framing.lengthPrefixed();
    /** The values set, by engine setting number (the rest keep core's defaults). */
    ConfigKey.Settings settings = new ConfigKey.Settings();
    byte[] ping;
    byte[] pong;
    SocketOptions options = new SocketOptions();
    TlsClientConfig tls;
    String proxy;

    /** The engine's defaults. */
    public ClientOptions() {}

    private ClientOptions copy() {
        try {
            ClientOptions c = (ClientOptions) super.clone();
            c.settings = settings.copy();
            c.options = options.copy();
            return c;
        } catch (CloneNotSupportedException e) {
            throw new AssertionError(e);
        }
    }

    /**
     * The framing (must match the server's).
     *
     * @param framing the framing
     * @return a copy
     */
    public ClientOptions withFraming(Framing framing) {
        ClientOptions c = copy();
        c.framing = Objects.requireNonNull(framing, "framing");
        return c;
    }

    /**
     * The time limit of one connect attempt, name lookup included.
     *
     * @param millis milliseconds (0 is refused when the client is made)
     * @return a copy
     * @throws InvalidArgumentException for a negative value
     */
    public ClientOptions withConnectTimeout(int millis) throws InvalidArgumentException {
        ClientOptions c = copy();
        c.settings.set(ConfigKey.CONNECT_TIMEOUT_MS, millis);
        return c;
    }

    /**
     * Reconnect after a failed attempt or a lost connection, waiting from {@code minMillis},
     * doubling per attempt, up to {@code maxMillis}.
     *
     * @param minMillis the first delay (at least 10)
     * @param maxMillis the longest delay (at least {@code minMillis}); both are checked when the
     *     client is made ({@link InvalidArgumentException}, as in every door)
     * @return a copy
     * @throws InvalidArgumentException for negative values
     */
    public ClientOptions withReconnect(int minMillis, int maxMillis)
            throws InvalidArgumentException {
        ClientOptions c = copy();
        c.settings.set(ConfigKey.RECONNECT, true);
        c.settings.set(ConfigKey.BACKOFF_MIN_MS, minMillis);
        c.settings.set(ConfigKey.BACKOFF_MAX_MS, maxMillis);
        return c;
    }

    /**
     * Do not reconnect: after the connection ends (or the first attempt fails) the client
     * stops with a {@code CLOSED} event.
     *
     * @return a copy
     */
    public ClientOptions withoutReconnect() {
        ClientOptions c = copy();
        c.settings.set(ConfigKey.RECONNECT, false);
        return c;
    }

    /**
     * Randomize each reconnect delay within [delay/2, delay] (on by default), so many clients
     * do not reconnect in step.
     *
     * @param on true for jitter
     * @return a copy
     */
    public ClientOptions withJitter(boolean on) {
        ClientOptions c = copy();
        c.settings.set(ConfigKey.JITTER, on);
        return c;
    }

    /**
     * Give up after this many failed attempts in a row.
     *
     * @param attempts the limit (0: never give up, the default)
     * @return a copy
     * @throws InvalidArgumentException for a negative value
     */
    public ClientOptions withMaxAttempts(int attempts) throws InvalidArgumentException {
        ClientOptions c = copy();
        c.settings.set(ConfigKey.MAX_ATTEMPTS, attempts);
        return c;
    }

    /**
     * Bounds the send queue (which holds messages while disconnected); a send that would
     * exceed it throws {@link QueueFullException}.
     *
     * @param bytes the bound
     * @return a copy
     * @throws InvalidArgumentException for a negative bound
     */
    public ClientOptions withSendQueue(long bytes) throws InvalidArgumentException {
        ClientOptions c = copy();
        c.settings.set(ConfigKey.SEND_QUEUE_BYTES, bytes);
        return c;
    }

    /**
     * Bounds the event queue; when it is full the engine stops reading.
     *
     * @param events the bound
     * @return a copy
     * @throws InvalidArgumentException for a negative bound
     */
    public ClientOptions withEventCapacity(int events) throws InvalidArgumentException {
        ClientOptions c = copy();
        c.settings.set(ConfigKey.EVENT_CAPACITY, events);
        return c;
    }

    /**
     * Closes the connection when idle for {@code millis} (then reconnects, if on).
     *
     * @param millis milliseconds; 0 (or -1) for never, the default
     * @param mode what counts as activity
     * @return a copy
     * @throws InvalidArgumentException for a negative value other than -1
     */
    public ClientOptions withIdleTimeout(int millis, IdleMode mode)
            throws InvalidArgumentException {
        Objects.requireNonNull(mode, "mode");
        ClientOptions c = copy();
        c.settings.set(ConfigKey.IDLE_TIMEOUT_MS, millis == -1 ? 0 : millis);
        c.settings.set(ConfigKey.IDLE_MODE, mode == IdleMode.READS_AND_WRITES);
        return c;
    }

    /**
     * Sends a heartbeat ping after {@code intervalMillis} of silence; the server is declared
     * dead ({@link DisconnectReason#HEARTBEAT_LOST}) after {@code misses} silent intervals.
     *
     * @param intervalMillis milliseconds (at least 10: 1 to 9 are refused with
     *     {@link InvalidArgumentException} when the object is made, as in every door); 0 only
     *     answers the peer's pings (the default) and -1 is no heartbeat, as the engine setting
     *     {@code HEARTBEAT_INTERVAL_MS} in every door
     * @param misses silent intervals allowed (at least 1, checked when the object is made)
     * @return a copy
     * @throws InvalidArgumentException for an interval below -1 or a negative number of misses
     */
    public ClientOptions withHeartbeat(int intervalMillis, int misses)
            throws InvalidArgumentException {
        ClientOptions c = copy();
        c.settings.set(ConfigKey.HEARTBEAT_INTERVAL_MS, intervalMillis);
        c.settings.set(ConfigKey.HEARTBEAT_MISSES, misses);
        return c;
    }

    /**
     * Turns the heartbeat off entirely: pings are neither sent, answered nor filtered.
     *
     * @return a copy
     */
    public ClientOptions withoutHeartbeat() {
        ClientOptions c = copy();
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
    public ClientOptions withHeartbeatPayloads(byte[] ping, byte[] pong) {
        ClientOptions c = copy();
        c.ping = Objects.requireNonNull(ping, "ping").clone();
        c.pong = Objects.requireNonNull(pong, "pong").clone();
        return c;
    }

    /**
     * A socket option applied before connecting.
     *
     * @param option the option
     * @param value its value (0/1 for on/off options)
     * @return a copy
     */
    public ClientOptions withOption(SockOpt option, long value) {
        ClientOptions c = copy();
        c.options.values.put(Objects.requireNonNull(option, "option"), value);
        return c;
    }

    /**
     * Speak TLS with these settings: every connection (and reconnection) shakes hands on the
     * engine's threads before CONNECTED. Each failed handshake is counted in
     * {@link Stats#tlsFailures} and reported naming the reason: a WARNING of kind
     * {@link ErrorKind#TLS} while the client retries, a DISCONNECTED with
     * {@link DisconnectReason#TLS} when it gives up (no reconnect, or the last attempt). The
     * configuration is used, not copied: keep it open until the client is made.
     *
     * @param tls client settings ({@link TlsConfig#client()}), or null for plaintext
     * @return a copy
     */
    public ClientOptions withTls(TlsClientConfig tls) {
        ClientOptions c = copy();
        c.tls = tls;
        return c;
    }

    /**
     * Connect through a proxy: every attempt, reconnects included, goes to the proxy, which
     * connects to the endpoint ({@code "socks5://host:port"}, {@code "socks5://user:pass@host:port"}
     * or {@code "http://host:port"}; see {@link ConnectOptions#withProxy(String)}). The URL is
     * checked now by core. The {@code CONNECTED} event's peer is then the proxy's address; a
     * refusal by the proxy is a failed attempt (reconnecting, or {@code DISCONNECTED} when the
     * client gives up).
     *
     * @param url the proxy's URL, or null to connect directly
     * @return a copy
     * @throws java.io.IOException ({@link InvalidArgumentException}) for a URL core refuses
     */
    public ClientOptions withProxy(String url) throws java.io.IOException {
        if (url != null) {
            Native.proxyCheck(url);
        }
        ClientOptions c = copy();
        c.proxy = url;
        return c;
    }
}
