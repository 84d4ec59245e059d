#!/usr/bin/env bash
# Java / Android door (bindings/jni): builds the jar (bindings/jni/build-jar.sh: libsock_jni and
# package io.libsock compiled with --release 8, as a proxy for the APIs Android offers, with the
# native library inside it), compiles the tests and the examples against the jar, and runs them
# with -Xcheck:jni: the test suite from the jar alone (the library extracted from the jar, no
# -Djava.library.path), the examples through java.library.path and through the property
# io.libsock.library (the tests include the bad-input table tests-data/bad_inputs.json,
# BadInputsTest); LoaderCheck proves which of the three places each run loaded from. Each test
# has a time limit in the harness (LibsockTest.TEST_TIMEOUT_MS) and every JVM runs under
# `timeout`. The suite includes S22-S24 (Issue16Test: danted and python3's `kcp` package are
# CI's, .ci/install-deps); S23 under 10 % and 30 % loss runs afterwards in network namespaces
# (root only, KcpCheck). Fails on a failed test, on any JNI check warning, or when no test ran.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=$(mktemp -d)
trap 'rm -rf "$build"' EXIT
jar=$(bash bindings/jni/build-jar.sh "$build/jar" | tail -1)
lib_dir="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/release"
echo "jar: $jar ($(du -k "$jar" | cut -f1) KiB)"
unzip -l "$jar" | grep -E 'natives/linux-[a-z0-9_]+/liblibsock_jni\.so$' || { echo "50-java: the jar has no native library"; exit 1; }
version=$(cargo pkgid -p libsock-jni | sed 's/.*[@#]//')
pom_version=$(sed -n '0,/<version>/s|.*<version>\(.*\)</version>.*|\1|p' bindings/jni/pom.xml)
[ "$pom_version" = "$version" ] || { echo "50-java: pom.xml says $pom_version, Cargo.toml $version"; exit 1; }
# The POM's model builds (offline: the validate phase needs no plugin; `mvn package` would fetch
# plugins from Maven Central, which these machines cannot reach).
if command -v mvn >/dev/null 2>&1; then
  timeout 120 mvn -o -q -B -f bindings/jni/pom.xml validate >"$build/mvn.log" 2>&1 \
    || { cat "$build/mvn.log"; echo "50-java: pom.xml does not validate"; exit 1; }
  echo "pom.xml: io.libsock:libsock:$pom_version validates"
