"""Secrets encryption at rest, from an ``EncryptionConfiguration`` document.

The API server encrypts a resource with the first provider of the first ``resources``
entry that lists it (``secrets``, or the wildcards ``*.`` for the core group and ``*.*``
for everything); ``identity`` first means plain text. ``kms`` with ``apiVersion: v2`` is
envelope encryption with a key outside the cluster; ``aescbc``, ``aesgcm`` and
``secretbox`` keep their key in the file beside the API server (Kubernetes "Encrypting
Confidential Data at Rest").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from zt_audit.inventory import FieldPath, Inventory, Resource

GROUP = "apiserver.config.k8s.io"
LOCAL_KEY_PROVIDERS = ("aescbc", "aesgcm", "secretbox")


@dataclass(frozen=True)
class SecretsProvider:
    resource: Resource
    path: FieldPath
    provider: str | None  # None: no entry covers secrets
    kms_version: str | None = None


def encryption_configs(inventory: Inventory) -> list[Resource]:
    configs = inventory.of_kind("EncryptionConfiguration", group=GROUP)
    return sorted(configs, key=lambda r: r.ref)


def secrets_provider(config: Resource) -> SecretsProvider:
    entries = config.obj.get("resources")
    for index, entry in enumerate(entries if isinstance(entries, list) else []):
        if not isinstance(entry, dict) or not _covers_secrets(entry.get("resources")):
            continue
        providers = entry.get("providers")
        first = providers[0] if isinstance(providers, list) and providers else None
        path: FieldPath = ("resources", index, "providers", 0)
        if not isinstance(first, dict) or not first:
            return SecretsProvider(config, path, "identity")
        name = sorted(first)[0]
        settings = first.get(name)
        version = None
        if name == "kms":
            version = _kms_version(settings)
        return SecretsProvider(config, path, name, version)
    return SecretsProvider(config, ("resources",), None)


def _covers_secrets(resources: Any) -> bool:
    if not isinstance(resources, list):
        return False
    return any(r in ("secrets", "*.", "*.*") for r in resources)


def _kms_version(settings: Any) -> str:
    version = settings.get("apiVersion") if isinstance(settings, dict) else None
    return version if isinstance(version, str) else "v1"  # v1 is the field's default
