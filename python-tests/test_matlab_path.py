"""The MATLAB door, without MATLAB: libsock.so driven exactly the way bindings/matlab/+libsock calls it.

MATLAB is not on the CI machines. Three things stand in for it:

1. bindings/matlab/tools/check_header.py proves include/libsock.h holds only what loadlibrary
   accepts (tests below run it on the real header and on small bad headers).
2. python-tests/matlab/matlab_calllib.py is a strict calllib/libpointer over ctypes: prototypes from
   the header typed as loadlibrary types them, MATLAB's argument rules, MATLAB's output order.
3. python-tests/matlab/matlab_mirror.py repeats every MATLAB method that calls libsock, line by
   line; test_mirror_* parses the .m files and the mirror and asserts that both make the same
   calllib/libpointer calls with the same argument text in the same order.

The scenario tests test_s01 ... test_s12 (../shared/SCENARIOS.md) then run the mirrored classes
against real peers (Python's stdlib socket) over loopback.

The file is self-contained (no conftest fixtures, no `import libsock`), so it runs both in the
MATLAB suite (.ci/suites/46-matlab.sh) and when the Python suite collects python-tests/.
"""

from __future__ import annotations

import ast
import select
import hashlib
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time
from typing import Any, Callable, Iterator, Optional

import pytest

np = pytest.importorskip("numpy")
pytest.importorskip("pycparser")

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
MATLAB = os.path.join(ROOT, "bindings", "matlab")
PKG = os.path.join(MATLAB, "+libsock")
HEADER = os.path.join(ROOT, "include", "libsock.h")
sys.path.insert(0, os.path.join(HERE, "matlab"))
sys.path.insert(0, os.path.join(MATLAB, "tools"))

import check_header  # noqa: E402
import gen_matlab_constants  # noqa: E402
import matlab_calllib as ml  # noqa: E402
import matlab_mirror as mm  # noqa: E402
from matlab_calllib import MatlabError  # noqa: E402

libsock = mm.libsock
WAIT = 10.0


# ------------------------------------------------------------------------------------------
# The library: build it (cargo is quick when nothing changed), skip only when it cannot be built.


def _build_library() -> str:
    given = os.environ.get("LIBSOCK_LIBRARY")  # as libsock.load() honours it in MATLAB
    if given:
        assert os.path.exists(given), f"LIBSOCK_LIBRARY={given} does not exist"
        return given
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    if not os.path.isabs(target):
        target = os.path.join(ROOT, target)
    so = os.path.join(target, "release", "libsock.so")
    cargo = shutil.which("cargo")
    if cargo is not None:
        r = subprocess.run(
            [cargo, "build", "-p", "libsock-c", "--release", "--quiet"],
            cwd=ROOT, capture_output=True, text=True, timeout=3600,
        )
        if r.returncode != 0:
            pytest.fail(f"cargo build -p libsock-c --release failed:\n{r.stderr[-4000:]}")
    elif not os.path.exists(so):
        pytest.skip("libsock.so cannot be built here: cargo is not installed and "
                    f"{so} does not exist")
    assert os.path.exists(so), f"cargo built libsock-c but {so} is missing"
    return so


@pytest.fixture(scope="module")
def lib() -> Iterator[str]:
    """libsock.so loaded the way libsock.load() loads it (alias 'libsock')."""
    so = _build_library()
    mm.LIBRARY_FILE = so
    mm.unload()
    libsock.load()
    yield so
    libsock.unload()


def raises_id(identifier: str, f: Callable[..., Any], *args: Any) -> MatlabError:
    """Call f and expect an MException with this identifier."""
    with pytest.raises(MatlabError) as ei:
        f(*args)
    assert ei.value.identifier == identifier, ei.value
    return ei.value


# ------------------------------------------------------------------------------------------
# Real peers: Python's stdlib socket


class Peer:
    """A stdlib-socket peer running target(*args) in a thread; join() re-raises its error."""

    def __init__(self, target: Callable[..., Any], *args: Any) -> None:
        self.result: Any = None
        self.error: Optional[BaseException] = None

        def run() -> None:
            try:
                self.result = target(*args)
            except BaseException as e:  # noqa: BLE001 - re-raised by join
                self.error = e

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()

    def join(self, timeout: float = 3 * WAIT) -> Any:
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "peer thread did not finish"
        if self.error is not None:
            raise self.error
        return self.result


def stdlib_server(handler: Callable[[socket.socket], Any]) -> tuple[int, Peer]:
    """A stdlib TCP server on 127.0.0.1 that accepts one client and runs handler(conn)."""
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.bind(("127.0.0.1", 0))
    srv.listen(4)
    srv.settimeout(WAIT)
    port = srv.getsockname()[1]

    def serve() -> Any:
        try:
            conn, _ = srv.accept()
        finally:
            srv.close()
        conn.settimeout(3 * WAIT)
        with conn:
            return handler(conn)

    return port, Peer(serve)


def recv_n(s: socket.socket, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        b = s.recv(n - len(buf))
        if not b:
            raise EOFError(f"end of stream after {len(buf)} of {n} bytes")
        buf += b
    return bytes(buf)


def echo(conn: socket.socket) -> None:
    while True:
        b = conn.recv(65536)
        if not b:
            return
        conn.sendall(b)


def silent_until_ping(conn: socket.socket) -> None:
    assert recv_n(conn, 4) == b"ping"
    conn.sendall(b"pong")
    conn.recv(1)


def connect(port: int, *args: Any) -> mm.TcpClient:
    return libsock.TcpClient("127.0.0.1", port, "Timeout", WAIT, *args)


# ------------------------------------------------------------------------------------------
# The header checker and the generated constants


def test_header_checker_accepts_libsock_h() -> None:
    assert check_header.main(["--header", HEADER]) == 0


def test_header_checker_self_test() -> None:
    assert check_header.self_test() == 0


@pytest.mark.parametrize("what", sorted(check_header.BAD_HEADERS))
def test_header_checker_rejects(what: str) -> None:
    problems = check_header.check_text(check_header.BAD_HEADERS[what])
    assert problems, f"the checker accepted a header with {what}"


def test_header_checker_rejects_stale_constant(tmp_path: Any) -> None:
    for f in os.listdir(PKG):
        if f.startswith("LS_"):
            shutil.copy(os.path.join(PKG, f), tmp_path / f)
    (tmp_path / "LS_ERR_TIMEOUT.m").write_text((tmp_path / "LS_ERR_TIMEOUT.m").read_text().replace("int32(-1)", "int32(-7)"))
    (tmp_path / "LS_GONE.m").write_text("function v = LS_GONE\nv = int32(1);\nend\n")
    os.remove(tmp_path / "LS_OPT_TTL.m")
    problems = check_header.check_constants(HEADER, str(tmp_path))
    text = "\n".join(problems)
    assert "LS_ERR_TIMEOUT" in text and "LS_GONE" in text and "LS_OPT_TTL" in text, text


def test_constants_match_header() -> None:
    """Every integer #define LS_* has +libsock/<NAME>.m returning the same int32, generated text
    up to date (gen_matlab_constants.py --check)."""
    want = gen_matlab_constants.expected(HEADER)
    have = {f for f in os.listdir(PKG) if f.startswith("LS_") and f.endswith(".m")}
    assert have == set(want)
    for fname, text in want.items():
        with open(os.path.join(PKG, fname), encoding="utf-8") as f:
            assert f.read() == text, f"{fname} is out of date: run gen_matlab_constants.py"
    assert check_header.check_constants(HEADER, PKG) == []
    values = check_header.header_constants(HEADER)
    assert values["LS_ERR_TIMEOUT"] == -1 and values["LS_ADDRESS_MAX"] == 256
    for name, v in values.items():
        assert getattr(libsock, name) == v


# ------------------------------------------------------------------------------------------
# The mirror is the MATLAB code: same calllib/libpointer calls, same argument text, same order.


def _strip_matlab(text: str) -> str:
    """Remove % comments and join ... continuations, leaving strings alone."""
    out_lines: list[str] = []
    pending = ""
    for line in text.splitlines():
        res = []
        in_str: Optional[str] = None
        i = 0
        cont = False
        while i < len(line):
            c = line[i]
            if in_str:
                res.append(c)
                if c == in_str:
                    if i + 1 < len(line) and line[i + 1] == in_str:  # '' or "" escape
                        res.append(line[i + 1])
                        i += 1
                    else:
                        in_str = None
            elif c == "%":
                break
            elif line.startswith("...", i):
                cont = True
                break
            elif c == '"':
                in_str = c
                res.append(c)
            elif c == "'":
                prev = "".join(res).rstrip()[-1:] if "".join(res).strip() else ""
                if prev and (prev.isalnum() or prev in ")]}_.'"):
                    res.append(c)  # transpose
                else:
                    in_str = c
                    res.append(c)
            else:
                res.append(c)
            i += 1
        pending += "".join(res)
        if cont:
            pending += " "
            continue
        out_lines.append(pending)
        pending = ""
    if pending:
        out_lines.append(pending)
    return "\n".join(out_lines)


def _balanced(text: str, start: int) -> tuple[list[str], int]:
    """Arguments of the call whose '(' is at text[start]; returns (args, index after ')')."""
    depth = 0
    args: list[str] = []
    cur: list[str] = []
    in_str: Optional[str] = None
    i = start
    while i < len(text):
        c = text[i]
        if in_str:
            cur.append(c)
            if c == in_str:
                in_str = None
        elif c in "'\"":
            in_str = c
            cur.append(c)
        elif c in "([{":
            depth += 1
            if depth > 1:
                cur.append(c)
        elif c in ")]}":
            depth -= 1
            if depth == 0:
                args.append("".join(cur))
                return [_norm(a) for a in args if a.strip() or len(args) > 1], i + 1
            cur.append(c)
        elif c == "," and depth == 1:
            args.append("".join(cur))
            cur = []
        else:
            cur.append(c)
        i += 1
    raise ValueError("unbalanced parentheses")


def _norm(s: str) -> str:
    return re.sub(r"\s+", " ", s.strip())


def matlab_calls() -> dict[tuple[str, str], list[tuple[str, tuple[str, ...], Optional[int]]]]:
    """(file, method) -> [(calllib|libpointer, args, number of outputs taken)] from the .m files."""
    result: dict[tuple[str, str], list[tuple[str, tuple[str, ...], Optional[int]]]] = {}
    for fname in sorted(os.listdir(PKG)):
        if not fname.endswith(".m") or fname.startswith("LS_"):
            continue
        with open(os.path.join(PKG, fname), encoding="utf-8") as f:
            text = _strip_matlab(f.read())
        chunks = re.split(r"(?m)^(?=\s*function\b)", text)
        for chunk in chunks:
            m = re.match(r"\s*function\s+(?:\[[^\]]*\]\s*=\s*|\w+\s*=\s*)?([\w.]+)", chunk)
            if not m:
                continue
            calls = []
            for cm in re.finditer(r"\b(calllib|libpointer)\s*\(", chunk):
                args, _ = _balanced(chunk, cm.end() - 1)
                nout: Optional[int] = None
                if cm.group(1) == "calllib":
                    line_start = chunk.rfind("\n", 0, cm.start()) + 1
                    prefix = chunk[line_start:cm.start()]
                    lm = re.fullmatch(r"\s*\[([^\]]*)\]\s*=\s*", prefix)
                    if lm:
                        nout = len(lm.group(1).split(","))
                    elif re.fullmatch(r"\s*[\w.]+\s*=\s*", prefix):
                        nout = 1
                    elif prefix.strip() == "":
                        nout = 0
                    else:
                        nout = 1  # nested in an expression: the first output
                calls.append((cm.group(1), tuple(args), nout))
            if calls:
                result[(fname, m.group(1))] = calls
    return result


def mirror_calls() -> dict[tuple[str, str], list[tuple[str, tuple[str, ...], Optional[int]]]]:
    """The same table from matlab_mirror.py (functions marked @mirrors)."""
    path = os.path.join(HERE, "matlab", "matlab_mirror.py")
    with open(path, encoding="utf-8") as f:
        src = f.read()
    tree = ast.parse(src)
    parents: dict[ast.AST, ast.AST] = {}
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            parents[child] = node
    result = {}
    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef):
            continue
        key = None
        for d in node.decorator_list:
            if isinstance(d, ast.Call) and getattr(d.func, "id", None) == "mirrors":
                key = (d.args[0].value, d.args[1].value)  # type: ignore[attr-defined]
        if key is None:
            continue
        calls = []
        found = [n for n in ast.walk(node) if isinstance(n, ast.Call)
                 and isinstance(n.func, ast.Name) and n.func.id in ("calllib", "libpointer")]
        for c in sorted(found, key=lambda n: (n.lineno, n.col_offset)):
            args = tuple(_norm(ast.get_source_segment(src, a) or "") for a in c.args)
            nout: Optional[int] = None
            if c.func.id == "calllib":  # type: ignore[attr-defined]
                p = parents[c]
                if isinstance(p, ast.Subscript) and p.value is c:
                    if isinstance(p.slice, ast.Constant) and p.slice.value == 0:
                        nout = 1
                    elif isinstance(p.slice, ast.Slice) and isinstance(p.slice.upper, ast.Constant):
                        nout = p.slice.upper.value
                    else:
                        nout = -1
                elif isinstance(p, ast.Assign) and isinstance(p.targets[0], ast.Tuple):
                    nout = len(p.targets[0].elts)
                elif isinstance(p, ast.Expr):
                    nout = 0
                else:
                    nout = -1  # a whole tuple used as one value: not MATLAB-like
            calls.append((c.func.id, args, nout))  # type: ignore[attr-defined]
        result[key] = calls
    return result


