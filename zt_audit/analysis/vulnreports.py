"""Trivy Operator vulnerability reports, tied back to the workloads and containers they cover.

The operator writes one ``VulnerabilityReport`` per container of each workload, labelled
``trivy-operator.resource.{kind,name,namespace}`` and ``trivy-operator.container.name``.
A Deployment is reported through its current ReplicaSet (``<deployment>-<hash>``) and a
CronJob through its Jobs, so those names are folded back onto the owner.

Freshness needs a "now". It is taken from the ``reference_time`` setting, else from the
newest timestamp in the input (object creation times and report update times), so that
the same input always gives the same verdict.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from zt_audit.inventory import Inventory, Resource, Workload

GROUP = "aquasecurity.github.io"
MAX_AGE = timedelta(days=7)
LABEL = "trivy-operator."


@dataclass(frozen=True)
class VulnReport:
    resource: Resource
    target: tuple[str, str, str]  # kind, namespace, name as labelled
    container: str
    updated: datetime | None
    critical_fixable: int
    critical_unfixed: int
    high_fixable: int
    summary_critical: int
    summary_high: int
    listed: bool  # the report lists vulnerabilities (not only a summary)
    image: str


def parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def vulnerability_reports(inventory: Inventory) -> list[VulnReport]:
    found = [_parse(r) for r in inventory.of_kind("VulnerabilityReport", group=GROUP)]
    return sorted(found, key=lambda r: r.resource.ref)


def _parse(resource: Resource) -> VulnReport:
    labels = resource.labels
    target = (
        labels.get(f"{LABEL}resource.kind", ""),
        labels.get(f"{LABEL}resource.namespace", resource.namespace or ""),
        labels.get(f"{LABEL}resource.name", ""),
    )
    report = resource.obj.get("report")
    report = report if isinstance(report, dict) else {}
    summary = report.get("summary") if isinstance(report.get("summary"), dict) else {}
    counts = {"critical_fixable": 0, "critical_unfixed": 0, "high_fixable": 0}
    entries = report.get("vulnerabilities")
    listed = isinstance(entries, list) and bool(entries)
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict):
            continue
        severity = str(entry.get("severity", "")).upper()
        fixable = bool(entry.get("fixedVersion"))
        if severity == "CRITICAL":
            counts["critical_fixable" if fixable else "critical_unfixed"] += 1
        elif severity == "HIGH" and fixable:
            counts["high_fixable"] += 1
    return VulnReport(
        resource=resource,
        target=target,
        container=labels.get(f"{LABEL}container.name", ""),
        updated=parse_time(report.get("updateTimestamp")),
        summary_critical=_count(summary.get("criticalCount")),
        summary_high=_count(summary.get("highCount")),
        listed=listed,
        image=_image(report.get("artifact"), report.get("registry")),
        **counts,
    )


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _image(artifact: Any, registry: Any) -> str:
    if not isinstance(artifact, dict):
        return ""
    repository, tag = artifact.get("repository"), artifact.get("tag")
    if not isinstance(repository, str):
        return ""
    server = registry.get("server") if isinstance(registry, dict) else None
    if isinstance(server, str) and server:
        repository = f"{server}/{repository}"
    return f"{repository}:{tag}" if isinstance(tag, str) and tag else repository


def reference_time(inventory: Inventory, configured: str | None) -> datetime | None:
    """The scan's "now": the configured time, else the newest timestamp in the input."""
    if configured:
        return parse_time(configured)
    newest = None
    for resource in inventory:
        candidates = [parse_time(resource.metadata.get("creationTimestamp"))]
        report = resource.obj.get("report")
        if isinstance(report, dict):
            candidates.append(parse_time(report.get("updateTimestamp")))
        for moment in candidates:
            if moment is not None and (newest is None or moment > newest):
                newest = moment
    return newest


def is_fresh(report: VulnReport, now: datetime | None) -> bool:
    if report.updated is None:
        return False
    return now is None or report.updated >= now - MAX_AGE


def owner_key(kind: str, namespace: str, name: str, workloads: set[tuple[str, str, str]]):
    """The workload a report's target belongs to, folding ReplicaSets and Jobs onto owners."""
    if (kind, namespace, name) in workloads:
        return (kind, namespace, name)
    stem, _, suffix = name.rpartition("-")
    if kind == "ReplicaSet" and stem and ("Deployment", namespace, stem) in workloads:
        return ("Deployment", namespace, stem)
    if kind == "Job" and stem and suffix.isdigit() and ("CronJob", namespace, stem) in workloads:
        return ("CronJob", namespace, stem)
    return None


def reports_by_container(
    reports: list[VulnReport], workloads: list[Workload]
) -> dict[tuple[str, str, str, str], list[VulnReport]]:
    """Reports keyed by (kind, namespace, name, container) of the owning workload."""
    keys = {(w.kind, w.namespace, w.name) for w in workloads}
    found: dict[tuple[str, str, str, str], list[VulnReport]] = {}
    for report in reports:
        owner = owner_key(*report.target, keys)
        if owner is not None:
            found.setdefault((*owner, report.container), []).append(report)
    return found
