/* A C program built against an installed libsock (CMake package or pkg-config):
 *   app_c PORT    connects to 127.0.0.1:PORT (an echo peer), sends a line, reads it back.
 * Prints "app_c: ok (libsock VERSION)" and exits 0 when the echo came back equal. */
#include <libsock.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    static const char msg[] = "hello from an installed libsock\n";
    uint8_t back[sizeof msg - 1];
    char address[64];
    int64_t conn = 0;
    if (argc != 2) {
        fprintf(stderr, "usage: %s PORT\n", argv[0]);
        return 2;
    }
    snprintf(address, sizeof address, "127.0.0.1:%s", argv[1]);
    if (ls_tcp_connect(address, 5000, &conn) != LS_OK ||
        ls_send_all(conn, (const uint8_t *)msg, sizeof msg - 1) != LS_OK ||
        ls_recv_exact(conn, 10000, back, sizeof back) != LS_OK) {
        fprintf(stderr, "app_c: %s\n", ls_last_error());
        return 1;
    }
    ls_close(conn);
    if (memcmp(back, msg, sizeof back) != 0) {
        fprintf(stderr, "app_c: the echo differs\n");
        return 1;
    }
    printf("app_c: ok (libsock %s)\n", ls_version());
    return 0;
}
