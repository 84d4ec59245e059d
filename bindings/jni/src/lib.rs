//! JNI glue for the Java / Android package `io.libsock`.
//!
//! Every native method lives on the package-private Java class `io.libsock.Native` and is a
//! static method taking plain JNI types: `long` handles, `int` milliseconds, `byte[]` with an
//! offset and a length, direct `ByteBuffer`s, `String`s. The public Java classes
//! (`TcpConnection`, `Listener`, `Datagram`, `Framing` ...) are thin wrappers over these.
//!
//! The glue is translation only:
//!
//! - **Handles**: every socket object lives in a process-wide table (the flat doors' shared
//!   [`libsock_flat::registry::Registry`]) under a positive `i64` id that is never reused. A
//!   closed, unknown or wrong-kind handle is an error thrown to Java
//!   (`io.libsock.BadHandleException`), never a crash or a use-after-free. A call looks its object
//!   up, clones the `Arc` and releases the table lock before blocking, so `close` from another
//!   thread removes the entry and closes the socket, which makes the blocked call return
//!   `Closed` promptly (core's close does the waking).
//! - **Errors**: a [`libsock::Error`] becomes a Java exception through the static Java method
//!   `io.libsock.Native.raise(int code, String message, long needed, int osError)`, which picks
//!   the exception class from the stable code (`SocketTimeoutException` and `ConnectException`
//!   subclasses for timeouts and refusals, `ClosedException`, `BufferTooSmallException` ...).
//! - **Panics**: every body runs inside `EnvUnowned::with_env`, which catches unwinding; a panic
//!   is thrown as an `io.libsock.LibsockException` with code `INTERNAL`. Nothing unwinds into
//!   the JVM.
//! - **Timeouts** are `int` milliseconds with the C door's convention: `-2` the object's default
//!   timeout (`LS_TIMEOUT_DEFAULT`), `-1` forever, `0` poll, `N` milliseconds.
#![allow(non_snake_case)]
#![warn(missing_docs)]

pub mod engine;
mod extra;
mod kcp;
mod tls;
mod transfer;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use jni::errors::ErrorPolicy;
use jni::objects::{
    JByteArray, JByteBuffer, JClass, JIntArray, JLongArray, JObject, JObjectArray, JString,
};
use jni::strings::JNIString;
use jni::sys::{jboolean, jint, jlong};
use jni::{jni_sig, jni_str, Env, EnvUnowned, JValue};
use libsock::{
    Addr, ConnectOptions, Connection, Datagram, DatagramOptions, Endpoint, ErrorKind, Framing,
    ListenOptions, Listener, MulticastInterface, Shutdown, SockOpt, SocketOptions,
};
use libsock_flat::registry::Registry;
use libsock_flat::{self as flat, timeout, timeout_ms, timeout_setting};

/// The timeout argument that means "use the object's default timeout" (`-2`, the C door's
/// `LS_TIMEOUT_DEFAULT`; Java's `Libsock.TIMEOUT_DEFAULT`): the flat doors' shared convention
/// ([`libsock_flat::timeout`]).
pub const DEFAULT_TIMEOUT: jint = flat::TIMEOUT_DEFAULT;

// ------------------------------------------------------------------------------------------------
// Errors

/// Everything a native body can fail with.
#[derive(Debug)]
pub enum JErr {
    /// A libsock error: thrown through `Native.raise` with its stable code.
    Core(libsock::Error),
    /// A JNI failure (often a Java exception that is already pending).
    Jni(jni::errors::Error),
    /// A required object argument was `null`: `NullPointerException`.
    Null(&'static str),
    /// An offset/length outside the array or buffer: `IndexOutOfBoundsException`.
    Bounds(String),
    /// A closed, unknown or wrong-kind handle: `io.libsock.BadHandleException`.
    BadHandle(i64, &'static str),
}

impl From<jni::errors::Error> for JErr {
    fn from(e: jni::errors::Error) -> JErr {
        JErr::Jni(e)
    }
}

impl From<libsock::Error> for JErr {
    fn from(e: libsock::Error) -> JErr {
        JErr::Core(e)
    }
}

/// Result of a native body.
pub type JResult<T> = Result<T, JErr>;

fn invalid(msg: impl Into<String>) -> JErr {
    JErr::Core(libsock::Error::invalid(msg))
}

/// Throw an exception through `io.libsock.Native.raise`, which maps the code to a class.
fn raise(env: &mut Env<'_>, code: i32, message: &str, needed: i64, os_error: i32) {
    let thrown = (|| -> jni::errors::Result<()> {
        let msg = env.new_string(message)?;
        env.call_static_method(
            jni_str!("io/libsock/Native"),
            jni_str!("raise"),
            jni_sig!("(ILjava/lang/String;JI)V"),
            &[
                JValue::Int(code),
                JValue::Object(&msg),
                JValue::Long(needed),
                JValue::Int(os_error),
            ],
        )?;
        Ok(())
    })();
    // `raise` always throws; if it could not run at all, fall back to a plain IOException.
    if !env.exception_check() {
        let _ = thrown;
        let _ = env.throw_new(
            jni_str!("java/io/IOException"),
            JNIString::from(message.to_string()),
        );
    }
}

/// The error policy of every native method: libsock errors become `io.libsock` exceptions,
/// panics become `LibsockException(INTERNAL)`, and a pending Java exception is left alone.
#[derive(Debug, Default)]
pub struct ThrowLibsock;

impl<T: Default> ErrorPolicy<T, JErr> for ThrowLibsock {
    type Captures<'unowned_env_local: 'native_method, 'native_method> = ();

    fn on_error<'unowned_env_local: 'native_method, 'native_method>(
        env: &mut Env<'unowned_env_local>,
        _cap: &mut (),
        err: JErr,
    ) -> jni::errors::Result<T> {
        if env.exception_check() {
            return Ok(T::default());
        }
        match err {
            JErr::Core(e) => raise(
                env,
                e.code(),
                &e.to_string(),
                e.needed().map_or(-1, |n| n as i64),
                e.os_error().unwrap_or(0),
            ),
            JErr::Null(what) => {
                let _ = env.throw_new(
                    jni_str!("java/lang/NullPointerException"),
                    JNIString::from(format!("{what} is null")),
                );
            }
            JErr::Bounds(msg) => {
                let _ = env.throw_new(
                    jni_str!("java/lang/IndexOutOfBoundsException"),
                    JNIString::from(msg),
                );
            }
            JErr::Jni(jni::errors::Error::IndexOutOfBounds) => {
                let _ = env.throw_new(
                    jni_str!("java/lang/IndexOutOfBoundsException"),
                    jni_str!("array region out of bounds"),
                );
            }
            JErr::BadHandle(h, what) => raise(
                env,
                ErrorKind::BadHandle.code(),
                &format!("bad handle {h}: not an open {what} (closed, or never opened)"),
                -1,
                0,
            ),
            // Errors made here read as core's, like every door's (docs/NAMES.md).
            JErr::Jni(e) => {
                let e = libsock::Error::Internal(format!("JNI failure in libsock glue: {e}"));
                raise(env, e.code(), &e.to_string(), -1, 0)
            }
        }
        Ok(T::default())
    }

    fn on_panic<'unowned_env_local: 'native_method, 'native_method>(
        env: &mut Env<'unowned_env_local>,
        _cap: &mut (),
        payload: Box<dyn std::any::Any + Send + 'static>,
    ) -> jni::errors::Result<T> {
        let text = if let Some(s) = payload.downcast_ref::<&'static str>() {
            (*s).to_string()
        } else if let Some(s) = payload.downcast_ref::<String>() {
            s.clone()
        } else {
            "non-string panic payload".to_string()
        };
        // Dropping a payload may itself panic: contain that too.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(payload)));
        if !env.exception_check() {
            let e = libsock::Error::Internal(format!("panic in libsock: {text}"));
            raise(env, e.code(), &e.to_string(), -1, 0);
        }
        Ok(T::default())
    }
}