def test_mirror_makes_the_same_calls_as_the_matlab_code() -> None:
    m = matlab_calls()
    py = mirror_calls()
    assert m, "no calllib found in bindings/matlab/+libsock"
    missing = sorted(set(m) - set(py))
    assert not missing, f"MATLAB methods calling libsock without a Python mirror: {missing}"
    for key in sorted(set(m) | set(py)):
        assert py.get(key, []) == m.get(key, []), (
            f"{key[0]} {key[1]}: the mirror differs from the MATLAB code\n"
            f"MATLAB: {m.get(key)}\nPython: {py.get(key)}"
        )


def test_matlab_calls_fit_the_header() -> None:
    """Every calllib in the .m files names an exported function with the right argument count;
    libpointer types and multi-output captures are ones loadlibrary gives that function."""
    checker = check_header.Checker(HEADER)
    assert checker.check() == []
    protos = {f.name: f for f in checker.functions}
    n = 0
    for (fname, method), calls in matlab_calls().items():
        for kind, args, nout in calls:
            if kind == "libpointer":
                assert args[0] in {"'int32Ptr'", "'uint8Ptr'", "libsock.ptrtype('int64')", "libsock.ptrtype('size')"}, (fname, method, args)
                continue
            n += 1
            assert args[0] == "'libsock'", (fname, method, args)
            name = args[1].strip("'")
            assert name in protos, f"{fname} {method}: {name} is not in libsock.h"
            fn = protos[name]
            assert len(args) - 2 == len(fn.params), f"{fname} {method}: {name} takes {len(fn.params)} arguments"
            outputs = 1 + sum(1 for t, _ in fn.params if "*" in t and "const" not in t)
            assert nout is not None and nout <= outputs, f"{fname} {method}: {name} gives {outputs} outputs"
            if nout > 1:
                # Positional outputs are only used where no const pointer could shift them.
                assert not any("*" in t and "const" in t for t, _ in fn.params), (fname, method, name)
    assert n >= 30


def test_every_mirror_is_a_matlab_method() -> None:
    for (fname, method) in mm.MIRRORS:
        with open(os.path.join(PKG, fname), encoding="utf-8") as f:
            assert re.search(rf"function\s+(?:\[[^\]]*\]\s*=\s*|\w+\s*=\s*)?{re.escape(method)}\b", f.read()), (fname, method)


def test_help_text_on_every_class_and_method() -> None:
    """Each .m file starts with help text, and every public method has a help comment."""
    for fname in sorted(os.listdir(PKG)):
        if not fname.endswith(".m"):
            continue
        with open(os.path.join(PKG, fname), encoding="utf-8") as f:
            lines = f.read().splitlines()
        assert lines[1].lstrip().startswith("%"), f"{fname}: no help text after the first line"
        for i, line in enumerate(lines):
            m = re.match(r"\s*function\s+(?:\[[^\]]*\]\s*=\s*|\w+\s*=\s*)?([\w.]+)", line)
            if not m or i == 0 or "." in m.group(1):
                continue  # the file's own function, or a property accessor (documented with the property)
            assert lines[i + 1].lstrip().startswith("%"), f"{fname}: {m.group(1)} has no help comment"


# ------------------------------------------------------------------------------------------
# The calllib stand-in itself is as strict as MATLAB


def test_calllib_rejects_what_matlab_rejects(lib: str) -> None:
    raises_id("MATLAB:calllib:TypeMismatch", ml.calllib, "libsock", "ls_tcp_connect", "127.0.0.1:1", ml.int32(10), ml.libpointer("uint64Ptr", 0))
    raises_id("MATLAB:calllib:TypeMismatch", ml.calllib, "libsock", "ls_send_all", np.int64(1), np.zeros(3, np.int32), ml.uint64(3))
    raises_id("MATLAB:minrhs", ml.calllib, "libsock", "ls_close")
    raises_id("MATLAB:calllib:UndefinedFunction", ml.calllib, "libsock", "sock_close", np.int64(1))
    assert ml.uint64(-1) == 0 and ml.int32(2.5) == 3 and ml.int32(-2.5) == -3  # MATLAB rounding


def test_ptrtype_reads_libfunctions(lib: str) -> None:
    assert [libsock.ptrtype(k) for k in ("int64", "size", "int32", "uint8")] == ["int64Ptr", "uint64Ptr", "int32Ptr", "uint8Ptr"]
    sigs = ml.libfunctions("libsock", "-full")
    assert "[int32, int64Ptr] ls_tcp_connect(cstring, int32, int64Ptr)" in sigs
    assert mm._argType(["[int32, ulongPtr] ls_bytes_available(long, ulongPtr)"], "ls_bytes_available", 2, "x") == "ulongPtr"
    assert mm._argType(sigs, "ls_nothing", 1, "fallback") == "fallback"


def test_version(lib: str) -> None:
    with open(os.path.join(ROOT, "Cargo.toml"), encoding="utf-8") as f:
        m = re.search(r'(?m)^version\s*=\s*"([^"]+)"', f.read())
    assert m and libsock.version() == m.group(1)


# ------------------------------------------------------------------------------------------
# Scenarios S01-S12 (../shared/SCENARIOS.md)


