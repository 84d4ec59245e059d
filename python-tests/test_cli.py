"""End-to-end tests of the ``libsock`` command: real processes talking over loopback.

Every subprocess runs with a timeout, so a hang fails the test instead of the suite.
"""

from __future__ import annotations

import hashlib
import os
import re
import select
import socket
import struct
import subprocess
import sys
import threading
import time

import pytest

pytest.importorskip("libsock")

CLI = [sys.executable, "-m", "libsock"]
T = 30  # seconds any one command may take


def run(*args, input=None, timeout=T, **kw):
    return subprocess.run(CLI + list(args), input=input, capture_output=True, timeout=timeout, **kw)


def start(*args, stdin=subprocess.DEVNULL, **kw):
    return subprocess.Popen(CLI + list(args), stdin=stdin, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, **kw)


def wait_for_address(proc, timeout=15.0):
    """Read the server's stderr until it says where it listens; return that address."""
    deadline = time.monotonic() + timeout
    seen = b""
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stderr], [], [], 0.1)
        if not ready:
            if proc.poll() is not None:
                break
            continue
        line = proc.stderr.readline()
        if not line:
            break
        seen += line
        m = re.search(rb"listening on (\S+)", line)
        if m:
            return m.group(1).decode().rstrip(",")
    proc.kill()
    out, err = proc.communicate(timeout=5)
    pytest.fail("server did not report its address; stderr: %r" % (seen + err))


def finish(proc, timeout=T):
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate(timeout=5)
        pytest.fail("process did not finish; stderr: %r" % err)
    return proc.returncode, out, err


def no_traceback(err: bytes) -> None:
    assert b"Traceback" not in err, err.decode(errors="replace")


# --- help and version -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "cmd", [[], ["listen"], ["connect"], ["udp"], ["send-file"], ["recv-file"], ["demo"],
            ["relay"], ["studio"], ["cert"]]
)
def test_help_everywhere(cmd):
    r = run(*cmd, "--help")
    assert r.returncode == 0, r.stderr
    assert b"usage: libsock" in r.stdout
    no_traceback(r.stderr)


def test_version():
    r = run("--version")
    assert r.returncode == 0
    assert r.stdout.startswith(b"libsock ")


def test_no_command_prints_usage():
    r = run()
    assert r.returncode == 2
    assert b"usage" in r.stderr


SCRIPT = os.path.join(os.path.dirname(sys.executable), "libsock")


@pytest.mark.skipif(not os.path.exists(SCRIPT), reason="no libsock console script beside python")
def test_console_script_installed():
    r = subprocess.run([SCRIPT, "--help"], capture_output=True, timeout=T)
    assert r.returncode == 0
    assert b"send-file" in r.stdout


# --- demo -------------------------------------------------------------------------------------


def test_demo_runs_and_explains():
    start_t = time.monotonic()
    r = run("demo", timeout=60)
    took = time.monotonic() - start_t
    out = r.stdout.decode()
    assert r.returncode == 0, out + r.stderr.decode()
    no_traceback(r.stderr)
    assert took < 20, "demo took %.1f s" % took
    for needle in (
        "Sticky packets",
        "b'helloworld'",
        "LengthPrefixed",
        "Delimited",
        "recv_msg() -> b'hello'",
        "recv_msg() -> b'world'",
        "ClosedError",
        "Half-close",
        "shutdown('write')",
        "TimeoutError",
        "ConnectionRefusedError",
        "InvalidArgumentError",
        "FrameTooLargeError",
    ):
        assert needle in out, "demo transcript lacks %r:\n%s" % (needle, out)
    # The refused connection names the address.
    m = re.search(r"connect\('(127\.0\.0\.1:\d+)'\)", out)
    assert m and re.search(r"ConnectionRefusedError: .*%s" % re.escape(m.group(1)), out), out


# --- send-file / recv-file --------------------------------------------------------------------


@pytest.fixture
def random_file(tmp_path):
    path = tmp_path / "payload.bin"
    data = os.urandom(3 * 1024 * 1024 + 12345)
    path.write_bytes(data)
    return path, hashlib.sha256(data).hexdigest()


def test_send_recv_file_checksums_match(tmp_path, random_file):
    src, digest = random_file
    out = tmp_path / "received.bin"
    receiver = start("recv-file", "127.0.0.1:0", str(out), "--timeout", "20")
    addr = wait_for_address(receiver)
    sender = run("send-file", addr, str(src))
    rc, rout, rerr = finish(receiver)
    assert sender.returncode == 0, sender.stderr
    assert rc == 0, rerr
    no_traceback(sender.stderr + rerr)
    # Both ends print the same SHA-256, and it is the file's.
    assert ("sha256 " + digest).encode() in sender.stdout
    assert ("sha256 " + digest).encode() in rout
    assert b"checksum matches" in rout
    assert b"checksum verified" in sender.stdout
    assert out.read_bytes() == src.read_bytes()


