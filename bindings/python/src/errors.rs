//! Core errors to Python exceptions, and Ctrl-C through core's interrupt check.
//!
//! The exception classes are defined in Python (`libsock/_errors.py`) because each one inherits
//! from both `libsock.Error` and the builtin a Python user already catches (`TimeoutError`,
//! `ConnectionRefusedError`, ...), which a native class cannot do.

use std::cell::RefCell;
use std::sync::atomic::{AtomicUsize, Ordering};

use libsock::ErrorKind;
use pyo3::exceptions::PyKeyboardInterrupt;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyModule;

static ERRORS: PyOnceLock<Py<PyModule>> = PyOnceLock::new();

thread_local! {
    /// The exception raised by a signal handler during a wait (KeyboardInterrupt, usually),
    /// re-raised when core returns `Interrupted`.
    static PENDING: RefCell<Option<PyErr>> = const { RefCell::new(None) };
}

/// The interrupt check installed around every wait: briefly re-attach to Python and run the
/// signal handlers; an exception they raise aborts the wait and is kept for re-raising.
fn check_signals() -> bool {
    Python::attach(|py| match py.check_signals() {
        Ok(()) => false,
        Err(e) => {
            PENDING.with(|p| *p.borrow_mut() = Some(e));
            true
        }
    })
}

/// The main thread's `pthread_self()`, once a call on it has been seen (0 = not yet).
static MAIN_THREAD: AtomicUsize = AtomicUsize::new(0);

/// True on the process's main thread, the only one where Python runs signal handlers.
///
/// The main thread is recognised by its `pthread_self()` (a read of the thread pointer, no
/// system call, no thread-local lookup); another thread asks the kernel once and caches it.
fn on_main_thread() -> bool {
    // SAFETY: pthread_self takes no arguments and cannot fail.
    let me = unsafe { libc::pthread_self() } as usize;
    let main = MAIN_THREAD.load(Ordering::Relaxed);
    if main != 0 {
        return me == main;
    }
    thread_local! {
        static MAIN: std::cell::Cell<Option<bool>> = const { std::cell::Cell::new(None) };
    }
    MAIN.with(|m| {
        if let Some(known) = m.get() {
            return known;
        }
        #[cfg(any(target_os = "linux", target_os = "android"))]
        // SAFETY: gettid and getpid take no arguments and cannot fail.
        let main = unsafe { libc::syscall(libc::SYS_gettid) == libc::getpid() as libc::c_long };
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        let main = true;
        m.set(Some(main));
        if main {
            // The main thread lives as long as the interpreter: its id is never reused.
            MAIN_THREAD.store(me, Ordering::Relaxed);
        }
        main
    })
}

/// In a child made by fork(2) the forking thread is the only one, and Python makes it the main
/// thread: remember that one (async-signal-safe: an atomic store).
extern "C" fn forked_child() {
    // SAFETY: pthread_self takes no arguments and cannot fail.
    MAIN_THREAD.store(unsafe { libc::pthread_self() } as usize, Ordering::Relaxed);
}

/// Called once when the module loads: keep the main thread known across fork(2).
pub(crate) fn init() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: registers a handler that only stores an atomic.
        unsafe {
            libc::pthread_atfork(None, None, Some(forked_child));
        }
    });
}

/// Run `f` (a blocking core call) with the GIL released. On the main thread Ctrl-C is checked
/// when a signal interrupts the wait (Python installs its handlers without `SA_RESTART`, so a
/// blocked receive returns `EINTR`, as in the stdlib): receives, `send`/`sendall` and datagram
/// sends are not cut into slices, so a call that waits costs no kernel timer; message sends and
/// waits that a signal does not interrupt are still checked every slice (see
/// `libsock::with_signal_interrupt_check`). Other threads never run signal handlers.
pub(crate) fn wait<T: Send>(
    py: Python<'_>,
    f: impl FnOnce() -> libsock::Result<T> + Send,
) -> PyResult<T> {
    let r = if on_main_thread() {
        py.detach(|| libsock::with_signal_interrupt_check(check_signals, f))
    } else {
        py.detach(f)
    };
    r.map_err(|e| to_pyerr(py, e))
}

