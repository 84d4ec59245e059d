"""The ``libsock`` command: netcat/socat-style jobs over the libsock package.

Subcommands::

    libsock listen ADDRESS [--echo] [--framing F] [--once]
    libsock connect ADDRESS [--framing F] [--timeout S]
    libsock udp ADDRESS [--listen] [--echo]
    libsock send-file ADDRESS FILE
    libsock recv-file ADDRESS OUT
    libsock demo
    libsock bench [...]       (in a source checkout: runs bench/py/quick.py)

Run ``libsock COMMAND --help`` for the details of each. The socket work is done by libsock itself;
this module only wires standard input and output, files and progress bars to it.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import struct
import subprocess
import sys
import textwrap
import threading
import time
from typing import Any, Callable, Dict, List, Optional, Sequence

import libsock

PROG = "libsock"

FRAMING_HELP = (
    "how the byte stream is cut into messages: raw (bytes as they come, the default), "
    "lines (messages end with \\n), crlf (end with \\r\\n), length:W[:big|little] (a W-byte "
    "length field in front, W = 1, 2, 4 or 8; 'length' alone is length:4:big), hp (HP-Socket's "
    "PACK header), fixed:N (every message is N bytes)"
)

#: The exit status for a bad command line or a malformed argument (as argparse uses).
EXIT_USAGE = 2
#: The exit status after Ctrl-C, as a shell reports it.
EXIT_INTERRUPTED = 130


# --------------------------------------------------------------------------------------------
# small helpers


class CliError(Exception):
    """A failure worth one line on stderr and a nonzero exit status (no traceback)."""

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.status = status


def _version() -> str:
    v = getattr(libsock, "__version__", None)
    if v:
        return str(v)
    try:
        from importlib.metadata import version

        return version("libsock")
    except Exception:  # pragma: no cover - not installed as a distribution
        return "unknown"


def fmt_addr(addr: Any) -> str:
    """Print an address the way a user types it: ``host:port``, ``[v6]:port`` or ``unix:/path``."""
    if isinstance(addr, tuple) and len(addr) >= 2:
        host, port = addr[0], addr[1]
        if isinstance(host, bytes):
            host = host.decode("utf-8", "replace")
        host = str(host)
        if ":" in host and not host.startswith("["):
            host = "[" + host + "]"
        return "%s:%s" % (host, port)
    if isinstance(addr, bytes):
        return addr.decode("utf-8", "replace")
    if addr is None or addr in ("", "unix:"):
        return "(unnamed)" if not addr else "unix:(unnamed)"
    return str(addr)


def _bind_address(text: str) -> str:
    """A bare port number means every IPv4 interface (``9000`` -> ``0.0.0.0:9000``)."""
    return "0.0.0.0:" + text if text.isdigit() else text


def _peer_address(text: str) -> str:
    """A bare port number means this machine (``9000`` -> ``127.0.0.1:9000``)."""
    return "127.0.0.1:" + text if text.isdigit() else text


def _log(msg: str) -> None:
    """A status line for the user, on stderr so that stdout carries only data."""
    try:
        sys.stderr.write("%s: %s\n" % (PROG, msg))
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


def _stdout() -> Any:
    return sys.stdout.buffer


def _write_out(out: Any, lock: threading.Lock, data: bytes) -> None:
    with lock:
        out.write(data)
        out.flush()


# --------------------------------------------------------------------------------------------
# framing specifications


class FramingSpec:
    """A parsed ``--framing`` value; ``build()`` makes the libsock framing object."""

    def __init__(self, kind: str, width: int = 4, byteorder: str = "big", size: int = 0,
                 text: str = "raw") -> None:
        self.kind = kind  # raw | lines | crlf | length | hp | fixed
        self.width = width
        self.byteorder = byteorder
        self.size = size
        self.text = text

    @property
    def is_raw(self) -> bool:
        return self.kind == "raw"

    def build(self, max_len: Optional[int] = None) -> Any:
        extra: Dict[str, Any] = {} if max_len is None else {"max_len": max_len}
        if self.kind == "raw":
            return libsock.Raw()
        if self.kind == "lines":
            return libsock.Delimited(b"\n", **extra)
        if self.kind == "crlf":
            return libsock.Delimited(b"\r\n", **extra)
        if self.kind == "length":
            return libsock.LengthPrefixed(width=self.width, byteorder=self.byteorder, **extra)
        if self.kind == "hp":
            return libsock.HpPack(**extra)
        if self.kind == "fixed":
            return libsock.Fixed(self.size)
        raise AssertionError(self.kind)  # pragma: no cover

    def __repr__(self) -> str:
        return self.text


def parse_framing(text: str) -> FramingSpec:
    """argparse type for ``--framing``."""
    t = text.strip().lower()
    parts = t.split(":")
    bad = argparse.ArgumentTypeError(
        "%r is not a framing; use raw, lines, crlf, length:W[:big|little], hp or fixed:N" % text
    )
    if t in ("raw", "lines", "crlf", "hp"):
        return FramingSpec(t, text=t)
    if parts[0] == "length" and len(parts) <= 3:
        width = 4
        order = "big"
        if len(parts) >= 2:
            if parts[1] not in ("1", "2", "4", "8"):
                raise argparse.ArgumentTypeError(
                    "length field width %r: use 1, 2, 4 or 8 bytes" % parts[1])
            width = int(parts[1])
        if len(parts) == 3:
            if parts[2] not in ("big", "little"):
                raise argparse.ArgumentTypeError(
                    "byte order %r: use big or little" % parts[2])
            order = parts[2]
        return FramingSpec("length", width=width, byteorder=order,
                           text="length:%d:%s" % (width, order))
    if parts[0] == "fixed" and len(parts) == 2:
        try:
            size = int(parts[1])
        except ValueError:
            raise bad from None
        if size <= 0:
            raise argparse.ArgumentTypeError("fixed:N needs a message size N of at least 1")
        return FramingSpec("fixed", size=size, text="fixed:%d" % size)
    raise bad


def _positive_float(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("%r is not a number of seconds" % text) from None
    if not v > 0:
        raise argparse.ArgumentTypeError("a timeout must be more than 0 seconds")
    return v


def _positive_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("%r is not a whole number" % text) from None
    if v <= 0:
        raise argparse.ArgumentTypeError("must be at least 1")
    return v


# --------------------------------------------------------------------------------------------
# stream plumbing shared by connect and listen


def _read_stdin_messages(spec: FramingSpec, send: Callable[[bytes], Any]) -> None:
    """Feed standard input to ``send``: raw chunks, N-byte blocks, or one message per line."""
    stdin = sys.stdin
    if stdin is None:
        return
    if spec.is_raw:
        try:
            fd = stdin.fileno()
        except (AttributeError, ValueError, OSError):  # no usable stdin: nothing to send
            return
        while True:
            data = os.read(fd, 65536)
            if not data:
                return
            send(data)
    src = stdin.buffer
    if spec.kind == "fixed":
        while True:
            block = src.read(spec.size)
            if not block:
                return
            if len(block) < spec.size:
                _log("input ended inside a %d-byte message: %d trailing bytes not sent"
                     % (spec.size, len(block)))
                return
            send(block)
    for line in src:
        if line.endswith(b"\n"):
            line = line[:-1]
            if line.endswith(b"\r"):
                line = line[:-1]
        send(line)


def _print_incoming(conn: Any, spec: FramingSpec, out: Any, lock: threading.Lock,
                    prefix: bytes = b"") -> None:
    """Copy what arrives on ``conn`` to ``out`` until the peer closes.

    Raw bytes are copied as they come; messages are written one per line (fixed-size messages as
    they are, since they are usually binary).
    """
    if spec.is_raw:
        while True:
            data = conn.recv(65536)
            if not data:
                return
            _write_out(out, lock, prefix + data if prefix else data)
    end = b"" if spec.kind == "fixed" else b"\n"
    while True:
        try:
            msg = conn.recv_msg()
        except libsock.ClosedError:
            return
        _write_out(out, lock, prefix + bytes(msg) + end)


def _echo(conn: Any, spec: FramingSpec) -> int:
    """Send back everything that arrives (message by message with a framing); return bytes."""
    total = 0
    if spec.is_raw:
        while True:
            data = conn.recv(65536)
            if not data:
                break
            conn.sendall(data)
            total += len(data)
    else:
        while True:
            try:
                msg = conn.recv_msg()
            except libsock.ClosedError:
                break
            conn.send_msg(msg)
            total += len(msg)
    return total


def _pump(conn: Any, spec: FramingSpec) -> None:
    """Standard input to ``conn`` and ``conn`` to standard output, as ``nc`` does.

    When standard input ends, the socket is half-closed (shutdown for writing) and reading goes on
    until the peer closes. When the peer closes first, the command ends at once on a terminal;
    with piped input the rest of that input is still sent (the peer may only have half-closed).
    """
    closing = threading.Event()
    failure: List[BaseException] = []

    def sender() -> None:
        try:
            send = conn.sendall if spec.is_raw else conn.send_msg
            _read_stdin_messages(spec, send)
            conn.shutdown("write")
        except (libsock.Error, OSError) as e:
            if not closing.is_set():
                failure.append(e)
        except BaseException as e:  # pragma: no cover - reported below
            failure.append(e)

    t = threading.Thread(target=sender, name="stdin-to-socket", daemon=True)
    t.start()
    try:
        _print_incoming(conn, spec, _stdout(), threading.Lock())
        stdin_is_tty = bool(sys.stdin) and sys.stdin.isatty()
        if not stdin_is_tty:
            while t.is_alive():
                t.join(0.1)
    finally:
        closing.set()
    if failure:
        raise failure[0]


# --------------------------------------------------------------------------------------------
# listen


def cmd_listen(args: argparse.Namespace) -> int:
    spec: FramingSpec = args.framing
    framing = spec.build(args.max_len)
    with libsock.listen(_bind_address(args.address), framing=framing,
                        reuse_port=args.reuse_port, remove_stale=True,
                        tls=_server_tls(args)) as listener:
        mode = "echo" if args.echo else "print"
        _log("listening on %s (%s, framing %s)" % (fmt_addr(listener.address), mode, spec))
        out = _stdout()
        lock = threading.Lock()

        def serve(conn: Any, peer: Any, forward_stdin: bool) -> int:
            who = fmt_addr(peer)
            try:
                with conn:
                    if args.timeout is not None:
                        conn.settimeout(args.timeout)
                    if args.echo:
                        n = _echo(conn, spec)
                        _log("%s closed (echoed %d bytes)" % (who, n))
                    elif forward_stdin:
                        _pump(conn, spec)
                        _log("%s closed" % who)
                    else:
                        _print_incoming(conn, spec, out, lock)
                        _log("%s closed" % who)
            except libsock.TimeoutError as e:
                _log("%s: idle for %gs, closing (%s)" % (who, args.timeout, e))
                return 1
            except BrokenPipeError as e:
                if isinstance(e, libsock.Error) or not forward_stdin:
                    _log("%s: %s" % (who, e))
                    return 1
                raise  # our stdout went away: end quietly (see main)
            except (libsock.Error, OSError) as e:
                _log("%s: %s" % (who, e))
                return 1
            return 0

        if args.once:
            conn, peer = listener.accept(timeout=args.accept_timeout)
            _log("connection from %s" % fmt_addr(peer))
            return serve(conn, peer, forward_stdin=not args.echo)
        while True:
            conn, peer = listener.accept(timeout=args.accept_timeout)
            _log("connection from %s" % fmt_addr(peer))
            threading.Thread(target=serve, args=(conn, peer, False),
                             name="client %s" % fmt_addr(peer), daemon=True).start()
    return 0  # not reached: the loop above ends only by an exception


# --------------------------------------------------------------------------------------------
# connect


def cmd_connect(args: argparse.Namespace) -> int:
    spec: FramingSpec = args.framing
    kw = {}
    if args.timeout is not None:
        kw["connect_timeout"] = args.timeout
        kw["timeout"] = args.timeout
    conn = libsock.connect(_peer_address(args.address), framing=spec.build(args.max_len),
                           tls=_client_tls(args), **kw)
    with conn:
        if args.verbose:
            _log("connected to %s from %s" % (fmt_addr(conn.peer_address),
                                              fmt_addr(conn.local_address)))
        try:
            _pump(conn, spec)
        except libsock.TimeoutError:
            raise CliError("nothing happened for %g s, giving up (--timeout)" % args.timeout)
    return 0


# --------------------------------------------------------------------------------------------
# udp


def cmd_udp(args: argparse.Namespace) -> int:
    out = _stdout()
    lock = threading.Lock()
    if args.listen:
        with libsock.udp(_bind_address(args.address), timeout=0.25) as dg:
            _log("UDP: listening on %s%s" % (fmt_addr(dg.address),
                                             " (echo)" if args.echo else ""))
            seen = 0
            while args.count is None or seen < args.count:
                try:
                    data, peer = dg.recv_from(65536)
                except libsock.TimeoutError:
                    continue
                seen += 1
                _write_out(out, lock, b"[" + fmt_addr(peer).encode() + b"] " + bytes(data) + b"\n")
                if args.echo:
                    dg.send_to(data, peer)
        return 0

    done = threading.Event()
    failure: List[BaseException] = []
    with libsock.udp(connect=_peer_address(args.address), timeout=0.25) as dg:

        def sender() -> None:
            try:
                _read_stdin_messages(FramingSpec("lines", text="lines"), dg.send)
            except BaseException as e:
                failure.append(e)
            finally:
                done.set()

        threading.Thread(target=sender, name="stdin-to-udp", daemon=True).start()
        quiet_since: Optional[float] = None
        while True:
            try:
                data = dg.recv(65536)
            except libsock.TimeoutError:
                if failure:
                    raise failure[0]
                if done.is_set():
                    now = time.monotonic()
                    if quiet_since is None:
                        quiet_since = now
                    if now - quiet_since >= args.wait:
                        break
                continue
            except libsock.ConnectionRefusedError:
                # ICMP port unreachable for an earlier datagram: nobody listens there (yet).
                if args.verbose:
                    _log("UDP: %s refused a datagram (nobody listening?)" % args.address)
                continue
            quiet_since = None
            _write_out(out, lock, bytes(data) + b"\n")
        if failure:
            raise failure[0]
    return 0


# --------------------------------------------------------------------------------------------
# send-file / recv-file
#
# The transfer: a header  b"LSF1" + u64 size + u16 name length + UTF-8 name  (big endian), the file
# bytes, the sender's 32-byte SHA-256; the receiver answers one byte, 0 = checksum matched.

MAGIC = b"LSF1"
HEADER = struct.Struct(">4sQH")
CHUNK = 1 << 20


class _NoProgress:
    """Stands in for the tqdm bar when tqdm is not installed (it is the optional extra
    ``libsock[progress]``): the transfer and its summary line are the same, without a bar."""

    def __enter__(self) -> "_NoProgress":
        return self

    def __exit__(self, *exc: Any) -> None:
        return None

    def update(self, n: int) -> None:
        """Ignores the progress (there is no bar to draw)."""


def _progress(total: int, desc: str, quiet: bool) -> Any:
    try:
        from tqdm import tqdm
    except ImportError:
        return _NoProgress()
    return tqdm(total=total, desc=desc, unit="B", unit_scale=True, unit_divisor=1024,
                file=sys.stderr, leave=True, dynamic_ncols=True,
                disable=quiet or not sys.stderr.isatty())


def _rate(nbytes: int, seconds: float) -> str:
    return "%.1f MiB/s" % (nbytes / (1 << 20) / seconds) if seconds > 0 else "-"


def cmd_send_file(args: argparse.Namespace) -> int:
    path = args.file
    try:
        size = os.path.getsize(path)
        f = open(path, "rb")
    except OSError as e:
        raise CliError("cannot read %s: %s" % (path, e.strerror or e))
    name = os.path.basename(os.path.abspath(path)).encode("utf-8", "surrogateescape")[:1024]
    digest = hashlib.sha256()
    with f, libsock.connect(_peer_address(args.address), timeout=args.timeout,
                            connect_timeout=args.timeout, tls=_client_tls(args)) as conn:
        conn.sendall(HEADER.pack(MAGIC, size, len(name)) + name)
        start = time.monotonic()
        use_sendfile = hasattr(conn, "sendfile")
        with _progress(size, "send " + os.path.basename(path), args.quiet) as bar:
            sent = 0
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
    print("sent %s: %d bytes in %.2f s (%s)" % (path, size, elapsed, _rate(size, elapsed)))
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
    with libsock.listen(_bind_address(args.address), remove_stale=True,
                        tls=_server_tls(args)) as listener:
        _log("listening on %s, waiting for a sender" % fmt_addr(listener.address))
        try:
            conn, peer = listener.accept(timeout=args.timeout)
        except libsock.TimeoutError:
            raise CliError("no sender connected within %g s" % args.timeout)
    with conn:
        conn.settimeout(args.idle_timeout)
        try:
            magic, size, name_len = HEADER.unpack(conn.recv_exactly(HEADER.size))
            if magic != MAGIC:
                raise CliError("%s is not a libsock send-file sender (bad header)" % fmt_addr(peer))
            name = _safe_name(conn.recv_exactly(name_len)) if name_len else "received.bin"
        except libsock.ClosedError:
            raise CliError("%s closed before sending a file header" % fmt_addr(peer))
        out_path = args.out
        if os.path.isdir(out_path):
            out_path = os.path.join(out_path, name)
        _log("receiving %s (%d bytes) from %s into %s" % (name, size, fmt_addr(peer), out_path))
        digest = hashlib.sha256()
        buf = bytearray(CHUNK)
        view = memoryview(buf)
        got = 0
        start = time.monotonic()
        try:
            f = open(out_path, "wb")
        except OSError as e:
            raise CliError("cannot write %s: %s" % (out_path, e.strerror or e))
        with f, _progress(size, "recv " + name, args.quiet) as bar:
            while got < size:
                n = conn.recv_into(view[:min(CHUNK, size - got)])
                if not n:
                    raise CliError("%s closed after %d of %d bytes" % (fmt_addr(peer), got, size))
                chunk = view[:n]
                f.write(chunk)
                digest.update(chunk)
                got += n
                bar.update(n)
        elapsed = time.monotonic() - start
        try:
            theirs = conn.recv_exactly(32)
        except libsock.ClosedError:
            raise CliError("%s closed before sending its checksum" % fmt_addr(peer))
        ok = theirs == digest.digest()
        conn.sendall(b"\x00" if ok else b"\x01")
    print("received %s from %s: %d bytes in %.2f s (%s)"
          % (name, fmt_addr(peer), got, elapsed, _rate(got, elapsed)))
    print("sha256 %s  %s" % (digest.hexdigest(), out_path))
    sys.stdout.flush()
    if not ok:
        raise CliError("checksum MISMATCH: the sender's sha256 is %s" % theirs.hex())
    print("checksum matches the sender's")
    return 0


# --------------------------------------------------------------------------------------------
# demo


class Demo:
    """A guided tour on loopback. Every wait has a timeout; a watchdog ends a stuck run."""

    WAIT = 3.0  # seconds any single step may take

    def __init__(self, out: Any) -> None:
        self.out = out
        self.lock = threading.Lock()
        self.failures: List[str] = []

    # -- output ------------------------------------------------------------------------------
    def say(self, who: str, text: str) -> None:
        with self.lock:
            self.out.write("  %-7s %s\n" % (who, text))
            self.out.flush()

    def note(self, text: str) -> None:
        with self.lock:
            self.out.write("          %s\n" % text)
            self.out.flush()

    def heading(self, text: str) -> None:
        with self.lock:
            self.out.write("\n%s\n%s\n" % (text, "-" * len(text)))
            self.out.flush()

    # -- helpers -----------------------------------------------------------------------------
    def pair(self, listener: Any, framing: Any = None) -> Any:
        """A client connected to ``listener`` and the server's side of it."""
        kw = {} if framing is None else {"framing": framing}
        client = libsock.connect(listener.address, timeout=self.WAIT,
                                 connect_timeout=self.WAIT, **kw)
        server, _peer = listener.accept(timeout=self.WAIT)
        server.settimeout(self.WAIT)
        return client, server

    def wait_for_bytes(self, conn: Any, n: int) -> None:
        """Wait (at most WAIT s) until ``n`` bytes sit in the receive buffer."""
        deadline = time.monotonic() + self.WAIT
        while time.monotonic() < deadline:
            try:
                avail = conn.bytes_available
                if (avail() if callable(avail) else avail) >= n:
                    return
            except (AttributeError, TypeError):
                time.sleep(0.1)
                return
            time.sleep(0.005)

    @staticmethod
    def recv_timeout(conn: Any, n: int, timeout: float) -> bytes:
        try:
            return bytes(conn.recv(n, timeout=timeout))
        except TypeError:  # no per-call timeout: use the connection's
            old = conn.gettimeout()
            conn.settimeout(timeout)
            try:
                return bytes(conn.recv(n))
            finally:
                conn.settimeout(old)

    @staticmethod
    def err(e: BaseException) -> str:
        code = getattr(e, "code", None)
        return "%s: %s%s" % (type(e).__name__, e, "" if code is None else "  [code %s]" % code)

    def run(self) -> int:
        t0 = time.monotonic()
        self.out.write("libsock %s demo: a server and clients talking on loopback (127.0.0.1)\n"
                       % _version())
        for section in (self.sticky_packets, self.half_close, self.timeouts, self.errors):
            try:
                section()
            except Exception as e:  # a bug: say so, go on, and fail at the end
                self.failures.append("%s: %s" % (section.__name__, self.err(e)))
                self.say("!!", "unexpected %s" % self.err(e))
        self.out.write("\n")
        if self.failures:
            self.out.write("demo FAILED in %s\n" % "; ".join(self.failures))
            self.out.flush()
            return 1
        self.out.write("Done in %.2f s. Next: libsock listen --help, libsock connect --help, "
                       "libsock send-file --help.\n" % (time.monotonic() - t0))
        self.out.flush()
        return 0

    # -- 1 -----------------------------------------------------------------------------------
    def sticky_packets(self) -> None:
        self.heading("1. Sticky packets: TCP carries a stream of bytes, not messages")
        with libsock.listen("127.0.0.1:0") as raw_listener:
            self.say("server", "listening on %s with no framing (Raw)" % fmt_addr(raw_listener.address))
            client, server = self.pair(raw_listener)
            with client, server:
                for m in (b"hello", b"world"):
                    self.say("client", "sendall(%r)" % m)
                    client.sendall(m)
                self.wait_for_bytes(server, 10)
                data = server.recv(4096)
                self.say("server", "recv(4096) -> %r" % data)
                if data == b"helloworld":
                    self.note("Two messages arrived glued together as one: the receiver cannot")
                    self.note("tell where one ends. (Large messages also arrive cut in pieces.)")
                else:  # the network split them after all; the point still stands
                    self.note("This time the pieces came apart, but nothing guarantees it.")

            for label, make, wire_len in (
                ("LengthPrefixed(width=4)", lambda: libsock.LengthPrefixed(width=4), 18),
                ('Delimited(b"\\n")', lambda: libsock.Delimited(b"\n"), 12),
            ):
                self.out.write("\n  The same two messages with %s framing on both ends:\n" % label)
                # What travels on the wire: a framed client, a raw server.
                client, server = self.pair(raw_listener, make())
                with client, server:
                    self.say("client", "send_msg(b'hello'); send_msg(b'world')")
                    client.send_msg(b"hello")
                    client.send_msg(b"world")
                    wire = bytes(server.recv_exactly(wire_len))
                    self.say("wire", repr(wire))
                # The framed server cuts the stream back into the messages.
                with libsock.listen("127.0.0.1:0", framing=make()) as framed:
                    client, server = self.pair(framed, make())
                    with client, server:
                        client.send_msg(b"hello")
                        client.send_msg(b"world")
                        client.close()
                        for _ in range(2):
                            self.say("server", "recv_msg() -> %r" % bytes(server.recv_msg()))
                        try:
                            server.recv_msg()
                            self.say("server", "recv_msg() -> more data?!")
                        except libsock.ClosedError as e:
                            self.say("server", "recv_msg() -> %s" % self.err(e))
                self.note("Each message arrives whole and on its own; the end of the stream is")
                self.note("ClosedError, never a half message.")

    # -- 2 -----------------------------------------------------------------------------------
    def half_close(self) -> None:
        self.heading("2. Half-close: 'I am done sending' without hanging up")
        with libsock.listen("127.0.0.1:0") as listener:
            result: List[BaseException] = []

            def server() -> None:
                try:
                    conn, peer = listener.accept(timeout=self.WAIT)
                    with conn:
                        conn.settimeout(self.WAIT)
                        got = b""
                        while True:
                            data = conn.recv(4096)
                            if not data:
                                break
                            got += data
                        self.say("server", "read %r, then recv() -> b'' (end of stream)" % got)
                        reply = b"got %d bytes, thanks" % len(got)
                        self.say("server", "still replies: sendall(%r); close()" % reply)
                        conn.sendall(reply)
                except BaseException as e:
                    result.append(e)

            t = threading.Thread(target=server, name="demo-server", daemon=True)
            t.start()
            with libsock.connect(listener.address, timeout=self.WAIT,
                                 connect_timeout=self.WAIT) as client:
                for part in (b"request part 1, ", b"part 2"):
                    self.say("client", "sendall(%r)" % part)
                    client.sendall(part)
                self.say("client", "shutdown('write')   # no more requests; still reading")
                client.shutdown("write")
                reply = b""
                while True:
                    data = client.recv(4096)
                    if not data:
                        break
                    reply += data
                self.say("client", "recv() -> %r, then b''" % reply)
            t.join(self.WAIT)
            if result:
                raise result[0]
            if t.is_alive():
                raise RuntimeError("the server thread did not finish")
            self.note("The server knew the request was complete because the client half-closed;")
            self.note("the reply still came back on the same connection.")

    # -- 3 -----------------------------------------------------------------------------------
    def timeouts(self) -> None:
        self.heading("3. Timeouts: no recv waits forever unless you ask it to")
        with libsock.listen("127.0.0.1:0") as listener:
            client, server = self.pair(listener)
            with client, server:
                self.say("client", "recv(100, timeout=0.2) from a server that says nothing ...")
                start = time.monotonic()
                try:
                    data = self.recv_timeout(client, 100, 0.2)
                    raise RuntimeError("recv returned %r instead of timing out" % data)
                except libsock.TimeoutError as e:
                    took = time.monotonic() - start
                    self.say("client", "-> after %.2f s: %s" % (took, self.err(e)))
                    self.note("libsock.TimeoutError is also the builtin TimeoutError: %s"
                              % isinstance(e, TimeoutError))
                self.say("server", "sendall(b'still here')")
                server.sendall(b"still here")
                data = self.recv_timeout(client, 100, self.WAIT)
                self.say("client", "recv(100, timeout=3) -> %r" % data)
                self.note("A timeout loses nothing and leaves the connection usable.")

    # -- 4 -----------------------------------------------------------------------------------
    def errors(self) -> None:
        self.heading("4. Errors say what failed and where")
        # A port nobody listens on: bind one, note its number, close it.
        with libsock.listen("127.0.0.1:0") as probe:
            addr = probe.address
        self.say("client", "connect(%r)   # nobody listens there" % fmt_addr(addr))
        try:
            libsock.connect(addr, connect_timeout=self.WAIT).close()
            self.say("client", "-> connected?! (another program took the port)")
        except libsock.Error as e:
            self.say("client", "-> %s" % self.err(e))
            self.note("It is also the builtin ConnectionRefusedError: %s"
                      % isinstance(e, ConnectionRefusedError))

        for bad in ("localhost", "[::1:80", "127.0.0.1:99999"):
            self.say("client", "connect(%r)" % bad)
            try:
                libsock.connect(bad, connect_timeout=self.WAIT).close()
                self.say("client", "-> connected?!")
            except libsock.Error as e:
                self.say("client", "-> %s" % self.err(e))

        self.out.write("\n")
        with libsock.listen("127.0.0.1:0",
                            framing=libsock.Delimited(b"\n", max_len=16)) as listener:
            self.say("server", "listening with Delimited(b'\\n', max_len=16)")
            client, server = self.pair(listener, libsock.Delimited(b"\n"))
            with client, server:
                line = b"x" * 100
                self.say("client", "send_msg(b'x' * 100)")
                client.send_msg(line)
                try:
                    msg = server.recv_msg()
                    self.say("server", "recv_msg() -> %d bytes?!" % len(msg))
                except libsock.Error as e:
                    self.say("server", "recv_msg() -> %s" % self.err(e))
                    self.note("A peer cannot make the server allocate what it claims.")


