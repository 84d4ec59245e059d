//! UDP offload on Linux: segmentation on send (GSO, the `UDP_SEGMENT` option) and coalescing on
//! receive (GRO, the `UDP_GRO` option), for the blocking [`Datagram`](crate::Datagram) and the
//! engine's [`DatagramServer`](crate::engine::DatagramServer). Elsewhere nothing is offloaded and
//! every datagram is its own message.
//!
//! **Send (automatic).** A batch ([`Datagram::send_many`](crate::Datagram::send_many)) goes to
//! one destination; each run of datagrams of one size `s` (at most [`MAX_SEGMENTS`], at most
//! [`MAX_SUPER`] bytes together), optionally closed by one shorter non-empty datagram, becomes
//! one message with a `UDP_SEGMENT` (level `SOL_UDP` 17, option 103) control message of `s`:
//! the kernel (or the NIC) cuts it back into the same datagrams, so the peer sees exactly the
//! datagrams given, whoever it is. Several such runs still go in one `sendmmsg(2)`; a batch with
//! nothing to merge is sent exactly as before. The datagram payloads are not copied: each run's
//! message points at the caller's buffers (one `iovec` per datagram).
//!
//! **Fallback.** Whether the kernel knows `UDP_SEGMENT` is asked once per socket
//! (`getsockopt`); a kernel without it never sees the control message. A merged message that
//! fails with `EIO` (the device cannot checksum segments) or `EINVAL` (segment larger than the
//! path's MTU allows) is sent again at once without merging; if that works, merging is turned
//! off for the socket (`EIO`) or limited to smaller segments (`EINVAL`), so the cost is paid
//! once. An error that stays without merging is the caller's to see, unchanged.
//!
//! **Receive (opt-in).** With `UDP_GRO` (option 104) on, the kernel may hand over up to 64 KiB
//! of datagrams of one sender in one buffer, with their size (`stride`) in a control message;
//! this module cuts them back into the original datagrams (the last may be shorter), each with
//! that sender. Because one receive can then yield more datagrams than asked for, the rest wait
//! inside the socket object: the file descriptor no longer polls readable for them. That is why
//! the blocking socket turns it on only when asked ([`DatagramOptions::gro`]); the engine, whose
//! readiness is its event queue rather than the descriptor, always asks.
//!
//! **Why by hand rather than `quinn-udp`.** `quinn-udp`'s `UdpSocketState::new` changes the
//! socket it is given: it turns `UDP_GRO` on unconditionally, sets `IP_MTU_DISCOVER` to
//! `IP_PMTUDISC_PROBE` and `IPV6_DONTFRAG` (no IP fragmentation: a datagram larger than the path
//! MTU, which a [`Datagram`](crate::Datagram) sends today, would stop leaving), and asks for
//! `IP_PKTINFO`/`IP_RECVTOS` control messages on every receive. Its `Transmit` is one contiguous
//! buffer sent with one `sendmsg` per segmented message, so a batch of separate buffers would be
//! copied first and a batch of runs would cost one system call per run. Here the batch stays in
//! the one `sendmmsg` it already used, each run pointing at the caller's buffers (no copy), and
//! the socket keeps its options. The code is two control messages (a `u16` on send, an `int` on
//! receive) on the `sendmmsg`/`recvmmsg` calls libsock already made by hand.
//!
//! [`DatagramOptions::gro`]: crate::DatagramOptions::gro

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};

use socket2::SockAddr;

use crate::addr::Addr;

/// `SOL_UDP`: the protocol level of the UDP options.
pub const SOL_UDP: i32 = 17;
/// `UDP_SEGMENT` (Linux 4.18): the segment size of a merged send (a `u16` control message).
pub const UDP_SEGMENT: i32 = 103;
/// `UDP_GRO` (Linux 5.0): hand over coalesced datagrams with their size (an `int`).
pub const UDP_GRO: i32 = 104;
/// The most datagrams merged into one send (the kernel's `UDP_MAX_SEGMENTS` before 6.8).
pub const MAX_SEGMENTS: usize = 64;
/// The most bytes merged into one send: the payload of one IPv4 UDP datagram.
pub const MAX_SUPER: usize = 65507;
/// Bytes of one coalesced receive buffer.
pub const GRO_SLOT: usize = 65536;
/// Coalesced buffers taken by one receive call of the blocking socket at most: as many as a
/// batch asks for up to this, so that traffic the kernel did not coalesce still comes 64
/// datagrams per system call. The buffers (64 KiB each, up to 4 MiB) are allocated on first
/// use, sized by the largest batch asked for.
pub const GRO_SLOTS: usize = 64;

