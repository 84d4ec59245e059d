"""Benchmark workers in Python: one program per implementation, speaking bench/PROTOCOL.md.

Usage::

    python3 bench/py/worker.py IMPL ROLE WORKLOAD [--port P] [--size N] [--count N]
        [--nodelay 1|0] [--bytes B] [--chunk N] [--batch N] [--offload 1|0] [--timeout S]

``IMPL`` is one of ``py-libsock`` (libsock's blocking layer), ``py-engine`` (libsock's event
engine: ``Server``, ``Client``, ``DatagramServer``), ``py-stdlib`` (the ``socket`` module, framing
in Python), ``py-asyncio`` (asyncio Protocols), ``py-uvloop`` (the same Protocols under uvloop)
and ``py-zmq`` (pyzmq PAIR sockets over ``tcp://``). ``ROLE`` is ``server`` or ``client``;
``WORKLOAD`` is ``pingpong``, ``bulk``, ``framed``, ``udp-flood``, ``udp-drain``, ``udp-echo`` or
``udp-bulk`` (sender and receiver both the implementation under test; ``--offload 1|0`` turns
libsock's UDP segmentation/receive offload on or off, the others ignore it).

The server binds 127.0.0.1 port 0, prints ``READY <port>``, serves one run and prints one JSON
line; the client connects to ``--port``, runs and validates the workload and prints one JSON line
(``{"ok": false, "error": ...}`` and exit 1 on any failure). An implementation that does not do a
workload prints ``{"ok": false, "skip": reason}`` and exits 3. Every wait is bounded by
``--timeout`` (default 30 s). Diagnostics go to stderr; stdout carries only the protocol lines.

The client of ``udp-flood`` and ``udp-drain`` is meant to be the shared C sender;
``py-libsock client udp-flood`` (or ``udp-drain``) is the fallback shared sender
(``Datagram.send_many`` in batches of 64), the other implementations' client is a plain
``socket.send`` loop. A ``udp-drain`` server waits for a line ``GO`` on stdin (written by the
driver once the sender has exited) before it drains its full receive queue.

The loops are written to carry as little Python overhead as the API allows (attribute lookups
hoisted, buffers preallocated), and every echo, sequence number and byte count is checked.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import struct
import sys
import threading
import time
from typing import Any, Callable, Dict, List, Optional

# --------------------------------------------------------------------------------- common parts

END = b"\xff" * 8  # the END datagram of udp-flood, udp-drain and udp-echo
Q = struct.Struct("<Q")  # sequence numbers and byte counts: little-endian u64
BE4 = struct.Struct(">I")  # framed: 4-byte big-endian length
HOST = "127.0.0.1"
READ_MAX = 1024  # how many decoded messages a framed reader takes per call
UDP_BATCH = 64  # datagrams per recv_many / send_many call
ZMQ_WINDOW = 1000  # framed over zmq: messages in flight (zmq's default high-water mark)

Result = Dict[str, Any]

DRAIN_RCVBUF = 256 << 20  # udp-drain: the receive buffer forced before the flood
DRAIN_IDLE = 0.2  # udp-drain: the queue is drained when nothing arrives for this long

DEFAULT_SIZE = {"pingpong": 64, "framed": 100, "udp-flood": 64, "udp-drain": 64, "udp-echo": 64,
                "udp-bulk": 1200}
DEFAULT_COUNT = {"pingpong": 10000, "framed": 100000, "udp-flood": 100000, "udp-drain": 100000,
                 "udp-echo": 10000, "udp-bulk": 100000}
WORKLOADS = ("pingpong", "bulk", "framed", "udp-flood", "udp-drain", "udp-echo", "udp-bulk")
IMPL_NAMES = ("py-libsock", "py-engine", "py-stdlib", "py-asyncio", "py-uvloop", "py-zmq")


class Fail(Exception):
    """A failed run: a validation mismatch, a lost peer or a wait that ran out of time."""


class Skip(Exception):
    """The implementation does not do this workload (reported as ``skip``, exit 3)."""


def emit(obj: Result) -> None:
    """Write one JSON line to stdout and flush it."""
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def ready(port: int) -> None:
    """Tell the driver the server listens: ``READY <port>``."""
    sys.stdout.write(f"READY {port}\n")
    sys.stdout.flush()


def rate(n: float, secs: float) -> float:
    """``n / secs``, guarded against a zero duration."""
    return n / secs if secs > 0 else float("inf")


def pp_result(n: int, secs: float) -> Result:
    """The client result of pingpong and udp-echo."""
    return {"ok": True, "rt_per_s": rate(n, secs), "count": n, "secs": secs}


def bulk_result(b: int, secs: float) -> Result:
    """The client result of bulk."""
    return {"ok": True, "mib_per_s": rate(b / 2**20, secs), "bytes": b, "secs": secs}


def framed_result(n: int, secs: float) -> Result:
    """The client result of framed."""
    return {"ok": True, "msgs_per_s": rate(n, secs), "count": n, "secs": secs}


def flood_result(n: int, t_first: float, t_last: float, rcvbuf: Optional[int],
                 cpu_first: float) -> Result:
    """The server (receiver) result of udp-flood.

    Besides the protocol's fields (as the C and Rust receivers do): ``rx_cpu_secs``, the
    process's CPU time from the first datagram to now (``cpu_first`` is ``process_time()`` at
    the first datagram; engine threads included), and ``cpu_ns_per_dgram``. When the sender is
    the bottleneck ``rx_per_s`` is the sender's rate; the receiver's cost shows in its CPU time.
    """
    if n == 0:
        raise Fail("udp-flood: no datagram arrived")
    rx = t_last - t_first
    cpu = time.process_time() - cpu_first
    return {"ok": True, "received": n, "rx_secs": rx, "rx_per_s": rate(n, rx), "rcvbuf": rcvbuf,
            "rx_cpu_secs": cpu, "cpu_ns_per_dgram": cpu * 1e9 / n}


def served(k: int, want: int, what: str) -> Result:
    """A server result that counts what it served; ``ok`` only if that is the client's count."""
    if k != want:
        return {"ok": False, "error": f"{what}: served {k} of {want}", "count": k}
    return {"ok": True, "count": k}


def bad_echo(i: int, got: Any, want: Any) -> Fail:
    """The failure for an echo that differs from what was sent."""
    return Fail(f"echo {i}: got {bytes(got[:16]).hex()}.. ({len(got)} bytes), "
                f"sent {bytes(want[:16]).hex()}.. ({len(want)} bytes)")


def bad_msg(exp: int, m: Any, size: int) -> Fail:
    """The failure for a framed message with the wrong length or sequence number."""
    if len(m) != size:
        return Fail(f"framed: message {exp} has {len(m)} bytes, expected {size}")
    return Fail(f"framed: expected sequence {exp}, got {Q.unpack_from(m)[0]}")


def bad_datagram(data: Any, size: int, count: int) -> Fail:
    """The failure for a flood datagram with the wrong size or sequence number."""
    if len(data) > size:  # receivers read size + 1 bytes: a longer datagram shows as that
        return Fail(f"udp-flood: datagram longer than expected (expected {size} bytes)")
    if len(data) != size:
        return Fail(f"udp-flood: datagram of {len(data)} bytes (expected {size} bytes)")
    return Fail(f"udp-flood: sequence number {Q.unpack_from(data)[0]} >= count {count}")


def bulk_check_head(head: bytes, total: int, want: int) -> None:
    """The bulk server's check: the stream began with ``want`` as a u64."""
    if total < 8:
        raise Fail(f"bulk: stream ended after {total} bytes")
    if Q.unpack_from(head)[0] != want:
        raise Fail(f"bulk: first 8 bytes say {Q.unpack_from(head)[0]}, expected {want}")


def stdlib_bound(s: socket.socket, timeout: float) -> None:
    """Bound every wait of a blocking stdlib socket with SO_RCVTIMEO / SO_SNDTIMEO.

    This keeps the socket in blocking mode: ``settimeout`` would make CPython poll() before
    every call, an extra system call per operation that a fast stdlib program avoids. A wait
    that runs out raises ``BlockingIOError`` (EAGAIN).
    """
    s.settimeout(None)
    sec = int(timeout)
    tv = struct.pack("ll", sec, int((timeout - sec) * 1e6))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, tv)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, tv)


def stdlib_listen(kind: int = socket.SOCK_STREAM) -> socket.socket:
    """A stdlib socket bound to 127.0.0.1 port 0 (listening if TCP)."""
    s = socket.socket(socket.AF_INET, kind)
    s.bind((HOST, 0))
    if kind == socket.SOCK_STREAM:
        s.listen(16)
    return s


def stdlib_accept(srv: socket.socket, timeout: float) -> socket.socket:
    """Accept one connection within ``timeout``; the connection is blocking with bounded waits."""
    srv.settimeout(timeout)
    try:
        c, _ = srv.accept()
    except socket.timeout:
        raise Fail(f"no client within {timeout} s") from None
    stdlib_bound(c, timeout)
    return c


def stdlib_connect(port: int, timeout: float) -> socket.socket:
    """Connect to 127.0.0.1:``port``; the socket is blocking with bounded waits."""
    s = socket.create_connection((HOST, port), timeout=timeout)
    stdlib_bound(s, timeout)
    return s


def stdlib_recv_exactly(recv_into: Callable[..., int], mv: memoryview, k: int, size: int) -> None:
    """Finish a short read: receive into ``mv[k:size]`` until it is full (stdlib)."""
    while k < size:
        r = recv_into(mv[k:size])
        if not r:
            raise Fail(f"peer closed after {k} of {size} bytes")
        k += r


def plain_udp_sender(p: argparse.Namespace) -> Result:
    """The plain udp-flood sender: one ``socket.send`` per datagram, then 20 END datagrams."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect((HOST, p.port))
    send = s.send
    pack = Q.pack
    fill = b"\x77" * (p.size - 8)
    t0 = time.perf_counter()
    for i in range(p.count):
        send(pack(i) + fill)
    secs = time.perf_counter() - t0
    send_end(s.send)
    s.close()
    return {"ok": True, "sent": p.count, "tx_secs": secs}


def force_rcvbuf(fd: int) -> int:
    """udp-drain: SO_RCVBUFFORCE = 256 MiB on ``fd`` (SO_RCVBUF when not permitted); return the
    size the kernel granted. Done through a stdlib socket on a duplicate of the descriptor, so it
    works for any implementation's socket (libsock has no SO_RCVBUFFORCE option)."""
    s = socket.socket(fileno=os.dup(fd))
    try:
        try:
            s.setsockopt(socket.SOL_SOCKET, getattr(socket, "SO_RCVBUFFORCE", 33), DRAIN_RCVBUF)
        except OSError:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, DRAIN_RCVBUF)
        return int(s.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF))
    finally:
        s.close()


