#!/usr/bin/env python3
"""A TLS process that reports what is at its own SSL_write and SSL_write_ex:
a uprobe replaces the first instruction byte with a breakpoint (0xcc on
x86-64) in the processes it is installed in, and only there.

  tls_probe_byte.py --out FILE --stop FILE [--taint WEIGHTS]

FILE.pid gets the pid; FILE gets "before XX YY" (the bytes before --taint's
read: a host-wide uprobe is there already) and then, every 50 ms, "now XX
YY" lines replaced, until --stop exists (30 s at most)."""
import argparse
import ctypes
import os
import ssl  # noqa: F401 (maps libssl as any python TLS client does)
import time


def first_bytes(lib):
    return " ".join("%02x" % ctypes.string_at(ctypes.cast(f, ctypes.c_void_p).value, 1)[0]
                    for f in (lib.SSL_write, lib.SSL_write_ex))


def put(path, text):
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.rename(path + ".tmp", path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--stop", required=True)
    ap.add_argument("--taint")
    args = ap.parse_args()
    lib = ctypes.CDLL("libssl.so.3")
    before = first_bytes(lib)
    if args.taint:
        with open(args.taint, "rb") as f:
            f.read()	# the read that taints this process
    put(args.out + ".pid", str(os.getpid()))
    for _ in range(600):
        put(args.out, "before %s\nnow %s\n" % (before, first_bytes(lib)))
        if os.path.exists(args.stop):
            break
        time.sleep(0.05)


if __name__ == "__main__":
    main()
