//! [`Datagram`]: UDP and Unix datagram sockets — unicast, broadcast, multicast, batches.

use std::collections::VecDeque;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Mutex;
use std::time::Duration;

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use crate::addr::{Addr, ToEndpoint};
use crate::error::{Error, Result};
use crate::holder::{Holder, SockRef, Timeout};
use crate::listener::prepare_unix_path;
use crate::offload::{self, Gso};
use crate::options::{self, SockOpt, SocketOptions};
#[cfg(not(any(target_os = "linux", target_os = "android")))]
use crate::wait::would_block;
use crate::wait::{Deadline, Ready};

/// What one received datagram was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecvMeta {
    /// Bytes written into the buffer.
    pub len: usize,
    /// The datagram's real size (larger than `len` when truncated; equal to `len` where the OS
    /// cannot tell).
    pub full_len: usize,
    /// True when the datagram did not fit and its tail was discarded.
    pub truncated: bool,
    /// The sender.
    pub peer: Addr,
}

/// What one datagram received without its sender was ([`Datagram::recv_many_sizes`]): a
/// [`RecvMeta`] without `peer`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecvSize {
    /// Bytes written into the buffer.
    pub len: usize,
    /// The datagram's real size (larger than `len` when truncated; equal to `len` where the OS
    /// cannot tell).
    pub full_len: usize,
    /// True when the datagram did not fit and its tail was discarded.
    pub truncated: bool,
}

/// How to open a datagram socket, used by [`Datagram::bind_with`].
#[derive(Debug, Clone)]
pub struct DatagramOptions {
    /// Socket options (broadcast, multicast TTL/loop/interface, buffer sizes, reuse ...).
    pub options: SocketOptions,
    /// Default timeout of blocking calls.
    pub timeout: Option<Duration>,
    /// For Unix paths: remove a stale socket file before binding.
    pub remove_stale: bool,
    /// UDP segmentation offload on send (default on; Linux): [`Datagram::send_many`] merges
    /// runs of equal-sized datagrams into one message with `UDP_SEGMENT` where the kernel
    /// knows it, falling back by itself where it fails (see [`crate::offload`]). The peer sees
    /// the same datagrams either way.
    pub gso: bool,
    /// UDP receive offload (default off; Linux): turn `UDP_GRO` on so one receive takes up to
    /// 64 KiB of one sender's datagrams, cut back into the same datagrams here. Datagrams taken
    /// beyond what a call asked for wait inside this object, so the descriptor does not poll
    /// readable for them: use it with [`Datagram::recv_many`] loops, not with `select` on
    /// [`Datagram::fd`]. Ignored (off) where the kernel refuses it.
    pub gro: bool,
}

impl Default for DatagramOptions {
    fn default() -> DatagramOptions {
        DatagramOptions {
            options: SocketOptions::default(),
            timeout: None,
            remove_stale: false,
            gso: true,
            gro: false,
        }
    }
}

/// A UDP or Unix datagram socket.
///
/// ```
/// use libsock::Datagram;
/// let a = Datagram::bind("127.0.0.1:0").unwrap();
/// let b = Datagram::bind("127.0.0.1:0").unwrap();
/// b.send_to(b"hi", &a.local_addr().unwrap()).unwrap();
/// let mut buf = [0u8; 16];
/// let meta = a.recv_from(&mut buf).unwrap();
/// assert_eq!(&buf[..meta.len], b"hi");
/// assert_eq!(meta.peer, b.local_addr().unwrap());
/// ```
pub struct Datagram {
    h: Holder,
    local: Addr,
    unix_path: Option<std::path::PathBuf>,
    gso: Gso,
    /// With receive offload on: the coalesced buffers and the datagrams in them not yet taken.
    gro: Option<Mutex<GroState>>,
}

/// Datagrams received coalesced and not yet handed over.
#[derive(Default)]
struct GroState {
    headers: offload::RecvHeaders,
    storage: Vec<u8>,
    pending: VecDeque<offload::Seg>,
}

impl std::fmt::Debug for Datagram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Datagram")
            .field("local", &self.local)
            .field("closed", &self.h.is_closed())
            .finish()
    }
}

impl Datagram {
    /// Bind to `endpoint` (`"0.0.0.0:5000"`, `"[::]:0"`, `"unix:/tmp/d.sock"`).
    pub fn bind(endpoint: impl ToEndpoint) -> Result<Datagram> {
        Datagram::bind_with(endpoint, &DatagramOptions::default())
    }