def wait_go(timeout: float) -> None:
    """udp-drain: wait (at most ``timeout`` s) for the driver's line ``GO`` on stdin."""
    import select

    r, _, _ = select.select([sys.stdin], [], [], timeout)
    if not r:
        raise Fail(f"udp-drain: no GO on stdin within {timeout} s")
    line = sys.stdin.readline()
    if line.strip() != "GO":
        raise Fail(f"udp-drain: expected GO on stdin, got {line!r}")


def drain_result(n: int, t0: float, t_last: float, rcvbuf: Optional[int], cpu0: float) -> Result:
    """The server result of udp-drain (timed from just before the first receive call), with the
    CPU fields of ``flood_result``."""
    if n == 0:
        raise Fail("udp-drain: no datagram was queued")
    rx = t_last - t0
    cpu = time.process_time() - cpu0
    return {"ok": True, "received": n, "rx_secs": rx, "rx_per_s": rate(n, rx), "rcvbuf": rcvbuf,
            "rx_cpu_secs": cpu, "cpu_ns_per_dgram": cpu * 1e9 / n}


def send_end(send: Callable[[bytes], Any]) -> None:
    """Send the 20 END datagrams 1 ms apart (errors ignored: the receiver leaves at the first)."""
    for _ in range(20):
        try:
            send(END)
        except OSError:
            pass
        time.sleep(0.001)


# ------------------------------------------------------------------------- py-libsock (blocking)


