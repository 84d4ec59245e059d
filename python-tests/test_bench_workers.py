"""The benchmark workers (``python3 bench/py/worker.py``, bench/PROTOCOL.md) with the installed
libsock package: every implementation x workload at tiny sizes as two real processes on
loopback; peers that corrupt what they echo make the worker fail (exit 1, ``ok`` false); a peer
that never answers fails within ``--timeout``; unsupported combinations exit 3 with a reason.

Nothing here measures speed: only counts, validation and exit codes are asserted.
"""

from __future__ import annotations

import json
import socket
import struct
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, Callable, Optional

import pytest

WORKER = [sys.executable, str(Path(__file__).resolve().parent.parent / "bench" / "py" / "worker.py")]
IMPLS = ["py-libsock", "py-engine", "py-stdlib", "py-asyncio", "py-uvloop", "py-zmq"]
TCP_IMPLS = ["py-libsock", "py-engine", "py-stdlib", "py-asyncio", "py-uvloop"]
UDP_IMPLS = ["py-libsock", "py-engine", "py-stdlib", "py-asyncio", "py-uvloop"]
T = 60  # subprocess limit; the workers' own --timeout is smaller
WT = "10"  # the workers' --timeout

# Tiny parameters per workload (bulk's byte count is not a multiple of the chunk on purpose).
PARAMS = {
    "pingpong": ["--size", "64", "--count", "50", "--nodelay", "1"],
    "bulk": ["--bytes", str(3 * 65536 + 1234), "--chunk", "65536"],
    "framed": ["--size", "100", "--count", "3000", "--batch", "64"],
    "udp-flood": ["--size", "64", "--count", "200"],
    "udp-drain": ["--size", "64", "--count", "300"],
    "udp-echo": ["--size", "64", "--count", "50"],
    "udp-bulk": ["--size", "1200", "--count", "200", "--batch", "64", "--offload", "1"],
}

EXPECTED_SKIPS = {("py-engine", "bulk"), ("py-engine", "udp-drain"), ("py-zmq", "udp-flood"),
                  ("py-zmq", "udp-drain"), ("py-zmq", "udp-echo"), ("py-engine", "udp-bulk"),
                  ("py-asyncio", "udp-bulk"), ("py-uvloop", "udp-bulk"), ("py-zmq", "udp-bulk")}


def have(module: str) -> bool:
    """True when ``module`` imports in this interpreter."""
    try:
        __import__(module)
        return True
    except ImportError:
        return False


def one_json(out: str) -> dict:
    """The single JSON line a worker printed (after READY for a server)."""
    lines = [ln for ln in out.splitlines() if ln.strip() and not ln.startswith("READY ")]
    assert len(lines) == 1, f"expected one JSON line, got {out!r}"
    return json.loads(lines[0])


