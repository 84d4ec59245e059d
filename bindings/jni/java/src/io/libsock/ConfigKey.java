package io.libsock;

import java.io.IOException;
import java.util.EnumMap;
import java.util.Map;

/**
 * The engine settings' stable numbers: core's {@code libsock::engine::ConfigKey}, the C door's
 * {@code LS_ECFG_*} (the same names without the prefix). {@link ServerOptions},
 * {@link ClientOptions} and {@link DatagramServer#bind(String, int, int)} record their values by
 * key and pass them to the native side as {@code (key, value)} pairs, where they become core's
 * {@code EngineSettings}, as in the C door: booleans are 0/1, times milliseconds; each value's
 * range is checked by core when it is set, the combination when the object is made, with the
 * same message in every door. Package-private: the options classes are the public API.
 */
enum ConfigKey {
    /** Server: most clients at once (-1 = no limit, the default; 0 is refused). */
    MAX_CLIENTS(1),
    /** Server and client: bound of each send queue in bytes (default 4 MiB). */
    SEND_QUEUE_BYTES(2),
    /** Server: what a full send queue does: 0 error (default), 1 disconnect the client. */
    SEND_POLICY(3),
    /** All: bound of the event queue in events (default 4096). */
    EVENT_CAPACITY(4),
    /** Server and client: close a connection idle this long (ms; 0 = never, the default). */
    IDLE_TIMEOUT_MS(5),
    /** Server and client: 0 messages received count as activity (default), 1 sent ones too. */
    IDLE_MODE(6),
    /** Server and client: ping after this much silence (ms, at least 10); 0 only answer pings
     * (default); -1 no heartbeat at all. */
    HEARTBEAT_INTERVAL_MS(7),
    /** Server and client: silent heartbeat intervals before the peer is declared dead
     * (default 3). */
    HEARTBEAT_MISSES(8),
    /** Client: reconnect after a failure, 0/1 (default 1). */
    RECONNECT(9),
    /** Client: first retry delay (ms, default 100, at least 10). */
    BACKOFF_MIN_MS(10),
    /** Client: longest retry delay (ms, default 10000). */
    BACKOFF_MAX_MS(11),
    /** Client: give up after this many failed attempts in a row (0 = never, the default). */
    MAX_ATTEMPTS(12),
    /** Client: time limit of one connect attempt (ms, default 10000). */
    CONNECT_TIMEOUT_MS(13),
    /** Client: randomize retry delays, 0/1 (default 1). */
    JITTER(14),
    /** Server: listen backlog (default 1024; 0 = the default). */
    BACKLOG(15),
    /** Server: how long a graceful disconnect may flush (ms, default 5000). */
    CLOSE_TIMEOUT_MS(16),
    /** Datagram server: largest datagram received whole (default 65536). */
    MAX_DATAGRAM(17),
    /** Server on a Unix path: remove a stale socket file first, 0/1 (default 0). */
    REMOVE_STALE(18);

    private final int code;

    ConfigKey(int code) {
        this.code = code;
    }

    /** The stable number (the C door's {@code LS_ECFG_*}). */
    int code() {
        return code;
    }

    /**
     * Settings by key, as an options object records them: only what was set is passed, so the
     * rest keeps core's defaults.
     */
    static final class Settings {
        private final EnumMap<ConfigKey, Long> values;

        Settings() {
            values = new EnumMap<>(ConfigKey.class);
        }

        private Settings(EnumMap<ConfigKey, Long> values) {
            this.values = new EnumMap<>(values);
        }

        Settings copy() {
            return new Settings(values);
        }

        /** Records {@code key = value} after core's check of the value's range. */
        void set(ConfigKey key, long value) throws InvalidArgumentException {
            try {
                Native.engineSettingCheck(key.code(), value);
            } catch (InvalidArgumentException e) {
                throw e;
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
            values.put(key, value);
        }

        /** Records a 0/1 setting. */
        void set(ConfigKey key, boolean on) {
            values.put(key, on ? 1L : 0L);
        }

        /** Records a value known to be in range (a constant), without the native check. */
        void put(ConfigKey key, long value) {
            values.put(key, value);
        }

        /** The keys' numbers, in the order of {@link #values()}. */
        int[] keys() {
            int[] k = new int[values.size()];
            int i = 0;
            for (ConfigKey key : values.keySet()) {
                k[i++] = key.code();
            }
            return k;
        }

        /** The values, in the order of {@link #keys()}. */
        long[] values() {
            long[] v = new long[values.size()];
            int i = 0;
            for (Map.Entry<ConfigKey, Long> e : values.entrySet()) {
                v[i++] = e.getValue();
            }
            return v;
        }
    }
}
