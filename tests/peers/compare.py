#!/usr/bin/env python3
"""Compares a scimcheck JSON report from a peer server with that peer's committed expectations.

usage: compare.py PEER REPORT.json EXPECTATIONS.json

EXPECTATIONS lists the peer's true defects: {"deviations": [{"scenario", "step"?, "rule", "reason"}]}. Every
entry must cite the rule the server breaks (`rule`: an RFC section or an IdP document). A step that failed,
erred or did not run and that no entry covers is a new failure: the script exits 1. An entry whose steps all
passed is reported as "now passes" (remove it). An entry without `step` covers every step of its scenario.
A repeated step's runs (`name [i/n]`) are covered by an entry naming the step.
Prints the peer's passed/failed/skipped counts (scenarios and steps).
"""
import json
import re
import sys


def main():
    peer, report_path, expect_path = sys.argv[1:4]
    report = json.load(open(report_path))
    entries = json.load(open(expect_path))["deviations"]
    for e in entries:
        if not e.get("rule") or not e.get("reason"):
            print(f"{expect_path}: entry {e} must give `rule` (the RFC section or IdP document) and `reason`")
            return 2

    def covered(scenario, step):
        base = re.sub(r" \[\d+/\d+\]$", "", step)
        return [i for i, e in enumerate(entries)
                if e["scenario"] == scenario and e.get("step") in (None, step, base)]

    used = set()
    new = []
    steps = {"passed": 0, "failed": 0, "notRun": 0}
    scen = {"passed": 0, "failed": 0, "skipped": 0}
    # reportVersion 1 lists `scenarios`; older reports called them `results`
    for res in report.get("scenarios", report.get("results", [])):
        v = res["verdict"]
        if v == "skip":
            scen["skipped"] += 1
            continue
        bad = False
        for st in res.get("steps", []):
            if st["verdict"] == "pass":
                steps["passed"] += 1
                continue
            steps["failed" if st["verdict"] in ("fail", "error", "expectedFail") else "notRun"] += 1
            bad = True
            hits = covered(res["id"], st["name"])
            if hits:
                used.update(hits)
            else:
                why = "; ".join(f"{f['check']}: expected {f['expected']}, got {f['actual']}"[:300]
                                for f in st.get("failures", [])) or st.get("error") or st["verdict"]
                new.append(f"{res['id']} | {st['name']} [{st['verdict']}] | {why}")
        if v in ("error",) and not res.get("steps"):
            bad = True
            if not covered(res["id"], ""):
                why = res.get("reason") or "; ".join(res.get("notes", []))
                new.append(f"{res['id']} | (scenario) [error] | {why}")
        scen["failed" if bad else "passed"] += 1
    print(f"{peer}: scenarios {scen['passed']} passed, {scen['failed']} failed, {scen['skipped']} skipped; "
          f"steps {steps['passed']} passed, {steps['failed']} failed, {steps['notRun']} not run")
    for i, e in enumerate(entries):
        if i not in used:
            print(f"{peer}: listed deviation now passes (remove it): {e['scenario']} | {e.get('step', '*')}")
    if new:
        print(f"{peer}: {len(new)} failure(s) not listed in {expect_path}:")
        for line in new:
            print(f"  {line}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
