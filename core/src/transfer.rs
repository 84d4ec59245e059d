//! Files with a name, a size and a SHA-256 over a [`Connection`], resumable after a broken
//! connection: the protocol of `libsock send-file` / `libsock recv-file`, in core so that every
//! door speaks it.
//!
//! A [`FileTransfer`] is one side of one transfer: [`FileTransfer::sender`] for a file to send,
//! [`FileTransfer::receiver`] for a file (or a directory) to receive into. The caller moves it
//! forward over a connection it made itself (plain or TLS, TCP or Unix):
//!
//! - [`run`](FileTransfer::run) does the whole transfer on the caller's thread;
//! - [`step`](FileTransfer::step) does one bounded piece (the handshake, one chunk of at most
//!   [`CHUNK`] bytes, or the checksum exchange) and returns the [`TransferState`], for callers
//!   that have one thread and want to draw progress or stop between pieces (MATLAB, a GUI loop);
//! - [`progress`](FileTransfer::progress) reads the bytes done, the total and the state from
//!   any thread, without waiting for a step in progress (a clone of the `FileTransfer` is the
//!   same transfer); [`cancel`](FileTransfer::cancel) ends it at the next piece.
//!
//! Progress is pulled, never pushed: no callback crosses a door (C, MATLAB and Pascal have no
//! safe way to be called back from inside a blocking call), and a caller that polls from another
//! thread and one that steps in a loop use the same three calls.
//!
//! The receiver writes into `NAME.libsock-part` ([`PART_SUFFIX`]) beside the final name and
//! renames it only when the SHA-256 matches the sender's; an existing file is never replaced
//! unless [`RecvOptions::overwrite`] says so; a broken transfer leaves the partial file, and a
//! receiver with [`RecvOptions::resume`] offers it to the next sender, who checks its SHA-256
//! against its own first bytes and sends only the rest (or everything, when they differ).
//!
//! # The protocol (big endian)
//!
//! * version 1 ([`SendOptions::resume`]`(false)`; every receiver understands it): the sender
//!   sends `b"LSF1" + u64 size + u16 name length + UTF-8 name`, the file bytes, then their
//!   32-byte SHA-256; the receiver answers one byte, 0 = the checksum matched.
//! * version 2 (the default): the header starts with `b"LSF2"`; the receiver answers
//!   `b"LSR2" + u8 status + u64 offset + 32-byte SHA-256 of its first offset bytes` (status 0 =
//!   go on, 1 = refused: the file exists and the receiver may not overwrite it; offset > 0 = it
//!   holds that much of an interrupted transfer). The sender answers `u64 start`: the offset
//!   when the hash matches its own first bytes, else 0. Then the bytes from `start`, the SHA-256
//!   of the whole file and the verdict byte as in version 1.
//!
//! # Errors
//!
//! The existing kinds: a checksum that differs, a header or reply that is not this protocol, a
//! start offset the receiver did not offer → [`ErrorKind::BadFrame`]; the file exists (at the
//! receiver, and at the sender when the receiver refuses) → [`ErrorKind::Io`] with the OS error
//! `EEXIST`; a peer that closes in the middle → [`ErrorKind::Closed`] (the receiver's message
//! names the partial file it kept); [`cancel`](FileTransfer::cancel) →
//! [`ErrorKind::Interrupted`]; a missing or unreadable file → the OS error's kind.
//!
//! ```
//! use libsock::transfer::{FileTransfer, RecvOptions, SendOptions};
//! use libsock::{Connection, Listener};
//! # let dir = std::env::temp_dir().join(format!("libsock-doc-{}", std::process::id()));
//! # std::fs::create_dir_all(&dir).unwrap();
//! # let src = dir.join("hello.txt");
//! # std::fs::write(&src, b"hello, file").unwrap();
//! # let inbox = dir.join("inbox");
//! # std::fs::create_dir_all(&inbox).unwrap();
//!
//! let listener = Listener::bind("127.0.0.1:0")?;
//! let addr = listener.local_addr()?;
//! let receiving = std::thread::spawn(move || -> libsock::Result<_> {
//!     let (conn, _) = listener.accept(None)?;
//!     let t = FileTransfer::receiver(&inbox, &RecvOptions::new())?;
//!     t.run(&conn)?;
//!     Ok(t.path())
//! });
//! let conn = Connection::connect(&addr)?;
//! let t = FileTransfer::sender(&src, &SendOptions::new())?;
//! t.run(&conn)?;
//! assert_eq!(t.progress().done, 11);
//! let saved = receiving.join().unwrap()?;
//! assert_eq!(std::fs::read(saved).unwrap(), b"hello, file");
//! # std::fs::remove_dir_all(&dir).unwrap();
//! # Ok::<(), libsock::Error>(())
//! ```

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use ring::digest::{Context, SHA256};

