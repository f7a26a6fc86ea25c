"""Network segmentation: NET-01 to NET-06, and NET-08 from ``network_exposure``.

Every verdict comes from the policy engine in ``zt_audit.analysis.netpol``, which reads
NetworkPolicy (and the Calico, Cilium and admin dialects) the way the network plugin
enforces it, rather than from the mere presence of a policy.
"""

from __future__ import annotations

import ipaddress
from dataclasses import replace

from zt_audit.analysis.netpol import EGRESS, INGRESS, NetworkEngine
from zt_audit.analysis.netpol.environment import Plugin, cloud_provider, network_plugins
from zt_audit.analysis.netpol.facts import blast_radius, segmentation, workload_facts
from zt_audit.analysis.netpol.model import Action, Policy, Rule, Tier
from zt_audit.analysis.netpol.namespaces import (
    NamespaceDefault,
    all_pods_policies,
    every_pod,
    namespace_default,
)
from zt_audit.analysis.netpol.policies import POLICY_KINDS
from zt_audit.engine.context import (
    ScanContext,
    by_threshold,
    from_findings,
    not_applicable,
    not_observable,
    passed,
)
from zt_audit.engine.evidence import SourceStatus
from zt_audit.engine.model import CheckResult, Finding, Ratio, Status
from zt_audit.engine.registry import Implementation
from zt_audit.rules.network_exposure import exposure

METADATA_ADDRESS = ipaddress.ip_address("169.254.169.254")
EDGE_LABEL = "zt-audit.io/edge"


def engine(ctx: ScanContext) -> NetworkEngine:
    return ctx.analysis("network.engine", lambda: NetworkEngine(ctx.inventory))


def _plugins(ctx: ScanContext) -> list[Plugin]:
    return ctx.analysis("network.plugins", lambda: network_plugins(ctx.inventory))


def _all_pods(ctx: ScanContext) -> dict[str | None, list[Policy]]:
    return ctx.analysis("network.all_pods", lambda: all_pods_policies(engine(ctx)))


def _denies(ctx: ScanContext, namespace: str, direction: str) -> bool:
    cache = ctx.analysis("network.defaults", dict)
    key = (namespace, direction)
    if key not in cache:
        cache[key] = namespace_default(engine(ctx), namespace, direction, _all_pods(ctx)).denies
    return cache[key]


def _policies_unseen(ctx: ScanContext) -> CheckResult | None:
    """Not observable when policies could not be listed, or when no policy of any dialect
    is in an input that may be partial."""
    kinds = sorted({kind for _, kind in POLICY_KINDS})
    forbidden = [k for k in kinds if ctx.kind_status(k) is SourceStatus.FORBIDDEN]
    if forbidden:
        return not_observable(
            "; ".join(ctx.evidence.describe(k, SourceStatus.FORBIDDEN) for k in forbidden),
            hint="grant list on these kinds to the identity that scans",
        )
    if engine(ctx).policies:
        return None
    unseen = ctx.unobservable(*kinds)
    if unseen is None:
        return None
    return not_observable(
        "no network policy objects in the input, which is not declared complete",
        hint="include the NetworkPolicy objects, or pass --bundle-is-complete if there are none",
    )


def _ineffective(ctx: ScanContext, result: CheckResult) -> CheckResult:
    """Policies on a plugin that does not enforce them protect nothing (NET-01)."""
    plugins = _plugins(ctx)
    if not plugins or any(p.enforcing for p in plugins) or not result.status.observable:
        return result
    names = ", ".join(sorted({p.name for p in plugins}))
    return replace(
        result,
        status=Status.FAIL,
        score=None,
        reason=f"{result.reason}; ineffective: the network plugin ({names}) does not "
        "enforce NetworkPolicy",
        facts={**result.facts, "enforced": False},
    )


# NET-01


