"""The scenario list of every door (docs/SCENARIOS.md), one test per scenario, over real sockets
against real peers (the stdlib socket module, a C program built at test time)."""

from __future__ import annotations

import hashlib
import os
import random
import resource
import socket
import struct
import subprocess
import threading
import time
from pathlib import Path

import pytest

import libsock
from _helpers import WAIT, Peer, need, recv_all, recv_n, stdlib_server

# ---------------------------------------------------------------------------------------------
# S01


def test_s01_connect_send_1kib_echo_close() -> None:
    payload = os.urandom(1024)

    def echo(conn: socket.socket) -> None:
        conn.sendall(recv_n(conn, len(payload)))

    with stdlib_server(echo) as (addr, peer):
        conn = libsock.connect(addr, timeout=WAIT)
        conn.sendall(payload)
        assert conn.recv_exact(1024) == payload
        conn.close()
        conn.close()  # harmless
        assert conn.closed
        peer.join()


# ---------------------------------------------------------------------------------------------
# S02


def test_s02_connection_refused_names_the_address() -> None:
    port = _closed_port()
    with pytest.raises(libsock.ConnectionRefusedError) as info:
        libsock.connect(("127.0.0.1", port), timeout=WAIT)
    e = info.value
    assert isinstance(e, ConnectionRefusedError)  # the builtin
    assert isinstance(e, libsock.Error) and isinstance(e, OSError)
    assert f"127.0.0.1:{port}" in str(e)
    assert e.code == libsock.ERROR_CODES["CONNECTION_REFUSED"] == -2
    assert e.errno == 111  # ECONNREFUSED on Linux


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# ---------------------------------------------------------------------------------------------
# S03


def test_s03_recv_timeout_from_silent_peer_then_still_works() -> None:
    go = threading.Event()

    def silent_then_talk(conn: socket.socket) -> None:
        go.wait(WAIT)
        conn.sendall(b"late")
        recv_all(conn)

    with stdlib_server(silent_then_talk) as (addr, peer):
        conn = libsock.connect(addr)
        t0 = time.monotonic()
        with pytest.raises(libsock.TimeoutError) as info:
            conn.recv(100, timeout=0.2)
        elapsed = time.monotonic() - t0
        assert 0.2 <= elapsed < 2.0
        assert isinstance(info.value, TimeoutError)
        assert info.value.code == -1
        # The connection still works afterwards.
        go.set()
        assert conn.recv_exact(4, timeout=WAIT) == b"late"
        conn.close()
        peer.join()


# ---------------------------------------------------------------------------------------------
# S04

SIZE_64M = 64 * 1024 * 1024


def test_s04_64mib_random_each_way_byte_exact() -> None:
    up = os.urandom(SIZE_64M)
    down = os.urandom(SIZE_64M)

    def peer_side(conn: socket.socket) -> str:
        # Send our 64 MiB while reading theirs (a thread each way: neither side may block the
        # other with full buffers).
        sender = Peer(conn.sendall, down)
        h = hashlib.sha256()
        got = 0
        while got < SIZE_64M:
            b = conn.recv(1 << 20)
            assert b, "stdlib peer: end of stream too early"
            h.update(b)
            got += len(b)
        sender.join()
        return h.hexdigest()

    with stdlib_server(peer_side) as (addr, peer):
        conn = libsock.connect(addr, timeout=WAIT * 3)
        sender = Peer(conn.sendall, up)
        received = conn.recv_exact(SIZE_64M)
        sender.join()
        assert hashlib.sha256(received).hexdigest() == hashlib.sha256(down).hexdigest()
        assert peer.join() == hashlib.sha256(up).hexdigest()
        conn.close()


# ---------------------------------------------------------------------------------------------
# S05: a peer in another language (C), building and parsing frames by hand.

