"""Per-namespace facts: whether a namespace denies by default in each direction.

A namespace denies by default when a policy isolates every pod in it (``podSelector:
{}``, Calico ``all()``, Cilium ``endpointSelector: {}``, or a cluster-wide policy whose
namespace selector certainly covers it) and no rule of those all-pods policies lets in
every peer on every port. Rules with ports or peers (the usual DNS allowance for egress)
keep the default deny; ``ingress: [{}]`` cancels it. An admin or baseline rule that denies
every peer on every port counts as a default deny too.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from zt_audit.analysis.netpol.engine import NetworkEngine
from zt_audit.analysis.netpol.model import Action, Peer, Policy, Rule, Tier
from zt_audit.analysis.selectors import Match


@dataclass
class NamespaceDefault:
    namespace: str
    direction: str
    denies: bool
    policies: list[Policy] = field(default_factory=list)  # the all-pods policies that isolate
    cancelled_by: list[tuple[Policy, Rule]] = field(default_factory=list)


def covers_namespace(engine: NetworkEngine, policy: Policy, namespace: str) -> bool:
    """Whether ``policy`` selects every pod of ``namespace``."""
    if not policy.subject_pods.empty:
        return False
    if policy.namespace is not None:
        return policy.namespace == namespace
    names = policy.subject_namespace_names
    if names is not None and namespace not in names:
        return False
    selector = policy.subject_namespaces
    return selector is None or engine.index.namespace_match(selector, namespace) is Match.YES


def opens_everything(rule: Rule) -> bool:
    """An allow rule for every peer on every port."""
    return (
        rule.action is Action.ALLOW and rule.ports is None and any(p.any_peer for p in rule.peers)
    )


def _deniesevery_pod(rule: Rule) -> bool:
    return (
        rule.action is Action.DENY
        and rule.ports is None
        and any(every_pod(p) or p.any_peer for p in rule.peers)
    )


def every_pod(peer: Peer) -> bool:
    """A peer selecting every pod of every namespace."""
    return (
        peer.selects_pods
        and peer.namespaces is not None
        and peer.namespaces.empty
        and peer.namespace_names is None
        and (peer.pods is None or peer.pods.empty)
    )


def all_pods_policies(engine: NetworkEngine) -> dict[str | None, list[Policy]]:
    """Policies that select every pod of their scope, by namespace (None: cluster-wide)."""
    found: dict[str | None, list[Policy]] = {}
    for policy in engine.policies:
        if policy.subject_pods.empty:
            found.setdefault(policy.namespace, []).append(policy)
    return found


def namespace_default(
    engine: NetworkEngine,
    namespace: str,
    direction: str,
    candidates: dict[str | None, list[Policy]] | None = None,
) -> NamespaceDefault:
    candidates = candidates if candidates is not None else all_pods_policies(engine)
    pool = [*candidates.get(namespace, ()), *candidates.get(None, ())]
    covering = [p for p in pool if covers_namespace(engine, p, namespace)]
    isolating = [p for p in covering if p.tier is Tier.NAMESPACE and p.affects(direction)]
    cancelled = [(p, r) for p in isolating for r in p.rules_for(direction) if opens_everything(r)]
    admin_deny = [
        p
        for p in covering
        if p.tier is not Tier.NAMESPACE and any(_deniesevery_pod(r) for r in p.rules_for(direction))
    ]
    denies = (bool(isolating) and not cancelled) or bool(admin_deny)
    return NamespaceDefault(
        namespace,
        direction,
        denies,
        sorted(isolating + admin_deny, key=lambda p: p.name),
        cancelled,
    )
