package io.libsock;

/**
 * Socket options by number, the same numbers as the C ABI's {@code LS_OPT_*}. Values are
 * {@code long}: booleans are 0/1. Values read back come from the OS (Linux reports buffer sizes
 * doubled, for example).
 */
public enum SockOpt {
    /** TCP_NODELAY (0/1). */
    NODELAY(1),
    /** SO_KEEPALIVE (0/1). */
    KEEPALIVE(2),
    /** TCP_KEEPIDLE, seconds before the first probe. */
    KEEPALIVE_IDLE(3),
    /** TCP_KEEPINTVL, seconds between probes. */
    KEEPALIVE_INTERVAL(4),
    /** TCP_KEEPCNT, unanswered probes before the connection drops. */
    KEEPALIVE_COUNT(5),
    /** SO_LINGER in seconds: -1 off, 0 abortive close, N wait N seconds. */
    LINGER(6),
    /** SO_RCVBUF in bytes. */
    RECV_BUFFER_SIZE(7),
    /** SO_SNDBUF in bytes. */
    SEND_BUFFER_SIZE(8),
    /** SO_REUSEADDR (0/1). */
    REUSE_ADDRESS(9),
    /** SO_REUSEPORT (0/1). */
    REUSE_PORT(10),
    /** IP_TTL / IPV6_UNICAST_HOPS. */
    TTL(11),
    /** IP_TOS / IPV6_TCLASS. */
    TOS(12),
    /** IPV6_V6ONLY (0/1). */
    V6_ONLY(13),
    /** SO_BROADCAST (0/1). */
    BROADCAST(14),
    /** IP_MULTICAST_TTL / IPV6_MULTICAST_HOPS. */
    MULTICAST_TTL(15),
    /** IP_MULTICAST_LOOP / IPV6_MULTICAST_LOOP (0/1). */
    MULTICAST_LOOP(16),
    /** TCP_USER_TIMEOUT in milliseconds (Linux). */
    TCP_USER_TIMEOUT(17);

    private final int number;

    SockOpt(int number) {
        this.number = number;
    }

    /**
     * The stable option number.
     *
     * @return the number ({@code LS_OPT_*})
     */
    public int number() {
        return number;
    }
}
