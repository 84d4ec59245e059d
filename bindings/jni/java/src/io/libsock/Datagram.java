package io.libsock;

import java.io.IOException;
import java.util.Objects;

/**
 * A UDP (or Unix datagram) socket: {@link #sendTo(byte[], String)} /
 * {@link #recvFrom(byte[])} with the peer's address, truncation reported, broadcast and
 * multicast.
 *
 * <pre>{@code
 * try (Datagram d = Datagram.bind("127.0.0.1:0")) {
 *     d.sendTo(data, "127.0.0.1:5000");
 *     byte[] buf = new byte[1500];
 *     ReceivedDatagram r = d.recvFrom(buf, 0, buf.length, 2000);
 * }
 * }</pre>
 */
public final class Datagram implements AutoCloseable {
    private final NativeHandle handle;

    private Datagram(long id) {
        this.handle = new NativeHandle(this, id);
    }

    private long h() {
        return handle.id();
    }

    /**
     * Binds to {@code endpoint}: {@code "0.0.0.0:5000"}, {@code "[::]:0"},
     * {@code "unix:/tmp/d.sock"}.
     *
     * @param endpoint the local address
     * @return the socket
     * @throws IOException on failure
     */
    public static Datagram bind(String endpoint) throws IOException {
        Objects.requireNonNull(endpoint, "endpoint");
        return new Datagram(Native.dgramOpen(false, endpoint, null, 0, -1, null, null));
    }

    /**
     * Binds to {@code host} and {@code port}.
     *
     * @param host a local address
     * @param port the port, 0 for any
     * @return the socket
     * @throws IOException on failure
     */
    public static Datagram bind(String host, int port) throws IOException {
        Objects.requireNonNull(host, "host");
        return new Datagram(Native.dgramOpen(false, null, host, port, -1, null, null));
    }

    /**
     * Binds with socket options (e.g. {@link SockOpt#BROADCAST}, {@link SockOpt#REUSE_ADDRESS})
     * applied before binding.
     *
     * @param endpoint the local address
     * @param options option/value pairs, or null
     * @param timeoutMillis the default timeout of blocking calls (-1 forever)
     * @return the socket
     * @throws IOException on failure
     */
    public static Datagram bind(String endpoint, java.util.Map<SockOpt, Long> options,
            int timeoutMillis) throws IOException {
        Objects.requireNonNull(endpoint, "endpoint");
        SocketOptions o = new SocketOptions();
        if (options != null) {
            o.values.putAll(options);
        }
        return new Datagram(Native.dgramOpen(false, endpoint, null, 0,
                Timeouts.check(timeoutMillis), o.numbers(), o.vals()));
    }

    /**
     * A socket connected to {@code endpoint}: {@link #send(byte[])} and {@link #recv(int)}
     * talk to that peer only.
     *
     * @param endpoint the peer
     * @return the socket
     * @throws IOException on failure
     */
    public static Datagram connect(String endpoint) throws IOException {
        Objects.requireNonNull(endpoint, "endpoint");
        return new Datagram(Native.dgramOpen(true, endpoint, null, 0, -1, null, null));
    }

    /**
     * Sends one datagram to {@code to} ({@code "host:port"}, {@code "[v6]:port"},
     * {@code "unix:/path"}).
     *
     * @param data the datagram
     * @param to the destination
     * @return bytes sent
     * @throws IOException on failure
     */
    public int sendTo(byte[] data, String to) throws IOException {
        return sendTo(data, 0, data.length, to, Native.DEFAULT);
    }

    /**
     * Sends {@code data[off..off+len]} as one datagram to {@code to} within
     * {@code timeoutMillis}.
     *
     * @param data the array
     * @param off first byte
     * @param len datagram length
     * @param to the destination
     * @param timeoutMillis time allowed
     * @return bytes sent
     * @throws IOException on failure
     */
    public int sendTo(byte[] data, int off, int len, String to, int timeoutMillis)
            throws IOException {
        Objects.requireNonNull(to, "to");
        Checks.range(off, len, data.length);
        return Native.dgramSend(h(), data, off, len, to, timeoutMillis);
    }

    /**
     * Sends one datagram to the connected peer.
     *
     * @param data the datagram
     * @return bytes sent
     * @throws IOException on failure
     */
    public int send(byte[] data) throws IOException {
        Objects.requireNonNull(data, "data");
        return Native.dgramSend(h(), data, 0, data.length, null, Native.DEFAULT);
    }

