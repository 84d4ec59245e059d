//! The byte streams an engine connection runs on: TCP, Unix, and TLS over either (with the
//! TLS-specific answers: no direct writes, records owed a flush, truncation), and the socket
//! options that apply to each connection.

use std::io::IoSlice;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::events::DisconnectReason;
use crate::error::Error;

/// A connected stream: TCP, Unix, or TLS over either.
pub(crate) enum AnyStream {
    Tcp(tokio::net::TcpStream),
    Unix(tokio::net::UnixStream),
    /// A plain TCP or Unix stream whose reading a waiting consumer can take over (see
    /// [`FdStream`]): on Linux, an engine client's plain connection and a server's first few.
    #[cfg(target_os = "linux")]
    Fd(FdStream),
    /// TLS (client or server side) over a TCP or Unix stream, after its handshake.
    Tls(Box<tokio_rustls::TlsStream<ReadAhead>>),
}

/// Dispatch a poll method to the stream inside.
macro_rules! each_stream {
    ($self:expr, $s:ident => $e:expr) => {
        match $self.get_mut() {
            AnyStream::Tcp($s) => $e,
            AnyStream::Unix($s) => $e,
            #[cfg(target_os = "linux")]
            AnyStream::Fd($s) => $e,
            AnyStream::Tls($s) => $e,
        }
    };
}

impl AnyStream {
    /// The descriptor for direct writes, or -1 when bytes may not go straight to the socket
    /// (TLS: every byte goes through the session, written by the connection's task).
    pub(crate) fn raw_fd(&self) -> i32 {
        use std::os::fd::AsRawFd;
        match self {
            AnyStream::Tcp(s) => s.as_raw_fd(),
            AnyStream::Unix(s) => s.as_raw_fd(),
            #[cfg(target_os = "linux")]
            AnyStream::Fd(s) => s.w.as_raw_fd(),
            AnyStream::Tls(_) => -1,
        }
    }

    /// This stream with its reads and writes registered apart (see [`FdStream`]), when it is
    /// a plain TCP or Unix stream on Linux; otherwise itself. The duplicate descriptor is made
    /// first: when there is none to be had (EMFILE, ENFILE) the stream stays as it is, read by
    /// the runtime, instead of being lost (dropped with the peer's bytes unread, which resets
    /// the peer's connection).
    pub(crate) fn split_registration(self) -> std::io::Result<AnyStream> {
        #[cfg(target_os = "linux")]
        {
            use std::os::fd::AsFd;
            let dup = match &self {
                AnyStream::Tcp(s) => s.as_fd().try_clone_to_owned(),
                AnyStream::Unix(s) => s.as_fd().try_clone_to_owned(),
                _ => return Ok(self),
            };
            let Ok(dup) = dup else {
                return Ok(self);
            };
            let fd: std::os::fd::OwnedFd = match self {
                AnyStream::Tcp(s) => s.into_std()?.into(),
                AnyStream::Unix(s) => s.into_std()?.into(),
                other => return Ok(other),
            };
            Ok(AnyStream::Fd(FdStream::new(fd, dup)?))
        }
        #[cfg(not(target_os = "linux"))]
        Ok(self)
    }

    /// The runtime's reading of this stream can be stopped (see [`FdStream`]).
    pub(crate) fn splits_reads(&self) -> bool {
        #[cfg(target_os = "linux")]
        if let AnyStream::Fd(_) = self {
            return true;
        }
        false
    }

    /// Stop (`false`) or resume (`true`) the runtime's reading: see [`FdStream`]. Other
    /// streams are always read by the runtime.
    pub(crate) fn set_reading(&mut self, on: bool) -> std::io::Result<()> {
        #[cfg(target_os = "linux")]
        if let AnyStream::Fd(s) = self {
            return s.set_reading(on);
        }
        let _ = on;
        Ok(())
    }

    /// TLS records are waiting in the session for room in the socket (a flush is owed).
    pub(crate) fn wants_write(&self) -> bool {
        match self {
            AnyStream::Tls(t) => t.get_ref().1.wants_write(),
            _ => false,
        }
    }

    /// What the TLS handshake agreed on (None for a plain stream).
    pub(crate) fn tls_info(&self) -> Option<crate::TlsInfo> {
        match self {
            AnyStream::Tls(t) => Some(match &**t {
                tokio_rustls::TlsStream::Client(c) => crate::TlsInfo::of(&**c.get_ref().1),
                tokio_rustls::TlsStream::Server(c) => crate::TlsInfo::of(&**c.get_ref().1),
            }),
            _ => None,
        }
    }

