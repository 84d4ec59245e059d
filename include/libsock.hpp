/*
 * libsock.hpp - header-only C++ door of libsock, over the C ABI in libsock.h (link with -lsock).
 *
 * RAII handle classes (movable, not copyable; the destructor closes), errors as exceptions
 * deriving from std::system_error with libsock's own std::error_category, and std::string /
 * std::vector<uint8_t> / pointer+size APIs. Compiles as C++11 and later.
 *
 *   libsock::TcpConnection c = libsock::TcpConnection::connect("127.0.0.1:5000", 5000);
 *   c.set_framing_length(4);
 *   c.send_msg("hello");
 *   std::vector<uint8_t> reply = c.recv_msg(2000);   // throws libsock::timeout_error after 2 s
 *
 * The engine (event-driven, pulled):
 *
 *   libsock::Server server = libsock::Server::listen("127.0.0.1:0");
 *   libsock::Event ev;
 *   while (server.next_event(ev, 1000))
 *       if (ev.kind == LS_EVENT_MESSAGE) server.send(ev.client, ev.data);   // echo
 *
 * Timeouts are milliseconds: -1 (LS_TIMEOUT_FOREVER) forever, 0 poll, and for calls that wait for
 * data or a peer, the default argument LS_TIMEOUT_DEFAULT (-2) uses the handle's default timeout
 * (set_timeout; initially forever).
 */
#ifndef LIBSOCK_HPP
#define LIBSOCK_HPP

#include "libsock.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace libsock {

/// libsock's return codes as a C++ enum (the values are the LS_ERR_* codes).
enum class errc : int {
    timeout = LS_ERR_TIMEOUT,
    connection_refused = LS_ERR_CONNECTION_REFUSED,
    connection_reset = LS_ERR_CONNECTION_RESET,
    connection_aborted = LS_ERR_CONNECTION_ABORTED,
    closed = LS_ERR_CLOSED,
    addr_in_use = LS_ERR_ADDR_IN_USE,
    addr_not_available = LS_ERR_ADDR_NOT_AVAILABLE,
    unreachable = LS_ERR_UNREACHABLE,
    resolve = LS_ERR_RESOLVE,
    invalid_argument = LS_ERR_INVALID_ARGUMENT,
    frame_too_large = LS_ERR_FRAME_TOO_LARGE,
    buffer_too_small = LS_ERR_BUFFER_TOO_SMALL,
    bad_handle = LS_ERR_BAD_HANDLE,
    queue_full = LS_ERR_QUEUE_FULL,
    unsupported = LS_ERR_UNSUPPORTED,
    tls = LS_ERR_TLS,
    io = LS_ERR_IO,
    internal = LS_ERR_INTERNAL,
    interrupted = LS_ERR_INTERRUPTED,
    bad_frame = LS_ERR_BAD_FRAME
};

namespace detail {

class category_impl : public std::error_category {
public:
    const char *name() const noexcept override { return "libsock"; }
    std::string message(int code) const override { return ls_strerror(code); }
    /// Lets `e.code() == std::errc::timed_out` and friends work.
    std::error_condition default_error_condition(int code) const noexcept override {
        switch (code) {
        case LS_ERR_TIMEOUT: return std::make_error_condition(std::errc::timed_out);
        case LS_ERR_CONNECTION_REFUSED:
            return std::make_error_condition(std::errc::connection_refused);
        case LS_ERR_CONNECTION_RESET:
            return std::make_error_condition(std::errc::connection_reset);
        case LS_ERR_CONNECTION_ABORTED:
            return std::make_error_condition(std::errc::connection_aborted);
        case LS_ERR_ADDR_IN_USE: return std::make_error_condition(std::errc::address_in_use);
        case LS_ERR_ADDR_NOT_AVAILABLE:
            return std::make_error_condition(std::errc::address_not_available);
        case LS_ERR_UNREACHABLE: return std::make_error_condition(std::errc::host_unreachable);
        case LS_ERR_INVALID_ARGUMENT:
            return std::make_error_condition(std::errc::invalid_argument);
        case LS_ERR_FRAME_TOO_LARGE: return std::make_error_condition(std::errc::message_size);
        case LS_ERR_BUFFER_TOO_SMALL: return std::make_error_condition(std::errc::no_buffer_space);
        case LS_ERR_BAD_HANDLE: return std::make_error_condition(std::errc::bad_file_descriptor);
        case LS_ERR_UNSUPPORTED: return std::make_error_condition(std::errc::not_supported);
        case LS_ERR_INTERRUPTED: return std::make_error_condition(std::errc::interrupted);
        case LS_ERR_BAD_FRAME: return std::make_error_condition(std::errc::bad_message);
        default: return std::error_condition(code, *this);
        }
    }
};

} // namespace detail

/// libsock's error category ("libsock"); its codes are the LS_ERR_* values.
inline const std::error_category &category() noexcept {
    static const detail::category_impl instance;
    return instance;
}

/// Makes `libsock::errc` values usable as std::error_code.
inline std::error_code make_error_code(errc e) noexcept {
    return std::error_code(static_cast<int>(e), category());
}

/// Every libsock failure: a std::system_error whose code() is in libsock's category and whose
/// what() is core's message, the same text every language door gives (it names the operation
/// and the address, e.g. "connect to 127.0.0.1:9: connection refused (os error 111)"). Each
/// LS_ERR_* code is thrown as its own class below, named after the code (docs/NAMES.md).
class error : public std::system_error {
public:
    error(int32_t code, const std::string &message, int os_error)
        : std::system_error(std::error_code(code, category()), message), message_(message),
          os_error_(os_error) {}
    /// Core's message, without the category's description appended (std::system_error's own
    /// what() would repeat the reason).
    const char *what() const noexcept override { return message_.c_str(); }
    /// The OS errno behind the failure, 0 if none.
    int os_error() const noexcept { return os_error_; }
    /// The LS_ERR_* code.
    int32_t ls_code() const noexcept { return static_cast<int32_t>(code().value()); }

private:
    std::string message_;
    int os_error_;
};

#define LIBSOCK_ERROR_CLASS(name)                                                                  \
    class name : public error {                                                                    \
    public:                                                                                        \
        using error::error;                                                                        \
    }

/// LS_ERR_TIMEOUT: a wait ran out of time; the handle still works.
LIBSOCK_ERROR_CLASS(timeout_error);
/// LS_ERR_CONNECTION_REFUSED: nobody listens at the address.
LIBSOCK_ERROR_CLASS(connection_refused_error);
/// LS_ERR_CONNECTION_RESET: the peer reset the connection.
LIBSOCK_ERROR_CLASS(connection_reset_error);
/// LS_ERR_CONNECTION_ABORTED: the connection was aborted locally.
LIBSOCK_ERROR_CLASS(connection_aborted_error);
/// LS_ERR_CLOSED: the peer finished, or the handle was closed while a call was blocked.
LIBSOCK_ERROR_CLASS(closed_error);
/// LS_ERR_ADDR_IN_USE: the local address is taken.
LIBSOCK_ERROR_CLASS(addr_in_use_error);
/// LS_ERR_ADDR_NOT_AVAILABLE: the local address is not on this host.
LIBSOCK_ERROR_CLASS(addr_not_available_error);
/// LS_ERR_UNREACHABLE: no route to the network or host.
LIBSOCK_ERROR_CLASS(unreachable_error);
/// LS_ERR_RESOLVE: a host name could not be resolved.
LIBSOCK_ERROR_CLASS(resolve_error);
/// LS_ERR_INVALID_ARGUMENT: a malformed address, an out-of-range value ...
LIBSOCK_ERROR_CLASS(invalid_argument_error);
/// LS_ERR_FRAME_TOO_LARGE: a frame exceeds the framing's max_len.
LIBSOCK_ERROR_CLASS(frame_too_large_error);
/// LS_ERR_BUFFER_TOO_SMALL: the message needs needed() bytes; it stays queued.
class buffer_too_small_error : public error {
public:
    buffer_too_small_error(int32_t code, const std::string &message, int os, std::size_t needed)
        : error(code, message, os), needed_(needed) {}
    /// Bytes the message needs.
    std::size_t needed() const noexcept { return needed_; }

private:
    std::size_t needed_;
};
/// LS_ERR_BAD_HANDLE: a closed or moved-from object, or a wrong kind of handle.
LIBSOCK_ERROR_CLASS(bad_handle_error);
/// LS_ERR_QUEUE_FULL: a bounded send or event queue is full.
LIBSOCK_ERROR_CLASS(queue_full_error);
/// LS_ERR_UNSUPPORTED: the operation or option does not exist on this OS or socket.
LIBSOCK_ERROR_CLASS(unsupported_error);
/// LS_ERR_TLS: a TLS failure.
LIBSOCK_ERROR_CLASS(tls_error);
/// LS_ERR_IO: another OS error (os_error() has the errno).
LIBSOCK_ERROR_CLASS(io_error);
/// LS_ERR_INTERNAL: a bug inside libsock.
LIBSOCK_ERROR_CLASS(internal_error);
/// LS_ERR_INTERRUPTED: a wait was interrupted.
LIBSOCK_ERROR_CLASS(interrupted_error);
/// LS_ERR_BAD_FRAME: the peer sent a malformed frame (e.g. a wrong HP-Socket PACK flag); the
/// stream cannot be resynchronised: close the connection.
LIBSOCK_ERROR_CLASS(bad_frame_error);

#undef LIBSOCK_ERROR_CLASS

