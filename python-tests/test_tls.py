"""TLS through libsock against real peers: Python's ``ssl`` module (OpenSSL) both ways,
``openssl s_server`` / ``s_client``, mTLS, ALPN, SNI, and refusals with their reasons."""

from __future__ import annotations

import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
from typing import Callable, Iterator

import pytest

import libsock
from _helpers import WAIT

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def pki() -> Iterator[dict[str, str]]:
    """A CA, a server certificate for localhost/127.0.0.1 signed by it, a client certificate,
    and a self-signed device certificate, made with openssl (files in a temporary dir)."""
    if shutil.which("openssl") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("openssl is missing in CI (.ci/install-deps installs it)")
        pytest.skip("openssl is not installed")
    d = tempfile.mkdtemp(prefix="ls-tls-")

    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=60, cwd=d)

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
        "-days", "30", "-subj", "/CN=libsock test CA")
    for name, san in [("server", "DNS:localhost,IP:127.0.0.1"), ("client", "DNS:client")]:
        run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out",
            f"{name}.csr", "-subj", f"/CN={name}")
        with open(os.path.join(d, f"{name}.ext"), "w") as f:
            f.write(f"subjectAltName={san}\n")
        run("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", f"{name}.pem", "-days", "30", "-extfile", f"{name}.ext")
    cert, key = libsock.self_signed(["device.local", "127.0.0.1"])
    with open(os.path.join(d, "device.pem"), "w") as f:
        f.write(cert)
    with open(os.path.join(d, "device.key"), "w") as f:
        f.write(key)
    yield {n: os.path.join(d, n) for n in os.listdir(d)}
    shutil.rmtree(d, ignore_errors=True)


def ssl_server(ctx: ssl.SSLContext, handler: Callable[[ssl.SSLSocket], None]) -> tuple[int, threading.Thread]:
    """A Python ssl server on loopback that handles one client on a thread."""
    lst = socket.create_server(("127.0.0.1", 0))
    lst.settimeout(WAIT)
    port = lst.getsockname()[1]

    def run() -> None:
        with lst:
            raw, _ = lst.accept()
            raw.settimeout(WAIT)
            try:
                with ctx.wrap_socket(raw, server_side=True) as s:
                    handler(s)
            except (ssl.SSLError, OSError):
                pass

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return port, t


def test_libsock_client_to_python_ssl_server_with_ca_trust_alpn_and_framing(pki: dict[str, str]) -> None:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(pki["server.pem"], pki["server.key"])
    ctx.set_alpn_protocols(["h2", "x-echo"])

    def echo(s: ssl.SSLSocket) -> None:
        while True:
            data = s.recv(65536)
            if not data:
                break
            s.sendall(data)
        s.unwrap()  # close_notify back

    port, t = ssl_server(ctx, echo)
    framing = libsock.LengthPrefixed()
    tls = libsock.TLS(ca=pki["ca.pem"], alpn=["x-echo"])
    with libsock.connect(("127.0.0.1", port), timeout=WAIT, framing=framing, tls=tls) as c:
        info = c.tls_info
        assert info is not None and info["alpn"] == b"x-echo"
        assert c.version() in ("TLSv1.3", "TLSv1.2")
        big = os.urandom(4 << 20)
        for m in [b"hello", b"", big]:
            c.send_msg(m)
            assert c.recv_msg() == m
        c.shutdown("write")
        with pytest.raises(libsock.ClosedError):
            c.recv_msg()
    t.join(WAIT)


def test_python_ssl_client_to_libsock_server_with_mtls(pki: dict[str, str]) -> None:
    tls = libsock.TLS(cert=pki["server.pem"], key=pki["server.key"], client_auth="required",
                      client_ca=pki["ca.pem"])
    with libsock.listen(("127.0.0.1", 0), tls=tls, timeout=WAIT) as server:
        got: list[bytes] = []

        def client() -> None:
            ctx = ssl.create_default_context(cafile=pki["ca.pem"])
            ctx.load_cert_chain(pki["client.pem"], pki["client.key"])
            with socket.create_connection(server.address, timeout=WAIT) as raw:
                with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
                    s.sendall(b"from python ssl")
                    got.append(s.recv(100))

        t = threading.Thread(target=client)
        t.start()
        conn, _ = server.accept(timeout=WAIT)
        with conn:
            assert conn.recv_exactly(15) == b"from python ssl"
            cert = conn.getpeercert(True)
            assert cert is not None and len(cert) > 100  # the client's certificate
            conn.sendall(b"hello python")
        t.join(WAIT)
        assert got == [b"hello python"]


