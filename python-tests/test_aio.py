"""libsock.aio: asyncio on the engine's notify_fd, no extra threads."""

from __future__ import annotations

import asyncio
import socket
import struct
import threading
import time
from typing import Any, Coroutine, TypeVar

import libsock
import libsock.aio
from _helpers import WAIT

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(asyncio.wait_for(coro, WAIT * 3))


def test_aio_server_echoes_to_aio_clients() -> None:
    async def main() -> list[list[bytes]]:
        threads_before = threading.active_count()
        async with await libsock.aio.serve(("127.0.0.1", 0)) as server:

            async def echo() -> int:
                n = 0
                async for ev in server:
                    if ev.kind == "message":
                        assert ev.data is not None
                        await server.send(ev.client, ev.data)
                        n += 1
                return n

            echo_task = asyncio.create_task(echo())
            clients = [await libsock.aio.connect(server.address) for _ in range(10)]

            async def talk(i: int, c: libsock.aio.Client) -> list[bytes]:
                for j in range(20):
                    await c.send(f"{i}:{j}".encode())
                got: list[bytes] = []
                async for ev in c:
                    if ev.kind == "message" and ev.data is not None:
                        got.append(ev.data)
                        if len(got) == 20:
                            break
                return got

            results = await asyncio.gather(*(talk(i, c) for i, c in enumerate(clients)))
            assert all(c.connected for c in clients)
            for c in clients:
                await c.close()
            # No Python thread was started (the engine's threads are Rust threads, never per
            # client or per wait, and never run Python code).
            assert threading.active_count() == threads_before
        assert await echo_task == 200  # the iterator ended with the server
        return results

    results = run(main())
    assert results == [[f"{i}:{j}".encode() for j in range(20)] for i in range(10)]


def test_aio_server_with_stdlib_clients_and_reader_removed_on_close() -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = libsock.aio.Server(("127.0.0.1", 0), framing=libsock.Delimited(b"\n"))
        fd = server.fileno()
        reader, writer = await asyncio.open_connection(*server.address)
        writer.write(b"hello\nworld\n")
        await writer.drain()
        got = []
        async for ev in server:
            if ev.kind == "message":
                assert ev.data is not None
                got.append(ev.data)
                server.send_nowait(ev.client, ev.data.upper())
                if len(got) == 2:
                    break
        assert got == [b"hello", b"world"]
        assert await reader.readline() == b"HELLO\n"
        assert await reader.readline() == b"WORLD\n"
        # Not waiting now: no reader is registered (nothing can spin on the level-triggered fd).
        assert loop.remove_reader(fd) is False
        # A waiter blocked in the iterator is woken by close and the iteration ends.
        kinds: list[str] = []

        async def drain() -> None:
            async for ev in server:
                kinds.append(ev.kind)

        task = asyncio.create_task(drain())
        await asyncio.sleep(0.1)
        await server.close(grace=0.5)
        await asyncio.wait_for(task, WAIT)
        assert kinds[-1] == "closed"
        assert loop.remove_reader(fd) is False
        writer.close()

    run(main())


def test_aio_events_batches_and_wakeups_without_busy_looping() -> None:
    async def main() -> None:
        async with libsock.aio.Server(("127.0.0.1", 0)) as server:
            # Nothing pending: events() waits; the loop stays idle (a timer fires meanwhile).
            ticks = 0

            async def ticker() -> None:
                nonlocal ticks
                for _ in range(5):
                    await asyncio.sleep(0.02)
                    ticks += 1

            t = asyncio.create_task(ticker())
            with socket.create_connection(server.address, timeout=WAIT) as s:
                s.sendall(struct.pack(">I", 3) + b"abc")
                kinds: list[str] = []
                while "message" not in kinds:
                    kinds += [ev.kind for ev in await server.events()]
                assert kinds == ["connected", "message"]
            await t
            assert ticks == 5

    run(main())


def test_aio_client_reconnects_and_serve_forever() -> None:
    async def main() -> list[bytes]:
        server = libsock.Server(("127.0.0.1", 0))
        try:
            client = libsock.aio.Client(server.address, backoff=(0.05, 0.2))
            await client.send(b"one")
            await client.send(b"two")
            got: list[bytes] = []

            # The engine server driven by the asyncio loop through its notify_fd.
            aserver = libsock.aio.Server(server)

            async def handler(ev: libsock.Event) -> bool:
                if ev.kind == "message" and ev.data is not None:
                    got.append(ev.data)
                return len(got) < 2

            await asyncio.wait_for(aserver.serve_forever(handler), WAIT)
            await client.close()
            return got
        finally:
            server.shutdown()

    assert run(main()) == [b"one", b"two"]


def test_aio_send_waits_for_room_then_raises_timeout() -> None:
    async def main() -> None:
        client = libsock.aio.Client(("127.0.0.1", 9), send_queue_bytes=64, backoff=(1.0, 2.0))
        try:
            await client.send(b"x" * 40)
            try:
                await client.send(b"y" * 40, timeout=0.1)
            except TimeoutError as e:
                assert "send queue" in str(e), e
            else:
                raise AssertionError("TimeoutError expected")
            # Without waiting: the queue is full at once.
            try:
                client.send_nowait(b"z" * 40)
            except libsock.QueueFullError:
                pass
            else:
                raise AssertionError("QueueFullError expected")
        finally:
            await client.close()

    run(main())


def test_aio_send_is_woken_when_the_queue_drains() -> None:
    # A server that pulls only after a pause: the client's queue fills (32 MiB cannot wait in
    # 64 KiB of queue and the kernel's buffers), its sends wait without blocking the loop, and
    # every message arrives in order.
    async def main() -> list[bytes]:
        server = libsock.Server(("127.0.0.1", 0), event_capacity=4)
        client = libsock.aio.Client(server.address, send_queue_bytes=64 * 1024)
        msgs = [i.to_bytes(4, "big") * 4096 for i in range(2000)]  # 16 KiB each

        def pull() -> list[bytes]:
            time.sleep(0.3)
            got: list[bytes] = []
            while len(got) < len(msgs):
                for ev in server.events(timeout=WAIT):
                    if ev.kind == "message" and ev.data is not None:
                        got.append(ev.data)
            return got

        try:
            puller = asyncio.get_running_loop().run_in_executor(None, pull)
            ticks = 0

            async def tick() -> None:
                nonlocal ticks
                while True:
                    await asyncio.sleep(0.01)
                    ticks += 1

            ticker = asyncio.ensure_future(tick())
            for m in msgs:
                await client.send(m, timeout=WAIT)
            got = await asyncio.wait_for(puller, WAIT)
            ticker.cancel()
            assert got == msgs
            assert ticks > 0, "the event loop did not run while sends waited"
            return got
        finally:
            await client.close()
            server.shutdown()

    assert len(run(main())) == 2000


def test_aio_datagram_server() -> None:
    async def main() -> None:
        async with libsock.aio.DatagramServer(("127.0.0.1", 0)) as udp:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.bind(("127.0.0.1", 0))
                s.settimeout(WAIT)
                s.sendto(b"ping", udp.address)
                ev = await udp.next_event()
                assert ev.kind == "datagram" and ev.data == b"ping"
                udp.send_to(b"pong", ev.peer)
                assert s.recv(10) == b"pong"

    run(main())
