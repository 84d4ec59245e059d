"""Datagram (UDP and Unix datagram) against the stdlib socket module."""

from __future__ import annotations

import os
import socket
import sys

import pytest

import libsock
from _helpers import WAIT


def stdlib_udp() -> socket.socket:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.settimeout(WAIT)
    return s


def test_connected_udp_to_stdlib_peer() -> None:
    peer = stdlib_udp()
    with peer, libsock.udp(connect=peer.getsockname(), timeout=WAIT) as sock:
        assert sock.peer_address == peer.getsockname()
        assert sock.send(b"one") == 3
        data, src = peer.recvfrom(100)
        assert data == b"one" and src == sock.address
        peer.sendto(b"two", src)
        assert sock.recv() == b"two"


def test_stdlib_aliases_and_recv_into() -> None:
    peer = stdlib_udp()
    with peer, libsock.udp(("127.0.0.1", 0), timeout=WAIT) as sock:
        sock.sendto(b"alias", peer.getsockname())
        assert peer.recvfrom(100)[0] == b"alias"
        peer.sendto(b"into", sock.address)
        buf = bytearray(10)
        n, src = sock.recv_into(buf)
        assert (bytes(buf[:n]), src) == (b"into", peer.getsockname())
        peer.sendto(b"from", sock.address)
        assert sock.recvfrom() == (b"from", peer.getsockname())


def test_local_address_with_connect() -> None:
    peer = stdlib_udp()
    port = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    port.bind(("127.0.0.1", 0))
    local = port.getsockname()
    port.close()
    with peer, libsock.udp(local, connect=peer.getsockname()) as sock:
        assert sock.address == local
        sock.send(b"x")
        assert peer.recvfrom(10) == (b"x", local)


def test_recv_timeout_and_truncation_in_recv() -> None:
    with libsock.udp(("127.0.0.1", 0), timeout=0.1) as sock:
        with pytest.raises(libsock.TimeoutError):
            sock.recv()
        with pytest.raises(libsock.TimeoutError):
            sock.recv_from(timeout=0)
        sender = libsock.udp()
        sender.send_to(b"0123456789", sock.address)
        assert sock.recv(4, timeout=WAIT) == b"0123"  # the rest is dropped, as in the stdlib
        sender.close()


def test_send_many_and_recv_many() -> None:
    rx = libsock.udp(("127.0.0.1", 0), timeout=WAIT)
    tx = libsock.udp(connect=rx.address)
    msgs = [f"m{i}".encode() for i in range(50)]
    assert tx.send_many(msgs) == 50
    got: list[bytes] = []
    while len(got) < 50:
        batch = rx.recv_many(64, 100)
        assert all(peer == tx.address for _, peer in batch)
        got += [d for d, _ in batch]
    assert got == msgs
    for s in (rx, tx):
        s.close()


def test_recv_many_and_recv_from_name_each_sender_when_senders_alternate() -> None:
    # Consecutive datagrams from one sender share one address object; a change of sender must
    # show, within a batch and from one call to the next.
    rx = libsock.udp(("127.0.0.1", 0), timeout=WAIT)
    a, b = stdlib_udp(), stdlib_udp()
    order = [a, a, b, a, b, b, a]
    for i, s in enumerate(order):
        s.sendto(b"%d" % i, rx.address)
    got: list[tuple[bytes, object]] = []
    while len(got) < len(order):
        got += rx.recv_many(64, 100)
    assert got == [(b"%d" % i, s.getsockname()) for i, s in enumerate(order)]
    for i, s in enumerate(order):
        s.sendto(b"%d" % i, rx.address)
    assert [rx.recv_from(100) for _ in order] == got
    buf = bytearray(8)
    b.sendto(b"x", rx.address)
    a.sendto(b"y", rx.address)
    assert rx.recv_into(buf)[1] == b.getsockname()
    assert rx.recv_datagram(8).peer == a.getsockname()
    rx.close()
    for sock in (a, b):
        sock.close()


