//! One error type for the whole library, with stable numeric kinds.
//!
//! Every fallible call in libsock returns [`Result<T>`]. An [`Error`] always has an [`ErrorKind`],
//! whose numeric [`code`](ErrorKind::code) never changes meaning: the C ABI returns exactly these
//! numbers (as `LS_ERR_*`), and the Python, Java and Pascal doors map them to their own exceptions.
//!
//! | code | kind | meaning |
//! |-----:|------|---------|
//! | -1 | `Timeout` | a wait ran out of time (connect, recv, accept, resolve ...) |
//! | -2 | `ConnectionRefused` | nobody listens at the address (ECONNREFUSED) |
//! | -3 | `ConnectionReset` | the peer reset the connection (ECONNRESET) |
//! | -4 | `ConnectionAborted` | the connection was aborted locally (ECONNABORTED) |
//! | -5 | `Closed` | the peer finished sending (orderly close), or the handle was closed |
//! | -6 | `AddrInUse` | the local address is taken (EADDRINUSE, or a live Unix socket path) |
//! | -7 | `AddrNotAvailable` | the local address is not on this host (EADDRNOTAVAIL) |
//! | -8 | `Unreachable` | no route to the network or host |
//! | -9 | `Resolve` | a host name could not be resolved |
//! | -10 | `InvalidArgument` | a malformed address, an out-of-range value, a null pointer ... |
//! | -11 | `FrameTooLarge` | a frame exceeds the framing's `max_len` (or the field width) |
//! | -12 | `BufferTooSmall` | the caller's buffer cannot hold the message; it stays queued |
//! | -13 | `BadHandle` | an unknown, closed or foreign handle (C ABI) |
//! | -14 | `QueueFull` | a bounded send or event queue is full |
//! | -15 | `Unsupported` | the operation or option does not exist on this OS |
//! | -16 | `Tls` | a TLS handshake or certificate failure |
//! | -17 | `Io` | any other OS error; [`Error::os_error`] keeps the errno |
//! | -18 | `Internal` | a bug in libsock (a caught panic, a poisoned lock) |
//! | -19 | `Interrupted` | a wait was interrupted by the caller's interrupt check (e.g. Ctrl-C) |
//! | -20 | `BadFrame` | a peer's frame breaks the framing's rules (a wrong header flag, a negative length) |

use std::io;

/// Shorthand for `std::result::Result<T, libsock::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The stable category of an [`Error`]; [`code`](ErrorKind::code) is the C error number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A wait ran out of time.
    Timeout,
    /// Nobody listens at the address.
    ConnectionRefused,
    /// The peer reset the connection.
    ConnectionReset,
    /// The connection was aborted.
    ConnectionAborted,
    /// The peer closed its side in order, or this handle was closed.
    Closed,
    /// The local address is already in use.
    AddrInUse,
    /// The local address is not available on this host.
    AddrNotAvailable,
    /// The network or host is unreachable.
    Unreachable,
    /// A host name could not be resolved.
    Resolve,
    /// An argument is malformed or out of range.
    InvalidArgument,
    /// A frame is larger than the framing allows.
    FrameTooLarge,
    /// The caller's buffer is too small for the message, which stays queued.
    BufferTooSmall,
    /// An unknown, closed or foreign handle.
    BadHandle,
    /// A bounded queue is full.
    QueueFull,
    /// Not supported on this operating system or socket type.
    Unsupported,
    /// A TLS failure.
    Tls,
    /// Another OS error (see [`Error::os_error`]).
    Io,
    /// A bug inside libsock.
    Internal,
    /// A wait was interrupted by the installed interrupt check (see [`crate::with_interrupt_check`]).
    Interrupted,
    /// A peer's frame breaks the framing's rules (e.g. a wrong HP-Socket PACK flag, or a length
    /// that the adjustment makes negative). The stream cannot be resynchronised.
    BadFrame,
}

impl ErrorKind {
    /// Every kind, in code order (-1, -2, ...).
    pub const ALL: [ErrorKind; 20] = [
        ErrorKind::Timeout,
        ErrorKind::ConnectionRefused,
        ErrorKind::ConnectionReset,
        ErrorKind::ConnectionAborted,
        ErrorKind::Closed,
        ErrorKind::AddrInUse,
        ErrorKind::AddrNotAvailable,
        ErrorKind::Unreachable,
        ErrorKind::Resolve,
        ErrorKind::InvalidArgument,
        ErrorKind::FrameTooLarge,
        ErrorKind::BufferTooSmall,
        ErrorKind::BadHandle,
        ErrorKind::QueueFull,
        ErrorKind::Unsupported,
        ErrorKind::Tls,
        ErrorKind::Io,
        ErrorKind::Internal,
        ErrorKind::Interrupted,
        ErrorKind::BadFrame,
    ];

