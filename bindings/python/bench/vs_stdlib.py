"""Side-by-side benchmark: libsock against the stdlib socket module, in one run.

1. 64-byte ping-pong over TCP loopback, client and echo server each in its own process, both
   pinned to one CPU (round trips per second; goal: faster than the stdlib).
2. Framed echo of 100-byte messages with a 4-byte big-endian length: libsock's framing in Rust
   against the stdlib with the framing built and parsed in Python (messages per second; goal:
   at least twice the stdlib). The client keeps a window of messages in flight and sends them
   either one system call per message (sendall / send_msg) or one per window (b"".join /
   send_msgs); the echo servers reply per received batch.

Run: python bindings/python/bench/vs_stdlib.py [seconds-per-case]
"""

from __future__ import annotations

import os
import socket
import struct
import subprocess
import sys
import time

CPU = 0
WINDOW = 64


def pin() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {CPU})


# ------------------------------------------------------------------------------------ servers


def server_stdlib_pingpong(port_out) -> None:
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen()
    print(srv.getsockname()[1], flush=True)
    conn, _ = srv.accept()
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    while True:
        b = conn.recv(64)
        if not b:
            return
        conn.sendall(b)


def server_libsock_pingpong(port_out) -> None:
    import libsock

    srv = libsock.listen(("127.0.0.1", 0))
    print(srv.address[1], flush=True)
    conn, _ = srv.accept()
    conn.set_option("nodelay", True)
    while True:
        b = conn.recv(64)
        if not b:
            return
        conn.sendall(b)


def server_stdlib_framed(port_out) -> None:
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen()
    print(srv.getsockname()[1], flush=True)
    conn, _ = srv.accept()
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    buf = b""
    while True:
        data = conn.recv(65536)
        if not data:
            return
        buf += data
        out = []
        while len(buf) >= 4:
            (n,) = struct.unpack_from(">I", buf)
            if len(buf) < 4 + n:
                break
            msg = buf[4 : 4 + n]
            buf = buf[4 + n :]
            out.append(struct.pack(">I", len(msg)) + msg)
        if out:
            conn.sendall(b"".join(out))


def server_libsock_framed(port_out) -> None:
    import libsock

    srv = libsock.listen(("127.0.0.1", 0), framing=libsock.LengthPrefixed())
    print(srv.address[1], flush=True)
    conn, _ = srv.accept()
    conn.set_option("nodelay", True)
    try:
        while True:
            conn.send_msgs(conn.recv_msgs(WINDOW))
    except libsock.ClosedError:
        return


# ------------------------------------------------------------------------------------ clients


def start(server: str) -> tuple[subprocess.Popen, int]:
    p = subprocess.Popen(
        [sys.executable, __file__, "--serve", server], stdout=subprocess.PIPE, text=True
    )
    assert p.stdout is not None
    return p, int(p.stdout.readline())


def client_stdlib_pingpong(port: int, seconds: float) -> float:
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    msg = b"x" * 64
    n = 0
    t0 = time.perf_counter()
    end = t0 + seconds
    while True:
        for _ in range(100):
            s.sendall(msg)
            got = 0
            while got < 64:
                got += len(s.recv(64 - got))
        n += 100
        if time.perf_counter() > end:
            break
    rate = n / (time.perf_counter() - t0)
    s.close()
    return rate


def client_libsock_pingpong(port: int, seconds: float) -> float:
    import libsock

    c = libsock.connect(("127.0.0.1", port), nodelay=True)
    msg = b"x" * 64
    n = 0
    t0 = time.perf_counter()
    end = t0 + seconds
    while True:
        for _ in range(100):
            c.sendall(msg)
            c.recv_exactly(64)
        n += 100
        if time.perf_counter() > end:
            break
    rate = n / (time.perf_counter() - t0)
    c.close()
    return rate


