"""Buffers: recv_into any writable buffer (bytearray, memoryview slices, array.array, numpy)
without copies, send from any bytes-like object, and 64 MiB byte-exact through recv_into."""

from __future__ import annotations

import array
import hashlib
import os
import socket

import pytest

import libsock
from _helpers import WAIT, Peer, recv_all, stdlib_server


def test_recv_into_bytearray_memoryview_and_offsets(pair: tuple[libsock.Connection, libsock.Connection]) -> None:
    client, server = pair
    client.sendall(b"0123456789")
    buf = bytearray(20)
    n = server.recv_into(memoryview(buf)[5:], 4)
    assert n == 4 and buf[5:9] == b"0123" and buf[:5] == bytes(5)
    n = server.recv_exact_into(memoryview(buf)[:6])
    assert n == 6 and buf[:6] == b"456789"


def test_recv_into_array_array(pair: tuple[libsock.Connection, libsock.Connection]) -> None:
    client, server = pair
    values = array.array("i", range(1000))
    client.sendall(values)  # send straight from the array's buffer
    out = array.array("i", bytes(4000))
    assert server.recv_exact_into(out) == 4000
    assert out == values
    a = array.array("d", [0.0] * 4)
    client.sendall(array.array("d", [1.5, 2.5]))
    got = 0
    while got < 16:
        got += server.recv_into(memoryview(a).cast("B")[got:16])
    assert list(a) == [1.5, 2.5, 0.0, 0.0]


def test_recv_into_numpy(pair: tuple[libsock.Connection, libsock.Connection]) -> None:
    np = pytest.importorskip("numpy")
    client, server = pair
    samples = np.arange(100_000, dtype="<f4")
    client.sendall(samples)  # numpy arrays are bytes-like
    out = np.empty(100_000, dtype="<f4")
    assert server.recv_exact_into(out) == out.nbytes
    assert np.array_equal(out, samples)
    # recv_into writes into a numpy array in place (partial reads allowed).
    img = np.zeros((4, 8), dtype=np.uint8)
    client.sendall(bytes(range(32)))
    got = 0
    while got < 32:
        got += server.recv_into(img.reshape(-1)[got:])
    assert img.tobytes() == bytes(range(32))
    # A message straight into a numpy buffer.
    client.framing = server.framing = libsock.LengthPrefixed()
    client.send_msg(np.full(10, 7, dtype=np.int16))
    dst = np.zeros(10, dtype=np.int16)
    assert server.recv_msg_into(dst) == 20
    assert (dst == 7).all()


def test_readonly_and_non_contiguous_buffers_are_refused(pair: tuple[libsock.Connection, libsock.Connection]) -> None:
    client, server = pair
    with pytest.raises(TypeError):
        server.recv_into(b"bytes are read-only")
    with pytest.raises(TypeError):
        server.recv_into(memoryview(bytearray(10)).toreadonly())
    np = pytest.importorskip("numpy")
    with pytest.raises(TypeError):
        server.recv_into(np.zeros((4, 4), dtype=np.uint8)[:, 0])  # strided
    with pytest.raises(TypeError):
        client.sendall(np.zeros((4, 4), dtype=np.uint8)[:, 0])


def test_send_accepts_every_bytes_like(pair: tuple[libsock.Connection, libsock.Connection]) -> None:
    client, server = pair
    for data in (b"ab", bytearray(b"cd"), memoryview(b"xxefxx")[2:4], array.array("B", b"gh")):
        client.sendall(data)
    assert server.recv_exact(8) == b"abcdefgh"


def test_64mib_through_recv_into_byte_exact() -> None:
    data = os.urandom(64 * 1024 * 1024)

    def peer(conn: socket.socket) -> str:
        h = hashlib.sha256(recv_all(conn)).hexdigest()
        return h

    with stdlib_server(peer) as (addr, p):
        # libsock -> stdlib: sendall from a memoryview.
        conn = libsock.connect(addr, timeout=WAIT * 3)
        conn.sendall(memoryview(data))
        conn.close()
        assert p.join() == hashlib.sha256(data).hexdigest()

    def feeder(conn: socket.socket) -> None:
        conn.sendall(data)

    with stdlib_server(feeder) as (addr, p):
        # stdlib -> libsock: recv_into a preallocated buffer, chunk by chunk.
        conn = libsock.connect(addr, timeout=WAIT * 3)
        buf = bytearray(len(data))
        view = memoryview(buf)
        got = 0
        while got < len(buf):
            n = conn.recv_into(view[got:])
            assert n > 0
            got += n
        assert conn.recv(1) == b""
        assert hashlib.sha256(buf).digest() == hashlib.sha256(data).digest()
        conn.close()
        p.join()


def test_64mib_libsock_to_libsock_with_sendfile_and_recvfile(tmp_path: "os.PathLike[str]") -> None:
    src = os.path.join(tmp_path, "src.bin")
    dst = os.path.join(tmp_path, "dst.bin")
    data = os.urandom(64 * 1024 * 1024)
    with open(src, "wb") as f:
        f.write(data)
    with libsock.listen(("127.0.0.1", 0)) as server:
        client = libsock.connect(server.address, timeout=WAIT * 3)
        conn, _ = server.accept(timeout=WAIT)
        conn.settimeout(WAIT * 3)
        sender = Peer(client.sendfile, src)
        assert conn.recv_file(dst, len(data)) == len(data)
        assert sender.join() == len(data)
        client.close()
        conn.close()
    with open(dst, "rb") as f:
        assert hashlib.sha256(f.read()).digest() == hashlib.sha256(data).digest()
