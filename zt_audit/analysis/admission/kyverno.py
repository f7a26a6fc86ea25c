"""Kyverno image rules: ``verifyImages`` in ClusterPolicy and Policy, ImageValidatingPolicy,
and validate rules that pattern-match image fields.

Mode: a ``verifyImages`` entry's ``failureAction`` wins, then the rule's
``validate.failureAction``, then the deprecated ``spec.validationFailureAction``; the
default is Audit. Namespace overrides (``validationFailureActionOverrides``) apply on top.
``spec.failurePolicy: Ignore`` lets requests through when Kyverno cannot answer.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from zt_audit.analysis.admission.controls import ImageControl
from zt_audit.analysis.admission.selectors import name_matches
from zt_audit.analysis.selectors import selector_matches
from zt_audit.inventory import Inventory, Resource

POD_KINDS = frozenset(
    {"*", "Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob"}
)


def kyverno_controls(inventory: Inventory) -> Iterator[ImageControl]:
    for policy in inventory.of_kind("ClusterPolicy", "Policy", group="kyverno.io"):
        rules = policy.spec.get("rules")
        if not isinstance(rules, list):
            continue
        for index, rule in enumerate(rules):
            if isinstance(rule, dict) and _applies_to_pods(rule):
                yield from _rule_controls(policy, index, rule)
    for policy in inventory.of_kind("ImageValidatingPolicy", group="policies.kyverno.io"):
        yield _image_validating_policy(policy)


def _rule_controls(policy: Resource, index: int, rule: dict[str, Any]) -> Iterator[ImageControl]:
    fail_open = policy.spec.get("failurePolicy") == "Ignore"
    entries = rule.get("verifyImages")
    if isinstance(entries, list):
        for number, entry in enumerate(entries):
            if not isinstance(entry, dict):
                continue
            mode = _mode(policy, rule, entry)
            enforced = _enforced_somewhere(policy, rule, entry)
            globs = entry.get("imageReferences")
            attestors = entry.get("attestors")
            verifies = isinstance(attestors, list) and bool(attestors)
            required = entry.get("required", True) is not False
            yield ImageControl(
                resource=policy,
                path=("spec", "rules", index, "verifyImages", number),
                engine="Kyverno",
                verifies=verifies and required,
                enforced=enforced,
                mode=mode,
                applies=_namespace_test(policy, rule, entry),
                image_globs=tuple(g for g in globs if isinstance(g, str))
                if isinstance(globs, list)
                else (),
                skip_globs=_globs(entry.get("skipImageReferences")),
                attestations=_predicates(entry.get("attestations")),
                fail_open=fail_open,
                notes=() if required else ("required: false admits unsigned images",),
            )
    validate = rule.get("validate")
    if isinstance(validate, dict) and _checks_images(validate):
        yield ImageControl(
            resource=policy,
            path=("spec", "rules", index, "validate"),
            engine="Kyverno",
            verifies=False,
            enforced=_enforced_somewhere(policy, rule, {}),
            mode=_mode(policy, rule, {}),
            applies=_namespace_test(policy, rule, {}),
            fail_open=fail_open,
        )


PSS_LEVELS = ("privileged", "baseline", "restricted")


@dataclass(frozen=True)
class PodSecurityRule:
    """A Kyverno ``validate.podSecurity`` rule: a Pod Security Standard enforced by policy."""

    policy: Resource
    index: int
    level: str  # the profile actually held: one step down when controls are excluded
    enforced: bool  # in some namespace, by its own mode or by an override
    # Whether it rejects non-conforming pods of a namespace (None: labels unknown).
    enforced_in: Callable[[str, dict[str, str] | None], bool | None]

    @property
    def ref(self) -> str:
        return f"{self.policy.ref} rules[{self.index}]"


def pod_security_rules(inventory: Inventory) -> list[PodSecurityRule]:
    """Every Kyverno rule that validates pods against a Pod Security Standard.

    Excluded controls (``podSecurity.exclude``) weaken the profile: a restricted rule with
    exclusions is credited as baseline, a baseline one as privileged.
    """
    found = []
    for policy in inventory.of_kind("ClusterPolicy", "Policy", group="kyverno.io"):
        rules = policy.spec.get("rules")
        for index, rule in enumerate(rules if isinstance(rules, list) else []):
            validate = rule.get("validate") if isinstance(rule, dict) else None
            security = validate.get("podSecurity") if isinstance(validate, dict) else None
            if not isinstance(security, dict) or not _applies_to_pods(rule):
                continue
            level = security.get("level")
            if level not in PSS_LEVELS:
                continue
            if security.get("exclude"):
                level = PSS_LEVELS[max(PSS_LEVELS.index(level) - 1, 0)]
            found.append(
                PodSecurityRule(
                    policy=policy,
                    index=index,
                    level=level,
                    enforced=_enforced_somewhere(policy, rule, {}),
                    enforced_in=_namespace_test(policy, rule, {}),
                )
            )
    return sorted(found, key=lambda r: (str(r.policy.ref), r.index))


def _checks_images(validate: dict[str, Any]) -> bool:
    """Whether a validate rule tests image references (not a podSecurity image exemption)."""
    if "podSecurity" in validate:
        return False
    checked = {k: v for k, v in validate.items() if k not in ("message", "failureAction")}
    return '"image' in json.dumps(checked) or ".image" in json.dumps(checked)


def _mode(policy: Resource, rule: dict[str, Any], entry: dict[str, Any]) -> str:
    validate = rule.get("validate")
    for candidate in (
        entry.get("failureAction"),
        validate.get("failureAction") if isinstance(validate, dict) else None,
        policy.spec.get("validationFailureAction"),
    ):
        if isinstance(candidate, str) and candidate:
            return candidate
    return "Audit"


def _overrides(policy: Resource, rule: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    validate = rule.get("validate")
    for source in (
        validate.get("failureActionOverrides") if isinstance(validate, dict) else None,
        policy.spec.get("validationFailureActionOverrides"),
    ):
        if isinstance(source, list):
            found.extend(o for o in source if isinstance(o, dict))
    return found


def _enforced_somewhere(policy: Resource, rule: dict[str, Any], entry: dict[str, Any]) -> bool:
    """Enforce by the rule's own mode, or by an override for some namespaces."""
    if _mode(policy, rule, entry).lower() == "enforce":
        return True
    overrides = _overrides(policy, rule) if not entry.get("failureAction") else []
    return any(str(o.get("action", "")).lower() == "enforce" for o in overrides)


