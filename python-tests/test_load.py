"""Load tests (issue 11): 10,000 concurrent clients held and echoed by the engine server, and
connect/close churn, with the server process's descriptors and memory read from /proc before
and after.

The server (peers/engine_server.py) and the clients (peers/load_clients.py, plain sockets
driven by ``selectors``) run in two child processes, so each needs ~10,000 descriptors, not
20,000. No assertion measures speed; every wait is bounded; children are killed in finally
blocks. Figures are printed (run with -s). CI size by default; LIBSOCK_LOAD_FULL=1 runs the
full sizes (docs/RELIABILITY.md).
"""

from __future__ import annotations

import resource
import time
from typing import Any

import pytest

from _helpers import WAIT
from _reliability import Child, children, fd_count, rss_kib, size


def start_server(kids: list[Child]) -> tuple[Child, int, int]:
    srv = Child.script("engine_server.py", "echo", "--backlog", "4096", stdin=True)
    kids.append(srv)
    ready = srv.expect("ready", WAIT * 3)
    return srv, ready["ready"], ready["pid"]


def wait_connections(srv: Child, n: int, timeout: float = WAIT * 6) -> dict[str, Any]:
    """Poll the server's stats until it has ``n`` connections (bounded)."""
    deadline = time.monotonic() + timeout
    while True:
        st = srv.ask("stats", WAIT)
        if st["stats"]["connections"] == n and st["stats"]["events_queued"] == 0:
            return st
        assert time.monotonic() < deadline, f"the server still has {st['stats']}"
        time.sleep(0.05)


def need_nofile(n: int) -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < n:
        pytest.skip(f"RLIMIT_NOFILE hard limit {hard} < {n}: each child needs that many descriptors")


@pytest.mark.timeout(240)
def test_10000_concurrent_clients_held_and_echoed_byte_exact() -> None:
    n = 10_000
    cycles = size(1, 5)  # full size: hold and release 10,000 five times (a leak adds up)
    need_nofile(n + 200)
    figures: list[str] = []
    with children() as kids:
        srv, port, pid = start_server(kids)
        fds0, rss0 = fd_count(pid), rss_kib(pid)
        first_held = 0
        for cycle in range(cycles):
            clients = Child.script("load_clients.py", "hold", "127.0.0.1", str(port), str(n),
                                   "--timeout", "150", stdin=True)
            kids.append(clients)
            res = clients.expect("hold", 180)["hold"]
            assert res["ok"] == n and res["bad"] == 0, f"of {n} clients: {res}"
            st = wait_connections(srv, n)
            fds_held, rss_held = fd_count(pid), rss_kib(pid)
            assert fds_held >= fds0 + n, (fds0, fds_held)
            clients.send("close")
            assert clients.expect("close", 60)["close"] == n
            clients.stop()
            after = wait_connections(srv, 0)
            fds_after, rss_after = fd_count(pid), rss_kib(pid)
            figures.append(
                f"cycle {cycle + 1}: {res['held']} connections held, every echo byte-exact "
                f"({res['seconds']} s to connect and echo all); server fds {fds0} -> {fds_held} "
                f"-> {fds_after}; RSS {rss0} -> {rss_held} -> {rss_after} KiB "
                f"({(rss_held - rss0) * 1024 // n} bytes per held connection)")
            assert after["stats"]["connections_total"] == n * (cycle + 1)
            assert st["stats"]["messages_in"] == n * (cycle + 1)
            assert fds_after == fds0, "descriptors left open after every client closed"
            # The engine's own figure is ~1 KiB per idle connection: 8 KiB is a generous bound
            # that a per-connection buffer (64 KiB) or a leak would break.
            assert rss_held - rss0 < n * 8, f"{(rss_held - rss0) * 1024 // n} bytes per connection"
            # Whatever the allocator keeps, holding 10,000 again must not need more each time.
            first_held = first_held or rss_held
            assert rss_held - first_held < 8 * 1024, f"cycle {cycle + 1}: {rss_held} KiB, first {first_held}"
    print("\n" + "\n".join(figures))


@pytest.mark.timeout(240)
def test_connect_close_churn_leaves_no_descriptor_or_memory_behind() -> None:
    warm, n = 2_000, size(20_000, 200_000)
    need_nofile(1000)
    with children() as kids:
        srv, port, pid = start_server(kids)
        # A warm-up, so that the allocator and the engine's pools reach their steady size.
        with Child.script("load_clients.py", "churn", "127.0.0.1", str(port), str(warm)) as c:
            res = c.expect("churn", 120)["churn"]
            assert res["ok"] == warm, res
        wait_connections(srv, 0)
        fds0, rss0 = fd_count(pid), rss_kib(pid)
        with Child.script("load_clients.py", "churn", "127.0.0.1", str(port), str(n),
                          "--timeout", "200") as c:
            res = c.expect("churn", 220)["churn"]
        st = wait_connections(srv, 0)
        fds1, rss1 = fd_count(pid), rss_kib(pid)
    print(f"\nchurn: {res['ok']} connect/echo/close of {n} ({res['seconds']} s), {res['failed']} "
          f"failed {res['errors']}; server fds {fds0} before, {fds1} after; RSS {rss0} -> {rss1} "
          f"KiB ({rss1 - rss0:+d} KiB); connections_total {st['stats']['connections_total']}")
    assert res["ok"] == n and res["bad"] == 0 and res["failed"] == 0, res
    assert st["stats"]["connections_total"] == warm + n
    assert st["kinds"].get("disconnected", 0) == warm + n  # every one seen to go
    assert fds1 == fds0, "descriptors leaked by connect/close churn"
    # 4 MiB of slack for the allocator, plus 128 bytes per connection: a leak of a connection's
    # state (hundreds of bytes at least) would pass it.
    assert rss1 - rss0 < 4096 + n // 8, f"RSS grew by {rss1 - rss0} KiB"
