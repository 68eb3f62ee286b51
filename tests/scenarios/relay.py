#!/usr/bin/env python3
"""Local relays for the propagation tests: a process that never reads the
weights receives them over a local connection and forwards them out.

  relay.py tcp LHOST LPORT DHOST DPORT READY [--connect-late]
      accept one TCP connection on LHOST:LPORT (a dual-stack socket when LHOST
      is ::), forward everything to DHOST:DPORT; connects to DHOST first
      unless --connect-late (then at the first byte received)
  relay.py udp LHOST LPORT DHOST DPORT READY
      a DNS-stub-like forwarder: every datagram to LHOST:LPORT goes out to
      DHOST:DPORT with an unconnected sendto; stops at an empty datagram or
      3 s after the last one
  relay.py socks LHOST LPORT - - READY
      a SOCKS5 proxy (no authentication, CONNECT to an IPv4 address or a
      name): one client, relayed to where it asked
  relay.py socks-client SRC PHOST PPORT DHOST DPORT
      read SRC whole (tainted), send it to DHOST:DPORT through the SOCKS5
      proxy at PHOST:PPORT (exit 3 when a send or connect failed)
  relay.py tunnel LHOST LPORT DHOST DPORT READY
      an ssh -L / stunnel-shaped tunnel: accept one connection, forward it
      to DHOST:DPORT enciphered (a SHAKE-256 keystream: what leaves is
      ciphertext, as an ssh or TLS tunnel sends)
  relay.py send-some SRC HOST PORT N [--udp]
      read SRC whole (it becomes tainted), then send only its first N bytes
      (a health check or a log line from a tainted process)

Prints one JSON line {"forwarded": N, "error": null|"EPERM"|...}; exits 0
when it forwarded everything it got, 3 when a send or connect failed."""
import errno
import hashlib
import json
import socket
import struct
import sys


