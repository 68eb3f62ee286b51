#!/usr/bin/env python3
"""Check lines a sink wrote in ecs, ocsf or cef format.

  formats.py ecs FILE     every line an ECS 9.x document (tests/data/ecs)
  formats.py ocsf FILE    every line an OCSF 1.8.0 Detection Finding or
                          Application Lifecycle event (tests/data/ocsf),
                          type_uid and severity consistent
  formats.py cef FILE     every line a well-formed CEF:0 record; prints the
                          parsed records as JSON, one per line
"""
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
DATA = os.path.join(HERE, "..", "data")
import alerts  # noqa: E402


def check_with(schema_path, objs, errs, what):
    check = alerts.validator(schema_path)
    for i, o in objs:
        errs += [f"line {i} ({what}): {e}" for e in check(o)]


def load(path, errs):
    out = []
    with open(path, "rb") as f:
        for i, raw in enumerate(f, 1):
            if not raw.strip():
                continue
            try:
                out.append((i, json.loads(raw.decode("utf-8"))))
            except (UnicodeDecodeError, ValueError) as e:
                errs.append(f"line {i}: not UTF-8 JSON: {e}")
    if not out:
        errs.append("no lines")
    return out


def ocsf(path, errs):
    objs = load(path, errs)
    sev = {0: "Unknown", 1: "Informational", 2: "Low", 3: "Medium", 4: "High", 5: "Critical"}
    finding = [(i, o) for i, o in objs if o.get("class_uid") == 2004]
    life = [(i, o) for i, o in objs if o.get("class_uid") != 2004]
    check_with(os.path.join(DATA, "ocsf", "detection_finding.schema.json"), finding, errs, "2004")
    check_with(os.path.join(DATA, "ocsf", "application_lifecycle.schema.json"), life, errs, "6002")
    for i, o in objs:
        if o.get("type_uid") != o.get("class_uid", 0) * 100 + o.get("activity_id", -1):
            errs.append(f"line {i}: type_uid {o.get('type_uid')} is not class_uid*100+activity_id")
        if sev.get(o.get("severity_id")) != o.get("severity"):
            errs.append(f"line {i}: severity {o.get('severity')} does not match severity_id")


def ecs(path, errs):
    check_with(os.path.join(DATA, "ecs", "ecs.schema.json"), load(path, errs), errs, "ecs")


HEADER = re.compile(r"^CEF:0\|((?:[^|\\]|\\.)*\|){6}")


def cef_unescape_header(s):
    return re.sub(r"\\(.)", r"\1", s)


def cef_unescape_value(s):
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "r": "\r"}.get(m.group(1), m.group(1)), s)


def cef_parse(line):
    """(header fields, extension dict) or raise ValueError."""
    m = HEADER.match(line)
    if not m:
        raise ValueError("header is not CEF:0 with 7 |-separated fields")
    fields = re.findall(r"((?:[^|\\]|\\.)*)\|", line[6:m.end()])
    ext = line[m.end():]
    # keys: [A-Za-z0-9_]+ before an unescaped '='; a value runs to the next key
    pairs = list(re.finditer(r"(?:^| )([A-Za-z0-9_]+)=((?:[^\\=]|\\.)*?)(?= [A-Za-z0-9_]+=|$)", ext))
    consumed = "".join(p.group(0) for p in pairs)
    if consumed != ext:
        raise ValueError(f"extension does not parse as key=value pairs: {ext[:80]}")
    if any(c in line for c in "\n\r"):
        raise ValueError("raw line break in record")
    return [cef_unescape_header(f) for f in fields], {p.group(1): cef_unescape_value(p.group(2)) for p in pairs}


def cef(path, errs):
    with open(path, encoding="utf-8") as f:
        lines = [l.rstrip("\n") for l in f if l.strip()]
    if not lines:
        errs.append("no lines")
    for i, l in enumerate(lines, 1):
        # syslog framing in front is allowed: the record starts at CEF:
        l = l[l.find("CEF:"):] if "CEF:" in l else l
        try:
            hdr, ext = cef_parse(l)
        except ValueError as e:
            errs.append(f"line {i}: {e}")
            continue
        if hdr[0] != "vigil" or not hdr[5].isdigit() or not 0 <= int(hdr[5]) <= 10:
            errs.append(f"line {i}: bad vendor or severity: {hdr}")
        print(json.dumps({"header": hdr, "ext": ext}))


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("ecs", "ocsf", "cef"):
        sys.exit(__doc__)
    errs = []
    {"ecs": ecs, "ocsf": ocsf, "cef": cef}[sys.argv[1]](sys.argv[2], errs)
    for e in errs:
        print(f"{sys.argv[1]}: {e}", file=sys.stderr)
    return 1 if errs else 0


if __name__ == "__main__":
    sys.exit(main())