/// Sends of at most this many bytes are first tried once without waiting and without
/// releasing the GIL (core's `try_send`, which waits for nothing, not even another thread's
/// send in progress, so it cannot block under the GIL); larger ones, and those that would have
/// to wait, go through [`wait`]. A small send that the socket takes at once is a system call of
/// a few microseconds: releasing and retaking the GIL around it (and installing the Ctrl-C
/// check) cost as much as the rest of the call, and the stdlib pays it on every call.
pub(crate) const ATTACHED_SEND_MAX: usize = 16 << 10;

/// The class of `libsock/_errors.py` for an error: one per code, named after the code
/// (docs/NAMES.md), and `BrokenPipeError` (an `IoError`) for EPIPE.
fn class_name(e: &libsock::Error) -> &'static str {
    match e.kind() {
        ErrorKind::Timeout => "TimeoutError",
        ErrorKind::ConnectionRefused => "ConnectionRefusedError",
        ErrorKind::ConnectionReset => "ConnectionResetError",
        ErrorKind::ConnectionAborted => "ConnectionAbortedError",
        ErrorKind::Closed => "ClosedError",
        ErrorKind::AddrInUse => "AddrInUseError",
        ErrorKind::AddrNotAvailable => "AddrNotAvailableError",
        ErrorKind::Unreachable => "UnreachableError",
        ErrorKind::Resolve => "ResolveError",
        ErrorKind::InvalidArgument => "InvalidArgumentError",
        ErrorKind::FrameTooLarge => "FrameTooLargeError",
        ErrorKind::BufferTooSmall => "BufferTooSmallError",
        ErrorKind::BadHandle => "BadHandleError",
        ErrorKind::QueueFull => "QueueFullError",
        ErrorKind::Unsupported => "UnsupportedError",
        ErrorKind::Tls => "TlsError",
        ErrorKind::Io if e.os_error() == Some(libc::EPIPE) => "BrokenPipeError",
        ErrorKind::Io if e.os_error() == Some(libc::ENOENT) => "FileNotFoundError",
        ErrorKind::Io if e.os_error() == Some(libc::EEXIST) => "FileExistsError",
        ErrorKind::Io if matches!(e.os_error(), Some(libc::EACCES | libc::EPERM)) => {
            "PermissionError"
        }
        ErrorKind::Io => "IoError",
        ErrorKind::Internal => "InternalError",
        ErrorKind::Interrupted => "InterruptedError",
        ErrorKind::BadFrame => "BadFrameError",
        _ => "Error",
    }
}

fn build(py: Python<'_>, e: &libsock::Error) -> PyResult<PyErr> {
    let module = ERRORS.get_or_try_init(py, || {
        PyModule::import(py, "libsock._errors").map(|m| m.unbind())
    })?;
    let cls = module.bind(py).getattr(class_name(e))?;
    let inst = cls.call1((e.to_string(),))?;
    inst.setattr("code", e.code())?;
    if let Some(errno) = e.os_error() {
        inst.setattr("errno", errno)?;
    }
    if let Some(needed) = e.needed() {
        inst.setattr("needed", needed)?;
    }
    Ok(PyErr::from_value(inst))
}

/// The Python exception for a core error.
pub(crate) fn to_pyerr(py: Python<'_>, e: libsock::Error) -> PyErr {
    if e.kind() == ErrorKind::Interrupted {
        if let Some(pending) = PENDING.with(|p| p.borrow_mut().take()) {
            return pending;
        }
        if let Err(sig) = py.check_signals() {
            return sig;
        }
    }
    match build(py, &e) {
        Ok(err) => err,
        // The error module could not be loaded (e.g. _libsock imported on its own): still raise
        // something meaningful.
        Err(_) if e.kind() == ErrorKind::Interrupted => PyKeyboardInterrupt::new_err(e.to_string()),
        Err(_) => pyo3::exceptions::PyOSError::new_err(e.to_string()),
    }
}

/// An `InvalidArgumentError` (a `ValueError`) with `msg`.
pub(crate) fn invalid(py: Python<'_>, msg: impl Into<String>) -> PyErr {
    to_pyerr(py, libsock::Error::invalid(msg))
}
