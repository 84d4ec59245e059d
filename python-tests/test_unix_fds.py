"""Unix socket extras: file descriptors passed with SCM_RIGHTS (an open file and a socket, both
ways, between two processes; the peer in the other process is the stdlib's ``socket.send_fds`` /
``socket.recv_fds``) and the peer's credentials (SO_PEERCRED)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

import libsock
from _helpers import WAIT, readline

PEER = r"""
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(10)
s.connect(sys.argv[1])
print(os.getpid(), os.getuid(), os.getgid())
# libsock -> here: a file and a socket.
data, fds, flags, _ = socket.recv_fds(s, 1024, 4)
assert data == b"two" and len(fds) == 2, (data, fds)
with os.fdopen(fds[0], "rb") as f:
    f.seek(0)
    print(f.read().decode())
with socket.socket(fileno=fds[1]) as passed:
    passed.sendall(b"through the passed socket")
# here -> libsock: a file and one end of a socket pair.
with open(sys.argv[2], "w") as w:
    w.write("written by the stdlib")
g = open(sys.argv[2], "rb")
a, b = socket.socketpair()
socket.send_fds(s, [b"back"], [g.fileno(), b.fileno()])
g.close(); b.close()
a.settimeout(10)
print(a.recv(100).decode())
s.recv(1)
"""


def test_a_file_and_a_socket_travel_both_ways_with_the_stdlib(tmp_sock_dir: str) -> None:
    path = os.path.join(tmp_sock_dir, "s.sock")
    back = os.path.join(tmp_sock_dir, "back.txt")
    out = os.path.join(tmp_sock_dir, "out.txt")
    with libsock.listen(f"unix:{path}") as server:
        child = subprocess.Popen(
            [sys.executable, "-u", "-c", PEER, path, back],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            conn, _ = server.accept(timeout=WAIT)
            conn.settimeout(WAIT)
            pid, uid, gid = (int(x) for x in readline(child.stdout).split())
            assert conn.peer_credentials() == (pid, uid, gid) == (child.pid, os.getuid(), os.getgid())

            # libsock -> the stdlib.
            with open(out, "w") as f:
                f.write("written by libsock")
            mine, theirs = socket.socketpair()
            with open(out, "rb") as f:
                assert conn.send_fds(b"two", [f, theirs.fileno()]) == 3
            theirs.close()
            assert readline(child.stdout) == "written by libsock"
            mine.settimeout(WAIT)
            assert mine.recv(100) == b"through the passed socket"
            mine.close()

            # The stdlib -> libsock.
            data, fds = conn.recv_fds(64, 4)
            assert data == b"back" and len(fds) == 2
            assert all(not os.get_inheritable(fd) for fd in fds)  # close-on-exec
            with os.fdopen(fds[0], "rb") as g:
                g.seek(0)
                assert g.read() == b"written by the stdlib"
            with socket.socket(fileno=fds[1]) as end:
                end.sendall(b"through a socket the stdlib made")
            assert readline(child.stdout) == "through a socket the stdlib made"
            conn.sendall(b"!")
            assert child.wait(timeout=WAIT) == 0
            conn.close()
        finally:
            child.kill()
            child.wait(timeout=WAIT)


def test_too_many_descriptors_raise_and_keep_the_bytes() -> None:
    a, b = libsock.Connection.pair()
    with a, b:
        r, w = os.pipe()
        try:
            a.send_fds(b"abc", [r, w, r])
        finally:
            os.close(r)
            os.close(w)
        before = len(os.listdir("/proc/self/fd"))
        with pytest.raises(libsock.IoError, match=r"max_fds \(1\)"):
            b.recv_fds(16, 1, timeout=WAIT)
        assert len(os.listdir("/proc/self/fd")) == before  # nothing leaked
        assert b.recv(16, timeout=WAIT) == b"abc"  # the bytes stayed


def test_fd_calls_on_tcp_and_bad_arguments(pair: tuple[libsock.Connection, libsock.Connection]) -> None:
    client, _ = pair
    with pytest.raises(libsock.UnsupportedError, match="not a Unix socket connection"):
        client.send_fds(b"x", [0])
    with pytest.raises(libsock.UnsupportedError):
        client.recv_fds(16, 1)
    with pytest.raises(libsock.UnsupportedError):
        client.peer_credentials()
    a, b = libsock.Connection.pair()
    with a, b:
        assert a.peer_credentials() == (os.getpid(), os.getuid(), os.getgid())
        with pytest.raises(libsock.InvalidArgumentError, match="at least one byte"):
            a.send_fds(b"", [0])
        with pytest.raises(libsock.InvalidArgumentError, match="not a file descriptor"):
            a.send_fds(b"x", [-1])
        with pytest.raises(TypeError, match="fileno"):
            a.send_fds(b"x", ["zero"])  # type: ignore[list-item]
        with pytest.raises(libsock.InvalidArgumentError):
            b.recv_fds(16, 254)
        with pytest.raises(TimeoutError):
            b.recv_fds(16, 1, timeout=0.1)
        a.close()
        assert b.recv_fds(16, 1, timeout=WAIT) == (b"", [])
