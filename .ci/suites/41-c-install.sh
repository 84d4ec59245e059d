#!/usr/bin/env bash
# C and C++ doors, installed: `cmake --install` of the top-level CMakeLists.txt (which builds
# libsock.so/.a with cargo) into a temporary prefix; checks the layout (libsock.so.<version>, the
# SONAME link libsock.so.<ABI>, libsock.so, libsock.a, both headers, libsock.pc, the CMake package)
# and the package's version check; then builds a small project from outside the tree
# (bindings/c/tests/consumer, copied to a temporary directory) against that prefix through
# find_package(libsock) (C with libsock::libsock and libsock::libsock_static, C++ with
# libsock.hpp) and through pkg-config, and the CMake project once more against the prefix that
# bindings/c/install.sh fills; every program runs against a real peer (the Python stdlib echo
# peer, python-tests/peers/stdlib_peer.py). Every program and peer runs under `timeout`.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
command -v cmake >/dev/null || { echo "41-c-install: cmake is missing (.ci/install-deps installs it)"; exit 1; }
step() { printf '\n--- %s\n' "$*"; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
version=$(cargo pkgid -p libsock-c | sed 's/.*[@#]//')
abi=$(sed -n 's/^#define LS_ABI_VERSION \([0-9][0-9]*\)$/\1/p' include/libsock.h)

step "cmake -S . -B build; cmake --build build; cmake --install build --prefix PREFIX"
prefix="$work/prefix"
cmake -S . -B "$work/build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$work/build"
cmake --install "$work/build" --prefix "$prefix"

step "the installed layout"
for f in lib/libsock.so.$version lib/libsock.a include/libsock.h include/libsock.hpp \
         lib/pkgconfig/libsock.pc lib/cmake/libsock/libsockConfig.cmake lib/cmake/libsock/libsockConfigVersion.cmake; do
  [ -f "$prefix/$f" ] && [ ! -L "$prefix/$f" ] || { echo "41-c-install: $f is missing or not a file"; exit 1; }
done
[ "$(readlink "$prefix/lib/libsock.so.$abi")" = "libsock.so.$version" ] || { echo "41-c-install: libsock.so.$abi is not a link to libsock.so.$version"; exit 1; }
[ "$(readlink "$prefix/lib/libsock.so")" = "libsock.so.$abi" ] || { echo "41-c-install: libsock.so is not a link to libsock.so.$abi"; exit 1; }
soname=$(readelf -d "$prefix/lib/libsock.so.$version" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
[ "$soname" = "libsock.so.$abi" ] || { echo "41-c-install: SONAME is '$soname'"; exit 1; }
grep -qx "prefix=$prefix" "$prefix/lib/pkgconfig/libsock.pc" || { echo "41-c-install: libsock.pc does not name the install prefix"; exit 1; }
echo "libsock $version (SONAME $soname): $(ls "$prefix/lib" | tr '\n' ' ')"
echo "sizes: libsock.so $(du -k "$prefix/lib/libsock.so.$version" | cut -f1) KiB, libsock.a $(du -k "$prefix/lib/libsock.a" | cut -f1) KiB"

step "the package's version check (0.x: same minor version, not older)"
cat > "$work/version_check.cmake" <<CM
string(REPLACE "." ";" _parts "\${PACKAGE_FIND_VERSION}")
list(LENGTH _parts PACKAGE_FIND_VERSION_COUNT)
list(GET _parts 0 PACKAGE_FIND_VERSION_MAJOR)
list(GET _parts 1 PACKAGE_FIND_VERSION_MINOR)
set(CMAKE_SIZEOF_VOID_P 8)
include("$prefix/lib/cmake/libsock/libsockConfigVersion.cmake")
message("\${PACKAGE_VERSION_COMPATIBLE}")
CM
check_version() { # requested expected(TRUE|FALSE)
  local got
  got=$(cmake -DPACKAGE_FIND_VERSION="$1" -P "$work/version_check.cmake" 2>&1)
  [ "$got" = "$2" ] || { echo "41-c-install: find_package(libsock $1) against $version: compatible=$got, expected $2"; exit 1; }
  echo "find_package(libsock $1): compatible=$got"
}
major_minor=${version%.*}
check_version "$major_minor" TRUE
check_version "$version" TRUE
check_version "${version%%.*}.$(( ${major_minor#*.} + 1 ))" FALSE
check_version "$(( ${version%%.*} + 1 )).0" FALSE

# Runs PROGRAM PORT against a fresh echo peer and checks its "ok" line.
with_peer() { # name program...
  local name=$1; shift
  local portfile="$work/$name.port"
  timeout 60 python3 "$root/python-tests/peers/stdlib_peer.py" echo >"$portfile" &
  local peer=$! i port
  for i in $(seq 300); do [ -s "$portfile" ] && break; sleep 0.1; done
  port=$(head -n1 "$portfile")
  [ -n "$port" ] || { echo "41-c-install: the echo peer did not start"; kill "$peer" 2>/dev/null; exit 1; }
  timeout 30 "$@" "$port" | tee "$work/$name.log"
  wait "$peer" || { echo "41-c-install: the echo peer failed for $name"; exit 1; }
  grep -q ": ok (libsock $version)$" "$work/$name.log" || { echo "41-c-install: $name did not finish"; exit 1; }
}

step "an outside project: find_package(libsock) + target_link_libraries(app libsock::libsock)"
cp -r bindings/c/tests/consumer "$work/consumer"
cmake -S "$work/consumer" -B "$work/consumer/build" -DCMAKE_PREFIX_PATH="$prefix" | grep -- '-- libsock'
cmake --build "$work/consumer/build"
ldd "$work/consumer/build/app_c" | grep "libsock.so.$abi => $prefix/lib/libsock.so.$abi" >/dev/null \
  || { ldd "$work/consumer/build/app_c"; echo "41-c-install: app_c does not load the installed libsock.so.$abi"; exit 1; }
! ldd "$work/consumer/build/app_c_static" | grep libsock >/dev/null || { echo "41-c-install: app_c_static loads libsock.so"; exit 1; }
with_peer cmake_c "$work/consumer/build/app_c"
with_peer cmake_c_static "$work/consumer/build/app_c_static"
with_peer cmake_cpp "$work/consumer/build/app_cpp"

step "the same programs through pkg-config"
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
[ "$(pkg-config --modversion libsock)" = "$version" ]
# shellcheck disable=SC2046
cc -std=c99 -Wall -Wextra -Werror "$work/consumer/app.c" $(pkg-config --cflags --libs libsock) -o "$work/pc_c"
# shellcheck disable=SC2046
c++ -std=c++17 -Wall -Wextra -Werror "$work/consumer/app.cpp" $(pkg-config --cflags --libs libsock) -o "$work/pc_cpp"
# shellcheck disable=SC2046
cc -std=c99 "$work/consumer/app.c" $(pkg-config --cflags --static --libs libsock | sed "s|-lsock|$prefix/lib/libsock.a|") -o "$work/pc_c_static"
LD_LIBRARY_PATH="$prefix/lib" with_peer pkgconfig_c "$work/pc_c"
LD_LIBRARY_PATH="$prefix/lib" with_peer pkgconfig_cpp "$work/pc_cpp"
with_peer pkgconfig_c_static "$work/pc_c_static"

step "bindings/c/install.sh writes the same CMake package"
bash bindings/c/install.sh "$work/prefix2" >/dev/null
cmake -S "$work/consumer" -B "$work/consumer/build2" -DCMAKE_PREFIX_PATH="$work/prefix2" | grep -- '-- libsock'
cmake --build "$work/consumer/build2" >/dev/null
with_peer install_sh_c "$work/consumer/build2/app_c"
with_peer install_sh_cpp "$work/consumer/build2/app_cpp"

echo
echo "41-c-install: ok"
