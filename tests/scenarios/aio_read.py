#!/usr/bin/env python3
"""Read a file with Linux native AIO (io_setup/io_submit/io_getevents) and
O_DIRECT — no read() syscall, no page cache — and write what it read to
stdout (the O_DIRECT tests' `dd iflag=direct`, as a database or a
checkpoint loader using libaio does it).

  aio_read.py FILE [CHUNK]     CHUNK: bytes per request (default 1 MiB,
                               a multiple of 4096); 4 requests in flight
Exit 0 when the whole file was read and written."""
import ctypes
import mmap
import os
import struct
import sys

NR_IO_SETUP, NR_IO_DESTROY, NR_IO_GETEVENTS, NR_IO_SUBMIT = 206, 207, 208, 209	# x86-64
IOCB_CMD_PREAD = 0
INFLIGHT = 4

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long


def sys_call(nr, *args):
    r = libc.syscall(nr, *args)
    if r < 0:
        raise OSError(ctypes.get_errno(), f"syscall {nr}")
    return r


class IOCB(ctypes.Structure):
    _fields_ = [("data", ctypes.c_uint64), ("key", ctypes.c_uint32), ("rw_flags", ctypes.c_uint32),
                ("opcode", ctypes.c_uint16), ("reqprio", ctypes.c_int16), ("fildes", ctypes.c_uint32),
                ("buf", ctypes.c_uint64), ("nbytes", ctypes.c_uint64), ("offset", ctypes.c_int64),
                ("reserved2", ctypes.c_uint64), ("flags", ctypes.c_uint32), ("resfd", ctypes.c_uint32)]


class Event(ctypes.Structure):
    _fields_ = [("data", ctypes.c_uint64), ("obj", ctypes.c_uint64), ("res", ctypes.c_int64),
                ("res2", ctypes.c_int64)]


def main():
    path = sys.argv[1]
    chunk = int(sys.argv[2]) if len(sys.argv) > 2 else 1 << 20
    size = os.path.getsize(path)
    fd = os.open(path, os.O_RDONLY | os.O_DIRECT)
    ctx = ctypes.c_ulong(0)
    sys_call(NR_IO_SETUP, INFLIGHT, ctypes.byref(ctx))
    bufs = [mmap.mmap(-1, chunk) for _ in range(INFLIGHT)]	# page-aligned, as O_DIRECT wants
    addrs = [ctypes.addressof(ctypes.c_char.from_buffer(b)) for b in bufs]
    iocbs = [IOCB() for _ in range(INFLIGHT)]
    out = 0
    off = 0
    while off < size:
        n = 0
        for i in range(INFLIGHT):
            if off >= size:
                break
            cb = iocbs[i]
            ctypes.memset(ctypes.byref(cb), 0, ctypes.sizeof(cb))
            cb.data, cb.opcode, cb.fildes = i, IOCB_CMD_PREAD, fd
            cb.buf, cb.nbytes, cb.offset = addrs[i], chunk, off
            off += chunk
            n += 1
        ptrs = (ctypes.POINTER(IOCB) * n)(*[ctypes.pointer(iocbs[i]) for i in range(n)])
        sys_call(NR_IO_SUBMIT, ctx, n, ptrs)
        events = (Event * n)()
        got = 0
        while got < n:
            got += sys_call(NR_IO_GETEVENTS, ctx, n - got, n - got, ctypes.byref(events, got * 32), None)
        for ev in sorted(events, key=lambda e: e.data):
            if ev.res < 0:
                raise OSError(-ev.res, "aio read")
            os.write(1, bufs[ev.data][:ev.res])
            out += ev.res
    sys_call(NR_IO_DESTROY, ctx)
    os.close(fd)
    sys.exit(0 if out == size else 1)


if __name__ == "__main__":
    main()
