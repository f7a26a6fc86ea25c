"""Small views of the report document that several renderers share.

Every renderer works from the JSON document alone, so that an archived report renders the
same way as a fresh scan. These helpers only read it; none of them import a renderer.
"""

from __future__ import annotations

from typing import Any

from zt_audit.report.baseline import fingerprint

STATUS_LABEL = {
    "pass": "PASS",
    "fail": "FAIL",
    "warn": "WARN",
    "not_observable": "NOT OBSERVABLE",
    "not_applicable": "N/A",
    "error": "ERROR",
}
# Worst first: the order in which statuses are listed and sorted.
STATUS_ORDER = ("fail", "error", "warn", "not_observable", "pass", "not_applicable")
SEVERITY_ORDER = ("critical", "high", "medium", "low")
PILLAR_ORDER = ("identity", "devices", "networks", "applications", "data")


def severity_rank(severity: str | None) -> int:
    """0 for critical up to 3 for low; unknown values sort last."""
    return SEVERITY_ORDER.index(severity) if severity in SEVERITY_ORDER else len(SEVERITY_ORDER)


def status_rank(status: str) -> int:
    return STATUS_ORDER.index(status) if status in STATUS_ORDER else len(STATUS_ORDER)


def where(location: dict[str, Any] | None) -> str | None:
    """``file:line`` of a finding, or just the file when the line is unknown."""
    if not location:
        return None
    return f"{location['file']}:{location['line']}" if location["line"] else location["file"]


def object_label(obj: dict[str, Any] | None) -> str | None:
    """``Kind namespace/name`` or ``Kind name`` for cluster-scoped objects."""
    if not obj:
        return None
    if obj["namespace"]:
        return f"{obj['kind']} {obj['namespace']}/{obj['name']}"
    return f"{obj['kind']} {obj['name']}"


def check_sort_key(check: dict[str, Any]) -> tuple[int, int, str]:
    """Worst status first, then worst severity, then ID."""
    return (
        status_rank(check["status"]),
        severity_rank(check["effective_severity"]),
        check["id"],
    )


def problem_checks(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Failing and warning checks, worst first."""
    problems = [c for c in report["checks"] if c["status"] in ("fail", "warn")]
    return sorted(problems, key=check_sort_key)


def unobserved_checks(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Checks whose evidence could not be read, which never count as a pass."""
    return sorted(
        (c for c in report["checks"] if c["status"] in ("not_observable", "error")),
        key=lambda c: c["id"],
    )


def checks_by_pillar(report: dict[str, Any]) -> list[tuple[str, list[dict[str, Any]]]]:
    """(pillar, checks worst first) in ZTMM pillar order, empty pillars included."""
    groups: dict[str, list[dict[str, Any]]] = {pillar: [] for pillar in PILLAR_ORDER}
    for check in report["checks"]:
        groups.setdefault(check["pillar"], []).append(check)
    return [(pillar, sorted(checks, key=check_sort_key)) for pillar, checks in groups.items()]


def finding_severity(finding: dict[str, Any], check: dict[str, Any]) -> str:
    """A finding's own severity when it raised one, else its check's effective severity."""
    return finding["severity"] or check["effective_severity"]


def finding_remediation(finding: dict[str, Any], check: dict[str, Any]) -> str:
    """The finding-specific fix when there is one, else the check's."""
    return (finding["remediation"] or check["remediation"]).strip()


def new_findings(report: dict[str, Any]) -> set[str] | None:
    """Fingerprints of findings new since the baseline, or None without a baseline."""
    baseline = report.get("baseline")
    if not baseline:
        return None
    return {entry["fingerprint"] for entry in baseline["new_findings"]}


def is_new(new: set[str] | None, check: dict[str, Any], finding: dict[str, Any]) -> bool:
    return new is not None and fingerprint(check["id"], finding) in new


def finding_waiver(report: dict[str, Any], finding: dict[str, Any] | None) -> dict | None:
    """The waiver in force that covers a finding, if any."""
    if finding is None or "waived_by" not in finding:
        return None
    return report["waivers"][finding["waived_by"]]


def check_waivers(report: dict[str, Any], check: dict[str, Any]) -> list[dict[str, Any]]:
    """The waivers in force that cover a waived check: its findings', or a whole-check one."""
    if not check.get("waived"):
        return []
    waivers = report.get("waivers", [])
    if check["findings"]:
        indexes = sorted({f["waived_by"] for f in check["findings"] if "waived_by" in f})
        return [waivers[i] for i in indexes]
    return [
        w
        for w in waivers
        if w["check"] == check["id"] and not w["objects"] and w["status"] == "active"
    ][:1]


def waiver_text(waiver: dict[str, Any]) -> str:
    """``reason (owner X, until DATE)``: what an auditor needs to see beside a waived item."""
    return f"{waiver['reason']} (owner {waiver['owner']}, until {waiver['expires']})"


def sentence(value: str) -> str:
    """``value`` ending with a full stop, so that another sentence can follow it."""
    value = value.strip()
    return value if not value or value[-1] in ".!?" else value + "."


def percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


def score_text(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}"