namespace detail {

inline std::string last_message() {
    std::string s(256, '\0');
    std::size_t len = 0;
    int32_t rc = ls_last_error_message(&s[0], s.size(), &len);
    if (rc == LS_ERR_BUFFER_TOO_SMALL) {
        s.assign(len, '\0');
        rc = ls_last_error_message(&s[0], s.size(), &len);
    }
    if (rc != LS_OK) return ls_strerror(rc);
    s.resize(len);
    return s;
}

[[noreturn]] inline void throw_error(int32_t rc, std::size_t needed = 0) {
    const std::string msg = last_message();
    const int os = ls_last_os_error();
    switch (rc) {
    case LS_ERR_TIMEOUT: throw timeout_error(rc, msg, os);
    case LS_ERR_CONNECTION_REFUSED: throw connection_refused_error(rc, msg, os);
    case LS_ERR_CONNECTION_RESET: throw connection_reset_error(rc, msg, os);
    case LS_ERR_CONNECTION_ABORTED: throw connection_aborted_error(rc, msg, os);
    case LS_ERR_CLOSED: throw closed_error(rc, msg, os);
    case LS_ERR_ADDR_IN_USE: throw addr_in_use_error(rc, msg, os);
    case LS_ERR_ADDR_NOT_AVAILABLE: throw addr_not_available_error(rc, msg, os);
    case LS_ERR_UNREACHABLE: throw unreachable_error(rc, msg, os);
    case LS_ERR_RESOLVE: throw resolve_error(rc, msg, os);
    case LS_ERR_INVALID_ARGUMENT: throw invalid_argument_error(rc, msg, os);
    case LS_ERR_FRAME_TOO_LARGE: throw frame_too_large_error(rc, msg, os);
    case LS_ERR_BUFFER_TOO_SMALL: throw buffer_too_small_error(rc, msg, os, needed);
    case LS_ERR_BAD_HANDLE: throw bad_handle_error(rc, msg, os);
    case LS_ERR_QUEUE_FULL: throw queue_full_error(rc, msg, os);
    case LS_ERR_UNSUPPORTED: throw unsupported_error(rc, msg, os);
    case LS_ERR_TLS: throw tls_error(rc, msg, os);
    case LS_ERR_IO: throw io_error(rc, msg, os);
    case LS_ERR_INTERNAL: throw internal_error(rc, msg, os);
    case LS_ERR_INTERRUPTED: throw interrupted_error(rc, msg, os);
    case LS_ERR_BAD_FRAME: throw bad_frame_error(rc, msg, os);
    default: throw error(rc, msg, os);
    }
}

inline void check(int32_t rc) {
    if (rc != LS_OK) throw_error(rc);
}

inline const uint8_t *bytes(const void *p) { return static_cast<const uint8_t *>(p); }
/// Messages back to back with their lengths (the batch layout of the C functions).
struct batch {
    std::string all;
    std::vector<std::size_t> lens;
    explicit batch(const std::vector<std::string> &msgs) {
        lens.reserve(msgs.size());
        for (const std::string &m : msgs) {
            all += m;
            lens.push_back(m.size());
        }
    }
};
inline uint8_t *out(std::string &s) { return reinterpret_cast<uint8_t *>(&s[0]); }

/// A text result written by `f(buf, cap, &len)`, growing the buffer when asked to.
template <class F> std::string text(F f) {
    std::string s(LS_ADDRESS_MAX, '\0');
    std::size_t len = 0;
    int32_t rc = f(&s[0], s.size(), &len);
    if (rc == LS_ERR_BUFFER_TOO_SMALL) {
        s.assign(len, '\0');
        rc = f(&s[0], s.size(), &len);
    }
    check(rc);
    s.resize(len);
    return s;
}

/// The client ids of server `h` (a TCP or KCP server: the same C call), in increasing order.
inline std::vector<uint64_t> server_clients(int64_t h) {
    std::vector<uint64_t> ids(16);
    for (;;) {
        std::size_t n = 0;
        int32_t rc = ls_server_clients(h, ids.data(), ids.size(), &n);
        if (rc == LS_ERR_BUFFER_TOO_SMALL) {
            ids.resize(n + 16);
            continue;
        }
        check(rc);
        ids.resize(n);
        return ids;
    }
}

/// The address of `client` of server `h`, as text.
inline std::string server_client_address(int64_t h, uint64_t client) {
    return text([h, client](char *b, std::size_t c, std::size_t *l) {
        return ls_server_client_address(h, client, b, c, l);
    });
}

} // namespace detail

/// The library version, e.g. "0.1.0".
inline std::string version() { return ls_version(); }

/// Owns one libsock handle: closes it on destruction; movable, not copyable.
class Handle {
public:
    Handle() noexcept : h_(0) {}
    explicit Handle(int64_t h) noexcept : h_(h) {}
    Handle(Handle &&o) noexcept : h_(o.h_) { o.h_ = 0; }
    Handle &operator=(Handle &&o) noexcept {
        if (this != &o) {
            reset();
            h_ = o.h_;
            o.h_ = 0;
        }
        return *this;
    }
    Handle(const Handle &) = delete;
    Handle &operator=(const Handle &) = delete;
    ~Handle() { reset(); }

    /// The raw handle for the C functions (0 when empty).
    int64_t get() const noexcept { return h_; }
    /// True while a handle is held.
    explicit operator bool() const noexcept { return h_ != 0; }
    /// Give up ownership without closing.
    int64_t release() noexcept {
        int64_t h = h_;
        h_ = 0;
        return h;
    }
    /// Close now (idempotent); a call blocked on the handle in another thread returns
    /// closed_error. Use ls_close(get()) directly to close from another thread while this
    /// object stays alive.
    void close() noexcept { reset(); }

protected:
    int64_t h_;

private:
    void reset() noexcept {
        if (h_ != 0) (void)ls_close(h_);
        h_ = 0;
    }
};

/// TLS settings (an ls_tls_* config handle), for a client (TlsConfig::client(): the server is
/// verified against the system's roots and the host connected to) or a server
/// (TlsConfig::server(): give it a certificate). Attach to connect/listen with Options::tls.
/// The setters return *this; bad values throw invalid_argument_error, a failed handshake later
/// throws tls_error naming the reason.
class TlsConfig : public Handle {
public:
    /// Client settings.
    static TlsConfig client() {
        int64_t h = 0;
        detail::check(ls_tls_client_config_new(&h));
        return TlsConfig(h);
    }
    /// Server settings (they need cert_files or cert_pem).
    static TlsConfig server() {
        int64_t h = 0;
        detail::check(ls_tls_server_config_new(&h));
        return TlsConfig(h);
    }
    /// Client: trust the CA certificates of a PEM file (instead of the system's roots).
    TlsConfig &ca_file(const std::string &path) {
        detail::check(ls_tls_set_ca_file(h_, path.c_str()));
        return *this;
    }
    /// Client: trust the CA certificates in PEM text.
    TlsConfig &ca_pem(const std::string &pem) {
        detail::check(ls_tls_set_ca_pem(h_, detail::bytes(pem.data()), pem.size()));
        return *this;
    }
    /// Client: trust the Mozilla roots bundled in libsock.
    TlsConfig &bundled_roots() {
        detail::check(ls_tls_set_bundled_roots(h_));
        return *this;
    }
    /// Client: trust only a server whose certificate (or public key) has this SHA-256
    /// fingerprint (see libsock::fingerprint); call again to allow several.
    TlsConfig &add_pin(const std::string &sha256_hex) {
        detail::check(ls_tls_add_pin(h_, sha256_hex.c_str()));
        return *this;
    }
    /// Client: DANGER: verify nothing (tests only; pin a self-signed server instead).
    TlsConfig &dangerous_no_verify() {
        detail::check(ls_tls_set_dangerous_no_verify(h_));
        return *this;
    }
    /// Client: the name sent by SNI and checked (default: the host connected to).
    TlsConfig &server_name(const std::string &name) {
        detail::check(ls_tls_set_server_name(h_, name.c_str()));
        return *this;
    }
    /// The certificate chain and key from PEM files: a server's own, or a client's (mTLS).
    TlsConfig &cert_files(const std::string &cert_path, const std::string &key_path) {
        detail::check(ls_tls_set_cert_files(h_, cert_path.c_str(), key_path.c_str()));
        return *this;
    }
    /// cert_files from PEM text (e.g. from libsock::self_signed).
    TlsConfig &cert_pem(const std::string &cert, const std::string &key) {
        detail::check(ls_tls_set_cert_pem(h_, detail::bytes(cert.data()), cert.size(),
                                          detail::bytes(key.data()), key.size()));
        return *this;
    }
    /// Server: serve this certificate to clients asking for `name` by SNI (PEM files).
    TlsConfig &add_sni_cert_files(const std::string &name, const std::string &cert_path,
                                  const std::string &key_path) {
        detail::check(
            ls_tls_add_sni_cert_files(h_, name.c_str(), cert_path.c_str(), key_path.c_str()));
        return *this;
    }
    /// Server: add_sni_cert_files from PEM text.
    TlsConfig &add_sni_cert_pem(const std::string &name, const std::string &cert,
                                const std::string &key) {
        detail::check(ls_tls_add_sni_cert_pem(h_, name.c_str(), detail::bytes(cert.data()),
                                              cert.size(), detail::bytes(key.data()), key.size()));
        return *this;
    }
    /// Server: client certificates LS_TLS_CLIENT_AUTH_NONE / _OPTIONAL / _REQUIRED, checked
    /// against the CA certificates in PEM text `ca_pem`.
    TlsConfig &client_auth(int32_t mode, const std::string &ca_pem = std::string()) {
        detail::check(ls_tls_set_client_auth(h_, mode, detail::bytes(ca_pem.data()), ca_pem.size()));
        return *this;
    }
    /// Server: client_auth with the CA certificates of a PEM file.
    TlsConfig &client_auth_file(int32_t mode, const std::string &ca_path) {
        detail::check(ls_tls_set_client_auth_file(h_, mode, ca_path.c_str()));
        return *this;
    }
    /// Add an ALPN protocol (most preferred first).
    TlsConfig &add_alpn(const std::string &protocol) {
        detail::check(ls_tls_add_alpn(h_, protocol.c_str()));
        return *this;
    }
    /// The lowest version: LS_TLS_VERSION_1_2 (default) or LS_TLS_VERSION_1_3.
    TlsConfig &min_version(int32_t version) {
        detail::check(ls_tls_set_min_version(h_, version));
        return *this;
    }
    /// How long a handshake may take, in ms (default 10000).
    TlsConfig &handshake_timeout(int32_t timeout_ms) {
        detail::check(ls_tls_set_handshake_timeout(h_, timeout_ms));
        return *this;
    }
    /// Write session keys to $SSLKEYLOGFILE (for Wireshark).
    TlsConfig &keylog(bool on) {
        detail::check(ls_tls_set_keylog(h_, on ? 1 : 0));
        return *this;
    }

private:
    explicit TlsConfig(int64_t h) noexcept : Handle(h) {}
};

/// A certificate and its private key, both PEM text (libsock::self_signed).
struct CertificateAndKey {
    /// The certificate (PEM).
    std::string cert;
    /// The private key (PEM).
    std::string key;
};

/// A self-signed certificate and key for `names` ("localhost,127.0.0.1"): to try TLS, for
/// tests, and for devices trusted by their pin (TlsConfig::add_pin(fingerprint(cert))).
inline CertificateAndKey self_signed(const std::string &names) {
    CertificateAndKey r;
    r.cert.assign(4096, '\0');
    r.key.assign(4096, '\0');
    std::size_t cl = 0, kl = 0;
    int32_t rc = ls_tls_self_signed(names.c_str(), detail::out(r.cert), r.cert.size(), &cl,
                                    detail::out(r.key), r.key.size(), &kl);
    if (rc == LS_ERR_BUFFER_TOO_SMALL) {
        r.cert.assign(cl, '\0');
        r.key.assign(kl, '\0');
        rc = ls_tls_self_signed(names.c_str(), detail::out(r.cert), r.cert.size(), &cl,
                                detail::out(r.key), r.key.size(), &kl);
    }
    detail::check(rc);
    r.cert.resize(cl);
    r.key.resize(kl);
    return r;
}

