#!/usr/bin/env python3
"""Compares a scimcheck JSON report from a peer server with that peer's committed expectations.

usage: compare.py PEER REPORT.json EXPECTATIONS.json [--same-verdicts OTHER.json]

EXPECTATIONS lists the peer's true defects: {"deviations": [{"scenario", "step"?, "rule", "reason"}]}. Every
entry must cite the rule the server breaks (`rule`: an RFC section or an IdP document). A step that failed,
erred or did not run and that no entry covers is a new failure: the script exits 1 (a step skipped for a
capability the server does not declare, `notRun` with "skipped: …", and a step after a failed fixture, `notRun` with
"not run: setup failed …", are counted as not run, never a failure: the fixture's own failure is). An entry whose steps all
passed is reported as "now passes" (remove it). An entry without `step` covers every step of its scenario.
A repeated step's runs (`name [i/n]`) are covered by an entry naming the step.
An entry with `"intermittent": "<why>"` names a race of the server's own that a run may or may not hit (a lost
update between two concurrent writes): its steps may pass or fail, it is never "now passes", and --same-verdicts
does not compare its steps or its scenario's verdict.
Prints the peer's passed/failed/skipped counts (scenarios and steps).
With --same-verdicts, OTHER (the same peer run with other settings, e.g. --jobs 1) must give every scenario and
step the same verdict as REPORT; each difference is listed and the script exits 1. A step that got no usable
answer (`error`: a timeout or a dropped connection on a loaded machine) counts as failed there.
"""
import json
import re
import sys


def verdicts(report):
    """(scenario id, step name or "") → verdict, for every scenario and step of a report."""
    same = {"error": "fail"}
    out = {}
    for res in report.get("scenarios", report.get("results", [])):
        out[(res["id"], "")] = same.get(res["verdict"], res["verdict"])
        for st in res.get("steps", []):
            out[(res["id"], st["name"])] = same.get(st["verdict"], st["verdict"])
    return out


def main():
    peer, report_path, expect_path = sys.argv[1:4]
    other_path = None
    if len(sys.argv) > 4:
        if sys.argv[4] != "--same-verdicts" or len(sys.argv) != 6:
            print(__doc__)
            return 2
        other_path = sys.argv[5]
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
            if st["verdict"] == "notRun" and (st.get("error") or "").startswith(("skipped:", "not run: setup failed")):
                # a capability or attribute the server does not declare (the enterprise extension, an attribute
                # /Schemas does not list), or a step after a failed fixture (whose own failure is listed): not a
                # failure of its own
                steps["notRun"] += 1
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
        if i not in used and not e.get("intermittent"):
            print(f"{peer}: listed deviation now passes (remove it): {e['scenario']} | {e.get('step', '*')}")
    status = 0
    if new:
        print(f"{peer}: {len(new)} failure(s) not listed in {expect_path}:")
        for line in new:
            print(f"  {line}")
        status = 1
    if other_path:
        a, b = verdicts(report), verdicts(json.load(open(other_path)))
        racy = {(e["scenario"], e.get("step")) for e in entries if e.get("intermittent")}

        def intermittent(key):
            scenario, step = key
            return any(sc == scenario and (st is None or step in ("", st) or re.sub(r" \[\d+/\d+\]$", "", step) == st)
                       for sc, st in racy)

        diff = [k for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k) and not intermittent(k)]
        if diff:
            print(f"{peer}: {len(diff)} verdict(s) differ between {report_path} and {other_path}:")
            for k in diff:
                print(f"  {k[0]} | {k[1] or '(scenario)'}: {a.get(k, 'absent')} vs {b.get(k, 'absent')}")
            status = 1
        else:
            print(f"{peer}: the same {len(a)} verdicts in both runs")
    return status


if __name__ == "__main__":
    sys.exit(main())
