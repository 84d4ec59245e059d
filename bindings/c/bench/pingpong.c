/*
 * Ping-pong benchmark: 64-byte request/response round trips over loopback TCP, both ends through
 * ls_* (ls_send_all / ls_recv_exact) against both ends through raw BSD sockets (send / recv with
 * MSG_WAITALL), in one run. A third line does with raw sockets what libsock's core does (non-
 * blocking socket: recv, EAGAIN, poll, recv), to tell the wait strategy's cost from the binding's;
 * a fourth sends the 64 bytes as length-prefixed messages (ls_send_msg / ls_recv_msg). Run on one CPU to compare the per-call cost, not the scheduler:
 *
 *   gcc -O2 -std=c99 -Iinclude bindings/c/bench/pingpong.c -Ltarget/release -lsock -lpthread -o pingpong
 *   taskset -c 0 ./pingpong [round_trips]
 */
#define _POSIX_C_SOURCE 200809L
#include "libsock.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MSG 64

static long g_rounds = 200000;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- raw BSD sockets ---- */

static int raw_lfd;
static int raw_nonblocking; /* 1: O_NONBLOCK + poll, as libsock's core waits */

static ssize_t raw_recv_all(int fd, char *b, size_t n) {
    size_t got = 0;
    if (!raw_nonblocking) return recv(fd, b, n, MSG_WAITALL);
    while (got < n) {
        ssize_t k = recv(fd, b + got, n - got, 0);
        if (k > 0) {
            got += (size_t)k;
        } else if (k < 0 && errno == EAGAIN) {
            struct pollfd p;
            p.fd = fd;
            p.events = POLLIN;
            p.revents = 0;
            poll(&p, 1, -1);
        } else {
            return -1;
        }
    }
    return (ssize_t)got;
}

static void *raw_server(void *arg) {
    char b[MSG];
    long i;
    int one = 1, fd = accept(raw_lfd, NULL, NULL);
    (void)arg;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (raw_nonblocking) fcntl(fd, F_SETFL, O_NONBLOCK);
    for (i = 0; i < g_rounds; i++) {
        if (raw_recv_all(fd, b, MSG) != MSG) break;
        if (send(fd, b, MSG, MSG_NOSIGNAL) != MSG) break;
    }
    close(fd);
    return NULL;
}

static double raw_run(void) {
    struct sockaddr_in sa;
    socklen_t len = sizeof sa;
    pthread_t th;
    char b[MSG];
    int fd, one = 1;
    long i;
    double t0, dt;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    raw_lfd = socket(AF_INET, SOCK_STREAM, 0);
    bind(raw_lfd, (struct sockaddr *)&sa, sizeof sa);
    listen(raw_lfd, 1);
    getsockname(raw_lfd, (struct sockaddr *)&sa, &len);
    pthread_create(&th, NULL, raw_server, NULL);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    connect(fd, (struct sockaddr *)&sa, sizeof sa);
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (raw_nonblocking) fcntl(fd, F_SETFL, O_NONBLOCK);
    memset(b, 'p', MSG);
    t0 = now_s();
    for (i = 0; i < g_rounds; i++) {
        if (send(fd, b, MSG, MSG_NOSIGNAL) != MSG) abort();
        if (raw_recv_all(fd, b, MSG) != MSG) abort();
    }
    dt = now_s() - t0;
    close(fd);
    pthread_join(th, NULL);
    close(raw_lfd);
    return dt;
}

/* ---- ls_* ---- */

static int64_t ls_l;
static int g_framed; /* 1: ls_send_msg / ls_recv_msg with 4-byte length headers */

static int32_t msg_out(int64_t c, const uint8_t *b) {
    return g_framed ? ls_send_msg(c, b, MSG) : ls_send_all(c, b, MSG);
}

static int32_t msg_in(int64_t c, uint8_t *b) {
    size_t n = 0;
    if (!g_framed) return ls_recv_exact(c, LS_TIMEOUT_DEFAULT, b, MSG);
    return ls_recv_msg(c, LS_TIMEOUT_DEFAULT, b, MSG, &n);
}


static void *ls_server(void *arg) {
    uint8_t b[MSG];
    long i;
    int64_t c = 0;
    (void)arg;
    if (ls_accept(ls_l, -1, &c) != LS_OK) abort();
    ls_set_option(c, LS_OPT_NODELAY, 1);
    if (g_framed) ls_set_framing_length(c, 4, 1, 0);
    for (i = 0; i < g_rounds; i++) {
        if (msg_in(c, b) != LS_OK) break;
        if (msg_out(c, b) != LS_OK) break;
    }
    ls_close(c);
    return NULL;
}

static double ls_run(void) {
    pthread_t th;
    uint8_t b[MSG];
    char addr[LS_ADDRESS_MAX];
    size_t n;
    int64_t c = 0;
    long i;
    double t0, dt;
    if (ls_listen("127.0.0.1:0", 0, &ls_l) != LS_OK) abort();
    ls_local_address(ls_l, addr, sizeof addr, &n);
    pthread_create(&th, NULL, ls_server, NULL);
    if (ls_tcp_connect(addr, 5000, &c) != LS_OK) abort();
    ls_set_option(c, LS_OPT_NODELAY, 1);
    if (g_framed) ls_set_framing_length(c, 4, 1, 0);
    memset(b, 'p', MSG);
    t0 = now_s();
    for (i = 0; i < g_rounds; i++) {
        if (msg_out(c, b) != LS_OK) abort();
        if (msg_in(c, b) != LS_OK) abort();
    }
    dt = now_s() - t0;
    ls_close(c);
    pthread_join(th, NULL);
    ls_close(ls_l);
    return dt;
}

int main(int argc, char **argv) {
    int rep;
    double best_raw = 1e9, best_nb = 1e9, best_ls = 1e9, best_msg = 1e9;
    if (argc > 1) g_rounds = atol(argv[1]);
    /* Alternate, best of three each, so drift hits all alike. */
    for (rep = 0; rep < 3; rep++) {
        double r, nb, l, m;
        raw_nonblocking = 0;
        r = raw_run();
        raw_nonblocking = 1;
        nb = raw_run();
        g_framed = 0;
        l = ls_run();
        g_framed = 1;
        m = ls_run();
        if (m < best_msg) best_msg = m;
        if (r < best_raw) best_raw = r;
        if (nb < best_nb) best_nb = nb;
        if (l < best_ls) best_ls = l;
    }
    printf("ping-pong %d B x %ld round trips (best of 3)\n", MSG, g_rounds);
    printf("  raw BSD sockets, blocking      : %8.0f round trips/s  (%.2f us each)\n",
           g_rounds / best_raw, best_raw / g_rounds * 1e6);
    printf("  raw, non-blocking + poll       : %8.0f round trips/s  (%.2f us each)\n",
           g_rounds / best_nb, best_nb / g_rounds * 1e6);
    printf("  ls_* (libsock)                 : %8.0f round trips/s  (%.2f us each)\n",
           g_rounds / best_ls, best_ls / g_rounds * 1e6);
    printf("  ls_send_msg/ls_recv_msg, framed: %8.0f round trips/s  (%.2f us each)\n",
           g_rounds / best_msg, best_msg / g_rounds * 1e6);
    printf("  ls_* / raw blocking time       : %.3f\n", best_ls / best_raw);
    printf("  ls_* / raw non-blocking time   : %.3f\n", best_ls / best_nb);
    return 0;
}
