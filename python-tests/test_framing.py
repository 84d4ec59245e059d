"""Every framing against a stdlib peer that builds and parses frames by hand (struct, bytes),
in both directions, plus the framing objects themselves."""

from __future__ import annotations

import errno
import os
import socket
import struct
from typing import Callable

import pytest

import libsock
from _helpers import WAIT, recv_all, recv_n, stdlib_server

MESSAGES = [b"", b"a", b"hello world", os.urandom(300), os.urandom(70_000)]


def exchange(
    framing: object,
    to_wire: Callable[[bytes], bytes],
    parse_one: Callable[[socket.socket], bytes],
    messages: list[bytes],
) -> None:
    """libsock sends ``messages`` with send_msg; the stdlib peer parses them by hand with
    ``parse_one``, then sends them back built by hand with ``to_wire``, dribbled in odd-sized
    pieces; libsock must get them back with recv_msg, boundaries kept."""

    def peer(conn: socket.socket) -> list[bytes]:
        got = [parse_one(conn) for _ in messages]
        wire = b"".join(to_wire(m) for m in got)
        for i in range(0, len(wire), 4093):
            conn.sendall(wire[i : i + 4093])
        recv_all(conn)
        return got

    with stdlib_server(peer) as (addr, p):
        conn = libsock.connect(addr, timeout=WAIT, framing=framing)  # type: ignore[arg-type]
        for m in messages:
            conn.send_msg(m)
        back = [conn.recv_msg() for _ in messages]
        conn.close()
        assert p.join() == messages  # parsed by hand on the other side
        assert back == messages


@pytest.mark.parametrize("width,code", [(1, "B"), (2, "H"), (4, "I"), (8, "Q")])
@pytest.mark.parametrize("byteorder,prefix", [("big", ">"), ("little", "<")])
def test_length_prefixed_widths_and_byte_orders(width: int, code: str, byteorder: str, prefix: str) -> None:
    msgs = [m for m in MESSAGES if len(m) < (1 << (8 * width))]
    fmt = prefix + code

    def parse(conn: socket.socket) -> bytes:
        (n,) = struct.unpack(fmt, recv_n(conn, width))
        return recv_n(conn, n)

    exchange(
        libsock.LengthPrefixed(width=width, byteorder=byteorder),
        lambda m: struct.pack(fmt, len(m)) + m,
        parse,
        msgs,
    )


def test_length_prefixed_offset_header_len_and_adjustment() -> None:
    """A 6-byte header: 2 magic bytes, then a big-endian u32 length that counts the whole frame
    (header included), so the body is field - 6."""
    f = libsock.LengthPrefixed(width=4, offset=2, header_len=6, adjustment=-6)

    def parse(conn: socket.socket) -> bytes:
        h = recv_n(conn, 6)
        (total,) = struct.unpack(">I", h[2:6])
        return recv_n(conn, total - 6)

    # On send the encoder writes zeros for the bytes around the field (no keep_header).
    exchange(f, lambda m: b"\x00\x00" + struct.pack(">I", len(m) + 6) + m, parse, MESSAGES)


def test_length_prefixed_keep_header_delivers_and_expects_the_header() -> None:
    f = libsock.LengthPrefixed(width=2, offset=1, header_len=3, keep_header=True)

    def peer(conn: socket.socket) -> bytes:
        h = recv_n(conn, 3)
        (n,) = struct.unpack(">H", h[1:3])
        body = recv_n(conn, n)
        conn.sendall(b"\x07" + struct.pack(">H", 5) + b"abcde")
        recv_all(conn)
        return h + body

    with stdlib_server(peer) as (addr, p):
        conn = libsock.connect(addr, timeout=WAIT, framing=f)
        # The message carries its header; the encoder fills in the length field.
        conn.send_msg(b"\x09\x00\x00" + b"xyz")
        assert conn.recv_msg() == b"\x07\x00\x05abcde"
        conn.close()
        assert p.join() == b"\x09\x00\x03xyz"


