"""``libsock studio``: a local web UI for socket debugging, in the style of NetAssist and Packet
Sender: TCP client, TCP server (client list, kick, send to one or all), UDP endpoint and Unix
sockets side by side, each with its framing; a send panel (text, mixed or hex, line ending,
repeat, file) and a receive log (time, direction, peer, length, hex or text), counters and a
live rate chart.

The page talks to this process over one WebSocket (JSON messages, see ``PROTOCOL`` below). The
socket work is libsock's: plain sessions run on the engine through ``libsock.aio``; TLS sessions
(which the engine does not do) on the blocking API in threads. HTTP and WebSocket are aiohttp's
(the optional extra ``libsock[studio]``), imported only when the command runs.

Security: the server binds 127.0.0.1 only; every request and the WebSocket must carry the random
token printed in the URL (``?token=...``) and a Host header naming this server (127.0.0.1:PORT or
localhost:PORT: no DNS rebinding); a request with an Origin header from any other origin is
refused (403), so other pages in the browser cannot drive it.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hmac
import json
import os
import secrets
import sys
import threading
import time
import webbrowser
from collections import deque
from typing import Any, Callable, Deque, Dict, List, Optional

import libsock

from ..common import (
    CliError,
    EXIT_USAGE,
    Formatter,
    FramingSpec,
    bind_address,
    fmt_addr,
    log,
    parse_framing,
    parse_mixed,
    peer_address,
)

PROTOCOL = """\
page -> studio:
  {"op": "open", "kind": "tcp-client"|"tcp-server"|"udp"|"unix-client"|"unix-server",
   "address": "127.0.0.1:9000", "framing": "lines", "tls": {"enabled": true, "pin": ...,
   "insecure": true, "ca": PEM, "cert": PEM, "key": PEM}, "tag": any}
  {"op": "send", "session": N, "data": "...", "format": "text"|"mixed"|"hex",
   "ending": "none"|"lf"|"crlf"|"cr", "to": CLIENT_ID|"all"|"HOST:PORT" (udp)}
  {"op": "send", ..., "every_ms": 500, "count": 10}      repeat (count 0 = until stopped)
  {"op": "stop-repeat", "session": N}
  {"op": "send-file", "session": N, "b64": BASE64, "to": ...}
  {"op": "kick", "session": N, "client": ID}
  {"op": "close", "session": N}
studio -> page:
  {"ev": "hello", "version": V, "sessions": [...]}
  {"ev": "opened", "session": N, "kind": K, "local": ADDR, "tag": any}
  {"ev": "data", "session": N, "dir": "in"|"out", "peer": ADDR, "client": ID, "len": L,
   "hex": HEX, "time": EPOCH, "tail": bool}
  {"ev": "client", "session": N, "client": ID, "peer": ADDR, "state": "connected"|"disconnected"}
  {"ev": "stats", "session": N, "bytes_in": B, "bytes_out": B, "msgs_in": M, "msgs_out": M}
  {"ev": "note", "session": N, "text": T}
  {"ev": "closed", "session": N, "reason": T}
  {"ev": "error", "session": N|null, "message": T, "tag": any}
"""

STATIC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "static")
KINDS = ("tcp-client", "tcp-server", "udp", "unix-client", "unix-server")


def _why(ev: Any) -> str:
    """An engine event's reason, with its error message when there is one."""
    reason = ev.reason or ev.kind
    return "%s: %s" % (reason, ev.error) if ev.error else str(reason)


class Refused(Exception):
    """A request from the page that cannot be done: reported as an ``error`` event."""


def encode(data: Any, fmt: str, ending: str) -> bytes:
    """The bytes of a send panel's text: ``text`` as typed (UTF-8), ``mixed`` (text with
    ``[FF AB]`` groups and ``\\x`` escapes) or ``hex`` (hex digits, spaces allowed), then the
    line ending."""
    text = str(data or "")
    try:
        if fmt == "hex":
            body = bytes.fromhex("".join(text.split()))
        elif fmt == "mixed":
            body = parse_mixed(text.encode("utf-8"))
        elif fmt == "text":
            body = text.encode("utf-8")
        else:
            raise Refused("unknown format %r (text, mixed or hex)" % fmt)
    except ValueError as e:
        raise Refused("%s: %s" % (fmt, e)) from None
    endings = {"none": b"", "lf": b"\n", "crlf": b"\r\n", "cr": b"\r"}
    if ending not in endings:
        raise Refused("unknown line ending %r (none, lf, crlf, cr)" % ending)
    return body + endings[ending]


