"""The event engine through the Python door: libsock.Server, Client, DatagramServer.

Real sockets on loopback, real peers (the stdlib, libsock's blocking layer, child processes).
Every loop is bounded and every wait has a timeout; nothing measures speed.
"""

from __future__ import annotations

import os
import random
import resource
import select
import selectors
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from typing import Any, Callable, Optional

import pytest

import libsock
from _helpers import SIGINT_DEFAULT, WAIT, Peer, readline, recv_n


def frame(data: bytes) -> bytes:
    """The default framing (LengthPrefixed(4), big endian) by hand, for stdlib peers."""
    return struct.pack(">I", len(data)) + data


def read_frame(sock: socket.socket) -> bytes:
    (n,) = struct.unpack(">I", recv_n(sock, 4))
    return recv_n(sock, n)


def echo_thread(server: libsock.Server, max: int = 256) -> Peer:
    """Drive ``server`` from a Python thread: echo every message; ends on shutdown."""

    def run() -> int:
        n = 0
        try:
            while True:
                for ev in server.events(timeout=WAIT * 6, max=max):
                    if ev.kind == "message":
                        assert ev.data is not None
                        server.send(ev.client, ev.data)
                        n += 1
        except libsock.ClosedError:
            return n

    return Peer(run)


def wait_event(
    obj: libsock.Server | libsock.Client | libsock.DatagramServer,
    pred: Callable[[libsock.Event], bool],
    timeout: float = WAIT,
    seen: Optional[list[libsock.Event]] = None,
) -> libsock.Event:
    """Pull events until one matches ``pred`` (others are appended to ``seen``)."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"no matching event within {timeout} s (seen: {seen})")
        ev = obj.next_event(timeout=left)
        if ev is None:
            continue
        if pred(ev):
            return ev
        if seen is not None:
            seen.append(ev)


def bind_again(address: tuple[str, int]) -> libsock.Server:
    """A server on a port just freed (a few tries: the old connections may linger briefly)."""
    for _ in range(100):
        try:
            return libsock.Server(address)
        except libsock.AddrInUseError:
            time.sleep(0.05)
    return libsock.Server(address)


def kind(k: str) -> Callable[[libsock.Event], bool]:
    return lambda ev: ev.kind == k


# ---------------------------------------------------------------------------------------------
# Scenarios S13-S17.


def test_s13_server_with_50_clients_each_gets_its_own_100_back_in_order() -> None:
    with libsock.Server(("127.0.0.1", 0)) as server:
        echo = echo_thread(server)
        conns = [
            libsock.connect(server.address, timeout=WAIT, framing=libsock.LengthPrefixed())
            for _ in range(50)
        ]
        try:
            for i, c in enumerate(conns):
                c.send_msgs([f"client {i} message {j}".encode() for j in range(100)])
            for i, c in enumerate(conns):
                got = [c.recv_msg() for _ in range(100)]
                assert got == [f"client {i} message {j}".encode() for j in range(100)]
        finally:
            for c in conns:
                c.close()
        server.shutdown(grace=1.0)
        assert echo.join() == 5000


def test_s14_broadcast_reaches_50_clients_exactly_once() -> None:
    with libsock.Server(("127.0.0.1", 0)) as server:
        conns = [
            libsock.connect(server.address, timeout=WAIT, framing=libsock.LengthPrefixed())
            for _ in range(50)
        ]
        try:
            ids: set[int] = set()
            deadline = time.monotonic() + WAIT
            while len(ids) < 50 and time.monotonic() < deadline:
                ids |= {ev.client for ev in server.events(timeout=1) if ev.kind == "connected"}
            assert len(ids) == 50
            assert {cid for cid, _ in server.clients()} == ids
            assert server.broadcast(b"news for everyone") == 50
            for c in conns:
                assert c.recv_msg() == b"news for everyone"
            time.sleep(0.2)
            assert [c.bytes_available for c in conns] == [0] * 50  # nothing twice
            # except_ skips one client; send_many reaches the ones named.
            first = min(ids)
            assert server.broadcast(b"again", except_=first) == 49
            assert server.send_many([first, 10**9], b"only you") == 1
            assert conns[0].recv_msg() == b"only you"
        finally:
            for c in conns:
                c.close()


def test_s15_client_reconnects_and_queued_messages_arrive_once_in_order() -> None:
    server = libsock.Server(("127.0.0.1", 0))
    address = server.address
    client = libsock.Client(address, backoff=(0.05, 0.2))
    try:
        wait_event(client, kind("connected"))
        wait_event(server, kind("connected"))
        client.send(b"before")
        ev = wait_event(server, kind("message"))
        assert ev.data == b"before"

        server.shutdown(grace=0.5)
        lost = wait_event(client, kind("disconnected"))
        assert lost.reason in ("peer-closed", "reset")
        # Queued while the server is down.
        for i in range(20):
            client.send(f"queued {i}".encode())
        rec = wait_event(client, kind("reconnecting"))
        assert rec.attempt is not None and rec.attempt >= 1 and rec.delay is not None
        assert not client.connected

        server = bind_again(address)  # the same port again
        got: list[bytes] = []
        deadline = time.monotonic() + WAIT * 2
        while len(got) < 20 and time.monotonic() < deadline:
            got += [ev.data for ev in server.events(timeout=1) if ev.kind == "message" and ev.data]
        # Nothing more arrives: each exactly once.
        got += [ev.data for ev in server.events(timeout=0.3) if ev.kind == "message" and ev.data]
        assert got == [f"queued {i}".encode() for i in range(20)]
        wait_event(client, kind("connected"))
        assert client.connected and client.peer_address == address
        assert client.stats()["connections_total"] == 2
        assert client.stats()["connections"] == 1  # connected now, as every door counts it
    finally:
        client.close()
        server.shutdown(grace=0.5)


CHILD_CLIENT = """
import sys, time, libsock
c = libsock.Client(("127.0.0.1", int(sys.argv[1])))
print("started", flush=True)
time.sleep(60)
"""


def start_child_client(port: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", CHILD_CLIENT, str(port)],
        stdout=subprocess.PIPE,
        text=True,
    )


def test_s16_heartbeat_declares_a_stopped_peer_dead() -> None:
    interval, misses = 0.2, 3
    with libsock.Server(("127.0.0.1", 0), heartbeat=libsock.Heartbeat(interval, misses)) as server:
        child = start_child_client(server.address[1])
        try:
            ev = wait_event(server, kind("connected"), timeout=WAIT * 2)
            # The child's engine answers pings: alive for several dead-intervals.
            assert server.events(timeout=interval * misses * 3) == []
            assert [c for c, _ in server.clients()] == [ev.client]
            os.kill(child.pid, signal.SIGSTOP)
            t0 = time.monotonic()
            dead = wait_event(server, kind("disconnected"))
            elapsed = time.monotonic() - t0
            assert dead.client == ev.client
            assert dead.reason == "heartbeat-lost" and dead.reason_code == 4
            assert elapsed < interval * misses + 3.0  # generous slack: shared CI machine
        finally:
            child.kill()
            child.wait(WAIT)
            assert child.stdout is not None
            child.stdout.close()


def test_s17_shutdown_from_another_thread_wakes_events() -> None:
    server = libsock.Server(("127.0.0.1", 0))

    def blocked() -> list[str]:
        kinds: list[str] = []
        try:
            while True:
                kinds += [ev.kind for ev in server.events(timeout=None)]
        except libsock.ClosedError:
            return kinds

    waiter = Peer(blocked)
    time.sleep(0.3)
    t0 = time.monotonic()
    server.shutdown(grace=0.5)
    assert waiter.join(WAIT) == ["closed"]
    assert time.monotonic() - t0 < 3.0
    assert server.closed


def test_s17_client_close_from_another_thread_wakes_events() -> None:
    client = libsock.Client(("127.0.0.1", 9), backoff=(1.0, 2.0))  # nobody listens

    def blocked() -> str:
        try:
            while True:
                client.events(timeout=None)
        except libsock.ClosedError as e:
            return type(e).__name__

    waiter = Peer(blocked)
    time.sleep(0.3)
    client.close()
    assert waiter.join(WAIT) == "ClosedError"
    with pytest.raises(libsock.ClosedError):
        client.send(b"late")


# ---------------------------------------------------------------------------------------------
# Liveness and failures.


def test_killed_peer_gives_disconnected_reset_or_peer_closed() -> None:
    with libsock.Server(("127.0.0.1", 0)) as server:
        child = start_child_client(server.address[1])
        try:
            ev = wait_event(server, kind("connected"), timeout=WAIT * 2)
            os.kill(child.pid, signal.SIGKILL)
            gone = wait_event(server, kind("disconnected"))
            assert gone.client == ev.client
            assert gone.reason in ("reset", "peer-closed")
        finally:
            child.kill()
            child.wait(WAIT)
            assert child.stdout is not None
            child.stdout.close()


def test_idle_timeout_disconnects_a_silent_client() -> None:
    with libsock.Server(("127.0.0.1", 0), idle_timeout=0.3) as server:
        with socket.create_connection(server.address, timeout=WAIT) as s:
            ev = wait_event(server, kind("connected"))
            gone = wait_event(server, kind("disconnected"))
            assert (gone.client, gone.reason, gone.reason_code) == (ev.client, "idle-timeout", 3)
            assert s.recv(10) == b""  # the server closed it


def test_frame_too_large_disconnects() -> None:
    with libsock.Server(("127.0.0.1", 0), framing=libsock.LengthPrefixed(max_len=100)) as server:
        with socket.create_connection(server.address, timeout=WAIT) as s:
            s.sendall(struct.pack(">I", 1 << 30))
            gone = wait_event(server, kind("disconnected"))
            assert gone.reason == "frame-too-large"


def test_never_reading_client_gets_queue_full_error_and_memory_stays_bounded() -> None:
    bound = 64 * 1024
    with libsock.Server(
        ("127.0.0.1", 0), send_queue_bytes=bound, send_policy="error", send_buffer_size=8192
    ) as server:
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.connect(server.address)
            cid = wait_event(server, kind("connected")).client
            chunk = b"x" * 16384
            with pytest.raises(libsock.QueueFullError) as info:
                for _ in range(4000):  # 64 MiB at most: far more than any socket buffer
                    server.send(cid, chunk)
            assert isinstance(info.value, libsock.Error) and info.value.code == -14
            assert server.queued_bytes(cid) <= bound
            assert server.stats()["queued_bytes"] <= bound
            # Still connected: the policy is an error to the sender, not a disconnect.
            assert [c for c, _ in server.clients()] == [cid]


def test_slow_consumer_gives_exactly_one_warning_and_counts_in_stats() -> None:
    """A client that never reads while the server sends until its queue is full: one
    ``warning`` event for that client (QUEUE_FULL), whatever the number of refusals and skipped
    broadcasts in the episode, and ``stats()["send_queue_full"]`` counts each."""
    bound = 64 * 1024
    with libsock.Server(
        ("127.0.0.1", 0), send_queue_bytes=bound, send_policy="error", send_buffer_size=8192
    ) as server:
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.connect(server.address)
            cid = wait_event(server, kind("connected")).client
            chunk = b"w" * 16384
            # Fill the queue without a refusal: send only while it fits, then wait until the
            # engine can move nothing more into the kernel (a refusal followed by room again
            # would be two episodes).
            for _ in range(10_000):
                q = server.queued_bytes(cid)
                if q + len(chunk) + 4 <= bound:
                    server.send(cid, chunk)
                    continue
                time.sleep(0.15)
                if server.queued_bytes(cid) == q:
                    break
            for _ in range(3):
                with pytest.raises(libsock.QueueFullError):
                    server.send(cid, chunk)
            assert server.broadcast(chunk) == 0  # skipped
            stats = server.stats()
            assert stats["send_queue_full"] == 4 and stats["accept_errors"] == 0, stats
            events: list[libsock.Event] = []
            while True:
                got = server.events(timeout=0.3)
                if not got:
                    break
                events += got
            warnings = [e for e in events if e.kind == "warning"]
            assert len(warnings) == 1, events
            w = warnings[0]
            assert (w.client, w.kind_code, w.error_code) == (cid, 7, libsock.ERROR_CODES["QUEUE_FULL"])
            assert w.error is not None and "send queue is full" in w.error
            assert w.reason is None and w.data is None
            assert "kind='warning'" in repr(w) and "error_code=-14" in repr(w)


def test_message_larger_than_the_send_queue_is_frame_too_large_even_when_empty() -> None:
    with libsock.Server(("127.0.0.1", 0), send_queue_bytes=1024) as server:
        with socket.create_connection(server.address, timeout=WAIT) as s:
            cid = wait_event(server, kind("connected")).client
            with pytest.raises(libsock.FrameTooLargeError) as info:
                server.send(cid, b"z" * 2000)
            assert info.value.code == libsock.ERROR_CODES["FRAME_TOO_LARGE"] and "1024" in str(info.value)
            with pytest.raises(libsock.FrameTooLargeError):
                server.broadcast(b"z" * 2000)
            server.send(cid, b"fits")
            assert recv_n(s, 8) == frame(b"fits")  # nothing of the refused message went out
    client = libsock.Client(("127.0.0.1", 9), send_queue_bytes=1024, backoff=(1.0, 2.0))
    try:
        with pytest.raises(libsock.FrameTooLargeError):
            client.send(b"z" * 2000)
        client.send(b"z" * 100)
    finally:
        client.close()


def test_settings_are_checked_by_core_with_the_same_message_as_every_door() -> None:
    with pytest.raises(libsock.InvalidArgumentError, match="max_clients 0"):
        libsock.Server(("127.0.0.1", 0), max_clients=0)
    with libsock.Server(("127.0.0.1", 0), max_clients=None):
        pass
    with libsock.Server(("127.0.0.1", 0), max_clients=1):
        pass
    with pytest.raises(libsock.InvalidArgumentError, match="send_queue_bytes 0"):
        libsock.Server(("127.0.0.1", 0), send_queue_bytes=0)
    with pytest.raises(libsock.InvalidArgumentError, match="event_capacity 0"):
        libsock.Server(("127.0.0.1", 0), event_capacity=0)
    with pytest.raises(libsock.InvalidArgumentError, match="below the floor"):
        libsock.Server(("127.0.0.1", 0), heartbeat=libsock.Heartbeat(0.005))
    with pytest.raises(libsock.InvalidArgumentError, match="empty heartbeat"):
        libsock.Server(("127.0.0.1", 0), heartbeat=libsock.Heartbeat(1.0, ping=b""))
    with libsock.Server(("127.0.0.1", 0), heartbeat=libsock.Heartbeat(0.01)):
        pass
    with pytest.raises(libsock.InvalidArgumentError, match="below the floor"):
        libsock.Client(("127.0.0.1", 9), backoff=(0.005, 1.0))
    with pytest.raises(libsock.InvalidArgumentError, match="greater than the maximum"):
        libsock.Client(("127.0.0.1", 9), backoff=(2.0, 1.0))
    with pytest.raises(libsock.InvalidArgumentError, match="connect_timeout 0"):
        libsock.Client(("127.0.0.1", 9), connect_timeout=0)
    with pytest.raises(libsock.InvalidArgumentError, match="not an IPv4 address"):
        libsock.Client("127.1:80")
    with pytest.raises(libsock.InvalidArgumentError, match="not an IPv4 address"):
        libsock.Server("256.1.1.1:0")
    with pytest.raises(libsock.InvalidArgumentError, match="max_datagram 65537"):
        libsock.DatagramServer(("127.0.0.1", 0), max_datagram=65537)
    with libsock.Server(("127.0.0.1", 0)) as server:
        with pytest.raises(libsock.InvalidArgumentError, match="at least one"):
            server.events(timeout=0, max=0)
    with libsock.udp(("127.0.0.1", 0)) as u:
        with pytest.raises(libsock.InvalidArgumentError, match="at least one"):
            u.recv_many(0)


def test_never_reading_client_is_disconnected_under_the_disconnect_policy() -> None:
    with libsock.Server(
        ("127.0.0.1", 0), send_queue_bytes=64 * 1024, send_policy="disconnect", send_buffer_size=8192
    ) as server:
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.connect(server.address)
            cid = wait_event(server, kind("connected")).client
            chunk = b"y" * 16384
            for _ in range(4000):
                try:
                    server.send(cid, chunk)
                except libsock.ClosedError:
                    break
            gone = wait_event(server, kind("disconnected"))
            assert (gone.client, gone.reason, gone.reason_code) == (cid, "send-queue-full", 9)


def test_consumer_that_stops_pulling_loses_nothing() -> None:
    count, size = 6000, 1024
    with libsock.Server(("127.0.0.1", 0), event_capacity=16) as server:
        sock = socket.create_connection(server.address, timeout=WAIT * 3)

        def send_all() -> None:
            for i in range(count):
                sock.sendall(frame(struct.pack(">I", i) + bytes(size - 4)))

        sender = Peer(send_all)
        try:
            wait_event(server, kind("connected"))
            time.sleep(0.5)  # not pulling
            st = server.stats()
            assert st["events_queued"] <= 16
            assert server.pending_events <= 16
            assert st["messages_in"] < count  # the engine stopped reading
            seen = 0
            deadline = time.monotonic() + WAIT * 3
            while seen < count and time.monotonic() < deadline:
                for ev in server.events(timeout=1, max=64):
                    if ev.kind == "message":
                        assert ev.data is not None and len(ev.data) == size
                        assert struct.unpack(">I", ev.data[:4])[0] == seen
                        seen += 1
            assert seen == count
            sender.join()
        finally:
            sock.close()


def test_graceful_shutdown_delivers_queued_messages() -> None:
    with libsock.Server(("127.0.0.1", 0)) as server:
        sock = socket.create_connection(server.address, timeout=WAIT * 2)
        try:
            cid = wait_event(server, kind("connected")).client
            payloads = [bytes([i % 256]) * 10000 for i in range(200)]

            def read() -> list[bytes]:
                got = [read_frame(sock) for _ in range(200)]
                assert sock.recv(1) == b""  # then the orderly close
                sock.close()  # the server lingers until the peer closes too
                return got

            for p in payloads:
                server.send(cid, p)
            reader = Peer(read)
            server.shutdown(grace=5.0)
            assert reader.join() == payloads
            kinds = []
            try:
                while True:
                    kinds += [(ev.kind, ev.reason) for ev in server.events(timeout=WAIT)]
            except libsock.ClosedError:
                pass
            assert kinds[-2:] == [("disconnected", "server-shutdown"), ("closed", None)]
        finally:
            sock.close()


def test_kicked_client() -> None:
    with libsock.Server(("127.0.0.1", 0)) as server:
        with socket.create_connection(server.address, timeout=WAIT) as s:
            cid = wait_event(server, kind("connected")).client
            server.send(cid, b"bye")
            server.disconnect(cid)  # graceful: "bye" first
            assert read_frame(s) == b"bye"
            assert s.recv(1) == b""
            s.close()
            gone = wait_event(server, kind("disconnected"))
            assert (gone.client, gone.reason) == (cid, "kicked")
            with pytest.raises(libsock.ClosedError):
                server.send(cid, b"gone")


# ---------------------------------------------------------------------------------------------
# Readiness, serve_forever, datagrams, API details.


def test_notify_fd_is_readable_while_events_wait() -> None:
    with libsock.Server(("127.0.0.1", 0)) as server:
        assert server.fileno() == server.notify_fd >= 0
        assert select.select([server], [], [], 0) == ([], [], [])
        with socket.create_connection(server.address, timeout=WAIT):
            r, _, _ = select.select([server], [], [], WAIT)
            assert r == [server]
            assert server.pending_events >= 1
            assert server.pending == server.pending_events  # the former name
            assert [ev.kind for ev in server.events(timeout=0)] == ["connected"]
            assert select.select([server.notify_fd], [], [], 0)[0] == []
        server.shutdown()
        assert select.select([server], [], [], 0)[0] == [server]  # stays readable once closed


def test_serve_forever_stops_when_the_handler_returns_false_and_keeps_the_rest() -> None:
    server = libsock.Server(("127.0.0.1", 0))
    handled: list[str] = []

    def handler(ev: libsock.Event) -> Optional[bool]:
        handled.append(ev.kind)
        if ev.kind == "message":
            if ev.data == b"stop":
                return False
            assert ev.data is not None
            server.send(ev.client, ev.data)
        return None

    runner = Peer(lambda: server.serve_forever(handler, poll=0.1))
    try:
        with libsock.connect(server.address, timeout=WAIT, framing=libsock.LengthPrefixed()) as c:
            c.send_msg(b"hello")
            assert c.recv_msg() == b"hello"
            c.send_msgs([b"stop", b"after"])
            runner.join(WAIT)
            assert handled == ["connected", "message", "message"]
            # "after" was not handled by serve_forever: the next pull gets it.
            ev = wait_event(server, kind("message"))
            assert ev.data == b"after"
    finally:
        server.shutdown()


def test_serve_forever_returns_on_shutdown_from_another_thread() -> None:
    server = libsock.Server(("127.0.0.1", 0))
    kinds: list[str] = []
    runner = Peer(lambda: server.serve_forever(lambda ev: kinds.append(ev.kind)))
    time.sleep(0.2)
    server.shutdown()
    runner.join(WAIT)
    assert kinds == ["closed"]


def test_datagram_server_echo() -> None:
    with libsock.DatagramServer(("127.0.0.1", 0)) as udp:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", 0))
            s.settimeout(WAIT)
            s.sendto(b"ping", udp.address)
            ev = wait_event(udp, kind("datagram"))
            assert ev.data == b"ping" and ev.peer == s.getsockname()
            assert udp.send_to(b"pong", ev.peer) == 4
            assert s.recvfrom(100) == (b"pong", udp.address)
            assert udp.stats()["messages_in"] == 1
            assert udp.stats()["datagrams_in"] == 1  # the former name
        udp.shutdown()
        assert [e.kind for e in udp.events(timeout=1)] == ["closed"]


def test_datagram_server_next_datagram() -> None:
    """next_datagram, the request–reply pull: (data, peer) without an event object, the peer
    the very tuple send_to takes back; None on timeout; a burst in order, mixed with events();
    what a serve_forever handler left comes first; ClosedError once shut down."""
    with libsock.DatagramServer(("127.0.0.1", 0), max_datagram=2048) as udp:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", 0))
            s.settimeout(WAIT)
            assert udp.next_datagram(timeout=0.05) is None
            for i in range(50):
                msg = b"" if i % 10 == 0 else struct.pack(">I", i) * (1 + i % 7)
                s.sendto(msg, udp.address)
                got = udp.next_datagram(timeout=WAIT)
                assert got is not None and got[0] == msg and got[1] == s.getsockname()
                data, peer = got
                assert isinstance(data, bytes)
                udp.send_to(data, peer)
                assert s.recvfrom(4096) == (msg, udp.address)
            # A datagram longer than max_datagram is cut to it, as in events.
            s.sendto(b"x" * 3000, udp.address)
            got = udp.next_datagram(timeout=WAIT)
            assert got is not None and got[0] == b"x" * 2048
            for i in range(101):
                s.sendto(struct.pack(">I", i), udp.address)
            order: list[int] = []
            deadline = time.monotonic() + WAIT
            while len(order) < 101 and time.monotonic() < deadline:
                if len(order) % 3:
                    got = udp.next_datagram(timeout=WAIT)
                    assert got is not None
                    order.append(struct.unpack(">I", got[0])[0])
                else:
                    for e in udp.events(WAIT, max=2):
                        assert e.data is not None
                        order.append(struct.unpack(">I", e.data)[0])
            assert order == list(range(101))
            assert udp.stats()["messages_in"] == 50 + 1 + 101
            # Left by a serve_forever handler that stopped: next_datagram gets it first.
            s.sendto(b"first", udp.address)
            s.sendto(b"second", udp.address)
            time.sleep(0.1)
            udp.serve_forever(lambda ev: False, poll=0.1)  # handles "first", stops, keeps the rest
            got = udp.next_datagram(timeout=WAIT)
            assert got is not None and got[0] == b"second"
        waiter = Peer(lambda: udp.next_datagram(timeout=WAIT * 3))
        time.sleep(0.1)
        udp.shutdown()
        with pytest.raises(libsock.ClosedError):
            waiter.join(WAIT)
        with pytest.raises(libsock.ClosedError):
            udp.next_datagram(timeout=1)
        with pytest.raises(TypeError):
            udp.next_datagram(timeout="soon")  # type: ignore[arg-type]


def test_datagram_server_connected_to_one_peer() -> None:
    """connect + send: to the peer without naming it; only its datagrams come in; send before
    connect is a ValueError; nothing listening there is ConnectionRefusedError on a later send."""
    with libsock.DatagramServer(("127.0.0.1", 0)) as udp, \
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s, \
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as stranger:
        s.bind(("127.0.0.1", 0))
        s.settimeout(WAIT)
        with pytest.raises(ValueError):
            udp.send(b"early")
        assert udp.connect(s.getsockname()) == s.getsockname()
        stranger.sendto(b"stranger", udp.address)
        for i in range(20):
            msg = struct.pack(">I", i)
            assert udp.send(msg) == 4
            assert s.recvfrom(100) == (msg, udp.address)
            s.sendto(msg, udp.address)
            assert udp.next_datagram(timeout=WAIT) == (msg, s.getsockname())
        assert udp.next_datagram(timeout=0.05) is None  # the stranger's was not received
        with pytest.raises(ValueError):
            udp.connect(("127.0.0.1", 70000))  # no such port
        gone = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        gone.bind(("127.0.0.1", 0))
        gone_addr = gone.getsockname()
        gone.close()
        udp.connect(gone_addr)
        with pytest.raises(ConnectionRefusedError):
            for _ in range(50):
                udp.send(b"anyone?")
                time.sleep(0.01)
        # Waiting for a reply after each send: the wait reports the refusal (the read that
        # takes it from the socket must not leave the next send to succeed).
        with pytest.raises(ConnectionRefusedError):
            for _ in range(20):
                udp.send(b"anyone?")
                assert udp.next_datagram(timeout=0.2) is None


def test_client_send_queue_full_while_disconnected() -> None:
    client = libsock.Client(("127.0.0.1", 9), send_queue_bytes=100, backoff=(1.0, 2.0))
    try:
        client.send(b"a" * 50)
        # 60 bytes (64 framed) would fit an empty queue: full, not too large (a message larger
        # than the whole queue is FrameTooLargeError, test_message_larger_than_the_send_queue...).
        with pytest.raises(libsock.QueueFullError):
            client.send(b"b" * 60)
        assert client.stats()["queued_bytes"] <= 100
    finally:
        client.close()


def test_client_gives_up_after_max_attempts() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, not listening: refused
        client = libsock.Client(
            ("127.0.0.1", port), reconnect=True, max_attempts=2, backoff=(0.01, 0.02)
        )
        kinds = []
        try:
            deadline = time.monotonic() + WAIT
            while time.monotonic() < deadline:
                evs = client.events(timeout=1)
                kinds += [ev.kind for ev in evs]
                if "closed" in kinds:
                    break
        finally:
            client.close()
        assert kinds[-1] == "closed"
        assert "reconnecting" in kinds


def test_event_fields_and_repr() -> None:
    with libsock.Server(("127.0.0.1", 0)) as server:
        with socket.create_connection(server.address, timeout=WAIT) as s:
            s.sendall(frame(b"m" * 100))
            conn = wait_event(server, kind("connected"))
            assert conn.kind_code == 1 and conn.peer == s.getsockname() and conn.data is None
            assert conn.reason is None and conn.attempt is None
            assert repr(conn).startswith("Event(kind='connected', client=")
            msg = wait_event(server, kind("message"))
            assert msg.kind_code == 2 and msg.data == b"m" * 100 and msg.peer is None
            assert "(100 bytes)" in repr(msg)
            assert server.client_address(msg.client) == s.getsockname()
            assert server.peer_address(msg.client) == s.getsockname()  # the former name
        gone = wait_event(server, kind("disconnected"))
        assert "reason='peer-closed'" in repr(gone)
        assert "Server" in repr(server)


def test_bad_arguments_are_value_errors() -> None:
    with pytest.raises(ValueError):
        libsock.Server(("127.0.0.1", 0), send_policy="drop")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        libsock.Server(("127.0.0.1", 0), idle_mode="writes")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        libsock.Server(("127.0.0.1", 0), framing=libsock.Raw(), heartbeat=libsock.Heartbeat(1))
    with pytest.raises(ValueError):
        libsock.Heartbeat(-1)
    with pytest.raises(ValueError):
        libsock.Client(("127.0.0.1", 9), backoff=(2.0, 1.0))
    with pytest.raises(TypeError):
        libsock.Server(("127.0.0.1", 0), no_such_option=1)
    with pytest.raises(TypeError):
        libsock.Server(("127.0.0.1", 0), heartbeat=3)  # type: ignore[arg-type]
    hb = libsock.Heartbeat(0.5, 4, ping=b"PING", pong=b"PONG")
    assert (hb.interval, hb.misses, hb.ping, hb.pong, hb.active) == (0.5, 4, b"PING", b"PONG", True)
    assert libsock.Heartbeat(1, active=False).active is False


def test_unix_server_and_delimited_framing(tmp_sock_dir: str) -> None:
    path = os.path.join(tmp_sock_dir, "engine.sock")
    with libsock.Server("unix:" + path, framing=libsock.Delimited(b"\n")) as server:
        echo = echo_thread(server)
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(WAIT)
            s.connect(path)
            s.sendall(b"one\ntwo\n")
            buf = b""
            deadline = time.monotonic() + WAIT
            while buf != b"one\ntwo\n" and time.monotonic() < deadline:
                buf += s.recv(100)
            assert buf == b"one\ntwo\n"
        server.shutdown()
        echo.join()
    assert not os.path.exists(path)


# ---------------------------------------------------------------------------------------------
# 1,000 concurrent clients.


def test_1000_clients_echo_byte_exact_through_a_python_driven_server() -> None:
    n_clients, rounds = 1000, 3
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = 2 * n_clients + 200  # both ends live in this process
    if soft < need:
        if hard != resource.RLIM_INFINITY and hard < need:
            pytest.skip(f"RLIMIT_NOFILE hard limit {hard} < {need}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (need, hard))
    rng = random.Random(1234)
    try:
        with libsock.Server(("127.0.0.1", 0), backlog=2048) as server:
            echo = echo_thread(server)
            socks: list[socket.socket] = []
            sel = selectors.DefaultSelector()
            try:
                for _ in range(n_clients):
                    s = socket.create_connection(server.address, timeout=WAIT)
                    s.setblocking(False)
                    socks.append(s)
                # Each client: send a random frame, wait for the echo, `rounds` times.
                expected: dict[int, bytes] = {}
                received: dict[int, bytearray] = {}
                left = {i: rounds for i in range(n_clients)}

                def send_next(i: int) -> None:
                    payload = rng.randbytes(rng.randint(1, 3000))
                    expected[i] = frame(payload)
                    received[i] = bytearray()
                    socks[i].sendall(expected[i])  # small: fits the socket buffer

                t0 = time.monotonic()
                for i, s in enumerate(socks):
                    sel.register(s, selectors.EVENT_READ, i)
                    send_next(i)
                done = 0
                deadline = time.monotonic() + WAIT * 4
                while done < n_clients and time.monotonic() < deadline:
                    for key, _ in sel.select(timeout=1):
                        i = key.data
                        chunk = socks[i].recv(65536)
                        assert chunk, f"client {i}: the server closed the connection"
                        received[i] += chunk
                        if len(received[i]) >= len(expected[i]):
                            assert bytes(received[i]) == expected[i], f"client {i}: echo differs"
                            left[i] -= 1
                            if left[i] == 0:
                                sel.unregister(socks[i])
                                done += 1
                            else:
                                send_next(i)
                elapsed = time.monotonic() - t0
                assert done == n_clients
                print(f"1,000 clients: {n_clients * rounds / elapsed:.0f} round trips/s")
                assert server.stats()["connections_total"] == n_clients
            finally:
                sel.close()
                for s in socks:
                    s.close()
            server.shutdown(grace=1.0)
            assert echo.join() == n_clients * rounds
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_engine_objects_are_usable_from_many_threads() -> None:
    with libsock.Server(("127.0.0.1", 0)) as server:
        echo = echo_thread(server)
        clients = [libsock.Client(server.address) for _ in range(4)]
        try:
            for c in clients:
                wait_event(c, kind("connected"))

            def talk(c: libsock.Client, tag: int) -> list[bytes]:
                for j in range(50):
                    c.send(f"{tag}:{j}".encode())
                got: list[bytes] = []
                deadline = time.monotonic() + WAIT
                while len(got) < 50 and time.monotonic() < deadline:
                    got += [ev.data for ev in c.events(timeout=1) if ev.kind == "message" and ev.data]
                return got

            peers = [Peer(talk, c, i) for i, c in enumerate(clients)]
            for i, p in enumerate(peers):
                assert p.join() == [f"{i}:{j}".encode() for j in range(50)]
        finally:
            for c in clients:
                c.close()
        server.shutdown()
        echo.join()


CTRL_C_CHILD = SIGINT_DEFAULT + """
import libsock
server = libsock.Server(("127.0.0.1", 0))
client = libsock.Client(server.address, backoff=(5.0, 5.0))
print("ready", flush=True)
for obj in (server, client):
    try:
        while True:
            obj.events(timeout=None)  # drains the connected events, then blocks
    except KeyboardInterrupt:
        print("interrupted", flush=True)
