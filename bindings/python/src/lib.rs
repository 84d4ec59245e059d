//! `libsock._libsock`: the Python door of libsock.
//!
//! Translation only: Python types to core types and back, core errors to the Python exception
//! tree (defined in `libsock/_errors.py`), the GIL released around every wait, and Ctrl-C turned
//! into `KeyboardInterrupt` through core's interrupt check. No socket logic lives here.

use pyo3::prelude::*;
use pyo3::types::PyDict;

mod conn;
mod convert;
mod datagram;
mod engine;
mod errors;
mod framing;
mod kcp;
mod listener;
mod tls;
mod transfer;

pub(crate) use convert::*;
pub(crate) use errors::wait;

/// Resolve a host name to every address, as ``(host, port)`` tuples, waiting at most
/// ``timeout`` seconds (``None`` waits as long as the system resolver does).
///
/// Example::
///
///     >>> libsock.resolve("localhost", 80)
///     [('127.0.0.1', 80), ...]
#[pyfunction]
#[pyo3(signature = (host, port = 0, timeout = None))]
fn resolve<'py>(
    py: Python<'py>,
    host: &str,
    port: i128,
    timeout: Option<&Bound<'py, PyAny>>,
) -> PyResult<Vec<Bound<'py, PyAny>>> {
    let t = opt_timeout(timeout)?;
    let port: u16 = ranged(py, "port", port)?;
    let host = host.to_string();
    let addrs = wait(py, move || libsock::resolve_host(&host, port, t))?;
    addrs
        .into_iter()
        .map(|a| addr_to_py(py, &libsock::Addr::Inet(a)))
        .collect()
}

#[pymodule]
fn _libsock(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    errors::init();
    m.add("__version__", libsock::VERSION)?;
    let codes = PyDict::new(py);
    for k in libsock::ErrorKind::ALL {
        codes.set_item(k.name(), k.code())?;
    }
    m.add("ERROR_CODES", codes)?;
    let names: Vec<&str> = libsock::SockOpt::ALL.iter().map(|o| o.name()).collect();
    m.add("OPTION_NAMES", pyo3::types::PyTuple::new(py, names)?)?;
    m.add("DEFAULT_MAX_LEN", libsock::framing::DEFAULT_MAX_LEN as u64)?;
    m.add_class::<framing::PyLengthPrefixed>()?;
    m.add_class::<framing::PyDelimited>()?;
    m.add_class::<framing::PyFixed>()?;
    m.add_class::<framing::PyRaw>()?;
    m.add_class::<framing::PyHpPack>()?;
    m.add_class::<conn::PyConnection>()?;
    m.add_class::<listener::PyListener>()?;
    m.add_class::<datagram::PyDatagram>()?;
    m.add_class::<tls::PyTls>()?;
    m.add_class::<transfer::PyFileTransfer>()?;
    m.add_function(wrap_pyfunction!(tls::self_signed, m)?)?;
    m.add_function(wrap_pyfunction!(tls::fingerprint, m)?)?;
    m.add_function(wrap_pyfunction!(conn::connect, m)?)?;
    m.add_function(wrap_pyfunction!(listener::listen, m)?)?;
    m.add_function(wrap_pyfunction!(datagram::udp, m)?)?;
    m.add_function(wrap_pyfunction!(resolve, m)?)?;
    m.add_class::<engine::PyServer>()?;
    m.add_class::<engine::PyClient>()?;
    m.add_class::<engine::PyDatagramServer>()?;
    m.add_class::<engine::PyEvent>()?;
    m.add_class::<engine::PyHeartbeat>()?;
    m.add_class::<kcp::PyKcpServer>()?;
    m.add_class::<kcp::PyKcpSession>()?;
    m.add_function(wrap_pyfunction!(kcp::kcp_connect, m)?)?;
    m.add_function(wrap_pyfunction!(engine::shutdown_engine, m)?)?;
    m.add_function(wrap_pyfunction!(engine::engine_shutdown, m)?)?;
    Ok(())
}
