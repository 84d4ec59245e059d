//! Framing classes: LengthPrefixed, Delimited, Fixed, Raw, HpPack (each wraps a core `Framing`).

use libsock::framing::DEFAULT_MAX_LEN;
use libsock::{Delimited, Framing, LengthPrefixed};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::convert::{bytes_param, ranged, type_name, InBuf};
use crate::errors::{invalid, to_pyerr};

// The Python signatures spell the default max_len as a literal (so that it shows in
// `help()` and the stubs); keep it equal to core's default.
const _: () = assert!(DEFAULT_MAX_LEN == 16777216);

fn validated(py: Python<'_>, f: Framing) -> PyResult<Framing> {
    f.validate().map_err(|e| to_pyerr(py, e))?;
    Ok(f)
}

fn encode<'py>(
    py: Python<'py>,
    f: &Framing,
    data: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyBytes>> {
    let b = InBuf::new(data)?;
    let parts = f.encode_parts(b.as_slice()).map_err(|e| to_pyerr(py, e))?;
    PyBytes::new_with(py, parts.len(), |out| {
        let (h, rest) = out.split_at_mut(parts.header.as_bytes().len());
        h.copy_from_slice(parts.header.as_bytes());
        let (body, trailer) = rest.split_at_mut(parts.body.len());
        body.copy_from_slice(parts.body);
        trailer.copy_from_slice(parts.trailer);
        Ok(())
    })
}

fn py_bool(b: bool) -> &'static str {
    if b {
        "True"
    } else {
        "False"
    }
}

fn py_bytes_repr(b: &[u8]) -> String {
    let mut s = String::from("b'");
    for &c in b {
        match c {
            b'\\' => s.push_str("\\\\"),
            b'\'' => s.push_str("\\'"),
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            b'\t' => s.push_str("\\t"),
            0x20..=0x7e => s.push(c as char),
            _ => s.push_str(&format!("\\x{c:02x}")),
        }
    }
    s.push('\'');
    s
}

/// Messages preceded by a length field: ``width`` bytes (1, 2, 4 or 8) in ``byteorder``
/// ("big"/"network" or "little") at ``offset`` inside a header of ``header_len`` bytes; the body
/// length is the field's value plus ``adjustment`` (use a negative adjustment when the length
/// counts the header). A claimed length over ``max_len`` raises ``FrameTooLargeError`` without
/// allocating it. ``length_bits`` < ``width*8`` leaves the high bits for ``flag``;
/// ``keep_header`` delivers the header with each message (and expects it on send).
///
/// Example::
///
///     >>> f = libsock.LengthPrefixed(width=2)
///     >>> f.encode(b"hi")
///     b'\x00\x02hi'
///     >>> conn = libsock.connect(("example.com", 7000), framing=libsock.LengthPrefixed())
#[pyclass(frozen, eq, module = "libsock", name = "LengthPrefixed")]
#[derive(PartialEq)]
pub(crate) struct PyLengthPrefixed {
    pub(crate) lp: LengthPrefixed,
}