class Session:
    """One socket in the page. Subclasses start it and implement send/kick/close; events go to
    the studio's ``emit`` (on the event loop)."""

    kind = ""

    def __init__(self, studio: "Studio", sid: int, address: str, spec: FramingSpec) -> None:
        self.studio = studio
        self.id = sid
        self.address = address
        self.spec = spec
        self.local = ""
        self.counters = {"bytes_in": 0, "bytes_out": 0, "msgs_in": 0, "msgs_out": 0}
        self.repeat: Optional["asyncio.Task[None]"] = None
        self.clients: Dict[int, str] = {}
        #: The last events of this session, replayed to a page that connects later.
        self.history: Deque[Dict[str, Any]] = deque(maxlen=1000)
        #: Bytes in and out per second over the last minute (the rate chart).
        self.rates: Deque[List[int]] = deque(maxlen=60)
        self.last = dict(self.counters)

    def summary(self) -> Dict[str, Any]:
        return {"session": self.id, "kind": self.kind, "address": self.address,
                "local": self.local, "framing": self.spec.text,
                "clients": [{"client": c, "peer": p} for c, p in self.clients.items()],
                "rates": list(self.rates), "counters": dict(self.counters)}

    def emit(self, msg: Dict[str, Any]) -> None:
        msg["session"] = self.id
        if msg["ev"] in ("data", "note", "client"):
            msg.setdefault("time", time.time())
            kept = msg
            if len(msg.get("hex", "")) > 8192:  # the replay keeps the first 4 KiB of big ones
                kept = dict(msg, hex=msg["hex"][:8192], truncated=True)
            self.history.append(kept)
        self.studio.emit(msg)

    def data(self, direction: str, data: bytes, peer: str, client: Optional[int] = None,
             tail: bool = False) -> None:
        key = "in" if direction == "in" else "out"
        self.counters["bytes_" + key] += len(data)
        self.counters["msgs_" + key] += 1
        self.emit({"ev": "data", "dir": direction, "peer": peer, "client": client,
                   "len": len(data), "hex": data.hex(), "time": time.time(), "tail": tail})

    async def start(self) -> None:
        raise NotImplementedError

    async def send(self, data: bytes, to: Any) -> None:
        raise NotImplementedError

    async def kick(self, client: int) -> None:
        raise Refused("only a server session has clients to kick")

    async def close(self) -> None:
        raise NotImplementedError


# --------------------------------------------------------------------------------------------
# sessions on the engine (libsock.aio)


class EngineClient(Session):
    kind = "tcp-client"

    async def start(self) -> None:
        import libsock.aio

        self.door = libsock.aio.Client(peer_address(self.address), framing=self.spec.build(),
                                       reconnect=False)
        self.task = asyncio.ensure_future(self.pump())

    async def pump(self) -> None:
        peer = self.address
        async for ev in self.door:
            if ev.kind == "connected":
                peer = fmt_addr(ev.peer) if ev.peer is not None else peer
                self.emit({"ev": "note", "text": "connected to %s" % peer})
            elif ev.kind == "message" and ev.data is not None:
                self.data("in", bytes(ev.data), peer)
            elif ev.kind == "disconnected":
                self.emit({"ev": "note", "text": "disconnected (%s)" % _why(ev)})
                break
            elif ev.kind == "warning":
                self.emit({"ev": "note", "text": "warning: %s" % _why(ev)})
        await self.door.close()
        self.studio.ended(self, "the connection ended")

    async def send(self, data: bytes, to: Any) -> None:
        try:
            await self.door.send(data, timeout=10)
        except libsock.Error as e:
            raise Refused(str(e)) from None
        self.data("out", data, self.address)

    async def close(self) -> None:
        await self.door.close()