client.close()
server.shutdown()
print("done", flush=True)
"""


def test_ctrl_c_interrupts_a_blocked_events_call() -> None:
    p = subprocess.Popen(
        [sys.executable, "-u", "-c", CTRL_C_CHILD],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert p.stdout is not None
        assert readline(p.stdout) == "ready"
        for _ in range(2):  # the server's events(), then the client's
            time.sleep(0.5)  # let it block
            t0 = time.monotonic()
            p.send_signal(signal.SIGINT)
            assert readline(p.stdout) == "interrupted"
            assert time.monotonic() - t0 < 3.0
        assert readline(p.stdout) == "done"
        assert p.wait(WAIT) == 0
    finally:
        if p.poll() is None:
            p.kill()
        p.communicate(timeout=WAIT)


def test_send_with_timeout_and_send_batch_wait_for_room_instead_of_failing() -> None:
    # A plain socket that reads only after the client's queue is full: send(timeout=0) fails
    # with QueueFullError, send(timeout=...) and send_batch wait (woken as the queue drains),
    # and every message arrives in order.
    with socket.socket() as lst:
        lst.bind(("127.0.0.1", 0))
        lst.listen()
        client = libsock.Client(lst.getsockname(), send_queue_bytes=64 * 1024)
        peer, _ = lst.accept()
        try:
            msgs = [i.to_bytes(4, "big") * 4096 for i in range(2000)]  # 16 KiB each
            sent = 0
            with pytest.raises(libsock.QueueFullError):
                while True:  # the kernel's buffers, then the queue, fill up
                    client.send(msgs[sent])
                    sent += 1
            got: list[bytes] = []

            def read_all() -> None:
                peer.settimeout(WAIT)
                for _ in msgs:
                    got.append(recv_n(peer, 4 + 16 * 1024)[4:])

            reader = threading.Thread(target=read_all)
            reader.start()
            client.send(msgs[sent], timeout=WAIT)
            assert client.send_batch(msgs[sent + 1 :], timeout=WAIT) == len(msgs) - sent - 1
            reader.join(WAIT)
            assert not reader.is_alive()
            assert got == msgs
            with pytest.raises(libsock.FrameTooLargeError):
                client.send(b"x" * (128 * 1024), timeout=None)
        finally:
            client.close()
            peer.close()


def test_messages_send_batch_and_client_stats() -> None:
    """``messages()`` pulls message events as (client, data) without event objects and stops
    before another kind; ``send_batch`` queues many at once; ``client_stats`` counts per client."""
    with libsock.Server(("127.0.0.1", 0)) as server:
        peer = libsock.connect(server.address, timeout=WAIT, framing=libsock.LengthPrefixed())
        ev = server.next_event(timeout=WAIT)
        assert ev is not None and ev.kind == "connected"
        client = ev.client
        for i in range(50):
            peer.send_msg(b"m%d" % i)
        got: list[tuple[int, bytes]] = []
        while len(got) < 50:
            got += server.messages(timeout=WAIT, max=16)
        assert got == [(client, b"m%d" % i) for i in range(50)]
        assert server.send_batch(client, [b"a", b"bb", memoryview(b"ccc")], timeout=WAIT) == 3
        assert [peer.recv_msg() for _ in range(3)] == [b"a", b"bb", b"ccc"]
        # The engine counts a write when the write call returns, which may come after the peer
        # already read the bytes: wait (bounded) for the count.
        deadline = time.monotonic() + WAIT
        while server.client_stats(client)["messages_out"] < 3 and time.monotonic() < deadline:
            time.sleep(0.005)
        st = server.client_stats(client)
        assert st["messages_in"] == 50 and st["messages_out"] == 3 and st["tls"] is False
        assert st["peer"] == peer.local_address and st["connected_since"] <= time.time()
        peer.close()
        # The disconnect is not a message: messages() leaves it queued and returns [];
        # events() then gives it.
        assert server.messages(timeout=WAIT) == []
        evs = server.events(timeout=WAIT)
        assert evs and evs[0].kind == "disconnected"
        with pytest.raises(libsock.ClosedError):
            server.client_stats(client)
        assert server.stats()["messages_in"] == 50


def test_messages_grouped_gives_one_tuple_per_run_of_one_client() -> None:
    """``messages(grouped=True)``: one ``(client, [data, ...])`` per run of consecutive messages
    from one client, in arrival order, the same bytes as the ungrouped pull."""
    with libsock.Server(("127.0.0.1", 0)) as server:
        peers = []
        ids = []
        for _ in range(2):
            peers.append(libsock.connect(server.address, timeout=WAIT,
                                         framing=libsock.LengthPrefixed()))
            ev = server.next_event(timeout=WAIT)
            assert ev is not None and ev.kind == "connected"
            ids.append(ev.client)
        a, b = peers
        sent: list[tuple[int, bytes]] = []
        for i in range(30):
            a.send_msg(b"a%d" % i)
            sent.append((ids[0], b"a%d" % i))
        # Wait (bounded) until a's 30 are queued, so b's come after them in the queue.
        deadline = time.monotonic() + WAIT
        while server.pending_events < 30 and time.monotonic() < deadline:
            time.sleep(0.005)
        for i in range(20):
            b.send_msg(b"b%d" % i)
            sent.append((ids[1], b"b%d" % i))
        while server.pending_events < 50 and time.monotonic() < deadline:
            time.sleep(0.005)
        runs = server.messages(timeout=WAIT, max=1024, grouped=True)
        assert [type(r) for r in runs] == [tuple] * len(runs)
        assert [(c, d) for c, batch in runs for d in batch] == sent
        assert [c for c, _ in runs] == ids  # two runs: a's, then b's
        assert all(type(batch) is list and batch for _, batch in runs)
        assert server.messages(timeout=0, grouped=True) == []
        for p in peers:
            p.close()
        # Not a message: left for events(), as the ungrouped pull does.
        assert server.messages(timeout=WAIT, grouped=True) == []
        assert server.events(timeout=WAIT)[0].kind == "disconnected"


@pytest.mark.parametrize("make", ["server", "datagram"])
def test_s17_close_is_the_shutdown_the_final_event_then_closed_error(make: str) -> None:
    """S17's rule (docs/SCENARIOS.md): Python's close() is the shutdown, so a blocked events()
    gets the final ``closed`` event, then ClosedError, promptly."""
    obj: Any = (libsock.Server(("127.0.0.1", 0)) if make == "server"
                else libsock.DatagramServer(("127.0.0.1", 0)))

    def blocked() -> list[str]:
        kinds: list[str] = []
        try:
            while True:
                kinds += [ev.kind for ev in obj.events(timeout=None)]
        except libsock.ClosedError:
            return kinds

    waiter = Peer(blocked)
    time.sleep(0.3)
    t0 = time.monotonic()
    obj.close()
    assert waiter.join(WAIT) == ["closed"]
    assert time.monotonic() - t0 < 3.0
