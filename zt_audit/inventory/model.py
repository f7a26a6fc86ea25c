"""Kubernetes objects as zt-audit holds them, each remembering where it came from."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from zt_audit.inventory.locate import Locator, Origin

if TYPE_CHECKING:
    from zt_audit.inventory.workloads import Workload

# Kinds that live outside namespaces. Unknown kinds are treated as namespaced unless a
# CustomResourceDefinition in the input says otherwise.
CLUSTER_SCOPED_KINDS = frozenset(
    {
        "APIService",
        "AdminNetworkPolicy",
        "BaselineAdminNetworkPolicy",
        "CertificateSigningRequest",
        "ClusterImagePolicy",
        "ClusterExternalSecret",
        "ClusterIssuer",
        "ClusterPolicy",
        "ClusterPolicyReport",
        "ClusterRole",
        "ClusterRoleBinding",
        "ClusterSbomReport",
        "ClusterSecretStore",
        "CiliumClusterwideNetworkPolicy",
        "ClusterVulnerabilityReport",
        "ComponentStatus",
        "ConstraintTemplate",
        "CSIDriver",
        "CSINode",
        "CustomResourceDefinition",
        "FlowSchema",
        "GatewayClass",
        "GlobalNetworkPolicy",
        "GlobalNetworkSet",
        "ImageValidatingPolicy",
        "IngressClass",
        "KubeArmorClusterPolicy",
        "KubeArmorHostPolicy",
        "MutatingAdmissionPolicy",
        "MutatingAdmissionPolicyBinding",
        "MutatingWebhookConfiguration",
        "Namespace",
        "Node",
        "NvClusterSecurityRule",
        "PersistentVolume",
        "PodSecurityPolicy",
        "PriorityClass",
        "PriorityLevelConfiguration",
        "RuntimeClass",
        "StorageClass",
        "TracingPolicy",
        "ValidatingAdmissionPolicy",
        "ValidatingAdmissionPolicyBinding",
        "ValidatingWebhookConfiguration",
        "VolumeAttachment",
    }
)
# Gatekeeper constraints are cluster-scoped custom resources of this group; audit policies
# and encryption configurations are API server configuration files, not namespaced objects.
CLUSTER_SCOPED_GROUPS = frozenset(
    {"constraints.gatekeeper.sh", "audit.k8s.io", "apiserver.config.k8s.io"}
)


@dataclass(frozen=True, slots=True, order=True)
class ObjectRef:
    """The identity of an object: what a finding names."""

    api_version: str
    kind: str
    namespace: str | None
    name: str

    def __str__(self) -> str:
        if self.namespace:
            return f"{self.kind}/{self.namespace}/{self.name}"
        return f"{self.kind}/{self.name}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "apiVersion": self.api_version,
            "kind": self.kind,
            "namespace": self.namespace,
            "name": self.name,
        }


def split_api_version(api_version: str) -> tuple[str, str]:
    """``apps/v1`` -> (``apps``, ``v1``); the core group is the empty string."""
    group, _, version = api_version.rpartition("/")
    return group, version


class Resource:
    """One Kubernetes object. ``obj`` is the parsed mapping, never modified."""

    __slots__ = ("__dict__", "api_version", "kind", "name", "namespace", "obj", "origin")

    def __init__(
        self,
        obj: dict[str, Any],
        origin: Origin | None = None,
        *,
        namespaced: bool | None = None,
        default_namespace: str = "default",
    ) -> None:
        self.obj = obj
        self.origin = origin
        self.api_version: str = obj["apiVersion"]
        self.kind: str = obj["kind"]
        metadata = self.metadata
        name = metadata.get("name")
        if not isinstance(name, str) or not name:
            name = (
                metadata.get("generateName")
                if isinstance(metadata.get("generateName"), str)
                else ""
            )
        self.name: str = name or "<unnamed>"
        if namespaced is None:
            namespaced = self.kind not in CLUSTER_SCOPED_KINDS and self.group not in (
                CLUSTER_SCOPED_GROUPS
            )
        namespace = metadata.get("namespace")
        if not namespaced:
            self.namespace: str | None = None
        elif isinstance(namespace, str) and namespace:
            self.namespace = namespace
        else:
            self.namespace = default_namespace

    @property
    def group(self) -> str:
        return split_api_version(self.api_version)[0]

    @property
    def metadata(self) -> dict[str, Any]:
        metadata = self.obj.get("metadata")
        return metadata if isinstance(metadata, dict) else {}

    @property
    def labels(self) -> dict[str, str]:
        return _string_map(self.metadata.get("labels"))

    @property
    def annotations(self) -> dict[str, str]:
        return _string_map(self.metadata.get("annotations"))

    @property
    def spec(self) -> dict[str, Any]:
        spec = self.obj.get("spec")
        return spec if isinstance(spec, dict) else {}

    @cached_property
    def ref(self) -> ObjectRef:
        return ObjectRef(self.api_version, self.kind, self.namespace, self.name)

    def __repr__(self) -> str:
        return f"<Resource {self.ref}>"


def _string_map(value: Any) -> dict[str, str]:
    """Labels and annotations as a str->str mapping, dropping malformed entries."""
    if not isinstance(value, dict):
        return {}
    return {str(k): str(v) if v is not None else "" for k, v in value.items()}


@dataclass(frozen=True, slots=True)
class InputProblem:
    """An input that could not be used, in whole or in part."""

    source: str
    line: int | None
    message: str
    level: str = "error"  # "error" stops nothing but makes the exit code 2; "warning" is advice

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}" if self.line else self.source
        return f"{where}: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        return {"source": self.source, "line": self.line, "message": self.message}


class Inventory:
    """All objects of one scan, indexed by kind and by identity."""

    def __init__(
        self,
        resources: Iterable[Resource],
        *,
        locator: Locator | None = None,
        problems: Iterable[InputProblem] = (),
        description: str = "",
    ) -> None:
        self.resources: list[Resource] = list(resources)
        self.locator = locator or Locator()
        self.problems: list[InputProblem] = list(problems)
        self.description = description
        self._by_kind: dict[str, list[Resource]] = {}
        self._by_id: dict[tuple[str, str, str | None, str], Resource] = {}
        for resource in self.resources:
            self._by_kind.setdefault(resource.kind, []).append(resource)
            self._by_id[(resource.group, resource.kind, resource.namespace, resource.name)] = (
                resource
            )

    def __len__(self) -> int:
        return len(self.resources)

    def __iter__(self) -> Iterator[Resource]:
        return iter(self.resources)

    @property
    def errors(self) -> list[InputProblem]:
        return [p for p in self.problems if p.level == "error"]

    @property
    def warnings(self) -> list[InputProblem]:
        return [p for p in self.problems if p.level == "warning"]

    def of_kind(self, *kinds: str, group: str | None = None) -> list[Resource]:
        """Objects of the given kinds, in input order; ``group`` narrows by API group."""
        found: list[Resource] = []
        for kind in kinds:
            found.extend(self._by_kind.get(kind, ()))
        if group is not None:
            found = [r for r in found if r.group == group]
        return found

    def has_kind(self, kind: str) -> bool:
        return kind in self._by_kind

    def get(self, kind: str, namespace: str | None, name: str, group: str = "") -> Resource | None:
        return self._by_id.get((group, kind, namespace, name))

    def kind_counts(self) -> dict[str, int]:
        return {kind: len(items) for kind, items in sorted(self._by_kind.items())}

    @cached_property
    def namespaces(self) -> dict[str, Resource | None]:
        """Every namespace that is declared or used, with its Namespace object if present."""
        found: dict[str, Resource | None] = {}
        for resource in self.resources:
            if resource.namespace is not None:
                found.setdefault(resource.namespace, None)
        for namespace in self.of_kind("Namespace", group=""):
            found[namespace.name] = namespace
        return dict(sorted(found.items()))

    def namespace_labels(self, namespace: str) -> dict[str, str] | None:
        """The labels of a namespace, or None when its object is not in the input.

        Kubernetes sets ``kubernetes.io/metadata.name`` on every namespace; it is added
        here so that selectors on it behave as they do in a cluster.
        """
        obj = self.namespaces.get(namespace)
        if obj is None:
            return None
        return {**obj.labels, "kubernetes.io/metadata.name": namespace}

    @cached_property
    def workloads(self) -> list[Workload]:
        from zt_audit.inventory.workloads import find_workloads

        return find_workloads(self)
