"""The benchmark harness: start, pin, time out, validate and tabulate benchmark workers.

Every benchmark program speaks the worker protocol of ``bench/PROTOCOL.md``: a server started as
``<impl argv> server <workload> [--param value ...]`` prints ``READY <port>``, serves one run and
prints one JSON line; a client started as ``<impl argv> client <workload> --port P [...]`` runs
the workload against it, validates what it got and prints one JSON line. This module (standard
library only, no compiled code) runs such pairs:

- :func:`run_one` runs one (workload config, implementation, placement, repetition): both
  processes pinned with ``taskset -c`` (placement ``split``: server on one CPU, client on another;
  ``same``: both on one CPU), a hard timeout that kills both process groups, exit status 3 /
  ``"skip"`` reported as n/a, anything else that is not ``ok`` a failed run with its error.
- :func:`run_suite` runs many, interleaved: for each config and placement, every repetition runs
  every implementation once, in an order that rotates by one each repetition (A B C, B C A, ...).
- :func:`markdown_tables` and :func:`goals_markdown` turn the JSON records into tables: median and
  min–max per (config, implementation, placement), ratios against the baselines the goals of
  issue 6 name, and a goals table (met / missed / not measured).
- :func:`quick_bench` is the quick comparison (``bench/py/quick.py``, which ``libsock bench`` runs
  in a source checkout): the Python implementations only, a quick subset.

The full suite (C and Rust programs, fan-in) is driven by ``bench/run.py``. This file and
``worker.py`` next to it use the standard library only (the workers import libsock, uvloop and
pyzmq when the implementation asks for them); they are not part of the libsock package.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import IO, Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple

#: Exit status of a worker that does not implement the workload it was given (shown as n/a).
EXIT_SKIP = 3

#: Status of a run record: passed validation / failed (a timeout, a crash, a wrong result) / n/a.
OK, FAILED, NA = "ok", "failed", "n/a"

#: The Python implementations of the worker protocol (``python3 bench/py/worker.py NAME``).
PYTHON_IMPLS = ["py-libsock", "py-engine", "py-stdlib", "py-asyncio", "py-uvloop", "py-zmq"]

#: Python implementations that need a third-party module, and which.
OPTIONAL_MODULES = {"py-uvloop": "uvloop", "py-zmq": "zmq"}

#: Python implementations that need the libsock package.
LIBSOCK_IMPLS = ("py-libsock", "py-engine")

#: The Python worker program (next to this file).
WORKER_PY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "worker.py")

#: Per workload: (result key of the headline figure, its column header, which process reports it).
METRICS: Dict[str, Tuple[str, str, str]] = {
    "pingpong": ("rt_per_s", "round trips/s", "client"),
    "bulk": ("mib_per_s", "MiB/s", "client"),
    "framed": ("msgs_per_s", "messages/s", "client"),
    "udp-flood": ("rx_per_s", "datagrams received/s", "server"),
    "udp-drain": ("rx_per_s", "datagrams drained/s", "server"),
    "udp-echo": ("rt_per_s", "round trips/s", "client"),
    "udp-bulk": ("rx_per_s", "datagrams delivered/s", "server"),
    "fanin": ("rt_per_s", "round trips/s", "client"),
}

#: The workloads of the worker protocol, in the order tables are printed.
WORKLOADS = ["pingpong", "bulk", "framed", "udp-flood", "udp-drain", "udp-echo", "udp-bulk"]

#: Workloads whose client is one shared sender for every implementation (the receiver is tested).
SHARED_SENDER = ("udp-flood", "udp-drain")

#: Workloads whose results count datagrams sent and received (loss is reported).
LOSSY = SHARED_SENDER + ("udp-bulk",)

#: Per workload: the implementations the ratio columns compare against (the goals' baselines).
BASELINES: Dict[str, List[str]] = {
    "pingpong": ["py-stdlib", "c-raw"],
    "bulk": ["c-raw", "py-stdlib"],
    "framed": ["py-stdlib", "rs-tokio"],
    "udp-flood": ["c-raw", "py-stdlib"],
    "udp-drain": ["c-raw", "py-stdlib"],
    "udp-echo": ["py-stdlib", "c-raw"],
    "udp-bulk": ["c-raw", "py-stdlib"],
    "fanin": ["tokio", "uvloop"],
}


class BenchError(Exception):
    """A usage problem worth one line and an exit status (no traceback)."""

    def __init__(self, message: str, status: int = 2) -> None:
        super().__init__(message)
        self.status = status


def log(msg: str) -> None:
    """A progress line on stderr (stdout carries only tables and JSON)."""
    try:
        sys.stderr.write(msg + "\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


# --------------------------------------------------------------------------------------------
# what runs


@dataclass
class Impl:
    """An implementation: its table name, the argv prefix that starts it, and why it cannot run.

    ``missing`` is None when the implementation can run; otherwise every run of it is n/a with
    that reason (a program that was not built, a module that is not installed).
    """

    name: str
    argv: List[str]
    missing: Optional[str] = None


@dataclass
class Config:
    """One workload with its parameters, as passed to both worker processes."""

    workload: str
    params: Dict[str, int] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """``workload k=v ...``: the name of this config in records and tables."""
        return " ".join([self.workload] + ["%s=%s" % (k, v) for k, v in self.params.items()])

    def args(self) -> List[str]:
        """The ``--param value`` arguments for the worker command lines."""
        out: List[str] = []
        for k, v in self.params.items():
            out += ["--" + k.replace("_", "-"), str(v)]
        return out


def python_impl(name: str, python: Optional[str] = None) -> Impl:
    """The Python worker ``name`` (``python bench/py/worker.py NAME``), n/a if a module it needs is missing."""
    py = python or sys.executable
    missing = None
    mod = OPTIONAL_MODULES.get(name)
    if python is None:  # another interpreter: let the worker itself say (exit 3) what it lacks
        if mod is not None and not has_module(mod):
            missing = "%s is not installed (pip install %s)" % (mod, "pyzmq" if mod == "zmq" else mod)
        if name in LIBSOCK_IMPLS and not has_module("libsock"):
            missing = "the libsock package is not installed (pip install . in the checkout)"
    return Impl(name, [py, WORKER_PY, name], missing)


def has_module(name: str) -> bool:
    """Whether ``import name`` would find the module (without importing it)."""
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def cpus() -> List[int]:
    """The CPUs this process may run on, lowest first."""
    try:
        return sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return list(range(os.cpu_count() or 1))


def placement_cpus(placement: str) -> Tuple[int, int, Optional[str]]:
    """(server CPU, client CPU, note) for a placement: ``split`` = two CPUs, ``same`` = one.

    With a single CPU available, ``split`` uses it for both and the note says so.
    """
    avail = cpus() or [0]
    if placement == "same":
        return avail[0], avail[0], None
    if placement == "split":
        if len(avail) < 2:
            return avail[0], avail[0], "only CPU %d is available: split runs on one CPU" % avail[0]
        return avail[0], avail[1], None
    raise BenchError("unknown placement %r (use split or same)" % placement)


# --------------------------------------------------------------------------------------------
# one run


class _Timeout(Exception):
    pass


class _Out:
    """A child's stdout read without blocking: raw bytes into a buffer, cut into lines."""

    def __init__(self, proc: "subprocess.Popen[bytes]") -> None:
        assert proc.stdout is not None
        self.fd = proc.stdout.fileno()
        self.buf = b""
        self.eof = False

    def feed(self) -> None:
        try:
            data = os.read(self.fd, 65536)
        except BlockingIOError:  # pragma: no cover - select said readable
            return
        if data:
            self.buf += data
        else:
            self.eof = True

    def has_line(self) -> bool:
        return b"\n" in self.buf

    def next_line(self) -> Optional[str]:
        """The next complete line (or the unterminated rest at end of stream), else None."""
        if b"\n" in self.buf:
            line, self.buf = self.buf.split(b"\n", 1)
            return line.decode("utf-8", "replace").strip()
        if self.eof and self.buf:
            line, self.buf = self.buf, b""
            return line.decode("utf-8", "replace").strip()
        return None

    def lines(self) -> List[str]:
        """Every remaining non-empty line."""
        out: List[str] = []
        while True:
            line = self.next_line()
            if line is None:
                return out
            if line:
                out.append(line)


