//! Conversions between Python values and core values: addresses, timeouts, buffers, options.

use std::path::PathBuf;
use std::time::Duration;

use libsock::{Addr, Endpoint, SockOpt, SocketOptions, Timeout};
use pyo3::buffer::PyUntypedBuffer;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyByteArray, PyBytes, PyDict, PyString, PyTuple};

use crate::errors::{invalid, to_pyerr};

// ---------------------------------------------------------------------------------------------
// Timeouts: float seconds, None = forever, 0 = poll (as in the stdlib).

/// A timeout from Python: `None` = forever, a number of seconds (0 = poll).
pub(crate) fn timeout_value(obj: &Bound<'_, PyAny>) -> PyResult<Option<Duration>> {
    if obj.is_none() {
        return Ok(None);
    }
    let secs: f64 = obj.extract().map_err(|_| {
        PyTypeError::new_err(format!(
            "timeout must be a number of seconds or None, not {}",
            type_name(obj)
        ))
    })?;
    if secs.is_nan() || secs < 0.0 {
        return Err(invalid(
            obj.py(),
            format!("timeout {secs} must be a non-negative number of seconds or None"),
        ));
    }
    Ok(Duration::try_from_secs_f64(secs).ok())
}

/// An optional timeout argument (absent or `None` = forever).
pub(crate) fn opt_timeout(obj: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Duration>> {
    match obj {
        None => Ok(None),
        Some(o) => timeout_value(o),
    }
}

/// A per-call `timeout=` keyword: absent = the object's default, `None` = forever, seconds.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct TimeoutArg(pub(crate) Timeout);

impl TimeoutArg {
    pub(crate) const DEFAULT: TimeoutArg = TimeoutArg(Timeout::Default);
}

impl<'a, 'py> FromPyObject<'a, 'py> for TimeoutArg {
    type Error = PyErr;
    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        Ok(TimeoutArg(timeout_value(&obj)?.into()))
    }
}

/// A core timeout as Python: seconds as float, `None` for forever.
pub(crate) fn timeout_to_py(t: Option<Duration>) -> Option<f64> {
    t.map(|d| d.as_secs_f64())
}

// ---------------------------------------------------------------------------------------------
// Addresses.

pub(crate) fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".into())
}

/// An endpoint from `(host, port)`, `"host:port"`, `"[v6]:port"`, `"unix:/path"`,
/// `"unix:@name"` or an `os.PathLike` (a Unix socket path).
pub(crate) fn endpoint(obj: &Bound<'_, PyAny>) -> PyResult<Endpoint> {
    let py = obj.py();
    if let Ok(s) = obj.cast::<PyString>() {
        return Endpoint::parse(&s.to_cow()?).map_err(|e| to_pyerr(py, e));
    }
    if let Ok(t) = obj.cast::<PyTuple>() {
        if !(2..=4).contains(&t.len()) {
            return Err(PyTypeError::new_err(format!(
                "an address tuple is (host, port), got a tuple of {} items",
                t.len()
            )));
        }
        let host_obj = t.get_item(0)?;
        let host: String = if let Ok(s) = host_obj.cast::<PyString>() {
            s.to_cow()?.into_owned()
        } else if let Ok(b) = host_obj.cast::<PyBytes>() {
            String::from_utf8_lossy(b.as_bytes()).into_owned()
        } else {
            return Err(PyTypeError::new_err(format!(
                "the host of an address must be a str, not {}",
                type_name(&host_obj)
            )));
        };
        let port_obj = t.get_item(1)?;
        if port_obj.is_instance_of::<PyBool>() {
            return Err(PyTypeError::new_err("the port must be an int, not bool"));
        }
        if !port_obj.is_instance_of::<pyo3::types::PyInt>() {
            return Err(PyTypeError::new_err(format!(
                "the port must be an int, not {}",
                type_name(&port_obj)
            )));
        }
        let port = port_obj
            .extract::<u16>()
            .map_err(|_| invalid(py, format!("port {port_obj} is out of range 0-65535")))?;
        // The stdlib's spellings for "any address" and "broadcast".
        let host = match host.as_str() {
            "" => "0.0.0.0",
            "<broadcast>" => "255.255.255.255",
            h => h,
        };
        return Endpoint::from_host_port(host, port).map_err(|e| to_pyerr(py, e));
    }
    if obj.hasattr("__fspath__")? {
        let p: PathBuf = obj.extract()?;
        if p.as_os_str().is_empty() {
            return Err(invalid(py, "empty Unix socket path"));
        }
        return Ok(Endpoint::Unix(p));
    }
    Err(PyTypeError::new_err(format!(
        "an address must be (host, port), \"host:port\" or \"unix:/path\", not {}",
        type_name(obj)
    )))
}

