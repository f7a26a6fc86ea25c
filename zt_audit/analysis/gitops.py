"""GitOps drift control: which workloads a controller puts back when someone edits them.

Argo CD corrects drift only for an Application whose ``syncPolicy.automated.selfHeal``
is true. Flux's kustomize-controller reapplies a ``Kustomization`` at every interval
unless it is suspended. Flux's helm-controller corrects drift of a ``HelmRelease`` only
with ``driftDetection.mode: enabled``. A workload belongs to a controller by its tracking
metadata (Argo CD ``argocd.argoproj.io/tracking-id`` or instance label, Flux
``*.toolkit.fluxcd.io/name`` labels), else by the namespace the controller deploys to.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from zt_audit.inventory import FieldPath, Inventory, Resource, Workload

ARGO = "argoproj.io"
KUSTOMIZE = "kustomize.toolkit.fluxcd.io"
HELM = "helm.toolkit.fluxcd.io"


@dataclass(frozen=True)
class Controller:
    resource: Resource
    corrects: bool
    why_not: str  # why it does not correct drift, for messages
    path: FieldPath
    namespace: str | None  # where it deploys, when it says


@dataclass
class DriftState:
    controllers: list[Controller] = field(default_factory=list)
    corrected: list[Workload] = field(default_factory=list)
    tracked: list[Workload] = field(default_factory=list)
    uncorrected: list[tuple[Workload, str]] = field(default_factory=list)
    controller_notes: list[tuple[Resource, FieldPath, str]] = field(default_factory=list)

    def facts(self) -> dict[str, Any]:
        return {
            "controllers": [
                {"object": str(c.resource.ref), "corrects_drift": c.corrects}
                for c in self.controllers
            ],
            "corrected": sorted(f"{w.kind}/{w.key}" for w in self.corrected),
        }


def _argo(resource: Resource) -> Controller:
    spec = resource.spec
    if resource.kind == "ApplicationSet":
        template = spec.get("template")
        spec = template.get("spec") if isinstance(template, dict) else None
        spec = spec if isinstance(spec, dict) else {}
    policy = spec.get("syncPolicy")
    automated = policy.get("automated") if isinstance(policy, dict) else None
    destination = spec.get("destination")
    namespace = destination.get("namespace") if isinstance(destination, dict) else None
    namespace = namespace if isinstance(namespace, str) and "{{" not in namespace else None
    base: FieldPath = ("spec", "syncPolicy")
    if resource.kind == "ApplicationSet":
        base = ("spec", "template", "spec", "syncPolicy")
    if not isinstance(automated, dict):
        return Controller(resource, False, "has no automated sync", base, namespace)
    if automated.get("enabled") is False:
        return Controller(resource, False, "has automated sync disabled", base, namespace)
    if automated.get("selfHeal") is not True:
        why = "syncs automatically but without selfHeal, so manual changes persist"
        return Controller(resource, False, why, (*base, "automated"), namespace)
    return Controller(resource, True, "", (*base, "automated", "selfHeal"), namespace)


def _flux(resource: Resource) -> Controller:
    spec = resource.spec
    target = spec.get("targetNamespace")
    namespace = target if isinstance(target, str) and target else None
    if resource.kind == "HelmRelease" and namespace is None:
        namespace = resource.namespace
    if spec.get("suspend") is True:
        return Controller(resource, False, "is suspended", ("spec", "suspend"), namespace)
    if resource.kind == "HelmRelease":
        drift = spec.get("driftDetection")
        mode = drift.get("mode") if isinstance(drift, dict) else None
        if mode != "enabled":
            why = "does not correct drift (driftDetection.mode is not enabled)"
            return Controller(resource, False, why, ("spec", "driftDetection"), namespace)
    return Controller(resource, True, "", ("spec",), namespace)


def controllers(inventory: Inventory) -> list[Controller]:
    found = [_argo(r) for r in inventory.of_kind("Application", "ApplicationSet", group=ARGO)]
    found += [_flux(r) for r in inventory.of_kind("Kustomization", group=KUSTOMIZE)]
    found += [_flux(r) for r in inventory.of_kind("HelmRelease", group=HELM)]
    return sorted(found, key=lambda c: c.resource.ref)


def _tracking(workload: Workload) -> tuple[str, str | None, str] | None:
    """(kind, namespace or None, name) of the controller a workload's metadata names."""
    resource = workload.resource
    labels, annotations = resource.labels, resource.annotations
    tracking = annotations.get("argocd.argoproj.io/tracking-id")
    if tracking and ":" in tracking:
        return ("Application", None, tracking.split(":", 1)[0])
    if labels.get("argocd.argoproj.io/instance"):
        return ("Application", None, labels["argocd.argoproj.io/instance"])
    for group_prefix, kind in (("kustomize", "Kustomization"), ("helm", "HelmRelease")):
        name = labels.get(f"{group_prefix}.toolkit.fluxcd.io/name")
        if name:
            return (kind, labels.get(f"{group_prefix}.toolkit.fluxcd.io/namespace"), name)
    return None


def drift_control(inventory: Inventory, workloads: list[Workload]) -> DriftState:
    state = DriftState(controllers=controllers(inventory))
    for controller in state.controllers:
        if not controller.corrects:
            message = f"{controller.resource.kind} {controller.resource.name} {controller.why_not}"
            state.controller_notes.append((controller.resource, controller.path, message))
    for workload in workloads:
        owner = _owner(state.controllers, workload)
        if owner is None:
            continue
        state.tracked.append(workload)
        if isinstance(owner, str):
            state.uncorrected.append((workload, owner))
        elif owner.corrects:
            state.corrected.append(workload)
        else:
            reason = f"is deployed by {owner.resource.kind} {owner.resource.name}, which "
            state.uncorrected.append((workload, reason + owner.why_not))
    return state


def _owner(found: list[Controller], workload: Workload) -> Controller | str | None:
    """The controller of a workload, a reason string when it is named but absent, or None."""
    tracking = _tracking(workload)
    if tracking is not None:
        kind, namespace, name = tracking
        for controller in found:
            resource = controller.resource
            same = resource.kind == kind and resource.name == name
            if same and (namespace is None or resource.namespace == namespace):
                return controller
        return f"is tracked by {kind} {name}, which is not in the input"
    by_namespace = [c for c in found if c.namespace == workload.namespace]
    corrected = [c for c in by_namespace if c.corrects]
    return (corrected or by_namespace or [None])[0]
