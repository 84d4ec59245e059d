//! `Listener` and `listen()`.

use libsock::{ListenOptions, Listener};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

use crate::conn::{is_closed_error, PyConnection};
use crate::convert::*;
use crate::errors::{to_pyerr, wait};
use crate::framing::{framing_arg, framing_to_py};

/// Listen for TCP or Unix stream connections.
///
/// ``address`` as for ``connect`` (port 0 picks a free port; ``("", port)`` or ``"[::]:port"``
/// listen on every interface; ``"unix:/path"`` makes a socket file, removed on close).
/// ``remove_stale`` removes a Unix socket file nobody listens on. Accepted connections get
/// ``framing`` and ``timeout``. Socket options are keyword arguments, as for ``connect``.
/// ``tls=libsock.TLS(cert=..., key=...)`` speaks TLS: each connection's handshake completes
/// before ``accept`` returns it (a failed one is ``accept``'s ``TlsError``).
///
/// Example::
///
///     >>> with libsock.listen(("127.0.0.1", 0)) as server:
///     ...     print(server.address)          # ('127.0.0.1', 40123)
///     ...     conn, peer = server.accept(timeout=10)
#[pyfunction]
#[pyo3(signature = (address, *, backlog = 1024, reuse_port = false, reuse_address = true,
                    dualstack = true, remove_stale = false, framing = None, timeout = None,
                    tls = None, **options))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn listen(
    py: Python<'_>,
    address: &Bound<'_, PyAny>,
    backlog: i128,
    reuse_port: bool,
    reuse_address: bool,
    dualstack: bool,
    remove_stale: bool,
    framing: Option<&Bound<'_, PyAny>>,
    timeout: Option<&Bound<'_, PyAny>>,
    tls: Option<&Bound<'_, crate::tls::PyTls>>,
    options: Option<&Bound<'_, PyDict>>,
) -> PyResult<PyListener> {
    let ep = endpoint(address)?;
    let backlog: i32 = ranged(py, "backlog", backlog)?;
    let opts = ListenOptions::new()
        .backlog(backlog)
        .reuse_port(reuse_port)
        .reuse_address(reuse_address)
        .dualstack(dualstack)
        .remove_stale(remove_stale)
        .framing(framing_arg(framing)?)
        .conn_timeout(opt_timeout(timeout)?)
        .options(socket_options(py, options, "listen")?);
    let opts = match tls {
        Some(t) => opts.tls(t.get().server(py)?),
        None => opts,
    };
    let l = wait(py, move || Listener::bind_with(&ep, &opts))?;
    Ok(PyListener { l })
}

/// A listening socket made by ``libsock.listen``. ``accept()`` returns ``(Connection, peer)``;
/// iterating accepts connections until the listener is closed. ``close()`` from another thread
/// makes a blocked ``accept`` raise ``ClosedError``.
///
/// Example::
///
///     >>> server = libsock.listen("127.0.0.1:0", framing=libsock.Delimited(b"\n"))
///     >>> for conn, peer in server:
///     ...     conn.send_msg(conn.recv_msg())
#[pyclass(frozen, module = "libsock", name = "Listener")]
pub(crate) struct PyListener {
    pub(crate) l: Listener,
}

#[pymethods]
impl PyListener {
    /// Wait for a client for up to ``timeout`` seconds (``None`` = forever, ``0`` = poll);
    /// returns ``(Connection, peer_address)``. ``TimeoutError`` when none came.
    ///
    /// Example::
    ///
    ///     >>> conn, peer = server.accept(timeout=5)
    #[pyo3(signature = (timeout = None))]
    fn accept<'py>(
        &self,
        py: Python<'py>,
        timeout: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<(PyConnection, Bound<'py, PyAny>)> {
        let t = opt_timeout(timeout)?;
        let l = &self.l;
        let (c, peer) = wait(py, || l.accept(t))?;
        Ok((PyConnection { c }, addr_to_py(py, &peer)?))
    }