def test_length_prefixed_flag_bits() -> None:
    """A 16-bit field whose top 4 bits are a version flag (0xA) and low 12 bits the length."""
    f = libsock.LengthPrefixed(width=2, length_bits=12, flag=0xA)
    msgs = [b"", b"abc", os.urandom(4095)]

    def parse(conn: socket.socket) -> bytes:
        (v,) = struct.unpack(">H", recv_n(conn, 2))
        assert v >> 12 == 0xA
        return recv_n(conn, v & 0xFFF)

    exchange(f, lambda m: struct.pack(">H", 0xA000 | len(m)) + m, parse, msgs)


def test_hp_pack_matches_hp_socket_header() -> None:
    flag = 0x2A5
    msgs = [b"", b"ping", os.urandom(100_000)]

    def parse(conn: socket.socket) -> bytes:
        (v,) = struct.unpack("<I", recv_n(conn, 4))
        assert v >> 22 == flag
        return recv_n(conn, v & 0x3FFFFF)

    exchange(libsock.HpPack(flag=flag), lambda m: struct.pack("<I", (flag << 22) | len(m)) + m, parse, msgs)


def test_hp_pack_wrong_flag_is_an_error() -> None:
    def peer(conn: socket.socket) -> None:
        conn.sendall(struct.pack("<I", (1 << 22) | 2) + b"hi")
        recv_all(conn)

    with stdlib_server(peer) as (addr, p):
        conn = libsock.connect(addr, timeout=WAIT, framing=libsock.HpPack(flag=2))
        # Its own kind (BAD_FRAME, -20), no longer the generic I/O error; errno EBADMSG.
        with pytest.raises(libsock.BadFrameError) as info:
            conn.recv_msg()
        e = info.value
        assert e.code == libsock.ERROR_CODES["BAD_FRAME"] == -20
        assert e.errno == errno.EBADMSG
        assert isinstance(e, libsock.Error) and not isinstance(e, ValueError)
        conn.close()
        p.join()


@pytest.mark.parametrize("delimiter", [b"\n", b"\r\n", b"\x00", b"<END>"])
def test_delimited(delimiter: bytes) -> None:
    msgs = [b"", b"one", b"two words", b"x" * 50_000]

    def parse(conn: socket.socket) -> bytes:
        buf = b""
        while not buf.endswith(delimiter):
            buf += recv_n(conn, 1)
        return buf[: -len(delimiter)]

    exchange(libsock.Delimited(delimiter), lambda m: m + delimiter, parse, msgs)


def test_delimited_keep_delimiter_and_str_delimiter() -> None:
    f = libsock.Delimited("\r\n", keep_delimiter=True)
    assert f.delimiter == b"\r\n"

    def peer(conn: socket.socket) -> bytes:
        conn.sendall(b"a\r\nbc\r\n")
        return recv_n(conn, 5)

    with stdlib_server(peer) as (addr, p):
        conn = libsock.connect(addr, timeout=WAIT, framing=f)
        assert conn.recv_msg() == b"a\r\n"
        assert conn.recv_msg() == b"bc\r\n"
        conn.send_msg(b"xyz")  # the delimiter is added on send
        assert p.join() == b"xyz\r\n"
        conn.close()


def test_delimited_message_containing_the_delimiter_is_refused(pair: tuple[libsock.Connection, libsock.Connection]) -> None:
    client, _ = pair
    client.framing = libsock.Delimited(b"\n")
    with pytest.raises(ValueError):
        client.send_msg(b"two\nlines")


def test_fixed() -> None:
    msgs = [os.urandom(16) for _ in range(50)]
    exchange(libsock.Fixed(16), lambda m: m, lambda conn: recv_n(conn, 16), msgs)


def test_fixed_wrong_size_is_refused(pair: tuple[libsock.Connection, libsock.Connection]) -> None:
    client, _ = pair
    client.framing = libsock.Fixed(4)
    with pytest.raises(libsock.InvalidArgumentError):
        client.send_msg(b"12345")


def test_raw_delivers_what_arrives() -> None:
    def peer(conn: socket.socket) -> bytes:
        conn.sendall(b"abc")
        return recv_n(conn, 3)

    with stdlib_server(peer) as (addr, p):
        conn = libsock.connect(addr, timeout=WAIT, framing=libsock.Raw())
        assert conn.recv_msg() == b"abc"
        conn.send_msg(b"xyz")
        assert p.join() == b"xyz"
        with pytest.raises(libsock.ClosedError):
            conn.recv_msg()
        conn.close()


