"""Governance: admission integrity (GOV-01) and GitOps drift control (GOV-02)."""

from __future__ import annotations

from collections.abc import Iterator

from zt_audit.analysis.absence import COMPLETE_HINT, absence_unobservable
from zt_audit.analysis.admission.index import admission_index
from zt_audit.analysis.admission.webhooks import Webhook
from zt_audit.analysis.agents import signatures
from zt_audit.analysis.gitops import drift_control
from zt_audit.analysis.selectors import selector_matches
from zt_audit.engine.context import (
    ScanContext,
    by_threshold,
    from_findings,
    not_applicable,
    not_observable,
)
from zt_audit.engine.model import CheckResult, Finding, Ratio, Status
from zt_audit.engine.registry import Implementation
from zt_audit.inventory import Resource

WEBHOOK_KINDS = ("ValidatingWebhookConfiguration", "MutatingWebhookConfiguration")


def _replicas(ctx: ScanContext, webhook: Webhook) -> tuple[Resource, int] | None:
    """The Deployment behind a webhook's Service and its replica count, when visible."""
    if webhook.service is None:
        return None
    namespace, name = webhook.service
    service = ctx.inventory.get("Service", namespace, name)
    selector = service.spec.get("selector") if service is not None else None
    if not isinstance(selector, dict) or not selector:
        return None
    for workload in ctx.inventory.workloads:
        if workload.kind != "Deployment" or workload.namespace != namespace:
            continue
        labels = workload.pod_labels
        if all(labels.get(str(k)) == str(v) for k, v in selector.items()):
            replicas = workload.resource.spec.get("replicas", 1)
            if isinstance(replicas, int) and not isinstance(replicas, bool):
                return workload.resource, replicas
    return None


def _webhook_findings(
    ctx: ScanContext, webhook: Webhook, product: str, scope: str
) -> Iterator[Finding]:
    subject = f"{product} webhook {webhook.name}"
    resource = webhook.configuration
    if webhook.fails_open:
        yield ctx.finding(
            resource,
            webhook.path("failurePolicy"),
            f"{subject} fails open (failurePolicy: Ignore): requests are admitted unchecked "
            "whenever the webhook is unreachable",
        )
    if scope == "cluster":
        excluded = []
        for namespace in ctx.namespaces():
            labels = ctx.inventory.namespace_labels(namespace)
            if labels is not None and not webhook.sees_namespace(labels):
                excluded.append(namespace)
        if excluded:
            yield ctx.finding(
                resource,
                webhook.path("namespaceSelector"),
                f"{subject} does not see in-scope namespaces: {', '.join(excluded)}",
            )
        if webhook.object_selector not in (None, {}) and not selector_matches(
            webhook.object_selector, {}
        ):
            yield ctx.finding(
                resource,
                webhook.path("objectSelector"),
                f"{subject} skips objects without the labels of its objectSelector",
                status=Status.WARN,
            )
    backing = _replicas(ctx, webhook)
    if backing is not None and backing[1] < 2:
        yield ctx.finding(
            backing[0],
            ("spec", "replicas"),
            f"{subject} is served by a single replica of {backing[0].ref}",
            status=Status.WARN,
        )


def _kyverno_fail_open(ctx: ScanContext) -> Iterator[Finding]:
    """Kyverno builds its webhooks from each policy's own failurePolicy."""
    for policy in ctx.inventory.of_kind("ClusterPolicy", "Policy", group="kyverno.io"):
        if policy.spec.get("failurePolicy") == "Ignore":
            yield ctx.finding(
                policy,
                ("spec", "failurePolicy"),
                f"Kyverno {policy.kind} {policy.name} fails open (failurePolicy: Ignore)",
            )


def admission_integrity(ctx: ScanContext) -> CheckResult:
    security = admission_index(ctx).security_webhooks
    signatures_by_id = {s.id: s for s in signatures(ctx).of("admission")}
    findings: list[Finding] = list(_kyverno_fail_open(ctx))
    affected = len(findings)
    for webhook, product_id, product in security:
        scope = signatures_by_id[product_id].get("scope", "cluster")
        found = list(_webhook_findings(ctx, webhook, product, scope))
        affected += 1 if found else 0
        findings.extend(found)
    kyverno_policies = ctx.inventory.of_kind("ClusterPolicy", "Policy", group="kyverno.io")
    evaluated = len(security) + len(kyverno_policies)
    if not evaluated:
        reason = absence_unobservable(ctx, *WEBHOOK_KINDS)
        if reason:
            return not_observable(
                f"no security admission webhook in the input ({reason})", hint=COMPLETE_HINT
            )
        return not_applicable("no security admission webhook is installed")
    facts = {
        "webhooks": [
            {
                "configuration": str(w.configuration.ref),
                "webhook": w.name,
                "product": product,
                "failure_policy": w.failure_policy,
                "timeout_seconds": w.spec.get("timeoutSeconds", 10),
            }
            for w, _, product in security
        ]
    }
    return from_findings(
        findings,
        evaluated=evaluated,
        affected=affected,
        unit="security webhooks and policies",
        clean="all {ratio} fail closed and see every in-scope namespace",
        nothing="no security admission webhook",
        facts=facts,
    )


def gitops_drift_control(ctx: ScanContext) -> CheckResult:
    workloads = ctx.workloads
    if not workloads:
        return not_applicable("no workloads in scope")
    state = drift_control(ctx.inventory, workloads)
    if not state.controllers:
        reason = absence_unobservable(ctx, "Application", "Kustomization", "HelmRelease")
        if reason and not state.tracked:
            return not_observable(
                f"no GitOps controller objects in the input ({reason})", hint=COMPLETE_HINT
            )
    findings = [
        ctx.finding(
            workload.resource,
            ("metadata",),
            f"{workload.kind} {workload.key} {why}",
            status=Status.WARN,
        )
        for workload, why in state.uncorrected
    ]
    findings.extend(
        ctx.finding(resource, path, message, status=Status.WARN)
        for resource, path, message in state.controller_notes
    )
    ratio = Ratio(len(state.corrected), len(workloads), "workloads")
    if not state.corrected:
        return CheckResult(
            Status.FAIL,
            "no workload is deployed by a GitOps controller that corrects drift",
            ratio=ratio,
            findings=tuple(sorted(findings, key=Finding.sort_key)),
            facts=state.facts(),
        )
    return by_threshold(
        ratio,
        pass_at=0.8,
        warn_at=0.0,
        findings=findings,
        what="under GitOps drift correction",
        facts=state.facts(),
    )


CHECKS = [
    Implementation("GOV-01", admission_integrity),
    Implementation("GOV-02", gitops_drift_control),
]
