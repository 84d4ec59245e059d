//! `Connection` and `connect()`.

use std::path::PathBuf;

use libsock::{ConnectOptions, Connection, Shutdown};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyString, PyTuple};

use crate::convert::*;
use crate::errors::{invalid, to_pyerr, wait, ATTACHED_SEND_MAX};
use crate::framing::{framing_arg, framing_to_py};

/// Open a TCP or Unix stream connection.
///
/// ``address`` is ``(host, port)``, ``"host:port"``, ``"[v6]:port"``, ``"unix:/path"`` or
/// ``"unix:@abstract"``; every resolved address (IPv6 and IPv4) is tried in turn.
/// ``timeout`` is the default for every later call (seconds; ``None`` waits forever, ``0``
/// polls); ``connect_timeout`` limits resolving plus connecting (default: ``timeout``).
/// ``framing`` cuts the stream into messages for ``send_msg``/``recv_msg``. Socket options are
/// keyword arguments (``nodelay=True``, ``keepalive=True``, ``keepalive_idle=30``,
/// ``recv_buffer_size=1 << 20``, ``linger=0``, ... see ``libsock.OPTION_NAMES``), plus
/// ``local_address=(host, port)`` to bind before connecting. ``tls=libsock.TLS(...)`` (or
/// ``tls=True`` for the defaults: the system's roots, the host's name) speaks TLS: the
/// handshake completes before ``connect`` returns. ``proxy`` connects through a proxy:
/// ``"socks5://host:port"``, ``"socks5://user:pass@host:port"`` (SOCKS5; the proxy resolves
/// host names) or ``"http://[user:pass@]host:port"`` (HTTP CONNECT); ``connect_timeout`` covers
/// the proxy's exchange too, and TLS runs end to end with ``address`` (its host is the name
/// checked). A refusal raises the error that fits the proxy's reply (``ConnectionRefusedError``
/// for "connection refused", a rule, a wrong password; ``UnreachableError``, ...) with the reply
/// in the message; a bad proxy URL raises ``InvalidArgumentError``.
///
/// Example::
///
///     >>> with libsock.connect(("127.0.0.1", 7000), timeout=5, nodelay=True) as conn:
///     ...     conn.sendall(b"ping")
///     ...     reply = conn.recv(1024)
#[pyfunction]
#[pyo3(signature = (address, *, timeout = None, connect_timeout = None, framing = None,
                    tls = None, proxy = None, **options))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn connect(
    py: Python<'_>,
    address: &Bound<'_, PyAny>,
    timeout: Option<&Bound<'_, PyAny>>,
    connect_timeout: Option<&Bound<'_, PyAny>>,
    framing: Option<&Bound<'_, PyAny>>,
    tls: Option<&Bound<'_, PyAny>>,
    proxy: Option<&str>,
    options: Option<&Bound<'_, PyDict>>,
) -> PyResult<PyConnection> {
    let ep = endpoint(address)?;
    let timeout = opt_timeout(timeout)?;
    let ct = match connect_timeout {
        Some(t) if !t.is_none() => timeout_value(t)?,
        _ => timeout,
    };
    let mut opts = ConnectOptions::new()
        .timeout(timeout)
        .framing(framing_arg(framing)?)
        .options(socket_options(py, options, "connect")?);
    opts.connect_timeout = ct;
    opts.tls = crate::tls::client_tls(py, tls)?;
    opts.proxy = proxy_arg(py, proxy)?;
    let c = wait(py, move || Connection::connect_with(&ep, &opts))?;
    Ok(PyConnection { c })
}

/// The ``proxy=`` argument: a URL parsed by core (``None``: connect directly).
pub(crate) fn proxy_arg(py: Python<'_>, proxy: Option<&str>) -> PyResult<Option<libsock::Proxy>> {
    proxy
        .map(|u| libsock::Proxy::parse(u).map_err(|e| to_pyerr(py, e)))
        .transpose()
}

/// The descriptors of ``fds``: ints, or objects with ``fileno()`` (files, sockets).
fn fd_list(py: Python<'_>, fds: &Bound<'_, PyAny>) -> PyResult<Vec<i32>> {
    let mut out = Vec::new();
    for item in fds.try_iter()? {
        let item = item?;
        let fd: i64 = match item.extract::<i64>() {
            Ok(n) => n,
            Err(_) if item.hasattr("fileno")? => item.call_method0("fileno")?.extract()?,
            Err(_) => {
                return Err(PyTypeError::new_err(format!(
                    "fds: expected ints or objects with fileno(), got {}",
                    item.get_type().name()?
                )))
            }
        };
        if !(0..=i32::MAX as i64).contains(&fd) {
            return Err(invalid(py, format!("fds: {fd} is not a file descriptor")));
        }
        out.push(fd as i32);
    }
    Ok(out)
}

