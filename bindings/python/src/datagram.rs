//! `Datagram` and `udp()`.

use std::net::IpAddr;

use libsock::{Addr, Datagram, DatagramOptions, MulticastInterface, RecvMeta};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyDict, PyList, PyString, PyTuple};

use crate::convert::*;
use crate::errors::{invalid, to_pyerr, wait, ATTACHED_SEND_MAX};

static RECEIVED: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

fn received<'py>(
    py: Python<'py>,
    data: Bound<'py, PyBytes>,
    peer: Bound<'py, PyAny>,
    meta: &RecvMeta,
) -> PyResult<Bound<'py, PyAny>> {
    let cls = RECEIVED.get_or_try_init(py, || {
        PyModule::import(py, "libsock._types")?
            .getattr("Received")
            .map(|c| c.unbind())
    })?;
    cls.bind(py)
        .call1((data, peer, meta.truncated, meta.full_len))
}

/// Checked `max` and `n` of a batch receive, and the bytes the batch needs.
fn many_sizes(py: Python<'_>, max: i128, n: i128) -> PyResult<(usize, usize, usize)> {
    let max: usize = ranged(py, "max", max.max(0))?;
    let n: usize = ranged(py, "n", n.max(0))?;
    // max 0 (no buffers) is refused by core, with the same message as in every door.
    if n == 0 {
        return Err(invalid(py, "recv_many needs n >= 1 (bytes per datagram)"));
    }
    let total = max
        .checked_mul(n)
        .filter(|t| *t <= 256 << 20)
        .ok_or_else(|| invalid(py, format!("recv_many of {max} x {n} bytes is too large")))?;
    Ok((max, n, total))
}

/// The most datagrams one `recv_many_into` takes (the kernel's limit for one `recvmmsg`).
const RECV_MANY_MAX: usize = 1024;

/// Receive with `recv` into `storage` cut into `n`-byte buffers, the GIL released.
fn recv_slots<T: Send>(
    py: Python<'_>,
    storage: &mut [u8],
    n: usize,
    recv: impl FnOnce(&mut [&mut [u8]]) -> libsock::Result<T> + Send,
) -> PyResult<T> {
    wait(py, move || {
        let mut bufs: Vec<&mut [u8]> = storage.chunks_mut(n).collect();
        recv(&mut bufs)
    })
}

/// Run `f` with a buffer of `total` bytes: the thread's reused scratch buffer up to its limit,
/// a fresh one beyond.
fn with_buffer<R>(total: usize, f: impl FnOnce(&mut [u8]) -> PyResult<R>) -> PyResult<R> {
    if total <= SCRATCH_MAX {
        with_scratch(total, f)
    } else {
        f(&mut vec![0u8; total])
    }
}

/// The Python form of the last sender seen: consecutive datagrams from one peer (the usual
/// case) share one address object instead of formatting the address again for each.
#[derive(Default)]
struct PeerCache(std::sync::Mutex<Option<(Addr, Py<PyAny>)>>);

impl PeerCache {
    fn get<'py>(&self, py: Python<'py>, a: &Addr) -> PyResult<Bound<'py, PyAny>> {
        // Only touched with the GIL held; a poisoned or busy cache is simply bypassed.
        let Ok(mut last) = self.0.try_lock() else {
            return addr_to_py(py, a);
        };
        if let Some((addr, obj)) = &*last {
            if addr == a {
                return Ok(obj.bind(py).clone());
            }
        }
        let obj = addr_to_py(py, a)?;
        *last = Some((a.clone(), obj.clone().unbind()));
        Ok(obj)
    }
}

