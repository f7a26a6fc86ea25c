"""Audit policy evaluation with the API server's first-match semantics.

For each request, the API server walks ``rules`` in order and the first rule that
matches sets the level (None, Metadata, Request, RequestResponse); a request no rule
matches is not logged. A rule matches when every field it sets matches: ``users``,
``userGroups`` (any), ``verbs``, ``namespaces`` (resource requests; ``""`` is the
cluster scope), ``resources`` (group, resource or ``resource/subresource``, ``*``,
``*/sub``, ``res/*``, ``resourceNames``) or ``nonResourceURLs`` (``*`` suffix as prefix).
This module asks what the policy does with representative requests ("probes").
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from zt_audit.errors import UsageError
from zt_audit.inventory import FieldPath, Inventory, Resource, load_inventory

GROUP = "audit.k8s.io"
LEVELS = {"None": 0, "Metadata": 1, "Request": 2, "RequestResponse": 3}
ALL_STAGES = frozenset({"RequestReceived", "ResponseStarted", "ResponseComplete", "Panic"})


@dataclass(frozen=True)
class Probe:
    """One request the policy is asked about."""

    verb: str
    group: str = ""
    resource: str = ""
    subresource: str = ""
    namespace: str = "default"
    name: str = "zt-audit-probe"
    path: str | None = None  # set for non-resource requests
    user: str = "jane@example.com"
    groups: tuple[str, ...] = ("system:authenticated", "developers")

    def describe(self) -> str:
        if self.path is not None:
            return f"{self.verb} {self.path}"
        target = f"{self.resource}/{self.subresource}" if self.subresource else self.resource
        group = f"{self.group}/" if self.group else ""
        return f"{self.verb} {group}{target}"


@dataclass(frozen=True)
class AuditPolicy:
    """A policy document and where it sits (a Policy object, or a ConfigMap key)."""

    resource: Resource
    base: FieldPath  # field path of the policy inside the resource
    document: dict[str, Any]

    @property
    def rules(self) -> list[Any]:
        rules = self.document.get("rules")
        return rules if isinstance(rules, list) else []

    def rule_path(self, index: int | None) -> FieldPath:
        """The field path of a rule; a policy embedded in a ConfigMap value has only its key."""
        if self.base:
            return self.base
        return ("rules",) if index is None else ("rules", index)

    def decide(self, probe: Probe) -> tuple[int | None, int]:
        """(index of the first matching rule, level); (None, 0) when none matches."""
        omitted = _stages(self.document.get("omitStages"))
        for index, rule in enumerate(self.rules):
            if isinstance(rule, dict) and _matches(rule, probe):
                level = LEVELS.get(str(rule.get("level")), 0)
                if omitted | _stages(rule.get("omitStages")) >= ALL_STAGES:
                    level = 0  # every stage omitted: nothing is ever written
                return index, level
        return None, 0


def audit_policies(inventory: Inventory) -> list[AuditPolicy]:
    """Policy documents in the input, and policies embedded in ConfigMap values."""
    found = [
        AuditPolicy(r, (), r.obj)
        for r in inventory.of_kind("Policy", group=GROUP)
        if isinstance(r.obj.get("rules"), list)
    ]
    for configmap in inventory.of_kind("ConfigMap", group=""):
        found.extend(_embedded(configmap))
    return sorted(found, key=lambda p: (p.resource.ref, [str(x) for x in p.base]))


def _embedded(configmap: Resource) -> Iterator[AuditPolicy]:
    data = configmap.obj.get("data")
    for key, text in sorted(data.items()) if isinstance(data, dict) else []:
        if not isinstance(text, str) or "audit.k8s.io" not in text:
            continue
        try:
            document = yaml.safe_load(text)
        except yaml.YAMLError:
            continue
        if isinstance(document, dict) and document.get("kind") == "Policy":
            yield AuditPolicy(configmap, ("data", str(key)), document)


def _stages(value: Any) -> set[str]:
    return {str(v) for v in value} if isinstance(value, list) else set()


def _strings(value: Any) -> list[str] | None:
    """A list field of a rule, or None when the rule leaves it unset (or empty)."""
    if not isinstance(value, list) or not value:
        return None
    return [str(v) for v in value]


def _matches(rule: dict[str, Any], probe: Probe) -> bool:
    users = _strings(rule.get("users"))
    if users is not None and probe.user not in users:
        return False
    groups = _strings(rule.get("userGroups"))
    if groups is not None and not set(groups) & set(probe.groups):
        return False
    verbs = _strings(rule.get("verbs"))
    if verbs is not None and probe.verb not in verbs:
        return False
    namespaces = _strings(rule.get("namespaces"))
    resources = rule.get("resources")
    urls = _strings(rule.get("nonResourceURLs"))
    if probe.path is not None:
        if namespaces is not None or (isinstance(resources, list) and resources):
            return False
        return urls is None or any(_url_matches(u, probe.path) for u in urls)
    if urls is not None:
        return False
    if namespaces is not None and probe.namespace not in namespaces:
        return False
    if not isinstance(resources, list) or not resources:
        return True
    return any(_resource_matches(entry, probe) for entry in resources)


def _url_matches(pattern: str, path: str) -> bool:
    if pattern == "*":
        return True
    if pattern.endswith("*"):
        return path.startswith(pattern[:-1])
    return path == pattern


def _resource_matches(entry: Any, probe: Probe) -> bool:
    if not isinstance(entry, dict) or str(entry.get("group") or "") != probe.group:
        return False
    names = _strings(entry.get("resources"))
    if names is None:
        return True
    wanted = _strings(entry.get("resourceNames"))
    if wanted is not None and probe.name not in wanted:
        return False
    combined = f"{probe.resource}/{probe.subresource}" if probe.subresource else probe.resource
    for name in names:
        if name in ("*", combined):
            return True
        if probe.subresource and name == f"*/{probe.subresource}":
            return True
        if name.endswith("/*") and name[:-2] == probe.resource:
            return True
    return False


def with_audit_policy(inventory: Inventory, path: Path) -> Inventory:
    """``inventory`` plus the audit Policy documents of the file given with --audit-policy.

    The file is read like any manifest, so findings keep its name and line numbers.
    """
    extra = load_inventory([str(path)])
    if extra.errors:
        raise UsageError(f"--audit-policy {extra.errors[0]}")
    policies = [r for r in extra if r.kind == "Policy" and r.group == GROUP]
    if not policies:
        raise UsageError(f"{path}: no audit.k8s.io Policy document (--audit-policy)")
    for policy in policies:
        if policy.origin is not None:
            inventory.locator.register_path(policy.origin.source, path)
    return Inventory(
        [*inventory.resources, *policies],
        locator=inventory.locator,
        problems=inventory.problems,
        description=inventory.description,
    )
