#!/usr/bin/env python3
"""A collector for the HTTP sink tests: accepts POSTs on 127.0.0.1:PORT and
appends each body, as received, to OUT (flushed before answering 200).
  http_sink.py --port P --out FILE --ready FILE [--status CODE]"""
import argparse
import http.server
import os


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--ready", required=True)
    ap.add_argument("--status", type=int, default=200, help="answer this instead (e.g. 503)")
    args = ap.parse_args()
    out = open(args.out, "ab")

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if args.status == 200:
                out.write(body)
                out.flush()
                os.fsync(out.fileno())
            self.send_response(args.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *a):
            pass

    srv = http.server.HTTPServer(("127.0.0.1", args.port), Handler)
    open(args.ready, "w").close()
    srv.serve_forever()


if __name__ == "__main__":
    main()
