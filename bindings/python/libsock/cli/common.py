"""What every ``libsock`` subcommand shares: errors, addresses, ``--framing``, TLS options, and the
way data is shown (text or hex dump, sender labels, timestamps, a JSON-lines log) and typed (mixed
hex input, auto-reply rules, repeat intervals)."""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import sys
import threading
from typing import IO, Any, Dict, List, Optional, Sequence

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


class CliError(Exception):
    """A failure worth one line on stderr and a nonzero exit status (no traceback)."""

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.status = status


def version() -> str:
    """libsock's version, from the package or its distribution metadata."""
    v = getattr(libsock, "__version__", None)
    if v:
        return str(v)
    try:
        from importlib.metadata import version as dist_version

        return dist_version("libsock")
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


def bind_address(text: str) -> str:
    """A bare port number means every IPv4 interface (``9000`` -> ``0.0.0.0:9000``)."""
    return "0.0.0.0:" + text if text.isdigit() else text


def peer_address(text: str) -> str:
    """A bare port number means this machine (``9000`` -> ``127.0.0.1:9000``)."""
    return "127.0.0.1:" + text if text.isdigit() else text


def log(msg: str) -> None:
    """A status line for the user, on stderr so that stdout carries only data."""
    try:
        sys.stderr.write("%s: %s\n" % (PROG, msg))
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


def stdout() -> Any:
    """Standard output as bytes."""
    return sys.stdout.buffer


def write_out(out: Any, lock: threading.Lock, data: bytes) -> None:
    """Write and flush under ``lock`` (several threads print)."""
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


def positive_float(text: str) -> float:
    """argparse type: seconds, more than 0."""
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("%r is not a number of seconds" % text) from None
    if not v > 0:
        raise argparse.ArgumentTypeError("a timeout must be more than 0 seconds")
    return v


def positive_int(text: str) -> int:
    """argparse type: a whole number of at least 1."""
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("%r is not a whole number" % text) from None
    if v <= 0:
        raise argparse.ArgumentTypeError("must be at least 1")
    return v


_DURATION = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*(ms|s|m)?\s*$")


def duration(text: str) -> float:
    """argparse type for ``--every``: ``500ms``, ``2s``, ``1.5`` (seconds) or ``1m``."""
    m = _DURATION.match(text.lower())
    if not m:
        raise argparse.ArgumentTypeError(
            "%r is not a duration; write e.g. 500ms, 2s or 1m" % text)
    v = float(m.group(1)) * {"ms": 0.001, "s": 1.0, "m": 60.0, None: 1.0}[m.group(2)]
    if not v > 0:
        raise argparse.ArgumentTypeError("a duration must be more than 0")
    return v


def rate(text: str) -> float:
    """argparse type for ``--rate``: messages per second (more than 0)."""
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("%r is not a number of messages per second" % text) \
            from None
    if not v > 0:
        raise argparse.ArgumentTypeError("a rate must be more than 0 messages per second")
    return v


# --------------------------------------------------------------------------------------------
# mixed hex input


_HEX_GROUP = re.compile(rb"\[([0-9A-Fa-f\s]*)\]")
_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"0": b"\0", b"\\": b"\\", b"[": b"[",
            b"]": b"]", b"e": b"\x1b"}


def parse_mixed(data: bytes) -> bytes:
    """Text with hex in it: ``[FF AB 01]`` groups (spaces optional) and the escapes ``\\xNN``,
    ``\\n``, ``\\r``, ``\\t``, ``\\0``, ``\\e``, ``\\\\``, ``\\[`` and ``\\]``; everything else as it is.
    A malformed group or escape is a ``ValueError`` naming it."""
    out = bytearray()
    i, n = 0, len(data)
    while i < n:
        c = data[i:i + 1]
        if c == b"\\":
            nxt = data[i + 1:i + 2]
            if nxt == b"x":
                digits = data[i + 2:i + 4]
                if len(digits) != 2 or not re.match(rb"^[0-9A-Fa-f]{2}$", digits):
                    raise ValueError("bad escape %r: \\x needs two hex digits"
                                     % data[i:i + 4].decode("latin-1"))
                out += bytes([int(digits, 16)])
                i += 4
                continue
            if nxt in _ESCAPES:
                out += _ESCAPES[nxt]
                i += 2
                continue
            raise ValueError("bad escape %r (use \\xNN, \\n, \\r, \\t, \\0, \\e, \\\\, \\[, \\])"
                             % data[i:i + 2].decode("latin-1"))
        if c == b"[":
            m = _HEX_GROUP.match(data, i)
            if not m:
                raise ValueError("bad hex group at %r: write [FF AB 01] (or \\[ for a bracket)"
                                 % data[i:i + 12].decode("latin-1"))
            digits = re.sub(rb"\s", b"", m.group(1))
            if len(digits) % 2:
                raise ValueError("hex group %r has an odd number of digits"
                                 % m.group(0).decode("latin-1"))
            out += bytes.fromhex(digits.decode())
            i = m.end()
            continue
        out += c
        i += 1
    return bytes(out)