def test_iteration_yields_messages_until_the_peer_closes() -> None:
    def peer(conn: socket.socket) -> None:
        conn.sendall(b"".join(struct.pack(">I", len(m)) + m for m in (b"1", b"22", b"333")))

    with stdlib_server(peer) as (addr, p):
        conn = libsock.connect(addr, timeout=WAIT, framing=libsock.LengthPrefixed())
        assert list(conn) == [b"1", b"22", b"333"]
        conn.close()
        p.join()


def test_recv_msgs_batches(pair: tuple[libsock.Connection, libsock.Connection]) -> None:
    client, server = pair
    client.framing = server.framing = libsock.LengthPrefixed(width=2)
    for i in range(100):
        client.send_msg(str(i).encode())
    got: list[bytes] = []
    while len(got) < 100:
        batch = server.recv_msgs(64)
        assert 1 <= len(batch) <= 64
        got += batch
    assert got == [str(i).encode() for i in range(100)]


def test_switching_framing_keeps_buffered_bytes(pair: tuple[libsock.Connection, libsock.Connection]) -> None:
    client, server = pair
    client.sendall(b"HELLO\n" + struct.pack(">H", 3) + b"abc")
    server.framing = libsock.Delimited(b"\n")
    assert server.recv_msg() == b"HELLO"
    server.framing = libsock.LengthPrefixed(width=2)
    assert server.recv_msg() == b"abc"


def test_frame_too_large_on_send(pair: tuple[libsock.Connection, libsock.Connection]) -> None:
    client, _ = pair
    client.framing = libsock.LengthPrefixed(width=1)
    with pytest.raises(libsock.FrameTooLargeError):
        client.send_msg(b"x" * 256)
    client.framing = libsock.LengthPrefixed(max_len=10)
    with pytest.raises(libsock.FrameTooLargeError):
        client.send_msg(b"x" * 11)


def test_listener_gives_its_framing_and_timeout_to_accepted_connections() -> None:
    f = libsock.Delimited(b"\r\n", max_len=100)
    with libsock.listen(("127.0.0.1", 0), framing=f, timeout=1.5) as server:
        assert server.framing == f and server.timeout == 1.5
        c = libsock.connect(server.address)
        conn, _ = server.accept(timeout=WAIT)
        assert conn.framing == f
        assert conn.timeout == 1.5
        server.framing = libsock.Fixed(3)
        server.timeout = None
        c2 = libsock.connect(server.address)
        conn2, _ = server.accept(timeout=WAIT)
        assert conn2.framing == libsock.Fixed(3) and conn2.timeout is None
        for x in (c, conn, c2, conn2):
            x.close()


# ---------------------------------------------------------------------------------------------
# The framing objects themselves.


def test_reprs_show_parameters() -> None:
    assert repr(libsock.LengthPrefixed()) == (
        "LengthPrefixed(width=4, byteorder='big', offset=0, header_len=4, adjustment=0, "
        "max_len=16777216, length_bits=32, flag=0, keep_header=False)"
    )
    assert repr(libsock.Delimited(b"\r\n", max_len=10)) == (
        "Delimited(delimiter=b'\\r\\n', max_len=10, keep_delimiter=False)"
    )
    assert repr(libsock.Fixed(8)) == "Fixed(8)"
    assert repr(libsock.Raw()) == "Raw()"
    assert repr(libsock.HpPack(flag=5)) == "HpPack(flag=0x5, max_len=4194303)"