    /// Bind with options.
    pub fn bind_with(endpoint: impl ToEndpoint, opts: &DatagramOptions) -> Result<Datagram> {
        let ep = endpoint.to_endpoint()?;
        let addrs = ep.resolve(None)?;
        let addr = &addrs[0];
        let op = || format!("bind datagram socket to {addr}");
        let (sock, unix_path) = match addr {
            Addr::Inet(sa) => {
                let s = Socket::new(Domain::for_address(*sa), Type::DGRAM, Some(Protocol::UDP))
                    .map_err(|e| Error::os(op(), e))?;
                opts.options.apply(&s)?;
                (s, None)
            }
            Addr::Unix(Some(p)) => {
                prepare_unix_path(p, opts.remove_stale)?;
                let s =
                    Socket::new(Domain::UNIX, Type::DGRAM, None).map_err(|e| Error::os(op(), e))?;
                (s, Some(p.clone()))
            }
            _ => (
                Socket::new(Domain::UNIX, Type::DGRAM, None).map_err(|e| Error::os(op(), e))?,
                None,
            ),
        };
        sock.bind(&addr.to_sockaddr()?)
            .map_err(|e| Error::os(op(), e))?;
        Datagram::from_socket(sock, opts, unix_path)
    }

    /// An unbound-yet socket connected to `endpoint`: `send`/`recv` talk to that peer only. The
    /// local side is bound to an ephemeral port (or, for Unix, left unnamed).
    pub fn connect(endpoint: impl ToEndpoint) -> Result<Datagram> {
        Datagram::connect_with(endpoint, &DatagramOptions::default())
    }

    /// Connect with options.
    pub fn connect_with(endpoint: impl ToEndpoint, opts: &DatagramOptions) -> Result<Datagram> {
        let ep = endpoint.to_endpoint()?;
        let addrs = ep.resolve(opts.timeout)?;
        let addr = &addrs[0];
        let op = || format!("connect datagram socket to {addr}");
        let sock = match addr {
            Addr::Inet(sa) => {
                let s = Socket::new(Domain::for_address(*sa), Type::DGRAM, Some(Protocol::UDP))
                    .map_err(|e| Error::os(op(), e))?;
                opts.options.apply(&s)?;
                if let Some(local) = opts.options.local_addr {
                    s.bind(&local.into()).map_err(|e| Error::os(op(), e))?;
                }
                s
            }
            _ => Socket::new(Domain::UNIX, Type::DGRAM, None).map_err(|e| Error::os(op(), e))?,
        };
        sock.connect(&addr.to_sockaddr()?)
            .map_err(|e| Error::os(op(), e))?;
        Datagram::from_socket(sock, opts, None)
    }

    /// A pair of connected Unix datagram sockets.
    pub fn pair() -> Result<(Datagram, Datagram)> {
        let (a, b) = Socket::pair(Domain::UNIX, Type::DGRAM, None)
            .map_err(|e| Error::os("socketpair", e))?;
        let opts = DatagramOptions::default();
        Ok((
            Datagram::from_socket(a, &opts, None)?,
            Datagram::from_socket(b, &opts, None)?,
        ))
    }

    fn from_socket(
        sock: Socket,
        opts: &DatagramOptions,
        unix_path: Option<std::path::PathBuf>,
    ) -> Result<Datagram> {
        use std::os::fd::AsRawFd;
        let local = sock
            .local_addr()
            .map(|a| Addr::from_sockaddr(&a))
            .map_err(|e| Error::os("local address", e))?;
        let udp = matches!(local, Addr::Inet(_));
        let fd = sock.as_raw_fd();
        let gso = if udp && opts.gso {
            Gso::probe(fd)
        } else {
            Gso::off()
        };
        let gro =
            (udp && opts.gro && offload::enable_gro(fd)).then(|| Mutex::new(GroState::default()));
        let h = Holder::new(sock)?;
        h.set_timeout(opts.timeout);
        Ok(Datagram {
            h,
            local,
            unix_path,
            gso,
            gro,
        })
    }

    /// True while [`send_many`](Datagram::send_many) merges runs of equal-sized datagrams
    /// (UDP segmentation offload: asked for, known to the kernel, and not turned off by a
    /// failure; see [`crate::offload`]).
    pub fn gso_enabled(&self) -> bool {
        self.gso.enabled()
    }

    /// True when receive offload (`UDP_GRO`) was asked for and the kernel took it.
    pub fn gro_enabled(&self) -> bool {
        self.gro.is_some()
    }

    fn op(&self, what: &str) -> String {
        format!("{what} (datagram socket {})", self.local)
    }

