/*
 * File transfer, proxies, descriptor passing and peer credentials through the C ABI (included by
 * test_c.c, which provides CHECK, OK, pair_open and rng_fill): ls_transfer_*, ls_options_set_proxy
 * and ls_engine_config_set_proxy, ls_send_fds / ls_recv_fds / ls_peer_credentials.
 */

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
    uint64_t uid = 1, gid = 1;
    CHECK(pipe(pfd) == 0);
    upair_open(&p, "fds.sock");
    OK(ls_peer_credentials(p.a, &pid, &uid, &gid));
    CHECK(pid == (int32_t)getpid() && uid == (uint64_t)getuid() && gid == (uint64_t)getgid());
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

/* The SHA-256 of a file by coreutils' sha256sum (an implementation other than libsock's), as
 * 64 hex digits in `hex`; 0 on success. */
static int xsha256sum(const char *path, char hex[65]) {
    char cmd[400];
    FILE *p;
    int ok;
    snprintf(cmd, sizeof cmd, "sha256sum '%s'", path);
    p = popen(cmd, "r");
    if (!p) return -1;
    ok = fread(hex, 1, 64, p) == 64;
    hex[64] = 0;
    return (pclose(p) == 0 && ok) ? 0 : -1;
}

static long xfile_size(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

/* S22: 50 MB (LS_TEST_S22_MB overrides) sent step by step; the sender's connection is closed once
 * half is sent. The receiver keeps the partial file (never under the final name), a second
 * transfer with resume sends only the rest, and both ends report the SHA-256 that sha256sum
 * computes. */
static void s22_transfer_broken_then_resumed(void) {
    const char *mb_env = getenv("LS_TEST_S22_MB");
    uint64_t size = (uint64_t)(mb_env && atoi(mb_env) > 0 ? atoi(mb_env) : 50) * 1000000u;
    const char *src = xpath("big.bin"), *out = xpath("s22/big.bin"),
               *part = xpath("s22/big.bin.libsock-part");
    struct pair p;
    struct xrun r;
    int64_t s = 0, rv = 0;
    int32_t state = 0, version = 0, port = 0;
    uint64_t done = 0, total = 0, fsize = 0, offered = 0, resumed = 0;
    long kept;
    size_t n = 0;
    char addr[64], sha_s[80], sha_r[80], sha_ref[65];
    int showed_final = 0;
    CHECK(xwrite_random(src, (size_t)size, 22) == 0);
    CHECK(mkdir(xpath("s22"), 0700) == 0);
    CHECK(xsha256sum(src, sha_ref) == 0);
    pair_open(&p);
    OK(ls_set_timeout(p.c, 30000));
    OK(ls_set_timeout(p.a, 30000));
    OK(ls_transfer_receiver(xpath("s22"), 0, 0, &rv));
    xrun_start(&r, rv, p.a);
    OK(ls_transfer_sender(src, NULL, 1, &s));
    do {
        OK(ls_transfer_step(s, p.c, &state));
        CHECK(state == LS_TRANSFER_TRANSFERRING);
        showed_final |= xexists(out);
        OK(ls_transfer_progress(s, &done, &total, &state));
    } while (done < size / 2 && state == LS_TRANSFER_TRANSFERRING);
    CHECK(done >= size / 2 && done < size && total == size);
    OK(ls_close(p.c)); /* the break */
    CHECK(pthread_join(r.th, NULL) == 0);
    CHECK_RC(r.rc, LS_ERR_CLOSED);
    CHECK(strstr(r.err, "libsock-part") != NULL); /* the message names the partial file kept */
    OK(ls_close(p.a));
    CHECK(!xexists(out));
    kept = xfile_size(part);
    CHECK(kept > 0 && (uint64_t)kept < size);
    OK(ls_transfer_progress(rv, &done, &total, &state));
    CHECK(done == (uint64_t)kept && total == size && state == LS_TRANSFER_FAILED);
    OK(ls_close(rv));
    OK(ls_close(s));

    /* Resume over a new connection. */
    OK(ls_local_port(p.l, &port));
    snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
    OK(ls_tcp_connect(addr, 5000, &p.c));
    OK(ls_accept(p.l, 5000, &p.a));
    OK(ls_set_timeout(p.c, 30000));
    OK(ls_set_timeout(p.a, 30000));
    OK(ls_transfer_receiver(xpath("s22"), 0, 1, &rv));
    xrun_start(&r, rv, p.a);
    OK(ls_transfer_sender(src, NULL, 1, &s));
    do {
        if (ls_transfer_step(s, p.c, &state) != LS_OK) {
            CHECK(!"a step of the resumed transfer failed");
            break;
        }
        if (state == LS_TRANSFER_TRANSFERRING) showed_final |= xexists(out);
    } while (state != LS_TRANSFER_DONE);
    CHECK(pthread_join(r.th, NULL) == 0);
    CHECK_RC(r.rc, LS_OK);
    CHECK(!showed_final);
    OK(ls_transfer_info(s, &fsize, &version, &offered, &resumed));
    CHECK(fsize == size && version == 2 && offered == (uint64_t)kept && resumed == (uint64_t)kept);
    OK(ls_transfer_info(rv, &fsize, &version, &offered, &resumed));
    CHECK(resumed == (uint64_t)kept);
    OK(ls_transfer_sha256(s, sha_s, sizeof sha_s, &n));
    OK(ls_transfer_sha256(rv, sha_r, sizeof sha_r, &n));
    CHECK(strcmp(sha_s, sha_ref) == 0 && strcmp(sha_r, sha_ref) == 0);
    CHECK(xsha256sum(out, sha_s) == 0 && strcmp(sha_s, sha_ref) == 0);
    CHECK(!xexists(part));
    OK(ls_close(s));
    OK(ls_close(rv));
    pair_close(&p);
    unlink(src);
    unlink(out);
}

/* Cancel from another thread: the running ls_transfer_run fails with LS_ERR_INTERRUPTED. */
struct xcancel {
    int64_t t;
    pthread_t th;
};

static void *xcancel_main(void *arg) {
    struct xcancel *c = (struct xcancel *)arg;
    uint64_t done = 0, total = 0;
    int32_t state = 0;
    double end = now_ms() + 10000;
    /* Wait until bytes move, then cancel. */
    while (now_ms() < end && ls_transfer_progress(c->t, &done, &total, &state) == LS_OK && done == 0)
        sleep_ms(1);
    (void)ls_transfer_cancel(c->t);
    return NULL;
}

static void t_transfer_cancel_from_another_thread(void) {
    struct pair p;
    struct xrun r;
    struct xcancel c;
    int64_t s = 0, rv = 0;
    uint64_t done = 0, total = 0;
    int32_t state = 0;
    const char *src = xpath("cancel.bin");
    CHECK(xwrite_random(src, 20000000, 3) == 0);
    CHECK(mkdir(xpath("cancel"), 0700) == 0);
    pair_open(&p);
    OK(ls_set_timeout(p.c, 10000));
    OK(ls_set_timeout(p.a, 10000));
    OK(ls_transfer_receiver(xpath("cancel"), 0, 0, &rv));
    xrun_start(&r, rv, p.a);
    OK(ls_transfer_sender(src, NULL, 1, &s));
    c.t = s;
    CHECK(pthread_create(&c.th, NULL, xcancel_main, &c) == 0);
    CHECK_RC(ls_transfer_run(s, p.c), LS_ERR_INTERRUPTED);
    CHECK(pthread_join(c.th, NULL) == 0);
    OK(ls_transfer_progress(s, &done, &total, &state));
    CHECK(state == LS_TRANSFER_FAILED && done < total);
    OK(ls_close(p.c)); /* the receiver sees the end */
    CHECK(pthread_join(r.th, NULL) == 0);
    CHECK_RC(r.rc, LS_ERR_CLOSED);
    CHECK(!xexists(xpath("cancel/cancel.bin")));
    OK(ls_close(s));
    OK(ls_close(rv));
    OK(ls_close(p.a));
    OK(ls_close(p.l));
    unlink(src);
}

/* ---- S24: SOCKS5 through dante's danted ------------------------------------------------------ */

static int xfree_port(void) {
    struct sockaddr_in sa;
    socklen_t len = sizeof sa;
    int fd = socket(AF_INET, SOCK_STREAM, 0), port = 0;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 &&
        getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
        port = ntohs(sa.sin_port);
    if (fd >= 0) close(fd);
    return port;
}

/* 1 when something accepts TCP connections on 127.0.0.1:port. */
static int xlistening(int port) {
    struct sockaddr_in sa;
    int fd = socket(AF_INET, SOCK_STREAM, 0), ok;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons((uint16_t)port);
    ok = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
    if (fd >= 0) close(fd);
    return ok;
}

/* Start danted on a free loopback port from a config in the run's directory, refusing
 * 127.0.0.1:`denied` by a rule; its port, or 0 (the reason printed). */
static int dante_start(struct child *c, int denied) {
    const char *exe = access("/usr/sbin/danted", X_OK) == 0 ? "/usr/sbin/danted" : "danted";
    const char *conf = xpath("danted.conf");
    char *argv[8];
    int port = xfree_port();
    double end;
    FILE *f = fopen(conf, "w");
    if (!f || port == 0) return 0;
    fprintf(f,
            "logoutput: stderr\ninternal: 127.0.0.1 port = %d\nexternal: 127.0.0.1\n"
            "clientmethod: none\nsocksmethod: none\n%s"
            "client pass { from: 127.0.0.0/8 to: 0.0.0.0/0 }\n"
            "socks block { from: 0.0.0.0/0 to: 127.0.0.1/32 port = %d log: error }\n"
            "socks pass { from: 0.0.0.0/0 to: 0.0.0.0/0 }\n",
            port, geteuid() == 0 ? "user.privileged: root\nuser.unprivileged: nobody\n" : "", denied);
    fclose(f);
    argv[0] = (char *)exe;
    argv[1] = (char *)"-f";
    argv[2] = (char *)conf;
    argv[3] = (char *)"-N";
    argv[4] = (char *)"1";
    argv[5] = (char *)"-p";
    argv[6] = (char *)xpath("danted.pid");
    argv[7] = NULL;
    if (child_spawn(c, argv, 0) != 0) return 0;
    end = now_ms() + 10000;
    while (!xlistening(port)) {
        int st;
        if (waitpid(c->pid, &st, WNOHANG) == c->pid || now_ms() > end) {
            c->pid = c->pid > 0 && now_ms() > end ? c->pid : 0;
            child_wait_for(c, NULL, 500);
            fprintf(stderr, "  danted did not start (is dante-server installed?): %s\n", c->text);
            child_end(c);
            return 0;
        }
        sleep_ms(20);
    }
    return port;
}

static void s24_socks5_proxy_echo_and_refusals(void) {
    struct child d;
    struct peer echo;
    struct ev e;
    char url[64], target[64], want[128], denied_addr[64], closed_addr[64], addr[LS_ADDRESS_MAX];
    int64_t o = 0, c = 0, cfg = 0, denied_srv = 0, srv = 0, cl = 0;
    int32_t port = 0, dport = 0;
    int pport, closed_fd = -1;
    uint8_t payload[1024], back[1024];
    uint64_t seed = 24;
    size_t n = 0;
    /* An engine server behind the denied port: reached directly it would answer. */
    denied_srv = engine_listen(0, denied_addr, sizeof denied_addr);
    OK(ls_local_port(denied_srv, &dport));
    pport = dante_start(&d, dport);
    CHECK(pport > 0);
    if (pport <= 0) {
        OK(ls_close(denied_srv));
        return;
    }
    snprintf(url, sizeof url, "socks5://127.0.0.1:%d", pport);
    OK(ls_options_new(&o));
    OK(ls_options_set_proxy(o, url));

    /* A host name the proxy resolves; 1 KiB echoed through the tunnel. */
    CHECK(peer_start(&echo, peer_echo, NULL) == 0);
    snprintf(target, sizeof target, "localhost:%d", echo.port);
    OK(ls_tcp_connect_ex(target, 10000, o, &c));
    OK(ls_set_timeout(c, 10000));
    rng_fill(&seed, payload, sizeof payload);
    OK(ls_send_all(c, payload, sizeof payload));
    OK(ls_recv_exact(c, LS_TIMEOUT_DEFAULT, back, sizeof back));
    CHECK(memcmp(payload, back, sizeof back) == 0);
    OK(ls_peer_address(c, addr, sizeof addr, &n));
    snprintf(want, sizeof want, "127.0.0.1:%d", pport);
    CHECK(strcmp(addr, want) == 0); /* the socket's peer is the proxy */
    OK(ls_close(c));
    peer_join(&echo);

    /* Refused by the proxy's rule: SOCKS5 reply 2, the target and the proxy named. */
    CHECK_RC(ls_tcp_connect_ex(denied_addr, 10000, o, &c), LS_ERR_CONNECTION_REFUSED);
    CHECK(strstr(ls_last_error(), "connection not allowed by ruleset") != NULL);
    CHECK(strstr(ls_last_error(), denied_addr) != NULL);
    snprintf(want, sizeof want, "SOCKS5 proxy 127.0.0.1:%d", pport);
    CHECK(strstr(ls_last_error(), want) != NULL);
    /* Nobody behind the proxy: SOCKS5 reply 5. */
    refused_address(&closed_fd, closed_addr, sizeof closed_addr);
    CHECK_RC(ls_tcp_connect_ex(closed_addr, 10000, o, &c), LS_ERR_CONNECTION_REFUSED);
    CHECK(strstr(ls_last_error(), "replied 5 (connection refused)") != NULL);
    CHECK(strstr(ls_last_error(), closed_addr) != NULL);
    close(closed_fd);

    /* The engine client: refused by the rule (reply in the disconnect's text), never reaching
     * the server behind the denied port. */
    OK(ls_engine_config_new(&cfg));
    OK(ls_engine_config_set_proxy(cfg, url));
    OK(ls_engine_config_set(cfg, LS_ECFG_RECONNECT, 0));
    OK(ls_client_connect(denied_addr, cfg, &cl));
    CHECK(ev_wait_kind(cl, LS_EVENT_DISCONNECTED, 10000, &e));
    CHECK(e.value == LS_REASON_ERROR);
    e.buf[e.len < sizeof e.buf ? e.len : sizeof e.buf - 1] = 0;
    CHECK(strstr((const char *)e.buf, "connection not allowed by ruleset") != NULL);
    OK(ls_close(cl));
    CHECK_RC(ev_next(denied_srv, 0, &e), LS_ERR_TIMEOUT); /* nobody arrived */

    /* Through the proxy to a server that lets it in, and again after being cut off. */
    OK(ls_engine_config_set(cfg, LS_ECFG_RECONNECT, 1));
    OK(ls_engine_config_set(cfg, LS_ECFG_BACKOFF_MIN_MS, 20));
    OK(ls_engine_config_set(cfg, LS_ECFG_BACKOFF_MAX_MS, 200));
    srv = engine_listen(0, target, sizeof target);
    OK(ls_local_port(srv, &port));
    snprintf(target, sizeof target, "localhost:%d", port);
    OK(ls_client_connect(target, cfg, &cl));
    {
        int round;
        for (round = 1; round <= 2; round++) {
            char hello[16];
            struct ev m;
            snprintf(hello, sizeof hello, "hello %d", round);
            CHECK(ev_wait_kind(cl, LS_EVENT_CONNECTED, 10000, &e));
            e.buf[e.len < sizeof e.buf ? e.len : sizeof e.buf - 1] = 0;
            snprintf(want, sizeof want, "127.0.0.1:%d", pport);
            CHECK(strcmp((const char *)e.buf, want) == 0); /* the proxy, every time */
            OK(ls_client_send(cl, (const uint8_t *)hello, strlen(hello)));
            CHECK(ev_wait_kind(srv, LS_EVENT_MESSAGE, 10000, &m));
            CHECK(ev_is(&m, LS_EVENT_MESSAGE, hello));
            OK(ls_server_disconnect(srv, m.client, 0));
        }
    }
    OK(ls_close(cl));
    OK(ls_close(srv));
    OK(ls_close(cfg));
    OK(ls_close(o));
    OK(ls_close(denied_srv));
    child_end(&d);
}

/* ---- descriptors between two processes --------------------------------------------------- */

/* The child of t_fds_two_processes (test_c --fds-child ADDRESS FILE): connects to ADDRESS, sends
 * an open descriptor of FILE and one end of a socket pair with the byte "F", checks the
 * parent's credentials, then says "ping" on its end of the pair and waits for "pong".
 * Exit 0 and "fds-child ok" on success. */
static int fds_child_main(const char *address, const char *file) {
    int64_t c = 0;
    int sp[2], fds[2], rc = 1;
    int32_t pid = 0;
    uint64_t uid = 0, gid = 0;
    char buf[8];
    struct pollfd pf;
    int ffd = open(file, O_RDONLY);
    if (ffd < 0 || socketpair(AF_UNIX, SOCK_STREAM, 0, sp) != 0) return 2;
    if (ls_tcp_connect(address, 10000, &c) != LS_OK) return 3;
    if (ls_peer_credentials(c, &pid, &uid, &gid) != LS_OK || pid != (int32_t)getppid() ||
        uid != (uint64_t)getuid())
        return 4;
    fds[0] = ffd;
    fds[1] = sp[1];
    if (ls_send_fds(c, (const uint8_t *)"F", 1, fds, 2) != LS_OK) return 5;
    close(ffd);
    close(sp[1]);
    if (write(sp[0], "ping", 4) != 4) return 6;
    pf.fd = sp[0];
    pf.events = POLLIN;
    if (poll(&pf, 1, 10000) == 1 && read(sp[0], buf, 4) == 4 && memcmp(buf, "pong", 4) == 0) rc = 0;
    close(sp[0]);
    (void)ls_close(c);
    if (rc == 0) printf("fds-child ok\n");
    return rc == 0 ? 0 : 7;
}

static void t_fds_two_processes(void) {
    struct child ch;
    char address[200];
    char *argv[5];
    int64_t l = 0, a = 0;
    int32_t got[4] = {-1, -1, -1, -1};
    int32_t pid = 0;
    uint64_t uid = 0, gid = 0;
    uint8_t b[16];
    size_t n = 0, nf = 0, i;
    char text[64];
    const char *file = xpath("passed.txt");
    FILE *f = fopen(file, "w");
    CHECK(f != NULL);
    if (!f) return;
    fputs("the file the child opened", f);
    fclose(f);
    snprintf(address, sizeof address, "unix:%s", xpath("fds2.sock"));
    OK(ls_listen(address, 0, &l));
    argv[0] = (char *)g_argv0;
    argv[1] = (char *)"--fds-child";
    argv[2] = address;
    argv[3] = (char *)file;
    argv[4] = NULL;
    CHECK(child_spawn(&ch, argv, 0) == 0);
    OK(ls_accept(l, 10000, &a));
    OK(ls_peer_credentials(a, &pid, &uid, &gid));
    CHECK(pid == (int32_t)ch.pid && uid == (uint64_t)getuid() && gid == (uint64_t)getgid());
    OK(ls_recv_fds(a, 10000, b, sizeof b, &n, got, 4, &nf));
    CHECK(n == 1 && b[0] == 'F' && nf == 2);
    if (nf == 2) {
        /* The file: opened by the child, read here. */
        ssize_t k = pread(got[0], text, sizeof text - 1, 0);
        CHECK(k == 25);
        text[k > 0 ? k : 0] = 0;
        CHECK(strcmp(text, "the file the child opened") == 0);
        /* The socket: the child's pair, answered here. */
        CHECK(read(got[1], text, 4) == 4 && memcmp(text, "ping", 4) == 0);
        CHECK(write(got[1], "pong", 4) == 4);
    }
    for (i = 0; i < nf; i++) close(got[i]);
    CHECK(child_wait_for(&ch, "fds-child ok", 10000));
    if (!strstr(ch.text, "fds-child ok")) fprintf(stderr, "  child said: %s\n", ch.text);
    child_end(&ch);
    OK(ls_close(a));
    OK(ls_close(l));
}

/* ---- interop with the protocol's standard-library implementation (peers/lsf_peer.py) ----------- */

/* Run python-tests/peers/lsf_peer.py in a child: "recv PORTFILE OUT" listens, prints "PORT n",
 * receives one file into OUT and prints "RESULT sha256 ok resumed_at"; "send ADDRESS PATH UPTO"
 * connects and sends PATH (stopping after UPTO bytes when UPTO > 0), printing the same. */
static int lsf_spawn(struct child *c, const char *mode, const char *a1, const char *a2, const char *a3) {
    static const char script[] =
        "import os, socket, sys\n"
        "sys.path.insert(0, os.path.dirname(sys.argv[1]))\n"
        "import lsf_peer\n"
        "mode = sys.argv[2]\n"
        "if mode == 'recv':\n"
        "    s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(1); s.settimeout(30)\n"
        "    print('PORT', s.getsockname()[1], flush=True)\n"
        "    conn, _ = s.accept(); conn.settimeout(30)\n"
        "    r = lsf_peer.recv(conn, sys.argv[3])\n"
        "else:\n"
        "    host, port = sys.argv[3].rsplit(':', 1)\n"
        "    conn = socket.create_connection((host, int(port)), timeout=30)\n"
        "    upto = int(sys.argv[5])\n"
        "    r = lsf_peer.send(conn, sys.argv[4], upto=upto if upto > 0 else None)\n"
        "    conn.close()\n"
        "print('RESULT', r['sha256'] or '-', r['ok'], r['resumed_at'], flush=True)\n";
    const char *peer = getenv("LS_TEST_PEER");
    char *argv[9];
    if (!peer) peer = "python-tests/peers/stdlib_peer.py";
    argv[0] = (char *)"python3";
    argv[1] = (char *)"-c";
    argv[2] = (char *)script;
    argv[3] = (char *)peer; /* lsf_peer.py is beside it */
    argv[4] = (char *)mode;
    argv[5] = (char *)a1;
    argv[6] = (char *)a2;
    argv[7] = (char *)a3;
    argv[8] = NULL;
    return child_spawn(c, argv, 0);
}

static void t_transfer_python_interop(void) {
    struct child py;
    struct xrun r;
    const char *src = xpath("interop.bin"), *dir = xpath("interop"), *out = xpath("interop/interop.bin");
    char addr[64], sha[80], want[160];
    int64_t c = 0, s = 0, l = 0, a = 0, rv = 0;
    int32_t port = 0;
    uint64_t size = 0, offered = 0, resumed = 0;
    int32_t version = 0;
    size_t n = 0;
    const char *p;
    CHECK(xwrite_random(src, 3000000, 11) == 0);
    CHECK(mkdir(dir, 0700) == 0);
    /* A C sender, the standard-library receiver. */
    CHECK(lsf_spawn(&py, "recv", dir, "", "") == 0);
    CHECK(child_wait_for(&py, "\n", 20000));
    p = strstr(py.text, "PORT ");
    CHECK(p != NULL);
    if (p) {
        snprintf(addr, sizeof addr, "127.0.0.1:%d", atoi(p + 5));
        OK(ls_tcp_connect(addr, 10000, &c));
        OK(ls_set_timeout(c, 30000));
        OK(ls_transfer_sender(src, NULL, 1, &s));
        OK(ls_transfer_run(s, c));
        OK(ls_transfer_sha256(s, sha, sizeof sha, &n));
        snprintf(want, sizeof want, "RESULT %s True 0", sha);
        CHECK(child_wait_for(&py, want, 20000));
        CHECK(xsame_files(src, out));
        OK(ls_close(s));
        OK(ls_close(c));
    }
    child_end(&py);
    unlink(out);
    /* The standard-library sender stops after 1 MB; a C receiver keeps the partial file, and
     * resumes it from a second standard-library sender. */
    OK(ls_listen("127.0.0.1:0", 0, &l));
    OK(ls_local_port(l, &port));
    snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
    CHECK(lsf_spawn(&py, "send", addr, src, "1000000") == 0);
    OK(ls_accept(l, 20000, &a));
    OK(ls_set_timeout(a, 30000));
    OK(ls_transfer_receiver(dir, 0, 0, &rv));
    CHECK_RC(ls_transfer_run(rv, a), LS_ERR_CLOSED);
    CHECK(child_wait_for(&py, "RESULT - False 0", 20000));
    child_end(&py);
    CHECK(xfile_size(xpath("interop/interop.bin.libsock-part")) == 1000000);
    CHECK(!xexists(out));
    OK(ls_close(rv));
    OK(ls_close(a));
    CHECK(lsf_spawn(&py, "send", addr, src, "0") == 0);
    OK(ls_accept(l, 20000, &a));
    OK(ls_set_timeout(a, 30000));
    OK(ls_transfer_receiver(dir, 0, 1, &rv));
    xrun_start(&r, rv, a);
    CHECK(pthread_join(r.th, NULL) == 0);
    CHECK_RC(r.rc, LS_OK);
    OK(ls_transfer_info(rv, &size, &version, &offered, &resumed));
    CHECK(size == 3000000 && version == 2 && offered == 1000000 && resumed == 1000000);
    OK(ls_transfer_sha256(rv, sha, sizeof sha, &n));
    snprintf(want, sizeof want, "RESULT %s True 1000000", sha);
    CHECK(child_wait_for(&py, want, 20000));
    if (!strstr(py.text, want)) fprintf(stderr, "  lsf_peer said: %s\n", py.text);
    child_end(&py);
    CHECK(xsame_files(src, out));
    OK(ls_close(rv));
    OK(ls_close(a));
    OK(ls_close(l));
    unlink(src);
}

/* Remove the run's temporary directory and what the tests left in it. */
static void t_xfer_cleanup(void) {
    char cmd[300];
    if (!g_xdir[0]) return;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_xdir);
    CHECK(system(cmd) == 0);
    g_xdir[0] = 0;
}
