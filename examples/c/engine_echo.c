/* An event-driven echo server and a long-lived client on libsock's engine, in one program:
 * the server is driven by ls_next_event (no callbacks), the client reconnects by itself.
 * Build: cc -std=c99 engine_echo.c $(pkg-config --cflags --libs libsock) -o engine_echo */
#include <libsock.h>
#include <stdio.h>
#include <string.h>

#define TRY(call)                                                               \
    do {                                                                        \
        if ((call) != LS_OK) {                                                  \
            fprintf(stderr, "%s\n", ls_last_error());                           \
            return 1;                                                           \
        }                                                                       \
    } while (0)

int main(void) {
    int64_t cfg = 0, server = 0, client = 0, value = 0;
    int32_t port = 0, kind = 0;
    uint64_t id = 0;
    uint8_t buf[1024];
    size_t len = 0;
    char address[64];
    const char *words[3] = {"sticky", "packets", "are gone"};
    int i, echoed = 0;

    /* One config for both ends: 4-byte length headers (the default), heartbeat every 500 ms. */
    TRY(ls_engine_config_new(&cfg));
    TRY(ls_engine_config_set(cfg, LS_ECFG_HEARTBEAT_INTERVAL_MS, 500));
    TRY(ls_engine_config_set(cfg, LS_ECFG_MAX_CLIENTS, 1000));
    TRY(ls_server_listen("127.0.0.1:0", cfg, &server));
    TRY(ls_local_port(server, &port));
    snprintf(address, sizeof address, "127.0.0.1:%d", port);

    TRY(ls_client_connect(address, cfg, &client)); /* connects in the background */
    for (i = 0; i < 3; i++) /* queued until connected, then sent in order */
        TRY(ls_client_send(client, (const uint8_t *)words[i], strlen(words[i])));

    /* The server loop: pull events, echo messages. */
    while (echoed < 3) {
        int32_t rc = ls_next_event(server, 5000, &kind, &id, &value, buf, sizeof buf, &len);
        if (rc == LS_ERR_TIMEOUT) break;
        TRY(rc);
        if (kind == LS_EVENT_CONNECTED) printf("client %llu connected from %.*s\n",
                                               (unsigned long long)id, (int)len, (char *)buf);
        if (kind == LS_EVENT_MESSAGE) {
            TRY(ls_server_send(server, id, buf, len));
            echoed++;
        }
    }

    /* The client side: the echoes come back as MESSAGE events. */
    for (i = 0; i < 3;) {
        TRY(ls_next_event(client, 5000, &kind, &id, &value, buf, sizeof buf, &len));
        if (kind == LS_EVENT_MESSAGE) printf("echo %d: %.*s\n", ++i, (int)len, (char *)buf);
    }

    TRY(ls_client_close(client, 1000));   /* deliver what is queued, then close */
    TRY(ls_server_shutdown(server, 1000));
    ls_close(client);
    ls_close(server);
    ls_close(cfg);
    ls_shutdown_engine(); /* stop the engine's threads (before unloading the library, or at exit) */
    return 0;
}