def _namespace_test(policy: Resource, rule: dict[str, Any], entry: dict[str, Any]):
    """Whether the rule is enforced on pods of a namespace (None: labels unknown).

    A namespace override decides the mode where it names the namespace; elsewhere the
    rule's own mode does, and an Audit rule is enforced nowhere.
    """
    overrides = _overrides(policy, rule) if not entry.get("failureAction") else []
    enforced = _mode(policy, rule, entry).lower() == "enforce"

    def applies(namespace: str, labels: dict[str, str] | None) -> bool | None:
        if policy.kind == "Policy" and policy.namespace != namespace:
            return False
        matched = _block(rule.get("match"), namespace, labels, excluding=False)
        if matched is False:
            return False
        excluded = _block(rule.get("exclude"), namespace, labels, excluding=True)
        if excluded is True:
            return False
        for override in overrides:
            action = override.get("action")
            if isinstance(action, str) and name_matches(override.get("namespaces"), namespace):
                # An override to Audit in this namespace takes the rule out of enforcement.
                return action.lower() == "enforce"
        if not enforced:
            return False
        if matched is None or excluded is None:
            return None
        return True

    return applies


def _block(block: Any, namespace: str, labels: dict[str, str] | None, *, excluding: bool):
    """Whether a match or exclude block selects pods of ``namespace`` (None: unknown)."""
    if not isinstance(block, dict):
        return False  # no exclude block exempts nothing; a malformed match covers nothing
    if isinstance(block.get("any"), list):
        results = [_filter(f, namespace, labels, excluding) for f in block["any"]]
        return True if True in results else (None if None in results else False)
    if isinstance(block.get("all"), list):
        results = [_filter(f, namespace, labels, excluding) for f in block["all"]]
        if not results:
            return False
        return False if False in results else (None if None in results else True)
    return _filter(block, namespace, labels, excluding)


