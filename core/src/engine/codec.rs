//! [`FrameCodec`]: the crate's [`Decoder`](crate::Decoder) and [`Framing::encode`] as a
//! tokio-util codec, so the engine (and any tokio program) cuts streams exactly as the blocking
//! layer does.

use std::collections::VecDeque;

use bytes::{Bytes, BytesMut};

use crate::error::Error;
use crate::framing::{Decoder, Framing};

use super::sendq::Chunk;

/// A tokio-util [`Decoder`](tokio_util::codec::Decoder) / [`Encoder`](tokio_util::codec::Encoder)
/// over a [`Framing`], using the same incremental decoder as the blocking layer.
///
/// ```
/// use bytes::{Bytes, BytesMut};
/// use libsock::engine::FrameCodec;
/// use libsock::Framing;
/// use tokio_util::codec::{Decoder, Encoder};
///
/// let mut codec = FrameCodec::new(Framing::length_prefixed());
/// let mut wire = BytesMut::new();
/// codec.encode(Bytes::from_static(b"hi"), &mut wire).unwrap();
/// assert_eq!(&codec.decode(&mut wire).unwrap().unwrap()[..], b"hi");
/// ```
#[derive(Debug, Clone)]
pub struct FrameCodec {
    decoder: Decoder,
}

impl FrameCodec {
    /// A codec for `framing` (validate user-supplied framings first).
    pub fn new(framing: Framing) -> FrameCodec {
        FrameCodec {
            decoder: Decoder::new(framing),
        }
    }

    /// The framing.
    pub fn framing(&self) -> &Framing {
        self.decoder.framing()
    }
}

/// The codec's error: an I/O error of the stream, or a framing error (too large, bad header).
#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    /// The stream failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// The framing was broken.
    #[error(transparent)]
    Frame(Error),
}

impl tokio_util::codec::Decoder for FrameCodec {
    type Item = Bytes;
    type Error = CodecError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Bytes>, CodecError> {
        self.decoder.decode(src).map_err(CodecError::Frame)
    }

    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<Bytes>, CodecError> {
        // A partial frame at the end of the stream is an error (the peer closed mid-message),
        // never dropped silently: the bytes stay in `src` for a caller who wants them.
        let r = self.decode(src)?;
        if r.is_none() && !src.is_empty() {
            return Err(CodecError::Frame(Error::closed(format!(
                "end of stream inside a frame, {} bytes left over",
                src.len()
            ))));
        }
        Ok(r)
    }
}

impl tokio_util::codec::Encoder<Bytes> for FrameCodec {
    type Error = CodecError;

    fn encode(&mut self, item: Bytes, dst: &mut BytesMut) -> Result<(), CodecError> {
        self.decoder
            .framing()
            .encode(&item, dst)
            .map_err(CodecError::Frame)
    }
}

impl tokio_util::codec::Encoder<&[u8]> for FrameCodec {
    type Error = CodecError;

    fn encode(&mut self, item: &[u8], dst: &mut BytesMut) -> Result<(), CodecError> {
        self.decoder
            .framing()
            .encode(item, dst)
            .map_err(CodecError::Frame)
    }
}

/// Encode one message as a frame, on the caller's thread (errors come back to the sender).
pub(crate) fn encode_frame(framing: &Framing, msg: &[u8]) -> crate::Result<Bytes> {
    let mut b = BytesMut::new();
    framing.encode(msg, &mut b)?;
    Ok(b.freeze())
}

/// A batch of messages encoded back to back in one buffer: `all`, with frame `i` ending at
/// `ends[i]`. Written as one piece where the socket takes it; what must wait in a send queue is
/// cut by [`queued_from`](EncodedBatch::queued_from). The two buffers come from the thread's
/// spare pair and go back to it after a batch written whole ([`recycle`](EncodedBatch::recycle)),
/// so a sender whose socket keeps up encodes every batch into the same warm memory, with no
/// allocation (a fresh buffer per batch is a `malloc` and, past the allocator's thresholds,
/// fresh pages to fault in: ~100 per 4,096-message batch).
pub(crate) struct EncodedBatch {
    pub all: Vec<u8>,
    pub ends: Vec<usize>,
}