/// A self-signed certificate and key for `names` written to files; returns its pin.
inline std::string self_signed_files(const std::string &names, const std::string &cert_path,
                                         const std::string &key_path) {
    return detail::text([&](char *b, std::size_t c, std::size_t *l) {
        return ls_tls_self_signed_files(names.c_str(), cert_path.c_str(), key_path.c_str(),
                                        reinterpret_cast<uint8_t *>(b), c, l);
    });
}

/// The SHA-256 fingerprint (64 hex digits) of a certificate given as PEM text or DER bytes:
/// what TlsConfig::add_pin takes.
inline std::string fingerprint(const std::string &cert) {
    return detail::text([&](char *b, std::size_t c, std::size_t *l) {
        return ls_fingerprint(detail::bytes(cert.data()), cert.size(), reinterpret_cast<uint8_t *>(b),
                              c, l);
    });
}

/// Socket options to apply before binding or connecting (see TcpConnection::connect,
/// Listener::listen, Datagram::bind).
class Options : public Handle {
public:
    Options() {
        int64_t h = 0;
        detail::check(ls_options_new(&h));
        h_ = h;
    }
    /// Record option `opt` (LS_OPT_*) = value.
    Options &set(int32_t opt, int64_t value) {
        detail::check(ls_set_option(h_, opt, value));
        return *this;
    }
    /// The value recorded for `opt`.
    int64_t get_option(int32_t opt) const {
        int64_t v = 0;
        detail::check(ls_get_option(h_, opt, &v));
        return v;
    }
    /// Bind to this local "ip:port" before connecting.
    Options &local_address(const std::string &address) {
        detail::check(ls_options_set_local_address(h_, address.c_str()));
        return *this;
    }
    /// Speak TLS with these settings: a client config for TcpConnection::connect, a server
    /// config for Listener::listen (the options keep them; `tls` may be destroyed after).
    Options &tls(const TlsConfig &tls) {
        detail::check(ls_options_set_tls(h_, tls.get()));
        return *this;
    }
    /// Connect through a proxy: "socks5://[user:password@]host[:port]" or
    /// "http://[user:password@]host[:port]" ("" removes it); a malformed URL throws
    /// invalid_argument_error here (see ls_options_set_proxy).
    Options &proxy(const std::string &url) {
        detail::check(ls_options_set_proxy(h_, url.c_str()));
        return *this;
    }
};

/// What connections, listeners and datagram sockets share: addresses, options, timeouts.
class Socket : public Handle {
public:
    /// The local address as text ("127.0.0.1:5000", "[::1]:80", "unix:/path").
    std::string local_address() const {
        int64_t h = h_;
        return detail::text([h](char *b, std::size_t c, std::size_t *l) {
            return ls_local_address(h, b, c, l);
        });
    }
    /// The local port (the real one for a socket bound to port 0; 0 for Unix sockets).
    int local_port() const {
        int32_t p = 0;
        detail::check(ls_local_port(h_, &p));
        return p;
    }
    /// Set option `opt` (LS_OPT_*).
    void set_option(int32_t opt, int64_t value) { detail::check(ls_set_option(h_, opt, value)); }
    /// Read option `opt` back from the OS.
    int64_t get_option(int32_t opt) const {
        int64_t v = 0;
        detail::check(ls_get_option(h_, opt, &v));
        return v;
    }
    /// Default timeout in ms (-1 forever, 0 poll).
    void set_timeout(int32_t timeout_ms) { detail::check(ls_set_timeout(h_, timeout_ms)); }
    /// The default timeout in ms (-1 = forever).
    int32_t get_timeout() const {
        int32_t t = 0;
        detail::check(ls_get_timeout(h_, &t));
        return t;
    }
    /// Same as get_timeout() (the name before docs/NAMES.md).
    int32_t timeout() const { return get_timeout(); }

protected:
    Socket() noexcept {}
    explicit Socket(int64_t h) noexcept : Handle(h) {}

    void framing_raw() { detail::check(ls_set_framing_raw(h_)); }
    void framing_length(int width, bool big_endian, std::size_t max_len) {
        detail::check(ls_set_framing_length(h_, width, big_endian ? 1 : 0, max_len));
    }
    void framing_length_ex(int width, bool big_endian, std::size_t offset, std::size_t header_len,
                           int64_t adjustment, std::size_t max_len, bool keep_header) {
        detail::check(ls_set_framing_length_ex(h_, width, big_endian ? 1 : 0, offset, header_len,
                                               adjustment, max_len, keep_header ? 1 : 0));
    }
    void framing_delimited(const std::string &delim, std::size_t max_len, bool keep) {
        detail::check(ls_set_framing_delimited(h_, detail::bytes(delim.data()), delim.size(),
                                               max_len, keep ? 1 : 0));
    }
    void framing_fixed(std::size_t size) { detail::check(ls_set_framing_fixed(h_, size)); }
    void framing_hp_pack(int flag, std::size_t max_len) {
        detail::check(ls_set_framing_hp_pack(h_, flag, max_len));
    }
};

/// What TcpConnection::recv_fds received: the bytes and the descriptors (the caller's to close).
struct ReceivedFds {
    /// The bytes received (empty: the peer closed).
    std::vector<uint8_t> data;
    /// The descriptors that came with them.
    std::vector<int> fds;
};

/// The process at the other end of a Unix connection (TcpConnection::peer_credentials).
struct PeerCredentials {
    /// Process id.
    int32_t pid;
    /// User id.
    uint32_t uid;
    /// Group id.
    uint32_t gid;
};

/// One connection's counters: a blocking TcpConnection's (TcpConnection::stats) or one client of
/// a Server's (Server::client_stats). Read one by one: a snapshot of each, not of all at once.
struct ConnectionStats {
    /// The peer's address.
    std::string peer;
    /// When the connection was made (a server's client: admitted), in ms since 1970-01-01 UTC.
    int64_t connected_since_ms = 0;
    /// Bytes received (with TLS: application bytes).
    int64_t bytes_in = 0;
    /// Bytes sent (frames with their headers).
    int64_t bytes_out = 0;
    /// Messages received (heartbeats not counted).
    int64_t messages_in = 0;
    /// Frames or messages sent (an engine's heartbeats included).
    int64_t messages_out = 0;
    /// Bytes waiting in the send queue (0 for a blocking connection).
    int64_t queued_bytes = 0;
    /// It speaks TLS.
    bool tls = false;

    /// Fill the counters from `get(stat)` (LS_STAT_* / LS_CLIENT_STAT_*).
    template <class F> void fill(F get) {
        connected_since_ms = get(LS_CLIENT_STAT_CONNECTED_SINCE_MS);
        bytes_in = get(LS_STAT_BYTES_IN);
        bytes_out = get(LS_STAT_BYTES_OUT);
        messages_in = get(LS_STAT_MESSAGES_IN);
        messages_out = get(LS_STAT_MESSAGES_OUT);
        queued_bytes = get(LS_STAT_QUEUED_BYTES);
        tls = get(LS_CLIENT_STAT_TLS) != 0;
    }
};

/// A TCP or Unix stream connection.
class TcpConnection : public Socket {
    typedef int32_t (*text_fn)(int64_t, char *, std::size_t, std::size_t *);
    std::string tls_text(text_fn f) const {
        int64_t h = h_;
        return detail::text([h, f](char *b, std::size_t c, std::size_t *l) { return f(h, b, c, l); });
    }

public:
    /// An empty object (no connection).
    TcpConnection() noexcept {}
    /// Take ownership of a connection handle.
    explicit TcpConnection(int64_t h) noexcept : Socket(h) {}

    /// Connect to "host:port", "[v6]:port" or "unix:/path"; timeout_ms limits resolving and
    /// connecting (-1: the OS's limit). Socket options, if given, are applied before connecting.
    static TcpConnection connect(const std::string &address, int32_t timeout_ms = -1,
                                 const Options *options = nullptr) {
        int64_t h = 0;
        detail::check(ls_tcp_connect_ex(address.c_str(), timeout_ms,
                                        options ? options->get() : 0, &h));
        return TcpConnection(h);
    }

    /// True when the connection speaks TLS.
    bool is_tls() const {
        int32_t v = 0;
        detail::check(ls_is_tls(h_, &v));
        return v != 0;
    }
    /// The TLS version agreed on ("TLSv1.3", "TLSv1.2"; "" for a plain connection).
    std::string tls_version() const { return tls_text(ls_tls_version); }
    /// The cipher suite agreed on ("" for a plain connection).
    std::string tls_cipher() const { return tls_text(ls_tls_cipher); }
    /// The ALPN protocol agreed on ("" when none).
    std::string tls_alpn() const { return tls_text(ls_tls_alpn); }
    /// The SHA-256 fingerprint of the peer's certificate ("" when it sent none).
    std::string tls_peer_fingerprint() const { return tls_text(ls_tls_peer_fingerprint); }
    /// The peer's certificate (DER; empty when it sent none).
    std::vector<uint8_t> tls_peer_certificate() const {
        std::size_t n = 0;
        int32_t rc = ls_tls_peer_certificate(h_, nullptr, 0, &n);
        if (rc != LS_ERR_BUFFER_TOO_SMALL) detail::check(rc);
        std::vector<uint8_t> der(n);
        if (n > 0) detail::check(ls_tls_peer_certificate(h_, der.data(), der.size(), &n));
        der.resize(n);
        return der;
    }

    /// Send what the socket takes now; returns the count.
    std::size_t send(const void *data, std::size_t len) {
        std::size_t n = 0;
        detail::check(ls_send(h_, detail::bytes(data), len, &n));
        return n;
    }
    /// Send all bytes.
    void send_all(const void *data, std::size_t len) {
        detail::check(ls_send_all(h_, detail::bytes(data), len));
    }
    /// Send all bytes of a string.
    void send_all(const std::string &s) { send_all(s.data(), s.size()); }
    /// Send all bytes of a vector.
    void send_all(const std::vector<uint8_t> &v) { send_all(v.data(), v.size()); }

