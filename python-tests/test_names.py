"""The same names everywhere (issue 12, docs/NAMES.md).

The expected names are generated from core's tables — ``cargo run -q -p libsock --example names``
prints ErrorKind::ALL, EventKind::ALL, DisconnectReason::ALL, SockOpt::ALL, ConfigKey::ALL and
Stat::ALL with their codes and names — and spelled for each door by the rules of docs/NAMES.md.
Each test checks one kind of name in one door (the C header's #defines, the C++ exception
classes, the Python package at run time and its sources, the Java sources, the C# sources,
libsock.pas, the MATLAB files) and fails when the door lacks one, misnames one (a wrong word or a wrong number)
or has one core does not. The operations table of docs/NAMES.md is checked too: every door has
the method it lists, spelled by the door's rule unless marked as the language's idiom (†).
The generated tables of docs/NAMES.md must be what this module writes:

    python3 python-tests/test_names.py --write     # rewrite docs/NAMES.md's generated tables
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
import sys
from typing import Any, Callable, Optional

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
NAMES_MD = os.path.join(ROOT, "docs", "NAMES.md")
HEADER = os.path.join(ROOT, "include", "libsock.h")
HPP = os.path.join(ROOT, "include", "libsock.hpp")
PAS = os.path.join(ROOT, "bindings", "pascal", "libsock.pas")
JAVA = os.path.join(ROOT, "bindings", "jni", "java", "src", "io", "libsock")
MATLAB = os.path.join(ROOT, "bindings", "matlab", "+libsock")
PY_SRC = os.path.join(ROOT, "bindings", "python")
CSHARP = os.path.join(ROOT, "bindings", "csharp", "src")

DOORS = ["C", "C++", "Python", "Java", "C#", "Pascal", "MATLAB"]


# ------------------------------------------------------------------------------------------
# Core's tables and the spelling rules


@functools.lru_cache(maxsize=None)
def core() -> dict[str, list[dict[str, Any]]]:
    """Core's name tables, from core/examples/names.rs (LIBSOCK_NAMES_JSON may name a file
    holding its output, e.g. for a machine without cargo)."""
    path = os.environ.get("LIBSOCK_NAMES_JSON")
    if path:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    out = subprocess.run(
        ["cargo", "run", "-q", "-p", "libsock", "--example", "names"],
        cwd=ROOT, capture_output=True, text=True, timeout=1800,
    )
    assert out.returncode == 0, f"cargo run --example names failed:\n{out.stderr}"
    return json.loads(out.stdout)


def read(path: str) -> str:
    with open(path, encoding="utf-8") as f:
        return f.read()


def camel(name: str) -> str:
    """ADDR_IN_USE -> AddrInUse (Python/Java/Pascal classes, Rust variants, Pascal fields)."""
    return "".join(w[:1].upper() + w[1:].lower() for w in name.split("_"))


def lower_camel(name: str) -> str:
    """CONNECTIONS_TOTAL -> connectionsTotal (Java fields and methods, MATLAB methods)."""
    c = camel(name)
    return c[:1].lower() + c[1:]


def kebab(name: str) -> str:
    """PEER_CLOSED -> peer-closed (words as strings in Python and MATLAB)."""
    return name.lower().replace("_", "-")


def no_ms(name: str) -> str:
    """IDLE_TIMEOUT_MS -> IDLE_TIMEOUT (Python and MATLAB take seconds)."""
    return name[:-3] if name.endswith("_MS") else name


def error_class(door: str, name: str) -> str:
    """The exception class of error `name` in a door (docs/NAMES.md, errors)."""
    if door == "C++":
        return name.lower() + "_error"
    if door == "Python":
        return camel(name) + "Error"
    if door == "Java":
        # java.lang.InterruptedException would clash under `import io.libsock.*`.
        return "LibsockInterruptedException" if name == "INTERRUPTED" else camel(name) + "Exception"
    if door == "C#":
        # System.TimeoutException would make `catch (TimeoutException)` ambiguous under
        # `using System; using Libsock;`.
        return "LibsockTimeoutException" if name == "TIMEOUT" else camel(name) + "Exception"
    if door == "Pascal":
        return "ELs" + camel(name)
    if door == "MATLAB":
        return "libsock:" + lower_camel(name)
    raise ValueError(door)


# Engine settings that a door sets together with another (docs/NAMES.md): {key: spelling}.
PY_CONFIG_GROUPED = {
    "HEARTBEAT_INTERVAL_MS": "heartbeat=Heartbeat(interval)",
    "HEARTBEAT_MISSES": "heartbeat=Heartbeat(misses=)",
    "BACKOFF_MIN_MS": "backoff=(min, max)",
    "BACKOFF_MAX_MS": "backoff=(min, max)",
}
JAVA_CONFIG_GROUPED = {
    "SEND_QUEUE_BYTES": "withSendQueue(bytes, policy)",
    "SEND_POLICY": "withSendQueue(bytes, policy)",
    "IDLE_TIMEOUT_MS": "withIdleTimeout(ms, mode)",
    "IDLE_MODE": "withIdleTimeout(ms, mode)",
    "HEARTBEAT_INTERVAL_MS": "withHeartbeat(ms, misses)",
    "HEARTBEAT_MISSES": "withHeartbeat(ms, misses)",
    "RECONNECT": "withReconnect(minMs, maxMs) / withoutReconnect()",
    "BACKOFF_MIN_MS": "withReconnect(minMs, maxMs)",
    "BACKOFF_MAX_MS": "withReconnect(minMs, maxMs)",
    "MAX_DATAGRAM": "DatagramServer.bind(endpoint, maxDatagram, eventCapacity)",
}
# Keys of Python's stats() dicts beside core's words: {object: former or extra keys}.
PY_STATS_EXTRA = {"server": set(), "client": {"connected"},
                  "datagram_server": {"datagrams_in", "datagrams_out"}}


def py_config(name: str) -> str:
    return PY_CONFIG_GROUPED.get(name, no_ms(name).lower())


def java_config(name: str) -> str:
    return JAVA_CONFIG_GROUPED.get(name, "with" + camel(no_ms(name)))


def first_identifier(cell: str) -> str:
    m = re.match(r"[A-Za-z_][A-Za-z0-9_.]*", cell)
    assert m, cell
    return m.group(0)


# ------------------------------------------------------------------------------------------
# The generated tables of docs/NAMES.md


def render_tables() -> dict[str, str]:
    c = core()
    t: dict[str, str] = {}
    rows = ["| code | core | C | C++ | Python | Java | C# | Pascal | MATLAB id | description |",
            "|---:|---|---|---|---|---|---|---|---|---|"]
    for e in c["errors"]:
        n = e["name"]
        rows.append(f"| {e['code']} | `{n}` | `LS_ERR_{n}` | `{error_class('C++', n)}` | "
                    f"`{error_class('Python', n)}` | `{error_class('Java', n)}` | `{error_class('C#', n)}` | "
                    f"`{error_class('Pascal', n)}` | `{error_class('MATLAB', n)}` | "
                    f"{e['description']} |")
    t["errors"] = "\n".join(rows)
    for key, prefix in (("events", "LS_EVENT_"), ("reasons", "LS_REASON_")):
        enum = "EventKind" if key == "events" else "DisconnectReason"
        rows = ["| code | core | C, C++, Pascal, MATLAB | Python, MATLAB string | Java, C# |",
                "|---:|---|---|---|---|"]
        for e in c[key]:
            n = e["name"]
            rows.append(f"| {e['code']} | `{n}` | `{prefix}{n}` | `\"{kebab(n)}\"` | "
                        f"`{enum}.{n}` |")
        t[key] = "\n".join(rows)
    rows = ["| number | core = Python keyword | C, C++, Pascal, MATLAB | Java, C# | MATLAB name |",
            "|---:|---|---|---|---|"]
    for o in c["options"]:
        n = o["name"]
        rows.append(f"| {o['code']} | `{n}` | `LS_OPT_{n.upper()}` | `SockOpt.{n.upper()}` | "
                    f"`\"{camel(n)}\"` |")
    t["options"] = "\n".join(rows)
    rows = ["| code | core | C, C++, Pascal, MATLAB | Python keyword | Java | C# | MATLAB property |",
            "|---:|---|---|---|---|---|---|"]
    for k in c["config_keys"]:
        n = k["name"]
        rows.append(f"| {k['code']} | `{n}` | `LS_ECFG_{n}` | `{py_config(n)}` | "
                    f"`{java_config(n)}` | `ConfigKey.{n}` | `{camel(no_ms(n))}` |")
    t["config_keys"] = "\n".join(rows)
    rows = ["| code | core | C, C++, Pascal, MATLAB | Python key | Java field | Pascal, MATLAB field, C# property | kept by |",
            "|---:|---|---|---|---|---|---|"]
    for s in c["stats"]:
        n = s["name"]
        kept = ", ".join(o.replace("_", " ") for o in s["kept_by"])
        rows.append(f"| {s['code']} | `{n}` | `LS_STAT_{n}` | `\"{n.lower()}\"` | "
                    f"`{lower_camel(n)}` | `{camel(n)}` | {kept} |")
    t["stats"] = "\n".join(rows)
    return t


def generated_section(text: str, key: str) -> Optional[str]:
    m = re.search(rf"<!-- BEGIN GENERATED {key} -->\n(.*?)<!-- END GENERATED {key} -->", text, re.S)
    return m.group(1).rstrip("\n") if m else None


def write_tables() -> None:
    text = read(NAMES_MD)
    for key, table in render_tables().items():
        assert generated_section(text, key) is not None, f"docs/NAMES.md lacks the {key} markers"
        text = re.sub(rf"(<!-- BEGIN GENERATED {key} -->\n).*?(<!-- END GENERATED {key} -->)",
                      lambda m: m.group(1) + table + "\n" + m.group(2), text, flags=re.S)
    with open(NAMES_MD, "w", encoding="utf-8") as f:
        f.write(text)


def test_docs_tables_are_generated_from_core() -> None:
    text = read(NAMES_MD)
    for key, table in render_tables().items():
        got = generated_section(text, key)
        assert got is not None, f"docs/NAMES.md lacks the generated {key} table"
        assert got == table, (f"docs/NAMES.md's {key} table is not core's: run "
                              f"python3 python-tests/test_names.py --write")


def test_core_tables_are_whole() -> None:
    c = core()
    assert [e["code"] for e in c["errors"]] == list(range(-1, -len(c["errors"]) - 1, -1))
    for key in ("events", "reasons", "options", "config_keys", "stats"):
        assert [e["code"] for e in c[key]] == list(range(1, len(c[key]) + 1)), key
    for key in c:
        names = [e["name"] for e in c[key]]
        assert len(set(names)) == len(names), f"{key}: a name twice"


# ------------------------------------------------------------------------------------------
# Constants: C header, Pascal unit, MATLAB files


CATEGORIES = [  # (core table, constant prefix, spelling of the name)
    ("errors", "LS_ERR_", lambda n: n),
    ("events", "LS_EVENT_", lambda n: n),
    ("reasons", "LS_REASON_", lambda n: n),
    ("options", "LS_OPT_", lambda n: n.upper()),
    ("config_keys", "LS_ECFG_", lambda n: n),
    ("stats", "LS_STAT_", lambda n: n),
]


def expected_constants() -> dict[str, dict[str, int]]:
    return {prefix: {prefix + spell(e["name"]): e["code"] for e in core()[table]}
            for table, prefix, spell in CATEGORIES}


def check_constants(door: str, found: dict[str, int]) -> None:
    problems = []
    for prefix, want in expected_constants().items():
        have = {k: v for k, v in found.items() if k.startswith(prefix)}
        for name, code in want.items():
            if name not in have:
                problems.append(f"{door} lacks {name} ({code})")
            elif have[name] != code:
                problems.append(f"{door}: {name} is {have[name]}, core says {code}")
        for name in sorted(set(have) - set(want)):
            problems.append(f"{door} has {name}, which is no name of core's")
    assert not problems, "\n".join(problems)


def test_c_header_constants() -> None:
    found = {m.group(1): int(m.group(2)) for m in
             re.finditer(r"^#define\s+(LS_[A-Z0-9_]+)\s+(-?\d+)\s*$", read(HEADER), re.M)}
    check_constants("include/libsock.h", found)


def test_pascal_constants() -> None:
    found = {m.group(1): int(m.group(2)) for m in
             re.finditer(r"^\s*(LS_[A-Z0-9_]+)\s*=\s*(-?\d+)\s*;", read(PAS), re.M)}
    check_constants("libsock.pas", found)


def test_matlab_constant_files() -> None:
    found = {}
    for f in os.listdir(MATLAB):
        if f.startswith("LS_") and f.endswith(".m"):
            m = re.search(r"^v = int32\((-?\d+)\);", read(os.path.join(MATLAB, f)), re.M)
            assert m, f
            found[f[:-2]] = int(m.group(1))
    check_constants("bindings/matlab/+libsock", found)


# ------------------------------------------------------------------------------------------
# Errors: one distinct class per code in every door


def test_cpp_has_one_exception_class_per_code() -> None:
    hpp = read(HPP)
    classes = set(re.findall(r"^LIBSOCK_ERROR_CLASS\((\w+)\);", hpp, re.M))
    classes |= set(re.findall(r"^class (\w+_error) : public error\b", hpp, re.M))
    problems = []
    want = set()
    for e in core()["errors"]:
        n, cls = e["name"], error_class("C++", e["name"])
        want.add(cls)
        if cls not in classes:
            problems.append(f"libsock.hpp lacks class {cls} for LS_ERR_{n}")
        if not re.search(rf"case LS_ERR_{n}: throw {cls}\(", hpp):
            problems.append(f"libsock.hpp: throw_error does not throw {cls} for LS_ERR_{n}")
        if not re.search(rf"^\s+{n.lower()} = LS_ERR_{n},?$", hpp, re.M):
            problems.append(f"libsock.hpp: errc lacks {n.lower()} = LS_ERR_{n}")
    problems += [f"libsock.hpp has {c}, no code of core's" for c in sorted(classes - want)]
    assert not problems, "\n".join(problems)


def test_python_has_one_exception_class_per_code() -> None:
    import libsock

    assert libsock.ERROR_CODES == {e["name"]: e["code"] for e in core()["errors"]}
    seen = set()
    problems = []
    raised = dict(re.findall(r'ErrorKind::(\w+)(?: if [^=]*)? => "(\w+)"',
                             read(os.path.join(PY_SRC, "src", "errors.rs"))))
    for e in core()["errors"]:
        cls_name = error_class("Python", e["name"])
        cls = getattr(libsock, cls_name, None)
        if cls is None:
            problems.append(f"libsock lacks {cls_name} ({e['name']})")
            continue
        if not (isinstance(cls, type) and issubclass(cls, libsock.Error) and cls.code == e["code"]):
            problems.append(f"libsock.{cls_name} is not the libsock.Error of code {e['code']}")
        if cls_name not in libsock.__all__:
            problems.append(f"libsock.__all__ lacks {cls_name}")
        seen.add(cls)
        if raised.get(camel(e["name"])) != cls_name:
            problems.append(f"errors.rs raises {raised.get(camel(e['name']))} for "
                            f"ErrorKind::{camel(e['name'])}, not {cls_name}")
    if len(seen) != len(core()["errors"]):
        problems.append("two codes share a Python class")
    assert not problems, "\n".join(problems)


def java_enum(file: str) -> dict[str, int]:
    return {m.group(1): int(m.group(2)) for m in
            re.finditer(r"^\s+([A-Z][A-Z0-9_]*)\((-?\d+)\)[,;]", read(os.path.join(JAVA, file)), re.M)}


def check_enum(what: str, found: dict[str, int], want: dict[str, int]) -> None:
    problems = [f"{what} lacks {n} ({c})" for n, c in want.items() if n not in found]
    problems += [f"{what}.{n} is {found[n]}, core says {c}" for n, c in want.items()
                 if n in found and found[n] != c]
    problems += [f"{what} has {n}, no name of core's" for n in sorted(set(found) - set(want))]
    assert not problems, "\n".join(problems)


def test_java_has_one_exception_class_per_code() -> None:
    check_enum("ErrorKind.java", java_enum("ErrorKind.java"),
               {e["name"]: e["code"] for e in core()["errors"]})
    native = read(os.path.join(JAVA, "Native.java"))
    problems = []
    classes = set()
    for e in core()["errors"]:
        cls = error_class("Java", e["name"])
        classes.add(cls)
        path = os.path.join(JAVA, cls + ".java")
        if not os.path.exists(path):
            problems.append(f"io.libsock lacks {cls} ({e['name']})")
        elif not re.search(rf"public class {cls} extends \w[\w.]*", read(path)):
            problems.append(f"{cls}.java declares no public class {cls}")
        if not re.search(rf"case {e['name']}:\s*return new {cls}\(", native):
            problems.append(f"Native.make does not throw {cls} for {e['name']}")
    if len(classes) != len(core()["errors"]):
        problems.append("two codes share a Java class")
    assert not problems, "\n".join(problems)


def test_pascal_has_one_exception_class_per_code() -> None:
    pas = read(PAS)
    problems = []
    for e in core()["errors"]:
        cls = error_class("Pascal", e["name"])
        if not re.search(rf"^\s+{cls} = class\(ELibsock\)", pas, re.M):
            problems.append(f"libsock.pas lacks {cls} = class(ELibsock)")
        if not re.search(rf"LS_ERR_{e['name']}: Result := {cls};", pas):
            problems.append(f"LsErrorClass does not give {cls} for LS_ERR_{e['name']}")
    assert not problems, "\n".join(problems)


def csharp_sources() -> str:
    return "".join(read(os.path.join(CSHARP, f)) for f in sorted(os.listdir(CSHARP)) if f.endswith(".cs"))


def test_csharp_has_one_exception_class_per_code() -> None:
    errors = read(os.path.join(CSHARP, "Errors.cs"))
    consts = {m.group(1): int(m.group(2)) for m in
              re.finditer(r"^\s+public const int ([A-Z_]+) = (-?\d+);", errors, re.M)}
    consts.pop("OK", None)
    check_enum("ErrorCodes (Errors.cs)", consts, {e["name"]: e["code"] for e in core()["errors"]})
    classes = set(re.findall(r"^\s+public sealed class (\w+) : LibsockException$", errors, re.M))
    problems = []
    want = set()
    for e in core()["errors"]:
        cls = error_class("C#", e["name"])
        want.add(cls)
        if cls not in classes:
            problems.append(f"Errors.cs lacks {cls} : LibsockException ({e['name']})")
        if not re.search(rf"case ErrorCodes\.{e['name']}: return new {cls}\(", errors):
            problems.append(f"LibsockException.FromCode does not make {cls} for {e['name']}")
    problems += [f"Errors.cs has {c}, no code of core's" for c in sorted(classes - want)]
    assert not problems, "\n".join(problems)


def csharp_enum(name: str) -> dict[str, int]:
    m = re.search(rf"public enum {name}\n\s+\{{(.*?)\n\s+\}}", read(os.path.join(CSHARP, "Enums.cs")), re.S)
    assert m, name
    return {k: int(v) for k, v in re.findall(r"^\s+([A-Z][A-Z0-9_]*) = (-?\d+),", m.group(1), re.M)}


def test_csharp_enums_and_stats_properties() -> None:
    c = core()
    check_enum("C# EventKind", csharp_enum("EventKind"), {e["name"]: e["code"] for e in c["events"]})
    check_enum("C# DisconnectReason", csharp_enum("DisconnectReason"), {e["name"]: e["code"] for e in c["reasons"]})
    check_enum("C# SockOpt", csharp_enum("SockOpt"), {o["name"].upper(): o["code"] for o in c["options"]})
    check_enum("C# ConfigKey", csharp_enum("ConfigKey"), {k["name"]: k["code"] for k in c["config_keys"]})
    check_enum("C# Stat", csharp_enum("Stat"), {s["name"]: s["code"] for s in c["stats"]})
    stats = read(os.path.join(CSHARP, "Stats.cs"))
    props = re.findall(r"^\s+public long (\w+) \{ get;", stats, re.M)
    assert props == [camel(s["name"]) for s in c["stats"]], f"Stats.cs properties {props}"
    for s in c["stats"]:
        assert f"s.{camel(s['name'])} = get(Libsock.Stat.{s['name']});" in stats, s["name"]


def test_matlab_error_identifiers() -> None:
    # libsock.check throws 'libsock:' + errorIdentifier(ls_error_name(rc)); Octave runs
    # Socket.errorIdentifier from the .m file for every code of core's.
    socket_m = read(os.path.join(MATLAB, "Socket.m"))
    assert "function id = errorIdentifier(name)" in socket_m
    check_m = read(os.path.join(MATLAB, "check.m"))
    assert "libsock.Socket.errorIdentifier(name)" in check_m
    assert "calllib('libsock', 'ls_error_name', int32(rc))" in check_m
    octave = shutil.which("octave-cli")
    if octave is None:
        why = "octave-cli is not installed (.ci/install-deps installs it)"
        if os.environ.get("CI") == "true":
            pytest.fail(why + ": under CI the MATLAB names must be checked")
        pytest.skip(why)
    names = [e["name"] for e in core()["errors"]]
    code = "".join(f"printf('%s=%s\\n', '{n}', libsock.Socket.errorIdentifier('{n}')); " for n in names)
    r = subprocess.run([octave, "--no-gui", "--norc", "--quiet", "--no-window-system", "--eval", code],
                       cwd=os.path.dirname(MATLAB), capture_output=True, text=True, timeout=120,
                       env={**os.environ, "OCTAVE_PATH": os.path.join(HERE, "matlab", "octave")})
    got = dict(line.split("=", 1) for line in r.stdout.splitlines() if "=" in line)
    for n in names:
        assert got.get(n) == error_class("MATLAB", n), (n, got.get(n), r.stderr)


# ------------------------------------------------------------------------------------------
# Events, reasons, options, settings, statistics beyond the constants


def test_python_event_kinds_and_reasons() -> None:
    engine = read(os.path.join(PY_SRC, "src", "engine.rs"))
    pyi = read(os.path.join(PY_SRC, "libsock", "_libsock.pyi"))
    kinds = dict(re.findall(r'K::(\w+) => "([a-z-]+)"', engine))
    reasons = dict(re.findall(r'DisconnectReason::(\w+)(?:\(\.\.\))? => "([a-z-]+)"', engine))
    if re.search(r'_ => "error",', engine[engine.index("fn reason_str"):]):
        reasons.setdefault("Error", "error")
    literal_kinds = re.search(r"_EventKind: TypeAlias = Literal\[(.*?)\]", pyi, re.S)
    literal_reasons = re.search(r"_Reason: TypeAlias = Literal\[(.*?)\]", pyi, re.S)
    assert literal_kinds and literal_reasons
    problems = []
    for table, found, literal in (("events", kinds, literal_kinds.group(1)),
                                  ("reasons", reasons, literal_reasons.group(1))):
        want = {camel(e["name"]): kebab(e["name"]) for e in core()[table]}
        for variant, s in want.items():
            if found.get(variant) != s:
                problems.append(f"Python gives {found.get(variant)!r} for {variant}, not {s!r}")
            if f'"{s}"' not in literal:
                problems.append(f"_libsock.pyi's Literal lacks {s!r}")
        problems += [f"Python gives {s!r}, no name of core's" for v, s in found.items()
                     if v not in want]
        extra = set(re.findall(r'"([a-z-]+)"', literal)) - set(want.values())
        problems += [f"_libsock.pyi's Literal has {s!r}, no name of core's" for s in sorted(extra)]
    assert not problems, "\n".join(problems)


def test_python_option_names() -> None:
    import libsock

    assert libsock.OPTION_NAMES == tuple(o["name"] for o in core()["options"])


def pyi_keywords(cls: str) -> set[str]:
    pyi = read(os.path.join(PY_SRC, "libsock", "_libsock.pyi"))
    body = re.search(rf"class {cls}:\n    def __new__\((.*?)\) -> Self", pyi, re.S)
    assert body, cls
    return set(re.findall(r"^\s+(\w+):", body.group(1), re.M))


def test_python_engine_settings_keywords() -> None:
    kwargs = pyi_keywords("Server") | pyi_keywords("Client") | pyi_keywords("DatagramServer")
    heartbeat = pyi_keywords("Heartbeat")
    problems = []
    for k in core()["config_keys"]:
        word = first_identifier(py_config(k["name"]))
        if word not in kwargs:
            problems.append(f"no engine object takes {word}= ({k['name']})")
    for param in ("interval", "misses"):
        if param not in heartbeat:
            problems.append(f"Heartbeat lacks {param}")
    assert not problems, "\n".join(problems)


def test_python_stats_keys() -> None:
    import libsock

    want = {o: {s["name"].lower() for s in core()["stats"] if o in s["kept_by"]}
            for o in ("server", "client", "datagram_server")}
    server = libsock.Server(("127.0.0.1", 0))
    client = libsock.Client(server.address, reconnect=False)
    udp = libsock.DatagramServer(("127.0.0.1", 0))
    try:
        for obj, key in ((server, "server"), (client, "client"), (udp, "datagram_server")):
            got = set(obj.stats())
            assert got == want[key] | PY_STATS_EXTRA[key], (key, sorted(got ^ (want[key] | PY_STATS_EXTRA[key])))
    finally:
        client.close(0)
        udp.close()
        server.close(0)


def test_java_enums_and_stats_fields() -> None:
    c = core()
    check_enum("EventKind.java", java_enum("EventKind.java"), {e["name"]: e["code"] for e in c["events"]})
    check_enum("DisconnectReason.java", java_enum("DisconnectReason.java"),
               {e["name"]: e["code"] for e in c["reasons"]})
    check_enum("SockOpt.java", java_enum("SockOpt.java"), {o["name"].upper(): o["code"] for o in c["options"]})
    check_enum("ConfigKey.java", java_enum("ConfigKey.java"), {k["name"]: k["code"] for k in c["config_keys"]})
    stats = read(os.path.join(JAVA, "Stats.java"))
    fields = re.findall(r"^\s+public final long (\w+);", stats, re.M)
    want = [lower_camel(s["name"]) for s in c["stats"]]
    assert [f for f in fields if f in want] == want and set(fields) <= set(want), \
        f"Stats.java's long fields {fields}, core's words give {want}"
    setters = set(re.findall(r"public (?:Server|Client)Options (with\w+)\(",
                             read(os.path.join(JAVA, "ServerOptions.java"))
                             + read(os.path.join(JAVA, "ClientOptions.java"))))
    bind = read(os.path.join(JAVA, "DatagramServer.java"))
    for k in c["config_keys"]:
        word = first_identifier(java_config(k["name"]))
        if word.startswith("DatagramServer."):
            assert re.search(r"public static DatagramServer bind\(String endpoint, int maxDatagram", bind)
        else:
            assert word in setters, f"Java lacks {word} for {k['name']}"


def test_pascal_event_reason_and_stat_names() -> None:
    pas = read(PAS)
    c = core()
    problems = []
    for table, prefix in (("events", "LS_EVENT_"), ("reasons", "LS_REASON_")):
        for e in c[table]:
            if not re.search(rf"{prefix}{e['name']}: Result := '{e['name']}';", pas):
                problems.append(f"libsock.pas does not name {prefix}{e['name']} '{e['name']}'")
    record = re.search(r"TLsEngineStats = record(.*?)\n  end;", pas, re.S)
    assert record
    fields = re.findall(r"^\s+(\w+): Int64;", record.group(1), re.M)
    if fields != [camel(s["name"]) for s in c["stats"]]:
        problems.append(f"TLsEngineStats fields {fields}")
    for s in c["stats"]:
        if not re.search(rf"Result\.{camel(s['name'])} := Get\(LS_STAT_{s['name']}\);", pas):
            problems.append(f"Stats does not read LS_STAT_{s['name']} into {camel(s['name'])}")
    assert not problems, "\n".join(problems)


def matlab_list(text: str, var: str) -> list[str]:
    m = re.search(rf"\b{var} = \{{(.*?)\}};", text, re.S)
    assert m, var
    return re.findall(r"'([^']*)'", m.group(1))


def matlab_codes(text: str, var: str) -> list[str]:
    m = re.search(rf"\b{var} = \[(.*?)\];", text, re.S)
    assert m, var
    return re.findall(r"libsock\.(LS_[A-Z0-9_]+)", m.group(1))


def test_matlab_words() -> None:
    c = core()
    engine_object = read(os.path.join(MATLAB, "EngineObject.m"))
    kind_fn = engine_object[engine_object.index("function name = kindName"):]
    reason_fn = engine_object[engine_object.index("function name = reasonName"):]
    def same(what: str, got: list[str], want: list[str]) -> None:
        assert got == want, f"MATLAB {what}: {got}, core's words give {want}"

    same("EngineObject.kindName", matlab_list(kind_fn, "names"), [kebab(e["name"]) for e in c["events"]])
    same("EngineObject.reasonName", matlab_list(reason_fn, "names"), [kebab(e["name"]) for e in c["reasons"]])
    stats_fn = engine_object[engine_object.index("function st = stats"):]
    same("stats fields", matlab_list(stats_fn, "names"), [camel(s["name"]) for s in c["stats"]])
    same("stats codes", matlab_codes(stats_fn, "codes"), ["LS_STAT_" + s["name"] for s in c["stats"]])
    socket_m = read(os.path.join(MATLAB, "Socket.m"))
    option_fn = socket_m[socket_m.index("function code = optionCode"):]
    names = matlab_list(option_fn, "names")
    same("option names (case and _ ignored)", [n.lower() for n in names],
         [o["name"].replace("_", "") for o in c["options"]])
    same("option codes", matlab_codes(option_fn, "codes"), ["LS_OPT_" + o["name"].upper() for o in c["options"]])
    config = read(os.path.join(MATLAB, "EngineConfig.m"))
    props = matlab_list(config[config.index("function names = propertyNames"):], "names")
    same("EngineConfig properties", props, [camel(no_ms(k["name"])) for k in c["config_keys"]])
    for k in c["config_keys"]:
        prop = camel(no_ms(k["name"]))
        getter = re.search(rf"function v = get\.{prop}\(obj\)(.*?)\n        end", config, re.S)
        assert getter and f"libsock.LS_ECFG_{k['name']}" in getter.group(1), \
            f"EngineConfig.{prop} does not read LS_ECFG_{k['name']}"


# ------------------------------------------------------------------------------------------
# Operations (the hand-written table of docs/NAMES.md)


def ops_rows() -> list[tuple[str, dict[str, str]]]:
    text = read(NAMES_MD)
    section = text[text.index("## Operations"):]
    section = section[:section.index("\n## ", 3)] if "\n## " in section[3:] else section
    rows = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 1 + len(DOORS) or not cells[0].startswith("`"):
            continue
        op = re.match(r"`([a-z_]+)`(.*)", cells[0])
        assert op, cells[0]
        rows.append((op.group(1) + op.group(2), dict(zip(DOORS, cells[1:]))))
    assert len(rows) >= 30, "docs/NAMES.md's operations table is gone"
    return rows


def items(cell: str) -> list[tuple[str, bool]]:
    """The names of a cell and whether each is marked as the language's idiom (†)."""
    return [(m.group(1), m.group(2) == "†") for m in re.finditer(r"`([^`]+)`(†?)", cell)]


