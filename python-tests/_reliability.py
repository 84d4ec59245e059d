"""Helpers for the fault and load tests (test_faults.py, test_load.py): child processes whose
output is read with timeouts, /proc figures of a process, network namespaces with nftables
packet loss, and the CI-size / full-size switch.

Full size: ``LIBSOCK_LOAD_FULL=1`` (see docs/RELIABILITY.md).
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import IO, Any, Callable, Iterator, Optional

import pytest

PEERS = Path(__file__).resolve().parent / "peers"
FULL = os.environ.get("LIBSOCK_LOAD_FULL", "") not in ("", "0")
IN_CI = os.environ.get("CI", "") == "true"


def size(ci: int, full: int) -> int:
    """The CI-size figure, or the full-size one under LIBSOCK_LOAD_FULL=1."""
    return full if FULL else ci


def skip_or_fail(reason: str) -> None:
    """Skip locally; in CI as root (which has every privilege these tests need) a missing
    facility is a failure, so the test can never silently not run there."""
    if IN_CI and os.geteuid() == 0:
        pytest.fail(f"CI runs as root, so this test must run, but: {reason}")
    pytest.skip(reason)


# --------------------------------------------------------------------------------------------
# /proc figures of a process.


def fd_count(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError(f"no VmRSS for pid {pid}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def raise_nofile(need: int) -> tuple[int, int]:
    """Raise this process's RLIMIT_NOFILE soft limit to at least ``need`` (skip when the hard
    limit is lower). Returns the old (soft, hard) to restore."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < need:
        if hard != resource.RLIM_INFINITY and hard < need:
            pytest.skip(f"RLIMIT_NOFILE hard limit {hard} < {need} needed")
        resource.setrlimit(resource.RLIMIT_NOFILE, (need, hard))
    return soft, hard


# --------------------------------------------------------------------------------------------
# Child processes.


class Child:
    """A peer process (``python -u script args``, or any argv) whose stdout lines are read by a
    thread into a queue, so every wait for output has a timeout. stderr goes to a temporary
    file (shown in failure messages). Killed (SIGKILL) by ``stop`` / the context manager."""

    def __init__(self, argv: list[str], *, stdin: bool = False, preexec: Optional[Callable[[], None]] = None) -> None:
        self.err = tempfile.TemporaryFile()
        self.p = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self.err,
            text=True,
            preexec_fn=preexec,
        )
        self.pid = self.p.pid
        self.lines: queue.Queue[Optional[str]] = queue.Queue()
        out = self.p.stdout
        assert out is not None

        def pump(f: IO[str]) -> None:
            for line in f:
                self.lines.put(line)
            self.lines.put(None)  # end of output

        self.reader = threading.Thread(target=pump, args=(out,), daemon=True)
        self.reader.start()
        self.eof = False

    @classmethod
    def script(cls, name: str, *args: str, stdin: bool = False, prefix: Optional[list[str]] = None,
               preexec: Optional[Callable[[], None]] = None) -> "Child":
        return cls([*(prefix or []), sys.executable, "-u", str(PEERS / name), *args], stdin=stdin, preexec=preexec)

    def stderr_text(self) -> str:
        self.err.seek(0)
        return self.err.read().decode(errors="replace")[-4000:]

    def line(self, timeout: float) -> Optional[str]:
        """The next stdout line, or None at end of output. AssertionError on timeout."""
        if self.eof:
            return None
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(
                f"no output from pid {self.pid} within {timeout} s; stderr: {self.stderr_text()}"
            ) from None
        if line is None:
            self.eof = True
        return line

    def json(self, timeout: float) -> dict[str, Any]:
        """The next stdout line as JSON (AssertionError at end of output or on timeout)."""
        line = self.line(timeout)
        if line is None:
            raise AssertionError(
                f"pid {self.pid} ended (rc {self.p.poll()}) without output; stderr: {self.stderr_text()}"
            )
        try:
            v = json.loads(line)
        except ValueError:
            raise AssertionError(f"pid {self.pid} printed {line!r}; stderr: {self.stderr_text()}") from None
        assert isinstance(v, dict), line
        return v

    def expect(self, key: str, timeout: float) -> dict[str, Any]:
        """Skip JSON lines until one has ``key`` (bounded by ``timeout`` in all)."""
        deadline = time.monotonic() + timeout
        while True:
            v = self.json(max(0.01, deadline - time.monotonic()))
            if key in v:
                return v

    def drain(self) -> list[str]:
        """The lines already read (without waiting)."""
        got: list[str] = []
        while True:
            try:
                line = self.lines.get_nowait()
            except queue.Empty:
                return got
            if line is None:
                self.eof = True
                return got
            got.append(line)

    def send(self, line: str) -> None:
        assert self.p.stdin is not None
        self.p.stdin.write(line + "\n")
        self.p.stdin.flush()

    def ask(self, command: str, timeout: float) -> dict[str, Any]:
        """Send a command line and return the next JSON answer keyed by its first word."""
        self.send(command)
        return self.expect(command.split()[0], timeout)

    def kill(self) -> None:
        if self.p.poll() is None:
            os.kill(self.pid, signal.SIGKILL)
        self.p.wait(30)

    def stop(self) -> None:
        """Kill and reap (idempotent); closes the pipes."""
        try:
            self.kill()
        finally:
            for f in (self.p.stdin, self.p.stdout):
                if f is not None:
                    with contextlib.suppress(OSError):
                        f.close()
            self.reader.join(5)
            self.err.close()

    def __enter__(self) -> "Child":
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