    fn sock(&self, what: &str) -> Result<SockRef<'_>> {
        self.h.get(&|| self.op(what))
    }

    /// Run one datagram system call `f(socket, flags)` with the timeout (see `Holder::call`);
    /// callers in one direction are serialised so each one's kernel timeout is its own.
    fn io<T>(
        &self,
        what: &str,
        ready: Ready,
        timeout: Timeout,
        f: impl FnMut(&Socket, libc::c_int) -> std::io::Result<T>,
    ) -> Result<T> {
        self.io_named(&|| what.to_string(), ready, timeout, f)
    }

    /// [`io`](Datagram::io) with the operation's name made only when an error needs it (a
    /// `send to {peer}` formatted per call cost ~2,000 instructions per datagram).
    fn io_named<T>(
        &self,
        what: &dyn Fn() -> String,
        ready: Ready,
        timeout: Timeout,
        mut f: impl FnMut(&Socket, libc::c_int) -> std::io::Result<T>,
    ) -> Result<T> {
        let s = self.h.get(&|| self.op(&what()))?;
        let deadline = Deadline::after(timeout.resolve(&self.h));
        let op = || self.op(&what());
        let _serial = self.h.lock(ready);
        match ready {
            // A datagram goes whole or not at all: a signal ends a waiting send with EINTR.
            Ready::Write => self.h.call_send(&s, &deadline, &op, |fl| f(&s, fl)),
            Ready::Read => self.h.call(&s, ready, &deadline, &op, |fl| f(&s, fl)),
        }
    }

    /// The bound local address.
    pub fn local_addr(&self) -> Result<Addr> {
        let s = self.sock("local address")?;
        s.local_addr()
            .map(|a| Addr::from_sockaddr(&a))
            .map_err(|e| Error::os("local address", e))
    }

    /// The connected peer, if connected.
    pub fn peer_addr(&self) -> Result<Addr> {
        let s = self.sock("peer address")?;
        s.peer_addr()
            .map(|a| Addr::from_sockaddr(&a))
            .map_err(|e| Error::os(self.op("peer address"), e))
    }

    /// The default timeout.
    pub fn timeout(&self) -> Option<Duration> {
        self.h.timeout()
    }

    /// Set the default timeout (`None` = forever, zero = poll).
    pub fn set_timeout(&self, t: Option<Duration>) {
        self.h.set_timeout(t)
    }

    /// Send one datagram to `to`; returns the bytes sent.
    pub fn send_to(&self, data: &[u8], to: &Addr) -> Result<usize> {
        self.send_to_timeout(data, to, Timeout::Default)
    }

    /// [`send_to`](Datagram::send_to) with a timeout for this call.
    pub fn send_to_timeout(&self, data: &[u8], to: &Addr, t: Timeout) -> Result<usize> {
        let sa = to.to_sockaddr()?;
        self.io_named(&|| format!("send to {to}"), Ready::Write, t, |s, fl| {
            s.send_to_with_flags(data, &sa, SEND_FLAGS | fl)
        })
    }

    /// Send one datagram to the connected peer.
    pub fn send(&self, data: &[u8]) -> Result<usize> {
        self.send_timeout(data, Timeout::Default)
    }

    /// [`send`](Datagram::send) with a timeout for this call.
    pub fn send_timeout(&self, data: &[u8], t: Timeout) -> Result<usize> {
        self.io("send", Ready::Write, t, |s, fl| {
            s.send_with_flags(data, SEND_FLAGS | fl)
        })
    }

    /// Receive one datagram into `buf`, reporting its sender and whether it was truncated.
    pub fn recv_from(&self, buf: &mut [u8]) -> Result<RecvMeta> {
        self.recv_from_timeout(buf, Timeout::Default)
    }

    /// [`recv_from`](Datagram::recv_from) with a timeout for this call.
    pub fn recv_from_timeout(&self, buf: &mut [u8], t: Timeout) -> Result<RecvMeta> {
        if let Some(gro) = &self.gro {
            let mut metas = Vec::with_capacity(1);
            self.recv_gro(gro, &mut [buf], &mut metas, t)?;
            return metas.pop().ok_or_else(|| Error::closed(self.op("recv")));
        }
        let cap = buf.len();
        self.io("recv", Ready::Read, t, |s, fl| {
            // SAFETY: an initialised buffer is valid as MaybeUninit; recv only writes.
            let uninit = unsafe { &mut *(buf as *mut [u8] as *mut [std::mem::MaybeUninit<u8>]) };
            let mut bufs = [socket2::MaybeUninitSlice::new(uninit)];
            let (n, flags, from) = s.recv_from_vectored_with_flags(&mut bufs, TRUNC_FLAG | fl)?;
            let truncated = flags.is_truncated() || n > cap;
            Ok(RecvMeta {
                len: n.min(cap),
                full_len: n.max(if truncated { cap + 1 } else { n }),
                truncated,
                peer: Addr::from_sockaddr(&from),
            })
        })
    }

    /// Receive one datagram from the connected peer; returns the bytes written (truncation is
    /// reported by [`recv_from`](Datagram::recv_from)).
    pub fn recv(&self, buf: &mut [u8]) -> Result<usize> {
        self.recv_from(buf).map(|m| m.len)
    }

    /// Send several datagrams to `to` (or to the connected peer when `None`) with one sendmmsg(2)
    /// call where possible; returns how many were sent (at least one, or an error).
    pub fn send_many(&self, msgs: &[&[u8]], to: Option<&Addr>) -> Result<usize> {
        if msgs.is_empty() {
            return Ok(0);
        }
        let sa = to.map(|a| a.to_sockaddr()).transpose()?;
        self.io("send many", Ready::Write, Timeout::Default, |s, fl| {
            sys_send_many(s, msgs, sa.as_ref(), fl, &self.gso)
        })
    }

    /// [`send_many`](Datagram::send_many) to an endpoint given as text or any [`ToEndpoint`],
    /// chosen as [`send_to_endpoint`](Datagram::send_to_endpoint) chooses it.
    pub fn send_many_to_endpoint(&self, msgs: &[&[u8]], to: impl ToEndpoint) -> Result<usize> {
        let addr = match to.ip_literal() {
            Some(a) => a,
            None => {
                let ep = to.to_endpoint()?;
                self.pick(&ep, ep.resolve(self.h.timeout())?)?
            }
        };
        self.send_many(msgs, Some(&addr))
    }

    /// Receive up to `bufs.len()` datagrams with one recvmmsg(2) call where possible, waiting for
    /// the first (up to the socket's timeout); fills `metas` and returns how many arrived. No
    /// buffers is `InvalidArgument`.
    pub fn recv_many(&self, bufs: &mut [&mut [u8]], metas: &mut Vec<RecvMeta>) -> Result<usize> {
        self.recv_many_timeout(bufs, metas, Timeout::Default)
    }

    /// [`recv_many`](Datagram::recv_many) waiting up to `t` for the first datagram (one wait,
    /// then one system call that takes what is queued; `Timeout` when none came).
    pub fn recv_many_timeout(
        &self,
        bufs: &mut [&mut [u8]],
        metas: &mut Vec<RecvMeta>,
        t: Timeout,
    ) -> Result<usize> {
        metas.clear();
        if bufs.is_empty() {
            return Err(Error::invalid(
                "receive at most 0 datagrams: a batch receive must allow at least one",
            ));
        }
        if let Some(gro) = &self.gro {
            return self.recv_gro(gro, bufs, metas, t);
        }
        self.io("recv many", Ready::Read, t, |s, fl| {
            sys_recv_many(s, bufs, metas, fl)
        })
    }

    /// [`recv_many`](Datagram::recv_many) for a receiver that does not need the senders (a
    /// connected socket, a sink): fills `sizes` instead of metadata with senders and returns
    /// how many arrived. The kernel then copies no sender address, which on Linux costs about
    /// 100 ns per datagram (an eighth of a loopback receive): the same datagrams, byte for
    /// byte, with the same lengths and truncation, faster.
    pub fn recv_many_sizes(
        &self,
        bufs: &mut [&mut [u8]],
        sizes: &mut Vec<RecvSize>,
    ) -> Result<usize> {
        self.recv_many_sizes_timeout(bufs, sizes, Timeout::Default)
    }

    /// [`recv_many_sizes`](Datagram::recv_many_sizes) waiting up to `t` for the first datagram
    /// (as [`recv_many_timeout`](Datagram::recv_many_timeout)).
    pub fn recv_many_sizes_timeout(
        &self,
        bufs: &mut [&mut [u8]],
        sizes: &mut Vec<RecvSize>,
        t: Timeout,
    ) -> Result<usize> {
        sizes.clear();
        #[cfg(any(target_os = "linux", target_os = "android"))]
        if self.gro.is_none() && !bufs.is_empty() {
            return self.io("recv many", Ready::Read, t, |s, fl| {
                sys_recv_many_sizes(s, bufs, sizes, fl)
            });
        }
        // Coalesced datagrams (already split with their sender), or no recvmmsg.
        let mut metas = Vec::with_capacity(bufs.len());
        let n = self.recv_many_timeout(bufs, &mut metas, t)?;
        sizes.extend(metas.iter().map(|m| RecvSize {
            len: m.len,
            full_len: m.full_len,
            truncated: m.truncated,
        }));
        Ok(n)
    }

    /// A receive with `UDP_GRO` on: hand over the datagrams already taken, else take more (up
    /// to [`offload::GRO_SLOTS`] coalesced buffers) and hand over the first of them.
    fn recv_gro(
        &self,
        gro: &Mutex<GroState>,
        bufs: &mut [&mut [u8]],
        metas: &mut Vec<RecvMeta>,
        t: Timeout,
    ) -> Result<usize> {
        let lock = || gro.lock().unwrap_or_else(|p| p.into_inner());
        {
            let mut st = lock();
            if !st.pending.is_empty() {
                return Ok(deliver(&mut st, bufs, metas));
            }
        }
        let slots = bufs.len().clamp(1, offload::GRO_SLOTS);
        self.io("recv", Ready::Read, t, |s, fl| {
            use std::os::fd::AsRawFd;
            let mut st = lock();
            // Another receiver may have taken some while this one waited for its turn.
            if st.pending.is_empty() {
                let st = &mut *st;
                if st.storage.len() < slots * offload::GRO_SLOT {
                    st.storage.resize(slots * offload::GRO_SLOT, 0);
                }
                offload::recv(
                    s.as_raw_fd(),
                    &mut st.headers,
                    &mut st.storage[..slots * offload::GRO_SLOT],
                    offload::GRO_SLOT,
                    fl,
                    &mut st.pending,
                )?;
            }
            Ok(())
        })?;
        Ok(deliver(&mut lock(), bufs, metas))
    }

    /// Join a multicast group on an interface: for IPv4 the interface's address
    /// (`Ipv4Addr::UNSPECIFIED` = default), for IPv6 its index (0 = default).
    pub fn join_multicast(&self, group: IpAddr, interface: MulticastInterface) -> Result<()> {
        let s = self.sock("join multicast")?;
        match (group, interface) {
            (IpAddr::V4(g), MulticastInterface::V4(i)) => s.join_multicast_v4(&g, &i),
            (IpAddr::V4(g), MulticastInterface::Default) => {
                s.join_multicast_v4(&g, &Ipv4Addr::UNSPECIFIED)
            }
            (IpAddr::V6(g), MulticastInterface::V6(i)) => s.join_multicast_v6(&g, i),
            (IpAddr::V6(g), MulticastInterface::Default) => s.join_multicast_v6(&g, 0),
            _ => return Err(mismatch(group)),
        }
        .map_err(|e| Error::os(format!("join multicast group {group}"), e))
    }

    /// Leave a multicast group.
    pub fn leave_multicast(&self, group: IpAddr, interface: MulticastInterface) -> Result<()> {
        let s = self.sock("leave multicast")?;
        match (group, interface) {
            (IpAddr::V4(g), MulticastInterface::V4(i)) => s.leave_multicast_v4(&g, &i),
            (IpAddr::V4(g), MulticastInterface::Default) => {
                s.leave_multicast_v4(&g, &Ipv4Addr::UNSPECIFIED)
            }
            (IpAddr::V6(g), MulticastInterface::V6(i)) => s.leave_multicast_v6(&g, i),
            (IpAddr::V6(g), MulticastInterface::Default) => s.leave_multicast_v6(&g, 0),
            _ => return Err(mismatch(group)),
        }
        .map_err(|e| Error::os(format!("leave multicast group {group}"), e))
    }

    /// Set the outgoing multicast interface.
    pub fn set_multicast_interface(&self, interface: MulticastInterface) -> Result<()> {
        let s = self.sock("set multicast interface")?;
        match interface {
            MulticastInterface::V4(a) => options::set_multicast_if(&s, options::MulticastIf::V4(a)),
            MulticastInterface::V6(i) => options::set_multicast_if(&s, options::MulticastIf::V6(i)),
            MulticastInterface::Default => Ok(()),
        }
    }

    /// Set an option by number.
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

    /// Bytes of the next datagram waiting (FIONREAD), 0 if none.
    pub fn bytes_available(&self) -> Result<usize> {
        use std::os::fd::AsRawFd;
        let s = self.sock("bytes_available")?;
        if let Some(gro) = &self.gro {
            let st = gro.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(seg) = st.pending.front() {
                return Ok(seg.len);
            }
        }
        let mut n: libc::c_int = 0;
        // SAFETY: FIONREAD writes one int.
        if unsafe { libc::ioctl(s.as_raw_fd(), libc::FIONREAD, &mut n) } < 0 {
            return Err(Error::os("FIONREAD", std::io::Error::last_os_error()));
        }
        Ok(n.max(0) as usize)
    }

    /// The raw file descriptor (do not close it).
    pub fn fd(&self) -> i32 {
        self.h.fd()
    }

    /// Close (idempotent); a blocked call returns `Closed`. Removes the Unix socket file this
    /// socket created.
    pub fn close(&self) {
        if self.h.is_closed() {
            return;
        }
        self.h.close();
        if let Some(p) = &self.unix_path {
            let _ = std::fs::remove_file(p);
        }
    }

    /// True once closed.
    pub fn is_closed(&self) -> bool {
        self.h.is_closed()
    }
}

