#!/usr/bin/env bash
# Fuzzing (issue 11): builds the cargo-fuzz targets in fuzz/ on the stable toolchain (no
# sanitizer; cargo-fuzz is installed when missing), replays the committed seeds and regression
# inputs, then fuzzes each target (decode_chunks, encode_roundtrip, recv_socket) for 45 s.
# Fails on any finding; prints the executions per target. The long run is
# `bash fuzz/run.sh 3600` (fuzz/README.md).
set -euo pipefail
cd "$(dirname "$0")/../.."
echo "--- cargo fmt --check (the fuzz crate is its own workspace, outside 10-rust's)"
(cd fuzz && cargo fmt -- --check)
FUZZ_SANITIZER=${FUZZ_SANITIZER:-none} bash fuzz/run.sh "${LIBSOCK_FUZZ_SECONDS:-45}"
