#!/usr/bin/env bash
# Doors talking to each other: builds a C server (C ABI), a Java client (io.libsock over JNI) and a
# Pascal client (libsock.pas), then runs python-tests/interop/test_interop.py, which pairs them with
# Python servers and clients (the installed libsock package) — framed messages each way,
# byte-exact. Runs after the per-door suites (which install the Python package).
set -euo pipefail
root=$(pwd)
cargo build -q -p libsock-c -p libsock-jni --release
build=$(mktemp -d)
trap 'rm -rf "$build"' EXIT
# The C library as a user gets it (libsock.so.<ABI> matching its SONAME, header, pkg-config).
bash bindings/c/install.sh "$build/prefix" >/dev/null
lib="$build/prefix/lib"
target=${CARGO_TARGET_DIR:-target}
case $target in /*) ;; *) target="$root/$target" ;; esac
jnilib="$target/release"

gcc -std=c99 -Wall -Wextra -Werror -pedantic python-tests/interop/c_server.c -o "$build/c_server" \
  $(PKG_CONFIG_PATH="$lib/pkgconfig" pkg-config --cflags --libs libsock) -Wl,-rpath,"$lib"

mkdir -p "$build/java"
javac -d "$build/java" $(find bindings/jni/java/src -name '*.java') python-tests/interop/InteropClient.java

mkdir -p "$build/pascal"
fpc -Mdelphi -O2 -Fu"$root/bindings/pascal" -FE"$build/pascal" -Fl"$lib" -k-rpath -k"$lib" \
  python-tests/interop/pascal_client.pas >"$build/fpc.log" 2>&1 || { cat "$build/fpc.log"; exit 1; }

python3 -c "import libsock" 2>/dev/null || python3 -m pip install -q .

export LIBSOCK_INTEROP_C_SERVER="$build/c_server"
export LIBSOCK_INTEROP_JAVA_CP="$build/java"
export LIBSOCK_INTEROP_JAVA_LIBPATH="$jnilib"
export LIBSOCK_INTEROP_PASCAL_CLIENT="$build/pascal/pascal_client"
export LD_LIBRARY_PATH="$lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
rc=0
python3 -m pytest -q -p no:cacheprovider python-tests/interop/test_interop.py || rc=$?
# pytest exits 5 when no test ran: that is a failure too.
[ "$rc" -eq 0 ] || { echo "70-interop: pytest exited $rc"; exit 1; }
