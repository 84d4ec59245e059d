"""Connection and Listener against the stdlib socket module in both directions: addresses,
timeouts, exact reads, structs, files, options, Unix and IPv6 sockets."""

from __future__ import annotations

import os
import selectors
import socket
import struct
import time
from pathlib import Path

import pytest

import libsock
from _helpers import WAIT, recv_all, recv_n, stdlib_server


def test_libsock_client_to_stdlib_server() -> None:
    def peer(conn: socket.socket) -> bytes:
        data = recv_n(conn, 5)
        conn.sendall(data.upper())
        return data

    with stdlib_server(peer) as (addr, p):
        with libsock.connect(addr, timeout=WAIT) as conn:
            assert conn.send(b"hello") == 5
            assert conn.recv_exact(5) == b"HELLO"
            assert conn.peer_address == addr
            host, port = conn.local_address
            assert host == "127.0.0.1" and port > 0
        assert conn.closed
        assert p.join() == b"hello"


def test_stdlib_client_to_libsock_server() -> None:
    with libsock.listen(("127.0.0.1", 0)) as server:
        s = socket.create_connection(server.address, timeout=WAIT)
        conn, peer = server.accept(timeout=WAIT)
        assert peer == s.getsockname()
        assert conn.peer_address == s.getsockname()
        s.sendall(b"ping\n")
        assert conn.readline() == b"ping\n"
        conn.sendall(b"pong")
        assert recv_n(s, 4) == b"pong"
        s.close()
        assert conn.recv(10) == b""  # orderly close: b"" like the stdlib
        conn.close()


def test_address_forms() -> None:
    with libsock.listen(("", 0)) as server:  # "" = every interface, as in the stdlib
        port = server.address[1]
        assert server.address[0] in ("0.0.0.0", "::")
        for address in (("127.0.0.1", port), f"127.0.0.1:{port}", ("localhost", port), f"localhost:{port}"):
            c = libsock.connect(address, timeout=WAIT)
            server.accept(timeout=WAIT)[0].close()
            c.close()


def test_ipv6_and_dualstack() -> None:
    try:
        server = libsock.listen("[::]:0")
    except libsock.Error:
        pytest.skip("no IPv6")
    with server:
        port = server.address[1]
        assert server.address == ("::", port)
        try:
            c6 = libsock.connect(("::1", port), timeout=WAIT)
        except libsock.Error:
            pytest.skip("no IPv6 loopback")
        conn, peer = server.accept(timeout=WAIT)
        assert peer[0] == "::1"
        c4 = libsock.connect(("127.0.0.1", port), timeout=WAIT)  # dual stack: v4 client too
        conn4, peer4 = server.accept(timeout=WAIT)
        assert peer4[0] == "127.0.0.1"  # v4-mapped shown as v4
        for x in (c6, conn, c4, conn4):
            x.close()


def test_unix_socket_path(tmp_sock_dir: str) -> None:
    path = os.path.join(tmp_sock_dir, "srv.sock")
    with libsock.listen(f"unix:{path}") as server:
        assert server.address == f"unix:{path}"
        assert os.path.exists(path)
        # The stdlib as a client of a libsock Unix server.
        s = socket.socket(socket.AF_UNIX)
        s.connect(path)
        conn, _peer = server.accept(timeout=WAIT)
        s.sendall(b"unix!")
        assert conn.recv_exact(5, timeout=WAIT) == b"unix!"
        s.close()
        conn.close()
        # A pathlib.Path works as an address too.
        c = libsock.connect(Path(path), timeout=WAIT)
        conn, _ = server.accept(timeout=WAIT)
        assert c.peer_address == f"unix:{path}"
        c.close()
        conn.close()
    assert not os.path.exists(path)  # removed on close


def test_unix_stale_socket_file(tmp_sock_dir: str) -> None:
    path = os.path.join(tmp_sock_dir, "stale.sock")
    s = socket.socket(socket.AF_UNIX)
    s.bind(path)
    s.close()  # leaves a stale file
    with pytest.raises(libsock.AddrInUseError):
        libsock.listen(f"unix:{path}")
    with libsock.listen(f"unix:{path}", remove_stale=True) as server:
        assert server.address == f"unix:{path}"


def test_abstract_unix_socket() -> None:
    name = f"libsock-test-{os.getpid()}-{time.monotonic_ns()}"
    with libsock.listen(f"unix:@{name}") as server:
        s = socket.socket(socket.AF_UNIX)
        s.connect("\0" + name)
        conn, _ = server.accept(timeout=WAIT)
        s.sendall(b"abs")
        assert conn.recv_exact(3, timeout=WAIT) == b"abs"
        s.close()
        conn.close()


