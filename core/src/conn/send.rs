//! The send side of a [`Connection`]: frames built in a reused buffer, batches, vectored sends.

use super::*;
use crate::framing::Run;

/// The send side: the framing, and a buffer that `send_msg`/`send_msgs` reuse to build frames.
pub(super) struct Tx {
    pub(super) framing: Framing,
    /// The framing's short path, if it is a bare 4-byte length header.
    pub(super) plain: Option<PlainPrefix>,
    pub(super) stage: Vec<u8>,
}

impl Tx {
    pub(super) fn new(framing: Framing) -> Tx {
        Tx {
            plain: framing.plain_prefix(),
            framing,
            stage: Vec::new(),
        }
    }
}

impl Timed<'_> {
    /// Like [`Connection::send`].
    pub fn send(&self, data: &[u8]) -> Result<usize> {
        let s = self.c.sock("send to")?;
        let _tx = lock(&self.c.tx);
        self.send_some(&s, data, &self.deadline())
    }

    pub(super) fn send_some(&self, s: &Socket, data: &[u8], deadline: &Deadline) -> Result<usize> {
        let op = || self.c.op("send to");
        self.sock_send(s, data, deadline, &op, false)
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
        self.sock_flush(&s, &deadline, &|| self.c.op("send to"))
    }

    /// Like [`Connection::send_msg`]. A frame of a message up to 16 KiB is built in the
    /// connection's reused send buffer and goes out with one plain send; a larger body goes out
    /// from where it is, in a vectored write with its header.
    pub fn send_msg(&self, msg: &[u8]) -> Result<()> {
        let s = self.c.sock("send message to")?;
        let mut tx = lock(&self.c.tx);
        self.send_msg_locked(&s, &mut tx, msg)?;
        self.c.counters.tally_out(1);
        Ok(())
    }

    fn send_msg_locked(&self, s: &Socket, tx: &mut Tx, msg: &[u8]) -> Result<()> {
        let Tx {
            framing,
            plain,
            stage,
        } = tx;
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
            let r = self.send_all_on(s, stage, &deadline, "send message to");
            stage.clear();
            return r;
        }
        let parts = framing.encode_parts(msg)?;
        let deadline = self.deadline();
        let mut slices = [parts.header.as_bytes(), parts.body, parts.trailer];
        self.send_slices(s, &mut slices, &deadline)
    }

    /// Send all of `data`.
    fn send_all_on(&self, s: &Socket, data: &[u8], deadline: &Deadline, what: &str) -> Result<()> {
        let op = || self.c.op(what);
        let mut off = 0;
        while off < data.len() {
            off += self.sock_send(s, &data[off..], deadline, &op, true)?;
        }
        self.sock_flush(s, deadline, &op)
    }

    /// Send all of `slices` (at most a few) with vectored writes; the slices are used up.
    fn send_slices(&self, s: &Socket, slices: &mut [&[u8]], deadline: &Deadline) -> Result<()> {
        const MAX: usize = 4;
        let op = || self.c.op("send message to");
        if self.c.tls.is_some() {
            // The session copies and encrypts anyway: one piece after the other.
            for sl in slices.iter_mut() {
                while !sl.is_empty() {
                    let n = self.sock_send(s, sl, deadline, &op, true)?;
                    *sl = &sl[n..];
                }
            }
            return self.sock_flush(s, deadline, &op);
        }
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
            Counters::add(&self.c.counters.bytes_out, n);
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
    /// pieces per message). A batch over 256 KiB is checked first and then sent up to 256 KiB
    /// at a time, a body over 16 KiB from where it is, in a vectored write with the frames staged
    /// before it.
    pub fn send_msgs(&self, msgs: &[&[u8]]) -> Result<()> {
        let bodies = msgs.iter().map(|m| m.len()).sum();
        self.send_batch(msgs.iter().copied(), msgs.len(), bodies)
    }

    /// Like [`Connection::send_msgs_packed`].
    pub fn send_msgs_packed(&self, data: &[u8], lens: &[usize]) -> Result<()> {
        let total = lens.iter().try_fold(0usize, |t, &l| t.checked_add(l));
        if total != Some(data.len()) {
            return Err(Error::invalid(format!(
                "the message lengths add up to {}, not to the {} bytes given",
                total.map_or_else(|| "more than fits in memory".into(), |t| t.to_string()),
                data.len()
            )));
        }
        self.send_batch(Packed::new(data, lens), lens.len(), data.len())
    }

    /// Send `count` messages of `bodies` bytes in all, counted on success.
    fn send_batch<'m>(
        &self,
        msgs: impl Iterator<Item = &'m [u8]> + Clone,
        count: usize,
        bodies: usize,
    ) -> Result<()> {
        let s = self.c.sock("send message to")?;
        let mut tx = lock(&self.c.tx);
        let Tx {
            framing,
            plain,
            stage,
        } = &mut *tx;
        stage.clear();
        let r = if bodies <= STAGE {
            // One pass: each message is checked as it is copied, and all go out together once
            // the last one passed.
            stage.reserve(bodies + count * framing_overhead(framing));
            let mut ok = Ok(());
            if let Some(f) = plain {
                if let Err(m) = f.encode_all(msgs, stage) {
                    ok = framing.check_msg(m);
                    debug_assert!(ok.is_err());
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
        if stage.capacity() > 2 * STAGE {
            *stage = Vec::new();
        }
        if r.is_ok() {
            self.c.counters.tally_out(count);
        }
        r
    }

    /// `send_msgs` for more than [`STAGE`] bytes: every message checked first, then the frames
    /// staged and sent up to [`STAGE`] bytes at a time, a body over [`COPY_MAX`] sent from where
    /// it is, in a vectored write with the frames staged before it.
    fn send_msgs_large<'m>(
        &self,
        s: &Socket,
        framing: &Framing,
        stage: &mut Vec<u8>,
        msgs: impl Iterator<Item = &'m [u8]> + Clone,
    ) -> Result<()> {
        let plain = framing.plain_prefix();
        match plain {
            // A bare length header only limits the length: the check per message is one
            // comparison, the full check runs for the one that fails it.
            Some(f) => {
                if let Some(m) = msgs.clone().find(|m| !f.fits(m.len())) {
                    framing.check_msg(m)?;
                }
            }
            None => {
                for m in msgs.clone() {
                    framing.check_msg(m)?;
                }
            }
        }
        let deadline = self.deadline();
        // Stage up to STAGE bytes (a frame may pass it by less than one small message), send
        // them; a body over COPY_MAX goes out from where it is with the frames staged before it.
        let stop = STAGE - COPY_MAX - framing_overhead(framing).min(COPY_MAX);
        stage.reserve(STAGE);
        let mut msgs = msgs;
        loop {
            let run = match plain {
                Some(f) => f.encode_run(&mut msgs, stage, stop, COPY_MAX),
                None => Self::encode_run_general(framing, &mut msgs, stage, stop),
            };
            match run {
                Run::Done => break,
                Run::Full => {
                    self.send_all_on(s, stage, &deadline, "send message to")?;
                    stage.clear();
                }
                Run::Big(m) => {
                    let p = framing.parts_unchecked(m);
                    stage.extend_from_slice(p.header.as_bytes());
                    let mut slices = [&stage[..], p.body, p.trailer];
                    self.send_slices(s, &mut slices, &deadline)?;
                    stage.clear();
                }
                // Every message passed the checks above.
                Run::TooLarge(_) => unreachable!("checked before"),
            }
        }
        if !stage.is_empty() {
            self.send_all_on(s, stage, &deadline, "send message to")?;
        }
        Ok(())
    }
}

impl Timed<'_> {
    /// [`PlainPrefix::encode_run`] for any framing (messages already checked).
    fn encode_run_general<'m>(
        framing: &Framing,
        msgs: &mut impl Iterator<Item = &'m [u8]>,
        stage: &mut Vec<u8>,
        stop: usize,
    ) -> Run<'m> {
        for m in msgs {
            if m.len() > COPY_MAX {
                return Run::Big(m);
            }
            framing.encode_unchecked_into(m, stage);
            if stage.len() >= stop {
                return Run::Full;
            }
        }
        Run::Done
    }
}

/// The messages of [`Connection::send_msgs_packed`]: bodies one after the other in `data`,
/// their lengths in `lens` (which add up to `data.len()`, checked before).
#[derive(Clone)]
struct Packed<'m> {
    data: &'m [u8],
    lens: std::slice::Iter<'m, usize>,
}

impl<'m> Packed<'m> {
    fn new(data: &'m [u8], lens: &'m [usize]) -> Packed<'m> {
        Packed {
            data,
            lens: lens.iter(),
        }
    }
}

impl<'m> Iterator for Packed<'m> {
    type Item = &'m [u8];

    #[inline]
    fn next(&mut self) -> Option<&'m [u8]> {
        let n = *self.lens.next()?;
        let (m, rest) = self.data.split_at(n);
        self.data = rest;
        Some(m)
    }
}
