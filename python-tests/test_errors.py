"""The exception tree: every class, its builtin base, codes, errno, messages; wrong Python types
give TypeError; nothing crashes the process."""

from __future__ import annotations

import builtins
import errno
import os
import shutil
import socket
import struct
import subprocess
import sys

import pytest

import libsock
from _helpers import WAIT

# (class, builtin bases it must also be, code name)
TREE = [
    (libsock.TimeoutError, [builtins.TimeoutError], "TIMEOUT"),
    (libsock.ConnectionRefusedError, [builtins.ConnectionRefusedError, builtins.ConnectionError], "CONNECTION_REFUSED"),
    (libsock.ConnectionResetError, [builtins.ConnectionResetError, builtins.ConnectionError], "CONNECTION_RESET"),
    (libsock.ConnectionAbortedError, [builtins.ConnectionAbortedError, builtins.ConnectionError], "CONNECTION_ABORTED"),
    (libsock.BrokenPipeError, [builtins.BrokenPipeError, builtins.ConnectionError, libsock.IoError], "IO"),
    (libsock.FileNotFoundError, [builtins.FileNotFoundError, libsock.IoError], "IO"),
    (libsock.FileExistsError, [builtins.FileExistsError, libsock.IoError], "IO"),
    (libsock.PermissionError, [builtins.PermissionError, libsock.IoError], "IO"),
    (libsock.ClosedError, [], "CLOSED"),
    (libsock.AddrInUseError, [], "ADDR_IN_USE"),
    (libsock.AddrNotAvailableError, [], "ADDR_NOT_AVAILABLE"),
    (libsock.UnreachableError, [], "UNREACHABLE"),
    (libsock.ResolveError, [], "RESOLVE"),
    (libsock.InvalidArgumentError, [builtins.ValueError], "INVALID_ARGUMENT"),
    (libsock.FrameTooLargeError, [], "FRAME_TOO_LARGE"),
    (libsock.BufferTooSmallError, [], "BUFFER_TOO_SMALL"),
    (libsock.BadHandleError, [], "BAD_HANDLE"),
    (libsock.QueueFullError, [], "QUEUE_FULL"),
    (libsock.UnsupportedError, [], "UNSUPPORTED"),
    (libsock.TlsError, [], "TLS"),
    (libsock.IoError, [], "IO"),
    (libsock.InternalError, [], "INTERNAL"),
    (libsock.InterruptedError, [builtins.InterruptedError], "INTERRUPTED"),
    (libsock.BadFrameError, [], "BAD_FRAME"),
]


@pytest.mark.parametrize("cls,bases,code_name", TREE, ids=[c.__name__ for c, _, _ in TREE])
def test_every_class_is_a_libsock_error_an_oserror_and_its_builtin(cls: type, bases: list[type], code_name: str) -> None:
    assert issubclass(cls, libsock.Error)
    assert issubclass(cls, OSError)
    for b in bases:
        assert issubclass(cls, b), f"{cls.__name__} should be a {b.__name__}"
    assert cls.code == libsock.ERROR_CODES[code_name]
    e = cls("connect to 127.0.0.1:1: boom")
    assert str(e) == "connect to 127.0.0.1:1: boom"
    assert cls.__module__ == "libsock"
    assert cls.__doc__ and "Example" in cls.__doc__
    with pytest.raises(libsock.Error):
        raise e


def test_every_code_has_its_own_class_and_the_former_names_are_the_same_classes() -> None:
    """One distinct class per code (docs/NAMES.md): ``libsock._errors.CLASS_OF_CODE`` covers
    ERROR_CODES, and the renamed classes keep their former names as the same objects."""
    from libsock._errors import CLASS_OF_CODE

    assert sorted(CLASS_OF_CODE) == sorted(libsock.ERROR_CODES.values())
    assert len(set(CLASS_OF_CODE.values())) == len(libsock.ERROR_CODES)
    assert libsock.AddressInUseError is libsock.AddrInUseError
    assert libsock.AddressNotAvailableError is libsock.AddrNotAvailableError


def test_error_is_oserror_and_codes_are_stable() -> None:
    assert issubclass(libsock.Error, OSError)
    assert libsock.ERROR_CODES == {
        "TIMEOUT": -1, "CONNECTION_REFUSED": -2, "CONNECTION_RESET": -3, "CONNECTION_ABORTED": -4,
        "CLOSED": -5, "ADDR_IN_USE": -6, "ADDR_NOT_AVAILABLE": -7, "UNREACHABLE": -8, "RESOLVE": -9,
        "INVALID_ARGUMENT": -10, "FRAME_TOO_LARGE": -11, "BUFFER_TOO_SMALL": -12, "BAD_HANDLE": -13,
        "QUEUE_FULL": -14, "UNSUPPORTED": -15, "TLS": -16, "IO": -17, "INTERNAL": -18,
        "INTERRUPTED": -19, "BAD_FRAME": -20,
    }


