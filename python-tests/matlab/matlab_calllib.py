"""A strict stand-in for MATLAB's loadlibrary / calllib / libpointer, over Python ctypes.

MATLAB is not on the CI machines. The MATLAB classes in bindings/matlab/+libsock call libsock only
through `calllib('libsock', 'ls_...', args...)`; matlab_mirror.py repeats those calls line by line
in Python, and this module executes them the way MATLAB would:

* The prototypes are not written by hand: they come from include/libsock.h through the same
  pycparser pass as bindings/matlab/tools/check_header.py, typed as loadlibrary types them
  (int32_t -> int32, size_t * -> uint64Ptr, char * -> cstring, ...).
* Arguments are checked as MATLAB checks them: the argument count must match; a scalar parameter
  takes a numeric scalar (converted with MATLAB's rounding and saturation: uint64(-1) is 0); a
  pointer parameter takes a lib.pointer of exactly that type, or an array of exactly that class
  (MATLAB refuses int32 data for a uint8Ptr); an empty array is passed as NULL; a cstring takes
  char (a Python str).
* Results come back as MATLAB returns them: [return value, then every non-const pointer or
  cstring argument in order, as updated by the call]. A cstring result is a str; a lib.pointer's
  Value reads the memory after the call.

MATLAB values are modelled with numpy: int32(x) is numpy.int32, zeros(1, n, 'uint8') a uint8
row, char a Python str, double a Python float.
"""

from __future__ import annotations

import ctypes
import math
import os
import sys
from typing import Any, Optional

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "bindings", "matlab", "tools"))

import check_header  # noqa: E402  (bindings/matlab/tools/check_header.py)


class MatlabError(Exception):
    """An MException: identifier ('libsock:timeout') and message."""

    def __init__(self, identifier: str, message: str) -> None:
        super().__init__(f"{identifier}: {message}")
        self.identifier = identifier
        self.message = message


# ------------------------------------------------------------------------------------------
# MATLAB numeric classes

NP = {
    "int8": np.int8, "uint8": np.uint8, "int16": np.int16, "uint16": np.uint16,
    "int32": np.int32, "uint32": np.uint32, "int64": np.int64, "uint64": np.uint64,
    "single": np.float32, "double": np.float64,
}
CT = {
    "int8": ctypes.c_int8, "uint8": ctypes.c_uint8, "int16": ctypes.c_int16,
    "uint16": ctypes.c_uint16, "int32": ctypes.c_int32, "uint32": ctypes.c_uint32,
    "int64": ctypes.c_int64, "uint64": ctypes.c_uint64, "single": ctypes.c_float,
    "double": ctypes.c_double,
}


def _round_half_away(x: np.ndarray) -> np.ndarray:
    return np.sign(x) * np.floor(np.abs(x) + 0.5)


def mcast(x: Any, cls: str) -> Any:
    """MATLAB's conversion to an integer or float class: round half away from zero, saturate,
    NaN -> 0. Scalars stay scalars, arrays stay arrays."""
    dt = NP[cls]
    scalar = np.ndim(x) == 0
    if isinstance(x, int) and np.issubdtype(dt, np.integer):  # a Python int (any size)
        info = np.iinfo(dt)
        return dt(min(max(x, int(info.min)), int(info.max)))
    a = np.asarray(x)
    if a.dtype.kind in "USO":
        raise MatlabError("MATLAB:invalidConversion", f"cannot convert {a.dtype} to {cls}")
    if a.dtype == dt or np.can_cast(a.dtype, dt, casting="safe"):
        out = a.astype(dt)
    elif np.issubdtype(dt, np.integer):
        info = np.iinfo(dt)
        if a.dtype.kind in "iub":
            # Integers: saturate exactly (no detour through float for 64-bit values).
            vals = [min(max(int(v), info.min), info.max) for v in a.reshape(-1).tolist()]
        else:
            f = _round_half_away(np.nan_to_num(a.astype(np.float64).reshape(-1), nan=0.0))
            vals = [info.max if v >= info.max else info.min if v <= info.min else int(v)
                    for v in f.tolist()]
        out = np.array(vals, dtype=dt).reshape(a.shape)
    else:
        out = a.astype(dt)
    return dt(out.reshape(())) if scalar else out


def int32(x: Any) -> Any:
    return mcast(x, "int32")


def int64(x: Any) -> Any:
    return mcast(x, "int64")


