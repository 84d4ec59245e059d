#!/usr/bin/env bash
# Build the C benchmark programs: bench/c/build/lsbench (the C worker of bench/PROTOCOL.md) and
# bench/c/build/fanin_server (fan-in servers: raw epoll and the libsock engine through the C ABI).
# Builds libsock.so first (cargo build --release -p libsock-c) and links it with an rpath, so the
# programs run from anywhere without LD_LIBRARY_PATH. Idempotent; fails loudly.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"
cargo build -q --release -p libsock-c
target=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
lib="$target/release"
[ -f "$lib/libsock.so" ] || { echo "build.sh: $lib/libsock.so is missing" >&2; exit 1; }
# The library's SONAME is libsock.so.0 (bindings/c/build.rs): the loader looks for that name.
[ -e "$lib/libsock.so.0" ] || ln -s libsock.so "$lib/libsock.so.0"
mkdir -p "$here/build"
CFLAGS=(-O2 -std=gnu11 -Wall -Wextra -Werror -I"$root/include")
LIBS=(-L"$lib" -lsock -Wl,-rpath,"$lib" -lpthread)
gcc "${CFLAGS[@]}" "$here/lsbench.c" "${LIBS[@]}" -o "$here/build/lsbench.tmp"
mv "$here/build/lsbench.tmp" "$here/build/lsbench"
gcc "${CFLAGS[@]}" "$here/fanin_server.c" "${LIBS[@]}" -o "$here/build/fanin_server.tmp"
mv "$here/build/fanin_server.tmp" "$here/build/fanin_server"
echo "built $here/build/lsbench and $here/build/fanin_server (libsock from $lib)"