use crate::{Connection, Error, ErrorKind, Result};

/// What a partial file is called beside its final name until it is complete.
pub const PART_SUFFIX: &str = ".libsock-part";

/// The most bytes one [`FileTransfer::step`] moves (1 MiB).
pub const CHUNK: u64 = 1 << 20;

/// The name a receiver uses when the sender's name is empty or unusable.
pub const DEFAULT_NAME: &str = "received.bin";

const MAGIC1: &[u8; 4] = b"LSF1";
const MAGIC2: &[u8; 4] = b"LSF2";
const REPLY2: &[u8; 4] = b"LSR2";
const HEADER_LEN: usize = 4 + 8 + 2;
const REPLY_LEN: usize = 4 + 1 + 8 + 32;
const MAX_NAME: usize = 1024;

/// How a [`FileTransfer::sender`] sends.
#[derive(Clone, Debug)]
pub struct SendOptions {
    /// Speak version 2 of the protocol, which lets a receiver resume (default true); false
    /// speaks version 1, for a receiver from before version 2 (no resuming).
    pub resume: bool,
    /// The name the receiver is told (default: the file's own name, without its directory).
    pub name: Option<String>,
}

impl Default for SendOptions {
    fn default() -> Self {
        SendOptions {
            resume: true,
            name: None,
        }
    }
}

impl SendOptions {
    /// The defaults: version 2, the file's own name.
    pub fn new() -> SendOptions {
        SendOptions::default()
    }

    /// Speak version 2 (true, the default: resumable) or version 1 (false).
    pub fn resume(mut self, resume: bool) -> Self {
        self.resume = resume;
        self
    }

    /// Tell the receiver this name instead of the file's own.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }
}

/// How a [`FileTransfer::receiver`] receives.
#[derive(Clone, Debug, Default)]
pub struct RecvOptions {
    /// Replace an existing file of the final name (default false: refuse it).
    pub overwrite: bool,
    /// Go on from the partial file an interrupted transfer left (default false: start over).
    pub resume: bool,
}

impl RecvOptions {
    /// The defaults: no overwriting, no resuming.
    pub fn new() -> RecvOptions {
        RecvOptions::default()
    }

    /// Replace an existing file of the final name.
    pub fn overwrite(mut self, overwrite: bool) -> Self {
        self.overwrite = overwrite;
        self
    }

    /// Offer the partial file of an interrupted transfer to the sender, who sends only the rest
    /// when its first bytes are the same.
    pub fn resume(mut self, resume: bool) -> Self {
        self.resume = resume;
        self
    }
}

/// Where a [`FileTransfer`] is. The numbers are stable (the C ABI's, in every door).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransferState {
    /// Nothing exchanged yet, or the header and (version 2) the resume offer in progress.
    Starting,
    /// File bytes are moving.
    Transferring,
    /// Every byte moved; the SHA-256 and the verdict are being exchanged.
    Verifying,
    /// Complete: the receiver verified the SHA-256 (and renamed the file into place).
    Done,
    /// Ended by an error (returned by the step that failed; see [`FileTransfer::error`]).
    Failed,
}

impl TransferState {
    /// Every state, in code order (1, 2, ...).
    pub const ALL: [TransferState; 5] = [
        TransferState::Starting,
        TransferState::Transferring,
        TransferState::Verifying,
        TransferState::Done,
        TransferState::Failed,
    ];

    /// The stable number (1 = `STARTING` ... 5 = `FAILED`).
    pub fn code(self) -> i32 {
        TransferState::ALL
            .iter()
            .position(|s| *s == self)
            .unwrap_or(4) as i32
            + 1
    }

    /// The state for a number from [`code`](TransferState::code).
    pub fn from_code(code: i32) -> Option<TransferState> {
        if code < 1 {
            return None;
        }
        TransferState::ALL.get(code as usize - 1).copied()
    }

