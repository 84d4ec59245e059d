"""UDP offload from Python: ``udp(gso=..., gro=...)`` and ``DatagramServer(offload=...)``.

Every datagram must arrive byte-exact, with its own boundaries and sender, whether the kernel
segments (GSO) and coalesces (GRO) or not, against libsock and against the stdlib's socket
(which can segment too, with ``sendmsg`` and a ``UDP_SEGMENT`` control message). Loopback loses
datagrams only when a receive buffer overflows: every exchange here is lock-step, batches well
under the default receive buffer.
"""

from __future__ import annotations

import socket
import struct
import sys

import pytest

import libsock
from _helpers import WAIT

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="UDP offload is Linux's")

UDP_SEGMENT = 103  # SOL_UDP option numbers (linux/udp.h)
UDP_GRO = 104


def datagrams(tag: int, sizes: list[int]) -> list[bytes]:
    """Datagrams that say which they are: (tag, index) then a pattern, cut to each size."""
    out = []
    for i, n in enumerate(sizes):
        head = struct.pack(">HH", tag, i)
        body = (head + bytes((i * 7 + j) % 251 for j in range(n)))[:n]
        out.append(body)
    return out


SHAPES = [
    [1200] * 32,
    [1200] * 31 + [77],
    [500, 500, 500, 20, 700, 700, 1, 300, 300, 300, 299],
    [64, 64, 0, 64, 64],
    [100] * 100,
    [20000, 20000, 20000, 5],
]


def send_all(sock: libsock.Datagram, msgs: list[bytes], to: object = None) -> None:
    k = 0
    while k < len(msgs):
        k += sock.send_many(msgs[k:], to)


def recv_all(sock: libsock.Datagram, n: int) -> list[tuple[bytes, object]]:
    got: list[tuple[bytes, object]] = []
    turn = 0
    while len(got) < n:
        turn += 1
        if turn % 2:
            got += sock.recv_many(64, 65536, timeout=WAIT)
        else:
            got.append(sock.recv_from(65536, timeout=WAIT))
    return got


@pytest.mark.parametrize("gso,gro", [(True, True), (True, False), (False, True), (False, False)])
def test_libsock_to_libsock_batches_keep_their_boundaries(gso: bool, gro: bool) -> None:
    with libsock.udp(("127.0.0.1", 0), gro=gro, timeout=WAIT) as rx, \
            libsock.udp(("127.0.0.1", 0), gso=gso, timeout=WAIT) as tx:
        assert tx.gso_enabled is gso and rx.gro_enabled is gro
        for k, shape in enumerate(SHAPES):
            want = datagrams(k, shape)
            send_all(tx, want, rx.address)
            got = recv_all(rx, len(want))
            assert [d for d, _ in got] == want, f"shape {k}"
            assert all(peer == tx.address for _, peer in got)


def test_gro_leftovers_are_returned_in_order_and_counted() -> None:
    with libsock.udp(("127.0.0.1", 0), gro=True, timeout=WAIT) as rx, \
            libsock.udp(connect=rx.address, timeout=WAIT) as tx:
        want = datagrams(9, [1000] * 40 + [3])
        send_all(tx, want)
        first = rx.recv_many(5, 2048)
        assert [d for d, _ in first] == want[:len(first)]
        # What was taken but not handed over: the next datagram's size.
        assert rx.bytes_available == len(want[len(first)])
        # Cut by a small n: the stdlib's rule, the next datagram still starts at its boundary.
        r = rx.recv_datagram(10)
        assert r.truncated and r.size == 1000 and r.data == want[len(first)][:10]
        rest = recv_all(rx, len(want) - len(first) - 1)
        assert [d for d, _ in rest] == want[len(first) + 1:]


def test_libsock_segments_to_a_stdlib_receiver() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as peer, \
            libsock.udp(("127.0.0.1", 0), timeout=WAIT) as tx:
        peer.bind(("127.0.0.1", 0))
        peer.settimeout(WAIT)
        assert tx.gso_enabled
        for k, shape in enumerate(SHAPES):
            want = datagrams(k, shape)
            send_all(tx, want, peer.getsockname())
            for i, w in enumerate(want):
                data, src = peer.recvfrom(70000)
                assert data == w, f"shape {k} datagram {i}"
                assert src == tx.address


def test_stdlib_segmented_sends_are_cut_back_by_gro() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as peer, \
            libsock.udp(("127.0.0.1", 0), gro=True, timeout=WAIT) as rx:
        peer.bind(("127.0.0.1", 0))
        for size, count, last in [(1000, 40, 0), (1000, 40, 17), (50, 64, 0), (7, 3, 1)]:
            want = datagrams(size, [size] * count + ([last] if last else []))
            peer.sendmsg([b"".join(want)], [(socket.SOL_UDP, UDP_SEGMENT, struct.pack("H", size))],
                          0, rx.address)
            got = recv_all(rx, len(want))
            assert [d for d, _ in got] == want
            assert all(src == peer.getsockname() for _, src in got)


def test_interleaved_destinations_from_one_sender() -> None:
    with libsock.udp(("127.0.0.1", 0), gro=True, timeout=WAIT) as a, \
            libsock.udp(("127.0.0.1", 0), timeout=WAIT) as b, \
            libsock.udp(("127.0.0.1", 0), timeout=WAIT) as tx:
        for rnd in range(3):
            wa = datagrams(rnd * 10, [400] * 9 + [50])
            wb = datagrams(rnd * 10 + 1, [300] * 9 + [30])
            send_all(tx, wa[:5], a.address)
            send_all(tx, wb[:5], b.address)
            tx.send_to(wa[5], a.address)
            send_all(tx, wa[6:], a.address)
            send_all(tx, wb[5:], b.address)
            assert [d for d, _ in recv_all(a, len(wa))] == wa
            assert [d for d, _ in recv_all(b, len(wb))] == wb


@pytest.mark.parametrize("offload", [True, False])
def test_datagram_server_offload(offload: bool) -> None:
    with libsock.DatagramServer(("127.0.0.1", 0), offload=offload) as server, \
            libsock.udp(("127.0.0.1", 0), timeout=WAIT) as tx:
        want = datagrams(3, [900] * 30 + [5])
        send_all(tx, want, server.address)
        got: list[bytes] = []
        while len(got) < len(want):
            evs = server.events(timeout=WAIT)
            assert evs, "no datagram event"
            for ev in evs:
                assert ev.kind == "datagram" and ev.peer == tx.address
                got.append(ev.data)
        assert got == want
        k = 0
        while k < len(want):
            k += server.send_many_to(want[k:], tx.address)
        assert [d for d, _ in recv_all(tx, len(want))] == want
        assert server.stats()["datagrams_out"] == len(want)


def test_offload_arguments_are_checked() -> None:
    with pytest.raises(TypeError):
        libsock.udp(gso="yes")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        libsock.DatagramServer(("127.0.0.1", 0), offload=None)  # type: ignore[arg-type]
