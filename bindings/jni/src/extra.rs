//! Connection and datagram calls added for issue 16: batch sends (`send_msgs`), descriptor
//! passing and peer credentials on Unix connections, the outgoing multicast interface, the
//! proxy URL check, and the `java.io.FileDescriptor` bridge.
//!
//! `java.io.FileDescriptor` keeps the descriptor in a private `int` field (`fd` in OpenJDK,
//! `descriptor` in Android's libcore), which the platform's own native code reads and writes;
//! JNI is not bound by Java's access checks, so the glue does the same (no reflection from Java,
//! which JDK 16+ refuses without `--add-opens`). A JVM whose `FileDescriptor` has neither field
//! makes these calls fail with `UNSUPPORTED`, never crash.

use std::os::fd::{BorrowedFd, IntoRawFd};

use jni::objects::{JByteArray, JClass, JIntArray, JObject, JObjectArray, JString};
use jni::sys::jint;
use jni::sys::jlong;
use jni::{jni_sig, jni_str, Env, EnvUnowned, JValue};
use libsock::MulticastInterface;

use super::{conn, dgram, invalid, new_bytes, opt_string, read_array, run, string, JErr, JResult};
use libsock_flat::timeout;

/// The elements of a `byte[][]` (every element non-null), copied.
pub(crate) fn byte_arrays(env: &mut Env<'_>, arr: &JObjectArray<'_>) -> JResult<Vec<Vec<u8>>> {
    if arr.is_null() {
        return Err(JErr::Null("messages"));
    }
    let n = arr.len(env)?;
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let o = arr.get_element(env, i)?;
        if o.is_null() {
            return Err(JErr::Null("a message"));
        }
        let b = JByteArray::cast_local(env, o)?;
        out.push(env.convert_byte_array(&b)?);
        env.delete_local_ref(b);
    }
    Ok(out)
}

/// `static native void connSendMsgs(long h, byte[][] msgs, int timeoutMs)`: several messages
/// through the connection's framing with as few system calls as possible; every message is
/// checked against the framing before anything is sent (core's `send_msgs`).
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_connSendMsgs<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    h: jlong,
    msgs: JObjectArray<'l>,
    t: jint,
) {
    run(&mut env, |env| {
        let msgs = byte_arrays(env, &msgs)?;
        let slices: Vec<&[u8]> = msgs.iter().map(|m| m.as_slice()).collect();
        let c = conn(h)?;
        c.with_timeout(timeout(t)?).send_msgs(&slices)?;
        Ok(())
    })
}

/// `static native void connSendFds(long h, byte[] b, int off, int len, int[] fds, int timeoutMs)`:
/// bytes with descriptors (SCM_RIGHTS) on a Unix connection. The descriptors stay the caller's:
/// the receiver gets copies.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub extern "system" fn Java_io_libsock_Native_connSendFds<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    h: jlong,
    b: JByteArray<'l>,
    off: jint,
    len: jint,
    fds: JIntArray<'l>,
    t: jint,
) {
    run(&mut env, |env| {
        let data = read_array(env, &b, off, len)?;
        if fds.is_null() {
            return Err(JErr::Null("fds"));
        }
        let mut raw = vec![0i32; fds.len(env)?];
        fds.get_region(env, 0, &mut raw)?;
        if let Some(bad) = raw.iter().find(|&&fd| fd < 0) {
            return Err(invalid(format!("file descriptor {bad} is negative")));
        }
        let c = conn(h)?;
        // SAFETY: the caller keeps its descriptors open for the call (documented on
        // TcpConnection.sendFds); a closed one makes sendmsg fail with EBADF, nothing worse.
        let borrowed: Vec<BorrowedFd<'_>> = raw
            .iter()
            .map(|&fd| unsafe { BorrowedFd::borrow_raw(fd) })
            .collect();
        c.with_timeout(timeout(t)?).send_fds(&data, &borrowed)?;
        Ok(())
    })
}

/// The most bytes one `connRecvFds` takes (1 MiB).
const RECV_FDS_MAX: usize = 1 << 20;

/// `static native Object[] connRecvFds(long h, int maxBytes, int maxFds, int timeoutMs)`:
/// `{byte[] data, int[] fds}`; the descriptors are the caller's (close-on-exec set); an empty
/// `data` at the end of the stream; at most [`RECV_FDS_MAX`] bytes whatever `maxBytes` says.
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_connRecvFds<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    h: jlong,
    max_bytes: jint,
    max_fds: jint,
    t: jint,
) -> JObjectArray<'l> {
    run(&mut env, |env| {
        let n = usize::try_from(max_bytes)
            .map_err(|_| invalid(format!("maxBytes {max_bytes} is negative")))?;
        let max_fds = usize::try_from(max_fds)
            .map_err(|_| invalid(format!("maxFds {max_fds} is negative")))?;
        let c = conn(h)?;
        // "Up to": one receive returns what is there, so a huge maxBytes allocates no more than
        // this (as Python's recv_fds caps its scratch buffer).
        let mut buf = vec![0u8; n.min(RECV_FDS_MAX)];
        let (k, fds) = c.with_timeout(timeout(t)?).recv_fds(&mut buf, max_fds)?;
        let fds: Vec<i32> = fds.into_iter().map(|f| f.into_raw_fd()).collect();
        let arr = env.new_object_array(2, jni_str!("java/lang/Object"), JObject::null())?;
        let data = new_bytes(env, &buf[..k])?;
        arr.set_element(env, 0, &data)?;
        let ints = env.new_int_array(fds.len())?;
        ints.set_region(env, 0, &fds)?;
        arr.set_element(env, 1, &ints)?;
        Ok(arr)
    })
}

