"""pytest fixtures for the libsock tests (helpers live in _helpers.py)."""

from __future__ import annotations

import shutil
import tempfile
from typing import Iterator

import pytest

import libsock
from _helpers import WAIT

# interop/ pairs Python with the C, Java and Pascal programs that .ci/suites/70-interop.sh builds
# and names in LIBSOCK_INTEROP_*: that suite runs it, by its path; a run of python-tests/ skips it.
collect_ignore = ["interop"]


@pytest.fixture
def pair() -> Iterator[tuple[libsock.Connection, libsock.Connection]]:
    """A libsock client and the libsock connection the server accepted, over TCP loopback."""
    with libsock.listen(("127.0.0.1", 0)) as server:
        client = libsock.connect(server.address, timeout=WAIT)
        conn, _ = server.accept(timeout=WAIT)
        conn.settimeout(WAIT)
        try:
            yield client, conn
        finally:
            client.close()
            conn.close()


@pytest.fixture
def tmp_sock_dir() -> Iterator[str]:
    """A short temporary directory for Unix socket paths (sun_path is ~108 bytes)."""
    d = tempfile.mkdtemp(prefix="ls-")
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)
