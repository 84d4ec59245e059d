/*
 * KCP, multicast sending interface, per-client statistics and batch sends of the C ABI
 * (included by test_c.c, which provides CHECK, OK, the event helpers and the engine helpers):
 * the KCP config and its refusals, a KCP server and session of libsock on both sides,
 * scenario S23 of docs/SCENARIOS.md (1,000 messages each way against the reference KCP
 * implementation, the PyPI package kcp driven by python-tests/peers/kcp_ref.py; under 10 % and
 * 30 % loss when .ci/suites/40-c.sh runs this inside a lossy network namespace with
 * LS_KCP_LOSS set), ls_set_multicast_interface on loopback, ls_server_client_stats after an
 * echo, and ls_server_send_batch / ls_client_send_batch.
 */

/* ---- helpers -------------------------------------------------------------------------------- */

/* Message i of an S23 run, as msg(i) of python-tests/peers/kcp_ref.py: 1 to 3,000 bytes. */
static size_t kcp_msg(int i, uint8_t *out) {
    size_t n = (size_t)((i * 37) % 3000 + 1), j;
    int base = (i * 7) % 256;
    for (j = 0; j < n; j++) out[j] = (uint8_t)((base + (int)j) % 256);
    return n;
}

/* The reference KCP peer script: LS_KCP_PEER, else beside LS_TEST_PEER, else the source tree's. */
static const char *kcp_peer_path(void) {
    static char buf[1024];
    const char *p = getenv("LS_KCP_PEER"), *t = getenv("LS_TEST_PEER"), *slash;
    if (p) return p;
    if (t && (slash = strrchr(t, '/')) != NULL && (size_t)(slash - t) + 16 < sizeof buf) {
        memcpy(buf, t, (size_t)(slash - t));
        strcpy(buf + (slash - t), "/kcp_ref.py");
        return buf;
    }
    return "python-tests/peers/kcp_ref.py";
}

/* The loss the run is under (LS_KCP_LOSS, set by the suite inside the lossy namespace). */
static int kcp_loss(void) {
    const char *l = getenv("LS_KCP_LOSS");
    return l ? atoi(l) : 0;
}

/* ---- the KCP config ------------------------------------------------------------------------- */

static void t_kcp_config(void) {
    int64_t k = 0, e = 0, h = 0, v = 0;
    OK(ls_kcp_config_new(&k));
    OK(ls_kcp_config_get(k, LS_KCP_NODELAY, &v));
    CHECK(v == 2);
    OK(ls_kcp_config_get(k, LS_KCP_INTERVAL_MS, &v));
    CHECK(v == 10);
    OK(ls_kcp_config_get(k, LS_KCP_MTU, &v));
    CHECK(v == 1400);
    OK(ls_kcp_config_get(k, LS_KCP_MIN_RTO_MS, &v));
    CHECK(v == 0);
    OK(ls_kcp_config_get(k, LS_KCP_DEAD_LINK, &v));
    CHECK(v == 20);
    OK(ls_kcp_config_get(k, LS_KCP_LINGER_MS, &v));
    CHECK(v == 10000);
    OK(ls_kcp_config_set(k, LS_KCP_MTU, 1200));
    OK(ls_kcp_config_get(k, LS_KCP_MTU, &v));
    CHECK(v == 1200);
    /* Out of range, with the range in the message; unknown keys. */
    CHECK_RC(ls_kcp_config_set(k, LS_KCP_NODELAY, 3), LS_ERR_INVALID_ARGUMENT);
    CHECK(strstr(ls_last_error(), "NODELAY") != NULL);
    CHECK_RC(ls_kcp_config_set(k, LS_KCP_RECV_WINDOW, 127), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_kcp_config_set(k, LS_KCP_INTERVAL_MS, 9), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_kcp_config_set(k, LS_KCP_MTU, 49), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_kcp_config_set(k, 0, 1), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_kcp_config_set(k, LS_KCP_LINGER_MS + 1, 1), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_kcp_config_get(k, 99, &v), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_kcp_config_get(k, LS_KCP_MTU, NULL), LS_ERR_INVALID_ARGUMENT);
    /* An engine config is no KCP config, and the other way round. */
    OK(ls_engine_config_new(&e));
    CHECK_RC(ls_kcp_config_set(e, LS_KCP_MTU, 1000), LS_ERR_BAD_HANDLE);
    CHECK_RC(ls_engine_config_set(k, LS_ECFG_MAX_CLIENTS, 1), LS_ERR_BAD_HANDLE);
    CHECK_RC(ls_kcp_server_bind("127.0.0.1:0", k, 0, &h), LS_ERR_BAD_HANDLE);
    CHECK_RC(ls_kcp_server_bind("127.0.0.1:0", 0, e, &h), LS_ERR_BAD_HANDLE);
    CHECK_RC(ls_kcp_connect("127.0.0.1:9", 1, e, 0, &h), LS_ERR_BAD_HANDLE);
    /* KCP runs over UDP; engine settings core refuses are refused here too. */
    CHECK_RC(ls_kcp_server_bind("unix:/tmp/ls-kcp-no", 0, 0, &h), LS_ERR_UNSUPPORTED);
    CHECK_RC(ls_kcp_connect("unix:/tmp/ls-kcp-no", 1, 0, 0, &h), LS_ERR_UNSUPPORTED);
    OK(ls_engine_config_set(e, LS_ECFG_MAX_CLIENTS, 0));
    CHECK_RC(ls_kcp_server_bind("127.0.0.1:0", e, 0, &h), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_kcp_connect("127.0.0.1:9", -2, 0, 0, &h), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_kcp_connect("127.0.0.1:9", 4294967296LL, 0, 0, &h), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_kcp_connect("not an address", 1, 0, 0, &h), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_kcp_connect("127.0.0.1:9", 1, 0, 0, NULL), LS_ERR_INVALID_ARGUMENT);
    OK(ls_close(e));
    OK(ls_close(k));
    CHECK_RC(ls_kcp_config_get(k, LS_KCP_MTU, &v), LS_ERR_BAD_HANDLE);
}

/* ---- KCP, libsock on both sides --------------------------------------------------------------- */

/* Pull from KCP server `s` until a message arrives, and echo it; its client id in *id. */
static int kcp_echo_one(int64_t s, uint64_t *id) {
    struct ev e;
    if (!ev_wait_kind(s, LS_EVENT_MESSAGE, 10000, &e)) return 0;
    *id = e.client;
    return ls_server_send(s, e.client, e.buf, e.len) == LS_OK;
}

