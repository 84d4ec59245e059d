"""Objects collected without close() release their sockets (counted in /proc/self/fd)."""

from __future__ import annotations

import gc
import os

import pytest

import libsock
from _helpers import WAIT


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


pytestmark = pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc/self/fd")


def test_no_fd_leak_when_objects_are_dropped_without_close(tmp_sock_dir: str) -> None:
    gc.collect()
    before = open_fds()
    for i in range(200):
        server = libsock.listen(("127.0.0.1", 0))
        client = libsock.connect(server.address, timeout=WAIT, framing=libsock.LengthPrefixed())
        conn, _ = server.accept(timeout=WAIT)
        client.send_msg(b"x")
        assert conn.recv(100) == b"\x00\x00\x00\x01x"
        udp = libsock.udp(("127.0.0.1", 0))
        udp2 = libsock.udp(connect=udp.address)
        a, b = libsock.Connection.pair()
        d1, d2 = libsock.Datagram.pair()
        upath = f"unix:{tmp_sock_dir}/s{i}"
        userver = libsock.listen(upath)
        uclient = libsock.connect(upath)
        del server, client, conn, udp, udp2, a, b, d1, d2, userver, uclient
    gc.collect()
    after = open_fds()
    assert after <= before + 2, f"{after - before} file descriptors leaked"
    # The Unix socket files went away with their listeners.
    assert os.listdir(tmp_sock_dir) == []


def test_no_fd_leak_on_failed_calls() -> None:
    gc.collect()
    before = open_fds()
    s = libsock.listen(("127.0.0.1", 0))
    port = s.address[1]
    s.close()
    for _ in range(200):
        with pytest.raises(ConnectionRefusedError):
            libsock.connect(("127.0.0.1", port), timeout=WAIT)
        with pytest.raises(ValueError):
            libsock.connect("bad address")
    gc.collect()
    assert open_fds() <= before + 2


def test_closed_objects_hold_no_descriptor() -> None:
    gc.collect()
    before = open_fds()
    keep: list[libsock.Listener | libsock.Connection] = []
    for _ in range(100):
        server = libsock.listen(("127.0.0.1", 0))
        client = libsock.connect(server.address, timeout=WAIT)
        conn, _ = server.accept(timeout=WAIT)
        for x in (server, client, conn):
            x.close()
        keep += [server, client, conn]  # alive but closed
    gc.collect()
    assert open_fds() <= before + 2
    assert all(x.closed for x in keep)
