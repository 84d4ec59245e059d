#!/usr/bin/env bash
# Benchmark smoke run, so the benchmarks cannot rot (not a measurement):
#  1. bench/run.py --smoke: builds the C and Rust programs, then every workload (ping-pong, bulk,
#     framed echo, UDP flood, UDP echo, fan-in) with tiny sizes, one repetition, every
#     implementation, both placements;
#  2. libsock bench --smoke: the quick Python-only comparison (bench/py/quick.py, which the
#     installed package's command runs in a checkout), both placements, with --json and --plot;
#     no goals table (a smoke run measures nothing). Outside a checkout the command says where
#     the benchmarks are (exit 2) instead.
# Fails if any run fails validation (or times out, or crashes), or if any implementation cannot
# run at all (a program not built, a module not installed).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
py=${PYTHON:-python3}
export PIP_ROOT_USER_ACTION=ignore
# py-uvloop / uvloop, py-zmq and --plot need these (install-deps installs them; here if missing).
"$py" -c 'import uvloop, zmq, matplotlib' 2>/dev/null \
  || "$py" -m pip install -q --disable-pip-version-check uvloop pyzmq matplotlib
# py-libsock and py-engine need the package (30-python installs it; install it here if missing).
"$py" -c 'import libsock; libsock.Server' 2>/dev/null \
  || "$py" -m pip install -q --disable-pip-version-check .
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

echo "--- bench/run.py --smoke"
timeout 900 "$py" bench/run.py --smoke --out "$out/smoke"
grep -q '^## GOALS' "$out/smoke.md"
[ -s "$out/smoke.jsonl" ]

echo "--- libsock bench --smoke (the installed package's command, in a subfolder of the checkout)"
(cd bench && timeout 300 "$py" -m libsock bench --smoke --placement both \
  --json "$out/cli.jsonl" --plot "$out/cli.png" > "$out/cli.md")
cat "$out/cli.md"
grep -q 'py-libsock' "$out/cli.md"
if grep -q 'GOALS' "$out/cli.md"; then echo "libsock bench --smoke printed a goals table"; exit 1; fi
echo "--- libsock bench outside a checkout: says where the benchmarks are"
rc=0; (cd "$out" && "$py" -m libsock bench --smoke >"$out/away.out" 2>"$out/away.err") || rc=$?
cat "$out/away.err"
[ "$rc" -eq 2 ] && [ ! -s "$out/away.out" ] && grep -q 'bench/run.py' "$out/away.err"
"$py" - "$out/cli.jsonl" "$out/cli.png" <<'PY'
import json, sys
recs = [json.loads(line) for line in open(sys.argv[1])]
assert recs and not [r for r in recs if r["status"] == "failed"], "failed runs"
assert open(sys.argv[2], "rb").read(8) == b"\x89PNG\r\n\x1a\n", "no PNG written"
print("libsock bench --smoke: %d runs, %d ok, %d n/a" % (
    len(recs), sum(r["status"] == "ok" for r in recs), sum(r["status"] == "n/a" for r in recs)))
PY
echo "--- bench/tls.py --smoke: TLS bulk, handshakes and engine echo run and validate"
timeout 600 "$py" "$root/bench/tls.py" --smoke --out "$out/tls"
grep -q 'tls-handshakes' "$out/tls.md"
grep -q 'Failed runs: 0' "$out/tls.md"
echo "--- bench smoke passed ($root)"
