//! The boundary between C and Rust: the handle table, the thread's last error, argument checks,
//! and [`call`], the one helper every exported function runs its body in.
//!
//! Nothing here is exported: the library's dynamic symbols are the `ls_*` functions only.

use std::cell::RefCell;
use std::collections::HashMap;
use std::ffi::{c_char, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use libsock::engine::{Client, DatagramServer, Server};
use libsock::{Connection, Datagram, Error, ErrorKind, Listener, SockOpt, SocketOptions};
use libsock_flat::registry::Registry;

use crate::engine::EngineConfig;
use crate::tls::TlsEntry;

/// Socket options recorded by an options handle for a later `ls_*_ex` call.
#[derive(Default)]
pub(crate) struct OptionsEntry {
    /// The options as core applies them.
    pub(crate) opts: SocketOptions,
    /// The values as they were set, by option number (for `ls_get_option`).
    pub(crate) values: HashMap<i32, i64>,
    /// The TLS config attached by `ls_options_set_tls` (its object, so that later setters on
    /// it still apply and freeing its handle does not take it away).
    pub(crate) tls: Option<Arc<Obj>>,
}

/// An engine object behind a handle, with a flag set by `ls_close` so that a call blocked on it
/// in another thread returns `LS_ERR_CLOSED` rather than the object's final event.
pub(crate) struct Engine<T> {
    pub(crate) obj: T,
    pub(crate) closed: AtomicBool,
}

impl<T> Engine<T> {
    /// Wrap a freshly made engine object.
    pub(crate) fn new(obj: T) -> Engine<T> {
        Engine {
            obj,
            closed: AtomicBool::new(false),
        }
    }

    /// True once `ls_close` closed the handle.
    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }
}

/// Everything a handle can name.
// Each object lives in its own `Arc` in the handle table, so the enum's size is one allocation
// per handle; boxing the large variants would add a pointer chase to every call instead.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Obj {
    Conn(Connection),
    Listener(Listener),
    Dgram(Datagram),
    Options(Mutex<OptionsEntry>),
    Server(Engine<Server>),
    Client(Engine<Client>),
    DgramServer(Engine<DatagramServer>),
    EngineConfig(Mutex<EngineConfig>),
    Tls(Mutex<TlsEntry>),
}

impl Obj {
    fn kind(&self) -> &'static str {
        match self {
            Obj::Conn(_) => "connection",
            Obj::Listener(_) => "listener",
            Obj::Dgram(_) => "datagram socket",
            Obj::Options(_) => "options",
            Obj::Server(_) => "server",
            Obj::Client(_) => "client",
            Obj::DgramServer(_) => "datagram server",
            Obj::EngineConfig(_) => "engine config",
            Obj::Tls(_) => "TLS config",
        }
    }

    /// Close the socket inside (wakes threads blocked on it). Engine objects stop at once (their
    /// waiters wake and return `Closed`). Options and configs have nothing to close.
    fn close(&self) {
        match self {
            Obj::Conn(c) => c.close(),
            Obj::Listener(l) => l.close(),
            Obj::Dgram(d) => d.close(),
            Obj::Server(e) => {
                e.closed.store(true, Ordering::Release);
                e.obj.shutdown(Duration::ZERO);
            }
            Obj::Client(e) => {
                e.closed.store(true, Ordering::Release);
                e.obj.close(Duration::ZERO);
            }
            Obj::DgramServer(e) => {
                e.closed.store(true, Ordering::Release);
                e.obj.shutdown();
            }
            Obj::Options(_) | Obj::EngineConfig(_) | Obj::Tls(_) => {}
        }
    }
}

/// Every object behind a C handle: the flat doors' registry, shared with the JNI glue (handles
/// from 1, never reused, at most 2^53 - 1 so that MATLAB's doubles hold each exactly; a lookup
/// lets go of the lock before the call blocks; the storage goes back when the last handle
/// does, so valgrind finds nothing of ours at exit; [`libsock_flat::registry`]).
static HANDLES: Registry<Obj> = Registry::new();

/// Put `obj` in the registry; returns its new handle (never reused). Past the last handle the
/// object is closed (not only dropped) and the error is `Internal`.
pub(crate) fn insert(obj: Obj) -> Result<i64, Error> {
    if HANDLES.exhausted() {
        obj.close();
        return Err(Error::Internal("handle numbers are exhausted".into()));
    }
    HANDLES.insert(obj)
}

/// The object behind `h`, or `BadHandle`.
pub(crate) fn get(h: i64) -> Result<Arc<Obj>, Error> {
    HANDLES.get(h).ok_or(Error::BadHandle(h))
}