/// A concrete address from Python (for `send_to`): resolved, first address.
pub(crate) fn addr(py: Python<'_>, obj: &Bound<'_, PyAny>) -> PyResult<Addr> {
    let ep = endpoint(obj)?;
    let addrs = crate::wait(py, move || ep.resolve(None))?;
    addrs
        .into_iter()
        .next()
        .ok_or_else(|| invalid(py, "the address resolved to nothing"))
}

/// The address of a `(host, port)` tuple whose host is an IP literal (`"127.0.0.1"`, `"::1"`),
/// without going through [`endpoint`]'s parse and resolution; `None` for anything else (which
/// then goes the general way, with its checks and messages).
pub(crate) fn ip_tuple(obj: &Bound<'_, PyAny>) -> Option<Addr> {
    let t = obj.cast::<PyTuple>().ok()?;
    if t.len() != 2 {
        return None;
    }
    let host = t.get_item(0).ok()?;
    let host = host.cast::<PyString>().ok()?.to_cow().ok()?;
    let ip: std::net::IpAddr = host.parse().ok()?;
    let port = t.get_item(1).ok()?;
    if port.is_instance_of::<PyBool>() {
        return None;
    }
    let port: u16 = port.extract().ok()?;
    Some(Addr::Inet(std::net::SocketAddr::new(ip, port)))
}

/// An address as Python: `(host, port)` for IP, `"unix:/path"` / `"unix:@name"` for Unix.
pub(crate) fn addr_to_py<'py>(py: Python<'py>, a: &Addr) -> PyResult<Bound<'py, PyAny>> {
    match a {
        Addr::Inet(sa) => Ok((sa.ip().to_string(), sa.port())
            .into_pyobject(py)?
            .into_any()),
        other => Ok(PyString::new(py, &other.to_string()).into_any()),
    }
}

// ---------------------------------------------------------------------------------------------
// Buffers (the buffer protocol, without copies).

/// A read-only view of any bytes-like object, valid while this value lives.
pub(crate) struct InBuf<'py> {
    bytes: Option<Bound<'py, PyBytes>>,
    buf: Option<PyUntypedBuffer>,
}

impl<'py> InBuf<'py> {
    pub(crate) fn new(obj: &Bound<'py, PyAny>) -> PyResult<InBuf<'py>> {
        if let Ok(b) = obj.cast::<PyBytes>() {
            return Ok(InBuf {
                bytes: Some(b.clone()),
                buf: None,
            });
        }
        if obj.is_instance_of::<PyString>() {
            return Err(PyTypeError::new_err(
                "a bytes-like object is required, not 'str' (encode it first)",
            ));
        }
        let buf = PyUntypedBuffer::get(obj).map_err(|_| {
            PyTypeError::new_err(format!(
                "a bytes-like object is required, not '{}'",
                type_name(obj)
            ))
        })?;
        if !buf.is_c_contiguous() {
            return Err(PyTypeError::new_err("the buffer must be C-contiguous"));
        }
        Ok(InBuf {
            bytes: None,
            buf: Some(buf),
        })
    }

    pub(crate) fn as_slice(&self) -> &[u8] {
        if let Some(b) = &self.bytes {
            return b.as_bytes();
        }
        let buf = self.buf.as_ref().expect("bytes or buffer");
        let len = buf.len_bytes();
        if len == 0 {
            return &[];
        }
        // SAFETY: the exporter keeps `len` contiguous bytes at buf_ptr alive (and unmoved) until
        // the buffer is released, which happens when `self` drops.
        unsafe { std::slice::from_raw_parts(buf.buf_ptr() as *const u8, len) }
    }
}

/// A writable view of any writable buffer (bytearray, memoryview, array.array, numpy array).
pub(crate) struct OutBuf {
    buf: PyUntypedBuffer,
}

impl OutBuf {
    pub(crate) fn new(obj: &Bound<'_, PyAny>) -> PyResult<OutBuf> {
        let buf = PyUntypedBuffer::get(obj).map_err(|_| {
            PyTypeError::new_err(format!(
                "a writable bytes-like object is required, not '{}'",
                type_name(obj)
            ))
        })?;
        if buf.readonly() {
            return Err(PyTypeError::new_err(format!(
                "a writable buffer is required, not read-only '{}'",
                type_name(obj)
            )));
        }
        if !buf.is_c_contiguous() {
            return Err(PyTypeError::new_err("the buffer must be C-contiguous"));
        }
        Ok(OutBuf { buf })
    }

