// File transfer, proxies, descriptor passing and peer credentials through the C++ door
// (included by test_cpp.cpp inside its anonymous namespace, which provides CHECK, CHECK_THROWS,
// Peer, echo, wait_kind, addr_of and random_bytes): libsock::FileTransfer, Options::proxy,
// EngineConfig::proxy, TcpConnection::send_fds / recv_fds / peer_credentials. S22 and S24.
// (Its system headers, fcntl.h and sys/stat.h, are included at the top of test_cpp.cpp.)

// The run's temporary directory (made on first use, removed by t_xfer_cleanup).
std::string g_xdir;

std::string xpath(const std::string &name) {
    if (g_xdir.empty()) {
        char dir[] = "/tmp/ls-cpp-xfer-XXXXXX";
        if (mkdtemp(dir)) g_xdir = dir;
    }
    return g_xdir + "/" + name;
}

bool xexists(const std::string &path) {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0;
}

long long xsize(const std::string &path) {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0 ? static_cast<long long>(st.st_size) : -1;
}

void xwrite(const std::string &path, std::size_t n, uint32_t seed) {
    std::ofstream f(path, std::ios::binary);
    std::mt19937 rng(seed);
    std::vector<char> buf(1 << 16);
    while (n > 0) {
        std::size_t k = std::min(n, buf.size());
        for (std::size_t i = 0; i < k; i++) buf[i] = static_cast<char>(rng());
        f.write(buf.data(), static_cast<std::streamsize>(k));
        n -= k;
    }
}

// coreutils' sha256sum of a file (another implementation than libsock's); "" on failure.
std::string xsha256sum(const std::string &path) {
    std::string cmd = "sha256sum '" + path + "'";
    FILE *p = ::popen(cmd.c_str(), "r");
    if (!p) return "";
    char hex[65] = {0};
    std::size_t k = std::fread(hex, 1, 64, p);
    int rc = ::pclose(p);
    return rc == 0 && k == 64 ? std::string(hex) : "";
}

// A connected pair over loopback TCP, with default timeouts.
struct XPair {
    libsock::Listener l = libsock::Listener::listen("127.0.0.1:0");
    libsock::TcpConnection c, a;
    XPair() { reconnect(); }
    void reconnect() {
        c = libsock::TcpConnection::connect("127.0.0.1:" + std::to_string(l.local_port()), 5000);
        a = l.accept(5000);
        c.set_timeout(30000);
        a.set_timeout(30000);
    }
};

void t_transfer_cpp() {
    static_assert(!std::is_copy_constructible<libsock::FileTransfer>::value, "not copyable");
    static_assert(std::is_nothrow_move_constructible<libsock::FileTransfer>::value, "movable");
    const std::string src = xpath("small.bin"), inbox = xpath("inbox");
    xwrite(src, 123456, 5);
    CHECK(::mkdir(inbox.c_str(), 0700) == 0);
    XPair p;
    auto rv = libsock::FileTransfer::receiver(inbox);
    std::string err = "not run";
    std::thread th([&] {
        try {
            rv.run(p.a);
            err = "";
        } catch (const std::exception &e) {
            err = e.what();
        }
    });
    auto s = libsock::FileTransfer::sender(src, "given.bin");
    CHECK(s.progress().state == LS_TRANSFER_STARTING && s.progress().total == 123456);
    libsock::TransferInfo info = s.run(p.c);
    th.join();
    CHECK(err.empty());
    CHECK(info.name == "given.bin" && info.size == 123456 && info.version == 2);
    CHECK(info.sha256.size() == 64 && info.sha256 == xsha256sum(src));
    libsock::TransferInfo got = rv.info();
    CHECK(got.path == inbox + "/given.bin" && got.sha256 == info.sha256 && got.resumed_at == 0);
    CHECK(rv.path() == got.path);
    CHECK(xsha256sum(got.path) == info.sha256);
    libsock::TransferProgress pr = rv.progress();
    CHECK(pr.done == 123456 && pr.total == 123456 && pr.state == LS_TRANSFER_DONE);
    CHECK(s.step(p.c) == LS_TRANSFER_DONE);
    // Each failure is its code's exception class.
    std::string msg = CHECK_THROWS(libsock::io_error, libsock::FileTransfer::receiver(src));
    CHECK(msg.find("exists") != std::string::npos);
    try {
        libsock::FileTransfer::receiver(src);
    } catch (const libsock::io_error &e) {
        CHECK(e.os_error() == EEXIST);
    }
    CHECK_THROWS(libsock::io_error, libsock::FileTransfer::sender(xpath("missing")));
    CHECK_THROWS(libsock::invalid_argument_error, libsock::FileTransfer::sender(g_xdir));
    CHECK_THROWS(libsock::invalid_argument_error, libsock::FileTransfer::sender(std::string("a\xff")));
    libsock::FileTransfer empty;
    CHECK_THROWS(libsock::bad_handle_error, empty.progress());
    CHECK_THROWS(libsock::bad_handle_error, s.run(libsock::TcpConnection()));
    // A peer that does not speak the protocol: bad_frame_error.
    auto rv2 = libsock::FileTransfer::receiver(inbox, true);
    p.c.send_all(std::string("HTTP/1.1 200 OK\r\n\r\n"));
    CHECK_THROWS(libsock::bad_frame_error, rv2.run(p.a));
    CHECK(rv2.progress().state == LS_TRANSFER_FAILED);
}

