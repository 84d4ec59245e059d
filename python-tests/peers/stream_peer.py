"""A blocking libsock peer that the fault tests kill with SIGKILL mid-transfer.

    stream_peer.py send HOST PORT          # sendall() the numbered stream until killed
    stream_peer.py send-framed HOST PORT   # send_msg() numbered messages until killed
    stream_peer.py recv HOST PORT N        # read N bytes, report, then never read again

The stream is chunk 0, chunk 1, ... with chunk i = i (8 bytes, big endian) followed by 4088
bytes of PAT[i % 256:]; a framed message i is i (8 bytes) + 1000 bytes of PAT[i % 256:].
Prints one JSON line when connected ({"connected": local port}); ``recv`` prints another
({"read": N, "sha256": ...}) once it has read N bytes.
"""

from __future__ import annotations

import hashlib
import json
import struct
import sys
import time

import libsock

PAT = bytes(range(256)) * 20


def chunk(i: int) -> bytes:
    return struct.pack(">Q", i) + PAT[i % 256:i % 256 + 4088]


def message(i: int) -> bytes:
    return struct.pack(">Q", i) + PAT[i % 256:i % 256 + 1000]


def main() -> int:
    mode, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    framing = libsock.LengthPrefixed() if mode == "send-framed" else None
    conn = libsock.connect((host, port), timeout=60, framing=framing)
    print(json.dumps({"connected": conn.local_address[1]}), flush=True)
    i = 0
    if mode == "send":
        while True:
            conn.sendall(b"".join(chunk(i + k) for k in range(16)))
            i += 16
    elif mode == "send-framed":
        while True:
            conn.send_msgs([message(i + k) for k in range(16)])
            i += 16
    elif mode == "recv":
        want = int(sys.argv[4])
        got = conn.recv_exact(want)
        print(json.dumps({"read": len(got), "sha256": hashlib.sha256(got).hexdigest()}), flush=True)
        time.sleep(600)  # never reads again: what the test sends next stays unread
    return 0


if __name__ == "__main__":
    sys.exit(main())
