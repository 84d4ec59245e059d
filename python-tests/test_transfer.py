"""``libsock.FileTransfer``: core's file protocol (the one ``libsock send-file``/``recv-file``
speak) from Python. Interop with an implementation written with the standard library only
(peers/lsf_peer.py, the CLI's former code) both ways, resume across implementations, over TLS
against Python's ``ssl``; refusal to overwrite, a changed partial file, a wrong checksum,
progress from another thread and cancel. Scenario S22 is in test_scenarios.py.
"""

from __future__ import annotations

import hashlib
import os
import socket
import ssl
import struct
import sys
import threading
from pathlib import Path
from typing import Any, Callable

import pytest

import libsock
from _helpers import WAIT

sys.path.insert(0, str(Path(__file__).resolve().parent / "peers"))
import lsf_peer  # noqa: E402

pytestmark = pytest.mark.timeout(120)
PART = ".libsock-part"


class Background:
    """Run ``fn`` on a thread; ``result()`` joins (bounded) and returns or re-raises."""

    def __init__(self, fn: Callable[[], Any]) -> None:
        self.value: Any = None
        self.error: BaseException | None = None

        def body() -> None:
            try:
                self.value = fn()
            except BaseException as e:  # noqa: BLE001 - handed to the test thread
                self.error = e

        self.thread = threading.Thread(target=body, daemon=True)
        self.thread.start()

    def result(self) -> Any:
        self.thread.join(WAIT * 3)
        assert not self.thread.is_alive(), "the peer thread did not finish"
        if self.error is not None:
            raise self.error
        return self.value


def stdlib_listener() -> tuple[socket.socket, tuple[str, int]]:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    s.settimeout(WAIT)
    return s, s.getsockname()


def accept_stdlib(s: socket.socket) -> socket.socket:
    c, _ = s.accept()
    c.settimeout(WAIT)
    return c


def write_random(path: Path, n: int) -> bytes:
    data = os.urandom(n)
    path.write_bytes(data)
    return data


# --- interop with the stdlib implementation ---------------------------------------------------


@pytest.mark.parametrize("version", [1, 2])
def test_stdlib_sender_to_core_receiver(tmp_path: Path, version: int) -> None:
    data = write_random(tmp_path / "src.bin", 2 * 1024 * 1024 + 3)
    inbox = tmp_path / "in"
    inbox.mkdir()
    with libsock.listen(("127.0.0.1", 0), timeout=WAIT) as server:
        def send() -> dict:
            with socket.create_connection(server.address, timeout=WAIT) as s:
                return lsf_peer.send(s, str(tmp_path / "src.bin"), version=version)
        peer = Background(send)
        conn, _ = server.accept(timeout=WAIT)
        with conn:
            t = libsock.FileTransfer.receiver(inbox)
            info = t.run(conn)
    sent = peer.result()
    assert sent["ok"]
    assert info["version"] == version
    assert info["sha256"] == sent["sha256"] == hashlib.sha256(data).hexdigest()
    assert info["path"] == str(inbox / "src.bin")
    assert (inbox / "src.bin").read_bytes() == data
    assert t.progress() == (len(data), len(data), "done")


def test_core_sender_to_stdlib_receiver(tmp_path: Path) -> None:
    data = write_random(tmp_path / "src.bin", 1024 * 1024 * 3 + 1)
    out = tmp_path / "out.bin"
    listener, addr = stdlib_listener()
    with listener:
        peer = Background(lambda: lsf_peer.recv(accept_stdlib(listener), str(out)))
        with libsock.connect(addr, timeout=WAIT) as conn:
            info = libsock.FileTransfer.sender(tmp_path / "src.bin").run(conn)
        got = peer.result()
    assert got["ok"] and got["resumed_at"] == 0
    assert info["sha256"] == got["sha256"] == hashlib.sha256(data).hexdigest()
    assert out.read_bytes() == data