    /// The reason an I/O error ends the connection. On TLS, an early end of stream is a peer
    /// that closed without `close_notify` (a truncation), and a TLS failure keeps its reason.
    pub(crate) fn reason(&self, e: &std::io::Error) -> DisconnectReason {
        if let AnyStream::Tls(_) = self {
            if e.kind() == std::io::ErrorKind::UnexpectedEof {
                return DisconnectReason::Tls(crate::tls::TRUNCATED.into());
            }
            if let Some(t) = e.get_ref().and_then(|r| r.downcast_ref::<rustls::Error>()) {
                return DisconnectReason::from_error(&crate::tls::tls_error("TLS connection", t));
            }
        }
        DisconnectReason::from_io(e)
    }
}

impl AsyncRead for AnyStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        each_stream!(self, s => Pin::new(s).poll_read(cx, buf))
    }
}

impl AsyncWrite for AnyStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        each_stream!(self, s => Pin::new(s).poll_write(cx, buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        each_stream!(self, s => Pin::new(s).poll_write_vectored(cx, bufs))
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        each_stream!(self, s => Pin::new(s).poll_flush(cx))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        each_stream!(self, s => Pin::new(s).poll_shutdown(cx))
    }
}

/// A plain stream registered with the runtime in two halves: the socket itself for
/// writability, and a duplicate descriptor for readability that can be taken out of the
/// runtime's poll set. While a consumer of the engine object reads the socket in its own thread
/// (see `link::ReadSide`), the read half is out, so a message that arrives wakes only that
/// consumer, not also a runtime thread that would find nothing to do.
#[cfg(target_os = "linux")]
pub(crate) struct FdStream {
    /// The socket, registered for writability only (owns the descriptor).
    w: tokio::io::unix::AsyncFd<std::os::fd::OwnedFd>,
    /// A duplicate, registered for readability while the runtime reads.
    r: ReadReg,
}

/// The read half's registration.
#[cfg(target_os = "linux")]
enum ReadReg {
    On(tokio::io::unix::AsyncFd<std::os::fd::OwnedFd>),
    Off(std::os::fd::OwnedFd),
    /// Between the two (only if registering failed).
    Gone,
}

#[cfg(target_os = "linux")]
impl FdStream {
    /// The stream `fd`, with `dup` (a duplicate of it) for its reads.
    fn new(fd: std::os::fd::OwnedFd, dup: std::os::fd::OwnedFd) -> std::io::Result<FdStream> {
        use tokio::io::{unix::AsyncFd, Interest};
        // SAFETY (both): each AsyncFd owns its descriptor, which nothing else closes or
        // registers (the socket and its duplicate are distinct descriptors in the poll set);
        // it is deregistered when the AsyncFd is dropped or taken apart, before the close.
        let w = unsafe { AsyncFd::register_with_interest(fd, Interest::WRITABLE) }
            .map_err(std::io::Error::from)?;
        let r = unsafe { AsyncFd::register_with_interest(dup, Interest::READABLE) }
            .map_err(std::io::Error::from)?;
        Ok(FdStream {
            w,
            r: ReadReg::On(r),
        })
    }

    fn set_reading(&mut self, on: bool) -> std::io::Result<()> {
        use tokio::io::{unix::AsyncFd, Interest};
        match (std::mem::replace(&mut self.r, ReadReg::Gone), on) {
            (ReadReg::On(a), false) => self.r = ReadReg::Off(a.into_inner()),
            (ReadReg::Off(fd), true) => {
                // SAFETY: as in `new`.
                let r = unsafe { AsyncFd::register_with_interest(fd, Interest::READABLE) }
                    .map_err(std::io::Error::from)?;
                self.r = ReadReg::On(r);
            }
            (r, _) => self.r = r,
        }
        Ok(())
    }
}

#[cfg(target_os = "linux")]
impl AsyncRead for FdStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let ReadReg::On(r) = &self.get_mut().r else {
            // Not read by the runtime now: whoever resumes the reading polls again.
            return Poll::Pending;
        };
        loop {
            let mut g = std::task::ready!(r.poll_read_ready(cx))?;
            let unfilled = buf.initialize_unfilled();
            let res = g.try_io(|fd| {
                use std::os::fd::AsRawFd;
                // SAFETY: reads into the initialised, unfilled part of `buf`.
                let n = unsafe {
                    libc::read(fd.as_raw_fd(), unfilled.as_mut_ptr().cast(), unfilled.len())
                };
                match n {
                    n if n < 0 => Err(std::io::Error::last_os_error()),
                    n => Ok(n as usize),
                }
            });
            match res {
                Ok(Ok(n)) => {
                    buf.advance(n);
                    return Poll::Ready(Ok(()));
                }
                Ok(Err(e)) => return Poll::Ready(Err(e)),
                Err(_would_block) => continue,
            }
        }
    }
}