/// A socket's send offload state: the largest segment size still merged (0: off).
#[derive(Debug)]
pub(crate) struct Gso {
    max_seg: AtomicUsize,
}

impl Gso {
    /// No offload (Unix datagram sockets, platforms without it, or turned off).
    pub(crate) fn off() -> Gso {
        Gso {
            max_seg: AtomicUsize::new(0),
        }
    }

    /// Offload if the kernel knows `UDP_SEGMENT` for this socket.
    pub(crate) fn probe(fd: i32) -> Gso {
        let on = probe_gso(fd);
        Gso {
            max_seg: AtomicUsize::new(if on { MAX_SUPER } else { 0 }),
        }
    }

    /// True while datagrams may be merged.
    pub(crate) fn enabled(&self) -> bool {
        self.max_seg.load(Ordering::Relaxed) > 0
    }
}

#[cfg(target_os = "linux")]
fn probe_gso(fd: i32) -> bool {
    let mut v: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: one int and its length.
    let r = unsafe {
        libc::getsockopt(
            fd,
            SOL_UDP,
            UDP_SEGMENT,
            &mut v as *mut libc::c_int as *mut libc::c_void,
            &mut len,
        )
    };
    r == 0
}

#[cfg(not(target_os = "linux"))]
fn probe_gso(_fd: i32) -> bool {
    false
}

