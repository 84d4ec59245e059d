/*
 * lsbench - the C worker of the benchmark suite; speaks bench/PROTOCOL.md.
 *
 *   lsbench IMPL server WORKLOAD [--param value ...]
 *   lsbench IMPL client WORKLOAD --port P [--param value ...]
 *
 * IMPL:
 *   c-raw       plain blocking POSIX sockets: pingpong, bulk, framed (a writer thread and a
 *               reader), udp-flood and udp-drain (naive receiver: one recvfrom per datagram),
 *               udp-echo. Its `client udp-flood` (and `client udp-drain`, the same program) is
 *               THE shared UDP sender for every receiver (sendmmsg batches of 64, full speed,
 *               then 20 END datagrams 1 ms apart).
 *   c-raw-mmsg  the udp-flood and udp-drain receiver with recvmmsg (batches of 64); other
 *               workloads: skip.
 *   c-libsock   libsock's C ABI (ls_*) for every workload: framed with ls_send_msgs /
 *               ls_recv_msgs (a batch per call), UDP receivers with ls_recv_many.
 *   c-engine    libsock's event engine through the C ABI (ls_server_*, ls_client_*,
 *               ls_dgram_server_*; events pulled with ls_next_event / ls_next_datagram, which
 *               wait with a timeout), mirroring py-engine: pingpong with Fixed(size) framing
 *               (ls_client_send, ls_server_send per message); framed with the 4-byte big-endian
 *               length prefix, the client's writer thread queueing --batch messages per
 *               ls_client_send_batch, both readers taking every queued message per call
 *               with ls_next_messages and the server echoing each client's run of them with
 *               one ls_server_send_batch; udp-flood receiver and udp-echo
 *               server on a datagram server; the udp-echo client is a datagram server on port 0
 *               too (the engine has no UDP client; py-engine does the same). bulk and udp-drain:
 *               skip, for py-engine's reasons; udp-bulk: skip (c-raw only).
 *   other       {"ok": false, "skip": ...}, exit 3.
 *
 * Parameters: --size --count --nodelay --bytes --chunk --batch --port, --offload (udp-bulk;
 * ignored: c-raw is the naive baseline), and --timeout SECS (the
 * bound of every blocking wait, default 30). Nothing but READY and the one JSON result line goes
 * to stdout. Exit 0 ok, 1 failed run, 2 bad usage, 3 skipped.
 *
 * Build: bench/c/build.sh (links libsock.so from the repository's target/release).
 */
#define _GNU_SOURCE
#include "libsock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------------------------------ */
/* Parameters, output, helpers                                                                */
/* ------------------------------------------------------------------------------------------ */

/** The parsed command line. */
struct params {
    const char *impl, *role, *workload;
    long size, count, nodelay, bytes, chunk, batch, port, timeout_s;
};

static struct params P;

/** Failed run: one JSON line with the error, exit 1. */
static void fail(const char *fmt, ...) {
    char msg[512];
    va_list ap;
    size_t i;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    for (i = 0; msg[i]; i++)
        if (msg[i] == '"' || msg[i] == '\\' || (unsigned char)msg[i] < 0x20) msg[i] = '\'';
    printf("{\"ok\": false, \"error\": \"%s %s %s: %s\"}\n", P.impl, P.role, P.workload, msg);
    fflush(stdout);
    exit(1);
}

/** Failed run caused by a libsock call: adds the library's last error. */
static void ls_fail(const char *what, int32_t rc) {
    fail("%s: %s (%s)", what, ls_error_name(rc), ls_last_error());
}

#define LS(call)                                                                              \
    do {                                                                                      \
        int32_t rc_ = (call);                                                                 \
        if (rc_ != LS_OK) ls_fail(#call, rc_);                                                \
    } while (0)

/** Not implemented here: skip line, exit 3. */
static void skip(const char *why) {
    printf("{\"ok\": false, \"skip\": \"%s\"}\n", why);
    fflush(stdout);
    exit(3);
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void ready(int port) {
    printf("READY %d\n", port);
    fflush(stdout);
}

static int timeout_ms(void) { return (int)(P.timeout_s * 1000); }

/* Little-endian u64 (sequence numbers, counts) in and out of a byte buffer: one unaligned
 * load or store on a little-endian host, where a byte loop is what gcc -O2 left as eight loads
 * and shifts per message (~130 instructions per framed message between writer and checker,
 * which the Rust worker's u64::from_le_bytes never paid: the harness, not the library). */
static void put_u64(uint8_t *p, uint64_t v) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    memcpy(p, &v, sizeof v);
}

static uint64_t get_u64(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, sizeof v);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

static void put_be32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t get_be32(const uint8_t *p) {
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static void *xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) fail("out of memory (%zu bytes)", n);
    return p;
}

static int is_end(const uint8_t *p, size_t n) {
    static const uint8_t END[8] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    return n == 8 && memcmp(p, END, 8) == 0;
}

static char g_addr[64];

static const char *server_addr(void) {
    snprintf(g_addr, sizeof g_addr, "127.0.0.1:%ld", P.port);
    return g_addr;
}

/* ------------------------------------------------------------------------------------------ */
/* Raw sockets                                                                                */
/* ------------------------------------------------------------------------------------------ */

static void set_timeouts(int fd, int ms) {
    struct timeval tv;
    tv.tv_sec = ms / 1000;
    tv.tv_usec = (ms % 1000) * 1000;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) != 0)
        fail("SO_RCVTIMEO/SO_SNDTIMEO: %s", strerror(errno));
}

static void set_nodelay(int fd, int on) {
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on) != 0)
        fail("TCP_NODELAY: %s", strerror(errno));
}

/** A socket bound to 127.0.0.1:0 (TCP listening, or UDP); *port gets the port. */
static int raw_bind(int type, int *port) {
    struct sockaddr_in sa;
    socklen_t len = sizeof sa;
    int one = 1, fd = socket(AF_INET, type, 0);
    if (fd < 0) fail("socket: %s", strerror(errno));
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0) fail("bind: %s", strerror(errno));
    if (type == SOCK_STREAM && listen(fd, 16) != 0) fail("listen: %s", strerror(errno));
    if (getsockname(fd, (struct sockaddr *)&sa, &len) != 0) fail("getsockname: %s", strerror(errno));
    *port = ntohs(sa.sin_port);
    return fd;
}

/** Accept one client within the timeout. */
static int raw_accept(int lfd) {
    struct pollfd p;
    int fd;
    p.fd = lfd;
    p.events = POLLIN;
    p.revents = 0;
    if (poll(&p, 1, timeout_ms()) != 1) fail("no client within %ld s", P.timeout_s);
    fd = accept(lfd, NULL, NULL);
    if (fd < 0) fail("accept: %s", strerror(errno));
    set_timeouts(fd, timeout_ms());
    return fd;
}

static int raw_connect(int type) {
    struct sockaddr_in sa;
    int fd = socket(AF_INET, type, 0);
    if (fd < 0) fail("socket: %s", strerror(errno));
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons((uint16_t)P.port);
    set_timeouts(fd, timeout_ms());
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0)
        fail("connect to %s: %s", server_addr(), strerror(errno));
    return fd;
}

static void raw_send_all(int fd, const void *buf, size_t n) {
    const uint8_t *p = buf;
    while (n > 0) {
        ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
        if (k < 0) {
            if (errno == EINTR) continue;
            fail("send: %s", errno == EAGAIN ? "timed out" : strerror(errno));
        }
        p += k;
        n -= (size_t)k;
    }
}

static void raw_recv_exact(int fd, void *buf, size_t n) {
    uint8_t *p = buf;
    while (n > 0) {
        ssize_t k = recv(fd, p, n, MSG_WAITALL);
        if (k == 0) fail("peer closed");
        if (k < 0) {
            if (errno == EINTR) continue;
            fail("recv: %s", errno == EAGAIN ? "timed out" : strerror(errno));
        }
        p += k;
        n -= (size_t)k;
    }
}

/** recv what is there (at least one byte, or 0 at end of stream). */
static size_t raw_recv_some(int fd, void *buf, size_t cap) {
    for (;;) {
        ssize_t k = recv(fd, buf, cap, 0);
        if (k >= 0) return (size_t)k;
        if (errno != EINTR) fail("recv: %s", errno == EAGAIN ? "timed out" : strerror(errno));
    }
}

/* ------------------------------------------------------------------------------------------ */
/* libsock C ABI                                                                              */
/* ------------------------------------------------------------------------------------------ */

static int64_t ls_server_socket(int32_t *port) {
    int64_t l = 0;
    LS(ls_listen("127.0.0.1:0", 16, &l));
    LS(ls_local_port(l, port));
    LS(ls_set_timeout(l, timeout_ms()));
    return l;
}

