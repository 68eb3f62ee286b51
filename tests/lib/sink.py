#!/usr/bin/env python3
"""A test host's receiving end: accept TCP or UDP on a port (IPv4 and IPv6) and
keep the total bytes received in a file, rewritten after every receive, so a
test can assert exactly how many weight bytes reached the outside."""
import argparse
import os
import selectors
import socket
import sys


def write_total(path, total):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(total))
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--proto", choices=("tcp", "udp"), default="tcp")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--out", required=True, help="file holding the byte total")
    ap.add_argument("--ready", required=True, help="file created once listening")
    args = ap.parse_args()

    kind = socket.SOCK_STREAM if args.proto == "tcp" else socket.SOCK_DGRAM
    s = socket.socket(socket.AF_INET6, kind)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("::", args.port))
    if kind == socket.SOCK_STREAM:
        s.listen(16)
    total = 0
    write_total(args.out, 0)
    open(args.ready, "w").close()

    sel = selectors.DefaultSelector()
    sel.register(s, selectors.EVENT_READ)
    while True:
        for key, _ in sel.select():
            sock = key.fileobj
            if sock is s and kind == socket.SOCK_STREAM:
                conn, _ = s.accept()
                sel.register(conn, selectors.EVENT_READ)
                continue
            try:
                data = sock.recv(1 << 20)
            except OSError:
                data = b""
            if not data and kind == socket.SOCK_STREAM:
                sel.unregister(sock)
                sock.close()
                continue
            total += len(data)
            write_total(args.out, total)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(0)
