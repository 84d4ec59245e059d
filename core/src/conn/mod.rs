//! [`Connection`]: a blocking TCP or Unix stream connection with timeouts and framing.
//!
//! One file per concern: `connect` (making connections), `recv` (the receive side: buffer,
//! decoder, message batches), `send` (the send side: frames, batches), `file` (sending and
//! receiving files); this file holds the types and the public API that delegates to them.

mod connect;
mod file;
mod recv;
mod send;
mod tls;
#[cfg(unix)]
mod unix;

pub use tls::TlsInfo;
#[cfg(unix)]
pub use unix::{PeerCredentials, MAX_FDS};

use recv::Rx;
use send::Tx;

use std::fs::File;
use std::io::{IoSlice, Write};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

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

/// The largest internal read: a stream whose reads keep filling the buffer gets reads up to
/// this size (fewer system calls per message), one that does not keeps [`READ_CHUNK`].
const MAX_READ_CHUNK: usize = 256 * 1024;

/// `send_msgs` copies frames into one buffer and sends it in pieces of at most about this
/// size (a batch of bodies up to this size goes out with one send).
const STAGE: usize = 256 * 1024;

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
    /// TLS: the handshake completes (within the settings' handshake timeout) before
    /// `connect` returns; every byte after it is encrypted.
    pub tls: Option<crate::tls::ClientTls>,
    /// Connect through this proxy (SOCKS5 or HTTP `CONNECT`): the connect timeout covers
    /// reaching the proxy and its exchange; TLS, when set, runs end to end with the target
    /// over the tunnel (the server name checked is the target's host, not the proxy's).
    /// Without a connect timeout, a proxy that accepts and then stays silent is waited for as
    /// long as any call without a timeout waits. [`Connection::peer_addr`] is the proxy's
    /// address.
    pub proxy: Option<crate::Proxy>,
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
    /// Speak TLS with these settings (see [`crate::tls::TlsClient`]).
    pub fn tls(mut self, tls: crate::tls::ClientTls) -> Self {
        self.tls = Some(tls);
        self
    }
    /// Connect through a proxy (see [`ConnectOptions::proxy`](ConnectOptions#structfield.proxy)
    /// and [`crate::Proxy`]).
    pub fn proxy(mut self, proxy: crate::Proxy) -> Self {
        self.proxy = Some(proxy);
        self
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
    /// The TLS session, when the connection speaks TLS.
    tls: Option<tls::Session>,
    /// What went through it (see [`Connection::stats`]).
    counters: Counters,
}

/// A connection's counters, atomics so that [`Connection::stats`] never waits behind a call
/// blocked with the send or receive lock held (relaxed: each is a tally, read as a snapshot).
struct Counters {
    since: SystemTime,
    bytes_in: AtomicU64,
    bytes_out: AtomicU64,
    messages_in: AtomicU64,
    messages_out: AtomicU64,
}

impl Counters {
    fn new() -> Counters {
        Counters {
            since: SystemTime::now(),
            bytes_in: AtomicU64::new(0),
            bytes_out: AtomicU64::new(0),
            messages_in: AtomicU64::new(0),
            messages_out: AtomicU64::new(0),
        }
    }

    fn add(c: &AtomicU64, n: usize) {
        c.fetch_add(n as u64, Ordering::Relaxed);
    }

    /// Count `n` messages received. Only callers holding the receive lock change
    /// `messages_in`, so a plain load and store do (no locked read-modify-write per message).
    fn tally_in(&self, n: usize) {
        let c = &self.messages_in;
        c.store(c.load(Ordering::Relaxed) + n as u64, Ordering::Relaxed);
    }

    /// Count `n` messages sent; only callers holding the send lock change `messages_out`
    /// (see [`tally_in`](Counters::tally_in)).
    fn tally_out(&self, n: usize) {
        let c = &self.messages_out;
        c.store(c.load(Ordering::Relaxed) + n as u64, Ordering::Relaxed);
    }
}

/// One connection's counters: a blocking [`Connection`]'s ([`Connection::stats`]) or one client
/// of an engine server's ([`Server::client_stats`](crate::engine::Server::client_stats)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionStats {
    /// The peer's address.
    pub peer: Addr,
    /// When the connection was made (a server's client: admitted, accepted and with TLS its
    /// handshake done).
    pub connected_since: SystemTime,
    /// Bytes received from the peer (with TLS: decrypted application bytes).
    pub bytes_in: u64,
    /// Bytes sent to the peer (frames with their headers; with TLS: application bytes).
    pub bytes_out: u64,
    /// Application messages received (heartbeats not counted; a blocking connection counts the
    /// messages its `recv_msg` family returned).
    pub messages_in: u64,
    /// Frames written (an engine's heartbeats included; a blocking connection counts the
    /// messages its `send_msg` family sent).
    pub messages_out: u64,
    /// Bytes waiting in the send queue (an engine's client; always 0 for a blocking connection,
    /// which queues nothing).
    pub queued_bytes: u64,
    /// It speaks TLS.
    pub tls: bool,
}

impl Drop for Connection {
    fn drop(&mut self) {
        // The same orderly close as `close` (a no-op when it was called).
        self.close();
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
    fn op(&self, what: &str) -> String {
        format!("{what} {}", self.peer)
    }

    fn sock(&self, what: &str) -> Result<SockRef<'_>> {
        self.h.get(&|| self.op(what))
    }

