/*
 * File transfer, proxies, descriptor passing and peer credentials through the C ABI (included by
 * test_c.c, which provides CHECK, OK, pair_open and rng_fill): ls_transfer_*, ls_options_set_proxy
 * and ls_engine_config_set_proxy, ls_send_fds / ls_recv_fds / ls_peer_credentials.
 */

#include <fcntl.h>
#include <sys/stat.h>

/* A temporary directory of this run (made once, removed by xfer_cleanup). */
static char g_xdir[128];

static const char *xdir(void) {
    if (!g_xdir[0]) {
        snprintf(g_xdir, sizeof g_xdir, "/tmp/libsock-c-xfer-XXXXXX");
        if (!mkdtemp(g_xdir)) g_xdir[0] = 0;
    }
    return g_xdir;
}

/* Path `name` inside the run's temporary directory, in a static ring of buffers. */
static const char *xpath(const char *name) {
    static char bufs[8][256];
    static int k;
    char *b = bufs[k++ % 8];
    snprintf(b, sizeof bufs[0], "%s/%s", xdir(), name);
    return b;
}

/* Write `n` pseudo-random bytes (seeded) to `path`; 0 on success. */
static int xwrite_random(const char *path, size_t n, uint64_t seed) {
    uint8_t buf[65536];
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    while (n > 0) {
        size_t k = n < sizeof buf ? n : sizeof buf;
        rng_fill(&seed, buf, k);
        if (fwrite(buf, 1, k, f) != k) {
            fclose(f);
            return -1;
        }
        n -= k;
    }
    return fclose(f);
}

/* 1 when the files at `a` and `b` have the same bytes. */
static int xsame_files(const char *a, const char *b) {
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    int same = fa && fb;
    static uint8_t ba[65536], bb[65536];
    while (same) {
        size_t ka = fread(ba, 1, sizeof ba, fa), kb = fread(bb, 1, sizeof bb, fb);
        if (ka != kb || memcmp(ba, bb, ka) != 0) same = 0;
        if (ka == 0) break;
    }
    if (fa) fclose(fa);
    if (fb) fclose(fb);
    return same;
}

static int xexists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

/* A receiving side run on its own thread: ls_transfer_run of `t` over `conn`. */
struct xrun {
    int64_t t, conn;
    int32_t rc;
    char err[512];
    pthread_t th;
};

static void *xrun_main(void *arg) {
    struct xrun *r = (struct xrun *)arg;
    r->rc = ls_transfer_run(r->t, r->conn);
    snprintf(r->err, sizeof r->err, "%s", ls_last_error());
    return NULL;
}

static void xrun_start(struct xrun *r, int64_t t, int64_t conn) {
    r->t = t;
    r->conn = conn;
    r->rc = 1;
    r->err[0] = 0;
    CHECK(pthread_create(&r->th, NULL, xrun_main, r) == 0);
}