static void t_kcp_server_and_session(void) {
    int64_t s = 0, c = 0, k = 0, v = 0, conv = 0, tcp = 0;
    int32_t port = 0, fd = -1;
    char addr[64], text[LS_ADDRESS_MAX], local[LS_ADDRESS_MAX];
    static uint8_t out[4096], in[4096];
    uint64_t id = 0, ids[4];
    size_t n = 0, len;
    struct ev e;
    int i;
    OK(ls_kcp_config_new(&k));
    OK(ls_kcp_config_set(k, LS_KCP_INTERVAL_MS, 10));
    OK(ls_kcp_server_bind("127.0.0.1:0", 0, k, &s));
    OK(ls_local_port(s, &port));
    CHECK(port > 0);
    snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
    OK(ls_notify_fd(s, &fd));
    CHECK(fd >= 0);
    OK(ls_kcp_connect(addr, 0x1234, k, 0, &c));
    OK(ls_kcp_conv(c, &conv));
    CHECK(conv == 0x1234);
    OK(ls_peer_address(c, text, sizeof text, &n));
    CHECK(strcmp(text, addr) == 0);
    OK(ls_local_address(c, local, sizeof local, &n));
    /* Nothing sent yet: no session, no message. */
    CHECK_RC(ls_kcp_recv(c, 0, in, sizeof in, &n), LS_ERR_TIMEOUT);
    OK(ls_pending_events(s, &n));
    CHECK(n == 0);
    for (i = 0; i < 200; i++) {
        len = kcp_msg(i, out);
        if (ls_kcp_send(c, 5000, out, len) != LS_OK || !kcp_echo_one(s, &id) ||
            ls_kcp_recv(c, 10000, in, sizeof in, &n) != LS_OK || n != len ||
            memcmp(in, out, len) != 0) {
            fprintf(stderr, "  KCP echo %d failed: %s\n", i, ls_last_error());
            CHECK(0);
            break;
        }
    }
    /* The session is a client of the TCP server's calls. */
    OK(ls_server_clients(s, ids, 4, &n));
    CHECK(n == 1 && ids[0] == id);
    OK(ls_server_client_address(s, id, text, sizeof text, &n));
    CHECK(strcmp(text, local) == 0);
    /* A message larger than the caller's buffer stays for the next call. */
    len = kcp_msg(81, out); /* 81 * 37 % 3000 + 1 = 2998 bytes */
    OK(ls_kcp_send(c, 5000, out, len));
    CHECK(kcp_echo_one(s, &id));
    CHECK_RC(ls_kcp_recv(c, 10000, in, 10, &n), LS_ERR_BUFFER_TOO_SMALL);
    CHECK(n == len);
    CHECK_RC(ls_kcp_recv(c, 0, NULL, 0, &n), LS_ERR_BUFFER_TOO_SMALL);
    OK(ls_kcp_poll(c, 0, &n));
    CHECK(n == 1);
    OK(ls_kcp_recv(c, 0, in, sizeof in, &n));
    CHECK(n == len && memcmp(in, out, len) == 0);
    OK(ls_kcp_flush(c, 10000));
    /* Empty messages, bad timeouts. */
    CHECK_RC(ls_kcp_send(c, 0, out, 0), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_kcp_send(c, -3, out, 1), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_kcp_poll(c, -1, &n), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_kcp_recv(c, -5, in, sizeof in, &n), LS_ERR_INVALID_ARGUMENT);
    /* The session's default timeout (LS_TIMEOUT_DEFAULT). */
    OK(ls_set_timeout(c, 50));
    OK(ls_get_timeout(c, &port));
    CHECK(port == 50);
    CHECK_RC(ls_kcp_recv(c, LS_TIMEOUT_DEFAULT, in, sizeof in, &n), LS_ERR_TIMEOUT);
    /* Statistics: the engine's numbers and KCP's own. */
    OK(ls_engine_stats(s, LS_STAT_MESSAGES_IN, &v));
    CHECK(v == 201);
    OK(ls_engine_stats(s, LS_STAT_MESSAGES_OUT, &v));
    CHECK(v == 201);
    OK(ls_engine_stats(s, LS_STAT_CONNECTIONS, &v));
    CHECK(v == 1);
    OK(ls_engine_stats(s, LS_KCP_STAT_DATAGRAMS_IN, &v));
    CHECK(v >= 201);
    OK(ls_engine_stats(s, LS_KCP_STAT_RETRANSMITS, &v));
    CHECK(v >= 0);
    CHECK_RC(ls_engine_stats(s, LS_KCP_STAT_WAITING, &v), LS_ERR_UNSUPPORTED);
    CHECK_RC(ls_engine_stats(s, LS_STAT_ACCEPT_ERRORS, &v), LS_ERR_UNSUPPORTED);
    OK(ls_engine_stats(c, LS_STAT_MESSAGES_OUT, &v));
    CHECK(v == 201);
    OK(ls_engine_stats(c, LS_STAT_BYTES_IN, &v));
    CHECK(v > 0);
    OK(ls_engine_stats(c, LS_KCP_STAT_WAITING, &v));
    CHECK(v == 0);
    OK(ls_engine_stats(c, LS_KCP_STAT_SRTT_MS, &v));
    CHECK(v >= 0);
    CHECK_RC(ls_engine_stats(c, LS_STAT_CONNECTIONS, &v), LS_ERR_UNSUPPORTED);
    CHECK_RC(ls_engine_stats(c, 107, &v), LS_ERR_INVALID_ARGUMENT);
    /* KCP counters are KCP's. */
    OK(ls_server_listen("127.0.0.1:0", 0, &tcp));
    CHECK_RC(ls_engine_stats(tcp, LS_KCP_STAT_DATAGRAMS_IN, &v), LS_ERR_UNSUPPORTED);
    OK(ls_close(tcp));
    /* What the KCP server has not: batches and per-client statistics. */
    CHECK_RC(ls_server_client_stats(s, id, LS_STAT_BYTES_IN, &v), LS_ERR_BAD_HANDLE);
    /* Session calls on the server, server calls on the session. */
    CHECK_RC(ls_kcp_send(s, 0, out, 1), LS_ERR_BAD_HANDLE);
    CHECK_RC(ls_server_send(c, 1, out, 1), LS_ERR_BAD_HANDLE);
    CHECK_RC(ls_next_event(c, 0, &e.kind, &e.client, &e.value, e.buf, sizeof e.buf, &e.len),
             LS_ERR_BAD_HANDLE);
    /* Kick the session: DISCONNECTED with KICKED; then unknown. */
    OK(ls_server_disconnect(s, id, 0));
    CHECK(ev_wait_kind(s, LS_EVENT_DISCONNECTED, 5000, &e));
    CHECK(e.client == id && e.value == LS_REASON_KICKED);
    CHECK_RC(ls_server_send(s, id, out, 1), LS_ERR_CLOSED);
    CHECK_RC(ls_server_disconnect(s, id, 1), LS_ERR_CLOSED);
    CHECK_RC(ls_server_client_address(s, id, text, sizeof text, &n), LS_ERR_CLOSED);
    OK(ls_server_clients(s, ids, 4, &n));
    CHECK(n == 0);
    /* Shutdown: the final CLOSED event; the session closes with ls_close. */
    OK(ls_server_shutdown(s, 0));
    ev_drain_to_closed(s);
    CHECK_RC(ls_server_send(s, id, out, 1), LS_ERR_CLOSED);
    OK(ls_close(c));
    CHECK_RC(ls_kcp_send(c, 0, out, 1), LS_ERR_BAD_HANDLE);
    OK(ls_close(s));
    OK(ls_close(k));
}

/* ls_close of a session from another thread wakes a blocked ls_kcp_recv with LS_ERR_CLOSED. */
struct kcp_blocked {
    int64_t c;
    int32_t rc;
};