def _pump(outs: Sequence[_Out], deadline: float, done: Callable[[], bool], what: str) -> None:
    """Read the children's stdout until ``done()`` or every stream ended; _Timeout at the deadline."""
    while not done():
        live = [o for o in outs if not o.eof]
        if not live:
            return
        left = deadline - time.monotonic()
        if left <= 0:
            raise _Timeout(what)
        ready, _, _ = select.select([o.fd for o in live], [], [], min(left, 0.25))
        for o in live:
            if o.fd in ready:
                o.feed()


def _spawn(argv: Sequence[str], cpu: int,
           stdin: int = subprocess.DEVNULL) -> Tuple["subprocess.Popen[bytes]", IO[bytes]]:
    """Start argv pinned to cpu, in its own process group, stderr to a temporary file."""
    err = tempfile.TemporaryFile()
    kw: Dict[str, Any] = {}
    if shutil.which("taskset"):
        cmd = ["taskset", "-c", str(cpu), *argv]
    else:  # pragma: no cover - util-linux is everywhere this runs
        cmd = list(argv)
        kw["preexec_fn"] = lambda: os.sched_setaffinity(0, {cpu})
    proc = subprocess.Popen(cmd, stdin=stdin, stdout=subprocess.PIPE, stderr=err,
                            bufsize=0, start_new_session=True, **kw)
    return proc, err


def _kill(proc: Optional["subprocess.Popen[bytes]"]) -> None:
    """Kill proc's whole process group (it leads its own session), reap it, close its pipes."""
    if proc is None:
        return
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:  # pragma: no cover - SIGKILL does not fail
        pass
    for f in (proc.stdin, proc.stdout):
        if f is not None:
            try:
                f.close()
            except OSError:
                pass


def _tail(f: Optional[IO[bytes]], n: int = 240) -> str:
    if f is None:
        return ""
    try:
        f.seek(0)
        data = f.read().decode("utf-8", "replace").strip()
    except (OSError, ValueError):
        return ""
    lines = [line.strip() for line in data.splitlines() if line.strip()]
    text = " | ".join(lines[-3:])
    return ("stderr: " + text[-n:]) if text else ""


def _parse(lines: List[str], who: str) -> Dict[str, Any]:
    """The one JSON result line of a worker (the protocol allows nothing else on stdout)."""
    if not lines:
        raise ValueError("%s printed no result line" % who)
    if len(lines) > 1:
        raise ValueError("%s printed %d lines, expected one JSON line: %r" % (who, len(lines), lines[:3]))
    try:
        res = json.loads(lines[0])
    except ValueError:
        raise ValueError("%s printed %r, not a JSON line" % (who, lines[0][:200])) from None
    if not isinstance(res, dict) or "ok" not in res:
        raise ValueError("%s result has no \"ok\": %r" % (who, lines[0][:200]))
    return res


def _validate(config: Config, cres: Dict[str, Any], sres: Dict[str, Any]) -> Dict[str, Any]:
    """The figures of a passed run, checked against what was asked; ValueError if they disagree."""
    w, p = config.workload, config.params
    key, _, who = METRICS[w]
    res = sres if who == "server" else cres
    val = res.get(key)
    if not isinstance(val, (int, float)) or not math.isfinite(val) or val <= 0:
        raise ValueError("%s result has no positive %s: %r" % (who, key, res))
    out: Dict[str, Any] = {key: float(val)}
    if w in ("pingpong", "framed", "udp-echo") and "count" in p and cres.get("count") != p["count"]:
        raise ValueError("client did %r of count=%d" % (cres.get("count"), p["count"]))
    if w == "bulk" and "bytes" in p and cres.get("bytes") != p["bytes"]:
        raise ValueError("client moved %r bytes of %d" % (cres.get("bytes"), p["bytes"]))
    if w in LOSSY:
        sent, got = cres.get("sent"), sres.get("received")
        if not isinstance(sent, int) or not isinstance(got, int):
            raise ValueError("%s results lack sent/received: %r %r" % (w, cres, sres))
        if "count" in p and sent != p["count"]:
            raise ValueError("sender sent %d of count=%d" % (sent, p["count"]))
        if not 0 < got <= sent:
            raise ValueError("receiver got %d datagrams of %d sent" % (got, sent))
        out.update(sent=sent, received=got, loss=1.0 - got / sent)
        for k in ("rcvbuf", "cpu_ns_per_dgram", "rx_cpu_secs"):
            if isinstance(sres.get(k), (int, float)):
                out[k] = sres[k]
    for k in ("secs", "rx_secs"):
        if k in res:
            out[k] = res[k]
    return out