    fn __iter__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    /// The next client; iteration ends when the listener is closed.
    fn __next__<'py>(
        &self,
        py: Python<'py>,
    ) -> PyResult<Option<(PyConnection, Bound<'py, PyAny>)>> {
        match self.accept(py, None) {
            Ok(v) => Ok(Some(v)),
            Err(e) if is_closed_error(py, &e) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The bound address, with the real port when 0 was asked: ``(host, port)`` or
    /// ``"unix:/path"``.
    ///
    /// Example: ``host, port = server.address``
    #[getter]
    fn address<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let a = self.l.local_addr().map_err(|e| to_pyerr(py, e))?;
        addr_to_py(py, &a)
    }

    /// Framing given to connections accepted from now on (settable).
    ///
    /// Example: ``server.framing = libsock.LengthPrefixed(width=2)``
    #[getter]
    fn get_framing<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        framing_to_py(py, self.l.framing())
    }

    #[setter]
    fn set_framing(&self, py: Python<'_>, value: &Bound<'_, PyAny>) -> PyResult<()> {
        self.l
            .set_framing(framing_arg(Some(value))?)
            .map_err(|e| to_pyerr(py, e))
    }

    /// Default timeout (seconds, ``None`` = forever) given to accepted connections (settable).
    ///
    /// Example: ``server.timeout = 30``
    #[getter]
    fn get_timeout(&self) -> Option<f64> {
        timeout_to_py(self.l.conn_timeout())
    }

    #[setter]
    fn set_timeout(&self, value: &Bound<'_, PyAny>) -> PyResult<()> {
        self.l.set_conn_timeout(timeout_value(value)?);
        Ok(())
    }

    /// Options of the listening socket, read back from the OS.
    ///
    /// Example: ``server.options["reuse_address"]``
    #[getter]
    fn options<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        options_dict(py, |o| self.l.get_option(o))
    }

    /// Set an option of the listening socket by name.
    ///
    /// Example::
    ///
    ///     >>> server.set_option("reuse_address", True)
    fn set_option(
        &self,
        py: Python<'_>,
        name: &Bound<'_, PyAny>,
        value: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let opt = sockopt(name)?;
        let v = opt_value(opt, value)?;
        self.l.set_option(opt, v).map_err(|e| to_pyerr(py, e))
    }

    /// Read an option of the listening socket back from the OS.
    ///
    /// Example::
    ///
    ///     >>> server.get_option("reuse_address")
    ///     True
    fn get_option<'py>(
        &self,
        py: Python<'py>,
        name: &Bound<'_, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let opt = sockopt(name)?;
        let v = self.l.get_option(opt).map_err(|e| to_pyerr(py, e))?;
        opt_to_py(py, opt, v)
    }

    /// The file descriptor (for select/poll; do not close it), -1 once closed.
    ///
    /// Example: ``selector.register(server, selectors.EVENT_READ)``
    fn fileno(&self) -> i32 {
        if self.l.local_addr().is_err() {
            -1
        } else {
            self.l.fd()
        }
    }

    /// Stop listening (idempotent); removes the Unix socket file this listener made. A blocked
    /// ``accept`` in another thread raises ``ClosedError``.
    ///
    /// Example: ``server.close()``
    fn close(&self) {
        self.l.close()
    }

    /// True once closed.
    ///
    /// Example: ``server.close(); assert server.closed``
    #[getter]
    fn closed(&self) -> bool {
        self.l.local_addr().is_err()
    }

    fn __enter__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(&self, _args: &Bound<'_, PyTuple>) -> bool {
        self.l.close();
        false
    }

    fn __repr__(&self) -> String {
        match self.l.local_addr() {
            Ok(a) => format!("<libsock.Listener fd={} address={a}>", self.l.fd()),
            Err(_) => "<libsock.Listener closed>".into(),
        }
    }
}