static void t_transfer_small(void) {
    struct pair p;
    struct xrun r;
    int64_t s = 0, rv = 0;
    uint64_t done = 0, total = 0, size = 0, offered = 9, resumed = 9;
    int32_t state = 0, version = 0;
    char text[256], sha_s[80], sha_r[80];
    size_t n = 0;
    const char *src = xpath("small.bin");
    CHECK(xwrite_random(src, 300000, 7) == 0);
    CHECK(mkdir(xpath("inbox"), 0700) == 0);
    pair_open(&p);
    OK(ls_set_timeout(p.c, 10000));
    OK(ls_set_timeout(p.a, 10000));
    OK(ls_transfer_sender(src, "renamed.bin", 1, &s));
    OK(ls_transfer_receiver(xpath("inbox"), 0, 0, &rv));
    OK(ls_transfer_progress(s, &done, &total, &state));
    CHECK(done == 0 && total == 300000 && state == LS_TRANSFER_STARTING);
    OK(ls_transfer_name(s, text, sizeof text, &n));
    CHECK(strcmp(text, "renamed.bin") == 0 && n == 11);
    xrun_start(&r, rv, p.a);
    OK(ls_transfer_run(s, p.c));
    CHECK(pthread_join(r.th, NULL) == 0);
    CHECK_RC(r.rc, LS_OK);
    OK(ls_transfer_progress(s, &done, &total, &state));
    CHECK(done == 300000 && total == 300000 && state == LS_TRANSFER_DONE);
    OK(ls_transfer_progress(rv, &done, &total, &state));
    CHECK(done == 300000 && total == 300000 && state == LS_TRANSFER_DONE);
    OK(ls_transfer_info(rv, &size, &version, &offered, &resumed));
    CHECK(size == 300000 && version == 2 && offered == 0 && resumed == 0);
    OK(ls_transfer_path(rv, text, sizeof text, &n));
    CHECK(strcmp(text, xpath("inbox/renamed.bin")) == 0);
    OK(ls_transfer_sha256(s, sha_s, sizeof sha_s, &n));
    CHECK(n == 64);
    OK(ls_transfer_sha256(rv, sha_r, sizeof sha_r, &n));
    CHECK(strcmp(sha_s, sha_r) == 0);
    /* The text getters' buffer-too-small convention: the needed size, NUL included. */
    CHECK_RC(ls_transfer_sha256(s, sha_r, 10, &n), LS_ERR_BUFFER_TOO_SMALL);
    CHECK(n == 65);
    CHECK(xsame_files(src, xpath("inbox/renamed.bin")));
    CHECK(!xexists(xpath("inbox/renamed.bin.libsock-part")));
    /* A step after the end does nothing. */
    OK(ls_transfer_step(s, p.c, &state));
    CHECK(state == LS_TRANSFER_DONE);
    /* The same file again into a directory that has it: refused (EEXIST), at both ends. */
    OK(ls_close(rv));
    OK(ls_transfer_receiver(xpath("inbox"), 0, 0, &rv));
    OK(ls_close(s));
    OK(ls_transfer_sender(src, "renamed.bin", 1, &s));
    xrun_start(&r, rv, p.a);
    CHECK_RC(ls_transfer_run(s, p.c), LS_ERR_IO);
    CHECK(ls_last_os_error() == EEXIST);
    CHECK(pthread_join(r.th, NULL) == 0);
    CHECK_RC(r.rc, LS_ERR_IO);
    OK(ls_transfer_progress(rv, &done, &total, &state));
    CHECK(state == LS_TRANSFER_FAILED);
    /* An existing file as the destination is refused at once; a missing source too. */
    CHECK_RC(ls_transfer_receiver(src, 0, 0, &rv), LS_ERR_IO);
    CHECK(ls_last_os_error() == EEXIST);
    CHECK_RC(ls_transfer_sender(xpath("missing"), NULL, 1, &s), LS_ERR_IO);
    CHECK(ls_last_os_error() == ENOENT);
    CHECK_RC(ls_transfer_sender(xdir(), NULL, 1, &s), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_transfer_sender(src, NULL, 2, &s), LS_ERR_INVALID_ARGUMENT);
    OK(ls_close(s));
    OK(ls_close(rv));
    CHECK_RC(ls_transfer_cancel(s), LS_ERR_BAD_HANDLE);
    /* A transfer handle is not a connection, nor the other way round. */
    CHECK_RC(ls_transfer_run(p.c, p.c), LS_ERR_BAD_HANDLE);
    CHECK_RC(ls_send_all(p.l, (const uint8_t *)"x", 1), LS_ERR_BAD_HANDLE);
    pair_close(&p);
}

static void t_proxy_options(void) {
    int64_t o = 0, cfg = 0, h = 0;
    OK(ls_options_new(&o));
    CHECK_RC(ls_options_set_proxy(o, "ftp://127.0.0.1:21"), LS_ERR_INVALID_ARGUMENT);
    CHECK(strstr(ls_last_error(), "proxy URL") != NULL);
    CHECK_RC(ls_options_set_proxy(o, "socks5://alice:s3cret@127.0.0.1:0"), LS_ERR_INVALID_ARGUMENT);
    CHECK(strstr(ls_last_error(), "s3cret") == NULL);
    CHECK_RC(ls_options_set_proxy(o, NULL), LS_ERR_INVALID_ARGUMENT);
    OK(ls_options_set_proxy(o, "socks5://127.0.0.1:1080"));
    /* Listening and datagram sockets cannot go through a proxy; a Unix target neither. */
    CHECK_RC(ls_listen_ex("127.0.0.1:0", 0, o, &h), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_udp_bind_ex("127.0.0.1:0", o, &h), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_tcp_connect_ex("unix:/tmp/libsock-none.sock", 1000, o, &h), LS_ERR_INVALID_ARGUMENT);
    OK(ls_options_set_proxy(o, ""));
    OK(ls_listen_ex("127.0.0.1:0", 0, o, &h));
    OK(ls_close(h));
    OK(ls_close(o));
    OK(ls_engine_config_new(&cfg));
    CHECK_RC(ls_engine_config_set_proxy(cfg, "socks5://127.0.0.1:0"), LS_ERR_INVALID_ARGUMENT);
    OK(ls_engine_config_set_proxy(cfg, "http://127.0.0.1:3128"));
    CHECK_RC(ls_client_connect("unix:/tmp/libsock-none.sock", cfg, &h), LS_ERR_INVALID_ARGUMENT);
    OK(ls_engine_config_set_proxy(cfg, ""));
    OK(ls_close(cfg));
}

