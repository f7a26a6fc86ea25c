"""Which nodes a pod template can be scheduled on.

The rules follow the Kubernetes scheduling documentation: every ``nodeSelector`` entry
must equal a node label; the required node affinity is an OR of terms, each an AND of
expressions; a node taint with effect ``NoSchedule`` or ``NoExecute`` keeps the pod away
unless one of its tolerations matches it. The DaemonSet controller adds tolerations of its
own, which are added here too, so that a DaemonSet is judged as the cluster runs it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from zt_audit.inventory import Resource

# Tolerations the DaemonSet controller adds to every DaemonSet pod (Kubernetes docs,
# "DaemonSet: Taints and tolerations").
DAEMONSET_TOLERATIONS: tuple[dict[str, str], ...] = (
    {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/disk-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/memory-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/pid-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"},
)
# Added only to DaemonSet pods that use the host network.
HOST_NETWORK_TOLERATION = {
    "key": "node.kubernetes.io/network-unavailable",
    "operator": "Exists",
    "effect": "NoSchedule",
}
BLOCKING_EFFECTS = ("NoSchedule", "NoExecute")


@dataclass(frozen=True, slots=True)
class Placement:
    """Whether a pod template can land on one node, and why not when it cannot."""

    node: str
    schedulable: bool
    reason: str = ""


def is_virtual_node(node: Resource) -> bool:
    """Fargate and virtual-kubelet nodes run no DaemonSet pods, so they are not counted."""
    labels = node.labels
    if labels.get("eks.amazonaws.com/compute-type") == "fargate":
        return True
    if labels.get("type") == "virtual-kubelet" or node.name.startswith("fargate-"):
        return True
    return any(taint.get("key") == "virtual-kubelet.io/provider" for taint in node_taints(node))


def node_taints(node: Resource) -> list[dict[str, Any]]:
    taints = node.spec.get("taints")
    if not isinstance(taints, list):
        return []
    return [t for t in taints if isinstance(t, dict)]


def placement(pod_spec: dict[str, Any], node: Resource, *, daemonset: bool = True) -> Placement:
    """Where the scheduler would (not) put a pod with ``pod_spec`` on ``node``."""
    labels = node.labels
    selector = pod_spec.get("nodeSelector")
    if isinstance(selector, dict):
        for key, value in sorted(selector.items()):
            if labels.get(str(key)) != str(value):
                return Placement(node.name, False, f"nodeSelector {key}={value} does not match")

    terms = _required_terms(pod_spec)
    if terms is not None and not any(_term_matches(term, node) for term in terms):
        return Placement(node.name, False, "required node affinity does not match")

    tolerations = _tolerations(pod_spec, daemonset=daemonset)
    for taint in node_taints(node):
        effect = taint.get("effect")
        if effect in BLOCKING_EFFECTS and not any(_tolerates(t, taint) for t in tolerations):
            key = taint.get("key", "")
            value = taint.get("value")
            shown = f"{key}={value}" if value else str(key)
            return Placement(node.name, False, f"taint {shown}:{effect} is not tolerated")
    return Placement(node.name, True)


def _required_terms(pod_spec: dict[str, Any]) -> list[Any] | None:
    affinity = pod_spec.get("affinity")
    node_affinity = affinity.get("nodeAffinity") if isinstance(affinity, dict) else None
    if not isinstance(node_affinity, dict):
        return None
    required = node_affinity.get("requiredDuringSchedulingIgnoredDuringExecution")
    if not isinstance(required, dict):
        return None
    terms = required.get("nodeSelectorTerms")
    # An empty or malformed term list selects no node at all.
    return terms if isinstance(terms, list) else []


def _term_matches(term: Any, node: Resource) -> bool:
    """A term is an AND of its expressions and fields; an empty term matches nothing."""
    if not isinstance(term, dict):
        return False
    expressions = term.get("matchExpressions")
    fields = term.get("matchFields")
    expressions = expressions if isinstance(expressions, list) else []
    fields = fields if isinstance(fields, list) else []
    if not expressions and not fields:
        return False
    node_fields = {"metadata.name": node.name}
    return all(_requirement(e, node.labels) for e in expressions) and all(
        _requirement(f, node_fields) for f in fields
    )


def _requirement(expression: Any, values: dict[str, str]) -> bool:
    if not isinstance(expression, dict):
        return False
    key, operator = expression.get("key"), expression.get("operator")
    wanted = expression.get("values")
    wanted = [str(v) for v in wanted] if isinstance(wanted, list) else []
    present = isinstance(key, str) and key in values
    actual = values.get(key) if isinstance(key, str) else None
    if operator == "In":
        return present and actual in wanted
    if operator == "NotIn":
        return not present or actual not in wanted
    if operator == "Exists":
        return present
    if operator == "DoesNotExist":
        return not present
    if operator in ("Gt", "Lt") and present and len(wanted) == 1:
        try:
            number, bound = int(str(actual)), int(wanted[0])
        except ValueError:
            return False
        return number > bound if operator == "Gt" else number < bound
    return False


def _tolerations(pod_spec: dict[str, Any], *, daemonset: bool) -> list[dict[str, Any]]:
    declared = pod_spec.get("tolerations")
    found = [t for t in declared if isinstance(t, dict)] if isinstance(declared, list) else []
    if daemonset:
        found.extend(DAEMONSET_TOLERATIONS)
        if pod_spec.get("hostNetwork") is True:
            found.append(HOST_NETWORK_TOLERATION)
    return found


def _tolerates(toleration: dict[str, Any], taint: dict[str, Any]) -> bool:
    """The toleration-matching rule of the Kubernetes taints and tolerations page."""
    effect = toleration.get("effect")
    if effect and effect != taint.get("effect"):
        return False
    operator = toleration.get("operator") or "Equal"
    key = toleration.get("key") or ""
    if operator == "Exists":
        # An empty key with Exists tolerates every taint.
        return not key or key == taint.get("key")
    if operator != "Equal" or key != taint.get("key"):
        return False
    return str(toleration.get("value") or "") == str(taint.get("value") or "")
