/*
 * Tests of libsock's C ABI: every function, every kind of bad input, and scenarios S01-S21 of
 * SCENARIOS.md (S13-S17 on the engine: ls_server_*, ls_client_*, ls_next_event; S18-S21 TLS, in
 * tls_tests.h), over real sockets on loopback against plain C socket peers (threads using BSD
 * sockets directly), a Python peer (python-tests/peers/stdlib_peer.py) built by hand, and
 * openssl s_server / s_client.
 *
 * Build: gcc -std=c99 -Wall -Wextra -Werror -pedantic -Iinclude bindings/c/tests/test_c.c -lsock -lpthread
 * Run:   ./test_c            (LS_TEST_PEER=path/to/stdlib_peer.py, LS_TEST_S04_MB=64 override defaults)
 * Last line: "c: N passed, M failed".
 */
#define _POSIX_C_SOURCE 200809L

#include "libsock.h"

#include "bad_inputs.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------------------------------ */
/* Harness                                                                                    */
/* ------------------------------------------------------------------------------------------ */

static int g_check_failures;

#define CHECK(cond)                                                                          \
    do {                                                                                     \
        if (!(cond)) {                                                                       \
            fprintf(stderr, "  %s:%d: CHECK failed: %s (last error: %s)\n", __FILE__,        \
                    __LINE__, #cond, ls_last_error());                                       \
            g_check_failures++;                                                              \
        }                                                                                    \
    } while (0)

#define CHECK_RC(expr, want)                                                                 \
    do {                                                                                     \
        int32_t rc_ = (expr);                                                                \
        if (rc_ != (want)) {                                                                 \
            fprintf(stderr, "  %s:%d: %s returned %d (%s), wanted %d (%s); last error: %s\n", \
                    __FILE__, __LINE__, #expr, rc_, ls_error_name(rc_), (int)(want),         \
                    ls_error_name(want), ls_last_error());                                   \
            g_check_failures++;                                                              \
        }                                                                                    \
    } while (0)

#define OK(expr) CHECK_RC(expr, LS_OK)

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

static void sleep_ms(int ms) {
    struct timespec ts;
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (long)(ms % 1000) * 1000000L;
    nanosleep(&ts, NULL);
}

/* A deterministic byte stream (xorshift64*), 8 bytes at a time. */
static uint64_t rng_next(uint64_t *s) {
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1DULL;
}

static void rng_fill(uint64_t *s, uint8_t *buf, size_t n) {
    size_t i = 0;
    while (i < n) {
        uint64_t v = rng_next(s);
        size_t k;
        for (k = 0; k < 8 && i < n; k++, i++) buf[i] = (uint8_t)(v >> (8 * k));
    }
}

/* FNV-1a 64 over a stream. */
static void fnv(uint64_t *h, const uint8_t *p, size_t n) {
    size_t i;
    for (i = 0; i < n; i++) {
        *h ^= p[i];
        *h *= 0x100000001b3ULL;
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Plain C socket peers (BSD sockets, one connection each, on a thread)                        */
/* ------------------------------------------------------------------------------------------ */

typedef void (*peer_fn)(int fd, void *arg);

struct peer {
    int lfd;
    int port;
    char addr[64];
    pthread_t th;
    peer_fn fn;
    void *arg;
};

static void *peer_main(void *p_) {
    struct peer *p = (struct peer *)p_;
    int fd = accept(p->lfd, NULL, NULL);
    if (fd >= 0) {
        p->fn(fd, p->arg);
        close(fd);
    }
    return NULL;
}

static int peer_start(struct peer *p, peer_fn fn, void *arg) {
    struct sockaddr_in sa;
    socklen_t len = sizeof sa;
    int one = 1;
    memset(p, 0, sizeof *p);
    p->fn = fn;
    p->arg = arg;
    p->lfd = socket(AF_INET, SOCK_STREAM, 0);
    if (p->lfd < 0) return -1;
    setsockopt(p->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(p->lfd, (struct sockaddr *)&sa, sizeof sa) != 0) return -1;
    if (listen(p->lfd, 8) != 0) return -1;
    getsockname(p->lfd, (struct sockaddr *)&sa, &len);
    p->port = ntohs(sa.sin_port);
    snprintf(p->addr, sizeof p->addr, "127.0.0.1:%d", p->port);
    return pthread_create(&p->th, NULL, peer_main, p);
}

static void peer_join(struct peer *p) {
    pthread_join(p->th, NULL);
    close(p->lfd);
}

static int write_all(int fd, const void *buf, size_t n) {
    const uint8_t *b = (const uint8_t *)buf;
    while (n > 0) {
        ssize_t k = send(fd, b, n, MSG_NOSIGNAL);
        if (k < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        b += k;
        n -= (size_t)k;
    }
    return 0;
}

static int read_exact(int fd, void *buf, size_t n) {
    uint8_t *b = (uint8_t *)buf;
    while (n > 0) {
        ssize_t k = recv(fd, b, n, 0);
        if (k <= 0) {
            if (k < 0 && errno == EINTR) continue;
            return -1;
        }
        b += k;
        n -= (size_t)k;
    }
    return 0;
}

/* Echo everything until the client closes, then close. */
static void peer_echo(int fd, void *arg) {
    uint8_t buf[65536];
    (void)arg;
    for (;;) {
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        if (write_all(fd, buf, (size_t)n) != 0) break;
    }
}

/* Read until the client closes; nothing is sent. */
static void peer_silent(int fd, void *arg) {
    uint8_t buf[4096];
    (void)arg;
    while (recv(fd, buf, sizeof buf, 0) > 0) {
    }
}

/* Send the bytes of a NUL-terminated string given as arg, then close. */
struct blob {
    const uint8_t *data;
    size_t len;
};

static void peer_send_blob(int fd, void *arg) {
    struct blob *b = (struct blob *)arg;
    uint8_t tmp[256];
    write_all(fd, b->data, b->len);
    shutdown(fd, SHUT_WR);
    while (recv(fd, tmp, sizeof tmp, 0) > 0) {
    }
}

/* Connect a libsock connection to a started peer. */
static int64_t connect_to(const struct peer *p) {
    int64_t h = 0;
    OK(ls_tcp_connect(p->addr, 5000, &h));
    return h;
}

/* ------------------------------------------------------------------------------------------ */
/* Library functions                                                                          */
/* ------------------------------------------------------------------------------------------ */

static void t_version(void) {
    char want[64];
    snprintf(want, sizeof want, "%d.%d.%d", LS_VERSION_MAJOR, LS_VERSION_MINOR,
             LS_VERSION_PATCH);
    CHECK(strcmp(ls_version(), want) == 0);
    CHECK(LS_ABI_VERSION >= 0);
}

static void t_strerror_and_names(void) {
    int32_t c, d;
    CHECK(strcmp(ls_strerror(LS_OK), "success") == 0);
    CHECK(strcmp(ls_strerror(LS_ERR_TIMEOUT), "operation timed out") == 0);
    CHECK(strcmp(ls_strerror(LS_ERR_BUFFER_TOO_SMALL), "buffer too small") == 0);
    CHECK(strcmp(ls_strerror(7), "unknown error code") == 0);
    CHECK(strcmp(ls_strerror(-1000), "unknown error code") == 0);
    CHECK(strcmp(ls_strerror(INT32_MIN), "unknown error code") == 0);
    CHECK(strcmp(ls_error_name(LS_OK), "OK") == 0);
    CHECK(strcmp(ls_error_name(LS_ERR_TIMEOUT), "TIMEOUT") == 0);
    CHECK(strcmp(ls_error_name(LS_ERR_BAD_HANDLE), "BAD_HANDLE") == 0);
    CHECK(strcmp(ls_error_name(LS_ERR_INTERRUPTED), "INTERRUPTED") == 0);
    CHECK(strcmp(ls_error_name(1), "UNKNOWN") == 0);
    /* Every code has its own text. */
    for (c = LS_ERR_INTERRUPTED; c <= LS_ERR_TIMEOUT; c++) {
        CHECK(strcmp(ls_strerror(c), "unknown error code") != 0);
        for (d = c + 1; d <= LS_ERR_TIMEOUT; d++) {
            CHECK(strcmp(ls_strerror(c), ls_strerror(d)) != 0);
            CHECK(strcmp(ls_error_name(c), ls_error_name(d)) != 0);
        }
    }
}

static void t_last_error(void) {
    char buf[512], tiny[4];
    size_t len = 12345, len2 = 0;
    int64_t h = 0;
    CHECK_RC(ls_tcp_connect(NULL, 100, &h), LS_ERR_INVALID_ARGUMENT);
    CHECK(h == 0);
    CHECK(ls_last_error_code() == LS_ERR_INVALID_ARGUMENT);
    CHECK(ls_last_os_error() == 0);
    OK(ls_last_error_message(buf, sizeof buf, &len));
    CHECK(len == strlen(buf));
    /* Core's message, as in every door (docs/NAMES.md): no function name in front. */
    CHECK(strstr(buf, "ls_tcp_connect") == NULL);
    CHECK(strncmp(buf, "invalid argument: ", 18) == 0);
    CHECK(strstr(buf, "address") != NULL);
    CHECK(strcmp(buf, ls_last_error()) == 0);
    /* Too small: the needed size (with NUL), and the message is unchanged. */
    CHECK_RC(ls_last_error_message(tiny, sizeof tiny, &len2), LS_ERR_BUFFER_TOO_SMALL);
    CHECK(len2 == len + 1);
    CHECK(strcmp(buf, ls_last_error()) == 0);
    CHECK_RC(ls_last_error_message(NULL, 10, &len2), LS_ERR_INVALID_ARGUMENT);
    len2 = 0; /* NULL with capacity 0 asks for the size */
    CHECK_RC(ls_last_error_message(NULL, 0, &len2), LS_ERR_BUFFER_TOO_SMALL);
    CHECK(len2 == len + 1);
    CHECK_RC(ls_last_error_message(buf, sizeof buf, NULL), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_last_error_message(buf, (size_t)-1, &len2), LS_ERR_INVALID_ARGUMENT);
    CHECK(strcmp(buf, ls_last_error()) == 0);
    /* A success does not clear it. */
    OK(ls_close(0));
    CHECK(strcmp(buf, ls_last_error()) == 0);
}

static void *other_thread_error(void *arg) {
    char *out = (char *)arg;
    strcpy(out, ls_last_error()); /* fresh thread: empty */
    ls_close(777777777);
    strcat(out, "|");
    strcat(out, ls_error_name(ls_last_error_code()));
    return NULL;
}

static void t_last_error_is_per_thread(void) {
    pthread_t th;
    char other[256] = "";
    int64_t h = 0;
    CHECK_RC(ls_tcp_connect("no-port", 100, &h), LS_ERR_INVALID_ARGUMENT);
    pthread_create(&th, NULL, other_thread_error, other);
    pthread_join(th, NULL);
    CHECK(strcmp(other, "|BAD_HANDLE") == 0);
    CHECK(ls_last_error_code() == LS_ERR_INVALID_ARGUMENT);
}

/* ------------------------------------------------------------------------------------------ */
/* Bad input                                                                                  */
/* ------------------------------------------------------------------------------------------ */

/* Every handle-taking function with handle h must return want. */
static void all_handle_functions(int64_t h, int32_t want, int32_t want_close) {
    uint8_t b[16] = {0};
    char s[LS_ADDRESS_MAX];
    size_t n = 0, pl = 0;
    int32_t tr = 0, i32 = 0;
    int64_t i64 = 0, out = 0;
    uint64_t u64 = 0;
    const size_t one = 1;
    size_t lens2[2];
    CHECK_RC(ls_accept(h, 0, &out), want);
    CHECK_RC(ls_send(h, b, 1, &n), want);
    CHECK_RC(ls_send_all(h, b, 1), want);
    CHECK_RC(ls_recv(h, 0, b, sizeof b, &n), want);
    CHECK_RC(ls_recv_exact(h, 0, b, 1), want);
    CHECK_RC(ls_recv_until(h, 0, (const uint8_t *)"\n", 1, b, sizeof b, &n), want);
    CHECK_RC(ls_send_msg(h, b, 1), want);
    CHECK_RC(ls_send_msgs(h, b, &one, 1), want);
    CHECK_RC(ls_recv_many(h, 0, b, 8, 2, lens2, NULL, NULL, &n), want);
    CHECK_RC(ls_recv_msgs(h, 0, b, sizeof b, 2, lens2, &n), want);
    CHECK_RC(ls_recv_msg(h, 0, b, sizeof b, &n), want);
    CHECK_RC(ls_send_to(h, b, 1, "127.0.0.1:9"), want);
    CHECK_RC(ls_recv_from(h, 0, b, sizeof b, &n, s, sizeof s, &pl, &tr), want);
    CHECK_RC(ls_join_multicast(h, "239.1.2.3", NULL), want);
    CHECK_RC(ls_leave_multicast(h, "239.1.2.3", NULL), want);
    CHECK_RC(ls_send_file(h, "/dev/null", 0, -1, &u64), want);
    CHECK_RC(ls_recv_file(h, "/tmp/libsock-c-never", 1, &u64), want);
    CHECK_RC(ls_set_framing_raw(h), want);
    CHECK_RC(ls_set_framing_length(h, 4, 1, 0), want);
    CHECK_RC(ls_set_framing_length_ex(h, 4, 1, 0, 4, 0, 0, 0), want);
    CHECK_RC(ls_set_framing_delimited(h, (const uint8_t *)"\n", 1, 0, 0), want);
    CHECK_RC(ls_set_framing_fixed(h, 4), want);
    CHECK_RC(ls_set_framing_hp_pack(h, 0, 0), want);
    CHECK_RC(ls_socket_shutdown(h, LS_SHUT_WRITE), want);
    CHECK_RC(ls_bytes_available(h, &n), want);
    CHECK_RC(ls_local_address(h, s, sizeof s, &n), want);
    CHECK_RC(ls_peer_address(h, s, sizeof s, &n), want);
    CHECK_RC(ls_local_port(h, &i32), want);
    CHECK_RC(ls_set_option(h, LS_OPT_NODELAY, 1), want);
    CHECK_RC(ls_get_option(h, LS_OPT_NODELAY, &i64), want);
    CHECK_RC(ls_set_timeout(h, 100), want);
    CHECK_RC(ls_get_timeout(h, &i32), want);
    CHECK_RC(ls_options_set_local_address(h, "127.0.0.1:0"), want);
    CHECK_RC(ls_options_set_proxy(h, "socks5://127.0.0.1:1080"), want);
    CHECK_RC(ls_engine_config_set_proxy(h, "socks5://127.0.0.1:1080"), want);
    CHECK_RC(ls_send_fds(h, b, 1, NULL, 0), want);
    CHECK_RC(ls_recv_fds(h, 0, b, sizeof b, &n, NULL, 0, &pl), want);
    {
        uint64_t u1 = 0, u2 = 0;
        CHECK_RC(ls_peer_credentials(h, &i32, &u1, &u2), want);
        CHECK_RC(ls_transfer_run(h, h), want);
        CHECK_RC(ls_transfer_step(h, h, &i32), want);
        CHECK_RC(ls_transfer_progress(h, &u64, &u1, &i32), want);
        CHECK_RC(ls_transfer_cancel(h), want);
        CHECK_RC(ls_transfer_info(h, &u64, &i32, &u1, &u2), want);
        CHECK_RC(ls_transfer_name(h, s, sizeof s, &n), want);
        CHECK_RC(ls_transfer_path(h, s, sizeof s, &n), want);
        CHECK_RC(ls_transfer_sha256(h, s, sizeof s, &n), want);
    }
    if (h != 0) { /* options handle 0 means "no options" */
        CHECK_RC(ls_tcp_connect_ex("127.0.0.1:9", 100, h, &out), want);
        CHECK_RC(ls_listen_ex("127.0.0.1:0", 0, h, &out), want);
        CHECK_RC(ls_udp_bind_ex("127.0.0.1:0", h, &out), want);
        CHECK_RC(ls_udp_connect_ex("127.0.0.1:9", h, &out), want);
    }
    CHECK(out == 0);
    CHECK_RC(ls_close(h), want_close);
}

static void t_bad_handles(void) {
    int64_t h = 0;
    /* Invented, negative, beyond 2^53 ... */
    all_handle_functions(123456789, LS_ERR_BAD_HANDLE, LS_ERR_BAD_HANDLE);
    all_handle_functions(-1, LS_ERR_BAD_HANDLE, LS_ERR_BAD_HANDLE);
    all_handle_functions(INT64_MAX, LS_ERR_BAD_HANDLE, LS_ERR_BAD_HANDLE);
    all_handle_functions(INT64_MIN, LS_ERR_BAD_HANDLE, LS_ERR_BAD_HANDLE);
    /* 0 is no handle (ls_close(0) is a no-op). */
    all_handle_functions(0, LS_ERR_BAD_HANDLE, LS_OK);
    /* Closed. */
    OK(ls_udp_bind("127.0.0.1:0", &h));
    CHECK(h > 0 && h < ((int64_t)1 << 53));
    OK(ls_close(h));
    all_handle_functions(h, LS_ERR_BAD_HANDLE, LS_ERR_BAD_HANDLE);
    CHECK(strstr(ls_last_error(), "bad handle") != NULL);
}

static void t_foreign_handles(void) {
    int64_t l = 0, d = 0, o = 0, c = 0, a = 0, out = 0;
    uint8_t b[16] = {0};
    char s[LS_ADDRESS_MAX];
    size_t n = 0, pl = 0;
    int32_t tr = 0;
    OK(ls_listen("127.0.0.1:0", 0, &l));
    OK(ls_udp_bind("127.0.0.1:0", &d));
    OK(ls_options_new(&o));
    {
        int32_t port = 0;
        char addr[64];
        OK(ls_local_port(l, &port));
        snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
        OK(ls_tcp_connect(addr, 5000, &c));
        OK(ls_accept(l, 5000, &a));
    }
    /* A listener where a connection is needed, and so on. */
    CHECK_RC(ls_recv(l, 0, b, sizeof b, &n), LS_ERR_BAD_HANDLE);
    CHECK(strstr(ls_last_error(), "listener") != NULL);
    CHECK_RC(ls_send(l, b, 1, &n), LS_ERR_BAD_HANDLE);
    CHECK_RC(ls_send_msg(d, b, 1), LS_ERR_BAD_HANDLE);
    CHECK_RC(ls_recv_msg(d, 0, b, sizeof b, &n), LS_ERR_BAD_HANDLE);
    CHECK_RC(ls_accept(c, 0, &out), LS_ERR_BAD_HANDLE);
    CHECK_RC(ls_accept(d, 0, &out), LS_ERR_BAD_HANDLE);
    CHECK_RC(ls_send_to(c, b, 1, "127.0.0.1:9"), LS_ERR_BAD_HANDLE);
    CHECK_RC(ls_recv_from(c, 0, b, sizeof b, &n, s, sizeof s, &pl, &tr), LS_ERR_BAD_HANDLE);
    CHECK_RC(ls_set_framing_raw(d), LS_ERR_BAD_HANDLE);
    CHECK_RC(ls_set_framing_raw(o), LS_ERR_BAD_HANDLE);
    CHECK_RC(ls_recv(o, 0, b, sizeof b, &n), LS_ERR_BAD_HANDLE);
    CHECK(strstr(ls_last_error(), "options") != NULL);
    CHECK_RC(ls_socket_shutdown(l, LS_SHUT_BOTH), LS_ERR_BAD_HANDLE);
    CHECK_RC(ls_peer_address(l, s, sizeof s, &n), LS_ERR_BAD_HANDLE);
    CHECK_RC(ls_tcp_connect_ex("127.0.0.1:9", 100, c, &out), LS_ERR_BAD_HANDLE);
    CHECK_RC(ls_options_set_local_address(d, "127.0.0.1:0"), LS_ERR_BAD_HANDLE);
    CHECK_RC(ls_join_multicast(l, "239.1.2.3", NULL), LS_ERR_BAD_HANDLE);
    CHECK_RC(ls_send_file(d, "/dev/null", 0, -1, NULL), LS_ERR_INVALID_ARGUMENT);
    CHECK(out == 0);
    /* Nothing was harmed: the objects still work. */
    OK(ls_send_all(c, (const uint8_t *)"ok", 2));
    OK(ls_recv_exact(a, 5000, b, 2));
    CHECK(memcmp(b, "ok", 2) == 0);
    OK(ls_close(l));
    OK(ls_close(d));
    OK(ls_close(o));
    OK(ls_close(c));
    OK(ls_close(a));
}

static void t_null_pointers(void) {
    int64_t l = 0, c = 0, a = 0, d = 0, o = 0, out = 7;
    uint8_t b[16] = {0};
    char s[LS_ADDRESS_MAX];
    size_t n = 7, pl = 7;
    int32_t tr = 7, port = 0;
    char addr[64];
    uint64_t u = 7;
    OK(ls_listen("127.0.0.1:0", 0, &l));
    OK(ls_local_port(l, &port));
    snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
    OK(ls_tcp_connect(addr, 5000, &c));
    OK(ls_accept(l, 5000, &a));
    OK(ls_udp_bind("127.0.0.1:0", &d));
    OK(ls_options_new(&o));

    CHECK_RC(ls_options_new(NULL), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_options_set_local_address(o, NULL), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_tcp_connect(NULL, 100, &out), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_tcp_connect(addr, 100, NULL), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_tcp_connect_ex(addr, 100, 0, NULL), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_listen(NULL, 0, &out), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_listen("127.0.0.1:0", 0, NULL), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_listen_ex("127.0.0.1:0", 0, 0, NULL), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_accept(l, 0, NULL), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_udp_bind(NULL, &out), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_udp_bind("127.0.0.1:0", NULL), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_udp_bind_ex("127.0.0.1:0", 0, NULL), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_udp_connect(NULL, &out), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_udp_connect("127.0.0.1:9", NULL), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_udp_connect_ex("127.0.0.1:9", 0, NULL), LS_ERR_INVALID_ARGUMENT);
    CHECK(out == 7);
    CHECK_RC(ls_send(c, NULL, 1, &n), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_send(c, b, 1, NULL), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_send_all(c, NULL, 1), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_recv(a, 0, NULL, 16, &n), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_recv(a, 0, b, sizeof b, NULL), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_recv_exact(a, 0, NULL, 1), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_recv_until(a, 0, NULL, 1, b, sizeof b, &n), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_recv_until(a, 0, (const uint8_t *)"\n", 1, NULL, 16, &n), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_recv_until(a, 0, (const uint8_t *)"\n", 1, b, sizeof b, NULL), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_send_msg(c, NULL, 3), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_recv_msg(a, 0, NULL, 16, &n), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_recv_msg(a, 0, b, sizeof b, NULL), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_send_to(d, NULL, 1, addr), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_send_to(d, b, 1, NULL), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_recv_from(d, 0, NULL, 16, &n, s, sizeof s, &pl, &tr), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_recv_from(d, 0, b, sizeof b, NULL, s, sizeof s, &pl, &tr), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_recv_from(d, 0, b, sizeof b, &n, NULL, sizeof s, &pl, &tr), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_recv_from(d, 0, b, sizeof b, &n, s, sizeof s, NULL, &tr), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_recv_from(d, 0, b, sizeof b, &n, s, sizeof s, &pl, NULL), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_join_multicast(d, NULL, NULL), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_leave_multicast(d, NULL, ""), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_send_file(c, NULL, 0, -1, &u), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_send_file(c, "/dev/null", 0, -1, NULL), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_recv_file(a, NULL, 1, &u), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_recv_file(a, "/tmp/libsock-c-never", 1, NULL), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_set_framing_delimited(c, NULL, 1, 0, 0), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_bytes_available(c, NULL), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_local_address(c, NULL, 16, &n), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_local_address(c, s, sizeof s, NULL), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_peer_address(c, NULL, 16, &n), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_peer_address(c, s, sizeof s, NULL), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_local_port(c, NULL), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_get_option(c, LS_OPT_NODELAY, NULL), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_get_timeout(c, NULL), LS_ERR_INVALID_ARGUMENT);
    CHECK(n == 7 && pl == 7 && tr == 7 && u == 7);
    CHECK(strstr(ls_last_error(), "NULL") != NULL);
    /* NULL with length 0 is an empty buffer (an empty array arrives so from many languages). */
    OK(ls_send(c, NULL, 0, &n));
    CHECK(n == 0);
    OK(ls_send_all(c, NULL, 0));
    OK(ls_set_framing_length(c, 2, 1, 0));
    OK(ls_set_framing_length(a, 2, 1, 0));
    OK(ls_send_msg(c, NULL, 0)); /* an empty message: a header of 0 */
    OK(ls_recv_msg(a, 5000, NULL, 0, &n));
    CHECK(n == 0);
    OK(ls_recv_exact(a, 0, NULL, 0));
    OK(ls_set_framing_raw(c));
    OK(ls_set_framing_raw(a));
    /* The message waiting was not consumed by the failed calls. */
    OK(ls_send_all(c, (const uint8_t *)"x", 1));
    OK(ls_recv_exact(a, 5000, b, 1));
    CHECK(b[0] == 'x');
    OK(ls_close(c));
    OK(ls_close(a));
    OK(ls_close(l));
    OK(ls_close(d));
    OK(ls_close(o));
}

static void t_invalid_sizes_and_values(void) {
    int64_t l = 0, c = 0, a = 0, d = 0, out = 0;
    uint8_t b[16] = {0};
    char s[LS_ADDRESS_MAX];
    size_t n = 7, pl = 0, huge = (size_t)-1, neg = (size_t)(ptrdiff_t)-5;
    int32_t tr = 0, port = 0, t = 0;
    int64_t v = 0;
    char addr[64];
    OK(ls_listen("127.0.0.1:0", 0, &l));
    OK(ls_local_port(l, &port));
    snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
    OK(ls_tcp_connect(addr, 5000, &c));
    OK(ls_accept(l, 5000, &a));
    OK(ls_udp_bind("127.0.0.1:0", &d));

    /* Sizes that are negative numbers cast to size_t. */
    CHECK_RC(ls_send(c, b, huge, &n), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_send_all(c, b, neg), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_recv(a, 0, b, huge, &n), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_recv_exact(a, 0, b, neg), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_recv_until(a, 0, (const uint8_t *)"\n", huge, b, sizeof b, &n), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_recv_until(a, 0, (const uint8_t *)"\n", 1, b, neg, &n), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_send_msg(c, b, huge), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_recv_msg(a, 0, b, huge, &n), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_send_to(d, b, huge, addr), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_recv_from(d, 0, b, huge, &n, s, sizeof s, &pl, &tr), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_recv_from(d, 0, b, sizeof b, &n, s, huge, &pl, &tr), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_local_address(c, s, huge, &n), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_set_framing_length(c, 4, 1, huge), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_set_framing_fixed(c, huge), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_set_framing_length_ex(c, 4, 1, huge, 4, 0, 0, 0), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_set_framing_delimited(c, (const uint8_t *)"\n", huge, 0, 0), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_last_error_message(s, huge, &n), LS_ERR_INVALID_ARGUMENT);
    /* Empty buffers where one is required. */
    CHECK_RC(ls_recv(a, 0, b, 0, &n), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_recv_until(a, 0, (const uint8_t *)"\n", 0, b, sizeof b, &n), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_recv_until(a, 0, (const uint8_t *)"\n", 1, b, 0, &n), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_recv_from(d, 0, b, 0, &n, s, sizeof s, &pl, &tr), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_recv_from(d, 0, b, sizeof b, &n, s, 16, &pl, &tr), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_set_framing_delimited(c, (const uint8_t *)"\n", 0, 0, 0), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_set_framing_fixed(c, 0), LS_ERR_INVALID_ARGUMENT);
    CHECK(n == 7);
    /* Out-of-range values. */
    CHECK_RC(ls_recv(a, -3, b, sizeof b, &n), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_recv(a, INT32_MIN, b, sizeof b, &n), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_accept(l, -5, &out), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_tcp_connect(addr, -7, &out), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_set_timeout(c, -2), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_set_timeout(c, -100), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_listen("127.0.0.1:0", -1, &out), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_set_framing_length(c, 3, 1, 0), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_set_framing_length(c, 0, 1, 0), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_set_framing_length(c, 4, 2, 0), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_set_framing_length_ex(c, 4, 1, 2, 4, 0, 0, 0), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_set_framing_length_ex(c, 4, 1, 0, 100, 0, 0, 0), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_set_framing_length_ex(c, 4, 1, 0, 4, 0, 0, 5), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_set_framing_delimited(c, (const uint8_t *)"\n", 1, 0, -1), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_set_framing_hp_pack(c, 1024, 0), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_set_framing_hp_pack(c, -1, 0), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_socket_shutdown(c, 3), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_socket_shutdown(c, -1), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_set_option(c, 0, 1), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_set_option(c, 9999, 1), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_set_option(c, LS_OPT_NODELAY, 2), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_get_option(c, -4, &v), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_send_file(c, "/dev/null", 0, -2, (uint64_t *)&v), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_join_multicast(d, "not-a-group", NULL), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_join_multicast(d, "239.1.2.3", "eth-zero?"), LS_ERR_INVALID_ARGUMENT);
    CHECK(out == 0 && v == 0);
    /* Timeouts were left as they were. */
    OK(ls_get_timeout(c, &t));
    CHECK(t == -1);
    OK(ls_close(c));
    OK(ls_close(a));
    OK(ls_close(l));
    OK(ls_close(d));
}

static void t_bad_strings(void) {
    int64_t out = 0, d = 0, o = 0;
    const char bad_utf8[] = {'1', '2', '7', '.', '0', '.', '0', '.', '1', ':', '8', (char)0xff, 0};
    const char *malformed[] = {"",           "localhost", "host:",      "host:http", "host:65536",
                               "::1:80",     "[::1:80",   "[nope]:80",  ":80",       "a b:80",
                               "unix:",      "1.2.3.4:-1", "[::1]80"};
    size_t i;
    uint8_t b[4] = {0};
    CHECK_RC(ls_tcp_connect(bad_utf8, 100, &out), LS_ERR_INVALID_ARGUMENT);
    CHECK(strstr(ls_last_error(), "UTF-8") != NULL);
    CHECK_RC(ls_listen(bad_utf8, 0, &out), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_udp_bind(bad_utf8, &out), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_udp_connect(bad_utf8, &out), LS_ERR_INVALID_ARGUMENT);
    for (i = 0; i < sizeof malformed / sizeof malformed[0]; i++) {
        CHECK_RC(ls_tcp_connect(malformed[i], 100, &out), LS_ERR_INVALID_ARGUMENT);
        CHECK_RC(ls_listen(malformed[i], 0, &out), LS_ERR_INVALID_ARGUMENT);
        CHECK_RC(ls_udp_bind(malformed[i], &out), LS_ERR_INVALID_ARGUMENT);
    }
    CHECK(out == 0);
    /* The message names the bad part. */
    CHECK_RC(ls_tcp_connect("host:65536", 100, &out), LS_ERR_INVALID_ARGUMENT);
    CHECK(strstr(ls_last_error(), "65536") != NULL);
    OK(ls_udp_bind("127.0.0.1:0", &d));
    CHECK_RC(ls_send_to(d, b, 1, bad_utf8), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_send_to(d, b, 1, "nowhere"), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_join_multicast(d, bad_utf8, NULL), LS_ERR_INVALID_ARGUMENT);
    OK(ls_options_new(&o));
    CHECK_RC(ls_options_set_local_address(o, bad_utf8), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_options_set_local_address(o, "localhost:0"), LS_ERR_INVALID_ARGUMENT);
    OK(ls_close(o));
    OK(ls_close(d));
}

/* ------------------------------------------------------------------------------------------ */
/* Functions, one by one                                                                      */
/* ------------------------------------------------------------------------------------------ */

struct pair {
    int64_t l, c, a; /* listener, client, accepted */
};

static void pair_open(struct pair *p) {
    int32_t port = 0;
    char addr[64];
    memset(p, 0, sizeof *p);
    OK(ls_listen("127.0.0.1:0", 0, &p->l));
    OK(ls_local_port(p->l, &port));
    snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
    OK(ls_tcp_connect(addr, 5000, &p->c));
    OK(ls_accept(p->l, 5000, &p->a));
}

static void pair_close(struct pair *p) {
    OK(ls_close(p->c));
    OK(ls_close(p->a));
    OK(ls_close(p->l));
}

static void t_send_recv_variants(void) {
    struct pair p;
    uint8_t b[64];
    size_t n = 0;
    pair_open(&p);
    OK(ls_send(p.c, (const uint8_t *)"hello", 5, &n));
    CHECK(n == 5);
    OK(ls_send(p.c, (const uint8_t *)"", 0, &n)); /* an empty send is fine */
    CHECK(n == 0);
    OK(ls_recv_exact(p.a, 5000, b, 5));
    CHECK(memcmp(b, "hello", 5) == 0);
    OK(ls_recv_exact(p.a, 0, b, 0)); /* nothing asked, nothing waited for */
    /* recv_until keeps what follows the delimiter. */
    OK(ls_send_all(p.c, (const uint8_t *)"one\r\ntwo\r\nrest", 14));
    OK(ls_recv_until(p.a, 5000, (const uint8_t *)"\r\n", 2, b, sizeof b, &n));
    CHECK(n == 5 && memcmp(b, "one\r\n", 5) == 0);
    OK(ls_recv_until(p.a, 5000, (const uint8_t *)"\r\n", 2, b, sizeof b, &n));
    CHECK(n == 5 && memcmp(b, "two\r\n", 5) == 0);
    /* No delimiter within cap: FRAME_TOO_LARGE, and the bytes stay. */
    CHECK_RC(ls_recv_until(p.a, 200, (const uint8_t *)"\n", 1, b, 3, &n), LS_ERR_FRAME_TOO_LARGE);
    OK(ls_bytes_available(p.a, &n));
    CHECK(n == 4);
    OK(ls_recv(p.a, 5000, b, sizeof b, &n));
    CHECK(n == 4 && memcmp(b, "rest", 4) == 0);
    /* Poll with nothing there. */
    CHECK_RC(ls_recv(p.a, LS_TIMEOUT_POLL, b, sizeof b, &n), LS_ERR_TIMEOUT);
    /* recv_exact timing out keeps the partial bytes. */
    OK(ls_send_all(p.c, (const uint8_t *)"abc", 3));
    CHECK_RC(ls_recv_exact(p.a, 200, b, 6), LS_ERR_TIMEOUT);
    OK(ls_send_all(p.c, (const uint8_t *)"def", 3));
    OK(ls_recv_exact(p.a, 5000, b, 6));
    CHECK(memcmp(b, "abcdef", 6) == 0);
    /* Orderly close: recv gives 0; recv_exact gives CLOSED. */
    OK(ls_send_all(p.c, (const uint8_t *)"z", 1));
    OK(ls_socket_shutdown(p.c, LS_SHUT_WRITE));
    CHECK_RC(ls_recv_exact(p.a, 5000, b, 2), LS_ERR_CLOSED);
    OK(ls_recv(p.a, 5000, b, sizeof b, &n));
    CHECK(n == 1 && b[0] == 'z');
    OK(ls_recv(p.a, 5000, b, sizeof b, &n));
    CHECK(n == 0);
    pair_close(&p);
}

static void t_send_msgs(void) {
    struct pair p;
    int64_t l2 = 0;
    uint8_t b[64];
    size_t n = 0, i;
    const size_t lens3[3] = {3, 0, 5};
    const size_t lens_big[2] = {5, 20};
    const size_t lens_zero[1] = {0};
    const size_t lens_huge[2] = {SIZE_MAX / 2, SIZE_MAX / 2};
    const size_t lens_neg[1] = {(size_t)-1};
    static uint8_t many[1500 * 8];
    static size_t many_lens[1500];
    pair_open(&p);
    OK(ls_set_framing_length(p.c, 4, 1, 10));
    OK(ls_set_framing_length(p.a, 4, 1, 0));
    /* Three messages (one empty) back to back in one buffer. */
    OK(ls_send_msgs(p.c, (const uint8_t *)"onethree", lens3, 3));
    OK(ls_recv_msg(p.a, 5000, b, sizeof b, &n));
    CHECK(n == 3 && memcmp(b, "one", 3) == 0);
    OK(ls_recv_msg(p.a, 5000, b, sizeof b, &n));
    CHECK(n == 0);
    OK(ls_recv_msg(p.a, 5000, b, sizeof b, &n));
    CHECK(n == 5 && memcmp(b, "three", 5) == 0);
    /* count 0: nothing sent, NULL arrays allowed. */
    OK(ls_send_msgs(p.c, NULL, NULL, 0));
    CHECK_RC(ls_recv_msg(p.a, LS_TIMEOUT_POLL, b, sizeof b, &n), LS_ERR_TIMEOUT);
    /* NULL buf is fine when every message is empty. */
    OK(ls_send_msgs(p.c, NULL, lens_zero, 1));
    OK(ls_recv_msg(p.a, 5000, b, sizeof b, &n));
    CHECK(n == 0);
    /* NULL pointers and impossible sizes. */
    CHECK_RC(ls_send_msgs(p.c, b, NULL, 1), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_send_msgs(p.c, NULL, lens3, 3), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_send_msgs(p.c, b, lens_huge, 2), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_send_msgs(p.c, b, lens_neg, 1), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_send_msgs(p.c, b, lens3, (size_t)-1), LS_ERR_INVALID_ARGUMENT);
    /* One message above the framing's max_len: FRAME_TOO_LARGE and nothing is sent. */
    memset(b, 'x', sizeof b);
    CHECK_RC(ls_send_msgs(p.c, b, lens_big, 2), LS_ERR_FRAME_TOO_LARGE);
    CHECK_RC(ls_recv_msg(p.a, 200, b, sizeof b, &n), LS_ERR_TIMEOUT);
    /* More messages than one vectored write takes (IOV_MAX 1024), in order. */
    OK(ls_set_framing_length(p.c, 4, 1, 0));
    for (i = 0; i < 1500; i++) {
        uint64_t seq = i;
        memcpy(many + i * 8, &seq, 8);
        many_lens[i] = 8;
    }
    OK(ls_send_msgs(p.c, many, many_lens, 1500));
    for (i = 0; i < 1500; i++) {
        uint64_t seq = 0;
        OK(ls_recv_msg(p.a, 5000, b, sizeof b, &n));
        memcpy(&seq, b, 8);
        if (n != 8 || seq != i) {
            CHECK(n == 8 && seq == i);
            break;
        }
    }
    /* Raw framing: the bodies go out as they are, concatenated. */
    OK(ls_set_framing_raw(p.c));
    OK(ls_send_msgs(p.c, (const uint8_t *)"onethree", lens3, 3));
    OK(ls_set_framing_raw(p.a));
    OK(ls_recv_exact(p.a, 5000, b, 8));
    CHECK(memcmp(b, "onethree", 8) == 0);
    /* Wrong kind of handle, closed handle (count 0 too). */
    OK(ls_udp_bind("127.0.0.1:0", &l2));
    CHECK_RC(ls_send_msgs(l2, (const uint8_t *)"onethree", lens3, 3), LS_ERR_BAD_HANDLE);
    CHECK_RC(ls_send_msgs(p.l, NULL, NULL, 0), LS_ERR_BAD_HANDLE);
    OK(ls_close(l2));
    pair_close(&p);
    CHECK_RC(ls_send_msgs(p.c, (const uint8_t *)"onethree", lens3, 3), LS_ERR_BAD_HANDLE);
    CHECK_RC(ls_send_msgs(p.c, NULL, NULL, 0), LS_ERR_BAD_HANDLE);
}

/* Wait (bounded) until `want` bytes are readable on h, so a batch test does not depend on when
 * loopback delivers what was sent. */
static void wait_readable(int64_t h, size_t want) {
    size_t avail = 0;
    double t0 = now_ms();
    while (now_ms() - t0 < 5000) {
        OK(ls_bytes_available(h, &avail));
        if (avail >= want) return;
        poll(NULL, 0, 1);
    }
    CHECK(avail >= want);
}

static void t_recv_msgs(void) {
    struct pair p;
    int64_t d = 0;
    static uint8_t msgs[100 * 8];
    static size_t msg_lens[100];
    uint8_t buf[1024];
    size_t lens[128], n = 0, i, got = 0, calls = 0, off;
    const size_t lens3[3] = {10, 10, 30};
    const size_t lens_big[3] = {5, 20, 5};
    pair_open(&p);
    OK(ls_set_framing_length(p.c, 4, 1, 0));
    OK(ls_set_framing_length(p.a, 4, 1, 0));
    /* A batch of 100 small messages, all readable: 64 (count) in the first call, 36 next. */
    for (i = 0; i < 100; i++) {
        uint64_t seq = i;
        memcpy(msgs + i * 8, &seq, 8);
        msg_lens[i] = 8;
    }
    OK(ls_send_msgs(p.c, msgs, msg_lens, 100));
    wait_readable(p.a, 100 * 12);
    while (got < 100 && calls < 100) {
        int32_t rc = ls_recv_msgs(p.a, 5000, buf, sizeof buf, 64, lens, &n);
        CHECK_RC(rc, LS_OK);
        if (rc != LS_OK) break;
        CHECK(n >= 1 && n <= 64);
        for (i = 0, off = 0; i < n; i++) {
            uint64_t seq = 0;
            CHECK(lens[i] == 8);
            memcpy(&seq, buf + off, 8);
            CHECK(seq == got + i);
            off += lens[i];
        }
        if (calls == 0) CHECK(n == 64);
        got += n;
        calls++;
    }
    CHECK(got == 100 && calls == 2);
    /* A message larger than the rest of buf stays queued and comes with the next call. */
    memset(buf, 0, sizeof buf);
    OK(ls_send_msgs(p.c, (const uint8_t *)"aaaaaaaaaabbbbbbbbbbcccccccccccccccccccccccccccccc", lens3, 3));
    wait_readable(p.a, 50 + 12);
    OK(ls_recv_msgs(p.a, 5000, buf, 40, 8, lens, &n));
    CHECK(n == 2 && lens[0] == 10 && lens[1] == 10);
    CHECK(memcmp(buf, "aaaaaaaaaabbbbbbbbbb", 20) == 0);
    OK(ls_recv_msgs(p.a, 5000, buf, 40, 8, lens, &n));
    CHECK(n == 1 && lens[0] == 30 && buf[0] == 'c' && buf[29] == 'c');
    /* The first does not fit: BUFFER_TOO_SMALL with its size in lens[0]; it stays queued. */
    OK(ls_send_msg(p.c, (const uint8_t *)"0123456789abcdefghij", 20));
    n = 77;
    CHECK_RC(ls_recv_msgs(p.a, 5000, buf, 19, 8, lens, &n), LS_ERR_BUFFER_TOO_SMALL);
    CHECK(lens[0] == 20 && n == 0);
    lens[0] = 0;
    CHECK_RC(ls_recv_msgs(p.a, 5000, NULL, 0, 8, lens, &n), LS_ERR_BUFFER_TOO_SMALL);
    CHECK(lens[0] == 20);
    OK(ls_recv_msgs(p.a, 5000, buf, 20, 8, lens, &n));
    CHECK(n == 1 && lens[0] == 20 && memcmp(buf, "0123456789abcdefghij", 20) == 0);
    /* Nothing there: TIMEOUT (poll, and a short wait); out_count is not written. */
    n = 77;
    CHECK_RC(ls_recv_msgs(p.a, LS_TIMEOUT_POLL, buf, sizeof buf, 8, lens, &n), LS_ERR_TIMEOUT);
    CHECK_RC(ls_recv_msgs(p.a, 50, buf, sizeof buf, 8, lens, &n), LS_ERR_TIMEOUT);
    CHECK(n == 77);
    /* Bad arguments: nothing is received. */
    CHECK_RC(ls_recv_msgs(p.a, 0, buf, sizeof buf, 0, lens, &n), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_recv_msgs(p.a, 0, buf, sizeof buf, 8, NULL, &n), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_recv_msgs(p.a, 0, buf, sizeof buf, 8, lens, NULL), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_recv_msgs(p.a, 0, NULL, 16, 8, lens, &n), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_recv_msgs(p.a, 0, buf, (size_t)-1, 8, lens, &n), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_recv_msgs(p.a, 0, buf, sizeof buf, (size_t)-1, lens, &n), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_recv_msgs(p.a, -3, buf, sizeof buf, 8, lens, &n), LS_ERR_INVALID_ARGUMENT);
    CHECK(n == 77);
    /* An oversized frame after a good message: the good one is delivered, the error comes with
     * the next call, then the message after it. */
    OK(ls_set_framing_length(p.a, 4, 1, 10));
    memset(buf, 'x', 30);
    OK(ls_send_msgs(p.c, buf, lens_big, 3));
    wait_readable(p.a, 30 + 12);
    OK(ls_recv_msgs(p.a, 5000, buf, sizeof buf, 8, lens, &n));
    CHECK(n == 1 && lens[0] == 5);
    CHECK_RC(ls_recv_msgs(p.a, 5000, buf, sizeof buf, 8, lens, &n), LS_ERR_FRAME_TOO_LARGE);
    OK(ls_recv_msgs(p.a, 5000, buf, sizeof buf, 8, lens, &n));
    CHECK(n == 1 && lens[0] == 5);
    /* The same through ls_recv_msg. */
    OK(ls_send_msgs(p.c, buf, lens_big, 3));
    wait_readable(p.a, 30 + 12);
    OK(ls_recv_msgs(p.a, 5000, buf, sizeof buf, 8, lens, &n));
    CHECK(n == 1 && lens[0] == 5);
    CHECK_RC(ls_recv_msg(p.a, 5000, buf, sizeof buf, &n), LS_ERR_FRAME_TOO_LARGE);
    OK(ls_recv_msg(p.a, 5000, buf, sizeof buf, &n));
    CHECK(n == 5);
    /* End of stream after two messages: both delivered, then CLOSED. */
    OK(ls_set_framing_length(p.a, 4, 1, 0));
    OK(ls_send_msgs(p.c, (const uint8_t *)"aaaaaaaaaabbbbbbbbbb", lens3, 2));
    OK(ls_socket_shutdown(p.c, LS_SHUT_WRITE));
    got = 0;
    while (got < 2) {
        int32_t rc = ls_recv_msgs(p.a, 5000, buf, sizeof buf, 8, lens, &n);
        CHECK_RC(rc, LS_OK);
        if (rc != LS_OK) break;
        got += n;
    }
    CHECK(got == 2);
    CHECK_RC(ls_recv_msgs(p.a, 5000, buf, sizeof buf, 8, lens, &n), LS_ERR_CLOSED);
    /* Wrong kind of handle, closed handle. */
    OK(ls_udp_bind("127.0.0.1:0", &d));
    CHECK_RC(ls_recv_msgs(d, 0, buf, sizeof buf, 8, lens, &n), LS_ERR_BAD_HANDLE);
    CHECK_RC(ls_recv_msgs(p.l, 0, buf, sizeof buf, 8, lens, &n), LS_ERR_BAD_HANDLE);
    OK(ls_close(d));
    pair_close(&p);
    CHECK_RC(ls_recv_msgs(p.a, 0, buf, sizeof buf, 8, lens, &n), LS_ERR_BAD_HANDLE);
}

/* A deferred error does not outlive its handle: closing drops it (valgrind: nothing leaks). */
static void t_recv_msgs_deferred_then_close(void) {
    struct pair p;
    uint8_t buf[64];
    size_t lens[8], n = 0;
    const size_t lens_big[2] = {5, 20};
    pair_open(&p);
    OK(ls_set_framing_length(p.c, 4, 1, 0));
    OK(ls_set_framing_length(p.a, 4, 1, 10));
    memset(buf, 'y', 25);
    OK(ls_send_msgs(p.c, buf, lens_big, 2));
    wait_readable(p.a, 25 + 8);
    OK(ls_recv_msgs(p.a, 5000, buf, sizeof buf, 8, lens, &n));
    CHECK(n == 1 && lens[0] == 5);
    pair_close(&p);
}

static void t_recv_many(void) {
    int64_t a = 0, b = 0, c = 0;
    char aaddr[LS_ADDRESS_MAX];
    static char peers[8 * LS_ADDRESS_MAX];
    static uint8_t large[100];
    uint8_t buf[8 * 16];
    size_t lens[8], n = 0, got = 0, i;
    int32_t tr[8];
    OK(ls_udp_bind("127.0.0.1:0", &a));
    OK(ls_udp_bind("127.0.0.1:0", &b));
    OK(ls_local_address(a, aaddr, sizeof aaddr, &n));
    {
        char baddr[LS_ADDRESS_MAX];
        OK(ls_local_address(b, baddr, sizeof baddr, &n));
        memset(large, 'L', sizeof large);
        OK(ls_send_to(a, (const uint8_t *)"d0", 2, baddr));
        OK(ls_send_to(a, large, sizeof large, baddr)); /* larger than a slot: truncated */
        OK(ls_send_to(a, (const uint8_t *)"", 0, baddr));
        OK(ls_send_to(a, (const uint8_t *)"d3-sixteen-bytes", 16, baddr));
        OK(ls_send_to(a, (const uint8_t *)"d4", 2, baddr));
    }
    /* Receive the 5 datagrams (with every optional output), 16-byte slots. */
    memset(tr, 9, sizeof tr);
    while (got < 5) {
        size_t k;
        int32_t rc = ls_recv_many(b, 5000, buf + got * 16, 16, 8 - got, lens + got, tr + got,
                                  peers + got * LS_ADDRESS_MAX, &n);
        CHECK_RC(rc, LS_OK);
        if (rc != LS_OK || n == 0) break;
        for (k = got; k < got + n; k++) CHECK(strcmp(peers + k * LS_ADDRESS_MAX, aaddr) == 0);
        got += n;
    }
    CHECK(got == 5);
    CHECK(lens[0] == 2 && memcmp(buf, "d0", 2) == 0 && tr[0] == 0);
    CHECK(lens[1] == 16 && buf[16] == 'L' && buf[31] == 'L' && tr[1] == 1);
    CHECK(lens[2] == 0 && tr[2] == 0);
    CHECK(lens[3] == 16 && memcmp(buf + 48, "d3-sixteen-bytes", 16) == 0 && tr[3] == 0);
    CHECK(lens[4] == 2 && memcmp(buf + 64, "d4", 2) == 0 && tr[4] == 0);
    /* Nothing there: every kind of timeout ends with TIMEOUT. */
    CHECK_RC(ls_recv_many(b, LS_TIMEOUT_POLL, buf, 16, 8, lens, NULL, NULL, &n), LS_ERR_TIMEOUT);
    CHECK_RC(ls_recv_many(b, 100, buf, 16, 8, lens, NULL, NULL, &n), LS_ERR_TIMEOUT);
    OK(ls_set_timeout(b, 100));
    CHECK_RC(ls_recv_many(b, LS_TIMEOUT_DEFAULT, buf, 16, 8, lens, NULL, NULL, &n),
             LS_ERR_TIMEOUT);
    /* The handle's default timeout (one recvmmsg), lengths only. */
    {
        char baddr[LS_ADDRESS_MAX];
        OK(ls_local_address(b, baddr, sizeof baddr, &n));
        for (i = 0; i < 3; i++) OK(ls_send_to(a, (const uint8_t *)"xyz", 3, baddr));
    }
    OK(ls_set_timeout(b, 5000));
    got = 0;
    while (got < 3) {
        int32_t rc = ls_recv_many(b, LS_TIMEOUT_DEFAULT, buf, 16, 8, lens, NULL, NULL, &n);
        CHECK_RC(rc, LS_OK);
        if (rc != LS_OK) break;
        for (i = 0; i < n; i++) CHECK(lens[i] == 3 && memcmp(buf + i * 16, "xyz", 3) == 0);
        got += n;
    }
    CHECK(got == 3);
    /* No senders asked for (the kernel copies none), truncation still reported per datagram. */
    {
        char baddr[LS_ADDRESS_MAX];
        OK(ls_local_address(b, baddr, sizeof baddr, &n));
        OK(ls_send_to(a, large, sizeof large, baddr));
        OK(ls_send_to(a, (const uint8_t *)"", 0, baddr));
        OK(ls_send_to(a, (const uint8_t *)"e2", 2, baddr));
    }
    memset(tr, 9, sizeof tr);
    got = 0;
    while (got < 3) {
        int32_t rc = ls_recv_many(b, 5000, buf + got * 16, 16, 8 - got, lens + got, tr + got, NULL, &n);
        CHECK_RC(rc, LS_OK);
        if (rc != LS_OK || n == 0) break;
        got += n;
    }
    CHECK(got == 3);
    CHECK(lens[0] == 16 && buf[0] == 'L' && buf[15] == 'L' && tr[0] == 1);
    CHECK(lens[1] == 0 && tr[1] == 0);
    CHECK(lens[2] == 2 && memcmp(buf + 32, "e2", 2) == 0 && tr[2] == 0);
    /* Bad arguments: nothing is received, out_count is not written. */
    n = 77;
    CHECK_RC(ls_recv_many(b, 0, buf, 16, 0, lens, NULL, NULL, &n), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_recv_many(b, 0, buf, 0, 8, lens, NULL, NULL, &n), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_recv_many(b, 0, NULL, 16, 8, lens, NULL, NULL, &n), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_recv_many(b, 0, buf, 16, 8, NULL, NULL, NULL, &n), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_recv_many(b, 0, buf, 16, 8, lens, NULL, NULL, NULL), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_recv_many(b, 0, buf, SIZE_MAX / 4, 8, lens, NULL, NULL, &n),
             LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_recv_many(b, -3, buf, 16, 8, lens, NULL, NULL, &n), LS_ERR_INVALID_ARGUMENT);
    CHECK(n == 77);
    /* A connection is not a datagram socket; a closed handle is bad. */
    {
        struct pair p;
        pair_open(&p);
        CHECK_RC(ls_recv_many(p.a, 0, buf, 16, 8, lens, NULL, NULL, &n), LS_ERR_BAD_HANDLE);
        pair_close(&p);
    }
    OK(ls_udp_bind("127.0.0.1:0", &c));
    OK(ls_close(c));
    CHECK_RC(ls_recv_many(c, 0, buf, 16, 8, lens, NULL, NULL, &n), LS_ERR_BAD_HANDLE);
    OK(ls_close(a));
    OK(ls_close(b));
}

static void t_timeouts(void) {
    struct pair p;
    uint8_t b[8];
    size_t n = 0;
    int32_t t = 0;
    double t0;
    pair_open(&p);
    OK(ls_get_timeout(p.a, &t));
    CHECK(t == -1);
    OK(ls_set_timeout(p.a, 150));
    OK(ls_get_timeout(p.a, &t));
    CHECK(t == 150);
    t0 = now_ms();
    CHECK_RC(ls_recv(p.a, LS_TIMEOUT_DEFAULT, b, sizeof b, &n), LS_ERR_TIMEOUT);
    CHECK(now_ms() - t0 >= 140);
    CHECK(strstr(ls_last_error(), "timed out") != NULL);
    CHECK(ls_last_os_error() == ETIMEDOUT);
    OK(ls_set_timeout(p.a, LS_TIMEOUT_POLL));
    OK(ls_get_timeout(p.a, &t));
    CHECK(t == 0);
    CHECK_RC(ls_recv_msg(p.a, LS_TIMEOUT_DEFAULT, b, sizeof b, &n), LS_ERR_TIMEOUT);
    OK(ls_set_timeout(p.a, LS_TIMEOUT_FOREVER));
    /* Listener default accept timeout. */
    OK(ls_get_timeout(p.l, &t));
    CHECK(t == -1);
    OK(ls_set_timeout(p.l, 100));
    OK(ls_get_timeout(p.l, &t));
    CHECK(t == 100);
    {
        int64_t x = 0;
        t0 = now_ms();
        CHECK_RC(ls_accept(p.l, LS_TIMEOUT_DEFAULT, &x), LS_ERR_TIMEOUT);
        CHECK(now_ms() - t0 >= 90 && x == 0);
    }
    pair_close(&p);
}

static void t_addresses(void) {
    struct pair p;
    char s[LS_ADDRESS_MAX], tiny[4];
    size_t n = 0, m = 0;
    int32_t port = 0, cport = 0;
    char want[64];
    pair_open(&p);
    OK(ls_local_port(p.l, &port));
    OK(ls_local_address(p.l, s, sizeof s, &n));
    snprintf(want, sizeof want, "127.0.0.1:%d", port);
    CHECK(strcmp(s, want) == 0 && n == strlen(want));
    OK(ls_peer_address(p.c, s, sizeof s, &n));
    CHECK(strcmp(s, want) == 0);
    OK(ls_local_port(p.c, &cport));
    OK(ls_peer_address(p.a, s, sizeof s, &n));
    snprintf(want, sizeof want, "127.0.0.1:%d", cport);
    CHECK(strcmp(s, want) == 0);
    OK(ls_local_address(p.a, s, sizeof s, &n));
    /* Too small: needed size with the NUL, buffer untouched. */
    memcpy(tiny, "abc", 4);
    CHECK_RC(ls_local_address(p.a, tiny, sizeof tiny, &m), LS_ERR_BUFFER_TOO_SMALL);
    CHECK(m == n + 1 && strcmp(tiny, "abc") == 0);
    OK(ls_local_address(p.a, s, n + 1, &m));
    CHECK(m == n);
    CHECK_RC(ls_peer_address(p.a, s, 0, &m), LS_ERR_BUFFER_TOO_SMALL);
    pair_close(&p);
}

static void t_ipv6_and_unix(void) {
    int64_t l = 0, c = 0, a = 0;
    char s[LS_ADDRESS_MAX], path[128], addr[160];
    size_t n = 0;
    int32_t port = 0;
    uint8_t b[8];
    if (ls_listen("[::1]:0", 0, &l) == LS_OK) {
        OK(ls_local_port(l, &port));
        snprintf(addr, sizeof addr, "[::1]:%d", port);
        OK(ls_tcp_connect(addr, 5000, &c));
        OK(ls_accept(l, 5000, &a));
        OK(ls_local_address(l, s, sizeof s, &n));
        CHECK(strcmp(s, addr) == 0);
        OK(ls_send_all(c, (const uint8_t *)"v6", 2));
        OK(ls_recv_exact(a, 5000, b, 2));
        CHECK(memcmp(b, "v6", 2) == 0);
        OK(ls_close(c));
        OK(ls_close(a));
        OK(ls_close(l));
    } else {
        fprintf(stderr, "  (no IPv6 loopback here: IPv6 part skipped)\n");
    }
    snprintf(path, sizeof path, "/tmp/libsock-c-test-%d.sock", (int)getpid());
    snprintf(addr, sizeof addr, "unix:%s", path);
    unlink(path);
    OK(ls_listen(addr, 0, &l));
    OK(ls_tcp_connect(addr, 5000, &c));
    OK(ls_accept(l, 5000, &a));
    OK(ls_local_address(l, s, sizeof s, &n));
    CHECK(strcmp(s, addr) == 0);
    OK(ls_local_port(l, &port));
    CHECK(port == 0);
    OK(ls_set_framing_length(c, 2, 1, 0));
    OK(ls_set_framing_length(a, 2, 1, 0));
    OK(ls_send_msg(c, (const uint8_t *)"unix!", 5));
    OK(ls_recv_msg(a, 5000, b, sizeof b, &n));
    CHECK(n == 5 && memcmp(b, "unix!", 5) == 0);
    /* A second listener on the same live path is refused. */
    {
        int64_t l2 = 0;
        CHECK_RC(ls_listen(addr, 0, &l2), LS_ERR_ADDR_IN_USE);
    }
    OK(ls_close(c));
    OK(ls_close(a));
    OK(ls_close(l));
    CHECK(access(path, F_OK) != 0); /* the listener removed its socket file */
}

static void t_framings(void) {
    struct pair p;
    uint8_t b[64], msg[16];
    size_t n = 0;
    pair_open(&p);
    /* Framing set on the listener is given to accepted connections. */
    OK(ls_set_framing_length(p.l, 2, 0, 100));
    {
        int32_t port = 0;
        char addr[64];
        int64_t c2 = 0, a2 = 0;
        OK(ls_local_port(p.l, &port));
        snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
        OK(ls_tcp_connect(addr, 5000, &c2));
        OK(ls_accept(p.l, 5000, &a2));
        OK(ls_send_all(c2, (const uint8_t *)"\x03\x00" "abc", 5)); /* little endian 3 */
        OK(ls_recv_msg(a2, 5000, b, sizeof b, &n));
        CHECK(n == 3 && memcmp(b, "abc", 3) == 0);
        OK(ls_close(c2));
        OK(ls_close(a2));
    }
    /* Length, big endian, wire format checked by hand. */
    OK(ls_set_framing_length(p.c, 4, 1, 0));
    OK(ls_send_msg(p.c, (const uint8_t *)"hi", 2));
    OK(ls_send_msg(p.c, (const uint8_t *)"", 0));
    OK(ls_recv_exact(p.a, 5000, b, 10));
    CHECK(memcmp(b, "\0\0\0\2hi\0\0\0\0", 10) == 0);
    /* Too large to send. */
    OK(ls_set_framing_length(p.c, 1, 1, 0));
    memset(msg, 'q', sizeof msg);
    {
        static uint8_t big[300];
        CHECK_RC(ls_send_msg(p.c, big, sizeof big), LS_ERR_FRAME_TOO_LARGE);
    }
    /* length_ex: 6-byte header, 2-byte field at offset 2 counting the header, header kept. */
    OK(ls_set_framing_length_ex(p.c, 2, 1, 2, 6, -6, 0, 1));
    OK(ls_set_framing_length_ex(p.a, 2, 1, 2, 6, -6, 0, 1));
    OK(ls_send_msg(p.c, (const uint8_t *)"AB\0\0CDxyz", 9));
    OK(ls_recv_msg(p.a, 5000, b, sizeof b, &n));
    CHECK(n == 9 && memcmp(b, "AB\0\x09" "CDxyz", 9) == 0);
    /* Delimited, keep the delimiter. */
    OK(ls_set_framing_delimited(p.c, (const uint8_t *)"|", 1, 0, 1));
    OK(ls_set_framing_delimited(p.a, (const uint8_t *)"|", 1, 0, 1));
    OK(ls_send_msg(p.c, (const uint8_t *)"pipe", 4));
    OK(ls_recv_msg(p.a, 5000, b, sizeof b, &n));
    CHECK(n == 5 && memcmp(b, "pipe|", 5) == 0);
    /* Fixed. */
    OK(ls_set_framing_fixed(p.c, 3));
    OK(ls_set_framing_fixed(p.a, 3));
    OK(ls_send_all(p.c, (const uint8_t *)"abcdef", 6));
    OK(ls_recv_msg(p.a, 5000, b, sizeof b, &n));
    CHECK(n == 3 && memcmp(b, "abc", 3) == 0);
    OK(ls_recv_msg(p.a, 5000, b, sizeof b, &n));
    CHECK(n == 3 && memcmp(b, "def", 3) == 0);
    CHECK_RC(ls_send_msg(p.c, (const uint8_t *)"ab", 2), LS_ERR_INVALID_ARGUMENT);
    /* HP-Socket PACK: 4 bytes little endian, flag in the top 10 bits. */
    OK(ls_set_framing_hp_pack(p.c, 0x155, 0));
    OK(ls_set_framing_hp_pack(p.a, 0x155, 0));
    OK(ls_send_msg(p.c, (const uint8_t *)"pack", 4));
    OK(ls_set_framing_raw(p.a));
    OK(ls_recv_exact(p.a, 5000, b, 8));
    {
        uint32_t hdr = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
                       (uint32_t)b[3] << 24;
        CHECK((hdr & 0x3FFFFF) == 4 && (hdr >> 22) == 0x155);
        CHECK(memcmp(b + 4, "pack", 4) == 0);
    }
    OK(ls_set_framing_hp_pack(p.a, 0x155, 0));
    OK(ls_send_msg(p.c, (const uint8_t *)"again", 5));
    OK(ls_recv_msg(p.a, 5000, b, sizeof b, &n));
    CHECK(n == 5 && memcmp(b, "again", 5) == 0);
    /* Raw framing: a message is what one read returns. */
    OK(ls_set_framing_raw(p.a));
    OK(ls_set_framing_raw(p.c));
    OK(ls_send_msg(p.c, (const uint8_t *)"raw", 3));
    OK(ls_recv_exact(p.a, 5000, b, 3));
    CHECK(memcmp(b, "raw", 3) == 0);
    (void)msg;
    pair_close(&p);
}

static void t_bytes_available(void) {
    struct pair p;
    size_t n = 99;
    uint8_t b[8];
    pair_open(&p);
    OK(ls_bytes_available(p.a, &n));
    CHECK(n == 0);
    OK(ls_send_all(p.c, (const uint8_t *)"12345", 5));
    sleep_ms(50);
    OK(ls_bytes_available(p.a, &n));
    CHECK(n == 5);
    OK(ls_recv_exact(p.a, 5000, b, 2));
    OK(ls_bytes_available(p.a, &n));
    CHECK(n == 3);
    pair_close(&p);
}

static void t_files(void) {
    struct pair p;
    char src[128], dst[128];
    FILE *f;
    uint64_t sent = 0, got = 0;
    uint8_t data[10000], back[10000];
    uint64_t seed = 42;
    size_t k;
    pair_open(&p);
    snprintf(src, sizeof src, "/tmp/libsock-c-src-%d", (int)getpid());
    snprintf(dst, sizeof dst, "/tmp/libsock-c-dst-%d", (int)getpid());
    rng_fill(&seed, data, sizeof data);
    f = fopen(src, "wb");
    CHECK(f != NULL);
    if (!f) return;
    fwrite(data, 1, sizeof data, f);
    fclose(f);
    OK(ls_send_file(p.c, src, 100, 5000, &sent));
    CHECK(sent == 5000);
    OK(ls_send_file(p.c, src, 9000, -1, &sent));
    CHECK(sent == 1000);
    OK(ls_recv_file(p.a, dst, 6000, &got));
    CHECK(got == 6000);
    f = fopen(dst, "rb");
    CHECK(f != NULL);
    if (f) {
        k = fread(back, 1, sizeof back, f);
        fclose(f);
        CHECK(k == 6000);
        CHECK(memcmp(back, data + 100, 5000) == 0);
        CHECK(memcmp(back + 5000, data + 9000, 1000) == 0);
    }
    CHECK_RC(ls_send_file(p.c, src, 20000, -1, &sent), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_send_file(p.c, "/nonexistent/libsock", 0, -1, &sent), LS_ERR_IO);
    CHECK(ls_last_os_error() == ENOENT);
    CHECK(strstr(ls_last_error(), "/nonexistent/libsock") != NULL);
    unlink(src);
    unlink(dst);
    pair_close(&p);
}

static void t_options_objects(void) {
    int64_t o = 0, l = 0, c = 0, a = 0, d = 0, v = 0;
    int32_t port = 0;
    char addr[64], s[LS_ADDRESS_MAX];
    size_t n = 0;
    OK(ls_options_new(&o));
    CHECK(o > 0);
    OK(ls_set_option(o, LS_OPT_REUSE_ADDRESS, 1));
    OK(ls_set_option(o, LS_OPT_RECV_BUFFER_SIZE, 100000));
    OK(ls_get_option(o, LS_OPT_RECV_BUFFER_SIZE, &v));
    CHECK(v == 100000);
    CHECK_RC(ls_get_option(o, LS_OPT_TTL, &v), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_set_option(o, LS_OPT_NODELAY, 5), LS_ERR_INVALID_ARGUMENT);
    OK(ls_listen_ex("127.0.0.1:0", 16, o, &l));
    OK(ls_get_option(l, LS_OPT_RECV_BUFFER_SIZE, &v));
    CHECK(v >= 100000);
    OK(ls_local_port(l, &port));
    snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
    OK(ls_options_set_local_address(o, "127.0.0.1:0"));
    OK(ls_set_option(o, LS_OPT_NODELAY, 1));
    OK(ls_tcp_connect_ex(addr, 5000, o, &c));
    OK(ls_accept(l, 5000, &a));
    OK(ls_get_option(c, LS_OPT_NODELAY, &v));
    CHECK(v == 1);
    OK(ls_local_address(c, s, sizeof s, &n));
    CHECK(strncmp(s, "127.0.0.1:", 10) == 0);
    OK(ls_close(c));
    OK(ls_close(a));
    /* UDP with options. */
    {
        int64_t o2 = 0, d2 = 0, e = 0;
        int32_t dport = 0;
        OK(ls_options_new(&o2));
        OK(ls_set_option(o2, LS_OPT_BROADCAST, 1));
        OK(ls_udp_bind_ex("127.0.0.1:0", o2, &d));
        OK(ls_get_option(d, LS_OPT_BROADCAST, &v));
        CHECK(v == 1);
        OK(ls_local_port(d, &dport));
        snprintf(addr, sizeof addr, "127.0.0.1:%d", dport);
        OK(ls_udp_connect_ex(addr, o2, &d2));
        OK(ls_udp_connect(addr, &e));
        OK(ls_close(e));
        OK(ls_close(d2));
        OK(ls_close(o2));
    }
    OK(ls_close(d));
    OK(ls_close(l));
    OK(ls_close(o));
    /* ls_*_ex with options handle 0 = defaults. */
    OK(ls_listen_ex("127.0.0.1:0", 0, 0, &l));
    OK(ls_close(l));
}

static void t_udp_connected(void) {
    int64_t a = 0, b = 0;
    int32_t port = 0;
    char addr[64], s[LS_ADDRESS_MAX];
    uint8_t buf[32];
    size_t n = 0, pl = 0;
    int32_t tr = 0;
    OK(ls_udp_bind("127.0.0.1:0", &a));
    OK(ls_local_port(a, &port));
    snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
    OK(ls_udp_connect(addr, &b));
    OK(ls_peer_address(b, s, sizeof s, &n));
    CHECK(strcmp(s, addr) == 0);
    CHECK_RC(ls_peer_address(a, s, sizeof s, &n), LS_ERR_IO); /* not connected: ENOTCONN */
    OK(ls_send(b, (const uint8_t *)"dgram", 5, &n));
    CHECK(n == 5);
    OK(ls_bytes_available(a, &n));
    OK(ls_recv_from(a, 5000, buf, sizeof buf, &n, s, sizeof s, &pl, &tr));
    CHECK(n == 5 && memcmp(buf, "dgram", 5) == 0 && tr == 0);
    OK(ls_send_to(a, (const uint8_t *)"back", 4, s));
    OK(ls_recv(b, 5000, buf, sizeof buf, &n));
    CHECK(n == 4 && memcmp(buf, "back", 4) == 0);
    CHECK_RC(ls_recv(b, 100, buf, sizeof buf, &n), LS_ERR_TIMEOUT);
    OK(ls_close(a));
    OK(ls_close(b));
}

static void t_unix_datagrams_and_abstract(void) {
    int64_t a = 0, b = 0, l = 0, c = 0, x = 0;
    char pa[128], pb[128], aa[160], ab[160], peer[LS_ADDRESS_MAX], abs_addr[64];
    uint8_t buf[16];
    size_t n = 0, pl = 0;
    int32_t tr = 0;
    snprintf(pa, sizeof pa, "/tmp/libsock-c-dg-a-%d.sock", (int)getpid());
    snprintf(pb, sizeof pb, "/tmp/libsock-c-dg-b-%d.sock", (int)getpid());
    unlink(pa);
    unlink(pb);
    snprintf(aa, sizeof aa, "unix:%s", pa);
    snprintf(ab, sizeof ab, "unix:%s", pb);
    OK(ls_udp_bind(aa, &a));
    OK(ls_udp_bind(ab, &b));
    OK(ls_send_to(a, (const uint8_t *)"unixdg", 6, ab));
    OK(ls_recv_from(b, 5000, buf, sizeof buf, &n, peer, sizeof peer, &pl, &tr));
    CHECK(n == 6 && memcmp(buf, "unixdg", 6) == 0 && tr == 0);
    CHECK(strcmp(peer, aa) == 0);
    OK(ls_close(a));
    OK(ls_close(b));
    CHECK(access(pa, F_OK) != 0 && access(pb, F_OK) != 0);
    /* Linux abstract names. */
    snprintf(abs_addr, sizeof abs_addr, "unix:@libsock-c-test-%d", (int)getpid());
    OK(ls_listen(abs_addr, 0, &l));
    OK(ls_local_address(l, peer, sizeof peer, &n));
    CHECK(strcmp(peer, abs_addr) == 0);
    OK(ls_tcp_connect(abs_addr, 5000, &c));
    OK(ls_accept(l, 5000, &x));
    OK(ls_send_all(c, (const uint8_t *)"abs", 3));
    OK(ls_recv_exact(x, 5000, buf, 3));
    CHECK(memcmp(buf, "abs", 3) == 0);
    OK(ls_close(c));
    OK(ls_close(x));
    OK(ls_close(l));
}

static void t_multicast(void) {
    int64_t d = 0, o = 0;
    int32_t rc;
    OK(ls_options_new(&o));
    OK(ls_set_option(o, LS_OPT_REUSE_ADDRESS, 1));
    OK(ls_udp_bind_ex("0.0.0.0:0", o, &d));
    OK(ls_set_option(d, LS_OPT_MULTICAST_LOOP, 1));
    OK(ls_set_option(d, LS_OPT_MULTICAST_TTL, 1));
    rc = ls_join_multicast(d, "239.255.77.77", "127.0.0.1");
    if (rc == LS_OK) {
        OK(ls_leave_multicast(d, "239.255.77.77", "127.0.0.1"));
        OK(ls_join_multicast(d, "239.255.77.78", ""));
        OK(ls_leave_multicast(d, "239.255.77.78", NULL));
    } else {
        /* A sandbox without multicast routes: the error is clear, not a crash. */
        fprintf(stderr, "  (multicast join: %s)\n", ls_last_error());
        CHECK(rc == LS_ERR_ADDR_NOT_AVAILABLE || rc == LS_ERR_UNREACHABLE || rc == LS_ERR_IO ||
              rc == LS_ERR_UNSUPPORTED);
    }
    /* An IPv6 group with an IPv4 interface address. */
    CHECK_RC(ls_join_multicast(d, "ff02::1234", "127.0.0.1"), LS_ERR_INVALID_ARGUMENT);
    OK(ls_close(d));
    OK(ls_close(o));
}

/* Connection + datagram handles used from several threads at once. */
struct hammer {
    int64_t h;
    int rounds;
    int errors;
};

static void *hammer_options(void *arg) {
    struct hammer *hm = (struct hammer *)arg;
    int i;
    int64_t v = 0;
    char s[LS_ADDRESS_MAX];
    size_t n = 0;
    for (i = 0; i < hm->rounds; i++) {
        if (ls_get_option(hm->h, LS_OPT_NODELAY, &v) != LS_OK) hm->errors++;
        if (ls_local_address(hm->h, s, sizeof s, &n) != LS_OK) hm->errors++;
        if (ls_close(123456789) != LS_ERR_BAD_HANDLE) hm->errors++;
    }
    return NULL;
}

static void t_threads_share_handles(void) {
    struct pair p;
    pthread_t th[4];
    struct hammer hm[4];
    int i;
    pair_open(&p);
    for (i = 0; i < 4; i++) {
        hm[i].h = p.c;
        hm[i].rounds = 2000;
        hm[i].errors = 0;
        pthread_create(&th[i], NULL, hammer_options, &hm[i]);
    }
    for (i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        CHECK(hm[i].errors == 0);
    }
    pair_close(&p);
}

static void t_handles_never_reused(void) {
    int64_t a = 0, b = 0;
    OK(ls_options_new(&a));
    OK(ls_close(a));
    OK(ls_options_new(&b));
    CHECK(b > a);
    CHECK_RC(ls_close(a), LS_ERR_BAD_HANDLE);
    OK(ls_close(b));
}

/* ------------------------------------------------------------------------------------------ */
/* Scenarios (SCENARIOS.md)                                                                   */
/* ------------------------------------------------------------------------------------------ */

static void s01_connect_send_echo_close(void) {
    struct peer pr;
    uint8_t out[1024], in[1024];
    uint64_t seed = 1;
    int64_t h;
    CHECK(peer_start(&pr, peer_echo, NULL) == 0);
    h = connect_to(&pr);
    rng_fill(&seed, out, sizeof out);
    OK(ls_send_all(h, out, sizeof out));
    OK(ls_recv_exact(h, 5000, in, sizeof in));
    CHECK(memcmp(in, out, sizeof out) == 0);
    OK(ls_close(h));
    /* Closing twice is harmless: a clear error, nothing else. */
    CHECK_RC(ls_close(h), LS_ERR_BAD_HANDLE);
    peer_join(&pr);
}

static void s02_connection_refused(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa;
    socklen_t len = sizeof sa;
    char addr[64];
    int64_t h = 0;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, (struct sockaddr *)&sa, sizeof sa); /* bound, never listening: refuses */
    getsockname(fd, (struct sockaddr *)&sa, &len);
    snprintf(addr, sizeof addr, "127.0.0.1:%d", ntohs(sa.sin_port));
    CHECK_RC(ls_tcp_connect(addr, 5000, &h), LS_ERR_CONNECTION_REFUSED);
    CHECK(h == 0);
    CHECK(strstr(ls_last_error(), addr) != NULL);
    CHECK(ls_last_os_error() == ECONNREFUSED);
    close(fd);
}

static void peer_wait_ping(int fd, void *arg) {
    uint8_t b[4];
    (void)arg;
    if (read_exact(fd, b, 4) == 0) write_all(fd, "pong", 4);
    peer_silent(fd, NULL);
}

static void s03_recv_timeout(void) {
    struct peer pr;
    int64_t h;
    uint8_t b[8];
    size_t n = 0;
    double t0, dt;
    CHECK(peer_start(&pr, peer_wait_ping, NULL) == 0);
    h = connect_to(&pr);
    t0 = now_ms();
    CHECK_RC(ls_recv(h, 200, b, sizeof b, &n), LS_ERR_TIMEOUT);
    dt = now_ms() - t0;
    CHECK(dt >= 195 && dt <= 2000);
    /* Still works afterwards. */
    OK(ls_send_all(h, (const uint8_t *)"ping", 4));
    OK(ls_recv_exact(h, 5000, b, 4));
    CHECK(memcmp(b, "pong", 4) == 0);
    OK(ls_close(h));
    peer_join(&pr);
}

struct bulk {
    int64_t h;
    size_t total;
    uint64_t hash;
    int32_t rc;
};

static void *bulk_sender(void *arg) {
    struct bulk *bk = (struct bulk *)arg;
    static uint8_t chunk[1 << 16];
    uint64_t seed = 0x5eed;
    size_t left = bk->total;
    bk->hash = 0xcbf29ce484222325ULL;
    bk->rc = LS_OK;
    while (left > 0 && bk->rc == LS_OK) {
        size_t k = left < sizeof chunk ? left : sizeof chunk;
        rng_fill(&seed, chunk, k);
        fnv(&bk->hash, chunk, k);
        bk->rc = ls_send_all(bk->h, chunk, k);
        left -= k;
    }
    return NULL;
}

static void s04_large_payload_each_way(void) {
    struct peer pr;
    struct bulk bk;
    pthread_t th;
    static uint8_t buf[1 << 16];
    size_t mb = 64, got = 0, n = 0;
    uint64_t hash = 0xcbf29ce484222325ULL;
    const char *env = getenv("LS_TEST_S04_MB");
    if (env) mb = (size_t)atoi(env);
    CHECK(peer_start(&pr, peer_echo, NULL) == 0);
    bk.h = connect_to(&pr);
    bk.total = mb << 20;
    /* One thread sends while this one receives the echo: the same handle from two threads. */
    pthread_create(&th, NULL, bulk_sender, &bk);
    while (got < bk.total) {
        int32_t rc = ls_recv(bk.h, 30000, buf, sizeof buf, &n);
        CHECK_RC(rc, LS_OK);
        if (rc != LS_OK || n == 0) break;
        fnv(&hash, buf, n);
        got += n;
    }
    pthread_join(th, NULL);
    CHECK_RC(bk.rc, LS_OK);
    CHECK(got == bk.total);
    CHECK(hash == bk.hash);
    OK(ls_close(bk.h));
    peer_join(&pr);
}

static void s05_length_prefixed_with_python_peer(void) {
    int64_t l = 0, c = 0;
    int32_t port = 0;
    char cmd[512];
    const char *peer = getenv("LS_TEST_PEER");
    FILE *proc;
    static uint8_t out[65536 + 1], in[65536 + 1];
    uint64_t seed = 5;
    int i, status;
    size_t n = 0;
    char line[64] = "";
    if (!peer) peer = "python-tests/peers/stdlib_peer.py";
    OK(ls_listen("127.0.0.1:0", 0, &l));
    OK(ls_set_framing_length(l, 4, 1, 65536));
    OK(ls_local_port(l, &port));
    snprintf(cmd, sizeof cmd, "python3 %s lenecho %d", peer, (int)port);
    proc = popen(cmd, "r");
    CHECK(proc != NULL);
    if (!proc) return;
    OK(ls_accept(l, 20000, &c));
    for (i = 0; i < 1000; i++) {
        size_t len = (size_t)(rng_next(&seed) % 65537);
        rng_fill(&seed, out, len);
        if (ls_send_msg(c, out, len) != LS_OK) {
            CHECK(0);
            break;
        }
        if (ls_recv_msg(c, 20000, in, sizeof in, &n) != LS_OK || n != len ||
            memcmp(in, out, len) != 0) {
            fprintf(stderr, "  message %d (%zu bytes) did not come back intact: %s\n", i, len,
                    ls_last_error());
            CHECK(0);
            break;
        }
    }
    OK(ls_close(c));
    if (fgets(line, sizeof line, proc) == NULL) line[0] = 0;
    status = pclose(proc);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK(atoi(line) == 1000);
    OK(ls_close(l));
}

static void s06_lines_and_long_line(void) {
    static uint8_t wire[8192];
    struct blob bl;
    struct peer pr;
    size_t len = 0, n = 0;
    uint8_t b[128];
    int64_t h;
    memcpy(wire, "alpha\r\nbeta\r\n", 13);
    len = 13;
    memset(wire + len, 'x', 5000);
    len += 5000;
    memcpy(wire + len, "\r\ngamma\r\n", 9);
    len += 9;
    bl.data = wire;
    bl.len = len;
    CHECK(peer_start(&pr, peer_send_blob, &bl) == 0);
    h = connect_to(&pr);
    OK(ls_set_framing_delimited(h, (const uint8_t *)"\r\n", 2, 100, 0));
    OK(ls_recv_msg(h, 5000, b, sizeof b, &n));
    CHECK(n == 5 && memcmp(b, "alpha", 5) == 0);
    OK(ls_recv_msg(h, 5000, b, sizeof b, &n));
    CHECK(n == 4 && memcmp(b, "beta", 4) == 0);
    CHECK_RC(ls_recv_msg(h, 5000, b, sizeof b, &n), LS_ERR_FRAME_TOO_LARGE);
    CHECK(strstr(ls_last_error(), "100") != NULL);
    OK(ls_recv_msg(h, 5000, b, sizeof b, &n));
    CHECK(n == 5 && memcmp(b, "gamma", 5) == 0);
    CHECK_RC(ls_recv_msg(h, 5000, b, sizeof b, &n), LS_ERR_CLOSED);
    OK(ls_close(h));
    peer_join(&pr);
}

static void peer_count_then_reply(int fd, void *arg) {
    uint8_t b[4096];
    size_t total = 0;
    char reply[64];
    ssize_t k;
    (void)arg;
    while ((k = recv(fd, b, sizeof b, 0)) > 0) total += (size_t)k;
    snprintf(reply, sizeof reply, "got %zu bytes", total);
    write_all(fd, reply, strlen(reply));
}

static void s07_half_close(void) {
    struct peer pr;
    int64_t h;
    static uint8_t data[100000];
    uint8_t b[128];
    size_t n = 0, got = 0;
    CHECK(peer_start(&pr, peer_count_then_reply, NULL) == 0);
    h = connect_to(&pr);
    OK(ls_send_all(h, data, sizeof data));
    OK(ls_socket_shutdown(h, LS_SHUT_WRITE));
    for (;;) {
        int32_t rc = ls_recv(h, 5000, b + got, sizeof b - 1 - got, &n);
        CHECK_RC(rc, LS_OK);
        if (rc != LS_OK || n == 0) break;
        got += n;
    }
    b[got] = 0;
    CHECK(strcmp((char *)b, "got 100000 bytes") == 0);
    CHECK_RC(ls_send_all(h, data, 1), LS_ERR_IO); /* EPIPE after our shutdown */
    OK(ls_close(h));
    peer_join(&pr);
}

static void s08_misuse(void) {
    struct peer pr;
    int64_t h;
    uint8_t b[8];
    size_t n = 0;
    CHECK(peer_start(&pr, peer_silent, NULL) == 0);
    h = connect_to(&pr);
    OK(ls_close(h));
    /* Use after close. */
    CHECK_RC(ls_send_all(h, (const uint8_t *)"x", 1), LS_ERR_BAD_HANDLE);
    CHECK_RC(ls_recv(h, 0, b, sizeof b, &n), LS_ERR_BAD_HANDLE);
    CHECK(strstr(ls_last_error(), "bad handle") != NULL);
    /* An invented handle. */
    CHECK_RC(ls_send_all(987654321, (const uint8_t *)"x", 1), LS_ERR_BAD_HANDLE);
    /* Null and empty buffers where one is required. */
    peer_join(&pr);
    CHECK(peer_start(&pr, peer_silent, NULL) == 0);
    h = connect_to(&pr);
    CHECK_RC(ls_send_all(h, NULL, 5), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_recv(h, 0, NULL, 8, &n), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_recv(h, 0, b, 0, &n), LS_ERR_INVALID_ARGUMENT);
    CHECK(strstr(ls_last_error(), "buf") != NULL);
    /* Process alive, handle fine. */
    OK(ls_send_all(h, (const uint8_t *)"still", 5));
    OK(ls_close(h));
    peer_join(&pr);
}

static void s09_buffer_too_small(void) {
    static uint8_t wire[4 + 1000];
    struct blob bl;
    struct peer pr;
    uint8_t small[10], big[1000];
    size_t n = 0;
    int64_t h;
    int i;
    wire[0] = 0;
    wire[1] = 0;
    wire[2] = 1000 >> 8;
    wire[3] = 1000 & 0xff;
    for (i = 0; i < 1000; i++) wire[4 + i] = (uint8_t)(i * 7);
    bl.data = wire;
    bl.len = sizeof wire;
    CHECK(peer_start(&pr, peer_send_blob, &bl) == 0);
    h = connect_to(&pr);
    OK(ls_set_framing_length(h, 4, 1, 0));
    CHECK_RC(ls_recv_msg(h, 5000, small, sizeof small, &n), LS_ERR_BUFFER_TOO_SMALL);
    CHECK(n == 1000);
    CHECK(strstr(ls_last_error(), "1000") != NULL);
    n = 0;
    CHECK_RC(ls_recv_msg(h, 5000, small, 0, &n), LS_ERR_BUFFER_TOO_SMALL); /* ask the size */
    CHECK(n == 1000);
    OK(ls_bytes_available(h, &n));
    CHECK(n == 1000);
    OK(ls_recv_msg(h, 5000, big, sizeof big, &n));
    CHECK(n == 1000 && memcmp(big, wire + 4, 1000) == 0);
    CHECK_RC(ls_recv_msg(h, 5000, big, sizeof big, &n), LS_ERR_CLOSED);
    OK(ls_close(h));
    peer_join(&pr);
}

static void s10_udp(void) {
    int64_t a = 0, b = 0;
    char aaddr[LS_ADDRESS_MAX], baddr[LS_ADDRESS_MAX], peer[LS_ADDRESS_MAX];
    size_t n = 0, pl = 0;
    int32_t tr = 9;
    uint8_t buf[100];
    static uint8_t large[2000];
    OK(ls_udp_bind("127.0.0.1:0", &a));
    OK(ls_udp_bind("127.0.0.1:0", &b));
    OK(ls_local_address(a, aaddr, sizeof aaddr, &n));
    OK(ls_local_address(b, baddr, sizeof baddr, &n));
    OK(ls_send_to(a, (const uint8_t *)"hello", 5, baddr));
    OK(ls_recv_from(b, 5000, buf, sizeof buf, &n, peer, sizeof peer, &pl, &tr));
    CHECK(n == 5 && memcmp(buf, "hello", 5) == 0);
    CHECK(strcmp(peer, aaddr) == 0 && pl == strlen(aaddr));
    CHECK(tr == 0);
    memset(large, 'L', sizeof large);
    OK(ls_send_to(a, large, sizeof large, baddr));
    OK(ls_bytes_available(b, &n));
    CHECK(n == sizeof large);
    OK(ls_recv_from(b, 5000, buf, sizeof buf, &n, peer, sizeof peer, &pl, &tr));
    CHECK(n == sizeof buf && tr == 1);
    CHECK(buf[0] == 'L' && buf[99] == 'L');
    /* An empty datagram. */
    OK(ls_send_to(a, (const uint8_t *)"", 0, baddr));
    OK(ls_recv_from(b, 5000, buf, sizeof buf, &n, peer, sizeof peer, &pl, &tr));
    CHECK(n == 0 && tr == 0);
    CHECK_RC(ls_recv_from(b, 100, buf, sizeof buf, &n, peer, sizeof peer, &pl, &tr),
             LS_ERR_TIMEOUT);
    OK(ls_close(a));
    OK(ls_close(b));
}

static void s11_listener_port0_accept_timeout(void) {
    int64_t l = 0, c = 0;
    int32_t port = 0;
    char s[LS_ADDRESS_MAX], want[64];
    size_t n = 0;
    double t0, dt;
    OK(ls_listen("127.0.0.1:0", 0, &l));
    OK(ls_local_port(l, &port));
    CHECK(port > 0 && port < 65536);
    OK(ls_local_address(l, s, sizeof s, &n));
    snprintf(want, sizeof want, "127.0.0.1:%d", port);
    CHECK(strcmp(s, want) == 0);
    t0 = now_ms();
    CHECK_RC(ls_accept(l, 200, &c), LS_ERR_TIMEOUT);
    dt = now_ms() - t0;
    CHECK(dt >= 195 && dt <= 2000);
    CHECK(c == 0);
    OK(ls_close(l));
}

static void s12_options_read_back(void) {
    struct peer pr;
    int64_t h, v = 0;
    CHECK(peer_start(&pr, peer_silent, NULL) == 0);
    h = connect_to(&pr);
    OK(ls_set_option(h, LS_OPT_NODELAY, 1));
    OK(ls_get_option(h, LS_OPT_NODELAY, &v));
    CHECK(v == 1);
    OK(ls_set_option(h, LS_OPT_NODELAY, 0));
    OK(ls_get_option(h, LS_OPT_NODELAY, &v));
    CHECK(v == 0);
    OK(ls_set_option(h, LS_OPT_KEEPALIVE, 1));
    OK(ls_get_option(h, LS_OPT_KEEPALIVE, &v));
    CHECK(v == 1);
    OK(ls_set_option(h, LS_OPT_KEEPALIVE_IDLE, 30));
    OK(ls_get_option(h, LS_OPT_KEEPALIVE_IDLE, &v));
    CHECK(v == 30);
    OK(ls_set_option(h, LS_OPT_KEEPALIVE_INTERVAL, 5));
    OK(ls_get_option(h, LS_OPT_KEEPALIVE_INTERVAL, &v));
    CHECK(v == 5);
    OK(ls_set_option(h, LS_OPT_KEEPALIVE_COUNT, 4));
    OK(ls_get_option(h, LS_OPT_KEEPALIVE_COUNT, &v));
    CHECK(v == 4);
    OK(ls_set_option(h, LS_OPT_RECV_BUFFER_SIZE, 65536));
    OK(ls_get_option(h, LS_OPT_RECV_BUFFER_SIZE, &v));
    CHECK(v >= 65536); /* Linux doubles */
    OK(ls_set_option(h, LS_OPT_SEND_BUFFER_SIZE, 65536));
    OK(ls_get_option(h, LS_OPT_SEND_BUFFER_SIZE, &v));
    CHECK(v >= 65536);
    OK(ls_set_option(h, LS_OPT_LINGER, 3));
    OK(ls_get_option(h, LS_OPT_LINGER, &v));
    CHECK(v == 3);
    OK(ls_set_option(h, LS_OPT_TTL, 33));
    OK(ls_get_option(h, LS_OPT_TTL, &v));
    CHECK(v == 33);
    /* An option that does not apply to this kind of socket. */
    CHECK_RC(ls_set_option(h, LS_OPT_V6_ONLY, 1), LS_ERR_UNSUPPORTED);
    OK(ls_close(h));
    peer_join(&pr);
}

struct blocked {
    int64_t h;
    int32_t rc;
    double returned_at;
};

static void *blocked_recv(void *arg) {
    struct blocked *b = (struct blocked *)arg;
    uint8_t buf[16];
    size_t n = 0;
    b->rc = ls_recv(b->h, LS_TIMEOUT_FOREVER, buf, sizeof buf, &n);
    b->returned_at = now_ms();
    return NULL;
}

static void *blocked_accept(void *arg) {
    struct blocked *b = (struct blocked *)arg;
    int64_t c = 0;
    b->rc = ls_accept(b->h, LS_TIMEOUT_FOREVER, &c);
    b->returned_at = now_ms();
    return NULL;
}

static void *blocked_recv_from(void *arg) {
    struct blocked *b = (struct blocked *)arg;
    uint8_t buf[16];
    char peer[LS_ADDRESS_MAX];
    size_t n = 0, pl = 0;
    int32_t tr = 0;
    b->rc = ls_recv_from(b->h, LS_TIMEOUT_FOREVER, buf, sizeof buf, &n, peer, sizeof peer, &pl,
                         &tr);
    b->returned_at = now_ms();
    return NULL;
}

static void s17_close_from_another_thread(void) {
    struct peer pr;
    struct blocked b;
    pthread_t th;
    double t0;
    CHECK(peer_start(&pr, peer_silent, NULL) == 0);
    b.h = connect_to(&pr);
    b.rc = 1;
    pthread_create(&th, NULL, blocked_recv, &b);
    sleep_ms(150);
    t0 = now_ms();
    OK(ls_close(b.h));
    pthread_join(th, NULL);
    CHECK_RC(b.rc, LS_ERR_CLOSED);
    CHECK(b.returned_at - t0 < 1000);
    peer_join(&pr);
    /* The same for a listener blocked in accept. */
    OK(ls_listen("127.0.0.1:0", 0, &b.h));
    b.rc = 1;
    pthread_create(&th, NULL, blocked_accept, &b);
    sleep_ms(150);
    t0 = now_ms();
    OK(ls_close(b.h));
    pthread_join(th, NULL);
    CHECK_RC(b.rc, LS_ERR_CLOSED);
    CHECK(b.returned_at - t0 < 1000);
    /* And a datagram socket blocked in recv_from. */
    OK(ls_udp_bind("127.0.0.1:0", &b.h));
    b.rc = 1;
    pthread_create(&th, NULL, blocked_recv_from, &b);
    sleep_ms(150);
    t0 = now_ms();
    OK(ls_close(b.h));
    pthread_join(th, NULL);
    CHECK_RC(b.rc, LS_ERR_CLOSED);
    CHECK(b.returned_at - t0 < 1000);
}

/* ------------------------------------------------------------------------------------------ */
/* The engine: servers, clients, datagram servers, pulled with ls_next_event                  */
/* ------------------------------------------------------------------------------------------ */

struct ev {
    int32_t kind;
    uint64_t client;
    int64_t value;
    size_t len;
    uint8_t buf[4096];
};

static int32_t ev_next(int64_t h, int32_t timeout_ms, struct ev *e) {
    return ls_next_event(h, timeout_ms, &e->kind, &e->client, &e->value, e->buf, sizeof e->buf,
                         &e->len);
}

/* Pull until an event of `kind` arrives (others are skipped); 1 if it did within `within_ms`. */
static int ev_wait_kind(int64_t h, int32_t kind, int within_ms, struct ev *e) {
    double end = now_ms() + within_ms;
    while (now_ms() < end) {
        int32_t rc = ev_next(h, 100, e);
        if (rc == LS_OK && e->kind == kind) return 1;
        if (rc != LS_OK && rc != LS_ERR_TIMEOUT) return 0;
    }
    return 0;
}

/* Pull until the object's final LS_EVENT_CLOSED; then pulling gives LS_ERR_CLOSED. */
static void ev_drain_to_closed(int64_t h) {
    struct ev e;
    CHECK(ev_wait_kind(h, LS_EVENT_CLOSED, 5000, &e));
    CHECK_RC(ev_next(h, 0, &e), LS_ERR_CLOSED);
}

static int64_t engine_listen(int64_t cfg, char *addr, size_t cap) {
    int64_t s = 0;
    int32_t port = 0;
    OK(ls_server_listen("127.0.0.1:0", cfg, &s));
    OK(ls_local_port(s, &port));
    snprintf(addr, cap, "127.0.0.1:%d", port);
    return s;
}

/* A blocking libsock connection speaking the engine's default framing (4-byte BE length). */
static int64_t framed_connect(const char *addr) {
    int64_t h = 0;
    OK(ls_tcp_connect(addr, 5000, &h));
    OK(ls_set_framing_length(h, 4, 1, 0));
    return h;
}

/* Wait until statistic `stat` of `h` reaches `min` (counters move just after the bytes do). */
static int stat_reaches(int64_t h, int32_t stat, int64_t min, int within_ms) {
    double end = now_ms() + within_ms;
    int64_t v = 0;
    for (;;) {
        if (ls_engine_stats(h, stat, &v) == LS_OK && v >= min) return 1;
        if (now_ms() > end) return 0;
        sleep_ms(10);
    }
}

/* An address where nobody listens: a socket bound to a port without listening (keep `*fd`
 * open while it is used, so nobody else takes the port). */
static void refused_address(int *fd, char *addr, size_t cap) {
    struct sockaddr_in sa;
    socklen_t len = sizeof sa;
    *fd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK(bind(*fd, (struct sockaddr *)&sa, sizeof sa) == 0);
    getsockname(*fd, (struct sockaddr *)&sa, &len);
    snprintf(addr, cap, "127.0.0.1:%d", ntohs(sa.sin_port));
}

static int ev_is(const struct ev *e, int32_t kind, const char *text) {
    return e->kind == kind && e->len == strlen(text) && memcmp(e->buf, text, e->len) == 0;
}

static void t_engine_constants(void) {
    int64_t cfg = 0, v = -7;
    /* The same numbers as core's EventKind::code / DisconnectReason::code (the C crate's Rust
     * tests compare every macro with core). */
    CHECK(LS_EVENT_CONNECTED == 1 && LS_EVENT_MESSAGE == 2 && LS_EVENT_DISCONNECTED == 3);
    CHECK(LS_EVENT_RECONNECTING == 4 && LS_EVENT_DATAGRAM == 5 && LS_EVENT_CLOSED == 6);
    CHECK(LS_REASON_PEER_CLOSED == 1 && LS_REASON_RESET == 2 && LS_REASON_IDLE_TIMEOUT == 3);
    CHECK(LS_REASON_HEARTBEAT_LOST == 4 && LS_REASON_FRAME_TOO_LARGE == 5);
    CHECK(LS_REASON_KICKED == 6 && LS_REASON_SERVER_SHUTDOWN == 7 && LS_REASON_ERROR == 8);
    CHECK(LS_REASON_SEND_QUEUE_FULL == 9 && LS_REASON_CLOSED == 10 && LS_REASON_TLS == 11);
    CHECK(LS_EVENT_WARNING == 7 && LS_STAT_SEND_QUEUE_FULL == 11 && LS_STAT_ACCEPT_ERRORS == 12);
    CHECK(LS_STAT_TLS_FAILURES == 13);
    /* Defaults read back from a fresh config are core's. */
    OK(ls_engine_config_new(&cfg));
    OK(ls_engine_config_get(cfg, LS_ECFG_EVENT_CAPACITY, &v));
    CHECK(v == 4096);
    OK(ls_engine_config_get(cfg, LS_ECFG_SEND_QUEUE_BYTES, &v));
    CHECK(v == 4 << 20);
    OK(ls_engine_config_get(cfg, LS_ECFG_HEARTBEAT_INTERVAL_MS, &v));
    CHECK(v == 0);
    OK(ls_engine_config_get(cfg, LS_ECFG_HEARTBEAT_MISSES, &v));
    CHECK(v == 3);
    OK(ls_engine_config_get(cfg, LS_ECFG_RECONNECT, &v));
    CHECK(v == 1);
    OK(ls_engine_config_get(cfg, LS_ECFG_BACKOFF_MIN_MS, &v));
    CHECK(v == 100);
    OK(ls_engine_config_get(cfg, LS_ECFG_BACKOFF_MAX_MS, &v));
    CHECK(v == 10000);
    OK(ls_engine_config_get(cfg, LS_ECFG_CONNECT_TIMEOUT_MS, &v));
    CHECK(v == 10000);
    OK(ls_engine_config_get(cfg, LS_ECFG_SEND_POLICY, &v));
    CHECK(v == LS_SEND_POLICY_ERROR);
    OK(ls_engine_config_get(cfg, LS_ECFG_IDLE_MODE, &v));
    CHECK(v == LS_IDLE_READS);
    OK(ls_engine_config_get(cfg, LS_ECFG_MAX_DATAGRAM, &v));
    CHECK(v == 65536);
    OK(ls_close(cfg));
}

static void t_engine_config(void) {
    int64_t cfg = 0, v = 0, o = 0, s = 0, conn = 0, h = -7;
    int32_t key;
    char addr[64];
    struct ev e;
    OK(ls_engine_config_new(&cfg));
    for (key = LS_ECFG_MAX_CLIENTS; key <= LS_ECFG_REMOVE_STALE; key++) {
        OK(ls_engine_config_get(cfg, key, &v));
    }
    OK(ls_engine_config_set(cfg, LS_ECFG_MAX_CLIENTS, 7));
    OK(ls_engine_config_get(cfg, LS_ECFG_MAX_CLIENTS, &v));
    CHECK(v == 7);
    /* Unknown keys and values out of range: a clear error, and nothing changes. */
    CHECK_RC(ls_engine_config_set(cfg, 0, 1), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_engine_config_set(cfg, LS_ECFG_REMOVE_STALE + 1, 1), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_engine_config_get(cfg, 99, &v), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_engine_config_get(cfg, LS_ECFG_MAX_CLIENTS, NULL), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_engine_config_set(cfg, LS_ECFG_SEND_POLICY, 2), LS_ERR_INVALID_ARGUMENT);
    CHECK(strstr(ls_last_error(), "engine setting SEND_POLICY") != NULL);
    /* (-1 is "no limit" and 0 is refused: rows engine-server-max-clients-* of the bad-input table.) */
    CHECK_RC(ls_engine_config_set(cfg, LS_ECFG_MAX_CLIENTS, -2), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_engine_config_set(cfg, LS_ECFG_RECONNECT, 2), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_engine_config_set(cfg, LS_ECFG_HEARTBEAT_INTERVAL_MS, -2),
             LS_ERR_INVALID_ARGUMENT);
    /* Values the key's type cannot hold; 0 (a zero bound, no misses) is core's to refuse when
     * the object is made (t_engine_settings_checked_by_core). */
    CHECK_RC(ls_engine_config_set(cfg, LS_ECFG_HEARTBEAT_MISSES, -1), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_engine_config_set(cfg, LS_ECFG_EVENT_CAPACITY, -1), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_engine_config_set(cfg, LS_ECFG_IDLE_TIMEOUT_MS, -5), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_engine_config_set(cfg, LS_ECFG_MAX_ATTEMPTS, (int64_t)1 << 40),
             LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_engine_config_set(cfg, LS_ECFG_CONNECT_TIMEOUT_MS, -1), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_engine_config_set(cfg, LS_ECFG_MAX_DATAGRAM, -1), LS_ERR_INVALID_ARGUMENT);
    OK(ls_engine_config_get(cfg, LS_ECFG_MAX_CLIENTS, &v));
    CHECK(v == 7);
    OK(ls_engine_config_new(&o));
    /* Socket options recorded on the config. */
    OK(ls_set_option(cfg, LS_OPT_NODELAY, 1));
    OK(ls_get_option(cfg, LS_OPT_NODELAY, &v));
    CHECK(v == 1);
    CHECK_RC(ls_get_option(cfg, LS_OPT_TTL, &v), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_set_option(cfg, 999, 1), LS_ERR_INVALID_ARGUMENT);
    /* Heartbeat payloads. */
    OK(ls_engine_config_set_heartbeat_payloads(o, (const uint8_t *)"PING", 4,
                                               (const uint8_t *)"PONG", 4));
    CHECK_RC(ls_engine_config_set_heartbeat_payloads(o, (const uint8_t *)"PING", 4,
                                                     (const uint8_t *)"PING", 4),
             LS_ERR_INVALID_ARGUMENT);
    CHECK(strstr(ls_last_error(), "payloads are equal") != NULL); /* core's words */
    CHECK_RC(ls_engine_config_set_heartbeat_payloads(o, (const uint8_t *)"", 0,
                                                     (const uint8_t *)"PONG", 4),
             LS_ERR_INVALID_ARGUMENT);
    CHECK(strstr(ls_last_error(), "empty heartbeat ping or pong") != NULL);
    CHECK_RC(ls_engine_config_set_heartbeat_payloads(o, NULL, 4, (const uint8_t *)"PONG", 4),
             LS_ERR_INVALID_ARGUMENT);
    OK(ls_close(o));
    /* Framing set on the config: a line server. */
    OK(ls_set_framing_delimited(cfg, (const uint8_t *)"\n", 1, 0, 0));
    s = engine_listen(cfg, addr, sizeof addr);
    OK(ls_tcp_connect(addr, 5000, &conn));
    OK(ls_send_all(conn, (const uint8_t *)"alpha\nbeta\n", 11));
    CHECK(ev_wait_kind(s, LS_EVENT_MESSAGE, 5000, &e) && ev_is(&e, LS_EVENT_MESSAGE, "alpha"));
    CHECK(ev_wait_kind(s, LS_EVENT_MESSAGE, 5000, &e) && ev_is(&e, LS_EVENT_MESSAGE, "beta"));
    OK(ls_close(conn));
    OK(ls_close(s));
    /* Raw framing with an active heartbeat is refused at listen (a ping could be glued). */
    OK(ls_set_framing_raw(cfg));
    OK(ls_engine_config_set(cfg, LS_ECFG_HEARTBEAT_INTERVAL_MS, 100));
    CHECK_RC(ls_server_listen("127.0.0.1:0", cfg, &h), LS_ERR_INVALID_ARGUMENT);
    CHECK(h == -7);
    /* Wrong kinds of handle. */
    OK(ls_options_new(&o));
    CHECK_RC(ls_server_listen("127.0.0.1:0", o, &h), LS_ERR_BAD_HANDLE);
    CHECK_RC(ls_engine_config_set(o, LS_ECFG_MAX_CLIENTS, 1), LS_ERR_BAD_HANDLE);
    CHECK(strstr(ls_last_error(), "engine config") != NULL);
    CHECK_RC(ls_engine_config_get(o, LS_ECFG_MAX_CLIENTS, &v), LS_ERR_BAD_HANDLE);
    OK(ls_close(o));
    OK(ls_close(cfg));
    CHECK_RC(ls_engine_config_set(cfg, LS_ECFG_MAX_CLIENTS, 1), LS_ERR_BAD_HANDLE);
    CHECK_RC(ls_client_connect("127.0.0.1:1", cfg, &h), LS_ERR_BAD_HANDLE);
    CHECK_RC(ls_engine_config_new(NULL), LS_ERR_INVALID_ARGUMENT);
}

/* The config keys take effect: idle timeout, send queue bound and policy, frame limit, custom
 * heartbeat payloads (answered by the engine, never delivered). */
static void t_engine_config_keys_take_effect(void) {
    int64_t cfg = 0, s = 0, conn = 0, v = 0;
    char addr[64];
    uint8_t big[100], frame[16];
    uint8_t chunk[65536];
    size_t n = 0;
    int i;
    int32_t rc = LS_OK;
    double t0;
    struct ev e;
    memset(big, 'b', sizeof big);
    memset(chunk, 'q', sizeof chunk);
    /* Idle timeout. */
    OK(ls_engine_config_new(&cfg));
    OK(ls_engine_config_set(cfg, LS_ECFG_IDLE_TIMEOUT_MS, 200));
    s = engine_listen(cfg, addr, sizeof addr);
    conn = framed_connect(addr);
    CHECK(ev_wait_kind(s, LS_EVENT_CONNECTED, 5000, &e));
    t0 = now_ms();
    CHECK(ev_wait_kind(s, LS_EVENT_DISCONNECTED, 5000, &e));
    CHECK(e.value == LS_REASON_IDLE_TIMEOUT && now_ms() - t0 >= 100);
    OK(ls_close(conn));
    OK(ls_close(s));
    OK(ls_close(cfg));
    /* Frame limit: a 100-byte frame against max_len 10. */
    OK(ls_engine_config_new(&cfg));
    OK(ls_set_framing_length(cfg, 4, 1, 10));
    s = engine_listen(cfg, addr, sizeof addr);
    conn = framed_connect(addr);
    OK(ls_send_msg(conn, big, sizeof big));
    CHECK(ev_wait_kind(s, LS_EVENT_DISCONNECTED, 5000, &e));
    CHECK(e.value == LS_REASON_FRAME_TOO_LARGE);
    CHECK_RC(ls_server_send(s, 1, big, sizeof big), LS_ERR_FRAME_TOO_LARGE); /* sending too */
    CHECK_RC(ls_server_send(s, 1, big, 5), LS_ERR_CLOSED);                    /* it is gone */
    OK(ls_close(conn));
    OK(ls_close(s));
    /* A send queue of 64 KiB to a client that never reads: LS_ERR_QUEUE_FULL (policy error).
     * Messages of 16 KiB: one larger than the whole queue is LS_ERR_FRAME_TOO_LARGE instead
     * (row engine-server-send-over-queue of the bad-input table). */
    OK(ls_set_framing_length(cfg, 4, 1, 0));
    OK(ls_engine_config_set(cfg, LS_ECFG_SEND_QUEUE_BYTES, 65536));
    s = engine_listen(cfg, addr, sizeof addr);
    conn = framed_connect(addr);
    CHECK(ev_wait_kind(s, LS_EVENT_CONNECTED, 5000, &e));
    for (i = 0; i < 8000 && rc == LS_OK; i++) rc = ls_server_send(s, e.client, chunk, sizeof chunk / 4);
    CHECK_RC(rc, LS_ERR_QUEUE_FULL);
    CHECK(i < 8000);
    OK(ls_close(conn));
    OK(ls_close(s));
    /* The same with LS_SEND_POLICY_DISCONNECT: the slow client is dropped. */
    OK(ls_engine_config_set(cfg, LS_ECFG_SEND_POLICY, LS_SEND_POLICY_DISCONNECT));
    s = engine_listen(cfg, addr, sizeof addr);
    conn = framed_connect(addr);
    CHECK(ev_wait_kind(s, LS_EVENT_CONNECTED, 5000, &e));
    rc = LS_OK;
    for (i = 0; i < 8000 && rc == LS_OK; i++) rc = ls_server_send(s, e.client, chunk, sizeof chunk / 4);
    CHECK(rc == LS_OK || rc == LS_ERR_CLOSED); /* sends succeed until the client is gone */
    CHECK(ev_wait_kind(s, LS_EVENT_DISCONNECTED, 5000, &e));
    CHECK(e.value == LS_REASON_SEND_QUEUE_FULL);
    OK(ls_close(conn));
    OK(ls_close(s));
    OK(ls_close(cfg));
    /* Custom heartbeat payloads: a framed "PING" is answered with "PONG" and not delivered. */
    OK(ls_engine_config_new(&cfg));
    OK(ls_engine_config_set_heartbeat_payloads(cfg, (const uint8_t *)"PING", 4,
                                               (const uint8_t *)"PONG", 4));
    s = engine_listen(cfg, addr, sizeof addr);
    conn = framed_connect(addr);
    CHECK(ev_wait_kind(s, LS_EVENT_CONNECTED, 5000, &e));
    OK(ls_send_msg(conn, (const uint8_t *)"PING", 4));
    OK(ls_recv_msg(conn, 5000, frame, sizeof frame, &n));
    CHECK(n == 4 && memcmp(frame, "PONG", 4) == 0);
    OK(ls_send_msg(conn, (const uint8_t *)"data", 4));
    OK(ev_next(s, 5000, &e));
    CHECK(ev_is(&e, LS_EVENT_MESSAGE, "data")); /* the ping was not delivered */
    OK(ls_engine_stats(s, LS_STAT_MESSAGES_IN, &v));
    CHECK(v == 1);
    OK(ls_close(conn));
    OK(ls_close(s));
    OK(ls_close(cfg));
}

/* Settings whose meaning core checks: ls_engine_config_set takes any value of the key's type,
 * and the object is refused when it is made, with core's message (the same in every door). */
static int32_t listen_with(int64_t cfg, int64_t *h) { return ls_server_listen("127.0.0.1:0", cfg, h); }
static int32_t connect_with(int64_t cfg, int64_t *h) { return ls_client_connect("127.0.0.1:1", cfg, h); }
static int32_t dgram_with(int64_t cfg, int64_t *h) { return ls_dgram_server_bind("127.0.0.1:0", cfg, h); }

static void refused_by_core(int32_t (*make)(int64_t, int64_t *), int32_t key, int64_t value,
                            const char *words) {
    int64_t cfg = 0, h = -7;
    OK(ls_engine_config_new(&cfg));
    OK(ls_engine_config_set(cfg, key, value));
    CHECK_RC(make(cfg, &h), LS_ERR_INVALID_ARGUMENT);
    CHECK(h == -7);
    if (strstr(ls_last_error(), words) == NULL) {
        printf("  key %d = %lld: message '%s' lacks '%s'\n", (int)key, (long long)value,
               ls_last_error(), words);
        CHECK(0);
    }
    OK(ls_close(cfg));
}

static void t_engine_settings_checked_by_core(void) {
    int64_t cfg = 0, h = 0, conn = 0;
    uint8_t b[8];
    size_t lens[2], n = 0;
    int32_t port = 0;
    refused_by_core(listen_with, LS_ECFG_MAX_CLIENTS, 0, "max_clients 0");
    refused_by_core(listen_with, LS_ECFG_SEND_QUEUE_BYTES, 0, "send_queue_bytes 0");
    refused_by_core(listen_with, LS_ECFG_EVENT_CAPACITY, 0, "event_capacity 0");
    refused_by_core(listen_with, LS_ECFG_HEARTBEAT_INTERVAL_MS, 5, "below the floor");
    refused_by_core(listen_with, LS_ECFG_HEARTBEAT_MISSES, 0, "misses 0");
    refused_by_core(connect_with, LS_ECFG_CONNECT_TIMEOUT_MS, 0, "connect_timeout 0");
    refused_by_core(connect_with, LS_ECFG_BACKOFF_MIN_MS, 5, "below the floor");
    refused_by_core(connect_with, LS_ECFG_BACKOFF_MIN_MS, 20000, "greater than the maximum");
    refused_by_core(connect_with, LS_ECFG_HEARTBEAT_INTERVAL_MS, 1, "below the floor");
    refused_by_core(connect_with, LS_ECFG_SEND_QUEUE_BYTES, 0, "send_queue_bytes 0");
    refused_by_core(dgram_with, LS_ECFG_MAX_DATAGRAM, 65537, "max_datagram 65537");
    refused_by_core(dgram_with, LS_ECFG_MAX_DATAGRAM, 0, "max_datagram 0");
    refused_by_core(dgram_with, LS_ECFG_EVENT_CAPACITY, 0, "event_capacity 0");
    /* The floors themselves are fine: a 10 ms heartbeat, -1 (no limit) and 1 client. */
    OK(ls_engine_config_new(&cfg));
    OK(ls_engine_config_set(cfg, LS_ECFG_HEARTBEAT_INTERVAL_MS, 10));
    OK(ls_engine_config_set(cfg, LS_ECFG_MAX_CLIENTS, -1));
    OK(ls_server_listen("127.0.0.1:0", cfg, &h));
    OK(ls_close(h));
    OK(ls_engine_config_set(cfg, LS_ECFG_MAX_CLIENTS, 1));
    OK(ls_engine_config_set(cfg, LS_ECFG_BACKOFF_MIN_MS, 10));
    OK(ls_engine_config_set(cfg, LS_ECFG_BACKOFF_MAX_MS, 10));
    OK(ls_server_listen("127.0.0.1:0", cfg, &h));
    OK(ls_close(h));
    OK(ls_client_connect("127.0.0.1:1", cfg, &h));
    OK(ls_close(h));
    OK(ls_close(cfg));
    /* Digits and dots that are no dotted quad: refused, never handed to a resolver. */
    CHECK_RC(ls_server_listen("256.1.1.1:0", 0, &h), LS_ERR_INVALID_ARGUMENT);
    CHECK(strstr(ls_last_error(), "not an IPv4 address") != NULL);
    CHECK_RC(ls_client_connect("127.1:80", 0, &h), LS_ERR_INVALID_ARGUMENT);
    CHECK(strstr(ls_last_error(), "not an IPv4 address") != NULL);
    CHECK_RC(ls_tcp_connect("127.1:80", 1000, &h), LS_ERR_INVALID_ARGUMENT);
    /* A batch receive with room for no message: core's InvalidArgument, not a spin. */
    OK(ls_listen("127.0.0.1:0", 16, &h));
    OK(ls_local_port(h, &port));
    {
        char addr[64];
        snprintf(addr, sizeof addr, "127.0.0.1:%d", (int)port);
        OK(ls_tcp_connect(addr, 5000, &conn));
    }
    CHECK_RC(ls_recv_msgs(conn, 0, b, sizeof b, 0, lens, &n), LS_ERR_INVALID_ARGUMENT);
    CHECK(strstr(ls_last_error(), "at least one") != NULL);
    CHECK_RC(ls_recv_msgs(conn, 0, b, sizeof b, 0, NULL, &n), LS_ERR_INVALID_ARGUMENT);
    CHECK(strstr(ls_last_error(), "at least one") != NULL);
    OK(ls_close(conn));
    OK(ls_close(h));
    OK(ls_udp_bind("127.0.0.1:0", &h));
    CHECK_RC(ls_recv_many(h, 0, b, sizeof b, 0, lens, NULL, NULL, &n), LS_ERR_INVALID_ARGUMENT);
    CHECK(strstr(ls_last_error(), "at least one") != NULL);
    OK(ls_close(h));
}

/* A message larger than the whole send queue can never be queued: LS_ERR_FRAME_TOO_LARGE, even
 * into an empty queue (before, it was queued alone). */
static void t_engine_frame_larger_than_send_queue(void) {
    int64_t cfg = 0, s = 0, c = 0, conn = 0;
    char addr[64];
    uint8_t big[2000];
    size_t sent = 99;
    uint64_t ids[1];
    struct ev e;
    memset(big, 'z', sizeof big);
    OK(ls_engine_config_new(&cfg));
    OK(ls_engine_config_set(cfg, LS_ECFG_SEND_QUEUE_BYTES, 1024));
    s = engine_listen(cfg, addr, sizeof addr);
    conn = framed_connect(addr);
    CHECK(ev_wait_kind(s, LS_EVENT_CONNECTED, 5000, &e));
    ids[0] = e.client;
    CHECK_RC(ls_server_send(s, e.client, big, sizeof big), LS_ERR_FRAME_TOO_LARGE);
    CHECK(strstr(ls_last_error(), "1024") != NULL);
    CHECK_RC(ls_server_send_many(s, ids, 1, big, sizeof big, &sent), LS_ERR_FRAME_TOO_LARGE);
    CHECK_RC(ls_server_broadcast(s, big, sizeof big, 0, &sent), LS_ERR_FRAME_TOO_LARGE);
    CHECK(sent == 99);
    /* What fits still goes, and nothing of the refused message went out. */
    OK(ls_server_send(s, e.client, big, 100));
    {
        uint8_t got[256];
        size_t n = 0;
        OK(ls_recv_msg(conn, 5000, got, sizeof got, &n));
        CHECK(n == 100);
    }
    /* A client's queue the same (its queue is empty: it is not even connected). */
    OK(ls_client_connect("127.0.0.1:1", cfg, &c));
    CHECK_RC(ls_client_send(c, big, sizeof big), LS_ERR_FRAME_TOO_LARGE);
    OK(ls_client_send(c, big, 100));
    OK(ls_close(c));
    OK(ls_close(conn));
    OK(ls_close(s));
    OK(ls_close(cfg));
}

/* max_clients 0 is refused (it would accept nobody); -1 is no limit. */
static void t_engine_max_clients_0_refused(void) {
    int64_t cfg = 0, s = -7, v = 0;
    OK(ls_engine_config_new(&cfg));
    OK(ls_engine_config_get(cfg, LS_ECFG_MAX_CLIENTS, &v));
    CHECK(v == -1); /* the default: no limit */
    OK(ls_engine_config_set(cfg, LS_ECFG_MAX_CLIENTS, 0));
    CHECK_RC(ls_server_listen("127.0.0.1:0", cfg, &s), LS_ERR_INVALID_ARGUMENT);
    CHECK(strstr(ls_last_error(), "max_clients 0") != NULL);
    CHECK(s == -7);
    CHECK_RC(ls_engine_config_set(cfg, LS_ECFG_MAX_CLIENTS, -2), LS_ERR_INVALID_ARGUMENT);
    OK(ls_engine_config_set(cfg, LS_ECFG_MAX_CLIENTS, -1));
    OK(ls_server_listen("127.0.0.1:0", cfg, &s));
    OK(ls_close(s));
    OK(ls_close(cfg));
}

/* A peer's frame with the wrong HP-Socket PACK flag: LS_ERR_BAD_FRAME (its own code, -20, no
 * longer LS_ERR_IO) from a blocking receive, errno EBADMSG. */
static void t_bad_frame_from_peer(void) {
    struct pair p;
    uint8_t b[64];
    size_t n = 0;
    /* HP-Socket PACK: 4 bytes little endian, flag in the top 10 bits, then the body. */
    uint32_t hdr = (0x154u << 22) | 2u;
    uint8_t wire[6];
    CHECK(LS_ERR_BAD_FRAME == -20);
    CHECK(strcmp(ls_error_name(LS_ERR_BAD_FRAME), "BAD_FRAME") == 0);
    CHECK(strcmp(ls_strerror(LS_ERR_BAD_FRAME), "malformed frame from the peer") == 0);
    wire[0] = (uint8_t)hdr;
    wire[1] = (uint8_t)(hdr >> 8);
    wire[2] = (uint8_t)(hdr >> 16);
    wire[3] = (uint8_t)(hdr >> 24);
    wire[4] = 'h';
    wire[5] = 'i';
    pair_open(&p);
    OK(ls_set_framing_hp_pack(p.a, 0x155, 0));
    OK(ls_send_all(p.c, wire, sizeof wire));
    CHECK_RC(ls_recv_msg(p.a, 5000, b, sizeof b, &n), LS_ERR_BAD_FRAME);
    CHECK(ls_last_error_code() == LS_ERR_BAD_FRAME);
    CHECK(ls_last_os_error() == EBADMSG);
    pair_close(&p);
}

/* A slow consumer: a client that never reads while the server sends until its queue is full.
 * The server gets exactly one LS_EVENT_WARNING for that client (value LS_ERR_QUEUE_FULL, the
 * warning in words), and LS_STAT_SEND_QUEUE_FULL counts every refused send. */
static void t_engine_warning_for_slow_consumer(void) {
    int64_t cfg = 0, s = 0, conn = 0, v = 0;
    char addr[64];
    static uint8_t chunk[16384];
    int i, warnings = 0, refused = 0;
    int32_t rc = LS_OK;
    size_t sent = 99;
    uint64_t slow = 0;
    struct ev e;
    memset(chunk, 'w', sizeof chunk);
    OK(ls_engine_config_new(&cfg));
    OK(ls_engine_config_set(cfg, LS_ECFG_SEND_QUEUE_BYTES, 65536));
    OK(ls_set_option(cfg, LS_OPT_SEND_BUFFER_SIZE, 8192));
    s = engine_listen(cfg, addr, sizeof addr);
    OK(ls_tcp_connect(addr, 5000, &conn));
    OK(ls_set_option(conn, LS_OPT_RECV_BUFFER_SIZE, 4096));
    CHECK(ev_wait_kind(s, LS_EVENT_CONNECTED, 5000, &e));
    slow = e.client;
    /* Fill the queue without a refusal: a message is sent only while it fits, and once it would
     * not, the queue is watched until the engine can move nothing more into the kernel (a
     * refusal, then room again, would be two episodes). */
    for (i = 0; i < 10000; i++) {
        int64_t q = 0, q2 = 0;
        OK(ls_engine_stats(s, LS_STAT_QUEUED_BYTES, &q));
        if (q + (int64_t)sizeof chunk + 4 <= 65536) {
            OK(ls_server_send(s, slow, chunk, sizeof chunk));
            continue;
        }
        sleep_ms(150);
        OK(ls_engine_stats(s, LS_STAT_QUEUED_BYTES, &q2));
        if (q2 == q) break;
    }
    /* Refusals and a skipped broadcast in the same episode: one warning. */
    for (i = 0; i < 3; i++) {
        CHECK_RC(ls_server_send(s, slow, chunk, sizeof chunk), LS_ERR_QUEUE_FULL);
        refused++;
    }
    OK(ls_server_broadcast(s, chunk, sizeof chunk, 0, &sent));
    CHECK(sent == 0);
    refused++;
    OK(ls_engine_stats(s, LS_STAT_SEND_QUEUE_FULL, &v));
    CHECK(v == refused && refused == 4);
    OK(ls_engine_stats(s, LS_STAT_ACCEPT_ERRORS, &v));
    CHECK(v == 0);
    for (;;) {
        rc = ev_next(s, 300, &e);
        if (rc != LS_OK) break;
        if (e.kind == LS_EVENT_WARNING) {
            warnings++;
            CHECK(e.client == slow);
            CHECK(e.value == LS_ERR_QUEUE_FULL);
            CHECK(e.len > 0 && e.len < sizeof e.buf);
            e.buf[e.len < sizeof e.buf ? e.len : sizeof e.buf - 1] = 0;
            CHECK(strstr((const char *)e.buf, "send queue is full") != NULL);
        }
    }
    CHECK_RC(rc, LS_ERR_TIMEOUT);
    CHECK(warnings == 1);
    OK(ls_close(conn));
    OK(ls_close(s));
    OK(ls_close(cfg));
}

/* Every engine function given handle `h`, expecting `want` (LS_ERR_BAD_HANDLE). */
static void all_engine_functions(int64_t h, int32_t want) {
    struct ev e;
    uint8_t buf[16];
    char text[LS_ADDRESS_MAX];
    uint64_t ids[4] = {1, 2, 3, 4};
    size_t n = 0;
    int32_t k = 0, fd = 0;
    int64_t v = 0;
    CHECK_RC(ls_engine_config_set(h, LS_ECFG_MAX_CLIENTS, 1), LS_ERR_BAD_HANDLE);
    CHECK_RC(ls_engine_config_get(h, LS_ECFG_MAX_CLIENTS, &v), LS_ERR_BAD_HANDLE);
    CHECK_RC(ls_engine_config_set_heartbeat_payloads(h, (const uint8_t *)"a", 1,
                                                     (const uint8_t *)"b", 1),
             LS_ERR_BAD_HANDLE);
    CHECK_RC(ls_server_send(h, 1, (const uint8_t *)"x", 1), want);
    CHECK_RC(ls_server_send_many(h, ids, 4, (const uint8_t *)"x", 1, &n), want);
    CHECK_RC(ls_server_broadcast(h, (const uint8_t *)"x", 1, 0, &n), want);
    CHECK_RC(ls_server_disconnect(h, 1, 1), want);
    CHECK_RC(ls_server_clients(h, ids, 4, &n), want);
    CHECK_RC(ls_server_client_address(h, 1, text, sizeof text, &n), want);
    CHECK_RC(ls_server_shutdown(h, 0), want);
    CHECK_RC(ls_client_send(h, (const uint8_t *)"x", 1), want);
    CHECK_RC(ls_client_close(h, 0), want);
    CHECK_RC(ls_dgram_server_send_to(h, (const uint8_t *)"x", 1, "127.0.0.1:9"), want);
    CHECK_RC(ev_next(h, 0, &e), want);
    CHECK_RC(ls_next_datagram(h, 0, &k, buf, sizeof buf, &n, text, sizeof text, &n), want);
    CHECK_RC(ls_pending_events(h, &n), want);
    CHECK_RC(ls_notify_fd(h, &fd), want);
    CHECK_RC(ls_engine_stats(h, LS_STAT_BYTES_IN, &v), want);
}

static void t_engine_bad_handles(void) {
    int64_t s = 0, conn = 0;
    char addr[64];
    all_engine_functions(0, LS_ERR_BAD_HANDLE);
    all_engine_functions(987654321, LS_ERR_BAD_HANDLE);
    all_engine_functions(-5, LS_ERR_BAD_HANDLE);
    /* A blocking connection is a handle of another kind. */
    s = engine_listen(0, addr, sizeof addr);
    conn = framed_connect(addr);
    all_engine_functions(conn, LS_ERR_BAD_HANDLE);
    CHECK(strstr(ls_last_error(), "connection") != NULL);
    OK(ls_close(conn));
    /* A closed server. */
    OK(ls_close(s));
    all_engine_functions(s, LS_ERR_BAD_HANDLE);
    CHECK_RC(ls_close(s), LS_ERR_BAD_HANDLE);
}

static void t_engine_bad_inputs(void) {
    int64_t s = 0, c = 0, d = 0, h = -7, v = 0, conn = 0;
    char addr[64], text[LS_ADDRESS_MAX];
    const char bad_utf8[] = {'1', '2', '7', (char)0xff, ':', '1', 0};
    uint64_t ids[4] = {1, 2, 3, 4};
    uint8_t buf[64];
    size_t n = 0;
    int32_t k = 0, fd = 0;
    uint64_t cl = 0;
    struct ev e;
    s = engine_listen(0, addr, sizeof addr);
    OK(ls_client_connect(addr, 0, &c));
    OK(ls_dgram_server_bind("127.0.0.1:0", 0, &d));
    /* Constructors. */
    CHECK_RC(ls_server_listen(NULL, 0, &h), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_server_listen("127.0.0.1:0", 0, NULL), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_server_listen("127.0.0.1:99999", 0, &h), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_server_listen(bad_utf8, 0, &h), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_server_listen(addr, 0, &h), LS_ERR_ADDR_IN_USE);
    CHECK(strstr(ls_last_error(), addr) != NULL);
    CHECK_RC(ls_client_connect(NULL, 0, &h), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_client_connect(addr, 0, NULL), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_client_connect("127.0.0.1", 0, &h), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_client_connect(bad_utf8, 0, &h), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_dgram_server_bind(NULL, 0, &h), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_dgram_server_bind("127.0.0.1:0", 0, NULL), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_dgram_server_bind("unix:/tmp/ls-c-dgram-engine", 0, &h), LS_ERR_UNSUPPORTED);
    CHECK(h == -7);
    /* Servers. */
    CHECK_RC(ls_server_send(s, 1, NULL, 5), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_server_send(s, 12345, (const uint8_t *)"x", 1), LS_ERR_CLOSED);
    CHECK_RC(ls_server_send(s, 1, (const uint8_t *)"x", (size_t)-1), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_server_send_many(s, NULL, 2, (const uint8_t *)"x", 1, &n),
             LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_server_send_many(s, ids, 2, (const uint8_t *)"x", 1, NULL),
             LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_server_send_many(s, ids, (size_t)-1, (const uint8_t *)"x", 1, &n),
             LS_ERR_INVALID_ARGUMENT);
    ids[0] = 1000;
    ids[1] = 1001;
    OK(ls_server_send_many(s, ids, 2, (const uint8_t *)"x", 1, &n));
    CHECK(n == 0); /* unknown clients are skipped */
    CHECK_RC(ls_server_broadcast(s, NULL, 3, 0, &n), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_server_broadcast(s, (const uint8_t *)"x", 1, 0, NULL), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_server_disconnect(s, 1, 2), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_server_disconnect(s, 999, 1), LS_ERR_CLOSED);
    CHECK_RC(ls_server_clients(s, NULL, 5, &n), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_server_clients(s, ids, 4, NULL), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_server_clients(s, ids, (size_t)-1, &n), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_server_client_address(s, 999, text, sizeof text, &n), LS_ERR_CLOSED);
    CHECK_RC(ls_server_client_address(s, 1, text, sizeof text, NULL), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_server_client_address(s, 1, NULL, 10, &n), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_server_shutdown(s, -1), LS_ERR_INVALID_ARGUMENT);
    /* Clients. */
    CHECK_RC(ls_client_send(c, NULL, 1), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_client_close(c, -5), LS_ERR_INVALID_ARGUMENT);
    /* Datagram servers. */
    CHECK_RC(ls_dgram_server_send_to(d, (const uint8_t *)"x", 1, NULL), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_dgram_server_send_to(d, NULL, 1, "127.0.0.1:9"), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_dgram_server_send_to(d, (const uint8_t *)"x", 1, "nonsense"),
             LS_ERR_INVALID_ARGUMENT);
    /* Pulling. */
    CHECK_RC(ev_next(s, -3, &e), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_next_event(s, 0, NULL, &cl, &v, buf, sizeof buf, &n), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_next_event(s, 0, &k, NULL, &v, buf, sizeof buf, &n), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_next_event(s, 0, &k, &cl, NULL, buf, sizeof buf, &n), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_next_event(s, 0, &k, &cl, &v, NULL, 5, &n), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_next_event(s, 0, &k, &cl, &v, buf, sizeof buf, NULL), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_next_event(s, 0, &k, &cl, &v, buf, (size_t)-1, &n), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_next_datagram(s, 0, &k, buf, sizeof buf, &n, text, sizeof text, &n),
             LS_ERR_BAD_HANDLE);
    CHECK_RC(ls_next_datagram(d, 0, &k, buf, sizeof buf, &n, text, 10, &n),
             LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_next_datagram(d, 0, NULL, buf, sizeof buf, &n, text, sizeof text, &n),
             LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_next_datagram(d, -9, &k, buf, sizeof buf, &n, text, sizeof text, &n),
             LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_notify_fd(s, NULL), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_pending_events(s, NULL), LS_ERR_INVALID_ARGUMENT);
    /* Statistics. */
    CHECK_RC(ls_engine_stats(s, 0, &v), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_engine_stats(s, 99, &v), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_engine_stats(s, LS_STAT_BYTES_IN, NULL), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_engine_stats(s, LS_STAT_FAILED_ATTEMPTS, &v), LS_ERR_UNSUPPORTED);
    CHECK_RC(ls_engine_stats(c, LS_STAT_REFUSED, &v), LS_ERR_UNSUPPORTED);
    CHECK_RC(ls_engine_stats(d, LS_STAT_CONNECTIONS, &v), LS_ERR_UNSUPPORTED);
    /* Engine handles in functions of the blocking layer, and the other way round. */
    CHECK_RC(ls_recv(s, 0, buf, sizeof buf, &n), LS_ERR_BAD_HANDLE);
    CHECK_RC(ls_send_msg(c, (const uint8_t *)"x", 1), LS_ERR_BAD_HANDLE);
    CHECK_RC(ls_set_timeout(s, 10), LS_ERR_BAD_HANDLE);
    CHECK_RC(ls_set_framing_raw(s), LS_ERR_BAD_HANDLE);
    CHECK_RC(ls_set_option(s, LS_OPT_NODELAY, 1), LS_ERR_BAD_HANDLE);
    CHECK_RC(ls_accept(s, 0, &conn), LS_ERR_BAD_HANDLE);
    CHECK_RC(ls_client_send(s, (const uint8_t *)"x", 1), LS_ERR_BAD_HANDLE);
    CHECK_RC(ls_server_send(c, 1, (const uint8_t *)"x", 1), LS_ERR_BAD_HANDLE);
    CHECK_RC(ls_dgram_server_send_to(s, (const uint8_t *)"x", 1, "127.0.0.1:9"),
             LS_ERR_BAD_HANDLE);
    CHECK_RC(ls_local_port(c, &k), LS_ERR_BAD_HANDLE);
    OK(ls_local_address(d, text, sizeof text, &n));
    CHECK(strncmp(text, "127.0.0.1:", 10) == 0);
    OK(ls_notify_fd(d, &fd));
    CHECK(fd >= 0);
    OK(ls_close(c));
    OK(ls_close(d));
    OK(ls_close(s));
}

/* S09 for the engine: a message larger than the buffer stays queued. */
static void t_engine_buffer_too_small(void) {
    int64_t s = 0, conn = 0, v = -7;
    char addr[64];
    uint8_t big[3000], small[100];
    uint64_t seed = 9, cl = 77;
    size_t n = 0;
    int32_t k = -7;
    double t0;
    struct ev e;
    rng_fill(&seed, big, sizeof big);
    s = engine_listen(0, addr, sizeof addr);
    conn = framed_connect(addr);
    CHECK(ev_wait_kind(s, LS_EVENT_CONNECTED, 5000, &e));
    /* The peer address of CONNECTED does not fit 4 bytes either. */
    OK(ls_send_msg(conn, big, sizeof big));
    CHECK_RC(ls_next_event(s, 5000, &k, &cl, &v, NULL, 0, &n), LS_ERR_BUFFER_TOO_SMALL);
    CHECK(n == sizeof big);
    CHECK(k == -7 && cl == 77 && v == -7); /* the other outputs are untouched */
    n = 0;
    CHECK_RC(ls_next_event(s, 5000, &k, &cl, &v, small, sizeof small, &n),
             LS_ERR_BUFFER_TOO_SMALL);
    CHECK(n == sizeof big);
    CHECK(strstr(ls_last_error(), "3000") != NULL);
    OK(ev_next(s, 0, &e));
    CHECK(e.kind == LS_EVENT_MESSAGE && e.len == sizeof big && memcmp(e.buf, big, sizeof big) == 0);
    CHECK(e.client == 1 && e.value == 0);
    /* Nothing more: a poll and a short wait time out. */
    CHECK_RC(ev_next(s, 0, &e), LS_ERR_TIMEOUT);
    t0 = now_ms();
    CHECK_RC(ev_next(s, 200, &e), LS_ERR_TIMEOUT);
    CHECK(now_ms() - t0 >= 150);
    /* A zero-length message is an event with len 0. */
    OK(ls_send_msg(conn, NULL, 0));
    OK(ls_next_event(s, 5000, &k, &cl, &v, NULL, 0, &n));
    CHECK(k == LS_EVENT_MESSAGE && n == 0);
    OK(ls_close(conn));
    OK(ls_close(s));
}

static int poll_fd(int fd, int timeout_ms) {
    struct pollfd p;
    p.fd = fd;
    p.events = POLLIN;
    p.revents = 0;
    return poll(&p, 1, timeout_ms) == 1 && (p.revents & POLLIN) != 0;
}

static void t_engine_notify_fd(void) {
    int64_t s = 0, conn = 0;
    int32_t fd = -1;
    size_t n = 0;
    char addr[64];
    struct ev e;
    s = engine_listen(0, addr, sizeof addr);
    OK(ls_notify_fd(s, &fd));
    CHECK(fd >= 0);
    CHECK(!poll_fd(fd, 0));
    conn = framed_connect(addr);
    CHECK(poll_fd(fd, 5000));
    OK(ls_pending_events(s, &n));
    CHECK(n >= 1);
    OK(ev_next(s, 0, &e));
    CHECK(e.kind == LS_EVENT_CONNECTED);
    CHECK_RC(ev_next(s, 0, &e), LS_ERR_TIMEOUT);
    CHECK(!poll_fd(fd, 0));
    OK(ls_pending_events(s, &n));
    CHECK(n == 0);
    OK(ls_send_msg(conn, (const uint8_t *)"x", 1));
    CHECK(poll_fd(fd, 5000));
    OK(ev_next(s, 0, &e));
    CHECK(ev_is(&e, LS_EVENT_MESSAGE, "x"));
    CHECK(!poll_fd(fd, 0));
    /* Once stopped, the fd stays readable until the handle is closed. */
    OK(ls_server_shutdown(s, 0));
    CHECK(poll_fd(fd, 0));
    ev_drain_to_closed(s);
    CHECK(poll_fd(fd, 0));
    OK(ls_close(conn));
    OK(ls_close(s));
}

static void t_engine_server_commands(void) {
    int64_t s = 0, cfg = 0, v = 0, conns[3], extra[2];
    uint64_t ids[3], got[8], many[3];
    char addr[64], text[LS_ADDRESS_MAX], local[LS_ADDRESS_MAX];
    size_t n = 0, ln = 0;
    uint8_t buf[64];
    int i, j, found;
    struct ev e;
    s = engine_listen(0, addr, sizeof addr);
    for (i = 0; i < 3; i++) {
        conns[i] = framed_connect(addr);
        /* Map the id of each client by its address (the CONNECTED event's text). */
        CHECK(ev_wait_kind(s, LS_EVENT_CONNECTED, 5000, &e));
        OK(ls_local_address(conns[i], local, sizeof local, &ln));
        CHECK(e.len == ln && memcmp(e.buf, local, ln) == 0);
        ids[i] = e.client;
    }
    CHECK(ids[0] == 1 && ids[1] == 2 && ids[2] == 3);
    CHECK_RC(ls_server_clients(s, NULL, 0, &n), LS_ERR_BUFFER_TOO_SMALL);
    CHECK(n == 3);
    CHECK_RC(ls_server_clients(s, got, 2, &n), LS_ERR_BUFFER_TOO_SMALL);
    CHECK(n == 3);
    OK(ls_server_clients(s, got, 8, &n));
    CHECK(n == 3 && got[0] == 1 && got[1] == 2 && got[2] == 3);
    for (i = 0; i < 3; i++) {
        OK(ls_server_client_address(s, ids[i], text, sizeof text, &n));
        OK(ls_local_address(conns[i], local, sizeof local, &ln));
        CHECK(n == ln && strcmp(text, local) == 0);
    }
    CHECK_RC(ls_server_client_address(s, ids[0], text, 4, &n), LS_ERR_BUFFER_TOO_SMALL);
    CHECK(n == ln + 1);
    OK(ls_engine_stats(s, LS_STAT_CONNECTIONS, &v));
    CHECK(v == 3);
    OK(ls_engine_stats(s, LS_STAT_CONNECTIONS_TOTAL, &v));
    CHECK(v == 3);
    OK(ls_engine_stats(s, LS_STAT_REFUSED, &v));
    CHECK(v == 0);
    /* send_many skips unknown clients; send reaches one. */
    many[0] = ids[0];
    many[1] = ids[2];
    many[2] = 9999;
    OK(ls_server_send_many(s, many, 3, (const uint8_t *)"many", 4, &n));
    CHECK(n == 2);
    OK(ls_server_send(s, ids[1], (const uint8_t *)"one", 3));
    for (i = 0; i < 3; i++) {
        const char *want = i == 1 ? "one" : "many";
        OK(ls_recv_msg(conns[i], 5000, buf, sizeof buf, &n));
        CHECK(n == strlen(want) && memcmp(buf, want, n) == 0);
    }
    CHECK(stat_reaches(s, LS_STAT_MESSAGES_OUT, 3, 5000));
    /* Broadcast except one. */
    OK(ls_server_broadcast(s, (const uint8_t *)"all", 3, ids[0], &n));
    CHECK(n == 2);
    for (i = 1; i < 3; i++) {
        OK(ls_recv_msg(conns[i], 5000, buf, sizeof buf, &n));
        CHECK(n == 3 && memcmp(buf, "all", 3) == 0);
    }
    CHECK_RC(ls_recv_msg(conns[0], 100, buf, sizeof buf, &n), LS_ERR_TIMEOUT);
    /* Kick client 2 gracefully: it reads what was queued, then end of stream. */
    OK(ls_server_send(s, ids[1], (const uint8_t *)"bye", 3));
    OK(ls_server_disconnect(s, ids[1], 1));
    OK(ls_recv_msg(conns[1], 5000, buf, sizeof buf, &n));
    CHECK(n == 3 && memcmp(buf, "bye", 3) == 0);
    CHECK_RC(ls_recv_msg(conns[1], 5000, buf, sizeof buf, &n), LS_ERR_CLOSED);
    /* The server lingers after its FIN until the peer closes too; then the event comes. */
    OK(ls_close(conns[1]));
    CHECK(ev_wait_kind(s, LS_EVENT_DISCONNECTED, 5000, &e));
    CHECK(e.client == ids[1] && e.value == LS_REASON_KICKED);
    CHECK(ev_is(&e, LS_EVENT_DISCONNECTED, "disconnected by the application"));
    CHECK_RC(ls_server_send(s, ids[1], (const uint8_t *)"x", 1), LS_ERR_CLOSED);
    /* A client that closes: PEER_CLOSED (or RESET). */
    OK(ls_close(conns[0]));
    CHECK(ev_wait_kind(s, LS_EVENT_DISCONNECTED, 5000, &e));
    CHECK(e.client == ids[0]);
    CHECK(e.value == LS_REASON_PEER_CLOSED || e.value == LS_REASON_RESET);
    OK(ls_engine_stats(s, LS_STAT_CONNECTIONS, &v));
    CHECK(v == 1);
    /* Shutdown: the last client gets what was queued, then end of stream. */
    OK(ls_server_send(s, ids[2], (const uint8_t *)"last", 4));
    OK(ls_server_shutdown(s, 500)); /* blocks up to 500 ms: the peer closes only after */
    OK(ls_recv_msg(conns[2], 5000, buf, sizeof buf, &n));
    CHECK(n == 4 && memcmp(buf, "last", 4) == 0);
    CHECK_RC(ls_recv_msg(conns[2], 5000, buf, sizeof buf, &n), LS_ERR_CLOSED);
    found = 0;
    for (j = 0; j < 10; j++) {
        int32_t rc = ev_next(s, 2000, &e);
        if (rc != LS_OK) break;
        if (e.kind == LS_EVENT_DISCONNECTED) {
            CHECK(e.client == ids[2] && e.value == LS_REASON_SERVER_SHUTDOWN);
            found++;
        }
        if (e.kind == LS_EVENT_CLOSED) break;
    }
    CHECK(found == 1 && e.kind == LS_EVENT_CLOSED);
    CHECK_RC(ev_next(s, 1000, &e), LS_ERR_CLOSED);
    CHECK_RC(ls_server_send(s, ids[2], (const uint8_t *)"x", 1), LS_ERR_CLOSED);
    CHECK_RC(ls_server_broadcast(s, (const uint8_t *)"x", 1, 0, &n), LS_ERR_CLOSED);
    OK(ls_server_shutdown(s, 0)); /* again: nothing happens */
    OK(ls_close(conns[2]));
    OK(ls_close(s));
    /* max_clients: the second client is closed at once and counted. */
    OK(ls_engine_config_new(&cfg));
    OK(ls_engine_config_set(cfg, LS_ECFG_MAX_CLIENTS, 1));
    s = engine_listen(cfg, addr, sizeof addr);
    extra[0] = framed_connect(addr);
    CHECK(ev_wait_kind(s, LS_EVENT_CONNECTED, 5000, &e));
    extra[1] = framed_connect(addr);
    CHECK_RC(ls_recv_msg(extra[1], 5000, buf, sizeof buf, &n), LS_ERR_CLOSED);
    CHECK(stat_reaches(s, LS_STAT_REFUSED, 1, 5000));
    OK(ls_engine_stats(s, LS_STAT_CONNECTIONS, &v));
    CHECK(v == 1);
    OK(ls_close(extra[0]));
    OK(ls_close(extra[1]));
    OK(ls_close(s));
    OK(ls_close(cfg));
}

static void t_engine_datagram_server(void) {
    int64_t d = 0, u = 0, v = 0;
    int32_t port = 0, k = 0, tr = 0;
    char addr[64], peer[LS_ADDRESS_MAX], local[LS_ADDRESS_MAX], from[LS_ADDRESS_MAX];
    uint8_t buf[256], big[100];
    size_t n = 0, pl = 0, ln = 0, fl = 0;
    struct ev e;
    memset(big, 'd', sizeof big);
    OK(ls_dgram_server_bind("127.0.0.1:0", 0, &d));
    OK(ls_local_port(d, &port));
    snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
    OK(ls_udp_bind("127.0.0.1:0", &u));
    OK(ls_local_address(u, local, sizeof local, &ln));
    OK(ls_send_to(u, (const uint8_t *)"ping", 4, addr));
    OK(ls_next_datagram(d, 5000, &k, buf, sizeof buf, &n, peer, sizeof peer, &pl));
    CHECK(k == LS_EVENT_DATAGRAM && n == 4 && memcmp(buf, "ping", 4) == 0);
    CHECK(pl == ln && strcmp(peer, local) == 0);
    OK(ls_dgram_server_send_to(d, (const uint8_t *)"pong", 4, peer));
    OK(ls_recv_from(u, 5000, buf, sizeof buf, &n, from, sizeof from, &fl, &tr));
    CHECK(n == 4 && memcmp(buf, "pong", 4) == 0 && tr == 0);
    /* Through ls_next_event: kind DATAGRAM, client 0; too small a buffer keeps it. */
    OK(ls_send_to(u, big, sizeof big, addr));
    CHECK_RC(ls_next_datagram(d, 5000, &k, buf, 10, &n, peer, sizeof peer, &pl),
             LS_ERR_BUFFER_TOO_SMALL);
    CHECK(n == sizeof big);
    CHECK_RC(ls_next_event(d, 5000, &e.kind, &e.client, &e.value, buf, 10, &e.len),
             LS_ERR_BUFFER_TOO_SMALL);
    CHECK(e.len == sizeof big);
    OK(ev_next(d, 0, &e));
    CHECK(e.kind == LS_EVENT_DATAGRAM && e.client == 0 && e.len == sizeof big);
    CHECK(memcmp(e.buf, big, sizeof big) == 0);
    OK(ls_engine_stats(d, LS_STAT_MESSAGES_IN, &v));
    CHECK(v == 2);
    OK(ls_engine_stats(d, LS_STAT_MESSAGES_OUT, &v));
    CHECK(v == 1);
    OK(ls_engine_stats(d, LS_STAT_BYTES_IN, &v));
    CHECK(v == 104);
    /* ls_close stops it; the handle is gone. */
    OK(ls_close(d));
    CHECK_RC(ev_next(d, 0, &e), LS_ERR_BAD_HANDLE);
    OK(ls_close(u));
}

/* A datagram server connected to one peer: ls_dgram_server_send goes to it, only its
 * datagrams are received (another sender's are not), send before connect is refused. */
static void t_engine_datagram_server_connected(void) {
    int64_t d = 0, c = 0, u = 0;
    int32_t port = 0, k = 0, tr = 0;
    char addr[64], peer[LS_ADDRESS_MAX], local[LS_ADDRESS_MAX], from[LS_ADDRESS_MAX];
    uint8_t buf[256];
    size_t n = 0, pl = 0, ln = 0, fl = 0;
    int i;
    OK(ls_udp_bind("127.0.0.1:0", &u));
    OK(ls_local_port(u, &port));
    snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
    OK(ls_dgram_server_bind("127.0.0.1:0", 0, &c));
    OK(ls_local_address(c, local, sizeof local, &ln));
    CHECK_RC(ls_dgram_server_send(c, (const uint8_t *)"early", 5), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_dgram_server_connect(c, "nonsense"), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_dgram_server_connect(c, NULL), LS_ERR_INVALID_ARGUMENT);
    OK(ls_dgram_server_connect(c, addr));
    /* Another sender's datagram is not received once connected. */
    OK(ls_dgram_server_bind("127.0.0.1:0", 0, &d));
    OK(ls_dgram_server_send_to(d, (const uint8_t *)"stranger", 8, local));
    for (i = 0; i < 20; i++) {
        char msg[16];
        int len = snprintf(msg, sizeof msg, "req-%d", i);
        OK(ls_dgram_server_send(c, (const uint8_t *)msg, (size_t)len));
        OK(ls_recv_from(u, 5000, buf, sizeof buf, &n, from, sizeof from, &fl, &tr));
        CHECK(n == (size_t)len && memcmp(buf, msg, n) == 0 && strcmp(from, local) == 0);
        OK(ls_send_to(u, buf, n, local));
        OK(ls_next_datagram(c, 5000, &k, buf, sizeof buf, &n, peer, sizeof peer, &pl));
        CHECK(k == LS_EVENT_DATAGRAM && n == (size_t)len && memcmp(buf, msg, n) == 0);
        CHECK(strcmp(peer, addr) == 0);
    }
    CHECK_RC(ls_next_datagram(c, 50, &k, buf, sizeof buf, &n, peer, sizeof peer, &pl),
             LS_ERR_TIMEOUT);
    OK(ls_close(d));
    OK(ls_close(c));
    OK(ls_close(u));
}

static void t_engine_client_events(void) {
    int64_t s = 0, c = 0, cfg = 0, v = 0;
    char addr[64], text[LS_ADDRESS_MAX];
    size_t n = 0;
    int reconnecting = 0, gave_up = 0, i, fd = -1;
    struct ev e;
    s = engine_listen(0, addr, sizeof addr);
    OK(ls_client_connect(addr, 0, &c));
    CHECK(ev_wait_kind(c, LS_EVENT_CONNECTED, 5000, &e));
    CHECK(e.client == 1 && e.len == strlen(addr) && memcmp(e.buf, addr, e.len) == 0);
    OK(ls_peer_address(c, text, sizeof text, &n));
    CHECK(strcmp(text, addr) == 0);
    OK(ls_engine_stats(c, LS_STAT_CONNECTIONS, &v));
    CHECK(v == 1);
    CHECK(ev_wait_kind(s, LS_EVENT_CONNECTED, 5000, &e));
    OK(ls_server_send(s, e.client, (const uint8_t *)"hi", 2));
    CHECK(ev_wait_kind(c, LS_EVENT_MESSAGE, 5000, &e) && ev_is(&e, LS_EVENT_MESSAGE, "hi"));
    CHECK(e.client == 1);
    OK(ls_client_send(c, (const uint8_t *)"ho", 2));
    CHECK(ev_wait_kind(s, LS_EVENT_MESSAGE, 5000, &e) && ev_is(&e, LS_EVENT_MESSAGE, "ho"));
    /* A graceful close: DISCONNECTED (CLOSED), then the final CLOSED. */
    OK(ls_client_close(c, 1000));
    CHECK(ev_wait_kind(c, LS_EVENT_DISCONNECTED, 5000, &e));
    CHECK(e.client == 1 && e.value == LS_REASON_CLOSED);
    ev_drain_to_closed(c);
    CHECK_RC(ls_client_send(c, (const uint8_t *)"x", 1), LS_ERR_CLOSED);
    CHECK_RC(ls_peer_address(c, text, sizeof text, &n), LS_ERR_CLOSED);
    OK(ls_engine_stats(c, LS_STAT_CONNECTIONS, &v));
    CHECK(v == 0);
    OK(ls_close(c));
    CHECK(ev_wait_kind(s, LS_EVENT_DISCONNECTED, 5000, &e));
    OK(ls_close(s));
    /* Nobody listens: retries with backoff, then gives up (client 0, reason ERROR). */
    OK(ls_engine_config_new(&cfg));
    OK(ls_engine_config_set(cfg, LS_ECFG_BACKOFF_MIN_MS, 20));
    OK(ls_engine_config_set(cfg, LS_ECFG_BACKOFF_MAX_MS, 40));
    OK(ls_engine_config_set(cfg, LS_ECFG_MAX_ATTEMPTS, 2));
    refused_address(&fd, addr, sizeof addr);
    OK(ls_client_connect(addr, cfg, &c));
    for (i = 0; i < 20; i++) {
        if (ev_next(c, 5000, &e) != LS_OK) break;
        if (e.kind == LS_EVENT_RECONNECTING) {
            CHECK(e.client == (uint64_t)reconnecting + 1); /* the attempt number */
            CHECK(e.value >= 0 && e.value <= 40);           /* the delay in ms */
            reconnecting++;
        }
        if (e.kind == LS_EVENT_DISCONNECTED) {
            CHECK(e.client == 0 && e.value == LS_REASON_ERROR);
            CHECK(e.len > 0 && memchr(e.buf, 'r', e.len) != NULL); /* "...refused..." */
            gave_up++;
        }
        if (e.kind == LS_EVENT_CLOSED) break;
    }
    CHECK(reconnecting >= 1 && gave_up == 1 && e.kind == LS_EVENT_CLOSED);
    OK(ls_engine_stats(c, LS_STAT_FAILED_ATTEMPTS, &v));
    CHECK(v >= 2);
    OK(ls_close(c));
    close(fd);
    OK(ls_close(cfg));
}

/* ls_shutdown_engine(): engine objects stop (their handles stay valid until ls_close), the blocking
 * layer keeps working, and a new engine object starts the engine again. */
static void t_engine_shutdown_and_restart(void) {
    int64_t s = 0, c = 0, v = 0, conn = 0;
    char addr[64];
    struct pair p;
    uint8_t b[8];
    size_t n = 0;
    struct ev e;
    s = engine_listen(0, addr, sizeof addr);
    OK(ls_client_connect(addr, 0, &c));
    CHECK(ev_wait_kind(c, LS_EVENT_CONNECTED, 5000, &e));
    pair_open(&p);
    OK(ls_shutdown_engine());
    OK(ls_shutdown_engine()); /* twice is harmless */
    OK(ls_shutdown());        /* the deprecated name still works */
    CHECK_RC(ls_client_send(c, (const uint8_t *)"x", 1), LS_ERR_CLOSED);
    CHECK_RC(ls_server_send(s, 1, (const uint8_t *)"x", 1), LS_ERR_CLOSED);
    ev_drain_to_closed(s);
    ev_drain_to_closed(c);
    OK(ls_engine_stats(s, LS_STAT_CONNECTIONS, &v));
    /* The blocking layer is untouched. */
    OK(ls_send_all(p.c, (const uint8_t *)"still", 5));
    OK(ls_recv_exact(p.a, 5000, b, 5));
    CHECK(memcmp(b, "still", 5) == 0);
    pair_close(&p);
    OK(ls_close(s));
    OK(ls_close(c));
    /* The engine starts again. */
    s = engine_listen(0, addr, sizeof addr);
    conn = framed_connect(addr);
    OK(ls_send_msg(conn, (const uint8_t *)"again", 5));
    CHECK(ev_wait_kind(s, LS_EVENT_MESSAGE, 5000, &e) && ev_is(&e, LS_EVENT_MESSAGE, "again"));
    OK(ls_close(conn));
    OK(ls_close(s));
    (void)n;
}

/* S13: 50 clients each send 100 framed messages; a server driven through ls_next_event echoes
 * them; every client gets its own 100 back, in order. */
#define S13_CLIENTS 50
#define S13_MESSAGES 100

struct echo_server {
    int64_t s;
    int echoed;
    int want;
    int errors;
};

static void *echo_server_main(void *arg) {
    struct echo_server *es = (struct echo_server *)arg;
    struct ev *e = (struct ev *)malloc(sizeof *e);
    double end = now_ms() + 60000;
    while (es->echoed < es->want && now_ms() < end) {
        int32_t rc = ev_next(es->s, 200, e);
        if (rc == LS_ERR_TIMEOUT) continue;
        if (rc != LS_OK) {
            es->errors++;
            break;
        }
        if (e->kind == LS_EVENT_MESSAGE) {
            if (ls_server_send(es->s, e->client, e->buf, e->len) != LS_OK) es->errors++;
            es->echoed++;
        }
    }
    free(e);
    return NULL;
}

static void s13_engine_50_clients_echo(void) {
    struct echo_server es;
    pthread_t th;
    int64_t conns[S13_CLIENTS];
    char addr[64], msg[64];
    uint8_t buf[64];
    size_t n = 0;
    int i, j, bad = 0;
    memset(&es, 0, sizeof es);
    es.s = engine_listen(0, addr, sizeof addr);
    es.want = S13_CLIENTS * S13_MESSAGES;
    pthread_create(&th, NULL, echo_server_main, &es);
    for (i = 0; i < S13_CLIENTS; i++) conns[i] = framed_connect(addr);
    for (j = 0; j < S13_MESSAGES; j++) {
        for (i = 0; i < S13_CLIENTS; i++) {
            int len = snprintf(msg, sizeof msg, "client %d message %d", i, j);
            if (ls_send_msg(conns[i], (const uint8_t *)msg, (size_t)len) != LS_OK) bad++;
        }
    }
    for (i = 0; i < S13_CLIENTS; i++) {
        for (j = 0; j < S13_MESSAGES; j++) {
            int len = snprintf(msg, sizeof msg, "client %d message %d", i, j);
            if (ls_recv_msg(conns[i], 20000, buf, sizeof buf, &n) != LS_OK || n != (size_t)len ||
                memcmp(buf, msg, n) != 0) {
                bad++;
                break;
            }
        }
    }
    CHECK(bad == 0);
    pthread_join(th, NULL);
    CHECK(es.echoed == es.want && es.errors == 0);
    for (i = 0; i < S13_CLIENTS; i++) OK(ls_close(conns[i]));
    OK(ls_close(es.s));
}

/* S14: a broadcast reaches each of 50 clients exactly once. */
static void s14_engine_broadcast_50(void) {
    int64_t s = 0, conns[S13_CLIENTS];
    char addr[64];
    uint8_t buf[64];
    size_t n = 0;
    int i, connected = 0, bad = 0;
    struct ev e;
    s = engine_listen(0, addr, sizeof addr);
    for (i = 0; i < S13_CLIENTS; i++) conns[i] = framed_connect(addr);
    while (connected < S13_CLIENTS && ev_wait_kind(s, LS_EVENT_CONNECTED, 10000, &e)) connected++;
    CHECK(connected == S13_CLIENTS);
    OK(ls_server_broadcast(s, (const uint8_t *)"news", 4, 0, &n));
    CHECK(n == S13_CLIENTS);
    OK(ls_server_broadcast(s, (const uint8_t *)"end", 3, 0, &n));
    CHECK(n == S13_CLIENTS);
    for (i = 0; i < S13_CLIENTS; i++) {
        /* "news" once, then "end": a duplicate would come before "end". */
        if (ls_recv_msg(conns[i], 10000, buf, sizeof buf, &n) != LS_OK || n != 4 ||
            memcmp(buf, "news", 4) != 0)
            bad++;
        if (ls_recv_msg(conns[i], 10000, buf, sizeof buf, &n) != LS_OK || n != 3 ||
            memcmp(buf, "end", 3) != 0)
            bad++;
    }
    CHECK(bad == 0);
    for (i = 0; i < S13_CLIENTS; i++) OK(ls_close(conns[i]));
    OK(ls_close(s));
}

/* S15: the server stops and restarts on the same port; the client reconnects, and what it
 * queued meanwhile arrives once, in order. */
static void s15_engine_client_reconnect(void) {
    int64_t cfg = 0, s1 = 0, s2 = 0, c = 0;
    char addr[64], msg[32];
    int i, reconnecting = 0, in_order = 0;
    double end;
    struct ev e;
    OK(ls_engine_config_new(&cfg));
    OK(ls_engine_config_set(cfg, LS_ECFG_BACKOFF_MIN_MS, 50));
    OK(ls_engine_config_set(cfg, LS_ECFG_BACKOFF_MAX_MS, 200));
    s1 = engine_listen(cfg, addr, sizeof addr);
    OK(ls_client_connect(addr, cfg, &c));
    CHECK(ev_wait_kind(c, LS_EVENT_CONNECTED, 5000, &e));
    CHECK(ev_wait_kind(s1, LS_EVENT_CONNECTED, 5000, &e));
    OK(ls_server_shutdown(s1, 0));
    OK(ls_close(s1));
    CHECK(ev_wait_kind(c, LS_EVENT_DISCONNECTED, 5000, &e));
    CHECK(e.client == 1);
    CHECK(e.value == LS_REASON_PEER_CLOSED || e.value == LS_REASON_RESET);
    for (i = 0; i < 20; i++) {
        int len = snprintf(msg, sizeof msg, "queued %d", i);
        OK(ls_client_send(c, (const uint8_t *)msg, (size_t)len));
    }
    sleep_ms(300); /* a few refused attempts */
    OK(ls_server_listen(addr, cfg, &s2));
    CHECK(ev_wait_kind(s2, LS_EVENT_CONNECTED, 10000, &e));
    for (i = 0; i < 20; i++) {
        int len = snprintf(msg, sizeof msg, "queued %d", i);
        if (ev_next(s2, 5000, &e) == LS_OK && e.kind == LS_EVENT_MESSAGE &&
            e.len == (size_t)len && memcmp(e.buf, msg, e.len) == 0)
            in_order++;
    }
    CHECK(in_order == 20);
    OK(ls_client_send(c, (const uint8_t *)"end", 3));
    OK(ev_next(s2, 5000, &e));
    CHECK(ev_is(&e, LS_EVENT_MESSAGE, "end")); /* nothing was sent twice */
    /* The client saw RECONNECTING and a second CONNECTED (connection number 2). */
    end = now_ms() + 5000;
    while (now_ms() < end) {
        if (ev_next(c, 100, &e) != LS_OK) continue;
        if (e.kind == LS_EVENT_RECONNECTING) reconnecting++;
        if (e.kind == LS_EVENT_CONNECTED) break;
    }
    CHECK(reconnecting >= 1 && e.kind == LS_EVENT_CONNECTED && e.client == 2);
    OK(ls_close(c));
    OK(ls_close(s2));
    OK(ls_close(cfg));
}

/* S16: a peer that stops answering (a raw socket never read) is declared dead with reason
 * HEARTBEAT_LOST within interval x misses + slack; the same for an engine client. */
#define S16_INTERVAL 200
#define S16_MISSES 3
#define S16_SLACK 1500

static void s16_engine_heartbeat_lost(void) {
    int64_t cfg = 0, s = 0, c = 0;
    char addr[64];
    int fd;
    int32_t port = 0;
    struct sockaddr_in sa;
    double t0, dt;
    struct peer pr;
    struct ev e;
    OK(ls_engine_config_new(&cfg));
    OK(ls_engine_config_set(cfg, LS_ECFG_HEARTBEAT_INTERVAL_MS, S16_INTERVAL));
    OK(ls_engine_config_set(cfg, LS_ECFG_HEARTBEAT_MISSES, S16_MISSES));
    OK(ls_engine_config_set(cfg, LS_ECFG_RECONNECT, 0));
    /* Server side: a plain socket connects and then says nothing. */
    s = engine_listen(cfg, addr, sizeof addr);
    OK(ls_local_port(s, &port));
    fd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons((uint16_t)port);
    CHECK(connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0);
    CHECK(ev_wait_kind(s, LS_EVENT_CONNECTED, 5000, &e));
    t0 = now_ms();
    CHECK(ev_wait_kind(s, LS_EVENT_DISCONNECTED, S16_INTERVAL * S16_MISSES + 5000, &e));
    dt = now_ms() - t0;
    CHECK(e.value == LS_REASON_HEARTBEAT_LOST);
    CHECK(ev_is(&e, LS_EVENT_DISCONNECTED, "heartbeat lost"));
    CHECK(dt >= S16_INTERVAL * (S16_MISSES - 1) && dt <= S16_INTERVAL * S16_MISSES + S16_SLACK);
    close(fd);
    OK(ls_close(s));
    /* Client side: a plain C server accepts and never answers. */
    CHECK(peer_start(&pr, peer_silent, NULL) == 0);
    OK(ls_client_connect(pr.addr, cfg, &c));
    CHECK(ev_wait_kind(c, LS_EVENT_CONNECTED, 5000, &e));
    t0 = now_ms();
    CHECK(ev_wait_kind(c, LS_EVENT_DISCONNECTED, S16_INTERVAL * S16_MISSES + 5000, &e));
    dt = now_ms() - t0;
    CHECK(e.value == LS_REASON_HEARTBEAT_LOST);
    CHECK(dt >= S16_INTERVAL * (S16_MISSES - 1) && dt <= S16_INTERVAL * S16_MISSES + S16_SLACK);
    ev_drain_to_closed(c); /* no reconnect configured */
    OK(ls_close(c));
    peer_join(&pr);
    OK(ls_close(cfg));
}

/* S17 for the engine: ls_close, ls_server_shutdown, ls_client_close and ls_shutdown from
 * another thread wake a thread blocked in ls_next_event. */
struct waiter {
    int64_t h;
    int32_t rc;
    int32_t last_kind;
    double returned_at;
};

static void *wait_events(void *arg) {
    struct waiter *w = (struct waiter *)arg;
    struct ev *e = (struct ev *)malloc(sizeof *e);
    for (;;) {
        int32_t rc = ev_next(w->h, LS_TIMEOUT_FOREVER, e);
        if (rc != LS_OK) {
            w->rc = rc;
            break;
        }
        w->last_kind = e->kind;
    }
    w->returned_at = now_ms();
    free(e);
    return NULL;
}

static void start_waiter(struct waiter *w, int64_t h, pthread_t *th) {
    w->h = h;
    w->rc = 1;
    w->last_kind = 0;
    pthread_create(th, NULL, wait_events, w);
    sleep_ms(150);
}

static void s17_engine_close_wakes_next_event(void) {
    struct waiter w;
    pthread_t th;
    int64_t s = 0, c = 0;
    char addr[64];
    double t0;
    /* ls_close of a server: LS_ERR_CLOSED promptly. */
    s = engine_listen(0, addr, sizeof addr);
    start_waiter(&w, s, &th);
    t0 = now_ms();
    OK(ls_close(s));
    pthread_join(th, NULL);
    CHECK_RC(w.rc, LS_ERR_CLOSED);
    CHECK(w.last_kind == 0); /* no final event after ls_close: the handle is gone (as in Java) */
    CHECK(w.returned_at - t0 < 1000);
    /* ls_server_shutdown: the waiter takes the final CLOSED event, then LS_ERR_CLOSED. */
    s = engine_listen(0, addr, sizeof addr);
    start_waiter(&w, s, &th);
    t0 = now_ms();
    OK(ls_server_shutdown(s, 0));
    pthread_join(th, NULL);
    CHECK_RC(w.rc, LS_ERR_CLOSED);
    CHECK(w.last_kind == LS_EVENT_CLOSED);
    CHECK(w.returned_at - t0 < 1000);
    OK(ls_close(s));
    /* ls_client_close on a client that never connects (nobody listens; it keeps retrying). */
    OK(ls_client_connect(addr, 0, &c));
    start_waiter(&w, c, &th);
    t0 = now_ms();
    OK(ls_client_close(c, 0));
    pthread_join(th, NULL);
    CHECK_RC(w.rc, LS_ERR_CLOSED);
    CHECK(w.last_kind == LS_EVENT_CLOSED);
    CHECK(w.returned_at - t0 < 1000);
    OK(ls_close(c));
    /* ls_shutdown_engine() from another thread stops everything and wakes the waiter. */
    s = engine_listen(0, addr, sizeof addr);
    start_waiter(&w, s, &th);
    t0 = now_ms();
    OK(ls_shutdown_engine());
    pthread_join(th, NULL);
    CHECK_RC(w.rc, LS_ERR_CLOSED);
    CHECK(w.last_kind == LS_EVENT_CLOSED);
    CHECK(w.returned_at - t0 < 2000);
    OK(ls_close(s));
    /* A datagram server closed while waited on. */
    OK(ls_dgram_server_bind("127.0.0.1:0", 0, &s));
    start_waiter(&w, s, &th);
    t0 = now_ms();
    OK(ls_close(s));
    pthread_join(th, NULL);
    CHECK_RC(w.rc, LS_ERR_CLOSED);
    CHECK(w.last_kind == 0);
    CHECK(w.returned_at - t0 < 1000);
}

/* ------------------------------------------------------------------------------------------ */
/* The bad-input catalogue (tests-data/bad_inputs.json): every row that lists "c"              */
/* ------------------------------------------------------------------------------------------ */

/* Each row runs in a child process (this program run again with --bad-input-row ID), with a
 * deadline: a crash or a hang fails that row and the others still run. The outcome of a row is
 * an LS_* code (LS_OK included), or BI_DISCONNECTED + an LS_REASON_* (engine rows). With
 * LS_BAD_INPUTS_INLINE=1 the rows that are not pending run in this process instead (the
 * valgrind run: memcheck then watches every row); LS_BAD_INPUTS_VERBOSE=1 prints every row. */

static const char *g_argv0 = "test_c";

static char *bi_text(const bi_val *inp, const char *key) {
    size_t n = 0;
    return bi_bytes(bi_get(inp, key), &n);
}

/* timeout_ms of the input (int32), `dflt` when absent; 0 in *ok when it is not one. */
static int32_t bi_timeout(const bi_val *inp, int32_t dflt, int *ok) {
    int64_t t;
    if (bi_has(inp, "timeout_s")) *ok = 0;
    t = bi_i64(inp, "timeout_ms", dflt, ok);
    if (t < INT32_MIN || t > INT32_MAX) *ok = 0;
    return (int32_t)t;
}

/* A connected TCP pair over loopback: *c the client, *a the accepted side. */
static int32_t bi_pair(int64_t *c, int64_t *a) {
    int64_t l = 0;
    int32_t port = 0, rc;
    char addr[64];
    *c = *a = 0;
    rc = ls_listen("127.0.0.1:0", 0, &l);
    if (rc == LS_OK) rc = ls_local_port(l, &port);
    snprintf(addr, sizeof addr, "127.0.0.1:%d", (int)port);
    if (rc == LS_OK) rc = ls_tcp_connect(addr, 10000, c);
    if (rc == LS_OK) rc = ls_accept(l, 10000, a);
    ls_close(l);
    return rc;
}

static void bi_close_pair(int64_t c, int64_t a) {
    ls_close(c);
    ls_close(a);
}

/* Applies a framing spec to handle h (a connection or an engine config). */
static int32_t bi_framing(int64_t h, const bi_val *f) {
    const char *kind = bi_str(f, "kind");
    int ok = 1;
    if (kind == NULL) return BI_NO_EXECUTOR;
    if (strcmp(kind, "raw") == 0) return ls_set_framing_raw(h);
    if (strcmp(kind, "length") == 0) {
        int64_t width = bi_i64(f, "width", 4, &ok);
        int64_t be = bi_has(f, "big_endian_int") ? bi_i64(f, "big_endian_int", 1, &ok)
                                                 : bi_i64(f, "big_endian", 1, &ok);
        uint64_t offset = bi_u64(f, "offset", 0, &ok);
        uint64_t header = bi_u64(f, "header_len", offset + (uint64_t)(width > 0 ? width : 0), &ok);
        int64_t adj = bi_i64(f, "adjustment", 0, &ok);
        uint64_t max = bi_u64(f, "max_len", 0, &ok);
        int64_t keep = bi_has(f, "keep_header_int") ? bi_i64(f, "keep_header_int", 0, &ok)
                                                    : bi_i64(f, "keep_header", 0, &ok);
        if (bi_has(f, "length_bits") || bi_has(f, "flag") || bi_has(f, "byteorder")) return BI_NO_EXECUTOR;
        if (!ok || width < INT32_MIN || width > INT32_MAX) return BI_NO_EXECUTOR;
        return ls_set_framing_length_ex(h, (int32_t)width, (int32_t)be, (size_t)offset, (size_t)header,
                                        adj, (size_t)max, (int32_t)keep);
    }
    if (strcmp(kind, "delimited") == 0) {
        size_t dlen = 0;
        char *d = bi_bytes(bi_get(f, "delimiter"), &dlen);
        uint64_t max = bi_u64(f, "max_len", 0, &ok);
        int64_t keep = bi_has(f, "keep_int") ? bi_i64(f, "keep_int", 0, &ok) : bi_i64(f, "keep", 0, &ok);
        int32_t rc;
        if (bi_has(f, "dlen")) dlen = (size_t)bi_u64(f, "dlen", 0, &ok);
        if (d == NULL || !ok) {
            free(d);
            return BI_NO_EXECUTOR;
        }
        rc = ls_set_framing_delimited(h, (const uint8_t *)d, dlen, (size_t)max, (int32_t)keep);
        free(d);
        return rc;
    }
    if (strcmp(kind, "fixed") == 0) {
        uint64_t size = bi_u64(f, "size", 0, &ok);
        return ok ? ls_set_framing_fixed(h, (size_t)size) : BI_NO_EXECUTOR;
    }
    if (strcmp(kind, "hp_pack") == 0) {
        int64_t flag = bi_i64(f, "flag", 0, &ok);
        uint64_t max = bi_u64(f, "max_len", 0, &ok);
        if (!ok || flag < INT32_MIN || flag > INT32_MAX) return BI_NO_EXECUTOR;
        return ls_set_framing_hp_pack(h, (int32_t)flag, (size_t)max);
    }
    return BI_NO_EXECUTOR;
}

/* Applies engine settings to a new config; returns the first failure. */
static int32_t bi_engine_config(const bi_val *settings, int64_t *cfg) {
    size_t i;
    int32_t rc = ls_engine_config_new(cfg);
    if (rc != LS_OK) return BI_SETUP_FAILED;
    for (i = 0; settings && i < settings->n; i++) {
        const char *name = settings->keys[i];
        if (bi_ecfg_key(name) > 0) {
            int ok = 1;
            int64_t v = bi_i64(settings, name, 0, &ok);
            if (!ok) return BI_NO_EXECUTOR;
            rc = ls_engine_config_set(*cfg, bi_ecfg_key(name), v);
            if (rc != LS_OK) return rc;
            continue;
        }
        if (strcmp(name, "address") == 0 || strcmp(name, "heartbeat_pong") == 0) continue;
        if (strcmp(name, "heartbeat_ping") == 0) {
            size_t pl = 0, ql = 7;
            char *ping = bi_bytes(&settings->kids[i], &pl);
            char *pong = bi_has(settings, "heartbeat_pong") ? bi_bytes(bi_get(settings, "heartbeat_pong"), &ql) : NULL;
            rc = ls_engine_config_set_heartbeat_payloads(*cfg, (const uint8_t *)ping, pl,
                                                         (const uint8_t *)(pong ? pong : "\0LSPONG"), ql);
            free(ping);
            free(pong);
            if (rc != LS_OK) return rc;
        } else if (strcmp(name, "framing") == 0) {
            rc = bi_framing(*cfg, &settings->kids[i]);
            if (rc != LS_OK) return rc;
        } else {
            return BI_NO_EXECUTOR;
        }
    }
    return LS_OK;
}

/* Creates the engine object of `kind` with the row's settings. */
static int32_t bi_engine_object(const char *kind, const bi_val *settings, int64_t *obj) {
    int64_t cfg = 0;
    char *addr = bi_text(settings, "address");
    int32_t rc = bi_engine_config(settings, &cfg);
    *obj = 0;
    if (rc == LS_OK) {
        if (strcmp(kind, "server") == 0) rc = ls_server_listen(addr ? addr : "127.0.0.1:0", cfg, obj);
        else if (strcmp(kind, "client") == 0) rc = ls_client_connect(addr ? addr : "127.0.0.1:1", cfg, obj);
        else if (strcmp(kind, "dgram") == 0) rc = ls_dgram_server_bind(addr ? addr : "127.0.0.1:0", cfg, obj);
        else rc = BI_NO_EXECUTOR;
    }
    ls_close(cfg);
    free(addr);
    return rc;
}

/* Waits for an event of `kind` (10 s); LS_OK with *e filled, or an error. */
static int32_t bi_wait_event(int64_t h, int32_t kind, struct ev *e) {
    double end = now_ms() + 10000;
    while (now_ms() < end) {
        int32_t rc = ev_next(h, 100, e);
        if (rc == LS_OK && e->kind == kind) return LS_OK;
        if (rc != LS_OK && rc != LS_ERR_TIMEOUT) return rc;
    }
    return LS_ERR_TIMEOUT;
}

/* A server and a raw (unframed) connection to it, its client id in *id. */
static int32_t bi_server_with_client(int64_t s, int64_t *conn, uint64_t *id) {
    int32_t port = 0, rc;
    char addr[64];
    struct ev e;
    rc = ls_local_port(s, &port);
    snprintf(addr, sizeof addr, "127.0.0.1:%d", (int)port);
    if (rc == LS_OK) rc = ls_tcp_connect(addr, 10000, conn);
    if (rc == LS_OK) rc = bi_wait_event(s, LS_EVENT_CONNECTED, &e);
    *id = e.client;
    return rc == LS_OK ? LS_OK : BI_SETUP_FAILED;
}

static int32_t bi_handle(const bi_val *inp) {
    const char *which = bi_str(inp, "handle"), *call = bi_str(inp, "call");
    int64_t h = 0, out = 0, v = 0;
    int32_t rc, t = 0, k = 0;
    uint8_t buf[16] = {0};
    size_t n = 0;
    uint64_t cl = 0;
    int live = 0;
    if (!which || !call) return BI_NO_EXECUTOR;
    if (strcmp(which, "zero") == 0) h = 0;
    else if (strcmp(which, "random") == 0) h = 123456789;
    else if (strcmp(which, "negative") == 0) h = -1;
    else if (strcmp(which, "int64_max") == 0) h = INT64_MAX;
    else if (strcmp(which, "closed") == 0) rc = ls_udp_bind("127.0.0.1:0", &h), rc == LS_OK ? ls_close(h) : 0;
    else if (strcmp(which, "closed_server") == 0) rc = ls_server_listen("127.0.0.1:0", 0, &h), rc == LS_OK ? ls_close(h) : 0;
    else if (strcmp(which, "closed_config") == 0) rc = ls_engine_config_new(&h), rc == LS_OK ? ls_close(h) : 0;
    else if (strcmp(which, "listener") == 0) live = ls_listen("127.0.0.1:0", 0, &h) == LS_OK;
    else if (strcmp(which, "options") == 0) live = ls_options_new(&h) == LS_OK;
    else if (strcmp(which, "transfer") == 0) live = ls_transfer_sender("/dev/null", NULL, 1, &h) == LS_OK;
    else if (strcmp(which, "closed_transfer") == 0) rc = ls_transfer_receiver("/tmp", 0, 0, &h), rc == LS_OK ? ls_close(h) : 0;
    else if (strcmp(which, "connection") == 0) {
        int64_t a = 0;
        if (bi_pair(&h, &a) != LS_OK) return BI_SETUP_FAILED;
        ls_close(a);
        live = 1;
    } else return BI_NO_EXECUTOR;
    if (strcmp(call, "ls_recv") == 0) rc = ls_recv(h, 0, buf, sizeof buf, &n);
    else if (strcmp(call, "ls_send") == 0) rc = ls_send(h, buf, 1, &n);
    else if (strcmp(call, "ls_send_msg") == 0) rc = ls_send_msg(h, buf, 1);
    else if (strcmp(call, "ls_close") == 0) rc = ls_close(h), live = 0;
    else if (strcmp(call, "ls_set_timeout") == 0) rc = ls_set_timeout(h, 100);
    else if (strcmp(call, "ls_next_event") == 0) rc = ls_next_event(h, 0, &k, &cl, &v, buf, sizeof buf, &n);
    else if (strcmp(call, "ls_server_send") == 0) rc = ls_server_send(h, 1, buf, 1);
    else if (strcmp(call, "ls_engine_config_set") == 0) rc = ls_engine_config_set(h, LS_ECFG_MAX_CLIENTS, 1);
    else if (strcmp(call, "ls_transfer_run") == 0) rc = ls_transfer_run(h, h);
    else if (strcmp(call, "ls_transfer_step") == 0) rc = ls_transfer_step(h, h, &t);
    else if (strcmp(call, "ls_transfer_progress") == 0) rc = ls_transfer_progress(h, &cl, &cl, &t);
    else if (strcmp(call, "ls_transfer_cancel") == 0) rc = ls_transfer_cancel(h);
    else if (strcmp(call, "ls_transfer_sha256") == 0) rc = ls_transfer_sha256(h, (char *)buf, sizeof buf, &n);
    else if (strcmp(call, "ls_options_set_proxy") == 0) rc = ls_options_set_proxy(h, "socks5://127.0.0.1:1080");
    else if (strcmp(call, "ls_engine_config_set_proxy") == 0) rc = ls_engine_config_set_proxy(h, "socks5://127.0.0.1:1080");
    else if (strcmp(call, "ls_send_fds") == 0) rc = ls_send_fds(h, buf, 1, NULL, 0);
    else if (strcmp(call, "ls_recv_fds") == 0) rc = ls_recv_fds(h, 0, buf, sizeof buf, &n, NULL, 0, &n);
    else if (strcmp(call, "ls_peer_credentials") == 0) {
        uint64_t u1 = 0, u2 = 0;
        rc = ls_peer_credentials(h, &t, &u1, &u2);
    } else rc = BI_NO_EXECUTOR;
    (void)t;
    (void)out;
    if (live) ls_close(h);
    return rc;
}

/* NULL for one pointer argument of one function (the others valid). */
static int32_t bi_null_pointer(const bi_val *inp) {
    const char *fn = bi_str(inp, "function"), *arg = bi_str(inp, "arg");
    int64_t c = 0, a = 0, d = 0, s = 0, cl = 0, cfg = 0, out = 0, v = 0;
    uint8_t b[64] = {0};
    char peer[LS_ADDRESS_MAX], addr[64];
    size_t n = 0, pl = 0, lens[4] = {1, 1, 1, 1};
    int32_t tr = 0, k = 0, i32 = 0, port = 0;
    uint64_t u = 0, ids[2] = {1, 2};
    int32_t rc = BI_NO_EXECUTOR;
#define ARG(name, value) (strcmp(arg, name) == 0 ? NULL : (value))
    if (!fn || !arg) return BI_NO_EXECUTOR;
    if (bi_pair(&c, &a) != LS_OK || ls_udp_bind("127.0.0.1:0", &d) != LS_OK ||
        ls_server_listen("127.0.0.1:0", 0, &s) != LS_OK || ls_client_connect("127.0.0.1:1", 0, &cl) != LS_OK ||
        ls_engine_config_new(&cfg) != LS_OK || ls_local_port(s, &port) != LS_OK) {
        rc = BI_SETUP_FAILED;
        goto done;
    }
    snprintf(addr, sizeof addr, "127.0.0.1:%d", (int)port);
    if (strcmp(fn, "ls_tcp_connect") == 0) rc = ls_tcp_connect(ARG("address", "127.0.0.1:1"), 100, ARG("out_handle", &out));
    else if (strcmp(fn, "ls_listen") == 0) rc = ls_listen(ARG("address", "127.0.0.1:0"), 0, ARG("out_handle", &out));
    else if (strcmp(fn, "ls_accept") == 0) {
        int64_t l = 0;
        if (ls_listen("127.0.0.1:0", 0, &l) != LS_OK) rc = BI_SETUP_FAILED;
        else rc = ls_accept(l, 0, ARG("out_handle", &out)), ls_close(l);
    } else if (strcmp(fn, "ls_udp_bind") == 0) rc = ls_udp_bind(ARG("address", "127.0.0.1:0"), ARG("out_handle", &out));
    else if (strcmp(fn, "ls_send") == 0) rc = ls_send(c, ARG("buf", b), 1, ARG("out_sent", &n));
    else if (strcmp(fn, "ls_recv") == 0) rc = ls_recv(a, 0, ARG("buf", b), sizeof b, ARG("out_len", &n));
    else if (strcmp(fn, "ls_recv_until") == 0)
        rc = ls_recv_until(a, 0, ARG("delim", (const uint8_t *)"\n"), 1, ARG("buf", b), sizeof b, ARG("out_len", &n));
    else if (strcmp(fn, "ls_send_msg") == 0) rc = ls_send_msg(c, ARG("buf", b), 3);
    else if (strcmp(fn, "ls_send_msgs") == 0) rc = ls_send_msgs(c, ARG("buf", b), ARG("lens", lens), 2);
    else if (strcmp(fn, "ls_recv_msg") == 0) rc = ls_recv_msg(a, 0, ARG("buf", b), sizeof b, ARG("out_len", &n));
    else if (strcmp(fn, "ls_recv_msgs") == 0)
        rc = ls_recv_msgs(a, 0, ARG("buf", b), sizeof b, 2, ARG("out_lens", lens), ARG("out_count", &n));
    else if (strcmp(fn, "ls_send_to") == 0) rc = ls_send_to(d, ARG("buf", b), 1, ARG("address", "127.0.0.1:9"));
    else if (strcmp(fn, "ls_recv_from") == 0)
        rc = ls_recv_from(d, 0, ARG("buf", b), sizeof b, ARG("out_len", &n), ARG("peer_buf", peer), sizeof peer,
                          ARG("out_peer_len", &pl), ARG("out_truncated", &tr));
    else if (strcmp(fn, "ls_local_address") == 0) rc = ls_local_address(c, ARG("buf", peer), sizeof peer, ARG("out_len", &n));
    else if (strcmp(fn, "ls_get_option") == 0) rc = ls_get_option(c, LS_OPT_NODELAY, ARG("out_value", &v));
    else if (strcmp(fn, "ls_get_timeout") == 0) rc = ls_get_timeout(c, ARG("out_timeout_ms", &i32));
    else if (strcmp(fn, "ls_send_file") == 0) rc = ls_send_file(c, ARG("path", "/dev/null"), 0, -1, ARG("out_sent", &u));
    else if (strcmp(fn, "ls_recv_file") == 0)
        rc = ls_recv_file(a, ARG("path", "/tmp/libsock-bad-inputs-never"), 1, ARG("out_received", &u));
    else if (strcmp(fn, "ls_engine_config_new") == 0) {
        rc = ls_engine_config_new(ARG("out_handle", &out));
        if (rc == LS_OK) ls_close(out);
    } else if (strcmp(fn, "ls_engine_config_get") == 0) rc = ls_engine_config_get(cfg, LS_ECFG_MAX_CLIENTS, ARG("out_value", &v));
    else if (strcmp(fn, "ls_engine_config_set_heartbeat_payloads") == 0)
        rc = ls_engine_config_set_heartbeat_payloads(cfg, ARG("ping", (const uint8_t *)"PING"), 4,
                                                     ARG("pong", (const uint8_t *)"PONG"), 4);
    else if (strcmp(fn, "ls_server_listen") == 0) rc = ls_server_listen(ARG("address", "127.0.0.1:0"), 0, ARG("out_handle", &out));
    else if (strcmp(fn, "ls_server_send") == 0) rc = ls_server_send(s, 1, ARG("buf", b), 1);
    else if (strcmp(fn, "ls_server_send_many") == 0)
        rc = ls_server_send_many(s, ARG("clients", ids), 2, ARG("buf", b), 1, ARG("out_sent", &n));
    else if (strcmp(fn, "ls_server_broadcast") == 0) rc = ls_server_broadcast(s, ARG("buf", b), 1, 0, ARG("out_sent", &n));
    else if (strcmp(fn, "ls_server_clients") == 0) rc = ls_server_clients(s, ARG("ids", ids), 2, ARG("out_count", &n));
    else if (strcmp(fn, "ls_client_connect") == 0) rc = ls_client_connect(ARG("address", addr), 0, ARG("out_handle", &out));
    else if (strcmp(fn, "ls_client_send") == 0) rc = ls_client_send(cl, ARG("buf", b), 1);
    else if (strcmp(fn, "ls_transfer_sender") == 0) {
        rc = ls_transfer_sender(ARG("path", "/dev/null"), NULL, 1, ARG("out_handle", &out));
        if (rc == LS_OK) ls_close(out);
    } else if (strcmp(fn, "ls_transfer_receiver") == 0) {
        rc = ls_transfer_receiver(ARG("dest", "/tmp"), 0, 0, ARG("out_handle", &out));
        if (rc == LS_OK) ls_close(out);
    } else if (strcmp(fn, "ls_transfer_step") == 0 || strcmp(fn, "ls_transfer_progress") == 0 ||
               strcmp(fn, "ls_transfer_info") == 0 || strcmp(fn, "ls_transfer_path") == 0) {
        int64_t t = 0;
        uint64_t u2 = 0, u3 = 0;
        if (ls_transfer_sender("/dev/null", NULL, 1, &t) != LS_OK) rc = BI_SETUP_FAILED;
        else if (fn[12] == 's') rc = ls_transfer_step(t, c, ARG("out_state", &k));
        else if (fn[12] == 'p' && fn[13] == 'r')
            rc = ls_transfer_progress(t, ARG("out_done", &u), ARG("out_total", &u2), ARG("out_state", &k));
        else if (fn[12] == 'i')
            rc = ls_transfer_info(t, ARG("out_size", &u), ARG("out_version", &k), ARG("out_offered", &u2),
                                  ARG("out_resumed_at", &u3));
        else rc = ls_transfer_path(t, ARG("buf", peer), sizeof peer, ARG("out_len", &n));
        ls_close(t);
    } else if (strcmp(fn, "ls_options_set_proxy") == 0) {
        int64_t o = 0;
        if (ls_options_new(&o) != LS_OK) rc = BI_SETUP_FAILED;
        else rc = ls_options_set_proxy(o, ARG("url", "socks5://127.0.0.1:1080")), ls_close(o);
    } else if (strcmp(fn, "ls_engine_config_set_proxy") == 0)
        rc = ls_engine_config_set_proxy(cfg, ARG("url", "socks5://127.0.0.1:1080"));
    else if (strcmp(fn, "ls_send_fds") == 0) {
        int32_t fd0 = 0;
        rc = ls_send_fds(c, ARG("buf", b), 1, ARG("fds", &fd0), 1);
    } else if (strcmp(fn, "ls_recv_fds") == 0) {
        int32_t slots[2];
        size_t nf = 0;
        rc = ls_recv_fds(a, 0, ARG("buf", b), sizeof b, ARG("out_len", &n), ARG("fds", slots), 2,
                         ARG("out_nfds", &nf));
    } else if (strcmp(fn, "ls_peer_credentials") == 0) {
        uint64_t u1 = 0, u2 = 0;
        rc = ls_peer_credentials(a, ARG("out_pid", &i32), ARG("out_uid", &u1), ARG("out_gid", &u2));
    }
    else if (strcmp(fn, "ls_next_event") == 0)
        rc = ls_next_event(s, 0, ARG("out_kind", &k), ARG("out_client", &u), ARG("out_value", &v), ARG("buf", b), sizeof b,
                           ARG("out_len", &n));
    else if (strcmp(fn, "ls_pending_events") == 0) rc = ls_pending_events(s, ARG("out_count", &n));
    else if (strcmp(fn, "ls_notify_fd") == 0) rc = ls_notify_fd(s, ARG("out_fd", &i32));
    else if (strcmp(fn, "ls_engine_stats") == 0) rc = ls_engine_stats(s, LS_STAT_BYTES_IN, ARG("out_value", &v));
#undef ARG
    if (rc == LS_OK && out != 0) ls_close(out);
done:
    bi_close_pair(c, a);
    ls_close(d);
    ls_close(s);
    ls_close(cl);
    ls_close(cfg);
    return rc;
}

static int32_t bi_size_arg(const bi_val *inp) {
    const char *fn = bi_str(inp, "function");
    const char *vs = bi_str(inp, "value");
    int ok = 1;
    size_t val = vs && strcmp(vs, "SIZE_MAX") == 0 ? (size_t)-1 : (size_t)bi_u64(inp, "value", 0, &ok);
    int64_t c = 0, a = 0, d = 0, s = 0, v = 0;
    uint8_t b[64] = {0};
    char peer[LS_ADDRESS_MAX];
    size_t n = 0, pl = 0, lens[2] = {1, 1};
    int32_t tr = 0, k = 0, rc = BI_NO_EXECUTOR;
    uint64_t cl = 0;
    if (!fn || !ok) return BI_NO_EXECUTOR;
    if (bi_pair(&c, &a) != LS_OK || ls_udp_bind("127.0.0.1:0", &d) != LS_OK ||
        ls_server_listen("127.0.0.1:0", 0, &s) != LS_OK) {
        rc = BI_SETUP_FAILED;
    } else if (strcmp(fn, "ls_send") == 0) rc = ls_send(c, b, val, &n);
    else if (strcmp(fn, "ls_send_msg") == 0) rc = ls_send_msg(c, b, val);
    else if (strcmp(fn, "ls_send_msgs") == 0) rc = ls_send_msgs(c, b, lens, val);
    else if (strcmp(fn, "ls_recv") == 0) rc = ls_recv(a, 0, b, val, &n);
    else if (strcmp(fn, "ls_recv_from_peer_cap") == 0) rc = ls_recv_from(d, 0, b, sizeof b, &n, peer, val, &pl, &tr);
    else if (strcmp(fn, "ls_server_send") == 0) rc = ls_server_send(s, 1, b, val);
    else if (strcmp(fn, "ls_next_event") == 0) rc = ls_next_event(s, 0, &k, &cl, &v, b, val, &n);
    bi_close_pair(c, a);
    ls_close(d);
    ls_close(s);
    return rc;
}

/* A TLS config with one setting of the row ("side", "setting", "value"; no setting: nothing),
 * then built by attaching it to an engine config (ls_engine_config_set_tls builds at once): the
 * outcome of the setter, else of the build. A server config gets a certificate first (unless
 * the row sets one or only builds), so that the build judges the row's setting. */
static int32_t bi_tls_config(const bi_val *inp) {
    const char *side = bi_str(inp, "side");
    const char *setting = bi_str(inp, "setting");
    const bi_val *value = bi_get(inp, "value");
    int64_t t = 0, cfg = 0;
    int32_t rc;
    int server, ok = 1;
    size_t n = 0, i;
    char *s = NULL;
    if (side == NULL) return BI_NO_EXECUTOR;
    server = strcmp(side, "server") == 0;
    rc = server ? ls_tls_server_config_new(&t) : ls_tls_client_config_new(&t);
    if (rc != LS_OK) return BI_SETUP_FAILED;
    if (server && setting != NULL && strcmp(setting, "cert_pem") != 0) {
        static uint8_t cert[4096], key[4096];
        size_t cl = 0, kl = 0;
        if (ls_tls_self_signed("localhost", cert, sizeof cert, &cl, key, sizeof key, &kl) != LS_OK ||
            ls_tls_set_cert_pem(t, cert, cl, key, kl) != LS_OK) {
            ls_close(t);
            return BI_SETUP_FAILED;
        }
    }
    if (setting == NULL) {
        rc = LS_OK;
    } else if (strcmp(setting, "pin_sha256") == 0 || strcmp(setting, "server_name") == 0) {
        s = bi_bytes(value, &n);
        if (s == NULL) rc = BI_NO_EXECUTOR;
        else if (setting[0] == 'p') rc = ls_tls_add_pin(t, s);
        else rc = ls_tls_set_server_name(t, s);
    } else if (strcmp(setting, "ca_pem") == 0) {
        s = bi_bytes(value, &n);
        rc = s == NULL ? BI_NO_EXECUTOR : ls_tls_set_ca_pem(t, (const uint8_t *)s, n);
    } else if (strcmp(setting, "alpn") == 0) {
        rc = value != NULL && value->type == BI_ARR ? LS_OK : BI_NO_EXECUTOR;
        for (i = 0; rc == LS_OK && i < value->n; i++) {
            s = bi_bytes(&value->kids[i], &n);
            rc = s == NULL ? BI_NO_EXECUTOR : ls_tls_add_alpn(t, s);
            free(s);
            s = NULL;
        }
    } else if (strcmp(setting, "handshake_timeout_ms") == 0) {
        int64_t ms = bi_i64(inp, "value", 0, &ok);
        rc = !ok || ms < INT32_MIN || ms > INT32_MAX ? BI_NO_EXECUTOR
                                                     : ls_tls_set_handshake_timeout(t, (int32_t)ms);
    } else if (strcmp(setting, "cert_pem") == 0) {
        size_t kl = 0;
        char *k = bi_text(value, "key");
        s = bi_bytes(bi_get(value, "cert"), &n);
        if (k != NULL) kl = strlen(k);
        rc = s == NULL || k == NULL ? BI_NO_EXECUTOR
                                    : ls_tls_set_cert_pem(t, (const uint8_t *)s, n, (const uint8_t *)k, kl);
        free(k);
    } else if (strcmp(setting, "client_auth") == 0) {
        s = bi_bytes(value, &n);
        if (s == NULL) rc = BI_NO_EXECUTOR;
        else if (strcmp(s, "required") == 0) rc = ls_tls_set_client_auth(t, LS_TLS_CLIENT_AUTH_REQUIRED, NULL, 0);
        else if (strcmp(s, "optional") == 0) rc = ls_tls_set_client_auth(t, LS_TLS_CLIENT_AUTH_OPTIONAL, NULL, 0);
        else rc = BI_NO_EXECUTOR;
    } else {
        rc = BI_NO_EXECUTOR;
    }
    free(s);
    if (rc == LS_OK) {
        if (ls_engine_config_new(&cfg) != LS_OK) rc = BI_SETUP_FAILED;
        else rc = ls_engine_config_set_tls(cfg, t);
        ls_close(cfg);
    }
    ls_close(t);
    return rc;
}

/* A connected Unix stream pair: *c the client, *a the accepted side. */
static int32_t bi_unix_pair(int64_t *c, int64_t *a) {
    int64_t l = 0;
    int32_t rc;
    char path[96], addr[112];
    *c = *a = 0;
    snprintf(path, sizeof path, "/tmp/libsock-bi-unix-%d.sock", (int)getpid());
    snprintf(addr, sizeof addr, "unix:%s", path);
    unlink(path);
    rc = ls_listen(addr, 0, &l);
    if (rc == LS_OK) rc = ls_tcp_connect(addr, 10000, c);
    if (rc == LS_OK) rc = ls_accept(l, 10000, a);
    ls_close(l);
    unlink(path);
    return rc;
}

/* proxy_connect {proxy, address, object}: connect to address through the proxy URL. */
static int32_t bi_proxy_connect(const bi_val *inp) {
    char *proxy = bi_text(inp, "proxy"), *addr = bi_text(inp, "address");
    const char *obj = bi_str(inp, "object");
    int64_t o = 0, h = 0;
    int32_t rc;
    if (!proxy || !addr || !obj) rc = BI_NO_EXECUTOR;
    else if (strcmp(obj, "client") == 0) {
        if (ls_engine_config_new(&o) != LS_OK || ls_engine_config_set(o, LS_ECFG_RECONNECT, 0) != LS_OK)
            rc = BI_SETUP_FAILED;
        else if ((rc = ls_engine_config_set_proxy(o, proxy)) == LS_OK)
            rc = ls_client_connect(addr, o, &h);
    } else if (strcmp(obj, "connection") == 0) {
        if (ls_options_new(&o) != LS_OK) rc = BI_SETUP_FAILED;
        else if ((rc = ls_options_set_proxy(o, proxy)) == LS_OK) rc = ls_tcp_connect_ex(addr, 5000, o, &h);
    } else rc = BI_NO_EXECUTOR;
    ls_close(h);
    ls_close(o);
    free(proxy);
    free(addr);
    return rc;
}

/* fds {socket, call, data, fds, bufsize, maxfds}: descriptor passing on a TCP or Unix pair. */
static int32_t bi_fds(const bi_val *inp) {
    const char *sock = bi_str(inp, "socket"), *call = bi_str(inp, "call");
    int64_t c = 0, a = 0;
    int32_t rc, fds[300], pid = 0;
    uint64_t uid = 0, gid = 0;
    uint8_t buf[64];
    size_t n = 0, nf = 0, k = 0;
    int ok = 1, null = -1;
    if (!sock || !call) return BI_NO_EXECUTOR;
    rc = strcmp(sock, "tcp") == 0 ? bi_pair(&c, &a) : strcmp(sock, "unix") == 0 ? bi_unix_pair(&c, &a) : BI_NO_EXECUTOR;
    if (rc != LS_OK) {
        bi_close_pair(c, a);
        return rc == BI_NO_EXECUTOR ? rc : BI_SETUP_FAILED;
    }
    if (strcmp(call, "send_fds") == 0) {
        const bi_val *f = bi_get(inp, "fds");
        size_t len = 0;
        char *data = bi_bytes(bi_get(inp, "data"), &len);
        null = open("/dev/null", O_RDONLY);
        if (f && f->type == BI_ARR && f->n <= 300) {
            for (k = 0; k < f->n; k++) fds[k] = (int32_t)strtol(f->kids[k].s, NULL, 10);
        } else if (f && f->type == BI_NUM) {
            int64_t count = bi_i64(inp, "fds", 0, &ok);
            if (count < 0 || count > 300) ok = 0;
            for (k = 0; ok && k < (size_t)count; k++) fds[k] = null;
        } else ok = 0;
        rc = ok && data ? ls_send_fds(c, (const uint8_t *)data, len, fds, k) : BI_NO_EXECUTOR;
        free(data);
        close(null);
    } else if (strcmp(call, "recv_fds") == 0) {
        int64_t bufsize = bi_i64(inp, "bufsize", 16, &ok), maxfds = bi_i64(inp, "maxfds", 1, &ok);
        if (!ok || bufsize < 0 || bufsize > (int64_t)sizeof buf) rc = BI_NO_EXECUTOR;
        else /* a negative count as a C caller passes one by mistake: cast to size_t; above
              * LS_MAX_FDS it is refused before the slots (300 here) are looked at */
            rc = ls_recv_fds(a, 0, bufsize ? buf : NULL, (size_t)bufsize, &n, fds, (size_t)maxfds, &nf);
    } else if (strcmp(call, "peer_credentials") == 0) {
        rc = ls_peer_credentials(a, &pid, &uid, &gid);
    } else rc = BI_NO_EXECUTOR;
    bi_close_pair(c, a);
    return rc;
}

/* transfer {side: sender|receiver, path, name}: make one side of a file transfer. */
static int32_t bi_transfer(const bi_val *inp) {
    const char *side = bi_str(inp, "side");
    char *path = bi_text(inp, "path"), *name = bi_text(inp, "name");
    int64_t t = 0;
    int32_t rc;
    if (!side || !path) rc = BI_NO_EXECUTOR;
    else if (strcmp(side, "sender") == 0) rc = ls_transfer_sender(path, name, 1, &t);
    else if (strcmp(side, "receiver") == 0) rc = ls_transfer_receiver(path, 0, 0, &t);
    else rc = BI_NO_EXECUTOR;
    ls_close(t);
    free(path);
    free(name);
    return rc;
}

/* Runs one row in this process; its outcome. */
/* The rows of the KCP, multicast interface, client statistics and batch calls (kcp_tests.h). */
static int32_t kcp_bi_execute(const char *op, const bi_val *inp);

static int32_t bi_execute(const bi_val *row) {
    const char *op = bi_str(row, "op");
    const bi_val *inp = bi_get(row, "input");
    int ok = 1;
    int32_t rc = BI_NO_EXECUTOR;
    int64_t h = 0, c = 0, a = 0;
    uint8_t *buf = NULL;
    size_t n = 0;
    struct ev e;
    if (op == NULL || inp == NULL) return BI_NO_EXECUTOR;
    if ((rc = kcp_bi_execute(op, inp)) != BI_NO_EXECUTOR) return rc;
    if (strcmp(op, "connect") == 0 || strcmp(op, "listen") == 0 || strcmp(op, "udp_bind") == 0 ||
        strcmp(op, "udp_send_to") == 0) {
        char *addr = bi_text(inp, "address");
        int32_t t = bi_timeout(inp, 5000, &ok);
        int64_t backlog = bi_i64(inp, "backlog", 0, &ok);
        if (addr == NULL || !ok || backlog < INT32_MIN || backlog > INT32_MAX) {
            free(addr);
            return BI_NO_EXECUTOR;
        }
        if (op[0] == 'c') rc = ls_tcp_connect(addr, t, &h);
        else if (op[0] == 'l') rc = ls_listen(addr, (int32_t)backlog, &h);
        else if (strcmp(op, "udp_bind") == 0) rc = ls_udp_bind(addr, &h);
        else if ((rc = ls_udp_bind("127.0.0.1:0", &h)) == LS_OK) rc = ls_send_to(h, (const uint8_t *)"x", 1, addr);
        else rc = BI_SETUP_FAILED;
        ls_close(h);
        free(addr);
        return rc;
    }
    if (strcmp(op, "accept") == 0) {
        int32_t t = bi_timeout(inp, 0, &ok);
        if (!ok) return BI_NO_EXECUTOR;
        if (ls_listen("127.0.0.1:0", 0, &h) != LS_OK) return BI_SETUP_FAILED;
        rc = ls_accept(h, t, &c);
        ls_close(c);
        ls_close(h);
        return rc;
    }
    if (strcmp(op, "handle") == 0) return bi_handle(inp);
    if (strcmp(op, "proxy_connect") == 0) return bi_proxy_connect(inp);
    if (strcmp(op, "fds") == 0) return bi_fds(inp);
    if (strcmp(op, "transfer") == 0) return bi_transfer(inp);
    if (strcmp(op, "null_pointer") == 0) return bi_null_pointer(inp);
    if (strcmp(op, "size_arg") == 0) return bi_size_arg(inp);
    if (strcmp(op, "tls_config") == 0) return bi_tls_config(inp);
    if (strcmp(op, "engine_config") == 0) {
        const char *kind = bi_str(inp, "object");
        if (kind == NULL) return BI_NO_EXECUTOR;
        rc = bi_engine_object(kind, bi_get(inp, "settings"), &h);
        ls_close(h);
        return rc;
    }
    if (strcmp(op, "engine_send") == 0) {
        const char *kind = bi_str(inp, "object");
        uint64_t size = bi_u64(inp, "size", 0, &ok), id = 0;
        if (kind == NULL || !ok || size > ((uint64_t)1 << 30)) return BI_NO_EXECUTOR;
        rc = bi_engine_object(kind, bi_get(inp, "settings"), &h);
        if (rc != LS_OK) return rc == BI_NO_EXECUTOR ? rc : BI_SETUP_FAILED;
        buf = (uint8_t *)calloc((size_t)size + 1, 1);
        if (strcmp(kind, "client") == 0) rc = ls_client_send(h, buf, (size_t)size);
        else if ((rc = bi_server_with_client(h, &c, &id)) == LS_OK) rc = ls_server_send(h, id, buf, (size_t)size);
        free(buf);
        ls_close(c);
        ls_close(h);
        return rc;
    }
    if (strcmp(op, "engine_events") == 0) {
        int32_t t = bi_timeout(inp, 0, &ok);
        if (!ok) return BI_NO_EXECUTOR;
        if (ls_server_listen("127.0.0.1:0", 0, &h) != LS_OK) return BI_SETUP_FAILED;
        rc = ev_next(h, t, &e);
        ls_close(h);
        return rc;
    }
    if (strcmp(op, "engine_peer_bytes") == 0) {
        int64_t cfg = 0;
        uint64_t id = 0;
        char *bytes = bi_bytes(bi_get(inp, "bytes"), &n);
        if (bytes == NULL) return BI_NO_EXECUTOR;
        if (ls_engine_config_new(&cfg) != LS_OK) rc = BI_SETUP_FAILED;
        else if ((rc = bi_framing(cfg, bi_get(inp, "framing"))) != LS_OK) rc = rc == BI_NO_EXECUTOR ? rc : BI_SETUP_FAILED;
        else if (ls_server_listen("127.0.0.1:0", cfg, &h) != LS_OK) rc = BI_SETUP_FAILED;
        else if (bi_server_with_client(h, &c, &id) != LS_OK) rc = BI_SETUP_FAILED;
        else if (ls_send_all(c, (const uint8_t *)bytes, n) != LS_OK || ls_socket_shutdown(c, LS_SHUT_WRITE) != LS_OK)
            rc = BI_SETUP_FAILED;
        else if ((rc = bi_wait_event(h, LS_EVENT_DISCONNECTED, &e)) == LS_OK)
            rc = BI_DISCONNECTED + (int32_t)e.value;
        free(bytes);
        ls_close(c);
        ls_close(h);
        ls_close(cfg);
        return rc;
    }
    /* The rest work on a connected pair (c sends, a receives). */
    if (bi_pair(&c, &a) != LS_OK) {
        bi_close_pair(c, a);
        return BI_SETUP_FAILED;
    }
    buf = (uint8_t *)calloc(4096, 1);
    if (strcmp(op, "set_timeout") == 0 || strcmp(op, "recv") == 0) {
        int32_t t = bi_timeout(inp, 0, &ok);
        if (!ok) rc = BI_NO_EXECUTOR;
        else if (op[0] == 's') rc = ls_set_timeout(c, t);
        else rc = ls_recv(c, t, buf, 16, &n);
    } else if (strcmp(op, "framing") == 0) {
        rc = bi_framing(c, bi_get(inp, "framing"));
    } else if (strcmp(op, "set_option") == 0) {
        int32_t opt = bi_option_code(inp);
        int64_t v = bi_i64(inp, "value", 0, &ok);
        const char *sock = bi_str(inp, "socket");
        if (!ok) rc = BI_NO_EXECUTOR;
        else if (sock && strcmp(sock, "udp") == 0) {
            if (ls_udp_bind("127.0.0.1:0", &h) != LS_OK) rc = BI_SETUP_FAILED;
            else rc = ls_set_option(h, opt, v);
            ls_close(h);
        } else rc = ls_set_option(c, opt, v);
    } else if (strcmp(op, "send_msg") == 0) {
        uint64_t size = bi_u64(inp, "size", 0, &ok);
        if (!ok || size > ((uint64_t)1 << 30)) rc = BI_NO_EXECUTOR;
        else if ((rc = bi_framing(c, bi_get(inp, "framing"))) != LS_OK) rc = rc == BI_NO_EXECUTOR ? rc : BI_SETUP_FAILED;
        else {
            uint8_t *msg = (uint8_t *)calloc((size_t)size + 1, 1);
            rc = ls_send_msg(c, msg, (size_t)size);
            free(msg);
        }
    } else if (strcmp(op, "recv_msgs") == 0) {
        uint64_t max = bi_u64(inp, "max", 0, &ok);
        size_t lens[64];
        if (!ok || max > 64) rc = BI_NO_EXECUTOR;
        else if (ls_set_framing_length(a, 4, 1, 0) != LS_OK) rc = BI_SETUP_FAILED;
        else rc = ls_recv_msgs(a, 100, buf, 4096, (size_t)max, lens, &n);
    } else if (strcmp(op, "recv_msg_small") == 0) {
        uint64_t size = bi_u64(inp, "size", 0, &ok), cap = bi_u64(inp, "cap", 0, &ok);
        if (!ok || size > 4096 || cap > 4096) rc = BI_NO_EXECUTOR;
        else if (ls_set_framing_length(a, 4, 1, 0) != LS_OK || ls_set_framing_length(c, 4, 1, 0) != LS_OK ||
                 ls_send_msg(c, buf, (size_t)size) != LS_OK)
            rc = BI_SETUP_FAILED;
        else rc = ls_recv_msg(a, 10000, buf, (size_t)cap, &n);
    } else if (strcmp(op, "peer_bytes") == 0) {
        char *bytes = bi_bytes(bi_get(inp, "bytes"), &n);
        if (bytes == NULL) rc = BI_NO_EXECUTOR;
        else if (ls_send_all(c, (const uint8_t *)bytes, n) != LS_OK) rc = BI_SETUP_FAILED;
        else {
            ls_close(c);
            c = 0;
            if ((rc = bi_framing(a, bi_get(inp, "framing"))) != LS_OK) rc = rc == BI_NO_EXECUTOR ? rc : BI_SETUP_FAILED;
            else rc = ls_recv_msg(a, 10000, buf, 4096, &n);
        }
        free(bytes);
    }
    free(buf);
    bi_close_pair(c, a);
    return rc;
}

/* --bad-input-row ID: run that row here and print "outcome NAME". */
static int bi_row_main(const char *path, const char *id) {
    bi_val doc;
    const bi_val *row;
    char name[64];
    int32_t o;
    if (strcmp(id, "__self_test_abort__") == 0) abort();
    if (strcmp(id, "__self_test_hang__") == 0) {
        for (;;) sleep_ms(1000);
    }
    if (!bi_load(path, &doc)) return 2;
    row = bi_find(&doc, id);
    if (row == NULL) {
        fprintf(stderr, "bad-input table: no row %s\n", id);
        bi_free(&doc);
        return 2;
    }
    alarm(BI_ROW_DEADLINE_MS / 1000); /* a hang ends in SIGALRM, which the parent reports */
    o = bi_execute(row);
    printf("outcome %s\n", bi_outcome_name(o, name, sizeof name));
    fflush(stdout);
    bi_free(&doc);
    return ls_shutdown_engine() == LS_OK ? 0 : 3;
}

/* The runner's own guarantee: a row that aborts is a crash, one that never answers a hang. */
static void t_bad_input_runner_self_test(void) {
    char out[64] = "", how[256] = "";
    CHECK(bi_run_child(g_argv0, "/dev/null", "__self_test_abort__", 10000, out, sizeof out, how, sizeof how) == 1);
    CHECK(strstr(how, "signal 6") != NULL);
    CHECK(bi_run_child(g_argv0, "/dev/null", "__self_test_hang__", 500, out, sizeof out, how, sizeof how) == 2);
    CHECK(strstr(how, "no outcome") != NULL);
}

static void t_bad_input_table(void) {
    char pathbuf[1024], out[64], how[256], want[256];
    const char *path = bi_default_path(__FILE__, pathbuf, sizeof pathbuf);
    const int inline_run = getenv("LS_BAD_INPUTS_INLINE") && strcmp(getenv("LS_BAD_INPUTS_INLINE"), "1") == 0;
    const int verbose = getenv("LS_BAD_INPUTS_VERBOSE") && strcmp(getenv("LS_BAD_INPUTS_VERBOSE"), "1") == 0;
    bi_val doc;
    const bi_val *rows;
    size_t i;
    int tried = 0, clean = 0, pending = 0, wrong = 0, crashes = 0, hangs = 0, skipped = 0;
    if (!bi_load(path, &doc)) {
        CHECK(!"the bad-input table loads (set LS_BAD_INPUTS to its path)");
        return;
    }
    rows = bi_rows(&doc);
    CHECK(rows != NULL && rows->n > 0);
    for (i = 0; rows && i < rows->n; i++) {
        const bi_val *row = &rows->kids[i];
        const char *id = bi_str(row, "id"), *pend = bi_str(row, "pending");
        int r;
        if (!bi_row_for(row, "c")) continue;
        if (inline_run && pend) { /* may crash until fixed: only in a child */
            skipped++;
            continue;
        }
        tried++;
        how[0] = '\0';
        if (inline_run) {
            r = 0;
            char name[64];
            snprintf(out, sizeof out, "%s", bi_outcome_name(bi_execute(row), name, sizeof name));
        } else {
            r = bi_run_child(g_argv0, path, id, BI_ROW_DEADLINE_MS + 5000, out, sizeof out, how, sizeof how);
        }
        bi_expected_text(row, want, sizeof want);
        if (r == 0 && bi_expected(row, out)) {
            clean++;
            if (verbose) printf("  ok      %s: %s\n", id, out);
            continue;
        }
        if (r == 1) crashes++;
        if (r == 2) hangs++;
        if (r == 0 && pend) pending++;
        else if (r == 0) wrong++;
        printf("  %s %s: %s, expected %s%s%s\n", pend ? "pending" : "FAIL   ", id,
               r == 0 ? out : r == 1 ? "CRASH" : "HANG", want, how[0] ? ": " : "", how);
        if (!pend) g_check_failures++;
    }
    printf("  bad-input table (c%s): %d rows tried, %d ended in their documented outcome, %d pending "
           "(another kind, defect still open), %d wrong, %d crashes, %d hangs (pending rows included)%s\n",
           inline_run ? ", in-process" : "", tried, clean, pending, wrong, crashes, hangs,
           skipped ? ", pending rows skipped in-process" : "");
    bi_free(&doc);
}

/* ------------------------------------------------------------------------------------------ */
/* TLS (S18-S21)                                                                               */
/* ------------------------------------------------------------------------------------------ */

#include "tls_tests.h"

#include "xfer_tests.h"

/* KCP (S23), multicast sending interface, per-client statistics, batch sends */

#include "kcp_tests.h"

/* ------------------------------------------------------------------------------------------ */

struct test {
    const char *name;
    void (*fn)(void);
};

#define T(f) {#f, f}

static const struct test TESTS[] = {
    T(t_version),
    T(t_strerror_and_names),
    T(t_last_error),
    T(t_last_error_is_per_thread),
    T(t_bad_handles),
    T(t_foreign_handles),
    T(t_null_pointers),
    T(t_invalid_sizes_and_values),
    T(t_bad_strings),
    T(t_send_recv_variants),
    T(t_send_msgs),
    T(t_recv_many),
    T(t_recv_msgs),
    T(t_recv_msgs_deferred_then_close),
    T(t_timeouts),
    T(t_addresses),
    T(t_ipv6_and_unix),
    T(t_framings),
    T(t_bytes_available),
    T(t_files),
    T(t_options_objects),
    T(t_udp_connected),
    T(t_unix_datagrams_and_abstract),
    T(t_multicast),
    T(t_threads_share_handles),
    T(t_handles_never_reused),
    T(s01_connect_send_echo_close),
    T(s02_connection_refused),
    T(s03_recv_timeout),
    T(s04_large_payload_each_way),
    T(s05_length_prefixed_with_python_peer),
    T(s06_lines_and_long_line),
    T(s07_half_close),
    T(s08_misuse),
    T(s09_buffer_too_small),
    T(s10_udp),
    T(s11_listener_port0_accept_timeout),
    T(s12_options_read_back),
    T(s17_close_from_another_thread),
    T(t_tls_config_refusals),
    T(t_tls_self_signed_and_fingerprints),
    T(s18_tls_ca_trust_echo),
    T(s19_tls_pinned_self_signed),
    T(s20_tls_mutual),
    T(s21_tls_plaintext_and_silent_peers),
    T(t_tls_cleanup),
    T(t_transfer_small),
    T(t_proxy_options),
    T(t_fds_in_process),
    T(t_transfer_cancel_from_another_thread),
    T(s22_transfer_broken_then_resumed),
    T(s24_socks5_proxy_echo_and_refusals),
    T(t_fds_two_processes),
    T(t_transfer_python_interop),
    T(t_xfer_cleanup),
    T(t_engine_constants),
    T(t_engine_config),
    T(t_engine_config_keys_take_effect),
    T(t_engine_settings_checked_by_core),
    T(t_engine_frame_larger_than_send_queue),
    T(t_engine_max_clients_0_refused),
    T(t_bad_frame_from_peer),
    T(t_engine_warning_for_slow_consumer),
    T(t_engine_bad_handles),
    T(t_engine_bad_inputs),
    T(t_engine_buffer_too_small),
    T(t_engine_notify_fd),
    T(t_engine_server_commands),
    T(t_engine_datagram_server),
    T(t_engine_datagram_server_connected),
    T(t_engine_client_events),
    T(t_engine_shutdown_and_restart),
    T(s13_engine_50_clients_echo),
    T(s14_engine_broadcast_50),
    T(s15_engine_client_reconnect),
    T(s16_engine_heartbeat_lost),
    T(s17_engine_close_wakes_next_event),
    T(t_engine_tls),
    T(t_kcp_config),
    T(t_kcp_server_and_session),
    T(t_kcp_close_wakes_recv),
    T(s23_kcp_session_against_reference_server),
    T(s23_kcp_reference_client_against_server),
    T(t_multicast_interface),
    T(t_engine_client_stats),
    T(t_connection_stats),
    T(t_engine_send_batch),
    T(t_engine_next_messages),
    T(t_bad_input_runner_self_test),
    T(t_bad_input_table),
};

/* The per-test watchdog: a test still running after LS_TEST_TIMEOUT seconds (default 300) ends
 * the program with a FAIL line naming it (exit 124), so a hang cannot stall CI. */
static const char *volatile g_current_test = "";

static void on_test_timeout(int sig) {
    static const char msg[] = ": still running after LS_TEST_TIMEOUT seconds (per-test watchdog)\n";
    const char *name = g_current_test;
    (void)sig;
    if (write(1, "FAIL ", 5) < 0 || write(1, name, strlen(name)) < 0 || write(1, msg, sizeof msg - 1) < 0) {
    }
    _exit(124);
}

int main(int argc, char **argv) {
    size_t i;
    int passed = 0, failed = 0;
    const char *only = argc > 1 ? argv[1] : NULL;
    const char *limit_env = getenv("LS_TEST_TIMEOUT");
    unsigned limit = limit_env && atoi(limit_env) > 0 ? (unsigned)atoi(limit_env) : 300;
    g_argv0 = strchr(argv[0], '/') ? argv[0] : "/proc/self/exe";
    if (argc == 4 && strcmp(argv[1], "--fds-child") == 0) return fds_child_main(argv[2], argv[3]);
    if (argc >= 3 && strcmp(argv[1], "--bad-input-row") == 0) {
        char pathbuf[1024];
        return bi_row_main(argc >= 4 ? argv[3] : bi_default_path(__FILE__, pathbuf, sizeof pathbuf), argv[2]);
    }
    signal(SIGALRM, on_test_timeout);
    for (i = 0; i < sizeof TESTS / sizeof TESTS[0]; i++) {
        int before = g_check_failures;
        double t0 = now_ms();
        if (only && strstr(TESTS[i].name, only) == NULL) continue;
        g_current_test = TESTS[i].name;
        alarm(limit);
        TESTS[i].fn();
        alarm(0);
        if (g_check_failures == before) {
            passed++;
            printf("ok   %s (%.0f ms)\n", TESTS[i].name, now_ms() - t0);
        } else {
            failed++;
            printf("FAIL %s\n", TESTS[i].name);
        }
        fflush(stdout);
    }
    /* Stop the engine's threads (joined), so valgrind sees no thread still running at exit. */
    if (ls_shutdown_engine() != LS_OK) failed++;
    printf("c: %d passed, %d failed\n", passed, failed);
    return failed == 0 && passed > 0 ? 0 : 1;
}
