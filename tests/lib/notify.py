#!/usr/bin/env python3
"""Stand in for systemd's notify socket.

  notify.py SOCKET ALERTS [--timeout S]

Binds a unix datagram socket at SOCKET, prints every message it gets
(one line each, newlines as |), and exits 0 at the first READY=1 if the
ALERTS file then already holds an agent_start line, 1 if READY=1 came
before agent_start, 2 on timeout."""
import json
import os
import socket
import sys
import time


def started(path):
    try:
        with open(path) as f:
            return any(json.loads(l).get("kind") == "agent_start" for l in f if l.strip())
    except (FileNotFoundError, ValueError):
        return False


def main():
    path, alerts = sys.argv[1], sys.argv[2]
    timeout = float(sys.argv[4]) if len(sys.argv) > 4 and sys.argv[3] == "--timeout" else 30
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    open(path + ".ready", "w").close()
    deadline = time.time() + timeout
    while time.time() < deadline:
        s.settimeout(max(0.1, deadline - time.time()))
        try:
            msg = s.recv(4096).decode()
        except socket.timeout:
            break
        print(msg.replace("\n", "|"), flush=True)
        if "READY=1" in msg.split("\n"):
            sys.exit(0 if started(alerts) else 1)
    sys.exit(2)


main()
