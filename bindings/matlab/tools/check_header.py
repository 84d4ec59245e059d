#!/usr/bin/env python3
"""Prove that include/libsock.h holds only what MATLAB's loadlibrary accepts.

MATLAB is not on the CI machines, so this checker stands in for `loadlibrary('libsock',
'libsock.h')`. It runs the real C preprocessor (`gcc -E`) over the header, keeps the declarations
that come from the header itself (not from <stdint.h> / <stddef.h>, whose glibc internals pycparser
cannot read), parses them with pycparser and FAILS on anything loadlibrary rejects or mis-maps:

  * function pointers / callbacks (parameters, returns, typedefs, struct fields)
  * unions (anywhere)
  * varargs (`...`)
  * `bool` / `_Bool` (and <stdbool.h>)
  * enums or structs passed or returned by value in a function signature
  * `**` pointer to pointer (MATLAB's stringPtrPtr/voidPtrPtr are not worth the pain)
  * bitfields
  * a C++-only construct reaching the C preprocessor's output (an unguarded `extern "C"`)
  * types outside the plain C99 set the MATLAB classes map: int32_t, int64_t, uint64_t, uint8_t,
    size_t, char, double, void

It also checks the libsock conventions the MATLAB classes rely on:

  * every exported function returns `int32_t`, or `const char *` (a static string)
  * every function is named ls_*, every macro LS_*
  * the generated constant files bindings/matlab/+libsock/LS_*.m exist for every integer
    `#define LS_*` (read with `gcc -dM -E`, so the values are the preprocessor's own) and hold the
    same value, and no stale constant file is left over.

Usage:
  check_header.py [--header include/libsock.h] [--constants bindings/matlab/+libsock] [--no-constants]
  check_header.py --self-test      # feeds small bad headers and asserts each one fails

Exit status 0 when the header is clean, 1 with one line per problem otherwise.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from typing import Iterable, Optional

try:
    from pycparser import c_ast, c_parser
except ImportError:  # pragma: no cover - reported to the user
    sys.stderr.write("check_header.py needs pycparser: python3 -m pip install pycparser\n")
    raise

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
DEFAULT_HEADER = os.path.join(ROOT, "include", "libsock.h")
DEFAULT_CONSTANTS = os.path.join(ROOT, "bindings", "matlab", "+libsock")

# Types the MATLAB classes know how to pass (C type -> MATLAB loadlibrary type).
SCALAR_TYPES = {
    "int32_t": "int32",
    "int64_t": "int64",
    "uint64_t": "uint64",
    "uint8_t": "uint8",
    "size_t": "uint64",  # 64-bit MATLAB only (MATLAB has been 64-bit only since R2016a)
    "char": "int8",
    "double": "double",
    "void": "void",
}

# Stand-ins for the typedefs of <stdint.h>/<stddef.h>, prepended to the header's own declarations
# (the names are what matters here; loadlibrary resolves them to the same widths on 64-bit Linux,
# macOS and Windows).
PRELUDE = """
typedef signed char int8_t; typedef short int16_t; typedef int int32_t; typedef long long int64_t;
typedef unsigned char uint8_t; typedef unsigned short uint16_t; typedef unsigned int uint32_t;
typedef unsigned long long uint64_t; typedef unsigned long size_t; typedef long ptrdiff_t;
typedef long intptr_t; typedef unsigned long uintptr_t;
"""
PRELUDE_NAMES = set(re.findall(r"\b(\w+)\s*;", PRELUDE))


@dataclass
class Function:
    """One exported function as loadlibrary sees it."""

    name: str
    ret: str  # C type text, e.g. "int32_t" or "const char *"
    params: list[tuple[str, str]] = field(default_factory=list)  # (C type text, name)

    def matlab_signature(self) -> tuple[str, list[str]]:
        """(return type, parameter types) in loadlibrary's vocabulary (libfunctions -full)."""
        return matlab_type(self.ret), [matlab_type(t) for t, _ in self.params]


def matlab_type(ctype: str) -> str:
    """The MATLAB type loadlibrary gives a C type: int32_t -> int32, uint8_t * -> uint8Ptr,
    char * / const char * -> cstring, size_t * -> uint64Ptr (64-bit)."""
    t = ctype.replace("const", "").strip()
    if t.endswith("*"):
        base = t[:-1].strip()
        if base == "char":
            return "cstring"
        return SCALAR_TYPES[base] + "Ptr"
    return SCALAR_TYPES[t]


# --------------------------------------------------------------------------------------------
# Preprocessing


