//! The socket inside every libsock object: closable from any thread while another thread waits on
//! it, with a default timeout.
//!
//! `close` sets a flag, shuts the socket down if calls are in flight (which wakes any thread
//! blocked in poll on it) and then releases the file descriptor once those calls have returned;
//! so a closed descriptor number is never used again by a late call (no fd-reuse race). With no
//! call in flight the descriptor is closed at once, keeping SO_LINGER's meaning (0 = reset).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{RwLock, RwLockReadGuard, TryLockError};
use std::time::Duration;

use socket2::Socket;

use crate::error::{Error, Result};
use crate::wait::{wait_fd, Deadline, RawFd, Ready};

const NO_TIMEOUT: u64 = u64::MAX;

pub(crate) struct Holder {
    sock: RwLock<Option<Socket>>,
    fd: RawFd,
    closed: AtomicBool,
    timeout_ns: AtomicU64,
}

/// A borrowed socket, valid while the guard lives.
pub(crate) struct SockRef<'a>(RwLockReadGuard<'a, Option<Socket>>);

impl std::ops::Deref for SockRef<'_> {
    type Target = Socket;
    fn deref(&self) -> &Socket {
        // Checked to be Some when the guard was made.
        self.0.as_ref().expect("socket present")
    }
}

impl Holder {
    pub(crate) fn new(sock: Socket) -> Result<Holder> {
        use std::os::fd::AsRawFd;
        sock.set_nonblocking(true)
            .map_err(|e| Error::os("set non-blocking", e))?;
        #[cfg(any(target_vendor = "apple", target_os = "freebsd"))]
        let _ = sock.set_nosigpipe(true);
        Ok(Holder {
            fd: sock.as_raw_fd(),
            sock: RwLock::new(Some(sock)),
            closed: AtomicBool::new(false),
            timeout_ns: AtomicU64::new(NO_TIMEOUT),
        })
    }

    /// The socket, or `Closed` for `op`.
    pub(crate) fn get(&self, op: &dyn Fn() -> String) -> Result<SockRef<'_>> {
        if self.closed.load(Ordering::Acquire) {
            return Err(Error::closed(op()));
        }
        let g = self.sock.read().unwrap_or_else(|p| p.into_inner());
        if g.is_none() {
            return Err(Error::closed(op()));
        }
        Ok(SockRef(g))
    }

    pub(crate) fn fd(&self) -> RawFd {
        self.fd
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Wait for readiness (see [`wait_fd`]).
    pub(crate) fn wait(
        &self,
        ready: Ready,
        deadline: &Deadline,
        op: &dyn Fn() -> String,
    ) -> Result<()> {
        wait_fd(self.fd, ready, deadline, &self.closed, op)
    }

    /// Close: wake blocked callers, then release the descriptor after they return. Idempotent.
    pub(crate) fn close(&self) {
        if self.closed.swap(true, Ordering::AcqRel) {
            return;
        }
        // The descriptor is still open: only this call (guarded by the swap) drops the socket.
        // Every call in flight holds a read guard while it waits. With none in flight, a plain
        // close keeps the socket's own close semantics (SO_LINGER 0 = abortive close with RST;
        // a shutdown first would send a FIN and make it an orderly close).
        let mut guard = match self.sock.try_write() {
            Ok(g) => g,
            Err(TryLockError::Poisoned(p)) => p.into_inner(),
            Err(TryLockError::WouldBlock) => {
                // Calls are waiting: shutting the socket down wakes them (they see `closed`).
                // SAFETY: shutdown on an open descriptor; errors (ENOTCONN) are irrelevant here.
                unsafe {
                    libc::shutdown(self.fd, libc::SHUT_RDWR);
                }
                self.sock.write().unwrap_or_else(|p| p.into_inner())
            }
        };
        let sock = guard.take();
        drop(guard);
        drop(sock);
    }

    pub(crate) fn timeout(&self) -> Option<Duration> {
        match self.timeout_ns.load(Ordering::Relaxed) {
            NO_TIMEOUT => None,
            ns => Some(Duration::from_nanos(ns)),
        }
    }

    pub(crate) fn set_timeout(&self, t: Option<Duration>) {
        let ns = t
            .map(|d| d.as_nanos().min(NO_TIMEOUT as u128 - 1) as u64)
            .unwrap_or(NO_TIMEOUT);
        self.timeout_ns.store(ns, Ordering::Relaxed);
    }
}

/// Which timeout a call uses: the object's default, or one given for this call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Timeout {
    /// The object's default timeout (set with `set_timeout`).
    #[default]
    Default,
    /// Wait forever.
    Never,
    /// Wait at most this long (zero = poll once).
    After(Duration),
}

impl Timeout {
    pub(crate) fn resolve(self, holder: &Holder) -> Option<Duration> {
        match self {
            Timeout::Default => holder.timeout(),
            Timeout::Never => None,
            Timeout::After(d) => Some(d),
        }
    }
}

impl From<Option<Duration>> for Timeout {
    /// `None` = forever, `Some(d)` = at most `d`.
    fn from(t: Option<Duration>) -> Timeout {
        match t {
            None => Timeout::Never,
            Some(d) => Timeout::After(d),
        }
    }
}

impl From<Duration> for Timeout {
    fn from(d: Duration) -> Timeout {
        Timeout::After(d)
    }
}
