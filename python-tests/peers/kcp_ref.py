"""A KCP peer that no one here wrote: the PyPI package ``kcp`` wraps the reference C
implementation (ikcp.c); this file only moves its datagrams over a stdlib UDP socket.

Used in-process by python-tests/test_kcp.py (threads) and as a script inside a network
namespace with packet loss (``check``: both directions, every message once, in order,
byte-exact; ``latency``: ping-pong round trips of KCP or TCP for bench/kcp_loss.py; ``serve``
and ``client``: one side each, for the tests of the other doors, e.g. the C door's S23).
Prints one JSON object per run.
"""
from __future__ import annotations

import argparse
import json
import os
import select
import socket
import sys
import threading
import time
from typing import Any, Optional

from kcp import KCP



def msg(i: int) -> bytes:
    """Message ``i`` of a test run: 1 to 3,000 bytes (up to three KCP segments)."""
    n = (i * 37) % 3000 + 1
    base = (i * 7) % 256
    return bytes((base + j) % 256 for j in range(n))


def make(conv: int, sock: socket.socket, addr: Any) -> KCP:
    # The "fast" profile of the reference, as libsock's defaults.
    k = KCP(conv, max_transmission=1400, no_delay=True, update_interval=10, resend_count=2,
            no_congestion_control=True, send_window_size=128, receive_window_size=128)
    k.include_outbound_handler(lambda _k, data: _send(sock, data, addr))
    return k


def _send(sock: socket.socket, data: bytes, addr: Any) -> None:
    try:
        sock.sendto(data, addr)
    except (BlockingIOError, ConnectionRefusedError):
        pass  # lost, as on a network: KCP sends it again


class RefServer:
    """An echo server of the reference implementation: one KCP per (address, conv)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, port))
        self.sock.setblocking(False)
        self.address = self.sock.getsockname()
        self.sessions: dict[tuple[Any, int], KCP] = {}
        self.received: dict[int, list[bytes]] = {}
        self.stop = threading.Event()
        #: When the last datagram came (time.monotonic()): a peer still waiting for echoes
        #: keeps acknowledging what arrives, so a long silence means it left.
        self.last_in = time.monotonic()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def __enter__(self) -> "RefServer":
        self.thread.start()
        return self

    def __exit__(self, *_a: Any) -> None:
        self.stop.set()
        self.thread.join(10)
        self.sock.close()

    def run(self) -> None:
        while not self.stop.is_set():
            r, _, _ = select.select([self.sock], [], [], 0.005)
            if r:
                for _ in range(256):
                    try:
                        data, addr = self.sock.recvfrom(65536)
                    except (BlockingIOError, ConnectionRefusedError):
                        break
                    self.last_in = time.monotonic()
                    if len(data) < 24:
                        continue
                    conv = int.from_bytes(data[:4], "little")
                    k = self.sessions.get((addr, conv))
                    if k is None:
                        k = self.sessions[(addr, conv)] = make(conv, self.sock, addr)
                        k.update()
                    k.receive(data)
                    for m in k.get_all_received():
                        self.received.setdefault(conv, []).append(bytes(m))
                        k.enqueue(bytes(m))
                    k.flush()
            for k in list(self.sessions.values()):
                k.update()


class RefClient:
    """A client of the reference implementation (blocking calls, driven by the caller)."""

    def __init__(self, address: Any, conv: int) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.connect(address)
        self.sock.setblocking(False)
        self.kcp = make(conv, self.sock, None)
        self.kcp.include_outbound_handler(lambda _k, data: self._out(data))
        self.kcp.update()

    def _out(self, data: bytes) -> None:
        try:
            self.sock.send(data)
        except (BlockingIOError, ConnectionRefusedError):
            pass

    def pump(self, wait: float) -> None:
        r, _, _ = select.select([self.sock], [], [], wait)
        if r:
            for _ in range(256):
                try:
                    data = self.sock.recv(65536)
                except (BlockingIOError, ConnectionRefusedError):
                    break
                self.kcp.receive(data)
            self.kcp.flush()
        self.kcp.update()

    def send(self, data: bytes) -> None:
        while self.kcp.get_outbound_packets() > 256:
            self.pump(0.005)
        self.kcp.enqueue(data)
        self.kcp.flush()

    def recv(self, timeout: float) -> Optional[bytes]:
        end = time.monotonic() + timeout
        while True:
            m = self.kcp.get_received()
            if m:
                return bytes(m)
            if time.monotonic() > end:
                return None
            self.pump(0.005)

    def close(self) -> None:
        self.sock.close()


def run_ref_client(address: Any, conv: int, n: int, timeout: float = 60.0) -> dict[str, Any]:
    """Send ``n`` messages to an echo server and check the echoes: count, order, bytes."""
    c = RefClient(address, conv)
    got = 0
    first_bad = None
    try:
        end = time.monotonic() + timeout
        for i in range(n):
            c.send(msg(i))
        while got < n and time.monotonic() < end:
            m = c.recv(max(0.0, end - time.monotonic()))
            if m is None:
                break
            if m != msg(got) and first_bad is None:
                first_bad = got
            got += 1
        extra = c.recv(0.2)
    finally:
        c.close()
    return {"received": got, "first_bad": first_bad, "extra": extra is not None}


def check(n: int, loss: int) -> dict[str, Any]:
    """Both directions in this process: libsock's client against the reference server, and
    the reference client against libsock's KcpServer (echoing in a thread)."""
    import libsock

    out: dict[str, Any] = {"loss": loss, "n": n}
    # 1. libsock client -> reference server.
    with RefServer() as ref:
        s = libsock.kcp_connect(ref.address, conv=0x11223344, timeout=120)
        t0 = time.monotonic()
        for i in range(n):
            s.send(msg(i))
        bad = None
        for i in range(n):
            if s.recv() != msg(i) and bad is None:
                bad = i
        try:
            s.recv(timeout=0.2)
            extra = True
        except TimeoutError:
            extra = False
        s.flush()
        out["libsock_client"] = {
            "first_bad": bad, "extra": extra, "seconds": round(time.monotonic() - t0, 3),
            "server_got": len(ref.received.get(0x11223344, [])),
            "server_in_order": ref.received.get(0x11223344, []) == [msg(i) for i in range(n)],
            "retransmits": s.stats()["retransmits"],
        }
        s.close()
    # 2. reference client -> libsock server.
    with libsock.KcpServer(("127.0.0.1", 0), idle_timeout=60) as server:
        got: list[bytes] = []
        stop = threading.Event()

        def echo() -> None:
            while not stop.is_set():
                for ev in server.events(timeout=0.05):
                    if ev.kind == "message":
                        assert ev.data is not None
                        got.append(ev.data)
                        server.send(ev.client, ev.data)

        th = threading.Thread(target=echo, daemon=True)
        th.start()
        t0 = time.monotonic()
        r = run_ref_client(server.address, 0x55667788, n, timeout=200)
        r["seconds"] = round(time.monotonic() - t0, 3)
        stop.set()
        th.join(10)
        r["server_got"] = len(got)
        r["server_in_order"] = got == [msg(i) for i in range(n)]
        r["retransmits"] = server.stats()["retransmits"]
        out["ref_client"] = r
    return out


