//! Unix stream extras: passing file descriptors (SCM_RIGHTS) and the peer's credentials
//! (SO_PEERCRED), core's `Connection::send_fds`, `recv_fds` and `peer_credentials`.

use std::os::fd::{BorrowedFd, IntoRawFd};

use libsock::Error;

use crate::boundary::{bad_arg, call, check_len, in_bytes, out_bytes, timeout_arg, Out};
use crate::handles::{as_conn, conn};

/// The most descriptors one message carries (Linux's `SCM_MAX_FD`): the limit of `nfds` in
/// `ls_send_fds` and of `max_fds` in `ls_recv_fds`.
pub const LS_MAX_FDS: i32 = 253;

/// Send all `len` bytes of `buf` on Unix connection `handle` with the `nfds` descriptors of
/// `fds` attached to the first byte (SCM_RIGHTS); the handle's default timeout applies to each
/// wait. The peer receives duplicates (`ls_recv_fds`), which it then owns; ours stay open.
/// `len` must be at least 1 when `nfds` is not 0 (a stream socket carries descriptors only with
/// bytes); at most `LS_MAX_FDS` descriptors (`LS_ERR_INVALID_ARGUMENT`; a negative number too); a number
/// that is no open descriptor is the kernel's EBADF (`LS_ERR_IO`). `LS_ERR_UNSUPPORTED` on a TCP
/// or TLS connection. `fds` may be NULL when `nfds` is 0.
#[no_mangle]
pub unsafe extern "C" fn ls_send_fds(
    handle: i64,
    buf: *const u8,
    len: usize,
    fds: *const i32,
    nfds: usize,
) -> i32 {
    call("ls_send_fds", || {
        // SAFETY: the caller promises `len` readable bytes.
        let data = unsafe { in_bytes(buf, len, "buf") }?;
        let nfds = check_len(nfds, "nfds")?;
        let raw: &[i32] = if nfds == 0 {
            &[]
        } else if fds.is_null() {
            return Err(bad_arg("fds is NULL"));
        } else {
            // SAFETY: non-null, and the caller promises `nfds` readable ints.
            unsafe { std::slice::from_raw_parts(fds, nfds) }
        };
        if let Some(bad) = raw.iter().find(|&&fd| fd < 0) {
            return Err(bad_arg(format!("fds: {bad} is not a file descriptor")));
        }
        let o = conn(handle)?;
        // SAFETY: the numbers are not negative; the caller keeps its descriptors open during the
        // call (a closed one makes sendmsg fail with EBADF, nothing worse).
        let borrowed: Vec<BorrowedFd<'_>> = raw
            .iter()
            .map(|&fd| unsafe { BorrowedFd::borrow_raw(fd) })
            .collect();
        as_conn(&o).send_fds(data, &borrowed)
    })
}

/// Receive up to `cap` bytes (`cap` > 0) into `buf` and up to `max_fds` descriptors sent with
/// them into `fds` (which may be NULL when `max_fds` is 0) on Unix connection `handle`;
/// `*out_len` receives the byte count (0 at the end of the stream) and `*out_nfds` the number of
/// descriptors written to `fds`. The descriptors are the caller's to close (close-on-exec is
/// set). `timeout_ms`: -2 the handle's default, -1 forever, 0 poll, N milliseconds.
/// Descriptors travel with the bytes they were sent with: bytes that an earlier receive left
/// buffered come first, without descriptors. More descriptors than `max_fds` fail with
/// `LS_ERR_IO` (the kernel closed the extra ones and libsock the others: none leak; the bytes
/// stay buffered for the next receive). `max_fds` above `LS_MAX_FDS` is `LS_ERR_INVALID_ARGUMENT`;
/// `LS_ERR_UNSUPPORTED` on a TCP or TLS connection.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn ls_recv_fds(
    handle: i64,
    timeout_ms: i32,
    buf: *mut u8,
    cap: usize,
    out_len: *mut usize,
    fds: *mut i32,
    max_fds: usize,
    out_nfds: *mut usize,
) -> i32 {
    call("ls_recv_fds", || {
        // SAFETY: the caller promises `cap` writable bytes.
        let data = unsafe { out_bytes(buf, cap, 1, "buf") }?;
        let out = Out::new(out_len, "out_len")?;
        let out_n = Out::new(out_nfds, "out_nfds")?;
        let max_fds = check_len(max_fds, "max_fds")?;
        if max_fds > libsock::MAX_FDS {
            // Refused before `fds` is taken as a slice of that many (core says the same).
            return Err(bad_arg(format!(
                "max_fds {max_fds}: at most {} descriptors travel in one message",
                libsock::MAX_FDS
            )));
        }
        let slots: &mut [i32] = if max_fds == 0 {
            &mut []
        } else if fds.is_null() {
            return Err(bad_arg("fds is NULL"));
        } else {
            // SAFETY: non-null, and the caller promises `max_fds` writable ints.
            unsafe { std::slice::from_raw_parts_mut(fds, max_fds) }
        };
        let t = timeout_arg(timeout_ms)?;
        let o = conn(handle)?;
        let (n, got) = as_conn(&o).with_timeout(t).recv_fds(data, max_fds)?;
        if got.len() > slots.len() {
            // Core never returns more than asked; closing them (the drop) keeps that a bug
            // report rather than a leak.
            return Err(Error::Internal(format!(
                "{} descriptors arrived for {} slots",
                got.len(),
                slots.len()
            )));
        }
        let count = got.len();
        for (slot, fd) in slots.iter_mut().zip(got) {
            *slot = fd.into_raw_fd();
        }
        out.set(n);
        out_n.set(count);
        Ok(())
    })
}

/// The process at the other end of Unix connection `handle` as the kernel recorded it when the
/// connection was made (SO_PEERCRED; Linux): `*out_pid`, `*out_uid`, `*out_gid` (the ids as
/// `uint64_t`: the loadlibrary and FFI doors take no 32-bit unsigned type).
/// `LS_ERR_UNSUPPORTED` on a TCP connection.
#[no_mangle]
pub unsafe extern "C" fn ls_peer_credentials(
    handle: i64,
    out_pid: *mut i32,
    out_uid: *mut u64,
    out_gid: *mut u64,
) -> i32 {
    call("ls_peer_credentials", || {
        let pid = Out::new(out_pid, "out_pid")?;
        let uid = Out::new(out_uid, "out_uid")?;
        let gid = Out::new(out_gid, "out_gid")?;
        let o = conn(handle)?;
        let c = as_conn(&o).peer_credentials()?;
        pid.set(c.pid);
        uid.set(u64::from(c.uid));
        gid.set(u64::from(c.gid));
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_fds_is_cores() {
        assert_eq!(LS_MAX_FDS as usize, libsock::MAX_FDS);
    }
}
