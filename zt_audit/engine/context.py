"""What a check sees: the inventory, the settings, the evidence sources, shared analyses."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from zt_audit.engine.config import ScanConfig
from zt_audit.engine.evidence import EvidenceSources, SourceStatus
from zt_audit.engine.model import CheckResult, Finding, Ratio, Severity, Status
from zt_audit.inventory import FieldPath, Inventory, Resource, Workload, format_path

T = TypeVar("T")


class ScanContext:
    """One per scan. Analyses (an RBAC graph, a policy index) are built once and shared."""

    def __init__(
        self,
        inventory: Inventory,
        config: ScanConfig | None = None,
        evidence: EvidenceSources | None = None,
    ) -> None:
        self.inventory = inventory
        self.config = config or ScanConfig()
        self.evidence = evidence or EvidenceSources(
            complete=self.config.bundle_is_complete if config else False
        )
        self._analyses: dict[str, Any] = {}

    # Scope

    def in_scope(self, namespace: str | None) -> bool:
        return namespace is None or namespace not in self.config.excluded_namespaces

    @property
    def workloads(self) -> list[Workload]:
        """Workloads in in-scope namespaces."""
        return self.analysis(
            "scope.workloads",
            lambda: [w for w in self.inventory.workloads if self.in_scope(w.namespace)],
        )

    def namespaces(self) -> list[str]:
        """In-scope namespaces that are declared or used."""
        return [ns for ns in self.inventory.namespaces if self.in_scope(ns)]

    # Shared analyses

    def analysis(self, name: str, build: Callable[[], T]) -> T:
        """Build an analysis once per scan; checks that need the same one share it."""
        if name not in self._analyses:
            self._analyses[name] = build()
        return self._analyses[name]

    # Evidence

    def kind_status(self, kind: str) -> SourceStatus:
        return self.evidence.kind_status(kind, self.inventory.has_kind(kind))

    def unobservable(self, *kinds: str) -> CheckResult | None:
        """A not-observable result if any of ``kinds`` could not be seen, else None."""
        reasons = []
        for kind in kinds:
            status = self.kind_status(kind)
            if status in (SourceStatus.FORBIDDEN, SourceStatus.NOT_IN_BUNDLE):
                reasons.append(self.evidence.describe(kind, status))
        if not reasons:
            return None
        return not_observable("; ".join(reasons))

    # Findings

    def finding(
        self,
        resource: Resource,
        path: FieldPath,
        message: str,
        *,
        status: Status = Status.FAIL,
        severity: Severity | None = None,
        remediation: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> Finding:
        return Finding(
            message=message,
            status=status,
            object=resource.ref,
            field=format_path(path) or None,
            location=self.inventory.locator.locate(resource.origin, path),
            remediation=remediation,
            severity=severity,
            details=details or {},
        )


# Result builders. A check returns exactly one CheckResult.


def passed(reason: str, *, ratio: Ratio | None = None, **extra: Any) -> CheckResult:
    return CheckResult(Status.PASS, reason, ratio=ratio, **extra)


def not_observable(reason: str, *, hint: str | None = None, **extra: Any) -> CheckResult:
    return CheckResult(Status.NOT_OBSERVABLE, reason, hint=hint, **extra)


def not_applicable(reason: str, **extra: Any) -> CheckResult:
    return CheckResult(Status.NOT_APPLICABLE, reason, **extra)


def from_findings(
    findings: Iterable[Finding],
    *,
    evaluated: int,
    unit: str,
    clean: str,
    nothing: str,
    affected: int | None = None,
    **extra: Any,
) -> CheckResult:
    """The usual verdict of a per-object check.

    FAIL if any finding fails, else WARN if any warns, else PASS; NOT_APPLICABLE when
    nothing was evaluated. ``affected`` counts the evaluated units with findings (by
    default, the distinct objects named by findings).
    """
    findings = tuple(sorted(findings, key=Finding.sort_key))
    if evaluated == 0:
        return not_applicable(nothing)
    if affected is None:
        affected = len({f.object if f.object else id(f) for f in findings})
    ratio = Ratio(evaluated - min(affected, evaluated), evaluated, unit)
    statuses = {f.status for f in findings}
    if Status.FAIL in statuses:
        status = Status.FAIL
    elif Status.WARN in statuses:
        status = Status.WARN
    else:
        return passed(clean.format(ratio=ratio), ratio=ratio, **extra)
    reason = f"{affected} of {evaluated} {unit} affected"
    return CheckResult(status, reason, findings=findings, ratio=ratio, **extra)


def by_threshold(
    ratio: Ratio,
    *,
    pass_at: float,
    warn_at: float,
    findings: Iterable[Finding] = (),
    what: str,
    **extra: Any,
) -> CheckResult:
    """A coverage verdict: PASS at ``pass_at`` or more, WARN at ``warn_at`` or more.

    Coverage checks score their measured ratio rather than a flat 0.5 when they warn.
    """
    findings = tuple(sorted(findings, key=Finding.sort_key))
    value = ratio.value
    reason = f"{ratio} {what} ({value:.0%})"
    if value >= pass_at:
        return CheckResult(Status.PASS, reason, findings=findings, ratio=ratio, **extra)
    if value >= warn_at:
        return CheckResult(
            Status.WARN, reason, findings=findings, ratio=ratio, score=value, **extra
        )
    return CheckResult(Status.FAIL, reason, findings=findings, ratio=ratio, **extra)