/// Run a native body with panics caught and errors thrown as Java exceptions.
fn run<'l, T: Default>(env: &mut EnvUnowned<'l>, f: impl FnOnce(&mut Env<'l>) -> JResult<T>) -> T {
    env.with_env(f).resolve::<ThrowLibsock>()
}

// ------------------------------------------------------------------------------------------------
// Handle table

/// One object behind a Java handle.
#[derive(Clone)]
enum Obj {
    Conn(Arc<Connection>),
    Listener(Arc<Listener>),
    Dgram(Arc<Datagram>),
    /// An engine server (see [`engine`]).
    Server(Arc<libsock::engine::Server>),
    /// An engine client.
    Client(Arc<libsock::engine::Client>),
    /// An engine datagram server.
    DgramServer(Arc<libsock::engine::DatagramServer>),
    /// TLS settings (`io.libsock.TlsConfig`, see [`tls`]).
    Tls(Arc<tls::TlsObj>),
    /// One side of a file transfer (`io.libsock.FileTransfer`, see [`transfer`]).
    Transfer(libsock::transfer::FileTransfer),
    /// An engine KCP server (`io.libsock.KcpServer`, see [`kcp`]).
    Kcp(Arc<libsock::kcp::KcpServer>),
    /// A blocking KCP session (`io.libsock.KcpSession`).
    KcpSession(Arc<libsock::kcp::KcpSession>),
}

impl Obj {
    /// Close at once; engine objects stop without grace (their final events are queued and
    /// threads waiting for events wake).
    fn close(&self) {
        match self {
            Obj::Conn(c) => c.close(),
            Obj::Listener(l) => l.close(),
            Obj::Dgram(d) => d.close(),
            Obj::Server(s) => s.shutdown(Duration::ZERO),
            Obj::Client(c) => c.close(Duration::ZERO),
            Obj::DgramServer(d) => d.shutdown(),
            // Nothing to close: connections made with it keep their own copy.
            Obj::Tls(_) => {}
            // A step under way stops at its next piece (a receiver keeps its partial file).
            Obj::Transfer(t) => t.cancel(),
            Obj::Kcp(k) => k.shutdown(),
            Obj::KcpSession(k) => k.close(),
        }
    }
}

/// Every object behind a Java handle: the flat doors' registry (never reused ids from 1, a
/// lookup clones and lets go of the lock before the call blocks; [`libsock_flat::registry`]).
static HANDLES: Registry<Obj> = Registry::new();

/// Put `o` behind a new handle (closed at once if no handle is left to give it).
fn insert(o: Obj) -> JResult<jlong> {
    if HANDLES.exhausted() {
        o.close();
    }
    Ok(HANDLES.insert(o)?)
}

/// The object behind `h` (its kind's `Arc` cloned out), or `BadHandle` naming `what` the
/// caller wanted.
fn get(h: jlong, what: &'static str) -> JResult<Obj> {
    HANDLES
        .get(h)
        .map(|o| (*o).clone())
        .ok_or(JErr::BadHandle(h, what))
}

/// Take `h` out of the table and close what it named (nothing for an unknown handle).
fn remove(h: jlong) {
    if let Some(o) = HANDLES.remove(h) {
        o.close();
    }
}

fn conn(h: jlong) -> JResult<Arc<Connection>> {
    match get(h, "connection")? {
        Obj::Conn(c) => Ok(c),
        _ => Err(JErr::BadHandle(h, "connection")),
    }
}

fn listener(h: jlong) -> JResult<Arc<Listener>> {
    match get(h, "listener")? {
        Obj::Listener(l) => Ok(l),
        _ => Err(JErr::BadHandle(h, "listener")),
    }
}

fn dgram(h: jlong) -> JResult<Arc<Datagram>> {
    match get(h, "datagram socket")? {
        Obj::Dgram(d) => Ok(d),
        _ => Err(JErr::BadHandle(h, "datagram socket")),
    }
}

