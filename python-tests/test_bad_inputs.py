"""The bad-input catalogue (tests-data/bad_inputs.json), Python door: every row that lists
"python" must end in its documented outcome, in bounded time, without crashing the process.

Rows run in a worker process (this file run as a script with ``--worker``), one after another;
the test sends a row, waits at most ``ROW_DEADLINE`` seconds for its outcome, and restarts the
worker when a row killed it. So an abort, a segfault or a hang fails that row only, and the
rows after it still run. A row marked ``pending`` (a defect the core is being fixed for) is an
expected failure while its outcome is merely a different kind; a crash or a hang fails it anyway.

``python3 python-tests/test_bad_inputs.py`` (no pytest) runs every Python row the same way and
prints each outcome and the totals: tried / clean errors / crashes / hangs.
"""

from __future__ import annotations

import json
import math
import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
import time
from typing import Any, Callable, Iterator, Optional, Union

HERE = os.path.dirname(os.path.abspath(__file__))
TABLE = os.path.join(os.path.dirname(HERE), "tests-data", "bad_inputs.json")
DOOR = "python"
# A row does one small thing; generous for a loaded CI machine and a slow resolver.
ROW_DEADLINE = 30.0
KNOWN_OPS = {
    "connect", "listen", "udp_bind", "udp_send_to", "resolve", "set_timeout", "recv", "accept",
    "framing", "set_option", "send_msg", "recv_msgs", "recv_msg_small", "recv_n", "peer_bytes",
    "engine_peer_bytes", "engine_config", "engine_send", "engine_events", "use_after_close",
}


def load_table(path: str = TABLE) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as f:
        rows: list[dict[str, Any]] = json.load(f)["rows"]
    return rows


def expected(row: dict[str, Any]) -> list[str]:
    e = row["expect"]
    return list(e) if isinstance(e, list) else [e]


# ------------------------------------------------------------------------------------------
# The executors (run in the worker process): each returns an outcome name.


def value(v: Any) -> Any:
    """A table value: text, {"hex": ...} bytes, {"text", "repeat", "times", "then"}, or
    {"text", "surrogate"} (text and a lone surrogate: a str that is not Unicode text)."""
    if isinstance(v, dict):
        if "hex" in v:
            return bytes.fromhex(v["hex"])
        if "surrogate" in v:
            return str(v.get("text", "")) + chr(int(v["surrogate"], 16))
        return str(v.get("text", "")) + str(v["repeat"]) * int(v["times"]) + str(v.get("then", ""))
    return v


def seconds(inp: dict[str, Any], default: Optional[float] = None) -> Optional[float]:
    if "timeout_s" in inp:
        s = inp["timeout_s"]
        return float(s) if isinstance(s, str) else s
    if "timeout_ms" in inp:
        return float(inp["timeout_ms"]) / 1000.0
    return default


def framing(spec: dict[str, Any]) -> Any:
    import libsock

    kind = spec["kind"]
    if kind == "length":
        kw: dict[str, Any] = {}
        for k in ("width", "offset", "header_len", "adjustment", "max_len", "length_bits", "flag", "keep_header"):
            if k in spec:
                kw[k] = spec[k]
        if "byteorder" in spec:
            kw["byteorder"] = spec["byteorder"]
        elif "big_endian" in spec:
            kw["byteorder"] = "big" if spec["big_endian"] else "little"
        return libsock.LengthPrefixed(**kw)
    if kind == "delimited":
        kw = {"keep_delimiter": bool(spec.get("keep", False))}
        if "max_len" in spec:
            kw["max_len"] = spec["max_len"]
        d = value(spec["delimiter"])
        return libsock.Delimited(d.encode() if isinstance(d, str) else d, **kw)
    if kind == "fixed":
        return libsock.Fixed(spec["size"])
    if kind == "hp_pack":
        kw = {k: spec[k] for k in ("flag", "max_len") if k in spec}
        return libsock.HpPack(**kw)
    if kind == "raw":
        return libsock.Raw()
    raise KeyError(f"framing kind {kind!r}")


def kind_name(code: int) -> str:
    import libsock

    for name, c in libsock.ERROR_CODES.items():
        if c == code:
            return name
    return "BAD_FRAME" if code == -20 else f"CODE{code}"


