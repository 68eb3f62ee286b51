#!/usr/bin/env python3
"""Parse Prometheus text exposition (version 0.0.4) strictly enough to catch
what a scraper would reject: every sample belongs to a family with # TYPE,
names and labels are well-formed, values are numbers, counters end in _total,
no family is declared twice, no sample is repeated, a family's samples are
one group (after its # TYPE, before the next family's).
  promtext.py FILE|URL   prints {"name{labels}": value} as JSON"""
import json
import re
import sys
import urllib.request

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
SAMPLE = re.compile(r"^(%s)(\{(.*)\})? (-?[0-9.]+(?:[eE][+-]?[0-9]+)?|NaN|\+Inf|-Inf)$" % NAME)
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)')


def parse(text):
    types, out, errs = {}, {}, []
    current = None
    for i, line in enumerate(text.splitlines(), 1):
        if not line:
            continue
        if line.startswith("# TYPE "):
            _, _, name, typ = line.split(" ", 3)
            if name in types:
                errs.append(f"line {i}: {name} declared twice")
            types[name] = typ
            current = name
            if typ == "counter" and not name.endswith("_total"):
                errs.append(f"line {i}: counter {name} does not end in _total")
            continue
        if line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        if not m:
            errs.append(f"line {i}: not a sample: {line}")
            continue
        name, labels = m.group(1), m.group(3) or ""
        if name not in types:
            errs.append(f"line {i}: {name} has no # TYPE")
        elif name != current:
            errs.append(f"line {i}: {name} sample outside its family's group")
        pos = 0
        for lm in LABEL.finditer(labels):
            if lm.start() != pos:
                break
            pos = lm.end()
        if pos != len(labels):
            errs.append(f"line {i}: bad labels {labels}")
        key = f"{name}{{{labels}}}" if labels else name
        if key in out:
            errs.append(f"line {i}: {key} repeated")
        out[key] = float(m.group(4))
    return out, errs


def main():
    src = sys.argv[1]
    if src.startswith("http://"):
        with urllib.request.urlopen(src, timeout=5) as r:
            if "text/plain" not in r.headers.get("Content-Type", ""):
                sys.exit("promtext: Content-Type is " + r.headers.get("Content-Type", ""))
            text = r.read().decode()
    else:
        text = open(src).read()
    out, errs = parse(text)
    for e in errs:
        print("promtext: " + e, file=sys.stderr)
    print(json.dumps(out))
    return 1 if errs else 0


if __name__ == "__main__":
    sys.exit(main())
