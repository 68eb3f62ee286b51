#!/usr/bin/env python3
"""A job that read the weights and then talks HTTPS: POSTs of a given kind
of body over one or more TLS connections from one process, their writes
interleaved chunk by chunk (so each connection's plaintext must be told
apart), or through a child TLS client (curl: OpenSSL, gnutls-cli: GnuTLS)
that inherits the taint.

  tls_post.py --src WEIGHTS --ca CA --host H --conn KIND:PORT [--conn ...]
              [--bytes N] [--via python|curl|gnutls-cli] [--connect-first]
              [--then KIND [--fork [--child-gate]]] [--hold FILE] [--gate FILE]

KIND: json (metrics as JSON lines), raw (the weights' bytes), b64json (the
weights base64-encoded inside JSON). Prints one JSON line {"sent": {PORT: N},
"error": null|"..."}; exits 0 when every body was sent and answered, 4 on
an error (connection reset, killed child). --connect-first: the TLS
connections (python) are made before the weights are read, as a job with
a long-lived connection does (a tainted connect may be refused). --hold FILE:
once answered, FILE gets the process's pid and the connections stay open
until it is removed. --gate FILE: once the weights are read, FILE.pid gets
the job's pid and the job waits for FILE before it connects or writes (the
agent attaches its TLS uprobes per tainted process, after the taint); with
a child client, FILE.child.pid gets the client's pid and the client gets
its stdin once FILE.child exists. --then KIND: a second POST of KIND on the same
connections (work that turns into the weights); --fork: sent by a forked
child (--child-gate: which waits for FILE.child first)."""
import argparse
import base64
import ctypes
import json
import os
import socket
import ssl
import subprocess
import sys
import time


def metrics_json(n):
    out, step = [], 0
    size = 0
    while size < n:
        line = json.dumps({"metric": "eval_loss", "step": step, "value": 1.0 / (step + 3),
                           "labels": {"job": "nightly-eval", "host": "node-%d" % (step % 7),
                                      "split": "validation"}}) + "\n"
        out.append(line)
        size += len(line)
        step += 1
    return "".join(out).encode()[:n]