    /// The name in upper case, e.g. `"TRANSFERRING"`.
    pub fn name(self) -> &'static str {
        match self {
            TransferState::Starting => "STARTING",
            TransferState::Transferring => "TRANSFERRING",
            TransferState::Verifying => "VERIFYING",
            TransferState::Done => "DONE",
            TransferState::Failed => "FAILED",
        }
    }

    /// True for [`Done`](TransferState::Done) and [`Failed`](TransferState::Failed): no step
    /// will change it.
    pub fn is_finished(self) -> bool {
        matches!(self, TransferState::Done | TransferState::Failed)
    }
}

/// A snapshot of a transfer's progress, from [`FileTransfer::progress`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    /// Bytes of the file sent (a sender: handed to the connection) or written (a receiver) so
    /// far, counting from the start of the file: a resumed transfer starts at its offset.
    pub done: u64,
    /// The file's size (0 on a receiver until the sender's header arrived).
    pub total: u64,
    /// Where the transfer is.
    pub state: TransferState,
}

/// What is known about a transfer once its header is through (see [`FileTransfer::info`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TransferInfo {
    /// The file's name as the sender announced it (the receiver's safe version of it).
    pub name: String,
    /// The sender's file, or the receiver's final path (known after the header).
    pub path: PathBuf,
    /// The file's size in bytes.
    pub size: u64,
    /// The protocol version spoken (1 or 2; 0 before the header).
    pub version: u8,
    /// The bytes the receiver offered to resume from (0: none).
    pub offered: u64,
    /// Where the bytes started: the offered offset when the sender accepted it, else 0.
    pub resumed_at: u64,
    /// The SHA-256 of the whole file, in lower-case hex (empty until verified).
    pub sha256: String,
}

#[derive(Debug)]
enum Phase {
    Start,
    Data,
    Verify,
    Done,
    Failed(String),
}

#[derive(Debug)]
struct Sender {
    path: PathBuf,
    file: File,
    size: u64,
    name: Vec<u8>,
    v2: bool,
}

#[derive(Debug)]
struct Receiver {
    dest: PathBuf,
    opts: RecvOptions,
    out: PathBuf,
    part: PathBuf,
    file: Option<File>,
    v2: bool,
}

#[derive(Debug)]
enum Side {
    Send(Sender),
    Recv(Receiver),
}

struct Machine {
    side: Side,
    phase: Phase,
    digest: Context,
    /// Bytes of the file written (a receiver) or sent (a sender) so far.
    at: u64,
    size: u64,
    buf: Vec<u8>,
}

struct Inner {
    done: AtomicU64,
    total: AtomicU64,
    state: AtomicU8,
    cancel: AtomicBool,
    machine: Mutex<Machine>,
    info: Mutex<TransferInfo>,
    error: Mutex<Option<String>>,
}

