//! KCP (reliable UDP): `KcpServer` (the engine's, pulled like `Server`) and `kcp_connect`
//! returning a blocking `KcpSession`.
//!
//! Translation only: keyword arguments to core's `KcpConfig`/`KcpServerConfig`, every wait
//! through `wait()` (GIL released, Ctrl-C on the main thread).

use std::time::Duration;

use libsock::kcp::{KcpConfig, KcpServer, KcpServerConfig, KcpSession};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyTuple};

use crate::convert::*;
use crate::engine::{
    engine_options, max_clients_arg, opt_secs, secs, send_policy_arg, Door, PyEvent,
};
use crate::errors::{to_pyerr, wait};

/// The KCP tuning keywords, shared by `KcpServer` and `kcp_connect`.
#[allow(clippy::too_many_arguments)]
fn kcp_config(
    py: Python<'_>,
    nodelay: i128,
    interval: f64,
    resend: i128,
    nc: bool,
    send_window: i128,
    recv_window: i128,
    mtu: i128,
    min_rto: Option<f64>,
    stream: bool,
    dead_link: i128,
) -> PyResult<KcpConfig> {
    let mut k = KcpConfig::new()
        .nodelay(
            ranged(py, "nodelay", nodelay)?,
            secs(py, "interval", interval)?,
            ranged(py, "resend", resend)?,
            nc,
        )
        .windows(
            ranged(py, "send_window", send_window)?,
            ranged(py, "recv_window", recv_window)?,
        )
        .mtu(ranged(py, "mtu", mtu)?)
        .stream(stream)
        .dead_link(ranged(py, "dead_link", dead_link)?);
    if let Some(r) = min_rto {
        k = k.min_rto(secs(py, "min_rto", r)?);
    }
    // Validated here so that a bad value is InvalidArgumentError before any socket exists.
    k.validate().map_err(|e| to_pyerr(py, e))?;
    Ok(k)
}

// ---------------------------------------------------------------------------------------------
// KcpServer.

/// A KCP server run by the engine: reliable, ordered messages over UDP, wire-compatible with
/// the reference KCP implementation. Each (peer address, conv) is a session with a client id;
/// the events and commands are those of ``Server``: ``connected`` (client, peer),
/// ``message`` (client, data), ``disconnected`` (client, reason), then ``closed``.
///
/// KCP has no handshake and no close on the wire: a session opens with the first data segment
/// of a new (address, conv) and ends when nothing arrived for ``idle_timeout`` seconds
/// (reason ``"idle-timeout"``), when a segment went unacknowledged ``dead_link`` times
/// (``"heartbeat-lost"``), on ``disconnect`` (``"kicked"``) or ``shutdown``
/// (``"server-shutdown"``). A finished (address, conv) is ignored for ``linger`` seconds.
///
/// The tuning (the reference's names): ``nodelay`` (0, 1, 2; 2: the RTO grows linearly), ``interval`` (seconds, 0.01 to
/// 5), ``resend`` (fast resend after that many duplicate acks, 0 = off), ``nc`` (no congestion
/// control), ``send_window``/``recv_window`` (segments), ``mtu``, ``min_rto`` (seconds),
/// ``stream`` (no message boundaries), ``dead_link``. Queues: ``event_capacity`` (when full,
/// messages wait in KCP and its window closes: nothing is dropped), ``send_queue_bytes`` per
/// session with ``send_policy`` ``"error"`` or ``"disconnect"``. Socket options are keyword
/// arguments.
///
/// Example::
///
///     >>> with libsock.KcpServer(("127.0.0.1", 0)) as server:
///     ...     for ev in server.events(timeout=1.0):
///     ...         if ev.kind == "message":
///     ...             server.send(ev.client, ev.data)   # echo
#[pyclass(frozen, module = "libsock", name = "KcpServer")]
pub(crate) struct PyKcpServer {
    d: Door<KcpServer>,
}

