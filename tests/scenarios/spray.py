#!/usr/bin/env python3
"""Read a file, then send a little of it to several destinations in turn
(one process, many peers): spray.py FILE HOST PORT..."""
import socket
import sys

data = open(sys.argv[1], "rb").read()
host = sys.argv[2]
for port in sys.argv[3:]:
    s = socket.create_connection((host, int(port)), timeout=5)
    s.sendall(data[:64 * 1024])
    s.close()
