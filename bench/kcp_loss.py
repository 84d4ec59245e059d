#!/usr/bin/env python3
"""KCP against TCP under packet loss: ping-pong round-trip latency percentiles.

For each loss rate, a network namespace is made whose loopback drops that share of every
packet arriving (nftables ``numgen random`` on the input hook, TCP and UDP alike), and inside
it ``python-tests/peers/kcp_ref.py latency`` measures ``--n`` round trips of a 100-byte
message: libsock's KCP session (default tuning: nodelay 2, interval 10 ms, resend 2, nc)
against the reference KCP implementation (the PyPI package ``kcp``), and a TCP client against
a TCP echo server (Linux defaults, TCP_NODELAY). Needs root (``ip netns``, ``nft``).

    sudo python3 bench/kcp_loss.py --loss 0,10,30 --n 300

Prints a markdown table: p50, p99 and max round trip in ms.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
PEER = os.path.join(HERE, "..", "python-tests", "peers", "kcp_ref.py")

RULES = """
table inet libsock_loss {
    chain in {
        type filter hook input priority 0; policy accept;
        numgen random mod 100 < %d drop
    }
}
"""


def run_in_netns(loss: int, args: list[str], timeout: float) -> dict:
    name = f"lskcpbench{os.getpid()}"
    subprocess.run(["ip", "netns", "add", name], check=True, timeout=30)
    try:
        ex = ["ip", "netns", "exec", name]
        subprocess.run(ex + ["ip", "link", "set", "lo", "up"], check=True, timeout=30)
        if loss:
            subprocess.run(ex + ["nft", "-f", "-"], input=(RULES % loss).encode(), check=True,
                           timeout=30)
        r = subprocess.run(ex + args, check=True, capture_output=True, timeout=timeout)
        return json.loads(r.stdout)
    finally:
        subprocess.run(["ip", "netns", "del", name], capture_output=True, timeout=30)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--loss", default="0,10,30", help="loss rates in %% (comma-separated)")
    ap.add_argument("--n", type=int, default=300, help="round trips per run")
    a = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("needs root: ip netns and nft")
    print(f"Round trips of a 100-byte message, {a.n} per run, loss on every packet (ms)\n")
    print("| loss | protocol | p50 | p99 | max |")
    print("|---:|---|---:|---:|---:|")
    for loss in [int(x) for x in a.loss.split(",")]:
        for proto in ("kcp", "tcp"):
            r = run_in_netns(loss, [sys.executable, PEER, "latency", "--proto", proto,
                                    "--n", str(a.n)], timeout=900)
            print(f"| {loss} % | {proto.upper()} | {r['p50_ms']} | {r['p99_ms']} | {r['max_ms']} |",
                  flush=True)


if __name__ == "__main__":
    main()
