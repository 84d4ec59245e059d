"""The ``libsock`` command: a socket debugging tool over the libsock package.

Subcommands (one module each)::

    libsock listen ADDRESS [--echo] [--framing F] [--once]      stream   (listen, connect)
    libsock connect ADDRESS [--framing F] [--timeout S]         stream
    libsock udp ADDRESS [--listen] [--echo]                     udp
    libsock relay A B                                           relay
    libsock send-file ADDRESS FILE / recv-file ADDRESS OUT      files
    libsock cert NAME...                                        (here)
    libsock studio                                              studio (a local web UI)
    libsock demo                                                demo
    libsock bench [...]       (in a source checkout: runs bench/py/quick.py)   bench

Run ``libsock COMMAND --help`` for the details of each. Options shared by several commands
(framing, TLS, hex display, logs, hex input, auto-replies, repeat sending) live in ``common``.
The socket work is done by libsock itself; these modules only wire standard input and output,
files, a browser and progress bars to it.
"""

from __future__ import annotations

import argparse
import os
import sys
import textwrap
from typing import Optional, Sequence

import libsock

from . import demo, files, relay, stream, studio, udp
from .bench import cmd_bench
from .common import (
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    PROG,
    CliError,
    FramingSpec,
    Formatter,
    fmt_addr,
    parse_framing,
    parse_mixed,
    version,
)

__all__ = ["main", "build_parser", "CliError", "FramingSpec", "parse_framing", "parse_mixed",
           "fmt_addr", "PROG", "EXIT_USAGE", "EXIT_INTERRUPTED"]


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
    """The whole command line: every subcommand's parser."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        formatter_class=Formatter,
        description="Talk over TCP, UDP and Unix sockets from the shell, in the style of netcat "
                    "and socat, with libsock's framing, timeouts and clear errors; hex dumps, "
                    "logs, auto-replies, a traffic generator, a relay, and a local web UI "
                    "(libsock studio).",
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
  libsock listen 9000 --hex --timestamps         every client's bytes as hex dumps
  libsock relay listen:9000 127.0.0.1:80 --hex   a man in the middle, showing both ways
  libsock recv-file 9000 ./incoming/             receive a file (checksum printed)
  libsock send-file host:9000 big.iso            send one, with a progress bar
  libsock studio --open                          the web UI (pip install 'libsock[studio]')
  libsock bench                                  (in a source checkout) libsock against asyncio, ...
""",
    )
    parser.add_argument("--version", "-V", action="version", version="%(prog)s " + version())
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    stream.add_parsers(sub)
    udp.add_parsers(sub)
    relay.add_parsers(sub)
    files.add_parsers(sub)

    p = sub.add_parser(
        "cert", help="write a self-signed certificate and key for names/IPs, print its pin",
        formatter_class=Formatter,
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

    studio.add_parsers(sub)
    demo.add_parsers(sub)

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
