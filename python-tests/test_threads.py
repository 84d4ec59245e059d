"""Threads and signals: the GIL is released during waits, close() from another thread wakes a
blocked call, one thread sends while another receives, Ctrl-C interrupts a blocking call."""

from __future__ import annotations

import hashlib
import os
import signal
import textwrap
import threading
import time
from typing import Callable

import pytest

import libsock
from _helpers import SIGINT_DEFAULT, WAIT, Peer, readline, run_python


class Counter:
    """A pure-Python busy loop in another thread; it advances only while we do not hold the GIL."""

    def __init__(self) -> None:
        self.n = 0
        self.stop = False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()
        while self.n == 0:
            time.sleep(0.001)

    def run(self) -> None:
        while not self.stop:
            self.n += 1

    def close(self) -> None:
        self.stop = True
        self.thread.join()


@pytest.mark.parametrize("what", ["recv", "recv_msg", "recv_exact", "accept", "udp_recv"])
def test_gil_is_released_during_a_blocking_call(what: str) -> None:
    with libsock.listen(("127.0.0.1", 0)) as server:
        client = libsock.connect(server.address, timeout=WAIT)
        conn, _ = server.accept(timeout=WAIT)
        udp = libsock.udp(("127.0.0.1", 0))
        calls: dict[str, Callable[[], object]] = {
            "recv": lambda: conn.recv(10, timeout=0.5),
            "recv_msg": lambda: conn.recv_msg(timeout=0.5),
            "recv_exact": lambda: conn.recv_exact(10, timeout=0.5),
            "accept": lambda: server.accept(timeout=0.5),
            "udp_recv": lambda: udp.recv(timeout=0.5),
        }
        counter = Counter()
        try:
            # Python's switch interval is 5 ms: sleeping in C with the GIL held would leave the
            # counter almost still for the whole 0.5 s.
            before = counter.n
            with pytest.raises(libsock.TimeoutError):
                calls[what]()
            advanced = counter.n - before
        finally:
            counter.close()
        assert advanced > 100_000, f"the counter thread advanced only {advanced} times"
        for x in (client, conn, udp):
            x.close()


@pytest.mark.parametrize("what", ["recv", "recv_msg", "recv_into", "accept", "udp_recv", "sendall"])
def test_close_from_another_thread_wakes_a_blocked_call(what: str) -> None:
    with libsock.listen(("127.0.0.1", 0)) as server:
        client = libsock.connect(server.address)
        conn, _ = server.accept(timeout=WAIT)
        udp = libsock.udp(("127.0.0.1", 0))
        cases: dict[str, tuple[libsock.Connection | libsock.Listener | libsock.Datagram, Callable[[], object]]] = {
            "recv": (client, lambda: client.recv(10)),
            "recv_msg": (client, lambda: client.recv_msg()),
            "recv_into": (client, lambda: client.recv_into(bytearray(10))),
            "accept": (server, lambda: server.accept()),
            "udp_recv": (udp, lambda: udp.recv()),
            # The peer never reads: sendall fills both socket buffers and waits.
            "sendall": (client, lambda: client.sendall(bytes(256 << 20))),
        }
        target, call = cases[what]

        def blocked() -> BaseException | None:
            try:
                call()
            except BaseException as e:  # noqa: BLE001
                return e
            return None

        waiter = Peer(blocked)
        time.sleep(0.3)
        assert waiter.thread.is_alive(), "the call should still be blocked"
        t0 = time.monotonic()
        target.close()
        err = waiter.join(WAIT)
        assert time.monotonic() - t0 < 2.0
        assert isinstance(err, libsock.ClosedError), repr(err)
        for x in (client, conn, udp):
            x.close()


def test_one_thread_sends_while_another_receives(pair: tuple[libsock.Connection, libsock.Connection]) -> None:
    client, server = pair
    client.framing = server.framing = libsock.LengthPrefixed()
    n = 2000
    msgs = [os.urandom(i % 3000) for i in range(n)]

    def echo() -> None:
        for _ in range(n):
            server.send_msg(server.recv_msg())

    echoer = Peer(echo)
    def send_all() -> None:
        for m in msgs:
            client.send_msg(m)

    sender = Peer(send_all)
    got = [client.recv_msg() for _ in range(n)]  # this thread receives meanwhile
    sender.join()
    echoer.join()
    assert got == msgs


def test_many_threads_share_one_listener() -> None:
    with libsock.listen(("127.0.0.1", 0), timeout=WAIT) as server:

        def serve() -> int:
            served = 0
            while True:
                try:
                    conn, _ = server.accept()
                except libsock.ClosedError:
                    return served
                with conn:
                    conn.sendall(hashlib.sha256(conn.recv_exact(32)).digest())
                served += 1

        workers = [Peer(serve) for _ in range(4)]
        for i in range(40):
            with libsock.connect(server.address, timeout=WAIT) as c:
                data = os.urandom(32)
                c.sendall(data)
                assert c.recv_exact(32) == hashlib.sha256(data).digest()
        server.close()
        assert sum(w.join() for w in workers) == 40


# ---------------------------------------------------------------------------------------------
# Ctrl-C: a child process blocks, we send SIGINT, it must raise KeyboardInterrupt promptly and
# leave the object usable (or cleanly closed).

