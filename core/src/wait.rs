//! Waiting for a socket with a deadline, a close flag and an optional interrupt check.
//!
//! Sockets are non-blocking; a call first tries the system call and only when it would block
//! waits here with poll(2). A waiting call wakes when the socket is ready, when the deadline
//! passes (→ `Timeout`), when the object is closed from another thread (→ `Closed`), or when the
//! thread's interrupt check says so (→ `Interrupted`; the Python door uses it for Ctrl-C).

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// A function polled every [`INTERRUPT_SLICE`] while a call of this thread waits; returning
/// `true` aborts the wait with [`Error::Interrupted`].
pub type InterruptCheck = fn() -> bool;

/// How often an installed [`InterruptCheck`] runs during a wait.
pub const INTERRUPT_SLICE: Duration = Duration::from_millis(50);

/// The check installed for a thread, and how socket system calls wait for it.
#[derive(Clone, Copy)]
pub(crate) struct Installed {
    /// The check.
    pub(crate) check: InterruptCheck,
    /// True: a blocking socket system call is cut into [`INTERRUPT_SLICE`]s (a kernel timeout)
    /// and the check polled between them. False: the call waits in one piece and the check runs
    /// when a signal interrupts it (`EINTR`); see [`with_signal_interrupt_check`].
    pub(crate) sliced: bool,
}

thread_local! {
    static CHECK: Cell<Option<Installed>> = const { Cell::new(None) };
}

/// Run `f` with `check` installed for this thread: every blocking libsock call inside `f` polls
/// `check` every [`INTERRUPT_SLICE`] while it waits, and returns [`Error::Interrupted`] as soon as
/// it returns `true`. Nothing that was received is lost: partial reads stay buffered.
///
/// ```
/// let r = libsock::with_interrupt_check(|| true, || 42);
/// assert_eq!(r, 42);
/// ```
pub fn with_interrupt_check<R>(check: InterruptCheck, f: impl FnOnce() -> R) -> R {
    install(
        Installed {
            check,
            sliced: true,
        },
        f,
    )
}

/// Like [`with_interrupt_check`], for a check that only a signal can make true, on a thread
/// whose signal handlers interrupt system calls (installed without `SA_RESTART`, as Python's
/// are): a blocking socket receive (or accept) then waits in one piece, as on a plain blocking
/// socket, and `check` runs when a signal ends it early (`EINTR`) — so a receive that waits
/// costs no kernel timer. Sends (a signal can end them with a partial count instead of `EINTR`)
/// and waits that a signal does not interrupt (poll for connect, the engine's event queues)
/// still poll `check` every [`INTERRUPT_SLICE`].
///
/// A signal that arrives just before a receive enters the kernel is seen when the receive
/// returns (or at the next signal), exactly as with the standard library's blocking sockets.
///
/// ```
/// let r = libsock::with_signal_interrupt_check(|| false, || 42);
/// assert_eq!(r, 42);
/// ```
pub fn with_signal_interrupt_check<R>(check: InterruptCheck, f: impl FnOnce() -> R) -> R {
    install(
        Installed {
            check,
            sliced: false,
        },
        f,
    )
}

fn install<R>(check: Installed, f: impl FnOnce() -> R) -> R {
    struct Restore(Option<Installed>);
    impl Drop for Restore {
        fn drop(&mut self) {
            CHECK.with(|c| c.set(self.0));
        }
    }
    let _restore = Restore(CHECK.with(|c| c.replace(Some(check))));
    f()
}

/// The interrupt check installed for this thread, if any.
pub(crate) fn interrupt_check() -> Option<InterruptCheck> {
    installed().map(|i| i.check)
}

/// The interrupt check installed for this thread and how it is polled, if any.
pub(crate) fn installed() -> Option<Installed> {
    CHECK.with(|c| c.get())
}

/// True if `fd` is ready for `ready` right now (a poll that does not wait).
#[cfg(unix)]
pub(crate) fn ready_now(fd: RawFd, ready: Ready) -> bool {
    let mut pfd = libc::pollfd {
        fd,
        events: match ready {
            Ready::Read => libc::POLLIN,
            Ready::Write => libc::POLLOUT,
        },
        revents: 0,
    };
    // SAFETY: one valid pollfd on the stack.
    unsafe { libc::poll(&mut pfd, 1, 0) > 0 }
}

