#!/usr/bin/env python3
"""Local channels carrying a tainted process's output: a log daemon, a
journald-like stream socket, a `| tee` reader — and the same channels
carrying the weights themselves.

  logsink.py recv KIND PATH HOST PORT   receive until the end (KIND dgram: bind a
                                        SOCK_DGRAM socket at PATH, /dev/log-like,
                                        until an empty datagram; stream: accept one
                                        client at PATH; pipe: stdin, PATH unused),
                                        then send all of it to HOST:PORT and print
                                        the byte count
  logsink.py send KIND PATH FILE WHAT N read FILE whole (the sender is tainted),
                                        then send to PATH (dgram: sendto, never
                                        connected; stream: connect; pipe: stdout)
                                        WHAT=log: N syslog-style text lines;
                                        WHAT=weights: the first N bytes of FILE;
                                        WHAT=weights/HOW, into a pipe (stdout) by HOW:
                                        writev-sparse (writev of 8 empty iovecs, then
                                        the data in 1 KiB iovecs), tiny (15-byte
                                        writes), pwritev2 (position -1), sendfile
                                        (from FILE, no user buffer); log/tiny:
                                        the log lines 15 bytes at a time;
                                        log/sendfile: $LOGSINK_SENDFILE_FROM
"""
import ctypes
import os
import socket
import sys
import time

NR_PWRITEV2 = 328	# x86-64


class IOVec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]


def pwritev2(fd, data):
    """pwritev2(fd, [data], 1, -1, 0): a writev at the current position,
    which a pipe takes (os.pwritev calls pwritev, which refuses pipes)."""
    libc = ctypes.CDLL(None, use_errno=True)
    buf = ctypes.create_string_buffer(data, len(data))
    iov = (IOVec * 1)(IOVec(ctypes.cast(buf, ctypes.c_void_p), len(data)))
    off = 0
    while off < len(data):
        iov[0].base = ctypes.cast(buf, ctypes.c_void_p).value + off
        iov[0].len = len(data) - off
        n = libc.syscall(NR_PWRITEV2, fd, iov, 1, ctypes.c_long(-1), ctypes.c_long(-1), 0)
        if n < 0:
            raise OSError(ctypes.get_errno(), "pwritev2")
        off += n


def pipe_send(src, data, how):
    """data (the first bytes of src, or text) into stdout (a pipe) by how."""
    n = len(data)
    if how == "writev-sparse":
        for i in range(0, n, 32 << 10):
            part = data[i:i + (32 << 10)]
            vec = [b""] * 8 + [part[j:j + 1024] for j in range(0, len(part), 1024)]
            want, done = len(part), os.writev(1, vec)
            if done < want:
                os.write(1, part[done:])
    elif how == "tiny":
        for i in range(0, n, 15):
            os.write(1, data[i:i + 15])
    elif how == "pwritev2":
        for i in range(0, n, 16384):
            pwritev2(1, data[i:i + 16384])
    elif how == "sendfile":
        # log/sendfile: a text file an untainted process wrote
        # ($LOGSINK_SENDFILE_FROM; one the tainted sender wrote would be a copy)
        src = os.environ.get("LOGSINK_SENDFILE_FROM", src)
        n = os.path.getsize(src)
        with open(src, "rb") as f:
            off = 0
            while off < n:
                sent = os.sendfile(1, f.fileno(), off, min(65536, n - off))
                if sent <= 0:
                    break
                off += sent
    else:
        sys.exit(f"logsink.py: unknown HOW {how}")


def recv(kind, path, host, port):
    chunks = []
    if kind == "dgram":
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        s.bind(path)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        open(path + ".ready", "w").close()
        while True:
            b = s.recv(1 << 16)
            if not b:
                break
            chunks.append(b)
    elif kind == "stream":
        srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        srv.bind(path)
        srv.listen(1)
        open(path + ".ready", "w").close()
        conn, _ = srv.accept()
        while True:
            b = conn.recv(1 << 16)
            if not b:
                break
            chunks.append(b)
    else:
        while True:
            b = os.read(0, 1 << 16)
            if not b:
                break
            chunks.append(b)
    data = b"".join(chunks)
    out = socket.create_connection((host, port))
    out.sendall(data)
    out.close()
    print(len(data))


def payload(src, what, n):
    with open(src, "rb") as f:
        data = f.read()
    if what == "weights":
        return [data[i:i + 16384] for i in range(0, n, 16384)]
    pid = os.getpid()
    return [(f"<14>Dec  2 12:00:{i % 60:02d} model-server[{pid}]: step {i} "
             f"loss={1.0 / (i + 1):.6f} lr=3.0e-04 tokens/s={12000 + i % 997} "
             f"gpu_mem=71.2GiB\n").encode() for i in range(n)]


def send(kind, path, src, what, n):
    what, _, how = what.partition("/")
    parts = payload(src, what, n)
    if how:
        if kind != "pipe":
            sys.exit("logsink.py: WHAT/HOW is for pipes")
        pipe_send(src, b"".join(parts)[:n] if what == "weights" else b"".join(parts), how)
        return
    if kind == "dgram":
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        for p in parts:
            s.sendto(p, path)
        s.sendto(b"", path)
    elif kind == "stream":
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(path)
        for p in parts:
            s.sendall(p)
        s.close()
    else:
        for p in parts:
            os.write(1, p)
            if what == "log":
                time.sleep(0)   # line by line, as a logger flushes


if __name__ == "__main__":
    try:
        a = sys.argv
        if a[1] == "recv":
            recv(a[2], a[3], a[4], int(a[5]))
        else:
            send(a[2], a[3], a[4], a[5], int(a[6]))
    except OSError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(3 if e.errno == 1 else 4)
