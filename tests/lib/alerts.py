#!/usr/bin/env python3
"""Query an agent's JSON-lines alert file from tests.

  alerts.py wait FILE [--timeout S] [--count N] FILTER...   wait for N matches
  alerts.py none FILE FILTER...                              no line matches
  alerts.py get FILE FIELD FILTER...                         print FIELD of first match
  alerts.py schema FILE                                      every line obeys the contract

FILTER is FIELD=VALUE (string equality), FIELD~TEXT (substring), FIELD>=N or
FIELD<=N (numbers); FIELD is dotted (network.daddr) and may index lists
(taint.chain.0.via) or use * for "any element" (taint.sources.*.path)."""
import json
import re
import sys
import time

MISSING = object()


def lines(path):
    out = []
    try:
        with open(path) as f:
            for raw in f:
                raw = raw.strip()
                if raw:
                    try:
                        out.append(json.loads(raw))
                    except ValueError:
                        out.append({"_unparsable": raw})
    except FileNotFoundError:
        pass
    return out


def lookup(obj, parts):
    """All values at a dotted path (a list because * fans out)."""
    if not parts:
        return [obj]
    head, rest = parts[0], parts[1:]
    if isinstance(obj, list):
        if head == "*":
            return [v for e in obj for v in lookup(e, rest)]
        if head.isdigit() and int(head) < len(obj):
            return lookup(obj[int(head)], rest)
        return []
    if isinstance(obj, dict) and head in obj:
        return lookup(obj[head], rest)
    return []


def parse_filter(text):
    m = re.match(r"^([\w.*]+)(>=|<=|=|~)(.*)$", text)
    if not m:
        sys.exit(f"alerts.py: bad filter '{text}'")
    return m.group(1).split("."), m.group(2), m.group(3)


def matches(obj, filters):
    for parts, op, want in filters:
        vals = lookup(obj, parts)
        ok = False
        for v in vals:
            if op == "=":
                ok = (str(v).lower() if isinstance(v, bool) else str(v)) == want
            elif op == "~":
                ok = want in str(v)
            elif isinstance(v, (int, float)) and not isinstance(v, bool):
                ok = v >= float(want) if op == ">=" else v <= float(want)
            if ok:
                break
        if not ok:
            return False
    return True


def cmd_wait(path, filters, timeout, count):
    deadline = time.monotonic() + timeout
    while True:
        found = [l for l in lines(path) if matches(l, filters)]
        if len(found) >= count:
            for l in found:
                print(json.dumps(l))
            return 0
        if time.monotonic() > deadline:
            print(f"alerts.py: timed out after {timeout}s waiting for {count} line(s) "
                  f"matching the filters; the file holds:", file=sys.stderr)
            for l in lines(path):
                print(json.dumps(l), file=sys.stderr)
            return 1
        time.sleep(0.05)


def cmd_none(path, filters):
    found = [l for l in lines(path) if matches(l, filters)]
    for l in found:
        print("unexpected: " + json.dumps(l), file=sys.stderr)
    return 1 if found else 0


RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
ALERT_FIELDS = {
    "rule": str, "severity": str, "action": str, "message": str,
    "process": dict, "taint": dict, "network": dict,
}
PROCESS_FIELDS = {"pid": int, "ppid": int, "comm": str, "exe": str, "cmdline": str,
                  "uid": int, "cgroup": str}
# budget_breach: the agent's own alert about a set, not about one process
BREACH_FIELDS = {"rule": str, "severity": str, "action": str, "message": str, "budget": dict}
BUDGET_FIELDS = {"set": str, "limit_bytes": int, "passed_bytes": int, "delivered_bytes": int,
                 "excess_bytes": int}
NETWORK_FIELDS = {"family": str, "protocol": str, "daddr": str, "dport": int,
                  "bytes": int, "blocked_bytes": int}


def check_fields(obj, spec, where, errs):
    for k, t in spec.items():
        if k not in obj:
            errs.append(f"{where}: missing '{k}'")
        elif not isinstance(obj[k], t) or (t is int and isinstance(obj[k], bool)):
            errs.append(f"{where}: '{k}' is {type(obj[k]).__name__}, want {t.__name__}")


def cmd_schema(path):
    errs = []
    all_lines = lines(path)
    if not all_lines:
        errs.append("no lines")
    elif all_lines[0].get("kind") != "agent_start":
        errs.append("first line is not agent_start")
    for i, l in enumerate(all_lines, 1):
        w = f"line {i}"
        if "_unparsable" in l:
            errs.append(f"{w}: not JSON: {l['_unparsable'][:80]}")
            continue
        if l.get("schema_version") != 1:
            errs.append(f"{w}: schema_version is not 1")
        if not RFC3339.match(str(l.get("time", ""))):
            errs.append(f"{w}: time '{l.get('time')}' is not RFC 3339 UTC with microseconds")
        if not isinstance(l.get("host"), str) or not l.get("host"):
            errs.append(f"{w}: no host")
        if l.get("kind") != "alert":
            continue
        if l.get("rule") == "budget_breach":
            check_fields(l, BREACH_FIELDS, w, errs)
            check_fields(l.get("budget", {}), BUDGET_FIELDS, w + " budget", errs)
            if l.get("severity") != "critical":
                errs.append(f"{w}: budget_breach is not critical")
            continue
        check_fields(l, ALERT_FIELDS, w, errs)
        if l.get("severity") not in ("low", "medium", "high", "critical"):
            errs.append(f"{w}: bad severity {l.get('severity')}")
        if l.get("action") not in ("alert", "blocked", "killed"):
            errs.append(f"{w}: bad action {l.get('action')}")
        check_fields(l.get("process", {}), PROCESS_FIELDS, w + " process", errs)
        check_fields(l.get("network", {}), NETWORK_FIELDS, w + " network", errs)
        taint = l.get("taint", {})
        if not isinstance(taint.get("sources"), list) or not taint.get("sources"):
            errs.append(f"{w}: taint.sources is empty")
        for s in taint.get("sources", []):
            check_fields(s, {"path": str, "set": str, "bytes_read": int}, w + " source", errs)
        if not isinstance(taint.get("chain"), list) or not taint.get("chain"):
            errs.append(f"{w}: taint.chain is empty")
        for c in taint.get("chain", []):
            check_fields(c, {"pid": int, "comm": str, "via": str}, w + " chain", errs)
    for e in errs:
        print("schema: " + e, file=sys.stderr)
    return 1 if errs else 0


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    cmd, path, rest = argv[1], argv[2], argv[3:]
    timeout, count = 10.0, 1
    filters = []
    i = 0
    while i < len(rest):
        if rest[i] == "--timeout":
            timeout = float(rest[i + 1]); i += 2; continue
        if rest[i] == "--count":
            count = int(rest[i + 1]); i += 2; continue
        if cmd == "get" and not filters and i == 0:
            field = rest[i].split("."); i += 1; continue
        filters.append(parse_filter(rest[i])); i += 1
    if cmd == "wait":
        return cmd_wait(path, filters, timeout, count)
    if cmd == "none":
        return cmd_none(path, filters)
    if cmd == "schema":
        return cmd_schema(path)
    if cmd == "get":
        for l in lines(path):
            if matches(l, filters):
                vals = lookup(l, field)
                if vals:
                    v = vals[0]
                    print(json.dumps(v) if isinstance(v, (dict, list)) else v)
                    return 0
        return 1
    sys.exit(f"alerts.py: unknown command {cmd}")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
