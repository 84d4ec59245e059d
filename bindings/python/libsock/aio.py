"""asyncio on the libsock engine, without extra threads.

The engine's Rust threads do the socket work; this module waits on the engine object's
``notify_fd`` with ``loop.add_reader`` (registered only while a coroutine waits, so a loop that
does not pull is never woken in a busy loop) and pulls events with the non-blocking
``events(timeout=0)``.

Example::

    import asyncio, libsock, libsock.aio

    async def main() -> None:
        async with await libsock.aio.serve(("127.0.0.1", 0)) as server:
            async with await libsock.aio.connect(server.address) as client:
                await client.send(b"hello")
                async for ev in server:
                    if ev.kind == "message":
                        await server.send(ev.client, ev.data)     # echo
                        break
                async for ev in client:
                    if ev.kind == "message":
                        print(ev.data)                            # b'hello'
                        break

    asyncio.run(main())
"""

from __future__ import annotations

import asyncio
import inspect
from collections import deque
from types import TracebackType
from typing import Any, Awaitable, Callable, Deque, Generic, Optional, Sequence, TypeVar, Union

from ._errors import ClosedError, QueueFullError
from ._libsock import Client as _EngineClient
from ._libsock import DatagramServer as _EngineDatagramServer
from ._libsock import Event
from ._libsock import Server as _EngineServer
from ._types import Address

__all__ = ["Server", "Client", "DatagramServer", "serve", "connect", "Event"]

_E = TypeVar("_E", _EngineServer, _EngineClient, _EngineDatagramServer)
_Self = TypeVar("_Self", bound="_Door[Any]")
_Handler = Callable[[Event], Union[object, Awaitable[object]]]



