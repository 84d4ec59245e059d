"""Real proxies from Debian's packages for the proxy tests (S24): dante's ``danted`` (SOCKS5,
no authentication, a rule denying one port), ``microsocks`` (SOCKS5 with a user name and
password) and ``tinyproxy`` (HTTP CONNECT, optional Basic authentication). Each runs on a
loopback port from a config file in a temporary directory, is waited for with a bounded wait and
killed (and reaped) at the end. CI installs them (.ci/install-deps): a missing one fails."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from typing import Callable, Iterator

import pytest

from _helpers import WAIT, free_port

USER, PASSWORD = "alice", "s3cret"


def _require(tool: str) -> str:
    path = shutil.which(tool) or next(
        (p for p in (f"/usr/sbin/{tool}", f"/usr/bin/{tool}") if os.path.exists(p)), None
    )
    if path is None:
        pytest.fail(f"{tool} is required (CI installs it with .ci/install-deps)")
    return path


class Proxy:
    """A running proxy: ``url(scheme, auth)`` names it."""

    def __init__(self, name: str, host: str, port: int, proc: subprocess.Popen, log: str) -> None:
        self.name, self.host, self.port, self.proc, self.log = name, host, port, proc, log

    def url(self, scheme: str, auth: str | None = None) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{auth + '@' if auth else ''}{host}:{self.port}"

    def log_text(self) -> str:
        try:
            with open(self.log, encoding="utf-8", errors="replace") as f:
                return f.read()
        except OSError:
            return ""


@contextlib.contextmanager
def _run(name: str, host: str, make: Callable[[int, str], list[str]]) -> Iterator[Proxy]:
    d = tempfile.mkdtemp(prefix=f"ls-{name}-")
    port = free_port() if host == "127.0.0.1" else _free_port6()
    log = os.path.join(d, "log")
    args = make(port, d)
    with open(log, "wb") as out:
        proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=out, stderr=out)
    p = Proxy(name, host, port, proc, log)
    try:
        deadline = time.monotonic() + WAIT
        while True:
            if proc.poll() is not None:
                pytest.fail(f"{name} exited at start ({proc.returncode}): {p.log_text()}")
            try:
                socket.create_connection((host, port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"{name} did not listen on {port}: {p.log_text()}")
                time.sleep(0.02)
        yield p
    finally:
        proc.kill()
        proc.wait(timeout=WAIT)
        shutil.rmtree(d, ignore_errors=True)


def _free_port6() -> int:
    with socket.socket(socket.AF_INET6) as s:
        s.bind(("::1", 0))
        return int(s.getsockname()[1])


def dante(denied: int) -> contextlib.AbstractContextManager[Proxy]:
    """danted: SOCKS5 without authentication; a rule refuses 127.0.0.1:``denied``."""
    exe = _require("danted")

    def make(port: int, d: str) -> list[str]:
        user = "user.privileged: root\nuser.unprivileged: nobody\n" if os.geteuid() == 0 else ""
        conf = os.path.join(d, "danted.conf")
        with open(conf, "w") as f:
            f.write(
                "logoutput: stderr\n"
                f"internal: 127.0.0.1 port = {port}\n"
                "external: 127.0.0.1\n"
                "clientmethod: none\nsocksmethod: none\n"
                f"{user}"
                "client pass { from: 127.0.0.0/8 to: 0.0.0.0/0 }\n"
                f"socks block {{ from: 0.0.0.0/0 to: 127.0.0.1/32 port = {denied} log: error }}\n"
                "socks pass { from: 0.0.0.0/0 to: 0.0.0.0/0 }\n"
            )
        return [exe, "-f", conf, "-N", "1", "-p", os.path.join(d, "danted.pid")]

    return _run("danted", "127.0.0.1", make)


def microsocks(auth: bool, host: str = "127.0.0.1") -> contextlib.AbstractContextManager[Proxy]:
    """microsocks: SOCKS5, with user ``alice`` and password ``s3cret`` when ``auth``."""
    exe = _require("microsocks")

    def make(port: int, d: str) -> list[str]:
        extra = ["-u", USER, "-P", PASSWORD] if auth else []
        return [exe, "-i", host, "-p", str(port), *extra]

    return _run("microsocks", host, make)


def tinyproxy(auth: bool) -> contextlib.AbstractContextManager[Proxy]:
    """tinyproxy: HTTP CONNECT to any port, Basic authentication ``alice:s3cret`` when ``auth``."""
    exe = _require("tinyproxy")

    def make(port: int, d: str) -> list[str]:
        conf = os.path.join(d, "tinyproxy.conf")
        with open(conf, "w") as f:
            f.write(
                f"Port {port}\nListen 127.0.0.1\nTimeout 30\nMaxClients 20\nAllow 127.0.0.1\n"
                f"LogLevel Info\nDisableViaHeader Yes\nPidFile \"{d}/tinyproxy.pid\"\n"
            )
            if os.geteuid() == 0:
                f.write("User nobody\nGroup nogroup\n")
            if auth:
                f.write(f"BasicAuth {USER} {PASSWORD}\n")
        return [exe, "-d", "-c", conf]

    return _run("tinyproxy", "127.0.0.1", make)