// ------------------------------------------------------------------------------------------------
// Argument conversion

fn string(env: &Env<'_>, s: &JString<'_>, what: &'static str) -> JResult<String> {
    if s.is_null() {
        return Err(JErr::Null(what));
    }
    to_rust_string(env, s, what)
}

/// A Java string as UTF-8. The JVM hands it over in modified UTF-8 (each UTF-16 code unit
/// encoded on its own); a string that is not valid UTF-16 (a lone surrogate) is not text and is
/// an invalid argument, as a C string that is not UTF-8 is in the C door: never replaced by
/// U+FFFD and used.
fn to_rust_string(env: &Env<'_>, s: &JString<'_>, what: &str) -> JResult<String> {
    let chars = s.mutf8_chars(env)?;
    text_of_mutf8(chars.to_bytes(), what)
}

/// The text of a modified UTF-8 string, or `InvalidArgument` naming `what` and the index of the
/// first lone surrogate.
fn text_of_mutf8(b: &[u8], what: &str) -> JResult<String> {
    // Valid UTF-8 holds no surrogate and no two-byte NUL, so it is the same text.
    if let Ok(t) = std::str::from_utf8(b) {
        return Ok(t.to_owned());
    }
    let mut units = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i] as u16;
        let cont = |k: usize| b.get(i + k).map(|&x| x as u16 & 0x3F);
        let (unit, n) = match c {
            0x00..=0x7F => (Some(c), 1),
            0xC0..=0xDF => (cont(1).map(|x| (c & 0x1F) << 6 | x), 2),
            0xE0..=0xEF => (
                cont(1)
                    .zip(cont(2))
                    .map(|(x, y)| (c & 0x0F) << 12 | x << 6 | y),
                3,
            ),
            _ => (None, 1),
        };
        units.push(unit.ok_or_else(|| invalid(format!("{what} is not modified UTF-8")))?);
        i += n;
    }
    let mut out = String::with_capacity(units.len());
    let mut at = 0;
    for c in char::decode_utf16(units) {
        match c {
            Ok(c) => {
                out.push(c);
                at += c.len_utf16();
            }
            Err(e) => {
                return Err(invalid(format!(
                    "{what} is not text: a lone UTF-16 surrogate {:#06x} at index {at}",
                    e.unpaired_surrogate()
                )))
            }
        }
    }
    Ok(out)
}

/// A proxy URL (null: none), parsed by core's `Proxy::parse` (its messages, in every door).
fn proxy_of(env: &Env<'_>, url: &JString<'_>) -> JResult<Option<libsock::Proxy>> {
    match opt_string(env, url, "proxy")? {
        None => Ok(None),
        Some(u) => Ok(Some(libsock::Proxy::parse(&u)?)),
    }
}

fn opt_string(env: &Env<'_>, s: &JString<'_>, what: &str) -> JResult<Option<String>> {
    if s.is_null() {
        return Ok(None);
    }
    Ok(Some(to_rust_string(env, s, what)?))
}

/// An endpoint from either a text (`"host:port"`, `"[::1]:80"`, `"unix:/path"`) or, when the text
/// is null, a host and a port.
fn endpoint(
    env: &Env<'_>,
    text: &JString<'_>,
    host: &JString<'_>,
    port: jint,
) -> JResult<Endpoint> {
    if let Some(t) = opt_string(env, text, "endpoint")? {
        return Ok(Endpoint::parse(&t)?);
    }
    let host = string(env, host, "host")?;
    let port = u16::try_from(port).map_err(|_| invalid(format!("port {port} is not 0..65535")))?;
    Ok(Endpoint::from_host_port(&host, port)?)
}

fn socket_options(
    env: &Env<'_>,
    nums: &JIntArray<'_>,
    vals: &JLongArray<'_>,
) -> JResult<SocketOptions> {
    let mut o = SocketOptions::new();
    if nums.is_null() || vals.is_null() {
        return Ok(o);
    }
    let n = nums.len(env)?;
    if vals.len(env)? != n {
        return Err(invalid("option numbers and values differ in length"));
    }
    let mut ns = vec![0i32; n];
    let mut vs = vec![0i64; n];
    nums.get_region(env, 0, &mut ns)?;
    vals.get_region(env, 0, &mut vs)?;
    for (num, v) in ns.into_iter().zip(vs) {
        o.set(SockOpt::from_number(num)?, v)?;
    }
    Ok(o)
}

fn check_range(off: jint, len: jint, cap: usize) -> JResult<(usize, usize)> {
    if off < 0 || len < 0 || off as usize + len as usize > cap {
        return Err(JErr::Bounds(format!(
            "offset {off} and length {len} do not fit a buffer of {cap} bytes"
        )));
    }
    Ok((off as usize, len as usize))
}

fn as_i8(b: &[u8]) -> &[i8] {
    // SAFETY: u8 and i8 have the same size and alignment.
    unsafe { &*(b as *const [u8] as *const [i8]) }
}

fn as_i8_mut(b: &mut [u8]) -> &mut [i8] {
    // SAFETY: u8 and i8 have the same size and alignment.
    unsafe { &mut *(b as *mut [u8] as *mut [i8]) }
}

/// Copy `len` bytes at `off` out of a Java array.
fn read_array(env: &Env<'_>, a: &JByteArray<'_>, off: jint, len: jint) -> JResult<Vec<u8>> {
    if a.is_null() {
        return Err(JErr::Null("buffer"));
    }
    let (off, len) = check_range(off, len, a.len(env)?)?;
    let mut v = vec![0u8; len];
    a.get_region(env, off as jint, as_i8_mut(&mut v))?;
    Ok(v)
}

/// Check that `off..off+len` lies inside a Java array; returns them as usize.
fn array_range(env: &Env<'_>, a: &JByteArray<'_>, off: jint, len: jint) -> JResult<(usize, usize)> {
    if a.is_null() {
        return Err(JErr::Null("buffer"));
    }
    check_range(off, len, a.len(env)?)
}