/// One side of one file transfer (see [the module](self)). Cloning gives another handle on the
/// same transfer: one thread can [`run`](FileTransfer::run) it while another reads
/// [`progress`](FileTransfer::progress) or calls [`cancel`](FileTransfer::cancel).
#[derive(Clone)]
pub struct FileTransfer {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for FileTransfer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileTransfer")
            .field("progress", &self.progress())
            .field("info", &self.info())
            .finish()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn exists_error(msg: String) -> Error {
    Error::os(msg, std::io::Error::from_raw_os_error(libc::EEXIST))
}

/// The same error with `note` added where the message ends (the kind and errno kept).
fn with_note(e: Error, note: &str) -> Error {
    match e {
        Error::Timeout { op, ms } => Error::Timeout {
            op: format!("{op} ({note})"),
            ms,
        },
        Error::Closed { op } => Error::Closed {
            op: format!("{op} ({note})"),
        },
        Error::Os { kind, op, source } => Error::Os {
            kind,
            op: format!("{op} ({note})"),
            source,
        },
        Error::Interrupted { op } => Error::Interrupted {
            op: format!("{op} ({note})"),
        },
        Error::InvalidArgument(m) => Error::InvalidArgument(format!("{m} ({note})")),
        Error::Tls(m) => Error::Tls(format!("{m} ({note})")),
        Error::BadFrame(m) => Error::BadFrame(format!("{m} ({note})")),
        other => other,
    }
}

/// The receiver's version of a name from the wire: UTF-8 (bad bytes replaced), no directory,
/// never empty, `.` or `..`.
fn safe_name(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(raw).replace('\\', "/");
    let base = text.rsplit('/').next().unwrap_or("");
    if base.is_empty() || base == "." || base == ".." || base.contains('\0') {
        DEFAULT_NAME.to_string()
    } else {
        base.to_string()
    }
}

/// The SHA-256 state over the first `n` bytes of `f`, and how many it had (fewer when shorter).
fn hash_prefix(f: &mut File, n: u64, buf: &mut [u8]) -> std::io::Result<(Context, u64)> {
    let mut ctx = Context::new(&SHA256);
    f.seek(SeekFrom::Start(0))?;
    let mut left = n;
    while left > 0 {
        let want = left.min(buf.len() as u64) as usize;
        let got = f.read(&mut buf[..want])?;
        if got == 0 {
            break;
        }
        ctx.update(&buf[..got]);
        left -= got as u64;
    }
    Ok((ctx, n - left))
}

fn with_suffix(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_os_string();
    s.push(PART_SUFFIX);
    PathBuf::from(s)
}

impl FileTransfer {
    fn new(side: Side, info: TransferInfo) -> FileTransfer {
        let size = info.size;
        FileTransfer {
            inner: Arc::new(Inner {
                done: AtomicU64::new(0),
                total: AtomicU64::new(size),
                state: AtomicU8::new(TransferState::Starting.code() as u8),
                cancel: AtomicBool::new(false),
                machine: Mutex::new(Machine {
                    side,
                    phase: Phase::Start,
                    digest: Context::new(&SHA256),
                    at: 0,
                    size,
                    buf: Vec::new(),
                }),
                info: Mutex::new(info),
                error: Mutex::new(None),
            }),
        }
    }

    /// A transfer that sends the file at `path` (opened now: a missing or unreadable file is an
    /// error here, before anything is sent).
    pub fn sender(path: impl AsRef<Path>, opts: &SendOptions) -> Result<FileTransfer> {
        let path = path.as_ref();
        let file =
            File::open(path).map_err(|e| Error::os(format!("open {}", path.display()), e))?;
        let meta = file
            .metadata()
            .map_err(|e| Error::os(format!("stat {}", path.display()), e))?;
        if meta.is_dir() {
            return Err(Error::invalid(format!(
                "{} is a directory, not a file to send",
                path.display()
            )));
        }
        let mut name: Vec<u8> = match &opts.name {
            Some(n) => n.as_bytes().to_vec(),
            None => {
                let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
                match abs.file_name() {
                    Some(n) => {
                        use std::os::unix::ffi::OsStrExt;
                        n.as_bytes().to_vec()
                    }
                    None => Vec::new(),
                }
            }
        };
        name.truncate(MAX_NAME);
        let info = TransferInfo {
            name: String::from_utf8_lossy(&name).into_owned(),
            path: path.to_path_buf(),
            size: meta.len(),
            version: if opts.resume { 2 } else { 1 },
            ..TransferInfo::default()
        };
        Ok(FileTransfer::new(
            Side::Send(Sender {
                path: path.to_path_buf(),
                file,
                size: meta.len(),
                name,
                v2: opts.resume,
            }),
            info,
        ))
    }

    /// A transfer that receives one file into `dest`: the file to write, or a directory to
    /// write into under the sender's name. An existing file `dest` without
    /// [`RecvOptions::overwrite`] is refused here (the `EEXIST` error), before anything is
    /// received; a file of the sender's name in a directory is refused after the header (a
    /// version 2 sender is told why).
    pub fn receiver(dest: impl AsRef<Path>, opts: &RecvOptions) -> Result<FileTransfer> {
        let dest = dest.as_ref();
        if !dest.is_dir() && dest.symlink_metadata().is_ok() && !opts.overwrite {
            return Err(exists_error(format!(
                "{} exists (the receiver's overwrite option replaces it)",
                dest.display()
            )));
        }
        Ok(FileTransfer::new(
            Side::Recv(Receiver {
                dest: dest.to_path_buf(),
                opts: opts.clone(),
                out: PathBuf::new(),
                part: PathBuf::new(),
                file: None,
                v2: false,
            }),
            TransferInfo::default(),
        ))
    }

    /// Bytes done, the total and the state, from any thread, without waiting for a step.
    pub fn progress(&self) -> Progress {
        let state = TransferState::from_code(self.inner.state.load(Ordering::Acquire) as i32)
            .unwrap_or(TransferState::Failed);
        Progress {
            done: self.inner.done.load(Ordering::Acquire),
            total: self.inner.total.load(Ordering::Acquire),
            state,
        }
    }