def test_recv_file_into_directory_keeps_name(tmp_path, random_file):
    src, digest = random_file
    dest = tmp_path / "incoming"
    dest.mkdir()
    receiver = start("recv-file", "127.0.0.1:0", str(dest), "--quiet", "--timeout", "20")
    addr = wait_for_address(receiver)
    sender = run("send-file", "--quiet", addr, str(src))
    rc, rout, rerr = finish(receiver)
    assert (sender.returncode, rc) == (0, 0), (sender.stderr, rerr)
    assert hashlib.sha256((dest / "payload.bin").read_bytes()).hexdigest() == digest


def test_empty_file(tmp_path):
    src = tmp_path / "empty"
    src.write_bytes(b"")
    out = tmp_path / "out"
    receiver = start("recv-file", "127.0.0.1:0", str(out), "--timeout", "20")
    addr = wait_for_address(receiver)
    sender = run("send-file", addr, str(src))
    rc, rout, rerr = finish(receiver)
    assert (sender.returncode, rc) == (0, 0), (sender.stderr, rerr)
    assert out.read_bytes() == b""
    assert hashlib.sha256(b"").hexdigest().encode() in rout


def test_recv_file_reports_mismatch(tmp_path):
    """A sender (stdlib socket) whose checksum does not match: nonzero exit, MISMATCH."""
    out = tmp_path / "out"
    receiver = start("recv-file", "127.0.0.1:0", str(out), "--timeout", "20")
    host, port = wait_for_address(receiver).rsplit(":", 1)
    data = b"some bytes"
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(b"LSF1" + struct.pack(">QH", len(data), 1) + b"x" + data + b"\0" * 32)
        verdict = s.recv(1)
    rc, rout, rerr = finish(receiver)
    assert verdict == b"\x01"
    assert rc != 0
    assert b"MISMATCH" in rerr
    no_traceback(rerr)


def test_send_file_missing_file(tmp_path):
    r = run("send-file", "127.0.0.1:9", str(tmp_path / "nope"))
    assert r.returncode != 0
    assert b"nope" in r.stderr
    no_traceback(r.stderr)


# --- listen / connect -------------------------------------------------------------------------


@pytest.mark.parametrize("framing", ["raw", "lines", "crlf", "length:4", "length:2:little", "hp"])
def test_listen_echo_connect_round_trip(framing):
    server = start("listen", "127.0.0.1:0", "--echo", "--once", "--framing", framing)
    addr = wait_for_address(server)
    text = b"hello\nworld\n" + b"".join(b"line %d\n" % i for i in range(200))
    client = run("connect", addr, "--framing", framing, "--timeout", "10", input=text)
    rc, _, err = finish(server)
    assert client.returncode == 0, client.stderr
    assert rc == 0, err
    assert client.stdout == text
    no_traceback(client.stderr + err)


def test_unix_socket_round_trip(tmp_path):
    path = tmp_path / "cli.sock"
    server = start("listen", "unix:%s" % path, "--echo", "--once", "--framing", "lines")
    addr = wait_for_address(server)
    assert addr == "unix:%s" % path
    client = run("connect", addr, "--framing", "lines", "--timeout", "10", input=b"over unix\n")
    rc, _, err = finish(server)
    assert (client.returncode, rc) == (0, 0), (client.stderr, err)
    assert client.stdout == b"over unix\n"


def test_echo_large_raw_payload():
    server = start("listen", "127.0.0.1:0", "--echo", "--once")
    addr = wait_for_address(server)
    payload = os.urandom(2 * 1024 * 1024)
    client = run("connect", addr, "--timeout", "10", input=payload)
    finish(server)
    assert client.returncode == 0, client.stderr
    assert hashlib.sha256(client.stdout).digest() == hashlib.sha256(payload).digest()


