"""The MATLAB door, without MATLAB: the .m files themselves run under Octave against libsock.so.

MATLAB is not on the CI machines. What stands in for it:

1. bindings/matlab/tools/check_header.py proves include/libsock.h holds only what loadlibrary
   accepts (tests below run it on the real header and on small bad headers), and that the
   generated +libsock/LS_*.m constants match the header.
2. Every calllib in the .m files names a function of the header with its argument count, and
   takes no more outputs than loadlibrary gives (the .m files parsed here).
3. Octave runs the classes of bindings/matlab/+libsock, unchanged, against libsock.so: the
   stand-ins for loadlibrary/calllib/libpointer in python-tests/matlab/octave call the library
   through a MEX gateway generated from the header. In one Octave session (profiled):
   tests/libsock_selftest.m (scenarios S01-S12 of docs/SCENARIOS.md), examples/echo_example.m,
   tests/libsock_engine_selftest.m (S13-S16), examples/server_example.m,
   tests/libsock_surface_selftest.m (the rest of the classes' surface) and
   tests/libsock_bad_inputs_selftest.m (the rows of tests-data/bad_inputs.json that list
   "octave"); the profile must show that every method that calls the library ran. The classes'
   pure helpers (byte conversion, timeouts, option and address parsing, ...) are checked
   against expected values in a second, short session.

MATLAB code runs on one thread, so the MATLAB door has no S17 (docs/SCENARIOS.md).

Without Octave (octave-cli and mkoctfile; .ci/install-deps installs them) the Octave tests are
skipped, except under CI (CI=true), where they fail: the .m files would not be run at all.

The file is self-contained (no conftest fixtures, no `import libsock`), so it runs both in the
MATLAB suite (.ci/suites/46-matlab.sh) and when the Python suite collects python-tests/.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import sys
from typing import Any, Iterator, Optional

import pytest

pytest.importorskip("pycparser")

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
MATLAB = os.path.join(ROOT, "bindings", "matlab")
PKG = os.path.join(MATLAB, "+libsock")
HEADER = os.path.join(ROOT, "include", "libsock.h")
SHIMS = os.path.join(HERE, "matlab", "octave")
sys.path.insert(0, os.path.join(MATLAB, "tools"))
sys.path.insert(0, HERE)  # _helpers, _proxies (danted for S24)

import check_header  # noqa: E402
import gen_matlab_constants  # noqa: E402

OCTAVE = [shutil.which("octave-cli") or "octave-cli", "--no-gui", "--norc", "--quiet", "--no-window-system"]


def need_octave() -> None:
    """Skip without Octave, or fail under CI (CI=true): there the .m files must run."""
    if shutil.which("octave-cli") and shutil.which("mkoctfile"):
        return
    why = "octave-cli/mkoctfile are not installed (.ci/install-deps installs them)"
    if os.environ.get("CI") == "true":
        pytest.fail(why + ": under CI the MATLAB door's .m files must run")
    pytest.skip(why)


# ------------------------------------------------------------------------------------------
# The library: build it (cargo is quick when nothing changed), skip only when it cannot be built.


def _build_library() -> str:
    given = os.environ.get("LIBSOCK_LIBRARY")  # as libsock.load() honours it in MATLAB
    if given:
        assert os.path.exists(given), f"LIBSOCK_LIBRARY={given} does not exist"
        return given
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    if not os.path.isabs(target):
        target = os.path.join(ROOT, target)
    so = os.path.join(target, "release", "libsock.so")
    cargo = shutil.which("cargo")
    if cargo is not None:
        r = subprocess.run(
            [cargo, "build", "-p", "libsock-c", "--release", "--quiet"],
            cwd=ROOT, capture_output=True, text=True, timeout=3600,
        )
        if r.returncode != 0:
            pytest.fail(f"cargo build -p libsock-c --release failed:\n{r.stderr[-4000:]}")
    elif not os.path.exists(so):
        pytest.skip("libsock.so cannot be built here: cargo is not installed and "
                    f"{so} does not exist")
    assert os.path.exists(so), f"cargo built libsock-c but {so} is missing"
    return so


# ------------------------------------------------------------------------------------------
# The header checker and the generated constants


def test_header_checker_accepts_libsock_h() -> None:
    assert check_header.main(["--header", HEADER]) == 0


def test_header_checker_self_test() -> None:
    assert check_header.self_test() == 0


@pytest.mark.parametrize("what", sorted(check_header.BAD_HEADERS))
def test_header_checker_rejects(what: str) -> None:
    problems = check_header.check_text(check_header.BAD_HEADERS[what])
    assert problems, f"the checker accepted a header with {what}"


def test_header_checker_rejects_stale_constant(tmp_path: Any) -> None:
    for f in os.listdir(PKG):
        if f.startswith("LS_"):
            shutil.copy(os.path.join(PKG, f), tmp_path / f)
    (tmp_path / "LS_ERR_TIMEOUT.m").write_text((tmp_path / "LS_ERR_TIMEOUT.m").read_text().replace("int32(-1)", "int32(-7)"))
    (tmp_path / "LS_GONE.m").write_text("function v = LS_GONE\nv = int32(1);\nend\n")
    os.remove(tmp_path / "LS_OPT_TTL.m")
    problems = check_header.check_constants(HEADER, str(tmp_path))
    text = "\n".join(problems)
    assert "LS_ERR_TIMEOUT" in text and "LS_GONE" in text and "LS_OPT_TTL" in text, text


def test_constants_match_header() -> None:
    """Every integer #define LS_* has +libsock/<NAME>.m returning the same int32, generated text
    up to date (gen_matlab_constants.py --check)."""
    want = gen_matlab_constants.expected(HEADER)
    have = {f for f in os.listdir(PKG) if f.startswith("LS_") and f.endswith(".m")}
    assert have == set(want)
    for fname, text in want.items():
        with open(os.path.join(PKG, fname), encoding="utf-8") as f:
            assert f.read() == text, f"{fname} is out of date: run gen_matlab_constants.py"
    assert check_header.check_constants(HEADER, PKG) == []
    values = check_header.header_constants(HEADER)
    assert values["LS_ERR_TIMEOUT"] == -1 and values["LS_ADDRESS_MAX"] == 256


# ------------------------------------------------------------------------------------------
# The calllib calls in the .m files


def _strip_matlab(text: str) -> str:
    """Remove % comments and join ... continuations, leaving strings alone."""
    out_lines: list[str] = []
    pending = ""
    for line in text.splitlines():
        res = []
        in_str: Optional[str] = None
        i = 0
        cont = False
        while i < len(line):
            c = line[i]
            if in_str:
                res.append(c)
                if c == in_str:
                    if i + 1 < len(line) and line[i + 1] == in_str:  # '' or "" escape
                        res.append(line[i + 1])
                        i += 1
                    else:
                        in_str = None
            elif c == "%":
                break
            elif line.startswith("...", i):
                cont = True
                break
            elif c == '"':
                in_str = c
                res.append(c)
            elif c == "'":
                prev = "".join(res).rstrip()[-1:] if "".join(res).strip() else ""
                if prev and (prev.isalnum() or prev in ")]}_.'"):
                    res.append(c)  # transpose
                else:
                    in_str = c
                    res.append(c)
            else:
                res.append(c)
            i += 1
        pending += "".join(res)
        if cont:
            pending += " "
            continue
        out_lines.append(pending)
        pending = ""
    if pending:
        out_lines.append(pending)
    return "\n".join(out_lines)


def _balanced(text: str, start: int) -> tuple[list[str], int]:
    """Arguments of the call whose '(' is at text[start]; returns (args, index after ')')."""
    depth = 0
    args: list[str] = []
    cur: list[str] = []
    in_str: Optional[str] = None
    i = start
    while i < len(text):
        c = text[i]
        if in_str:
            cur.append(c)
            if c == in_str:
                in_str = None
        elif c in "'\"":
            in_str = c
            cur.append(c)
        elif c in "([{":
            depth += 1
            if depth > 1:
                cur.append(c)
        elif c in ")]}":
            depth -= 1
            if depth == 0:
                args.append("".join(cur))
                return [_norm(a) for a in args if a.strip() or len(args) > 1], i + 1
            cur.append(c)
        elif c == "," and depth == 1:
            args.append("".join(cur))
            cur = []
        else:
            cur.append(c)
        i += 1
    raise ValueError("unbalanced parentheses")


def _norm(s: str) -> str:
    return re.sub(r"\s+", " ", s.strip())


def matlab_calls() -> dict[tuple[str, str], list[tuple[str, tuple[str, ...], Optional[int]]]]:
    """(file, method) -> [(calllib|libpointer, args, number of outputs taken)] from the .m files."""
    result: dict[tuple[str, str], list[tuple[str, tuple[str, ...], Optional[int]]]] = {}
    for fname in sorted(os.listdir(PKG)):
        if not fname.endswith(".m") or fname.startswith("LS_"):
            continue
        with open(os.path.join(PKG, fname), encoding="utf-8") as f:
            text = _strip_matlab(f.read())
        chunks = re.split(r"(?m)^(?=\s*function\b)", text)
        for chunk in chunks:
            m = re.match(r"\s*function\s+(?:\[[^\]]*\]\s*=\s*|\w+\s*=\s*)?([\w.]+)", chunk)
            if not m:
                continue
            calls = []
            for cm in re.finditer(r"\b(calllib|libpointer)\s*\(", chunk):
                args, _ = _balanced(chunk, cm.end() - 1)
                nout: Optional[int] = None
                if cm.group(1) == "calllib":
                    line_start = chunk.rfind("\n", 0, cm.start()) + 1
                    prefix = chunk[line_start:cm.start()]
                    lm = re.fullmatch(r"\s*\[([^\]]*)\]\s*=\s*", prefix)
                    if lm:
                        nout = len(lm.group(1).split(","))
                    elif re.fullmatch(r"\s*[\w.]+\s*=\s*", prefix):
                        nout = 1
                    elif prefix.strip() == "":
                        nout = 0
                    else:
                        nout = 1  # nested in an expression: the first output
                calls.append((cm.group(1), tuple(args), nout))
            if calls:
                result[(fname, m.group(1))] = calls
    return result


def test_matlab_calls_fit_the_header() -> None:
    """Every calllib in the .m files names an exported function with the right argument count;
    libpointer types and multi-output captures are ones loadlibrary gives that function."""
    checker = check_header.Checker(HEADER)
    assert checker.check() == []
    protos = {f.name: f for f in checker.functions}
    n = 0
    for (fname, method), calls in matlab_calls().items():
        for kind, args, nout in calls:
            if kind == "libpointer":
                assert args[0] in {"'int32Ptr'", "'uint8Ptr'", "libsock.ptrtype('int64')", "libsock.ptrtype('size')",
                                   "libsock.ptrtype('uint64')"}, (fname, method, args)
                continue
            n += 1
            assert args[0] == "'libsock'", (fname, method, args)
            name = args[1].strip("'")
            assert name in protos, f"{fname} {method}: {name} is not in libsock.h"
            fn = protos[name]
            assert len(args) - 2 == len(fn.params), f"{fname} {method}: {name} takes {len(fn.params)} arguments"
            outputs = 1 + sum(1 for t, _ in fn.params if "*" in t and "const" not in t)
            assert nout is not None and nout <= outputs, f"{fname} {method}: {name} gives {outputs} outputs"
            if nout > 1:
                # Positional outputs are only used where no const pointer could shift them.
                assert not any("*" in t and "const" in t for t, _ in fn.params), (fname, method, name)
    assert n >= 30


def test_help_text_on_every_class_and_method() -> None:
    """Each .m file starts with help text, and every public method has a help comment."""
    for fname in sorted(os.listdir(PKG)):
        if not fname.endswith(".m"):
            continue
        with open(os.path.join(PKG, fname), encoding="utf-8") as f:
            lines = f.read().splitlines()
        assert lines[1].lstrip().startswith("%"), f"{fname}: no help text after the first line"
        for i, line in enumerate(lines):
            m = re.match(r"\s*function\s+(?:\[[^\]]*\]\s*=\s*|\w+\s*=\s*)?([\w.]+)", line)
            if not m or i == 0 or "." in m.group(1):
                continue  # the file's own function, or a property accessor (documented with the property)
            assert lines[i + 1].lstrip().startswith("%"), f"{fname}: {m.group(1)} has no help comment"


# ------------------------------------------------------------------------------------------
# Octave runs the .m files


def _octave_gateway(lib: str, tmp_path: Any) -> dict:
    """Build the MEX gateway generated from the header into tmp_path; the environment that
    runs Octave with the loadlibrary/calllib stand-ins over it."""
    need_octave()
    mkoct = shutil.which("mkoctfile")
    assert mkoct is not None
    libdir = tmp_path / "lib"
    libdir.mkdir()
    for name in ("libsock.so", "libsock.so.0"):  # the SONAME carries the ABI version
        os.symlink(os.path.abspath(lib), libdir / name)
    subprocess.run([sys.executable, os.path.join(SHIMS, "gen_octave_calllib.py"), str(tmp_path)], check=True)
    r = subprocess.run(
        [mkoct, "--mex", f"-I{os.path.join(ROOT, 'include')}", "libsock_mex.c",
         f"-L{libdir}", "-lsock", f"-Wl,-rpath,{libdir}"],
        cwd=tmp_path, capture_output=True, text=True, timeout=600,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    return {**os.environ, "LIBSOCK_LIBRARY": os.path.abspath(lib), "OCTAVE_PATH": f"{SHIMS}:{tmp_path}"}



SESSION = r"""
addpath('{matlab}'); addpath('{tests}'); addpath('{examples}'); warning('off', 'all');
printf('libsock-version=%s\n', char(libsock.version()));
profile on;
f = libsock_selftest({mb});
run('{examples}/echo_example.m');
f = f + libsock_engine_selftest({clients}, 100);
server_example(false);
f = f + libsock_surface_selftest();
f = f + libsock_bad_inputs_selftest('{table}');
f = f + libsock_tls_selftest();
f = f + libsock_parity_selftest();
f = f + libsock_xfer_selftest('{proxy}', {denied});
f = f + libsock_kcp_selftest('{python}', '{kcp_peer}', 0);
profile off;
info = profile('info');
names = {{info.FunctionTable.FunctionName}};
for k = 1:numel(names)
  printf('ran: %s\n', names{{k}});
