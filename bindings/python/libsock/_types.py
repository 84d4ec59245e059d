"""Small value types returned by libsock."""

from __future__ import annotations

from typing import NamedTuple, Tuple, Union

__all__ = ["Address", "Received"]

#: An address as libsock returns it: ``(host, port)`` for IP, ``"unix:/path"`` for Unix.
Address = Union[Tuple[str, int], str]


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
