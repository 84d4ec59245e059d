"""``libsock udp``: datagrams from stdin lines (or a generator) and the replies, or a UDP
endpoint that prints each datagram with its sender, echoes or auto-replies."""

from __future__ import annotations

import argparse
import threading
import time
from typing import Any, List, Optional

import libsock

from .common import (
    EXIT_USAGE,
    CliError,
    Display,
    Formatter,
    FramingSpec,
    add_display,
    add_sending,
    bind_address,
    fmt_addr,
    generating,
    log,
    peer_address,
    prepare_sending,
    replies_for,
)
from .stream import _payload, generate, read_input

LINES = FramingSpec("lines", text="lines")


def cmd_udp(args: argparse.Namespace) -> int:
    prepare_sending(args)
    if args.listen and any(getattr(args, k) is not None for k in ("send", "every", "rate")):
        raise CliError("--send, --every and --rate send to ADDRESS: not with --listen "
                       "(--reply answers senders)", EXIT_USAGE)
    if args.listen:
        display = Display(args, framed=True, labels=True)
        try:
            return _udp_listen(args, display)
        finally:
            display.close()
    display = Display(args, framed=True, labels=False)
    try:
        return _udp_send(args, display)
    finally:
        display.close()


def _udp_listen(args: argparse.Namespace, display: Display) -> int:
    with libsock.udp(bind_address(args.address), timeout=0.25) as dg:
        log("UDP: listening on %s%s" % (fmt_addr(dg.address), " (echo)" if args.echo else ""))
        seen = 0
        while args.count is None or seen < args.count:
            try:
                data, peer = dg.recv_from(65536)
            except libsock.TimeoutError:
                continue
            seen += 1
            who = fmt_addr(peer)
            data = bytes(data)
            display.received(who, who, data)
            answers = ([data] if args.echo else []) + replies_for(args.reply, data)
            for a in answers:
                dg.send_to(a, peer)
                display.sent(who, a)
    return 0


def _udp_send(args: argparse.Namespace, display: Display) -> int:
    done = threading.Event()
    stop = threading.Event()
    failure: List[BaseException] = []
    with libsock.udp(connect=peer_address(args.address), timeout=0.25) as dg:
        who = fmt_addr(dg.peer_address)

        def send(data: bytes) -> None:
            dg.send(data)
            display.sent(who, data)

        def sender() -> None:
            try:
                if generating(args):
                    generate(args, _payload(args, LINES), send, stop)
                else:
                    read_input(LINES, args.hex_input, send, send)
            except BaseException as e:
                failure.append(e)
            finally:
                done.set()

        threading.Thread(target=sender, name="stdin-to-udp", daemon=True).start()
        quiet_since: Optional[float] = None
        try:
            while True:
                try:
                    data = bytes(dg.recv(65536))
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
                        log("UDP: %s refused a datagram (nobody listening?)" % args.address)
                    continue
                quiet_since = None
                display.received(who, who, data)
                for a in replies_for(args.reply, data):
                    send(a)
        finally:
            stop.set()
        if failure:
            raise failure[0]
    return 0


def add_parsers(sub: Any) -> None:
    """Register ``udp``."""
    p = sub.add_parser(
        "udp", help="send stdin lines as datagrams, or print received datagrams",
        formatter_class=Formatter,
        description="Without --listen: send each line of stdin as one datagram to ADDRESS and "
                    "print the datagrams that come back; after stdin ends, wait --wait seconds "
                    "for more (--send, --every, --count and --rate make it a generator). With "
                    "--listen: bind ADDRESS and print each datagram as '[sender] data'; --echo "
                    "sends it back.",
        epilog="examples:\n  libsock udp --listen 9999 --echo\n"
               "  echo ping | libsock udp 127.0.0.1:9999\n"
               "  libsock udp --listen 9999 --hex --reply '[AA 01]=[AA 81]'\n"
               "  libsock udp 9999 --send tick --every 1s --count 10",
    )
    p.add_argument("address", metavar="ADDRESS",
                   help="where to send, or with --listen where to bind")
    p.add_argument("--listen", "-l", action="store_true", help="receive on ADDRESS")
    p.add_argument("--echo", "-e", action="store_true", help="with --listen: send datagrams back")
    p.add_argument("--wait", type=float, default=1.0, metavar="S",
                   help="without --listen: seconds to wait for replies after stdin ends "
                        "(default: 1)")
    p.add_argument("--verbose", "-v", action="store_true", help="report refused datagrams")
    add_display(p)
    # --count: with --listen the datagrams to wait for, else the generator's count.
    add_sending(p, count_flags=("--count", "-c", "-n"),
                count_help="with --listen: exit after N datagrams; else send the input N times "
                           "(a traffic generator)")
    p.set_defaults(func=cmd_udp)
