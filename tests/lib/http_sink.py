#!/usr/bin/env python3
"""A collector for the HTTP sink tests: accepts POSTs on 127.0.0.1:PORT,
checks each body has the shape its API wants (the path, headers and body a
real Splunk HEC, Elastic _bulk or Loki push endpoint takes), and appends the
records it carried, one per line, to OUT (flushed before answering).
A body of the wrong shape is answered 400 and described in OUT.errors.
  http_sink.py --port P --out FILE --ready FILE [--status CODE]
               [--api generic|splunk|elastic|loki] [--token T]
               [--cert PEM --key PEM] (HTTPS)
               [--retry-items N] (elastic: the first N bulk requests answer
                 429 for every second item not yet indexed)
               [--reject MARK] (elastic: a record containing MARK is refused
                 for good, 400 mapper_parsing_exception)"""
import argparse
import http.server
import json
import os
import ssl
import threading


class Bad(Exception):
    pass


def records_of(api, path, headers, body, args, state):
    """The records in one request body, in the order the collector keeps
    them, and the answer it gives (bytes)."""
    ctype = headers.get("Content-Type", "")
    if api == "generic":
        return body.decode().splitlines(), b""
    if api == "splunk":
        if path != "/services/collector/event":
            raise Bad("path " + path)
        if headers.get("Authorization") != "Splunk " + args.token:
            raise Bad("Authorization %r" % headers.get("Authorization"))
        if "application/json" not in ctype:
            raise Bad("Content-Type " + ctype)
        dec, text, pos, out = json.JSONDecoder(), body.decode(), 0, []
        while pos < len(text):
            while pos < len(text) and text[pos] in " \r\n\t":
                pos += 1
            if pos == len(text):
                break
            ev, pos = dec.raw_decode(text, pos)
            if not isinstance(ev.get("time"), (int, float)):
                raise Bad("time %r" % ev.get("time"))
            if ev.get("source") != "vigil" or not ev.get("sourcetype") or not ev.get("host"):
                raise Bad("envelope %r" % {k: v for k, v in ev.items() if k != "event"})
            if not isinstance(ev.get("event"), dict):
                raise Bad("event is not an object")
            if ev["event"].get("host") != ev["host"]:
                raise Bad("host")
            out.append(json.dumps(ev["event"], separators=(",", ":")))
        return out, b'{"text":"Success","code":0}'
    if api == "loki":
        if path != "/loki/api/v1/push":
            raise Bad("path " + path)
        if "application/json" not in ctype:
            raise Bad("Content-Type " + ctype)
        doc = json.loads(body)
        ents = []
        for s in doc["streams"]:
            lab = s["stream"]
            if lab.get("job") != "vigil" or not lab.get("host") or not lab.get("kind"):
                raise Bad("labels %r" % lab)
            if any(k in lab for k in ("id", "seq", "pid")):
                raise Bad("unbounded label in %r" % lab)
            prev = 0
            for ts, line in s["values"]:
                if not (isinstance(ts, str) and ts.isdigit() and len(ts) == 19):
                    raise Bad("timestamp %r" % ts)
                if int(ts) < prev:
                    raise Bad("stream out of order")
                prev = int(ts)
                rec = json.loads(line)
                if rec["kind"] != lab["kind"] or rec["host"] != lab["host"]:
                    raise Bad("labels do not match the record")
                for k, v in rec.get("labels", {}).items():
                    if lab.get(k) != v:
                        raise Bad("operator label %s missing" % k)
                ents.append((rec["seq"], line))
        return [line for _, line in sorted(ents)], b""
    if api == "elastic":
        if path != "/_bulk":
            raise Bad("path " + path)
        # Elastic takes _bulk as x-ndjson or json (rsyslog's omelasticsearch)
        if "application/x-ndjson" not in ctype and "application/json" not in ctype:
            raise Bad("Content-Type " + ctype)
        if not body.endswith(b"\n"):
            raise Bad("no final newline")
        lines = body.decode().split("\n")[:-1]
        if len(lines) % 2:
            raise Bad("odd line count")
        state["bulk"] += 1
        out, items = [], []
        for i in range(0, len(lines), 2):
            act = json.loads(lines[i])
            if list(act) != ["create"]:
                raise Bad("action %r" % act)
            meta = act["create"]
            doc = json.loads(lines[i + 1])
            if not meta.get("_index") or meta.get("_id") != doc["id"]:
                raise Bad("meta %r" % meta)
            item = {"_index": meta["_index"], "_id": meta["_id"]}
            if args.reject and args.reject in lines[i + 1]:
                item.update(status=400, error={"type": "mapper_parsing_exception",
                                               "reason": "failed to parse field [process]"})
            elif meta["_id"] in state["ids"]:
                item.update(status=409, error={"type": "version_conflict_engine_exception"})
            elif (state["bulk"] <= args.retry_items and state["items"] % 2 and
                  meta["_id"] not in state["deferred"]):
                state["deferred"].add(meta["_id"])
                item.update(status=429, error={"type": "es_rejected_execution_exception"})
            else:
                state["ids"].add(meta["_id"])
                item.update(status=201, result="created")
                out.append(lines[i + 1])
            state["items"] += 1
            items.append({"create": item})
        errors = any(it["create"]["status"] >= 300 for it in items)
        return out, json.dumps({"took": 1, "errors": errors, "items": items}).encode()
    raise Bad("api " + api)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--ready", required=True)
    ap.add_argument("--status", type=int, default=200, help="answer this instead (e.g. 503)")
    ap.add_argument("--api", default="generic")
    ap.add_argument("--token", default="")
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--retry-items", type=int, default=0)
    ap.add_argument("--reject")
    args = ap.parse_args()
    out = open(args.out, "ab")
    errs = open(args.out + ".errors", "a")
    state = {"bulk": 0, "items": 0, "ids": set(), "deferred": set()}
    lock = threading.Lock()
    if args.api == "elastic" and os.path.exists(args.out):   # a restarted collector keeps its index
        for line in open(args.out):
            state["ids"].add(json.loads(line)["id"])

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def handle(self):
            try:
                super().handle()
            except (ssl.SSLError, OSError):
                pass    # a client that refused our certificate

        def do_GET(self):
            # Elastic: the health checks clients make before sending
            answer = b""
            if args.api == "elastic" and self.path.split("?")[0] in ("/", "/_cat/health"):
                answer = b'{"cluster_name":"vigil-test","status":"green"}'
            self.send_response(200 if answer else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            code, answer = args.status, b""
            if code == 200:
                lock.acquire()
                try:
                    recs, answer = records_of(args.api, self.path, self.headers, body, args, state)
                    for r in recs:
                        out.write(r.encode() + b"\n")
                    out.flush()
                    os.fsync(out.fileno())
                except (Bad, ValueError, KeyError, TypeError) as e:
                    errs.write("%s %s: %s\n" % (args.api, self.path, e))
                    errs.flush()
                    code = 400
                finally:
                    lock.release()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *a):
            pass

    # concurrent connections, as a real collector takes them (one sink's
    # kept-alive connection must not hold up another's handshake)
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    srv.daemon_threads = True
    if args.cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.cert, args.key)
        # the handshake in the connection's thread, not in accept
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True,
                                     do_handshake_on_connect=False)
    open(args.ready, "w").close()
    srv.serve_forever()


if __name__ == "__main__":
    main()
