"""Sigstore policy-controller and Connaisseur.

policy-controller checks a pod only in namespaces labelled
``policy.sigstore.dev/include: "true"``; a ``ClusterImagePolicy`` in ``mode: warn`` only
warns. An authority with a key or keyless identity verifies signatures; a ``static``
authority passes or fails every matching image without looking at signatures.
Connaisseur verifies every image its webhook sees.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from zt_audit.analysis.admission.controls import ImageControl
from zt_audit.analysis.admission.webhooks import Webhook
from zt_audit.inventory import Inventory

INCLUDE_LABEL = "policy.sigstore.dev/include"


def _opted_in(namespace: str, labels: dict[str, str] | None) -> bool | None:
    if labels is None:
        return None
    return labels.get(INCLUDE_LABEL) == "true"


def sigstore_controls(inventory: Inventory, fail_open: bool | None) -> Iterator[ImageControl]:
    for policy in inventory.of_kind("ClusterImagePolicy", group="policy.sigstore.dev"):
        spec = policy.spec
        mode = spec.get("mode") if isinstance(spec.get("mode"), str) else "enforce"
        authorities = spec.get("authorities")
        authorities = (
            [a for a in authorities if isinstance(a, dict)] if isinstance(authorities, list) else []
        )
        verifies = any("key" in a or "keyless" in a for a in authorities)
        denies_all = any(_static(a) == "fail" for a in authorities)
        if not verifies and not denies_all:
            continue  # static pass authorities admit everything
        images = spec.get("images")
        globs = (
            tuple(
                i["glob"] for i in images if isinstance(i, dict) and isinstance(i.get("glob"), str)
            )
            if isinstance(images, list)
            else ()
        )
        yield ImageControl(
            resource=policy,
            path=("spec", "authorities"),
            engine="Sigstore policy-controller",
            verifies=verifies,
            enforced=mode != "warn",
            mode=mode,
            applies=_opted_in,
            image_globs=globs or ("**",),
            glob_style="sigstore",
            attestations=_predicates(authorities),
            fail_open=fail_open,
        )


def _static(authority: dict[str, Any]) -> str | None:
    static = authority.get("static")
    action = static.get("action") if isinstance(static, dict) else None
    return action if isinstance(action, str) else None


def _predicates(authorities: list[dict[str, Any]]) -> tuple[str, ...]:
    found = []
    for authority in authorities:
        attestations = authority.get("attestations")
        for attestation in attestations if isinstance(attestations, list) else []:
            if isinstance(attestation, dict) and isinstance(attestation.get("predicateType"), str):
                found.append(attestation["predicateType"])
    return tuple(sorted(found))


def connaisseur_controls(webhooks: list[Webhook]) -> Iterator[ImageControl]:
    for webhook in webhooks:
        if not webhook.handles_pods():
            continue

        def applies(namespace: str, labels: dict[str, str] | None, hook=webhook) -> bool | None:
            if hook.namespace_selector is None:
                return True
            return None if labels is None else hook.sees_namespace(labels)

        yield ImageControl(
            resource=webhook.configuration,
            path=webhook.path(),
            engine="Connaisseur",
            verifies=True,
            enforced=True,
            mode=f"failurePolicy {webhook.failure_policy}",
            applies=applies,
            fail_open=webhook.fails_open,
            notes=("detection mode, if set in the Connaisseur configuration, is not visible",),
        )