/// The most bytes of whole frames queued as one entry (one iovec when written).
pub(crate) const GROUP_BYTES: usize = 64 * 1024;

/// The largest encode buffer a thread keeps for its next batch (a larger one is freed).
const KEEP_BYTES: usize = 1 << 20;

thread_local! {
    /// The thread's spare encode buffers (see [`EncodedBatch`]).
    static SPARE: std::cell::Cell<Option<(Vec<u8>, Vec<usize>)>> =
        const { std::cell::Cell::new(None) };
}

impl EncodedBatch {
    /// Empty buffers: the thread's spare pair, or new ones.
    fn buffers() -> (Vec<u8>, Vec<usize>) {
        SPARE.with(|s| s.take()).unwrap_or_default()
    }

    /// Give the buffers back to the thread for its next batch (when not too large).
    pub(crate) fn recycle(self) {
        let (mut all, mut ends) = (self.all, self.ends);
        if all.capacity() <= KEEP_BYTES && ends.capacity() <= KEEP_BYTES / 8 {
            all.clear();
            ends.clear();
            SPARE.with(|s| s.set(Some((all, ends))));
        }
    }

    /// The send-queue entries for the batch from byte `from` on: a frame that `from` falls
    /// inside comes first, alone (its rest); then runs of whole frames of at most `group` bytes
    /// (a frame longer than that alone), each one entry that counts its messages. The writer
    /// sends a run with one iovec and counts its messages as sent when all of it is written,
    /// so per-message counts and "how many were queued" stay exact while the kernel copies one
    /// piece per run and the queue holds one entry per run, not per message.
    pub(crate) fn queued_from(self, from: usize, group: usize) -> VecDeque<Chunk> {
        let EncodedBatch { all, ends } = self;
        let all = Bytes::from(all);
        let mut out = VecDeque::new();
        let mut at = from;
        let mut i = ends.partition_point(|&e| e <= from);
        let start = if i == 0 { 0 } else { ends[i - 1] };
        if i < ends.len() && from > start {
            out.push_back(Chunk::one(all.slice(from..ends[i])));
            at = ends[i];
            i += 1;
        }
        while i < ends.len() {
            let mut j = i + 1;
            while j < ends.len() && ends[j] - at <= group && j - i < u32::MAX as usize {
                j += 1;
            }
            out.push_back(Chunk {
                data: all.slice(at..ends[j - 1]),
                msgs: (j - i) as u32,
            });
            at = ends[j - 1];
            i = j;
        }
        out
    }
}

/// Encode `msgs` with `framing` into one buffer (one allocation for the batch).
/// `FrameTooLarge` when a frame exceeds `cap` on its own (no queue could take it), framing
/// errors as for one message: a bad message encodes none.
pub(crate) fn encode_batch(
    framing: &Framing,
    msgs: &[&[u8]],
    cap: usize,
) -> crate::Result<EncodedBatch> {
    let (mut v, mut ends) = EncodedBatch::buffers();
    ends.reserve(msgs.len());
    if let Some(f) = framing.plain_prefix() {
        // The usual length prefix: the frames' ends follow from the lengths, and the frames
        // are written by the blocking layer's tight loop (one reserve, two copies per frame,
        // no framing dispatch per message).
        let w = f.width();
        let mut end = 0;
        for m in msgs {
            if !f.fits(m.len()) {
                // Too long for the prefix: the general check says why.
                framing.check_msg(m)?;
                return Err(crate::Error::invalid("message too long for the framing"));
            }
            if w + m.len() > cap {
                return Err(super::sendq::PushError::too_large(w + m.len(), cap));
            }
            end += w + m.len();
            ends.push(end);
        }
        v.reserve(end);
        if f.encode_all(msgs.iter().copied(), &mut v).is_err() {
            return Err(crate::Error::invalid("message too long for the framing"));
        }
        return Ok(EncodedBatch { all: v, ends });
    }
    // The general codecs write into a BytesMut of their own; the spare buffer stays spare.
    EncodedBatch {
        all: v,
        ends: Vec::new(),
    }
    .recycle();
    let mut b = BytesMut::with_capacity(msgs.iter().map(|m| m.len() + 8).sum());
    for m in msgs {
        let start = b.len();
        framing.encode(m, &mut b)?;
        if b.len() - start > cap {
            return Err(super::sendq::PushError::too_large(b.len() - start, cap));
        }
        ends.push(b.len());
    }
    Ok(EncodedBatch {
        all: Vec::from(b),
        ends,
    })
}

