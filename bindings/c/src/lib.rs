//! The C ABI of libsock: `libsock.so` / `libsock.a` and `include/libsock.h` (generated from this
//! crate by cbindgen).
//!
//! This file holds the constants; the functions live in one module per kind of object:
//! [`library`] (version, errors, `ls_close`), [`options`], [`connection`], [`listener`],
//! [`datagram`], [`framing`], [`socket`] (what every socket has), [`tls`], [`fds`] (Unix
//! descriptor passing, peer credentials), [`transfer`] (file transfer) and [`engine`] (with
//! [`engine_more`]: batch sends and per-connection statistics, and [`kcp`]: KCP), with
//! [`handles`] (the objects behind handles, in the flat doors' shared registry) and
//! [`boundary`] (arguments, the thread's last error) under all of them, in that order: a module
//! imports only the ones below it.
//!
//! Translation only: every function checks its arguments, looks its handle up in the registry, calls
//! core and turns the result into a return code, all inside [`boundary::call`] (no panic crosses
//! the boundary). See `bindings/c/README-C.md` for the rules a C caller relies on.
#![allow(clippy::missing_safety_doc)]
// every function's safety rules are in the header's preamble
// The doc comments are written for C readers (cbindgen copies them into the header): addresses
// such as "[::1]:5000" are text, not Rust links, and escaping them would put backslashes into
// the header. Links to private items name the Rust helpers for the readers of this source.
#![allow(rustdoc::broken_intra_doc_links, rustdoc::private_intra_doc_links)]

// One module per kind of object. cbindgen writes the header in the order of these declarations
// (rustfmt would sort a block of them, hence the blank lines): the library first, the engine
// after the blocking sockets.
mod boundary;
mod handles;

mod library;

mod options;

mod connection;

mod listener;

mod datagram;

mod framing;

mod socket;

mod tls;

mod fds;

mod transfer;

pub mod engine;

pub mod engine_more;

pub mod kcp;

pub use connection::*;
pub use datagram::*;
pub use fds::*;
pub use framing::*;
pub use library::*;
pub use listener::*;
pub use options::*;
pub use socket::*;
pub use tls::*;
pub use transfer::*;

#[cfg(test)]
use libsock_flat as flat;

// ---------------------------------------------------------------------------------------------
// Version
// ---------------------------------------------------------------------------------------------

/// Major version of libsock (checked against Cargo.toml by a test).
pub const LS_VERSION_MAJOR: i32 = 0;
/// Minor version of libsock.
pub const LS_VERSION_MINOR: i32 = 1;
/// Patch version of libsock.
pub const LS_VERSION_PATCH: i32 = 0;
/// Version of the binary interface; the shared library's SONAME is `libsock.so.<LS_ABI_VERSION>`.
/// It changes only when a function's signature or meaning changes incompatibly.
pub const LS_ABI_VERSION: i32 = 0;

// ---------------------------------------------------------------------------------------------
// Return codes (stable: a code never changes meaning)
// ---------------------------------------------------------------------------------------------

/// Success.
pub const LS_OK: i32 = 0;
/// A wait ran out of time (connect, recv, accept, resolve ...). The handle stays usable and no
/// data is lost: bytes read so far stay buffered for the next call.
pub const LS_ERR_TIMEOUT: i32 = -1;
/// Nobody listens at the address (ECONNREFUSED).
pub const LS_ERR_CONNECTION_REFUSED: i32 = -2;
/// The peer reset the connection (ECONNRESET).
pub const LS_ERR_CONNECTION_RESET: i32 = -3;
/// The connection was aborted locally (ECONNABORTED).
pub const LS_ERR_CONNECTION_ABORTED: i32 = -4;
/// The peer finished sending (orderly close) before the call could complete, or the handle was
/// closed by another thread while the call was blocked.
pub const LS_ERR_CLOSED: i32 = -5;
/// The local address is taken (EADDRINUSE, or a live Unix socket path).
pub const LS_ERR_ADDR_IN_USE: i32 = -6;
/// The local address is not on this host (EADDRNOTAVAIL).
pub const LS_ERR_ADDR_NOT_AVAILABLE: i32 = -7;
/// No route to the network or host.
pub const LS_ERR_UNREACHABLE: i32 = -8;
/// A host name could not be resolved.
pub const LS_ERR_RESOLVE: i32 = -9;
/// A malformed address, an out-of-range value, a NULL pointer, a size above `PTRDIFF_MAX`, a
/// string that is not UTF-8 ...
pub const LS_ERR_INVALID_ARGUMENT: i32 = -10;
/// A frame exceeds the framing's `max_len` (nothing of the claimed size was allocated).
pub const LS_ERR_FRAME_TOO_LARGE: i32 = -11;
/// The caller's buffer cannot hold the result; the needed size is in `*out_len` and a message
/// stays queued for the next call.
pub const LS_ERR_BUFFER_TOO_SMALL: i32 = -12;
/// An unknown or closed handle, or a handle of another kind than the function takes.
pub const LS_ERR_BAD_HANDLE: i32 = -13;
/// A bounded queue is full.
pub const LS_ERR_QUEUE_FULL: i32 = -14;
/// The operation or option does not exist on this OS or for this kind of socket.
pub const LS_ERR_UNSUPPORTED: i32 = -15;
/// A TLS handshake or certificate failure.
pub const LS_ERR_TLS: i32 = -16;
/// Any other OS error; `ls_last_os_error()` gives the errno.
pub const LS_ERR_IO: i32 = -17;
/// A bug inside libsock (a caught panic, for example).
pub const LS_ERR_INTERNAL: i32 = -18;
/// A wait was interrupted.
pub const LS_ERR_INTERRUPTED: i32 = -19;
/// The peer sent a malformed frame: it breaks the framing's rules (a wrong HP-Socket PACK flag,
/// a length that the adjustment makes negative). The stream cannot be resynchronised: close the
/// connection. `ls_last_os_error()` gives EBADMSG.
pub const LS_ERR_BAD_FRAME: i32 = -20;