fn write_array(env: &Env<'_>, a: &JByteArray<'_>, off: usize, data: &[u8]) -> JResult<()> {
    a.set_region(env, off as jint, as_i8(data))?;
    Ok(())
}

/// The bytes `off..off+len` of a direct `ByteBuffer` (no copy). The buffer stays alive for the
/// whole native call: the caller's local reference keeps it reachable.
fn direct<'a>(env: &Env<'_>, b: &JByteBuffer<'_>, off: jint, len: jint) -> JResult<&'a mut [u8]> {
    if b.is_null() {
        return Err(JErr::Null("buffer"));
    }
    let addr = env
        .get_direct_buffer_address(b)
        .map_err(|_| invalid("the ByteBuffer is not direct"))?;
    let cap = env.get_direct_buffer_capacity(b)?;
    let (off, len) = check_range(off, len, cap)?;
    if len == 0 {
        return Ok(&mut []);
    }
    // SAFETY: the JVM guarantees `cap` bytes at `addr` for a live direct buffer; the range was
    // checked against `cap`.
    Ok(unsafe { std::slice::from_raw_parts_mut(addr.add(off), len) })
}

fn new_bytes<'l>(env: &mut Env<'l>, data: &[u8]) -> JResult<JByteArray<'l>> {
    Ok(env.byte_array_from_slice(data)?)
}

fn jstr<'l>(env: &mut Env<'l>, s: &str) -> JResult<JString<'l>> {
    Ok(env.new_string(s)?)
}

/// A framing from the flat parameters Java passes (kind: 0 raw, 1 length-prefixed, 2 delimited,
/// 3 fixed, 4 HP-Socket PACK), through the flat doors' shared builders ([`libsock_flat`]): core
/// checks every value, with the same message as in the C door. `header_len` -1 is the field's
/// end; `length_bits` is always given (Java sends the field's bits when no flag is set), so 0 or
/// a negative number is refused, never taken for "not set".
#[allow(clippy::too_many_arguments)]
fn framing(
    env: &Env<'_>,
    kind: jint,
    width: jint,
    big_endian: jboolean,
    offset: jint,
    header_len: jint,
    adjustment: jlong,
    max_len: jlong,
    length_bits: jint,
    flag: jlong,
    keep: jboolean,
    delimiter: &JByteArray<'_>,
) -> JResult<Framing> {
    let max = || flat::size(max_len, "max length");
    Ok(match kind {
        0 => Framing::Raw,
        1 => flat::length_prefixed(flat::LengthArgs {
            width: width.into(),
            big_endian,
            offset: flat::size(offset.into(), "offset")?,
            header_len: match header_len {
                -1 => None,
                h => Some(flat::size(h.into(), "header length")?),
            },
            adjustment,
            max_len: max()?,
            length_bits: Some(length_bits.into()),
            flag,
            keep_header: keep,
        })?,
        2 => {
            if delimiter.is_null() {
                return Err(JErr::Null("delimiter"));
            }
            flat::delimited(env.convert_byte_array(delimiter)?, max()?, keep)?
        }
        3 => flat::fixed(flat::size(max_len, "fixed size")?)?,
        4 => flat::hp_pack(flag, max()?)?,
        k => return Err(invalid(format!("framing kind {k}"))),
    })
}

// ------------------------------------------------------------------------------------------------
// General

/// `static native String version()`: the core's version.
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_version<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
) -> JString<'l> {
    run(&mut env, |env| jstr(env, libsock::VERSION))
}

/// `static native void close(long h)`: close and forget a handle. Unknown handles are ignored,
/// so closing twice is harmless; a call blocked on the object returns `Closed`.
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_close<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    h: jlong,
) {
    run(&mut env, |_| {
        remove(h);
        Ok(())
    })
}

/// `static native void setOption(long h, int opt, long value)` on any kind of handle.
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_setOption<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    h: jlong,
    opt: jint,
    value: jlong,
) {
    run(&mut env, |_| {
        let opt = SockOpt::from_number(opt)?;
        match get(h, "socket")? {
            Obj::Conn(c) => c.set_option(opt, value)?,
            Obj::Listener(l) => l.set_option(opt, value)?,
            Obj::Dgram(d) => d.set_option(opt, value)?,
            _ => return Err(JErr::BadHandle(h, "blocking-layer socket")),
        }
        Ok(())
    })
}

/// `static native long getOption(long h, int opt)`: the value read back from the OS.
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_getOption<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    h: jlong,
    opt: jint,
) -> jlong {
    run(&mut env, |_| {
        let opt = SockOpt::from_number(opt)?;
        Ok(match get(h, "socket")? {
            Obj::Conn(c) => c.get_option(opt)?,
            Obj::Listener(l) => l.get_option(opt)?,
            Obj::Dgram(d) => d.get_option(opt)?,
            _ => return Err(JErr::BadHandle(h, "blocking-layer socket")),
        })
    })
}

fn local_addr(h: jlong) -> JResult<Addr> {
    Ok(match get(h, "socket")? {
        Obj::Conn(c) => c.local_addr()?,
        Obj::Listener(l) => l.local_addr()?,
        Obj::Dgram(d) => d.local_addr()?,
        _ => return Err(JErr::BadHandle(h, "blocking-layer socket")),
    })
}

fn peer_addr(h: jlong) -> JResult<Addr> {
    match get(h, "connection or datagram socket")? {
        Obj::Conn(c) => {
            if c.is_closed() {
                return Err(JErr::BadHandle(h, "connection"));
            }
            Ok(c.peer_addr())
        }
        Obj::Dgram(d) => Ok(d.peer_addr()?),
        Obj::Listener(_) => Err(JErr::BadHandle(h, "connection or datagram socket")),
        _ => Err(JErr::BadHandle(h, "blocking-layer socket")),
    }
}

/// `static native String localAddress(long h)`, e.g. `"127.0.0.1:5000"` or `"unix:/tmp/s"`.
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_localAddress<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    h: jlong,
) -> JString<'l> {
    run(&mut env, |env| {
        let a = local_addr(h)?;
        jstr(env, &a.to_string())
    })
}

