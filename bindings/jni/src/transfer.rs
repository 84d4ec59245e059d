//! JNI glue for `io.libsock.FileTransfer`: core's `libsock::transfer::FileTransfer` (a file with
//! its name, size and SHA-256, resumable) behind a handle. Translation only: a step or a run
//! blocks the calling Java thread in core; `cancel` and `progress` from another thread go
//! straight to core's atomics; `close` cancels (a step under way stops at its next piece).

use jni::objects::{JClass, JLongArray, JObject, JObjectArray, JString};
use jni::sys::{jboolean, jint, jlong};
use jni::{jni_str, EnvUnowned};
use libsock::transfer::{FileTransfer, RecvOptions, SendOptions};

use super::{conn, get, insert, jstr, opt_string, run, string, JErr, JResult, Obj};

fn transfer(h: jlong) -> JResult<FileTransfer> {
    match get(h, "file transfer")? {
        Obj::Transfer(t) => Ok(t),
        _ => Err(JErr::BadHandle(h, "file transfer")),
    }
}

/// `static native long transferSender(String path, String name, boolean resume)`: a transfer
/// sending the file at `path` (opened now), announced as `name` (null: the file's own name);
/// `resume` false speaks version 1 of the protocol.
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_transferSender<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    path: JString<'l>,
    name: JString<'l>,
    resume: jboolean,
) -> jlong {
    run(&mut env, |env| {
        let path = string(env, &path, "path")?;
        let mut opts = SendOptions::new().resume(resume);
        opts.name = opt_string(env, &name, "name")?;
        let t = FileTransfer::sender(path, &opts)?;
        insert(Obj::Transfer(t))
    })
}

/// `static native long transferReceiver(String dest, boolean overwrite, boolean resume)`: a
/// transfer receiving one file into `dest` (a file, or a directory for the sender's name).
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_transferReceiver<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    dest: JString<'l>,
    overwrite: jboolean,
    resume: jboolean,
) -> jlong {
    run(&mut env, |env| {
        let dest = string(env, &dest, "dest")?;
        let opts = RecvOptions::new().overwrite(overwrite).resume(resume);
        let t = FileTransfer::receiver(dest, &opts)?;
        insert(Obj::Transfer(t))
    })
}

/// `static native int transferStep(long h, long conn)`: one piece over the connection; the
/// state's code afterwards (core's `TransferState`, 1..5).
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_transferStep<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    h: jlong,
    c: jlong,
) -> jint {
    run(&mut env, |_| {
        let t = transfer(h)?;
        let c = conn(c)?;
        Ok(t.step(&c)?.code())
    })
}

/// `static native void transferRun(long h, long conn)`: the whole transfer over the connection.
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_transferRun<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    h: jlong,
    c: jlong,
) {
    run(&mut env, |_| {
        let t = transfer(h)?;
        let c = conn(c)?;
        t.run(&c)?;
        Ok(())
    })
}

/// `static native long[] transferProgress(long h)`: `{done, total, state code}`.
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_transferProgress<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    h: jlong,
) -> JLongArray<'l> {
    run(&mut env, |env| {
        let p = transfer(h)?.progress();
        let arr = env.new_long_array(3)?;
        let v = [
            p.done.min(i64::MAX as u64) as i64,
            p.total.min(i64::MAX as u64) as i64,
            p.state.code() as i64,
        ];
        arr.set_region(env, 0, &v)?;
        Ok(arr)
    })
}

/// `static native void transferCancel(long h)`: the next step fails with `INTERRUPTED`.
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_transferCancel<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    h: jlong,
) {
    run(&mut env, |_| {
        transfer(h)?.cancel();
        Ok(())
    })
}

/// `static native Object[] transferInfo(long h)`: `{String name, String path, String sha256,
/// String error (or null), long[] {size, version, offered, resumedAt}}`.
#[no_mangle]
pub extern "system" fn Java_io_libsock_Native_transferInfo<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    h: jlong,
) -> JObjectArray<'l> {
    run(&mut env, |env| {
        let t = transfer(h)?;
        let i = t.info();
        let arr = env.new_object_array(5, jni_str!("java/lang/Object"), JObject::null())?;
        let name = jstr(env, &i.name)?;
        arr.set_element(env, 0, &name)?;
        let path = jstr(env, &i.path.to_string_lossy())?;
        arr.set_element(env, 1, &path)?;
        let sha = jstr(env, &i.sha256)?;
        arr.set_element(env, 2, &sha)?;
        if let Some(e) = t.error() {
            let e = jstr(env, &e)?;
            arr.set_element(env, 3, &e)?;
        }
        let nums = env.new_long_array(4)?;
        let clamp = |v: u64| v.min(i64::MAX as u64) as i64;
        nums.set_region(
            env,
            0,
            &[
                clamp(i.size),
                i.version as i64,
                clamp(i.offered),
                clamp(i.resumed_at),
            ],
        )?;
        arr.set_element(env, 4, &nums)?;
        Ok(arr)
    })
}