#[pymethods]
impl PyKcpServer {
    #[new]
    #[pyo3(signature = (address, *, nodelay = 2, interval = 0.01, resend = 2, nc = true,
                        send_window = 128, recv_window = 128, mtu = 1400, min_rto = None,
                        stream = false, dead_link = 20, event_capacity = 4096,
                        idle_timeout = Some(60.0), max_clients = None,
                        send_queue_bytes = 4194304, send_policy = "error", linger = 10.0,
                        close_timeout = 5.0, **options),
           text_signature = "(address, *, nodelay=2, interval=0.01, resend=2, nc=True, \
                             send_window=128, recv_window=128, mtu=1400, min_rto=None, \
                             stream=False, dead_link=20, event_capacity=4096, \
                             idle_timeout=60.0, max_clients=None, send_queue_bytes=4194304, \
                             send_policy='error', linger=10.0, close_timeout=5.0, **options)")]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        address: &Bound<'_, PyAny>,
        nodelay: i128,
        interval: f64,
        resend: i128,
        nc: bool,
        send_window: i128,
        recv_window: i128,
        mtu: i128,
        min_rto: Option<f64>,
        stream: bool,
        dead_link: i128,
        event_capacity: i128,
        idle_timeout: Option<f64>,
        max_clients: Option<i128>,
        send_queue_bytes: i128,
        send_policy: &str,
        linger: f64,
        close_timeout: f64,
        options: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Self> {
        let ep = endpoint(address)?;
        let k = kcp_config(
            py,
            nodelay,
            interval,
            resend,
            nc,
            send_window,
            recv_window,
            mtu,
            min_rto,
            stream,
            dead_link,
        )?;
        let policy = send_policy_arg(py, send_policy)?;
        let max_clients = max_clients_arg(py, max_clients)?;
        let idle = match idle_timeout {
            None => None,
            Some(v) => Some(secs(py, "idle_timeout", v)?),
        };
        let cfg = KcpServerConfig::new()
            .kcp(k)
            .options(engine_options(py, options, "KcpServer", false)?)
            .event_capacity(ranged(py, "event_capacity", event_capacity)?)
            .idle_timeout(idle)
            .max_clients(max_clients)
            .send_queue_bytes(ranged(py, "send_queue_bytes", send_queue_bytes)?)
            .send_policy(policy)
            .linger(secs(py, "linger", linger)?)
            .close_timeout(secs(py, "close_timeout", close_timeout)?);
        let s = wait(py, move || KcpServer::bind(&ep, cfg))?;
        Ok(PyKcpServer { d: Door::new(s) })
    }

    /// Take up to ``max`` events (see ``Server.events``): an empty list means the timeout
    /// passed; ``ClosedError`` after the final ``closed`` event.
    ///
    /// Example: ``for ev in server.events(timeout=0.5): print(ev)``
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
    /// Example: ``ev = server.next_event(timeout=5)``
    #[pyo3(signature = (timeout = None))]
    fn next_event(
        &self,
        py: Python<'_>,
        timeout: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Option<PyEvent>> {
        self.d.next_event(py, timeout)
    }

    /// The messages at the head of the event queue as ``(client, data)`` tuples (see
    /// ``Server.messages``): an empty list means the timeout passed or another kind of event
    /// is next (call ``events()``).
    ///
    /// ``grouped=True``: one ``(client, [data, ...])`` per run of one client's messages.
    ///
    /// Example: ``for client, data in server.messages(timeout=1.0): server.send(client, data)``
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

    /// Queue ``data`` as one message to ``client``; returns at once. ``ClosedError`` for a
    /// session that is gone, ``QueueFullError`` when its unacknowledged data would pass
    /// ``send_queue_bytes`` (``send_policy="error"``), ``FrameTooLargeError`` beyond the
    /// largest KCP message (127 segments), ``InvalidArgumentError`` for an empty one.
    ///
    /// Example: ``server.send(ev.client, b"welcome")``
    fn send(&self, py: Python<'_>, client: u64, data: &Bound<'_, PyAny>) -> PyResult<()> {
        let b = InBuf::new(data)?;
        self.d
            .obj
            .send(client, b.as_slice())
            .map_err(|e| to_pyerr(py, e))
    }

    /// End ``client``'s session (``graceful``: after the peer acknowledged what was sent,
    /// within ``close_timeout``); a ``disconnected`` event with reason ``"kicked"`` follows.
    ///
    /// Example: ``server.disconnect(ev.client)``
    #[pyo3(signature = (client, graceful = false))]
    fn disconnect(&self, py: Python<'_>, client: u64, graceful: bool) -> PyResult<()> {
        self.d
            .obj
            .disconnect(client, graceful)
            .map_err(|e| to_pyerr(py, e))
    }

    /// The open sessions as ``(client, (host, port), conv)`` tuples, by id.
    ///
    /// Example: ``for client, peer, conv in server.clients(): ...``
    fn clients<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyTuple>>> {
        self.d
            .obj
            .clients()
            .into_iter()
            .map(|(id, a, conv)| {
                PyTuple::new(
                    py,
                    [
                        id.into_pyobject(py)?.into_any(),
                        addr_to_py(py, &a)?,
                        conv.into_pyobject(py)?.into_any(),
                    ],
                )
            })
            .collect()
    }

    /// The address of ``client``'s peer.
    ///
    /// Example: ``host, port = server.client_address(ev.client)``
    fn client_address<'py>(&self, py: Python<'py>, client: u64) -> PyResult<Bound<'py, PyAny>> {
        let a = self.d.obj.peer_addr(client).map_err(|e| to_pyerr(py, e))?;
        addr_to_py(py, &a)
    }

    /// Counters as a dict: ``connections``, ``connections_total``, ``refused``,
    /// ``messages_in``, ``messages_out``, ``bytes_in``, ``bytes_out``, ``send_queue_full``,
    /// ``events_queued`` (the same words as ``Server.stats()``), and KCP's own
    /// ``datagrams_in``, ``datagrams_out``, ``datagrams_bad``, ``retransmits``.
    ///
    /// Example: ``server.stats()["retransmits"]``
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let s = self.d.obj.stats();
        let d = PyDict::new(py);
        for (k, v) in [
            ("connections", s.connections),
            ("connections_total", s.connections_total),
            ("refused", s.refused),
            ("messages_in", s.messages_in),
            ("messages_out", s.messages_out),
            ("bytes_in", s.bytes_in),
            ("bytes_out", s.bytes_out),
            ("send_queue_full", s.send_queue_full),
            ("events_queued", s.events_queued),
            ("datagrams_in", s.datagrams_in),
            ("datagrams_out", s.datagrams_out),
            ("datagrams_bad", s.datagrams_bad),
            ("retransmits", s.retransmits),
        ] {
            d.set_item(k, v)?;
        }
        Ok(d)
    }

    /// Call ``handler(event)`` for every event until shut down or ``handler`` returns
    /// ``False`` (see ``Server.serve_forever``).
    ///
    /// Example: ``server.serve_forever(handle)``
    #[pyo3(signature = (handler, *, poll = 0.5))]
    fn serve_forever(&self, py: Python<'_>, handler: &Bound<'_, PyAny>, poll: f64) -> PyResult<()> {
        self.d.serve_forever(py, handler, poll)
    }

    /// Stop at once: every session ends (``"server-shutdown"``), the final ``closed`` event is
    /// queued and blocked ``events()`` calls wake. Idempotent.
    ///
    /// Example: ``server.shutdown()``
    fn shutdown(&self, py: Python<'_>) {
        let obj = &self.d.obj;
        py.detach(|| obj.shutdown())
    }

    /// Same as ``shutdown()``.
    ///
    /// Example: ``server.close()``
    fn close(&self, py: Python<'_>) {
        self.shutdown(py)
    }

    /// A file descriptor readable while events wait (see ``Server.fileno``).
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

    /// Events waiting to be pulled now.
    ///
    /// Example: ``server.pending_events``
    #[getter]
    fn pending_events(&self) -> usize {
        self.d.pending()
    }

    /// The bound address.
    ///
    /// Example: ``host, port = server.address``
    #[getter]
    fn address<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        addr_to_py(py, &self.d.obj.local_addr())
    }

    /// True once shut down.
    ///
    /// Example: ``server.closed``
    #[getter]
    fn closed(&self) -> bool {
        self.d.obj.is_shut_down()
    }

    fn __enter__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(&self, py: Python<'_>, _args: &Bound<'_, PyTuple>) -> bool {
        self.shutdown(py);
        false
    }

    fn __repr__(&self) -> String {
        format!("<libsock.KcpServer address={}>", self.d.obj.local_addr())
    }
}

