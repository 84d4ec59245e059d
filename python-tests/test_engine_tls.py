"""TLS on the engine from Python: ``Server(tls=...)`` and ``Client(tls=...)`` against Python's
``ssl`` module and ``openssl s_client`` as real peers, failures as events with their reasons,
truncation, and 1,000 TLS clients on one server."""

from __future__ import annotations

import os
import resource
import shutil
import socket
import ssl
import struct
import subprocess
import threading
import time

import pytest

import libsock
from _helpers import WAIT
from test_tls import pki, ssl_server  # noqa: F401  (pki is a fixture)

pytestmark = pytest.mark.timeout(180)


def until(obj: libsock.Server | libsock.Client, kind: str, limit: float = 20.0) -> list[libsock.Event]:
    """Pull events one at a time until one of ``kind`` arrives; returns all seen (it last)."""
    seen: list[libsock.Event] = []
    end = time.monotonic() + limit
    while time.monotonic() < end:
        ev = obj.next_event(timeout=0.2)
        if ev is None:
            continue
        seen.append(ev)
        if ev.kind == kind:
            return seen
    raise AssertionError(f"no {kind} event within {limit} s; saw {[e.kind for e in seen]}")


def framed(sock: ssl.SSLSocket, data: bytes) -> None:
    sock.sendall(struct.pack(">I", len(data)) + data)


