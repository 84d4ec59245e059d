#!/usr/bin/env python3
"""Writes the committed seed corpus (fuzz/seeds/<target>/) and the hand-made regression inputs
(fuzz/regressions/<target>/) in the fuzz targets' input layout (fuzz/src/gen.rs, targets.rs).

Run from anywhere: `python3 fuzz/make_seeds.py`. It rewrites only the files it names, so
regression inputs saved from fuzzer findings stay.
"""

import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))

# --- framings (fuzz/src/gen.rs) -------------------------------------------------------------
MAX_VALUE, MAX_SMALL, MAX_2_40, MAX_USIZE, MAX_U32, MAX_NEAR_USIZE, MAX_DEFAULT = 0, 1, 2, 3, 4, 5, 6


def u64(v):
    return struct.pack("<Q", v & (2**64 - 1))


def raw():
    return b"\x00"


def lp(width=4, little=False, keep=False, offset=0, extra=0, max_sel=MAX_DEFAULT, max_v=0,
       adj_kind=0, adj_v=0, length_bits=None, flag=0):
    """LengthPrefixed; length_bits=None: the whole field holds the length."""
    b = {1: 0, 2: 1, 4: 2, 8: 3}[width] | (4 if little else 0) | (8 if keep else 0)
    b |= adj_kind << 5
    lb = 0
    if length_bits is not None:
        b |= 16
        lb = (length_bits - 1) % (width * 8)
    return (bytes([1, b, offset, extra, max_sel]) + u64(max_v) + u64(adj_v) + bytes([lb])
            + u64(flag))


DELIMS = {b"\n": 0, b"\r\n": 1, b"\n\n": 2, b"\r\n\r\n": 3, b"aa": 4, b"aba": 5, b"\0": 6}


def delim(d, keep=False, max_sel=MAX_DEFAULT, max_v=0):
    sel = DELIMS.get(d, 7)
    out = bytes([2, (sel << 1) | (1 if keep else 0), max_sel]) + u64(max_v)
    if sel == 7:
        out += bytes([len(d)]) + d
    return out


def fixed(sel, v=0):
    """Fixed: sel 0 -> v % 17, 1 -> 1 + v % 1024, 2 -> 2^40, 3 -> usize::MAX."""
    return bytes([3, sel]) + u64(v)


def chunks(*sizes):
    return bytes([len(sizes)]) + bytes(sizes)


# --- per-target inputs (fuzz/src/targets.rs) ----------------------------------------------
def decode_input(framing, plan, wire, use_cut=False):
    return framing + plan + bytes([1 if use_cut else 0]) + wire


def msgs_input(framing, plan, msgs, mode=0):
    """mode bit 0: send through a Connection, bit 1: one send_msgs, bit 2: decode with cut."""
    out = framing + plan + bytes([mode])
    for m in msgs:
        if isinstance(m, tuple):  # (code, extra bytes): 251 fit, 252 large, 253 repeat, 254 grow
            out += bytes([m[0]]) + m[1]
        else:
            assert len(m) <= 250
            out += bytes([len(m)]) + m
    return out


# Receive operations: kind + 5 * k gives the kind with (k << 3) parameters... built directly:
def op(kind, param=0):
    """kind 0 recv_msg, 1 recv_msg_into, 2 recv_msgs, 3 recv_msgs_packed, 4 recv_msgs_into;
    param picks the buffer size index (0..7: 0,1,2,3,5,16,300,64K) or max (1 + param)."""
    for b in range(256):
        if b % 5 == kind and (b >> 3) % 8 == param:
            return b
    raise ValueError((kind, param))


def recv_input(framing, plan, ops, wire, close=False):
    return (framing + plan + bytes([len(ops) - 1]) + bytes(ops) + bytes([1 if close else 0])
            + wire)


def be(v, n):
    return v.to_bytes(n, "big")


ALL_OPS = [op(0), op(1, 7), op(2, 3), op(3, 2), op(4, 7), op(1, 2), op(4, 1)]

HP = lp(4, little=True, length_bits=22, flag=0x2A5, max_sel=MAX_SMALL, max_v=255)
HP_FRAME = struct.pack("<I", (0x2A5 << 22) | 3) + b"abc"

