#!/usr/bin/env python3
"""Weights copied out of another process's memory, then sent by the copier,
which never touches the weight file.

  procmem.py hold FILE READY          read FILE into memory, write "pid addr len"
                                      to READY, wait (until killed, 60 s at most)
  procmem.py buffer LEN READY GO      an untainted process with a LEN-byte buffer:
                                      "pid addr len" to READY; once GO exists,
                                      send the buffer (HOST PORT from GO's text)
  procmem.py push FILE PID ADDR LEN   read FILE, process_vm_writev it into PID
  procmem.py copy HOW PID ADDR LEN HOST PORT [--connect-first]
                                      copy LEN bytes at ADDR of PID with HOW
                                      (readv: process_vm_readv, mem: /proc/PID/mem,
                                      ptrace: PTRACE_ATTACH + PEEKDATA), send them

Exit codes: 0 sent, 3 refused (EPERM: enforce), 4 other error, 5 copy failed.
"""
import ctypes
import os
import socket
import sys
import time

libc = ctypes.CDLL(None, use_errno=True)


class iovec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]


libc.process_vm_readv.restype = ctypes.c_ssize_t
libc.process_vm_readv.argtypes = [ctypes.c_int, ctypes.POINTER(iovec), ctypes.c_ulong,
                                  ctypes.POINTER(iovec), ctypes.c_ulong, ctypes.c_ulong]
libc.process_vm_writev.restype = ctypes.c_ssize_t
libc.process_vm_writev.argtypes = libc.process_vm_readv.argtypes
libc.ptrace.restype = ctypes.c_long
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]

PTRACE_PEEKDATA, PTRACE_ATTACH, PTRACE_DETACH = 2, 16, 17
CHUNK = 1 << 16


def announce(path, buf):
    addr = ctypes.addressof(buf)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(f"{os.getpid()} {addr} {len(buf)}\n")
    os.rename(tmp, path)


def hold(src, ready):
    with open(src, "rb") as f:
        data = f.read()
    buf = (ctypes.c_char * len(data)).from_buffer_copy(data)
    announce(ready, buf)
    end = time.monotonic() + 60
    while time.monotonic() < end:
        time.sleep(0.2)


def rw_chunks(fn, pid, local, addr, n):
    done = 0
    while done < n:
        k = min(CHUNK, n - done)
        lv = iovec(ctypes.addressof(local) + done, k)
        rv = iovec(addr + done, k)
        got = fn(pid, ctypes.byref(lv), 1, ctypes.byref(rv), 1, 0)
        if got <= 0:
            raise OSError(ctypes.get_errno(), "process_vm_%s" % fn.__name__[-5:])
        done += got


def copy_readv(pid, addr, n):
    out = ctypes.create_string_buffer(n)
    rw_chunks(libc.process_vm_readv, pid, out, addr, n)
    return out.raw


def copy_mem(pid, addr, n):
    with open(f"/proc/{pid}/mem", "rb", buffering=0) as f:
        out = bytearray()
        while len(out) < n:
            b = os.pread(f.fileno(), min(CHUNK, n - len(out)), addr + len(out))
            if not b:
                raise OSError(5, "short read")
            out += b
        return bytes(out)


def copy_ptrace(pid, addr, n):
    if libc.ptrace(PTRACE_ATTACH, pid, None, None) != 0:
        raise OSError(ctypes.get_errno(), "PTRACE_ATTACH")
    os.waitpid(pid, 0)
    words = []
    try:
        for off in range(0, n, 8):
            ctypes.set_errno(0)
            w = libc.ptrace(PTRACE_PEEKDATA, pid, ctypes.c_void_p(addr + off), None)
            if w == -1 and ctypes.get_errno():
                raise OSError(ctypes.get_errno(), "PTRACE_PEEKDATA")
            words.append(w & 0xFFFFFFFFFFFFFFFF)
    finally:
        libc.ptrace(PTRACE_DETACH, pid, None, None)
    return b"".join(w.to_bytes(8, "little") for w in words)[:n]


def connect(host, port):
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.connect((host, port))
    return s


def send(s, data):
    for i in range(0, len(data), CHUNK):
        s.sendall(data[i:i + CHUNK])
    s.close()


def copy(how, pid, addr, n, host, port, connect_first):
    s = connect(host, port) if connect_first else None
    try:
        data = {"readv": copy_readv, "mem": copy_mem, "ptrace": copy_ptrace}[how](pid, addr, n)
    except OSError as e:
        print(f"copy failed: {e}", file=sys.stderr)
        sys.exit(5)
    if s is None:
        s = connect(host, port)
    send(s, data)


def buffer(n, ready, go):
    buf = ctypes.create_string_buffer(n)
    announce(ready, buf)
    end = time.monotonic() + 60
    # the test writes "HOST PORT" into go with echo: read it once it is whole
    words = []
    while len(words) != 2 and time.monotonic() < end:
        if os.path.exists(go):
            words = open(go).read().split()
        if len(words) != 2:
            time.sleep(0.05)
    host, port = words
    send(connect(host, int(port)), buf.raw[:n])


def push(src, pid, addr, n):
    with open(src, "rb") as f:
        data = f.read(n)
    local = ctypes.create_string_buffer(data, len(data))
    rw_chunks(libc.process_vm_writev, pid, local, addr, len(data))


if __name__ == "__main__":
    a = sys.argv
    try:
        if a[1] == "hold":
            hold(a[2], a[3])
        elif a[1] == "buffer":
            buffer(int(a[2]), a[3], a[4])
        elif a[1] == "push":
            push(a[2], int(a[3]), int(a[4]), int(a[5]))
        else:
            copy(a[2], int(a[3]), int(a[4]), int(a[5]), a[6], int(a[7]),
                 "--connect-first" in a)
    except OSError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(3 if e.errno == 1 else 4)