    pub(crate) fn len(&self) -> usize {
        self.buf.len_bytes()
    }

    pub(crate) fn as_mut_slice(&mut self) -> &mut [u8] {
        let len = self.buf.len_bytes();
        if len == 0 {
            return &mut [];
        }
        // SAFETY: a writable, C-contiguous export of `len` bytes, alive until `self` drops; the
        // `&mut self` borrow keeps this the only slice we hand out.
        unsafe { std::slice::from_raw_parts_mut(self.buf.buf_ptr() as *mut u8, len) }
    }
}

/// Bytes from `bytes`, `bytearray`, any buffer, or `str` (UTF-8), copied (for small parameters
/// such as delimiters).
pub(crate) fn bytes_param(obj: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(s.to_cow()?.as_bytes().to_vec());
    }
    if let Ok(b) = obj.cast::<PyByteArray>() {
        return Ok(b.to_vec());
    }
    Ok(InBuf::new(obj)?.as_slice().to_vec())
}

// ---------------------------------------------------------------------------------------------
// Socket options.

/// An option named by its snake-case name (`"nodelay"`) or its stable number.
pub(crate) fn sockopt(obj: &Bound<'_, PyAny>) -> PyResult<SockOpt> {
    let py = obj.py();
    if let Ok(s) = obj.cast::<PyString>() {
        return SockOpt::from_name(&s.to_cow()?).map_err(|e| to_pyerr(py, e));
    }
    if let Ok(n) = obj.extract::<i32>() {
        return SockOpt::from_number(n).map_err(|e| to_pyerr(py, e));
    }
    Err(PyTypeError::new_err(format!(
        "an option is named by a str such as \"nodelay\", not {}",
        type_name(obj)
    )))
}

/// An option value from Python: bool, int, or `None` for `linger` (off).
pub(crate) fn opt_value(opt: SockOpt, obj: &Bound<'_, PyAny>) -> PyResult<i64> {
    if obj.is_none() {
        if opt == SockOpt::Linger {
            return Ok(-1);
        }
        return Err(PyTypeError::new_err(format!(
            "option {} takes {}, not None",
            opt.name(),
            if opt.is_bool() { "a bool" } else { "an int" }
        )));
    }
    if let Ok(b) = obj.cast::<PyBool>() {
        return Ok(b.is_true() as i64);
    }
    if obj.is_instance_of::<pyo3::types::PyInt>() {
        return obj.extract::<i64>().map_err(|_| {
            invalid(
                obj.py(),
                format!("value for option {} is out of range", opt.name()),
            )
        });
    }
    Err(PyTypeError::new_err(format!(
        "option {} takes {}, not {}",
        opt.name(),
        if opt.is_bool() { "a bool" } else { "an int" },
        type_name(obj)
    )))
}

/// An option value as Python: bool for on/off options, `None` for linger off, int otherwise.
pub(crate) fn opt_to_py(py: Python<'_>, opt: SockOpt, v: i64) -> PyResult<Bound<'_, PyAny>> {
    if opt.is_bool() {
        return Ok(PyBool::new(py, v != 0).to_owned().into_any());
    }
    if opt == SockOpt::Linger && v < 0 {
        return Ok(py.None().into_bound(py));
    }
    Ok(v.into_pyobject(py)?.into_any())
}

/// Every option that applies, read back from the OS through `get`, as a dict.
pub(crate) fn options_dict<'py>(
    py: Python<'py>,
    get: impl Fn(SockOpt) -> libsock::Result<i64>,
) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    for opt in SockOpt::ALL {
        match get(opt) {
            Ok(v) => d.set_item(opt.name(), opt_to_py(py, opt, v)?)?,
            Err(e) if e.kind() == libsock::ErrorKind::Closed => return Err(to_pyerr(py, e)),
            Err(_) => {}
        }
    }
    Ok(d)
}