static int64_t ls_accept_one(int64_t l) {
    int64_t c = 0;
    LS(ls_accept(l, LS_TIMEOUT_DEFAULT, &c));
    LS(ls_set_timeout(c, timeout_ms()));
    return c;
}

static int64_t ls_connect_one(void) {
    int64_t c = 0;
    LS(ls_tcp_connect(server_addr(), timeout_ms(), &c));
    LS(ls_set_timeout(c, timeout_ms()));
    return c;
}

/* ------------------------------------------------------------------------------------------ */
/* pingpong                                                                                   */
/* ------------------------------------------------------------------------------------------ */

static void pingpong_server(int lib) {
    uint8_t *b = xmalloc((size_t)P.size);
    long i;
    if (lib) {
        int32_t port = 0;
        int64_t l = ls_server_socket(&port), c;
        ready(port);
        c = ls_accept_one(l);
        LS(ls_set_option(c, LS_OPT_NODELAY, P.nodelay));
        for (i = 0; i < P.count; i++) {
            LS(ls_recv_exact(c, LS_TIMEOUT_DEFAULT, b, (size_t)P.size));
            LS(ls_send_all(c, b, (size_t)P.size));
        }
        ls_close(c);
        ls_close(l);
    } else {
        int port = 0, l = raw_bind(SOCK_STREAM, &port), c;
        ready(port);
        c = raw_accept(l);
        set_nodelay(c, (int)P.nodelay);
        for (i = 0; i < P.count; i++) {
            raw_recv_exact(c, b, (size_t)P.size);
            raw_send_all(c, b, (size_t)P.size);
        }
        close(c);
        close(l);
    }
    printf("{\"ok\": true, \"count\": %ld}\n", P.count);
    free(b);
}

static void pingpong_client(int lib) {
    size_t n = (size_t)P.size;
    uint8_t *out = xmalloc(n), *in = xmalloc(n);
    double t0, secs;
    long i;
    int fd = -1;
    int64_t c = 0;
    memset(out, 0x5a, n);
    if (lib) {
        c = ls_connect_one();
        LS(ls_set_option(c, LS_OPT_NODELAY, P.nodelay));
    } else {
        fd = raw_connect(SOCK_STREAM);
        set_nodelay(fd, (int)P.nodelay);
    }
    t0 = now_s();
    for (i = 0; i < P.count; i++) {
        put_u64(out, (uint64_t)i);
        if (lib) {
            LS(ls_send_all(c, out, n));
            LS(ls_recv_exact(c, LS_TIMEOUT_DEFAULT, in, n));
        } else {
            raw_send_all(fd, out, n);
            raw_recv_exact(fd, in, n);
        }
        if (memcmp(in, out, n) != 0) fail("round trip %ld: the echo differs from what was sent", i);
    }
    secs = now_s() - t0;
    if (lib)
        ls_close(c);
    else
        close(fd);
    printf("{\"ok\": true, \"rt_per_s\": %.1f, \"count\": %ld, \"secs\": %.6f}\n",
           (double)P.count / secs, P.count, secs);
    free(out);
    free(in);
}

/* ------------------------------------------------------------------------------------------ */
/* bulk                                                                                       */
/* ------------------------------------------------------------------------------------------ */

static void bulk_server(int lib) {
    size_t chunk = (size_t)P.chunk, n;
    uint8_t *b = xmalloc(chunk), first[8], cnt[8];
    uint64_t total = 0;
    int fd = -1, lfd = -1;
    int64_t c = 0, l = 0;
    if (lib) {
        int32_t port = 0;
        l = ls_server_socket(&port);
        ready(port);
        c = ls_accept_one(l);
    } else {
        int port = 0;
        lfd = raw_bind(SOCK_STREAM, &port);
        ready(port);
        fd = raw_accept(lfd);
    }
    for (;;) {
        if (lib)
            LS(ls_recv(c, LS_TIMEOUT_DEFAULT, b, chunk, &n));
        else
            n = raw_recv_some(fd, b, chunk);
        if (n == 0) break;
        if (total < 8) memcpy(first + total, b, n < 8 - total ? n : 8 - total);
        total += n;
    }
    if (total < 8 || get_u64(first) != (uint64_t)P.bytes)
        fail("received %llu bytes; the first 8 do not say %ld", (unsigned long long)total, P.bytes);
    put_u64(cnt, total);
    if (lib) {
        LS(ls_send_all(c, cnt, 8));
        ls_close(c);
        ls_close(l);
    } else {
        raw_send_all(fd, cnt, 8);
        close(fd);
        close(lfd);
    }
    printf("{\"ok\": true, \"bytes\": %llu}\n", (unsigned long long)total);
    free(b);
}

static void bulk_client(int lib) {
    size_t chunk = (size_t)P.chunk;
    uint8_t *b = xmalloc(chunk), cnt[8];
    uint64_t left = (uint64_t)P.bytes, got;
    double t0, secs;
    int fd = -1;
    int64_t c = 0;
    memset(b, 0xa5, chunk);
    put_u64(b, (uint64_t)P.bytes);
    if (lib)
        c = ls_connect_one();
    else
        fd = raw_connect(SOCK_STREAM);
    t0 = now_s();
    while (left > 0) {
        size_t k = left < chunk ? (size_t)left : chunk;
        if (lib)
            LS(ls_send_all(c, b, k));
        else
            raw_send_all(fd, b, k);
        left -= k;
    }
    if (lib) {
        LS(ls_socket_shutdown(c, LS_SHUT_WRITE));
        LS(ls_recv_exact(c, LS_TIMEOUT_DEFAULT, cnt, 8));
    } else {
        if (shutdown(fd, SHUT_WR) != 0) fail("shutdown: %s", strerror(errno));
        raw_recv_exact(fd, cnt, 8);
    }
    secs = now_s() - t0;
    got = get_u64(cnt);
    if (got != (uint64_t)P.bytes) fail("server counted %llu bytes of %ld", (unsigned long long)got, P.bytes);
    if (lib)
        ls_close(c);
    else
        close(fd);
    printf("{\"ok\": true, \"mib_per_s\": %.1f, \"bytes\": %ld, \"secs\": %.6f}\n",
           (double)P.bytes / 1048576.0 / secs, P.bytes, secs);
    free(b);
}

/* ------------------------------------------------------------------------------------------ */
/* framed                                                                                     */
/* ------------------------------------------------------------------------------------------ */

#define MAX_FRAME (16u << 20)
#define RAW_RBUF (256u << 10)

/** Raw server: read, decode every complete frame, re-encode it into the out buffer, write the
 * batch with one send. */
static void framed_server_raw(void) {
    int port = 0, l = raw_bind(SOCK_STREAM, &port), fd;
    size_t cap = RAW_RBUF, have = 0, pos, n;
    uint8_t *in = xmalloc(cap), *out = xmalloc(cap);
    long echoed = 0;
    ready(port);
    fd = raw_accept(l);
    set_nodelay(fd, 1);
    while (echoed < P.count) {
        size_t o = 0;
        if (have == cap) {
            cap *= 2;
            in = realloc(in, cap);
            out = realloc(out, cap);
            if (!in || !out) fail("out of memory");
        }
        n = raw_recv_some(fd, in + have, cap - have);
        if (n == 0) fail("client closed after %ld of %ld messages", echoed, P.count);
        have += n;
        pos = 0;
        while (have - pos >= 4) {
            uint32_t len = get_be32(in + pos);
            if (len > MAX_FRAME) fail("frame of %u bytes", len);
            if (have - pos - 4 < len) break;
            put_be32(out + o, len);
            memcpy(out + o + 4, in + pos + 4, len);
            o += 4 + len;
            pos += 4 + len;
            echoed++;
        }
        if (o) raw_send_all(fd, out, o);
        memmove(in, in + pos, have - pos);
        have -= pos;
    }
    close(fd);
    close(l);
    printf("{\"ok\": true, \"count\": %ld}\n", echoed);
    free(in);
    free(out);
}

/** Messages the libsock servers echo with one call at most: like the raw and tokio servers,
 * which echo everything one read decoded, they take every message already here (up to 4 MiB of
 * bodies, at least --batch). */
static size_t server_batch(void) {
    size_t n = (size_t)(4u << 20) / (size_t)P.size;
    if (n > 4096) n = 4096;
    return n > (size_t)P.batch ? n : (size_t)P.batch;
}

/** libsock server: take the messages already here with one ls_recv_msgs (the first waits, the
 * rest are what is decoded, buffered or readable without waiting), echo them with one
 * ls_send_msgs. */
