#!/usr/bin/env python3
"""Stand in for systemd's notify socket.

  notify.py SOCKET ALERTS [--timeout S]
  notify.py SOCKET --listen S

Binds a unix datagram socket at SOCKET, prints every message it gets
(one line each, newlines as |), and exits 0 at the first READY=1 if the
ALERTS file then already holds an agent_start line, 1 if READY=1 came
before agent_start, 2 on timeout. With --listen: prints what comes in S
seconds, then exits 0."""
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


def bind(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    open(path + ".ready", "w").close()
    return s


def listen(path, seconds):
    s = bind(path)
    deadline = time.time() + seconds
    while time.time() < deadline:
        s.settimeout(max(0.05, deadline - time.time()))
        try:
            print(s.recv(4096).decode().replace("\n", "|"), flush=True)
        except socket.timeout:
            pass
    sys.exit(0)


def main():
    if len(sys.argv) == 4 and sys.argv[2] == "--listen":
        listen(sys.argv[1], float(sys.argv[3]))
    path, alerts = sys.argv[1], sys.argv[2]
    timeout = float(sys.argv[4]) if len(sys.argv) > 4 and sys.argv[3] == "--timeout" else 30
    s = bind(path)
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
