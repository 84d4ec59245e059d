"""``libsock studio``: the local web UI's server, driven over its WebSocket API like the page
does, against real peers (stdlib sockets, ssl, socat); its refusals (token, Host, Origin); and,
when Chromium is installed, the page itself in headless Chromium.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import re
import select
import shutil
import socket
import ssl
import subprocess
import time
from typing import Any, Callable, Dict

import pytest

from test_cli import CLI, T

aiohttp = pytest.importorskip("aiohttp")

pytestmark = pytest.mark.timeout(120)


class Studio:
    def __init__(self) -> None:
        self.proc = subprocess.Popen(CLI + ["studio", "--port", "0"], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 20
        line = b""
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.proc.stdout], [], [], 0.2)
            if ready:
                line = self.proc.stdout.readline()
                break
            if self.proc.poll() is not None:
                break
        m = re.search(rb"http://127\.0\.0\.1:(\d+)/\?token=(\S+)", line)
        if not m:
            self.stop()
            pytest.fail("the studio did not print its URL: %r" % line)
        self.port = int(m.group(1))
        self.token = m.group(2).decode()
        self.url = m.group(0).decode()

    def stop(self) -> bytes:
        self.proc.terminate()
        try:
            _, err = self.proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate(timeout=5)
        return err

    def get(self, path: str, headers: Dict[str, str] | None = None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=T)
        try:
            h = {"Host": "127.0.0.1:%d" % self.port}
            h.update(headers or {})
            conn.request("GET", path, headers=h)
            resp = conn.getresponse()
            return resp.status, resp.read()
        finally:
            conn.close()


@pytest.fixture
def studio():
    s = Studio()
    yield s
    err = s.stop()
    assert b"Traceback" not in err, err.decode(errors="replace")


class Page:
    """The WebSocket side of the page: send requests, wait for events."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.seen: list = []

    async def send(self, **req: Any) -> None:
        await self.ws.send_str(json.dumps(req))

    async def expect(self, pred: Callable[[dict], bool], timeout: float = 15) -> dict:
        for m in self.seen:
            if pred(m):
                self.seen.remove(m)
                return m
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("no matching event; seen: %r" % self.seen[-20:])
            msg = await asyncio.wait_for(self.ws.receive(), left)
            if msg.type != aiohttp.WSMsgType.TEXT:
                raise AssertionError("websocket ended: %r" % (msg,))
            m = json.loads(msg.data)
            if pred(m):
                return m
            self.seen.append(m)

    async def open(self, **req: Any) -> dict:
        await self.send(op="open", **req)
        m = await self.expect(lambda m: m["ev"] in ("opened", "error"))
        assert m["ev"] == "opened", m
        return m

    async def data(self, sid: int, direction: str = "in") -> dict:
        return await self.expect(
            lambda m: m["ev"] == "data" and m["session"] == sid and m["dir"] == direction)


def drive(studio: Studio, scenario: Callable[[Page], Any]) -> None:
    async def main() -> None:
        async with aiohttp.ClientSession() as http_session:
            async with http_session.ws_connect(
                    "http://127.0.0.1:%d/ws?token=%s" % (studio.port, studio.token)) as ws:
                page = Page(ws)
                hello = await page.expect(lambda m: m["ev"] == "hello")
                assert hello["sessions"] == []
                await scenario(page)

    asyncio.run(asyncio.wait_for(main(), 90))


