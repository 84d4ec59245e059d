//! The Rust worker of the benchmark suite; speaks bench/PROTOCOL.md.
//!
//! ```text
//! lsbench IMPL server WORKLOAD [--param value ...]
//! lsbench IMPL client WORKLOAD --port P [--param value ...]
//! ```
//!
//! IMPL `rs-libsock`: libsock's blocking Rust API (`Connection`, `Listener`, `Datagram`; framed
//! with `send_msgs` from the writer, `recv_msgs_into` and `send_msgs_packed` (messages copied
//! into one buffer with their lengths, no allocation per batch, as the C worker's ls_recv_msgs /
//! ls_send_msgs) in the server and the reader, `recv_msg` in pingpong, `Datagram::recv_many` for udp-flood,
//! `Datagram::recv_many_sizes` (no senders) for udp-drain).
//! IMPL `rs-tokio`: hand-written tokio on a current-thread runtime (the writer and the reader of
//! framed are two tasks on that one thread; writes go through a `BufWriter` flushed once per
//! batch; udp-flood is `readable()` + `try_recv` until it would block, udp-drain
//! `try_recv_from` until it would block, then `readable()`).
//! Any other IMPL, and the `client udp-flood` / `client udp-drain` roles (the shared sender is
//! `bench/c/build/lsbench c-raw`), print `{"ok": false, "skip": ...}` and exit 3.
//!
//! Parameters: --size --count --nodelay --bytes --chunk --batch --port, and --timeout SECS (the
//! bound of every wait, default 30). Exit 0 ok, 1 failed run, 2 bad usage, 3 skipped.
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use libsock::{
    Connection, Datagram, Framing, ListenOptions, Listener, RecvMeta, RecvSize, Shutdown, SockOpt,
    Timeout,
};

/// The parsed command line.
#[derive(Clone)]
struct Params {
    impl_name: String,
    role: String,
    workload: String,
    size: usize,
    count: u64,
    nodelay: bool,
    bytes: u64,
    chunk: usize,
    batch: usize,
    port: u16,
    timeout: Duration,
}

static WHAT: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// A failed run: one JSON line, exit 1.
fn fail(msg: impl std::fmt::Display) -> ! {
    let what = WHAT.get().map(String::as_str).unwrap_or("lsbench");
    let text = format!("{what}: {msg}").replace(['"', '\\', '\n'], "'");
    println!("{{\"ok\": false, \"error\": \"{text}\"}}");
    std::io::stdout().flush().ok();
    std::process::exit(1);
}

/// Bad usage: one JSON line, exit 2.
fn usage(msg: &str) -> ! {
    println!(
        "{{\"ok\": false, \"error\": \"usage: lsbench IMPL server|client WORKLOAD [--param value ...]: {msg}\"}}"
    );
    std::io::stdout().flush().ok();
    std::process::exit(2);
}

/// Not implemented here: skip line, exit 3.
fn skip(why: &str) -> ! {
    println!("{{\"ok\": false, \"skip\": \"{why}\"}}");
    std::io::stdout().flush().ok();
    std::process::exit(3);
}

/// The one result line.
fn result(json: String) {
    println!("{json}");
    std::io::stdout().flush().ok();
}

fn ready(port: u16) {
    println!("READY {port}");
    std::io::stdout().flush().ok();
}

/// `r?` for a run: any error fails it with a note of what was being done.
trait OrFail<T> {
    fn or_fail(self, what: &str) -> T;
}

impl<T, E: std::fmt::Display> OrFail<T> for Result<T, E> {
    fn or_fail(self, what: &str) -> T {
        match self {
            Ok(v) => v,
            Err(e) => fail(format!("{what}: {e}")),
        }
    }
}

fn parse() -> Params {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 4 {
        usage("too few arguments");
    }
    let mut p = Params {
        impl_name: args[1].clone(),
        role: args[2].clone(),
        workload: args[3].clone(),
        size: 0,
        count: 10_000,
        nodelay: true,
        bytes: 64 << 20,
        chunk: 65536,
        batch: 64,
        port: 0,
        timeout: Duration::from_secs(30),
    };
    let mut size = None;
    let mut i = 4;
    while i < args.len() {
        let Some(k) = args[i].strip_prefix("--") else {
            usage("parameters go as --name value")
        };
        let Some(v) = args.get(i + 1) else {
            usage("parameters go as --name value")
        };
        let n: u64 = v
            .parse()
            .unwrap_or_else(|_| usage(&format!("--{k} wants a non-negative integer")));
        match k {
            "size" => size = Some(n as usize),
            "count" => p.count = n,
            "nodelay" if n <= 1 => p.nodelay = n == 1,
            "nodelay" => usage("--nodelay is 0 or 1"),
            "bytes" => p.bytes = n,
            "chunk" => p.chunk = n as usize,
            "batch" => p.batch = n as usize,
            "port" => p.port = u16::try_from(n).unwrap_or_else(|_| usage("--port is 1..65535")),
            "timeout" => p.timeout = Duration::from_secs(n),
            // udp-bulk's switch for libsock's offload: not a Rust workload (yet), so ignored.
            "offload" => {}
            _ => usage(&format!("unknown parameter --{k}")),
        }
        i += 2;
    }
    p.size = size.unwrap_or(if p.workload == "framed" { 100 } else { 64 });
    if !["server", "client"].contains(&p.role.as_str()) {
        usage("ROLE is server or client");
    }
    if p.workload != "bulk" && p.size < 8 {
        usage("--size must be at least 8 (a sequence number)");
    }
    if p.size > 1 << 20 {
        usage("--size must be at most 1 MiB");
    }
    if p.bytes < 8 || p.chunk < 8 {
        usage("--bytes and --chunk must be at least 8");
    }
    if p.batch == 0 || p.batch > 4096 {
        usage("--batch must be 1..4096");
    }
    if p.timeout.is_zero() || p.timeout > Duration::from_secs(3600) {
        usage("--timeout must be 1..3600 s");
    }
    if p.role == "client" && p.port == 0 {
        usage("the client needs --port 1..65535");
    }
    p
}

