"""``libsock connect`` and ``libsock listen``: stdin to a stream socket and the socket to stdout,
an echo server, auto-replies and a traffic generator.

Nothing is dropped: when a stream ends inside a frame (``printf 'a\\nb' | ...`` with
``--framing lines``), the bytes left over are printed or echoed as they are, with a note on
stderr.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from typing import Any, Callable, List, Optional

import libsock

from .common import (
    CliError,
    Display,
    EXIT_USAGE,
    Formatter,
    FramingSpec,
    add_common,
    add_display,
    add_sending,
    add_tls,
    bind_address,
    client_tls,
    fmt_addr,
    generating,
    log,
    parse_mixed,
    peer_address,
    positive_float,
    prepare_sending,
    replies_for,
    server_tls,
)


# --------------------------------------------------------------------------------------------
# input


def _line_body(line: bytes) -> bytes:
    if line.endswith(b"\n"):
        line = line[:-1]
        if line.endswith(b"\r"):
            line = line[:-1]
    return line


def _mixed(data: bytes) -> bytes:
    try:
        return parse_mixed(data)
    except ValueError as e:
        raise CliError("--hex-input: %s" % e, EXIT_USAGE) from None


def read_input(spec: FramingSpec, hex_input: bool, send: Callable[[bytes], Any],
               send_raw: Callable[[bytes], Any], src: Any = None) -> None:
    """Feed standard input (or ``src``, a binary file) to ``send``: raw chunks, N-byte blocks,
    or one message per line. With ``hex_input`` every line is parsed as mixed text and hex (its
    line ending dropped). A last fixed-size block that is too short goes to ``send_raw`` as it
    is, with a note: input is never dropped."""
    if src is None:
        stdin = sys.stdin
        if stdin is None:
            return
        if spec.is_raw and not hex_input:
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
    if hex_input:
        for line in src:
            send(_mixed(_line_body(line)))
        return
    if spec.is_raw:
        while True:
            data = src.read(65536)
            if not data:
                return
            send(data)
    if spec.kind == "fixed":
        while True:
            block = src.read(spec.size)
            if not block:
                return
            if len(block) < spec.size:
                log("input ended inside a %d-byte message: the last %d bytes are sent as they "
                    "are" % (spec.size, len(block)))
                send_raw(block)
                return
            send(block)
    for line in src:
        send(_line_body(line))


def _payload(args: argparse.Namespace, spec: FramingSpec) -> List[bytes]:
    """The messages a generator repeats: --send DATA, or all of standard input."""
    if args.send is not None:
        data = os.fsencode(args.send)
        return [_mixed(data) if args.hex_input else data]
    msgs: List[bytes] = []
    stdin = sys.stdin
    if stdin is None:
        return msgs
    read_input(spec, args.hex_input, msgs.append, msgs.append, src=stdin.buffer)
    return msgs


def generate(args: argparse.Namespace, msgs: List[bytes], send: Callable[[bytes], Any],
             stop: threading.Event) -> int:
    """Send ``msgs`` over and over: --count rounds (default: once, or forever with --every /
    --rate), paced by --every (per round) or --rate (per message). Returns messages sent."""
    count = args.count
    if count is None and args.every is None and args.rate is None:
        count = 1
    step = 1.0 / args.rate if args.rate else None
    sent = 0
    rounds = 0
    next_at = time.monotonic()
    while count is None or rounds < count:
        for m in msgs:
            if step is not None:
                if stop.wait(max(0.0, next_at - time.monotonic())):
                    return sent
                next_at += step
            send(m)
            sent += 1
        rounds += 1
        if args.every is not None and (count is None or rounds < count):
            next_at += args.every
            if stop.wait(max(0.0, next_at - time.monotonic())):
                return sent
        if not msgs and args.every is None and step is None:
            break
    return sent


# --------------------------------------------------------------------------------------------
# receiving


class Link:
    """One connection as the CLI sees it: framed or raw sends (serialized, also against the
    framing switch that reads a tail), the display, the reply rules, and who the peer is."""

    def __init__(self, conn: Any, spec: FramingSpec, display: Display, label: str,
                 args: argparse.Namespace, direction: str = "in") -> None:
        self.conn = conn
        self.spec = spec
        self.display = display
        self.label = label
        self.direction = direction
        self.peer = label.split(" ")[-1]
        self.rules = list(getattr(args, "reply", None) or [])
        self.lock = threading.Lock()

    def send(self, data: bytes, record: bool = True) -> None:
        with self.lock:
            if self.spec.is_raw:
                self.conn.sendall(data)
            else:
                self.conn.send_msg(data)
        if record:
            self.display.sent(self.peer, data)

    def send_raw(self, data: bytes, record: bool = True) -> None:
        with self.lock:
            self.conn.sendall(data)
        if record:
            self.display.sent(self.peer, data)

    def tail(self) -> bytes:
        """After the end of the stream: the bytes left in the receive buffer that did not form a
        whole frame (read as raw bytes, under the send lock so that no message goes out
        unframed meanwhile; the framing is restored after)."""
        parts = []
        with self.lock:
            try:
                framing = self.conn.framing
                self.conn.framing = libsock.Raw()
            except (libsock.Error, ValueError):
                return b""
            try:
                while True:
                    data = self.conn.recv(65536)
                    if not data:
                        break
                    parts.append(bytes(data))
            except libsock.Error:
                pass
            finally:
                try:
                    self.conn.framing = framing
                except (libsock.Error, ValueError):
                    pass
        return b"".join(parts)

    def receive(self, on_data: Optional[Callable[[bytes, bool], None]] = None,
                show: bool = True) -> int:
        """Read until the peer closes: show each message (raw: chunk), answer --reply rules and
        call ``on_data(data, is_tail)``. A partial frame at the end is delivered too, as it is,
        with a note. Returns the bytes received."""
        total = 0

        def got(data: bytes, tail: bool) -> None:
            nonlocal total
            total += len(data)
            if show:
                self.display.received(self.peer, self.label, data, tail=tail,
                                      direction=self.direction, framed=not self.spec.is_raw)
            else:
                self.display.record(self.direction, self.peer, data,
                                    note="tail" if tail else None)
            if on_data is not None:
                on_data(data, tail)
            for r in replies_for(self.rules, data):
                self.send(r)

        if self.spec.is_raw:
            while True:
                data = self.conn.recv(65536)
                if not data:
                    return total
                got(bytes(data), False)
        while True:
            try:
                msg = self.conn.recv_msg()
            except libsock.ClosedError:
                break
            got(bytes(msg), False)
        rest = self.tail()
        if rest:
            log("%s: the stream ended inside a %s frame; its last %d bytes are delivered as "
                "they are" % (self.label, self.spec, len(rest)))
            got(rest, True)
        return total


def echo(link: Link) -> int:
    """Send back everything that arrives (message by message with a framing; a partial frame at
    the end as it is); return bytes. What arrives is shown only when --hex or --timestamps asks
    for it (a plain echo server prints nothing)."""

    def back(data: bytes, tail: bool) -> None:
        if tail:
            link.send_raw(data)
        else:
            link.send(data)

    return link.receive(back, show=link.display.hex or link.display.timestamps)


def pump(link: Link, args: argparse.Namespace) -> None:
    """Standard input (or the generator) to the connection and the connection to standard
    output, as ``nc`` does.

    When the input ends, the socket is half-closed (shutdown for writing) and reading goes on
    until the peer closes. When the peer closes first, the command ends at once on a terminal;
    with piped input the rest of that input is still sent (the peer may only have half-closed).
    A generator (--every, --rate) stops when the peer closes. With --reply rules the end of
    stdin does not half-close (the replies still go out).
    """
    closing = threading.Event()
    failure: List[BaseException] = []
    gen = generating(args)
    msgs = _payload(args, link.spec) if gen else []

    def sender() -> None:
        try:
            if gen:
                generate(args, msgs, link.send, closing)
            else:
                read_input(link.spec, args.hex_input, link.send, link.send_raw)
            if link.rules and not gen:
                return  # --reply: the replies still go out after the end of stdin
            link.conn.shutdown("write")
        except (libsock.Error, OSError) as e:
            if not closing.is_set():
                failure.append(e)
        except BaseException as e:  # e.g. bad --hex-input: reported below
            failure.append(e)
            try:  # stop reading too, so that the error is reported at once
                link.conn.shutdown("both")
            except (libsock.Error, OSError):
                pass

    t = threading.Thread(target=sender, name="stdin-to-socket", daemon=True)
    t.start()
    try:
        link.receive()
        stdin_is_tty = bool(sys.stdin) and sys.stdin.isatty()
        if gen:
            closing.set()
            t.join(5)
        elif not stdin_is_tty:
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
    prepare_sending(args)
    if generating(args) and (args.echo or not args.once):
        raise CliError("--send, --every, --count and --rate go to the one client of --once "
                       "(without --echo)", EXIT_USAGE)
    framing = spec.build(args.max_len)
    labels = args.labels if args.labels is not None else not args.once
    display = Display(args, framed=not spec.is_raw, fixed=spec.kind == "fixed", labels=labels)
    with libsock.listen(bind_address(args.address), framing=framing,
                        reuse_port=args.reuse_port, remove_stale=True,
                        tls=server_tls(args)) as listener:
        mode = "echo" if args.echo else "print"
        log("listening on %s (%s, framing %s)" % (fmt_addr(listener.address), mode, spec))

        def serve(conn: Any, peer: Any, number: int, forward_stdin: bool) -> int:
            who = fmt_addr(peer)
            link = Link(conn, spec, display, "client %d %s" % (number, who), args)
            try:
                with conn:
                    if args.timeout is not None:
                        conn.settimeout(args.timeout)
                    if args.echo:
                        n = echo(link)
                        log("%s closed (echoed %d bytes)" % (who, n))
                    elif forward_stdin:
                        pump(link, args)
                        log("%s closed" % who)
                    else:
                        link.receive()
                        log("%s closed" % who)
            except libsock.TimeoutError as e:
                log("%s: idle for %gs, closing (%s)" % (who, args.timeout, e))
                return 1
            except BrokenPipeError as e:
                if isinstance(e, libsock.Error) or not forward_stdin:
                    log("%s: %s" % (who, e))
                    return 1
                raise  # our stdout went away: end quietly (see main)
            except (libsock.Error, OSError) as e:
                log("%s: %s" % (who, e))
                return 1
            return 0

        try:
            if args.once:
                conn, peer = listener.accept(timeout=args.accept_timeout)
                log("connection from %s (client 1)" % fmt_addr(peer))
                return serve(conn, peer, 1, forward_stdin=not args.echo)
            number = 0
            while True:
                conn, peer = listener.accept(timeout=args.accept_timeout)
                number += 1
                log("connection from %s (client %d)" % (fmt_addr(peer), number))
                threading.Thread(target=serve, args=(conn, peer, number, False),
                                 name="client %s" % fmt_addr(peer), daemon=True).start()
        finally:
            display.close()
    return 0  # not reached: the loop above ends only by an exception


# --------------------------------------------------------------------------------------------
# connect


def cmd_connect(args: argparse.Namespace) -> int:
    spec: FramingSpec = args.framing
    prepare_sending(args)
    kw = {}
    if args.timeout is not None:
        kw["connect_timeout"] = args.timeout
        kw["timeout"] = args.timeout
    conn = libsock.connect(peer_address(args.address), framing=spec.build(args.max_len),
                           tls=client_tls(args), **kw)
    display = Display(args, framed=not spec.is_raw, fixed=spec.kind == "fixed",
                      labels=args.labels)
    with conn:
        who = fmt_addr(conn.peer_address)
        if args.verbose:
            log("connected to %s from %s" % (who, fmt_addr(conn.local_address)))
        try:
            pump(Link(conn, spec, display, "server " + who, args), args)
        except libsock.TimeoutError:
            raise CliError("nothing happened for %g s, giving up (--timeout)" % args.timeout)
        finally:
            display.close()
    return 0


# --------------------------------------------------------------------------------------------
# the parsers


def add_parsers(sub: Any) -> None:
    """Register ``listen`` and ``connect``."""
    p = sub.add_parser(
        "listen", help="accept clients; echo or print what they send (like nc -l)",
        formatter_class=Formatter,
        description="Listen on ADDRESS and accept clients. With --echo every client gets back "
                    "what it sends (message by message with a framing). Otherwise what arrives is "
                    "printed to stdout, one message per line with a framing, each with its "
                    "sender ([client 3 127.0.0.1:5123]) when several clients may talk; with "
                    "--once, stdin also goes to the client, as with nc -l. A stream that ends "
                    "inside a frame still has its last bytes printed or echoed (with a note). "
                    "Status lines go to stderr.",
        epilog="examples:\n  libsock listen 127.0.0.1:9000 --echo\n"
               "  libsock listen 9000 --framing length:4 --once > messages.txt\n"
               "  libsock listen 9000 --hex --timestamps --log traffic.jsonl\n"
               "  libsock listen 9000 --framing lines --reply 'PING=PONG' --reply "
               "'[01 03]=[01 83 00]'\n"
               "  libsock listen unix:/tmp/app.sock --framing lines",
    )
    p.add_argument("address", metavar="ADDRESS", help="where to listen (port 0: any free port)")
    p.add_argument("--echo", "-e", action="store_true", help="send back what each client sends")
    p.add_argument("--once", "-1", action="store_true",
                   help="serve one client, then exit (without --echo: stdin goes to the client)")
    p.add_argument("--timeout", "-w", type=positive_float, default=None, metavar="S",
                   help="close a client that stays silent for S seconds (default: never)")
    p.add_argument("--accept-timeout", type=positive_float, default=None, metavar="S",
                   help="give up when no client connects for S seconds (default: wait)")
    p.add_argument("--reuse-port", action="store_true", help="set SO_REUSEPORT")
    add_common(p)
    add_display(p, labels=True)
    add_sending(p)
    add_tls(p, server=True)
    p.set_defaults(func=cmd_listen)

    p = sub.add_parser(
        "connect", help="connect; stdin to the socket, the socket to stdout (like nc)",
        formatter_class=Formatter,
        description="Connect to ADDRESS, send stdin and print what comes back. When stdin ends, "
                    "the socket is half-closed (shutdown for writing) and the reply is read until "
                    "the peer closes. With a framing, every input line is one message and every "
                    "message received is printed as a line (fixed:N: N-byte blocks as they are). "
                    "--send, --every, --count and --rate make it a traffic generator.",
        epilog="examples:\n  echo hello | libsock connect 127.0.0.1:9000\n"
               "  libsock connect localhost:9000 --framing lines --timeout 5\n"
               "  printf 'GET / HTTP/1.0\\r\\n\\r\\n' | libsock connect example.com:80\n"
               "  libsock connect 9000 -X --send '[01 03 00 00 00 0A]' --every 500ms --hex\n"
               "  libsock connect 9000 -f lines --send ping --count 1000 --rate 200",
    )
    p.add_argument("address", metavar="ADDRESS", help="where to connect")
    p.add_argument("--timeout", "-w", type=positive_float, default=None, metavar="S",
                   help="connect timeout, and give up when the connection is idle for S "
                        "seconds (default: wait)")
    p.add_argument("--verbose", "-v", action="store_true", help="report the connection on stderr")
    p.add_argument("--labels", action="store_true",
                   help="name the sender before what arrives ([server 127.0.0.1:9000])")
    add_common(p)
    add_display(p)
    add_sending(p)
    add_tls(p, server=False)
    p.set_defaults(func=cmd_connect)
