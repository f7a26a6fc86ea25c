"""Per-workload operations facts for the report: image verification at admission, scanned
vulnerabilities, where its secrets come from, and GitOps drift control."""

from __future__ import annotations

from typing import Any

from zt_audit.analysis.admission.index import admission_index
from zt_audit.analysis.gitops import drift_control
from zt_audit.analysis.secretstores import managed_secrets, secret_uses
from zt_audit.analysis.vulnreports import reports_by_container, vulnerability_reports
from zt_audit.engine.context import ScanContext
from zt_audit.inventory import Workload


def operations_posture(ctx: ScanContext) -> dict[str, dict[str, Any]]:
    controls = admission_index(ctx).controls
    reports = reports_by_container(vulnerability_reports(ctx.inventory), ctx.workloads)
    managed = managed_secrets(ctx.inventory)
    drift = drift_control(ctx.inventory, ctx.workloads)
    corrected = {id(w) for w in drift.corrected}
    tracked = {id(w) for w in drift.tracked}
    facts: dict[str, dict[str, Any]] = {}
    for workload in ctx.workloads:
        labels = ctx.inventory.namespace_labels(workload.namespace)
        strong = [
            c
            for c in controls
            if c.strong
            and c.applies(workload.namespace, labels)
            and c.sees_pod(workload.pod_labels)
        ]
        images = [c.image for c in workload.containers() if c.image]
        counts = {"critical_fixable": 0, "critical_unfixed": 0, "high_fixable": 0}
        scanned = []
        for container in workload.containers():
            key = (workload.kind, workload.namespace, workload.name, container.name)
            for report in reports.get(key, []):
                scanned.append(container.name)
                for name in counts:
                    counts[name] += getattr(report, name)
        facts[_key(workload)] = {
            "signature_verified": bool(images)
            and all(any(c.covers_image(i) for c in strong) for i in images),
            "scanned_containers": sorted(set(scanned)),
            "vulnerabilities": counts,
            "secret_sources": _sources(workload, managed),
            "drift_corrected": id(workload) in corrected if id(workload) in tracked else None,
        }
    return facts


def _sources(workload: Workload, managed: dict[tuple[str, str], str]) -> list[str]:
    use = secret_uses(workload)
    if use is None:
        return []
    found = list(use.mechanisms)
    for name in use.secrets:
        state = managed.get((workload.namespace, name))
        found.append(f"Secret {name} ({state or 'unmanaged'})")
    return sorted(found)


def _key(workload: Workload) -> str:
    return f"{workload.kind}/{workload.namespace}/{workload.name}"
