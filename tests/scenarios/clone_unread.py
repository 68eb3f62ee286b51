#!/usr/bin/env python3
"""clone_unread.py HOW SRC DEST: copy SRC into a new DEST without reading it,
the call's argument in user memory on a page the process never touched (a
fresh one-page mapping of a scratch file: no page-table entry exists until
the kernel's own copy of the argument faults it in; a BPF probe read at
the syscall's entry cannot fault, so it fails there).
  HOW ficlonerange: ioctl(FICLONERANGE), the struct file_clone_range there
  HOW cfr: copy_file_range(2), its off_in there (a remap on XFS)
"""
import ctypes
import mmap
import os
import struct
import sys
import tempfile

FICLONERANGE = 0x4020940D  # _IOW(0x94, 13, struct file_clone_range)


def untouched_page(libc, content):
    """A fresh shared mapping of a scratch file holding content."""
    scratch = tempfile.TemporaryFile(dir=os.environ.get("TMPDIR", "/tmp"))
    os.ftruncate(scratch.fileno(), mmap.PAGESIZE)
    os.pwrite(scratch.fileno(), content, 0)  # through the file, not the mapping
    libc.mmap.restype = ctypes.c_void_p
    libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                          ctypes.c_int, ctypes.c_long]
    p = libc.mmap(None, mmap.PAGESIZE, mmap.PROT_READ | mmap.PROT_WRITE, mmap.MAP_SHARED,
                  scratch.fileno(), 0)
    if p in (None, ctypes.c_void_p(-1).value):
        sys.exit("mmap failed")
    return scratch, p


def main():
    how, src, dest = sys.argv[1:4]
    libc = ctypes.CDLL(None, use_errno=True)
    s = os.open(src, os.O_RDONLY)
    d = os.open(dest, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
    size = os.fstat(s).st_size
    if how == "ficlonerange":
        keep, p = untouched_page(libc, struct.pack("qQQQ", s, 0, size, 0))
        libc.ioctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_void_p]
        if libc.ioctl(d, FICLONERANGE, ctypes.c_void_p(p)) != 0:
            sys.exit("FICLONERANGE: %s" % os.strerror(ctypes.get_errno()))
    elif how == "cfr":
        left = size
        while left > 0:
            keep, p = untouched_page(libc, struct.pack("q", size - left))
            libc.copy_file_range.restype = ctypes.c_ssize_t
            libc.copy_file_range.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int,
                                             ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint]
            os.lseek(d, size - left, os.SEEK_SET)
            n = libc.copy_file_range(s, ctypes.c_void_p(p), d, None, left, 0)
            if n <= 0:
                sys.exit("copy_file_range: %s" % os.strerror(ctypes.get_errno()))
            left -= n
    else:
        sys.exit("HOW: ficlonerange or cfr")
    os.close(d)


if __name__ == "__main__":
    main()
