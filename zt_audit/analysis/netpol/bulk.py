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
    return GroupReach(allowed, tuple(sorted(set(external))), isolated)


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


def transpose(values: list[int], everything: int) -> list[int]:
    """``result[j]`` holds bit ``i`` when ``values[i]`` holds bit ``j``.

    Endpoints with the same value are handled together, and the common "everything"
    value is applied once, so the cost follows the distinct restricted values.
    """
    size = len(values)
    members: dict[int, int] = {}
    for i, value in enumerate(values):
        members[value] = members.get(value, 0) | (1 << i)
    base = members.pop(everything, 0)
    result = [base] * size
    for value, who in members.items():
        for j in from_bits(value):
            result[j] |= who
    return result