fn put_u64(b: &mut [u8], v: u64) {
    b[..8].copy_from_slice(&v.to_le_bytes());
}

fn get_u64(b: &[u8]) -> u64 {
    u64::from_le_bytes(b[..8].try_into().unwrap())
}

fn is_end(b: &[u8]) -> bool {
    b.len() == 8 && b.iter().all(|&x| x == 0xff)
}

const RCVBUF_WANT: i64 = 4 << 20;
const UDP_BATCH: usize = 64;

/// Counts the datagrams of a udp-flood receiver and checks each one.
#[derive(Default)]
struct Flood {
    received: u64,
    first: Option<Instant>,
    last: Option<Instant>,
    /// Process CPU time at the first datagram.
    cpu_first: f64,
}

/// CPU time (user + system) of this process so far, in seconds.
fn cpu_s() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec.
    unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 + ts.tv_nsec as f64 / 1e9
}

impl Flood {
    /// Check one datagram; true when it is END.
    fn one(&mut self, p: &Params, d: &[u8], t: Instant) -> bool {
        if is_end(d) {
            return true;
        }
        if d.len() != p.size {
            fail(format!("a datagram of {} bytes, not {}", d.len(), p.size));
        }
        let seq = get_u64(d);
        if seq >= p.count {
            fail(format!("sequence number {seq} >= count"));
        }
        if self.first.is_none() {
            self.first = Some(t);
            self.cpu_first = cpu_s();
        }
        self.last = Some(t);
        self.received += 1;
        false
    }

    /// The result line. Besides the protocol's fields, rx_cpu_secs (the receiver's CPU time from
    /// the first datagram to the end) and cpu_ns_per_dgram: when the sender is the bottleneck,
    /// rx_per_s is the sender's rate, and the receiver's cost shows only in its CPU time.
    fn result(&self, rcvbuf: i64) {
        let (Some(a), Some(b)) = (self.first, self.last) else {
            fail("no datagram received")
        };
        let secs = (b - a).as_secs_f64();
        let rate = if secs > 0.0 {
            self.received as f64 / secs
        } else {
            0.0
        };
        let cpu = cpu_s() - self.cpu_first;
        result(format!(
            "{{\"ok\": true, \"received\": {}, \"rx_secs\": {secs:.6}, \"rx_per_s\": {rate:.1}, \"rcvbuf\": {rcvbuf}, \"rx_cpu_secs\": {cpu:.6}, \"cpu_ns_per_dgram\": {:.1}}}",
            self.received,
            cpu * 1e9 / self.received as f64
        ));
    }
}

/// The receive buffer udp-drain asks for: the whole flood must fit before the drain starts.
const DRAIN_RCVBUF: libc::c_int = 256 << 20;
/// udp-drain stops after this long with nothing.
const DRAIN_IDLE: Duration = Duration::from_millis(200);

/// SO_RCVBUFFORCE = 256 MiB (root), else SO_RCVBUF (capped by net.core.rmem_max); returns the
/// size the kernel reports.
fn force_rcvbuf(fd: i32) -> i64 {
    let size = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    let mut actual: libc::c_int = 0;
    let mut len = size;
    // SAFETY: plain setsockopt/getsockopt with an int on a descriptor we own.
    unsafe {
        let want = &DRAIN_RCVBUF as *const libc::c_int as *const libc::c_void;
        if libc::setsockopt(fd, libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, want, size) != 0 {
            libc::setsockopt(fd, libc::SOL_SOCKET, libc::SO_RCVBUF, want, size);
        }
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_RCVBUF,
            &mut actual as *mut libc::c_int as *mut libc::c_void,
            &mut len,
        );
    }
    actual as i64
}

/// Wait for a line `GO` on standard input, at most `timeout`.
fn wait_go(timeout: Duration) {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let r = std::io::stdin().read_line(&mut line);
        tx.send(r.map(|_| line)).ok();
    });
    match rx.recv_timeout(timeout) {
        Ok(Ok(line)) if line.trim_end() == "GO" => {}
        Ok(Ok(line)) if line.is_empty() => fail("stdin ended before GO"),
        Ok(Ok(_)) => fail("stdin said something else than GO"),
        Ok(Err(e)) => fail(format!("stdin: {e}")),
        Err(_) => fail(format!("no GO on stdin within {} s", timeout.as_secs())),
    }
}

