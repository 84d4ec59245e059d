"""KCP against a peer no one here wrote: the PyPI package ``kcp`` (the reference C
implementation, ikcp.c), both directions, 1,000 messages byte-exact, in order, once; then the
same under 10 % and 30 % packet loss made by nftables in a network namespace (skipped where
network namespaces are not permitted; CI runs as root and runs them). Scenario S23."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time

import pytest

import libsock
from _reliability import netns_unavailable, skip_or_fail

kcp_ref = pytest.importorskip("peers.kcp_ref", reason="the PyPI package kcp is not installed")
msg = kcp_ref.msg

pytestmark = pytest.mark.timeout(300)

N = 1000
CONV = 0x0BADC0DE


def test_libsock_client_against_the_reference_server() -> None:
    with kcp_ref.RefServer() as ref:
        with libsock.kcp_connect(ref.address, conv=CONV, timeout=30) as s:
            assert s.conv == CONV
            for i in range(N):
                s.send(msg(i))
            for i in range(N):
                assert s.recv() == msg(i), f"echo {i}"
            with pytest.raises(TimeoutError):
                s.recv(timeout=0.2)          # nothing twice
            s.flush()                        # the reference acknowledged everything
            st = s.stats()
            assert st["messages_out"] == N and st["messages_in"] == N
            assert st["waiting"] == 0
        assert ref.received[CONV] == [msg(i) for i in range(N)]   # once, in order, exact


def echo_server(server: libsock.KcpServer, got: list, stop: threading.Event) -> threading.Thread:
    def run() -> None:
        while not stop.is_set():
            for ev in server.events(timeout=0.05):
                if ev.kind == "message":
                    assert ev.data is not None
                    got.append((ev.client, ev.data))
                    server.send(ev.client, ev.data)
                elif ev.kind == "connected":
                    got.append((ev.client, "connected", ev.peer))

    th = threading.Thread(target=run, daemon=True)
    th.start()
    return th


def test_a_random_conv_against_the_reference_server() -> None:
    with kcp_ref.RefServer() as ref:
        for _ in range(5):
            with libsock.kcp_connect(ref.address, timeout=30) as s:
                s.send(b"ping")
                assert s.recv() == b"ping"


def test_reference_client_against_the_libsock_server() -> None:
    with libsock.KcpServer(("127.0.0.1", 0)) as server:
        got: list = []
        stop = threading.Event()
        th = echo_server(server, got, stop)
        r = kcp_ref.run_ref_client(server.address, CONV, N)
        stop.set()
        th.join(10)
        assert r == {"received": N, "first_bad": None, "extra": False}
        assert got[0][1] == "connected"
        assert [d for _, d in got[1:]] == [msg(i) for i in range(N)]
        (client, peer, conv), = server.clients()
        assert conv == CONV and client == got[0][0]
        assert server.client_address(client) == peer
        st = server.stats()
        assert st["messages_in"] == N and st["messages_out"] == N
        assert st["connections"] == 1 and st["connections_total"] == 1


def test_server_events_reasons_and_errors() -> None:
    with pytest.raises(libsock.InvalidArgumentError):
        libsock.KcpServer(("127.0.0.1", 0), mtu=10)
    with pytest.raises(libsock.InvalidArgumentError):
        libsock.kcp_connect(("127.0.0.1", 9), nodelay=3)
    with pytest.raises(libsock.InvalidArgumentError):
        libsock.KcpServer(("127.0.0.1", 0), send_policy="drop")  # type: ignore[arg-type]
    server = libsock.KcpServer(("127.0.0.1", 0), idle_timeout=0.3)
    s = libsock.kcp_connect(server.address, timeout=10)
    assert 0 < s.conv < 2**31      # random, and within what every wrapper of ikcp takes
    with pytest.raises(libsock.InvalidArgumentError):
        s.send(b"")
    with pytest.raises(libsock.FrameTooLargeError):
        s.send(bytes(200_000))
    s.send(b"hello")
    kinds = []
    end = time.monotonic() + 20
    while "disconnected" not in kinds and time.monotonic() < end:
        for ev in server.events(timeout=0.1):
            kinds.append(ev.kind)
            if ev.kind == "message":
                assert ev.data == b"hello"
            if ev.kind == "disconnected":
                assert ev.reason == "idle-timeout"      # the client went silent
                with pytest.raises(libsock.ClosedError):
                    server.send(ev.client, b"x")
    assert kinds[:2] == ["connected", "message"] and kinds[-1] == "disconnected"
    s2 = libsock.kcp_connect(server.address, timeout=10)
    s2.send(b"kick me")
    e1 = server.next_event(timeout=10)
    assert e1 is not None and e1.kind == "connected"
    assert server.messages(timeout=10) == [(e1.client, b"kick me")]
    server.disconnect(e1.client)
    ev2 = server.next_event(timeout=10)
    assert ev2 is not None and ev2.kind == "disconnected" and ev2.reason == "kicked"
    server.shutdown()
    assert server.closed
    rest = server.events(timeout=5)
    assert rest[-1].kind == "closed"
    with pytest.raises(libsock.ClosedError):
        server.events(timeout=0)
    s.close()
    s2.close()
    with pytest.raises(libsock.ClosedError):
        s.recv(timeout=0)


# ---------------------------------------------------------------------------------------------
# Under loss, in a network namespace.

LOSS_RULES = """
table inet libsock_loss {
    chain in {
        type filter hook input priority 0; policy accept;
        %s numgen random mod 100 < %d drop
    }
}
"""


class LossyNetns:
    """A network namespace whose loopback drops ``loss`` % of the packets that arrive (on the
    input hook, so a sender sees no error, as on a real network; each packet arrives once, so
    each direction loses that share). ``what`` is an nft match: ``meta
    l4proto udp`` for UDP only, empty for every packet."""

    def __init__(self, loss: int, what: str = "meta l4proto udp") -> None:
        self.name = f"lskcp{os.getpid()}x{loss}"
        self.loss = loss
        self.what = what

    def __enter__(self) -> "LossyNetns":
        subprocess.run(["ip", "netns", "add", self.name], check=True, timeout=30)
        try:
            self.run(["ip", "link", "set", "lo", "up"])
            subprocess.run(["ip", "netns", "exec", self.name, "nft", "-f", "-"], check=True,
                           input=(LOSS_RULES % (self.what, self.loss)).encode(), timeout=30)
        except BaseException:
            self.__exit__()
            raise
        return self

    def run(self, args: list[str], timeout: float = 30) -> subprocess.CompletedProcess:
        return subprocess.run(["ip", "netns", "exec", self.name, *args], check=True,
                              capture_output=True, timeout=timeout)

    def __exit__(self, *_a: object) -> None:
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True, timeout=30)


PEER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "peers", "kcp_ref.py")


@pytest.mark.timeout(600)
@pytest.mark.parametrize("loss", [10, 30])
def test_s23_kcp_echo_under_loss(loss: int) -> None:
    why = netns_unavailable()
    if why:
        skip_or_fail(why)
    with LossyNetns(loss) as ns:
        # A UDP sanity check that the loss is real: about `loss` % of 2,000 datagrams vanish.
        r = ns.run([sys.executable, "-c", UDP_PROBE], timeout=60)
        arrived = int(r.stdout)
        assert 2000 * (100 - loss) // 100 * 0.8 < arrived < 2000 * (100 - loss) // 100 * 1.2 + 20
        r = ns.run([sys.executable, PEER, "check", "--n", str(N), "--loss", str(loss)],
                   timeout=500)
    out = json.loads(r.stdout)
    a, b = out["libsock_client"], out["ref_client"]
    assert a["first_bad"] is None and not a["extra"], a
    assert a["server_got"] == N and a["server_in_order"], a
    assert b["received"] == N and b["first_bad"] is None and not b["extra"], b
    assert b["server_got"] == N and b["server_in_order"], b
    assert a["retransmits"] > 0 and b["retransmits"] > 0, out   # the loss was felt
    print(json.dumps(out))


UDP_PROBE = """
import socket
a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); a.bind(("127.0.0.1", 0))
a.settimeout(0.05)
b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
n = 0
for batch in range(20):
    for i in range(100):
        b.sendto(b"x", a.getsockname())
    try:
        while True:
            a.recv(10); n += 1
    except socket.timeout:
        pass
print(n)
"""