static void *kcp_blocked_recv(void *arg) {
    struct kcp_blocked *b = (struct kcp_blocked *)arg;
    uint8_t buf[64];
    size_t n = 0;
    b->rc = ls_kcp_recv(b->c, 20000, buf, sizeof buf, &n);
    return NULL;
}

static void t_kcp_close_wakes_recv(void) {
    struct kcp_blocked b;
    pthread_t th;
    int64_t s = 0;
    int32_t port = 0;
    char addr[64];
    double t0;
    OK(ls_kcp_server_bind("127.0.0.1:0", 0, 0, &s));
    OK(ls_local_port(s, &port));
    snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
    OK(ls_kcp_connect(addr, LS_KCP_CONV_RANDOM, 0, 0, &b.c));
    b.rc = 1;
    pthread_create(&th, NULL, kcp_blocked_recv, &b);
    sleep_ms(100);
    t0 = now_ms();
    OK(ls_close(b.c));
    pthread_join(th, NULL);
    CHECK(b.rc == LS_ERR_CLOSED || b.rc == LS_ERR_BAD_HANDLE);
    CHECK(now_ms() - t0 < 5000);
    OK(ls_close(s));
}

/* ---- S23: against the reference KCP implementation -------------------------------------------- */

#define S23_N 1000

/* S23 a: libsock's session against the reference echo server (kcp_ref.py serve). */
static void s23_kcp_session_against_reference_server(void) {
    char cmd[1536], line[512] = "";
    FILE *proc;
    int64_t c = 0, k = 0, v = 0;
    static uint8_t out[4096], in[4096], want[4096];
    size_t n = 0, len;
    int i, bad = -1, status, got = 0, ok = 1;
    int32_t rc;
    int loss = kcp_loss();
    snprintf(cmd, sizeof cmd, "timeout 400 python3 %s serve --n %d --timeout 300", kcp_peer_path(),
             S23_N);
    proc = popen(cmd, "r");
    CHECK(proc != NULL);
    if (!proc) return;
    if (fgets(line, sizeof line, proc) == NULL) line[0] = 0;
    line[strcspn(line, "\n")] = 0;
    CHECK(strchr(line, ':') != NULL);
    if (strchr(line, ':') == NULL) {
        fprintf(stderr, "  the reference server did not start: '%s'\n", line);
        pclose(proc);
        return;
    }
    /* The echoes are taken as they come and the receive window is larger than all of them:
     * were it to close, the reference server would stall until its window probe when the
     * session's "window open again" is lost, and its probe interval grows to 120 s while the
     * window stays closed (libsock's own probes start at 200 ms: core/src/kcp/proto.rs). */
    OK(ls_kcp_config_new(&k));
    OK(ls_kcp_config_set(k, LS_KCP_RECV_WINDOW, 4096));
    OK(ls_kcp_connect(line, 0x11223344, k, 0, &c));
    OK(ls_close(k));
    OK(ls_set_timeout(c, 120000));
    for (i = 0; i < S23_N && ok; i++) {
        len = kcp_msg(i, out);
        rc = ls_kcp_send(c, LS_TIMEOUT_DEFAULT, out, len);
        if (rc != LS_OK) {
            fprintf(stderr, "  send %d: %s\n", i, ls_last_error());
            ok = 0;
        }
        while (ok && got < S23_N && (rc = ls_kcp_recv(c, 0, in, sizeof in, &n)) == LS_OK) {
            if ((n != kcp_msg(got, want) || memcmp(in, want, n) != 0) && bad < 0) bad = got;
            got++;
        }
        if (rc != LS_OK && rc != LS_ERR_TIMEOUT) ok = 0;
    }
    while (ok && got < S23_N) {
        if (ls_kcp_recv(c, LS_TIMEOUT_DEFAULT, in, sizeof in, &n) != LS_OK) {
            fprintf(stderr, "  recv %d: %s\n", got, ls_last_error());
            ok = 0;
            break;
        }
        if ((n != kcp_msg(got, want) || memcmp(in, want, n) != 0) && bad < 0) bad = got;
        got++;
    }
    CHECK(ok && got == S23_N);
    CHECK(bad < 0);
    CHECK_RC(ls_kcp_recv(c, 200, in, sizeof in, &n), LS_ERR_TIMEOUT); /* nothing extra */
    OK(ls_kcp_flush(c, 120000));
    OK(ls_engine_stats(c, LS_KCP_STAT_RETRANSMITS, &v));
    if (loss > 0) CHECK(v > 0); /* the loss was felt */
    printf("  S23 session -> reference server, %d %% loss: %d messages, %lld retransmits\n", loss,
           S23_N, (long long)v);
    /* Keep the session running (acknowledging the server's retransmissions of echoes whose
     * acknowledgement was lost) until the server reports: it ends when all it sent is
     * acknowledged, and a KCP session runs only while one of its calls runs. */
    {
        struct pollfd pf;
        double end = now_ms() + 120000;
        pf.fd = fileno(proc);
        pf.events = POLLIN;
        pf.revents = 0;
        while (now_ms() < end && poll(&pf, 1, 0) == 0) ls_kcp_poll(c, 20, &n);
    }
    if (fgets(line, sizeof line, proc) == NULL) line[0] = 0;
    status = pclose(proc);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK(strstr(line, "\"server_got\": 1000") != NULL);
    CHECK(strstr(line, "\"server_in_order\": true") != NULL);
    if (!strstr(line, "\"server_in_order\": true")) fprintf(stderr, "  reference server: %s\n", line);
    OK(ls_close(c));
}

/* S23 b: the reference client (kcp_ref.py client) against libsock's KCP server, echoing on a
 * thread. */
struct s23_echo {
    int64_t s;
    volatile int stop;
    int got, bad, send_errors;
};

static void *s23_echo_main(void *arg) {
    struct s23_echo *x = (struct s23_echo *)arg;
    static uint8_t want[4096];
    struct ev e;
    while (!x->stop) {
        int32_t rc = ev_next(x->s, 100, &e);
        if (rc == LS_ERR_TIMEOUT) continue;
        if (rc != LS_OK) break;
        if (e.kind != LS_EVENT_MESSAGE) continue;
        if ((kcp_msg(x->got, want) != e.len || memcmp(want, e.buf, e.len) != 0) && x->bad < 0)
            x->bad = x->got;
        x->got++;
        if (ls_server_send(x->s, e.client, e.buf, e.len) != LS_OK) x->send_errors++;
    }
    return NULL;
}