    /// The stable, negative error code (the C ABI's `LS_ERR_*`). Never changes meaning.
    pub fn code(self) -> i32 {
        -(ErrorKind::ALL.iter().position(|k| *k == self).unwrap_or(17) as i32 + 1)
    }

    /// The kind for a code returned by [`code`](ErrorKind::code), if any.
    pub fn from_code(code: i32) -> Option<ErrorKind> {
        if code >= 0 {
            return None;
        }
        ErrorKind::ALL.get((-(code as i64) - 1) as usize).copied()
    }

    /// The constant's name without prefix, e.g. `"TIMEOUT"` (used for `LS_ERR_TIMEOUT`).
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::Timeout => "TIMEOUT",
            ErrorKind::ConnectionRefused => "CONNECTION_REFUSED",
            ErrorKind::ConnectionReset => "CONNECTION_RESET",
            ErrorKind::ConnectionAborted => "CONNECTION_ABORTED",
            ErrorKind::Closed => "CLOSED",
            ErrorKind::AddrInUse => "ADDR_IN_USE",
            ErrorKind::AddrNotAvailable => "ADDR_NOT_AVAILABLE",
            ErrorKind::Unreachable => "UNREACHABLE",
            ErrorKind::Resolve => "RESOLVE",
            ErrorKind::InvalidArgument => "INVALID_ARGUMENT",
            ErrorKind::FrameTooLarge => "FRAME_TOO_LARGE",
            ErrorKind::BufferTooSmall => "BUFFER_TOO_SMALL",
            ErrorKind::BadHandle => "BAD_HANDLE",
            ErrorKind::QueueFull => "QUEUE_FULL",
            ErrorKind::Unsupported => "UNSUPPORTED",
            ErrorKind::Tls => "TLS",
            ErrorKind::Io => "IO",
            ErrorKind::Internal => "INTERNAL",
            ErrorKind::Interrupted => "INTERRUPTED",
            ErrorKind::BadFrame => "BAD_FRAME",
        }
    }

    /// A fixed English description of the kind (the C ABI's `ls_strerror`).
    pub fn description(self) -> &'static str {
        match self {
            ErrorKind::Timeout => "operation timed out",
            ErrorKind::ConnectionRefused => "connection refused",
            ErrorKind::ConnectionReset => "connection reset by peer",
            ErrorKind::ConnectionAborted => "connection aborted",
            ErrorKind::Closed => "connection closed",
            ErrorKind::AddrInUse => "address already in use",
            ErrorKind::AddrNotAvailable => "address not available",
            ErrorKind::Unreachable => "network or host unreachable",
            ErrorKind::Resolve => "host name could not be resolved",
            ErrorKind::InvalidArgument => "invalid argument",
            ErrorKind::FrameTooLarge => "frame too large",
            ErrorKind::BufferTooSmall => "buffer too small",
            ErrorKind::BadHandle => "bad handle",
            ErrorKind::QueueFull => "queue full",
            ErrorKind::Unsupported => "not supported on this platform",
            ErrorKind::Tls => "TLS error",
            ErrorKind::Io => "I/O error",
            ErrorKind::Internal => "internal error",
            ErrorKind::Interrupted => "interrupted",
            ErrorKind::BadFrame => "malformed frame from the peer",
        }
    }

    /// Classify an OS error number.
    pub fn from_errno(errno: i32) -> ErrorKind {
        match errno {
            libc::ETIMEDOUT | libc::EAGAIN => ErrorKind::Timeout,
            libc::ECONNREFUSED => ErrorKind::ConnectionRefused,
            libc::ECONNRESET => ErrorKind::ConnectionReset,
            libc::ECONNABORTED => ErrorKind::ConnectionAborted,
            libc::EADDRINUSE => ErrorKind::AddrInUse,
            libc::EADDRNOTAVAIL => ErrorKind::AddrNotAvailable,
            libc::ENETUNREACH | libc::EHOSTUNREACH | libc::ENETDOWN | libc::EHOSTDOWN => {
                ErrorKind::Unreachable
            }
            libc::EINVAL => ErrorKind::InvalidArgument,
            libc::ENOPROTOOPT | libc::EOPNOTSUPP | libc::EAFNOSUPPORT | libc::EPROTONOSUPPORT => {
                ErrorKind::Unsupported
            }
            libc::EINTR => ErrorKind::Interrupted,
            _ => ErrorKind::Io,
        }
    }
}