class PyLibsock:
    """libsock's blocking layer: ``connect``/``listen``/``Connection``/``Datagram``."""

    ls: Any = None  # the libsock module, imported when the implementation is chosen

    def __init__(self) -> None:
        import libsock

        self.ls = libsock

    def _accept(self, p: argparse.Namespace, **listen_kw: Any) -> Any:
        """Listen on 127.0.0.1:0, print READY, accept one connection with timeout."""
        with self.ls.listen((HOST, 0), **listen_kw) as lst:
            ready(lst.address[1])
            conn, _ = lst.accept(timeout=p.timeout)
        conn.settimeout(p.timeout)
        return conn

    def server_pingpong(self, p: argparse.Namespace) -> Result:
        """Read exactly ``size`` bytes, send them back, until the client closes."""
        conn = self._accept(p)
        conn.set_option("nodelay", bool(p.nodelay))
        buf = bytearray(p.size)
        recv, send = conn.recv_exactly_into, conn.sendall
        k = 0
        try:
            while True:
                recv(buf)
                send(buf)
                k += 1
        except self.ls.ClosedError:
            pass
        conn.close()
        return served(k, p.count, "pingpong")

    def client_pingpong(self, p: argparse.Namespace) -> Result:
        """Send ``size`` bytes (sequence number first), receive exactly the echo, compare."""
        c = self.ls.connect((HOST, p.port), timeout=p.timeout, nodelay=bool(p.nodelay))
        size, n = p.size, p.count
        out = bytearray(b"\x5a" * size)
        inb = bytearray(size)
        pack_into = Q.pack_into
        send, recv = c.sendall, c.recv_exactly_into
        t0 = time.perf_counter()
        for i in range(n):
            pack_into(out, 0, i)
            send(out)
            recv(inb)
            if inb != out:
                raise bad_echo(i, inb, out)
        secs = time.perf_counter() - t0
        c.close()
        return pp_result(n, secs)

    def server_bulk(self, p: argparse.Namespace) -> Result:
        """Count the stream with a ``chunk``-sized buffer, check its head, send the count back."""
        conn = self._accept(p)
        buf = bytearray(p.chunk)
        recv = conn.recv_into
        total = 0
        head = bytearray()
        while total < 8:
            k = recv(buf)
            if not k:
                break
            head += buf[:k]
            total += k
        if total >= 8:
            while True:
                k = recv(buf)
                if not k:
                    break
                total += k
        bulk_check_head(bytes(head[:8]), total, p.bytes)
        conn.sendall(Q.pack(total))
        conn.close()
        return {"ok": total == p.bytes, "bytes": total}

    def client_bulk(self, p: argparse.Namespace) -> Result:
        """Send ``bytes`` in ``chunk`` writes from one buffer, half-close, check the count."""
        c = self.ls.connect((HOST, p.port), timeout=p.timeout)
        b, chunk = p.bytes, p.chunk
        buf = bytearray(b"\xa5" * chunk)
        Q.pack_into(buf, 0, b)
        full, rest = divmod(b, chunk)
        send = c.sendall
        got = bytearray(8)
        t0 = time.perf_counter()
        for _ in range(full):
            send(buf)
        if rest:
            send(memoryview(buf)[:rest])
        c.shutdown("write")
        c.recv_exactly_into(got)
        secs = time.perf_counter() - t0
        c.close()
        count = Q.unpack(got)[0]
        if count != b:
            raise Fail(f"bulk: server counted {count} bytes, sent {b}")
        return bulk_result(b, secs)

    def server_framed(self, p: argparse.Namespace) -> Result:
        """Decode messages (recv_msgs) and echo each decoded batch (send_msgs)."""
        fr = self.ls.LengthPrefixed(4, "big")
        conn = self._accept(p, framing=fr)
        conn.set_option("nodelay", True)
        recv, send = conn.recv_msgs, conn.send_msgs
        k = 0
        try:
            while True:
                msgs = recv(READ_MAX)
                send(msgs)
                k += len(msgs)
        except self.ls.ClosedError:
            pass
        conn.close()
        return served(k, p.count, "framed")

    def client_framed(self, p: argparse.Namespace) -> Result:
        """A writer thread sends batches with send_msgs; the reader checks every echo in order."""
        fr = self.ls.LengthPrefixed(4, "big")
        c = self.ls.connect((HOST, p.port), timeout=p.timeout, framing=fr, nodelay=True)
        size, n, batch = p.size, p.count, p.batch

        def writer() -> None:
            pack = Q.pack
            fill = b"\x33" * (size - 8)
            send_msgs = c.send_msgs
            for s in range(0, n, batch):
                send_msgs([pack(i) + fill for i in range(s, min(s + batch, n))])

        secs = run_framed_client(writer, lambda: libsock_framed_reader(c, size, n), p.timeout)
        c.close()
        return framed_result(n, secs)

    def server_udp_flood(self, p: argparse.Namespace, gro: bool = False) -> Result:
        """Receive with recv_many until END or 2 s of silence, checking every datagram."""
        d = self.ls.udp((HOST, 0), recv_buffer_size=4 << 20, timeout=p.timeout, gro=gro)
        rcvbuf = d.get_option("recv_buffer_size")
        ready(d.address[1])
        size, count = p.size, p.count
        recv_many = d.recv_many
        unpack = Q.unpack_from
        nbuf = size + 1  # a longer datagram shows up as size + 1 bytes
        n = 0
        t_first = t_last = cpu_first = 0.0
        done = False
        while not done:
            try:
                lst = recv_many(UDP_BATCH, nbuf)
            except TimeoutError:
                if n == 0:
                    raise Fail(f"udp-flood: nothing within {p.timeout} s") from None
                break  # 2 s with nothing
            if n == 0:
                t_first = time.perf_counter()
                cpu_first = time.process_time()
                d.settimeout(2.0)
            got = 0
            for data, _ in lst:
                if len(data) != size or unpack(data)[0] >= count:
                    if data == END:
                        done = True
                        break
                    raise bad_datagram(data, size, count)
                got += 1
            if got:
                n += got
                t_last = time.perf_counter()
        d.close()
        return flood_result(n, t_first, t_last, rcvbuf, cpu_first)

    def client_udp_flood(self, p: argparse.Namespace) -> Result:
        """The fallback shared sender: send_many in batches of 64, then 20 END datagrams."""
        d = self.ls.udp(connect=(HOST, p.port), timeout=p.timeout)
        send_many = d.send_many
        pack = Q.pack
        fill = b"\x77" * (p.size - 8)
        n = p.count
        t0 = time.perf_counter()
        for s in range(0, n, UDP_BATCH):
            dg = [pack(i) + fill for i in range(s, min(s + UDP_BATCH, n))]
            k = send_many(dg)
            while k < len(dg):
                k += send_many(dg[k:])
        secs = time.perf_counter() - t0
        send_end(d.send)
        d.close()
        return {"ok": True, "sent": n, "tx_secs": secs}

    def server_udp_bulk(self, p: argparse.Namespace) -> Result:
        """The udp-flood receiver, with UDP_GRO when ``--offload 1``."""
        return self.server_udp_flood(p, gro=bool(p.offload))

    def client_udp_bulk(self, p: argparse.Namespace) -> Result:
        """send_many in batches of ``--batch`` (segmented by the kernel when ``--offload 1``),
        then 20 END datagrams."""
        d = self.ls.udp(connect=(HOST, p.port), timeout=p.timeout, gso=bool(p.offload))
        send_many = d.send_many
        pack = Q.pack
        fill = b"\x77" * (p.size - 8)
        n, batch = p.count, p.batch
        t0 = time.perf_counter()
        for s in range(0, n, batch):
            dg = [pack(i) + fill for i in range(s, min(s + batch, n))]
            k = send_many(dg)
            while k < len(dg):
                k += send_many(dg[k:])
        secs = time.perf_counter() - t0
        send_end(d.send)
        d.close()
        return {"ok": True, "sent": n, "tx_secs": secs, "tx_per_s": rate(n, secs)}

    def server_udp_drain(self, p: argparse.Namespace) -> Result:
        """After GO, drain the full queue with recv_many_into until END or 0.2 s of silence:
        each batch lands in one buffer of slots with no Python object per datagram (no
        senders asked of the kernel, as c-raw-mmsg's recvmmsg without msg_name), and is
        checked as c-raw-mmsg checks it (every size, every sequence number below count) with
        C-level passes over the sizes and over the sequence numbers, read through a memoryview
        of the slots; a batch that fails them (END, or a bad datagram) is checked one by one."""
        d = self.ls.udp((HOST, 0), timeout=DRAIN_IDLE)
        rcvbuf = force_rcvbuf(d.fileno())
        ready(d.address[1])
        wait_go(p.timeout)
        size, count = p.size, p.count
        # Slots of size + 8 bytes or more, rounded to 8: a longer datagram shows as a size over
        # `size`, and the slots are 8-byte aligned, so each one's first word is one element of
        # a 'Q' view.
        slot = (size + 15) // 8 * 8
        buf = bytearray(UDP_BATCH * slot)
        words = memoryview(buf).cast("Q")
        seqs = words[:: slot // 8]
        native_le = sys.byteorder == "little"
        recv_many_into = d.recv_many_into
        perf = time.perf_counter
        n = 0
        cpu0 = time.process_time()
        t0 = t_last = perf()
        done = False
        while not done:
            try:
                sizes = recv_many_into(buf, slot)
            except TimeoutError:
                break
            k = len(sizes)
            if native_le and sizes.count(size) == k and max(seqs[:k]) < count:
                got = k
            else:
                got = 0
                for i, m in enumerate(sizes):
                    data = bytes(buf[i * slot:i * slot + m])
                    if m != size or Q.unpack_from(data)[0] >= count:
                        if data == END:
                            done = True
                            break
                        raise bad_datagram(data, size, count)
                    got += 1
            if got:
                n += got
                t_last = perf()
        d.close()
        return drain_result(n, t0, t_last, rcvbuf, cpu0)

    def client_udp_drain(self, p: argparse.Namespace) -> Result:
        """The fallback shared sender, as for udp-flood."""
        return self.client_udp_flood(p)

    def server_udp_echo(self, p: argparse.Namespace) -> Result:
        """Echo every datagram to its sender until END."""
        d = self.ls.udp((HOST, 0), timeout=p.timeout)
        ready(d.address[1])
        recv_from, send_to = d.recv_from, d.send_to
        k = 0
        while True:
            data, peer = recv_from(65536)
            if data == END:
                break
            send_to(data, peer)
            k += 1
        d.close()
        return {"ok": True, "count": k}

    def client_udp_echo(self, p: argparse.Namespace) -> Result:
        """Send a datagram, wait 1 s for its echo (resend once), compare; N times, then END."""
        d = self.ls.udp(connect=(HOST, p.port), timeout=1.0)
        secs = udp_echo_rounds(d.send, d.recv, TimeoutError, p.size, p.count)
        d.close()
        return pp_result(p.count, secs)


def udp_echo_rounds(send: Callable[[Any], Any], recv: Callable[[int], bytes],
                    timeout_exc: "type[BaseException]", size: int, n: int) -> float:
    """The udp-echo client's ``n`` round trips over a connected datagram socket whose ``recv``
    raises ``timeout_exc`` after 1 s: send, wait for the echo (resend once), compare; then END.
    Returns the seconds the round trips took."""
    pack = Q.pack
    fill = b"\x5a" * (size - 8)
    t0 = time.perf_counter()
    for i in range(n):
        msg = pack(i) + fill
        send(msg)
        retried = False
        while True:
            try:
                data = recv(size + 1)
            except timeout_exc:
                if retried:
                    raise Fail(f"udp-echo: no reply to {i} after a resend") from None
                retried = True
                send(msg)
                continue
            if data == msg:
                break
            if not stale_echo(data, size, i):
                raise bad_echo(i, data, msg)
    secs = time.perf_counter() - t0
    send(END)
    return secs


def stale_echo(data: bytes, size: int, i: int) -> bool:
    """True for a late duplicate of an earlier round trip (possible after a resend)."""
    return len(data) == size and Q.unpack_from(data)[0] < i


def libsock_framed_reader(c: Any, size: int, n: int) -> None:
    """Receive ``n`` framed messages with recv_msgs and check each length and sequence number."""
    recv_msgs = c.recv_msgs
    unpack = Q.unpack_from
    exp = 0
    while exp < n:
        for m in recv_msgs(READ_MAX):
            if len(m) != size or unpack(m)[0] != exp:
                raise bad_msg(exp, m, size)
            exp += 1


def run_framed_client(writer: Callable[[], None], reader: Callable[[], None], timeout: float) -> float:
    """Run ``writer`` in a thread and ``reader`` here; return seconds from start to the last echo.

    A writer failure is reported in preference to the reader's (usually a timeout it caused).
    """
    errors: List[BaseException] = []

    def guarded() -> None:
        try:
            writer()
        except BaseException as e:  # noqa: BLE001 - reported by the reader's side
            errors.append(e)

    t = threading.Thread(target=guarded, name="writer", daemon=True)
    t0 = time.perf_counter()
    t.start()
    try:
        reader()
    except BaseException:
        if errors:
            raise errors[0] from None
        raise
    secs = time.perf_counter() - t0
    t.join(timeout)
    if t.is_alive():
        raise Fail("framed: the writer did not finish")
    if errors:
        raise errors[0]
    return secs


# --------------------------------------------------------------------------------- py-engine


class PyEngine:
    """libsock's event engine: ``Server`` / ``Client`` (TCP) and ``DatagramServer`` (UDP).

    pingpong maps to ``Fixed(size)`` framing (each ping is one message), framed to
    ``LengthPrefixed(4, "big")``. bulk has no mapping: the engine ends a connection at the
    peer's end of stream, so a server cannot answer after the client's half-close; nor does
    udp-drain: the engine reads its socket from the moment it is bound, so nothing is left
    queued in the kernel at GO.
    framed uses the batch sends (``Client.send_batch``, ``Server.send_batch`` per client and
    pulled batch), which wait for room in the bounded send queue (woken, never polled).
    """

    MESSAGE, DISCONNECTED, CONNECTED, DATAGRAM = 2, 3, 1, 5
    ls: Any = None  # the libsock module, imported when the implementation is chosen

    def __init__(self) -> None:
        import libsock

        self.ls = libsock

    def _serve(self, p: argparse.Namespace, on_message: Callable[[Any, int, Any], None],
               framing: Any, **kw: Any) -> int:
        """Run an engine Server for one client; call ``on_message`` per message; return count."""
        srv = self.ls.Server((HOST, 0), framing=framing, heartbeat=False, **kw)
        ready(srv.address[1])
        events = srv.events
        k = 0
        T = p.timeout
        try:
            while True:
                evs = events(T, READ_MAX)
                if not evs:
                    raise Fail(f"server: no event for {T} s")
                for ev in evs:
                    kind = ev.kind_code
                    if kind == 2:
                        on_message(srv, ev.client, ev.data)
                        k += 1
                    elif kind == 3:
                        if ev.reason != "peer-closed":
                            raise Fail(f"server: client disconnected: {ev.reason} {ev.error or ''}")
                        return k
        finally:
            srv.close(grace=0.5)

    def _client(self, p: argparse.Namespace, framing: Any, **kw: Any) -> Any:
        """An engine Client (no reconnect), returned once its ``connected`` event arrived."""
        cl = self.ls.Client((HOST, p.port), framing=framing, reconnect=False, heartbeat=False,
                            **kw)
        ev = cl.next_event(p.timeout)
        if ev is None or ev.kind_code != self.CONNECTED:
            cl.close(0)
            raise Fail(f"client: not connected: {ev}")
        return cl

    def server_pingpong(self, p: argparse.Namespace) -> Result:
        """Echo every ``size``-byte message (``Fixed`` framing)."""
        def echo(srv: Any, client: int, data: bytes) -> None:
            srv.send(client, data)

        k = self._serve(p, echo, self.ls.Fixed(p.size), nodelay=bool(p.nodelay))
        return served(k, p.count, "pingpong")

    def client_pingpong(self, p: argparse.Namespace) -> Result:
        """Queue one ping, wait for its echo event, compare; N times."""
        cl = self._client(p, self.ls.Fixed(p.size), nodelay=bool(p.nodelay))
        size, n, T = p.size, p.count, p.timeout
        send, next_event = cl.send, cl.next_event
        pack = Q.pack
        fill = b"\x5a" * (size - 8)
        t0 = time.perf_counter()
        for i in range(n):
            msg = pack(i) + fill
            send(msg)
            ev = next_event(T)
            if ev is None or ev.kind_code != 2:
                raise Fail(f"pingpong {i}: expected the echo, got {ev}")
            if ev.data != msg:
                raise bad_echo(i, ev.data, msg)
        secs = time.perf_counter() - t0
        cl.close(1.0)
        return pp_result(n, secs)

    def server_framed(self, p: argparse.Namespace) -> Result:
        """Echo each pulled batch of messages (``messages(grouped=True)``: no event object and
        no tuple per message, one list per run of one client's messages) with one
        ``send_batch`` per run, which waits for room in the client's send queue (flow control,
        woken, never polled); other events through ``events()``."""
        srv = self.ls.Server((HOST, 0), framing=self.ls.LengthPrefixed(4, "big"),
                             heartbeat=False, event_capacity=65536)
        ready(srv.address[1])
        messages, events, send_batch = srv.messages, srv.events, srv.send_batch
        k = 0
        T = p.timeout
        try:
            while True:
                got = messages(T, READ_MAX, grouped=True)
                if got:
                    for client, batch in got:
                        k += len(batch)
                        send_batch(client, batch, timeout=T)
                    continue
                evs = events(0, 1)
                if not evs:
                    raise Fail(f"server: no event for {T} s")
                ev = evs[0]
                if ev.kind_code == 3:
                    if ev.reason != "peer-closed":
                        raise Fail(f"server: client disconnected: {ev.reason} {ev.error or ''}")
                    return served(k, p.count, "framed")
        finally:
            srv.close(grace=0.5)

    def client_framed(self, p: argparse.Namespace) -> Result:
        """A writer thread queues N messages; the reader pulls message events and checks them."""
        cl = self._client(p, self.ls.LengthPrefixed(4, "big"), event_capacity=65536)
        size, n, T, batch = p.size, p.count, p.timeout, p.batch

        def writer() -> None:
            pack = Q.pack
            fill = b"\x33" * (size - 8)
            send_batch = cl.send_batch
            for s in range(0, n, batch):
                msgs = [pack(i) + fill for i in range(s, min(s + batch, n))]
                if send_batch(msgs, timeout=T) != len(msgs):
                    raise Fail(f"framed: the send queue had no room for {T} s")

        def reader() -> None:
            messages = cl.messages
            unpack = Q.unpack_from
            exp = 0
            while exp < n:
                got = messages(T, READ_MAX)
                if not got:
                    evs = cl.events(0, 1)
                    raise Fail(f"framed: nothing for {T} s after {exp} messages"
                               if not evs else f"framed: unexpected event {evs[0]}")
                for m in got:
                    if len(m) != size or unpack(m)[0] != exp:
                        raise bad_msg(exp, m, size)
                    exp += 1

        secs = run_framed_client(writer, reader, T)
        cl.close(1.0)
        return framed_result(n, secs)

    def server_udp_flood(self, p: argparse.Namespace) -> Result:
        """Pull datagram events until END or 2 s of silence, checking every datagram."""
        ds = self.ls.DatagramServer((HOST, 0), max_datagram=p.size + 1, event_capacity=65536,
                                    recv_buffer_size=4 << 20)
        ready(ds.address[1])
        size, count = p.size, p.count
        events = ds.events
        unpack = Q.unpack_from
        n = 0
        t_first = t_last = cpu_first = 0.0
        wait = p.timeout
        done = False
        try:
            while not done:
                evs = events(wait, READ_MAX)
                if not evs:
                    if n == 0:
                        raise Fail(f"udp-flood: nothing within {p.timeout} s")
                    break
                if n == 0:
                    t_first = time.perf_counter()
                    cpu_first = time.process_time()
                    wait = 2.0
                got = 0
                for ev in evs:
                    data = ev.data
                    if data is None:
                        raise Fail(f"udp-flood: unexpected event {ev}")
                    if len(data) != size or unpack(data)[0] >= count:
                        if data == END:
                            done = True
                            break
                        raise bad_datagram(data, size, count)
                    got += 1
                if got:
                    n += got
                    t_last = time.perf_counter()
        finally:
            ds.close()
        # The engine's socket is not exposed, so the granted buffer cannot be read back.
        return flood_result(n, t_first, t_last, None, cpu_first)

    def client_udp_flood(self, p: argparse.Namespace) -> Result:
        """A plain sendto loop (the shared sender is the C one, or py-libsock's)."""
        return plain_udp_sender(p)

    def server_udp_echo(self, p: argparse.Namespace) -> Result:
        """Echo every datagram to its sender with send_to, until END (``next_datagram``: the
        request–reply pull, no event object per datagram)."""
        ds = self.ls.DatagramServer((HOST, 0))
        ready(ds.address[1])
        next_datagram, send_to = ds.next_datagram, ds.send_to
        T = p.timeout
        k = 0
        try:
            while True:
                got = next_datagram(T)
                if got is None:
                    raise Fail(f"udp-echo: nothing for {T} s")
                data, peer = got
                if data == END:
                    return {"ok": True, "count": k}
                send_to(data, peer)
                k += 1
        finally:
            ds.close()

    def client_udp_echo(self, p: argparse.Namespace) -> Result:
        """A DatagramServer on port 0 connected to the server as the client end (as the
        stdlib client's socket is): send, then wait 1 s for the echo with ``next_datagram``."""
        ds = self.ls.DatagramServer((HOST, 0))
        size, n = p.size, p.count
        ds.connect((HOST, p.port))
        send, next_datagram = ds.send, ds.next_datagram
        pack = Q.pack
        fill = b"\x5a" * (size - 8)
        try:
            t0 = time.perf_counter()
            for i in range(n):
                msg = pack(i) + fill
                send(msg)
                retried = False
                while True:
                    got = next_datagram(1.0)
                    if got is None:
                        if retried:
                            raise Fail(f"udp-echo: no reply to {i} after a resend")
                        retried = True
                        send(msg)
                        continue
                    data = got[0]
                    if data == msg:
                        break
                    if not stale_echo(data, size, i):
                        raise bad_echo(i, data, msg)
            secs = time.perf_counter() - t0
            send(END)
        finally:
            ds.close()
        return pp_result(n, secs)


# --------------------------------------------------------------------------------- py-stdlib


class PyStdlib:
    """Python's ``socket`` module: blocking sockets, recv_into preallocated buffers, framing in
    Python (struct + buffer parsing), ``b"".join`` + ``sendall`` for a framed batch."""

    FRAMED_BUF = 1 << 20  # the framed reader's receive buffer

    def server_pingpong(self, p: argparse.Namespace) -> Result:
        """Read exactly ``size`` bytes, send them back, until the client closes."""
        srv = stdlib_listen()
        ready(srv.getsockname()[1])
        c = stdlib_accept(srv, p.timeout)
        srv.close()
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, p.nodelay)
        size = p.size
        buf = bytearray(size)
        mv = memoryview(buf)
        recv_into, send = c.recv_into, c.sendall
        k = 0
        while True:
            r = recv_into(buf)
            if not r:
                break
            if r < size:
                stdlib_recv_exactly(recv_into, mv, r, size)
            send(buf)
            k += 1
        c.close()
        return served(k, p.count, "pingpong")

    def client_pingpong(self, p: argparse.Namespace) -> Result:
        """Send ``size`` bytes (sequence number first), receive exactly the echo, compare."""
        c = stdlib_connect(p.port, p.timeout)
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, p.nodelay)
        size, n = p.size, p.count
        out = bytearray(b"\x5a" * size)
        inb = bytearray(size)
        mv = memoryview(inb)
        pack_into = Q.pack_into
        send, recv_into = c.sendall, c.recv_into
        t0 = time.perf_counter()
        for i in range(n):
            pack_into(out, 0, i)
            send(out)
            r = recv_into(inb)
            if r < size:
                stdlib_recv_exactly(recv_into, mv, r, size)
            if inb != out:
                raise bad_echo(i, inb, out)
        secs = time.perf_counter() - t0
        c.close()
        return pp_result(n, secs)

    def server_bulk(self, p: argparse.Namespace) -> Result:
        """Count the stream with a ``chunk``-sized buffer, check its head, send the count back."""
        srv = stdlib_listen()
        ready(srv.getsockname()[1])
        c = stdlib_accept(srv, p.timeout)
        srv.close()
        buf = bytearray(p.chunk)
        recv_into = c.recv_into
        total = 0
        head = bytearray()
        while total < 8:
            k = recv_into(buf)
            if not k:
                break
            head += buf[:k]
            total += k
        if total >= 8:
            while True:
                k = recv_into(buf)
                if not k:
                    break
                total += k
        bulk_check_head(bytes(head[:8]), total, p.bytes)
        c.sendall(Q.pack(total))
        c.close()
        return {"ok": total == p.bytes, "bytes": total}

    def client_bulk(self, p: argparse.Namespace) -> Result:
        """Send ``bytes`` in ``chunk`` writes from one buffer, half-close, check the count."""
        c = stdlib_connect(p.port, p.timeout)
        b, chunk = p.bytes, p.chunk
        buf = bytearray(b"\xa5" * chunk)
        Q.pack_into(buf, 0, b)
        full, rest = divmod(b, chunk)
        send = c.sendall
        got = bytearray(8)
        t0 = time.perf_counter()
        for _ in range(full):
            send(buf)
        if rest:
            send(memoryview(buf)[:rest])
        c.shutdown(socket.SHUT_WR)
        r = c.recv_into(got)
        stdlib_recv_exactly(c.recv_into, memoryview(got), r, 8)
        secs = time.perf_counter() - t0
        c.close()
        count = Q.unpack(got)[0]
        if count != b:
            raise Fail(f"bulk: server counted {count} bytes, sent {b}")
        return bulk_result(b, secs)

    def server_framed(self, p: argparse.Namespace) -> Result:
        """Parse 4-byte big-endian frames in Python; echo each as a new frame, per received batch."""
        srv = stdlib_listen()
        ready(srv.getsockname()[1])
        c = stdlib_accept(srv, p.timeout)
        srv.close()
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        size = p.size
        cap = self.FRAMED_BUF
        rb = bytearray(cap)
        mv = memoryview(rb)
        recv_into, send = c.recv_into, c.sendall
        hdr_unpack, hdr_pack = BE4.unpack_from, BE4.pack
        start = end = 0
        k = 0
        while True:
            if cap - end < 65536 and start:
                rb[: end - start] = rb[start:end]
                end -= start
                start = 0
            r = recv_into(mv[end:])
            if not r:
                break
            end += r
            out: List[Any] = []
            append = out.append
            while end - start >= 4:
                ln = hdr_unpack(rb, start)[0]
                if ln > cap - 4:
                    raise Fail(f"framed: frame of {ln} bytes is larger than the buffer")
                if end - start - 4 < ln:
                    break
                body = rb[start + 4 : start + 4 + ln]
                append(hdr_pack(len(body)))
                append(body)
                start += 4 + ln
            if out:
                send(b"".join(out))
                k += len(out) >> 1
            if start == end:
                start = end = 0
        c.close()
        return served(k, p.count, "framed")

    def client_framed(self, p: argparse.Namespace) -> Result:
        """Writer thread: ``b"".join`` of a batch + sendall; reader: parse and check in Python."""
        c = stdlib_connect(p.port, p.timeout)
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        size, n, batch = p.size, p.count, p.batch
        cap = self.FRAMED_BUF

        def writer() -> None:
            pack = Q.pack
            hdr = BE4.pack(size)
            fill = b"\x33" * (size - 8)
            send = c.sendall
            join = b"".join
            for s in range(0, n, batch):
                send(join([hdr + pack(i) + fill for i in range(s, min(s + batch, n))]))

        def reader() -> None:
            rb = bytearray(cap)
            mv = memoryview(rb)
            recv_into = c.recv_into
            hdr_unpack, unpack = BE4.unpack_from, Q.unpack_from
            start = end = 0
            exp = 0
            while exp < n:
                if cap - end < 65536 and start:
                    rb[: end - start] = rb[start:end]
                    end -= start
                    start = 0
                r = recv_into(mv[end:])
                if not r:
                    raise Fail(f"framed: server closed after {exp} messages")
                end += r
                while end - start >= 4:
                    ln = hdr_unpack(rb, start)[0]
                    if ln != size:
                        raise Fail(f"framed: message {exp} has {ln} bytes, expected {size}")
                    if end - start - 4 < ln:
                        break
                    if unpack(rb, start + 4)[0] != exp:
                        raise bad_msg(exp, rb[start + 4 : start + 4 + ln], size)
                    exp += 1
                    start += 4 + ln
                if start == end:
                    start = end = 0

        secs = run_framed_client(writer, reader, p.timeout)
        c.close()
        return framed_result(n, secs)

    def server_udp_flood(self, p: argparse.Namespace) -> Result:
        """The naive receiver: one recv_into per datagram, until END or 2 s of silence."""
        s = stdlib_listen(socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        rcvbuf = s.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
        stdlib_bound(s, p.timeout)
        ready(s.getsockname()[1])
        size, count = p.size, p.count
        buf = bytearray(65536)
        recv_into = s.recv_into
        unpack = Q.unpack_from
        n = 0
        t_first = t_last = 0.0
        try:
            r = recv_into(buf)
        except BlockingIOError:
            raise Fail(f"udp-flood: nothing within {p.timeout} s") from None
        t_first = time.perf_counter()
        cpu_first = time.process_time()
        stdlib_bound(s, 2.0)
        try:
            while True:
                if r != size or unpack(buf)[0] >= count:
                    if r == 8 and buf[:8] == END:
                        break
                    raise bad_datagram(buf[:r], size, count)
                n += 1
                t_last = time.perf_counter()
                r = recv_into(buf)
        except BlockingIOError:
            pass  # 2 s with nothing
        s.close()
        return flood_result(n, t_first, t_last, rcvbuf, cpu_first)

    def client_udp_flood(self, p: argparse.Namespace) -> Result:
        """A plain send loop (the shared sender is the C one, or py-libsock's)."""
        return plain_udp_sender(p)

    def server_udp_bulk(self, p: argparse.Namespace) -> Result:
        """udp-bulk: the udp-flood receiver (one recv_into per datagram)."""
        return self.server_udp_flood(p)

    def client_udp_bulk(self, p: argparse.Namespace) -> Result:
        """udp-bulk: one ``socket.send`` per datagram (the stdlib has no batch send)."""
        res = plain_udp_sender(p)
        res["tx_per_s"] = rate(res["sent"], res["tx_secs"])
        return res

    def server_udp_drain(self, p: argparse.Namespace) -> Result:
        """After GO, drain the full queue with one recv_into per datagram."""
        s = stdlib_listen(socket.SOCK_DGRAM)
        rcvbuf = force_rcvbuf(s.fileno())
        stdlib_bound(s, DRAIN_IDLE)
        ready(s.getsockname()[1])
        wait_go(p.timeout)
        size, count = p.size, p.count
        buf = bytearray(65536)
        recv_into = s.recv_into
        unpack = Q.unpack_from
        perf = time.perf_counter
        n = 0
        cpu0 = time.process_time()
        t0 = t_last = perf()
        try:
            while True:
                r = recv_into(buf)
                if r != size or unpack(buf)[0] >= count:
                    if r == 8 and buf[:8] == END:
                        break
                    raise bad_datagram(buf[:r], size, count)
                n += 1
                t_last = perf()
        except BlockingIOError:
            pass  # 0.2 s with nothing
        s.close()
        return drain_result(n, t0, t_last, rcvbuf, cpu0)

    def client_udp_drain(self, p: argparse.Namespace) -> Result:
        """A plain send loop (the shared sender is the C one, or py-libsock's)."""
        return plain_udp_sender(p)

    def server_udp_echo(self, p: argparse.Namespace) -> Result:
        """Echo every datagram to its sender until END."""
        s = stdlib_listen(socket.SOCK_DGRAM)
        stdlib_bound(s, p.timeout)
        ready(s.getsockname()[1])
        buf = bytearray(65536)
        mv = memoryview(buf)
        recvfrom_into, sendto = s.recvfrom_into, s.sendto
        k = 0
        try:
            while True:
                r, peer = recvfrom_into(buf)
                if r == 8 and buf[:8] == END:
                    break
                sendto(mv[:r], peer)
                k += 1
        except BlockingIOError:
            raise Fail(f"udp-echo: nothing for {p.timeout} s") from None
        s.close()
        return {"ok": True, "count": k}

    def client_udp_echo(self, p: argparse.Namespace) -> Result:
        """Send a datagram, wait 1 s for its echo (resend once), compare; N times, then END."""
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.connect((HOST, p.port))
        stdlib_bound(s, 1.0)
        secs = udp_echo_rounds(s.send, s.recv, BlockingIOError, p.size, p.count)
        s.close()
        return pp_result(p.count, secs)


# --------------------------------------------------------------------------- asyncio / uvloop
#
# Protocols rather than streams (the faster of the two idiomatic APIs): with streams every
# readexactly()/drain() is a coroutine suspension plus a copy through StreamReader's buffer,
# while a Protocol parses in the data_received callback itself. The bulk server is a
# BufferedProtocol so that it reads into one chunk-sized buffer. Waits are
# bounded by a watchdog that fails the run when nothing progressed for --timeout seconds
# (one timer per run instead of one wait_for per round trip).


class Watchdog:
    """Fail ``fut`` when ``progress()`` has not changed for ``timeout`` seconds."""

    def __init__(self, loop: Any, fut: Any, timeout: float, progress: Callable[[], Any],
                 what: str) -> None:
        self.loop, self.fut, self.timeout, self.progress, self.what = (
            loop, fut, timeout, progress, what)
        self.last = progress()
        self.since = loop.time()
        self.step = min(timeout / 4, 0.25)
        self.handle = loop.call_later(self.step, self.tick)

    def tick(self) -> None:
        """Check for progress; fail the future or look again later."""
        v = self.progress()
        now = self.loop.time()
        if v != self.last:
            self.last, self.since = v, now
        elif now - self.since >= self.timeout:
            if not self.fut.done():
                self.fut.set_exception(Fail(f"{self.what}: no progress for {self.timeout} s"))
            return
        self.handle = self.loop.call_later(self.step, self.tick)

    def cancel(self) -> None:
        """Stop watching."""
        self.handle.cancel()


def _fail(fut: Any, exc: BaseException, transport: Any = None) -> None:
    """Set ``exc`` on ``fut`` (once) and close ``transport``."""
    if not fut.done():
        fut.set_exception(exc)
    if transport is not None:
        transport.close()


def _nodelay(transport: Any, on: int) -> None:
    """Set TCP_NODELAY on a transport's socket (asyncio turns it on by default)."""
    sock = transport.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, on)