// S22 in C++: 50 MB (LS_TEST_S22_MB overrides), broken in the middle, resumed.
void s22_transfer_broken_then_resumed() {
    const char *mb_env = std::getenv("LS_TEST_S22_MB");
    const uint64_t size = static_cast<uint64_t>(mb_env && std::atoi(mb_env) > 0 ? std::atoi(mb_env) : 50) * 1000000u;
    const std::string src = xpath("big.bin"), dir = xpath("s22"), out = dir + "/big.bin",
                      part = out + ".libsock-part";
    xwrite(src, size, 22);
    const std::string digest = xsha256sum(src);
    CHECK(digest.size() == 64);
    CHECK(::mkdir(dir.c_str(), 0700) == 0);
    XPair p;
    bool showed_final = false;
    {
        auto rv = libsock::FileTransfer::receiver(dir);
        std::string err;
        std::thread th([&] {
            try {
                rv.run(p.a);
            } catch (const libsock::closed_error &e) {
                err = std::string("closed: ") + e.what();
            } catch (const std::exception &e) {
                err = e.what();
            }
        });
        auto s = libsock::FileTransfer::sender(src);
        while (s.progress().done < size / 2) {
            CHECK(s.step(p.c) == LS_TRANSFER_TRANSFERRING);
            showed_final = showed_final || xexists(out);
        }
        p.c.close(); // the break
        th.join();
        CHECK(err.rfind("closed: ", 0) == 0 && err.find("libsock-part") != std::string::npos);
        libsock::TransferProgress pr = rv.progress();
        const long long kept = xsize(part);
        CHECK(kept > 0 && static_cast<uint64_t>(kept) < size);
        CHECK(pr.done == static_cast<uint64_t>(kept) && pr.total == size && pr.state == LS_TRANSFER_FAILED);
    }
    CHECK(!xexists(out));
    const long long kept = xsize(part);
    p.reconnect();
    auto rv = libsock::FileTransfer::receiver(dir, false, true);
    std::string err = "not run";
    std::thread th([&] {
        try {
            rv.run(p.a);
            err = "";
        } catch (const std::exception &e) {
            err = e.what();
        }
    });
    auto s = libsock::FileTransfer::sender(src);
    int32_t state;
    while ((state = s.step(p.c)) != LS_TRANSFER_DONE)
        if (state == LS_TRANSFER_TRANSFERRING) showed_final = showed_final || xexists(out);
    th.join();
    CHECK(err.empty());
    CHECK(!showed_final);
    libsock::TransferInfo si = s.info(), ri = rv.info();
    CHECK(si.offered == static_cast<uint64_t>(kept) && si.resumed_at == static_cast<uint64_t>(kept));
    CHECK(ri.resumed_at == static_cast<uint64_t>(kept));
    CHECK(si.sha256 == digest && ri.sha256 == digest && xsha256sum(out) == digest);
    CHECK(!xexists(part));
    ::unlink(src.c_str());
    ::unlink(out.c_str());
}

