//! The cost of moving datagrams through libsock with and without UDP offload, independent of
//! wall-clock time: sends `count` datagrams of `size` bytes over loopback in batches of 64
//! (`send_many`), each batch received whole (`recv_many`) before the next (lock-step: nothing
//! is lost), and prints the CPU time the process spent in user space and in the kernel, per
//! datagram, and the system calls made. Run it under `valgrind --tool=callgrind` to count the
//! user-space instructions (the kernel's share, where offload saves most, shows in `sys_ns`).
//!
//! ```text
//! cargo run --release -p libsock --example udp_offload_cost -- COUNT SIZE GSO(0|1) GRO(0|1)
//! ```

use libsock::{Datagram, DatagramOptions};

fn cpu() -> (f64, f64) {
    // SAFETY: getrusage fills the struct.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    let s = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    (s(ru.ru_utime), s(ru.ru_stime))
}

fn main() -> libsock::Result<()> {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("COUNT SIZE GSO GRO: integers"))
        .collect();
    let [count, size, gso, gro] = args[..] else {
        panic!("usage: udp_offload_cost COUNT SIZE GSO(0|1) GRO(0|1)");
    };
    assert!(size >= 8, "SIZE must hold a sequence number (8 bytes)");
    let timeout = Some(std::time::Duration::from_secs(10));
    let rx = Datagram::bind_with(
        "127.0.0.1:0",
        &DatagramOptions {
            gro: gro == 1,
            gso: false,
            timeout,
            ..Default::default()
        },
    )?;
    let tx = Datagram::bind_with(
        "127.0.0.1:0",
        &DatagramOptions {
            gso: gso == 1,
            timeout,
            ..Default::default()
        },
    )?;
    let to = rx.local_addr()?;
    const BATCH: usize = 64;
    let mut out = vec![vec![0x77u8; size]; BATCH];
    let mut storage = vec![0u8; BATCH * (size + 1)];
    let mut metas = Vec::with_capacity(BATCH);
    let (mut sends, mut recvs) = (0u64, 0u64);
    let (u0, s0) = cpu();
    let t0 = std::time::Instant::now();
    let mut seq = 0usize;
    while seq < count {
        let n = BATCH.min(count - seq);
        for (i, d) in out[..n].iter_mut().enumerate() {
            d[..8].copy_from_slice(&((seq + i) as u64).to_le_bytes());
        }
        let msgs: Vec<&[u8]> = out[..n].iter().map(|d| d.as_slice()).collect();
        let mut sent = 0;
        while sent < n {
            sent += tx.send_many(&msgs[sent..], Some(&to))?;
            sends += 1;
        }
        let mut got = 0;
        while got < n {
            let mut bufs: Vec<&mut [u8]> = storage.chunks_mut(size + 1).take(n - got).collect();
            let k = rx.recv_many(&mut bufs, &mut metas)?;
            recvs += 1;
            for (b, m) in bufs.iter().zip(&metas) {
                assert_eq!(m.len, size, "datagram size");
                let s = u64::from_le_bytes(b[..8].try_into().unwrap()) as usize;
                assert_eq!(s, seq + got, "datagram order");
                got += 1;
            }
            let _ = k;
        }
        seq += n;
    }
    let wall = t0.elapsed().as_secs_f64();
    let (u1, s1) = cpu();
    println!(
        "{{\"count\": {count}, \"size\": {size}, \"gso\": {}, \"gro\": {}, \"send_calls\": {sends}, \
         \"recv_calls\": {recvs}, \"user_ns\": {:.0}, \"sys_ns\": {:.0}, \"wall_ns\": {:.0}}}",
        tx.gso_enabled(),
        rx.gro_enabled(),
        (u1 - u0) * 1e9 / count as f64,
        (s1 - s0) * 1e9 / count as f64,
        wall * 1e9 / count as f64,
    );
    Ok(())
}
