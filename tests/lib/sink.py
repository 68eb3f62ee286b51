#!/usr/bin/env python3
"""A test host's receiving end: accept TCP or UDP on a port (IPv4 and IPv6) and
keep the total bytes received in a file, rewritten after every receive, so a
test can assert exactly how many weight bytes reached the outside. Beside it,
OUT.conns holds one line per TCP connection or UDP source address (in order of
arrival): what that one sender delivered, which a test that runs several
senders against one sink reads after all are done (a slow sink still draining
one sender's bytes must not charge them to the next)."""
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


def write_conns(path, per_conn):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write("".join(f"{n}\n" for n in per_conn.values()))
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--proto", choices=("tcp", "udp", "udplite"), default="tcp")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--out", required=True, help="file holding the byte total")
    ap.add_argument("--ready", required=True, help="file created once listening")
    args = ap.parse_args()

    kind = socket.SOCK_STREAM if args.proto == "tcp" else socket.SOCK_DGRAM
    s = socket.socket(socket.AF_INET6, kind,
                      socket.IPPROTO_UDPLITE if args.proto == "udplite" else 0)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("::", args.port))
    if kind == socket.SOCK_STREAM:
        s.listen(16)
    total = 0
    per_conn = {}  # accepted socket (TCP) or source address (UDP) -> bytes
    conns_out = args.out + ".conns"
    write_total(args.out, 0)
    write_conns(conns_out, per_conn)
    open(args.ready, "w").close()

    sel = selectors.DefaultSelector()
    sel.register(s, selectors.EVENT_READ)
    while True:
        for key, _ in sel.select():
            sock = key.fileobj
            if sock is s and kind == socket.SOCK_STREAM:
                conn, _ = s.accept()
                sel.register(conn, selectors.EVENT_READ)
                per_conn[conn] = 0
                continue
            try:
                data, src = sock.recvfrom(1 << 20)
            except OSError:
                data, src = b"", None
            if not data and kind == socket.SOCK_STREAM:
                sel.unregister(sock)
                sock.close()
                continue
            total += len(data)
            who = sock if kind == socket.SOCK_STREAM else src
            per_conn[who] = per_conn.get(who, 0) + len(data)
            write_total(args.out, total)
            write_conns(conns_out, per_conn)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(0)