def test_timeouts_default_per_call_poll_and_forever(pair: tuple[libsock.Connection, libsock.Connection]) -> None:
    client, server = pair
    assert server.gettimeout() == WAIT and server.timeout == WAIT
    server.settimeout(0.1)
    assert server.timeout == 0.1
    t0 = time.monotonic()
    with pytest.raises(libsock.TimeoutError):
        server.recv(1)  # the default
    assert time.monotonic() - t0 < 2.0
    with pytest.raises(libsock.TimeoutError):
        server.recv(1, timeout=0)  # poll
    server.timeout = None
    assert server.gettimeout() is None
    client.sendall(b"x")
    assert server.recv(1, timeout=None) == b"x"  # forever, overriding the default
    server.timeout = 0
    with pytest.raises(libsock.TimeoutError):
        server.recv_msg()
    # A timeout loses nothing: a partial read stays buffered.
    client.sendall(b"abc")
    time.sleep(0.05)
    with pytest.raises(libsock.TimeoutError):
        server.recv_exact(5, timeout=0.05)
    client.sendall(b"de")
    assert server.recv_exact(5, timeout=WAIT) == b"abcde"


def test_connect_timeout_is_separate(pair: tuple[libsock.Connection, libsock.Connection]) -> None:
    with libsock.listen(("127.0.0.1", 0)) as server:
        c = libsock.connect(server.address, connect_timeout=WAIT)
        assert c.timeout is None
        c.close()
        c = libsock.connect(server.address, timeout=2, connect_timeout=WAIT)
        assert c.timeout == 2
        c.close()


@pytest.mark.parametrize("kind", ["unix", "tcp"])
def test_small_sends_wait_when_the_socket_is_full(kind: str, pair: tuple[libsock.Connection, libsock.Connection]) -> None:
    # A small send is first tried without waiting; when the socket cannot take it, it must still
    # wait (and time out) as before, and nothing may be lost or duplicated.
    a, b = libsock.Connection.pair() if kind == "unix" else pair
    a.set_option("send_buffer_size", 4096)
    sent = bytearray()

    def fill(chunk: bytes) -> None:
        while True:
            try:
                n = a.send(chunk, timeout=0)
            except libsock.TimeoutError:
                return
            sent.extend(chunk[:n])

    fill(b"f" * 1000)
    fill(b"g" * 10)
    if kind == "unix":
        # Full for good (TCP may free space later, when the peer's stack acknowledges).
        with pytest.raises(libsock.TimeoutError):
            a.send(b"s" * 10, timeout=0.05)
        with pytest.raises(libsock.TimeoutError):
            a.sendall(b"s" * 10, timeout=0.05)
    tail = os.urandom(3000)
    out: list[bytes] = []

    def drain() -> None:
        got = bytearray()
        while len(got) < len(sent) + len(tail):
            got += b.recv(65536, timeout=WAIT)
        out.append(bytes(got))

    import threading

    t = threading.Thread(target=drain)
    t.start()
    a.sendall(tail, timeout=WAIT)  # waits until the reader makes room
    t.join(WAIT)
    assert out == [bytes(sent) + tail]
    if kind == "unix":
        a.close()
        b.close()


def test_recv_until_and_readline(pair: tuple[libsock.Connection, libsock.Connection]) -> None:
    client, server = pair
    client.sendall(b"GET / HTTP/1.0\r\nHost: x\r\n\r\nBODY line1\nline2\n")
    assert server.recv_until(b"\r\n\r\n") == b"GET / HTTP/1.0\r\nHost: x\r\n\r\n"
    assert server.recv_exact(5) == b"BODY "
    assert server.readline() == b"line1\n"
    assert server.recv_until("\n") == b"line2\n"
    client.sendall(b"x" * 100)
    with pytest.raises(libsock.FrameTooLargeError):
        server.recv_until(b"\n", max=50)
    assert server.recv_exact(100) == b"x" * 100  # the bytes stayed buffered
    client.shutdown("write")
    with pytest.raises(libsock.ClosedError):
        server.readline()


