//! [`Connection`]: a blocking TCP or Unix stream connection with timeouts and framing.

use std::fs::File;
use std::io::{IoSlice, Write};
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use bytes::{Buf, Bytes, BytesMut};
use socket2::{Domain, Protocol, Socket, Type};

use crate::addr::{Addr, Endpoint, ToEndpoint};
use crate::error::{Error, Result};
use crate::framing::{Decoder, Framing, PlainPrefix};
use crate::holder::{Holder, SockRef, Timeout};
use crate::options::{self, SockOpt, SocketOptions};
#[cfg(any(target_os = "linux", target_os = "android"))]
use crate::wait::ready_now;
use crate::wait::{interrupted, would_block, Deadline, Ready};

/// Size of one internal read when filling the receive buffer.
const READ_CHUNK: usize = 64 * 1024;

/// Free space below which the receive buffer is compacted (or grown) before a read.
const MIN_READ: usize = 16 * 1024;

/// `send_msgs` copies frames into one buffer and sends it when it reaches this size.
const STAGE: usize = 64 * 1024;

/// `send_msgs` sends a body larger than this from where it is (vectored) instead of copying it.
const COPY_MAX: usize = 16 * 1024;

/// Bytes a frame adds to its message (header or delimiter).
fn framing_overhead(f: &Framing) -> usize {
    match f {
        Framing::LengthPrefixed(lp) if !lp.keep_header => lp.header_len,
        Framing::Delimited(d) => d.delimiter.len(),
        _ => 0,
    }
}

/// What receiving messages is called in error messages.
const RECV_MSG: &str = "recv message from";

/// Which direction(s) to shut down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shutdown {
    /// No more receiving.
    Read,
    /// No more sending: the peer reads end-of-stream after what was sent (half-close).
    Write,
    /// Both.
    Both,
}

impl std::str::FromStr for Shutdown {
    type Err = Error;
    fn from_str(s: &str) -> Result<Shutdown> {
        match s {
            "read" | "r" | "rd" => Ok(Shutdown::Read),
            "write" | "w" | "wr" => Ok(Shutdown::Write),
            "both" | "rw" | "rdwr" => Ok(Shutdown::Both),
            _ => Err(Error::invalid(format!(
                "shutdown direction {s:?} (expected read, write or both)"
            ))),
        }
    }
}

/// How to connect: timeouts, framing and socket options. Built with chained setters and used by
/// [`Connection::connect_with`].
#[derive(Debug, Clone, Default)]
pub struct ConnectOptions {
    /// Time allowed for resolving and connecting (`None` = the OS's own limit).
    pub connect_timeout: Option<Duration>,
    /// Default timeout of every later call on the connection (`None` = wait forever).
    pub timeout: Option<Duration>,
    /// Framing for `send_msg`/`recv_msg`.
    pub framing: Framing,
    /// Socket options applied before connecting.
    pub options: SocketOptions,
}

impl ConnectOptions {
    /// Defaults: no timeouts, raw framing, OS options.
    pub fn new() -> ConnectOptions {
        ConnectOptions::default()
    }
    /// Limit resolving + connecting to `t`.
    pub fn connect_timeout(mut self, t: Duration) -> Self {
        self.connect_timeout = Some(t);
        self
    }
    /// Default timeout for every later call.
    pub fn timeout(mut self, t: Option<Duration>) -> Self {
        self.timeout = t;
        self
    }
    /// Framing for `send_msg`/`recv_msg`.
    pub fn framing(mut self, f: Framing) -> Self {
        self.framing = f;
        self
    }
    /// Socket options.
    pub fn options(mut self, o: SocketOptions) -> Self {
        self.options = o;
        self
    }
}

struct Rx {
    buf: BytesMut,
    decoder: Decoder,
    /// A decoded message that did not fit a caller's buffer (kept for the next call).
    pending: Option<Bytes>,
    /// An oversized frame met by `recv_msgs` after it had messages to deliver: the decoder has
    /// already skipped past it, so the error is kept here for the next message call.
    error: Option<Error>,
}

impl Rx {
    fn new(framing: Framing) -> Rx {
        Rx {
            buf: BytesMut::new(),
            decoder: Decoder::new(framing),
            pending: None,
            error: None,
        }
    }

    /// Where the next whole message lies in the buffer: `(start, end, consumed)`; the caller
    /// must drop `consumed` bytes from the front (see [`Rx::take`] / [`Rx::take_bytes`]) before
    /// the next call. `None` when no whole message is buffered (skipped bytes are dropped).
    #[inline]
    fn next_range(&mut self) -> Result<Option<(usize, usize, usize)>> {
        let cut = self.decoder.cut(&self.buf);
        match cut.msg {
            Ok(Some((a, b))) => Ok(Some((a, b, cut.consumed))),
            Ok(None) => {
                self.buf.advance(cut.consumed);
                Ok(None)
            }
            Err(e) => {
                self.buf.advance(cut.consumed);
                Err(e)
            }
        }
    }

    /// Drop a message found by [`Rx::next_range`] from the buffer.
    fn take(&mut self, (_, _, consumed): (usize, usize, usize)) {
        self.buf.advance(consumed);
    }

    /// Take a message found by [`Rx::next_range`] out of the buffer as `Bytes` (no copy).
    fn take_bytes(&mut self, (a, b, consumed): (usize, usize, usize)) -> Bytes {
        self.buf.advance(a);
        let m = self.buf.split_to(b - a).freeze();
        self.buf.advance(consumed - b);
        m
    }
}

/// The send side: the framing, and a buffer that `send_msg`/`send_msgs` reuse to build frames.
struct Tx {
    framing: Framing,
    /// The framing's short path, if it is a bare 4-byte length header.
    plain: Option<PlainPrefix>,
    stage: Vec<u8>,
}

impl Tx {
    fn new(framing: Framing) -> Tx {
        Tx {
            plain: framing.plain_prefix(),
            framing,
            stage: Vec::new(),
        }
    }
}

/// Where `recv_msgs`-style calls put their messages.
trait Sink {
    /// Bytes of room left for message bodies (unbounded sinks: `usize::MAX`). A message larger
    /// than this stays queued for the next call.
    fn room(&self) -> usize {
        usize::MAX
    }
    /// A message kept from an earlier call.
    fn pending(&mut self, m: Bytes);
    /// A message at `buf[start..end]` (the receive buffer, not yet consumed).
    fn msg(&mut self, buf: &[u8], start: usize, end: usize);
    /// The first `used` bytes of the receive buffer (holding the messages given to `msg` since
    /// the last flush) are done with: drop them from the buffer.
    fn flush(&mut self, buf: &mut BytesMut, used: usize);
}

