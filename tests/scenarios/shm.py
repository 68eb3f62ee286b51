#!/usr/bin/env python3
"""Weights stored where no page hook sees them (tests/bats/shm.bats):

  posix   --src W --name NAME          read W, shm_open("/NAME") and copy W
                                       into it through a MAP_SHARED mapping
                                       (plain stores, no write()), then exit
  mapwrite --src W --dst PATH          read W, create PATH (any filesystem) and
                                       copy W into it through a MAP_SHARED
                                       mapping only (no write())
  premapped --src W --name NAME --ready F --until G
                                       untainted, shm_open("/NAME") and map it
                                       MAP_SHARED (libc mmap: no fd kept), close
                                       the fd; then read W and copy it into the
                                       mapping with plain stores; create F, wait
                                       for G (a job that set up shared memory
                                       before it loaded the weights)
  memfd-hold --src W --name NAME --ready F --until G
                                       read W into memfd NAME (write()),
                                       write "PID FD" to F, wait for G
  memfd-sibling --src W --name NAME --host H --port P
                                       an untainted parent makes memfd NAME;
                                       child A reads W and writes it into the
                                       memfd; then child B (never touched W,
                                       opens nothing) connects to H:P and
                                       sends what the memfd holds. Exit
                                       status: B's (137 when killed)
"""
import argparse
import json
import mmap
import os
import socket
import sys
import time


def read_all(path):
    with open(path, "rb") as f:
        return f.read()


def store_mapped(fd, data):
    """W's bytes into fd through a MAP_SHARED mapping only (no write())."""
    os.ftruncate(fd, len(data))
    with mmap.mmap(fd, len(data), mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE) as m:
        m[:] = data
    os.close(fd)
    return 0


def posix(args):
    import _posixshmem
    data = read_all(args.src)
    return store_mapped(_posixshmem.shm_open("/" + args.name, os.O_CREAT | os.O_EXCL | os.O_RDWR,
                                             0o600), data)


def mapwrite(args):
    data = read_all(args.src)
    return store_mapped(os.open(args.dst, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600), data)


def premapped(args):
    import ctypes
    import _posixshmem
    size = os.path.getsize(args.src)
    fd = _posixshmem.shm_open("/" + args.name, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600)
    os.ftruncate(fd, size)
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mmap.restype = ctypes.c_void_p
    libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                          ctypes.c_int, ctypes.c_long]
    addr = libc.mmap(None, size, mmap.PROT_READ | mmap.PROT_WRITE, mmap.MAP_SHARED, fd, 0)
    if addr in (None, ctypes.c_void_p(-1).value):
        raise OSError(ctypes.get_errno(), "mmap")
    os.close(fd)	# (python's mmap module would keep a dup of it)
    data = read_all(args.src)	# tainted from here, the mapping already in place
    ctypes.memmove(addr, data, size)
    open(args.ready, "w").close()
    while not os.path.exists(args.until):
        time.sleep(0.02)
    return 0


def memfd_hold(args):
    data = read_all(args.src)
    fd = os.memfd_create(args.name, 0)
    os.write(fd, data)
    with open(args.ready + ".tmp", "w") as f:
        f.write("%d %d\n" % (os.getpid(), fd))
    os.rename(args.ready + ".tmp", args.ready)
    while not os.path.exists(args.until):
        time.sleep(0.02)
    return 0


def send_fd(fd, host, port):
    s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    s.connect((host, port))
    size = os.fstat(fd).st_size
    sent, off = 0, 0
    while off < size:
        b = os.pread(fd, 64 * 1024, off)
        if not b:
            break
        s.sendall(b)
        off += len(b)
        sent += len(b)
    s.shutdown(socket.SHUT_WR)
    s.close()
    return sent


def memfd_sibling(args):
    fd = os.memfd_create(args.name, 0)
    a = os.fork()
    if a == 0:
        os.write(fd, read_all(args.src))
        os._exit(0)
    os.waitpid(a, 0)
    b = os.fork()
    if b == 0:
        try:
            sent = send_fd(fd, args.host, args.port)
        except OSError as e:
            print(json.dumps({"error": str(e)}))
            os._exit(3)
        print(json.dumps({"sent": sent}))
        os._exit(0)
    _, status = os.waitpid(b, 0)
    if os.WIFSIGNALED(status):
        return 128 + os.WTERMSIG(status)
    return os.WEXITSTATUS(status)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["posix", "premapped", "mapwrite", "memfd-hold",
                                     "memfd-sibling"])
    ap.add_argument("--src", required=True)
    ap.add_argument("--name")
    ap.add_argument("--ready")
    ap.add_argument("--until")
    ap.add_argument("--dst")
    ap.add_argument("--host")
    ap.add_argument("--port", type=int)
    args = ap.parse_args()
    sys.exit({"posix": posix, "premapped": premapped, "mapwrite": mapwrite, "memfd-hold": memfd_hold,
              "memfd-sibling": memfd_sibling}[args.mode](args))


if __name__ == "__main__":
    main()
