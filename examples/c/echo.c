/*
 * libsock from C: a line-framed echo server on a thread and a client talking to it.
 *
 *   cc -std=c99 examples/c/echo.c $(pkg-config --cflags --libs libsock) -lpthread -o echo && ./echo
 *
 * Every ls_* call returns LS_OK (0) or a negative LS_ERR_* code; ls_last_error() says what failed.
 */
#define _POSIX_C_SOURCE 200809L
#include <libsock.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define TRY(call)                                                                    \
    do {                                                                             \
        int32_t rc_ = (call);                                                        \
        if (rc_ != LS_OK) {                                                          \
            fprintf(stderr, "%s failed: %s (%s)\n", #call, ls_error_name(rc_),       \
                    ls_last_error());                                                \
            return 1;                                                                \
        }                                                                            \
    } while (0)

/* Serve one client: echo every line back, upper-cased, until the client closes. */
static void *serve(void *arg) {
    int64_t listener = *(int64_t *)arg, conn = 0;
    uint8_t line[1024];
    size_t len = 0, i;
    if (ls_accept(listener, 5000, &conn) != LS_OK) return NULL;
    /* The framing set on the listener was given to the accepted connection. */
    while (ls_recv_msg(conn, LS_TIMEOUT_FOREVER, line, sizeof line, &len) == LS_OK) {
        for (i = 0; i < len; i++)
            if (line[i] >= 'a' && line[i] <= 'z') line[i] = (uint8_t)(line[i] - 32);
        if (ls_send_msg(conn, line, len) != LS_OK) break;
    }
    ls_close(conn); /* LS_ERR_CLOSED ended the loop: the client is gone */
    return NULL;
}

int main(void) {
    int64_t listener = 0, client = 0;
    char address[LS_ADDRESS_MAX];
    size_t len = 0;
    uint8_t reply[1024];
    const char *lines[] = {"hello", "sticky packets are gone", "bye"};
    pthread_t server;
    int i;

    printf("libsock %s\n", ls_version());
    TRY(ls_listen("127.0.0.1:0", 0, &listener)); /* port 0: the OS picks a free port */
    TRY(ls_set_framing_delimited(listener, (const uint8_t *)"\n", 1, 1024, 0));
    TRY(ls_local_address(listener, address, sizeof address, &len));
    printf("server listening on %s\n", address);
    pthread_create(&server, NULL, serve, &listener);

    TRY(ls_tcp_connect(address, 5000, &client));
    TRY(ls_set_framing_delimited(client, (const uint8_t *)"\n", 1, 1024, 0));
    for (i = 0; i < 3; i++) {
        TRY(ls_send_msg(client, (const uint8_t *)lines[i], strlen(lines[i])));
        TRY(ls_recv_msg(client, 2000, reply, sizeof reply, &len)); /* at most 2 s */
        printf("sent %-26s got %.*s\n", lines[i], (int)len, (const char *)reply);
    }
    TRY(ls_close(client));
    pthread_join(server, NULL);
    TRY(ls_close(listener));

    /* Errors are values: a port nobody listens on. */
    if (ls_tcp_connect("127.0.0.1:1", 1000, &client) == LS_ERR_CONNECTION_REFUSED)
        printf("as expected: %s\n", ls_last_error());
    return 0;
}