def _server_failure(server: "subprocess.Popen[bytes]", sout: _Out, deadline: float) -> str:
    """After a client failure: the server's own error, if it ends within a second (often the cause)."""
    try:
        _pump([sout], min(deadline, time.monotonic() + 1.0), lambda: sout.eof, "")
        rc = server.wait(0.2)
    except (_Timeout, subprocess.TimeoutExpired):
        return ""
    if rc == 0:
        return ""
    try:
        res = _parse(sout.lines(), "server")
        what = str(res.get("error", res))
    except ValueError as e:
        what = str(e)
    return "; server (exit %d): %s" % (rc, what)


def run_one(config: Config, impl: Impl, placement: str, rep: int = 0, timeout: float = 60.0,
            sender: Optional[Impl] = None) -> Dict[str, Any]:
    """Run one (config, implementation, placement, repetition) and return its JSON record.

    The record has ``status`` ``ok`` (with the figures), ``failed`` (with ``error``) or ``n/a``
    (with ``skip``), and ``ok`` true only for a passed run. ``sender`` is the client program for
    every implementation (udp-flood, udp-drain: one shared sender, the receiver is under test; a
    udp-drain server gets ``GO`` on its stdin once the sender has exited); otherwise
    the implementation's own client is used.
    """
    s_cpu, c_cpu, note = placement_cpus(placement)
    rec: Dict[str, Any] = {
        "workload": config.workload, "config": config.label, "params": dict(config.params),
        "impl": impl.name, "placement": placement, "rep": rep, "cpus": "%d/%d" % (s_cpu, c_cpu),
    }
    if note:
        rec["note"] = note
    if sender is not None:
        rec["sender"] = sender.name
    if impl.missing or (sender is not None and sender.missing):
        why = impl.missing or "sender %s: %s" % (sender.name, sender.missing)  # type: ignore[union-attr]
        rec.update(status=NA, ok=False, skip=why)
        return rec
    client_impl = sender or impl
    server = client = None
    s_err = c_err = None
    started = time.monotonic()
    deadline = started + timeout
    stage = "the server's READY line"
    try:
        go = config.workload == "udp-drain"  # the server drains after GO on its stdin
        server, s_err = _spawn([*impl.argv, "server", config.workload, *config.args()], s_cpu,
                               subprocess.PIPE if go else subprocess.DEVNULL)
        sout = _Out(server)
        _pump([sout], deadline, lambda: sout.has_line() or sout.eof, stage)
        first = sout.next_line()
        if first is None or not first.startswith("READY "):
            rc = server.wait(max(0.1, min(5.0, deadline - time.monotonic())))
            lines = ([first] if first else []) + sout.lines()
            try:
                res = _parse(lines, "server")
            except ValueError as e:
                raise RuntimeError("server exited %d before READY: %s %s" % (rc, e, _tail(s_err)))
            if rc == EXIT_SKIP or res.get("skip"):
                rec.update(status=NA, ok=False, skip=str(res.get("skip") or "exit 3"))
                return rec
            raise RuntimeError("server exited %d before READY: %s %s"
                               % (rc, res.get("error", res), _tail(s_err)))
        try:
            port = int(first.split()[1])
        except (IndexError, ValueError):
            raise RuntimeError("server said %r, expected READY <port>" % first) from None
        client, c_err = _spawn([*client_impl.argv, "client", config.workload, "--port", str(port),
                                *config.args()], c_cpu)
        cout = _Out(client)
        stage = "the client's result"

        def client_done_or_server_failed() -> bool:
            if cout.eof:
                return True
            return sout.eof and server.poll() is not None and server.returncode != 0  # type: ignore[union-attr]

        _pump([cout, sout], deadline, client_done_or_server_failed, stage)
        if not cout.eof:  # the server ended with an error while the client was still running
            rc = server.wait(1)
            try:
                res = _parse(sout.lines(), "server")
            except ValueError as e:
                res = {"ok": False, "error": str(e)}
            if rc == EXIT_SKIP or res.get("skip"):
                rec.update(status=NA, ok=False, skip=str(res.get("skip") or "exit 3"))
                return rec
            raise RuntimeError("server failed (exit %d): %s %s" % (rc, res.get("error", res), _tail(s_err)))
        try:
            c_rc = client.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            raise _Timeout("the client to exit after closing stdout") from None
        try:
            cres = _parse(cout.lines(), "client")
        except ValueError as e:
            raise RuntimeError("client exit %d: %s %s%s" % (c_rc, e, _tail(c_err),
                                                           _server_failure(server, sout, deadline))) from None
        rec["client"] = cres
        if c_rc == EXIT_SKIP or cres.get("skip"):
            rec.update(status=NA, ok=False, skip=str(cres.get("skip") or "exit 3"))
            return rec
        if c_rc != 0 or cres.get("ok") is not True:
            raise RuntimeError("client failed (exit %d): %s%s"
                               % (c_rc, cres.get("error", cres), _server_failure(server, sout, deadline)))
        if go:  # everything is queued: let the receiver drain it
            assert server.stdin is not None
            try:
                server.stdin.write(b"GO\n")
                server.stdin.close()
            except OSError:  # the server is gone; its result (below) says why
                pass
        stage = "the server's result"
        _pump([sout], deadline, lambda: sout.eof, stage)
        try:
            s_rc = server.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            raise _Timeout("the server to exit after its result") from None
        try:
            sres = _parse(sout.lines(), "server")
        except ValueError as e:
            raise RuntimeError("server exit %d: %s %s" % (s_rc, e, _tail(s_err))) from None
        rec["server"] = sres
        if s_rc == EXIT_SKIP or sres.get("skip"):
            rec.update(status=NA, ok=False, skip=str(sres.get("skip") or "exit 3"))
            return rec
        if s_rc != 0 or sres.get("ok") is not True:
            raise RuntimeError("server failed (exit %d): %s" % (s_rc, sres.get("error", sres)))
        rec.update(_validate(config, cres, sres))
        rec.update(status=OK, ok=True)
    except _Timeout as e:
        rec.update(status=FAILED, ok=False,
                   error="timed out after %g s waiting for %s" % (timeout, e))
    except subprocess.TimeoutExpired as e:
        rec.update(status=FAILED, ok=False, error="a worker did not exit when expected (%s)" % e)
    except (RuntimeError, ValueError, OSError) as e:
        rec.update(status=FAILED, ok=False, error=str(e))
    finally:
        _kill(client)
        _kill(server)
        for f in (s_err, c_err):
            if f is not None:
                f.close()
        rec["wall_secs"] = round(time.monotonic() - started, 3)
    return rec