def enforcing_cni(ctx: ScanContext) -> CheckResult:
    plugins = _plugins(ctx)
    facts = {
        "plugins": [
            {"name": p.name, "enforcing": p.enforcing, "object": str(p.resource.ref)}
            for p in plugins
        ]
    }
    enforcing = [p for p in plugins if p.enforcing]
    if enforcing:
        names = ", ".join(sorted({p.name for p in enforcing}))
        return passed(f"NetworkPolicy is enforced by {names}", facts=facts)
    if plugins:
        findings = [
            ctx.finding(
                p.resource,
                ("spec", "template", "spec", "containers"),
                f"{p.name} ({p.resource.ref}) does not enforce NetworkPolicy"
                + (f": {p.note}" if p.note else ""),
            )
            for p in plugins
        ]
        return CheckResult(
            Status.FAIL,
            "only network plugins that do not enforce NetworkPolicy were found; "
            "every NetworkPolicy is ineffective",
            findings=tuple(sorted(findings, key=Finding.sort_key)),
            facts=facts,
        )
    unseen = ctx.unobservable("DaemonSet")
    if unseen is not None:
        return not_observable(
            "no DaemonSets in the input, so the network plugin cannot be identified",
            hint="include the kube-system DaemonSets, or scan the live cluster",
        )
    return CheckResult(
        Status.WARN,
        "no known network plugin DaemonSet was found (a managed or unrecognised plugin)",
        hint="confirm that the cluster's network plugin enforces NetworkPolicy",
        facts=facts,
    )


# NET-02 and NET-03


def _namespace_finding(ctx: ScanContext, gap: NamespaceDefault, what: str) -> Finding:
    if gap.cancelled_by:
        policy, rule = gap.cancelled_by[0]
        return ctx.finding(
            policy.resource,
            rule.path,
            f"namespace {gap.namespace}: the default deny of {what} is cancelled by "
            f"{policy.name}, whose rule allows every peer on every port",
        )
    message = f"namespace {gap.namespace} has no default-deny {what} policy"
    namespace = ctx.inventory.namespaces.get(gap.namespace)
    if namespace is not None:
        return ctx.finding(namespace, ("metadata", "name"), message)
    # Without its Namespace object, point at the first object placed in it.
    for resource in ctx.inventory:
        if resource.namespace == gap.namespace:
            return ctx.finding(resource, ("metadata", "namespace"), message)
    return Finding(message, status=Status.FAIL)


def _default_deny(ctx: ScanContext, direction: str, warn_at: float) -> CheckResult:
    unseen = _policies_unseen(ctx)
    if unseen is not None:
        return unseen
    namespaces = ctx.namespaces()
    if not namespaces:
        return not_applicable("no namespaces in scope")
    net = engine(ctx)
    candidates = _all_pods(ctx)
    defaults = [namespace_default(net, ns, direction, candidates) for ns in namespaces]
    gaps = [d for d in defaults if not d.denies]
    ratio = Ratio(len(defaults) - len(gaps), len(defaults), "namespaces")
    status = Status.WARN if ratio.value >= warn_at else Status.FAIL
    findings = [_namespace_finding(ctx, gap, direction) for gap in gaps]
    findings = [
        Finding(f.message, status, f.object, f.field, f.location, f.remediation) for f in findings
    ]
    reopened = _reopened(ctx, direction)
    facts = {
        "namespaces": {
            d.namespace: {
                "default_deny": d.denies,
                "policies": [p.name for p in d.policies],
                "open_workloads": reopened.get(d.namespace, []),
            }
            for d in defaults
        }
    }
    result = by_threshold(
        ratio,
        pass_at=1.0,
        warn_at=warn_at,
        findings=findings,
        what=f"deny {direction} by default",
        facts=facts,
    )
    return _ineffective(ctx, result)


def _reopened(ctx: ScanContext, direction: str) -> dict[str, list[str]]:
    """In-scope workloads that every pod and address may reach in ``direction``, by
    namespace: a default deny does not protect them (NET-05 names the rules)."""
    net = engine(ctx)
    scoped = {id(w) for w in ctx.workloads}
    found: dict[str, list[str]] = {}
    for endpoint in net.endpoints:
        reach = net.reach(direction)[endpoint.index]
        if (
            id(endpoint.workload) in scoped
            and reach.external == ("any",)
            and (reach.peers == net.index.all_bits)
        ):
            found.setdefault(endpoint.namespace, []).append(f"{endpoint.kind}/{endpoint.key}")
    return {ns: sorted(names) for ns, names in found.items()}


