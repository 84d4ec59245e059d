//! The engine's tokio runtime: started by the first engine object, stopped by [`shutdown`].

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use tokio::runtime::{Handle, Runtime};

use crate::error::{Error, Result};

/// Something the runtime must stop before it goes away.
pub(crate) trait Stoppable: Send + Sync {
    /// Stop at once: close connections, queue the final events, wake waiters.
    fn stop_now(&self);
}

struct State {
    runtime: Option<Runtime>,
    objects: Vec<Weak<dyn Stoppable>>,
}

static STATE: Mutex<State> = Mutex::new(State {
    runtime: None,
    objects: Vec::new(),
});

/// 0 = the default, min(2, cores).
static WORKERS: AtomicUsize = AtomicUsize::new(0);

fn lock() -> std::sync::MutexGuard<'static, State> {
    STATE.lock().unwrap_or_else(|p| p.into_inner())
}

/// Set the number of runtime worker threads (default min(2, cores)). Takes effect when the
/// runtime starts: call it before the first engine object is made, or after [`shutdown`].
/// Returns `true` if the runtime is not running (the value applies to its next start).
pub fn set_worker_threads(n: usize) -> Result<bool> {
    if n == 0 || n > 1024 {
        return Err(Error::invalid(format!(
            "worker threads {n} (must be 1..=1024)"
        )));
    }
    WORKERS.store(n, Ordering::Relaxed);
    Ok(lock().runtime.is_none())
}

/// The worker thread count the runtime uses (or will use when it starts).
pub fn worker_threads() -> usize {
    match WORKERS.load(Ordering::Relaxed) {
        0 => std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
            .min(2),
        n => n,
    }
}

/// True while the engine runtime runs.
pub fn is_running() -> bool {
    lock().runtime.is_some()
}

/// The runtime's handle, starting it if needed, and register `obj` to be stopped by
/// [`shutdown`].
pub(crate) fn handle() -> Result<Handle> {
    let mut st = lock();
    if let Some(rt) = &st.runtime {
        return Ok(rt.handle().clone());
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(worker_threads())
        .thread_name("libsock-engine")
        .enable_io()
        .enable_time()
        // Consumer wake-ups owed by this worker's tasks are paid before it sleeps, so the
        // application takes one batch per round of ready connections (see events::defer).
        .on_thread_park(super::events::defer::flush)
        .on_thread_start(batch_scheduling)
        .on_thread_stop(super::events::defer::stop)
        .build()
        .map_err(|e| Error::os("start the engine runtime", e))?;
    let h = rt.handle().clone();
    st.runtime = Some(rt);
    Ok(h)
}

/// The environment variable that, set to `0`, keeps the engine's threads on the normal
/// scheduling policy instead of `SCHED_BATCH` (read when the runtime starts).
pub const SCHED_BATCH_ENV: &str = "LIBSOCK_SCHED_BATCH";

/// Put the calling runtime thread under `SCHED_BATCH` (Linux) when it runs under the normal
/// policy, unless `LIBSOCK_SCHED_BATCH=0`.
///
/// Same share of the CPU as any normal thread (nice 0), but a runtime thread woken by network
/// input no longer preempts the thread that is running: it runs when that thread blocks or its
/// time slice ends. Without it, on a busy CPU every message arriving preempts the sender or
/// the application, and the runtime thread, the application thread and the peers fall into a
/// lockstep of one message per thread switch (measured: ~30,000 context switches per 100,000
/// round trips, ~25% more CPU per round trip); with it, each thread handles what piled up.
pub(crate) fn batch_scheduling() {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        if std::env::var_os(SCHED_BATCH_ENV).is_some_and(|v| v == "0") {
            return;
        }
        // Only from the normal policy: a real-time or idle policy the application chose (and
        // the runtime's threads inherited) is left alone.
        // SAFETY: plain syscall on the calling thread (pid 0).
        if unsafe { libc::sched_getscheduler(0) } != libc::SCHED_OTHER {
            return;
        }
        let p = libc::sched_param { sched_priority: 0 };
        // SAFETY: plain syscall on the calling thread (pid 0) with a valid parameter.
        unsafe { libc::sched_setscheduler(0, libc::SCHED_BATCH, &p) };
    }
}

/// Register an object for [`shutdown`].
pub(crate) fn register(obj: Weak<dyn Stoppable>) {
    let mut st = lock();
    st.objects.retain(|o| o.strong_count() > 0);
    st.objects.push(obj);
}

/// Stop the engine: every server, client and datagram server is stopped at once (their waiters
/// wake, their last events are queued, later commands fail with `Closed`), then the runtime's
/// threads are joined (up to 5 s), so a C library can be unloaded cleanly. A new engine object
/// made afterwards starts the runtime again. Idempotent; safe from any thread, including a
/// runtime thread (the join then happens on a helper thread).
pub fn shutdown() {
    let (rt, objects) = {
        let mut st = lock();
        (st.runtime.take(), std::mem::take(&mut st.objects))
    };
    for o in objects.iter().filter_map(Weak::upgrade) {
        o.stop_now();
    }
    drop(objects);
    if let Some(rt) = rt {
        if Handle::try_current().is_ok() {
            // Dropping a runtime inside async context panics: do it on a helper thread.
            let _ = std::thread::spawn(move || rt.shutdown_timeout(Duration::from_secs(5)));
        } else {
            rt.shutdown_timeout(Duration::from_secs(5));
        }
    }
}

/// Keep `Arc<T>` registered as a stoppable object.
pub(crate) fn register_arc<T: Stoppable + 'static>(a: &Arc<T>) {
    let w: Weak<T> = Arc::downgrade(a);
    register(w);
}