# --------------------------------------------------------------------------------------------
# many runs


def rotation(items: Sequence[Any], rep: int) -> List[Any]:
    """The order of repetition ``rep``: ``items`` rotated left by ``rep`` (A B C, B C A, C A B)."""
    if not items:
        return []
    k = rep % len(items)
    return list(items[k:]) + list(items[:k])


def run_suite(configs: Sequence[Config], impls: Sequence[Impl], placements: Sequence[str],
              reps: int, timeout: float, sender: Optional[Impl] = None,
              emit: Optional[Callable[[Dict[str, Any]], None]] = None) -> List[Dict[str, Any]]:
    """Run every config x placement x repetition x implementation, interleaved, order rotating.

    ``sender`` is the shared client for udp-flood and udp-drain (the receivers are tested). An
    implementation that is n/a for a config is not started again for that config. Every record
    is passed to ``emit`` as soon as it exists; all are returned.
    """
    out: List[Dict[str, Any]] = []
    na: Dict[Tuple[str, str], str] = {}
    for config in configs:
        for placement in placements:
            for rep in range(reps):
                for impl in rotation(impls, rep):
                    key = (config.label, impl.name)
                    if key in na:
                        s_cpu, c_cpu, _ = placement_cpus(placement)
                        rec = {"workload": config.workload, "config": config.label,
                               "params": dict(config.params), "impl": impl.name,
                               "placement": placement, "rep": rep, "cpus": "%d/%d" % (s_cpu, c_cpu),
                               "status": NA, "ok": False, "skip": na[key]}
                    else:
                        snd = sender if config.workload in SHARED_SENDER else None
                        rec = run_one(config, impl, placement, rep, timeout, snd)
                        if rec["status"] == NA:
                            na[key] = rec["skip"]
                    out.append(rec)
                    if emit is not None:
                        emit(rec)
    return out


# --------------------------------------------------------------------------------------------
# tables


@dataclass
class Summary:
    """Median and min–max of one figure over the passed runs of one (config, impl, placement)."""

    median: Optional[float]
    lo: Optional[float]
    hi: Optional[float]
    n_ok: int
    n_failed: int
    n_na: int
    skip: Optional[str] = None
    errors: List[str] = field(default_factory=list)


def summarize(records: Iterable[Dict[str, Any]], key: str) -> Summary:
    """Summary of ``key`` over the records (all of one config, implementation and placement)."""
    vals: List[float] = []
    s = Summary(None, None, None, 0, 0, 0)
    for r in records:
        st = r.get("status") or (OK if r.get("ok") else (NA if r.get("skipped") or r.get("skip") else FAILED))
        if st == OK:
            s.n_ok += 1
            v = r.get(key)
            if isinstance(v, (int, float)):
                vals.append(float(v))
        elif st == NA:
            s.n_na += 1
            s.skip = str(r.get("skip") or r.get("skipped") or "n/a")
        else:
            s.n_failed += 1
            s.errors.append(str(r.get("error", "failed")))
    if vals:
        s.median, s.lo, s.hi = statistics.median(vals), min(vals), max(vals)
    return s


def fmt_num(v: float) -> str:
    """A rate for a table: 1.23M, 45.6k, 789."""
    if v >= 1e6:
        return "%.2fM" % (v / 1e6)
    if v >= 1e4:
        return "%.1fk" % (v / 1e3)
    if v >= 100:
        return "%.0f" % v
    return "%.3g" % v


def fmt_pct(v: float) -> str:
    """A fraction as a percentage for a table."""
    return "%.1f%%" % (100 * v) if v >= 0.001 or v == 0 else "%.2f%%" % (100 * v)


def _order_impls(records: Sequence[Dict[str, Any]]) -> List[str]:
    names: List[str] = []
    for r in records:
        if r["impl"] not in names:
            names.append(r["impl"])
    return names