    /// The name, paths, size, resume offsets and (once verified) the SHA-256.
    pub fn info(&self) -> TransferInfo {
        lock(&self.inner.info).clone()
    }

    /// The final path: the receiver's (known after the header), or the sender's file.
    pub fn path(&self) -> PathBuf {
        lock(&self.inner.info).path.clone()
    }

    /// The message of the error that ended the transfer, if one did.
    pub fn error(&self) -> Option<String> {
        lock(&self.inner.error).clone()
    }

    /// Stop the transfer at the start of its next step (from any thread): that step fails with
    /// [`ErrorKind::Interrupted`]. A step blocked in a wait finishes first (within the
    /// connection's timeout); closing the connection ends that wait at once. A receiver keeps
    /// the partial file, for a later [`RecvOptions::resume`].
    pub fn cancel(&self) {
        self.inner.cancel.store(true, Ordering::Release);
    }

    /// Run the transfer to its end over `conn`; returns what is known about it. The same as
    /// calling [`step`](FileTransfer::step) until it returns [`TransferState::Done`].
    pub fn run(&self, conn: &Connection) -> Result<TransferInfo> {
        while self.step(conn)? != TransferState::Done {}
        Ok(self.info())
    }

    /// Move the transfer one piece forward over `conn` (the handshake, at most [`CHUNK`] file
    /// bytes, or the checksum exchange) and return the state it is in afterwards. Each wait is
    /// bounded by the connection's timeout. After [`TransferState::Done`] a step does nothing;
    /// after a failure it is an [`ErrorKind::InvalidArgument`] error naming the first one.
    pub fn step(&self, conn: &Connection) -> Result<TransferState> {
        let mut m = lock(&self.inner.machine);
        match &m.phase {
            Phase::Done => return Ok(TransferState::Done),
            Phase::Failed(msg) => {
                return Err(Error::invalid(format!(
                    "this file transfer failed already: {msg}"
                )))
            }
            _ => {}
        }
        let r = if self.inner.cancel.load(Ordering::Acquire) {
            Err(Error::Interrupted {
                op: "file transfer cancelled".to_string(),
            })
        } else {
            self.advance(&mut m, conn)
        };
        let state = match &r {
            Ok(()) => match m.phase {
                Phase::Start => TransferState::Starting,
                Phase::Data => TransferState::Transferring,
                Phase::Verify => TransferState::Verifying,
                Phase::Done => TransferState::Done,
                Phase::Failed(_) => TransferState::Failed,
            },
            Err(e) => {
                if let Side::Recv(r) = &mut m.side {
                    if let Some(f) = r.file.as_mut() {
                        let _ = f.flush();
                    }
                }
                m.phase = Phase::Failed(e.to_string());
                *lock(&self.inner.error) = Some(e.to_string());
                TransferState::Failed
            }
        };
        self.inner
            .state
            .store(state.code() as u8, Ordering::Release);
        r.map(|()| state)
    }

    fn set_done(&self, at: u64) {
        self.inner.done.store(at, Ordering::Release);
    }

    fn advance(&self, m: &mut Machine, conn: &Connection) -> Result<()> {
        if m.buf.is_empty() {
            m.buf = vec![0u8; CHUNK as usize];
        }
        match (&m.phase, matches!(m.side, Side::Send(_))) {
            (Phase::Start, true) => self.send_start(m, conn),
            (Phase::Start, false) => self.recv_start(m, conn),
            (Phase::Data, true) => self.send_data(m, conn),
            (Phase::Data, false) => self.recv_data(m, conn),
            (Phase::Verify, true) => self.send_verify(m, conn),
            (Phase::Verify, false) => self.recv_verify(m, conn),
            _ => Ok(()),
        }
    }

    // ---- sender ----------------------------------------------------------------------------

