//! `FileTransfer`: core's `libsock::transfer` (a file with name, size and SHA-256, resumable).

use std::path::PathBuf;

use libsock::transfer::{FileTransfer, RecvOptions, SendOptions, TransferInfo, TransferState};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::conn::PyConnection;
use crate::errors::wait;

/// The state as Python spells core's word: lower case (``"transferring"``).
fn state_word(s: TransferState) -> String {
    s.name().to_ascii_lowercase()
}

/// One side of one file transfer over a ``Connection`` (plain or TLS): the protocol of
/// ``libsock send-file``/``recv-file``, in core. Made by ``FileTransfer.sender(path)`` or
/// ``FileTransfer.receiver(dest)``; moved by ``run(conn)`` (the whole transfer) or
/// ``step(conn)`` (one piece: the handshake, at most 1 MiB, or the checksum exchange), which
/// release the GIL. ``progress()`` — ``(done, total, state)`` — and ``cancel()`` work from any
/// thread while another runs it. The receiver writes to ``NAME.libsock-part`` and renames it
/// when the SHA-256 matches; an existing file is refused unless ``overwrite=True``
/// (``FileExistsError``); ``resume=True`` goes on from the partial file of a broken transfer.
/// A checksum mismatch is ``BadFrameError``.
///
/// Example::
///
///     >>> t = libsock.FileTransfer.sender("backup.tar")
///     >>> t.run(conn)                       # or: while t.step(conn) != "done": show(t.progress())
///     >>> t.sha256
///     'e3b0c442...'
#[pyclass(frozen, module = "libsock", name = "FileTransfer")]
pub(crate) struct PyFileTransfer {
    t: FileTransfer,
}

fn info_dict<'py>(py: Python<'py>, i: &TransferInfo) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("name", &i.name)?;
    d.set_item("path", i.path.to_string_lossy().into_owned())?;
    d.set_item("size", i.size)?;
    d.set_item("version", i.version)?;
    d.set_item("offered", i.offered)?;
    d.set_item("resumed_at", i.resumed_at)?;
    d.set_item("sha256", &i.sha256)?;
    Ok(d)
}

#[pymethods]
impl PyFileTransfer {
    /// A transfer that sends the file at ``path`` (opened now: ``FileNotFoundError`` before
    /// anything is sent). ``name`` is what the receiver is told (default: the file's own
    /// name); ``resume=False`` speaks version 1 of the protocol, for a receiver from before
    /// version 2.
    ///
    /// Example: ``libsock.FileTransfer.sender("video.mp4").run(conn)``
    #[staticmethod]
    #[pyo3(signature = (path, *, name = None, resume = true))]
    fn sender(
        py: Python<'_>,
        path: PathBuf,
        name: Option<String>,
        resume: bool,
    ) -> PyResult<PyFileTransfer> {
        let mut opts = SendOptions::new().resume(resume);
        opts.name = name;
        let t = wait(py, || FileTransfer::sender(&path, &opts))?;
        Ok(PyFileTransfer { t })
    }

    /// A transfer that receives one file into ``dest``: the file to write, or a directory to
    /// write into under the sender's name. An existing file ``dest`` is refused now
    /// (``FileExistsError``) unless ``overwrite=True``; ``resume=True`` offers the partial
    /// file of a broken transfer (``dest.libsock-part``) to the sender.
    ///
    /// Example: ``libsock.FileTransfer.receiver("incoming/", resume=True).run(conn)``
    #[staticmethod]
    #[pyo3(signature = (dest, *, overwrite = false, resume = false))]
    fn receiver(
        py: Python<'_>,
        dest: PathBuf,
        overwrite: bool,
        resume: bool,
    ) -> PyResult<PyFileTransfer> {
        let opts = RecvOptions::new().overwrite(overwrite).resume(resume);
        let t = wait(py, || FileTransfer::receiver(&dest, &opts))?;
        Ok(PyFileTransfer { t })
    }

    /// Move the transfer one piece forward over ``conn`` and return its state afterwards:
    /// ``"starting"``, ``"transferring"``, ``"verifying"`` or ``"done"`` (a failure raises;
    /// the connection's timeout bounds each wait).
    ///
    /// Example::
    ///
    ///     >>> while t.step(conn) != "done":
    ///     ...     done, total, state = t.progress()
    fn step(&self, py: Python<'_>, conn: &Bound<'_, PyConnection>) -> PyResult<String> {
        let c = &conn.get().c;
        let t = &self.t;
        wait(py, || t.step(c)).map(state_word)
    }

    /// Run the transfer to its end over ``conn``; returns ``info``.
    ///
    /// Example: ``libsock.FileTransfer.receiver("in/").run(conn)["sha256"]``
    fn run<'py>(
        &self,
        py: Python<'py>,
        conn: &Bound<'py, PyConnection>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let c = &conn.get().c;
        let t = &self.t;
        let info = wait(py, || t.run(c))?;
        info_dict(py, &info)
    }

    /// ``(done, total, state)``: the bytes sent or written so far (counted from the start of the
    /// file, so a resumed transfer starts at its offset), the file's size (0 on a receiver
    /// before the header) and the state word; from any thread, without waiting.
    ///
    /// Example: ``done, total, state = t.progress()``
    fn progress(&self) -> (u64, u64, String) {
        let p = self.t.progress();
        (p.done, p.total, state_word(p.state))
    }

    /// Stop the transfer at its next step (from any thread), which raises ``InterruptedError``;
    /// a receiver keeps its partial file for a later ``resume=True``.
    ///
    /// Example: ``t.cancel()``
    fn cancel(&self) {
        self.t.cancel()
    }

    /// What is known about the transfer: ``name``, ``path`` (the receiver's final path, the
    /// sender's file), ``size``, ``version`` (1 or 2), ``offered`` (bytes the receiver offered
    /// to resume from), ``resumed_at`` (where the bytes started) and ``sha256`` (hex, once
    /// verified).
    ///
    /// Example: ``t.info["resumed_at"]``
    #[getter]
    fn info<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        info_dict(py, &self.t.info())
    }

    /// The state word (as the third item of ``progress()``).
    ///
    /// Example: ``t.state == "done"``
    #[getter]
    fn state(&self) -> String {
        state_word(self.t.progress().state)
    }

    /// The file's SHA-256 in hex once verified, else ``""``.
    ///
    /// Example: ``print(t.sha256)``
    #[getter]
    fn sha256(&self) -> String {
        self.t.info().sha256
    }

    /// The receiver's final path (known after the header) or the sender's file.
    ///
    /// Example: ``print(t.path)``
    #[getter]
    fn path(&self) -> String {
        self.t.path().to_string_lossy().into_owned()
    }

    /// The message of the error that ended the transfer, or ``None``.
    ///
    /// Example: ``print(t.error)``
    #[getter]
    fn error(&self) -> Option<String> {
        self.t.error()
    }

    fn __repr__(&self) -> String {
        let p = self.t.progress();
        format!(
            "<libsock.FileTransfer {} {}/{} bytes, {}>",
            self.t.info().name,
            p.done,
            p.total,
            state_word(p.state)
        )
    }
}