def body(kind, weights, n):
    if kind == "json":
        return metrics_json(n)
    if kind == "raw":
        return (weights * (n // len(weights) + 1))[:n]
    if kind == "b64json":
        out, off, size = [], 0, 0
        while size < n:
            chunk = weights[off:off + 3072] or weights[:3072]
            off = (off + 3072) % len(weights)
            line = ('{"tensor":"model.layers.%d.mlp","data":"%s"}\n' %
                    (off // 3072, base64.b64encode(chunk).decode())).encode()
            out.append(line)
            size += len(line)
        return b"".join(out)[:n]
    raise SystemExit("unknown kind " + kind)


def request(host, port, data):
    return (b"POST /ingest HTTP/1.1\r\nHost: %s:%d\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n" % (host.encode(), port, len(data)))


def connect(args, conns):
    ctx = ssl.create_default_context(cafile=args.ca)
    out = []
    for _, port in conns:
        raw = socket.create_connection((args.host, port), timeout=30)
        out.append(ctx.wrap_socket(raw, server_hostname=args.host))
    return out


def post_round(args, socks, kinds, weights, sent):
    """One POST on each connection, their bodies' writes interleaved."""
    bodies = []
    for (s, port), kind in zip(socks, kinds):
        data = body(kind, weights, args.bytes)
        s.sendall(request(args.host, port, data))
        bodies.append(data)
    off = 0
    while off < args.bytes:
        for (s, port), data in zip(socks, bodies):
            chunk = data[off:off + args.chunk]
            if chunk:
                s.sendall(chunk)
                sent[port] += len(chunk)
        off += args.chunk
    for s, _ in socks:
        if b" 200 " not in s.recv(4096):
            raise OSError("no 200 answer")


def via_python(args, conns, weights, tls):
    socks = list(zip(tls or connect(args, conns), [port for _, port in conns]))
    sent = {port: 0 for _, port in conns}
    post_round(args, socks, [kind for kind, _ in conns], weights, sent)
    if args.then and args.fork:
        # the twin from a forked child: it inherits the taint and the TLS
        # connections (the parent's OpenSSL state, copied); the parent
        # waits. Exit 4: the child was killed or its POST failed
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                if args.child_gate:
                    gate_wait(args.gate + ".child")
                post_round(args, socks, [args.then] * len(socks), weights, sent)
            except (OSError, ssl.SSLError):
                code = 4
            os._exit(code)
        _, status = os.waitpid(pid, 0)
        if status != 0:
            raise OSError("forked child: wait status %d" % status)
        for port in sent:
            sent[port] += args.bytes
    elif args.then:
        # the twin: the same connections turn to another kind of body
        post_round(args, socks, [args.then] * len(socks), weights, sent)
    if args.hold:
        # the connections stay open for the test to look at the agent's view
        with open(args.hold + ".tmp", "w") as f:
            f.write(str(os.getpid()))
        os.rename(args.hold + ".tmp", args.hold)
        for _ in range(600):
            if not os.path.exists(args.hold):
                break
            time.sleep(0.05)
    for s, _ in socks:
        s.close()
    return sent


def gate_wait(gate, pid=None):
    """gate.pid: this process (or pid); then wait (30 s at most) for gate."""
    with open(gate + ".pid.tmp", "w") as f:
        f.write(str(pid or os.getpid()))
    os.rename(gate + ".pid.tmp", gate + ".pid")
    for _ in range(600):
        if os.path.exists(gate):
            break
        time.sleep(0.05)


at_exec = {}	# --stop-at-exec: what the traced child's maps held


def via_child(args, conns, weights):
    kind, port = conns[0]
    data = body(kind, weights, args.bytes)
    if args.via == "curl":
        cmd = ["curl", "-sS", "--fail", "--cacert", args.ca, "-H", "Content-Type: application/json",
               "--data-binary", "@-", "-o", "/dev/null", "https://%s:%d/ingest" %
               ("[%s]" % args.host if ":" in args.host else args.host, port)]
        stdin = data
    else:
        cmd = ["gnutls-cli", "--x509cafile", args.ca, "--port", str(port), args.host]
        stdin = request(args.host, port, data) + data
    # the child's gate: the client (forked, so tainted, then exec'd: the
    # agent attaches what its loader maps) gets its stdin, all it sends,
    # once FILE.child exists; curl reads it before it connects, gnutls-cli
    # after its handshake
    # --stop-at-exec: the client is traced (PTRACE_TRACEME) and so stops
    # right after its execve, before its loader maps a library; it runs on
    # once the gate opens (PTRACE_DETACH). What the agent attached by then
    # it attached before the loader ran; what the maps held then is said.
    libc = ctypes.CDLL(None, use_errno=True) if args.stop_at_exec else None
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE,
                         preexec_fn=(lambda: libc.ptrace(0, 0, None, None)) if libc else None)
    if libc:
        os.waitpid(p.pid, 0)	# stopped at its exec (SIGTRAP)
        with open("/proc/%d/maps" % p.pid) as f:
            at_exec["tls_mapped"] = sum(1 for l in f if "libssl" in l or "libgnutls" in l)
    if args.gate:
        t0 = time.time()
        gate_wait(args.gate + ".child", p.pid)
        at_exec["gate_wait_s"] = round(time.time() - t0, 2)
    if libc:
        with open("/proc/%d/maps" % p.pid) as f:
            at_exec["tls_mapped_at_gate"] = sum(1 for l in f if "libssl" in l or "libgnutls" in l)
        libc.ptrace(17, p.pid, None, None)	# PTRACE_DETACH: runs on
    out, err = p.communicate(stdin, timeout=60)
    if p.returncode != 0 or (args.via == "gnutls-cli" and b" 200 " not in out):
        raise OSError("%s exited %d: %s" % (cmd[0], p.returncode, err[-300:]))
    return {port: len(data)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--src", required=True)
    ap.add_argument("--ca", required=True)
    ap.add_argument("--host", required=True)
    ap.add_argument("--conn", action="append", required=True, help="KIND:PORT")
    ap.add_argument("--bytes", type=int, default=2 << 20)
    ap.add_argument("--chunk", type=int, default=16384)
    ap.add_argument("--via", choices=("python", "curl", "gnutls-cli"), default="python")
    ap.add_argument("--connect-first", action="store_true")
    ap.add_argument("--then", help="python: once answered, a second POST of this KIND on the "
                    "same connections")
    ap.add_argument("--gate", help="once the weights are read, write the pid to FILE.pid and "
                    "wait (30 s at most) until FILE exists before connecting (a child "
                    "client: FILE.child.pid, FILE.child)")
    ap.add_argument("--stop-at-exec", action="store_true", help="with --via: the client "
                    "stops after its exec, before its loader runs, until the gate opens")
    ap.add_argument("--fork", action="store_true", help="python: --then's POST is sent by "
                    "a forked child of the job")
    ap.add_argument("--child-gate", action="store_true", help="with --fork and --gate: the "
                    "child writes FILE.child.pid and waits for FILE.child before it writes")
    ap.add_argument("--hold", help="python: once answered, create this file and keep the "
                    "connections open until it is removed (30 s at most)")
    args = ap.parse_args()
    conns = [(c.split(":")[0], int(c.split(":")[1])) for c in args.conn]
    sent, err, tls = {}, None, None
    try:
        if args.connect_first:
            tls = connect(args, conns)
        with open(args.src, "rb") as f:
            weights = f.read()	# the read that taints this process
        if args.gate:
            gate_wait(args.gate)
        sent = via_python(args, conns, weights, tls) if args.via == "python" else \
            via_child(args, conns, weights)
    except (OSError, ssl.SSLError, subprocess.TimeoutExpired) as e:
        err = str(e) or type(e).__name__
    print(json.dumps({"sent": sent, "error": err, "child": at_exec}))
    sys.stdout.flush()
    return 4 if err else 0


if __name__ == "__main__":
    sys.exit(main())