/// Open a UDP (or Unix datagram) socket.
///
/// ``udp(address)`` binds to ``address`` (``("0.0.0.0", 5000)``, ``"[::]:0"``,
/// ``"unix:/tmp/d.sock"``); ``udp(connect=peer)`` connects to ``peer`` so that ``send`` and
/// ``recv`` talk to it only (``address`` then sets the local IP address and port);
/// ``udp()`` binds to an ephemeral IPv4 port. ``timeout`` is the default for every call. Socket
/// options are keyword arguments (``broadcast=True``, ``multicast_ttl=4``, ``reuse_port=True``,
/// ...). UDP offload (Linux): ``gso`` (on by default) lets ``send_many`` pass runs of
/// equal-sized datagrams to the kernel as one segmented message (``UDP_SEGMENT``), with a
/// fallback by itself where the kernel refuses; ``gro=True`` turns on ``UDP_GRO``, so one
/// receive takes many datagrams of a sender at once (each still returned on its own) — datagrams
/// taken beyond what a call asked for then wait inside the object, so do not ``select`` on
/// ``fileno()`` with it. The peer sees the same datagrams either way.
///
/// Example::
///
///     >>> rx = libsock.udp(("127.0.0.1", 0))
///     >>> tx = libsock.udp(connect=rx.address)
///     >>> tx.send(b"hi")
///     2
///     >>> rx.recv_from(timeout=1)
///     (b'hi', ('127.0.0.1', 51234))
#[pyfunction]
#[pyo3(signature = (address = None, *, connect = None, timeout = None, remove_stale = false,
                    gso = true, gro = false, **options))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn udp(
    py: Python<'_>,
    address: Option<&Bound<'_, PyAny>>,
    connect: Option<&Bound<'_, PyAny>>,
    timeout: Option<&Bound<'_, PyAny>>,
    remove_stale: bool,
    gso: bool,
    gro: bool,
    options: Option<&Bound<'_, PyDict>>,
) -> PyResult<PyDatagram> {
    let mut opts = DatagramOptions {
        options: socket_options(py, options, "udp")?,
        timeout: opt_timeout(timeout)?,
        remove_stale,
        gso,
        gro,
    };
    let address = address.filter(|a| !a.is_none());
    let d = match connect.filter(|c| !c.is_none()) {
        Some(peer) => {
            let ep = endpoint(peer)?;
            if let Some(local) = address {
                let a = addr(py, local)?;
                opts.options.local_addr = Some(a.as_inet().ok_or_else(|| {
                    invalid(py, format!("local address {a} of a connected datagram socket must be an IP address"))
                })?);
            }
            wait(py, move || Datagram::connect_with(&ep, &opts))?
        }
        None => {
            let ep = match address {
                Some(a) => endpoint(a)?,
                None => libsock::Endpoint::inet("0.0.0.0", 0),
            };
            wait(py, move || Datagram::bind_with(&ep, &opts))?
        }
    };
    Ok(PyDatagram::new(d))
}

fn interface(py: Python<'_>, obj: Option<&Bound<'_, PyAny>>) -> PyResult<MulticastInterface> {
    let Some(obj) = obj.filter(|o| !o.is_none()) else {
        return Ok(MulticastInterface::Default);
    };
    if let Ok(s) = obj.cast::<PyString>() {
        // The text forms ("127.0.0.1", "1", "") are core's to parse.
        return s
            .to_cow()?
            .parse::<MulticastInterface>()
            .map_err(|e| to_pyerr(py, e));
    }
    if let Ok(i) = obj.extract::<u32>() {
        return Ok(MulticastInterface::V6(i));
    }
    Err(PyTypeError::new_err(format!(
        "a multicast interface is an IPv4 address (str) or an IPv6 interface index (int), not {}",
        type_name(obj)
    )))
}

fn group(py: Python<'_>, g: &str) -> PyResult<IpAddr> {
    g.parse()
        .map_err(|_| invalid(py, format!("multicast group {g:?} is not an IP address")))
}

/// A UDP or Unix datagram socket, made by ``libsock.udp``. Each ``recv`` returns one whole
/// datagram; ``recv_datagram`` also reports whether it was cut short by ``n``.
///
/// Example::
///
///     >>> sock = libsock.udp(("0.0.0.0", 5000), timeout=1.0)
///     >>> data, peer = sock.recv_from()
///     >>> sock.send_to(data.upper(), peer)
#[pyclass(frozen, module = "libsock", name = "Datagram")]
pub(crate) struct PyDatagram {
    pub(crate) d: Datagram,
    /// The last sender and its Python form, reused while datagrams keep coming from it
    /// (formatting an address costs more than receiving a small datagram).
    peer: PeerCache,
}

