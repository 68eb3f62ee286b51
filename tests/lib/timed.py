#!/usr/bin/env python3
"""timed.py CMD...: run CMD with VIGIL_TEST_MARK set; when it ends, print how
long it lived after its first send (ms) and how it ended, as one JSON line.
Exits with CMD's shell-style status (128+signal when killed)."""
import json
import os
import subprocess
import sys
import tempfile
import time

mark = tempfile.mktemp(prefix="vigil-mark-")
env = dict(os.environ, VIGIL_TEST_MARK=mark)
p = subprocess.Popen(sys.argv[1:], env=env)
p.wait()
end = time.monotonic_ns()
alive_ms = None
try:
    with open(mark) as f:
        alive_ms = round((end - int(f.read())) / 1e6, 2)
    os.unlink(mark)
except FileNotFoundError:
    pass
sig = -p.returncode if p.returncode < 0 else 0
print(json.dumps({"rc": p.returncode, "signal": sig, "alive_after_first_send_ms": alive_ms}))
sys.exit(128 + sig if sig else p.returncode)