    /// Receive what is there (waiting for at least one byte) into buf; 0 = the peer closed.
    std::size_t recv(void *buf, std::size_t cap, int32_t timeout_ms = LS_TIMEOUT_DEFAULT) {
        std::size_t n = 0;
        detail::check(ls_recv(h_, timeout_ms, static_cast<uint8_t *>(buf), cap, &n));
        return n;
    }
    /// Receive up to max bytes; an empty vector = the peer closed.
    std::vector<uint8_t> recv(std::size_t max, int32_t timeout_ms = LS_TIMEOUT_DEFAULT) {
        std::vector<uint8_t> v(max);
        v.resize(recv(v.data(), v.size(), timeout_ms));
        return v;
    }
    /// Receive exactly len bytes into buf (closed_error if the peer closes first).
    void recv_exact(void *buf, std::size_t len, int32_t timeout_ms = LS_TIMEOUT_DEFAULT) {
        detail::check(ls_recv_exact(h_, timeout_ms, static_cast<uint8_t *>(buf), len));
    }
    /// Receive exactly n bytes.
    std::vector<uint8_t> recv_exact(std::size_t n, int32_t timeout_ms = LS_TIMEOUT_DEFAULT) {
        std::vector<uint8_t> v(n);
        recv_exact(v.data(), n, timeout_ms);
        return v;
    }
    /// Receive up to and including delim, at most max bytes (frame_too_large_error beyond).
    std::string recv_until(const std::string &delim, std::size_t max = 65536,
                           int32_t timeout_ms = LS_TIMEOUT_DEFAULT) {
        std::string s(max, '\0');
        std::size_t n = 0;
        detail::check(ls_recv_until(h_, timeout_ms, detail::bytes(delim.data()), delim.size(),
                                    reinterpret_cast<uint8_t *>(&s[0]), s.size(), &n));
        s.resize(n);
        return s;
    }

    /// Send one message through the framing.
    void send_msg(const void *data, std::size_t len) {
        detail::check(ls_send_msg(h_, detail::bytes(data), len));
    }
    /// Send one message (a string).
    void send_msg(const std::string &s) { send_msg(s.data(), s.size()); }
    /// Send one message (a vector).
    void send_msg(const std::vector<uint8_t> &v) { send_msg(v.data(), v.size()); }
    /// Send count messages at once (vectored writes): their bodies lie back to back in data,
    /// message i has lens[i] bytes.
    void send_msgs(const void *data, const std::size_t *lens, std::size_t count) {
        detail::check(ls_send_msgs(h_, detail::bytes(data), lens, count));
    }
    /// Send every string of msgs as one message, all at once (vectored writes).
    void send_msgs(const std::vector<std::string> &msgs) {
        std::string all;
        std::vector<std::size_t> lens;
        lens.reserve(msgs.size());
        for (const std::string &m : msgs) {
            all += m;
            lens.push_back(m.size());
        }
        send_msgs(all.data(), lens.data(), lens.size());
    }
    /// Receive one message into buf; buffer_too_small_error (with needed()) when it does not fit,
    /// and the message stays queued.
    std::size_t recv_msg(void *buf, std::size_t cap, int32_t timeout_ms = LS_TIMEOUT_DEFAULT) {
        std::size_t n = 0;
        int32_t rc = ls_recv_msg(h_, timeout_ms, static_cast<uint8_t *>(buf), cap, &n);
        if (rc == LS_ERR_BUFFER_TOO_SMALL) detail::throw_error(rc, n);
        detail::check(rc);
        return n;
    }
    /// Receive one message of any size.
    std::vector<uint8_t> recv_msg(int32_t timeout_ms = LS_TIMEOUT_DEFAULT) {
        // Small messages land on the stack; a larger one stays queued (BUFFER_TOO_SMALL tells its
        // size) and is fetched into a vector of exactly that size.
        uint8_t small[4096];
        std::size_t n = 0;
        int32_t rc = ls_recv_msg(h_, timeout_ms, small, sizeof small, &n);
        if (rc == LS_OK) return std::vector<uint8_t>(small, small + n);
        if (rc != LS_ERR_BUFFER_TOO_SMALL) detail::throw_error(rc);
        std::vector<uint8_t> v(n);
        detail::check(ls_recv_msg(h_, LS_TIMEOUT_POLL, v.data(), v.size(), &n));
        v.resize(n);
        return v;
    }
    /// Receive up to count messages in one call, waiting (timeout_ms) only for the first: their
    /// bodies back to back in buf (capacity cap), message i's length in lens[i]; returns how many
    /// (at least 1). A message that does not fit the rest of buf stays queued for the next call;
    /// buffer_too_small_error (with needed()) when even the first does not fit.
    std::size_t recv_msgs(void *buf, std::size_t cap, std::size_t count, std::size_t *lens,
                          int32_t timeout_ms = LS_TIMEOUT_DEFAULT) {
        std::size_t n = 0;
        int32_t rc = ls_recv_msgs(h_, timeout_ms, static_cast<uint8_t *>(buf), cap, count, lens, &n);
        if (rc == LS_ERR_BUFFER_TOO_SMALL) detail::throw_error(rc, lens[0]);
        detail::check(rc);
        return n;
    }
    /// Receive up to max messages (the first waited for, the rest already here) as strings; cap
    /// bounds their total size (a message larger than cap: buffer_too_small_error, it stays
    /// queued).
    std::vector<std::string> recv_msgs(std::size_t max, std::size_t cap = 65536,
                                       int32_t timeout_ms = LS_TIMEOUT_DEFAULT) {
        std::vector<uint8_t> buf(cap);
        std::vector<std::size_t> lens(max == 0 ? 1 : max);
        std::size_t n = recv_msgs(buf.data(), buf.size(), max, lens.data(), timeout_ms);
        std::vector<std::string> out;
        out.reserve(n);
        const char *p = reinterpret_cast<const char *>(buf.data());
        for (std::size_t i = 0; i < n; i++) {
            out.emplace_back(p, lens[i]);
            p += lens[i];
        }
        return out;
    }
    /// Receive one message as a string.
    std::string recv_msg_string(int32_t timeout_ms = LS_TIMEOUT_DEFAULT) {
        std::vector<uint8_t> v = recv_msg(timeout_ms);
        return std::string(v.begin(), v.end());
    }

    /// No framing.
    void set_framing_raw() { framing_raw(); }
    /// A length field of width bytes before each body.
    void set_framing_length(int width = 4, bool big_endian = true, std::size_t max_len = 0) {
        framing_length(width, big_endian, max_len);
    }
    /// A length field inside a longer header (see ls_set_framing_length_ex).
    void set_framing_length_ex(int width, bool big_endian, std::size_t offset,
                               std::size_t header_len, int64_t adjustment, std::size_t max_len,
                               bool keep_header) {
        framing_length_ex(width, big_endian, offset, header_len, adjustment, max_len, keep_header);
    }
    /// Messages ending with delim (e.g. "\r\n").
    void set_framing_delimited(const std::string &delim, std::size_t max_len = 0,
                               bool keep = false) {
        framing_delimited(delim, max_len, keep);
    }
    /// Messages of size bytes each.
    void set_framing_fixed(std::size_t size) { framing_fixed(size); }
    /// HP-Socket's PACK header.
    void set_framing_hp_pack(int flag, std::size_t max_len = 0) { framing_hp_pack(flag, max_len); }

    /// Shut down a direction: LS_SHUT_WRITE (half-close), LS_SHUT_READ or LS_SHUT_BOTH.
    void shutdown(int32_t how = LS_SHUT_WRITE) { detail::check(ls_socket_shutdown(h_, how)); }
    /// Bytes readable now without waiting.
    std::size_t bytes_available() const {
        std::size_t n = 0;
        detail::check(ls_bytes_available(h_, &n));
        return n;
    }
    /// The peer's address as text.
    std::string peer_address() const {
        int64_t h = h_;
        return detail::text([h](char *b, std::size_t c, std::size_t *l) {
            return ls_peer_address(h, b, c, l);
        });
    }
    /// Send all bytes with the descriptors `fds` attached (Unix connections; SCM_RIGHTS): the
    /// peer receives duplicates, ours stay open. unsupported_error on TCP or TLS.
    void send_fds(const void *data, std::size_t len, const std::vector<int> &fds) {
        std::vector<int32_t> raw(fds.begin(), fds.end());
        detail::check(ls_send_fds(h_, detail::bytes(data), len, raw.empty() ? nullptr : raw.data(),
                                  raw.size()));
    }
    /// send_fds with the bytes of a string.
    void send_fds(const std::string &s, const std::vector<int> &fds) {
        send_fds(s.data(), s.size(), fds);
    }
    /// Receive up to max_len bytes (> 0) and up to max_fds descriptors sent with them (Unix
    /// connections); the descriptors are the caller's to close. Empty data = the peer closed.
    /// More descriptors than max_fds throw io_error (none leak; the bytes stay buffered).
    ReceivedFds recv_fds(std::size_t max_len, std::size_t max_fds,
                         int32_t timeout_ms = LS_TIMEOUT_DEFAULT) {
        ReceivedFds r;
        // Above LS_MAX_FDS the C call refuses max_fds before it looks at the slots.
        std::vector<int32_t> raw(max_fds <= static_cast<std::size_t>(LS_MAX_FDS) ? max_fds : 1);
        r.data.resize(max_len);
        std::size_t n = 0, nf = 0;
        detail::check(ls_recv_fds(h_, timeout_ms, r.data.empty() ? nullptr : r.data.data(),
                                  r.data.size(), &n, raw.empty() ? nullptr : raw.data(),
                                  max_fds, &nf));
        r.data.resize(n);
        r.fds.assign(raw.begin(), raw.begin() + static_cast<std::ptrdiff_t>(nf));
        return r;
    }
    /// The peer process (Unix connections; SO_PEERCRED) as the kernel recorded it.
    PeerCredentials peer_credentials() const {
        PeerCredentials c = {0, 0, 0};
        uint64_t uid = 0, gid = 0;
        detail::check(ls_peer_credentials(h_, &c.pid, &uid, &gid));
        c.uid = static_cast<uint32_t>(uid);
        c.gid = static_cast<uint32_t>(gid);
        return c;
    }
    /// Statistic `stat` of this connection: LS_STAT_BYTES_IN/OUT, LS_STAT_MESSAGES_IN/OUT,
    /// LS_STAT_QUEUED_BYTES (0), LS_CLIENT_STAT_CONNECTED_SINCE_MS or LS_CLIENT_STAT_TLS.
    int64_t stat(int32_t stat) const {
        int64_t v = 0;
        detail::check(ls_connection_stats(h_, stat, &v));
        return v;
    }
    /// The connection's counters (bytes and messages each way, since when).
    ConnectionStats stats() const {
        ConnectionStats c;
        c.peer = peer_address();
        c.fill([this](int32_t s) { return stat(s); });
        return c;
    }
    /// Send len bytes of a file from offset (-1: to the end); returns the count.
    uint64_t send_file(const std::string &path, uint64_t offset = 0, int64_t len = -1) {
        uint64_t n = 0;
        detail::check(ls_send_file(h_, path.c_str(), offset, len, &n));
        return n;
    }
    /// Receive exactly len bytes into a new file.
    uint64_t recv_file(const std::string &path, uint64_t len) {
        uint64_t n = 0;
        detail::check(ls_recv_file(h_, path.c_str(), len, &n));
        return n;
    }
};