impl PyDatagram {
    fn new(d: Datagram) -> PyDatagram {
        PyDatagram {
            d,
            peer: PeerCache::default(),
        }
    }

    fn recv_impl<'py>(
        &self,
        py: Python<'py>,
        n: i128,
        t: TimeoutArg,
    ) -> PyResult<(Bound<'py, PyBytes>, RecvMeta)> {
        if n < 0 {
            return Err(invalid(py, format!("negative buffer size {n}")));
        }
        let n = ranged::<usize>(py, "buffer size", n)?.min(SCRATCH_MAX);
        let d = &self.d;
        with_scratch(n, |buf| {
            let meta = wait(py, || d.recv_from_timeout(&mut *buf, t.0))?;
            Ok((PyBytes::new(py, &buf[..meta.len]), meta))
        })
    }
}

#[pymethods]
impl PyDatagram {
    /// A pair of connected Unix datagram sockets.
    ///
    /// Example::
    ///
    ///     >>> a, b = libsock.Datagram.pair()
    #[staticmethod]
    fn pair(py: Python<'_>) -> PyResult<(PyDatagram, PyDatagram)> {
        let (a, b) = Datagram::pair().map_err(|e| to_pyerr(py, e))?;
        Ok((PyDatagram::new(a), PyDatagram::new(b)))
    }

    /// Send one datagram to the connected peer; returns the bytes sent.
    ///
    /// Example::
    ///
    ///     >>> sock.send(b"ping")
    #[pyo3(signature = (data, *, timeout = TimeoutArg::DEFAULT))]
    fn send(
        &self,
        py: Python<'_>,
        data: &Bound<'_, PyAny>,
        timeout: TimeoutArg,
    ) -> PyResult<usize> {
        let b = InBuf::new(data)?;
        let s = b.as_slice();
        let d = &self.d;
        if s.len() <= ATTACHED_SEND_MAX {
            if let Some(n) = d.try_send(s).map_err(|e| to_pyerr(py, e))? {
                return Ok(n);
            }
        }
        wait(py, || d.send_timeout(s, timeout.0))
    }

    /// Send one datagram to ``address``; returns the bytes sent. A host name is resolved to its
    /// first address of this socket's family (IPv4 or IPv6).
    ///
    /// Example::
    ///
    ///     >>> sock.send_to(b"ping", ("127.0.0.1", 5000))
    #[pyo3(signature = (data, address, *, timeout = TimeoutArg::DEFAULT))]
    fn send_to(
        &self,
        py: Python<'_>,
        data: &Bound<'_, PyAny>,
        address: &Bound<'_, PyAny>,
        timeout: TimeoutArg,
    ) -> PyResult<usize> {
        // A host name resolves to its first address of this socket's family.
        let to = endpoint(address)?;
        let b = InBuf::new(data)?;
        let s = b.as_slice();
        let d = &self.d;
        if s.len() <= ATTACHED_SEND_MAX {
            // Only an IP literal or a Unix path: a host name needs the resolver (which waits).
            if let Some(n) = d
                .try_send_to_endpoint(s, &to)
                .map_err(|e| to_pyerr(py, e))?
            {
                return Ok(n);
            }
        }
        wait(py, || d.send_to_endpoint(s, to, timeout.0))
    }

    /// Same as ``send_to`` (the stdlib's spelling).
    #[pyo3(signature = (data, address, *, timeout = TimeoutArg::DEFAULT))]
    fn sendto(
        &self,
        py: Python<'_>,
        data: &Bound<'_, PyAny>,
        address: &Bound<'_, PyAny>,
        timeout: TimeoutArg,
    ) -> PyResult<usize> {
        self.send_to(py, data, address, timeout)
    }