/// Messages as `Bytes` slices of the receive buffer: the batch is split off once and each
/// message is a slice of it (one reference count increment per message, no copy).
struct BytesSink {
    out: Vec<Bytes>,
    ranges: Vec<(usize, usize)>,
}

impl Sink for BytesSink {
    fn pending(&mut self, m: Bytes) {
        self.out.push(m)
    }
    fn msg(&mut self, _buf: &[u8], start: usize, end: usize) {
        self.ranges.push((start, end))
    }
    fn flush(&mut self, buf: &mut BytesMut, used: usize) {
        if used == 0 {
            return;
        }
        let chunk = buf.split_to(used).freeze();
        self.out
            .extend(self.ranges.drain(..).map(|(a, b)| chunk.slice(a..b)));
    }
}

/// Messages copied one after the other into `data`, each one's end offset in `ends`.
struct PackedSink<'a> {
    data: &'a mut Vec<u8>,
    ends: &'a mut Vec<usize>,
}

impl Sink for PackedSink<'_> {
    fn pending(&mut self, m: Bytes) {
        self.data.extend_from_slice(&m);
        self.ends.push(self.data.len());
    }
    fn msg(&mut self, buf: &[u8], start: usize, end: usize) {
        self.data.extend_from_slice(&buf[start..end]);
        self.ends.push(self.data.len());
    }
    fn flush(&mut self, buf: &mut BytesMut, used: usize) {
        buf.advance(used);
    }
}

/// Messages copied one after the other into the caller's `out`, each one's length in `lens`
/// (which also bounds the count).
struct SliceSink<'a> {
    out: &'a mut [u8],
    at: usize,
    lens: &'a mut [usize],
    n: usize,
}

impl SliceSink<'_> {
    fn put(&mut self, m: &[u8]) {
        self.out[self.at..self.at + m.len()].copy_from_slice(m);
        self.at += m.len();
        self.lens[self.n] = m.len();
        self.n += 1;
    }
}

impl Sink for SliceSink<'_> {
    fn room(&self) -> usize {
        self.out.len() - self.at
    }
    fn pending(&mut self, m: Bytes) {
        self.put(&m)
    }
    fn msg(&mut self, buf: &[u8], start: usize, end: usize) {
        self.put(&buf[start..end])
    }
    fn flush(&mut self, buf: &mut BytesMut, used: usize) {
        buf.advance(used);
    }
}

/// A connected TCP or Unix stream socket.
///
/// All methods take `&self`: one thread may send while another receives, and [`close`] from any
/// thread makes a call blocked on the connection return [`Error::Closed`] promptly. Every blocking
/// call uses the connection's default timeout ([`set_timeout`]); [`with_timeout`] overrides it for
/// one call. A timeout never loses data: bytes read so far stay buffered for the next call.
///
/// ```
/// use libsock::{Connection, Listener};
/// use std::time::Duration;
///
/// let listener = Listener::bind("127.0.0.1:0").unwrap();
/// let addr = listener.local_addr().unwrap();
/// let client = Connection::connect(&addr).unwrap();
/// let (server, _peer) = listener.accept(Some(Duration::from_secs(5))).unwrap();
/// client.send_all(b"ping").unwrap();
/// assert_eq!(&server.recv_exact(4).unwrap()[..], b"ping");
/// ```
///
/// [`close`]: Connection::close
/// [`set_timeout`]: Connection::set_timeout
/// [`with_timeout`]: Connection::with_timeout
pub struct Connection {
    h: Holder,
    rx: Mutex<Rx>,
    tx: Mutex<Tx>,
    peer: Addr,
    unix: bool,
}

impl Drop for Connection {
    fn drop(&mut self) {
        // The same orderly close as `close` (a no-op when it was called).
        self.h.close_draining(true);
    }
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("fd", &self.h.fd())
            .field("peer", &self.peer)
            .field("closed", &self.h.is_closed())
            .finish()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Connection {
    /// Connect to `endpoint` (`"host:port"`, `"[::1]:80"`, `"unix:/path"`, `(host, port)`, ...)
    /// with default options, trying every resolved address.
    pub fn connect(endpoint: impl ToEndpoint) -> Result<Connection> {
        Connection::connect_with(endpoint, &ConnectOptions::default())
    }

    /// Connect with a time limit for resolving and connecting together.
    pub fn connect_timeout(endpoint: impl ToEndpoint, timeout: Duration) -> Result<Connection> {
        Connection::connect_with(endpoint, &ConnectOptions::new().connect_timeout(timeout))
    }

    /// Connect with options. Every resolved address (IPv6 and IPv4) is tried in turn, each with a
    /// fair share of the remaining time, before the last error is returned.
    pub fn connect_with(endpoint: impl ToEndpoint, opts: &ConnectOptions) -> Result<Connection> {
        let ep = endpoint.to_endpoint()?;
        opts.framing.validate()?;
        let deadline = Deadline::after(opts.connect_timeout);
        let addrs = ep.resolve(deadline.remaining())?;
        let mut last = None;
        let n = addrs.len();
        for (i, addr) in addrs.iter().enumerate() {
            let share = deadline
                .remaining()
                .map(|r| r / (n - i) as u32)
                .map(|s| deadline.at_most(s))
                .unwrap_or(deadline);
            match connect_one(&ep, addr, opts, &share) {
                Ok(c) => return Ok(c),
                Err(e) if e.kind() == crate::ErrorKind::Interrupted => return Err(e),
                Err(e) => last = Some(e),
            }
        }
        let e = last.unwrap_or_else(|| Error::Resolve {
            host: ep.to_string(),
            reason: "no addresses".into(),
        });
        if n > 1 {
            return Err(match e {
                Error::Os { kind, source, op } => Error::Os {
                    kind,
                    op: format!("{op} (tried {n} addresses of {ep})"),
                    source,
                },
                other => other,
            });
        }
        Err(e)
    }

    /// Wrap an already connected stream socket (e.g. one accepted by a [`Listener`]).
    ///
    /// [`Listener`]: crate::Listener
    pub fn from_socket(sock: Socket, framing: Framing) -> Result<Connection> {
        framing.validate()?;
        let unix = sock.domain().map(|d| d == Domain::UNIX).unwrap_or(false);
        let peer = sock
            .peer_addr()
            .map(|a| Addr::from_sockaddr(&a))
            .map_err(|e| Error::os("peer address", e))?;
        Ok(Connection {
            h: Holder::new(sock)?,
            rx: Mutex::new(Rx::new(framing.clone())),
            tx: Mutex::new(Tx::new(framing)),
            peer,
            unix,
        })
    }

    /// A pair of connected Unix stream sockets (handy for tests and for talking to a child).
    #[cfg(unix)]
    pub fn pair() -> Result<(Connection, Connection)> {
        let (a, b) = Socket::pair(Domain::UNIX, Type::STREAM, None)
            .map_err(|e| Error::os("socketpair", e))?;
        let mk = |s: Socket| -> Result<Connection> {
            Ok(Connection {
                h: Holder::new(s)?,
                rx: Mutex::new(Rx::new(Framing::Raw)),
                tx: Mutex::new(Tx::new(Framing::Raw)),
                peer: Addr::Unix(None),
                unix: true,
            })
        };
        Ok((mk(a)?, mk(b)?))
    }

    fn op(&self, what: &str) -> String {
        format!("{what} {}", self.peer)
    }

    fn sock(&self, what: &str) -> Result<SockRef<'_>> {
        self.h.get(&|| self.op(what))
    }