def mixed_arg(text: str) -> bytes:
    """argparse type: text with ``[FF AB]`` groups and ``\\x`` escapes (see parse_mixed)."""
    try:
        return parse_mixed(os.fsencode(text))
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


class ReplyRule:
    """``--reply MATCH=RESPONSE``: what arrives containing MATCH is answered with RESPONSE."""

    def __init__(self, match: bytes, response: bytes) -> None:
        self.match = match
        self.response = response

    def __repr__(self) -> str:
        return "ReplyRule(%r, %r)" % (self.match, self.response)


def reply_rule(text: str) -> ReplyRule:
    """argparse type for ``--reply``: ``MATCH=RESPONSE``, both hex-aware (``\\=`` is an equals
    sign in MATCH)."""
    raw = os.fsencode(text)
    m = re.match(rb"^((?:\\.|[^=\\])*)=(.*)$", raw, re.S)
    if not m or not m.group(1):
        raise argparse.ArgumentTypeError(
            "%r: write MATCH=RESPONSE (MATCH not empty; \\= for an equals sign in it)" % text)
    try:
        match = parse_mixed(m.group(1).replace(b"\\=", b"="))
        response = parse_mixed(m.group(2))
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None
    return ReplyRule(match, response)


def replies_for(rules: Sequence[ReplyRule], data: bytes) -> List[bytes]:
    """The responses of every rule whose MATCH occurs in ``data``, in the rules' order."""
    return [r.response for r in rules if r.match in data]


# --------------------------------------------------------------------------------------------
# showing data


def hexdump(data: bytes, offset: int = 0) -> bytes:
    """``xxd``-style lines: offset, 16 bytes in hex (grouped by two), the printable ASCII."""
    lines = []
    for at in range(0, len(data), 16):
        row = data[at:at + 16]
        hx = " ".join(row[i:i + 2].hex() for i in range(0, len(row), 2))
        text = "".join(chr(b) if 32 <= b < 127 else "." for b in row)
        lines.append("%08x: %-39s  %s\n" % (offset + at, hx, text))
    return "".join(lines).encode()


def _now_text() -> str:
    return datetime.datetime.now().strftime("%H:%M:%S.%f")[:-3]


class Display:
    """Where received (and, for the log, sent) data goes: stdout as text or hex dump, with sender
    labels and timestamps when asked, and a JSON-lines log file.

    ``framed`` data is one message; raw data is a chunk of a stream. Plain output (no hex, label
    or timestamp) is exactly the bytes (messages one per line), so pipes stay byte exact.
    """

    def __init__(self, args: argparse.Namespace, framed: bool, fixed: bool = False,
                 labels: bool = False, out: Any = None) -> None:
        self.hex = bool(getattr(args, "hex", False))
        self.timestamps = bool(getattr(args, "timestamps", False))
        self.labels = labels
        self.show = True
        self.framed = framed
        self.fixed = fixed
        self.out = stdout() if out is None else out
        self.lock = threading.Lock()
        self.offsets: Dict[str, int] = {}
        self.log_file: Optional[IO[str]] = None
        path = getattr(args, "log", None)
        if path:
            try:
                self.log_file = open(path, "a", encoding="utf-8")
            except OSError as e:
                raise CliError("cannot write the log %s: %s" % (path, e.strerror or e))

    def close(self) -> None:
        if self.log_file is not None:
            self.log_file.close()
            self.log_file = None

    def record(self, direction: str, peer: str, data: bytes, note: Optional[str] = None) -> None:
        """One JSON line in the log: time, direction (in/out), peer, length, data as hex (and as
        text when it is UTF-8)."""
        if self.log_file is None:
            return
        entry: Dict[str, Any] = {
            "time": datetime.datetime.now(datetime.timezone.utc).isoformat(
                timespec="microseconds"),
            "direction": direction,
            "peer": peer,
            "length": len(data),
            "hex": data.hex(),
        }
        try:
            entry["text"] = data.decode("utf-8")
        except UnicodeDecodeError:
            pass
        if note:
            entry["note"] = note
        with self.lock:
            self.log_file.write(json.dumps(entry) + "\n")
            self.log_file.flush()

    def sent(self, peer: str, data: bytes) -> None:
        """Something went out (only logged)."""
        self.record("out", peer, data)

    def received(self, peer: str, label: str, data: bytes, tail: bool = False,
                 direction: str = "in", framed: Optional[bool] = None) -> None:
        """Something arrived from ``peer`` (``label``: ``client 3 127.0.0.1:5123``); ``tail``: the
        bytes left at the end of the stream that did not form a whole message."""
        self.record(direction, peer, data, note="tail" if tail else None)
        if not self.show:
            return
        framed = (self.framed if framed is None else framed) and not tail
        head = []
        if self.timestamps:
            head.append(_now_text())
        if self.labels:
            head.append("[%s]" % label)
        if self.hex:
            start = 0 if framed else self.offsets.get(label, 0)
            if not framed:
                self.offsets[label] = start + len(data)
            text = b""
            if head or framed:
                head.append("%d bytes%s" % (len(data), " (tail)" if tail else ""))
                text = " ".join(head).encode() + b"\n"
            write_out(self.out, self.lock, text + hexdump(data, start))
            return
        prefix = (" ".join(head) + " ").encode() if head else b""
        if framed and not self.fixed:
            end = b"\n"
        elif prefix and not data.endswith(b"\n"):
            end = b"\n"  # a labelled chunk gets a line of its own
        else:
            end = b""
        write_out(self.out, self.lock, prefix + data + end)


