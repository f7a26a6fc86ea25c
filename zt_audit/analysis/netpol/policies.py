"""Find every policy object in an inventory and normalise it, whatever its dialect."""

from __future__ import annotations

from collections.abc import Callable

from zt_audit.analysis.netpol.kubernetes import normalise_network_policy
from zt_audit.analysis.netpol.model import Policy
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
    policies.sort(key=lambda p: (p.tier.value, p.order, p.name))
    return policies