def test_s01_connect_send_echo_close(lib: str) -> None:
    port, peer = stdlib_server(echo)
    t = connect(port)
    assert t.Address == "127.0.0.1" and t.Port == port
    out = np.frombuffer(os.urandom(1024), dtype=np.uint8)
    t.write(out)
    assert t.NumBytesWritten == 1024
    back = t.read(1024)
    assert back.dtype == np.uint8 and np.array_equal(back, out)
    # The same bytes as typed values, both byte orders.
    t.ByteOrder = "big-endian"
    t.write(np.array([1, -2, 300], dtype=np.float64), "int16")
    assert np.array_equal(t.read(3, "int16"), np.array([1, -2, 300], dtype=np.int16))
    t.write(np.array([1.5, -2.25]), "double")
    raw = t.read(16, "uint8")
    assert raw.tobytes() == struct.pack(">dd", 1.5, -2.25)
    t.ByteOrder = "little-endian"
    t.write(np.array([3.5], dtype=np.float32), "single")
    assert t.read(4).tobytes() == struct.pack("<f", 3.5)
    t.close()
    t.close()  # closing twice is harmless
    raises_id("libsock:badHandle", t.write, "x")
    peer.join()


def test_s02_connection_refused(lib: str) -> None:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))  # bound, never listening: refuses
    port = s.getsockname()[1]
    try:
        err = raises_id("libsock:connectionRefused", libsock.TcpClient, "127.0.0.1", port, "ConnectTimeout", 5)
        assert f"127.0.0.1:{port}" in err.message
    finally:
        s.close()


def test_s03_recv_timeout_then_still_works(lib: str) -> None:
    port, peer = stdlib_server(silent_until_ping)
    t = connect(port)
    t.Timeout = 0.2
    assert t.Timeout == 0.2
    t0 = time.monotonic()
    err = raises_id("libsock:timeout", t.read, 4)
    dt = time.monotonic() - t0
    assert 0.19 <= dt <= 2.0, dt
    # Core's message, the same in every door (docs/NAMES.md): no C function name in front.
    assert "ls_recv_exact" not in err.message
    assert err.message.startswith("recv from 127.0.0.1:") and "timed out after 200 ms" in err.message
    t0 = time.monotonic()
    raises_id("libsock:timeout", t.readline)
    assert 0.19 <= time.monotonic() - t0 <= 2.0
    t.Timeout = WAIT
    t.write("ping")
    assert t.read(4, "char") == "pong"
    t.Timeout = float("inf")
    assert t.Timeout == float("inf")
    t.close()
    peer.join()


