"""AdminNetworkPolicy and BaselineAdminNetworkPolicy (``policy.networking.k8s.io``).

Admin policies are cluster-scoped, ordered by ``priority`` (lower first) and read before
any NetworkPolicy; their Pass action hands a connection to the NetworkPolicy tier. The
single baseline policy is read last, only for traffic that no NetworkPolicy isolates.
"""

from __future__ import annotations

from typing import Any

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
from zt_audit.analysis.netpol.ports import PortSpec, parse_port_spec
from zt_audit.analysis.selectors import EVERYTHING, NOTHING, parse_selector
from zt_audit.inventory import Resource

ACTIONS = {"Allow": Action.ALLOW, "Deny": Action.DENY, "Pass": Action.PASS}
PEER_FIELDS = {INGRESS: "from", EGRESS: "to"}


def normalise_admin(resource: Resource) -> Policy | None:
    return _normalise(resource, Tier.ADMIN)


def normalise_baseline(resource: Resource) -> Policy | None:
    return _normalise(resource, Tier.BASELINE)


def _normalise(resource: Resource, tier: Tier) -> Policy:
    spec = resource.spec
    priority = spec.get("priority")
    order = float(priority) if isinstance(priority, int) and not isinstance(priority, bool) else 0.0
    subject = spec.get("subject")
    subject_pods, subject_namespaces = NOTHING, EVERYTHING
    if isinstance(subject, dict) and "namespaces" in subject:
        subject_pods, subject_namespaces = EVERYTHING, parse_selector(subject["namespaces"])
    elif isinstance(subject, dict) and isinstance(subject.get("pods"), dict):
        pods = subject["pods"]
        subject_pods = parse_selector(pods.get("podSelector"))
        subject_namespaces = parse_selector(pods.get("namespaceSelector"))
    policy = Policy(
        resource=resource,
        tier=tier,
        order=order,
        namespace=None,
        subject_pods=subject_pods,
        subject_namespaces=subject_namespaces,
    )
    for direction in (INGRESS, EGRESS):
        entries = spec.get(direction)
        rules = []
        if isinstance(entries, list):
            for index, entry in enumerate(entries):
                rule = _rule(entry, direction, index, policy)
                if rule is not None:
                    rules.append(rule)
        policy.rules[direction] = rules
        # Admin policies never isolate by themselves: only their rules decide.
        policy.isolates[direction] = False
    return policy


def _rule(entry: Any, direction: str, index: int, policy: Policy) -> Rule | None:
    if not isinstance(entry, dict) or entry.get("action") not in ACTIONS:
        return None
    peers: list[Peer] = []
    for item in entry.get(PEER_FIELDS[direction]) or ():
        if not isinstance(item, dict):
            continue
        if "namespaces" in item:
            peers.append(Peer(pods=EVERYTHING, namespaces=parse_selector(item["namespaces"])))
        elif isinstance(item.get("pods"), dict):
            pods = item["pods"]
            peers.append(
                Peer(
                    pods=parse_selector(pods.get("podSelector")),
                    namespaces=parse_selector(pods.get("namespaceSelector")),
                )
            )
        elif isinstance(item.get("networks"), list):
            for cidr in item["networks"]:
                block = parse_ip_block({"cidr": cidr})
                if block is not None:
                    peers.append(Peer(ip_block=block))
        elif "nodes" in item:
            policy.notes.append("node peers are not modelled: node addresses are not known")
    ports = _ports(entry.get("ports"))
    path = ("spec", direction, index)
    return Rule(ACTIONS[entry["action"]], tuple(peers), ports, path, index)


def _ports(value: Any) -> tuple[PortSpec, ...] | None:
    if not isinstance(value, list) or not value:
        return None
    specs = []
    for item in value:
        if not isinstance(item, dict):
            continue
        if isinstance(item.get("portNumber"), dict):
            specs.append(parse_port_spec(item["portNumber"]))
        elif isinstance(item.get("namedPort"), str):
            # Limitation: a named port is matched as TCP; ANP leaves its protocol to the pod.
            specs.append(PortSpec("TCP", item["namedPort"]))
        elif isinstance(item.get("portRange"), dict):
            spec = item["portRange"]
            specs.append(
                parse_port_spec(
                    {
                        "protocol": spec.get("protocol"),
                        "port": spec.get("start"),
                        "endPort": spec.get("end"),
                    }
                )
            )
    return tuple(specs)


NORMALISERS = {
    ("policy.networking.k8s.io", "AdminNetworkPolicy"): normalise_admin,
    ("policy.networking.k8s.io", "BaselineAdminNetworkPolicy"): normalise_baseline,
}
