#!/usr/bin/env bash
# Java / Android door (bindings/jni): builds libsock_jni, compiles package io.libsock (also with
# --release 8, as a proxy for the APIs Android offers), the tests and the examples with javac,
# and runs them with -Xcheck:jni (the tests include the bad-input table tests-data/bad_inputs.json,
# BadInputsTest). Each test has a time limit in the harness (LibsockTest.TEST_TIMEOUT_MS) and
# every JVM runs under `timeout`. Fails on a failed test, on any JNI check warning, or when no
# test ran.
set -euo pipefail
cargo build -p libsock-jni --release
lib_dir="${CARGO_TARGET_DIR:-target}/release"
build=$(mktemp -d)
trap 'rm -rf "$build"' EXIT
src=$(find bindings/jni/java/src -name '*.java')
javac --release 8 -Xlint:all -Xlint:-options -d "$build/java8" $src
javac -Xlint:all -d "$build/classes" $src $(find bindings/jni/java/test -name '*.java')
javac -Xlint:all -cp "$build/classes" -d "$build/examples" bindings/jni/java/examples/*.java
# Javadoc on every public class and method.
if javadoc -Xdoclint:all -quiet -d "$build/javadoc" $src 2>&1 | grep -E 'warning|error'; then
  echo "50-java: javadoc is incomplete"; exit 1
fi

# A JVM that outlives this (the tests' own limits failed to end it) is killed: no hang in CI.
jvm() { timeout 1200 java -Xcheck:jni -Djava.library.path="$lib_dir" "$@"; }
export LS_BAD_INPUTS="$PWD/tests-data/bad_inputs.json"

status=0
jvm -cp "$build/classes" io.libsock.LibsockTest >"$build/test.log" 2>&1 || status=$?
cat "$build/test.log"
jvm -cp "$build/classes:$build/examples" Echo >"$build/example.log" 2>&1 || status=$?
cat "$build/example.log"
jvm -cp "$build/classes:$build/examples" EngineEcho >"$build/engine-example.log" 2>&1 || status=$?
cat "$build/engine-example.log"
jvm -cp "$build/classes:$build/examples" TlsEcho >"$build/tls-example.log" 2>&1 || status=$?
cat "$build/tls-example.log"

if [ "$status" -ne 0 ]; then
  echo "50-java: a Java run failed (exit $status)"; exit 1
fi
if ! grep -Eq '^java: [1-9][0-9]* passed, 0 failed$' "$build/test.log"; then
  echo "50-java: no passing test summary"; exit 1
fi
grep -q '^Echo: ok$' "$build/example.log" || { echo "50-java: example did not finish"; exit 1; }
grep -q '^EngineEcho: ok$' "$build/engine-example.log" || {
  echo "50-java: engine example did not finish"; exit 1; }
grep -q '^TlsEcho: ok$' "$build/tls-example.log" || { echo "50-java: TLS example did not finish"; exit 1; }
# libsock's own warning for TlsClientConfig.dangerousNoVerify() (tested on purpose) is no JNI check.
if grep -n 'WARNING' "$build/test.log" "$build/example.log" "$build/engine-example.log" \
    "$build/tls-example.log" \
    | grep -v 'libsock: WARNING: TLS certificate verification is off'; then
  echo "50-java: -Xcheck:jni reported warnings"; exit 1
fi
echo "50-java: ok"
