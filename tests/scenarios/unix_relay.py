#!/usr/bin/env python3
"""A local relay: weights go over a unix socket to a second process that
sends them out, so the reader never touches the network.

  unix_relay.py relay PATH HOST PORT [--connect-first]   accept one client, forward
  unix_relay.py send PATH FILE                           read FILE, send it to PATH
  unix_relay.py dgram-relay PATH HOST PORT               bind a SOCK_DGRAM socket at PATH,
                                                         receive until an empty datagram,
                                                         forward it all
  unix_relay.py dgram-send PATH FILE                     read FILE, sendto PATH in datagrams
                                                         (never connected), then an empty one
  unix_relay.py fd-relay PATH HOST PORT                  accept one client, take the fd it
                                                         passes (SCM_RIGHTS), read it, forward
  unix_relay.py fd-send PATH FILE                        open FILE (never read it), pass the fd
"""
import array
import os
import socket
import sys


def relay(path, host, port, connect_first):
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(1)
    open(path + ".ready", "w").close()
    conn, _ = srv.accept()
    out = connect(host, port) if connect_first else None
    chunks = []
    while True:
        b = conn.recv(1 << 20)
        if not b:
            break
        chunks.append(b)
    forward(host, port, b"".join(chunks), out)


def connect(host, port):
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    out = socket.socket(fam, socket.SOCK_STREAM)
    out.connect((host, port))
    return out


def forward(host, port, data, out=None):
    out = out or connect(host, port)
    out.sendall(data)
    out.close()


def dgram_relay(path, host, port):
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    srv.bind(path)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    open(path + ".ready", "w").close()
    chunks = []
    while True:
        b = srv.recv(1 << 16)
        if not b:
            break
        chunks.append(b)
    forward(host, port, b"".join(chunks))


def dgram_send(path, src):
    with open(src, "rb") as f:
        data = f.read()
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    for i in range(0, len(data), 16384):
        s.sendto(data[i:i + 16384], path)
    s.sendto(b"", path)


def fd_relay(path, host, port):
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(1)
    open(path + ".ready", "w").close()
    conn, _ = srv.accept()
    fds = array.array("i")
    _, anc, _, _ = conn.recvmsg(1, socket.CMSG_LEN(fds.itemsize))
    for level, kind, data in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(data[:fds.itemsize])
    with os.fdopen(fds[0], "rb") as f:
        forward(host, port, f.read())


def fd_send(path, src):
    fd = os.open(src, os.O_RDONLY)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    s.sendmsg([b"x"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [fd]))])
    s.close()


def send(path, src):
    with open(src, "rb") as f:
        data = f.read()
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    s.sendall(data)
    s.close()


if __name__ == "__main__":
    try:
        a = sys.argv
        if a[1] == "relay":
            relay(a[2], a[3], int(a[4]), "--connect-first" in a)
        elif a[1] in ("dgram-relay", "fd-relay"):
            {"dgram-relay": dgram_relay, "fd-relay": fd_relay}[a[1]](a[2], a[3], int(a[4]))
        elif a[1] in ("dgram-send", "fd-send"):
            {"dgram-send": dgram_send, "fd-send": fd_send}[a[1]](a[2], a[3])
        else:
            send(a[2], a[3])
    except OSError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(3 if e.errno == 1 else 4)
