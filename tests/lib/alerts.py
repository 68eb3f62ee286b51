#!/usr/bin/env python3
"""Query an agent's JSON-lines alert file from tests.

  alerts.py wait FILE [--timeout S] [--count N] FILTER...   wait for N matches
  alerts.py none FILE FILTER...                              no line matches
  alerts.py get FILE FIELD FILTER...                         print FIELD of first match
  alerts.py distinct FILE FIELD FILTER...                    count FIELD's distinct values
                                                             among the matches (pids, say)
  alerts.py schema FILE                                      every line obeys the contract
                                                             (docs/schema/alert.schema.json)
  alerts.py records FILE                                     the same for part of a stream
  alerts.py chain FILE                                       the hash chain (chain=sha256) holds
  alerts.py content FILE                                     lines without record identity
  alerts.py docs FILE.md                                     ```json examples obey the schema

FILTER is FIELD=VALUE (string equality), FIELD~TEXT (substring), FIELD=~REGEX
(re.search: "action=~^(blocked|killed)$"), FIELD>=N or FIELD<=N (numbers);
FIELD is dotted (network.daddr) and may index lists (taint.chain.0.via) or
use * for "any element" (taint.sources.*.path)."""
import json
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

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
    m = re.match(r"^([\w.*]+)(>=|<=|=~|=|~)(.*)$", text)
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
            elif op == "=~":
                ok = re.search(want, str(v)) is not None
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


SCHEMA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs", "schema",
                      "alert.schema.json")
SOFT_BYTES, HARD_BYTES = 8 << 10, 32 << 10


def validator(schema_path=SCHEMA):
    """A function giving a record's schema violations: the jsonschema package
    if python has it (VIGIL_SCHEMA_LITE=1 forces the small one)."""
    with open(schema_path) as f:
        schema = json.load(f)
    if not os.environ.get("VIGIL_SCHEMA_LITE"):
        try:
            import jsonschema
            v = jsonschema.Draft202012Validator(schema)
            return lambda obj: [f"{'.'.join(map(str, e.absolute_path)) or '$'}: {e.message}"
                                for e in v.iter_errors(obj)]
        except ImportError:
            pass
    import jsonschema_lite
    return lambda obj: jsonschema_lite.errors(schema, obj)


def check_stream(raw_lines, errs, first_start=True, schema_path=SCHEMA):
    """Every line valid UTF-8 JSON obeying the schema, within the size
    contract, and seq counting up by one within each agent run."""
    check = validator(schema_path)
    last_seq = {}
    objs = []
    for i, raw in enumerate(raw_lines, 1):
        w = f"line {i}"
        if len(raw) > HARD_BYTES:
            errs.append(f"{w}: {len(raw)} bytes, over the {HARD_BYTES} hard cap")
        try:
            l = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as e:
            errs.append(f"{w}: not UTF-8 JSON ({e}): {raw[:80]!r}")
            continue
        if len(raw) > SOFT_BYTES and not l.get("truncated"):
            errs.append(f"{w}: {len(raw)} bytes, over {SOFT_BYTES} and not truncated")
        for e in check(l):
            errs.append(f"{w} ({l.get('kind')}): {e}")
        run, seq = l.get("run_id"), l.get("seq")
        if run in last_seq and seq != last_seq[run] + 1:
            errs.append(f"{w}: seq {seq} after {last_seq[run]} in run {run}")
        last_seq[run] = seq
        objs.append(l)
    if not objs:
        errs.append("no lines")
    elif first_start and objs[0].get("kind") != "agent_start":
        errs.append("first line is not agent_start")
    return objs


def cmd_schema(path, first_start=True):
    errs = []
    try:
        with open(path, "rb") as f:
            raw = [r.rstrip(b"\n") for r in f if r.strip()]
    except FileNotFoundError:
        raw = []
    check_stream(raw, errs, first_start)
    for e in errs:
        print("schema: " + e, file=sys.stderr)
    return 1 if errs else 0


def cmd_chain(path):
    """Each line's prev_hash is the SHA-256 of the line before it (zeros at
    the start of an agent run): nothing removed, reordered or altered."""
    import hashlib
    errs, prev, run = [], None, None
    with open(path, "rb") as f:
        raw = [r.rstrip(b"\n") for r in f if r.strip()]
    for i, r in enumerate(raw, 1):
        l = json.loads(r)
        if l.get("run_id") != run:
            run, prev = l.get("run_id"), "0" * 64
        if l.get("prev_hash") != prev:
            errs.append(f"line {i}: prev_hash {l.get('prev_hash')} but the line before hashes to {prev}")
        prev = hashlib.sha256(r).hexdigest()
    if not raw:
        errs.append("no lines")
    for e in errs:
        print("chain: " + e, file=sys.stderr)
    return 1 if errs else 0


def cmd_content(path):
    """The lines without their record identity (id, seq, ...): what two
    emissions of the same alerts (live and replayed) have in common."""
    ident = {"id", "seq", "boot_id", "machine_id", "run_id", "labels", "prev_hash"}
    for l in lines(path):
        if isinstance(l.get("incident"), dict):	# a fresh uuid per emission too
            l["incident"].pop("id", None)
        print(json.dumps({k: v for k, v in l.items() if k not in ident},
                         separators=(",", ":"), ensure_ascii=False))
    return 0


def cmd_docs(path):
    """Every record in the markdown's ```json blocks obeys the schema."""
    errs, n = [], 0
    check = validator()
    with open(path) as f:
        text = f.read()
    for block in re.findall(r"```json\n(.*?)```", text, re.S):
        for line in block.splitlines():
            if not line.strip():
                continue
            n += 1
            try:
                obj = json.loads(line)
            except ValueError as e:
                errs.append(f"example {n}: not JSON ({e})")
                continue
            errs += [f"example {n} ({obj.get('kind')}): {e}" for e in check(obj)]
            if len(line.encode()) > SOFT_BYTES:
                errs.append(f"example {n}: over {SOFT_BYTES} bytes")
    if not n:
        errs.append("no ```json examples")
    for e in errs:
        print("docs: " + e, file=sys.stderr)
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
        if cmd in ("get", "distinct") and not filters and i == 0:
            field = rest[i].split("."); i += 1; continue
        filters.append(parse_filter(rest[i])); i += 1
    if cmd == "wait":
        return cmd_wait(path, filters, timeout, count)
    if cmd == "none":
        return cmd_none(path, filters)
    if cmd == "schema":
        return cmd_schema(path)
    if cmd == "chain":
        return cmd_chain(path)
    if cmd == "content":
        return cmd_content(path)
    if cmd == "docs":
        return cmd_docs(path)
    if cmd == "records":	# any stretch of a stream: no agent_start required
        return cmd_schema(path, first_start=False)
    if cmd == "get":
        for l in lines(path):
            if matches(l, filters):
                vals = lookup(l, field)
                if vals:
                    v = vals[0]
                    print(json.dumps(v) if isinstance(v, (dict, list)) else v)
                    return 0
        return 1
    if cmd == "distinct":
        seen = set()
        for l in lines(path):
            if matches(l, filters):
                seen.update(json.dumps(v) for v in lookup(l, field))
        print(len(seen))
        return 0
    sys.exit(f"alerts.py: unknown command {cmd}")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