#[pymethods]
impl PyLengthPrefixed {
    #[new]
    #[pyo3(signature = (width = 4, byteorder = "big", offset = 0, header_len = None, adjustment = 0,
                        max_len = 16777216, length_bits = None, flag = 0, keep_header = false))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        width: i128,
        byteorder: &str,
        offset: i128,
        header_len: Option<i128>,
        adjustment: i128,
        max_len: i128,
        length_bits: Option<i128>,
        flag: i128,
        keep_header: bool,
    ) -> PyResult<Self> {
        let width: u8 = ranged(py, "width", width)?;
        let offset: usize = ranged(py, "offset", offset)?;
        let header_len: Option<usize> = header_len
            .map(|h| ranged(py, "header_len", h))
            .transpose()?;
        let adjustment: i64 = ranged(py, "adjustment", adjustment)?;
        let max_len: usize = ranged(py, "max_len", max_len)?;
        let length_bits: Option<u8> = length_bits
            .map(|b| ranged(py, "length_bits", b))
            .transpose()?;
        let flag: u64 = ranged(py, "flag", flag)?;
        let big = match byteorder {
            "big" | "network" | "!" | ">" => true,
            "little" | "<" => false,
            other => {
                return Err(invalid(
                    py,
                    format!("byteorder {other:?} (expected \"big\" or \"little\")"),
                ))
            }
        };
        let mut lp = LengthPrefixed::new(width)
            .big_endian(big)
            .offset(offset)
            .adjustment(adjustment)
            .max_len(max_len)
            .keep_header(keep_header);
        if let Some(h) = header_len {
            lp = lp.header_len(h);
        }
        lp = lp.flag_bits(length_bits.unwrap_or(width.saturating_mul(8)), flag);
        validated(py, Framing::LengthPrefixed(lp.clone()))?;
        Ok(PyLengthPrefixed { lp })
    }

    /// Width of the length field in bytes.
    ///
    /// Example: ``libsock.LengthPrefixed(width=2).width  # 2``
    #[getter]
    fn width(&self) -> u8 {
        self.lp.width
    }
    /// Byte order of the length field: ``"big"`` or ``"little"``.
    ///
    /// Example: ``libsock.LengthPrefixed(byteorder="little").byteorder``
    #[getter]
    fn byteorder(&self) -> &'static str {
        if self.lp.big_endian {
            "big"
        } else {
            "little"
        }
    }
    /// Offset of the length field inside the header.
    ///
    /// Example: ``libsock.LengthPrefixed(offset=2).offset  # 2``
    #[getter]
    fn offset(&self) -> usize {
        self.lp.offset
    }
    /// Header length in bytes.
    ///
    /// Example: ``libsock.LengthPrefixed(offset=2).header_len  # 6``
    #[getter]
    fn header_len(&self) -> usize {
        self.lp.header_len
    }
    /// Added to the field's value to get the body length.
    ///
    /// Example: ``libsock.LengthPrefixed(adjustment=-4).adjustment  # -4``
    #[getter]
    fn adjustment(&self) -> i64 {
        self.lp.adjustment
    }
    /// Largest body accepted or sent.
    ///
    /// Example: ``libsock.LengthPrefixed(max_len=1024).max_len``
    #[getter]
    fn max_len(&self) -> usize {
        self.lp.max_len
    }
    /// Low bits of the field that hold the length.
    ///
    /// Example: ``libsock.LengthPrefixed(width=2, length_bits=12).length_bits  # 12``
    #[getter]
    fn length_bits(&self) -> u8 {
        self.lp.length_bits
    }
    /// Value of the field's high bits (above ``length_bits``).
    ///
    /// Example: ``libsock.LengthPrefixed(width=2, length_bits=12, flag=0xA).flag``
    #[getter]
    fn flag(&self) -> u64 {
        self.lp.flag
    }
    /// Whether messages carry their header.
    ///
    /// Example: ``libsock.LengthPrefixed(keep_header=True).keep_header``
    #[getter]
    fn keep_header(&self) -> bool {
        self.lp.keep_header
    }

    /// The frame for ``data`` as bytes (what ``send_msg`` sends).
    fn encode<'py>(
        &self,
        py: Python<'py>,
        data: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        encode(py, &Framing::LengthPrefixed(self.lp.clone()), data)
    }

    fn __repr__(&self) -> String {
        let lp = &self.lp;
        format!(
            "LengthPrefixed(width={}, byteorder='{}', offset={}, header_len={}, adjustment={}, \
             max_len={}, length_bits={}, flag={}, keep_header={})",
            lp.width,
            self.byteorder(),
            lp.offset,
            lp.header_len,
            lp.adjustment,
            lp.max_len,
            lp.length_bits,
            lp.flag,
            py_bool(lp.keep_header)
        )
    }
}

/// Messages ending with ``delimiter`` (bytes, or str encoded as UTF-8), e.g. ``b"\n"`` or
/// ``b"\r\n"``. A message longer than ``max_len`` raises ``FrameTooLargeError`` (and is skipped
/// up to its delimiter). Received messages come without the delimiter unless
/// ``keep_delimiter``.
///
/// Example::
///
///     >>> libsock.Delimited(b"\r\n").encode(b"PING")
///     b'PING\r\n'
#[pyclass(frozen, eq, module = "libsock", name = "Delimited")]
#[derive(PartialEq)]
pub(crate) struct PyDelimited {
    pub(crate) d: Delimited,
}

