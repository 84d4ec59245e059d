//! The event engine: `Server`, `Client`, `DatagramServer`, `Event`, `Heartbeat`.
//!
//! Translation only: keyword arguments to the core configs, core events to `Event` objects,
//! every wait through `wait()` (GIL released, Ctrl-C on the main thread).

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use libsock::engine::{
    Client, ClientConfig, DatagramServer, DatagramServerConfig, DisconnectReason, Event, Heartbeat,
    IdleMode, SendPolicy, Server, ServerConfig, Stat, SEND_WAIT,
};
use libsock::{Framing, SocketOptions};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyDict, PyList, PyTuple};

use crate::conn::is_closed_error;
use crate::convert::*;
use crate::errors::{invalid, to_pyerr, wait, ATTACHED_SEND_MAX};
use crate::framing::framing_arg;

// ---------------------------------------------------------------------------------------------
// Events.

/// One thing an engine object reports, pulled with ``events()`` / ``next_event()``.
///
/// ``kind`` is one of ``"connected"``, ``"message"``, ``"disconnected"``, ``"reconnecting"``,
/// ``"datagram"``, ``"closed"``, ``"warning"`` (``kind_code`` is the stable number 1-7 of every
/// language). Fields that do not apply to a kind are ``None`` (``client`` is 0). ``reason`` of a
/// disconnect is one of ``"peer-closed"``, ``"reset"``, ``"idle-timeout"``,
/// ``"heartbeat-lost"``, ``"frame-too-large"``, ``"kicked"``, ``"server-shutdown"``,
/// ``"error"``, ``"send-queue-full"``, ``"closed"``, ``"tls"`` (``reason_code`` 1-11; ``"tls"``:
/// a failed handshake, a TLS alert, or a peer that closed without ``close_notify``).
///
/// A ``"warning"`` ended no connection but must be seen: ``error_code``
/// ``libsock.ERROR_CODES["QUEUE_FULL"]`` with ``client`` set when a send to that client was
/// refused or a broadcast skipped it because its send queue is full (a slow consumer);
/// ``ERROR_CODES["TLS"]`` with ``client`` 0 when a TLS handshake failed (a server's peer, or a
/// client's attempt); another code with ``client`` 0 when accepting failed (e.g. out of
/// descriptors).
/// ``error`` says what happened in words.
///
/// Example::
///
///     >>> for ev in server.events(timeout=1):
///     ...     if ev.kind == "message":
///     ...         server.send(ev.client, ev.data)
///     ...     elif ev.kind == "disconnected":
///     ...         print(ev.client, ev.reason)
#[pyclass(frozen, module = "libsock", name = "Event")]
pub(crate) struct PyEvent {
    /// The kind (see the `kind` getter).
    kind: &'static str,
    /// The kind's stable number (connected 1, message 2, disconnected 3, reconnecting 4,
    /// datagram 5, closed 6, warning 7). Example: ``ev.kind_code == 2``
    #[pyo3(get)]
    kind_code: i32,
    /// The client id (server) or connection number (client); 0 when the event has none.
    /// Example: ``server.send(ev.client, b"hi")``
    #[pyo3(get)]
    client: u64,
    /// The peer address of ``connected`` and ``datagram`` events, else ``None``.
    /// Example: ``host, port = ev.peer``
    #[pyo3(get)]
    peer: Option<Py<PyAny>>,
    /// The bytes of ``message`` and ``datagram`` events, else ``None``.
    /// Example: ``server.send(ev.client, ev.data)``
    #[pyo3(get)]
    data: Option<Py<PyBytes>>,
    /// Why a ``disconnected`` event happened (``"peer-closed"``, ``"heartbeat-lost"``, ...),
    /// else ``None``. Example: ``if ev.reason == "idle-timeout": ...``
    #[pyo3(get)]
    reason: Option<&'static str>,
    /// The reason's stable number (peer-closed 1 ... closed 10), else ``None``.
    /// Example: ``ev.reason_code == 4``
    #[pyo3(get)]
    reason_code: Option<i32>,
    /// For reason ``"error"``: what went wrong; for a ``"warning"``: what happened; else
    /// ``None``. Example: ``print(ev.error)``
    #[pyo3(get)]
    error: Option<String>,
    /// The stable error code (``libsock.ERROR_CODES``) of a ``"warning"`` (e.g. -14,
    /// ``"QUEUE_FULL"``) or of a disconnect with reason ``"error"``, else ``None``.
    /// Example: ``if ev.error_code == libsock.ERROR_CODES["QUEUE_FULL"]: ...``
    #[pyo3(get)]
    error_code: Option<i32>,
    /// ``reconnecting``: the attempt about to be made (1 for the first retry), else ``None``.
    /// Example: ``print(ev.attempt, ev.delay)``
    #[pyo3(get)]
    attempt: Option<u32>,
    /// ``reconnecting``: seconds the client waits before that attempt, else ``None``.
    /// Example: ``print(ev.attempt, ev.delay)``
    #[pyo3(get)]
    delay: Option<f64>,
}

/// A ``send_policy`` keyword: ``"error"`` or ``"disconnect"``.
pub(crate) fn send_policy_arg(py: Python<'_>, policy: &str) -> PyResult<SendPolicy> {
    match policy {
        "error" => Ok(SendPolicy::Error),
        "disconnect" => Ok(SendPolicy::Disconnect),
        other => Err(invalid(
            py,
            format!("send_policy {other:?} (must be \"error\" or \"disconnect\")"),
        )),
    }
}

/// A ``max_clients`` keyword: ``None`` for no limit (0 is left to core's check).
pub(crate) fn max_clients_arg(py: Python<'_>, n: Option<i128>) -> PyResult<Option<usize>> {
    n.map(|n| ranged(py, "max_clients", n)).transpose()
}

/// The buffers of a ``messages`` iterable (each a bytes-like object).
fn batch_bufs<'py>(messages: &Bound<'py, PyAny>) -> PyResult<Vec<InBuf<'py>>> {
    messages
        .try_iter()?
        .map(|item| InBuf::new(&item?))
        .collect()
}

/// A batch's ``timeout`` in seconds, ``None`` for no limit.
fn batch_timeout(py: Python<'_>, timeout: Option<f64>) -> PyResult<Option<Duration>> {
    timeout.map(|v| secs(py, "timeout", v)).transpose()
}

fn reason_str(r: &DisconnectReason) -> &'static str {
    match r {
        DisconnectReason::PeerClosed => "peer-closed",
        DisconnectReason::Reset => "reset",
        DisconnectReason::IdleTimeout => "idle-timeout",
        DisconnectReason::HeartbeatLost => "heartbeat-lost",
        DisconnectReason::FrameTooLarge => "frame-too-large",
        DisconnectReason::Kicked => "kicked",
        DisconnectReason::ServerShutdown => "server-shutdown",
        DisconnectReason::SendQueueFull => "send-queue-full",
        DisconnectReason::Closed => "closed",
        DisconnectReason::Tls(..) => "tls",
        _ => "error",
    }
}

fn kind_str(k: libsock::engine::EventKind) -> &'static str {
    use libsock::engine::EventKind as K;
    match k {
        K::Connected => "connected",
        K::Message => "message",
        K::Disconnected => "disconnected",
        K::Reconnecting => "reconnecting",
        K::Datagram => "datagram",
        K::Closed => "closed",
        K::Warning => "warning",
        // A kind added to core before this door knows it: named as such, never passed off as
        // another kind.
        _ => "unknown",
    }
}

fn event_to_py(py: Python<'_>, ev: Event, peers: &PeerCache) -> PyResult<PyEvent> {
    let kind = ev.kind();
    let peer = match ev.peer() {
        Some(a) => Some(peers.to_py(py, a)?),
        None => None,
    };
    let data = ev.data().map(|d| PyBytes::new(py, d).unbind());
    let (reason, reason_code, error, error_code) = match (ev.reason(), &ev) {
        (Some(r), _) => (
            Some(reason_str(r)),
            Some(r.code()),
            r.error_kind().map(|_| r.to_string()),
            r.error_kind().map(|k| k.code()),
        ),
        (None, Event::Warning { error, message, .. }) => {
            (None, None, Some(message.clone()), Some(error.code()))
        }
        (None, _) => (None, None, None, None),
    };
    let (attempt, delay) = match &ev {
        Event::Reconnecting { attempt, delay } => (Some(*attempt), Some(delay.as_secs_f64())),
        _ => (None, None),
    };
    Ok(PyEvent {
        kind: kind_str(kind),
        kind_code: kind.code(),
        client: ev.client(),
        peer,
        data,
        reason,
        reason_code,
        error,
        error_code,
        attempt,
        delay,
    })
}

