"""ValidatingAdmissionPolicy rules about images.

A policy acts only through a binding; the binding's ``validationActions`` must include
``Deny`` to reject requests (``Warn`` and ``Audit`` only report). Both the policy's
``matchConstraints`` and the binding's ``matchResources`` narrow the namespaces. CEL can
check image names, tags and digests but not signatures, so these are restrictions only.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from zt_audit.analysis.admission.controls import ImageControl
from zt_audit.analysis.selectors import selector_matches
from zt_audit.inventory import Inventory, Resource

GROUP = "admissionregistration.k8s.io"
POD_RESOURCES = frozenset(
    {"*", "pods", "deployments", "statefulsets", "daemonsets", "replicasets", "jobs", "cronjobs"}
)


def vap_controls(inventory: Inventory) -> Iterator[ImageControl]:
    policies = {p.name: p for p in inventory.of_kind("ValidatingAdmissionPolicy", group=GROUP)}
    for binding in inventory.of_kind("ValidatingAdmissionPolicyBinding", group=GROUP):
        policy = policies.get(str(binding.spec.get("policyName")))
        if policy is None or not _about_images(policy):
            continue
        actions = binding.spec.get("validationActions")
        actions = [a for a in actions if isinstance(a, str)] if isinstance(actions, list) else []
        yield ImageControl(
            resource=binding,
            path=("spec", "validationActions"),
            engine=f"policy {policy.name} through",
            verifies=False,
            enforced="Deny" in actions,
            mode=",".join(actions) or "unset",
            applies=_namespace_test(policy, binding),
            fail_open=policy.spec.get("failurePolicy") == "Ignore",
        )


def _about_images(policy: Resource) -> bool:
    constraints = policy.spec.get("matchConstraints")
    rules = constraints.get("resourceRules") if isinstance(constraints, dict) else None
    pods = any(
        isinstance(rule, dict)
        and isinstance(rule.get("resources"), list)
        and any(r in POD_RESOURCES for r in rule["resources"])
        for rule in (rules if isinstance(rules, list) else [])
    )
    return pods and "image" in json.dumps(policy.spec.get("validations"))


def _namespace_test(policy: Resource, binding: Resource):
    selectors = []
    for spec, field in ((policy.spec, "matchConstraints"), (binding.spec, "matchResources")):
        block = spec.get(field)
        if isinstance(block, dict) and block.get("namespaceSelector") is not None:
            selectors.append(block["namespaceSelector"])

    def applies(namespace: str, labels: dict[str, str] | None) -> bool | None:
        if not selectors:
            return True
        if labels is None:
            return None
        return all(selector_matches(s, labels) for s in selectors)

    return applies
