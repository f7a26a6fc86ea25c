"""The HTML report: one self-contained file for auditors, rendered with jinja2.

Templates, styles and the small filter script live in ``reports/templates``. Every value
from the report is escaped by jinja2's autoescape; only our own stylesheet and script are
inserted verbatim, and a Content-Security-Policy allows exactly those two by hash, so the
page loads nothing from anywhere and runs nothing else.
"""

from __future__ import annotations

import base64
import hashlib
from functools import cache
from typing import Any

import jinja2
from markupsafe import Markup

from zt_audit.engine.definitions import builtin_data_dir
from zt_audit.report.frameworks import (
    DISCLAIMER,
    STATE_LABEL,
    STATES,
    catalogue,
    framework_view,
    framework_views,
)
from zt_audit.report.views import (
    PILLAR_ORDER,
    SEVERITY_ORDER,
    STATUS_LABEL,
    STATUS_ORDER,
    checks_by_pillar,
    finding_severity,
    is_new,
    new_findings,
    object_label,
    percent,
    score_text,
    unobserved_checks,
    where,
)

STAGES = ("traditional", "initial", "advanced", "optimal")


@cache
def _environment() -> jinja2.Environment:
    folder = builtin_data_dir("templates")
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(folder)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _asset(name: str) -> tuple[Markup, str]:
    """Our own stylesheet or script, verbatim, and its CSP hash source."""
    text = (builtin_data_dir("templates") / name).read_text(encoding="utf-8")
    digest = base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")
    return Markup(text), f"'sha256-{digest}'"


def render_html(report: dict[str, Any], *, frameworks: tuple[str, ...] = ()) -> str:
    """The report page; ``frameworks`` adds their per-control tables."""
    style, style_hash = _asset("report.css")
    script, script_hash = _asset("report.js")
    csp = (
        f"default-src 'none'; style-src {style_hash}; script-src {script_hash}; "
        "img-src 'none'; base-uri 'none'; form-action 'none'"
    )
    template = _environment().get_template("report.html.j2")
    return template.render(
        report=report,
        style=style,
        script=script,
        csp=csp,
        areas=_areas(report),
        groups=[(p, c) for p, c in checks_by_pillar(report) if c],
        unobserved=unobserved_checks(report),
        framework_summaries=[framework_view(report, f) for f in catalogue().values()],
        framework_details=framework_views(report, frameworks),
        finding_count=sum(len(c["findings"]) for c in report["checks"]),
        pillar_titles={key: area["title"] for key, area in report["score"]["pillars"].items()},
        pillar_order=PILLAR_ORDER,
        severity_order=SEVERITY_ORDER,
        status_order=STATUS_ORDER,
        status_label=STATUS_LABEL,
        state_label=STATE_LABEL,
        states=STATES,
        stages=STAGES,
        disclaimer=DISCLAIMER,
        where=where,
        object_label=object_label,
        finding_severity=finding_severity,
        new=new_findings(report),
        is_new=is_new,
        percent=percent,
        score_text=score_text,
    )


def _areas(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Pillars then cross-cutting capabilities, with the figures their charts draw."""
    score = report["score"]
    areas = []
    for group in ("pillars", "cross_cutting"):
        for key, area in score[group].items():
            areas.append(
                {
                    "key": key,
                    "group": group,
                    "area": area,
                    "in_scope": group == "pillars" and key in score["in_scope_pillars"],
                    "score_width": round(2 * (area["score"] or 0), 1),
                    "coverage_width": round(200 * (area["coverage"] or 0), 1),
                    "stage_index": STAGES.index(area["stage"]),
                }
            )
    return areas
