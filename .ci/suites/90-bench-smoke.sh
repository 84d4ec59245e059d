#!/usr/bin/env bash
# Benchmark smoke run: the fan-in benchmark with tiny sizes (N=10 clients x K=10 round trips, one
# repetition, every server, both placements), so the benchmark cannot rot. Not a measurement.
# Fails if any run fails validation or any server cannot run.
set -euo pipefail
cd "$(dirname "$0")/../.."
py=${PYTHON:-python3}
export PIP_ROOT_USER_ACTION=ignore
# (c) needs uvloop; (a) needs the libsock package (30-python installs it; install it if missing).
"$py" -c 'import uvloop' 2>/dev/null || "$py" -m pip install -q --disable-pip-version-check uvloop
"$py" -c 'import libsock; libsock.Server' 2>/dev/null \
  || "$py" -m pip install -q --disable-pip-version-check .
timeout 600 "$py" bench/fanin.py --smoke
