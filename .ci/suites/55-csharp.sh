#!/usr/bin/env bash
# C# door (bindings/csharp): builds libsock.so (release, the same build as the C suite), checks that
# src/Native.cs declares only functions of include/libsock.h with their parameter counts (header
# functions the door does not declare yet are listed, not failed: the C ABI grows on its own),
# compiles Libsock.dll with Mono's mcs (warnings as errors, an XML doc comment required on every
# public item), builds and runs the tests (S01-S17 against System.Net.Sockets peers and
# libsock-to-libsock; S18-S21 (TLS) against openssl s_server/s_client, Mono's SslStream and
# libsock, blocking and on the engine; S22 (file transfer with a break and a resume), S23 (KCP
# against the reference implementation in Python, under 10 % and 30 % loss in a network namespace:
# root), S24 (SOCKS5 through danted), descriptor passing with a Python process; the door's own
# checks, the bad-input rows that list "csharp"; every test on
# its own thread with a deadline, the whole run under `timeout`), compiles and runs the examples
# of README-CSHARP.md, and runs one from the drop-in folder made by pack.sh without
# LD_LIBRARY_PATH. Fails on any failure, or when no test ran.
set -euo pipefail
cd "$(dirname "$0")/../.."

step() { printf '\n--- %s\n' "$*"; }
for tool in mcs mono openssl python3; do
  command -v "$tool" >/dev/null || { echo "55-csharp: $tool is missing (.ci/install-deps installs mono-mcs, mono-runtime and openssl)"; exit 1; }
done
[ -x /usr/sbin/danted ] || command -v danted >/dev/null || { echo "55-csharp: danted is missing (.ci/install-deps installs dante-server) for S24"; exit 1; }
for tool in microsocks tinyproxy; do command -v "$tool" >/dev/null || { echo "55-csharp: $tool is missing (.ci/install-deps installs it)"; exit 1; }; done
python3 -c 'import kcp' 2>/dev/null || { echo "55-csharp: the Python package kcp (the reference KCP for S23) is missing (.ci/install-deps installs it)"; exit 1; }

step "build libsock.so (release)"
cargo build -q -p libsock-c --release
target=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
so="$target/release/libsock.so"
[ -f "$so" ] || { echo "55-csharp: $so was not built"; exit 1; }

src=bindings/csharp
build=$src/build
rm -rf "$build"
mkdir -p "$build/lib" "$build/readme"
# The programs load the SONAME (Libsock.dll.config maps "libsock" to libsock.so.<ABI>).
abi=$(sed -n 's/^#define LS_ABI_VERSION \([0-9][0-9]*\)$/\1/p' include/libsock.h)
ln -sf "$(realpath "$so")" "$build/lib/libsock.so.$abi"
export LD_LIBRARY_PATH="$PWD/$build/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export LS_BAD_INPUTS="$PWD/tests-data/bad_inputs.json"
export LS_TEST_PEER="$PWD/python-tests/peers/stdlib_peer.py"   # S05 against a peer in Python

step "src/Native.cs declares functions of include/libsock.h, with their parameter counts"
python3 - "$src/src/Native.cs" include/libsock.h <<'EOF'
import re, sys
cs, hdr = (open(p, encoding="utf-8").read() for p in sys.argv[1:])
body = hdr[hdr.index('extern "C" {'):]
header = {name: (0 if params.strip() == "void" else params.count(",") + 1)
          for name, params in re.findall(r"^(?:const )?\w+ \*?(ls_\w+)\((.*?)\);", body, re.S | re.M)}
declared = {name: (0 if not params.strip() else params.count(",") + 1)
            for name, params in re.findall(r"internal static extern \w+\*? (ls_\w+)\((.*?)\);", cs, re.S)}
bad = 0
for name, n in sorted(declared.items()):
    if name not in header:
        print(f"Native.cs declares {name}, which include/libsock.h does not have"); bad += 1
    elif header[name] != n:
        print(f"Native.cs: {name} takes {n} parameters, the header says {header[name]}"); bad += 1
