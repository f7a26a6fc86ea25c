"""``zt-audit checks`` and ``zt-audit explain-scoring``."""

from __future__ import annotations

import json

from rich.table import Table
from rich.text import Text

from zt_audit.cli.environment import Environment
from zt_audit.engine.model import Check
from zt_audit.engine.registry import Registry
from zt_audit.exitcodes import ExitStatus
from zt_audit.report.document import spec_entry
from zt_audit.scoring.maturity import (
    MIN_COVERAGE,
    MIN_EVIDENCE_BASE,
    MIN_OBSERVED,
    SECONDARY_FACTOR,
    THRESHOLDS,
)

FRAMEWORK_TITLES = {
    "nist_800_207": "NIST SP 800-207 tenets",
    "cisa_ztmm": "CISA ZTMM v2 functions",
    "nist_800_53": "NIST SP 800-53 rev5",
    "cis_kubernetes": "CIS Kubernetes Benchmark v1.10",
    "nsa_cisa": "NSA/CISA Kubernetes Hardening Guidance",
    "dod_zt": "DoD ZT capabilities",
}


def print_catalogue(registry: Registry, output_format: str, env: Environment) -> int:
    if output_format == "json":
        entries = [
            {**spec_entry(c.spec), "logic": c.spec.logic, "origin": c.origin} for c in registry
        ]
        env.stdout.write(json.dumps(entries, indent=2) + "\n")
        return ExitStatus.OK
    if output_format == "markdown":
        env.stdout.write(markdown_catalogue(registry))
        return ExitStatus.OK
    table = Table(pad_edge=False)
    for column in ("ID", "Pillar", "Severity", "Stage", "Logic", "Title"):
        table.add_column(column)
    for check in registry:
        spec = check.spec
        stage = spec.stage.title + (f" ({spec.upper_stage.title})" if spec.upper_stage else "")
        table.add_row(
            spec.id, spec.pillar.value, spec.severity.value, stage, spec.logic, spec.title
        )
    env.out.print(table)
    env.out.print(Text(f"{len(registry)} checks. 'zt-audit checks show ID' explains one."))
    return ExitStatus.OK


def markdown_catalogue(registry: Registry) -> str:
    """The catalogue as a Markdown table, as the README carries it."""
    lines = [
        "| ID | Title | Pillar | Severity | Stage | Logic |",
        "|---|---|---|---|---|---|",
    ]
    for check in registry:
        spec = check.spec
        stage = spec.stage.title + (f" ({spec.upper_stage.title})" if spec.upper_stage else "")
        title = spec.title.replace("|", "\\|")
        lines.append(
            f"| {spec.id} | {title} | {spec.pillar.title} | {spec.severity.value} | {stage} "
            f"| {spec.logic} |"
        )
    return "\n".join(lines) + "\n"


def print_check(check: Check, env: Environment) -> int:
    spec = check.spec
    console = env.out
    console.print(Text(f"{spec.id}  {spec.title}", style="bold"))
    secondary = ", ".join(p.value for p in spec.secondary_pillars) or "none"
    cross = ", ".join(c.value for c in spec.cross_cutting) or "none"
    stage = spec.stage.title + (f", then {spec.upper_stage.title}" if spec.upper_stage else "")
    console.print(
        Text(
            f"Pillar: {spec.pillar.title} (secondary: {secondary}; cross-cutting: {cross})\n"
            f"Severity: {spec.severity.value} (weight {spec.severity.weight})   "
            f"Stage evidenced: {stage}   Logic: {spec.logic}\n"
            f"Defined in: {spec.definition.name if spec.definition else check.origin}"
        )
    )
    for heading, body in (
        ("What it checks", spec.description),
        ("Why it matters", spec.rationale),
        ("How to fix", spec.remediation),
    ):
        console.print(Text(f"\n{heading}", style="bold"))
        console.print(Text(body))
    if spec.mappings:
        console.print(Text("\nFramework mappings (supports, not compliance)", style="bold"))
        for key, values in spec.mappings.items():
            console.print(Text(f"  {FRAMEWORK_TITLES.get(key, key)}: {', '.join(values)}"))
    if spec.references:
        console.print(Text("\nReferences", style="bold"))
        for reference in spec.references:
            console.print(Text(f"  {reference}"))
    if spec.match is not None:
        console.print(Text("\nDeclarative match", style="bold"))
        console.print(Text(json.dumps(spec.match, indent=2)))
    return ExitStatus.OK


SCORING_EXPLANATION = f"""\
How zt-audit scores (the maturity model of the check catalogue, Part 4)

1. Each check has a severity weight w: critical 10, high 5, medium 3, low 1. A check counts
   fully toward its primary pillar and at {SECONDARY_FACTOR:g}x weight toward each secondary pillar.
2. Each observed result has a score s: pass 1, warn 0.5, fail 0. Coverage checks that warn
   score their measured ratio instead (41 of 50 pods -> 0.82).
   not_observable and error results are not observed; not_applicable results do not apply.
   Neither ever counts as a pass.
3. Pillar score = 100 x sum(w x s) / sum(w), over the observed checks of the pillar.
4. Evidence coverage = observed weight / applicable weight. A pillar under {MIN_COVERAGE:.0%}
   coverage is "insufficient evidence" and left out of the overall score and stage.
5. Stages are gated and cumulative. For each stage S (Initial, Advanced, Optimal), over the
   checks tagged S: the weighted pass ratio A_S, and the observed share O_S of their weight.
   A pillar reaches S when, for S and every lower stage:
     A >= {THRESHOLDS[next(iter(THRESHOLDS))]:.2f} (Initial), \
{list(THRESHOLDS.values())[1]:.2f} (Advanced), {list(THRESHOLDS.values())[2]:.2f} (Optimal);
     O >= {MIN_OBSERVED:.2f}; and no critical check failed among checks tagged S or lower.
   No stage reached means Traditional. When only observability blocks the next stage, the
   report says "higher indeterminate" instead of claiming a failure.
   Dual-tagged checks (such as RT-04: Initial, then Advanced) may score differently per
   stage: baseline Pod Security is a pass toward Initial and half toward Advanced.
6. Cross-cutting capabilities (visibility, automation, governance) get their own score and
   stage from the checks tagged with them; they do not enter the overall figures.
7. Overall score = mean of the in-scope pillar scores (weights configurable with
   pillar_weights). Overall stage = the lowest in-scope pillar stage. There is no overall
   score, and --fail-under fails, when no pillar is in scope or when the observed weight
   is under {MIN_EVIDENCE_BASE:.0%} of all the check weight the scan ran (not-applicable
   checks included): an input that says almost nothing about a cluster gets no grade.

Every input of these formulas is in the JSON report: score.pillars.<p>.contributions lists
each check's weight, status and score, and score.pillars.<p>.stages lists A_S and O_S.
"""