def cpp_class_body(hpp: str, cls: str) -> str:
    m = re.search(rf"^class {cls}\b[^{{;]*\{{(.*?)^\}};", hpp, re.S | re.M)
    if not m:
        return ""
    base = re.search(rf"^class {cls} : public (\w+)", hpp, re.M)
    return m.group(1) + (cpp_class_body(hpp, base.group(1)) if base else "")


def java_class_text(cls: str) -> str:
    path = os.path.join(JAVA, cls + ".java")
    if not os.path.exists(path):
        return ""
    text = read(path)
    base = re.search(rf"class {cls} extends (\w+)", text)
    return text + (java_class_text(base.group(1)) if base else "")


def pascal_class_text(pas: str, cls: str) -> str:
    m = re.search(rf"^  {cls} = class(?:\((\w+)\))?(.*?)^  end;", pas, re.S | re.M)
    if not m:
        return ""
    return m.group(2) + (pascal_class_text(pas, m.group(1)) if m.group(1) else "")


def csharp_class_text(cls: str) -> str:
    """The source of C# class `cls` (one public class per file in bindings/csharp/src, or a
    class among others) and of its base classes."""
    text = csharp_sources()
    m = re.search(rf"^    public (?:sealed |abstract |static )*class {re.escape(cls)}\b(?: : (\w+))?(.*?)^    \}}$",
                  text, re.S | re.M)
    if not m:
        return ""
    return m.group(2) + (csharp_class_text(m.group(1)) if m.group(1) else "")


