"""The terminal summary, rendered with rich from the report document."""

from __future__ import annotations

from typing import Any

from rich.console import Console, Group
from rich.markup import escape
from rich.table import Table
from rich.text import Text

STATUS_STYLE = {
    "pass": "green",
    "fail": "bold red",
    "warn": "yellow",
    "not_observable": "magenta",
    "not_applicable": "dim",
    "error": "bold magenta",
}
STATUS_LABEL = {
    "pass": "PASS",
    "fail": "FAIL",
    "warn": "WARN",
    "not_observable": "N/O",
    "not_applicable": "N/A",
    "error": "ERROR",
}
SEVERITY_RANK = {"critical": 3, "high": 2, "medium": 1, "low": 0}
WAIVED_STYLE = "blue"
WAIVER_STATUS_STYLE = {"active": "blue", "expired": "bold red", "unused": "yellow"}
STAGE_STYLE = {
    "traditional": "red",
    "initial": "yellow",
    "advanced": "cyan",
    "optimal": "green",
}


def _score(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def _stage_text(area: dict[str, Any]) -> Text:
    style = "dim" if area["insufficient_evidence"] else STAGE_STYLE[area["stage"]]
    return Text(area["stage_label"], style=style)


def render_terminal(report: dict[str, Any], console: Console, *, max_findings: int = 5) -> None:
    console.print(_header(report))
    console.print(_pillar_table(report))
    console.print(_problem_checks(report, max_findings))
    if report.get("waivers"):
        console.print(_waivers(report["waivers"]))
    unobservable = [c for c in report["checks"] if c["status"] in ("not_observable", "error")]
    if unobservable:
        console.print(_unobservable(unobservable))
    skipped = report["inventory"]["warnings"]
    if skipped:
        console.print(Text(f"\nInput warnings ({len(skipped)})", style="bold"))
        for problem in skipped[:max_findings]:
            console.print(Text(f"  {_place(problem)}: {problem['message']}", style="dim"))
        if len(skipped) > max_findings:
            more = len(skipped) - max_findings
            console.print(Text(f"  … and {more} more (use --max-findings or -f json)", style="dim"))
    errors = report["inventory"]["errors"]
    if errors:
        console.print(Text(f"\nInput errors ({len(errors)})", style="bold red"))
        for problem in errors:
            console.print(Text(f"  {_place(problem)}: {problem['message']}"))


def _place(problem: dict[str, Any]) -> str:
    return f"{problem['source']}:{problem['line']}" if problem["line"] else problem["source"]


def _header(report: dict[str, Any]) -> Group:
    score, inventory = report["score"], report["inventory"]
    title = Text.assemble(
        ("zt-audit ", "bold"),
        report["tool"]["version"],
        " · ",
        report["source"]["description"],
    )
    counts = Text(
        f"{inventory['objects']} objects, {report['scope']['workloads_in_scope']} workloads "
        f"in scope, {len(inventory['namespaces'])} namespaces"
    )
    if score["overall"] is None:
        headline = Text(
            "Overall: no score — no pillar has enough observable evidence", style="bold magenta"
        )
    else:
        stage = score["stage"]
        headline = Text.assemble(
            ("Overall score ", "bold"),
            (f"{score['overall']:.1f}", "bold"),
            " / 100   ",
            ("Stage ", "bold"),
            (stage.capitalize(), f"bold {STAGE_STYLE[stage]}"),
            "   Evidence coverage ",
            (_percent(score["coverage"]), "bold"),
        )
    banner = Text(
        "A Kubernetes-evidenced maturity estimate for this input, not an organisational "
        "ZTMM assessment.",
        style="dim",
    )
    return Group(title, counts, headline, banner)


def _pillar_table(report: dict[str, Any]) -> Table:
    table = Table(title=None, show_lines=False, expand=False, pad_edge=False)
    table.add_column("Pillar / capability")
    table.add_column("Score", justify="right")
    table.add_column("Stage")
    table.add_column("Evidence", justify="right")
    for label in ("pass", "warn", "fail", "not_observable", "not_applicable"):
        table.add_column(STATUS_LABEL[label], justify="right", style=STATUS_STYLE[label])
    table.add_column("Next-stage blockers")
    score = report["score"]
    for group in ("pillars", "cross_cutting"):
        for key, area in score[group].items():
            counts = area["counts"]
            if group == "cross_cutting" and key == "visibility":
                table.add_section()
            table.add_row(
                area["title"]
                + (" *" if key not in score["in_scope_pillars"] and group == "pillars" else ""),
                _score(area["score"]),
                _stage_text(area),
                _percent(area["coverage"]),
                *(
                    str(counts[s])
                    for s in ("pass", "warn", "fail", "not_observable", "not_applicable")
                ),
                ", ".join(area["next_stage_blockers"][:4]),
            )
    table.caption = "* left out of the overall score and stage: under 30% of its evidence observed"
    return table


def _sort_key(check: dict[str, Any]) -> tuple[int, int, str]:
    return (
        0 if check["status"] == "fail" else 1,
        -SEVERITY_RANK[check["effective_severity"]],
        check["id"],
    )


def _problem_checks(report: dict[str, Any], max_findings: int) -> Group:
    problems = sorted(
        (c for c in report["checks"] if c["status"] in ("fail", "warn")), key=_sort_key
    )
    lines: list[Text] = [Text("\nFailing and warning checks, worst first", style="bold")]
    if not problems:
        lines.append(Text("  none", style="green"))
    for check in problems:
        lines.append(
            Text.assemble(
                "  ",
                (f"{STATUS_LABEL[check['status']]:<5}", STATUS_STYLE[check["status"]]),
                f" {check['id']:<8} ",
                (f"{check['effective_severity']:<8}", "bold"),
                f" {check['title']} — {check['reason']}",
                (" (waived)" if check.get("waived") else "", WAIVED_STYLE),
            )
        )
        findings = check["findings"]
        for finding in findings[:max_findings]:
            lines.append(_finding_line(finding))
        if len(findings) > max_findings:
            lines.append(
                Text(
                    f"      … and {len(findings) - max_findings} more (use --max-findings or "
                    "-f json)",
                    style="dim",
                )
            )
    return Group(*lines)


def _finding_line(finding: dict[str, Any]) -> Text:
    location = finding["location"]
    where = ""
    if location:
        where = f"{location['file']}:{location['line']}" if location["line"] else location["file"]
    text = Text("      - ")
    if "waived_by" in finding:
        text.append(f"[waived #{finding['waived_by'] + 1}] ", style=WAIVED_STYLE)
    if where:
        text.append(where, style="cyan")
        text.append(" ")
    text.append(finding["message"])
    if finding["field"]:
        text.append(f" [{finding['field']}]", style="dim")
    return text


def _waivers(waivers: list[dict[str, Any]]) -> Group:
    lines = [Text("\nWaivers (they change CI gates, never the score)", style="bold")]
    for number, waiver in enumerate(waivers, start=1):
        scope = ", ".join(waiver["objects"]) or "the whole check"
        lines.append(
            Text.assemble(
                f"  #{number} {waiver['check']:<8} ",
                (f"{waiver['status']:<8}", WAIVER_STATUS_STYLE[waiver["status"]]),
                f" covers {waiver['covers']}: {scope} — {waiver['reason']} "
                f"(owner {waiver['owner']}, until {waiver['expires']})",
            )
        )
    return Group(*lines)


def _unobservable(checks: list[dict[str, Any]]) -> Group:
    lines = [Text("\nNot observable (never counted as pass)", style="bold magenta")]
    for check in checks:
        line = Text(f"  {check['id']:<8} {check['title']}: {check['reason']}")
        if check["hint"]:
            line.append(f" — {check['hint']}", style="dim")
        lines.append(line)
    return Group(*lines)


__all__ = ["escape", "render_terminal"]
