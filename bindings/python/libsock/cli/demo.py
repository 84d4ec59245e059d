"""``libsock demo``: a guided tour on loopback (sticky packets, half-close, timeouts, errors)."""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from typing import Any, List

import libsock

from .common import Formatter, fmt_addr, log, positive_float, version


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
                       % version())
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
        log("demo: stuck for %g s, giving up (this is a bug, please report it)" % args.max_time)
        os._exit(3)

    watchdog = threading.Timer(args.max_time, give_up)
    watchdog.daemon = True
    watchdog.start()
    try:
        return Demo(sys.stdout).run()
    finally:
        watchdog.cancel()


def add_parsers(sub: Any) -> None:
    """Register ``demo``."""
    p = sub.add_parser(
        "demo", help="a guided tour on loopback: sticky packets, half-close, timeouts, errors",
        formatter_class=Formatter,
        description="Start a server and clients on 127.0.0.1 and show, step by step: messages "
                    "glued together on raw TCP and kept apart by framing, half-close, a recv "
                    "timeout, and libsock's errors. Takes about a second.",
    )
    p.add_argument("--max-time", type=positive_float, default=30.0, metavar="S",
                   help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_demo)
