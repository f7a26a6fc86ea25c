"""The running pods behind a controller, which show what the injectors actually did.

Sidecars are injected into pods at creation, never into the Deployment's template, so in
a cluster export only the pods prove (or disprove) that a workload is meshed. Pods are
found by following controlling owner references down: Deployment to ReplicaSet to Pod,
CronJob to Job to Pod, and StatefulSet, DaemonSet, Job or ReplicaSet straight to Pod.
"""

from __future__ import annotations

from typing import Any

from zt_audit.inventory import Inventory, Resource, Workload


class PodIndex:
    def __init__(self, inventory: Inventory) -> None:
        self.children: dict[tuple[str | None, str, str], list[Resource]] = {}
        for kind in ("Pod", "ReplicaSet", "Job"):
            for resource in inventory.of_kind(kind):
                owner = _controller(resource)
                if owner is not None:
                    key = (resource.namespace, *owner)
                    self.children.setdefault(key, []).append(resource)

    def pods(self, workload: Workload) -> list[Resource]:
        """Pods controlled, directly or through one intermediate, by the workload."""
        if workload.kind == "Pod":
            return []
        found: list[Resource] = []
        level = [workload.resource]
        for _ in range(2):
            following = []
            for parent in level:
                for child in self.children.get((parent.namespace, parent.kind, parent.name), []):
                    (found if child.kind == "Pod" else following).append(child)
            level = following
        return sorted(found, key=lambda pod: pod.name)


def _controller(resource: Resource) -> tuple[str, str] | None:
    owners = resource.metadata.get("ownerReferences")
    for owner in owners if isinstance(owners, list) else []:
        if isinstance(owner, dict) and owner.get("controller") is True:
            kind, name = owner.get("kind"), owner.get("name")
            if isinstance(kind, str) and isinstance(name, str):
                return kind, name
    return None


def has_container(pod: Resource, name: str) -> bool:
    """Whether the pod runs a container (or a native sidecar) of that name."""
    spec = pod.spec
    for list_name in ("containers", "initContainers"):
        entries = spec.get(list_name)
        for entry in entries if isinstance(entries, list) else []:
            if isinstance(entry, dict) and entry.get("name") == name and _runs(entry, list_name):
                return True
    return False


def _runs(entry: dict[str, Any], list_name: str) -> bool:
    return list_name == "containers" or entry.get("restartPolicy") == "Always"
