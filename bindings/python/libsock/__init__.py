"""libsock: sockets without the traps, with a Rust core.

TCP, UDP and Unix sockets with message framing (no more "sticky packets"), a timeout on every
wait, options read back from the OS, errors that name the address, the GIL released around
every wait and Ctrl-C that works. It feels like the standard library where they overlap
(``sendall``, ``recv_into``, ``settimeout``, ``(host, port)`` tuples, context managers), and its
exceptions are the builtin ones you already catch.

Example::

    import libsock

    with libsock.listen(("127.0.0.1", 0), framing=libsock.LengthPrefixed()) as server:
        client = libsock.connect(server.address, timeout=5, framing=libsock.LengthPrefixed())
        conn, peer = server.accept(timeout=5)
        client.send_msg(b"hello")
        client.send_msg(b"world")
        assert conn.recv_msg() == b"hello"     # message boundaries kept
        assert conn.recv_msg() == b"world"

Main names: :func:`connect`, :func:`listen`, :func:`udp`, :class:`Connection`,
:class:`Listener`, :class:`Datagram`, the framings :class:`LengthPrefixed`, :class:`Delimited`,
:class:`Fixed`, :class:`Raw`, :class:`HpPack`, the event engine :class:`Server`,
:class:`Client`, :class:`DatagramServer` (events pulled in batches; ``libsock.aio`` for
asyncio), and the exceptions under :class:`Error`.
"""

from __future__ import annotations

from ._errors import (
    AddressInUseError,
    AddressNotAvailableError,
    AddrInUseError,
    AddrNotAvailableError,
    BadFrameError,
    BadHandleError,
    BrokenPipeError,
    BufferTooSmallError,
    ClosedError,
    ConnectionAbortedError,
    ConnectionRefusedError,
    ConnectionResetError,
    Error,
    FileExistsError,
    FileNotFoundError,
    FrameTooLargeError,
    InternalError,
    InterruptedError,
    InvalidArgumentError,
    IoError,
    PermissionError,
    QueueFullError,
    ResolveError,
    TimeoutError,
    TlsError,
    UnreachableError,
    UnsupportedError,
)
from ._libsock import (
    DEFAULT_MAX_LEN,
    ERROR_CODES,
    OPTION_NAMES,
    Client,
    Connection,
    Datagram,
    DatagramServer,
    Delimited,
    Event,
    FileTransfer,
    Fixed,
    Heartbeat,
    HpPack,
    KcpServer,
    KcpSession,
    LengthPrefixed,
    Listener,
    Raw,
    Server,
    TLS,
    __version__,
    connect,
    engine_shutdown,
    fingerprint,
    kcp_connect,
    listen,
    shutdown_engine,
    resolve,
    self_signed,
    udp,
)
from ._types import Address, Received
from . import aio  # noqa: E402  (libsock.aio: asyncio on the engine)

__all__ = [
    "__version__",
    "connect",
    "listen",
    "udp",
    "resolve",
    "Connection",
    "Listener",
    "Datagram",
    "FileTransfer",
    "Received",
    "Server",
    "Client",
    "DatagramServer",
    "KcpServer",
    "KcpSession",
    "kcp_connect",
    "Event",
    "Heartbeat",
    "shutdown_engine",
    "engine_shutdown",
    "Address",
    "LengthPrefixed",
    "Delimited",
    "Fixed",
    "Raw",
    "HpPack",
    "ERROR_CODES",
    "OPTION_NAMES",
    "DEFAULT_MAX_LEN",
    "Error",
    "TimeoutError",
    "ConnectionRefusedError",
    "ConnectionResetError",
    "ConnectionAbortedError",
    "BrokenPipeError",
    "FileNotFoundError",
    "FileExistsError",
    "PermissionError",
    "ClosedError",
    "AddrInUseError",
    "AddrNotAvailableError",
    "UnreachableError",
    "ResolveError",
    "InvalidArgumentError",
    "FrameTooLargeError",
    "BufferTooSmallError",
    "BadHandleError",
    "QueueFullError",
    "UnsupportedError",
    "TlsError",
    "IoError",
    "InternalError",
    "InterruptedError",
    "BadFrameError",
    "AddressInUseError",
    "AddressNotAvailableError",
    "TLS",
    "self_signed",
    "fingerprint",
]