class EngineServer(Session):
    kind = "tcp-server"

    async def start(self) -> None:
        import libsock.aio

        self.door = libsock.aio.Server(bind_address(self.address), framing=self.spec.build(),
                                       remove_stale=True)
        self.local = fmt_addr(self.door.address)
        self.task = asyncio.ensure_future(self.pump())

    async def pump(self) -> None:
        async for ev in self.door:
            if ev.kind == "connected":
                peer = fmt_addr(ev.peer)
                self.clients[ev.client] = peer
                self.emit({"ev": "client", "client": ev.client, "peer": peer,
                           "state": "connected"})
            elif ev.kind == "message" and ev.data is not None:
                self.data("in", bytes(ev.data), self.clients.get(ev.client, "?"), ev.client)
            elif ev.kind == "disconnected":
                peer = self.clients.pop(ev.client, "?")
                self.emit({"ev": "client", "client": ev.client, "peer": peer,
                           "state": "disconnected", "reason": _why(ev)})
            elif ev.kind == "warning":
                self.emit({"ev": "note", "text": "warning: %s" % _why(ev)})
        self.studio.ended(self, "the server closed")

    async def send(self, data: bytes, to: Any) -> None:
        targets = list(self.clients) if to in (None, "", "all") else [int(to)]
        if not targets:
            raise Refused("no client is connected")
        for c in targets:
            if c not in self.clients:
                raise Refused("no client %s" % c)
            try:
                await self.door.send(c, data, timeout=10)
            except libsock.Error as e:
                raise Refused("client %s: %s" % (c, e)) from None
            self.data("out", data, self.clients.get(c, "?"), c)

    async def kick(self, client: int) -> None:
        if client not in self.clients:
            raise Refused("no client %s" % client)
        self.door.disconnect(client, graceful=True)

    async def close(self) -> None:
        await self.door.close(grace=0.2)


class EngineUdp(Session):
    kind = "udp"

    async def start(self) -> None:
        import libsock.aio

        self.door = libsock.aio.DatagramServer(bind_address(self.address or "127.0.0.1:0"))
        self.local = fmt_addr(self.door.address)
        self.task = asyncio.ensure_future(self.pump())

    async def pump(self) -> None:
        async for ev in self.door:
            if ev.kind == "datagram" and ev.data is not None:
                peer = fmt_addr(ev.peer)
                if peer not in self.clients.values():
                    self.clients[len(self.clients) + 1] = peer
                self.data("in", bytes(ev.data), peer)
        self.studio.ended(self, "the UDP endpoint closed")

    async def send(self, data: bytes, to: Any) -> None:
        if not to or to == "all":
            raise Refused("a UDP send needs a destination (HOST:PORT)")
        try:
            self.door.send_to(data, peer_address(str(to)))
        except libsock.Error as e:
            raise Refused(str(e)) from None
        self.data("out", data, str(to))

    async def close(self) -> None:
        await self.door.close()


# --------------------------------------------------------------------------------------------
# TLS sessions on the blocking API (the engine does not do TLS): a thread per connection


class ThreadedClient(Session):
    kind = "tcp-client"

    def __init__(self, studio: "Studio", sid: int, address: str, spec: FramingSpec,
                 tls: Any) -> None:
        super().__init__(studio, sid, address, spec)
        self.tls = tls
        self.conn: Any = None

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self.conn = await loop.run_in_executor(None, lambda: libsock.connect(
            peer_address(self.address), framing=self.spec.build(), tls=self.tls,
            connect_timeout=10))
        self.local = fmt_addr(self.conn.local_address)
        peer = fmt_addr(self.conn.peer_address)
        threading.Thread(target=self.reader, args=(self.conn, peer, None), daemon=True,
                         name="studio %d" % self.id).start()

    def reader(self, conn: Any, peer: str, client: Optional[int]) -> None:
        """Read until the end; a partial frame at the end is delivered as it is."""
        call = self.studio.call
        try:
            if self.spec.is_raw:
                while True:
                    data = conn.recv(65536)
                    if not data:
                        break
                    call(self.data, "in", bytes(data), peer, client)
            else:
                while True:
                    try:
                        msg = conn.recv_msg()
                    except libsock.ClosedError:
                        break
                    call(self.data, "in", bytes(msg), peer, client)
                try:
                    conn.framing = libsock.Raw()
                    rest = bytes(conn.recv(1 << 24))
                except libsock.Error:
                    rest = b""
                if rest:
                    call(self.data, "in", rest, peer, client, True)
            reason = "peer-closed"
        except (libsock.Error, OSError) as e:
            reason = str(e)
        self.lost(client, peer, reason)

    def lost(self, client: Optional[int], peer: str, reason: str) -> None:
        self.studio.call(self.studio.ended, self, "the connection ended (%s)" % reason)

    async def send(self, data: bytes, to: Any) -> None:
        await self._send(self.conn, data, fmt_addr(self.conn.peer_address), None)

    async def _send(self, conn: Any, data: bytes, peer: str, client: Optional[int]) -> None:
        loop = asyncio.get_running_loop()
        send = conn.sendall if self.spec.is_raw else conn.send_msg
        try:
            await loop.run_in_executor(None, lambda: send(data, timeout=10))
        except libsock.Error as e:
            raise Refused(str(e)) from None
        self.data("out", data, peer, client)

    async def close(self) -> None:
        if self.conn is not None:
            self.conn.close()


