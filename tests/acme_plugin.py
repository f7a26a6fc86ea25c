"""A third-party check plugin, used by the registry tests through a real entry point."""

from __future__ import annotations

from pathlib import Path

from zt_audit.engine.context import ScanContext, from_findings
from zt_audit.engine.model import CheckResult
from zt_audit.engine.registry import Implementation

DEFINITIONS = Path(__file__).parent / "fixtures" / "plugins" / "acme"
OWNER = "acme.example/owner"


def owner_label(ctx: ScanContext) -> CheckResult:
    findings = [
        ctx.finding(
            w.resource,
            ("metadata", "labels"),
            f"{w.kind} {w.key} has no {OWNER} label",
        )
        for w in ctx.workloads
        if OWNER not in w.resource.labels
    ]
    return from_findings(
        findings,
        evaluated=len(ctx.workloads),
        unit="workloads",
        clean="every workload has an owner ({ratio})",
        nothing="no workloads",
    )


def crashes(ctx: ScanContext) -> CheckResult:
    raise ZeroDivisionError("plugin bug")


CHECKS = [
    Implementation("ACME-01", owner_label, definition=DEFINITIONS / "ACME-01.yaml"),
    Implementation("ACME-02", crashes, definition=DEFINITIONS / "ACME-02.yaml"),
]
