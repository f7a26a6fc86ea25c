"""Whole-cluster reachability as bitsets, for coverage, blast radius and posture.

Endpoints whose policies are the same share one computation. The result is port-blind:
a source counts as reaching a destination when some port is allowed each way, which may
overstate reach when ingress and egress allow disjoint ports (the ``reach`` command
intersects ports exactly).
"""

from __future__ import annotations

from dataclasses import dataclass

from zt_audit.analysis.netpol.bits import from_bits
from zt_audit.analysis.netpol.evaluate import ordered_rules
from zt_audit.analysis.netpol.index import EndpointIndex
from zt_audit.analysis.netpol.model import Action, Policy, Rule, Tier


@dataclass(frozen=True)
class GroupReach:
    """What the policies of a group of endpoints allow in one direction."""

    peers: int  # bits of endpoints allowed as peers
    external: tuple[str, ...]  # address ranges allowed, "any" for every address
    isolated: bool
    # For isolation by allow rules alone, the bits of each allowing peer: ``peers`` is
    # their union, which lets the transpose work peer by peer (see ``transpose``).
    allow_peers: tuple[int, ...] | None = None


def _run(index: EndpointIndex, rules: list[tuple[Policy, Rule]], remaining: int):
    allowed = passed = 0
    external: list[str] = []
    for _, rule in rules:
        members = 0
        for peer in rule.peers:
            members |= index.peer_bits(peer)
            if rule.action is Action.ALLOW:
                if peer.any_peer:
                    external.append("any")
                elif peer.ip_block is not None:
                    external.append(str(peer.ip_block))
        members &= remaining
        if rule.action is Action.ALLOW:
            allowed |= members
            remaining &= ~members
        elif rule.action is Action.PASS:
            passed |= members
            remaining &= ~members
        elif rule.ports is None:
            remaining &= ~members  # a deny limited to some ports leaves others open
    return allowed, passed, remaining, external


def group_reach(index: EndpointIndex, policies: list[Policy], direction: str) -> GroupReach:
    everything = index.all_bits
    admin_rules = ordered_rules(policies, Tier.ADMIN, direction)
    allowed, passed, remaining, external = _run(index, admin_rules, everything)
    isolating = [p for p in policies if p.tier is Tier.NAMESPACE and p.affects(direction)]
    pending = remaining | passed
    if isolating:
        rules = ordered_rules(isolating, Tier.NAMESPACE, direction)
        more, pending, _, more_external = _run(index, rules, pending)
        allowed |= more
        external += more_external
    baseline = ordered_rules(policies, Tier.BASELINE, direction)
    more, passed, remaining, more_external = _run(index, baseline, pending)
    allowed |= more | passed | remaining
    external += more_external
    isolated = bool(isolating) or _denies_all(policies, direction)
    if not isolated:
        external.append("any")
    if "any" in external:
        external = ["any"]
    allow_peers = None
    if isolating and len(isolating) == len(policies):
        rules = ordered_rules(isolating, Tier.NAMESPACE, direction)
        if all(rule.action is Action.ALLOW for _, rule in rules):
            allow_peers = tuple({index.peer_bits(p) for _, r in rules for p in r.peers})
    return GroupReach(allowed, tuple(sorted(set(external))), isolated, allow_peers)


def _denies_all(policies: list[Policy], direction: str) -> bool:
    """An admin or baseline rule that denies every pod on every port isolates too."""
    for policy in policies:
        if policy.tier is Tier.NAMESPACE:
            continue
        for rule in policy.rules_for(direction):
            if (
                rule.action is Action.DENY
                and rule.ports is None
                and any(
                    p.any_peer
                    or (
                        p.selects_pods
                        and p.namespaces is not None
                        and p.namespaces.empty
                        and (p.pods is None or p.pods.empty)
                    )
                    for p in rule.peers
                )
            ):
                return True
    return False


def transpose(groups: list[tuple[GroupReach, int]], size: int, everything: int) -> list[int]:
    """``result[j]`` holds bit ``i`` when endpoint ``i``'s group allows endpoint ``j``.

    ``groups`` pairs each distinct group with the bits of its members. A group isolated
    by allow rules alone is inverted peer by peer (peers are shared by many groups and
    hold fewer endpoints than their union); any other group is inverted by its value. A
    value of "everything" is applied once to all.
    """
    base = 0
    by_value: dict[int, int] = {}
    for group, members in groups:
        values = group.allow_peers if group.allow_peers is not None else (group.peers,)
        for value in values:
            if value == everything:
                base |= members
            elif value:
                by_value[value] = by_value.get(value, 0) | members
    result = [base] * size
    for value, members in by_value.items():
        for j in from_bits(value):
            result[j] |= members
    return result
