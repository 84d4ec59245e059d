//! TLS on a [`Connection`]'s socket: a rustls session that every receive and send of the
//! connection goes through when it has one. The session is locked only while it makes progress
//! without waiting (socket reads and writes with `MSG_DONTWAIT`); waits for readiness happen
//! outside the lock (poll), so one thread can receive while another sends, and a close from any
//! thread wakes them as it wakes plain calls.

use std::io::{Read, Write};
use std::mem::MaybeUninit;
use std::os::fd::AsRawFd;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rustls::pki_types::ServerName;

use super::*;
use crate::tls::{tls_error, ClientTls, ServerTls};
use crate::wait::INTERRUPT_SLICE;

/// Plaintext the session buffers for sending before a send waits for the socket.
const SEND_BUFFER: usize = 256 * 1024;

/// The most plaintext one receive takes from the session.
const RECV_CHUNK: usize = 64 * 1024;

/// What a step needs before it can go on.
enum Step<T> {
    Done(T),
    Wait(Ready),
}

/// A TLS session of a connection.
pub(crate) struct Session {
    conn: Mutex<Sess>,
}

/// Bytes read from the socket in one `recv`, handed to rustls from memory: rustls asks its
/// transport for 4 KiB at a time, which would be four or more system calls per 16 KiB record.
const RAW_IN: usize = 64 * 1024;

/// The rustls connection and the socket bytes read ahead for it (locked together).
struct Sess {
    c: rustls::Connection,
    raw: Vec<u8>,
    start: usize,
    end: usize,
}

impl std::ops::Deref for Sess {
    type Target = rustls::Connection;
    fn deref(&self) -> &rustls::Connection {
        &self.c
    }
}

impl std::ops::DerefMut for Sess {
    fn deref_mut(&mut self) -> &mut rustls::Connection {
        &mut self.c
    }
}

impl Sess {
    /// `read_tls` through the read-ahead: one `recv` of up to [`RAW_IN`] bytes when nothing is
    /// ahead, then rustls takes from memory. 0 at the end of the stream.
    fn read_tls(&mut self, s: &Socket) -> std::io::Result<usize> {
        if self.start == self.end {
            if self.raw.is_empty() {
                self.raw = vec![0; RAW_IN];
            }
            let n = SockIo(s).read(&mut self.raw)?;
            if n == 0 {
                return Ok(0);
            }
            (self.start, self.end) = (0, n);
        }
        self.feed_ahead()
    }

    /// Hand rustls more of the bytes already read ahead (no system call): how many it took.
    fn feed_ahead(&mut self) -> std::io::Result<usize> {
        let n = self.c.read_tls(&mut &self.raw[self.start..self.end])?;
        self.start += n;
        Ok(n)
    }
}

/// The socket as rustls's transport: never waits.
struct SockIo<'a>(&'a Socket);

impl Read for SockIo<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        // SAFETY: an initialised &mut [u8] is a valid &mut [MaybeUninit<u8>]; recv only writes.
        let uninit = unsafe { &mut *(buf as *mut [u8] as *mut [MaybeUninit<u8>]) };
        self.0.recv_with_flags(uninit, libc::MSG_DONTWAIT)
    }
}

