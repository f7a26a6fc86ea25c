"""Where workloads get their secrets: Secrets, and the stores that keep them outside.

External Secrets Operator writes the Secret named by ``spec.target.name`` (default: the
ExternalSecret's own name) and refreshes it every ``refreshInterval`` (default 1h; ``0``
turns refreshing off). The Secrets Store CSI driver and the Vault agent injector hand
secrets to the pod without a Secret object at all. A SealedSecret decrypts into a Secret
of its own name: encrypted in Git, but neither stored outside nor rotated.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from zt_audit.inventory import Inventory, Workload

CSI_DRIVER = "secrets-store.csi.k8s.io"
VAULT_ANNOTATION = "vault.hashicorp.com/agent-inject"
NO_REFRESH = ("0", "0s", "0m", "0h")


@dataclass(frozen=True)
class SecretUse:
    """How one workload consumes secrets."""

    workload: Workload
    secrets: tuple[str, ...]  # Secret names it references (env, envFrom, volumes)
    mechanisms: tuple[str, ...]  # store mechanisms it uses directly (CSI, Vault injector)


def secret_uses(workload: Workload) -> SecretUse | None:
    names: set[str] = set()
    mechanisms: set[str] = set()
    for container in workload.containers():
        names.update(_container_refs(container.spec))
    for volume, _ in workload.volumes():
        names.update(_volume_refs(volume))
        csi = volume.get("csi")
        if isinstance(csi, dict) and csi.get("driver") == CSI_DRIVER:
            mechanisms.add("Secrets Store CSI driver")
    if workload.pod_annotations.get(VAULT_ANNOTATION, "").lower() == "true":
        mechanisms.add("Vault agent injector")
    if not names and not mechanisms:
        return None
    return SecretUse(workload, tuple(sorted(names)), tuple(sorted(mechanisms)))


def _container_refs(spec: dict[str, Any]) -> Iterator[str]:
    env = spec.get("env")
    for entry in env if isinstance(env, list) else []:
        source = entry.get("valueFrom") if isinstance(entry, dict) else None
        reference = source.get("secretKeyRef") if isinstance(source, dict) else None
        if isinstance(reference, dict) and isinstance(reference.get("name"), str):
            yield reference["name"]
    sources = spec.get("envFrom")
    for source in sources if isinstance(sources, list) else []:
        reference = source.get("secretRef") if isinstance(source, dict) else None
        if isinstance(reference, dict) and isinstance(reference.get("name"), str):
            yield reference["name"]


def _volume_refs(volume: dict[str, Any]) -> Iterator[str]:
    secret = volume.get("secret")
    if isinstance(secret, dict) and isinstance(secret.get("secretName"), str):
        yield secret["secretName"]
    projected = volume.get("projected")
    sources = projected.get("sources") if isinstance(projected, dict) else None
    for source in sources if isinstance(sources, list) else []:
        secret = source.get("secret") if isinstance(source, dict) else None
        if isinstance(secret, dict) and isinstance(secret.get("name"), str):
            yield secret["name"]


def managed_secrets(inventory: Inventory) -> dict[tuple[str, str], str]:
    """(namespace, Secret name) -> "refreshing", "static" (refresh off) or "sealed"."""
    found: dict[tuple[str, str], str] = {}
    for sealed in inventory.of_kind("SealedSecret", group="bitnami.com"):
        found[(sealed.namespace or "default", _sealed_name(sealed.obj, sealed.name))] = "sealed"
    for external in inventory.of_kind("ExternalSecret", group="external-secrets.io"):
        spec = external.spec
        target = spec.get("target")
        name = target.get("name") if isinstance(target, dict) else None
        name = name if isinstance(name, str) and name else external.name
        interval = spec.get("refreshInterval", "1h")
        state = "static" if str(interval).strip() in NO_REFRESH else "refreshing"
        found[(external.namespace or "default", name)] = state
    return found


def _sealed_name(obj: dict[str, Any], default: str) -> str:
    spec = obj.get("spec")
    template = spec.get("template") if isinstance(spec, dict) else None
    metadata = template.get("metadata") if isinstance(template, dict) else None
    name = metadata.get("name") if isinstance(metadata, dict) else None
    return name if isinstance(name, str) and name else default
