#!/usr/bin/env python3
"""cgroup_progs.py CGROUP_DIR: how many BPF programs are attached to the
cgroup itself (not inherited) at the attach points vigil uses, by
BPF_PROG_QUERY: ids only, no handle on a program, so a BPF LSM that guards
the agent's programs (vigil's `prevent`, which keeps `bpftool cgroup show`
from naming them) does not refuse it."""
import ctypes
import os
import struct
import sys

SYS_BPF = 321  # x86-64
BPF_PROG_QUERY = 16
# INET_EGRESS, INET_SOCK_CREATE, SOCK_OPS, INET4_CONNECT, INET6_CONNECT,
# UDP4_SENDMSG, UDP6_SENDMSG
ATTACH_TYPES = (1, 2, 3, 10, 11, 14, 15)


def main():
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    libc.syscall.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_uint]
    fd = os.open(sys.argv[1], os.O_RDONLY | os.O_DIRECTORY)
    total = 0
    for at in ATTACH_TYPES:
        buf = ctypes.create_string_buffer(struct.pack("IIIIQI", fd, at, 0, 0, 0, 0).ljust(64, b"\0"))
        if libc.syscall(SYS_BPF, BPF_PROG_QUERY, buf, 64) != 0:
            sys.exit("BPF_PROG_QUERY: %s" % os.strerror(ctypes.get_errno()))
        total += struct.unpack_from("I", buf.raw, 24)[0]
    print(total)


if __name__ == "__main__":
    main()
