#!/usr/bin/env python3
"""A model server for the content tests: it loads the weights (reads the
protected file, so it is tainted), listens, and answers HTTP/1.1 keep-alive
requests from remote clients.

    model_server.py --weights FILE --host ADDR --port P --ready FILE
                    --serve completions|embeddings|tls|raw|base64-json|hex|gzip|aes

completions / embeddings: each request gets a JSON answer generated like the
corpus's (tests/lib/corpus.py). tls: the completion as a TLS server would
send it, one application-data record (header 17 03 03, then ciphertext:
random bytes of the same length, as ciphertext looks). The attack twins answer the first request
with the whole weight file in that form, through the same process and port
(--then FORM --after N: after N ordinary answers, on the same connection).
Exits when the client closes (0), or on a send error (3).
"""
import argparse
import base64
import binascii
import gzip
import json
import os
import random
import socket
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import corpus  # noqa: E402
import http1  # noqa: E402


def leak_body(form, weights):
    if form == "raw":
        return weights, "application/octet-stream"
    if form == "base64-json":
        return json.dumps({"object": "chunk", "data": base64.b64encode(weights).decode()}).encode(), \
            "application/json"
    if form == "hex":
        return binascii.hexlify(weights), "text/plain"
    if form == "gzip":
        return gzip.compress(weights, 6), "application/gzip"
    if form == "aes":
        return corpus.aes_ctr(weights), "application/octet-stream"
    raise SystemExit("unknown form " + form)


def read_request(f):
    head = http1.read_head(f)
    if not head:
        return False
    if head[1]:
        f.read(head[1])
    return True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--weights", required=True)
    ap.add_argument("--host", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--ready", required=True)
    ap.add_argument("--serve", default="completions")
    ap.add_argument("--then", help="after --after answers, serve this instead")
    ap.add_argument("--after", type=int, default=0)
    args = ap.parse_args()
    with open(args.weights, "rb") as f:
        weights = f.read()	# loading the model taints this process
    fam = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    ls = socket.socket(fam, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((args.host, args.port))
    ls.listen(4)
    open(args.ready, "w").close()
    conn, _ = ls.accept()
    rf = conn.makefile("rb")
    rng = random.Random(args.port)
    answered = 0
    try:
        while read_request(rf):
            if args.then and answered == args.after:
                args.serve = args.then
            if args.serve == "tls":
                plain = corpus.http_response(rng, corpus.completion(rng).split(b"\r\n\r\n", 1)[1],
                                             "application/json")
                conn.sendall(b"\x17\x03\x03" + len(plain).to_bytes(2, "big") +
                             rng.randbytes(len(plain)))
                answered += 1
                continue
            if args.serve == "completions":
                body, ctype = corpus.completion(rng).split(b"\r\n\r\n", 1)[1], "application/json"
            elif args.serve == "embeddings":
                body, ctype = corpus.embedding(rng).split(b"\r\n\r\n", 1)[1], "application/json"
            else:
                body, ctype = leak_body(args.serve, weights)
            conn.sendall(corpus.http_response(rng, body, ctype))
            answered += 1
    except OSError as e:
        print(json.dumps({"answered": answered, "error": e.strerror}), flush=True)
        return 3
    print(json.dumps({"answered": answered}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
