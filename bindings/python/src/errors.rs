//! Core errors to Python exceptions, and Ctrl-C through core's interrupt check.
//!
//! The exception classes are defined in Python (`libsock/_errors.py`) because each one inherits
//! from both `libsock.Error` and the builtin a Python user already catches (`TimeoutError`,
//! `ConnectionRefusedError`, ...), which a native class cannot do.

use std::cell::RefCell;

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

/// True on the process's main thread, the only one where Python runs signal handlers.
fn on_main_thread() -> bool {
    thread_local! {
        static MAIN: std::cell::Cell<Option<bool>> = const { std::cell::Cell::new(None) };
    }
    MAIN.with(|m| {
        *m.get().get_or_insert_with(|| {
            #[cfg(any(target_os = "linux", target_os = "android"))]
            {
                // SAFETY: gettid and getpid take no arguments and cannot fail.
                unsafe { libc::syscall(libc::SYS_gettid) == libc::getpid() as libc::c_long }
            }
            #[cfg(not(any(target_os = "linux", target_os = "android")))]
            {
                true
            }
        })
    })
}

/// Run `f` (a blocking core call) with the GIL released. On the main thread Ctrl-C is checked
/// while it waits; other threads never run signal handlers, so their waits are not sliced.
pub(crate) fn wait<T: Send>(
    py: Python<'_>,
    f: impl FnOnce() -> libsock::Result<T> + Send,
) -> PyResult<T> {
    let r = if on_main_thread() {
        py.detach(|| libsock::with_interrupt_check(check_signals, f))
    } else {
        py.detach(f)
    };
    r.map_err(|e| to_pyerr(py, e))
}

fn class_name(e: &libsock::Error) -> &'static str {
    match e.kind() {
        ErrorKind::Timeout => "TimeoutError",
        ErrorKind::ConnectionRefused => "ConnectionRefusedError",
        ErrorKind::ConnectionReset => "ConnectionResetError",
        ErrorKind::ConnectionAborted => "ConnectionAbortedError",
        ErrorKind::Closed => "ClosedError",
        ErrorKind::AddrInUse => "AddressInUseError",
        ErrorKind::AddrNotAvailable => "AddressNotAvailableError",
        ErrorKind::Unreachable => "UnreachableError",
        ErrorKind::Resolve => "ResolveError",
        ErrorKind::InvalidArgument => "InvalidArgumentError",
        ErrorKind::FrameTooLarge => "FrameTooLargeError",
        ErrorKind::BufferTooSmall => "BufferTooSmallError",
        ErrorKind::Unsupported => "UnsupportedError",
        ErrorKind::QueueFull => "QueueFullError",
        ErrorKind::Interrupted => "InterruptedError",
        _ if e.os_error() == Some(libc::EPIPE) => "BrokenPipeError",
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
