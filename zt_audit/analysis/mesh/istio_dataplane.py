"""Does Istio carry a workload's traffic, through a sidecar or through ambient ztunnel?

Sidecar injection follows Istio's documented policy: a sidecar is never injected into a
pod on the host network or in ``kube-system``/``kube-public``; otherwise, if either the
namespace label ``istio-injection`` or the pod's ``sidecar.istio.io/inject`` disables
injection the pod is left alone, and if either enables it (or the namespace names a
revision with ``istio.io/rev``) the pod is injected. The namespace label wins over
``istio.io/rev``. A pod that already runs an ``istio-proxy`` container (including a native
sidecar: an init container with ``restartPolicy: Always``) is in the mesh whatever the
labels say.

Ambient mode captures pods whose namespace or pod carries
``istio.io/dataplane-mode=ambient``, unless the pod says ``none``; pods with a sidecar
and pods on the host network are never captured.
"""

from __future__ import annotations

from collections.abc import Sequence

from zt_audit.analysis.mesh.common import port_set
from zt_audit.analysis.mesh.model import DataPlane, DataPlaneVerdict, Decision, Mesh
from zt_audit.analysis.mesh.pods import has_container
from zt_audit.inventory import Inventory, Resource, Workload

INJECTION_LABEL = "istio-injection"
REVISION_LABEL = "istio.io/rev"
POD_INJECT = "sidecar.istio.io/inject"
DATAPLANE_MODE = "istio.io/dataplane-mode"
NEVER_INJECTED_NAMESPACES = frozenset({"kube-system", "kube-public"})
SIDECAR_NAME = "istio-proxy"


def proxy_container(workload: Workload) -> tuple[str | int, ...] | None:
    """The field path of the workload's istio-proxy container, if it has one."""
    for container in workload.containers():
        # ztunnel names its container istio-proxy too, but it is the node proxy itself.
        if container.name != SIDECAR_NAME or "ztunnel" in (container.image or ""):
            continue
        if container.list_name == "containers":
            return container.path
        # A native sidecar is an init container that keeps running beside the app.
        if container.list_name == "initContainers" and (
            container.spec.get("restartPolicy") == "Always"
        ):
            return container.path
    return None


def _is_running_pod(workload: Workload) -> bool:
    """A pod read from a cluster: its spec shows what the injector did or did not do."""
    return workload.kind == "Pod" and isinstance(workload.resource.obj.get("status"), dict)


def _pod_setting(workload: Workload) -> tuple[str | None, tuple[str, ...]]:
    """``sidecar.istio.io/inject`` from the pod label, else the older pod annotation."""
    meta_path = (*workload.spec_path[:-1], "metadata")
    label = workload.pod_labels.get(POD_INJECT)
    if label is not None:
        return label.strip().lower(), (*meta_path, "labels", POD_INJECT)
    annotation = workload.pod_annotations.get(POD_INJECT)
    if annotation is not None:
        return annotation.strip().lower(), (*meta_path, "annotations", POD_INJECT)
    return None, ()


def sidecar_verdict(
    workload: Workload, inventory: Inventory, pods: Sequence[Resource] = ()
) -> DataPlaneVerdict:
    """Whether Istio injects (or has injected) a sidecar into the workload's pods.

    ``pods`` are the workload's running pods, when the input comes from a cluster.
    """
    resource = workload.resource
    path = proxy_container(workload)
    if path is not None:
        return DataPlaneVerdict(
            Mesh.ISTIO,
            DataPlane.VERIFIED,
            (Decision(f"{resource.ref}: runs an {SIDECAR_NAME} container", resource, path),),
        )
    bare = [pod for pod in pods if not has_container(pod, SIDECAR_NAME)]
    if pods and not bare:
        text = f"{len(pods)} running pod(s) run {SIDECAR_NAME}, e.g. {pods[0].ref}"
        return DataPlaneVerdict(Mesh.ISTIO, DataPlane.VERIFIED, (Decision(text, pods[0]),))
    if workload.host_network:
        reason = Decision("hostNetwork pods are never injected", resource, workload.path())
        return DataPlaneVerdict(None, DataPlane.ABSENT, (reason,))
    if workload.namespace in NEVER_INJECTED_NAMESPACES:
        reason = Decision(f"namespace {workload.namespace} is never injected")
        return DataPlaneVerdict(None, DataPlane.ABSENT, (reason,))

    verdict = _injection_intent(workload, inventory)
    if verdict.state is not DataPlane.INTENDED:
        return verdict
    if _is_running_pod(workload):
        missing = Decision("the running pod has no istio-proxy container")
    elif bare:
        # Pods created before the namespace was labelled keep running without a sidecar.
        names = ", ".join(pod.name for pod in bare)
        missing = Decision(f"running pods without {SIDECAR_NAME}: {names}", bare[0])
    else:
        return verdict
    return DataPlaneVerdict(
        verdict.mesh, DataPlane.MISSING, (*verdict.decided_by, missing), verdict.revision
    )


