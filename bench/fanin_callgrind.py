#!/usr/bin/env python3
"""User-space instructions per round trip of the fan-in servers, counted by callgrind.

Runs one server under ``valgrind --tool=callgrind`` twice with the same N clients, once with
K1 and once with K2 round trips per client, and reports (Ir(K2) - Ir(K1)) / (N * (K2 - K1)):
the instructions the server's own code (all its threads, libraries included) spends per round
trip, with connection setup and shutdown cancelled out. Kernel work is not counted: callgrind
sees user space only, so a backend that moves work into the kernel (io_uring) looks cheaper here
than it is; compare with the server CPU per round trip of bench/fanin.py, which counts both.

    python3 bench/fanin_callgrind.py                      # libsock-rs, libsock-rs-uring, tokio
    python3 bench/fanin_callgrind.py --impls tokio -n 100 --k1 20 --k2 120

Needs valgrind and the binaries bench/fanin.py builds (run it once, or its build step).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import fanin  # noqa: E402


def instructions(impl: str, n: int, k: int, timeout: float) -> int:
    """Total Ir of one callgrind run of `impl` serving n clients x k round trips."""
    with tempfile.TemporaryDirectory() as d:
        out = Path(d) / "cg.out"
        cmd = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", "--trace-children=no",
               *fanin.server_cmd(impl)]
        env = {**os.environ, "LIBSOCK_BACKEND": fanin.BACKEND.get(impl, "epoll")}
        server = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL, text=True, env=env)
        client = None
        try:
            line = fanin.read_line(server, 120, "server READY")
            port = int(line.split()[1].rsplit(":", 1)[-1])
            client = subprocess.Popen([str(fanin.CLIENT_BIN), str(port), str(n), str(k), str(int(timeout))],
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            line = fanin.read_line(client, timeout, "client CONNECTED")
            if line != f"CONNECTED {n}":
                raise fanin.RunFailed(f"client said {line!r}")
            assert client.stdin is not None
            client.stdin.write("GO\n")
            client.stdin.flush()
            res = json.loads(fanin.read_line(client, timeout, "client result"))
            if not res.get("ok") or res["round_trips"] != n * k or res["errors"] != 0:
                raise fanin.RunFailed(f"validation: {res}")
            client.wait(30)
        finally:
            if client is not None and client.poll() is None:
                client.kill()
                client.wait(10)
            # SIGINT: valgrind writes the profile as the program dies of it.
            if server.poll() is None:
                server.send_signal(signal.SIGINT)
            try:
                server.wait(60)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(10)
        text = out.read_text()
        m = re.search(r"^summary:\s+(\d+)", text, re.M) or re.search(r"^totals:\s+(\d+)", text, re.M)
        if not m:
            raise fanin.RunFailed("no callgrind summary")
        return int(m.group(1))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--impls", default="libsock-rs,libsock-rs-uring,tokio")
    ap.add_argument("-n", type=int, default=100, help="clients (default 100)")
    ap.add_argument("--k1", type=int, default=20)
    ap.add_argument("--k2", type=int, default=120)
    ap.add_argument("--timeout", type=float, default=300)
    args = ap.parse_args()
    if shutil.which("valgrind") is None:
        print("valgrind is not installed", file=sys.stderr)
        return 1
    fanin.raise_nofile()
    print(f"| server | Ir per round trip (user space; N = {args.n}, K {args.k1} vs {args.k2}) |")
    print("|---|---|")
    for impl in args.impls.split(","):
        a = instructions(impl, args.n, args.k1, args.timeout)
        b = instructions(impl, args.n, args.k2, args.timeout)
        per = (b - a) / (args.n * (args.k2 - args.k1))
        print(f"| {impl} | {per:,.0f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
