"""Identity-tier authorization: who may call a meshed workload, by mesh identity.

Istio, as documented: with no ALLOW policy a workload accepts every request (DENY and
CUSTOM policies only carve exceptions); once any ALLOW policy applies, only requests that
match one of its rules pass, so an ALLOW policy without rules (``spec: {}``) allows
nothing. A rule matches when all of its ``from``, ``to`` and ``when`` parts match; an
empty rule (``rules: [{}]``) matches every request. Policies in the root namespace
apply across the mesh; elsewhere, to their namespace; a selector narrows them to the
workloads whose labels it matches. Policies with ``targetRef(s)`` bind to gateways or
waypoints, not to the workload's own proxy.

A rule is identity-based when each of its sources names peers by ``principals``,
``namespaces`` or ``requestPrincipals`` (the last needs a RequestAuthentication to
mean anything).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from zt_audit.analysis.mesh.model import Decision, Mesh, Mode, WorkloadMtls
from zt_audit.analysis.mesh.resolve import MeshAnalysis
from zt_audit.inventory import FieldPath, Inventory, Resource, Workload

GROUP = "security.istio.io"
IDENTITY_FIELDS = ("principals", "namespaces", "requestPrincipals")
IDENTITY_CONDITIONS = frozenset(
    {"source.principal", "source.namespace", "request.auth.principal", "request.auth.claims"}
)


class Posture(StrEnum):
    IDENTITY = "identity"  # deny by default, allow-listed by identity
    PARTIAL = "partial"  # deny by default, but some rules ignore identity
    OPEN = "open"  # no ALLOW policy: every caller is accepted
    ANY_IDENTITY = "any-identity"  # authenticated callers only, but any mesh identity
    ALLOW_ALL = "allow-all"  # an ALLOW rule that matches every request


@dataclass
class WorkloadAuthz:
    workload: Workload
    mesh: Mesh
    posture: Posture
    decided_by: list[Decision] = field(default_factory=list)
    allow_all: list[Decision] = field(default_factory=list)
    deny_policies: list[str] = field(default_factory=list)
    request_authentication: list[str] = field(default_factory=list)


class AuthorizationIndex:
    def __init__(self, inventory: Inventory, root_namespace: str) -> None:
        self.root = root_namespace
        self.policies = sorted(
            inventory.of_kind("AuthorizationPolicy", group=GROUP), key=lambda r: str(r.ref)
        )
        self.request_authn = sorted(
            inventory.of_kind("RequestAuthentication", group=GROUP), key=lambda r: str(r.ref)
        )

    def applicable(self, kind: str, workload: Workload) -> list[Resource]:
        found = self.policies if kind == "AuthorizationPolicy" else self.request_authn
        return [p for p in found if _applies(p, workload, self.root)]

    def evaluate(self, result: WorkloadMtls) -> WorkloadAuthz:
        workload = result.workload
        assert result.mesh is not None
        authz = WorkloadAuthz(workload, result.mesh, Posture.OPEN)
        authz.request_authentication = [str(r.ref) for r in self.applicable("Request", workload)]
        allow = []
        for policy in self.applicable("AuthorizationPolicy", workload):
            action = policy.spec.get("action", "ALLOW")
            if action == "ALLOW":
                allow.append(policy)
            elif action in ("DENY", "CUSTOM"):
                authz.deny_policies.append(f"{policy.ref} ({action})")
        if not allow:
            authz.decided_by.append(Decision("no Istio ALLOW policy applies: every caller passes"))
            return authz

        identity_only = True
        for policy in allow:
            rules = policy.spec.get("rules")
            if not isinstance(rules, list) or not rules:
                authz.decided_by.append(Decision(f"{policy.ref}: allows nothing", policy))
                continue
            for index, rule in enumerate(rules):
                path: FieldPath = ("spec", "rules", index)
                if _matches_everything(rule):
                    authz.allow_all.append(
                        Decision(
                            f"{policy.ref}: rule {index} is empty and allows every request",
                            policy,
                            path,
                        )
                    )
                elif not _identity_rule(rule):
                    identity_only = False
                    authz.decided_by.append(
                        Decision(
                            f"{policy.ref}: rule {index} does not name caller identities",
                            policy,
                            path,
                        )
                    )
                else:
                    authz.decided_by.append(
                        Decision(
                            f"{policy.ref}: rule {index} allows named identities", policy, path
                        )
                    )
        if authz.allow_all:
            authz.posture = Posture.ALLOW_ALL
        else:
            authz.posture = Posture.IDENTITY if identity_only else Posture.PARTIAL
        return authz


def _applies(policy: Resource, workload: Workload, root: str) -> bool:
    spec = policy.spec
    if spec.get("targetRef") or spec.get("targetRefs"):
        return False
    if policy.namespace != root and policy.namespace != workload.namespace:
        return False
    selector = spec.get("selector")
    labels = selector.get("matchLabels") if isinstance(selector, dict) else None
    if not isinstance(labels, dict) or not labels:
        return True
    return all(workload.pod_labels.get(str(k)) == _text(v) for k, v in labels.items())


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _matches_everything(rule: Any) -> bool:
    """A rule with no ``from``, ``to`` or ``when`` constraint matches every request."""
    if rule is None:
        return True
    return isinstance(rule, dict) and not any(rule.get(k) for k in ("from", "to", "when"))


def _identity_rule(rule: Any) -> bool:
    """Every source of the rule names identities, or a condition pins one."""
    if not isinstance(rule, dict):
        return False
    conditions = rule.get("when")
    if isinstance(conditions, list) and any(
        isinstance(c, dict) and c.get("key") in IDENTITY_CONDITIONS and c.get("values")
        for c in conditions
    ):
        return True
    sources = rule.get("from")
    if not isinstance(sources, list) or not sources:
        return False
    for entry in sources:
        source = entry.get("source") if isinstance(entry, dict) else None
        if not isinstance(source, dict):
            return False
        if not any(isinstance(source.get(f), list) and source.get(f) for f in IDENTITY_FIELDS):
            return False
    return True


def linkerd_posture(analysis: MeshAnalysis, result: WorkloadMtls) -> WorkloadAuthz:
    """Linkerd: every port denies by default and admits only named mesh identities."""
    key = f"{result.workload.kind}/{result.workload.namespace}/{result.workload.name}"
    details = analysis.linkerd_details.get(key)
    authz = WorkloadAuthz(result.workload, Mesh.LINKERD, Posture.OPEN)
    if details is None:
        return authz
    authz.decided_by = [d for p in details.ports for d in p.decided_by]
    if details.ports and details.identity_ports >= len(details.ports):
        authz.posture = Posture.IDENTITY
    elif details.identity_ports:
        authz.posture = Posture.PARTIAL
    elif all(p.mode is Mode.STRICT for p in details.ports):
        authz.posture = Posture.ANY_IDENTITY
    return authz
