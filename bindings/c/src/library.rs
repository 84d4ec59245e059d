//! The library itself: its version, the texts of the return codes, the thread's last error,
//! and `ls_close` for every kind of handle.

use std::ffi::c_char;

use crate::boundary::{self, call, out_bytes, with_last, write_text, Out, ERROR_TEXTS};
use crate::handles::remove;
use crate::{LS_ERR_INTERNAL, LS_ERR_INVALID_ARGUMENT, LS_OK};

// ---------------------------------------------------------------------------------------------
// Library
// ---------------------------------------------------------------------------------------------

/// The library version as a static NUL-terminated string, e.g. "0.1.0". Never NULL.
#[no_mangle]
pub extern "C" fn ls_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// A fixed English description of return code `code` (static, never NULL; "unknown error code"
/// for a number that is no `LS_ERR_*`).
#[no_mangle]
pub extern "C" fn ls_strerror(code: i32) -> *const c_char {
    static_text(code, |t| &t.descriptions, c"unknown error code")
}

/// The name of return code `code` without the `LS_ERR_` prefix, e.g. "TIMEOUT" for -1, "OK" for
/// 0 (static, never NULL; "UNKNOWN" for a number that is no `LS_ERR_*`). For bindings that cannot
/// see the header's macros.
#[no_mangle]
pub extern "C" fn ls_error_name(code: i32) -> *const c_char {
    static_text(code, |t| &t.names, c"UNKNOWN")
}

fn static_text(
    code: i32,
    pick: impl Fn(&boundary::ErrorTexts) -> &Vec<std::ffi::CString>,
    unknown: &'static std::ffi::CStr,
) -> *const c_char {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        if code > 0 {
            return unknown.as_ptr();
        }
        let i = (-(code as i64)) as usize;
        pick(&ERROR_TEXTS)
            .get(i)
            .map_or(unknown.as_ptr(), |c| c.as_ptr())
    }))
    .unwrap_or(unknown.as_ptr())
}

/// Copy the calling thread's last error message (UTF-8, NUL-terminated) into `buf`; `*out_len`
/// receives its length without the NUL. The message is core's, the same text in every language
/// door; it names the operation and the address, e.g. "connect to 127.0.0.1:9: connection
/// refused (os error 111)".
/// It is the message of the last call on this thread that failed (empty if none did); reading it
/// does not change it. Returns `LS_ERR_BUFFER_TOO_SMALL` with the needed size (NUL included) in
/// `*out_len` when `cap` is too small (`buf` NULL and `cap` 0 ask for the size).
#[no_mangle]
pub unsafe extern "C" fn ls_last_error_message(
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> i32 {
    // Not through `call`: a failure here must not replace the message being read.
    std::panic::catch_unwind(|| -> i32 {
        let Ok(out_len) = Out::new(out_len, "out_len") else {
            return LS_ERR_INVALID_ARGUMENT;
        };
        // SAFETY: the caller promises `cap` writable bytes at `buf`.
        let Ok(buf) = (unsafe { out_bytes(buf.cast(), cap, 0, "buf") }) else {
            return LS_ERR_INVALID_ARGUMENT;
        };
        with_last(|l| {
            let text = l.msg.to_str().unwrap_or("");
            match write_text(text, buf, &out_len) {
                Ok(()) => LS_OK,
                Err(e) => e.code(),
            }
        })
    })
    .unwrap_or(LS_ERR_INTERNAL)
}

/// The calling thread's last error message as a NUL-terminated UTF-8 string owned by libsock,
/// valid until the next `ls_*` call on this thread (copy it if you need it longer). Never NULL;
/// "" if no call failed on this thread.
#[no_mangle]
pub extern "C" fn ls_last_error() -> *const c_char {
    std::panic::catch_unwind(|| with_last(|l| l.msg.as_ptr())).unwrap_or(c"".as_ptr())
}

/// The return code of the last call on this thread that failed (0 if none did).
#[no_mangle]
pub extern "C" fn ls_last_error_code() -> i32 {
    std::panic::catch_unwind(|| with_last(|l| l.code)).unwrap_or(LS_ERR_INTERNAL)
}

/// The OS error number (errno) behind the last failed call on this thread, or 0 when that failure
/// did not come from the OS.
#[no_mangle]
pub extern "C" fn ls_last_os_error() -> i32 {
    std::panic::catch_unwind(|| with_last(|l| l.os)).unwrap_or(0)
}

/// Close any handle: a connection, listener, datagram socket, options object, TLS config, engine config,
/// server, client, datagram server or file transfer (a transfer running in another thread stops
/// at its next step with `LS_ERR_INTERRUPTED`). The handle is invalid afterwards (`LS_ERR_BAD_HANDLE`), and
/// never reused. A call blocked on it in another thread (`ls_recv`, `ls_next_event` ...) returns
/// `LS_ERR_CLOSED` promptly. An engine object stops at once (connections are cut, queued
/// messages dropped: call `ls_server_shutdown` / `ls_client_close` first for a graceful stop). Closing handle 0 does nothing and returns `LS_OK`;
/// closing a handle twice returns `LS_ERR_BAD_HANDLE` the second time (and does no harm).
#[no_mangle]
pub extern "C" fn ls_close(handle: i64) -> i32 {
    call("ls_close", || {
        if handle == 0 {
            return Ok(());
        }
        remove(handle)
    })
}