def test_recv_many_batches_larger_than_one_call_and_truncation() -> None:
    rx = libsock.udp(("127.0.0.1", 0), timeout=WAIT, recv_buffer_size=1 << 20)
    tx = libsock.udp(connect=rx.address)
    msgs = [os.urandom(1 + i % 300) for i in range(500)]
    for m in msgs:
        assert tx.send(m) == len(m)
    got: list[bytes] = []
    while len(got) < len(msgs):
        got += [d for d, _ in rx.recv_many(64, 200)]
    assert got == [m[:200] for m in msgs]  # longer datagrams cut to n, as recv(n) does
    for s in (rx, tx):
        s.close()


@pytest.mark.parametrize("gro", [False, True] if sys.platform == "linux" else [False])
def test_recv_many_without_senders_gives_the_same_bytes(gro: bool) -> None:
    # senders=False asks the kernel for no addresses (and with UDP_GRO cuts coalesced buffers
    # the same way): the list holds the data alone, in order, cut to n, byte for byte what
    # recv_many with senders returns for the same datagrams.
    rx = libsock.udp(("127.0.0.1", 0), timeout=WAIT, recv_buffer_size=1 << 20, gro=gro)
    tx = libsock.udp(connect=rx.address)
    msgs = [os.urandom(1 + i % 300) for i in range(300)]
    for m in msgs:
        assert tx.send(m) == len(m)
    got: list[bytes] = []
    while len(got) < len(msgs):
        batch = rx.recv_many(64, 200, senders=False)
        assert batch and all(type(d) is bytes for d in batch)
        got += batch
    assert got == [m[:200] for m in msgs]
    for m in msgs[:10]:
        tx.send(m)
    with_senders: list[bytes] = []
    while len(with_senders) < 10:
        with_senders += [d for d, peer in rx.recv_many(64, 300) if peer == tx.address]
    assert with_senders == msgs[:10]
    with pytest.raises(libsock.TimeoutError):
        rx.recv_many(8, 100, timeout=0, senders=False)
    with pytest.raises(libsock.InvalidArgumentError):
        rx.recv_many(0, 100, senders=False)
    for s in (rx, tx):
        s.close()


@pytest.mark.parametrize("gro", [False, True] if sys.platform == "linux" else [False])
def test_recv_many_into_fills_slots_of_a_caller_buffer(gro: bool) -> None:
    # A stdlib sender; the batch lands in slots of n bytes of one writable buffer (bytearray,
    # a memoryview of part of one, array.array), with the sizes returned: the same bytes, in
    # order, cut to n, as recv_many(senders=False) gives for the same datagrams.
    import array

    rx = libsock.udp(("127.0.0.1", 0), timeout=WAIT, recv_buffer_size=1 << 20, gro=gro)
    tx = stdlib_udp()
    msgs = [os.urandom(1 + i % 300) for i in range(300)]
    for m in msgs:
        assert tx.sendto(m, rx.address) == len(m)
    n = 200
    big = bytearray(b"\xee" * (10 * n + 50))
    targets: list[bytearray | memoryview | array.array[int]] = [
        bytearray(64 * n), memoryview(big)[50:], array.array("B", bytes(7 * n + 5))]
    got: list[bytes] = []
    calls = 0
    while len(got) < len(msgs):
        buf = targets[calls % len(targets)]
        calls += 1
        sizes = rx.recv_many_into(buf, n)
        slots = len(buf) // n  # array.array("B"): one byte per item
        assert 1 <= len(sizes) <= slots and all(type(k) is int for k in sizes)
        view = memoryview(buf).cast("B")
        got += [bytes(view[i * n:i * n + k]) for i, k in enumerate(sizes)]
    assert got == [m[:n] for m in msgs]  # longer datagrams cut to n, as recv_many does
    assert big[:50] == b"\xee" * 50  # nothing written before the view
    with pytest.raises(libsock.TimeoutError):
        rx.recv_many_into(bytearray(n), n, timeout=0)
    for bad_n, buf in ((0, bytearray(100)), (-1, bytearray(100)), (101, bytearray(100))):
        with pytest.raises(libsock.InvalidArgumentError):
            rx.recv_many_into(buf, bad_n)
    with pytest.raises(TypeError):
        rx.recv_many_into(b"read-only", 4)
    rx.close()
    tx.close()
    with pytest.raises(libsock.ClosedError):
        rx.recv_many_into(bytearray(100), 10)