#[pymethods]
impl PyDelimited {
    #[new]
    #[pyo3(signature = (delimiter = None, max_len = 16777216, keep_delimiter = false))]
    fn new(
        py: Python<'_>,
        delimiter: Option<&Bound<'_, PyAny>>,
        max_len: i128,
        keep_delimiter: bool,
    ) -> PyResult<Self> {
        let max_len: usize = ranged(py, "max_len", max_len)?;
        let delim = match delimiter {
            None => b"\n".to_vec(),
            Some(d) => bytes_param(d)?,
        };
        let d = Delimited::new(delim)
            .max_len(max_len)
            .keep_delimiter(keep_delimiter);
        validated(py, Framing::Delimited(d.clone()))?;
        Ok(PyDelimited { d })
    }

    /// The delimiter, as bytes.
    ///
    /// Example: ``libsock.Delimited("\r\n").delimiter  # b'\r\n'``
    #[getter]
    fn delimiter<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.d.delimiter)
    }
    /// Longest message (without the delimiter).
    ///
    /// Example: ``libsock.Delimited(max_len=4096).max_len``
    #[getter]
    fn max_len(&self) -> usize {
        self.d.max_len
    }
    /// Whether received messages keep their delimiter.
    ///
    /// Example: ``libsock.Delimited(keep_delimiter=True).keep_delimiter``
    #[getter]
    fn keep_delimiter(&self) -> bool {
        self.d.keep_delimiter
    }

    /// The frame for ``data`` as bytes (what ``send_msg`` sends).
    fn encode<'py>(
        &self,
        py: Python<'py>,
        data: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        encode(py, &Framing::Delimited(self.d.clone()), data)
    }

    fn __repr__(&self) -> String {
        format!(
            "Delimited(delimiter={}, max_len={}, keep_delimiter={})",
            py_bytes_repr(&self.d.delimiter),
            self.d.max_len,
            py_bool(self.d.keep_delimiter)
        )
    }
}

/// Every message is exactly ``size`` bytes.
///
/// Example::
///
///     >>> conn.framing = libsock.Fixed(16)
///     >>> record = conn.recv_msg()   # always 16 bytes
#[pyclass(frozen, eq, module = "libsock", name = "Fixed")]
#[derive(PartialEq)]
pub(crate) struct PyFixed {
    pub(crate) size: usize,
}

#[pymethods]
impl PyFixed {
    #[new]
    fn new(py: Python<'_>, size: i128) -> PyResult<Self> {
        let size: usize = ranged(py, "size", size)?;
        validated(py, Framing::Fixed(size))?;
        Ok(PyFixed { size })
    }
    /// The message size.
    ///
    /// Example: ``libsock.Fixed(16).size  # 16``
    #[getter]
    fn size(&self) -> usize {
        self.size
    }
    /// The frame for ``data`` (which must be ``size`` bytes long).
    fn encode<'py>(
        &self,
        py: Python<'py>,
        data: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        encode(py, &Framing::Fixed(self.size), data)
    }
    fn __repr__(&self) -> String {
        format!("Fixed({})", self.size)
    }
}

/// No framing: ``recv_msg`` returns whatever one read brings; ``send_msg`` sends the bytes as
/// they are. The default.
///
/// Example::
///
///     >>> conn.framing = libsock.Raw()
#[pyclass(frozen, eq, module = "libsock", name = "Raw")]
#[derive(PartialEq)]
pub(crate) struct PyRaw {}

#[pymethods]
impl PyRaw {
    #[new]
    fn new() -> Self {
        PyRaw {}
    }
    /// ``data`` unchanged, as bytes.
    fn encode<'py>(
        &self,
        py: Python<'py>,
        data: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        encode(py, &Framing::Raw, data)
    }
    fn __repr__(&self) -> String {
        "Raw()".into()
    }
}