// ---------------------------------------------------------------------------------------------
// Socket options (ls_set_option / ls_get_option); values are int64_t, booleans 0/1
// ---------------------------------------------------------------------------------------------

/// TCP_NODELAY (0/1): send small writes at once.
pub const LS_OPT_NODELAY: i32 = 1;
/// SO_KEEPALIVE (0/1): kernel keepalive probes.
pub const LS_OPT_KEEPALIVE: i32 = 2;
/// TCP_KEEPIDLE: seconds of idleness before the first probe (setting it enables keepalive).
pub const LS_OPT_KEEPALIVE_IDLE: i32 = 3;
/// TCP_KEEPINTVL: seconds between probes (setting it enables keepalive).
pub const LS_OPT_KEEPALIVE_INTERVAL: i32 = 4;
/// TCP_KEEPCNT: unanswered probes before the connection is dropped (enables keepalive).
pub const LS_OPT_KEEPALIVE_COUNT: i32 = 5;
/// SO_LINGER in seconds: -1 off, 0 abortive close (RST), N wait up to N seconds.
pub const LS_OPT_LINGER: i32 = 6;
/// SO_RCVBUF in bytes (Linux reports double the value set). Core's option `recv_buffer_size`
/// (docs/NAMES.md; `LS_OPT_RECV_BUFFER` before).
pub const LS_OPT_RECV_BUFFER_SIZE: i32 = 7;
/// SO_SNDBUF in bytes (Linux reports double the value set). Core's option `send_buffer_size`
/// (`LS_OPT_SEND_BUFFER` before).
pub const LS_OPT_SEND_BUFFER_SIZE: i32 = 8;
/// SO_REUSEADDR (0/1).
pub const LS_OPT_REUSE_ADDRESS: i32 = 9;
/// SO_REUSEPORT (0/1).
pub const LS_OPT_REUSE_PORT: i32 = 10;
/// IP_TTL / IPV6_UNICAST_HOPS.
pub const LS_OPT_TTL: i32 = 11;
/// IP_TOS / IPV6_TCLASS.
pub const LS_OPT_TOS: i32 = 12;
/// IPV6_V6ONLY (0/1).
pub const LS_OPT_V6_ONLY: i32 = 13;
/// SO_BROADCAST (0/1).
pub const LS_OPT_BROADCAST: i32 = 14;
/// IP_MULTICAST_TTL / IPV6_MULTICAST_HOPS.
pub const LS_OPT_MULTICAST_TTL: i32 = 15;
/// IP_MULTICAST_LOOP / IPV6_MULTICAST_LOOP (0/1).
pub const LS_OPT_MULTICAST_LOOP: i32 = 16;
/// TCP_USER_TIMEOUT in milliseconds (Linux). Core's option `tcp_user_timeout`
/// (`LS_OPT_USER_TIMEOUT` before).
pub const LS_OPT_TCP_USER_TIMEOUT: i32 = 17;

// ---------------------------------------------------------------------------------------------
// Other constants
// ---------------------------------------------------------------------------------------------