def cmd_demo(args: argparse.Namespace) -> int:
    def give_up() -> None:
        _log("demo: stuck for %g s, giving up (this is a bug, please report it)" % args.max_time)
        os._exit(3)

    watchdog = threading.Timer(args.max_time, give_up)
    watchdog.daemon = True
    watchdog.start()
    try:
        return Demo(sys.stdout).run()
    finally:
        watchdog.cancel()


# --------------------------------------------------------------------------------------------
# bench


#: Where the quick comparison lives in a source checkout of libsock.
BENCH_QUICK = os.path.join("bench", "py", "quick.py")

BENCH_ELSEWHERE = """\
libsock bench: the benchmarks are not part of the installed package; they live in the bench/
folder of libsock's source checkout. In a checkout (with this package installed from it):
  libsock bench                 the quick comparison (Python implementations, < 1 min)
  python3 bench/py/quick.py     the same, without the command
  python3 bench/run.py          the full suite: C, Rust and fan-in too (see bench/README.md)
"""


def _bench_quick() -> Optional[str]:
    """bench/py/quick.py of the source checkout we are in (the current directory or a parent),
    or of the checkout this package runs from (an in-place or editable install); else None."""
    here = os.path.abspath(os.getcwd())
    places = [here]
    while os.path.dirname(places[-1]) != places[-1]:
        places.append(os.path.dirname(places[-1]))
    # bindings/python/libsock/cli.py in a checkout: the checkout is three folders up.
    places.append(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))))))
    for root in places:
        quick = os.path.join(root, BENCH_QUICK)
        if os.path.isfile(quick) and os.path.isfile(os.path.join(root, "pyproject.toml")):
            return quick
    return None


