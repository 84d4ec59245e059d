"""Tests of the benchmark harness (bench/py/harness.py) and ``libsock bench`` (bench/py/quick.py).

Real worker processes (``python bench/py/worker.py``) at tiny sizes over loopback, plus small
stub workers written to a temporary directory for the failure paths (a wrong result, a crash, a
hang). Nothing here asserts on timing: only on statuses, counts, orders and the arithmetic of the
tables and goals.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any, Dict, List

import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCH_PY = ROOT / "bench" / "py"
sys.path.insert(0, str(BENCH_PY))

import harness as H  # noqa: E402  (bench/py/harness.py)

PY = sys.executable
T = 120  # seconds any one command may take

# A stub worker speaking the protocol for pingpong (stdlib sockets). Its first argument is a
# mode: good, badcount (claims a count it was not asked for), fail (ok false, exit 1), skip
# (exit 3), crash (server exits 7 after READY), hang (client never finishes), order (appends its
# name to the file in $STUB_ORDER, then behaves like good).
STUB = textwrap.dedent(
    '''
    import json, os, socket, sys, time
    mode, name, role, workload = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
    a = sys.argv[5:]
    p = {a[i][2:]: int(a[i + 1]) for i in range(0, len(a), 2)}
    if mode == "skip" or workload != "pingpong":
        print(json.dumps({"ok": False, "skip": "stub: pingpong only"}), flush=True)
        sys.exit(3)
    size, count = p["size"], p["count"]
    def rx(s, n):
        b = b""
        while len(b) < n:
            d = s.recv(n - len(b))
            if not d:
                raise EOFError
            b += d
        return b
    if role == "server":
        l = socket.socket()
        l.bind(("127.0.0.1", 0))
        l.listen(1)
        print("READY", l.getsockname()[1], flush=True)
        if mode == "crash":
            sys.exit(7)
        c, _ = l.accept()
        c.settimeout(30)
        try:
            while True:
                c.sendall(rx(c, size))
        except EOFError:
            pass
        print(json.dumps({"ok": True}), flush=True)
    else:
        if mode == "order":
            with open(os.environ["STUB_ORDER"], "a") as f:
                f.write(name + "\\n")
        s = socket.create_connection(("127.0.0.1", p["port"]))
        s.settimeout(30)
        if mode == "hang":
            time.sleep(300)
        t = time.perf_counter()
        for i in range(count):
            m = i.to_bytes(8, "little") + b"\\x5a" * (size - 8)
            s.sendall(m)
            assert rx(s, size) == m
        secs = time.perf_counter() - t
        if mode == "fail":
            print(json.dumps({"ok": False, "error": "sequence 3 came back as 4"}), flush=True)
            sys.exit(1)
        n = count + 1 if mode == "badcount" else count
        print(json.dumps({"ok": True, "rt_per_s": n / secs, "count": n, "secs": secs}), flush=True)
    '''
)

# A udp-flood sender that sends twice the datagrams the receiver is told to expect: the real
# receiver must reject sequence numbers >= count (a failed validation on the server side).
DOUBLE_SENDER = textwrap.dedent(
    '''
    import os, sys
    a = sys.argv[1:]
    i = a.index("--count")
    a[i + 1] = str(2 * int(a[i + 1]))
    os.execv(sys.executable, [sys.executable, WORKER_PY, "py-stdlib"] + a)
    '''
)

PINGPONG = H.Config("pingpong", {"size": 64, "count": 50, "nodelay": 1})


@pytest.fixture
def stub(tmp_path: Path):
    path = tmp_path / "stub.py"
    path.write_text(STUB)

    def make(mode: str, name: str = "") -> H.Impl:
        return H.Impl(name or mode, [PY, str(path), mode, name or mode])

    return make


def real(name: str) -> H.Impl:
    impl = H.python_impl(name)
    assert impl.missing is None, impl.missing
    return impl


# --------------------------------------------------------------------------------------------
# one run with real workers


@pytest.mark.parametrize("name", ["py-stdlib", "py-libsock"])
@pytest.mark.parametrize("placement", ["split", "same"])
def test_real_pingpong_passes_and_reports_the_count(name: str, placement: str) -> None:
    rec = H.run_one(PINGPONG, real(name), placement, rep=0, timeout=T)
    assert rec["status"] == "ok", rec
    assert rec["ok"] is True
    assert rec["client"]["count"] == 50
    assert rec["rt_per_s"] > 0
    s, c, _ = H.placement_cpus(placement)
    assert rec["cpus"] == "%d/%d" % (s, c)
    if placement == "same":
        assert s == c


def test_real_udp_flood_reports_received_and_loss() -> None:
    cfg = H.Config("udp-flood", {"size": 64, "count": 500})
    rec = H.run_one(cfg, real("py-stdlib"), "split", timeout=T, sender=real("py-libsock"))
    assert rec["status"] == "ok", rec
    assert rec["sender"] == "py-libsock"
    assert rec["sent"] == 500
    assert 0 < rec["received"] <= 500
    assert rec["loss"] == pytest.approx(1 - rec["received"] / 500)


def test_real_udp_drain_gets_go_after_the_sender_and_drains_everything() -> None:
    cfg = H.Config("udp-drain", {"size": 64, "count": 300})
    for name in ("py-libsock", "py-stdlib"):
        rec = H.run_one(cfg, real(name), "same", timeout=T, sender=real("py-libsock"))
        assert rec["status"] == "ok", rec
        assert rec["sent"] == 300
        assert rec["received"] == 300  # the queue holds all of them: nothing to lose
        assert rec["loss"] == 0.0
        assert rec["rx_per_s"] > 0


def test_real_receiver_rejecting_the_datagrams_is_a_failed_run(tmp_path: Path) -> None:
    path = tmp_path / "double_sender.py"
    path.write_text("WORKER_PY = %r\n" % H.WORKER_PY + DOUBLE_SENDER)
    sender = H.Impl("double", [PY, str(path)])
    cfg = H.Config("udp-flood", {"size": 64, "count": 200})
    rec = H.run_one(cfg, real("py-stdlib"), "same", timeout=T, sender=sender)
    assert rec["status"] == "failed", rec
    assert rec["ok"] is False
    assert "server" in rec["error"]
    assert "rx_per_s" not in rec


def test_real_worker_without_the_workload_is_na() -> None:
    pytest.importorskip("zmq")
    rec = H.run_one(H.Config("udp-echo", {"size": 64, "count": 10}), real("py-zmq"), "same", timeout=T)
    assert rec["status"] == "n/a", rec
    assert rec["skip"]


# --------------------------------------------------------------------------------------------
# one run: failure paths (stub workers)


def test_failed_validation_is_a_failed_run_with_the_error(stub) -> None:
    rec = H.run_one(PINGPONG, stub("fail"), "same", timeout=T)
    assert rec["status"] == "failed"
    assert "sequence 3 came back as 4" in rec["error"]
    assert "rt_per_s" not in rec


def test_a_count_other_than_asked_is_a_failed_run(stub) -> None:
    rec = H.run_one(PINGPONG, stub("badcount"), "same", timeout=T)
    assert rec["status"] == "failed"
    assert "count" in rec["error"]


def test_exit_3_is_na_not_failed(stub) -> None:
    rec = H.run_one(PINGPONG, stub("skip"), "split", timeout=T)
    assert rec["status"] == "n/a"
    assert rec["skip"] == "stub: pingpong only"


def test_server_crash_is_a_failed_run(stub) -> None:
    rec = H.run_one(PINGPONG, stub("crash"), "same", timeout=T)
    assert rec["status"] == "failed"
    assert "exit" in rec["error"]


def test_hang_is_killed_at_the_timeout_and_failed(stub) -> None:
    rec = H.run_one(PINGPONG, stub("hang"), "same", timeout=2)
    assert rec["status"] == "failed"
    assert "timed out after 2 s" in rec["error"]
    assert rec["wall_secs"] < 60  # killed, not waited for (the stub would sleep 300 s)


def test_missing_program_is_na_without_running(stub) -> None:
    rec = H.run_one(PINGPONG, H.Impl("gone", ["/nonexistent/lsbench", "x"], "not built"), "same")
    assert rec["status"] == "n/a"
    assert rec["skip"] == "not built"


# --------------------------------------------------------------------------------------------
# many runs


def test_rotation_order() -> None:
    assert [H.rotation("ABC", r) for r in range(4)] == [
        ["A", "B", "C"], ["B", "C", "A"], ["C", "A", "B"], ["A", "B", "C"]]
    assert H.rotation([], 2) == []


def test_suite_interleaves_with_rotating_order(stub, tmp_path: Path, monkeypatch) -> None:
    order_file = tmp_path / "order"
    monkeypatch.setenv("STUB_ORDER", str(order_file))
    impls = [stub("order", n) for n in ("A", "B", "C")]
    seen: List[Dict[str, Any]] = []
    recs = H.run_suite([H.Config("pingpong", {"size": 64, "count": 5, "nodelay": 1})], impls,
                       ["same"], 3, T, emit=seen.append)
    assert recs == seen
    assert [r["status"] for r in recs] == ["ok"] * 9
    assert [r["impl"] for r in recs] == list("ABCBCACAB")
    assert [r["rep"] for r in recs] == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    assert order_file.read_text().split() == list("ABCBCACAB")  # the clients really ran so


def test_na_implementation_is_not_started_again(stub) -> None:
    recs = H.run_suite([PINGPONG], [stub("skip")], ["split", "same"], 2, T)
    assert [r["status"] for r in recs] == ["n/a"] * 4
    assert "wall_secs" in recs[0]  # the first one ran
    assert all("wall_secs" not in r for r in recs[1:])  # the rest did not


def rec(impl: str, value: float, status: str = "ok", workload: str = "pingpong",
        placement: str = "same", **params: int) -> Dict[str, Any]:
    key = H.METRICS[workload][0]
    params = params or {"size": 64, "count": 10, "nodelay": 1}
    cfg = H.Config(workload, params)
    r: Dict[str, Any] = {"workload": workload, "config": cfg.label, "params": params, "impl": impl,
                         "placement": placement, "status": status, "ok": status == "ok"}
    if status == "ok":
        r[key] = value
    elif status == "failed":
        r["error"] = "boom"
    else:
        r["skip"] = "not here"
    return r


def test_summary_median_min_max_counts_failed_and_na() -> None:
    rs = [rec("x", 10), rec("x", 30), rec("x", 20), rec("x", 0, "failed"), rec("x", 0, "n/a")]
    s = H.summarize(rs, "rt_per_s")
    assert (s.median, s.lo, s.hi) == (20, 10, 30)
    assert (s.n_ok, s.n_failed, s.n_na) == (3, 1, 1)
    assert s.errors == ["boom"]
    assert H.summarize([rec("x", 1), rec("x", 4)], "rt_per_s").median == 2.5
    assert H.summarize([rec("x", 0, "failed")], "rt_per_s").median is None


def test_markdown_table_has_medians_ratios_and_failures() -> None:
    rs = [rec("py-libsock", v) for v in (30e3, 32e3, 31e3)]
    rs += [rec("py-stdlib", v) for v in (10e3, 9e3, 11e3)]
    rs += [rec("py-asyncio", 0, "failed"), rec("py-zmq", 0, "n/a")]
    md = H.markdown_tables(rs)
    line = next(ln for ln in md.splitlines() if ln.startswith("| py-libsock"))
    assert "31.0k (30.0k–32.0k)" in line
    assert "3.10×" in line  # 31k / 10k
    assert "3/3" in line
    assert "| py-asyncio | FAILED |" in md
    assert "| py-zmq | n/a: not here |" in md
    assert "vs c-raw" not in md  # a baseline not in the run gets no column
    assert "py-asyncio: boom" in md


def test_goals_met_missed_and_not_measured() -> None:
    rs = [rec("py-libsock", 25e3), rec("py-stdlib", 20e3), rec("c-raw", 40e3),
          rec("c-libsock", 39e3)]
    fl: Dict[str, Any] = dict(workload="framed", placement="split", size=100, count=10, batch=64)
    rs += [rec("py-libsock", 300e3, **fl), rec("py-stdlib", 100e3, **fl), rec("rs-tokio", 500e3, **fl)]
    fan = {"workload": "fanin", "config": "fanin clients=10000 k=10", "params": {"clients": 10000, "k": 10},
           "placement": "same", "status": "ok", "ok": True}
    rs += [dict(fan, impl="libsock-py", rt_per_s=1.0, idle_rss_kib=50 * 1024),
           dict(fan, impl="libsock-rs", rt_per_s=1.0, idle_rss_kib=60 * 1024),
           dict(fan, impl="tokio", rt_per_s=1.0, idle_rss_kib=80 * 1024)]
    rows = H.evaluate_goals(rs)
    by = {r["goal"]: r for r in rows}
    assert by["Python ping-pong, same CPU: faster than stdlib"]["verdict"] == "met"  # 1.25
    assert by["Python ping-pong, same CPU: within 1.4× raw C"]["verdict"] == "missed"  # 0.625
    assert by["C ABI ping-pong, same CPU: within 1.05× raw C"]["verdict"] == "met"  # 0.975
    assert by["Python framed echo: ≥ 2× stdlib"]["verdict"] == "met"
    assert by["Python framed echo: ≥ 2× stdlib"]["value"] == pytest.approx(3.0)
    assert by["Python framed echo: ≥ 0.8× tokio"]["verdict"] == "missed"  # 0.6
    assert by["C ABI framed echo: ≥ tokio"]["verdict"] == "not measured"
    assert by["Python bulk: ≥ 0.95× raw C"]["verdict"] == "not measured"
    assert by["Memory, 10k idle clients: Rust engine ≤ tokio"]["verdict"] == "met"
    assert by["Memory, 10k idle clients: Python process ≤ 40 MiB"]["verdict"] == "missed"
    assert "50.0 MiB" in by["Memory, 10k idle clients: Python process ≤ 40 MiB"]["measured"]
    # split pingpong is not a goal (same CPU only): no row for it
    rs.append(rec("py-libsock", 1, placement="split"))
    assert all(r["placement"] != "split" for r in H.evaluate_goals(rs) if "ping-pong" in r["goal"])
    md = H.goals_markdown(rows)
    assert "## GOALS" in md and "**missed**" in md


def test_issue_14_goals_have_their_own_table() -> None:
    fl: Dict[str, Any] = dict(workload="framed", placement="same", size=100, count=10, batch=64)
    rs = [rec("py-engine", 180e3, **fl), rec("py-libsock", 300e3, **fl), rec("py-stdlib", 100e3, **fl),
          rec("rs-libsock", 450e3, **fl), rec("rs-tokio", 500e3, **fl),
          rec("c-engine", 380e3, **fl), rec("c-libsock", 400e3, **fl)]
    fan = {"workload": "fanin", "config": "fanin clients=1000 k=10", "params": {"clients": 1000, "k": 10},
           "placement": "split", "status": "ok", "ok": True}
    rs += [dict(fan, impl="libsock-rs-uring", rt_per_s=14.0, server_cpu_us_per_rt=7.0),
           dict(fan, impl="tokio", rt_per_s=10.0, server_cpu_us_per_rt=10.0)]
    rows = H.evaluate_goals(rs)
    by = {(r["goal"], r["placement"]): r for r in rows if r["issue"] == 14}
    assert by[("Engine framed echo from Python: ≥ 2× stdlib", "same")]["verdict"] == "missed"  # 1.8
    assert by[("Engine framed echo from Python: ≥ 0.9× blocking Connection", "same")]["verdict"] == "missed"
    assert by[("Framed echo, Rust API: ≥ 1.0× tokio", "same")]["value"] == pytest.approx(0.9)
    c_engine = by[("Engine framed echo from C: ≥ 0.9× blocking C ABI", "same")]
    assert c_engine["verdict"] == "met" and c_engine["value"] == pytest.approx(0.95)
    up = by[("Fan-in 1k clients, engine (io_uring backend): ≥ 1.3× tokio", "split")]
    assert up["verdict"] == "met"  # 1.4
    cpu = by[("Fan-in 1k clients, engine (io_uring backend): server CPU/rt ≤ 0.8× tokio", "split")]
    assert cpu["verdict"] == "met" and cpu["value"] == pytest.approx(0.7)
    md = H.goals_markdown(rows)
    assert md.index("## GOALS (issue 6)") < md.index("## GOALS (issue 14)")
    assert md.count(" met, ") == 2  # one count line per table


def test_goal_loss_compares_values() -> None:
    cfg: Dict[str, Any] = dict(workload="udp-flood", placement="same", size=64, count=100)
    a, b = rec("py-libsock", 5.0, **cfg), rec("py-stdlib", 4.0, **cfg)
    a["loss"], b["loss"] = 0.01, 0.2
    row = next(r for r in H.evaluate_goals([a, b]) if "loss" in r["goal"])
    assert row["verdict"] == "met"
    a["loss"] = 0.3
    row = next(r for r in H.evaluate_goals([a, b]) if "loss" in r["goal"])
    assert row["verdict"] == "missed"


# --------------------------------------------------------------------------------------------
# libsock bench


def cli(*args: str, cwd: Path = ROOT, **kw: Any) -> subprocess.CompletedProcess:
    """``libsock ARGS`` (the installed package's CLI), by default in this checkout."""
    code = "import sys; from libsock.cli import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.run([PY, "-c", code, *args], capture_output=True, text=True, timeout=T,
                          cwd=cwd, **kw)


