/*
 * TLS tests of the C ABI (included by test_c.c, which provides CHECK, OK, the BSD-socket peers
 * and rng_fill): the ls_tls_* config setters and their refusals, and scenarios S18-S21 of
 * docs/SCENARIOS.md against real peers: libsock on both sides, openssl s_server and s_client
 * (spawned with bounded waits; killed at the end of each test), certificates made by
 * `openssl req` / `openssl x509` (a test CA, a server and a client certificate) and by
 * ls_tls_self_signed.
 */

#include <fcntl.h>
#include <sys/stat.h>

/* ---- the test PKI (made once per run, in a temporary directory) ---------------------------- */

static char g_pki[256];

/* Path of file `name` of the test PKI, in a static ring of buffers. */
static const char *pki(const char *name) {
    static char bufs[8][320];
    static int k;
    char *b = bufs[k++ % 8];
    snprintf(b, sizeof bufs[0], "%s/%s", g_pki, name);
    return b;
}

/* Make the CA, the server (localhost, 127.0.0.1) and client certificates with openssl; 0 on
 * success. */
static int pki_make(void) {
    char cmd[2048];
    if (g_pki[0]) return 0;
    strcpy(g_pki, "/tmp/ls-c-tls-XXXXXX");
    if (!mkdtemp(g_pki)) {
        g_pki[0] = 0;
        return -1;
    }
    snprintf(cmd, sizeof cmd,
             "cd '%s' && timeout 120 sh -c '"
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key"
             " -out ca.pem -days 30 -subj \"/CN=libsock test CA\" && "
             "printf \"subjectAltName=DNS:localhost,IP:127.0.0.1\\n\" > server.ext && "
             "printf \"subjectAltName=DNS:client\\n\" > client.ext && "
             "for n in server client; do "
             "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout $n.key"
             " -out $n.csr -subj /CN=$n && "
             "openssl x509 -req -in $n.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out $n.pem"
             " -days 30 -extfile $n.ext || exit 1; done' >/dev/null 2>&1",
             g_pki);
    if (system(cmd) != 0) {
        fprintf(stderr, "  openssl could not make the test certificates (is openssl installed?)\n");
        return -1;
    }
    return 0;
}

static void pki_remove(void) {
    char cmd[400];
    if (!g_pki[0]) return;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_pki);
    if (system(cmd) != 0) {
    }
    g_pki[0] = 0;
}

/* Read a whole (small) file into buf, NUL-terminated; its length, or -1. */
static long slurp(const char *path, char *buf, size_t cap) {
    FILE *f = fopen(path, "rb");
    size_t n;
    if (!f) return -1;
    n = fread(buf, 1, cap - 1, f);
    fclose(f);
    buf[n] = 0;
    return (long)n;
}

/* ---- child processes (openssl), with bounded waits ------------------------------------------ */

struct child {
    pid_t pid;
    int out; /* its stdout and stderr */
    int in;  /* its stdin, or -1 (then /dev/null) */
    char text[8192];
    size_t len;
};

static int child_spawn(struct child *c, char *const argv[], int want_stdin) {
    int op[2], ip[2] = {-1, -1};
    memset(c, 0, sizeof *c);
    c->in = -1;
    if (pipe(op) != 0) return -1;
    if (want_stdin && pipe(ip) != 0) return -1;
    c->pid = fork();
    if (c->pid < 0) return -1;
    if (c->pid == 0) {
        int devnull = open("/dev/null", O_RDONLY);
        dup2(want_stdin ? ip[0] : devnull, 0);
        dup2(op[1], 1);
        dup2(op[1], 2);
        close(op[0]);
        if (want_stdin) close(ip[1]);
        execvp(argv[0], argv);
        _exit(127);
    }
    close(op[1]);
    c->out = op[0];
    if (want_stdin) {
        close(ip[0]);
        c->in = ip[1];
    }
    return 0;
}

/* Collect the child's output until it contains `needle` (NULL: until EOF) or `within_ms` pass;
 * 1 when found (or EOF was wanted and came). */
static int child_wait_for(struct child *c, const char *needle, int within_ms) {
    double end = now_ms() + within_ms;
    for (;;) {
        struct pollfd p;
        ssize_t k;
        int left = (int)(end - now_ms());
        if (needle && strstr(c->text, needle)) return 1;
        if (left <= 0) return 0;
        p.fd = c->out;
        p.events = POLLIN;
        if (poll(&p, 1, left) <= 0) continue;
        if (c->len + 1 >= sizeof c->text) return 0;
        k = read(c->out, c->text + c->len, sizeof c->text - 1 - c->len);
        if (k <= 0) return needle ? strstr(c->text, needle) != NULL : 1;
        c->len += (size_t)k;
        c->text[c->len] = 0;
    }
}

static void child_end(struct child *c) {
    int st;
    if (c->pid <= 0) return;
    kill(c->pid, SIGKILL);
    waitpid(c->pid, &st, 0);
    close(c->out);
    if (c->in >= 0) close(c->in);
    c->pid = 0;
}

