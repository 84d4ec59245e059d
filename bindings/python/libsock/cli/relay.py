"""``libsock relay A B``: join two stream endpoints, like socat, and show what passes.

Each end is ``listen:ADDRESS`` (accept a client there) or ``ADDRESS`` / ``connect:ADDRESS``
(connect there). Both directions are copied at once; each end may have its own framing (messages
are re-framed on the way: ``--framing-a lines --framing-b length:4``); the end of one direction is
passed on as a half-close; a partial frame at the end is passed on as it is, with a note.
"""

from __future__ import annotations

import argparse
import threading
from typing import Any, List, Optional, Tuple

import libsock

from .common import (
    CliError,
    Display,
    EXIT_USAGE,
    Formatter,
    FramingSpec,
    add_display,
    bind_address,
    client_tls,
    fmt_addr,
    log,
    parse_framing,
    peer_address,
    positive_float,
    positive_int,
    server_tls,
)
from .stream import Link


class End:
    """One side of the relay as given on the command line."""

    def __init__(self, text: str, name: str) -> None:
        self.name = name
        self.text = text
        self.prefix = name.lower() + "_"  # of its TLS options: --a-pin is args.a_pin
        self.tls: Any = None
        low = text.lower()
        if low.startswith("listen:"):
            self.listen = True
            self.address = bind_address(text[len("listen:"):])
        else:
            self.listen = False
            self.address = peer_address(text[len("connect:"):] if low.startswith("connect:")
                                        else text)
        if not self.address:
            raise CliError("relay end %s: no address in %r" % (name, text), EXIT_USAGE)


def _copy(src: Link, dst: Link, failures: List[BaseException], on_end: Any) -> None:
    """Copy ``src`` to ``dst`` until ``src`` ends (a partial frame at the end passed on as it
    is), then half-close ``dst``."""
    try:
        def forward(data: bytes, tail: bool) -> None:
            if tail:
                dst.send_raw(data, record=False)
            else:
                dst.send(data, record=False)

        n = src.receive(forward, show=src.display.show)
        log("%s: end of stream after %d bytes; passing the half-close on" % (src.label, n))
        try:
            dst.conn.shutdown("write")
        except libsock.Error:
            pass
    except (libsock.Error, OSError) as e:
        failures.append(e)
        log("%s: %s" % (src.label, e))
    finally:
        on_end()


def _open(end: End, spec: FramingSpec, args: argparse.Namespace,
          listener: Optional[Any]) -> Tuple[Any, Any]:
    if listener is not None:
        conn, peer = listener.accept(timeout=args.accept_timeout)
        log("%s: connection from %s" % (end.name, fmt_addr(peer)))
        return conn, peer
    conn = libsock.connect(end.address, framing=spec.build(args.max_len),
                           connect_timeout=args.connect_timeout, tls=end.tls)
    log("%s: connected to %s" % (end.name, fmt_addr(conn.peer_address)))
    return conn, conn.peer_address


def _session(number: int, a_conn: Any, a_peer: Any, b: End, args: argparse.Namespace,
             display: Display, b_listener: Optional[Any]) -> int:
    sa, sb = args.framing_a, args.framing_b
    try:
        b_conn, b_peer = _open(b, sb, args, b_listener)
    except (libsock.Error, OSError) as e:
        log("relay %d: %s" % (number, e))
        a_conn.close()
        return 1
    a_name = fmt_addr(a_peer)
    b_name = fmt_addr(b_peer)
    failures: List[BaseException] = []
    done = threading.Semaphore(0)
    with a_conn, b_conn:
        for conn in (a_conn, b_conn):
            if args.timeout is not None:
                conn.settimeout(args.timeout)
        la = Link(a_conn, sa, display, "relay %d A>B %s" % (number, a_name), args, "a-to-b")
        lb = Link(b_conn, sb, display, "relay %d B>A %s" % (number, b_name), args, "b-to-a")
        threads = [
            threading.Thread(target=_copy, daemon=True, name="relay a>b",
                             args=(la, lb, failures, done.release)),
            threading.Thread(target=_copy, daemon=True, name="relay b>a",
                             args=(lb, la, failures, done.release)),
        ]
        for t in threads:
            t.start()
        done.acquire()
        if failures:
            # One direction broke: the other cannot go on meaningfully; closing ends it.
            a_conn.close()
            b_conn.close()
        done.acquire()
    log("relay %d: closed" % number)
    return 1 if failures else 0


