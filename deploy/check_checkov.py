#!/usr/bin/env python3
"""Compare checkov's failed checks with the findings deploy/README.md accepts.

usage: check_checkov.py CHECKOV_JSON README

The README lists accepted findings in a table between the markers
<!-- checkov:accepted:begin --> and <!-- checkov:accepted:end -->, one row per
check: | CKV_ID | Resource, Resource | reason |. Every failed (check, resource)
must be listed there, with a reason, and every listed one must still fail
(a fixed finding is taken off the list). Exit 0 when both hold.
"""
import json
import re
import sys


def failed(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if not text.strip():
        sys.exit("checkov produced no output")
    data = json.loads(text)
    reports = data if isinstance(data, list) else [data]
    out = set()
    passed = 0
    for r in reports:
        passed += r.get("summary", {}).get("passed", 0)
        if r.get("summary", {}).get("parsing_errors"):
            sys.exit("checkov could not parse the template")
        for c in r.get("results", {}).get("failed_checks", []):
            out.add((c["check_id"], c["resource"].split(".", 1)[-1]))
    return out, passed


def accepted(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    m = re.search(r"<!-- checkov:accepted:begin -->(.*?)<!-- checkov:accepted:end -->", text, re.S)
    if not m:
        sys.exit(f"{path}: no checkov:accepted markers")
    out = {}
    for line in m.group(1).splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 3 or not cells[0].startswith("CKV"):
            continue
        check, resources, reason = cells[0].split()[0].strip("`"), cells[1], cells[2]
        if not reason:
            sys.exit(f"{path}: {check} has no reason")
        for res in resources.split(","):
            out[(check, res.strip().strip("`"))] = reason
    return out


def main(argv):
    if len(argv) != 3:
        sys.exit(__doc__)
    found, passed = failed(argv[1])
    ok = accepted(argv[2])
    new = sorted(found - ok.keys())
    fixed = sorted(ok.keys() - found)
    for check, res in new:
        print(f"checkov: new finding {check} on {res}: fix it, or accept it with a reason in deploy/README.md")
    for check, res in fixed:
        print(f"checkov: {check} on {res} passes now: take it off deploy/README.md's accepted list")
    if new or fixed:
        return 1
    print(f"checkov: {passed} passed, {len(found)} failed, each accepted with its reason in deploy/README.md")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