/// Remove `h` from the registry and close what it names. Calls still running on it (in other
/// threads) hold their own reference and return `Closed`; the memory goes with the last of them.
pub(crate) fn remove(h: i64) -> Result<(), Error> {
    let obj = HANDLES.remove(h).ok_or(Error::BadHandle(h))?;
    obj.close();
    Ok(())
}

/// A handle of another kind than the function takes: `BadHandle`, with a message saying which.
pub(crate) fn wrong_kind(h: i64, obj: &Obj, wanted: &str) -> Error {
    set_note(format!(
        "bad handle {h}: it is a {}, this function takes a {wanted}",
        obj.kind()
    ));
    Error::BadHandle(h)
}

thread_local! {
    /// A better message for the next `BadHandle` recorded on this thread.
    static NOTE: RefCell<Option<String>> = const { RefCell::new(None) };
    static LAST: RefCell<Last> = RefCell::new(Last::default());
}

fn set_note(s: String) {
    NOTE.with(|n| *n.borrow_mut() = Some(s));
}

/// The last error recorded on a thread.
#[derive(Default)]
pub(crate) struct Last {
    pub(crate) code: i32,
    pub(crate) os: i32,
    pub(crate) msg: CString,
}

/// Run `f` with the calling thread's last error.
pub(crate) fn with_last<R>(f: impl FnOnce(&Last) -> R) -> R {
    LAST.with(|l| f(&l.borrow()))
}

fn record(code: i32, os: i32, msg: &str) {
    let text = msg.replace('\0', "\\0");
    let msg = CString::new(text).unwrap_or_default();
    LAST.with(|l| {
        if let Ok(mut l) = l.try_borrow_mut() {
            *l = Last { code, os, msg };
        }
    });
}

/// The connection behind `h`.
pub(crate) fn conn(h: i64) -> Result<Arc<Obj>, Error> {
    let o = get(h)?;
    match &*o {
        Obj::Conn(_) => Ok(o),
        other => Err(wrong_kind(h, other, "connection")),
    }
}

/// Borrow the connection out of an [`Obj`] known to be one.
pub(crate) fn as_conn(o: &Obj) -> &Connection {
    match o {
        Obj::Conn(c) => c,
        _ => unreachable!("checked by conn()"),
    }
}

/// The listener behind `h`.
pub(crate) fn listener(h: i64) -> Result<Arc<Obj>, Error> {
    let o = get(h)?;
    match &*o {
        Obj::Listener(_) => Ok(o),
        other => Err(wrong_kind(h, other, "listener")),
    }
}

/// Borrow the listener out of an [`Obj`] known to be one.
pub(crate) fn as_listener(o: &Obj) -> &Listener {
    match o {
        Obj::Listener(l) => l,
        _ => unreachable!("checked by listener()"),
    }
}

/// The datagram socket behind `h`.
pub(crate) fn dgram(h: i64) -> Result<Arc<Obj>, Error> {
    let o = get(h)?;
    match &*o {
        Obj::Dgram(_) => Ok(o),
        other => Err(wrong_kind(h, other, "datagram socket")),
    }
}

/// Borrow the datagram socket out of an [`Obj`] known to be one.
pub(crate) fn as_dgram(o: &Obj) -> &Datagram {
    match o {
        Obj::Dgram(d) => d,
        _ => unreachable!("checked by dgram()"),
    }
}

/// The options object behind `h`.
pub(crate) fn options(h: i64) -> Result<Arc<Obj>, Error> {
    let o = get(h)?;
    match &*o {
        Obj::Options(_) => Ok(o),
        other => Err(wrong_kind(h, other, "options object")),
    }
}

/// A copy of the socket options recorded by options handle `h` (0 = none: defaults).
pub(crate) fn options_value(h: i64) -> Result<SocketOptions, Error> {
    if h == 0 {
        return Ok(SocketOptions::default());
    }
    let o = options(h)?;
    match &*o {
        Obj::Options(m) => Ok(m.lock().unwrap_or_else(|p| p.into_inner()).opts.clone()),
        _ => unreachable!("checked by options()"),
    }
}

/// The TLS config attached to options handle `h` by `ls_options_set_tls` (0 = none).
pub(crate) fn options_tls(h: i64) -> Result<Option<Arc<Obj>>, Error> {
    if h == 0 {
        return Ok(None);
    }
    let o = options(h)?;
    match &*o {
        Obj::Options(m) => Ok(m.lock().unwrap_or_else(|p| p.into_inner()).tls.clone()),
        _ => unreachable!("checked by options()"),
    }
}

