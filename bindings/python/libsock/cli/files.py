"""``libsock send-file`` and ``libsock recv-file``: one file over TCP with a progress bar, a
SHA-256 check, a temporary name until it is complete, and resuming.

The protocol lives in core (``libsock::transfer``; here ``libsock.FileTransfer``), so every
door speaks it; this module adds the command line, the progress bar and the summary lines.
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
import os
import sys
import time
from typing import Any

import libsock

from .common import (
    CliError,
    Formatter,
    add_proxy,
    add_tls,
    bind_address,
    client_tls,
    fmt_addr,
    log,
    peer_address,
    positive_float,
    server_tls,
)

#: What a partial file is called beside its final name until it is complete (core's).
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


def _move_bytes(t: libsock.FileTransfer, conn: libsock.Connection, bar: Any) -> str:
    """Step ``t`` until every byte moved, drawing the bar; returns the state then."""
    shown = t.progress()[0]
    state = t.state
    while state == "transferring":
        state = t.step(conn)
        done = t.progress()[0]
        bar.update(done - shown)
        shown = done
    return state


def cmd_send_file(args: argparse.Namespace) -> int:
    path = args.file
    try:
        t = libsock.FileTransfer.sender(path, resume=not args.no_resume)
    except libsock.Error as e:
        raise CliError("cannot read %s: %s" % (path, e))
    with libsock.connect(peer_address(args.address), timeout=args.timeout,
                         connect_timeout=args.timeout, tls=client_tls(args),
                         proxy=args.proxy) as conn:
        try:
            t.step(conn)
        except FileExistsError:
            raise CliError("the receiver refused: its file exists (recv-file --overwrite "
                           "replaces it)")
        except libsock.ClosedError:
            if args.no_resume:
                raise
            raise CliError("the receiver closed after the header: an older libsock "
                           "recv-file? (send-file --no-resume speaks the old protocol)")
        except libsock.BadFrameError as e:
            raise CliError("the receiver is not a libsock recv-file (%s)" % e)
        info = t.info
        size, start_at = info["size"], info["resumed_at"]
        if start_at:
            log("resuming: the receiver already has %d of %d bytes" % (start_at, size))
        elif info["offered"]:
            log("the receiver's partial file differs from %s: starting over" % path)
        start = time.monotonic()
        with _progress(size, "send " + os.path.basename(path), args.quiet, start_at) as bar:
            _move_bytes(t, conn, bar)
        elapsed = time.monotonic() - start
        try:
            t.step(conn)
        except libsock.BadFrameError:
            raise CliError("checksum MISMATCH: the receiver got different bytes (or did not "
                           "keep them)")
        except libsock.ClosedError:
            raise CliError("the receiver closed without confirming the checksum")
    moved = size - start_at
    print("sent %s: %d bytes in %.2f s (%s)%s" % (
        path, moved, elapsed, _rate(moved, elapsed),
        ", resumed at byte %d" % start_at if start_at else ""))
    print("sha256 %s  %s" % (t.sha256, path))
    print("checksum verified by the receiver")
    sys.stdout.flush()
    return 0


def cmd_recv_file(args: argparse.Namespace) -> int:
    try:
        t = libsock.FileTransfer.receiver(args.out, overwrite=args.overwrite, resume=args.resume)
    except FileExistsError:
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
            t.step(conn)
        except FileExistsError:
            raise CliError("%s exists (--overwrite replaces it)" % t.path)
        except libsock.ClosedError as e:
            raise CliError("%s closed before the transfer began (%s)" % (fmt_addr(peer), e))
        except libsock.BadFrameError as e:
            raise CliError(str(e))
        info = t.info
        name, size, out_path = info["name"], info["size"], info["path"]
        offset = info["resumed_at"]
        part_path = out_path + PART_SUFFIX
        if args.resume and info["version"] == 1:
            log("%s speaks the old protocol (no resuming): starting over" % fmt_addr(peer))
        elif info["offered"] and not offset:
            log("the sender's first %d bytes differ from %s: starting over"
                % (info["offered"], part_path))
        elif offset:
            log("resuming %s at byte %d of %d" % (part_path, offset, size))
        log("receiving %s (%d bytes) from %s into %s" % (name, size, fmt_addr(peer), out_path))
        start = time.monotonic()
        with _progress(size, "recv " + name, args.quiet, offset) as bar:
            try:
                _move_bytes(t, conn, bar)
            except libsock.Error as e:
                raise CliError("%s (libsock recv-file --resume goes on from there)" % e)
        elapsed = time.monotonic() - start
        try:
            t.step(conn)
        except libsock.BadFrameError as e:
            raise CliError("checksum MISMATCH: %s" % e)
        except libsock.ClosedError as e:
            raise CliError("%s (libsock recv-file --resume goes on from there)" % e)
    moved = size - offset
    print("received %s from %s: %d bytes in %.2f s (%s)%s"
          % (name, fmt_addr(peer), moved, elapsed, _rate(moved, elapsed),
             ", resumed at byte %d" % offset if offset else ""))
    print("sha256 %s  %s" % (t.sha256, out_path))
    print("checksum matches the sender's")
    sys.stdout.flush()
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
    add_proxy(p)
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
