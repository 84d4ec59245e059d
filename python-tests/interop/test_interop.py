"""Doors talking to each other over loopback: servers in C and Python, clients in Python, Java and
Pascal, framed messages (4-byte big-endian length + 0-64 KiB random payload) echoed byte-exact.

Each side hashes what it saw (FNV-1a 64 over every payload byte); the test compares the server's
hash of what it received with the client's hash of what it sent, and every client checks each echo
byte for byte. The programs are built by .ci/suites/70-interop.sh, which passes their paths in
LIBSOCK_INTEROP_* environment variables.
"""

from __future__ import annotations

import os
import random
import re
import subprocess
import threading

import pytest

import libsock

COUNT = 300
FRAMING = libsock.LengthPrefixed(width=4, byteorder="big", max_len=16 << 20)


def fnv1a(data: bytes, h: int = 0xCBF29CE484222325) -> int:
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"{name} is not set: run this file through .ci/suites/70-interop.sh")
    return value


def summary(text: str, who: str) -> tuple[int, str]:
    m = re.search(rf"^{who}: (\d+) messages, fnv=([0-9a-f]{{16}})$", text, re.M)
    assert m, f"no {who} summary in output:\n{text}"
    return int(m.group(1)), m.group(2)


# ---- servers: each yields (port, finish) where finish() returns the server's summary ----


def c_server():
    proc = subprocess.Popen([env("LIBSOCK_INTEROP_C_SERVER")], stdout=subprocess.PIPE, text=True)
    # Its first line, waited for at most 30 s (a server that never prints must not stall CI).
    box: list[str] = []
    reader = threading.Thread(target=lambda: box.append(proc.stdout.readline()), daemon=True)
    reader.start()
    reader.join(30)
    line = box[0] if box else ""
    m = re.match(r"port (\d+)", line)
    if not m:
        proc.kill()
        proc.communicate(timeout=30)
    assert m, f"C server printed {line!r}"

    def finish() -> tuple[int, str]:
        out, _ = proc.communicate(timeout=60)
        assert proc.returncode == 0, f"C server exited {proc.returncode}"
        return summary(out, "server")

    return int(m.group(1)), finish


def python_server():
    listener = libsock.listen(("127.0.0.1", 0), framing=FRAMING, timeout=30)
    result: dict[str, object] = {}

    def serve() -> None:
        try:
            conn, _peer = listener.accept(timeout=30)
            h, n = 0xCBF29CE484222325, 0
            with conn:
                while True:
                    try:
                        msg = conn.recv_msg()
                    except libsock.ClosedError:
                        break
                    h = fnv1a(msg, h)
                    n += 1
                    conn.send_msg(msg)
            result["summary"] = (n, f"{h:016x}")
        except BaseException as e:  # reported by finish()
            result["error"] = e
        finally:
            listener.close()

    t = threading.Thread(target=serve, daemon=True)
    t.start()

    def finish() -> tuple[int, str]:
        t.join(60)
        assert not t.is_alive(), "Python server did not finish"
        if "error" in result:
            raise result["error"]  # type: ignore[misc]
        return result["summary"]  # type: ignore[return-value]

    return listener.address[1], finish


# ---- clients: each returns the client's summary ----


def python_client(port: int) -> tuple[int, str]:
    rnd = random.Random(7)
    h = 0xCBF29CE484222325
    with libsock.connect(("127.0.0.1", port), timeout=30, connect_timeout=10, framing=FRAMING) as c:
        for i in range(COUNT):
            msg = rnd.randbytes(rnd.randint(0, 65536))
            c.send_msg(msg)
            back = c.recv_msg()
            assert back == msg, f"echo {i} differs ({len(msg)} sent, {len(back)} back)"
            h = fnv1a(msg, h)
    return COUNT, f"{h:016x}"


def run_client(cmd: list[str], extra_env: dict[str, str] | None = None) -> tuple[int, str]:
    proc = subprocess.run(
        cmd, capture_output=True, text=True, timeout=120, env={**os.environ, **(extra_env or {})}
    )
    assert proc.returncode == 0, f"{cmd[0]} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}"
    return summary(proc.stdout, "client")


def java_client(port: int) -> tuple[int, str]:
    return run_client(
        [
            "java",
            "-Xcheck:jni",
            f"-Djava.library.path={env('LIBSOCK_INTEROP_JAVA_LIBPATH')}",
            "-cp",
            env("LIBSOCK_INTEROP_JAVA_CP"),
            "InteropClient",
            str(port),
            str(COUNT),
            "11",
        ]
    )


def pascal_client(port: int) -> tuple[int, str]:
    return run_client([env("LIBSOCK_INTEROP_PASCAL_CLIENT"), str(port), str(COUNT), "13"])


SERVERS = {"c": c_server, "python": python_server}
CLIENTS = {"python": python_client, "java": java_client, "pascal": pascal_client}


@pytest.mark.parametrize("client", sorted(CLIENTS))
@pytest.mark.parametrize("server", sorted(SERVERS))
def test_framed_echo_across_doors(server: str, client: str) -> None:
    port, finish = SERVERS[server]()
    sent = CLIENTS[client](port)
    received = finish()
    assert sent[0] == COUNT
    assert received == sent, f"{server} server saw {received}, {client} client sent {sent}"