def test_cli_bench_smoke_prints_tables_and_writes_json(tmp_path: Path) -> None:
    out = tmp_path / "runs.jsonl"
    r = cli("bench", "--smoke", "--workloads", "pingpong,udp-flood,udp-drain", "--json", str(out))
    assert r.returncode == 0, r.stderr
    assert "### pingpong size=64 count=100 nodelay=1 — placement `same`" in r.stdout
    assert "| py-libsock |" in r.stdout and "vs py-stdlib" in r.stdout
    assert "loss median" in r.stdout
    assert "GOALS" not in r.stdout and "| goal |" not in r.stdout  # a smoke run judges nothing
    recs = [json.loads(line) for line in out.read_text().splitlines()]
    assert {x["workload"] for x in recs} == {"pingpong", "udp-flood", "udp-drain"}
    assert "datagrams drained/s" in r.stdout
    assert {x["impl"] for x in recs} >= {"py-libsock", "py-engine", "py-stdlib", "py-asyncio"}
    assert not [x for x in recs if x["status"] == "failed"]
    assert all(x["placement"] == "same" for x in recs)


def test_quick_bench_prints_measurable_goals_only_without_smoke() -> None:
    recs = [rec("py-libsock", 2.0), rec("py-stdlib", 1.0)]
    real_suite = H.run_suite
    try:
        H.run_suite = lambda *a, **k: recs  # type: ignore[assignment]
        for smoke, goals in ((False, True), (True, False)):
            out = io.StringIO()
            assert H.quick_bench(["pingpong"], smoke=smoke, out=out) == 0
            assert ("## GOALS" in out.getvalue()) is goals, out.getvalue()
    finally:
        H.run_suite = real_suite  # type: ignore[assignment]