// ---- S24: SOCKS5 through danted --------------------------------------------------------------

int xfree_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sa;
    int port = 0;
    if (::bind(fd, reinterpret_cast<sockaddr *>(&sa), sizeof sa) == 0 &&
        ::getsockname(fd, reinterpret_cast<sockaddr *>(&sa), &len) == 0)
        port = ntohs(sa.sin_port);
    ::close(fd);
    return port;
}

bool xlistening(int port) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons(static_cast<uint16_t>(port));
    bool ok = ::connect(fd, reinterpret_cast<sockaddr *>(&sa), sizeof sa) == 0;
    ::close(fd);
    return ok;
}

// danted on a loopback port from a config in the run's directory, refusing 127.0.0.1:denied by
// a rule; killed and reaped by the destructor.
class Dante {
public:
    explicit Dante(int denied) {
        port = xfree_port();
        const std::string conf = xpath("danted.conf"), log = xpath("danted.log");
        {
            std::ofstream f(conf);
            f << "logoutput: stderr\ninternal: 127.0.0.1 port = " << port
              << "\nexternal: 127.0.0.1\nclientmethod: none\nsocksmethod: none\n"
              << (::geteuid() == 0 ? "user.privileged: root\nuser.unprivileged: nobody\n" : "")
              << "client pass { from: 127.0.0.0/8 to: 0.0.0.0/0 }\n"
              << "socks block { from: 0.0.0.0/0 to: 127.0.0.1/32 port = " << denied
              << " log: error }\nsocks pass { from: 0.0.0.0/0 to: 0.0.0.0/0 }\n";
        }
        const std::string exe = ::access("/usr/sbin/danted", X_OK) == 0 ? "/usr/sbin/danted" : "danted";
        const std::string pidfile = xpath("danted.pid");
        int logfd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        pid_ = ::fork();
        if (pid_ == 0) {
            ::dup2(logfd, 1);
            ::dup2(logfd, 2);
            ::execlp(exe.c_str(), exe.c_str(), "-f", conf.c_str(), "-N", "1", "-p", pidfile.c_str(),
                     static_cast<char *>(nullptr));
            ::_exit(127);
        }
        ::close(logfd);
        auto t0 = clock_type::now();
        while (!xlistening(port)) {
            int st;
            if (pid_ < 0 || ::waitpid(pid_, &st, WNOHANG) == pid_ || ms_since(t0) > 10000) {
                std::ifstream f(log);
                std::stringstream ss;
                ss << f.rdbuf();
                std::cerr << "  danted did not start (is dante-server installed?): " << ss.str() << "\n";
                port = 0;
                return;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    }
    ~Dante() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            int st;
            ::waitpid(pid_, &st, 0);
        }
    }
    std::string url() const { return "socks5://127.0.0.1:" + std::to_string(port); }
    int port = 0;

private:
    pid_t pid_ = -1;
};

