#!/usr/bin/env bash
# C and C++ doors: build libsock.so/.a, check the committed header against cbindgen (pinned), the
# exported symbols (ls_* only), the SONAME and the version macros against Cargo.toml; install into
# a temporary prefix and build everything through pkg-config; run the C tests (plain, under
# valgrind, and built with AddressSanitizer + UndefinedBehaviorSanitizer + LeakSanitizer; S01-S17,
# the engine included, and the bad-input catalogue tests-data/bad_inputs.json), the C++ tests
# (C++17, and the header as C++11; plain, valgrind, sanitizers), the examples, and the MATLAB
# loadlibrary checker on the header. Every test program has a per-test watchdog (LS_TEST_TIMEOUT
# seconds, default 300) and runs under `timeout`, so no hang can stall CI.
# Fails on any failure, and when a test run reports no passed test.
set -euo pipefail
cd "$(dirname "$0")/../.."
CBINDGEN_VERSION=0.29.4

step() { printf '\n--- %s\n' "$*"; }

step "build (release)"
cargo build -q -p libsock-c --release
target=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
so="$target/release/libsock.so"
[ -f "$so" ] && [ -f "$target/release/libsock.a" ]

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

step "header drift (cbindgen $CBINDGEN_VERSION)"
if ! cbindgen --version 2>/dev/null | grep -x "cbindgen $CBINDGEN_VERSION" >/dev/null; then
  cargo install -q cbindgen --version "=$CBINDGEN_VERSION" --locked
fi
cbindgen --quiet --config bindings/c/cbindgen.toml --crate libsock-c --output "$work/libsock.h" bindings/c
if ! cmp -s "$work/libsock.h" include/libsock.h; then
  diff -u include/libsock.h "$work/libsock.h" | head -40
  echo "include/libsock.h drifted from the code: regenerate it with the command in bindings/c/cbindgen.toml"
  exit 1
fi
echo "header matches the code"

step "exported symbols: ls_* only, and exactly the header's functions"
nm -D --defined-only "$so" | awk '{print $NF}' | sort > "$work/exported"
if grep -v '^ls_' "$work/exported"; then
  echo "the library exports symbols other than ls_* (above)"
  exit 1
fi
grep -oE '\bls_[a-z0-9_]+\(' include/libsock.h | tr -d '(' | sort -u > "$work/declared"
if ! diff -u "$work/declared" "$work/exported"; then
  echo "header declarations and exported symbols differ"
  exit 1
fi
echo "$(wc -l < "$work/exported") functions exported, all declared"