def test_resume_across_implementations(tmp_path: Path) -> None:
    """A stdlib sender breaks off; core's receiver keeps the partial file and resumes it from a
    second stdlib sender. Then the other way: core's sender is cancelled, the stdlib receiver
    keeps its partial file, core's next sender sends only the rest."""
    data = write_random(tmp_path / "f.bin", 5 * 1024 * 1024 + 11)
    out = tmp_path / "f.out"
    half = 2 * 1024 * 1024 + 7
    with libsock.listen(("127.0.0.1", 0), timeout=WAIT) as server:
        def broken() -> dict:
            with socket.create_connection(server.address, timeout=WAIT) as s:
                return lsf_peer.send(s, str(tmp_path / "f.bin"), upto=half)
        peer = Background(broken)
        conn, _ = server.accept(timeout=WAIT)
        t = libsock.FileTransfer.receiver(out)
        with conn, pytest.raises(libsock.ClosedError) as broke:
            t.run(conn)
        peer.result()
        assert PART in str(broke.value)
        assert t.state == "failed" and t.error == str(broke.value)
        assert not out.exists()
        assert Path(str(out) + PART).read_bytes() == data[:half]

        def whole() -> dict:
            with socket.create_connection(server.address, timeout=WAIT) as s:
                return lsf_peer.send(s, str(tmp_path / "f.bin"))
        peer = Background(whole)
        conn, _ = server.accept(timeout=WAIT)
        with conn:
            got = libsock.FileTransfer.receiver(out, resume=True).run(conn)
        sent = peer.result()
    assert sent["ok"] and sent["resumed_at"] == half
    assert got["resumed_at"] == half and got["offered"] == half
    assert out.read_bytes() == data

    # The other way round.
    out2 = tmp_path / "f2.out"
    listener, addr = stdlib_listener()
    with listener:
        peer = Background(lambda: lsf_peer.recv(accept_stdlib(listener), str(out2)))
        with libsock.connect(addr, timeout=WAIT) as conn:
            t = libsock.FileTransfer.sender(tmp_path / "f.bin")
            while t.progress()[0] < half:
                assert t.step(conn) == "transferring"
            t.cancel()
            with pytest.raises(libsock.InterruptedError):
                t.step(conn)
        with pytest.raises(lsf_peer.PeerError):
            peer.result()
        kept = Path(str(out2) + PART).stat().st_size
        assert 0 < kept < len(data)
        peer = Background(lambda: lsf_peer.recv(accept_stdlib(listener), str(out2), resume=True))
        with libsock.connect(addr, timeout=WAIT) as conn:
            info = libsock.FileTransfer.sender(tmp_path / "f.bin").run(conn)
        got = peer.result()
    assert info["resumed_at"] == got["resumed_at"] == kept
    assert got["ok"] and out2.read_bytes() == data


# --- TLS against Python's ssl -----------------------------------------------------------------


@pytest.fixture
def cert_files(tmp_path: Path) -> tuple[str, str, str]:
    cert, key = libsock.self_signed(["localhost", "127.0.0.1"])
    (tmp_path / "c.pem").write_text(cert)
    (tmp_path / "k.pem").write_text(key)
    return str(tmp_path / "c.pem"), str(tmp_path / "k.pem"), libsock.fingerprint(cert)


def test_over_tls_both_ways_with_python_ssl(tmp_path: Path, cert_files) -> None:
    certfile, keyfile, pin = cert_files
    data = write_random(tmp_path / "t.bin", 3 * 1024 * 1024 + 5)
    # libsock (TLS client, pinned) sends to the stdlib receiver behind Python's ssl.
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(certfile, keyfile)
    listener, addr = stdlib_listener()
    out = tmp_path / "t.out"
    with listener:
        def serve() -> dict:
            with ctx.wrap_socket(accept_stdlib(listener), server_side=True) as s:
                return lsf_peer.recv(s, str(out))
        peer = Background(serve)
        with libsock.connect(addr, timeout=WAIT, tls=libsock.TLS(pin=pin)) as conn:
            assert conn.tls_info is not None
            info = libsock.FileTransfer.sender(tmp_path / "t.bin").run(conn)
        got = peer.result()
    assert got["ok"] and info["sha256"] == got["sha256"]
    assert out.read_bytes() == data

    # The stdlib sender behind Python's ssl sends to libsock's TLS listener.
    cctx = ssl.create_default_context(cafile=certfile)
    inbox = tmp_path / "in"
    inbox.mkdir()
    with libsock.listen(("127.0.0.1", 0), timeout=WAIT,
                        tls=libsock.TLS(cert=certfile, key=keyfile)) as server:
        def send() -> dict:
            raw = socket.create_connection(server.address, timeout=WAIT)
            with cctx.wrap_socket(raw, server_hostname="localhost") as s:
                return lsf_peer.send(s, str(tmp_path / "t.bin"))
        peer = Background(send)
        conn, _ = server.accept(timeout=WAIT)
        with conn:
            got = libsock.FileTransfer.receiver(inbox).run(conn)
        sent = peer.result()
    assert sent["ok"] and got["sha256"] == hashlib.sha256(data).hexdigest()
    assert (inbox / "t.bin").read_bytes() == data


