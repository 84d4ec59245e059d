/*
 * Reading tests-data/bad_inputs.json (the bad-input catalogue) from the C and C++ tests: a small
 * JSON reader (objects, arrays, strings with \u escapes, numbers kept as text, true/false/null),
 * the table's value encodings ({"hex": ..}, {"text", "repeat", "times", "then"}), and the row
 * lookup. C99 and C++ alike (test_c.c and test_cpp.cpp include it); everything is static inline,
 * so an includer that uses only part of it gets no unused-function warning.
 */
#ifndef LIBSOCK_TESTS_BAD_INPUTS_H
#define LIBSOCK_TESTS_BAD_INPUTS_H

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* How long a row may take in its child process (it sets an alarm of this length). */
#define BI_ROW_DEADLINE_MS 30000

enum bi_type { BI_NULL, BI_BOOL, BI_NUM, BI_STR, BI_ARR, BI_OBJ };

typedef struct bi_val {
    enum bi_type type;
    char *s;      /* BI_STR: the bytes (NUL-terminated, may hold NULs); BI_NUM: the number's text */
    size_t len;   /* BI_STR: length of s */
    int b;        /* BI_BOOL */
    struct bi_val *kids; /* BI_ARR, BI_OBJ: the elements / values */
    char **keys;  /* BI_OBJ: the keys */
    size_t n;     /* BI_ARR, BI_OBJ: how many */
} bi_val;

typedef struct {
    const char *p, *end;
    const char *err;
} bi_parser;

static inline void *bi_alloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) {
        fprintf(stderr, "bad_inputs.h: out of memory\n");
        abort();
    }
    return p;
}

static inline void bi_ws(bi_parser *ps) {
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\n' || *ps->p == '\r' || *ps->p == '\t')) ps->p++;
}

static inline int bi_parse(bi_parser *ps, bi_val *out);

