"""HTTP/1.1 message heads for the test servers and clients."""


def read_head(f):
    """Read a request or status line and its headers from a binary file
    object; returns (first line, Content-Length) or None at EOF."""
    first = f.readline()
    if not first:
        return None
    length = 0
    while True:
        h = f.readline()
        if not h:
            return None
        if h in (b"\r\n", b"\n"):
            return first, length
        k, _, v = h.decode("latin-1").partition(":")
        if k.strip().lower() == "content-length":
            length = int(v.strip())
