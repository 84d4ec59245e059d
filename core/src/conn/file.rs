//! Files over a [`Connection`]: sendfile(2) out, exact-length receive into a file.

use super::*;

impl Timed<'_> {
    /// Like [`Connection::send_file`].
    pub fn send_file(&self, path: impl AsRef<Path>, offset: u64, len: Option<u64>) -> Result<u64> {
        let path = path.as_ref();
        let file =
            File::open(path).map_err(|e| Error::os(format!("open {}", path.display()), e))?;
        let size = file
            .metadata()
            .map_err(|e| Error::os(format!("stat {}", path.display()), e))?
            .len();
        if offset > size {
            return Err(Error::invalid(format!(
                "offset {offset} is past the end of {} ({size} bytes)",
                path.display()
            )));
        }
        let len = len.unwrap_or(size - offset);
        if offset.checked_add(len).is_none_or(|end| end > size) {
            return Err(Error::invalid(format!(
                "{len} bytes from offset {offset} run past the end of {} ({size} bytes)",
                path.display()
            )));
        }
        let s = self.c.sock("send file to")?;
        let _tx = lock(&self.c.tx);
        if self.c.tls.is_some() {
            // Through the TLS session: read, encrypt, send.
            return self.send_file_copy(&s, &file, offset, len);
        }
        self.send_file_impl(&s, &file, offset, len)
    }

    #[cfg(any(target_os = "linux", target_os = "android"))]
    fn send_file_impl(&self, s: &Socket, file: &File, offset: u64, len: u64) -> Result<u64> {
        use std::os::fd::AsRawFd;
        let op = || self.c.op("send file to");
        let mut off = offset as libc::off_t;
        let mut sent = 0u64;
        let mut deadline = self.deadline();
        let _guard = SigpipeGuard::block();
        while sent < len {
            let chunk = (len - sent).min(1 << 30) as usize;
            let n = self.c.h.call(s, Ready::Write, &deadline, &op, |fl| {
                // sendfile takes no flags: a call that must not wait checks readiness first.
                if fl != 0 && !ready_now(s.as_raw_fd(), Ready::Write) {
                    return Err(std::io::ErrorKind::WouldBlock.into());
                }
                // SAFETY: both descriptors are open; `off` is a valid pointer.
                let n = unsafe { libc::sendfile(s.as_raw_fd(), file.as_raw_fd(), &mut off, chunk) };
                if n < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(n as usize)
            })?;
            if n == 0 {
                return Err(Error::invalid(format!(
                    "file ended after {sent} of {len} bytes"
                )));
            }
            sent += n as u64;
            Counters::add(&self.c.counters.bytes_out, n);
            // The timeout applies to each wait for progress.
            deadline = self.deadline();
        }
        Ok(sent)
    }

    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    fn send_file_impl(&self, s: &Socket, file: &File, offset: u64, len: u64) -> Result<u64> {
        self.send_file_copy(s, file, offset, len)
    }

    /// Send a file by reading it into a buffer and sending that (where sendfile(2) is missing,
    /// or through TLS).
    fn send_file_copy(&self, s: &Socket, file: &File, offset: u64, len: u64) -> Result<u64> {
        use std::io::{Read, Seek, SeekFrom};
        let mut f = file;
        f.seek(SeekFrom::Start(offset))
            .map_err(|e| Error::os("seek", e))?;
        let mut buf = vec![0u8; 256 * 1024];
        let mut sent = 0u64;
        while sent < len {
            let want = (len - sent).min(buf.len() as u64) as usize;
            let n = f
                .read(&mut buf[..want])
                .map_err(|e| Error::os("read file", e))?;
            if n == 0 {
                return Err(Error::invalid(format!(
                    "file ended after {sent} of {len} bytes"
                )));
            }
            let mut off = 0;
            let deadline = self.deadline();
            while off < n {
                if off > 0 {
                    self.c.h.check_interrupt(&|| self.c.op("send file to"))?;
                }
                off += self.send_some(s, &buf[off..n], &deadline)?;
            }
            sent += n as u64;
        }
        self.sock_flush(s, &self.deadline(), &|| self.c.op("send file to"))?;
        Ok(sent)
    }

    /// Like [`Connection::recv_file`].
    pub fn recv_file(&self, path: impl AsRef<Path>, len: u64) -> Result<u64> {
        let path = path.as_ref();
        let s = self.c.sock("recv file from")?;
        let mut rx = lock(&self.c.rx);
        let mut file =
            File::create(path).map_err(|e| Error::os(format!("create {}", path.display()), e))?;
        let write = |file: &mut File, data: &[u8]| {
            file.write_all(data)
                .map_err(|e| Error::os(format!("write {}", path.display()), e))
        };
        let mut got = 0u64;
        if let Some(p) = rx.pending.take() {
            let n = (p.len() as u64).min(len) as usize;
            write(&mut file, &p[..n])?;
            got += n as u64;
            if n < p.len() {
                rx.pending = Some(p.slice(n..));
            }
        }
        rx.decoder.reset();
        while got < len {
            if rx.buf.is_empty() {
                let deadline = self.deadline();
                let want = (len - got).min(1 << 20) as usize;
                if self.fill(&s, &mut rx, want, &deadline, "recv file from")? == 0 {
                    return Err(Error::closed(format!(
                        "{} ({got} of {len} bytes arrived before the peer closed)",
                        self.c.op("recv file from")
                    )));
                }
            }
            let n = (rx.buf.len() as u64).min(len - got) as usize;
            write(&mut file, &rx.buf[..n])?;
            let _ = rx.buf.split_to(n);
            got += n as u64;
        }
        file.flush()
            .map_err(|e| Error::os(format!("flush {}", path.display()), e))?;
        Ok(got)
    }
}

/// Blocks SIGPIPE in this thread while alive (sendfile cannot take MSG_NOSIGNAL); a SIGPIPE
/// raised meanwhile is consumed before the mask is restored, so the process never dies of it.
#[cfg(any(target_os = "linux", target_os = "android"))]
struct SigpipeGuard {
    old: libc::sigset_t,
    was_blocked: bool,
}

#[cfg(any(target_os = "linux", target_os = "android"))]
impl SigpipeGuard {
    fn block() -> SigpipeGuard {
        // SAFETY: plain signal-mask manipulation on stack values.
        unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, libc::SIGPIPE);
            let mut old: libc::sigset_t = std::mem::zeroed();
            libc::pthread_sigmask(libc::SIG_BLOCK, &set, &mut old);
            let was_blocked = libc::sigismember(&old, libc::SIGPIPE) == 1;
            SigpipeGuard { old, was_blocked }
        }
    }
}

#[cfg(any(target_os = "linux", target_os = "android"))]
impl Drop for SigpipeGuard {
    fn drop(&mut self) {
        // SAFETY: as above; sigtimedwait with a zero timeout only consumes a pending SIGPIPE.
        unsafe {
            if !self.was_blocked {
                let mut set: libc::sigset_t = std::mem::zeroed();
                libc::sigemptyset(&mut set);
                libc::sigaddset(&mut set, libc::SIGPIPE);
                let zero = libc::timespec {
                    tv_sec: 0,
                    tv_nsec: 0,
                };
                let mut pending: libc::sigset_t = std::mem::zeroed();
                libc::sigpending(&mut pending);
                if libc::sigismember(&pending, libc::SIGPIPE) == 1 {
                    libc::sigtimedwait(&set, std::ptr::null_mut(), &zero);
                }
            }
            libc::pthread_sigmask(libc::SIG_SETMASK, &self.old, std::ptr::null_mut());
        }
    }
}