async def _serve_one(factory: Callable[[Any], Any], timeout: float, what: str,
                     progress: Callable[[Any], Any]) -> Any:
    """Serve one connection with protocol ``factory(done)``; return what ``done`` is set to."""
    import asyncio

    loop = asyncio.get_running_loop()
    done = loop.create_future()
    protos: List[Any] = []

    def make() -> Any:
        pr = factory(done)
        protos.append(pr)
        return pr

    server = await loop.create_server(make, HOST, 0)
    ready(server.sockets[0].getsockname()[1])
    dog = Watchdog(loop, done, timeout, lambda: progress(protos[0]) if protos else None, what)
    try:
        return await done
    finally:
        dog.cancel()
        server.close()


async def _connect(factory: Callable[[], Any], port: int, timeout: float) -> Any:
    """Connect with protocol ``factory``; return (transport, protocol)."""
    import asyncio

    loop = asyncio.get_running_loop()
    return await asyncio.wait_for(loop.create_connection(factory, HOST, port), timeout)


class _AsyncioPingServer(asyncio.Protocol):
    """pingpong server protocol: echo the stream back in ``size``-byte units."""

    def __init__(self, done: Any, size: int, nodelay: int) -> None:
        self.done, self.size, self.nodelay = done, size, nodelay
        self.buf = b""
        self.k = 0

    def connection_made(self, transport: Any) -> None:
        self.tr = transport
        _nodelay(transport, self.nodelay)

    def data_received(self, data: bytes) -> None:
        if self.buf:
            data = self.buf + data
        size = self.size
        n = len(data)
        if n == size:
            self.tr.write(data)
            self.k += 1
            self.buf = b""
            return
        whole = n - n % size
        if whole:
            self.tr.write(data[:whole])
            self.k += whole // size
        self.buf = data[whole:]

    def eof_received(self) -> None:
        if not self.done.done():
            self.done.set_result(self.k)

    def connection_lost(self, exc: Optional[BaseException]) -> None:
        if not self.done.done():
            self.done.set_result(self.k)


