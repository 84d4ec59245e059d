// KCP, the multicast sending interface, per-client statistics and batch sends of the C++ door
// (included by test_cpp.cpp inside its anonymous namespace, which provides CHECK, CHECK_THROWS,
// wait_kind, framed and addr_of): KcpConfig, KcpServer and KcpSession with libsock on both
// sides, scenario S23 of docs/SCENARIOS.md against the reference KCP implementation (the PyPI
// package kcp, driven by python-tests/peers/kcp_ref.py; under 10 % and 30 % loss when
// .ci/suites/40-c.sh runs this inside a lossy network namespace with LS_KCP_LOSS set),
// Datagram::set_multicast_interface, Server::client_stats and send_batch.

// Message i of an S23 run, as msg(i) of python-tests/peers/kcp_ref.py: 1 to 3,000 bytes.
std::string kcp_message(int i) {
    std::string m(static_cast<std::size_t>((i * 37) % 3000 + 1), '\0');
    for (std::size_t j = 0; j < m.size(); j++) m[j] = static_cast<char>(((i * 7) % 256 + static_cast<int>(j)) % 256);
    return m;
}

// The reference KCP peer script: LS_KCP_PEER, else beside LS_TEST_PEER, else the source tree's.
std::string kcp_peer() {
    if (const char *p = std::getenv("LS_KCP_PEER")) return p;
    if (const char *t = std::getenv("LS_TEST_PEER")) {
        std::string s(t);
        auto slash = s.rfind('/');
        if (slash != std::string::npos) return s.substr(0, slash) + "/kcp_ref.py";
    }
    return "python-tests/peers/kcp_ref.py";
}

int kcp_loss() {
    const char *l = std::getenv("LS_KCP_LOSS");
    return l ? std::atoi(l) : 0;
}

void t_kcp_config_cpp() {
    libsock::KcpConfig k;
    CHECK(k.value(LS_KCP_NODELAY) == 2 && k.value(LS_KCP_MTU) == 1400);
    k.nodelay(1, 20, 2, true).windows(64, 256).mtu(1200).min_rto(20).stream(false).dead_link(10).linger(500);
    CHECK(k.value(LS_KCP_INTERVAL_MS) == 20 && k.value(LS_KCP_RECV_WINDOW) == 256);
    CHECK(k.value(LS_KCP_MIN_RTO_MS) == 20 && k.value(LS_KCP_LINGER_MS) == 500);
    CHECK(has(CHECK_THROWS(libsock::invalid_argument_error, k.mtu(10)), "MTU"));
    CHECK_THROWS(libsock::invalid_argument_error, k.set(0, 1));
    CHECK_THROWS(libsock::unsupported_error, libsock::KcpServer::bind("unix:/tmp/ls-kcp-cpp"));
    CHECK_THROWS(libsock::invalid_argument_error, libsock::kcp_connect("127.0.0.1:9", -7));
    libsock::EngineConfig e;
    e.set(LS_ECFG_MAX_CLIENTS, 0);
    CHECK_THROWS(libsock::invalid_argument_error, libsock::KcpServer::bind("127.0.0.1:0", &e, &k));
}

