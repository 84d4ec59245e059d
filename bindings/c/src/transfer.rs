//! File transfer: core's `libsock::transfer::FileTransfer` behind a handle (a file with its
//! name, size and SHA-256, resumable; the protocol of `libsock send-file` / `recv-file`). The
//! caller makes the connection; `ls_transfer_run` or `ls_transfer_step` move the transfer over
//! it, `ls_transfer_progress` and `ls_transfer_cancel` work from any thread.

use std::ffi::c_char;

use libsock::transfer::{FileTransfer, RecvOptions, SendOptions, TransferInfo};
use libsock::Error;

use crate::boundary::{call, flag_arg, in_str, out_bytes, write_text, Out};
use crate::handles::{as_conn, as_transfer, conn, insert, transfer, Obj};

/// Transfer state (`ls_transfer_step`, `ls_transfer_progress`): nothing exchanged yet, or the
/// header and the resume offer in progress.
pub const LS_TRANSFER_STARTING: i32 = 1;
/// Transfer state: file bytes are moving.
pub const LS_TRANSFER_TRANSFERRING: i32 = 2;
/// Transfer state: every byte moved; the SHA-256 and the verdict are being exchanged.
pub const LS_TRANSFER_VERIFYING: i32 = 3;
/// Transfer state: complete (the receiver verified the SHA-256 and renamed the file into place).
pub const LS_TRANSFER_DONE: i32 = 4;
/// Transfer state: ended by an error (returned by the step that failed).
pub const LS_TRANSFER_FAILED: i32 = 5;

/// A file transfer that sends the file at `path` (opened now: a missing or unreadable file fails
/// here, before anything is sent). `name` is the name the receiver is told (NULL or "": the
/// file's own name, without its directory). `resume` 1 (the usual) speaks version 2 of the
/// protocol, which lets a receiver resume; 0 speaks version 1, for old receivers.
/// `*out_handle` receives the transfer; move it with `ls_transfer_run` or `ls_transfer_step`
/// over a connection, free it with `ls_close`. A path that is not UTF-8 is
/// `LS_ERR_INVALID_ARGUMENT`; a directory too.
#[no_mangle]
pub unsafe extern "C" fn ls_transfer_sender(
    path: *const c_char,
    name: *const c_char,
    resume: i32,
    out_handle: *mut i64,
) -> i32 {
    call("ls_transfer_sender", || {
        let out = Out::new(out_handle, "out_handle")?;
        // SAFETY: the caller promises a NUL-terminated string.
        let path = unsafe { in_str(path, "path") }?;
        let mut opts = SendOptions::new().resume(flag_arg(resume, "resume")?);
        if !name.is_null() {
            // SAFETY: non-null, and the caller promises a NUL-terminated string.
            let name = unsafe { in_str(name, "name") }?;
            if !name.is_empty() {
                opts = opts.name(name);
            }
        }
        let t = FileTransfer::sender(path, &opts)?;
        out.set(insert(Obj::Transfer(t))?);
        Ok(())
    })
}

/// A file transfer that receives one file into `dest`: the file to write, or a directory to write
/// into under the sender's name (made safe: no directory part). The bytes go into
/// `NAME.libsock-part` beside the final name, renamed only when the SHA-256 matches. `overwrite`
/// 1 replaces an existing file of the final name (0: an existing `dest` fails here with
/// `LS_ERR_IO` and errno EEXIST; an existing file of the sender's name in a directory fails
/// after the header). `resume` 1 offers the partial file an interrupted transfer left to the
/// sender, who sends only the rest when its first bytes are the same. Free it with `ls_close`.
#[no_mangle]
pub unsafe extern "C" fn ls_transfer_receiver(
    dest: *const c_char,
    overwrite: i32,
    resume: i32,
    out_handle: *mut i64,
) -> i32 {
    call("ls_transfer_receiver", || {
        let out = Out::new(out_handle, "out_handle")?;
        // SAFETY: the caller promises a NUL-terminated string.
        let dest = unsafe { in_str(dest, "dest") }?;
        let opts = RecvOptions::new()
            .overwrite(flag_arg(overwrite, "overwrite")?)
            .resume(flag_arg(resume, "resume")?);
        let t = FileTransfer::receiver(dest, &opts)?;
        out.set(insert(Obj::Transfer(t))?);
        Ok(())
    })
}

/// Move transfer `transfer_handle` one piece forward over connection `conn_handle` (the
/// handshake, at most 1 MiB of the file, or the checksum exchange); `*out_state` receives the
/// `LS_TRANSFER_*` state afterwards. Each wait is bounded by the connection's default timeout
/// (`ls_set_timeout`). After `LS_TRANSFER_DONE` a step does nothing; after a failure it is
/// `LS_ERR_INVALID_ARGUMENT` naming the first one. Errors: a checksum that differs or a peer
/// that does not speak the protocol `LS_ERR_BAD_FRAME`; a file that exists `LS_ERR_IO` (errno
/// EEXIST); a peer that closes in the middle `LS_ERR_CLOSED` (the receiver keeps the partial
/// file); `ls_transfer_cancel` `LS_ERR_INTERRUPTED`.
#[no_mangle]
pub unsafe extern "C" fn ls_transfer_step(
    transfer_handle: i64,
    conn_handle: i64,
    out_state: *mut i32,
) -> i32 {
    call("ls_transfer_step", || {
        let out = Out::new(out_state, "out_state")?;
        let t = transfer(transfer_handle)?;
        let c = conn(conn_handle)?;
        let state = as_transfer(&t).step(as_conn(&c))?;
        out.set(state.code());
        Ok(())
    })
}

