#!/usr/bin/env python3
"""writev_unread.py SRC DEST: copy SRC into DEST ('-': stdout) by writev(2),
64 KiB a call, each call's iovec array on a page the process never touched
(tests/lib/untouched.py): a writer that hides how much it writes from
vigil's probe read that way must still be counted."""
import ctypes
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from untouched import LIBC, Untouched  # noqa: E402

CHUNK = 1 << 16


def main():
    src, dest = sys.argv[1:3]
    LIBC.writev.restype = ctypes.c_ssize_t
    LIBC.writev.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
    data = open(src, "rb").read()
    buf = ctypes.create_string_buffer(data, len(data))
    base = ctypes.addressof(buf)
    out = 1 if dest == "-" else os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    off = 0
    while off < len(data):
        n = min(CHUNK, len(data) - off)
        with Untouched(struct.pack("QQ", base + off, n)) as iov:
            r = LIBC.writev(out, iov, 1)
        if r < 0:
            sys.exit("writev: %s" % os.strerror(ctypes.get_errno()))
        off += r
    if out != 1:
        os.close(out)


if __name__ == "__main__":
    main()
