"""JUnit XML, the shape CI dashboards (Jenkins, GitLab, Azure DevOps, GitHub test reporters) read.

One test suite per ZTMM pillar and one test case per check: a failing check is a
``failure``, a check that could not be evaluated is ``skipped`` with its reason (never a
pass), a check that crashed is an ``error``. Warnings pass, with their findings printed in
``system-out`` so that they stay visible. A failing check whose every finding is waived is
``skipped`` with the waivers' reasons, owners and end dates: accepted, not fixed.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

from zt_audit.report.views import (
    check_waivers,
    checks_by_pillar,
    object_label,
    waiver_text,
    where,
)

# XML 1.0 cannot carry most control characters, even escaped; cluster text may hold them.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _text(value: Any) -> str:
    return _NOT_XML.sub("\ufffd", str(value))


def render_junit(report: dict[str, Any]) -> str:
    root = ET.Element("testsuites", {"name": "zt-audit"})
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for pillar, checks in checks_by_pillar(report):
        if not checks:
            continue
        suite = ET.SubElement(root, "testsuite", {"name": f"zt-audit.{pillar}"})
        _properties(suite, report)
        counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        for check in sorted(checks, key=lambda c: c["id"]):
            outcome = _testcase(suite, pillar, check, check_waivers(report, check))
            counts["tests"] += 1
            if outcome:
                counts[outcome] += 1
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
        suite.set("time", "0")
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("time", "0")
    ET.indent(root, space="  ")
    body = ET.tostring(root, encoding="unicode", short_empty_elements=True)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"


def _testcase(
    suite: ET.Element, pillar: str, check: dict[str, Any], waivers: list[dict[str, Any]]
) -> str | None:
    """Add the check's test case; return the counter it adds to, if any."""
    case = ET.SubElement(
        suite,
        "testcase",
        {"classname": pillar, "name": _text(f"{check['id']} {check['title']}"), "time": "0"},
    )
    status, reason = check["status"], _text(check["reason"])
    if status == "fail" and waivers:
        accepted = "; ".join(waiver_text(w) for w in waivers)
        skipped = ET.SubElement(case, "skipped", {"message": _text(f"waived: {accepted}")})
        skipped.text = _details(check)
        return "skipped"
    if status == "fail":
        failure = ET.SubElement(
            case, "failure", {"message": reason, "type": check["effective_severity"]}
        )
        failure.text = _details(check)
        return "failures"
    if status == "error":
        error = ET.SubElement(case, "error", {"message": reason, "type": "check error"})
        error.text = reason
        return "errors"
    if status in ("not_observable", "not_applicable"):
        label = "not observable" if status == "not_observable" else "not applicable"
        message = f"{label}: {reason}"
        if check["hint"]:
            message += f" (to resolve: {_text(check['hint'])})"
        ET.SubElement(case, "skipped", {"message": message})
        return "skipped"
    if status == "warn":
        out = ET.SubElement(case, "system-out")
        out.text = f"WARN ({check['effective_severity']}): {reason}\n" + _details(check)
    return None


def _details(check: dict[str, Any]) -> str:
    """The findings, one per line with their place, then the remediation."""
    lines = [f"{check['id']} {check['title']}: {check['reason']}"]
    for finding in check["findings"]:
        place = " ".join(
            part for part in (where(finding["location"]), object_label(finding["object"])) if part
        )
        field = f" [{finding['field']}]" if finding["field"] else ""
        waived = f"[waived #{finding['waived_by'] + 1}] " if "waived_by" in finding else ""
        lines.append(
            f"- {waived}{place}{field}: {finding['message']}"
            if place
            else f"- {waived}{finding['message']}{field}"
        )
    lines.append(f"Remediation: {' '.join(check['remediation'].split())}")
    return _text("\n".join(lines) + "\n")


def _properties(suite: ET.Element, report: dict[str, Any]) -> None:
    score = report["score"]
    properties = ET.SubElement(suite, "properties")
    for name, value in (
        ("zt-audit.version", report["tool"]["version"]),
        ("zt-audit.generated_at", report["generated_at"]),
        ("zt-audit.overall_score", score["overall"]),
        ("zt-audit.stage", score["stage"]),
        ("zt-audit.coverage", score["coverage"]),
    ):
        ET.SubElement(
            properties, "property", {"name": name, "value": _text("" if value is None else value)}
        )
