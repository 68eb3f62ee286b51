#!/usr/bin/env python3
"""A log shipper's file input, as Fluent Bit's tail, Vector's file source and
the OpenTelemetry Collector's filelog receiver follow a file: by inode, from
the head, whole lines only; when the path names another inode (rotated
away), the old file is read to its end through the descriptor already open,
then the new one is opened. Stops at the record of kind STOP (agent_stop)
or after --timeout seconds.
  follow.py PATH OUT [--ready FILE] [--timeout S]
Exit 0 if it ended at the stop record; prints how many files it followed."""
import argparse
import json
import os
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("path")
    ap.add_argument("out")
    ap.add_argument("--ready")
    ap.add_argument("--timeout", type=float, default=60)
    args = ap.parse_args()
    out = open(args.out, "w")
    end = time.monotonic() + args.timeout
    f, partial, files = None, b"", 0
    if args.ready:
        open(args.ready, "w").close()
    while time.monotonic() < end:
        if f is None:
            try:
                f = open(args.path, "rb")
                files += 1
            except FileNotFoundError:
                time.sleep(0.01)
                continue
        chunk = f.read(65536)
        if chunk:
            partial += chunk
            *lines, partial = partial.split(b"\n")
            for line in lines:
                out.write(line.decode() + "\n")
                out.flush()
                if json.loads(line).get("kind") == "agent_stop":
                    print("files followed: %d" % files)
                    return 0
            continue
        try:
            moved = os.stat(args.path).st_ino != os.fstat(f.fileno()).st_ino
        except FileNotFoundError:
            moved = True
        if moved:
            # the rotated file is complete: what is left was read above
            if partial:
                sys.exit("follow: a line straddles two files: %r" % partial[:80])
            f.close()
            f = None
        else:
            time.sleep(0.01)
    print("follow: no agent_stop within %ss (files followed: %d)" % (args.timeout, files))
    return 1


if __name__ == "__main__":
    sys.exit(main())