#[pymethods]
impl PyEvent {
    /// The kind: ``"connected"``, ``"message"``, ``"disconnected"``, ``"reconnecting"``,
    /// ``"datagram"``, ``"closed"`` or ``"warning"`` (the same interned string object every time, so
    /// comparing it costs little). Example: ``if ev.kind == "message": ...``
    #[getter]
    fn kind<'py>(&self, py: Python<'py>) -> Bound<'py, pyo3::types::PyString> {
        match self.kind {
            "connected" => pyo3::intern!(py, "connected"),
            "message" => pyo3::intern!(py, "message"),
            "disconnected" => pyo3::intern!(py, "disconnected"),
            "reconnecting" => pyo3::intern!(py, "reconnecting"),
            "datagram" => pyo3::intern!(py, "datagram"),
            "warning" => pyo3::intern!(py, "warning"),
            "closed" => pyo3::intern!(py, "closed"),
            _ => pyo3::intern!(py, "unknown"),
        }
        .clone()
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let mut s = format!("Event(kind={:?}", self.kind).replace('"', "'");
        if self.client != 0 {
            s += &format!(", client={}", self.client);
        }
        if let Some(p) = &self.peer {
            s += &format!(", peer={}", p.bind(py).repr()?);
        }
        if let Some(d) = &self.data {
            let b = d.bind(py).as_bytes();
            if b.len() > 32 {
                let head = PyBytes::new(py, &b[..32]).repr()?;
                s += &format!(", data={head}... ({} bytes)", b.len());
            } else {
                s += &format!(", data={}", d.bind(py).repr()?);
            }
        }
        if let Some(r) = self.reason {
            s += &format!(", reason='{r}'");
        }
        if let Some(c) = self.error_code {
            s += &format!(", error_code={c}");
        }
        if let Some(e) = &self.error {
            s += &format!(", error={e:?}");
        }
        if let (Some(a), Some(d)) = (self.attempt, self.delay) {
            s += &format!(", attempt={a}, delay={d:.3}");
        }
        Ok(s + ")")
    }
}

// ---------------------------------------------------------------------------------------------
// Heartbeat.

/// The application heartbeat of a ``Server`` or ``Client``.
///
/// A ping (``ping`` payload, sent as an ordinary frame) goes out after ``interval`` seconds of
/// silence; the peer is declared dead (``disconnected``, reason ``"heartbeat-lost"``) when
/// nothing arrived for ``interval × misses``. Pings are answered with ``pong`` and neither is
/// delivered as a message. ``active=False`` only answers and filters the peer's pings. Needs a
/// message framing (not ``Raw``).
///
/// Example::
///
///     >>> server = libsock.Server(("127.0.0.1", 0), heartbeat=libsock.Heartbeat(0.5, 3))
#[pyclass(frozen, module = "libsock", name = "Heartbeat")]
pub(crate) struct PyHeartbeat {
    hb: Heartbeat,
}

#[pymethods]
impl PyHeartbeat {
    #[new]
    #[pyo3(signature = (interval, misses = 3, *, ping = None, pong = None, active = true))]
    fn new(
        py: Python<'_>,
        interval: &Bound<'_, PyAny>,
        misses: i128,
        ping: Option<&Bound<'_, PyAny>>,
        pong: Option<&Bound<'_, PyAny>>,
        active: bool,
    ) -> PyResult<Self> {
        let iv = timeout_value(interval)?
            .ok_or_else(|| invalid(py, "heartbeat interval must be a number of seconds"))?;
        let misses: u32 = ranged(py, "misses", misses)?;
        let mut hb = if active {
            Heartbeat::new(iv, misses)
        } else {
            let mut h = Heartbeat::reply_only();
            h.misses = misses;
            h
        };
        if let Some(p) = ping {
            hb.ping = bytes_param(p)?.into();
        }
        if let Some(p) = pong {
            hb.pong = bytes_param(p)?.into();
        }
        Ok(PyHeartbeat { hb })
    }

    /// Seconds of silence before a ping is sent (``None`` when not active).
    /// Example: ``libsock.Heartbeat(0.5, 3).interval == 0.5``
    #[getter]
    fn interval(&self) -> Option<f64> {
        self.hb.interval.map(|d| d.as_secs_f64())
    }

    /// Silent intervals before the peer is declared dead. Example: ``hb.misses``
    #[getter]
    fn misses(&self) -> u32 {
        self.hb.misses
    }

    /// The ping payload (default ``b"\x00LSPING"``). Example: ``hb.ping``
    #[getter]
    fn ping<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.hb.ping)
    }

    /// The pong payload (default ``b"\x00LSPONG"``). Example: ``hb.pong``
    #[getter]
    fn pong<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.hb.pong)
    }

    /// True when pings are sent (False: only the peer's pings are answered).
    /// Example: ``hb.active``
    #[getter]
    fn active(&self) -> bool {
        self.hb.interval.is_some()
    }

    fn __repr__(&self) -> String {
        match self.hb.interval {
            Some(i) => format!(
                "Heartbeat(interval={}, misses={})",
                i.as_secs_f64(),
                self.hb.misses
            ),
            None => "Heartbeat(active=False)".into(),
        }
    }
}

