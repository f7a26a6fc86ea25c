"""Istio PeerAuthentication: the inbound mTLS mode of each workload port.

Precedence, as Istio documents and implements it:

- a policy without a selector in the root namespace (``istio-system`` unless configured)
  is mesh-wide; policies with a selector there are ignored;
- a policy without a selector (or with empty ``matchLabels``) elsewhere covers its
  namespace; a policy whose ``matchLabels`` are a subset of the pod's labels covers the
  workload;
- at each of the three levels only the oldest policy counts (by creation time, then
  name);
- the narrowest level that sets a mode wins; ``UNSET`` (or no ``mtls``) inherits from the
  level above, and with nothing set the mode is PERMISSIVE;
- ``portLevelMtls`` of the workload-level policy overrides the mode per workload
  (container) port, an ``UNSET`` port inheriting the workload's mode; in policies
  without a selector it is ignored.

In ambient mode ztunnel always tunnels meshed traffic in mTLS, so DISABLE is not
supported there; it is reported as PERMISSIVE.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from zt_audit.analysis.mesh.common import oldest, port_number, workload_ports
from zt_audit.analysis.mesh.model import Decision, Duplicate, Mesh, Mode, PortMode
from zt_audit.inventory import FieldPath, Inventory, Resource, Workload

GROUP = "security.istio.io"
MODES = {"STRICT": Mode.STRICT, "PERMISSIVE": Mode.PERMISSIVE, "DISABLE": Mode.DISABLE}
LEVELS = ("mesh", "namespace", "workload")


@dataclass
class PeerAuthResolution:
    """The outcome for one workload: the modes, and the policies behind them."""

    ports: list[PortMode]
    duplicates: list[Duplicate] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    policies: dict[str, Resource] = field(default_factory=dict)  # level -> winner


class PeerAuthIndex:
    """All PeerAuthentications of an inventory, grouped for per-workload lookups."""

    def __init__(self, inventory: Inventory, root_namespace: str) -> None:
        self.root = root_namespace
        self.by_namespace: dict[str, list[Resource]] = {}
        for policy in inventory.of_kind("PeerAuthentication", group=GROUP):
            # The API server rejects malformed policies, so they cannot be in force.
            if _well_formed(policy):
                self.by_namespace.setdefault(policy.namespace or "", []).append(policy)

    @property
    def policies(self) -> list[Resource]:
        return [p for items in self.by_namespace.values() for p in items]

    def candidates(self, workload: Workload) -> dict[str, list[Resource]]:
        """Policies that apply to the workload, per level, before oldest-wins."""
        levels: dict[str, list[Resource]] = {level: [] for level in LEVELS}
        for policy in self.by_namespace.get(self.root, []):
            if _selector_labels(policy) is None:
                levels["mesh"].append(policy)
        if workload.namespace == self.root:
            return levels
        for policy in self.by_namespace.get(workload.namespace, []):
            labels = _selector_labels(policy)
            if labels is None:
                levels["namespace"].append(policy)
            elif labels and _subset(labels, workload.pod_labels):
                levels["workload"].append(policy)
        return levels

    def resolve(self, workload: Workload, mesh: Mesh) -> PeerAuthResolution:
        result = PeerAuthResolution([])
        winners: dict[str, Resource] = {}
        for level, found in self.candidates(workload).items():
            if not found:
                continue
            ordered = oldest(found)
            winners[level] = ordered[0]
            if len(ordered) > 1:
                result.duplicates.append(Duplicate(level, ordered[0], ordered[1:]))
        result.policies = winners

        mode, decisions = Mode.PERMISSIVE, [Decision("Istio default: PERMISSIVE")]
        for level in LEVELS:
            policy = winners.get(level)
            if policy is None:
                continue
            value, path = _mode(policy.spec.get("mtls"), ("spec", "mtls", "mode"))
            if value is None:
                decisions.append(_decision(policy, level, "mtls.mode unset, inherits", path))
                continue
            mode = value
            decisions = [_decision(policy, level, f"mtls.mode={value.value}", path)]
        ports = self._ports(workload, winners.get("workload"), mode, decisions, result)
        for namespace_policy in (winners.get("mesh"), winners.get("namespace")):
            if namespace_policy is not None and namespace_policy.spec.get("portLevelMtls"):
                result.notes.append(
                    f"{namespace_policy.ref}: portLevelMtls is ignored without a selector"
                )
        if mesh is Mesh.ISTIO_AMBIENT:
            ports = [_ambient_port(port) for port in ports]
        result.ports = ports
        return result

    def _ports(
        self,
        workload: Workload,
        policy: Resource | None,
        mode: Mode,
        decisions: list[Decision],
        result: PeerAuthResolution,
    ) -> list[PortMode]:
        declared = {port.number: port.name for port in workload_ports(workload)}
        overrides = _port_overrides(policy, result) if policy is not None else {}
        numbers = sorted(set(declared) | set(overrides))
        if not numbers:
            return [PortMode(0, None, mode, tuple(decisions))]
        ports = []
        for number in numbers:
            override = overrides.get(number)
            if override is None or override[0] is None:
                reasons = list(decisions)
                if override is not None and policy is not None:
                    text = f"portLevelMtls[{number}] unset, inherits"
                    reasons.append(_decision(policy, "workload", text, override[1]))
                ports.append(PortMode(number, declared.get(number), mode, tuple(reasons)))
                continue
            value, path = override
            text = f"portLevelMtls[{number}].mode={value.value}"
            assert policy is not None
            ports.append(
                PortMode(
                    number,
                    declared.get(number),
                    value,
                    (_decision(policy, "workload", text, path),),
                )
            )
        return ports


def _ambient_port(port: PortMode) -> PortMode:
    if port.mode is not Mode.DISABLE:
        return port
    note = Decision("DISABLE is not supported in ambient mode: ztunnel accepts plaintext too")
    return PortMode(port.port, port.name, Mode.PERMISSIVE, (*port.decided_by, note))


def _well_formed(policy: Resource) -> bool:
    spec = policy.obj.get("spec", {})
    if not isinstance(spec, dict):
        return False
    selector = spec.get("selector")
    if selector is None:
        return True
    labels = selector.get("matchLabels") if isinstance(selector, dict) else "invalid"
    return labels is None or isinstance(labels, dict)


def _selector_labels(policy: Resource) -> dict[str, str] | None:
    """The policy's ``matchLabels``; None when it has no (or an empty) selector."""
    selector = policy.spec.get("selector")
    if not isinstance(selector, dict):
        return None
    labels = selector.get("matchLabels")
    if not isinstance(labels, dict) or not labels:
        return None
    return {str(k): _text(v) for k, v in labels.items()}