void t_kcp_server_and_session_cpp() {
    libsock::KcpConfig k;
    auto s = libsock::KcpServer::bind("127.0.0.1:0", nullptr, &k);
    std::string address = "127.0.0.1:" + std::to_string(s.local_port());
    auto c = libsock::kcp_connect(address, 0x4321, &k);
    CHECK(c.conv() == 0x4321);
    CHECK(c.peer_address() == address);
    CHECK_THROWS(libsock::timeout_error, c.recv(0));
    libsock::Event e;
    uint64_t id = 0;
    for (int i = 0; i < 100; i++) {
        std::string m = kcp_message(i);
        c.send(m, 5000);
        if (!wait_kind(s, LS_EVENT_MESSAGE, e, 10000)) {
            CHECK(!"the server got the message");
            break;
        }
        id = e.client;
        s.send(e.client, e.data);
        if (c.recv_string(10000) != m) {
            CHECK(!"the echo came back intact");
            break;
        }
    }
    CHECK(s.clients() == std::vector<uint64_t>{id});
    CHECK(s.client_address(id) == c.local_address());
    // A message larger than the buffer stays for the next call.
    std::string big = kcp_message(81);
    c.send(big);
    CHECK(wait_kind(s, LS_EVENT_MESSAGE, e, 10000));
    s.send(e.client, e.data);
    uint8_t small[8];
    try {
        c.recv(small, sizeof small, 10000);
        CHECK(!"buffer_too_small_error");
    } catch (const libsock::buffer_too_small_error &x) {
        CHECK(x.needed() == big.size());
    }
    CHECK(c.poll(0));
    CHECK(c.recv_string(0) == big);
    c.flush(10000);
    c.set_timeout(30);
    CHECK(c.get_timeout() == 30);
    CHECK_THROWS(libsock::timeout_error, c.recv());
    CHECK(s.stat(LS_STAT_MESSAGES_IN) == 101 && s.stat(LS_KCP_STAT_DATAGRAMS_IN) >= 101);
    CHECK(c.stat(LS_STAT_MESSAGES_OUT) == 101 && c.stat(LS_KCP_STAT_WAITING) == 0);
    CHECK_THROWS(libsock::unsupported_error, s.stat(LS_KCP_STAT_SRTT_MS));
    s.disconnect(id);
    CHECK(wait_kind(s, LS_EVENT_DISCONNECTED, e) && e.client == id && e.value == LS_REASON_KICKED);
    CHECK_THROWS(libsock::closed_error, s.send(id, std::string("gone")));
    s.shutdown();
    CHECK(wait_kind(s, LS_EVENT_CLOSED, e));
    CHECK_THROWS(libsock::closed_error, s.next_event(e, 0));
}

// S23 a: a KcpSession against the reference echo server (kcp_ref.py serve).
void s23_kcp_session_against_reference_server_cpp() {
    const int n = 1000;
    std::string cmd = "timeout 400 python3 " + kcp_peer() + " serve --n " + std::to_string(n) + " --timeout 300";
    FILE *proc = popen(cmd.c_str(), "r");
    CHECK(proc != nullptr);
    if (!proc) return;
    char line[512] = "";
    if (!std::fgets(line, sizeof line, proc)) line[0] = 0;
    std::string address(line);
    address.erase(address.find_last_not_of("\r\n") + 1);
    if (address.find(':') == std::string::npos) {
        CHECK(!"the reference server started");
        pclose(proc);
        return;
    }
    int bad = -1;
    int64_t retransmits = 0;
    {
        // Echoes taken as they come, and a receive window larger than all of them: see the C
        // test (kcp_tests.h) for the reference server's stall when the window closes.
        libsock::KcpConfig k;
        k.windows(128, 4096);
        auto c = libsock::kcp_connect(address, 0x11223344, &k);
        c.set_timeout(120000);
        int got = 0;
        for (int i = 0; i < n; i++) {
            c.send(kcp_message(i));
            for (;;) {
                std::string m;
                try {
                    m = c.recv_string(0);
                } catch (const libsock::timeout_error &) {
                    break;
                }
                if (m != kcp_message(got) && bad < 0) bad = got;
                ++got;
            }
        }
        for (; got < n; ++got)
            if (c.recv_string() != kcp_message(got) && bad < 0) bad = got;
        CHECK_THROWS(libsock::timeout_error, c.recv(200));
        c.flush();
        retransmits = c.stat(LS_KCP_STAT_RETRANSMITS);
        // Keep the session running until the server reports (it ends when all it sent is
        // acknowledged; a KCP session runs only while one of its calls runs).
        pollfd pf{fileno(proc), POLLIN, 0};
        auto t0 = clock_type::now();
        while (ms_since(t0) < 120000 && ::poll(&pf, 1, 0) == 0) c.poll(20);
    }
    CHECK(bad < 0);
    if (kcp_loss() > 0) CHECK(retransmits > 0);
    std::cout << "  S23 session -> reference server, " << kcp_loss() << " % loss: " << n
              << " messages, " << retransmits << " retransmits\n";
    if (!std::fgets(line, sizeof line, proc)) line[0] = 0;
    int status = pclose(proc);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK(has(line, "\"server_got\": 1000") && has(line, "\"server_in_order\": true"));
}

