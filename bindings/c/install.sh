#!/usr/bin/env bash
# Install libsock's C door into a prefix:
#   bash bindings/c/install.sh [PREFIX]        (default /usr/local; PREFIX=... in the environment works too)
# Builds the release library if needed, then installs
#   PREFIX/lib/libsock.so.<version> (+ libsock.so.<ABI> and libsock.so links), PREFIX/lib/libsock.a,
#   PREFIX/include/libsock.h and libsock.hpp, PREFIX/lib/pkgconfig/libsock.pc,
#   PREFIX/lib/cmake/libsock/libsockConfig.cmake and libsockConfigVersion.cmake
# so that `cc app.c $(pkg-config --cflags --libs libsock)` works (with PKG_CONFIG_PATH pointing at
# PREFIX/lib/pkgconfig for a private prefix), and so does CMake's find_package(libsock) (with
# CMAKE_PREFIX_PATH=PREFIX for a private prefix). The same files as `cmake --install` of the
# top-level CMakeLists.txt (from the same templates), for machines without CMake.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
prefix=${1:-${PREFIX:-/usr/local}}
cd "$top"
cargo build -q -p libsock-c --release
target=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
version=$(cargo pkgid -p libsock-c | sed 's/.*[@#]//')
abi=$(sed -n 's/^#define LS_ABI_VERSION \([0-9][0-9]*\)$/\1/p' include/libsock.h)
[ -n "$version" ] && [ -n "$abi" ] || { echo "install.sh: cannot read the version or the ABI version" >&2; exit 1; }
mkdir -p "$prefix/lib/pkgconfig" "$prefix/lib/cmake/libsock" "$prefix/include"
install -m 755 "$target/release/libsock.so" "$prefix/lib/libsock.so.$version"
ln -sf "libsock.so.$version" "$prefix/lib/libsock.so.$abi"
ln -sf "libsock.so.$abi" "$prefix/lib/libsock.so"
install -m 644 "$target/release/libsock.a" "$prefix/lib/libsock.a"
install -m 644 include/libsock.h include/libsock.hpp "$prefix/include/"
sed -e "s|@PREFIX@|$prefix|g" -e "s|@VERSION@|$version|g" -e "s|@LIBDIR@|lib|g" -e "s|@INCLUDEDIR@|include|g" \
  "$here/libsock.pc.in" > "$prefix/lib/pkgconfig/libsock.pc"
bits=$(getconf LONG_BIT)
for f in libsockConfig libsockConfigVersion; do
  sed -e "s|@LIBSOCK_VERSION@|$version|g" -e "s|@LIBSOCK_ABI@|$abi|g" -e "s|@CMAKE_LIBDIR@|lib|g" \
      -e "s|@CMAKE_INCDIR@|include|g" -e "s|@LIBSOCK_CONFIG_TO_PREFIX@|../../..|g" \
      -e "s|@LIBSOCK_SIZEOF_VOID_P@|$((bits / 8))|g" "$here/cmake/$f.cmake.in" > "$prefix/lib/cmake/libsock/$f.cmake"
done
echo "installed libsock $version (ABI $abi) into $prefix"