def add_display(p: argparse.ArgumentParser, labels: bool = False, log_only: bool = False) -> None:
    """The options of Display (``log_only``: only --log, for commands that print nothing)."""
    g = p.add_argument_group("showing data")
    if not log_only:
        g.add_argument("--hex", "-x", action="store_true",
                       help="show what arrives as a hex dump (offset, hex, ASCII, like xxd)")
        g.add_argument("--timestamps", "-t", action="store_true",
                       help="put the time of arrival (HH:MM:SS.mmm) before what arrives")
        if labels:
            g.add_argument("--labels", dest="labels", action="store_true", default=None,
                           help="name the sender before what arrives ([client 3 "
                                "127.0.0.1:5123]); the default without --once")
            g.add_argument("--no-labels", dest="labels", action="store_false",
                           help="print only the data, even with several clients")
    g.add_argument("--log", metavar="FILE", default=None,
                   help="append every message in and out to FILE as JSON lines (time, "
                        "direction, peer, length, hex, text)")


def add_sending(p: argparse.ArgumentParser, generator: bool = True,
                count_flags: Sequence[str] = ("--count", "-n"),
                count_help: str = "send the input N times (a traffic generator; with --every or "
                                  "--rate, else as fast as possible)") -> None:
    """Input, auto-reply and traffic generator options."""
    g = p.add_argument_group("sending")
    g.add_argument("--hex-input", "-X", action="store_true",
                   help="input lines are mixed text and hex: [FF AB 01] groups and \\xNN, \\n, "
                        "\\r, \\t escapes (\\[ for a bracket)")
    g.add_argument("--reply", "-r", type=reply_rule, action="append", default=[],
                   metavar="MATCH=RESPONSE",
                   help="answer what arrives containing MATCH with RESPONSE (both may use "
                        "[FF AB] and \\x escapes; repeatable; every matching rule answers)")
    if generator:
        g.add_argument("--send", "-s", default=None, metavar="DATA",
                       help="send DATA (one message) instead of reading stdin; with "
                            "--hex-input it may hold [FF AB] groups and \\x escapes")
        g.add_argument("--every", type=duration, default=None, metavar="T",
                       help="send the input (--send, or all of stdin) again every T (500ms, 2s); "
                            "until --count or Ctrl-C")
        g.add_argument(*count_flags, dest="count", type=positive_int, default=None,
                       metavar="N", help=count_help)
        g.add_argument("--rate", type=rate, default=None, metavar="R",
                       help="send at R messages per second (a traffic generator)")


def prepare_sending(args: argparse.Namespace) -> None:
    """Checks across the sending options (a usage error when they contradict)."""
    if getattr(args, "every", None) is not None and getattr(args, "rate", None) is not None:
        raise CliError("--every and --rate both set the pace: use one", EXIT_USAGE)


def generating(args: argparse.Namespace) -> bool:
    """True when the input is a payload to send (--send / --every / --count / --rate) rather
    than a stream copied from stdin."""
    return any(getattr(args, k, None) is not None for k in ("send", "every", "count", "rate"))


