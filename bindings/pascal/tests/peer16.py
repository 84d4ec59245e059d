#!/usr/bin/env python3
"""Python stdlib peers for the Pascal door's issue-16 tests (tests/test_issue16.inc): typed reads
and writes checked against struct, and the second process of the fd-passing test.

    peer16.py typed           listen on 127.0.0.1:0, print the port, accept one client; send the
                              numbers of VALUES packed by struct, big-endian then little-endian,
                              then read the same numbers back (sent by the Pascal side in the
                              same two orders) and compare; then one byte of a big-endian int32,
                              wait for one byte 'g' from the client, send the other three bytes;
                              then two bytes and close. Prints "ok" or what differed.

Exit status 0 when everything went as described, 1 otherwise. Every socket wait is bounded.
"""
import socket
import struct
import sys

# int8, uint8, int16, uint16, int32, uint32, int64, uint64, float32, float64
FORMAT = "bBhHiIqQfd"
VALUES = (-5, 250, -12345, 0xBEEF, -123456789, 0xDEADBEEF, -1234567890123456789,
          0xFEDCBA9876543210, 1.5, -2.25e300)


def recv_exact(s, n):
    out = bytearray()
    while len(out) < n:
        chunk = s.recv(n - len(out))
        if not chunk:
            break
        out += chunk
    return bytes(out)


def typed():
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    srv.settimeout(30)
    print(srv.getsockname()[1], flush=True)
    conn, _ = srv.accept()
    conn.settimeout(30)
    srv.close()
    problems = []
    for order in (">", "<"):
        conn.sendall(struct.pack(order + FORMAT, *VALUES))
    for order in (">", "<"):
        size = struct.calcsize(order + FORMAT)
        got = recv_exact(conn, size)
        if len(got) != size:
            problems.append(f"{order}: {len(got)} bytes, wanted {size}")
            continue
        back = struct.unpack(order + FORMAT, got)
        if back != VALUES:
            problems.append(f"{order}: {back!r}")
    whole = struct.pack(">i", 0x01020304)
    conn.sendall(whole[:1])
    if recv_exact(conn, 1) != b"g":
        problems.append("no 'g' after the first byte")
    conn.sendall(whole[1:])
    conn.sendall(b"\x01\x02")
    conn.close()
    print("ok" if not problems else "; ".join(problems), flush=True)
    return not problems


if __name__ == "__main__":
    modes = {"typed": typed}
    if len(sys.argv) < 2 or sys.argv[1] not in modes:
        print(__doc__)
        sys.exit(2)
    sys.exit(0 if modes[sys.argv[1]](*sys.argv[2:]) else 1)
