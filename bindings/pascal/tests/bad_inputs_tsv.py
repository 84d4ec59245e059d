#!/usr/bin/env python3
"""Flatten tests-data/bad_inputs.json for the Pascal tests (which have no JSON reader without
fcl-json): one line per row that lists the door, tab-separated:

    id  op  expect[|expect...]  pending(0|1)  key=value ...

Keys are paths into the row's input ("address", "framing.width", "settings.send_queue_bytes");
values are "i:<integer>", "l:<integer>,<integer>..." (a list of integers) or "s:<hex of the
bytes>" (text as UTF-8, {"hex": ..} as is, {"text", "repeat", "times", "then"} expanded). Usage: bad_inputs_tsv.py DOOR [TABLE] > out.tsv
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any, Iterator


def value(v: Any) -> str:
    if isinstance(v, bool):
        return f"i:{int(v)}"
    if isinstance(v, int):
        return f"i:{v}"
    if isinstance(v, str):
        return "s:" + v.encode("utf-8", "surrogatepass").hex()
    if isinstance(v, list) and all(isinstance(x, int) and not isinstance(x, bool) for x in v):
        return "l:" + ",".join(str(x) for x in v)
    if isinstance(v, dict) and "hex" in v:
        return "s:" + v["hex"]
    if isinstance(v, dict) and "repeat" in v:
        text = str(v.get("text", "")) + str(v["repeat"]) * int(v["times"]) + str(v.get("then", ""))
        return "s:" + text.encode().hex()
    raise ValueError(f"no flat form for {v!r}")


def flat(prefix: str, obj: dict[str, Any]) -> Iterator[str]:
    for k, v in obj.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict) and "hex" not in v and "repeat" not in v:
            yield from flat(key + ".", v)
        else:
            yield f"{key}={value(v)}"


def main() -> None:
    door = sys.argv[1]
    here = os.path.dirname(os.path.abspath(__file__))
    path = sys.argv[2] if len(sys.argv) > 2 else os.path.join(here, "..", "..", "..", "tests-data", "bad_inputs.json")
    with open(path, encoding="utf-8") as f:
        rows = json.load(f)["rows"]
    for r in rows:
        if door not in r["doors"]:
            continue
        exp = r["expect"] if isinstance(r["expect"], list) else [r["expect"]]
        fields = [r["id"], r["op"], "|".join(exp), "1" if r.get("pending") else "0", *flat("", r["input"])]
        assert all("\t" not in x and "\n" not in x for x in fields), r["id"]
        print("\t".join(fields))


if __name__ == "__main__":
    main()
