package io.libsock;

import java.io.IOException;

/**
 * KCP's tuning, in the reference implementation's words ({@code nodelay}, {@code interval},
 * {@code resend}, {@code nc}, {@code sendWindow}, {@code recvWindow}, {@code mtu},
 * {@code minRto}, {@code stream}, {@code deadLink}), for a {@link KcpServer} and a
 * {@link KcpSession}: core's {@code KcpConfig}. Immutable; every {@code with...} returns a copy,
 * and each value is checked by core when set ({@link InvalidArgumentException} with core's
 * message). Both ends should agree on the MTU and stream mode; windows are advertised.
 *
 * <p>The defaults are the "fast" profile: nodelay 2, interval 10 ms, resend 2, nc on, windows
 * 128/128, MTU 1400, core's minimum RTO (30 ms with nodelay), message mode, dead link 20.
 *
 * <pre>{@code
 * KcpOptions k = new KcpOptions().withNodelay(1).withInterval(20).withSendWindow(256);
 * }</pre>
 */
public final class KcpOptions {
    long nodelay = 2;
    long interval = 10;
    long resend = 2;
    boolean nc = true;
    long sendWindow = 128;
    long recvWindow = 128;
    long mtu = 1400;
    long minRto = -1;
    boolean stream;
    long deadLink = 20;

    /** The defaults (the "fast" profile). */
    public KcpOptions() {}

    /**
     * The reference implementation's own defaults: nodelay 0, interval 100 ms, no fast resend,
     * congestion control on, send window 32.
     *
     * @return the options
     */
    public static KcpOptions normal() {
        KcpOptions k = new KcpOptions();
        k.nodelay = 0;
        k.interval = 100;
        k.resend = 0;
        k.nc = false;
        k.sendWindow = 32;
        return k;
    }

    long[] params() {
        return new long[] {nodelay, interval, resend, nc ? 1 : 0, sendWindow, recvWindow, mtu,
            minRto, stream ? 1 : 0, deadLink};
    }

    private KcpOptions copy() {
        KcpOptions k = new KcpOptions();
        k.nodelay = nodelay;
        k.interval = interval;
        k.resend = resend;
        k.nc = nc;
        k.sendWindow = sendWindow;
        k.recvWindow = recvWindow;
        k.mtu = mtu;
        k.minRto = minRto;
        k.stream = stream;
        k.deadLink = deadLink;
        return k;
    }

    private KcpOptions checked() throws IOException {
        Native.kcpCheck(params());
        return this;
    }

    /**
     * Nodelay level: 0 off (a segment's RTO doubles on each loss), 1 on (grows by half), 2 on
     * (grows linearly).
     *
     * @param nodelay 0, 1 or 2
     * @return a copy
     * @throws IOException ({@link InvalidArgumentException}) for another value
     */
    public KcpOptions withNodelay(int nodelay) throws IOException {
        KcpOptions k = copy();
        k.nodelay = nodelay;
        return k.checked();
    }

    /**
     * The internal update interval.
     *
     * @param millis 10 to 5000 ms
     * @return a copy
     * @throws IOException ({@link InvalidArgumentException}) outside that range
     */
    public KcpOptions withInterval(int millis) throws IOException {
        KcpOptions k = copy();
        k.interval = millis;
        return k.checked();
    }

    /**
     * Fast resend after this many later segments were acknowledged.
     *
     * @param resend 0 (off) or more
     * @return a copy
     * @throws IOException ({@link InvalidArgumentException}) for a negative value
     */
    public KcpOptions withResend(int resend) throws IOException {
        KcpOptions k = copy();
        k.resend = resend;
        return k.checked();
    }

    /**
     * No congestion control: send at the window's pace.
     *
     * @param nc on or off
     * @return a copy
     */
    public KcpOptions withNc(boolean nc) {
        KcpOptions k = copy();
        k.nc = nc;
        return k;
    }

    /**
     * The send window in segments.
     *
     * @param segments 1 to 65535
     * @return a copy
     * @throws IOException ({@link InvalidArgumentException}) outside that range
     */
    public KcpOptions withSendWindow(int segments) throws IOException {
        KcpOptions k = copy();
        k.sendWindow = segments;
        return k.checked();
    }

    /**
     * The receive window in segments.
     *
     * @param segments 128 to 65535
     * @return a copy
     * @throws IOException ({@link InvalidArgumentException}) outside that range
     */
    public KcpOptions withRecvWindow(int segments) throws IOException {
        KcpOptions k = copy();
        k.recvWindow = segments;
        return k.checked();
    }

    /**
     * Bytes per datagram, KCP's headers included.
     *
     * @param bytes 50 to 65000
     * @return a copy
     * @throws IOException ({@link InvalidArgumentException}) outside that range
     */
    public KcpOptions withMtu(int bytes) throws IOException {
        KcpOptions k = copy();
        k.mtu = bytes;
        return k.checked();
    }

    /**
     * The minimum retransmission timeout.
     *
     * @param millis 1 to 60000 ms, or 0 for automatic (as in every door)
     * @return a copy
     * @throws IOException ({@link InvalidArgumentException}) outside that range
     */
    public KcpOptions withMinRto(int millis) throws IOException {
        if (millis < 0) {
            throw new InvalidArgumentException("invalid argument: kcp min_rto " + millis
                    + " ms is negative", ErrorKind.INVALID_ARGUMENT.code(), 0);
        }
        KcpOptions k = copy();
        k.minRto = millis;
        return k.checked();
    }

    /**
     * Stream mode: no message boundaries (bytes may be merged and split).
     *
     * @param stream on or off
     * @return a copy
     */
    public KcpOptions withStream(boolean stream) {
        KcpOptions k = copy();
        k.stream = stream;
        return k;
    }

    /**
     * Transmissions of one segment without acknowledgement after which the peer is declared
     * gone.
     *
     * @param transmissions at least 1
     * @return a copy
     * @throws IOException ({@link InvalidArgumentException}) for less
     */
    public KcpOptions withDeadLink(int transmissions) throws IOException {
        KcpOptions k = copy();
        k.deadLink = transmissions;
        return k.checked();
    }
}
