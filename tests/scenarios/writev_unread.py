#!/usr/bin/env python3
"""writev_unread.py SRC DEST: copy SRC into DEST ('-': stdout) by writev(2),
64 KiB a call, each call's iovec array on a page the process never touched:
a fresh one-page mapping of a scratch file, so no page-table entry exists
until the kernel's own copy of the array faults it in. A BPF probe read of
the array at the syscall's entry fails there (it cannot fault): a writer
that hides how much it writes from vigil that way must still be counted.
"""
import ctypes
import mmap
import os
import struct
import sys
import tempfile

CHUNK = 1 << 16


def main():
    src, dest = sys.argv[1:3]
    libc = ctypes.CDLL(None, use_errno=True)
    libc.writev.restype = ctypes.c_ssize_t
    libc.writev.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
    data = open(src, "rb").read()
    buf = ctypes.create_string_buffer(data, len(data))
    base = ctypes.addressof(buf)
    out = 1 if dest == "-" else os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    scratch = tempfile.TemporaryFile(dir=os.environ.get("TMPDIR", "/tmp"))
    os.ftruncate(scratch.fileno(), mmap.PAGESIZE)
    off = 0
    while off < len(data):
        n = min(CHUNK, len(data) - off)
        # the array goes in through the file, never through the mapping
        os.pwrite(scratch.fileno(), struct.pack("QQ", base + off, n), 0)
        p = libc_mmap(libc, scratch.fileno())
        r = libc.writev(out, p, 1)
        err = ctypes.get_errno()
        libc.munmap(ctypes.c_void_p(p), mmap.PAGESIZE)
        if r < 0:
            sys.exit("writev: %s" % os.strerror(err))
        off += r
    if out != 1:
        os.close(out)


def libc_mmap(libc, fd):
    libc.mmap.restype = ctypes.c_void_p
    libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                          ctypes.c_int, ctypes.c_long]
    p = libc.mmap(None, mmap.PAGESIZE, mmap.PROT_READ, mmap.MAP_SHARED, fd, 0)
    if p in (None, ctypes.c_void_p(-1).value):
        sys.exit("mmap failed")
    return p


if __name__ == "__main__":
    main()
