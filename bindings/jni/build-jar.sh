#!/usr/bin/env bash
# Builds the Java door's jar, which carries the native library of this machine inside it:
#   bash bindings/jni/build-jar.sh [OUT_DIR]     (default: <cargo target dir>/java)
# makes OUT_DIR/libsock-<version>.jar with the classes of io.libsock (compiled with --release 8,
# the API level Android offers) and natives/<os>-<arch>/liblibsock_jni.so (release build), which
# io.libsock.NativeLoader extracts and loads when the library is not on java.library.path.
# A jar for several platforms: build libsock_jni on each (or cross-compile) and add each file as
# natives/<os>-<arch>/<file> (linux-aarch64/liblibsock_jni.so, macos-aarch64/liblibsock_jni.dylib,
# windows-x86_64/libsock_jni.dll) with `jar uf`. Prints the jar's path on its last line.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
cd "$top"
cargo build -q -p libsock-jni --release
target=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
version=$(cargo pkgid -p libsock-jni | sed 's/.*[@#]//')
out=${1:-$target/java}
mkdir -p "$out"
out=$(cd "$out" && pwd)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

# The folder name must be what NativeLoader.platformDirectory() computes on this JVM.
case "$(uname -s)" in Linux) os=linux ;; Darwin) os=macos ;; *) os=$(uname -s | tr 'A-Z' 'a-z') ;; esac
case "$(uname -m)" in x86_64|amd64) arch=x86_64 ;; aarch64|arm64) arch=aarch64 ;; *) arch=$(uname -m) ;; esac
lib=liblibsock_jni.so; [ "$os" = macos ] && lib=liblibsock_jni.dylib
mkdir -p "$stage/classes/natives/$os-$arch"
cp "$target/release/$lib" "$stage/classes/natives/$os-$arch/$lib"
# Debug info is not shipped: the jar carries the library as `cargo build --release` makes it,
# stripped of its symbol table (the JNI entry points stay: they are dynamic symbols).
strip --strip-unneeded "$stage/classes/natives/$os-$arch/$lib" 2>/dev/null || true

# shellcheck disable=SC2046
javac --release 8 -Xlint:all -Xlint:-options -d "$stage/classes" $(find bindings/jni/java/src -name '*.java')
cat > "$stage/MANIFEST.MF" <<MF
Automatic-Module-Name: io.libsock
Implementation-Title: libsock
Implementation-Version: $version
MF
jarfile="$out/libsock-$version.jar"
rm -f "$jarfile"
jar --create --file "$jarfile" --manifest "$stage/MANIFEST.MF" -C "$stage/classes" .
echo "$jarfile"