    /// Receive one datagram (at most ``n`` bytes of it; the rest is dropped, as in the stdlib).
    ///
    /// Example::
    ///
    ///     >>> data = sock.recv(timeout=1)
    #[pyo3(signature = (n = 65536, *, timeout = TimeoutArg::DEFAULT))]
    fn recv<'py>(
        &self,
        py: Python<'py>,
        #[pyo3(from_py_with = int_arg)] n: i128,
        timeout: TimeoutArg,
    ) -> PyResult<Bound<'py, PyBytes>> {
        Ok(self.recv_impl(py, n, timeout)?.0)
    }

    /// Receive one datagram and its sender: ``(data, peer)``.
    ///
    /// Example::
    ///
    ///     >>> data, peer = sock.recv_from()
    #[pyo3(signature = (n = 65536, *, timeout = TimeoutArg::DEFAULT))]
    fn recv_from<'py>(
        &self,
        py: Python<'py>,
        #[pyo3(from_py_with = int_arg)] n: i128,
        timeout: TimeoutArg,
    ) -> PyResult<(Bound<'py, PyBytes>, Bound<'py, PyAny>)> {
        let (b, meta) = self.recv_impl(py, n, timeout)?;
        Ok((b, self.peer.get(py, &meta.peer)?))
    }

    /// Same as ``recv_from`` (the stdlib's spelling).
    #[pyo3(signature = (n = 65536, *, timeout = TimeoutArg::DEFAULT))]
    fn recvfrom<'py>(
        &self,
        py: Python<'py>,
        #[pyo3(from_py_with = int_arg)] n: i128,
        timeout: TimeoutArg,
    ) -> PyResult<(Bound<'py, PyBytes>, Bound<'py, PyAny>)> {
        self.recv_from(py, n, timeout)
    }

    /// Receive one datagram as ``Received(data, peer, truncated, size)``: ``truncated`` is
    /// true when the datagram was longer than ``n``, and ``size`` is its full length.
    ///
    /// Example::
    ///
    ///     >>> r = sock.recv_datagram(512)
    ///     >>> if r.truncated: print(f"lost {r.size - len(r.data)} bytes")
    #[pyo3(signature = (n = 65536, *, timeout = TimeoutArg::DEFAULT))]
    fn recv_datagram<'py>(
        &self,
        py: Python<'py>,
        #[pyo3(from_py_with = int_arg)] n: i128,
        timeout: TimeoutArg,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (b, meta) = self.recv_impl(py, n, timeout)?;
        let peer = self.peer.get(py, &meta.peer)?;
        received(py, b, peer, &meta)
    }

    /// Receive one datagram into ``buffer`` (any writable buffer); returns ``(nbytes, peer)``.
    ///
    /// Example::
    ///
    ///     >>> buf = bytearray(2048)
    ///     >>> n, peer = sock.recv_into(buf)
    #[pyo3(signature = (buffer, *, timeout = TimeoutArg::DEFAULT))]
    fn recv_into<'py>(
        &self,
        py: Python<'py>,
        buffer: &Bound<'py, PyAny>,
        timeout: TimeoutArg,
    ) -> PyResult<(usize, Bound<'py, PyAny>)> {
        let mut ob = OutBuf::new(buffer)?;
        let s = ob.as_mut_slice();
        let d = &self.d;
        let meta = wait(py, || d.recv_from_timeout(s, timeout.0))?;
        Ok((meta.len, self.peer.get(py, &meta.peer)?))
    }

    /// Send several datagrams (to ``address``, or to the connected peer) with one system call
    /// where possible; returns how many were sent.
    ///
    /// Example::
    ///
    ///     >>> sock.send_many([b"a", b"b", b"c"], ("127.0.0.1", 5000))
    ///     3
    #[pyo3(signature = (datagrams, address = None))]
    fn send_many(
        &self,
        py: Python<'_>,
        datagrams: &Bound<'_, PyAny>,
        address: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<usize> {
        let to = match address.filter(|a| !a.is_none()) {
            Some(a) => Some(endpoint(a)?),
            None => None,
        };
        let mut bufs = Vec::new();
        for item in datagrams.try_iter()? {
            bufs.push(InBuf::new(&item?)?);
        }
        let slices: Vec<&[u8]> = bufs.iter().map(|b| b.as_slice()).collect();
        let d = &self.d;
        wait(py, || match to {
            Some(ep) => d.send_many_to_endpoint(&slices, ep),
            None => d.send_many(&slices, None),
        })
    }

    /// Wait for one datagram (up to ``timeout``: the socket's by default, ``None`` forever, 0
    /// poll), then return up to ``max`` that are already here (one system call where possible)
    /// as a list of ``(data, peer)``; each at most ``n`` bytes. ``TimeoutError`` when none came.
    ///
    /// With ``senders=False`` the list holds only the ``data`` (``bytes``): the kernel is asked
    /// for no sender addresses (Rust's ``recv_many_sizes``, C's ``ls_recv_many`` without peer
    /// buffers), which saves ~100 ns of kernel time and a tuple per datagram when a receiver
    /// does not need to know who sent (a connected socket, a sink, a drain).
    ///
    /// Example::
    ///
    ///     >>> for data, peer in sock.recv_many(64, timeout=1.0): ...
    ///     >>> for data in sock.recv_many(64, senders=False): ...
    #[pyo3(signature = (max = 64, n = 65536, *, timeout = TimeoutArg::DEFAULT, senders = true))]
    fn recv_many<'py>(
        &self,
        py: Python<'py>,
        #[pyo3(from_py_with = int_arg)] max: i128,
        #[pyo3(from_py_with = int_arg)] n: i128,
        timeout: TimeoutArg,
        senders: bool,
    ) -> PyResult<Bound<'py, PyList>> {
        let (max, n, total) = many_sizes(py, max, n)?;
        let d = &self.d;
        if !senders {
            return with_buffer(total, |storage| {
                let mut sizes = Vec::with_capacity(max);
                recv_slots(py, storage, n, |bufs| {
                    d.recv_many_sizes_timeout(bufs, &mut sizes, timeout.0)
                })?;
                let items = sizes
                    .iter()
                    .enumerate()
                    .map(|(i, m)| PyBytes::new(py, &storage[i * n..i * n + m.len]));
                PyList::new(py, items)
            });
        }
        // The batch lands in a reused buffer (no per-call allocation or zeroing of max * n
        // bytes); each datagram is then copied once into its bytes object.
        with_buffer(total, |storage| {
            let mut metas = Vec::with_capacity(max);
            recv_slots(py, storage, n, |bufs| {
                d.recv_many_timeout(bufs, &mut metas, timeout.0)
            })?;
            let mut items = Vec::with_capacity(metas.len());
            let mut last: Option<(&Addr, Bound<'py, PyAny>)> = None;
            for (i, m) in metas.iter().enumerate() {
                let data = PyBytes::new(py, &storage[i * n..i * n + m.len]);
                // Within a batch, compare with the previous datagram's sender (no lock).
                let peer = match &last {
                    Some((a, obj)) if *a == &m.peer => obj.clone(),
                    _ => {
                        let obj = self.peer.get(py, &m.peer)?;
                        last = Some((&m.peer, obj.clone()));
                        obj
                    }
                };
                items.push((data, peer).into_pyobject(py)?);
            }
            PyList::new(py, items)
        })
    }

    /// Wait for one datagram (up to ``timeout``, as ``recv_many``), then receive those already
    /// here into ``buffer`` (any writable buffer: bytearray, memoryview, array.array, numpy
    /// array) with one system call, without making a Python object per datagram: ``buffer`` is
    /// cut into slots of ``n`` bytes, datagram ``i`` lands at the start of slot ``i``
    /// (``buffer[i*n : i*n + sizes[i]]``), and the list of sizes is returned. At most
    /// ``len(buffer) // n`` datagrams, and at most 1,024 per call. No senders are asked of the
    /// kernel (as ``recv_many(senders=False)``).
    ///
    /// A datagram longer than ``n`` keeps its first ``n`` bytes, as with ``recv_many``: make
    /// ``n`` one byte more than the longest datagram you expect, and a size of ``n`` means a
    /// longer one came.
    ///
    /// Example::
    ///
    ///     >>> buf = bytearray(64 * 1500)
    ///     >>> sizes = sock.recv_many_into(buf, 1500)
    ///     >>> first = bytes(buf[:sizes[0]])
    #[pyo3(signature = (buffer, n, *, timeout = TimeoutArg::DEFAULT))]
    fn recv_many_into(
        &self,
        py: Python<'_>,
        buffer: &Bound<'_, PyAny>,
        #[pyo3(from_py_with = int_arg)] n: i128,
        timeout: TimeoutArg,
    ) -> PyResult<Vec<usize>> {
        let mut ob = OutBuf::new(buffer)?;
        let n: usize = ranged(py, "n", n.max(0))?;
        if n == 0 {
            return Err(invalid(
                py,
                "recv_many_into needs n >= 1 (bytes per datagram)",
            ));
        }
        let slots = (ob.len() / n).min(RECV_MANY_MAX);
        if slots == 0 {
            return Err(invalid(
                py,
                format!(
                    "recv_many_into: the buffer ({} bytes) holds no slot of n = {n} bytes",
                    ob.len()
                ),
            ));
        }
        let storage = &mut ob.as_mut_slice()[..slots * n];
        let d = &self.d;
        let mut sizes = Vec::with_capacity(slots);
        recv_slots(py, storage, n, |bufs| {
            d.recv_many_sizes_timeout(bufs, &mut sizes, timeout.0)
        })?;
        Ok(sizes.iter().map(|m| m.len).collect())
    }

    /// Join a multicast group (``"239.1.2.3"`` or ``"ff02::1"``) on an interface: for IPv4 the
    /// interface's address (``"127.0.0.1"``), for IPv6 its index; ``None`` lets the OS choose.
    ///
    /// Example::
    ///
    ///     >>> sock.join_multicast("239.1.2.3")
    #[pyo3(signature = (group, interface = None))]
    fn join_multicast(
        &self,
        py: Python<'_>,
        group: &str,
        interface: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        let g = self::group(py, group)?;
        let i = self::interface(py, interface)?;
        self.d.join_multicast(g, i).map_err(|e| to_pyerr(py, e))
    }

    /// Leave a multicast group.
    ///
    /// Example::
    ///
    ///     >>> sock.leave_multicast("239.1.2.3")
    #[pyo3(signature = (group, interface = None))]
    fn leave_multicast(
        &self,
        py: Python<'_>,
        group: &str,
        interface: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        let g = self::group(py, group)?;
        let i = self::interface(py, interface)?;
        self.d.leave_multicast(g, i).map_err(|e| to_pyerr(py, e))
    }

    /// Set the interface multicast datagrams leave from (IPv4 address or IPv6 index).
    ///
    /// Example::
    ///
    ///     >>> sock.set_multicast_interface("127.0.0.1")
    fn set_multicast_interface(
        &self,
        py: Python<'_>,
        interface: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let i = self::interface(py, Some(interface))?;
        self.d
            .set_multicast_interface(i)
            .map_err(|e| to_pyerr(py, e))
    }

    /// The bound local address: ``(host, port)`` or ``"unix:/path"``.
    ///
    /// Example: ``host, port = sock.address``
    #[getter]
    fn address<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let a = self.d.local_addr().map_err(|e| to_pyerr(py, e))?;
        addr_to_py(py, &a)
    }

    /// The connected peer's address (an OS error when not connected).
    ///
    /// Example: ``sock.peer_address  # ('127.0.0.1', 5000)``
    #[getter]
    fn peer_address<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let a = self.d.peer_addr().map_err(|e| to_pyerr(py, e))?;
        addr_to_py(py, &a)
    }

    /// True while ``send_many`` passes runs of equal-sized datagrams as one segmented message
    /// (``gso`` asked for, known to the kernel, not turned off by a failure).
    ///
    /// Example: ``libsock.udp(gso=True).gso_enabled``
    #[getter]
    fn gso_enabled(&self) -> bool {
        self.d.gso_enabled()
    }

    /// True when ``gro=True`` was asked for and the kernel took it.
    ///
    /// Example: ``libsock.udp(gro=True).gro_enabled``
    #[getter]
    fn gro_enabled(&self) -> bool {
        self.d.gro_enabled()
    }

    /// Size of the next waiting datagram (0 if none).
    ///
    /// Example: ``if sock.bytes_available: data = sock.recv()``
    #[getter]
    fn bytes_available(&self, py: Python<'_>) -> PyResult<usize> {
        self.d.bytes_available().map_err(|e| to_pyerr(py, e))
    }

    /// Set the default timeout: seconds, ``None`` = forever, ``0`` = poll. ``settimeout`` is
    /// the same method under the stdlib's name; the ``timeout`` property too.
    ///
    /// Example::
    ///
    ///     >>> sock.set_timeout(0.5)
    #[pyo3(name = "set_timeout")]
    fn set_timeout_method(&self, value: &Bound<'_, PyAny>) -> PyResult<()> {
        self.d.set_timeout(timeout_value(value)?);
        Ok(())
    }

    /// The default timeout in seconds (``None`` = forever). ``gettimeout`` is the same method
    /// under the stdlib's name.
    ///
    /// Example: ``sock.get_timeout()``
    #[pyo3(name = "get_timeout")]
    fn get_timeout_method(&self) -> Option<f64> {
        timeout_to_py(self.d.timeout())
    }

    /// Same as ``set_timeout`` (the stdlib's name).
    ///
    /// Example: ``sock.settimeout(0.5)``
    fn settimeout(&self, value: &Bound<'_, PyAny>) -> PyResult<()> {
        self.set_timeout_method(value)
    }

    /// Same as ``get_timeout`` (the stdlib's name).
    ///
    /// Example: ``sock.gettimeout()``
    fn gettimeout(&self) -> Option<f64> {
        self.get_timeout_method()
    }

    /// The default timeout in seconds (``None`` = forever, ``0`` = poll); settable.
    ///
    /// Example: ``sock.timeout = 0.5``
    #[getter]
    fn get_timeout(&self) -> Option<f64> {
        timeout_to_py(self.d.timeout())
    }

    #[setter]
    fn set_timeout(&self, value: &Bound<'_, PyAny>) -> PyResult<()> {
        self.set_timeout_method(value)
    }

    /// Every option that applies, read back from the OS.
    ///
    /// Example: ``sock.options["broadcast"]``
    #[getter]
    fn options<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        options_dict(py, |o| self.d.get_option(o))
    }

    /// Set an option by name.
    ///
    /// Example::
    ///
    ///     >>> sock.set_option("broadcast", True)
    fn set_option(
        &self,
        py: Python<'_>,
        name: &Bound<'_, PyAny>,
        value: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let opt = sockopt(name)?;
        let v = opt_value(opt, value)?;
        self.d.set_option(opt, v).map_err(|e| to_pyerr(py, e))
    }

    /// Read an option back from the OS.
    ///
    /// Example::
    ///
    ///     >>> sock.get_option("multicast_ttl")
    ///     1
    fn get_option<'py>(
        &self,
        py: Python<'py>,
        name: &Bound<'_, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let opt = sockopt(name)?;
        let v = self.d.get_option(opt).map_err(|e| to_pyerr(py, e))?;
        opt_to_py(py, opt, v)
    }

    /// The file descriptor (do not close it), -1 once closed.
    ///
    /// Example: ``selector.register(sock, selectors.EVENT_READ)``
    fn fileno(&self) -> i32 {
        if self.d.is_closed() {
            -1
        } else {
            self.d.fd()
        }
    }

    /// Close (idempotent); a blocked call in another thread raises ``ClosedError``.
    fn close(&self) {
        self.d.close()
    }

    /// True once closed.
    ///
    /// Example: ``sock.close(); assert sock.closed``
    #[getter]
    fn closed(&self) -> bool {
        self.d.is_closed()
    }

    fn __enter__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(&self, _args: &Bound<'_, PyTuple>) -> bool {
        self.d.close();
        false
    }

    fn __repr__(&self) -> String {
        match self.d.local_addr() {
            Ok(a) => format!("<libsock.Datagram fd={} address={a}>", self.d.fd()),
            Err(_) => "<libsock.Datagram closed>".into(),
        }
    }
}