class ThreadedServer(ThreadedClient):
    kind = "tcp-server"

    async def start(self) -> None:
        self.listener = libsock.listen(bind_address(self.address), framing=self.spec.build(),
                                       tls=self.tls, remove_stale=True)
        self.local = fmt_addr(self.listener.address)
        self.conns: Dict[int, Any] = {}
        threading.Thread(target=self.acceptor, daemon=True, name="studio %d" % self.id).start()

    def acceptor(self) -> None:
        number = 0
        while True:
            try:
                conn, peer = self.listener.accept()
            except libsock.ClosedError:
                break
            except (libsock.Error, OSError) as e:
                self.studio.call(self.emit, {"ev": "note", "text": "accept: %s" % e})
                if self.listener.closed:
                    break
                continue
            number += 1
            who = fmt_addr(peer)
            self.conns[number] = conn
            self.studio.call(self.joined, number, who)
            threading.Thread(target=self.reader, args=(conn, who, number), daemon=True).start()
        self.studio.call(self.studio.ended, self, "the server closed")

    def joined(self, client: int, peer: str) -> None:
        self.clients[client] = peer
        self.emit({"ev": "client", "client": client, "peer": peer, "state": "connected"})

    def lost(self, client: Optional[int], peer: str, reason: str) -> None:
        def gone() -> None:
            self.clients.pop(client or 0, None)
            conn = self.conns.pop(client or 0, None)
            if conn is not None:
                conn.close()
            self.emit({"ev": "client", "client": client, "peer": peer, "state": "disconnected",
                       "reason": reason})

        self.studio.call(gone)

    async def send(self, data: bytes, to: Any) -> None:
        targets = list(self.conns) if to in (None, "", "all") else [int(to)]
        if not targets:
            raise Refused("no client is connected")
        for c in targets:
            conn = self.conns.get(c)
            if conn is None:
                raise Refused("no client %s" % c)
            await self._send(conn, data, self.clients.get(c, "?"), c)

    async def kick(self, client: int) -> None:
        conn = self.conns.get(client)
        if conn is None:
            raise Refused("no client %s" % client)
        conn.shutdown("both")

    async def close(self) -> None:
        self.listener.close()
        for conn in list(self.conns.values()):
            conn.close()


def _tls(kind: str, spec: Any) -> Any:
    """The libsock.TLS of an ``open`` request's ``tls`` object, or None."""
    if not isinstance(spec, dict) or not spec.get("enabled"):
        return None

    def pem(key: str) -> Optional[bytes]:
        v = spec.get(key)
        return v.encode() if isinstance(v, str) and v.strip() else None

    if kind.endswith("server"):
        cert, key = pem("cert"), pem("key")
        if cert is None:
            cert_pem, key_pem = libsock.self_signed(["localhost", "127.0.0.1", "::1"])
            cert, key = cert_pem.encode(), key_pem.encode()
        elif key is None:
            raise Refused("a certificate needs its key")
        ca = pem("ca")
        if ca is not None:
            return libsock.TLS(cert=cert, key=key, client_auth="required", client_ca=ca)
        return libsock.TLS(cert=cert, key=key)
    return libsock.TLS(ca=pem("ca"), pin=spec.get("pin") or None,
                       insecure=bool(spec.get("insecure")),
                       server_name=spec.get("server_name") or None,
                       cert=pem("cert"), key=pem("key"))


