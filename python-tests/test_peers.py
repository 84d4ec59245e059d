"""libsock against socat and ncat, the tools people test sockets with."""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import time

import pytest

import libsock
from _helpers import WAIT, free_port, need, process, readline, wait_listening, wait_path


def test_socat_tcp_echo_server() -> None:
    socat = need("socat")
    port = free_port()
    with process([socat, f"TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork", "PIPE"]):
        wait_listening(port)
        data = os.urandom(2_000_000)
        with libsock.connect(("127.0.0.1", port), timeout=WAIT, framing=libsock.LengthPrefixed()) as conn:
            got = bytearray()
            conn.sendall(data[:1000])
            got += conn.recv_exact(1000)
            conn.send_msg(b"framed through socat")
            assert conn.recv_msg() == b"framed through socat"  # socat echoes the frame whole
            conn.sendall(data[1000:])
            conn.shutdown("write")
            while True:
                b = conn.recv(1 << 16)
                if not b:
                    break
                got += b
        assert bytes(got) == data


def test_socat_client_to_libsock_server() -> None:
    socat = need("socat")
    data = os.urandom(500_000)
    with libsock.listen(("127.0.0.1", 0), timeout=WAIT) as server:
        port = server.address[1]
        with process([socat, "-u", "STDIN", f"TCP:127.0.0.1:{port}"], stdin=subprocess.PIPE) as p:
            assert p.stdin is not None
            p.stdin.write(data)
            p.stdin.close()
            p.stdin = None
            conn, _ = server.accept(timeout=WAIT)
            chunks = []
            while True:
                b = conn.recv()
                if not b:
                    break
                chunks.append(b)
            assert hashlib.sha256(b"".join(chunks)).digest() == hashlib.sha256(data).digest()
            conn.close()
            assert p.wait(WAIT) == 0


def test_ncat_client_sends_lines_to_libsock_server() -> None:
    ncat = need("ncat")
    lines = [f"line {i}".encode() for i in range(100)]
    with libsock.listen(("127.0.0.1", 0), framing=libsock.Delimited(b"\n"), timeout=WAIT) as server:
        port = server.address[1]
        with process([ncat, "--send-only", "127.0.0.1", str(port)], stdin=subprocess.PIPE) as p:
            assert p.stdin is not None
            p.stdin.write(b"".join(l + b"\n" for l in lines))
            p.stdin.close()
            p.stdin = None
            conn, _ = server.accept(timeout=WAIT)
            assert list(conn) == lines
            conn.close()
            p.wait(WAIT)


def test_ncat_server_receives_from_libsock_client() -> None:
    ncat = need("ncat")
    port = free_port()
    with process(
        [ncat, "-l", "--recv-only", "127.0.0.1", str(port)], stdout=subprocess.PIPE
    ) as p:
        deadline = time.monotonic() + WAIT
        while True:
            try:
                conn = libsock.connect(("127.0.0.1", port), timeout=WAIT)
                break
            except libsock.ConnectionRefusedError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        data = os.urandom(300_000)
        conn.sendall(data)
        conn.close()
        out, _ = p.communicate(timeout=WAIT)  # ncat exits at the end of the stream
        assert out == data


def test_socat_udp_echo() -> None:
    socat = need("socat")
    port = free_port(socket.SOCK_DGRAM)
    with process([socat, f"UDP-RECVFROM:{port},bind=127.0.0.1,fork", "PIPE"]):
        time.sleep(0.2)
        with libsock.udp(connect=("127.0.0.1", port), timeout=1) as sock:
            for _ in range(50):  # socat may not be bound yet: retry
                sock.send(b"udp via socat")
                try:
                    assert sock.recv() == b"udp via socat"
                    break
                except (libsock.TimeoutError, libsock.ConnectionRefusedError):
                    continue
            else:
                raise AssertionError("no echo from socat")


def test_socat_unix_socket(tmp_sock_dir: str) -> None:
    socat = need("socat")
    path = os.path.join(tmp_sock_dir, "socat.sock")
    with process([socat, f"UNIX-LISTEN:{path},fork", "PIPE"]):
        wait_path(path)
        with libsock.connect(f"unix:{path}", timeout=WAIT) as conn:
            conn.sendall(b"over a unix socket")
            assert conn.recv_exact(18) == b"over a unix socket"


def test_libsock_unix_server_with_socat_client(tmp_sock_dir: str) -> None:
    socat = need("socat")
    path = os.path.join(tmp_sock_dir, "ls.sock")
    with libsock.listen(f"unix:{path}", timeout=WAIT) as server:
        with process([socat, "-", f"UNIX-CONNECT:{path}"], stdin=subprocess.PIPE, stdout=subprocess.PIPE) as p:
            conn, _ = server.accept(timeout=WAIT)
            conn.sendall(b"hello socat\n")
            assert p.stdout is not None
            assert readline(p.stdout) == "hello socat"
            assert p.stdin is not None
            p.stdin.write(b"hello libsock\n")
            p.stdin.flush()
            assert conn.readline() == b"hello libsock\n"
            conn.close()
