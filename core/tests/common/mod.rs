//! Shared helpers for the integration tests: random data, hashes, temp dirs, connected pairs and
//! peers that no libsock code wrote (Python's stdlib, socat, ncat).
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use libsock::{
    Addr, ConnectOptions, Connection, ErrorKind, Framing, ListenOptions, Listener, Result,
};
use rand::{RngCore, SeedableRng};
use sha2::{Digest, Sha256};

/// One MiB.
pub const MIB: usize = 1 << 20;

/// A generous bound for "this should happen promptly" on a noisy, shared 2-core machine.
pub const SLOW: Duration = Duration::from_secs(10);

/// A test peer's stream for the engine's consumer-read scenarios: bounded waits, no Nagle
/// delay, and a 64 KiB send buffer, so a burst must be read while it is written.
pub fn small_buffered_peer(p: std::net::TcpStream) -> std::net::TcpStream {
    p.set_read_timeout(Some(SLOW)).unwrap();
    p.set_write_timeout(Some(SLOW)).unwrap();
    p.set_nodelay(true).unwrap();
    socket2::SockRef::from(&p)
        .set_send_buffer_size(64 * 1024)
        .unwrap();
    p
}

/// `n` pseudo-random bytes from a seed (reproducible). Slow in debug builds for large sizes:
/// use [`urandom`] for bulk data.
pub fn random_bytes(n: usize, seed: u64) -> Vec<u8> {
    let mut v = vec![0u8; n];
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    rng.fill_bytes(&mut v);
    v
}

/// `n` random bytes from the kernel (fast, also in debug builds).
pub fn urandom(n: usize) -> Vec<u8> {
    let mut v = vec![0u8; n];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut v))
        .expect("read /dev/urandom");
    v
}

/// SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

