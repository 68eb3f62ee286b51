#!/usr/bin/env python3
"""A local relay: weights go over a unix socket to a second process that
sends them out, so the reader never touches the network.

  unix_relay.py relay PATH HOST PORT [--connect-first]   accept one client, forward
  unix_relay.py send PATH FILE                           read FILE, send it to PATH
"""
import os
import socket
import sys


def relay(path, host, port, connect_first):
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(1)
    open(path + ".ready", "w").close()
    conn, _ = srv.accept()
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    out = None
    if connect_first:
        out = socket.create_connection((host, port))
    chunks = []
    while True:
        b = conn.recv(1 << 20)
        if not b:
            break
        chunks.append(b)
    if out is None:
        out = socket.socket(fam, socket.SOCK_STREAM)
        out.connect((host, port))
    out.sendall(b"".join(chunks))
    out.close()


def send(path, src):
    with open(src, "rb") as f:
        data = f.read()
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    s.sendall(data)
    s.close()


if __name__ == "__main__":
    try:
        if sys.argv[1] == "relay":
            relay(sys.argv[2], sys.argv[3], int(sys.argv[4]), "--connect-first" in sys.argv)
        else:
            send(sys.argv[2], sys.argv[3])
    except OSError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(3 if e.errno == 1 else 4)
