#!/usr/bin/env python3
"""Compares a `scimcheck run --suite entra-gallery --json` report from a peer server with that peer's committed
gallery expectations.

usage: compare_gallery.py PEER REPORT.json EXPECTATIONS.json

EXPECTATIONS (tests/peers/<peer>.gallery.json) holds what Microsoft's validation template gives the peer:
  {"verdict": "succeeded" | "oauthRequired" | "failed",
   "tests": [{"name", "status", "reason", "rule"}],          every test that is not PASSED
   "requirements": [{"name", "reason", "rule"}]}             every gallery requirement that is not met
Each entry must give `reason` (what the peer does, checked by hand) and `rule` (Microsoft's criterion: the test
overview, the requirements page, or the RFC section the peer breaks).

A test whose status differs from its entry (or that is not PASSED and has no entry), an unmet requirement without
an entry, or a verdict other than the file's is unexpected: the script prints each and exits 1. A listed test that
PASSED, or a listed requirement that is met, is reported as "now passes" (update the file) and does not fail.
An entry with `"intermittent": "<why>"` may pass or not (a limit of the CI machine rather than of the peer); it is
never "now passes". Prints the peer's counts and verdict.
"""
import json
import sys

VERDICTS = ("succeeded", "oauthRequired", "failed")
STATUSES = ("FAILED", "WARNING", "SKIPPED")


def main():
    if len(sys.argv) != 4:
        print(__doc__)
        return 2
    peer, report_path, expect_path = sys.argv[1:4]
    report = json.load(open(report_path))
    expect = json.load(open(expect_path))
    if report.get("suite") != "entra-gallery" or not isinstance(report.get("tests"), list):
        print(f"{peer}: {report_path} is not a gallery report")
        return 2
    if expect.get("verdict") not in VERDICTS:
        print(f"{expect_path}: `verdict` must be one of {', '.join(VERDICTS)}")
        return 2
    tests = {e["name"]: e for e in expect.get("tests", [])}
    reqs = {e["name"]: e for e in expect.get("requirements", [])}
    for e in list(tests.values()) + list(reqs.values()):
        if not e.get("reason") or not e.get("rule"):
            print(f"{expect_path}: entry {e.get('name')} must give `reason` (what the peer does) and `rule` "
                  "(Microsoft's criterion)")
            return 2
    for e in tests.values():
        if e.get("status") not in STATUSES:
            print(f"{expect_path}: test {e['name']}: `status` must be one of {', '.join(STATUSES)}")
            return 2
    names = {t["name"] for t in report["tests"]}
    for name in list(tests) + list(reqs):
        if name not in names and name not in {q["name"] for q in report.get("requirements", [])}:
            print(f"{expect_path}: `{name}` is neither a test nor a requirement of the report")
            return 2

    unexpected, now_passes = [], []
    for t in report["tests"]:
        e = tests.get(t["name"])
        if t["status"] == "PASSED":
            if e and not e.get("intermittent"):
                now_passes.append(f"{t['name']} (listed {e['status']})")
            continue
        if e is None:
            unexpected.append(f"{t['name']} {t['status']} (not listed): {t['detail'][:300]}")
        elif e["status"] != t["status"]:
            unexpected.append(f"{t['name']} {t['status']} (listed {e['status']}): {t['detail'][:300]}")
    for q in report.get("requirements", []):
        e = reqs.get(q["name"])
        if q["met"]:
            if e and not e.get("intermittent"):
                now_passes.append(f"requirement {q['name']}")
        elif e is None:
            unexpected.append(f"requirement {q['name']} NOT MET (not listed): {q['detail'][:300]}")
    count = {s: sum(1 for t in report["tests"] if t["status"] == s) for s in ("PASSED",) + STATUSES}
    print(f"{peer}: gallery {count['PASSED']} passed, {count['FAILED']} failed, {count['WARNING']} warning(s), "
          f"{count['SKIPPED']} skipped; verdict {report['verdict']}")
    for line in now_passes:
        print(f"{peer}: gallery: listed, now passes (update {expect_path}): {line}")
    status = 0
    if unexpected:
        print(f"{peer}: gallery: {len(unexpected)} result(s) not as listed in {expect_path}:")
        for line in unexpected:
            print(f"  {line}")
        status = 1
    if report["verdict"] != expect["verdict"]:
        if unexpected or not now_passes:
            print(f"{peer}: gallery: verdict {report['verdict']}, {expect_path} says {expect['verdict']}")
            status = 1
        else:
            print(f"{peer}: gallery: verdict now {report['verdict']} (update {expect_path})")
    return status


if __name__ == "__main__":
    sys.exit(main())
