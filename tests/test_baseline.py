"""CI gating on findings that are new since a baseline report."""

from __future__ import annotations

import json
import shutil

import jsonschema
from conftest import FIXTURES, run_cli

from zt_audit.report.document import report_schema

INSECURE = FIXTURES / "workload" / "insecure.yaml"
HARDENED = FIXTURES / "workload" / "hardened.yaml"
CHECKS = "RT-05,RT-08,IMG-02"


def _baseline(tmp_path, manifests) -> str:
    out = tmp_path / "baseline.json"
    run_cli("scan", str(manifests), "--select", CHECKS, "-f", "json", "-o", str(out))
    return str(out)


def test_nothing_new_passes_even_with_old_failures(tmp_path):
    baseline = _baseline(tmp_path, INSECURE)
    # The same objects moved to another file and folder are not new.
    moved = tmp_path / "moved" / "renamed.yaml"
    moved.parent.mkdir()
    shutil.copy(INSECURE, moved)
    result = run_cli(
        "scan",
        str(moved),
        "--select",
        CHECKS,
        "--baseline",
        baseline,
        "--fail-on-new",
        "high",
        "-f",
        "json",
    )
    assert result.code == 0, result.stderr
    report = json.loads(result.stdout)
    jsonschema.validate(report, report_schema())
    assert report["baseline"]["new"] == 0
    assert report["baseline"]["fixed"] == 0
    assert report["baseline"]["unchanged"] == 8


def test_a_new_critical_finding_fails_the_gate(tmp_path):
    baseline = _baseline(tmp_path, HARDENED)
    result = run_cli(
        "scan",
        str(HARDENED),
        str(INSECURE),
        "--select",
        CHECKS,
        "--baseline",
        baseline,
        "--fail-on-new",
        "critical",
        "-f",
        "json",
    )
    assert result.code == 1
    report = json.loads(result.stdout)
    new = report["baseline"]["new_findings"]
    assert report["baseline"]["new"] == 8 == len(new)
    critical = [f for f in new if f["severity"] == "critical"]
    assert [f["message"] for f in critical] == [
        "container agent of Deployment legacy/build-agent is privileged",
        "Deployment legacy/build-agent mounts the node path /var/run/docker.sock "
        "(node or container-runtime takeover)",
    ]
    assert result.stderr.splitlines()[-1] == (
        f"zt-audit: gate failed: 2 new finding(s) of severity critical or worse since {baseline}"
    )


def test_fixed_findings_are_counted(tmp_path):
    baseline = _baseline(tmp_path, INSECURE)
    result = run_cli(
        "scan", str(HARDENED), "--select", CHECKS, "--baseline", baseline, "-f", "json"
    )
    assert json.loads(result.stdout)["baseline"]["fixed"] == 8


def test_fail_on_new_needs_a_baseline():
    result = run_cli("scan", str(INSECURE), "--fail-on-new", "high")
    assert result.code == 2
    assert result.stderr == "zt-audit: error: --fail-on-new needs --baseline REPORT.json\n"


def test_a_baseline_that_is_not_a_report_is_named(tmp_path):
    bogus = tmp_path / "bogus.json"
    bogus.write_text('{"hello": 1}')
    result = run_cli("scan", str(INSECURE), "--baseline", str(bogus))
    assert result.code == 2
    assert result.stderr.startswith(f"zt-audit: error: {bogus}: baseline is not a zt-audit report")