def cmd_relay(args: argparse.Namespace) -> int:
    a, b = End(args.a, "A"), End(args.b, "B")
    for end in (a, b):
        if end.listen:
            if getattr(args, end.prefix + "pin") or getattr(args, end.prefix + "insecure"):
                raise CliError("--%s-pin and --%s-insecure are for an end that connects"
                               % (end.prefix[0], end.prefix[0]), EXIT_USAGE)
            end.tls = server_tls(args, end.prefix)
        else:
            end.tls = client_tls(args, end.prefix)
    args.framing_a = args.framing_a or args.framing
    args.framing_b = args.framing_b or args.framing
    display = Display(args, framed=False, labels=True)
    display.show = not args.quiet
    listeners: List[Any] = []
    try:
        a_listener = b_listener = None
        if a.listen:
            a_listener = libsock.listen(a.address, framing=args.framing_a.build(args.max_len),
                                        remove_stale=True, tls=a.tls)
            listeners.append(a_listener)
            log("A: listening on %s" % fmt_addr(a_listener.address))
        if b.listen:
            b_listener = libsock.listen(b.address, framing=args.framing_b.build(args.max_len),
                                        remove_stale=True, tls=b.tls)
            listeners.append(b_listener)
            log("B: listening on %s" % fmt_addr(b_listener.address))
        log("relay ready (A framing %s, B framing %s)" % (args.framing_a, args.framing_b))
        if a_listener is None or b_listener is not None or args.once:
            # One pair: connect or accept A, then B.
            a_conn, a_peer = _open(a, args.framing_a, args, a_listener)
            return _session(1, a_conn, a_peer, b, args, display, b_listener)
        number = 0
        sessions: List[threading.Thread] = []
        while args.count is None or number < args.count:
            a_conn, a_peer = a_listener.accept(timeout=args.accept_timeout)
            number += 1
            log("A: connection from %s (relay %d)" % (fmt_addr(a_peer), number))
            t = threading.Thread(target=_session, daemon=True, name="relay %d" % number,
                                 args=(number, a_conn, a_peer, b, args, display, None))
            t.start()
            sessions.append(t)
        for t in sessions:  # --count: the last pairs finish before the command does
            t.join()
        return 0
    finally:
        for lst in listeners:
            lst.close()
        display.close()


def add_parsers(sub: Any) -> None:
    """Register ``relay``."""
    p = sub.add_parser(
        "relay", help="join two endpoints both ways, like socat; log and hex-dump what passes",
        formatter_class=Formatter,
        description="Copy A to B and B to A at once. An end is listen:ADDRESS (accept there) or "
                    "ADDRESS (connect there; connect:ADDRESS says it explicitly). With A "
                    "listening, every client of A gets its own connection to B (--once: one "
                    "client, then exit). When one side finishes sending, the other side gets a "
                    "half-close (shutdown for writing) and the other direction goes on. With "
                    "framings, messages are cut on one side and re-framed on the other. What passes is shown on stdout with its direction (text, or --hex dumps; --quiet: nothing).",
        epilog="examples:\n"
               "  libsock relay listen:9000 127.0.0.1:80 --hex        see what passes\n"
               "  libsock relay listen:9000 device:502 --log modbus.jsonl\n"
               "  libsock relay listen:9000 backend:7000 --framing-a lines --framing-b length:4\n"
               "  libsock relay listen:unix:/tmp/app.sock 127.0.0.1:9000\n"
               "  libsock relay listen:9000 example.com:443 --b-tls      TLS to B, plain for A",
    )
    p.add_argument("a", metavar="A", help="listen:ADDRESS or ADDRESS (connect)")
    p.add_argument("b", metavar="B", help="listen:ADDRESS or ADDRESS (connect)")
    p.add_argument("--framing", "-f", type=parse_framing, default=parse_framing("raw"),
                   metavar="F", help="the framing of both ends (default raw)")
    p.add_argument("--framing-a", type=parse_framing, default=None, metavar="F",
                   help="A's framing (overrides --framing)")
    p.add_argument("--framing-b", type=parse_framing, default=None, metavar="F",
                   help="B's framing (overrides --framing)")
    p.add_argument("--max-len", type=positive_int, default=None, metavar="BYTES",
                   help="largest message accepted (default: libsock's, 16 MiB)")
    p.add_argument("--once", "-1", action="store_true", help="relay one pair, then exit")
    p.add_argument("--count", "-n", type=positive_int, default=None, metavar="N",
                   help="with A listening: accept N clients, then stop accepting")
    p.add_argument("--timeout", "-w", type=positive_float, default=None, metavar="S",
                   help="close a pair idle for S seconds (default: never)")
    p.add_argument("--connect-timeout", type=positive_float, default=10.0, metavar="S",
                   help="connect timeout (default: 10)")
    p.add_argument("--accept-timeout", type=positive_float, default=None, metavar="S",
                   help="give up when no client connects for S seconds (default: wait)")
    for end in ("a", "b"):
        g = p.add_argument_group(
            "TLS of %s (as a server when it listens, as a client when it connects)" % end.upper())
        o, d = "--%s-" % end, "%s_" % end
        g.add_argument(o + "tls", dest=d + "tls", action="store_true",
                       help="speak TLS on %s (implied by the options below)" % end.upper())
        g.add_argument(o + "cert", dest=d + "cert", metavar="FILE", default=None,
                       help="certificate chain (PEM): a listening end serves it (default: a "
                            "fresh self-signed one, its pin printed); a connecting end presents it")
        g.add_argument(o + "key", dest=d + "key", metavar="FILE", default=None,
                       help="private key (PEM) of the certificate")
        g.add_argument(o + "ca", dest=d + "ca", metavar="FILE", default=None,
                       help="listening: require client certificates from these CAs; "
                            "connecting: trust these CAs instead of the system's")
        g.add_argument(o + "pin", dest=d + "pin", metavar="SHA256", default=None,
                       help="connecting: trust only this certificate fingerprint")
        g.add_argument(o + "server-name", dest=d + "server_name", metavar="NAME", default=None,
                       help="connecting: the name to check and send")
        g.add_argument(o + "insecure", dest=d + "insecure", action="store_true",
                       help="connecting: DANGER, do not verify the server")
    add_display(p)
    p.add_argument("--quiet", "-q", action="store_true",
                   help="show nothing on stdout (--log still records)")
    p.set_defaults(func=cmd_relay)
