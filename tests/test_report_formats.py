"""SARIF, JUnit, Markdown and HTML renderers, on the saved example report and on real scans."""

from __future__ import annotations

import copy
import json
import re
import xml.etree.ElementTree as ET
from html import unescape

import jsonschema
import pytest
import xmlschema
from conftest import FIXTURES, scan_files

from zt_audit.report.document import build_report
from zt_audit.report.formats import FORMAT_NAMES, RenderOptions, render
from zt_audit.report.html import render_html
from zt_audit.report.junit import render_junit
from zt_audit.report.markdown import code, render_markdown, text
from zt_audit.report.sarif import level, render_sarif
from zt_audit.report.saved import load_report

REPORTS = FIXTURES / "reports"


@pytest.fixture(scope="module")
def example() -> dict:
    return load_report(REPORTS / "example-report.json")


@pytest.fixture(scope="module")
def hostile() -> dict:
    return build_report(scan_files(REPORTS / "manifests" / "hostile.yaml"))


def _check(report: dict, check_id: str) -> dict:
    return next(c for c in report["checks"] if c["id"] == check_id)


# SARIF ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sarif_validator() -> jsonschema.Draft4Validator:
    schema = json.loads((REPORTS / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
    return jsonschema.Draft4Validator(schema)


def test_sarif_validates_against_the_sarif_2_1_0_schema(example, hostile, sarif_validator):
    for report in (example, hostile):
        log = json.loads(render_sarif(report))
        errors = [e.message for e in sarif_validator.iter_errors(log)]
        assert errors == []


def test_sarif_has_one_documented_rule_per_check(example):
    run = json.loads(render_sarif(example))["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == sorted(c["id"] for c in example["checks"])
    rt05 = next(r for r in rules if r["id"] == "RT-05")
    assert rt05["shortDescription"]["text"] == "No privileged containers or host namespaces"
    assert rt05["helpUri"] == _check(example, "RT-05")["references"][0]
    assert "Remediation: Remove `privileged: true`" in rt05["help"]["text"]
    assert rt05["properties"]["pillar"] == "applications"
    assert rt05["properties"]["severity"] == "critical"
    assert rt05["properties"]["security-severity"] == "9.5"
    assert rt05["properties"]["mappings"]["cis_kubernetes"][0] == "5.2.2"


def test_sarif_results_are_the_findings_with_file_and_line(example):
    run = json.loads(render_sarif(example))["runs"][0]
    problems = [c for c in example["checks"] if c["status"] in ("fail", "warn")]
    # A failing check without findings (IMG-04: nothing verifies signatures) is one result.
    expected = sum(len(c["findings"]) or 1 for c in problems)
    assert len(run["results"]) == expected
    privileged = [
        r for r in run["results"]
        if r["ruleId"] == "RT-05"
        and r["locations"][0]["physicalLocation"]["region"]["startLine"] == 37
    ]  # fmt: skip
    assert len(privileged) == 1
    result = privileged[0]
    assert result["level"] == "error"
    assert result["locations"][0]["physicalLocation"]["artifactLocation"] == {
        "uri": "examples/cluster/30-legacy.yaml",
        "uriBaseId": "%SRCROOT%",
    }
    assert result["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == (
        "Deployment legacy/batch-agent"
    )
    assert result["message"]["text"].startswith(
        "container agent of Deployment legacy/batch-agent is privileged"
    )
    assert run["results"][0]["ruleIndex"] == [
        r["id"] for r in run["tool"]["driver"]["rules"]
    ].index(run["results"][0]["ruleId"])


def test_unobservable_checks_are_notifications_not_results(example):
    run = json.loads(render_sarif(example))["runs"][0]
    unobserved = sorted(c["id"] for c in example["checks"] if c["status"] == "not_observable")
    assert "IMG-06" in unobserved
    assert not set(unobserved) & {r["ruleId"] for r in run["results"]}
    notes = run["invocations"][0]["toolExecutionNotifications"]
    assert sorted(n["associatedRule"]["id"] for n in notes) == unobserved
    img06 = next(n for n in notes if n["associatedRule"]["id"] == "IMG-06")
    assert img06["message"]["text"].startswith("IMG-06 was not evaluated: ")
    assert "To resolve:" in img06["message"]["text"]


# SARIF §3.27.10: error is a serious problem, warning a problem, note a minor one.
@pytest.mark.parametrize(
    ("status", "severity", "expected"),
    [
        ("fail", "critical", "error"),
        ("fail", "high", "error"),
        ("fail", "medium", "warning"),
        ("fail", "low", "warning"),
        ("warn", "critical", "warning"),
        ("warn", "high", "warning"),
        ("warn", "medium", "note"),
        ("warn", "low", "note"),
    ],
)
def test_sarif_level_follows_status_and_severity(status, severity, expected):
    assert level(status, severity) == expected


def test_sarif_fingerprints_are_unique_and_survive_moved_lines(example):
    before = json.loads(render_sarif(example))["runs"][0]["results"]
    moved = copy.deepcopy(example)
    for check in moved["checks"]:
        for finding in check["findings"]:
            if finding["location"] and finding["location"]["line"]:
                finding["location"]["line"] += 7
    after = json.loads(render_sarif(moved))["runs"][0]["results"]
    prints = [r["partialFingerprints"]["ztAuditFinding/v1"] for r in before]
    assert len(set(prints)) == len(prints)
    assert prints == [r["partialFingerprints"]["ztAuditFinding/v1"] for r in after]


@pytest.mark.parametrize(
    ("file", "expected"),
    [
        ("manifests/app.yaml", {"uri": "manifests/app.yaml", "uriBaseId": "%SRCROOT%"}),
        ("./my app/x.yaml", {"uri": "my%20app/x.yaml", "uriBaseId": "%SRCROOT%"}),
        ("/srv/deploy/app.yaml", {"uri": "file:///srv/deploy/app.yaml"}),
    ],
)
def test_sarif_artifact_uris(example, file, expected):
    report = copy.deepcopy(example)
    finding = _check(report, "RT-05")["findings"][0]
    finding["location"] = {"file": file, "line": 3}
    results = json.loads(render_sarif(report))["runs"][0]["results"]
    located = next(r for r in results if r["ruleId"] == "RT-05")["locations"][0]
    assert located["physicalLocation"]["artifactLocation"] == expected


def test_every_sarif_result_has_an_artifact_as_code_scanning_requires(example):
    # GitHub rejects a whole log whose results lack physicalLocation.artifactLocation.uri.
    results = json.loads(render_sarif(example))["runs"][0]["results"]
    assert all(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results)
    img04 = next(r for r in results if r["ruleId"] == "IMG-04")  # a verdict on the whole input
    assert img04["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "examples/cluster", "uriBaseId": "%SRCROOT%"}
    }


@pytest.mark.parametrize(
    ("mode", "description", "uri"),
    [
        ("manifests", "<stdin>", "kubernetes-cluster"),
        ("cluster", "context kind-kind", "kubernetes-cluster"),
        ("manifests", "app.yaml, db.yaml", "app.yaml"),
    ],
)
def test_findings_without_a_file_keep_their_object_at_the_anchor(example, mode, description, uri):
    report = copy.deepcopy(example)
    report["source"] = {**report["source"], "mode": mode, "description": description}
    _check(report, "RT-05")["findings"][0]["location"] = {"file": "<stdin>", "line": 3}
    results = json.loads(render_sarif(report))["runs"][0]["results"]
    located = next(r for r in results if r["ruleId"] == "RT-05")["locations"][0]
    assert located["physicalLocation"] == {
        "artifactLocation": {"uri": uri, "uriBaseId": "%SRCROOT%"}
    }
    assert located["logicalLocations"][0]["fullyQualifiedName"] == "DaemonSet falco/falco"


# JUnit ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def junit_schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(REPORTS / "junit.xsd"))


def test_junit_validates_and_counts_as_ci_dashboards_expect(example, hostile, junit_schema):
    for report in (example, hostile):
        junit_schema.validate(render_junit(report))
    root = ET.fromstring(render_junit(example))
    summary = example["summary"]
    assert root.get("tests") == str(len(example["checks"]))
    assert root.get("failures") == str(summary["fail"])
    assert root.get("errors") == str(summary["error"])
    assert root.get("skipped") == str(summary["not_observable"] + summary["not_applicable"])
    # One suite per pillar that owns a check, in pillar order.
    order = ["identity", "devices", "networks", "applications", "data"]
    owners = sorted({c["pillar"] for c in example["checks"]}, key=order.index)
    assert [s.get("name") for s in root] == [f"zt-audit.{p}" for p in owners]


def test_junit_testcases_carry_failures_and_skips_with_reasons(example):
    root = ET.fromstring(render_junit(example))
    cases = {case.get("name").split()[0]: case for case in root.iter("testcase")}
    rt05 = cases["RT-05"]
    assert rt05.get("classname") == "applications"
    failure = rt05.find("failure")
    assert failure.get("type") == "critical"
    assert failure.get("message") == "2 of 11 workloads affected"
    assert "examples/cluster/30-legacy.yaml:37 Deployment legacy/batch-agent" in failure.text
    assert "Remediation:" in failure.text
    skipped = cases["IMG-06"].find("skipped")
    assert skipped.get("message").startswith("not observable: no vulnerability reports")
    assert "(to resolve: " in skipped.get("message")
    assert cases["MTLS-04"].find("skipped").get("message").startswith("not applicable: ")
    warn = cases["RT-07"]
    assert warn.find("failure") is None and warn.find("skipped") is None
    assert warn.find("system-out").text.startswith("WARN (medium): 6 of 11 workloads affected")
    assert cases["NET-01"].find("*") is None  # a pass is a bare test case


def test_junit_error_status_and_control_characters(example, junit_schema):
    report = copy.deepcopy(example)
    crashed = _check(report, "NET-01")
    crashed["status"] = "error"
    crashed["reason"] = "check crashed: KeyError \x00\x1b[31m"
    report["summary"] = {**report["summary"], "pass": report["summary"]["pass"] - 1, "error": 1}
    xml = render_junit(report)
    junit_schema.validate(xml)
    case = next(
        c for c in ET.fromstring(xml).iter("testcase") if c.get("name").startswith("NET-01")
    )
    assert case.find("error").get("message") == "check crashed: KeyError \ufffd\ufffd[31m"


# Markdown -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # CommonMark 2.4: any ASCII punctuation may be backslash-escaped to read literally.
        ("<script>alert(1)</script>", r"\<script\>alert\(1\)\</script\>"),
        ("a | b", r"a \| b"),
        ("[x](https://e.example)", r"\[x\]\(https\://e\.example\)"),
        ("**bold** _it_", r"\*\*bold\*\* \_it\_"),
        ("two\nlines", "two lines"),
    ],
)
def test_markdown_text_is_inert(value, expected):
    assert text(value) == expected


def test_markdown_code_spans_outgrow_backticks_inside():
    # CommonMark 6.1: a code span ends at a backtick run as long as the one that opened it.
    assert code("a `b` c") == "`` a `b` c ``"
    assert code("plain") == "` plain `"


def test_markdown_summary_is_compact_and_complete(example):
    md = render_markdown(example)
    overall = example["score"]["overall"]
    assert md.startswith(f"## zt-audit zero-trust posture\n\n**Score {overall:.1f} / 100** · ")
    networks = example["score"]["pillars"]["networks"]
    counts = networks["counts"]
    row = (
        f"| Networks | {networks['score']:.1f} | {networks['stage'].capitalize()} | "
        f"{networks['coverage']:.0%} | {counts['pass']} | {counts['warn']} | {counts['fail']} | "
        f"{counts['not_observable']} |"
    )
    assert row in md
    problems = [c for c in example["checks"] if c["status"] in ("fail", "warn")]
    assert md.count("\n- **") == min(10, len(problems))
    assert f"- and {len(problems) - 10} more checks in the full report" in md
    assert "  - ` examples/cluster/30-legacy.yaml:37 ` container agent of Deployment" in md
    unobserved = sum(c["status"] == "not_observable" for c in example["checks"])
    assert f"<summary>Not observable ({unobserved}): never counted as a pass</summary>" in md


def test_markdown_escapes_hostile_names(hostile):
    md = render_markdown(hostile)
    # Every "<" is escaped, or opens one of the summary's own tags.
    raw = re.findall(r"(?<!\\)<(/?\w+)", md)
    assert set(raw) <= {"details", "/details", "summary", "/summary", "sub", "/sub"}
    assert r"hostile/\<script\>window\.\_\_ztPwned = 1\</script\>" in md


# HTML -----------------------------------------------------------------------------------


def test_html_escapes_every_hostile_string(hostile):
    html = render_html(hostile)
    for payload in ("<script>window.__ztPwned", "<svg onload", "</script><script>"):
        assert payload not in html
    assert "&lt;script&gt;window.__ztPwned = 1&lt;/script&gt;" in html
    assert html.count("<script>") == 1  # our own filter script, nothing else


def test_html_content_security_policy_allows_only_its_own_style_and_script(example):
    import base64
    import hashlib

    html = render_html(example)
    csp = unescape(re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html)[1])
    style = re.search(r"<style>(.*?)</style>", html, re.S)[1]
    script = re.search(r"<script>(.*?)</script>", html, re.S)[1]
    for body, directive in ((style, "style-src"), (script, "script-src")):
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        assert f"{directive} 'sha256-{digest}'" in csp
    assert "default-src 'none'" in csp


