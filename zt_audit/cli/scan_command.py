"""``zt-audit scan``: load, check, score, report, gate."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from zt_audit.analysis.auditpolicy import with_audit_policy
from zt_audit.cli.environment import Environment
from zt_audit.cli.live import LiveOptions, read_snapshot, scan_cluster
from zt_audit.cli.outputs import plan_outputs, write_outputs
from zt_audit.engine.config import ScanConfig
from zt_audit.engine.evidence import EvidenceSources
from zt_audit.engine.model import Severity
from zt_audit.engine.registry import discover
from zt_audit.errors import UsageError
from zt_audit.exitcodes import ExitStatus
from zt_audit.inventory import Inventory, load_inventory
from zt_audit.report.baseline import compare, load_baseline
from zt_audit.report.document import build_report, report_schema
from zt_audit.report.formats import RenderOptions
from zt_audit.scan import ScanOutcome, run_scan

log = logging.getLogger(__name__)


@dataclass
class ScanRequest:
    paths: list[str]
    output_format: str = "table"
    output: Path | None = None
    fail_under: float | None = None
    fail_on: Severity | None = None
    select: list[str] = field(default_factory=list)
    skip: list[str] = field(default_factory=list)
    checks_dirs: list[Path] = field(default_factory=list)
    config: ScanConfig = field(default_factory=ScanConfig)
    max_findings: int = 5
    outputs: list[str] = field(default_factory=list)  # -o FORMAT=FILE, or one plain FILE
    frameworks: tuple[str, ...] = ()  # validated framework keys for per-control views
    live: LiveOptions = field(default_factory=LiveOptions)  # used when paths is empty
    baseline: Path | None = None  # a saved JSON report to compare findings with
    fail_on_new: Severity | None = None
    audit_policy: Path | None = None  # an audit.k8s.io Policy file to judge (AUD-03)


def run_scan_command(request: ScanRequest, env: Environment) -> int:
    if request.fail_on_new is not None and request.baseline is None:
        raise UsageError("--fail-on-new needs --baseline REPORT.json")
    # Resolve checks before reading input, so that a bad --select fails fast.
    registry = discover(request.checks_dirs).select(request.select, request.skip)
    inventory, evidence = _collect(request, env)
    if request.audit_policy is not None:
        inventory = with_audit_policy(inventory, request.audit_policy)
    for problem in inventory.errors:
        env.stderr.write(f"zt-audit: {problem}\n")
    for problem in inventory.warnings:
        log.warning("%s", problem)
    outcome = run_scan(inventory, registry, request.config, evidence)
    report = build_report(outcome)
    diff = None
    if request.baseline is not None:
        diff = compare(
            report, load_baseline(request.baseline, report_schema()), str(request.baseline)
        )
        report["baseline"] = diff.as_dict()
    _write_report(report, request, env)
    status = _exit_status(outcome, report, request, env)
    if diff is not None and request.fail_on_new is not None and status != ExitStatus.USAGE_ERROR:
        new = diff.new_at_least(request.fail_on_new.value)
        if new:
            env.stderr.write(
                f"zt-audit: gate failed: {len(new)} new finding(s) of severity "
                f"{request.fail_on_new.value} or worse since {request.baseline}\n"
            )
            status = ExitStatus.GATE_FAILED
    return status


def _collect(request: ScanRequest, env: Environment) -> tuple[Inventory, EvidenceSources]:
    """The inventory to scan and what could be observed of it.

    No path scans the current cluster; a snapshot file brings its own evidence record.
    """
    if not request.paths:
        return scan_cluster(request.live, env)
    inventory = load_inventory(request.paths, stdin=env.stdin)
    snapshot = read_snapshot(request.paths, inventory)
    if snapshot is not None:
        return inventory, snapshot
    evidence = EvidenceSources(mode="manifests", complete=request.config.bundle_is_complete)
    return inventory, evidence


def _write_report(report: dict, request: ScanRequest, env: Environment) -> None:
    """Every requested format to its target; see ``zt_audit.cli.outputs``."""
    plain = [str(request.output)] if request.output is not None else []
    targets = plan_outputs(request.output_format, [*plain, *request.outputs])
    options = RenderOptions(frameworks=request.frameworks, max_findings=request.max_findings)
    write_outputs(report, targets, options, env)


def _exit_status(outcome: ScanOutcome, report: dict, request: ScanRequest, env: Environment) -> int:
    status = ExitStatus.OK
    if request.fail_under is not None:
        overall = outcome.scorecard.overall_score
        if overall is None:
            env.stderr.write(
                "zt-audit: gate failed: no overall score (not enough observable evidence)\n"
            )
            status = ExitStatus.GATE_FAILED
        elif overall < request.fail_under:
            env.stderr.write(
                f"zt-audit: gate failed: overall score {overall:.1f} is below "
                f"{request.fail_under:g}\n"
            )
            status = ExitStatus.GATE_FAILED
    if request.fail_on is not None:
        failing = {item.check.id for item in outcome.failing(request.fail_on)}
        checks = [c for c in report["checks"] if c["id"] in failing]
        counted = [c["id"] for c in checks if not c["waived"]]
        if counted:
            waived = len(checks) - len(counted)
            note = f" ({waived} more waived)" if waived else ""
            env.stderr.write(
                f"zt-audit: gate failed: {len(counted)} check(s) of severity "
                f"{request.fail_on.value} or worse failed: {', '.join(counted)}{note}\n"
            )
            status = ExitStatus.GATE_FAILED
    if outcome.inventory.errors:
        return ExitStatus.USAGE_ERROR
    return status
