//! Shared parts of libsock's fuzz targets (see `fuzz/README.md`).
//!
//! Every target reads its input with [`Input`] in the same layout: a framing description
//! ([`gen::framing`]), a chunk plan ([`Chunks`]), then what the target needs (messages, read
//! operations) and the wire bytes. The pieces here:
//!
//! - [`gen`]: framings (every variant, with edge values: huge `max_len`, self-overlapping
//!   delimiters, flag bits, kept headers) and chunk plans from fuzz bytes;
//! - [`model`]: a plain, independent decoder of a whole buffer, the specification the library's
//!   [`Decoder`](libsock::Decoder) is compared with;
//! - [`check`]: decoding through the library in chunks, with the per-step invariants, and the
//!   comparisons between runs;
//! - [`budget`]: the global allocator, which counts live heap bytes so that a target can bound
//!   the memory the library takes by the bytes it was given;
//! - [`targets`]: the bodies of the fuzz targets (the files in `fuzz_targets/` only call them).

#![warn(missing_docs)]

pub mod budget;
pub mod check;
pub mod gen;
pub mod model;
pub mod targets;

pub use gen::{Chunks, Input};

/// Counts live heap bytes for [`budget`]; forwards to the system allocator.
#[global_allocator]
static ALLOC: budget::Budgeted = budget::Budgeted;