/* openssl s_server's port, from its "ACCEPT [::]:PORT" line; 0 if it did not say. */
static int s_server_port(struct child *c) {
    const char *a, *colon;
    if (!child_wait_for(c, "ACCEPT", 10000)) return 0;
    if (!child_wait_for(c, "\n", 2000)) return 0;
    a = strstr(c->text, "ACCEPT");
    colon = strchr(a, '\n');
    while (colon > a && colon[-1] != ':') colon--;
    return atoi(colon);
}

/* ---- a libsock TLS server on a thread ------------------------------------------------------- */

#define TLS_MAX_ACCEPTS 4

/* Accepts `accepts` clients one after the other on `listener`; echoes each until it closes.
 * Records each accept's return code and message, and the client's certificate fingerprint. */
struct tls_server {
    int64_t listener;
    int accepts;
    int32_t rc[TLS_MAX_ACCEPTS];
    char msg[TLS_MAX_ACCEPTS][256];
    char peer_fp[TLS_MAX_ACCEPTS][LS_FINGERPRINT_MAX];
    char version[TLS_MAX_ACCEPTS][32];
    pthread_t th;
};

static void *tls_server_main(void *arg) {
    struct tls_server *s = (struct tls_server *)arg;
    int i;
    for (i = 0; i < s->accepts; i++) {
        int64_t c = 0;
        size_t n = 0;
        uint8_t buf[16384];
        s->rc[i] = ls_accept(s->listener, 10000, &c);
        if (s->rc[i] != LS_OK) {
            snprintf(s->msg[i], sizeof s->msg[i], "%s", ls_last_error());
            continue;
        }
        ls_tls_peer_fingerprint(c, s->peer_fp[i], sizeof s->peer_fp[i], &n);
        ls_tls_version(c, s->version[i], sizeof s->version[i], &n);
        for (;;) {
            if (ls_recv(c, 10000, buf, sizeof buf, &n) != LS_OK || n == 0) break;
            if (ls_send_all(c, buf, n) != LS_OK) break;
        }
        ls_close(c);
    }
    return NULL;
}

/* Listen with TLS config `tls` on 127.0.0.1:0 and serve `accepts` clients on a thread. */
static int tls_server_start(struct tls_server *s, int64_t tls, int accepts, char *addr, size_t cap) {
    int64_t opts = 0;
    int32_t port = 0;
    memset(s, 0, sizeof *s);
    s->accepts = accepts;
    OK(ls_options_new(&opts));
    OK(ls_options_set_tls(opts, tls));
    OK(ls_listen_ex("127.0.0.1:0", 0, opts, &s->listener));
    OK(ls_close(opts));
    if (s->listener == 0) return -1;
    OK(ls_local_port(s->listener, &port));
    snprintf(addr, cap, "127.0.0.1:%d", (int)port);
    return pthread_create(&s->th, NULL, tls_server_main, s);
}

static void tls_server_join(struct tls_server *s) {
    pthread_join(s->th, NULL);
    OK(ls_close(s->listener));
}

/* Connect with TLS config `tls`; the return code (and *out the connection on success). */
static int32_t tls_connect(const char *addr, int64_t tls, int64_t *out) {
    int64_t opts = 0;
    int32_t rc;
    *out = 0;
    OK(ls_options_new(&opts));
    OK(ls_options_set_tls(opts, tls));
    rc = ls_tcp_connect_ex(addr, 10000, opts, out);
    OK(ls_close(opts));
    return rc;
}

/* The last error contains `text`. */
static int last_error_has(const char *text) { return strstr(ls_last_error(), text) != NULL; }

/* Send `total` deterministic bytes in chunks and read each chunk's echo; 1 when byte-exact. */
static int echo_exact(int64_t c, size_t total) {
    static uint8_t out[65536], in[65536];
    uint64_t seed = 18;
    size_t done = 0;
    while (done < total) {
        size_t k = total - done < sizeof out ? total - done : sizeof out;
        rng_fill(&seed, out, k);
        if (ls_send_all(c, out, k) != LS_OK) return 0;
        if (ls_recv_exact(c, 10000, in, k) != LS_OK) return 0;
        if (memcmp(in, out, k) != 0) return 0;
        done += k;
    }
    return 1;
}

/* ---- tests ------------------------------------------------------------------------------------ */