C_LENGTH_PREFIXED_ECHO = r"""
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* 1 = got n bytes, 0 = end of stream before the first byte, -1 = error or end mid-way */
static int readn(int fd, unsigned char *b, size_t n) {
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, b + got, n - got);
        if (r == 0) return got == 0 ? 0 : -1;
        if (r < 0) return -1;
        got += (size_t)r;
    }
    return 1;
}

static int writen(int fd, const unsigned char *b, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, b, n);
        if (w <= 0) return -1;
        b += w;
        n -= (size_t)w;
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 2) return 1;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)atoi(argv[1]));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) return 2;
    static unsigned char body[1 << 17];
    for (;;) {
        unsigned char h[4];
        int r = readn(fd, h, 4);
        if (r == 0) break;
        if (r < 0) return 3;
        uint32_t len = ((uint32_t)h[0] << 24) | ((uint32_t)h[1] << 16) | ((uint32_t)h[2] << 8) | h[3];
        if (len > sizeof body) return 4;
        if (len > 0 && readn(fd, body, len) != 1) return 5;
        unsigned char out[4] = {(unsigned char)(len >> 24), (unsigned char)(len >> 16),
                                (unsigned char)(len >> 8), (unsigned char)len};
        if (writen(fd, out, 4) || writen(fd, body, len)) return 6;
    }
    close(fd);
    return 0;
}
"""


@pytest.fixture(scope="module")
def c_echo_peer(tmp_path_factory: pytest.TempPathFactory) -> Path:
    gcc = need("gcc")
    d = tmp_path_factory.mktemp("cpeer")
    src = d / "lp_echo.c"
    src.write_text(C_LENGTH_PREFIXED_ECHO)
    exe = d / "lp_echo"
    subprocess.run([gcc, "-O2", "-o", str(exe), str(src)], check=True, timeout=300)
    return exe


def test_s05_1000_length_prefixed_messages_with_a_c_peer(c_echo_peer: Path) -> None:
    rng = random.Random(5)
    sizes = [rng.randint(0, 64 * 1024) for _ in range(1000)]
    sizes[:3] = [0, 1, 64 * 1024]
    msgs = [rng.randbytes(n) for n in sizes]
    with libsock.listen(("127.0.0.1", 0), framing=libsock.LengthPrefixed(), timeout=WAIT) as server:
        proc = subprocess.Popen([str(c_echo_peer), str(server.address[1])])
        try:
            conn, _ = server.accept(timeout=WAIT)

            def send_all() -> None:
                for m in msgs:
                    conn.send_msg(m)
                conn.shutdown("write")

            sender = Peer(send_all)
            got = [conn.recv_msg() for _ in msgs]
            sender.join()
            assert got == msgs  # intact, in order, boundaries kept
            with pytest.raises(libsock.ClosedError):
                conn.recv_msg()
            conn.close()
            assert proc.wait(WAIT) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(WAIT)


# ---------------------------------------------------------------------------------------------
# S06


def test_s06_crlf_lines_and_a_line_longer_than_max_len() -> None:
    lines = [b"first", b"", b"third line with spaces", b"x" * 100]
    long_line = b"y" * 5000

    def peer(conn: socket.socket) -> None:
        wire = b"".join(l + b"\r\n" for l in lines) + long_line + b"\r\n" + b"after\r\n"
        for i in range(0, len(wire), 7):  # dribbled in small pieces
            conn.sendall(wire[i : i + 7])
        recv_all(conn)

    with stdlib_server(peer) as (addr, p):
        conn = libsock.connect(addr, timeout=WAIT, framing=libsock.Delimited(b"\r\n", max_len=1000))
        assert [conn.recv_msg() for _ in lines] == lines
        with pytest.raises(libsock.FrameTooLargeError) as info:
            conn.recv_msg()
        assert info.value.code == -11
        assert conn.recv_msg() == b"after"  # the stream goes on after the long line
        conn.close()
        p.join()


def test_s06_claimed_length_is_never_allocated() -> None:
    """A length prefix claiming 4 GiB with max_len 1 MiB: FrameTooLargeError at once, and the
    process does not grow by anything like the claim."""

    def peer(conn: socket.socket) -> None:
        conn.sendall(b"\xff\xff\xff\xf0" + b"z" * 100)
        recv_all(conn)

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with stdlib_server(peer) as (addr, p):
        conn = libsock.connect(addr, timeout=WAIT, framing=libsock.LengthPrefixed(max_len=1 << 20))
        with pytest.raises(libsock.FrameTooLargeError):
            conn.recv_msg()
        conn.close()
        p.join()
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert after - before < 512 * 1024  # KiB: far below the 4 GiB claimed


