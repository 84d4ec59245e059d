"""The ``libsock`` command as a debugging tool: no lost tails, hex dumps, sender labels,
timestamps, JSON logs, hex input, auto-replies, the traffic generator, the relay and the
resumable file transfer. Real processes and real peers (stdlib sockets, socat) over loopback;
every subprocess and socket has a timeout.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import threading

import pytest

from test_cli import T, finish, no_traceback, run, start, wait_for_address

pytestmark = pytest.mark.timeout(90)


def split(addr: str):
    host, port = addr.rsplit(":", 1)
    return host, int(port)


def read_all(sock: socket.socket) -> bytes:
    sock.settimeout(T)
    data = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk


class OneShotServer:
    """A stdlib server accepting one client: sends ``reply`` (then closes, or half-closes with
    ``half``), and records everything the client sent until it closes."""

    def __init__(self, reply: bytes = b"", half: bool = False, first: bool = True) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.sock.settimeout(T)
        self.address = "127.0.0.1:%d" % self.sock.getsockname()[1]
        self.got = b""
        self.reply = reply
        self.half = half
        self.first = first
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self) -> None:
        conn, _ = self.sock.accept()
        with conn:
            conn.settimeout(T)
            if self.first:
                conn.sendall(self.reply)
                if self.half:
                    conn.shutdown(socket.SHUT_WR)
            self.got = read_all(conn)
            if not self.first:
                conn.sendall(self.reply)

    def join(self) -> bytes:
        self.thread.join(T)
        self.sock.close()
        return self.got


# --- never drop data ----------------------------------------------------------------------------


@pytest.mark.skipif(shutil.which("socat") is None, reason="socat not installed")
@pytest.mark.parametrize("framing, tail", [("lines", b"last"), ("crlf", b"last\r"),
                                           ("length:4", b"\x00\x00\x00\x09half"),
                                           ("fixed:4", b"xy")])
def test_echo_delivers_the_tail_to_socat(framing, tail):
    """The issue's reproduction: socat gets back every byte, the tail with a note on stderr."""
    if framing.startswith("length"):
        body = struct.pack(">I", 5) + b"first" + struct.pack(">I", 6) + b"second"
    elif framing == "fixed:4":
        body = b"abcdefgh"
    elif framing == "crlf":
        body = b"first\r\nsecond\r\n"
    else:
        body = b"first\nsecond\n"
    server = start("listen", "127.0.0.1:0", "--echo", "--once", "--framing", framing)
    addr = wait_for_address(server)
    client = subprocess.run(["socat", "-t5", "-", "TCP:%s" % addr], input=body + tail,
                            capture_output=True, timeout=T)
    rc, _, err = finish(server)
    assert client.returncode == 0, client.stderr
    assert rc == 0, err
    assert client.stdout == body + tail
    assert b"ended inside a" in err and (b"last %d bytes" % len(tail)) in err, err
    no_traceback(err)


def test_print_mode_prints_the_tail():
    server = start("listen", "127.0.0.1:0", "--once", "--framing", "lines")
    with socket.create_connection(split(wait_for_address(server)), timeout=T) as s:
        s.sendall(b"one\ntwo")
    rc, out, err = finish(server)
    assert rc == 0, err
    assert out == b"one\ntwo"
    assert b"last 3 bytes" in err


def test_connect_prints_the_tail():
    peer = OneShotServer(b"a\nb\npartial", half=True)
    r = run("connect", peer.address, "--framing", "lines", "-w", "10", input=b"")
    peer.join()
    assert r.returncode == 0, r.stderr
    assert r.stdout == b"a\nb\npartial"
    assert b"last 7 bytes" in r.stderr


def test_fixed_input_tail_is_sent():
    peer = OneShotServer(first=False)
    r = run("connect", peer.address, "--framing", "fixed:4", "-w", "10", input=b"abcdefg")
    assert r.returncode == 0, r.stderr
    assert peer.join() == b"abcdefg"
    assert b"last 3 bytes are sent" in r.stderr


# --- showing data -------------------------------------------------------------------------------


def test_hex_dump():
    server = start("listen", "127.0.0.1:0", "--once", "--hex")
    with socket.create_connection(split(wait_for_address(server)), timeout=T) as s:
        s.sendall(b"\x00\x01hello, world!\xff\x10\x11\x12")
    rc, out, err = finish(server)
    assert rc == 0, err
    lines = out.decode().splitlines()
    assert lines[0] == "00000000: 0001 6865 6c6c 6f2c 2077 6f72 6c64 21ff  ..hello, world!."
    assert lines[1].startswith("00000010: 1011 12")
    assert lines[1].endswith("  ...")