def markdown_tables(records: Sequence[Dict[str, Any]], impl_order: Optional[Sequence[str]] = None) -> str:
    """One markdown table per (workload config, placement) of the worker-protocol workloads.

    Rows are implementations: median of the headline figure (min–max over the passed
    repetitions), ratios of medians against the workload's baselines (:data:`BASELINES`, only
    those in the run), and ``runs ok``; udp-flood and udp-drain add loss (and the receiver's CPU
    per datagram when the programs report it). Fan-in records are left to
    ``bench/fanin.py``'s own table.
    """
    recs = [r for r in records if r.get("workload") in WORKLOADS]
    out: List[str] = []
    names = list(impl_order) if impl_order else _order_impls(recs)
    seen_groups = []
    for r in recs:
        g = (r["workload"], r["config"])
        if g not in seen_groups:
            seen_groups.append(g)
    seen_groups.sort(key=lambda g: WORKLOADS.index(g[0]))
    for workload, label in seen_groups:
        key, header, _ = METRICS[workload]
        for placement in ("split", "same"):
            rows = [r for r in recs if r["config"] == label and r["placement"] == placement]
            if not rows:
                continue
            by_impl = {n: [r for r in rows if r["impl"] == n] for n in names}
            sums = {n: summarize(rs, key) for n, rs in by_impl.items() if rs}
            bases = [b for b in BASELINES.get(workload, []) if b in sums]
            cpu = next((r.get("cpus") for r in rows if r.get("cpus")), None)
            where = " (server CPU %s, client CPU %s)" % tuple(cpu.split("/")) if cpu else ""
            sender = next((r.get("sender") for r in rows if r.get("sender")), None)
            out.append("\n### %s — placement `%s`%s\n" % (label, placement, where))
            note = next((r.get("note") for r in rows if r.get("note")), None)
            if note:
                out.append("Note: %s.\n" % note)
            if sender:
                out.append("Sender for every receiver: `%s`.\n" % sender)
            cols = ["impl", "%s median (min–max)" % header]
            lossy = workload in LOSSY
            cpu_col = lossy and any("cpu_ns_per_dgram" in r for r in rows)
            if lossy:
                cols.append("loss median (min–max)")
            if cpu_col:
                cols.append("receiver CPU ns/datagram")
            cols += ["vs %s" % b for b in bases] + ["runs ok"]
            out.append("| " + " | ".join(cols) + " |")
            out.append("|" + "---|" * len(cols))
            notes: List[str] = []
            for n, s in sums.items():
                total = s.n_ok + s.n_failed + s.n_na
                if s.median is None:
                    if s.n_failed:
                        cell = "FAILED"
                        notes.append("- %s: %s" % (n, "; ".join(sorted(set(s.errors)))[:500]))
                    else:
                        cell = "n/a: %s" % (s.skip or "")
                    extra = (1 if lossy else 0) + (1 if cpu_col else 0)
                    row = [n, cell] + [""] * extra + [""] * len(bases)
                    row.append("%d/%d" % (s.n_ok, total))
                    out.append("| " + " | ".join(row) + " |")
                    continue
                row = [n, "%s (%s–%s)" % (fmt_num(s.median), fmt_num(s.lo or 0), fmt_num(s.hi or 0))]
                if lossy:
                    ls = summarize(by_impl[n], "loss")
                    row.append("%s (%s–%s)" % (fmt_pct(ls.median or 0), fmt_pct(ls.lo or 0), fmt_pct(ls.hi or 0)))
                if cpu_col:
                    cs = summarize(by_impl[n], "cpu_ns_per_dgram")
                    row.append("%.0f" % cs.median if cs.median is not None else "–")
                for b in bases:
                    bm = sums[b].median
                    row.append("%.2f×" % (s.median / bm) if bm else "–")
                row.append("%d/%d" % (s.n_ok, total))
                if s.n_failed:
                    notes.append("- %s: %d failed: %s" % (n, s.n_failed, "; ".join(sorted(set(s.errors)))[:500]))
                out.append("| " + " | ".join(row) + " |")
            if notes:
                out.append("\nFailed runs:\n" + "\n".join(notes))
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------------------------
# goals


@dataclass
class Check:
    """One measurable part of a goal of issue 6 or issue 14 (``issue``).

    ``kind`` is ``ratio`` (median of ``num`` / median of ``den`` compared with ``target``),
    ``le`` (median of ``num`` ≤ median of ``den``, e.g. loss) or ``abs`` (median of ``num``
    compared with ``target`` in the metric's unit). ``where`` selects configs by parameter,
    ``placements`` the placements it applies to (None: each placement measured). With
    ``lower_better`` (a cost such as CPU per datagram) the ratio is den / num, so that > 1 still
    means ``num`` is better.
    """

    goal: str
    workload: str
    metric: str
    num: str
    den: Optional[str]
    kind: str
    target: float
    where: Dict[str, int] = field(default_factory=dict)
    placements: Optional[Tuple[str, ...]] = None
    op: str = ">="
    lower_better: bool = False
    issue: int = 6


