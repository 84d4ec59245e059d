/* Interop peer: a framed echo server written against libsock's C ABI.
 *
 * Listens on 127.0.0.1:0, prints "port N" on stdout, accepts one client, and echoes every
 * 4-byte big-endian length-prefixed message until the client closes. Then prints
 * "server: N messages, fnv=HEX" (FNV-1a 64 over every payload byte received) and exits 0.
 * Exits non-zero on any error. Every wait has a timeout, so it never hangs.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include "libsock.h"

static int fail(const char *what, int32_t rc) {
    fprintf(stderr, "c_server: %s failed: %d (%s): %s\n", what, (int)rc, ls_strerror(rc),
            ls_last_error());
    return 1;
}

int main(void) {
    int64_t listener = 0, conn = 0;
    int32_t port = 0, rc;
    size_t cap = 1024, len = 0;
    uint8_t *buf;
    uint64_t fnv = 0xcbf29ce484222325ULL, count = 0;

    if ((rc = ls_listen("127.0.0.1:0", 16, &listener)) != LS_OK) return fail("ls_listen", rc);
    if ((rc = ls_local_port(listener, &port)) != LS_OK) return fail("ls_local_port", rc);
    printf("port %d\n", (int)port);
    fflush(stdout);
    if ((rc = ls_accept(listener, 30000, &conn)) != LS_OK) return fail("ls_accept", rc);
    if ((rc = ls_set_framing_length(conn, 4, 1, 16u << 20)) != LS_OK)
        return fail("ls_set_framing_length", rc);
    buf = malloc(cap);
    if (!buf) return 1;
    for (;;) {
        size_t i;
        rc = ls_recv_msg(conn, 30000, buf, cap, &len);
        if (rc == LS_ERR_BUFFER_TOO_SMALL) { /* grow to the size the message needs; it stays queued */
            uint8_t *bigger = realloc(buf, len);
            if (!bigger) return 1;
            buf = bigger;
            cap = len;
            continue;
        }
        if (rc == LS_ERR_CLOSED) break;
        if (rc != LS_OK) return fail("ls_recv_msg", rc);
        for (i = 0; i < len; i++) {
            fnv ^= buf[i];
            fnv *= 0x100000001b3ULL;
        }
        count++;
        if ((rc = ls_send_msg(conn, buf, len)) != LS_OK) return fail("ls_send_msg", rc);
    }
    printf("server: %" PRIu64 " messages, fnv=%016" PRIx64 "\n", count, fnv);
    free(buf);
    ls_close(conn);
    ls_close(listener);
    return 0;
}