def _injection_intent(workload: Workload, inventory: Inventory) -> DataPlaneVerdict:
    pod_value, pod_path = _pod_setting(workload)
    resource = workload.resource
    pod_decision = Decision(f"{resource.ref}: {POD_INJECT}={pod_value}", resource, pod_path)
    if pod_value == "false":
        return DataPlaneVerdict(None, DataPlane.ABSENT, (pod_decision,))

    namespace = inventory.namespaces.get(workload.namespace)
    if namespace is None:
        # Without the namespace's labels the webhook's choice cannot be known.
        reason = Decision(f"Namespace/{workload.namespace} is not in the input")
        return DataPlaneVerdict(None, DataPlane.UNKNOWN, (reason,))

    ns_value = namespace.labels.get(INJECTION_LABEL)
    if ns_value is not None:
        ns_decision = _label_decision(namespace, INJECTION_LABEL, ns_value)
        if ns_value != "enabled":
            return DataPlaneVerdict(None, DataPlane.ABSENT, (ns_decision,))
        return DataPlaneVerdict(Mesh.ISTIO, DataPlane.INTENDED, (ns_decision,))
    revision = namespace.labels.get(REVISION_LABEL)
    if revision:
        ns_decision = _label_decision(namespace, REVISION_LABEL, revision)
        return DataPlaneVerdict(Mesh.ISTIO, DataPlane.INTENDED, (ns_decision,), revision)
    if pod_value == "true":
        return DataPlaneVerdict(Mesh.ISTIO, DataPlane.INTENDED, (pod_decision,))
    pod_revision = workload.pod_labels.get(REVISION_LABEL)
    if pod_revision:
        meta_path = (*workload.spec_path[:-1], "metadata", "labels", REVISION_LABEL)
        decision = Decision(f"{resource.ref}: {REVISION_LABEL}={pod_revision}", resource, meta_path)
        return DataPlaneVerdict(Mesh.ISTIO, DataPlane.INTENDED, (decision,), pod_revision)
    return DataPlaneVerdict(None, DataPlane.ABSENT, ())


def _label_decision(namespace: Resource, key: str, value: str) -> Decision:
    return Decision(f"{namespace.ref}: label {key}={value}", namespace, ("metadata", "labels", key))


def ambient_verdict(workload: Workload, inventory: Inventory) -> DataPlaneVerdict:
    """Whether ztunnel captures the workload's traffic (ambient mode)."""
    resource = workload.resource
    if workload.host_network:
        return DataPlaneVerdict(None, DataPlane.ABSENT, ())
    meta_path = (*workload.spec_path[:-1], "metadata", "labels", DATAPLANE_MODE)
    pod_mode = workload.pod_labels.get(DATAPLANE_MODE)
    if pod_mode == "none":
        reason = Decision(f"{resource.ref}: {DATAPLANE_MODE}=none", resource, meta_path)
        return DataPlaneVerdict(None, DataPlane.ABSENT, (reason,))
    if pod_mode == "ambient":
        reason = Decision(f"{resource.ref}: {DATAPLANE_MODE}=ambient", resource, meta_path)
        return _ambient(inventory, reason, workload)
    namespace = inventory.namespaces.get(workload.namespace)
    if namespace is None:
        reason = Decision(f"Namespace/{workload.namespace} is not in the input")
        return DataPlaneVerdict(None, DataPlane.UNKNOWN, (reason,))
    if namespace.labels.get(DATAPLANE_MODE) == "ambient":
        return _ambient(inventory, _label_decision(namespace, DATAPLANE_MODE, "ambient"), workload)
    return DataPlaneVerdict(None, DataPlane.ABSENT, ())