def matlab_class_text(cls: str) -> str:
    path = os.path.join(MATLAB, cls + ".m")
    if not os.path.exists(path):
        return ""
    text = read(path)
    base = re.search(r"^classdef \w+ < libsock\.(\w+)", text, re.M)
    return text + (matlab_class_text(base.group(1)) if base else "")


def door_has(door: str, name: str) -> bool:
    cls, _, member = name.rpartition(".") if door != "C++" else name.rpartition("::")
    if door == "C":
        return re.search(rf"^\w[\w *]* \**{re.escape(name)}\(", read(HEADER), re.M) is not None
    if door == "C++":
        hpp = read(HPP)
        if cls in ("", "libsock"):
            return re.search(rf"^inline [\w:<> ]+ {member}\(", hpp, re.M) is not None
        return re.search(rf"\b{member}\(", cpp_class_body(hpp, cls)) is not None
    if door == "Python":
        import libsock

        if not cls:
            return hasattr(libsock, member)
        return hasattr(getattr(libsock, cls, None), member)
    if door == "Java":
        return re.search(rf"public (?:static )?[\w<>\[\], ]+ {member}\(", java_class_text(cls)) is not None
    if door == "C#":
        # a method, or a property (get or expression-bodied)
        return re.search(rf"^\s+public (?:static |virtual |override |unsafe )*[\w<>\[\]?, ]+ {member}(?:\(|\s*\{{|\s*=>)",
                         csharp_class_text(cls), re.M) is not None
    if door == "Pascal":
        pas = read(PAS)
        if not cls:
            return re.search(rf"^(?:procedure|function) {member}\b", pas, re.M) is not None
        return re.search(rf"^\s+(?:procedure|function|constructor|property) {member}\b",
                         pascal_class_text(pas, cls), re.M) is not None
    if door == "MATLAB":
        if not cls:
            return os.path.exists(os.path.join(MATLAB, member + ".m"))
        text = matlab_class_text(cls)
        return re.search(rf"^\s+function (?:[\w\[\], ]+= ?)?(?:get\.|set\.)?{member}\(", text, re.M) is not None \
            or re.search(rf"^        {member}(?: = .*)?$", text, re.M) is not None  # a property
    raise ValueError(door)