def cmd_bench(argv: Sequence[str]) -> int:
    """``libsock bench [ARGS]``: runs the checkout's bench/py/quick.py with ARGS (its options and
    --help are its own), or says where the benchmarks are when there is no checkout."""
    quick = _bench_quick()
    if quick is None:
        sys.stderr.write(BENCH_ELSEWHERE)
        return EXIT_USAGE
    try:
        return subprocess.call([sys.executable, quick, *argv])
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED


# --------------------------------------------------------------------------------------------
# the command line


class _Formatter(argparse.RawDescriptionHelpFormatter):
    pass


def _add_common(p: argparse.ArgumentParser, framing: bool = True) -> None:
    if framing:
        p.add_argument("--framing", "-f", type=parse_framing, default=parse_framing("raw"),
                       metavar="F", help=FRAMING_HELP)
        p.add_argument("--max-len", type=_positive_int, default=None, metavar="BYTES",
                       help="largest message accepted with lines, crlf, length or hp framing "
                            "(default: libsock's, 16 MiB); a larger one is an error")


def _add_tls(p: argparse.ArgumentParser, server: bool) -> None:
    g = p.add_argument_group("TLS")
    g.add_argument("--tls", action="store_true",
                   help="speak TLS (implied by the other TLS options)")
    g.add_argument("--cert", metavar="FILE", default=None,
                   help="certificate chain (PEM)" + (
                       "; without it a self-signed one is made and its pin printed"
                       if server else " presented to the server (mTLS)"))
    g.add_argument("--key", metavar="FILE", default=None, help="private key (PEM) of --cert")
    if server:
        g.add_argument("--ca", metavar="FILE", default=None,
                       help="require client certificates signed by these CAs (mTLS)")
    else:
        g.add_argument("--ca", metavar="FILE", default=None,
                       help="trust these CA certificates (PEM) instead of the system's")
        g.add_argument("--pin", metavar="SHA256", default=None,
                       help="trust only a server whose certificate has this SHA-256 fingerprint "
                            "(what 'libsock cert' and a TLS 'libsock listen' print)")
        g.add_argument("--server-name", metavar="NAME", default=None,
                       help="the name to check and send (default: the host connected to)")
        g.add_argument("--insecure", action="store_true",
                       help="DANGER: do not verify the server (anyone on the path can read and "
                            "change the traffic)")