/// `heartbeat=`: None = answer pings only (the default), False = off, a `Heartbeat`.
fn heartbeat_arg(obj: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Heartbeat>> {
    let Some(obj) = obj else {
        return Ok(Some(Heartbeat::reply_only()));
    };
    if obj.is_none() {
        return Ok(Some(Heartbeat::reply_only()));
    }
    if let Ok(b) = obj.cast::<PyBool>() {
        return Ok(if b.is_true() {
            Some(Heartbeat::reply_only())
        } else {
            None
        });
    }
    if let Ok(h) = obj.cast::<PyHeartbeat>() {
        return Ok(Some(h.get().hb.clone()));
    }
    Err(PyTypeError::new_err(format!(
        "heartbeat must be a libsock.Heartbeat, None or False, not {}",
        type_name(obj)
    )))
}

fn engine_framing(obj: Option<&Bound<'_, PyAny>>) -> PyResult<Framing> {
    match obj {
        Some(o) if !o.is_none() => framing_arg(Some(o)),
        _ => Ok(Framing::length_prefixed()),
    }
}

pub(crate) fn engine_options(
    py: Python<'_>,
    kwargs: Option<&Bound<'_, PyDict>>,
    func: &str,
    nodelay: bool,
) -> PyResult<SocketOptions> {
    let mut o = socket_options(py, kwargs, func)?;
    if nodelay && o.nodelay.is_none() {
        o.nodelay = Some(true);
    }
    Ok(o)
}

fn parse_idle_mode(py: Python<'_>, s: &str) -> PyResult<IdleMode> {
    match s {
        "reads" => Ok(IdleMode::Reads),
        // Words as strings are lower case joined by hyphens in every door (docs/NAMES.md);
        // "reads_and_writes" is the former spelling.
        "reads-and-writes" | "reads_and_writes" => Ok(IdleMode::ReadsAndWrites),
        _ => Err(invalid(
            py,
            format!("idle_mode {s:?} (must be \"reads\" or \"reads-and-writes\")"),
        )),
    }
}

pub(crate) fn secs(py: Python<'_>, what: &str, v: f64) -> PyResult<Duration> {
    Duration::try_from_secs_f64(v).map_err(|_| {
        invalid(
            py,
            format!("{what} {v} must be a non-negative number of seconds"),
        )
    })
}

/// A send's `timeout=`: `Ok(None)` for 0 (do not wait: the plain send), else the wait
/// (`Some(None)` = as long as it takes).
fn send_wait(py: Python<'_>, timeout: Option<f64>) -> PyResult<Option<Option<Duration>>> {
    match timeout {
        Some(0.0) => Ok(None),
        Some(v) => Ok(Some(Some(secs(py, "timeout", v)?))),
        None => Ok(Some(None)),
    }
}

pub(crate) fn opt_secs(obj: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Duration>> {
    opt_timeout(obj)
}

// ---------------------------------------------------------------------------------------------
// The pull API shared by the three objects.

pub(crate) trait Pull: Sync {
    fn pull(&self, max: usize, t: Option<Duration>) -> libsock::Result<Vec<Event>>;
    fn waiting(&self) -> usize;
    /// Wait up to `t` until an event is waiting (`Ok(false)` on timeout), without taking it.
    fn wait_ready(&self, t: Option<Duration>) -> libsock::Result<bool>;
    /// Take the messages at the front now (no wait), each handed to `f` as a view: how many.
    fn take_messages(&self, max: usize, f: &mut dyn FnMut(u64, &[u8])) -> libsock::Result<usize>;
}

macro_rules! impl_pull {
    ($t:ty) => {
        impl Pull for $t {
            fn pull(&self, max: usize, t: Option<Duration>) -> libsock::Result<Vec<Event>> {
                self.next_events(max, t)
            }
            fn waiting(&self) -> usize {
                self.pending()
            }
            fn wait_ready(&self, t: Option<Duration>) -> libsock::Result<bool> {
                Ok(self.peek_len(t)?.is_some())
            }
            fn take_messages(
                &self,
                max: usize,
                f: &mut dyn FnMut(u64, &[u8]),
            ) -> libsock::Result<usize> {
                Ok(self
                    .next_messages_with(max, Some(Duration::ZERO), |c, d| f(c, d))?
                    .unwrap_or(0))
            }
        }
    };
}
impl_pull!(Server);
impl_pull!(Client);
impl_pull!(DatagramServer);
impl_pull!(libsock::kcp::KcpServer);

/// The last peer address handed to Python, with the tuple made for it. A datagram server's
/// events mostly come from a few peers, and replies go back to `ev.peer`: the same tuple object
/// is handed out again for the same address (tuples are immutable), and `send_to` given that
/// very object takes the address without parsing it. Saves a string formatting and a parse per
/// datagram.
#[derive(Default)]
pub(crate) struct PeerCache {
    /// The last peer handed out, and its tuple.
    last: Mutex<Option<(libsock::Addr, Py<PyAny>)>>,
    /// The last IP-literal address object given to `send_to`, and its address.
    sent: Mutex<Option<(libsock::Addr, Py<PyAny>)>>,
}

impl PeerCache {
    /// The Python form of `a` (see `addr_to_py`), the cached object when it is the last one.
    fn to_py(&self, py: Python<'_>, a: &libsock::Addr) -> PyResult<Py<PyAny>> {
        let mut c = self.last.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((addr, obj)) = c.as_ref() {
            if addr == a {
                return Ok(obj.clone_ref(py));
            }
        }
        let obj = addr_to_py(py, a)?.unbind();
        *c = Some((a.clone(), obj.clone_ref(py)));
        Ok(obj)
    }

    /// The address of `obj` if it is the peer tuple last handed out or the address object
    /// last sent to, or a `(ip, port)` tuple (then remembered): `None` for anything else.
    fn addr_of(&self, obj: &Bound<'_, PyAny>) -> Option<libsock::Addr> {
        for slot in [&self.last, &self.sent] {
            let c = slot.lock().unwrap_or_else(|p| p.into_inner());
            if let Some((addr, cached)) = c.as_ref() {
                if obj.is(cached) {
                    return Some(addr.clone());
                }
            }
        }
        let addr = ip_tuple(obj)?;
        *self.sent.lock().unwrap_or_else(|p| p.into_inner()) =
            Some((addr.clone(), obj.clone().unbind()));
        Some(addr)
    }
}

/// An engine object plus the events a `serve_forever` handler left unhandled (when it stopped
/// or raised), handed out first by the next pull so that nothing is lost.
pub(crate) struct Door<T> {
    pub(crate) obj: T,
    left: Mutex<VecDeque<Event>>,
    peers: PeerCache,
}

impl<T: Pull> Door<T> {
    pub(crate) fn new(obj: T) -> Self {
        Door {
            obj,
            left: Mutex::new(VecDeque::new()),
            peers: PeerCache::default(),
        }
    }

    fn take_left(&self, max: usize) -> Vec<Event> {
        let mut l = self.left.lock().unwrap_or_else(|p| p.into_inner());
        let n = max.min(l.len());
        l.drain(..n).collect()
    }

    pub(crate) fn events(
        &self,
        py: Python<'_>,
        timeout: Option<&Bound<'_, PyAny>>,
        max: i128,
    ) -> PyResult<Vec<PyEvent>> {
        let t = opt_timeout(timeout)?;
        // max 0 is refused by core (InvalidArgument), as in every door.
        let max: usize = ranged(py, "max", max)?;
        let mut evs = self.take_left(max);
        if evs.is_empty() {
            let obj = &self.obj;
            evs = wait(py, || obj.pull(max, t))?;
        }
        evs.into_iter()
            .map(|e| event_to_py(py, e, &self.peers))
            .collect()
    }

    pub(crate) fn next_event(
        &self,
        py: Python<'_>,
        timeout: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Option<PyEvent>> {
        Ok(self.events(py, timeout, 1)?.pop())
    }

    /// The `message` events at the head of the queue (up to `max`, waiting up to `timeout` for
    /// the first event), as `(client, data)`: no event object per message. The first event of
    /// another kind stays queued for `events()`; an empty list means the timeout passed or such
    /// an event is next.
    pub(crate) fn messages<'py>(
        &self,
        py: Python<'py>,
        timeout: Option<&Bound<'_, PyAny>>,
        max: i128,
    ) -> PyResult<Vec<(u64, Bound<'py, PyBytes>)>> {
        let t = opt_timeout(timeout)?;
        let max: usize = ranged(py, "max", max)?;
        let mut evs: VecDeque<Event> = self.take_left(max).into();
        let obj = &self.obj;
        // A timeout too large for the clock waits as long as no timeout.
        let deadline = t.and_then(|d| std::time::Instant::now().checked_add(d));
        while evs.is_empty() {
            // Wait without the GIL, then copy each message from the queue's blocks straight
            // into its bytes object (no event, slice or reference count per message).
            let left = deadline.map(|d| d.saturating_duration_since(std::time::Instant::now()));
            if !wait(py, || obj.wait_ready(left))? {
                return Ok(Vec::new());
            }
            let mut out = Vec::new();
            obj.take_messages(max, &mut |client, data| {
                out.push((client, PyBytes::new(py, data)))
            })
            .map_err(|e| to_pyerr(py, e))?;
            if !out.is_empty() {
                return Ok(out);
            }
            // Another event is first: the event path. (Empty: another thread took what was
            // there; wait again for the time left.)
            evs = wait(py, || obj.pull(max, Some(Duration::ZERO)))?.into();
        }
        let mut out = Vec::with_capacity(evs.len());
        while let Some(Event::Message { client, data }) = evs.front() {
            out.push((*client, PyBytes::new(py, data)));
            evs.pop_front();
        }
        self.give_back(evs);
        Ok(out)
    }

    /// [`messages`](Self::messages) for a server: `(client, data)` tuples, or with `grouped`
    /// one `(client, [data, ...])` per run of consecutive messages from one client (a tuple per
    /// run, not per message: the batch goes back with one `send_batch`).
    pub(crate) fn server_messages<'py>(
        &self,
        py: Python<'py>,
        timeout: Option<&Bound<'_, PyAny>>,
        max: i128,
        grouped: bool,
    ) -> PyResult<Bound<'py, PyList>> {
        let got = self.messages(py, timeout, max)?;
        if !grouped {
            return PyList::new(py, got);
        }
        let out = PyList::empty(py);
        let mut run: Vec<Bound<'py, PyBytes>> = Vec::new();
        let mut who = None;
        for (client, data) in got {
            if let Some(w) = who.filter(|w| *w != client) {
                out.append((w, PyList::new(py, std::mem::take(&mut run))?))?;
            }
            who = Some(client);
            run.push(data);
        }
        if let Some(w) = who {
            out.append((w, PyList::new(py, run)?))?;
        }
        Ok(out)
    }

    pub(crate) fn serve_forever(
        &self,
        py: Python<'_>,
        handler: &Bound<'_, PyAny>,
        poll: f64,
    ) -> PyResult<()> {
        let poll = secs(py, "poll", poll)?;
        loop {
            let mut batch: VecDeque<Event> = self.take_left(64).into();
            if batch.is_empty() {
                let obj = &self.obj;
                match wait(py, || obj.pull(64, Some(poll))) {
                    Ok(v) => batch = v.into(),
                    Err(e) if is_closed_error(py, &e) => return Ok(()),
                    Err(e) => return Err(e),
                }
            }
            while let Some(ev) = batch.pop_front() {
                let r = event_to_py(py, ev, &self.peers).and_then(|e| handler.call1((e,)));
                let stop = match r {
                    Ok(v) => v.is(&*PyBool::new(py, false)),
                    Err(e) => {
                        self.give_back(batch);
                        return Err(e);
                    }
                };
                if stop {
                    self.give_back(batch);
                    return Ok(());
                }
            }
        }
    }

    fn give_back(&self, batch: VecDeque<Event>) {
        if batch.is_empty() {
            return;
        }
        let mut l = self.left.lock().unwrap_or_else(|p| p.into_inner());
        for ev in batch.into_iter().rev() {
            l.push_front(ev);
        }
    }

    pub(crate) fn pending(&self) -> usize {
        self.left.lock().unwrap_or_else(|p| p.into_inner()).len() + self.obj.waiting()
    }
}

/// The statistics an object keeps (`get` gives `None` for the others), keyed by core's `Stat`
/// names in lower case: the same words as `LS_STAT_*` and every door's fields.
fn stats_of<'py>(
    py: Python<'py>,
    get: impl Fn(Stat) -> Option<u64>,
) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    for k in Stat::ALL {
        if let Some(v) = get(k) {
            d.set_item(k.name().to_ascii_lowercase(), v)?;
        }
    }
    Ok(d)
}