step "SONAME and version macros"
abi=$(sed -n 's/^#define LS_ABI_VERSION \([0-9][0-9]*\)$/\1/p' include/libsock.h)
soname=$(readelf -d "$so" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
[ "$soname" = "libsock.so.$abi" ] || { echo "SONAME is '$soname', expected libsock.so.$abi"; exit 1; }
version=$(cargo pkgid -p libsock-c | sed 's/.*[@#]//')
hv=$(for p in MAJOR MINOR PATCH; do sed -n "s/^#define LS_VERSION_$p \\([0-9][0-9]*\\)\$/\\1/p" include/libsock.h; done | paste -sd.)
[ "$hv" = "$version" ] || { echo "LS_VERSION_* say $hv, Cargo.toml says $version"; exit 1; }
echo "SONAME $soname, version $version"

step "install into a temporary prefix; pkg-config"
bash bindings/c/install.sh "$work/prefix" >/dev/null
export PKG_CONFIG_PATH="$work/prefix/lib/pkgconfig"
[ "$(pkg-config --modversion libsock)" = "$version" ]
CFLAGS_LIBS=$(pkg-config --cflags --libs libsock)
export LD_LIBRARY_PATH="$work/prefix/lib"
cat > "$work/pc.c" <<'EOF'
#include <libsock.h>
#include <stdio.h>
#include <string.h>
int main(void) { puts(ls_version()); return strcmp(ls_strerror(LS_ERR_TIMEOUT), "operation timed out") != 0; }
EOF
# shellcheck disable=SC2086
cc "$work/pc.c" $CFLAGS_LIBS -o "$work/pc" && "$work/pc"
# The static library links too.
cc "$work/pc.c" -I"$work/prefix/include" "$work/prefix/lib/libsock.a" -lutil -lrt -lpthread -lm -ldl -o "$work/pc_static" && "$work/pc_static"
# grep without -q reads all of ldd's output: with pipefail, grep -q could exit first and make
# ldd die of SIGPIPE (status 141), which failed the suite at random under load.
! ldd "$work/pc_static" | grep libsock >/dev/null
ldd "$work/pc" | grep "libsock.so.$abi" >/dev/null

run_counted() { # name expected-prefix command...
  local name=$1 prefix=$2; shift 2
  local log="$work/$name.log"
  "$@" 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  [ "$rc" -eq 0 ] || { echo "$name failed (exit $rc)"; return 1; }
  grep -Eq "^$prefix: [1-9][0-9]* passed, 0 failed$" "$log" || { echo "$name: no passing summary line"; return 1; }
}

export LS_TEST_PEER="$PWD/python-tests/peers/stdlib_peer.py"

# The bad-input table the tests read (test_c and test_cpp run each row in a child process).
export LS_BAD_INPUTS="$PWD/tests-data/bad_inputs.json"
# valgrind: memcheck with the suppressions that bindings/c/tests/valgrind.supp explains, and a longer
# per-test watchdog (everything runs ~20x slower).
VALGRIND=(valgrind -q --error-exitcode=1 --leak-check=full --suppressions="$PWD/bindings/c/tests/valgrind.supp")

step "C tests (gcc -std=c99 -Wall -Wextra -Werror -pedantic)"
# shellcheck disable=SC2086
gcc -std=c99 -Wall -Wextra -Werror -pedantic -g bindings/c/tests/test_c.c $CFLAGS_LIBS -lpthread -o "$work/test_c"
run_counted test_c c timeout 900 "$work/test_c"

step "C tests under valgrind (the bad-input rows in-process, so memcheck sees them)"
if command -v valgrind >/dev/null 2>&1; then
  # S22 moves 8 MB here (50 MB in the plain and sanitizer runs): the same break and resume,
  # without minutes of SHA-256 under memcheck.
  LS_TEST_S22_MB=8 LS_BAD_INPUTS_INLINE=1 LS_TEST_TIMEOUT=900 run_counted test_c_valgrind c timeout 1800 "${VALGRIND[@]}" "$work/test_c"
else
  echo "valgrind is not installed (.ci/install-deps installs it)"; exit 1
fi

step "C++: header as C++11, tests as C++17"
g++ -std=c++11 -fsyntax-only -Wall -Wextra -Werror -pedantic -I"$work/prefix/include" -x c++ include/libsock.hpp
g++ -std=c++11 -fsyntax-only -Wall -Wextra -Werror -pedantic -x c++ include/libsock.h
# shellcheck disable=SC2086
g++ -std=c++17 -Wall -Wextra -Werror -pedantic -g bindings/c/tests/test_cpp.cpp $CFLAGS_LIBS -lpthread -o "$work/test_cpp"
run_counted test_cpp cpp timeout 900 "$work/test_cpp"
LS_TEST_S22_MB=8 LS_TEST_TIMEOUT=900 run_counted test_cpp_valgrind cpp timeout 1800 "${VALGRIND[@]}" "$work/test_cpp"

step "S23: KCP under 10 % and 30 % loss against the reference implementation (C and C++)"
# The S23 tests of test_c and test_cpp (KCP both ways against python-tests/peers/kcp_ref.py,
# the PyPI package kcp) ran above over plain loopback; here they run again inside a network
# namespace whose loopback drops that share of the UDP packets arriving (nftables, input hook,
# as python-tests/test_kcp.py does), with LS_KCP_LOSS telling them to expect retransmissions.
if [ "$(id -u)" -ne 0 ]; then
  echo "skipped: needs root (ip netns, nft); CI runs as root"
else
  kcp_ns=""
  trap '[ -z "$kcp_ns" ] || ip netns del "$kcp_ns" 2>/dev/null; rm -rf "$work"' EXIT
  for loss in 10 30; do
    kcp_ns="lsc40kcp$$x$loss"
    ip netns add "$kcp_ns"
    ip netns exec "$kcp_ns" ip link set lo up
    printf 'table inet libsock_loss {\n chain in {\n  type filter hook input priority 0; policy accept;\n  meta l4proto udp numgen random mod 100 < %d drop\n }\n}\n' "$loss" |
      ip netns exec "$kcp_ns" nft -f -
    LS_KCP_LOSS=$loss run_counted "test_c_kcp$loss" c timeout 900 ip netns exec "$kcp_ns" "$work/test_c" s23_
    LS_KCP_LOSS=$loss run_counted "test_cpp_kcp$loss" cpp timeout 900 ip netns exec "$kcp_ns" "$work/test_cpp" s23_
    ip netns del "$kcp_ns"
    kcp_ns=""
  done
fi

step "C and C++ tests with AddressSanitizer, UndefinedBehaviorSanitizer and LeakSanitizer"
# The test programs are instrumented (libsock.so, Rust, is not: ASan's malloc serves it too, so
# its heap errors in memory the tests touch and every leak at exit still show). Each bad-input
# row runs in an instrumented child, whose leaks fail that row. Any report fails the run.
SAN=(-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
# shellcheck disable=SC2086
gcc -std=c99 -Wall -Wextra -Werror -pedantic -g "${SAN[@]}" bindings/c/tests/test_c.c $CFLAGS_LIBS -lpthread -o "$work/test_c_asan"
# shellcheck disable=SC2086
g++ -std=c++17 -Wall -Wextra -Werror -pedantic -g "${SAN[@]}" bindings/c/tests/test_cpp.cpp $CFLAGS_LIBS -lpthread -o "$work/test_cpp_asan"
export ASAN_OPTIONS=detect_leaks=1:exitcode=86 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
run_counted test_c_asan c timeout 900 "$work/test_c_asan"
run_counted test_cpp_asan cpp timeout 900 "$work/test_cpp_asan"
unset ASAN_OPTIONS UBSAN_OPTIONS

step "examples"
# shellcheck disable=SC2086
cc -std=c99 -Wall -Wextra -Werror -pedantic examples/c/echo.c $CFLAGS_LIBS -lpthread -o "$work/echo_c"
"$work/echo_c" | tee "$work/echo_c.log"
grep -q "got STICKY PACKETS ARE GONE" "$work/echo_c.log"
# shellcheck disable=SC2086
c++ -std=c++17 -Wall -Wextra -Werror examples/cpp/echo.cpp $CFLAGS_LIBS -lpthread -o "$work/echo_cpp"
"$work/echo_cpp" | tee "$work/echo_cpp.log"
[ "$(grep -c '(equal)' "$work/echo_cpp.log")" -eq 3 ]
# The engine examples (event-driven server and long-lived clients), the C one under valgrind too.
# shellcheck disable=SC2086
cc -std=c99 -Wall -Wextra -Werror -pedantic examples/c/engine_echo.c $CFLAGS_LIBS -o "$work/engine_echo_c"
"$work/engine_echo_c" | tee "$work/engine_echo_c.log"
grep -q "echo 3: are gone" "$work/engine_echo_c.log"
valgrind -q --error-exitcode=1 --leak-check=full "$work/engine_echo_c" >/dev/null
# shellcheck disable=SC2086
c++ -std=c++17 -Wall -Wextra -Werror examples/cpp/engine_echo.cpp $CFLAGS_LIBS -lpthread -o "$work/engine_echo_cpp"
"$work/engine_echo_cpp" | tee "$work/engine_echo_cpp.log"
[ "$(grep -c '^echo: hello from client' "$work/engine_echo_cpp.log")" -eq 3 ]

step "MATLAB/Pascal-friendly header (no callbacks, unions, varargs, bool, by-value structs, **)"
if python3 -c 'import pycparser' 2>/dev/null; then
  python3 bindings/matlab/tools/check_header.py --header include/libsock.h --no-constants
else
  echo "pycparser is not installed here; .ci/suites/46-matlab.sh installs it and runs this check"
fi

step "benchmark programs build (bench/c; run by bench/run.py and bench/fanin.py)"
# shellcheck disable=SC2086
cc -O2 -std=gnu11 -Wall -Wextra -Werror bench/c/lsbench.c $CFLAGS_LIBS -lpthread -o "$work/lsbench"
# shellcheck disable=SC2086
cc -O2 -std=gnu11 -Wall -Wextra -Werror bench/c/fanin_server.c $CFLAGS_LIBS -o "$work/fanin_server"
rc=0; "$work/lsbench" c-raw-mmsg server pingpong >/dev/null || rc=$?; [ "$rc" -eq 3 ]

echo
echo "C door suite: ok"
