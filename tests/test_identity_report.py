"""The Identity pillar in the report: score, stage, not-observable evidence, workload facts."""

from __future__ import annotations

import jsonschema
from conftest import run_cli, scan_files
from identity_support import IDENTITY

from zt_audit.report.document import build_report, report_schema

HARDENED = IDENTITY / "controlplane" / "hardened.yaml"
LEAST = IDENTITY / "rbac" / "least-privilege.yaml"
ESCALATION = IDENTITY / "rbac" / "escalation.yaml"


def _identity(report):
    return report["score"]["pillars"]["identity"]


def test_least_privilege_cluster_reaches_initial_identity():
    report = build_report(scan_files(HARDENED, LEAST))
    jsonschema.validate(report, report_schema())
    pillar = _identity(report)
    assert pillar["stage"] in ("initial", "advanced")
    assert pillar["score"] is not None and pillar["score"] >= 70
    checks = {c["id"]: c["status"] for c in report["checks"]}
    assert {checks[f"IAM-{n:02d}"] for n in (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 13, 14)} == {"pass"}
    # Just-in-time access cannot be seen here, and is shown as such, not as a failure.
    assert checks["IAM-11"] == "not_observable"


def test_cluster_admin_for_a_workload_keeps_identity_traditional():
    report = build_report(scan_files(ESCALATION))
    jsonschema.validate(report, report_schema())
    pillar = _identity(report)
    assert pillar["stage"] == "traditional"
    assert "IAM-01" in pillar["stages"][0]["critical_failures"]
    assert pillar["counts"]["not_observable"] > 0
    workloads = {w["name"]: w["identity"] for w in report["workloads"]}
    assert workloads["admin-bot"] == {
        "service_account": "admin-bot",
        "token_mounted": True,
        "power": "cluster-admin rights",
        "grants": [
            {
                "binding": "ClusterRoleBinding/admin-bot-cluster-admin",
                "role": "ClusterRole/cluster-admin",
                "scope": "cluster-wide",
            }
        ],
    }


def test_escalation_chains_reach_the_json_report():
    result = run_cli("scan", str(ESCALATION), "-f", "json", "--select", "IAM-04")
    import json

    check = json.loads(result.stdout)["checks"][0]
    chains = [f["details"]["path"] for f in check["findings"]]
    assert {c["permission"] for c in chains} >= {
        "pod-create",
        "impersonate",
        "bind-escalate",
        "nodes-proxy",
        "sa-token",
        "csr-approve",
        "webhook-write",
        "secrets-read",
    }
    assert all(len(c["steps"]) >= 2 for c in chains)
