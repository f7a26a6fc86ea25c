"""Evaluating one direction of one connection through the policy tiers.

Admin policies are read first, in priority order, and the first rule that matches a
port decides it (allow, deny, or pass to the next tier). Namespace policies (Kubernetes,
Calico, Cilium) come next: once any of them isolates the endpoint in that direction,
only their rules can allow a port, and every port they leave undecided is denied. What
is still undecided goes to the baseline policy, and then is allowed, since Kubernetes
allows all traffic to and from pods that nothing isolates.

Ports are tracked as sets, so one pass tells which ports are allowed and which rule
decided each.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from zt_audit.analysis.netpol.index import EndpointIndex
from zt_audit.analysis.netpol.model import INGRESS, Action, Endpoint, Policy, Rule, Tier
from zt_audit.analysis.netpol.ports import NamedPorts, PortSet
from zt_audit.analysis.selectors import Match

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Target = Endpoint | Address


@dataclass(frozen=True)
class Step:
    """A rule that matched the peer, the ports it names and what it did."""

    policy: Policy
    rule: Rule
    ports: PortSet
    certain: bool

    def describe(self) -> str:
        where = f"{'.'.join(str(p) for p in self.rule.path)}"
        verb = {Action.ALLOW: "allows", Action.DENY: "denies", Action.PASS: "passes"}[
            self.rule.action
        ]
        hedge = "" if self.certain else " (if the namespace labels match)"
        return f"{self.policy.name} {where} {verb} {self.ports}{hedge}"


@dataclass
class DirectionVerdict:
    """What one side of a connection allows: its ports, and why."""

    direction: str
    ports: PortSet
    certain_ports: PortSet
    policies_apply: bool = True  # False for hostNetwork pods and external peers
    isolated_by: list[Policy] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)

    @property
    def isolated(self) -> bool:
        return bool(self.isolated_by)

    def steps_for(self, protocol: str | None, port: int | None) -> list[Step]:
        if protocol is None or port is None:
            return list(self.steps)
        probe = PortSet({protocol: [(port, port)]})
        return [s for s in self.steps if s.ports & probe]


def peer_matches(index: EndpointIndex, rule: Rule, target: Target) -> Match:
    best = Match.NO
    for peer in rule.peers:
        if isinstance(target, Endpoint):
            match = index.peer_match(peer, target)
        elif peer.any_peer or (peer.ip_block is not None and peer.ip_block.contains(target)):
            match = Match.YES
        else:
            match = Match.NO
        best = best | match
        if best is Match.YES:
            break
    return best


def ordered_rules(policies: list[Policy], tier: Tier, direction: str) -> list[tuple[Policy, Rule]]:
    chosen = [p for p in policies if p.tier is tier]
    chosen.sort(key=lambda p: (p.order, p.name))
    return [(p, r) for p in chosen for r in p.rules_for(direction)]


@dataclass
class _Pass:
    """The running state of one tier: ports still open to decision, and outcomes."""

    remaining: PortSet
    allowed: PortSet = field(default_factory=PortSet)
    certain: PortSet = field(default_factory=PortSet)
    passed: PortSet = field(default_factory=PortSet)


def run_tier(
    index: EndpointIndex,
    rules: list[tuple[Policy, Rule]],
    state: _Pass,
    target: Target,
    named: NamedPorts,
    steps: list[Step],
) -> None:
    for policy, rule in rules:
        if not state.remaining:
            return
        match = peer_matches(index, rule, target)
        if not match:
            continue
        rule_ports = PortSet.of(rule.ports, named)
        decided = rule_ports & state.remaining
        if not rule_ports:
            continue
        certain = match is Match.YES
        steps.append(Step(policy, rule, rule_ports, certain))
        if not decided:
            continue
        if rule.action is Action.ALLOW:
            state.allowed = state.allowed | decided
            if certain:
                state.certain = state.certain | decided
        elif not certain:
            continue  # never deny or pass on a guess; the guess is reported instead
        elif rule.action is Action.PASS:
            state.passed = state.passed | decided
        state.remaining = state.remaining - decided


# Limitation: traffic from a pod's own node (kubelet probes) is always allowed by
# Kubernetes; nodes are not endpoints here, so such connections are not reported.
def evaluate_direction(
    index: EndpointIndex,
    endpoint: Endpoint,
    direction: str,
    policies: list[Policy],
    target: Target,
) -> DirectionVerdict:
    """What ``endpoint``'s policies allow in ``direction`` with ``target`` as the peer."""
    everything = PortSet.all()
    if endpoint.host_network:
        return DirectionVerdict(direction, everything, everything, policies_apply=False)
    if direction == INGRESS:
        named = endpoint.named_ports
    else:
        named = target.named_ports if isinstance(target, Endpoint) else {}
    steps: list[Step] = []

    admin = _Pass(everything)
    run_tier(index, ordered_rules(policies, Tier.ADMIN, direction), admin, target, named, steps)

    isolating = [p for p in policies if p.tier is Tier.NAMESPACE and p.affects(direction)]
    namespace = _Pass(admin.remaining | admin.passed)
    if isolating:
        rules = ordered_rules(isolating, Tier.NAMESPACE, direction)
        run_tier(index, rules, namespace, target, named, steps)
        baseline = _Pass(namespace.passed)
    else:
        baseline = _Pass(namespace.remaining)
    rules = ordered_rules(policies, Tier.BASELINE, direction)
    run_tier(index, rules, baseline, target, named, steps)

    allowed = admin.allowed | namespace.allowed | baseline.allowed | baseline.remaining
    allowed = allowed | baseline.passed
    certain = admin.certain | namespace.certain | baseline.certain | baseline.remaining
    certain = certain | baseline.passed
    return DirectionVerdict(
        direction,
        allowed,
        certain,
        isolated_by=sorted(isolating, key=lambda p: p.name),
        steps=steps,
    )