impl Datagram {
    /// Send one datagram to the connected peer if that needs no waiting at all — neither for
    /// buffer space nor for another thread's send in progress: `Ok(None)` otherwise. For
    /// callers holding a lock of their own (Python's GIL) that must not block under it.
    pub fn try_send(&self, data: &[u8]) -> Result<Option<usize>> {
        self.try_send_impl("send", data, None)
    }

    /// [`Datagram::send_to_endpoint`] if that needs no waiting at all (see
    /// [`Datagram::try_send`]); an endpoint that needs the resolver (a host name) is `Ok(None)`
    /// too.
    pub fn try_send_to_endpoint(&self, data: &[u8], to: impl ToEndpoint) -> Result<Option<usize>> {
        let ep = to.to_endpoint()?;
        if let crate::Endpoint::Inet { host, .. } = &ep {
            let bare = host
                .strip_prefix('[')
                .and_then(|h| h.strip_suffix(']'))
                .unwrap_or(host);
            if bare.parse::<IpAddr>().is_err() {
                return Ok(None);
            }
        }
        let addr = self.pick(&ep, ep.resolve(None)?)?;
        let sa = addr.to_sockaddr()?;
        self.try_send_impl("send to", data, Some(&sa))
    }

    fn try_send_impl(
        &self,
        what: &str,
        data: &[u8],
        to: Option<&SockAddr>,
    ) -> Result<Option<usize>> {
        let s = self.sock(what)?;
        let Some(_serial) = self.h.try_lock(Ready::Write) else {
            return Ok(None);
        };
        self.h.try_call(&|| self.op(what), |fl| match to {
            Some(sa) => s.send_to_with_flags(data, sa, SEND_FLAGS | fl),
            None => s.send_with_flags(data, SEND_FLAGS | fl),
        })
    }