/// A listening TCP or Unix stream socket.
class Listener : public Socket {
public:
    /// An empty object.
    Listener() noexcept {}
    /// Take ownership of a listener handle.
    explicit Listener(int64_t h) noexcept : Socket(h) {}

    /// Listen on address ("127.0.0.1:0" picks a free port); backlog 0 = default.
    static Listener listen(const std::string &address, int32_t backlog = 0,
                           const Options *options = nullptr) {
        int64_t h = 0;
        detail::check(ls_listen_ex(address.c_str(), backlog, options ? options->get() : 0, &h));
        return Listener(h);
    }
    /// Wait for a client (timeout_error when none came).
    TcpConnection accept(int32_t timeout_ms = LS_TIMEOUT_DEFAULT) {
        int64_t h = 0;
        detail::check(ls_accept(h_, timeout_ms, &h));
        return TcpConnection(h);
    }

    /// Framing of accepted connections: none.
    void set_framing_raw() { framing_raw(); }
    /// Framing of accepted connections: a length field before each body.
    void set_framing_length(int width = 4, bool big_endian = true, std::size_t max_len = 0) {
        framing_length(width, big_endian, max_len);
    }
    /// Framing of accepted connections: messages ending with delim.
    void set_framing_delimited(const std::string &delim, std::size_t max_len = 0,
                               bool keep = false) {
        framing_delimited(delim, max_len, keep);
    }
    /// Framing of accepted connections: fixed-size messages.
    void set_framing_fixed(std::size_t size) { framing_fixed(size); }
    /// Framing of accepted connections: HP-Socket's PACK header.
    void set_framing_hp_pack(int flag, std::size_t max_len = 0) { framing_hp_pack(flag, max_len); }
};

/// One received datagram (Datagram::recv_from).
struct Received {
    /// Bytes written into the buffer.
    std::size_t len;
    /// The sender's address as text.
    std::string peer;
    /// True when the datagram did not fit and its tail was lost.
    bool truncated;
};

/// A UDP or Unix datagram socket.
class Datagram : public Socket {
public:
    /// An empty object.
    Datagram() noexcept {}
    /// Take ownership of a datagram handle.
    explicit Datagram(int64_t h) noexcept : Socket(h) {}

    /// A socket bound to address ("0.0.0.0:5000", "127.0.0.1:0", "unix:/path").
    static Datagram bind(const std::string &address, const Options *options = nullptr) {
        int64_t h = 0;
        detail::check(ls_udp_bind_ex(address.c_str(), options ? options->get() : 0, &h));
        return Datagram(h);
    }
    /// A socket connected to address (send/recv talk to it only).
    static Datagram connect(const std::string &address, const Options *options = nullptr) {
        int64_t h = 0;
        detail::check(ls_udp_connect_ex(address.c_str(), options ? options->get() : 0, &h));
        return Datagram(h);
    }

    /// Send one datagram to address.
    void send_to(const void *data, std::size_t len, const std::string &address) {
        detail::check(ls_send_to(h_, detail::bytes(data), len, address.c_str()));
    }
    /// Send one datagram (a string) to address.
    void send_to(const std::string &s, const std::string &address) {
        send_to(s.data(), s.size(), address);
    }
    /// Send one datagram to the connected peer.
    std::size_t send(const void *data, std::size_t len) {
        std::size_t n = 0;
        detail::check(ls_send(h_, detail::bytes(data), len, &n));
        return n;
    }
    /// Receive one datagram into buf, with its sender and whether it was truncated.
    Received recv_from(void *buf, std::size_t cap, int32_t timeout_ms = LS_TIMEOUT_DEFAULT) {
        std::string peer(LS_ADDRESS_MAX, '\0');
        std::size_t n = 0, pl = 0;
        int32_t tr = 0;
        detail::check(ls_recv_from(h_, timeout_ms, static_cast<uint8_t *>(buf), cap, &n, &peer[0],
                                   peer.size(), &pl, &tr));
        peer.resize(pl);
        Received r;
        r.len = n;
        r.peer = peer;
        r.truncated = tr != 0;
        return r;
    }
    /// Receive up to count datagrams at once (recvmmsg), waiting for the first: datagram i lands
    /// at buf + i * slot_size (buf holds count * slot_size bytes) and its length in lens[i];
    /// returns how many arrived. Senders and truncation: ls_recv_many.
    std::size_t recv_many(void *buf, std::size_t slot_size, std::size_t count, std::size_t *lens,
                          int32_t timeout_ms = LS_TIMEOUT_DEFAULT) {
        std::size_t n = 0;
        detail::check(ls_recv_many(h_, timeout_ms, static_cast<uint8_t *>(buf), slot_size, count,
                                   lens, nullptr, nullptr, &n));
        return n;
    }
    /// Receive up to max datagrams (each up to slot_size bytes) at once, as strings.
    std::vector<std::string> recv_many(std::size_t max, std::size_t slot_size = 65536,
                                       int32_t timeout_ms = LS_TIMEOUT_DEFAULT) {
        std::vector<uint8_t> buf(max * slot_size);
        std::vector<std::size_t> lens(max);
        std::size_t n = recv_many(buf.data(), slot_size, max, lens.data(), timeout_ms);
        std::vector<std::string> out;
        out.reserve(n);
        for (std::size_t i = 0; i < n; i++) {
            const char *p = reinterpret_cast<const char *>(buf.data()) + i * slot_size;
            out.emplace_back(p, lens[i]);
        }
        return out;
    }
    /// Receive one datagram from the connected peer.
    std::size_t recv(void *buf, std::size_t cap, int32_t timeout_ms = LS_TIMEOUT_DEFAULT) {
        std::size_t n = 0;
        detail::check(ls_recv(h_, timeout_ms, static_cast<uint8_t *>(buf), cap, &n));
        return n;
    }
    /// Join a multicast group ("" interface = default).
    void join_multicast(const std::string &group, const std::string &interface_ = "") {
        detail::check(ls_join_multicast(h_, group.c_str(), interface_.c_str()));
    }
    /// Leave a multicast group.
    void leave_multicast(const std::string &group, const std::string &interface_ = "") {
        detail::check(ls_leave_multicast(h_, group.c_str(), interface_.c_str()));
    }
    /// Send multicast datagrams out of `interface_`: an IPv4 interface address ("127.0.0.1"),
    /// an IPv6 interface index ("1"), or "" for the OS's choice.
    void set_multicast_interface(const std::string &interface_ = "") {
        detail::check(ls_set_multicast_interface(h_, interface_.c_str()));
    }
    /// Size of the next datagram waiting (0 if none).
    std::size_t bytes_available() const {
        std::size_t n = 0;
        detail::check(ls_bytes_available(h_, &n));
        return n;
    }
    /// The connected peer's address.
    std::string peer_address() const {
        int64_t h = h_;
        return detail::text([h](char *b, std::size_t c, std::size_t *l) {
            return ls_peer_address(h, b, c, l);
        });
    }
};

// ---------------------------------------------------------------------------------------------
// The engine: event-driven servers, long-lived clients, datagram servers (pulled, no callbacks)
// ---------------------------------------------------------------------------------------------

/// A file transfer's progress (FileTransfer::progress).
struct TransferProgress {
    /// Bytes of the file sent or written so far (from the start of the file).
    uint64_t done;
    /// The file's size (0 on a receiver until the header arrived).
    uint64_t total;
    /// LS_TRANSFER_* state.
    int32_t state;
};

/// What is known about a file transfer (FileTransfer::info).
struct TransferInfo {
    /// The file's name as announced (a receiver: its safe version).
    std::string name;
    /// The sender's file, or the receiver's final path ("" before the header).
    std::string path;
    /// The file's size.
    uint64_t size;
    /// Protocol version spoken (1 or 2; 0 before the header).
    int32_t version;
    /// Bytes the receiver offered to resume from (0: none).
    uint64_t offered;
    /// Where the bytes started (the offer when accepted, else 0).
    uint64_t resumed_at;
    /// SHA-256 of the whole file, lower-case hex ("" until verified).
    std::string sha256;
};

/// One side of a file transfer (a file with its name, size and SHA-256, resumable; core's
/// FileTransfer), moved over a connection the caller made: run() or step(); progress() and
/// cancel() from any thread. Errors: bad_frame_error (checksum, not the protocol), io_error with
/// os_error() EEXIST (a file exists), closed_error (the peer went away; a receiver keeps the
/// partial file), interrupted_error (cancelled).
class FileTransfer : public Handle {
    typedef int32_t (*text_fn)(int64_t, char *, std::size_t, std::size_t *);
    std::string info_text(text_fn f) const {
        int64_t h = h_;
        return detail::text([h, f](char *b, std::size_t c, std::size_t *l) { return f(h, b, c, l); });
    }

public:
    /// An empty object.
    FileTransfer() noexcept {}
    /// Take ownership of a transfer handle.
    explicit FileTransfer(int64_t h) noexcept : Handle(h) {}

    /// Send the file at `path` (opened now), announced as `name` ("": its own name);
    /// `resume` false speaks protocol version 1 (no resuming).
    static FileTransfer sender(const std::string &path, const std::string &name = "",
                               bool resume = true) {
        int64_t h = 0;
        detail::check(ls_transfer_sender(path.c_str(), name.c_str(), resume ? 1 : 0, &h));
        return FileTransfer(h);
    }
    /// Receive one file into `dest` (a file, or a directory: the sender's name inside it);
    /// `overwrite` replaces an existing file, `resume` goes on from a partial file.
    static FileTransfer receiver(const std::string &dest, bool overwrite = false,
                                 bool resume = false) {
        int64_t h = 0;
        detail::check(ls_transfer_receiver(dest.c_str(), overwrite ? 1 : 0, resume ? 1 : 0, &h));
        return FileTransfer(h);
    }
    /// One piece over `conn` (the handshake, at most 1 MiB, or the checksum exchange); returns
    /// the LS_TRANSFER_* state afterwards.
    int32_t step(const TcpConnection &conn) {
        int32_t state = 0;
        detail::check(ls_transfer_step(h_, conn.get(), &state));
        return state;
    }
    /// The whole transfer over `conn`; returns what is known about it.
    TransferInfo run(const TcpConnection &conn) {
        detail::check(ls_transfer_run(h_, conn.get()));
        return info();
    }
    /// Bytes done, total and state (from any thread, without waiting).
    TransferProgress progress() const {
        TransferProgress p = {0, 0, 0};
        detail::check(ls_transfer_progress(h_, &p.done, &p.total, &p.state));
        return p;
    }
    /// Stop at the next piece (from any thread): the running call throws interrupted_error.
    void cancel() { detail::check(ls_transfer_cancel(h_)); }
    /// Name, path, size, version, resume offsets and SHA-256.
    TransferInfo info() const {
        TransferInfo i;
        detail::check(ls_transfer_info(h_, &i.size, &i.version, &i.offered, &i.resumed_at));
        i.name = info_text(ls_transfer_name);
        i.path = info_text(ls_transfer_path);
        i.sha256 = info_text(ls_transfer_sha256);
        return i;
    }
    /// The final path (the receiver's once the header arrived; the sender's file).
    std::string path() const { return info_text(ls_transfer_path); }
};