def default_deny_ingress(ctx: ScanContext) -> CheckResult:
    return _default_deny(ctx, INGRESS, 0.8)


def default_deny_egress(ctx: ScanContext) -> CheckResult:
    return _default_deny(ctx, EGRESS, 0.5)


# NET-04


def isolation_coverage(ctx: ScanContext) -> CheckResult:
    unseen = _policies_unseen(ctx)
    if unseen is not None:
        return unseen
    net = engine(ctx)
    scoped = {id(w) for w in ctx.workloads}
    endpoints = [e for e in net.endpoints if id(e.workload) in scoped and not e.host_network]
    if not endpoints:
        return not_applicable("no pod-network workloads in scope")
    ingress = net.reach(INGRESS)
    open_ = [e for e in endpoints if not ingress[e.index].isolated]
    ratio = Ratio(len(endpoints) - len(open_), len(endpoints), "workloads")
    status = Status.WARN if ratio.value >= 0.6 else Status.FAIL
    findings = [
        ctx.finding(
            e.workload.resource,
            (*e.workload.spec_path[:-1], "metadata", "labels"),
            f"{e.kind} {e.key} is selected by no ingress-isolating policy: every pod and "
            "address may connect to it",
            status=status,
        )
        for e in open_
    ]
    facts = {
        "segmentation": segmentation(net, endpoints),
        "blast_radius": blast_radius(net, endpoints),
        # What the engine could not model exactly, so a reader can weigh the figures.
        "approximated": {
            p.name: sorted(set(p.notes))
            for p in sorted(net.policies, key=lambda p: p.name)
            if p.notes
        },
    }
    result = by_threshold(
        ratio,
        pass_at=0.95,
        warn_at=0.6,
        findings=findings,
        what="isolated for ingress",
        facts=facts,
    )
    result = replace(result, reason=f"{result.reason}; {_coverage_text(facts)}")
    return _ineffective(ctx, result)


def _coverage_text(facts: dict) -> str:
    """Segmentation coverage and the widest blast radius, for the terminal summary."""
    seg = facts["segmentation"]
    text = f"segmentation coverage {seg['isolated_both']} of {seg['workloads']} isolated both ways"
    worst = facts["blast_radius"]["worst"]
    if worst:
        top = worst[0]
        external = ", and from outside the cluster" if top["external"] else ""
        text += (
            f"; widest blast radius: {top['workload']} reachable from {top['reachable_from']}"
            f" of {facts['blast_radius']['other_workloads']} other workloads{external}"
        )
    return text


# NET-05


def _broad(rule: Rule) -> str | None:
    """Why an allow rule is over-broad, or None."""
    if rule.action is not Action.ALLOW:
        return None
    for peer in rule.peers:
        if peer.any_peer:
            return "has no peer restriction, so it admits every pod and address"
        if peer.ip_block is not None and peer.ip_block.everything:
            return f"allows every address ({peer.ip_block.cidr})"
        if every_pod(peer):
            return "allows every pod of every namespace"
    return None


def _edge(ctx: ScanContext, namespace: str | None) -> bool:
    if namespace is None:
        return False
    obj = ctx.inventory.namespaces.get(namespace)
    if obj is None:
        return False
    value = obj.labels.get(EDGE_LABEL) or obj.annotations.get(EDGE_LABEL)
    return value == "true"