static void framed_server_lib(void) {
    int32_t port = 0;
    int64_t l = ls_server_socket(&port), c;
    size_t batch = server_batch(), slot = (size_t)P.size, n;
    uint8_t *buf = xmalloc(batch * slot);
    size_t *lens = xmalloc(batch * sizeof *lens);
    long echoed = 0;
    LS(ls_set_framing_length(l, 4, 1, 0));
    ready(port);
    c = ls_accept_one(l);
    LS(ls_set_option(c, LS_OPT_NODELAY, 1));
    while (echoed < P.count) {
        size_t want = (size_t)(P.count - echoed) < batch ? (size_t)(P.count - echoed) : batch;
        LS(ls_recv_msgs(c, LS_TIMEOUT_DEFAULT, buf, want * slot, want, lens, &n));
        LS(ls_send_msgs(c, buf, lens, n));
        echoed += (long)n;
    }
    ls_close(c);
    ls_close(l);
    printf("{\"ok\": true, \"count\": %ld}\n", echoed);
    free(buf);
    free(lens);
}

struct writer {
    int lib, fd;
    int64_t c;
};

/** The client's writer: N messages in batches of --batch. */
static void *framed_writer(void *arg) {
    struct writer *w = arg;
    size_t batch = (size_t)P.batch, size = (size_t)P.size, k;
    size_t frame = 4 + size;
    uint8_t *buf = xmalloc(batch * frame);
    size_t *lens = xmalloc(batch * sizeof *lens);
    long i = 0;
    for (k = 0; k < batch; k++) {
        lens[k] = size;
        if (w->lib) {
            memset(buf + k * size, 0x33, size);
        } else {
            put_be32(buf + k * frame, (uint32_t)size);
            memset(buf + k * frame + 4, 0x33, size);
        }
    }
    while (i < P.count) {
        size_t m = (size_t)(P.count - i) < batch ? (size_t)(P.count - i) : batch;
        for (k = 0; k < m; k++)
            put_u64(w->lib ? buf + k * size : buf + k * frame + 4, (uint64_t)(i + (long)k));
        if (w->lib)
            LS(ls_send_msgs(w->c, buf, lens, m));
        else
            raw_send_all(w->fd, buf, m * frame);
        i += (long)m;
    }
    free(buf);
    free(lens);
    return NULL;
}

static void check_msg(const uint8_t *body, size_t len, long want) {
    uint64_t seq;
    if (len != (size_t)P.size) fail("message %ld has %zu bytes, not %ld", want, len, P.size);
    seq = get_u64(body);
    if (seq != (uint64_t)want) fail("message %ld carries sequence number %llu", want, (unsigned long long)seq);
}

static void framed_client(int lib) {
    struct writer w;
    pthread_t th;
    double t0, secs;
    long got = 0;
    memset(&w, 0, sizeof w);
    w.lib = lib;
    if (lib) {
        w.c = ls_connect_one();
        LS(ls_set_option(w.c, LS_OPT_NODELAY, 1));
        LS(ls_set_framing_length(w.c, 4, 1, 0));
    } else {
        w.fd = raw_connect(SOCK_STREAM);
        set_nodelay(w.fd, 1);
    }
    t0 = now_s();
    if (pthread_create(&th, NULL, framed_writer, &w) != 0) fail("pthread_create");
    if (lib) {
        /* Every message already here with one ls_recv_msgs, as the raw reader parses all that
         * one recv gave. */
        size_t most = server_batch(), cap = most * (size_t)P.size, n, i, off;
        uint8_t *b = xmalloc(cap);
        size_t *lens = xmalloc(most * sizeof *lens);
        while (got < P.count) {
            LS(ls_recv_msgs(w.c, LS_TIMEOUT_DEFAULT, b, cap, most, lens, &n));
            for (i = 0, off = 0; i < n; i++) {
                check_msg(b + off, lens[i], got++);
                off += lens[i];
            }
        }
        free(b);
        free(lens);
    } else {
        size_t cap = RAW_RBUF, have = 0, pos, n;
        uint8_t *in = xmalloc(cap);
        while (got < P.count) {
            n = raw_recv_some(w.fd, in + have, cap - have);
            if (n == 0) fail("server closed after %ld of %ld messages", got, P.count);
            have += n;
            pos = 0;
            while (have - pos >= 4) {
                uint32_t len = get_be32(in + pos);
                if (len != (uint32_t)P.size) fail("message %ld has length %u", got, len);
                if (have - pos - 4 < len) break;
                check_msg(in + pos + 4, len, got);
                got++;
                pos += 4 + len;
            }
            memmove(in, in + pos, have - pos);
            have -= pos;
        }
        free(in);
    }
    secs = now_s() - t0;
    pthread_join(th, NULL);
    if (lib)
        ls_close(w.c);
    else
        close(w.fd);
    printf("{\"ok\": true, \"msgs_per_s\": %.1f, \"count\": %ld, \"secs\": %.6f}\n",
           (double)P.count / secs, P.count, secs);
}

/* ------------------------------------------------------------------------------------------ */
/* udp-flood                                                                                  */
/* ------------------------------------------------------------------------------------------ */

#define UDP_BATCH 64
#define RCVBUF_WANT (4 << 20)

struct flood {
    long received;
    double t_first, t_last;
    double cpu_first; /* process CPU time at the first datagram */
};

/** CPU time (user + system) of this process so far, in seconds. */
static double cpu_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/** Check one datagram; 1 when it is END. */
static int flood_one(struct flood *f, const uint8_t *p, size_t n, double t) {
    uint64_t seq;
    if (is_end(p, n)) return 1;
    if (n != (size_t)P.size) fail("a datagram of %zu bytes, not %ld", n, P.size);
    seq = get_u64(p);
    if (seq >= (uint64_t)P.count) fail("sequence number %llu >= count", (unsigned long long)seq);
    if (f->received == 0) {
        f->t_first = t;
        f->cpu_first = cpu_s();
    }
    f->t_last = t;
    f->received++;
    return 0;
}

/** The result line. Besides the protocol's fields, rx_cpu_secs (the receiver's CPU time from the
 * first datagram to the end) and cpu_ns_per_dgram: when the sender is the bottleneck, rx_per_s
 * is the sender's rate, and the receiver's cost shows only in its CPU time. */
static void flood_result(const struct flood *f, long rcvbuf) {
    double secs = f->t_last - f->t_first, cpu;
    if (f->received == 0) fail("no datagram received");
    cpu = cpu_s() - f->cpu_first;
    printf("{\"ok\": true, \"received\": %ld, \"rx_secs\": %.6f, \"rx_per_s\": %.1f, \"rcvbuf\": %ld, "
           "\"rx_cpu_secs\": %.6f, \"cpu_ns_per_dgram\": %.1f}\n",
           f->received, secs, secs > 0 ? (double)f->received / secs : 0.0, rcvbuf, cpu,
           cpu * 1e9 / (double)f->received);
}

/** Raw receivers: one recvfrom per datagram (mmsg 0) or recvmmsg batches of 64 (mmsg 1). */
static void flood_server_raw(int mmsg) {
    int port = 0, fd = raw_bind(SOCK_DGRAM, &port), want = RCVBUF_WANT, actual = 0, done = 0;
    socklen_t sl = sizeof actual;
    size_t slot = (size_t)P.size + 64;
    uint8_t *buf = xmalloc(slot * UDP_BATCH);
    struct mmsghdr hdr[UDP_BATCH];
    struct iovec iov[UDP_BATCH];
    struct flood f;
    int i, short_wait = 0;
    memset(&f, 0, sizeof f);
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &want, sizeof want);
    getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &actual, &sl);
    set_timeouts(fd, timeout_ms());
    memset(hdr, 0, sizeof hdr);
    for (i = 0; i < UDP_BATCH; i++) {
        iov[i].iov_base = buf + (size_t)i * slot;
        iov[i].iov_len = slot;
        hdr[i].msg_hdr.msg_iov = &iov[i];
        hdr[i].msg_hdr.msg_iovlen = 1;
    }
    ready(port);
    while (!done) {
        double t;
        if (mmsg) {
            int r = recvmmsg(fd, hdr, UDP_BATCH, MSG_WAITFORONE, NULL);
            if (r < 0 && errno == EINTR) continue;
            if (r < 0 && errno == EAGAIN && f.received > 0) break; /* 2 s with nothing */
            if (r < 0) fail("recvmmsg: %s", errno == EAGAIN ? "nothing within the timeout" : strerror(errno));
            t = now_s();
            for (i = 0; i < r && !done; i++) done = flood_one(&f, buf + (size_t)i * slot, hdr[i].msg_len, t);
        } else {
            ssize_t r = recvfrom(fd, buf, slot, 0, NULL, NULL);
            if (r < 0 && errno == EINTR) continue;
            if (r < 0 && errno == EAGAIN && f.received > 0) break;
            if (r < 0) fail("recvfrom: %s", errno == EAGAIN ? "nothing within the timeout" : strerror(errno));
            t = now_s();
            done = flood_one(&f, buf, (size_t)r, t);
        }
        if (!short_wait && f.received > 0) { /* from now on: stop after 2 s with nothing */
            set_timeouts(fd, 2000);
            short_wait = 1;
        }
    }
    close(fd);
    flood_result(&f, actual);
    free(buf);
}

