package io.libsock;

import java.lang.ref.PhantomReference;
import java.lang.ref.Reference;
import java.lang.ref.ReferenceQueue;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;

/**
 * Owns one native handle and closes it exactly once: explicitly through {@link #close()}, or as
 * a safety net when the owning Java object becomes unreachable without having been closed.
 *
 * <p>The safety net is a phantom reference polled by one daemon thread: the mechanism of
 * {@code java.lang.ref.Cleaner}, written out because {@code Cleaner} only exists on Android from
 * API level 33.
 */
final class NativeHandle {
    private static final ReferenceQueue<Object> QUEUE = new ReferenceQueue<>();
    private static final Set<Phantom> LIVE =
            Collections.synchronizedSet(Collections.newSetFromMap(new IdentityHashMap<>()));

    static {
        Thread t = new Thread(NativeHandle::reap, "libsock-cleaner");
        t.setDaemon(true);
        t.start();
    }

    private static final class Phantom extends PhantomReference<Object> {
        final NativeHandle handle;

        Phantom(Object owner, NativeHandle handle) {
            super(owner, QUEUE);
            this.handle = handle;
        }
    }

    private final long id;
    private volatile boolean closed;
    private final Phantom phantom;

    NativeHandle(Object owner, long id) {
        this.id = id;
        this.phantom = new Phantom(owner, this);
        LIVE.add(phantom);
    }

    /** The handle for native calls (still valid after close: native calls then throw). */
    long id() {
        return id;
    }

    boolean isClosed() {
        return closed;
    }

    /** Closes the native object; idempotent and thread-safe. */
    void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        LIVE.remove(phantom);
        phantom.clear();
        Native.close(id);
    }

    private static void reap() {
        while (true) {
            try {
                Reference<?> r = QUEUE.remove();
                if (r instanceof Phantom) {
                    ((Phantom) r).handle.close();
                }
            } catch (InterruptedException e) {
                // keep going: this thread lives as long as the process
            } catch (Throwable t) {
                // never let the cleaner die
            }
        }
    }
}
