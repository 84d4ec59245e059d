//! The hot path does not allocate (issue 2, "Speed"): `send`, `send_all`, `recv_into`,
//! `recv_exact_into`, `send_msg` and `recv_msg_into` make no heap allocation per call once the
//! connection is warm. Counted with a global allocator, per thread (so other tests running in
//! parallel do not disturb the count).

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use common::*;
use libsock::Framing;

struct Counting;

thread_local! {
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: forwards to the system allocator; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations made by this thread while running `f`.
fn allocs_in(f: impl FnOnce()) -> u64 {
    let before = ALLOCS.with(|c| c.get());
    f();
    ALLOCS.with(|c| c.get()) - before
}

#[test]
fn raw_send_and_receive_do_not_allocate() {
    let (c, s) = tcp_pair(Framing::Raw);
    let data = [0x5Au8; 512];
    let mut buf = [0u8; 512];
    // Warm up.
    c.send_all(&data).unwrap();
    s.recv_exact_into(&mut buf).unwrap();
    let n = allocs_in(|| {
        for _ in 0..1000 {
            c.send_all(&data).unwrap();
            s.recv_exact_into(&mut buf).unwrap();
            assert_eq!(c.send(&data[..64]).unwrap(), 64);
            let mut got = 0;
            while got < 64 {
                got += s.recv_into(&mut buf[got..64]).unwrap();
            }
        }
    });
    assert_eq!(
        n, 0,
        "allocations in 1000 rounds of send_all/recv_exact_into/send/recv_into"
    );
}

#[test]
fn framed_send_and_receive_into_do_not_allocate_per_message() {
    let (c, s) = tcp_pair(Framing::length_prefixed());
    let msg = [0xA5u8; 100];
    let mut buf = [0u8; 256];
    for _ in 0..10 {
        c.send_msg(&msg).unwrap();
        assert_eq!(s.recv_msg_into(&mut buf).unwrap(), 100);
    }
    let sends = allocs_in(|| {
        for _ in 0..1000 {
            c.send_msg(&msg).unwrap();
        }
    });
    assert_eq!(sends, 0, "send_msg allocated");
    let recvs = allocs_in(|| {
        for _ in 0..1000 {
            assert_eq!(s.recv_msg_into(&mut buf).unwrap(), 100);
        }
    });
    // The receive buffer may be renewed now and then (large reads cut many frames), never per
    // message.
    assert!(
        recvs <= 20,
        "recv_msg_into: {recvs} allocations for 1000 messages"
    );
}