    /// Use `timeout` for the next call made through the returned view, instead of the default.
    ///
    /// ```no_run
    /// # let conn: libsock::Connection = unimplemented!();
    /// use std::time::Duration;
    /// let msg = conn.with_timeout(Duration::from_millis(200)).recv_msg();
    /// ```
    pub fn with_timeout(&self, timeout: impl Into<Timeout>) -> Timed<'_> {
        Timed {
            c: self,
            t: timeout.into(),
        }
    }

    fn d(&self) -> Timed<'_> {
        self.with_timeout(Timeout::Default)
    }

    /// The default timeout of blocking calls (`None` = wait forever).
    pub fn timeout(&self) -> Option<Duration> {
        self.h.timeout()
    }

    /// Set the default timeout of blocking calls (`None` = forever, zero = poll).
    pub fn set_timeout(&self, t: Option<Duration>) {
        self.h.set_timeout(t)
    }

    /// Send what the socket takes in one system call; returns the bytes sent (waits until at
    /// least one byte can be sent).
    pub fn send(&self, data: &[u8]) -> Result<usize> {
        self.d().send(data)
    }

    /// Send what the socket takes right now if that needs no waiting at all — neither for
    /// buffer space nor for another thread's send in progress: `Ok(None)` otherwise. For callers
    /// holding a lock of their own (Python's GIL) that must not block under it.
    pub fn try_send(&self, data: &[u8]) -> Result<Option<usize>> {
        let s = self.sock("send to")?;
        let _tx = match self.tx.try_lock() {
            Ok(g) => g,
            Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner(),
            Err(std::sync::TryLockError::WouldBlock) => return Ok(None),
        };
        self.h.try_call(&|| self.op("send to"), |fl| {
            s.send_with_flags(data, SEND_FLAGS | fl)
        })
    }

    /// Send all of `data`.
    pub fn send_all(&self, data: &[u8]) -> Result<()> {
        self.d().send_all(data)
    }

    /// Receive into `buf`; returns the bytes received, 0 when the peer closed in order (or `buf`
    /// is empty).
    pub fn recv(&self, buf: &mut [u8]) -> Result<usize> {
        self.d().recv_into(buf)
    }

    /// Receive into the caller's buffer (no allocation); same as [`recv`](Connection::recv).
    pub fn recv_into(&self, buf: &mut [u8]) -> Result<usize> {
        self.d().recv_into(buf)
    }

    /// Receive exactly `n` bytes (`Closed` if the peer closes first; the bytes received so far
    /// stay buffered).
    pub fn recv_exact(&self, n: usize) -> Result<Bytes> {
        self.d().recv_exact(n)
    }

    /// Fill all of `buf`.
    pub fn recv_exact_into(&self, buf: &mut [u8]) -> Result<()> {
        self.d().recv_exact_into(buf)
    }

    /// Receive up to and including `delimiter`; `FrameTooLarge` if `max` bytes arrive without it
    /// (the bytes stay buffered).
    pub fn recv_until(&self, delimiter: &[u8], max: usize) -> Result<Bytes> {
        self.d().recv_until(delimiter, max)
    }

    /// Send one message through the connection's framing.
    pub fn send_msg(&self, msg: &[u8]) -> Result<()> {
        self.d().send_msg(msg)
    }

    /// Send several messages through the connection's framing with as few system calls as
    /// possible (their frames go out together in vectored writes). Every message is checked
    /// against the framing before anything is sent.
    pub fn send_msgs(&self, msgs: &[&[u8]]) -> Result<()> {
        self.d().send_msgs(msgs)
    }

    /// Receive one message through the connection's framing (`Closed` at end of stream).
    pub fn recv_msg(&self) -> Result<Bytes> {
        self.d().recv_msg()
    }

    /// Receive one message into `buf`; returns its length. A message larger than `buf` gives
    /// [`Error::BufferTooSmall`] with the needed size and stays queued for the next call.
    pub fn recv_msg_into(&self, buf: &mut [u8]) -> Result<usize> {
        self.d().recv_msg_into(buf)
    }

    /// Wait for at least one message, then return up to `max` messages that are already here.
    /// `max` 0 is `InvalidArgument` (a loop asking for none would spin).
    pub fn recv_msgs(&self, max: usize) -> Result<Vec<Bytes>> {
        self.d().recv_msgs(max)
    }

    /// Like [`recv_msgs`](Connection::recv_msgs), but the messages are copied one after the other
    /// into `data` (appended), and the end offset in `data` of each is pushed to `ends`; returns
    /// how many were added. No allocation per message: for bindings that copy every message into
    /// an object of their own language anyway.
    pub fn recv_msgs_packed(
        &self,
        max: usize,
        data: &mut Vec<u8>,
        ends: &mut Vec<usize>,
    ) -> Result<usize> {
        self.d().recv_msgs_packed(max, data, ends)
    }

    /// Receive a batch of messages straight into the caller's memory: wait for the first (as
    /// [`recv_msg_into`](Connection::recv_msg_into)), then take those already here, up to
    /// `lens.len()` of them. Their bodies are copied one after the other into `buf`, the length of
    /// message `i` to `lens[i]`; returns how many. One lock, one clock read at most and no
    /// allocation per batch: the batched receive of the C ABI.
    ///
    /// A message that does not fit the room left in `buf` stays queued for the next call; when
    /// even the first does not fit, [`Error::BufferTooSmall`] says its size. An error met after
    /// the first message (an oversized frame) is kept and returned by the next receive call, so
    /// nothing is lost or reported twice. `lens` empty is `InvalidArgument`, as `max` 0 is for
    /// [`recv_msgs`](Connection::recv_msgs).
    pub fn recv_msgs_into(&self, buf: &mut [u8], lens: &mut [usize]) -> Result<usize> {
        self.d().recv_msgs_into(buf, lens)
    }

    /// Send the bytes `offset..offset+len` of the file at `path` (all of the rest when `len` is
    /// `None`), with sendfile(2) on Linux. The timeout applies to each wait for progress.
    pub fn send_file(&self, path: impl AsRef<Path>, offset: u64, len: Option<u64>) -> Result<u64> {
        self.d().send_file(path, offset, len)
    }

    /// Receive exactly `len` bytes into a new file at `path` (created or truncated).
    /// The timeout applies to each wait for progress.
    pub fn recv_file(&self, path: impl AsRef<Path>, len: u64) -> Result<u64> {
        self.d().recv_file(path, len)
    }

    /// The framing used by `send_msg`/`recv_msg`.
    pub fn framing(&self) -> Framing {
        lock(&self.tx).framing.clone()
    }

    /// Change the framing. Bytes already buffered are kept and decoded with the new framing.
    pub fn set_framing(&self, framing: Framing) -> Result<()> {
        framing.validate()?;
        let mut rx = lock(&self.rx);
        let mut tx = lock(&self.tx);
        rx.decoder = Decoder::new(framing.clone());
        tx.plain = framing.plain_prefix();
        tx.framing = framing;
        Ok(())
    }

    /// Shut down reading, writing (half-close) or both.
    pub fn shutdown(&self, how: Shutdown) -> Result<()> {
        let s = self.sock("shutdown")?;
        let how = match how {
            Shutdown::Read => std::net::Shutdown::Read,
            Shutdown::Write => std::net::Shutdown::Write,
            Shutdown::Both => std::net::Shutdown::Both,
        };
        s.shutdown(how)
            .map_err(|e| Error::os(self.op("shutdown"), e))
    }

    /// Bytes that can be read now without waiting (buffered here plus FIONREAD).
    pub fn bytes_available(&self) -> Result<usize> {
        let s = self.sock("bytes_available")?;
        // A receiver blocked in a call holds the receive state: the bytes buffered there are
        // its own (it returns them next), so count only what the kernel holds then.
        let buffered = match self.rx.try_lock() {
            Ok(rx) => rx.buf.len() + rx.pending.as_ref().map_or(0, |p| p.len()),
            Err(std::sync::TryLockError::Poisoned(p)) => {
                let rx = p.into_inner();
                rx.buf.len() + rx.pending.as_ref().map_or(0, |p| p.len())
            }
            Err(std::sync::TryLockError::WouldBlock) => 0,
        };
        Ok(buffered + fionread(&s).map_err(|e| Error::os(self.op("FIONREAD"), e))?)
    }

    /// The local address.
    pub fn local_addr(&self) -> Result<Addr> {
        let s = self.sock("local address")?;
        s.local_addr()
            .map(|a| Addr::from_sockaddr(&a))
            .map_err(|e| Error::os("local address", e))
    }

    /// The peer's address (known even after close).
    pub fn peer_addr(&self) -> Addr {
        self.peer.clone()
    }

    /// True for a Unix stream connection.
    pub fn is_unix(&self) -> bool {
        self.unix
    }

    /// Set an option by number (see [`SockOpt`] for units).
    pub fn set_option(&self, opt: SockOpt, value: i64) -> Result<()> {
        options::set_option(&*self.sock("set option")?, opt, value)
    }

    /// Read an option back from the OS.
    pub fn get_option(&self, opt: SockOpt) -> Result<i64> {
        options::get_option(&*self.sock("get option")?, opt)
    }

    /// Every option that applies, read back from the OS.
    pub fn options(&self) -> Result<SocketOptions> {
        Ok(SocketOptions::read(&*self.sock("read options")?))
    }

    /// Apply several options.
    pub fn apply_options(&self, opts: &SocketOptions) -> Result<()> {
        opts.apply(&*self.sock("set options")?)
    }

    /// The raw file descriptor (for select/poll by the caller; do not close it).
    pub fn fd(&self) -> i32 {
        self.h.fd()
    }

    /// Close now. Idempotent; a call blocked on the connection in another thread returns
    /// [`Error::Closed`]. Dropping the connection closes it too. Input that arrived but was
    /// never read (e.g. the rest of an oversized frame being skipped) is discarded first, so the
    /// peer sees an orderly close (FIN), not a reset that could destroy what it has not read
    /// yet; only `linger(0)` closes with a reset.
    pub fn close(&self) {
        self.h.close_draining(true)
    }

    /// True once [`close`](Connection::close) was called.
    pub fn is_closed(&self) -> bool {
        self.h.is_closed()
    }
}

