#!/usr/bin/env bash
# Rust: format, lints, unit + integration + doc tests of the workspace.
set -euo pipefail
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -q -- -D warnings
# The API docs build without a warning (broken or private links, bad code blocks).
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps -q
cargo test --workspace --exclude libsock-python 2>&1 | tee /tmp/libsock-cargo-test.log
# A run that executed no test is a failure.
grep -Eq 'test result: ok\. [1-9][0-9]* passed' /tmp/libsock-cargo-test.log
