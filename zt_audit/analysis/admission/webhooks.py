"""Admission webhooks: who they belong to, whether they fail closed, what they see.

``failurePolicy`` defaults to ``Fail`` in ``admissionregistration.k8s.io/v1`` and to
``Ignore`` in the removed ``v1beta1``; ``namespaceSelector`` and ``objectSelector`` are
label selectors that default to everything (Kubernetes "Dynamic Admission Control").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from zt_audit.analysis.selectors import selector_matches
from zt_audit.analysis.signatures import Signature, Signatures
from zt_audit.inventory import FieldPath, Inventory, Resource

KINDS = ("ValidatingWebhookConfiguration", "MutatingWebhookConfiguration")
GROUP = "admissionregistration.k8s.io"


@dataclass(frozen=True)
class Webhook:
    """One entry of a webhook configuration."""

    configuration: Resource
    index: int
    spec: dict[str, Any]

    @property
    def name(self) -> str:
        name = self.spec.get("name")
        return name if isinstance(name, str) else f"webhooks[{self.index}]"

    @property
    def failure_policy(self) -> str:
        value = self.spec.get("failurePolicy")
        if isinstance(value, str):
            return value
        return "Ignore" if self.configuration.api_version.endswith("v1beta1") else "Fail"

    @property
    def fails_open(self) -> bool:
        return self.failure_policy == "Ignore"

    @property
    def service(self) -> tuple[str, str] | None:
        client = self.spec.get("clientConfig")
        service = client.get("service") if isinstance(client, dict) else None
        if not isinstance(service, dict):
            return None
        namespace, name = service.get("namespace"), service.get("name")
        if isinstance(namespace, str) and isinstance(name, str):
            return namespace, name
        return None

    @property
    def namespace_selector(self) -> Any:
        return self.spec.get("namespaceSelector")

    @property
    def object_selector(self) -> Any:
        return self.spec.get("objectSelector")

    def path(self, *parts: str) -> FieldPath:
        return ("webhooks", self.index, *parts)

    def sees_namespace(self, labels: dict[str, str]) -> bool:
        return selector_matches(self.namespace_selector, labels)

    def handles_pods(self) -> bool:
        """Whether any rule covers pods (or every resource) on create."""
        rules = self.spec.get("rules")
        if not isinstance(rules, list):
            return False
        for rule in rules:
            if not isinstance(rule, dict):
                continue
            resources = rule.get("resources")
            operations = rule.get("operations")
            if not isinstance(resources, list) or not isinstance(operations, list):
                continue
            if ("*" in operations or "CREATE" in operations) and any(
                r in ("*", "*/*", "pods") for r in resources
            ):
                return True
        return False


def webhooks(inventory: Inventory) -> list[Webhook]:
    found = []
    for configuration in inventory.of_kind(*KINDS, group=GROUP):
        entries = configuration.obj.get("webhooks")
        if not isinstance(entries, list):
            continue
        for index, entry in enumerate(entries):
            if isinstance(entry, dict):
                found.append(Webhook(configuration, index, entry))
    return sorted(found, key=lambda w: (w.configuration.ref, w.index))


def product_of(webhook: Webhook, signatures: Signatures) -> Signature | None:
    """The security product a webhook belongs to, by configuration, webhook or service name."""
    names = [webhook.configuration.name, webhook.name]
    if webhook.service:
        names.append(webhook.service[1])
    for signature in signatures.of("admission"):
        if any(signature.matches_name(name) for name in names):
            return signature
    return None
