//! The socket inside every libsock object: closable from any thread while another thread waits on
//! it, with a default timeout.
//!
//! `close` sets a flag, shuts the socket down if calls are in flight (which wakes any thread
//! blocked in a system call on it) and then releases the file descriptor once those calls have returned;
//! so a closed descriptor number is never used again by a late call (no fd-reuse race). With no
//! call in flight the descriptor is closed at once, keeping SO_LINGER's meaning (0 = reset).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, RwLock, RwLockReadGuard, TryLockError};
use std::time::Duration;

use socket2::Socket;

use crate::error::{Error, Result};
use crate::wait::{installed, interrupted, would_block, Deadline, RawFd, Ready, INTERRUPT_SLICE};

const NO_TIMEOUT: u64 = u64::MAX;
/// The kernel timeout (SO_RCVTIMEO / SO_SNDTIMEO) is not known yet.
const UNKNOWN: u64 = u64::MAX;

/// Flag for a call that must not wait (a poll, timeout zero).
pub(crate) const DONTWAIT: libc::c_int = libc::MSG_DONTWAIT;

pub(crate) struct Holder {
    sock: RwLock<Option<Socket>>,
    fd: RawFd,
    closed: AtomicBool,
    timeout_ns: AtomicU64,
    /// The SO_RCVTIMEO / SO_SNDTIMEO now set on the socket, in microseconds (0 = none).
    rcv_timeo_us: AtomicU64,
    snd_timeo_us: AtomicU64,
    /// Serialise waiting calls per direction where the object itself does not (datagram sockets,
    /// listeners), so that one thread's kernel timeout cannot stretch another thread's wait.
    rx_lock: Mutex<()>,
    tx_lock: Mutex<()>,
}

/// A borrowed socket, valid while the guard lives.
pub(crate) struct SockRef<'a>(RwLockReadGuard<'a, Option<Socket>>);

impl std::ops::Deref for SockRef<'_> {
    type Target = Socket;
    fn deref(&self) -> &Socket {
        // Checked to be Some when the guard was made.
        self.0.as_ref().expect("socket present")
    }
}

impl Holder {
    pub(crate) fn new(sock: Socket) -> Result<Holder> {
        use std::os::fd::AsRawFd;
        // Blocking mode: a call that must wait makes one system call, bounded by the kernel
        // timeout (see `call`), instead of try + poll + retry.
        sock.set_nonblocking(false)
            .map_err(|e| Error::os("set blocking mode", e))?;
        #[cfg(any(target_vendor = "apple", target_os = "freebsd"))]
        let _ = sock.set_nosigpipe(true);
        Ok(Holder {
            fd: sock.as_raw_fd(),
            sock: RwLock::new(Some(sock)),
            closed: AtomicBool::new(false),
            timeout_ns: AtomicU64::new(NO_TIMEOUT),
            rcv_timeo_us: AtomicU64::new(UNKNOWN),
            snd_timeo_us: AtomicU64::new(UNKNOWN),
            rx_lock: Mutex::new(()),
            tx_lock: Mutex::new(()),
        })
    }