def test_send_many_to_address_from_unconnected_socket() -> None:
    rx = libsock.udp(("127.0.0.1", 0), timeout=WAIT)
    tx = libsock.udp()
    assert tx.send_many([b"a", bytearray(b"bc"), memoryview(b"def")], rx.address) == 3
    assert [rx.recv() for _ in range(3)] == [b"a", b"bc", b"def"]
    rx.close()
    tx.close()


def test_broadcast_option_and_options_dict() -> None:
    with libsock.udp(("127.0.0.1", 0), broadcast=True, multicast_ttl=3) as sock:
        assert sock.get_option("broadcast") is True
        assert sock.options["multicast_ttl"] == 3
        sock.set_option("broadcast", False)
        assert sock.options["broadcast"] is False


def test_multicast_on_loopback() -> None:
    group = "239.255.77.77"
    rx = libsock.udp(("0.0.0.0", 0), timeout=2, reuse_address=True)
    try:
        rx.join_multicast(group, "127.0.0.1")
    except libsock.Error as e:
        rx.close()
        pytest.skip(f"no multicast on loopback here: {e}")
    tx = libsock.udp(("127.0.0.1", 0), multicast_loop=True)
    tx.set_multicast_interface("127.0.0.1")
    tx.send_to(b"to the group", (group, rx.address[1]))
    try:
        data, _ = rx.recv_from()
    except libsock.TimeoutError:
        pytest.skip("multicast is not routed over loopback here")
    finally:
        tx.close()
    assert data == b"to the group"
    rx.leave_multicast(group, "127.0.0.1")
    with pytest.raises(ValueError):
        rx.join_multicast("not-a-group")
    rx.close()


def test_unix_datagram(tmp_sock_dir: str) -> None:
    path = os.path.join(tmp_sock_dir, "d.sock")
    with libsock.udp(f"unix:{path}", timeout=WAIT) as sock:
        assert sock.address == f"unix:{path}"
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        s.sendto(b"unix datagram", path)
        r = sock.recv_datagram()
        assert r.data == b"unix datagram" and not r.truncated
        s.close()
    assert not os.path.exists(path)


def test_datagram_pair_and_close_semantics() -> None:
    a, b = libsock.Datagram.pair()
    a.send(b"x" * 100)
    r = b.recv_datagram(10)
    assert r.truncated and r.size == 100 and len(r.data) == 10
    assert r == (r.data, r.peer, True, 100)  # a named tuple
    assert b.bytes_available == 0
    a.close()
    a.close()
    assert a.closed and a.fileno() == -1
    with pytest.raises(libsock.ClosedError):
        a.send(b"x")
    assert "closed" in repr(a)
    b.close()


def test_timeout_property() -> None:
    with libsock.udp() as sock:
        assert sock.timeout is None and sock.gettimeout() is None
        sock.settimeout(0.25)
        assert sock.timeout == 0.25
        sock.timeout = None
        assert sock.gettimeout() is None


def test_ipv6_udp_and_host_names_of_the_right_family() -> None:
    try:
        v6 = libsock.udp(("::1", 0), timeout=WAIT)
    except libsock.Error:
        pytest.skip("no IPv6 loopback")
    peer = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    peer.bind(("::1", 0))
    peer.settimeout(WAIT)
    with peer, v6:
        v6.send_to(b"six", peer.getsockname()[:2])
        data, src = peer.recvfrom(10)
        assert data == b"six" and src[:2] == v6.address
        # "localhost" may resolve to ::1 and 127.0.0.1: each socket picks its own family.
        v4 = libsock.udp(("127.0.0.1", 0), timeout=WAIT)
        v4.send_to(b"four", f"localhost:{v4.address[1]}")
        assert v4.recv() == b"four"
        v4.close()