// S23 b: the reference client (kcp_ref.py client) against a KcpServer echoing on a thread.
void s23_kcp_reference_client_against_server_cpp() {
    const int n = 1000;
    libsock::EngineConfig cfg;
    cfg.set(LS_ECFG_IDLE_TIMEOUT_MS, 60000);
    auto s = libsock::KcpServer::bind("127.0.0.1:0", &cfg);
    std::atomic<bool> stop(false);
    int got = 0, bad = -1, send_errors = 0;
    std::thread echo([&] {
        libsock::Event e;
        while (!stop) {
            if (!s.next_event(e, 100) || e.kind != LS_EVENT_MESSAGE) continue;
            if (e.text() != kcp_message(got) && bad < 0) bad = got;
            ++got;
            try {
                s.send(e.client, e.data);
            } catch (const libsock::error &) {
                ++send_errors;
            }
        }
    });
    std::string cmd = "timeout 400 python3 " + kcp_peer() + " client --address 127.0.0.1:" +
                      std::to_string(s.local_port()) + " --n " + std::to_string(n) + " --timeout 300";
    char line[512] = "";
    FILE *proc = popen(cmd.c_str(), "r");
    CHECK(proc != nullptr);
    if (proc) {
        if (!std::fgets(line, sizeof line, proc)) line[0] = 0;
        int status = pclose(proc);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    stop = true;
    echo.join();
    CHECK(has(line, "\"received\": 1000") && has(line, "\"first_bad\": null") && has(line, "\"extra\": false"));
    CHECK(got == n && bad < 0 && send_errors == 0);
    int64_t retransmits = s.stat(LS_KCP_STAT_RETRANSMITS);
    if (kcp_loss() > 0) CHECK(retransmits > 0);
    std::cout << "  S23 reference client -> server, " << kcp_loss() << " % loss: " << got
              << " messages, " << retransmits << " retransmits\n";
}

void t_multicast_interface_cpp() {
    libsock::Options o;
    o.set(LS_OPT_REUSE_ADDRESS, 1);
    auto r = libsock::Datagram::bind("0.0.0.0:0", &o);
    r.join_multicast("239.255.77.80", "127.0.0.1");
    auto snd = libsock::Datagram::bind("0.0.0.0:0");
    snd.set_option(LS_OPT_MULTICAST_LOOP, 1);
    snd.set_multicast_interface("127.0.0.1");
    snd.send_to(std::string("via lo"), "239.255.77.80:" + std::to_string(r.local_port()));
    uint8_t b[64];
    libsock::Received got = r.recv_from(b, sizeof b, 5000);
    CHECK(got.len == 6 && std::memcmp(b, "via lo", 6) == 0);
    snd.set_multicast_interface();
    CHECK_THROWS(libsock::invalid_argument_error, snd.set_multicast_interface("eth-nothing"));
    CHECK_THROWS(libsock::addr_not_available_error, snd.set_multicast_interface("192.0.2.123"));
}

void t_engine_client_stats_and_batches_cpp() {
    auto s = libsock::Server::listen("127.0.0.1:0");
    libsock::EngineConfig cfg;
    cfg.reconnect(false);
    auto c = libsock::Client::connect(addr_of(s), &cfg);
    libsock::Event e;
    CHECK(wait_kind(c, LS_EVENT_CONNECTED, e));
    CHECK(wait_kind(s, LS_EVENT_CONNECTED, e));
    uint64_t id = e.client;
    std::vector<std::string> msgs = {"one", "two", "three"};
    CHECK(c.send_batch(msgs, 5000) == 3);
    for (const std::string &m : msgs) CHECK(wait_kind(s, LS_EVENT_MESSAGE, e) && e.text() == m);
    CHECK(s.send_batch(id, msgs) == 3);
    for (const std::string &m : msgs) CHECK(wait_kind(c, LS_EVENT_MESSAGE, e) && e.text() == m);
    CHECK(c.send_batch(std::vector<std::string>{}) == 0);
    // messages(): the queued messages in one call, each with its sender's id.
    CHECK(s.send_batch(id, msgs) == 3);
    std::vector<libsock::Message> got;
    for (int i = 0; i < 500 && got.size() < 3; i++) {
        std::vector<libsock::Message> more = c.messages(8, 10);
        got.insert(got.end(), more.begin(), more.end());
    }
    CHECK(got.size() == 3);
    for (std::size_t i = 0; i < got.size() && i < 3; i++)
        CHECK(std::string(got[i].data.begin(), got[i].data.end()) == msgs[i] &&
              got[i].client == got[0].client);
    CHECK(c.messages(8, 0).empty());
    CHECK_THROWS(libsock::invalid_argument_error, c.messages(0, 0));
    // The engine counts a write when the write call returns, which may come after the client
    // already read the bytes: wait (bounded) for the count.
    for (int i = 0; i < 1000 && s.client_stat(id, LS_STAT_MESSAGES_OUT) != 6; i++)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    libsock::Server::ConnectionStats st = s.client_stats(id);
    CHECK(st.messages_in == 3 && st.bytes_in == 3 * 4 + 11);
    CHECK(st.messages_out == 6 && st.bytes_out == 6 * 4 + 22);
    CHECK(st.queued_bytes == 0 && !st.tls && st.connected_since_ms > 0);
    CHECK(st.peer.find("127.0.0.1:") == 0);
    CHECK(s.client_stat(id, LS_STAT_MESSAGES_IN) == 3);
    CHECK_THROWS(libsock::unsupported_error, s.client_stat(id, LS_STAT_REFUSED));
    CHECK_THROWS(libsock::closed_error, s.client_stats(id + 1000));
    CHECK_THROWS(libsock::closed_error, s.send_batch(id + 1000, msgs, 0));
    c.close(1000);
}

void t_connection_stats_cpp() {
    libsock::Listener l = libsock::Listener::listen("127.0.0.1:0");
    libsock::TcpConnection c = framed("127.0.0.1:" + std::to_string(l.local_port()));
    libsock::TcpConnection a = l.accept(5000);
    a.set_framing_length(4, true);
    c.send_msg(std::string("hello"));
    CHECK(a.recv_msg_string(5000) == "hello");
    libsock::ConnectionStats sc = c.stats(), sa = a.stats();
    CHECK(sc.messages_out == 1 && sc.bytes_out == 9 && sc.bytes_in == 0 && !sc.tls);
    CHECK(sa.messages_in == 1 && sa.bytes_in == 9 && sa.queued_bytes == 0);
    CHECK(sa.connected_since_ms > 0 && sc.peer == "127.0.0.1:" + std::to_string(l.local_port()));
    CHECK(c.stat(LS_STAT_MESSAGES_OUT) == 1);
    CHECK_THROWS(libsock::unsupported_error, c.stat(LS_STAT_REFUSED));
    CHECK_THROWS(libsock::invalid_argument_error, c.stat(-1));
}

// ---- the bad-input table's rows for these calls -------------------------------------------

#include "kcp_bad_inputs.h"

// An engine server with one connected engine client.
struct BiEnginePair {
    libsock::Server s;
    libsock::Client c;
    uint64_t id = 0;
    explicit BiEnginePair(const bi_val *settings) {
        libsock::EngineConfig cfg = bi_config(settings);
        setup([&] {
            cfg.reconnect(false);
            s = libsock::Server::listen("127.0.0.1:0", &cfg);
            c = libsock::Client::connect(addr_of(s), &cfg);
            libsock::Event e;
            if (!wait_kind(c, LS_EVENT_CONNECTED, e, 10000) || !wait_kind(s, LS_EVENT_CONNECTED, e, 10000))
                throw libsock::timeout_error(LS_ERR_TIMEOUT, "the engine pair did not connect", 0);
            id = e.client;
        });
    }
};

bool kcp_bi_execute(const std::string &op, const bi_val *in) {
    if (op == "kcp_config") {
        const int32_t key = bi_kcp_key(bi_str(in, "setting"));
        if (key < 0) throw no_executor("kcp setting");
        libsock::KcpConfig k;
        k.set(key, bi_int(in, "value", 0));
    } else if (op == "kcp_server") {
        const bi_val *addr = bi_get(in, "address");
        libsock::EngineConfig cfg = bi_config(bi_get(in, "settings"));
        libsock::KcpServer::bind(addr ? bi_string(addr) : "127.0.0.1:0", &cfg);
    } else if (op == "kcp_connect") {
        libsock::kcp_connect(bi_string(bi_get(in, "address")), bi_int(in, "conv", 1));
    } else if (op == "kcp_session") {
        const std::string call = bi_str(in, "call") ? bi_str(in, "call") : "";
        const int32_t t = static_cast<int32_t>(bi_int(in, "timeout_ms", 0));
        libsock::KcpServer s;
        libsock::KcpSession c;
        setup([&] {
            s = libsock::KcpServer::bind("127.0.0.1:0");
            c = libsock::kcp_connect("127.0.0.1:" + std::to_string(s.local_port()), 7);
        });
        std::string data(bi_size(in, "size", 1), 'x');
        if (call == "send") c.send(data, t);
        else if (call == "recv") c.recv(t);
        else if (call == "flush") c.flush(t);
        else if (call == "poll") c.poll(t);
        else if (call == "server_send") s.send(99, data);
        else throw no_executor("kcp_session call " + call);
    } else if (op == "multicast_interface") {
        libsock::Datagram d;
        setup([&] { d = libsock::Datagram::bind("0.0.0.0:0"); });
        d.set_multicast_interface(bi_string(bi_get(in, "interface")));
    } else if (op == "client_stats") {
        const char *name = bi_str(in, "stat");
        const int32_t stat = name ? bi_stat_code(name) : static_cast<int32_t>(bi_int(in, "stat", -1));
        if (stat == -1) throw no_executor("statistic");
        BiEnginePair p(nullptr);
        const char *who = bi_str(in, "client");
        p.s.client_stat(who && std::strcmp(who, "unknown") == 0 ? p.id + 1000 : p.id, stat);
    } else if (op == "send_batch") {
        const std::string obj = bi_str(in, "object") ? bi_str(in, "object") : "";
        const bi_val *sizes = bi_get(in, "sizes");
        if (sizes == nullptr || sizes->type != BI_ARR) throw no_executor("sizes");
        std::vector<std::string> msgs;
        for (std::size_t i = 0; i < sizes->n; i++)
            msgs.push_back(std::string(static_cast<std::size_t>(std::strtoull(sizes->kids[i].s, nullptr, 10)), 'x'));
        BiEnginePair p(bi_get(in, "settings"));
        const int32_t t = static_cast<int32_t>(bi_int(in, "timeout_ms", 1000));
        const char *who = bi_str(in, "client");
        if (obj == "server") p.s.send_batch(who && std::strcmp(who, "unknown") == 0 ? p.id + 1000 : p.id, msgs, t);
        else if (obj == "client") p.c.send_batch(msgs, t);
        else throw no_executor("send_batch object " + obj);
    } else {
        return false;
    }
    return true;
}
