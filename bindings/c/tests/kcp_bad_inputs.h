/*
 * Names of the bad-input table (tests-data/bad_inputs.json) for the KCP, multicast interface,
 * client statistics and batch rows, shared by test_c.c (kcp_tests.h) and test_cpp.cpp
 * (kcp_tests.hpp): a KCP setting's name is its LS_KCP_* constant in lower case, a statistic's
 * its LS_STAT_* or LS_CLIENT_STAT_* constant in lower case.
 */
#ifndef LIBSOCK_TESTS_KCP_BAD_INPUTS_H
#define LIBSOCK_TESTS_KCP_BAD_INPUTS_H

#include <string.h>

/* LS_KCP_* of a setting's name, or -1. */
static inline int32_t bi_kcp_key(const char *name) {
    static const struct {
        const char *name;
        int32_t key;
    } keys[] = {{"nodelay", LS_KCP_NODELAY},         {"interval_ms", LS_KCP_INTERVAL_MS},
                {"resend", LS_KCP_RESEND},           {"nc", LS_KCP_NC},
                {"send_window", LS_KCP_SEND_WINDOW}, {"recv_window", LS_KCP_RECV_WINDOW},
                {"mtu", LS_KCP_MTU},                 {"min_rto_ms", LS_KCP_MIN_RTO_MS},
                {"stream", LS_KCP_STREAM},           {"dead_link", LS_KCP_DEAD_LINK},
                {"linger_ms", LS_KCP_LINGER_MS}};
    size_t k;
    for (k = 0; name && k < sizeof keys / sizeof keys[0]; k++)
        if (strcmp(keys[k].name, name) == 0) return keys[k].key;
    return -1;
}

/* LS_STAT_* / LS_CLIENT_STAT_* of a statistic's name, or -1. */
static inline int32_t bi_stat_code(const char *name) {
    static const struct {
        const char *name;
        int32_t code;
    } stats[] = {{"bytes_in", LS_STAT_BYTES_IN},
                 {"bytes_out", LS_STAT_BYTES_OUT},
                 {"messages_in", LS_STAT_MESSAGES_IN},
                 {"messages_out", LS_STAT_MESSAGES_OUT},
                 {"queued_bytes", LS_STAT_QUEUED_BYTES},
                 {"refused", LS_STAT_REFUSED},
                 {"connections", LS_STAT_CONNECTIONS},
                 {"connected_since_ms", LS_CLIENT_STAT_CONNECTED_SINCE_MS},
                 {"tls", LS_CLIENT_STAT_TLS}};
    size_t k;
    for (k = 0; name && k < sizeof stats / sizeof stats[0]; k++)
        if (strcmp(stats[k].name, name) == 0) return stats[k].code;
    return -1;
}

#endif /* LIBSOCK_TESTS_KCP_BAD_INPUTS_H */
