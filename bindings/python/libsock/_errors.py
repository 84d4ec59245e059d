"""The libsock exception tree.

Every error libsock raises is a :class:`libsock.Error`, which is an :class:`OSError`. Each kind is
*also* the builtin exception a Python programmer already catches, so existing ``except`` clauses
keep working::

    try:
        conn = libsock.connect(("127.0.0.1", 9), timeout=1)
    except ConnectionRefusedError as e:      # builtin: libsock's subclass is caught too
        print(e.code, e.errno, e)            # -2 111 connect to 127.0.0.1:9: ...

``code`` is libsock's stable negative error code (the same number in every language, see
``libsock.ERROR_CODES``), ``errno`` the OS error number where the OS gave one, and the message
is core's (the same text in every language door), naming the operation and the address.

Each of the 20 codes has its own class, named after the code's name in CamelCase with
``Error`` (``ADDR_IN_USE`` -> ``AddrInUseError``; docs/NAMES.md lists every door's names).
``AddressInUseError`` and ``AddressNotAvailableError``, the former names, are the same classes.
"""

from __future__ import annotations

import builtins
from typing import Optional

__all__ = [
    "Error",
    "TimeoutError",
    "ConnectionRefusedError",
    "ConnectionResetError",
    "ConnectionAbortedError",
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
    "BrokenPipeError",
    "FileNotFoundError",
    "FileExistsError",
    "PermissionError",
    "AddressInUseError",
    "AddressNotAvailableError",
]


class Error(OSError):
    """Base class of every libsock error; an :class:`OSError`.

    Attributes: ``code`` (libsock's stable negative code), ``errno`` (the OS error number, or
    ``None``). ``str(e)`` names the operation and the address.

    Example::

        try:
            conn.recv_msg(timeout=1)
        except libsock.Error as e:
            print(e.code, e.errno, e)
    """

    #: libsock's stable error code (``libsock.ERROR_CODES``); -17 is a plain I/O error.
    code: int = -17


class TimeoutError(Error, builtins.TimeoutError):
    """A wait ran out of time (code -1). Also a builtin :class:`TimeoutError`.

    Nothing received is lost: partial data stays buffered for the next call.

    Example::

        try:
            data = conn.recv(1024, timeout=0.2)
        except TimeoutError:          # the builtin name catches it
            pass
    """

    code = -1


class ConnectionRefusedError(Error, builtins.ConnectionRefusedError):
    """Nobody listens at the address (code -2). Also a builtin :class:`ConnectionRefusedError`.

    Example::

        with pytest.raises(ConnectionRefusedError):
            libsock.connect(("127.0.0.1", 9))
    """

    code = -2


class ConnectionResetError(Error, builtins.ConnectionResetError):
    """The peer reset the connection (code -3). Also a builtin :class:`ConnectionResetError`.

    Example::

        except ConnectionResetError: reconnect()
    """

    code = -3


class ConnectionAbortedError(Error, builtins.ConnectionAbortedError):
    """The connection was aborted (code -4). Also a builtin :class:`ConnectionAbortedError`.

    Example::

        except ConnectionAbortedError: reconnect()
    """

    code = -4


class ClosedError(Error):
    """The peer finished sending (orderly close) where data was required, or this object was
    closed, possibly from another thread while a call was blocked (code -5).

    ``recv`` returns ``b""`` at end of stream like the stdlib; ``recv_msg``, ``recv_exact``
    and ``recv_until`` raise ``ClosedError``.

    Example::

        try:
            while True:
                handle(conn.recv_msg())
        except libsock.ClosedError:
            pass
    """

    code = -5


class AddrInUseError(Error):
    """The local address is taken (code -6, ``ADDR_IN_USE``), e.g. another server on the port.
    ``AddressInUseError`` (its former name) is the same class.

    Example::

        except libsock.AddrInUseError: port += 1
    """

    code = -6


class AddrNotAvailableError(Error):
    """The local address is not on this host (code -7, ``ADDR_NOT_AVAILABLE``).
    ``AddressNotAvailableError`` (its former name) is the same class.

    Example::

        except libsock.AddrNotAvailableError: ...
    """

    code = -7


#: The former name of :class:`AddrInUseError` (the same class).
AddressInUseError = AddrInUseError
#: The former name of :class:`AddrNotAvailableError` (the same class).
AddressNotAvailableError = AddrNotAvailableError


class UnreachableError(Error):
    """The network or host is unreachable (code -8).

    Example::

        except libsock.UnreachableError: ...
    """

    code = -8


class ResolveError(Error):
    """A host name could not be resolved (code -9).

    Example::

        except libsock.ResolveError as e: print("no such host:", e)
    """

    code = -9


class InvalidArgumentError(Error, ValueError):
    """A malformed or out-of-range argument (code -10): a bad address, a negative timeout, a
    framing that makes no sense. Also a :class:`ValueError`.

    Example::

        with pytest.raises(ValueError):
            libsock.connect("no-port-here")
    """

    code = -10


class FrameTooLargeError(Error):
    """A frame larger than the framing's ``max_len`` (code -11). Nothing of the claimed size
    was allocated.

    Example::

        except libsock.FrameTooLargeError: conn.close()
    """

    code = -11