/// Socket options from keyword arguments: option names (see `OPTION_NAMES`), plus
/// `local_address=(host, port)` and `bind_device="eth0"`.
pub(crate) fn socket_options(
    py: Python<'_>,
    kwargs: Option<&Bound<'_, PyDict>>,
    func: &str,
) -> PyResult<SocketOptions> {
    let mut o = SocketOptions::new();
    let Some(kwargs) = kwargs else {
        return Ok(o);
    };
    for (k, v) in kwargs.iter() {
        let name: String = k.extract()?;
        match name.as_str() {
            "local_address" => {
                if v.is_none() {
                    continue;
                }
                let a = addr(py, &v)?;
                let sa = a.as_inet().ok_or_else(|| {
                    invalid(py, format!("local_address {a} is not an IP address"))
                })?;
                o.local_addr = Some(sa);
            }
            "bind_device" => {
                if !v.is_none() {
                    o.bind_device = Some(v.extract::<String>()?);
                }
            }
            _ => {
                let opt = SockOpt::from_name(&name).map_err(|_| {
                    let names: Vec<_> = SockOpt::ALL.iter().map(|o| o.name()).collect();
                    PyTypeError::new_err(format!(
                        "{func}() got an unexpected keyword argument {name:?} (socket options \
                         are: {}, local_address, bind_device)",
                        names.join(", ")
                    ))
                })?;
                let value = opt_value(opt, &v)?;
                o.set(opt, value).map_err(|e| to_pyerr(py, e))?;
            }
        }
    }
    Ok(o)
}

// ---------------------------------------------------------------------------------------------
// A reused receive buffer, so that `recv(65536)` does not allocate 64 KiB per call.

/// Largest single `recv(n)` (bigger requests return at most this much, as recv may).
pub(crate) const SCRATCH_MAX: usize = 4 << 20;

thread_local! {
    static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Run `f` with a zero-initialised buffer of `n` bytes reused across calls on this thread.
/// A signal handler running during a wait may call recv again on this thread: then the scratch
/// buffer is busy and that inner call gets a fresh buffer.
pub(crate) fn with_scratch<R>(n: usize, f: impl FnOnce(&mut [u8]) -> PyResult<R>) -> PyResult<R> {
    SCRATCH.with(|s| match s.try_borrow_mut() {
        Ok(mut v) => {
            if v.len() < n {
                v.resize(n, 0);
            }
            f(&mut v[..n])
        }
        Err(_) => f(&mut vec![0u8; n]),
    })
}

// ---------------------------------------------------------------------------------------------
// Integers: parameters arrive as i128 so that an out-of-range value is a ValueError
// (InvalidArgumentError) naming the parameter, not an OverflowError.

/// `v` as `T`, or an `InvalidArgumentError` saying `what` is out of range.
pub(crate) fn ranged<T: TryFrom<i128>>(py: Python<'_>, what: &str, v: i128) -> PyResult<T> {
    T::try_from(v).map_err(|_| invalid(py, format!("{what} {v} is out of range")))
}

/// An integer parameter as `i128` (with `#[pyo3(from_py_with = int_arg)]`): an exact `int`
/// that fits 64 bits is read directly (the generic 128-bit conversion goes through
/// `PyNumber_Index` and a byte array, and showed in per-call profiles); anything else (a bool,
/// an `__index__` object, a huge int) goes the generic way, with the same results and errors.
pub(crate) fn int_arg(obj: &Bound<'_, PyAny>) -> PyResult<i128> {
    if obj.is_exact_instance_of::<pyo3::types::PyInt>() {
        let mut overflow: std::os::raw::c_int = 0;
        // SAFETY: `obj` is a live exact int; the call sets no error when it reports overflow
        // and cannot fail otherwise for an exact int.
        let v = unsafe { pyo3::ffi::PyLong_AsLongLongAndOverflow(obj.as_ptr(), &mut overflow) };
        if overflow == 0 && !(v == -1 && PyErr::occurred(obj.py())) {
            return Ok(v as i128);
        }
    }
    obj.extract::<i128>()
}

/// One connection's counters (core's `ConnectionStats`) as the dict that `Connection.stats()`
/// and `Server.client_stats()` return: ``peer``, ``connected_since`` (seconds since the epoch,
/// like ``time.time()``), ``bytes_in``, ``bytes_out``, ``messages_in``, ``messages_out``,
/// ``queued_bytes``, ``tls``.
pub(crate) fn connection_stats_dict<'py>(
    py: Python<'py>,
    st: &libsock::ConnectionStats,
) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("peer", addr_to_py(py, &st.peer)?)?;
    let since = st
        .connected_since
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0);
    d.set_item("connected_since", since)?;
    d.set_item("bytes_in", st.bytes_in)?;
    d.set_item("bytes_out", st.bytes_out)?;
    d.set_item("messages_in", st.messages_in)?;
    d.set_item("messages_out", st.messages_out)?;
    d.set_item("queued_bytes", st.queued_bytes)?;
    d.set_item("tls", st.tls)?;
    Ok(d)
}
