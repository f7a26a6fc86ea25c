"""Waivers: accepted risks with a reason, an owner and an end date. They change what fails
a CI gate and how reports show findings, never a check's status or the score."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest
import yaml
from conftest import FIXTURES, run_cli

from zt_audit.engine.config import ScanConfig
from zt_audit.errors import UsageError
from zt_audit.report.document import report_schema

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = str(ROOT / "examples" / "cluster")
SETTINGS = yaml.safe_load((ROOT / "examples" / "zt-audit.yaml").read_text())
SARIF_SCHEMA = FIXTURES / "reports" / "sarif-schema-2.1.0.json"

FALCO = {
    "check": "RT-05",
    "objects": ["DaemonSet/falco/falco"],
    "reason": "Falco loads its kernel probe and needs a privileged container",
    "owner": "platform-security@acme.example",
    "expires": "2027-06-30",
}
BATCH_AGENT = {**FALCO, "objects": ["Deployment/legacy/batch-*"], "reason": "legacy, SEC-9"}


def scan(tmp_path: Path, waivers: list[dict], *args: str, today: str = "2027-01-15"):
    config = tmp_path / "zt-audit.yaml"
    settings = {**SETTINGS, "waivers": waivers, "reference_time": f"{today}T00:00:00Z"}
    config.write_text(yaml.safe_dump(settings))
    return run_cli("scan", EXAMPLE, "--config", str(config), *args)


def report_of(tmp_path: Path, waivers: list[dict], today: str = "2027-01-15") -> dict:
    result = scan(tmp_path, waivers, "-f", "json", today=today)
    assert result.code == 0, result.stderr
    report = json.loads(result.stdout)
    jsonschema.validate(report, report_schema())
    return report


def check(report: dict, check_id: str) -> dict:
    return next(c for c in report["checks"] if c["id"] == check_id)


def test_a_waiver_marks_the_findings_it_covers_and_leaves_the_score_alone(tmp_path):
    plain = report_of(tmp_path, [])
    waived = report_of(tmp_path, [FALCO])

    rt05 = check(waived, "RT-05")
    assert rt05["status"] == "fail" and rt05["waived"] is False  # batch-agent is not waived
    marks = {f["object"]["name"]: f.get("waived_by") for f in rt05["findings"]}
    assert marks == {"falco": 0, "batch-agent": None}
    assert waived["waivers"] == [
        {**FALCO, "objects": FALCO["objects"], "status": "active", "covers": 1}
    ]
    assert waived["score"] == plain["score"]
    assert check(plain, "RT-05")["status"] == "fail"


def test_a_check_is_waived_when_every_finding_is(tmp_path):
    report = report_of(tmp_path, [FALCO, BATCH_AGENT])
    assert check(report, "RT-05")["waived"] is True
    assert [w["covers"] for w in report["waivers"]] == [1, 1]


def test_the_fail_on_gate_ignores_waived_checks_only(tmp_path):
    partly = scan(tmp_path, [FALCO], "--fail-on", "critical", "-o", str(tmp_path / "r.json"))
    assert partly.code == 1
    assert "RT-05" in partly.stderr.splitlines()[-1]

    wholly = scan(tmp_path, [FALCO, BATCH_AGENT], "--fail-on", "critical", "-o", "/dev/null")
    assert wholly.code == 1  # IAM-01 and RT-08 still fail
    gate = wholly.stderr.splitlines()[-1]
    assert gate.endswith("failed: IAM-01, RT-08 (1 more waived)"), gate


def test_an_expired_waiver_covers_nothing_and_says_what_it_would_have(tmp_path):
    report = report_of(tmp_path, [FALCO], today="2027-07-01")
    assert all("waived_by" not in f for f in check(report, "RT-05")["findings"])
    assert report["waivers"][0]["status"] == "expired"
    assert report["waivers"][0]["covers"] == 1
    # The last day is still covered.
    on_the_day = report_of(tmp_path, [FALCO], today="2027-06-30")
    assert on_the_day["waivers"][0]["status"] == "active"


def test_a_waiver_that_covers_nothing_is_reported_unused(tmp_path):
    stale = {**FALCO, "check": "RT-08", "objects": ["*/payments/*"]}
    report = report_of(tmp_path, [stale])
    assert report["waivers"][0]["status"] == "unused"
    assert report["waivers"][0]["covers"] == 0


def test_a_whole_check_waiver_covers_a_check_that_failed_without_findings(tmp_path):
    image_signing = {
        "check": "IMG-04",
        "reason": "policy-controller rollout, SEC-412",
        "owner": "supply-chain@acme.example",
        "expires": "2027-03-31",
    }
    report = report_of(tmp_path, [image_signing])
    img04 = check(report, "IMG-04")
    assert (img04["status"], img04["findings"], img04["waived"]) == ("fail", [], True)
    assert report["waivers"][0]["covers"] == 1


def test_patterns_match_kind_namespace_and_name_with_globs(tmp_path):
    cluster_scoped = {**FALCO, "check": "IAM-01", "objects": ["ClusterRoleBinding/batch-*"]}
    namespaced_form = {**FALCO, "check": "IAM-01", "objects": ["ClusterRoleBinding/*/batch-*"]}
    report = report_of(tmp_path, [namespaced_form, cluster_scoped])
    waived = {
        f["object"]["name"]: f["waived_by"]
        for f in check(report, "IAM-01")["findings"]
        if "waived_by" in f
    }
    # A ClusterRoleBinding has no namespace: only the Kind/name form matches it.
    assert waived == {"batch-agent-admin": 1}
    assert [w["status"] for w in report["waivers"]] == ["unused", "active"]


def test_new_findings_that_are_waived_do_not_fail_the_baseline_gate(tmp_path):
    baseline = tmp_path / "baseline.json"
    baseline.write_text(json.dumps({**report_of(tmp_path, []), "checks": []}))
    args = ("--baseline", str(baseline), "--fail-on-new", "critical", "-o", "/dev/null")
    gated = scan(tmp_path, [FALCO, BATCH_AGENT], *args)
    assert gated.code == 1
    assert "new finding(s) of severity critical" in gated.stderr
    everything = [{**FALCO, "objects": [], "check": c} for c in ("RT-05", "RT-08", "IAM-01")]
    assert scan(tmp_path, everything, *args).code == 0


def test_each_format_shows_waivers(tmp_path):
    table = scan(tmp_path, [FALCO], "--max-findings", "9").stdout
    assert f"- [waived #1] {EXAMPLE}/50-platform.yaml:57 container falco of" in table
    assert "#1 RT-05    active   covers 1: DaemonSet/falco/falco" in table

    sarif = json.loads(scan(tmp_path, [FALCO, BATCH_AGENT], "-f", "sarif").stdout)
    jsonschema.validate(sarif, json.loads(SARIF_SCHEMA.read_text()))
    suppressed = [r for r in sarif["runs"][0]["results"] if "suppressions" in r]
    assert {r["ruleId"] for r in suppressed} == {"RT-05"}
    assert suppressed[0]["suppressions"] == [
        {
            "kind": "external",
            "status": "accepted",
            "justification": f"{FALCO['reason']} (owner {FALCO['owner']}, until 2027-06-30)",
        }
    ]

    junit = ET.fromstring(scan(tmp_path, [FALCO, BATCH_AGENT], "-f", "junit").stdout)
    case = next(c for c in junit.iter("testcase") if c.get("name", "").startswith("RT-05 "))
    assert case.find("failure") is None
    assert case.find("skipped").get("message").startswith("waived: ")

    markdown = scan(tmp_path, [FALCO], "-f", "markdown").stdout
    assert "### Waivers" in markdown and "*waived \\#1*" in markdown

    html = scan(tmp_path, [FALCO], "-f", "html").stdout
    assert 'id="waiver-1"' in html and 'href="#waiver-1">waived #1</a>' in html


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({**FALCO, "owner": ""}, "waivers[0]: owner is required"),
        ({k: v for k, v in FALCO.items() if k != "reason"}, "waivers[0]: reason is required"),
        ({k: v for k, v in FALCO.items() if k != "expires"}, "no waiver lasts forever"),
        ({**FALCO, "expires": "next year"}, "expires is required (a date"),
        ({**FALCO, "objects": ["falco"]}, "objects must be a list of Kind/namespace/name"),
        ({**FALCO, "objects": "DaemonSet/falco/falco"}, "objects must be a list"),
        ({**FALCO, "until": "2027-01-01"}, "unknown field 'until'"),
    ],
)
def test_a_waiver_without_governance_is_refused(entry, message):
    with pytest.raises(UsageError) as error:
        ScanConfig.from_mapping({"waivers": [entry]}, "zt-audit.yaml")
    assert str(error.value).startswith("zt-audit.yaml: waivers[0]")
    assert message in str(error.value)


def test_a_bad_waiver_is_a_usage_error_before_anything_is_read(tmp_path):
    result = scan(tmp_path, [{**FALCO, "owner": None}])
    assert result.code == 2
    assert result.stderr.strip().endswith("waivers[0]: owner is required (a non-empty string)")
    assert result.stdout == ""


def test_a_report_saved_before_waivers_existed_still_renders(tmp_path):
    report = report_of(tmp_path, [])
    del report["waivers"]
    for entry in report["checks"]:
        del entry["waived"]
    report["schema_version"] = "1.0"
    saved = tmp_path / "old.json"
    saved.write_text(json.dumps(report))
    for fmt in ("table", "html", "sarif", "junit", "markdown"):
        assert run_cli("report", str(saved), "-f", fmt).code == 0
