"""Cilium: transparent encryption and mutual authentication in the CNI.

Cilium encrypts pod traffic between nodes when ``cilium-config`` enables WireGuard
(``enable-wireguard``) or IPsec (``enable-ipsec``). Mutual authentication is separate:
with ``mesh-auth-mutual-enabled`` (SPIRE issuing identities), a CiliumNetworkPolicy rule
with ``authentication.mode: required`` makes the agents authenticate both ends before
the traffic it allows may flow. Authentication alone does not encrypt; Cilium's own
documentation pairs it with WireGuard or IPsec.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from zt_audit.analysis.mesh.common import flag
from zt_audit.analysis.mesh.model import Decision
from zt_audit.analysis.selectors import parse_selector
from zt_audit.inventory import FieldPath, Inventory, Resource, Workload

GROUP = "cilium.io"
NAMESPACE_LABEL = "io.kubernetes.pod.namespace"


@dataclass
class CiliumConfig:
    """What ``cilium-config`` says, or None for each setting it does not show."""

    config: Resource | None
    wireguard: bool | None = None
    ipsec: bool | None = None
    mutual_auth: bool | None = None
    present: bool = False  # anything shows that Cilium is the CNI
    evidence: list[str] = field(default_factory=list)

    @property
    def encryption(self) -> str | None:
        if self.wireguard:
            return "wireguard"
        if self.ipsec:
            return "ipsec"
        return None


def read_config(inventory: Inventory) -> CiliumConfig:
    configs = sorted(
        (c for c in inventory.of_kind("ConfigMap", group="") if c.name == "cilium-config"),
        key=lambda c: str(c.ref),
    )
    config = configs[0] if configs else None
    result = CiliumConfig(config)
    if config is not None:
        data = config.obj.get("data")
        data = data if isinstance(data, dict) else {}
        result.wireguard = flag(_text(data.get("enable-wireguard")))
        result.ipsec = flag(_text(data.get("enable-ipsec")))
        result.mutual_auth = flag(_text(data.get("mesh-auth-mutual-enabled")))
        result.evidence.append(str(config.ref))
    agents = [
        d
        for d in inventory.of_kind("DaemonSet")
        if d.name == "cilium" or d.labels.get("k8s-app") == "cilium"
    ]
    result.evidence.extend(str(d.ref) for d in sorted(agents, key=lambda r: str(r.ref)))
    result.present = bool(result.evidence) or bool(policies(inventory))
    return result


def _text(value: Any) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else None


def policies(inventory: Inventory) -> list[Resource]:
    found = inventory.of_kind("CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy", group=GROUP)
    return sorted(found, key=lambda r: str(r.ref))


def _specs(policy: Resource) -> list[tuple[dict[str, Any], FieldPath]]:
    found: list[tuple[dict[str, Any], FieldPath]] = []
    if isinstance(policy.obj.get("spec"), dict):
        found.append((policy.obj["spec"], ("spec",)))
    specs = policy.obj.get("specs")
    if isinstance(specs, list):
        found.extend((s, ("specs", i)) for i, s in enumerate(specs) if isinstance(s, dict))
    return found


def auth_rules(policy: Resource) -> list[tuple[dict[str, Any], FieldPath]]:
    """(spec, path of the rule) for each ingress rule that requires mutual authentication."""
    found = []
    for spec, path in _specs(policy):
        rules = spec.get("ingress")
        for index, rule in enumerate(rules if isinstance(rules, list) else []):
            authentication = rule.get("authentication") if isinstance(rule, dict) else None
            if isinstance(authentication, dict) and authentication.get("mode") == "required":
                found.append((spec, (*path, "ingress", index, "authentication", "mode")))
    return found


def selects(spec: dict[str, Any], policy: Resource, workload: Workload) -> bool:
    """Whether a policy spec's ``endpointSelector`` picks the workload's pods."""
    if policy.kind == "CiliumNetworkPolicy" and policy.namespace != workload.namespace:
        return False
    labels = {**workload.pod_labels, NAMESPACE_LABEL: workload.namespace}
    selector = spec.get("endpointSelector")
    return parse_selector(_strip_sources(selector)).matches(labels)


def _strip_sources(selector: Any) -> Any:
    """Cilium label keys may carry a source prefix (``k8s:app``); pods' labels do not."""
    if not isinstance(selector, dict):
        return selector
    stripped: dict[str, Any] = {}
    labels = selector.get("matchLabels")
    if isinstance(labels, dict):
        stripped["matchLabels"] = {_key(k): v for k, v in labels.items()}
    expressions = selector.get("matchExpressions")
    if isinstance(expressions, list):
        stripped["matchExpressions"] = [
            {**e, "key": _key(e.get("key"))} if isinstance(e, dict) else e for e in expressions
        ]
    return stripped


def _key(key: Any) -> Any:
    if isinstance(key, str) and key.startswith(("k8s:", "any:")):
        return key.split(":", 1)[1]
    return key


def mutual_auth_decision(inventory: Inventory, workload: Workload) -> Decision | None:
    """The first rule requiring mutual authentication for traffic to the workload."""
    for policy in policies(inventory):
        for spec, path in auth_rules(policy):
            if selects(spec, policy, workload):
                return Decision(f"{policy.ref}: authentication.mode=required", policy, path)
    return None