def test_labels_and_timestamps_name_each_client():
    server = start("listen", "127.0.0.1:0", "--framing", "lines", "--timestamps",
                   "--accept-timeout", "5")
    addr = split(wait_for_address(server))
    ports = []
    for word in (b"alpha", b"beta"):
        with socket.create_connection(addr, timeout=T) as s:
            ports.append(s.getsockname()[1])
            s.sendall(word + b"\n")
            s.shutdown(socket.SHUT_WR)
            read_all(s)
    _, out, err = finish(server)
    lines = out.decode().splitlines()
    assert len(lines) == 2, out
    for n, (line, port, word) in enumerate(zip(lines, ports, ("alpha", "beta")), 1):
        assert re.fullmatch(r"\d\d:\d\d:\d\d\.\d{3} \[client %d 127\.0\.0\.1:%d\] %s"
                            % (n, port, word), line), line


def test_json_log_records_both_directions(tmp_path):
    logf = tmp_path / "traffic.jsonl"
    server = start("listen", "127.0.0.1:0", "--once", "--echo", "--framing", "lines",
                   "--log", str(logf))
    with socket.create_connection(split(wait_for_address(server)), timeout=T) as s:
        s.sendall(b"hi\n\xff\xfe\n")
        s.shutdown(socket.SHUT_WR)
        assert read_all(s) == b"hi\n\xff\xfe\n"
    rc, _, err = finish(server)
    assert rc == 0, err
    entries = [json.loads(x) for x in logf.read_text().splitlines()]
    assert [(e["direction"], e["hex"], e["length"]) for e in entries] == [
        ("in", "6869", 2), ("out", "6869", 2), ("in", "fffe", 2), ("out", "fffe", 2)]
    assert entries[0]["text"] == "hi" and "text" not in entries[2]
    assert all(re.match(r"127\.0\.0\.1:\d+$", e["peer"]) for e in entries)
    assert all(re.match(r"\d{4}-\d\d-\d\dT", e["time"]) for e in entries)


# --- sending ------------------------------------------------------------------------------------


def test_hex_input_mixes_text_and_bytes():
    peer = OneShotServer(first=False)
    r = run("connect", peer.address, "-X", "-w", "10",
            input=b"hi[0D 0A]\\x00[ff]\\[x\\]\nsecond\\n\n")
    assert r.returncode == 0, r.stderr
    assert peer.join() == b"hi\r\n\x00\xff[x]second\n"


def test_bad_hex_input_is_a_usage_error():
    peer = OneShotServer(first=False)
    r = run("connect", peer.address, "-X", "-w", "10", input=b"[F]\n")
    peer.join()
    assert r.returncode == 2
    assert b"odd number of digits" in r.stderr
    no_traceback(r.stderr)


def test_auto_reply_rules():
    server = start("listen", "127.0.0.1:0", "--framing", "lines", "--accept-timeout", "5",
                   "--reply", "PING=PONG", "--reply", "[01 02]=[AA]\\x00")
    with socket.create_connection(split(wait_for_address(server)), timeout=T) as s:
        s.sendall(b"PING\nnothing\n\x01\x02\n")
        s.shutdown(socket.SHUT_WR)
        got = read_all(s)
    finish(server)
    assert got == b"PONG\n\xaa\x00\n"


def test_generator_count_and_rate():
    peer = OneShotServer(first=False)
    r = run("connect", peer.address, "--framing", "lines", "--send", "tick", "--count", "25",
            "--rate", "500", "-w", "10")
    assert r.returncode == 0, r.stderr
    assert peer.join() == b"tick\n" * 25


def test_generator_every_repeats_stdin():
    peer = OneShotServer(first=False)
    r = run("connect", peer.address, "--framing", "length:2", "--every", "20ms", "--count", "3",
            "-w", "10", input=b"a\nbc\n")
    assert r.returncode == 0, r.stderr
    assert peer.join() == b"\x00\x01a\x00\x02bc" * 3


def test_every_and_rate_conflict():
    r = run("connect", "127.0.0.1:9", "--every", "1s", "--rate", "5", "--send", "x")
    assert r.returncode == 2
    assert b"--every" in r.stderr


def test_udp_reply_and_hex():
    server = start("udp", "--listen", "127.0.0.1:0", "--count", "1", "--hex",
                   "--reply", "[CA FE]=ok")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(T)
        s.sendto(b"\xca\xfe!", split(wait_for_address(server)))
        reply, _ = s.recvfrom(100)
        mine = s.getsockname()[1]
    rc, out, err = finish(server)
    assert rc == 0, err
    assert reply == b"ok"
    assert out.decode().splitlines() == ["[127.0.0.1:%d] 3 bytes" % mine,
                                         "00000000: cafe 21" + " " * 34 + "..!"]


