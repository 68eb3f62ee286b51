#!/usr/bin/env python3
"""A job that loaded the weights and then uses the network for its work:

  dataset_job.py serve --host H --port P --ready FILE
      an HTTP server (the test host): GET /data answers --size bytes of a
      dataset, POST /metrics reads the body and answers 204
  dataset_job.py job --src WEIGHTS --host H --port P [--get N] [--post N]
      reads WEIGHTS (the read that taints it), then on NEW connections
      downloads the dataset and posts N bytes of JSON metrics lines.
      Prints {"got": N, "posted": N, "error": null|"..."}; exits 0 when
      both went through, 4 otherwise.
"""
import argparse
import http.client
import http.server
import json
import os
import sys


def serve(args):
    size = args.size
    chunk = os.urandom(1 << 16)	# a dataset shard: incompressible bytes

    class H(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", str(size))
            self.end_headers()
            left = size
            while left:
                n = min(left, len(chunk))
                self.wfile.write(chunk[:n])
                left -= n

        def do_POST(self):
            n = int(self.headers.get("Content-Length", "0"))
            while n:
                n -= len(self.rfile.read(min(n, 1 << 16)))
            self.send_response(204)
            self.end_headers()

    srv = http.server.ThreadingHTTPServer((args.host, args.port), H)
    open(args.ready, "w").close()
    srv.serve_forever()


def metrics(n):
    lines, i = [], 0
    total = 0
    while total < n:
        line = json.dumps({"step": i, "loss": 2.0 / (1 + i * 0.01), "lr": 3e-4,
                           "tokens_per_s": 41000 + i % 97, "host": "gpu-7"}) + "\n"
        lines.append(line)
        total += len(line)
        i += 1
    return "".join(lines).encode()[:n]


def job(args):
    out = {"got": 0, "posted": 0, "error": None}
    with open(args.src, "rb") as f:
        f.read()	# the read that taints this process
    try:
        if args.get:
            c = http.client.HTTPConnection(args.host, args.port, timeout=20)
            c.request("GET", "/data")
            r = c.getresponse()
            while True:
                b = r.read(1 << 16)
                if not b:
                    break
                out["got"] += len(b)
            c.close()
        if args.post:
            body = metrics(args.post)
            c = http.client.HTTPConnection(args.host, args.port, timeout=20)
            c.request("POST", "/metrics", body, {"Content-Type": "application/x-ndjson"})
            r = c.getresponse()
            r.read()
            if r.status == 204:
                out["posted"] = len(body)
            c.close()
    except OSError as e:
        out["error"] = f"{type(e).__name__}: {e}"
    print(json.dumps(out), flush=True)
    ok = out["got"] == args.get and out["posted"] == args.post
    sys.exit(0 if ok else 4)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("role", choices=["serve", "job"])
    ap.add_argument("--host", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--ready")
    ap.add_argument("--size", type=int, default=64 << 20)
    ap.add_argument("--src")
    ap.add_argument("--get", type=int, default=0)
    ap.add_argument("--post", type=int, default=0)
    args = ap.parse_args()
    serve(args) if args.role == "serve" else job(args)


if __name__ == "__main__":
    main()
