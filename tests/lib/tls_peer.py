#!/usr/bin/env python3
"""A test host's HTTPS endpoint (python's ssl: OpenSSL): accepts TLS on one or
more ports (IPv4 and IPv6), reads HTTP/1.1 requests with a Content-Length
(keep-alive), answers 200, and keeps the plaintext body bytes received per
port in OUT-PORT (rewritten after every request), so a test can assert how
much reached the outside.

  tls_peer.py --cert C --key K --ports P[,P...] --out PREFIX --ready FILE"""
import argparse
import os
import socket
import ssl
import threading

lock = threading.Lock()
totals = {}


def write_total(prefix, port):
    path = "%s-%d" % (prefix, port)
    with open(path + ".tmp", "w") as f:
        f.write(str(totals[port]))
    os.replace(path + ".tmp", path)


def count(prefix, port, n):
    with lock:
        totals[port] += n
        write_total(prefix, port)


def serve(conn, port, prefix):
    buf = b""
    try:
        while True:
            while b"\r\n\r\n" not in buf:
                d = conn.recv(65536)
                if not d:
                    return
                buf += d
            head, buf = buf.split(b"\r\n\r\n", 1)
            length = 0
            for line in head.split(b"\r\n")[1:]:
                k, _, v = line.partition(b":")
                if k.strip().lower() == b"content-length":
                    length = int(v.strip())
            got = min(len(buf), length)
            buf = buf[got:]
            count(prefix, port, got)
            while got < length:
                d = conn.recv(min(65536, length - got))
                if not d:
                    return
                got += len(d)
                count(prefix, port, len(d))
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
    except (OSError, ssl.SSLError):
        pass
    finally:
        conn.close()


def listen(port, ctx, prefix):
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("::", port))
    s.listen(16)
    totals[port] = 0
    write_total(prefix, port)

    def loop():
        while True:
            raw, _ = s.accept()
            try:
                conn = ctx.wrap_socket(raw, server_side=True)
            except (OSError, ssl.SSLError):
                raw.close()
                continue
            threading.Thread(target=serve, args=(conn, port, prefix), daemon=True).start()

    threading.Thread(target=loop, daemon=True).start()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--ports", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--ready", required=True)
    args = ap.parse_args()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    for p in args.ports.split(","):
        listen(int(p), ctx, args.out)
    open(args.ready, "w").close()
    threading.Event().wait()


if __name__ == "__main__":
    main()
