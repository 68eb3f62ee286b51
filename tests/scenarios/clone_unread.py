#!/usr/bin/env python3
"""clone_unread.py HOW SRC DEST: copy SRC into a new DEST without reading it,
the call's argument on a page the process never touched
(tests/lib/untouched.py), which vigil's probe read at the syscall's entry
cannot read.
  HOW ficlonerange: ioctl(FICLONERANGE), the struct file_clone_range there
  HOW cfr: copy_file_range(2), its off_in there (a remap on XFS)
"""
import ctypes
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from untouched import LIBC, Untouched  # noqa: E402

FICLONERANGE = 0x4020940D  # _IOW(0x94, 13, struct file_clone_range)


def main():
    how, src, dest = sys.argv[1:4]
    s = os.open(src, os.O_RDONLY)
    d = os.open(dest, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
    size = os.fstat(s).st_size
    if how == "ficlonerange":
        LIBC.ioctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_void_p]
        with Untouched(struct.pack("qQQQ", s, 0, size, 0)) as arg:
            if LIBC.ioctl(d, FICLONERANGE, arg) != 0:
                sys.exit("FICLONERANGE: %s" % os.strerror(ctypes.get_errno()))
    elif how == "cfr":
        LIBC.copy_file_range.restype = ctypes.c_ssize_t
        LIBC.copy_file_range.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int,
                                         ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint]
        left = size
        while left > 0:
            os.lseek(d, size - left, os.SEEK_SET)
            with Untouched(struct.pack("q", size - left)) as off_in:
                n = LIBC.copy_file_range(s, off_in, d, None, left, 0)
            if n <= 0:
                sys.exit("copy_file_range: %s" % os.strerror(ctypes.get_errno()))
            left -= n
    else:
        sys.exit("HOW: ficlonerange or cfr")
    os.close(d)


if __name__ == "__main__":
    main()