static void s23_kcp_reference_client_against_server(void) {
    struct s23_echo x;
    pthread_t th;
    int64_t cfg = 0, v = 0;
    int32_t port = 0;
    char cmd[1536], line[512] = "";
    FILE *proc;
    int status;
    int loss = kcp_loss();
    memset(&x, 0, sizeof x);
    x.bad = -1;
    OK(ls_engine_config_new(&cfg));
    OK(ls_engine_config_set(cfg, LS_ECFG_IDLE_TIMEOUT_MS, 60000));
    OK(ls_kcp_server_bind("127.0.0.1:0", cfg, 0, &x.s));
    OK(ls_close(cfg));
    OK(ls_local_port(x.s, &port));
    pthread_create(&th, NULL, s23_echo_main, &x);
    snprintf(cmd, sizeof cmd,
             "timeout 400 python3 %s client --address 127.0.0.1:%d --n %d --timeout 300",
             kcp_peer_path(), (int)port, S23_N);
    proc = popen(cmd, "r");
    CHECK(proc != NULL);
    if (proc) {
        if (fgets(line, sizeof line, proc) == NULL) line[0] = 0;
        status = pclose(proc);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    x.stop = 1;
    pthread_join(th, NULL);
    CHECK(strstr(line, "\"received\": 1000") != NULL);
    CHECK(strstr(line, "\"first_bad\": null") != NULL);
    CHECK(strstr(line, "\"extra\": false") != NULL);
    if (!strstr(line, "\"received\": 1000")) fprintf(stderr, "  reference client: %s\n", line);
    CHECK(x.got == S23_N && x.bad < 0 && x.send_errors == 0);
    OK(ls_engine_stats(x.s, LS_KCP_STAT_RETRANSMITS, &v));
    if (loss > 0) CHECK(v > 0);
    printf("  S23 reference client -> server, %d %% loss: %d messages, %lld retransmits\n", loss,
           x.got, (long long)v);
    OK(ls_close(x.s));
}

/* ---- multicast sending interface -------------------------------------------------------------- */

static void t_multicast_interface(void) {
    int64_t r = 0, snd = 0, o = 0;
    int32_t port = 0, tr = 0;
    char group[64], peer[LS_ADDRESS_MAX];
    uint8_t buf[64];
    size_t n = 0, pl = 0;
    OK(ls_options_new(&o));
    OK(ls_set_option(o, LS_OPT_REUSE_ADDRESS, 1));
    OK(ls_udp_bind_ex("0.0.0.0:0", o, &r));
    OK(ls_local_port(r, &port));
    OK(ls_join_multicast(r, "239.255.77.79", "127.0.0.1"));
    OK(ls_udp_bind("0.0.0.0:0", &snd));
    OK(ls_set_option(snd, LS_OPT_MULTICAST_LOOP, 1));
    OK(ls_set_multicast_interface(snd, "127.0.0.1"));
    snprintf(group, sizeof group, "239.255.77.79:%d", (int)port);
    OK(ls_send_to(snd, (const uint8_t *)"via lo", 6, group));
    OK(ls_recv_from(r, 5000, buf, sizeof buf, &n, peer, sizeof peer, &pl, &tr));
    CHECK(n == 6 && memcmp(buf, "via lo", 6) == 0);
    CHECK(strncmp(peer, "127.0.0.1:", 10) == 0);
    /* Back to the OS's choice; malformed and foreign interfaces. */
    OK(ls_set_multicast_interface(snd, NULL));
    OK(ls_set_multicast_interface(snd, ""));
    CHECK_RC(ls_set_multicast_interface(snd, "not an interface"), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_set_multicast_interface(snd, "192.0.2.123"), LS_ERR_ADDR_NOT_AVAILABLE);
    CHECK_RC(ls_set_multicast_interface(o, "127.0.0.1"), LS_ERR_BAD_HANDLE);
    OK(ls_close(snd));
    CHECK_RC(ls_set_multicast_interface(snd, "127.0.0.1"), LS_ERR_BAD_HANDLE);
    OK(ls_leave_multicast(r, "239.255.77.79", "127.0.0.1"));
    OK(ls_close(r));
    OK(ls_close(o));
}

/* ---- per-client statistics -------------------------------------------------------------------- */

/* The value of a client's counter once it reaches `want` (or after 5 s): the engine counts a
 * write when the write call returns, which may be after the peer already read the bytes. */
static int64_t client_stat_reaching(int64_t s, uint64_t id, int32_t stat, int64_t want) {
    int64_t v = -1;
    double t0 = now_ms();
    do {
        OK(ls_server_client_stats(s, id, stat, &v));
        if (v == want) break;
        sleep_ms(5);
    } while (now_ms() - t0 < 5000);
    return v;
}

static void t_engine_client_stats(void) {
    int64_t s = 0, c = 0, v = 0;
    char addr[64];
    uint8_t b[64];
    size_t n = 0;
    struct ev e;
    uint64_t id;
    int i;
    time_t before = time(NULL);
    s = engine_listen(0, addr, sizeof addr);
    c = framed_connect(addr);
    CHECK(ev_wait_kind(s, LS_EVENT_CONNECTED, 5000, &e));
    id = e.client;
    for (i = 0; i < 10; i++) {
        OK(ls_send_msg(c, (const uint8_t *)"hello", 5));
        CHECK(ev_wait_kind(s, LS_EVENT_MESSAGE, 5000, &e));
        OK(ls_server_send(s, id, e.buf, e.len));
        OK(ls_recv_msg(c, 5000, b, sizeof b, &n));
        CHECK(n == 5);
    }
    OK(ls_server_client_stats(s, id, LS_STAT_MESSAGES_IN, &v));
    CHECK(v == 10);
    OK(ls_server_client_stats(s, id, LS_STAT_BYTES_IN, &v));
    CHECK(v == 10 * (4 + 5));
    CHECK(client_stat_reaching(s, id, LS_STAT_MESSAGES_OUT, 10) == 10);
    CHECK(client_stat_reaching(s, id, LS_STAT_BYTES_OUT, 10 * (4 + 5)) == 10 * (4 + 5));
    OK(ls_server_client_stats(s, id, LS_STAT_QUEUED_BYTES, &v));
    CHECK(v == 0);
    OK(ls_server_client_stats(s, id, LS_CLIENT_STAT_TLS, &v));
    CHECK(v == 0);
    OK(ls_server_client_stats(s, id, LS_CLIENT_STAT_CONNECTED_SINCE_MS, &v));
    CHECK(v / 1000 >= (int64_t)before - 1 && v / 1000 <= (int64_t)time(NULL) + 1);
    /* The server's totals are the sum of its clients'. */
    OK(ls_engine_stats(s, LS_STAT_MESSAGES_IN, &v));
    CHECK(v == 10);
    /* Not kept per client; no such statistic; no such client; not a server. */
    CHECK_RC(ls_server_client_stats(s, id, LS_STAT_REFUSED, &v), LS_ERR_UNSUPPORTED);
    CHECK_RC(ls_server_client_stats(s, id, 0, &v), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_server_client_stats(s, id, 203, &v), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_server_client_stats(s, id, LS_STAT_BYTES_IN, NULL), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_server_client_stats(s, id + 1000, LS_STAT_BYTES_IN, &v), LS_ERR_CLOSED);
    CHECK_RC(ls_server_client_stats(c, id, LS_STAT_BYTES_IN, &v), LS_ERR_BAD_HANDLE);
    OK(ls_close(c));
    CHECK(ev_wait_kind(s, LS_EVENT_DISCONNECTED, 5000, &e));
    CHECK_RC(ls_server_client_stats(s, id, LS_STAT_BYTES_IN, &v), LS_ERR_CLOSED);
    OK(ls_close(s));
}

/* A blocking connection's statistics: the same counters as an engine client's. */
static void t_connection_stats(void) {
    struct pair p;
    uint8_t b[64];
    size_t n = 0;
    int64_t v = 0;
    int i;
    time_t before = time(NULL);
    pair_open(&p);
    OK(ls_set_framing_length(p.c, 4, 1, 0));
    OK(ls_set_framing_length(p.a, 4, 1, 0));
    for (i = 0; i < 3; i++) OK(ls_send_msg(p.c, (const uint8_t *)"hello", 5));
    for (i = 0; i < 3; i++) {
        OK(ls_recv_msg(p.a, 5000, b, sizeof b, &n));
        CHECK(n == 5);
    }
    OK(ls_connection_stats(p.c, LS_STAT_MESSAGES_OUT, &v));
    CHECK(v == 3);
    OK(ls_connection_stats(p.c, LS_STAT_BYTES_OUT, &v));
    CHECK(v == 3 * (4 + 5));
    OK(ls_connection_stats(p.a, LS_STAT_MESSAGES_IN, &v));
    CHECK(v == 3);
    OK(ls_connection_stats(p.a, LS_STAT_BYTES_IN, &v));
    CHECK(v == 3 * (4 + 5));
    OK(ls_connection_stats(p.a, LS_STAT_BYTES_OUT, &v));
    CHECK(v == 0);
    OK(ls_connection_stats(p.c, LS_STAT_QUEUED_BYTES, &v));
    CHECK(v == 0);
    OK(ls_connection_stats(p.c, LS_CLIENT_STAT_TLS, &v));
    CHECK(v == 0);
    OK(ls_connection_stats(p.c, LS_CLIENT_STAT_CONNECTED_SINCE_MS, &v));
    CHECK(v / 1000 >= (int64_t)before - 1 && v / 1000 <= (int64_t)time(NULL) + 1);
    CHECK_RC(ls_connection_stats(p.c, LS_STAT_CONNECTIONS, &v), LS_ERR_UNSUPPORTED);
    CHECK_RC(ls_connection_stats(p.c, 0, &v), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_connection_stats(p.c, LS_STAT_BYTES_IN, NULL), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_connection_stats(p.l, LS_STAT_BYTES_IN, &v), LS_ERR_BAD_HANDLE);
    pair_close(&p);
    CHECK_RC(ls_connection_stats(p.c, LS_STAT_BYTES_IN, &v), LS_ERR_BAD_HANDLE);
}

/* ---- batch sends -------------------------------------------------------------------------------- */

static void t_engine_send_batch(void) {
    int64_t s = 0, cl = 0, cfg = 0, v = 0;
    char addr[64];
    const char *bodies = "onetwothreefourfive";
    size_t lens[5] = {3, 3, 5, 4, 4}, big_lens[2] = {3, 2000}, n = 0;
    static uint8_t big[2003];
    const char *want[5] = {"one", "two", "three", "four", "five"};
    struct ev e;
    uint64_t id;
    int i;
    s = engine_listen(0, addr, sizeof addr);
    OK(ls_engine_config_new(&cfg));
    OK(ls_engine_config_set(cfg, LS_ECFG_RECONNECT, 0));
    OK(ls_engine_config_set(cfg, LS_ECFG_SEND_QUEUE_BYTES, 1024));
    OK(ls_client_connect(addr, cfg, &cl));
    CHECK(ev_wait_kind(cl, LS_EVENT_CONNECTED, 5000, &e));
    CHECK(ev_wait_kind(s, LS_EVENT_CONNECTED, 5000, &e));
    id = e.client;
    /* Client -> server: five messages, in order. */
    OK(ls_client_send_batch(cl, (const uint8_t *)bodies, lens, 5, 5000, &n));
    CHECK(n == 5);
    for (i = 0; i < 5; i++) {
        CHECK(ev_wait_kind(s, LS_EVENT_MESSAGE, 5000, &e));
        CHECK(ev_is(&e, LS_EVENT_MESSAGE, want[i]));
    }
    /* Server -> client, with LS_TIMEOUT_FOREVER. */
    OK(ls_server_send_batch(s, id, (const uint8_t *)bodies, lens, 5, LS_TIMEOUT_FOREVER, &n));
    CHECK(n == 5);
    for (i = 0; i < 5; i++) {
        CHECK(ev_wait_kind(cl, LS_EVENT_MESSAGE, 5000, &e));
        CHECK(ev_is(&e, LS_EVENT_MESSAGE, want[i]));
    }
    OK(ls_server_client_stats(s, id, LS_STAT_MESSAGES_IN, &v));
    CHECK(v == 5);
    /* Nothing to send; a bad message queues none; bad arguments. */
    n = 9;
    OK(ls_client_send_batch(cl, NULL, NULL, 0, 0, &n));
    CHECK(n == 0);
    OK(ls_server_send_batch(s, id, NULL, NULL, 0, 0, &n));
    CHECK(n == 0);
    memset(big, 'x', sizeof big);
    CHECK_RC(ls_client_send_batch(cl, big, big_lens, 2, 1000, &n), LS_ERR_FRAME_TOO_LARGE);
    OK(ls_engine_stats(cl, LS_STAT_MESSAGES_OUT, &v));
    CHECK(v == 5);
    CHECK_RC(ls_client_send_batch(cl, (const uint8_t *)bodies, NULL, 5, 0, &n),
             LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_client_send_batch(cl, NULL, lens, 5, 0, &n), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_client_send_batch(cl, (const uint8_t *)bodies, lens, 5, -3, &n),
             LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_client_send_batch(cl, (const uint8_t *)bodies, lens, 5, 0, NULL),
             LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_server_send_batch(s, id + 1000, (const uint8_t *)bodies, lens, 5, 0, &n),
             LS_ERR_CLOSED);
    CHECK_RC(ls_server_send_batch(cl, id, (const uint8_t *)bodies, lens, 5, 0, &n),
             LS_ERR_BAD_HANDLE);
    CHECK_RC(ls_client_send_batch(s, (const uint8_t *)bodies, lens, 5, 0, &n), LS_ERR_BAD_HANDLE);
    OK(ls_client_close(cl, 1000));
    OK(ls_close(cl));
    OK(ls_close(cfg));
    OK(ls_close(s));
}

/* Wait (bounded) until `h` has at least `n` events queued. */
static int pending_at_least(int64_t h, size_t n) {
    size_t k = 0;
    double end = now_ms() + 5000;
    while (now_ms() < end) {
        if (ls_pending_events(h, &k) != LS_OK) return 0;
        if (k >= n) return 1;
        sleep_ms(2);
    }
    return 0;
}

/* ls_next_messages: the queued messages in one call, back to back, with their client ids; it
 * stops before an event that is not a message and before a message that does not fit. */
static void t_engine_next_messages(void) {
    int64_t s = 0, cl = 0, cfg = 0, ds = 0;
    char addr[64];
    const char *bodies = "onetwothreefourfive";
    size_t lens5[5] = {3, 3, 5, 4, 4}, lens[8], n = 9;
    uint64_t ids[8];
    uint8_t buf[64];
    struct ev e;
    uint64_t id;
    s = engine_listen(0, addr, sizeof addr);
    OK(ls_engine_config_new(&cfg));
    OK(ls_engine_config_set(cfg, LS_ECFG_RECONNECT, 0));
    OK(ls_client_connect(addr, cfg, &cl));
    CHECK(ev_wait_kind(cl, LS_EVENT_CONNECTED, 5000, &e));
    CHECK(ev_wait_kind(s, LS_EVENT_CONNECTED, 5000, &e));
    id = e.client;
    /* Nothing queued: a timeout, nothing written. */
    CHECK_RC(ls_next_messages(s, 0, buf, sizeof buf, 8, lens, ids, &n), LS_ERR_TIMEOUT);
    /* Five messages, all queued: one call takes them, in order, with the sender's id. */
    OK(ls_client_send_batch(cl, (const uint8_t *)bodies, lens5, 5, 5000, &n));
    CHECK(pending_at_least(s, 5));
    OK(ls_next_messages(s, 1000, buf, sizeof buf, 8, lens, ids, &n));
    CHECK(n == 5);
    CHECK(lens[0] == 3 && lens[1] == 3 && lens[2] == 5 && lens[3] == 4 && lens[4] == 4);
    CHECK(memcmp(buf, bodies, 19) == 0);
    CHECK(ids[0] == id && ids[4] == id);
    /* At most `count`; the rest stays queued for the next call (client side, no ids). */
    OK(ls_server_send_batch(s, id, (const uint8_t *)bodies, lens5, 5, 5000, &n));
    CHECK(pending_at_least(cl, 5));
    OK(ls_next_messages(cl, 1000, buf, sizeof buf, 2, lens, NULL, &n));
    CHECK(n == 2 && lens[0] == 3 && lens[1] == 3 && memcmp(buf, "onetwo", 6) == 0);
    /* A message that does not fit the rest of buf stays queued ("four" after "three" in 8). */
    OK(ls_next_messages(cl, 1000, buf, 8, 8, lens, NULL, &n));
    CHECK(n == 1 && lens[0] == 5 && memcmp(buf, "three", 5) == 0);
    /* The first does not fit at all: its size in lens[0], nothing taken. */
    n = 7;
    CHECK_RC(ls_next_messages(cl, 1000, buf, 2, 8, lens, NULL, &n), LS_ERR_BUFFER_TOO_SMALL);
    CHECK(n == 0 && lens[0] == 4);
    OK(ls_next_messages(cl, 1000, buf, sizeof buf, 8, lens, NULL, &n));
    CHECK(n == 2 && memcmp(buf, "fourfive", 8) == 0);
    /* Bad arguments: the same errors as the other batch calls. */
    CHECK_RC(ls_next_messages(s, 0, buf, sizeof buf, 0, lens, ids, &n), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_next_messages(s, 0, buf, sizeof buf, 8, NULL, ids, &n), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_next_messages(s, 0, buf, sizeof buf, 8, lens, ids, NULL), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_next_messages(s, -3, buf, sizeof buf, 8, lens, ids, &n), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_next_messages(s, 0, NULL, 5, 8, lens, ids, &n), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_next_messages(987654321, 0, buf, sizeof buf, 8, lens, ids, &n), LS_ERR_BAD_HANDLE);
    OK(ls_dgram_server_bind("127.0.0.1:0", 0, &ds));
    CHECK_RC(ls_next_messages(ds, 0, buf, sizeof buf, 8, lens, ids, &n), LS_ERR_INVALID_ARGUMENT);
    OK(ls_close(ds));
    /* An event that is not a message: LS_OK with 0, and it is still there for ls_next_event. */
    OK(ls_client_close(cl, 1000));
    CHECK(pending_at_least(s, 1));
    n = 7;
    OK(ls_next_messages(s, 1000, buf, sizeof buf, 8, lens, ids, &n));
    CHECK(n == 0);
    OK(ev_next(s, 1000, &e));
    CHECK(e.kind == LS_EVENT_DISCONNECTED && e.client == id);
    OK(ls_close(cl));
    OK(ls_close(cfg));
    OK(ls_close(s));
}

/* ---- the bad-input table's rows for these calls (called by bi_execute) --------------------- */

#include "kcp_bad_inputs.h"

/* A KCP server on loopback and a session with it (setup of the kcp_session rows). */
static int32_t bi_kcp_pair(int64_t *s, int64_t *c) {
    int32_t port = 0;
    char addr[64];
    *s = *c = 0;
    if (ls_kcp_server_bind("127.0.0.1:0", 0, 0, s) != LS_OK || ls_local_port(*s, &port) != LS_OK)
        return BI_SETUP_FAILED;
    snprintf(addr, sizeof addr, "127.0.0.1:%d", (int)port);
    return ls_kcp_connect(addr, 7, 0, 0, c) == LS_OK ? LS_OK : BI_SETUP_FAILED;
}

/* An engine server with one connected engine client (its id in *id). */
static int32_t bi_engine_pair(const bi_val *settings, int64_t *s, int64_t *cl, uint64_t *id) {
    int64_t cfg = 0;
    int32_t port = 0, rc;
    char addr[64];
    struct ev e;
    *s = *cl = 0;
    rc = bi_engine_config(settings, &cfg);
    if (rc == LS_OK) rc = ls_engine_config_set(cfg, LS_ECFG_RECONNECT, 0);
    if (rc != LS_OK) {
        ls_close(cfg);
        return rc == BI_NO_EXECUTOR ? rc : BI_SETUP_FAILED;
    }
    if (ls_server_listen("127.0.0.1:0", cfg, s) != LS_OK || ls_local_port(*s, &port) != LS_OK) {
        ls_close(cfg);
        return BI_SETUP_FAILED;
    }
    snprintf(addr, sizeof addr, "127.0.0.1:%d", (int)port);
    rc = ls_client_connect(addr, cfg, cl);
    ls_close(cfg);
    if (rc != LS_OK || bi_wait_event(*cl, LS_EVENT_CONNECTED, &e) != LS_OK ||
        bi_wait_event(*s, LS_EVENT_CONNECTED, &e) != LS_OK)
        return BI_SETUP_FAILED;
    *id = e.client;
    return LS_OK;
}

/* NULL for one pointer argument of the new functions; BI_NO_EXECUTOR for other functions. */
static int32_t bi_kcp_null_pointer(const char *fn, const char *arg) {
    int64_t s = 0, c = 0, k = 0, es = 0, ecl = 0, d = 0, out = 0, v = 0;
    uint8_t b[64] = {0};
    size_t n = 0, lens[2] = {1, 1};
    uint64_t id = 0;
    int32_t rc = BI_NO_EXECUTOR;
#define ARG(name, value) (strcmp(arg, name) == 0 ? NULL : (value))
    if (strncmp(fn, "ls_kcp_", 7) != 0 && strcmp(fn, "ls_server_send_batch") != 0 &&
        strcmp(fn, "ls_client_send_batch") != 0 && strcmp(fn, "ls_server_client_stats") != 0 &&
        strcmp(fn, "ls_set_multicast_interface") != 0 && strcmp(fn, "ls_connection_stats") != 0)
        return BI_NO_EXECUTOR;
    if (bi_kcp_pair(&s, &c) != LS_OK || ls_kcp_config_new(&k) != LS_OK ||
        bi_engine_pair(NULL, &es, &ecl, &id) != LS_OK || ls_udp_bind("127.0.0.1:0", &d) != LS_OK) {
        rc = BI_SETUP_FAILED;
        goto done;
    }
    if (strcmp(fn, "ls_kcp_config_new") == 0) {
        rc = ls_kcp_config_new(ARG("out_handle", &out));
    } else if (strcmp(fn, "ls_kcp_config_get") == 0) rc = ls_kcp_config_get(k, LS_KCP_MTU, ARG("out_value", &v));
    else if (strcmp(fn, "ls_kcp_server_bind") == 0)
        rc = ls_kcp_server_bind(ARG("address", "127.0.0.1:0"), 0, k, ARG("out_handle", &out));
    else if (strcmp(fn, "ls_kcp_connect") == 0)
        rc = ls_kcp_connect(ARG("address", "127.0.0.1:9"), 1, k, 0, ARG("out_handle", &out));
    else if (strcmp(fn, "ls_kcp_send") == 0) rc = ls_kcp_send(c, 0, ARG("buf", b), 1);
    else if (strcmp(fn, "ls_kcp_recv") == 0) rc = ls_kcp_recv(c, 0, ARG("buf", b), sizeof b, ARG("out_len", &n));
    else if (strcmp(fn, "ls_kcp_poll") == 0) rc = ls_kcp_poll(c, 0, ARG("out_ready", &n));
    else if (strcmp(fn, "ls_kcp_conv") == 0) rc = ls_kcp_conv(c, ARG("out_conv", &v));
    else if (strcmp(fn, "ls_set_multicast_interface") == 0) rc = ls_set_multicast_interface(d, ARG("iface", "127.0.0.1"));
    else if (strcmp(fn, "ls_server_send_batch") == 0)
        rc = ls_server_send_batch(es, id, ARG("buf", b), ARG("lens", lens), 2, 0, ARG("out_sent", &n));
    else if (strcmp(fn, "ls_client_send_batch") == 0)
        rc = ls_client_send_batch(ecl, ARG("buf", b), ARG("lens", lens), 2, 0, ARG("out_sent", &n));
    else if (strcmp(fn, "ls_server_client_stats") == 0)
        rc = ls_server_client_stats(es, id, LS_STAT_BYTES_IN, ARG("out_value", &v));
    else if (strcmp(fn, "ls_connection_stats") == 0) {
        int64_t cc = 0, aa = 0;
        if (bi_pair(&cc, &aa) != LS_OK) rc = BI_SETUP_FAILED;
        else rc = ls_connection_stats(cc, LS_STAT_BYTES_IN, ARG("out_value", &v)), bi_close_pair(cc, aa);
    }
#undef ARG
    if (rc == LS_OK && out != 0) ls_close(out);
done:
    ls_close(c);
    ls_close(s);
    ls_close(k);
    ls_close(ecl);
    ls_close(es);
    ls_close(d);
    return rc;
}

/* A handle of the wrong kind (or none) for the new calls. */
static int32_t bi_kcp_handle(const char *which, const char *call) {
    int64_t h = 0, v = 0;
    uint8_t b[16] = {0};
    size_t n = 0, lens[1] = {1};
    int32_t rc;
    int live = 0;
    if (strncmp(call, "ls_kcp_", 7) != 0 && strcmp(call, "ls_server_send_batch") != 0 &&
        strcmp(call, "ls_client_send_batch") != 0 && strcmp(call, "ls_server_client_stats") != 0 &&
        strcmp(call, "ls_set_multicast_interface") != 0 && strcmp(call, "ls_connection_stats") != 0 &&
        strncmp(which, "kcp_", 4) != 0 &&
        strncmp(which, "closed_kcp_", 11) != 0)
        return BI_NO_EXECUTOR;
    if (strcmp(which, "zero") == 0) h = 0;
    else if (strcmp(which, "random") == 0) h = 123456789;
    else if (strcmp(which, "server") == 0) live = ls_server_listen("127.0.0.1:0", 0, &h) == LS_OK;
    else if (strcmp(which, "engine_config") == 0) live = ls_engine_config_new(&h) == LS_OK;
    else if (strcmp(which, "kcp_config") == 0) live = ls_kcp_config_new(&h) == LS_OK;
    else if (strcmp(which, "kcp_server") == 0) live = ls_kcp_server_bind("127.0.0.1:0", 0, 0, &h) == LS_OK;
    else if (strcmp(which, "kcp_session") == 0) live = ls_kcp_connect("127.0.0.1:9", 1, 0, 0, &h) == LS_OK;
    else if (strcmp(which, "closed_kcp_server") == 0) {
        if (ls_kcp_server_bind("127.0.0.1:0", 0, 0, &h) != LS_OK) return BI_SETUP_FAILED;
        ls_close(h);
    } else if (strcmp(which, "closed_kcp_session") == 0) {
        if (ls_kcp_connect("127.0.0.1:9", 1, 0, 0, &h) != LS_OK) return BI_SETUP_FAILED;
        ls_close(h);
    } else return BI_NO_EXECUTOR;
    if (strcmp(call, "ls_kcp_send") == 0) rc = ls_kcp_send(h, 0, b, 1);
    else if (strcmp(call, "ls_kcp_recv") == 0) rc = ls_kcp_recv(h, 0, b, sizeof b, &n);
    else if (strcmp(call, "ls_kcp_config_set") == 0) rc = ls_kcp_config_set(h, LS_KCP_MTU, 1000);
    else if (strcmp(call, "ls_engine_config_set") == 0) rc = ls_engine_config_set(h, LS_ECFG_MAX_CLIENTS, 1);
    else if (strcmp(call, "ls_next_event") == 0) {
        int32_t k = 0;
        uint64_t cl = 0;
        rc = ls_next_event(h, 0, &k, &cl, &v, b, sizeof b, &n);
    } else if (strcmp(call, "ls_server_send") == 0) rc = ls_server_send(h, 1, b, 1);
    else if (strcmp(call, "ls_server_send_batch") == 0) rc = ls_server_send_batch(h, 1, b, lens, 1, 0, &n);
    else if (strcmp(call, "ls_client_send_batch") == 0) rc = ls_client_send_batch(h, b, lens, 1, 0, &n);
    else if (strcmp(call, "ls_server_client_stats") == 0) rc = ls_server_client_stats(h, 1, LS_STAT_BYTES_IN, &v);
    else if (strcmp(call, "ls_set_multicast_interface") == 0) rc = ls_set_multicast_interface(h, "127.0.0.1");
    else if (strcmp(call, "ls_set_option") == 0) rc = ls_set_option(h, LS_OPT_NODELAY, 1);
    else if (strcmp(call, "ls_connection_stats") == 0) rc = ls_connection_stats(h, LS_STAT_BYTES_IN, &v);
    else rc = BI_NO_EXECUTOR;
    if (live) ls_close(h);
    return rc;
}

/* The rows of ops kcp_config, kcp_server, kcp_connect, kcp_session, multicast_interface,
 * client_stats, send_batch, and the null_pointer / handle / size_arg rows of the new
 * functions; BI_NO_EXECUTOR for any other row. */
static int32_t kcp_bi_execute(const char *op, const bi_val *inp) {
    int ok = 1;
    int32_t rc = BI_NO_EXECUTOR;
    if (strcmp(op, "null_pointer") == 0) {
        const char *fn = bi_str(inp, "function"), *arg = bi_str(inp, "arg");
        return fn && arg ? bi_kcp_null_pointer(fn, arg) : BI_NO_EXECUTOR;
    }
    if (strcmp(op, "handle") == 0) {
        const char *which = bi_str(inp, "handle"), *call = bi_str(inp, "call");
        return which && call ? bi_kcp_handle(which, call) : BI_NO_EXECUTOR;
    }
    if (strcmp(op, "size_arg") == 0) {
        const char *fn = bi_str(inp, "function"), *vs = bi_str(inp, "value");
        size_t val = vs && strcmp(vs, "SIZE_MAX") == 0 ? (size_t)-1 : (size_t)bi_u64(inp, "value", 0, &ok);
        int64_t s = 0, c = 0;
        uint8_t b[16] = {0};
        size_t n = 0, lens[1] = {1};
        if (!fn || !ok) return BI_NO_EXECUTOR;
        if (strcmp(fn, "ls_kcp_send") != 0 && strcmp(fn, "ls_kcp_recv") != 0 &&
            strcmp(fn, "ls_server_send_batch") != 0)
            return BI_NO_EXECUTOR;
        if (bi_kcp_pair(&s, &c) != LS_OK) rc = BI_SETUP_FAILED;
        else if (strcmp(fn, "ls_kcp_send") == 0) rc = ls_kcp_send(c, 0, b, val);
        else if (strcmp(fn, "ls_kcp_recv") == 0) rc = ls_kcp_recv(c, 0, b, val, &n);
        else rc = ls_server_send_batch(s, 1, b, lens, val, 0, &n);
        ls_close(c);
        ls_close(s);
        return rc;
    }
    if (strcmp(op, "kcp_config") == 0) {
        int64_t k = 0, v = bi_i64(inp, "value", 0, &ok);
        int32_t key = bi_kcp_key(bi_str(inp, "setting"));
        if (!ok || key < 0) return BI_NO_EXECUTOR;
        if (ls_kcp_config_new(&k) != LS_OK) return BI_SETUP_FAILED;
        rc = ls_kcp_config_set(k, key, v);
        ls_close(k);
        return rc;
    }
    if (strcmp(op, "kcp_server") == 0) {
        int64_t cfg = 0, s = 0;
        char *addr = bi_text(inp, "address");
        rc = bi_engine_config(bi_get(inp, "settings"), &cfg);
        if (rc == LS_OK) rc = ls_kcp_server_bind(addr ? addr : "127.0.0.1:0", cfg, 0, &s);
        if (rc == LS_OK) ls_close(s);
        ls_close(cfg);
        free(addr);
        return rc;
    }
    if (strcmp(op, "kcp_connect") == 0) {
        int64_t c = 0, conv = bi_i64(inp, "conv", 1, &ok);
        char *addr = bi_text(inp, "address");
        if (!ok) {
            free(addr);
            return BI_NO_EXECUTOR;
        }
        rc = ls_kcp_connect(addr ? addr : "127.0.0.1:9", conv, 0, 0, &c);
        if (rc == LS_OK) ls_close(c);
        free(addr);
        return rc;
    }
    if (strcmp(op, "kcp_session") == 0) {
        const char *call = bi_str(inp, "call");
        int64_t s = 0, c = 0;
        int32_t t = bi_timeout(inp, 0, &ok);
        uint64_t size = bi_u64(inp, "size", 1, &ok);
        uint8_t *buf;
        size_t n = 0;
        if (!call || !ok || size > (1u << 24)) return BI_NO_EXECUTOR;
        buf = (uint8_t *)calloc(1, (size_t)size + 1);
        if (!buf || bi_kcp_pair(&s, &c) != LS_OK) rc = BI_SETUP_FAILED;
        else if (strcmp(call, "send") == 0) rc = ls_kcp_send(c, t, buf, (size_t)size);
        else if (strcmp(call, "recv") == 0) rc = ls_kcp_recv(c, t, buf, (size_t)size + 1, &n);
        else if (strcmp(call, "flush") == 0) rc = ls_kcp_flush(c, t);
        else if (strcmp(call, "poll") == 0) rc = ls_kcp_poll(c, t, &n);
        else if (strcmp(call, "server_send") == 0) rc = ls_server_send(s, 99, buf, (size_t)size);
        else rc = BI_NO_EXECUTOR;
        free(buf);
        ls_close(c);
        ls_close(s);
        return rc;
    }
    if (strcmp(op, "multicast_interface") == 0) {
        int64_t d = 0;
        char *iface = bi_text(inp, "interface");
        if (!iface) return BI_NO_EXECUTOR;
        if (ls_udp_bind("0.0.0.0:0", &d) != LS_OK) rc = BI_SETUP_FAILED;
        else rc = ls_set_multicast_interface(d, iface);
        ls_close(d);
        free(iface);
        return rc;
    }
    if (strcmp(op, "client_stats") == 0) {
        int64_t s = 0, cl = 0, v = 0;
        uint64_t id = 0;
        const char *name = bi_str(inp, "stat"), *who = bi_str(inp, "client");
        int32_t stat = name ? bi_stat_code(name) : (int32_t)bi_i64(inp, "stat", -1, &ok);
        if (!ok || stat == -1) return BI_NO_EXECUTOR;
        rc = bi_engine_pair(NULL, &s, &cl, &id);
        if (rc == LS_OK) rc = ls_server_client_stats(s, who && strcmp(who, "unknown") == 0 ? id + 1000 : id, stat, &v);
        ls_close(cl);
        ls_close(s);
        return rc;
    }
    if (strcmp(op, "send_batch") == 0) {
        const char *obj = bi_str(inp, "object"), *who = bi_str(inp, "client");
        const bi_val *sizes = bi_get(inp, "sizes");
        int64_t s = 0, cl = 0;
        int32_t t = bi_timeout(inp, 1000, &ok);
        uint64_t id = 0;
        size_t lens[16], total = 0, i, n = 0;
        uint8_t *buf;
        if (!obj || !ok || !sizes || sizes->type != BI_ARR || sizes->n > 16) return BI_NO_EXECUTOR;
        for (i = 0; i < sizes->n; i++) {
            long long l = sizes->kids[i].type == BI_NUM ? strtoll(sizes->kids[i].s, NULL, 10) : -1;
            if (l < 0 || l > (1 << 24)) return BI_NO_EXECUTOR;
            lens[i] = (size_t)l;
            total += lens[i];
        }
        buf = (uint8_t *)calloc(1, total + 1);
        rc = buf ? bi_engine_pair(bi_get(inp, "settings"), &s, &cl, &id) : BI_SETUP_FAILED;
        if (rc == LS_OK) {
            if (who && strcmp(who, "unknown") == 0) id += 1000;
            if (strcmp(obj, "server") == 0) rc = ls_server_send_batch(s, id, buf, lens, sizes->n, t, &n);
            else if (strcmp(obj, "client") == 0) rc = ls_client_send_batch(cl, buf, lens, sizes->n, t, &n);
            else rc = BI_NO_EXECUTOR;
        }
        free(buf);
        ls_close(cl);
        ls_close(s);
        return rc;
    }
    return BI_NO_EXECUTOR;
}
