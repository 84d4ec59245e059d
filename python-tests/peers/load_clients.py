"""Many plain TCP clients in one process, driven by ``selectors`` (no thread per client), for
the load tests: the server under test runs in another process, so neither side needs more
than ~10,000 descriptors.

    load_clients.py hold HOST PORT N     # N connections at once, each echoes one frame;
                                         # then held open until the command "close"
    load_clients.py churn HOST PORT N [--parallel K]
                                         # N times: connect, echo one frame, close

Frames use the engine's default framing (4-byte big-endian length). Client i's payload is
i (4 bytes) followed by PAT[i % 256:] up to a length between 1 and ~2,000 bytes, so every echo
is checked byte for byte. Results are JSON lines; every wait is bounded (``--timeout``).
"""

from __future__ import annotations

import argparse
import errno
import json
import resource
import selectors
import socket
import struct
import sys
import time
from typing import Optional

PAT = bytes(range(256)) * 10


def frame_for(i: int) -> bytes:
    n = 4 + (i * 7919) % 2000
    payload = struct.pack(">I", i) + PAT[i % 256:i % 256 + n - 4]
    return struct.pack(">I", len(payload)) + payload


class Slot:
    __slots__ = ("i", "sock", "want", "got", "state")

    def __init__(self, i: int, sock: socket.socket) -> None:
        self.i = i
        self.sock = sock
        self.want = frame_for(i)
        self.got = bytearray()
        self.state = "connecting"


def run(host: str, port: int, n: int, parallel: int, keep: bool, timeout: float) -> tuple[dict[str, object], list[socket.socket]]:
    """Drive n clients with at most ``parallel`` connecting/echoing at once. ``keep``: leave
    each open after its echo (hold), else close it (churn)."""
    sel = selectors.DefaultSelector()
    held: list[socket.socket] = []
    nxt = 0
    active = 0
    ok = bad = failed = 0
    errors: dict[str, int] = {}
    deadline = time.monotonic() + timeout
    t0 = time.monotonic()

    def finish(s: Slot, good: Optional[bool], err: str = "") -> None:
        nonlocal active, ok, bad, failed
        sel.unregister(s.sock)
        active -= 1
        if good is None:
            failed += 1
            errors[err] = errors.get(err, 0) + 1
            s.sock.close()
        elif good:
            ok += 1
            if keep:
                held.append(s.sock)
            else:
                s.sock.close()
        else:
            bad += 1
            s.sock.close()

    while ok + bad + failed < n:
        while nxt < n and active < parallel:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setblocking(False)
            rc = sock.connect_ex((host, port))
            if rc not in (0, errno.EINPROGRESS):
                sock.close()
                failed += 1
                errors[errno.errorcode.get(rc, str(rc))] = errors.get(errno.errorcode.get(rc, str(rc)), 0) + 1
                nxt += 1
                continue
            sel.register(sock, selectors.EVENT_WRITE, Slot(nxt, sock))
            nxt += 1
            active += 1
        if time.monotonic() > deadline:
            break
        for key, _ in sel.select(timeout=1.0):
            s: Slot = key.data
            if s.state == "connecting":
                err = s.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    finish(s, None, errno.errorcode.get(err, str(err)))
                    continue
                sent = s.sock.send(s.want)  # at most ~2 KB: fits an empty socket buffer
                assert sent == len(s.want), (sent, len(s.want))
                s.state = "echo"
                sel.modify(s.sock, selectors.EVENT_READ, s)
                continue
            try:
                chunk = s.sock.recv(65536)
            except OSError as e:
                finish(s, None, errno.errorcode.get(e.errno or 0, str(e)))
                continue
            if not chunk:
                finish(s, None, "closed-by-server")
                continue
            s.got += chunk
            if len(s.got) >= len(s.want):
                finish(s, bytes(s.got) == s.want)
    sel.close()
    res: dict[str, object] = {
        "ok": ok,
        "bad": bad,
        "failed": failed,
        "unfinished": n - ok - bad - failed,
        "errors": errors,
        "seconds": round(time.monotonic() - t0, 2),
    }
    return res, held


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["hold", "churn"])
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("n", type=int)
    ap.add_argument("--parallel", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=150.0)
    a = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if a.mode == "hold":
        res, held = run(a.host, a.port, a.n, a.parallel or 256, True, a.timeout)
        res["held"] = len(held)
        print(json.dumps({"hold": res}), flush=True)
        for line in sys.stdin:  # held until told (or until the test goes away)
            if line.strip() == "close":
                break
        for s in held:
            s.close()
        print(json.dumps({"close": len(held)}), flush=True)
    else:
        res, _ = run(a.host, a.port, a.n, a.parallel or 32, False, a.timeout)
        print(json.dumps({"churn": res}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
