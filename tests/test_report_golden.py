"""Golden files: every format rendered from the saved report of the bundled example.

The saved report (tests/fixtures/reports/example-report.json) is a scan of examples/cluster
with its settings, its version and timestamp normalised, so that new checks or a version
bump do not move the goldens; only a change of a renderer does. To accept an intended
change, run with ZT_AUDIT_UPDATE_GOLDEN=1 and review the diff. To rescan the example
first, also set ZT_AUDIT_REFRESH_EXAMPLE=1.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from conftest import FIXTURES, run_cli

from zt_audit.report.formats import RenderOptions, render
from zt_audit.report.saved import load_report

REPORTS = FIXTURES / "reports"
EXAMPLE = REPORTS / "example-report.json"
GOLDEN = REPORTS / "golden"
ROOT = Path(__file__).resolve().parents[1]
UPDATE = os.environ.get("ZT_AUDIT_UPDATE_GOLDEN") == "1"

GOLDEN_FILES = {
    "table": "example.txt",
    "html": "example.html",
    "sarif": "example.sarif",
    "junit": "example.junit.xml",
    "markdown": "example.md",
}


def normalise(report: dict) -> dict:
    """Fixed version and time, so that goldens survive releases and reruns."""
    return {
        **report,
        "tool": {**report["tool"], "version": "0.0.0+golden"},
        "generated_at": "2000-01-01T00:00:00Z",
    }


def _refresh_example(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    result = run_cli(
        "scan", "examples/cluster", "--config", "examples/zt-audit.yaml",
        "--framework", "cis-kubernetes", "-f", "json",
    )  # fmt: skip
    assert result.code in (0, 1), result.stderr
    report = normalise(json.loads(result.stdout))
    EXAMPLE.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


@pytest.fixture(scope="module")
def example() -> dict:
    return load_report(EXAMPLE)


@pytest.mark.parametrize("name", sorted([*GOLDEN_FILES, "json"]))
def test_each_format_matches_its_golden_file(
    name: str, example: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    if UPDATE and os.environ.get("ZT_AUDIT_REFRESH_EXAMPLE") == "1" and name == "html":
        _refresh_example(monkeypatch)
        example = load_report(EXAMPLE)
    rendered = render(name, example, RenderOptions())
    # The JSON golden is the saved report itself: rendering it again changes nothing.
    golden = EXAMPLE if name == "json" else GOLDEN / GOLDEN_FILES[name]
    if UPDATE:
        golden.write_text(rendered, encoding="utf-8", newline="\n")
    assert rendered == golden.read_text(encoding="utf-8"), (
        f"{golden.name} differs; if the change is intended, rerun with ZT_AUDIT_UPDATE_GOLDEN=1"
    )


def test_goldens_carry_no_machine_paths_timestamps_or_real_versions() -> None:
    from zt_audit import __version__

    for golden in sorted(GOLDEN.iterdir()):
        text = golden.read_text(encoding="utf-8")
        assert "/work/" not in text and "/tmp/" not in text, golden.name
        assert f"zt-audit {__version__}" not in text, golden.name
