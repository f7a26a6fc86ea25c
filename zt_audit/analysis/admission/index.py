"""Every image admission control of an inventory, built once per scan."""

from __future__ import annotations

from dataclasses import dataclass

from zt_audit.analysis.admission.controls import ImageControl
from zt_audit.analysis.admission.gatekeeper import gatekeeper_controls
from zt_audit.analysis.admission.kyverno import kyverno_controls
from zt_audit.analysis.admission.sigstore import connaisseur_controls, sigstore_controls
from zt_audit.analysis.admission.vap import vap_controls
from zt_audit.analysis.admission.webhooks import Webhook, product_of, webhooks
from zt_audit.analysis.agents import signatures
from zt_audit.engine.context import ScanContext


@dataclass(frozen=True)
class AdmissionIndex:
    controls: list[ImageControl]
    security_webhooks: list[tuple[Webhook, str, str]]  # webhook, product id, product name


def admission_index(ctx: ScanContext) -> AdmissionIndex:
    return ctx.analysis("admission", lambda: _build(ctx))


def _build(ctx: ScanContext) -> AdmissionIndex:
    known = signatures(ctx)
    security = []
    for webhook in webhooks(ctx.inventory):
        product = product_of(webhook, known)
        if product is not None:
            security.append((webhook, product.id, product.product))

    def fails_open(product_id: str) -> bool | None:
        hooks = [w for w, pid, _ in security if pid == product_id and w.handles_pods()]
        if not hooks:
            return None
        return any(w.fails_open for w in hooks)

    connaisseur = [w for w, pid, _ in security if pid == "connaisseur"]
    controls = [
        *kyverno_controls(ctx.inventory),
        *gatekeeper_controls(ctx.inventory, fails_open("gatekeeper")),
        *sigstore_controls(ctx.inventory, fails_open("sigstore-policy-controller")),
        *connaisseur_controls(connaisseur),
        *vap_controls(ctx.inventory),
    ]
    controls.sort(key=lambda c: (c.resource.ref, [str(p) for p in c.path]))
    return AdmissionIndex(controls, security)