    /**
     * Receives one datagram into {@code buf}.
     *
     * @param buf the destination
     * @return length, real size, truncation and sender
     * @throws IOException on failure
     */
    public ReceivedDatagram recvFrom(byte[] buf) throws IOException {
        return recvFrom(buf, 0, buf.length, Native.DEFAULT);
    }

    /**
     * Receives one datagram into {@code buf[off..off+len]} within {@code timeoutMillis}.
     *
     * @param buf the destination
     * @param off first byte to write
     * @param len space available
     * @param timeoutMillis time allowed (-1 forever, 0 poll)
     * @return length, real size, truncation and sender
     * @throws TimeoutException if nothing arrived in time
     * @throws IOException on other failures
     */
    public ReceivedDatagram recvFrom(byte[] buf, int off, int len, int timeoutMillis)
            throws IOException {
        Checks.range(off, len, buf.length);
        long[] meta = new long[3];
        String from = Native.dgramRecvFrom(h(), buf, off, len, timeoutMillis, meta);
        return new ReceivedDatagram((int) meta[0], meta[1], meta[2] != 0, from);
    }

    /**
     * Receives one datagram of up to {@code maxBytes} (a longer one is truncated).
     *
     * @param maxBytes the most to return
     * @return the datagram's bytes
     * @throws IOException on failure
     */
    public byte[] recv(int maxBytes) throws IOException {
        byte[] buf = new byte[maxBytes];
        ReceivedDatagram r = recvFrom(buf, 0, maxBytes, Native.DEFAULT);
        return java.util.Arrays.copyOf(buf, r.length());
    }

    /**
     * Joins a multicast group.
     *
     * @param group the group address, e.g. {@code "239.1.2.3"} or {@code "ff02::1234"}
     * @param iface null for the default interface, an IPv4 interface address, or an IPv6
     *     interface index as text
     * @throws IOException on failure
     */
    public void joinMulticast(String group, String iface) throws IOException {
        Objects.requireNonNull(group, "group");
        Native.dgramMembership(h(), group, iface, true);
    }

    /**
     * Sets the interface multicast datagrams are sent from (IP_MULTICAST_IF /
     * IPV6_MULTICAST_IF): core's {@code set_multicast_interface}.
     *
     * @param iface an IPv4 interface address (e.g. {@code "127.0.0.1"}), an IPv6 interface
     *     index as text (e.g. {@code "1"}), or null to leave the system's choice
     * @throws InvalidArgumentException for text that is neither
     * @throws IOException on other failures (an address no interface has:
     *     {@link AddrNotAvailableException})
     */
    public void setMulticastInterface(String iface) throws IOException {
        Native.dgramSetMulticastInterface(h(), iface);
    }

    /**
     * Leaves a multicast group.
     *
     * @param group the group address
     * @param iface as for {@link #joinMulticast(String, String)}
     * @throws IOException on failure
     */
    public void leaveMulticast(String group, String iface) throws IOException {
        Objects.requireNonNull(group, "group");
        Native.dgramMembership(h(), group, iface, false);
    }

    /**
     * The bound local address.
     *
     * @return the address as text
     * @throws IOException on failure
     */
    public String localAddress() throws IOException {
        return Native.localAddress(h());
    }

    /**
     * The bound local port.
     *
     * @return the port
     * @throws IOException on failure
     */
    public int localPort() throws IOException {
        return Native.localPort(h());
    }

    /**
     * The connected peer's address.
     *
     * @return the address as text
     * @throws IOException if not connected
     */
    public String peerAddress() throws IOException {
        return Native.peerAddress(h());
    }

    /**
     * Bytes of the next waiting datagram, 0 if none.
     *
     * @return bytes
     * @throws IOException on failure
     */
    public long bytesAvailable() throws IOException {
        return Native.bytesAvailable(h());
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
     * The default timeout.
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
     * @param value its value
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
     * True once closed.
     *
     * @return whether closed
     */
    public boolean isClosed() {
        return handle.isClosed();
    }

    /** Closes the socket (idempotent); a blocked receive throws {@link ClosedException}. */
    @Override
    public void close() {
        handle.close();
    }

    /**
     * A description with the handle.
     *
     * @return text
     */
    @Override
    public String toString() {
        return handle.isClosed() ? "Datagram[closed]" : "Datagram[" + handle.id() + "]";
    }
}