/// When a call must finish: `None` = wait forever.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Deadline {
    /// The instant; `None` for forever and for a poll (zero timeout: `total` is `Some(0)`),
    /// which therefore never read the clock.
    at: Option<Instant>,
    total: Option<Duration>,
}

impl Deadline {
    pub(crate) fn after(timeout: Option<Duration>) -> Deadline {
        Deadline {
            at: timeout
                .filter(|t| !t.is_zero())
                .map(|t| Instant::now().checked_add(t).unwrap_or_else(far_future)),
            total: timeout,
        }
    }

    /// Time left; `None` = forever.
    pub(crate) fn remaining(&self) -> Option<Duration> {
        match (self.at, self.total) {
            (Some(at), _) => Some(at.saturating_duration_since(Instant::now())),
            // A poll: nothing left from the start.
            (None, Some(_)) => Some(Duration::ZERO),
            (None, None) => None,
        }
    }

    /// A timeout error for `op`.
    pub(crate) fn timeout_error(&self, op: impl FnOnce() -> String) -> Error {
        Error::Timeout {
            op: op(),
            ms: self.total.map(|t| t.as_millis()).unwrap_or(0),
        }
    }

    /// A deadline no later than this one and no later than `share` from now.
    pub(crate) fn at_most(&self, share: Duration) -> Deadline {
        if self.total.is_some() && self.at.is_none() {
            return *self; // a poll ends before anything else
        }
        let cap = Deadline::after(Some(share));
        match (self.at, cap.at, cap.total) {
            (Some(a), Some(b), _) if a <= b => *self,
            _ => cap,
        }
    }
}

fn far_future() -> Instant {
    Instant::now() + Duration::from_secs(86_400 * 365 * 30)
}

/// `now + t`, or far in the future when that is past what an `Instant` can hold (an absurd
/// timeout waits "forever" instead of panicking on overflow).
pub(crate) fn instant_after(t: Duration) -> Instant {
    Instant::now().checked_add(t).unwrap_or_else(far_future)
}

/// [`instant_after`] for the engine's timers.
pub(crate) fn tokio_after(t: Duration) -> tokio::time::Instant {
    tokio::time::Instant::from_std(instant_after(t))
}

/// Readiness to wait for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ready {
    Read,
    Write,
}

#[cfg(unix)]
pub(crate) type RawFd = std::os::fd::RawFd;

/// Wait until `fd` is ready for `ready`, the deadline passes, `closed` is set or the thread's
/// interrupt check fires.
#[cfg(unix)]
pub(crate) fn wait_fd(
    fd: RawFd,
    ready: Ready,
    deadline: &Deadline,
    closed: &AtomicBool,
    op: &dyn Fn() -> String,
) -> Result<()> {
    let check = interrupt_check();
    loop {
        if closed.load(Ordering::Acquire) {
            return Err(Error::closed(op()));
        }
        let remaining = deadline.remaining();
        if remaining == Some(Duration::ZERO) {
            return Err(deadline.timeout_error(op));
        }
        let slice = match (remaining, check) {
            (Some(r), Some(_)) => Some(r.min(INTERRUPT_SLICE)),
            (None, Some(_)) => Some(INTERRUPT_SLICE),
            (r, None) => r,
        };
        let ms: libc::c_int = match slice {
            None => -1,
            // Round up so that a wait never ends just short of its deadline and spins.
            Some(d) => d.as_micros().div_ceil(1000).min(libc::c_int::MAX as u128) as libc::c_int,
        };
        let mut pfd = libc::pollfd {
            fd,
            events: match ready {
                Ready::Read => libc::POLLIN,
                Ready::Write => libc::POLLOUT,
            },
            revents: 0,
        };
        // SAFETY: one valid pollfd on the stack.
        let n = unsafe { libc::poll(&mut pfd, 1, ms) };
        if n > 0 {
            if closed.load(Ordering::Acquire) {
                return Err(Error::closed(op()));
            }
            return Ok(());
        }
        if n < 0 {
            let e = std::io::Error::last_os_error();
            if e.raw_os_error() != Some(libc::EINTR) {
                return Err(Error::os(op(), e));
            }
        }
        if let Some(check) = check {
            if check() {
                return Err(Error::Interrupted { op: op() });
            }
        }
    }
}

/// True if the error means "try again after waiting".
pub(crate) fn would_block(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::WouldBlock
}

/// True if the error means "the call was interrupted by a signal; retry".
pub(crate) fn interrupted(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::Interrupted
}