// ---------------------------------------------------------------------------------------------
// KcpSession.

/// A blocking KCP conversation with one peer (made by ``kcp_connect``).
///
/// The session has no thread of its own: it sends, retransmits, acknowledges and reads the
/// socket while one of its calls runs (``send``, ``recv``, ``flush``, ``poll``); a program that
/// stays away for long should wait in ``recv`` or call ``poll``. ``close()`` from another
/// thread wakes a blocked call (``ClosedError``).
///
/// Example::
///
///     >>> with libsock.kcp_connect(("127.0.0.1", 4000), timeout=5) as s:
///     ...     s.send(b"hello")
///     ...     reply = s.recv()
///     ...     s.flush()          # everything sent is acknowledged
#[pyclass(frozen, module = "libsock", name = "KcpSession")]
pub(crate) struct PyKcpSession {
    s: KcpSession,
    timeout: Option<Duration>,
}

impl PyKcpSession {
    fn t(&self, timeout: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Duration>> {
        match timeout {
            None => Ok(self.timeout),
            Some(o) => timeout_value(o),
        }
    }
}

#[pymethods]
impl PyKcpSession {
    /// Send one message (any bytes-like object), waiting up to ``timeout`` seconds (default:
    /// the session's) while too much is unacknowledged. ``FrameTooLargeError`` beyond the
    /// largest KCP message, ``InvalidArgumentError`` for an empty one.
    ///
    /// Example: ``s.send(b"hello")``
    #[pyo3(signature = (data, timeout = None))]
    fn send(
        &self,
        py: Python<'_>,
        data: &Bound<'_, PyAny>,
        timeout: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        let t = self.t(timeout)?;
        let b = InBuf::new(data)?;
        let d = b.as_slice();
        let s = &self.s;
        wait(py, || s.send_timeout(d, t))
    }