# --- relay --------------------------------------------------------------------------------------


def test_relay_both_ways_with_hex_dump_and_half_close(tmp_path):
    backend = start("listen", "127.0.0.1:0", "--echo", "--once")
    b_addr = wait_for_address(backend)
    logf = tmp_path / "relay.jsonl"
    relay = start("relay", "listen:127.0.0.1:0", b_addr, "--once", "--hex", "--log", str(logf))
    with socket.create_connection(split(wait_for_address(relay)), timeout=T) as s:
        s.sendall(b"hello relay\n")
        s.shutdown(socket.SHUT_WR)  # the half-close travels to the echo server and back
        got = read_all(s)
    rc, out, err = finish(relay)
    finish(backend)
    assert got == b"hello relay\n"
    assert rc == 0, err
    text = out.decode()
    assert re.search(r"\[relay 1 A>B 127\.0\.0\.1:\d+\] 12 bytes", text), text
    assert re.search(r"\[relay 1 B>A 127\.0\.0\.1:\d+\] 12 bytes", text), text
    assert "00000000: 6865 6c6c 6f20 7265 6c61 790a" in text
    dirs = [json.loads(x)["direction"] for x in logf.read_text().splitlines()]
    assert dirs == ["a-to-b", "b-to-a"]
    assert b"passing the half-close on" in err


def test_relay_reframes_and_passes_the_tail():
    """A speaks lines, B length:4; B's server answers one length-prefixed frame, then a partial
    one, then closes."""
    reply = struct.pack(">I", 3) + b"yes" + b"\x00\x00"
    peer = OneShotServer(reply, first=False)
    relay = start("relay", "listen:127.0.0.1:0", peer.address, "--once", "--quiet",
                  "--framing-a", "lines", "--framing-b", "length:4")
    with socket.create_connection(split(wait_for_address(relay)), timeout=T) as s:
        s.sendall(b"one\ntwo\n")
        s.shutdown(socket.SHUT_WR)
        got = read_all(s)
    rc, out, err = finish(relay)
    assert peer.join() == struct.pack(">I", 3) + b"one" + struct.pack(">I", 3) + b"two"
    assert got == b"yes\n\x00\x00"
    assert out == b""
    assert rc == 0, err
    assert b"last 2 bytes" in err


# --- files --------------------------------------------------------------------------------------


def _transfer(tmp_path, src, out, *recv_args, send_args=()):
    receiver = start("recv-file", "127.0.0.1:0", str(out), "--quiet", "--timeout", "20",
                     *recv_args)
    addr = wait_for_address(receiver)
    sender = run("send-file", "--quiet", addr, str(src), *send_args)
    rc, rout, rerr = finish(receiver)
    return sender, rc, rout, rerr


def test_recv_file_refuses_to_overwrite(tmp_path):
    src = tmp_path / "src.bin"
    src.write_bytes(b"new contents")
    out = tmp_path / "out.bin"
    out.write_bytes(b"precious")
    r = run("recv-file", "127.0.0.1:0", str(out), "--timeout", "5")
    assert r.returncode == 1
    assert b"exists" in r.stderr and b"--overwrite" in r.stderr
    assert out.read_bytes() == b"precious"
    sender, rc, rout, rerr = _transfer(tmp_path, src, out, "--overwrite")
    assert (sender.returncode, rc) == (0, 0), (sender.stderr, rerr)
    assert out.read_bytes() == b"new contents"
    assert not os.path.exists(str(out) + ".libsock-part")


def test_recv_file_into_directory_refuses_existing_name(tmp_path):
    src = tmp_path / "src.bin"
    src.write_bytes(b"data")
    dest = tmp_path / "in"
    dest.mkdir()
    (dest / "src.bin").write_bytes(b"old")
    sender, rc, rout, rerr = _transfer(tmp_path, src, dest)
    assert rc == 1 and sender.returncode == 1
    assert b"exists" in rerr
    assert b"refused" in sender.stderr and b"--overwrite" in sender.stderr
    assert (dest / "src.bin").read_bytes() == b"old"


def test_old_protocol_still_works(tmp_path):
    src = tmp_path / "src.bin"
    src.write_bytes(os.urandom(100000))
    out = tmp_path / "out.bin"
    sender, rc, rout, rerr = _transfer(tmp_path, src, out, send_args=("--no-resume",))
    assert (sender.returncode, rc) == (0, 0), (sender.stderr, rerr)
    assert out.read_bytes() == src.read_bytes()


