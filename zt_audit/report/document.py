"""The report document: one JSON-ready mapping that every output format renders.

Its shape is published as a JSON Schema (``zt-audit schema``); ``SCHEMA_VERSION`` changes
whenever the shape does. Everything is ordered deterministically so that the same input
gives the same bytes, ``generated_at`` aside.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from functools import cache
from importlib import resources
from typing import Any

from zt_audit import __version__
from zt_audit.engine.model import CheckResult, CheckSpec, Finding, Status
from zt_audit.engine.runner import Evaluated
from zt_audit.report.posture import workload_posture
from zt_audit.report.waivers import apply_waivers
from zt_audit.scan import ScanOutcome

SCHEMA_VERSION = "1.1"


@cache
def report_schema() -> dict[str, Any]:
    text = resources.files("zt_audit.schemas").joinpath("report.schema.json")
    return json.loads(text.read_text(encoding="utf-8"))


def build_report(outcome: ScanOutcome) -> dict[str, Any]:
    inventory = outcome.inventory
    counts = {status.value: 0 for status in Status}
    for item in outcome.evaluated:
        counts[item.result.status.value] += 1
    report = {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "zt-audit", "version": __version__},
        "generated_at": outcome.generated_at,
        "source": {
            "mode": outcome.evidence.mode,
            "description": inventory.description,
            "bundle_is_complete": outcome.evidence.complete,
            "forbidden": dict(sorted(outcome.evidence.forbidden.items())),
        },
        "inventory": {
            "objects": len(inventory),
            "kinds": inventory.kind_counts(),
            "namespaces": list(inventory.namespaces),
            "workloads": len(inventory.workloads),
            "errors": [p.as_dict() for p in inventory.errors],
            "warnings": [p.as_dict() for p in inventory.warnings],
        },
        "scope": {
            "excluded_namespaces": sorted(outcome.config.excluded_namespaces),
            "workloads_in_scope": len(outcome.context.workloads),
        },
        "score": outcome.scorecard.as_dict(),
        "summary": counts,
        "checks": [check_entry(item) for item in outcome.evaluated],
        "workloads": workload_posture(outcome.context),
    }
    apply_waivers(report, outcome.config.waivers, _today(outcome))
    return report


def _today(outcome: ScanOutcome) -> date:
    """The day waivers are judged on: the reference time if one is set, else the scan's."""
    moment = outcome.config.reference_time or outcome.generated_at
    return datetime.fromisoformat(moment.replace("Z", "+00:00")).date()


def check_entry(item: Evaluated) -> dict[str, Any]:
    spec, result = item.check.spec, item.result
    return {
        **spec_entry(spec),
        "effective_severity": (result.severity or spec.severity).value,
        **result_entry(result),
    }


def spec_entry(spec: CheckSpec) -> dict[str, Any]:
    return {
        "id": spec.id,
        "title": spec.title,
        # Carried so that a saved report documents its checks (SARIF rules, HTML) alone.
        "description": spec.description.strip(),
        "rationale": spec.rationale.strip(),
        "pillar": spec.pillar.value,
        "secondary_pillars": [p.value for p in spec.secondary_pillars],
        "cross_cutting": [c.value for c in spec.cross_cutting],
        "severity": spec.severity.value,
        "stage": spec.stage.value,
        "upper_stage": spec.upper_stage.value if spec.upper_stage else None,
        "remediation": spec.remediation,
        "references": list(spec.references),
        "mappings": {key: list(values) for key, values in sorted(spec.mappings.items())},
    }


def result_entry(result: CheckResult) -> dict[str, Any]:
    ratio = result.ratio
    value = result.effective_score()
    return {
        "status": result.status.value,
        "reason": result.reason,
        "hint": result.hint,
        "score": None if value is None else round(value, 4),
        "ratio": (
            {"passed": ratio.passed, "total": ratio.total, "unit": ratio.unit} if ratio else None
        ),
        "findings": [finding_entry(f) for f in result.findings],
        "facts": _jsonable(result.facts),
    }


def finding_entry(finding: Finding) -> dict[str, Any]:
    location = finding.location
    return {
        "status": finding.status.value,
        "severity": finding.severity.value if finding.severity else None,
        "message": finding.message,
        "object": finding.object.as_dict() if finding.object else None,
        "field": finding.field,
        "location": {"file": location.source, "line": location.line} if location else None,
        "remediation": finding.remediation,
        "details": _jsonable(finding.details),
    }


def _jsonable(value: Any) -> Any:
    """Facts as plain JSON values, with mapping keys sorted for determinism."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted(_jsonable(v) for v in value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def render_json(report: dict[str, Any]) -> str:
    return json.dumps(report, indent=2, ensure_ascii=False) + "\n"