    fn send_start(&self, m: &mut Machine, conn: &Connection) -> Result<()> {
        let Machine {
            side, buf, digest, ..
        } = m;
        let Side::Send(s) = side else { unreachable!() };
        let mut header = Vec::with_capacity(HEADER_LEN + s.name.len());
        header.extend_from_slice(if s.v2 { MAGIC2 } else { MAGIC1 });
        header.extend_from_slice(&s.size.to_be_bytes());
        header.extend_from_slice(&(s.name.len() as u16).to_be_bytes());
        header.extend_from_slice(&s.name);
        conn.send_all(&header)?;
        let mut start = 0u64;
        if s.v2 {
            let mut reply = [0u8; REPLY_LEN];
            conn.recv_exact_into(&mut reply).map_err(|e| {
                if e.kind() == ErrorKind::Closed {
                    with_note(
                        e,
                        "the receiver closed after the header: one from before version 2 of \
                         the protocol? (sending without resume speaks version 1)",
                    )
                } else {
                    e
                }
            })?;
            if &reply[..4] != REPLY2 {
                return Err(Error::BadFrame(format!(
                    "{} is not a libsock file receiver (its reply starts {:02x?}, not LSR2)",
                    conn.peer_addr(),
                    &reply[..4]
                )));
            }
            let status = reply[4];
            let offset = u64::from_be_bytes(reply[5..13].try_into().unwrap());
            match status {
                0 => {}
                1 => {
                    return Err(exists_error(format!(
                        "send {}: the receiver refused: its file exists (a receiver that may \
                         overwrite replaces it)",
                        s.path.display()
                    )))
                }
                n => {
                    return Err(Error::BadFrame(format!(
                        "send {}: the receiver refused the file with status {n} (not a libsock \
                         status)",
                        s.path.display()
                    )))
                }
            }
            if offset > 0 && offset <= s.size {
                let (ctx, have) = hash_prefix(&mut s.file, offset, buf)
                    .map_err(|e| Error::os(format!("read {}", s.path.display()), e))?;
                if have == offset && ctx.clone().finish().as_ref() == &reply[13..45] {
                    start = offset;
                    *digest = ctx;
                }
            }
            lock(&self.inner.info).offered = offset;
            conn.send_all(&start.to_be_bytes())?;
        }
        if start == 0 {
            *digest = Context::new(&SHA256);
        }
        lock(&self.inner.info).resumed_at = start;
        m.at = start;
        self.set_done(start);
        m.phase = Phase::Data;
        if m.at >= m.size {
            m.phase = Phase::Verify;
        }
        Ok(())
    }

    fn send_data(&self, m: &mut Machine, conn: &Connection) -> Result<()> {
        let Side::Send(s) = &mut m.side else {
            unreachable!()
        };
        let want = (m.size - m.at).min(CHUNK);
        let changed = |what: String| {
            Error::os(
                format!("send {}", s.path.display()),
                std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    format!("the file changed while it was being sent ({what})"),
                ),
            )
        };
        let n = conn.send_file(&s.path, m.at, Some(want)).map_err(|e| {
            if e.kind() == ErrorKind::InvalidArgument {
                changed(e.to_string())
            } else {
                e
            }
        })?;
        // The bytes went out with sendfile(2); the same bytes are read back (from the page
        // cache) for the checksum.
        let buf = &mut m.buf[..n as usize];
        use std::os::unix::fs::FileExt;
        s.file
            .read_exact_at(buf, m.at)
            .map_err(|e| changed(e.to_string()))?;
        m.digest.update(buf);
        m.at += n;
        self.set_done(m.at);
        if m.at >= m.size {
            m.phase = Phase::Verify;
        }
        Ok(())
    }

    fn send_verify(&self, m: &mut Machine, conn: &Connection) -> Result<()> {
        let Side::Send(s) = &m.side else {
            unreachable!()
        };
        let digest = m.digest.clone().finish();
        conn.send_all(digest.as_ref())?;
        let mut verdict = [0u8; 1];
        conn.recv_exact_into(&mut verdict).map_err(|e| {
            if e.kind() == ErrorKind::Closed {
                with_note(e, "the receiver closed without confirming the checksum")
            } else {
                e
            }
        })?;
        if verdict[0] != 0 {
            return Err(Error::BadFrame(format!(
                "send {}: checksum mismatch: the receiver got different bytes, or did not keep \
                 them (verdict {})",
                s.path.display(),
                verdict[0]
            )));
        }
        lock(&self.inner.info).sha256 = hex(digest.as_ref());
        m.phase = Phase::Done;
        Ok(())
    }

    // ---- receiver --------------------------------------------------------------------------