    /// What went through this connection so far: bytes and messages each way, and when it was
    /// made. Never waits, even while another thread is blocked in a call on it.
    ///
    /// ```
    /// let (a, b) = libsock::Connection::pair().unwrap();
    /// a.send_all(b"ping").unwrap();
    /// assert_eq!(&b.recv_exact(4).unwrap()[..], b"ping");
    /// assert_eq!(a.stats().bytes_out, 4);
    /// assert_eq!(b.stats().bytes_in, 4);
    /// ```
    pub fn stats(&self) -> ConnectionStats {
        let c = &self.counters;
        ConnectionStats {
            peer: self.peer.clone(),
            connected_since: c.since,
            bytes_in: c.bytes_in.load(Ordering::Relaxed),
            bytes_out: c.bytes_out.load(Ordering::Relaxed),
            messages_in: c.messages_in.load(Ordering::Relaxed),
            messages_out: c.messages_out.load(Ordering::Relaxed),
            queued_bytes: 0,
            tls: self.tls.is_some(),
        }
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
        let sent = match &self.tls {
            Some(t) => t.try_send(&s, data, &|| self.op("send to")),
            None => self.h.try_call(&|| self.op("send to"), |fl| {
                s.send_with_flags(data, SEND_FLAGS | fl)
            }),
        }?;
        if let Some(n) = sent {
            Counters::add(&self.counters.bytes_out, n);
        }
        Ok(sent)
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

    /// Like [`send_msgs`](Connection::send_msgs), for messages lying one after the other in
    /// `data`, message `i` being the next `lens[i]` bytes (the lengths must add up to
    /// `data.len()`, else `InvalidArgument` and nothing is sent). No slice per message: the
    /// batched send of the C ABI, the counterpart of
    /// [`recv_msgs_into`](Connection::recv_msgs_into).
    ///
    /// ```
    /// let (a, b) = libsock::Connection::pair().unwrap();
    /// a.set_framing(libsock::Framing::length_prefixed()).unwrap();
    /// b.set_framing(libsock::Framing::length_prefixed()).unwrap();
    /// a.send_msgs_packed(b"onetwo", &[3, 0, 3]).unwrap();
    /// assert_eq!(&b.recv_msg().unwrap()[..], b"one");
    /// assert_eq!(&b.recv_msg().unwrap()[..], b"");
    /// assert_eq!(&b.recv_msg().unwrap()[..], b"two");
    /// ```
    pub fn send_msgs_packed(&self, data: &[u8], lens: &[usize]) -> Result<()> {
        self.d().send_msgs_packed(data, lens)
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
        if let (Some(t), Shutdown::Write | Shutdown::Both) = (&self.tls, how) {
            // The peer reads a clean end of stream after everything sent.
            let _tx = lock(&self.tx);
            let op = || self.op("TLS close_notify to");
            t.close_notify(&self.h, &s, &Deadline::after(self.h.timeout()), &op)?;
        }
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
        if let Some(t) = &self.tls {
            // The kernel holds ciphertext: count the plaintext the session has decrypted.
            return Ok(buffered + t.buffered());
        }
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
        // With TLS: close_notify, best effort and without waiting (a caller who needs it
        // delivered calls `shutdown(Write)` first, which waits), once the connection counts as
        // closed: a receive blocked in another thread returns the close, not the peer's reply.
        self.h.close_draining_after(true, |s| {
            if let Some(t) = &self.tls {
                t.close_now(s);
            }
        })
    }

    /// True when the connection speaks TLS.
    pub fn is_tls(&self) -> bool {
        self.tls.is_some()
    }

    /// What the TLS handshake agreed on (version, cipher suite, ALPN, the peer's
    /// certificates); `None` for a plain connection.
    pub fn tls_info(&self) -> Option<TlsInfo> {
        self.tls.as_ref().map(|t| t.info())
    }

    /// True once [`close`](Connection::close) was called.
    pub fn is_closed(&self) -> bool {
        self.h.is_closed()
    }
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

    /// One receive into `buf`: from the socket, or the TLS session's plaintext. 0 = the end of
    /// the stream.
    fn sock_recv(
        &self,
        s: &Socket,
        buf: &mut [std::mem::MaybeUninit<u8>],
        deadline: &Deadline,
        op: &dyn Fn() -> String,
    ) -> Result<usize> {
        let n = match &self.c.tls {
            Some(t) => t.recv(&self.c.h, s, buf, deadline, op),
            None => self.c.h.call(s, Ready::Read, deadline, op, |fl| {
                s.recv_with_flags(buf, fl)
            }),
        }?;
        Counters::add(&self.c.counters.bytes_in, n);
        Ok(n)
    }

    /// One send of some of `data` (to the socket, or the TLS session); `stream_part` says the
    /// caller sends the rest at once (see [`Holder::call_send`]).
    fn sock_send(
        &self,
        s: &Socket,
        data: &[u8],
        deadline: &Deadline,
        op: &dyn Fn() -> String,
        stream_part: bool,
    ) -> Result<usize> {
        let n = match &self.c.tls {
            Some(t) => t.send(&self.c.h, s, data, deadline, op),
            None if stream_part => self.c.h.call(s, Ready::Write, deadline, op, |fl| {
                s.send_with_flags(data, SEND_FLAGS | fl)
            }),
            None => self.c.h.call_send(s, deadline, op, |fl| {
                s.send_with_flags(data, SEND_FLAGS | fl)
            }),
        }?;
        Counters::add(&self.c.counters.bytes_out, n);
        Ok(n)
    }

    /// With TLS: wait until what the session took has gone to the socket (a plain connection
    /// has nothing to flush).
    fn sock_flush(&self, s: &Socket, deadline: &Deadline, op: &dyn Fn() -> String) -> Result<()> {
        match &self.c.tls {
            Some(t) => t.flush(&self.c.h, s, deadline, op),
            None => Ok(()),
        }
    }
}