def client_stdlib_framed(port: int, seconds: float) -> float:
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    body = b"y" * 100
    frame = struct.pack(">I", len(body)) + body
    n = 0
    buf = b""
    t0 = time.perf_counter()
    end = t0 + seconds
    while time.perf_counter() < end:
        for _ in range(WINDOW):  # one message at a time, each framed in Python
            s.sendall(struct.pack(">I", len(body)) + body)
        got = 0
        while got < WINDOW:
            buf += s.recv(65536)
            while len(buf) >= 4:
                (k,) = struct.unpack_from(">I", buf)
                if len(buf) < 4 + k:
                    break
                msg = buf[4 : 4 + k]
                buf = buf[4 + k :]
                assert len(msg) == 100
                got += 1
        n += WINDOW
    rate = n / (time.perf_counter() - t0)
    del frame
    s.close()
    return rate


def client_stdlib_framed_batch(port: int, seconds: float) -> float:
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    body = b"y" * 100
    n = 0
    buf = b""
    t0 = time.perf_counter()
    end = t0 + seconds
    while time.perf_counter() < end:
        # The window's frames built in Python and sent with one sendall.
        s.sendall(b"".join(struct.pack(">I", len(body)) + body for _ in range(WINDOW)))
        got = 0
        while got < WINDOW:
            buf += s.recv(65536)
            while len(buf) >= 4:
                (k,) = struct.unpack_from(">I", buf)
                if len(buf) < 4 + k:
                    break
                msg = buf[4 : 4 + k]
                buf = buf[4 + k :]
                assert len(msg) == 100
                got += 1
        n += WINDOW
    rate = n / (time.perf_counter() - t0)
    s.close()
    return rate


def client_libsock_framed_batch(port: int, seconds: float) -> float:
    import libsock

    c = libsock.connect(("127.0.0.1", port), nodelay=True, framing=libsock.LengthPrefixed())
    body = b"y" * 100
    batch = [body] * WINDOW
    n = 0
    t0 = time.perf_counter()
    end = t0 + seconds
    while time.perf_counter() < end:
        c.send_msgs(batch)  # the window's frames in one vectored write
        got = 0
        while got < WINDOW:
            for msg in c.recv_msgs(WINDOW - got):
                assert len(msg) == 100
                got += 1
        n += WINDOW
    rate = n / (time.perf_counter() - t0)
    c.close()
    return rate


def client_libsock_framed(port: int, seconds: float) -> float:
    import libsock

    c = libsock.connect(("127.0.0.1", port), nodelay=True, framing=libsock.LengthPrefixed())
    body = b"y" * 100
    n = 0
    t0 = time.perf_counter()
    end = t0 + seconds
    while time.perf_counter() < end:
        for _ in range(WINDOW):
            c.send_msg(body)
        got = 0
        while got < WINDOW:
            for msg in c.recv_msgs(WINDOW - got):
                assert len(msg) == 100
                got += 1
        n += WINDOW
    rate = n / (time.perf_counter() - t0)
    c.close()
    return rate


def case(name: str, seconds: float, client: str = "") -> float:
    p, port = start(name)
    try:
        pin()
        return globals()[f"client_{client or name}"](port, seconds)
    finally:
        p.wait(10)


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 3.0
    import libsock

    print(f"libsock {libsock.__version__}, Python {sys.version.split()[0]}, {seconds:g} s per case, CPU {CPU}")
    a = case("stdlib_pingpong", seconds)
    b = case("libsock_pingpong", seconds)
    print(f"64-byte ping-pong, one CPU:   stdlib {a:10,.0f} round trips/s   libsock {b:10,.0f}   ratio {b / a:.2f}")
    print(f"100-byte framed echo, 4-byte length, {WINDOW} messages in flight, one CPU (msg/s):")
    a = case("stdlib_framed", seconds)
    b = case("libsock_framed", seconds)
    print(f"  one send per message:     stdlib+Python framing {a:10,.0f}   libsock {b:10,.0f}   ratio {b / a:.2f}")
    a = case("stdlib_framed", seconds, "stdlib_framed_batch")
    b = case("libsock_framed", seconds, "libsock_framed_batch")
    print(f"  one send per window:      stdlib+Python framing {a:10,.0f}   libsock {b:10,.0f}   ratio {b / a:.2f}")


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--serve":
        pin()
        globals()[f"server_{sys.argv[2]}"](None)
    else:
        main()
