"""The file protocol of ``libsock send-file``/``recv-file`` (LSF1 and LSF2) written with the
standard library only (``socket``, ``hashlib``; ``ssl`` sockets work too): the implementation
the CLI had before the protocol moved into core, kept as an independent peer for the interop
tests of ``libsock.FileTransfer`` (python-tests/test_transfer.py). No libsock code.

``send(sock, path, version=2, upto=None)`` sends a file (``upto``: stop after that many file
bytes and return, to make a broken transfer); ``recv(sock, out, overwrite, resume)`` receives
one. Both return a dict (``resumed_at``, ``sha256``, ``ok``) or raise ``PeerError``.
"""

from __future__ import annotations

import hashlib
import os
import socket
import struct
from typing import IO, Any, Optional, Tuple

MAGIC1 = b"LSF1"
MAGIC2 = b"LSF2"
REPLY2 = b"LSR2"
HEADER = struct.Struct(">4sQH")
REPLY = struct.Struct(">4sBQ32s")
START = struct.Struct(">Q")
CHUNK = 1 << 20
PART_SUFFIX = ".libsock-part"


class PeerError(Exception):
    """The protocol failed (refused, closed, mismatch); the message says how."""


def _exact(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise PeerError("closed after %d of %d bytes" % (len(data), n))
        data += chunk
    return data


def _hash_prefix(f: IO[bytes], n: int) -> Tuple[Any, int]:
    digest = hashlib.sha256()
    f.seek(0)
    left = n
    while left > 0:
        data = f.read(min(CHUNK, left))
        if not data:
            break
        digest.update(data)
        left -= len(data)
    return digest, n - left


def send(sock: socket.socket, path: str, version: int = 2, upto: Optional[int] = None) -> dict:
    size = os.path.getsize(path)
    name = os.path.basename(path).encode()
    digest = hashlib.sha256()
    start_at = 0
    with open(path, "rb") as f:
        sock.sendall(HEADER.pack(MAGIC2 if version == 2 else MAGIC1, size, len(name)) + name)
        if version == 2:
            magic, status, offset, theirs = REPLY.unpack(_exact(sock, REPLY.size))
            if magic != REPLY2:
                raise PeerError("bad reply %r" % magic)
            if status == 1:
                raise PeerError("refused: the file exists")
            if 0 < offset <= size:
                d, have = _hash_prefix(f, offset)
                if have == offset and d.digest() == theirs:
                    start_at, digest = offset, d
            sock.sendall(START.pack(start_at))
        f.seek(start_at)
        sent = start_at
        while sent < size:
            want = min(CHUNK, size - sent)
            if upto is not None:
                want = min(want, upto - sent)
                if want <= 0:
                    return {"resumed_at": start_at, "sha256": "", "ok": False}
            data = f.read(want)
            sock.sendall(data)
            digest.update(data)
            sent += len(data)
    sock.sendall(digest.digest())
    verdict = _exact(sock, 1)
    return {"resumed_at": start_at, "sha256": digest.hexdigest(), "ok": verdict == b"\0"}


def recv(sock: socket.socket, out: str, overwrite: bool = False, resume: bool = False) -> dict:
    magic, size, name_len = HEADER.unpack(_exact(sock, HEADER.size))
    if magic not in (MAGIC1, MAGIC2):
        raise PeerError("bad header %r" % magic)
    name = _exact(sock, name_len).decode() if name_len else "received.bin"
    out_path = os.path.join(out, os.path.basename(name)) if os.path.isdir(out) else out
    part_path = out_path + PART_SUFFIX
    v2 = magic == MAGIC2
    if os.path.lexists(out_path) and not overwrite:
        if v2:
            sock.sendall(REPLY.pack(REPLY2, 1, 0, b"\0" * 32))
        raise PeerError("%s exists" % out_path)
    offset = 0
    with open(part_path, "r+b" if resume and os.path.exists(part_path) else "w+b") as f:
        digest = hashlib.sha256()
        if resume and v2:
            f.seek(0, os.SEEK_END)
            digest, offset = _hash_prefix(f, min(f.tell(), size))
        if v2:
            sock.sendall(REPLY.pack(REPLY2, 0, offset, digest.digest() if offset else b"\0" * 32))
            (start_at,) = START.unpack(_exact(sock, START.size))
            if start_at != offset:
                if start_at != 0:
                    raise PeerError("asked to start at %d" % start_at)
                offset, digest = 0, hashlib.sha256()
        f.seek(offset)
        f.truncate()
        got = offset
        while got < size:
            data = sock.recv(min(CHUNK, size - got))
            if not data:
                raise PeerError("closed after %d of %d bytes" % (got, size))
            f.write(data)
            digest.update(data)
            got += len(data)
    theirs = _exact(sock, 32)
    ok = theirs == digest.digest()
    if ok:
        os.replace(part_path, out_path)
    else:
        os.unlink(part_path)
    sock.sendall(b"\0" if ok else b"\1")
    return {"resumed_at": offset, "sha256": digest.hexdigest(), "ok": ok}