class _AsyncioPingClient(asyncio.Protocol):
    """pingpong client protocol: each complete echo is checked and the next ping sent."""

    def __init__(self, done: Any, size: int, count: int, nodelay: int) -> None:
        self.done, self.size, self.count, self.nodelay = done, size, count, nodelay
        self.fill = b"\x5a" * (size - 8)
        self.buf = b""
        self.i = 0
        self.msg = b""

    def connection_made(self, transport: Any) -> None:
        self.tr = transport
        _nodelay(transport, self.nodelay)

    def start(self) -> None:
        """Send the first ping."""
        self.msg = Q.pack(0) + self.fill
        self.tr.write(self.msg)

    def data_received(self, data: bytes) -> None:
        if self.buf:
            data = self.buf + data
        if len(data) < self.size:
            self.buf = data
            return
        self.buf = b""
        if data != self.msg:
            _fail(self.done, bad_echo(self.i, data, self.msg), self.tr)
            return
        i = self.i = self.i + 1
        if i == self.count:
            self.done.set_result(time.perf_counter())
            return
        self.msg = Q.pack(i) + self.fill
        self.tr.write(self.msg)

    def eof_received(self) -> None:
        _fail(self.done, Fail(f"server closed after {self.i} round trips"))

    def connection_lost(self, exc: Optional[BaseException]) -> None:
        _fail(self.done, Fail(f"connection lost after {self.i} round trips: {exc}"))