    fn pick(&self, ep: &crate::Endpoint, addrs: Vec<Addr>) -> Result<Addr> {
        pick_for(&self.local, ep, addrs)
    }

    /// Send one datagram to `to`, an endpoint given as text (`"host:port"`, `"[v6]:port"`,
    /// `"unix:/path"`) or any [`ToEndpoint`]: a host name is resolved and its first address of
    /// this socket's family (IPv4 or IPv6) is used. For the doors that take addresses as text.
    pub fn send_to_endpoint(&self, data: &[u8], to: impl ToEndpoint, t: Timeout) -> Result<usize> {
        if let Some(addr) = to.ip_literal() {
            // A plain IP literal names exactly one address: no parse into an Endpoint, no
            // resolution (the doors pass text once per datagram).
            return self.send_to_timeout(data, &addr, t);
        }
        let ep = to.to_endpoint()?;
        let addr = self.pick(&ep, ep.resolve(t.resolve(&self.h))?)?;
        self.send_to_timeout(data, &addr, t)
    }
}

/// The first of `addrs` (resolved from `ep`) of the family (IPv4 or IPv6) of a socket bound to
/// `local`, else the first: where a datagram to `ep` goes. The one choice for the blocking
/// [`Datagram`] and the engine's datagram server.
pub(crate) fn pick_for(local: &Addr, ep: &crate::Endpoint, addrs: Vec<Addr>) -> Result<Addr> {
    let v6 = matches!(local, Addr::Inet(sa) if sa.is_ipv6());
    addrs
        .iter()
        .find(|a| match a {
            Addr::Inet(sa) => sa.is_ipv6() == v6,
            _ => true,
        })
        .or(addrs.first())
        .cloned()
        .ok_or_else(|| Error::invalid(format!("{ep}: no address")))
}

