//! Heap accounting: how many bytes are live, and the most a phase of a target had live beyond
//! what was live when it started.
//!
//! A target calls [`start`] with a limit (a constant plus a multiple of the bytes it fed the
//! library), does its work, and [`stop`] returns the peak; the target fails when the peak is over
//! the limit. A single request that would put the phase over its limit and is itself larger than
//! [`HARD_LIMIT`] is refused (after a message on stderr), so that a reservation of a frame's
//! *claimed* size (2^40 bytes, say) aborts at once as a finding instead of exhausting the machine.
//! Outside a phase nothing is limited.

use std::alloc::{GlobalAlloc, Layout, System};
use std::fmt::Write as _;
use std::io::Write as _;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

/// A request larger than this that breaks a phase's limit is refused (the process aborts with
/// "memory allocation of N bytes failed" after this module's own message).
pub const HARD_LIMIT: usize = 64 << 20;

/// No limit in force.
const OFF: usize = usize::MAX;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static BASE: AtomicUsize = AtomicUsize::new(0);
static LIMIT: AtomicUsize = AtomicUsize::new(OFF);
static PEAK: AtomicUsize = AtomicUsize::new(0);

/// The system allocator, counting live bytes (see the module documentation).
pub struct Budgeted;

/// Count `size` more bytes; false when the request must be refused.
fn admit(size: usize) -> bool {
    let live = LIVE.fetch_add(size, Relaxed).wrapping_add(size);
    let limit = LIMIT.load(Relaxed);
    if limit == OFF {
        return true;
    }
    let used = live.saturating_sub(BASE.load(Relaxed));
    PEAK.fetch_max(used, Relaxed);
    if used > limit && size > HARD_LIMIT {
        LIVE.fetch_sub(size, Relaxed);
        refuse(size, used, limit);
        return false;
    }
    true
}

/// Say on stderr why a request is refused, without allocating.
fn refuse(size: usize, used: usize, limit: usize) {
    let mut msg = StackText::default();
    let _ = writeln!(
        msg,
        "libsock-fuzz budget: refusing an allocation of {size} bytes: {used} bytes would be live \
         in this phase, over its limit of {limit} (a constant plus a multiple of the bytes fed)"
    );
    let _ = std::io::stderr().write_all(msg.text());
}

/// A fixed-size text buffer (formatting without the heap).
struct StackText {
    buf: [u8; 256],
    len: usize,
}

impl Default for StackText {
    fn default() -> StackText {
        StackText {
            buf: [0; 256],
            len: 0,
        }
    }
}

impl StackText {
    fn text(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

impl std::fmt::Write for StackText {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let n = s.len().min(self.buf.len() - self.len);
        self.buf[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
        self.len += n;
        Ok(())
    }
}

// SAFETY: every call is forwarded to the system allocator with the same arguments; the counters
// only decide whether to forward an allocation at all (a refused one returns null, as an
// allocator may).
unsafe impl GlobalAlloc for Budgeted {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if !admit(layout.size()) {
            return std::ptr::null_mut();
        }
        // SAFETY: the caller's contract for `alloc`, passed on.
        let p = unsafe { System.alloc(layout) };
        if p.is_null() {
            LIVE.fetch_sub(layout.size(), Relaxed);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if !admit(layout.size()) {
            return std::ptr::null_mut();
        }
        // SAFETY: the caller's contract for `alloc_zeroed`, passed on.
        let p = unsafe { System.alloc_zeroed(layout) };
        if p.is_null() {
            LIVE.fetch_sub(layout.size(), Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract for `dealloc`, passed on.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let old = layout.size();
        if new_size > old && !admit(new_size - old) {
            return std::ptr::null_mut();
        }
        // SAFETY: the caller's contract for `realloc`, passed on.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if p.is_null() {
            if new_size > old {
                LIVE.fetch_sub(new_size - old, Relaxed);
            }
        } else if new_size < old {
            LIVE.fetch_sub(old - new_size, Relaxed);
        }
        p
    }
}

/// Start a phase: from now on at most `limit` more bytes than are live now may be live.
pub fn start(limit: usize) {
    LIMIT.store(OFF, Relaxed);
    BASE.store(LIVE.load(Relaxed), Relaxed);
    PEAK.store(0, Relaxed);
    LIMIT.store(limit.min(OFF - 1), Relaxed);
}

/// End the phase begun by [`start`]: the most bytes that were live beyond its start.
pub fn stop() -> usize {
    LIMIT.store(OFF, Relaxed);
    PEAK.load(Relaxed)
}

/// Heap bytes live now (all threads).
pub fn live() -> usize {
    LIVE.load(Relaxed)
}
