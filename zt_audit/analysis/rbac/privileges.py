"""Sensitive permissions, and which grants hold them.

Each primitive is a set of requests, any of which is enough. A grant holds a primitive
when its role authorizes one of them in the grant's scope; ``resourceNames`` are not
required to match here, since a rule limited to some names still lets its holder act on
those names (the names are reported with the finding).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from zt_audit.analysis.rbac.authorizer import (
    Request,
    group_matches,
    resource_matches,
    verb_matches,
)
from zt_audit.analysis.rbac.model import MASTERS, Grant, Role, Rule, RuleSource


@dataclass(frozen=True)
class Primitive:
    id: str
    title: str
    requests: tuple[Request, ...]
    all_of: bool = False  # every request is needed (CSR approval)
    cluster_only: bool = False  # only a ClusterRoleBinding can grant it
    namespace: str | None = None  # only a grant covering this namespace holds it
    names: tuple[str, ...] = ()  # the object it needs, when a rule names objects


def _requests(verbs: str, resources: str, group: str = "") -> tuple[Request, ...]:
    found = []
    for verb in verbs.split():
        for resource in resources.split():
            name, _, sub = resource.partition("/")
            found.append(Request(verb, name, sub, group))
    return tuple(found)


WORKLOAD_CONTROLLERS = (
    *_requests("create update patch", "deployments daemonsets statefulsets replicasets", "apps"),
    *_requests("create update patch", "jobs cronjobs", "batch"),
    *_requests("create update patch", "replicationcontrollers"),
)

PRIMITIVES: dict[str, Primitive] = {
    p.id: p
    for p in (
        Primitive(
            "impersonate",
            "impersonate users, groups or service accounts",
            (
                *_requests("impersonate", "users groups serviceaccounts uids"),
                *_requests("impersonate", "userextras/*", "authentication.k8s.io"),
            ),
        ),
        Primitive(
            "bind-escalate",
            "bind or escalate roles",
            _requests("bind escalate", "roles clusterroles", "rbac.authorization.k8s.io"),
        ),
        Primitive(
            "pod-create",
            "create pods or workload controllers",
            (*_requests("create", "pods"), *WORKLOAD_CONTROLLERS),
        ),
        Primitive(
            "pod-exec",
            "exec into, attach to or modify running pods",
            (
                *_requests("create get", "pods/exec pods/attach"),
                *_requests("update patch", "pods/ephemeralcontainers"),
                # a pod's container image is mutable: patching it runs new code as the pod
                *_requests("update patch", "pods"),
            ),
        ),
        Primitive(
            "nodes-proxy",
            "reach the kubelet API through nodes/proxy",
            _requests("get create", "nodes/proxy"),
            cluster_only=True,
        ),
        Primitive(
            "sa-token",
            "create service-account tokens",
            _requests("create", "serviceaccounts/token"),
        ),
        Primitive(
            "csr-approve",
            "approve certificate signing requests",
            (
                Request("update", "certificatesigningrequests", "approval", "certificates.k8s.io"),
                Request("approve", "signers", "", "certificates.k8s.io"),
            ),
            all_of=True,
            cluster_only=True,
        ),
        Primitive(
            "webhook-write",
            "write admission webhook configurations",
            _requests(
                "create update patch",
                "mutatingwebhookconfigurations validatingwebhookconfigurations",
                "admissionregistration.k8s.io",
            ),
            cluster_only=True,
        ),
        Primitive(
            "pv-create",
            "create persistent volumes (hostPath)",
            _requests("create", "persistentvolumes"),
            cluster_only=True,
        ),
        Primitive("secrets-read", "read secrets", _requests("get list watch", "secrets")),
        Primitive(
            "token-secret",
            "create and read secrets (token Secrets for any account)",
            (Request("create", "secrets"), Request("get", "secrets")),
            all_of=True,
        ),
        Primitive(
            "aws-auth-write",
            "rewrite the EKS aws-auth ConfigMap",
            _requests("update patch", "configmaps"),
            namespace="kube-system",
            names=("aws-auth",),
        ),
    )
}


def rule_grants(rule: Rule, request: Request) -> bool:
    """Like the authorizer, but a rule restricted to some names still counts."""
    return (
        verb_matches(rule, request.verb)
        and group_matches(rule, request.api_group)
        and resource_matches(rule, request.resource, request.subresource)
    )


def holds(grant: Grant, primitive: Primitive) -> list[RuleSource]:
    """The rules by which ``grant`` holds ``primitive`` (empty: it does not)."""
    if not _in_reach(grant, primitive):
        return []
    return list(role_holdings(grant.role).get(primitive.id, ()))


def held_by(grant: Grant) -> list[tuple[Primitive, tuple[RuleSource, ...]]]:
    """Every primitive ``grant`` holds, with its rules, in catalogue order."""
    held = role_holdings(grant.role)
    return [
        (PRIMITIVES[name], rules)
        for name, rules in held.items()
        if _in_reach(grant, PRIMITIVES[name])
    ]


def role_holdings(role: Role) -> dict[str, tuple[RuleSource, ...]]:
    """The primitives a role's rules hold wherever bound, computed once per role."""
    if not role.held:
        verbs = {verb for s in role.rules for verb in s.rule.verbs}
        for primitive in PRIMITIVES.values():
            # Most roles grant none of a primitive's verbs: settle those without matching.
            if "*" not in verbs and not any(r.verb in verbs for r in primitive.requests):
                continue
            rules = _role_holds(role.rules, primitive)
            if rules:
                role.held[primitive.id] = rules
        role.held[""] = ()  # marks the role as computed, even when it holds nothing
    return {name: rules for name, rules in role.held.items() if name}


