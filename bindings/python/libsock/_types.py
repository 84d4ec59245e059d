"""Small value types returned by libsock."""

from __future__ import annotations

from typing import Any, NamedTuple

__all__ = ["Address", "Received"]

#: An address as libsock returns it: ``(host, port)`` for IP, ``"unix:/path"`` for Unix.
#: Typed as ``Any`` (like ``socket.getsockname`` in typeshed) so that ``host, port = addr``
#: type-checks for IP sockets.
Address = Any


class Received(NamedTuple):
    """One datagram from :meth:`Datagram.recv_datagram`.

    ``truncated`` is true when the datagram was longer than the buffer; ``size`` is its full
    length.

    Example::

        r = sock.recv_datagram(512)
        if r.truncated:
            print(f"{r.size - len(r.data)} bytes were cut off; sender {r.peer}")
    """

    data: bytes
    peer: Address
    truncated: bool
    size: int


Received.data.__doc__ = "The datagram's bytes (at most n). Example: ``sock.recv_datagram().data``"
Received.peer.__doc__ = "The sender's address. Example: ``sock.send_to(b'ack', r.peer)``"
Received.truncated.__doc__ = "True when the datagram was longer than n. Example: ``if r.truncated: ...``"
Received.size.__doc__ = "The datagram's full length. Example: ``lost = r.size - len(r.data)``"