/// A connected TCP or Unix stream, made by ``libsock.connect`` or ``Listener.accept``.
///
/// Like a stdlib socket (``send``, ``send_all``/``sendall``, ``recv``, ``recv_into``,
/// ``set_timeout``/``settimeout``, ``fileno``, ``shutdown``, context manager), plus whole
/// messages through its ``framing`` (``send_msg``, ``recv_msg``, iteration), exact reads
/// (``recv_exact``, ``recv_until``, ``readline``), typed values (``send_struct``/
/// ``recv_struct``), files (``send_file``, ``recv_file``) and options read back from the OS.
/// The names are every door's (docs/NAMES.md); the stdlib's spellings are aliases. Every blocking call releases the GIL, can
/// be interrupted with Ctrl-C, and takes an optional ``timeout=`` keyword for that call only.
/// ``close()`` from another thread makes a blocked call raise ``ClosedError``. The socket is
/// closed when the object is collected.
///
/// Example::
///
///     >>> conn = libsock.connect("127.0.0.1:7000", framing=libsock.LengthPrefixed())
///     >>> conn.send_msg(b"hello")
///     >>> conn.recv_msg(timeout=2.0)
///     b'hello'
///     >>> conn.close()
#[pyclass(frozen, module = "libsock", name = "Connection")]
pub(crate) struct PyConnection {
    pub(crate) c: Connection,
}

fn parse_shutdown(py: Python<'_>, how: &Bound<'_, PyAny>) -> PyResult<Shutdown> {
    if let Ok(s) = how.cast::<PyString>() {
        return s.to_cow()?.parse::<Shutdown>().map_err(|e| to_pyerr(py, e));
    }
    match how.extract::<i64>() {
        // socket.SHUT_RD, SHUT_WR, SHUT_RDWR
        Ok(0) => Ok(Shutdown::Read),
        Ok(1) => Ok(Shutdown::Write),
        Ok(2) => Ok(Shutdown::Both),
        Ok(n) => Err(invalid(
            py,
            format!("shutdown direction {n} (expected 0, 1 or 2)"),
        )),
        Err(_) => Err(PyTypeError::new_err(format!(
            "shutdown direction must be \"read\", \"write\" or \"both\", not {}",
            type_name(how)
        ))),
    }
}

fn struct_format(py: Python<'_>, fmt: &Bound<'_, PyAny>) -> PyResult<()> {
    let first = if let Ok(s) = fmt.cast::<PyString>() {
        s.to_cow()?.chars().next()
    } else if let Ok(b) = fmt.cast::<PyBytes>() {
        b.as_bytes().first().map(|&c| c as char)
    } else {
        return Err(PyTypeError::new_err(format!(
            "a struct format must be str or bytes, not {}",
            type_name(fmt)
        )));
    };
    match first {
        Some('<' | '>' | '!' | '=') => Ok(()),
        _ => Err(invalid(
            py,
            format!(
                "struct format {} needs an explicit byte order: start it with '<' (little \
                 endian), '>' or '!' (big endian) or '=' (native)",
                fmt.repr()?
            ),
        )),
    }
}

fn non_negative(py: Python<'_>, n: i128, what: &str) -> PyResult<usize> {
    if n < 0 {
        return Err(invalid(py, format!("negative {what} {n}")));
    }
    ranged(py, what, n)
}

#[pymethods]
impl PyConnection {
    /// A pair of connected Unix stream connections (like ``socket.socketpair()``).
    ///
    /// Example::
    ///
    ///     >>> a, b = libsock.Connection.pair()
    ///     >>> a.sendall(b"x"); b.recv(1)
    ///     b'x'
    #[staticmethod]
    fn pair(py: Python<'_>) -> PyResult<(PyConnection, PyConnection)> {
        let (a, b) = Connection::pair().map_err(|e| to_pyerr(py, e))?;
        Ok((PyConnection { c: a }, PyConnection { c: b }))
    }

    /// Send what the socket takes in one go (waiting until it takes at least one byte); returns
    /// the number of bytes sent. ``data`` is any bytes-like object.
    ///
    /// Example::
    ///
    ///     >>> n = conn.send(b"hello")
    #[pyo3(signature = (data, *, timeout = TimeoutArg::DEFAULT))]
    fn send(
        &self,
        py: Python<'_>,
        data: &Bound<'_, PyAny>,
        timeout: TimeoutArg,
    ) -> PyResult<usize> {
        let b = InBuf::new(data)?;
        let s = b.as_slice();
        let c = &self.c;
        if s.len() <= ATTACHED_SEND_MAX {
            if let Some(n) = c.try_send(s).map_err(|e| to_pyerr(py, e))? {
                return Ok(n);
            }
        }
        wait(py, || c.with_timeout(timeout.0).send(s))
    }

    /// Send all of ``data`` (any bytes-like object); the timeout covers the whole call.
    /// ``sendall`` is the same method under the stdlib's name.
    ///
    /// Example::
    ///
    ///     >>> conn.send_all(b"x" * 1_000_000)
    #[pyo3(signature = (data, *, timeout = TimeoutArg::DEFAULT))]
    fn send_all(
        &self,
        py: Python<'_>,
        data: &Bound<'_, PyAny>,
        timeout: TimeoutArg,
    ) -> PyResult<()> {
        let b = InBuf::new(data)?;
        let mut s = b.as_slice();
        let c = &self.c;
        if s.len() <= ATTACHED_SEND_MAX {
            // What the socket takes at once goes without releasing the GIL; the rest waits.
            if let Some(n) = c.try_send(s).map_err(|e| to_pyerr(py, e))? {
                if n == s.len() {
                    return Ok(());
                }
                s = &s[n..];
            }
        }
        wait(py, || c.with_timeout(timeout.0).send_all(s))
    }