/// `static native long[] connPeerCredentials(long h)`: `{pid, uid, gid}` of a Unix
/// connection's peer (SO_PEERCRED); `UNSUPPORTED` on TCP.
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_connPeerCredentials<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    h: jlong,
) -> jni::objects::JLongArray<'l> {
    run(&mut env, |env| {
        let cr = conn(h)?.peer_credentials()?;
        let arr = env.new_long_array(3)?;
        arr.set_region(env, 0, &[cr.pid as i64, cr.uid as i64, cr.gid as i64])?;
        Ok(arr)
    })
}

/// `static native void dgramSetMulticastInterface(long h, String iface)`: the interface
/// multicast datagrams leave by (null: the system's choice; an IPv4 address, or an IPv6
/// interface index), core's `set_multicast_interface`.
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_dgramSetMulticastInterface<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    h: jlong,
    iface: JString<'l>,
) {
    run(&mut env, |env| {
        let iface = match opt_string(env, &iface, "interface")? {
            None => MulticastInterface::Default,
            Some(s) => s.parse::<MulticastInterface>()?,
        };
        dgram(h)?.set_multicast_interface(iface)?;
        Ok(())
    })
}

/// `static native void proxyCheck(String url)`: core's `Proxy::parse`, so
/// `ConnectOptions.withProxy` refuses a bad URL when it is set, with core's message.
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_proxyCheck<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    url: JString<'l>,
) {
    run(&mut env, |env| {
        let u = string(env, &url, "proxy")?;
        libsock::Proxy::parse(&u)?;
        Ok(())
    })
}

/// The names of `java.io.FileDescriptor`'s `int` field that holds the number: OpenJDK's `fd`,
/// Android's (libcore's) `descriptor`.
const FD_FIELDS: [&str; 2] = ["fd", "descriptor"];

fn no_fd_field() -> JErr {
    JErr::Core(libsock::Error::Unsupported(
        "this JVM's java.io.FileDescriptor has no int field fd or descriptor".to_string(),
    ))
}

/// Read (`set` None) or write the descriptor field, trying each name in turn (a missing one
/// leaves a pending NoSuchFieldError, which is cleared before the next try).
fn fd_field(env: &mut Env<'_>, obj: &JObject<'_>, set: Option<jint>) -> JResult<jint> {
    for name in FD_FIELDS {
        let name = jni::strings::JNIString::from(name);
        let r = match set {
            None => env.get_field(obj, &name, jni_sig!("I")).and_then(|v| v.i()),
            Some(fd) => env
                .set_field(obj, &name, jni_sig!("I"), JValue::Int(fd))
                .map(|()| fd),
        };
        match r {
            Ok(v) => return Ok(v),
            Err(_) => {
                if env.exception_check() {
                    env.exception_clear();
                }
            }
        }
    }
    Err(no_fd_field())
}

/// `static native int fdOf(FileDescriptor fd)`: the descriptor number inside a
/// `java.io.FileDescriptor` (-1 when it is not valid).
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_fdOf<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    fd: JObject<'l>,
) -> jint {
    run(&mut env, |env| {
        if fd.is_null() {
            return Err(JErr::Null("fd"));
        }
        fd_field(env, &fd, None)
    })
}

/// `static native FileDescriptor fdObject(int fd)`: a new `java.io.FileDescriptor` holding `fd`
/// (taken over: closing a stream made on it closes `fd`).
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_fdObject<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    fd: jint,
) -> JObject<'l> {
    run(&mut env, |env| {
        if fd < 0 {
            return Err(invalid(format!("file descriptor {fd} is negative")));
        }
        let o = env.new_object(jni_str!("java/io/FileDescriptor"), jni_sig!("()V"), &[])?;
        fd_field(env, &o, Some(fd))?;
        Ok(o)
    })
}

/// `static native void fdClose(int fd)`: close a descriptor number (one received and not
/// wanted); `IO` with the OS's error for one that is not open.
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_fdClose<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    fd: jint,
) {
    run(&mut env, |_| {
        if fd < 0 {
            return Err(invalid(format!("file descriptor {fd} is negative")));
        }
        // SAFETY: closing a number the caller says it owns; a wrong number is EBADF.
        if unsafe { libc_close(fd) } != 0 {
            return Err(JErr::Core(libsock::Error::os(
                format!("close file descriptor {fd}"),
                std::io::Error::last_os_error(),
            )));
        }
        Ok(())
    })
}

extern "C" {
    #[link_name = "close"]
    fn libc_close(fd: i32) -> i32;
}

/// `static native Object[] connStats(long h)`: a blocking connection's counters (core's
/// `Connection::stats`), in the layout of `serverClientStats`.
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_connStats<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    h: jlong,
) -> JObjectArray<'l> {
    run(&mut env, |env| {
        let st = conn(h)?.stats();
        crate::engine::connection_stats(env, &st)
    })
}
