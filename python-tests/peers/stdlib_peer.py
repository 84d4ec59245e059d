#!/usr/bin/env python3
"""Hand-built peers in another language for the C, C++ and Pascal door tests (Python stdlib only;
S05 and S07 of docs/SCENARIOS.md; the C# door's S05 too). .ci/suites/40-c.sh and 55-csharp.sh
pass this file as LS_TEST_PEER, 45-pascal.sh as LS_PASCAL_PEER.

    stdlib_peer.py echo          listen on 127.0.0.1:0, print the port, accept one client and
                                 echo what it sends until it closes.
    stdlib_peer.py countreply    listen on 127.0.0.1:0, print the port, accept one client, read
                                 to end of stream, then reply "got N bytes" and close.
    stdlib_peer.py lenecho PORT  connect to 127.0.0.1:PORT; read frames with a 4-byte big-endian
                                 length header, parsed by hand with struct, and send each body
                                 back re-framed by hand, until the other side closes. Prints the
                                 number of frames echoed.

Exit status 0 when everything went as described, 1 otherwise.
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


def serve_one():
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    srv.settimeout(30)
    print(srv.getsockname()[1], flush=True)
    conn, _ = srv.accept()
    conn.settimeout(60)
    srv.close()
    return conn


def echo():
    conn = serve_one()
    while True:
        data = conn.recv(65536)
        if not data:
            break
        conn.sendall(data)
    conn.close()
    return 0


def countreply():
    conn = serve_one()
    total = 0
    while True:
        data = conn.recv(65536)
        if not data:
            break
        total += len(data)
    conn.sendall(f"got {total} bytes".encode())
    conn.close()
    return 0


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
    print(frames, flush=True)
    return 0


def main():
    args = sys.argv[1:]
    if args == ["echo"]:
        return echo()
    if args == ["countreply"]:
        return countreply()
    if len(args) == 2 and args[0] == "lenecho":
        return lenecho(int(args[1]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