def _in_reach(grant: Grant, primitive: Primitive) -> bool:
    """Whether the grant's scope lets it hold the primitive at all."""
    if primitive.cluster_only and grant.namespace is not None:
        return False
    return not (primitive.namespace and grant.namespace not in (None, primitive.namespace))


def _role_holds(rules: tuple[RuleSource, ...], primitive: Primitive) -> tuple[RuleSource, ...]:
    used: list[RuleSource] = []
    for request in primitive.requests:
        found = next(
            (
                s
                for s in rules
                if rule_grants(s.rule, request) and _names_cover(s.rule, primitive.names)
            ),
            None,
        )
        if found is None and primitive.all_of:
            return ()
        if found is not None and found not in used:
            used.append(found)
    return tuple(used)


def holds_request(grant: Grant, request: Request) -> bool:
    """Whether any rule of the grant's role covers ``request``, whatever names it lists."""
    return any(rule_grants(s.rule, request) for s in grant.role.rules)


def _names_cover(rule: Rule, names: tuple[str, ...]) -> bool:
    return not names or not rule.resource_names or bool(rule.resource_names & set(names))


# Every read and write verb on everything is cluster-admin in all but name: it reads all
# Secrets and runs pods as any service account.
ADMIN_VERBS = frozenset({"get", "list", "watch", "create", "update", "patch", "delete"})


def is_full_admin(grant: Grant) -> bool:
    """All verbs (``*`` or every read and write verb) on ``*`` resources in ``*`` groups."""
    return any(
        ("*" in s.rule.verbs or s.rule.verbs >= ADMIN_VERBS)
        and "*" in s.rule.resources
        and "*" in s.rule.api_groups
        and not s.rule.resource_names
        for s in grant.role.rules
    )


class Power(IntEnum):
    """How much a set of grants lets an identity do, coarsely."""

    NONE = 0
    NAMESPACED = 1  # sensitive rights inside some namespaces
    CLUSTER = 2  # sensitive rights across the cluster
    ADMIN = 3  # cluster-admin, or a direct path to it

    @property
    def label(self) -> str:
        return {
            Power.NONE: "no sensitive rights",
            Power.NAMESPACED: "sensitive rights in its namespace",
            Power.CLUSTER: "cluster-wide sensitive rights",
            Power.ADMIN: "cluster-admin rights",
        }[self]


ADMIN_PRIMITIVES = frozenset({"impersonate", "bind-escalate", "csr-approve", "nodes-proxy"})


def impersonable(grant: Grant, resource: str) -> set[str] | None:
    """Names the grant may impersonate of a kind: None for any, empty for none."""
    names: set[str] = set()
    for source in grant.role.rules:
        if rule_grants(source.rule, Request("impersonate", resource)):
            if not source.rule.resource_names:
                return None
            names |= source.rule.resource_names
    return names


def _admin_primitive(grant: Grant, primitive: Primitive) -> bool:
    """Cluster-wide, these lead straight to cluster-admin; impersonation only through groups."""
    if primitive.id == "impersonate":
        groups = impersonable(grant, "groups")
        return groups is None or MASTERS in groups
    return primitive.id in ADMIN_PRIMITIVES


def power_of(grants: list[Grant]) -> Power:
    best = Power.NONE
    for grant in grants:
        if grant.namespace is None and is_full_admin(grant):
            return Power.ADMIN
        for primitive, _ in held_by(grant):
            if grant.namespace is None and _admin_primitive(grant, primitive):
                return Power.ADMIN
            if primitive.id == "impersonate":
                continue  # worth what the identities it may name are worth, judged apart
            level = Power.CLUSTER if grant.namespace is None else Power.NAMESPACED
            best = max(best, level)
    return best