def test_html_links_only_within_the_page(example):
    html = render_html(example, frameworks=("nist-800-53",))
    targets = re.findall(r'(?:href|src)="([^"]*)"', html)
    assert targets and all(t.startswith("#") for t in targets)
    ids = set(re.findall(r'id="([^"]+)"', html))
    assert {t[1:] for t in targets} <= ids


def test_html_shows_findings_remediation_and_not_observable_hints(example):
    html = render_html(example)
    assert "<code>examples/cluster/30-legacy.yaml:37</code>" in html
    assert "<code>spec.template.spec.containers[0].securityContext.privileged</code>" in html
    assert "Remove `privileged: true`" in html
    img06 = _check(example, "IMG-06")
    assert f"<td>{img06['hint']}</td>" in html


def test_no_format_says_compliant(example):
    # Only the renderers' own wording is under test: blank the checks' texts.
    report = copy.deepcopy(example)
    for check in report["checks"]:
        check.update(description="d", rationale="r", remediation="fix", title="t")
    for name in FORMAT_NAMES:
        output = render(name, report, RenderOptions(frameworks=("pci-dss", "soc2")))
        assert "compliant" not in output.lower(), name


def test_views_saved_by_another_version_still_render(example):
    # A saved view of a framework this version does not ship is kept in JSON, skipped in HTML.
    report = copy.deepcopy(example)
    future = {**report["frameworks"][0], "key": "future-framework", "title": "Future"}
    report["frameworks"] = [future, *report["frameworks"]]
    assert 'id="framework-cis-kubernetes"' in render("html", report)
    assert 'id="framework-future-framework"' not in render("html", report)
    assert json.loads(render("json", report))["frameworks"][0]["key"] == "future-framework"


def test_markdown_shows_only_views_of_shipped_frameworks(example):
    report = copy.deepcopy(example)
    future = {**report["frameworks"][0], "key": "future-framework", "title": "Future"}
    report["frameworks"] = [future]
    assert "### Future" not in render("markdown", report)
    report["frameworks"].append(example["frameworks"][0])
    assert "### CIS Kubernetes Benchmark" in render("markdown", report)


def test_html_traces_each_score_to_its_checks(example):
    html = render_html(example)
    networks = html[html.index('id="scoring-networks"') :]
    networks = networks[: networks.index("</section>")]
    assert "Networks: score 29.2," in networks
    assert networks.count('<a href="#check-') == len(
        example["score"]["pillars"]["networks"]["contributions"]
    )
    assert '<td class="num">0.75</td>' in networks  # Initial: weighted pass ratio 0.75 >= 0.70