// ---------------------------------------------------------------------------------------------
// Server.

/// An event-driven TCP or Unix server: the engine (Rust threads) accepts clients, reads their
/// framed messages and sends your replies; Python pulls events in batches.
///
/// ``address`` as for ``listen`` (``("127.0.0.1", 0)``, ``"[::]:8000"``, ``"unix:/path"``).
/// ``framing`` (default ``LengthPrefixed()``) cuts every connection into messages.
/// ``max_clients`` (``None``: no limit; 0 raises ``InvalidArgumentError``) closes extra
/// connections at once; ``send_queue_bytes`` bounds each client's send queue (a message larger
/// than it raises ``FrameTooLargeError``, even into an empty queue) and ``send_policy`` says what
/// a full one does: ``"error"`` (``send`` raises ``QueueFullError``, broadcasts skip the client,
/// and a ``warning`` event tells once per episode) or ``"disconnect"`` (the slow client is
/// disconnected with reason ``"send-queue-full"``). ``event_capacity`` bounds the
/// event queue: when you do not pull, the engine stops reading sockets (nothing is dropped).
/// ``idle_timeout`` (seconds) closes silent clients; ``idle_mode`` is ``"reads"`` or
/// ``"reads-and-writes"``. ``heartbeat``: ``None`` answers the peers' pings (default), a
/// ``Heartbeat`` also sends pings and detects dead peers, ``False`` turns pings off.
/// ``close_timeout`` limits a graceful ``disconnect``. ``tls=libsock.TLS(cert=..., key=...)``
/// serves TLS: handshakes run in the engine (within the handshake timeout), a client is
/// ``connected`` once its handshake is done (``tls_info(client)`` tells what was agreed), and a
/// failed handshake is a ``warning`` (error_code of ``TlsError``) counted in
/// ``stats()["tls_failures"]``. Socket options are keyword arguments (``nodelay`` is on unless
/// ``nodelay=False``).
///
/// Events: ``connected`` (client, peer), ``message`` (client, data), ``disconnected`` (client,
/// reason), ``warning`` (error_code, error: a slow consumer, a failed accept, a failed TLS
/// handshake), and a final
/// ``closed`` after ``shutdown``; then ``events()`` raises
/// ``ClosedError``. Every method may be called from any thread; ``shutdown`` from another
/// thread wakes a blocked ``events()``. ``fileno()`` is readable while events wait (for
/// ``select``/``asyncio``).
///
/// Example::
///
///     >>> with libsock.Server(("127.0.0.1", 0)) as server:
///     ...     for ev in server.events(timeout=1.0):
///     ...         if ev.kind == "message":
///     ...             server.send(ev.client, ev.data)   # echo
#[pyclass(frozen, module = "libsock", name = "Server")]
pub(crate) struct PyServer {
    d: Door<Server>,
}

