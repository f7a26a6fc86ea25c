"""Find every policy object in an inventory and normalise it, whatever its dialect."""

from __future__ import annotations

import math
from collections.abc import Callable

from zt_audit.analysis.netpol.kubernetes import normalise_network_policy
from zt_audit.analysis.netpol.model import EGRESS, INGRESS, Policy, Tier
from zt_audit.analysis.selectors import EVERYTHING
from zt_audit.inventory import Inventory, Resource

Normaliser = Callable[[Resource], Policy | list[Policy] | None]


def _dialects() -> dict[tuple[str, str], Normaliser]:
    from zt_audit.analysis.netpol import admin, calico, cilium

    return {
        ("networking.k8s.io", "NetworkPolicy"): normalise_network_policy,
        **calico.NORMALISERS,
        **cilium.NORMALISERS,
        **admin.NORMALISERS,
    }


# Kinds, with their API groups, that the engine reads.
POLICY_KINDS: tuple[tuple[str, str], ...] = (
    ("networking.k8s.io", "NetworkPolicy"),
    ("projectcalico.org", "NetworkPolicy"),
    ("projectcalico.org", "GlobalNetworkPolicy"),
    ("crd.projectcalico.org", "NetworkPolicy"),
    ("crd.projectcalico.org", "GlobalNetworkPolicy"),
    ("cilium.io", "CiliumNetworkPolicy"),
    ("cilium.io", "CiliumClusterwideNetworkPolicy"),
    ("policy.networking.k8s.io", "AdminNetworkPolicy"),
    ("policy.networking.k8s.io", "BaselineAdminNetworkPolicy"),
)


def load_policies(inventory: Inventory) -> list[Policy]:
    """Every policy in the inventory, normalised, in a stable order."""
    dialects = _dialects()
    kinds = sorted({kind for _, kind in POLICY_KINDS})
    policies: list[Policy] = []
    for resource in inventory.of_kind(*kinds):
        normalise = dialects.get((resource.group, resource.kind))
        if normalise is None:
            continue
        normalised = normalise(resource)
        if isinstance(normalised, list):
            policies.extend(normalised)
        elif normalised is not None:
            policies.append(normalised)
    always = cilium_default_deny(inventory)
    if always is not None:
        policies.append(always)
    policies.sort(key=lambda p: (p.tier.value, p.order, p.name))
    return policies


def cilium_default_deny(inventory: Inventory) -> Policy | None:
    """Cilium's ``enable-policy: always`` isolates every endpoint in both directions."""
    config = inventory.get("ConfigMap", "kube-system", "cilium-config")
    data = config.obj.get("data") if config is not None else None
    if not isinstance(data, dict) or str(data.get("enable-policy", "")).lower() != "always":
        return None
    return Policy(
        resource=config,
        tier=Tier.NAMESPACE,
        order=math.inf,
        namespace=None,
        subject_pods=EVERYTHING,
        subject_namespaces=EVERYTHING,
        isolates={INGRESS: True, EGRESS: True},
        rules={INGRESS: [], EGRESS: []},
    )