    /// The socket, or `Closed` for `op`.
    pub(crate) fn get(&self, op: &dyn Fn() -> String) -> Result<SockRef<'_>> {
        if self.closed.load(Ordering::Acquire) {
            return Err(Error::closed(op()));
        }
        let g = self.sock.read().unwrap_or_else(|p| p.into_inner());
        if g.is_none() {
            return Err(Error::closed(op()));
        }
        Ok(SockRef(g))
    }

    pub(crate) fn fd(&self) -> RawFd {
        self.fd
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Serialise waiting calls in one direction (for objects without their own lock).
    pub(crate) fn lock(&self, ready: Ready) -> MutexGuard<'_, ()> {
        let m = match ready {
            Ready::Read => &self.rx_lock,
            Ready::Write => &self.tx_lock,
        };
        m.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// [`Holder::lock`] if nobody holds it, else `None` (for calls that must not wait).
    pub(crate) fn try_lock(&self, ready: Ready) -> Option<MutexGuard<'_, ()>> {
        let m = match ready {
            Ready::Read => &self.rx_lock,
            Ready::Write => &self.tx_lock,
        };
        match m.try_lock() {
            Ok(g) => Some(g),
            Err(TryLockError::Poisoned(p)) => Some(p.into_inner()),
            Err(TryLockError::WouldBlock) => None,
        }
    }

    /// Make the system call `f` once without waiting (it gets [`DONTWAIT`]): `Ok(None)` when
    /// it would have had to wait (or a signal interrupted it), `Closed` once the object is closed.
    pub(crate) fn try_call<T>(
        &self,
        op: &dyn Fn() -> String,
        f: impl FnOnce(libc::c_int) -> std::io::Result<T>,
    ) -> Result<Option<T>> {
        match f(DONTWAIT) {
            _ if self.is_closed() => Err(Error::closed(op())),
            Ok(v) => Ok(Some(v)),
            Err(e) if would_block(&e) || interrupted(&e) => Ok(None),
            Err(e) => Err(Error::os(op(), e)),
        }
    }

    /// Run the system call `f` until it succeeds, the deadline passes (`Timeout`), the object is
    /// closed (`Closed`), or the thread's interrupt check fires (`Interrupted`).
    ///
    /// The socket is in blocking mode, and before each try the kernel timeout of the direction
    /// (`SO_RCVTIMEO` for `Read`, `SO_SNDTIMEO` for `Write`) is set to the time left — only
    /// when it differs from what is set, so a steady stream of calls with one timeout costs one
    /// system call each, as with a plain blocking socket. `f` gets extra `send`/`recv` flags:
    /// [`DONTWAIT`] when the call must not wait at all (a zero timeout), else 0. Callers in one
    /// direction must be serialised (by the object's own lock or [`Holder::lock`]) so that the
    /// kernel timeout set for a call is that call's.
    ///
    /// Under a check installed with `with_signal_interrupt_check` receives wait unsliced (a signal
    /// ends them with EINTR); sends stay sliced, because a send that has copied part of its data
    /// returns that part on a signal and so swallows it: the next slice without progress runs
    /// the check. See [`Holder::call_send`] for sends whose callers take care of that.
    pub(crate) fn call<T>(
        &self,
        s: &Socket,
        ready: Ready,
        deadline: &Deadline,
        op: &dyn Fn() -> String,
        f: impl FnMut(libc::c_int) -> std::io::Result<T>,
    ) -> Result<T> {
        self.call_inner(s, ready, deadline, op, true, f)
    }

    /// [`Holder::call`] for a send that cannot swallow a signal unseen: a datagram send (all or
    /// nothing, so a signal ends it with EINTR), or a stream send whose caller runs
    /// [`Holder::check_interrupt`] before it continues after a partial send. Under a
    /// signal-driven check it waits unsliced, so a send that waits arms no kernel timer.
    pub(crate) fn call_send<T>(
        &self,
        s: &Socket,
        deadline: &Deadline,
        op: &dyn Fn() -> String,
        f: impl FnMut(libc::c_int) -> std::io::Result<T>,
    ) -> Result<T> {
        self.call_inner(s, Ready::Write, deadline, op, false, f)
    }

    /// After a partial send: run a signal-driven interrupt check (the signal that cut the send
    /// short was swallowed by it). `Interrupted` if it fires. Nothing to do under a sliced check
    /// (the next slice runs it) or with none.
    pub(crate) fn check_interrupt(&self, op: &dyn Fn() -> String) -> Result<()> {
        match installed() {
            Some(i) if !i.sliced && (i.check)() => Err(Error::Interrupted { op: op() }),
            _ => Ok(()),
        }
    }

    fn call_inner<T>(
        &self,
        s: &Socket,
        ready: Ready,
        deadline: &Deadline,
        op: &dyn Fn() -> String,
        slice_sends: bool,
        mut f: impl FnMut(libc::c_int) -> std::io::Result<T>,
    ) -> Result<T> {
        let installed = installed();
        let check = installed.map(|i| i.check);
        // A check that must be polled cuts the wait into slices; a signal-driven one only cuts
        // sends that could swallow its signal (see `call`). A call that does not wait never
        // arms the kernel timer; one that waits unsliced arms none.
        let every = installed
            .filter(|i| i.sliced || (slice_sends && ready == Ready::Write))
            .map(|_| INTERRUPT_SLICE);
        loop {
            if self.is_closed() {
                return Err(Error::closed(op()));
            }
            let slice = match (deadline.remaining(), every) {
                (Some(r), Some(e)) => Some(r.min(e)),
                (None, e) => e,
                (r, None) => r,
            };
            let flags = match slice {
                Some(d) if d.is_zero() => DONTWAIT,
                other => {
                    self.set_kernel_timeout(s, ready, other)
                        .map_err(|e| Error::os(op(), e))?;
                    0
                }
            };
            match f(flags) {
                Ok(_) if self.is_closed() => return Err(Error::closed(op())),
                Ok(v) => return Ok(v),
                Err(e) if would_block(&e) || interrupted(&e) => {
                    if self.is_closed() {
                        return Err(Error::closed(op()));
                    }
                    if deadline.remaining() == Some(Duration::ZERO) {
                        return Err(deadline.timeout_error(op));
                    }
                    if let Some(check) = check {
                        if check() {
                            return Err(Error::Interrupted { op: op() });
                        }
                    }
                }
                Err(_) if self.is_closed() => return Err(Error::closed(op())),
                Err(e) => return Err(Error::os(op(), e)),
            }
        }
    }

    /// Set SO_RCVTIMEO / SO_SNDTIMEO to `t` (`None` = none) unless it is set already.
    fn set_kernel_timeout(
        &self,
        s: &Socket,
        ready: Ready,
        t: Option<Duration>,
    ) -> std::io::Result<()> {
        // Whole microseconds, rounded up and at least 1 (0 means "no timeout" to the kernel);
        // in 64-bit arithmetic (a 128-bit division per call showed in profiles).
        let us = t.map_or(0, |d| {
            d.as_secs()
                .saturating_mul(1_000_000)
                .saturating_add(u64::from(d.subsec_nanos().div_ceil(1000)))
                .clamp(1, UNKNOWN - 1)
        });
        let cache = match ready {
            Ready::Read => &self.rcv_timeo_us,
            Ready::Write => &self.snd_timeo_us,
        };
        if cache.load(Ordering::Relaxed) == us {
            return Ok(());
        }
        let d = (us > 0).then(|| Duration::from_micros(us));
        match ready {
            Ready::Read => s.set_read_timeout(d)?,
            Ready::Write => s.set_write_timeout(d)?,
        }
        cache.store(us, Ordering::Relaxed);
        Ok(())
    }

    /// Close: wake blocked callers, then release the descriptor after they return. Idempotent.
    pub(crate) fn close(&self) {
        self.close_draining(false)
    }

    /// [`close`](Holder::close); with `drain`, input that has arrived but was never read is
    /// read and thrown away first (streams: see [`discard_unread`]).
    pub(crate) fn close_draining(&self, drain: bool) {
        self.close_draining_after(drain, |_| {})
    }

    /// [`close_draining`](Holder::close_draining), running `last` on the socket after the holder
    /// counts as closed and before the descriptor goes (TLS: close_notify), so a call blocked in
    /// another thread that wakes meanwhile already sees the close, not what the peer answers.
    pub(crate) fn close_draining_after(&self, drain: bool, last: impl FnOnce(&Socket)) {
        if self.closed.swap(true, Ordering::AcqRel) {
            return;
        }
        {
            // SAFETY: the descriptor stays open until this call (the only one past the swap)
            // drops the socket below; the borrowed view is forgotten, never closed.
            let view = std::mem::ManuallyDrop::new(unsafe {
                <Socket as std::os::fd::FromRawFd>::from_raw_fd(self.fd)
            });
            last(&view);
        }
        // The descriptor is still open: only this call (guarded by the swap) drops the socket.
        // Every call in flight holds a read guard while it waits. With none in flight, a plain
        // close keeps the socket's own close semantics (SO_LINGER 0 = abortive close with RST;
        // a shutdown first would send a FIN and make it an orderly close).
        let mut guard = match self.sock.try_write() {
            Ok(g) => g,
            Err(TryLockError::Poisoned(p)) => p.into_inner(),
            Err(TryLockError::WouldBlock) => {
                // Calls are waiting: shutting the socket down wakes them (they see `closed`).
                // SAFETY: shutdown on an open descriptor; errors (ENOTCONN) are irrelevant here.
                unsafe {
                    libc::shutdown(self.fd, libc::SHUT_RDWR);
                }
                self.sock.write().unwrap_or_else(|p| p.into_inner())
            }
        };
        let sock = guard.take();
        drop(guard);
        if let (true, Some(s)) = (drain, &sock) {
            discard_unread(s);
        }
        drop(sock);
    }

    pub(crate) fn timeout(&self) -> Option<Duration> {
        match self.timeout_ns.load(Ordering::Relaxed) {
            NO_TIMEOUT => None,
            ns => Some(Duration::from_nanos(ns)),
        }
    }

    pub(crate) fn set_timeout(&self, t: Option<Duration>) {
        let ns = t
            .map(|d| d.as_nanos().min(NO_TIMEOUT as u128 - 1) as u64)
            .unwrap_or(NO_TIMEOUT);
        self.timeout_ns.store(ns, Ordering::Relaxed);
    }
}

