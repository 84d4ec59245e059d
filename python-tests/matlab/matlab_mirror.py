"""The MATLAB classes of bindings/matlab/+libsock, repeated line by line in Python.

Every function or method that calls libsock carries `@mirrors("<File>.m", "<method>")` and makes
the same `libpointer(...)` and `calllib(...)` calls, with the same argument text, in the same
order, as that MATLAB method (python-tests/test_matlab_path.py parses both and compares them).
The calls run through matlab_calllib.calllib, which checks arguments as MATLAB does and calls the
real libsock.so; the code between the calls (byte conversion, name/value options) follows the
MATLAB code so that the tests exercise the same behaviour.

Names are kept as in MATLAB on purpose (`obj` for the object, `libsock.LS_...`, camelCase), and
MATLAB's `nargin < k` becomes a `None` default.
"""

from __future__ import annotations

import math
import os
import re
import types
from typing import Any, Callable, Optional

import numpy as np

from matlab_calllib import (  # noqa: F401  (the names the MATLAB code uses)
    NP,
    ROOT,
    MatlabError,
    blanks,
    calllib,
    char,
    double,
    int32,
    int64,
    libfunctions,
    libisloaded,
    libpointer,
    loadlibrary,
    numel,
    uint64,
    uint8,
    unloadlibrary,
    zeros,
)

MATLAB_DIR = os.path.join(ROOT, "bindings", "matlab", "+libsock")
MIRRORS: dict[tuple[str, str], Callable[..., Any]] = {}