def mechanical(door: str, op: str, name: str) -> bool:
    """Is `name` the door's spelling of operation `op` (docs/NAMES.md, operations)?"""
    word = op.split(" ")[0]
    member = re.split(r"::|\.", name)[-1]
    if door == "C":
        return name.startswith("ls_") and name.endswith(word)
    if door in ("C++", "Python"):
        return member == word
    if door in ("Java", "MATLAB"):
        return member == lower_camel(word.upper())
    if door == "C#":
        return member == camel(word.upper())
    if door == "Pascal":
        return member == ("Ls" if "." not in name else "") + camel(word.upper())
    raise ValueError(door)


@pytest.mark.parametrize("door", DOORS)
def test_operations(door: str) -> None:
    problems = []
    for op, cells in ops_rows():
        cell = cells[door]
        if cell.startswith("—"):
            continue
        found = items(cell)
        if not found:
            problems.append(f"{op}: the {door} cell names nothing: {cell!r}")
        for name, idiom in found:
            if not door_has(door, name):
                problems.append(f"{op}: {door} lacks {name}")
            if not idiom and not mechanical(door, op, name):
                problems.append(f"{op}: {door}'s {name} is not the door's spelling of {op} "
                                f"(mark the language's idiom with †)")
    assert not problems, "\n".join(problems)


def test_java_tls_settings() -> None:
    """Every Java method of docs/NAMES.md's TLS settings table is on TlsClientConfig or
    TlsServerConfig (for the side the row names)."""
    text = read(NAMES_MD)
    section = text[text.index("## TLS settings"):]
    section = section[:section.index("\n## ", 3)]
    base = read(os.path.join(JAVA, "TlsConfig.java"))
    java = {side: read(os.path.join(JAVA, f"Tls{side.capitalize()}Config.java")) + base
            for side in ("client", "server")}
    rows = 0
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 4 or not cells[0].startswith("`"):
            continue
        rows += 1
        sides = ["client", "server"] if cells[1] == "both" else [cells[1]]
        for name in re.findall(r"`(\w+)", cells[3]):
            for side in sides:
                assert re.search(rf"public (?:Tls{side.capitalize()}Config|T|void) {name}\(", java[side]), \
                    f"Tls{side.capitalize()}Config lacks {name} (docs/NAMES.md, TLS settings)"
    assert rows >= 12, "docs/NAMES.md's TLS settings table is gone"


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        write_tables()
        print(f"wrote the generated tables of {os.path.relpath(NAMES_MD, ROOT)}")
    else:
        print(__doc__)
        sys.exit(2)