impl std::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.description())
    }
}

/// Every error libsock returns. Messages name the operation and, where there is one, the address:
/// `"connect to 127.0.0.1:9: connection refused (os error 111)"`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A wait ran out of time.
    #[error("{op}: timed out after {ms} ms")]
    Timeout {
        /// What was being done, e.g. "recv from 127.0.0.1:5000".
        op: String,
        /// The time that was allowed, in milliseconds.
        ms: u128,
    },
    /// The peer closed in order, or this object was closed (locally or from another thread).
    #[error("{op}: connection closed")]
    Closed {
        /// What was being done.
        op: String,
    },
    /// An error the operating system reported.
    #[error("{op}: {source}")]
    Os {
        /// The classified kind.
        kind: ErrorKind,
        /// What was being done.
        op: String,
        /// The OS error (its `raw_os_error` is the errno).
        #[source]
        source: io::Error,
    },
    /// A host name could not be resolved.
    #[error("resolve {host}: {reason}")]
    Resolve {
        /// The host name.
        host: String,
        /// What the resolver said.
        reason: String,
    },
    /// A malformed or out-of-range argument; the message names the bad part.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// A frame larger than the framing allows (nothing of the claimed size was allocated).
    #[error("frame too large: {len} bytes exceeds the limit of {max} bytes")]
    FrameTooLarge {
        /// The claimed or attempted length.
        len: u64,
        /// The limit.
        max: u64,
    },
    /// A message does not fit the caller's buffer; it stays queued for the next call.
    #[error("buffer too small: the message needs {needed} bytes, the buffer holds {capacity}")]
    BufferTooSmall {
        /// Bytes the message needs.
        needed: usize,
        /// Bytes the buffer holds.
        capacity: usize,
    },
    /// An unknown, closed or foreign handle.
    #[error("bad handle {0}")]
    BadHandle(i64),
    /// A bounded queue is full.
    #[error("queue full: {0}")]
    QueueFull(String),
    /// Not supported on this OS or this kind of socket.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// A TLS failure.
    #[error("TLS: {0}")]
    Tls(String),
    /// A frame that breaks the framing's rules (e.g. a wrong HP-Socket PACK flag).
    #[error("bad frame: {0}")]
    BadFrame(String),
    /// A proxy refused to connect us, or answered in a way libsock cannot use; `reason` gives
    /// its reply in words (a SOCKS5 reply code, an HTTP status line). See [`crate::Proxy`] for
    /// the kind each reply gets.
    #[error("{op}: {reason}")]
    Proxy {
        /// The kind that fits the proxy's reply best (e.g. `ConnectionRefused`).
        kind: ErrorKind,
        /// What was being done: `connect to HOST:PORT through SOCKS5 proxy HOST:PORT`.
        op: String,
        /// The proxy's reply in words.
        reason: String,
    },
    /// A wait was interrupted by the installed interrupt check.
    #[error("{op}: interrupted")]
    Interrupted {
        /// What was being done.
        op: String,
    },
    /// A bug in libsock.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// The stable kind of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Timeout { .. } => ErrorKind::Timeout,
            Error::Closed { .. } => ErrorKind::Closed,
            Error::Os { kind, .. } => *kind,
            Error::Proxy { kind, .. } => *kind,
            Error::Resolve { .. } => ErrorKind::Resolve,
            Error::InvalidArgument(_) => ErrorKind::InvalidArgument,
            Error::FrameTooLarge { .. } => ErrorKind::FrameTooLarge,
            Error::BufferTooSmall { .. } => ErrorKind::BufferTooSmall,
            Error::BadHandle(_) => ErrorKind::BadHandle,
            Error::QueueFull(_) => ErrorKind::QueueFull,
            Error::Unsupported(_) => ErrorKind::Unsupported,
            Error::Tls(_) => ErrorKind::Tls,
            Error::BadFrame(_) => ErrorKind::BadFrame,
            Error::Interrupted { .. } => ErrorKind::Interrupted,
            Error::Internal(_) => ErrorKind::Internal,
        }
    }

    /// The stable numeric code (same as `self.kind().code()`).
    pub fn code(&self) -> i32 {
        self.kind().code()
    }

    /// The OS error number behind this error, if the OS gave one.
    pub fn os_error(&self) -> Option<i32> {
        match self {
            Error::Os { source, .. } => source.raw_os_error(),
            Error::BadFrame(_) => Some(libc::EBADMSG),
            Error::Timeout { .. } => Some(libc::ETIMEDOUT),
            Error::Interrupted { .. } => Some(libc::EINTR),
            _ => None,
        }
    }

    /// For [`Error::BufferTooSmall`], the size the message needs.
    pub fn needed(&self) -> Option<usize> {
        match self {
            Error::BufferTooSmall { needed, .. } => Some(*needed),
            _ => None,
        }
    }

    /// Wrap an OS error with the operation it belongs to, classifying its kind.
    pub fn os(op: impl Into<String>, source: io::Error) -> Error {
        let op = op.into();
        let kind = match source.raw_os_error() {
            Some(e) => ErrorKind::from_errno(e),
            None => match source.kind() {
                io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => ErrorKind::Timeout,
                io::ErrorKind::ConnectionRefused => ErrorKind::ConnectionRefused,
                io::ErrorKind::ConnectionReset => ErrorKind::ConnectionReset,
                io::ErrorKind::ConnectionAborted => ErrorKind::ConnectionAborted,
                io::ErrorKind::AddrInUse => ErrorKind::AddrInUse,
                io::ErrorKind::AddrNotAvailable => ErrorKind::AddrNotAvailable,
                io::ErrorKind::InvalidInput => ErrorKind::InvalidArgument,
                io::ErrorKind::Unsupported => ErrorKind::Unsupported,
                io::ErrorKind::Interrupted => ErrorKind::Interrupted,
                _ => ErrorKind::Io,
            },
        };
        Error::Os { kind, op, source }
    }

    /// A closed error for `op`.
    pub fn closed(op: impl Into<String>) -> Error {
        Error::Closed { op: op.into() }
    }

    /// An invalid-argument error.
    pub fn invalid(msg: impl Into<String>) -> Error {
        Error::InvalidArgument(msg.into())
    }

    /// The [`Error::Internal`] for a caught panic's payload (its message when it has one). Every
    /// boundary that catches a panic (the engine's tasks, the C and Java doors) reports it so.
    pub fn from_panic(payload: &(dyn std::any::Any + Send)) -> Error {
        let text = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".to_string());
        Error::Internal(format!("panic inside libsock: {text}"))
    }
}

