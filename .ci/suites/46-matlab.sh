#!/usr/bin/env bash
# MATLAB door (bindings/matlab) without MATLAB, which is not on these machines:
#  1. build libsock.so (libsock-c, release);
#  2. prove include/libsock.h loads in MATLAB's loadlibrary (gcc -E + pycparser checker, with its
#     negative self-test) and that the generated +libsock/LS_*.m constants match the header;
#  3. Octave (.ci/install-deps installs it: Debian packages octave and octave-dev): parse every
#     .m file;
#  4. run python-tests/test_matlab_path.py: every calllib in the .m files fits the header, and
#     Octave runs the .m files themselves against libsock.so (stand-ins for loadlibrary/calllib in
#     python-tests/matlab/octave): S01-S12 (tests/libsock_selftest.m), S13-S16
#     (tests/libsock_engine_selftest.m), the rest of the classes' surface
#     (tests/libsock_surface_selftest.m), the rows of the bad-input catalogue
#     tests-data/bad_inputs.json that list "octave" (tests/libsock_bad_inputs_selftest.m) and the
#     examples (echo_example.m, server_example.m); and README-MATLAB's install example from a
#     toolbox laid out by tools/make_toolbox.sh (+libsock, lib/glnxa64/libsock.so, include/),
#     with nothing but that folder on the path.
# Every Octave run has a time limit (`timeout` here, subprocess timeouts and pytest-timeout in the
# tests). Without Octave the Octave steps are skipped when run by hand, and the suite FAILS under
# CI (CI=true): the .m files would not be run at all. Fails when any step fails or when pytest
# collected nothing.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
py=${PYTHON:-python3}

echo "--- pip install pycparser (the header checker's parser)"
"$py" -m pip install -q --disable-pip-version-check pycparser

echo "--- cargo build -p libsock-c --release"
cargo build -p libsock-c --release

echo "--- header checker: include/libsock.h as MATLAB loadlibrary sees it"
"$py" bindings/matlab/tools/check_header.py --signatures
"$py" bindings/matlab/tools/check_header.py --self-test
"$py" bindings/matlab/tools/gen_matlab_constants.py --check

echo "--- Octave (runs the .m files themselves under stand-ins for loadlibrary/calllib)"
if ! { command -v octave-cli && command -v mkoctfile; } >/dev/null 2>&1; then
  if [ "${CI:-}" = true ]; then
    echo "46-matlab: octave-cli and mkoctfile are missing (CI=true): failing; .ci/install-deps installs them (apt packages octave, octave-dev)"
    exit 1
  fi
  echo "46-matlab: octave-cli/mkoctfile not installed: the .m files are not run (bash .ci/install-deps installs them)"
fi

echo "--- Octave parse check of bindings/matlab/+libsock, examples and tests"
if command -v octave-cli >/dev/null 2>&1; then
  octave_log=$(mktemp)
  set +e
  (cd bindings/matlab && timeout 300 octave-cli --no-gui --norc --quiet --eval '
    files = [dir("+libsock/*.m"); dir("examples/*.m"); dir("tests/*.m"); dir("tests/private/*.m")]; bad = 0;
    for k = 1:numel(files)
      try
        __parse_file__(fullfile(files(k).folder, files(k).name));
      catch err
        bad = bad + 1; printf("octave: %s: %s\n", files(k).name, err.message);
      end
    end
    printf("octave: %d files parsed, %d with syntax errors\n", numel(files), bad);
    exit(bad > 0);') >"$octave_log" 2>&1
  octave_rc=$?
  set -e
  # Octave warns that +libsock/load.m shadows load (it does not: package functions are only
  # reached as libsock.load) and prints a harmless message when --eval calls exit.
  grep -v -e "shadows a built-in function" -e "ignoring const execution_exception" "$octave_log" || true
  rm -f "$octave_log"
  [ "$octave_rc" -eq 0 ] || { echo "46-matlab: Octave found syntax errors"; exit 1; }
else
  echo "octave-cli not installed: parse check skipped"
fi

echo "--- pytest python-tests/test_matlab_path.py"
set +e
# --noconftest: python-tests/conftest.py imports the Python package, which this door does not need.
(cd /tmp && "$py" -m pytest "$root/python-tests/test_matlab_path.py" -q -p no:cacheprovider --noconftest -rs)
rc=$?
set -e
if [ "$rc" -eq 5 ]; then
  echo "46-matlab: pytest collected no tests: failing"
  exit 1
fi
[ "$rc" -eq 0 ] || { echo "46-matlab: pytest failed (exit $rc)"; exit "$rc"; }
echo "46-matlab: ok"