missing = sorted(set(header) - set(declared))
if missing:
    print(f"not declared by the C# door yet ({len(missing)}): {', '.join(missing)}")
print(f"{len(declared)} functions declared, all in the header")
sys.exit(1 if bad else 0)
EOF

step "compile Libsock.dll (mcs, warnings as errors, XML docs required)"
mcs -target:library -unsafe -warnaserror -doc:"$build/Libsock.xml" -out:"$build/Libsock.dll" "$src"/src/*.cs
cp "$src/Libsock.dll.config" "$build/"

step "compile and run the tests"
mcs -unsafe -warnaserror -r:"$build/Libsock.dll" -out:"$build/LibsockTests.exe" "$src"/tests/*.cs
cp "$src/Libsock.dll.config" "$build/LibsockTests.exe.config"   # the tests' own P/Invoke too
status=0
timeout 900 mono --debug "$build/LibsockTests.exe" 2>&1 | tee "$build/test.log" || status=$?
[ "$status" -eq 0 ] || { echo "55-csharp: the tests failed (exit $status)"; exit 1; }
grep -Eq '^csharp: [1-9][0-9]* passed, 0 failed$' "$build/test.log" || { echo "55-csharp: no passing summary line"; exit 1; }
scenarios="01 02 03 04 05 06 07 08 09 10 11 12 13 14 15 16 17 18 19 20 21 22 24"
# S23 (KCP under loss) needs root for its network namespace; CI runs as root.
if [ "$(id -u)" -eq 0 ]; then scenarios="$scenarios 23"; else echo "55-csharp: not root, so S23 (KCP under loss in a network namespace) was skipped"; fi
for n in $scenarios; do
  grep -q "^ok   s${n}_" "$build/test.log" || { echo "55-csharp: scenario S$n did not pass"; exit 1; }
done
grep -q '^ok   bad_input_table ' "$build/test.log" || { echo "55-csharp: the bad-input table did not pass"; exit 1; }

step "the examples of README-CSHARP.md compile and run"
python3 - "$src/README-CSHARP.md" "$build/readme" <<'EOF'
import re, sys
blocks = re.findall(r"```csharp\n(.*?)```", open(sys.argv[1], encoding="utf-8").read(), re.S)
programs = [b for b in blocks if "static void Main" in b]
assert len(programs) >= 2, "README-CSHARP.md lost its examples (blocking and engine programs)"
for i, b in enumerate(programs, 1):
    open(f"{sys.argv[2]}/readme{i}.cs", "w", encoding="utf-8").write(b)
EOF
cp "$build/Libsock.dll" "$build/Libsock.dll.config" "$build/readme/"
for f in "$build"/readme/readme*.cs; do
  exe="${f%.cs}.exe"
  mcs -warnaserror -r:"$build/readme/Libsock.dll" -out:"$exe" "$f"
  out=$(timeout 60 mono "$exe" </dev/null)
  printf '%s\n' "$out"
  [ -n "$out" ] || { echo "55-csharp: $f printed nothing"; exit 1; }
done

step "the drop-in folder (pack.sh): an app beside it runs without LD_LIBRARY_PATH"
bash "$src/pack.sh" "$build/pack" >/dev/null
mkdir -p "$build/app"
cp "$build"/pack/* "$build/app/"
cp "$build/readme/readme1.cs" "$build/app/app.cs"
mcs -warnaserror -r:"$build/app/Libsock.dll" -out:"$build/app/app.exe" "$build/app/app.cs"
app="$PWD/$build/app/app.exe"
out=$(cd / && env -u LD_LIBRARY_PATH timeout 60 mono "$app" </dev/null)
printf '%s\n' "$out"
printf '%s\n' "$out" | grep -x 'hello world' >/dev/null || { echo "55-csharp: the app in the drop-in folder did not run"; exit 1; }
echo "drop-in folder: $(du -sk "$build/pack" | cut -f1) KiB ($(stat -c %s "$build/pack/Libsock.dll") bytes Libsock.dll)"

echo
echo "55-csharp: ok"
