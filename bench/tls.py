#!/usr/bin/env python3
"""TLS benchmarks, side by side in one run: libsock against Python's ``ssl`` (OpenSSL).

    python3 bench/tls.py [--reps 3] [--placements split,same] [--smoke] [--out PREFIX]

Workloads (server and client are separate processes, pinned with ``taskset``; placement
``split`` = one CPU each, ``same`` = both on CPU 0):

- ``tls-bulk``: the client sends ``--bytes`` through TLS in 64 KiB writes, the server reads
  them (64 KiB reads) and answers with the count (checked; a known size, since Python's ssl
  cannot half-close). Also ``plain-bulk`` (libsock without TLS), for
  the TLS/plaintext ratio.
- ``tls-handshakes``: ``--count`` sequential full handshakes (new connection, no resumption,
  one byte each way to prove the session works).
- ``engine-echo``: in one process, an engine ``Server`` and ``--clients`` engine ``Client``s,
  each sending ``--rounds`` 100-byte messages one at a time and waiting for the echo; TLS
  against plaintext (the engine's 1,000-client TLS rate against its own plaintext rate).

Implementations: ``py-libsock`` (libsock's blocking ``Connection``/``Listener`` with
``libsock.TLS``) and ``py-ssl`` (the stdlib ``socket`` + ``ssl``), with the same self-signed
ECDSA P-256 certificate (pinned by libsock, trusted as a CA file by ssl). Both negotiate TLS 1.3
with the same cipher suite (printed). Output: a markdown table per workload and placement,
medians (min-max) over the repetitions, and ratios; ``--out PREFIX`` also writes PREFIX.md.
Every run is validated (counts); a failed run fails the suite (exit 1).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import ssl
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from typing import Any, Dict, List, Optional, Tuple

WAIT = 30.0
CHUNK = 64 * 1024


# ---------------------------------------------------------------------------------------------
# Workers (run as `tls.py worker IMPL ROLE WORKLOAD --dir D [--port P] ...`).


def _pin(d: str) -> str:
    with open(os.path.join(d, "pin")) as f:
        return f.read().strip()


def _ssl_server_ctx(d: str) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(os.path.join(d, "cert.pem"), os.path.join(d, "key.pem"))
    return ctx


def _ssl_client_ctx(d: str) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=os.path.join(d, "cert.pem"))
    # No session resumption: every handshake is a full one, as libsock's client does.
    ctx.options |= ssl.OP_NO_TICKET
    return ctx


def _ready(port: int) -> None:
    print(f"READY {port}", flush=True)


def _done(result: Dict[str, Any]) -> None:
    print(json.dumps(result), flush=True)


def _read_exact_sock(s: Any, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        b = s.recv(n - len(buf))
        if not b:
            raise RuntimeError("end of stream")
        buf += b
    return bytes(buf)


def worker(argv: List[str]) -> int:
    p = argparse.ArgumentParser(prog="tls.py worker")
    p.add_argument("impl")
    p.add_argument("role", choices=["server", "client"])
    p.add_argument("workload")
    p.add_argument("--dir", required=True)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--bytes", type=int, default=256 << 20)
    p.add_argument("--count", type=int, default=500)
    a = p.parse_args(argv)
    tls = a.workload != "plain-bulk"
    if a.impl == "py-libsock":
        import libsock
        if a.role == "server":
            kw: Dict[str, Any] = {}
            if tls:
                kw["tls"] = libsock.TLS(cert=os.path.join(a.dir, "cert.pem"),
                                        key=os.path.join(a.dir, "key.pem"))
            lst = libsock.listen(("127.0.0.1", 0), timeout=WAIT, **kw)
            _ready(lst.address[1])
            if a.workload.endswith("bulk"):
                conn, _ = lst.accept(timeout=WAIT)
                buf = bytearray(CHUNK)
                n = 0
                while n < a.bytes:
                    k = conn.recv_into(buf)
                    if k == 0:
                        break
                    n += k
                conn.send_all(struct.pack("<Q", n))
                conn.close()
            else:
                for _ in range(a.count):
                    conn, _ = lst.accept(timeout=WAIT)
                    conn.send_all(conn.recv_exact(1))
                    conn.close()
            _done({"ok": True})
            return 0
        ctls: Any = libsock.TLS(pin=_pin(a.dir)) if tls else None
        if a.workload.endswith("bulk"):
            conn = libsock.connect(("127.0.0.1", a.port), timeout=WAIT, tls=ctls)
            data = bytes(CHUNK)
            t0 = time.perf_counter()
            left = a.bytes
            while left > 0:
                conn.send_all(data[: min(CHUNK, left)])
                left -= min(CHUNK, left)
            (got,) = struct.unpack("<Q", conn.recv_exact(8))
            secs = time.perf_counter() - t0
            if got != a.bytes:
                raise RuntimeError(f"server counted {got} of {a.bytes}")
            info = conn.tls_info
            _done({"ok": True, "value": a.bytes / secs / 2**20,
                   "cipher": info["cipher"] if info else "plaintext"})
            return 0
        t0 = time.perf_counter()
        for _ in range(a.count):
            conn = libsock.connect(("127.0.0.1", a.port), timeout=WAIT, tls=ctls)
            conn.send_all(b"x")
            if conn.recv_exact(1) != b"x":
                raise RuntimeError("bad echo")
            conn.close()
        _done({"ok": True, "value": a.count / (time.perf_counter() - t0)})
        return 0
    if a.impl == "py-ssl":
        if a.role == "server":
            ctx = _ssl_server_ctx(a.dir)
            lst = socket.create_server(("127.0.0.1", 0))
            lst.settimeout(WAIT)
            _ready(lst.getsockname()[1])
            if a.workload.endswith("bulk"):
                raw, _ = lst.accept()
                raw.settimeout(WAIT)
                s = ctx.wrap_socket(raw, server_side=True)
                buf = bytearray(CHUNK)
                n = 0
                while n < a.bytes:
                    k = s.recv_into(buf)
                    if k == 0:
                        break
                    n += k
                s.sendall(struct.pack("<Q", n))
                s.close()
            else:
                for _ in range(a.count):
                    raw, _ = lst.accept()
                    raw.settimeout(WAIT)
                    s = ctx.wrap_socket(raw, server_side=True)
                    s.sendall(_read_exact_sock(s, 1))
                    s.close()
            _done({"ok": True})
            return 0
        cctx = _ssl_client_ctx(a.dir)
        if a.workload.endswith("bulk"):
            raw = socket.create_connection(("127.0.0.1", a.port), timeout=WAIT)
            s = cctx.wrap_socket(raw, server_hostname="localhost")
            data = bytes(CHUNK)
            t0 = time.perf_counter()
            left = a.bytes
            while left > 0:
                s.sendall(data[: min(CHUNK, left)])
                left -= min(CHUNK, left)
            (got,) = struct.unpack("<Q", _read_exact_sock(s, 8))
            secs = time.perf_counter() - t0
            if got != a.bytes:
                raise RuntimeError(f"server counted {got} of {a.bytes}")
            c = s.cipher()
            _done({"ok": True, "value": a.bytes / secs / 2**20, "cipher": c[0] if c else "?"})
            return 0
        t0 = time.perf_counter()
        for _ in range(a.count):
            raw = socket.create_connection(("127.0.0.1", a.port), timeout=WAIT)
            s = cctx.wrap_socket(raw, server_hostname="localhost")
            s.sendall(b"x")
            if _read_exact_sock(s, 1) != b"x":
                raise RuntimeError("bad echo")
            s.close()
        _done({"ok": True, "value": a.count / (time.perf_counter() - t0)})
        return 0
    raise SystemExit(f"unknown implementation {a.impl}")


def engine_echo(clients: int, rounds: int, tls: bool) -> float:
    """Round trips per second of ``clients`` engine clients echoing through one engine server
    (in this process), each with one message in flight."""
    import libsock
    skw: Dict[str, Any] = {}
    ckw: Dict[str, Any] = {}
    if tls:
        cert, key = libsock.self_signed(["127.0.0.1"])
        skw["tls"] = libsock.TLS(cert=cert, key=key)
        ckw["tls"] = libsock.TLS(pin=libsock.fingerprint(cert))
    msg = bytes(100)
    with libsock.Server(("127.0.0.1", 0), **skw) as server:
        cs = [libsock.Client(server.address, reconnect=False, **ckw) for _ in range(clients)]
        try:
            up = 0
            end = time.monotonic() + 120
            while up < clients and time.monotonic() < end:
                up += sum(1 for e in server.events(timeout=0.5, max=1024) if e.kind == "connected")
            if up != clients:
                raise RuntimeError(f"{up} of {clients} clients connected")
            for c in cs:
                while not c.connected:
                    c.next_event(timeout=1.0)
            import selectors
            import threading
            stop = threading.Event()

            def echo() -> None:
                # The server side: echo every message (events() releases the GIL while waiting).
                while not stop.is_set():
                    for ev in server.events(timeout=0.05, max=1024):
                        if ev.kind == "message":
                            server.send(ev.client, msg, timeout=WAIT)

            th = threading.Thread(target=echo, daemon=True)
            th.start()
            sel = selectors.DefaultSelector()
            for c in cs:
                sel.register(c.fileno(), selectors.EVENT_READ, c)
            sent = {id(c): 1 for c in cs}
            t0 = time.perf_counter()
            for c in cs:
                c.send(msg)
            left = clients * rounds
            echoed = 0
            try:
                while left and time.monotonic() < end:
                    for key, _ in sel.select(timeout=1.0):
                        c = key.data
                        for ev in c.events(timeout=0, max=64):
                            if ev.kind == "message":
                                left -= 1
                                echoed += 1
                                if sent[id(c)] < rounds:
                                    sent[id(c)] += 1
                                    c.send(msg)
            finally:
                stop.set()
                th.join(10)
                sel.close()
            if left:
                raise RuntimeError(f"{left} echoes missing")
            return echoed / (time.perf_counter() - t0)
        finally:
            for c in cs:
                c.close(grace=0)


# ---------------------------------------------------------------------------------------------
# The driver.

def run_pair(impl: str, workload: str, d: str, params: List[str], cpus: Tuple[int, int],
             timeout: float) -> Dict[str, Any]:
    me = [sys.executable, os.path.abspath(__file__), "worker", impl]

    def pinned(cpu: int, argv: List[str]) -> List[str]:
        return ["taskset", "-c", str(cpu), *argv] if shutil.which("taskset") else argv

    srv = subprocess.Popen(pinned(cpus[0], [*me, "server", workload, "--dir", d, *params]),
                           stdout=subprocess.PIPE, text=True)
    try:
        assert srv.stdout is not None
        line = srv.stdout.readline().split()
        if len(line) != 2 or line[0] != "READY":
            return {"ok": False, "error": f"server said {line!r}"}
        cli = subprocess.run(
            pinned(cpus[1], [*me, "client", workload, "--dir", d, "--port", line[1], *params]),
            capture_output=True, text=True, timeout=timeout)
        out = srv.communicate(timeout=timeout)[0]
        if cli.returncode != 0 or srv.returncode != 0:
            return {"ok": False, "error": (cli.stderr or out)[-400:]}
        return json.loads(cli.stdout.strip().splitlines()[-1])
    except subprocess.TimeoutExpired:
        return {"ok": False, "error": "timeout"}
    finally:
        if srv.poll() is None:
            srv.kill()
            srv.wait(timeout=10)


def fmt(vals: List[float]) -> str:
    m = statistics.median(vals)
    return f"{m:,.0f} ({min(vals):,.0f}-{max(vals):,.0f})" if m >= 100 else \
        f"{m:,.1f} ({min(vals):,.1f}-{max(vals):,.1f})"


def main(argv: List[str]) -> int:
    if argv[:1] == ["worker"]:
        return worker(argv[1:])
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--placements", default="split,same")
    ap.add_argument("--smoke", action="store_true", help="tiny sizes, one repetition")
    ap.add_argument("--out", default=None, metavar="PREFIX")
    ap.add_argument("--timeout", type=float, default=180.0)
    ap.add_argument("--clients", type=int, default=1000)
    a = ap.parse_args(argv)
    import libsock
    reps = 1 if a.smoke else a.reps
    nbytes = (4 << 20) if a.smoke else (256 << 20)
    count = 20 if a.smoke else 500
    clients = 20 if a.smoke else a.clients
    rounds = 2 if a.smoke else 20
    d = tempfile.mkdtemp(prefix="ls-tlsbench-")
    cert, key = libsock.self_signed(["localhost", "127.0.0.1"])
    for name, text in (("cert.pem", cert), ("key.pem", key), ("pin", libsock.fingerprint(cert))):
        with open(os.path.join(d, name), "w") as f:
            f.write(text)
    ncpu = len(os.sched_getaffinity(0))
    places = {"split": (0, 1 if ncpu > 1 else 0), "same": (0, 0)}
    rows: List[str] = ["# TLS benchmarks (bench/tls.py)", ""]
    failed = 0
    ciphers = set()
    configs = [
        ("tls-bulk", "MiB/s", ["--bytes", str(nbytes)], ["py-libsock", "py-ssl"]),
        ("plain-bulk", "MiB/s", ["--bytes", str(nbytes)], ["py-libsock"]),
        ("tls-handshakes", "handshakes/s", ["--count", str(count)], ["py-libsock", "py-ssl"]),
    ]
    for place in [p for p in a.placements.split(",") if p]:
        results: Dict[Tuple[str, str], List[float]] = {}
        for r in range(reps):
            for workload, _, params, impls in configs:
                order = impls[r % len(impls):] + impls[:r % len(impls)]
                for impl in order:
                    res = run_pair(impl, workload, d, params, places[place], a.timeout)
                    print(f"{place} {workload} {impl}: {res}", file=sys.stderr)
                    if not res.get("ok"):
                        failed += 1
                        continue
                    if "cipher" in res:
                        ciphers.add(f"{impl}: {res['cipher']}")
                    results.setdefault((workload, impl), []).append(float(res["value"]))
        rows += [f"## placement {place} (server CPU {places[place][0]}, client CPU {places[place][1]})",
                 "", "| workload | unit | py-libsock | py-ssl | libsock / ssl |", "|---|---|---|---|---|"]
        for workload, unit, _, _ in configs:
            lib = results.get((workload, "py-libsock"), [])
            ref = results.get((workload, "py-ssl"), [])
            ratio = f"{statistics.median(lib) / statistics.median(ref):.2f}×" if lib and ref else "n/a"
            rows.append(f"| {workload} | {unit} | {fmt(lib) if lib else 'failed'} | "
                        f"{fmt(ref) if ref else 'n/a'} | {ratio} |")
        tb, pb = results.get(("tls-bulk", "py-libsock")), results.get(("plain-bulk", "py-libsock"))
        if tb and pb:
            rows.append(f"\nlibsock TLS bulk / plaintext bulk: "
                        f"{statistics.median(tb) / statistics.median(pb):.2f}×")
        rows.append("")
    eng: Dict[str, List[float]] = {"tls": [], "plain": []}
    for r in range(reps):
        for mode in (["tls", "plain"] if r % 2 == 0 else ["plain", "tls"]):
            try:
                eng[mode].append(engine_echo(clients, rounds, mode == "tls"))
            except Exception as e:  # a failed run is reported, never a number
                print(f"engine-echo {mode}: {e}", file=sys.stderr)
                failed += 1
    rows += [f"## engine echo, {clients} clients × {rounds} round trips of 100 B (one process)", "",
             "| mode | round trips/s |", "|---|---|"]
    for mode in ("tls", "plain"):
        rows.append(f"| {mode} | {fmt(eng[mode]) if eng[mode] else 'failed'} |")
    if eng["tls"] and eng["plain"]:
        rows.append(f"\nengine TLS / plaintext: "
                    f"{statistics.median(eng['tls']) / statistics.median(eng['plain']):.2f}×")
    rows += ["", "Ciphers: " + "; ".join(sorted(ciphers)), f"Failed runs: {failed}"]
    text = "\n".join(rows)
    print(text)
    if a.out:
        with open(a.out + ".md", "w") as f:
            f.write(text + "\n")
    shutil.rmtree(d, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