def start_server(impl: str, workload: str, params: list) -> tuple:
    """Start a worker server; return (process, port) once it printed READY (or its skip line).

    Its stdin is a pipe: a udp-drain server waits for ``GO`` there (see ``go``)."""
    p = subprocess.Popen(WORKER + [impl, "server", workload, *params, "--timeout", WT],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    assert p.stdout is not None
    box: list[str] = []  # readline, bounded: a worker that never prints must not stall the suite
    reader = threading.Thread(target=lambda: box.append(p.stdout.readline()), daemon=True)  # type: ignore[union-attr]
    reader.start()
    reader.join(T)
    if not box:
        p.kill()
    line = box[0] if box else "(no line within %d s)\n" % T
    if not line.startswith("READY "):
        out, err = p.communicate(timeout=T)
        return p, None, line + out, err
    return p, int(line.split()[1]), "", ""


def finish_server(p: subprocess.Popen, stdin: Optional[str] = None) -> tuple:
    """Wait for a worker server (writing ``stdin`` to it first, e.g. ``GO``); return (exit
    code, result, stderr)."""
    try:
        out, err = p.communicate(stdin, timeout=T)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate(timeout=T)
        pytest.fail(f"server did not finish: {err}")
    return p.returncode, one_json(out), err


def run_client(impl: str, workload: str, port: int, params: list, timeout: str = WT) -> tuple:
    """Run a worker client to the end; return (exit code, result, stderr)."""
    r = subprocess.run(WORKER + [impl, "client", workload, "--port", str(port), *params,
                                 "--timeout", timeout],
                       capture_output=True, text=True, timeout=T)
    return r.returncode, one_json(r.stdout), r.stderr


def skip_if_missing(impl: str) -> None:
    """Skip a test whose implementation's module is not installed (the worker would exit 3)."""
    if impl == "py-uvloop" and not have("uvloop"):
        pytest.skip("uvloop not installed")
    if impl == "py-zmq" and not have("zmq"):
        pytest.skip("pyzmq not installed")


# ------------------------------------------------------------------------------ every pair


@pytest.mark.parametrize("workload", list(PARAMS))
@pytest.mark.parametrize("impl", IMPLS)
def test_pair(impl: str, workload: str) -> None:
    """Server and client of one implementation run the workload; results are ok with the counts."""
    skip_if_missing(impl)
    params = PARAMS[workload]
    srv, port, out, err = start_server(impl, workload, params)
    if (impl, workload) in EXPECTED_SKIPS:
        assert port is None and srv.returncode == 3, (out, err)
        res = one_json(out)
        assert res["ok"] is False and res["skip"], res
        rc, cres, _ = run_client(impl, workload, 9, params)
        assert rc == 3 and cres["ok"] is False and cres["skip"], cres
        return
    assert port is not None, (out, err)
    # The UDP receivers' client is the shared sender (py-libsock's send_many one), as in the suite.
    client_impl = "py-libsock" if workload in ("udp-flood", "udp-drain") else impl
    crc, cres, cerr = run_client(client_impl, workload, port, params)
    # udp-drain: the driver says GO once the sender has exited; the others ignore stdin.
    src, sres, serr = finish_server(srv, "GO\n" if workload == "udp-drain" else None)
    assert crc == 0 and cres["ok"] is True, (cres, cerr, sres, serr)
    assert src == 0 and sres["ok"] is True, (sres, serr)
    if workload in ("pingpong", "udp-echo"):
        assert cres["count"] == 50 and cres["rt_per_s"] > 0 and cres["secs"] > 0
        assert sres["count"] >= 50
    elif workload == "framed":
        assert cres["count"] == 3000 and cres["msgs_per_s"] > 0
        assert sres["count"] == 3000
    elif workload == "bulk":
        assert cres["bytes"] == 3 * 65536 + 1234 and cres["mib_per_s"] > 0
        assert sres["bytes"] == 3 * 65536 + 1234
    elif workload == "udp-flood":
        assert cres["sent"] == 200
        assert 0 < sres["received"] <= 200 and sres["rx_per_s"] > 0
    elif workload == "udp-bulk":
        assert cres["sent"] == 200 and cres["tx_per_s"] > 0
        assert 0 < sres["received"] <= 200 and sres["rx_per_s"] > 0
    elif workload == "udp-drain":
        assert cres["sent"] == 300
        assert sres["rcvbuf"] > 0 and sres["rx_per_s"] > 0, sres
        if sres["rcvbuf"] >= 300 * 2048:  # forced (root): the whole flood waited (~1 KiB each)
            assert sres["received"] == 300, sres
        else:  # SO_RCVBUF fallback, capped by net.core.rmem_max: what fitted
            assert 0 < sres["received"] <= 300, sres


@pytest.mark.parametrize("impl", ["py-stdlib", "py-asyncio", "py-engine"])
def test_plain_udp_flood_sender(impl: str) -> None:
    """The other implementations' udp-flood client (a plain send loop) feeds a libsock receiver."""
    params = PARAMS["udp-flood"]
    srv, port, out, err = start_server("py-libsock", "udp-flood", params)
    assert port is not None, (out, err)
    crc, cres, cerr = run_client(impl, "udp-flood", port, params)
    src, sres, serr = finish_server(srv)
    assert crc == 0 and cres == {"ok": True, "sent": 200, "tx_secs": cres["tx_secs"]}, cerr
    assert src == 0 and 0 < sres["received"] <= 200, (sres, serr)


# ---------------------------------------------------------------------- corrupting peers


class FakeServer:
    """A stdlib peer in a thread: binds 127.0.0.1:0 and runs ``serve(listening socket)``."""

    def __init__(self, serve: Callable[[socket.socket], None], kind: int = socket.SOCK_STREAM):
        self.sock = socket.socket(socket.AF_INET, kind)
        self.sock.bind(("127.0.0.1", 0))
        if kind == socket.SOCK_STREAM:
            self.sock.listen(4)
        self.sock.settimeout(20)
        self.port = self.sock.getsockname()[1]
        self.error: Optional[BaseException] = None
        self.thread = threading.Thread(target=self._run, args=(serve,), daemon=True)
        self.thread.start()

    def _run(self, serve: Callable[[socket.socket], None]) -> None:
        try:
            serve(self.sock)
        except OSError as e:  # the client gave up and closed: expected in these tests
            self.error = e
        finally:
            self.sock.close()

    def join(self) -> None:
        self.thread.join(20)


def recv_exactly(c: socket.socket, n: int) -> bytes:
    """Read exactly ``n`` bytes (b"" at end of stream)."""
    b = b""
    while len(b) < n:
        r = c.recv(n - len(b))
        if not r:
            return b""
        b += r
    return b


def pingpong_flipper(lst: socket.socket) -> None:
    """Echo 64-byte pings, flipping one payload byte of the fifth."""
    c, _ = lst.accept()
    i = 0
    while True:
        b = recv_exactly(c, 64)
        if not b:
            return
        if i == 4:
            b = b[:20] + bytes([b[20] ^ 1]) + b[21:]
        c.sendall(b)
        i += 1


def framed_reorderer(lst: socket.socket) -> None:
    """Echo 4-byte-length frames but swap the first two messages."""
    c, _ = lst.accept()
    first = b""
    i = 0
    while True:
        hdr = recv_exactly(c, 4)
        if not hdr:
            return
        body = recv_exactly(c, struct.unpack(">I", hdr)[0])
        if i == 0:
            first = hdr + body
        elif i == 1:
            c.sendall(hdr + body + first)
        else:
            c.sendall(hdr + body)
        i += 1


def bulk_miscounter(lst: socket.socket) -> None:
    """Count the stream but answer one byte more."""
    c, _ = lst.accept()
    n = 0
    while True:
        b = c.recv(65536)
        if not b:
            break
        n += len(b)
    c.sendall(struct.pack("<Q", n + 1))
    c.close()


def udp_flipper(s: socket.socket) -> None:
    """Echo the first datagram with its last byte flipped (the client fails on it)."""
    b, peer = s.recvfrom(65536)
    s.sendto(b[:-1] + bytes([b[-1] ^ 1]), peer)


def silent(lst: socket.socket) -> None:
    """Accept and never answer; keep the connection until the client leaves."""
    c, _ = lst.accept()
    c.settimeout(30)
    while c.recv(65536):
        pass


CORRUPTIONS = [
    ("pingpong", pingpong_flipper, socket.SOCK_STREAM, "echo 4"),
    ("framed", framed_reorderer, socket.SOCK_STREAM, "expected sequence 0"),
    ("bulk", bulk_miscounter, socket.SOCK_STREAM, "counted"),
    ("udp-echo", udp_flipper, socket.SOCK_DGRAM, "echo 0"),
]


@pytest.mark.parametrize("impl,workload,serve,kind,words", [
    (impl, *c) for c in CORRUPTIONS for impl in TCP_IMPLS if (impl, c[0]) not in EXPECTED_SKIPS
])
def test_corrupting_server_fails_client(impl: str, workload: str, serve: Any, kind: int,
                                         words: str) -> None:
    """A server that echoes something else makes the client fail: exit 1, ok false, why."""
    skip_if_missing(impl)
    fake = FakeServer(serve, kind)
    rc, res, err = run_client(impl, workload, fake.port, PARAMS[workload])
    fake.join()
    assert rc == 1 and res["ok"] is False, (res, err)
    assert words in res["error"], res


@pytest.mark.parametrize("impl", TCP_IMPLS)
def test_silent_server_times_out(impl: str) -> None:
    """A server that never answers fails the client within --timeout instead of hanging it."""
    skip_if_missing(impl)
    fake = FakeServer(silent)
    rc, res, err = run_client(impl, "pingpong", fake.port, PARAMS["pingpong"], timeout="1")
    fake.join()
    assert rc == 1 and res["ok"] is False and res["error"], (res, err)


def zmq_peer(mode: str) -> tuple:
    """A zmq PAIR peer in a thread: ``flip`` alters the 5th echo, ``reorder`` swaps two."""
    import zmq

    ctx = zmq.Context()
    s = ctx.socket(zmq.PAIR)
    s.setsockopt(zmq.RCVTIMEO, 200)
    s.setsockopt(zmq.LINGER, 0)
    port = s.bind_to_random_port("tcp://127.0.0.1")
    stop = threading.Event()

    def run() -> None:
        held = b""
        i = 0
        try:
            while not stop.is_set():
                try:
                    m = s.recv()
                except zmq.Again:
                    continue
                if not m:
                    return
                if mode == "flip" and i == 4:
                    m = m[:-1] + bytes([m[-1] ^ 1])
                if mode == "reorder" and i == 0:
                    held = m
                elif mode == "reorder" and i == 1:
                    s.send(m)
                    s.send(held)
                elif mode == "silent":
                    pass
                else:
                    s.send(m)
                i += 1
        finally:
            s.close()
            ctx.term()

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return port, t, stop


@pytest.mark.parametrize("workload,mode,words", [("pingpong", "flip", "echo 4"),
                                                 ("framed", "reorder", "expected sequence 0"),
                                                 ("pingpong", "silent", "")])
def test_zmq_corrupting_peer_fails_client(workload: str, mode: str, words: str) -> None:
    """The zmq client checks every echo and gives up on a silent peer."""
    skip_if_missing("py-zmq")
    port, t, stop = zmq_peer(mode)
    rc, res, err = run_client("py-zmq", workload, port, PARAMS[workload],
                              timeout="1" if mode == "silent" else WT)
    stop.set()
    t.join(20)
    assert rc == 1 and res["ok"] is False, (res, err)
    assert words in res["error"], res


@pytest.mark.parametrize("impl,workload", [(i, w) for w in ("udp-flood", "udp-drain")
                                           for i in UDP_IMPLS if (i, w) not in EXPECTED_SKIPS])
def test_flood_receiver_rejects_bad_datagram(impl: str, workload: str) -> None:
    """A udp-flood / udp-drain receiver fails on a datagram of the wrong size."""
    skip_if_missing(impl)
    srv, port, out, err = start_server(impl, workload, PARAMS[workload])
    assert port is not None, (out, err)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.sendto(struct.pack("<Q", 1) + b"x" * 60, ("127.0.0.1", port))
        s.sendto(struct.pack("<Q", 2) + b"x" * 70, ("127.0.0.1", port))
        s.sendto(b"\xff" * 8, ("127.0.0.1", port))
    rc, res, serr = finish_server(srv, "GO\n" if workload == "udp-drain" else None)
    assert rc == 1 and res["ok"] is False and "expected 64 bytes" in res["error"], (res, serr)


@pytest.mark.parametrize("impl", [i for i in IMPLS if (i, "bulk") not in EXPECTED_SKIPS])
def test_bulk_server_rejects_wrong_head(impl: str) -> None:
    """A bulk server fails when the stream does not begin with the byte count."""
    skip_if_missing(impl)
    params = ["--bytes", "1000", "--chunk", "65536"]
    srv, port, out, err = start_server(impl, "bulk", params)
    assert port is not None, (out, err)
    payload = struct.pack("<Q", 999) + b"\xa5" * 992
    if impl == "py-zmq":
        import zmq

        ctx = zmq.Context()
        z = ctx.socket(zmq.PAIR)
        z.setsockopt(zmq.LINGER, 2000)
        z.connect(f"tcp://127.0.0.1:{port}")
        z.send(payload)
        z.send(b"")
        rc, res, serr = finish_server(srv)
        z.close()
        ctx.term()
    else:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as c:
            c.sendall(payload)
            c.shutdown(socket.SHUT_WR)
            rc, res, serr = finish_server(srv)
    assert rc == 1 and res["ok"] is False and "999" in res["error"], (res, serr)


# ------------------------------------------------------------------------ protocol details


def test_bad_parameters_fail() -> None:
    """Parameters a workload cannot honour are a failed run, not a crash."""
    r = subprocess.run(WORKER + ["py-stdlib", "server", "pingpong", "--size", "4"],
                       capture_output=True, text=True, timeout=T)
    assert r.returncode == 1 and json.loads(r.stdout)["ok"] is False
    r = subprocess.run(WORKER + ["py-libsock", "client", "framed"],
                       capture_output=True, text=True, timeout=T)
    assert r.returncode == 1 and "--port" in json.loads(r.stdout)["error"]


@pytest.mark.parametrize("impl", ["py-libsock", "py-stdlib", "py-asyncio"])
def test_drain_server_needs_go(impl: str) -> None:
    """A udp-drain server whose stdin ends without GO fails instead of draining (or hanging)."""
    srv, port, out, err = start_server(impl, "udp-drain", PARAMS["udp-drain"])
    assert port is not None, (out, err)
    rc, res, serr = finish_server(srv, "STOP\n")
    assert rc == 1 and res["ok"] is False and "GO" in res["error"], (res, serr)


def test_refused_connection_fails() -> None:
    """A client whose server is gone fails at once with ok false."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    for impl in ("py-libsock", "py-stdlib", "py-asyncio"):
        rc, res, err = run_client(impl, "pingpong", port, PARAMS["pingpong"])
        assert rc == 1 and res["ok"] is False and res["error"], (impl, res, err)