#: The goals of issue 6 (bench/PROTOCOL.md, "Goals") and of issue 14 (bench/README.md, "Goals
#: of issue 14"), one entry per comparison; the report prints one table per issue.
GOALS: List[Check] = [
    Check("Python ping-pong, same CPU: faster than stdlib", "pingpong", "rt_per_s", "py-libsock",
          "py-stdlib", "ratio", 1.0, {"nodelay": 1}, ("same",), op=">"),
    Check("Python ping-pong, same CPU: within 1.4× raw C", "pingpong", "rt_per_s", "py-libsock",
          "c-raw", "ratio", 1 / 1.4, {"nodelay": 1}, ("same",)),
    Check("Python framed echo: ≥ 2× stdlib", "framed", "msgs_per_s", "py-libsock", "py-stdlib",
          "ratio", 2.0),
    Check("Python framed echo: ≥ 0.8× tokio", "framed", "msgs_per_s", "py-libsock", "rs-tokio",
          "ratio", 0.8),
    Check("Python bulk: ≥ 0.95× raw C", "bulk", "mib_per_s", "py-libsock", "c-raw", "ratio", 0.95),
    Check("Python engine, 1k clients: ≥ 0.9× tokio", "fanin", "rt_per_s", "libsock-py", "tokio",
          "ratio", 0.9, {"clients": 1000}),
    Check("Python engine, 1k clients: ≥ 2× uvloop", "fanin", "rt_per_s", "libsock-py", "uvloop",
          "ratio", 2.0, {"clients": 1000}),
    Check("Python engine, 10k clients: ≥ 0.9× tokio", "fanin", "rt_per_s", "libsock-py", "tokio",
          "ratio", 0.9, {"clients": 10000}),
    Check("Python engine, 10k clients: ≥ 2× uvloop", "fanin", "rt_per_s", "libsock-py", "uvloop",
          "ratio", 2.0, {"clients": 10000}),
    Check("Python UDP receive: ≥ 1.5× naive C (drain rate)", "udp-drain", "rx_per_s", "py-libsock",
          "c-raw", "ratio", 1.5),
    Check("Python UDP receive: loss ≤ stdlib", "udp-flood", "loss", "py-libsock", "py-stdlib",
          "le", 0.0),
    Check("C ABI ping-pong, same CPU: within 1.05× raw C", "pingpong", "rt_per_s", "c-libsock",
          "c-raw", "ratio", 1 / 1.05, {"nodelay": 1}, ("same",)),
    Check("C ABI framed echo: ≥ tokio", "framed", "msgs_per_s", "c-libsock", "rs-tokio", "ratio",
          1.0),
    Check("Memory, 10k idle clients: Rust engine ≤ tokio", "fanin", "idle_rss_kib", "libsock-rs",
          "tokio", "ratio", 1.0, {"clients": 10000}, op="<="),
    Check("Memory, 10k idle clients: Python process ≤ 40 MiB", "fanin", "idle_rss_kib",
          "libsock-py", None, "abs", 40 * 1024, {"clients": 10000}, op="<="),
] + [Check(*a, **dict(kw, issue=14)) for a, kw in [  # type: ignore[misc]
    (("Engine framed echo from Python: ≥ 2× stdlib", "framed", "msgs_per_s", "py-engine",
      "py-stdlib", "ratio", 2.0), {}),
    (("Engine framed echo from Python: ≥ 0.9× blocking Connection", "framed", "msgs_per_s",
      "py-engine", "py-libsock", "ratio", 0.9), {}),
    (("Engine UDP echo from Python (DatagramServer): ≥ 1.0× stdlib", "udp-echo", "rt_per_s",
      "py-engine", "py-stdlib", "ratio", 1.0), {}),
    (("Engine framed echo from C: ≥ 0.9× blocking C ABI", "framed", "msgs_per_s", "c-engine",
      "c-libsock", "ratio", 0.9), {}),
    (("Framed echo, Rust API: ≥ 1.0× tokio", "framed", "msgs_per_s", "rs-libsock", "rs-tokio",
      "ratio", 1.0), {}),
    (("Framed echo, C ABI: ≥ 1.0× tokio", "framed", "msgs_per_s", "c-libsock", "rs-tokio",
      "ratio", 1.0), {}),
    (("Fan-in 1k clients, engine (epoll backend): ≥ 1.3× tokio", "fanin", "rt_per_s",
      "libsock-rs", "tokio", "ratio", 1.3, {"clients": 1000}), {}),
    (("Fan-in 1k clients, engine (io_uring backend): ≥ 1.3× tokio", "fanin", "rt_per_s",
      "libsock-rs-uring", "tokio", "ratio", 1.3, {"clients": 1000}), {}),
    (("Fan-in 10k clients, engine (epoll backend): ≥ 1.3× tokio", "fanin", "rt_per_s",
      "libsock-rs", "tokio", "ratio", 1.3, {"clients": 10000}), {}),
    (("Fan-in 10k clients, engine (io_uring backend): ≥ 1.3× tokio", "fanin", "rt_per_s",
      "libsock-rs-uring", "tokio", "ratio", 1.3, {"clients": 10000}), {}),
    (("Fan-in 1k clients, engine (epoll backend): server CPU/rt ≤ 0.8× tokio", "fanin",
      "server_cpu_us_per_rt", "libsock-rs", "tokio", "ratio", 0.8, {"clients": 1000}),
     {"op": "<="}),
    (("Fan-in 1k clients, engine (io_uring backend): server CPU/rt ≤ 0.8× tokio", "fanin",
      "server_cpu_us_per_rt", "libsock-rs-uring", "tokio", "ratio", 0.8, {"clients": 1000}),
     {"op": "<="}),
    (("Fan-in 10k clients, engine (epoll backend): server CPU/rt ≤ 0.8× tokio", "fanin",
      "server_cpu_us_per_rt", "libsock-rs", "tokio", "ratio", 0.8, {"clients": 10000}),
     {"op": "<="}),
    (("Fan-in 10k clients, engine (io_uring backend): server CPU/rt ≤ 0.8× tokio", "fanin",
      "server_cpu_us_per_rt", "libsock-rs-uring", "tokio", "ratio", 0.8, {"clients": 10000}),
     {"op": "<="}),
    (("UDP receive from a full queue, Python: ≥ 1.0× C recvmmsg", "udp-drain", "rx_per_s",
      "py-libsock", "c-raw-mmsg", "ratio", 1.0), {}),
    (("UDP receive from a full queue, C ABI: ≥ 1.0× C recvmmsg", "udp-drain", "rx_per_s",
      "c-libsock", "c-raw-mmsg", "ratio", 1.0), {}),
    (("UDP receive from a full queue, Rust API: ≥ 1.0× C recvmmsg", "udp-drain", "rx_per_s",
      "rs-libsock", "c-raw-mmsg", "ratio", 1.0), {}),
    (("UDP bulk, libsock to libsock with offload: ≥ 2× naive C datagrams/s", "udp-bulk",
      "rx_per_s", "py-libsock", "c-raw", "ratio", 2.0, {"offload": 1}), {}),
    (("UDP bulk, libsock to libsock with offload: loss ≤ stdlib", "udp-bulk", "loss",
      "py-libsock", "py-stdlib", "le", 0.0, {"offload": 1}), {}),
]]


def _matches(r: Dict[str, Any], c: Check) -> bool:
    if r.get("workload") != c.workload:
        return False
    params = r.get("params") or {}
    return all(params.get(k, r.get(k)) == v for k, v in c.where.items())


def _cmp(v: float, op: str, target: float) -> bool:
    return {">": v > target, ">=": v >= target - 1e-12, "<=": v <= target + 1e-12}[op]