fn connect_one(
    ep: &Endpoint,
    addr: &Addr,
    opts: &ConnectOptions,
    deadline: &Deadline,
) -> Result<Connection> {
    let op = || format!("connect to {addr}");
    let sa = addr.to_sockaddr()?;
    let (domain, proto) = match addr {
        Addr::Inet(s) => (Domain::for_address(*s), Some(Protocol::TCP)),
        _ => (Domain::UNIX, None),
    };
    let sock = Socket::new(domain, Type::STREAM, proto).map_err(|e| Error::os(op(), e))?;
    let o = &opts.options;
    if domain != Domain::UNIX {
        o.apply(&sock)?;
        if let Some(local) = o.local_addr {
            sock.bind(&local.into())
                .map_err(|e| Error::os(format!("bind {local} before connecting to {addr}"), e))?;
        }
    }
    sock.set_nonblocking(true).map_err(|e| Error::os(op(), e))?;
    let never = std::sync::atomic::AtomicBool::new(false);
    loop {
        match sock.connect(&sa) {
            Ok(()) => break,
            // A Unix listener with a full backlog answers EAGAIN: the connect did not start, so
            // try again shortly (until the deadline) instead of waiting for writability.
            Err(e) if domain == Domain::UNIX && would_block(&e) => {
                let pause = deadline.at_most(Duration::from_millis(10));
                match crate::wait::wait_fd(-1, Ready::Write, &pause, &never, &op) {
                    Err(e) if e.kind() == crate::ErrorKind::Timeout => {
                        if deadline.remaining() == Some(Duration::ZERO) {
                            return Err(deadline.timeout_error(op));
                        }
                    }
                    other => other?,
                }
            }
            Err(e)
                if e.raw_os_error() == Some(libc::EINPROGRESS)
                    || would_block(&e)
                    || interrupted(&e) =>
            {
                crate::wait::wait_fd(
                    std::os::fd::AsRawFd::as_raw_fd(&sock),
                    Ready::Write,
                    deadline,
                    &never,
                    &op,
                )?;
                if let Some(err) = sock.take_error().map_err(|e| Error::os(op(), e))? {
                    return Err(Error::os(op(), err));
                }
                break;
            }
            Err(e) => return Err(Error::os(op(), e)),
        }
    }
    let _ = ep;
    let c = Connection::from_socket(sock, opts.framing.clone())?;
    c.set_timeout(opts.timeout);
    Ok(c)
}

