"""A page of user memory the process never touched, for the tests of user
arguments vigil cannot read at a syscall's entry: a fresh one-page shared
mapping of a scratch file, its content written through the file, so no
page-table entry exists until the kernel's own copy of the argument faults
it in (a BPF probe read cannot fault, so it fails there)."""
import ctypes
import mmap
import os
import tempfile

LIBC = ctypes.CDLL(None, use_errno=True)
LIBC.mmap.restype = ctypes.c_void_p
LIBC.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                      ctypes.c_int, ctypes.c_long]
LIBC.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]


class Untouched:
    """with Untouched(content) as addr: content at addr, on a page not present."""

    def __init__(self, content):
        self.scratch = tempfile.TemporaryFile(dir=os.environ.get("TMPDIR", "/tmp"))
        os.ftruncate(self.scratch.fileno(), mmap.PAGESIZE)
        os.pwrite(self.scratch.fileno(), content, 0)
        self.addr = None

    def __enter__(self):
        p = LIBC.mmap(None, mmap.PAGESIZE, mmap.PROT_READ | mmap.PROT_WRITE, mmap.MAP_SHARED,
                      self.scratch.fileno(), 0)
        if p in (None, ctypes.c_void_p(-1).value):
            raise OSError(ctypes.get_errno(), "mmap")
        self.addr = p
        return p

    def __exit__(self, *exc):
        LIBC.munmap(self.addr, mmap.PAGESIZE)
        self.scratch.close()
