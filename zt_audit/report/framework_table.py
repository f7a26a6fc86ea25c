"""Framework views in the terminal summary, rendered with rich."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from zt_audit.report.frameworks import DISCLAIMER, STATE_LABEL, STATES, framework_views

STATE_STYLE = {
    "evidenced": "green",
    "gap": "bold red",
    "not_observable": "magenta",
    "not_applicable": "dim",
    "not_covered": "dim",
}


def render_framework_tables(
    report: dict[str, Any], keys: tuple[str, ...], console: Console
) -> None:
    """One per-control table for each framework in ``keys``."""
    for view in framework_views(report, keys):
        console.print(
            Text(
                f"\n{view['title']} ({view['edition']}): controls this scan supports", style="bold"
            )
        )
        table = Table(pad_edge=False)
        for column in ("Control", "Title", "State", "Supporting checks"):
            table.add_column(column)
        for control in view["controls"]:
            checks = ", ".join(f"{c['id']} ({c['status']})" for c in control["checks"])
            table.add_row(
                control["id"],
                control["title"],
                Text(STATE_LABEL[control["state"]], style=STATE_STYLE[control["state"]]),
                checks or "—",
            )
        console.print(table)
        summary = view["summary"]
        console.print(Text(", ".join(f"{summary[s]} {STATE_LABEL[s]}" for s in STATES)))
    if keys:
        console.print(Text(DISCLAIMER, style="dim"))
