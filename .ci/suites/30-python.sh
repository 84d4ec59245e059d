#!/usr/bin/env bash
# Python door: install the package from this checkout, run the pytest suite, check the type stubs
# against the compiled module (mypy.stubtest), then install from a clean clone into a fresh venv
# and import it there.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
py=${PYTHON:-python3}
export PIP_ROOT_USER_ACTION=ignore

echo "--- pip install . (this checkout)"
# Dependencies first (tqdm), then force a rebuild of libsock itself so a stale wheel never hides
# a change.
"$py" -m pip install -q --disable-pip-version-check .
"$py" -m pip install -q --disable-pip-version-check --force-reinstall --no-deps .

echo "--- pytest python-tests"
# Run from outside the source tree so that `import libsock` is the installed package.
set +e
(cd /tmp && "$py" -m pytest "$root/python-tests" -q -p no:cacheprovider)
rc=$?
set -e
if [ "$rc" -eq 5 ]; then
  echo "pytest collected no tests: failing"
  exit 1
fi
[ "$rc" -eq 0 ] || exit "$rc"

echo "--- mypy.stubtest libsock"
(cd /tmp && "$py" -m mypy.stubtest libsock \
  --mypy-config-file "$root/bindings/python/stubtest-mypy.ini" \
  --allowlist "$root/bindings/python/stubtest-allowlist.txt")

echo "--- mypy: the tests type-check against the stubs (typed usage of the package)"
(cd "$root/python-tests" && "$py" -m mypy --ignore-missing-imports --no-incremental \
  conftest.py _helpers.py test_scenarios.py test_connection.py test_framing.py test_datagram.py \
  test_buffers.py test_errors.py test_threads.py test_resources.py test_peers.py test_docs.py \
  test_engine.py test_aio.py test_bench.py test_bench_workers.py test_bad_inputs.py \
  _reliability.py test_faults.py test_load.py test_names.py test_tls.py test_engine_tls.py test_kcp.py peers/*.py)

echo "--- fresh venv: pip install . from a clean clone"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# CI itself runs on a clean clone, so cloning it again tests exactly what is committed.
git clone -q "$root" "$tmp/src"
"$py" -m venv "$tmp/venv"
# Reuse the checkout's cargo cache: the sources are the clean clone's, only build products are
# shared (a cold build of pyo3 takes minutes on two cores).
CARGO_TARGET_DIR="$root/target" "$tmp/venv/bin/pip" install -q --disable-pip-version-check "$tmp/src"
(cd "$tmp" && "$tmp/venv/bin/python" -c '
import libsock, sys
assert libsock.__file__.startswith(sys.prefix), libsock.__file__
with libsock.listen(("127.0.0.1", 0)) as server:
    with libsock.connect(server.address, timeout=5) as client:
        conn, _ = server.accept(timeout=5)
        client.send_all(b"ping")
        assert conn.recv_exact(4, timeout=5) == b"ping"
        conn.close()
print("fresh venv: import libsock", libsock.__version__, "ok")
')
"$tmp/venv/bin/libsock" --help >/dev/null
echo "fresh venv: libsock --help ok"
