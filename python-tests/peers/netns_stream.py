"""Both ends of the packet-loss test (test_faults.py): one blocking libsock Connection with
LengthPrefixed framing that sends ``--bytes`` of random data while it receives the peer's, both
directions at once, then prints one JSON line with the counts and SHA-256 of what it sent and
what it received.

    netns_stream.py listen HOST PORT --bytes N     # accepts one peer
    netns_stream.py connect HOST PORT --bytes N

The end of each direction is an empty message. Every wait has a timeout (``--timeout``).
Run inside a network namespace by the test (``ip netns exec``); standalone, nothing here needs
root.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import threading
import time
from typing import Any

import libsock

CHUNK = 64 * 1024


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("role", choices=["listen", "connect"])
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("--bytes", type=int, required=True)
    ap.add_argument("--timeout", type=float, default=120.0)
    a = ap.parse_args()
    framing = libsock.LengthPrefixed()
    t0 = time.monotonic()
    if a.role == "listen":
        with libsock.listen((a.host, a.port), framing=framing) as lst:
            print(json.dumps({"listening": lst.address[1]}), flush=True)
            conn, _ = lst.accept(timeout=a.timeout)
    else:
        deadline = time.monotonic() + a.timeout
        while True:  # the listener may not be up yet
            try:
                conn = libsock.connect((a.host, a.port), timeout=a.timeout, connect_timeout=5.0,
                                       framing=framing)
                break
            except (libsock.ConnectionRefusedError, libsock.TimeoutError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
    conn.settimeout(a.timeout)
    out: dict[str, Any] = {}
    failure: list[BaseException] = []

    def send() -> None:
        try:
            h = hashlib.sha256()
            left = a.bytes
            while left > 0:
                chunk = os.urandom(min(CHUNK, left))
                h.update(chunk)
                conn.send_msg(chunk)
                left -= len(chunk)
            conn.send_msg(b"")  # end of this direction
            out["sent"] = a.bytes
            out["sent_sha256"] = h.hexdigest()
        except BaseException as e:  # noqa: BLE001 - reported below
            failure.append(e)

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    h = hashlib.sha256()
    n = 0
    try:
        while True:
            m = conn.recv_msg()
            if not m:
                break
            h.update(m)
            n += len(m)
    except BaseException as e:  # noqa: BLE001
        failure.append(e)
    sender.join(a.timeout)
    out["received"] = n
    out["received_sha256"] = h.hexdigest()
    out["seconds"] = round(time.monotonic() - t0, 2)
    if sender.is_alive():
        failure.append(RuntimeError("the sending thread did not finish"))
    if failure:
        out["error"] = "; ".join(f"{type(e).__name__}: {e}" for e in failure)
    # Both directions are done on this side; the peer may still be reading our end marker,
    # which TCP delivers after close too (no unread data here: no reset).
    conn.close()
    print(json.dumps(out), flush=True)
    return 1 if failure else 0


if __name__ == "__main__":
    sys.exit(main())