    /// The next message, waiting up to ``timeout`` seconds (default: the session's; ``None``
    /// forever, ``0`` poll); ``TimeoutError`` when none came.
    ///
    /// Example: ``msg = s.recv(timeout=1.0)``
    #[pyo3(signature = (timeout = None))]
    fn recv<'py>(
        &self,
        py: Python<'py>,
        timeout: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let t = self.t(timeout)?;
        let s = &self.s;
        let m = wait(py, || s.recv(t))?;
        Ok(PyBytes::new(py, &m))
    }

    /// Wait until everything sent is acknowledged (up to ``timeout`` seconds, default: the
    /// session's).
    ///
    /// Example: ``s.flush(timeout=5)``
    #[pyo3(signature = (timeout = None))]
    fn flush(&self, py: Python<'_>, timeout: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        let t = self.t(timeout)?;
        let s = &self.s;
        wait(py, || s.flush(t))
    }

    /// Run the protocol for ``timeout`` seconds without taking messages (acknowledge,
    /// retransmit); returns 1 when a message is ready for ``recv``, else 0.
    ///
    /// Example: ``s.poll(0.05)``
    fn poll(&self, py: Python<'_>, timeout: f64) -> PyResult<usize> {
        let t = secs(py, "timeout", timeout)?;
        let s = &self.s;
        wait(py, || s.poll(t))
    }

    /// Close the socket at once (idempotent). Unacknowledged data is abandoned: ``flush()``
    /// first to deliver it. The peer sees the session expire (KCP has no close on the wire).
    ///
    /// Example: ``s.close()``
    fn close(&self) {
        self.s.close()
    }

