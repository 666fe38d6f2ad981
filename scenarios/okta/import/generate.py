#!/usr/bin/env python3
"""Writes the two Okta import scenarios of this folder (users_pages_of_100.json, groups_pages_of_100.json).

Okta imports with GET ?startIndex=1&count=100, then startIndex=101, ... so an import test needs more than 100
resources, and the scenario format has no loop: the 105 setup POSTs are written out here, one per line.
Edit this script, not the JSON, then run it: python3 scenarios/okta/import/generate.py
"""
import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
N = 105  # more than one page of 100, and a second page with more than one resource
LIST = "urn:ietf:params:scim:api:messages:2.0:ListResponse"

SOURCE = (
    "Production Okta import, research okta.md §2 'Import paging' (GET {coll}?startIndex=1&count=100, then "
    "startIndex=101 ... while totalResults says more; order must be stable){extra}; §3 'totalResults / startIndex / "
    "itemsPerPage are integers'"
)


def setup_user(i):
    n = f"{i:03d}"
    email = f"import.{n}.{{{{batch}}}}@okta.local"
    return {
        "name": f"Setup: user {n} of {N} exists in the app",
        "request": {
            "method": "POST",
            "path": "/Users",
            "body": {
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "userName": email,
                "name": {"givenName": "Import", "familyName": f"User{n}"},
                "emails": [{"primary": True, "value": email, "type": "work"}],
                "active": True,
            },
        },
        "expect": {"status": 201},
    }


def setup_group(i):
    n = f"{i:03d}"
    return {
        "name": f"Setup: group {n} of {N} exists in the app",
        "request": {
            "method": "POST",
            "path": "/Groups",
            "body": {
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                "displayName": f"Import {n} {{{{batch}}}}",
                "members": [],
            },
        },
        "expect": {"status": 201},
    }


def paging_steps(coll, what, name_pointer):
    q = lambda start, count: {"startIndex": str(start), "count": str(count)}
    return [
        {
            "name": f"Okta import: GET {coll}?startIndex=1&count=100",
            "request": {"method": "GET", "path": coll, "query": q(1, 100)},
            "expect": {
                "status": 200,
                "body": [
                    {"pointer": "/schemas", "contains": LIST},
                    {"pointer": "/totalResults", "isNumber": True},
                    {"pointer": "/totalResults", "atLeast": N},
                    {"pointer": "/startIndex", "isNumber": True},
                    {"pointer": "/startIndex", "equals": 1},
                    {"pointer": "/itemsPerPage", "isNumber": True},
                    {"pointer": "/itemsPerPage", "equals": 100},
                    {"pointer": "/Resources", "length": 100},
                    {"pointer": f"/Resources/0/{name_pointer}", "notEmpty": True},
                ],
            },
            "capture": {"total": "/totalResults", "firstOnPage1": "/Resources/0/id", "lastOnPage1": "/Resources/99/id"},
        },
        {
            "name": f"Okta import: GET {coll}?startIndex=101&count=100",
            "request": {"method": "GET", "path": coll, "query": q(101, 100)},
            "expect": {
                "status": 200,
                "body": [
                    {"pointer": "/schemas", "contains": LIST},
                    {"pointer": "/totalResults", "isNumber": True},
                    {"pointer": "/totalResults", "equals": "{{total}}"},
                    {"pointer": "/startIndex", "isNumber": True},
                    {"pointer": "/startIndex", "equals": 101},
                    {"pointer": "/itemsPerPage", "isNumber": True},
                    {"pointer": "/itemsPerPage", "atLeast": 1},
                    {"pointer": "/Resources/0/id", "notEmpty": True},
                ],
            },
            "capture": {"firstOnPage2": "/Resources/0/id"},
        },
        {
            "name": "Check: pages 1 and 2 meet without a gap or an overlap",
            "note": "Not sent by Okta: resources 100 and 101 must be the last of page 1 and the first of page 2.",
            "request": {"method": "GET", "path": coll, "query": q(100, 2)},
            "expect": {
                "status": 200,
                "body": [
                    {"pointer": "/totalResults", "equals": "{{total}}"},
                    {"pointer": "/Resources", "length": 2},
                    {"pointer": "/Resources/0/id", "equals": "{{lastOnPage1}}"},
                    {"pointer": "/Resources/1/id", "equals": "{{firstOnPage2}}"},
                ],
            },
        },
        {
            "name": "Check: the last resource sits at position totalResults",
            "note": f"Not sent by Okta: with 1-based startIndex, startIndex=totalResults lists exactly one {what}.",
            "request": {"method": "GET", "path": coll, "query": {"startIndex": "{{total}}", "count": "100"}},
            "expect": {
                "status": 200,
                "body": [
                    {"pointer": "/totalResults", "equals": "{{total}}"},
                    {"pointer": "/startIndex", "equals": "{{total}}"},
                    {"pointer": "/itemsPerPage", "equals": 1},
                    {"pointer": "/Resources", "length": 1},
                ],
            },
        },
        {
            "name": "Check: the first resource has not moved",
            "note": "Not sent by Okta: a new request for page 1 starts with the same resource.",
            "request": {"method": "GET", "path": coll, "query": q(1, 1)},
            "expect": {
                "status": 200,
                "body": [
                    {"pointer": "/totalResults", "equals": "{{total}}"},
                    {"pointer": "/Resources/0/id", "equals": "{{firstOnPage1}}"},
                ],
            },
        },
    ]