/// Counts and checks the datagrams of a udp-drain receiver.
struct Drain {
    received: u64,
    t0: Instant,
    cpu0: f64,
}

impl Drain {
    /// Start the clocks, just before the first receive call.
    fn start() -> Drain {
        Drain {
            received: 0,
            cpu0: cpu_s(),
            t0: Instant::now(),
        }
    }

    /// Check one datagram; true when it is END.
    fn one(&mut self, p: &Params, d: &[u8]) -> bool {
        if is_end(d) {
            return true;
        }
        if d.len() != p.size {
            fail(format!("a datagram of {} bytes, not {}", d.len(), p.size));
        }
        let seq = get_u64(d);
        if seq >= p.count {
            fail(format!("sequence number {seq} >= count"));
        }
        self.received += 1;
        false
    }

    /// The result line. The drain ends at END, or when the last datagram came (`DRAIN_IDLE`
    /// before a receive ran out of time: the wait is not part of the drain).
    fn result(&self, at_end: bool, rcvbuf: i64) {
        let end = if at_end {
            Instant::now()
        } else {
            Instant::now() - DRAIN_IDLE
        };
        let cpu = cpu_s() - self.cpu0;
        if self.received == 0 {
            fail(format!(
                "no datagram within {} ms of GO",
                DRAIN_IDLE.as_millis()
            ));
        }
        let secs = end
            .saturating_duration_since(self.t0)
            .as_secs_f64()
            .max(1e-9);
        result(format!(
            "{{\"ok\": true, \"received\": {}, \"rx_secs\": {secs:.6}, \"rx_per_s\": {:.1}, \"rcvbuf\": {rcvbuf}, \"rx_cpu_secs\": {cpu:.6}, \"cpu_ns_per_dgram\": {:.1}}}",
            self.received,
            self.received as f64 / secs,
            cpu * 1e9 / self.received as f64
        ));
    }
}

fn check_msg(p: &Params, body: &[u8], want: u64) {
    if body.len() != p.size {
        fail(format!(
            "message {want} has {} bytes, not {}",
            body.len(),
            p.size
        ));
    }
    let seq = get_u64(body);
    if seq != want {
        fail(format!("message {want} carries sequence number {seq}"));
    }
}

fn framing() -> Framing {
    Framing::length_prefixed()
}

// ---------------------------------------------------------------------------------------------
// rs-libsock: the blocking API
// ---------------------------------------------------------------------------------------------

mod lib_impl {
    use super::*;

    fn listen(p: &Params, framing: Framing) -> Listener {
        let l = Listener::bind_with(
            "127.0.0.1:0",
            &ListenOptions::new()
                .backlog(16)
                .framing(framing)
                .conn_timeout(Some(p.timeout)),
        )
        .or_fail("listen");
        ready(l.local_addr().or_fail("local address").port());
        l
    }

    fn accept(p: &Params, l: &Listener) -> Connection {
        let (c, _) = l.accept(Some(p.timeout)).or_fail("accept");
        c.set_timeout(Some(p.timeout));
        c
    }

    fn connect(p: &Params) -> Connection {
        let c = Connection::connect_timeout(("127.0.0.1", p.port), p.timeout).or_fail("connect");
        c.set_timeout(Some(p.timeout));
        c
    }

    pub fn pingpong(p: &Params) {
        let mut b = vec![0u8; p.size];
        if p.role == "server" {
            let l = listen(p, Framing::Raw);
            let c = accept(p, &l);
            c.set_option(SockOpt::NoDelay, p.nodelay as i64)
                .or_fail("nodelay");
            for _ in 0..p.count {
                c.recv_exact_into(&mut b).or_fail("recv");
                c.send_all(&b).or_fail("send");
            }
            result(format!("{{\"ok\": true, \"count\": {}}}", p.count));
        } else {
            let c = connect(p);
            c.set_option(SockOpt::NoDelay, p.nodelay as i64)
                .or_fail("nodelay");
            let mut out = vec![0x5au8; p.size];
            let t0 = Instant::now();
            for i in 0..p.count {
                put_u64(&mut out, i);
                c.send_all(&out).or_fail("send");
                c.recv_exact_into(&mut b).or_fail("recv");
                if b != out {
                    fail(format!(
                        "round trip {i}: the echo differs from what was sent"
                    ));
                }
            }
            let secs = t0.elapsed().as_secs_f64();
            result(format!(
                "{{\"ok\": true, \"rt_per_s\": {:.1}, \"count\": {}, \"secs\": {secs:.6}}}",
                p.count as f64 / secs,
                p.count
            ));
        }
    }