class _Door(Generic[_E]):
    """The asyncio side of one engine object: readiness through ``add_reader``, batches pulled
    without blocking, iteration until the object is closed."""

    def __init__(self, engine: _E) -> None:
        self._engine: _E = engine
        self._fd = engine.fileno()
        self._buf: Deque[Event] = deque()
        self._waiter: Optional[asyncio.Future[None]] = None
        self._loop: Optional[asyncio.AbstractEventLoop] = None

    @property
    def engine(self) -> _E:
        """The wrapped engine object (``libsock.Server``, ``Client`` or ``DatagramServer``).

        Example: ``server.engine.stats()``
        """
        return self._engine

    def _release(self) -> None:
        """Unregister the reader and wake whoever waits (they then pull and see the end)."""
        fut, loop = self._waiter, self._loop
        if fut is not None and not fut.done() and loop is not None:
            loop.remove_reader(self._fd)
            fut.set_result(None)
        self._waiter = None

    async def _readable(self) -> None:
        fut = self._waiter
        if fut is None or fut.done():
            loop = asyncio.get_running_loop()
            new: asyncio.Future[None] = loop.create_future()

            def ready() -> None:
                # One shot: the descriptor is level-triggered, so it is unregistered at once.
                loop.remove_reader(self._fd)
                if not new.done():
                    new.set_result(None)

            loop.add_reader(self._fd, ready)
            self._waiter, self._loop = new, loop
            fut = new
        # Shielded: a cancelled waiter must not cancel the future other waiters share.
        await asyncio.shield(fut)

    async def events(self, max: int = 64) -> list[Event]:
        """Up to ``max`` events, waiting (without blocking the loop) until there is at least
        one. ``ClosedError`` after the final ``closed`` event.

        Example::

            for ev in await server.events():
                print(ev)
        """
        if self._buf:
            n = min(max, len(self._buf))
            return [self._buf.popleft() for _ in range(n)]
        while True:
            batch = self._engine.events(timeout=0, max=max)
            if batch:
                return batch
            await self._readable()

    async def next_event(self) -> Event:
        """The next event (``ClosedError`` after the final ``closed`` event).

        Example: ``ev = await client.next_event()``
        """
        if not self._buf:
            self._buf.extend(await self.events())
        return self._buf.popleft()

    def __aiter__(self: _Self) -> _Self:
        return self

    async def __anext__(self) -> Event:
        try:
            return await self.next_event()
        except ClosedError:
            raise StopAsyncIteration from None

    async def serve_forever(self, handler: _Handler) -> None:
        """Call ``handler(event)`` (a function or a coroutine function) for every event until
        the object is closed or ``handler`` returns ``False``.

        Example::

            async def echo(ev):
                if ev.kind == "message":
                    await server.send(ev.client, ev.data)
            await server.serve_forever(echo)
        """
        async for ev in self:
            r = handler(ev)
            if inspect.isawaitable(r):
                r = await r
            if r is False:
                return

    def fileno(self) -> int:
        """The engine object's ``notify_fd``.

        Example: ``server.fileno()``
        """
        return self._fd

    async def __aenter__(self: _Self) -> _Self:
        return self

    async def __aexit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        await self.close()

    async def close(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError


async def _send_waiting(send: Callable[..., Any], timeout: Optional[float]) -> Any:
    """Call ``send(timeout=0)``; when the queue is full, wait for room in a worker thread
    (``send(timeout=timeout)``: woken by the engine when the queue drains, never polled) so
    the event loop keeps running."""
    try:
        return send(timeout=0)
    except QueueFullError:
        if timeout == 0:
            raise
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(None, lambda: send(timeout=timeout))


class Server(_Door[_EngineServer]):
    """An asyncio server on the engine: ``Server(address, **kwargs)`` takes the arguments of
    ``libsock.Server`` (or wraps an existing ``libsock.Server``). ``async for ev in server``
    yields events until the server is closed (the last one is ``closed``).

    Example::

        async with libsock.aio.Server(("127.0.0.1", 0)) as server:
            async for ev in server:
                if ev.kind == "message":
                    await server.send(ev.client, ev.data)
    """

    def __init__(self, address: Union[_EngineServer, Any], **kwargs: Any) -> None:
        engine = address if isinstance(address, _EngineServer) else _EngineServer(address, **kwargs)
        super().__init__(engine)

    @property
    def address(self) -> Address:
        """The bound address. Example: ``host, port = server.address``"""
        return self._engine.address

    async def send(self, client: int, data: Any, *, timeout: Optional[float] = None) -> None:
        """Queue ``data`` to ``client``. When its send queue is full this waits for room (in a
        worker thread, woken when the queue drains) up to ``timeout`` seconds (``None`` = as
        long as it takes), then raises ``TimeoutError``. ``ClosedError`` when the client is
        gone.

        Example: ``await server.send(ev.client, b"hi")``
        """
        await _send_waiting(lambda **t: self._engine.send(client, data, **t), timeout)

    def send_nowait(self, client: int, data: Any) -> None:
        """Queue ``data`` to ``client`` now (``QueueFullError`` when its queue is full).

        Example: ``server.send_nowait(ev.client, b"hi")``
        """
        self._engine.send(client, data)

    def send_many(self, clients: Sequence[int], data: Any) -> int:
        """Queue ``data`` to each of ``clients``; returns how many got it.

        Example: ``server.send_many([1, 2], b"hi")``
        """
        return self._engine.send_many(clients, data)

    def broadcast(self, data: Any, except_: Optional[int] = None) -> int:
        """Queue ``data`` to every client except ``except_``; returns how many got it.

        Example: ``server.broadcast(b"tick")``
        """
        return self._engine.broadcast(data, except_)

    def disconnect(self, client: int, graceful: bool = True) -> None:
        """Disconnect ``client`` (see ``libsock.Server.disconnect``).

        Example: ``server.disconnect(ev.client)``
        """
        self._engine.disconnect(client, graceful)

    def clients(self) -> list[tuple[int, Address]]:
        """The connected clients as ``(id, peer)``. Example: ``server.clients()``"""
        return self._engine.clients()

    def stats(self) -> dict[str, int]:
        """The counters (see ``libsock.Server.stats``). Example: ``server.stats()``"""
        return self._engine.stats()

    async def close(self, grace: float = 1.0) -> None:
        """Shut the server down: queued messages are delivered within ``grace`` seconds (the
        loop is blocked for at most that long plus a little). Iterators end after the
        ``closed`` event. Idempotent.

        Example: ``await server.close()``
        """
        self._release()
        self._engine.shutdown(grace)


class Client(_Door[_EngineClient]):
    """An asyncio client on the engine (auto-reconnect, send queue kept across reconnects):
    ``Client(address, **kwargs)`` takes the arguments of ``libsock.Client`` (or wraps one).

    Example::

        async with libsock.aio.Client(("127.0.0.1", 7000)) as client:
            await client.send(b"hello")
            async for ev in client:
                if ev.kind == "message":
                    print(ev.data)
    """

    def __init__(self, address: Union[_EngineClient, Any], **kwargs: Any) -> None:
        engine = address if isinstance(address, _EngineClient) else _EngineClient(address, **kwargs)
        super().__init__(engine)

    @property
    def connected(self) -> bool:
        """True while connected. Example: ``if client.connected: ...``"""
        return self._engine.connected

    @property
    def peer_address(self) -> Optional[Address]:
        """The server's address while connected. Example: ``client.peer_address``"""
        return self._engine.peer_address

    async def send(self, data: Any, *, timeout: Optional[float] = None) -> None:
        """Queue ``data``; when the queue is full, wait for room (in a worker thread, woken when
        the queue drains) up to ``timeout`` seconds (``None`` = as long as it takes), then
        ``TimeoutError``.

        Example: ``await client.send(b"hello")``
        """
        await _send_waiting(lambda **t: self._engine.send(data, **t), timeout)

    def send_nowait(self, data: Any) -> None:
        """Queue ``data`` now (``QueueFullError`` when the queue is full).

        Example: ``client.send_nowait(b"hello")``
        """
        self._engine.send(data)

    def stats(self) -> dict[str, int]:
        """The counters (see ``libsock.Client.stats``). Example: ``client.stats()``"""
        return self._engine.stats()

    async def close(self, grace: float = 1.0) -> None:
        """Close: what is queued is delivered within ``grace`` seconds while connected.
        Idempotent.

        Example: ``await client.close()``
        """
        self._release()
        self._engine.close(grace)


class DatagramServer(_Door[_EngineDatagramServer]):
    """An asyncio UDP endpoint on the engine: ``DatagramServer(address, **kwargs)`` takes the
    arguments of ``libsock.DatagramServer``.

    Example::

        async with libsock.aio.DatagramServer(("127.0.0.1", 0)) as udp:
            async for ev in udp:
                udp.send_to(ev.data, ev.peer)
    """

    def __init__(self, address: Union[_EngineDatagramServer, Any], **kwargs: Any) -> None:
        engine = (
            address
            if isinstance(address, _EngineDatagramServer)
            else _EngineDatagramServer(address, **kwargs)
        )
        super().__init__(engine)

    @property
    def address(self) -> Address:
        """The bound address. Example: ``udp.address``"""
        return self._engine.address

    def send_to(self, data: Any, address: Any) -> int:
        """Send one datagram. Example: ``udp.send_to(b"pong", ev.peer)``"""
        return self._engine.send_to(data, address)

    async def close(self) -> None:
        """Stop receiving; iterators end after the ``closed`` event.

        Example: ``await udp.close()``
        """
        self._release()
        self._engine.shutdown()


async def serve(address: Any, **kwargs: Any) -> Server:
    """Start an asyncio engine server (arguments of ``libsock.Server``).

    Example::

        server = await libsock.aio.serve(("127.0.0.1", 0), framing=libsock.Delimited(b"\\n"))
    """
    return Server(address, **kwargs)


async def connect(address: Any, **kwargs: Any) -> Client:
    """Start an asyncio engine client (arguments of ``libsock.Client``); it connects in the
    background (``connected`` event).

    Example::

        client = await libsock.aio.connect(("127.0.0.1", 7000))
    """
    return Client(address, **kwargs)
