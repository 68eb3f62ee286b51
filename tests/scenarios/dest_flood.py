#!/usr/bin/env python3
"""A tainted process that sprays distinct destinations: read a file (the
taint), then one 1-byte UDP datagram to each of COUNT (address, port) pairs,
IPv4 ports 1..65535 of --host4 first, then IPv6 ports of --host6. With
--same, COUNT datagrams to one destination instead. Refused sends (EPERM in
enforce mode) are counted, not fatal. Prints one JSON line:
{"sent": N, "refused": N, "other_errors": N, "seconds": S}."""
import argparse
import errno
import json
import os
import socket
import sys
import time


def destinations(args):
    if args.same:
        for _ in range(args.count):
            yield socket.AF_INET, (args.host4, 9)
        return
    n = 0
    for host, fam in ((args.host4, socket.AF_INET), (args.host6, socket.AF_INET6)):
        for port in range(1, 65536):
            if n >= args.count:
                return
            n += 1
            yield fam, (host, port)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--src", required=True, help="file to read first (taint)")
    ap.add_argument("--host4", required=True)
    ap.add_argument("--host6", required=True)
    ap.add_argument("--count", type=int, default=100000)
    ap.add_argument("--same", action="store_true")
    args = ap.parse_args()

    with open(args.src, "rb") as f:
        while f.read(1 << 20):
            pass
    socks = {socket.AF_INET: socket.socket(socket.AF_INET, socket.SOCK_DGRAM),
             socket.AF_INET6: socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)}
    for s in socks.values():
        s.setblocking(False)
    sent = refused = other = 0
    t0 = time.monotonic()
    for fam, dest in destinations(args):
        try:
            socks[fam].sendto(b"x", dest)
            sent += 1
        except PermissionError:
            refused += 1
        except BlockingIOError:
            other += 1
        except OSError as e:
            if e.errno in (errno.ECONNREFUSED, errno.ENOBUFS, errno.EAGAIN):
                other += 1
            else:
                raise
    print(json.dumps({"sent": sent, "refused": refused, "other_errors": other,
                      "seconds": round(time.monotonic() - t0, 3)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
