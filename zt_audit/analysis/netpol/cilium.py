"""Cilium ``CiliumNetworkPolicy`` and ``CiliumClusterwideNetworkPolicy`` into the model.

An endpoint selected by a rule with an ingress (egress) section is isolated in that
direction, as with NetworkPolicy; ``ingressDeny``/``egressDeny`` rules win over allows.
Endpoint selectors may carry Cilium's source prefixes (``k8s:``, ``any:``) and the
namespace pseudo-labels; entities ``world``, ``cluster`` and ``all`` are translated.
"""

from __future__ import annotations

from typing import Any

from zt_audit.analysis.netpol.kubernetes import KUBERNETES_ORDER, parse_ip_block
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
from zt_audit.analysis.selectors import EVERYTHING, Requirement, Selector, parse_selector
from zt_audit.inventory import Resource

NAMESPACE_KEY = "io.kubernetes.pod.namespace"
NAMESPACE_LABEL_PREFIX = "io.cilium.k8s.namespace.labels."
# Cilium's CIDR rules and the world entity never select endpoints that Cilium manages.
WORLD = tuple(
    Peer(ip_block=IPBlock(network), external_only=True)
    for network in (parse_network("0.0.0.0/0"), parse_network("::/0"))
    if network is not None
)
DENY_ORDER = -1.0  # deny rules take precedence over every allow
PEER_KEYS = {
    INGRESS: ("fromEndpoints", "fromCIDR", "fromCIDRSet", "fromEntities"),
    EGRESS: ("toEndpoints", "toCIDR", "toCIDRSet", "toEntities"),
}
# Limitation: L7 rules, FQDN and Service targets, node and host entities are not modelled;
# a rule using only them allows nothing here, and the policy notes say so.
UNMODELLED = ("toFQDNs", "toServices", "fromRequires", "toRequires", "fromNodes", "toNodes")


def normalise_cilium(resource: Resource) -> list[Policy]:
    """One model policy per Cilium rule (``spec`` and each of ``specs``)."""
    spec = resource.obj.get("spec")
    specs = resource.obj.get("specs")
    rules = [spec] if isinstance(spec, dict) else []
    if isinstance(specs, list):
        rules += [s for s in specs if isinstance(s, dict)]
    return [_policy(resource, rule, i) for i, rule in enumerate(rules)]


def _policy(resource: Resource, spec: dict[str, Any], number: int) -> Policy:
    clusterwide = resource.kind == "CiliumClusterwideNetworkPolicy"
    namespace = None if clusterwide else (resource.namespace or "default")
    pods, namespaces = _endpoint_selector(spec.get("endpointSelector"), namespace)
    policy = Policy(
        resource=resource,
        tier=Tier.NAMESPACE,
        order=KUBERNETES_ORDER,
        namespace=namespace,
        subject_pods=pods,
        subject_namespaces=namespaces,
    )
    if "nodeSelector" in spec:
        policy.notes.append("host policies (nodeSelector) are not modelled")
        policy.subject_pods = Selector(valid=False)
    prefix = (
        ("spec",)
        if number == 0 and isinstance(resource.obj.get("spec"), dict)
        else ("specs", number - (1 if isinstance(resource.obj.get("spec"), dict) else 0))
    )
    for direction in (INGRESS, EGRESS):
        allows = spec.get(direction)
        denies = spec.get(f"{direction}Deny")
        policy.isolates[direction] = isinstance(allows, list) or isinstance(denies, list)
        rules: list[Rule] = []
        for key, action in ((f"{direction}Deny", Action.DENY), (direction, Action.ALLOW)):
            entries = spec.get(key)
            if not isinstance(entries, list):
                continue
            for index, entry in enumerate(entries):
                path = (*prefix, key, index)
                rules.append(_rule(entry, direction, action, path, index, policy))
        policy.rules[direction] = rules
    return policy


def _strip(key: str) -> str:
    for source in ("k8s:", "any:"):
        if key.startswith(source):
            return key[len(source) :]
    return key


def _endpoint_selector(value: Any, home: str | None) -> tuple[Selector, Selector | None]:
    """Split a Cilium endpoint selector into pod and namespace selectors."""
    selector = parse_selector(value)
    if not selector.valid:
        return selector, None
    pods: list[Requirement] = []
    namespaces: list[Requirement] = []
    for requirement in selector.requirements:
        key = _strip(requirement.key)
        if key == NAMESPACE_KEY:
            namespaces.append(
                Requirement("kubernetes.io/metadata.name", requirement.operator, requirement.values)
            )
        elif key.startswith(NAMESPACE_LABEL_PREFIX):
            namespaces.append(
                Requirement(
                    key[len(NAMESPACE_LABEL_PREFIX) :], requirement.operator, requirement.values
                )
            )
        else:
            pods.append(Requirement(key, requirement.operator, requirement.values))
    namespace_selector = Selector(tuple(namespaces)) if namespaces else None
    if namespace_selector is None and home is None:
        namespace_selector = EVERYTHING
    return Selector(tuple(pods)), namespace_selector


def _rule(
    entry: Any, direction: str, action: Action, path: tuple, index: int, policy: Policy
) -> Rule:
    if not isinstance(entry, dict):
        return Rule(action, (), (), path, index)
    peers: list[Peer] = []
    endpoints_key, cidr_key, cidr_set_key, entities_key = PEER_KEYS[direction]
    for item in entry.get(endpoints_key) or ():
        pods, namespaces = _endpoint_selector(item, policy.namespace)
        peers.append(Peer(pods=pods, namespaces=namespaces, home=policy.namespace))
    for cidr in entry.get(cidr_key) or ():
        block = parse_ip_block({"cidr": cidr})
        if block is not None:
            peers.append(Peer(ip_block=block, external_only=True))
    for item in entry.get(cidr_set_key) or ():
        block = parse_ip_block(item)
        if block is not None:
            peers.append(Peer(ip_block=block, external_only=True))
    for entity in entry.get(entities_key) or ():
        if entity == "all":
            peers.append(ANY_PEER)
        elif entity == "world":
            peers.extend(WORLD)
        elif entity == "cluster":
            peers.append(Peer(pods=EVERYTHING, namespaces=EVERYTHING))
        else:
            policy.notes.append(f"entity {entity!r} is not modelled")
    for key in UNMODELLED:
        if key in entry:
            policy.notes.append(f"{key} is not modelled")
    selects_peers = any(k in entry for k in PEER_KEYS[direction])
    if not selects_peers and "toPorts" in entry and not any(k in entry for k in UNMODELLED):
        peers = [ANY_PEER]  # an L4-only rule applies to every peer; `{}` allows nothing
    return Rule(action, tuple(peers), _ports(entry.get("toPorts")), path, index)


def _ports(value: Any) -> tuple[PortSpec, ...] | None:
    if not isinstance(value, list) or not value:
        return None
    specs: list[PortSpec] = []
    for item in value:
        ports = item.get("ports") if isinstance(item, dict) else None
        if not isinstance(ports, list):
            continue
        for port in ports:
            if not isinstance(port, dict):
                continue
            protocol = port.get("protocol", "ANY")
            protocols = ("TCP", "UDP", "SCTP") if protocol in ("ANY", None) else (protocol,)
            for proto in protocols:
                specs.append(parse_port_spec({**port, "protocol": proto}))
    return tuple(specs) if specs else None


NORMALISERS = {
    ("cilium.io", "CiliumNetworkPolicy"): normalise_cilium,
    ("cilium.io", "CiliumClusterwideNetworkPolicy"): normalise_cilium,
}