#[cfg(unix)]
fn fionread(s: &Socket) -> std::io::Result<usize> {
    use std::os::fd::AsRawFd;
    let mut n: libc::c_int = 0;
    // SAFETY: FIONREAD writes one int.
    let r = unsafe { libc::ioctl(s.as_raw_fd(), libc::FIONREAD, &mut n) };
    if r < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(n.max(0) as usize)
}

#[cfg(target_os = "linux")]
const SEND_FLAGS: libc::c_int = libc::MSG_NOSIGNAL;
#[cfg(not(target_os = "linux"))]
const SEND_FLAGS: libc::c_int = 0;

/// A view of a [`Connection`] whose blocking calls use one given timeout instead of the default.
/// Made by [`Connection::with_timeout`].
pub struct Timed<'a> {
    c: &'a Connection,
    t: Timeout,
}

impl Timed<'_> {
    fn deadline(&self) -> Deadline {
        Deadline::after(self.t.resolve(&self.c.h))
    }

    /// Like [`Connection::send`].
    pub fn send(&self, data: &[u8]) -> Result<usize> {
        let s = self.c.sock("send to")?;
        let _tx = lock(&self.c.tx);
        self.send_some(&s, data, &self.deadline())
    }

    fn send_some(&self, s: &Socket, data: &[u8], deadline: &Deadline) -> Result<usize> {
        let op = || self.c.op("send to");
        self.c.h.call_send(s, deadline, &op, |fl| {
            s.send_with_flags(data, SEND_FLAGS | fl)
        })
    }

    /// Like [`Connection::send_all`].
    pub fn send_all(&self, data: &[u8]) -> Result<()> {
        let s = self.c.sock("send to")?;
        let _tx = lock(&self.c.tx);
        let deadline = self.deadline();
        let mut off = 0;
        while off < data.len() {
            if off > 0 {
                // A signal may have cut the last send short (send_some waits unsliced).
                self.c.h.check_interrupt(&|| self.c.op("send to"))?;
            }
            off += self.send_some(&s, &data[off..], &deadline)?;
        }
        Ok(())
    }

    /// Like [`Connection::send_msg`]. A frame of a message up to 16 KiB is built in the
    /// connection's reused send buffer and goes out with one plain send; a larger body goes out
    /// from where it is, in a vectored write with its header.
    pub fn send_msg(&self, msg: &[u8]) -> Result<()> {
        let s = self.c.sock("send message to")?;
        let mut tx = lock(&self.c.tx);
        let Tx {
            framing,
            plain,
            stage,
        } = &mut *tx;
        if msg.len() <= COPY_MAX {
            stage.clear();
            match plain {
                Some(f) if f.encode_into(msg, stage) => {}
                _ => {
                    framing.check_msg(msg)?;
                    framing.encode_unchecked_into(msg, stage);
                }
            }
            let deadline = self.deadline();
            let r = self.send_all_on(&s, stage, &deadline, "send message to");
            stage.clear();
            return r;
        }
        let parts = framing.encode_parts(msg)?;
        let deadline = self.deadline();
        let mut slices = [parts.header.as_bytes(), parts.body, parts.trailer];
        self.send_slices(&s, &mut slices, &deadline)
    }

    /// Send all of `data`.
    fn send_all_on(&self, s: &Socket, data: &[u8], deadline: &Deadline, what: &str) -> Result<()> {
        let op = || self.c.op(what);
        let mut off = 0;
        while off < data.len() {
            off += self.c.h.call(s, Ready::Write, deadline, &op, |fl| {
                s.send_with_flags(&data[off..], SEND_FLAGS | fl)
            })?;
        }
        Ok(())
    }

    /// Send all of `slices` (at most a few) with vectored writes; the slices are used up.
    fn send_slices(&self, s: &Socket, slices: &mut [&[u8]], deadline: &Deadline) -> Result<()> {
        const MAX: usize = 4;
        let op = || self.c.op("send message to");
        let mut total: usize = slices.iter().map(|sl| sl.len()).sum();
        while total > 0 {
            let mut io = [IoSlice::new(&[]); MAX];
            let mut k = 0;
            for sl in slices.iter().filter(|sl| !sl.is_empty()).take(MAX) {
                io[k] = IoSlice::new(sl);
                k += 1;
            }
            let mut n = self.c.h.call(s, Ready::Write, deadline, &op, |fl| {
                s.send_vectored_with_flags(&io[..k], SEND_FLAGS | fl)
            })?;
            total -= n;
            for sl in slices.iter_mut() {
                let k = n.min(sl.len());
                *sl = &sl[k..];
                n -= k;
            }
        }
        Ok(())
    }

    /// Like [`Connection::send_msgs`]. Frames are copied into one reused buffer that goes out
    /// with one plain send (one contiguous copy is cheaper for the kernel than a vector of two
    /// pieces per message). A batch over 256 KiB is checked first and then sent 64 KiB at a
    /// time, a body over 16 KiB from where it is, in a vectored write with the frames staged
    /// before it.
    pub fn send_msgs(&self, msgs: &[&[u8]]) -> Result<()> {
        let s = self.c.sock("send message to")?;
        let mut tx = lock(&self.c.tx);
        let Tx {
            framing,
            plain,
            stage,
        } = &mut *tx;
        let bodies: usize = msgs.iter().map(|m| m.len()).sum();
        stage.clear();
        let r = if bodies <= 4 * STAGE {
            // One pass: each message is checked as it is copied, and all go out together once
            // the last one passed.
            stage.reserve(bodies + msgs.len() * framing_overhead(framing));
            let mut ok = Ok(());
            if let Some(f) = plain {
                for m in msgs {
                    if !f.encode_into(m, stage) {
                        ok = framing.check_msg(m);
                        debug_assert!(ok.is_err());
                        break;
                    }
                }
            } else {
                for m in msgs {
                    if let Err(e) = framing.check_msg(m) {
                        ok = Err(e);
                        break;
                    }
                    framing.encode_unchecked_into(m, stage);
                }
            }
            ok.and_then(|()| {
                let deadline = self.deadline();
                self.send_all_on(&s, stage, &deadline, "send message to")
            })
        } else {
            self.send_msgs_large(&s, framing, stage, msgs)
        };
        stage.clear();
        if stage.capacity() > 4 * STAGE {
            *stage = Vec::new();
        }
        r
    }

    /// `send_msgs` for more than [`STAGE`] bytes: every message checked first, then the frames
    /// staged and sent [`STAGE`] bytes at a time, a body over [`COPY_MAX`] sent from where it is.
    fn send_msgs_large(
        &self,
        s: &Socket,
        framing: &Framing,
        stage: &mut Vec<u8>,
        msgs: &[&[u8]],
    ) -> Result<()> {
        for m in msgs {
            framing.check_msg(m)?;
        }
        let deadline = self.deadline();
        let plain = framing.plain_prefix();
        for m in msgs {
            if m.len() > COPY_MAX {
                let p = framing.parts_unchecked(m);
                stage.extend_from_slice(p.header.as_bytes());
                let mut slices = [&stage[..], p.body, p.trailer];
                self.send_slices(s, &mut slices, &deadline)?;
                stage.clear();
                continue;
            }
            match plain {
                Some(f) => {
                    f.encode_into(m, stage);
                }
                None => framing.encode_unchecked_into(m, stage),
            }
            if stage.len() >= STAGE {
                self.send_all_on(s, stage, &deadline, "send message to")?;
                stage.clear();
            }
        }
        if !stage.is_empty() {
            self.send_all_on(s, stage, &deadline, "send message to")?;
        }
        Ok(())
    }

    /// Read once from the socket into the receive buffer; Ok(0) = end of stream.
    fn fill(
        &self,
        s: &Socket,
        rx: &mut Rx,
        want: usize,
        deadline: &Deadline,
        what: &str,
    ) -> Result<usize> {
        // Read into the free space when there is enough of it; else make room: BytesMut moves
        // the unread bytes to the front when they are few (no allocation in a steady stream of
        // small frames), and grows the buffer for a frame that does not fit. The room asked for
        // is at most what is already buffered (or one chunk): a frame grows the buffer by
        // doubling as its bytes arrive, so memory follows the bytes received, never the length a
        // peer's header claims.
        let want = want.min(rx.buf.len().max(READ_CHUNK));
        if rx.buf.capacity() == 0 {
            rx.buf.reserve(want.max(READ_CHUNK));
        } else if rx.buf.capacity() - rx.buf.len() < want.max(MIN_READ) {
            rx.buf.reserve(want.max(READ_CHUNK / 2));
        }
        let op = || self.c.op(what);
        let buf = &mut rx.buf;
        let n = self.c.h.call(s, Ready::Read, deadline, &op, |fl| {
            s.recv_with_flags(buf.spare_capacity_mut(), fl)
        })?;
        // SAFETY: recv initialised n bytes of the spare capacity.
        unsafe { rx.buf.set_len(rx.buf.len() + n) };
        Ok(n)
    }

    /// Like [`Connection::recv_into`].
    pub fn recv_into(&self, buf: &mut [u8]) -> Result<usize> {
        let s = self.c.sock("recv from")?;
        let mut rx = lock(&self.c.rx);
        if let Some(p) = rx.pending.take() {
            let n = p.len().min(buf.len());
            buf[..n].copy_from_slice(&p[..n]);
            if n < p.len() {
                rx.pending = Some(p.slice(n..));
            }
            return Ok(n);
        }
        if !rx.buf.is_empty() {
            let n = rx.buf.len().min(buf.len());
            buf[..n].copy_from_slice(&rx.buf[..n]);
            let _ = rx.buf.split_to(n);
            rx.decoder.reset();
            return Ok(n);
        }
        if buf.is_empty() {
            return Ok(0);
        }
        // The receive lock stays held: receivers are serialised, so the kernel timeout set for
        // this call is this call's.
        let deadline = self.deadline();
        let op = || self.c.op("recv from");
        // SAFETY: an initialised &mut [u8] is a valid &mut [MaybeUninit<u8>]; recv only writes.
        let uninit = unsafe { &mut *(buf as *mut [u8] as *mut [std::mem::MaybeUninit<u8>]) };
        let n = self.c.h.call(&s, Ready::Read, &deadline, &op, |fl| {
            s.recv_with_flags(uninit, fl)
        })?;
        drop(rx);
        Ok(n)
    }

    /// Make sure the receive buffer holds at least `n` bytes (pending message first).
    fn buffer_at_least(
        &self,
        s: &Socket,
        rx: &mut Rx,
        n: usize,
        deadline: &Deadline,
        what: &str,
    ) -> Result<()> {
        if let Some(p) = rx.pending.take() {
            let mut b = BytesMut::with_capacity(p.len() + rx.buf.len());
            b.extend_from_slice(&p);
            b.extend_from_slice(&rx.buf);
            rx.buf = b;
        }
        while rx.buf.len() < n {
            let missing = n - rx.buf.len();
            if self.fill(s, rx, missing, deadline, what)? == 0 {
                return Err(Error::closed(format!(
                    "{} ({} of {n} bytes arrived before the peer closed)",
                    self.c.op(what),
                    rx.buf.len()
                )));
            }
        }
        Ok(())
    }

    /// Like [`Connection::recv_exact`].
    pub fn recv_exact(&self, n: usize) -> Result<Bytes> {
        let s = self.c.sock("recv from")?;
        let mut rx = lock(&self.c.rx);
        let deadline = self.deadline();
        self.buffer_at_least(&s, &mut rx, n, &deadline, "recv from")?;
        rx.decoder.reset();
        Ok(rx.buf.split_to(n).freeze())
    }

    /// Like [`Connection::recv_exact_into`]. Reads straight into `buf`; on a timeout or error the
    /// bytes already received are put back into the connection's buffer, so nothing is lost.
    pub fn recv_exact_into(&self, buf: &mut [u8]) -> Result<()> {
        let s = self.c.sock("recv from")?;
        let mut rx = lock(&self.c.rx);
        let deadline = self.deadline();
        let mut got = 0;
        if let Some(p) = rx.pending.take() {
            let n = p.len().min(buf.len());
            buf[..n].copy_from_slice(&p[..n]);
            got = n;
            if n < p.len() {
                rx.pending = Some(p.slice(n..));
                return Ok(());
            }
        }
        let n = rx.buf.len().min(buf.len() - got);
        buf[got..got + n].copy_from_slice(&rx.buf[..n]);
        let _ = rx.buf.split_to(n);
        got += n;
        rx.decoder.reset();
        let op = || self.c.op("recv from");
        while got < buf.len() {
            let dst = &mut buf[got..];
            // SAFETY: as in recv_into.
            let uninit = unsafe { &mut *(dst as *mut [u8] as *mut [std::mem::MaybeUninit<u8>]) };
            let r = match self.c.h.call(&s, Ready::Read, &deadline, &op, |fl| {
                s.recv_with_flags(uninit, fl)
            }) {
                Ok(0) => Err(Error::closed(format!(
                    "{} ({got} of {} bytes arrived before the peer closed)",
                    op(),
                    buf.len()
                ))),
                Ok(k) => {
                    got += k;
                    continue;
                }
                Err(e) => Err(e),
            };
            if let Err(e) = r as Result<()> {
                // Put back what arrived so a retry sees it.
                let mut back = BytesMut::with_capacity(got + rx.buf.len());
                back.extend_from_slice(&buf[..got]);
                back.extend_from_slice(&rx.buf);
                rx.buf = back;
                return Err(e);
            }
        }
        Ok(())
    }

    /// Like [`Connection::recv_until`].
    pub fn recv_until(&self, delimiter: &[u8], max: usize) -> Result<Bytes> {
        if delimiter.is_empty() {
            return Err(Error::invalid("empty delimiter"));
        }
        let s = self.c.sock("recv from")?;
        let mut rx = lock(&self.c.rx);
        let deadline = self.deadline();
        self.buffer_at_least(&s, &mut rx, 0, &deadline, "recv from")?;
        let mut scanned: usize = 0;
        loop {
            let from = scanned.saturating_sub(delimiter.len() - 1);
            if let Some(i) = memchr::memmem::find(&rx.buf[from..], delimiter) {
                let end = from + i + delimiter.len();
                if end > max {
                    return Err(Error::FrameTooLarge {
                        len: end as u64,
                        max: max as u64,
                    });
                }
                rx.decoder.reset();
                return Ok(rx.buf.split_to(end).freeze());
            }
            scanned = rx.buf.len();
            if scanned >= max {
                return Err(Error::FrameTooLarge {
                    len: scanned as u64,
                    max: max as u64,
                });
            }
            if self.fill(&s, &mut rx, 0, &deadline, "recv from")? == 0 {
                return Err(Error::closed(format!(
                    "{} (end of stream before the delimiter)",
                    self.c.op("recv from")
                )));
            }
        }
    }

    /// The receive state, or `Closed` (checked first, as every call on a closed connection is).
    fn rx(&self) -> Result<std::sync::MutexGuard<'_, Rx>> {
        if self.c.h.is_closed() {
            return Err(Error::closed(self.c.op(RECV_MSG)));
        }
        Ok(lock(&self.c.rx))
    }

    /// Where the next message lies in the receive buffer (see [`Rx::next_range`]): at once when
    /// a whole one is buffered (no clock read, no system call), else after reading until one is.
    /// The caller handles `pending` and `error` first.
    #[inline]
    fn next_in_buf(&self, rx: &mut Rx) -> Result<(usize, usize, usize)> {
        if let Some(at) = rx.next_range()? {
            return Ok(at);
        }
        self.read_msg(rx)
    }

    /// [`next_in_buf`](Timed::next_in_buf) when no whole message is buffered: read until one is.
    fn read_msg(&self, rx: &mut Rx) -> Result<(usize, usize, usize)> {
        let s = self.c.sock(RECV_MSG)?;
        let deadline = self.deadline();
        loop {
            let want = rx.decoder.needed(&rx.buf);
            if self.fill(&s, rx, want, &deadline, RECV_MSG)? == 0 {
                let partial = rx.buf.len();
                return Err(Error::closed(if partial == 0 {
                    self.c.op(RECV_MSG)
                } else {
                    format!(
                        "{} (end of stream inside a frame, {partial} bytes left over)",
                        self.c.op(RECV_MSG)
                    )
                }));
            }
            if let Some(at) = rx.next_range()? {
                return Ok(at);
            }
        }
    }

    /// Like [`Connection::recv_msg`].
    pub fn recv_msg(&self) -> Result<Bytes> {
        let mut rx = self.rx()?;
        if rx.pending.is_some() || rx.error.is_some() {
            return Self::kept(&mut rx);
        }
        let at = match rx.decoder.cut_plain(&rx.buf) {
            Some((start, end)) => (start, end, end),
            None => self.next_in_buf(&mut rx)?,
        };
        Ok(rx.take_bytes(at))
    }

    /// The message or error kept from an earlier call.
    #[cold]
    fn kept(rx: &mut Rx) -> Result<Bytes> {
        match rx.pending.take() {
            Some(p) => Ok(p),
            None => Err(rx.error.take().expect("a kept message or error")),
        }
    }

    /// Keep `m` for the next call and say it needs more room than `capacity`.
    #[cold]
    fn too_small(rx: &mut Rx, m: Bytes, capacity: usize) -> Error {
        let needed = m.len();
        rx.pending = Some(m);
        Error::BufferTooSmall { needed, capacity }
    }

    /// Like [`Connection::recv_msg_into`]: the message is copied straight from the receive
    /// buffer.
    pub fn recv_msg_into(&self, buf: &mut [u8]) -> Result<usize> {
        let mut rx = self.rx()?;
        if rx.pending.is_some() || rx.error.is_some() {
            return self.recv_msg_into_kept(&mut rx, buf);
        }
        if let Some((start, end)) = rx.decoder.cut_plain(&rx.buf) {
            // The usual case in a stream of small frames: the next one is here already.
            let n = end - start;
            if n <= buf.len() {
                buf[..n].copy_from_slice(&rx.buf[start..end]);
                rx.buf.advance(end);
                return Ok(n);
            }
        }
        let at = self.next_in_buf(&mut rx)?;
        let n = at.1 - at.0;
        if n > buf.len() {
            // Keep it for the next call (the decoder has moved past it).
            rx.pending = Some(rx.take_bytes(at));
            return Err(Error::BufferTooSmall {
                needed: n,
                capacity: buf.len(),
            });
        }
        buf[..n].copy_from_slice(&rx.buf[at.0..at.1]);
        rx.take(at);
        Ok(n)
    }

    /// `recv_msg_into` when a message or an error was kept from an earlier call.
    #[cold]
    fn recv_msg_into_kept(&self, rx: &mut Rx, buf: &mut [u8]) -> Result<usize> {
        if let Some(p) = rx.pending.take() {
            if p.len() > buf.len() {
                let needed = p.len();
                rx.pending = Some(p);
                return Err(Error::BufferTooSmall {
                    needed,
                    capacity: buf.len(),
                });
            }
            buf[..p.len()].copy_from_slice(&p);
            return Ok(p.len());
        }
        Err(rx.error.take().expect("a kept error"))
    }

    /// Like [`Connection::recv_msgs`].
    pub fn recv_msgs(&self, max: usize) -> Result<Vec<Bytes>> {
        let mut sink = BytesSink {
            out: Vec::new(),
            ranges: Vec::new(),
        };
        self.recv_batch(max, &mut sink)?;
        Ok(sink.out)
    }

    /// Like [`Connection::recv_msgs_packed`].
    pub fn recv_msgs_packed(
        &self,
        max: usize,
        data: &mut Vec<u8>,
        ends: &mut Vec<usize>,
    ) -> Result<usize> {
        self.recv_batch(max, &mut PackedSink { data, ends })
    }

    /// Like [`Connection::recv_msgs_into`].
    pub fn recv_msgs_into(&self, out: &mut [u8], lens: &mut [usize]) -> Result<usize> {
        let max = lens.len();
        self.recv_batch(
            max,
            &mut SliceSink {
                out,
                at: 0,
                lens,
                n: 0,
            },
        )
    }

    /// Wait for one message, then hand up to `max` messages that are here to `sink`; one extra
    /// read that does not wait when the buffer runs out first. Returns the count.
    fn recv_batch(&self, max: usize, sink: &mut impl Sink) -> Result<usize> {
        if max == 0 {
            return Err(Error::invalid(
                "receive at most 0 messages: a batch receive must allow at least one",
            ));
        }
        let mut rx = self.rx()?;
        // Bytes at the front of the buffer used up by the messages handed to the sink; they
        // are dropped in one go (flush) before a read and at the end.
        let mut used = 0;
        if let Some(p) = rx.pending.take() {
            if p.len() > sink.room() {
                return Err(Self::too_small(&mut rx, p, sink.room()));
            }
            sink.pending(p);
        } else if let Some(e) = rx.error.take() {
            return Err(e);
        } else {
            let (a, b, consumed) = self.next_in_buf(&mut rx)?;
            if b - a > sink.room() {
                let m = rx.take_bytes((a, b, consumed));
                return Err(Self::too_small(&mut rx, m, sink.room()));
            }
            sink.msg(&rx.buf, a, b);
            used = consumed;
        }
        let mut n = 1;
        let mut read_more = true;
        while n < max {
            let Rx { buf, decoder, .. } = &mut *rx;
            let cut = decoder.cut(&buf[used..]);
            match cut.msg {
                Ok(Some((a, b))) if b - a > sink.room() => {
                    // It stays queued, kept whole for the next call (the decoder has moved
                    // past it).
                    sink.flush(buf, used);
                    let m = rx.take_bytes((a, b, cut.consumed));
                    rx.pending = Some(m);
                    return Ok(n);
                }
                Ok(Some((a, b))) => {
                    sink.msg(buf, used + a, used + b);
                    used += cut.consumed;
                    n += 1;
                }
                Ok(None) if read_more => {
                    used += cut.consumed;
                    read_more = false;
                    sink.flush(buf, used);
                    used = 0;
                    let Ok(s) = self.c.sock(RECV_MSG) else { break };
                    let poll = Deadline::after(Some(Duration::ZERO));
                    match self.fill(&s, &mut rx, 0, &poll, RECV_MSG) {
                        Ok(k) if k > 0 => {}
                        _ => break,
                    }
                }
                Ok(None) => {
                    used += cut.consumed;
                    break;
                }
                // Deliver what we have; report the error on the next call. An oversized frame
                // is already skipped by the decoder, so keep its error; any other error comes
                // back from the decoder by itself.
                Err(e) => {
                    used += cut.consumed;
                    if e.kind() == crate::ErrorKind::FrameTooLarge {
                        rx.error = Some(e);
                    }
                    break;
                }
            }
        }
        sink.flush(&mut rx.buf, used);
        Ok(n)
    }

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
            // The timeout applies to each wait for progress.
            deadline = self.deadline();
        }
        Ok(sent)
    }

    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    fn send_file_impl(&self, s: &Socket, file: &File, offset: u64, len: u64) -> Result<u64> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ErrorKind, ListenOptions, Listener};
    use std::time::Instant;

    #[test]
    fn unix_connect_to_full_backlog_times_out() {
        let dir = std::env::temp_dir().join(format!("libsock-ut-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let ep = format!("unix:{}", dir.join("full.sock").display());
        let l = Listener::bind_with(ep.as_str(), &ListenOptions::new().backlog(0)).unwrap();
        // Fill the queue: connections nobody accepts.
        let mut held = Vec::new();
        let t = Duration::from_millis(200);
        let err = loop {
            match Connection::connect_timeout(ep.as_str(), t) {
                Ok(c) => held.push(c),
                Err(e) => break e,
            }
            assert!(held.len() < 64, "backlog never filled");
        };
        assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
        let start = Instant::now();
        let err = Connection::connect_timeout(ep.as_str(), t).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
        assert!(start.elapsed() < t * 10, "took {:?}", start.elapsed());
        drop(l);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