fi
src=$(find bindings/jni/java/src -name '*.java')
javac -Xlint:all -cp "$jar" -d "$build/classes" $(find bindings/jni/java/test -name '*.java')
javac -Xlint:all -cp "$jar" -d "$build/examples" bindings/jni/java/examples/*.java
# Javadoc on every public class and method. (Its output goes to a file first: under pipefail,
# `javadoc | grep` is false when javadoc fails, so an error used to pass unnoticed.)
javadoc_rc=0
javadoc -Xdoclint:all -quiet -d "$build/javadoc" $src >"$build/javadoc.log" 2>&1 || javadoc_rc=$?
if [ "$javadoc_rc" -ne 0 ] || grep -E 'warning|error' "$build/javadoc.log"; then
  cat "$build/javadoc.log"; echo "50-java: javadoc is incomplete (exit $javadoc_rc)"; exit 1
fi

# A JVM that outlives this (the tests' own limits failed to end it) is killed: no hang in CI.
jvm() { timeout 1200 java -Xcheck:jni "$@"; }
export LS_BAD_INPUTS="$PWD/tests-data/bad_inputs.json"

echo "--- where the library is loaded from"
loader() { # expected-prefix java-options...
  local want=$1; shift
  local got
  got=$(jvm "$@" io.libsock.LoaderCheck) || { echo "50-java: LoaderCheck failed ($*)"; exit 1; }
  echo "$got"
  case "$got" in "loaded from $want"*", libsock $version") ;; *)
    echo "50-java: expected the library from '$want'"; exit 1 ;; esac
}
loader "jar:natives/linux-" -cp "$jar:$build/classes"
loader "java.library.path" -Djava.library.path="$lib_dir" -cp "$jar:$build/classes"
loader "property" -Dio.libsock.library="$lib_dir/liblibsock_jni.so" -cp "$jar:$build/classes"
# An explicit path that is wrong fails with that path's error; the jar's copy does not hide it.
if jvm -Dio.libsock.library=/nonexistent/liblibsock_jni.so -cp "$jar:$build/classes" io.libsock.LoaderCheck \
    >"$build/wrong.log" 2>&1; then
  echo "50-java: a wrong io.libsock.library was ignored"; exit 1
fi
grep -q "/nonexistent/liblibsock_jni.so" "$build/wrong.log" || { cat "$build/wrong.log"; exit 1; }

status=0
# The suite from the jar alone: no -Djava.library.path, no property.
jvm -cp "$jar:$build/classes" io.libsock.LibsockTest >"$build/test.log" 2>&1 || status=$?
cat "$build/test.log"
jvm -Djava.library.path="$lib_dir" -cp "$jar:$build/examples" Echo >"$build/example.log" 2>&1 || status=$?
cat "$build/example.log"
jvm -Dio.libsock.library="$lib_dir/liblibsock_jni.so" -cp "$jar:$build/examples" EngineEcho >"$build/engine-example.log" 2>&1 || status=$?
cat "$build/engine-example.log"
jvm -cp "$jar:$build/examples" TlsEcho >"$build/tls-example.log" 2>&1 || status=$?
cat "$build/tls-example.log"
jvm -cp "$jar:$build/examples" KcpEcho >"$build/kcp-example.log" 2>&1 || status=$?
cat "$build/kcp-example.log"

# S23 under loss: KcpCheck (both directions against the reference KCP, python-tests/peers/
# kcp_ref.py) in a network namespace whose loopback drops 10 %, then 30 %, of the UDP packets
# (nftables, as python-tests/test_kcp.py); the JVM runs inside it with `ip netns exec`.
kcp_loss() { # loss
  local ns="lsjava$$x$1"
  ip netns add "$ns" || return 1
  local rc=0
  { ip netns exec "$ns" ip link set lo up \
      && printf 'table inet libsock_loss {\n chain in {\n  type filter hook input priority 0; policy accept;\n  meta l4proto udp numgen random mod 100 < %d drop\n }\n}\n' "$1" \
        | ip netns exec "$ns" nft -f - \
      && ip netns exec "$ns" timeout 600 java -Xcheck:jni -cp "$jar:$build/classes" \
        io.libsock.KcpCheck 1000 "$1" >"$build/kcp$1.log" 2>&1; } || rc=$?
  ip netns del "$ns" || true
  cat "$build/kcp$1.log" 2>/dev/null || true
  grep -q '^KcpCheck: S23 KCP 1000 messages' "$build/kcp$1.log" 2>/dev/null || rc=1
  return "$rc"
}
touch "$build/kcp10.log" "$build/kcp30.log"   # (read by the JNI-warning check below)
if [ "$(id -u)" = 0 ] && command -v ip >/dev/null && command -v nft >/dev/null; then
  for loss in 10 30; do
    kcp_loss "$loss" || { echo "50-java: S23 at $loss % loss failed"; status=1; }
  done
else
  echo "50-java: S23 under loss needs root, ip and nft (CI has them); not run here"
fi

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
grep -q '^KcpEcho: ok$' "$build/kcp-example.log" || { echo "50-java: KCP example did not finish"; exit 1; }
# libsock's own warning for TlsClientConfig.dangerousNoVerify() (tested on purpose) is no JNI check.
if grep -n 'WARNING' "$build/test.log" "$build/example.log" "$build/engine-example.log" \
    "$build/tls-example.log" "$build/kcp-example.log" "$build"/kcp[0-9]*.log \
    | grep -v 'libsock: WARNING: TLS certificate verification is off'; then
  echo "50-java: -Xcheck:jni reported warnings"; exit 1
fi
echo "50-java: ok"