/** libsock receiver: ls_recv_many (one recvmmsg per batch of 64). */
static void flood_server_lib(void) {
    int64_t o = 0, d = 0, rcvbuf = 0;
    int32_t port = 0;
    size_t slot = (size_t)P.size + 64, lens[UDP_BATCH], n, i;
    uint8_t *buf = xmalloc(slot * UDP_BATCH);
    struct flood f;
    int done = 0, short_wait = 0;
    memset(&f, 0, sizeof f);
    LS(ls_options_new(&o));
    LS(ls_set_option(o, LS_OPT_RECV_BUFFER_SIZE, RCVBUF_WANT));
    LS(ls_udp_bind_ex("127.0.0.1:0", o, &d));
    ls_close(o);
    LS(ls_get_option(d, LS_OPT_RECV_BUFFER_SIZE, &rcvbuf));
    LS(ls_local_port(d, &port));
    LS(ls_set_timeout(d, timeout_ms()));
    ready(port);
    while (!done) {
        double t;
        int32_t rc = ls_recv_many(d, LS_TIMEOUT_DEFAULT, buf, slot, UDP_BATCH, lens, NULL, NULL, &n);
        if (rc == LS_ERR_TIMEOUT && f.received > 0) break;
        if (rc != LS_OK) ls_fail("ls_recv_many", rc);
        t = now_s();
        for (i = 0; i < n && !done; i++) done = flood_one(&f, buf + i * slot, lens[i], t);
        if (!short_wait && f.received > 0) {
            LS(ls_set_timeout(d, 2000));
            short_wait = 1;
        }
    }
    ls_close(d);
    flood_result(&f, (long)rcvbuf);
    free(buf);
}

/** THE shared sender: sendmmsg batches of 64 at full speed, then 20 END datagrams 1 ms apart. */
static void flood_client(void) {
    int fd = raw_connect(SOCK_DGRAM), i;
    size_t size = (size_t)P.size;
    uint8_t *buf = xmalloc(size * UDP_BATCH), end[8];
    struct mmsghdr hdr[UDP_BATCH];
    struct iovec iov[UDP_BATCH];
    struct timespec ms = {0, 1000000};
    long sent = 0;
    double t0, secs;
    memset(buf, 0x77, size * UDP_BATCH);
    memset(hdr, 0, sizeof hdr);
    for (i = 0; i < UDP_BATCH; i++) {
        iov[i].iov_base = buf + (size_t)i * size;
        iov[i].iov_len = size;
        hdr[i].msg_hdr.msg_iov = &iov[i];
        hdr[i].msg_hdr.msg_iovlen = 1;
    }
    t0 = now_s();
    while (sent < P.count) {
        int m = P.count - sent < UDP_BATCH ? (int)(P.count - sent) : UDP_BATCH, r;
        for (i = 0; i < m; i++) put_u64(buf + (size_t)i * size, (uint64_t)(sent + i));
        r = sendmmsg(fd, hdr, (unsigned)m, 0);
        if (r < 0) {
            if (errno == EINTR || errno == ENOBUFS) continue;
            fail("sendmmsg: %s", strerror(errno));
        }
        /* A partial batch: the next round renumbers from the first unsent datagram. */
        sent += r;
    }
    secs = now_s() - t0;
    memset(end, 0xff, sizeof end);
    for (i = 0; i < 20; i++) {
        (void)send(fd, end, sizeof end, 0); /* the receiver may be gone already: ignore errors */
        nanosleep(&ms, NULL);
    }
    close(fd);
    printf("{\"ok\": true, \"sent\": %ld, \"tx_secs\": %.6f}\n", sent, secs);
    free(buf);
}

/* ------------------------------------------------------------------------------------------ */
/* udp-bulk (c-raw: the naive baseline, one sendto per datagram; the receiver is the naive     */
/* flood receiver, one recvfrom per datagram)                                                 */
/* ------------------------------------------------------------------------------------------ */

static void bulk_client_raw(void) {
    int fd = raw_connect(SOCK_DGRAM), i;
    size_t size = (size_t)P.size;
    uint8_t *buf = xmalloc(size), end[8];
    struct timespec ms = {0, 1000000};
    long sent = 0;
    double t0, secs;
    memset(buf, 0x77, size);
    t0 = now_s();
    while (sent < P.count) {
        put_u64(buf, (uint64_t)sent);
        if (send(fd, buf, size, 0) < 0) {
            if (errno == EINTR || errno == ENOBUFS) continue;
            fail("send: %s", strerror(errno));
        }
        sent++;
    }
    secs = now_s() - t0;
    memset(end, 0xff, sizeof end);
    for (i = 0; i < 20; i++) {
        (void)send(fd, end, sizeof end, 0);
        nanosleep(&ms, NULL);
    }
    close(fd);
    printf("{\"ok\": true, \"sent\": %ld, \"tx_secs\": %.6f, \"tx_per_s\": %.1f}\n", sent, secs,
           secs > 0 ? sent / secs : 0.0);
    free(buf);
}

/* ------------------------------------------------------------------------------------------ */
/* udp-drain                                                                                  */
/* ------------------------------------------------------------------------------------------ */

#define DRAIN_RCVBUF (256 << 20)
#define DRAIN_IDLE_MS 200

/** Wait for a line "GO" on standard input, at most --timeout seconds. */
static void wait_go(void) {
    char line[64];
    size_t n = 0;
    double t0 = now_s();
    for (;;) {
        struct pollfd p;
        int left = timeout_ms() - (int)((now_s() - t0) * 1000), r;
        ssize_t k;
        if (left <= 0) fail("no GO on stdin within %ld s", P.timeout_s);
        p.fd = 0;
        p.events = POLLIN;
        p.revents = 0;
        r = poll(&p, 1, left);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) fail("poll stdin: %s", strerror(errno));
        if (r == 0) continue;
        k = read(0, line + n, sizeof line - 1 - n);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) fail("stdin ended before GO");
        n += (size_t)k;
        line[n] = 0;
        if (strchr(line, '\n')) {
            if (strncmp(line, "GO", 2) == 0 && (line[2] == '\n' || line[2] == '\r')) return;
            fail("stdin said something else than GO");
        }
        if (n == sizeof line - 1) fail("stdin said something else than GO");
    }
}

/** SO_RCVBUFFORCE = 256 MiB (root), else SO_RCVBUF (capped by net.core.rmem_max); returns the
 * actual size the kernel reports. */
static long force_rcvbuf(int fd) {
    int want = DRAIN_RCVBUF, actual = 0;
    socklen_t sl = sizeof actual;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &want, sizeof want) != 0)
        (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &want, sizeof want);
    if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &actual, &sl) != 0) fail("SO_RCVBUF: %s", strerror(errno));
    return actual;
}

/** The descriptor of this process's UDP socket bound to 127.0.0.1:port. The C ABI hands out no
 * descriptor of a datagram socket, and its LS_OPT_RECV_BUFFER_SIZE is SO_RCVBUF (capped by
 * net.core.rmem_max): SO_RCVBUFFORCE needs the descriptor. */
static int find_udp_fd(int port) {
    int fd;
    for (fd = 3; fd < 4096; fd++) {
        struct sockaddr_in sa;
        socklen_t l = sizeof sa, tl;
        int type = 0;
        tl = sizeof type;
        if (getsockname(fd, (struct sockaddr *)&sa, &l) != 0 || sa.sin_family != AF_INET) continue;
        if (ntohs(sa.sin_port) != port) continue;
        if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) == 0 && type == SOCK_DGRAM) return fd;
    }
    fail("no UDP descriptor bound to port %d", port);
    return -1;
}

struct drain {
    long received;
    double t0, t_end, cpu0;
};

/** Check one datagram; 1 when it is END. */
static int drain_one(struct drain *d, const uint8_t *p, size_t n) {
    uint64_t seq;
    if (is_end(p, n)) return 1;
    if (n != (size_t)P.size) fail("a datagram of %zu bytes, not %ld", n, P.size);
    seq = get_u64(p);
    if (seq >= (uint64_t)P.count) fail("sequence number %llu >= count", (unsigned long long)seq);
    d->received++;
    return 0;
}

