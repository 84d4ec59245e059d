package io.libsock;

import java.io.IOException;
import java.util.Objects;

/**
 * A UDP endpoint served by libsock's engine: every datagram arrives as an {@link Event} of kind
 * {@link EventKind#DATAGRAM} (with the sender in {@link Event#peer()}); replies go out with
 * {@link #sendTo(byte[], String)} from any thread. A client of one server can
 * {@link #connect(String)} to it and {@link #send(byte[])} without naming it.
 */
public final class DatagramServer extends EngineObject {
    private DatagramServer(long id) {
        super(id);
    }

    /**
     * Binds a UDP endpoint with the defaults (datagrams up to 65,536 bytes, 4,096 events).
     *
     * @param endpoint {@code "0.0.0.0:0"}, {@code "[::1]:5000"} ...
     * @return the running datagram server
     * @throws IOException if the endpoint is malformed or cannot be bound
     */
    public static DatagramServer bind(String endpoint) throws IOException {
        return bind(endpoint, -1, -1);
    }

    /**
     * Binds a UDP endpoint and starts receiving.
     *
     * @param endpoint {@code "0.0.0.0:0"}, {@code "[::1]:5000"} ...
     * @param maxDatagram the largest datagram received whole (longer ones are cut), -1 default
     * @param eventCapacity the event queue's bound, -1 default; when full the socket is not read
     * @return the running datagram server
     * @throws IOException if the endpoint is malformed or cannot be bound
     */
    public static DatagramServer bind(String endpoint, int maxDatagram, int eventCapacity)
            throws IOException {
        Objects.requireNonNull(endpoint, "endpoint");
        ConfigKey.Settings s = new ConfigKey.Settings();
        if (maxDatagram != -1) {
            s.set(ConfigKey.MAX_DATAGRAM, maxDatagram);
        }
        if (eventCapacity != -1) {
            s.set(ConfigKey.EVENT_CAPACITY, eventCapacity);
        }
        return new DatagramServer(
                Native.dgramServerBind(endpoint, s.keys(), s.values(), null, null));
    }

    /**
     * The address actually bound.
     *
     * @return e.g. {@code "127.0.0.1:40123"}
     * @throws BadHandleException after {@link #close()}
     */
    public String localAddress() throws IOException {
        return Native.engineLocalAddress(handle.id());
    }

    /**
     * Sends one datagram.
     *
     * @param data the datagram
     * @param peer {@code "host:port"}, e.g. an event's {@link Event#peer()}
     * @return the bytes sent
     * @throws ClosedException after {@link #shutdown(int)}
     * @throws IOException when sending fails
     */
    public int sendTo(byte[] data, String peer) throws IOException {
        Objects.requireNonNull(data, "data");
        Objects.requireNonNull(peer, "peer");
        return Native.dgramServerSendTo(handle.id(), peer, data, 0, data.length);
    }

    /**
     * Connects this datagram server to one peer; nothing is sent. From then on only that
     * peer's datagrams are received, {@link #send(byte[])} sends to it without naming it (the
     * kernel keeps its route: the cheapest send, for a client of one server), and an ICMP error
     * for it (nothing listens there) makes a later send fail with
     * {@link ConnectionRefusedException}. {@link #sendTo(byte[], String)} still sends anywhere;
     * connecting again moves to another peer.
     *
     * @param peer {@code "ip:port"}, {@code "[v6]:port"} or {@code "host:port"} (a host name is
     *     resolved, waiting up to 5 s)
     * @return the address connected to, e.g. {@code "127.0.0.1:40123"}
     * @throws ClosedException after {@link #shutdown(int)}
     * @throws IOException when the address is malformed, cannot be resolved or connecting fails
     */
    public String connect(String peer) throws IOException {
        Objects.requireNonNull(peer, "peer");
        return Native.dgramServerConnect(handle.id(), peer);
    }

    /**
     * Sends one datagram to the peer given to {@link #connect(String)} (waiting up to 5 s while
     * the socket's send buffer is full).
     *
     * @param data the datagram
     * @return the bytes sent
     * @throws InvalidArgumentException if this datagram server was never connected
     * @throws ConnectionRefusedException after the peer's host reported that nothing listens
     *     there
     * @throws ClosedException after {@link #shutdown(int)}
     * @throws IOException when sending fails
     */
    public int send(byte[] data) throws IOException {
        Objects.requireNonNull(data, "data");
        return Native.dgramServerSend(handle.id(), data, 0, data.length);
    }
}