#[cfg(test)]
mod tests {
    use super::super::sendq::msgs_in;
    use super::*;

    fn batch(lens: &[usize]) -> EncodedBatch {
        let msgs: Vec<Vec<u8>> = lens
            .iter()
            .enumerate()
            .map(|(i, &n)| vec![i as u8; n])
            .collect();
        let refs: Vec<&[u8]> = msgs.iter().map(|m| &m[..]).collect();
        encode_batch(&Framing::length_prefixed(), &refs, 1 << 20).unwrap()
    }

    /// A batch written whole hands its buffers to the thread's next batch (no allocation, warm
    /// memory); the next batch's bytes and ends are its own.
    #[test]
    fn a_recycled_batch_buffer_serves_the_next_batch() {
        let b = batch(&[10, 20]);
        let (p, q) = (b.all.as_ptr(), b.ends.as_ptr());
        b.recycle();
        let c = batch(&[5, 5, 5]);
        assert_eq!(
            (c.all.as_ptr(), c.ends.as_ptr()),
            (p, q),
            "the spare pair was reused"
        );
        assert_eq!(c.ends, vec![9, 18, 27]);
        assert_eq!(&c.all[..9], &[0, 0, 0, 5, 0, 0, 0, 0, 0]);
        assert_eq!(&c.all[18..], &[0, 0, 0, 5, 2, 2, 2, 2, 2]);
        // One larger than the thread keeps is freed, not kept.
        let big = batch(&[KEEP_BYTES / 2, KEEP_BYTES / 2]);
        big.recycle();
        SPARE.with(|s| {
            let kept = s.take();
            assert!(kept.is_none(), "a buffer over KEEP_BYTES was kept");
        });
    }

    /// Every message counted once, by the entry its frame ends in; the runs' bytes in order
    /// and complete, no run over `group` bytes unless it is one frame, and a split frame's
    /// rest alone in front.
    #[test]
    fn queued_entries_count_every_message_and_keep_every_byte() {
        let b = batch(&[10, 20, 5, 300, 1, 1, 1, 40]);
        let total = b.all.len();
        for from in 0..=total {
            for group in [1, 16, 30, 64, 1 << 16] {
                let copy = EncodedBatch {
                    all: b.all.clone(),
                    ends: b.ends.clone(),
                };
                let q = copy.queued_from(from, group);
                let left = b.ends.iter().filter(|&&e| e > from).count();
                assert_eq!(msgs_in(&q), left, "from {from} group {group}");
                let joined: Vec<u8> = q.iter().flat_map(|f| f.data.iter().copied()).collect();
                assert_eq!(&joined[..], &b.all[from..], "from {from} group {group}");
                let start = b
                    .ends
                    .iter()
                    .rev()
                    .find(|&&e| e <= from)
                    .copied()
                    .unwrap_or(0);
                let split = from > start && from < total;
                let mut pos = from;
                for (k, f) in q.iter().enumerate() {
                    // The messages an entry counts are the frames that end inside it.
                    let ending = b
                        .ends
                        .iter()
                        .filter(|&&e| e > pos && e <= pos + f.len())
                        .count();
                    assert_eq!(
                        f.msgs as usize, ending,
                        "entry {k} from {from} group {group}"
                    );
                    assert!(
                        f.msgs >= 1 && b.ends.contains(&(pos + f.len())),
                        "entry {k}"
                    );
                    assert!(
                        f.len() <= group || f.msgs == 1,
                        "entry {k} of {} bytes and {} messages",
                        f.len(),
                        f.msgs
                    );
                    pos += f.len();
                }
                if split {
                    let end = b.ends.iter().find(|&&e| e > from).unwrap();
                    assert_eq!(q[0].len(), end - from, "the split frame's rest comes alone");
                    assert_eq!(q[0].msgs, 1);
                }
            }
        }
    }
}