def _filter(item: Any, namespace: str, labels: dict[str, str] | None, excluding: bool):
    if not isinstance(item, dict):
        return False
    resources = item.get("resources")
    if not isinstance(resources, dict):
        # A filter on users or roles only: it neither covers nor exempts a namespace.
        return False
    kinds = resources.get("kinds")
    if isinstance(kinds, list) and not any(_kind(k) in POD_KINDS for k in kinds):
        return False
    if "names" in resources and not excluding:
        return False  # a rule for a few named objects does not cover a namespace
    namespaces = resources.get("namespaces")
    if isinstance(namespaces, list) and not name_matches(namespaces, namespace):
        return False
    selector = resources.get("namespaceSelector")
    if selector is not None:
        if labels is None:
            return None
        return selector_matches(selector, labels)
    return True


def _kind(value: Any) -> str:
    return str(value).rsplit("/", 1)[-1]


def _applies_to_pods(rule: dict[str, Any]) -> bool:
    """Whether the rule's match block names a pod-running kind (or any kind)."""
    match = rule.get("match")
    if not isinstance(match, dict):
        return False
    filters = [match]
    for key in ("any", "all"):
        if isinstance(match.get(key), list):
            filters = match[key]
    for item in filters:
        resources = item.get("resources") if isinstance(item, dict) else None
        kinds = resources.get("kinds") if isinstance(resources, dict) else None
        if isinstance(kinds, list) and any(_kind(k) in POD_KINDS for k in kinds):
            return True
    return False


def _globs(value: Any) -> tuple[str, ...]:
    return tuple(g for g in value if isinstance(g, str)) if isinstance(value, list) else ()


def _predicates(attestations: Any) -> tuple[str, ...]:
    if not isinstance(attestations, list):
        return ()
    found = []
    for attestation in attestations:
        if isinstance(attestation, dict):
            kind = attestation.get("predicateType") or attestation.get("type")
            if isinstance(kind, str):
                found.append(kind)
    return tuple(sorted(found))


def _image_validating_policy(policy: Resource) -> ImageControl:
    spec = policy.spec
    actions = spec.get("validationActions")
    actions = [a for a in actions if isinstance(a, str)] if isinstance(actions, list) else []
    references = spec.get("matchImageReferences")
    globs = []
    if isinstance(references, list):
        for reference in references:
            if isinstance(reference, dict) and isinstance(reference.get("glob"), str):
                globs.append(reference["glob"])
            elif isinstance(reference, dict):
                globs = []  # a CEL expression: treat the policy as matching every image
                break
    constraints = spec.get("matchConstraints")
    selector = constraints.get("namespaceSelector") if isinstance(constraints, dict) else None

    def applies(namespace: str, labels: dict[str, str] | None) -> bool | None:
        if selector is None:
            return True
        return None if labels is None else selector_matches(selector, labels)

    attestors = spec.get("attestors")
    return ImageControl(
        resource=policy,
        path=("spec",),
        engine="Kyverno",
        verifies=isinstance(attestors, list) and bool(attestors),
        enforced="Deny" in actions,
        mode=",".join(actions) or "unset",
        applies=applies,
        image_globs=tuple(globs),
        attestations=_predicates(spec.get("attestations")),
        fail_open=spec.get("failurePolicy") == "Ignore",
    )