def evaluate_goals(records: Sequence[Dict[str, Any]], goals: Sequence[Check] = GOALS) -> List[Dict[str, Any]]:
    """One row per (check, config, placement) measured, or one ``not measured`` row per check.

    A row has ``goal``, ``config``, ``placement``, ``measured`` (text), ``value`` (the ratio or
    figure, None if not measured) and ``verdict``: ``met``, ``missed`` or ``not measured``.
    """
    rows: List[Dict[str, Any]] = []
    for c in goals:
        mine = [r for r in records if _matches(r, c)]
        groups: List[Tuple[str, str]] = []
        for r in mine:
            g = (str(r.get("config")), str(r.get("placement")))
            if g not in groups and (c.placements is None or g[1] in c.placements):
                groups.append(g)
        found = False
        for label, placement in groups:
            rs = [r for r in mine if str(r.get("config")) == label and r.get("placement") == placement]
            sa = summarize([r for r in rs if r["impl"] == c.num], c.metric)
            sb = summarize([r for r in rs if r["impl"] == c.den], c.metric) if c.den else None
            a, b = sa.median, (sb.median if sb else None)
            row: Dict[str, Any] = {"goal": c.goal, "config": label, "placement": placement,
                                   "value": None, "verdict": "not measured", "measured": "",
                                   "issue": c.issue}
            if a is None or (sb is not None and b is None):
                why = []
                for n, sm in ((c.num, sa), (c.den, sb)):
                    if n and sm is not None and sm.median is None:
                        why.append("%s: %s" % (n, "no %s reported" % c.metric if sm.n_ok else "no passed run"))
                row["measured"] = "; ".join(why)
                rows.append(row)
                found = True
                continue
            if c.kind == "ratio":
                if not b or not a:
                    continue
                v = b / a if c.lower_better else a / b
                shown = "%s / %s" % ((c.den, c.num) if c.lower_better else (c.num, c.den))
                if c.lower_better:
                    shown = "%s of %s" % (shown, c.metric)
                row["measured"] = "%s = %.3f (target %s %.3f)" % (shown, v, c.op, c.target)
                row["value"] = v
                ok = _cmp(v, c.op, c.target)
            elif c.kind == "le":
                assert b is not None
                row["measured"] = "%s %s vs %s %s" % (c.num, fmt_pct(a), c.den, fmt_pct(b))
                row["value"] = a - b
                ok = a <= b + 1e-12
            else:
                unit = " MiB" if c.metric.endswith("_kib") else ""
                amount = a / 1024 if unit else a
                tamount = c.target / 1024 if unit else c.target
                row["measured"] = "%s %.1f%s (target %s %.0f%s)" % (c.num, amount, unit, c.op, tamount, unit)
                row["value"] = a
                ok = _cmp(a, c.op, c.target)
            row["verdict"] = "met" if ok else "missed"
            rows.append(row)
            found = True
        if not found:
            rows.append({"goal": c.goal, "config": "", "placement": "/".join(c.placements or ()),
                         "value": None, "verdict": "not measured",
                         "measured": "not in this run", "issue": c.issue})
    return rows


def goals_markdown(rows: Sequence[Dict[str, Any]]) -> str:
    """The GOALS tables, one per issue (6, then 14): each goal, its measured ratio(s), met /
    missed / not measured, and a count per table."""
    out: List[str] = []
    issues = sorted({int(r.get("issue", 6)) for r in rows}) or [6]
    for issue in issues:
        mine = [r for r in rows if int(r.get("issue", 6)) == issue]
        out += ["\n## GOALS (issue %d)\n" % issue, "| goal | config | placement | measured | verdict |",
                "|---|---|---|---|---|"]
        for r in mine:
            verdict = {"met": "met", "missed": "**missed**"}.get(r["verdict"], r["verdict"])
            out.append("| %s | %s | %s | %s | %s |" % (r["goal"], r["config"], r["placement"],
                                                      r["measured"], verdict))
        met = sum(1 for r in mine if r["verdict"] == "met")
        missed = sum(1 for r in mine if r["verdict"] == "missed")
        nm = sum(1 for r in mine if r["verdict"] == "not measured")
        out.append("\n%d met, %d missed, %d not measured.\n" % (met, missed, nm))
    return "\n".join(out)


# --------------------------------------------------------------------------------------------
# plot


