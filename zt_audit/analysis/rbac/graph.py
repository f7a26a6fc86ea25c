"""The RBAC graph: every binding resolved to its role's rules, indexed for queries.

Built once per scan. Bindings are indexed by scope (cluster-wide, or per namespace) and by
subject, so a question such as "who can get secrets in payments" reads only the
ClusterRoleBindings and the RoleBindings of that namespace.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from zt_audit.analysis.rbac.authorizer import Request, rule_allows
from zt_audit.analysis.rbac.defaults import (
    CLUSTER_SCOPED_RESOURCES,
    DEFAULT_AGGREGATION,
    DEFAULT_CLUSTER_ROLES,
)
from zt_audit.analysis.rbac.model import (
    AUTHENTICATED,
    RBAC_GROUP,
    Grant,
    MissingRole,
    Role,
    Rule,
    RuleSource,
    Subject,
    parse_subject,
    service_account_groups,
)
from zt_audit.analysis.selectors import selector_matches
from zt_audit.gcpause import collector_paused
from zt_audit.inventory import Inventory, Resource

AUTOUPDATE = "rbac.authorization.kubernetes.io/autoupdate"


@dataclass(frozen=True)
class Match:
    """A grant and the rule of its role that authorizes a request."""

    grant: Grant
    source: RuleSource

    def as_dict(self) -> dict[str, Any]:
        return {**self.grant.as_dict(), "rule": self.source.rule.describe()}


class RbacGraph:
    """Roles, bindings and the grants they make, as the RBAC authorizer evaluates them."""

    def __init__(self, inventory: Inventory) -> None:
        self._raw_cluster_roles = {
            r.name: r for r in inventory.of_kind("ClusterRole", group=RBAC_GROUP)
        }
        self._raw_roles = {
            (r.namespace, r.name): r for r in inventory.of_kind("Role", group=RBAC_GROUP)
        }
        self._cluster_roles: dict[str, Role | None] = {}
        self._roles: dict[tuple[str | None, str], Role] = {}
        self.grants: list[Grant] = []
        self.missing: list[MissingRole] = []
        self.cluster_grants: list[Grant] = []
        self.namespace_grants: dict[str, list[Grant]] = defaultdict(list)
        self.by_subject: dict[Subject, list[Grant]] = defaultdict(list)
        self.bindings: list[Resource] = []
        # Custom resources declared cluster-scoped by their CustomResourceDefinition.
        self._cluster_crds = frozenset(
            crd.spec["names"]["plural"]
            for crd in inventory.of_kind("CustomResourceDefinition", group="apiextensions.k8s.io")
            if crd.spec.get("scope") == "Cluster"
            and isinstance(crd.spec.get("names"), dict)
            and isinstance(crd.spec["names"].get("plural"), str)
        )

        with collector_paused():
            for binding in inventory.of_kind("ClusterRoleBinding", "RoleBinding", group=RBAC_GROUP):
                self._add_binding(binding)
            self.grants.sort(key=_grant_key)
        self.missing.sort(key=lambda m: (m.binding.namespace or "", m.binding.name))

    # Roles

    def cluster_role(self, name: str) -> Role | None:
        """A ClusterRole with aggregated rules; a default one when the input lacks it."""
        if name not in self._cluster_roles:
            self._cluster_roles[name] = None  # guards aggregation cycles
            self._cluster_roles[name] = self._resolve_cluster_role(name, ())
        return self._cluster_roles[name]

    def role(self, namespace: str | None, name: str) -> Role | None:
        key = (namespace, name)
        if key not in self._roles:
            raw = self._raw_roles.get(key)
            if raw is None:
                return None
            self._roles[key] = Role("Role", namespace, name, raw, _rule_sources(raw))
        return self._roles[key]

    def _resolve_cluster_role(self, name: str, visiting: tuple[str, ...]) -> Role | None:
        raw = self._raw_cluster_roles.get(name)
        default = name in DEFAULT_CLUSTER_ROLES
        if raw is None and not default:
            return None
        sources = list(_rule_sources(raw)) if raw is not None else []
        selectors = _aggregation_selectors(raw) if raw is not None else []
        # The API server reconciles its default roles at every start, adding any missing
        # permission, unless the role opts out with the autoupdate annotation.
        if default and (raw is None or raw.annotations.get(AUTOUPDATE) != "false"):
            sources += _default_sources(name)
            label = DEFAULT_AGGREGATION.get(name)
            if label and not selectors:
                selectors = [{"matchLabels": {label: "true"}}]
        builtin = raw is None

        # The aggregation controller fills an aggregated role with the rules of every
        # ClusterRole its selectors match; a live role already holds them, so duplicates
        # are dropped.
        if selectors:
            for other in self._aggregation_candidates(name):
                labels = self._labels_of(other)
                if other in visiting or not any(selector_matches(s, labels) for s in selectors):
                    continue
                member = self._resolve_cluster_role(other, (*visiting, name))
                if member is not None:
                    sources.extend(member.rules)
        return Role("ClusterRole", None, name, raw, _unique(sources), builtin)

    def _aggregation_candidates(self, name: str) -> list[str]:
        names = set(self._raw_cluster_roles) | set(DEFAULT_CLUSTER_ROLES)
        return sorted(names - {name})

    def _labels_of(self, name: str) -> dict[str, str]:
        raw = self._raw_cluster_roles.get(name)
        if raw is not None:
            return raw.labels
        return dict(DEFAULT_CLUSTER_ROLES[name][1]) if name in DEFAULT_CLUSTER_ROLES else {}

    # Bindings

    def _add_binding(self, binding: Resource) -> None:
        self.bindings.append(binding)
        role_ref = binding.obj.get("roleRef")
        kind = role_ref.get("kind") if isinstance(role_ref, dict) else None
        name = role_ref.get("name") if isinstance(role_ref, dict) else None
        scope = binding.namespace if binding.kind == "RoleBinding" else None
        role: Role | None = None
        if isinstance(name, str) and name:
            if kind == "ClusterRole":
                role = self.cluster_role(name)
            elif kind == "Role" and scope is not None:
                # A ClusterRoleBinding may only reference a ClusterRole.
                role = self.role(scope, name)
        if role is None:
            self.missing.append(MissingRole(binding, str(kind), str(name)))
            return

        subjects = binding.obj.get("subjects")
        if not isinstance(subjects, list):
            return
        for index, value in enumerate(subjects):
            subject = parse_subject(value, scope)
            if subject is None:
                continue
            grant = Grant(subject, binding, index, role, scope)
            self.grants.append(grant)
            self.by_subject[subject].append(grant)
            if scope is None:
                self.cluster_grants.append(grant)
            else:
                self.namespace_grants[scope].append(grant)

    # Queries

    def is_cluster_scoped(self, resource: str) -> bool:
        return resource in CLUSTER_SCOPED_RESOURCES or resource in self._cluster_crds

    def matches(self, request: Request, *, any_namespace: bool = False) -> list[Match]:
        """Every grant whose role authorizes ``request``, sorted.

        ClusterRoleBindings apply everywhere; RoleBindings only to namespaced requests in
        their own namespace (with ``any_namespace``, in whichever namespace they are).
        Non-resource URLs and cluster-scoped objects are reachable through
        ClusterRoleBindings alone.
        """
        candidates = list(self.cluster_grants)
        namespace = request.namespace
        if request.is_resource and request.resource == "namespaces" and request.name:
            # GET /api/v1/namespaces/NAME is authorized inside namespace NAME.
            namespace = request.name
            candidates += self.namespace_grants.get(namespace, [])
        elif request.is_resource and not self.is_cluster_scoped(request.resource):
            if namespace is not None:
                candidates += self.namespace_grants.get(namespace, [])
            elif any_namespace:
                candidates += [g for grants in self.namespace_grants.values() for g in grants]
        found = []
        for grant in candidates:
            if grant.namespace is not None and request.path is not None:
                continue  # a RoleBinding's non-resource rules have no effect
            for source in grant.role.rules:
                if rule_allows(source.rule, request):
                    found.append(Match(grant, source))
                    break
        found.sort(key=lambda m: _grant_key(m.grant))
        return found

    def grants_of(self, subject: Subject) -> list[Grant]:
        """The grants that reach ``subject``: its own, and those of groups it always has.

        A service account is also in ``system:serviceaccounts``,
        ``system:serviceaccounts:NS`` and ``system:authenticated``; any authenticated user
        is in ``system:authenticated``. Other group memberships come from the identity
        provider and cannot be seen.
        """
        return sorted(self.reaching(subject), key=_grant_key)

    def reaching(self, subject: Subject) -> list[Grant]:
        """``grants_of`` in no particular order, for callers that only aggregate."""
        found = list(self.by_subject.get(subject, ()))
        groups: tuple[str, ...] = ()
        if subject.kind == "ServiceAccount" and subject.namespace:
            groups = service_account_groups(subject.namespace)
        elif subject.kind == "User":
            groups = (AUTHENTICATED,)
        for group in groups:
            found.extend(self.by_subject.get(Subject("Group", group), ()))
        return found

    def allows(self, subject: Subject, request: Request) -> list[Grant]:
        """The grants by which ``subject`` may make ``request`` (empty: it may not)."""
        found = []
        for grant in self.grants_of(subject):
            if not self._in_scope(grant, request):
                continue
            if any(rule_allows(s.rule, request) for s in grant.role.rules):
                found.append(grant)
        return found

    def _in_scope(self, grant: Grant, request: Request) -> bool:
        if grant.namespace is None:
            return True
        if request.path is not None:
            return False
        if request.resource == "namespaces" and request.name:
            return grant.namespace == request.name
        if self.is_cluster_scoped(request.resource):
            return False
        return request.namespace == grant.namespace

    @property
    def subjects(self) -> list[Subject]:
        return sorted(self.by_subject)


def _default_sources(name: str) -> list[RuleSource]:
    rules = [r for r in map(Rule.parse, DEFAULT_CLUSTER_ROLES[name][0]) if r is not None]
    return [RuleSource(rule, None, index) for index, rule in enumerate(rules)]


def _rule_sources(role: Resource) -> tuple[RuleSource, ...]:
    rules = role.obj.get("rules")
    if not isinstance(rules, list):
        return ()
    sources = []
    for index, value in enumerate(rules):
        rule = Rule.parse(value)
        if rule is not None:
            sources.append(RuleSource(rule, role, index))
    return tuple(sources)


def _aggregation_selectors(role: Resource) -> list[Any]:
    aggregation = role.obj.get("aggregationRule")
    if not isinstance(aggregation, dict):
        return []
    selectors = aggregation.get("clusterRoleSelectors")
    return selectors if isinstance(selectors, list) else []


def _unique(sources: list[RuleSource]) -> tuple[RuleSource, ...]:
    seen: set[Rule] = set()
    kept = []
    for source in sources:
        if source.rule not in seen:
            seen.add(source.rule)
            kept.append(source)
    return tuple(kept)


def _grant_key(grant: Grant) -> tuple[str, ...]:
    subject = grant.subject
    return (
        subject.kind,
        subject.namespace or "",
        subject.name,
        grant.namespace or "",
        grant.binding.kind,
        grant.binding.namespace or "",
        grant.binding.name,
        str(grant.subject_index),
    )