SEEDS = {
    "decode_chunks": {
        "raw": decode_input(raw(), chunks(3), b"hello world"),
        "lp4-two-frames": decode_input(lp(4), chunks(1), b"\0\0\0\x05hello\0\0\0\0"),
        "lp4-cut-split": decode_input(lp(4), chunks(2, 7), b"\0\0\0\x02hi\0\0\0\x03wor",
                                      use_cut=True),
        "lp2-le-offset-adjust-keep": decode_input(
            lp(2, little=True, keep=True, offset=2, extra=2, adj_kind=1), chunks(1, 3),
            b"TY\x0a\x00ZZbody"),
        "hp-pack": decode_input(HP, chunks(2), HP_FRAME + HP_FRAME),
        "hp-pack-wrong-flag": decode_input(HP, chunks(5), struct.pack("<I", 3) + b"abc"),
        "lp1-oversized-then-ok": decode_input(
            lp(1, max_sel=MAX_SMALL, max_v=3), chunks(2), b"\x05abcde\x02ok"),
        "lp8-claims-2^40": decode_input(lp(8, max_sel=MAX_2_40), chunks(3),
                                        be(1 << 40, 8) + b"xyz"),
        "lp8-all-ones": decode_input(lp(8, max_sel=MAX_USIZE), chunks(4), b"\xff" * 8 + b"ab"),
        "lp4-negative-adjust": decode_input(lp(4, adj_kind=1), chunks(1), be(2, 4)),
        "lines": decode_input(delim(b"\n"), chunks(1, 2, 3), b"one\ntwo\n\nthree\n"),
        "crlf-keep": decode_input(delim(b"\r\n", keep=True), chunks(1), b"a\r\nb\r\r\n\r\n"),
        "nn": decode_input(delim(b"\n\n"), chunks(1, 4), b"line1\n\n\nnext\n\n"),
        "crlfcrlf": decode_input(delim(b"\r\n\r\n"), chunks(5),
                                 b"GET / HTTP/1.1\r\nHost: x\r\n\r\n\r\n\r\n\r\n"),
        "aa": decode_input(delim(b"aa"), chunks(1), b"xaaayaaaaz"),
        "abab-custom": decode_input(delim(b"abab"), chunks(3), b"xabababyababz"),
        "long-line": decode_input(delim(b"\r\n", max_sel=MAX_SMALL, max_v=5), chunks(2),
                                  b"one\r\n0123456789abcdef\r\ntwo\r\n\r\n"),
        "fixed4": decode_input(fixed(0, 4), chunks(3), b"abcdefghij"),
        "fixed-2^40": decode_input(fixed(2), chunks(1), b"abc"),
    },
    "encode_roundtrip": {
        "lp4": msgs_input(lp(4), chunks(1), [b"hello", b"", b"world"], mode=1),
        "lp4-batch": msgs_input(lp(4, little=True), chunks(3), [b"a", b"bc", b""], mode=3),
        "lp1-too-large": msgs_input(lp(1), chunks(2), [b"x", (252, b"\x00\x00z"), b"y"],
                                    mode=1),
        "lp2-keep-header": msgs_input(lp(2, little=True, keep=True, offset=2, extra=2,
                                         adj_kind=1), chunks(1),
                                      [b"TY\0\0ZZbody", b"abc", (251, b"h")], mode=5),
        "hp-pack": msgs_input(HP, chunks(2), [b"abc", b"", (254, b"d")], mode=1),
        "raw": msgs_input(raw(), chunks(1), [b"a", b"bc"], mode=1),
        "fixed3": msgs_input(fixed(0, 3), chunks(2), [b"abc", b"de", b"fgh"], mode=3),
        "lines": msgs_input(delim(b"\n"), chunks(1), [b"one", b"two\n", b"", b"three"],
                            mode=1),
        "nn": msgs_input(delim(b"\n\n"), chunks(1), [b"line1\n", b"next", b"x"], mode=1),
        "crlfcrlf-keep": msgs_input(delim(b"\r\n\r\n", keep=True), chunks(3),
                                    [b"a\r\n", b"b\r", b"c"], mode=3),
        "aa": msgs_input(delim(b"aa"), chunks(1), [b"xa", b"y", b"ab"], mode=5),
        "aba": msgs_input(delim(b"aba"), chunks(2), [b"xab", b"ba", b"b"], mode=1),
        "large-msg": msgs_input(lp(4), chunks(255), [(252, b"\x10\x00q"), b"tail"], mode=1),
    },
    "recv_socket": {
        "raw": recv_input(raw(), chunks(3), ALL_OPS, b"hello world"),
        "lp4": recv_input(lp(4), chunks(1, 5), ALL_OPS,
                          b"\0\0\0\x05hello\0\0\0\0\0\0\0\x03abc"),
        "lp4-small-buffers": recv_input(lp(4), chunks(255), [op(1, 1), op(4, 2), op(1, 1)],
                                        b"\0\0\0\x05hello\0\0\0\x01x", close=True),
        "lp1-oversized": recv_input(lp(1, max_sel=MAX_SMALL, max_v=3), chunks(2),
                                    [op(2, 4), op(0)], b"\x05abcde\x02ok\x09abc"),
        "hp-pack-wrong-flag": recv_input(HP, chunks(4), [op(0)],
                                         HP_FRAME + struct.pack("<I", 3) + b"abc"),
        "lp8-claims-2^40": recv_input(lp(8, max_sel=MAX_2_40), chunks(3), [op(0)],
                                      be(1 << 40, 8) + b"xyz"),
        "lp4-claims-16MiB": recv_input(lp(4), chunks(4), [op(0)], be((1 << 24) - 1, 4)),
        "lines": recv_input(delim(b"\n"), chunks(1, 2, 3), ALL_OPS, b"one\ntwo\n\nthree\n"),
        "nn": recv_input(delim(b"\n\n", keep=True), chunks(2), ALL_OPS,
                         b"line1\n\n\nnext\n\ntail"),
        "long-line": recv_input(delim(b"\r\n", max_sel=MAX_SMALL, max_v=5), chunks(2),
                                [op(3, 3), op(0)], b"one\r\n0123456789abcdef\r\ntwo\r\n"),
        "fixed4": recv_input(fixed(0, 4), chunks(3), ALL_OPS, b"abcdefghij", close=True),
        "fixed-2^40": recv_input(fixed(2), chunks(1), [op(0)], b"abc"),
    },
}

