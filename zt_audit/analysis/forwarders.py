"""Where a security-event forwarder sends events, read from its configuration.

Falcosidekick takes one environment variable (or Secret key) per output setting, such as
``SLACK_WEBHOOKURL`` or ``TALON_ADDRESS``; an output is enabled when its destination
setting is non-empty. Only the output names leave this module: values are read to test
for emptiness and are never kept, as they often hold webhook tokens.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from zt_audit.analysis.signatures import Match
from zt_audit.inventory import Inventory

# Setting suffixes that name where an output sends events.
DESTINATION_SUFFIXES = frozenset(
    {"WEBHOOKURL", "HOSTPORT", "ADDRESS", "URL", "HOST", "FUNCTIONNAME", "FUNCTION", "BROKERS"}
)
# Outputs that act on an event (kill, isolate, run a function) rather than report it.
RESPONSE_OUTPUTS = frozenset(
    {
        "TALON",
        "KUBELESS",
        "OPENFAAS",
        "FISSION",
        "KNATIVE",
        "TEKTON",
        "AWS_LAMBDA",
        "GCP_CLOUDFUNCTIONS",
        "GCP_CLOUDRUN",
    }
)


def configured_outputs(inventory: Inventory, match: Match) -> list[str]:
    """Names of the outputs whose destination is set, sorted."""
    found = set()
    for key, non_empty in _settings(inventory, match):
        stem, _, suffix = key.rpartition("_")
        if stem and suffix in DESTINATION_SUFFIXES and non_empty:
            found.add(stem)
    return sorted(found)


def _settings(inventory: Inventory, match: Match) -> Iterator[tuple[str, bool]]:
    namespace = match.workload.namespace
    for container in match.workload.containers():
        env = container.spec.get("env")
        for entry in env if isinstance(env, list) else []:
            if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
                continue
            if "value" in entry:
                yield entry["name"], bool(entry.get("value"))
                continue
            source = entry.get("valueFrom")
            reference = source.get("secretKeyRef") if isinstance(source, dict) else None
            if isinstance(reference, dict):
                data = _data(inventory, namespace, reference.get("name"), "Secret")
                yield entry["name"], bool(data.get(reference.get("key")))
        sources = container.spec.get("envFrom")
        for source in sources if isinstance(sources, list) else []:
            if not isinstance(source, dict):
                continue
            for field, kind in (("secretRef", "Secret"), ("configMapRef", "ConfigMap")):
                reference = source.get(field)
                if isinstance(reference, dict):
                    data = _data(inventory, namespace, reference.get("name"), kind)
                    yield from ((str(k), bool(v)) for k, v in data.items())


def _data(inventory: Inventory, namespace: str, name: Any, kind: str) -> dict[Any, Any]:
    """The data of a Secret or ConfigMap (string data included), or empty when unknown."""
    if not isinstance(name, str):
        return {}
    resource = inventory.get(kind, namespace, name)
    if resource is None:
        return {}
    merged: dict[Any, Any] = {}
    for field in ("data", "stringData"):
        values = resource.obj.get(field)
        if isinstance(values, dict):
            merged.update(values)
    return merged
