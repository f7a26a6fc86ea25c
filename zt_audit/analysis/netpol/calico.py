"""Calico ``NetworkPolicy`` and ``GlobalNetworkPolicy`` into the model.

Calico rules are ordered and carry actions; policies are read by ``order`` (Kubernetes
policies sit at 1000, a policy without an order comes last). A namespaced policy's
selectors pick pods of its own namespace unless a rule gives a ``namespaceSelector``;
a global policy's selectors range over every namespace.
"""

from __future__ import annotations

import math
from typing import Any

from zt_audit.analysis.netpol.calico_selectors import parse_calico_selector
from zt_audit.analysis.netpol.kubernetes import parse_ip_block
from zt_audit.analysis.netpol.model import (
    EGRESS,
    INGRESS,
    Action,
    Peer,
    Policy,
    Rule,
    Tier,
)
from zt_audit.analysis.netpol.ports import PROTOCOLS, PortSpec
from zt_audit.analysis.selectors import EVERYTHING, NOTHING, Requirement, Selector
from zt_audit.inventory import Resource

ACTIONS = {"Allow": Action.ALLOW, "Deny": Action.DENY, "Pass": Action.PASS}
GROUPS = ("projectcalico.org", "crd.projectcalico.org")
NAMESPACE_LABEL = "projectcalico.org/namespace"
NAME_LABEL = "projectcalico.org/name"
UNMODELLED_PEERS = ("serviceAccounts", "services", "notSelector", "notNets")
METADATA_NAME = "kubernetes.io/metadata.name"


def normalise_calico(resource: Resource) -> Policy | None:
    spec = resource.spec
    is_global = resource.kind == "GlobalNetworkPolicy"
    order = spec.get("order")
    policy = Policy(
        resource=resource,
        tier=Tier.NAMESPACE,
        order=float(order)
        if isinstance(order, int | float) and not isinstance(order, bool)
        else math.inf,
        namespace=None if is_global else (resource.namespace or "default"),
        subject_pods=NOTHING,
    )
    subject = parse_calico_selector(spec.get("selector"))
    if subject is None:
        policy.notes.append("selector not translated: the policy is taken to select no pod")
        subject = NOTHING
    subject, by_name = split_namespace_label(subject)
    policy.subject_pods = subject
    if is_global:
        namespaces = parse_calico_selector(spec.get("namespaceSelector"))
        namespaces = _namespace_names(namespaces) if namespaces is not None else NOTHING
        policy.subject_namespaces = _both(namespaces, by_name)
    types = _types(spec)
    for direction in (INGRESS, EGRESS):
        policy.isolates[direction] = direction in types
        rules: list[Rule] = []
        entries = spec.get(direction)
        if direction in types and isinstance(entries, list):
            for index, entry in enumerate(entries):
                rule = _rule(entry, direction, index, policy)
                if rule is not None:
                    rules.append(rule)
        policy.rules[direction] = rules
    return policy


def _types(spec: dict[str, Any]) -> set[str]:
    declared = spec.get("types")
    if isinstance(declared, list) and declared:
        return {t.lower() for t in declared if t in ("Ingress", "Egress")}
    has_egress = isinstance(spec.get(EGRESS), list) and bool(spec[EGRESS])
    has_ingress = isinstance(spec.get(INGRESS), list) and bool(spec[INGRESS])
    if has_egress and not has_ingress:
        return {EGRESS}
    return {INGRESS, EGRESS} if has_egress else {INGRESS}


def _rule(entry: Any, direction: str, index: int, policy: Policy) -> Rule | None:
    if not isinstance(entry, dict):
        return None
    action = ACTIONS.get(entry.get("action"))
    if action is None:
        return None  # Log and unknown actions decide nothing
    peer_side = entry.get("source" if direction == INGRESS else "destination")
    port_side = entry.get("destination")
    peers = _peers(peer_side if isinstance(peer_side, dict) else {}, policy)
    ports = _ports(entry.get("protocol"), port_side if isinstance(port_side, dict) else {})
    for side in (entry.get("source"), entry.get("destination")):
        if isinstance(side, dict) and any(k.startswith("not") for k in side):
            policy.notes.append(f"rule {index}: negated matches (not*) are ignored")
    return Rule(action, peers, ports, ("spec", direction, index), index)


