#!/usr/bin/env bash
# Lays out libsock's MATLAB toolbox for this platform, ready to unzip and addpath:
#   bash bindings/matlab/tools/make_toolbox.sh OUT_DIR
# makes OUT_DIR/libsock-matlab/ and OUT_DIR/libsock-matlab-<version>-<arch>.zip holding
#   +libsock/                 the package (every .m file of bindings/matlab/+libsock)
#   lib/<arch>/libsock.so     the prebuilt library (release build; <arch> as MATLAB's
#                             computer('arch'): glnxa64 here, win64 / maci64 / maca64 elsewhere,
#                             where the file is sock.dll / libsock.dylib)
#   include/libsock.h         the prototypes loadlibrary reads
#   examples/, README-MATLAB.md
# libsock.load() finds lib/<arch>/ and include/ next to +libsock. Toolboxes for other platforms
# add their own lib/<arch>/ folder to the same tree. Prints the toolbox folder on its last line.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
out=${1:?usage: make_toolbox.sh OUT_DIR}
mkdir -p "$out"
out=$(cd "$out" && pwd)
cd "$top"
cargo build -q -p libsock-c --release
target=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
version=$(cargo pkgid -p libsock-c | sed 's/.*[@#]//')
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) arch=glnxa64; lib=libsock.so ;;
  Darwin-arm64) arch=maca64; lib=libsock.dylib ;;
  Darwin-x86_64) arch=maci64; lib=libsock.dylib ;;
  *) echo "make_toolbox.sh: no MATLAB platform name for $(uname -s)-$(uname -m)" >&2; exit 1 ;;
esac
tbx="$out/libsock-matlab"
rm -rf "$tbx"
mkdir -p "$tbx/lib/$arch" "$tbx/include"
cp -r bindings/matlab/+libsock bindings/matlab/examples bindings/matlab/README-MATLAB.md "$tbx/"
cp include/libsock.h "$tbx/include/"
cp "$target/release/$lib" "$tbx/lib/$arch/$lib"
strip --strip-unneeded "$tbx/lib/$arch/$lib" 2>/dev/null || true
zip="$out/libsock-matlab-$version-$arch.zip"
rm -f "$zip"
(cd "$out" && python3 -m zipfile -c "$zip" libsock-matlab)
echo "$zip ($(du -k "$zip" | cut -f1) KiB)" >&2
echo "$tbx"