/// HP-Socket's PACK framing: a 4-byte little-endian header whose low 22 bits are the body
/// length and whose high 10 bits are ``flag`` (checked on receive). ``max_len`` is at most
/// 0x3FFFFF.
///
/// Example::
///
///     >>> libsock.HpPack(flag=0x2A5).encode(b"hi")
///     b'\x02\x00@\xa9hi'
#[pyclass(frozen, eq, module = "libsock", name = "HpPack")]
#[derive(PartialEq)]
pub(crate) struct PyHpPack {
    pub(crate) flag: u16,
    pub(crate) max_len: usize,
}

impl PyHpPack {
    fn framing(&self) -> Framing {
        Framing::hp_pack(self.flag.into(), self.max_len)
    }
}

#[pymethods]
impl PyHpPack {
    #[new]
    #[pyo3(signature = (flag = 0, max_len = 0x3F_FFFF))]
    fn new(py: Python<'_>, flag: i128, max_len: i128) -> PyResult<Self> {
        let flag: u64 = ranged(py, "flag", flag)?;
        let max_len: usize = ranged(py, "max_len", max_len)?;
        // Core's one check (flag in 10 bits, max_len in 22), with core's words.
        Framing::try_hp_pack(flag, max_len).map_err(|e| to_pyerr(py, e))?;
        Ok(PyHpPack {
            flag: flag as u16,
            max_len,
        })
    }
    /// The 10-bit flag.
    ///
    /// Example: ``libsock.HpPack(flag=5).flag  # 5``
    #[getter]
    fn flag(&self) -> u16 {
        self.flag
    }
    /// Largest body (at most 0x3FFFFF).
    ///
    /// Example: ``libsock.HpPack(max_len=65536).max_len``
    #[getter]
    fn max_len(&self) -> usize {
        self.max_len
    }
    /// The frame for ``data`` as bytes.
    fn encode<'py>(
        &self,
        py: Python<'py>,
        data: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        encode(py, &self.framing(), data)
    }
    fn __repr__(&self) -> String {
        format!("HpPack(flag={:#x}, max_len={})", self.flag, self.max_len)
    }
}

/// A core framing from a Python framing object (or `None` for raw).
pub(crate) fn framing_arg(obj: Option<&Bound<'_, PyAny>>) -> PyResult<Framing> {
    let Some(obj) = obj else {
        return Ok(Framing::Raw);
    };
    if obj.is_none() {
        return Ok(Framing::Raw);
    }
    if let Ok(f) = obj.cast::<PyLengthPrefixed>() {
        return Ok(Framing::LengthPrefixed(f.get().lp.clone()));
    }
    if let Ok(f) = obj.cast::<PyDelimited>() {
        return Ok(Framing::Delimited(f.get().d.clone()));
    }
    if let Ok(f) = obj.cast::<PyFixed>() {
        return Ok(Framing::Fixed(f.get().size));
    }
    if obj.cast::<PyRaw>().is_ok() {
        return Ok(Framing::Raw);
    }
    if let Ok(f) = obj.cast::<PyHpPack>() {
        return Ok(f.get().framing());
    }
    Err(PyTypeError::new_err(format!(
        "framing must be LengthPrefixed, Delimited, Fixed, Raw, HpPack or None, not {}",
        type_name(obj)
    )))
}

/// A Python framing object for a core framing.
pub(crate) fn framing_to_py(py: Python<'_>, f: Framing) -> PyResult<Bound<'_, PyAny>> {
    Ok(match f {
        Framing::Raw => Bound::new(py, PyRaw {})?.into_any(),
        Framing::Fixed(size) => Bound::new(py, PyFixed { size })?.into_any(),
        Framing::Delimited(d) => Bound::new(py, PyDelimited { d })?.into_any(),
        Framing::LengthPrefixed(lp) => {
            if lp.flag <= 0x3FF
                && Framing::hp_pack(lp.flag, lp.max_len) == Framing::LengthPrefixed(lp.clone())
            {
                Bound::new(
                    py,
                    PyHpPack {
                        flag: lp.flag as u16,
                        max_len: lp.max_len,
                    },
                )?
                .into_any()
            } else {
                Bound::new(py, PyLengthPrefixed { lp })?.into_any()
            }
        }
        // Framings added to core later show up as their closest Python form: raw bytes.
        #[allow(unreachable_patterns)]
        _ => Bound::new(py, PyRaw {})?.into_any(),
    })
}