/// `static native int localPort(long h)` (0 for Unix sockets).
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_localPort<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    h: jlong,
) -> jint {
    run(&mut env, |_| Ok(local_addr(h)?.port() as jint))
}

/// `static native String peerAddress(long h)` of a connection or connected datagram socket.
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_peerAddress<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    h: jlong,
) -> JString<'l> {
    run(&mut env, |env| {
        let a = peer_addr(h)?;
        jstr(env, &a.to_string())
    })
}

/// `static native int peerPort(long h)` (0 for Unix sockets).
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_peerPort<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    h: jlong,
) -> jint {
    run(&mut env, |_| Ok(peer_addr(h)?.port() as jint))
}

/// `static native void setTimeout(long h, int ms)`: default timeout of a connection or datagram
/// socket, or the default given to connections a listener accepts (-1 forever, 0 poll).
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_setTimeout<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    h: jlong,
    ms: jint,
) {
    run(&mut env, |_| {
        let t = timeout_setting(ms)?;
        match get(h, "socket")? {
            Obj::Conn(c) => c.set_timeout(t),
            Obj::Listener(l) => l.set_conn_timeout(t),
            Obj::Dgram(d) => d.set_timeout(t),
            _ => return Err(JErr::BadHandle(h, "blocking-layer socket")),
        }
        Ok(())
    })
}

/// `static native int getTimeout(long h)`: the default timeout (-1 = forever).
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_getTimeout<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    h: jlong,
) -> jint {
    run(&mut env, |_| {
        Ok(timeout_ms(match get(h, "connection or datagram socket")? {
            Obj::Conn(c) => c.timeout(),
            Obj::Dgram(d) => d.timeout(),
            Obj::Listener(_) => return Err(JErr::BadHandle(h, "connection or datagram socket")),
            _ => return Err(JErr::BadHandle(h, "blocking-layer socket")),
        }))
    })
}

/// `static native long bytesAvailable(long h)`: bytes readable without waiting.
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_bytesAvailable<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    h: jlong,
) -> jlong {
    run(&mut env, |_| {
        Ok(match get(h, "connection or datagram socket")? {
            Obj::Conn(c) => c.bytes_available()?,
            Obj::Dgram(d) => d.bytes_available()?,
            Obj::Listener(_) => return Err(JErr::BadHandle(h, "connection or datagram socket")),
            _ => return Err(JErr::BadHandle(h, "blocking-layer socket")),
        } as jlong)
    })
}

/// `static native void setFraming(long h, int kind, ...)` on a connection (send/recv messages)
/// or a listener (framing of the connections it accepts from now on).
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub extern "system" fn Java_io_libsock_Native_setFraming<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    h: jlong,
    kind: jint,
    width: jint,
    big_endian: jboolean,
    offset: jint,
    header_len: jint,
    adjustment: jlong,
    max_len: jlong,
    length_bits: jint,
    flag: jlong,
    keep: jboolean,
    delimiter: JByteArray<'l>,
) {
    run(&mut env, |env| {
        let f = framing(
            env,
            kind,
            width,
            big_endian,
            offset,
            header_len,
            adjustment,
            max_len,
            length_bits,
            flag,
            keep,
            &delimiter,
        )?;
        match get(h, "connection or listener")? {
            Obj::Conn(c) => c.set_framing(f)?,
            Obj::Listener(l) => l.set_framing(f)?,
            Obj::Dgram(_) => return Err(JErr::BadHandle(h, "connection or listener")),
            _ => return Err(JErr::BadHandle(h, "blocking-layer socket")),
        }
        Ok(())
    })
}

// ------------------------------------------------------------------------------------------------
// Connections

/// `static native long connect(String endpoint, String host, int port, int connectTimeoutMs,
/// int timeoutMs, int[] optNums, long[] optValues, long tlsConfig)`: a new connection handle.
/// `endpoint` wins when not null; otherwise `host` and `port` are used. `tlsConfig` is a client
/// `TlsConfig` handle (0: plain); its handshake completes before this returns. `proxy` (null:
/// none) is a proxy URL parsed by core (`socks5://user:pass@host:port`, `http://host:port`).
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub extern "system" fn Java_io_libsock_Native_connect<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    text: JString<'l>,
    host: JString<'l>,
    port: jint,
    connect_timeout_ms: jint,
    timeout_ms: jint,
    opt_nums: JIntArray<'l>,
    opt_vals: JLongArray<'l>,
    tls_config: jlong,
    proxy: JString<'l>,
) -> jlong {
    run(&mut env, |env| {
        let ep = endpoint(env, &text, &host, port)?;
        let proxy = proxy_of(env, &proxy)?;
        let mut opts = ConnectOptions::new()
            .timeout(timeout_setting(timeout_ms)?)
            .options(socket_options(env, &opt_nums, &opt_vals)?);
        if let Some(t) = timeout_setting(connect_timeout_ms)? {
            opts = opts.connect_timeout(t);
        }
        if tls_config != 0 {
            opts = opts.tls(tls::client_tls(tls_config)?);
        }
        opts.proxy = proxy;
        let c = Connection::connect_with(&ep, &opts)?;
        insert(Obj::Conn(Arc::new(c)))
    })
}

/// `static native int connSend(long h, byte[] b, int off, int len, int timeoutMs)`: one send.
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_connSend<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    h: jlong,
    b: JByteArray<'l>,
    off: jint,
    len: jint,
    t: jint,
) -> jint {
    run(&mut env, |env| {
        let data = read_array(env, &b, off, len)?;
        let c = conn(h)?;
        Ok(c.with_timeout(timeout(t)?).send(&data)? as jint)
    })
}

