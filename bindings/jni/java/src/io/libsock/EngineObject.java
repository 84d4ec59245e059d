package io.libsock;

import java.io.IOException;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * What {@link Server}, {@link Client}, {@link DatagramServer} and {@link KcpServer} share: events are
 * <em>pulled</em> in batches with {@link #events(int, int)} or one by one with
 * {@link #nextEvent(int)}, and messages alone with {@link #messages(int, int)}, from any thread,
 * while other threads send or close.
 *
 * <p>A pull blocks the calling Java thread inside native code (no Java thread is started by
 * libsock). {@link #shutdown(int)} from another thread, or {@link Libsock#shutdownEngine()},
 * wakes it: it returns the remaining events, the last one of kind {@link EventKind#CLOSED};
 * pulling after that throws {@link ClosedException} (core's pull API). {@link #close()} from
 * another thread frees the object too: the blocked pull throws {@link ClosedException} at once
 * (as {@code ls_next_event} returns {@code LS_ERR_CLOSED} after {@code ls_close} in the C door),
 * later calls {@link BadHandleException}.
 */
public abstract class EngineObject implements AutoCloseable {
    final NativeHandle handle;

    EngineObject(long id) {
        this.handle = new NativeHandle(this, id);
    }

    /**
     * Takes up to {@code max} events, waiting for the first one up to {@code timeoutMillis}.
     *
     * @param max the most events to return (at least 1)
     * @param timeoutMillis -1 forever ({@link Libsock#TIMEOUT_DEFAULT}, -2, too: engine objects
     *     have no default timeout), 0 poll, or milliseconds
     * @return the events in order; an <b>empty list when the timeout passed</b>
     * @throws ClosedException after the final {@link EventKind#CLOSED} event was taken, or when
     *     {@link #close()} freed the object while this call waited
     * @throws BadHandleException after {@link #close()}
     * @throws IOException for an invalid argument
     */
    public List<Event> events(int max, int timeoutMillis) throws IOException {
        Event[] evs = Native.engineEvents(handle.id(), max, timeoutMillis);
        return evs.length == 0 ? Collections.<Event>emptyList() : Arrays.asList(evs);
    }

    /**
     * Takes the messages at the front of the event queue, up to {@code max}, waiting for the
     * first event up to {@code timeoutMillis}: the fast path for a stream of messages, with no
     * {@link Event} per message (one native call fills one array with the bodies back to back,
     * core's {@code next_messages_into}; Python's {@code messages}, C's
     * {@code ls_next_messages}). It stops before the first event that is not a
     * {@link EventKind#MESSAGE}, which stays queued for {@link #nextEvent(int)} and
     * {@link #events(int, int)}: so an <b>empty list means the timeout passed or another kind of
     * event is next</b> ({@link #pendingEvents()} tells which). One call takes about 64 KiB of
     * messages at most (a larger first message alone) and at most 4096; the rest stay queued
     * for the next call.
     *
     * @param max the most messages to return (at least 1)
     * @param timeoutMillis -1 forever ({@link Libsock#TIMEOUT_DEFAULT}, -2, too: engine objects
     *     have no default timeout), 0 poll, or milliseconds
     * @return the messages in order, each with its client id; an empty list as said above
     * @throws ClosedException after the final {@link EventKind#CLOSED} event was taken, or when
     *     {@link #close()} freed the object while this call waited
     * @throws BadHandleException after {@link #close()}
     * @throws IOException {@link InvalidArgumentException} for {@code max} below 1, a timeout
     *     below -2, or on a {@link DatagramServer}, whose events carry senders (pull them with
     *     {@link #events(int, int)})
     */
    public List<Message> messages(int max, int timeoutMillis) throws IOException {
        Object[] r = Native.engineMessages(handle.id(), max, timeoutMillis);
        if (r == null) {
            return Collections.<Message>emptyList();
        }
        byte[] bodies = (byte[]) r[0];
        long[] meta = (long[]) r[1];
        Message[] out = new Message[meta.length / 2];
        if (out.length == 1) {
            out[0] = new Message(meta[0], bodies);
            return Arrays.asList(out);
        }
        int at = 0;
        for (int i = 0; i < out.length; i++) {
            int len = (int) meta[2 * i + 1];
            out[i] = new Message(meta[2 * i], Arrays.copyOfRange(bodies, at, at + len));
            at += len;
        }
        return Arrays.asList(out);
    }

    /**
     * Takes one event, waiting up to {@code timeoutMillis}.
     *
     * @param timeoutMillis -1 (or -2) forever, 0 poll, or milliseconds
     * @return the event, or null when the timeout passed
     * @throws ClosedException after the final {@link EventKind#CLOSED} event was taken, or when
     *     {@link #close()} freed the object while this call waited
     * @throws BadHandleException after {@link #close()}
     * @throws IOException for an invalid argument
     */
    public Event nextEvent(int timeoutMillis) throws IOException {
        Event[] evs = Native.engineEvents(handle.id(), 1, timeoutMillis);
        return evs.length == 0 ? null : evs[0];
    }

    /**
     * Events waiting now (a pull would not block): {@code pending_events} in every door
     * (docs/NAMES.md).
     *
     * @return the number of queued events
     * @throws BadHandleException after {@link #close()}
     */
    public int pendingEvents() throws IOException {
        return Native.enginePending(handle.id());
    }

    /**
     * The same as {@link #pendingEvents()} (its former name).
     *
     * @return the number of queued events
     * @throws BadHandleException after {@link #close()}
     */
    public int pending() throws IOException {
        return pendingEvents();
    }

    /**
     * A file descriptor that is readable while events wait to be pulled (level-triggered;
     * reset when a pull empties the queue; stays readable once the object is shut down):
     * core's {@code notify_fd}. Java has no way to wait on a raw descriptor, so this is for
     * programs that hand it to native code or a library that polls descriptors (an epoll loop
     * reached through JNI, JNR, Panama); a Java program pulls with a timeout instead. Do not
     * read it or close it: it belongs to the object and is closed with it.
     *
     * @return the descriptor number
     * @throws BadHandleException after {@link #close()}
     */
    public int notifyFd() throws IOException {
        return Native.engineNotifyFd(handle.id());
    }

    /**
     * The counters.
     *
     * @return a snapshot
     * @throws BadHandleException after {@link #close()}
     */
    public Stats stats() throws IOException {
        return new Stats(Native.engineStats(handle.id()));
    }

    /**
     * Stops gracefully: what is queued for sending is delivered within {@code graceMillis},
     * then every connection is closed. Blocks until done (at most the grace plus a little) and
     * wakes threads waiting for events. The object stays usable for pulling the remaining
     * events, up to {@link EventKind#CLOSED}; call {@link #close()} afterwards. Idempotent.
     *
     * @param graceMillis milliseconds to flush (0: cut at once)
     * @throws BadHandleException after {@link #close()}
     * @throws IOException for a negative grace
     */
    public void shutdown(int graceMillis) throws IOException {
        if (graceMillis < 0) {
            throw new InvalidArgumentException("invalid argument: grace " + graceMillis
                    + " ms is negative", ErrorKind.INVALID_ARGUMENT.code(), 0);
        }
        Native.engineShutdown(handle.id(), graceMillis);
    }

    /**
     * True once {@link #close()} was called.
     *
     * @return whether this object is closed
     */
    public boolean isClosed() {
        return handle.isClosed();
    }

    /**
     * Stops at once (no grace: use {@link #shutdown(int)} first to flush) and frees the native
     * object. A thread blocked in {@link #events(int, int)} wakes with {@link ClosedException};
     * later calls throw {@link BadHandleException}. Idempotent; safe from any thread.
     */
    @Override
    public void close() {
        handle.close();
    }
}