static void t_tls_config_refusals(void) {
    int64_t cli = 0, srv = 0, opts = 0, h = 0, plain_l = 0, c = 0;
    char buf[128];
    size_t n = 99;
    int32_t v = 7;
    struct peer p;
    OK(ls_tls_client_config_new(&cli));
    OK(ls_tls_server_config_new(&srv));
    CHECK(cli > 0 && srv > cli);
    /* A setting of the other side. */
    CHECK_RC(ls_tls_add_pin(srv, "00"), LS_ERR_INVALID_ARGUMENT);
    CHECK(last_error_has("client setting"));
    CHECK_RC(ls_tls_set_client_auth(cli, LS_TLS_CLIENT_AUTH_NONE, NULL, 0), LS_ERR_INVALID_ARGUMENT);
    CHECK(last_error_has("server setting"));
    /* Bad values, each named. */
    CHECK_RC(ls_tls_add_pin(cli, "abc"), LS_ERR_INVALID_ARGUMENT);
    CHECK(last_error_has("64 hex digits"));
    CHECK_RC(ls_tls_set_min_version(cli, 11), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_tls_set_handshake_timeout(cli, -1), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_tls_set_keylog(cli, 2), LS_ERR_INVALID_ARGUMENT);
    /* Settings core refuses when the config is built, at the connect that builds it (before
     * any connection is made: nobody listens at port 1), with core's message. */
    {
        int64_t bad = 0;
        OK(ls_tls_client_config_new(&bad));
        OK(ls_tls_add_alpn(bad, ""));
        CHECK_RC(tls_connect("127.0.0.1:1", bad, &h), LS_ERR_INVALID_ARGUMENT);
        CHECK(last_error_has("ALPN"));
        OK(ls_close(bad));
        OK(ls_tls_client_config_new(&bad));
        OK(ls_tls_set_server_name(bad, ""));
        CHECK_RC(tls_connect("127.0.0.1:1", bad, &h), LS_ERR_INVALID_ARGUMENT);
        CHECK(last_error_has("server name"));
        OK(ls_close(bad));
        OK(ls_tls_client_config_new(&bad));
        OK(ls_tls_set_handshake_timeout(bad, 0));
        CHECK_RC(tls_connect("127.0.0.1:1", bad, &h), LS_ERR_INVALID_ARGUMENT);
        CHECK(last_error_has("handshake timeout"));
        OK(ls_close(bad));
        CHECK(h == 0);
    }
    CHECK_RC(ls_tls_set_ca_pem(cli, (const uint8_t *)"not pem", 7), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_tls_set_ca_file(cli, "/nonexistent/ca.pem"), LS_ERR_IO);
    CHECK(last_error_has("/nonexistent/ca.pem"));
    CHECK_RC(ls_tls_set_client_auth(srv, LS_TLS_CLIENT_AUTH_REQUIRED, NULL, 0), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_tls_set_client_auth(srv, 3, NULL, 0), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_tls_set_ca_file(cli, NULL), LS_ERR_INVALID_ARGUMENT);
    CHECK_RC(ls_tls_client_config_new(NULL), LS_ERR_INVALID_ARGUMENT);
    /* Handles of the wrong kind. */
    OK(ls_options_new(&opts));
    CHECK_RC(ls_tls_add_alpn(opts, "h2"), LS_ERR_BAD_HANDLE);
    CHECK(last_error_has("TLS config"));
    CHECK_RC(ls_options_set_tls(cli, srv), LS_ERR_BAD_HANDLE);
    CHECK_RC(ls_options_set_tls(opts, opts), LS_ERR_BAD_HANDLE);
    CHECK_RC(ls_tls_config_free(opts), LS_ERR_BAD_HANDLE);
    /* A server config without a certificate cannot listen; a client config cannot serve. */
    OK(ls_options_set_tls(opts, srv));
    CHECK_RC(ls_listen_ex("127.0.0.1:0", 0, opts, &h), LS_ERR_INVALID_ARGUMENT);
    CHECK(last_error_has("certificate"));
    OK(ls_options_set_tls(opts, cli));
    CHECK_RC(ls_listen_ex("127.0.0.1:0", 0, opts, &h), LS_ERR_INVALID_ARGUMENT);
    CHECK(last_error_has("client TLS config"));
    /* Datagram sockets do not speak TLS. */
    CHECK_RC(ls_udp_bind_ex("127.0.0.1:0", opts, &h), LS_ERR_INVALID_ARGUMENT);
    CHECK(last_error_has("TLS"));
    CHECK(h == 0);
    /* Detaching makes the options plain again. */
    OK(ls_options_set_tls(opts, 0));
    OK(ls_listen_ex("127.0.0.1:0", 0, opts, &plain_l));
    OK(ls_close(plain_l));
    /* A plain connection: not TLS, every query empty. */
    CHECK(peer_start(&p, peer_echo, NULL) == 0);
    c = connect_to(&p);
    OK(ls_is_tls(c, &v));
    CHECK(v == 0);
    OK(ls_tls_version(c, buf, sizeof buf, &n));
    CHECK(n == 0 && buf[0] == 0);
    OK(ls_tls_peer_certificate(c, NULL, 0, &n));
    CHECK(n == 0);
    CHECK_RC(ls_is_tls(opts, &v), LS_ERR_BAD_HANDLE);
    OK(ls_close(c));
    peer_join(&p);
    /* Freeing: once, then the handle is gone. */
    OK(ls_close(opts));
    OK(ls_tls_config_free(cli));
    CHECK_RC(ls_tls_config_free(cli), LS_ERR_BAD_HANDLE);
    OK(ls_close(srv));
    OK(ls_tls_config_free(0));
}

