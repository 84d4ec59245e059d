package io.libsock;

import java.util.LinkedHashMap;
import java.util.Map;

/** Options applied before connect/bind (package-private helper). */
final class SocketOptions {
    final Map<SockOpt, Long> values = new LinkedHashMap<>();

    SocketOptions copy() {
        SocketOptions c = new SocketOptions();
        c.values.putAll(values);
        return c;
    }

    int[] numbers() {
        int[] n = new int[values.size()];
        int i = 0;
        for (SockOpt o : values.keySet()) {
            n[i++] = o.number();
        }
        return n;
    }

    long[] vals() {
        long[] v = new long[values.size()];
        int i = 0;
        for (Long x : values.values()) {
            v[i++] = x;
        }
        return v;
    }
}