#[cfg(target_os = "linux")]
impl AsyncWrite for FdStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.poll_write_vectored(cx, &[IoSlice::new(buf)])
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let w = &self.get_mut().w;
        loop {
            let mut g = std::task::ready!(w.poll_write_ready(cx))?;
            let res = g.try_io(|fd| {
                use std::os::fd::AsRawFd;
                super::sendq::send_nosignal(fd.as_raw_fd(), bufs)
            });
            match res {
                Ok(r) => return Poll::Ready(r),
                Err(_would_block) => continue,
            }
        }
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        use std::os::fd::AsRawFd;
        // SAFETY: shutdown(2) on our own socket.
        let r = unsafe { libc::shutdown(self.w.as_raw_fd(), libc::SHUT_WR) };
        Poll::Ready(match r {
            0 => Ok(()),
            _ => Err(std::io::Error::last_os_error()),
        })
    }
}

/// The error for a TLS handshake that failed with `e` (its TLS reason when it has one).
pub(crate) fn tls_io_error(op: &str, e: &std::io::Error) -> Error {
    if let Some(t) = e.get_ref().and_then(|r| r.downcast_ref::<rustls::Error>()) {
        return crate::tls::tls_error(op, t);
    }
    if e.kind() == std::io::ErrorKind::UnexpectedEof {
        return Error::Tls(format!(
            "{}: the peer closed the connection during the handshake (a plaintext peer, or it \
             refused us?)",
            op.trim_start_matches("TLS ")
        ));
    }
    Error::os(op.to_string(), std::io::Error::new(e.kind(), e.to_string()))
}

/// The per-connection subset of `opts` (what applies to an accepted or connecting socket).
pub(crate) fn conn_options(opts: &crate::options::SocketOptions) -> crate::options::SocketOptions {
    crate::options::SocketOptions {
        nodelay: opts.nodelay,
        keepalive: opts.keepalive,
        linger: opts.linger,
        recv_buffer_size: opts.recv_buffer_size,
        send_buffer_size: opts.send_buffer_size,
        tcp_user_timeout: opts.tcp_user_timeout,
        ..Default::default()
    }
}

/// Bytes read from the socket ahead of what rustls asks for (it asks 4 KiB at a time: four or
/// more system calls per 16 KiB record otherwise).
const READ_AHEAD: usize = 32 * 1024;

/// A TLS connection's transport: the stream, with reads ahead into a buffer that exists only
/// while it holds bytes (an idle connection keeps none).
pub(crate) struct ReadAhead {
    inner: AnyStream,
    buf: Vec<u8>,
    pos: usize,
}

impl ReadAhead {
    pub(crate) fn new(inner: AnyStream) -> ReadAhead {
        ReadAhead {
            inner,
            buf: Vec::new(),
            pos: 0,
        }
    }
}

impl AsyncRead for ReadAhead {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        out: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let me = self.get_mut();
        if me.pos == me.buf.len() {
            if out.remaining() >= READ_AHEAD {
                return Pin::new(&mut me.inner).poll_read(cx, out);
            }
            me.buf.clear();
            me.buf.reserve_exact(READ_AHEAD);
            me.pos = 0;
            let mut rb = ReadBuf::uninit(&mut me.buf.spare_capacity_mut()[..READ_AHEAD]);
            let r = Pin::new(&mut me.inner).poll_read(cx, &mut rb);
            let n = rb.filled().len();
            // SAFETY: poll_read initialised and filled the first n bytes of the spare capacity.
            unsafe { me.buf.set_len(n) };
            if n == 0 {
                me.buf = Vec::new();
                return r;
            }
        }
        let k = out.remaining().min(me.buf.len() - me.pos);
        out.put_slice(&me.buf[me.pos..me.pos + k]);
        me.pos += k;
        if me.pos == me.buf.len() {
            // Drained: give the memory back.
            me.buf = Vec::new();
            me.pos = 0;
        }
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for ReadAhead {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}