/// `static native void connSendAll(long h, byte[] b, int off, int len, int timeoutMs)`.
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_connSendAll<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    h: jlong,
    b: JByteArray<'l>,
    off: jint,
    len: jint,
    t: jint,
) {
    run(&mut env, |env| {
        let data = read_array(env, &b, off, len)?;
        let c = conn(h)?;
        c.with_timeout(timeout(t)?).send_all(&data)?;
        Ok(())
    })
}

/// `static native void connSendAllDirect(long h, ByteBuffer b, int off, int len, int timeoutMs)`:
/// send from a direct buffer without copying.
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_connSendAllDirect<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    h: jlong,
    b: JByteBuffer<'l>,
    off: jint,
    len: jint,
    t: jint,
) {
    run(&mut env, |env| {
        let data = direct(env, &b, off, len)?;
        let c = conn(h)?;
        c.with_timeout(timeout(t)?).send_all(data)?;
        Ok(())
    })
}

/// `static native int connRecv(long h, byte[] b, int off, int len, int timeoutMs)`: bytes
/// received into `b[off..]`, 0 when the peer closed in order.
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_connRecv<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    h: jlong,
    b: JByteArray<'l>,
    off: jint,
    len: jint,
    t: jint,
) -> jint {
    run(&mut env, |env| {
        let (off, len) = array_range(env, &b, off, len)?;
        let c = conn(h)?;
        let mut buf = vec![0u8; len];
        let n = c.with_timeout(timeout(t)?).recv_into(&mut buf)?;
        write_array(env, &b, off, &buf[..n])?;
        Ok(n as jint)
    })
}

/// `static native int connRecvDirect(long h, ByteBuffer b, int off, int len, int timeoutMs)`:
/// receive straight into a direct buffer; 0 when the peer closed in order.
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_connRecvDirect<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    h: jlong,
    b: JByteBuffer<'l>,
    off: jint,
    len: jint,
    t: jint,
) -> jint {
    run(&mut env, |env| {
        let buf = direct(env, &b, off, len)?;
        let c = conn(h)?;
        Ok(c.with_timeout(timeout(t)?).recv_into(buf)? as jint)
    })
}

/// `static native void connRecvExact(long h, byte[] b, int off, int len, int timeoutMs)`: fill
/// `b[off..off+len]` completely (`Closed` if the peer closes first; nothing is lost on timeout).
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_connRecvExact<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    h: jlong,
    b: JByteArray<'l>,
    off: jint,
    len: jint,
    t: jint,
) {
    run(&mut env, |env| {
        let (off, len) = array_range(env, &b, off, len)?;
        let c = conn(h)?;
        let mut buf = vec![0u8; len];
        c.with_timeout(timeout(t)?).recv_exact_into(&mut buf)?;
        write_array(env, &b, off, &buf)
    })
}

/// `static native byte[] connRecvUntil(long h, byte[] delimiter, int max, int timeoutMs)`: bytes
/// up to and including the delimiter.
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_connRecvUntil<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    h: jlong,
    delimiter: JByteArray<'l>,
    max: jint,
    t: jint,
) -> JByteArray<'l> {
    run(&mut env, |env| {
        if delimiter.is_null() {
            return Err(JErr::Null("delimiter"));
        }
        let d = env.convert_byte_array(&delimiter)?;
        let max = usize::try_from(max).map_err(|_| invalid(format!("max {max} is negative")))?;
        let c = conn(h)?;
        let got = c.with_timeout(timeout(t)?).recv_until(&d, max)?;
        new_bytes(env, &got)
    })
}

/// `static native void connSendMsg(long h, byte[] b, int off, int len, int timeoutMs)`: one
/// message through the connection's framing.
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_connSendMsg<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    h: jlong,
    b: JByteArray<'l>,
    off: jint,
    len: jint,
    t: jint,
) {
    run(&mut env, |env| {
        let data = read_array(env, &b, off, len)?;
        let c = conn(h)?;
        c.with_timeout(timeout(t)?).send_msg(&data)?;
        Ok(())
    })
}

/// `static native byte[] connRecvMsg(long h, int timeoutMs)`: the next message.
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_connRecvMsg<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    h: jlong,
    t: jint,
) -> JByteArray<'l> {
    run(&mut env, |env| {
        let c = conn(h)?;
        let m = c.with_timeout(timeout(t)?).recv_msg()?;
        new_bytes(env, &m)
    })
}

/// `static native byte[][] connRecvMsgs(long h, int max, int timeoutMs)`: waits for one
/// message, then returns up to `max` messages that are already here (one call, many messages).
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_connRecvMsgs<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    h: jlong,
    max: jint,
    t: jint,
) -> JObjectArray<'l> {
    run(&mut env, |env| {
        let max = usize::try_from(max).map_err(|_| invalid(format!("max {max} is negative")))?;
        let c = conn(h)?;
        let msgs = c.with_timeout(timeout(t)?).recv_msgs(max)?;
        let arr = env.new_object_array(msgs.len() as jint, jni_str!("[B"), JObject::null())?;
        for (i, m) in msgs.iter().enumerate() {
            let b = new_bytes(env, m)?;
            arr.set_element(env, i, &b)?;
            // One local reference at a time, however many messages there are.
            env.delete_local_ref(b);
        }
        Ok(arr)
    })
}

/// `static native int connRecvMsgInto(long h, byte[] b, int off, int len, int timeoutMs)`: the
/// next message into `b[off..]`; `BufferTooSmallException` (with the needed size) leaves it queued.
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_connRecvMsgInto<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    h: jlong,
    b: JByteArray<'l>,
    off: jint,
    len: jint,
    t: jint,
) -> jint {
    run(&mut env, |env| {
        let (off, len) = array_range(env, &b, off, len)?;
        let c = conn(h)?;
        let mut buf = vec![0u8; len];
        let n = c.with_timeout(timeout(t)?).recv_msg_into(&mut buf)?;
        write_array(env, &b, off, &buf[..n])?;
        Ok(n as jint)
    })
}