def _interrupted_sender(addr: str, data: bytes, name: bytes, upto: int) -> None:
    """Speak version 2 like send-file, but stop after ``upto`` bytes."""
    with socket.create_connection(split(addr), timeout=T) as s:
        s.sendall(b"LSF2" + struct.pack(">QH", len(data), len(name)) + name)
        reply = b""
        while len(reply) < 45:
            chunk = s.recv(45 - len(reply))
            assert chunk
            reply += chunk
        magic, status, offset = struct.unpack(">4sBQ", reply[:13])
        assert (magic, status, offset) == (b"LSR2", 0, 0)
        s.sendall(struct.pack(">Q", 0) + data[:upto])


def test_resume_an_interrupted_transfer(tmp_path):
    data = os.urandom(3 * 1024 * 1024 + 777)
    src = tmp_path / "big.bin"
    src.write_bytes(data)
    out = tmp_path / "big.out"
    part = tmp_path / "big.out.libsock-part"
    half = 1024 * 1024 + 5
    receiver = start("recv-file", "127.0.0.1:0", str(out), "--quiet", "--timeout", "20")
    _interrupted_sender(wait_for_address(receiver), data, b"big.bin", half)
    rc, _, err = finish(receiver)
    assert rc == 1
    assert b"--resume" in err
    assert not out.exists()
    assert part.read_bytes() == data[:half]
    no_traceback(err)

    sender, rc, rout, rerr = _transfer(tmp_path, src, out, "--resume")
    assert (sender.returncode, rc) == (0, 0), (sender.stderr, rerr)
    assert out.read_bytes() == data
    assert not part.exists()
    assert b"resumed at byte %d" % half in sender.stdout
    assert b"resumed at byte %d" % half in rout
    assert ("sha256 " + hashlib.sha256(data).hexdigest()).encode() in rout


def test_resume_with_a_different_partial_file_starts_over(tmp_path):
    data = os.urandom(200000)
    src = tmp_path / "f.bin"
    src.write_bytes(data)
    out = tmp_path / "f.out"
    (tmp_path / "f.out.libsock-part").write_bytes(b"something else entirely")
    sender, rc, rout, rerr = _transfer(tmp_path, src, out, "--resume")
    assert (sender.returncode, rc) == (0, 0), (sender.stderr, rerr)
    assert out.read_bytes() == data
    assert b"starting over" in sender.stderr
    assert b"resumed" not in rout


# --- studio without its extra -------------------------------------------------------------------


def test_studio_without_aiohttp_says_how_to_install():
    code = ("import sys; sys.modules['aiohttp'] = None; from libsock.cli import main; "
            "sys.exit(main(['studio']))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=T)
    assert r.returncode == 2
    assert b"pip install 'libsock[studio]'" in r.stderr
    no_traceback(r.stderr)


def test_relay_with_tls_on_both_ends(tmp_path):
    """A: a TLS server (fresh self-signed certificate); B: a TLS 'libsock listen' trusted by its
    pin. The bytes arrive, and come back, in the clear at both ends of the relay."""
    import ssl

    made = run("cert", "localhost", "127.0.0.1", "--out", str(tmp_path / "b"))
    assert made.returncode == 0, made.stderr
    pin = re.search(rb"pin \(SHA-256\): (\S+)", made.stdout).group(1).decode()
    backend = start("listen", "127.0.0.1:0", "--echo", "--once", "--cert",
                    str(tmp_path / "b.pem"), "--key", str(tmp_path / "b.key"))
    b_addr = wait_for_address(backend)
    relay = start("relay", "listen:127.0.0.1:0", b_addr, "--once", "--a-tls", "--b-pin", pin)
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with socket.create_connection(split(wait_for_address(relay)), timeout=T) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost") as s:
            s.sendall(b"over tls twice\n")
            got = b""
            while len(got) < 15:
                chunk = s.recv(100)
                assert chunk
                got += chunk
    rc, out, err = finish(relay)
    finish(backend)
    assert got == b"over tls twice\n"
    assert b"over tls twice" in out
    no_traceback(err)


def test_relay_pin_on_a_listening_end_is_a_usage_error():
    r = run("relay", "listen:127.0.0.1:0", "127.0.0.1:9", "--a-pin", "AB:CD")
    assert r.returncode == 2
    assert b"--a-pin" in r.stderr


def test_echo_server_shows_traffic_with_hex():
    server = start("listen", "127.0.0.1:0", "--echo", "--once", "--hex", "--framing", "lines")
    with socket.create_connection(split(wait_for_address(server)), timeout=T) as s:
        s.sendall(b"AB\n")
        s.shutdown(socket.SHUT_WR)
        assert read_all(s) == b"AB\n"
    rc, out, err = finish(server)
    assert rc == 0, err
    assert out.decode().splitlines() == ["2 bytes", "00000000: 4142" + " " * 37 + "AB"]
