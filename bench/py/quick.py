#!/usr/bin/env python3
"""The quick comparison: libsock from Python against the stdlib, asyncio, uvloop and pyzmq.

    python3 bench/py/quick.py [--workloads W,...] [--placement same|split|both] [--reps N]
                              [--json FILE] [--plot OUT.png] [--smoke] [--timeout S]

``libsock bench`` runs this file with the same arguments when it is started inside a source
checkout (the benchmarks are not part of the installed package). The full suite, with the C and
Rust programs and fan-in, is ``python3 bench/run.py`` (bench/README.md).
"""

from __future__ import annotations

import argparse
import os
import sys
import textwrap
from typing import List, Optional, Sequence

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402  (bench/py/harness.py)

PROG = "libsock bench"

DESCRIPTION = (
    "Run a quick subset of libsock's benchmark suite on loopback with the Python implementations "
    "only: libsock's blocking layer (py-libsock) and engine (py-engine), the stdlib socket module "
    "(py-stdlib), asyncio (py-asyncio), and uvloop and pyzmq when they are installed. Workloads: "
    "pingpong (64-byte round trips), bulk (one-way stream), framed (4-byte length + 100 B, "
    "pipelined echo), udp-flood (receive rate and loss), udp-drain (receive capacity from a full "
    "queue) and udp-echo. Server and client are pinned with taskset. Prints a markdown table per "
    "workload with the median (min-max) and ratios against the stdlib; exit status 1 if any run "
    "fails validation. The full suite, with C, Rust and fan-in, is python3 bench/run.py."
)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=PROG, formatter_class=argparse.RawDescriptionHelpFormatter,
        description=textwrap.fill(DESCRIPTION, 78),
        epilog="examples:\n  libsock bench\n  libsock bench --workloads pingpong,framed --reps 3\n"
               "  libsock bench --placement both --json results.jsonl --plot ratios.png\n"
               "  python3 bench/py/quick.py --smoke      (the same, without the command)",
    )
    p.add_argument("--workloads", "-w", default=None, metavar="W,...",
                   help="comma-separated subset of %s (default: all)" % ",".join(harness.QUICK_CONFIGS))
    p.add_argument("--placement", choices=["same", "split", "both"], default="same",
                   help="same: server and client on one CPU (the default; shows software "
                        "overhead), split: one CPU each, both: one table for each")
    p.add_argument("--reps", type=int, default=None, metavar="N",
                   help="repetitions, interleaved with a rotating order (default: 3; --smoke: 1)")
    p.add_argument("--json", default=None, metavar="FILE",
                   help="also write one JSON line per run to FILE")
    p.add_argument("--plot", default=None, metavar="OUT.png",
                   help="draw one chart panel per workload: medians per implementation and placement, the stdlib dashed (needs matplotlib)")
    p.add_argument("--smoke", action="store_true",
                   help="tiny sizes and one repetition: checks that everything runs, measures "
                        "nothing (no goals table)")
    p.add_argument("--timeout", type=float, default=60.0, metavar="S",
                   help="hard limit per run; a run over it is killed and counts as failed "
                        "(default: 60)")
    return p


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.timeout > 0:
        parser.error("--timeout must be more than 0 seconds")
    workloads: Optional[List[str]] = [w for w in (args.workloads or "").split(",") if w] or None
    reps = args.reps if args.reps is not None else (1 if args.smoke else 3)
    try:
        return harness.quick_bench(workloads=workloads, placement=args.placement, reps=reps,
                                   json_path=args.json, plot_path=args.plot, smoke=args.smoke,
                                   timeout=args.timeout)
    except harness.BenchError as e:
        sys.stderr.write("%s: %s\n" % (PROG, e))
        return e.status
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
