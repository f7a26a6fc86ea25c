"""Gatekeeper image constraints (and Ratify, which plugs into Gatekeeper).

A constraint's ``enforcementAction`` defaults to ``deny``; ``dryrun`` and ``warn`` only
report. ``scoped`` enforcement denies when a scoped action is ``deny`` at the validation
webhook. Namespaces listed in the Gatekeeper ``Config`` under ``excludedNamespaces`` for
all processes (or the webhook) are never checked.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from zt_audit.analysis.admission.controls import ImageControl
from zt_audit.analysis.admission.selectors import name_matches
from zt_audit.analysis.selectors import selector_matches
from zt_audit.inventory import Inventory, Resource

GROUP = "constraints.gatekeeper.sh"
RESTRICTING = ("K8sAllowedRepos", "K8sAllowedReposv2", "K8sImageDigests", "K8sDisallowedTags")
VERIFYING = ("RatifyVerification",)
VALIDATION_POINT = "validation.gatekeeper.sh"


def gatekeeper_controls(inventory: Inventory, fail_open: bool | None) -> Iterator[ImageControl]:
    exempt = _config_exemptions(inventory)
    for constraint in inventory.of_kind(*RESTRICTING, *VERIFYING, group=GROUP):
        action, enforced = _enforcement(constraint.spec)
        yield ImageControl(
            resource=constraint,
            path=("spec", "enforcementAction"),
            engine="Gatekeeper",
            verifies=constraint.kind in VERIFYING,
            enforced=enforced,
            mode=action,
            applies=_namespace_test(constraint.spec.get("match"), exempt),
            fail_open=fail_open,
        )


def _enforcement(spec: dict[str, Any]) -> tuple[str, bool]:
    action = spec.get("enforcementAction")
    action = action if isinstance(action, str) and action else "deny"
    if action == "scoped":
        scoped = spec.get("scopedEnforcementActions")
        for entry in scoped if isinstance(scoped, list) else []:
            if not isinstance(entry, dict) or entry.get("action") != "deny":
                continue
            points = entry.get("enforcementPoints")
            names = [p.get("name") for p in points if isinstance(p, dict)] if points else []
            if not names or VALIDATION_POINT in names or "*" in names:
                return action, True
        return action, False
    return action, action == "deny"


def _config_exemptions(inventory: Inventory) -> list[str]:
    patterns: list[str] = []
    for config in inventory.of_kind("Config", group="config.gatekeeper.sh"):
        matches = config.spec.get("match")
        for entry in matches if isinstance(matches, list) else []:
            if not isinstance(entry, dict):
                continue
            processes = entry.get("processes")
            if isinstance(processes, list) and ("*" in processes or "webhook" in processes):
                excluded = entry.get("excludedNamespaces")
                if isinstance(excluded, list):
                    patterns.extend(p for p in excluded if isinstance(p, str))
    return patterns


def _namespace_test(match: Any, exempt: list[str]):
    match = match if isinstance(match, dict) else {}

    def applies(namespace: str, labels: dict[str, str] | None) -> bool | None:
        if name_matches(exempt, namespace) or not _selects_pods(match.get("kinds")):
            return False
        if "namespaces" in match and not name_matches(match.get("namespaces"), namespace):
            return False
        if name_matches(match.get("excludedNamespaces"), namespace):
            return False
        selector = match.get("namespaceSelector")
        if selector is not None:
            return None if labels is None else selector_matches(selector, labels)
        return True

    return applies


def _selects_pods(kinds: Any) -> bool:
    if kinds is None:
        return True
    if not isinstance(kinds, list):
        return False
    for entry in kinds:
        if isinstance(entry, dict):
            names = entry.get("kinds")
            if isinstance(names, list) and ("Pod" in names or "*" in names):
                return True
    return False


def describe(resource: Resource) -> str:
    return f"Gatekeeper {resource.kind} {resource.name}"