    fn recv_start(&self, m: &mut Machine, conn: &Connection) -> Result<()> {
        let peer = conn.peer_addr();
        let Machine {
            side, buf, digest, ..
        } = m;
        let Side::Recv(r) = side else { unreachable!() };
        let mut header = [0u8; HEADER_LEN];
        conn.recv_exact_into(&mut header).map_err(|e| {
            if e.kind() == ErrorKind::Closed {
                with_note(e, "the sender closed before sending a file header")
            } else {
                e
            }
        })?;
        let v2 = match &header[..4] {
            m if m == MAGIC2 => true,
            m if m == MAGIC1 => false,
            other => {
                return Err(Error::BadFrame(format!(
                    "{peer} is not a libsock file sender (its header starts {other:02x?}, not \
                     LSF1 or LSF2)"
                )))
            }
        };
        r.v2 = v2;
        let size = u64::from_be_bytes(header[4..12].try_into().unwrap());
        let name_len = u16::from_be_bytes(header[12..14].try_into().unwrap()) as usize;
        let name = if name_len > 0 {
            let mut raw = vec![0u8; name_len];
            conn.recv_exact_into(&mut raw)?;
            safe_name(&raw)
        } else {
            DEFAULT_NAME.to_string()
        };
        let out = if r.dest.is_dir() {
            r.dest.join(&name)
        } else {
            r.dest.clone()
        };
        let part = with_suffix(&out);
        {
            let mut info = lock(&self.inner.info);
            info.name = name;
            info.path = out.clone();
            info.size = size;
            info.version = if v2 { 2 } else { 1 };
        }
        self.inner.total.store(size, Ordering::Release);
        m.size = size;
        r.out = out.clone();
        r.part = part.clone();
        if out.symlink_metadata().is_ok() && !r.opts.overwrite {
            if v2 {
                let mut reply = [0u8; REPLY_LEN];
                reply[..4].copy_from_slice(REPLY2);
                reply[4] = 1;
                conn.send_all(&reply)?;
            }
            return Err(exists_error(format!(
                "{} exists (the receiver's overwrite option replaces it)",
                out.display()
            )));
        }
        let keep = r.opts.resume && part.exists();
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(!keep)
            .open(&part)
            .map_err(|e| Error::os(format!("write {}", part.display()), e))?;
        let mut offset = 0u64;
        *digest = Context::new(&SHA256);
        if keep && v2 {
            let len = file
                .metadata()
                .map_err(|e| Error::os(format!("stat {}", part.display()), e))?
                .len();
            let (ctx, have) = hash_prefix(&mut file, len.min(size), buf)
                .map_err(|e| Error::os(format!("read {}", part.display()), e))?;
            *digest = ctx;
            offset = have;
        }
        if v2 {
            let mut reply = [0u8; REPLY_LEN];
            reply[..4].copy_from_slice(REPLY2);
            reply[5..13].copy_from_slice(&offset.to_be_bytes());
            if offset > 0 {
                reply[13..].copy_from_slice(digest.clone().finish().as_ref());
            }
            conn.send_all(&reply)?;
            let mut start = [0u8; 8];
            conn.recv_exact_into(&mut start).map_err(|e| {
                if e.kind() == ErrorKind::Closed {
                    with_note(e, "the sender closed before the transfer began")
                } else {
                    e
                }
            })?;
            let start = u64::from_be_bytes(start);
            lock(&self.inner.info).offered = offset;
            if start != offset {
                if start != 0 {
                    return Err(Error::BadFrame(format!(
                        "{peer} asked to start at byte {start}, not {offset} or 0"
                    )));
                }
                offset = 0;
                *digest = Context::new(&SHA256);
            }
        }
        file.set_len(offset)
            .and_then(|()| file.seek(SeekFrom::Start(offset)).map(|_| ()))
            .map_err(|e| Error::os(format!("write {}", part.display()), e))?;
        r.file = Some(file);
        lock(&self.inner.info).resumed_at = offset;
        m.at = offset;
        self.set_done(offset);
        m.phase = if offset >= size {
            Phase::Verify
        } else {
            Phase::Data
        };
        Ok(())
    }