def test_raised_errors_carry_code_errno_and_address() -> None:
    with libsock.listen(("127.0.0.1", 0)) as server:
        port = server.address[1]
        with pytest.raises(libsock.AddrInUseError) as info:
            libsock.listen(("127.0.0.1", port), reuse_address=False)
        e = info.value
        assert e.code == -6 and e.errno == 98  # EADDRINUSE
        assert str(port) in str(e)


def test_timeout_error_from_a_real_wait() -> None:
    with libsock.listen(("127.0.0.1", 0)) as server:
        with pytest.raises(TimeoutError) as info:
            server.accept(timeout=0.05)
        assert isinstance(info.value, libsock.TimeoutError)
        assert info.value.code == -1
        assert str(server.address[1]) in str(info.value)


def test_reset_by_peer() -> None:
    with libsock.listen(("127.0.0.1", 0)) as server:
        peer = socket.create_connection(server.address, timeout=WAIT)
        conn, _ = server.accept(timeout=WAIT)
        # The stdlib peer aborts: SO_LINGER (on, 0 s) makes close() send RST.
        peer.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        peer.close()
        with pytest.raises(ConnectionResetError) as info:
            conn.recv(10, timeout=WAIT)
        assert isinstance(info.value, libsock.ConnectionResetError)
        assert info.value.errno == 104  # ECONNRESET
        assert info.value.code == -3
        conn.close()


def test_broken_pipe() -> None:
    with libsock.listen(("127.0.0.1", 0)) as server:
        client = libsock.connect(server.address, timeout=WAIT)
        conn, _ = server.accept(timeout=WAIT)
        conn.close()
        with pytest.raises((BrokenPipeError, ConnectionResetError)) as info:
            for _ in range(100):
                client.sendall(b"x" * 65536)
        assert isinstance(info.value, libsock.Error)
        if isinstance(info.value, BrokenPipeError):
            assert info.value.errno == 32
        client.close()


def test_resolve_error() -> None:
    with pytest.raises(libsock.ResolveError) as info:
        libsock.connect(("no-such-host.invalid", 80), timeout=WAIT)
    assert "no-such-host.invalid" in str(info.value)
    assert info.value.code == -9


def test_unsupported_option_for_the_socket_kind(tmp_sock_dir: str) -> None:
    path = f"unix:{tmp_sock_dir}/s"
    with libsock.listen(path) as server:
        c = libsock.connect(path, timeout=WAIT)
        with pytest.raises(libsock.UnsupportedError):
            c.set_option("ttl", 10)
        c.close()
        server.accept(timeout=WAIT)[0].close()


@pytest.mark.parametrize(
    "address",
    ["localhost", "host:port", "host:70000", "[::1:80", "unix:", "[nothex]:80", ("h", 70000), ("", -1)],
)
def test_malformed_addresses_are_value_errors(address: object) -> None:
    with pytest.raises(ValueError) as info:
        libsock.connect(address, timeout=1)  # type: ignore[arg-type]
    assert isinstance(info.value, libsock.InvalidArgumentError)


@pytest.mark.parametrize("address", [None, 80, 1.5, b"127.0.0.1:80", ("h",), ("h", "80"), (1, 2), ("h", True)])
def test_wrong_address_types_are_type_errors(address: object) -> None:
    with pytest.raises(TypeError):
        libsock.connect(address)  # type: ignore[arg-type]