static void t_tls_self_signed_and_fingerprints(void) {
    static char cert[8192], key[8192], pem[8192];
    char fp1[LS_FINGERPRINT_MAX], fp2[LS_FINGERPRINT_MAX], pin[LS_FINGERPRINT_MAX];
    size_t cl = 0, kl = 0, n = 0;
    char path_c[300], path_k[300];
    struct stat st;
    /* Too small: both sizes reported, nothing written. */
    CHECK_RC(ls_tls_self_signed("localhost", (uint8_t *)cert, 10, &cl, (uint8_t *)key, sizeof key, &kl), LS_ERR_BUFFER_TOO_SMALL);
    CHECK(cl > 100 && kl > 100);
    OK(ls_tls_self_signed("localhost, 127.0.0.1", (uint8_t *)cert, sizeof cert, &cl, (uint8_t *)key, sizeof key, &kl));
    CHECK(cl == strlen(cert) && strncmp(cert, "-----BEGIN CERTIFICATE-----", 27) == 0);
    CHECK(kl == strlen(key) && strstr(key, "PRIVATE KEY") != NULL);
    CHECK_RC(ls_tls_self_signed(" , ", (uint8_t *)cert, sizeof cert, &cl, (uint8_t *)key, sizeof key, &kl), LS_ERR_INVALID_ARGUMENT);
    OK(ls_fingerprint((const uint8_t *)cert, strlen(cert), (uint8_t *)fp1, sizeof fp1, &n));
    CHECK(n == 64);
    CHECK_RC(ls_fingerprint((const uint8_t *)cert, strlen(cert), (uint8_t *)fp2, 64, &n), LS_ERR_BUFFER_TOO_SMALL);
    CHECK(n == 65);
    CHECK_RC(ls_fingerprint((const uint8_t *)"-----BEGIN nothing", 18, (uint8_t *)fp2, sizeof fp2, &n),
             LS_ERR_INVALID_ARGUMENT);
    /* Into files: the key is private to its owner, the pin is the certificate's fingerprint. */
    CHECK(pki_make() == 0);
    snprintf(path_c, sizeof path_c, "%s", pki("device.pem"));
    snprintf(path_k, sizeof path_k, "%s", pki("device.key"));
    OK(ls_tls_self_signed_files("device.local,127.0.0.1", path_c, path_k, (uint8_t *)pin, sizeof pin, &n));
    CHECK(n == 64);
    CHECK(stat(path_k, &st) == 0 && (st.st_mode & 077) == 0);
    CHECK(slurp(path_c, pem, sizeof pem) > 0);
    OK(ls_fingerprint((const uint8_t *)pem, strlen(pem), (uint8_t *)fp2, sizeof fp2, &n));
    CHECK(strcmp(fp2, pin) == 0);
    CHECK_RC(ls_tls_self_signed_files("x", "/nonexistent/c.pem", "/nonexistent/k.pem", (uint8_t *)pin, sizeof pin, &n),
             LS_ERR_IO);
}

/* S18: a server certificate signed by a test CA; the client trusts the CA and checks the name:
 * 1 MiB byte-exact through TLS (libsock both sides), the agreed version, cipher and the peer's
 * certificate; a wrong name gives LS_ERR_TLS ("name mismatch"); and against openssl s_server
 * (ALPN agreed) and openssl s_client (TLS 1.3 only, verifying our server with the CA). */
