"""Workloads: the pods an inventory runs, whether declared as Pods or as pod templates.

A live cluster lists a Deployment, its ReplicaSets and their Pods; judging all three
would count one workload three times. A pod or controller whose controlling owner is also
in the inventory is therefore folded into that owner, so a live scan and a scan of the
same manifests see the same workloads.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from zt_audit.inventory.locate import FieldPath

if TYPE_CHECKING:
    from zt_audit.inventory.model import Inventory, Resource

POD_SPEC_PATHS: dict[str, tuple[str, ...]] = {
    "Pod": ("spec",),
    "Deployment": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "ReplicationController": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}
CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")


@dataclass(frozen=True, slots=True)
class Container:
    """One container of a workload, with the field path of its entry."""

    spec: dict[str, Any]
    path: tuple[str | int, ...]
    list_name: str  # initContainers, containers or ephemeralContainers

    @property
    def name(self) -> str:
        name = self.spec.get("name")
        return name if isinstance(name, str) else f"{self.list_name}[{self.path[-1]}]"

    @property
    def image(self) -> str | None:
        image = self.spec.get("image")
        return image if isinstance(image, str) else None

    @property
    def security_context(self) -> dict[str, Any]:
        context = self.spec.get("securityContext")
        return context if isinstance(context, dict) else {}


@dataclass(frozen=True, slots=True)
class Workload:
    """A pod-running object and its pod spec."""

    resource: Resource
    spec_path: tuple[str, ...]
    pod_spec: dict[str, Any]
    pod_metadata: dict[str, Any]

    @property
    def kind(self) -> str:
        return self.resource.kind

    @property
    def namespace(self) -> str:
        return self.resource.namespace or "default"

    @property
    def name(self) -> str:
        return self.resource.name

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    @property
    def pod_labels(self) -> dict[str, str]:
        labels = self.pod_metadata.get("labels")
        if not isinstance(labels, dict):
            return {}
        return {str(k): str(v) for k, v in labels.items()}

    @property
    def pod_annotations(self) -> dict[str, str]:
        annotations = self.pod_metadata.get("annotations")
        if not isinstance(annotations, dict):
            return {}
        return {str(k): str(v) for k, v in annotations.items()}

    @property
    def pod_security_context(self) -> dict[str, Any]:
        context = self.pod_spec.get("securityContext")
        return context if isinstance(context, dict) else {}

    @property
    def host_network(self) -> bool:
        return self.pod_spec.get("hostNetwork") is True

    @property
    def service_account(self) -> str:
        name = self.pod_spec.get("serviceAccountName") or self.pod_spec.get("serviceAccount")
        return name if isinstance(name, str) and name else "default"

    def path(self, *parts: str | int) -> FieldPath:
        """A field path below the pod spec, as a path from the object's root."""
        return (*self.spec_path, *parts)

    def containers(self, *, include_init: bool = True) -> Iterator[Container]:
        lists = CONTAINER_LISTS if include_init else ("containers",)
        for list_name in lists:
            entries = self.pod_spec.get(list_name)
            if not isinstance(entries, list):
                continue
            for index, entry in enumerate(entries):
                if isinstance(entry, dict):
                    yield Container(entry, (*self.spec_path, list_name, index), list_name)

    def volumes(self) -> Iterator[tuple[dict[str, Any], FieldPath]]:
        entries = self.pod_spec.get("volumes")
        if isinstance(entries, list):
            for index, entry in enumerate(entries):
                if isinstance(entry, dict):
                    yield entry, self.path("volumes", index)


def _dig(obj: Any, path: tuple[str, ...]) -> Any:
    for part in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(part)
    return obj


def _controller_owner(resource: Resource) -> tuple[str, str] | None:
    owners = resource.metadata.get("ownerReferences")
    if not isinstance(owners, list):
        return None
    for owner in owners:
        if isinstance(owner, dict) and owner.get("controller") is True:
            kind, name = owner.get("kind"), owner.get("name")
            if isinstance(kind, str) and isinstance(name, str):
                return kind, name
    return None


def find_workloads(inventory: Inventory) -> list[Workload]:
    present = {
        (r.kind, r.namespace, r.name) for kind in POD_SPEC_PATHS for r in inventory.of_kind(kind)
    }
    workloads: list[Workload] = []
    for kind, spec_path in POD_SPEC_PATHS.items():
        for resource in inventory.of_kind(kind):
            owner = _controller_owner(resource)
            if owner and (owner[0], resource.namespace, owner[1]) in present:
                continue
            pod_spec = _dig(resource.obj, spec_path)
            if not isinstance(pod_spec, dict):
                continue
            template_metadata: Any
            if kind == "Pod":
                template_metadata = resource.metadata
            else:
                template_metadata = _dig(resource.obj, (*spec_path[:-1], "metadata"))
            if not isinstance(template_metadata, dict):
                template_metadata = {}
            workloads.append(Workload(resource, spec_path, pod_spec, template_metadata))
    workloads.sort(key=lambda w: (w.namespace, w.kind, w.name))
    return workloads