# --------------------------------------------------------------------------------------------
# the studio


class Outbox:
    """What goes to one page, in order, by one writer task. When the page falls more than
    ``LIMIT`` events behind, the oldest waiting events are left out and the page is told how
    many (the session counters still count every byte)."""

    LIMIT = 20000

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.queue: Deque[str] = deque()
        self.ready = asyncio.Event()
        self.dropped = 0
        self.task = asyncio.ensure_future(self.run())

    def put(self, text: str) -> None:
        if len(self.queue) >= self.LIMIT:
            self.queue.popleft()
            self.dropped += 1
        self.queue.append(text)
        self.ready.set()

    async def run(self) -> None:
        try:
            while not self.ws.closed:
                await self.ready.wait()
                self.ready.clear()
                while self.queue:
                    if self.dropped:
                        note = {"ev": "note", "session": None,
                                "text": "%d events were left out: the page did not keep up "
                                        "(the counters count everything)" % self.dropped}
                        self.dropped = 0
                        await self.ws.send_str(json.dumps(note))
                    await self.ws.send_str(self.queue.popleft())
        except (ConnectionError, RuntimeError):
            pass


class Studio:
    """The sessions, the open WebSockets, and the HTTP application."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.sessions: Dict[int, Session] = {}
        self.sockets: List[Outbox] = []
        self.next_id = 0
        self.port = 0
        self.loop: Optional[asyncio.AbstractEventLoop] = None

    # -- events ----------------------------------------------------------------------------
    def emit(self, msg: Dict[str, Any]) -> None:
        text = json.dumps(msg)
        for box in list(self.sockets):
            box.put(text)

    def call(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run ``fn(*args)`` on the event loop (from a thread)."""
        assert self.loop is not None
        self.loop.call_soon_threadsafe(fn, *args)

    def ended(self, session: Session, reason: str) -> None:
        if self.sessions.pop(session.id, None) is not None:
            if session.repeat is not None:
                session.repeat.cancel()
            self.emit({"ev": "stats", "session": session.id, **session.counters})
            self.emit({"ev": "closed", "session": session.id, "reason": reason})

    async def ticker(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            for s in list(self.sessions.values()):
                s.rates.append([s.counters["bytes_in"] - s.last["bytes_in"],
                                s.counters["bytes_out"] - s.last["bytes_out"]])
                s.last = dict(s.counters)
                self.emit({"ev": "stats", "session": s.id, **s.counters})

    # -- requests from the page --------------------------------------------------------------
    async def handle(self, req: Dict[str, Any]) -> None:
        op = req.get("op")
        if op == "open":
            await self.open(req)
            return
        s = self.sessions.get(req.get("session", -1))
        if s is None:
            raise Refused("no session %r" % req.get("session"))
        if op == "send":
            data = encode(req.get("data"), req.get("format", "text"), req.get("ending", "none"))
            every = req.get("every_ms")
            if every:
                if s.repeat is not None:
                    s.repeat.cancel()
                s.repeat = asyncio.ensure_future(
                    self.repeat(s, data, req.get("to"), float(every) / 1000.0,
                                int(req.get("count") or 0)))
            else:
                await s.send(data, req.get("to"))
        elif op == "send-file":
            try:
                data = base64.b64decode(str(req.get("b64", "")), validate=True)
            except ValueError:
                raise Refused("send-file: the file is not valid base64") from None
            await s.send(data, req.get("to"))
            s.emit({"ev": "note", "text": "sent a file of %d bytes" % len(data)})
        elif op == "stop-repeat":
            if s.repeat is not None:
                s.repeat.cancel()
                s.repeat = None
        elif op == "kick":
            await s.kick(int(req.get("client", -1)))
        elif op == "close":
            await s.close()
            self.ended(s, "closed from the page")
        else:
            raise Refused("unknown op %r" % op)

    async def repeat(self, s: Session, data: bytes, to: Any, every: float, count: int) -> None:
        if every < 0.001:
            every = 0.001
        n = 0
        try:
            while count <= 0 or n < count:
                await s.send(data, to)
                n += 1
                if count <= 0 or n < count:
                    await asyncio.sleep(every)
            s.emit({"ev": "note", "text": "repeat done: %d sent" % n})
        except Refused as e:
            s.emit({"ev": "error", "message": "repeat stopped after %d: %s" % (n, e)})
        finally:
            if s.repeat is asyncio.current_task():
                s.repeat = None

    async def open(self, req: Dict[str, Any]) -> None:
        kind = req.get("kind")
        if kind not in KINDS:
            raise Refused("unknown session kind %r (%s)" % (kind, ", ".join(KINDS)))
        address = str(req.get("address") or "").strip()
        if kind.startswith("unix") and not address.startswith("unix:"):
            address = "unix:" + address
        if not address and kind != "udp":
            raise Refused("an address is needed")
        try:
            spec = parse_framing(str(req.get("framing") or "raw"))
        except argparse.ArgumentTypeError as e:
            raise Refused(str(e)) from None
        tls = _tls(kind, req.get("tls")) if kind != "udp" else None
        self.next_id += 1
        sid = self.next_id
        session: Session
        if tls is not None:
            session = (ThreadedServer if kind.endswith("server") else ThreadedClient)(
                self, sid, address, spec, tls)
        elif kind.endswith("client"):
            session = EngineClient(self, sid, address, spec)
        elif kind.endswith("server"):
            session = EngineServer(self, sid, address, spec)
        else:
            session = EngineUdp(self, sid, address, spec)
        session.kind = kind
        try:
            await session.start()
        except (libsock.Error, OSError, ValueError, TypeError) as e:
            raise Refused("%s %s: %s" % (kind, address, e)) from None
        self.sessions[sid] = session
        self.emit({"ev": "opened", "tag": req.get("tag"), "tls": tls is not None,
                   **session.summary()})

    # -- HTTP --------------------------------------------------------------------------------
    def allowed_hosts(self) -> List[str]:
        return ["127.0.0.1:%d" % self.port, "localhost:%d" % self.port]

    def check(self, request: Any) -> Optional[str]:
        """Why ``request`` is refused, or None: the token, the Host header, the Origin."""
        host = request.headers.get("Host", "")
        if host not in self.allowed_hosts():
            return "bad Host header %r (open the URL the studio printed)" % host
        origin = request.headers.get("Origin")
        if origin is not None and origin not in ["http://" + h for h in self.allowed_hosts()]:
            return "cross-origin request from %r refused" % origin
        token = request.query.get("token") or request.headers.get("X-Libsock-Token", "")
        if not hmac.compare_digest(token.encode(), self.token.encode()):
            return "missing or wrong token (open the URL the studio printed)"
        return None

    def app(self) -> Any:
        from aiohttp import WSMsgType, web

        studio = self

        async def check_every_request(request: Any, handler: Any) -> Any:
            why = studio.check(request)
            if why is not None:
                return web.Response(status=403, text="403 forbidden: %s\n" % why)
            resp = await handler(request)
            resp.headers["Cache-Control"] = "no-store"
            resp.headers["X-Frame-Options"] = "DENY"
            resp.headers["Referrer-Policy"] = "no-referrer"
            return resp

        async def index(request: Any) -> Any:
            with open(os.path.join(STATIC, "index.html"), encoding="utf-8") as f:
                page = f.read()
            page = page.replace("{{TOKEN}}", studio.token).replace(
                "{{VERSION}}", getattr(libsock, "__version__", ""))
            return web.Response(text=page, content_type="text/html", headers={
                "Content-Security-Policy": "default-src 'self'; connect-src 'self'; "
                                           "img-src 'self' data:; frame-ancestors 'none'"})

        async def asset(request: Any) -> Any:
            name = request.match_info["name"]
            types = {".js": "application/javascript", ".css": "text/css"}
            ext = os.path.splitext(name)[1]
            if ext not in types or "/" in name or name.startswith("."):
                raise web.HTTPNotFound()
            path = os.path.join(STATIC, name)
            if not os.path.isfile(path):
                raise web.HTTPNotFound()
            with open(path, "rb") as f:
                return web.Response(body=f.read(), content_type=types[ext])

        async def ws(request: Any) -> Any:
            sock = web.WebSocketResponse(heartbeat=30, max_msg_size=64 << 20)
            await sock.prepare(request)
            box = Outbox(sock)
            # The state first, then (in order, by the same writer) every later event.
            box.put(json.dumps({
                "ev": "hello", "version": getattr(libsock, "__version__", ""),
                "sessions": [s.summary() for s in studio.sessions.values()]}))
            for s in list(studio.sessions.values()):
                for past in list(s.history):
                    box.put(json.dumps(dict(past, replay=True)))
            studio.sockets.append(box)
            try:
                async for msg in sock:
                    if msg.type != WSMsgType.TEXT:
                        continue
                    req: Any = None
                    try:
                        req = json.loads(msg.data)
                        if not isinstance(req, dict):
                            raise Refused("a request is a JSON object")
                        await studio.handle(req)
                    except (Refused, ValueError, TypeError, KeyError) as e:
                        ctx = req if isinstance(req, dict) else {}
                        box.put(json.dumps({"ev": "error", "session": ctx.get("session"),
                                            "message": str(e), "tag": ctx.get("tag")}))
            finally:
                studio.sockets.remove(box)
                box.task.cancel()
            return sock

        guard: Any = web.middleware(check_every_request)
        app = web.Application(middlewares=[guard], client_max_size=64 << 20)
        app.router.add_get("/", index)
        app.router.add_get("/ws", ws)
        app.router.add_get("/static/{name}", asset)
        return app

    async def close_all(self) -> None:
        for s in list(self.sessions.values()):
            try:
                await s.close()
            except Exception:  # closing everything at exit: one failure must not stop the rest
                pass


async def run(args: argparse.Namespace, ready: Optional[Callable[[str], None]] = None) -> None:
    """Serve the studio until cancelled."""
    from aiohttp import web

    studio = Studio(args.token or secrets.token_urlsafe(24))
    studio.loop = asyncio.get_running_loop()
    runner = web.AppRunner(studio.app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", args.port)
    try:
        await site.start()
    except OSError as e:
        await runner.cleanup()
        raise CliError("cannot listen on 127.0.0.1:%d: %s" % (args.port, e.strerror or e))
    server = getattr(site, "_server", None)
    sockets = getattr(server, "sockets", None) or []
    studio.port = sockets[0].getsockname()[1] if sockets else args.port
    url = "http://127.0.0.1:%d/?token=%s" % (studio.port, studio.token)
    print("libsock studio: %s" % url)
    print("(127.0.0.1 only; the token is the key: do not share the URL. Ctrl-C to stop.)")
    sys.stdout.flush()
    if args.open:
        try:
            webbrowser.open(url)
        except webbrowser.Error:
            log("no browser to open; open the URL above")
    tick = asyncio.ensure_future(studio.ticker())
    try:
        await asyncio.Event().wait()
    finally:
        tick.cancel()
        await studio.close_all()
        await runner.cleanup()


def cmd_studio(args: argparse.Namespace) -> int:
    try:
        import aiohttp  # noqa: F401
    except ImportError:
        raise CliError("the studio needs aiohttp: pip install 'libsock[studio]' "
                       "(or pip install aiohttp)", EXIT_USAGE) from None
    try:
        asyncio.run(run(args))
    except KeyboardInterrupt:
        pass
    return 0


def add_parsers(sub: Any) -> None:
    """Register ``studio``."""
    p = sub.add_parser(
        "studio", help="a local web UI: TCP/UDP/Unix sessions side by side, hex, logs, charts",
        formatter_class=Formatter,
        description="Start a web UI for socket debugging on 127.0.0.1 and print its URL (with a "
                    "random token; --open starts a browser on it). In the page: TCP client, TCP "
                    "server (client list, kick, send to one or all), UDP endpoint and Unix "
                    "sockets side by side, each with its framing and TLS; a send panel (text, "
                    "mixed text and [hex], or hex; line ending; repeat every N ms; a file) and a "
                    "receive log (time, direction, peer, length, hex or text; pause, clear, "
                    "export), counters and a live rate chart. Needs aiohttp: pip install "
                    "'libsock[studio]'. The page works offline (no CDN).",
        epilog="examples:\n  libsock studio --open\n  libsock studio --port 8800",
    )
    p.add_argument("--port", "-p", type=int, default=0, metavar="PORT",
                   help="the port on 127.0.0.1 (default: any free one)")
    p.add_argument("--open", action="store_true", help="open the page in a browser")
    p.add_argument("--token", default=None, help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_studio)
