package io.libsock;

import java.nio.charset.StandardCharsets;

/**
 * One event pulled from a {@link Server}, {@link Client} or {@link DatagramServer}. Immutable;
 * the fields that do not apply to the event's {@link #kind()} are null or 0.
 *
 * <table>
 * <caption>fields by kind</caption>
 * <tr><th>kind</th><th>fields</th></tr>
 * <tr><td>CONNECTED</td><td>client, peer</td></tr>
 * <tr><td>MESSAGE</td><td>client, data</td></tr>
 * <tr><td>DISCONNECTED</td><td>client, reason (errorKind, reasonText)</td></tr>
 * <tr><td>RECONNECTING</td><td>attempt, delayMillis</td></tr>
 * <tr><td>DATAGRAM</td><td>peer, data</td></tr>
 * <tr><td>CLOSED</td><td>nothing: the last event</td></tr>
 * <tr><td>WARNING</td><td>client (0 for the server itself), errorKind, reasonText (the warning
 * in words)</td></tr>
 * </table>
 */
public final class Event {
    private final EventKind kind;
    private final long client;
    private final String peer;
    private final byte[] data;
    private final DisconnectReason reason;
    private final ErrorKind errorKind;
    private final String reasonText;
    private final int attempt;
    private final long delayMillis;

    /** Called by the native code (one call per event). */
    Event(int kind, long client, String peer, byte[] data, int reason, int errorCode,
            String reasonText, int attempt, long delayMillis) {
        this.kind = EventKind.fromCode(kind);
        this.client = client;
        this.peer = peer;
        this.data = data;
        this.reason = reason == 0 ? null : DisconnectReason.fromCode(reason);
        this.errorKind = errorCode == 0 ? null : ErrorKind.fromCode(errorCode);
        this.reasonText = reasonText;
        this.attempt = attempt;
        this.delayMillis = delayMillis;
    }

    /**
     * What happened.
     *
     * @return the kind
     */
    public EventKind kind() {
        return kind;
    }

    /**
     * The client id (server: from 1, never reused; client: the connection number, 1 for the
     * first connection, 2 after the first reconnect ...).
     *
     * @return the id, or 0 for RECONNECTING, DATAGRAM, CLOSED and a server's own WARNING
     */
    public long client() {
        return client;
    }

    /**
     * The peer's address, e.g. {@code "127.0.0.1:5000"}.
     *
     * @return the address for CONNECTED and DATAGRAM, else null
     */
    public String peer() {
        return peer;
    }

    /**
     * The message or datagram (framing removed). The array belongs to the caller.
     *
     * @return the bytes for MESSAGE and DATAGRAM, else null
     */
    public byte[] data() {
        return data;
    }

    /**
     * The message or datagram as UTF-8 text.
     *
     * @return the text, or null when there is no data
     */
    public String text() {
        return data == null ? null : new String(data, StandardCharsets.UTF_8);
    }

    /**
     * Why the connection ended.
     *
     * @return the reason for DISCONNECTED, else null
     */
    public DisconnectReason reason() {
        return reason;
    }

    /**
     * For {@link DisconnectReason#ERROR}, the kind of error; for WARNING, the kind of failure
     * ({@link ErrorKind#QUEUE_FULL} for a slow consumer).
     *
     * @return the error kind, or null
     */
    public ErrorKind errorKind() {
        return errorKind;
    }

    /**
     * The reason in words (with the error message for {@link DisconnectReason#ERROR}), or what
     * a WARNING is about.
     *
     * @return the text for DISCONNECTED and WARNING, else null
     */
    public String reasonText() {
        return reasonText;
    }

    /**
     * The reconnect attempt about to be made (1 for the first retry).
     *
     * @return the attempt for RECONNECTING, else 0
     */
    public int attempt() {
        return attempt;
    }

    /**
     * How long the client waits before the attempt.
     *
     * @return milliseconds for RECONNECTING, else 0
     */
    public long delayMillis() {
        return delayMillis;
    }

    @Override
    public String toString() {
        switch (kind) {
            case CONNECTED:
                return "Event.CONNECTED(client " + client + ", " + peer + ")";
            case MESSAGE:
                return "Event.MESSAGE(client " + client + ", " + data.length + " bytes)";
            case DISCONNECTED:
                return "Event.DISCONNECTED(client " + client + ", " + reason + ": " + reasonText
                        + ")";
            case RECONNECTING:
                return "Event.RECONNECTING(attempt " + attempt + ", in " + delayMillis + " ms)";
            case DATAGRAM:
                return "Event.DATAGRAM(" + peer + ", " + data.length + " bytes)";
            case WARNING:
                return "Event.WARNING(client " + client + ", " + errorKind + ": " + reasonText
                        + ")";
            default:
                return "Event.CLOSED";
        }
    }
}
