"""Fan-in benchmark servers in Python, started by fanin.py: ``python3 fanin_servers.py KIND [lifetime]``.

KIND is ``libsock`` (a), ``asyncio`` (b) or ``uvloop`` (c). Each binds 127.0.0.1:0, prints
``READY <port>`` (as every fan-in server does, like the worker protocol's servers) and echoes every
4-byte big-endian length-prefixed frame back to its sender until SIGTERM or the lifetime (seconds,
default 900) passes.
"""

from __future__ import annotations

import asyncio
import resource
import sys
import time


def raise_nofile() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def serve_libsock(lifetime: float) -> None:
    """(a) The libsock engine: pull events in batches, send each message back."""
    import libsock

    server = libsock.Server(("127.0.0.1", 0), event_capacity=65536)
    print("READY", server.address[1], flush=True)
    send = server.send
    events = server.events
    end = time.monotonic() + lifetime
    while time.monotonic() < end:
        for ev in events(timeout=1.0, max=1024):
            data = ev.data
            if data is not None and ev.kind == "message":
                send(ev.client, data)


class Echo(asyncio.Protocol):
    """(b)/(c) asyncio Protocol with hand framing: echo every complete frame with one write."""

    __slots__ = ("transport", "buf")

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.buf = b""
        sock = transport.get_extra_info("socket")
        if sock is not None:
            import socket

            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data: bytes) -> None:
        buf = self.buf + data if self.buf else data
        n = len(buf)
        end = 0
        while n - end >= 4:
            length = int.from_bytes(buf[end : end + 4], "big")
            if length > 1 << 20:
                self.transport.close()  # type: ignore[attr-defined]
                return
            if n - end < 4 + length:
                break
            end += 4 + length
        if end == n:
            self.transport.write(buf)  # type: ignore[attr-defined]
            self.buf = b""
        else:
            if end:
                self.transport.write(buf[:end])  # type: ignore[attr-defined]
            self.buf = buf[end:]


async def serve_asyncio(lifetime: float) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Echo, "127.0.0.1", 0, backlog=1024)
    print("READY", server.sockets[0].getsockname()[1], flush=True)
    await asyncio.sleep(lifetime)
    server.close()


def main() -> None:
    raise_nofile()
    kind = sys.argv[1]
    lifetime = float(sys.argv[2]) if len(sys.argv) > 2 else 900.0
    if kind == "libsock":
        serve_libsock(lifetime)
    elif kind == "asyncio":
        asyncio.run(serve_asyncio(lifetime))
    elif kind == "uvloop":
        import uvloop

        uvloop.run(serve_asyncio(lifetime))
    else:
        sys.exit(f"unknown server kind {kind!r}")


if __name__ == "__main__":
    main()
