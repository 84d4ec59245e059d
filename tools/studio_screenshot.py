"""Make the screenshot of ``libsock studio`` in bindings/python/CLI.md.

Starts the studio, opens a TCP server (lines) and a UDP endpoint over its WebSocket API, lets
two stdlib clients and a datagram talk to them, then has headless Chromium load the page (which
replays each session's recent events) and save a PNG.

    python3 tools/studio_screenshot.py [OUT.png]      (needs aiohttp and chromium)
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import socket
import subprocess
import sys
import tempfile

import aiohttp


async def drive(port: int, token: str, keep: list) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.ws_connect("http://127.0.0.1:%d/ws?token=%s" % (port, token)) as ws:

            async def until(pred):  # type: ignore[no-untyped-def]
                while True:
                    m = json.loads((await asyncio.wait_for(ws.receive(), 10)).data)
                    if m["ev"] == "error":
                        raise RuntimeError(m["message"])
                    if pred(m):
                        return m

            await ws.send_str(json.dumps({"op": "open", "kind": "tcp-server",
                                          "address": "127.0.0.1:0", "framing": "lines"}))
            tcp = await until(lambda m: m["ev"] == "opened")
            host, p = tcp["local"].rsplit(":", 1)
            clients = [socket.create_connection((host, int(p)), timeout=5) for _ in range(2)]
            keep.extend(clients)  # connected while the page is shot
            ids = []
            for i, c in enumerate(clients):
                ids.append((await until(lambda m: m["ev"] == "client"))["client"])
                c.sendall(b"hello from client %d\nPING\n" % (i + 1))
            await ws.send_str(json.dumps({"op": "send", "session": tcp["session"], "to": "all",
                                          "data": "welcome[21]", "format": "mixed"}))
            await ws.send_str(json.dumps({"op": "send", "session": tcp["session"], "to": "all",
                                          "data": "tick", "every_ms": 100, "count": 20}))
            for c in clients:
                c.sendall(bytes(range(0, 40)) + b"\n")
            await ws.send_str(json.dumps({"op": "open", "kind": "udp",
                                          "address": "127.0.0.1:0"}))
            udp = await until(lambda m: m["ev"] == "opened" and m["kind"] == "udp")
            uh, up = udp["local"].rsplit(":", 1)
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as d:
                d.sendto(b"\x02\x10status?\x03", (uh, int(up)))
                await until(lambda m: m["ev"] == "data" and m["session"] == udp["session"])
            for i in range(16):  # some seconds of traffic for the rate chart
                clients[i % 2].sendall(b"reading %d: %s\n" % (i, b"%.1f C" % (20 + i * 0.3))
                                       * (1 + (i * 7) % 30))
                await asyncio.sleep(0.5)
            await ws.send_str(json.dumps({"op": "send", "session": tcp["session"], "to": ids[0],
                                          "data": "02 10 ab cd ef 03", "format": "hex"}))
            await until(lambda m: m["ev"] == "data" and m["dir"] == "out" and m["len"] == 6)


def main() -> int:
    out = sys.argv[1] if len(sys.argv) > 1 else "docs/images/studio.png"
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        print("chromium not found", file=sys.stderr)
        return 2
    proc = subprocess.Popen([sys.executable, "-m", "libsock", "studio"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().decode()
        m = re.search(r"http://127\.0\.0\.1:(\d+)/\?token=(\S+)", line)
        if not m:
            print("no URL from the studio: %r" % line, file=sys.stderr)
            return 1
        keep: list = []
        asyncio.run(drive(int(m.group(1)), m.group(2), keep))
        with tempfile.TemporaryDirectory() as profile:
            subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu",
                            "--user-data-dir=" + profile, "--hide-scrollbars",
                            "--window-size=1500,900", "--virtual-time-budget=4000",
                            "--screenshot=" + out, m.group(0)],
                           capture_output=True, timeout=120, check=True)
        for c in keep:
            c.close()
        print("wrote", out)
        return 0
    finally:
        proc.terminate()
        proc.communicate(timeout=10)


if __name__ == "__main__":
    sys.exit(main())
