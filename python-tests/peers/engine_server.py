"""A libsock engine Server in its own process, for the fault and load tests: the tests kill it,
restart it, starve it of descriptors and read its /proc figures without the test runner's own
memory and descriptors in the way.

    engine_server.py MODE [--port P] [--nofile-headroom N] [--send-queue-bytes B]
                     [--policy error|disconnect] [--backlog N]

Modes:
  echo       every message goes back to its sender.
  sink       messages are ``seq (8 bytes, big endian) + pattern``; each batch is reported as
             {"seqs": [...], "bad": [...]} (bad: seqs whose payload is not the pattern).
  broadcast  clients say b"fast" or b"slow" first; the command ``go N SIZE`` broadcasts N
             messages of SIZE bytes, paced by the fast clients' send queues only, then reports
             {"go": {...}} with what broadcast() returned and the RSS seen meanwhile.

Printed first: {"ready": port, "pid": pid, "fds": open descriptors}. Commands, one per stdin
line, each answered by one JSON line keyed by the command: ``stats`` (the engine's stats,
clients, event kinds, disconnect reasons, warnings, /proc figures; unless paused it pulls
pending events first), ``go N SIZE`` (broadcast mode), ``pause`` / ``resume`` (stop / start pulling events
when the engine has some), ``quit``.
With ``--nofile-headroom N`` the process's RLIMIT_NOFILE soft limit is set, once the server is
up, to the descriptors it has open then plus N.
"""

from __future__ import annotations

import argparse
import faulthandler
import json
import os
import resource
import selectors
import signal
import struct
import sys
import time
from typing import Any

import libsock

PAT = bytes(range(256)) * 4200  # payload of seq s: PAT[s % 256 : s % 256 + n], n <= 1 MiB


def pattern_ok(data: bytes) -> bool:
    if len(data) < 8:
        return False
    (seq,) = struct.unpack(">Q", data[:8])
    o = seq % 256
    return data[8:] == PAT[o:o + len(data) - 8]