    fn recv_data(&self, m: &mut Machine, conn: &Connection) -> Result<()> {
        let Side::Recv(r) = &mut m.side else {
            unreachable!()
        };
        let (at, size) = (m.at, m.size);
        let kept = |e: Error| {
            with_note(
                e,
                &format!(
                    "the {at} bytes received are kept in {}: receive again with resume to go on \
                     from there",
                    r.part.display()
                ),
            )
        };
        let want = (size - at).min(CHUNK) as usize;
        let n = conn.recv_into(&mut m.buf[..want]).map_err(kept)?;
        if n == 0 {
            return Err(kept(Error::closed(format!(
                "recv file from {}: the sender closed after {at} of {size} bytes",
                conn.peer_addr()
            ))));
        }
        let data = &m.buf[..n];
        let file = r.file.as_mut().expect("open after the start");
        file.write_all(data)
            .map_err(|e| Error::os(format!("write {}", r.part.display()), e))?;
        m.digest.update(data);
        m.at += n as u64;
        self.set_done(m.at);
        if m.at >= size {
            m.phase = Phase::Verify;
        }
        Ok(())
    }

    fn recv_verify(&self, m: &mut Machine, conn: &Connection) -> Result<()> {
        let Side::Recv(r) = &mut m.side else {
            unreachable!()
        };
        if let Some(f) = r.file.take() {
            f.sync_all()
                .map_err(|e| Error::os(format!("write {}", r.part.display()), e))?;
        }
        let mut theirs = [0u8; 32];
        conn.recv_exact_into(&mut theirs).map_err(|e| {
            if e.kind() == ErrorKind::Closed {
                with_note(
                    e,
                    &format!(
                        "the sender closed before sending its checksum; the bytes are kept in {}",
                        r.part.display()
                    ),
                )
            } else {
                e
            }
        })?;
        let ours = m.digest.clone().finish();
        if ours.as_ref() != theirs {
            let _ = std::fs::remove_file(&r.part);
            conn.send_all(&[1])?;
            return Err(Error::BadFrame(format!(
                "recv file {}: checksum mismatch: the sender's SHA-256 is {}, the bytes received \
                 hash to {} (nothing written to {})",
                r.out.display(),
                hex(&theirs),
                hex(ours.as_ref()),
                r.out.display()
            )));
        }
        if r.out.symlink_metadata().is_ok() && !r.opts.overwrite {
            conn.send_all(&[1])?;
            return Err(exists_error(format!(
                "{} appeared during the transfer; the file is kept in {}",
                r.out.display(),
                r.part.display()
            )));
        }
        std::fs::rename(&r.part, &r.out).map_err(|e| {
            Error::os(
                format!("rename {} to {}", r.part.display(), r.out.display()),
                e,
            )
        })?;
        conn.send_all(&[0])?;
        lock(&self.inner.info).sha256 = hex(ours.as_ref());
        m.phase = Phase::Done;
        Ok(())
    }
}

/// Send the file at `path` over `conn` (the whole transfer on this thread; see
/// [`FileTransfer::sender`] to follow its progress).
pub fn send_file(
    conn: &Connection,
    path: impl AsRef<Path>,
    opts: &SendOptions,
) -> Result<TransferInfo> {
    FileTransfer::sender(path, opts)?.run(conn)
}

/// Receive one file from `conn` into `dest` (a file, or a directory to write into under the
/// sender's name; the whole transfer on this thread; see [`FileTransfer::receiver`]).
pub fn recv_file(
    conn: &Connection,
    dest: impl AsRef<Path>,
    opts: &RecvOptions,
) -> Result<TransferInfo> {
    FileTransfer::receiver(dest, opts)?.run(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_round_trip() {
        for s in TransferState::ALL {
            assert_eq!(TransferState::from_code(s.code()), Some(s));
        }
        assert_eq!(TransferState::Starting.code(), 1);
        assert_eq!(TransferState::Failed.code(), 5);
        assert_eq!(TransferState::from_code(0), None);
        assert_eq!(TransferState::from_code(6), None);
    }

    #[test]
    fn names_from_the_wire_are_made_safe() {
        assert_eq!(safe_name(b"a.txt"), "a.txt");
        assert_eq!(safe_name(b"../../etc/passwd"), "passwd");
        assert_eq!(safe_name(b"..\\..\\x.bin"), "x.bin");
        assert_eq!(safe_name(b".."), DEFAULT_NAME);
        assert_eq!(safe_name(b"dir/"), DEFAULT_NAME);
        assert_eq!(safe_name(b"a\0b"), DEFAULT_NAME);
        assert_eq!(safe_name(b"caf\xc3\xa9"), "caf\u{e9}");
    }
}
