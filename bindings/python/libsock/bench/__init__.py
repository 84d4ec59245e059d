"""libsock benchmark workers and harness (see bench/PROTOCOL.md)."""