def uint64(x: Any) -> Any:
    return mcast(x, "uint64")


def uint8(x: Any) -> Any:
    return mcast(x, "uint8")


def double(x: Any) -> Any:
    if isinstance(x, (bool, np.bool_)):
        return float(x)
    if np.ndim(x) == 0:
        return float(x)
    return np.asarray(x, dtype=np.float64)


def numel(x: Any) -> float:
    """MATLAB numel: a double."""
    if isinstance(x, str):
        return float(len(x))
    return float(np.size(x))


def blanks(n: Any) -> str:
    """MATLAB blanks(n): a char row of n spaces."""
    return " " * int(n)


def zeros(rows: Any, cols: Any, cls: str = "double") -> np.ndarray:
    """MATLAB zeros(1, n, cls) (row vectors only: that is all the classes use)."""
    assert int(rows) == 1, "the MATLAB classes only make row vectors"
    return np.zeros(int(cols), dtype=NP[cls])


def char(x: Any) -> str:
    """MATLAB char(): text stays text (the classes only call it on text)."""
    if isinstance(x, str):
        return x
    if isinstance(x, np.ndarray) and x.dtype == np.uint8:
        return bytes(x).decode("latin-1")
    raise TypeError(f"char() of {type(x).__name__} is not used by the MATLAB classes")


# ------------------------------------------------------------------------------------------
# lib.pointer


class LibPointer:
    """MATLAB's lib.pointer: libpointer('int64Ptr', 0), libpointer('uint8Ptr', zeros(1, n, 'uint8'))."""

    def __init__(self, datatype: str, value: Any = None) -> None:
        if not datatype.endswith("Ptr") or datatype[:-3] not in NP:
            raise MatlabError("MATLAB:libpointer:badType", f"libpointer type {datatype!r} is not used by libsock")
        self.DataType = datatype
        cls = datatype[:-3]
        if value is None:
            self._mem = None
            return
        arr = mcast(np.atleast_1d(np.asarray(value)), cls)  # MATLAB converts the initial value
        self._scalar = np.ndim(value) == 0
        self._mem = (CT[cls] * arr.size).from_buffer_copy(np.ascontiguousarray(arr).tobytes())
        self._cls = cls

    @property
    def Value(self) -> Any:
        if self._mem is None:
            raise MatlabError("MATLAB:libpointer:ValueNotDefined", "the pointer is NULL")
        if len(self._mem):
            a = np.frombuffer(bytes(self._mem), dtype=NP[self._cls]).copy()
        else:
            a = np.zeros(0, NP[self._cls])
        return NP[self._cls](a[0]) if self._scalar else a

    def address(self) -> Optional[int]:
        if self._mem is None or len(self._mem) == 0:
            return None  # an empty lib.pointer is NULL
        return ctypes.addressof(self._mem)


def libpointer(datatype: str, value: Any = None) -> LibPointer:
    return LibPointer(datatype, value)


# ------------------------------------------------------------------------------------------
# loadlibrary / calllib