static void drain_start(struct drain *d) {
    memset(d, 0, sizeof *d);
    d->cpu0 = cpu_s();
    d->t0 = now_s();
}

/** The end of the drain: at END, now; after DRAIN_IDLE_MS with nothing, when the last datagram
 * came (the wait is not part of the drain). */
static void drain_stop(struct drain *d, int at_end) {
    d->t_end = now_s() - (at_end ? 0.0 : DRAIN_IDLE_MS / 1000.0);
}

/** The result line: the protocol's fields, and the receiver's CPU time per datagram. */
static void drain_result(const struct drain *d, long rcvbuf) {
    double secs = d->t_end - d->t0, cpu = cpu_s() - d->cpu0;
    if (d->received == 0) fail("no datagram within %d ms of GO", DRAIN_IDLE_MS);
    if (secs <= 0) secs = 1e-9;
    printf("{\"ok\": true, \"received\": %ld, \"rx_secs\": %.6f, \"rx_per_s\": %.1f, \"rcvbuf\": %ld, "
           "\"rx_cpu_secs\": %.6f, \"cpu_ns_per_dgram\": %.1f}\n",
           d->received, secs, (double)d->received / secs, rcvbuf, cpu, cpu * 1e9 / (double)d->received);
}

/** Raw drains: one recvfrom per datagram (mmsg 0) or recvmmsg batches of 64 (mmsg 1). */
static void drain_server_raw(int mmsg) {
    int port = 0, fd = raw_bind(SOCK_DGRAM, &port), done = 0, i;
    long rcvbuf = force_rcvbuf(fd);
    size_t slot = (size_t)P.size + 64;
    uint8_t *buf = xmalloc(slot * UDP_BATCH);
    struct mmsghdr hdr[UDP_BATCH];
    struct iovec iov[UDP_BATCH];
    struct drain d;
    set_timeouts(fd, DRAIN_IDLE_MS);
    memset(hdr, 0, sizeof hdr);
    for (i = 0; i < UDP_BATCH; i++) {
        iov[i].iov_base = buf + (size_t)i * slot;
        iov[i].iov_len = slot;
        hdr[i].msg_hdr.msg_iov = &iov[i];
        hdr[i].msg_hdr.msg_iovlen = 1;
    }
    ready(port);
    wait_go();
    drain_start(&d);
    for (;;) {
        if (mmsg) {
            int r = recvmmsg(fd, hdr, UDP_BATCH, MSG_WAITFORONE, NULL);
            if (r < 0 && errno == EINTR) continue;
            if (r < 0 && errno == EAGAIN) break;
            if (r < 0) fail("recvmmsg: %s", strerror(errno));
            for (i = 0; i < r && !done; i++) done = drain_one(&d, buf + (size_t)i * slot, hdr[i].msg_len);
        } else {
            ssize_t r = recvfrom(fd, buf, slot, 0, NULL, NULL);
            if (r < 0 && errno == EINTR) continue;
            if (r < 0 && errno == EAGAIN) break;
            if (r < 0) fail("recvfrom: %s", strerror(errno));
            done = drain_one(&d, buf, (size_t)r);
        }
        if (done) break;
    }
    drain_stop(&d, done);
    close(fd);
    drain_result(&d, rcvbuf);
    free(buf);
}

/** libsock drain: ls_recv_many, batches of 64 (one recvmmsg each). */
static void drain_server_lib(void) {
    int64_t h = 0;
    int32_t port = 0;
    size_t slot = (size_t)P.size + 64, lens[UDP_BATCH], n, i;
    uint8_t *buf = xmalloc(slot * UDP_BATCH);
    struct drain d;
    long rcvbuf;
    int done = 0;
    LS(ls_udp_bind("127.0.0.1:0", &h));
    LS(ls_local_port(h, &port));
    rcvbuf = force_rcvbuf(find_udp_fd(port));
    LS(ls_set_timeout(h, DRAIN_IDLE_MS));
    ready(port);
    wait_go();
    drain_start(&d);
    for (;;) {
        int32_t rc = ls_recv_many(h, LS_TIMEOUT_DEFAULT, buf, slot, UDP_BATCH, lens, NULL, NULL, &n);
        if (rc == LS_ERR_TIMEOUT) break;
        if (rc != LS_OK) ls_fail("ls_recv_many", rc);
        for (i = 0; i < n && !done; i++) done = drain_one(&d, buf + i * slot, lens[i]);
        if (done) break;
    }
    drain_stop(&d, done);
    ls_close(h);
    drain_result(&d, rcvbuf);
    free(buf);
}

/* ------------------------------------------------------------------------------------------ */
/* udp-echo                                                                                   */
/* ------------------------------------------------------------------------------------------ */

static void udp_echo_server(int lib) {
    size_t cap = (size_t)P.size + 64, n;
    uint8_t *b = xmalloc(cap);
    long echoed = 0;
    if (lib) {
        int64_t d = 0;
        int32_t port = 0, tr = 0;
        char peer[LS_ADDRESS_MAX];
        size_t pl = 0;
        LS(ls_udp_bind("127.0.0.1:0", &d));
        LS(ls_local_port(d, &port));
        LS(ls_set_timeout(d, timeout_ms()));
        ready(port);
        for (;;) {
            LS(ls_recv_from(d, LS_TIMEOUT_DEFAULT, b, cap, &n, peer, sizeof peer, &pl, &tr));
            if (is_end(b, n)) break;
            LS(ls_send_to(d, b, n, peer));
            echoed++;
        }
        ls_close(d);
    } else {
        int port = 0, fd = raw_bind(SOCK_DGRAM, &port);
        struct sockaddr_storage from;
        set_timeouts(fd, timeout_ms());
        ready(port);
        for (;;) {
            socklen_t fl = sizeof from;
            ssize_t r = recvfrom(fd, b, cap, 0, (struct sockaddr *)&from, &fl);
            if (r < 0 && errno == EINTR) continue;
            if (r < 0) fail("recvfrom: %s", errno == EAGAIN ? "timed out" : strerror(errno));
            if (is_end(b, (size_t)r)) break;
            if (sendto(fd, b, (size_t)r, 0, (struct sockaddr *)&from, fl) != r)
                fail("sendto: %s", strerror(errno));
            echoed++;
        }
        close(fd);
    }
    printf("{\"ok\": true, \"echoed\": %ld}\n", echoed);
    free(b);
}

static void udp_echo_client(int lib) {
    size_t size = (size_t)P.size, cap = size + 64, n = 0;
    uint8_t *out = xmalloc(size), *in = xmalloc(cap), end[8];
    int fd = -1;
    int64_t d = 0;
    long i, resent = 0;
    double t0, secs;
    memset(out, 0x5a, size);
    if (lib) {
        LS(ls_udp_connect(server_addr(), &d));
        LS(ls_set_timeout(d, timeout_ms()));
    } else {
        fd = raw_connect(SOCK_DGRAM);
        set_timeouts(fd, 1000);
    }
    t0 = now_s();
    for (i = 0; i < P.count; i++) {
        int tries = 0;
        put_u64(out, (uint64_t)i);
        for (;;) {
            int timed_out = 0;
            if (lib) {
                LS(ls_send(d, out, size, &n));
            } else if (send(fd, out, size, 0) != (ssize_t)size) {
                fail("send: %s", strerror(errno));
            }
            for (;;) { /* wait for this reply; stale replies of a resend are skipped */
                if (lib) {
                    int32_t rc = ls_recv(d, 1000, in, cap, &n);
                    if (rc == LS_ERR_TIMEOUT) {
                        timed_out = 1;
                        break;
                    }
                    if (rc != LS_OK) ls_fail("ls_recv", rc);
                } else {
                    ssize_t r = recv(fd, in, cap, 0);
                    if (r < 0 && errno == EINTR) continue;
                    if (r < 0 && errno == EAGAIN) {
                        timed_out = 1;
                        break;
                    }
                    if (r < 0) fail("recv: %s", strerror(errno));
                    n = (size_t)r;
                }
                if (n >= 8 && get_u64(in) < (uint64_t)i) continue;
                break;
            }
            if (!timed_out) break;
            if (++tries == 2) fail("round trip %ld: no reply twice (1 s each)", i);
            resent++;
        }
        if (n != size || memcmp(in, out, size) != 0) fail("round trip %ld: the echo differs", i);
    }
    secs = now_s() - t0;
    memset(end, 0xff, sizeof end);
    if (lib) {
        LS(ls_send(d, end, 8, &n));
        ls_close(d);
    } else {
        (void)send(fd, end, 8, 0);
        close(fd);
    }
    printf("{\"ok\": true, \"rt_per_s\": %.1f, \"count\": %ld, \"secs\": %.6f, \"resent\": %ld}\n",
           (double)P.count / secs, P.count, secs, resent);
    free(out);
    free(in);
}