void s24_socks5_proxy_echo_and_refusals() {
    libsock::Server denied_srv = libsock::Server::listen("127.0.0.1:0"); // would answer directly
    const std::string denied = addr_of(denied_srv);
    Dante d(denied_srv.local_port());
    CHECK(d.port > 0);
    if (d.port == 0) return;
    const std::string proxy_addr = "127.0.0.1:" + std::to_string(d.port);
    libsock::Options o;
    o.proxy(d.url());
    {
        Peer peer(echo);
        const std::string target = "localhost:" + peer.address.substr(peer.address.rfind(':') + 1);
        auto c = libsock::TcpConnection::connect(target, 10000, &o);
        c.set_timeout(10000);
        std::vector<uint8_t> payload = random_bytes(1024, 24);
        c.send_all(payload);
        CHECK(c.recv_exact(1024) == payload);
        CHECK(c.peer_address() == proxy_addr);
    }
    std::string msg = CHECK_THROWS(libsock::connection_refused_error,
                                   libsock::TcpConnection::connect(denied, 10000, &o));
    CHECK(msg.find("connection not allowed by ruleset") != std::string::npos);
    CHECK(msg.find(denied) != std::string::npos);
    CHECK(msg.find("SOCKS5 proxy " + proxy_addr) != std::string::npos);
    const std::string closed = "127.0.0.1:" + std::to_string(xfree_port());
    msg = CHECK_THROWS(libsock::connection_refused_error,
                       libsock::TcpConnection::connect(closed, 10000, &o));
    CHECK(msg.find("replied 5 (connection refused)") != std::string::npos);
    CHECK_THROWS(libsock::invalid_argument_error, o.proxy("socks4://127.0.0.1:1080"));

    // The engine client, through the proxy every time it connects.
    libsock::EngineConfig cfg;
    cfg.proxy(d.url()).reconnect(true, 20, 200);
    libsock::Server srv = libsock::Server::listen("127.0.0.1:0");
    libsock::Client cl = libsock::Client::connect("localhost:" + std::to_string(srv.local_port()), &cfg);
    for (int round = 1; round <= 2; round++) {
        libsock::Event e, m;
        CHECK(wait_kind(cl, LS_EVENT_CONNECTED, e, 10000));
        CHECK(std::string(e.data.begin(), e.data.end()) == proxy_addr);
        const std::string hello = "hello " + std::to_string(round);
        cl.send(hello);
        CHECK(wait_kind(srv, LS_EVENT_MESSAGE, m, 10000));
        CHECK(std::string(m.data.begin(), m.data.end()) == hello);
        srv.disconnect(m.client, false);
    }
    libsock::EngineConfig refused;
    refused.proxy(d.url()).reconnect(false);
    libsock::Client rc = libsock::Client::connect(denied, &refused);
    libsock::Event e;
    CHECK(wait_kind(rc, LS_EVENT_DISCONNECTED, e, 10000));
    CHECK(e.value == LS_REASON_ERROR);
    CHECK(std::string(e.data.begin(), e.data.end()).find("connection not allowed by ruleset") != std::string::npos);
    CHECK(!denied_srv.next_event(e, 0)); // nobody reached it
}

void t_fds_cpp() {
    const std::string addr = "unix:" + xpath("fds.sock");
    auto l = libsock::Listener::listen(addr);
    auto c = libsock::TcpConnection::connect(addr, 5000);
    auto a = l.accept(5000);
    libsock::PeerCredentials pc = a.peer_credentials();
    CHECK(pc.pid == static_cast<int32_t>(::getpid()) && pc.uid == ::getuid() && pc.gid == ::getgid());
    int pfd[2], sp[2];
    CHECK(::pipe(pfd) == 0 && ::socketpair(AF_UNIX, SOCK_STREAM, 0, sp) == 0);
    c.send_fds(std::string("two"), {pfd[0], sp[1]});
    libsock::ReceivedFds r = a.recv_fds(16, 4, 5000);
    CHECK(std::string(r.data.begin(), r.data.end()) == "two" && r.fds.size() == 2);
    if (r.fds.size() == 2) {
        char b[8] = {0};
        CHECK(::write(pfd[1], "pipe", 4) == 4 && ::read(r.fds[0], b, 4) == 4 && std::string(b) == "pipe");
        CHECK(::write(sp[0], "sock", 4) == 4 && ::read(r.fds[1], b, 4) == 4 && std::string(b) == "sock");
        for (int fd : r.fds) ::close(fd);
    }
    for (int fd : {pfd[0], pfd[1], sp[0], sp[1]}) ::close(fd);
    CHECK_THROWS(libsock::invalid_argument_error, c.send_fds(std::string("x"), {-1}));
    CHECK_THROWS(libsock::invalid_argument_error, c.send_fds(std::string(), {0}));
    CHECK_THROWS(libsock::invalid_argument_error, a.recv_fds(16, 254, 0));
    XPair tcp;
    CHECK_THROWS(libsock::unsupported_error, tcp.c.send_fds(std::string("x"), {0}));
    CHECK_THROWS(libsock::unsupported_error, tcp.a.recv_fds(16, 1, 0));
    CHECK_THROWS(libsock::unsupported_error, tcp.a.peer_credentials());
}