/// Copy pending coalesced datagrams into `bufs` (one each, cut to fit) and their metadata into
/// `metas`; returns how many.
fn deliver(st: &mut GroState, bufs: &mut [&mut [u8]], metas: &mut Vec<RecvMeta>) -> usize {
    let mut n = 0;
    for b in bufs.iter_mut() {
        let Some(seg) = st.pending.pop_front() else {
            break;
        };
        let cap = b.len();
        let len = seg.len.min(cap);
        b[..len].copy_from_slice(&st.storage[seg.at..seg.at + len]);
        metas.push(RecvMeta {
            len,
            full_len: seg.len,
            truncated: seg.len > cap,
            peer: seg.peer,
        });
        n += 1;
    }
    n
}

impl Drop for Datagram {
    fn drop(&mut self) {
        self.close();
    }
}

/// The interface for multicast membership.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MulticastInterface {
    /// Let the OS choose.
    #[default]
    Default,
    /// An IPv4 interface by address (e.g. 127.0.0.1 for loopback).
    V4(Ipv4Addr),
    /// An IPv6 interface by index (1 is usually loopback).
    V6(u32),
}

impl std::str::FromStr for MulticastInterface {
    type Err = Error;
    /// `""` the default, an IPv4 interface address (`"127.0.0.1"`) or an IPv6 interface index
    /// (`"1"`).
    fn from_str(text: &str) -> Result<MulticastInterface> {
        if text.is_empty() {
            return Ok(MulticastInterface::Default);
        }
        if let Ok(a) = text.parse::<Ipv4Addr>() {
            return Ok(MulticastInterface::V4(a));
        }
        if let Ok(i) = text.parse::<u32>() {
            return Ok(MulticastInterface::V6(i));
        }
        Err(Error::invalid(format!(
            "multicast interface {text:?}: give an IPv4 interface address, an IPv6 interface \
             index, or \"\" for the default"
        )))
    }
}

fn mismatch(group: IpAddr) -> Error {
    Error::invalid(format!(
        "multicast group {group} and the interface are of different IP versions"
    ))
}

#[cfg(target_os = "linux")]
const SEND_FLAGS: libc::c_int = libc::MSG_NOSIGNAL;
#[cfg(not(target_os = "linux"))]
const SEND_FLAGS: libc::c_int = 0;
#[cfg(target_os = "linux")]
const TRUNC_FLAG: libc::c_int = libc::MSG_TRUNC;
#[cfg(not(target_os = "linux"))]
const TRUNC_FLAG: libc::c_int = 0;

#[cfg(target_os = "linux")]
fn sys_send_many(
    s: &Socket,
    msgs: &[&[u8]],
    to: Option<&SockAddr>,
    flags: libc::c_int,
    gso: &Gso,
) -> std::io::Result<usize> {
    use std::os::fd::AsRawFd;
    offload::send_many(s.as_raw_fd(), msgs, to, flags, gso)
}