/// SHA-256 of a file's contents.
pub fn sha256_file(path: &Path) -> [u8; 32] {
    let mut f = std::fs::File::open(path).expect("open file to hash");
    let mut h = Sha256::new();
    let mut buf = vec![0u8; MIB];
    loop {
        let n = f.read(&mut buf).expect("read file to hash");
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    h.finalize().into()
}

/// A fresh, empty temporary directory, removed when dropped.
pub struct TempDir(PathBuf);

impl TempDir {
    /// Create one; the name holds the process id and a counter.
    pub fn new(tag: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let p = std::env::temp_dir().join(format!(
            "libsock-test-{}-{}-{tag}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("create temp dir");
        TempDir(p)
    }

    /// A path inside the directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A unique abstract Unix socket name (without the `unix:@` prefix).
pub fn abstract_name(tag: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    format!(
        "libsock-test-{}-{}-{tag}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// The "host:port" text of a bound listener.
pub fn addr_text(l: &Listener) -> String {
    l.local_addr().expect("local_addr").to_string()
}

/// A connected TCP pair over loopback, both libsock, with `framing` and a 20 s default timeout
/// on both sides (so that a hang fails instead of blocking the suite).
pub fn tcp_pair(framing: Framing) -> (Connection, Connection) {
    let l = Listener::bind_with(
        "127.0.0.1:0",
        &ListenOptions::new()
            .framing(framing.clone())
            .conn_timeout(Some(Duration::from_secs(20))),
    )
    .expect("bind");
    let c = Connection::connect_with(
        l.local_addr().unwrap(),
        &ConnectOptions::new()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Some(Duration::from_secs(20)))
            .framing(framing),
    )
    .expect("connect");
    let (s, _) = l.accept(Some(Duration::from_secs(5))).expect("accept");
    (c, s)
}

/// Assert that `r` is an error of `kind`; returns the error for more checks.
#[track_caller]
pub fn expect_kind<T: std::fmt::Debug>(r: Result<T>, kind: ErrorKind) -> libsock::Error {
    match r {
        Ok(v) => panic!("expected {kind:?}, got Ok({v:?})"),
        Err(e) => {
            assert_eq!(e.kind(), kind, "wrong kind for error: {e}");
            e
        }
    }
}

/// Run `f`, assert it fails with `Timeout`, and that it took at least about `asked` and at most
/// 2x `asked` (plus a little slack for a noisy machine).
#[track_caller]
pub fn assert_times_out<T: std::fmt::Debug>(asked: Duration, f: impl FnOnce() -> Result<T>) {
    let t0 = Instant::now();
    let r = f();
    let took = t0.elapsed();
    let e = expect_kind(r, ErrorKind::Timeout);
    assert!(
        took + Duration::from_millis(5) >= asked,
        "timed out too early: {took:?} < {asked:?} ({e})"
    );
    assert!(
        took <= asked * 2 + Duration::from_millis(100),
        "timed out too late: {took:?} for {asked:?} ({e})"
    );
}

/// Find a program the tests need. CI installs socat, ncat and python3: a missing one is a
/// failure, never a silent skip.
pub fn require_tool(name: &str) -> PathBuf {
    for dir in std::env::var("PATH").unwrap_or_default().split(':') {
        let p = Path::new(dir).join(name);
        if p.is_file() {
            return p;
        }
    }
    for p in [
        format!("/usr/bin/{name}"),
        format!("/usr/local/bin/{name}"),
        format!("/usr/sbin/{name}"),
    ] {
        if Path::new(&p).is_file() {
            return PathBuf::from(p);
        }
    }
    panic!("{name} is required by this test but was not found in PATH (CI installs it)");
}

/// A child process that is killed and reaped when dropped.
pub struct Peer {
    /// The child.
    pub child: Child,
    /// Its stdout, when it was piped and not yet taken.
    pub out: Option<BufReader<ChildStdout>>,
}

impl Peer {
    /// Spawn `cmd` with stdout piped and stderr inherited.
    pub fn spawn(mut cmd: Command) -> Peer {
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {cmd:?}: {e}"));
        let out = child.stdout.take().map(BufReader::new);
        Peer { child, out }
    }

    /// Read one line of the child's stdout (without the newline).
    pub fn line(&mut self) -> String {
        let mut s = String::new();
        self.out
            .as_mut()
            .expect("stdout piped")
            .read_line(&mut s)
            .expect("read child stdout");
        s.trim_end().to_string()
    }

    /// Wait for the child to exit (at most `SLOW`) and assert it succeeded.
    pub fn wait_ok(mut self) {
        let t0 = Instant::now();
        loop {
            if let Some(st) = self.child.try_wait().expect("wait child") {
                assert!(st.success(), "peer process failed: {st}");
                return;
            }
            assert!(t0.elapsed() < SLOW, "peer process did not finish");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// Spawn `python3 -c script args...` (stdin null, stdout piped).
pub fn python(script: &str, args: &[&str]) -> Peer {
    let mut cmd = Command::new(require_tool("python3"));
    cmd.arg("-c").arg(script).args(args).stdin(Stdio::null());
    Peer::spawn(cmd)
}

/// The port of an internet address.
pub fn port_of(a: &Addr) -> u16 {
    a.as_inet().expect("internet address").port()
}

/// One frame of the engine's default framing (4-byte big-endian length prefix).
pub fn frame(body: &[u8]) -> Vec<u8> {
    let mut f = (body.len() as u32).to_be_bytes().to_vec();
    f.extend_from_slice(body);
    f
}

/// Pull engine events from `pull` (a `next_events` call with a short wait) until `pred` matches
/// one; returns everything seen, the match last (a batch's events after the match are lost, so
/// callers that care pull one at a time). Panics after `limit`, listing what was seen without
/// the messages' bytes.
pub fn pull_until(
    pull: impl Fn(Option<Duration>) -> Result<Vec<libsock::engine::Event>>,
    limit: Duration,
    mut pred: impl FnMut(&libsock::engine::Event) -> bool,
) -> Vec<libsock::engine::Event> {
    use libsock::engine::Event;
    let end = Instant::now() + limit;
    let mut seen = Vec::new();
    while Instant::now() < end {
        for ev in pull(Some(Duration::from_millis(50))).expect("next_events") {
            let hit = pred(&ev);
            seen.push(ev);
            if hit {
                return seen;
            }
        }
    }
    let brief: Vec<String> = seen
        .iter()
        .map(|e| match e {
            Event::Message { client, data } => {
                format!("Message(client {client}, {} bytes)", data.len())
            }
            other => format!("{other:?}"),
        })
        .collect();
    panic!(
        "event not seen within {limit:?}; saw {} events: {brief:?}",
        seen.len()
    );
}