static inline void bi_put_utf8(char *buf, size_t *n, unsigned long cp) {
    if (cp < 0x80) {
        buf[(*n)++] = (char)cp;
    } else if (cp < 0x800) {
        buf[(*n)++] = (char)(0xC0 | (cp >> 6));
        buf[(*n)++] = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) { /* lone surrogates too (WTF-8): such rows are for other doors */
        buf[(*n)++] = (char)(0xE0 | (cp >> 12));
        buf[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        buf[(*n)++] = (char)(0x80 | (cp & 0x3F));
    } else {
        buf[(*n)++] = (char)(0xF0 | (cp >> 18));
        buf[(*n)++] = (char)(0x80 | ((cp >> 12) & 0x3F));
        buf[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        buf[(*n)++] = (char)(0x80 | (cp & 0x3F));
    }
}

static inline int bi_hex4(const char *p, unsigned long *out) {
    int i;
    *out = 0;
    for (i = 0; i < 4; i++) {
        char c = p[i];
        *out <<= 4;
        if (c >= '0' && c <= '9') *out |= (unsigned long)(c - '0');
        else if (c >= 'a' && c <= 'f') *out |= (unsigned long)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') *out |= (unsigned long)(c - 'A' + 10);
        else return 0;
    }
    return 1;
}

static inline int bi_string(bi_parser *ps, char **out, size_t *out_len) {
    /* The decoded text is never longer than the source. */
    const char *q = ps->p + 1;
    size_t n = 0;
    char *buf;
    while (q < ps->end && *q != '"') q += (*q == '\\') ? 2 : 1;
    if (q >= ps->end) {
        ps->err = "unterminated string";
        return 0;
    }
    buf = (char *)bi_alloc((size_t)(q - ps->p) + 1);
    ps->p++;
    while (*ps->p != '"') {
        char c = *ps->p++;
        if (c != '\\') {
            buf[n++] = c;
            continue;
        }
        c = *ps->p++;
        switch (c) {
        case 'n': buf[n++] = '\n'; break;
        case 't': buf[n++] = '\t'; break;
        case 'r': buf[n++] = '\r'; break;
        case 'b': buf[n++] = '\b'; break;
        case 'f': buf[n++] = '\f'; break;
        case 'u': {
            unsigned long cp, lo;
            if (ps->end - ps->p < 4 || !bi_hex4(ps->p, &cp)) {
                free(buf);
                ps->err = "bad \\u escape";
                return 0;
            }
            ps->p += 4;
            if (cp >= 0xD800 && cp < 0xDC00 && ps->end - ps->p >= 6 && ps->p[0] == '\\' &&
                ps->p[1] == 'u' && bi_hex4(ps->p + 2, &lo) && lo >= 0xDC00 && lo < 0xE000) {
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                ps->p += 6;
            }
            bi_put_utf8(buf, &n, cp);
            break;
        }
        default: buf[n++] = c; break; /* \" \\ \/ */
        }
    }
    ps->p++;
    buf[n] = '\0';
    *out = buf;
    *out_len = n;
    return 1;
}

static inline int bi_list(bi_parser *ps, bi_val *out, int object) {
    size_t cap = 8;
    out->n = 0;
    out->kids = (bi_val *)bi_alloc(cap * sizeof(bi_val));
    out->keys = object ? (char **)bi_alloc(cap * sizeof(char *)) : NULL;
    ps->p++;
    bi_ws(ps);
    if (ps->p < ps->end && *ps->p == (object ? '}' : ']')) {
        ps->p++;
        return 1;
    }
    for (;;) {
        if (out->n == cap) {
            cap *= 2;
            out->kids = (bi_val *)realloc(out->kids, cap * sizeof(bi_val));
            if (object) out->keys = (char **)realloc(out->keys, cap * sizeof(char *));
            if (!out->kids || (object && !out->keys)) abort();
        }
        bi_ws(ps);
        if (object) {
            size_t kl;
            if (ps->p >= ps->end || *ps->p != '"' || !bi_string(ps, &out->keys[out->n], &kl)) {
                ps->err = ps->err ? ps->err : "expected a key";
                return 0;
            }
            bi_ws(ps);
            if (ps->p >= ps->end || *ps->p != ':') {
                free(out->keys[out->n]);
                ps->err = "expected ':'";
                return 0;
            }
            ps->p++;
        }
        if (!bi_parse(ps, &out->kids[out->n])) {
            if (object) free(out->keys[out->n]);
            return 0;
        }
        out->n++;
        bi_ws(ps);
        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
            continue;
        }
        if (ps->p < ps->end && *ps->p == (object ? '}' : ']')) {
            ps->p++;
            return 1;
        }
        ps->err = "expected ',' or the end of a list";
        return 0;
    }
}

static inline int bi_parse(bi_parser *ps, bi_val *out) {
    memset(out, 0, sizeof *out);
    bi_ws(ps);
    if (ps->p >= ps->end) {
        ps->err = "unexpected end";
        return 0;
    }
    switch (*ps->p) {
    case '{': out->type = BI_OBJ; return bi_list(ps, out, 1);
    case '[': out->type = BI_ARR; return bi_list(ps, out, 0);
    case '"': out->type = BI_STR; return bi_string(ps, &out->s, &out->len);
    case 't':
    case 'f':
    case 'n': {
        const char *w = *ps->p == 't' ? "true" : *ps->p == 'f' ? "false" : "null";
        size_t wl = strlen(w);
        if ((size_t)(ps->end - ps->p) < wl || memcmp(ps->p, w, wl) != 0) {
            ps->err = "bad literal";
            return 0;
        }
        out->type = *w == 'n' ? BI_NULL : BI_BOOL;
        out->b = *w == 't';
        ps->p += wl;
        return 1;
    }
    default: {
        const char *q = ps->p;
        while (q < ps->end && strchr("+-0123456789.eE", *q) != NULL) q++;
        if (q == ps->p) {
            ps->err = "unexpected character";
            return 0;
        }
        out->type = BI_NUM;
        out->len = (size_t)(q - ps->p);
        out->s = (char *)bi_alloc(out->len + 1);
        memcpy(out->s, ps->p, out->len);
        out->s[out->len] = '\0';
        ps->p = q;
        return 1;
    }
    }
}

static inline void bi_free(bi_val *v) {
    size_t i;
    if (v == NULL) return;
    for (i = 0; i < v->n; i++) {
        bi_free(&v->kids[i]);
        if (v->keys) free(v->keys[i]);
    }
    free(v->kids);
    free(v->keys);
    free(v->s);
    memset(v, 0, sizeof *v);
}

/* Reads and parses the file; 0 on failure (message on stderr). */
static inline int bi_load(const char *path, bi_val *out) {
    FILE *f = fopen(path, "rb");
    char *text;
    long size;
    bi_parser ps;
    int ok;
    if (!f) {
        fprintf(stderr, "bad-input table: cannot open %s: %s\n", path, strerror(errno));
        return 0;
    }
    fseek(f, 0, SEEK_END);
    size = ftell(f);
    fseek(f, 0, SEEK_SET);
    text = (char *)bi_alloc((size_t)size + 1);
    if (fread(text, 1, (size_t)size, f) != (size_t)size) size = 0;
    fclose(f);
    ps.p = text;
    ps.end = text + size;
    ps.err = NULL;
    ok = bi_parse(&ps, out);
    if (!ok) {
        fprintf(stderr, "bad-input table: %s: %s at byte %ld\n", path, ps.err ? ps.err : "?",
                (long)(ps.p - text));
        bi_free(out);
    }
    free(text);
    return ok;
}

/* The member `key` of an object, or NULL. */
static inline const bi_val *bi_get(const bi_val *obj, const char *key) {
    size_t i;
    if (obj == NULL || obj->type != BI_OBJ) return NULL;
    for (i = 0; i < obj->n; i++)
        if (strcmp(obj->keys[i], key) == 0) return &obj->kids[i];
    return NULL;
}

static inline const char *bi_str(const bi_val *obj, const char *key) {
    const bi_val *v = bi_get(obj, key);
    return v && v->type == BI_STR ? v->s : NULL;
}

static inline int bi_has(const bi_val *obj, const char *key) { return bi_get(obj, key) != NULL; }

/* An integer member (0 when absent; `*ok` = 0 when not an integer or out of int64 range). */
static inline int64_t bi_i64(const bi_val *obj, const char *key, int64_t dflt, int *ok) {
    const bi_val *v = bi_get(obj, key);
    char *endp;
    long long x;
    if (v == NULL) return dflt;
    if (v->type == BI_BOOL) return v->b;
    if (v->type != BI_NUM) {
        if (ok) *ok = 0;
        return dflt;
    }
    errno = 0;
    x = strtoll(v->s, &endp, 10);
    if (errno != 0 || *endp != '\0') {
        if (ok) *ok = 0;
        return dflt;
    }
    return (int64_t)x;
}

/* An unsigned member up to 2^64-1 (the table writes SIZE_MAX-like values as numbers). */
static inline uint64_t bi_u64(const bi_val *obj, const char *key, uint64_t dflt, int *ok) {
    const bi_val *v = bi_get(obj, key);
    char *endp;
    unsigned long long x;
    if (v == NULL) return dflt;
    if (v->type != BI_NUM || v->s[0] == '-') {
        if (ok) *ok = 0;
        return dflt;
    }
    errno = 0;
    x = strtoull(v->s, &endp, 10);
    if (errno != 0 || *endp != '\0') {
        if (ok) *ok = 0;
        return dflt;
    }
    return (uint64_t)x;
}

/* A table value (text, {"hex"}, or {"text","repeat","times","then"}) as bytes; `*len` gets the
 * length. The result is NUL-terminated and must be freed. NULL when the value is none of those. */
static inline char *bi_bytes(const bi_val *v, size_t *len) {
    char *out;
    if (v == NULL) return NULL;
    if (v->type == BI_STR) {
        out = (char *)bi_alloc(v->len + 1);
        memcpy(out, v->s, v->len + 1);
        *len = v->len;
        return out;
    }
    if (v->type != BI_OBJ) return NULL;
    if (bi_str(v, "hex")) {
        const char *h = bi_str(v, "hex");
        size_t i, n = strlen(h) / 2;
        out = (char *)bi_alloc(n + 1);
        for (i = 0; i < n; i++) {
            unsigned int byte = 0;
            if (sscanf(h + 2 * i, "%2x", &byte) != 1) {
                free(out);
                return NULL;
            }
            out[i] = (char)byte;
        }
        out[n] = '\0';
        *len = n;
        return out;
    }
    {
        const char *text = bi_str(v, "text") ? bi_str(v, "text") : "";
        const char *rep = bi_str(v, "repeat") ? bi_str(v, "repeat") : "";
        const char *then = bi_str(v, "then") ? bi_str(v, "then") : "";
        int ok = 1;
        int64_t times = bi_i64(v, "times", 0, &ok), i;
        size_t n, at = 0;
        if (!ok || times < 0 || times > 1000000) return NULL;
        n = strlen(text) + strlen(rep) * (size_t)times + strlen(then);
        out = (char *)bi_alloc(n + 1);
        memcpy(out + at, text, strlen(text));
        at += strlen(text);
        for (i = 0; i < times; i++) {
            memcpy(out + at, rep, strlen(rep));
            at += strlen(rep);
        }
        memcpy(out + at, then, strlen(then));
        at += strlen(then);
        out[at] = '\0';
        *len = at;
        return out;
    }
}

/* Whether the row lists `door` in "doors". */
static inline int bi_row_for(const bi_val *row, const char *door) {
    const bi_val *d = bi_get(row, "doors");
    size_t i;
    if (d == NULL || d->type != BI_ARR) return 0;
    for (i = 0; i < d->n; i++)
        if (d->kids[i].type == BI_STR && strcmp(d->kids[i].s, door) == 0) return 1;
    return 0;
}

/* Whether `outcome` (a kind name, "OK", "DISCONNECTED:<reason>") is one the row expects. */
static inline int bi_expected(const bi_val *row, const char *outcome) {
    const bi_val *e = bi_get(row, "expect");
    size_t i;
    if (e == NULL) return 0;
    if (e->type == BI_STR) return strcmp(e->s, outcome) == 0;
    if (e->type != BI_ARR) return 0;
    for (i = 0; i < e->n; i++)
        if (e->kids[i].type == BI_STR && strcmp(e->kids[i].s, outcome) == 0) return 1;
    return 0;
}

/* "A or B" of the expected outcomes, into buf. */
static inline const char *bi_expected_text(const bi_val *row, char *buf, size_t cap) {
    const bi_val *e = bi_get(row, "expect");
    size_t i;
    buf[0] = '\0';
    if (e && e->type == BI_STR) {
        snprintf(buf, cap, "%s", e->s);
    } else if (e && e->type == BI_ARR) {
        for (i = 0; i < e->n; i++) {
            size_t at = strlen(buf);
            snprintf(buf + at, cap - at, "%s%s", i ? " or " : "", e->kids[i].s);
        }
    }
    return buf;
}

/* The table's rows (the "rows" array of the document), or NULL. */
static inline const bi_val *bi_rows(const bi_val *doc) {
    const bi_val *r = bi_get(doc, "rows");
    return r && r->type == BI_ARR ? r : NULL;
}

/* The row with id `id`, or NULL. */
static inline const bi_val *bi_find(const bi_val *doc, const char *id) {
    const bi_val *rows = bi_rows(doc);
    size_t i;
    if (rows == NULL) return NULL;
    for (i = 0; i < rows->n; i++) {
        const char *rid = bi_str(&rows->kids[i], "id");
        if (rid && strcmp(rid, id) == 0) return &rows->kids[i];
    }
    return NULL;
}

/* Where the table is: $LS_BAD_INPUTS, else in this source tree (from __FILE__ of the includer,
 * e.g. "bindings/c/tests/test_c.c" -> "bindings/c/tests/../../../tests-data/bad_inputs.json"). */
static inline const char *bi_default_path(const char *source_file, char *buf, size_t cap) {
    const char *env = getenv("LS_BAD_INPUTS");
    const char *slash = strrchr(source_file, '/');
    if (env && *env) return env;
    if (slash == NULL) {
        snprintf(buf, cap, "../../../tests-data/bad_inputs.json");
    } else {
        snprintf(buf, cap, "%.*s/../../../tests-data/bad_inputs.json", (int)(slash - source_file), source_file);
    }
    return buf;
}

static inline double bi_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

/* Runs row `id` in a child process: `argv0 --bad-input-row ID PATH`, which prints
 * "outcome NAME" (the includer's main handles that argument). */
static inline int bi_run_child(const char *argv0, const char *path, const char *id, int deadline_ms, char *out,
                               size_t cap, char *how, size_t howcap) {
    int fds[2], status = 0;
    pid_t pid;
    char got[256];
    size_t used = 0;
    double end = bi_now_ms() + deadline_ms;
    int killed = 0;
    if (pipe(fds) != 0) {
        snprintf(how, howcap, "pipe: %s", strerror(errno));
        return 1;
    }
    fflush(stdout);
    fflush(stderr);
    pid = fork();
    if (pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        execl(argv0, argv0, "--bad-input-row", id, path, (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    if (pid < 0) {
        close(fds[0]);
        snprintf(how, howcap, "fork: %s", strerror(errno));
        return 1;
    }
    got[0] = '\0';
    for (;;) {
        struct pollfd p;
        double left = end - bi_now_ms();
        ssize_t k;
        if (left <= 0) {
            kill(pid, SIGKILL);
            killed = 1;
            break;
        }
        p.fd = fds[0];
        p.events = POLLIN;
        if (poll(&p, 1, (int)left) <= 0) continue;
        k = read(fds[0], got + used, sizeof got - 1 - used);
        if (k <= 0) break;
        used += (size_t)k;
        got[used] = '\0';
    }
    close(fds[0]);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (killed || (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM)) {
        snprintf(how, howcap, "no outcome within %d ms", killed ? deadline_ms : BI_ROW_DEADLINE_MS);
        return 2;
    }
    if (strncmp(got, "outcome ", 8) != 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        if (WIFSIGNALED(status)) snprintf(how, howcap, "killed by signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
        else snprintf(how, howcap, "exit status %d, output \"%.60s\"", WIFEXITED(status) ? WEXITSTATUS(status) : -1, got);
        return 1;
    }
    got[strcspn(got, "\n")] = '\0';
    snprintf(out, cap, "%s", got + 8);
    return 0;
}

#ifdef LIBSOCK_H
/* libsock-specific helpers (the includer includes libsock.h first). */

/* Outcomes other than LS_* codes: a disconnect with reason r is BI_DISCONNECTED + r. */
#define BI_DISCONNECTED 1000
#define BI_SETUP_FAILED 2000
#define BI_NO_EXECUTOR 2001

static inline const char *bi_outcome_name(int32_t o, char *buf, size_t cap) {
    static const char *const reasons[] = {"?",     "PEER_CLOSED", "RESET",  "IDLE_TIMEOUT",
                                          "HEARTBEAT_LOST", "FRAME_TOO_LARGE", "KICKED",
                                          "SERVER_SHUTDOWN", "ERROR", "SEND_QUEUE_FULL", "CLOSED"};
    if (o == BI_SETUP_FAILED) return "SETUP_FAILED";
    if (o == BI_NO_EXECUTOR) return "NO_EXECUTOR";
    if (o > BI_DISCONNECTED && o <= BI_DISCONNECTED + 10) {
        snprintf(buf, cap, "DISCONNECTED:%s", reasons[o - BI_DISCONNECTED]);
        return buf;
    }
    if (o == LS_OK) return "OK";
    snprintf(buf, cap, "%s", ls_error_name(o));
    if (strcmp(buf, "UNKNOWN") == 0) snprintf(buf, cap, "CODE%d", (int)o);
    return buf;
}

static inline int32_t bi_option_code(const bi_val *inp) {
    static const char *const names[] = {"",
                                        "nodelay",
                                        "keepalive",
                                        "keepalive_idle",
                                        "keepalive_interval",
                                        "keepalive_count",
                                        "linger",
                                        "recv_buffer_size",
                                        "send_buffer_size",
                                        "reuse_address",
                                        "reuse_port",
                                        "ttl",
                                        "tos",
                                        "v6_only",
                                        "broadcast",
                                        "multicast_ttl",
                                        "multicast_loop",
                                        "tcp_user_timeout"};
    const char *name = bi_str(inp, "name");
    size_t i;
    int ok = 1;
    if (name == NULL) return (int32_t)bi_i64(inp, "name", -1, &ok); /* a raw number */
    for (i = 1; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(names[i], name) == 0) return (int32_t)i;
    return -1;
}

/* LS_ECFG_* of a setting's name, or -1. */
static inline int32_t bi_ecfg_key(const char *name) {
    static const struct {
        const char *name;
        int32_t key;
    } keys[] = {{"max_clients", LS_ECFG_MAX_CLIENTS},
                {"send_queue_bytes", LS_ECFG_SEND_QUEUE_BYTES},
                {"send_policy", LS_ECFG_SEND_POLICY},
                {"event_capacity", LS_ECFG_EVENT_CAPACITY},
                {"idle_timeout_ms", LS_ECFG_IDLE_TIMEOUT_MS},
                {"heartbeat_interval_ms", LS_ECFG_HEARTBEAT_INTERVAL_MS},
                {"heartbeat_misses", LS_ECFG_HEARTBEAT_MISSES},
                {"backoff_min_ms", LS_ECFG_BACKOFF_MIN_MS},
                {"backoff_max_ms", LS_ECFG_BACKOFF_MAX_MS},
                {"max_attempts", LS_ECFG_MAX_ATTEMPTS},
                {"connect_timeout_ms", LS_ECFG_CONNECT_TIMEOUT_MS},
                {"backlog", LS_ECFG_BACKLOG},
                {"close_timeout_ms", LS_ECFG_CLOSE_TIMEOUT_MS},
                {"max_datagram", LS_ECFG_MAX_DATAGRAM}};
    size_t k;
    for (k = 0; k < sizeof keys / sizeof keys[0]; k++)
        if (strcmp(keys[k].name, name) == 0) return keys[k].key;
    return -1;
}
#endif /* LIBSOCK_H */

#endif /* LIBSOCK_TESTS_BAD_INPUTS_H */