@contextlib.contextmanager
def children() -> Iterator[list[Child]]:
    """A list to put children in; each is stopped at the end, whatever happens."""
    kids: list[Child] = []
    try:
        yield kids
    finally:
        for k in kids:
            with contextlib.suppress(Exception):
                k.stop()


# --------------------------------------------------------------------------------------------
# Network namespaces: two of them joined by a veth pair, with nftables dropping packets.


def _run(argv: list[str], stdin: Optional[str] = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=30)


def netns_unavailable() -> Optional[str]:
    """Why network namespaces with nftables cannot be used here (None when they can)."""
    if os.geteuid() != 0:
        return "needs root (ip netns, nft)"
    for tool in ("ip", "nft"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (.ci/install-deps installs iproute2 and nftables)"
    name = f"lsprobe{os.getpid()}"
    r = _run(["ip", "netns", "add", name])
    if r.returncode != 0:
        return f"ip netns add failed: {r.stderr.strip()}"
    try:
        r = _run(["ip", "netns", "exec", name, "nft", "list", "ruleset"])
        if r.returncode != 0:
            return f"nft does not work in a namespace: {r.stderr.strip()}"
    finally:
        _run(["ip", "netns", "del", name])
    return None


class LossyLink:
    """Namespaces ``a`` and ``b`` joined by a veth pair (198.18.0.1 in ``a``, 198.18.0.2 in
    ``b``: the RFC 2544 benchmarking range, reachable only inside these two namespaces), each
    dropping ``loss_pct`` % of the packets it sends with nftables ``numgen random``. Segmentation
    offload is turned off on the pair (``gso_max_segs 1``) so that a dropped packet is one
    MTU-sized segment, not a 64 KiB super-packet."""

    A_IP = "198.18.0.1"
    B_IP = "198.18.0.2"

    def __init__(self, loss_pct: int) -> None:
        tag = f"{os.getpid() % 100000}"
        self.a, self.b = f"lsfa{tag}", f"lsfb{tag}"
        self.va, self.vb = f"lsva{tag}", f"lsvb{tag}"
        self.loss_pct = loss_pct

    def _ok(self, argv: list[str], stdin: Optional[str] = None) -> str:
        r = _run(argv, stdin)
        if r.returncode != 0:
            raise AssertionError(f"{' '.join(argv)}: {r.stderr.strip()}")
        return r.stdout

    def __enter__(self) -> "LossyLink":
        self.close()  # leftovers of an earlier killed run with the same pid
        ok = self._ok
        try:
            ok(["ip", "netns", "add", self.a])
            ok(["ip", "netns", "add", self.b])
            ok(["ip", "link", "add", self.va, "netns", self.a, "type", "veth", "peer", "name", self.vb, "netns", self.b])
            for ns, dev, ip in ((self.a, self.va, self.A_IP), (self.b, self.vb, self.B_IP)):
                ok(["ip", "-n", ns, "addr", "add", f"{ip}/30", "dev", dev])
                ok(["ip", "-n", ns, "link", "set", dev, "gso_max_segs", "1", "gso_max_size", "1500"])
                ok(["ip", "-n", ns, "link", "set", dev, "up"])
                ok(["ip", "-n", ns, "link", "set", "lo", "up"])
                rules = (
                    "table inet lsloss {\n chain out {\n  type filter hook output priority 0; policy accept;\n"
                    f'  oifname "{dev}" numgen random mod 100 < {self.loss_pct} counter drop\n }}\n}}\n'
                )
                ok(["ip", "netns", "exec", ns, "nft", "-f", "-"], stdin=rules)
        except BaseException:
            self.close()
            raise
        return self

    def dropped(self) -> dict[str, tuple[int, int]]:
        """Packets and bytes dropped so far, per namespace."""
        out: dict[str, tuple[int, int]] = {}
        for ns in (self.a, self.b):
            text = self._ok(["ip", "netns", "exec", ns, "nft", "list", "ruleset"])
            words = text[text.index("counter packets"):].split()
            out[ns] = (int(words[2]), int(words[4]))
        return out

    def exec_prefix(self, ns: str) -> list[str]:
        return ["ip", "netns", "exec", ns]

    def close(self) -> None:
        for ns in (self.a, self.b):
            _run(["ip", "netns", "del", ns])  # takes its end of the veth pair along

    def __exit__(self, *_exc: object) -> None:
        self.close()
