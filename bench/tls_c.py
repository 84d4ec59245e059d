#!/usr/bin/env python3
"""TLS handshakes per second from C, side by side in one run: libsock's C ABI against OpenSSL.

    python3 bench/tls_c.py [--seconds 5] [--placements split,same]

Four pairs, each a fresh server and a client that makes full handshakes (no resumption; each
connection closed once its handshake is done, as ``s_time -new`` without ``-www`` does) for
``--seconds``: ``openssl s_time -new`` against ``openssl s_server`` (OpenSSL
on both sides), ``openssl s_time`` against a libsock server (libsock's server side),
``bench/c/tls_bench`` (libsock's C client) against ``openssl s_server`` (libsock's client side),
and libsock to libsock. Same self-signed ECDSA P-256 certificate for both servers; processes
pinned with taskset (``split``: server CPU 0, client CPU 1; ``same``: both CPU 0). Builds
``bench/c/tls_bench`` against the release ``libsock.so`` first (``cargo build --release -p
libsock-c``). Prints a markdown table; exits 1 if a run fails.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def pinned(cpu: int, argv: list[str]) -> list[str]:
    return ["taskset", "-c", str(cpu), *argv] if shutil.which("taskset") else argv


def build(out: str) -> str:
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "libsock-c"], cwd=ROOT, check=True)
    lib = subprocess.run(["cargo", "metadata", "--format-version", "1", "--no-deps"], cwd=ROOT,
                         check=True, capture_output=True, text=True).stdout
    target = re.search(r'"target_directory":"([^"]+)"', lib)
    assert target, "cargo metadata: no target directory"
    libdir = os.path.join(target.group(1), "release")
    exe = os.path.join(out, "tls_bench")
    subprocess.run(["gcc", "-O2", "-Wall", "-I", os.path.join(ROOT, "include"),
                    os.path.join(ROOT, "bench", "c", "tls_bench.c"), "-L", libdir, "-lsock",
                    "-Wl,-rpath," + libdir, "-o", exe], check=True)
    return exe


def run_pair(server: str, client: str, d: str, exe: str, secs: float, cpus: tuple[int, int]) -> float:
    cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
    if server == "openssl":
        port = free_port()
        srv = subprocess.Popen(pinned(cpus[0], ["openssl", "s_server", "-quiet", "-naccept", "100000",
                                                "-accept", f"127.0.0.1:{port}", "-cert", cert,
                                                "-key", key, "-no_ticket"]),
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
        wait_port(port)
    else:
        srv = subprocess.Popen(pinned(cpus[0], [exe, "serve", cert, key, "1000000"]),
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        assert srv.stdout is not None
        line = srv.stdout.readline().split()
        assert line[:1] == ["READY"], line
        port = int(line[1])
    try:
        if client == "openssl":
            out = subprocess.run(pinned(cpus[1], ["openssl", "s_time", "-connect", f"127.0.0.1:{port}",
                                                  "-new", "-time", str(int(secs))]),
                                 capture_output=True, text=True, timeout=secs + 60).stdout
            m = re.search(r"(\d+) connections in ([\d.]+)s", out)
            if not m:
                raise RuntimeError("s_time said: " + out[-300:])
            return int(m.group(1)) / float(m.group(2))
        out = subprocess.run(pinned(cpus[1], [exe, "connect", str(port), str(secs)]),
                             capture_output=True, text=True, timeout=secs + 60, check=True).stdout
        n, t = out.split()
        return int(n) / float(t)
    finally:
        srv.kill()
        srv.wait(timeout=10)


def free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int) -> None:
    import socket
    end = time.monotonic() + 10
    while time.monotonic() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--placements", default="split,same")
    a = ap.parse_args()
    sys.path.insert(0, os.path.join(ROOT, "bindings", "python"))
    d = tempfile.mkdtemp(prefix="ls-tlsc-")
    try:
        exe = build(d)
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
                        os.path.join(d, "key.pem"), "-out", os.path.join(d, "cert.pem"), "-days", "2",
                        "-subj", "/CN=127.0.0.1"], check=True, capture_output=True)
        ncpu = len(os.sched_getaffinity(0))
        places = {"split": (0, 1 if ncpu > 1 else 0), "same": (0, 0)}
        pairs = [("openssl", "openssl"), ("libsock", "openssl"), ("openssl", "libsock"), ("libsock", "libsock")]
        print("# TLS full handshakes per second from C (bench/tls_c.py)\n")
        print("| placement | server | client | handshakes/s | vs OpenSSL both sides |")
        print("|---|---|---|---|---|")
        failed = 0
        for place in [p for p in a.placements.split(",") if p]:
            base = None
            for server, client in pairs:
                try:
                    r = run_pair(server, client, d, exe, a.seconds, places[place])
                except Exception as e:  # reported, never a number
                    print(f"{place} {server}/{client}: {e}", file=sys.stderr)
                    failed += 1
                    continue
                base = r if (server, client) == ("openssl", "openssl") else base
                ratio = f"{r / base:.2f}×" if base else "n/a"
                print(f"| {place} | {server} | {client} | {r:,.0f} | {ratio} |")
        return 1 if failed else 0
    finally:
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
