#!/usr/bin/env bash
# Builds libsock's fuzz targets, replays the committed seeds and regression inputs, then fuzzes
# each target for SECONDS (default 60). Fails on any finding; prints the executions per target.
#
#   bash fuzz/run.sh            # 60 s per target
#   bash fuzz/run.sh 3600       # the long run: an hour per target
#   bash fuzz/run.sh 120 recv_socket decode_chunks
#
# Environment:
#   FUZZ_SANITIZER  none (default) builds on the machine's stable toolchain; address uses
#                   AddressSanitizer, which needs a nightly toolchain (cargo +nightly); auto
#                   picks address when `rustup toolchain list` shows a nightly, else none.
#   FUZZ_ARGS       more libFuzzer flags for the fuzzing runs (e.g. "-fork=2 -ignore_crashes=1").
#   FUZZ_MAX_LEN    largest input libFuzzer makes (default 4096).
#
# The corpus grows in fuzz/target/fuzz-corpus/<target>/ (not committed; the committed seeds in
# fuzz/seeds/<target>/ are only read). Findings are written to fuzz/artifacts/<target>/; add one to
# fuzz/regressions/<target>/ once the library is fixed, so every run replays it.
set -uo pipefail
cd "$(dirname "$0")"
fuzz_dir=$PWD

seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(decode_chunks encode_roundtrip recv_socket)
max_len=${FUZZ_MAX_LEN:-4096}

step() { printf '\n--- %s\n' "$*"; }

if ! cargo fuzz --version >/dev/null 2>&1; then
  step "cargo install cargo-fuzz --locked"
  cargo install -q cargo-fuzz --locked || { echo "fuzz: installing cargo-fuzz failed"; exit 1; }
fi

sanitizer=${FUZZ_SANITIZER:-none}
if [ "$sanitizer" = auto ]; then
  if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then sanitizer=address; else sanitizer=none; fi
fi
toolchain=()
if [ "$sanitizer" != none ]; then
  toolchain=(+nightly)
fi

# A sanitizer build has its own target directory (it would otherwise rebuild over the plain one).
target_dir=$fuzz_dir/target
[ "$sanitizer" = none ] || target_dir=$fuzz_dir/target/$sanitizer
step "build the fuzz targets (cargo ${toolchain[*]:+${toolchain[*]} }fuzz build -s $sanitizer)"
triple=$(rustc "${toolchain[@]}" -vV | sed -n 's/^host: //p')
nice -n 10 cargo "${toolchain[@]}" fuzz build -s "$sanitizer" --target-dir "$target_dir" 2>&1 |
  grep -Ev '^ +(Compiling|Downloaded|Downloading|Fresh) '
[ "${PIPESTATUS[0]}" -eq 0 ] || { echo "fuzz: the build failed"; exit 1; }
bin_dir=$target_dir/$triple/release
for t in "${targets[@]}"; do
  [ -x "$bin_dir/$t" ] || { echo "fuzz: $bin_dir/$t was not built"; exit 1; }
done

# Targets with a failing replay or a finding, and what failed.
declare -A bad_target=()
failures=()

# Run one input through a target binary; prints the property broken when it fails.
replay() {
  local t=$1 f=$2 out
  if out=$(timeout 60 "$bin_dir/$t" -runs=1 -rss_limit_mb=2048 "$f" 2>&1); then
    return 0
  fi
  echo "FAILED: $t $f"
  echo "$out" | grep -m3 -E -A1 'panicked at|budget:|memory allocation|ERROR: libFuzzer' | head -8
  return 1
}

step "replay the seeds and the regression inputs"
for t in "${targets[@]}"; do
  n=0
  bad=0
  for f in seeds/"$t"/* regressions/"$t"/*; do
    [ -f "$f" ] || continue
    n=$((n + 1))
    replay "$t" "$f" || { bad=$((bad + 1)); failures+=("$t: $f"); }
  done
  echo "$t: $n inputs replayed, $bad failed"
  [ "$bad" -eq 0 ] || bad_target[$t]=1
done

step "fuzz each target for $seconds s"
summary=()
for t in "${targets[@]}"; do
  corpus=$fuzz_dir/target/fuzz-corpus/$t
  artifacts=$fuzz_dir/artifacts/$t
  mkdir -p "$corpus" "$artifacts"
  log=$fuzz_dir/target/fuzz-$t.log
  echo "$t: fuzzing (log: $log)"
  # shellcheck disable=SC2086 # FUZZ_ARGS is a list of flags
  nice -n 10 "$bin_dir/$t" "$corpus" "seeds/$t" \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=1024 \
    -max_len="$max_len" -print_final_stats=1 -artifact_prefix="$artifacts/" \
    ${FUZZ_ARGS:-} >"$log" 2>&1
  rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  size=$(find "$corpus" -type f | wc -l)
  if [ "$rc" -eq 0 ]; then
    summary+=("$t: ok, ${execs:-?} executions in $seconds s (${rate:-?}/s), corpus $size inputs")
  else
    bad_target[$t]=1
    failures+=("$t: fuzzing found a failure (exit $rc)")
    summary+=("$t: FAILED after ${execs:-?} executions (exit $rc)")
    grep -m3 -E -A1 'panicked at|budget:|memory allocation|ERROR: libFuzzer' "$log" | head -10
    art=$(grep -o "Test unit written to [^ ]*" "$log" | tail -1 | sed 's/Test unit written to //')
    if [ -n "$art" ]; then
      echo "input: $art ($(base64 -w0 < "$art" | head -c 200))"
      echo "reproduce: $bin_dir/$t $art"
    fi
  fi
done

step "summary"
printf '%s\n' "${summary[@]}"
[ ${#failures[@]} -eq 0 ] || printf 'failure: %s\n' "${failures[@]}"
failed=${#bad_target[@]}
echo "fuzz targets: $((${#targets[@]} - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