/// Settings for Server::listen, Client::connect and DatagramServer::bind: numbers by key
/// (LS_ECFG_*), the framing (default: 4-byte big-endian length prefix), socket options and
/// heartbeat payloads. Keys that do not apply to an object are ignored; the object takes a copy.
class EngineConfig : public Handle {
public:
    EngineConfig() {
        int64_t h = 0;
        detail::check(ls_engine_config_new(&h));
        h_ = h;
    }
    /// Set `key` (LS_ECFG_*) to value (booleans 0/1, times in ms).
    EngineConfig &set(int32_t key, int64_t value) {
        detail::check(ls_engine_config_set(h_, key, value));
        return *this;
    }
    /// The value of `key`: as set, or the default.
    int64_t value(int32_t key) const {
        int64_t v = 0;
        detail::check(ls_engine_config_get(h_, key, &v));
        return v;
    }
    /// Set socket option `opt` (LS_OPT_*) for the sockets of the object made.
    EngineConfig &option(int32_t opt, int64_t value) {
        detail::check(ls_set_option(h_, opt, value));
        return *this;
    }
    /// Application heartbeat: ping after interval_ms of silence, dead after `misses` silent
    /// intervals (0: only answer pings, the default; -1: no heartbeat at all).
    EngineConfig &heartbeat(int32_t interval_ms, int32_t misses = 3) {
        set(LS_ECFG_HEARTBEAT_INTERVAL_MS, interval_ms);
        return set(LS_ECFG_HEARTBEAT_MISSES, misses);
    }
    /// Other heartbeat payloads than "\0LSPING" / "\0LSPONG".
    EngineConfig &heartbeat_payloads(const std::string &ping, const std::string &pong) {
        detail::check(ls_engine_config_set_heartbeat_payloads(
            h_, detail::bytes(ping.data()), ping.size(), detail::bytes(pong.data()), pong.size()));
        return *this;
    }
    /// Speak TLS: a server TlsConfig for Server::listen, a client one for Client::connect (the
    /// settings as they are now; one of each may be set). Failed handshakes: a server's
    /// LS_EVENT_WARNING with LS_ERR_TLS, a client's disconnect with LS_REASON_TLS.
    EngineConfig &tls(const TlsConfig &tls) {
        detail::check(ls_engine_config_set_tls(h_, tls.get()));
        return *this;
    }
    /// Client::connect goes through this proxy ("socks5://..." or "http://..."; "" removes
    /// it), every reconnect again; a malformed URL throws invalid_argument_error here.
    EngineConfig &proxy(const std::string &url) {
        detail::check(ls_engine_config_set_proxy(h_, url.c_str()));
        return *this;
    }
    /// Client auto-reconnect: on/off and the backoff range in ms.
    EngineConfig &reconnect(bool on, int32_t backoff_min_ms = 100, int32_t backoff_max_ms = 10000) {
        set(LS_ECFG_RECONNECT, on ? 1 : 0);
        set(LS_ECFG_BACKOFF_MIN_MS, backoff_min_ms);
        return set(LS_ECFG_BACKOFF_MAX_MS, backoff_max_ms);
    }
    /// No framing: messages are the bytes as they come.
    EngineConfig &framing_raw() {
        detail::check(ls_set_framing_raw(h_));
        return *this;
    }
    /// Length-prefixed messages (width 1, 2, 4 or 8 bytes; max_len 0 = 16 MiB).
    EngineConfig &framing_length(int width = 4, bool big_endian = true, std::size_t max_len = 0) {
        detail::check(ls_set_framing_length(h_, width, big_endian ? 1 : 0, max_len));
        return *this;
    }
    /// Messages ending with `delim` ("\n", "\r\n" ...), kept when `keep`.
    EngineConfig &framing_delimited(const std::string &delim, std::size_t max_len = 0,
                                    bool keep = false) {
        detail::check(ls_set_framing_delimited(h_, detail::bytes(delim.data()), delim.size(),
                                               max_len, keep ? 1 : 0));
        return *this;
    }
    /// Fixed-size messages.
    EngineConfig &framing_fixed(std::size_t size) {
        detail::check(ls_set_framing_fixed(h_, size));
        return *this;
    }
    /// HP-Socket's PACK framing.
    EngineConfig &framing_hp_pack(int flag, std::size_t max_len = 0) {
        detail::check(ls_set_framing_hp_pack(h_, flag, max_len));
        return *this;
    }
};

/// One event of a Server, Client or DatagramServer.
struct Event {
    /// LS_EVENT_*.
    int32_t kind = 0;
    /// The client id (server), the connection number (client), the attempt number
    /// (LS_EVENT_RECONNECTING), else 0.
    uint64_t client = 0;
    /// LS_REASON_* for LS_EVENT_DISCONNECTED, the delay in ms for LS_EVENT_RECONNECTING, the
    /// LS_ERR_* code of what failed for LS_EVENT_WARNING (e.g. LS_ERR_QUEUE_FULL), else 0.
    int64_t value = 0;
    /// The message or datagram; the peer address (CONNECTED), the reason (DISCONNECTED) or the
    /// warning (WARNING) as text.
    std::vector<uint8_t> data;
    /// The sender of a datagram (DatagramServer::next_datagram only).
    std::string peer;

    /// `data` as a string.
    std::string text() const { return std::string(data.begin(), data.end()); }
    /// True for a message (or datagram) equal to `s`.
    bool is_message(const std::string &s) const {
        return (kind == LS_EVENT_MESSAGE || kind == LS_EVENT_DATAGRAM) && text() == s;
    }
};

/// One message taken by EngineObject::messages().
struct Message {
    /// The client id (server) or the connection number (client).
    uint64_t client = 0;
    /// The message.
    std::vector<uint8_t> data;
};

/// What servers, clients and datagram servers share: the pull API and statistics.
class EngineObject : public Handle {
public:
    /// Take the next event into `e`, waiting up to timeout_ms (-1 forever, 0 poll). Returns
    /// false when the time ran out. Throws closed_error after the final LS_EVENT_CLOSED was
    /// taken, or when the handle is closed from another thread while waiting. `e.data`'s
    /// storage is reused (and grown as needed) from call to call.
    bool next_event(Event &e, int32_t timeout_ms = LS_TIMEOUT_FOREVER) {
        return pull(e, timeout_ms, false);
    }
    /// Up to `max` events: waits up to timeout_ms for the first, then takes what is waiting.
    /// An empty vector means the time ran out.
    std::vector<Event> events(std::size_t max, int32_t timeout_ms = LS_TIMEOUT_FOREVER) {
        std::vector<Event> out;
        Event e;
        while (out.size() < max && pull(e, out.empty() ? timeout_ms : 0, false)) {
            out.push_back(e);
        }
        return out;
    }
    /// Up to `max` messages in one call (ls_next_messages): waits up to timeout_ms for the
    /// first event, then takes the messages queued behind it. It stops before an event that is
    /// not a message (take that with next_event()): an empty vector means the time ran out or
    /// the next event is not a message (pending_events() tells which).
    std::vector<Message> messages(std::size_t max, int32_t timeout_ms = LS_TIMEOUT_FOREVER) {
        std::vector<Message> out;
        // max 0 goes to core, which refuses it with the same words in every door.
        std::vector<std::size_t> lens(max == 0 ? 1 : max);
        std::vector<uint64_t> ids(max == 0 ? 1 : max);
        if (buf_.size() < 65536) buf_.resize(65536);
        for (;;) {
            std::size_t n = 0;
            int32_t rc = ls_next_messages(h_, timeout_ms, buf_.data(), buf_.size(), max,
                                          lens.data(), ids.data(), &n);
            if (rc == LS_ERR_BUFFER_TOO_SMALL) {
                buf_.resize(lens[0]); // the message stays queued: take it now
                timeout_ms = 0;
                continue;
            }
            if (rc == LS_ERR_TIMEOUT) return out;
            detail::check(rc);
            out.resize(n);
            std::size_t at = 0;
            for (std::size_t i = 0; i < n; i++) {
                out[i].client = ids[i];
                out[i].data.assign(buf_.begin() + at, buf_.begin() + at + lens[i]);
                at += lens[i];
            }
            return out;
        }
    }
    /// Deprecated: the former name of events().
    std::vector<Event> next_events(std::size_t max, int32_t timeout_ms = LS_TIMEOUT_FOREVER) {
        return events(max, timeout_ms);
    }
    /// A descriptor readable while events wait (for poll/epoll/Qt); do not read or close it.
    int notify_fd() const {
        int32_t fd = -1;
        detail::check(ls_notify_fd(h_, &fd));
        return fd;
    }
    /// Events waiting now.
    std::size_t pending_events() const {
        std::size_t n = 0;
        detail::check(ls_pending_events(h_, &n));
        return n;
    }
    /// Same as pending_events() (the name before docs/NAMES.md).
    std::size_t pending() const { return pending_events(); }
    /// Statistic `stat` (LS_STAT_*).
    int64_t stat(int32_t stat) const {
        int64_t v = 0;
        detail::check(ls_engine_stats(h_, stat, &v));
        return v;
    }

protected:
    EngineObject() noexcept {}
    explicit EngineObject(int64_t h) noexcept : Handle(h) {}
    /// messages()' landing buffer, reused from call to call.
    std::vector<uint8_t> buf_;