# ---------------------------------------------------------------------------------------------
# S07


def test_s07_half_close_then_read_the_whole_reply() -> None:
    request = os.urandom(300_000)
    reply = os.urandom(500_000)

    def peer(conn: socket.socket) -> bytes:
        got = recv_all(conn)  # reads to the end: our shutdown("write")
        conn.sendall(reply)
        return got

    with stdlib_server(peer) as (addr, p):
        conn = libsock.connect(addr, timeout=WAIT)
        conn.sendall(request)
        conn.shutdown("write")
        chunks = []
        while True:
            b = conn.recv(65536)
            if not b:
                break
            chunks.append(b)
        assert b"".join(chunks) == reply
        assert p.join() == request
        conn.close()


# ---------------------------------------------------------------------------------------------
# S08


def test_s08_use_after_close_invented_handle_and_empty_buffers(
    pair: tuple[libsock.Connection, libsock.Connection],
) -> None:
    client, server = pair
    client.close()
    for call in (
        lambda: client.send(b"x"),
        lambda: client.sendall(b"x"),
        lambda: client.recv(1),
        lambda: client.recv_into(bytearray(1)),
        lambda: client.recv_msg(),
        lambda: client.send_msg(b"x"),
        lambda: client.shutdown("write"),
        lambda: client.local_address,
        lambda: client.set_option("nodelay", True),
        lambda: client.bytes_available,
    ):
        with pytest.raises(libsock.ClosedError):
            call()
    assert client.fileno() == -1
    # "An invented handle": Python code cannot make a connection out of nothing.
    with pytest.raises(TypeError):
        libsock.Connection()  # type: ignore[call-arg]
    # Null and empty buffers where one is required.
    with pytest.raises(TypeError):
        server.recv_into(None)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        server.send(None)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        server.recv_into(b"read-only bytes")
    assert server.recv_into(bytearray(0)) == 0
    assert server.recv(0) == b""
    # The process is alive and the other end still works: it sees the orderly close.
    assert server.recv(1, timeout=WAIT) == b""


# ---------------------------------------------------------------------------------------------
# S09


def test_s09_message_larger_than_the_buffer_stays_queued() -> None:
    msg = os.urandom(1000)

    def peer(conn: socket.socket) -> None:
        conn.sendall(struct.pack(">I", len(msg)) + msg + struct.pack(">I", 3) + b"end")
        recv_all(conn)

    with stdlib_server(peer) as (addr, p):
        conn = libsock.connect(addr, timeout=WAIT, framing=libsock.LengthPrefixed())
        small = bytearray(100)
        with pytest.raises(libsock.BufferTooSmallError) as info:
            conn.recv_msg_into(small)
        assert info.value.needed == 1000
        assert info.value.code == -12
        big = bytearray(info.value.needed)
        assert conn.recv_msg_into(big) == 1000
        assert bytes(big) == msg
        assert conn.recv_msg() == b"end"
        conn.close()
        p.join()


# ---------------------------------------------------------------------------------------------
# S10


def test_s10_udp_send_to_recv_from_and_truncation() -> None:
    peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    peer.bind(("127.0.0.1", 0))
    peer.settimeout(WAIT)
    with peer, libsock.udp(("127.0.0.1", 0), timeout=WAIT) as sock:
        assert sock.send_to(b"hello", peer.getsockname()) == 5
        data, src = peer.recvfrom(100)
        assert data == b"hello" and src == sock.address
        peer.sendto(b"reply", sock.address)
        data, src = sock.recv_from()
        assert data == b"reply" and src == peer.getsockname()
        # A datagram larger than the buffer: truncation reported, with the full size.
        big = os.urandom(3000)
        peer.sendto(big, sock.address)
        r = sock.recv_datagram(1000)
        assert r.truncated and r.size == 3000 and r.data == big[:1000]
        assert r.peer == peer.getsockname()
        peer.sendto(b"small", sock.address)
        r = sock.recv_datagram(1000)
        assert (r.data, r.truncated, r.size) == (b"small", False, 5)


