"""``zt-audit report``: render a saved JSON report again, and ``zt-audit frameworks``."""

from __future__ import annotations

from pathlib import Path

from rich.table import Table
from rich.text import Text

from zt_audit.cli.environment import Environment
from zt_audit.cli.outputs import plan_outputs, write_outputs
from zt_audit.exitcodes import ExitStatus
from zt_audit.report.formats import RenderOptions
from zt_audit.report.frameworks import catalogue, resolve_frameworks
from zt_audit.report.saved import load_report


def run_report_command(
    source: Path,
    output_format: str,
    outputs: list[str] | None,
    frameworks: list[str] | None,
    max_findings: int,
    env: Environment,
) -> int:
    """Re-render ``source`` without rescanning: archived evidence, today's formats."""
    targets = plan_outputs(output_format, outputs)
    options = RenderOptions(
        frameworks=resolve_frameworks(frameworks or []), max_findings=max_findings
    )
    report = load_report(source)
    write_outputs(report, targets, options, env)
    return ExitStatus.OK


def print_frameworks(output_format: str, env: Environment) -> int:
    """List the framework catalogues that ``--framework`` accepts."""
    frameworks = list(catalogue().values())
    if output_format == "json":
        import json

        entries = [
            {
                "key": f.key,
                "mapping_key": f.mapping_key,
                "title": f.title,
                "edition": f.edition,
                "basis": f.basis,
                "controls": len(f.controls),
                "url": f.url,
            }
            for f in frameworks
        ]
        env.stdout.write(json.dumps(entries, indent=2) + "\n")
        return ExitStatus.OK
    table = Table(pad_edge=False)
    for column in ("Name", "Framework", "Edition", "Controls", "Checks tied by"):
        table.add_column(column)
    for framework in frameworks:
        basis = "domain crosswalk" if framework.basis == "crosswalk" else "check mappings"
        table.add_row(
            framework.key,
            framework.title,
            framework.edition,
            str(len(framework.controls)),
            basis,
        )
    env.out.print(table)
    env.out.print(
        Text(
            "Use --framework NAME with 'zt-audit scan' or 'zt-audit report' for a per-control "
            "view: which controls the scan's evidence supports, as evidence for an assessor, "
            "never a statement that a control is met."
        )
    )
    return ExitStatus.OK
