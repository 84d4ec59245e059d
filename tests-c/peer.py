#!/usr/bin/env python3
"""A hand-built peer in another language for the C and C++ door tests (Python stdlib only).

    peer.py lenecho PORT   connect to 127.0.0.1:PORT; read frames with a 4-byte big-endian
                           length header, parsed by hand with struct, and send each body back
                           re-framed by hand, until the C side closes. Exit 0 when every frame
                           was well-formed, 1 otherwise; prints the number of frames echoed.
"""
import socket
import struct
import sys


def recv_exact(s, n):
    out = bytearray()
    while len(out) < n:
        chunk = s.recv(n - len(out))
        if not chunk:
            return None if not out else bytes(out)
        out += chunk
    return bytes(out)


def lenecho(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=60)
    frames = 0
    while True:
        head = recv_exact(s, 4)
        if head is None:
            break
        if len(head) != 4:
            print("peer: stream ended inside a header", file=sys.stderr)
            return 1
        (n,) = struct.unpack(">I", head)
        if n > 65536:
            print(f"peer: frame of {n} bytes is larger than the test sends", file=sys.stderr)
            return 1
        body = recv_exact(s, n) if n else b""
        if body is None or len(body) != n:
            print("peer: stream ended inside a body", file=sys.stderr)
            return 1
        s.sendall(struct.pack(">I", len(body)) + body)
        frames += 1
    s.close()
    print(frames)
    return 0


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "lenecho":
        return lenecho(int(sys.argv[2]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