def mirrors(mfile: str, method: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Mark a Python function as the mirror of MATLAB method `method` in +libsock/`mfile`."""

    def mark(f: Callable[..., Any]) -> Callable[..., Any]:
        MIRRORS[(mfile, method)] = f
        f.__mirrors__ = (mfile, method)  # type: ignore[attr-defined]
        return f

    return mark


def error(identifier: str, fmt: str, *args: Any) -> None:
    """MATLAB error(id, fmt, args...)."""
    raise MatlabError(identifier, fmt.replace("%d", "%s") % args if args else fmt)


# ------------------------------------------------------------------------------------------
# The package namespace `libsock.*`: constants from the generated .m files, functions, classes.


def _read_constants() -> dict[str, Any]:
    consts = {}
    for f in sorted(os.listdir(MATLAB_DIR)):
        if f.startswith("LS_") and f.endswith(".m"):
            with open(os.path.join(MATLAB_DIR, f), encoding="utf-8") as fh:
                m = re.search(r"^v = int32\((-?\d+)\);", fh.read(), re.M)
            assert m, f"{f}: no `v = int32(N);` line"
            consts[f[:-2]] = np.int32(int(m.group(1)))
    return consts


libsock = types.SimpleNamespace(**_read_constants())
LIBRARY_FILE: Optional[str] = None  # set by the tests (MATLAB: getenv('LIBSOCK_LIBRARY'))


@mirrors("load.m", "load")
def load(libfile: Optional[str] = None, headerfile: Optional[str] = None) -> None:
    if libisloaded("libsock"):
        return
    libfile = libfile or LIBRARY_FILE or os.path.join(ROOT, "target", "release", "libsock.so")
    headerfile = headerfile or os.path.join(ROOT, "include", "libsock.h")
    loadlibrary(libfile, headerfile, "libsock")


@mirrors("unload.m", "unload")
def unload() -> None:
    if libisloaded("libsock"):
        libsock.shutdownEngine()
        unloadlibrary("libsock")


@mirrors("shutdownEngine.m", "shutdownEngine")
def shutdownEngine() -> None:
    if not libisloaded('libsock'):
        return
    rc = calllib('libsock', 'ls_shutdown_engine')[0]
    libsock.check(rc)


@mirrors("version.m", "version")
def version() -> str:
    libsock.load()
    v = str(calllib('libsock', 'ls_version')[0])
    return v


@mirrors("check.m", "check")
def check(rc: Any) -> None:
    if rc >= 0:
        return
    cap = 1024
    mrc, msg, needed = calllib('libsock', 'ls_last_error_message', blanks(cap), uint64(cap), uint64(0))
    if mrc == libsock.LS_ERR_BUFFER_TOO_SMALL:
        cap = double(needed)
        mrc, msg = calllib('libsock', 'ls_last_error_message', blanks(cap), uint64(cap), uint64(0))[:2]
    if mrc != 0 or msg == "":
        msg = calllib('libsock', 'ls_strerror', int32(rc))[0]
    name = calllib('libsock', 'ls_error_name', int32(rc))[0]
    raise MatlabError(libsock.Socket.errorIdentifier(name), msg)


_PTRTYPES: dict[str, str] = {}


@mirrors("ptrtype.m", "ptrtype")
def ptrtype(kind: str) -> str:
    if not _PTRTYPES:
        libsock.load()
        sigs = libfunctions('libsock', '-full')
        _PTRTYPES.update({
            "int64": _argType(sigs, "ls_tcp_connect", 3, "int64Ptr"),
            "size": _argType(sigs, "ls_bytes_available", 2, "uint64Ptr"),
            "int32": _argType(sigs, "ls_local_port", 2, "int32Ptr"),
            "uint8": _argType(sigs, "ls_recv", 3, "uint8Ptr"),
        })
    return _PTRTYPES[kind]


def _argType(sigs: list[str], fname: str, k: int, default: str) -> str:
    hit = [s for s in sigs if f" {fname}(" in s]
    if not hit:
        return default
    m = re.search(r"\((.*)\)", hit[0])
    if not m:
        return default
    parts = [p.strip() for p in m.group(1).split(",")]
    if len(parts) >= k and parts[k - 1].endswith("Ptr"):
        return parts[k - 1]
    return default


libsock.ptrtype = ptrtype
libsock.load = load
libsock.unload = unload
libsock.shutdownEngine = shutdownEngine
libsock.version = version
libsock.check = check


def _validatestring(value: Any, options: list[str]) -> str:
    v = str(value).lower()
    hits = [o for o in options if o.lower().startswith(v)]
    if not hits:
        raise MatlabError("MATLAB:unrecognizedStringChoice", f"{value!r} is not one of {options}")
    return hits[0]


# ------------------------------------------------------------------------------------------
# +libsock/Socket.m


class Socket:
    """Mirror of libsock.Socket (the abstract base)."""

    def __init__(self) -> None:
        self.Handle = np.int64(0)
        self._ByteOrder = "little-endian"

    # ByteOrder with its set method
    @property
    def ByteOrder(self) -> str:
        return self._ByteOrder

    @ByteOrder.setter
    def ByteOrder(self, value: str) -> None:
        self._ByteOrder = _validatestring(value, ["little-endian", "big-endian"])

    @property
    def Timeout(self) -> float:
        return self.get_Timeout()

    @Timeout.setter
    def Timeout(self, seconds: float) -> None:
        self.set_Timeout(seconds)

    @property
    def LocalAddress(self) -> str:
        return self.get_LocalAddress()

    @property
    def LocalPort(self) -> float:
        return self.get_LocalPort()

    @mirrors("Socket.m", "get.Timeout")
    def get_Timeout(obj) -> float:
        out = libpointer('int32Ptr', 0)
        rc = calllib('libsock', 'ls_get_timeout', obj.Handle, out)[0]
        libsock.check(rc)
        t = libsock.Socket.fromMs(out.Value)
        return t

    @mirrors("Socket.m", "set.Timeout")
    def set_Timeout(obj, seconds: float) -> None:
        ms = libsock.Socket.toMs(seconds)
        rc = calllib('libsock', 'ls_set_timeout', obj.Handle, int32(ms))[0]
        libsock.check(rc)

    @mirrors("Socket.m", "get.LocalAddress")
    def get_LocalAddress(obj) -> str:
        cap = double(libsock.LS_ADDRESS_MAX)
        rc, a = calllib('libsock', 'ls_local_address', obj.Handle, blanks(cap), uint64(cap), uint64(0))[:2]
        libsock.check(rc)
        return str(a)

    @mirrors("Socket.m", "get.LocalPort")
    def get_LocalPort(obj) -> float:
        out = libpointer('int32Ptr', 0)
        rc = calllib('libsock', 'ls_local_port', obj.Handle, out)[0]
        libsock.check(rc)
        p = double(out.Value)
        return p

    @mirrors("Socket.m", "setOption")
    def setOption(obj, option: Any, value: Any) -> None:
        code = libsock.Socket.optionCode(option)
        rc = calllib('libsock', 'ls_set_option', obj.Handle, int32(code), int64(value))[0]
        libsock.check(rc)

    @mirrors("Socket.m", "getOption")
    def getOption(obj, option: Any) -> float:
        code = libsock.Socket.optionCode(option)
        out = libpointer(libsock.ptrtype('int64'), 0)
        rc = calllib('libsock', 'ls_get_option', obj.Handle, int32(code), out)[0]
        libsock.check(rc)
        value = double(out.Value)
        return value

    @mirrors("Socket.m", "configureFraming")
    def configureFraming(obj, kind: str, *varargin: Any) -> None:
        libsock.Socket.setFraming(obj.Handle, kind, *varargin)

    @staticmethod
    @mirrors("Socket.m", "setFraming")
    def setFraming(handle: Any, kind: str, *varargin: Any) -> None:
        kind = str(kind).lower()
        if kind == "raw":
            rc = calllib('libsock', 'ls_set_framing_raw', handle)[0]
        elif kind == "length":
            width = libsock.Socket.optArg(varargin, 1, 4)
            order = str(libsock.Socket.optArg(varargin, 2, "big-endian"))
            maxLength = libsock.Socket.optArg(varargin, 3, 0)
            bigEndian = double(order == "big-endian")
            rc = calllib('libsock', 'ls_set_framing_length', handle, int32(width), int32(bigEndian), uint64(maxLength))[0]
        elif kind == "delimited":
            if len(varargin) >= 1:
                delim = libsock.Socket.textBytes(varargin[0])
            else:
                delim = uint8([13, 10])
            maxLength = libsock.Socket.optArg(varargin, 2, 0)
            keep = double(bool(libsock.Socket.optArg(varargin, 3, False)))
            rc = calllib('libsock', 'ls_set_framing_delimited', handle, delim, uint64(numel(delim)), uint64(maxLength), int32(keep))[0]
        elif kind == "fixed":
            frameSize = libsock.Socket.optArg(varargin, 1, 1)
            rc = calllib('libsock', 'ls_set_framing_fixed', handle, uint64(frameSize))[0]
        elif kind == "hppack":
            flag = libsock.Socket.optArg(varargin, 1, 0)
            maxLength = libsock.Socket.optArg(varargin, 2, 0)
            rc = calllib('libsock', 'ls_set_framing_hp_pack', handle, int32(flag), uint64(maxLength))[0]
        else:
            error('libsock:invalidArgument', 'framing "%s": use "raw", "length", "delimited", "fixed" or "hppack"', kind)
        libsock.check(rc)

    @mirrors("Socket.m", "close")
    def close(obj) -> None:
        h = obj.Handle
        obj.Handle = np.int64(0)
        rc = calllib('libsock', 'ls_close', h)[0]
        libsock.check(rc)

    @mirrors("Socket.m", "delete")
    def delete(obj) -> None:
        if obj.Handle != 0 and libisloaded('libsock'):
            calllib('libsock', 'ls_close', obj.Handle)
            obj.Handle = np.int64(0)

    # -- static helpers (no calllib) -----------------------------------------------------------

    @staticmethod
    def toMs(seconds: Any) -> float:
        if seconds is None or (np.ndim(seconds) == 0 and math.isinf(float(seconds))):
            return -1.0
        if np.ndim(seconds) != 0 or float(seconds) < 0 or math.isnan(float(seconds)):
            error('libsock:invalidArgument', 'a timeout is a number of seconds >= 0 or Inf')
        return float(min(float(_round_half(float(seconds) * 1000)), 2**31 - 1))

    @staticmethod
    def fromMs(ms: Any) -> float:
        return math.inf if ms < 0 else float(ms) / 1000

    @staticmethod
    def optArg(args: tuple, k: int, default: Any) -> Any:
        if len(args) >= k and not _isempty(args[k - 1]):
            return args[k - 1]
        return default

    @staticmethod
    def datatypeSize(datatype: str) -> int:
        d = str(datatype).lower()
        if d in ("uint8", "int8", "char", "string"):
            return 1
        if d in ("uint16", "int16"):
            return 2
        if d in ("uint32", "int32", "single"):
            return 4
        if d in ("uint64", "int64", "double"):
            return 8
        error('libsock:invalidArgument', 'datatype "%s": use uint8, int8, uint16, int16, uint32, int32, uint64, int64, single, double, char or string', d)
        raise AssertionError

    @staticmethod
    def toBytes(data: Any, datatype: str, byteOrder: str) -> np.ndarray:
        datatype = str(datatype).lower()
        libsock.Socket.datatypeSize(datatype)
        if datatype in ("char", "string"):
            if isinstance(data, (list, tuple)) and all(isinstance(x, str) for x in data):
                text = "".join(data)  # a string array, joined
            elif isinstance(data, str):
                text = data
            else:
                text = "".join(chr(int(c)) for c in np.asarray(data).reshape(-1))  # char(codes)
            if any(ord(c) > 255 for c in text):
                error('libsock:invalidArgument', '"%s" writes one byte per character; use writeline (UTF-8) for other text', datatype)
            out = np.frombuffer(text.encode("latin-1"), dtype=np.uint8).copy()
        else:
            values = NP_cast(np.asarray(data).reshape(-1), datatype)
            if byteOrder == "big-endian":
                values = values.byteswap()
            out = values.view(np.uint8).copy()  # typecast(values, 'uint8') on a little-endian host
        return out.reshape(-1)

    @staticmethod
    def fromBytes(bytes_: np.ndarray, datatype: str, byteOrder: str) -> Any:
        datatype = str(datatype).lower()
        w = libsock.Socket.datatypeSize(datatype)
        b = np.asarray(bytes_, dtype=np.uint8).reshape(-1)
        if datatype == "char" or datatype == "string":
            return bytes(b).decode("latin-1")
        n = (b.size // w) * w
        data = b[:n].copy().view(NP[datatype])
        if byteOrder == "big-endian":
            data = data.byteswap()
        return data

    @staticmethod
    def textBytes(value: Any) -> np.ndarray:
        if isinstance(value, str):
            return np.frombuffer(value.encode("latin-1"), dtype=np.uint8).copy()
        return uint8(np.asarray(value).reshape(-1))

    @staticmethod
    def errorIdentifier(name: str) -> str:
        parts = str(name).lower().split("_")
        parts = [parts[0]] + [p[:1].upper() + p[1:] for p in parts[1:]]
        return "libsock:" + "".join(parts)

    @staticmethod
    def optionCode(option: Any) -> float:
        if not isinstance(option, str):
            return float(option)
        names = ["NoDelay", "KeepAlive", "KeepAliveIdle", "KeepAliveInterval", "KeepAliveCount",
                 "Linger", "RecvBufferSize", "SendBufferSize", "ReuseAddress", "ReusePort",
                 "TTL", "TOS", "V6Only", "Broadcast", "MulticastTTL", "MulticastLoop",
                 "TcpUserTimeout"]
        codes = [libsock.LS_OPT_NODELAY, libsock.LS_OPT_KEEPALIVE, libsock.LS_OPT_KEEPALIVE_IDLE,
                 libsock.LS_OPT_KEEPALIVE_INTERVAL, libsock.LS_OPT_KEEPALIVE_COUNT,
                 libsock.LS_OPT_LINGER, libsock.LS_OPT_RECV_BUFFER_SIZE,
                 libsock.LS_OPT_SEND_BUFFER_SIZE, libsock.LS_OPT_REUSE_ADDRESS,
                 libsock.LS_OPT_REUSE_PORT, libsock.LS_OPT_TTL, libsock.LS_OPT_TOS,
                 libsock.LS_OPT_V6_ONLY, libsock.LS_OPT_BROADCAST, libsock.LS_OPT_MULTICAST_TTL,
                 libsock.LS_OPT_MULTICAST_LOOP, libsock.LS_OPT_TCP_USER_TIMEOUT]
        former_names = ["ReceiveBufferSize", "UserTimeout"]
        former_codes = [libsock.LS_OPT_RECV_BUFFER_SIZE, libsock.LS_OPT_TCP_USER_TIMEOUT]
        wanted = option.replace("_", "").lower()
        for n, c in zip(names + former_names, codes + former_codes):
            if n.lower() == wanted:
                return float(c)
        error('libsock:invalidArgument', 'unknown option "%s"; known: %s', option, ", ".join(names))
        raise AssertionError

    @staticmethod
    def formatAddress(host: Any, port: Any = None) -> str:
        host = str(host)
        if _isempty(port):
            return host
        if ":" in host and not host.startswith("["):
            return "[%s]:%d" % (host, _round_half(float(port)))
        return "%s:%d" % (host, _round_half(float(port)))


def NP_cast(values: np.ndarray, datatype: str) -> np.ndarray:
    """MATLAB cast(values, datatype) (rounding and saturating for integer classes)."""
    from matlab_calllib import mcast

    return np.atleast_1d(mcast(values, datatype))


def _round_half(x: float) -> int:
    return int(math.copysign(math.floor(abs(x) + 0.5), x))


def _isempty(x: Any) -> bool:
    if x is None:
        return True
    if isinstance(x, str):
        return False  # "" is a 1x1 string in MATLAB, not empty
    return np.size(x) == 0


libsock.Socket = Socket


# ------------------------------------------------------------------------------------------
# +libsock/TcpClient.m


class TcpClient(Socket):
    """Mirror of libsock.TcpClient."""

    @mirrors("TcpClient.m", "TcpClient")
    def __init__(obj, host: Any = None, port: Any = None, *varargin: Any) -> None:
        Socket.__init__(obj)
        obj.Address = ""
        obj.Port = 0.0
        obj.ConnectTimeout = 10
        obj.NumBytesWritten = 0
        obj._MessageBufferSize = 65536
        obj.MaxLineLength = 16777216
        obj.ReadTerminator = "LF"
        obj.WriteTerminator = "LF"
        if host is None:
            return
        libsock.load()
        if port is None and not varargin and isinstance(host, np.int64):
            obj.Handle = host
            cap = double(libsock.LS_ADDRESS_MAX)
            rc, peer = calllib('libsock', 'ls_peer_address', obj.Handle, blanks(cap), uint64(cap), uint64(0))[:2]
            libsock.check(rc)
            obj.Address, obj.Port = libsock.TcpClient.splitAddress(peer)
            return
        if isinstance(port, str):
            varargin = (port,) + varargin
            port = None
        opts = {"ConnectTimeout": 10, "Timeout": math.inf, "ByteOrder": "little-endian", "Terminator": "LF"}
        for k in range(0, len(varargin), 2):
            name = _validatestring(varargin[k], list(opts))
            opts[name] = varargin[k + 1]
        target = libsock.Socket.formatAddress(host, port)
        connectMs = libsock.Socket.toMs(opts["ConnectTimeout"])
        out = libpointer(libsock.ptrtype('int64'), 0)
        rc = calllib('libsock', 'ls_tcp_connect', char(target), int32(connectMs), out)[0]
        libsock.check(rc)
        obj.Handle = out.Value
        obj.Address = str(host)
        if _isempty(port):
            obj.Port = libsock.TcpClient.splitAddress(target)[1]
        else:
            obj.Port = double(port)
        obj.ConnectTimeout = opts["ConnectTimeout"]
        obj.Timeout = opts["Timeout"]
        obj.ByteOrder = opts["ByteOrder"]
        obj.configureTerminator(opts["Terminator"])

    @property
    def NumBytesAvailable(self) -> float:
        return self.get_NumBytesAvailable()

    @property
    def Terminator(self) -> Any:
        if self.ReadTerminator == self.WriteTerminator:
            return self.ReadTerminator
        return [self.ReadTerminator, self.WriteTerminator]

    @property
    def MessageBufferSize(self) -> float:
        return self._MessageBufferSize

    @MessageBufferSize.setter
    def MessageBufferSize(self, n: Any) -> None:
        if not (np.ndim(n) == 0 and float(n) == int(n) and n > 0):
            raise MatlabError("MATLAB:expectedPositive", "MessageBufferSize must be a positive integer")
        self._MessageBufferSize = float(n)

    @mirrors("TcpClient.m", "get.NumBytesAvailable")
    def get_NumBytesAvailable(obj) -> float:
        out = libpointer(libsock.ptrtype('size'), 0)
        rc = calllib('libsock', 'ls_bytes_available', obj.Handle, out)[0]
        libsock.check(rc)
        n = double(out.Value)
        return n

    def configureTerminator(obj, readTerminator: Any, writeTerminator: Any = None) -> None:
        if writeTerminator is None:
            writeTerminator = readTerminator
        libsock.TcpClient.terminatorBytes(readTerminator)
        libsock.TcpClient.terminatorBytes(writeTerminator)
        obj.ReadTerminator = libsock.TcpClient.normalizeTerminator(readTerminator)
        obj.WriteTerminator = libsock.TcpClient.normalizeTerminator(writeTerminator)

    @mirrors("TcpClient.m", "write")
    def write(obj, data: Any, datatype: Optional[str] = None) -> None:
        if datatype is None:
            datatype = "char" if isinstance(data, str) else "uint8"
        bytes = libsock.Socket.toBytes(data, datatype, obj.ByteOrder)
        n = numel(bytes)
        if n == 0:
            return
        rc = calllib('libsock', 'ls_send_all', obj.Handle, bytes, uint64(n))[0]
        libsock.check(rc)
        obj.NumBytesWritten = obj.NumBytesWritten + n

    @mirrors("TcpClient.m", "read")
    def read(obj, count: Any = None, datatype: Optional[str] = None) -> Any:
        if datatype is None:
            datatype = "uint8"
        width = libsock.Socket.datatypeSize(datatype)
        if count is None:
            count = math.floor(obj.NumBytesAvailable / width)
        if np.ndim(count) != 0 or count < 0 or count != _round_half(float(count)):
            error('libsock:invalidArgument', 'read: COUNT must be a whole number >= 0')
        n = count * width
        if n == 0:
            data = libsock.Socket.fromBytes(zeros(1, 0, 'uint8'), datatype, obj.ByteOrder)
            return data
        buf = libpointer('uint8Ptr', zeros(1, n, 'uint8'))
        rc = calllib('libsock', 'ls_recv_exact', obj.Handle, int32(libsock.LS_TIMEOUT_DEFAULT), buf, uint64(n))[0]
        libsock.check(rc)
        data = libsock.Socket.fromBytes(buf.Value, datatype, obj.ByteOrder)
        return data

    @mirrors("TcpClient.m", "readline")
    def readline(obj) -> str:
        term = libsock.TcpClient.terminatorBytes(obj.ReadTerminator)
        cap = min(4096, obj.MaxLineLength)
        while True:
            buf = libpointer('uint8Ptr', zeros(1, cap, 'uint8'))
            out = libpointer(libsock.ptrtype('size'), 0)
            rc = calllib('libsock', 'ls_recv_until', obj.Handle, int32(libsock.LS_TIMEOUT_DEFAULT), term, uint64(numel(term)), buf, uint64(cap), out)[0]
            if rc != libsock.LS_ERR_FRAME_TOO_LARGE or cap >= obj.MaxLineLength:
                break
            cap = min(cap * 4, obj.MaxLineLength)
        libsock.check(rc)
        n = int(double(out.Value) - numel(term))
        bytes = buf.Value
        line = bytes[:n].tobytes().decode("utf-8", errors="replace")  # native2unicode(..., 'UTF-8')
        return line

    @mirrors("TcpClient.m", "writeline")
    def writeline(obj, text: str) -> None:
        term = libsock.TcpClient.terminatorBytes(obj.WriteTerminator)
        bytes = np.concatenate([np.frombuffer(str(text).encode("utf-8"), dtype=np.uint8), term])
        n = numel(bytes)
        rc = calllib('libsock', 'ls_send_all', obj.Handle, bytes, uint64(n))[0]
        libsock.check(rc)
        obj.NumBytesWritten = obj.NumBytesWritten + n

    @mirrors("TcpClient.m", "writemsg")
    def writemsg(obj, data: Any, datatype: Optional[str] = None) -> None:
        if datatype is None:
            datatype = "char" if isinstance(data, str) else "uint8"
        bytes = libsock.Socket.toBytes(data, datatype, obj.ByteOrder)
        n = numel(bytes)
        if n == 0:
            bytes = uint8(0)
        rc = calllib('libsock', 'ls_send_msg', obj.Handle, bytes, uint64(n))[0]
        libsock.check(rc)
        obj.NumBytesWritten = obj.NumBytesWritten + n

    @mirrors("TcpClient.m", "readmsg")
    def readmsg(obj, datatype: Optional[str] = None) -> Any:
        if datatype is None:
            datatype = "uint8"
        cap = obj.MessageBufferSize
        buf = libpointer('uint8Ptr', zeros(1, cap, 'uint8'))
        out = libpointer(libsock.ptrtype('size'), 0)
        rc = calllib('libsock', 'ls_recv_msg', obj.Handle, int32(libsock.LS_TIMEOUT_DEFAULT), buf, uint64(cap), out)[0]
        if rc == libsock.LS_ERR_BUFFER_TOO_SMALL:
            cap = double(out.Value)
            buf = libpointer('uint8Ptr', zeros(1, cap, 'uint8'))
            rc = calllib('libsock', 'ls_recv_msg', obj.Handle, int32(libsock.LS_TIMEOUT_DEFAULT), buf, uint64(cap), out)[0]
        libsock.check(rc)
        n = int(double(out.Value))
        bytes = buf.Value
        data = libsock.Socket.fromBytes(bytes[:n], datatype, obj.ByteOrder)
        return data

    @mirrors("TcpClient.m", "flush")
    def flush(obj, buffer: str = "input") -> None:
        buffer = _validatestring(buffer, ["input", "output"])
        if buffer == "output":
            return
        n = obj.NumBytesAvailable
        while n > 0:
            buf = libpointer('uint8Ptr', zeros(1, n, 'uint8'))
            out = libpointer(libsock.ptrtype('size'), 0)
            rc = calllib('libsock', 'ls_recv', obj.Handle, int32(libsock.LS_TIMEOUT_POLL), buf, uint64(n), out)[0]
            libsock.check(rc)
            if out.Value == 0:
                break
            n = obj.NumBytesAvailable

    @mirrors("TcpClient.m", "shutdown")
    def shutdown(obj, how: str = "write") -> None:
        how = _validatestring(how, ["write", "read", "both"])
        if how == "write":
            code = libsock.LS_SHUT_WRITE
        elif how == "read":
            code = libsock.LS_SHUT_READ
        else:
            code = libsock.LS_SHUT_BOTH
        rc = calllib('libsock', 'ls_socket_shutdown', obj.Handle, int32(code))[0]
        libsock.check(rc)

    @staticmethod
    def splitAddress(address: str) -> tuple[str, float]:
        address = str(address)
        if address.startswith("unix:"):
            return address, 0.0
        k = address.rfind(":")
        return address[:k].strip("[").rstrip("]"), float(address[k + 1:])

    @staticmethod
    def normalizeTerminator(t: Any) -> Any:
        return t.upper() if isinstance(t, str) else t

    @staticmethod
    def terminatorBytes(t: Any) -> np.ndarray:
        if not isinstance(t, str):
            if np.ndim(t) != 0 or t < 0 or t > 255 or t != round(t):
                error('libsock:invalidArgument', 'a numeric terminator is one byte, 0..255')
            return np.array([t], dtype=np.uint8)
        table = {"LF": [10], "CR": [13], "CR/LF": [13, 10]}
        if t.upper() not in table:
            error('libsock:invalidArgument', 'terminator "%s": use "LF", "CR", "CR/LF" or 0..255', t)
        return np.array(table[t.upper()], dtype=np.uint8)


libsock.TcpClient = TcpClient


# ------------------------------------------------------------------------------------------
# +libsock/Listener.m


class Listener(Socket):
    """Mirror of libsock.Listener."""

    @mirrors("Listener.m", "Listener")
    def __init__(obj, host: Any, port: Any = None, *varargin: Any) -> None:
        Socket.__init__(obj)
        obj.Backlog = 0
        libsock.load()
        if port is None and not varargin and not isinstance(host, str):
            port = host
            host = "0.0.0.0"
        elif isinstance(port, str):
            varargin = (port,) + varargin
            port = None
        opts = {"Backlog": 0, "Timeout": math.inf, "ByteOrder": "little-endian"}
        for k in range(0, len(varargin), 2):
            name = _validatestring(varargin[k], list(opts))
            opts[name] = varargin[k + 1]
        target = libsock.Socket.formatAddress(host, port)
        backlog = opts["Backlog"]
        out = libpointer(libsock.ptrtype('int64'), 0)
        rc = calllib('libsock', 'ls_listen', char(target), int32(backlog), out)[0]
        libsock.check(rc)
        obj.Handle = out.Value
        obj.Backlog = backlog
        obj.Timeout = opts["Timeout"]
        obj.ByteOrder = opts["ByteOrder"]

    @property
    def Port(self) -> float:
        return self.LocalPort

    @mirrors("Listener.m", "accept")
    def accept(obj, timeout: Any = None) -> TcpClient:
        if timeout is None:
            ms = libsock.LS_TIMEOUT_DEFAULT
        else:
            ms = libsock.Socket.toMs(timeout)
        out = libpointer(libsock.ptrtype('int64'), 0)
        rc = calllib('libsock', 'ls_accept', obj.Handle, int32(ms), out)[0]
        libsock.check(rc)
        client = libsock.TcpClient(out.Value)
        client.ByteOrder = obj.ByteOrder
        return client


libsock.Listener = Listener


# ------------------------------------------------------------------------------------------
# +libsock/Udp.m


class Udp(Socket):
    """Mirror of libsock.Udp."""

    @mirrors("Udp.m", "Udp")
    def __init__(obj, *varargin: Any) -> None:
        Socket.__init__(obj)
        obj.LocalHost = "0.0.0.0"
        libsock.load()
        target = ""
        if len(varargin) % 2 == 1:
            target = str(varargin[0])
            varargin = varargin[1:]
        opts = {"LocalHost": "0.0.0.0", "LocalPort": 0, "Timeout": math.inf,
                "ByteOrder": "little-endian", "EnableBroadcast": False}
        for k in range(0, len(varargin), 2):
            name = _validatestring(varargin[k], list(opts))
            opts[name] = varargin[k + 1]
        if target == "":
            target = libsock.Socket.formatAddress(opts["LocalHost"], opts["LocalPort"])
            obj.LocalHost = str(opts["LocalHost"])
        else:
            obj.LocalHost = target
        out = libpointer(libsock.ptrtype('int64'), 0)
        rc = calllib('libsock', 'ls_udp_bind', char(target), out)[0]
        libsock.check(rc)
        obj.Handle = out.Value
        obj.Timeout = opts["Timeout"]
        obj.ByteOrder = opts["ByteOrder"]
        if opts["EnableBroadcast"]:
            obj.setOption("Broadcast", 1)

    @property
    def NumBytesAvailable(self) -> float:
        return self.get_NumBytesAvailable()

    @mirrors("Udp.m", "get.NumBytesAvailable")
    def get_NumBytesAvailable(obj) -> float:
        out = libpointer(libsock.ptrtype('size'), 0)
        rc = calllib('libsock', 'ls_bytes_available', obj.Handle, out)[0]
        libsock.check(rc)
        n = double(out.Value)
        return n

    @mirrors("Udp.m", "write")
    def write(obj, data: Any, datatype: str, host: Any, port: Any = None) -> None:
        target = libsock.Socket.formatAddress(host, port)
        bytes = libsock.Socket.toBytes(data, datatype, obj.ByteOrder)
        n = numel(bytes)
        if n == 0:
            bytes = uint8(0)
        rc = calllib('libsock', 'ls_send_to', obj.Handle, bytes, uint64(n), char(target))[0]
        libsock.check(rc)

    @mirrors("Udp.m", "read")
    def read(obj, count: Any = None, datatype: Optional[str] = None) -> tuple[Any, str, bool]:
        if datatype is None:
            datatype = "uint8"
        width = libsock.Socket.datatypeSize(datatype)
        if _isempty(count):
            count = math.floor(65535 / width)
        if np.ndim(count) != 0 or count < 1 or count != round(count):
            error('libsock:invalidArgument', 'read: COUNT must be a whole number >= 1')
        cap = count * width
        peerCap = double(libsock.LS_ADDRESS_MAX)
        rc, buf, n, sender, _, truncated = calllib('libsock', 'ls_recv_from', obj.Handle, int32(libsock.LS_TIMEOUT_DEFAULT), zeros(1, cap, 'uint8'), uint64(cap), uint64(0), blanks(peerCap), uint64(peerCap), uint64(0), int32(0))
        libsock.check(rc)
        data = libsock.Socket.fromBytes(buf[:int(n)], datatype, obj.ByteOrder)
        sender = str(sender)
        truncated = bool(truncated != 0)
        return data, sender, truncated

    @mirrors("Udp.m", "configureMulticast")
    def configureMulticast(obj, group: str, *varargin: Any) -> None:
        leave = False
        if str(group) == "off":
            leave = True
            group = varargin[0]
            varargin = varargin[1:]
        iface = char(str(libsock.Socket.optArg(varargin, 1, "")))
        if len(varargin) >= 2 and str(varargin[1]) == "off":
            leave = True
        if leave:
            rc = calllib('libsock', 'ls_leave_multicast', obj.Handle, char(group), iface)[0]
        else:
            rc = calllib('libsock', 'ls_join_multicast', obj.Handle, char(group), iface)[0]
        libsock.check(rc)


libsock.Udp = Udp


# ------------------------------------------------------------------------------------------
# The engine: +libsock/EngineObject.m, EngineConfig.m, Server.m, Client.m


def logical(x: Any) -> bool:
    """MATLAB logical() of a scalar."""
    return bool(x)


def intmax(cls: str) -> int:
    return int(np.iinfo(NP[cls]).max)


def _string(x: Any) -> str:
    return str(x)


class EngineObject:
    """Mirror of libsock.EngineObject (the abstract base of Server and Client). Events are dicts
    with the struct's fields: Kind, Client, Data, Peer, Reason, Detail, Value."""

    def __init__(self) -> None:
        self.Handle = np.int64(0)
        self._MessageBufferSize = 4096.0
        self.Stopped = False

    @property
    def MessageBufferSize(self) -> float:
        return self._MessageBufferSize

    @MessageBufferSize.setter
    def MessageBufferSize(self, n: Any) -> None:
        if not (np.ndim(n) == 0 and float(n) == int(n) and n > 0):
            raise MatlabError("MATLAB:expectedPositive", "MessageBufferSize must be a positive integer")
        self._MessageBufferSize = float(n)

    @property
    def NumEventsAvailable(self) -> float:
        return self.get_NumEventsAvailable()

    @mirrors("EngineObject.m", "get.NumEventsAvailable")
    def get_NumEventsAvailable(obj) -> float:
        out = libpointer(libsock.ptrtype('size'), 0)
        rc = calllib('libsock', 'ls_pending_events', obj.Handle, out)[0]
        libsock.check(rc)
        n = double(out.Value)
        return n

    def poll(obj, maxEvents: Any = 1000) -> list[dict[str, Any]]:
        events = libsock.EngineObject.noEvents()
        while len(events) < maxEvents:
            ok, ev = obj.nextEvent(0)
            if not ok:
                break
            events.append(ev)
        return events

    def waitEvents(obj, timeout: Any, maxEvents: Any = 1000) -> list[dict[str, Any]]:
        ms = libsock.Socket.toMs(timeout)
        events = libsock.EngineObject.noEvents()
        ok, ev = obj.nextEvent(ms)
        if ok:
            events.append(ev)
            events = events + obj.poll(maxEvents - 1)
        return events

    @mirrors("EngineObject.m", "stats")
    def stats(obj) -> dict[str, float]:
        names = ['Connections', 'ConnectionsTotal', 'Refused', 'BytesIn', 'BytesOut',
                 'MessagesIn', 'MessagesOut', 'QueuedBytes', 'EventsQueued', 'FailedAttempts',
                 'SendQueueFull', 'AcceptErrors']
        codes = [libsock.LS_STAT_CONNECTIONS, libsock.LS_STAT_CONNECTIONS_TOTAL,
                 libsock.LS_STAT_REFUSED, libsock.LS_STAT_BYTES_IN, libsock.LS_STAT_BYTES_OUT,
                 libsock.LS_STAT_MESSAGES_IN, libsock.LS_STAT_MESSAGES_OUT,
                 libsock.LS_STAT_QUEUED_BYTES, libsock.LS_STAT_EVENTS_QUEUED,
                 libsock.LS_STAT_FAILED_ATTEMPTS, libsock.LS_STAT_SEND_QUEUE_FULL,
                 libsock.LS_STAT_ACCEPT_ERRORS]
        st: dict[str, float] = {}
        for k in range(len(codes)):
            code = codes[k]
            out = libpointer(libsock.ptrtype('int64'), 0)
            rc = calllib('libsock', 'ls_engine_stats', obj.Handle, int32(code), out)[0]
            if rc == libsock.LS_ERR_UNSUPPORTED:
                continue
            libsock.check(rc)
            st[names[k]] = double(out.Value)
        return st

    @mirrors("EngineObject.m", "close")
    def close(obj) -> None:
        h = obj.Handle
        obj.Handle = np.int64(0)
        obj.Stopped = True
        rc = calllib('libsock', 'ls_close', h)[0]
        libsock.check(rc)

    @mirrors("EngineObject.m", "delete")
    def delete(obj) -> None:
        if obj.Handle != 0 and libisloaded('libsock'):
            calllib('libsock', 'ls_close', obj.Handle)
            obj.Handle = np.int64(0)

    @mirrors("EngineObject.m", "nextEvent")
    def nextEvent(obj, ms: Any) -> tuple[bool, Any]:
        ev = None
        ok = False
        if obj.Stopped:
            return ok, ev
        cap = obj.MessageBufferSize
        rc, kind, client, value, buf, n = calllib('libsock', 'ls_next_event', obj.Handle, int32(ms), int32(0), uint64(0), int64(0), zeros(1, cap, 'uint8'), uint64(cap), uint64(0))
        while rc == libsock.LS_ERR_BUFFER_TOO_SMALL:
            cap = double(n)
            rc, kind, client, value, buf, n = calllib('libsock', 'ls_next_event', obj.Handle, int32(libsock.LS_TIMEOUT_POLL), int32(0), uint64(0), int64(0), zeros(1, cap, 'uint8'), uint64(cap), uint64(0))
        if rc == libsock.LS_ERR_TIMEOUT:
            return ok, ev
        if rc == libsock.LS_ERR_CLOSED:
            obj.Stopped = True
            return ok, ev
        libsock.check(rc)
        ev = libsock.EngineObject.makeEvent(kind, client, value, buf[:int(double(n))])
        if kind == libsock.LS_EVENT_CLOSED:
            obj.Stopped = True
        ok = True
        return ok, ev

    @staticmethod
    def noEvents() -> list[dict[str, Any]]:
        return []

    @staticmethod
    def makeEvent(kind: Any, client: Any, value: Any, bytes_: Any) -> dict[str, Any]:
        b = np.asarray(bytes_, dtype=np.uint8).reshape(-1)
        ev = {"Kind": libsock.EngineObject.kindName(kind), "Client": uint64(client),
              "Data": np.zeros(0, np.uint8), "Peer": "", "Reason": "", "Detail": "",
              "Value": double(value)}
        k = int(kind)
        if k in (int(libsock.LS_EVENT_MESSAGE), int(libsock.LS_EVENT_DATAGRAM)):
            ev["Data"] = b.copy()
        elif k == int(libsock.LS_EVENT_CONNECTED):
            ev["Peer"] = b.tobytes().decode("utf-8", errors="replace")
        elif k == int(libsock.LS_EVENT_DISCONNECTED):
            ev["Reason"] = libsock.EngineObject.reasonName(value)
            ev["Detail"] = b.tobytes().decode("utf-8", errors="replace")
        elif k == int(libsock.LS_EVENT_WARNING):
            ev["Detail"] = b.tobytes().decode("utf-8", errors="replace")
        return ev

    @staticmethod
    def kindName(kind: Any) -> str:
        names = ['connected', 'message', 'disconnected', 'reconnecting', 'datagram', 'closed',
                 'warning']
        k = int(kind)
        return names[k - 1] if 1 <= k <= len(names) else "event%d" % k

    @staticmethod
    def reasonName(code: Any) -> str:
        names = ['peer-closed', 'reset', 'idle-timeout', 'heartbeat-lost', 'frame-too-large',
                 'kicked', 'server-shutdown', 'error', 'send-queue-full', 'closed']
        k = int(code)
        return names[k - 1] if 1 <= k <= len(names) else "reason%d" % k


libsock.EngineObject = EngineObject


# (property name, LS_ECFG_* name, kind): kind "n" a number, "s" seconds <-> ms, "b" logical,
# "hb" the heartbeat interval (seconds, 0 and -1 as they are), or a (names, codes) choice.
_ECFG = [
    ("MaxClients", "LS_ECFG_MAX_CLIENTS", "n"),
    ("SendQueueBytes", "LS_ECFG_SEND_QUEUE_BYTES", "n"),
    ("SendPolicy", "LS_ECFG_SEND_POLICY", (["error", "disconnect"], ["LS_SEND_POLICY_ERROR", "LS_SEND_POLICY_DISCONNECT"])),
    ("EventCapacity", "LS_ECFG_EVENT_CAPACITY", "n"),
    ("IdleTimeout", "LS_ECFG_IDLE_TIMEOUT_MS", "s"),
    ("IdleMode", "LS_ECFG_IDLE_MODE", (["reads", "reads-and-writes"], ["LS_IDLE_READS", "LS_IDLE_READS_AND_WRITES"])),
    ("HeartbeatInterval", "LS_ECFG_HEARTBEAT_INTERVAL_MS", "hb"),
    ("HeartbeatMisses", "LS_ECFG_HEARTBEAT_MISSES", "n"),
    ("Reconnect", "LS_ECFG_RECONNECT", "b"),
    ("BackoffMin", "LS_ECFG_BACKOFF_MIN_MS", "s"),
    ("BackoffMax", "LS_ECFG_BACKOFF_MAX_MS", "s"),
    ("MaxAttempts", "LS_ECFG_MAX_ATTEMPTS", "n"),
    ("ConnectTimeout", "LS_ECFG_CONNECT_TIMEOUT_MS", "s"),
    ("Jitter", "LS_ECFG_JITTER", "b"),
    ("Backlog", "LS_ECFG_BACKLOG", "n"),
    ("CloseTimeout", "LS_ECFG_CLOSE_TIMEOUT_MS", "s"),
    ("MaxDatagram", "LS_ECFG_MAX_DATAGRAM", "n"),
    ("RemoveStale", "LS_ECFG_REMOVE_STALE", "b"),
]


class EngineConfig:
    """Mirror of libsock.EngineConfig: the dependent properties' get/set methods map a property
    to its LS_ECFG_* key as the .m file does, through getKey/setKey (the only calllib users)."""

    @mirrors("EngineConfig.m", "EngineConfig")
    def __init__(obj, *varargin: Any) -> None:
        object.__setattr__(obj, "Handle", np.int64(0))
        libsock.load()
        out = libpointer(libsock.ptrtype('int64'), 0)
        rc = calllib('libsock', 'ls_engine_config_new', out)[0]
        libsock.check(rc)
        object.__setattr__(obj, "Handle", out.Value)
        names = libsock.EngineConfig.propertyNames()
        for k in range(0, len(varargin), 2):
            name = _validatestring(varargin[k], names)
            setattr(obj, name, varargin[k + 1])

    @staticmethod
    def propertyNames() -> list[str]:
        return [p for p, _, _ in _ECFG]

    def __getattr__(self, name: str) -> Any:
        for prop, key, kind in _ECFG:
            if prop == name:
                v = self.getKey(getattr(libsock, key))
                if kind == "s":
                    return v / 1000
                if kind == "hb":
                    return v / 1000 if v > 0 else v
                if kind == "b":
                    return v != 0
                if isinstance(kind, tuple):
                    names, codes = kind
                    return names[1] if v == getattr(libsock, codes[1]) else names[0]
                return v
        raise AttributeError(name)

    def __setattr__(self, name: str, v: Any) -> None:
        for prop, key, kind in _ECFG:
            if prop == name:
                if kind == "s":
                    v = _round_half(float(v) * 1000)
                elif kind == "hb":
                    if v > 0:
                        v = max(1, _round_half(float(v) * 1000))
                elif kind == "b":
                    v = double(bool(v))
                elif isinstance(kind, tuple) and isinstance(v, str):
                    names, codes = kind
                    v = getattr(libsock, codes[names.index(_validatestring(v, names))])
                self.setKey(getattr(libsock, key), v)
                return
        object.__setattr__(self, name, v)

    @mirrors("EngineConfig.m", "configureFraming")
    def configureFraming(obj, kind: str, *varargin: Any) -> None:
        libsock.Socket.setFraming(obj.Handle, kind, *varargin)

    @mirrors("EngineConfig.m", "setOption")
    def setOption(obj, option: Any, value: Any) -> None:
        code = libsock.Socket.optionCode(option)
        rc = calllib('libsock', 'ls_set_option', obj.Handle, int32(code), int64(value))[0]
        libsock.check(rc)

    @mirrors("EngineConfig.m", "close")
    def close(obj) -> None:
        h = obj.Handle
        object.__setattr__(obj, "Handle", np.int64(0))
        rc = calllib('libsock', 'ls_close', h)[0]
        libsock.check(rc)

    @mirrors("EngineConfig.m", "delete")
    def delete(obj) -> None:
        if obj.Handle != 0 and libisloaded('libsock'):
            calllib('libsock', 'ls_close', obj.Handle)
            object.__setattr__(obj, "Handle", np.int64(0))

    @mirrors("EngineConfig.m", "setKey")
    def setKey(obj, key: Any, value: Any) -> None:
        if np.ndim(value) != 0 or isinstance(value, str) or math.isnan(float(value)):
            error('libsock:invalidArgument', 'an engine setting is a real number')
        rc = calllib('libsock', 'ls_engine_config_set', obj.Handle, int32(key), int64(value))[0]
        libsock.check(rc)

    @mirrors("EngineConfig.m", "getKey")
    def getKey(obj, key: Any) -> float:
        out = libpointer(libsock.ptrtype('int64'), 0)
        rc = calllib('libsock', 'ls_engine_config_get', obj.Handle, int32(key), out)[0]
        libsock.check(rc)
        v = double(out.Value)
        return v


libsock.EngineConfig = EngineConfig


class Server(EngineObject):
    """Mirror of libsock.Server."""

    @mirrors("Server.m", "Server")
    def __init__(obj, host: Any, port: Any = None, *varargin: Any) -> None:
        EngineObject.__init__(obj)
        obj.Address = ""
        libsock.load()
        if port is None and not varargin and not isinstance(host, str):
            port = host
            host = "0.0.0.0"
        elif port is not None and not isinstance(port, (int, float, np.number)):
            varargin = (port,) + varargin
            port = None
        target = libsock.Socket.formatAddress(host, port)
        cfg, owned = libsock.Server.configFrom(varargin)
        cfgHandle = np.int64(0)
        if not _isempty(cfg):
            cfgHandle = cfg.Handle
        out = libpointer(libsock.ptrtype('int64'), 0)
        rc = calllib('libsock', 'ls_server_listen', char(target), int64(cfgHandle), out)[0]
        if owned:
            cfg.delete()
        libsock.check(rc)
        obj.Handle = out.Value
        obj.Address = str(target)

    @property
    def Port(self) -> float:
        return self.get_Port()

    @property
    def LocalAddress(self) -> str:
        return self.get_LocalAddress()

    @property
    def Clients(self) -> np.ndarray:
        return self.get_Clients()

    @mirrors("Server.m", "get.Port")
    def get_Port(obj) -> float:
        out = libpointer('int32Ptr', 0)
        rc = calllib('libsock', 'ls_local_port', obj.Handle, out)[0]
        libsock.check(rc)
        p = double(out.Value)
        return p

    @mirrors("Server.m", "get.LocalAddress")
    def get_LocalAddress(obj) -> str:
        cap = double(libsock.LS_ADDRESS_MAX)
        rc, a = calllib('libsock', 'ls_local_address', obj.Handle, blanks(cap), uint64(cap), uint64(0))[:2]
        libsock.check(rc)
        return str(a)

    @mirrors("Server.m", "get.Clients")
    def get_Clients(obj) -> np.ndarray:
        cap = 0
        while True:
            rc, ids, n = calllib('libsock', 'ls_server_clients', obj.Handle, zeros(1, cap, 'uint64'), uint64(cap), uint64(0))
            if rc != libsock.LS_ERR_BUFFER_TOO_SMALL:
                break
            cap = double(n) + 16
        libsock.check(rc)
        ids = np.asarray(ids, dtype=np.uint64).reshape(-1)[:int(double(n))]
        return ids

    @mirrors("Server.m", "send")
    def send(obj, client: Any, data: Any, datatype: Optional[str] = None) -> None:
        if datatype is None:
            datatype = libsock.Server.defaultType(data)
        bytes = libsock.Socket.toBytes(data, datatype, "little-endian")
        n = numel(bytes)
        if n == 0:
            bytes = uint8(0)
        rc = calllib('libsock', 'ls_server_send', obj.Handle, uint64(client), bytes, uint64(n))[0]
        libsock.check(rc)

    @mirrors("Server.m", "broadcast")
    def broadcast(obj, data: Any, datatype: Optional[str] = None, exceptClient: Any = None) -> float:
        if _isempty(datatype):
            datatype = libsock.Server.defaultType(data)
        exceptClient = 0 if exceptClient is None else exceptClient
        bytes = libsock.Socket.toBytes(data, datatype, "little-endian")
        n = numel(bytes)
        if n == 0:
            bytes = uint8(0)
        out = libpointer(libsock.ptrtype('size'), 0)
        rc = calllib('libsock', 'ls_server_broadcast', obj.Handle, bytes, uint64(n), uint64(exceptClient), out)[0]
        libsock.check(rc)
        sent = double(out.Value)
        return sent

    @mirrors("Server.m", "disconnect")
    def disconnect(obj, client: Any, graceful: Any = True) -> None:
        rc = calllib('libsock', 'ls_server_disconnect', obj.Handle, uint64(client), int32(logical(graceful)))[0]
        libsock.check(rc)

    @mirrors("Server.m", "clientAddress")
    def clientAddress(obj, client: Any) -> str:
        cap = double(libsock.LS_ADDRESS_MAX)
        rc, a = calllib('libsock', 'ls_server_client_address', obj.Handle, uint64(client), blanks(cap), uint64(cap), uint64(0))[:2]
        libsock.check(rc)
        return str(a)

    @mirrors("Server.m", "shutdown")
    def shutdown(obj, grace: Any = 5) -> None:
        ms = libsock.Socket.toMs(grace)
        if ms < 0:
            ms = double(intmax('int32'))
        rc = calllib('libsock', 'ls_server_shutdown', obj.Handle, int32(ms))[0]
        libsock.check(rc)

    @staticmethod
    def configFrom(args: tuple) -> tuple[Any, bool]:
        owned = False
        if len(args) == 0:
            cfg = None
        elif len(args) == 1 and (isinstance(args[0], EngineConfig) or _isempty(args[0])):
            cfg = args[0]
        else:
            cfg = libsock.EngineConfig(*args)
            owned = True
        return cfg, owned

    @staticmethod
    def defaultType(data: Any) -> str:
        return "char" if isinstance(data, str) else "uint8"


libsock.Server = Server


class Client(EngineObject):
    """Mirror of libsock.Client."""

    @mirrors("Client.m", "Client")
    def __init__(obj, host: Any, port: Any = None, *varargin: Any) -> None:
        EngineObject.__init__(obj)
        obj.Address = ""
        libsock.load()
        if port is not None and not isinstance(port, (int, float, np.number)):
            varargin = (port,) + varargin
            port = None
        target = libsock.Socket.formatAddress(host, port)
        cfg, owned = libsock.Server.configFrom(varargin)
        cfgHandle = np.int64(0)
        if not _isempty(cfg):
            cfgHandle = cfg.Handle
        out = libpointer(libsock.ptrtype('int64'), 0)
        rc = calllib('libsock', 'ls_client_connect', char(target), int64(cfgHandle), out)[0]
        if owned:
            cfg.delete()
        libsock.check(rc)
        obj.Handle = out.Value
        obj.Address = str(target)

    @property
    def Connected(self) -> bool:
        return self.get_Connected()

    @mirrors("Client.m", "get.Connected")
    def get_Connected(obj) -> bool:
        out = libpointer(libsock.ptrtype('int64'), 0)
        rc = calllib('libsock', 'ls_engine_stats', obj.Handle, int32(libsock.LS_STAT_CONNECTIONS), out)[0]
        libsock.check(rc)
        tf = out.Value != 0
        return bool(tf)

    @mirrors("Client.m", "send")
    def send(obj, data: Any, datatype: Optional[str] = None) -> None:
        if datatype is None:
            datatype = libsock.Server.defaultType(data)
        bytes = libsock.Socket.toBytes(data, datatype, "little-endian")
        n = numel(bytes)
        if n == 0:
            bytes = uint8(0)
        rc = calllib('libsock', 'ls_client_send', obj.Handle, bytes, uint64(n))[0]
        libsock.check(rc)

    def close(obj, *grace: Any) -> None:
        # Client.m's close: no calllib of its own (EngineObject.close, or disconnect).
        if not grace:
            EngineObject.close(obj)
        else:
            obj.disconnect(grace[0])

    @mirrors("Client.m", "disconnect")
    def disconnect(obj, grace: Any = 5) -> None:
        ms = libsock.Socket.toMs(grace)
        if ms < 0:
            ms = double(intmax('int32'))
        rc = calllib('libsock', 'ls_client_close', obj.Handle, int32(ms))[0]
        libsock.check(rc)


libsock.Client = Client


class DatagramServer(EngineObject):
    """Mirror of libsock.DatagramServer."""

    @mirrors("DatagramServer.m", "DatagramServer")
    def __init__(obj, host: Any, port: Any = None, *varargin: Any) -> None:
        EngineObject.__init__(obj)
        obj.Address = ""
        libsock.load()
        if port is None and not varargin and not isinstance(host, str):
            port = host
            host = "0.0.0.0"
        elif port is not None and not isinstance(port, (int, float, np.number)):
            varargin = (port,) + varargin
            port = None
        target = libsock.Socket.formatAddress(host, port)
        cfg, owned = libsock.Server.configFrom(varargin)
        cfgHandle = np.int64(0)
        if not _isempty(cfg):
            cfgHandle = cfg.Handle
        out = libpointer(libsock.ptrtype('int64'), 0)
        rc = calllib('libsock', 'ls_dgram_server_bind', char(target), int64(cfgHandle), out)[0]
        if owned:
            cfg.delete()
        libsock.check(rc)
        obj.Handle = out.Value
        obj.Address = str(target)

    @property
    def Port(self) -> float:
        return self.get_Port()

    @mirrors("DatagramServer.m", "get.Port")
    def get_Port(obj) -> float:
        out = libpointer('int32Ptr', 0)
        rc = calllib('libsock', 'ls_local_port', obj.Handle, out)[0]
        libsock.check(rc)
        p = double(out.Value)
        return p

    @mirrors("DatagramServer.m", "sendTo")
    def sendTo(obj, data: Any, host: Any, port: Any = None, datatype: Optional[str] = None) -> None:
        if datatype is None:
            datatype = libsock.Server.defaultType(data)
        target = libsock.Socket.formatAddress(host, port)
        bytes = libsock.Socket.toBytes(data, datatype, "little-endian")
        n = numel(bytes)
        if n == 0:
            bytes = uint8(0)
        rc = calllib('libsock', 'ls_dgram_server_send_to', obj.Handle, bytes, uint64(n), char(target))[0]
        libsock.check(rc)

    @mirrors("DatagramServer.m", "nextEvent")
    def nextEvent(obj, ms: Any) -> tuple[bool, Any]:
        ev = None
        ok = False
        if obj.Stopped:
            return ok, ev
        cap = obj.MessageBufferSize
        peerCap = double(libsock.LS_ADDRESS_MAX)
        rc, kind, buf, n, peer = calllib('libsock', 'ls_next_datagram', obj.Handle, int32(ms), int32(0), zeros(1, cap, 'uint8'), uint64(cap), uint64(0), blanks(peerCap), uint64(peerCap), uint64(0))[:5]
        while rc == libsock.LS_ERR_BUFFER_TOO_SMALL:
            cap = double(n)
            rc, kind, buf, n, peer = calllib('libsock', 'ls_next_datagram', obj.Handle, int32(libsock.LS_TIMEOUT_POLL), int32(0), zeros(1, cap, 'uint8'), uint64(cap), uint64(0), blanks(peerCap), uint64(peerCap), uint64(0))[:5]
        if rc == libsock.LS_ERR_TIMEOUT:
            return ok, ev
        if rc == libsock.LS_ERR_CLOSED:
            obj.Stopped = True
            return ok, ev
        libsock.check(rc)
        ev = libsock.EngineObject.makeEvent(kind, 0, 0, buf[:int(double(n))])
        if kind == libsock.LS_EVENT_DATAGRAM:
            ev["Peer"] = str(peer)
        elif kind == libsock.LS_EVENT_CLOSED:
            obj.Stopped = True
        ok = True
        return ok, ev


libsock.DatagramServer = DatagramServer
