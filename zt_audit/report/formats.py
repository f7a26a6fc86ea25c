"""The output formats, one name each, all rendered from the report document.

Every renderer takes the JSON document (``document.build_report``) and render options,
never the scan objects, so that ``zt-audit report saved.json`` renders archived evidence
exactly as the scan that produced it did.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rich.console import Console

from zt_audit.report.frameworks import catalogue, framework_views, with_frameworks

FORMAT_NAMES = ("table", "json", "html", "sarif", "junit", "markdown")
EXTENSIONS = {
    "table": ".txt",
    "json": ".json",
    "html": ".html",
    "sarif": ".sarif",
    "junit": ".xml",
    "markdown": ".md",
}


@dataclass(frozen=True)
class RenderOptions:
    """What a user chose besides the format."""

    frameworks: tuple[str, ...] = ()  # framework keys, already validated
    max_findings: int = 5  # findings per check in the summaries (table, markdown)


def framework_keys(report: dict[str, Any], options: RenderOptions) -> tuple[str, ...]:
    """The frameworks to show: those asked for, else those a saved report already carries."""
    if options.frameworks:
        return options.frameworks
    # A report saved by another version may name frameworks this one does not ship.
    known = catalogue()
    return tuple(view["key"] for view in report.get("frameworks", []) if view["key"] in known)


def _json(report: dict[str, Any], options: RenderOptions) -> str:
    from zt_audit.report.document import render_json

    return render_json(with_frameworks(report, options.frameworks))


def _html(report: dict[str, Any], options: RenderOptions) -> str:
    from zt_audit.report.html import render_html

    return render_html(report, frameworks=framework_keys(report, options))


def _sarif(report: dict[str, Any], options: RenderOptions) -> str:
    from zt_audit.report.sarif import render_sarif

    return render_sarif(report)


def _junit(report: dict[str, Any], options: RenderOptions) -> str:
    from zt_audit.report.junit import render_junit

    return render_junit(report)


def _markdown(report: dict[str, Any], options: RenderOptions) -> str:
    from zt_audit.report.markdown import render_markdown

    # The views shown are those of today's catalogues, as in the HTML report.
    views = framework_views(report, framework_keys(report, options))
    return render_markdown({**report, "frameworks": views}, max_findings=options.max_findings)


def render_table(report: dict[str, Any], options: RenderOptions, console: Console) -> None:
    """The terminal summary, then any framework tables, on ``console``."""
    from zt_audit.report.framework_table import render_framework_tables
    from zt_audit.report.terminal import render_terminal

    render_terminal(report, console, max_findings=options.max_findings)
    render_framework_tables(report, framework_keys(report, options), console)


def _table(report: dict[str, Any], options: RenderOptions) -> str:
    """The terminal summary as plain text, as it reads in a file."""
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        width=120,
        no_color=True,
        color_system=None,
        highlight=False,
        emoji=False,
        markup=False,
        soft_wrap=True,
    )
    render_table(report, options, console)
    return buffer.getvalue()


RENDERERS: dict[str, Callable[[dict[str, Any], RenderOptions], str]] = {
    "table": _table,
    "json": _json,
    "html": _html,
    "sarif": _sarif,
    "junit": _junit,
    "markdown": _markdown,
}


def render(name: str, report: dict[str, Any], options: RenderOptions | None = None) -> str:
    """The report in format ``name`` (one of ``FORMAT_NAMES``)."""
    if name not in RENDERERS:
        raise KeyError(f"unknown report format {name!r}")
    return RENDERERS[name](report, options or RenderOptions())