impl Write for SockIo<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.send_with_flags(buf, SEND_FLAGS | libc::MSG_DONTWAIT)
    }
    /// rustls hands over its records as several buffers: one `sendmsg` for all of them, so a
    /// handshake flight leaves as one segment (separate small writes would meet Nagle's
    /// algorithm and the peer's delayed ACK: 40 ms per flight).
    fn write_vectored(&mut self, bufs: &[std::io::IoSlice<'_>]) -> std::io::Result<usize> {
        self.0
            .send_vectored_with_flags(bufs, SEND_FLAGS | libc::MSG_DONTWAIT)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn blocked(e: &std::io::Error) -> bool {
    would_block(e) || interrupted(e)
}

/// Hand rustls's pending records to the socket: done, or waiting for room.
fn flush(c: &mut rustls::Connection, s: &Socket, op: &dyn Fn() -> String) -> Result<Step<()>> {
    while c.wants_write() {
        match c.write_tls(&mut SockIo(s)) {
            Ok(_) => {}
            Err(e) if blocked(&e) => return Ok(Step::Wait(Ready::Write)),
            Err(e) => return Err(Error::os(op(), e)),
        }
    }
    Ok(Step::Done(()))
}

/// Take in records read from the socket; a TLS failure sends its alert (best effort) and is
/// the error.
fn process(c: &mut rustls::Connection, s: &Socket, op: &dyn Fn() -> String) -> Result<()> {
    if let Err(e) = c.process_new_packets() {
        let _ = flush(c, s, op);
        return Err(tls_error(&op(), &e));
    }
    Ok(())
}

fn truncated(op: &dyn Fn() -> String) -> Error {
    Error::Tls(format!(
        "{}: {}",
        op().trim_start_matches("TLS "),
        crate::tls::TRUNCATED
    ))
}

impl Session {
    /// A client session for `host` (the name checked and sent, unless the settings name one).
    pub(crate) fn client(cfg: &ClientTls, host: &str) -> Result<Session> {
        let name: ServerName<'static> = cfg.name_for(host)?;
        let c = rustls::ClientConnection::new(cfg.config.clone(), name)
            .map_err(|e| tls_error("start TLS", &e))?;
        Ok(Session::of(c.into()))
    }

    /// A server session.
    pub(crate) fn server(cfg: &ServerTls) -> Result<Session> {
        let c = rustls::ServerConnection::new(cfg.config.clone())
            .map_err(|e| tls_error("start TLS", &e))?;
        Ok(Session::of(c.into()))
    }

    fn of(mut c: rustls::Connection) -> Session {
        c.set_buffer_limit(Some(SEND_BUFFER));
        Session {
            conn: Mutex::new(Sess {
                c,
                raw: Vec::new(),
                start: 0,
                end: 0,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Sess> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Run `step` (the session locked, nothing waits) until it is done; between tries wait for
    /// the readiness it asks for, within `deadline`, watching for a close and the interrupt
    /// check.
    fn drive<T>(
        &self,
        h: &Holder,
        s: &Socket,
        deadline: &Deadline,
        op: &dyn Fn() -> String,
        mut step: impl FnMut(&mut Sess) -> Result<Step<T>>,
    ) -> Result<T> {
        let check = crate::wait::interrupt_check();
        loop {
            if h.is_closed() {
                return Err(Error::closed(op()));
            }
            let r = step(&mut self.lock());
            let ready = match r {
                Ok(Step::Done(v)) => return Ok(v),
                Ok(Step::Wait(r)) => r,
                Err(_) if h.is_closed() => return Err(Error::closed(op())),
                Err(e) => return Err(e),
            };
            let left = deadline.remaining();
            if left == Some(Duration::ZERO) {
                return Err(deadline.timeout_error(op));
            }
            let mut wait = left.unwrap_or(Duration::from_secs(3600));
            if check.is_some() {
                wait = wait.min(INTERRUPT_SLICE);
            }
            let mut pfd = libc::pollfd {
                fd: s.as_raw_fd(),
                events: match ready {
                    Ready::Read => libc::POLLIN,
                    Ready::Write => libc::POLLOUT,
                },
                revents: 0,
            };
            let ms = wait.as_millis().clamp(1, i32::MAX as u128) as i32;
            // SAFETY: one valid pollfd on the stack. EINTR and timeouts are handled by the loop.
            unsafe { libc::poll(&mut pfd, 1, ms) };
            if let Some(c) = check {
                if c() {
                    return Err(Error::Interrupted { op: op() });
                }
            }
        }
    }

    /// Complete the handshake within `deadline`.
    pub(crate) fn handshake(
        &self,
        h: &Holder,
        s: &Socket,
        deadline: &Deadline,
        op: &dyn Fn() -> String,
    ) -> Result<()> {
        self.drive(h, s, deadline, op, |c| loop {
            if let Step::Wait(w) = flush(c, s, op)? {
                return Ok(Step::Wait(w));
            }
            if !c.is_handshaking() {
                return Ok(Step::Done(()));
            }
            match c.read_tls(s) {
                Ok(0) => {
                    return Err(Error::Tls(format!(
                        "{}: the peer closed the connection during the handshake",
                        op()
                    )))
                }
                Ok(_) => process(c, s, op)?,
                Err(e) if blocked(&e) => return Ok(Step::Wait(Ready::Read)),
                Err(e) => return Err(Error::os(op(), e)),
            }
        })
    }

    /// Receive plaintext into `buf` (waiting within `deadline`); 0 after the peer's
    /// close_notify. A peer that closed without it is a `Tls` error (truncation).
    pub(crate) fn recv(
        &self,
        h: &Holder,
        s: &Socket,
        buf: &mut [MaybeUninit<u8>],
        deadline: &Deadline,
        op: &dyn Fn() -> String,
    ) -> Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        // rustls reads into initialised memory: zero a bounded part (a receive buffer's spare
        // room can be megabytes; one call returns at most what the session holds).
        let n = buf.len().min(RECV_CHUNK);
        let buf = &mut buf[..n];
        for b in buf.iter_mut() {
            b.write(0);
        }
        // SAFETY: every byte was just initialised.
        let buf = unsafe { &mut *(buf as *mut [MaybeUninit<u8>] as *mut [u8]) };
        self.drive(h, s, deadline, op, |c| self.recv_step(c, s, buf, op))
    }

    fn recv_step(
        &self,
        c: &mut Sess,
        s: &Socket,
        buf: &mut [u8],
        op: &dyn Fn() -> String,
    ) -> Result<Step<usize>> {
        let mut eof = false;
        loop {
            match c.reader().read(buf) {
                Ok(0) => return Ok(Step::Done(0)),
                Ok(mut n) => {
                    // Fill more of `buf` from records already read ahead (no system call).
                    while n < buf.len() && c.start < c.end {
                        if !matches!(c.feed_ahead(), Ok(k) if k > 0) {
                            break;
                        }
                        process(c, s, op)?;
                        match c.reader().read(&mut buf[n..]) {
                            Ok(k) if k > 0 => n += k,
                            _ => {}
                        }
                    }
                    return Ok(Step::Done(n));
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock && !eof => {}
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return Err(truncated(op)),
                Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                    return Err(truncated(op))
                }
                Err(e) => return Err(Error::os(op(), e)),
            }
            match c.read_tls(s) {
                Ok(0) => eof = true,
                Ok(_) => process(c, s, op)?,
                Err(e) if blocked(&e) => {
                    // Records rustls owes the peer (a key update's answer) go out meanwhile.
                    let _ = flush(c, s, op);
                    return Ok(Step::Wait(Ready::Read));
                }
                Err(e) => return Err(Error::os(op(), e)),
            }
        }
    }

    /// Plaintext received and not yet taken.
    pub(crate) fn buffered(&self) -> usize {
        let mut c = self.lock();
        // Bytes read ahead from the socket may hold whole records: hand them over first.
        while c.start < c.end {
            let Sess {
                c: conn,
                raw,
                start,
                end,
            } = &mut *c;
            match conn.read_tls(&mut &raw[*start..*end]) {
                Ok(n) if n > 0 => *start += n,
                _ => break,
            }
            if conn.process_new_packets().is_err() {
                break;
            }
        }
        c.process_new_packets()
            .map(|st| st.plaintext_bytes_to_read())
            .unwrap_or(0)
    }

    /// Send some of `data` (waiting within `deadline` while the session's buffer is full);
    /// returns how much was taken. What is taken goes to the socket as it takes it; `flush`
    /// waits until all has.
    pub(crate) fn send(
        &self,
        h: &Holder,
        s: &Socket,
        data: &[u8],
        deadline: &Deadline,
        op: &dyn Fn() -> String,
    ) -> Result<usize> {
        if data.is_empty() {
            return Ok(0);
        }
        self.drive(h, s, deadline, op, |c| {
            let n = c.writer().write(data).map_err(|e| Error::os(op(), e))?;
            let w = flush(c, s, op)?;
            Ok(match (n, w) {
                (0, Step::Wait(r)) => Step::Wait(r),
                (0, Step::Done(())) => Step::Wait(Ready::Write),
                (n, _) => Step::Done(n),
            })
        })
    }

    /// Send some of `data` if that needs no waiting: `Ok(None)` otherwise.
    pub(crate) fn try_send(
        &self,
        s: &Socket,
        data: &[u8],
        op: &dyn Fn() -> String,
    ) -> Result<Option<usize>> {
        let Ok(mut c) = self.conn.try_lock() else {
            return Ok(None);
        };
        let n = c.writer().write(data).map_err(|e| Error::os(op(), e))?;
        flush(&mut c, s, op)?;
        Ok((n > 0).then_some(n))
    }

    /// Wait (within `deadline`) until everything taken has gone to the socket.
    pub(crate) fn flush(
        &self,
        h: &Holder,
        s: &Socket,
        deadline: &Deadline,
        op: &dyn Fn() -> String,
    ) -> Result<()> {
        self.drive(h, s, deadline, op, |c| flush(c, s, op))
    }

    /// Send close_notify (what was sent before it is flushed first, within `deadline`): the
    /// peer then reads a clean end of stream.
    pub(crate) fn close_notify(
        &self,
        h: &Holder,
        s: &Socket,
        deadline: &Deadline,
        op: &dyn Fn() -> String,
    ) -> Result<()> {
        self.lock().send_close_notify();
        self.flush(h, s, deadline, op)
    }

    /// Best effort, never waiting: close_notify on a connection being closed.
    pub(crate) fn close_now(&self, s: &Socket) {
        if let Ok(mut c) = self.conn.try_lock() {
            c.send_close_notify();
            let _ = flush(&mut c, s, &|| String::new());
        }
    }

    /// What was agreed: protocol version, cipher suite, ALPN protocol, and the peer's
    /// certificate chain (DER, its own first).
    pub(crate) fn info(&self) -> TlsInfo {
        match &self.lock().c {
            rustls::Connection::Client(c) => TlsInfo::of(&**c),
            rustls::Connection::Server(c) => TlsInfo::of(&**c),
        }
    }
}

/// What a TLS handshake agreed on (see [`Connection::tls_info`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsInfo {
    /// `"TLSv1.3"` or `"TLSv1.2"`.
    pub version: String,
    /// The cipher suite's IANA name, e.g. `"TLS13_AES_256_GCM_SHA384"`.
    pub cipher: String,
    /// The ALPN protocol agreed on, if any.
    pub alpn: Option<Vec<u8>>,
    /// The peer's certificate chain (DER), its own certificate first; empty when it sent none.
    pub peer_certificates: Vec<Vec<u8>>,
}

impl TlsInfo {
    /// What `c` agreed on (client or server side).
    pub(crate) fn of<D>(c: &rustls::ConnectionCommon<D>) -> TlsInfo {
        TlsInfo {
            version: c
                .protocol_version()
                .map(|v| match v {
                    rustls::ProtocolVersion::TLSv1_3 => "TLSv1.3".to_string(),
                    rustls::ProtocolVersion::TLSv1_2 => "TLSv1.2".to_string(),
                    other => format!("{other:?}"),
                })
                .unwrap_or_default(),
            cipher: c
                .negotiated_cipher_suite()
                .map(|cs| format!("{:?}", cs.suite()))
                .unwrap_or_default(),
            alpn: c.alpn_protocol().map(|p| p.to_vec()),
            peer_certificates: c
                .peer_certificates()
                .map(|cs| cs.iter().map(|d| d.as_ref().to_vec()).collect())
                .unwrap_or_default(),
        }
    }

    /// The SHA-256 fingerprint of the peer's certificate (what [`crate::tls::TlsClient::pin_sha256`]
    /// takes), if it sent one.
    pub fn peer_fingerprint(&self) -> Option<String> {
        self.peer_certificates
            .first()
            .map(|c| crate::tls::fingerprint(c))
    }
}