class Library:
    """One loaded library: its ctypes handle and the loadlibrary-typed prototypes of its header."""

    def __init__(self, libfile: str, headerfile: str) -> None:
        checker = check_header.Checker(headerfile)
        problems = checker.check()
        if problems:
            raise MatlabError("MATLAB:loadlibrary:HeaderError", "; ".join(problems))
        self.dll = ctypes.CDLL(libfile)
        self.protos: dict[str, tuple[str, list[tuple[str, bool]]]] = {}
        for fn in checker.functions:
            ret, params = fn.matlab_signature()
            consts = ["const" in t for t, _ in fn.params]
            self.protos[fn.name] = (ret, list(zip(params, consts)))
            f = getattr(self.dll, fn.name)  # every declared function must be exported
            f.restype = ctypes.c_char_p if ret == "cstring" else CT[ret]
            f.argtypes = [ctypes.c_void_p if (p.endswith("Ptr") or p == "cstring") else CT[p] for p in params]
        self.calls: list[tuple[str, tuple]] = []  # a trace, for tests

    def call(self, fname: str, *args: Any) -> tuple:
        if fname not in self.protos:
            raise MatlabError("MATLAB:calllib:UndefinedFunction", f"no function {fname} in libsock")
        ret, params = self.protos[fname]
        if len(args) != len(params):
            raise MatlabError("MATLAB:TooManyInputs" if len(args) > len(params) else "MATLAB:minrhs",
                              f"{fname} takes {len(params)} arguments, got {len(args)}")
        cargs: list[Any] = []
        post: list[Any] = []  # how to read each non-const pointer argument back
        keep: list[Any] = []  # keep temporaries alive during the call
        for i, ((mtype, is_const), a) in enumerate(zip(params, args)):
            where = f"{fname} argument {i + 1} ({mtype})"
            if mtype == "cstring":
                if not isinstance(a, str):
                    raise MatlabError("MATLAB:calllib:TypeMismatch", f"{where}: needs char, got {type(a).__name__}")
                buf = ctypes.create_string_buffer(a.encode("utf-8"))
                keep.append(buf)
                cargs.append(ctypes.addressof(buf))
                if not is_const:
                    post.append(("cstring", buf))
            elif mtype.endswith("Ptr"):
                cls = mtype[:-3]
                if isinstance(a, LibPointer):
                    if a.DataType != mtype:
                        raise MatlabError("MATLAB:calllib:TypeMismatch",
                                          f"{where}: a libpointer of type {a.DataType}")
                    cargs.append(a.address())
                    if not is_const:
                        post.append(("libpointer", a))
                else:
                    arr = np.asarray(a)
                    if arr.dtype != NP[cls]:
                        raise MatlabError("MATLAB:calllib:TypeMismatch",
                                          f"{where}: needs {cls} data, got {arr.dtype}")
                    if arr.size == 0:
                        cargs.append(None)  # MATLAB passes an empty array as NULL
                        if not is_const:
                            post.append(("value", (None, arr, np.ndim(a) == 0)))
                    else:
                        mem = (CT[cls] * arr.size).from_buffer_copy(np.ascontiguousarray(arr).tobytes())
                        keep.append(mem)
                        cargs.append(ctypes.addressof(mem))
                        if not is_const:
                            post.append(("value", (mem, arr, np.ndim(a) == 0)))
            else:
                if isinstance(a, (LibPointer, str)) or np.size(a) != 1:
                    raise MatlabError("MATLAB:calllib:TypeMismatch", f"{where}: needs a numeric scalar")
                if isinstance(a, float) and mtype != "double" and a != math.floor(a):
                    # MATLAB would round; the classes never rely on that.
                    raise MatlabError("libsockTest:fractional", f"{where}: fractional value {a}")
                cargs.append(mcast(a, mtype).item())
        self.calls.append((fname, args))
        rv = getattr(self.dll, fname)(*cargs)
        if ret == "cstring":
            rv = (rv or b"").decode("utf-8")
        else:
            rv = NP[ret](rv)
        outs: list[Any] = [rv]
        for kind, obj in post:
            if kind == "cstring":
                outs.append(obj.value.decode("utf-8"))
            elif kind == "libpointer":
                outs.append(obj.Value)
            else:
                mem, arr, scalar = obj
                if mem is None:
                    outs.append(arr)
                else:
                    new = np.frombuffer(bytes(mem), dtype=arr.dtype).copy().reshape(arr.shape)
                    outs.append(arr.dtype.type(new.reshape(())) if scalar else new)
        return tuple(outs)


_LIBS: dict[str, Library] = {}


def loadlibrary(libfile: str, headerfile: str, alias: str) -> None:
    _LIBS[alias] = Library(libfile, headerfile)


def libisloaded(alias: str) -> bool:
    return alias in _LIBS


def unloadlibrary(alias: str) -> None:
    _LIBS.pop(alias, None)


def library(alias: str = "libsock") -> Library:
    return _LIBS[alias]


def libfunctions(alias: str, full: str) -> list[str]:
    """libfunctions(libname, '-full'): one '[outputs] name(inputs)' line per function."""
    assert full == "-full"
    lines = []
    for name, (ret, params) in _LIBS[alias].protos.items():
        outs = [ret] + [p for p, const in params if (p.endswith("Ptr") or p == "cstring") and not const]
        lines.append(f"[{', '.join(outs)}] {name}({', '.join(p for p, _ in params)})")
    return lines


def calllib(alias: str, fname: str, *args: Any) -> tuple:
    """calllib(libname, funcname, args...) -> (return value, updated pointer arguments...)."""
    if alias not in _LIBS:
        raise MatlabError("MATLAB:calllib:LibraryNotLoaded", f"library {alias} is not loaded")
    return _LIBS[alias].call(fname, *args)
