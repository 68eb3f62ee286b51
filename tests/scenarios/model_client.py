#!/usr/bin/env python3
"""The remote client of model_server.py: sends N requests on one keep-alive
connection and reads each answer whole; prints what it got as JSON.

    model_client.py --host ADDR --port P --requests N [--timeout S] [--tls]

--tls: each answer is one TLS record (model_server.py --serve tls): its
5-byte header, then that many bytes.
"""
import argparse
import json
import os
import socket
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import http1  # noqa: E402


class Counted:
    """Bytes of answer bodies received, partial ones included."""
    body_bytes = 0


def read_body(f, left, got):
    """Read `left` bytes, counting them as they come; False if cut short."""
    while left:
        chunk = f.read1(min(left, 65536))
        if not chunk:
            return False
        got.body_bytes += len(chunk)
        left -= len(chunk)
    return True


def read_response(f, got):
    head = http1.read_head(f)
    if not head or not read_body(f, head[1], got):
        return None
    return head[1]


def read_record(f, got):
    head = f.read(5)
    if len(head) < 5 or not read_body(f, int.from_bytes(head[3:5], "big"), got):
        return None
    return True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--requests", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=10)
    ap.add_argument("--tls", action="store_true")
    args = ap.parse_args()
    s = socket.create_connection((args.host, args.port), timeout=args.timeout)
    f = s.makefile("rb")
    done, err, got = 0, None, Counted()
    req = (b'POST /v1/completions HTTP/1.1\r\nHost: model\r\nContent-Type: application/json\r\n'
           b'Content-Length: 44\r\n\r\n{"prompt": "Say something.", "max_tokens":9}')
    try:
        for _ in range(args.requests):
            s.sendall(req)
            if (read_record(f, got) if args.tls else read_response(f, got)) is None:
                err = "short answer"
                break
            done += 1
    except OSError as e:
        err = e.strerror or str(e)
    s.close()
    print(json.dumps({"answers": done, "body_bytes": got.body_bytes, "error": err}))
    return 0 if done == args.requests else 1


if __name__ == "__main__":
    sys.exit(main())
