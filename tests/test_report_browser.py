"""The HTML report in a real headless Chromium: offline, inert, filterable, printable.

Needs Debian's chromium (/usr/bin/chromium, or ZT_AUDIT_CHROMIUM) and the playwright
package, which drives it without downloading a browser of its own. Without them the tests
skip, saying why; with ZT_AUDIT_REQUIRE_BROWSER=1 (as in CI) they fail instead.
"""

from __future__ import annotations

import copy
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from conftest import FIXTURES, scan_files

from zt_audit.report.document import build_report
from zt_audit.report.frameworks import resolve_frameworks
from zt_audit.report.html import render_html
from zt_audit.report.saved import load_report, validate_report
from zt_audit.report.views import finding_severity

CHROMIUM = Path(os.environ.get("ZT_AUDIT_CHROMIUM", "/usr/bin/chromium"))
REQUIRED = os.environ.get("ZT_AUDIT_REQUIRE_BROWSER") == "1"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PAYLOADS = (
    "<script>window.__ztPwned = 5</script>",
    '<img src=x onerror="window.__ztPwned = 6">',
    '"><svg onload="window.__ztPwned = 7">',
    "</script><script>window.__ztPwned = 8</script>",
    "</style><style>body{display:none}</style>",
)


def _missing() -> list[str]:
    problems = []
    if not CHROMIUM.is_file():
        problems.append(f"{CHROMIUM} is missing (apt-get install -y chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        problems.append("the playwright package is missing (pip install -e '.[test]')")
    return problems


@dataclass
class Page:
    """A loaded report page and everything it tried to do while loading."""

    page: Any
    url: str
    console_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def visible(self, selector: str) -> list[Any]:
        return [e for e in self.page.query_selector_all(selector) if e.is_visible()]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    problems = _missing()
    if problems:
        reason = "browser tests need Chromium and Playwright: " + "; ".join(problems)
        if REQUIRED:
            pytest.fail(f"{reason} (ZT_AUDIT_REQUIRE_BROWSER=1)")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as profile, sync_playwright() as driver:
        # A fresh profile each run; Playwright takes it as an argument, not as a flag.
        context = driver.chromium.launch_persistent_context(
            profile, executable_path=str(CHROMIUM), args=FLAGS, headless=True
        )
        yield context
        context.close()


@pytest.fixture
def open_report(browser, tmp_path: Path):
    pages = []

    def load(html: str) -> Page:
        path = tmp_path / f"report-{len(pages)}.html"
        path.write_text(html, encoding="utf-8")
        page = browser.new_page()
        loaded = Page(page, path.as_uri())
        page.on("console", lambda m: m.type == "error" and loaded.console_errors.append(m.text))
        page.on("pageerror", lambda error: loaded.console_errors.append(str(error)))
        page.on("request", lambda request: loaded.requests.append(request.url))
        page.goto(loaded.url, wait_until="load")
        pages.append(page)
        return loaded

    yield load
    for page in pages:
        page.close()


@pytest.fixture(scope="module")
def example() -> dict:
    return load_report(FIXTURES / "reports" / "example-report.json")


def _hostile_report() -> dict:
    """A real scan of hostile names, then payloads in every free-text field of the report."""
    report = copy.deepcopy(
        build_report(scan_files(FIXTURES / "reports" / "manifests" / "hostile.yaml"))
    )
    payload = " ".join(PAYLOADS)
    report["source"]["description"] += payload
    for check in report["checks"]:
        for key in ("title", "reason", "remediation", "description"):
            check[key] = f"{check.get(key, '')} {payload}"
        check["hint"] = payload
        check["references"] = ["javascript:window.__ztPwned=9", *check["references"]]
        for finding in check["findings"]:
            finding["message"] += payload
            finding["field"] = payload
            finding["remediation"] = payload
            if finding["location"]:
                finding["location"]["file"] += payload
    validate_report(report, "hostile report")
    return report


def test_hostile_text_stays_inert_and_nothing_loads(open_report):
    loaded = open_report(render_html(_hostile_report(), frameworks=resolve_frameworks(["all"])))
    page = loaded.page
    assert loaded.console_errors == []
    assert loaded.requests == [loaded.url]
    assert page.evaluate("window.__ztPwned") is None
    assert page.evaluate("document.scripts.length") == 1
    assert page.query_selector_all("img, iframe, object, embed, svg[onload]") == []
    body = page.inner_text("body")
    assert "hostile/<script>window.__ztPwned = 1</script>" in body
    assert '<img src=x onerror="window.__ztPwned = 6">' in body
    assert page.is_visible("#checks")  # the injected style did not hide the page


def test_the_example_loads_offline_without_errors(open_report, example):
    loaded = open_report(render_html(example, frameworks=("nist-800-53", "pci-dss")))
    assert loaded.console_errors == []
    assert loaded.requests == [loaded.url]
    count = loaded.page.text_content("#filter-count")
    findings = sum(len(c["findings"]) for c in example["checks"])
    checks = len(example["checks"])
    assert count == f"{checks} of {checks} checks, {findings} of {findings} findings shown"
    assert len(loaded.visible("[data-check]")) == len(example["checks"])
    assert len(loaded.page.query_selector_all("#framework-pci-dss tbody tr")) == 30


def _expected_ids(example: dict, keep) -> list[str]:
    return sorted(c["id"] for c in example["checks"] if keep(c))


def _shown_ids(loaded: Page) -> list[str]:
    return sorted(e.get_attribute("id")[len("check-") :] for e in loaded.visible("[data-check]"))


def test_filters_by_status_pillar_and_severity(open_report, example):
    loaded = open_report(render_html(example))
    page = loaded.page

    page.select_option("#filter-status", "fail")
    assert _shown_ids(loaded) == _expected_ids(example, lambda c: c["status"] == "fail")

    page.select_option("#filter-pillar", "networks")
    assert _shown_ids(loaded) == _expected_ids(
        example, lambda c: c["status"] == "fail" and c["pillar"] == "networks"
    )
    assert not page.is_visible("[data-pillar-group='applications']")

    page.select_option("#filter-pillar", "")
    page.select_option("#filter-status", "")
    page.select_option("#filter-severity", "critical")
    rows = loaded.visible("[data-finding]")
    assert rows and {r.get_attribute("data-severity") for r in rows} == {"critical"}

    def has_critical(check: dict) -> bool:
        if check["findings"]:
            return any(finding_severity(f, check) == "critical" for f in check["findings"])
        return check["effective_severity"] == "critical"

    assert _shown_ids(loaded) == _expected_ids(example, has_critical)


def test_search_narrows_findings_and_clearing_restores_them(open_report, example):
    loaded = open_report(render_html(example))
    page = loaded.page
    page.fill("#filter-search", "batch-agent")
    rows = loaded.visible("[data-finding]")
    assert rows and all("batch-agent" in r.inner_text() for r in rows)
    expected = sum(
        1 for c in example["checks"] for f in c["findings"]
        if "batch-agent" in (f["object"] or {}).get("name", "")
        or "batch-agent" in f["message"]
    )  # fmt: skip
    assert len(rows) == expected
    assert 'Filtered view: search = "batch-agent"' in page.text_content("#filter-state")
    page.fill("#filter-search", "")
    assert len(loaded.visible("[data-check]")) == len(example["checks"])


def test_prints_without_the_filter_controls(open_report, example):
    loaded = open_report(render_html(example))
    page = loaded.page
    page.emulate_media(media="print")
    assert not page.is_visible("#filters")
    assert page.is_visible("#pillars") and page.is_visible("#frameworks")
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF") and len(pdf) > 20_000
    assert loaded.requests == [loaded.url]
