#!/usr/bin/env python3
"""Pipe stages that never read, write or send (tests/bats/stage.bats):

  vmsplice --src W --fifo F   read W (tainted), then open the FIFO F (after
                              the taint) and vmsplice W's bytes into it
  tee                         copy stdin to stdout with tee(2) (the bytes are
                              never read into this process), draining stdin
                              with splice(2) to /dev/null
"""
import argparse
import ctypes
import os
import sys

libc = ctypes.CDLL(None, use_errno=True)


class iovec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]


libc.vmsplice.argtypes = [ctypes.c_int, ctypes.POINTER(iovec), ctypes.c_ulong, ctypes.c_uint]
libc.vmsplice.restype = ctypes.c_ssize_t
libc.tee.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_size_t, ctypes.c_uint]
libc.tee.restype = ctypes.c_ssize_t


def check(n):
    if n < 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
    return n


def vmsplice(args):
    with open(args.src, "rb") as f:
        data = f.read()
    buf = ctypes.create_string_buffer(data, len(data))
    fd = os.open(args.fifo, os.O_WRONLY)
    off = 0
    while off < len(data):
        iov = iovec(ctypes.addressof(buf) + off, min(1 << 16, len(data) - off))
        off += check(libc.vmsplice(fd, ctypes.byref(iov), 1, 0))
    os.close(fd)
    return 0


def tee(args):
    null = os.open("/dev/null", os.O_WRONLY)
    while True:
        n = check(libc.tee(0, 1, 1 << 16, 0))
        if n == 0:
            return 0
        left = n
        while left:
            left -= os.splice(0, null, left)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["vmsplice", "tee"])
    ap.add_argument("--src")
    ap.add_argument("--fifo")
    args = ap.parse_args()
    sys.exit({"vmsplice": vmsplice, "tee": tee}[args.mode](args))


if __name__ == "__main__":
    main()
