#!/usr/bin/env bash
# Delphi / Free Pascal door (bindings/pascal): checks that libsock_api.inc (the raw C ABI, included
# in the interface of libsock.pas) declares every ls_* function and every LS_* macro of
# include/libsock.h (same values), with a doc comment on each public item of both files,
# compiles the unit with fpc (mode Delphi, warnings as errors; and mode DelphiUnicode, where string
# is UnicodeString as in Delphi 2009+), builds and runs the tests (S01-S21, S13-S17 on the engine,
# S18-S21 over TLS,
# S22 (file transfer), S23 (KCP against the reference KCP, again under 10 % and 30 % loss in a
# network namespace), S24 (SOCKS5 via danted), descriptors between processes, typed reads,
# bad input, and the rows of the bad-input catalogue tests-data/bad_inputs.json that list
# "pascal", flattened by tests/bad_inputs_tsv.py) and the examples (echo, engine_echo, the
# README's) against target/release/libsock.so, and the tests once more under heaptrc (no
# Pascal-side leak). Every program runs under `timeout`. Fails on any failure, or when no test ran.
set -euo pipefail
cd "$(dirname "$0")/../.."

step() { printf '\n--- %s\n' "$*"; }
command -v fpc >/dev/null || { echo "45-pascal: fpc is missing (.ci/install-deps installs fp-compiler)"; exit 1; }

step "build libsock.so (release)"
cargo build -q -p libsock-c --release
target=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
so="$target/release/libsock.so"
[ -f "$so" ] || { echo "45-pascal: $so was not built"; exit 1; }

src=bindings/pascal
build=$src/build
rm -rf "$build"
mkdir -p "$build/lib" "$build/units" "$build/unicode" "$build/heaptrc"
# The linker wants libsock.so; the programs load the SONAME, libsock.so.<ABI>.
abi=$(sed -n 's/^#define LS_ABI_VERSION \([0-9][0-9]*\)$/\1/p' include/libsock.h)
ln -sf "$(realpath "$so")" "$build/lib/libsock.so"
ln -sf "$(realpath "$so")" "$build/lib/libsock.so.$abi"
export LD_LIBRARY_PATH="$PWD/$build/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export LS_PASCAL_PEER="$PWD/python-tests/peers/stdlib_peer.py"
export LS_PASCAL_PEER16="$PWD/$src/tests/peer16.py"
# The bad-input catalogue, flattened for the Pascal tests (T_bad_input_table).
python3 "$src/tests/bad_inputs_tsv.py" pascal tests-data/bad_inputs.json > "$build/bad_inputs.tsv"
export LS_PASCAL_BAD_INPUTS="$PWD/$build/bad_inputs.tsv"

step "libsock_api.inc declares every function and macro of include/libsock.h"
python3 - "$src/libsock_api.inc" "$src/libsock.pas" include/libsock.h <<'EOF'
import re, sys
pas, unit, hdr = (open(p, encoding="utf-8").read() for p in sys.argv[1:])
bad = 0
funcs = sorted(set(re.findall(r"\b(ls_[a-z0-9_]+)\s*\(", hdr)))
for f in funcs:
    # a declaration "function ls_x(" or "function ls_x:" importing the symbol by its C name
    decl = re.search(r"function\s+%s\s*[(:;][^;]*(?:;[^;]*)*?external\s+LIBSOCK_LIB\s+name\s+'%s';" % (f, f),
                     pas, re.S | re.I)
    if not decl or not re.search(r"\bcdecl\b", decl.group(0)):
        print(f"missing or not cdecl in libsock_api.inc: {f}"); bad += 1
extra = set(re.findall(r"external\s+LIBSOCK_LIB\s+name\s+'(ls_[a-z0-9_]+)'", pas)) - set(funcs)
for f in sorted(extra):
    print(f"libsock_api.inc imports {f}, which include/libsock.h does not declare"); bad += 1
macros = re.findall(r"^#define\s+(LS_[A-Z0-9_]+)\s+(-?\d+)\s*$", hdr, re.M)
for name, value in macros:
    m = re.search(r"^\s*%s\s*=\s*(-?\d+)\s*;" % name, pas, re.M)
    if not m:
        print(f"missing constant in libsock_api.inc: {name}"); bad += 1
    elif int(m.group(1)) != int(value):
        print(f"{name} is {m.group(1)} in libsock_api.inc, {value} in libsock.h"); bad += 1
