"""Runtime sensors: detection present (RT-01), node coverage (RT-02), response (RT-03)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from zt_audit.analysis.absence import COMPLETE_HINT, absence_unobservable
from zt_audit.analysis.agents import (
    Coverage,
    coverage,
    daemonset_agents,
    ready_state,
    schedulable_nodes,
    virtual_nodes,
    workload_agents,
)
from zt_audit.analysis.forwarders import RESPONSE_OUTPUTS, configured_outputs
from zt_audit.analysis.signatures import Match
from zt_audit.engine.context import (
    ScanContext,
    by_threshold,
    not_applicable,
    not_observable,
)
from zt_audit.engine.model import CheckResult, Finding, Ratio, Stage, Status
from zt_audit.engine.registry import Implementation
from zt_audit.inventory import FieldPath, Resource

SENSOR_HINT = "include the namespace of the runtime sensor (for example falco or kube-system)"


def _describe(match: Match) -> str:
    return f"{match.signature.product} DaemonSet {match.workload.key}"


def _agent_facts(match: Match) -> dict[str, Any]:
    ready, desired = ready_state(match)
    return {
        "product": match.signature.product,
        "object": str(match.workload.resource.ref),
        "matched_by": match.by,
        "number_ready": ready,
        "desired": desired,
    }


def _no_sensor(ctx: ScanContext) -> CheckResult | None:
    """The result when no sensor is found, if that absence cannot be trusted."""
    reason = absence_unobservable(ctx, "DaemonSet")
    if reason is None:
        return None
    return not_observable(
        f"no runtime sensor DaemonSet in the input ({reason})",
        hint=f"{SENSOR_HINT}; {COMPLETE_HINT}",
    )


def detection_present(ctx: ScanContext) -> CheckResult:
    agents = daemonset_agents(ctx, "runtime")
    if not agents:
        return _no_sensor(ctx) or CheckResult(
            Status.FAIL, "no runtime threat-detection sensor runs as a DaemonSet"
        )

    facts = {"agents": [_agent_facts(m) for m in agents]}
    findings = []
    running = []
    for match in agents:
        ready, _ = ready_state(match)
        if ready == 0:  # a status with no ready pod: the sensor watches nothing
            findings.append(
                ctx.finding(
                    match.workload.resource,
                    ("status", "numberReady"),
                    f"{_describe(match)} has no ready pod",
                )
            )
        else:
            running.append(match)
    if not running:
        return CheckResult(
            Status.FAIL,
            "runtime sensors are deployed but none has a ready pod",
            findings=tuple(sorted(findings, key=Finding.sort_key)),
            facts=facts,
        )

    names = ", ".join(_describe(m) for m in running)
    unknown = [m for m in running if ready_state(m)[0] is None]
    note = " (readiness not in the input: no DaemonSet status)" if unknown else ""
    return CheckResult(
        Status.PASS,
        f"runtime detection by {names}{note}",
        findings=tuple(sorted(findings, key=Finding.sort_key)),
        facts=facts,
    )


def _miss_path(match: Match, reason: str) -> FieldPath:
    workload = match.workload
    if reason.startswith("nodeSelector"):
        return workload.path("nodeSelector")
    if reason.startswith("required node affinity"):
        return workload.path("affinity", "nodeAffinity")
    return workload.path("tolerations")


def _coverage_findings(ctx: ScanContext, best: Coverage, status: Status) -> Iterator[Finding]:
    match = best.match
    # One finding per cause: a thousand GPU nodes with one taint are one problem.
    by_reason: dict[str, list[str]] = {}
    for missed in best.missed:
        by_reason.setdefault(missed.reason, []).append(missed.node)
    for reason, nodes in sorted(by_reason.items()):
        if len(nodes) == 1:
            where = f"node {nodes[0]}"
        else:
            more = f" and {len(nodes) - 3} more" if len(nodes) > 3 else ""
            where = f"{len(nodes)} nodes ({', '.join(nodes[:3])}{more})"
        yield ctx.finding(
            match.workload.resource,
            _miss_path(match, reason),
            f"{_describe(match)} cannot run on {where}: {reason}",
            status=status,
        )
    schedulable = len(best.schedulable)
    if best.ready is not None and best.ready < schedulable:
        yield ctx.finding(
            match.workload.resource,
            ("status", "numberReady"),
            f"{_describe(match)} has {best.ready} ready pods for {schedulable} schedulable nodes",
            status=status,
        )


def sensor_node_coverage(ctx: ScanContext) -> CheckResult:
    if not ctx.inventory.has_kind("Node"):
        return not_observable(
            "no Node objects in the input, so node coverage cannot be measured",
            hint="add the nodes: kubectl get nodes -o yaml",
        )
    nodes = schedulable_nodes(ctx)
    if not nodes:
        return not_applicable("every node is virtual (Fargate or virtual-kubelet)")
    agents = daemonset_agents(ctx, "runtime")
    if not agents:
        return _no_sensor(ctx) or CheckResult(
            Status.FAIL, "no runtime sensor covers any node", ratio=Ratio(0, len(nodes), "nodes")
        )

    # The sensor that covers most nodes is judged; its gaps are the findings.
    coverages = sorted((coverage(ctx, m) for m in agents), key=lambda c: -c.covered)
    best = coverages[0]
    ratio = Ratio(best.covered, best.eligible, "nodes")
    status = (
        Status.PASS if ratio.value >= 0.95 else Status.WARN if ratio.value >= 0.7 else Status.FAIL
    )
    findings = list(_coverage_findings(ctx, best, status))
    facts = {
        "sensor": _describe(best.match),
        # Counts, and names only for the gaps: a large cluster has thousands of nodes.
        "eligible_nodes": best.eligible,
        "schedulable_nodes": len(best.schedulable),
        "uncovered_nodes": [p.node for p in best.missed],
        "virtual_nodes_excluded": virtual_nodes(ctx),
        "number_ready": best.ready,
    }
    full = ratio.passed == ratio.total
    return by_threshold(
        ratio,
        pass_at=0.95,
        warn_at=0.7,
        findings=findings,
        what=f"covered by {_describe(best.match)}",
        facts=facts,
        stage_scores={Stage.ADVANCED: 1.0, Stage.OPTIMAL: 1.0 if full else 0.5}
        if ratio.value >= 0.95
        else None,
    )


# Enforcement evidence, per policy-driven sensor: (kinds, group, test of one object).


def _walk(value: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield str(key), item
            yield from _walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item)


def _kubearmor_blocks(resource: Resource) -> bool:
    return any(k == "action" and str(v).lower() == "block" for k, v in _walk(resource.spec))


TETRAGON_ACTIONS = frozenset({"sigkill", "override", "notifyenforcer", "signal"})


def _tetragon_enforces(resource: Resource) -> bool:
    return any(
        k == "action" and str(v).lower() in TETRAGON_ACTIONS for k, v in _walk(resource.spec)
    )


def _neuvector_protects(resource: Resource) -> bool:
    target = resource.spec.get("target")
    mode = target.get("policymode") if isinstance(target, dict) else None
    return isinstance(mode, str) and mode.lower() == "protect"


ENFORCEMENT = {
    "kubearmor": (
        ("KubeArmorPolicy", "KubeArmorClusterPolicy", "KubeArmorHostPolicy"),
        "security.kubearmor.com",
        _kubearmor_blocks,
        "action: Block",
    ),
    "tetragon": (
        ("TracingPolicy", "TracingPolicyNamespaced"),
        "cilium.io",
        _tetragon_enforces,
        "a Sigkill/Override/Signal match action",
    ),
    "neuvector": (
        ("NvSecurityRule", "NvClusterSecurityRule"),
        "neuvector.com",
        _neuvector_protects,
        "policymode Protect",
    ),
}


def _enforcing_policies(ctx: ScanContext, agent_id: str) -> list[Resource]:
    kinds, group, test, _ = ENFORCEMENT[agent_id]
    found = [r for r in ctx.inventory.of_kind(*kinds, group=group) if test(r)]
    return sorted(found, key=lambda r: r.ref)


def _responders(ctx: ScanContext) -> tuple[list[str], list[str]]:
    """(automated responses, forwarders without a response output), described."""
    responses, forwarders = [], []
    for match in workload_agents(ctx, "responders"):
        name = f"{match.signature.product} {match.workload.kind} {match.workload.key}"
        if match.signature.get("role") == "responder":
            responses.append(name)
            continue
        outputs = set(configured_outputs(ctx.inventory, match))
        acting = sorted(outputs & RESPONSE_OUTPUTS)
        if acting:
            responses.append(f"{name} (response outputs: {', '.join(acting)})")
        else:
            forwarders.append(name)
    return responses, forwarders


def enforcement_response(ctx: ScanContext) -> CheckResult:
    agents = daemonset_agents(ctx, "runtime")
    if not agents:
        return _no_sensor(ctx) or CheckResult(
            Status.FAIL, "no runtime sensor, so no runtime enforcement or response"
        )

    evidence: list[str] = []
    detect_only: list[str] = []
    opaque: list[str] = []
    for match in agents:
        agent_id, mode = match.signature.id, match.signature.get("response", "detect")
        if agent_id in ENFORCEMENT:
            policies = _enforcing_policies(ctx, agent_id)
            if policies:
                label = ENFORCEMENT[agent_id][3]
                refs = ", ".join(str(p.ref) for p in policies)
                evidence.append(f"{_describe(match)} enforces {refs} ({label})")
                continue
        if mode == "opaque":
            opaque.append(_describe(match))
        else:
            detect_only.append(_describe(match))

    responses, forwarders = _responders(ctx)
    evidence.extend(f"automated response by {r}" for r in responses)
    facts = {
        "enforcement": sorted(evidence),
        "detect_only": sorted(detect_only),
        "opaque": sorted(opaque),
        "forwarders": sorted(forwarders),
    }
    if evidence:
        return CheckResult(Status.PASS, "; ".join(sorted(evidence)), facts=facts)
    if detect_only:
        extra = f"; events forwarded by {', '.join(forwarders)}" if forwarders else ""
        return CheckResult(
            Status.WARN,
            f"detection only: {', '.join(sorted(detect_only))} neither block nor trigger an "
            f"automated response{extra}",
            facts=facts,
        )
    return not_observable(
        f"the blocking mode of {', '.join(sorted(opaque))} is set in the vendor console",
        hint="verify the prevention policies in the vendor's console",
        facts=facts,
    )


CHECKS = [
    Implementation("RT-01", detection_present),
    Implementation("RT-02", sensor_node_coverage),
    Implementation("RT-03", enforcement_response),
]
