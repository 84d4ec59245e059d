#!/usr/bin/env bash
# MATLAB door (bindings/matlab) without MATLAB, which is not on these machines:
#  1. build libsock.so (libsock-c, release);
#  2. prove include/libsock.h loads in MATLAB's loadlibrary (gcc -E + pycparser checker, with its
#     negative self-test) and that the generated +libsock/LS_*.m constants match the header;
#  3. with Octave (installed when missing, unless LIBSOCK_SKIP_OCTAVE=1): parse every .m file;
#  4. run python-tests/test_matlab_path.py: the MATLAB classes' calllib sequences repeated through
#     ctypes, compared with the .m files, scenarios S01-S17 (S13-S17: the engine classes Server,
#     Client, EngineConfig) against stdlib-socket peers, and (with Octave) the .m files themselves
#     running S01-S12 (tests/libsock_selftest.m), S13-S16 (tests/libsock_engine_selftest.m), the
#     rows of the bad-input catalogue tests-data/bad_inputs.json that list "octave"
#     (tests/libsock_bad_inputs_selftest.m) and the examples (echo_example.m, server_example.m)
#     against libsock.so.
# Every Octave run has a time limit (`timeout` here, subprocess timeouts and pytest-timeout in the
# tests). Fails when any step fails or when pytest collected nothing.
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
# Optional: installed here when missing and apt can (LIBSOCK_SKIP_OCTAVE=1 skips it); without it
# the Octave tests are skipped and the calllib sequences are still compared textually.
if [ "${LIBSOCK_SKIP_OCTAVE:-0}" != 1 ] && ! { command -v octave-cli && command -v mkoctfile; } >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
  { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
      --no-install-recommends octave octave-dev >/dev/null; } \
    || echo "46-matlab: could not install Octave; its tests will be skipped"
fi

echo "--- Octave parse check of bindings/matlab/+libsock and examples (optional)"
if command -v octave-cli >/dev/null 2>&1; then
  octave_log=$(mktemp)
  set +e
  (cd bindings/matlab && timeout 300 octave-cli --no-gui --norc --quiet --eval '
    files = [dir("+libsock/*.m"); dir("examples/*.m"); dir("tests/*.m")]; bad = 0;
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
  echo "octave-cli not installed: parse check skipped (the pytest step still compares the .m files' calls)"
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