    /// Counters as a dict: ``messages_in``, ``messages_out``, ``bytes_in``, ``bytes_out``,
    /// ``datagrams_in``, ``datagrams_out``, ``datagrams_bad``, ``retransmits``, ``waiting``
    /// (segments unacknowledged), ``srtt_ms``.
    ///
    /// Example: ``s.stats()["retransmits"]``
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let s = self.s.stats();
        let d = PyDict::new(py);
        for (k, v) in [
            ("messages_in", s.messages_in),
            ("messages_out", s.messages_out),
            ("bytes_in", s.bytes_in),
            ("bytes_out", s.bytes_out),
            ("datagrams_in", s.datagrams_in),
            ("datagrams_out", s.datagrams_out),
            ("datagrams_bad", s.datagrams_bad),
            ("retransmits", s.retransmits),
            ("waiting", s.waiting),
            ("srtt_ms", s.srtt_ms),
        ] {
            d.set_item(k, v)?;
        }
        Ok(d)
    }

    /// The conversation id.
    ///
    /// Example: ``s.conv``
    #[getter]
    fn conv(&self) -> u32 {
        self.s.conv()
    }

    /// The peer's address.
    ///
    /// Example: ``host, port = s.peer_address``
    #[getter]
    fn peer_address<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        addr_to_py(py, &self.s.peer_addr())
    }

    /// The local address.
    ///
    /// Example: ``host, port = s.local_address``
    #[getter]
    fn local_address<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let a = self.s.local_addr().map_err(|e| to_pyerr(py, e))?;
        addr_to_py(py, &a)
    }

    /// The default timeout of ``send``, ``recv`` and ``flush`` (seconds; ``None`` forever).
    ///
    /// Example: ``s.timeout``
    #[getter]
    fn timeout(&self) -> Option<f64> {
        timeout_to_py(self.timeout)
    }

    /// True once closed.
    ///
    /// Example: ``s.closed``
    #[getter]
    fn closed(&self) -> bool {
        self.s.is_closed()
    }

    fn __enter__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(&self, _args: &Bound<'_, PyTuple>) -> bool {
        self.s.close();
        false
    }

    fn __repr__(&self) -> String {
        format!(
            "<libsock.KcpSession conv={} peer={}>",
            self.s.conv(),
            self.s.peer_addr()
        )
    }
}

/// Start a KCP conversation with the peer at ``address`` over a connected UDP socket and
/// return a blocking ``KcpSession``. ``conv`` is the conversation id (``None``: a random
/// one from 1 to 2**31 - 1); ``timeout`` the default of ``send``/``recv``/``flush``. The tuning keywords
/// are those of ``KcpServer``; socket options are keyword arguments. Nothing is sent until the
/// first message (KCP has no handshake).
///
/// Example::
///
///     >>> s = libsock.kcp_connect(("127.0.0.1", 4000), conv=7, timeout=5)
#[pyfunction]
#[pyo3(signature = (address, conv = None, *, timeout = None, nodelay = 2, interval = 0.01,
                    resend = 2, nc = true, send_window = 128, recv_window = 128, mtu = 1400,
                    min_rto = None, stream = false, dead_link = 20, **options))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn kcp_connect(
    py: Python<'_>,
    address: &Bound<'_, PyAny>,
    conv: Option<i128>,
    timeout: Option<&Bound<'_, PyAny>>,
    nodelay: i128,
    interval: f64,
    resend: i128,
    nc: bool,
    send_window: i128,
    recv_window: i128,
    mtu: i128,
    min_rto: Option<f64>,
    stream: bool,
    dead_link: i128,
    options: Option<&Bound<'_, PyDict>>,
) -> PyResult<PyKcpSession> {
    let ep = endpoint(address)?;
    let conv: Option<u32> = match conv {
        None => None,
        Some(c) => Some(ranged(py, "conv", c)?),
    };
    let t = opt_secs(timeout)?;
    let k = kcp_config(
        py,
        nodelay,
        interval,
        resend,
        nc,
        send_window,
        recv_window,
        mtu,
        min_rto,
        stream,
        dead_link,
    )?;
    let o = engine_options(py, options, "kcp_connect", false)?;
    let s = wait(py, move || KcpSession::connect_with(&ep, conv, k, o))?;
    Ok(PyKcpSession { s, timeout: t })
}