    bool pull(Event &e, int32_t timeout_ms, bool datagram) {
        if (e.data.size() < e.data.capacity()) e.data.resize(e.data.capacity());
        if (e.data.size() < 4096) e.data.resize(4096);
        std::string peer(datagram ? LS_ADDRESS_MAX : 0, '\0');
        for (;;) {
            int32_t kind = 0;
            uint64_t client = 0;
            int64_t value = 0;
            std::size_t len = 0, pl = 0;
            int32_t rc = datagram ? ls_next_datagram(h_, timeout_ms, &kind, e.data.data(),
                                                     e.data.size(), &len, &peer[0], peer.size(),
                                                     &pl)
                                  : ls_next_event(h_, timeout_ms, &kind, &client, &value,
                                                  e.data.data(), e.data.size(), &len);
            if (rc == LS_ERR_BUFFER_TOO_SMALL) {
                e.data.resize(len); // the event stays queued: take it now
                timeout_ms = 0;
                continue;
            }
            if (rc == LS_ERR_TIMEOUT) return false;
            detail::check(rc);
            e.kind = kind;
            e.client = client;
            e.value = value;
            e.data.resize(len);
            peer.resize(pl);
            e.peer = peer;
            return true;
        }
    }
    std::string local_address_() const {
        int64_t h = h_;
        return detail::text([h](char *b, std::size_t c, std::size_t *l) {
            return ls_local_address(h, b, c, l);
        });
    }
    int local_port_() const {
        int32_t p = 0;
        detail::check(ls_local_port(h_, &p));
        return p;
    }
};

/// An event-driven server with many clients: pull Connected / Message / Disconnected events with
/// next_event, answer with send / broadcast. Destruction (or close()) stops it at once; call
/// shutdown(grace_ms) first to deliver what is queued.
class Server : public EngineObject {
public:
    /// An empty object.
    Server() noexcept {}
    /// Take ownership of a server handle.
    explicit Server(int64_t h) noexcept : EngineObject(h) {}

    /// Listen on address ("127.0.0.1:0", "[::]:8000", "unix:/path").
    static Server listen(const std::string &address, const EngineConfig *config = nullptr) {
        int64_t h = 0;
        detail::check(ls_server_listen(address.c_str(), config ? config->get() : 0, &h));
        return Server(h);
    }
    /// The address bound, as text.
    std::string local_address() const { return local_address_(); }
    /// The port bound (the real one for port 0).
    int local_port() const { return local_port_(); }
    /// Queue one message to `client`.
    void send(uint64_t client, const void *data, std::size_t len) {
        detail::check(ls_server_send(h_, client, detail::bytes(data), len));
    }
    /// Queue one message (a string) to `client`.
    void send(uint64_t client, const std::string &s) { send(client, s.data(), s.size()); }
    /// Queue one message (bytes) to `client`.
    void send(uint64_t client, const std::vector<uint8_t> &v) { send(client, v.data(), v.size()); }
    /// Queue one message to each of `clients`; returns how many it was queued for.
    std::size_t send_many(const std::vector<uint64_t> &clients, const void *data, std::size_t len) {
        std::size_t n = 0;
        detail::check(ls_server_send_many(h_, clients.data(), clients.size(), detail::bytes(data),
                                          len, &n));
        return n;
    }
    /// Queue one message to every client except `except_client` (0 = none); returns how many.
    std::size_t broadcast(const void *data, std::size_t len, uint64_t except_client = 0) {
        std::size_t n = 0;
        detail::check(ls_server_broadcast(h_, detail::bytes(data), len, except_client, &n));
        return n;
    }
    /// broadcast a string.
    std::size_t broadcast(const std::string &s, uint64_t except_client = 0) {
        return broadcast(s.data(), s.size(), except_client);
    }
    /// Disconnect `client` (graceful: deliver what is queued first).
    void disconnect(uint64_t client, bool graceful = true) {
        detail::check(ls_server_disconnect(h_, client, graceful ? 1 : 0));
    }
    /// The connected clients' ids, in increasing order.
    std::vector<uint64_t> clients() const { return detail::server_clients(h_); }
    /// The address of `client`, as text.
    std::string client_address(uint64_t client) const {
        return detail::server_client_address(h_, client);
    }
    /// Stop: deliver what is queued within grace_ms, close every client, queue the final
    /// LS_EVENT_CLOSED; wakes threads in next_event. The object stays valid to pull the rest.
    void shutdown(int32_t grace_ms = 0) { detail::check(ls_server_shutdown(h_, grace_ms)); }
    /// Queue `count` messages to `client` in order, as one batch (bodies back to back in data,
    /// message i of lens[i] bytes), each waiting for room within one timeout_ms (-1 as long as
    /// it takes, 0 not at all). Returns how many were queued (all, or fewer when the time ran
    /// out after some were); throws when not even the first could be.
    std::size_t send_batch(uint64_t client, const void *data, const std::size_t *lens,
                           std::size_t count, int32_t timeout_ms = LS_TIMEOUT_FOREVER) {
        std::size_t n = 0;
        detail::check(ls_server_send_batch(h_, client, detail::bytes(data), lens, count,
                                           timeout_ms, &n));
        return n;
    }
    /// send_batch of strings.
    std::size_t send_batch(uint64_t client, const std::vector<std::string> &msgs,
                           int32_t timeout_ms = LS_TIMEOUT_FOREVER) {
        detail::batch b(msgs);
        return send_batch(client, b.all.data(), b.lens.data(), b.lens.size(), timeout_ms);
    }
    /// Statistic `stat` of connected client `client`: LS_STAT_BYTES_IN, LS_STAT_BYTES_OUT,
    /// LS_STAT_MESSAGES_IN, LS_STAT_MESSAGES_OUT, LS_STAT_QUEUED_BYTES,
    /// LS_CLIENT_STAT_CONNECTED_SINCE_MS or LS_CLIENT_STAT_TLS.
    int64_t client_stat(uint64_t client, int32_t stat) const {
        int64_t v = 0;
        detail::check(ls_server_client_stats(h_, client, stat, &v));
        return v;
    }
    /// One client's counters (libsock::ConnectionStats).
    using ConnectionStats = libsock::ConnectionStats;
    /// The counters of connected client `client` (closed_error when it is not connected).
    ConnectionStats client_stats(uint64_t client) const {
        ConnectionStats c;
        c.peer = client_address(client);
        c.fill([this, client](int32_t stat) { return client_stat(client, stat); });
        return c;
    }
};

/// A long-lived client with auto-reconnect: messages sent while disconnected are queued and
/// delivered in order after the reconnect. Destruction (or close()) stops it at once.
class Client : public EngineObject {
public:
    /// An empty object.
    Client() noexcept {}
    /// Take ownership of a client handle.
    explicit Client(int64_t h) noexcept : EngineObject(h) {}

    /// Start connecting to address (in the background: watch for LS_EVENT_CONNECTED).
    static Client connect(const std::string &address, const EngineConfig *config = nullptr) {
        int64_t h = 0;
        detail::check(ls_client_connect(address.c_str(), config ? config->get() : 0, &h));
        return Client(h);
    }
    /// Queue one message.
    void send(const void *data, std::size_t len) {
        detail::check(ls_client_send(h_, detail::bytes(data), len));
    }
    /// Queue one message (a string).
    void send(const std::string &s) { send(s.data(), s.size()); }
    /// Queue one message (bytes).
    void send(const std::vector<uint8_t> &v) { send(v.data(), v.size()); }
    /// Queue `count` messages in order, as one batch (see Server::send_batch: the same layout,
    /// timeout and result); while disconnected they wait for the next connect.
    std::size_t send_batch(const void *data, const std::size_t *lens, std::size_t count,
                           int32_t timeout_ms = LS_TIMEOUT_FOREVER) {
        std::size_t n = 0;
        detail::check(
            ls_client_send_batch(h_, detail::bytes(data), lens, count, timeout_ms, &n));
        return n;
    }
    /// send_batch of strings.
    std::size_t send_batch(const std::vector<std::string> &msgs,
                           int32_t timeout_ms = LS_TIMEOUT_FOREVER) {
        detail::batch b(msgs);
        return send_batch(b.all.data(), b.lens.data(), b.lens.size(), timeout_ms);
    }
    /// True while connected.
    bool connected() const { return stat(LS_STAT_CONNECTIONS) != 0; }
    /// The server's address while connected (closed_error otherwise).
    std::string peer_address() const {
        int64_t h = h_;
        return detail::text([h](char *b, std::size_t c, std::size_t *l) {
            return ls_peer_address(h, b, c, l);
        });
    }
    /// Close gracefully: deliver what is queued within grace_ms, then close; the final
    /// LS_EVENT_CLOSED follows. The object stays valid to pull the rest. (close() without an
    /// argument frees the handle at once.)
    void close(int32_t grace_ms) { detail::check(ls_client_close(h_, grace_ms)); }
    using Handle::close;
    /// Deprecated: the former name of close(grace_ms).
    void shutdown(int32_t grace_ms = 0) { close(grace_ms); }
};

/// A UDP endpoint whose datagrams arrive as events (next_datagram gives the sender too).
class DatagramServer : public EngineObject {
public:
    /// An empty object.
    DatagramServer() noexcept {}
    /// Take ownership of a datagram server handle.
    explicit DatagramServer(int64_t h) noexcept : EngineObject(h) {}

    /// Bind to address ("0.0.0.0:5000", "127.0.0.1:0").
    static DatagramServer bind(const std::string &address, const EngineConfig *config = nullptr) {
        int64_t h = 0;
        detail::check(ls_dgram_server_bind(address.c_str(), config ? config->get() : 0, &h));
        return DatagramServer(h);
    }
    /// The address bound, as text.
    std::string local_address() const { return local_address_(); }
    /// The port bound.
    int local_port() const { return local_port_(); }
    /// Send one datagram to address.
    void send_to(const void *data, std::size_t len, const std::string &address) {
        detail::check(ls_dgram_server_send_to(h_, detail::bytes(data), len, address.c_str()));
    }
    /// Send one datagram (a string) to address.
    void send_to(const std::string &s, const std::string &address) {
        send_to(s.data(), s.size(), address);
    }
    /// Connect to one peer ("ip:port", "host:port"; nothing is sent): only its datagrams are
    /// received from then on, and send() goes to it (the cheapest send: the kernel keeps the
    /// route). send_to still sends anywhere.
    void connect(const std::string &address) {
        detail::check(ls_dgram_server_connect(h_, address.c_str()));
    }
    /// Send one datagram to the peer given to connect().
    void send(const void *data, std::size_t len) {
        detail::check(ls_dgram_server_send(h_, detail::bytes(data), len));
    }
    /// Send one datagram (a string) to the peer given to connect().
    void send(const std::string &s) { send(s.data(), s.size()); }
    /// The next datagram with its sender in e.peer (false when the time ran out).
    bool next_datagram(Event &e, int32_t timeout_ms = LS_TIMEOUT_FOREVER) {
        return pull(e, timeout_ms, true);
    }
};

// ---------------------------------------------------------------------------------------------
// KCP (reliable UDP): a server pulled like Server, and a blocking session
// ---------------------------------------------------------------------------------------------