# ---------------------------------------------------------------------------------------------
# S11


def test_s11_listener_port_0_and_accept_timeout() -> None:
    with libsock.listen(("127.0.0.1", 0)) as server:
        host, port = server.address
        assert host == "127.0.0.1" and port != 0
        # The real port: the stdlib can connect to it.
        socket.create_connection((host, port), timeout=WAIT).close()
        server.accept(timeout=WAIT)[0].close()
        t0 = time.monotonic()
        with pytest.raises(libsock.TimeoutError):
            server.accept(timeout=0.2)
        assert 0.2 <= time.monotonic() - t0 < 2.0


# ---------------------------------------------------------------------------------------------
# S12


def test_s12_options_set_and_read_back_from_the_os() -> None:
    with libsock.listen(("127.0.0.1", 0)) as server:
        conn = libsock.connect(
            server.address,
            timeout=WAIT,
            nodelay=True,
            keepalive=True,
            keepalive_idle=30,
            keepalive_interval=5,
            keepalive_count=4,
            recv_buffer_size=65536,
            send_buffer_size=131072,
        )
        opts = conn.options
        assert opts["nodelay"] is True
        assert opts["keepalive"] is True
        assert (opts["keepalive_idle"], opts["keepalive_interval"], opts["keepalive_count"]) == (30, 5, 4)
        assert opts["recv_buffer_size"] >= 65536  # Linux reports double
        assert opts["send_buffer_size"] >= 131072
        # Cross-check with the stdlib reading the same descriptor.
        with socket.socket(fileno=os.dup(conn.fileno())) as s:
            assert s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
            assert s.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
            assert s.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE) == 30
            assert s.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF) == opts["recv_buffer_size"]
        # Changed later, read back one by one.
        conn.set_option("nodelay", False)
        assert conn.get_option("nodelay") is False
        conn.set_option("recv_buffer_size", 32768)
        assert conn.get_option("recv_buffer_size") >= 32768
        conn.set_option("linger", 0)
        assert conn.get_option("linger") == 0
        conn.set_option("linger", None)
        assert conn.get_option("linger") is None
        conn.close()


# ---------------------------------------------------------------------------------------------
# S13-S16 run on the event engine (libsock.Server/Client): see test_engine.py
# (test_s13_server_with_50_clients_..., test_s14_broadcast_..., test_s15_client_reconnects_...,
# test_s16_heartbeat_...) and test_aio.py for the asyncio door.


# ---------------------------------------------------------------------------------------------
# S17


def test_s17_close_from_another_thread_while_blocked(
    pair: tuple[libsock.Connection, libsock.Connection],
) -> None:
    client, _server = pair
    client.settimeout(None)  # blocked for good unless close wakes it

    def blocked() -> float:
        t0 = time.monotonic()
        with pytest.raises(libsock.ClosedError):
            client.recv(100)
        return time.monotonic() - t0

    waiter = Peer(blocked)
    time.sleep(0.3)
    t_close = time.monotonic()
    client.close()
    waiter.join(WAIT)
    assert time.monotonic() - t_close < 2.0


# ---------------------------------------------------------------------------------------------
# S18-S21: TLS, against Python's ssl module (OpenSSL) as the other end. The certificates (a test
# CA, a server and a client certificate it signed, a self-signed device certificate) come from
# test_tls.py's ``pki`` fixture (made with openssl).

from test_tls import pki, ssl_server  # noqa: E402,F401  (pki is a fixture)
import ssl  # noqa: E402


def _ssl_echo(s: ssl.SSLSocket) -> None:
    while True:
        data = s.recv(65536)
        if not data:
            break
        s.sendall(data)
    s.unwrap()