/// Turn `UDP_GRO` on; false if the kernel refuses (it then hands over single datagrams).
#[cfg(target_os = "linux")]
pub(crate) fn enable_gro(fd: i32) -> bool {
    let one: libc::c_int = 1;
    // SAFETY: one int and its length.
    let r = unsafe {
        libc::setsockopt(
            fd,
            SOL_UDP,
            UDP_GRO,
            &one as *const libc::c_int as *const libc::c_void,
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    r == 0
}

/// Turn `UDP_GRO` on: never here.
#[cfg(not(target_os = "linux"))]
pub(crate) fn enable_gro(_fd: i32) -> bool {
    false
}

/// Send up to 1024 messages of `msgs` to `to` (or the connected peer) with one `sendmmsg(2)`,
/// merging runs as the module explains; returns how many datagrams went (at least one).
#[cfg(target_os = "linux")]
pub(crate) fn send_many(
    fd: i32,
    msgs: &[&[u8]],
    to: Option<&SockAddr>,
    flags: libc::c_int,
    gso: &Gso,
) -> std::io::Result<usize> {
    let limit = gso.max_seg.load(Ordering::Relaxed);
    match send_batch(fd, msgs, to, flags, limit) {
        Ok(n) => Ok(n),
        Err((e, Some(seg))) if matches!(e.raw_os_error(), Some(libc::EIO) | Some(libc::EINVAL)) => {
            // The first message was merged and refused: send without merging, and learn only
            // if that works (the error was the offload's, not the destination's).
            let n = send_batch(fd, msgs, to, flags, 0).map_err(|(e, _)| e)?;
            if e.raw_os_error() == Some(libc::EIO) {
                gso.max_seg.store(0, Ordering::Relaxed);
            } else {
                gso.max_seg.fetch_min(seg - 1, Ordering::Relaxed);
            }
            Ok(n)
        }
        Err((e, _)) => Err(e),
    }
}

/// One `sendmmsg(2)` merging runs of segments up to `limit` bytes (0: none). An error of the
/// first message comes with its segment size when it was merged.
#[cfg(target_os = "linux")]
fn send_batch(
    fd: i32,
    msgs: &[&[u8]],
    to: Option<&SockAddr>,
    flags: libc::c_int,
    limit: usize,
) -> Result<usize, (std::io::Error, Option<usize>)> {
    let msgs = &msgs[..msgs.len().min(1024)];
    let groups = group(msgs, limit);
    let mut iovs: Vec<libc::iovec> = msgs
        .iter()
        .map(|m| libc::iovec {
            iov_base: m.as_ptr() as *mut libc::c_void,
            iov_len: m.len(),
        })
        .collect();
    // SAFETY: CMSG_SPACE only computes.
    let space = unsafe { libc::CMSG_SPACE(std::mem::size_of::<u16>() as u32) } as usize;
    debug_assert!(space <= std::mem::size_of::<Cmsg>());
    let merged = groups.iter().filter(|g| g.seg > 0).count();
    let mut cmsgs: Vec<Cmsg> = vec![Cmsg([0; 4]); merged];
    // SAFETY: an all-zero mmsghdr is valid (null pointers, zero lengths).
    let zero: libc::mmsghdr = unsafe { std::mem::zeroed() };
    let mut hdrs: Vec<libc::mmsghdr> = vec![zero; groups.len()];
    let mut c = 0;
    for (h, g) in hdrs.iter_mut().zip(&groups) {
        h.msg_hdr.msg_iov = iovs[g.start..].as_mut_ptr();
        h.msg_hdr.msg_iovlen = g.count as _;
        if let Some(a) = to {
            h.msg_hdr.msg_name = a.as_ptr() as *mut libc::c_void;
            h.msg_hdr.msg_namelen = a.len();
        }
        if g.seg > 0 {
            h.msg_hdr.msg_control = cmsgs[c].0.as_mut_ptr() as *mut libc::c_void;
            h.msg_hdr.msg_controllen = space as _;
            c += 1;
            // SAFETY: the control buffer holds `space` bytes, room for one u16 message.
            unsafe {
                let cm = libc::CMSG_FIRSTHDR(&h.msg_hdr);
                (*cm).cmsg_level = SOL_UDP;
                (*cm).cmsg_type = UDP_SEGMENT;
                (*cm).cmsg_len = libc::CMSG_LEN(std::mem::size_of::<u16>() as u32) as _;
                std::ptr::write_unaligned(libc::CMSG_DATA(cm) as *mut u16, g.seg as u16);
            }
        }
    }
    // SAFETY: every header's pointers (iovecs, addresses, control) outlive the call.
    let r = unsafe {
        libc::sendmmsg(
            fd,
            hdrs.as_mut_ptr(),
            hdrs.len() as libc::c_uint,
            libc::MSG_NOSIGNAL | flags,
        )
    };
    if r < 0 {
        let first = groups.first().map(|g| g.seg).filter(|s| *s > 0);
        return Err((std::io::Error::last_os_error(), first));
    }
    Ok(groups[..r as usize].iter().map(|g| g.count).sum())
}

/// One control message buffer, aligned for `cmsghdr`.
#[derive(Clone, Copy)]
#[repr(C, align(8))]
struct Cmsg([u64; 4]);

/// A run of datagrams sent as one message: `msgs[start..start + count]`, merged with segment
/// size `seg` (0: one plain datagram).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Group {
    pub(crate) start: usize,
    pub(crate) count: usize,
    pub(crate) seg: usize,
}

/// Cut `msgs` into runs: equal sizes up to `limit` bytes each, at most [`MAX_SEGMENTS`] and
/// [`MAX_SUPER`] bytes together, the last one possibly shorter but not empty.
pub(crate) fn group(msgs: &[&[u8]], limit: usize) -> Vec<Group> {
    let n = msgs.len();
    let mut out = Vec::new();
    let mut i = 0;
    while i < n {
        let seg = msgs[i].len();
        let mut j = i + 1;
        if seg > 0 && seg <= limit {
            let mut total = seg;
            while j < n && j - i < MAX_SEGMENTS && msgs[j].len() == seg && total + seg <= MAX_SUPER
            {
                total += seg;
                j += 1;
            }
            if j < n
                && j - i < MAX_SEGMENTS
                && !msgs[j].is_empty()
                && msgs[j].len() < seg
                && total + msgs[j].len() <= MAX_SUPER
            {
                j += 1;
            }
        }
        let count = j - i;
        out.push(Group {
            start: i,
            count,
            seg: if count > 1 { seg } else { 0 },
        });
        i = j;
    }
    out
}

/// One datagram inside a coalesced receive buffer.
#[derive(Debug, Clone)]
pub(crate) struct Seg {
    /// Byte offset in the storage.
    pub(crate) at: usize,
    /// Its size.
    pub(crate) len: usize,
    /// Its sender.
    pub(crate) peer: Addr,
}

/// The `recvmmsg(2)` headers of a receiver, kept from one receive to the next: each receive
/// then only points them at its buffers, where building them (four allocations and as many
/// frees, a zeroed header per slot) cost ~500 instructions per call, more than the rest of a
/// one-datagram echo's user-space work.
#[cfg(target_os = "linux")]
#[derive(Default)]
pub(crate) struct RecvHeaders {
    hdrs: Vec<libc::mmsghdr>,
    iovs: Vec<libc::iovec>,
    names: Vec<std::mem::MaybeUninit<libc::sockaddr_storage>>,
    cmsgs: Vec<Cmsg>,
}

/// The headers of a receiver: nothing to keep where receive offload is never on.
#[cfg(not(target_os = "linux"))]
#[derive(Default)]
pub(crate) struct RecvHeaders;

// SAFETY: the raw pointers in `hdrs` point only into this value's own heap buffers (`iovs`,
// `names`, `cmsgs`, never reallocated once built) or, during a receive, into the buffer that
// receive borrows; nothing is shared, so moving the value to another thread is sound.
#[cfg(target_os = "linux")]
unsafe impl Send for RecvHeaders {}

#[cfg(target_os = "linux")]
impl RecvHeaders {
    const NAME_LEN: libc::socklen_t = std::mem::size_of::<libc::sockaddr_storage>() as _;

    /// Headers for at least `slots` messages (built once; rebuilt only for more).
    fn ready(&mut self, slots: usize) {
        if self.hdrs.len() >= slots {
            return;
        }
        self.iovs = vec![
            libc::iovec {
                iov_base: std::ptr::null_mut(),
                iov_len: 0,
            };
            slots
        ];
        self.names = Vec::with_capacity(slots);
        // SAFETY: MaybeUninit needs no initialisation.
        unsafe { self.names.set_len(slots) };
        self.cmsgs = vec![Cmsg([0; 4]); slots];
        // SAFETY: an all-zero mmsghdr is valid.
        let zero: libc::mmsghdr = unsafe { std::mem::zeroed() };
        self.hdrs = vec![zero; slots];
        for (((h, iov), name), cm) in self
            .hdrs
            .iter_mut()
            .zip(self.iovs.iter_mut())
            .zip(self.names.iter_mut())
            .zip(self.cmsgs.iter_mut())
        {
            h.msg_hdr.msg_iov = iov;
            h.msg_hdr.msg_iovlen = 1;
            h.msg_hdr.msg_name = name.as_mut_ptr() as *mut libc::c_void;
            h.msg_hdr.msg_control = cm.0.as_mut_ptr() as *mut libc::c_void;
        }
    }
}

/// Receive with `recvmmsg(2)` into `storage` cut into `slot`-byte buffers (waiting for the
/// first as `flags` say, then taking what is there) and append each datagram, cut back by the
/// coalesced size, to `out`; returns the datagrams added. A datagram longer than `slot` is cut
/// to it (with `UDP_GRO` on, `slot` must be [`GRO_SLOT`]). `headers` are the receiver's own,
/// reused from call to call.
#[cfg(target_os = "linux")]
pub(crate) fn recv(
    fd: i32,
    headers: &mut RecvHeaders,
    storage: &mut [u8],
    slot: usize,
    flags: libc::c_int,
    out: &mut VecDeque<Seg>,
) -> std::io::Result<usize> {
    let slots = (storage.len() / slot).max(1);
    let slot = slot.min(storage.len());
    headers.ready(slots);
    let RecvHeaders { hdrs, iovs, .. } = headers;
    let bufs = storage.chunks_mut(slot).take(slots);
    for ((h, iov), b) in hdrs.iter_mut().zip(iovs.iter_mut()).zip(bufs) {
        iov.iov_base = b.as_mut_ptr() as *mut libc::c_void;
        iov.iov_len = b.len();
        h.msg_hdr.msg_namelen = RecvHeaders::NAME_LEN;
        h.msg_hdr.msg_controllen = std::mem::size_of::<Cmsg>() as _;
    }
    // One buffer: one `recvmsg`, the kernel's cheapest receive (a `recvmmsg` of one message
    // also copies in and checks the array of headers).
    let r = if slots == 1 {
        // SAFETY: the first header is initialised and points at `iovs`, `names`, `cmsgs`
        // (alive in `headers`) and at `storage` (borrowed for the call).
        let n = unsafe { libc::recvmsg(fd, &mut hdrs[0].msg_hdr, flags) };
        if n < 0 {
            -1
        } else {
            // One message of `n` bytes (possibly none: an empty datagram).
            hdrs[0].msg_len = n as libc::c_uint;
            1
        }
    } else {
        // SAFETY: the first `slots` headers are initialised and point at `iovs`, `names`,
        // `cmsgs` (alive in `headers`) and at `storage` (borrowed for the call).
        unsafe {
            libc::recvmmsg(
                fd,
                hdrs.as_mut_ptr(),
                slots as libc::c_uint,
                libc::MSG_WAITFORONE | flags,
                std::ptr::null_mut(),
            )
        }
    };
    if r < 0 {
        return Err(std::io::Error::last_os_error());
    }
    let before = out.len();
    for (i, h) in hdrs[..r as usize].iter().enumerate() {
        if h.msg_len == 0 && h.msg_hdr.msg_namelen == 0 {
            // No sender: not an empty datagram (UDP always names one) but a read woken by
            // shutdown(SHUT_RD).
            break;
        }
        let len = (h.msg_len as usize).min(slot);
        let peer = addr_of(
            &headers.names[i],
            h.msg_hdr.msg_namelen.min(RecvHeaders::NAME_LEN),
        )?;
        let stride = gro_stride(&h.msg_hdr).filter(|s| *s > 0).unwrap_or(len);
        split(i * slot, len, stride, &peer, out);
    }
    Ok(out.len() - before)
}

/// Receive coalesced datagrams: never here (receive offload is never on).
#[cfg(not(target_os = "linux"))]
pub(crate) fn recv(
    _fd: i32,
    _headers: &mut RecvHeaders,
    _storage: &mut [u8],
    _slot: usize,
    _flags: libc::c_int,
    _out: &mut VecDeque<Seg>,
) -> std::io::Result<usize> {
    Err(std::io::ErrorKind::Unsupported.into())
}

/// Append the datagrams of a coalesced buffer of `len` bytes at `at`: `stride` bytes each, the
/// last possibly shorter. An empty buffer is one empty datagram.
pub(crate) fn split(at: usize, len: usize, stride: usize, peer: &Addr, out: &mut VecDeque<Seg>) {
    if len == 0 || stride == 0 {
        out.push_back(Seg {
            at,
            len,
            peer: same_peer(peer),
        });
        return;
    }
    let mut off = 0;
    while off < len {
        let l = stride.min(len - off);
        out.push_back(Seg {
            at: at + off,
            len: l,
            peer: same_peer(peer),
        });
        off += l;
    }
}

/// A copy of `peer`, the socket-address case first. `Addr::clone` inlined here tests the
/// `Unix` variant's inner niche (a word that an `Inet` address leaves unwritten) before the
/// variant itself: harmless, as the result is not used then, but memcheck reports that jump on
/// uninitialised memory (the C suite runs the engine under valgrind).
#[inline]
fn same_peer(peer: &Addr) -> Addr {
    match peer {
        Addr::Inet(a) => Addr::Inet(*a),
        other => other.clone(),
    }
}

/// The `UDP_GRO` segment size reported with a received message, if any.
#[cfg(target_os = "linux")]
pub(crate) fn gro_stride(m: &libc::msghdr) -> Option<usize> {
    // SAFETY: walking the control messages the kernel wrote, within msg_controllen.
    unsafe {
        let mut cm = libc::CMSG_FIRSTHDR(m);
        while !cm.is_null() {
            if (*cm).cmsg_level == SOL_UDP && (*cm).cmsg_type == UDP_GRO {
                let v = std::ptr::read_unaligned(libc::CMSG_DATA(cm) as *const libc::c_int);
                return usize::try_from(v).ok();
            }
            cm = libc::CMSG_NXTHDR(m, cm);
        }
    }
    None
}

/// The sender written by the kernel into `name` (`len` bytes).
#[cfg(target_os = "linux")]
pub(crate) fn addr_of(
    name: &std::mem::MaybeUninit<libc::sockaddr_storage>,
    len: libc::socklen_t,
) -> std::io::Result<Addr> {
    // SAFETY: the kernel wrote a sockaddr of `len` bytes into `name`.
    unsafe { Addr::from_raw(name, len) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(sizes: &[usize], limit: usize) -> Vec<(usize, usize, usize)> {
        let bufs: Vec<Vec<u8>> = sizes.iter().map(|s| vec![0u8; *s]).collect();
        let msgs: Vec<&[u8]> = bufs.iter().map(|b| b.as_slice()).collect();
        group(&msgs, limit)
            .into_iter()
            .map(|g| (g.start, g.count, g.seg))
            .collect()
    }

    #[test]
    fn runs_of_equal_sizes_merge_and_a_shorter_one_closes_them() {
        assert_eq!(g(&[100, 100, 100, 40], MAX_SUPER), vec![(0, 4, 100)]);
        assert_eq!(
            g(&[100, 100, 40, 100], MAX_SUPER),
            vec![(0, 3, 100), (3, 1, 0)]
        );
        // A longer one starts a new run; a lone datagram is sent plain.
        assert_eq!(
            g(&[10, 20, 20, 0, 5], MAX_SUPER),
            vec![(0, 1, 0), (1, 2, 20), (3, 1, 0), (4, 1, 0)]
        );
        // An empty datagram never closes a run (it would vanish inside it).
        assert_eq!(g(&[8, 8, 0], MAX_SUPER), vec![(0, 2, 8), (2, 1, 0)]);
        // Off, or over the learned limit: every datagram alone.
        assert_eq!(g(&[8, 8], 0), vec![(0, 1, 0), (1, 1, 0)]);
        assert_eq!(g(&[8, 8, 4, 4], 7), vec![(0, 1, 0), (1, 1, 0), (2, 2, 4)]);
    }

    #[test]
    fn runs_stop_at_the_segment_count_and_the_byte_limit() {
        let many = vec![10usize; MAX_SEGMENTS + 3];
        assert_eq!(
            g(&many, MAX_SUPER),
            vec![(0, MAX_SEGMENTS, 10), (MAX_SEGMENTS, 3, 10)]
        );
        let big = vec![30000usize, 30000, 30000];
        assert_eq!(g(&big, MAX_SUPER), vec![(0, 2, 30000), (2, 1, 0)]);
    }

    #[test]
    fn split_cuts_by_stride_and_keeps_the_short_tail() {
        let p = Addr::Inet("127.0.0.1:9".parse().unwrap());
        let mut out = VecDeque::new();
        split(100, 250, 100, &p, &mut out);
        let v: Vec<(usize, usize)> = out.iter().map(|s| (s.at, s.len)).collect();
        assert_eq!(v, vec![(100, 100), (200, 100), (300, 50)]);
        out.clear();
        split(0, 0, 0, &p, &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].len, 0);
    }

    /// One header set serves receives of different batch sizes and buffers in turn: each
    /// receive reports the right bytes and sender for every datagram, whatever the set was
    /// built for before (more slots than this call's, a buffer that is not a multiple of the
    /// slot).
    #[cfg(target_os = "linux")]
    #[test]
    fn reused_headers_receive_what_each_call_asks() {
        use std::os::fd::AsRawFd;
        let rx = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let a = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let b = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let to = rx.local_addr().unwrap();
        let mut headers = RecvHeaders::default();
        let mut out = VecDeque::new();
        // (slots, slot bytes, storage bytes) per call; 3 datagrams sent before each.
        for (round, (slot, storage_len)) in [(16, 16 * 4), (16, 16), (8, 8 * 2 + 5), (32, 32 * 8)]
            .into_iter()
            .enumerate()
        {
            for k in 0..3u8 {
                let from = if k % 2 == 0 { &a } else { &b };
                from.send_to(&[round as u8, k, 7, 7, 7], to).unwrap();
            }
            let mut storage = vec![0u8; storage_len];
            let slots = (storage_len / slot).max(1);
            let mut seen = Vec::new();
            while seen.len() < 3 {
                out.clear();
                let n = recv(
                    rx.as_raw_fd(),
                    &mut headers,
                    &mut storage,
                    slot,
                    0,
                    &mut out,
                )
                .unwrap();
                assert!(
                    n >= 1 && n <= slots,
                    "round {round}: {n} datagrams in {slots} slots"
                );
                for seg in out.drain(..) {
                    seen.push((storage[seg.at..seg.at + seg.len].to_vec(), seg.peer));
                }
            }
            for (k, (data, peer)) in seen.iter().enumerate() {
                let from = if k % 2 == 0 { &a } else { &b };
                assert_eq!(data, &vec![round as u8, k as u8, 7, 7, 7], "round {round}");
                assert_eq!(
                    peer,
                    &Addr::Inet(from.local_addr().unwrap()),
                    "round {round}"
                );
            }
        }
    }
}
