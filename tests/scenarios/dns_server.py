#!/usr/bin/env python3
"""A DNS resolver for the tests: answers every A/AAAA/TXT query with one
A record (10.0.0.1) and counts the queries it got (and their name bytes)
into --out as "QUERIES NAME_BYTES".

    dns_server.py --host ADDR --port 53 --out FILE --ready FILE
"""
import argparse
import socket
import struct


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", required=True)
    ap.add_argument("--port", type=int, default=53)
    ap.add_argument("--out", required=True)
    ap.add_argument("--ready", required=True)
    args = ap.parse_args()
    fam = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.bind((args.host, args.port))
    open(args.ready, "w").close()
    queries = name_bytes = 0
    while True:
        msg, peer = s.recvfrom(4096)
        if len(msg) < 13:
            continue
        pos = 12
        while pos < len(msg) and msg[pos]:
            pos += 1 + msg[pos]
        qend = pos + 5
        queries += 1
        name_bytes += pos + 1 - 12
        with open(args.out, "w") as f:
            f.write("%d %d\n" % (queries, name_bytes))
        answer = (msg[:2] + struct.pack(">HHHHH", 0x8180, 1, 1, 0, 0) + msg[12:qend] +
                  struct.pack(">HHHIH", 0xC00C, 1, 1, 60, 4) + bytes([10, 0, 0, 1]))
        s.sendto(answer, peer)


if __name__ == "__main__":
    main()
