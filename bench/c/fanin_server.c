/*
 * fanin_server - fan-in benchmark servers in C, driven by bench/fanin.py (c-epoll, c-engine).
 *
 *   fanin_server epoll|engine [lifetime_secs]
 *
 * Binds 127.0.0.1:0, prints `READY <port>`, and echoes every frame (a 4-byte big-endian length +
 * payload) back to its sender until SIGTERM/SIGINT or the lifetime (default 900 s) passes.
 *
 *   epoll   hand-written raw C: one thread, nonblocking sockets, level-triggered epoll, a read
 *           buffer per connection; every complete frame is decoded and written back (all the
 *           frames of one read with one send); a partial write keeps the rest in a per-connection
 *           out buffer and waits for EPOLLOUT (reading from that client pauses meanwhile).
 *   engine  libsock's engine through the C ABI: ls_server_listen, ls_next_event in a loop,
 *           ls_server_send for each message (the same shape as core/examples/fanin_engine.rs).
 *
 * Frames above 1 MiB close the connection. Build: bench/c/build.sh.
 */
#define _GNU_SOURCE
#include "libsock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_FRAME (1u << 20)

static volatile sig_atomic_t g_stop;

static void on_signal(int sig) {
    (void)sig;
    g_stop = 1;
}

static void die(const char *what) {
    fprintf(stderr, "fanin_server: %s: %s\n", what, strerror(errno));
    exit(1);
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/** Raise RLIMIT_NOFILE to the hard limit (10,000 clients need more than 1,024). */
static void raise_nofile(void) {
    struct rlimit r;
    if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
        r.rlim_cur = r.rlim_max;
        setrlimit(RLIMIT_NOFILE, &r);
    }
}

static void ready(int port) {
    printf("READY %d\n", port);
    fflush(stdout);
}

/* ------------------------------------------------------------------------------------------ */
/* epoll                                                                                      */
/* ------------------------------------------------------------------------------------------ */

/** One client: what was read and not yet a whole frame, and what could not be written yet. */
struct conn {
    int fd;
    uint8_t *in;
    size_t in_len, in_cap;
    uint8_t *out;
    size_t out_len, out_off, out_cap;
};

static void conn_free(int ep, struct conn *c) {
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    free(c->in);
    free(c->out);
    free(c);
}

static int grow(uint8_t **buf, size_t *cap, size_t need) {
    size_t n = *cap ? *cap : 4096;
    uint8_t *p;
    while (n < need) n *= 2;
    if (n == *cap) return 0;
    p = realloc(*buf, n);
    if (!p) return -1;
    *buf = p;
    *cap = n;
    return 0;
}

/** Write what is pending in c->out; 0 all written, 1 the socket is full, -1 error. */
static int flush_out(struct conn *c) {
    while (c->out_off < c->out_len) {
        ssize_t k = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
        if (k < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN) return 1;
            return -1;
        }
        c->out_off += (size_t)k;
    }
    c->out_off = c->out_len = 0;
    return 0;
}

/** Decode the complete frames in c->in and queue them for writing (re-encoded); -1 on a frame
 * too large. */
static int echo_frames(struct conn *c) {
    size_t pos = 0;
    while (c->in_len - pos >= 4) {
        uint32_t len = ((uint32_t)c->in[pos] << 24) | ((uint32_t)c->in[pos + 1] << 16) |
                       ((uint32_t)c->in[pos + 2] << 8) | c->in[pos + 3];
        if (len > MAX_FRAME) return -1;
        if (c->in_len - pos - 4 < len) break;
        if (grow(&c->out, &c->out_cap, c->out_len + 4 + len) != 0) return -1;
        memcpy(c->out + c->out_len, c->in + pos, 4 + len);
        c->out_len += 4 + len;
        pos += 4 + len;
    }
    if (pos) {
        memmove(c->in, c->in + pos, c->in_len - pos);
        c->in_len -= pos;
    }
    return 0;
}

/** Readable: read until EAGAIN, echo complete frames; -1 to drop the client. */
static int on_readable(int ep, struct conn *c) {
    for (;;) {
        ssize_t k;
        size_t room;
        if (c->in_cap - c->in_len < 2048 && grow(&c->in, &c->in_cap, c->in_len + 4096) != 0)
            return -1;
        room = c->in_cap - c->in_len;
        k = recv(c->fd, c->in + c->in_len, room, 0);
        if (k == 0) return -1;
        if (k < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN) break;
            return -1;
        }
        c->in_len += (size_t)k;
        if (echo_frames(c) != 0) return -1;
        if ((size_t)k < room) break; /* a short read: the socket is drained */
    }
    if (c->out_len) {
        int r = flush_out(c);
        if (r < 0) return -1;
        if (r == 1) { /* socket full: wait for EPOLLOUT, stop reading this client meanwhile */
            struct epoll_event ev;
            ev.events = EPOLLOUT;
            ev.data.ptr = c;
            if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) != 0) return -1;
        }
    }
    return 0;
}