def _ambient(inventory: Inventory, reason: Decision, workload: Workload) -> DataPlaneVerdict:
    """Ambient is verified when ztunnel runs ready, or the pod shows it was captured."""
    if workload.pod_annotations.get("ambient.istio.io/redirection") == "enabled":
        proof = Decision(f"{workload.resource.ref}: ambient.istio.io/redirection=enabled")
        return DataPlaneVerdict(Mesh.ISTIO_AMBIENT, DataPlane.VERIFIED, (reason, proof))
    ztunnel = ztunnel_daemonset(inventory)
    if ztunnel is not None and _ready(ztunnel):
        proof = Decision(f"{ztunnel.ref}: ztunnel pods are ready", ztunnel)
        return DataPlaneVerdict(Mesh.ISTIO_AMBIENT, DataPlane.VERIFIED, (reason, proof))
    return DataPlaneVerdict(Mesh.ISTIO_AMBIENT, DataPlane.INTENDED, (reason,))


def ztunnel_daemonset(inventory: Inventory) -> Resource | None:
    for daemonset in sorted(inventory.of_kind("DaemonSet"), key=lambda r: str(r.ref)):
        if daemonset.name == "ztunnel" or daemonset.labels.get("app") == "ztunnel":
            return daemonset
    return None


def _ready(daemonset: Resource) -> bool:
    status = daemonset.obj.get("status")
    if not isinstance(status, dict):
        return False
    ready, desired = status.get("numberReady"), status.get("desiredNumberScheduled")
    return isinstance(ready, int) and isinstance(desired, int) and 0 < desired <= ready


INCLUDE_INBOUND = "traffic.sidecar.istio.io/includeInboundPorts"
EXCLUDE_INBOUND = "traffic.sidecar.istio.io/excludeInboundPorts"


def inbound_bypass(workload: Workload, declared: set[int]) -> dict[int, Decision]:
    """Ports whose inbound traffic the sidecar does not intercept, so no mTLS applies.

    ``includeInboundPorts`` (default ``*``) limits interception to the ports it lists, an
    empty value intercepting none; ``excludeInboundPorts`` removes ports from it.
    """
    resource = workload.resource
    annotations = workload.pod_annotations
    meta = (*workload.spec_path[:-1], "metadata", "annotations")
    bypass: dict[int, Decision] = {}
    include = annotations.get(INCLUDE_INBOUND)
    if include is not None and include.strip() != "*":
        kept = port_set(include)
        text = f"{resource.ref}: {INCLUDE_INBOUND}={include!r}: other ports bypass the sidecar"
        decision = Decision(text, resource, (*meta, INCLUDE_INBOUND))
        bypass.update({port: decision for port in declared if port not in kept})
    exclude = annotations.get(EXCLUDE_INBOUND)
    if exclude:
        text = f"{resource.ref}: {EXCLUDE_INBOUND}={exclude}: bypasses the sidecar"
        decision = Decision(text, resource, (*meta, EXCLUDE_INBOUND))
        excluded = port_set(exclude)
        # A long range is listed only where it hits a declared port.
        shown = excluded if len(excluded) <= 16 else excluded & declared
        bypass.update({port: decision for port in shown})
    return bypass


GATEWAY_LABELS = frozenset({"ingressgateway", "egressgateway", "eastwestgateway"})


def is_gateway(workload: Workload) -> bool:
    """An Istio gateway: its listeners follow Gateway resources, not PeerAuthentication."""
    if "gateway" in workload.pod_annotations.get("inject.istio.io/templates", ""):
        return True
    labels = workload.pod_labels
    if labels.get("istio") in GATEWAY_LABELS or "gateway.istio.io/managed" in labels:
        return True
    for container in workload.containers(include_init=False):
        args = container.spec.get("args")
        if container.name == SIDECAR_NAME and isinstance(args, list) and "router" in args:
            return True
    return False
