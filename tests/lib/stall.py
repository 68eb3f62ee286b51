#!/usr/bin/env python3
"""A receiver that never reads: opens a FIFO for reading, shrinks its pipe
buffer to one page and sleeps, so whoever writes into it blocks after 4 KiB.
  stall.py FIFO READY"""
import fcntl
import os
import sys
import time

F_SETPIPE_SZ = 1031
fd = os.open(sys.argv[1], os.O_RDONLY | os.O_NONBLOCK)
fcntl.fcntl(fd, F_SETPIPE_SZ, 4096)
open(sys.argv[2], "w").close()
while True:
    time.sleep(3600)
