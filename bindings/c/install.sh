#!/usr/bin/env bash
# Install libsock's C door into a prefix:
#   bash bindings/c/install.sh [PREFIX]        (default /usr/local; PREFIX=... in the environment works too)
# Builds the release library if needed, then installs
#   PREFIX/lib/libsock.so.<version> (+ libsock.so.<ABI> and libsock.so links), PREFIX/lib/libsock.a,
#   PREFIX/include/libsock.h and libsock.hpp, PREFIX/lib/pkgconfig/libsock.pc
# so that `cc app.c $(pkg-config --cflags --libs libsock)` works (with PKG_CONFIG_PATH pointing at
# PREFIX/lib/pkgconfig for a private prefix).
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
mkdir -p "$prefix/lib/pkgconfig" "$prefix/include"
install -m 755 "$target/release/libsock.so" "$prefix/lib/libsock.so.$version"
ln -sf "libsock.so.$version" "$prefix/lib/libsock.so.$abi"
ln -sf "libsock.so.$abi" "$prefix/lib/libsock.so"
install -m 644 "$target/release/libsock.a" "$prefix/lib/libsock.a"
install -m 644 include/libsock.h include/libsock.hpp "$prefix/include/"
sed -e "s|@PREFIX@|$prefix|g" -e "s|@VERSION@|$version|g" "$here/libsock.pc.in" > "$prefix/lib/pkgconfig/libsock.pc"
echo "installed libsock $version (ABI $abi) into $prefix"
