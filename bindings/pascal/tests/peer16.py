#!/usr/bin/env python3
"""Python stdlib peers for the Pascal door's issue-16 tests (tests/test_issue16.inc): typed reads
and writes checked against struct, and the second process of the fd-passing test.

    peer16.py typed           listen on 127.0.0.1:0, print the port, accept one client; send the
                              numbers of VALUES packed by struct, big-endian then little-endian,
                              then read the same numbers back (sent by the Pascal side in the
                              same two orders) and compare; then one byte of a big-endian int32,
                              wait for one byte 'g' from the client, send the other three bytes;
                              then two bytes and close. Prints "ok" or what differed.

    peer16.py fds PATH FILE   the second process of the descriptor test: connect to the Unix
                              socket PATH, print its pid; send the byte "F" with two
                              descriptors (FILE opened for reading, one end of a socket pair);
                              say "ping" on its end of the pair and wait for "pong"; then
                              receive one byte with one descriptor, read what that file holds
                              and print it. Prints "ok" last.

    peer16.py kcpserve CONV N the reference KCP (PyPI kcp, through python-tests/peers/kcp_ref.py)
                              as an echo server on 127.0.0.1:0: prints the port, echoes until
                              N messages of conv CONV came and every echo was acknowledged (or
                              the client fell silent for 20 s: it may leave with an ack lost),
                              then prints {"server_got": .., "server_in_order": ..} (JSON).
    peer16.py kcpclient PORT CONV N   the reference KCP client: sends N messages (kcp_ref.msg)
                              to 127.0.0.1:PORT and checks the echoes; prints kcp_ref's JSON
                              ({"received": .., "first_bad": .., "extra": ..}).

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


def fds(path, file):
    import os
    problems = []
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    c.settimeout(30)
    c.connect(path)
    print(os.getpid(), flush=True)
    f = open(file, "rb")
    a, b = socket.socketpair()
    a.settimeout(30)
    socket.send_fds(c, [b"F"], [f.fileno(), b.fileno()])
    f.close()
    b.close()
    a.sendall(b"ping")
    if recv_exact(a, 4) != b"pong":
        problems.append("no pong on the passed socket")
    a.close()
    data, got, _flags, _addr = socket.recv_fds(c, 16, 4)
    if data != b"G" or len(got) != 1:
        problems.append(f"received {data!r} with {len(got)} descriptors")
    for fd in got:
        with os.fdopen(fd, "rb") as g:
            g.seek(0)
            print(g.read().decode(), flush=True)
    c.close()
    print("ok" if not problems else "; ".join(problems), flush=True)
    return not problems


def kcp_ref():
    import os
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, os.path.join(here, "..", "..", "..", "python-tests", "peers"))
    import kcp_ref as ref
    return ref


def kcpserve(conv, n):
    import json
    import time
    ref = kcp_ref()
    conv, n = int(conv, 0), int(n)
    with ref.RefServer() as srv:
        print(srv.address[1], flush=True)
        end = time.monotonic() + 280
        while time.monotonic() < end:
            got = srv.received.get(conv, [])
            sessions = [k for (_a, c), k in list(srv.sessions.items()) if c == conv]
            if len(got) >= n:
                # Every message came. Stay while echoes are unacknowledged and the client still
                # talks: under 30 % loss the echoes can trail the last message by seconds, and
                # a client waiting for them acknowledges each one that arrives. Leave when all
                # are acknowledged, or after 20 s of silence: the client may close once it has
                # every echo (an acknowledgement lost then is never sent again), and a client
                # whose window update was lost stays silent until this reference probes its
                # window (after 7 s, then 10.5 s more).
                if all(k.get_outbound_packets() == 0 for k in sessions):
                    break
                if time.monotonic() - srv.last_in > 20:
                    print("kcpserve: the client fell silent for 20 s with echoes unacknowledged",
                          file=sys.stderr, flush=True)
                    break
            time.sleep(0.01)
        got = list(srv.received.get(conv, []))
    ok = got == [ref.msg(i) for i in range(n)]
    print(json.dumps({"server_got": len(got), "server_in_order": ok}), flush=True)
    return ok


def kcpclient(port, conv, n):
    import json
    ref = kcp_ref()
    r = ref.run_ref_client(("127.0.0.1", int(port)), int(conv, 0), int(n), timeout=200)
    print(json.dumps(r), flush=True)
    return r["received"] == int(n) and r["first_bad"] is None and not r["extra"]


if __name__ == "__main__":
    modes = {"typed": typed, "fds": fds, "kcpserve": kcpserve, "kcpclient": kcpclient}
    if len(sys.argv) < 2 or sys.argv[1] not in modes:
        print(__doc__)
        sys.exit(2)
    sys.exit(0 if modes[sys.argv[1]](*sys.argv[2:]) else 1)