def read_exact(sock: ssl.SSLSocket, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        b = sock.recv(n - len(buf))
        assert b, "end of stream inside a frame"
        buf += b
    return bytes(buf)


def read_frame(sock: ssl.SSLSocket) -> bytes:
    (n,) = struct.unpack(">I", read_exact(sock, 4))
    return read_exact(sock, n)


def test_python_ssl_clients_echo_through_a_tls_engine_server(pki: dict[str, str]) -> None:
    tls = libsock.TLS(cert=pki["server.pem"], key=pki["server.key"], alpn=["echo/1"])
    with libsock.Server(("127.0.0.1", 0), tls=tls) as server:
        port = server.address[1]
        ctx = ssl.create_default_context(cafile=pki["ca.pem"])
        ctx.set_alpn_protocols(["echo/1"])
        msgs = [os.urandom(n) for n in (0, 1, 100, 16384, 16385, 1 << 20)]
        with socket.create_connection(("127.0.0.1", port), timeout=WAIT) as raw:
            with ctx.wrap_socket(raw, server_hostname="localhost") as s:
                assert s.selected_alpn_protocol() == "echo/1"
                for m in msgs:
                    framed(s, m)
                evs = until(server, "connected")
                client = evs[-1].client
                info = server.tls_info(client)
                assert info is not None and info["alpn"] == b"echo/1"
                got: list[bytes] = []
                while len(got) < len(msgs):
                    ev = server.next_event(timeout=WAIT)
                    assert ev is not None
                    if ev.kind == "message":
                        assert ev.data is not None
                        got.append(ev.data)
                        server.send(ev.client, ev.data, timeout=WAIT)
                assert got == msgs
                assert [read_frame(s) for _ in msgs] == msgs
                s.unwrap()  # close_notify from the peer: an orderly end
        evs = until(server, "disconnected")
        assert evs[-1].reason == "peer-closed"
        assert server.stats()["tls_failures"] == 0


def test_engine_client_to_python_ssl_server_and_truncation(pki: dict[str, str]) -> None:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(pki["server.pem"], pki["server.key"])

    # The server ends the connection only after the client's TLS details were read (they are
    # gone once the connection is: on a loaded machine the end could otherwise come first).
    checked = threading.Event()

    def serve(s: ssl.SSLSocket) -> None:
        framed(s, read_frame(s))
        checked.wait(WAIT)
        framed(s, b"last words")
        # Returning closes the SSLSocket, which (in Python's ssl) sends no close_notify.

    port, t = ssl_server(ctx, serve)
    c = libsock.Client(("127.0.0.1", port), reconnect=False,
                       tls=libsock.TLS(ca=pki["ca.pem"], server_name="localhost"))
    try:
        c.send(b"hello")
        assert until(c, "connected")[-1].kind == "connected"
        info = c.tls_info
        checked.set()
        assert info is not None and info["version"] in ("TLSv1.2", "TLSv1.3")
        evs = until(c, "disconnected")
        data = [e.data for e in evs if e.kind == "message"]
        assert data == [b"hello", b"last words"]
        assert evs[-1].reason == "tls", evs[-1]
        assert evs[-1].error is not None and "close_notify" in evs[-1].error
        assert evs[-1].error_code == libsock.ERROR_CODES["TLS"]
    finally:
        c.close()
        t.join(WAIT)


def test_failed_handshakes_are_warnings_and_stats(pki: dict[str, str]) -> None:
    tls = libsock.TLS(cert=pki["server.pem"], key=pki["server.key"], handshake_timeout=0.5)
    with libsock.Server(("127.0.0.1", 0), tls=tls) as server:
        port = server.address[1]
        # A Python ssl client that trusts another CA refuses the server.
        ctx = ssl.create_default_context(cafile=pki["device.pem"])
        with socket.create_connection(("127.0.0.1", port), timeout=WAIT) as raw:
            with pytest.raises(ssl.SSLError):
                ctx.wrap_socket(raw, server_hostname="localhost")
        ev = until(server, "warning")[-1]
        assert ev.error_code == libsock.ERROR_CODES["TLS"] and ev.client == 0
        # A silent peer: the handshake timeout.
        with socket.create_connection(("127.0.0.1", port), timeout=WAIT):
            ev = until(server, "warning")[-1]
            assert ev.error is not None and "no handshake within 500 ms" in ev.error
        assert server.stats()["tls_failures"] == 2
        assert server.stats()["connections_total"] == 0
    # A libsock client with a wrong pin gives up with reason "tls".
    with libsock.Server(("127.0.0.1", 0), tls=tls) as server:
        c = libsock.Client(server.address, reconnect=False, tls=libsock.TLS(pin="00" * 32))
        try:
            evs = until(c, "closed")
            disc = [e for e in evs if e.kind == "disconnected"]
            assert disc and disc[-1].reason == "tls" and disc[-1].client == 0
            assert c.stats()["tls_failures"] == 1
        finally:
            c.close()


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")
def test_openssl_s_client_tls12_to_the_engine_server(pki: dict[str, str]) -> None:
    tls = libsock.TLS(cert=pki["server.pem"], key=pki["server.key"])
    with libsock.Server(("127.0.0.1", 0), tls=tls, framing=libsock.Delimited(b"\n")) as server:
        port = server.address[1]
        p = subprocess.Popen(
            ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-tls1_2", "-quiet",
             "-CAfile", pki["ca.pem"], "-verify_return_error", "-servername", "localhost"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            assert p.stdin is not None and p.stdout is not None
            p.stdin.write(b"ping over TLS 1.2\n")
            p.stdin.flush()
            evs = until(server, "message")
            client = evs[-1].client
            assert evs[-1].data == b"ping over TLS 1.2"
            info = server.tls_info(client)
            assert info is not None and info["version"] == "TLSv1.2"
            server.send(client, b"pong")
            line = p.stdout.readline()
            assert line == b"pong\n"
        finally:
            p.kill()
            p.communicate(timeout=WAIT)


def test_a_thousand_tls_clients_echo_on_one_engine_server() -> None:
    n = 1000
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 2 * n + 200
    if soft < want:
        if hard != resource.RLIM_INFINITY and hard < want:
            pytest.skip(f"descriptor limit {hard} < {want}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    cert, key = libsock.self_signed(["127.0.0.1"])
    pin = libsock.fingerprint(cert)
    with libsock.Server(("127.0.0.1", 0), tls=libsock.TLS(cert=cert, key=key)) as server:
        ctls = libsock.TLS(pin=pin)
        clients = [libsock.Client(server.address, tls=ctls, reconnect=False) for _ in range(n)]
        try:
            for i, c in enumerate(clients):
                c.send(b"client %d" % i)
            echoed = 0
            end = time.monotonic() + 120
            while echoed < n and time.monotonic() < end:
                for ev in server.events(timeout=0.5, max=256):
                    if ev.kind == "message":
                        assert ev.data is not None
                        server.send(ev.client, ev.data, timeout=WAIT)
                        echoed += 1
            assert echoed == n
            for i, c in enumerate(clients):
                got = None
                while got is None:
                    cev = c.next_event(timeout=WAIT)
                    assert cev is not None, f"client {i}: no echo"
                    if cev.kind == "message":
                        got = cev.data
                assert got == b"client %d" % i
            st = server.stats()
            assert st["connections"] == n and st["tls_failures"] == 0
        finally:
            for c in clients:
                c.close(grace=0)