def test_parameters_read_back_and_equality() -> None:
    f = libsock.LengthPrefixed(width=2, byteorder="little", offset=1, header_len=5, adjustment=-1, max_len=100)
    assert (f.width, f.byteorder, f.offset, f.header_len, f.adjustment, f.max_len, f.length_bits, f.flag, f.keep_header) == (
        2, "little", 1, 5, -1, 100, 16, 0, False,
    )
    assert f == libsock.LengthPrefixed(width=2, byteorder="little", offset=1, header_len=5, adjustment=-1, max_len=100)
    assert f != libsock.LengthPrefixed()
    assert libsock.Delimited() == libsock.Delimited(b"\n")
    assert libsock.Delimited().max_len == libsock.DEFAULT_MAX_LEN == 16 * 1024 * 1024
    assert libsock.Raw() == libsock.Raw()
    assert libsock.Fixed(3).size == 3
    h = libsock.HpPack(flag=1, max_len=1000)
    assert (h.flag, h.max_len) == (1, 1000)


def test_encode_builds_the_wire_form() -> None:
    assert libsock.LengthPrefixed(width=2).encode(b"hi") == b"\x00\x02hi"
    assert libsock.LengthPrefixed(byteorder="little").encode(b"hi") == b"\x02\x00\x00\x00hi"
    assert libsock.Delimited(b"\r\n").encode(bytearray(b"x")) == b"x\r\n"
    assert libsock.Fixed(2).encode(memoryview(b"ab")) == b"ab"
    assert libsock.Raw().encode(b"raw") == b"raw"
    assert libsock.HpPack(flag=0x2A5).encode(b"hi") == struct.pack("<I", (0x2A5 << 22) | 2) + b"hi"


@pytest.mark.parametrize(
    "make",
    [
        lambda: libsock.LengthPrefixed(width=3),
        lambda: libsock.LengthPrefixed(byteorder="middle"),
        lambda: libsock.LengthPrefixed(offset=2, header_len=3),
        lambda: libsock.LengthPrefixed(header_len=100),
        lambda: libsock.LengthPrefixed(width=1, length_bits=9),
        lambda: libsock.LengthPrefixed(width=1, length_bits=4, flag=16),
        lambda: libsock.Delimited(b""),
        lambda: libsock.Fixed(0),
        lambda: libsock.HpPack(flag=1024),
        lambda: libsock.HpPack(max_len=1 << 22),
    ],
)
def test_bad_parameters_are_value_errors(make: Callable[[], object]) -> None:
    with pytest.raises(ValueError) as info:
        make()
    assert isinstance(info.value, libsock.InvalidArgumentError)


def test_wrong_types_are_type_errors(pair: tuple[libsock.Connection, libsock.Connection]) -> None:
    client, _ = pair
    with pytest.raises(TypeError):
        libsock.LengthPrefixed(width="4")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        libsock.Delimited(12)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        client.framing = "lines"  # type: ignore[assignment]
    with pytest.raises(TypeError):
        libsock.connect(("127.0.0.1", 1), framing=42)  # type: ignore[arg-type]
    client.framing = None  # type: ignore[assignment]
    assert client.framing == libsock.Raw()


def test_send_msgs_sends_many_frames_in_few_calls() -> None:
    """send_msgs: 3000 frames (more than one vectored write holds, some large enough for
    partial writes), parsed by hand by a stdlib peer."""
    msgs = [os.urandom(i % 5 * 40_000 if i % 100 == 0 else i % 50) for i in range(3000)]

    def peer(conn: socket.socket) -> list[bytes]:
        out = []
        for _ in msgs:
            (n,) = struct.unpack(">I", recv_n(conn, 4))
            out.append(recv_n(conn, n))
        return out

    with stdlib_server(peer) as (addr, p):
        conn = libsock.connect(addr, timeout=WAIT, framing=libsock.LengthPrefixed())
        conn.send_msgs(msgs)
        conn.send_msgs([])  # nothing to do
        assert p.join() == msgs
        conn.close()


def test_send_msgs_checks_every_message_before_sending(pair: tuple[libsock.Connection, libsock.Connection]) -> None:
    client, server = pair
    client.framing = server.framing = libsock.LengthPrefixed(max_len=10)
    with pytest.raises(libsock.FrameTooLargeError):
        client.send_msgs([b"ok", b"x" * 11, b"ok"])
    with pytest.raises(TypeError):
        client.send_msgs([b"ok", "text"])  # type: ignore[list-item]
    client.send_msgs(iter([b"a", b"b"]))
    assert server.recv_msgs(10, timeout=WAIT)[0] == b"a"  # nothing from the refused batches
