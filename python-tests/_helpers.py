"""Helpers for the libsock Python tests: real peers on loopback (the stdlib ``socket``
module, socat, ncat, a small C program), never mocks."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any, Callable, Iterator, Optional

import pytest

import libsock

# Generous limits: loaded CI machines are slow, and nothing here measures speed.
WAIT = 10.0


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    """A port nobody listens on right now (bound and released by the stdlib)."""
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def recv_all(sock: socket.socket) -> bytes:
    """Read a stdlib socket to end of stream."""
    chunks: list[bytes] = []
    while True:
        b = sock.recv(1 << 20)
        if not b:
            return b"".join(chunks)
        chunks.append(b)


def recv_n(sock: socket.socket, n: int) -> bytes:
    """Read exactly n bytes from a stdlib socket."""
    buf = bytearray()
    while len(buf) < n:
        b = sock.recv(n - len(buf))
        if not b:
            raise EOFError(f"stdlib peer: end of stream after {len(buf)} of {n} bytes")
        buf += b
    return bytes(buf)


class Peer:
    """A stdlib socket peer running ``handler(sock)`` in a thread; re-raises its exception."""

    def __init__(self, target: Callable[..., Any], *args: Any) -> None:
        self.result: Any = None
        self.error: Optional[BaseException] = None

        def run() -> None:
            try:
                self.result = target(*args)
            except BaseException as e:  # noqa: BLE001 - reported by join()
                self.error = e

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()

    def join(self, timeout: float = WAIT * 3) -> Any:
        self.thread.join(timeout)
        if self.thread.is_alive():
            raise AssertionError("peer thread did not finish")
        if self.error is not None:
            raise self.error
        return self.result


@contextlib.contextmanager
def stdlib_server(handler: Callable[[socket.socket], Any], family: int = socket.AF_INET) -> Iterator[tuple[tuple[str, int], Peer]]:
    """A stdlib TCP server on loopback accepting one client and running ``handler(conn)``.
    Yields ((host, port), peer)."""
    host = "127.0.0.1" if family == socket.AF_INET else "::1"
    srv = socket.socket(family, socket.SOCK_STREAM)
    srv.bind((host, 0))
    srv.listen(16)
    srv.settimeout(WAIT)

    def serve() -> Any:
        conn, _ = srv.accept()
        conn.settimeout(WAIT * 3)
        with conn:
            return handler(conn)

    peer = Peer(serve)
    try:
        yield (host, srv.getsockname()[1]), peer
    finally:
        srv.close()


def need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.skip(f"{tool} is not installed")
    return path


@contextlib.contextmanager
def process(args: list[str], **kw: Any) -> Iterator[subprocess.Popen]:
    """Run a peer process, killed at the end."""
    p = subprocess.Popen(args, **kw)
    try:
        yield p
    finally:
        if p.poll() is None:
            p.kill()
        p.wait(WAIT)
        for f in (p.stdin, p.stdout, p.stderr):
            if f is not None:
                f.close()


def wait_listening(port: int, host: str = "127.0.0.1") -> None:
    """Wait until something accepts TCP connections on host:port."""
    deadline = time.monotonic() + WAIT
    while True:
        try:
            socket.create_connection((host, port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def wait_path(path: str) -> None:
    deadline = time.monotonic() + WAIT
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            raise AssertionError(f"{path} never appeared")
        time.sleep(0.02)


def readline(stream: Any, timeout: float = WAIT) -> str:
    """``stream.readline()`` of a child's pipe, waiting at most ``timeout`` seconds (then an
    AssertionError: the caller's ``finally`` kills the child, which ends the reading thread)."""
    box: list[Any] = []
    t = threading.Thread(target=lambda: box.append(stream.readline()), daemon=True)
    t.start()
    t.join(timeout)
    if not box:
        raise AssertionError(f"the child printed no line within {timeout} s")
    line = box[0]
    return (line.decode() if isinstance(line, bytes) else line).strip()


# Python code that makes Ctrl-C raise KeyboardInterrupt in a child even when SIGINT was ignored
# when it started: a shell starts background jobs (`bash .ci/test-all &`) with SIGINT ignored,
# children inherit that, and Python then installs no handler of its own.
SIGINT_DEFAULT = "import signal; signal.signal(signal.SIGINT, signal.default_int_handler)\n"


def run_python(code: str, **kw: Any) -> subprocess.Popen:
    """Start ``python -c code`` (unbuffered) with pipes."""
    return subprocess.Popen(
        [sys.executable, "-u", "-c", code],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kw,
    )