    pub fn bulk(p: &Params) {
        if p.role == "server" {
            let l = listen(p, Framing::Raw);
            let c = accept(p, &l);
            let mut b = vec![0u8; p.chunk];
            let mut first = [0u8; 8];
            let mut total = 0u64;
            loop {
                let n = c.recv_into(&mut b).or_fail("recv");
                if n == 0 {
                    break;
                }
                if total < 8 {
                    let k = n.min(8 - total as usize);
                    first[total as usize..total as usize + k].copy_from_slice(&b[..k]);
                }
                total += n as u64;
            }
            if total < 8 || get_u64(&first) != p.bytes {
                fail(format!(
                    "received {total} bytes; the first 8 do not say {}",
                    p.bytes
                ));
            }
            c.send_all(&total.to_le_bytes()).or_fail("send count");
            result(format!("{{\"ok\": true, \"bytes\": {total}}}"));
        } else {
            let c = connect(p);
            let mut b = vec![0xa5u8; p.chunk];
            put_u64(&mut b, p.bytes);
            let t0 = Instant::now();
            let mut left = p.bytes;
            while left > 0 {
                let k = (left as usize).min(p.chunk);
                c.send_all(&b[..k]).or_fail("send");
                left -= k as u64;
            }
            c.shutdown(Shutdown::Write).or_fail("shutdown");
            let mut cnt = [0u8; 8];
            c.recv_exact_into(&mut cnt).or_fail("recv count");
            let secs = t0.elapsed().as_secs_f64();
            if get_u64(&cnt) != p.bytes {
                fail(format!(
                    "server counted {} bytes of {}",
                    get_u64(&cnt),
                    p.bytes
                ));
            }
            result(format!(
                "{{\"ok\": true, \"mib_per_s\": {:.1}, \"bytes\": {}, \"secs\": {secs:.6}}}",
                p.bytes as f64 / 1048576.0 / secs,
                p.bytes
            ));
        }
    }

    pub fn framed(p: &Params) {
        if p.role == "server" {
            let l = listen(p, framing());
            let c = accept(p, &l);
            c.set_option(SockOpt::NoDelay, 1).or_fail("nodelay");
            // Like the raw and tokio servers (which echo everything one read decoded): every
            // message already here, up to 4 MiB of bodies, at least --batch, copied into one
            // buffer with their lengths (`recv_msgs_into`, no allocation per batch) and echoed
            // from it with one `send_msgs_packed`, as the C worker does with ls_recv_msgs and
            // ls_send_msgs.
            let most = ((4usize << 20) / p.size).min(4096).max(p.batch);
            let mut buf = vec![0u8; most * p.size];
            let mut lens = vec![0usize; most];
            let mut echoed = 0u64;
            while echoed < p.count {
                let want = (p.count - echoed).min(most as u64) as usize;
                let n = c
                    .recv_msgs_into(&mut buf[..want * p.size], &mut lens[..want])
                    .or_fail("recv_msgs_into");
                let total: usize = lens[..n].iter().sum();
                c.send_msgs_packed(&buf[..total], &lens[..n])
                    .or_fail("send_msgs_packed");
                echoed += n as u64;
            }
            result(format!("{{\"ok\": true, \"count\": {echoed}}}"));
        } else {
            let c = Arc::new(connect(p));
            c.set_option(SockOpt::NoDelay, 1).or_fail("nodelay");
            c.set_framing(framing()).or_fail("framing");
            let t0 = Instant::now();
            let w = {
                let c = Arc::clone(&c);
                let p = p.clone();
                std::thread::spawn(move || {
                    let mut bodies = vec![vec![0x33u8; p.size]; p.batch];
                    let mut i = 0u64;
                    while i < p.count {
                        let m = ((p.count - i) as usize).min(p.batch);
                        for (k, b) in bodies[..m].iter_mut().enumerate() {
                            put_u64(b, i + k as u64);
                        }
                        let refs: Vec<&[u8]> = bodies[..m].iter().map(|b| &b[..]).collect();
                        c.send_msgs(&refs).or_fail("send_msgs");
                        i += m as u64;
                    }
                })
            };
            // Every message already here with one recv_msgs_into, as the C reader does with
            // ls_recv_msgs and the raw and tokio readers parse all that one read gave.
            let most = ((4usize << 20) / p.size).min(4096).max(p.batch);
            let mut buf = vec![0u8; most * p.size];
            let mut lens = vec![0usize; most];
            let mut got = 0u64;
            while got < p.count {
                let n = c
                    .recv_msgs_into(&mut buf, &mut lens)
                    .or_fail("recv_msgs_into");
                let mut off = 0;
                for &len in &lens[..n] {
                    check_msg(p, &buf[off..off + len], got);
                    off += len;
                    got += 1;
                }
            }
            let secs = t0.elapsed().as_secs_f64();
            w.join()
                .unwrap_or_else(|_| fail("the writer thread panicked"));
            result(format!(
                "{{\"ok\": true, \"msgs_per_s\": {:.1}, \"count\": {}, \"secs\": {secs:.6}}}",
                p.count as f64 / secs,
                p.count
            ));
        }
    }