/// The TLS config behind `h`.
pub(crate) fn tls_config(h: i64) -> Result<Arc<Obj>, Error> {
    let o = get(h)?;
    match &*o {
        Obj::Tls(_) => Ok(o),
        other => Err(wrong_kind(h, other, "TLS config")),
    }
}

/// Run the body of exported function `func`: catch panics, record a failure as the thread's last
/// error (core's message, as in every door: no function name in front; docs/NAMES.md), and turn
/// the result into a return code. `func` is kept for the panic message.
pub(crate) fn call(func: &str, f: impl FnOnce() -> Result<(), Error>) -> i32 {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => 0,
        Ok(Err(e)) => {
            let note = NOTE.with(|n| n.borrow_mut().take());
            let msg = match (&e, note) {
                (Error::BadHandle(_), Some(n)) => n,
                (Error::BadHandle(h), None) => format!("bad handle {h} (unknown, or closed)"),
                _ => e.to_string(),
            };
            let code = e.code();
            record(code, e.os_error().unwrap_or(0), &msg);
            code
        }
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            let e = Error::Internal(format!("panic in {func}: {what}"));
            let code = e.code();
            record(code, 0, &e.to_string());
            code
        }
    }
}

/// An invalid-argument error naming the parameter.
pub(crate) fn bad_arg(msg: impl Into<String>) -> Error {
    Error::invalid(msg)
}

/// Check a `size_t` length: above `isize::MAX` is a negative number passed by mistake.
pub(crate) fn check_len(len: usize, name: &str) -> Result<usize, Error> {
    check_size(len, "", name)
}

/// [`check_len`] for "the length of buf" and the like; the message is only built on failure.
fn check_size(len: usize, what: &str, name: &str) -> Result<usize, Error> {
    if len > isize::MAX as usize {
        return Err(bad_arg(format!(
            "{what}{name} is {len}, too large (a negative number cast to size_t?)"
        )));
    }
    Ok(len)
}

/// An input buffer: `ptr` may be NULL only when `len` is 0 (an empty buffer, as an empty array
/// arrives from many languages).
///
/// # Safety
/// `ptr` must point to `len` readable bytes.
pub(crate) unsafe fn in_bytes<'a>(
    ptr: *const u8,
    len: usize,
    name: &str,
) -> Result<&'a [u8], Error> {
    let len = check_size(len, "the length of ", name)?;
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(bad_arg(format!("{name} is NULL")));
    }
    // SAFETY: non-null, and the caller promises `len` readable bytes.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// An output buffer: `cap` must be at least `min`; `ptr` may be NULL only when `cap` is 0.
///
/// # Safety
/// `ptr` must point to `cap` writable bytes.
pub(crate) unsafe fn out_bytes<'a>(
    ptr: *mut u8,
    cap: usize,
    min: usize,
    name: &str,
) -> Result<&'a mut [u8], Error> {
    let cap = check_size(cap, "the capacity of ", name)?;
    if cap < min {
        return Err(bad_arg(if ptr.is_null() {
            format!("{name} is NULL")
        } else {
            format!("the capacity of {name} is {cap}, it must be at least {min}")
        }));
    }
    if cap == 0 {
        return Ok(&mut []);
    }
    if ptr.is_null() {
        return Err(bad_arg(format!("{name} is NULL")));
    }
    // SAFETY: non-null, and the caller promises `cap` writable bytes.
    Ok(unsafe { std::slice::from_raw_parts_mut(ptr, cap) })
}

/// A NUL-terminated UTF-8 string argument.
///
/// # Safety
/// `ptr` must be NULL or point to a NUL-terminated string.
pub(crate) unsafe fn in_str<'a>(ptr: *const c_char, name: &str) -> Result<&'a str, Error> {
    if ptr.is_null() {
        return Err(bad_arg(format!("{name} is NULL")));
    }
    // SAFETY: non-null and NUL-terminated by the caller's promise.
    let c = unsafe { CStr::from_ptr(ptr) };
    c.to_str().map_err(|e| {
        bad_arg(format!(
            "{name} is not valid UTF-8 (bad byte at offset {})",
            e.valid_up_to()
        ))
    })
}

/// An out-parameter: checked for NULL before any work is done, written only on success.
pub(crate) struct Out<T>(*mut T);