    /// Receive up to ``n`` bytes; ``b""`` when the peer closed in order (as in the stdlib).
    ///
    /// Example::
    ///
    ///     >>> data = conn.recv(4096, timeout=1.0)
    #[pyo3(signature = (n = 65536, *, timeout = TimeoutArg::DEFAULT))]
    fn recv<'py>(
        &self,
        py: Python<'py>,
        #[pyo3(from_py_with = int_arg)] n: i128,
        timeout: TimeoutArg,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let n = non_negative(py, n, "buffer size")?.min(SCRATCH_MAX);
        if n == 0 {
            return Ok(PyBytes::new(py, b""));
        }
        let c = &self.c;
        with_scratch(n, |buf| {
            let k = wait(py, || c.with_timeout(timeout.0).recv_into(&mut *buf))?;
            Ok(PyBytes::new(py, &buf[..k]))
        })
    }

    /// Receive into ``buffer`` (any writable buffer: bytearray, memoryview, array.array, numpy
    /// array) without copying; at most ``nbytes`` bytes (0 = the whole buffer). Returns the
    /// number of bytes received, 0 when the peer closed in order.
    ///
    /// Example::
    ///
    ///     >>> buf = bytearray(4096)
    ///     >>> n = conn.recv_into(buf)
    ///     >>> data = buf[:n]
    #[pyo3(signature = (buffer, nbytes = 0, *, timeout = TimeoutArg::DEFAULT))]
    fn recv_into(
        &self,
        py: Python<'_>,
        buffer: &Bound<'_, PyAny>,
        #[pyo3(from_py_with = int_arg)] nbytes: i128,
        timeout: TimeoutArg,
    ) -> PyResult<usize> {
        let mut ob = OutBuf::new(buffer)?;
        let n = match non_negative(py, nbytes, "nbytes")? {
            0 => ob.len(),
            n if n > ob.len() => {
                return Err(invalid(
                    py,
                    format!("nbytes {n} is larger than the buffer ({} bytes)", ob.len()),
                ))
            }
            n => n,
        };
        let s = &mut ob.as_mut_slice()[..n];
        let c = &self.c;
        wait(py, || c.with_timeout(timeout.0).recv_into(s))
    }

    /// Receive exactly ``n`` bytes. Raises ``ClosedError`` if the peer closes first (what
    /// arrived stays buffered for the next call) and ``TimeoutError`` after the timeout (same).
    /// (``recv_exactly``, its former name, still works.)
    ///
    /// Example::
    ///
    ///     >>> header = conn.recv_exact(8)
    #[pyo3(signature = (n, *, timeout = TimeoutArg::DEFAULT))]
    fn recv_exact<'py>(
        &self,
        py: Python<'py>,
        #[pyo3(from_py_with = int_arg)] n: i128,
        timeout: TimeoutArg,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let n = non_negative(py, n, "byte count")?;
        let c = &self.c;
        PyBytes::new_with(py, n, |buf| {
            wait(py, || c.with_timeout(timeout.0).recv_exact_into(buf))
        })
    }

    /// Fill ``buffer`` (or its first ``nbytes`` bytes) completely, without copying; returns the
    /// number of bytes written. ``ClosedError`` if the peer closes first.
    /// (``recv_exactly_into``, its former name, still works.)
    ///
    /// Example::
    ///
    ///     >>> samples = numpy.empty(1024, dtype="<f4")
    ///     >>> conn.recv_exact_into(samples)
    ///     4096
    #[pyo3(signature = (buffer, nbytes = 0, *, timeout = TimeoutArg::DEFAULT))]
    fn recv_exact_into(
        &self,
        py: Python<'_>,
        buffer: &Bound<'_, PyAny>,
        #[pyo3(from_py_with = int_arg)] nbytes: i128,
        timeout: TimeoutArg,
    ) -> PyResult<usize> {
        let mut ob = OutBuf::new(buffer)?;
        let n = match non_negative(py, nbytes, "nbytes")? {
            0 => ob.len(),
            n if n > ob.len() => {
                return Err(invalid(
                    py,
                    format!("nbytes {n} is larger than the buffer ({} bytes)", ob.len()),
                ))
            }
            n => n,
        };
        let s = &mut ob.as_mut_slice()[..n];
        let c = &self.c;
        wait(py, || c.with_timeout(timeout.0).recv_exact_into(s))?;
        Ok(n)
    }

    /// Receive up to and including ``delimiter``. ``FrameTooLargeError`` if ``max`` bytes
    /// arrive without it, ``ClosedError`` if the stream ends first (the bytes stay buffered).
    ///
    /// Example::
    ///
    ///     >>> conn.recv_until(b"\r\n\r\n", max=16384)   # an HTTP header
    #[pyo3(signature = (delimiter, max = 65536, *, timeout = TimeoutArg::DEFAULT))]
    fn recv_until<'py>(
        &self,
        py: Python<'py>,
        delimiter: &Bound<'py, PyAny>,
        max: i128,
        timeout: TimeoutArg,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let d = bytes_param(delimiter)?;
        let max = non_negative(py, max, "max")?;
        let c = &self.c;
        let b = wait(py, || c.with_timeout(timeout.0).recv_until(&d, max))?;
        Ok(PyBytes::new(py, &b))
    }

    /// Receive one line, including its ``b"\n"`` (``recv_until(b"\n", max)``).
    ///
    /// Example::
    ///
    ///     >>> line = conn.readline()
    #[pyo3(signature = (max = 65536, *, timeout = TimeoutArg::DEFAULT))]
    fn readline<'py>(
        &self,
        py: Python<'py>,
        max: i128,
        timeout: TimeoutArg,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let max = non_negative(py, max, "max")?;
        let c = &self.c;
        let b = wait(py, || c.with_timeout(timeout.0).recv_until(b"\n", max))?;
        Ok(PyBytes::new(py, &b))
    }

    /// Send one message through the connection's framing (header and body in one system call).
    ///
    /// Example::
    ///
    ///     >>> conn.send_msg(b"hello")
    #[pyo3(signature = (data, *, timeout = TimeoutArg::DEFAULT))]
    fn send_msg(
        &self,
        py: Python<'_>,
        data: &Bound<'_, PyAny>,
        timeout: TimeoutArg,
    ) -> PyResult<()> {
        let b = InBuf::new(data)?;
        let s = b.as_slice();
        let c = &self.c;
        wait(py, || c.with_timeout(timeout.0).send_msg(s))
    }

    /// Send several messages (an iterable of bytes-like objects) through the framing with as
    /// few system calls as possible; every message is checked before anything is sent.
    ///
    /// Example::
    ///
    ///     >>> conn.send_msgs([b"one", b"two", b"three"])
    #[pyo3(signature = (messages, *, timeout = TimeoutArg::DEFAULT))]
    fn send_msgs(
        &self,
        py: Python<'_>,
        messages: &Bound<'_, PyAny>,
        timeout: TimeoutArg,
    ) -> PyResult<()> {
        let mut bufs = Vec::new();
        if let Ok(list) = messages.cast::<PyList>() {
            // The usual call: a list, read without the iterator protocol.
            bufs.reserve(list.len());
            for item in list.iter() {
                bufs.push(InBuf::new(&item)?);
            }
        } else {
            for item in messages.try_iter()? {
                bufs.push(InBuf::new(&item?)?);
            }
        }
        let slices: Vec<&[u8]> = bufs.iter().map(|b| b.as_slice()).collect();
        let c = &self.c;
        wait(py, || c.with_timeout(timeout.0).send_msgs(&slices))
    }

    /// Receive one message through the connection's framing. ``ClosedError`` at the end of the
    /// stream, ``FrameTooLargeError`` for a frame over ``max_len`` (never allocated).
    ///
    /// Example::
    ///
    ///     >>> msg = conn.recv_msg(timeout=5)
    #[pyo3(signature = (*, timeout = TimeoutArg::DEFAULT))]
    fn recv_msg<'py>(&self, py: Python<'py>, timeout: TimeoutArg) -> PyResult<Bound<'py, PyBytes>> {
        let c = &self.c;
        let b = wait(py, || c.with_timeout(timeout.0).recv_msg())?;
        Ok(PyBytes::new(py, &b))
    }

    /// Receive one message into ``buffer``; returns its length. A message larger than the
    /// buffer raises ``BufferTooSmallError`` (``.needed`` is its size) and stays queued for
    /// the next call.
    ///
    /// Example::
    ///
    ///     >>> buf = bytearray(1024)
    ///     >>> n = conn.recv_msg_into(buf)
    #[pyo3(signature = (buffer, *, timeout = TimeoutArg::DEFAULT))]
    fn recv_msg_into(
        &self,
        py: Python<'_>,
        buffer: &Bound<'_, PyAny>,
        timeout: TimeoutArg,
    ) -> PyResult<usize> {
        let mut ob = OutBuf::new(buffer)?;
        let s = ob.as_mut_slice();
        let c = &self.c;
        wait(py, || c.with_timeout(timeout.0).recv_msg_into(s))
    }

    /// Wait for at least one message, then return up to ``max`` messages that are already
    /// here (a batch, for throughput).
    ///
    /// Example::
    ///
    ///     >>> for msg in conn.recv_msgs(64): handle(msg)
    #[pyo3(signature = (max = 64, *, timeout = TimeoutArg::DEFAULT))]
    fn recv_msgs<'py>(
        &self,
        py: Python<'py>,
        max: i128,
        timeout: TimeoutArg,
    ) -> PyResult<Bound<'py, PyList>> {
        let max = non_negative(py, max, "max")?;
        let c = &self.c;
        // The batch comes back copied into one buffer (no object per message on the Rust side);
        // each message becomes a bytes object straight from its slice, with the GIL held once.
        let mut data = Vec::with_capacity(max.min(512) * 128);
        let mut ends = Vec::with_capacity(max.min(512));
        wait(py, || {
            c.with_timeout(timeout.0)
                .recv_msgs_packed(max, &mut data, &mut ends)
        })?;
        let mut start = 0;
        PyList::new(
            py,
            ends.iter().map(|&end| {
                let b = PyBytes::new(py, &data[start..end]);
                start = end;
                b
            }),
        )
    }

    fn __iter__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    /// The next message; iteration ends when the peer closes.
    fn __next__<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyBytes>>> {
        let c = &self.c;
        match wait(py, || c.recv_msg()) {
            Ok(b) => Ok(Some(PyBytes::new(py, &b))),
            Err(e) if is_closed_error(py, &e) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Send ``values`` packed with the ``struct`` format ``fmt``, which must begin with an
    /// explicit byte order (``<``, ``>``, ``!`` or ``=``).
    ///
    /// Example::
    ///
    ///     >>> conn.send_struct("<If", 7, 2.5)
    #[pyo3(signature = (fmt, *values, timeout = TimeoutArg::DEFAULT))]
    fn send_struct(
        &self,
        py: Python<'_>,
        fmt: &Bound<'_, PyAny>,
        values: &Bound<'_, PyTuple>,
        timeout: TimeoutArg,
    ) -> PyResult<()> {
        struct_format(py, fmt)?;
        let st = PyModule::import(py, "struct")?;
        let mut args = vec![fmt.clone()];
        args.extend(values.iter());
        let packed = st.getattr("pack")?.call1(PyTuple::new(py, args)?)?;
        let packed = packed.cast::<PyBytes>()?;
        let s = packed.as_bytes();
        let c = &self.c;
        wait(py, || c.with_timeout(timeout.0).send_all(s))
    }

    /// Receive ``struct.calcsize(fmt)`` bytes and unpack them; ``fmt`` must begin with an
    /// explicit byte order (``<``, ``>``, ``!`` or ``=``). Returns a tuple.
    ///
    /// Example::
    ///
    ///     >>> count, value = conn.recv_struct("<If")
    #[pyo3(signature = (fmt, *, timeout = TimeoutArg::DEFAULT))]
    fn recv_struct<'py>(
        &self,
        py: Python<'py>,
        fmt: &Bound<'py, PyAny>,
        timeout: TimeoutArg,
    ) -> PyResult<Bound<'py, PyAny>> {
        struct_format(py, fmt)?;
        let st = PyModule::import(py, "struct")?;
        let n: usize = st.getattr("calcsize")?.call1((fmt,))?.extract()?;
        let data = self.recv_exact(py, n as i128, timeout)?;
        st.getattr("unpack")?.call1((fmt, data))
    }

    /// Shut down ``"write"`` (half-close: the peer reads end of stream after what was sent),
    /// ``"read"`` or ``"both"``; ``socket.SHUT_*`` numbers work too.
    ///
    /// Example::
    ///
    ///     >>> conn.send_all(request); conn.shutdown("write")
    ///     >>> reply = conn.recv(65536)
    #[pyo3(signature = (how = None))]
    fn shutdown(&self, py: Python<'_>, how: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        let how = match how {
            None => Shutdown::Write,
            Some(h) => parse_shutdown(py, h)?,
        };
        self.c.shutdown(how).map_err(|e| to_pyerr(py, e))
    }

    /// Set the default timeout of blocking calls: seconds, ``None`` = forever, ``0`` = poll.
    /// ``settimeout`` is the same method under the stdlib's name; the ``timeout`` property too.
    ///
    /// Example::
    ///
    ///     >>> conn.set_timeout(2.5)
    #[pyo3(name = "set_timeout")]
    fn set_timeout_method(&self, value: &Bound<'_, PyAny>) -> PyResult<()> {
        self.c.set_timeout(timeout_value(value)?);
        Ok(())
    }

    /// The default timeout in seconds (``None`` = forever). ``gettimeout`` is the same method
    /// under the stdlib's name.
    ///
    /// Example::
    ///
    ///     >>> conn.get_timeout()
    ///     2.5
    #[pyo3(name = "get_timeout")]
    fn get_timeout_method(&self) -> Option<f64> {
        timeout_to_py(self.c.timeout())
    }

    /// Same as ``set_timeout`` (the stdlib's name).
    ///
    /// Example: ``conn.settimeout(2.5)``
    fn settimeout(&self, value: &Bound<'_, PyAny>) -> PyResult<()> {
        self.set_timeout_method(value)
    }

    /// Same as ``get_timeout`` (the stdlib's name).
    ///
    /// Example: ``conn.gettimeout()``
    fn gettimeout(&self) -> Option<f64> {
        self.get_timeout_method()
    }

    /// The default timeout in seconds (``None`` = forever, ``0`` = poll); settable.
    ///
    /// Example: ``conn.timeout = 1.5``
    #[getter]
    fn get_timeout(&self) -> Option<f64> {
        timeout_to_py(self.c.timeout())
    }

    #[setter]
    fn set_timeout(&self, value: &Bound<'_, PyAny>) -> PyResult<()> {
        self.set_timeout_method(value)
    }

    /// What the TLS handshake agreed on, as a dict: ``version`` (``"TLSv1.3"``), ``cipher``,
    /// ``alpn`` (``bytes`` or ``None``), ``peer_certificate`` (DER ``bytes`` or ``None``),
    /// ``peer_fingerprint`` (its SHA-256, what ``TLS(pin=...)`` takes); ``None`` for a plain
    /// connection.
    ///
    /// Example: ``conn.tls_info["version"]``
    #[getter]
    fn tls_info<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyDict>>> {
        self.c
            .tls_info()
            .map(|i| crate::tls::info_dict(py, &i))
            .transpose()
    }

    /// Like ``ssl.SSLSocket.version()``: the TLS version agreed on, ``None`` for a plain
    /// connection. Example: ``conn.version()``
    fn version(&self) -> Option<String> {
        self.c.tls_info().map(|i| i.version)
    }

    /// Like ``ssl.SSLSocket.selected_alpn_protocol()``. Example: ``conn.selected_alpn_protocol()``
    fn selected_alpn_protocol(&self) -> Option<String> {
        self.c
            .tls_info()
            .and_then(|i| i.alpn)
            .map(|a| String::from_utf8_lossy(&a).into_owned())
    }

    /// Like ``ssl.SSLSocket.getpeercert(binary_form=True)``: the peer's certificate (DER), if
    /// any. Example: ``der = conn.getpeercert(True)``
    #[pyo3(signature = (binary_form = true))]
    fn getpeercert<'py>(
        &self,
        py: Python<'py>,
        binary_form: bool,
    ) -> PyResult<Option<Bound<'py, PyBytes>>> {
        if !binary_form {
            return Err(invalid(
                py,
                "getpeercert(False) is not supported: use binary_form=True (DER)",
            ));
        }
        Ok(self
            .c
            .tls_info()
            .and_then(|i| i.peer_certificates.into_iter().next())
            .map(|c| PyBytes::new(py, &c)))
    }

    /// Send all of ``data`` with the file descriptors ``fds`` (ints, or objects with
    /// ``fileno()``) attached (SCM_RIGHTS; Unix connections only); returns ``len(data)``, as
    /// ``socket.send_fds`` does. The peer gets its own duplicates; ours stay open. ``data`` must
    /// not be empty when ``fds`` is not; at most 253 descriptors. ``UnsupportedError`` on TCP
    /// or TLS.
    ///
    /// Example::
    ///
    ///     >>> with open("report.pdf", "rb") as f:
    ///     ...     conn.send_fds(b"file", [f])
    #[pyo3(signature = (data, fds, *, timeout = TimeoutArg::DEFAULT))]
    fn send_fds(
        &self,
        py: Python<'_>,
        data: &Bound<'_, PyAny>,
        fds: &Bound<'_, PyAny>,
        timeout: TimeoutArg,
    ) -> PyResult<usize> {
        let raw = fd_list(py, fds)?;
        let b = InBuf::new(data)?;
        let s = b.as_slice();
        let c = &self.c;
        // SAFETY: the caller keeps its descriptors open for the call (as with socket.send_fds);
        // a closed one makes sendmsg fail with EBADF, nothing worse.
        let borrowed: Vec<std::os::fd::BorrowedFd<'_>> = raw
            .iter()
            .map(|&fd| unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) })
            .collect();
        wait(py, || c.with_timeout(timeout.0).send_fds(s, &borrowed))?;
        Ok(s.len())
    }

    /// Receive up to ``bufsize`` bytes and up to ``maxfds`` file descriptors sent with them
    /// (Unix connections only); returns ``(data, fds)``, ``fds`` a list of ints that the caller
    /// owns and must close (close-on-exec is set), as ``socket.recv_fds`` does. ``b""`` at the
    /// end of the stream. More descriptors than ``maxfds`` raise ``IoError`` (the kernel
    /// closed the extra ones, libsock the others; the bytes stay for the next receive).
    ///
    /// Example::
    ///
    ///     >>> data, fds = conn.recv_fds(1024, 4)
    ///     >>> f = open(fds[0], "rb")
    #[pyo3(signature = (bufsize, maxfds, *, timeout = TimeoutArg::DEFAULT))]
    fn recv_fds<'py>(
        &self,
        py: Python<'py>,
        #[pyo3(from_py_with = int_arg)] bufsize: i128,
        #[pyo3(from_py_with = int_arg)] maxfds: i128,
        timeout: TimeoutArg,
    ) -> PyResult<(Bound<'py, PyBytes>, Vec<i32>)> {
        use std::os::fd::IntoRawFd;
        let n = non_negative(py, bufsize, "bufsize")?.min(SCRATCH_MAX);
        let maxfds = non_negative(py, maxfds, "maxfds")?;
        let c = &self.c;
        with_scratch(n, |buf| {
            let (k, fds) = wait(py, || c.with_timeout(timeout.0).recv_fds(&mut *buf, maxfds))?;
            let fds: Vec<i32> = fds.into_iter().map(|f| f.into_raw_fd()).collect();
            Ok((PyBytes::new(py, &buf[..k]), fds))
        })
    }

    /// What went through this connection so far, as a dict: ``peer``, ``connected_since``
    /// (seconds since the epoch, like ``time.time()``), ``bytes_in``, ``bytes_out`` (with TLS:
    /// application bytes), ``messages_in``, ``messages_out`` (messages of the ``recv_msg`` and
    /// ``send_msg`` families), ``queued_bytes`` (always 0: a blocking connection queues nothing)
    /// and ``tls``; the same keys as ``Server.client_stats``. Never waits, even while another
    /// thread is blocked in a call on this connection.
    ///
    /// Example: ``conn.stats()["bytes_in"]``
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        connection_stats_dict(py, &self.c.stats())
    }

    /// The peer process's ``(pid, uid, gid)`` as the kernel recorded them when the connection
    /// was made (SO_PEERCRED; Unix connections on Linux). ``UnsupportedError`` on TCP.
    ///
    /// Example: ``pid, uid, gid = conn.peer_credentials()``
    fn peer_credentials(&self, py: Python<'_>) -> PyResult<(i32, u32, u32)> {
        let c = self.c.peer_credentials().map_err(|e| to_pyerr(py, e))?;
        Ok((c.pid, c.uid, c.gid))
    }

    /// The file descriptor (for select/poll/selectors; do not close it), -1 once closed.
    ///
    /// Example: ``selectors.DefaultSelector().register(conn, selectors.EVENT_READ)``
    fn fileno(&self) -> i32 {
        if self.c.is_closed() {
            -1
        } else {
            self.c.fd()
        }
    }

    /// Bytes that can be read now without waiting.
    ///
    /// Example: ``if conn.bytes_available >= 4: header = conn.recv_exact(4)``
    #[getter]
    fn bytes_available(&self, py: Python<'_>) -> PyResult<usize> {
        self.c.bytes_available().map_err(|e| to_pyerr(py, e))
    }

    /// The local address: ``(host, port)`` for IP, ``"unix:/path"`` for Unix.
    ///
    /// Example: ``host, port = conn.local_address``
    #[getter]
    fn local_address<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let a = self.c.local_addr().map_err(|e| to_pyerr(py, e))?;
        addr_to_py(py, &a)
    }

    /// The peer's address: ``(host, port)`` for IP, ``"unix:/path"`` for Unix (known after
    /// close too).
    ///
    /// Example: ``print(conn.peer_address)  # ('127.0.0.1', 7000)``
    #[getter]
    fn peer_address<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        addr_to_py(py, &self.c.peer_addr())
    }

    /// Send ``count`` bytes (default: the rest) of the file at ``path`` from ``offset``, with
    /// sendfile(2) where available; returns the bytes sent. ``sendfile`` is the same method
    /// under the stdlib's name.
    ///
    /// Example::
    ///
    ///     >>> conn.send_file("video.mp4")
    #[pyo3(signature = (path, offset = 0, count = None, *, timeout = TimeoutArg::DEFAULT))]
    fn send_file(
        &self,
        py: Python<'_>,
        path: PathBuf,
        offset: i128,
        count: Option<i128>,
        timeout: TimeoutArg,
    ) -> PyResult<u64> {
        let offset: u64 = ranged(py, "offset", offset)?;
        let count: Option<u64> = count.map(|n| ranged(py, "count", n)).transpose()?;
        let c = &self.c;
        wait(py, || {
            c.with_timeout(timeout.0).send_file(&path, offset, count)
        })
    }

    /// Receive exactly ``size`` bytes into a new file at ``path`` (created or truncated);
    /// returns the bytes written. The timeout applies to each wait for progress.
    /// (``recvfile``, its former name, still works.)
    ///
    /// Example::
    ///
    ///     >>> conn.recv_file("copy.mp4", size)
    #[pyo3(signature = (path, size, *, timeout = TimeoutArg::DEFAULT))]
    fn recv_file(
        &self,
        py: Python<'_>,
        path: PathBuf,
        size: i128,
        timeout: TimeoutArg,
    ) -> PyResult<u64> {
        let size: u64 = ranged(py, "size", size)?;
        let c = &self.c;
        wait(py, || c.with_timeout(timeout.0).recv_file(&path, size))
    }

    /// Same as ``send_all`` (the stdlib's name).
    ///
    /// Example: ``conn.sendall(b"x" * 1_000_000)``
    #[pyo3(signature = (data, *, timeout = TimeoutArg::DEFAULT))]
    fn sendall(
        &self,
        py: Python<'_>,
        data: &Bound<'_, PyAny>,
        timeout: TimeoutArg,
    ) -> PyResult<()> {
        self.send_all(py, data, timeout)
    }

    /// Deprecated: the former name of ``recv_exact``.
    ///
    /// Example: ``conn.recv_exactly(8)``
    #[pyo3(signature = (n, *, timeout = TimeoutArg::DEFAULT))]
    fn recv_exactly<'py>(
        &self,
        py: Python<'py>,
        #[pyo3(from_py_with = int_arg)] n: i128,
        timeout: TimeoutArg,
    ) -> PyResult<Bound<'py, PyBytes>> {
        self.recv_exact(py, n, timeout)
    }

    /// Deprecated: the former name of ``recv_exact_into``.
    ///
    /// Example: ``conn.recv_exactly_into(buf)``
    #[pyo3(signature = (buffer, nbytes = 0, *, timeout = TimeoutArg::DEFAULT))]
    fn recv_exactly_into(
        &self,
        py: Python<'_>,
        buffer: &Bound<'_, PyAny>,
        #[pyo3(from_py_with = int_arg)] nbytes: i128,
        timeout: TimeoutArg,
    ) -> PyResult<usize> {
        self.recv_exact_into(py, buffer, nbytes, timeout)
    }

    /// Same as ``send_file`` (the stdlib's name).
    ///
    /// Example: ``conn.sendfile("video.mp4")``
    #[pyo3(signature = (path, offset = 0, count = None, *, timeout = TimeoutArg::DEFAULT))]
    fn sendfile(
        &self,
        py: Python<'_>,
        path: PathBuf,
        offset: i128,
        count: Option<i128>,
        timeout: TimeoutArg,
    ) -> PyResult<u64> {
        self.send_file(py, path, offset, count, timeout)
    }

    /// Deprecated: the former name of ``recv_file``.
    ///
    /// Example: ``conn.recvfile("copy.mp4", size)``
    #[pyo3(signature = (path, size, *, timeout = TimeoutArg::DEFAULT))]
    fn recvfile(
        &self,
        py: Python<'_>,
        path: PathBuf,
        size: i128,
        timeout: TimeoutArg,
    ) -> PyResult<u64> {
        self.recv_file(py, path, size, timeout)
    }

    /// The framing of ``send_msg``/``recv_msg`` (settable; bytes already buffered are kept).
    ///
    /// Example: ``conn.framing = libsock.Delimited(b"\r\n")``
    #[getter]
    fn get_framing<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        framing_to_py(py, self.c.framing())
    }

    #[setter]
    fn set_framing(&self, py: Python<'_>, value: &Bound<'_, PyAny>) -> PyResult<()> {
        let f = framing_arg(Some(value))?;
        self.c.set_framing(f).map_err(|e| to_pyerr(py, e))
    }

    /// Every option that applies, read back from the OS, as ``{name: value}``.
    ///
    /// Example::
    ///
    ///     >>> conn.options["nodelay"]
    ///     True
    #[getter]
    fn options<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        options_dict(py, |o| self.c.get_option(o))
    }

    /// Set an option by name (see ``libsock.OPTION_NAMES``): bools for on/off options, ints
    /// otherwise (seconds for keepalive_*, bytes for buffer sizes, ``None`` turns linger off).
    ///
    /// Example::
    ///
    ///     >>> conn.set_option("nodelay", True)
    fn set_option(
        &self,
        py: Python<'_>,
        name: &Bound<'_, PyAny>,
        value: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let opt = sockopt(name)?;
        let v = opt_value(opt, value)?;
        self.c.set_option(opt, v).map_err(|e| to_pyerr(py, e))
    }

    /// Read one option back from the OS.
    ///
    /// Example::
    ///
    ///     >>> conn.get_option("recv_buffer_size")
    ///     131072
    fn get_option<'py>(
        &self,
        py: Python<'py>,
        name: &Bound<'_, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let opt = sockopt(name)?;
        let v = self.c.get_option(opt).map_err(|e| to_pyerr(py, e))?;
        opt_to_py(py, opt, v)
    }

    /// Close now (idempotent). A call blocked on this connection in another thread raises
    /// ``ClosedError``.
    ///
    /// Example::
    ///
    ///     >>> conn.close(); conn.close()   # harmless
    fn close(&self) {
        self.c.close()
    }

    /// True once closed.
    ///
    /// Example: ``conn.close(); assert conn.closed``
    #[getter]
    fn closed(&self) -> bool {
        self.c.is_closed()
    }

    fn __enter__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(&self, _args: &Bound<'_, PyTuple>) -> bool {
        self.c.close();
        false
    }

    fn __repr__(&self) -> String {
        if self.c.is_closed() {
            format!("<libsock.Connection closed peer={}>", self.c.peer_addr())
        } else {
            let local = self
                .c
                .local_addr()
                .map(|a| a.to_string())
                .unwrap_or_else(|_| "?".into());
            format!(
                "<libsock.Connection fd={} local={} peer={}>",
                self.c.fd(),
                local,
                self.c.peer_addr()
            )
        }
    }
}

/// True if `e` is libsock's ClosedError.
pub(crate) fn is_closed_error(py: Python<'_>, e: &PyErr) -> bool {
    e.value(py)
        .getattr("code")
        .and_then(|c| c.extract::<i32>())
        .map(|c| c == libsock::ErrorKind::Closed.code())
        .unwrap_or(false)
}