def _subset(wanted: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(key) == value for key, value in wanted.items())


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _mode(mtls: Any, path: FieldPath) -> tuple[Mode | None, FieldPath]:
    """A ``MutualTLS`` block's mode; None for UNSET, missing or unrecognised values."""
    if not isinstance(mtls, dict):
        return None, path
    return MODES.get(str(mtls.get("mode", "UNSET"))), path


def _port_overrides(
    policy: Resource, result: PeerAuthResolution
) -> dict[int, tuple[Mode | None, FieldPath]]:
    entries = policy.spec.get("portLevelMtls")
    if not isinstance(entries, dict):
        return {}
    overrides: dict[int, tuple[Mode | None, FieldPath]] = {}
    for key, mtls in entries.items():
        number = port_number(key)
        if number is None:
            result.notes.append(f"{policy.ref}: portLevelMtls key {key!r} is not a port number")
            continue
        overrides[number] = _mode(mtls, ("spec", "portLevelMtls", str(key), "mode"))
    return overrides


def _decision(policy: Resource, level: str, detail: str, path: FieldPath) -> Decision:
    scope = {"mesh": "mesh-wide", "namespace": "namespace-wide", "workload": "workload"}[level]
    return Decision(f"{policy.ref} ({scope}): {detail}", policy, path)
