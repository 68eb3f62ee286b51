#!/usr/bin/env python3
"""Try one way around vigil's hooks (the blind-spot controls, bpf/blindspot.bpf.c)
and print what the call returned: ok or the errno name. Harmless by design:
every attempt either makes something that is closed at once (a packet or
AF_XDP socket, a two-instruction socket filter) or fails in the kernel
before it does anything (a module file that is not ELF, a mount on a path
that does not exist, fsopen with bad flags), so nothing is loaded or
mounted and no module is requested.

  control.py [--read FILE] [--seize PID] WHAT...
  WHAT: packet xdp bpf init_module finit_module mount-nfs mount-fuse
        mount-tmpfs fsopen-fuse ptrace
--read FILE   read FILE first (a protected file taints the process)
--seize PID   the target of "ptrace" (PTRACE_SEIZE; detached when we exit)
"""
import argparse
import ctypes
import errno
import os
import socket
import struct
import tempfile

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
NR = {"bpf": 321, "init_module": 175, "finit_module": 313, "mount": 165, "fsopen": 430,
      "ptrace": 101}
MISSING = b"/nonexistent/vigil-control-test"


def sys(name, *args):
    r = libc.syscall(ctypes.c_long(NR[name]), *args)
    if r < 0:
        raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
    return r


def bpf_load():
    insns = struct.pack("<BBhiBBhi", 0xb7, 0, 0, 0, 0x95, 0, 0, 0)  # r0 = 0; exit
    ibuf = ctypes.create_string_buffer(insns)
    lic = ctypes.create_string_buffer(b"GPL")
    attr = struct.pack("<IIQQIIQ", 1, 2, ctypes.addressof(ibuf), ctypes.addressof(lic),
                       0, 0, 0)
    abuf = ctypes.create_string_buffer(attr, 128)
    os.close(sys("bpf", ctypes.c_long(5), abuf, ctypes.c_long(128)))


def not_elf():
    f = tempfile.NamedTemporaryFile(prefix="vigil_control_", suffix=".ko")
    f.write(b"not a kernel module\n" * 8)
    f.flush()
    return f


def attempt(what, seize):
    if what == "packet":
        socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0).close()
    elif what == "xdp":
        socket.socket(44, socket.SOCK_RAW, 0).close()
    elif what == "bpf":
        bpf_load()
    elif what == "init_module":
        buf = ctypes.create_string_buffer(b"not a kernel module\n" * 8)
        sys("init_module", buf, ctypes.c_ulong(len(buf)), b"")
    elif what == "finit_module":
        with not_elf() as f:
            sys("finit_module", ctypes.c_int(f.fileno()), b"", ctypes.c_int(0))
    elif what in ("mount-nfs", "mount-fuse", "mount-tmpfs"):
        fstype = {"mount-nfs": b"nfs4", "mount-fuse": b"fuse.sshfs",
                  "mount-tmpfs": b"tmpfs"}[what]
        sys("mount", b"srv:/export", MISSING, fstype, ctypes.c_ulong(0), None)
    elif what == "fsopen-fuse":
        sys("fsopen", b"fuse", ctypes.c_uint(0xff))     # bad flags: EINVAL first
    elif what == "ptrace":
        sys("ptrace", ctypes.c_long(0x4206), ctypes.c_long(seize), None, None)
    else:
        raise SystemExit("unknown attempt " + what)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--read")
    ap.add_argument("--seize", type=int, default=0)
    ap.add_argument("what", nargs="+")
    a = ap.parse_args()
    if a.read:
        with open(a.read, "rb") as f:
            while f.read(1 << 20):
                pass
    for what in a.what:
        try:
            attempt(what, a.seize)
            print(what, "ok", flush=True)
        except OSError as e:
            print(what, errno.errorcode.get(e.errno, e.errno), flush=True)


if __name__ == "__main__":
    main()