#[cfg(target_os = "android")]
fn sys_send_many(
    s: &Socket,
    msgs: &[&[u8]],
    to: Option<&SockAddr>,
    flags: libc::c_int,
    _gso: &Gso,
) -> std::io::Result<usize> {
    use std::os::fd::AsRawFd;
    let n = msgs.len().min(1024);
    let mut iovs: Vec<libc::iovec> = msgs[..n]
        .iter()
        .map(|m| libc::iovec {
            iov_base: m.as_ptr() as *mut libc::c_void,
            iov_len: m.len(),
        })
        .collect();
    // SAFETY: zeroed mmsghdr is valid; pointers below outlive the call.
    let mut hdrs: Vec<libc::mmsghdr> = (0..n).map(|_| unsafe { std::mem::zeroed() }).collect();
    for (h, iov) in hdrs.iter_mut().zip(iovs.iter_mut()) {
        h.msg_hdr.msg_iov = iov;
        h.msg_hdr.msg_iovlen = 1;
        if let Some(a) = to {
            h.msg_hdr.msg_name = a.as_ptr() as *mut libc::c_void;
            h.msg_hdr.msg_namelen = a.len();
        }
    }
    // SAFETY: hdrs holds n initialised headers.
    let r = unsafe {
        libc::sendmmsg(
            s.as_raw_fd(),
            hdrs.as_mut_ptr(),
            n as libc::c_uint,
            libc::MSG_NOSIGNAL | flags,
        )
    };
    if r < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(r as usize)
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn sys_send_many(
    s: &Socket,
    msgs: &[&[u8]],
    to: Option<&SockAddr>,
    flags: libc::c_int,
    _gso: &Gso,
) -> std::io::Result<usize> {
    let mut sent = 0;
    for m in msgs {
        let fl = if sent == 0 { flags } else { libc::MSG_DONTWAIT };
        let r = match to {
            Some(a) => s.send_to_with_flags(m, a, fl),
            None => s.send_with_flags(m, fl),
        };
        match r {
            Ok(_) => sent += 1,
            Err(e) if sent > 0 && would_block(&e) => break,
            Err(e) => return Err(e),
        }
    }
    Ok(sent)
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn sys_recv_many(
    s: &Socket,
    bufs: &mut [&mut [u8]],
    metas: &mut Vec<RecvMeta>,
    flags: libc::c_int,
) -> std::io::Result<usize> {
    metas.reserve(bufs.len().min(MAX_BATCH));
    sys_recv_mmsg(s, bufs, flags, true, |size, name| {
        let (name, namelen) = name.expect("names were asked for");
        // SAFETY: the kernel wrote a sockaddr of `namelen` bytes into `name`.
        let peer = unsafe { Addr::from_raw(name, namelen) }?;
        metas.push(RecvMeta {
            len: size.len,
            full_len: size.full_len,
            truncated: size.truncated,
            peer,
        });
        Ok(())
    })
}

/// [`sys_recv_many`] without the senders: the kernel is given no address buffer.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn sys_recv_many_sizes(
    s: &Socket,
    bufs: &mut [&mut [u8]],
    sizes: &mut Vec<RecvSize>,
    flags: libc::c_int,
) -> std::io::Result<usize> {
    sizes.reserve(bufs.len().min(MAX_BATCH));
    sys_recv_mmsg(s, bufs, flags, false, |size, _| {
        sizes.push(size);
        Ok(())
    })
}

/// The most datagrams one recvmmsg(2) call takes.
#[cfg(any(target_os = "linux", target_os = "android"))]
const MAX_BATCH: usize = 1024;
/// Batches up to this size keep their headers on the stack (no allocation per call).
#[cfg(any(target_os = "linux", target_os = "android"))]
const STACK_BATCH: usize = 64;

/// A sender address the kernel wrote, and its length.
#[cfg(any(target_os = "linux", target_os = "android"))]
type RawName<'a> = (
    &'a std::mem::MaybeUninit<libc::sockaddr_storage>,
    libc::socklen_t,
);

/// One recvmmsg(2) into `bufs` (the first [`MAX_BATCH`]), waiting (as `flags` say) for the
/// first datagram only; `each(size, sender)` for every datagram that came, in order, the sender
/// only when `names` (without, the kernel copies no address: ~100 ns less per datagram on
/// loopback). Returns how many came.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn sys_recv_mmsg(
    s: &Socket,
    bufs: &mut [&mut [u8]],
    flags: libc::c_int,
    names: bool,
    each: impl FnMut(RecvSize, Option<RawName<'_>>) -> std::io::Result<()>,
) -> std::io::Result<usize> {
    use std::mem::MaybeUninit;
    let n = bufs.len().min(MAX_BATCH);
    // Only the headers in use are written (by `recv_mmsg_in`); the kernel writes the sender
    // addresses, so they need no initialisation (zeroing 128 bytes per datagram, or the whole
    // stack scratch per call, showed in profiles).
    if n <= STACK_BATCH {
        let mut hdrs = [MaybeUninit::<libc::mmsghdr>::uninit(); STACK_BATCH];
        let mut iovs = [MaybeUninit::<libc::iovec>::uninit(); STACK_BATCH];
        let mut addrs = [MaybeUninit::<libc::sockaddr_storage>::uninit(); STACK_BATCH];
        recv_mmsg_in(
            s,
            &mut bufs[..n],
            flags,
            names.then_some(&mut addrs[..n]),
            &mut hdrs[..n],
            &mut iovs[..n],
            each,
        )
    } else {
        let mut hdrs = Vec::with_capacity(n);
        let mut iovs = Vec::with_capacity(n);
        let mut addrs = Vec::with_capacity(n);
        // SAFETY: MaybeUninit needs no initialisation.
        unsafe {
            hdrs.set_len(n);
            iovs.set_len(n);
            addrs.set_len(n);
        }
        recv_mmsg_in(
            s,
            &mut bufs[..n],
            flags,
            names.then_some(&mut addrs[..]),
            &mut hdrs,
            &mut iovs,
            each,
        )
    }
}

