//! The readiness file descriptor behind `notify_fd`: an eventfd on Linux, a pipe elsewhere.
//! Set and reset only under the event queue's lock, so its state follows the queue's.

use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::{Error, Result};

pub(crate) struct NotifyFd {
    /// The fd handed out (eventfd, or the pipe's read end).
    read: i32,
    /// The fd written to (the same eventfd, or the pipe's write end).
    write: i32,
    set: AtomicBool,
}

impl NotifyFd {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    pub(crate) fn new() -> Result<NotifyFd> {
        // SAFETY: plain syscall; the fd is owned by the returned value.
        let fd = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
        if fd < 0 {
            return Err(Error::os("eventfd", std::io::Error::last_os_error()));
        }
        Ok(NotifyFd {
            read: fd,
            write: fd,
            set: AtomicBool::new(false),
        })
    }

    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    pub(crate) fn new() -> Result<NotifyFd> {
        let mut fds = [0i32; 2];
        // SAFETY: fds is a valid array of two ints.
        if unsafe { libc::pipe(fds.as_mut_ptr()) } != 0 {
            return Err(Error::os("pipe", std::io::Error::last_os_error()));
        }
        for fd in fds {
            // SAFETY: fds just created.
            unsafe {
                let fl = libc::fcntl(fd, libc::F_GETFL);
                libc::fcntl(fd, libc::F_SETFL, fl | libc::O_NONBLOCK);
                libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC);
            }
        }
        Ok(NotifyFd {
            read: fds[0],
            write: fds[1],
            set: AtomicBool::new(false),
        })
    }

    pub(crate) fn fd(&self) -> i32 {
        self.read
    }

    /// Make the fd readable (idempotent).
    pub(crate) fn set(&self) {
        if self.set.swap(true, Ordering::AcqRel) {
            return;
        }
        let one = 1u64.to_ne_bytes();
        // SAFETY: writing 8 bytes from a valid buffer to our own fd.
        let _ = unsafe { libc::write(self.write, one.as_ptr().cast(), one.len()) };
    }

    /// Make the fd not readable (idempotent).
    pub(crate) fn reset(&self) {
        if !self.set.swap(false, Ordering::AcqRel) {
            return;
        }
        let mut buf = [0u8; 64];
        loop {
            // SAFETY: reading into a valid buffer from our own non-blocking fd.
            let n = unsafe { libc::read(self.read, buf.as_mut_ptr().cast(), buf.len()) };
            if n <= 0 || self.read == self.write {
                break;
            }
        }
    }
}

impl Drop for NotifyFd {
    fn drop(&mut self) {
        // SAFETY: we own these fds.
        unsafe {
            libc::close(self.read);
            if self.write != self.read {
                libc::close(self.write);
            }
        }
    }
}
