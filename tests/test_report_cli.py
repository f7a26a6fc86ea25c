"""The output side of the command line: several formats per scan, and ``zt-audit report``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import FIXTURES, run_cli

MANIFESTS = FIXTURES / "reports" / "manifests"
DEMO = [str(MANIFESTS / "frontend.yaml"), str(MANIFESTS / "cartservice.yaml")]


def test_one_scan_writes_every_format_to_its_own_file(tmp_path: Path):
    files = {name: tmp_path / f"zt.{name}" for name in ("html", "sarif", "junit", "markdown")}
    result = run_cli(
        "scan", *DEMO, "-f", "json", "-o", str(tmp_path / "zt.json"),
        *(arg for name, path in files.items() for arg in ("-o", f"{name}={path}")),
    )  # fmt: skip
    assert result.code == 0, result.stderr
    assert result.stdout == ""
    assert "Overall score" in result.stderr  # the summary goes to stderr when stdout is free
    report = json.loads((tmp_path / "zt.json").read_text(encoding="utf-8"))
    assert report["source"]["description"].endswith("cartservice.yaml")
    assert json.loads(files["sarif"].read_text(encoding="utf-8"))["version"] == "2.1.0"
    assert files["junit"].read_text(encoding="utf-8").startswith("<?xml")
    assert files["markdown"].read_text(encoding="utf-8").startswith("## zt-audit")
    assert files["html"].read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_the_main_format_still_goes_to_stdout_beside_extra_files(tmp_path: Path):
    sarif = tmp_path / "zt.sarif"
    result = run_cli("scan", *DEMO, "-f", "markdown", "-o", f"sarif={sarif}")
    assert result.code == 0, result.stderr
    assert result.stdout.startswith("## zt-audit zero-trust posture")
    assert result.stderr == ""
    assert sarif.is_file()


def test_table_to_a_file_does_not_repeat_itself_on_stderr(tmp_path: Path):
    result = run_cli("scan", *DEMO, "-o", str(tmp_path / "summary.txt"))
    assert result.code == 0, result.stderr
    assert (result.stdout, result.stderr) == ("", "")
    assert "Overall score" in (tmp_path / "summary.txt").read_text(encoding="utf-8")


@pytest.mark.parametrize("framework", [(), ("--framework", "cis-kubernetes")])
def test_rerendering_saved_json_gives_the_same_html_as_the_scan(tmp_path: Path, framework):
    saved, scanned, again = tmp_path / "r.json", tmp_path / "scan.html", tmp_path / "again.html"
    result = run_cli(
        "scan", *DEMO, *framework, "-f", "json", "-o", str(saved), "-o", f"html={scanned}"
    )
    assert result.code == 0, result.stderr
    result = run_cli("report", str(saved), "-f", "html", "-o", str(again))
    assert result.code == 0, result.stderr
    assert again.read_bytes() == scanned.read_bytes()
    assert (b'id="framework-cis-kubernetes"' in again.read_bytes()) == bool(framework)


def test_report_renders_to_stdout_and_takes_a_framework(tmp_path: Path):
    saved = FIXTURES / "reports" / "example-report.json"
    result = run_cli("report", str(saved), "-f", "markdown", "--framework", "nsa-cisa")
    assert result.code == 0, result.stderr
    assert "### NSA/CISA Kubernetes Hardening Guidance (Version 1\\.2, August 2022)" in (
        result.stdout
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "r.json:1: not a zt-audit JSON report: Expecting property name"),
        ('{"schema_version": "1.0"}', "r.json: not a valid zt-audit report: document: "),
        ("[1, 2]", "r.json: not a valid zt-audit report: document: [1, 2] is not of type"),
    ],
)
def test_report_refuses_bad_input_in_one_line_naming_the_file(tmp_path, content, message):
    bad = tmp_path / "r.json"
    bad.write_text(content, encoding="utf-8")
    result = run_cli("report", str(bad), "-f", "html")
    assert result.code == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"zt-audit: error: {tmp_path}/{message}")


def test_report_names_a_missing_file(tmp_path: Path):
    result = run_cli("report", str(tmp_path / "gone.json"))
    assert result.code == 2
    assert result.stderr == (
        f"zt-audit: error: {tmp_path}/gone.json: cannot read report: No such file or directory\n"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-o", "a.json", "-o", "b.json"], "--output given 2 plain files (a.json, b.json)"),
        (["-f", "json", "-o", "same", "-o", "sarif=same"], "same: both the json and the sarif"),
        (["-o", "html="], "--output html=: give a file after 'html='"),
        (["--framework", "hipaa"], "unknown framework 'hipaa': choose one of"),
        (["-o", "html=no/such/dir/r.html"], "no/such/dir/r.html: cannot write the html report"),
    ],
)
def test_bad_output_options_fail_before_reading_input(args, message):
    result = run_cli("scan", "does-not-exist.yaml", *args)
    assert result.code == 2
    assert result.stderr.startswith(f"zt-audit: error: {message}"), result.stderr


def test_frameworks_lists_every_catalogue():
    result = run_cli("frameworks", "-f", "json")
    assert result.code == 0, result.stderr
    entries = json.loads(result.stdout)
    assert [e["key"] for e in entries][:3] == ["cis-kubernetes", "cisa-ztmm", "dod-zt"]
    assert {e["basis"] for e in entries} == {"mappings", "crosswalk"}
    table = run_cli("frameworks")
    assert "nist-800-53" in table.stdout and "domain crosswalk" in table.stdout


def test_a_file_named_like_a_format_is_written_with_a_path_prefix(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run_cli("scan", *DEMO, "-f", "json", "-o", "./json=odd")
    assert result.code == 0, result.stderr
    assert json.loads((tmp_path / "json=odd").read_text(encoding="utf-8"))["schema_version"]


def test_findings_new_since_a_baseline_are_marked_in_sarif_markdown_and_html(tmp_path: Path):
    before = tmp_path / "before.json"
    assert run_cli("scan", DEMO[0], "-f", "json", "-o", str(before)).code == 0
    sarif, html = tmp_path / "now.sarif", tmp_path / "now.html"
    result = run_cli(
        "scan", *DEMO, "--baseline", str(before), "-f", "markdown",
        "-o", f"sarif={sarif}", "-o", f"html={html}",
    )  # fmt: skip
    assert result.code == 0, result.stderr
    results = json.loads(sarif.read_text(encoding="utf-8"))["runs"][0]["results"]
    states = {
        (r["locations"][0]["logicalLocations"][0]["name"], r["baselineState"])
        for r in results
        if "baselineState" in r
    }
    # SARIF 3.27.24: "new" appears only in this run, "unchanged" in both.
    assert ("frontend", "unchanged") in states and ("frontend", "new") not in states
    assert ("cartservice", "new") in states and ("redis-cart", "new") in states
    new = sum(1 for r in results if r.get("baselineState") == "new")
    assert f"Since the baseline: **{new} new** findings, 0 fixed" in result.stdout
    assert html.read_text(encoding="utf-8").count('<span class="badge new">new</span>') == new + 1