    pub fn udp_flood(p: &Params) {
        let d = Datagram::bind("127.0.0.1:0").or_fail("bind");
        d.set_option(SockOpt::RecvBuffer, RCVBUF_WANT)
            .or_fail("SO_RCVBUF");
        let rcvbuf = d.get_option(SockOpt::RecvBuffer).or_fail("SO_RCVBUF");
        d.set_timeout(Some(p.timeout));
        ready(d.local_addr().or_fail("local address").port());
        let slot = p.size + 64;
        let mut storage = vec![0u8; slot * UDP_BATCH];
        let mut bufs: Vec<&mut [u8]> = storage.chunks_mut(slot).collect();
        let mut metas: Vec<RecvMeta> = Vec::with_capacity(UDP_BATCH);
        let mut f = Flood::default();
        let mut short_wait = false;
        'outer: loop {
            match d.recv_many(&mut bufs, &mut metas) {
                Ok(n) => {
                    let t = Instant::now();
                    for (b, m) in bufs[..n].iter().zip(&metas) {
                        if f.one(p, &b[..m.len], t) {
                            break 'outer;
                        }
                    }
                }
                Err(e) if e.kind() == libsock::ErrorKind::Timeout && f.received > 0 => break,
                Err(e) => fail(format!("recv_many: {e}")),
            }
            if !short_wait && f.received > 0 {
                d.set_timeout(Some(Duration::from_secs(2)));
                short_wait = true;
            }
        }
        f.result(rcvbuf);
    }

    /// udp-drain: `recv_many_sizes` batches of 64 (one recvmmsg each) from a full queue: the
    /// receiver reads no sender (as c-raw-mmsg asks the kernel for none), so it takes the batch
    /// call that does not ask for them.
    pub fn udp_drain(p: &Params) {
        let d = Datagram::bind("127.0.0.1:0").or_fail("bind");
        let rcvbuf = force_rcvbuf(d.fd());
        d.set_timeout(Some(DRAIN_IDLE));
        ready(d.local_addr().or_fail("local address").port());
        wait_go(p.timeout);
        let slot = p.size + 64;
        let mut storage = vec![0u8; slot * UDP_BATCH];
        let mut bufs: Vec<&mut [u8]> = storage.chunks_mut(slot).collect();
        let mut sizes: Vec<RecvSize> = Vec::with_capacity(UDP_BATCH);
        let mut f = Drain::start();
        let at_end = 'outer: loop {
            match d.recv_many_sizes(&mut bufs, &mut sizes) {
                Ok(n) => {
                    for (b, m) in bufs[..n].iter().zip(&sizes) {
                        if f.one(p, &b[..m.len]) {
                            break 'outer true;
                        }
                    }
                }
                Err(e) if e.kind() == libsock::ErrorKind::Timeout => break false,
                Err(e) => fail(format!("recv_many_sizes: {e}")),
            }
        };
        f.result(at_end, rcvbuf);
    }

    pub fn udp_echo(p: &Params) {
        let mut b = vec![0u8; p.size + 64];
        if p.role == "server" {
            let d = Datagram::bind("127.0.0.1:0").or_fail("bind");
            d.set_timeout(Some(p.timeout));
            ready(d.local_addr().or_fail("local address").port());
            let mut echoed = 0u64;
            loop {
                let m = d.recv_from(&mut b).or_fail("recv_from");
                if is_end(&b[..m.len]) {
                    break;
                }
                d.send_to(&b[..m.len], &m.peer).or_fail("send_to");
                echoed += 1;
            }
            result(format!("{{\"ok\": true, \"echoed\": {echoed}}}"));
        } else {
            let d = Datagram::connect(("127.0.0.1", p.port)).or_fail("connect");
            d.set_timeout(Some(p.timeout));
            let mut out = vec![0x5au8; p.size];
            let mut resent = 0u64;
            let t0 = Instant::now();
            for i in 0..p.count {
                put_u64(&mut out, i);
                let mut tries = 0;
                let n = 'attempt: loop {
                    d.send(&out).or_fail("send");
                    loop {
                        match d.recv_from_timeout(&mut b, Timeout::After(Duration::from_secs(1))) {
                            Ok(m) if m.len >= 8 && get_u64(&b) < i => continue, // a stale reply
                            Ok(m) => break 'attempt m.len,
                            Err(e) if e.kind() == libsock::ErrorKind::Timeout => break,
                            Err(e) => fail(format!("recv: {e}")),
                        }
                    }
                    tries += 1;
                    if tries == 2 {
                        fail(format!("round trip {i}: no reply twice (1 s each)"));
                    }
                    resent += 1;
                };
                if b[..n] != out[..] {
                    fail(format!("round trip {i}: the echo differs"));
                }
            }
            let secs = t0.elapsed().as_secs_f64();
            d.send(&[0xff; 8]).or_fail("send END");
            result(format!(
                "{{\"ok\": true, \"rt_per_s\": {:.1}, \"count\": {}, \"secs\": {secs:.6}, \"resent\": {resent}}}",
                p.count as f64 / secs,
                p.count
            ));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// rs-tokio: hand-written tokio, current-thread runtime
// ---------------------------------------------------------------------------------------------

mod tokio_impl {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt, BufWriter};
    use tokio::net::{TcpListener, TcpSocket, TcpStream, UdpSocket};

    /// Progress made, watched by a thread that fails the run when it stops moving for the
    /// timeout: every wait is bounded without a timer per await.
    pub static PROGRESS: AtomicU64 = AtomicU64::new(0);

    fn tick() {
        PROGRESS.fetch_add(1, Ordering::Relaxed);
    }

    /// Start the watchdog thread.
    pub fn watchdog(timeout: Duration) {
        std::thread::spawn(move || {
            let mut last = 0;
            loop {
                std::thread::sleep(timeout);
                let now = PROGRESS.load(Ordering::Relaxed);
                if now == last {
                    fail(format!("no progress for {} s", timeout.as_secs()));
                }
                last = now;
            }
        });
    }

    async fn listen() -> TcpListener {
        let s = TcpSocket::new_v4().or_fail("socket");
        s.set_reuseaddr(true).or_fail("reuseaddr");
        s.bind("127.0.0.1:0".parse().unwrap()).or_fail("bind");
        let l = s.listen(16).or_fail("listen");
        ready(l.local_addr().or_fail("local address").port());
        l
    }

    async fn accept(l: &TcpListener) -> TcpStream {
        let (s, _) = l.accept().await.or_fail("accept");
        tick();
        s
    }

    async fn connect(p: &Params) -> TcpStream {
        let s = TcpStream::connect(("127.0.0.1", p.port))
            .await
            .or_fail("connect");
        tick();
        s
    }

    pub async fn pingpong(p: &Params) {
        let mut b = vec![0u8; p.size];
        if p.role == "server" {
            let l = listen().await;
            let mut s = accept(&l).await;
            s.set_nodelay(p.nodelay).or_fail("nodelay");
            for _ in 0..p.count {
                s.read_exact(&mut b).await.or_fail("recv");
                s.write_all(&b).await.or_fail("send");
                tick();
            }
            result(format!("{{\"ok\": true, \"count\": {}}}", p.count));
        } else {
            let mut s = connect(p).await;
            s.set_nodelay(p.nodelay).or_fail("nodelay");
            let mut out = vec![0x5au8; p.size];
            let t0 = Instant::now();
            for i in 0..p.count {
                put_u64(&mut out, i);
                s.write_all(&out).await.or_fail("send");
                s.read_exact(&mut b).await.or_fail("recv");
                if b != out {
                    fail(format!(
                        "round trip {i}: the echo differs from what was sent"
                    ));
                }
                tick();
            }
            let secs = t0.elapsed().as_secs_f64();
            result(format!(
                "{{\"ok\": true, \"rt_per_s\": {:.1}, \"count\": {}, \"secs\": {secs:.6}}}",
                p.count as f64 / secs,
                p.count
            ));
        }
    }

    pub async fn bulk(p: &Params) {
        if p.role == "server" {
            let l = listen().await;
            let mut s = accept(&l).await;
            let mut b = vec![0u8; p.chunk];
            let mut first = [0u8; 8];
            let mut total = 0u64;
            loop {
                let n = s.read(&mut b).await.or_fail("recv");
                tick();
                if n == 0 {
                    break;
                }
                if total < 8 {
                    let k = n.min(8 - total as usize);
                    first[total as usize..total as usize + k].copy_from_slice(&b[..k]);
                }
                total += n as u64;
            }
            if total < 8 || get_u64(&first) != p.bytes {
                fail(format!(
                    "received {total} bytes; the first 8 do not say {}",
                    p.bytes
                ));
            }
            s.write_all(&total.to_le_bytes())
                .await
                .or_fail("send count");
            result(format!("{{\"ok\": true, \"bytes\": {total}}}"));
        } else {
            let mut s = connect(p).await;
            let mut b = vec![0xa5u8; p.chunk];
            put_u64(&mut b, p.bytes);
            let t0 = Instant::now();
            let mut left = p.bytes;
            while left > 0 {
                let k = (left as usize).min(p.chunk);
                s.write_all(&b[..k]).await.or_fail("send");
                left -= k as u64;
                tick();
            }
            s.shutdown().await.or_fail("shutdown");
            let mut cnt = [0u8; 8];
            s.read_exact(&mut cnt).await.or_fail("recv count");
            let secs = t0.elapsed().as_secs_f64();
            if get_u64(&cnt) != p.bytes {
                fail(format!(
                    "server counted {} bytes of {}",
                    get_u64(&cnt),
                    p.bytes
                ));
            }
            result(format!(
                "{{\"ok\": true, \"mib_per_s\": {:.1}, \"bytes\": {}, \"secs\": {secs:.6}}}",
                p.bytes as f64 / 1048576.0 / secs,
                p.bytes
            ));
        }
    }

    const RBUF: usize = 256 << 10;
    const MAX_FRAME: usize = 16 << 20;

    pub async fn framed(p: &Params) {
        if p.role == "server" {
            // Read what is there, decode every complete frame, re-encode it into one output
            // buffer, write that with one write_all.
            let l = listen().await;
            let mut s = accept(&l).await;
            s.set_nodelay(true).or_fail("nodelay");
            let mut inb = vec![0u8; RBUF];
            let mut out: Vec<u8> = Vec::with_capacity(RBUF);
            let mut have = 0usize;
            let mut echoed = 0u64;
            while echoed < p.count {
                if have == inb.len() {
                    inb.resize(inb.len() * 2, 0);
                }
                let n = s.read(&mut inb[have..]).await.or_fail("recv");
                if n == 0 {
                    fail(format!(
                        "client closed after {echoed} of {} messages",
                        p.count
                    ));
                }
                have += n;
                let mut pos = 0;
                out.clear();
                while have - pos >= 4 {
                    let len = u32::from_be_bytes(inb[pos..pos + 4].try_into().unwrap()) as usize;
                    if len > MAX_FRAME {
                        fail(format!("frame of {len} bytes"));
                    }
                    if have - pos - 4 < len {
                        break;
                    }
                    out.extend_from_slice(&(len as u32).to_be_bytes());
                    out.extend_from_slice(&inb[pos + 4..pos + 4 + len]);
                    pos += 4 + len;
                    echoed += 1;
                }
                if !out.is_empty() {
                    s.write_all(&out).await.or_fail("send");
                }
                inb.copy_within(pos..have, 0);
                have -= pos;
                tick();
            }
            result(format!("{{\"ok\": true, \"count\": {echoed}}}"));
        } else {
            let s = connect(p).await;
            s.set_nodelay(true).or_fail("nodelay");
            let (mut rd, wr) = s.into_split();
            let t0 = Instant::now();
            let (count, size, batch) = (p.count, p.size, p.batch);
            // The writer task: frames into a BufWriter, one flush per batch.
            let writer = tokio::spawn(async move {
                let mut w = BufWriter::with_capacity(batch * (4 + size), wr);
                let mut body = vec![0x33u8; size];
                let hdr = (size as u32).to_be_bytes();
                let mut i = 0u64;
                while i < count {
                    let m = ((count - i) as usize).min(batch);
                    for k in 0..m as u64 {
                        put_u64(&mut body, i + k);
                        w.write_all(&hdr).await.or_fail("send");
                        w.write_all(&body).await.or_fail("send");
                    }
                    w.flush().await.or_fail("flush");
                    i += m as u64;
                }
                w
            });
            // The reader (this task): parse frames out of a read buffer.
            let mut inb = vec![0u8; RBUF];
            let mut have = 0usize;
            let mut got = 0u64;
            while got < p.count {
                let n = rd.read(&mut inb[have..]).await.or_fail("recv");
                if n == 0 {
                    fail(format!("server closed after {got} of {} messages", p.count));
                }
                have += n;
                let mut pos = 0;
                while have - pos >= 4 {
                    let len = u32::from_be_bytes(inb[pos..pos + 4].try_into().unwrap()) as usize;
                    if len != p.size {
                        fail(format!("message {got} has length {len}"));
                    }
                    if have - pos - 4 < len {
                        break;
                    }
                    check_msg(p, &inb[pos + 4..pos + 4 + len], got);
                    got += 1;
                    pos += 4 + len;
                }
                inb.copy_within(pos..have, 0);
                have -= pos;
                tick();
            }
            let secs = t0.elapsed().as_secs_f64();
            let _w = writer
                .await
                .unwrap_or_else(|_| fail("the writer task panicked"));
            result(format!(
                "{{\"ok\": true, \"msgs_per_s\": {:.1}, \"count\": {}, \"secs\": {secs:.6}}}",
                p.count as f64 / secs,
                p.count
            ));
        }
    }

    pub async fn udp_flood(p: &Params) {
        let std_sock = std::net::UdpSocket::bind("127.0.0.1:0").or_fail("bind");
        // tokio has no SO_RCVBUF setter on UdpSocket: set it through the fd, as a tokio user
        // would (socket2 or libc).
        let fd = std::os::fd::AsRawFd::as_raw_fd(&std_sock);
        let want: libc::c_int = RCVBUF_WANT as libc::c_int;
        let mut actual: libc::c_int = 0;
        let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
        // SAFETY: plain setsockopt/getsockopt on an owned fd with an int.
        unsafe {
            libc::setsockopt(
                fd,
                libc::SOL_SOCKET,
                libc::SO_RCVBUF,
                &want as *const _ as *const libc::c_void,
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            );
            libc::getsockopt(
                fd,
                libc::SOL_SOCKET,
                libc::SO_RCVBUF,
                &mut actual as *mut _ as *mut libc::c_void,
                &mut len,
            );
        }
        std_sock.set_nonblocking(true).or_fail("nonblocking");
        let s = UdpSocket::from_std(std_sock).or_fail("tokio socket");
        ready(s.local_addr().or_fail("local address").port());
        let mut b = vec![0u8; p.size + 64];
        let mut f = Flood::default();
        'outer: loop {
            let wait = if f.received > 0 {
                Duration::from_secs(2)
            } else {
                p.timeout
            };
            match tokio::time::timeout(wait, s.readable()).await {
                Ok(r) => r.or_fail("readable"),
                Err(_) if f.received > 0 => break,
                Err(_) => fail("nothing received within the timeout"),
            }
            tick();
            loop {
                match s.try_recv(&mut b) {
                    Ok(n) => {
                        if f.one(p, &b[..n], Instant::now()) {
                            break 'outer;
                        }
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                    Err(e) => fail(format!("recv: {e}")),
                }
            }
        }
        f.result(actual as i64);
    }

    /// udp-drain: `try_recv_from` until it would block, then `readable()` (bounded by
    /// `DRAIN_IDLE`), from a full queue.
    pub async fn udp_drain(p: &Params) {
        let std_sock = std::net::UdpSocket::bind("127.0.0.1:0").or_fail("bind");
        let rcvbuf = force_rcvbuf(std::os::fd::AsRawFd::as_raw_fd(&std_sock));
        std_sock.set_nonblocking(true).or_fail("nonblocking");
        let s = UdpSocket::from_std(std_sock).or_fail("tokio socket");
        ready(s.local_addr().or_fail("local address").port());
        wait_go(p.timeout);
        tick();
        let mut b = vec![0u8; p.size + 64];
        let mut f = Drain::start();
        let at_end = 'outer: loop {
            loop {
                match s.try_recv_from(&mut b) {
                    Ok((n, _from)) => {
                        if f.one(p, &b[..n]) {
                            break 'outer true;
                        }
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                    Err(e) => fail(format!("recv_from: {e}")),
                }
            }
            tick();
            match tokio::time::timeout(DRAIN_IDLE, s.readable()).await {
                Ok(r) => r.or_fail("readable"),
                Err(_) => break false,
            }
        };
        f.result(at_end, rcvbuf);
    }

    pub async fn udp_echo(p: &Params) {
        let mut b = vec![0u8; p.size + 64];
        if p.role == "server" {
            let s = UdpSocket::bind("127.0.0.1:0").await.or_fail("bind");
            ready(s.local_addr().or_fail("local address").port());
            let mut echoed = 0u64;
            loop {
                let (n, from) = s.recv_from(&mut b).await.or_fail("recv_from");
                tick();
                if is_end(&b[..n]) {
                    break;
                }
                s.send_to(&b[..n], from).await.or_fail("send_to");
                echoed += 1;
            }
            result(format!("{{\"ok\": true, \"echoed\": {echoed}}}"));
        } else {
            let s = UdpSocket::bind("127.0.0.1:0").await.or_fail("bind");
            s.connect(("127.0.0.1", p.port)).await.or_fail("connect");
            let mut out = vec![0x5au8; p.size];
            let mut resent = 0u64;
            let t0 = Instant::now();
            for i in 0..p.count {
                put_u64(&mut out, i);
                let mut tries = 0;
                let n = 'attempt: loop {
                    s.send(&out).await.or_fail("send");
                    let deadline = tokio::time::Instant::now() + Duration::from_secs(1);
                    loop {
                        match tokio::time::timeout_at(deadline, s.recv(&mut b)).await {
                            Ok(Ok(n)) if n >= 8 && get_u64(&b) < i => continue, // stale
                            Ok(Ok(n)) => break 'attempt n,
                            Ok(Err(e)) => fail(format!("recv: {e}")),
                            Err(_) => break,
                        }
                    }
                    tries += 1;
                    if tries == 2 {
                        fail(format!("round trip {i}: no reply twice (1 s each)"));
                    }
                    resent += 1;
                };
                if b[..n] != out[..] {
                    fail(format!("round trip {i}: the echo differs"));
                }
                tick();
            }
            let secs = t0.elapsed().as_secs_f64();
            s.send(&[0xff; 8]).await.or_fail("send END");
            result(format!(
                "{{\"ok\": true, \"rt_per_s\": {:.1}, \"count\": {}, \"secs\": {secs:.6}, \"resent\": {resent}}}",
                p.count as f64 / secs,
                p.count
            ));
        }
    }
}