def preprocess(header: str, cc: str = "gcc") -> str:
    """`gcc -E` in C99 mode; returns only the lines that come from `header` itself."""
    out = subprocess.run(
        [cc, "-E", "-std=c99", "-x", "c", header],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    keep: list[str] = []
    current = None
    want = os.path.basename(header)
    for line in out.splitlines():
        m = re.match(r'^#\s*\d+\s+"([^"]*)"', line)
        if m:
            current = os.path.basename(m.group(1))
            continue
        if line.startswith("#"):
            continue  # #pragma and the like
        if current == want:
            keep.append(line)
    return "\n".join(keep)


def macros(header: str, cc: str = "gcc") -> dict[str, str]:
    """Every macro the header defines (after preprocessing), from `gcc -dM -E`."""
    out = subprocess.run(
        [cc, "-dM", "-E", "-std=c99", "-x", "c", header],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    # Only macros written in the header itself (not the compiler's or libc's).
    with open(header, encoding="utf-8") as f:
        own = set(re.findall(r"^\s*#\s*define\s+(\w+)", f.read(), re.M))
    result = {}
    for line in out.splitlines():
        m = re.match(r"#define\s+(\w+)(?:\s+(.*))?$", line)
        if m and m.group(1) in own:
            result[m.group(1)] = (m.group(2) or "").strip()
    return result


def int_value(text: str) -> Optional[int]:
    """The integer a macro body denotes (decimal, hex, with parentheses and a sign), else None."""
    t = text.strip()
    while t.startswith("(") and t.endswith(")"):
        t = t[1:-1].strip()
    t = re.sub(r"(?i)(?<=[0-9a-f])[ul]+$", "", t)
    try:
        return int(t, 0)
    except ValueError:
        return None


# --------------------------------------------------------------------------------------------
# The AST walk


def type_text(node: c_ast.Node) -> str:
    """Readable C type text of a declarator type (for messages and the signature table)."""
    if isinstance(node, c_ast.PtrDecl):
        quals = " ".join(node.quals)
        return type_text(node.type) + " *" + (" " + quals if quals else "")
    if isinstance(node, c_ast.TypeDecl):
        quals = " ".join(node.quals)
        return (quals + " " if quals else "") + type_text(node.type)
    if isinstance(node, c_ast.IdentifierType):
        return " ".join(node.names)
    if isinstance(node, c_ast.Struct):
        return f"struct {node.name}"
    if isinstance(node, c_ast.Union):
        return f"union {node.name}"
    if isinstance(node, c_ast.Enum):
        return f"enum {node.name}"
    if isinstance(node, c_ast.FuncDecl):
        return "function"
    if isinstance(node, c_ast.ArrayDecl):
        return type_text(node.type) + " []"
    return type(node).__name__


class Checker:
    """Collects problems in one header."""

    def __init__(self, header: str, cc: str = "gcc") -> None:
        self.header = header
        self.cc = cc
        self.problems: list[str] = []
        self.functions: list[Function] = []
        self.typedefs: dict[str, c_ast.Node] = {}

    def fail(self, msg: str) -> None:
        self.problems.append(msg)

    # -- entry points ------------------------------------------------------------------------

    def check(self) -> list[str]:
        with open(self.header, encoding="utf-8") as f:
            raw = f.read()
        if re.search(r"#\s*include\s*<stdbool\.h>", raw):
            self.fail("includes <stdbool.h>: loadlibrary has no bool; use int32_t 0/1")
        try:
            text = preprocess(self.header, self.cc)
        except subprocess.CalledProcessError as e:
            self.fail(f"{self.cc} -E failed: {e.stderr.strip()}")
            return self.problems
        except FileNotFoundError:
            self.fail(f"{self.cc} is not installed: the checker needs a C preprocessor")
            return self.problems
        if re.search(r'extern\s+"C"', text):
            self.fail('extern "C" reaches the C preprocessor output: guard it with #ifdef __cplusplus '
                      "(loadlibrary refuses C++)")
            text = re.sub(r'extern\s+"C"\s*\{', "", text)
            text = re.sub(r"\}\s*$", "", text.rstrip())
        if re.search(r"\b(_Bool|bool)\b", text):
            self.fail("uses bool/_Bool: loadlibrary maps no C bool reliably; use int32_t 0/1")
        try:
            ast = c_parser.CParser().parse(PRELUDE + text, filename=self.header)
        except Exception as e:  # pycparser raises ParseError, plain exceptions on odd input
            self.fail(f"pycparser cannot parse the header: {e}")
            return self.problems
        for ext in ast.ext:
            self.visit_top(ext)
        if not self.functions:
            self.fail("no function declarations found (is this libsock.h?)")
        self.check_macro_names()
        return self.problems

    # -- top-level declarations --------------------------------------------------------------

    def visit_top(self, ext: c_ast.Node) -> None:
        if isinstance(ext, c_ast.Typedef):
            if ext.name in PRELUDE_NAMES:
                return
            self.typedefs[ext.name] = ext.type
            self.check_type(ext.type, f"typedef {ext.name}", in_signature=False)
            return
        if isinstance(ext, c_ast.FuncDef):
            self.fail(f"{ext.decl.name}: a function body in the header (loadlibrary wants declarations)")
            return
        if not isinstance(ext, c_ast.Decl):
            self.fail(f"unexpected top-level construct {type(ext).__name__}")
            return
        if isinstance(ext.type, c_ast.FuncDecl):
            self.visit_function(ext)
        elif ext.name is None:
            # A bare struct/union/enum definition.
            self.check_type(ext.type, "a type definition", in_signature=False)
        else:
            self.fail(f"{ext.name}: a global variable (loadlibrary cannot reach data symbols)")
            self.check_type(ext.type, ext.name, in_signature=False)

    def visit_function(self, decl: c_ast.Decl) -> None:
        name = decl.name
        fdecl = decl.type
        assert isinstance(fdecl, c_ast.FuncDecl)
        if not name.startswith("ls_"):
            self.fail(f"{name}: exported functions must be named ls_*")
        ret = fdecl.type
        ret_text = type_text(ret)
        self.check_type(ret, f"{name}: return type", in_signature=True)
        if not (self.is_named(ret, "int32_t") or self.is_const_char_ptr(ret)):
            self.fail(f"{name}: returns {ret_text}; every function must return int32_t (LS_OK or "
                      "LS_ERR_*) or const char * (a static string)")
        fn = Function(name, ret_text)
        params = fdecl.args.params if fdecl.args is not None else []
        for i, p in enumerate(params):
            where = f"{name}: parameter {i + 1}"
            if isinstance(p, c_ast.EllipsisParam):
                self.fail(f"{name}: varargs (...) - loadlibrary cannot call variadic functions")
                continue
            if isinstance(p, c_ast.Typename):  # (void) or an unnamed parameter
                if self.is_named(p.type, "void") and len(params) == 1:
                    continue
                self.fail(f"{where}: unnamed parameter")
                self.check_type(p.type, where, in_signature=True)
                fn.params.append((type_text(p.type), ""))
                continue
            where = f"{name}: parameter {p.name!r}"
            self.check_type(p.type, where, in_signature=True)
            fn.params.append((type_text(p.type), p.name))
        self.functions.append(fn)

    # -- types --------------------------------------------------------------------------------

    def resolve(self, node: c_ast.Node) -> c_ast.Node:
        """Follow typedef names to the underlying declarator (for by-value checks)."""
        seen = set()
        while (
            isinstance(node, c_ast.TypeDecl)
            and isinstance(node.type, c_ast.IdentifierType)
            and len(node.type.names) == 1
            and node.type.names[0] in self.typedefs
            and node.type.names[0] not in seen
        ):
            seen.add(node.type.names[0])
            node = self.typedefs[node.type.names[0]]
        return node

    @staticmethod
    def is_named(node: c_ast.Node, name: str) -> bool:
        return (
            isinstance(node, c_ast.TypeDecl)
            and isinstance(node.type, c_ast.IdentifierType)
            and node.type.names == [name]
        )

    def is_const_char_ptr(self, node: c_ast.Node) -> bool:
        return (
            isinstance(node, c_ast.PtrDecl)
            and isinstance(node.type, c_ast.TypeDecl)
            and "const" in node.type.quals
            and isinstance(node.type.type, c_ast.IdentifierType)
            and node.type.type.names == ["char"]
        )

    def check_type(self, node: c_ast.Node, where: str, in_signature: bool) -> None:
        """Reject what loadlibrary rejects; in a signature also reject aggregates by value and
        anything outside the plain type set."""
        resolved = self.resolve(node)
        if isinstance(resolved, c_ast.FuncDecl):
            self.fail(f"{where}: a function type - loadlibrary takes no callbacks")
            return
        if isinstance(resolved, c_ast.PtrDecl):
            inner = self.resolve(resolved.type)
            if isinstance(inner, c_ast.FuncDecl):
                self.fail(f"{where}: a function pointer (callback) - loadlibrary takes no callbacks")
                return
            if isinstance(inner, c_ast.PtrDecl):
                self.fail(f"{where}: pointer to pointer (**) - not allowed in libsock's C ABI")
                return
            self.check_type(inner, where, in_signature=False)
            if in_signature:
                self.check_plain(inner, where, pointer=True)
            return
        if isinstance(resolved, c_ast.ArrayDecl):
            self.check_type(resolved.type, where, in_signature=False)
            if in_signature:
                self.fail(f"{where}: an array parameter - write it as a pointer and a length")
            return
        if isinstance(resolved, c_ast.TypeDecl):
            inner = resolved.type
            if isinstance(inner, c_ast.Union):
                self.fail(f"{where}: a union - loadlibrary cannot marshal unions")
                self.check_members(inner, where)
                return
            if isinstance(inner, c_ast.Struct):
                if in_signature:
                    self.fail(f"{where}: struct {inner.name or ''} passed by value - not allowed")
                self.check_members(inner, where)
                return
            if isinstance(inner, c_ast.Enum):
                if in_signature:
                    self.fail(f"{where}: enum {inner.name or ''} in a signature - pass int32_t")
                return
            if isinstance(inner, c_ast.IdentifierType):
                if any(n in ("_Bool", "bool") for n in inner.names):
                    self.fail(f"{where}: bool - use int32_t 0/1")
                    return
                if in_signature:
                    self.check_plain(resolved, where, pointer=False)
                return
        # Anything else (e.g. a bare Struct node from a declaration) is checked by its parts.
        if isinstance(resolved, (c_ast.Struct, c_ast.Union)):
            if isinstance(resolved, c_ast.Union):
                self.fail(f"{where}: a union - loadlibrary cannot marshal unions")
            self.check_members(resolved, where)
        elif isinstance(resolved, c_ast.Enum) and in_signature:
            self.fail(f"{where}: enum in a signature - pass int32_t")

    def check_members(self, agg: c_ast.Node, where: str) -> None:
        for member in getattr(agg, "decls", None) or []:
            mwhere = f"{where}, field {member.name!r}"
            if member.bitsize is not None:
                self.fail(f"{mwhere}: a bitfield - loadlibrary cannot lay bitfields out")
            self.check_type(member.type, mwhere, in_signature=False)

    def check_plain(self, node: c_ast.Node, where: str, pointer: bool) -> None:
        """Only the plain types the MATLAB classes map (see SCALAR_TYPES)."""
        if not (isinstance(node, c_ast.TypeDecl) and isinstance(node.type, c_ast.IdentifierType)):
            self.fail(f"{where}: {type_text(node)} is not a plain C99 type")
            return
        names = node.type.names
        if len(names) != 1 or names[0] not in SCALAR_TYPES:
            self.fail(f"{where}: type {' '.join(names)} is outside the plain set "
                      f"({', '.join(sorted(SCALAR_TYPES))})")
            return
        if names[0] == "void" and not pointer:
            self.fail(f"{where}: void by value")
        if names[0] == "void" and pointer:
            self.fail(f"{where}: void * - say what the bytes are (uint8_t *)")

    # -- macros -------------------------------------------------------------------------------

    def check_macro_names(self) -> None:
        for name in macros(self.header, self.cc):
            if name == "LIBSOCK_H":
                continue
            if not name.startswith("LS_"):
                self.fail(f"macro {name}: public macros must be named LS_*")


# --------------------------------------------------------------------------------------------
# Generated MATLAB constants


def header_constants(header: str, cc: str = "gcc") -> dict[str, int]:
    """The integer LS_* macros of the header (the ones bindings/matlab/+libsock/LS_*.m mirror)."""
    result = {}
    for name, body in macros(header, cc).items():
        if not name.startswith("LS_"):
            continue
        v = int_value(body)
        if v is not None:
            result[name] = v
    return result


def read_constant_file(path: str) -> Optional[int]:
    """The value a generated constant file returns (`v = int32(-1);`)."""
    with open(path, encoding="utf-8") as f:
        m = re.search(r"^\s*v\s*=\s*(?:int32|int64|double)\(\s*(-?\d+)\s*\)\s*;", f.read(), re.M)
    return int(m.group(1)) if m else None


def check_constants(header: str, folder: str, cc: str = "gcc") -> list[str]:
    problems = []
    want = header_constants(header, cc)
    have = {
        f[:-2]: os.path.join(folder, f)
        for f in os.listdir(folder)
        if f.startswith("LS_") and f.endswith(".m")
    }
    for name, value in sorted(want.items()):
        if name not in have:
            problems.append(f"constant {name} = {value}: no {name}.m in {folder} "
                            "(run bindings/matlab/tools/gen_matlab_constants.py)")
            continue
        got = read_constant_file(have[name])
        if got != value:
            problems.append(f"constant {name}: header says {value}, {name}.m says {got}")
    for name in sorted(set(have) - set(want)):
        problems.append(f"stale constant file {name}.m: the header has no #define {name}")
    return problems


# --------------------------------------------------------------------------------------------
# Self-test: every rule must catch a small bad header.

BAD_HEADERS = {
    "callback": "typedef void (*ls_cb)(int32_t code);\nint32_t ls_on(int64_t h, ls_cb cb);\n",
    "callback param": "int32_t ls_on(int64_t h, void (*cb)(int32_t));\n",
    "union": "union ls_u { int32_t a; double b; };\nint32_t ls_u_get(int64_t h, union ls_u *out);\n",
    "varargs": "int32_t ls_printf(const char *fmt, ...);\n",
    "bool": "#include <stdbool.h>\nint32_t ls_set(int64_t h, bool on);\n",
    "_Bool": "int32_t ls_set(int64_t h, _Bool on);\n",
    "enum by value": "enum ls_kind { LS_A, LS_B };\nint32_t ls_make(enum ls_kind k);\n",
    "struct by value": "struct ls_pt { int32_t x; };\nint32_t ls_put(struct ls_pt p);\n",
    "struct return": "struct ls_pt { int32_t x; };\nstruct ls_pt ls_get(void);\n",
    "pointer to pointer": "int32_t ls_names(char **out);\n",
    "bitfield": "struct ls_b { unsigned a : 3; };\nint32_t ls_bits(struct ls_b *b);\n",
    "int return": "int ls_count(int64_t h);\n",
    "void return": "void ls_reset(int64_t h);\n",
    "non-const char return": "char *ls_name(int64_t h);\n",
    "unguarded extern C": 'extern "C" {\nint32_t ls_ok(void);\n}\n',
    "long parameter": "int32_t ls_wait(int64_t h, long ms);\n",
    "name without ls_": "int32_t sock_open(int64_t *out);\n",
}


def check_text(text: str, cc: str = "gcc") -> list[str]:
    """Check a header given as text (used by the self-test and the pytest suite)."""
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "bad.h")
        with open(path, "w", encoding="utf-8") as f:
            f.write("#include <stddef.h>\n#include <stdint.h>\n" + text)
        return Checker(path, cc).check()


def self_test(cc: str = "gcc") -> int:
    failures = 0
    good = "int32_t ls_ok(int64_t h, const uint8_t *buf, size_t len, size_t *out_len);\n" \
           "const char *ls_name(int32_t code);\n#define LS_X -3\n"
    problems = check_text(good, cc)
    if problems:
        print(f"self-test: a good header was rejected: {problems}")
        failures += 1
    for what, text in BAD_HEADERS.items():
        problems = check_text(text, cc)
        if problems:
            print(f"self-test: {what}: rejected ({problems[0]})")
        else:
            print(f"self-test: {what}: NOT rejected")
            failures += 1
    print(f"self-test: {len(BAD_HEADERS) + 1 - failures} passed, {failures} failed")
    return 1 if failures else 0


def main(argv: Optional[Iterable[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--header", default=DEFAULT_HEADER)
    ap.add_argument("--constants", default=DEFAULT_CONSTANTS)
    ap.add_argument("--no-constants", action="store_true", help="skip the LS_*.m comparison")
    ap.add_argument("--cc", default=os.environ.get("CC", "gcc"))
    ap.add_argument("--self-test", action="store_true")
    ap.add_argument("--signatures", action="store_true",
                    help="print each function as loadlibrary types it (libfunctions -full)")
    args = ap.parse_args(list(argv) if argv is not None else None)
    if args.self_test:
        return self_test(args.cc)
    checker = Checker(args.header, args.cc)
    problems = checker.check()
    if not args.no_constants:
        problems += check_constants(args.header, args.constants, args.cc)
    if args.signatures:
        for fn in checker.functions:
            ret, params = fn.matlab_signature()
            print(f"[{ret}] {fn.name}({', '.join(params)})")
    for p in problems:
        print(f"check_header: {p}")
    n = len(checker.functions)
    if problems:
        print(f"check_header: {args.header}: {len(problems)} problem(s) in {n} functions")
        return 1
    print(f"check_header: {args.header}: {n} functions, all loadable by MATLAB loadlibrary")
    return 0


if __name__ == "__main__":
    sys.exit(main())