def test_missing_client_certificate_is_refused_with_its_reason(pki: dict[str, str]) -> None:
    tls = libsock.TLS(cert=pki["server.pem"], key=pki["server.key"], client_auth="required",
                      client_ca=pki["ca.pem"])
    with libsock.listen(("127.0.0.1", 0), tls=tls, timeout=WAIT) as server:
        errs: list[BaseException] = []

        def client() -> None:
            ctx = ssl.create_default_context(cafile=pki["ca.pem"])
            try:
                with socket.create_connection(server.address, timeout=WAIT) as raw:
                    with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
                        s.recv(1)
            except (ssl.SSLError, OSError) as e:
                errs.append(e)

        t = threading.Thread(target=client)
        t.start()
        with pytest.raises(libsock.TlsError, match="no client certificate"):
            server.accept(timeout=WAIT)
        t.join(WAIT)
        assert errs, "the ssl client saw no failure"


def test_refusals_each_name_their_reason(pki: dict[str, str]) -> None:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(pki["server.pem"], pki["server.key"])
    cases = [
        (libsock.TLS(), "unknown CA"),  # the system's roots do not know our CA
        (libsock.TLS(ca=pki["ca.pem"], server_name="wrong.example"), "name mismatch"),
        (libsock.TLS(pin=libsock.fingerprint(open(pki["device.pem"]).read())), "pin mismatch"),
    ]
    for tls, why in cases:
        port, t = ssl_server(ctx, lambda s: None)
        with pytest.raises(libsock.TlsError, match=why):
            libsock.connect(("127.0.0.1", port), timeout=WAIT, tls=tls)
        t.join(WAIT)


def test_plaintext_and_silent_peers(pki: dict[str, str]) -> None:
    # A TLS client meets a plaintext server.
    lst = socket.create_server(("127.0.0.1", 0))

    def plain() -> None:
        s, _ = lst.accept()
        with s:
            s.sendall(b"SSH-2.0-OpenSSH_9.2\r\n")
            s.settimeout(WAIT)
            try:
                s.recv(100)
            except OSError:
                pass

    t = threading.Thread(target=plain)
    t.start()
    with pytest.raises(libsock.TlsError, match="not TLS"):
        libsock.connect(lst.getsockname(), timeout=WAIT, tls=libsock.TLS(insecure=True))
    t.join(WAIT)
    # A silent server: the handshake timeout, not a hang.
    with pytest.raises(TimeoutError, match="TLS handshake"):
        libsock.connect(lst.getsockname(), timeout=WAIT,
                        tls=libsock.TLS(insecure=True, handshake_timeout=0.3))
    lst.close()
    # A plaintext client meets a libsock TLS server: accept says why.
    tls = libsock.TLS(cert=pki["server.pem"], key=pki["server.key"])
    with libsock.listen(("127.0.0.1", 0), tls=tls, timeout=WAIT) as server:
        with socket.create_connection(server.address, timeout=WAIT) as s:
            s.sendall(b"GET / HTTP/1.0\r\n\r\n")
            with pytest.raises(libsock.TlsError):
                server.accept(timeout=WAIT)