# Inputs that broke a property before the core fixes of issue 11 (each must pass now).
REGRESSIONS = {
    "decode_chunks": {
        # max_len = usize::MAX, an all-ones 8-byte field: header_len + body overflowed (panic).
        "lp8-all-ones-max-usize": decode_input(lp(8, max_sel=MAX_USIZE), chunks(1),
                                               b"\xff" * 8),
        # The same with a 10-byte header and a length just within max_len, decoded whole.
        "lp8-near-max-usize-header10": decode_input(lp(8, extra=2, max_sel=MAX_USIZE),
                                                    chunks(255), b"\xff" * 7 + b"\xfa\0\0"),
    },
    "encode_roundtrip": {
        # A message ending in a prefix of a self-overlapping delimiter was accepted and arrived
        # changed: "line1\n" + "next" with "\n\n" decoded as "line1", "\nnext".
        "nn-line-ending-newline": msgs_input(delim(b"\n\n"), chunks(255), [b"line1\n", b"next"]),
        "crlfcrlf-ending-crlf": msgs_input(delim(b"\r\n\r\n"), chunks(1), [b"a\r\n", b"b"]),
        "aa-ending-a": msgs_input(delim(b"aa", keep=True), chunks(1), [b"xa", b"y"], mode=1),
    },
    "recv_socket": {
        # The blocking reader reserved the whole claimed frame (2^40 bytes: allocation failure).
        "lp8-claims-2^40": recv_input(lp(8, max_sel=MAX_2_40), chunks(255), [op(0)],
                                      be(1 << 40, 8)),
        # Fixed(2^40): the reader reserved the frame before any byte arrived.
        "fixed-2^40": recv_input(fixed(2), chunks(255), [op(0)], b"x"),
        # Fixed(usize::MAX): the reservation overflowed (capacity overflow panic).
        "fixed-usize-max": recv_input(fixed(3), chunks(255), [op(0)], b""),
        # A 4-byte header claiming 16 MiB (the default max_len): 16 MiB reserved for 4 bytes.
        "lp4-claims-16MiB": recv_input(lp(4), chunks(255), [op(0)], be((1 << 24) - 1, 4)),
        # max_len = usize::MAX, an all-ones 8-byte field: overflow panic in the reader.
        "lp8-all-ones-max-usize": recv_input(lp(8, max_sel=MAX_USIZE), chunks(255), [op(0)],
                                             b"\xff" * 8),
    },
}


def write(kind, table):
    for target, files in table.items():
        d = os.path.join(HERE, kind, target)
        os.makedirs(d, exist_ok=True)
        for name, data in files.items():
            with open(os.path.join(d, name), "wb") as f:
                f.write(data)


if __name__ == "__main__":
    write("seeds", SEEDS)
    write("regressions", REGRESSIONS)
    n = sum(len(v) for v in SEEDS.values()) + sum(len(v) for v in REGRESSIONS.values())
    print(f"wrote {n} files under {HERE}/seeds and {HERE}/regressions")
