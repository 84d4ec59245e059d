#!/usr/bin/env python3
"""Fan-in benchmark: N clients x K ping-pongs of 64-byte framed messages against several servers.

Servers (one run compares them all, interleaved, order rotating per repetition):
  libsock-py   (a) Python on the libsock engine (libsock.Server, events()/send())
  asyncio      (b) asyncio Protocol with hand framing
  uvloop       (c) the same Protocol under uvloop (skipped, and said so, if uvloop is missing)
  tokio        (d) hand-written Rust tokio server (bench/rust, standalone crate)
  libsock-rs   (e) Rust libsock engine server (core/examples/fanin_engine.rs), tokio/epoll backend
  libsock-rs-uring (e') the same program on the engine's io_uring backend (LIBSOCK_BACKEND=uring;
               it exits with an error, failing the run, if the kernel refuses io_uring)
  c-epoll      (f) plain C epoll server (bench/c, `fanin_server epoll`)
  c-engine     (g) the libsock engine through the C ABI (bench/c, `fanin_server engine`)

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

Placement, repetition order, medians and min–max come from the shared benchmark harness
(bench/py/harness.py); bench/run.py runs fan-in as part of the full suite through run_fanin()
below.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RUST_DIR = HERE / "rust"
CLIENT_BIN = RUST_DIR / "target" / "release" / "fanin_client"
TOKIO_BIN = RUST_DIR / "target" / "release" / "fanin_tokio_server"
# The workspace's target folder (CARGO_TARGET_DIR when set, as cargo does); bench/rust is always
# built into its own bench/rust/target (--target-dir), so its programs are found there.
TARGET = Path(os.environ.get("CARGO_TARGET_DIR") or ROOT / "target")
if not TARGET.is_absolute():
    TARGET = ROOT / TARGET
ENGINE_BIN = TARGET / "release" / "examples" / "fanin_engine"
PY_SERVERS = HERE / "fanin_servers.py"
C_DIR = HERE / "c"
C_FANIN_BIN = C_DIR / "build" / "fanin_server"

ALL_IMPLS = ["libsock-py", "asyncio", "uvloop", "tokio", "libsock-rs", "libsock-rs-uring", "c-epoll",
             "c-engine"]
# The engine backend each server runs on (LIBSOCK_BACKEND); the others get "epoll" too, so a
# variable set in the caller's environment changes no row's meaning.
BACKEND = {"libsock-rs-uring": "uring"}
SERVER_LIFETIME = 900  # seconds: every server exits by itself even if the driver dies


sys.path.insert(0, str(HERE / "py"))
import harness as H  # noqa: E402  (bench/py/harness.py: standard library only)


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
    if (C_DIR / "build.sh").exists():
        log("--- building bench/c (fanin_server)")
        subprocess.run(["bash", str(C_DIR / "build.sh")], check=True)
    log("--- building bench/rust (fanin_client, fanin_tokio_server)")
    subprocess.run(
        ["cargo", "build", "--release", "--quiet", "--manifest-path", str(RUST_DIR / "Cargo.toml"),
         "--target-dir", str(RUST_DIR / "target")],
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
    binary = {"tokio": TOKIO_BIN, "libsock-rs": ENGINE_BIN, "libsock-rs-uring": ENGINE_BIN, "c-epoll": C_FANIN_BIN,
              "c-engine": C_FANIN_BIN}.get(impl)
    if binary is not None and not binary.exists():
        return f"{binary.relative_to(ROOT)} is not built"
    if impl == "libsock-rs-uring":
        # The kernel may refuse io_uring (container sandboxes often do): then the row is n/a,
        # not a failed run. The example exits 2 when it did not get io_uring, 0 at once with
        # a lifetime of 0 when it did.
        try:
            r = subprocess.run([str(ENGINE_BIN), "0"], capture_output=True, text=True, timeout=30,
                               env={**os.environ, "LIBSOCK_BACKEND": "uring"})
        except subprocess.TimeoutExpired:
            return "the io_uring probe did not end within 30 s"
        if r.returncode != 0:
            return "io_uring unavailable: " + ((r.stderr.strip().splitlines() or ["no reason"])[0])
        return None
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
    if impl in ("libsock-rs", "libsock-rs-uring"):
        return [str(ENGINE_BIN), life]
    if impl == "c-epoll":
        return [str(C_FANIN_BIN), "epoll"]
    if impl == "c-engine":
        return [str(C_FANIN_BIN), "engine"]
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


def user_sys_ticks(pid: int) -> tuple[int, int]:
    """User and system CPU ticks of all threads of pid (/proc/<pid>/task/*/stat); (0, 0) if gone."""
    u = k = 0
    try:
        for t in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{t}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue  # a thread that ended
            u += int(fields[11])
            k += int(fields[12])
    except OSError:
        pass
    return u, k


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
    s, c, _ = H.placement_cpus(placement)
    srv_cpu, cli_cpu = str(s), str(c)
    server = client = None
    try:
        server = subprocess.Popen(
            ["taskset", "-c", srv_cpu, *server_cmd(impl)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "LIBSOCK_BACKEND": BACKEND.get(impl, "epoll")},
        )
        line = read_line(server, 30, "server READY")
        if not line.startswith(("READY ", "PORT ")):  # Python and C servers: READY; Rust: PORT
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
        ticks0 = user_sys_ticks(server.pid)
        assert client.stdin is not None
        client.stdin.write("GO\n")
        client.stdin.flush()
        line = read_line(client, timeout + 10, "client result")
        cpu1 = cpu_ns(server.pid)
        ticks1 = user_sys_ticks(server.pid)
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
            # The kernel's share of the server's CPU in the ping-pong phase (clock ticks of
            # 10 ms: a rough figure for short runs; None when no tick was counted).
            "server_kernel_share": ((ticks1[1] - ticks0[1]) / d
                                    if (d := (ticks1[0] - ticks0[0]) + (ticks1[1] - ticks0[1])) > 0 else None),
            "idle_rss_kib": idle_rss,
            "peak_rss_kib": peak_rss,
        }
    finally:
        stop(client)
        stop(server)


def table(results: list[dict[str, Any]], impls: list[str], k: int | None = None) -> str:
    """One markdown table per (placement, N): medians (min–max) and ratios vs tokio and uvloop."""
    out = []
    recs = [r for r in results if r.get("workload") == "fanin"]
    groups = sorted({(r["placement"], r["clients"], r["k"]) for r in recs},
                    key=lambda g: (g[1], g[0] != "split"))
    fmt = H.fmt_num
    for placement, n, kk in groups:
        rows = [r for r in recs if r["placement"] == placement and r["clients"] == n and r["k"] == kk]
        sums = {i: H.summarize([r for r in rows if r["impl"] == i], "rt_per_s") for i in impls}
        med = {i: s.median for i, s in sums.items() if s.median is not None}
        out.append(f"\n### fan-in, placement `{placement}`, N = {n:,} clients x K = {kk} round trips\n")
        out.append(
            "| server | round trips/s median (min–max) | vs tokio | vs uvloop "
            "| server CPU µs/rt | kernel share | idle RSS MiB | peak RSS MiB | runs ok |"
        )
        out.append("|---|---|---|---|---|---|---|---|---|")
        notes = []
        for impl in impls:
            mine = [r for r in rows if r["impl"] == impl]
            if not mine:
                continue
            s = sums[impl]
            if s.median is None:
                why = f"n/a: {s.skip}" if s.n_na and not s.n_failed else "FAILED"
                if s.n_failed:
                    notes.append(f"- {impl}: " + "; ".join(sorted(set(s.errors)))[:500])
                out.append(f"| {impl} | {why} | | | | | | | 0/{len(mine)} |")
                continue

            def m(key: str, rs: list[dict[str, Any]] = mine) -> float:
                return H.summarize(rs, key).median or 0.0

            rate = f"{fmt(s.median)} ({fmt(s.lo)}–{fmt(s.hi)})"
            ks = H.summarize(mine, "server_kernel_share").median
            share = f"{ks:.0%}" if ks is not None else "–"
            vs_t = f"{s.median / med['tokio']:.2f}×" if "tokio" in med else "–"
            vs_u = f"{s.median / med['uvloop']:.2f}×" if "uvloop" in med else "–"
            if s.n_failed:
                notes.append(f"- {impl}: {s.n_failed} failed: " + "; ".join(sorted(set(s.errors)))[:500])
            out.append(
                f"| {impl} | {rate} | {vs_t} | {vs_u} | {m('server_cpu_us_per_rt'):.1f} "
                f"| {share} | {m('idle_rss_kib') / 1024:.1f} | {m('peak_rss_kib') / 1024:.1f} | {s.n_ok}/{len(mine)} |"
            )
        if notes:
            out.append("\nFailed runs:\n" + "\n".join(notes))
    return "\n".join(out) + "\n"


def run_fanin(clients: list[int], k: int | dict[int, int], reps: int, placements: list[str] | dict[int, list[str]],
              impls: list[str], timeout: float,
              emit: Callable[[dict[str, Any]], None]) -> list[dict[str, Any]]:
    """Run fan-in for every N, placement and repetition (order rotating); emit every record.

    ``k`` and ``placements`` may be given per N (a dict keyed by N). Unavailable servers get one
    n/a record per (placement, N). Returns the records; failed ones have status "failed".
    """
    skipped = {i: why for i in impls if (why := available(i))}
    for i, why in skipped.items():
        log(f"--- fan-in {i}: not available, n/a ({why})")
    runnable = [i for i in impls if i not in skipped]
    results: list[dict[str, Any]] = []

    def out(rec: dict[str, Any]) -> None:
        results.append(rec)
        emit(rec)

    for n in clients:
        kn = k[n] if isinstance(k, dict) else k
        pls = placements[n] if isinstance(placements, dict) else placements
        for placement in pls:
            base = {"workload": "fanin", "config": f"fanin clients={n} k={kn}",
                    "params": {"clients": n, "k": kn}, "placement": placement, "clients": n, "k": kn}
            for i in skipped:
                out({**base, "impl": i, "status": H.NA, "ok": False, "skip": skipped[i]})
            for rep in range(reps):
                for impl in H.rotation(runnable, rep):
                    rec: dict[str, Any] = {**base, "impl": impl, "rep": rep}
                    t0 = time.monotonic()
                    try:
                        rec.update(run_one(impl, placement, n, kn, timeout))
                        rec.update(status=H.OK, ok=True)
                    except (RunFailed, OSError, ValueError, KeyError) as e:
                        rec.update(status=H.FAILED, ok=False, error=str(e))
                    rec["wall_secs"] = round(time.monotonic() - t0, 3)
                    out(rec)
    return results


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
    for p in placements:
        note = H.placement_cpus(p)[2]
        if note:
            log(f"--- {note}")

    hard = raise_nofile()
    if max(clients) + 64 > hard:
        ap.error(f"N={max(clients)} needs more open files than the hard limit {hard}")
    build(args.no_build)

    jsonl = open(f"{args.out}.jsonl", "w") if args.out else None  # noqa: SIM115

    def emit(rec: dict[str, Any]) -> None:
        line = json.dumps(rec)
        print(line, flush=True)
        if jsonl:
            jsonl.write(line + "\n")
            jsonl.flush()

    started = time.time()
    results = run_fanin(clients, k, reps, placements, impls, timeout, emit)
    failures = sum(1 for r in results if r["status"] == H.FAILED)
    skipped = {r["impl"]: r["skip"] for r in results if r["status"] == H.NA}
    md = (
        f"fan-in: {k} round trips per client, 64-byte payload + 4-byte length; {reps} repetition(s); "
        f"host {os.uname().nodename}, {os.cpu_count()} CPUs; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(started))}\n"
        + table(results, impls)
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