def test_cli_bench_from_a_subfolder_of_the_checkout_and_its_help() -> None:
    r = cli("bench", "--help", cwd=ROOT / "python-tests")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("usage: libsock bench")
    assert "--smoke" in r.stdout and "bench/run.py" in r.stdout


def test_cli_bench_outside_a_checkout_says_where_the_suite_is(tmp_path: Path) -> None:
    import libsock

    if Path(libsock.__file__).resolve().is_relative_to(ROOT):
        pytest.skip("libsock runs from this checkout (an in-place install): it finds the suite")
    r = cli("bench", "--smoke", cwd=tmp_path)
    assert r.returncode == 2
    assert r.stdout == ""
    assert "not part of the installed package" in r.stderr
    assert "python3 bench/run.py" in r.stderr and "Traceback" not in r.stderr


def test_cli_lists_bench() -> None:
    r = cli("--help", cwd=Path("/"))
    assert r.returncode == 0 and "bench" in r.stdout


def test_cli_bench_plot_writes_a_png(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    png = tmp_path / "ratios.png"
    r = cli("bench", "--smoke", "--workloads", "pingpong", "--placement", "both", "--plot", str(png))
    assert r.returncode == 0, r.stderr
    assert "placement `split`" in r.stdout and "placement `same`" in r.stdout
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_bench_plot_without_matplotlib_is_one_clear_line(tmp_path: Path) -> None:
    png = tmp_path / "never.png"
    fake = tmp_path / "no-matplotlib" / "matplotlib"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError('matplotlib is not installed')\n")
    env = {**os.environ, "PYTHONPATH": str(fake.parent)}
    r = cli("bench", "--smoke", "--plot", str(png), env=env)
    assert r.returncode == 2
    assert "pip install matplotlib" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert "Traceback" not in r.stderr
    assert r.stdout == ""  # failed before running anything
    assert not png.exists()


def test_cli_bench_unknown_workload_is_usage_error() -> None:
    r = cli("bench", "--workloads", "pingpong,nope")
    assert r.returncode == 2
    assert "nope" in r.stderr


def test_worker_dying_before_ready_is_a_failed_run() -> None:
    rs = H.run_suite([PINGPONG], [H.Impl("broken", [PY, "-c", "import sys; sys.exit(9)"])],
                     ["same"], 1, T)
    assert rs[0]["status"] == "failed"
    assert "exited 9 before READY" in rs[0]["error"]


def test_goal_on_a_cost_inverts_the_ratio_and_the_table_shows_it() -> None:
    cfg: Dict[str, Any] = dict(workload="udp-flood", placement="split", size=64, count=100)
    a, b = rec("py-libsock", 5.0, **cfg), rec("c-raw", 5.0, **cfg)
    a.update(loss=0.0, cpu_ns_per_dgram=200.0)
    b.update(loss=0.0, cpu_ns_per_dgram=400.0)
    goal = H.Check("UDP receive CPU", "udp-flood", "cpu_ns_per_dgram", "py-libsock", "c-raw",
                   "ratio", 1.5, lower_better=True)
    row = H.evaluate_goals([a, b], [goal])[0]
    assert row["value"] == pytest.approx(2.0)  # c-raw spends 2x the CPU: libsock is 2x better
    assert row["verdict"] == "met"
    assert "| 200 |" in H.markdown_tables([a, b])
    del a["cpu_ns_per_dgram"]
    row = H.evaluate_goals([a, b], [goal])[0]
    assert row["verdict"] == "not measured"
    assert "py-libsock: no cpu_ns_per_dgram reported" in row["measured"]


def test_one_cpu_split_says_so_and_uses_it() -> None:
    code = ("import sys; sys.path.insert(0, %r); import harness as H; "
            "s, c, note = H.placement_cpus('split'); print(s, c); print(note)" % str(BENCH_PY))
    r = subprocess.run(["taskset", "-c", "0", PY, "-c", code], capture_output=True, text=True, timeout=T)
    assert r.returncode == 0, r.stderr
    cpus, note = r.stdout.splitlines()
    assert cpus == "0 0"
    assert "only CPU 0" in note
    assert H.placement_cpus("same")[0] == H.placement_cpus("same")[1]
    with pytest.raises(H.BenchError):
        H.placement_cpus("diagonal")


def test_server_that_says_something_else_and_keeps_running_is_failed_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "chatty.py"
    path.write_text("import time\nprint('HELLO', flush=True)\ntime.sleep(300)\n")
    rec = H.run_one(PINGPONG, H.Impl("chatty", [PY, str(path)]), "same", timeout=3)
    assert rec["status"] == "failed"
    assert rec["wall_secs"] < 60


def test_client_cost_prints_the_python_clients_ceiling_and_compares_it(tmp_path: Path) -> None:
    """bench/py/client_cost.py: the framed client's own work per message, and the comparison
    with the stdlib's rate of a run file (the proof that a goal is out of reach in split)."""
    runs = tmp_path / "run.jsonl"
    runs.write_text("".join(json.dumps(r) + "\n" for r in (
        {"workload": "framed", "impl": "py-stdlib", "placement": "split", "ok": True,
         "msgs_per_s": 1.0e6},
        {"workload": "framed", "impl": "py-stdlib", "placement": "split", "ok": True,
         "msgs_per_s": 3.0e6},
        {"workload": "framed", "impl": "py-stdlib", "placement": "same", "ok": False},
        {"workload": "framed", "impl": "py-engine", "placement": "split", "ok": True,
         "msgs_per_s": 9.0e6},
    )))
    cpu = min(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 0
    r = subprocess.run([PY, str(BENCH_PY / "client_cost.py"), "--count", "5000", "--reps", "2",
                        "--cpu", str(cpu), "--jsonl", str(runs)],
                       capture_output=True, text=True, timeout=T)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith("framed client's own Python work, 5000 x 100 B, median of 2:")
    assert "ns per message" in lines[0] and "at most" in lines[0]
    # Only the successful py-stdlib runs count: split's median is 2.00M (the failed `same` run
    # and py-engine's are left out).
    assert len(lines) == 2, r.stdout
    assert lines[1].startswith("  split: py-stdlib 2.00M msg/s; 2x that is 4.00M;"), r.stdout