impl From<Error> for io::Error {
    fn from(e: Error) -> io::Error {
        let kind = match e.kind() {
            ErrorKind::Timeout => io::ErrorKind::TimedOut,
            ErrorKind::ConnectionRefused => io::ErrorKind::ConnectionRefused,
            ErrorKind::ConnectionReset => io::ErrorKind::ConnectionReset,
            ErrorKind::ConnectionAborted => io::ErrorKind::ConnectionAborted,
            ErrorKind::Closed => io::ErrorKind::UnexpectedEof,
            ErrorKind::AddrInUse => io::ErrorKind::AddrInUse,
            ErrorKind::AddrNotAvailable => io::ErrorKind::AddrNotAvailable,
            ErrorKind::InvalidArgument => io::ErrorKind::InvalidInput,
            ErrorKind::Unsupported => io::ErrorKind::Unsupported,
            ErrorKind::Interrupted => io::ErrorKind::Interrupted,
            _ => io::ErrorKind::Other,
        };
        match e {
            Error::Os { source, .. } => source,
            other => io::Error::new(kind, other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_stable_and_round_trip() {
        assert_eq!(ErrorKind::Timeout.code(), -1);
        assert_eq!(ErrorKind::Closed.code(), -5);
        assert_eq!(ErrorKind::BufferTooSmall.code(), -12);
        assert_eq!(ErrorKind::Internal.code(), -18);
        assert_eq!(ErrorKind::Interrupted.code(), -19);
        assert_eq!(ErrorKind::BadFrame.code(), -20);
        for k in ErrorKind::ALL {
            assert_eq!(ErrorKind::from_code(k.code()), Some(k));
        }
        assert_eq!(ErrorKind::from_code(0), None);
        assert_eq!(ErrorKind::from_code(-100), None);
        assert_eq!(ErrorKind::from_code(i32::MIN), None);
    }

    #[test]
    fn os_errors_are_classified_and_keep_errno() {
        let e = Error::os(
            "connect to 127.0.0.1:9",
            io::Error::from_raw_os_error(libc::ECONNREFUSED),
        );
        assert_eq!(e.kind(), ErrorKind::ConnectionRefused);
        assert_eq!(e.os_error(), Some(libc::ECONNREFUSED));
        assert!(e.to_string().starts_with("connect to 127.0.0.1:9: "));
    }
}