#[pymethods]
impl PyServer {
    #[new]
    #[pyo3(signature = (address, *, framing = None, max_clients = None,
                        send_queue_bytes = 4194304, send_policy = "error",
                        event_capacity = 4096, idle_timeout = None, idle_mode = "reads",
                        heartbeat = None, backlog = 1024, remove_stale = false,
                        close_timeout = 5.0, tls = None, **options))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        address: &Bound<'_, PyAny>,
        framing: Option<&Bound<'_, PyAny>>,
        max_clients: Option<i128>,
        send_queue_bytes: i128,
        send_policy: &str,
        event_capacity: i128,
        idle_timeout: Option<&Bound<'_, PyAny>>,
        idle_mode: &str,
        heartbeat: Option<&Bound<'_, PyAny>>,
        backlog: i128,
        remove_stale: bool,
        close_timeout: f64,
        tls: Option<&Bound<'_, crate::tls::PyTls>>,
        options: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Self> {
        let ep = endpoint(address)?;
        let policy = send_policy_arg(py, send_policy)?;
        // 0 is refused by core's validation, with the same message as in every door.
        let max_clients = max_clients_arg(py, max_clients)?;
        let cfg = ServerConfig::new()
            .framing(engine_framing(framing)?)
            .options(engine_options(py, options, "Server", true)?)
            .backlog(ranged(py, "backlog", backlog)?)
            .remove_stale(remove_stale)
            .max_clients_opt(max_clients)
            .send_queue_bytes(ranged(py, "send_queue_bytes", send_queue_bytes)?)
            .send_policy(policy)
            .event_capacity(ranged(py, "event_capacity", event_capacity)?)
            .idle_timeout(opt_secs(idle_timeout)?, parse_idle_mode(py, idle_mode)?)
            .heartbeat(heartbeat_arg(heartbeat)?)
            .close_timeout(secs(py, "close_timeout", close_timeout)?);
        let cfg = match tls {
            Some(t) => cfg.tls(t.get().server(py)?),
            None => cfg,
        };
        let s = wait(py, move || Server::bind(&ep, cfg))?;
        Ok(PyServer { d: Door::new(s) })
    }

    /// Take up to ``max`` events, waiting up to ``timeout`` seconds for the first (``None``
    /// = forever, ``0`` = poll). An **empty list means the timeout passed**. The GIL is
    /// released while waiting and Ctrl-C works. After the final ``closed`` event:
    /// ``ClosedError``.
    ///
    /// Example::
    ///
    ///     >>> for ev in server.events(timeout=0.5):
    ///     ...     print(ev)
    #[pyo3(signature = (timeout = None, max = 64))]
    fn events(
        &self,
        py: Python<'_>,
        timeout: Option<&Bound<'_, PyAny>>,
        max: i128,
    ) -> PyResult<Vec<PyEvent>> {
        self.d.events(py, timeout, max)
    }

    /// One event, or ``None`` when ``timeout`` passed.
    ///
    /// Example::
    ///
    ///     >>> ev = server.next_event(timeout=5)
    #[pyo3(signature = (timeout = None))]
    fn next_event(
        &self,
        py: Python<'_>,
        timeout: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Option<PyEvent>> {
        self.d.next_event(py, timeout)
    }

    /// Queue ``data`` (any bytes-like object) as one message to ``client``. ``ClosedError``
    /// for a client that is gone. When its send queue is full: with ``timeout=0`` (the
    /// default) ``QueueFullError`` at once (``send_policy="error"``); otherwise wait for room
    /// up to ``timeout`` seconds (``None`` = as long as it takes; woken when the queue drains,
    /// the GIL released), then ``TimeoutError``. ``FrameTooLargeError`` for a message larger
    /// than ``send_queue_bytes``.
    ///
    /// Example::
    ///
    ///     >>> server.send(ev.client, b"welcome")
    ///     >>> server.send(ev.client, big_reply, timeout=5.0)   # wait for a slow client
    #[pyo3(signature = (client, data, *, timeout = Some(0.0)))]
    fn send(
        &self,
        py: Python<'_>,
        client: u64,
        data: &Bound<'_, PyAny>,
        timeout: Option<f64>,
    ) -> PyResult<()> {
        let b = InBuf::new(data)?;
        let s = b.as_slice();
        let obj = &self.d.obj;
        match send_wait(py, timeout)? {
            None => obj.send(client, s).map_err(|e| to_pyerr(py, e)),
            Some(t) => wait(py, || obj.send_timeout(client, s, t)),
        }
    }

    /// The messages at the head of the event queue as a list of ``(client, data)`` tuples (up
    /// to ``max``, waiting up to ``timeout`` seconds for the first event): the fast path for a
    /// stream of messages, with no event object per message. It stops before the first event of
    /// another kind, which ``events()`` then returns; so an **empty list** means the timeout
    /// passed *or* another kind of event is next (call ``events()``).
    ///
    /// With ``grouped=True`` the list holds one ``(client, [data, ...])`` per run of
    /// consecutive messages from one client, in arrival order: one tuple per run instead of one
    /// per message, and the run goes back with one ``send_batch``.
    ///
    /// Example::
    ///
    ///     >>> for client, data in server.messages(timeout=1.0):
    ///     ...     server.send(client, data)
    ///     >>> for client, batch in server.messages(1.0, 1024, grouped=True):
    ///     ...     server.send_batch(client, batch)
    #[pyo3(signature = (timeout = None, max = 64, *, grouped = false))]
    fn messages<'py>(
        &self,
        py: Python<'py>,
        timeout: Option<&Bound<'_, PyAny>>,
        max: i128,
        grouped: bool,
    ) -> PyResult<Bound<'py, PyList>> {
        self.d.server_messages(py, timeout, max, grouped)
    }

    /// Queue several messages to ``client`` in order, as one batch (at most one wake-up of the
    /// engine, written together), waiting for room as ``send(..., timeout=...)`` does, all within
    /// one ``timeout`` (``None`` = as long as it takes). Every message is checked first, so a
    /// bad one queues none. Returns how many were queued: all, or fewer when the time ran out
    /// (or the client went) after some were.
    ///
    /// Example: ``server.send_batch(ev.client, [b"a", b"b"], timeout=5.0)``
    #[pyo3(signature = (client, messages, *, timeout = None))]
    fn send_batch(
        &self,
        py: Python<'_>,
        client: u64,
        messages: &Bound<'_, PyAny>,
        timeout: Option<f64>,
    ) -> PyResult<usize> {
        let bufs = batch_bufs(messages)?;
        let slices: Vec<&[u8]> = bufs.iter().map(|b| b.as_slice()).collect();
        let t = batch_timeout(py, timeout)?;
        let obj = &self.d.obj;
        wait(py, || obj.send_batch(client, &slices, t))
    }

    /// Queue ``data`` to each of ``clients`` (encoded once); returns how many got it (clients
    /// that are gone or, under ``send_policy="error"``, full, are skipped).
    ///
    /// Example::
    ///
    ///     >>> n = server.send_many([1, 2, 3], b"news")
    fn send_many(
        &self,
        py: Python<'_>,
        clients: Vec<u64>,
        data: &Bound<'_, PyAny>,
    ) -> PyResult<usize> {
        let b = InBuf::new(data)?;
        self.d
            .obj
            .send_many(&clients, b.as_slice())
            .map_err(|e| to_pyerr(py, e))
    }

    /// Queue ``data`` to every connected client except ``except_``; returns how many got it.
    ///
    /// Example::
    ///
    ///     >>> server.broadcast(b"tick")
    ///     >>> server.broadcast(ev.data, except_=ev.client)    # a chat room
    #[pyo3(signature = (data, except_ = None))]
    fn broadcast(
        &self,
        py: Python<'_>,
        data: &Bound<'_, PyAny>,
        except_: Option<u64>,
    ) -> PyResult<usize> {
        let b = InBuf::new(data)?;
        self.d
            .obj
            .broadcast(b.as_slice(), except_)
            .map_err(|e| to_pyerr(py, e))
    }

    /// Disconnect ``client``: ``graceful`` delivers what is queued first, then closes;
    /// otherwise the connection is cut at once. Returns at once; a ``disconnected`` event with
    /// reason ``"kicked"`` follows. ``ClosedError`` for a client that is gone.
    ///
    /// Example::
    ///
    ///     >>> server.disconnect(ev.client)
    #[pyo3(signature = (client, graceful = true))]
    fn disconnect(&self, py: Python<'_>, client: u64, graceful: bool) -> PyResult<()> {
        self.d
            .obj
            .disconnect(client, graceful)
            .map_err(|e| to_pyerr(py, e))
    }

    /// The connected clients as a list of ``(client_id, peer_address)``, by id.
    ///
    /// Example::
    ///
    ///     >>> for cid, peer in server.clients(): print(cid, peer)
    fn clients<'py>(&self, py: Python<'py>) -> PyResult<Vec<(u64, Bound<'py, PyAny>)>> {
        self.d
            .obj
            .clients()
            .iter()
            .map(|(id, a)| Ok((*id, addr_to_py(py, a)?)))
            .collect()
    }

    /// The address of a connected client (``ClosedError`` when it is gone).
    /// (``peer_address(client)``, its former name, still works.)
    ///
    /// Example: ``server.client_address(ev.client)``
    fn client_address<'py>(&self, py: Python<'py>, client: u64) -> PyResult<Bound<'py, PyAny>> {
        let a = self.d.obj.peer_addr(client).map_err(|e| to_pyerr(py, e))?;
        addr_to_py(py, &a)
    }

    /// Same as ``client_address`` (its former name).
    ///
    /// Example: ``server.peer_address(ev.client)``
    fn peer_address<'py>(&self, py: Python<'py>, client: u64) -> PyResult<Bound<'py, PyAny>> {
        self.client_address(py, client)
    }

    /// What ``client``'s TLS handshake agreed on (the dict of ``Connection.tls_info``: version,
    /// cipher, ALPN, the client's certificate when it sent one); ``None`` on a plaintext
    /// server. ``ClosedError`` for a client that is gone.
    ///
    /// Example: ``server.tls_info(ev.client)["peer_fingerprint"]``
    fn tls_info<'py>(&self, py: Python<'py>, client: u64) -> PyResult<Option<Bound<'py, PyDict>>> {
        let i = self.d.obj.tls_info(client).map_err(|e| to_pyerr(py, e))?;
        i.map(|i| crate::tls::info_dict(py, &i)).transpose()
    }

    /// One client's counters as a dict: ``peer``, ``connected_since`` (seconds since the epoch,
    /// like ``time.time()``), ``bytes_in``, ``bytes_out``, ``messages_in``, ``messages_out``,
    /// ``queued_bytes``, ``tls``. ``ClosedError`` for a client that is gone.
    ///
    /// Example: ``server.client_stats(ev.client)["bytes_in"]``
    fn client_stats<'py>(&self, py: Python<'py>, client: u64) -> PyResult<Bound<'py, PyDict>> {
        let st = self
            .d
            .obj
            .client_stats(client)
            .map_err(|e| to_pyerr(py, e))?;
        connection_stats_dict(py, &st)
    }

    /// Bytes waiting in ``client``'s send queue.
    ///
    /// Example: ``server.queued_bytes(ev.client)``
    fn queued_bytes(&self, py: Python<'_>, client: u64) -> PyResult<usize> {
        self.d.obj.queued_bytes(client).map_err(|e| to_pyerr(py, e))
    }

    /// Counters as a dict, keyed by core's statistic names in lower case (docs/NAMES.md):
    /// ``connections``, ``connections_total``, ``refused``, ``bytes_in``, ``bytes_out``,
    /// ``messages_in``, ``messages_out``, ``queued_bytes``, ``events_queued``,
    /// ``send_queue_full`` (sends refused and broadcast deliveries skipped because a client's
    /// send queue was full), ``accept_errors`` (failed accepts, e.g. out of descriptors),
    /// ``tls_failures`` (failed TLS handshakes, each also a ``warning`` event).
    ///
    /// Example: ``server.stats()["connections"]``
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let s = self.d.obj.stats();
        stats_of(py, |k| s.get(k))
    }

    /// Stop: no new clients; each client's queued messages are delivered within ``grace``
    /// seconds, then every connection is closed (``disconnected``, reason
    /// ``"server-shutdown"``) and the final ``closed`` event is queued. Blocks until done (GIL
    /// released). Wakes every thread blocked in ``events()``. Idempotent.
    ///
    /// Example: ``server.shutdown(grace=2.0)``
    #[pyo3(signature = (grace = 1.0))]
    fn shutdown(&self, py: Python<'_>, grace: f64) -> PyResult<()> {
        let g = secs(py, "grace", grace)?;
        let s = &self.d.obj;
        py.detach(|| s.shutdown(g));
        Ok(())
    }

    /// Same as ``shutdown(grace)``.
    ///
    /// Example: ``server.close()``
    #[pyo3(signature = (grace = 1.0))]
    fn close(&self, py: Python<'_>, grace: f64) -> PyResult<()> {
        self.shutdown(py, grace)
    }

    /// Call ``handler(event)`` for every event until the server is shut down (after its
    /// ``closed`` event) or ``handler`` returns ``False`` (exactly ``False``; ``None`` goes
    /// on). Events not yet handled when it stops (or raises) are kept for the next
    /// ``events()``. ``poll`` bounds each wait (seconds). Another thread may call
    /// ``shutdown()`` to end it.
    ///
    /// Example::
    ///
    ///     >>> def echo(ev):
    ///     ...     if ev.kind == "message":
    ///     ...         server.send(ev.client, ev.data)
    ///     >>> server.serve_forever(echo)
    #[pyo3(signature = (handler, *, poll = 0.5))]
    fn serve_forever(&self, py: Python<'_>, handler: &Bound<'_, PyAny>, poll: f64) -> PyResult<()> {
        self.d.serve_forever(py, handler, poll)
    }

    /// A file descriptor readable while events wait (level-triggered; stays readable once
    /// closed). For ``select``, ``selectors`` and ``asyncio``'s ``add_reader``; do not read
    /// or close it.
    ///
    /// Example: ``select.select([server], [], [], 1.0)``
    fn fileno(&self) -> i32 {
        self.d.obj.notify_fd()
    }

    /// Same as ``fileno()``.
    ///
    /// Example: ``loop.add_reader(server.notify_fd, callback)``
    #[getter]
    fn notify_fd(&self) -> i32 {
        self.d.obj.notify_fd()
    }

    /// Events waiting to be pulled now (``pending``, its former name, still works).
    ///
    /// Example: ``server.pending_events``
    #[getter]
    fn pending_events(&self) -> usize {
        self.d.pending()
    }

    /// Same as ``pending_events`` (its former name).
    ///
    /// Example: ``server.pending``
    #[getter]
    fn pending(&self) -> usize {
        self.d.pending()
    }

    /// The bound address (with the real port when 0 was asked).
    ///
    /// Example: ``host, port = server.address``
    #[getter]
    fn address<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        addr_to_py(py, &self.d.obj.local_addr())
    }

    /// True once ``shutdown`` has begun.
    ///
    /// Example: ``server.shutdown(); assert server.closed``
    #[getter]
    fn closed(&self) -> bool {
        self.d.obj.is_shut_down()
    }

    fn __enter__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(&self, py: Python<'_>, _args: &Bound<'_, PyTuple>) -> PyResult<bool> {
        self.shutdown(py, 1.0)?;
        Ok(false)
    }

    fn __repr__(&self) -> String {
        let state = if self.d.obj.is_shut_down() {
            " closed"
        } else {
            ""
        };
        format!(
            "<libsock.Server address={} clients={}{state}>",
            self.d.obj.local_addr(),
            self.d.obj.stats().connections
        )
    }
}