class _AsyncioBulkServer(asyncio.BufferedProtocol):
    """bulk server BufferedProtocol: count into one ``chunk`` buffer, answer at end of stream."""

    def __init__(self, done: Any, chunk: int, want: int) -> None:
        self.done, self.want = done, want
        self.buf = bytearray(chunk)
        self.head = bytearray()
        self.total = 0

    def connection_made(self, transport: Any) -> None:
        self.tr = transport

    def get_buffer(self, sizehint: int) -> bytearray:
        return self.buf

    def buffer_updated(self, nbytes: int) -> None:
        if self.total < 8:
            self.head += self.buf[:nbytes]
        self.total += nbytes

    def eof_received(self) -> bool:
        try:
            bulk_check_head(bytes(self.head[:8]), self.total, self.want)
        except Fail as e:
            _fail(self.done, e, self.tr)
            return False
        self.tr.write(Q.pack(self.total))
        if not self.done.done():
            self.done.set_result(self.total)
        return False  # the transport closes after the count is written

    def connection_lost(self, exc: Optional[BaseException]) -> None:
        _fail(self.done, Fail(f"bulk: connection lost after {self.total} bytes: {exc}"))


class _AsyncioBulkClient(asyncio.Protocol):
    """bulk client protocol: flow control for the writer, and the 8-byte count at the end."""

    def __init__(self, done: Any) -> None:
        self.done = done
        self.got = b""
        self.paused: Any = None
        self.sent = 0

    def connection_made(self, transport: Any) -> None:
        self.tr = transport

    def pause_writing(self) -> None:
        self.paused = self.done.get_loop().create_future()

    def resume_writing(self) -> None:
        if self.paused is not None and not self.paused.done():
            self.paused.set_result(None)
        self.paused = None

    def data_received(self, data: bytes) -> None:
        self.got += data
        if len(self.got) >= 8 and not self.done.done():
            self.done.set_result(time.perf_counter())

    def eof_received(self) -> None:
        if len(self.got) < 8:
            _fail(self.done, Fail("bulk: server closed without the count"))

    def connection_lost(self, exc: Optional[BaseException]) -> None:
        if len(self.got) < 8:
            _fail(self.done, Fail(f"bulk: connection lost: {exc}"))
        if self.paused is not None and not self.paused.done():
            self.paused.set_exception(Fail(f"bulk: connection lost: {exc}"))


def _parse_frames(buf: bytearray, size: int, exp: int) -> tuple:
    """Check the complete frames at the front of ``buf``; return (bytes used, next sequence)."""
    hdr_unpack, unpack = BE4.unpack_from, Q.unpack_from
    pos = 0
    n = len(buf)
    while n - pos >= 4:
        ln = hdr_unpack(buf, pos)[0]
        if ln != size:
            raise Fail(f"framed: message {exp} has {ln} bytes, expected {size}")
        if n - pos - 4 < ln:
            break
        if unpack(buf, pos + 4)[0] != exp:
            raise bad_msg(exp, buf[pos + 4 : pos + 4 + ln], size)
        exp += 1
        pos += 4 + ln
    return pos, exp


class _AsyncioFramedServer(asyncio.Protocol):
    """framed server protocol: decode frames, echo each decoded batch as new frames."""

    def __init__(self, done: Any) -> None:
        self.done = done
        self.buf = bytearray()
        self.k = 0

    def connection_made(self, transport: Any) -> None:
        self.tr = transport

    def pause_writing(self) -> None:
        self.tr.pause_reading()  # the client is not reading: stop reading too

    def resume_writing(self) -> None:
        self.tr.resume_reading()

    def data_received(self, data: bytes) -> None:
        buf = self.buf
        buf += data
        hdr_unpack, hdr_pack = BE4.unpack_from, BE4.pack
        out: List[Any] = []
        append = out.append
        pos = 0
        n = len(buf)
        while n - pos >= 4:
            ln = hdr_unpack(buf, pos)[0]
            if ln > 1 << 24:
                _fail(self.done, Fail(f"framed: frame of {ln} bytes"), self.tr)
                return
            if n - pos - 4 < ln:
                break
            body = buf[pos + 4 : pos + 4 + ln]
            append(hdr_pack(len(body)))
            append(body)
            pos += 4 + ln
        if out:
            self.tr.write(b"".join(out))
            self.k += len(out) >> 1
        del buf[:pos]

    def eof_received(self) -> None:
        if not self.done.done():
            self.done.set_result(self.k)

    def connection_lost(self, exc: Optional[BaseException]) -> None:
        if not self.done.done():
            self.done.set_result(self.k)


class _AsyncioFramedClient(asyncio.Protocol):
    """framed client protocol: the reader (checks every echo); flow control for the writer."""

    def __init__(self, done: Any, size: int, count: int) -> None:
        self.done, self.size, self.count = done, size, count
        self.buf = bytearray()
        self.exp = 0
        self.paused: Any = None

    def connection_made(self, transport: Any) -> None:
        self.tr = transport

    def pause_writing(self) -> None:
        self.paused = self.done.get_loop().create_future()

    def resume_writing(self) -> None:
        if self.paused is not None and not self.paused.done():
            self.paused.set_result(None)
        self.paused = None

    def data_received(self, data: bytes) -> None:
        buf = self.buf
        buf += data
        try:
            pos, self.exp = _parse_frames(buf, self.size, self.exp)
        except Fail as e:
            _fail(self.done, e, self.tr)
            return
        del buf[:pos]
        if self.exp >= self.count and not self.done.done():
            self.done.set_result(time.perf_counter())

    def eof_received(self) -> None:
        _fail(self.done, Fail(f"framed: server closed after {self.exp} messages"))

    def connection_lost(self, exc: Optional[BaseException]) -> None:
        _fail(self.done, Fail(f"framed: connection lost after {self.exp} messages: {exc}"))
        if self.paused is not None and not self.paused.done():
            self.paused.set_exception(Fail("framed: connection lost"))


class _AsyncioFloodServer(asyncio.DatagramProtocol):
    """udp-flood receiver (DatagramProtocol): check every datagram, stop at END or 2 s idle."""

    def __init__(self, done: Any, size: int, count: int, timeout: float) -> None:
        self.done, self.size, self.count, self.timeout = done, size, count, timeout
        self.n = 0
        self.t_first = self.t_last = self.cpu_first = 0.0

    def connection_made(self, transport: Any) -> None:
        self.tr = transport
        self.loop = self.done.get_loop()
        self.started = self.loop.time()
        self.handle = self.loop.call_later(0.25, self.tick)

    def tick(self) -> None:
        """End after 2 s of silence (or fail if nothing arrived within the timeout)."""
        now = self.loop.time()
        if self.n == 0:
            if now - self.started >= self.timeout:
                _fail(self.done, Fail(f"udp-flood: nothing within {self.timeout} s"))
                return
        elif time.perf_counter() - self.t_last >= 2.0:
            if not self.done.done():
                self.done.set_result(None)
            return
        self.handle = self.loop.call_later(0.25, self.tick)

    def datagram_received(self, data: bytes, addr: Any) -> None:
        if len(data) != self.size or Q.unpack_from(data)[0] >= self.count:
            if data == END:
                if not self.done.done():
                    self.done.set_result(None)
                return
            _fail(self.done, bad_datagram(data, self.size, self.count))
            return
        t = time.perf_counter()
        if not self.n:
            self.t_first = t
            self.cpu_first = time.process_time()
        self.n += 1
        self.t_last = t

    def error_received(self, exc: Exception) -> None:
        pass

    def connection_lost(self, exc: Optional[BaseException]) -> None:
        self.handle.cancel()


class _AsyncioDrainServer(asyncio.DatagramProtocol):
    """udp-drain receiver (DatagramProtocol): check every datagram, stop at END or 0.2 s idle."""

    def __init__(self, done: Any, size: int, count: int) -> None:
        self.done, self.size, self.count = done, size, count
        self.n = 0
        self.t_last = time.perf_counter()

    def connection_made(self, transport: Any) -> None:
        self.tr = transport
        self.loop = self.done.get_loop()
        self.handle = self.loop.call_later(DRAIN_IDLE / 4, self.tick)

    def tick(self) -> None:
        """End after 0.2 s of silence."""
        if time.perf_counter() - self.t_last >= DRAIN_IDLE:
            if not self.done.done():
                self.done.set_result(None)
            return
        self.handle = self.loop.call_later(DRAIN_IDLE / 4, self.tick)

    def datagram_received(self, data: bytes, addr: Any) -> None:
        if len(data) != self.size or Q.unpack_from(data)[0] >= self.count:
            if data == END:
                if not self.done.done():
                    self.done.set_result(None)
                return
            _fail(self.done, bad_datagram(data, self.size, self.count))
            return
        self.n += 1
        self.t_last = time.perf_counter()

    def error_received(self, exc: Exception) -> None:
        pass

    def connection_lost(self, exc: Optional[BaseException]) -> None:
        self.handle.cancel()


class _AsyncioEchoServer(asyncio.DatagramProtocol):
    """udp-echo server (DatagramProtocol): echo to the sender until END."""

    def __init__(self, done: Any) -> None:
        self.done = done
        self.k = 0

    def connection_made(self, transport: Any) -> None:
        self.tr = transport

    def datagram_received(self, data: bytes, addr: Any) -> None:
        if data == END:
            if not self.done.done():
                self.done.set_result(self.k)
            return
        self.tr.sendto(data, addr)
        self.k += 1

    def error_received(self, exc: Exception) -> None:
        pass

    def connection_lost(self, exc: Optional[BaseException]) -> None:
        pass