def test_openssl_s_server_and_s_client(pki: dict[str, str]) -> None:
    # libsock client -> openssl s_server (TLS 1.2 only), pinned self-signed certificate.
    srv = subprocess.Popen(
        ["openssl", "s_server", "-accept", "0", "-cert", pki["device.pem"], "-key",
         pki["device.key"], "-tls1_2", "-rev", "-naccept", "1"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True)
    try:
        assert srv.stdout is not None
        port = 0
        for _ in range(50):
            line = srv.stdout.readline()
            if "ACCEPT" in line:
                port = int(line.rsplit(":", 1)[1])
                break
        assert port, "openssl s_server did not say where it listens"
        pin = libsock.fingerprint(open(pki["device.pem"]).read())
        with libsock.connect(("127.0.0.1", port), timeout=WAIT, tls=libsock.TLS(pin=pin)) as c:
            assert c.version() == "TLSv1.2"
            c.sendall(b"hello\n")
            assert c.recv_until(b"\n", 100) == b"olleh\n"
    finally:
        srv.kill()
        srv.wait(WAIT)
    # openssl s_client -> libsock server, TLS 1.3, ALPN.
    tls = libsock.TLS(cert=pki["server.pem"], key=pki["server.key"], alpn=["x-echo"])
    with libsock.listen(("127.0.0.1", 0), tls=tls, timeout=WAIT) as server:
        port = server.address[1]
        cli = subprocess.Popen(
            ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-CAfile", pki["ca.pem"],
             "-verify_return_error", "-alpn", "x-echo", "-tls1_3", "-quiet"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            conn, _ = server.accept(timeout=WAIT)
            with conn:
                assert conn.selected_alpn_protocol() == "x-echo"
                assert conn.version() == "TLSv1.3"
                conn.sendall(b"from libsock\n")
                conn.shutdown("write")  # close_notify: s_client sees the end
            out, _ = cli.communicate(b"", timeout=WAIT)
            assert b"from libsock" in out
        finally:
            cli.kill()
            cli.wait(WAIT)


def test_sni_picks_the_certificate(pki: dict[str, str]) -> None:
    tls = libsock.TLS(cert=pki["device.pem"], key=pki["device.key"],
                      sni={"localhost": (pki["server.pem"], pki["server.key"])})
    with libsock.listen(("127.0.0.1", 0), tls=tls, timeout=WAIT) as server:
        results: list[bytes | None] = []

        def client(name: str) -> None:
            with libsock.connect(("127.0.0.1", server.address[1]), timeout=WAIT,
                                 tls=libsock.TLS(insecure=True, server_name=name)) as c:
                results.append(c.getpeercert(True))

        for name in ["localhost", "other.example"]:
            t = threading.Thread(target=client, args=(name,))
            t.start()
            conn, _ = server.accept(timeout=WAIT)
            t.join(WAIT)
            conn.close()
    device = libsock.fingerprint(open(pki["device.pem"]).read())
    server_fp = libsock.fingerprint(open(pki["server.pem"]).read())
    assert [libsock.fingerprint(r) for r in results if r] == [server_fp, device]


def test_bad_settings_are_refused() -> None:
    with pytest.raises(libsock.InvalidArgumentError):
        libsock.TLS(pin="not-a-fingerprint")
    with pytest.raises(libsock.InvalidArgumentError):
        libsock.TLS(min_version="1.1")  # type: ignore[arg-type]
    with pytest.raises(libsock.InvalidArgumentError):
        libsock.listen(("127.0.0.1", 0), tls=libsock.TLS())  # a server needs a certificate
    with pytest.raises(libsock.InvalidArgumentError):
        libsock.TLS(cert=b"-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n",
                    key=b"nope")
    # Core's one check, the same words in every door (tests-data/bad_inputs.json, tls_config).
    for kw, words in [({"handshake_timeout": 0}, "at least 1 ms"),
                      ({"alpn": [""]}, "1 to 255 bytes"),
                      ({"alpn": ["a" * 256]}, "1 to 255 bytes"),
                      ({"server_name": ""}, "empty TLS server name")]:
        with pytest.raises(libsock.InvalidArgumentError, match=words):
            libsock.TLS(**kw)  # type: ignore[arg-type]


def test_cli_cert_and_tls_listen_connect(tmp_path: "os.PathLike[str]") -> None:
    import sys

    out = subprocess.run([sys.executable, "-m", "libsock", "cert", "localhost", "127.0.0.1",
                          "--out", os.path.join(str(tmp_path), "dev")],
                         capture_output=True, text=True, timeout=60, check=True).stdout
    pem = open(os.path.join(str(tmp_path), "dev.pem")).read()
    assert "pin (SHA-256): " + libsock.fingerprint(pem) in out
    assert oct(os.stat(os.path.join(str(tmp_path), "dev.key")).st_mode & 0o777) == "0o600"
    srv = subprocess.Popen(
        [sys.executable, "-m", "libsock", "listen", "127.0.0.1:0", "--echo", "--cert",
         os.path.join(str(tmp_path), "dev.pem"), "--key", os.path.join(str(tmp_path), "dev.key")],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        assert srv.stderr is not None
        port = 0
        for _ in range(20):
            line = srv.stderr.readline()
            if "listening on" in line:
                port = int(line.split("listening on ")[1].split(" ")[0].rsplit(":", 1)[1])
                break
        assert port
        r = subprocess.run(
            [sys.executable, "-m", "libsock", "connect", f"127.0.0.1:{port}", "--pin",
             libsock.fingerprint(pem), "--timeout", "10"],
            input="over tls\n", capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        assert r.stdout == "over tls\n"
        # Without trust: refused, and says why.
        r = subprocess.run([sys.executable, "-m", "libsock", "connect", f"127.0.0.1:{port}",
                            "--tls", "--timeout", "10"],
                           input="x\n", capture_output=True, text=True, timeout=60)
        assert r.returncode != 0 and "unknown CA" in r.stderr, r.stderr
    finally:
        srv.kill()
        srv.wait(WAIT)
