#!/usr/bin/env python3
"""Fan-in benchmark: N clients x K ping-pongs of 64-byte framed messages against several servers.

Servers (one run compares them all, interleaved, order rotating per repetition):
  libsock-py   (a) Python on the libsock engine (libsock.Server, events()/send())
  asyncio      (b) asyncio Protocol with hand framing
  uvloop       (c) the same Protocol under uvloop (skipped, and said so, if uvloop is missing)
  tokio        (d) hand-written Rust tokio server (bench/rust, standalone crate)
  libsock-rs   (e) Rust libsock engine server (core/examples/fanin_engine.rs)

The load generator is one Rust program for all servers (bench/rust/src/bin/fanin_client.rs): it
connects N clients, reports CONNECTED, then on GO every client does K sequential round trips
(4-byte big-endian length + 64 bytes), checking every echo byte for byte.

Per run: round trips/s (N*K / wall time of the ping-pong phase, measured by the client), server
CPU per round trip (user+system time of the server process over the ping-pong phase, summed over
its threads from /proc/<pid>/task/*/schedstat, ns resolution), idle RSS (VmRSS of the server with
all N clients connected and idle, before the ping-pong) and peak RSS (VmHWM after the run).

A run whose validation fails (client error, wrong or missing echo, server died, timeout) is a
failed run: it prints an error JSON line, gives no number, and the driver exits non-zero.

    python3 bench/fanin.py --smoke          # N=10, K=10, 1 rep, all servers, both placements
    python3 bench/fanin.py                  # N=100,1000, K=100, 3 reps, split and same
    python3 bench/fanin.py --big            # adds N=10000
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import select
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RUST_DIR = HERE / "rust"
CLIENT_BIN = RUST_DIR / "target" / "release" / "fanin_client"
TOKIO_BIN = RUST_DIR / "target" / "release" / "fanin_tokio_server"
ENGINE_BIN = ROOT / "target" / "release" / "examples" / "fanin_engine"
PY_SERVERS = HERE / "fanin_servers.py"

ALL_IMPLS = ["libsock-py", "asyncio", "uvloop", "tokio", "libsock-rs"]
SERVER_LIFETIME = 900  # seconds: every server exits by itself even if the driver dies


class RunFailed(Exception):
    pass


def log(*a: object) -> None:
    print(*a, file=sys.stderr, flush=True)


def raise_nofile() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def build(skip: bool) -> None:
    if skip:
        return
    log("--- building bench/rust (fanin_client, fanin_tokio_server)")
    subprocess.run(
        ["cargo", "build", "--release", "--quiet", "--manifest-path", str(RUST_DIR / "Cargo.toml")],
        check=True,
    )
    log("--- building core/examples/fanin_engine")
    subprocess.run(
        ["cargo", "build", "--release", "--quiet", "-p", "libsock", "--example", "fanin_engine"],
        check=True,
        cwd=ROOT,
    )


def available(impl: str) -> str | None:
    """None if the implementation can run, else why not."""
    probe = {"libsock-py": "import libsock; libsock.Server", "uvloop": "import uvloop"}.get(impl)
    if probe is None:
        return None
    r = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    if r.returncode != 0:
        return (r.stderr.strip().splitlines() or ["import failed"])[-1]
    return None


def server_cmd(impl: str) -> list[str]:
    life = str(SERVER_LIFETIME)
    if impl == "libsock-py":
        return [sys.executable, str(PY_SERVERS), "libsock", life]
    if impl == "asyncio":
        return [sys.executable, str(PY_SERVERS), "asyncio", life]
    if impl == "uvloop":
        return [sys.executable, str(PY_SERVERS), "uvloop", life]
    if impl == "tokio":
        return [str(TOKIO_BIN), life]
    if impl == "libsock-rs":
        return [str(ENGINE_BIN), life]
    raise ValueError(impl)


def read_line(proc: subprocess.Popen[str], timeout: float, what: str) -> str:
    """One stdout line of proc within timeout (bounded wait)."""
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise RunFailed(f"no {what} line within {timeout} s")
        r, _, _ = select.select([proc.stdout], [], [], left)
        if r:
            line = proc.stdout.readline()
            if not line:
                raise RunFailed(f"{what}: process ended (exit {proc.wait(5)})")
            return line.strip()


def cpu_ns(pid: int) -> int:
    """User+system CPU time of all threads of pid, in ns (schedstat; /proc/<pid>/stat fallback)."""
    total = 0
    try:
        for t in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{t}/schedstat") as f:
                total += int(f.read().split()[0])
        return total
    except (OSError, ValueError, IndexError):
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        ticks = int(fields[11]) + int(fields[12])  # utime, stime
        return ticks * 1_000_000_000 // os.sysconf("SC_CLK_TCK")


def status_kib(pid: int, key: str) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise RunFailed(f"{key} missing from /proc/{pid}/status")


def count_sockets(pid: int) -> int:
    n = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:"):
                n += 1
        except OSError:
            pass
    return n


def stop(proc: subprocess.Popen[str] | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def run_one(impl: str, placement: str, n: int, k: int, timeout: float) -> dict[str, object]:
    srv_cpu, cli_cpu = ("0", "1") if placement == "split" else ("0", "0")
    server = client = None
    try:
        server = subprocess.Popen(
            ["taskset", "-c", srv_cpu, *server_cmd(impl)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            text=True,
        )
        line = read_line(server, 30, "server PORT")
        if not line.startswith("PORT "):
            raise RunFailed(f"server said {line!r}")
        port = int(line.split()[1].rsplit(":", 1)[-1])
        base_sockets = count_sockets(server.pid)
        client = subprocess.Popen(
            ["taskset", "-c", cli_cpu, str(CLIENT_BIN), str(port), str(n), str(k), str(int(timeout))],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        line = read_line(client, timeout, "client CONNECTED")
        if line != f"CONNECTED {n}":
            raise RunFailed(f"client said {line!r}")
        # Idle RSS: the server holds all N connections (its socket count says so), nobody talks.
        deadline = time.monotonic() + timeout
        while count_sockets(server.pid) < base_sockets + n:
            if time.monotonic() > deadline:
                raise RunFailed(f"server accepted {count_sockets(server.pid) - base_sockets} of {n}")
            if server.poll() is not None:
                raise RunFailed(f"server exited ({server.returncode}) while clients connected")
            time.sleep(0.02)
        time.sleep(0.3)
        idle_rss = status_kib(server.pid, "VmRSS")
        cpu0 = cpu_ns(server.pid)
        assert client.stdin is not None
        client.stdin.write("GO\n")
        client.stdin.flush()
        line = read_line(client, timeout + 10, "client result")
        cpu1 = cpu_ns(server.pid)
        peak_rss = status_kib(server.pid, "VmHWM")
        try:
            rc = client.wait(10)
        except subprocess.TimeoutExpired:
            raise RunFailed("client did not exit after its result") from None
        try:
            res = json.loads(line)
        except ValueError:
            raise RunFailed(f"client said {line!r}") from None
        if rc != 0 or not res.get("ok"):
            raise RunFailed(f"client failed (exit {rc}): {res}")
        if res["round_trips"] != n * k or res["errors"] != 0:
            raise RunFailed(f"validation: {res}")
        if server.poll() is not None:
            raise RunFailed(f"server exited ({server.returncode}) during the run")
        rts = n * k
        return {
            "rt_per_s": rts / res["secs"],
            "secs": res["secs"],
            "server_cpu_us_per_rt": (cpu1 - cpu0) / 1000 / rts,
            "idle_rss_kib": idle_rss,
            "peak_rss_kib": peak_rss,
        }
    finally:
        stop(client)
        stop(server)


def fmt_rate(v: float) -> str:
    return f"{v / 1000:.1f}k" if v >= 1000 else f"{v:.0f}"


def table(results: list[dict[str, object]], impls: list[str], k: int) -> str:
    out = []
    groups = sorted({(r["placement"], r["clients"]) for r in results}, key=lambda g: (g[0] != "split", g[1]))
    for placement, n in groups:
        rows = [r for r in results if r["placement"] == placement and r["clients"] == n]
        med: dict[str, float] = {}
        for impl in impls:
            vals = [r["rt_per_s"] for r in rows if r["impl"] == impl and r["ok"]]
            if vals:
                med[impl] = statistics.median(vals)  # type: ignore[arg-type]
        out.append(f"\n### fan-in, placement `{placement}`, N = {n:,} clients x K = {k} round trips\n")
        out.append(
            "| server | round trips/s median (min–max) | vs tokio | vs uvloop "
            "| server CPU µs/rt | idle RSS MiB | peak RSS MiB | runs ok |"
        )
        out.append("|---|---|---|---|---|---|---|---|")
        for impl in impls:
            mine = [r for r in rows if r["impl"] == impl]
            if not mine:
                continue
            ok = [r for r in mine if r["ok"]]
            if not ok:
                skipped = mine[0].get("skipped")
                why = f"skipped: {skipped}" if skipped else "FAILED"
                out.append(f"| {impl} | {why} | | | | | | 0/{len(mine)} |")
                continue

            def m(key: str) -> float:
                return statistics.median([float(r[key]) for r in ok])  # type: ignore[arg-type]

            rates = [float(r["rt_per_s"]) for r in ok]  # type: ignore[arg-type]
            rate = (
                f"{fmt_rate(med[impl])} ({fmt_rate(min(rates))}–{fmt_rate(max(rates))})"
            )
            vs_t = f"{med[impl] / med['tokio']:.2f}×" if "tokio" in med else "–"
            vs_u = f"{med[impl] / med['uvloop']:.2f}×" if "uvloop" in med else "–"
            out.append(
                f"| {impl} | {rate} | {vs_t} | {vs_u} | {m('server_cpu_us_per_rt'):.1f} "
                f"| {m('idle_rss_kib') / 1024:.1f} | {m('peak_rss_kib') / 1024:.1f} | {len(ok)}/{len(mine)} |"
            )
    return "\n".join(out) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--smoke", action="store_true", help="N=10, K=10, 1 repetition (a test, not a measurement)")
    ap.add_argument("--clients", default="100,1000", help="comma-separated N values (default 100,1000)")
    ap.add_argument("--big", action="store_true", help="also N=10000")
    ap.add_argument("-k", "--k", type=int, default=100, help="round trips per client (default 100)")
    ap.add_argument("--reps", type=int, default=3, help="repetitions (default 3)")
    ap.add_argument("--placements", default="split,same", help="split and/or same (default both)")
    ap.add_argument("--impls", default=",".join(ALL_IMPLS), help="subset of " + ",".join(ALL_IMPLS))
    ap.add_argument("--timeout", type=float, default=120, help="bound on each phase of a run, seconds")
    ap.add_argument("--no-build", action="store_true", help="use the binaries already built")
    ap.add_argument("--out", type=Path, help="also write the JSON lines and the table to OUT.jsonl / OUT.md")
    args = ap.parse_args()

    if args.smoke:
        clients, k, reps, timeout = [10], 10, 1, 30.0
    else:
        clients = [int(c) for c in args.clients.split(",") if c]
        if args.big and 10000 not in clients:
            clients.append(10000)
        k, reps, timeout = args.k, args.reps, args.timeout
    placements = [p for p in args.placements.split(",") if p]
    impls = [i for i in args.impls.split(",") if i]
    for i in impls:
        if i not in ALL_IMPLS:
            ap.error(f"unknown implementation {i!r}")
    for p in placements:
        if p not in ("split", "same"):
            ap.error(f"unknown placement {p!r}")
    if "split" in placements and (os.cpu_count() or 1) < 2:
        ap.error("placement split needs 2 CPUs")

    hard = raise_nofile()
    if max(clients) + 64 > hard:
        ap.error(f"N={max(clients)} needs more open files than the hard limit {hard}")
    build(args.no_build)

    skipped = {i: why for i in impls if (why := available(i))}
    for i, why in skipped.items():
        log(f"--- {i}: not available, skipped ({why})")
    runnable = [i for i in impls if i not in skipped]

    results: list[dict[str, object]] = []
    failures = 0
    jsonl = open(f"{args.out}.jsonl", "w") if args.out else None  # noqa: SIM115

    def emit(rec: dict[str, object]) -> None:
        results.append(rec)
        line = json.dumps(rec)
        print(line, flush=True)
        if jsonl:
            jsonl.write(line + "\n")
            jsonl.flush()

    started = time.time()
    for placement in placements:
        for n in clients:
            for i in skipped:
                emit({"workload": "fanin", "impl": i, "placement": placement, "clients": n, "k": k,
                      "ok": False, "skipped": skipped[i]})
            for rep in range(reps):
                order = runnable[rep % len(runnable):] + runnable[: rep % len(runnable)] if runnable else []
                for impl in order:
                    rec: dict[str, object] = {"workload": "fanin", "impl": impl, "placement": placement,
                                              "clients": n, "k": k, "rep": rep}
                    try:
                        rec.update(run_one(impl, placement, n, k, timeout))
                        rec["ok"] = True
                    except (RunFailed, OSError) as e:
                        failures += 1
                        rec.update(ok=False, error=str(e))
                    emit(rec)

    md = (
        f"fan-in: {k} round trips per client, 64-byte payload + 4-byte length; {reps} repetition(s); "
        f"host {os.uname().nodename}, {os.cpu_count()} CPUs; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(started))}\n"
        + table(results, impls, k)
    )
    if skipped:
        md += "\n" + "\n".join(f"- {i} skipped: {why}" for i, why in skipped.items()) + "\n"
    print(md, flush=True)
    if args.out:
        Path(f"{args.out}.md").write_text(md)
        if jsonl:
            jsonl.close()
    if failures:
        log(f"--- {failures} run(s) FAILED validation")
        return 1
    if args.smoke and skipped:
        log("--- smoke: every implementation must run; skipped: " + ", ".join(skipped))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
