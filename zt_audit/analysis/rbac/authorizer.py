"""The RBAC authorizer's matching rules, one request against one rule.

Written from the Kubernetes RBAC documentation ("Referring to resources" and "Role
examples"): ``*`` matches every verb, API group or resource; ``pods`` does not cover
``pods/exec``, but ``*`` does and ``*/scale`` covers every ``scale`` subresource;
``resourceNames`` restricts by object name, so it never matches a request without one
(``create``, or ``list`` of a collection); a non-resource URL pattern may end in ``*``.
"""

from __future__ import annotations

from dataclasses import dataclass

from zt_audit.analysis.rbac.model import Rule


@dataclass(frozen=True, slots=True)
class Request:
    """One API request as the authorizer sees it.

    ``namespace`` is None for a cluster-scoped object or a request across all namespaces;
    ``path`` is set instead of ``resource`` for a non-resource URL such as ``/healthz``.
    """

    verb: str
    resource: str = ""
    subresource: str = ""
    api_group: str = ""
    name: str = ""
    namespace: str | None = None
    path: str | None = None

    @property
    def is_resource(self) -> bool:
        return self.path is None

    @property
    def combined_resource(self) -> str:
        return f"{self.resource}/{self.subresource}" if self.subresource else self.resource

    def describe(self) -> str:
        if self.path is not None:
            return f"{self.verb} {self.path}"
        group = f".{self.api_group}" if self.api_group else ""
        text = f"{self.verb} {self.resource}{group}"
        if self.subresource:
            text = f"{self.verb} {self.resource}{group}/{self.subresource}"
        if self.name:
            text += f" named {self.name}"
        return text


def verb_matches(rule: Rule, verb: str) -> bool:
    return "*" in rule.verbs or verb in rule.verbs


def group_matches(rule: Rule, group: str) -> bool:
    return "*" in rule.api_groups or group in rule.api_groups


def resource_matches(rule: Rule, resource: str, subresource: str) -> bool:
    combined = f"{resource}/{subresource}" if subresource else resource
    if "*" in rule.resources or combined in rule.resources:
        return True
    return bool(subresource) and f"*/{subresource}" in rule.resources


def name_matches(rule: Rule, name: str) -> bool:
    return not rule.resource_names or name in rule.resource_names


def url_matches(rule: Rule, path: str) -> bool:
    for pattern in rule.non_resource_urls:
        if pattern == "*" or pattern == path:
            return True
        if pattern.endswith("*") and path.startswith(pattern[:-1]):
            return True
    return False


def rule_allows(rule: Rule, request: Request) -> bool:
    """Whether ``rule`` authorizes ``request``, exactly as the RBAC authorizer decides."""
    if not verb_matches(rule, request.verb):
        return False
    if request.path is not None:
        return url_matches(rule, request.path)
    return (
        group_matches(rule, request.api_group)
        and resource_matches(rule, request.resource, request.subresource)
        and name_matches(rule, request.name)
    )
