"""Kubernetes ``networking.k8s.io/v1`` NetworkPolicy into the model.

The rules follow the NetworkPolicy reference: ``policyTypes`` defaults to Ingress, plus
Egress when the policy has egress rules; a missing or empty ``from``/``to`` matches every
peer and a missing or empty ``ports`` every port; a peer with both ``namespaceSelector``
and ``podSelector`` selects those pods in those namespaces, while separate peers are ORed.
"""

from __future__ import annotations

from typing import Any

from zt_audit.analysis.netpol.model import (
    ANY_PEER,
    EGRESS,
    INGRESS,
    Action,
    IPBlock,
    Peer,
    Policy,
    Rule,
    Tier,
    parse_network,
)
from zt_audit.analysis.netpol.ports import PortSpec, parse_port_spec
from zt_audit.analysis.selectors import NOTHING, parse_selector
from zt_audit.inventory import FieldPath, Resource

# Calico places Kubernetes policies at order 1000 of its default tier; the same order
# lets Calico policies with a lower order take precedence, as they do in a cluster.
KUBERNETES_ORDER = 1000.0
PEER_FIELDS = {INGRESS: "from", EGRESS: "to"}


def normalise_network_policy(resource: Resource) -> Policy | None:
    if not isinstance(resource.obj.get("spec"), dict):
        return None  # the API server rejects such an object; it isolates nothing
    spec = resource.spec
    namespace = resource.namespace or "default"
    policy = Policy(
        resource=resource,
        tier=Tier.NAMESPACE,
        order=KUBERNETES_ORDER,
        namespace=namespace,
        subject_pods=_subject_selector(spec),
    )
    types = policy_types(spec)
    for direction in (INGRESS, EGRESS):
        policy.isolates[direction] = direction in types
        entries = spec.get(direction)
        rules: list[Rule] = []
        if isinstance(entries, list) and direction in types:
            for index, entry in enumerate(entries):
                rules.append(_rule(entry, direction, namespace, ("spec", direction, index), index))
        policy.rules[direction] = rules
    return policy


def policy_types(spec: dict[str, Any]) -> set[str]:
    """The directions a policy isolates, applying the API server's defaulting."""
    declared = spec.get("policyTypes")
    if isinstance(declared, list) and declared:
        return {t.lower() for t in declared if isinstance(t, str) and t in ("Ingress", "Egress")}
    types = {INGRESS}
    egress = spec.get(EGRESS)
    if isinstance(egress, list) and egress:
        types.add(EGRESS)
    return types


def _subject_selector(spec: dict[str, Any]):
    # podSelector is required; the API server stores an absent one as {} (all pods).
    return parse_selector(spec.get("podSelector"))


def _rule(entry: Any, direction: str, namespace: str, path: FieldPath, index: int) -> Rule:
    if not isinstance(entry, dict):
        return Rule(Action.ALLOW, (), (), path, index)  # malformed: allows nothing
    peers = parse_peers(entry.get(PEER_FIELDS[direction]), namespace)
    return Rule(Action.ALLOW, peers, parse_ports(entry.get("ports")), path, index)


def parse_peers(value: Any, namespace: str) -> tuple[Peer, ...]:
    """``from``/``to``: absent or empty matches every peer."""
    if value is None or value == []:
        return (ANY_PEER,)
    if not isinstance(value, list):
        return ()
    return tuple(_peer(item, namespace) for item in value)


def parse_ports(value: Any) -> tuple[PortSpec, ...] | None:
    """``ports``: absent or empty matches every port."""
    if value is None or value == []:
        return None
    if not isinstance(value, list):
        return ()
    return tuple(parse_port_spec(item) for item in value)


def _peer(item: Any, namespace: str) -> Peer:
    if not isinstance(item, dict):
        return Peer(pods=NOTHING, home=namespace)
    block = item.get("ipBlock")
    if block is not None:
        # ipBlock cannot be combined with selectors; the API server rejects such a peer.
        if "podSelector" in item or "namespaceSelector" in item:
            return Peer(pods=NOTHING, home=namespace)
        parsed = parse_ip_block(block)
        if parsed is None:
            return Peer(pods=NOTHING, home=namespace)  # an invalid block matches nothing
        return Peer(ip_block=parsed)
    has_pods, has_namespaces = "podSelector" in item, "namespaceSelector" in item
    if not has_pods and not has_namespaces:
        return Peer(pods=NOTHING, home=namespace)
    pods = parse_selector(item.get("podSelector")) if has_pods else None
    namespaces = parse_selector(item.get("namespaceSelector")) if has_namespaces else None
    return Peer(pods=pods, namespaces=namespaces, home=namespace)


def parse_ip_block(value: Any) -> IPBlock | None:
    if not isinstance(value, dict):
        return None
    cidr = parse_network(value.get("cidr"))
    if cidr is None:
        return None
    excepts = []
    for item in value.get("except") or ():
        network = parse_network(item)
        if network is not None and network.version == cidr.version:
            excepts.append(network)
    return IPBlock(cidr, tuple(sorted(excepts, key=str)))