class BufferTooSmallError(Error):
    """The caller's buffer cannot hold the message (code -12); ``needed`` is its size. The
    message stays queued for the next call.

    Example::

        try:
            n = conn.recv_msg_into(buf)
        except libsock.BufferTooSmallError as e:
            buf = bytearray(e.needed)
            n = conn.recv_msg_into(buf)
    """

    code = -12
    #: Bytes the message needs.
    needed: Optional[int] = None


class BadHandleError(Error):
    """An unknown, closed or foreign handle (code -13). The C-style doors (C, Pascal, MATLAB,
    Java) raise it for a handle used after close; Python objects have no handles, so libsock
    raises :class:`ClosedError` there instead, and this class exists so that every code has
    its class in every language.

    Example::

        except libsock.BadHandleError: ...
    """

    code = -13


class UnsupportedError(Error):
    """The operation or option does not exist on this OS or this kind of socket (code -15).

    Example::

        except libsock.UnsupportedError: pass   # e.g. tcp_user_timeout on a Unix socket
    """

    code = -15


class QueueFullError(Error):
    """A bounded queue is full (code -14): ``Server.send`` to a client whose send queue holds
    ``send_queue_bytes`` already (with ``send_policy="error"``), or ``Client.send`` while its
    queue is full. Nothing was queued; try again later or disconnect the slow peer.

    Example::

        try:
            server.send(client, data)
        except libsock.QueueFullError:
            server.disconnect(client)
    """

    code = -14


class TlsError(Error):
    """A TLS handshake or certificate failure, or a peer that closed without close_notify; the
    message names the reason (unknown CA, name mismatch, expired, pin mismatch, protocol
    version, not TLS, truncation).

    Example::

        try:
            conn = libsock.connect(("example.com", 443), tls=True)
        except libsock.TlsError as e:
            print("TLS failed:", e)
    """

    code = -16


class IoError(Error):
    """Any other OS error (code -17, ``IO``); ``errno`` says which.

    Example::

        except libsock.IoError as e: print(e.errno, e)
    """

    code = -17


class BrokenPipeError(IoError, builtins.BrokenPipeError):
    """Sending on a connection the peer has closed (errno EPIPE; code -17, an
    :class:`IoError`). Also a builtin :class:`BrokenPipeError`.

    Example::

        except BrokenPipeError: print("peer went away")
    """

    code = -17


class FileNotFoundError(IoError, builtins.FileNotFoundError):
    """A path that does not exist (errno ENOENT; code -17, an :class:`IoError`), e.g. connecting
    to a Unix socket path nobody listens on. Also a builtin :class:`FileNotFoundError`.

    Example::

        try:
            conn = libsock.connect("unix:/run/app.sock")
        except FileNotFoundError:
            print("the server is not running")
    """

    code = -17


class FileExistsError(IoError, builtins.FileExistsError):
    """A file that exists where one would be made (errno EEXIST; code -17, an :class:`IoError`),
    e.g. a ``FileTransfer.receiver`` whose file exists, without ``overwrite=True``, and the
    sender it refuses. Also a builtin :class:`FileExistsError`.

    Example::

        try:
            libsock.FileTransfer.receiver("out.bin").run(conn)
        except FileExistsError:
            print("out.bin is there already")
    """

    code = -17


class PermissionError(IoError, builtins.PermissionError):
    """The OS refused the operation (errno EACCES or EPERM; code -17, an :class:`IoError`), e.g.
    binding a Unix socket in a directory one may not write to, or sending to a broadcast address
    without ``broadcast=True``. Also a builtin :class:`PermissionError`.

    Example::

        except PermissionError as e: print("not allowed:", e)
    """

    code = -17


class InternalError(Error):
    """A bug inside libsock (code -18): a caught panic or a poisoned lock. Please report it.

    Example::

        except libsock.InternalError as e: log.exception(e)
    """

    code = -18


class InterruptedError(Error, builtins.InterruptedError):
    """A wait was interrupted (code -19). Ctrl-C raises :class:`KeyboardInterrupt` instead.

    Example::

        except InterruptedError: retry()
    """

    code = -19


class BadFrameError(Error):
    """The peer sent a malformed frame (code -20): it breaks the framing's rules, e.g. a wrong
    HP-Socket PACK flag or a length that the adjustment makes negative. The stream cannot be
    resynchronised: close the connection. ``errno`` is EBADMSG. Like ``FrameTooLargeError``, an
    :class:`OSError` through :class:`libsock.Error` only (the data came from the peer, not from
    the caller, so it is no ``ValueError``).

    Example::

        try:
            msg = conn.recv_msg()
        except libsock.BadFrameError:
            conn.close()    # a peer speaking another protocol
    """

    code = -20


#: The class of each error code (``libsock.ERROR_CODES`` gives the codes by name).
CLASS_OF_CODE: dict[int, type[Error]] = {
    cls.code: cls
    for cls in (
        TimeoutError,
        ConnectionRefusedError,
        ConnectionResetError,
        ConnectionAbortedError,
        ClosedError,
        AddrInUseError,
        AddrNotAvailableError,
        UnreachableError,
        ResolveError,
        InvalidArgumentError,
        FrameTooLargeError,
        BufferTooSmallError,
        BadHandleError,
        QueueFullError,
        UnsupportedError,
        TlsError,
        IoError,
        InternalError,
        InterruptedError,
        BadFrameError,
    )
}

# Show the classes as libsock.X in tracebacks and reprs (they are re-exported there).
for _name in __all__:
    globals()[_name].__module__ = "libsock"
del _name
