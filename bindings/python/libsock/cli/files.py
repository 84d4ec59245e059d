"""``libsock send-file`` and ``libsock recv-file``: one file over TCP with a progress bar, a
SHA-256 check, a temporary name until it is complete, and resuming.

The protocol (big endian):

* version 1 (``send-file --no-resume``; what every receiver understands): the sender sends
  ``b"LSF1" + u64 size + u16 name length + UTF-8 name``, the file bytes, then their 32-byte
  SHA-256; the receiver answers one byte, 0 = checksum matched.
* version 2 (the default of this sender): the header starts with ``b"LSF2"``; the receiver
  answers ``b"LSR2" + u8 status + u64 offset + 32-byte SHA-256 of its first offset bytes``
  (status 0 = go on, 1 = refused: the file exists and the receiver was not told to overwrite;
  offset > 0 = it holds that much of an interrupted transfer). The sender answers ``u64 start``:
  the offset when the hash matches its own first bytes, else 0 (start over). Then the bytes from
  ``start``, the SHA-256 of the whole file, and the verdict byte as in version 1.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import struct
import sys
import time
from typing import IO, Any, Tuple

import libsock

from .common import (
    CliError,
    Formatter,
    add_tls,
    bind_address,
    client_tls,
    fmt_addr,
    log,
    peer_address,
    positive_float,
    server_tls,
)

MAGIC = b"LSF1"
MAGIC2 = b"LSF2"
REPLY2 = b"LSR2"
HEADER = struct.Struct(">4sQH")
REPLY = struct.Struct(">4sBQ32s")
START = struct.Struct(">Q")
CHUNK = 1 << 20
#: What a partial file is called beside its final name until it is complete.
PART_SUFFIX = ".libsock-part"


class _NoProgress:
    """Stands in for the tqdm bar when tqdm is not installed: the transfer and its summary line
    are the same, without a bar."""

    def __enter__(self) -> "_NoProgress":
        return self

    def __exit__(self, *exc: Any) -> None:
        return None

    def update(self, n: int) -> None:
        """Ignores the progress (there is no bar to draw)."""


def _progress(total: int, desc: str, quiet: bool, initial: int = 0) -> Any:
    try:
        from tqdm import tqdm
    except ImportError:
        return _NoProgress()
    return tqdm(total=total, desc=desc, unit="B", unit_scale=True, unit_divisor=1024,
                file=sys.stderr, leave=True, dynamic_ncols=True, initial=initial,
                disable=quiet or not sys.stderr.isatty())


def _rate(nbytes: int, seconds: float) -> str:
    return "%.1f MiB/s" % (nbytes / (1 << 20) / seconds) if seconds > 0 else "-"


def _hash_prefix(f: IO[bytes], n: int) -> Tuple[Any, int]:
    """The SHA-256 state over the first ``n`` bytes of ``f`` (fewer if it is shorter)."""
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


def cmd_send_file(args: argparse.Namespace) -> int:
    path = args.file
    try:
        size = os.path.getsize(path)
        f = open(path, "rb")
    except OSError as e:
        raise CliError("cannot read %s: %s" % (path, e.strerror or e))
    name = os.path.basename(os.path.abspath(path)).encode("utf-8", "surrogateescape")[:1024]
    digest = hashlib.sha256()
    start_at = 0
    with f, libsock.connect(peer_address(args.address), timeout=args.timeout,
                            connect_timeout=args.timeout, tls=client_tls(args)) as conn:
        conn.sendall(HEADER.pack(MAGIC if args.no_resume else MAGIC2, size, len(name)) + name)
        if not args.no_resume:
            try:
                magic, status, offset, their_hash = REPLY.unpack(conn.recv_exactly(REPLY.size))
            except libsock.ClosedError:
                raise CliError("the receiver closed after the header: an older libsock "
                               "recv-file? (send-file --no-resume speaks the old protocol)")
            if magic != REPLY2:
                raise CliError("the receiver is not a libsock recv-file (bad reply)")
            if status == 1:
                raise CliError("the receiver refused: its file exists (recv-file --overwrite "
                               "replaces it)")
            if status != 0:
                raise CliError("the receiver refused the file (status %d)" % status)
            if 0 < offset <= size:
                digest, have = _hash_prefix(f, offset)
                if have == offset and digest.digest() == their_hash:
                    start_at = offset
                    log("resuming: the receiver already has %d of %d bytes" % (offset, size))
                else:
                    log("the receiver's partial file differs from %s: starting over" % path)
            if start_at == 0:
                digest = hashlib.sha256()
            conn.sendall(START.pack(start_at))
        f.seek(start_at)
        start = time.monotonic()
        use_sendfile = hasattr(conn, "sendfile")
        with _progress(size, "send " + os.path.basename(path), args.quiet, start_at) as bar:
            sent = start_at
            while sent < size:
                want = min(CHUNK, size - sent)
                if use_sendfile:
                    # Zero copy to the socket; the same bytes are then read back (from the page
                    # cache) for the checksum.
                    n = conn.sendfile(path, sent, want)
                    data = f.read(n)
                else:
                    data = f.read(want)
                    conn.sendall(data)
                    n = len(data)
                if n <= 0 or len(data) != n:
                    raise CliError("%s changed while it was being sent" % path)
                digest.update(data)
                sent += n
                bar.update(n)
        conn.sendall(digest.digest())
        elapsed = time.monotonic() - start
        try:
            verdict = conn.recv_exactly(1)
        except libsock.ClosedError:
            raise CliError("the receiver closed without confirming the checksum")
    hexdigest = digest.hexdigest()
    moved = size - start_at
    print("sent %s: %d bytes in %.2f s (%s)%s" % (
        path, moved, elapsed, _rate(moved, elapsed),
        ", resumed at byte %d" % start_at if start_at else ""))
    print("sha256 %s  %s" % (hexdigest, path))
    sys.stdout.flush()
    if verdict != b"\x00":
        raise CliError("checksum MISMATCH: the receiver got different bytes")
    print("checksum verified by the receiver")
    return 0


def _safe_name(raw: bytes) -> str:
    name = os.path.basename(raw.decode("utf-8", "replace").replace("\\", "/"))
    return name if name not in ("", ".", "..") else "received.bin"


def cmd_recv_file(args: argparse.Namespace) -> int:
    if (not os.path.isdir(args.out) and os.path.lexists(args.out) and not args.overwrite):
        raise CliError("%s exists (--overwrite replaces it)" % args.out)
    with libsock.listen(bind_address(args.address), remove_stale=True,
                        tls=server_tls(args)) as listener:
        log("listening on %s, waiting for a sender" % fmt_addr(listener.address))
        try:
            conn, peer = listener.accept(timeout=args.timeout)
        except libsock.TimeoutError:
            raise CliError("no sender connected within %g s" % args.timeout)
    with conn:
        conn.settimeout(args.idle_timeout)
        try:
            magic, size, name_len = HEADER.unpack(conn.recv_exactly(HEADER.size))
            if magic not in (MAGIC, MAGIC2):
                raise CliError("%s is not a libsock send-file sender (bad header)" % fmt_addr(peer))
            name = _safe_name(conn.recv_exactly(name_len)) if name_len else "received.bin"
        except libsock.ClosedError:
            raise CliError("%s closed before sending a file header" % fmt_addr(peer))
        out_path = args.out
        if os.path.isdir(out_path):
            out_path = os.path.join(out_path, name)
        part_path = out_path + PART_SUFFIX
        v2 = magic == MAGIC2
        if os.path.lexists(out_path) and not args.overwrite:
            if v2:
                conn.sendall(REPLY.pack(REPLY2, 1, 0, b"\0" * 32))
            raise CliError("%s exists (--overwrite replaces it)" % out_path)
        # A partial file from an interrupted transfer: kept with --resume, else started over.
        offset = 0
        try:
            f = open(part_path, "r+b" if args.resume and os.path.exists(part_path) else "w+b")
        except OSError as e:
            raise CliError("cannot write %s: %s" % (part_path, e.strerror or e))
        with f:
            digest = hashlib.sha256()
            if args.resume:
                if not v2:
                    log("%s speaks the old protocol (no resuming): starting over"
                        % fmt_addr(peer))
                else:
                    f.seek(0, os.SEEK_END)
                    offset = min(f.tell(), size)
                    digest, offset = _hash_prefix(f, offset)
            if v2:
                conn.sendall(REPLY.pack(REPLY2, 0, offset, digest.digest() if offset else
                                        b"\0" * 32))
                try:
                    (start_at,) = START.unpack(conn.recv_exactly(START.size))
                except libsock.ClosedError:
                    raise CliError("%s closed before the transfer began" % fmt_addr(peer))
                if start_at != offset:
                    if start_at != 0:
                        raise CliError("%s asked to start at byte %d, not %d or 0"
                                       % (fmt_addr(peer), start_at, offset))
                    if offset:
                        log("the sender's first %d bytes differ from %s: starting over"
                            % (offset, part_path))
                    offset = 0
                    digest = hashlib.sha256()
                elif offset:
                    log("resuming %s at byte %d of %d" % (part_path, offset, size))
            f.seek(offset)
            f.truncate()
            log("receiving %s (%d bytes) from %s into %s" % (name, size, fmt_addr(peer),
                                                             out_path))
            buf = bytearray(CHUNK)
            view = memoryview(buf)
            got = offset
            start = time.monotonic()
            with _progress(size, "recv " + name, args.quiet, offset) as bar:
                try:
                    while got < size:
                        n = conn.recv_into(view[:min(CHUNK, size - got)])
                        if not n:
                            raise CliError("%s closed after %d of %d bytes"
                                           % (fmt_addr(peer), got, size))
                        chunk = view[:n]
                        f.write(chunk)
                        digest.update(chunk)
                        got += n
                        bar.update(n)
                except (CliError, libsock.Error) as e:
                    f.flush()
                    raise CliError("%s; the %d bytes received are kept in %s (receive again "
                                   "with --resume to go on from there)" % (e, got, part_path))
            f.flush()
            os.fsync(f.fileno())
        elapsed = time.monotonic() - start
        try:
            theirs = conn.recv_exactly(32)
        except libsock.ClosedError:
            raise CliError("%s closed before sending its checksum (the bytes are kept in %s)"
                           % (fmt_addr(peer), part_path))
        ok = theirs == digest.digest()
        if ok:
            if os.path.lexists(out_path) and not args.overwrite:
                ok = False
                conn.sendall(b"\x01")
                raise CliError("%s appeared during the transfer; the file is kept in %s"
                               % (out_path, part_path))
            os.replace(part_path, out_path)
        else:
            os.unlink(part_path)
        conn.sendall(b"\x00" if ok else b"\x01")
    moved = got - offset
    print("received %s from %s: %d bytes in %.2f s (%s)%s"
          % (name, fmt_addr(peer), moved, elapsed, _rate(moved, elapsed),
             ", resumed at byte %d" % offset if offset else ""))
    print("sha256 %s  %s" % (digest.hexdigest(), out_path))
    sys.stdout.flush()
    if not ok:
        raise CliError("checksum MISMATCH: the sender's sha256 is %s (nothing written to %s)"
                       % (theirs.hex(), out_path))
    print("checksum matches the sender's")
    return 0


def add_parsers(sub: Any) -> None:
    """Register ``send-file`` and ``recv-file``."""
    p = sub.add_parser(
        "send-file", help="send a file to a 'libsock recv-file' (progress bar, SHA-256)",
        formatter_class=Formatter,
        description="Connect to a 'libsock recv-file' at ADDRESS and send FILE (its name and size "
                    "first, the bytes with sendfile, then a SHA-256 checksum). When the receiver "
                    "holds the first part of the file from an interrupted transfer (recv-file "
                    "--resume), only the rest is sent. Both ends print the checksum; the exit "
                    "status is nonzero if the receiver got different bytes.",
        epilog="example:\n  libsock send-file 192.0.2.7:9000 backup.tar.gz",
    )
    p.add_argument("address", metavar="ADDRESS", help="the receiver's address")
    p.add_argument("file", metavar="FILE", help="the file to send")
    p.add_argument("--timeout", "-w", type=positive_float, default=60.0, metavar="S",
                   help="connect timeout and longest stall allowed (default: 60)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    p.add_argument("--no-resume", action="store_true",
                   help="speak the first version of the protocol (for a receiver from an older "
                        "libsock; no resuming)")
    add_tls(p, server=False)
    p.set_defaults(func=cmd_send_file)

    p = sub.add_parser(
        "recv-file", help="receive one file from 'libsock send-file' (progress bar, SHA-256)",
        formatter_class=Formatter,
        description="Listen on ADDRESS for one 'libsock send-file', write the file to OUT (or into "
                    "OUT under the sender's file name when OUT is a directory) and print its "
                    "SHA-256. The bytes go to OUT" + PART_SUFFIX + " first, which is renamed to "
                    "OUT only when the checksum matches; an existing OUT is never replaced "
                    "without --overwrite. An interrupted transfer leaves the partial file: "
                    "--resume goes on from there. The exit status is nonzero if the checksum "
                    "differs from the sender's.",
        epilog="examples:\n  libsock recv-file 0.0.0.0:9000 ./incoming/\n"
               "  libsock recv-file 9000 big.iso --resume     (after an interrupted transfer)",
    )
    p.add_argument("address", metavar="ADDRESS", help="where to listen (port 0: any free port)")
    p.add_argument("out", metavar="OUT", help="the file to write, or a directory")
    p.add_argument("--timeout", "-w", type=positive_float, default=None, metavar="S",
                   help="give up when no sender connects within S seconds (default: wait)")
    p.add_argument("--idle-timeout", type=positive_float, default=60.0, metavar="S",
                   help="longest stall allowed during the transfer (default: 60)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing OUT")
    p.add_argument("--resume", action="store_true",
                   help="go on from the partial file an interrupted transfer left (OUT"
                        + PART_SUFFIX + "); its bytes are checked against the sender's first")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    add_tls(p, server=True)
    p.set_defaults(func=cmd_recv_file)