# The unit's interface includes the raw API (so `uses libsock;` sees it) and the raw API holds
# declarations only.
unit_interface = unit[unit.index("\ninterface"):unit.index("\nimplementation")]
if not re.search(r"^\{\$I(?:NCLUDE)? libsock_api\.inc\}$", unit_interface, re.M):
    print("the interface of libsock.pas does not include libsock_api.inc"); bad += 1
for word in ("implementation", "begin"):
    if re.search(r"^\s*%s\b" % word, pas, re.M):
        print(f"libsock_api.inc holds code ({word})"); bad += 1
# Fixed-width types only in the interface: no Integer, Cardinal, LongInt, LongWord, Word.
interface = pas + "\n" + unit_interface
code = re.sub(r"\{[^}]*\}|//[^\n]*", "", interface)
for t in re.findall(r":\s*(Integer|Cardinal|LongInt|LongWord|ShortInt|SmallInt)\b", code, re.I):
    print(f"interface uses the platform-sized type {t}"); bad += 1
# A doc comment on every public item of the interface.
lines = interface.split("\n")
item = re.compile(r"^\s*(function|procedure|constructor|destructor|property)\b|^\s*(E[A-Za-z]+|T[A-Za-z]+|P[A-Za-z0-9]+)\s*=|^\s*(LS_[A-Z0-9_]+|LIBSOCK_LIB)\s*=", re.I)
private = False
for i, line in enumerate(lines):
    s = line.strip()
    if s in ("private", "protected", "strict private"):
        private = True; continue
    if s in ("public", "published") or re.match(r"^\w+\s*=\s*class\b", s) or s == "end;":
        private = False
    if private or not item.match(line):
        continue
    j = i - 1
    while j >= 0 and (lines[j].strip() == "" or lines[j].strip().startswith("{$")):
        j -= 1
    prev = lines[j].strip() if j >= 0 else ""
    if not (prev.startswith("///") or prev.endswith("}")):
        print(f"no doc comment before: {s}"); bad += 1
print(f"{len(funcs)} functions, {len(macros)} macros checked")
sys.exit(1 if bad else 0)
EOF

step "compile the unit (mode Delphi, warnings and notes as errors)"
fpc -Mdelphi -vwn -Sew -FU"$build/units" "$src/libsock.pas"

step "the Lazarus package (libsockpkg.lpk): its files, version and options; compiled with them"
lpk_args=$(python3 - "$src/libsockpkg.lpk" Cargo.toml <<'LPK'
import os, re, sys
import xml.etree.ElementTree as ET
lpk, cargo = sys.argv[1:]
pkg = ET.parse(lpk).getroot().find("Package")
assert pkg.find("Name").get("Value") == "libsockpkg", "the package is named libsockpkg (not libsock: Lazarus writes a main unit named after the package)"
files = pkg.find("Files")
items = [files.find(f"Item{i}") for i in range(1, int(files.get("Count")) + 1)]
units = {i.find("Filename").get("Value"): (i.find("UnitName").get("Value") if i.find("UnitName") is not None
         else i.find("Type").get("Value")) for i in items}
assert units == {"libsock.pas": "libsock", "libsock_api.inc": "Include"}, units
for f in units:
    assert os.path.isfile(os.path.join(os.path.dirname(lpk), f)), f"{f} is missing"
v = pkg.find("Version")
lpk_version = ".".join(v.get(k, "0") for k in ("Major", "Minor", "Release"))
crate = re.search(r'^version = "([0-9.]+)"$', open(cargo).read(), re.M).group(1)
assert lpk_version == crate, f"libsockpkg.lpk says {lpk_version}, Cargo.toml {crate}"
mode = pkg.find("CompilerOptions/Parsing/SyntaxOptions/SyntaxMode").get("Value")
out = pkg.find("CompilerOptions/SearchPaths/UnitOutputDirectory").get("Value")
print(f"-M{mode.lower()} {out}")
LPK
)
echo "libsockpkg.lpk: $lpk_args"
# What lazbuild does for this package: compile its main unit with the package's mode into its
# unit output directory (lazbuild itself needs the whole Lazarus IDE, which CI does not install).
lpk_out="$build/lpk/$(fpc -iTP)-$(fpc -iTO)"
mkdir -p "$lpk_out"
fpc "${lpk_args%% *}" -vwn -Sew -Fu"$src" -FU"$lpk_out" "$src/libsockpkg.pas"
[ -f "$lpk_out/libsock.ppu" ] && [ -f "$lpk_out/libsockpkg.ppu" ] || { echo "45-pascal: the package's units were not built"; exit 1; }