// ---------------------------------------------------------------------------------------------
// Client.

/// A long-lived connection kept up by the engine: it connects in the background, reconnects
/// with backoff when the connection is lost, and sends what was queued meanwhile, in order.
///
/// ``reconnect`` (default on); ``backoff=(min, max)`` seconds (doubling from ``min``);
/// ``jitter`` randomizes each delay within [delay/2, delay]; ``max_attempts`` failed attempts
/// in a row before giving up (0 = never); ``connect_timeout`` limits one attempt;
/// ``send_queue_bytes`` bounds the queue (``QueueFullError`` beyond). ``framing``,
/// ``idle_timeout``, ``idle_mode``, ``heartbeat`` and socket options as for ``Server``.
/// ``tls=libsock.TLS(...)`` (or ``True`` for the system's roots) speaks TLS on every connection,
/// reconnects included; a failed handshake is a failed attempt with a ``warning`` saying why,
/// and when the client gives up, its ``disconnected`` has reason ``"tls"``. A peer that closes
/// without ``close_notify`` ends the connection with reason ``"tls"`` (a truncation).
/// ``proxy="socks5://user:pass@host:port"`` (or ``"http://host:port"`` for an HTTP CONNECT
/// proxy) makes every attempt, reconnects included, go through that proxy (see
/// ``libsock.connect``); the ``connected`` event's peer is then the proxy's address.
///
/// Events: ``connected`` (client = connection number, peer), ``message``, ``disconnected``,
/// ``reconnecting`` (attempt, delay), ``warning``, and a final ``closed`` after ``close()`` or
/// giving up.
///
/// Example::
///
///     >>> with libsock.Client(("127.0.0.1", 7000)) as client:
///     ...     client.send(b"hello")          # queued until connected
///     ...     for ev in client.events(timeout=5):
///     ...         print(ev)
#[pyclass(frozen, module = "libsock", name = "Client")]
pub(crate) struct PyClient {
    d: Door<Client>,
}

#[pymethods]
impl PyClient {
    #[new]
    #[pyo3(signature = (address, *, framing = None, reconnect = true, backoff = (0.1, 10.0),
                        jitter = true, max_attempts = 0, connect_timeout = 10.0,
                        send_queue_bytes = 4194304, event_capacity = 4096,
                        idle_timeout = None, idle_mode = "reads", heartbeat = None,
                        tls = None, proxy = None, **options))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        address: &Bound<'_, PyAny>,
        framing: Option<&Bound<'_, PyAny>>,
        reconnect: bool,
        backoff: (f64, f64),
        jitter: bool,
        max_attempts: i128,
        connect_timeout: f64,
        send_queue_bytes: i128,
        event_capacity: i128,
        idle_timeout: Option<&Bound<'_, PyAny>>,
        idle_mode: &str,
        heartbeat: Option<&Bound<'_, PyAny>>,
        tls: Option<&Bound<'_, PyAny>>,
        proxy: Option<&str>,
        options: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Self> {
        let ep = endpoint(address)?;
        let tls = crate::tls::client_tls(py, tls)?;
        let proxy = crate::conn::proxy_arg(py, proxy)?;
        let cfg = ClientConfig::new()
            .framing(engine_framing(framing)?)
            .options(engine_options(py, options, "Client", true)?)
            .reconnect(reconnect)
            .backoff(
                secs(py, "backoff min", backoff.0)?,
                secs(py, "backoff max", backoff.1)?,
            )
            .jitter(jitter)
            .max_attempts(ranged(py, "max_attempts", max_attempts)?)
            .connect_timeout(secs(py, "connect_timeout", connect_timeout)?)
            .send_queue_bytes(ranged(py, "send_queue_bytes", send_queue_bytes)?)
            .event_capacity(ranged(py, "event_capacity", event_capacity)?)
            .idle_timeout(opt_secs(idle_timeout)?, parse_idle_mode(py, idle_mode)?)
            .heartbeat(heartbeat_arg(heartbeat)?);
        let cfg = match tls {
            Some(t) => cfg.tls(t),
            None => cfg,
        };
        let cfg = match proxy {
            Some(p) => cfg.proxy(p),
            None => cfg,
        };
        let c = wait(py, move || Client::connect(&ep, cfg))?;
        Ok(PyClient { d: Door::new(c) })
    }

    /// Take up to ``max`` events, waiting up to ``timeout`` seconds for the first; an empty
    /// list means the timeout passed. ``ClosedError`` after the final ``closed`` event.
    ///
    /// Example::
    ///
    ///     >>> for ev in client.events(timeout=1): print(ev)
    #[pyo3(signature = (timeout = None, max = 64))]
    fn events(
        &self,
        py: Python<'_>,
        timeout: Option<&Bound<'_, PyAny>>,
        max: i128,
    ) -> PyResult<Vec<PyEvent>> {
        self.d.events(py, timeout, max)
    }

    /// One event, or ``None`` when ``timeout`` passed.
    ///
    /// Example: ``ev = client.next_event(timeout=5)``
    #[pyo3(signature = (timeout = None))]
    fn next_event(
        &self,
        py: Python<'_>,
        timeout: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Option<PyEvent>> {
        self.d.next_event(py, timeout)
    }

    /// Queue ``data`` as one message. While disconnected it waits in the queue and goes out,
    /// in order, after the next connect. When the queue is full: with ``timeout=0`` (the
    /// default) ``QueueFullError`` at once; otherwise wait for room up to ``timeout`` seconds
    /// (``None`` = as long as it takes; woken when the queue drains, the GIL released), then
    /// ``TimeoutError``. ``ClosedError`` after ``close()``; ``FrameTooLargeError`` for a
    /// message larger than ``send_queue_bytes``. Queued is not delivered: messages in flight
    /// when a connection breaks are lost (see the docs on what ``send`` promises).
    ///
    /// Example: ``client.send(b"hello")`` or ``client.send(chunk, timeout=None)``
    #[pyo3(signature = (data, *, timeout = Some(0.0)))]
    fn send(&self, py: Python<'_>, data: &Bound<'_, PyAny>, timeout: Option<f64>) -> PyResult<()> {
        let b = InBuf::new(data)?;
        let s = b.as_slice();
        let obj = &self.d.obj;
        match send_wait(py, timeout)? {
            None => obj.send(s).map_err(|e| to_pyerr(py, e)),
            Some(t) => wait(py, || obj.send_timeout(s, t)),
        }
    }

    /// The messages at the head of the event queue as a list of ``bytes`` (up to ``max``,
    /// waiting up to ``timeout`` seconds for the first event), with no event object per
    /// message. It stops before the first event of another kind, which ``events()`` then
    /// returns: an **empty list** means the timeout passed or another kind of event is next.
    ///
    /// Example: ``for data in client.messages(timeout=1.0): print(data)``
    #[pyo3(signature = (timeout = None, max = 64))]
    fn messages<'py>(
        &self,
        py: Python<'py>,
        timeout: Option<&Bound<'_, PyAny>>,
        max: i128,
    ) -> PyResult<Vec<Bound<'py, PyBytes>>> {
        Ok(self
            .d
            .messages(py, timeout, max)?
            .into_iter()
            .map(|(_, d)| d)
            .collect())
    }

    /// Queue several messages in order, waiting for room as ``send(..., timeout=...)`` does,
    /// all within one ``timeout`` (``None`` = as long as it takes). Every message is checked
    /// first, so a bad one queues none. Returns how many were queued: all, or fewer when the
    /// time ran out (or the client closed) after some were.
    ///
    /// Example: ``n = client.send_batch([b"a", b"b", b"c"], timeout=5.0)``
    #[pyo3(signature = (messages, *, timeout = None))]
    fn send_batch(
        &self,
        py: Python<'_>,
        messages: &Bound<'_, PyAny>,
        timeout: Option<f64>,
    ) -> PyResult<usize> {
        let bufs = batch_bufs(messages)?;
        let slices: Vec<&[u8]> = bufs.iter().map(|b| b.as_slice()).collect();
        let t = batch_timeout(py, timeout)?;
        let obj = &self.d.obj;
        wait(py, || obj.send_batch(&slices, t))
    }

    /// Close: while connected, what is queued is delivered within ``grace`` seconds; then the
    /// final ``closed`` event is queued and blocked ``events()`` calls wake. Idempotent.
    ///
    /// Example: ``client.close(grace=2)``
    #[pyo3(signature = (grace = 1.0))]
    fn close(&self, py: Python<'_>, grace: f64) -> PyResult<()> {
        let g = secs(py, "grace", grace)?;
        let c = &self.d.obj;
        py.detach(|| c.close(g));
        Ok(())
    }

    /// Call ``handler(event)`` for every event until the client is closed or ``handler``
    /// returns ``False`` (see ``Server.serve_forever``).
    ///
    /// Example: ``client.serve_forever(print)``
    #[pyo3(signature = (handler, *, poll = 0.5))]
    fn serve_forever(&self, py: Python<'_>, handler: &Bound<'_, PyAny>, poll: f64) -> PyResult<()> {
        self.d.serve_forever(py, handler, poll)
    }

    /// True while connected.
    ///
    /// Example: ``if client.connected: ...``
    #[getter]
    fn connected(&self) -> bool {
        self.d.obj.is_connected()
    }

    /// What the current connection's TLS handshake agreed on (the dict of
    /// ``Connection.tls_info``), ``None`` while disconnected or without TLS.
    ///
    /// Example: ``client.tls_info["version"]``
    #[getter]
    fn tls_info<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyDict>>> {
        self.d
            .obj
            .tls_info()
            .map(|i| crate::tls::info_dict(py, &i))
            .transpose()
    }

    /// The server's address while connected, else ``None``.
    ///
    /// Example: ``client.peer_address``
    #[getter]
    fn peer_address<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        match self.d.obj.peer_addr() {
            Some(a) => Ok(Some(addr_to_py(py, &a)?)),
            None => Ok(None),
        }
    }

    /// Counters as a dict, keyed by core's statistic names in lower case (docs/NAMES.md, the
    /// same words as every door): ``connections`` (1 while connected, else 0),
    /// ``connections_total`` (connections made), ``failed_attempts``, ``bytes_in``,
    /// ``bytes_out``, ``messages_in``, ``messages_out``, ``queued_bytes``, ``events_queued``,
    /// ``tls_failures``; and ``connected`` (a bool, as the ``connected`` property).
    ///
    /// Example: ``client.stats()["connections_total"]``
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let s = self.d.obj.stats();
        let d = stats_of(py, |k| s.get(k))?;
        d.set_item("connected", s.connected)?;
        Ok(d)
    }

    /// A file descriptor readable while events wait (see ``Server.fileno``).
    ///
    /// Example: ``select.select([client], [], [], 1.0)``
    fn fileno(&self) -> i32 {
        self.d.obj.notify_fd()
    }

    /// Same as ``fileno()``.
    ///
    /// Example: ``loop.add_reader(client.notify_fd, callback)``
    #[getter]
    fn notify_fd(&self) -> i32 {
        self.d.obj.notify_fd()
    }

    /// Events waiting to be pulled now (``pending``, its former name, still works).
    ///
    /// Example: ``client.pending_events``
    #[getter]
    fn pending_events(&self) -> usize {
        self.d.pending()
    }

    /// Same as ``pending_events`` (its former name).
    ///
    /// Example: ``client.pending``
    #[getter]
    fn pending(&self) -> usize {
        self.d.pending()
    }

    fn __enter__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(&self, py: Python<'_>, _args: &Bound<'_, PyTuple>) -> PyResult<bool> {
        self.close(py, 1.0)?;
        Ok(false)
    }

    fn __repr__(&self) -> String {
        let state = match self.d.obj.peer_addr() {
            Some(a) => format!("connected to {a}"),
            None => "not connected".into(),
        };
        format!(
            "<libsock.Client endpoint={} {state}>",
            self.d.obj.endpoint()
        )
    }
}

