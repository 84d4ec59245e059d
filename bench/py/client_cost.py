#!/usr/bin/env python3
"""What the Python framed client costs on its own, with no socket and no library.

    python3 bench/py/client_cost.py [--count N] [--size 100] [--batch 64] [--reps 7] [--cpu 1]
                                    [--jsonl RUN.jsonl]

Every Python implementation's framed client (bench/py/worker.py) does the same work per
message besides its library's: the writer builds each message (``Q.pack(i) + fill``, in a list
per batch of ``--batch``) and the reader checks each echo (its length and its sequence number,
``Q.unpack_from``), in lists of ``READ_MAX``, both under one GIL. This program runs exactly that
work on one CPU (``--cpu``), in memory, and prints the CPU time per message and the rate it
allows: the ceiling of any Python client of this workload, whatever the library underneath.

With ``--jsonl`` (a ``bench/run.py`` result file) it also prints, per placement, the stdlib's
median rate and how the ceiling compares with the issue-14 goal of 2× that rate. In ``split``
the client has a CPU of its own and is the side that limits the run, so a ceiling below 2× the
stdlib's rate means no library can meet the goal with this client.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from typing import Dict, List

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from worker import Q, READ_MAX  # noqa: E402  (bench/py/worker.py: the same struct and batch)


def writer_work(n: int, size: int, batch: int) -> int:
    """The writer's part: every batch of messages built as the workers build them (and, as
    there, let go once handed over)."""
    pack = Q.pack
    fill = b"\x33" * (size - 8)
    built = 0
    for s in range(0, n, batch):
        msgs = [pack(i) + fill for i in range(s, min(s + batch, n))]
        built += len(msgs)
    return built


def reader_work(lists: List[List[bytes]], size: int) -> int:
    """The reader's part: each echo's length and sequence number checked, in order."""
    unpack = Q.unpack_from
    exp = 0
    for got in lists:
        for m in got:
            if len(m) != size or unpack(m)[0] != exp:
                raise SystemExit(f"message {exp} is wrong")
            exp += 1
    return exp


def echoes(n: int, size: int) -> List[List[bytes]]:
    """What the reader is handed: the n messages, in lists of ``READ_MAX``."""
    fill = b"\x33" * (size - 8)
    flat = [Q.pack(i) + fill for i in range(n)]
    return [flat[i:i + READ_MAX] for i in range(0, n, READ_MAX)]


def measure(n: int, size: int, batch: int, lists: List[List[bytes]]) -> Dict[str, float]:
    """CPU nanoseconds per message of each part, one run."""
    t0 = time.process_time()
    if writer_work(n, size, batch) != n:
        raise SystemExit("not every message was built")
    t1 = time.process_time()
    if reader_work(lists, size) != n:
        raise SystemExit("not every message was checked")
    t2 = time.process_time()
    return {"writer": (t1 - t0) * 1e9 / n, "reader": (t2 - t1) * 1e9 / n}


def stdlib_rates(path: str) -> Dict[str, float]:
    """The median framed rate of py-stdlib per placement in a run.py result file."""
    rates: Dict[str, List[float]] = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            if r.get("workload") == "framed" and r.get("impl") == "py-stdlib" and r.get("ok"):
                rates.setdefault(r.get("placement", "?"), []).append(r["msgs_per_s"])
    return {p: statistics.median(v) for p, v in rates.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, default=300000)
    ap.add_argument("--size", type=int, default=100)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--cpu", type=int, default=1, help="the CPU to run on (the client's in split)")
    ap.add_argument("--jsonl", help="a bench/run.py result file: compare with its py-stdlib rate")
    a = ap.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {a.cpu})
    lists = echoes(a.count, a.size)
    runs = [measure(a.count, a.size, a.batch, lists) for _ in range(a.reps)]
    w = statistics.median(r["writer"] for r in runs)
    r = statistics.median(r["reader"] for r in runs)
    best = min(x["writer"] + x["reader"] for x in runs)
    ceiling = 1e9 / (w + r)
    print(f"framed client's own Python work, {a.count} x {a.size} B, median of {a.reps}: "
          f"writer {w:.0f} ns + reader {r:.0f} ns = {w + r:.0f} ns per message "
          f"(best run {best:.0f} ns): at most {ceiling / 1e6:.2f}M msg/s "
          f"(best run {1e9 / best / 1e6:.2f}M)")
    if a.jsonl:
        for place, rate in sorted(stdlib_rates(a.jsonl).items()):
            print(f"  {place}: py-stdlib {rate / 1e6:.2f}M msg/s; 2x that is {2 * rate / 1e6:.2f}M; "
                  f"the client's ceiling is {ceiling / rate:.2f}x py-stdlib "
                  f"(best run {1e9 / best / rate:.2f}x)")


if __name__ == "__main__":
    main()