static int on_writable(int ep, struct conn *c) {
    int r = flush_out(c);
    struct epoll_event ev;
    if (r < 0) return -1;
    if (r == 1) return 0;
    ev.events = EPOLLIN;
    ev.data.ptr = c;
    return epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

static void serve_epoll(double lifetime) {
    struct sockaddr_in sa;
    socklen_t sl = sizeof sa;
    int one = 1, lfd, ep, port;
    struct epoll_event ev, evs[512];
    double end = now_s() + lifetime;
    lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (lfd < 0) die("socket");
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(lfd, (struct sockaddr *)&sa, sizeof sa) != 0) die("bind");
    if (listen(lfd, 1024) != 0) die("listen");
    if (getsockname(lfd, (struct sockaddr *)&sa, &sl) != 0) die("getsockname");
    port = ntohs(sa.sin_port);
    ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) die("epoll_create1");
    ev.events = EPOLLIN;
    ev.data.ptr = NULL; /* NULL: the listener */
    if (epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) != 0) die("epoll_ctl");
    ready(port);
    while (!g_stop && now_s() < end) {
        int n = epoll_wait(ep, evs, 512, 1000), i;
        if (n < 0) {
            if (errno == EINTR) continue;
            die("epoll_wait");
        }
        for (i = 0; i < n; i++) {
            struct conn *c = evs[i].data.ptr;
            if (c == NULL) {
                for (;;) { /* accept everything waiting */
                    int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                    if (fd < 0) break;
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    c = calloc(1, sizeof *c);
                    if (!c) {
                        close(fd);
                        continue;
                    }
                    c->fd = fd;
                    ev.events = EPOLLIN;
                    ev.data.ptr = c;
                    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
                        close(fd);
                        free(c);
                    }
                }
                continue;
            }
            if (evs[i].events & EPOLLOUT) {
                if (on_writable(ep, c) != 0) conn_free(ep, c);
            } else if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
                if (on_readable(ep, c) != 0) conn_free(ep, c);
            }
        }
    }
    /* Exit: the kernel closes the sockets. */
}

/* ------------------------------------------------------------------------------------------ */
/* engine                                                                                     */
/* ------------------------------------------------------------------------------------------ */

static void serve_engine(double lifetime) {
    int64_t cfg = 0, server = 0;
    int32_t port = 0, kind = 0;
    uint64_t client = 0;
    int64_t value = 0;
    size_t len = 0, cap = 65536;
    uint8_t *buf = malloc(cap);
    double end = now_s() + lifetime;
    if (!buf) die("malloc");
    if (ls_engine_config_new(&cfg) != LS_OK ||
        ls_engine_config_set(cfg, LS_ECFG_EVENT_CAPACITY, 65536) != LS_OK ||
        ls_server_listen("127.0.0.1:0", cfg, &server) != LS_OK ||
        ls_local_port(server, &port) != LS_OK) {
        fprintf(stderr, "fanin_server: %s\n", ls_last_error());
        exit(1);
    }
    ls_close(cfg);
    ready(port);
    while (!g_stop && now_s() < end) {
        int32_t rc = ls_next_event(server, 1000, &kind, &client, &value, buf, cap, &len);
        if (rc == LS_ERR_TIMEOUT) continue;
        if (rc == LS_ERR_BUFFER_TOO_SMALL) {
            uint8_t *p = realloc(buf, len);
            if (!p) die("realloc");
            buf = p;
            cap = len;
            continue;
        }
        if (rc == LS_ERR_INTERRUPTED) continue;
        if (rc != LS_OK) {
            fprintf(stderr, "fanin_server: ls_next_event: %s\n", ls_last_error());
            break;
        }
        /* A full queue or a gone client only loses that echo: the load generator reports it. */
        if (kind == LS_EVENT_MESSAGE) (void)ls_server_send(server, client, buf, len);
    }
    ls_close(server);
    ls_shutdown_engine();
    free(buf);
}

int main(int argc, char **argv) {
    struct sigaction sa;
    double lifetime = 900;
    if (argc < 2 || argc > 3 || (strcmp(argv[1], "epoll") && strcmp(argv[1], "engine"))) {
        fprintf(stderr, "usage: fanin_server epoll|engine [lifetime_secs]\n");
        return 2;
    }
    if (argc == 3) lifetime = atof(argv[2]);
    if (lifetime <= 0) lifetime = 900;
    raise_nofile();
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal; /* no SA_RESTART: epoll_wait returns EINTR */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (!strcmp(argv[1], "epoll"))
        serve_epoll(lifetime);
    else
        serve_engine(lifetime);
    return 0;
}
