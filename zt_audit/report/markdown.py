"""A compact Markdown summary for a pull-request comment.

Score, stage, the pillar table and the worst failing checks with their file and line.
Everything that came from the input is escaped: a pull-request comment renders Markdown
and some HTML, and object names or messages are attacker-controlled text.
"""

from __future__ import annotations

import re
from typing import Any

from zt_audit.report.frameworks import STATE_LABEL, STATES
from zt_audit.report.views import (
    STATUS_LABEL,
    is_new,
    new_findings,
    object_label,
    percent,
    problem_checks,
    score_text,
    sentence,
    unobserved_checks,
    where,
)

MAX_CHECKS = 10
# Every ASCII punctuation character may be backslash-escaped in CommonMark.
_PUNCTUATION = re.compile(r"([\\`*_{}\[\]()<>#!|~&:.@])")


def text(value: Any) -> str:
    """Cluster text as inert Markdown: one line, every punctuation character escaped."""
    return _PUNCTUATION.sub(r"\\\1", " ".join(str(value).split()))


def code(value: Any) -> str:
    """Cluster text as an inline code span, fenced longer than any backtick run in it."""
    flat = " ".join(str(value).split())
    longest = max((len(run) for run in re.findall(r"`+", flat)), default=0)
    fence = "`" * (longest + 1)
    return f"{fence} {flat} {fence}"


def render_markdown(report: dict[str, Any], *, max_findings: int = 5) -> str:
    lines = _headline(report)
    lines += ["", *_pillar_table(report)]
    lines += ["", *_problems(report, max_findings)]
    if report.get("waivers"):
        lines += ["", *_waivers(report["waivers"])]
    unobserved = unobserved_checks(report)
    if unobserved:
        lines += ["", *_unobserved(unobserved)]
    for view in report.get("frameworks", []):
        lines += ["", *_framework(view)]
    lines += [
        "",
        f"<sub>zt-audit {text(report['tool']['version'])}. A Kubernetes-evidenced maturity "
        "estimate for this input, not an organisational ZTMM assessment.</sub>",
    ]
    return "\n".join(lines) + "\n"


def _headline(report: dict[str, Any]) -> list[str]:
    score, inventory = report["score"], report["inventory"]
    if score["overall"] is None:
        verdict = "**No overall score**: no pillar has enough observable evidence"
    else:
        verdict = (
            f"**Score {score_text(score['overall'])} / 100** · "
            f"**Stage {score['stage'].capitalize()}** · "
            f"evidence coverage {percent(score['coverage'])}"
        )
    summary = report["summary"]
    counts = ", ".join(
        f"{summary[s]} {STATUS_LABEL[s].lower()}"
        for s in ("fail", "warn", "pass", "not_observable", "error")
        if summary[s]
    )
    lines = [
        "## zt-audit zero-trust posture",
        "",
        verdict,
        "",
        f"{inventory['objects']} objects, {report['scope']['workloads_in_scope']} workloads "
        f"in scope. Checks: {counts or 'none ran'}.",
    ]
    baseline = report.get("baseline")
    if baseline:
        lines += [
            "",
            f"Since the baseline: **{baseline['new']} new** findings, {baseline['fixed']} "
            f"fixed, {baseline['unchanged']} unchanged.",
        ]
    return lines


def _pillar_table(report: dict[str, Any]) -> list[str]:
    lines = [
        "| Pillar | Score | Stage | Evidence | Pass | Warn | Fail | Not observable |",
        "|---|---:|---|---:|---:|---:|---:|---:|",
    ]
    score = report["score"]
    for key, area in score["pillars"].items():
        counts = area["counts"]
        stage = "insufficient evidence" if area["insufficient_evidence"] else area["stage_label"]
        marker = "" if key in score["in_scope_pillars"] else " \\*"
        lines.append(
            f"| {text(area['title'])}{marker} | {score_text(area['score'])} | {text(stage)} | "
            f"{percent(area['coverage'])} | {counts.get('pass', 0)} | {counts.get('warn', 0)} | "
            f"{counts.get('fail', 0)} | {counts.get('not_observable', 0)} |"
        )
    lines.append("")
    lines.append("\\* left out of the overall score and stage: under 30% of its evidence observed")
    return lines


def _problems(report: dict[str, Any], max_findings: int) -> list[str]:
    problems = problem_checks(report)
    if not problems:
        return ["### Failing checks", "", "None: no check failed or warned."]
    lines = [f"### Failing and warning checks ({len(problems)}), worst first", ""]
    new = new_findings(report)
    for check in problems[:MAX_CHECKS]:
        lines.append(
            f"- **{STATUS_LABEL[check['status']]}** {text(check['id'])} "
            f"({check['effective_severity']}) {text(check['title'])}: {text(check['reason'])}"
            + (" *(waived)*" if check.get("waived") else "")
        )
        for finding in check["findings"][:max_findings]:
            place = where(finding["location"]) or object_label(finding["object"])
            prefix = f"{code(place)} " if place else ""
            mark = "**new** " if is_new(new, check, finding) else ""
            if "waived_by" in finding:
                mark += f"*waived \\#{finding['waived_by'] + 1}* "
            lines.append(f"  - {mark}{prefix}{text(finding['message'])}")
        hidden = len(check["findings"]) - max_findings
        if hidden > 0:
            lines.append(f"  - and {hidden} more in the full report")
    if len(problems) > MAX_CHECKS:
        lines.append(f"- and {len(problems) - MAX_CHECKS} more checks in the full report")
    return lines


def _waivers(waivers: list[dict[str, Any]]) -> list[str]:
    lines = [
        "### Waivers",
        "",
        "Accepted risks: they change what fails a CI gate, never a status or the score.",
        "",
        "| # | Check | Objects | Status | Covers | Owner | Until | Reason |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for number, waiver in enumerate(waivers, start=1):
        objects = ", ".join(code(o) for o in waiver["objects"]) or "the whole check"
        status = f"**{waiver['status']}**" if waiver["status"] != "active" else "active"
        lines.append(
            f"| {number} | {text(waiver['check'])} | {objects} | {status} | {waiver['covers']} "
            f"| {text(waiver['owner'])} | {text(waiver['expires'])} | {text(waiver['reason'])} |"
        )
    return lines


def _unobserved(checks: list[dict[str, Any]]) -> list[str]:
    lines = [
        f"<details><summary>Not observable ({len(checks)}): never counted as a pass</summary>",
        "",
    ]
    for check in checks:
        line = f"- {text(check['id'])} {text(check['title'])}: {text(sentence(check['reason']))}"
        if check["hint"]:
            line += f" To resolve: {text(check['hint'])}"
        lines.append(line)
    return [*lines, "", "</details>"]


def _framework(view: dict[str, Any]) -> list[str]:
    summary = view["summary"]
    counts = " · ".join(f"{summary[state]} {STATE_LABEL[state]}" for state in STATES)
    gaps = [control for control in view["controls"] if control["state"] == "gap"]
    lines = [f"### {text(view['title'])} ({text(view['edition'])}): what this scan supports", ""]
    lines.append(counts)
    if gaps:
        named = [f"{text(control['id'])} ({_failing(control)})" for control in gaps]
        lines += ["", "Gaps: " + ", ".join(named)]
    return lines


def _failing(control: dict[str, Any]) -> str:
    return ", ".join(
        text(check["id"]) for check in control["checks"] if check["status"] in ("fail", "warn")
    )
