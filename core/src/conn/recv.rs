//! The receive side of a [`Connection`]: the buffer and decoder, and every receive call.

use super::*;

pub(super) struct Rx {
    pub(super) buf: BytesMut,
    pub(super) decoder: Decoder,
    /// A decoded message that did not fit a caller's buffer (kept for the next call).
    pub(super) pending: Option<Bytes>,
    /// An oversized frame met by `recv_msgs` after it had messages to deliver: the decoder has
    /// already skipped past it, so the error is kept here for the next message call.
    pub(super) error: Option<Error>,
    /// `recv_msgs`' list of message ranges, kept between calls (no allocation per batch).
    ranges: Vec<(usize, usize)>,
    /// The size of a read (see [`Timed::fill`]): [`READ_CHUNK`], doubled up to
    /// [`MAX_READ_CHUNK`] while reads fill all the room they are given.
    chunk: usize,
    /// The last read returned less than the room it had: the kernel held no more then.
    drained: bool,
}

impl Rx {
    pub(super) fn new(framing: Framing) -> Rx {
        Rx {
            buf: BytesMut::new(),
            decoder: Decoder::new(framing),
            pending: None,
            error: None,
            ranges: Vec::new(),
            chunk: READ_CHUNK,
            drained: false,
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
        // The frame with its header split off at once, the header then dropped from the
        // message: two cheap steps on the buffer instead of three.
        let mut m = self.buf.split_to(b);
        m.advance(a);
        if consumed > b {
            self.buf.advance(consumed - b);
        }
        m.freeze()
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
        self.out.reserve_exact(self.ranges.len());
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

impl Timed<'_> {
    /// Read once from the socket into the receive buffer; Ok(0) = end of stream.
    pub(super) fn fill(
        &self,
        s: &Socket,
        rx: &mut Rx,
        want: usize,
        deadline: &Deadline,
        what: &str,
    ) -> Result<usize> {
        // Read into the free space when there is enough of it; else make room: the unread
        // bytes move to the front of the buffer when nothing else holds it (no allocation in a
        // steady stream of small frames), else they move to a new buffer, which also grows for
        // a frame that does not fit. The room asked for is at most what is already buffered (or
        // one chunk): a frame grows the buffer by doubling as its bytes arrive, so memory
        // follows the bytes received, never the length a peer's header claims. The chunk
        // itself doubles (up to MAX_READ_CHUNK) each time a read fills all the room it had:
        // a busy stream is read in a few large reads, a quiet one keeps a small buffer.
        let chunk = rx.chunk;
        let want = want.min(rx.buf.len().max(chunk));
        if rx.buf.capacity() == 0 {
            rx.buf.reserve(want.max(chunk));
        } else if rx.buf.capacity() - rx.buf.len() < want.max(chunk / 4) {
            let add = want.max(chunk / 2);
            if !rx.buf.try_reclaim(add) {
                // Not `reserve`: growing the old allocation in place would copy the bytes
                // already consumed in front of the unread ones too (a whole buffer per
                // refill in a stream of small frames); only the unread bytes move here. The
                // old buffer goes once the messages cut from it are dropped.
                let mut fresh = BytesMut::with_capacity((rx.buf.len() + add).max(chunk));
                fresh.extend_from_slice(&rx.buf);
                rx.buf = fresh;
            }
        }
        let op = || self.c.op(what);
        let room = rx.buf.capacity() - rx.buf.len();
        let n = self.sock_recv(s, rx.buf.spare_capacity_mut(), deadline, &op)?;
        // SAFETY: recv initialised n bytes of the spare capacity.
        unsafe { rx.buf.set_len(rx.buf.len() + n) };
        if n == room && chunk < MAX_READ_CHUNK {
            rx.chunk = chunk * 2;
        }
        rx.drained = n < room;
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
        let n = self.sock_recv(&s, uninit, &deadline, &op)?;
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
            let r = match self.sock_recv(&s, uninit, &deadline, &op) {
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
        let m = self.recv_msg_locked(&mut rx)?;
        self.c.counters.tally_in(1);
        Ok(m)
    }

    fn recv_msg_locked(&self, rx: &mut Rx) -> Result<Bytes> {
        if rx.pending.is_some() || rx.error.is_some() {
            return Self::kept(rx);
        }
        let at = match rx.decoder.cut_plain(&rx.buf) {
            Some((start, end)) => (start, end, end),
            None => self.next_in_buf(rx)?,
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
        let n = self.recv_msg_into_locked(&mut rx, buf)?;
        self.c.counters.tally_in(1);
        Ok(n)
    }

    fn recv_msg_into_locked(&self, rx: &mut Rx, buf: &mut [u8]) -> Result<usize> {
        if rx.pending.is_some() || rx.error.is_some() {
            return self.recv_msg_into_kept(rx, buf);
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
        let at = self.next_in_buf(rx)?;
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
        Self::check_max(max)?;
        let mut rx = self.rx()?;
        let mut sink = BytesSink {
            out: Vec::new(),
            ranges: std::mem::take(&mut rx.ranges),
        };
        let r = self.recv_batch_locked(&mut rx, max, &mut sink);
        // Keep the list for the next call, unless a huge batch made it large.
        if sink.ranges.capacity() <= 4096 {
            sink.ranges.clear();
            rx.ranges = sink.ranges;
        }
        let n = r?;
        self.c.counters.tally_in(n);
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
        Self::check_max(max)?;
        let mut rx = self.rx()?;
        let n = self.recv_batch_locked(&mut rx, max, sink)?;
        self.c.counters.tally_in(n);
        Ok(n)
    }

    /// `max` 0 is `InvalidArgument`: a loop asking for no messages would spin.
    fn check_max(max: usize) -> Result<()> {
        if max == 0 {
            return Err(Error::invalid(
                "receive at most 0 messages: a batch receive must allow at least one",
            ));
        }
        Ok(())
    }

    fn recv_batch_locked(&self, rx: &mut Rx, max: usize, sink: &mut impl Sink) -> Result<usize> {
        rx.drained = false;
        // Bytes at the front of the buffer used up by the messages handed to the sink; they
        // are dropped in one go (flush) before a read and at the end.
        let mut used = 0;
        if let Some(p) = rx.pending.take() {
            if p.len() > sink.room() {
                return Err(Self::too_small(rx, p, sink.room()));
            }
            sink.pending(p);
        } else if let Some(e) = rx.error.take() {
            return Err(e);
        } else {
            let (a, b, consumed) = self.next_in_buf(rx)?;
            if b - a > sink.room() {
                let m = rx.take_bytes((a, b, consumed));
                return Err(Self::too_small(rx, m, sink.room()));
            }
            sink.msg(&rx.buf, a, b);
            used = consumed;
        }
        let mut n = 1;
        // One more read when the buffer runs out, unless a read in this call just found the
        // kernel's queue emptied (the next would almost surely find nothing: a wasted call).
        let mut read_more = true;
        while n < max {
            let Rx {
                buf,
                decoder,
                drained,
                ..
            } = &mut *rx;
            if let Some(f) = decoder.plain() {
                // The usual case, whole frames of a bare length header one after the other:
                // cut in a tight loop, the framing read once per batch. Whatever else comes
                // next (a partial or oversized frame, one that does not fit) goes through
                // `cut` below.
                while n < max {
                    match f.frame(&buf[used..]) {
                        Some((a, b)) if b - a <= sink.room() => {
                            sink.msg(buf, used + a, used + b);
                            used += b;
                            n += 1;
                        }
                        _ => break,
                    }
                }
                if n == max {
                    break;
                }
            }
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
                Ok(None) if read_more && !*drained => {
                    used += cut.consumed;
                    read_more = false;
                    sink.flush(buf, used);
                    used = 0;
                    let Ok(s) = self.c.sock(RECV_MSG) else { break };
                    let poll = Deadline::after(Some(Duration::ZERO));
                    match self.fill(&s, rx, 0, &poll, RECV_MSG) {
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
}