def _client_tls(args: argparse.Namespace) -> Optional["libsock.TLS"]:
    """The client TLS settings the options ask for, or None."""
    if not (args.tls or args.ca or args.pin or args.insecure or args.cert):
        return None
    return libsock.TLS(ca=args.ca, pin=args.pin, insecure=args.insecure,
                       server_name=args.server_name, cert=args.cert, key=args.key)


def _server_tls(args: argparse.Namespace) -> Optional["libsock.TLS"]:
    """The server TLS settings the options ask for (a fresh self-signed certificate when none
    is given: its pin is printed for the clients), or None."""
    if not (args.tls or args.cert or args.ca):
        return None
    cert, key = args.cert, args.key
    if cert is None:
        cert_pem, key_pem = libsock.self_signed(["localhost", "127.0.0.1", "::1"])
        cert, key = cert_pem.encode(), key_pem.encode()
        _log("TLS with a fresh self-signed certificate; clients connect with --pin %s"
             % libsock.fingerprint(cert_pem))
    elif key is None:
        raise CliError("--cert needs --key")
    auth = "required" if args.ca else None
    return libsock.TLS(cert=cert, key=key, client_auth=auth, client_ca=args.ca)


def cmd_cert(args: argparse.Namespace) -> int:
    cert, key = libsock.self_signed(args.names)
    crt_path, key_path = args.out + ".pem", args.out + ".key"
    for path, text, mode in [(crt_path, cert, 0o644), (key_path, key, 0o600)]:
        if os.path.exists(path) and not args.force:
            raise CliError("%s exists (--force to overwrite)" % path)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(fd, "w") as f:
            f.write(text)
    print("certificate %s, key %s for %s" % (crt_path, key_path, ", ".join(args.names)))
    print("pin (SHA-256): %s" % libsock.fingerprint(cert))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        formatter_class=_Formatter,
        description="Talk over TCP, UDP and Unix sockets from the shell, in the style of netcat, "
                    "with libsock's framing, timeouts and clear errors.",
        epilog="""addresses:
  host:port      127.0.0.1:9000, localhost:9000, example.com:80
  [v6]:port      [::1]:9000
  unix:/path     a Unix socket (unix:@name for a Linux abstract one)
  port           a bare port: 0.0.0.0:port to listen on, 127.0.0.1:port to connect to

examples:
  libsock demo                                   what libsock does, in a few seconds
  libsock listen 9000 --echo                     an echo server
  libsock connect localhost:9000                 type lines, see them echoed
  libsock listen 9000 --framing lines --once     print one client's lines
  libsock recv-file 9000 ./incoming/             receive a file (checksum printed)
  libsock send-file host:9000 big.iso            send one, with a progress bar
  libsock bench                                  (in a source checkout) libsock against asyncio, ...
""",
    )
    parser.add_argument("--version", "-V", action="version", version="%(prog)s " + _version())
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser(
        "listen", help="accept clients; echo or print what they send (like nc -l)",
        formatter_class=_Formatter,
        description="Listen on ADDRESS and accept clients. With --echo every client gets back "
                    "what it sends (message by message with a framing). Otherwise what arrives is "
                    "printed to stdout, one message per line with a framing; with --once, stdin "
                    "also goes to the client, as with nc -l. Status lines go to stderr.",
        epilog="examples:\n  libsock listen 127.0.0.1:9000 --echo\n"
               "  libsock listen 9000 --framing length:4 --once > messages.txt\n"
               "  libsock listen unix:/tmp/app.sock --framing lines",
    )
    p.add_argument("address", metavar="ADDRESS", help="where to listen (port 0: any free port)")
    p.add_argument("--echo", "-e", action="store_true", help="send back what each client sends")
    p.add_argument("--once", "-1", action="store_true",
                   help="serve one client, then exit (without --echo: stdin goes to the client)")
    p.add_argument("--timeout", "-w", type=_positive_float, default=None, metavar="S",
                   help="close a client that stays silent for S seconds (default: never)")
    p.add_argument("--accept-timeout", type=_positive_float, default=None, metavar="S",
                   help="give up when no client connects for S seconds (default: wait)")
    p.add_argument("--reuse-port", action="store_true", help="set SO_REUSEPORT")
    _add_common(p)
    _add_tls(p, server=True)
    p.set_defaults(func=cmd_listen)

    p = sub.add_parser(
        "connect", help="connect; stdin to the socket, the socket to stdout (like nc)",
        formatter_class=_Formatter,
        description="Connect to ADDRESS, send stdin and print what comes back. When stdin ends, "
                    "the socket is half-closed (shutdown for writing) and the reply is read until "
                    "the peer closes. With a framing, every input line is one message and every "
                    "message received is printed as a line (fixed:N: N-byte blocks as they are).",
        epilog="examples:\n  echo hello | libsock connect 127.0.0.1:9000\n"
               "  libsock connect localhost:9000 --framing lines --timeout 5\n"
               "  printf 'GET / HTTP/1.0\\r\\n\\r\\n' | libsock connect example.com:80",
    )
    p.add_argument("address", metavar="ADDRESS", help="where to connect")
    p.add_argument("--timeout", "-w", type=_positive_float, default=None, metavar="S",
                   help="connect timeout, and give up when the connection is idle for S "
                        "seconds (default: wait)")
    p.add_argument("--verbose", "-v", action="store_true", help="report the connection on stderr")
    _add_common(p)
    _add_tls(p, server=False)
    p.set_defaults(func=cmd_connect)

    p = sub.add_parser(
        "udp", help="send stdin lines as datagrams, or print received datagrams",
        formatter_class=_Formatter,
        description="Without --listen: send each line of stdin as one datagram to ADDRESS and "
                    "print the datagrams that come back; after stdin ends, wait --wait seconds "
                    "for more. With --listen: bind ADDRESS and print each datagram as "
                    "'[sender] data'; --echo sends it back.",
        epilog="examples:\n  libsock udp --listen 9999 --echo\n"
               "  echo ping | libsock udp 127.0.0.1:9999",
    )
    p.add_argument("address", metavar="ADDRESS", help="where to send, or with --listen where to bind")
    p.add_argument("--listen", "-l", action="store_true", help="receive on ADDRESS")
    p.add_argument("--echo", "-e", action="store_true", help="with --listen: send datagrams back")
    p.add_argument("--count", "-c", type=_positive_int, default=None, metavar="N",
                   help="with --listen: exit after N datagrams")
    p.add_argument("--wait", type=float, default=1.0, metavar="S",
                   help="without --listen: seconds to wait for replies after stdin ends "
                        "(default: 1)")
    p.add_argument("--verbose", "-v", action="store_true", help="report refused datagrams")
    p.set_defaults(func=cmd_udp)

    p = sub.add_parser(
        "send-file", help="send a file to a 'libsock recv-file' (progress bar, SHA-256)",
        formatter_class=_Formatter,
        description="Connect to a 'libsock recv-file' at ADDRESS and send FILE (its name and size "
                    "first, the bytes with sendfile, then a SHA-256 checksum). Both ends print "
                    "the checksum; the exit status is nonzero if the receiver got different bytes.",
        epilog="example:\n  libsock send-file 192.0.2.7:9000 backup.tar.gz",
    )
    p.add_argument("address", metavar="ADDRESS", help="the receiver's address")
    p.add_argument("file", metavar="FILE", help="the file to send")
    p.add_argument("--timeout", "-w", type=_positive_float, default=60.0, metavar="S",
                   help="connect timeout and longest stall allowed (default: 60)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    _add_tls(p, server=False)
    p.set_defaults(func=cmd_send_file)

    p = sub.add_parser(
        "recv-file", help="receive one file from 'libsock send-file' (progress bar, SHA-256)",
        formatter_class=_Formatter,
        description="Listen on ADDRESS for one 'libsock send-file', write the file to OUT (or into "
                    "OUT under the sender's file name when OUT is a directory) and print its "
                    "SHA-256. The exit status is nonzero if it differs from the sender's.",
        epilog="example:\n  libsock recv-file 0.0.0.0:9000 ./incoming/",
    )
    p.add_argument("address", metavar="ADDRESS", help="where to listen (port 0: any free port)")
    p.add_argument("out", metavar="OUT", help="the file to write, or a directory")
    p.add_argument("--timeout", "-w", type=_positive_float, default=None, metavar="S",
                   help="give up when no sender connects within S seconds (default: wait)")
    p.add_argument("--idle-timeout", type=_positive_float, default=60.0, metavar="S",
                   help="longest stall allowed during the transfer (default: 60)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    _add_tls(p, server=True)
    p.set_defaults(func=cmd_recv_file)

    p = sub.add_parser(
        "cert", help="write a self-signed certificate and key for names/IPs, print its pin",
        formatter_class=_Formatter,
        description="Make a self-signed certificate for NAME... (host names and IP addresses), "
                    "write it to OUT.pem and its key to OUT.key (mode 600), and print its SHA-256 "
                    "fingerprint: serve it with 'libsock listen --cert OUT.pem --key OUT.key' and "
                    "trust it with 'libsock connect --pin FINGERPRINT'.",
        epilog="example:\n  libsock cert localhost 127.0.0.1 --out device",
    )
    p.add_argument("names", metavar="NAME", nargs="+", help="host names and IP addresses")
    p.add_argument("--out", "-o", default="libsock-cert", metavar="OUT",
                   help="file name prefix (default: libsock-cert)")
    p.add_argument("--force", action="store_true", help="overwrite existing files")
    p.set_defaults(func=cmd_cert)

    p = sub.add_parser(
        "demo", help="a guided tour on loopback: sticky packets, half-close, timeouts, errors",
        formatter_class=_Formatter,
        description="Start a server and clients on 127.0.0.1 and show, step by step: messages "
                    "glued together on raw TCP and kept apart by framing, half-close, a recv "
                    "timeout, and libsock's errors. Takes about a second.",
    )
    p.add_argument("--max-time", type=_positive_float, default=30.0, metavar="S",
                   help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_demo)

    # Only listed here: main() hands everything after "bench" to cmd_bench (bench/py/quick.py
    # parses it), so that `libsock bench --help` is the quick comparison's own help.
    sub.add_parser(
        "bench", add_help=False,
        help="in a source checkout: libsock against the stdlib, asyncio, uvloop, pyzmq (< 1 min)",
    )
    # Descriptions are prose: wrap them (the raw formatter keeps the epilogs' layout).
    for each in [parser, *sub.choices.values()]:
        if each.description:
            each.description = textwrap.fill(each.description, 78)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of the ``libsock`` console script; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["bench"]:
        return cmd_bench(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    where = "%s %s" % (PROG, args.command)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except CliError as e:
        sys.stderr.write("%s: %s\n" % (where, e))
        return e.status
    except libsock.InvalidArgumentError as e:
        sys.stderr.write("%s: error: %s\n" % (where, e))
        return EXIT_USAGE
    except libsock.Error as e:  # before BrokenPipeError: a socket's broken pipe is worth a line
        sys.stderr.write("%s: error: %s\n" % (where, e))
        return 1
    except BrokenPipeError:
        # stdout went away (e.g. piped into head): not worth a message. Point stdout at
        # /dev/null so that the final flush at exit does not complain again.
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError, AttributeError):
            pass
        return 1
    except (OSError, ValueError) as e:
        sys.stderr.write("%s: error: %s\n" % (where, e))
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