def test_s04_64_mib_each_way(lib: str) -> None:
    total = int(os.environ.get("LS_TEST_S04_MB", "64")) << 20
    chunk = 1 << 20
    seed = os.urandom(32)

    def stream(i: int) -> bytes:
        return hashlib.shake_256(seed + i.to_bytes(4, "little")).digest(chunk)

    def peer_side(conn: socket.socket) -> str:
        got = hashlib.sha256()
        sent = []

        def sender() -> None:
            for i in range(total // chunk):
                conn.sendall(stream(1000 + i))
            sent.append(True)

        th = threading.Thread(target=sender, daemon=True)
        th.start()
        n = 0
        while n < total:
            b = conn.recv(1 << 20)
            if not b:
                break
            got.update(b)
            n += len(b)
        th.join(3 * WAIT)
        assert sent, "peer could not send its stream"
        return got.hexdigest()

    port, peer = stdlib_server(peer_side)
    t = connect(port)
    t.Timeout = 60
    want_out = hashlib.sha256()
    for i in range(total // chunk):
        data = np.frombuffer(stream(i), dtype=np.uint8)
        want_out.update(data.tobytes())
        t.write(data, "uint8")  # the peer reads in its own thread, so this never stalls for long
    got_in = hashlib.sha256()
    want_in = hashlib.sha256()
    for i in range(total // chunk):
        got_in.update(t.read(chunk, "uint8").tobytes())
        want_in.update(stream(1000 + i))
    assert got_in.hexdigest() == want_in.hexdigest()
    assert peer.join() == want_out.hexdigest()
    assert t.NumBytesWritten == total
    t.close()


def test_s05_length_prefixed_messages_with_hand_built_peer(lib: str) -> None:
    """1,000 messages of 0-64 KiB: the peer frames by hand (4-byte big-endian length)."""

    def peer_side(conn: socket.socket) -> int:
        n = 0
        while True:
            head = conn.recv(4, socket.MSG_WAITALL)
            if not head:
                return n
            if len(head) < 4:
                head += recv_n(conn, 4 - len(head))
            (length,) = struct.unpack(">I", head)
            body = recv_n(conn, length) if length else b""
            conn.sendall(struct.pack(">I", length) + body)
            n += 1

    port, peer = stdlib_server(peer_side)
    t = connect(port)
    t.configureFraming("length", 4, "big-endian", 65536)
    t.MessageBufferSize = 4096  # most messages take readmsg's second, exact-size call
    rng = np.random.default_rng(5)
    for i in range(1000):
        size = int(rng.integers(0, 65537))
        msg = rng.integers(0, 256, size, dtype=np.uint8)
        t.writemsg(msg)
        back = t.readmsg()
        assert back.dtype == np.uint8 and back.size == size and np.array_equal(back, msg), f"message {i}"
    t.writemsg(np.array([1.0, 2.0]), "double")  # typed messages too
    assert np.array_equal(t.readmsg("double"), np.array([1.0, 2.0]))
    t.writemsg("")  # an empty message
    assert t.readmsg("char") == ""
    t.close()
    assert peer.join() == 1002


def test_s06_lines_and_a_long_line(lib: str) -> None:
    wire = b"alpha\r\nbeta\r\n" + b"x" * 5000 + b"\r\ngamma\r\n"

    def send_wire(conn: socket.socket) -> None:
        conn.sendall(wire)

    # Framing: configureFraming("delimited") + readmsg skips the long line after its error.
    port, peer = stdlib_server(send_wire)
    t = connect(port)
    t.configureFraming("delimited", [13, 10], 100)
    assert t.readmsg("string") == "alpha"
    assert t.readmsg("char") == "beta"
    err = raises_id("libsock:frameTooLarge", t.readmsg)
    assert "100" in err.message
    assert t.readmsg("string") == "gamma"
    raises_id("libsock:closed", t.readmsg)
    t.close()
    peer.join()

    # readline with Terminator "CR/LF": lines intact; a line above MaxLineLength is an error.
    port, peer = stdlib_server(send_wire)
    t = connect(port, "Terminator", "CR/LF")
    assert t.Terminator == "CR/LF"
    t.MaxLineLength = 100
    assert t.readline() == "alpha"
    assert t.readline() == "beta"
    raises_id("libsock:frameTooLarge", t.readline)
    t.MaxLineLength = 16777216  # the long line stayed buffered: read it now (the buffer grows)
    assert t.readline() == "x" * 5000
    assert t.readline() == "gamma"
    raises_id("libsock:closed", t.readline)
    t.close()
    peer.join()

    # writeline/readline round trip, UTF-8, different terminators each way.
    def lines(conn: socket.socket) -> bytes:
        data = b""
        while not data.endswith(b"\n"):
            data += conn.recv(100)
        conn.sendall("grüße\rzwei\r".encode("utf-8"))
        return data

    port, peer = stdlib_server(lines)
    t = connect(port)
    t.configureTerminator("CR", "LF")
    assert t.Terminator == ["CR", "LF"]
    t.writeline("héllo")
    assert t.readline() == "grüße"
    assert t.readline() == "zwei"
    assert peer.join() == "héllo\n".encode("utf-8")
    t.close()


def test_s07_half_close(lib: str) -> None:
    def count_then_reply(conn: socket.socket) -> None:
        total = 0
        while True:
            b = conn.recv(65536)
            if not b:
                break
            total += len(b)
        conn.sendall(f"got {total} bytes".encode())

    port, peer = stdlib_server(count_then_reply)
    t = connect(port)
    t.write(np.zeros(100000, dtype=np.uint8))
    t.shutdown("write")
    reply = "got 100000 bytes"
    assert t.read(len(reply), "char") == reply
    raises_id("libsock:closed", t.read, 1)
    raises_id("libsock:io", t.write, "x")  # EPIPE after our shutdown
    t.close()
    peer.join()


def test_s08_misuse(lib: str) -> None:
    port, peer = stdlib_server(lambda c: c.recv(1))
    t = connect(port)
    t.close()
    # Use after close.
    raises_id("libsock:badHandle", t.write, "x")
    err = raises_id("libsock:badHandle", t.read, 1)
    assert "bad handle" in err.message
    raises_id("libsock:badHandle", lambda: t.NumBytesAvailable)
    peer.join()
    # An invented handle (what TcpClient(int64(...)) adopts).
    raises_id("libsock:badHandle", libsock.TcpClient, np.int64(987654321))
    # Null / empty buffers where one is required: the classes never pass one, calllib can.
    port, peer = stdlib_server(lambda c: c.recv(10))
    t = connect(port)
    rc = ml.calllib("libsock", "ls_send_all", t.Handle, ml.zeros(1, 0, "uint8"), ml.uint64(5))[0]
    assert rc == libsock.LS_ERR_INVALID_ARGUMENT
    raises_id("libsock:invalidArgument", libsock.check, rc)
    rc = ml.calllib("libsock", "ls_recv", t.Handle, ml.int32(0), ml.libpointer("uint8Ptr", ml.zeros(1, 0, "uint8")), ml.uint64(8), ml.libpointer("uint64Ptr", 0))[0]
    assert rc == libsock.LS_ERR_INVALID_ARGUMENT
    err = raises_id("libsock:invalidArgument", libsock.check, rc)
    assert "buf" in err.message
    # Bad arguments caught by the classes themselves.
    raises_id("libsock:invalidArgument", t.read, -1)
    raises_id("libsock:invalidArgument", t.read, 2, "float128")
    raises_id("libsock:invalidArgument", t.configureFraming, "zigzag")
    raises_id("libsock:invalidArgument", t.setOption, "NoSuchOption", 1)
    # Process alive, handle fine.
    t.write("still")
    assert t.read(0).size == 0
    t.close()
    peer.join()


def test_s09_message_larger_than_the_buffer(lib: str) -> None:
    body = bytes((i * 7) & 0xFF for i in range(1000))
    port, peer = stdlib_server(lambda c: c.sendall(struct.pack(">I", 1000) + body + struct.pack(">I", 3) + b"end"))
    t = connect(port)
    t.configureFraming("length", 4, "big-endian")
    # What readmsg does inside, step by step: the first call reports the size ...
    buf = ml.libpointer("uint8Ptr", ml.zeros(1, 10, "uint8"))
    out = ml.libpointer("uint64Ptr", 0)
    rc = ml.calllib("libsock", "ls_recv_msg", t.Handle, ml.int32(libsock.LS_TIMEOUT_DEFAULT), buf, ml.uint64(10), out)[0]
    assert rc == libsock.LS_ERR_BUFFER_TOO_SMALL and out.Value == 1000
    err = raises_id("libsock:bufferTooSmall", libsock.check, rc)
    assert "1000" in err.message
    # ... and the message is still there.
    assert t.NumBytesAvailable >= 1000  # the body, and the next frame behind it
    t.MessageBufferSize = 10
    back = t.readmsg()
    assert back.tobytes() == body
    assert t.readmsg("char") == "end"
    raises_id("libsock:closed", t.readmsg)
    t.close()
    peer.join()


def test_s10_udp(lib: str) -> None:
    a = libsock.Udp("LocalHost", "127.0.0.1")
    b = libsock.Udp("LocalHost", "127.0.0.1", "LocalPort", 0, "Timeout", WAIT)
    assert a.LocalPort > 0 and a.LocalAddress == f"127.0.0.1:{int(a.LocalPort)}"
    a.write("hello", "char", "127.0.0.1", b.LocalPort)
    data, sender, truncated = b.read(100, "char")
    assert data == "hello" and sender == a.LocalAddress and truncated is False
    # A datagram larger than the buffer: truncation reported.
    a.write(np.full(2000, ord("L"), dtype=np.uint8), "uint8", b.LocalAddress)
    deadline = time.monotonic() + WAIT
    while b.NumBytesAvailable == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert b.NumBytesAvailable == 2000
    data, sender, truncated = b.read(100)
    assert data.size == 100 and truncated is True and np.all(data == ord("L"))
    # Typed values, big-endian.
    a.ByteOrder = "big-endian"
    b.ByteOrder = "big-endian"
    a.write(np.array([1, 2, 3]), "int32", b.LocalAddress)
    data, sender, truncated = b.read(3, "int32")
    assert np.array_equal(data, np.array([1, 2, 3], dtype=np.int32)) and truncated is False
    # An empty datagram.
    a.write(np.zeros(0, dtype=np.uint8), "uint8", b.LocalAddress)
    data, sender, truncated = b.read(10)
    assert data.size == 0 and truncated is False
    # A stdlib peer: data and address right both ways.
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.settimeout(WAIT)
    try:
        s.sendto(b"from python", ("127.0.0.1", int(b.LocalPort)))
        data, sender, _ = b.read(64, "string")
        assert data == "from python" and sender == "127.0.0.1:%d" % s.getsockname()[1]
        b.write("to python", "char", "127.0.0.1", s.getsockname()[1])
        got, addr = s.recvfrom(100)
        assert got == b"to python" and addr == ("127.0.0.1", int(b.LocalPort))
    finally:
        s.close()
    # Nothing there: timeout.
    b.Timeout = 0.1
    raises_id("libsock:timeout", b.read, 10)
    a.close()
    b.close()


def test_s11_listener_port_0_and_accept_timeout(lib: str) -> None:
    l = libsock.Listener("127.0.0.1", 0)
    port = l.Port
    assert 0 < port < 65536
    assert l.LocalAddress == f"127.0.0.1:{int(port)}"
    t0 = time.monotonic()
    raises_id("libsock:timeout", l.accept, 0.2)
    dt = time.monotonic() - t0
    assert 0.19 <= dt <= 2.0, dt
    # Several clients (MATLAB's own tcpserver takes one), each its own TcpClient.
    clients = [socket.create_connection(("127.0.0.1", int(port)), timeout=WAIT) for _ in range(3)]
    l.Timeout = WAIT
    l.configureFraming("length", 2, "little-endian")
    try:
        for i, s in enumerate(clients):
            c = l.accept()
            assert c.Address == "127.0.0.1" and c.Port == s.getsockname()[1]
            s.sendall(struct.pack("<H", 2) + bytes([i, i]))
            assert c.readmsg().tolist() == [i, i]  # the listener's framing
            c.writemsg([9])
            assert recv_n(s, 3) == b"\x01\x00\x09"
            c.close()
    finally:
        for s in clients:
            s.close()
    l.close()
    l.close()


def test_s12_options_read_back(lib: str) -> None:
    port, peer = stdlib_server(lambda c: c.recv(1))
    t = connect(port)
    t.setOption("NoDelay", True)
    assert t.getOption("NoDelay") == 1
    t.setOption("NoDelay", False)
    assert t.getOption("NoDelay") == 0
    t.setOption("KeepAlive", 1)
    assert t.getOption("KeepAlive") == 1
    t.setOption("KeepAliveIdle", 30)
    assert t.getOption("KeepAliveIdle") == 30
    t.setOption("KeepAliveInterval", 5)
    assert t.getOption("KeepAliveInterval") == 5
    t.setOption("KeepAliveCount", 4)
    assert t.getOption("KeepAliveCount") == 4
    t.setOption("RecvBufferSize", 65536)
    assert t.getOption("RecvBufferSize") >= 65536  # Linux doubles
    t.setOption("recv_buffer_size", 65536)  # core's spelling (docs/NAMES.md) works too
    assert t.getOption("ReceiveBufferSize") >= 65536  # and the former name
    t.setOption("SendBufferSize", 65536)
    assert t.getOption("SendBufferSize") >= 65536
    t.setOption(libsock.LS_OPT_LINGER, 3)  # by LS_OPT_* number too
    assert t.getOption(libsock.LS_OPT_LINGER) == 3
    t.setOption("TTL", 33)
    assert t.getOption("TTL") == 33
    # Checked against the OS through the stdlib on the same port pair.
    raises_id("libsock:unsupported", t.setOption, "V6Only", 1)
    t.close()
    peer.join()


# ------------------------------------------------------------------------------------------
# The rest of the class surface


def test_flush_framings_and_multicast(lib: str) -> None:
    def peer_side(conn: socket.socket) -> None:
        conn.sendall(b"junk junk junk")
        assert recv_n(conn, 1) == b"!"
        conn.sendall(bytes([0b00000101, 0, 0, 0]) + b"hello")  # HP-Socket PACK: flag 0, length 5
        conn.sendall(b"abcdef")
        conn.recv(1)

    port, peer = stdlib_server(peer_side)
    t = connect(port)
    deadline = time.monotonic() + WAIT
    while t.NumBytesAvailable < 14 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert t.read(5, "char") == "junk "
    assert t.read().size == 9  # read() takes what is available
    t.write("!")
    t.configureFraming("hppack", 0, 0)
    assert t.readmsg("char") == "hello"
    t.configureFraming("fixed", 3)
    assert t.readmsg("char") == "abc"
    t.configureFraming("raw")
    deadline = time.monotonic() + WAIT
    while t.NumBytesAvailable < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    t.flush("output")
    assert t.NumBytesAvailable == 3
    t.flush()
    assert t.NumBytesAvailable == 0
    t.close()
    peer.join()

    u = libsock.Udp("LocalHost", "0.0.0.0")
    try:
        u.configureMulticast("239.255.12.34", "127.0.0.1")
        u.configureMulticast("off", "239.255.12.34", "127.0.0.1")
    except MatlabError as e:  # a container without multicast routes
        assert e.identifier in ("libsock:io", "libsock:addrNotAvailable", "libsock:unsupported"), e
    u.delete()
    u.delete()


def test_delete_and_unload(lib: str) -> None:
    port, peer = stdlib_server(lambda c: c.recv(1))
    t = connect(port)
    h = t.Handle
    t.delete()
    assert t.Handle == 0
    rc = ml.calllib("libsock", "ls_close", h)[0]
    assert rc == libsock.LS_ERR_BAD_HANDLE  # handles are never reused
    peer.join()
    libsock.unload()
    assert not ml.libisloaded("libsock")
    libsock.load()  # every class loads it again on demand
    assert ml.libisloaded("libsock")


def test_datatypes_both_byte_orders(lib: str) -> None:
    """Every read/write datatype through an echo peer, little- and big-endian."""
    port, peer = stdlib_server(echo)
    t = connect(port)
    values = [1, 2, 100, 127]
    for order in ("little-endian", "big-endian"):
        t.ByteOrder = order
        for dt in ("uint8", "int8", "uint16", "int16", "uint32", "int32", "uint64", "int64", "single", "double"):
            t.write(np.array(values, dtype=np.float64), dt)
            got = t.read(len(values), dt)
            assert got.dtype == np.dtype(ml.NP[dt]) and got.tolist() == values, (order, dt)
            t.write(np.array(values, dtype=np.float64), dt)
            raw = t.read(len(values) * np.dtype(ml.NP[dt]).itemsize).tobytes()
            wire = np.dtype(ml.NP[dt]).newbyteorder(">" if order == "big-endian" else "<")
            assert raw == np.array(values, dtype=wire).tobytes(), (order, dt)
    t.write(np.array([104, 105]), "char")  # character codes
    assert t.read(2, "string") == "hi"
    t.write(["a", "b"], "string")  # a string array is joined
    assert t.read(2, "char") == "ab"
    raises_id("libsock:invalidArgument", t.write, "\u20ac", "char")  # one byte per character
    t.close()
    peer.join()


def test_unconnected_client(lib: str) -> None:
    t = libsock.TcpClient()
    assert t.Handle == 0
    raises_id("libsock:badHandle", t.read, 1)
    t.close()


def test_example_echo(lib: str) -> None:
    """bindings/matlab/examples/echo_example.m, step by step through the mirror."""
    with open(os.path.join(MATLAB, "examples", "echo_example.m"), encoding="utf-8") as f:
        example = f.read()
    assert libsock.version()
    server = libsock.Listener("127.0.0.1", 0, "Timeout", 5)
    client = libsock.TcpClient("127.0.0.1", server.Port, "Timeout", 5)
    peer = server.accept()
    client.ByteOrder = "big-endian"
    peer.ByteOrder = "big-endian"
    client.write(np.array([1.5, 2.5, 3.5]), "double")
    assert peer.read(3, "double").tolist() == [1.5, 2.5, 3.5]
    client.configureTerminator("CR/LF")
    peer.configureTerminator("CR/LF")
    client.writeline("hello")
    assert peer.readline() == "hello"
    client.configureFraming("length", 4, "big-endian")
    peer.configureFraming("length", 4, "big-endian")
    client.writemsg(np.arange(1, 101, dtype=np.uint8))
    assert peer.readmsg().tolist() == list(range(1, 101))
    peer.Timeout = 0.2
    raises_id("libsock:timeout", peer.read, 1)
    for obj in (client, peer, server):
        obj.delete()
    # Every method the example calls exists in the classes.
    methods = set(re.findall(r"\b(\w+)\((?:client|peer|server)\b", example))
    for m in methods:
        assert any(re.search(rf"function\s+(?:\w+\s*=\s*|\[[^\]]*\]\s*=\s*)?{m}\(", open(os.path.join(PKG, f), encoding="utf-8").read())
                   for f in ("Socket.m", "TcpClient.m", "Listener.m")), m


# ------------------------------------------------------------------------------------------
# The engine (S13-S17): libsock.Server / libsock.Client / libsock.EngineConfig through the mirror,
# against stdlib-socket peers framing by hand (the engine's default: 4-byte big-endian length).


def frame(m: bytes) -> bytes:
    return struct.pack(">I", len(m)) + m


def read_frame(s: socket.socket) -> bytes:
    (n,) = struct.unpack(">I", recv_n(s, 4))
    return recv_n(s, n)


def pump(obj: Any, until: Callable[[list], bool], timeout: float = WAIT, step: float = 0.1) -> list:
    """Collect events of a Server/Client until until(all events so far) is true."""
    got: list = []
    deadline = time.monotonic() + timeout
    while not until(got):
        assert time.monotonic() < deadline, f"timed out; events so far: {[e['Kind'] for e in got]}"
        got += obj.waitEvents(step)
    return got


def kinds(events: list, kind: str) -> list:
    return [e for e in events if e["Kind"] == kind]


def test_engine_config_properties(lib: str) -> None:
    cfg = libsock.EngineConfig("MaxClients", 7, "HeartbeatInterval", 0.25, "sendpolicy", "disconnect")
    assert cfg.MaxClients == 7 and cfg.HeartbeatInterval == 0.25 and cfg.SendPolicy == "disconnect"
    assert cfg.HeartbeatMisses == 3 and cfg.Reconnect is True and cfg.BackoffMin == 0.1
    assert cfg.BackoffMax == 10 and cfg.ConnectTimeout == 10 and cfg.IdleTimeout == 0
    cfg.IdleTimeout = 1.5
    cfg.IdleMode = "reads-and-writes"
    cfg.Reconnect = False
    cfg.HeartbeatInterval = -1
    cfg.SendQueueBytes = 1 << 20
    assert (cfg.IdleTimeout, cfg.IdleMode, cfg.Reconnect, cfg.HeartbeatInterval) == (1.5, "reads-and-writes", False, -1)
    assert cfg.getKey(libsock.LS_ECFG_IDLE_TIMEOUT_MS) == 1500 and cfg.SendQueueBytes == 1 << 20
    # Every engine setting of core has its property (RemoveStale was missing before issue 12).
    assert cfg.RemoveStale is False
    cfg.RemoveStale = True
    assert cfg.RemoveStale is True and cfg.getKey(libsock.LS_ECFG_REMOVE_STALE) == 1
    assert len(libsock.EngineConfig.propertyNames()) == 18
    raises_id("libsock:invalidArgument", setattr, cfg, "HeartbeatMisses", -5)
    raises_id("libsock:invalidArgument", setattr, cfg, "MaxClients", float("nan"))
    raises_id("MATLAB:unrecognizedStringChoice", setattr, cfg, "SendPolicy", "drop")
    cfg.configureFraming("delimited", [10])
    cfg.setOption("NoDelay", 1)
    raises_id("libsock:invalidArgument", cfg.configureFraming, "fixed", 0)
    # A delimiter given empty reaches the library and is refused (it was taken for "not given",
    # CRLF); only an absent one is CRLF.
    for empty in ("", [], ml.uint8([])):
        err = raises_id("libsock:invalidArgument", cfg.configureFraming, "delimited", empty)
        assert "delim" in err.message, err.message
    cfg.configureFraming("delimited")
    cfg.close()
    cfg.close()  # closing twice is harmless (ls_close(0))


def test_engine_core_checks_bad_frame_and_warning(lib: str) -> None:
    """Core 096bba6 through the MATLAB classes: a peer's wrong HP-Socket flag is
    libsock:badFrame (no longer libsock:io), MaxClients 0 is refused when the server is made, a
    message larger than the send queue is libsock:frameTooLarge, and a slow consumer gives
    exactly one "warning" event (Value LS_ERR_QUEUE_FULL) and stats SendQueueFull."""
    def peer_side(conn: socket.socket) -> None:
        conn.sendall(struct.pack("<I", (0x154 << 22) | 2) + b"hi")  # the flag is 0x155
        conn.recv(1)

    port, peer = stdlib_server(peer_side)
    t = connect(port)
    t.configureFraming("hppack", 0x155, 0)
    err = raises_id("libsock:badFrame", t.readmsg, "char")
    assert libsock.LS_ERR_BAD_FRAME == -20, err
    t.close()
    peer.join()

    err = raises_id("libsock:invalidArgument", libsock.Server, "127.0.0.1", 0, "MaxClients", 0)
    assert "max_clients 0" in err.message, err
    err = raises_id("libsock:invalidArgument", libsock.Server, "127.0.0.1", 0, "HeartbeatInterval", 0.005)
    assert "below the floor" in err.message, err

    cfg = libsock.EngineConfig("SendQueueBytes", 65536)
    cfg.setOption("SendBufferSize", 8192)
    srv = libsock.Server("127.0.0.1", 0, cfg)
    slow_peer = socket.socket()
    slow_peer.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    slow_peer.connect(("127.0.0.1", int(srv.Port)))
    try:
        slow = kinds(pump(srv, lambda evs: kinds(evs, "connected") != []), "connected")[0]["Client"]
        raises_id("libsock:frameTooLarge", srv.send, slow, np.zeros(70000, np.uint8))
        chunk = np.zeros(16384, np.uint8)
        # Fill the queue without a refusal (sent only while it fits; then wait until the engine
        # can move nothing more into the kernel), so that the refusals below are one episode.
        for _ in range(10000):
            q = srv.stats()["QueuedBytes"]
            if q + chunk.size + 4 <= 65536:
                srv.send(slow, chunk)
                continue
            time.sleep(0.15)
            if srv.stats()["QueuedBytes"] == q:
                break
        raises_id("libsock:queueFull", srv.send, slow, chunk)
        assert srv.broadcast(chunk) == 0  # skipped
        st = srv.stats()
        assert st["SendQueueFull"] == 2 and st["AcceptErrors"] == 0, st
        events: list = []
        while True:
            got = srv.waitEvents(0.3)
            if not got:
                break
            events += got
        warnings = kinds(events, "warning")
        assert len(warnings) == 1, [e["Kind"] for e in events]
        w = warnings[0]
        assert w["Client"] == slow and w["Value"] == libsock.LS_ERR_QUEUE_FULL, w
        assert "send queue is full" in w["Detail"], w
    finally:
        slow_peer.close()
        srv.close()
        cfg.close()


def test_s13_engine_server_50_clients_100_messages(lib: str) -> None:
    """S13: a mirror-driven libsock.Server echoes 100 framed messages for each of 50 clients; a
    small MessageBufferSize makes most events take the grow-and-retry path."""
    nclients, nmsgs = 50, 100
    srv = libsock.Server("127.0.0.1", 0, "MaxClients", 200)
    srv.MessageBufferSize = 8
    port = int(srv.Port)
    assert srv.LocalAddress == f"127.0.0.1:{port}"

    def client(i: int) -> bool:
        msgs = [b"c%d-m%d|" % (i, j) + bytes([j % 256]) * (j % 23) for j in range(nmsgs)]
        with socket.create_connection(("127.0.0.1", port), timeout=3 * WAIT) as s:
            s.sendall(b"".join(frame(m) for m in msgs))
            got = [read_frame(s) for _ in range(nmsgs)]
        assert got == msgs, f"client {i}: echo differs"
        return True

    peers = [Peer(client, i) for i in range(nclients)]
    echoed = 0
    connected: set = set()
    events: list = []
    deadline = time.monotonic() + 3 * WAIT
    while echoed < nclients * nmsgs:
        assert time.monotonic() < deadline, f"echoed {echoed}"
        for ev in srv.waitEvents(0.2):
            events.append(ev)
            if ev["Kind"] == "connected":
                connected.add(int(ev["Client"]))
                assert ev["Peer"].startswith("127.0.0.1:")
            elif ev["Kind"] == "message":
                srv.send(ev["Client"], ev["Data"])
                echoed += 1
    assert all(p.join() for p in peers)
    assert len(connected) == nclients and srv.MessageBufferSize == 8
    events += pump(srv, lambda evs: len(kinds(events + evs, "disconnected")) == nclients)
    assert {int(e["Client"]) for e in kinds(events, "disconnected")} == connected
    assert {e["Reason"] for e in kinds(events, "disconnected")} <= {"peer-closed", "reset"}
    st = srv.stats()
    assert st["MessagesIn"] == nclients * nmsgs and st["ConnectionsTotal"] == nclients
    assert st["Connections"] == 0 and len(srv.Clients) == 0
    srv.shutdown(1)
    assert kinds(pump(srv, lambda evs: kinds(evs, "closed") != []), "closed")
    assert srv.Stopped and srv.poll() == [] and srv.waitEvents(5) == []
    srv.delete()


def test_s14_engine_broadcast_to_50_clients(lib: str) -> None:
    """S14: broadcast reaches each of 50 clients exactly once; EXCEPT skips one."""
    srv = libsock.Server("127.0.0.1", 0)
    socks = [socket.create_connection(("127.0.0.1", int(srv.Port)), timeout=WAIT) for _ in range(50)]
    try:
        events = pump(srv, lambda evs: len(kinds(evs, "connected")) == 50)
        ids = [e["Client"] for e in kinds(events, "connected")]
        assert sorted(int(i) for i in srv.Clients) == sorted(int(i) for i in ids)
        assert srv.broadcast("hello all") == 50
        for s in socks:
            assert read_frame(s) == b"hello all"
        first = socks[[int(i) for i in ids].index(int(min(srv.Clients)))]
        assert srv.broadcast(np.array([1, 2, 3], dtype=np.uint8), [], min(srv.Clients)) == 49
        for s in socks:
            if s is not first:
                assert read_frame(s) == b"\x01\x02\x03"
        readable, _, _ = select.select(socks, [], [], 0.2)  # exactly once: nothing else arrives
        assert readable == []
        st = srv.stats()
        assert st["MessagesOut"] == 99 and st["Connections"] == 50
        srv.disconnect(ids[0], False)
        ev = pump(srv, lambda evs: kinds(evs, "disconnected") != [])
        assert kinds(ev, "disconnected")[0]["Reason"] == "kicked" and kinds(ev, "disconnected")[0]["Value"] == libsock.LS_REASON_KICKED
        raises_id("libsock:closed", srv.send, ids[0], "gone")
    finally:
        for s in socks:
            s.close()
        srv.delete()


def test_s15_engine_client_reconnects_and_delivers_queued_messages(lib: str) -> None:
    """S15: a libsock.Client outlives its server; what it sends while the server is down
    arrives once, in order, at the restarted server."""
    cfg = libsock.EngineConfig("BackoffMin", 0.05, "BackoffMax", 0.2, "Jitter", False)
    srv = libsock.Server("127.0.0.1", 0)
    port = int(srv.Port)
    cli = libsock.Client("127.0.0.1", port, cfg)
    cfg.delete()
    assert kinds(pump(cli, lambda evs: kinds(evs, "connected") != []), "connected")
    assert cli.Connected
    for j in range(5):
        cli.send(f"before-{j}")
    got = [bytes(e["Data"]) for e in kinds(pump(srv, lambda evs: len(kinds(evs, "message")) == 5), "message")]
    assert got == [f"before-{j}".encode() for j in range(5)]
    srv.shutdown(0)
    srv.close()
    events = pump(cli, lambda evs: kinds(evs, "disconnected") != [])
    assert not cli.Connected
    for j in range(20):
        cli.send(f"queued-{j}")
    time.sleep(0.3)  # a few reconnect attempts fail meanwhile
    srv2 = None
    for _ in range(50):
        try:
            srv2 = libsock.Server("127.0.0.1", port)
            break
        except MatlabError as e:
            assert e.identifier == "libsock:addrInUse", e
            time.sleep(0.1)
    assert srv2 is not None
    try:
        msgs = kinds(pump(srv2, lambda evs: len(kinds(evs, "message")) >= 20), "message")
        time.sleep(0.3)
        msgs += kinds(srv2.poll(), "message")
        assert [bytes(e["Data"]) for e in msgs] == [f"queued-{j}".encode() for j in range(20)]
        events += pump(cli, lambda evs: kinds(evs, "connected") != [])
        rec = kinds(events, "reconnecting")
        assert rec and int(rec[0]["Client"]) == 1 and rec[0]["Value"] >= 0
        assert cli.stats()["ConnectionsTotal"] == 2 and cli.Connected
        cli.disconnect(1)
        last = pump(cli, lambda evs: kinds(evs, "closed") != [])
        assert kinds(last, "disconnected")[0]["Reason"] == "closed"
        raises_id("libsock:closed", cli.send, "after")
    finally:
        cli.delete()
        srv2.delete()


def test_s16_engine_heartbeat_lost(lib: str) -> None:
    """S16: a stdlib peer that never answers the server's pings is declared dead within
    interval x misses (+ slack)."""
    interval, misses = 0.2, 2
    srv = libsock.Server("127.0.0.1", 0, "HeartbeatInterval", interval, "HeartbeatMisses", misses)
    with socket.create_connection(("127.0.0.1", int(srv.Port)), timeout=WAIT):
        t0 = time.monotonic()
        assert kinds(pump(srv, lambda evs: kinds(evs, "connected") != []), "connected")
        ev = kinds(pump(srv, lambda evs: kinds(evs, "disconnected") != [], step=0.02), "disconnected")[0]
        elapsed = time.monotonic() - t0
    srv.delete()
    assert ev["Reason"] == "heartbeat-lost" and ev["Value"] == libsock.LS_REASON_HEARTBEAT_LOST, ev
    assert interval * (misses - 1) <= elapsed <= interval * misses + 1.0, elapsed


def test_s17_engine_shutdown_and_close_wake_a_waiting_call(lib: str) -> None:
    """S17: waitEvents(Inf) blocked in ls_next_event in one thread returns promptly when another
    thread calls libsock.shutdownEngine (ls_shutdown_engine) or closes the object."""
    for how in ("shutdownEngine", "close", "close-grace", "disconnect"):
        if how in ("close-grace", "disconnect"):
            obj = libsock.Client("127.0.0.1", 9, "Reconnect", True, "BackoffMin", 5)
        else:
            obj = libsock.Server("127.0.0.1", 0)
        started = threading.Event()

        def wait_forever(o: Any = obj) -> tuple:
            evs: list = []
            started.set()
            while not o.Stopped:
                evs += o.waitEvents(math_inf)
            return evs, time.monotonic()

        waiter = Peer(wait_forever)
        assert started.wait(WAIT)
        time.sleep(0.3)
        assert waiter.thread.is_alive(), f"{how}: waitEvents(Inf) returned early"
        t0 = time.monotonic()
        if how == "shutdownEngine":
            libsock.shutdownEngine()
        elif how == "close":
            obj.close()
        elif how == "close-grace":
            obj.close(0)  # Client's close(grace) (docs/NAMES.md); disconnect is its former name
        else:
            obj.disconnect(0)
        evs, t1 = waiter.join(WAIT)
        assert t1 - t0 < 2.0, f"{how}: the waiting call took {t1 - t0:.2f} s to return"
        if how != "close":
            assert evs and evs[-1]["Kind"] == "closed", (how, [e["Kind"] for e in evs])
        obj.delete()
    libsock.shutdownEngine()  # twice, and with nothing running: harmless


math_inf = float("inf")


def test_engine_large_message_and_client_address(lib: str) -> None:
    """A message far above MessageBufferSize arrives whole (LS_ERR_BUFFER_TOO_SMALL keeps it
    queued; nextEvent grows the buffer); clientAddress, NumEventsAvailable."""
    srv = libsock.Server("127.0.0.1", 0)
    big = bytes(range(256)) * 1024  # 256 KiB
    with socket.create_connection(("127.0.0.1", int(srv.Port)), timeout=WAIT) as s:
        s.sendall(frame(big) + frame(b""))
        deadline = time.monotonic() + WAIT
        while srv.NumEventsAvailable < 3:  # connected and the two messages
            assert time.monotonic() < deadline
            time.sleep(0.01)
        conn = srv.poll(1)[0]
        assert conn["Kind"] == "connected"
        assert srv.clientAddress(conn["Client"]) == conn["Peer"] == "127.0.0.1:%d" % s.getsockname()[1]
        evs = srv.poll(1)
        assert len(evs) == 1 and bytes(evs[0]["Data"]) == big and srv.MessageBufferSize == 4096
        evs = srv.poll()
        assert evs[0]["Kind"] == "message" and evs[0]["Data"].size == 0
        srv.send(conn["Client"], np.array([1, 258], dtype=np.float64), "uint16")
        assert read_frame(s) == b"\x01\x00\x02\x01"
    raises_id("libsock:closed", srv.clientAddress, 999)
    srv.delete()


def test_engine_datagram_server(lib: str) -> None:
    """libsock.DatagramServer: datagrams with their sender through poll, a reply with sendTo, a
    datagram above MessageBufferSize taken whole, the final "closed" event."""
    d = libsock.DatagramServer("127.0.0.1", 0, "MaxDatagram", 65536)
    port = int(d.Port)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
        u.settimeout(WAIT)
        u.bind(("127.0.0.1", 0))
        me = "127.0.0.1:%d" % u.getsockname()[1]
        for m in (b"one", b"", b"x" * 10000):
            u.sendto(m, ("127.0.0.1", port))
        evs = pump(d, lambda evs: len(evs) >= 3)
        assert [bytes(e["Data"]) for e in evs] == [b"one", b"", b"x" * 10000]
        assert all(e["Kind"] == "datagram" and e["Peer"] == me for e in evs)
        d.sendTo("pong", evs[0]["Peer"])
        d.sendTo(np.array([1, 2], dtype=np.int32), "127.0.0.1", u.getsockname()[1], "int32")
        assert u.recv(100) == b"pong" and u.recv(100) == b"\x01\x00\x00\x00\x02\x00\x00\x00"
    st = d.stats()
    assert st["MessagesIn"] == 3 and st["MessagesOut"] == 2
    libsock.shutdownEngine()
    last = pump(d, lambda evs: kinds(evs, "closed") != [])
    assert last[-1]["Kind"] == "closed" and last[-1]["Peer"] == "" and d.Stopped
    d.delete()


def test_example_server(lib: str) -> None:
    """bindings/matlab/examples/server_example.m, step by step through the mirror (the timer
    callback called from a loop, as the example does without a timer)."""
    with open(os.path.join(MATLAB, "examples", "server_example.m"), encoding="utf-8") as f:
        example = f.read()
    cfg = libsock.EngineConfig("MaxClients", 100, "HeartbeatInterval", 1, "HeartbeatMisses", 3)
    server = libsock.Server("127.0.0.1", 0, cfg)
    left: list = []

    def onTimer() -> None:
        for ev in server.poll(500):
            if ev["Kind"] == "message":
                server.send(ev["Client"], ev["Data"])
            elif ev["Kind"] == "disconnected":
                left.append(ev["Reason"])

    def waitFor(cond: Callable[[], bool]) -> None:
        t0 = time.monotonic()
        while not cond():
            assert time.monotonic() - t0 < 10
            onTimer()
            time.sleep(0.01)

    clients = []
    for i in range(3):
        c = libsock.TcpClient("127.0.0.1", server.Port, "Timeout", 5)
        c.configureFraming("length", 4, "big-endian")
        c.writemsg(f"hello from client {i + 1}")
        clients.append(c)
    for i, c in enumerate(clients):
        waitFor(lambda c=c: c.NumBytesAvailable > 0)
        assert c.readmsg("char") == f"hello from client {i + 1}"
    waitFor(lambda: len(server.Clients) == 3)
    assert server.broadcast("news for everyone") == 3
    for c in clients:
        assert c.readmsg("char") == "news for everyone"
    st = server.stats()
    assert (st["Connections"], st["MessagesIn"], st["MessagesOut"]) == (3, 3, 6)
    for c in clients:
        c.close()
    waitFor(lambda: len(server.Clients) == 0)
    server.shutdown(1)
    server.delete()
    cfg.delete()
    libsock.shutdownEngine()
    methods = set(re.findall(r"\b(\w+)\((?:server|cfg)\b", example))
    assert {"poll", "send", "broadcast", "stats", "shutdown"} <= methods, methods
    for m in methods - {"onTimer", "delete", "isempty", "numel"}:
        assert any(re.search(rf"function\s+(?:\w+\s*=\s*|\[[^\]]*\]\s*=\s*)?{m}\(", open(os.path.join(PKG, f), encoding="utf-8").read())
                   for f in ("Server.m", "EngineObject.m", "EngineConfig.m")), m


# ------------------------------------------------------------------------------------------
# The MATLAB code between the calls, executed: Octave (when installed) runs the classes' pure
# helper methods from the .m files, and their results must equal the mirror's.

HELPER_CASES: list[tuple[str, str, Callable[[], Any]]] = []


def _case(octave_expr: str, python: Callable[[], Any]) -> None:
    HELPER_CASES.append((f"c{len(HELPER_CASES)}", octave_expr, python))


S = mm.Socket
T = mm.TcpClient
for _dt in ("uint8", "int8", "uint16", "int16", "uint32", "int32", "uint64", "int64", "single", "double"):
    for _order in ("little-endian", "big-endian"):
        # MATLAB's cast rounds half away from zero and saturates: the mirror must agree.
        _case(f"libsock.Socket.toBytes([1 -2 300 65536.5 -0.5 2.5], '{_dt}', '{_order}')",
              lambda d=_dt, o=_order: S.toBytes(np.array([1, -2, 300, 65536.5, -0.5, 2.5]), d, o))
        _case(f"libsock.Socket.fromBytes(uint8([1 2 3 4 5 6 7 8 9 250 251 252 253 254 255 0 17]), '{_dt}', '{_order}')",
              lambda d=_dt, o=_order: S.fromBytes(np.array([1, 2, 3, 4, 5, 6, 7, 8, 9, 250, 251, 252, 253, 254, 255, 0, 17], dtype=np.uint8), d, o))
_case("libsock.Socket.toBytes('hello', 'char', 'big-endian')", lambda: S.toBytes("hello", "char", "big-endian"))
_case("libsock.Socket.toBytes([104 105], 'string', 'little-endian')", lambda: S.toBytes(np.array([104, 105]), "string", "little-endian"))
_case("libsock.Socket.fromBytes(uint8([104 105 33]), 'char', 'big-endian')", lambda: S.fromBytes(np.array([104, 105, 33], dtype=np.uint8), "char", "big-endian"))
_case("libsock.Socket.fromBytes(zeros(1, 0, 'uint8'), 'int32', 'little-endian')", lambda: S.fromBytes(np.zeros(0, np.uint8), "int32", "little-endian"))
_case("libsock.Socket.toMs(0.2)", lambda: S.toMs(0.2))
_case("libsock.Socket.toMs(0.0005)", lambda: S.toMs(0.0005))
_case("libsock.Socket.toMs(Inf)", lambda: S.toMs(float("inf")))
_case("libsock.Socket.toMs([])", lambda: S.toMs(None))
_case("libsock.Socket.toMs(1e9)", lambda: S.toMs(1e9))
_case("libsock.Socket.fromMs(int32(-1))", lambda: S.fromMs(np.int32(-1)))
_case("libsock.Socket.fromMs(int32(1500))", lambda: S.fromMs(np.int32(1500)))
_case("libsock.Socket.datatypeSize('Double')", lambda: S.datatypeSize("Double"))
_case("libsock.Socket.textBytes([13 10])", lambda: S.textBytes([13, 10]))
_case("libsock.Socket.textBytes(char([13 10]))", lambda: S.textBytes("\r\n"))
_case("libsock.Socket.optionCode('nodelay')", lambda: S.optionCode("nodelay"))
_case("libsock.Socket.optionCode('ReceiveBufferSize')", lambda: S.optionCode("ReceiveBufferSize"))
_case("libsock.Socket.optionCode('RecvBufferSize')", lambda: S.optionCode("RecvBufferSize"))
_case("libsock.Socket.optionCode('tcp_user_timeout')", lambda: S.optionCode("tcp_user_timeout"))
_case("libsock.Socket.optionCode(7)", lambda: S.optionCode(7))
_case("libsock.Socket.formatAddress('127.0.0.1', 5000)", lambda: S.formatAddress("127.0.0.1", 5000))
_case("libsock.Socket.formatAddress('::1', 80)", lambda: S.formatAddress("::1", 80))
_case("libsock.Socket.formatAddress('[::1]', 80)", lambda: S.formatAddress("[::1]", 80))
_case("libsock.Socket.formatAddress('unix:/tmp/x.sock', [])", lambda: S.formatAddress("unix:/tmp/x.sock", None))
_case("libsock.Socket.formatAddress('localhost:7')", lambda: S.formatAddress("localhost:7"))
_case("libsock.Socket.errorIdentifier('CONNECTION_REFUSED')", lambda: S.errorIdentifier("CONNECTION_REFUSED"))
_case("libsock.Socket.errorIdentifier('TIMEOUT')", lambda: S.errorIdentifier("TIMEOUT"))
_case("libsock.Socket.errorIdentifier('ADDR_NOT_AVAILABLE')", lambda: S.errorIdentifier("ADDR_NOT_AVAILABLE"))
_case("libsock.Socket.optArg({[], 5}, 1, 9)", lambda: S.optArg(([], 5), 1, 9))
_case("libsock.Socket.optArg({[], 5}, 2, 9)", lambda: S.optArg(([], 5), 2, 9))
_case("libsock.Socket.optArg({}, 3, 'x')", lambda: S.optArg((), 3, "x"))
_case("libsock.TcpClient.terminatorBytes('cr/lf')", lambda: T.terminatorBytes("cr/lf"))
_case("libsock.TcpClient.terminatorBytes('LF')", lambda: T.terminatorBytes("LF"))
_case("libsock.TcpClient.terminatorBytes(0)", lambda: T.terminatorBytes(0))
_case("libsock.TcpClient.normalizeTerminator('cr')", lambda: T.normalizeTerminator("cr"))
_case("nth(1, @() libsock.TcpClient.splitAddress('127.0.0.1:5000'))", lambda: T.splitAddress("127.0.0.1:5000")[0])
_case("nth(2, @() libsock.TcpClient.splitAddress('127.0.0.1:5000'))", lambda: T.splitAddress("127.0.0.1:5000")[1])
_case("nth(1, @() libsock.TcpClient.splitAddress('[::1]:80'))", lambda: T.splitAddress("[::1]:80")[0])
_case("nth(2, @() libsock.TcpClient.splitAddress('[::1]:80'))", lambda: T.splitAddress("[::1]:80")[1])
_case("nth(1, @() libsock.TcpClient.splitAddress('unix:/tmp/a'))", lambda: T.splitAddress("unix:/tmp/a")[0])
E = mm.EngineObject
for _k in range(0, 9):
    _case(f"libsock.EngineObject.kindName(int32({_k}))", lambda k=_k: E.kindName(k))
for _k in range(0, 12):
    _case(f"libsock.EngineObject.reasonName(int64({_k}))", lambda k=_k: E.reasonName(k))
_case("libsock.Server.defaultType('x')", lambda: mm.Server.defaultType("x"))
_case("libsock.Server.defaultType(1:3)", lambda: mm.Server.defaultType(np.arange(1, 4)))
for _expr, _py in (
    ("libsock.Socket.datatypeSize('float128')", lambda: S.datatypeSize("float128")),
    ("libsock.Socket.toMs(-1)", lambda: S.toMs(-1)),
    ("libsock.Socket.optionCode('Nope')", lambda: S.optionCode("Nope")),
    ("libsock.TcpClient.terminatorBytes('XX')", lambda: T.terminatorBytes("XX")),
    ("libsock.TcpClient.terminatorBytes(300)", lambda: T.terminatorBytes(300)),
    # (char(8364) is not tried: Octave's char is 8-bit; test_datatypes_both_byte_orders covers it)
):
    _case(_expr, _py)

OCTAVE_SCRIPT = r"""
function out = fmt(x)
  if ischar(x)
    out = ['char|' x];
  elseif islogical(x)
    out = ['logical|' sprintf('%d ', x)];
  else
    out = [class(x) '|' sprintf('%.17g ', double(x))];
  end
end
function v = nth(k, f)
  [a, b] = f();
  if k == 1, v = a; else, v = b; end
end
"""


def _fmt_python(x: Any) -> str:
    if isinstance(x, str):
        return "char|" + x
    if isinstance(x, (bool, np.bool_)):
        return "logical|%d " % x
    if isinstance(x, (int, float)) and not isinstance(x, np.generic):
        return "double|" + "%.17g " % x
    a = np.atleast_1d(np.asarray(x))
    cls = {np.dtype(v): k for k, v in ml.NP.items()}[a.dtype]
    return cls + "|" + "".join("%.17g " % float(v) for v in a)


def test_octave_runs_the_helper_methods_like_the_mirror(tmp_path: Any) -> None:
    octave = shutil.which("octave-cli")
    if octave is None:
        pytest.skip("octave-cli is not installed (optional: the calllib calls are compared textually anyway)")
    lines = [OCTAVE_SCRIPT]
    for key, expr, _ in HELPER_CASES:
        lines.append(f"try, r = {expr}; printf('%s=%s\\n', '{key}', fmt(r)); "
                     f"catch e, printf('%s=error|%s\\n', '{key}', e.identifier); end")
    script = tmp_path / "helpers.m"
    script.write_text("1;\n" + "\n".join(lines) + "\n")
    r = subprocess.run(
        [octave, "--no-gui", "--norc", "--quiet", "--no-window-system", str(script)],
        cwd=MATLAB, capture_output=True, text=True, timeout=300,
        env={**os.environ, "OCTAVE_PATH": os.path.join(HERE, "matlab", "octave")},
    )
    got = dict(line.split("=", 1) for line in r.stdout.splitlines() if re.match(r"c\d+=", line))
    assert len(got) == len(HELPER_CASES), r.stdout + r.stderr
    bad = []
    for key, expr, py in HELPER_CASES:
        try:
            want = _fmt_python(py())
        except MatlabError as e:
            want = "error|" + e.identifier
        if got[key].strip().lower() != want.strip().lower():
            bad.append(f"{expr}\n  octave: {got[key]}\n  mirror: {want}")
    assert not bad, "\n".join(bad)


def _octave_gateway(lib: str, tmp_path: Any) -> dict:
    """Build the MEX gateway generated from the header into tmp_path; the environment that
    runs Octave with the loadlibrary/calllib stand-ins over it."""
    octave, mkoct = shutil.which("octave-cli"), shutil.which("mkoctfile")
    if octave is None or mkoct is None:
        pytest.skip("octave-cli/mkoctfile are not installed (optional; .ci/suites/46-matlab.sh installs them)")
    libdir = tmp_path / "lib"
    libdir.mkdir()
    for name in ("libsock.so", "libsock.so.0"):  # the SONAME carries the ABI version
        os.symlink(os.path.abspath(lib), libdir / name)
    shims = os.path.join(HERE, "matlab", "octave")
    subprocess.run([sys.executable, os.path.join(shims, "gen_octave_calllib.py"), str(tmp_path)], check=True)
    r = subprocess.run(
        [mkoct, "--mex", f"-I{os.path.join(ROOT, 'include')}", "libsock_mex.c",
         f"-L{libdir}", "-lsock", f"-Wl,-rpath,{libdir}"],
        cwd=tmp_path, capture_output=True, text=True, timeout=600,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    return {**os.environ, "LIBSOCK_LIBRARY": os.path.abspath(lib), "OCTAVE_PATH": f"{shims}:{tmp_path}"}


def test_octave_runs_the_matlab_classes_s01_s12(lib: str, tmp_path: Any) -> None:
    """The .m files themselves, run: Octave executes bindings/matlab/tests/libsock_selftest.m
    (S01-S12, libsock on both ends) and examples/echo_example.m against libsock.so, with
    loadlibrary/calllib/libpointer stand-ins (python-tests/matlab/octave) over a MEX gateway
    generated from the header. Octave has no string class, hence the classes compare text with
    strcmp; MATLAB-only lines (MException, throwAsCaller) are not run here."""
    octave, mkoct = shutil.which("octave-cli"), shutil.which("mkoctfile")
    if octave is None or mkoct is None:
        pytest.skip("octave-cli/mkoctfile are not installed (optional; .ci/suites/46-matlab.sh installs them)")
    env = _octave_gateway(lib, tmp_path)
    mb = os.environ.get("LS_TEST_S04_MB", "64")
    code = (f"addpath('{os.path.join(MATLAB, 'tests')}'); warning('off', 'all'); "
            f"f = libsock_selftest({mb}); run('{os.path.join(MATLAB, 'examples', 'echo_example.m')}'); "
            "exit(f > 0);")
    r = subprocess.run(
        [octave, "--no-gui", "--norc", "--quiet", "--no-window-system", "--eval", code],
        cwd=tmp_path, capture_output=True, text=True, timeout=900,
        env=env,
    )
    out = r.stdout
    print(out)
    assert "matlab-selftest: 12 passed, 0 failed" in out, out + r.stderr
    assert "echo_example: ok" in out, out + r.stderr
    assert r.returncode == 0, out + r.stderr


def test_octave_runs_the_engine_classes_s13_s16(lib: str, tmp_path: Any) -> None:
    """The engine classes themselves under Octave: bindings/matlab/tests/libsock_engine_selftest.m
    (S13 with 50 libsock.TcpClient clients x 100 messages, S14 broadcast to 50, S15 reconnect,
    S16 heartbeat, EngineConfig, shutdownEngine) and examples/server_example.m (the timer
    callback called from a loop: Octave has no timer)."""
    env = _octave_gateway(lib, tmp_path)
    n = os.environ.get("LS_TEST_S13_CLIENTS", "50")
    code = (f"addpath('{os.path.join(MATLAB, 'tests')}'); addpath('{os.path.join(MATLAB, 'examples')}'); "
            f"warning('off', 'all'); f = libsock_engine_selftest({n}, 100); server_example(false); "
            "exit(f > 0);")
    r = subprocess.run(
        [shutil.which("octave-cli"), "--no-gui", "--norc", "--quiet", "--no-window-system", "--eval", code],
        cwd=tmp_path, capture_output=True, text=True, timeout=900, env=env,
    )
    out = r.stdout
    print(out)
    assert "matlab-engine-selftest: 7 passed, 0 failed" in out, out + r.stderr
    assert "server_example: ok" in out, out + r.stderr
    assert r.returncode == 0, out + r.stderr


def test_octave_runs_the_bad_input_table(lib: str, tmp_path: Any) -> None:
    """The rows of the bad-input catalogue (tests-data/bad_inputs.json) that list "octave",
    through the MATLAB classes under Octave: bindings/matlab/tests/libsock_bad_inputs_selftest.m
    (malformed addresses, absurd framings and engine settings, a message over max_len; each must
    end in its documented libsock:* error, pending rows reported without failing)."""
    env = _octave_gateway(lib, tmp_path)
    table = os.path.join(ROOT, "tests-data", "bad_inputs.json")
    code = (f"addpath('{os.path.join(MATLAB, 'tests')}'); warning('off', 'all'); "
            f"f = libsock_bad_inputs_selftest('{table}'); exit(f > 0);")
    r = subprocess.run(
        [shutil.which("octave-cli"), "--no-gui", "--norc", "--quiet", "--no-window-system", "--eval", code],
        cwd=tmp_path, capture_output=True, text=True, timeout=300, env=env,
    )
    out = r.stdout
    print(out)
    assert re.search(r"matlab-bad-inputs: [1-9]\d* rows tried, \d+ ended in their documented outcome, "
                     r"\d+ pending \(another kind, defect still open\), 0 wrong", out), out + r.stderr
    assert r.returncode == 0, out + r.stderr