class _AsyncioEchoClient(asyncio.DatagramProtocol):
    """udp-echo client (DatagramProtocol): check each echo, send the next; resend once after 1 s."""

    def __init__(self, done: Any, size: int, count: int) -> None:
        self.done, self.size, self.count = done, size, count
        self.fill = b"\x5a" * (size - 8)
        self.i = 0
        self.msg = b""
        self.sent_at = 0.0
        self.retried = False

    def connection_made(self, transport: Any) -> None:
        self.tr = transport
        self.loop = self.done.get_loop()

    def start(self) -> None:
        """Send the first datagram and start the resend timer."""
        self.msg = Q.pack(0) + self.fill
        self.sent_at = time.perf_counter()
        self.tr.sendto(self.msg)
        self.handle = self.loop.call_later(0.25, self.tick)

    def tick(self) -> None:
        """Resend a datagram unanswered for 1 s, once; fail on the second miss."""
        if self.done.done():
            return
        if time.perf_counter() - self.sent_at >= 1.0:
            if self.retried:
                _fail(self.done, Fail(f"udp-echo: no reply to {self.i} after a resend"))
                return
            self.retried = True
            self.sent_at = time.perf_counter()
            self.tr.sendto(self.msg)
        self.handle = self.loop.call_later(0.25, self.tick)

    def datagram_received(self, data: bytes, addr: Any) -> None:
        if data != self.msg:
            if not stale_echo(data, self.size, self.i):
                _fail(self.done, bad_echo(self.i, data, self.msg))
            return
        i = self.i = self.i + 1
        if i == self.count:
            self.handle.cancel()
            self.done.set_result(time.perf_counter())
            return
        self.msg = Q.pack(i) + self.fill
        self.retried = False
        self.sent_at = time.perf_counter()
        self.tr.sendto(self.msg)

    def error_received(self, exc: Exception) -> None:
        _fail(self.done, Fail(f"udp-echo: {exc}"))

    def connection_lost(self, exc: Optional[BaseException]) -> None:
        pass