def recv_exactly(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            break
        data += chunk
    return data


def split(addr: str):
    host, port = addr.rsplit(":", 1)
    return host, int(port)


# --- refusals -----------------------------------------------------------------------------------


def test_page_needs_token_host_and_origin(studio):
    tok = "/?token=" + studio.token
    status, body = studio.get(tok)
    assert status == 200
    assert b'id="new-session"' in body and studio.token.encode() in body
    assert studio.get("/")[0] == 403
    assert studio.get("/?token=wrong")[0] == 403
    assert studio.get(tok, {"Host": "evil.example:%d" % studio.port})[0] == 403
    assert studio.get(tok, {"Host": "127.0.0.1"})[0] == 403  # the port is part of the name
    assert studio.get(tok, {"Host": "localhost:%d" % studio.port})[0] == 200
    assert studio.get(tok, {"Origin": "http://evil.example"})[0] == 403
    assert studio.get(tok, {"Origin": "http://127.0.0.1:%d" % studio.port})[0] == 200
    # The assets: served with the token only, and nothing outside the package's folder.
    assert studio.get("/static/studio.js?token=" + studio.token)[0] == 200
    assert studio.get("/static/studio.js")[0] == 403
    assert studio.get("/static/..%2f__init__.py?token=" + studio.token)[0] == 404


def test_websocket_needs_token_and_origin(studio):
    async def main() -> None:
        async with aiohttp.ClientSession() as s:
            base = "http://127.0.0.1:%d/ws" % studio.port
            for url, headers in [
                (base, {}),
                (base + "?token=nope", {}),
                (base + "?token=" + studio.token, {"Origin": "http://evil.example"}),
            ]:
                with pytest.raises(aiohttp.WSServerHandshakeError) as e:
                    await s.ws_connect(url, headers=headers)
                assert e.value.status == 403

    asyncio.run(asyncio.wait_for(main(), 30))


def test_bad_requests_are_errors_not_crashes(studio):
    async def scenario(page: Page) -> None:
        await page.ws.send_str("not json")  # first: nothing of an earlier request to go by
        m = await page.expect(lambda m: m["ev"] == "error")
        assert m["session"] is None
        await page.send(op="open", kind="tcp-server", address="127.0.0.1:0", framing="zigzag")
        m = await page.expect(lambda m: m["ev"] == "error")
        assert "zigzag" in m["message"]
        await page.send(op="send", session=99, data="x")
        m = await page.expect(lambda m: m["ev"] == "error")
        assert "99" in m["message"]
        await page.ws.send_str("[1, 2]")
        await page.expect(lambda m: m["ev"] == "error" and "JSON object" in m["message"])
        opened = await page.open(kind="tcp-server", address="127.0.0.1:0", framing="raw")
        await page.send(op="send", session=opened["session"], data="zz", format="hex")
        m = await page.expect(lambda m: m["ev"] == "error")
        assert "hex" in m["message"]

    drive(studio, scenario)


# --- sessions against real peers ----------------------------------------------------------------


def test_tcp_server_session(studio):
    """Clients connect (a stdlib socket and socat); the page sees their messages with their
    senders, sends to one and to all, repeats, and kicks one."""
    if shutil.which("socat") is None:
        pytest.skip("socat not installed")

    async def scenario(page: Page) -> None:
        opened = await page.open(kind="tcp-server", address="127.0.0.1:0", framing="lines")
        sid = opened["session"]
        addr = split(opened["local"])
        one = socket.create_connection(addr, timeout=T)
        c1 = await page.expect(lambda m: m["ev"] == "client" and m["state"] == "connected")
        assert c1["peer"] == "127.0.0.1:%d" % one.getsockname()[1]
        socat = subprocess.Popen(["socat", "-t5", "-", "TCP:%s:%d" % addr],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE)
        try:
            c2 = await page.expect(lambda m: m["ev"] == "client" and m["state"] == "connected")
            one.sendall(b"hello\nworld\n")
            for word in (b"hello", b"world"):
                m = await page.data(sid)
                assert bytes.fromhex(m["hex"]) == word
                assert (m["client"], m["peer"]) == (c1["client"], c1["peer"])
            socat.stdin.write(b"from socat\n")
            socat.stdin.flush()
            m = await page.data(sid)
            assert bytes.fromhex(m["hex"]) == b"from socat"
            assert m["client"] == c2["client"]

            # To one client, in hex; then to all, as text.
            await page.send(op="send", session=sid, data="DE AD be ef", format="hex",
                            to=c1["client"])
            assert recv_exactly(one, 5) == b"\xde\xad\xbe\xef\n"
            await page.send(op="send", session=sid, data="to all", format="text", to="all")
            assert recv_exactly(one, 7) == b"to all\n"
            # Repeat 5 times, every 10 ms, to the first client.
            await page.send(op="send", session=sid, data="r[21]", format="mixed",
                            to=c1["client"], every_ms=10, count=5)
            assert recv_exactly(one, 15) == b"r!\n" * 5
            # Kick socat: it sees the end of the stream and exits with what it got.
            await page.send(op="kick", session=sid, client=c2["client"])
            gone = await page.expect(lambda m: m["ev"] == "client"
                                     and m["state"] == "disconnected")
            assert gone["client"] == c2["client"]
            socat.stdin.close()
            out = socat.stdout.read()
            assert socat.wait(timeout=T) == 0
            assert out == b"to all\n"
            # The counters count what went in and out.
            stats = await page.expect(lambda m: m["ev"] == "stats" and m["session"] == sid
                                      and m["msgs_out"] == 8)
            assert stats["msgs_in"] == 3 and stats["bytes_in"] == 20
        finally:
            if socat.poll() is None:
                socat.kill()
            socat.wait(timeout=5)
            for f in (socat.stdin, socat.stdout, socat.stderr):
                f.close()
            one.close()
        await page.send(op="close", session=sid)
        closed = await page.expect(lambda m: m["ev"] == "closed")
        assert closed["session"] == sid

    drive(studio, scenario)


def test_tcp_client_session(studio):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(T)

    async def scenario(page: Page) -> None:
        opened = await page.open(kind="tcp-client", framing="raw",
                                 address="127.0.0.1:%d" % listener.getsockname()[1])
        sid = opened["session"]
        peer, _ = listener.accept()
        with peer:
            peer.settimeout(T)
            await page.send(op="send", session=sid, data="a[00 ff]b\\x01", format="mixed",
                            ending="crlf")
            assert recv_exactly(peer, 7) == b"a\x00\xffb\x01\r\n"
            out = await page.data(sid, "out")
            assert out["len"] == 7
            peer.sendall(b"pong")
            m = await page.data(sid)
            assert bytes.fromhex(m["hex"]) == b"pong"
            await page.send(op="send", session=sid, data="x", every_ms=5, count=4)
            assert recv_exactly(peer, 4) == b"xxxx"
        closed = await page.expect(lambda m: m["ev"] == "closed" and m["session"] == sid)
        assert "ended" in closed["reason"]

    try:
        drive(studio, scenario)
    finally:
        listener.close()


def test_udp_session(studio):
    async def scenario(page: Page) -> None:
        opened = await page.open(kind="udp", address="127.0.0.1:0")
        sid = opened["session"]
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", 0))
            s.settimeout(T)
            s.sendto(b"\x01dgram", split(opened["local"]))
            m = await page.data(sid)
            assert bytes.fromhex(m["hex"]) == b"\x01dgram"
            assert m["peer"] == "127.0.0.1:%d" % s.getsockname()[1]
            await page.send(op="send", session=sid, data="ok", to=m["peer"])
            assert s.recvfrom(100)[0] == b"ok"

    drive(studio, scenario)


def test_unix_server_session_and_file(studio, tmp_path):
    path = str(tmp_path / "studio.sock")
    payload = os.urandom(70000)

    async def scenario(page: Page) -> None:
        import base64

        opened = await page.open(kind="unix-server", address=path, framing="length:4")
        sid = opened["session"]
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(T)
            s.connect(path)
            await page.expect(lambda m: m["ev"] == "client" and m["state"] == "connected")
            await page.send(op="send-file", session=sid, to="all",
                            b64=base64.b64encode(payload).decode())
            head = recv_exactly(s, 4)
            assert int.from_bytes(head, "big") == len(payload)
            assert recv_exactly(s, len(payload)) == payload
            s.sendall(b"\x00\x00\x00\x02hi")
            m = await page.data(sid)
            assert bytes.fromhex(m["hex"]) == b"hi"

    drive(studio, scenario)


def test_tls_server_session(studio):
    async def scenario(page: Page) -> None:
        opened = await page.open(kind="tcp-server", address="127.0.0.1:0", framing="lines",
                                 tls={"enabled": True})
        assert opened["tls"] is True
        sid = opened["session"]
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        with socket.create_connection(split(opened["local"]), timeout=T) as raw:
            with ctx.wrap_socket(raw, server_hostname="localhost") as s:
                s.sendall(b"secret\nhalf")
                m = await page.data(sid)
                assert bytes.fromhex(m["hex"]) == b"secret"
                await page.send(op="send", session=sid, data="back", to="all")
                assert recv_exactly(s, 5) == b"back\n"
                s.unwrap()
        # The partial frame at the end is delivered too, marked as such.
        m = await page.data(sid)
        assert bytes.fromhex(m["hex"]) == b"half" and m["tail"] is True

    drive(studio, scenario)


# --- the page in a real browser -----------------------------------------------------------------


def _chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


@pytest.mark.skipif(_chromium() is None, reason="chromium not installed")
def test_page_loads_in_headless_chromium(studio, tmp_path):
    """The page loads with its token, runs its script and connects its WebSocket."""
    r = subprocess.run([_chromium(), "--headless", "--no-sandbox", "--disable-gpu",
                        "--user-data-dir=%s" % tmp_path, "--virtual-time-budget=5000",
                        "--dump-dom", studio.url], capture_output=True, timeout=90)
    dom = r.stdout.decode(errors="replace")
    assert 'id="new-session"' in dom, r.stderr[-2000:]
    assert "connected to the studio" in dom, dom[:3000]


class Browser:
    """Headless Chromium driven over the DevTools protocol (a WebSocket, with aiohttp)."""

    def __init__(self, profile: str) -> None:
        self.proc = subprocess.Popen(
            [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--user-data-dir=" + profile, "--remote-debugging-port=0", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        self.port = 0
        seen = b""
        while time.monotonic() < deadline and not self.port:
            ready, _, _ = select.select([self.proc.stderr], [], [], 0.5)
            if not ready:
                if self.proc.poll() is not None:
                    break
                continue
            line = self.proc.stderr.readline()
            seen += line
            m = re.search(rb"DevTools listening on ws://127\.0\.0\.1:(\d+)/", line)
            if m:
                self.port = int(m.group(1))
        if not self.port:
            self.close()
            pytest.fail("chromium did not start its DevTools endpoint: %r" % seen[-2000:])
        self.ids = 0

    async def attach(self, http: Any) -> None:
        async with http.get("http://127.0.0.1:%d/json/list" % self.port) as r:
            targets = await r.json()
        page = next(t for t in targets if t.get("type") == "page")
        self.ws = await http.ws_connect(page["webSocketDebuggerUrl"], max_msg_size=0)

    async def call(self, method: str, **params: Any) -> Any:
        self.ids += 1
        my = self.ids
        await self.ws.send_str(json.dumps({"id": my, "method": method, "params": params}))
        while True:
            msg = await asyncio.wait_for(self.ws.receive(), 30)
            m = json.loads(msg.data)
            if m.get("id") == my:
                if "error" in m:
                    raise AssertionError("%s: %s" % (method, m["error"]))
                return m.get("result")

    async def js(self, expr: str) -> Any:
        r = await self.call("Runtime.evaluate", expression=expr, returnByValue=True)
        if "exceptionDetails" in r:
            raise AssertionError("%s: %s" % (expr, r["exceptionDetails"]))
        return r["result"].get("value")

    async def wait_js(self, expr: str, timeout: float = 20) -> Any:
        """Poll ``expr`` until it is truthy; return its value."""
        deadline = time.monotonic() + timeout
        while True:
            v = await self.js(expr)
            if v:
                return v
            if time.monotonic() > deadline:
                raise AssertionError("still false after %gs: %s" % (timeout, expr))
            await asyncio.sleep(0.1)

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=10)
        if self.proc.stderr is not None:
            self.proc.stderr.close()


def read_exactly(proc: subprocess.Popen, n: int, timeout: float = 15) -> bytes:
    """``n`` bytes of a child's stdout, within ``timeout``."""
    data = b""
    deadline = time.monotonic() + timeout
    fd = proc.stdout.fileno()
    while len(data) < n and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            chunk = os.read(fd, n - len(data))
            if not chunk:
                break
            data += chunk
    return data


@pytest.mark.skipif(_chromium() is None, reason="chromium not installed")
@pytest.mark.skipif(shutil.which("socat") is None, reason="socat not installed")
def test_user_stories_in_chromium(studio, tmp_path):
    """Through the page, as a user: start a TCP server, connect socat, see its message with its
    sender; send hex and check socat gets exactly those bytes; repeat 5 times; kick socat; a UDP
    round trip; and a page without the token is refused."""
    browser = Browser(str(tmp_path / "profile"))
    socat: Any = None

    async def main() -> None:
        nonlocal socat
        async with aiohttp.ClientSession() as http:
            await browser.attach(http)
            await browser.call("Page.navigate", url=studio.url)
            await browser.wait_js(
                "document.querySelector('#status')?.textContent.includes('connected to the studio')")
            # A TCP server with line framing, from the form at the top.
            await browser.js("""(() => {
                document.querySelector('#new-kind').value = 'tcp-server';
                document.querySelector('#new-address').value = '127.0.0.1:0';
                document.querySelector('#new-framing').value = 'lines';
                document.querySelector('#open-session').click(); })()""")
            title = await browser.wait_js(
                "document.querySelector('[data-session=\"1\"] .title')?.textContent")
            port = int(re.search(r"127\.0\.0\.1:(\d+)", title).group(1))
            socat = subprocess.Popen(["socat", "-t5", "-", "TCP:127.0.0.1:%d" % port],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
            s1 = "document.querySelector('[data-session=\"1\"]')"
            await browser.wait_js(s1 + ".querySelectorAll('.client-list li').length === 1")
            socat.stdin.write(b"hello studio\n")
            socat.stdin.flush()
            log = await browser.wait_js(
                "(t => t.includes('hello studio') && t)(%s.querySelector('.log').textContent)"
                % s1)
            assert re.search(r"<- client \d+ 127\.0\.0\.1:\d+ 12 B", log), log
            # Hex typed in the page: socat receives exactly those bytes (and the framing's \n).
            await browser.js("""(() => { const s = %s;
                s.querySelector('.send-format').value = 'hex';
                s.querySelector('.send-data').value = 'DE AD be ef 00';
                s.querySelector('.send').click(); })()""" % s1)
            assert read_exactly(socat, 6) == b"\xde\xad\xbe\xef\x00\n"
            # Repeat 5 times every 20 ms: socat counts 5.
            await browser.js("""(() => { const s = %s;
                s.querySelector('.send-format').value = 'text';
                s.querySelector('.send-data').value = 'again';
                s.querySelector('.every').value = '20';
                s.querySelector('.count').value = '5';
                s.querySelector('.repeat').click(); })()""" % s1)
            assert read_exactly(socat, 30) == b"again\n" * 5
            # Kick: socat sees the end of the stream and exits; the list empties.
            await browser.js(s1 + ".querySelector('.kick').click()")
            assert socat.wait(timeout=15) == 0
            await browser.wait_js(s1 + ".querySelectorAll('.client-list li').length === 0")
            # A UDP endpoint: a datagram in, with its sender; the reply goes to that sender.
            await browser.js("""(() => {
                document.querySelector('#new-kind').value = 'udp';
                document.querySelector('#new-address').value = '127.0.0.1:0';
                document.querySelector('#new-framing').value = 'raw';
                document.querySelector('#open-session').click(); })()""")
            s2 = "document.querySelector('[data-session=\"2\"]')"
            title = await browser.wait_js(s2 + "?.querySelector('.title').textContent")
            uport = int(re.search(r"127\.0\.0\.1:(\d+)", title).group(1))
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as d:
                d.bind(("127.0.0.1", 0))
                d.settimeout(T)
                d.sendto(b"ping?", ("127.0.0.1", uport))
                await browser.wait_js("%s.querySelector('.log').textContent.includes("
                                      "'127.0.0.1:%d')" % (s2, d.getsockname()[1]))
                await browser.wait_js(s2 + ".querySelector('.send-dest').value !== ''")
                await browser.js("""(() => { const s = %s;
                    s.querySelector('.send-data').value = 'pong!';
                    s.querySelector('.send').click(); })()""" % s2)
                assert d.recvfrom(100)[0] == b"pong!"
            # Without the token, the page is refused.
            await browser.call("Page.navigate", url=studio.url.split("?")[0])
            body = await browser.wait_js(
                "location.search === '' && document.readyState === 'complete' && "
                "document.body.textContent")
            assert "403 forbidden" in body and "token" in body
            await browser.ws.close()

    try:
        asyncio.run(asyncio.wait_for(main(), 100))
    finally:
        if socat is not None:
            if socat.poll() is None:
                socat.kill()
            socat.wait(timeout=5)
            for f in (socat.stdin, socat.stdout, socat.stderr):
                f.close()
        browser.close()