def plot_panels(records: Sequence[Dict[str, Any]], path: str, baseline: str = "py-stdlib") -> None:
    """One panel per workload configuration (fan-in: per N): each implementation's median
    headline figure as a horizontal bar per placement (``split`` and ``same`` side by side),
    min–max as a whisker, the unit on the axis, log scale where the rates in a panel differ by
    10× or more; ``baseline`` (when in the panel) is drawn as a dashed line per placement.

    Needs matplotlib (``pip install matplotlib``); raises BenchError (status 2) without it.
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        import matplotlib.ticker
    except ImportError:
        raise BenchError("--plot needs matplotlib: pip install matplotlib") from None
    order = WORKLOADS + ["fanin"]
    recs = [r for r in records if r.get("workload") in order]
    panels: List[Tuple[str, str]] = []
    for r in recs:
        g = (r["workload"], str(r["config"]))
        if g not in panels:
            panels.append(g)
    panels.sort(key=lambda g: order.index(g[0]))
    if not panels:
        return
    colors = {"split": "#4C72B0", "same": "#DD8452"}
    cols = 2 if len(panels) > 1 else 1
    heights = []
    for workload, label in panels:
        heights.append(max(2.2, 0.42 * len(_order_impls([r for r in recs if r["config"] == label])) + 1.2))
    rows = (len(panels) + cols - 1) // cols
    row_h = [max(heights[i * cols:(i + 1) * cols]) for i in range(rows)]
    fig, axes = plt.subplots(rows, cols, figsize=(7.5 * cols, sum(row_h)),
                             gridspec_kw={"height_ratios": row_h}, squeeze=False)
    for idx, (workload, label) in enumerate(panels):
        ax = axes[idx // cols][idx % cols]
        key, unit, _ = METRICS[workload]
        rs = [r for r in recs if r["config"] == label]
        names = _order_impls(rs)
        placements = [p for p in ("split", "same") if any(r["placement"] == p for r in rs)]
        h = 0.8 / max(1, len(placements))
        vals: List[float] = []
        for j, pl in enumerate(placements):
            ys, meds, lo, hi = [], [], [], []
            for i, n in enumerate(names):
                sm = summarize([r for r in rs if r["impl"] == n and r["placement"] == pl], key)
                y = i + (j - (len(placements) - 1) / 2) * h
                if sm.median is None:
                    ax.text(0, y, "  n/a" if not sm.n_failed else "  FAILED", va="center", fontsize=7)
                    continue
                ys.append(y)
                meds.append(sm.median)
                lo.append(sm.median - (sm.lo if sm.lo is not None else sm.median))
                hi.append((sm.hi if sm.hi is not None else sm.median) - sm.median)
            vals += meds
            ax.barh(ys, meds, h, xerr=[lo, hi], color=colors[pl], label=pl,
                    error_kw={"elinewidth": 0.8, "capsize": 2})
            for y, m, up in zip(ys, meds, hi):
                ax.text(m + up, y, " " + fmt_num(m), va="center", fontsize=7)
            base = summarize([r for r in rs if r["impl"] == baseline and r["placement"] == pl], key).median
            if base:
                ax.axvline(base, color=colors[pl], linestyle="--", linewidth=0.8)
        positive = [v for v in vals if v > 0]
        if positive and max(positive) / min(positive) >= 10:
            ax.set_xscale("log")
        ax.set_yticks(list(range(len(names))))
        ax.set_yticklabels(names, fontsize=8)
        ax.invert_yaxis()
        ax.set_xlabel(unit + (" (log scale)" if ax.get_xscale() == "log" else ""), fontsize=8)
        ax.tick_params(axis="x", labelsize=7)
        ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: fmt_num(v)))
        ax.set_title(label, fontsize=9)
        ax.margins(x=0.18)
        ax.legend(fontsize=7, loc="lower right")
    for idx in range(len(panels), rows * cols):
        axes[idx // cols][idx % cols].axis("off")
    fig.suptitle("libsock bench: medians per workload, higher is better (whiskers: min–max; dashed: %s)"
                 % baseline, fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 0.98))
    fig.savefig(path, dpi=100)
    plt.close(fig)


# --------------------------------------------------------------------------------------------
# the quick comparison (bench/py/quick.py, libsock bench): Python implementations only


#: The quick subset's configs: (normal params, --smoke params) per workload.
QUICK_CONFIGS: Dict[str, List[Tuple[Dict[str, int], Dict[str, int]]]] = {
    "pingpong": [({"size": 64, "count": 3000, "nodelay": 1}, {"size": 64, "count": 100, "nodelay": 1})],
    "bulk": [({"bytes": 256 << 20, "chunk": 65536}, {"bytes": 4 << 20, "chunk": 65536})],
    "framed": [({"size": 100, "count": 50000, "batch": 64}, {"size": 100, "count": 1000, "batch": 64})],
    "udp-flood": [({"size": 64, "count": 20000}, {"size": 64, "count": 1000})],
    "udp-drain": [({"size": 64, "count": 20000}, {"size": 64, "count": 1000})],
    "udp-echo": [({"size": 64, "count": 2000}, {"size": 64, "count": 100})],
}


def quick_bench(workloads: Optional[Sequence[str]] = None, placement: str = "same", reps: int = 1,
                json_path: Optional[str] = None, plot_path: Optional[str] = None,
                smoke: bool = False, timeout: float = 60.0, out: Optional[IO[str]] = None) -> int:
    """``libsock bench``: the Python implementations on a quick subset; returns the exit status.

    Prints one markdown table per workload config and the goals that can be measured without the
    C and Rust programs (not with ``smoke``: tiny sizes measure nothing, so no goal is judged).
    0 if every run passed (n/a is not a failure), 1 if any failed.
    """
    stream = out or sys.stdout
    names = list(workloads) if workloads else list(QUICK_CONFIGS)
    for w in names:
        if w not in QUICK_CONFIGS:
            raise BenchError("unknown workload %r (choose from %s)" % (w, ", ".join(QUICK_CONFIGS)))
    placements = ["split", "same"] if placement == "both" else [placement]
    for p in placements:
        placement_cpus(p)
    if reps < 1:
        raise BenchError("--reps must be at least 1")
    if plot_path:  # fail before running anything
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            raise BenchError("--plot needs matplotlib: pip install matplotlib") from None
    impls = [python_impl(n) for n in PYTHON_IMPLS]
    for p in placements:
        note = placement_cpus(p)[2]
        if note:
            log("libsock bench: " + note)
    for i in impls:
        if i.missing:
            log("libsock bench: %s n/a: %s" % (i.name, i.missing))
    configs = [Config(w, dict(sm if smoke else full)) for w in names for full, sm in QUICK_CONFIGS[w]]
    sender = python_impl("py-libsock")
    jf = open(json_path, "w") if json_path else None  # noqa: SIM115
    t0 = time.monotonic()

    def emit(rec: Dict[str, Any]) -> None:
        if jf is not None:
            jf.write(json.dumps(rec) + "\n")
            jf.flush()
        if rec["status"] == FAILED:
            log("libsock bench: FAILED %s %s %s: %s" % (rec["config"], rec["impl"], rec["placement"], rec.get("error")))

    try:
        records = run_suite(configs, impls, placements, reps, timeout, sender, emit)
    finally:
        if jf is not None:
            jf.close()
    secs = time.monotonic() - t0
    head = ("libsock bench: Python implementations, %d repetition(s), %s; %.0f s on %d CPU(s). "
            "Ratios are of medians in this run; udp-flood and udp-drain sender: py-libsock.\n"
            % (reps, ", ".join(placements), secs, len(cpus())))
    goal_rows = [] if smoke else [r for r in evaluate_goals(records) if r["verdict"] != "not measured"]
    stream.write(head + markdown_tables(records, PYTHON_IMPLS))
    if goal_rows:
        stream.write(goals_markdown(goal_rows))
        stream.write("(Goals against C, Rust and fan-in need the full suite: python3 bench/run.py.)\n")
    elif smoke:
        stream.write("(--smoke checks that everything runs and measures nothing: no goal is judged.)\n")
    stream.flush()
    if plot_path:
        plot_panels(records, plot_path)
        log("libsock bench: wrote %s" % plot_path)
    failed = [r for r in records if r["status"] == FAILED]
    if failed:
        log("libsock bench: %d run(s) FAILED" % len(failed))
        return 1
    return 0
