#!/usr/bin/env python3
"""bpf_unread.py CMD [ID]: bpf(2) CMD (prog-by-id: BPF_PROG_GET_FD_BY_ID;
obj-get: BPF_OBJ_GET of a path) with its union bpf_attr on a page the
process never touched (tests/lib/untouched.py), which vigil's probe read at
the syscall's entry cannot read. Exit 0 whatever bpf(2) answers."""
import ctypes
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from untouched import LIBC, Untouched  # noqa: E402

SYS_BPF = 321  # x86-64
CMDS = {"prog-by-id": 13, "obj-get": 7}


def main():
    cmd = CMDS[sys.argv[1]]
    if cmd == 7:
        path = ctypes.create_string_buffer(sys.argv[2].encode())
        attr = struct.pack("QII", ctypes.addressof(path), 0, 0)
    else:
        attr = struct.pack("III", int(sys.argv[2]), 0, 0)
    LIBC.syscall.restype = ctypes.c_long
    LIBC.syscall.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_uint]
    with Untouched(attr.ljust(32, b"\0")) as a:
        fd = LIBC.syscall(SYS_BPF, cmd, a, 32)
    if fd >= 0:
        os.close(fd)


if __name__ == "__main__":
    main()
