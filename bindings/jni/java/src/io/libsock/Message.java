package io.libsock;

import java.nio.charset.StandardCharsets;

/**
 * One message taken by {@link EngineObject#messages(int, int)}: what a {@link EventKind#MESSAGE}
 * event carries (the client and the data), without the event. Immutable.
 */
public final class Message {
    private final long client;
    private final byte[] data;

    Message(long client, byte[] data) {
        this.client = client;
        this.data = data;
    }

    /**
     * Who sent it: the client id on a {@link Server} (from 1, never reused), the connection number
     * on a {@link Client} (1 for the first connection, 2 after the first reconnect ...), as
     * {@link Event#client()}.
     *
     * @return the id
     */
    public long client() {
        return client;
    }

    /**
     * The message (framing removed). The array belongs to the caller.
     *
     * @return the bytes
     */
    public byte[] data() {
        return data;
    }

    /**
     * The message as UTF-8 text.
     *
     * @return the text
     */
    public String text() {
        return new String(data, StandardCharsets.UTF_8);
    }

    /**
     * A description.
     *
     * @return text
     */
    @Override
    public String toString() {
        return "Message(client " + client + ", " + data.length + " bytes)";
    }
}