// The child of t_fds_two_processes_cpp (test_cpp --fds-child ADDRESS FILE): connects, checks the
// parent's credentials, passes an open descriptor of FILE and one end of a socket pair, says
// "ping" on the other end and waits for "pong"; prints "fds-child ok" and exits 0 on success.
int fds_child_main(const char *address, const char *file) {
    try {
        int fd = ::open(file, O_RDONLY), sp[2];
        if (fd < 0 || ::socketpair(AF_UNIX, SOCK_STREAM, 0, sp) != 0) return 2;
        auto c = libsock::TcpConnection::connect(address, 10000);
        libsock::PeerCredentials pc = c.peer_credentials();
        if (pc.pid != static_cast<int32_t>(::getppid()) || pc.uid != ::getuid()) return 3;
        c.send_fds(std::string("F"), {fd, sp[1]});
        ::close(fd);
        ::close(sp[1]);
        char b[4];
        pollfd pf{sp[0], POLLIN, 0};
        if (::write(sp[0], "ping", 4) != 4 || ::poll(&pf, 1, 10000) != 1 || ::read(sp[0], b, 4) != 4 ||
            std::memcmp(b, "pong", 4) != 0)
            return 4;
        ::close(sp[0]);
    } catch (const std::exception &e) {
        std::cout << "fds-child: " << e.what() << std::endl;
        return 5;
    }
    std::cout << "fds-child ok" << std::endl;
    return 0;
}

void t_fds_two_processes_cpp() {
    const std::string file = xpath("passed.txt"), address = "unix:" + xpath("fds2.sock");
    std::ofstream(file) << "opened by the child";
    auto l = libsock::Listener::listen(address);
    int out[2];
    CHECK(::pipe(out) == 0);
    pid_t pid = ::fork();
    if (pid == 0) {
        ::dup2(out[1], 1);
        ::execl(g_argv0, g_argv0, "--fds-child", address.c_str(), file.c_str(), static_cast<char *>(nullptr));
        ::_exit(127);
    }
    ::close(out[1]);
    CHECK(pid > 0);
    auto a = l.accept(10000);
    libsock::PeerCredentials pc = a.peer_credentials();
    CHECK(pc.pid == pid && pc.uid == ::getuid() && pc.gid == ::getgid());
    libsock::ReceivedFds r = a.recv_fds(16, 4, 10000);
    CHECK(r.data == std::vector<uint8_t>{'F'} && r.fds.size() == 2);
    if (r.fds.size() == 2) {
        char text[64] = {0};
        CHECK(::pread(r.fds[0], text, sizeof text - 1, 0) == 19 && std::string(text) == "opened by the child");
        CHECK(::read(r.fds[1], text, 4) == 4 && std::memcmp(text, "ping", 4) == 0);
        CHECK(::write(r.fds[1], "pong", 4) == 4);
    }
    for (int fd : r.fds) ::close(fd);
    // The child's word, within a bounded wait; then it is reaped (killed if still there).
    std::string said;
    auto t0 = clock_type::now();
    while (said.find('\n') == std::string::npos && ms_since(t0) < 10000) {
        pollfd pf{out[0], POLLIN, 0};
        char b[256];
        if (::poll(&pf, 1, 100) == 1) {
            ssize_t k = ::read(out[0], b, sizeof b);
            if (k <= 0) break;
            said.append(b, static_cast<std::size_t>(k));
        }
    }
    CHECK(said == "fds-child ok\n");
    if (pid > 0) {
        int st = 0;
        ::kill(pid, SIGKILL);
        ::waitpid(pid, &st, 0);
    }
    ::close(out[0]);
}

void t_xfer_cleanup() {
    if (g_xdir.empty()) return;
    CHECK(std::system(("rm -rf '" + g_xdir + "'").c_str()) == 0);
    g_xdir.clear();
}