/* ------------------------------------------------------------------------------------------ */
/* c-engine: libsock's event engine through the C ABI (ls_server_*, ls_client_*,               */
/* ls_dgram_server_*, events pulled with ls_next_event / ls_next_datagram)                     */
/* ------------------------------------------------------------------------------------------ */

/* Messages are pulled in batches with ls_next_messages (as Python's messages()); other events
 * (connected, disconnected, datagrams) one per call with ls_next_event / ls_next_datagram. */

/** Room for an event's text (a peer address, a disconnect reason, a warning) besides a message. */
#define ENG_TEXT 4096
/** Event queue bound of the framed and udp-flood objects (as PyEngine's event_capacity). */
#define ENG_EVENTS 65536

/** One pulled event (ls_next_event's out-parameters). */
struct ev {
    int32_t kind;
    uint64_t client;
    int64_t value;
    size_t len;
};

/** ls_next_event into buf: LS_OK, LS_ERR_TIMEOUT, or LS_ERR_BUFFER_TOO_SMALL (the event stays
 * queued, e->len is its size); any other result fails the run. */
static int32_t eng_next(int64_t h, int32_t ms, struct ev *e, uint8_t *buf, size_t cap) {
    int32_t rc;
    memset(e, 0, sizeof *e);
    rc = ls_next_event(h, ms, &e->kind, &e->client, &e->value, buf, cap, &e->len);
    if (rc != LS_OK && rc != LS_ERR_TIMEOUT && rc != LS_ERR_BUFFER_TOO_SMALL) ls_fail("ls_next_event", rc);
    return rc;
}

/** Fail on an event the workload does not expect; its text (if it has text) in the message. */
static void eng_unexpected(const char *where, const struct ev *e, const uint8_t *buf) {
    int text = e->kind == LS_EVENT_CONNECTED || e->kind == LS_EVENT_DISCONNECTED || e->kind == LS_EVENT_WARNING;
    int shown = text ? (int)(e->len < 200 ? e->len : 200) : 0;
    size_t i;
    char t[201];
    for (i = 0; i < (size_t)shown; i++) t[i] = (buf[i] < 0x20 || buf[i] > 0x7e) ? '?' : (char)buf[i];
    t[shown] = 0;
    fail("%s: unexpected event kind %d (client %llu, value %lld, %zu bytes) %s", where, e->kind,
         (unsigned long long)e->client, (long long)e->value, e->len, t);
}

/** An engine config for a server or client: `fixed` > 0 is Fixed(fixed) framing, 0 the 4-byte
 * big-endian length prefix; TCP_NODELAY as given; no heartbeat and no reconnect (PyEngine's
 * heartbeat=False, reconnect=False); `events` > 0 bounds the event queue. */
static int64_t eng_config(size_t fixed, long nodelay, int64_t events) {
    int64_t cfg = 0;
    LS(ls_engine_config_new(&cfg));
    if (fixed)
        LS(ls_set_framing_fixed(cfg, fixed));
    else
        LS(ls_set_framing_length(cfg, 4, 1, 0));
    LS(ls_set_option(cfg, LS_OPT_NODELAY, nodelay));
    LS(ls_engine_config_set(cfg, LS_ECFG_HEARTBEAT_INTERVAL_MS, -1));
    LS(ls_engine_config_set(cfg, LS_ECFG_RECONNECT, 0));
    if (events > 0) LS(ls_engine_config_set(cfg, LS_ECFG_EVENT_CAPACITY, events));
    return cfg;
}

/** An engine server on 127.0.0.1:0 with config `cfg` (closed here); prints READY. */
static int64_t eng_listen(int64_t cfg) {
    int64_t srv = 0;
    int32_t port = 0;
    LS(ls_server_listen("127.0.0.1:0", cfg, &srv));
    ls_close(cfg);
    LS(ls_local_port(srv, &port));
    ready(port);
    return srv;
}

/** A server event other than a message: 1 at the client's orderly close (the end of the run),
 * 0 for a new client; anything else fails the run. */
static int eng_server_event(const struct ev *e, const uint8_t *text) {
    if (e->kind == LS_EVENT_CONNECTED) return 0;
    if (e->kind == LS_EVENT_DISCONNECTED && e->value == LS_REASON_PEER_CLOSED) return 1;
    eng_unexpected("server", e, text);
    return 1;
}

/** The end of a server run: every message the client sent was echoed (else a failed run). */
static void eng_server_done(int64_t srv, long k) {
    LS(ls_server_shutdown(srv, 500));
    ls_close(srv);
    if (k != P.count) fail("served %ld of %ld messages", k, P.count);
    printf("{\"ok\": true, \"count\": %ld}\n", k);
}

/** An engine client of the server at --port with config `cfg` (closed here), returned once its
 * LS_EVENT_CONNECTED arrived. */
static int64_t eng_connect(int64_t cfg) {
    int64_t cl = 0;
    uint8_t text[ENG_TEXT];
    struct ev e;
    int32_t rc;
    LS(ls_client_connect(server_addr(), cfg, &cl));
    ls_close(cfg);
    rc = eng_next(cl, timeout_ms(), &e, text, sizeof text);
    if (rc == LS_ERR_TIMEOUT) fail("not connected within %ld s", P.timeout_s);
    if (rc == LS_ERR_BUFFER_TOO_SMALL) fail("connect: an event of %zu bytes", e.len);
    if (e.kind != LS_EVENT_CONNECTED) eng_unexpected("connect", &e, text);
    return cl;
}

/** Close a client gracefully (what is queued is delivered) and free it. */
static void eng_client_done(int64_t cl) {
    LS(ls_client_close(cl, 1000));
    ls_close(cl);
}

/** pingpong server: Fixed(size) framing, each message echoed with ls_server_send. */
static void engine_pingpong_server(void) {
    int64_t srv = eng_listen(eng_config((size_t)P.size, P.nodelay, 0));
    size_t cap = (size_t)P.size + ENG_TEXT;
    uint8_t *b = xmalloc(cap);
    struct ev e;
    long k = 0;
    for (;;) {
        int32_t rc = eng_next(srv, timeout_ms(), &e, b, cap);
        if (rc == LS_ERR_TIMEOUT) fail("no event for %ld s after %ld messages", P.timeout_s, k);
        if (rc == LS_ERR_BUFFER_TOO_SMALL) fail("an event of %zu bytes", e.len);
        if (e.kind == LS_EVENT_MESSAGE) {
            LS(ls_server_send(srv, e.client, b, e.len));
            k++;
        } else if (eng_server_event(&e, b)) {
            break;
        }
    }
    eng_server_done(srv, k);
    free(b);
}

/** pingpong client: queue one ping (ls_client_send), wait for its echo event, compare; N times. */
static void engine_pingpong_client(void) {
    size_t n = (size_t)P.size, cap = n + ENG_TEXT;
    uint8_t *out = xmalloc(n), *in = xmalloc(cap);
    int64_t cl = eng_connect(eng_config(n, P.nodelay, 0));
    struct ev e;
    double t0, secs;
    long i;
    memset(out, 0x5a, n);
    t0 = now_s();
    for (i = 0; i < P.count; i++) {
        int32_t rc;
        put_u64(out, (uint64_t)i);
        LS(ls_client_send(cl, out, n));
        rc = eng_next(cl, timeout_ms(), &e, in, cap);
        if (rc == LS_ERR_TIMEOUT) fail("round trip %ld: no echo within %ld s", i, P.timeout_s);
        if (rc == LS_ERR_BUFFER_TOO_SMALL) fail("round trip %ld: an event of %zu bytes", i, e.len);
        if (e.kind != LS_EVENT_MESSAGE) eng_unexpected("pingpong", &e, in);
        if (e.len != n || memcmp(in, out, n) != 0) fail("round trip %ld: the echo differs from what was sent", i);
    }
    secs = now_s() - t0;
    eng_client_done(cl);
    printf("{\"ok\": true, \"rt_per_s\": %.1f, \"count\": %ld, \"secs\": %.6f}\n",
           (double)P.count / secs, P.count, secs);
    free(out);
    free(in);
}

/** Echo `n` messages (bodies back to back in buf) to `client` with one ls_server_send_batch,
 * which waits for room in the client's send queue (woken by the engine, not polled). */
static void eng_echo_batch(int64_t srv, uint64_t client, const uint8_t *buf, const size_t *lens, size_t n) {
    size_t sent = 0;
    if (n == 0) return;
    LS(ls_server_send_batch(srv, client, buf, lens, n, timeout_ms(), &sent));
    if (sent != n) fail("queued %zu of %zu messages: no room in the send queue for %ld s", sent, n, P.timeout_s);
}

