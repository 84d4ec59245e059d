#!/usr/bin/env bash
# Rust: format, lints, unit + integration + doc tests of the workspace.
# No test can hang CI: with cargo-nextest (there when `cargo nextest` works; .ci/install-deps does
# not build it, a fresh machine falls back to plain cargo test) each test runs in its own process
# and is killed after 5 minutes (.config/nextest.toml, profile ci); doc tests, which nextest does
# not run, and the fallback run under `timeout` as a whole.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -q -- -D warnings
log=/tmp/libsock-cargo-test.log
if cargo nextest --version >/dev/null 2>&1; then
  timeout 3600 cargo nextest run --workspace --exclude libsock-python --profile ci 2>&1 | tee "$log"
  timeout 1800 cargo test --workspace --exclude libsock-python --doc 2>&1 | tee -a "$log"
  # The engine server's tests again on the io_uring backend (the run above takes the default,
  # the tokio/epoll path); engine_backend's own tests check the choice and its fallbacks.
  LIBSOCK_BACKEND=uring timeout 900 cargo nextest run -p libsock --profile ci \
    --test engine_server --test engine_backend 2>&1 | tee -a "$log"
  # A run that executed no test is a failure.
  grep -Eq 'Summary \[.*\] +[1-9][0-9]* tests? run: [1-9][0-9]* passed' "$log"
else
  echo "cargo-nextest is not installed: plain cargo test, bounded by timeout as a whole"
  timeout 3600 cargo test --workspace --exclude libsock-python 2>&1 | tee "$log"
  LIBSOCK_BACKEND=uring timeout 900 cargo test -p libsock --test engine_server --test engine_backend 2>&1 | tee -a "$log"
  grep -Eq 'test result: ok\. [1-9][0-9]* passed' "$log"
fi