/// `timeout_ms` value: use the handle's default timeout (set with `ls_set_timeout`).
pub const LS_TIMEOUT_DEFAULT: i32 = -2;
/// `timeout_ms` value: wait forever.
pub const LS_TIMEOUT_FOREVER: i32 = -1;
/// `timeout_ms` value: do not wait (poll once).
pub const LS_TIMEOUT_POLL: i32 = 0;

/// `ls_socket_shutdown` direction: no more receiving.
pub const LS_SHUT_READ: i32 = 0;
/// `ls_socket_shutdown` direction: no more sending (half-close; the peer reads end of stream).
pub const LS_SHUT_WRITE: i32 = 1;
/// `ls_socket_shutdown` direction: both.
pub const LS_SHUT_BOTH: i32 = 2;

/// A text buffer of this many bytes holds any address libsock writes (`ls_local_address`,
/// `ls_peer_address`, the peer of `ls_recv_from`), terminating NUL included.
pub const LS_ADDRESS_MAX: i32 = 256;

/// `max_len` value for the framing functions: the default limit, 16 MiB.
pub const LS_DEFAULT_MAX_LEN: i32 = 0;

#[cfg(test)]
mod tests {
    use super::*;
    use libsock::{ErrorKind, SockOpt};

    #[test]
    fn error_macros_match_core_codes() {
        let macros = [
            LS_ERR_TIMEOUT,
            LS_ERR_CONNECTION_REFUSED,
            LS_ERR_CONNECTION_RESET,
            LS_ERR_CONNECTION_ABORTED,
            LS_ERR_CLOSED,
            LS_ERR_ADDR_IN_USE,
            LS_ERR_ADDR_NOT_AVAILABLE,
            LS_ERR_UNREACHABLE,
            LS_ERR_RESOLVE,
            LS_ERR_INVALID_ARGUMENT,
            LS_ERR_FRAME_TOO_LARGE,
            LS_ERR_BUFFER_TOO_SMALL,
            LS_ERR_BAD_HANDLE,
            LS_ERR_QUEUE_FULL,
            LS_ERR_UNSUPPORTED,
            LS_ERR_TLS,
            LS_ERR_IO,
            LS_ERR_INTERNAL,
            LS_ERR_INTERRUPTED,
            LS_ERR_BAD_FRAME,
        ];
        assert_eq!(macros.len(), ErrorKind::ALL.len());
        for (m, k) in macros.iter().zip(ErrorKind::ALL) {
            assert_eq!(*m, k.code(), "{k:?}");
        }
    }

    #[test]
    fn option_macros_match_core_numbers() {
        let macros = [
            LS_OPT_NODELAY,
            LS_OPT_KEEPALIVE,
            LS_OPT_KEEPALIVE_IDLE,
            LS_OPT_KEEPALIVE_INTERVAL,
            LS_OPT_KEEPALIVE_COUNT,
            LS_OPT_LINGER,
            LS_OPT_RECV_BUFFER_SIZE,
            LS_OPT_SEND_BUFFER_SIZE,
            LS_OPT_REUSE_ADDRESS,
            LS_OPT_REUSE_PORT,
            LS_OPT_TTL,
            LS_OPT_TOS,
            LS_OPT_V6_ONLY,
            LS_OPT_BROADCAST,
            LS_OPT_MULTICAST_TTL,
            LS_OPT_MULTICAST_LOOP,
            LS_OPT_TCP_USER_TIMEOUT,
        ];
        assert_eq!(macros.len(), SockOpt::ALL.len());
        for (m, o) in macros.iter().zip(SockOpt::ALL) {
            assert_eq!(*m, o.number(), "{o:?}");
        }
    }

    #[test]
    fn version_macros_match_cargo() {
        assert_eq!(
            LS_VERSION_MAJOR.to_string(),
            env!("CARGO_PKG_VERSION_MAJOR")
        );
        assert_eq!(
            LS_VERSION_MINOR.to_string(),
            env!("CARGO_PKG_VERSION_MINOR")
        );
        assert_eq!(
            LS_VERSION_PATCH.to_string(),
            env!("CARGO_PKG_VERSION_PATCH")
        );
    }

    #[test]
    fn timeout_constants_are_the_flat_doors() {
        assert_eq!(LS_TIMEOUT_DEFAULT, flat::TIMEOUT_DEFAULT);
        assert_eq!(LS_TIMEOUT_FOREVER, flat::TIMEOUT_FOREVER);
        assert_eq!(LS_TIMEOUT_POLL, flat::TIMEOUT_POLL);
    }
}