CHILD = SIGINT_DEFAULT + textwrap.dedent(
    """
    import sys, time, libsock
    what = sys.argv[1] if len(sys.argv) > 1 else "{what}"
    server = libsock.listen(("127.0.0.1", 0))
    client = libsock.connect(server.address, timeout=10)
    conn, _ = server.accept(timeout=10)
    # A listener with a full backlog: the next connect waits (its SYN is dropped).
    full = libsock.listen(("127.0.0.1", 0), backlog=0)
    first = libsock.connect(full.address, timeout=10)
    calls = {{
        "connect": lambda: libsock.connect(full.address),
        "recv": lambda: conn.recv(10),
        "recv_msg": lambda: conn.recv_msg(),
        "recv_exact": lambda: conn.recv_exact(10),
        "accept": lambda: server.accept(),
        "udp": lambda: libsock.udp(("127.0.0.1", 0)).recv(),
        "recv_many": lambda: libsock.udp(("127.0.0.1", 0)).recv_many(),
        # A peer that never reads: the send buffer fills and sendall waits.
        "sendall": lambda: libsock.connect(server.address, timeout=10).sendall(b"x" * (64 << 20)),
    }}
    print("ready", flush=True)
    try:
        calls[what]()
        print("returned", flush=True)
    except KeyboardInterrupt:
        print("interrupted", flush=True)
    # Still usable afterwards: nothing was lost or broken.
    client.sendall(b"after")
    assert conn.recv_exact(5, timeout=10) == b"after"
    print("usable", flush=True)
    """
)


@pytest.mark.parametrize(
    "what", ["recv", "recv_msg", "recv_exact", "accept", "udp", "recv_many", "sendall", "connect"]
)
def test_ctrl_c_interrupts_a_blocking_call(what: str) -> None:
    p = run_python(CHILD.format(what=what))
    try:
        assert p.stdout is not None
        assert readline(p.stdout) == "ready"
        time.sleep(0.3)  # let it block
        t0 = time.monotonic()
        p.send_signal(signal.SIGINT)
        line = readline(p.stdout)
        elapsed = time.monotonic() - t0
        if line != "interrupted":
            p.kill()
            raise AssertionError(line + p.communicate(timeout=WAIT)[1])
        assert elapsed < 2.0, f"KeyboardInterrupt took {elapsed:.2f} s"
        assert readline(p.stdout) == "usable"
        assert p.wait(WAIT) == 0
    finally:
        if p.poll() is None:
            p.kill()
        p.communicate(timeout=WAIT)


def test_ctrl_c_with_an_uncaught_interrupt_exits_like_python() -> None:
    code = SIGINT_DEFAULT + textwrap.dedent(
        """
        import libsock
        server = libsock.listen(("127.0.0.1", 0))
        print("ready", flush=True)
        server.accept()
        """
    )
    p = run_python(code)
    try:
        assert p.stdout is not None and readline(p.stdout) == "ready"
        time.sleep(0.2)
        p.send_signal(signal.SIGINT)
        _, err = p.communicate(timeout=WAIT)
        assert "KeyboardInterrupt" in err
        assert p.returncode != 0
    finally:
        if p.poll() is None:
            p.kill()


# A small send is first tried with the GIL held; it must never block there on another thread's
# send in progress (that thread may wait for a reader that needs the GIL: a deadlock).
SEND_WHILE_ANOTHER_SENDS = textwrap.dedent(
    """
    import threading, time, libsock
    kind = "{kind}"
    if kind == "stream":
        a, b = libsock.Connection.pair()
        a.set_option("send_buffer_size", 4096)
        big = b"x" * (1 << 20)
        blocked = threading.Thread(target=lambda: a.sendall(big))
        total = len(big) + 1
    else:
        a, b = libsock.Datagram.pair()  # a Unix datagram sender waits while the peer's queue is full
        blocked = threading.Thread(target=lambda: [a.send(b"y" * 1000) for _ in range(2000)])
        total = None
    blocked.start()
    time.sleep(0.2)  # let it fill the socket and wait inside its send
    got = []
    def read():
        time.sleep(0.2)  # starts after the main thread's send below began (Python code: needs the GIL)
        if kind == "stream":
            n = 0
            while n < total:
                n += len(b.recv(65536, timeout=10))
            got.append(n)
        else:
            b.settimeout(0.5)
            try:
                while True:
                    b.recv_many(64, 2048)
            except libsock.TimeoutError:
                got.append(1)
    reader = threading.Thread(target=read)
    reader.start()
    a.send(b"z")
    blocked.join(10)
    reader.join(20)
    print("ok" if got and not blocked.is_alive() else "stuck", flush=True)
    """
)


@pytest.mark.parametrize("kind", ["stream", "datagram"])
def test_small_send_never_blocks_under_the_gil_behind_another_send(kind: str) -> None:
    p = run_python(SEND_WHILE_ANOTHER_SENDS.format(kind=kind))
    try:
        out, err = p.communicate(timeout=30)
    except Exception:
        p.kill()
        p.communicate(timeout=WAIT)
        pytest.fail("deadlock: a send blocked while holding the GIL")
    assert out.strip() == "ok", out + err