/// Read and throw away what has already arrived on a stream about to be closed (at most 1 MiB,
/// never waiting), so that the close is an orderly FIN rather than a reset: Linux resets a
/// connection closed with unread input, and the reset can destroy what this side sent that the
/// peer has not read yet. The typical case is the rest of an oversized frame that the decoder
/// was skipping. Input arriving after the close still gets a reset, as TCP says.
fn discard_unread(s: &Socket) {
    let mut buf = [std::mem::MaybeUninit::<u8>::uninit(); 16 * 1024];
    for _ in 0..64 {
        match s.recv_with_flags(&mut buf, libc::MSG_DONTWAIT) {
            Ok(n) if n > 0 => {}
            _ => break,
        }
    }
}

/// Which timeout a call uses: the object's default, or one given for this call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Timeout {
    /// The object's default timeout (set with `set_timeout`).
    #[default]
    Default,
    /// Wait forever.
    Never,
    /// Wait at most this long (zero = poll once).
    After(Duration),
}

impl Timeout {
    pub(crate) fn resolve(self, holder: &Holder) -> Option<Duration> {
        match self {
            Timeout::Default => holder.timeout(),
            Timeout::Never => None,
            Timeout::After(d) => Some(d),
        }
    }
}

impl From<Option<Duration>> for Timeout {
    /// `None` = forever, `Some(d)` = at most `d`.
    fn from(t: Option<Duration>) -> Timeout {
        match t {
            None => Timeout::Never,
            Some(d) => Timeout::After(d),
        }
    }
}

impl From<Duration> for Timeout {
    fn from(d: Duration) -> Timeout {
        Timeout::After(d)
    }
}