static void s18_tls_ca_trust_echo(void) {
    int64_t srv = 0, cli = 0, bad = 0, c = 0;
    struct tls_server s;
    char addr[64], text[128];
    static uint8_t der[8192];
    char fp[LS_FINGERPRINT_MAX], fp_der[LS_FINGERPRINT_MAX], pem[8192];
    size_t n = 0, dl = 0;
    int32_t is = 0;
    struct child ch;
    char port_s[64], connect_s[64];
    if (pki_make() != 0) {
        CHECK(!"openssl made the test PKI");
        return;
    }
    OK(ls_tls_server_config_new(&srv));
    OK(ls_tls_set_cert_files(srv, pki("server.pem"), pki("server.key")));
    OK(ls_tls_add_alpn(srv, "x-echo"));
    OK(ls_tls_client_config_new(&cli));
    OK(ls_tls_set_ca_file(cli, pki("ca.pem")));
    OK(ls_tls_add_alpn(cli, "x-other"));
    OK(ls_tls_add_alpn(cli, "x-echo"));
    OK(ls_tls_client_config_new(&bad));
    OK(ls_tls_set_ca_file(bad, pki("ca.pem")));
    OK(ls_tls_set_server_name(bad, "wrong.example"));
    CHECK(tls_server_start(&s, srv, 2, addr, sizeof addr) == 0);
    OK(tls_connect(addr, cli, &c));
    OK(ls_is_tls(c, &is));
    CHECK(is == 1);
    OK(ls_tls_version(c, text, sizeof text, &n));
    CHECK(strcmp(text, "TLSv1.3") == 0);
    OK(ls_tls_cipher(c, text, sizeof text, &n));
    CHECK(strncmp(text, "TLS13_", 6) == 0);
    OK(ls_tls_alpn(c, text, sizeof text, &n));
    CHECK(strcmp(text, "x-echo") == 0);
    /* The peer's certificate: its DER's fingerprint is the PEM file's and the one reported. */
    CHECK_RC(ls_tls_peer_certificate(c, der, 10, &dl), LS_ERR_BUFFER_TOO_SMALL);
    CHECK(dl > 100 && dl < sizeof der);
    OK(ls_tls_peer_certificate(c, der, sizeof der, &dl));
    OK(ls_fingerprint(der, dl, (uint8_t *)fp_der, sizeof fp_der, &n));
    OK(ls_tls_peer_fingerprint(c, fp, sizeof fp, &n));
    CHECK(n == 64 && strcmp(fp, fp_der) == 0);
    CHECK(slurp(pki("server.pem"), pem, sizeof pem) > 0);
    OK(ls_fingerprint((const uint8_t *)pem, strlen(pem), (uint8_t *)fp_der, sizeof fp_der, &n));
    CHECK(strcmp(fp, fp_der) == 0);
    CHECK(echo_exact(c, 1 << 20));
    /* Half-close (close_notify): the server sees the end, closes, and we read a clean end. */
    OK(ls_socket_shutdown(c, LS_SHUT_WRITE));
    OK(ls_recv(c, 10000, der, sizeof der, &n));
    CHECK(n == 0);
    OK(ls_close(c));
    /* The wrong name: refused by the client, with the reason. */
    CHECK_RC(tls_connect(addr, bad, &c), LS_ERR_TLS);
    CHECK(last_error_has("name mismatch"));
    CHECK(c == 0);
    tls_server_join(&s);
    CHECK(s.rc[0] == LS_OK);
    CHECK(strcmp(s.version[0], "TLSv1.3") == 0);
    CHECK(s.rc[1] == LS_ERR_TLS);
    /* libsock client -> openssl s_server (reverses each line), ALPN agreed, CA trusted. */
    {
        char *argv[] = {"openssl", "s_server", "-accept", "0", "-cert", NULL, "-key", NULL,
                        "-rev", "-naccept", "1", "-alpn", "x-echo", NULL};
        char cert_p[300], key_p[300];
        snprintf(cert_p, sizeof cert_p, "%s", pki("server.pem"));
        snprintf(key_p, sizeof key_p, "%s", pki("server.key"));
        argv[5] = cert_p;
        argv[7] = key_p;
        CHECK(child_spawn(&ch, argv, 0) == 0);
        snprintf(connect_s, sizeof connect_s, "127.0.0.1:%d", s_server_port(&ch));
        OK(tls_connect(connect_s, cli, &c));
        OK(ls_tls_alpn(c, text, sizeof text, &n));
        CHECK(strcmp(text, "x-echo") == 0);
        OK(ls_send_all(c, (const uint8_t *)"hello\n", 6));
        OK(ls_recv_until(c, 10000, (const uint8_t *)"\n", 1, (uint8_t *)text, sizeof text, &n));
        CHECK(n == 6 && memcmp(text, "olleh\n", 6) == 0);
        OK(ls_close(c));
        child_end(&ch);
    }
    /* openssl s_client -> libsock server, TLS 1.3 only, verifying the server with the CA. */
    CHECK(tls_server_start(&s, srv, 1, addr, sizeof addr) == 0);
    snprintf(port_s, sizeof port_s, "%s", addr);
    {
        char ca_p[300];
        char *argv[] = {"openssl", "s_client", "-connect", NULL, "-CAfile", NULL, "-verify_return_error",
                        "-alpn", "x-echo", "-tls1_3", "-quiet", NULL};
        snprintf(ca_p, sizeof ca_p, "%s", pki("ca.pem"));
        argv[3] = port_s;
        argv[5] = ca_p;
        CHECK(child_spawn(&ch, argv, 1) == 0);
        CHECK(write(ch.in, "from s_client\n", 14) == 14);
        /* The server echoes it; s_client prints it. */
        CHECK(child_wait_for(&ch, "from s_client", 10000));
        close(ch.in);
        ch.in = -1;
        child_end(&ch);
    }
    tls_server_join(&s);
    CHECK(s.rc[0] == LS_OK);
    OK(ls_close(srv));
    OK(ls_close(cli));
    OK(ls_close(bad));
}

/* S19: a pinned self-signed certificate (no CA): the right pin connects, a wrong one gives
 * LS_ERR_TLS ("pin mismatch"); and the pin against openssl s_server limited to TLS 1.2. */