# --------------------------------------------------------------------------------------------
# argparse helpers


class Formatter(argparse.RawDescriptionHelpFormatter):
    """Epilogs keep their layout."""


def add_common(p: argparse.ArgumentParser, framing: bool = True) -> None:
    """--framing and --max-len."""
    if framing:
        p.add_argument("--framing", "-f", type=parse_framing, default=parse_framing("raw"),
                       metavar="F", help=FRAMING_HELP)
        p.add_argument("--max-len", type=positive_int, default=None, metavar="BYTES",
                       help="largest message accepted with lines, crlf, length or hp framing "
                            "(default: libsock's, 16 MiB); a larger one is an error")


def add_tls(p: argparse.ArgumentParser, server: bool, prefix: str = "") -> None:
    """The TLS options of a server or a client (``prefix``: e.g. ``a-`` for relay's ends)."""
    g = p.add_argument_group("TLS" + (" (%s)" % prefix.rstrip("-") if prefix else ""))
    o = "--" + prefix
    d = prefix.replace("-", "_")
    g.add_argument(o + "tls", dest=d + "tls", action="store_true",
                   help="speak TLS (implied by the other TLS options)")
    g.add_argument(o + "cert", dest=d + "cert", metavar="FILE", default=None,
                   help="certificate chain (PEM)" + (
                       "; without it a self-signed one is made and its pin printed"
                       if server else " presented to the server (mTLS)"))
    g.add_argument(o + "key", dest=d + "key", metavar="FILE", default=None,
                   help="private key (PEM) of --cert")
    if server:
        g.add_argument(o + "ca", dest=d + "ca", metavar="FILE", default=None,
                       help="require client certificates signed by these CAs (mTLS)")
    else:
        g.add_argument(o + "ca", dest=d + "ca", metavar="FILE", default=None,
                       help="trust these CA certificates (PEM) instead of the system's")
        g.add_argument(o + "pin", dest=d + "pin", metavar="SHA256", default=None,
                       help="trust only a server whose certificate has this SHA-256 fingerprint "
                            "(what 'libsock cert' and a TLS 'libsock listen' print)")
        g.add_argument(o + "server-name", dest=d + "server_name", metavar="NAME", default=None,
                       help="the name to check and send (default: the host connected to)")
        g.add_argument(o + "insecure", dest=d + "insecure", action="store_true",
                       help="DANGER: do not verify the server (anyone on the path can read and "
                            "change the traffic)")


def client_tls(args: argparse.Namespace, prefix: str = "") -> Optional["libsock.TLS"]:
    """The client TLS settings the options ask for, or None."""
    def g(k: str) -> Any:
        return getattr(args, prefix + k, None)

    if not (g("tls") or g("ca") or g("pin") or g("insecure") or g("cert")):
        return None
    return libsock.TLS(ca=g("ca"), pin=g("pin"), insecure=bool(g("insecure")),
                       server_name=g("server_name"), cert=g("cert"), key=g("key"))


def server_tls(args: argparse.Namespace, prefix: str = "") -> Optional["libsock.TLS"]:
    """The server TLS settings the options ask for (a fresh self-signed certificate when none
    is given: its pin is printed for the clients), or None."""
    def g(k: str) -> Any:
        return getattr(args, prefix + k, None)

    if not (g("tls") or g("cert") or g("ca")):
        return None
    cert, key = g("cert"), g("key")
    if cert is None:
        cert_pem, key_pem = libsock.self_signed(["localhost", "127.0.0.1", "::1"])
        cert, key = cert_pem.encode(), key_pem.encode()
        log("TLS with a fresh self-signed certificate; clients connect with --pin %s"
            % libsock.fingerprint(cert_pem))
    elif key is None:
        raise CliError("--cert needs --key")
    if g("ca"):
        return libsock.TLS(cert=cert, key=key, client_auth="required", client_ca=g("ca"))
    return libsock.TLS(cert=cert, key=key)


__all__ = [
    "PROG", "FRAMING_HELP", "EXIT_USAGE", "EXIT_INTERRUPTED", "CliError", "version", "fmt_addr",
    "bind_address", "peer_address", "log", "stdout", "write_out", "FramingSpec", "parse_framing",
    "positive_float", "positive_int", "duration", "rate", "parse_mixed", "mixed_arg",
    "ReplyRule", "reply_rule", "replies_for", "hexdump", "Display", "add_display", "add_sending",
    "prepare_sending", "generating", "Formatter", "add_common", "add_tls", "client_tls",
    "server_tls",
]
