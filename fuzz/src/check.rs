//! Decoding through the library, the invariants checked at every step, and the comparisons
//! between runs. A broken property panics with a message that names it (libFuzzer then saves
//! the input as a crash).

use bytes::{Buf, BytesMut};
use libsock::{Decoder, Error, Framing};

use crate::budget;
use crate::model::{self, Event};

/// Most heap bytes one `decode`/`cut` call may have live at its peak, beyond twice the bytes
/// buffered: it splits messages off the buffer without copying, so it needs room for a little
/// bookkeeping and an error's text, never for a frame's claimed length.
pub const DECODE_CALL_BUDGET: usize = 4096;

/// Panic with the framing and a description of what broke.
#[track_caller]
pub fn fail(f: &Framing, what: impl std::fmt::Display) -> ! {
    panic!("property broken for framing {f:?}: {what}")
}

/// The event for an error from the decoder or a receive call. `None` for kinds that are not
/// decoding results (the caller decides what they mean).
pub fn event_of(e: &Error) -> Option<Event> {
    match e {
        Error::FrameTooLarge { len, max } => Some(Event::TooLarge {
            len: *len,
            max: *max,
        }),
        Error::BadFrame(s) => Some(Event::Bad(s.clone())),
        _ => None,
    }
}

/// `bytes` for a message: escaped, the first 48 bytes only.
pub fn show_bytes(b: &[u8]) -> String {
    let head: String = b[..b.len().min(48)].escape_ascii().to_string();
    if b.len() > 48 {
        format!("b\"{head}\"... ({} bytes)", b.len())
    } else {
        format!("b\"{head}\"")
    }
}

/// The events, shortened for a failure message.
pub fn show(events: &[Event]) -> String {
    let mut s = String::from("[");
    for (i, e) in events.iter().take(24).enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        match e {
            Event::Msg(m) => s.push_str(&show_bytes(m)),
            other => s.push_str(&format!("{other:?}")),
        }
    }
    if events.len() > 24 {
        s.push_str(&format!(", ... ({} events)", events.len()));
    }
    s.push(']');
    s
}

/// The most bytes a decoder may leave buffered when it has no whole message: less than one
/// frame of the largest allowed size (so memory follows `max_len`, not what a peer sends).
pub fn retained_bound(f: &Framing) -> usize {
    match f {
        Framing::Raw => 0,
        Framing::Fixed(n) => n - 1,
        Framing::Delimited(d) => d.max_len.saturating_add(d.delimiter.len() - 1),
        Framing::LengthPrefixed(lp) => lp.header_len.saturating_add(lp.max_len) - 1,
    }
}

/// Check one delivered message against the framing's limits and shape.
pub fn check_message(f: &Framing, m: &[u8]) {
    match f {
        Framing::Raw => {
            if m.is_empty() {
                fail(f, "an empty Raw message");
            }
        }
        Framing::Fixed(n) => {
            if m.len() != *n {
                fail(f, format!("a message of {} bytes", m.len()));
            }
        }
        Framing::Delimited(d) => {
            let dl = d.delimiter.len();
            let body = if d.keep_delimiter {
                if !m.ends_with(&d.delimiter) {
                    fail(f, format!("{} lacks its kept delimiter", show_bytes(m)));
                }
                &m[..m.len() - dl]
            } else {
                m
            };
            if body.len() > d.max_len {
                fail(f, format!("a line of {} bytes is over max_len", body.len()));
            }
            // The delimiter that ended it must be its first occurrence.
            let joined = [body, &d.delimiter[..]].concat();
            if model::find(&joined, &d.delimiter) != Some(body.len()) {
                fail(
                    f,
                    format!(
                        "{} holds (or ends with part of) a delimiter found earlier",
                        show_bytes(m)
                    ),
                );
            }
        }
        Framing::LengthPrefixed(lp) => {
            let hl = lp.header_len;
            let body = if lp.keep_header {
                if m.len() < hl {
                    fail(f, format!("{} is shorter than its header", show_bytes(m)));
                }
                let raw = model::read_field(lp, m);
                let len = (raw & model::length_mask(lp)) as i128 + lp.adjustment as i128;
                if len != (m.len() - hl) as i128 {
                    fail(
                        f,
                        format!("{}: the kept header says {len} bytes", show_bytes(m)),
                    );
                }
                m.len() - hl
            } else {
                m.len()
            };
            if body > lp.max_len {
                fail(f, format!("a body of {body} bytes is over max_len"));
            }
        }
    }
}

/// Check an error event: an oversized frame must be over the limit it reports.
pub fn check_error(f: &Framing, e: &Event) {
    match (f, e) {
        (Framing::Delimited(_) | Framing::LengthPrefixed(_), Event::TooLarge { len, max })
            if len > max => {}
        (Framing::LengthPrefixed(_), Event::Bad(_)) => {}
        _ => fail(f, format!("error {e:?} is not possible for this framing")),
    }
}