def test_wrong_types_and_values_everywhere(pair: tuple[libsock.Connection, libsock.Connection]) -> None:
    client, _ = pair
    with pytest.raises(TypeError):
        client.send("text")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        client.sendall(12)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        client.recv("10")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        client.recv(-1)
    with pytest.raises(TypeError):
        client.settimeout("1")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        client.settimeout(-1)
    with pytest.raises(ValueError):
        client.settimeout(float("nan"))
    with pytest.raises(ValueError):
        client.recv(1, timeout=-0.5)
    with pytest.raises(TypeError):
        client.set_option("nodelay", "yes")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        client.set_option("no_such_option", 1)
    with pytest.raises(ValueError):
        client.set_option("nodelay", 2)
    with pytest.raises(TypeError):
        client.get_option(3.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        client.shutdown("sideways")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        client.shutdown(b"write")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        client.recv_into(bytearray(2), 5)
    with pytest.raises(ValueError):
        client.recv_until(b"", 10)
    with pytest.raises(TypeError):
        libsock.connect(("127.0.0.1", 1), not_an_option=True)
    with pytest.raises(TypeError):
        libsock.listen(("127.0.0.1", 0), nodelay="on")
    with pytest.raises(ValueError):
        libsock.listen(("127.0.0.1", 0), backlog=-1)
    with pytest.raises(TypeError):
        libsock.udp(("127.0.0.1", 0)).join_multicast("239.1.2.3", interface=1.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        libsock.Listener()  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        libsock.Datagram()  # type: ignore[call-arg]
    # Still alive and working.
    client.sendall(b"ok")


def test_sendfile_of_a_missing_file_names_it(pair: tuple[libsock.Connection, libsock.Connection]) -> None:
    client, _ = pair
    with pytest.raises(FileNotFoundError) as info:  # the builtin: libsock's is one
        client.send_file("/no/such/file")
    assert isinstance(info.value, libsock.FileNotFoundError)
    assert info.value.errno == errno.ENOENT and "/no/such/file" in str(info.value)


def test_connect_to_a_missing_unix_path_is_file_not_found(tmp_sock_dir: str) -> None:
    path = os.path.join(tmp_sock_dir, "nobody.sock")
    with pytest.raises(FileNotFoundError) as info:  # the builtin: libsock's is one
        libsock.connect("unix:" + path, timeout=WAIT)
    e = info.value
    assert isinstance(e, libsock.FileNotFoundError) and isinstance(e, libsock.IoError)
    assert e.errno == errno.ENOENT and e.code == libsock.ERROR_CODES["IO"]
    assert path in str(e)


BIND_IN_READ_ONLY_DIR = """
import errno, os, sys, libsock
d = sys.argv[1]
os.chmod(d, 0o555)
try:
    libsock.listen("unix:" + os.path.join(d, "s.sock"))
except PermissionError as e:  # the builtin: libsock's is one
    assert isinstance(e, libsock.PermissionError) and isinstance(e, libsock.IoError), type(e)
    assert e.errno == errno.EACCES and e.code == libsock.ERROR_CODES["IO"], (e.errno, e.code)
    print("PermissionError", e)
else:
    sys.exit("bound a Unix socket in a read-only directory")
"""


def test_binding_a_unix_path_in_a_read_only_directory_is_permission_error(tmp_sock_dir: str) -> None:
    """EACCES. root may write anywhere (CAP_DAC_OVERRIDE), so as root the check runs in a child
    that keeps uid 0 but drops every capability (setpriv)."""
    cmd = [sys.executable, "-c", BIND_IN_READ_ONLY_DIR, tmp_sock_dir]
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root and setpriv (util-linux) is not installed")
        cmd = [setpriv, "--inh-caps=-all", "--bounding-set=-all", *cmd]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.startswith("PermissionError") and "denied" in r.stdout


def test_broadcast_without_the_broadcast_option_is_permission_error() -> None:
    with libsock.udp(("0.0.0.0", 0)) as d:
        try:
            d.send_to(b"x", ("255.255.255.255", 9))
        except PermissionError as e:  # EACCES: the broadcast option is off
            assert isinstance(e, libsock.PermissionError) and e.errno == errno.EACCES
        except libsock.Error as e:
            pytest.skip(f"no route for a broadcast here: {e}")
        else:
            pytest.fail("a broadcast without broadcast=True was sent")


def test_ipv6_refused_names_the_address() -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6")
    s = socket.socket(socket.AF_INET6)
    try:
        s.bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback")
    port = s.getsockname()[1]
    s.close()
    with pytest.raises(ConnectionRefusedError) as info:
        libsock.connect(f"[::1]:{port}", timeout=WAIT)
    assert f"[::1]:{port}" in str(info.value)


@pytest.mark.parametrize(
    "call",
    [
        lambda: libsock.LengthPrefixed(width=300),
        lambda: libsock.LengthPrefixed(offset=-1),
        lambda: libsock.LengthPrefixed(max_len=2**80),
        lambda: libsock.Delimited(max_len=-5),
        lambda: libsock.Fixed(-3),
        lambda: libsock.HpPack(flag=2**20),
        lambda: libsock.connect(("127.0.0.1", 2**70)),
        lambda: libsock.listen(("127.0.0.1", 0), backlog=2**40),
        lambda: libsock.resolve("localhost", 70000),
        lambda: libsock.Connection.pair()[0].recv(2**70),
        lambda: libsock.Connection.pair()[0].recv_exact(-1),
        lambda: libsock.Connection.pair()[0].recv_exactly(-1),  # the former name
        lambda: libsock.Connection.pair()[0].send_file("/dev/null", offset=-1),
        lambda: libsock.Connection.pair()[0].recv_file("/dev/null", -1),
        lambda: libsock.Connection.pair()[0].recvfile("/dev/null", -1),  # the former name
        lambda: libsock.Datagram.pair()[0].recv(-1),
        lambda: libsock.Datagram.pair()[0].recv_many(0),
    ],
)
def test_out_of_range_numbers_are_value_errors(call) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError) as info:
        call()
    assert isinstance(info.value, libsock.InvalidArgumentError)
