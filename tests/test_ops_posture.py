"""The per-workload ``operations`` section of the JSON report."""

from __future__ import annotations

import json

import jsonschema

from tests.conftest import FIXTURES, run_cli
from zt_audit.report.document import report_schema

SUPPLY = FIXTURES / "ops" / "supply-chain"
GOVERNANCE = FIXTURES / "ops" / "governance"


def test_operations_facts_per_workload_follow_the_schema() -> None:
    result = run_cli(
        "scan",
        str(SUPPLY / "workloads.yaml"),
        str(SUPPLY / "kyverno-verify-enforce.yaml"),
        str(SUPPLY / "trivy-reports.yaml"),
        str(GOVERNANCE / "gitops.yaml"),
        "-f",
        "json",
    )
    report = json.loads(result.stdout)
    jsonschema.validate(report, report_schema())
    facts = {
        f"{w['kind']}/{w['namespace']}/{w['name']}": w["operations"] for w in report["workloads"]
    }
    assert facts["Deployment/shop/checkout"] == {
        "signature_verified": True,
        "scanned_containers": ["app", "migrate"],
        "vulnerabilities": {"critical_fixable": 1, "critical_unfixed": 0, "high_fixable": 1},
        "secret_sources": [],
        "drift_corrected": True,
    }
    assert facts["CronJob/legacy/reconcile"]["signature_verified"] is False
    assert facts["CronJob/legacy/reconcile"]["drift_corrected"] is None
    assert facts["Deployment/payments/gateway"]["drift_corrected"] is False
