//! The boundary between C and Rust: the thread's last error, argument checks, and [`call`], the
//! one helper every exported function runs its body in. It imports no other module of the crate
//! (the objects behind handles are in [`crate::handles`], above it).
//!
//! Nothing here is exported: the library's dynamic symbols are the `ls_*` functions only.

use std::cell::RefCell;
use std::ffi::{c_char, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::LazyLock;

use libsock::{Error, ErrorKind, SockOpt};

thread_local! {
    /// A better message for the next `BadHandle` recorded on this thread.
    static NOTE: RefCell<Option<String>> = const { RefCell::new(None) };
    static LAST: RefCell<Last> = RefCell::new(Last::default());
}

fn set_note(s: String) {
    NOTE.with(|n| *n.borrow_mut() = Some(s));
}

/// A handle of another kind than the function takes: `BadHandle`, with a message saying which
/// (`kind` is what the handle names, `wanted` what the function takes).
pub(crate) fn wrong_kind(h: i64, kind: &str, wanted: &str) -> Error {
    set_note(format!(
        "bad handle {h}: it is a {kind}, this function takes a {wanted}"
    ));
    Error::BadHandle(h)
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

/// The sum of `lens`, at most `isize::MAX` (then every length is too); an error naming the
/// first bad length otherwise.
pub(crate) fn sum_lens(lens: &[usize]) -> Result<usize, Error> {
    let total = lens.iter().try_fold(0usize, |t, &l| t.checked_add(l));
    if let Some(t) = total.filter(|&t| t <= isize::MAX as usize) {
        return Ok(t);
    }
    // Only on failure: find which length is to blame, for the message.
    let mut total = 0usize;
    for (i, &l) in lens.iter().enumerate() {
        total = total
            .checked_add(check_len(l, "lens[i]")?)
            .filter(|&t| t <= isize::MAX as usize)
            .ok_or_else(|| bad_arg(format!("the sum of lens is too large (at lens[{i}] = {l})")))?;
    }
    Ok(total)
}

/// An output array of `count` elements of `T` (the C type `ctype`), `None` when `ptr` is NULL;
/// a pointer not aligned for `T` is refused.
///
/// # Safety
/// `ptr` must be NULL or point to `count` writable elements.
pub(crate) unsafe fn out_array<'a, T>(
    ptr: *mut T,
    count: usize,
    name: &str,
    ctype: &str,
) -> Result<Option<&'a mut [T]>, Error> {
    if ptr.is_null() {
        return Ok(None);
    }
    if ptr.align_offset(std::mem::align_of::<T>()) != 0 {
        return Err(bad_arg(format!("{name} is not aligned for {ctype}")));
    }
    // SAFETY: non-null, aligned, and the caller promises `count` writable elements.
    Ok(Some(unsafe { std::slice::from_raw_parts_mut(ptr, count) }))
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
}