class PyAsyncio:
    """asyncio Protocols on the default event loop (``PyUvloop`` runs the same under uvloop)."""

    def run(self, coro: Any) -> Any:
        """Run ``coro`` on a fresh event loop."""
        return asyncio.run(coro)

    def server_pingpong(self, p: argparse.Namespace) -> Result:
        """Echo the stream in ``size``-byte units until the client closes."""
        k = self.run(_serve_one(lambda d: _AsyncioPingServer(d, p.size, p.nodelay),
                                p.timeout, "pingpong", lambda pr: pr.k))
        return served(k, p.count, "pingpong")

    def client_pingpong(self, p: argparse.Namespace) -> Result:
        """Ping-pong driven by data_received; the watchdog bounds every wait."""

        async def main() -> Result:
            loop = asyncio.get_running_loop()
            done = loop.create_future()
            tr, pr = await _connect(lambda: _AsyncioPingClient(done, p.size, p.count, p.nodelay),
                                    p.port, p.timeout)
            dog = Watchdog(loop, done, p.timeout, lambda: pr.i, "pingpong")
            t0 = time.perf_counter()
            pr.start()
            try:
                t1 = await done
            finally:
                dog.cancel()
                tr.close()
            return pp_result(p.count, t1 - t0)

        return self.run(main())

    def server_bulk(self, p: argparse.Namespace) -> Result:
        """Count into a chunk buffer (BufferedProtocol), check, answer at end of stream."""
        total = self.run(_serve_one(lambda d: _AsyncioBulkServer(d, p.chunk, p.bytes),
                                    p.timeout, "bulk", lambda pr: pr.total))
        return {"ok": total == p.bytes, "bytes": total}

    def client_bulk(self, p: argparse.Namespace) -> Result:
        """Write ``chunk``-sized pieces with flow control, write_eof, wait for the count."""

        async def main() -> Result:
            loop = asyncio.get_running_loop()
            done = loop.create_future()
            tr, pr = await _connect(lambda: _AsyncioBulkClient(done), p.port, p.timeout)
            b, chunk = p.bytes, p.chunk
            buf = bytearray(b"\xa5" * chunk)
            Q.pack_into(buf, 0, b)
            data = bytes(buf)
            full, rest = divmod(b, chunk)
            write = tr.write
            T = p.timeout
            wait_for = asyncio.wait_for
            t0 = time.perf_counter()
            try:
                for _ in range(full):
                    write(data)
                    if pr.paused is not None:
                        await wait_for(pr.paused, T)
                if rest:
                    write(data[:rest])
                tr.write_eof()
                t1 = await wait_for(done, T)
            finally:
                tr.close()
            count = Q.unpack_from(pr.got)[0]
            if count != b:
                raise Fail(f"bulk: server counted {count} bytes, sent {b}")
            return bulk_result(b, t1 - t0)

        return self.run(main())

    def server_framed(self, p: argparse.Namespace) -> Result:
        """Decode frames and echo each decoded batch as new frames."""
        k = self.run(_serve_one(lambda d: _AsyncioFramedServer(d), p.timeout, "framed",
                                lambda pr: pr.k))
        return served(k, p.count, "framed")

    def client_framed(self, p: argparse.Namespace) -> Result:
        """A writer task (``b"".join`` of a batch per write, flow control); the protocol reads."""

        async def main() -> Result:
            loop = asyncio.get_running_loop()
            done = loop.create_future()
            size, n, batch = p.size, p.count, p.batch
            tr, pr = await _connect(lambda: _AsyncioFramedClient(done, size, n), p.port,
                                    p.timeout)

            async def writer() -> None:
                pack = Q.pack
                hdr = BE4.pack(size)
                fill = b"\x33" * (size - 8)
                write = tr.write
                join = b"".join
                for s in range(0, n, batch):
                    write(join([hdr + pack(i) + fill for i in range(s, min(s + batch, n))]))
                    if pr.paused is not None:
                        await pr.paused

            dog = Watchdog(loop, done, p.timeout, lambda: pr.exp, "framed")
            t0 = time.perf_counter()
            wt = loop.create_task(writer())
            try:
                t1 = await done
                await asyncio.wait_for(wt, p.timeout)
            finally:
                dog.cancel()
                wt.cancel()
                tr.close()
            return framed_result(n, t1 - t0)

        return self.run(main())

    def server_udp_flood(self, p: argparse.Namespace) -> Result:
        """A DatagramProtocol receiver on a socket with SO_RCVBUF = 4 MiB."""

        async def main() -> Result:
            loop = asyncio.get_running_loop()
            done = loop.create_future()
            s = stdlib_listen(socket.SOCK_DGRAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
            rcvbuf = s.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
            s.setblocking(False)
            tr, pr = await loop.create_datagram_endpoint(
                lambda: _AsyncioFloodServer(done, p.size, p.count, p.timeout), sock=s)
            ready(s.getsockname()[1])
            try:
                await done
            finally:
                tr.close()
            return flood_result(pr.n, pr.t_first, pr.t_last, rcvbuf, pr.cpu_first)

        return self.run(main())

    def client_udp_flood(self, p: argparse.Namespace) -> Result:
        """A plain send loop (the shared sender is the C one, or py-libsock's)."""
        return plain_udp_sender(p)

    def server_udp_drain(self, p: argparse.Namespace) -> Result:
        """After GO, a DatagramProtocol drains the full queue (registered just before timing).

        asyncio's selector transport (CPython 3.11) reads one datagram per loop iteration with
        ``recvfrom(256 KiB)``, whose buffer costs an mmap + mremap + munmap per datagram
        (strace); uvloop does not. That is what idiomatic asyncio costs, so it is measured as is.
        """
        s = stdlib_listen(socket.SOCK_DGRAM)
        rcvbuf = force_rcvbuf(s.fileno())
        s.setblocking(False)
        ready(s.getsockname()[1])
        wait_go(p.timeout)

        async def main() -> Result:
            loop = asyncio.get_running_loop()
            done = loop.create_future()
            cpu0 = time.process_time()
            t0 = time.perf_counter()
            tr, pr = await loop.create_datagram_endpoint(
                lambda: _AsyncioDrainServer(done, p.size, p.count), sock=s)
            try:
                await done
            finally:
                tr.close()
            return drain_result(pr.n, t0, pr.t_last, rcvbuf, cpu0)

        return self.run(main())

    def client_udp_drain(self, p: argparse.Namespace) -> Result:
        """A plain send loop (the shared sender is the C one, or py-libsock's)."""
        return plain_udp_sender(p)

    def server_udp_echo(self, p: argparse.Namespace) -> Result:
        """Echo every datagram to its sender until END."""

        async def main() -> Result:
            loop = asyncio.get_running_loop()
            done = loop.create_future()
            tr, pr = await loop.create_datagram_endpoint(lambda: _AsyncioEchoServer(done),
                                                         local_addr=(HOST, 0))
            ready(tr.get_extra_info("sockname")[1])
            dog = Watchdog(loop, done, p.timeout, lambda: pr.k, "udp-echo")
            try:
                k = await done
            finally:
                dog.cancel()
                tr.close()
            return {"ok": True, "count": k}

        return self.run(main())

    def client_udp_echo(self, p: argparse.Namespace) -> Result:
        """Echo round trips driven by datagram_received; resend once after 1 s."""

        async def main() -> Result:
            loop = asyncio.get_running_loop()
            done = loop.create_future()
            tr, pr = await loop.create_datagram_endpoint(
                lambda: _AsyncioEchoClient(done, p.size, p.count), remote_addr=(HOST, p.port))
            t0 = time.perf_counter()
            pr.start()
            try:
                t1 = await done
                tr.sendto(END)
            finally:
                tr.close()
            return pp_result(p.count, t1 - t0)

        return self.run(main())


class PyUvloop(PyAsyncio):
    """The asyncio Protocols of ``PyAsyncio`` on uvloop's event loop."""

    uvloop: Any = None  # the uvloop module, imported when the implementation is chosen

    def __init__(self) -> None:
        try:
            import uvloop
        except ImportError:
            raise Skip("uvloop is not installed") from None
        self.uvloop = uvloop

    def run(self, coro: Any) -> Any:
        """Run ``coro`` on a fresh uvloop event loop."""
        if hasattr(asyncio, "Runner"):
            with asyncio.Runner(loop_factory=self.uvloop.new_event_loop) as runner:
                return runner.run(coro)
        loop = self.uvloop.new_event_loop()
        try:
            return loop.run_until_complete(coro)
        finally:
            loop.close()


# ------------------------------------------------------------------------------------ py-zmq


class PyZmq:
    """pyzmq PAIR sockets over tcp://127.0.0.1. zmq frames messages itself, so framed is one
    zmq message per body; an empty message ends pingpong, framed and bulk (zmq has no
    half-close). zmq sets TCP_NODELAY itself (``--nodelay`` is not applied). The framed client
    runs writer and reader in one thread (zmq sockets are not thread-safe), keeping at most
    ``ZMQ_WINDOW`` messages in flight. UDP workloads are skipped."""

    zmq: Any = None  # the zmq module, imported when the implementation is chosen

    def __init__(self) -> None:
        try:
            import zmq
        except ImportError:
            raise Skip("pyzmq is not installed") from None
        self.zmq = zmq
        self.ctx = zmq.Context()

    def _socket(self, p: argparse.Namespace) -> Any:
        """A PAIR socket with bounded waits."""
        zmq = self.zmq
        s = self.ctx.socket(zmq.PAIR)
        ms = int(p.timeout * 1000)
        s.setsockopt(zmq.RCVTIMEO, ms)
        s.setsockopt(zmq.SNDTIMEO, ms)
        s.setsockopt(zmq.LINGER, ms)
        return s

    def _bind(self, p: argparse.Namespace) -> Any:
        """Bind tcp://127.0.0.1:* and print READY with the port zmq chose."""
        s = self._socket(p)
        s.bind(f"tcp://{HOST}:*")
        ready(int(s.getsockopt_string(self.zmq.LAST_ENDPOINT).rsplit(":", 1)[1]))
        return s

    def _connect(self, p: argparse.Namespace) -> Any:
        """Connect to tcp://127.0.0.1:port."""
        s = self._socket(p)
        s.connect(f"tcp://{HOST}:{p.port}")
        return s

    def _echo_server(self, p: argparse.Namespace, what: str) -> Result:
        """Send every message back until the empty end marker."""
        s = self._bind(p)
        recv, send = s.recv, s.send
        k = 0
        try:
            while True:
                m = recv()
                if not m:
                    break
                send(m)
                k += 1
        except self.zmq.Again:
            raise Fail(f"{what}: nothing for {p.timeout} s") from None
        finally:
            s.close()
        return served(k, p.count, what)

    def _close(self, s: Any) -> None:
        """Close a socket and end the context (waits for queued messages up to the linger)."""
        s.close()
        self.ctx.term()

    def server_pingpong(self, p: argparse.Namespace) -> Result:
        """Echo each message."""
        return self._echo_server(p, "pingpong")

    def client_pingpong(self, p: argparse.Namespace) -> Result:
        """Send a message, receive the echo, compare; N times, then the end marker."""
        s = self._connect(p)
        size, n = p.size, p.count
        send, recv = s.send, s.recv
        pack = Q.pack
        fill = b"\x5a" * (size - 8)
        try:
            t0 = time.perf_counter()
            for i in range(n):
                msg = pack(i) + fill
                send(msg)
                got = recv()
                if got != msg:
                    raise bad_echo(i, got, msg)
            secs = time.perf_counter() - t0
            send(b"")
        except self.zmq.Again:
            raise Fail(f"pingpong: no echo for {p.timeout} s") from None
        finally:
            self._close(s)
        return pp_result(n, secs)

    def server_bulk(self, p: argparse.Namespace) -> Result:
        """Count message bytes until the empty end marker, check the head, send the count."""
        s = self._bind(p)
        recv = s.recv
        total = 0
        head = b""
        try:
            while True:
                m = recv(copy=False)
                k = len(m)
                if not k:
                    break
                if total < 8:
                    head += m.bytes[:8]
                total += k
            bulk_check_head(head[:8], total, p.bytes)
            s.send(Q.pack(total))
        except self.zmq.Again:
            raise Fail(f"bulk: nothing for {p.timeout} s") from None
        finally:
            s.close()
        return {"ok": total == p.bytes, "bytes": total}

    def client_bulk(self, p: argparse.Namespace) -> Result:
        """Send ``chunk``-byte messages (zero-copy from one buffer), the end marker, check the count."""
        s = self._connect(p)
        b, chunk = p.bytes, p.chunk
        buf = bytearray(b"\xa5" * chunk)
        Q.pack_into(buf, 0, b)
        data = bytes(buf)
        full, rest = divmod(b, chunk)
        send = s.send
        try:
            t0 = time.perf_counter()
            for _ in range(full):
                send(data, copy=False)
            if rest:
                send(data[:rest])
            send(b"")
            got = s.recv()
            secs = time.perf_counter() - t0
        except self.zmq.Again:
            raise Fail(f"bulk: stalled for {p.timeout} s") from None
        finally:
            self._close(s)
        count = Q.unpack_from(got)[0] if len(got) == 8 else -1
        if count != b:
            raise Fail(f"bulk: server counted {count} bytes, sent {b}")
        return bulk_result(b, secs)

    def server_framed(self, p: argparse.Namespace) -> Result:
        """Echo each message (zmq does the framing)."""
        return self._echo_server(p, "framed")

    def client_framed(self, p: argparse.Namespace) -> Result:
        """Send batches while fewer than ZMQ_WINDOW are in flight; receive and check echoes."""
        zmq = self.zmq
        s = self._connect(p)
        size, n, batch = p.size, p.count, p.batch
        send, recv = s.send, s.recv
        NOBLOCK, Again = zmq.NOBLOCK, zmq.Again
        pack, unpack = Q.pack, Q.unpack_from
        fill = b"\x33" * (size - 8)
        sent = exp = 0
        try:
            t0 = time.perf_counter()
            while exp < n:
                while sent < n and sent - exp < ZMQ_WINDOW:
                    e = min(sent + batch, n, exp + ZMQ_WINDOW)
                    for i in range(sent, e):
                        send(pack(i) + fill)
                    sent = e
                m = recv()  # blocks up to the timeout
                while True:
                    if len(m) != size or unpack(m)[0] != exp:
                        raise bad_msg(exp, m, size)
                    exp += 1
                    if exp == sent:
                        break
                    try:
                        m = recv(NOBLOCK)
                    except Again:
                        break
            secs = time.perf_counter() - t0
            send(b"")
        except Again:
            raise Fail(f"framed: stalled for {p.timeout} s after {exp} messages") from None
        finally:
            self._close(s)
        return framed_result(n, secs)


# ---------------------------------------------------------------------------------------- main

IMPLS: Dict[str, Callable[[], Any]] = {
    "py-libsock": PyLibsock,
    "py-engine": PyEngine,
    "py-stdlib": PyStdlib,
    "py-asyncio": PyAsyncio,
    "py-uvloop": PyUvloop,
    "py-zmq": PyZmq,
}

SKIPS = {
    ("py-engine", "bulk"): "the engine ends a connection at the peer's end of stream, so the "
                           "server cannot send the count after the client's half-close",
    ("py-zmq", "udp-flood"): "zmq has no UDP transport",
    ("py-zmq", "udp-drain"): "zmq has no UDP transport",
    ("py-engine", "udp-drain"): "the engine reads its socket in its own threads from the moment "
                                "it is bound, so there is no full kernel queue left to drain at GO",
    ("py-zmq", "udp-echo"): "zmq has no UDP transport",
}


def parse_args(argv: List[str]) -> argparse.Namespace:
    """Parse IMPL ROLE WORKLOAD and the workload parameters; fill in per-workload defaults."""
    ap = argparse.ArgumentParser(prog="python3 bench/py/worker.py",
                                 description="A benchmark worker (bench/PROTOCOL.md).")
    ap.add_argument("impl", choices=IMPL_NAMES)
    ap.add_argument("role", choices=("server", "client"))
    ap.add_argument("workload", choices=WORKLOADS)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--size", type=int, default=None)
    ap.add_argument("--count", type=int, default=None)
    ap.add_argument("--nodelay", type=int, choices=(0, 1), default=1)
    ap.add_argument("--bytes", type=int, default=256 << 20)
    ap.add_argument("--chunk", type=int, default=65536)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--offload", type=int, choices=(0, 1), default=1)
    ap.add_argument("--timeout", type=float, default=30.0)
    p = ap.parse_args(argv)
    if p.size is None:
        p.size = DEFAULT_SIZE.get(p.workload, 64)
    if p.count is None:
        p.count = DEFAULT_COUNT.get(p.workload, 10000)
    return p


def check_params(p: argparse.Namespace) -> None:
    """Reject parameters the workloads cannot honour (every payload starts with a u64)."""
    if p.workload == "bulk":
        if p.bytes < 8 or p.chunk < 8:
            raise Fail("bulk needs --bytes >= 8 and --chunk >= 8")
    else:
        if p.size < 8:
            raise Fail("--size must be at least 8 (the payload starts with a u64)")
        if p.count < 1:
            raise Fail("--count must be at least 1")
        if p.workload == "framed" and (p.batch < 1 or p.size > PyStdlib.FRAMED_BUF - 4):
            raise Fail("framed needs --batch >= 1 and --size <= 1 MiB - 4")
        if p.workload.startswith("udp") and p.size > 65507:
            raise Fail("a UDP datagram holds at most 65507 bytes")
    if p.role == "client" and not 0 < p.port < 65536:
        raise Fail("the client needs --port")
    if p.timeout <= 0:
        raise Fail("--timeout must be positive")


def run(p: argparse.Namespace) -> Result:
    """Run one role of one workload for one implementation; return its result line."""
    reason = SKIPS.get((p.impl, p.workload))
    if reason:
        raise Skip(reason)
    impl = IMPLS[p.impl]()
    fn = getattr(impl, f"{p.role}_{p.workload.replace('-', '_')}", None)
    if fn is None:
        raise Skip(f"{p.impl} does not implement {p.role} {p.workload}")
    check_params(p)
    return fn(p)


def main(argv: Optional[List[str]] = None) -> int:
    """Entry point: run, print the one JSON line, return the exit status (0, 1 or 3)."""
    p = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        res = run(p)
    except Skip as e:
        emit({"ok": False, "skip": str(e)})
        return 3
    except Fail as e:
        emit({"ok": False, "error": str(e)})
        return 1
    except Exception as e:  # noqa: BLE001 - any failure is a failed run, reported as such
        emit({"ok": False, "error": f"{type(e).__name__}: {e}"})
        return 1
    emit(res)
    return 0 if res.get("ok") else 1


def run_and_exit() -> None:
    """Run ``main`` and leave at once with its status (not waiting for daemon threads or engine
    runtimes still winding down)."""
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    run_and_exit()