def rss_kib() -> int:
    """-1 when out of descriptors (EMFILE): the tests read /proc from outside then."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return -1


def fds() -> int:
    try:
        return len(os.listdir("/proc/self/fd"))
    except OSError:
        return -1


def cpu() -> float:
    t = os.times()
    return t.user + t.system


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["echo", "sink", "broadcast"])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--nofile-headroom", type=int, default=0)
    ap.add_argument("--send-queue-bytes", type=int, default=4 << 20)
    ap.add_argument("--policy", choices=["error", "disconnect"], default="error")
    ap.add_argument("--backlog", type=int, default=1024)
    a = ap.parse_args()
    faulthandler.register(signal.SIGUSR1)  # a stuck run: kill -USR1 shows where (stderr)

    if a.nofile_headroom or a.mode == "echo":
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # the load test's 10,000
    server: libsock.Server | None = None
    for _ in range(200):  # a restart on the port of a killed server: it may linger briefly
        try:
            server = libsock.Server(
                ("127.0.0.1", a.port),
                send_queue_bytes=a.send_queue_bytes,
                send_policy=a.policy,
                backlog=a.backlog,
            )
            break
        except libsock.AddrInUseError:
            time.sleep(0.05)
    assert server is not None, f"port {a.port} stayed in use"
    limit = None
    if a.nofile_headroom:
        limit = fds() + a.nofile_headroom
        resource.setrlimit(resource.RLIMIT_NOFILE, (limit, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))

    sel = selectors.DefaultSelector()
    sel.register(server.fileno(), selectors.EVENT_READ, "engine")
    sel.register(sys.stdin, selectors.EVENT_READ, "stdin")
    print(json.dumps({"ready": server.address[1], "pid": os.getpid(), "fds": fds(), "limit": limit}), flush=True)

    reasons: dict[str, int] = {}
    kinds: dict[str, int] = {}
    warnings: list[dict[str, Any]] = []  # the first 50 "warning" events
    fast: set[int] = set()
    slow: set[int] = set()
    echoed = 0
    paused = False

    def handle(evs: list[libsock.Event]) -> None:
        nonlocal echoed
        seqs: list[int] = []
        bad: list[int] = []
        for ev in evs:
            kinds[ev.kind] = kinds.get(ev.kind, 0) + 1
            if ev.kind == "warning" and len(warnings) < 50:
                warnings.append({"client": ev.client, "slow": ev.client in slow,
                                 "error": getattr(ev, "error", None)})
            if ev.kind == "disconnected":
                r = ev.reason or "?"
                reasons[r] = reasons.get(r, 0) + 1
                fast.discard(ev.client)
                slow.discard(ev.client)
            elif ev.kind == "message":
                data = ev.data or b""
                if a.mode == "echo":
                    try:
                        server.send(ev.client, data)
                        echoed += 1
                    except libsock.ClosedError:
                        pass  # gone meanwhile: its disconnected event follows
                elif a.mode == "sink":
                    seq = struct.unpack(">Q", data[:8])[0] if len(data) >= 8 else -1
                    seqs.append(seq)
                    if not pattern_ok(data):
                        bad.append(seq)
                elif data == b"fast":
                    fast.add(ev.client)
                elif data == b"slow":
                    slow.add(ev.client)
        if seqs or bad:
            print(json.dumps({"seqs": seqs, "bad": bad}), flush=True)

    def pump(timeout: float) -> None:
        try:
            handle(server.events(timeout=timeout, max=1024))
        except libsock.ClosedError:
            pass

    def go(n: int, size: int) -> dict[str, Any]:
        """Broadcast n messages; before each, wait (pulling events) until every fast client's
        queue is nearly empty, so that only the slow clients fall behind."""
        returned: list[int] = []
        rss: list[int] = []
        expected_skips = 0
        t0 = time.monotonic()
        for i in range(n):
            deadline = time.monotonic() + 60
            while True:
                busy = False
                for c in list(fast):
                    try:
                        if server.queued_bytes(c) > 2 * size:
                            busy = True
                    except libsock.ClosedError:
                        fast.discard(c)
                if not busy:
                    break
                if time.monotonic() > deadline:
                    raise AssertionError("a fast client did not read for 60 s")
                pump(0.002)
            o = i % 256
            msg = struct.pack(">Q", i) + PAT[o:o + size - 8]
            clients_now = len(server.clients())
            got = server.broadcast(msg)
            returned.append(got)
            expected_skips += clients_now - got
            if i % max(1, n // 20) == 0:
                rss.append(rss_kib())
            pump(0)
        rss.append(rss_kib())
        return {
            "returned_min": min(returned),
            "returned_max": max(returned),
            "returned_last": returned[-1],
            "skipped": expected_skips,
            "rss_kib": rss,
            "seconds": round(time.monotonic() - t0, 2),
        }

    while True:
        for key, _ in sel.select(timeout=1.0):
            if key.data == "engine":
                if not paused:
                    pump(0)
                continue
            line = sys.stdin.readline()
            if not line:
                return 0  # the test went away
            words = line.split()
            if not words:
                continue
            cmd = words[0]
            if cmd == "pause":  # stop pulling events (an application that falls behind)
                if not paused:
                    sel.unregister(server.fileno())
                    paused = True
                print(json.dumps({"pause": True, "rss_kib": rss_kib()}), flush=True)
                continue
            if cmd == "resume":
                if paused:
                    sel.register(server.fileno(), selectors.EVENT_READ, "engine")
                    paused = False
                print(json.dumps({"resume": True}), flush=True)
                continue
            if cmd == "quit":
                server.shutdown(grace=0.5)
                print(json.dumps({"quit": True}), flush=True)
                return 0
            if cmd == "stats":
                if not paused:
                    pump(0)
                print(json.dumps({"stats": server.stats(), "clients": len(server.clients()),
                                  "fast": len(fast), "slow": len(slow),
                                  "reasons": reasons, "kinds": kinds, "warnings": warnings,
                                  "echoed": echoed,
                                  "fds": fds(), "rss_kib": rss_kib(), "cpu": cpu()}), flush=True)
            elif cmd == "go":
                print(json.dumps({"go": go(int(words[1]), int(words[2])), "reasons": reasons,
                                  "stats": server.stats()}), flush=True)
            else:
                print(json.dumps({"error": f"unknown command {cmd!r}"}), flush=True)


if __name__ == "__main__":
    sys.exit(main())
