"""The stand-in's cluster state: real manifests, stored as an API server would hold them."""

from __future__ import annotations

import base64
import copy
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from apiserver.resources import BUILTIN, Resource

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
CREATED = "2026-01-05T09:30:00Z"
# The fixture cluster: real manifests the stand-in serves and the file scans read.
CLUSTER = Path(__file__).resolve().parents[1] / "fixtures" / "live" / "cluster"


@dataclass
class Store:
    """Objects by (group, plural), with the resources the server serves."""

    resources: list[Resource] = field(default_factory=lambda: list(BUILTIN))
    objects: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    version: str = "v1.31.2"

    @classmethod
    def from_paths(cls, *paths: Path) -> Store:
        store = cls()
        documents = [doc for path in paths for doc in _documents(path)]
        # CRDs first: their kinds must be served before their objects can be stored.
        for doc in documents:
            if doc.get("kind") == "CustomResourceDefinition":
                store.install_crd(doc)
        for doc in documents:
            store.add(doc)
        return store

    def install_crd(self, crd: dict[str, Any]) -> None:
        spec = crd["spec"]
        names = spec["names"]
        for version in spec["versions"]:
            if version.get("served", True):
                self.resources.append(
                    Resource(
                        spec["group"],
                        version["name"],
                        names["plural"],
                        names["kind"],
                        spec.get("scope") == "Namespaced",
                    )
                )

    def add(self, obj: dict[str, Any]) -> None:
        """Store an object as ``kubectl apply`` would leave it."""
        group = obj["apiVersion"].rpartition("/")[0]
        resource = self.resource_of(group, obj["kind"])
        stored = copy.deepcopy(obj)
        metadata = stored.setdefault("metadata", {})
        if resource.namespaced:
            metadata.setdefault("namespace", "default")
        identity = f"{group}/{obj['kind']}/{metadata.get('namespace')}/{metadata['name']}"
        metadata.setdefault("uid", str(uuid.uuid5(uuid.NAMESPACE_URL, identity)))
        metadata.setdefault("resourceVersion", str(1000 + len(identity)))
        metadata.setdefault("creationTimestamp", CREATED)
        metadata["managedFields"] = [
            {"manager": "kubectl-client-side-apply", "operation": "Update", "apiVersion": "v1"}
        ]
        applied = copy.deepcopy(obj)
        if obj["kind"] == "Secret" and group == "":
            stored.setdefault("type", "Opaque")
            # The API server folds stringData into data on write.
            plain = stored.pop("stringData", None) or {}
            if not plain and not stored.get("data"):
                plain = _canaries(stored)
                applied["stringData"] = plain
            data = stored.setdefault("data", {})
            for key, value in plain.items():
                data[key] = base64.b64encode(str(value).encode()).decode()
        # kubectl apply records the manifest it applied, Secret values and all.
        annotations = metadata.setdefault("annotations", {})
        annotations[LAST_APPLIED] = json.dumps(applied, sort_keys=True)
        self.objects.setdefault((group, resource.plural), []).append(stored)

    def secret_values(self) -> list[str]:
        """Every Secret value the server holds, decoded and as stored (base64)."""
        values = []
        for secret in self.objects.get(("", "secrets"), []):
            for encoded in secret.get("data", {}).values():
                values += [encoded, base64.b64decode(encoded).decode()]
        return sorted(values)

    def resource_of(self, group: str, kind: str) -> Resource:
        for resource in self.resources:
            if resource.group == group and resource.kind == kind:
                return resource
        raise KeyError(f"the stand-in serves no {kind} in group {group!r}")

    def lookup(self, group: str, version: str, plural: str) -> Resource | None:
        for resource in self.resources:
            if (resource.group, resource.version, resource.plural) == (group, version, plural):
                return resource
        return None

    def items(self, resource: Resource, namespace: str | None) -> list[dict[str, Any]]:
        found = self.objects.get((resource.group, resource.plural), [])
        if namespace is not None:
            found = [o for o in found if o["metadata"].get("namespace") == namespace]
        return sorted(
            found, key=lambda o: (o["metadata"].get("namespace", ""), o["metadata"]["name"])
        )

    def groups(self) -> dict[str, list[str]]:
        """Group -> versions, in the order the resources were registered."""
        served: dict[str, list[str]] = {}
        for resource in self.resources:
            versions = served.setdefault(resource.group, [])
            if resource.version not in versions:
                versions.append(resource.version)
        return served


# The keys each Secret type requires (Kubernetes "Secrets" concept page).
TYPE_KEYS = {
    "kubernetes.io/tls": ("tls.crt", "tls.key"),
    "kubernetes.io/service-account-token": ("token", "ca.crt", "namespace"),
    "kubernetes.io/dockerconfigjson": (".dockerconfigjson",),
    "kubernetes.io/basic-auth": ("username", "password"),
}


def _canaries(secret: dict[str, Any]) -> dict[str, str]:
    """Values for a Secret given without any: unique text a leak test can search for."""
    metadata = secret["metadata"]
    keys = TYPE_KEYS.get(secret["type"], ("value",))
    where = f"{metadata.get('namespace')}-{metadata['name']}"
    return {key: f"canary-{where}-{key.strip('.')}" for key in keys}


def _documents(path: Path) -> Iterable[dict[str, Any]]:
    files = sorted(path.rglob("*.yaml")) if path.is_dir() else [path]
    for file in files:
        for doc in yaml.safe_load_all(file.read_text(encoding="utf-8")):
            if isinstance(doc, dict) and doc.get("kind") == "List":
                yield from doc.get("items", [])
            elif isinstance(doc, dict):
                yield doc