step "compile the unit as UnicodeString Delphi would see it (mode DelphiUnicode)"
sed 's/{\$MODE DELPHI}/{$MODE DELPHIUNICODE}/' "$src/libsock.pas" > "$build/unicode/libsock.pas"
cp "$src/libsock_api.inc" "$build/unicode/"
sed 's/{\$MODE DELPHI}/{$MODE DELPHIUNICODE}/' "$src/examples/echo.pas" > "$build/unicode/echo.pas"
fpc -vw -Fl"$build/lib" -FU"$build/unicode" -FE"$build/unicode" "$build/unicode/echo.pas"
"$build/unicode/echo" | tail -1 | grep -x 'echo: ok' >/dev/null || { echo "45-pascal: the DelphiUnicode build of the example failed"; exit 1; }
sed 's/{\$MODE DELPHI}/{$MODE DELPHIUNICODE}/' "$src/examples/engine_echo.pas" > "$build/unicode/engine_echo.pas"
fpc -vw -Fl"$build/lib" -FU"$build/unicode" -FE"$build/unicode" "$build/unicode/engine_echo.pas"
"$build/unicode/engine_echo" | tail -1 | grep -x 'engine_echo: ok' >/dev/null || { echo "45-pascal: the DelphiUnicode build of the engine example failed"; exit 1; }

step "compile the tests and the example"
fpc -Mdelphi -vw -Fu"$src" -Fl"$build/lib" -FU"$build/units" -FE"$build" "$src/tests/test_libsock.pas"
fpc -Mdelphi -vw -Fu"$src" -Fl"$build/lib" -FU"$build/units" -FE"$build" "$src/examples/echo.pas"
fpc -Mdelphi -vw -Fu"$src" -Fl"$build/lib" -FU"$build/units" -FE"$build" "$src/examples/engine_echo.pas"

step "run the tests"
status=0
timeout 600 "$build/test_libsock" 2>&1 | tee "$build/test.log" || status=$?
[ "$status" -eq 0 ] || { echo "45-pascal: the tests failed (exit $status)"; exit 1; }
grep -Eq '^pascal: [1-9][0-9]* passed, 0 failed$' "$build/test.log" || { echo "45-pascal: no passing summary line"; exit 1; }
for n in 01 02 03 04 05 06 07 08 09 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24; do
  grep -q "^ok   S${n}_" "$build/test.log" || { echo "45-pascal: scenario S$n did not pass"; exit 1; }
done
for t in S13_engine S14_engine S15_engine S16_engine S17_engine; do
  grep -q "^ok   ${t}_" "$build/test.log" || { echo "45-pascal: engine scenario $t did not pass"; exit 1; }
done
! grep -q '^skip ' "$build/test.log" || { echo "45-pascal: a scenario was skipped"; exit 1; }
grep -q '^ok   T_bad_input_table ' "$build/test.log" || { echo "45-pascal: the bad-input table did not pass"; exit 1; }
for t in T_typed_reads T_transfer_errors T_fds_two_processes T_msgs_batches T_kcp_misc T_client_stats_batches_multicast T_engine_messages; do
  grep -q "^ok   ${t} " "$build/test.log" || { echo "45-pascal: $t did not pass"; exit 1; }
done

step "S23 under 10 % and 30 % UDP loss (a network namespace whose loopback drops packets: nftables)"
if [ "$(id -u)" -ne 0 ] || ! command -v ip >/dev/null || ! command -v nft >/dev/null; then
  # CI runs as root with iproute2 and nftables (.ci/install-deps): there this must run.
  [ "${CI:-}" != true ] || { echo "45-pascal: CI runs as root, so S23 under loss must run (needs root, ip, nft)"; exit 1; }
  echo "45-pascal: S23 under loss not run here (needs root, ip and nft)"
