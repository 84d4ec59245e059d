"""libsock's benchmarks (see bench/PROTOCOL.md and bench/README.md in the repository).

- :mod:`libsock.bench.worker` — the Python implementations of the benchmark worker protocol,
  run as ``python3 -m libsock.bench.worker IMPL server|client WORKLOAD [--param value ...]``.
- :mod:`libsock.bench.harness` — the driver side: starts server/client pairs pinned to CPUs,
  enforces a hard timeout, validates, and tabulates medians, min–max, ratios and the goals.
  ``libsock bench`` (the command) and ``bench/run.py`` (the full suite) are built on it.
"""
