//! Unix stream extras of a [`Connection`]: passing file descriptors (SCM_RIGHTS) and the peer's
//! credentials (SO_PEERCRED).

use super::*;

use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

/// The most descriptors one message carries (Linux's `SCM_MAX_FD`).
pub const MAX_FDS: usize = 253;

/// The process at the other end of a Unix connection, as the kernel recorded it when the
/// connection was made (SO_PEERCRED): not what the peer claims.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PeerCredentials {
    /// The peer's process id.
    pub pid: i32,
    /// The peer's user id.
    pub uid: u32,
    /// The peer's group id.
    pub gid: u32,
}

impl Connection {
    /// Only on a plain Unix stream connection; `what` names the operation for the error.
    fn unix_only(&self, what: &str) -> Result<()> {
        if !self.unix {
            return Err(Error::Unsupported(format!(
                "{what}: {} is not a Unix socket connection (only Unix sockets carry \
                 descriptors and credentials)",
                self.peer
            )));
        }
        if self.tls.is_some() && what != "peer credentials" {
            return Err(Error::Unsupported(format!(
                "{what}: descriptors cannot travel inside TLS ({})",
                self.peer
            )));
        }
        Ok(())
    }

    /// Send all of `data` with the descriptors `fds` attached to its first byte (SCM_RIGHTS;
    /// Unix stream connections only). The peer receives duplicates of the descriptors, which it
    /// then owns; ours stay open. `data` must not be empty when `fds` is not (a stream socket
    /// carries descriptors only with bytes); at most [`MAX_FDS`] descriptors.
    /// `Unsupported` on a TCP or TLS connection.
    pub fn send_fds(&self, data: &[u8], fds: &[BorrowedFd<'_>]) -> Result<()> {
        self.d().send_fds(data, fds)
    }

    /// Receive up to `buf.len()` bytes and the descriptors that came with them (at most
    /// `max_fds`, which may be 0 to accept none); returns the bytes received (0 at the end of
    /// the stream) and the descriptors, owned by the caller and close-on-exec.
    ///
    /// Descriptors travel with the bytes they were sent with: bytes already read by another
    /// receive call (buffered here) come back first, without descriptors, and descriptors
    /// sent with bytes that a plain `recv` read were closed by the kernel. When more
    /// descriptors arrive than `max_fds`, the kernel closes the rest and this returns an
    /// `Io` error saying so; the descriptors that fit are closed too (none leak) and the bytes
    /// stay buffered for the next receive. `Unsupported` on a TCP or TLS connection.
    pub fn recv_fds(&self, buf: &mut [u8], max_fds: usize) -> Result<(usize, Vec<OwnedFd>)> {
        self.d().recv_fds(buf, max_fds)
    }

    /// The peer's process id, user id and group id (SO_PEERCRED; Linux and Android).
    /// `Unsupported` on a TCP connection or another OS.
    pub fn peer_credentials(&self) -> Result<PeerCredentials> {
        self.unix_only("peer credentials")?;
        let s = self.sock("peer credentials of")?;
        peer_cred(s.as_raw_fd()).map_err(|e| Error::os(self.op("peer credentials of"), e))
    }
}

impl Timed<'_> {
    /// Like [`Connection::send_fds`].
    pub fn send_fds(&self, data: &[u8], fds: &[BorrowedFd<'_>]) -> Result<()> {
        self.c.unix_only("send descriptors")?;
        if fds.len() > MAX_FDS {
            return Err(Error::invalid(format!(
                "{} descriptors: at most {MAX_FDS} travel in one message",
                fds.len()
            )));
        }
        if data.is_empty() && !fds.is_empty() {
            return Err(Error::invalid(
                "descriptors need at least one byte of data to travel with on a stream socket",
            ));
        }
        let raw: Vec<RawFd> = fds.iter().map(|f| f.as_raw_fd()).collect();
        let s = self.c.sock("send descriptors to")?;
        let _tx = lock(&self.c.tx);
        let deadline = self.deadline();
        let op = || self.c.op("send descriptors to");
        let fd = s.as_raw_fd();
        let mut off = self.c.h.call_send(&s, &deadline, &op, |fl| {
            send_with_fds(fd, data, &raw, SEND_FLAGS | fl)
        })?;
        // The descriptors went with the first part; the rest is plain bytes.
        while off < data.len() {
            self.c.h.check_interrupt(&op)?;
            off += self.c.h.call_send(&s, &deadline, &op, |fl| {
                s.send_with_flags(&data[off..], SEND_FLAGS | fl)
            })?;
        }
        Counters::add(&self.c.counters.bytes_out, data.len());
        Ok(())
    }

    /// Like [`Connection::recv_fds`].
    pub fn recv_fds(&self, buf: &mut [u8], max_fds: usize) -> Result<(usize, Vec<OwnedFd>)> {
        self.c.unix_only("recv descriptors")?;
        if max_fds > MAX_FDS {
            return Err(Error::invalid(format!(
                "max_fds {max_fds}: at most {MAX_FDS} descriptors travel in one message"
            )));
        }
        let s = self.c.sock("recv descriptors from")?;
        let mut rx = lock(&self.c.rx);
        if let Some(p) = rx.pending.take() {
            let n = p.len().min(buf.len());
            buf[..n].copy_from_slice(&p[..n]);
            if n < p.len() {
                rx.pending = Some(p.slice(n..));
            }
            return Ok((n, Vec::new()));
        }
        if !rx.buf.is_empty() {
            let n = rx.buf.len().min(buf.len());
            buf[..n].copy_from_slice(&rx.buf[..n]);
            let _ = rx.buf.split_to(n);
            rx.decoder.reset();
            return Ok((n, Vec::new()));
        }
        if buf.is_empty() {
            return Err(Error::invalid(
                "recv descriptors into an empty buffer: descriptors arrive only with bytes",
            ));
        }
        let deadline = self.deadline();
        let op = || self.c.op("recv descriptors from");
        let fd = s.as_raw_fd();
        let (n, fds, truncated) = self.c.h.call(&s, Ready::Read, &deadline, &op, |fl| {
            recv_with_fds(fd, buf, max_fds, fl)
        })?;
        if truncated {
            // Keep the bytes for the next receive; the descriptors that fit close here.
            rx.buf.extend_from_slice(&buf[..n]);
            drop(fds);
            return Err(Error::Os {
                kind: crate::ErrorKind::Io,
                op: op(),
                source: std::io::Error::other(format!(
                    "more descriptors arrived than max_fds ({max_fds}): the kernel closed the \
                     rest (MSG_CTRUNC), the ones that fit were closed too; the {n} bytes stay \
                     buffered"
                )),
            });
        }
        Counters::add(&self.c.counters.bytes_in, n);
        Ok((n, fds))
    }
}

/// Room for `n` descriptors in a control buffer (bytes), as `u64`s for alignment.
fn control_buf(n: usize) -> (Vec<u64>, usize) {
    if n == 0 {
        return (Vec::new(), 0);
    }
    // SAFETY: CMSG_SPACE only computes a size.
    let space = unsafe { libc::CMSG_SPACE((n * std::mem::size_of::<libc::c_int>()) as u32) };
    let space = space as usize;
    (vec![0u64; space.div_ceil(8)], space)
}

fn send_with_fds(
    fd: RawFd,
    data: &[u8],
    fds: &[RawFd],
    flags: libc::c_int,
) -> std::io::Result<usize> {
    let mut iov = libc::iovec {
        iov_base: data.as_ptr() as *mut libc::c_void,
        iov_len: data.len(),
    };
    let (mut cbuf, space) = control_buf(fds.len());
    // SAFETY: a zeroed msghdr is valid (no iov, no control); the pointers set below outlive
    // the sendmsg call, and the control buffer has CMSG_SPACE room for the descriptors.
    unsafe {
        let mut msg: libc::msghdr = std::mem::zeroed();
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        if !fds.is_empty() {
            msg.msg_control = cbuf.as_mut_ptr() as *mut libc::c_void;
            msg.msg_controllen = space as _;
            let cmsg = libc::CMSG_FIRSTHDR(&msg);
            (*cmsg).cmsg_level = libc::SOL_SOCKET;
            (*cmsg).cmsg_type = libc::SCM_RIGHTS;
            (*cmsg).cmsg_len = libc::CMSG_LEN(std::mem::size_of_val(fds) as u32) as _;
            std::ptr::copy_nonoverlapping(
                fds.as_ptr() as *const u8,
                libc::CMSG_DATA(cmsg),
                std::mem::size_of_val(fds),
            );
        }
        let r = libc::sendmsg(fd, &msg, flags);
        if r < 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(r as usize)
    }
}

#[cfg(any(target_os = "linux", target_os = "android"))]
const RECV_CLOEXEC: libc::c_int = libc::MSG_CMSG_CLOEXEC;
#[cfg(not(any(target_os = "linux", target_os = "android")))]
const RECV_CLOEXEC: libc::c_int = 0;

/// One recvmsg: the bytes, the descriptors (owned at once, so none leaks on any path) and
/// whether the control data was truncated.
fn recv_with_fds(
    fd: RawFd,
    buf: &mut [u8],
    max_fds: usize,
    flags: libc::c_int,
) -> std::io::Result<(usize, Vec<OwnedFd>, bool)> {
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr() as *mut libc::c_void,
        iov_len: buf.len(),
    };
    let (mut cbuf, space) = control_buf(max_fds);
    let mut fds = Vec::new();
    // SAFETY: as in `send_with_fds`; every descriptor the kernel installed is wrapped in an
    // OwnedFd before anything can fail, and CMSG_NXTHDR stays within msg_controllen.
    unsafe {
        let mut msg: libc::msghdr = std::mem::zeroed();
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        if space > 0 {
            msg.msg_control = cbuf.as_mut_ptr() as *mut libc::c_void;
            msg.msg_controllen = space as _;
        }
        let r = libc::recvmsg(fd, &mut msg, flags | RECV_CLOEXEC);
        if r < 0 {
            return Err(std::io::Error::last_os_error());
        }
        if space > 0 {
            let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
            while !cmsg.is_null() {
                if (*cmsg).cmsg_level == libc::SOL_SOCKET && (*cmsg).cmsg_type == libc::SCM_RIGHTS {
                    let data = libc::CMSG_DATA(cmsg);
                    let len = (*cmsg).cmsg_len as usize - libc::CMSG_LEN(0) as usize;
                    for i in 0..len / std::mem::size_of::<libc::c_int>() {
                        let p = data.add(i * std::mem::size_of::<libc::c_int>());
                        let raw = std::ptr::read_unaligned(p as *const libc::c_int);
                        fds.push(OwnedFd::from_raw_fd(raw));
                    }
                }
                cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
            }
        }
        if RECV_CLOEXEC == 0 {
            for f in &fds {
                libc::fcntl(f.as_raw_fd(), libc::F_SETFD, libc::FD_CLOEXEC);
            }
        }
        let truncated = msg.msg_flags & libc::MSG_CTRUNC != 0;
        Ok((r as usize, fds, truncated))
    }
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn peer_cred(fd: RawFd) -> std::io::Result<PeerCredentials> {
    // SAFETY: SO_PEERCRED writes one ucred of the length given.
    unsafe {
        let mut c: libc::ucred = std::mem::zeroed();
        let mut len = std::mem::size_of::<libc::ucred>() as libc::socklen_t;
        let r = libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_PEERCRED,
            &mut c as *mut libc::ucred as *mut libc::c_void,
            &mut len,
        );
        if r < 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(PeerCredentials {
            pid: c.pid,
            uid: c.uid,
            gid: c.gid,
        })
    }
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn peer_cred(_fd: RawFd) -> std::io::Result<PeerCredentials> {
    Err(std::io::Error::new(
        std::io::ErrorKind::Unsupported,
        "SO_PEERCRED exists on Linux and Android only",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Seek};

    #[test]
    fn a_file_descriptor_travels_and_works() {
        let (a, b) = Connection::pair().unwrap();
        let dir = std::env::temp_dir().join(format!("libsock-fds-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("f.txt");
        std::fs::write(&path, b"passed along").unwrap();
        let f = File::open(&path).unwrap();
        use std::os::fd::AsFd;
        a.send_fds(b"x", &[f.as_fd()]).unwrap();
        drop(f);
        let mut buf = [0u8; 8];
        let (n, fds) = b.recv_fds(&mut buf, 4).unwrap();
        assert_eq!((n, fds.len()), (1, 1));
        let flags = unsafe { libc::fcntl(fds[0].as_raw_fd(), libc::F_GETFD) };
        assert!(flags & libc::FD_CLOEXEC != 0, "close-on-exec");
        let mut got = File::from(fds.into_iter().next().unwrap());
        got.rewind().unwrap();
        let mut s = String::new();
        got.read_to_string(&mut s).unwrap();
        assert_eq!(s, "passed along");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn too_many_descriptors_is_an_error_and_the_bytes_stay() {
        let (a, b) = Connection::pair().unwrap();
        let (p, q) = Connection::pair().unwrap();
        let fds = [p.fd(), q.fd(), p.fd()];
        // SAFETY: the connections outlive the call.
        let borrowed: Vec<BorrowedFd<'_>> = fds
            .iter()
            .map(|&f| unsafe { BorrowedFd::borrow_raw(f) })
            .collect();
        a.send_fds(b"abc", &borrowed).unwrap();
        let mut buf = [0u8; 8];
        let e = b.recv_fds(&mut buf, 1).unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::Io, "{e}");
        assert!(e.to_string().contains("max_fds (1)"), "{e}");
        let mut buf = [0u8; 8];
        assert_eq!(b.recv(&mut buf).unwrap(), 3);
        assert_eq!(&buf[..3], b"abc");
        let c = a.peer_credentials().unwrap();
        assert_eq!(c.pid as u32, std::process::id());
        assert_eq!(c.uid, unsafe { libc::getuid() });
    }
}
