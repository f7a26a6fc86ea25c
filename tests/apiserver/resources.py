"""The built-in resources a Kubernetes 1.31 API server serves (a subset, with the verbs
that matter here). Written from the API reference, independently of zt-audit's own list."""

from __future__ import annotations

from dataclasses import dataclass

READ = ["get", "list", "watch"]
WRITE = ["create", "delete", "deletecollection", "patch", "update"]


@dataclass(frozen=True)
class Resource:
    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool
    verbs: tuple[str, ...] = (*READ, *WRITE)

    @property
    def group_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version


def _r(group: str, version: str, namespaced: bool, *pairs: tuple[str, str]) -> list[Resource]:
    return [Resource(group, version, plural, kind, namespaced) for plural, kind in pairs]


BUILTIN = [
    *_r(
        "",
        "v1",
        True,
        ("pods", "Pod"),
        ("services", "Service"),
        ("serviceaccounts", "ServiceAccount"),
        ("configmaps", "ConfigMap"),
        ("secrets", "Secret"),
        ("endpoints", "Endpoints"),
        ("events", "Event"),
        ("limitranges", "LimitRange"),
        ("resourcequotas", "ResourceQuota"),
        ("persistentvolumeclaims", "PersistentVolumeClaim"),
        ("replicationcontrollers", "ReplicationController"),
    ),
    *_r(
        "",
        "v1",
        False,
        ("namespaces", "Namespace"),
        ("nodes", "Node"),
        ("persistentvolumes", "PersistentVolume"),
    ),
    *_r(
        "apps",
        "v1",
        True,
        ("deployments", "Deployment"),
        ("statefulsets", "StatefulSet"),
        ("daemonsets", "DaemonSet"),
        ("replicasets", "ReplicaSet"),
        ("controllerrevisions", "ControllerRevision"),
    ),
    *_r("batch", "v1", True, ("jobs", "Job"), ("cronjobs", "CronJob")),
    *_r(
        "networking.k8s.io",
        "v1",
        True,
        ("networkpolicies", "NetworkPolicy"),
        ("ingresses", "Ingress"),
    ),
    *_r("networking.k8s.io", "v1", False, ("ingressclasses", "IngressClass")),
    *_r(
        "rbac.authorization.k8s.io",
        "v1",
        True,
        ("roles", "Role"),
        ("rolebindings", "RoleBinding"),
    ),
    *_r(
        "rbac.authorization.k8s.io",
        "v1",
        False,
        ("clusterroles", "ClusterRole"),
        ("clusterrolebindings", "ClusterRoleBinding"),
    ),
    *_r(
        "admissionregistration.k8s.io",
        "v1",
        False,
        ("validatingwebhookconfigurations", "ValidatingWebhookConfiguration"),
        ("mutatingwebhookconfigurations", "MutatingWebhookConfiguration"),
        ("validatingadmissionpolicies", "ValidatingAdmissionPolicy"),
        ("validatingadmissionpolicybindings", "ValidatingAdmissionPolicyBinding"),
    ),
    *_r("node.k8s.io", "v1", False, ("runtimeclasses", "RuntimeClass")),
    *_r(
        "certificates.k8s.io",
        "v1",
        False,
        ("certificatesigningrequests", "CertificateSigningRequest"),
    ),
    *_r("storage.k8s.io", "v1", False, ("storageclasses", "StorageClass")),
    *_r("coordination.k8s.io", "v1", True, ("leases", "Lease")),
    *_r("policy", "v1", True, ("poddisruptionbudgets", "PodDisruptionBudget")),
    *_r(
        "apiextensions.k8s.io",
        "v1",
        False,
        ("customresourcedefinitions", "CustomResourceDefinition"),
    ),
]
# Subresources appear in discovery too; a client must not mistake them for kinds.
SUBRESOURCES = ["pods/status", "pods/log", "pods/exec", "deployments/scale", "secrets/status"]