def with_note(steps, note):
    steps[0] = {"name": steps[0]["name"], "note": note, **{k: v for k, v in steps[0].items() if k != "name"}}
    return steps


def scenario(title, description, source, tags, requires, setup, paging):
    doc = {
        "$schema": "../../scenario.schema.json",
        "title": title,
        "description": description,
        "source": source,
        "level": "must",
        "tags": tags,
    }
    if requires:
        doc["requires"] = requires
    doc["variables"] = {"batch": "{{$uuid}}"}
    doc["steps"] = [f"__SETUP_{i}__" for i in range(len(setup))] + paging
    text = json.dumps(doc, indent=2, ensure_ascii=False)
    for i, step in enumerate(setup):
        text = text.replace(f'"__SETUP_{i}__"', json.dumps(step, ensure_ascii=False, separators=(", ", ": ")))
    return text + "\n"


COMMON = (
    " Okta adds startIndex += 100 while totalResults says there are more, so a server must list exactly count "
    "resources per page (when that many remain), number them from 1, keep one order across requests and report "
    "the same totalResults on every page — otherwise Okta silently skips or repeats resources. The scenario creates "
    f"{N} first (one page of 100 and a second page), reads the two pages as Okta does, then checks the page boundary, "
    "the last position and the first resource again. Assertions hold on a server that already has other resources."
)

(HERE / "users_pages_of_100.json").write_text(
    scenario(
        "Import users: pages of 100 with startIndex += 100, nothing skipped or repeated, stable totalResults",
        "Okta's user import (and its periodic import for app-sourced profiles) pages through GET /Users." + COMMON,
        SOURCE.format(coll="/Users", extra=""),
        ["okta", "import", "users", "paging"],
        [],
        with_note([setup_user(i) for i in range(1, N + 1)], "Not sent by Okta: accounts that exist in the app."),
        paging_steps("/Users", "user", "userName"),
    )
)
(HERE / "groups_pages_of_100.json").write_text(
    scenario(
        "Import groups: pages of 100 with startIndex += 100, nothing skipped or repeated, stable totalResults",
        "Okta's group import pages through GET /Groups (without excludedAttributes)." + COMMON,
        SOURCE.format(coll="/Groups", extra="; 'group import: GET /Groups?startIndex=1&count=100 (no excludedAttributes)'"),
        ["okta", "import", "groups", "paging"],
        ["groups"],
        with_note([setup_group(i) for i in range(1, N + 1)], "Not sent by Okta: groups that exist in the app."),
        paging_steps("/Groups", "group", "displayName"),
    )
)
