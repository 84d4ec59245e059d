/* TLS from C through libsock's C ABI, for bench/tls_c.py (side by side with openssl s_time and
 * openssl s_server):
 *
 *   tls_bench serve CERT KEY N        listen on 127.0.0.1:0, print "READY <port>", then accept N
 *                                     TLS connections one after another (the handshake is done
 *                                     when accept returns) and close each
 *   tls_bench connect PORT SECONDS    full handshakes to 127.0.0.1:PORT (no resumption, no
 *                                     certificate check: as `openssl s_time -new` without
 *                                     -www), each connection closed once its handshake is done,
 *                                     for SECONDS; prints "<count> <seconds>"
 *
 * Every call is checked; a failure prints the library's message and exits 1. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "libsock.h"

static void check(int32_t rc, const char *what) {
    if (rc < 0) {
        char msg[512];
        size_t len = 0;
        ls_last_error_message(msg, sizeof msg - 1, &len);
        msg[len < sizeof msg ? len : sizeof msg - 1] = 0;
        fprintf(stderr, "tls_bench: %s: %s (%d)\n", what, msg, rc);
        exit(1);
    }
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    if (argc == 5 && strcmp(argv[1], "serve") == 0) {
        int64_t tls, opts, lst;
        check(ls_tls_server_config_new(&tls), "server config");
        check(ls_tls_set_cert_files(tls, argv[2], argv[3]), "certificate");
        check(ls_options_new(&opts), "options");
        check(ls_options_set_tls(opts, tls), "attach");
        check(ls_listen_ex("127.0.0.1:0", 128, opts, &lst), "listen");
        int32_t port = 0;
        check(ls_local_port(lst, &port), "port");
        printf("READY %d\n", port);
        fflush(stdout);
        long n = atol(argv[4]);
        for (long i = 0; i < n; i++) {
            int64_t c;
            if (ls_accept(lst, 30000, &c) < 0)
                continue; /* a client that gave up mid-handshake */
            ls_close(c);
        }
        ls_close(lst);
        return 0;
    }
    if (argc == 4 && strcmp(argv[1], "connect") == 0) {
        int64_t tls, opts;
        check(ls_tls_client_config_new(&tls), "client config");
        check(ls_tls_set_dangerous_no_verify(tls), "no verify");
        check(ls_options_new(&opts), "options");
        check(ls_options_set_tls(opts, tls), "attach");
        char addr[64];
        snprintf(addr, sizeof addr, "127.0.0.1:%s", argv[2]);
        double secs = atof(argv[3]), t0 = now(), t = t0;
        long count = 0;
        while (t - t0 < secs) {
            int64_t c;
            check(ls_tcp_connect_ex(addr, 10000, opts, &c), "connect");
            ls_close(c);
            count++;
            t = now();
        }
        printf("%ld %.3f\n", count, t - t0);
        return 0;
    }
    fprintf(stderr, "usage: tls_bench serve CERT KEY N | tls_bench connect PORT SECONDS\n");
    return 2;
}
