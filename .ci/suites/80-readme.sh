#!/usr/bin/env bash
# README.md's examples (Python, C, C++, Java, Pascal, C#; MATLAB names checked) built and run against
# this checkout, so the README cannot rot. Rust examples in README.md are doc-tests (10-rust).
set -euo pipefail
root=$(pwd)
cargo build -q -p libsock-c -p libsock-jni --release
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
bash bindings/c/install.sh "$work/prefix" >/dev/null
python3 -c "import libsock" 2>/dev/null || python3 -m pip install -q .
target=${CARGO_TARGET_DIR:-target}
case $target in /*) ;; *) target="$root/$target" ;; esac
python3 tools/readme_examples.py "$work/prefix" "$target/release" "$work/run"