def tcp_pair() -> tuple[Any, Any]:
    """A libsock TCP connection and the one its listener accepted (loopback)."""
    import libsock

    with libsock.listen(("127.0.0.1", 0)) as server:
        client = libsock.connect(server.address, connect_timeout=10)
        conn, _ = server.accept(timeout=10)
    return client, conn


def engine_kwargs(settings: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """(address, keyword arguments) of Server/Client/DatagramServer for the table's settings."""
    import libsock

    kw: dict[str, Any] = {}
    address = settings.get("address")
    for k in ("max_clients", "send_queue_bytes", "event_capacity", "backlog", "max_attempts", "max_datagram"):
        if k in settings:
            kw[k] = settings[k]
    if "send_policy" in settings:
        kw["send_policy"] = {0: "error", 1: "disconnect"}.get(settings["send_policy"], "no-such-policy")
    for k in ("idle_timeout", "close_timeout", "connect_timeout"):
        if k + "_ms" in settings:
            kw[k] = settings[k + "_ms"] / 1000.0
    if any(k.startswith("heartbeat_") for k in settings):
        hb: dict[str, Any] = {}
        if "heartbeat_misses" in settings:
            hb["misses"] = settings["heartbeat_misses"]
        for k in ("ping", "pong"):
            if "heartbeat_" + k in settings:
                p = value(settings["heartbeat_" + k])
                hb[k] = p.encode() if isinstance(p, str) else p
        kw["heartbeat"] = libsock.Heartbeat(settings.get("heartbeat_interval_ms", 1000) / 1000.0, **hb)
    if "backoff_min_ms" in settings or "backoff_max_ms" in settings:
        kw["backoff"] = (settings.get("backoff_min_ms", 100) / 1000.0, settings.get("backoff_max_ms", 10000) / 1000.0)
    if "framing" in settings:
        kw["framing"] = framing(settings["framing"])
    return address, kw


def make_engine(obj: str, settings: dict[str, Any]) -> Any:
    import libsock

    address, kw = engine_kwargs(settings)
    if obj == "server":
        return libsock.Server(address or "127.0.0.1:0", **kw)
    if obj == "client":
        # Nobody listens on port 1 of loopback: the client keeps trying, which is harmless.
        return libsock.Client(address or "127.0.0.1:1", **kw)
    if obj == "dgram":
        return libsock.DatagramServer(address or "127.0.0.1:0", **kw)
    raise KeyError(f"engine object {obj!r}")


def wait_event(obj: Any, kind: str, within: float = 10.0) -> Any:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        for ev in obj.events(timeout=0.1):
            if ev.kind == kind:
                return ev
    raise AssertionError(f"no {kind} event within {within} s")


def run_row(row: dict[str, Any]) -> str:
    """Do what the row says; return "OK", a kind name, "DISCONNECTED:<reason>" or "PY:<class>"."""
    import libsock

    try:
        execute(row["op"], row["input"])
        return "OK"
    except libsock.Error as e:
        return kind_name(e.code)
    except Disconnected as d:
        return f"DISCONNECTED:{d.reason}"
    except BaseException as e:  # noqa: BLE001 - the outcome is the class name
        return f"PY:{type(e).__name__}"


class Disconnected(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def execute(op: str, inp: dict[str, Any]) -> None:
    import libsock

    if op == "connect":
        libsock.connect(value(inp["address"]), connect_timeout=seconds(inp, 5.0)).close()
    elif op == "listen":
        kw = {"backlog": inp["backlog"]} if "backlog" in inp else {}
        libsock.listen(value(inp["address"]), **kw).close()
    elif op == "udp_bind":
        libsock.udp(value(inp["address"])).close()
    elif op == "udp_send_to":
        with libsock.udp(("127.0.0.1", 0)) as d:
            d.send_to(b"x", value(inp["address"]))
    elif op == "resolve":
        libsock.resolve(value(inp["host"]), inp["port"], timeout=10)
    elif op in ("set_timeout", "recv", "recv_n", "framing", "send_msg", "recv_msgs", "recv_msg_small", "peer_bytes"):
        a, b = libsock.Connection.pair()
        with a, b:
            pair_op(op, inp, a, b)
    elif op == "accept":
        with libsock.listen(("127.0.0.1", 0)) as server:
            server.accept(timeout=seconds(inp))
    elif op == "set_option":
        if inp.get("socket") == "udp":
            with libsock.udp(("127.0.0.1", 0)) as d:
                d.set_option(inp["name"], inp["value"])
        else:
            a, b = tcp_pair()
            with a, b:
                a.set_option(inp["name"], inp["value"])
    elif op == "engine_peer_bytes":
        with libsock.Server("127.0.0.1:0", framing=framing(inp["framing"])) as server:
            with socket.create_connection(server.address, timeout=10) as peer:
                wait_event(server, "connected")
                peer.sendall(value(inp["bytes"]))
                peer.shutdown(socket.SHUT_WR)
                ev = wait_event(server, "disconnected")
                raise Disconnected(str(ev.reason).upper().replace("-", "_"))
    elif op == "engine_config":
        make_engine(inp["object"], inp["settings"]).close()
    elif op == "engine_send":
        obj = make_engine(inp["object"], inp["settings"])
        with obj:
            data = b"x" * inp["size"]
            if inp["object"] == "client":
                obj.send(data)
            else:
                with socket.create_connection(obj.address, timeout=10):
                    ev = wait_event(obj, "connected")
                    obj.send(ev.client, data)
    elif op == "engine_events":
        with libsock.Server("127.0.0.1:0") as server:
            server.events(timeout=seconds(inp), max=inp["max"])
    elif op == "use_after_close":
        use_after_close(inp["object"], inp["call"])
    else:
        raise KeyError(f"no executor for op {op!r}")


def pair_op(op: str, inp: dict[str, Any], a: Any, b: Any) -> None:
    import libsock

    if op == "set_timeout":
        a.settimeout(seconds(inp))
    elif op == "recv":
        a.recv(1, timeout=seconds(inp))
    elif op == "recv_n":
        a.recv(inp["n"], timeout=0.1)
    elif op == "framing":
        a.framing = framing(inp["framing"])
    elif op == "send_msg":
        a.framing = framing(inp["framing"])
        a.send_msg(b"x" * inp["size"], timeout=5)
    elif op == "recv_msgs":
        a.framing = libsock.LengthPrefixed()
        a.recv_msgs(inp["max"], timeout=0.1)
    elif op == "recv_msg_small":
        a.framing = b.framing = libsock.LengthPrefixed()
        a.send_msg(b"x" * inp["size"], timeout=5)
        b.recv_msg_into(bytearray(inp["cap"]), timeout=10)
    elif op == "peer_bytes":
        a.sendall(value(inp["bytes"]), timeout=5)
        a.close()
        b.framing = framing(inp["framing"])
        b.recv_msg(timeout=10)


def use_after_close(obj: str, call: str) -> None:
    import libsock

    if obj == "connection":
        a, b = libsock.Connection.pair()
        b.close()
        a.close()
        {"recv": lambda: a.recv(1, timeout=1), "send": lambda: a.send(b"x"), "close": a.close}[call]()
    elif obj == "listener":
        lst = libsock.listen(("127.0.0.1", 0))
        lst.close()
        {"accept": lambda: lst.accept(timeout=1), "close": lst.close}[call]()
    elif obj in ("server", "client"):
        o = make_engine(obj, {})
        o.close()
        if call == "send":
            o.send(1, b"x") if obj == "server" else o.send(b"x")
        elif call == "close":
            o.close()
    elif obj == "abort" and os.environ.get("LS_BAD_INPUTS_SELF_TEST"):
        os.abort()  # the runner's self-test: a crashing row
    elif obj == "sleep" and os.environ.get("LS_BAD_INPUTS_SELF_TEST"):
        time.sleep(3600)  # the runner's self-test: a hanging row
    else:
        raise KeyError(f"use_after_close object {obj!r}")


def worker() -> None:
    """Read rows (JSON lines) on stdin, write "RESULT <outcome>" lines on stdout."""
    out = sys.stdout
    for line in sys.stdin:
        row = json.loads(line)
        outcome = run_row(row)
        out.write(f"RESULT {json.dumps({'id': row['id'], 'outcome': outcome})}\n")
        out.flush()


# ------------------------------------------------------------------------------------------
# The runner (pytest process): one worker at a time, restarted after a crash or a hang.


class Worker:
    def __init__(self) -> None:
        self.stderr = tempfile.TemporaryFile()
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "RUST_BACKTRACE": "0"}
        self.proc = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "--worker"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr, env=env,
            # Ctrl-C at the terminal goes to pytest, which kills the worker in close().
            start_new_session=True,
        )
        self.buf = b""

    def ask(self, row: dict[str, Any], deadline: float = ROW_DEADLINE) -> tuple[str, str]:
        """("outcome", name) | ("crash", how) | ("hang", how)."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        try:
            self.proc.stdin.write((json.dumps(row) + "\n").encode())
            self.proc.stdin.flush()
        except BrokenPipeError:
            return "crash", self.died()
        end = time.monotonic() + deadline
        while True:
            while b"\n" in self.buf:
                line, self.buf = self.buf.split(b"\n", 1)
                if line.startswith(b"RESULT "):
                    got = json.loads(line[7:])
                    if got["id"] == row["id"]:
                        return "outcome", str(got["outcome"])
            left = end - time.monotonic()
            if left <= 0:
                self.close()
                return "hang", f"no outcome within {deadline:.0f} s (worker killed)"
            ready, _, _ = select.select([fd], [], [], left)
            if ready:
                chunk = os.read(fd, 65536)
                if not chunk:
                    return "crash", self.died()
                self.buf += chunk

    def died(self) -> str:
        try:
            rc = self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.close()
            return "the worker closed its output but did not exit"
        self.stderr.seek(0)
        tail = self.stderr.read()[-1500:].decode(errors="replace")
        how = f"killed by signal {signal.Signals(-rc).name}" if rc < 0 else f"exit status {rc}"
        return f"the worker died ({how}); its stderr ends with:\n{tail}"

    def alive(self) -> bool:
        return self.proc.poll() is None

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        for f in (self.proc.stdin, self.proc.stdout):
            if f is not None:
                try:
                    f.close()
                except OSError:
                    pass
        self.stderr.close()


class Runner:
    """Runs rows through a worker, restarting it as needed; keeps the tally."""

    def __init__(self) -> None:
        self.worker: Optional[Worker] = None
        self.tally = {"tried": 0, "clean": 0, "mismatch": 0, "pending": 0, "crash": 0, "hang": 0}
        self.bad: list[str] = []

    def run(self, row: dict[str, Any]) -> tuple[str, str]:
        if self.worker is None or not self.worker.alive():
            if self.worker is not None:
                self.worker.close()
            self.worker = Worker()
        status, what = self.worker.ask(row)
        self.tally["tried"] += 1
        if status in ("crash", "hang"):
            self.tally[status] += 1
            if not row.get("pending"):
                self.bad.append(f"{row['id']}: {status}: {what.splitlines()[0] if what else ''}")
            self.worker.close()
            self.worker = None
        elif what in expected(row):
            self.tally["clean"] += 1
        elif row.get("pending"):
            self.tally["pending"] += 1
        else:
            self.tally["mismatch"] += 1
            self.bad.append(f"{row['id']}: {what}, expected {' or '.join(expected(row))}")
        return status, what

    def close(self) -> None:
        if self.worker is not None:
            self.worker.close()
            self.worker = None

    def summary(self) -> str:
        t = self.tally
        return (f"bad-input table ({DOOR}): {t['tried']} rows tried, {t['clean']} ended in their documented outcome, "
                f"{t['pending']} pending (another kind, defect still open), {t['mismatch']} wrong, "
                f"{t['crash']} crashes, {t['hang']} hangs (pending rows included)")


if __name__ == "__main__" and sys.argv[1:] == ["--worker"]:
    worker()
    sys.exit(0)


# ------------------------------------------------------------------------------------------
# The tests.

import pytest  # noqa: E402

ROWS = [r for r in load_table() if DOOR in r["doors"]]


class RowFailed(AssertionError):
    """The row did not end in its documented outcome: another kind, a crash or a hang."""


@pytest.fixture(scope="module")
def runner(request: pytest.FixtureRequest) -> Iterator[Runner]:
    r = Runner()
    yield r
    r.close()
    # The totals, past pytest's output capture.
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if capture is not None:
        with capture.global_and_fixture_disabled():
            print("\n" + r.summary(), flush=True)


def _param(row: dict[str, Any]) -> Any:
    marks = []
    if row.get("pending"):
        # Until the defect is fixed any failure is expected, a crash or a hang included (the
        # message says which); once "pending" is removed from the row, every failure counts.
        marks.append(pytest.mark.xfail(reason=f"pending on {row['pending']}", strict=False, raises=RowFailed))
    return pytest.param(row, id=row["id"], marks=marks)


@pytest.mark.parametrize("row", [_param(r) for r in ROWS])
def test_row(runner: Runner, row: dict[str, Any]) -> None:
    status, what = runner.run(row)
    want = " or ".join(expected(row))
    if status != "outcome":
        raise RowFailed(f"{row['id']} ({row['op']} {json.dumps(row['input'])[:200]}): {status.upper()}, "
                        f"expected {want}: {what}")
    if what not in expected(row):
        raise RowFailed(f"{row['id']}: {what}, expected {want}")


def test_table_is_well_formed() -> None:
    rows = load_table()
    ids = [r["id"] for r in rows]
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})
    doors = {"python", "c", "cpp", "java", "pascal", "octave", "csharp"}
    import libsock

    kinds = set(libsock.ERROR_CODES) | {"OK", "BAD_FRAME"}
    reasons = {"PEER_CLOSED", "RESET", "IDLE_TIMEOUT", "HEARTBEAT_LOST", "FRAME_TOO_LARGE", "KICKED",
               "SERVER_SHUTDOWN", "ERROR", "SEND_QUEUE_FULL", "CLOSED"}
    for r in rows:
        assert set(r) <= {"id", "op", "input", "expect", "doors", "pending", "note"}, r["id"]
        assert r["id"] == r["id"].lower() and " " not in r["id"], r["id"]
        assert r["doors"] and set(r["doors"]) <= doors, r["id"]
        assert isinstance(r["input"], dict), r["id"]
        for e in expected(r):
            ok = e in kinds or e.startswith("PY:") or (e.startswith("DISCONNECTED:") and e[13:] in reasons)
            assert ok, f"{r['id']}: unknown outcome {e!r}"
        if "pending" in r:
            assert r["pending"].startswith("issue"), r["id"]
    # Every op of a Python row has an executor here.
    assert {r["op"] for r in rows if DOOR in r["doors"]} <= KNOWN_OPS


def test_runner_reports_a_crash_and_a_hang_and_goes_on() -> None:
    """The runner's own guarantee: a row that kills the worker or never answers fails as a
    crash or a hang, and the next row runs in a fresh worker."""
    r = Runner()
    try:
        crash = {"id": "self-test-crash", "op": "use_after_close", "input": {"object": "abort", "call": ""},
                 "expect": "OK", "doors": [DOOR]}
        os.environ["LS_BAD_INPUTS_SELF_TEST"] = "1"
        status, what = r.run(crash)
        assert status == "crash" and "SIGABRT" in what, (status, what)
        hang = {"id": "self-test-hang", "op": "use_after_close", "input": {"object": "sleep", "call": ""},
                "expect": "OK", "doors": [DOOR]}
        assert r.worker is None
        r.worker = Worker()
        status, what = r.worker.ask(hang, deadline=2.0)
        assert status == "hang", (status, what)
        r.worker = None
        status, what = r.run({"id": "self-test-after", "op": "connect", "input": {"address": "host:99999"},
                              "expect": "INVALID_ARGUMENT", "doors": [DOOR]})
        assert (status, what) == ("outcome", "INVALID_ARGUMENT")
    finally:
        os.environ.pop("LS_BAD_INPUTS_SELF_TEST", None)
        r.close()


if __name__ == "__main__":
    runner_ = Runner()
    try:
        for row_ in ROWS:
            st, wh = runner_.run(row_)
            mark = "ok  " if st == "outcome" and wh in expected(row_) else ("pend" if st == "outcome" and row_.get("pending") else "FAIL")
            print(f"{mark} {row_['id']}: {wh if st == 'outcome' else st + ': ' + wh.splitlines()[0]}", flush=True)
    finally:
        runner_.close()
    print(runner_.summary())
    sys.exit(1 if runner_.bad else 0)
