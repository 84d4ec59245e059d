"""Connecting through real proxies (danted, microsocks, tinyproxy; see _proxies.py): the blocking
``connect(proxy=...)`` and the engine ``Client(proxy=...)``, refusals with the error that fits
the proxy's reply, bad proxy URLs, TLS end to end over the tunnel. S24 itself is in
test_scenarios.py."""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from typing import Iterator

import pytest

import libsock
from _helpers import WAIT, free_port
from _proxies import PASSWORD, USER, dante, microsocks, tinyproxy


@contextlib.contextmanager
def echo_server(host: str = "127.0.0.1") -> Iterator[int]:
    """A stdlib echo server on ``host`` (any number of clients); yields its port."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    srv = socket.socket(family)
    srv.bind((host, 0))
    srv.listen(8)
    srv.settimeout(0.1)
    stop = threading.Event()

    def serve_one(c: socket.socket) -> None:
        with c:
            c.settimeout(WAIT)
            try:
                while data := c.recv(65536):
                    c.sendall(data)
            except OSError:
                pass

    def loop() -> None:
        while not stop.is_set():
            try:
                c, _ = srv.accept()
            except socket.timeout:
                continue
            threading.Thread(target=serve_one, args=(c,), daemon=True).start()

    t = threading.Thread(target=loop, daemon=True)
    t.start()
    try:
        yield srv.getsockname()[1]
    finally:
        stop.set()
        t.join(WAIT)
        srv.close()


def echo_1k(conn: libsock.Connection) -> None:
    data = os.urandom(1024)
    conn.sendall(data)
    assert conn.recv_exact(1024) == data


def test_socks5_user_and_password_through_microsocks() -> None:
    with microsocks(auth=True) as px, echo_server() as port:
        with libsock.connect(
            f"localhost:{port}", timeout=WAIT, proxy=px.url("socks5", f"{USER}:{PASSWORD}")
        ) as c:
            echo_1k(c)
        with pytest.raises(libsock.ConnectionRefusedError) as info:
            libsock.connect(f"localhost:{port}", timeout=WAIT, proxy=px.url("socks5", "alice:nope"))
        assert 'rejected the user name "alice"' in str(info.value)
        assert "nope" not in str(info.value)
        with pytest.raises(libsock.ConnectionRefusedError) as info:
            libsock.connect(f"localhost:{port}", timeout=WAIT, proxy=px.url("socks5"))
        assert "accepts none of the offered authentication methods" in str(info.value)


def test_socks5_ipv6_target_through_microsocks() -> None:
    with microsocks(auth=False, host="::1") as px, echo_server("::1") as port:
        with libsock.connect(("::1", port), timeout=WAIT, proxy=px.url("socks5h")) as c:
            echo_1k(c)


def test_http_connect_through_tinyproxy() -> None:
    with tinyproxy(auth=False) as open_px, tinyproxy(auth=True) as locked, echo_server() as port:
        for url in (open_px.url("http"), locked.url("http", f"{USER}:{PASSWORD}")):
            with libsock.connect(("127.0.0.1", port), timeout=WAIT, proxy=url) as c:
                echo_1k(c)
        with pytest.raises(libsock.ConnectionRefusedError) as info:
            libsock.connect(("127.0.0.1", port), timeout=WAIT, proxy=locked.url("http"))
        assert "407 Proxy Authentication Required" in str(info.value)
        assert info.value.code == libsock.ERROR_CODES["CONNECTION_REFUSED"]
        with pytest.raises(libsock.ConnectionRefusedError) as info:
            libsock.connect(("127.0.0.1", free_port()), timeout=WAIT, proxy=open_px.url("http"))
        assert "500 Unable to connect" in str(info.value)


@pytest.mark.parametrize(
    "url, says",
    [
        ("127.0.0.1:1080", "scheme://"),
        ("ftp://127.0.0.1:21", "unknown scheme"),
        ("socks5://127.0.0.1:0", "port 0"),
        ("socks5://127.0.0.1:70000", "1 to 65535"),
        ("socks5://alice@127.0.0.1:1080", "password of 0 bytes"),
        ("https://127.0.0.1:443", "https proxies"),
    ],
)
def test_bad_proxy_urls_are_invalid_arguments(url: str, says: str) -> None:
    with pytest.raises(libsock.InvalidArgumentError, match=says):
        libsock.connect(("127.0.0.1", 1), proxy=url)
    with pytest.raises(libsock.InvalidArgumentError, match=says):
        libsock.Client(("127.0.0.1", 1), proxy=url)


def test_a_unix_target_cannot_go_through_a_proxy() -> None:
    with pytest.raises(libsock.InvalidArgumentError, match="Unix socket"):
        libsock.connect("unix:/tmp/none.sock", proxy="socks5://127.0.0.1:1080")


def test_the_connect_timeout_covers_a_silent_proxy() -> None:
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)
    with silent:
        t0 = time.monotonic()
        with pytest.raises(libsock.TimeoutError) as info:
            libsock.connect(
                "example.com:80",
                connect_timeout=0.3,
                proxy=f"socks5://127.0.0.1:{silent.getsockname()[1]}",
            )
        assert time.monotonic() - t0 < WAIT
        assert "through SOCKS5 proxy 127.0.0.1:" in str(info.value)


def _pull(client: libsock.Client, kinds: tuple[str, ...]) -> libsock.Event:
    deadline = time.monotonic() + 20
    seen = []
    while time.monotonic() < deadline:
        for ev in client.events(timeout=0.05):
            seen.append(ev)
            if ev.kind in kinds:
                return ev
    raise AssertionError(f"no {kinds} event; saw {seen}")


def test_engine_client_reconnects_through_the_proxy() -> None:
    with dante(free_port()) as px, libsock.Server(("127.0.0.1", 0)) as server:
        port = server.address[1]
        with libsock.Client(
            f"localhost:{port}", backoff=(0.02, 0.2), proxy=px.url("socks5")
        ) as client:
            for n in (1, 2):
                ev = _pull(client, ("connected",))
                assert ev.client == n
                assert ev.peer is not None and ev.peer[1] == px.port  # the proxy, every time
                client.send(b"hello %d" % n)
                deadline = time.monotonic() + WAIT
                got = None
                while got is None and time.monotonic() < deadline:
                    got = next((e for e in server.events(timeout=0.05) if e.kind == "message"), None)
                assert got is not None and got.data == b"hello %d" % n
                server.disconnect(got.client)


def test_engine_client_gives_up_on_a_refusing_proxy_with_its_reply() -> None:
    denied = free_port()
    with dante(denied) as px:
        with libsock.Client(
            ("127.0.0.1", denied), reconnect=False, proxy=px.url("socks5")
        ) as client:
            ev = _pull(client, ("disconnected",))
            assert ev.client == 0
            assert ev.reason == "error"
            assert "connection not allowed by ruleset" in str(ev)


def test_tls_runs_end_to_end_through_the_proxy(tmp_path: "os.PathLike[str]") -> None:
    import ssl

    cert, key = libsock.self_signed(["localhost"])
    pin = libsock.fingerprint(cert)
    with dante(free_port()) as px:
        srv = socket.socket()
        srv.bind(("127.0.0.1", 0))
        srv.listen(1)
        srv.settimeout(WAIT)
        certfile = os.path.join(str(tmp_path), "c.pem")
        keyfile = os.path.join(str(tmp_path), "k.pem")
        with open(certfile, "w") as f:
            f.write(cert)
        with open(keyfile, "w") as f:
            f.write(key)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(certfile, keyfile)
        seen_sni: list[str | None] = []
        ctx.sni_callback = lambda s, name, c: seen_sni.append(name)  # type: ignore[assignment,misc,return-value]

        def serve() -> None:
            c, _ = srv.accept()
            with ctx.wrap_socket(c, server_side=True) as t:
                t.sendall(t.recv(100))

        th = threading.Thread(target=serve, daemon=True)
        th.start()
        port = srv.getsockname()[1]
        with libsock.connect(
            f"localhost:{port}", timeout=WAIT, tls=libsock.TLS(pin=pin), proxy=px.url("socks5")
        ) as c:
            c.sendall(b"over the tunnel")
            assert c.recv_exact(15) == b"over the tunnel"
        th.join(WAIT)
        srv.close()
        assert seen_sni == ["localhost"]  # the target's name, not the proxy's address
