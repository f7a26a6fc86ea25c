"""Node agents (runtime sensors, log shippers) and the share of nodes each one covers.

An agent runs as a DaemonSet; it protects a node only if the scheduler can place its pod
there (see ``scheduling``) and the pod is ready. Virtual nodes (Fargate, virtual-kubelet)
cannot run DaemonSet pods and are left out of the count.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from zt_audit.analysis.scheduling import Placement, is_virtual_node, placement
from zt_audit.analysis.signatures import Match, Signatures, load_signatures
from zt_audit.engine.context import ScanContext
from zt_audit.inventory import Resource

CONTROL_PLANE_LABELS = ("node-role.kubernetes.io/control-plane", "node-role.kubernetes.io/master")


@dataclass(frozen=True)
class Coverage:
    """Where one DaemonSet agent can run, and how many of its pods are ready."""

    match: Match
    placements: tuple[Placement, ...]  # one per eligible (non-virtual) node, by node name
    ready: int | None  # status.numberReady, when the input has a status

    @property
    def schedulable(self) -> list[str]:
        return [p.node for p in self.placements if p.schedulable]

    @property
    def missed(self) -> list[Placement]:
        return [p for p in self.placements if not p.schedulable]

    @property
    def covered(self) -> int:
        """Nodes the agent protects: schedulable ones, capped by ready pods when known."""
        count = len(self.schedulable)
        return count if self.ready is None else min(count, self.ready)

    @property
    def eligible(self) -> int:
        return len(self.placements)


def signatures(ctx: ScanContext) -> Signatures:
    return ctx.analysis("signatures", lambda: load_signatures(ctx.config.signature_files))


def daemonset_agents(ctx: ScanContext, section: str) -> list[Match]:
    """DaemonSets of any namespace (agents often live in excluded ones) that match."""
    daemonsets = [w for w in ctx.inventory.workloads if w.kind == "DaemonSet"]
    return ctx.analysis(f"agents.{section}", lambda: signatures(ctx).find(section, daemonsets))


def workload_agents(ctx: ScanContext, section: str) -> list[Match]:
    """Workloads of any kind and namespace that match ``section``."""
    return ctx.analysis(
        f"agents.any.{section}",
        lambda: signatures(ctx).find(section, ctx.inventory.workloads),
    )


def schedulable_nodes(ctx: ScanContext) -> list[Resource]:
    """Nodes that can run DaemonSet pods, sorted by name."""
    nodes = [n for n in ctx.inventory.of_kind("Node", group="") if not is_virtual_node(n)]
    return sorted(nodes, key=lambda node: node.name)


def virtual_nodes(ctx: ScanContext) -> list[str]:
    return sorted(n.name for n in ctx.inventory.of_kind("Node", group="") if is_virtual_node(n))


def is_control_plane(node: Resource) -> bool:
    return any(label in node.labels for label in CONTROL_PLANE_LABELS)


def coverage(ctx: ScanContext, match: Match) -> Coverage:
    nodes = schedulable_nodes(ctx)
    pod_spec = match.workload.pod_spec
    placements = tuple(placement(pod_spec, node) for node in nodes)
    return Coverage(match, placements, _number_ready(match.workload.resource.obj))


def _number_ready(obj: dict[str, Any]) -> int | None:
    status = obj.get("status")
    ready = status.get("numberReady") if isinstance(status, dict) else None
    if isinstance(ready, bool) or not isinstance(ready, int):
        return None
    return max(ready, 0)


def ready_state(match: Match) -> tuple[int | None, int | None]:
    """(numberReady, desiredNumberScheduled) from the DaemonSet status, when present."""
    obj = match.workload.resource.obj
    status = obj.get("status")
    desired = status.get("desiredNumberScheduled") if isinstance(status, dict) else None
    desired = desired if isinstance(desired, int) and not isinstance(desired, bool) else None
    return _number_ready(obj), desired