def test_s18_tls_echo_with_ca_trust_and_name_check(pki: dict[str, str]) -> None:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(pki["server.pem"], pki["server.key"])
    port, t = ssl_server(ctx, _ssl_echo)
    payload = os.urandom(1 << 20)
    with libsock.connect(("localhost", port), timeout=WAIT,
                         tls=libsock.TLS(ca=pki["ca.pem"])) as c:
        c.send_all(payload)
        assert c.recv_exact(len(payload)) == payload
        c.shutdown("write")
    t.join(WAIT)
    port, t = ssl_server(ctx, lambda s: None)
    with pytest.raises(libsock.TlsError, match="name mismatch"):
        libsock.connect(("127.0.0.1", port), timeout=WAIT,
                        tls=libsock.TLS(ca=pki["ca.pem"], server_name="wrong.example"))
    t.join(WAIT)


def test_s19_tls_with_a_pinned_self_signed_certificate(pki: dict[str, str]) -> None:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(pki["device.pem"], pki["device.key"])
    pin = libsock.fingerprint(open(pki["device.pem"]).read())
    port, t = ssl_server(ctx, _ssl_echo)
    with libsock.connect(("127.0.0.1", port), timeout=WAIT, tls=libsock.TLS(pin=pin)) as c:
        c.send_all(b"pinned")
        assert c.recv_exact(6) == b"pinned"
        info = c.tls_info
        assert info is not None and info["peer_fingerprint"] == pin
        c.shutdown("write")
    t.join(WAIT)
    port, t = ssl_server(ctx, lambda s: None)
    with pytest.raises(libsock.TlsError, match="pin mismatch"):
        libsock.connect(("127.0.0.1", port), timeout=WAIT, tls=libsock.TLS(pin="ab" * 32))
    t.join(WAIT)


def test_s20_mutual_tls(pki: dict[str, str]) -> None:
    tls = libsock.TLS(cert=pki["server.pem"], key=pki["server.key"], client_auth="required",
                      client_ca=pki["ca.pem"])
    with libsock.listen(("127.0.0.1", 0), tls=tls, timeout=WAIT) as server:
        for with_cert in (True, False):
            got: list[object] = []

            def client() -> None:
                ctx = ssl.create_default_context(cafile=pki["ca.pem"])
                if with_cert:
                    ctx.load_cert_chain(pki["client.pem"], pki["client.key"])
                try:
                    with socket.create_connection(server.address, timeout=WAIT) as raw:
                        with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
                            s.sendall(b"mtls")
                            got.append(s.recv(4))
                except (ssl.SSLError, OSError) as e:
                    got.append(e)

            t = threading.Thread(target=client)
            t.start()
            if with_cert:
                conn, _ = server.accept(timeout=WAIT)
                with conn:
                    conn.send_all(conn.recv_exact(4))
                t.join(WAIT)
                assert got == [b"mtls"]
            else:
                with pytest.raises(libsock.TlsError, match="client certificate"):
                    server.accept(timeout=WAIT)
                t.join(WAIT)
                assert got and isinstance(got[0], (ssl.SSLError, OSError)), got


def test_s21_plaintext_and_silent_peers_against_a_tls_server(pki: dict[str, str]) -> None:
    tls = libsock.TLS(cert=pki["server.pem"], key=pki["server.key"], handshake_timeout=0.5)
    with libsock.listen(("127.0.0.1", 0), tls=tls, timeout=WAIT) as server:
        with socket.create_connection(server.address, timeout=WAIT) as s:
            s.sendall(b"GET / HTTP/1.0\r\n\r\n")
            with pytest.raises(libsock.TlsError, match="not TLS"):
                server.accept(timeout=WAIT)
        with socket.create_connection(server.address, timeout=WAIT):
            t0 = time.monotonic()
            with pytest.raises(TimeoutError, match="TLS handshake"):
                server.accept(timeout=WAIT)
            assert time.monotonic() - t0 < 5
        # The server keeps serving.
        ctx = ssl.create_default_context(cafile=pki["ca.pem"])
        done: list[bytes] = []

        def client() -> None:
            with socket.create_connection(server.address, timeout=WAIT) as raw:
                with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
                    s.sendall(b"ok")
                    done.append(s.recv(2))

        t = threading.Thread(target=client)
        t.start()
        conn, _ = server.accept(timeout=WAIT)
        with conn:
            conn.send_all(conn.recv_exact(2))
        t.join(WAIT)
        assert done == [b"ok"]