static void s19_tls_pinned_self_signed(void) {
    static char cert[8192], key[8192];
    char pin[LS_FINGERPRINT_MAX], other[LS_FINGERPRINT_MAX], fp[LS_FINGERPRINT_MAX], addr[64], text[64];
    size_t cl = 0, kl = 0, n = 0;
    int64_t srv = 0, good = 0, wrong = 0, c = 0;
    struct tls_server s;
    struct child ch;
    OK(ls_tls_self_signed("device.local,127.0.0.1", (uint8_t *)cert, sizeof cert, &cl, (uint8_t *)key, sizeof key, &kl));
    OK(ls_fingerprint((const uint8_t *)cert, cl, (uint8_t *)pin, sizeof pin, &n));
    OK(ls_tls_server_config_new(&srv));
    OK(ls_tls_set_cert_pem(srv, (const uint8_t *)cert, cl, (const uint8_t *)key, kl));
    OK(ls_tls_client_config_new(&good));
    OK(ls_tls_add_pin(good, "00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff:00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff"));
    OK(ls_tls_add_pin(good, pin)); /* several pins: any one matches */
    memcpy(other, pin, sizeof other);
    other[0] = other[0] == '0' ? '1' : '0';
    OK(ls_tls_client_config_new(&wrong));
    OK(ls_tls_add_pin(wrong, other));
    CHECK(tls_server_start(&s, srv, 2, addr, sizeof addr) == 0);
    OK(tls_connect(addr, good, &c));
    OK(ls_tls_peer_fingerprint(c, fp, sizeof fp, &n));
    CHECK(strcmp(fp, pin) == 0);
    CHECK(echo_exact(c, 100000));
    OK(ls_close(c));
    CHECK_RC(tls_connect(addr, wrong, &c), LS_ERR_TLS);
    CHECK(last_error_has("pin mismatch"));
    tls_server_join(&s);
    CHECK(s.rc[0] == LS_OK && s.rc[1] == LS_ERR_TLS);
    /* openssl s_server with a certificate from ls_tls_self_signed_files, TLS 1.2 only. */
    if (pki_make() == 0) {
        char cert_p[300], key_p[300], port_addr[64];
        char *argv[] = {"openssl", "s_server", "-accept", "0", "-cert", NULL, "-key", NULL,
                        "-tls1_2", "-rev", "-naccept", "1", NULL};
        int64_t pinned = 0;
        snprintf(cert_p, sizeof cert_p, "%s", pki("s19.pem"));
        snprintf(key_p, sizeof key_p, "%s", pki("s19.key"));
        OK(ls_tls_self_signed_files("127.0.0.1", cert_p, key_p, (uint8_t *)pin, sizeof pin, &n));
        OK(ls_tls_client_config_new(&pinned));
        OK(ls_tls_add_pin(pinned, pin));
        argv[5] = cert_p;
        argv[7] = key_p;
        CHECK(child_spawn(&ch, argv, 0) == 0);
        snprintf(port_addr, sizeof port_addr, "127.0.0.1:%d", s_server_port(&ch));
        OK(tls_connect(port_addr, pinned, &c));
        OK(ls_tls_version(c, text, sizeof text, &n));
        CHECK(strcmp(text, "TLSv1.2") == 0);
        OK(ls_send_all(c, (const uint8_t *)"pinned\n", 7));
        OK(ls_recv_until(c, 10000, (const uint8_t *)"\n", 1, (uint8_t *)text, sizeof text, &n));
        CHECK(n == 7 && memcmp(text, "dennip\n", 7) == 0);
        OK(ls_close(c));
        child_end(&ch);
        OK(ls_close(pinned));
    }
    OK(ls_close(srv));
    OK(ls_close(good));
    OK(ls_close(wrong));
}

/* S20: mutual TLS, the server requires a client certificate: with one the echo works and the
 * server sees the client's certificate; without one the server's accept says why and the
 * client gets LS_ERR_TLS (no hang); openssl s_client with the client certificate works. */
static void s20_tls_mutual(void) {
    int64_t srv = 0, with = 0, without = 0, c = 0;
    struct tls_server s;
    char addr[64], fp[LS_FINGERPRINT_MAX], pem[8192];
    size_t n = 0;
    uint8_t buf[64];
    int32_t rc;
    struct child ch;
    if (pki_make() != 0) {
        CHECK(!"openssl made the test PKI");
        return;
    }
    OK(ls_tls_server_config_new(&srv));
    OK(ls_tls_set_cert_files(srv, pki("server.pem"), pki("server.key")));
    OK(ls_tls_set_client_auth_file(srv, LS_TLS_CLIENT_AUTH_REQUIRED, pki("ca.pem")));
    OK(ls_tls_client_config_new(&with));
    OK(ls_tls_set_ca_file(with, pki("ca.pem")));
    OK(ls_tls_set_cert_files(with, pki("client.pem"), pki("client.key")));
    OK(ls_tls_client_config_new(&without));
    OK(ls_tls_set_ca_file(without, pki("ca.pem")));
    CHECK(tls_server_start(&s, srv, 3, addr, sizeof addr) == 0);
    OK(tls_connect(addr, with, &c));
    CHECK(echo_exact(c, 65536));
    OK(ls_close(c));
    /* Without a certificate: TLS 1.3 lets the client finish first, so its refusal comes at
     * connect or at the first read: LS_ERR_TLS either way, never a hang or a timeout. */
    rc = tls_connect(addr, without, &c);
    if (rc == LS_OK) {
        rc = ls_recv(c, 10000, buf, sizeof buf, &n);
        OK(ls_close(c));
    }
    CHECK_RC(rc, LS_ERR_TLS);
    CHECK(last_error_has("client certificate"));
    /* openssl s_client presenting the client certificate. */
    {
        char cert_p[300], key_p[300], ca_p[300];
        char *argv[] = {"openssl", "s_client", "-connect", NULL, "-CAfile", NULL, "-cert", NULL,
                        "-key", NULL, "-verify_return_error", "-quiet", NULL};
        snprintf(cert_p, sizeof cert_p, "%s", pki("client.pem"));
        snprintf(key_p, sizeof key_p, "%s", pki("client.key"));
        snprintf(ca_p, sizeof ca_p, "%s", pki("ca.pem"));
        argv[3] = addr;
        argv[5] = ca_p;
        argv[7] = cert_p;
        argv[9] = key_p;
        CHECK(child_spawn(&ch, argv, 1) == 0);
        CHECK(write(ch.in, "mtls from s_client\n", 19) == 19);
        CHECK(child_wait_for(&ch, "mtls from s_client", 10000));
        close(ch.in);
        ch.in = -1;
        child_end(&ch);
    }
    tls_server_join(&s);
    CHECK(s.rc[0] == LS_OK);
    CHECK(s.rc[1] == LS_ERR_TLS && strstr(s.msg[1], "no client certificate") != NULL);
    CHECK(s.rc[2] == LS_OK);
    /* The server saw the client's certificate, both times. */
    CHECK(slurp(pki("client.pem"), pem, sizeof pem) > 0);
    OK(ls_fingerprint((const uint8_t *)pem, strlen(pem), (uint8_t *)fp, sizeof fp, &n));
    CHECK(strcmp(s.peer_fp[0], fp) == 0 && strcmp(s.peer_fp[2], fp) == 0);
    OK(ls_close(srv));
    OK(ls_close(with));
    OK(ls_close(without));
}