/* A Unix connection pair: listener on a path in the run's directory. */
static void upair_open(struct pair *p, const char *name) {
    char addr[200];
    memset(p, 0, sizeof *p);
    snprintf(addr, sizeof addr, "unix:%s", xpath(name));
    OK(ls_listen(addr, 0, &p->l));
    OK(ls_tcp_connect(addr, 5000, &p->c));
    OK(ls_accept(p->l, 5000, &p->a));
}

static void t_fds_in_process(void) {
    struct pair p, tp;
    int pfd[2] = {-1, -1};
    int32_t got[4] = {-1, -1, -1, -1};
    uint8_t b[16];
    size_t n = 9, nf = 9;
    int32_t pid = 0;
    uint32_t uid = 1, gid = 1;
    CHECK(pipe(pfd) == 0);
    upair_open(&p, "fds.sock");
    OK(ls_peer_credentials(p.a, &pid, &uid, &gid));
    CHECK(pid == (int32_t)getpid() && uid == (uint32_t)getuid() && gid == (uint32_t)getgid());
    OK(ls_send_fds(p.c, (const uint8_t *)"P", 1, (const int32_t *)pfd, 1));
    OK(ls_recv_fds(p.a, 5000, b, sizeof b, &n, got, 4, &nf));
    CHECK(n == 1 && b[0] == 'P' && nf == 1 && got[0] >= 0 && got[0] != pfd[0]);
    if (nf == 1 && got[0] >= 0) {
        /* The received descriptor is the pipe's read end: what goes in the write end comes out. */
        CHECK(write(pfd[1], "via", 3) == 3);
        CHECK(read(got[0], b, 3) == 3 && memcmp(b, "via", 3) == 0);
        CHECK((fcntl(got[0], F_GETFD) & FD_CLOEXEC) != 0);
        close(got[0]);
    }
    /* Plain bytes come back without descriptors. */
    OK(ls_send_fds(p.c, (const uint8_t *)"Q", 1, NULL, 0));
    OK(ls_recv_fds(p.a, 5000, b, sizeof b, &n, NULL, 0, &nf));
    CHECK(n == 1 && b[0] == 'Q' && nf == 0);
    /* Refusals: no byte to carry them, a negative number, too many; TCP cannot carry them. */
    CHECK_RC(ls_send_fds(p.c, (const uint8_t *)"", 0, (const int32_t *)pfd, 1), LS_ERR_INVALID_ARGUMENT);
    got[0] = -1;
    CHECK_RC(ls_send_fds(p.c, (const uint8_t *)"x", 1, got, 1), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_send_fds(p.c, (const uint8_t *)"x", 1, NULL, 1), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_recv_fds(p.a, 0, b, sizeof b, &n, got, 254, &nf), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_recv_fds(p.a, 0, b, 0, &n, got, 1, &nf), LS_ERR_INVALID_ARGUMENT);
    pair_open(&tp);
    CHECK_RC(ls_send_fds(tp.c, (const uint8_t *)"x", 1, (const int32_t *)pfd, 1), LS_ERR_UNSUPPORTED);
    CHECK_RC(ls_recv_fds(tp.a, 0, b, sizeof b, &n, got, 1, &nf), LS_ERR_UNSUPPORTED);
    CHECK_RC(ls_peer_credentials(tp.a, &pid, &uid, &gid), LS_ERR_UNSUPPORTED);
    pair_close(&tp);
    pair_close(&p);
    close(pfd[0]);
    close(pfd[1]);
}

/* Remove the run's temporary directory and what the tests left in it. */
static void t_xfer_cleanup(void) {
    char cmd[300];
    if (!g_xdir[0]) return;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_xdir);
    CHECK(system(cmd) == 0);
    g_xdir[0] = 0;
}
