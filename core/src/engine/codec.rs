//! [`FrameCodec`]: the crate's [`Decoder`](crate::Decoder) and [`Framing::encode`] as a
//! tokio-util codec, so the engine (and any tokio program) cuts streams exactly as the blocking
//! layer does.

use bytes::{Bytes, BytesMut};

use crate::error::Error;
use crate::framing::{Decoder, Framing};

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

/// Encode `msgs` with `framing` into one buffer, cut into one frame per message (one
/// allocation for the batch). `FrameTooLarge` when a frame exceeds `cap` on its own (no queue
/// could take it), framing errors as for one message: a bad message encodes none.
pub(crate) fn encode_batch(
    framing: &Framing,
    msgs: &[&[u8]],
    cap: usize,
) -> crate::Result<std::collections::VecDeque<Bytes>> {
    let mut frames = std::collections::VecDeque::with_capacity(msgs.len());
    if let Some(f) = framing.plain_prefix() {
        // The usual length prefix: every header written straight into one buffer, which is
        // then cut into frames (a reference count each) — no framing dispatch per message.
        let mut v = Vec::with_capacity(msgs.iter().map(|m| m.len() + 8).sum());
        let mut ends = Vec::with_capacity(msgs.len());
        for m in msgs {
            let start = v.len();
            if !f.encode_into(m, &mut v) {
                // Too long for the prefix: the general check says why.
                framing.check_msg(m)?;
                return Err(crate::Error::invalid("message too long for the framing"));
            }
            if v.len() - start > cap {
                return Err(super::sendq::PushError::too_large(v.len() - start, cap));
            }
            ends.push(v.len());
        }
        let all = Bytes::from(v);
        let mut at = 0;
        for end in ends {
            frames.push_back(all.slice(at..end));
            at = end;
        }
        return Ok(frames);
    }
    let mut b = BytesMut::with_capacity(msgs.iter().map(|m| m.len() + 8).sum());
    for m in msgs {
        framing.encode(m, &mut b)?;
        if b.len() > cap {
            return Err(super::sendq::PushError::too_large(b.len(), cap));
        }
        frames.push_back(b.split().freeze());
    }
    Ok(frames)
}