/* S21: a plaintext client against a TLS server (accept says LS_ERR_TLS, and the server keeps
 * serving), a TLS client against a plaintext server (LS_ERR_TLS: "not TLS"), and a silent
 * server during the handshake (LS_ERR_TIMEOUT within the handshake timeout, not a hang). */
static void s21_tls_plaintext_and_silent_peers(void) {
    int64_t srv = 0, cli = 0, c = 0, plain = 0;
    struct tls_server s;
    char addr[64];
    static const uint8_t banner[] = "SSH-2.0-OpenSSH_9.2\r\n";
    struct blob b;
    struct peer p;
    size_t n = 0;
    uint8_t buf[64];
    if (pki_make() != 0) {
        CHECK(!"openssl made the test PKI");
        return;
    }
    OK(ls_tls_server_config_new(&srv));
    OK(ls_tls_set_cert_files(srv, pki("server.pem"), pki("server.key")));
    OK(ls_tls_client_config_new(&cli));
    OK(ls_tls_set_ca_file(cli, pki("ca.pem")));
    CHECK(tls_server_start(&s, srv, 2, addr, sizeof addr) == 0);
    /* A plaintext client: the server refuses it with the TLS error; the client sees the end. */
    OK(ls_tcp_connect(addr, 5000, &plain));
    OK(ls_send_all(plain, (const uint8_t *)"GET / HTTP/1.0\r\n\r\n", 18));
    {
        int32_t rc = ls_recv(plain, 10000, buf, sizeof buf, &n);
        CHECK(rc == LS_OK || rc == LS_ERR_CONNECTION_RESET);
    }
    OK(ls_close(plain));
    /* ... and keeps serving TLS clients. */
    OK(tls_connect(addr, cli, &c));
    CHECK(echo_exact(c, 1000));
    OK(ls_close(c));
    tls_server_join(&s);
    CHECK(s.rc[0] == LS_ERR_TLS);
    CHECK(s.rc[1] == LS_OK);
    /* A TLS client meets a plaintext server. */
    b.data = banner;
    b.len = sizeof banner - 1;
    OK(ls_tls_set_dangerous_no_verify(cli));
    CHECK(peer_start(&p, peer_send_blob, &b) == 0);
    CHECK_RC(tls_connect(p.addr, cli, &c), LS_ERR_TLS);
    CHECK(last_error_has("not TLS"));
    peer_join(&p);
    /* A silent server: the handshake timeout ends the wait. */
    OK(ls_tls_set_handshake_timeout(cli, 300));
    CHECK(peer_start(&p, peer_silent, NULL) == 0);
    CHECK_RC(tls_connect(p.addr, cli, &c), LS_ERR_TIMEOUT);
    CHECK(last_error_has("TLS handshake"));
    peer_join(&p);
    OK(ls_close(srv));
    OK(ls_close(cli));
}

/* The engine over TLS (S18-S21 on ls_server_* / ls_client_*): a TLS server and a pinned TLS
 * client echo through the engine, a blocking TLS client talks to the engine server; a wrong
 * pin is a client disconnect with LS_REASON_TLS and a server LS_EVENT_WARNING with LS_ERR_TLS,
 * each counted in LS_STAT_TLS_FAILURES; a plaintext client is a server warning too. */