/// `static native int connRecvMsgDirect(long h, ByteBuffer b, int off, int len, int timeoutMs)`.
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_connRecvMsgDirect<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    h: jlong,
    b: JByteBuffer<'l>,
    off: jint,
    len: jint,
    t: jint,
) -> jint {
    run(&mut env, |env| {
        let buf = direct(env, &b, off, len)?;
        let c = conn(h)?;
        Ok(c.with_timeout(timeout(t)?).recv_msg_into(buf)? as jint)
    })
}

/// `static native void connShutdown(long h, int how)`: 0 read, 1 write (half-close), 2 both.
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_connShutdown<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    h: jlong,
    how: jint,
) {
    run(&mut env, |_| {
        let how = match how {
            0 => Shutdown::Read,
            1 => Shutdown::Write,
            2 => Shutdown::Both,
            o => return Err(invalid(format!("shutdown direction {o}"))),
        };
        conn(h)?.shutdown(how)?;
        Ok(())
    })
}

/// `static native long connSendFile(long h, String path, long offset, long len, int timeoutMs)`:
/// bytes sent (`len` -1 = the rest of the file).
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_connSendFile<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    h: jlong,
    path: JString<'l>,
    offset: jlong,
    len: jlong,
    t: jint,
) -> jlong {
    run(&mut env, |env| {
        let path = string(env, &path, "path")?;
        let offset =
            u64::try_from(offset).map_err(|_| invalid(format!("offset {offset} is negative")))?;
        let len = match len {
            -1 => None,
            l => Some(u64::try_from(l).map_err(|_| invalid(format!("length {l} is negative")))?),
        };
        let c = conn(h)?;
        Ok(c.with_timeout(timeout(t)?).send_file(path, offset, len)? as jlong)
    })
}

/// `static native long connRecvFile(long h, String path, long len, int timeoutMs)`: receive
/// exactly `len` bytes into a new file.
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_connRecvFile<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    h: jlong,
    path: JString<'l>,
    len: jlong,
    t: jint,
) -> jlong {
    run(&mut env, |env| {
        let path = string(env, &path, "path")?;
        let len = u64::try_from(len).map_err(|_| invalid(format!("length {len} is negative")))?;
        let c = conn(h)?;
        Ok(c.with_timeout(timeout(t)?).recv_file(path, len)? as jlong)
    })
}

// ------------------------------------------------------------------------------------------------
// Listeners

/// `static native long listen(String endpoint, String host, int port, int backlog,
/// boolean reuseAddress, boolean reusePort, int connTimeoutMs, int[] optNums, long[] optValues,
/// long tlsConfig)`. `tlsConfig` is a server `TlsConfig` handle (0: plain): every accepted connection's
/// handshake completes before `accept` returns it.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub extern "system" fn Java_io_libsock_Native_listen<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    text: JString<'l>,
    host: JString<'l>,
    port: jint,
    backlog: jint,
    reuse_address: jboolean,
    reuse_port: jboolean,
    conn_timeout_ms: jint,
    opt_nums: JIntArray<'l>,
    opt_vals: JLongArray<'l>,
    tls_config: jlong,
) -> jlong {
    run(&mut env, |env| {
        let ep = endpoint(env, &text, &host, port)?;
        let mut opts = ListenOptions::new()
            .reuse_address(reuse_address)
            .reuse_port(reuse_port)
            .conn_timeout(timeout_setting(conn_timeout_ms)?)
            .options(socket_options(env, &opt_nums, &opt_vals)?);
        if backlog >= 0 {
            opts = opts.backlog(backlog);
        }
        if tls_config != 0 {
            opts = opts.tls(tls::server_tls(tls_config)?);
        }
        let l = Listener::bind_with(&ep, &opts)?;
        insert(Obj::Listener(Arc::new(l)))
    })
}

/// `static native long accept(long h, int timeoutMs)`: a new connection handle (-2 the
/// listener's default, forever: Java sets none).
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_accept<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    h: jlong,
    t: jint,
) -> jlong {
    run(&mut env, |_| {
        let t = timeout(t)?;
        let l = listener(h)?;
        let (c, _peer) = l.accept_with(t)?;
        insert(Obj::Conn(Arc::new(c)))
    })
}

// ------------------------------------------------------------------------------------------------
// Datagrams

/// `static native long dgramOpen(boolean connect, String endpoint, String host, int port,
/// int timeoutMs, int[] optNums, long[] optValues)`: bind (connect = false) or connect a
/// datagram socket.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub extern "system" fn Java_io_libsock_Native_dgramOpen<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    connect: jboolean,
    text: JString<'l>,
    host: JString<'l>,
    port: jint,
    timeout_ms: jint,
    opt_nums: JIntArray<'l>,
    opt_vals: JLongArray<'l>,
) -> jlong {
    run(&mut env, |env| {
        let ep = endpoint(env, &text, &host, port)?;
        let opts = DatagramOptions {
            options: socket_options(env, &opt_nums, &opt_vals)?,
            timeout: timeout_setting(timeout_ms)?,
            ..DatagramOptions::default()
        };
        let d = if connect {
            Datagram::connect_with(&ep, &opts)?
        } else {
            Datagram::bind_with(&ep, &opts)?
        };
        insert(Obj::Dgram(Arc::new(d)))
    })
}

/// `static native int dgramSend(long h, byte[] b, int off, int len, String to, int timeoutMs)`:
/// one datagram to `to` (or to the connected peer when `to` is null).
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub extern "system" fn Java_io_libsock_Native_dgramSend<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    h: jlong,
    b: JByteArray<'l>,
    off: jint,
    len: jint,
    to: JString<'l>,
    t: jint,
) -> jint {
    run(&mut env, |env| {
        let data = read_array(env, &b, off, len)?;
        let to = opt_string(env, &to, "to")?;
        let d = dgram(h)?;
        let t = timeout(t)?;
        Ok(match to {
            Some(to) => d.send_to_endpoint(&data, to.as_str(), t)?,
            None => d.send_timeout(&data, t)?,
        } as jint)
    })
}