def test_every_doors_names_and_the_python_aliases(pair: tuple[libsock.Connection, libsock.Connection]) -> None:
    """The canonical names of docs/NAMES.md, and the stdlib's spellings and former names beside
    them, do the same thing."""
    client, server = pair
    client.send_all(b"ab")
    client.sendall(b"cd")  # the stdlib's name
    assert server.recv_exact(2) == b"ab"
    assert server.recv_exactly(2) == b"cd"  # the former name
    buf = bytearray(2)
    client.send_all(b"efgh")
    assert server.recv_exact_into(buf) == 2 and buf == b"ef"
    assert server.recv_exactly_into(buf) == 2 and buf == b"gh"
    client.set_timeout(1.5)
    assert client.get_timeout() == client.gettimeout() == client.timeout == 1.5
    client.settimeout(None)
    assert client.get_timeout() is None


def test_recv_exact_closed_early_keeps_nothing_lost(pair: tuple[libsock.Connection, libsock.Connection]) -> None:
    client, server = pair
    client.sendall(b"abc")
    client.close()
    with pytest.raises(libsock.ClosedError) as info:
        server.recv_exact(10)
    assert "3 of 10" in str(info.value)
    assert server.recv(10) == b"abc"


def test_struct_roundtrip_against_stdlib_struct() -> None:
    def peer(conn: socket.socket) -> tuple:
        got = struct.unpack("<IhdQ", recv_n(conn, struct.calcsize("<IhdQ")))
        conn.sendall(struct.pack(">Hf?", 513, 1.5, True))
        recv_all(conn)
        return got

    with stdlib_server(peer) as (addr, p):
        conn = libsock.connect(addr, timeout=WAIT)
        conn.send_struct("<IhdQ", 7, -2, 3.25, 2**40)
        assert conn.recv_struct(">Hf?") == (513, 1.5, True)
        assert conn.recv_struct(b"!0s") == (b"",)
        conn.close()
        assert p.join() == (7, -2, 3.25, 2**40)


@pytest.mark.parametrize("fmt", ["I", "@I", "2h", ""])
def test_struct_needs_explicit_byte_order(pair: tuple[libsock.Connection, libsock.Connection], fmt: str) -> None:
    client, server = pair
    with pytest.raises(ValueError):
        client.send_struct(fmt, 1)
    with pytest.raises(ValueError):
        server.recv_struct(fmt)


def test_struct_bad_values_raise_struct_error(pair: tuple[libsock.Connection, libsock.Connection]) -> None:
    client, _ = pair
    with pytest.raises(struct.error):
        client.send_struct("<B", 300)


def test_shutdown_directions(pair: tuple[libsock.Connection, libsock.Connection]) -> None:
    client, server = pair
    client.shutdown()  # default: write (half-close)
    assert server.recv(1) == b""
    server.sendall(b"still open")
    assert client.recv_exact(10) == b"still open"
    server.shutdown(socket.SHUT_RDWR)
    assert client.recv(1) == b""


def test_bytes_available_and_fileno_with_selectors(pair: tuple[libsock.Connection, libsock.Connection]) -> None:
    client, server = pair
    assert server.bytes_available == 0
    sel = selectors.DefaultSelector()
    sel.register(server, selectors.EVENT_READ)  # uses fileno()
    assert sel.select(0) == []
    client.sendall(b"12345")
    assert sel.select(WAIT)
    deadline = time.monotonic() + WAIT
    while server.bytes_available < 5 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert server.bytes_available == 5
    assert server.recv_exact(2) == b"12"
    assert server.bytes_available == 3
    sel.close()


def test_sendfile_range_and_recvfile(tmp_path: Path) -> None:
    src = tmp_path / "in.bin"
    data = os.urandom(1_000_000)
    src.write_bytes(data)

    def peer(conn: socket.socket) -> bytes:
        got = recv_n(conn, 1000)
        conn.sendall(b"back" * 250)
        recv_all(conn)
        return got

    with stdlib_server(peer) as (addr, p):
        conn = libsock.connect(addr, timeout=WAIT)
        assert conn.send_file(src, offset=500, count=1000) == 1000
        out = tmp_path / "out.bin"
        assert conn.recv_file(str(out), 1000) == 1000
        assert out.read_bytes() == b"back" * 250
        with pytest.raises(ValueError):
            conn.send_file(src, offset=2_000_000)
        conn.close()
        assert p.join() == data[500:1500]


