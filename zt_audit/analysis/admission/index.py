"""Every image admission control of an inventory, built once per scan."""

from __future__ import annotations

from dataclasses import dataclass, replace

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

    def pod_hooks(product_id: str) -> list[Webhook]:
        """The webhooks that enforce a product's decisions on pods.

        Gatekeeper and policy-controller reject in their validating webhooks (their
        mutating ones only rewrite); Kyverno verifies images in both.
        """
        hooks = [w for w, pid, _ in security if pid == product_id and w.handles_pods()]
        if product_id != "kyverno":
            hooks = [w for w in hooks if w.configuration.kind == "ValidatingWebhookConfiguration"]
        return hooks

    def fails_open(product_id: str) -> bool | None:
        hooks = pod_hooks(product_id)
        return any(w.fails_open for w in hooks) if hooks else None

    connaisseur = [w for w, pid, _ in security if pid == "connaisseur"]
    controls = [
        *(_narrow(c, pod_hooks("kyverno")) for c in kyverno_controls(ctx.inventory)),
        *(
            _narrow(c, pod_hooks("gatekeeper"))
            for c in gatekeeper_controls(ctx.inventory, fails_open("gatekeeper"))
        ),
        *(
            _narrow(c, pod_hooks("sigstore-policy-controller"))
            for c in sigstore_controls(ctx.inventory, fails_open("sigstore-policy-controller"))
        ),
        *connaisseur_controls(connaisseur),
        *vap_controls(ctx.inventory),
    ]
    controls.sort(key=lambda c: (c.resource.ref, [str(p) for p in c.path]))
    return AdmissionIndex(controls, security)


def _narrow(control: ImageControl, hooks: list[Webhook]) -> ImageControl:
    """A control reaches only the namespaces its engine's webhooks are sent requests for."""
    if not hooks:
        return control  # the webhook configuration is not in the input: the policy decides
    applies = control.applies

    def narrowed(namespace: str, labels: dict[str, str] | None) -> bool | None:
        first = applies(namespace, labels)
        if first is False:
            return False
        if labels is None:
            seen = None if any(h.namespace_selector not in (None, {}) for h in hooks) else True
        else:
            seen = any(h.sees_namespace(labels) for h in hooks)
        if seen is False:
            return False
        return None if first is None or seen is None else True

    selectors = tuple(h.object_selector for h in hooks)
    # A webhook without an objectSelector sees every object, whatever the others select.
    if any(s in (None, {}) for s in selectors):
        selectors = ()
    return replace(control, applies=narrowed, object_selectors=selectors)