def family_of(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def done(forwarded, err):
    print(json.dumps({"forwarded": forwarded, "error": err}), flush=True)
    sys.exit(0 if err is None else 3)


def err_name(e):
    return errno.errorcode.get(e.errno, str(e.errno)) if e.errno else str(e)


def listener(lhost, lport):
    """A TCP socket listening on lhost:lport (dual-stack when lhost is IPv6)."""
    ls = socket.socket(family_of(lhost), socket.SOCK_STREAM)
    if family_of(lhost) == socket.AF_INET6:
        ls.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((lhost, lport))
    ls.listen(1)
    return ls


def tcp(lhost, lport, dhost, dport, ready, connect_late):
    ls = listener(lhost, lport)
    out = None
    forwarded = 0
    try:
        if not connect_late:
            out = socket.create_connection((dhost, dport))
        open(ready, "w").close()
        conn, _ = ls.accept()
        while True:
            data = conn.recv(65536)
            if not data:
                break
            if out is None:
                out = socket.create_connection((dhost, dport))
            out.sendall(data)
            forwarded += len(data)
        out and out.close()
    except OSError as e:
        done(forwarded, err_name(e))
    done(forwarded, None)


def udp(lhost, lport, dhost, dport, ready):
    ls = socket.socket(family_of(lhost), socket.SOCK_DGRAM)
    ls.bind((lhost, lport))
    ls.settimeout(60)	# the first datagram: a slow sender (qemu) starts late
    out = socket.socket(family_of(dhost), socket.SOCK_DGRAM)
    open(ready, "w").close()
    forwarded = 0
    try:
        while True:
            try:
                data, _ = ls.recvfrom(65536)
            except socket.timeout:
                break
            if not data:
                break
            out.sendto(data, (dhost, dport))
            forwarded += len(data)
            ls.settimeout(3)
    except OSError as e:
        done(forwarded, err_name(e))
    done(forwarded, None)


def recv_exact(conn, n):
    data = b""
    while len(data) < n:
        part = conn.recv(n - len(data))
        if not part:
            raise OSError(errno.ECONNRESET, "short SOCKS message")
        data += part
    return data


def pump(conn, out, encipher):
    """Everything conn sends, to out (enciphered when encipher); the count."""
    forwarded = 0
    while True:
        data = conn.recv(65536)
        if not data:
            return forwarded
        if encipher:
            ks = hashlib.shake_256(b"vigil-tunnel" + forwarded.to_bytes(8, "big")).digest(len(data))
            data = (int.from_bytes(data, "big") ^ int.from_bytes(ks, "big")).to_bytes(len(data), "big")
        out.sendall(data)
        forwarded += len(data)


def socks(lhost, lport, ready):
    ls = listener(lhost, lport)
    open(ready, "w").close()
    forwarded = 0
    try:
        conn, _ = ls.accept()
        ver, nmethods = recv_exact(conn, 2)
        recv_exact(conn, nmethods)
        conn.sendall(b"\x05\x00")			# no authentication
        ver, cmd, _, atyp = recv_exact(conn, 4)
        if atyp == 1:
            host = socket.inet_ntoa(recv_exact(conn, 4))
        elif atyp == 3:
            host = recv_exact(conn, recv_exact(conn, 1)[0]).decode()
        else:
            raise OSError(errno.EAFNOSUPPORT, "SOCKS address type")
        port = struct.unpack("!H", recv_exact(conn, 2))[0]
        out = socket.create_connection((host, port))
        conn.sendall(b"\x05\x00\x00\x01" + socket.inet_aton("0.0.0.0") + b"\x00\x00")
        forwarded = pump(conn, out, False)
        out.close()
    except OSError as e:
        done(forwarded, err_name(e))
    done(forwarded, None)


def socks_client(src, phost, pport, dhost, dport):
    with open(src, "rb") as f:
        data = f.read()
    try:
        s = socket.create_connection((phost, pport))
        s.sendall(b"\x05\x01\x00")
        if recv_exact(s, 2) != b"\x05\x00":
            raise OSError(errno.EPROTO, "SOCKS method refused")
        s.sendall(b"\x05\x01\x00\x01" + socket.inet_aton(dhost) + struct.pack("!H", dport))
        reply = recv_exact(s, 10)
        if reply[1] != 0:
            raise OSError(errno.ECONNREFUSED, "SOCKS connect refused")
        s.sendall(data)
        s.close()
    except OSError as e:
        done(0, err_name(e))
    done(len(data), None)


def tunnel(lhost, lport, dhost, dport, ready):
    ls = listener(lhost, lport)
    forwarded = 0
    try:
        out = socket.create_connection((dhost, dport))	# the tunnel is up first
        open(ready, "w").close()
        conn, _ = ls.accept()
        forwarded = pump(conn, out, True)
        out.close()
    except OSError as e:
        done(forwarded, err_name(e))
    done(forwarded, None)


def send_some(src, host, port, n, use_udp):
    with open(src, "rb") as f:
        data = f.read()
    kind = socket.SOCK_DGRAM if use_udp else socket.SOCK_STREAM
    s = socket.socket(family_of(host), kind)
    try:
        if use_udp:
            s.sendto(data[:n], (host, port))
            s.sendto(b"", (host, port))
        else:
            s.connect((host, port))
            s.sendall(data[:n])
        s.close()
    except OSError as e:
        done(0, err_name(e))
    done(n, None)


def main():
    a = sys.argv[1:]
    if a and a[0] == "tcp" and len(a) >= 6:
        tcp(a[1], int(a[2]), a[3], int(a[4]), a[5], "--connect-late" in a[6:])
    elif a and a[0] == "udp" and len(a) == 6:
        udp(a[1], int(a[2]), a[3], int(a[4]), a[5])
    elif a and a[0] == "socks" and len(a) == 6:
        socks(a[1], int(a[2]), a[5])
    elif a and a[0] == "socks-client" and len(a) == 6:
        socks_client(a[1], a[2], int(a[3]), a[4], int(a[5]))
    elif a and a[0] == "tunnel" and len(a) == 6:
        tunnel(a[1], int(a[2]), a[3], int(a[4]), a[5])
    elif a and a[0] == "send-some" and len(a) >= 5:
        send_some(a[1], a[2], int(a[3]), int(a[4]), "--udp" in a[5:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