static void t_engine_tls(void) {
    static char cert[8192], key[8192];
    char pin[LS_FINGERPRINT_MAX], other[LS_FINGERPRINT_MAX], addr[64];
    size_t cl = 0, kl = 0, n = 0;
    int64_t srv_tls = 0, cli_tls = 0, bad_tls = 0, scfg = 0, ccfg = 0, bcfg = 0;
    int64_t s = 0, c = 0, b = 0, blocking = 0, plain = 0;
    uint8_t buf[64];
    struct ev e;
    OK(ls_tls_self_signed("localhost,127.0.0.1", (uint8_t *)cert, sizeof cert, &cl, (uint8_t *)key, sizeof key, &kl));
    OK(ls_fingerprint((const uint8_t *)cert, cl, (uint8_t *)pin, sizeof pin, &n));
    memcpy(other, pin, sizeof other);
    other[0] = other[0] == '0' ? '1' : '0';
    OK(ls_tls_server_config_new(&srv_tls));
    OK(ls_tls_set_cert_pem(srv_tls, (const uint8_t *)cert, cl, (const uint8_t *)key, kl));
    OK(ls_tls_client_config_new(&cli_tls));
    OK(ls_tls_add_pin(cli_tls, pin));
    OK(ls_tls_client_config_new(&bad_tls));
    OK(ls_tls_add_pin(bad_tls, other));
    OK(ls_engine_config_new(&scfg));
    OK(ls_engine_config_set_tls(scfg, srv_tls));
    OK(ls_engine_config_new(&ccfg));
    OK(ls_engine_config_set_tls(ccfg, cli_tls));
    OK(ls_engine_config_new(&bcfg));
    OK(ls_engine_config_set(bcfg, LS_ECFG_RECONNECT, 0));
    OK(ls_engine_config_set_tls(bcfg, bad_tls));
    /* Refusals: a server TLS config without a certificate, a TLS config of the wrong kind. */
    {
        int64_t empty = 0;
        OK(ls_tls_server_config_new(&empty));
        CHECK_RC(ls_engine_config_set_tls(scfg, empty), LS_ERR_INVALID_ARGUMENT);
        CHECK_RC(ls_engine_config_set_tls(scfg, scfg), LS_ERR_BAD_HANDLE);
        CHECK_RC(ls_engine_config_set_tls(srv_tls, srv_tls), LS_ERR_BAD_HANDLE);
        OK(ls_close(empty));
    }
    s = engine_listen(scfg, addr, sizeof addr);
    /* The configs took their copies: freeing the TLS configs changes nothing. */
    OK(ls_tls_config_free(srv_tls));
    OK(ls_client_connect(addr, ccfg, &c));
    CHECK(ev_wait_kind(c, LS_EVENT_CONNECTED, 10000, &e));
    CHECK(ev_wait_kind(s, LS_EVENT_CONNECTED, 10000, &e));
    OK(ls_client_send(c, (const uint8_t *)"over tls", 8));
    CHECK(ev_wait_kind(s, LS_EVENT_MESSAGE, 10000, &e));
    CHECK(ev_is(&e, LS_EVENT_MESSAGE, "over tls"));
    OK(ls_server_send(s, e.client, (const uint8_t *)"back over tls", 13));
    CHECK(ev_wait_kind(c, LS_EVENT_MESSAGE, 10000, &e));
    CHECK(ev_is(&e, LS_EVENT_MESSAGE, "back over tls"));
    /* A blocking TLS client (pinned) talks to the engine server with its framing. */
    OK(tls_connect(addr, cli_tls, &blocking));
    OK(ls_set_framing_length(blocking, 4, 1, 0));
    OK(ls_send_msg(blocking, (const uint8_t *)"blocking", 8));
    CHECK(ev_wait_kind(s, LS_EVENT_MESSAGE, 10000, &e));
    CHECK(ev_is(&e, LS_EVENT_MESSAGE, "blocking"));
    OK(ls_server_send(s, e.client, (const uint8_t *)"engine", 6));
    OK(ls_recv_msg(blocking, 10000, buf, sizeof buf, &n));
    CHECK(n == 6 && memcmp(buf, "engine", 6) == 0);
    OK(ls_close(blocking));
    /* A wrong pin: the client's disconnect says TLS and why; the server warns. */
    OK(ls_client_connect(addr, bcfg, &b));
    CHECK(ev_wait_kind(b, LS_EVENT_DISCONNECTED, 10000, &e));
    CHECK(e.value == LS_REASON_TLS);
    e.buf[e.len < sizeof e.buf ? e.len : sizeof e.buf - 1] = 0;
    CHECK(strstr((const char *)e.buf, "pin mismatch") != NULL);
    CHECK(stat_reaches(b, LS_STAT_TLS_FAILURES, 1, 5000));
    CHECK(ev_wait_kind(s, LS_EVENT_WARNING, 10000, &e));
    CHECK(e.value == LS_ERR_TLS && e.client == 0);
    CHECK(stat_reaches(s, LS_STAT_TLS_FAILURES, 1, 5000));
    /* A plaintext client: one more warning and failure; the TLS client is still served. */
    OK(ls_tcp_connect(addr, 5000, &plain));
    OK(ls_send_all(plain, (const uint8_t *)"GET / HTTP/1.0\r\n\r\n", 18));
    CHECK(ev_wait_kind(s, LS_EVENT_WARNING, 10000, &e));
    CHECK(e.value == LS_ERR_TLS);
    CHECK(stat_reaches(s, LS_STAT_TLS_FAILURES, 2, 5000));
    OK(ls_close(plain));
    OK(ls_client_send(c, (const uint8_t *)"still", 5));
    CHECK(ev_wait_kind(s, LS_EVENT_MESSAGE, 10000, &e));
    CHECK(ev_is(&e, LS_EVENT_MESSAGE, "still"));
    /* Graceful close over TLS: the server sees the client leave in order. */
    OK(ls_client_close(c, 1000));
    CHECK(ev_wait_kind(s, LS_EVENT_DISCONNECTED, 10000, &e));
    CHECK(e.value == LS_REASON_PEER_CLOSED);
    OK(ls_close(c));
    OK(ls_close(b));
    OK(ls_close(s));
    OK(ls_close(scfg));
    OK(ls_close(ccfg));
    OK(ls_close(bcfg));
    OK(ls_close(cli_tls));
    OK(ls_close(bad_tls));
}

static void t_tls_cleanup(void) {
    pki_remove();
    CHECK(g_pki[0] == 0);
}