/** framed server: the 4-byte big-endian length prefix decoded by the engine; a batch is the first
 * message (waited for) and every message already queued behind it from the same client (up to
 * server_batch() messages, as c-libsock's server), echoed with one ls_server_send_batch. */
static void engine_framed_server(void) {
    int64_t srv = eng_listen(eng_config(0, 1, ENG_EVENTS));
    size_t most = server_batch(), cap = most * (size_t)P.size + ENG_TEXT;
    uint8_t *buf = xmalloc(cap);
    size_t *lens = xmalloc(most * sizeof *lens);
    uint64_t *who = xmalloc(most * sizeof *who);
    struct ev e;
    long k = 0;
    int done = 0;
    while (!done) {
        size_t n = 0, i, j, off, run;
        /* every message already queued, in one call (ls_next_messages); 0 when the next
         * event is not a message: take that one with ls_next_event */
        int32_t rc = ls_next_messages(srv, timeout_ms(), buf, cap, most, lens, who, &n);
        if (rc == LS_ERR_TIMEOUT) fail("no event for %ld s after %ld messages", P.timeout_s, k);
        if (rc != LS_OK) ls_fail("ls_next_messages", rc);
        if (n == 0) {
            rc = eng_next(srv, LS_TIMEOUT_POLL, &e, buf, cap);
            if (rc != LS_OK) ls_fail("ls_next_event", rc);
            done = eng_server_event(&e, buf);
            continue;
        }
        /* echo each run of one client's messages with one ls_server_send_batch */
        for (i = 0, off = 0; i < n; i = j) {
            for (j = i + 1, run = lens[i]; j < n && who[j] == who[i]; j++) run += lens[j];
            eng_echo_batch(srv, who[i], buf + off, lens + i, j - i);
            off += run;
        }
        k += (long)n;
    }
    eng_server_done(srv, k);
    free(buf);
    free(lens);
    free(who);
}

/** The framed client's writer: N messages queued in batches of --batch with
 * ls_client_send_batch (which waits for room in the bounded send queue, woken, not polled). */
static void *engine_framed_writer(void *arg) {
    int64_t cl = *(int64_t *)arg;
    size_t batch = (size_t)P.batch, size = (size_t)P.size, k, sent;
    uint8_t *buf = xmalloc(batch * size);
    size_t *lens = xmalloc(batch * sizeof *lens);
    long i = 0;
    for (k = 0; k < batch; k++) {
        lens[k] = size;
        memset(buf + k * size, 0x33, size);
    }
    while (i < P.count) {
        size_t m = (size_t)(P.count - i) < batch ? (size_t)(P.count - i) : batch;
        for (k = 0; k < m; k++) put_u64(buf + k * size, (uint64_t)(i + (long)k));
        LS(ls_client_send_batch(cl, buf, lens, m, timeout_ms(), &sent));
        if (sent != m) fail("writer: queued %zu of %zu messages: no room in the send queue for %ld s", sent, m, P.timeout_s);
        i += (long)m;
    }
    free(buf);
    free(lens);
    return NULL;
}

/** framed client: a writer thread (engine_framed_writer); the reader here pulls message events
 * and checks each length and sequence number. */
static void engine_framed_client(void) {
    int64_t cl = eng_connect(eng_config(0, 1, ENG_EVENTS));
    size_t most = 1024, cap = most * (size_t)P.size + ENG_TEXT;
    uint8_t *b = xmalloc(cap);
    size_t *lens = xmalloc(most * sizeof *lens);
    struct ev e;
    pthread_t th;
    double t0, secs;
    long got = 0;
    t0 = now_s();
    if (pthread_create(&th, NULL, engine_framed_writer, &cl) != 0) fail("pthread_create");
    while (got < P.count) {
        size_t n = 0, i, off;
        int32_t rc = ls_next_messages(cl, timeout_ms(), b, cap, most, lens, NULL, &n);
        if (rc == LS_ERR_TIMEOUT) fail("nothing for %ld s after %ld messages", P.timeout_s, got);
        if (rc != LS_OK) ls_fail("ls_next_messages", rc);
        if (n == 0) { /* not a message: show what came */
            rc = eng_next(cl, LS_TIMEOUT_POLL, &e, b, cap);
            if (rc != LS_OK) ls_fail("ls_next_event", rc);
            eng_unexpected("framed", &e, b);
        }
        for (i = 0, off = 0; i < n; off += lens[i++]) check_msg(b + off, lens[i], got++);
    }
    secs = now_s() - t0;
    pthread_join(th, NULL);
    eng_client_done(cl);
    printf("{\"ok\": true, \"msgs_per_s\": %.1f, \"count\": %ld, \"secs\": %.6f}\n",
           (double)P.count / secs, P.count, secs);
    free(b);
    free(lens);
}

/** udp-flood receiver: a datagram server (largest datagram size + 1, so a longer one shows,
 * SO_RCVBUF 4 MiB asked), datagram events pulled until END or 2 s with nothing. */
static void engine_flood_server(void) {
    int64_t cfg = 0, ds = 0;
    int32_t port = 0, wait = timeout_ms();
    size_t cap = (size_t)P.size + 1;
    uint8_t *buf = xmalloc(cap);
    struct flood f;
    struct ev e;
    int done = 0, rcvbuf = 0;
    socklen_t sl = sizeof rcvbuf;
    memset(&f, 0, sizeof f);
    LS(ls_engine_config_new(&cfg));
    LS(ls_engine_config_set(cfg, LS_ECFG_MAX_DATAGRAM, (int64_t)cap));
    LS(ls_engine_config_set(cfg, LS_ECFG_EVENT_CAPACITY, ENG_EVENTS));
    LS(ls_set_option(cfg, LS_OPT_RECV_BUFFER_SIZE, RCVBUF_WANT));
    LS(ls_dgram_server_bind("127.0.0.1:0", cfg, &ds));
    ls_close(cfg);
    LS(ls_local_port(ds, &port));
    /* The C ABI hands out no descriptor of the engine's socket: find it to read what the kernel
     * granted (as the drain receivers do). */
    if (getsockopt(find_udp_fd(port), SOL_SOCKET, SO_RCVBUF, &rcvbuf, &sl) != 0)
        fail("SO_RCVBUF: %s", strerror(errno));
    ready(port);
    while (!done) {
        int32_t rc = eng_next(ds, wait, &e, buf, cap);
        if (rc == LS_ERR_TIMEOUT && f.received > 0) break; /* 2 s with nothing */
        if (rc == LS_ERR_TIMEOUT) fail("nothing within %ld s", P.timeout_s);
        if (rc == LS_ERR_BUFFER_TOO_SMALL) fail("an event of %zu bytes", e.len);
        if (e.kind != LS_EVENT_DATAGRAM) eng_unexpected("udp-flood", &e, buf);
        done = flood_one(&f, buf, e.len, now_s());
        if (f.received > 0) wait = 2000;
    }
    ls_close(ds);
    flood_result(&f, rcvbuf);
    free(buf);
}

/** udp-echo server: a datagram server; each datagram (with its sender, ls_next_datagram) echoed
 * with ls_dgram_server_send_to, until END. */
static void engine_udp_echo_server(void) {
    int64_t ds = 0;
    int32_t port = 0, kind = 0;
    size_t cap = (size_t)P.size + 64, n = 0, pl = 0;
    uint8_t *b = xmalloc(cap);
    char peer[LS_ADDRESS_MAX];
    long echoed = 0;
    LS(ls_dgram_server_bind("127.0.0.1:0", 0, &ds));
    LS(ls_local_port(ds, &port));
    ready(port);
    for (;;) {
        int32_t rc = ls_next_datagram(ds, timeout_ms(), &kind, b, cap, &n, peer, sizeof peer, &pl);
        if (rc == LS_ERR_TIMEOUT) fail("nothing for %ld s after %ld echoes", P.timeout_s, echoed);
        if (rc == LS_ERR_BUFFER_TOO_SMALL) fail("a datagram of %zu bytes", n);
        if (rc != LS_OK) ls_fail("ls_next_datagram", rc);
        if (kind != LS_EVENT_DATAGRAM) fail("unexpected event kind %d", kind);
        if (is_end(b, n)) break;
        LS(ls_dgram_server_send_to(ds, b, n, peer));
        echoed++;
    }
    ls_close(ds);
    printf("{\"ok\": true, \"echoed\": %ld}\n", echoed);
    free(b);
}

