//! The handle registry of a flat door: objects behind positive `i64` handles that are never
//! reused, so a stale or forged handle is an error, never another object or freed memory.
//!
//! One set of rules for every door that uses it (issue 12):
//!
//! - Handles count up from 1 and are never reused in the process; past [`MAX_HANDLE`]
//!   (2^53 - 1, so that a handle survives a trip through a double, as in MATLAB) no more are
//!   given out.
//! - A lookup clones the object's `Arc` and releases the lock before the caller blocks, so a
//!   `remove` from another thread is never held up by a blocked call: the caller closes what
//!   it removed, and calls still running on it hold their own reference.
//! - Lookups take a read lock (calls on different handles do not wait for each other); a
//!   poisoned lock is taken over (a panic elsewhere does not make every handle unusable).
//! - When the last handle goes, the table gives its storage back (a program that closed
//!   everything holds no memory of ours at exit).

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use libsock::{Error, Result};

/// The largest handle given out: 2^53 - 1, exact in an IEEE double.
pub const MAX_HANDLE: i64 = (1 << 53) - 1;

/// Hashes a handle with one multiplication (Fibonacci hashing): handles are our own counter
/// values, so SipHash's protection against chosen keys buys nothing, and it costs on every call.
#[derive(Default, Clone, Copy, Debug)]
pub struct HandleHasher(u64);

impl Hasher for HandleHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ b as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_i64(&mut self, h: i64) {
        self.0 = (h as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// Builds [`HandleHasher`]s (a unit type, so a [`Registry`] can be made in a `static`).
#[derive(Default, Clone, Copy, Debug)]
pub struct HandleState;

impl BuildHasher for HandleState {
    type Hasher = HandleHasher;
    fn build_hasher(&self) -> HandleHasher {
        HandleHasher::default()
    }
}

type Table<T> = HashMap<i64, Arc<T>, HandleState>;

/// Objects of type `T` (a door's enum of object kinds) behind handles.
///
/// ```
/// use libsock_flat::registry::Registry;
///
/// static HANDLES: Registry<String> = Registry::new();
/// let h = HANDLES.insert("a socket".to_string()).unwrap();
/// assert_eq!(HANDLES.get(h).as_deref().map(|s| s.as_str()), Some("a socket"));
/// assert!(HANDLES.remove(h).is_some());
/// assert!(HANDLES.get(h).is_none()); // gone, and `h` is never given out again
/// ```
pub struct Registry<T> {
    table: RwLock<Table<T>>,
    next: AtomicI64,
}

impl<T> Default for Registry<T> {
    fn default() -> Registry<T> {
        Registry::new()
    }
}

impl<T> Registry<T> {
    /// An empty registry; the first handle is 1.
    pub const fn new() -> Registry<T> {
        Registry {
            table: RwLock::new(HashMap::with_hasher(HandleState)),
            next: AtomicI64::new(1),
        }
    }

    fn read(&self) -> RwLockReadGuard<'_, Table<T>> {
        self.table.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, Table<T>> {
        self.table.write().unwrap_or_else(|p| p.into_inner())
    }

    /// Put `obj` in the registry; returns its new handle. Past [`MAX_HANDLE`] the object is
    /// dropped and the error is `Internal` (a door whose objects need more than a drop to
    /// close checks [`Registry::exhausted`] first).
    pub fn insert(&self, obj: T) -> Result<i64> {
        let h = self.next.fetch_add(1, Ordering::Relaxed);
        if h > MAX_HANDLE {
            drop(obj);
            return Err(Error::Internal("handle numbers are exhausted".into()));
        }
        self.write().insert(h, Arc::new(obj));
        Ok(h)
    }

    /// True when no more handles can be given out.
    pub fn exhausted(&self) -> bool {
        self.next.load(Ordering::Relaxed) > MAX_HANDLE
    }

    /// The object behind `h` (its `Arc`, so the lock is not held while the caller uses it), or
    /// `None` for a handle that is closed, unknown, or was never given out.
    pub fn get(&self, h: i64) -> Option<Arc<T>> {
        self.read().get(&h).cloned()
    }

    /// Take `h` out of the registry: later lookups fail. Returns the object for the caller to
    /// close (calls still running on it keep their own reference), or `None` if `h` was not
    /// there (closing twice).
    pub fn remove(&self, h: i64) -> Option<Arc<T>> {
        let mut table = self.write();
        let obj = table.remove(&h)?;
        if table.is_empty() {
            *table = HashMap::with_hasher(HandleState);
        }
        Some(obj)
    }

    /// How many handles are open.
    pub fn len(&self) -> usize {
        self.read().len()
    }

    /// True when no handle is open.
    pub fn is_empty(&self) -> bool {
        self.read().is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_count_up_are_never_reused_and_unknown_ones_fail() {
        let r: Registry<u32> = Registry::new();
        let a = r.insert(1).unwrap();
        let b = r.insert(2).unwrap();
        assert!(a >= 1 && b > a);
        assert_eq!(r.get(a).as_deref(), Some(&1));
        assert_eq!(r.remove(a).as_deref(), Some(&1));
        assert!(r.get(a).is_none());
        assert!(r.remove(a).is_none(), "closing twice is harmless");
        let c = r.insert(3).unwrap();
        assert!(c > b, "never reused");
        for bad in [0, -1, i64::MIN, i64::MAX, c + 1] {
            assert!(r.get(bad).is_none(), "{bad}");
        }
        assert_eq!(r.len(), 2);
    }

    #[test]
    fn exhaustion_is_an_error_not_a_wrap() {
        let r: Registry<u32> = Registry::new();
        r.next.store(MAX_HANDLE, Ordering::Relaxed);
        assert_eq!(r.insert(1).unwrap(), MAX_HANDLE);
        assert!(r.exhausted());
        let e = r.insert(2).unwrap_err();
        assert_eq!(e.kind(), libsock::ErrorKind::Internal);
        assert_eq!(r.len(), 1);
    }

    #[test]
    fn a_removed_object_lives_on_in_running_calls() {
        let r: Registry<String> = Registry::new();
        let h = r.insert("x".into()).unwrap();
        let held = r.get(h).unwrap();
        let removed = r.remove(h).unwrap();
        assert!(Arc::ptr_eq(&held, &removed));
        assert!(r.is_empty());
        assert_eq!(*held, "x");
    }

    #[test]
    fn a_poisoned_lock_is_taken_over() {
        let r: Arc<Registry<u32>> = Arc::new(Registry::new());
        let h = r.insert(7).unwrap();
        let r2 = r.clone();
        let _ = std::thread::spawn(move || {
            let _g = r2.table.write().unwrap();
            panic!("poison the lock (expected by the test)");
        })
        .join();
        assert_eq!(r.get(h).as_deref(), Some(&7));
        assert!(r.remove(h).is_some());
    }
}