/// `static native String dgramRecvFrom(long h, byte[] b, int off, int len, int timeoutMs,
/// long[] meta)`: one datagram into `b[off..]`; returns the sender and fills `meta` with
/// {bytes written, datagram's full size, truncated (0/1)}.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub extern "system" fn Java_io_libsock_Native_dgramRecvFrom<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    h: jlong,
    b: JByteArray<'l>,
    off: jint,
    len: jint,
    t: jint,
    meta: JLongArray<'l>,
) -> JString<'l> {
    run(&mut env, |env| {
        let (off, len) = array_range(env, &b, off, len)?;
        if meta.is_null() {
            return Err(JErr::Null("meta"));
        }
        if meta.len(env)? < 3 {
            return Err(JErr::Bounds("meta needs 3 elements".into()));
        }
        let d = dgram(h)?;
        let mut buf = vec![0u8; len];
        let m = d.recv_from_timeout(&mut buf, timeout(t)?)?;
        write_array(env, &b, off, &buf[..m.len])?;
        meta.set_region(
            env,
            0,
            &[m.len as i64, m.full_len as i64, m.truncated as i64],
        )?;
        jstr(env, &m.peer.to_string())
    })
}

/// `static native void dgramMembership(long h, String group, String iface, boolean join)`:
/// join or leave a multicast group. `iface` is null (default), an IPv4 address or an IPv6
/// interface index.
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_dgramMembership<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    h: jlong,
    group: JString<'l>,
    iface: JString<'l>,
    join: jboolean,
) {
    run(&mut env, |env| {
        let g = string(env, &group, "group")?;
        let group: IpAddr = g
            .parse()
            .map_err(|_| invalid(format!("multicast group {g:?} is not an IP address")))?;
        let iface = match opt_string(env, &iface, "interface")? {
            None => MulticastInterface::Default,
            Some(s) => s.parse::<MulticastInterface>()?,
        };
        let d = dgram(h)?;
        if join {
            d.join_multicast(group, iface)?;
        } else {
            d.leave_multicast(group, iface)?;
        }
        Ok(())
    })
}

// ------------------------------------------------------------------------------------------------
// Self-test

/// `static native void selfTestPanic()`: panics inside a native body, so the test suite can
/// prove that a panic becomes `LibsockException(INTERNAL)` instead of crossing into the JVM.
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_selfTestPanic<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
) {
    run(&mut env, |_| -> JResult<()> {
        panic!("libsock JNI self-test panic (expected by the test suite)")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_are_the_flat_doors() {
        // The meaning is libsock_flat's (tested there); the JNI passes Java's ints through.
        assert_eq!(DEFAULT_TIMEOUT, -2);
        assert_eq!(timeout(DEFAULT_TIMEOUT).unwrap(), libsock::Timeout::Default);
        assert!(timeout(i32::MIN).is_err());
    }

    #[test]
    fn java_strings_must_be_utf16_text() {
        // Modified UTF-8 as the JVM gives it: NUL as C0 80, a pair as two 3-byte units.
        let ok = b"a\xc0\x80\xed\xa0\xbd\xed\xb8\x80:1";
        assert_eq!(text_of_mutf8(ok, "x").unwrap(), "a\0\u{1F600}:1");
        assert_eq!(text_of_mutf8("h\u{e9}".as_bytes(), "x").unwrap(), "h\u{e9}");
        for lone in [
            &b"127.0.0.1:80\xed\xa0\x80"[..],
            b"\xed\xb0\x80a",
            b"\xed\xa0\x80\xed\xa0\x80",
        ] {
            match text_of_mutf8(lone, "endpoint") {
                Err(JErr::Core(e)) => {
                    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
                    assert!(e.to_string().contains("lone UTF-16 surrogate"), "{e}");
                }
                other => panic!("{other:?}"),
            }
        }
        assert!(text_of_mutf8(b"\xff", "x").is_err());
        assert!(text_of_mutf8(b"\xe0\x80", "x").is_err());
    }

    #[test]
    fn ranges_are_checked() {
        assert_eq!(check_range(0, 4, 4).unwrap(), (0, 4));
        assert_eq!(check_range(4, 0, 4).unwrap(), (4, 0));
        assert!(matches!(check_range(2, 3, 4), Err(JErr::Bounds(_))));
        assert!(matches!(check_range(-1, 1, 4), Err(JErr::Bounds(_))));
        assert!(matches!(check_range(0, -1, 4), Err(JErr::Bounds(_))));
        assert!(check_range(i32::MAX, i32::MAX, 8).is_err());
    }

    #[test]
    fn handles_are_never_reused_and_bad_ones_fail() {
        let (a, _b) = Connection::pair().unwrap();
        let h = insert(Obj::Conn(Arc::new(a))).unwrap();
        assert!(conn(h).is_ok());
        assert!(matches!(listener(h), Err(JErr::BadHandle(..))));
        remove(h);
        assert!(matches!(conn(h), Err(JErr::BadHandle(..))));
        let (c, _d) = Connection::pair().unwrap();
        let h2 = insert(Obj::Conn(Arc::new(c))).unwrap();
        assert!(h2 > h);
        assert!(matches!(get(0, "x"), Err(JErr::BadHandle(0, _))));
        // The kinds issue 16 added are typed like the others, and closing cancels a transfer.
        let dir = std::env::temp_dir().join(format!("ls-jni-typed-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let t =
            libsock::transfer::FileTransfer::receiver(&dir, &libsock::transfer::RecvOptions::new())
                .unwrap();
        let ht = insert(Obj::Transfer(t.clone())).unwrap();
        assert!(matches!(conn(ht), Err(JErr::BadHandle(..))));
        assert!(kcp::kcp_server(ht).is_err());
        remove(ht);
        assert!(matches!(get(ht, "x"), Err(JErr::BadHandle(..))));
        let (x, _y) = Connection::pair().unwrap();
        let e = t.step(&x).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Interrupted, "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(matches!(get(-5, "x"), Err(JErr::BadHandle(-5, _))));
    }
}
