"""RBAC objects as the authorizer reads them: rules, roles, subjects and grants.

Every field comes from untrusted input, so each is checked for type as it is read; a
malformed rule grants nothing rather than crashing the scan.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from zt_audit.inventory import Resource

RBAC_GROUP = "rbac.authorization.k8s.io"
SA_USER_PREFIX = "system:serviceaccount:"
SA_GROUP = "system:serviceaccounts"
AUTHENTICATED = "system:authenticated"
UNAUTHENTICATED = "system:unauthenticated"
ANONYMOUS = "system:anonymous"
MASTERS = "system:masters"


def _strings(value: Any) -> frozenset[str]:
    """A list of strings, keeping only the strings (a bare string is not a list)."""
    if not isinstance(value, list):
        return frozenset()
    return frozenset(item for item in value if isinstance(item, str))


@dataclass(frozen=True, slots=True)
class Rule:
    """One PolicyRule. Empty ``resource_names`` means every name."""

    verbs: frozenset[str]
    api_groups: frozenset[str]
    resources: frozenset[str]
    resource_names: frozenset[str]
    non_resource_urls: frozenset[str]

    @classmethod
    def parse(cls, value: Any) -> Rule | None:
        if not isinstance(value, dict):
            return None
        rule = cls(
            _strings(value.get("verbs")),
            _strings(value.get("apiGroups")),
            _strings(value.get("resources")),
            _strings(value.get("resourceNames")),
            _strings(value.get("nonResourceURLs")),
        )
        return rule if rule.verbs else None

    def describe(self) -> str:
        """``verbs [get list] on secrets`` in a stable, sorted form."""
        verbs = " ".join(sorted(self.verbs))
        if self.non_resource_urls and not self.resources:
            return f"verbs [{verbs}] on URLs {' '.join(sorted(self.non_resource_urls))}"
        groups = " ".join(sorted(g or '""' for g in self.api_groups))
        text = f"verbs [{verbs}] on {' '.join(sorted(self.resources))} (apiGroups {groups})"
        if self.resource_names:
            text += f" named {' '.join(sorted(self.resource_names))}"
        return text


@dataclass(frozen=True, slots=True)
class RuleSource:
    """A rule and where it is written: a role object and the index in its ``rules``."""

    rule: Rule
    role: Resource | None  # None for a built-in default role absent from the input
    index: int


@dataclass(frozen=True, eq=False)
class Role:
    """A Role or ClusterRole with its rules, aggregated ones included.

    Compared by identity: a graph resolves each role once, and many grants share it.
    """

    kind: str  # Role or ClusterRole
    namespace: str | None
    name: str
    resource: Resource | None
    rules: tuple[RuleSource, ...]
    builtin: bool = False  # a Kubernetes default role supplied because the input lacks it
    # Which sensitive permissions the rules hold, filled in on first use.
    held: dict[str, tuple[RuleSource, ...]] = field(default_factory=dict, repr=False)

    @property
    def key(self) -> str:
        return (
            f"{self.kind}/{self.namespace}/{self.name}"
            if self.namespace
            else (f"{self.kind}/{self.name}")
        )


@dataclass(frozen=True, slots=True, order=True)
class Subject:
    """A User, Group or ServiceAccount named by a binding."""

    kind: str
    name: str
    namespace: str | None = None  # ServiceAccounts only

    def __str__(self) -> str:
        if self.kind == "ServiceAccount":
            return f"ServiceAccount/{self.namespace}/{self.name}"
        return f"{self.kind}/{self.name}"

    @property
    def username(self) -> str | None:
        """The user name the API server sees, for Users and ServiceAccounts."""
        if self.kind == "ServiceAccount":
            return f"{SA_USER_PREFIX}{self.namespace}:{self.name}"
        return self.name if self.kind == "User" else None

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": self.kind, "name": self.name}
        if self.namespace is not None:
            data["namespace"] = self.namespace
        return data


def parse_subject(value: Any, binding_namespace: str | None) -> Subject | None:
    """A binding subject as the authorizer matches it, or None when it can match nobody.

    A ServiceAccount without a namespace takes the RoleBinding's; in a ClusterRoleBinding
    it matches nobody. A User named ``system:serviceaccount:NS:NAME`` is that account.
    """
    if not isinstance(value, dict):
        return None
    kind, name = value.get("kind"), value.get("name")
    if not isinstance(kind, str) or not isinstance(name, str) or not name:
        return None
    if kind == "ServiceAccount":
        namespace = value.get("namespace")
        if not isinstance(namespace, str) or not namespace:
            namespace = binding_namespace
        return Subject(kind, name, namespace) if namespace else None
    if kind == "User" and name.startswith(SA_USER_PREFIX):
        namespace, _, account = name[len(SA_USER_PREFIX) :].partition(":")
        if namespace and account and ":" not in account:
            return Subject("ServiceAccount", account, namespace)
    if kind in ("User", "Group"):
        return Subject(kind, name)
    return None


def service_account_groups(namespace: str) -> tuple[str, ...]:
    """The groups every service-account token of ``namespace`` authenticates with."""
    return (SA_GROUP, f"{SA_GROUP}:{namespace}", AUTHENTICATED)


@dataclass(frozen=True, slots=True, eq=False)
class Grant:
    """A role granted to a subject by one binding, in a namespace or cluster-wide."""

    subject: Subject
    binding: Resource
    subject_index: int
    role: Role
    namespace: str | None  # None: cluster-wide (ClusterRoleBinding)

    @property
    def scope(self) -> str:
        return self.namespace or "cluster-wide"

    @property
    def via(self) -> str:
        return f"{self.binding.ref} -> {self.role.key}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "subject": self.subject.as_dict(),
            "binding": str(self.binding.ref),
            "role": self.role.key,
            "scope": self.scope,
        }


@dataclass(frozen=True)
class MissingRole:
    """A binding whose role is not in the input: it grants nothing and is reported."""

    binding: Resource
    role_kind: str
    role_name: str