/// [`sys_recv_mmsg`] with its scratch: `hdrs` and `iovs` as long as `bufs`, and `addrs` too
/// when the senders are wanted.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn recv_mmsg_in(
    s: &Socket,
    bufs: &mut [&mut [u8]],
    flags: libc::c_int,
    mut addrs: Option<&mut [std::mem::MaybeUninit<libc::sockaddr_storage>]>,
    hdrs: &mut [std::mem::MaybeUninit<libc::mmsghdr>],
    iovs: &mut [std::mem::MaybeUninit<libc::iovec>],
    mut each: impl FnMut(RecvSize, Option<RawName<'_>>) -> std::io::Result<()>,
) -> std::io::Result<usize> {
    use std::os::fd::AsRawFd;
    const NAME_LEN: libc::socklen_t = std::mem::size_of::<libc::sockaddr_storage>() as _;
    let n = hdrs.len().min(iovs.len()).min(bufs.len());
    for (i, ((h, iov), b)) in hdrs
        .iter_mut()
        .zip(iovs.iter_mut())
        .zip(bufs.iter_mut())
        .enumerate()
    {
        let iov = iov.write(libc::iovec {
            iov_base: b.as_mut_ptr() as *mut libc::c_void,
            iov_len: b.len(),
        });
        // SAFETY: an all-zero mmsghdr is valid (null pointers, zero lengths).
        let h = h.write(unsafe { std::mem::zeroed() });
        h.msg_hdr.msg_iov = iov;
        h.msg_hdr.msg_iovlen = 1;
        if let Some(a) = addrs.as_deref_mut() {
            h.msg_hdr.msg_name = a[i].as_mut_ptr() as *mut libc::c_void;
            h.msg_hdr.msg_namelen = NAME_LEN;
        }
    }
    // SAFETY: the first n headers were written just above (MaybeUninit<T> has T's layout).
    let hdrs = unsafe { &mut *(&mut hdrs[..n] as *mut [_] as *mut [libc::mmsghdr]) };
    // SAFETY: hdrs holds initialised headers whose pointers (iovs, bufs, addrs) outlive the call.
    let r = unsafe {
        libc::recvmmsg(
            s.as_raw_fd(),
            hdrs.as_mut_ptr(),
            hdrs.len() as libc::c_uint,
            // MSG_TRUNC: msg_len is the datagram's real size even when it was cut, so that
            // `full_len` is right (as in recv_from). MSG_WAITFORONE: wait (up to the socket's
            // timeout) for the first datagram only, then take what is already there.
            libc::MSG_WAITFORONE | libc::MSG_TRUNC | flags,
            std::ptr::null_mut(),
        )
    };
    if r < 0 {
        return Err(std::io::Error::last_os_error());
    }
    let r = r as usize;
    for (i, (h, b)) in hdrs[..r].iter().zip(bufs.iter()).enumerate() {
        let len = h.msg_len as usize;
        let cap = b.len();
        let truncated = h.msg_hdr.msg_flags & libc::MSG_TRUNC != 0;
        let size = RecvSize {
            len: len.min(cap),
            full_len: if truncated { len.max(cap + 1) } else { len },
            truncated,
        };
        let name = addrs
            .as_deref()
            .map(|a| (&a[i], h.msg_hdr.msg_namelen.min(NAME_LEN)));
        each(size, name)?;
    }
    Ok(r)
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn sys_recv_many(
    s: &Socket,
    bufs: &mut [&mut [u8]],
    metas: &mut Vec<RecvMeta>,
    flags: libc::c_int,
) -> std::io::Result<usize> {
    for b in bufs.iter_mut() {
        // SAFETY: as in recv_from.
        let uninit = unsafe { &mut *(*b as *mut [u8] as *mut [std::mem::MaybeUninit<u8>]) };
        let fl = if metas.is_empty() {
            flags
        } else {
            libc::MSG_DONTWAIT
        };
        match s.recv_from_with_flags(uninit, fl) {
            Ok((n, from)) => metas.push(RecvMeta {
                len: n.min(b.len()),
                full_len: n,
                truncated: false,
                peer: Addr::from_sockaddr(&from),
            }),
            Err(e) if !metas.is_empty() && would_block(&e) => break,
            Err(e) => return Err(e),
        }
    }
    Ok(metas.len())
}
