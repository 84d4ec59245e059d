"""``libsock bench``: the quick comparison of bench/py/quick.py, in a source checkout."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Optional, Sequence

from .common import EXIT_INTERRUPTED, EXIT_USAGE


#: Where the quick comparison lives in a source checkout of libsock.
BENCH_QUICK = os.path.join("bench", "py", "quick.py")

BENCH_ELSEWHERE = """\
libsock bench: the benchmarks are not part of the installed package; they live in the bench/
folder of libsock's source checkout. In a checkout (with this package installed from it):
  libsock bench                 the quick comparison (Python implementations, < 1 min)
  python3 bench/py/quick.py     the same, without the command
  python3 bench/run.py          the full suite: C, Rust and fan-in too (see bench/README.md)
"""


def _bench_quick() -> Optional[str]:
    """bench/py/quick.py of the source checkout we are in (the current directory or a parent),
    or of the checkout this package runs from (an in-place or editable install); else None."""
    here = os.path.abspath(os.getcwd())
    places = [here]
    while os.path.dirname(places[-1]) != places[-1]:
        places.append(os.path.dirname(places[-1]))
    # bindings/python/libsock/cli/bench.py in a checkout: the checkout is four folders up.
    up = os.path.abspath(__file__)
    for _ in range(5):
        up = os.path.dirname(up)
    places.append(up)
    for root in places:
        quick = os.path.join(root, BENCH_QUICK)
        if os.path.isfile(quick) and os.path.isfile(os.path.join(root, "pyproject.toml")):
            return quick
    return None


def cmd_bench(argv: Sequence[str]) -> int:
    """``libsock bench [ARGS]``: runs the checkout's bench/py/quick.py with ARGS (its options and
    --help are its own), or says where the benchmarks are when there is no checkout."""
    quick = _bench_quick()
    if quick is None:
        sys.stderr.write(BENCH_ELSEWHERE)
        return EXIT_USAGE
    try:
        return subprocess.call([sys.executable, quick, *argv])
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