def over_broad_allows(ctx: ScanContext) -> CheckResult:
    unseen = _policies_unseen(ctx)
    if unseen is not None:
        return unseen
    net = engine(ctx)
    policies = [
        p
        for p in net.policies
        if p.tier is Tier.NAMESPACE and (p.namespace is None or ctx.in_scope(p.namespace))
    ]
    if not policies:
        return not_applicable("no namespace network policies in scope")
    findings: list[Finding] = []
    for policy in policies:
        # The namespaces whose pods the policy selects are those a broad rule reopens.
        selected = {e.namespace for e in net.subjects(policy)}
        namespaces = sorted(selected or ([policy.namespace] if policy.namespace else []))
        for direction in (INGRESS, EGRESS):
            if not policy.affects(direction):
                continue
            for rule in policy.rules_for(direction):
                why = _broad(rule)
                if why is not None:
                    findings.append(_broad_finding(ctx, policy, rule, direction, why, namespaces))
    return from_findings(
        findings,
        evaluated=len(policies),
        unit="policies",
        clean="no over-broad allow rule in {ratio}",
        nothing="no namespace network policies in scope",
    )


def _broad_finding(
    ctx: ScanContext,
    policy: Policy,
    rule: Rule,
    direction: str,
    why: str,
    namespaces: list[str],
) -> Finding:
    """Fail when the rule reopens a default deny, unless only edge namespaces are hit."""
    negated = [ns for ns in namespaces if ctx.in_scope(ns) and _denies(ctx, ns, direction)]
    edge = bool(negated) and all(_edge(ctx, ns) for ns in negated)
    message = f"{policy.name} {direction} rule {rule.index} {why}"
    if negated:
        message += f"; it reopens the default deny of {direction} in {', '.join(negated)}"
    if edge:
        message += " (declared edge namespace)"
    status = Status.FAIL if negated and not edge else Status.WARN
    return ctx.finding(policy.resource, rule.path, message, status=status)


# NET-06


def metadata_reachable(ctx: ScanContext) -> CheckResult:
    cloud = cloud_provider(ctx.inventory)
    if cloud == "none":
        return not_applicable("the nodes run on no known cloud, so there is no metadata endpoint")
    net = engine(ctx)
    scoped = {id(w) for w in ctx.workloads}
    endpoints = [e for e in net.endpoints if id(e.workload) in scoped]
    if not endpoints:
        return not_applicable("no workloads in scope")
    unseen = _policies_unseen(ctx)
    if unseen is not None:
        return unseen
    status = Status.FAIL if cloud is not None else Status.WARN
    findings = []
    for endpoint in endpoints:
        verdict = net.verdict(endpoint, EGRESS, METADATA_ADDRESS)
        if not verdict.ports:
            continue
        if endpoint.host_network:
            why = "runs on the host network, outside NetworkPolicy"
        elif not verdict.isolated:
            why = "is not egress-isolated"
        else:
            why = "is allowed by " + "; ".join(s.describe() for s in verdict.steps[:3])
        findings.append(
            ctx.finding(
                endpoint.workload.resource,
                endpoint.workload.spec_path,
                f"{endpoint.kind} {endpoint.key} can reach the cloud metadata endpoint "
                f"{METADATA_ADDRESS}: it {why}",
                status=status,
            )
        )
    where = f"on {cloud}" if cloud else "(the cloud is unknown: no Node objects in the input)"
    return from_findings(
        findings,
        evaluated=len(endpoints),
        unit="workloads",
        clean=f"no workload can reach {METADATA_ADDRESS} {where} ({{ratio}})",
        nothing="no workloads in scope",
        facts={"cloud": cloud},
    )


# Per-workload posture (the report's ``network`` section)


def network_posture(ctx: ScanContext) -> dict[str, dict]:
    """Each in-scope workload's isolation and what may reach it, keyed Kind/namespace/name."""
    net = engine(ctx)
    scoped = {id(w) for w in ctx.workloads}
    return {
        f"{e.kind}/{e.namespace}/{e.workload.name}": workload_facts(net, e)
        for e in net.endpoints
        if id(e.workload) in scoped
    }


CHECKS = [
    Implementation("NET-01", enforcing_cni),
    Implementation("NET-02", default_deny_ingress),
    Implementation("NET-03", default_deny_egress),
    Implementation("NET-04", isolation_coverage),
    Implementation("NET-05", over_broad_allows),
    Implementation("NET-06", metadata_reachable),
    Implementation("NET-08", exposure),
]
