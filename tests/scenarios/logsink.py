#!/usr/bin/env python3
"""Local channels carrying a tainted process's output: a log daemon, a
journald-like stream socket, a `| tee` reader — and the same channels
carrying the weights themselves.

  logsink.py recv KIND PATH HOST PORT   receive until the end (KIND dgram: bind a
                                        SOCK_DGRAM socket at PATH, /dev/log-like,
                                        until an empty datagram; stream: accept one
                                        client at PATH; pipe: stdin, PATH unused),
                                        then send all of it to HOST:PORT and print
                                        the byte count
  logsink.py send KIND PATH FILE WHAT N read FILE whole (the sender is tainted),
                                        then send to PATH (dgram: sendto, never
                                        connected; stream: connect; pipe: stdout)
                                        WHAT=log: N syslog-style text lines;
                                        WHAT=weights: the first N bytes of FILE
"""
import os
import socket
import sys
import time


def recv(kind, path, host, port):
    chunks = []
    if kind == "dgram":
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        s.bind(path)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        open(path + ".ready", "w").close()
        while True:
            b = s.recv(1 << 16)
            if not b:
                break
            chunks.append(b)
    elif kind == "stream":
        srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        srv.bind(path)
        srv.listen(1)
        open(path + ".ready", "w").close()
        conn, _ = srv.accept()
        while True:
            b = conn.recv(1 << 16)
            if not b:
                break
            chunks.append(b)
    else:
        while True:
            b = os.read(0, 1 << 16)
            if not b:
                break
            chunks.append(b)
    data = b"".join(chunks)
    out = socket.create_connection((host, port))
    out.sendall(data)
    out.close()
    print(len(data))


def payload(src, what, n):
    with open(src, "rb") as f:
        data = f.read()
    if what == "weights":
        return [data[i:i + 16384] for i in range(0, n, 16384)]
    pid = os.getpid()
    return [(f"<14>Dec  2 12:00:{i % 60:02d} model-server[{pid}]: step {i} "
             f"loss={1.0 / (i + 1):.6f} lr=3.0e-04 tokens/s={12000 + i % 997} "
             f"gpu_mem=71.2GiB\n").encode() for i in range(n)]


def send(kind, path, src, what, n):
    parts = payload(src, what, n)
    if kind == "dgram":
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        for p in parts:
            s.sendto(p, path)
        s.sendto(b"", path)
    elif kind == "stream":
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(path)
        for p in parts:
            s.sendall(p)
        s.close()
    else:
        for p in parts:
            os.write(1, p)
            if what == "log":
                time.sleep(0)   # line by line, as a logger flushes


if __name__ == "__main__":
    try:
        a = sys.argv
        if a[1] == "recv":
            recv(a[2], a[3], a[4], int(a[5]))
        else:
            send(a[2], a[3], a[4], a[5], int(a[6]))
    except OSError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(3 if e.errno == 1 else 4)