/// The KCP tuning (an ls_kcp_config handle) for KcpServer::bind and kcp_connect: numbers by key
/// (LS_KCP_*, the reference implementation's words); unset keys keep the defaults (nodelay 2,
/// interval 10 ms, resend 2, no congestion control, windows 128, MTU 1400). The setters return
/// *this; bad values throw invalid_argument_error naming the range.
class KcpConfig : public Handle {
public:
    KcpConfig() {
        int64_t h = 0;
        detail::check(ls_kcp_config_new(&h));
        h_ = h;
    }
    /// Set `key` (LS_KCP_*) to value (booleans 0/1, times in ms).
    KcpConfig &set(int32_t key, int64_t value) {
        detail::check(ls_kcp_config_set(h_, key, value));
        return *this;
    }
    /// The value of `key`: as set, or the default.
    int64_t value(int32_t key) const {
        int64_t v = 0;
        detail::check(ls_kcp_config_get(h_, key, &v));
        return v;
    }
    /// nodelay, interval, resend and nc at once (the reference's ikcp_nodelay).
    KcpConfig &nodelay(int32_t level, int32_t interval_ms, int32_t resend, bool nc) {
        set(LS_KCP_NODELAY, level);
        set(LS_KCP_INTERVAL_MS, interval_ms);
        set(LS_KCP_RESEND, resend);
        return set(LS_KCP_NC, nc ? 1 : 0);
    }
    /// The send and receive windows in segments.
    KcpConfig &windows(int32_t send_window, int32_t recv_window) {
        set(LS_KCP_SEND_WINDOW, send_window);
        return set(LS_KCP_RECV_WINDOW, recv_window);
    }
    /// Bytes per datagram, headers included.
    KcpConfig &mtu(int32_t bytes) { return set(LS_KCP_MTU, bytes); }
    /// The minimum retransmission timeout (0 = automatic).
    KcpConfig &min_rto(int32_t ms) { return set(LS_KCP_MIN_RTO_MS, ms); }
    /// Stream mode (no message boundaries).
    KcpConfig &stream(bool on) { return set(LS_KCP_STREAM, on ? 1 : 0); }
    /// Transmissions without acknowledgement after which the peer is gone.
    KcpConfig &dead_link(int64_t count) { return set(LS_KCP_DEAD_LINK, count); }
    /// Server: how long finished conversations are remembered.
    KcpConfig &linger(int32_t ms) { return set(LS_KCP_LINGER_MS, ms); }
};

/// A KCP server: each (peer address, conv) is a client, pulled and answered with the calls of
/// Server (next_event, send, disconnect, clients, client_address, shutdown, stat with
/// LS_STAT_* and LS_KCP_STAT_*). The engine config gives the event capacity, max clients, send
/// queue bound and policy, idle timeout (unset: 60 s) and socket options; the KCP config the
/// tuning. Destruction (or close()) stops it at once.
class KcpServer : public EngineObject {
public:
    /// An empty object.
    KcpServer() noexcept {}
    /// Take ownership of a KCP server handle.
    explicit KcpServer(int64_t h) noexcept : EngineObject(h) {}

    /// Bind a UDP socket to address ("127.0.0.1:0", "[::]:4000") and serve KCP on it.
    static KcpServer bind(const std::string &address, const EngineConfig *config = nullptr,
                          const KcpConfig *kcp = nullptr) {
        int64_t h = 0;
        detail::check(ls_kcp_server_bind(address.c_str(), config ? config->get() : 0,
                                          kcp ? kcp->get() : 0, &h));
        return KcpServer(h);
    }
    /// The address bound, as text.
    std::string local_address() const { return local_address_(); }
    /// The port bound (the real one for port 0).
    int local_port() const { return local_port_(); }
    /// Queue one message to `client` (returns at once; KCP delivers it).
    void send(uint64_t client, const void *data, std::size_t len) {
        detail::check(ls_server_send(h_, client, detail::bytes(data), len));
    }
    /// Queue one message (a string) to `client`.
    void send(uint64_t client, const std::string &s) { send(client, s.data(), s.size()); }
    /// Queue one message (bytes) to `client`.
    void send(uint64_t client, const std::vector<uint8_t> &v) { send(client, v.data(), v.size()); }
    /// End `client`'s session (graceful: once the peer acknowledged what was sent).
    void disconnect(uint64_t client, bool graceful = false) {
        detail::check(ls_server_disconnect(h_, client, graceful ? 1 : 0));
    }
    /// The open sessions' client ids, in increasing order.
    std::vector<uint64_t> clients() const { return detail::server_clients(h_); }
    /// The address of `client`, as text.
    std::string client_address(uint64_t client) const {
        return detail::server_client_address(h_, client);
    }
    /// Stop at once (KCP has no close on the wire): every session ends, the final
    /// LS_EVENT_CLOSED is queued. The object stays valid to pull the rest.
    void shutdown() { detail::check(ls_server_shutdown(h_, 0)); }
};

/// A KCP conversation with one peer over a connected UDP socket, used from blocking code (made
/// by kcp_connect). It runs while one of its calls runs: wait in recv() or call poll() so the
/// peer's data is acknowledged. Timeouts: LS_TIMEOUT_DEFAULT the set_timeout value (initially
/// forever), -1 forever, 0 poll, N ms; timeout_error when the time ran out.
class KcpSession : public Handle {
public:
    /// An empty object.
    KcpSession() noexcept {}
    /// Take ownership of a KCP session handle.
    explicit KcpSession(int64_t h) noexcept : Handle(h) {}

    /// Send one message (waits while twice the send window is unacknowledged).
    void send(const void *data, std::size_t len, int32_t timeout_ms = LS_TIMEOUT_DEFAULT) {
        detail::check(ls_kcp_send(h_, timeout_ms, detail::bytes(data), len));
    }
    /// Send one message (a string).
    void send(const std::string &s, int32_t timeout_ms = LS_TIMEOUT_DEFAULT) {
        send(s.data(), s.size(), timeout_ms);
    }
    /// Send one message (bytes).
    void send(const std::vector<uint8_t> &v, int32_t timeout_ms = LS_TIMEOUT_DEFAULT) {
        send(v.data(), v.size(), timeout_ms);
    }
    /// Receive one message into buf; buffer_too_small_error (with needed()) when it does not
    /// fit, and the message stays for the next call.
    std::size_t recv(void *buf, std::size_t cap, int32_t timeout_ms = LS_TIMEOUT_DEFAULT) {
        std::size_t n = 0;
        int32_t rc = ls_kcp_recv(h_, timeout_ms, static_cast<uint8_t *>(buf), cap, &n);
        if (rc == LS_ERR_BUFFER_TOO_SMALL) detail::throw_error(rc, n);
        detail::check(rc);
        return n;
    }
    /// Receive one message of any size.
    std::vector<uint8_t> recv(int32_t timeout_ms = LS_TIMEOUT_DEFAULT) {
        uint8_t small[4096];
        std::size_t n = 0;
        int32_t rc = ls_kcp_recv(h_, timeout_ms, small, sizeof small, &n);
        if (rc == LS_OK) return std::vector<uint8_t>(small, small + n);
        if (rc != LS_ERR_BUFFER_TOO_SMALL) detail::throw_error(rc);
        std::vector<uint8_t> v(n);
        detail::check(ls_kcp_recv(h_, LS_TIMEOUT_POLL, v.data(), v.size(), &n));
        v.resize(n);
        return v;
    }
    /// Receive one message as a string.
    std::string recv_string(int32_t timeout_ms = LS_TIMEOUT_DEFAULT) {
        std::vector<uint8_t> v = recv(timeout_ms);
        return std::string(v.begin(), v.end());
    }
    /// Wait until the peer acknowledged everything sent.
    void flush(int32_t timeout_ms = LS_TIMEOUT_DEFAULT) {
        detail::check(ls_kcp_flush(h_, timeout_ms));
    }
    /// Run the protocol for timeout_ms (0 or more) without taking messages; true when a
    /// message is ready for recv().
    bool poll(int32_t timeout_ms) {
        std::size_t n = 0;
        detail::check(ls_kcp_poll(h_, timeout_ms, &n));
        return n != 0;
    }
    /// The conversation id.
    uint32_t conv() const {
        int64_t v = 0;
        detail::check(ls_kcp_conv(h_, &v));
        return static_cast<uint32_t>(v);
    }
    /// Statistic `stat`: LS_STAT_BYTES_IN/OUT, LS_STAT_MESSAGES_IN/OUT or LS_KCP_STAT_*.
    int64_t stat(int32_t stat) const {
        int64_t v = 0;
        detail::check(ls_engine_stats(h_, stat, &v));
        return v;
    }
    /// The default timeout in ms of calls given LS_TIMEOUT_DEFAULT (-1 forever).
    void set_timeout(int32_t timeout_ms) { detail::check(ls_set_timeout(h_, timeout_ms)); }
    /// The default timeout in ms.
    int32_t get_timeout() const {
        int32_t t = 0;
        detail::check(ls_get_timeout(h_, &t));
        return t;
    }
    /// The local address, as text.
    std::string local_address() const {
        int64_t h = h_;
        return detail::text([h](char *b, std::size_t c, std::size_t *l) {
            return ls_local_address(h, b, c, l);
        });
    }
    /// The peer's address, as text.
    std::string peer_address() const {
        int64_t h = h_;
        return detail::text([h](char *b, std::size_t c, std::size_t *l) {
            return ls_peer_address(h, b, c, l);
        });
    }
};

/// Start KCP conversation `conv` (LS_KCP_CONV_RANDOM: a random id) with the KCP server at
/// address, with the tuning of `kcp` and the socket options of `options` (nullptr: defaults).
/// Nothing is sent until the first message (KCP has no handshake).
inline KcpSession kcp_connect(const std::string &address, int64_t conv = LS_KCP_CONV_RANDOM,
                              const KcpConfig *kcp = nullptr, const Options *options = nullptr) {
    int64_t h = 0;
    detail::check(ls_kcp_connect(address.c_str(), conv, kcp ? kcp->get() : 0,
                                 options ? options->get() : 0, &h));
    return KcpSession(h);
}

/// Stop the engine (every Server, Client and DatagramServer stops; their threads are joined).
/// Call before unloading the library or at the end of main; a new engine object starts it again.
inline void shutdown_engine() { detail::check(ls_shutdown_engine()); }
/// Deprecated: the former name of shutdown_engine().
inline void engine_shutdown() { shutdown_engine(); }

} // namespace libsock

namespace std {
/// libsock::errc converts to std::error_code.
template <> struct is_error_code_enum<libsock::errc> : true_type {};
} // namespace std

#endif /* LIBSOCK_HPP */