// ---------------------------------------------------------------------------------------------
// DatagramServer.

/// One datagram sent by `send(timeout)`: a small one first without waiting and with the GIL
/// kept (a system call of a few microseconds; releasing and retaking the GIL around it would
/// cost as much), then, or for a large one, waiting up to `SEND_WAIT` without the GIL.
fn send_attached(
    py: Python<'_>,
    data: &[u8],
    send: impl Fn(Option<Duration>) -> libsock::Result<usize> + Sync,
) -> PyResult<usize> {
    if data.len() <= ATTACHED_SEND_MAX {
        match send(Some(Duration::ZERO)) {
            Err(e) if e.kind() == libsock::ErrorKind::Timeout => {}
            r => return r.map_err(|e| to_pyerr(py, e)),
        }
    }
    wait(py, || send(Some(SEND_WAIT)))
}

thread_local! {
    /// The buffer `DatagramServer.next_datagram` receives into on this thread (grown to the
    /// server's largest datagram once), copied into the `bytes` it returns: no allocation of
    /// the largest datagram's size per call.
    static RECEIVED: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// A UDP endpoint served by the engine: each datagram arrives as a ``datagram`` event (peer,
/// data); reply with ``send_to``. ``max_datagram`` is the largest datagram received whole;
/// ``event_capacity`` bounds the event queue (when full the socket is not read and the kernel
/// drops datagrams, as UDP does). ``offload`` (on by default, Linux) reads with ``UDP_GRO`` and
/// lets ``send_many_to`` segment (``UDP_SEGMENT``); each datagram is still its own event and
/// the peer sees the same datagrams. Socket options are keyword arguments.
///
/// Example::
///
///     >>> with libsock.DatagramServer(("127.0.0.1", 0)) as udp:
///     ...     for ev in udp.events(timeout=1):
///     ...         udp.send_to(ev.data, ev.peer)     # echo
#[pyclass(frozen, module = "libsock", name = "DatagramServer")]
pub(crate) struct PyDatagramServer {
    d: Door<DatagramServer>,
}

#[pymethods]
impl PyDatagramServer {
    #[new]
    #[pyo3(signature = (address, *, max_datagram = 65536, event_capacity = 4096, offload = true,
                        **options))]
    fn new(
        py: Python<'_>,
        address: &Bound<'_, PyAny>,
        max_datagram: i128,
        event_capacity: i128,
        offload: bool,
        options: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Self> {
        let ep = endpoint(address)?;
        let cfg = DatagramServerConfig::new()
            .options(engine_options(py, options, "DatagramServer", false)?)
            .max_datagram(ranged(py, "max_datagram", max_datagram)?)
            .event_capacity(ranged(py, "event_capacity", event_capacity)?)
            .offload(offload);
        let s = wait(py, move || DatagramServer::bind(&ep, cfg))?;
        Ok(PyDatagramServer { d: Door::new(s) })
    }

    /// Take up to ``max`` events (see ``Server.events``).
    ///
    /// Example: ``for ev in udp.events(timeout=1): print(ev.peer, ev.data)``
    #[pyo3(signature = (timeout = None, max = 64))]
    fn events(
        &self,
        py: Python<'_>,
        timeout: Option<&Bound<'_, PyAny>>,
        max: i128,
    ) -> PyResult<Vec<PyEvent>> {
        self.d.events(py, timeout, max)
    }

    /// One event, or ``None`` when ``timeout`` passed.
    ///
    /// Example: ``ev = udp.next_event(timeout=5)``
    #[pyo3(signature = (timeout = None))]
    fn next_event(
        &self,
        py: Python<'_>,
        timeout: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Option<PyEvent>> {
        self.d.next_event(py, timeout)
    }

    /// The next datagram as ``(data, peer)``, waiting up to ``timeout`` seconds (``None`` = as
    /// long as it takes); ``None`` when the timeout passed. ``ClosedError`` once the server is
    /// shut down; ``ConnectionRefusedError`` when it was ``connect``-ed to a peer where nothing
    /// listens. The request–reply pull: with nothing queued, the datagram is received from the
    /// socket by this thread, with no event made for it (a burst still goes through the queue,
    /// in order, and ``next_datagram`` and ``events()`` may be mixed). ``peer`` is the tuple
    /// ``send_to`` takes back without parsing it.
    ///
    /// Example::
    ///
    ///     >>> got = udp.next_datagram(timeout=1.0)
    ///     >>> if got is not None:
    ///     ...     data, peer = got
    ///     ...     udp.send_to(data, peer)      # echo
    #[pyo3(signature = (timeout = None))]
    fn next_datagram<'py>(
        &self,
        py: Python<'py>,
        timeout: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Option<Bound<'py, PyTuple>>> {
        let t = opt_timeout(timeout)?;
        let d = &self.d;
        let pair = |data: Bound<'py, PyBytes>, peer: Option<&libsock::Addr>| -> PyResult<_> {
            let Some(peer) = peer else {
                let e = libsock::Error::closed("next datagram: the datagram server is shut down");
                return Err(to_pyerr(py, e));
            };
            let peer = d.peers.to_py(py, peer)?.into_bound(py);
            Ok(Some(PyTuple::new(py, [data.into_any(), peer])?))
        };
        // Events a serve_forever handler left come first.
        if let Some(ev) = d.take_left(1).pop() {
            let data = PyBytes::new(py, ev.data().map_or(&[][..], |b| &b[..]));
            return pair(data, ev.peer());
        }
        let obj = &d.obj;
        let max = obj.max_datagram();
        // Taken out of the thread's slot for the call, so that Python code run meanwhile on
        // this thread (a signal handler, a finalizer) that calls next_datagram again finds an
        // empty slot and a buffer of its own, never a borrowed one.
        let mut buf = RECEIVED.with(|cell| cell.take());
        if buf.len() < max {
            buf.resize(max, 0);
        }
        let got = wait(py, || obj.next_datagram_into(&mut buf[..max], t));
        let r = match got {
            Ok(None) => Ok(None),
            Ok(Some(info)) => pair(PyBytes::new(py, &buf[..info.len]), info.peer.as_ref()),
            Err(e) => Err(e),
        };
        RECEIVED.with(|cell| cell.replace(buf));
        r
    }

    /// Send one datagram to ``address``; returns the bytes sent.
    ///
    /// Example: ``udp.send_to(b"pong", ev.peer)``
    fn send_to(
        &self,
        py: Python<'_>,
        data: &Bound<'_, PyAny>,
        address: &Bound<'_, PyAny>,
    ) -> PyResult<usize> {
        let b = InBuf::new(data)?;
        let s = b.as_slice();
        let obj = &self.d.obj;
        // A reply to `ev.peer` (the tuple the last event handed out) or to an `(ip, port)`
        // tuple: no parse or resolution, and a send the socket takes at once keeps the GIL (a
        // system call of a few microseconds; releasing and retaking the GIL around it would
        // cost as much).
        if let Some(to) = self.d.peers.addr_of(address) {
            return send_attached(py, s, |t| obj.send_to_timeout(s, &to, t));
        }
        let ep = endpoint(address)?;
        wait(py, || obj.send_to_endpoint(s, ep, Some(SEND_WAIT)))
    }

    /// Connect to one peer (nothing is sent): from then on only its datagrams are received,
    /// ``send`` sends to it without naming it (the kernel keeps the route: the cheapest send,
    /// for a client of one server), and an ICMP error for it (nothing listens there) makes the
    /// next ``send`` (or the next ``next_datagram`` that finds nothing queued) raise
    /// ``ConnectionRefusedError``. ``send_to`` still sends anywhere; connecting again moves to
    /// another peer. ``address`` as for ``send_to`` (a host name is
    /// resolved). Returns the address connected to.
    ///
    /// Example::
    ///
    ///     >>> udp = libsock.DatagramServer(("127.0.0.1", 0))
    ///     >>> udp.connect(("127.0.0.1", 5000))
    ///     >>> udp.send(b"ping"); data, peer = udp.next_datagram(timeout=1.0)
    fn connect<'py>(
        &self,
        py: Python<'py>,
        address: &Bound<'_, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let ep = endpoint(address)?;
        let obj = &self.d.obj;
        let a = wait(py, || obj.connect(ep, Some(SEND_WAIT)))?;
        addr_to_py(py, &a)
    }

    /// Send one datagram to the peer given to ``connect``; returns the bytes sent.
    /// ``ValueError`` if never connected.
    ///
    /// Example: ``udp.send(b"ping")``
    fn send(&self, py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<usize> {
        let b = InBuf::new(data)?;
        let s = b.as_slice();
        let obj = &self.d.obj;
        send_attached(py, s, |t| obj.send_timeout(s, t))
    }

    /// Send several datagrams to ``address`` (an IP address and port) with one system call
    /// where possible, runs of equal-sized ones segmented by the kernel when ``offload`` is on;
    /// returns how many were sent (at least one).
    ///
    /// Example: ``udp.send_many_to([b"a" * 100] * 10, ev.peer)``
    fn send_many_to(
        &self,
        py: Python<'_>,
        datagrams: &Bound<'_, PyAny>,
        address: &Bound<'_, PyAny>,
    ) -> PyResult<usize> {
        let to = addr(py, address)?;
        let mut bufs = Vec::new();
        for item in datagrams.try_iter()? {
            bufs.push(InBuf::new(&item?)?);
        }
        let slices: Vec<&[u8]> = bufs.iter().map(|b| b.as_slice()).collect();
        let obj = &self.d.obj;
        wait(py, || obj.send_many_to(&slices, &to, Some(SEND_WAIT)))
    }

    /// Call ``handler(event)`` for every event until shut down or ``handler`` returns
    /// ``False`` (see ``Server.serve_forever``).
    ///
    /// Example: ``udp.serve_forever(lambda ev: ev.data and udp.send_to(ev.data, ev.peer))``
    #[pyo3(signature = (handler, *, poll = 0.5))]
    fn serve_forever(&self, py: Python<'_>, handler: &Bound<'_, PyAny>, poll: f64) -> PyResult<()> {
        self.d.serve_forever(py, handler, poll)
    }

    /// Counters as a dict, keyed by core's statistic names in lower case (docs/NAMES.md):
    /// ``messages_in``, ``messages_out`` (datagrams), ``bytes_in``, ``bytes_out``,
    /// ``events_queued``; ``datagrams_in`` and ``datagrams_out``, their former names, too.
    ///
    /// Example: ``udp.stats()["messages_in"]``
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let s = self.d.obj.stats();
        let d = stats_of(py, |k| s.get(k))?;
        d.set_item("datagrams_in", s.datagrams_in)?;
        d.set_item("datagrams_out", s.datagrams_out)?;
        Ok(d)
    }

    /// Stop receiving; the final ``closed`` event is queued and blocked ``events()`` calls
    /// wake. Idempotent.
    ///
    /// Example: ``udp.shutdown()``
    fn shutdown(&self) {
        self.d.obj.shutdown()
    }

    /// Same as ``shutdown()``.
    ///
    /// Example: ``udp.close()``
    fn close(&self) {
        self.d.obj.shutdown()
    }

    /// A file descriptor readable while events wait (see ``Server.fileno``).
    ///
    /// Example: ``select.select([udp], [], [], 1.0)``
    fn fileno(&self) -> i32 {
        self.d.obj.notify_fd()
    }

    /// Same as ``fileno()``.
    ///
    /// Example: ``loop.add_reader(udp.notify_fd, callback)``
    #[getter]
    fn notify_fd(&self) -> i32 {
        self.d.obj.notify_fd()
    }

    /// Events waiting to be pulled now (``pending``, its former name, still works).
    ///
    /// Example: ``udp.pending_events``
    #[getter]
    fn pending_events(&self) -> usize {
        self.d.pending()
    }

    /// Same as ``pending_events`` (its former name).
    ///
    /// Example: ``udp.pending``
    #[getter]
    fn pending(&self) -> usize {
        self.d.pending()
    }

    /// The bound address.
    ///
    /// Example: ``host, port = udp.address``
    #[getter]
    fn address<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        addr_to_py(py, &self.d.obj.local_addr())
    }

    fn __enter__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(&self, _args: &Bound<'_, PyTuple>) -> bool {
        self.d.obj.shutdown();
        false
    }

    fn __repr__(&self) -> String {
        format!(
            "<libsock.DatagramServer address={}>",
            self.d.obj.local_addr()
        )
    }
}

/// Stop the engine runtime: every ``Server``, ``Client`` and ``DatagramServer`` is stopped at
/// once and the engine's threads are joined. A new engine object starts it again. Rarely
/// needed (interpreter exit does not require it). (``engine_shutdown``, its former name,
/// still works.)
///
/// Example::
///
///     >>> libsock.shutdown_engine()
#[pyfunction]
pub(crate) fn shutdown_engine(py: Python<'_>) {
    py.detach(libsock::engine::shutdown)
}

/// Same as ``shutdown_engine()`` (its former name).
///
/// Example::
///
///     >>> libsock.engine_shutdown()
#[pyfunction]
pub(crate) fn engine_shutdown(py: Python<'_>) {
    shutdown_engine(py)
}