def test_options_property_and_named_options() -> None:
    with libsock.listen(("127.0.0.1", 0), reuse_address=True) as server:
        assert server.options["reuse_address"] is True
        assert server.get_option("reuse_address") is True
        c = libsock.connect(server.address, timeout=WAIT, tcp_user_timeout=5000, ttl=33, tos=0x10)
        assert c.get_option("tcp_user_timeout") == 5000
        assert c.options["ttl"] == 33
        assert c.get_option("tos") == 0x10
        assert set(c.options) <= set(libsock.OPTION_NAMES)
        assert "nodelay" in libsock.OPTION_NAMES
        c.set_option(1, True)  # by stable number (LS_OPT_NODELAY)
        assert c.get_option("nodelay") is True
        c.close()


def test_local_address_option() -> None:
    with libsock.listen(("127.0.0.1", 0)) as server:
        c = libsock.connect(server.address, timeout=WAIT, local_address=("127.0.0.1", 0))
        conn, peer = server.accept(timeout=WAIT)
        assert peer == c.local_address
        c.close()
        conn.close()


def test_reuse_port_lets_two_listeners_share() -> None:
    with libsock.listen(("127.0.0.1", 0), reuse_port=True) as a:
        with libsock.listen(a.address, reuse_port=True) as b:
            assert a.address == b.address
            assert b.get_option("reuse_port") is True


def test_listener_iteration_until_closed() -> None:
    server = libsock.listen(("127.0.0.1", 0))
    clients = [libsock.connect(server.address, timeout=WAIT) for _ in range(3)]
    seen = []
    for conn, peer in server:
        seen.append(peer)
        conn.close()
        if len(seen) == 3:
            server.close()
    assert sorted(seen) == sorted(c.local_address for c in clients)
    assert server.closed and server.fileno() == -1
    for c in clients:
        c.close()


def test_reprs() -> None:
    with libsock.listen(("127.0.0.1", 0)) as server:
        c = libsock.connect(server.address)
        port = server.address[1]
        assert f"127.0.0.1:{port}" in repr(server)
        assert repr(c).startswith("<libsock.Connection fd=") and f"peer=127.0.0.1:{port}" in repr(c)
        c.close()
        assert "closed" in repr(c)
    assert "closed" in repr(server)


def test_pair() -> None:
    a, b = libsock.Connection.pair()
    with a, b:
        a.send_msg(b"hi")
        assert b.recv(2) == b"hi"
        assert a.peer_address.startswith("unix:")


def test_resolve() -> None:
    addrs = libsock.resolve("localhost", 80)
    assert ("127.0.0.1", 80) in addrs or ("::1", 80) in addrs
    assert libsock.resolve("127.0.0.1") == [("127.0.0.1", 0)]
    with pytest.raises(libsock.ResolveError):
        libsock.resolve("no-such-host.invalid", 1, timeout=WAIT)


def test_version() -> None:
    assert isinstance(libsock.__version__, str) and libsock.__version__.count(".") == 2


def test_stats_count_bytes_and_messages_against_a_stdlib_peer() -> None:
    """Connection.stats(): bytes each way as the stdlib peer saw them, messages of the
    send_msg/recv_msg family, the same keys as Server.client_stats."""
    def peer(conn: socket.socket) -> bytes:
        got = recv_n(conn, 1000 + 4 + 5 + 4 + 3)
        conn.sendall(struct.pack(">I", 3) + b"abc" + struct.pack(">I", 2) + b"de")
        return got

    before = time.time()
    with stdlib_server(peer) as (addr, p):
        with libsock.connect(addr, timeout=WAIT, framing=libsock.LengthPrefixed()) as conn:
            st = conn.stats()
            assert set(st) == {"peer", "connected_since", "bytes_in", "bytes_out", "messages_in",
                               "messages_out", "queued_bytes", "tls"}
            assert st["peer"] == addr and st["tls"] is False and st["queued_bytes"] == 0
            assert before - 1 <= st["connected_since"] <= time.time() + 1
            conn.sendall(b"x" * 1000)
            conn.send_msg(b"hello")
            conn.send_msg(b"one")
            assert conn.recv_msg() == b"abc"
            assert conn.recv_msgs(10) == [b"de"]
            st = conn.stats()
        assert p.join() == b"x" * 1000 + struct.pack(">I", 5) + b"hello" + struct.pack(">I", 3) + b"one"
    assert st["bytes_out"] == 1000 + 9 + 7
    assert st["bytes_in"] == 7 + 6
    assert st["messages_out"] == 2
    assert st["messages_in"] == 2
    assert conn.stats()["bytes_out"] == 1016  # still readable after close