/** udp-echo client: a datagram server on 127.0.0.1:0 connected to the server (as the other
 * clients' sockets are; as PyEngine's): ls_dgram_server_send, then the echo with
 * ls_next_datagram within 1 s (resent once; a late duplicate of an earlier round is skipped);
 * N times, then END. */
static void engine_udp_echo_client(void) {
    size_t size = (size_t)P.size, cap = size + 64, n = 0, pl = 0;
    uint8_t *out = xmalloc(size), *in = xmalloc(cap), end[8];
    int64_t ds = 0;
    int32_t kind = 0;
    char peer[LS_ADDRESS_MAX];
    long i, resent = 0;
    double t0, secs;
    memset(out, 0x5a, size);
    LS(ls_dgram_server_bind("127.0.0.1:0", 0, &ds));
    LS(ls_dgram_server_connect(ds, server_addr()));
    t0 = now_s();
    for (i = 0; i < P.count; i++) {
        int tries = 0;
        put_u64(out, (uint64_t)i);
        LS(ls_dgram_server_send(ds, out, size));
        for (;;) {
            int32_t rc = ls_next_datagram(ds, 1000, &kind, in, cap, &n, peer, sizeof peer, &pl);
            if (rc == LS_ERR_TIMEOUT) {
                if (++tries == 2) fail("round trip %ld: no reply twice (1 s each)", i);
                resent++;
                LS(ls_dgram_server_send(ds, out, size));
                continue;
            }
            if (rc == LS_ERR_BUFFER_TOO_SMALL) fail("round trip %ld: a datagram of %zu bytes", i, n);
            if (rc != LS_OK) ls_fail("ls_next_datagram", rc);
            if (kind != LS_EVENT_DATAGRAM) fail("round trip %ld: unexpected event kind %d", i, kind);
            if (n == size && get_u64(in) < (uint64_t)i) continue; /* stale (after a resend) */
            break;
        }
        if (n != size || memcmp(in, out, size) != 0) fail("round trip %ld: the echo differs", i);
    }
    secs = now_s() - t0;
    memset(end, 0xff, sizeof end);
    LS(ls_dgram_server_send(ds, end, sizeof end));
    ls_close(ds);
    printf("{\"ok\": true, \"rt_per_s\": %.1f, \"count\": %ld, \"secs\": %.6f, \"resent\": %ld}\n",
           (double)P.count / secs, P.count, secs, resent);
    free(out);
    free(in);
}

/* ------------------------------------------------------------------------------------------ */
/* main                                                                                       */
/* ------------------------------------------------------------------------------------------ */

static void usage(const char *msg) {
    printf("{\"ok\": false, \"error\": \"usage: lsbench IMPL server|client WORKLOAD [--param value ...]: %s\"}\n", msg);
    fflush(stdout);
    exit(2);
}

static long param(const char *name, const char *v) {
    char *e;
    long x;
    errno = 0;
    x = strtol(v, &e, 10);
    if (errno || *e || e == v || x < 0) {
        char m[128];
        snprintf(m, sizeof m, "--%s wants a non-negative integer", name);
        usage(m);
    }
    return x;
}

int main(int argc, char **argv) {
    int i, server, lib, raw_mmsg = 0, engine = 0;
    const char *w;
    if (argc < 4) usage("too few arguments");
    P.impl = argv[1];
    P.role = argv[2];
    P.workload = argv[3];
    P.size = -1;
    P.count = -1;
    P.nodelay = 1;
    P.bytes = 64L << 20;
    P.chunk = 65536;
    P.batch = 64;
    P.port = -1;
    P.timeout_s = 30;
    for (i = 4; i < argc; i += 2) {
        const char *k = argv[i];
        if (strncmp(k, "--", 2) != 0 || i + 1 >= argc) usage("parameters go as --name value");
        k += 2;
        if (!strcmp(k, "size")) P.size = param(k, argv[i + 1]);
        else if (!strcmp(k, "count")) P.count = param(k, argv[i + 1]);
        else if (!strcmp(k, "nodelay")) P.nodelay = param(k, argv[i + 1]);
        else if (!strcmp(k, "bytes")) P.bytes = param(k, argv[i + 1]);
        else if (!strcmp(k, "chunk")) P.chunk = param(k, argv[i + 1]);
        else if (!strcmp(k, "batch")) P.batch = param(k, argv[i + 1]);
        else if (!strcmp(k, "port")) P.port = param(k, argv[i + 1]);
        else if (!strcmp(k, "timeout")) P.timeout_s = param(k, argv[i + 1]);
        else if (!strcmp(k, "offload")) (void)param(k, argv[i + 1]); /* udp-bulk: naive here */
        else {
            char m[128];
            snprintf(m, sizeof m, "unknown parameter --%.60s", k);
            usage(m);
        }
    }
    w = P.workload;
    if (!strcmp(P.role, "server")) server = 1;
    else if (!strcmp(P.role, "client")) server = 0;
    else usage("ROLE is server or client");
    if (strcmp(w, "pingpong") && strcmp(w, "bulk") && strcmp(w, "framed") && strcmp(w, "udp-flood") &&
        strcmp(w, "udp-drain") && strcmp(w, "udp-echo") && strcmp(w, "udp-bulk"))
        skip("unknown workload");
    if (!strcmp(P.impl, "c-raw")) lib = 0;
    else if (!strcmp(P.impl, "c-libsock")) lib = 1;
    else if (!strcmp(P.impl, "c-engine")) {
        lib = 1;
        engine = 1;
        /* The same reasons as py-engine's (bench/py/worker.py SKIPS). */
        if (!strcmp(w, "bulk"))
            skip("the engine ends a connection at the peer's end of stream, so the server cannot "
                 "send the count after the client's half-close");
        if (!strcmp(w, "udp-drain"))
            skip("the engine reads its socket in its own threads from the moment it is bound, so "
                 "there is no full kernel queue left to drain at GO");
    }
    else if (!strcmp(P.impl, "c-raw-mmsg")) {
        lib = 0;
        raw_mmsg = 1;
        if (strcmp(w, "udp-flood") != 0 && strcmp(w, "udp-drain") != 0)
            skip("c-raw-mmsg is a udp-flood and udp-drain receiver only");
    } else
        skip("not a C implementation (c-raw, c-raw-mmsg, c-libsock, c-engine)");
    if (!strcmp(w, "udp-bulk") && strcmp(P.impl, "c-raw") != 0)
        skip("udp-bulk: c-raw only (the naive baseline)");
    if (P.size < 0) P.size = !strcmp(w, "framed") ? 100 : 64;
    if (P.count < 0) P.count = 10000;
    if (P.size < 8 && strcmp(w, "bulk") != 0) usage("--size must be at least 8 (a sequence number)");
    if (P.size > (1L << 20)) usage("--size must be at most 1 MiB");
    if (P.nodelay > 1) usage("--nodelay is 0 or 1");
    if (P.bytes < 8 || P.chunk < 8) usage("--bytes and --chunk must be at least 8");
    if (P.batch < 1 || P.batch > 4096) usage("--batch must be 1..4096");
    if (P.timeout_s < 1 || P.timeout_s > 3600) usage("--timeout must be 1..3600 s");
    if (!server && (P.port < 1 || P.port > 65535)) usage("the client needs --port 1..65535");

    if (engine) {
        if (!strcmp(w, "pingpong")) server ? engine_pingpong_server() : engine_pingpong_client();
        else if (!strcmp(w, "framed")) server ? engine_framed_server() : engine_framed_client();
        else if (!strcmp(w, "udp-flood")) server ? engine_flood_server() : flood_client();
        else server ? engine_udp_echo_server() : engine_udp_echo_client();
        fflush(stdout);
        ls_shutdown_engine(); /* join the engine's threads: a clean exit (and valgrind) */
        return 0;
    }
    if (!strcmp(w, "pingpong")) server ? pingpong_server(lib) : pingpong_client(lib);
    else if (!strcmp(w, "bulk")) server ? bulk_server(lib) : bulk_client(lib);
    else if (!strcmp(w, "framed")) server ? (lib ? framed_server_lib() : framed_server_raw()) : framed_client(lib);
    else if (!strcmp(w, "udp-flood")) {
        if (!server) flood_client(); /* the shared sender, whatever IMPL says */
        else if (lib) flood_server_lib();
        else flood_server_raw(raw_mmsg);
    } else if (!strcmp(w, "udp-drain")) {
        if (!server) flood_client(); /* the same shared sender */
        else if (lib) drain_server_lib();
        else drain_server_raw(raw_mmsg);
    } else if (!strcmp(w, "udp-bulk")) {
        if (server) flood_server_raw(0);
        else bulk_client_raw();
    } else server ? udp_echo_server(lib) : udp_echo_client(lib);
    fflush(stdout);
    return 0;
}
