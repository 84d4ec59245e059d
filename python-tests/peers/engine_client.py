"""A libsock engine Client that sends numbered messages until the test kills it.

    engine_client.py PORT

Message s is s (8 bytes, big endian) + 2000 bytes of PAT[s % 256:] (engine_server.py's
pattern). Prints {"connected": true} once connected, then sends as fast as its send queue
allows (QueueFullError: a short pause, then the same message again), never stopping by itself.
"""

from __future__ import annotations

import json
import struct
import sys
import time

import libsock

PAT = bytes(range(256)) * 20


def main() -> int:
    client = libsock.Client(("127.0.0.1", int(sys.argv[1])), reconnect=False)
    deadline = time.monotonic() + 30
    while not any(ev.kind == "connected" for ev in client.events(timeout=1)):
        assert time.monotonic() < deadline, "not connected within 30 s"
    print(json.dumps({"connected": True}), flush=True)
    seq = 0
    while True:
        msg = struct.pack(">Q", seq) + PAT[seq % 256:seq % 256 + 2000]
        try:
            client.send(msg)
            seq += 1
        except libsock.QueueFullError:
            time.sleep(0.001)


if __name__ == "__main__":
    sys.exit(main())
