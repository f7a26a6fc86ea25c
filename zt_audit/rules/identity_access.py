"""Standing access: just-in-time privilege (IAM-11), default service accounts (IAM-13)."""

from __future__ import annotations

from typing import Any

from zt_audit.analysis.rbac import Grant, Subject
from zt_audit.analysis.rbac.privileges import ADMIN_PRIMITIVES, PRIMITIVES, holds, is_full_admin
from zt_audit.analysis.rbac.subjects import SubjectClass
from zt_audit.engine.context import ScanContext, from_findings, not_observable, passed
from zt_audit.engine.model import CheckResult, Finding, Status
from zt_audit.inventory import FieldPath, Workload
from zt_audit.rules.identity_common import (
    escalation_finder,
    grant_finding,
    judged_grants,
    rbac_graph,
    rbac_verdict,
    subject_class,
)

# Metadata by which cleanup tools and access brokers give a binding an end.
EXPIRY_KEYS = (
    "cleanup.kyverno.io/ttl",
    "cleanup.kyverno.io/expires",
    "janitor/expires",
    "janitor/ttl",
    "access.zt-audit.dev/expires",
)
# Image fragments of agents that hand out privileged access for a limited time.
BROKER_IMAGES = (
    "gravitational/teleport",
    "kube-janitor",
    "kyverno/cleanup-controller",
    "paralus/",
    "strongdm/",
)


# IAM-11


def _privileged(grant: Grant) -> bool:
    if is_full_admin(grant):
        return True
    if grant.namespace is not None:
        return False
    return any(holds(grant, PRIMITIVES[name]) for name in sorted(ADMIN_PRIMITIVES))


def _expiry(grant: Grant) -> str | None:
    metadata = {**grant.binding.labels, **grant.binding.annotations}
    return next((key for key in EXPIRY_KEYS if key in metadata), None)


def _brokers(ctx: ScanContext) -> list[str]:
    found = set()
    for workload in ctx.inventory.workloads:
        for container in workload.containers():
            image = container.image or ""
            if any(fragment in image for fragment in BROKER_IMAGES):
                found.add(str(workload.resource.ref))
    return sorted(found)


def just_in_time(ctx: ScanContext) -> CheckResult:
    privileged = [
        g
        for g in judged_grants(ctx)
        if subject_class(ctx, g) is SubjectClass.HUMAN and _privileged(g)
    ]
    standing = [g for g in privileged if _expiry(g) is None]
    expiring = [g for g in privileged if _expiry(g) is not None]
    brokers = _brokers(ctx)
    facts = {
        "privileged_human_grants": len(privileged),
        "expiring": len(expiring),
        "brokers": brokers,
    }

    if not standing and (expiring or brokers):
        evidence = f"{len(expiring)} expiring grant(s)" if expiring else "an access broker"
        return passed(
            f"privileged human access is just in time ({evidence}; brokers: "
            f"{', '.join(brokers) or 'none'})",
            facts=facts,
        )
    if not expiring and not brokers:
        count = f"{len(standing)} standing privileged human grant(s); " if standing else ""
        return not_observable(
            f"{count}no just-in-time evidence in the cluster (expiring bindings or an access "
            "broker); privileged access may be granted outside Kubernetes",
            hint="if access is brokered by cloud IAM or PIM, record that in an attestation",
            facts=facts,
        )

    findings: list[Finding] = [
        grant_finding(
            ctx,
            grant,
            f"{grant.subject} holds standing privileged access ({grant.via}) with no expiry",
            status=Status.WARN,
        )
        for grant in standing
    ]
    return rbac_verdict(
        ctx,
        findings,
        evaluated=len(privileged),
        unit="privileged human grants",
        clean="privileged human access is just in time ({ratio})",
        facts=facts,
    )


# IAM-13


def _automounts(workload: Workload, ctx: ScanContext) -> tuple[bool, FieldPath]:
    """Whether the pod gets a token, and the field that decides it (pod wins over account)."""
    value = workload.pod_spec.get("automountServiceAccountToken")
    if isinstance(value, bool):
        return value, workload.path("automountServiceAccountToken")
    account = ctx.inventory.get("ServiceAccount", workload.namespace, workload.service_account)
    named = "serviceAccountName" in workload.pod_spec
    path = workload.path("serviceAccountName") if named else workload.path()
    if account is not None and isinstance(account.obj.get("automountServiceAccountToken"), bool):
        return account.obj["automountServiceAccountToken"], path
    return True, path


def service_account_defaults(ctx: ScanContext) -> CheckResult:
    graph = rbac_graph(ctx)
    findings: list[Finding] = []
    account_grants = [g for g in judged_grants(ctx) if g.subject.kind == "ServiceAccount"]
    for grant in account_grants:
        if grant.subject.name == "default" and ctx.in_scope(grant.subject.namespace):
            message = (
                f"the default ServiceAccount of {grant.subject.namespace} is granted "
                f"{grant.role.key} ({grant.via}); every pod without its own account gets it"
            )
            findings.append(grant_finding(ctx, grant, message))

    rbac_seen = ctx.unobservable("ClusterRoleBinding", "RoleBinding") is None
    workloads = ctx.workloads if rbac_seen else []
    for workload in workloads:
        mounted, path = _automounts(workload, ctx)
        account = Subject("ServiceAccount", workload.service_account, workload.namespace)
        if mounted and not graph.by_subject.get(account):
            message = (
                f"{workload.kind} {workload.key} mounts a token for ServiceAccount "
                f"{workload.service_account}, which has no role bindings"
            )
            findings.append(ctx.finding(workload.resource, path, message, status=Status.WARN))

    if not findings and not rbac_seen:
        return rbac_verdict(ctx, [], evaluated=0, unit="workloads", clean="")
    return from_findings(
        findings,
        evaluated=len(workloads) + len(account_grants),
        unit="workloads and service-account grants",
        clean="no grant to default accounts and no unneeded token ({ratio})",
        nothing="no workloads or service-account grants in scope",
    )


# Per-workload posture


def identity_posture(ctx: ScanContext) -> dict[str, dict[str, Any]]:
    """Each workload's account, whether its token is mounted, and what the account may do."""
    graph = rbac_graph(ctx)
    finder = escalation_finder(ctx)
    facts: dict[str, dict[str, Any]] = {}
    for workload in ctx.workloads:
        account = Subject("ServiceAccount", workload.service_account, workload.namespace)
        mounted, _ = _automounts(workload, ctx)
        grants = graph.grants_of(account)
        facts[f"{workload.kind}/{workload.namespace}/{workload.name}"] = {
            "service_account": workload.service_account,
            "token_mounted": mounted,
            "power": finder.power(account).label,
            "grants": [
                {"binding": str(g.binding.ref), "role": g.role.key, "scope": g.scope}
                for g in grants
            ],
        }
    return facts
