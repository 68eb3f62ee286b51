#!/usr/bin/env python3
"""A terminal between a tainted job and a process that sends: the job reads
the weights and writes to one end of a pty pair; the holder of the other end
(sshd, tmux, script in real life) reads it and forwards it out.

  pty_relay.py weights SRC DHOST DPORT [N]    the job writes SRC (or its first N bytes)
  pty_relay.py text SRC DHOST DPORT N         the job reads SRC, writes N bytes of log lines
  pty_relay.py b64 SRC DHOST DPORT            the job writes SRC in base64 (`base64 -w0 w`)
  options: --reverse   the job holds the master, the forwarder the slave
           --late      the forwarder connects after the job wrote everything
                       (default: it connects first, then streams)
           --sendfile  the job moves SRC into the pty with sendfile(2) (no
                       user buffer; weights only)

The pty is in raw mode, so the bytes pass unchanged. Prints one JSON line
{"forwarded": N, "error": null|"EPERM"|...}; exits 0 when everything it got
was forwarded, 3 when a connect or send failed."""
import base64
import errno
import json
import os
import pty
import signal
import socket
import sys
import time
import tty


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    reverse = "--reverse" in sys.argv
    late = "--late" in sys.argv
    use_sendfile = "--sendfile" in sys.argv
    kind, src, dhost, dport = args[0], args[1], args[2], int(args[3])
    n = int(args[4]) if len(args) > 4 else os.path.getsize(src)
    if kind == "b64":
        n = 4 * ((n + 2) // 3)
    master, slave = pty.openpty()
    tty.setraw(slave)
    mine, theirs = (slave, master) if reverse else (master, slave)
    go_r, go_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(mine)
        os.close(go_w)
        signal.alarm(20)  # a write to a pty nobody drains blocks for ever
        with open(src, "rb") as f:
            data = f.read()  # tainted from here
        if kind == "text":
            line = b"step 000123 loss 0.4321 lr 3.0e-04 tokens/s 18234 gpu_mem 71.2GiB\n"
            data = (line * (n // len(line) + 1))[:n]
        elif kind == "b64":
            data = base64.b64encode(data)
        else:
            data = data[:n]
        if not os.read(go_r, 1):  # the forwarder is ready, or failed
            os._exit(0)
        view = memoryview(data)
        try:
            if use_sendfile:
                with open(src, "rb") as f:
                    off = 0
                    while off < n:
                        off += os.sendfile(theirs, f.fileno(), off, min(16384, n - off))
                view = None
            while view:
                k = os.write(theirs, view[:16384])
                view = view[k:]
        except OSError:
            pass  # the forwarder is gone (killed in enforce mode)
        time.sleep(1)  # let the forwarder drain before the pty closes
        os._exit(0)
    os.close(theirs)
    os.close(go_r)
    sock = None
    err = None
    forwarded = 0
    try:
        if not late:
            sock = socket.create_connection((dhost, dport))
        os.write(go_w, b"g")
        got = bytearray()
        while len(got) < n:
            try:
                chunk = os.read(mine, 65536)
            except OSError as e:
                if e.errno == errno.EIO:
                    break  # the other end closed
                raise
            if not chunk:
                break
            if late:
                got += chunk
                continue
            sock.sendall(chunk)
            forwarded += len(chunk)
        if late:
            sock = socket.create_connection((dhost, dport))
            sock.sendall(got)
            forwarded = len(got)
        sock.close()
    except OSError as e:
        err = errno.errorcode.get(e.errno, str(e.errno)) if e.errno else str(e)
    os.close(go_w)  # the job never waits on a forwarder that failed
    os.close(mine)
    os.waitpid(pid, 0)
    print(json.dumps({"forwarded": forwarded, "error": err}), flush=True)
    sys.exit(0 if err is None else 3)


if __name__ == "__main__":
    main()
