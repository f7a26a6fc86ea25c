"""Measure how long each report format takes to render, and the HTML filter in Chromium.

Usage: python benchmarks/bench_reports.py [--sizes 1000,10000] [--browser]

Each size scans a synthetic export once, then renders the report document in every
format. With --browser the HTML is opened in headless Chromium (/usr/bin/chromium) and
one filter change and one search keystroke are timed, as an auditor would feel them.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from generate import write_export

from zt_audit.engine.registry import discover
from zt_audit.inventory import load_inventory
from zt_audit.report.document import build_report
from zt_audit.report.formats import FORMAT_NAMES, RenderOptions, render
from zt_audit.report.frameworks import resolve_frameworks
from zt_audit.scan import run_scan


def report_of(objects: int, folder: Path) -> dict:
    export = write_export(objects, folder / f"export-{objects}.yaml")
    outcome = run_scan(load_inventory([str(export)]), discover())
    return build_report(outcome)


def time_formats(report: dict) -> dict[str, tuple[float, int]]:
    """Seconds and bytes per format, frameworks included."""
    options = RenderOptions(frameworks=resolve_frameworks(["all"]))
    figures = {}
    for name in FORMAT_NAMES:
        start = time.perf_counter()
        text = render(name, report, options)
        figures[name] = (time.perf_counter() - start, len(text.encode("utf-8")))
    return figures


def time_filters(html: str, folder: Path) -> tuple[float, float]:
    """Milliseconds for one status filter change and one search keystroke."""
    from playwright.sync_api import sync_playwright

    page_file = folder / "report.html"
    page_file.write_text(html, encoding="utf-8")
    with sync_playwright() as driver:
        context = driver.chromium.launch_persistent_context(
            str(folder / "profile"),
            executable_path="/usr/bin/chromium",
            args=["--headless", "--no-sandbox", "--disable-gpu"],
        )
        page = context.new_page()
        page.goto(page_file.as_uri())
        # Timed inside the page, up to the next layout, so the driver's round trip is left out.
        timings = [
            page.evaluate(
                """(change) => {
                    const start = performance.now();
                    const control = document.getElementById(change.id);
                    control.value = change.value;
                    control.dispatchEvent(new Event(change.event));
                    document.body.getBoundingClientRect();
                    return performance.now() - start;
                }""",
                change,
            )
            for change in (
                {"id": "filter-status", "value": "fail", "event": "change"},
                {"id": "filter-search", "value": "a", "event": "input"},
            )
        ]
        context.close()
    return timings[0], timings[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--browser", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for size in (int(s) for s in args.sizes.split(",")):
            report = report_of(size, folder)
            findings = sum(len(c["findings"]) for c in report["checks"])
            print(f"{size} objects, {findings} findings")
            for name, (seconds, size_bytes) in time_formats(report).items():
                print(f"  {name:<9} {seconds:7.3f} s  {size_bytes / 1024:9.0f} KiB")
            if args.browser:
                html = render("html", report, RenderOptions())
                status, search = time_filters(html, folder)
                print(f"  browser   status filter {status:.0f} ms, search {search:.0f} ms")


if __name__ == "__main__":
    main()
