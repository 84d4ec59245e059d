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
    interrupted = LS_ERR_INTERRUPTED
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
/// what() is the message of the failed call (function, operation, address).
class error : public std::system_error {
public:
    error(int32_t code, const std::string &message, int os_error)
        : std::system_error(std::error_code(code, category()), message), os_error_(os_error) {}
    /// The OS errno behind the failure, 0 if none.
    int os_error() const noexcept { return os_error_; }
    /// The LS_ERR_* code.
    int32_t ls_code() const noexcept { return static_cast<int32_t>(code().value()); }

private:
    int os_error_;
};

/// LS_ERR_TIMEOUT: a wait ran out of time; the handle still works.
class timeout_error : public error {
public:
    using error::error;
};
/// LS_ERR_CONNECTION_REFUSED: nobody listens at the address.
class connection_refused_error : public error {
public:
    using error::error;
};
/// LS_ERR_CLOSED: the peer finished, or the handle was closed while a call was blocked.
class closed_error : public error {
public:
    using error::error;
};
/// LS_ERR_BAD_HANDLE: a closed or moved-from object, or a wrong kind of handle.
class bad_handle_error : public error {
public:
    using error::error;
};
/// LS_ERR_INVALID_ARGUMENT: a malformed address, an out-of-range value ...
class invalid_argument_error : public error {
public:
    using error::error;
};
/// LS_ERR_FRAME_TOO_LARGE: a frame exceeds the framing's max_len.
class frame_too_large_error : public error {
public:
    using error::error;
};
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
    case LS_ERR_CLOSED: throw closed_error(rc, msg, os);
    case LS_ERR_BAD_HANDLE: throw bad_handle_error(rc, msg, os);
    case LS_ERR_INVALID_ARGUMENT: throw invalid_argument_error(rc, msg, os);
    case LS_ERR_FRAME_TOO_LARGE: throw frame_too_large_error(rc, msg, os);
    case LS_ERR_BUFFER_TOO_SMALL: throw buffer_too_small_error(rc, msg, os, needed);
    default: throw error(rc, msg, os);
    }
}

inline void check(int32_t rc) {
    if (rc != LS_OK) throw_error(rc);
}

inline const uint8_t *bytes(const void *p) { return static_cast<const uint8_t *>(p); }

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
    int32_t timeout() const {
        int32_t t = 0;
        detail::check(ls_get_timeout(h_, &t));
        return t;
    }

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

/// A TCP or Unix stream connection.
class TcpConnection : public Socket {
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

} // namespace libsock

namespace std {
/// libsock::errc converts to std::error_code.
template <> struct is_error_code_enum<libsock::errc> : true_type {};
} // namespace std

#endif /* LIBSOCK_HPP */
