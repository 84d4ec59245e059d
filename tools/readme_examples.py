#!/usr/bin/env python3
"""Run every example in README.md, so the README cannot rot.

Extracts the fenced code blocks tagged python, c, cpp, java, pascal and csharp, builds each as a
whole program against this checkout (the C library installed into PREFIX, the Java sources, the
Pascal unit, the C# sources compiled by Mono's mcs) and runs it with a timeout. A block fails when it does not build, exits non-zero, times out,
or prints nothing. Rust blocks are run by `cargo test` (README.md is a doc-test of the core crate);
the MATLAB block runs under Octave with the calllib stand-ins of python-tests/matlab/octave when
Octave is installed (MATLAB itself is not on CI machines), and its libsock.* names are checked
against the MATLAB package either way.

Usage: readme_examples.py PREFIX JNI_LIB_DIR WORKDIR
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def blocks(text: str) -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2)) for m in re.finditer(r"^```(\w+)\n(.*?)^```", text, re.M | re.S)]


def run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, **kw)


def octave_runner(d: Path, prefix: Path) -> list[str] | None:
    """The Octave command line, after building the MEX gateway that stands in for MATLAB's
    loadlibrary/calllib (python-tests/matlab/octave), or None without Octave."""
    import shutil

    octave, mkoct = shutil.which("octave-cli"), shutil.which("mkoctfile")
    if octave is None or mkoct is None:
        return None
    shims = ROOT / "python-tests/matlab/octave"
    subprocess.run([sys.executable, str(shims / "gen_octave_calllib.py"), str(d)], check=True, timeout=120)
    r = subprocess.run([mkoct, "--mex", f"-I{ROOT}/include", "libsock_mex.c", f"-L{prefix}/lib",
                        "-lsock", f"-Wl,-rpath,{prefix}/lib"],
                       cwd=d, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    return [octave, "--no-gui", "--norc", "--quiet", "--no-window-system"]


def main() -> int:
    prefix, jni_lib, work = (Path(a).resolve() for a in sys.argv[1:4])
    work.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "LD_LIBRARY_PATH": f"{prefix}/lib"}
    pkg = run(["pkg-config", "--cflags", "--libs", "libsock"],
              env={**os.environ, "PKG_CONFIG_PATH": f"{prefix}/lib/pkgconfig"})
    assert pkg.returncode == 0, pkg.stderr
    c_flags = pkg.stdout.split() + [f"-Wl,-rpath,{prefix}/lib"]
    java_src = [str(p) for p in (ROOT / "bindings/jni/java/src").rglob("*.java")]
    passed = failed = 0
    for i, (lang, code) in enumerate(blocks((ROOT / "README.md").read_text())):
        if lang not in {"python", "c", "cpp", "java", "pascal", "matlab", "csharp"}:
            continue
        d = work / f"{i:02d}-{lang}"
        d.mkdir(exist_ok=True)
        steps: list[list[str]] = []
        if lang == "python":
            (d / "example.py").write_text(code)
            steps = [[sys.executable, str(d / "example.py")]]
        elif lang == "c":
            (d / "example.c").write_text(code)
            steps = [["gcc", "-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", str(d / "example.c"),
                      "-o", str(d / "example"), *c_flags], [str(d / "example")]]
        elif lang == "cpp":
            (d / "example.cpp").write_text(code)
            steps = [["g++", "-std=c++17", "-Wall", "-Wextra", "-Werror", str(d / "example.cpp"),
                      "-o", str(d / "example"), *c_flags], [str(d / "example")]]
        elif lang == "java":
            cls = re.search(r"public\s+(?:final\s+)?class\s+(\w+)", code).group(1)
            (d / f"{cls}.java").write_text(code)
            steps = [["javac", "-d", str(d), *java_src, str(d / f"{cls}.java")],
                     ["java", "-Xcheck:jni", f"-Djava.library.path={jni_lib}", "-cp", str(d), cls]]
        elif lang == "pascal":
            prog = re.search(r"^program\s+(\w+)", code, re.M | re.I).group(1)
            (d / f"{prog}.pas").write_text(code)
            steps = [["fpc", "-Mdelphi", f"-Fu{ROOT}/bindings/pascal", f"-FU{d}", f"-FE{d}",
                      f"-Fl{prefix}/lib", "-k-rpath", f"-k{prefix}/lib", str(d / f"{prog}.pas")],
                     [str(d / prog)]]
        elif lang == "csharp":
            (d / "example.cs").write_text(code)
            cs_src = sorted(str(p) for p in (ROOT / "bindings/csharp/src").glob("*.cs"))
            (d / "Libsock.dll.config").write_text((ROOT / "bindings/csharp/Libsock.dll.config").read_text())
            steps = [["mcs", "-target:library", "-unsafe", f"-out:{d / 'Libsock.dll'}", *cs_src],
                     ["mcs", f"-r:{d / 'Libsock.dll'}", f"-out:{d / 'example.exe'}", str(d / "example.cs")],
                     ["mono", str(d / "example.exe")]]
        elif lang == "matlab":
            missing = [name for name in set(re.findall(r"libsock\.(\w+)", code))
                       if not (ROOT / "bindings/matlab/+libsock" / f"{name}.m").exists()]
            if missing:
                print(f"FAIL {d.name}: MATLAB names without a class or function file: {missing}")
                failed += 1
                continue
            octave = octave_runner(d, prefix)
            if octave is None:
                print(f"ok   {d.name} (names checked; Octave is not installed to run it)")
                passed += 1
                continue
            (d / "readme_example.m").write_text(code)
            steps = [octave + ["--eval", f"warning('off', 'all'); cd('{ROOT}'); source('{d / 'readme_example.m'}');"]]
            env = {**env, "LIBSOCK_LIBRARY": f"{prefix}/lib/libsock.so",
                   "OCTAVE_PATH": f"{ROOT}/python-tests/matlab/octave:{d}"}
        out = ""
        ok = True
        for step in steps:
            try:
                r = run(step, env=env)
            except subprocess.TimeoutExpired:
                ok, out = False, f"timed out: {step[0]}"
                break
            out = r.stdout + r.stderr
            if r.returncode != 0:
                ok = False
                break
        if ok and not out.strip():
            ok, out = False, "printed nothing"
        print(("ok   " if ok else "FAIL ") + d.name + ("" if ok else f"\n{out}"))
        if ok:
            print("     " + out.strip().replace("\n", "\n     "))
        passed += ok
        failed += not ok
    print(f"readme: {passed} passed, {failed} failed")
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