end
exit(f > 0);
"""


KCP_PEER = os.path.join(HERE, "peers", "kcp_ref.py")


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: Any) -> tuple[Any, dict]:
    """The library built and the MEX gateway over it: (its folder, Octave's environment)."""
    need_octave()
    lib = _build_library()
    tmp = tmp_path_factory.mktemp("octave")
    return tmp, _octave_gateway(lib, tmp)


@pytest.fixture(scope="module")
def octave_session(gateway: tuple[Any, dict]) -> Iterator[tuple[str, int, set]]:
    """One Octave session running every self-test and example, profiled; (its output, its
    exit status, the functions that ran)."""
    tmp, env = gateway
    with contextlib.ExitStack() as stack:
        # S24's proxy: dante's danted (python-tests/_proxies.py, as the Python and C tests run
        # it), refusing one port by a rule. Without danted (outside CI) S24 fails alone.
        proxy, denied = "", 0
        if os.environ.get("CI") == "true" or shutil.which("danted") or os.path.exists("/usr/sbin/danted"):
            from _helpers import free_port
            from _proxies import dante

            denied = free_port()
            proxy = stack.enter_context(dante(denied)).url("socks5")
        code = SESSION.format(matlab=MATLAB, tests=os.path.join(MATLAB, "tests"), examples=os.path.join(MATLAB, "examples"),
                              mb=os.environ.get("LS_TEST_S04_MB", "64"),
                              clients=os.environ.get("LS_TEST_S13_CLIENTS", "50"),
                              table=os.path.join(ROOT, "tests-data", "bad_inputs.json"),
                              proxy=proxy, denied=denied, python=sys.executable, kcp_peer=KCP_PEER)
        r = subprocess.run([*OCTAVE, "--eval", code], cwd=tmp, capture_output=True, text=True,
                           timeout=1500, env=env)
    ran = {line[5:].strip() for line in r.stdout.splitlines() if line.startswith("ran: ")}
    out = "\n".join(line for line in r.stdout.splitlines() if not line.startswith("ran: "))
    print(out)
    yield out + "\n" + r.stderr, r.returncode, ran


def summary(out: str, prefix: str) -> tuple[int, int]:
    m = re.search(rf"^{prefix}: (\d+) passed, (\d+) failed$", out, re.M)
    assert m, f"no '{prefix}: N passed, M failed' line:\n{out}"
    return int(m.group(1)), int(m.group(2))


@pytest.mark.timeout(1600)  # the first test of the session: its setup runs every self-test
def test_octave_runs_the_matlab_classes_s01_s12(octave_session: tuple[str, int, set]) -> None:
    """tests/libsock_selftest.m (S01-S12, libsock on both ends) and examples/echo_example.m.
    Octave has no string class, hence the classes compare text with strcmp; MATLAB-only lines
    (MException, throwAsCaller) are not run here."""
    out, _, _ = octave_session
    assert summary(out, "matlab-selftest") == (12, 0), out
    assert "echo_example: ok" in out, out


def test_octave_runs_the_engine_classes_s13_s16(octave_session: tuple[str, int, set]) -> None:
    """tests/libsock_engine_selftest.m (S13 with 50 libsock.TcpClient clients x 100 messages,
    S14 broadcast to 50, S15 reconnect, S16 heartbeat, EngineConfig, DatagramServer,
    shutdownEngine) and examples/server_example.m (the timer callback called from a loop:
    Octave has no timer)."""
    out, _, _ = octave_session
    passed, failed = summary(out, "matlab-engine-selftest")
    assert passed >= 7 and failed == 0, out
    assert "server_example: ok" in out, out


def test_octave_runs_the_class_surface(octave_session: tuple[str, int, set]) -> None:
    """tests/libsock_surface_selftest.m: flush and framings, multicast, datatypes in both byte
    orders, misuse, EngineConfig, the engine's checks and its queue-full warning, large
    messages, clientAddress, DatagramServer, delete and unload."""
    out, _, _ = octave_session
    passed, failed = summary(out, "matlab-surface-selftest")
    assert passed >= 11 and failed == 0, out


def test_octave_runs_the_bad_input_table(octave_session: tuple[str, int, set]) -> None:
    """The rows of the bad-input catalogue (tests-data/bad_inputs.json) that list "octave",
    through the MATLAB classes: tests/libsock_bad_inputs_selftest.m (malformed addresses, absurd
    framings and engine settings, a message over max_len; each must end in its documented
    libsock:* error, pending rows reported without failing)."""
    out, rc, _ = octave_session
    assert re.search(r"matlab-bad-inputs: [1-9]\d* rows tried, \d+ ended in their documented outcome, "
                     r"\d+ pending \(another kind, defect still open\), 0 wrong", out), out
    assert rc == 0, out


def test_octave_runs_the_tls_selftest_s18_s21(octave_session: tuple[str, int, set]) -> None:
    """tests/libsock_tls_selftest.m: S18 (CA trust, the name checked, 1 MiB echo, a wrong name),
    S19 (a pinned self-signed certificate; a wrong pin on both sides), S20 (mutual TLS with and
    without a client certificate), S21 (a plaintext client, a silent server), TlsConfig's
    checks and SNI, with certificates from openssl and libsock.selfSigned."""
    out, _, _ = octave_session
    assert summary(out, "matlab-tls-selftest") == (5, 0), out


def test_octave_runs_the_parity_selftest(octave_session: tuple[str, int, set]) -> None:
    """tests/libsock_parity_selftest.m: what issue 16 asked of the MATLAB door without new C
    functions: the length framing's Offset/HeaderLen/Adjustment/KeepHeader (on a connection and
    on an engine config), sendMsgs/recvMsgs, Server.sendMany, sendFile/recvFile,
    Udp.leaveMulticast; and from the C ABI's new calls: Server/Client.sendBatch,
    Server.clientStats, Udp.setMulticastInterface."""
    out, _, _ = octave_session
    assert summary(out, "matlab-parity-selftest") == (7, 0), out


def test_octave_runs_the_xfer_selftest_s22_s24(octave_session: tuple[str, int, set]) -> None:
    """tests/libsock_xfer_selftest.m: S22 (50 MB sent step by step by libsock.FileTransfer to a
    receiver in a second Octave process, tests/libsock_transfer_peer.m, broken in the middle and
    resumed; SHA-256 of both ends and of the file equal to sha256sum's; no partial file under
    the final name), FileTransfer's errors, and S24 through danted (started above): an echo to
    a name the proxy resolves, a rule's refusal, a closed target, the engine client."""
    out, _, _ = octave_session
    assert summary(out, "matlab-xfer-selftest") == (3, 0), out


@pytest.mark.timeout(1600)
def test_octave_runs_the_kcp_selftest_s23(octave_session: tuple[str, int, set]) -> None:
    """tests/libsock_kcp_selftest.m without loss: S23 both ways against the reference KCP
    implementation (python-tests/peers/kcp_ref.py serve and client: ikcp.c from the PyPI
    package kcp), 1,000 messages each, and the KCP classes' surface (libsock on both ends)."""
    out, _, _ = octave_session
    assert summary(out, "matlab-kcp-selftest") == (3, 0), out


LOSS_RULES = """
table inet libsock_loss {
    chain in {
        type filter hook input priority 0; policy accept;
        meta l4proto udp numgen random mod 100 < %d drop
    }
}
"""


@pytest.mark.timeout(900)
@pytest.mark.parametrize("loss", [10, 30])
def test_octave_s23_kcp_under_loss(gateway: tuple[Any, dict], loss: int) -> None:
    """S23 under loss: tests/libsock_kcp_selftest.m and the reference KCP peers run in a
    network namespace whose loopback drops `loss` % of the UDP packets that arrive (nftables,
    as python-tests/test_kcp.py does for Python); every message intact, once, in order, and
    retransmits counted. Needs root (skipped otherwise, failed under CI as root)."""
    from _reliability import netns_unavailable, skip_or_fail

    why = netns_unavailable()
    if why:
        skip_or_fail(why)
    tmp, env = gateway
    name = f"lsmkcp{os.getpid()}x{loss}"
    subprocess.run(["ip", "netns", "add", name], check=True, timeout=30)
    try:
        ns = ["ip", "netns", "exec", name]
        subprocess.run([*ns, "ip", "link", "set", "lo", "up"], check=True, timeout=30)
        subprocess.run([*ns, "nft", "-f", "-"], check=True, input=(LOSS_RULES % loss).encode(), timeout=30)
        code = (f"addpath('{MATLAB}'); addpath('{os.path.join(MATLAB, 'tests')}'); warning('off', 'all'); "
                f"f = libsock_kcp_selftest('{sys.executable}', '{KCP_PEER}', {loss}); exit(f > 0);")
        r = subprocess.run([*ns, *OCTAVE, "--eval", code], cwd=tmp, capture_output=True, text=True,
                           timeout=800, env=env)
    finally:
        subprocess.run(["ip", "netns", "del", name], capture_output=True, timeout=30)
    print(r.stdout, r.stderr[-3000:])
    assert summary(r.stdout, "matlab-kcp-selftest") == (2, 0), r.stdout + r.stderr[-3000:]
    assert r.returncode == 0, r.stdout + r.stderr[-3000:]


def test_octave_ran_every_method_that_calls_the_library(octave_session: tuple[str, int, set]) -> None:
    """The session's profile lists every function that ran: each method of the .m files that
    calls calllib or libpointer must be among them (a class method as @libsock.Class/method,
    a constructor as @Class, a package function by its name)."""
    out, _, ran = octave_session
    assert ran, out
    missing = []
    for fname, method in sorted(matlab_calls()):
        cls = fname[:-2]
        with open(os.path.join(PKG, fname), encoding="utf-8") as f:
            is_class = f.read().lstrip().startswith("classdef")
        if not is_class:
            name = cls
        elif method == cls:
            name = "@" + cls
        else:
            name = f"@libsock.{cls}/{method}"
        if name not in ran:
            missing.append(f"{fname} {method}")
    assert not missing, "methods that call the library but no Octave self-test runs:\n  " + "\n  ".join(missing)


def test_octave_library_version_is_the_crates(octave_session: tuple[str, int, set]) -> None:
    out, _, _ = octave_session
    with open(os.path.join(ROOT, "Cargo.toml"), encoding="utf-8") as f:
        m = re.search(r'(?m)^version\s*=\s*"([^"]+)"', f.read())
    assert m and f"libsock-version={m.group(1)}" in out, out


# ------------------------------------------------------------------------------------------
# The classes' pure helpers, run by Octave from the .m files: each expression and the value it
# must give (class|values, or error|identifier).

HELPER_CASES: list[tuple[str, str]] = [
    ("libsock.Socket.toBytes([1 -2 300 65536.5 -0.5 2.5], 'uint8', 'little-endian')", 'uint8|1 0 255 255 0 3 '),
    ("libsock.Socket.fromBytes(uint8([1 2 3 4 5 6 7 8 9 250 251 252 253 254 255 0 17]), 'uint8', 'little-endian')", 'uint8|1 2 3 4 5 6 7 8 9 250 251 252 253 254 255 0 17 '),
    ("libsock.Socket.toBytes([1 -2 300 65536.5 -0.5 2.5], 'uint8', 'big-endian')", 'uint8|1 0 255 255 0 3 '),
    ("libsock.Socket.fromBytes(uint8([1 2 3 4 5 6 7 8 9 250 251 252 253 254 255 0 17]), 'uint8', 'big-endian')", 'uint8|1 2 3 4 5 6 7 8 9 250 251 252 253 254 255 0 17 '),
    ("libsock.Socket.toBytes([1 -2 300 65536.5 -0.5 2.5], 'int8', 'little-endian')", 'uint8|1 254 127 127 255 3 '),
    ("libsock.Socket.fromBytes(uint8([1 2 3 4 5 6 7 8 9 250 251 252 253 254 255 0 17]), 'int8', 'little-endian')", 'int8|1 2 3 4 5 6 7 8 9 -6 -5 -4 -3 -2 -1 0 17 '),
    ("libsock.Socket.toBytes([1 -2 300 65536.5 -0.5 2.5], 'int8', 'big-endian')", 'uint8|1 254 127 127 255 3 '),
    ("libsock.Socket.fromBytes(uint8([1 2 3 4 5 6 7 8 9 250 251 252 253 254 255 0 17]), 'int8', 'big-endian')", 'int8|1 2 3 4 5 6 7 8 9 -6 -5 -4 -3 -2 -1 0 17 '),
    ("libsock.Socket.toBytes([1 -2 300 65536.5 -0.5 2.5], 'uint16', 'little-endian')", 'uint8|1 0 0 0 44 1 255 255 0 0 3 0 '),
    ("libsock.Socket.fromBytes(uint8([1 2 3 4 5 6 7 8 9 250 251 252 253 254 255 0 17]), 'uint16', 'little-endian')", 'uint16|513 1027 1541 2055 64009 64763 65277 255 '),
    ("libsock.Socket.toBytes([1 -2 300 65536.5 -0.5 2.5], 'uint16', 'big-endian')", 'uint8|0 1 0 0 1 44 255 255 0 0 0 3 '),
    ("libsock.Socket.fromBytes(uint8([1 2 3 4 5 6 7 8 9 250 251 252 253 254 255 0 17]), 'uint16', 'big-endian')", 'uint16|258 772 1286 1800 2554 64508 65022 65280 '),
    ("libsock.Socket.toBytes([1 -2 300 65536.5 -0.5 2.5], 'int16', 'little-endian')", 'uint8|1 0 254 255 44 1 255 127 255 255 3 0 '),
    ("libsock.Socket.fromBytes(uint8([1 2 3 4 5 6 7 8 9 250 251 252 253 254 255 0 17]), 'int16', 'little-endian')", 'int16|513 1027 1541 2055 -1527 -773 -259 255 '),
    ("libsock.Socket.toBytes([1 -2 300 65536.5 -0.5 2.5], 'int16', 'big-endian')", 'uint8|0 1 255 254 1 44 127 255 255 255 0 3 '),
    ("libsock.Socket.fromBytes(uint8([1 2 3 4 5 6 7 8 9 250 251 252 253 254 255 0 17]), 'int16', 'big-endian')", 'int16|258 772 1286 1800 2554 -1028 -514 -256 '),
    ("libsock.Socket.toBytes([1 -2 300 65536.5 -0.5 2.5], 'uint32', 'little-endian')", 'uint8|1 0 0 0 0 0 0 0 44 1 0 0 1 0 1 0 0 0 0 0 3 0 0 0 '),
    ("libsock.Socket.fromBytes(uint8([1 2 3 4 5 6 7 8 9 250 251 252 253 254 255 0 17]), 'uint32', 'little-endian')", 'uint32|67305985 134678021 4244371977 16776957 '),
    ("libsock.Socket.toBytes([1 -2 300 65536.5 -0.5 2.5], 'uint32', 'big-endian')", 'uint8|0 0 0 1 0 0 0 0 0 0 1 44 0 1 0 1 0 0 0 0 0 0 0 3 '),
    ("libsock.Socket.fromBytes(uint8([1 2 3 4 5 6 7 8 9 250 251 252 253 254 255 0 17]), 'uint32', 'big-endian')", 'uint32|16909060 84281096 167443452 4261347072 '),
    ("libsock.Socket.toBytes([1 -2 300 65536.5 -0.5 2.5], 'int32', 'little-endian')", 'uint8|1 0 0 0 254 255 255 255 44 1 0 0 1 0 1 0 255 255 255 255 3 0 0 0 '),
    ("libsock.Socket.fromBytes(uint8([1 2 3 4 5 6 7 8 9 250 251 252 253 254 255 0 17]), 'int32', 'little-endian')", 'int32|67305985 134678021 -50595319 16776957 '),
    ("libsock.Socket.toBytes([1 -2 300 65536.5 -0.5 2.5], 'int32', 'big-endian')", 'uint8|0 0 0 1 255 255 255 254 0 0 1 44 0 1 0 1 255 255 255 255 0 0 0 3 '),
    ("libsock.Socket.fromBytes(uint8([1 2 3 4 5 6 7 8 9 250 251 252 253 254 255 0 17]), 'int32', 'big-endian')", 'int32|16909060 84281096 167443452 -33620224 '),
    ("libsock.Socket.toBytes([1 -2 300 65536.5 -0.5 2.5], 'uint64', 'little-endian')", 'uint8|1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 44 1 0 0 0 0 0 0 1 0 1 0 0 0 0 0 0 0 0 0 0 0 0 0 3 0 0 0 0 0 0 0 '),
    ("libsock.Socket.fromBytes(uint8([1 2 3 4 5 6 7 8 9 250 251 252 253 254 255 0 17]), 'uint64', 'little-endian')", 'uint64|5.784376957523072e+17 72056485885770248 '),
    ("libsock.Socket.toBytes([1 -2 300 65536.5 -0.5 2.5], 'uint64', 'big-endian')", 'uint8|0 0 0 0 0 0 0 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 1 44 0 0 0 0 0 1 0 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 3 '),
    ("libsock.Socket.fromBytes(uint8([1 2 3 4 5 6 7 8 9 250 251 252 253 254 255 0 17]), 'uint64', 'big-endian')", 'uint64|72623859790382848 7.1916415453069286e+17 '),
    ("libsock.Socket.toBytes([1 -2 300 65536.5 -0.5 2.5], 'int64', 'little-endian')", 'uint8|1 0 0 0 0 0 0 0 254 255 255 255 255 255 255 255 44 1 0 0 0 0 0 0 1 0 1 0 0 0 0 0 255 255 255 255 255 255 255 255 3 0 0 0 0 0 0 0 '),
    ("libsock.Socket.fromBytes(uint8([1 2 3 4 5 6 7 8 9 250 251 252 253 254 255 0 17]), 'int64', 'little-endian')", 'int64|5.784376957523072e+17 72056485885770248 '),
    ("libsock.Socket.toBytes([1 -2 300 65536.5 -0.5 2.5], 'int64', 'big-endian')", 'uint8|0 0 0 0 0 0 0 1 255 255 255 255 255 255 255 254 0 0 0 0 0 0 1 44 0 0 0 0 0 1 0 1 255 255 255 255 255 255 255 255 0 0 0 0 0 0 0 3 '),
    ("libsock.Socket.fromBytes(uint8([1 2 3 4 5 6 7 8 9 250 251 252 253 254 255 0 17]), 'int64', 'big-endian')", 'int64|72623859790382848 7.1916415453069286e+17 '),
    ("libsock.Socket.toBytes([1 -2 300 65536.5 -0.5 2.5], 'single', 'little-endian')", 'uint8|0 0 128 63 0 0 0 192 0 0 150 67 64 0 128 71 0 0 0 191 0 0 32 64 '),
    ("libsock.Socket.fromBytes(uint8([1 2 3 4 5 6 7 8 9 250 251 252 253 254 255 0 17]), 'single', 'little-endian')", 'single|1.5399896144395581e-36 4.0632160689397229e-34 -1.0466702615572938e+37 2.350952408014349e-38 '),
    ("libsock.Socket.toBytes([1 -2 300 65536.5 -0.5 2.5], 'single', 'big-endian')", 'uint8|63 128 0 0 192 0 0 0 67 150 0 0 71 128 0 64 191 0 0 0 64 32 0 0 '),
    ("libsock.Socket.fromBytes(uint8([1 2 3 4 5 6 7 8 9 250 251 252 253 254 255 0 17]), 'single', 'big-endian')", 'single|2.3879392605906633e-38 6.3019411570721828e-36 6.0422275729547508e-33 -4.2368493328536877e+37 '),
    ("libsock.Socket.toBytes([1 -2 300 65536.5 -0.5 2.5], 'double', 'little-endian')", 'uint8|0 0 0 0 0 0 240 63 0 0 0 0 0 0 0 192 0 0 0 0 0 192 114 64 0 0 0 0 8 0 240 64 0 0 0 0 0 0 224 191 0 0 0 0 0 0 4 64 '),
    ("libsock.Socket.fromBytes(uint8([1 2 3 4 5 6 7 8 9 250 251 252 253 254 255 0 17]), 'double', 'little-endian')", 'double|5.447603722011605e-270 7.2902249957014319e-304 '),
    ("libsock.Socket.toBytes([1 -2 300 65536.5 -0.5 2.5], 'double', 'big-endian')", 'uint8|63 240 0 0 0 0 0 0 192 0 0 0 0 0 0 0 64 114 192 0 0 0 0 0 64 240 0 8 0 0 0 0 191 224 0 0 0 0 0 0 64 4 0 0 0 0 0 0 '),
    ("libsock.Socket.fromBytes(uint8([1 2 3 4 5 6 7 8 9 250 251 252 253 254 255 0 17]), 'double', 'big-endian')", 'double|8.2078803991318393e-304 1.3711197563158425e-260 '),
    ("libsock.Socket.toBytes('hello', 'char', 'big-endian')", 'uint8|104 101 108 108 111 '),
    ("libsock.Socket.toBytes([104 105], 'string', 'little-endian')", 'uint8|104 105 '),
    ("libsock.Socket.fromBytes(uint8([104 105 33]), 'char', 'big-endian')", 'char|hi!'),
    ("libsock.Socket.fromBytes(zeros(1, 0, 'uint8'), 'int32', 'little-endian')", 'int32|'),
    ('libsock.Socket.toMs(0.2)', 'double|200 '),
    ('libsock.Socket.toMs(0.0005)', 'double|1 '),
    ('libsock.Socket.toMs(Inf)', 'double|-1 '),
    ('libsock.Socket.toMs([])', 'double|-1 '),
    ('libsock.Socket.toMs(1e9)', 'double|2147483647 '),
    ('libsock.Socket.fromMs(int32(-1))', 'double|inf '),
    ('libsock.Socket.fromMs(int32(1500))', 'double|1.5 '),
    ("libsock.Socket.datatypeSize('Double')", 'double|8 '),
    ('libsock.Socket.textBytes([13 10])', 'uint8|13 10 '),
    ('libsock.Socket.textBytes(char([13 10]))', 'uint8|13 10 '),
    ("libsock.Socket.optionCode('nodelay')", 'double|1 '),
    ("libsock.Socket.optionCode('ReceiveBufferSize')", 'double|7 '),
    ("libsock.Socket.optionCode('RecvBufferSize')", 'double|7 '),
    ("libsock.Socket.optionCode('tcp_user_timeout')", 'double|17 '),
    ('libsock.Socket.optionCode(7)', 'double|7 '),
    ("libsock.Socket.formatAddress('127.0.0.1', 5000)", 'char|127.0.0.1:5000'),
    ("libsock.Socket.formatAddress('::1', 80)", 'char|[::1]:80'),
    ("libsock.Socket.formatAddress('[::1]', 80)", 'char|[::1]:80'),
    ("libsock.Socket.formatAddress('unix:/tmp/x.sock', [])", 'char|unix:/tmp/x.sock'),
    ("libsock.Socket.formatAddress('localhost:7')", 'char|localhost:7'),
    ("libsock.Socket.errorIdentifier('CONNECTION_REFUSED')", 'char|libsock:connectionRefused'),
    ("libsock.Socket.errorIdentifier('TIMEOUT')", 'char|libsock:timeout'),
    ("libsock.Socket.errorIdentifier('ADDR_NOT_AVAILABLE')", 'char|libsock:addrNotAvailable'),
    ('libsock.Socket.optArg({[], 5}, 1, 9)', 'double|9 '),
    ('libsock.Socket.optArg({[], 5}, 2, 9)', 'double|5 '),
    ("libsock.Socket.optArg({}, 3, 'x')", 'char|x'),
    ("libsock.TcpClient.terminatorBytes('cr/lf')", 'uint8|13 10 '),
    ("libsock.TcpClient.terminatorBytes('LF')", 'uint8|10 '),
    ('libsock.TcpClient.terminatorBytes(0)', 'uint8|0 '),
    ("libsock.TcpClient.normalizeTerminator('cr')", 'char|CR'),
    ("nth(1, @() libsock.TcpClient.splitAddress('127.0.0.1:5000'))", 'char|127.0.0.1'),
    ("nth(2, @() libsock.TcpClient.splitAddress('127.0.0.1:5000'))", 'double|5000 '),
    ("nth(1, @() libsock.TcpClient.splitAddress('[::1]:80'))", 'char|::1'),
    ("nth(2, @() libsock.TcpClient.splitAddress('[::1]:80'))", 'double|80 '),
    ("nth(1, @() libsock.TcpClient.splitAddress('unix:/tmp/a'))", 'char|unix:/tmp/a'),
    ('libsock.EngineObject.kindName(int32(0))', 'char|event0'),
    ('libsock.EngineObject.kindName(int32(1))', 'char|connected'),
    ('libsock.EngineObject.kindName(int32(2))', 'char|message'),
    ('libsock.EngineObject.kindName(int32(3))', 'char|disconnected'),
    ('libsock.EngineObject.kindName(int32(4))', 'char|reconnecting'),
    ('libsock.EngineObject.kindName(int32(5))', 'char|datagram'),
    ('libsock.EngineObject.kindName(int32(6))', 'char|closed'),
    ('libsock.EngineObject.kindName(int32(7))', 'char|warning'),
    ('libsock.EngineObject.kindName(int32(8))', 'char|event8'),
    ('libsock.EngineObject.reasonName(int64(0))', 'char|reason0'),
    ('libsock.EngineObject.reasonName(int64(1))', 'char|peer-closed'),
    ('libsock.EngineObject.reasonName(int64(2))', 'char|reset'),
    ('libsock.EngineObject.reasonName(int64(3))', 'char|idle-timeout'),
    ('libsock.EngineObject.reasonName(int64(4))', 'char|heartbeat-lost'),
    ('libsock.EngineObject.reasonName(int64(5))', 'char|frame-too-large'),
    ('libsock.EngineObject.reasonName(int64(6))', 'char|kicked'),
    ('libsock.EngineObject.reasonName(int64(7))', 'char|server-shutdown'),
    ('libsock.EngineObject.reasonName(int64(8))', 'char|error'),
    ('libsock.EngineObject.reasonName(int64(9))', 'char|send-queue-full'),
    ('libsock.EngineObject.reasonName(int64(10))', 'char|closed'),
    ('libsock.EngineObject.reasonName(int64(11))', 'char|tls'),
    ('libsock.EngineObject.reasonName(int64(12))', 'char|reason12'),
    ("libsock.Server.defaultType('x')", 'char|char'),
    ('libsock.Server.defaultType(1:3)', 'char|uint8'),
    ("libsock.Socket.datatypeSize('float128')", 'error|libsock:invalidArgument'),
    ('libsock.Socket.toMs(-1)', 'error|libsock:invalidArgument'),
    ("libsock.Socket.optionCode('Nope')", 'error|libsock:invalidArgument'),
    ("libsock.TcpClient.terminatorBytes('XX')", 'error|libsock:invalidArgument'),
    ('libsock.TcpClient.terminatorBytes(300)', 'error|libsock:invalidArgument'),
]

OCTAVE_SCRIPT = r"""
function out = fmt(x)
  if ischar(x)
    out = ['char|' x];
  elseif islogical(x)
    out = ['logical|' sprintf('%d ', x)];
  else
    out = [class(x) '|' sprintf('%.17g ', double(x))];
  end
end
function v = nth(k, f)
  [a, b] = f();
  if k == 1, v = a; else, v = b; end
end
"""




def test_octave_runs_the_helper_methods(tmp_path: Any) -> None:
    need_octave()
    lines = [OCTAVE_SCRIPT]
    for k, (expr, _) in enumerate(HELPER_CASES):
        lines.append(f"try, r = {expr}; printf('%s=%s\\n', 'c{k}', fmt(r)); "
                     f"catch e, printf('%s=error|%s\\n', 'c{k}', e.identifier); end")
    script = tmp_path / "helpers.m"
    script.write_text("1;\n" + "\n".join(lines) + "\n")
    r = subprocess.run([*OCTAVE, str(script)], cwd=MATLAB, capture_output=True, text=True,
                       timeout=300, env={**os.environ, "OCTAVE_PATH": SHIMS})
    got = dict(line.split("=", 1) for line in r.stdout.splitlines() if re.match(r"c\d+=", line))
    assert len(got) == len(HELPER_CASES), r.stdout + r.stderr
    bad = [f"{expr}\n  octave: {got[f'c{k}']}\n  expected: {want}"
           for k, (expr, want) in enumerate(HELPER_CASES)
           if got[f"c{k}"].strip().lower() != want.strip().lower()]
    assert not bad, "\n".join(bad)


# ------------------------------------------------------------------------------------------
# The toolbox layout (bindings/matlab/tools/make_toolbox.sh) and README-MATLAB's install example


def test_octave_runs_the_readme_example_from_the_toolbox(tmp_path: Any) -> None:
    """make_toolbox.sh lays out +libsock, lib/glnxa64/libsock.so and include/libsock.h; with only
    that folder on the path (no LIBSOCK_LIBRARY, no source tree around it), Octave runs
    README-MATLAB's toolbox example, and libsock.load() took the library and the header from
    the toolbox."""
    need_octave()
    _build_library()
    r = subprocess.run(["bash", os.path.join(MATLAB, "tools", "make_toolbox.sh"), str(tmp_path / "out")],
                       cwd=ROOT, capture_output=True, text=True, timeout=1800)
    assert r.returncode == 0, r.stdout + r.stderr
    tbx = r.stdout.strip().splitlines()[-1]
    lib = os.path.join(tbx, "lib", "glnxa64", "libsock.so")
    header = os.path.join(tbx, "include", "libsock.h")
    for f in (lib, header, os.path.join(tbx, "+libsock", "load.m"), os.path.join(tbx, "README-MATLAB.md")):
        assert os.path.isfile(f), f"the toolbox lacks {f}"
    gateway = tmp_path / "gateway"
    gateway.mkdir()
    env = _octave_gateway(lib, gateway)  # the stand-in calls go to the toolbox's own copy
    for var in ("LIBSOCK_LIBRARY", "LIBSOCK_HEADER"):
        env.pop(var, None)
    readme = open(os.path.join(MATLAB, "README-MATLAB.md"), encoding="utf-8").read()
    section = readme[readme.index("### Install the toolbox"):readme.index("### From a source checkout")]
    blocks = re.findall(r"```matlab\n(.*?)```", section, re.S)
    assert len(blocks) == 1, "README-MATLAB's toolbox section lost its example"
    code = blocks[0]
    assert 'addpath("libsock-matlab")' in code
    code = code.replace('addpath("libsock-matlab")', "addpath('%s')" % tbx)
    code += "\n[~, from] = libsock_octave_state(); printf('loaded-from=%s|%s\\n', from{1}, from{2});\n"
    work = tmp_path / "work"  # neither the toolbox nor the source tree
    work.mkdir()
    r = subprocess.run([*OCTAVE, "--eval", code], cwd=work, capture_output=True, text=True,
                       timeout=300, env=env)
    print(r.stdout, r.stderr)
    assert r.returncode == 0, r.stdout + r.stderr
    assert re.search(r"^libsock \d+\.\d+\.\d+: toolbox ok$", r.stdout, re.M), r.stdout
    assert f"loaded-from={lib}|{header}" in r.stdout, r.stdout