def _peers(side: dict[str, Any], policy: Policy) -> tuple[Peer, ...]:
    # Limitation: Calico ANDs `nets` with `selector` in one side; they are ORed here, and
    # tiers other than the default one are read as if they were all one tier.
    peers: list[Peer] = []
    nets = side.get("nets")
    if isinstance(nets, list):
        for cidr in nets:
            block = parse_ip_block({"cidr": cidr})
            if block is not None:
                peers.append(Peer(ip_block=block))
    selector_text, namespace_text = side.get("selector"), side.get("namespaceSelector")
    if selector_text is not None or namespace_text is not None:
        pods, by_name = split_namespace_label(_peer_selector(selector_text, policy))
        if namespace_text is not None:
            namespaces: Selector | None = _namespace_names(_peer_selector(namespace_text, policy))
        elif policy.namespace is None or by_name is not None:
            namespaces = EVERYTHING
        else:
            namespaces = None
        namespaces = _both(namespaces, by_name) if by_name is not None else namespaces
        peers.append(Peer(pods=pods, namespaces=namespaces, home=policy.namespace))
    if not peers and nets is None:
        unmodelled = sorted(k for k in side if k in UNMODELLED_PEERS)
        if unmodelled:
            # Limitation: peers chosen only by these are not modelled; the rule matches none.
            policy.notes.append(f"peers by {', '.join(unmodelled)} are not modelled")
            return ()
        return (Peer(any_peer=True),)
    return tuple(peers)


def split_namespace_label(selector: Selector) -> tuple[Selector, Selector | None]:
    """Move requirements on Calico's ``projectcalico.org/namespace`` pseudo-label (which
    every pod carries) into a namespace selector on the name label."""
    if not selector.valid:
        return selector, None
    pods = [r for r in selector.requirements if r.key != NAMESPACE_LABEL]
    names = [
        Requirement(METADATA_NAME, r.operator, r.values)
        for r in selector.requirements
        if r.key == NAMESPACE_LABEL
    ]
    return Selector(tuple(pods)), Selector(tuple(names)) if names else None


def _namespace_names(selector: Selector) -> Selector:
    """Calico names a namespace by ``projectcalico.org/name`` in namespace selectors."""
    if not selector.valid:
        return selector
    return Selector(
        tuple(
            Requirement(METADATA_NAME, r.operator, r.values) if r.key == NAME_LABEL else r
            for r in selector.requirements
        )
    )


def _both(first: Selector | None, second: Selector | None) -> Selector | None:
    if first is None or second is None:
        return first or second
    if not first.valid or not second.valid:
        return NOTHING
    return Selector(
        tuple(
            sorted(
                (*first.requirements, *second.requirements),
                key=lambda r: (r.key, r.operator, sorted(r.values)),
            )
        )
    )


def _peer_selector(text: Any, policy: Policy) -> Selector:
    selector = parse_calico_selector(text)
    if selector is None:
        policy.notes.append(f"peer selector {text!r} not translated: taken as all()")
        return EVERYTHING
    return selector


def _ports(protocol: Any, side: dict[str, Any]) -> tuple[PortSpec, ...] | None:
    protocols = [protocol.upper()] if isinstance(protocol, str) else list(PROTOCOLS)
    protocols = [p for p in protocols if p in PROTOCOLS] or (
        [] if isinstance(protocol, str) else list(PROTOCOLS)
    )
    ports = side.get("ports")
    if not isinstance(ports, list) or not ports:
        if protocol is None:
            return None
        return tuple(PortSpec(p) for p in protocols)
    specs = []
    for p in protocols:
        for item in ports:
            specs.append(_port(p, item))
    return tuple(specs)


def _port(protocol: str, item: Any) -> PortSpec:
    if isinstance(item, int) and not isinstance(item, bool):
        return PortSpec(protocol, item)
    if isinstance(item, str) and ":" in item:
        low, _, high = item.partition(":")
        if low.isdigit() and high.isdigit():
            return PortSpec(protocol, int(low), int(high))
        return PortSpec(protocol, valid=False)
    if isinstance(item, str) and item.isdigit():
        return PortSpec(protocol, int(item))
    if isinstance(item, str) and item:
        return PortSpec(protocol, item)
    return PortSpec(protocol, valid=False)


NORMALISERS = {
    (group, kind): normalise_calico
    for group in GROUPS
    for kind in ("NetworkPolicy", "GlobalNetworkPolicy")
}