fn main() {
    let p = parse();
    WHAT.set(format!("{} {} {}", p.impl_name, p.role, p.workload))
        .ok();
    let w = p.workload.as_str();
    if ![
        "pingpong",
        "bulk",
        "framed",
        "udp-flood",
        "udp-drain",
        "udp-echo",
    ]
    .contains(&w)
    {
        skip("unknown workload");
    }
    if (w == "udp-flood" || w == "udp-drain") && p.role == "client" {
        skip("the UDP sender is bench/c/build/lsbench c-raw");
    }
    match p.impl_name.as_str() {
        "rs-libsock" => match w {
            "pingpong" => lib_impl::pingpong(&p),
            "bulk" => lib_impl::bulk(&p),
            "framed" => lib_impl::framed(&p),
            "udp-flood" => lib_impl::udp_flood(&p),
            "udp-drain" => lib_impl::udp_drain(&p),
            _ => lib_impl::udp_echo(&p),
        },
        "rs-tokio" => {
            tokio_impl::watchdog(p.timeout);
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .or_fail("runtime");
            rt.block_on(async {
                match w {
                    "pingpong" => tokio_impl::pingpong(&p).await,
                    "bulk" => tokio_impl::bulk(&p).await,
                    "framed" => tokio_impl::framed(&p).await,
                    "udp-flood" => tokio_impl::udp_flood(&p).await,
                    "udp-drain" => tokio_impl::udp_drain(&p).await,
                    _ => tokio_impl::udp_echo(&p).await,
                }
            });
        }
        _ => skip("not a Rust implementation (rs-libsock, rs-tokio)"),
    }
}
