#!/usr/bin/env bash
# Makes the C# door's drop-in folder: Libsock.dll (+ its XML docs for the IDE), Libsock.dll.config
# and the native libsock.so.0, to be copied next to an application's .exe. Mono finds the native
# library in the assembly's folder, so the application runs without LD_LIBRARY_PATH or an
# installed libsock. Usage: bash bindings/csharp/pack.sh OUTDIR (builds libsock.so if needed).
set -euo pipefail
out=${1:?usage: pack.sh OUTDIR}
cd "$(dirname "$0")/../.."
cargo build -q -p libsock-c --release
target=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
abi=$(sed -n 's/^#define LS_ABI_VERSION \([0-9][0-9]*\)$/\1/p' include/libsock.h)
mkdir -p "$out"
mcs -target:library -unsafe -warnaserror -doc:"$out/Libsock.xml" -out:"$out/Libsock.dll" bindings/csharp/src/*.cs
cp bindings/csharp/Libsock.dll.config "$out/"
cp "$target/release/libsock.so" "$out/libsock.so.$abi"
ls -l "$out"