/// Run transfer `transfer_handle` to its end over connection `conn_handle` (the same as
/// `ls_transfer_step` until `LS_TRANSFER_DONE`, with the same errors). `ls_transfer_progress`
/// and `ls_transfer_cancel` work meanwhile from other threads.
#[no_mangle]
pub extern "C" fn ls_transfer_run(transfer_handle: i64, conn_handle: i64) -> i32 {
    call("ls_transfer_run", || {
        let t = transfer(transfer_handle)?;
        let c = conn(conn_handle)?;
        as_transfer(&t).run(as_conn(&c))?;
        Ok(())
    })
}

/// The progress of transfer `transfer_handle`, from any thread without waiting for a step:
/// `*out_done` bytes of the file sent or written so far (counting from the start of the file: a
/// resumed transfer starts at its offset), `*out_total` the file's size (0 on a receiver until
/// the header arrived), `*out_state` the `LS_TRANSFER_*` state.
#[no_mangle]
pub unsafe extern "C" fn ls_transfer_progress(
    transfer_handle: i64,
    out_done: *mut u64,
    out_total: *mut u64,
    out_state: *mut i32,
) -> i32 {
    call("ls_transfer_progress", || {
        let done = Out::new(out_done, "out_done")?;
        let total = Out::new(out_total, "out_total")?;
        let state = Out::new(out_state, "out_state")?;
        let t = transfer(transfer_handle)?;
        let p = as_transfer(&t).progress();
        done.set(p.done);
        total.set(p.total);
        state.set(p.state.code());
        Ok(())
    })
}

/// Stop transfer `transfer_handle` at the start of its next step, from any thread: that step
/// (or the running `ls_transfer_run`) fails with `LS_ERR_INTERRUPTED`. A step blocked in a wait
/// finishes first (within the connection's timeout); closing the connection ends that wait at
/// once. A receiver keeps the partial file, for a later resume. `ls_close` on the transfer
/// cancels it too.
#[no_mangle]
pub extern "C" fn ls_transfer_cancel(transfer_handle: i64) -> i32 {
    call("ls_transfer_cancel", || {
        let t = transfer(transfer_handle)?;
        as_transfer(&t).cancel();
        Ok(())
    })
}

/// What is known about transfer `transfer_handle` once its header is through: `*out_size` the
/// file's size, `*out_version` the protocol version spoken (1 or 2; 0 before the header),
/// `*out_offered` the bytes the receiver offered to resume from (0: none), `*out_resumed_at`
/// where the bytes started (the offer when the sender accepted it, else 0). The texts are
/// `ls_transfer_name`, `ls_transfer_path` and `ls_transfer_sha256`.
#[no_mangle]
pub unsafe extern "C" fn ls_transfer_info(
    transfer_handle: i64,
    out_size: *mut u64,
    out_version: *mut i32,
    out_offered: *mut u64,
    out_resumed_at: *mut u64,
) -> i32 {
    call("ls_transfer_info", || {
        let size = Out::new(out_size, "out_size")?;
        let version = Out::new(out_version, "out_version")?;
        let offered = Out::new(out_offered, "out_offered")?;
        let resumed_at = Out::new(out_resumed_at, "out_resumed_at")?;
        let t = transfer(transfer_handle)?;
        let i = as_transfer(&t).info();
        size.set(i.size);
        version.set(i32::from(i.version));
        offered.set(i.offered);
        resumed_at.set(i.resumed_at);
        Ok(())
    })
}

unsafe fn info_text(
    transfer_handle: i64,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
    pick: impl FnOnce(TransferInfo) -> String,
) -> Result<(), Error> {
    // SAFETY: the caller promises `cap` writable bytes.
    let buf = unsafe { out_bytes(buf.cast(), cap, 0, "buf") }?;
    let out = Out::new(out_len, "out_len")?;
    let t = transfer(transfer_handle)?;
    write_text(&pick(as_transfer(&t).info()), buf, &out)
}

/// The file's name as the sender announces it (a receiver: its safe version of the sender's
/// name, known after the header; "" before), as text (as `ls_local_address` writes text:
/// `LS_ERR_BUFFER_TOO_SMALL` with the needed size in `*out_len`).
#[no_mangle]
pub unsafe extern "C" fn ls_transfer_name(
    transfer_handle: i64,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> i32 {
    call("ls_transfer_name", || unsafe {
        // SAFETY: forwarded with the same promises.
        info_text(transfer_handle, buf, cap, out_len, |i| i.name)
    })
}

/// The sender's file, or the receiver's final path (known after the header; "" before), as
/// text.
#[no_mangle]
pub unsafe extern "C" fn ls_transfer_path(
    transfer_handle: i64,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> i32 {
    call("ls_transfer_path", || unsafe {
        // SAFETY: forwarded with the same promises.
        info_text(transfer_handle, buf, cap, out_len, |i| {
            i.path.to_string_lossy().into_owned()
        })
    })
}

/// The SHA-256 of the whole file in lower-case hex (64 characters; "" until verified), as text.
#[no_mangle]
pub unsafe extern "C" fn ls_transfer_sha256(
    transfer_handle: i64,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> i32 {
    call("ls_transfer_sha256", || unsafe {
        // SAFETY: forwarded with the same promises.
        info_text(transfer_handle, buf, cap, out_len, |i| i.sha256)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use libsock::transfer::TransferState;

    #[test]
    fn state_macros_match_core_codes() {
        let macros = [
            LS_TRANSFER_STARTING,
            LS_TRANSFER_TRANSFERRING,
            LS_TRANSFER_VERIFYING,
            LS_TRANSFER_DONE,
            LS_TRANSFER_FAILED,
        ];
        assert_eq!(macros.len(), TransferState::ALL.len());
        for (m, s) in macros.iter().zip(TransferState::ALL) {
            assert_eq!(*m, s.code(), "{s:?}");
        }
    }
}