def test_echo_server_serves_several_clients():
    server = start("listen", "127.0.0.1:0", "--echo", "--framing", "lines")
    try:
        addr = wait_for_address(server)
        results = {}

        def client(i):
            results[i] = run("connect", addr, "-f", "lines", "-w", "10",
                             input=b"client %d\n" % i).stdout

        threads = [threading.Thread(target=client, args=(i,)) for i in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(T)
        assert results == {i: b"client %d\n" % i for i in range(3)}
    finally:
        server.kill()
        server.communicate(timeout=5)


def test_listen_prints_what_arrives():
    server = start("listen", "127.0.0.1:0", "--once", "--framing", "length:4")
    addr = wait_for_address(server)
    client = run("connect", addr, "--framing", "length:4", input=b"first\nsecond\n")
    rc, out, err = finish(server)
    assert client.returncode == 0, client.stderr
    assert rc == 0, err
    assert out == b"first\nsecond\n"
    assert b"connection from 127.0.0.1:" in err


def test_listen_frame_too_large_is_reported():
    server = start("listen", "127.0.0.1:0", "--once", "--framing", "lines", "--max-len", "8")
    addr = wait_for_address(server)
    client = run("connect", addr, "--framing", "lines", input=b"short\n" + b"x" * 100 + b"\n")
    rc, out, err = finish(server)
    assert rc == 1
    assert out == b"short\n"
    assert b"frame too large" in err
    no_traceback(err + client.stderr)


def test_connect_half_closes_and_reads_reply():
    """A stdlib server that reads to end of stream and only then replies."""
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(1)
    lsock.settimeout(T)
    got = []

    def serve():
        conn, _ = lsock.accept()
        with conn:
            conn.settimeout(T)
            data = b""
            while True:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                data += chunk
            got.append(data)
            conn.sendall(b"you sent %d bytes\n" % len(data))

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    try:
        r = run("connect", "127.0.0.1:%d" % lsock.getsockname()[1], input=b"request body")
        t.join(T)
    finally:
        lsock.close()
    assert r.returncode == 0, r.stderr
    assert got == [b"request body"]
    assert r.stdout == b"you sent 12 bytes\n"


def test_connect_timeout_on_silent_peer():
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(1)
    try:
        proc = start("connect", "127.0.0.1:%d" % lsock.getsockname()[1], "--timeout", "0.5",
                     stdin=subprocess.PIPE)
        t0 = time.monotonic()
        rc, out, err = finish(proc, timeout=15)
        took = time.monotonic() - t0
    finally:
        lsock.close()
    assert rc == 1
    assert took < 10
    assert b"0.5" in err
    no_traceback(err)


# --- udp --------------------------------------------------------------------------------------


def test_udp_round_trip():
    server = start("udp", "--listen", "127.0.0.1:0", "--echo", "--count", "2")
    addr = wait_for_address(server)
    client = run("udp", addr, "--wait", "2", input=b"ping\npong\n")
    rc, out, err = finish(server)
    assert client.returncode == 0, client.stderr
    assert rc == 0, err
    assert sorted(client.stdout.splitlines()) == [b"ping", b"pong"]
    lines = out.splitlines()
    assert len(lines) == 2
    for line, word in zip(lines, (b"ping", b"pong")):
        assert re.match(rb"\[127\.0\.0\.1:\d+\] " + word + rb"$", line), line


def test_udp_listen_prints_sender():
    server = start("udp", "--listen", "127.0.0.1:0", "--count", "1")
    host, port = wait_for_address(server).rsplit(":", 1)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        s.sendto(b"hi there", (host, int(port)))
        mine = s.getsockname()[1]
        rc, out, err = finish(server)
    assert rc == 0, err
    assert out == b"[127.0.0.1:%d] hi there\n" % mine


# --- errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args, needle",
    [
        (["connect", "localhost"], b"localhost"),
        (["connect", "[::1:80"], b"[::1:80"),
        (["connect", "127.0.0.1:99999"], b"99999"),
        (["listen", "nonsense"], b"nonsense"),
        (["udp", "nohost"], b"nohost"),
        (["send-file", "bad address", __file__], b"bad address"),
        (["recv-file", "what", "/tmp/x"], b"what"),
    ],
)
def test_bad_address_is_a_clear_error(args, needle):
    r = run(*args)
    assert r.returncode not in (0, None)
    assert needle in r.stderr, r.stderr
    assert r.stderr.count(b"\n") <= 2, r.stderr
    no_traceback(r.stderr)


def test_connection_refused_names_the_address():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    r = run("connect", "127.0.0.1:%d" % port, "--timeout", "5")
    assert r.returncode == 1
    assert b"127.0.0.1:%d" % port in r.stderr
    assert b"refused" in r.stderr.lower()
    no_traceback(r.stderr)


@pytest.mark.parametrize("bad", ["zigzag", "length:3", "length:4:middle", "fixed:0", "fixed:x"])
def test_bad_framing_is_a_usage_error(bad):
    r = run("listen", "127.0.0.1:0", "--framing", bad)
    assert r.returncode == 2
    assert b"framing" in r.stderr or b"length" in r.stderr or b"fixed" in r.stderr
    no_traceback(r.stderr)
