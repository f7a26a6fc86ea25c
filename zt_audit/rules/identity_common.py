"""What the identity checks share: the RBAC graph, escalation paths, the platform."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from zt_audit.analysis.platform import ApiServerConfig, Platform, apiserver_configs, detect_platform
from zt_audit.analysis.rbac import EscalationFinder, EscalationPath, Grant, RbacGraph
from zt_audit.analysis.rbac.subjects import SubjectClass, classify
from zt_audit.engine.context import ScanContext, from_findings, not_observable, passed
from zt_audit.engine.model import CheckResult, Finding

RBAC_KINDS = ("ClusterRoleBinding", "RoleBinding")


def rbac_graph(ctx: ScanContext) -> RbacGraph:
    return ctx.analysis("rbac.graph", lambda: RbacGraph(ctx.inventory))


def escalation_finder(ctx: ScanContext) -> EscalationFinder:
    return ctx.analysis(
        "rbac.escalation.finder", lambda: EscalationFinder(rbac_graph(ctx), ctx.inventory)
    )


def escalation_paths(ctx: ScanContext) -> list[EscalationPath]:
    return ctx.analysis("rbac.escalation", lambda: escalation_finder(ctx).paths())


def platform(ctx: ScanContext) -> Platform:
    return ctx.analysis("platform", lambda: detect_platform(ctx.inventory))


def apiservers(ctx: ScanContext) -> list[ApiServerConfig]:
    return ctx.analysis("platform.apiservers", lambda: apiserver_configs(ctx.inventory))


def subject_class(ctx: ScanContext, grant: Grant) -> SubjectClass:
    known: dict[int, SubjectClass] = ctx.analysis("rbac.classes", dict)
    if id(grant) not in known:
        known[id(grant)] = classify(grant, ctx.config.break_glass_subjects)
    return known[id(grant)]


def judged_grants(ctx: ScanContext) -> list[Grant]:
    """Grants to judge: not the platform's, and not an excluded namespace's own accounts.

    Scope exclusions are about workloads; a person or a broad group granted rights inside
    ``kube-system`` is still judged, since that namespace's accounts are the most powerful.
    """
    return ctx.analysis(
        "rbac.judged",
        lambda: [
            g
            for g in rbac_graph(ctx).grants
            if subject_class(ctx, g) is not SubjectClass.SYSTEM and not _excluded_account(ctx, g)
        ],
    )


def _excluded_account(ctx: ScanContext, grant: Grant) -> bool:
    subject = grant.subject
    return (
        grant.namespace is not None
        and not ctx.in_scope(grant.namespace)
        and subject.kind == "ServiceAccount"
        and not ctx.in_scope(subject.namespace)
    )


def grant_finding(ctx: ScanContext, grant: Grant, message: str, **kwargs: Any) -> Finding:
    """A finding on the binding's subject entry, with the grant in its details."""
    details = {"grant": grant.as_dict(), **kwargs.pop("details", {})}
    return ctx.finding(
        grant.binding, ("subjects", grant.subject_index), message, details=details, **kwargs
    )


def rbac_verdict(
    ctx: ScanContext,
    findings: Iterable[Finding],
    *,
    evaluated: int,
    unit: str,
    clean: str,
    kinds: tuple[str, ...] = RBAC_KINDS,
    **extra: Any,
) -> CheckResult:
    """Findings decide when there are any; otherwise unseen bindings make it unobservable."""
    findings = list(findings)
    if not findings:
        missing = ctx.unobservable(*kinds)
        if missing is not None:
            return not_observable(
                missing.reason,
                hint="scan a live cluster, or add its RBAC objects (kubectl get "
                "clusterrolebindings,rolebindings,clusterroles,roles -A -o yaml)",
                **extra,
            )
    affected = len({(f.object, f.field) for f in findings})
    if not findings and evaluated == 0 and rbac_graph(ctx).bindings:
        count = len(rbac_graph(ctx).bindings)
        return passed(
            f"nothing to judge: the {count} binding(s) in scope are the platform's or grant "
            "nothing",
            **extra,
        )
    return from_findings(
        findings,
        evaluated=max(evaluated, affected),
        unit=unit,
        clean=clean,
        nothing="no role bindings in scope",
        affected=affected,
        **extra,
    )


def control_plane_unobservable(ctx: ScanContext, what: str) -> CheckResult | None:
    """Not observable on a managed control plane, or when the input shows no API server."""
    found = platform(ctx)
    if found.managed:
        return not_observable(
            f"{found.provider_name} manages the API server, so its {what} cannot be read "
            f"({found.evidence})",
            hint=found.hint,
            facts={"platform": found.provider, "platform_evidence": found.evidence},
        )
    if not apiservers(ctx):
        return not_observable(
            f"no kube-apiserver pod or kubeadm-config in the input, so the {what} cannot be read",
            hint="include the kube-system kube-apiserver pod (kubectl get pod -n kube-system "
            "-l component=kube-apiserver -o yaml) or the kubeadm-config ConfigMap",
        )
    return None