impl<T> Out<T> {
    /// Check that `ptr` is not NULL.
    pub(crate) fn new(ptr: *mut T, name: &str) -> Result<Out<T>, Error> {
        if ptr.is_null() {
            return Err(bad_arg(format!("{name} is NULL")));
        }
        Ok(Out(ptr))
    }

    /// Write the result.
    pub(crate) fn set(&self, v: T) {
        // SAFETY: non-null (checked in `new`); the caller promises it points to a writable T.
        // Unaligned writes are allowed, so a packed struct field works too.
        unsafe { self.0.write_unaligned(v) }
    }
}

/// Write `text` NUL-terminated into a caller buffer and its length (without the NUL) into
/// `out_len`; when it does not fit, `BufferTooSmall` with the needed size (NUL included) written
/// into `out_len`.
pub(crate) fn write_text(text: &str, buf: &mut [u8], out_len: &Out<usize>) -> Result<(), Error> {
    let needed = text.len() + 1;
    if buf.len() < needed {
        out_len.set(needed);
        return Err(Error::BufferTooSmall {
            needed,
            capacity: buf.len(),
        });
    }
    buf[..text.len()].copy_from_slice(text.as_bytes());
    buf[text.len()] = 0;
    out_len.set(text.len());
    Ok(())
}

// Millisecond timeouts, the flat doors' one convention (shared with the JNI glue): a per-call
// `timeout_arg` is -2 the handle's default, -1 forever, 0 poll, N ms; a `timeout_setting` -1, 0
// or N; `timeout_ms` gives a setting back (-1 = forever).
pub(crate) use libsock_flat::{timeout as timeout_arg, timeout_ms, timeout_setting};

/// A 0/1 flag argument.
pub(crate) fn flag_arg(v: i32, name: &str) -> Result<bool, Error> {
    match v {
        0 => Ok(false),
        1 => Ok(true),
        _ => Err(bad_arg(format!("{name} is {v}, it must be 0 or 1"))),
    }
}

/// An option number.
pub(crate) fn opt_arg(opt: i32) -> Result<SockOpt, Error> {
    SockOpt::from_number(opt)
}

/// The static NUL-terminated texts of `ls_strerror` and `ls_error_name`, by code.
pub(crate) struct ErrorTexts {
    pub(crate) descriptions: Vec<CString>,
    pub(crate) names: Vec<CString>,
}

/// Built once from core's [`ErrorKind`] table: index 0 is `LS_OK`, index k is code -k.
pub(crate) static ERROR_TEXTS: LazyLock<ErrorTexts> = LazyLock::new(|| {
    let mut descriptions = vec![CString::new("success").unwrap_or_default()];
    let mut names = vec![CString::new("OK").unwrap_or_default()];
    for k in ErrorKind::ALL {
        descriptions.push(CString::new(k.description()).unwrap_or_default());
        names.push(CString::new(k.name()).unwrap_or_default());
    }
    ErrorTexts {
        descriptions,
        names,
    }
});

#[cfg(test)]
mod tests {
    use super::*;
    use libsock_flat::registry::MAX_HANDLE;

    #[test]
    fn a_panic_becomes_internal_with_a_message() {
        let code = call("ls_test", || -> Result<(), Error> { panic!("boom") });
        assert_eq!(code, ErrorKind::Internal.code());
        with_last(|l| {
            assert_eq!(l.code, code);
            let msg = l.msg.to_str().unwrap();
            // Core's text for an internal error; the function is named after it, not in front.
            assert_eq!(msg, "internal error: panic in ls_test: boom");
        });
    }

    #[test]
    fn errors_are_recorded_per_thread_and_success_keeps_them() {
        assert_eq!(call("ls_a", || Err(Error::BadHandle(5))), -13);
        assert_eq!(call("ls_b", || Ok(())), 0);
        with_last(|l| {
            // Core's message ("bad handle 5"), no function name in front, plus the door's note.
            assert_eq!(l.msg.to_str().unwrap(), "bad handle 5 (unknown, or closed)")
        });
        std::thread::spawn(|| with_last(|l| assert_eq!(l.code, 0)))
            .join()
            .unwrap();
    }

    #[test]
    fn handles_are_positive_increasing_and_bad_after_remove() {
        let a = insert(Obj::Options(Mutex::default())).unwrap();
        let b = insert(Obj::Options(Mutex::default())).unwrap();
        assert!(a > 0 && b > a && b <= MAX_HANDLE);
        remove(a).unwrap();
        assert!(matches!(get(a), Err(Error::BadHandle(_))));
        assert!(matches!(remove(a), Err(Error::BadHandle(_))));
        remove(b).unwrap();
    }
}