# --- refusals and checks ----------------------------------------------------------------------


def test_refuses_to_overwrite(tmp_path: Path, pair) -> None:
    client, conn = pair
    (tmp_path / "src.bin").write_bytes(b"new contents")
    out = tmp_path / "out.bin"
    out.write_bytes(b"precious")
    with pytest.raises(FileExistsError) as info:
        libsock.FileTransfer.receiver(out)
    assert isinstance(info.value, libsock.IoError) and "exists" in str(info.value)
    inbox = tmp_path / "in"
    inbox.mkdir()
    (inbox / "src.bin").write_bytes(b"old")
    peer = Background(lambda: libsock.FileTransfer.receiver(inbox).run(conn))
    with pytest.raises(FileExistsError) as info:
        libsock.FileTransfer.sender(tmp_path / "src.bin").run(client)
    assert "refused" in str(info.value)
    with pytest.raises(libsock.FileExistsError):
        peer.result()
    assert (inbox / "src.bin").read_bytes() == b"old"
    assert not (inbox / ("src.bin" + PART)).exists()


def test_overwrite_replaces(tmp_path: Path, pair) -> None:
    client, conn = pair
    (tmp_path / "src.bin").write_bytes(b"new contents")
    out = tmp_path / "out.bin"
    out.write_bytes(b"precious")
    peer = Background(lambda: libsock.FileTransfer.receiver(out, overwrite=True).run(conn))
    libsock.FileTransfer.sender(tmp_path / "src.bin", name="other.name").run(client)
    assert peer.result()["name"] == "other.name"
    assert out.read_bytes() == b"new contents"


def test_a_changed_partial_file_is_detected(tmp_path: Path, pair) -> None:
    client, conn = pair
    data = write_random(tmp_path / "f.bin", 2 * 1024 * 1024)
    out = tmp_path / "f.out"
    partial = bytearray(data[: 1024 * 1024 + 3])
    partial[1000] ^= 1
    Path(str(out) + PART).write_bytes(bytes(partial))
    peer = Background(lambda: libsock.FileTransfer.receiver(out, resume=True).run(conn))
    sent = libsock.FileTransfer.sender(tmp_path / "f.bin").run(client)
    got = peer.result()
    assert sent["offered"] == len(partial) and sent["resumed_at"] == 0
    assert got["resumed_at"] == 0
    assert out.read_bytes() == data


def test_a_wrong_checksum_is_a_bad_frame(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with libsock.listen(("127.0.0.1", 0), timeout=WAIT) as server:
        def send() -> bytes:
            with socket.create_connection(server.address, timeout=WAIT) as s:
                s.sendall(b"LSF1" + struct.pack(">QH", 4, 1) + b"x" + b"data" + b"\0" * 32)
                return lsf_peer._exact(s, 1)
        peer = Background(send)
        conn, _ = server.accept(timeout=WAIT)
        with conn, pytest.raises(libsock.BadFrameError) as info:
            libsock.FileTransfer.receiver(out).run(conn)
    assert peer.result() == b"\x01"
    assert "checksum mismatch" in str(info.value)
    assert not out.exists() and not Path(str(out) + PART).exists()


def test_progress_from_another_thread(tmp_path: Path, pair) -> None:
    client, conn = pair
    size = 6 * 1024 * 1024 + 1
    write_random(tmp_path / "f.bin", size)
    t = libsock.FileTransfer.receiver(tmp_path / "out")
    assert t.progress() == (0, 0, "starting")
    peer = Background(lambda: libsock.FileTransfer.sender(tmp_path / "f.bin").run(client))
    runner = Background(lambda: t.run(conn))
    seen = []
    while True:
        done, total, state = t.progress()
        seen.append(done)
        assert total in (0, size) and done <= size
        if state in ("done", "failed"):
            break
        runner.thread.join(0.001)
    runner.result()
    peer.result()
    assert state == "done" and seen[-1] == size
    assert seen == sorted(seen)
    assert "done" in repr(t)


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError) as info:
        libsock.FileTransfer.sender(tmp_path / "nope")
    assert "nope" in str(info.value)
    with pytest.raises(libsock.InvalidArgumentError):
        libsock.FileTransfer.sender(tmp_path)
