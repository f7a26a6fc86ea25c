"""SARIF 2.1.0 for code-scanning dashboards.

One rule per check, carrying its documentation; one result per finding, located at the
manifest file and line when the finding has one. Checks whose evidence could not be read
are not results (nothing was found, nor cleared): they become tool notifications of the
invocation, so a dashboard shows them without opening alerts for them.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any
from urllib.parse import quote

from zt_audit.report.views import (
    check_waivers,
    finding_remediation,
    finding_severity,
    finding_waiver,
    is_new,
    new_findings,
    object_label,
    sentence,
    waiver_text,
)

SARIF_SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
FINGERPRINT_KEY = "ztAuditFinding/v1"

# GitHub ranks security alerts by this 0-10 figure; the values sit inside its bands.
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0"}
SERIOUS = ("critical", "high")


def level(status: str, severity: str) -> str:
    """The SARIF level of a failing or warning result of this severity."""
    if status == "fail":
        return "error" if severity in SERIOUS else "warning"
    return "warning" if severity in SERIOUS else "note"


def render_sarif(report: dict[str, Any]) -> str:
    checks = sorted(report["checks"], key=lambda c: c["id"])
    rule_index = {check["id"]: index for index, check in enumerate(checks)}
    new = new_findings(report)
    anchor = _anchor(report)
    results = [
        result
        for check in checks
        if check["status"] in ("fail", "warn")
        for result in _results(report, check, rule_index[check["id"]], new, anchor)
    ]
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "zt-audit",
                        "semanticVersion": report["tool"]["version"],
                        "rules": [_rule(check) for check in checks],
                    }
                },
                "automationDetails": {"id": "zt-audit/"},
                "invocations": [_invocation(report, checks, rule_index)],
                "originalUriBaseIds": {
                    "%SRCROOT%": {"description": {"text": "The folder zt-audit was run from."}}
                },
                "results": results,
                "properties": {
                    "score": report["score"]["overall"],
                    "stage": report["score"]["stage"],
                    "coverage": report["score"]["coverage"],
                },
            }
        ],
    }
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"


def _rule(check: dict[str, Any]) -> dict[str, Any]:
    severity = check["severity"]
    help_lines = [check["title"] + "."]
    for heading, key in (("What it checks", "description"), ("Why", "rationale")):
        if check.get(key):
            help_lines.append(f"{heading}: {' '.join(check[key].split())}")
    help_lines.append(f"Remediation: {' '.join(check['remediation'].split())}")
    rule: dict[str, Any] = {
        "id": check["id"],
        "name": _camel(check["title"]),
        "shortDescription": {"text": check["title"]},
        "fullDescription": {"text": " ".join((check.get("description") or check["title"]).split())},
        "help": {"text": "\n\n".join(help_lines)},
        "defaultConfiguration": {"level": level("fail", severity)},
        "properties": {
            "tags": ["security", "kubernetes", "zero-trust", check["pillar"]],
            "precision": "high",
            "security-severity": SECURITY_SEVERITY.get(severity, "5.5"),
            "pillar": check["pillar"],
            "severity": severity,
            "stage": check["stage"],
            "mappings": check["mappings"],
        },
    }
    if check["references"]:
        rule["helpUri"] = check["references"][0]
    return rule


def _results(
    report: dict[str, Any],
    check: dict[str, Any],
    index: int,
    new: set[str] | None,
    anchor: dict[str, Any],
) -> list[dict[str, Any]]:
    """One result per finding, or one for the check when it failed without any."""
    findings = check["findings"] or [None]
    seen: dict[str, int] = {}
    results = []
    for finding in findings:
        status = finding["status"] if finding else check["status"]
        severity = finding_severity(finding, check) if finding else check["effective_severity"]
        message = finding["message"] if finding else check["reason"]
        remedy = finding_remediation(finding, check) if finding else check["remediation"].strip()
        result: dict[str, Any] = {
            "ruleId": check["id"],
            "ruleIndex": index,
            "kind": "fail",
            "level": level(status, severity),
            "message": {"text": f"{message}\nRemediation: {' '.join(remedy.split())}"},
            "locations": [_location(finding, anchor)],
            "partialFingerprints": {FINGERPRINT_KEY: _fingerprint(check, finding, seen)},
            "properties": {"status": status, "severity": severity},
        }
        if finding and finding["field"]:
            result["properties"]["field"] = finding["field"]
        if finding and new is not None:
            result["baselineState"] = "new" if is_new(new, check, finding) else "unchanged"
        waivers = [finding_waiver(report, finding)] if finding else check_waivers(report, check)
        if any(waivers):
            # Code-scanning services list suppressed results apart and do not alert on them.
            result["suppressions"] = [
                {"kind": "external", "status": "accepted", "justification": waiver_text(w)}
                for w in waivers
                if w
            ]
        results.append(result)
    return results


def _anchor(report: dict[str, Any]) -> dict[str, Any]:
    """Where a result without a file of its own is placed.

    Code-scanning services (GitHub's among them) refuse a whole log when one result lacks
    an artifact, so a cluster-wide verdict, or a finding of a live cluster, is placed at
    the scanned input: the first manifest path given, or a named stand-in for a cluster.
    """
    source = report["source"]
    first = source["description"].split(", ")[0]
    if (
        source["mode"] == "manifests"
        and first
        and not first.startswith("<")
        and first != "no input"
    ):
        return _artifact(first)
    return {"uri": "kubernetes-cluster", "uriBaseId": "%SRCROOT%"}


def _location(finding: dict[str, Any] | None, anchor: dict[str, Any]) -> dict[str, Any]:
    """The manifest file and line when known, else the anchor; the Kubernetes object too."""
    location: dict[str, Any] = {"physicalLocation": {"artifactLocation": anchor}}
    where = finding["location"] if finding else None
    if where and where["file"] and not where["file"].startswith("<"):
        physical: dict[str, Any] = {"artifactLocation": _artifact(where["file"])}
        if where["line"]:
            physical["region"] = {"startLine": where["line"]}
        location["physicalLocation"] = physical
    obj = finding["object"] if finding else None
    if obj:
        location["logicalLocations"] = [
            {
                "name": obj["name"],
                "fullyQualifiedName": object_label(obj),
                "kind": "object",
            }
        ]
    if finding and finding["field"]:
        location["message"] = {"text": f"field {finding['field']}"}
    return location


def _artifact(path: str) -> dict[str, Any]:
    """A URI for a manifest path: relative to the run folder, or a file URI when absolute."""
    if PureWindowsPath(path).drive:
        return {"uri": PureWindowsPath(path).as_uri()}
    posix = PurePosixPath(path)
    if posix.is_absolute():
        return {"uri": posix.as_uri()}
    parts = [part for part in posix.parts if part != "."]
    return {"uri": quote("/".join(parts)), "uriBaseId": "%SRCROOT%"}


def _fingerprint(
    check: dict[str, Any], finding: dict[str, Any] | None, seen: dict[str, int]
) -> str:
    """Stable across runs: the check, the object and the field, never the line or wording.

    Two findings on the same object and field are told apart by their order, which is
    deterministic for the same input.
    """
    obj = finding["object"] if finding else None
    parts = [
        check["id"],
        obj["kind"] if obj else "",
        (obj["namespace"] or "") if obj else "",
        obj["name"] if obj else "",
        (finding["field"] or "") if finding else "",
    ]
    key = "\x1f".join(parts)
    seen[key] = seen.get(key, 0) + 1
    digest = hashlib.sha256(f"{key}\x1f{seen[key]}".encode()).hexdigest()
    return digest[:32]


def _invocation(
    report: dict[str, Any], checks: list[dict[str, Any]], rule_index: dict[str, int]
) -> dict[str, Any]:
    notes = []
    for check in checks:
        if check["status"] not in ("not_observable", "error"):
            continue
        text = f"{check['id']} was not evaluated: {sentence(check['reason'])}"
        if check["hint"]:
            text += f" To resolve: {check['hint']}"
        notes.append(
            {
                "level": "error" if check["status"] == "error" else "note",
                "message": {"text": text},
                "associatedRule": {"id": check["id"], "index": rule_index[check["id"]]},
                "properties": {"status": check["status"]},
            }
        )
    for problem in report["inventory"]["errors"]:
        note: dict[str, Any] = {"level": "error", "message": {"text": problem["message"]}}
        if not problem["source"].startswith("<"):
            physical: dict[str, Any] = {"artifactLocation": _artifact(problem["source"])}
            if problem["line"]:
                physical["region"] = {"startLine": problem["line"]}
            note["locations"] = [{"physicalLocation": physical}]
        notes.append(note)
    return {
        "executionSuccessful": not report["inventory"]["errors"],
        "toolExecutionNotifications": notes,
    }


def _camel(title: str) -> str:
    words = "".join(ch if ch.isalnum() else " " for ch in title).split()
    return "".join(word[:1].upper() + word[1:] for word in words) or "Check"