def latency(proto: str, n: int) -> dict[str, Any]:
    """Ping-pong round trips of 100-byte messages (ms): libsock KCP client against the
    reference KCP server, or a TCP client against a TCP echo server."""
    payload = b"x" * 100
    rtts = []
    if proto == "kcp":
        import libsock

        with RefServer() as ref:
            s = libsock.kcp_connect(ref.address, timeout=60)
            for _ in range(n):
                t0 = time.perf_counter()
                s.send(payload)
                assert s.recv() == payload
                rtts.append((time.perf_counter() - t0) * 1000)
            s.close()
    else:
        ls = socket.socket()
        ls.bind(("127.0.0.1", 0))
        ls.listen()

        def serve() -> None:
            c, _ = ls.accept()
            c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            buf = b""
            while True:
                d = c.recv(65536)
                if not d:
                    return
                buf += d
                while len(buf) >= len(payload):
                    c.sendall(buf[:len(payload)])
                    buf = buf[len(payload):]

        threading.Thread(target=serve, daemon=True).start()
        c = socket.create_connection(ls.getsockname(), timeout=60)
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for _ in range(n):
            t0 = time.perf_counter()
            c.sendall(payload)
            got = b""
            while len(got) < len(payload):
                got += c.recv(len(payload) - len(got))
            rtts.append((time.perf_counter() - t0) * 1000)
        c.close()
    rtts.sort()
    pick = lambda q: round(rtts[min(len(rtts) - 1, int(q * len(rtts)))], 2)  # noqa: E731
    return {"proto": proto, "n": n, "p50_ms": pick(0.50), "p99_ms": pick(0.99),
            "max_ms": round(rtts[-1], 2)}


def serve(n: int, timeout: float) -> dict[str, Any]:
    """For the other doors' S23: a reference echo server; prints its address ("host:port") on
    the first line, then serves until one conversation brought ``n`` messages and everything
    echoed is acknowledged (a short grace for the peer's last acknowledgements), or
    ``timeout`` seconds passed; returns what it received (count, order, bytes)."""
    with RefServer() as ref:
        print(f"{ref.address[0]}:{ref.address[1]}")
        sys.stdout.flush()
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            done = [c for c, got in list(ref.received.items()) if len(got) >= n]
            if done and all(k.get_outbound_packets() == 0 for k in list(ref.sessions.values())):
                time.sleep(1.0)  # the peer's last segments: acknowledged again if an ack was lost
                break
            time.sleep(0.02)
        got = max(ref.received.values(), key=len, default=[])
        return {"server_got": len(got), "server_in_order": got == [msg(i) for i in range(n)]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("check")
    c.add_argument("--n", type=int, default=1000)
    c.add_argument("--loss", type=int, default=0)
    sv = sub.add_parser("serve")
    sv.add_argument("--n", type=int, default=1000)
    sv.add_argument("--timeout", type=float, default=300)
    cl = sub.add_parser("client")
    cl.add_argument("--address", required=True, help="host:port of a KCP echo server")
    cl.add_argument("--conv", type=int, default=0x55667788)
    cl.add_argument("--n", type=int, default=1000)
    cl.add_argument("--timeout", type=float, default=200)
    la = sub.add_parser("latency")
    la.add_argument("--proto", choices=["kcp", "tcp"], required=True)
    la.add_argument("--n", type=int, default=300)
    a = ap.parse_args()
    if a.cmd == "check":
        print(json.dumps(check(a.n, a.loss)))
    elif a.cmd == "serve":
        print(json.dumps(serve(a.n, a.timeout)))
    elif a.cmd == "client":
        host, _, port = a.address.rpartition(":")
        print(json.dumps(run_ref_client((host, int(port)), a.conv, a.n, a.timeout)))
    else:
        print(json.dumps(latency(a.proto, a.n)))
    sys.stdout.flush()
    os._exit(0)  # daemon threads may still sit in select()


if __name__ == "__main__":
    main()