else
  for loss in 10 30; do
    ns="lspascal$$x$loss"
    ip netns add "$ns"
    trap 'ip netns del "$ns" 2>/dev/null || true' EXIT
    ip netns exec "$ns" ip link set lo up
    printf 'table inet libsock_loss {\n chain in {\n  type filter hook input priority 0; policy accept;\n  meta l4proto udp numgen random mod 100 < %d drop\n }\n}\n' "$loss" \
      | ip netns exec "$ns" nft -f -
    status=0
    LS_TEST_S23_LOSS=$loss timeout 600 ip netns exec "$ns" "$build/test_libsock" S23_kcp >"$build/s23-$loss.log" 2>&1 || status=$?
    ip netns del "$ns"
    trap - EXIT
    cat "$build/s23-$loss.log"
    [ "$status" -eq 0 ] && grep -q "^  (S23 at $loss % loss)$" "$build/s23-$loss.log" \
      && grep -q '^ok   S23_kcp_reference_peer ' "$build/s23-$loss.log" \
      || { echo "45-pascal: S23 at $loss % loss failed"; exit 1; }
  done
fi

step "run the examples"
timeout 60 "$build/echo" | tee "$build/echo.log"
grep -qx 'echo: ok' "$build/echo.log" || { echo "45-pascal: the example did not finish"; exit 1; }
timeout 60 "$build/engine_echo" | tee "$build/engine_echo.log"
grep -qx 'engine_echo: ok' "$build/engine_echo.log" || { echo "45-pascal: the engine example did not finish"; exit 1; }

step "the README's examples compile and run"
mkdir -p "$build/readme"
python3 - "$src/README-PASCAL.md" "$build/readme" <<'EOF2'
import re, sys
blocks = re.findall(r"```pascal\n(.*?)```", open(sys.argv[1], encoding="utf-8").read(), re.S)
programs = [b for b in blocks if b.lstrip().startswith("program ")]
snippets = [b for b in blocks if not b.lstrip().startswith("program ")]
assert len(programs) >= 2 and snippets, "README-PASCAL.md lost its examples (blocking and engine programs, error snippet)"
names = []
for i, b in enumerate(programs, 1):
    open(f"{sys.argv[2]}/readme{i}.pas", "w").write(b); names.append(f"readme{i}")
for i, b in enumerate(snippets, len(programs) + 1):
    open(f"{sys.argv[2]}/readme{i}.pas", "w").write(f"program readme{i};\n{{$IFDEF FPC}}{{$MODE DELPHI}}{{$ENDIF}}\n"
        "uses SysUtils, libsock;\nvar Conn: TLsConnection;\nbegin\n" + b + "end.\n"); names.append(f"readme{i}")
open(sys.argv[2] + "/names", "w").write("\n".join(names) + "\n")
EOF2
while read -r f; do
  fpc -Mdelphi -vw -Fu"$src" -Fl"$build/lib" -FU"$build/readme" -FE"$build/readme" "$build/readme/$f.pas" >/dev/null
  timeout 60 "$build/readme/$f" </dev/null
done < "$build/readme/names"

step "the tests under heaptrc (no Pascal-side leak)"
fpc -Mdelphi -gh -gl -Fu"$src" -Fl"$build/lib" -FU"$build/heaptrc" -FE"$build/heaptrc" "$src/tests/test_libsock.pas" >/dev/null
rm -f "$build/heaptrc/heap.log"
LS_TEST_S04_MB=4 HEAPTRC="log=$PWD/$build/heaptrc/heap.log" timeout 600 "$build/heaptrc/test_libsock" >"$build/heaptrc/test.log" 2>&1 \
  || { cat "$build/heaptrc/test.log"; echo "45-pascal: the heaptrc run failed"; exit 1; }
grep -q '^0 unfreed memory blocks' "$build/heaptrc/heap.log" || { cat "$build/heaptrc/heap.log"; echo "45-pascal: leaks"; exit 1; }
echo "heaptrc: 0 unfreed memory blocks"

echo
echo "45-pascal: ok"