/// Decode `chunks` fed one after the other, with [`Decoder::decode`] (or [`Decoder::cut`] and
/// the caller's bookkeeping when `use_cut`), checking at every step that:
///
/// - every message and error passes [`check_message`] / [`check_error`];
/// - with no whole message, at most [`retained_bound`] bytes stay buffered;
/// - no message arrives before the bytes [`Decoder::needed`] asked for;
/// - a [`Decoder::cut`] result lies within the buffer;
/// - no call has more than [`DECODE_CALL_BUDGET`] + twice the buffered bytes live at its peak.
///
/// Stops at the first error that ends the stream.
pub fn decode(f: &Framing, chunks: &[&[u8]], use_cut: bool) -> Vec<Event> {
    let mut dec = Decoder::new(f.clone());
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    // Bytes needed before a message can come, and bytes fed since that was said.
    let mut need = 0usize;
    let mut since = 0usize;
    for c in chunks {
        buf.extend_from_slice(c);
        since += c.len();
        let mut first = true;
        loop {
            let limit = DECODE_CALL_BUDGET + 2 * buf.len();
            budget::start(limit);
            let r = if use_cut {
                let cut = dec.cut(&buf);
                if cut.consumed > buf.len() {
                    fail(f, format!("cut consumed {} of {}", cut.consumed, buf.len()));
                }
                let r = match cut.msg {
                    Ok(Some((a, b))) => {
                        if a > b || b > cut.consumed {
                            fail(f, format!("cut range {a}..{b}, consumed {}", cut.consumed));
                        }
                        Ok(Some(buf[a..b].to_vec()))
                    }
                    Ok(None) => Ok(None),
                    Err(e) => Err(e),
                };
                buf.advance(cut.consumed);
                r
            } else {
                dec.decode(&mut buf).map(|m| m.map(|m| m.to_vec()))
            };
            let peak = budget::stop();
            if peak > limit {
                fail(
                    f,
                    format!("one decode call had {peak} heap bytes live (limit {limit})"),
                );
            }
            match r {
                Ok(Some(m)) => {
                    if first && since < need {
                        fail(
                            f,
                            format!("a message after {since} bytes where needed said {need}"),
                        );
                    }
                    check_message(f, &m);
                    out.push(Event::Msg(m));
                }
                Ok(None) => {
                    if buf.len() > retained_bound(f) {
                        fail(
                            f,
                            format!(
                                "{} bytes stay buffered with no whole message (bound {})",
                                buf.len(),
                                retained_bound(f)
                            ),
                        );
                    }
                    need = dec.needed(&buf);
                    since = 0;
                    break;
                }
                Err(e) => {
                    let Some(ev) = event_of(&e) else {
                        fail(f, format!("unexpected decoder error {e:?}"));
                    };
                    check_error(f, &ev);
                    let fatal = ev.is_fatal();
                    out.push(ev);
                    if fatal {
                        return out;
                    }
                }
            }
            first = false;
        }
    }
    out
}

/// Raw: the messages are the input, in order, none empty, no error.
pub fn check_raw(wire: &[u8], got: &[Event]) {
    let mut all = Vec::with_capacity(wire.len());
    for e in got {
        match e {
            Event::Msg(m) if !m.is_empty() => all.extend_from_slice(m),
            other => fail(&Framing::Raw, format!("event {other:?}")),
        }
    }
    if all != wire {
        fail(
            &Framing::Raw,
            format!(
                "the messages joined are {} where {} was sent",
                show_bytes(&all),
                show_bytes(wire)
            ),
        );
    }
}

/// Two errors are the same result: equal, except that a Delimited line found too long before
/// its end was seen may report a shorter length (what had arrived, still over the limit) than
/// the same line seen whole (`got` is the run with more chunks).
fn same_error(f: &Framing, whole: &Event, got: &Event) -> bool {
    match (f, whole, got) {
        (
            Framing::Delimited(_),
            Event::TooLarge { len: wl, max: wm },
            Event::TooLarge { len: gl, max: gm },
        ) => wm == gm && gl <= wl && gl > gm,
        _ => whole == got,
    }
}

/// Decoding in chunks (`got`, from `what`) gives the same messages and errors as decoding whole
/// (`whole`, from `reference`).
pub fn compare_runs(f: &Framing, whole: &[Event], got: &[Event], what: &str, reference: &str) {
    let same = whole.len() == got.len()
        && whole.iter().zip(got).all(|(w, g)| match (w, g) {
            (Event::Msg(a), Event::Msg(b)) => a == b,
            (Event::Msg(_), _) | (_, Event::Msg(_)) => false,
            _ => same_error(f, w, g),
        });
    if !same {
        fail(
            f,
            format!(
                "{what} gave {} where {reference} gave {}",
                show(got),
                show(whole)
            ),
        );
    }
}

/// The library's whole-buffer result (`whole`) is the model's (`spec`): the same messages, the
/// same oversized frames (length and limit), a `BadFrame` where the model has one (its text is
/// the library's own).
pub fn compare_model(f: &Framing, spec: &[Event], whole: &[Event]) {
    let same = spec.len() == whole.len()
        && spec.iter().zip(whole).all(|(s, w)| match (s, w) {
            (Event::Bad(_), Event::Bad(_)) => true,
            _ => s == w,
        });
    if !same {
        fail(
            f,
            format!(
                "decoding the whole buffer gave {} where the specification (fuzz/src/model.rs) \
                 gives {}",
                show(whole),
                show(spec)
            ),
        );
    }
}
