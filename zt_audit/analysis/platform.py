"""Who runs the control plane, and how the API server was started.

Managed services (EKS, GKE, AKS) hide the API server: there is no ``kube-apiserver`` pod to
read, so a check of its flags can only say "not observable" there. Self-managed clusters
built with kubeadm run it as a static pod in ``kube-system`` whose mirror pod carries the
full command line, and keep the extra flags they were installed with in the
``kubeadm-config`` ConfigMap.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from zt_audit.analysis.embedded import load_embedded_yaml
from zt_audit.inventory import FieldPath, Inventory, Resource

APISERVER_LABEL = ("component", "kube-apiserver")

# Node labels that only the managed services set on their nodes.
_PROVIDER_LABELS = (
    ("eks.amazonaws.com/nodegroup", "eks"),
    ("eks.amazonaws.com/compute-type", "eks"),
    ("alpha.eksctl.io/cluster-name", "eks"),
    ("cloud.google.com/gke-nodepool", "gke"),
    ("cloud.google.com/gke-os-distribution", "gke"),
    ("kubernetes.azure.com/cluster", "aks"),
    ("kubernetes.azure.com/agentpool", "aks"),
)
# Kubelet version suffixes of the managed services' own builds.
_PROVIDER_VERSIONS = (("-eks-", "eks"), ("-gke.", "gke"))
# A cloud VM may run a self-managed control plane (kops, kubeadm on EC2), so the provider
# ID counts only when nothing shows an API server of the cluster's own.
_PROVIDER_IDS = (("aws://", "eks"), ("gce://", "gke"), ("azure://", "aks"))

PROVIDER_NAMES = {"eks": "Amazon EKS", "gke": "Google GKE", "aks": "Azure AKS"}

# How to read the API server's configuration on each managed service, in one line.
PROVIDER_HINTS = {
    "eks": "verify with 'aws eks describe-cluster --name CLUSTER' (the provider manages "
    "API server flags)",
    "gke": "verify with 'gcloud container clusters describe CLUSTER' (the provider manages "
    "API server flags)",
    "aks": "verify with 'az aks show -g GROUP -n CLUSTER' (the provider manages API server flags)",
}

# kube-apiserver flags that kubeadm sets itself unless extraArgs overrides them; only the
# ones the checks read are listed.
KUBEADM_DEFAULT_FLAGS = {
    "authorization-mode": "Node,RBAC",
    "enable-admission-plugins": "NodeRestriction",
    "enable-bootstrap-token-auth": "true",
    "client-ca-file": "/etc/kubernetes/pki/ca.crt",
    "service-account-key-file": "/etc/kubernetes/pki/sa.pub",
    "service-account-signing-key-file": "/etc/kubernetes/pki/sa.key",
    "tls-cert-file": "/etc/kubernetes/pki/apiserver.crt",
    "tls-private-key-file": "/etc/kubernetes/pki/apiserver.key",
}

# Boolean flags never take the next argument as their value (``--profiling false`` is a
# positional argument to pflag), so only ``--flag=value`` can set them to false.
_BOOLEAN_FLAGS = frozenset(
    {
        "allow-privileged",
        "anonymous-auth",
        "enable-bootstrap-token-auth",
        "enable-aggregator-routing",
        "enable-garbage-collector",
        "enable-priority-and-fairness",
        "kubelet-https",
        "profiling",
        "service-account-lookup",
        "service-account-extend-token-expiration",
        "v",
    }
)


@dataclass(frozen=True)
class Platform:
    """Whether a cloud provider runs the control plane, and what says so."""

    managed: bool
    provider: str | None  # "eks", "gke", "aks" when managed
    evidence: str
    apiserver_visible: bool = False  # a kube-apiserver pod or kubeadm-config was found

    @property
    def provider_name(self) -> str:
        return PROVIDER_NAMES.get(self.provider or "", "a managed provider")

    @property
    def hint(self) -> str | None:
        """One line on how to verify what the provider hides."""
        return PROVIDER_HINTS.get(self.provider or "")


@dataclass(frozen=True)
class ApiServerConfig:
    """The flags of one API server, where they were read, and where each one sits."""

    resource: Resource
    source: str  # "static-pod" or "kubeadm-config"
    flags: dict[str, str]
    paths: dict[str, FieldPath] = field(default_factory=dict)

    def path(self, flag: str) -> FieldPath:
        """The field path of a flag, or of the command line when the flag is unset."""
        return self.paths.get(flag, self.paths.get("", ()))

    def has(self, flag: str) -> bool:
        return flag in self.flags

    def values(self, flag: str) -> list[str]:
        """A comma-separated flag (``--authorization-mode=Node,RBAC``) as a list."""
        raw = self.flags.get(flag)
        if raw is None:
            return []
        return [part.strip() for part in raw.split(",") if part.strip()]


def apiserver_pods(inventory: Inventory) -> list[Resource]:
    """kube-apiserver mirror pods in ``kube-system``, sorted by name."""
    key, value = APISERVER_LABEL
    pods = [
        pod
        for pod in inventory.of_kind("Pod", group="")
        if pod.namespace == "kube-system" and pod.labels.get(key) == value
    ]
    return sorted(pods, key=lambda pod: pod.name)


def kubeadm_config(inventory: Inventory) -> Resource | None:
    return inventory.get("ConfigMap", "kube-system", "kubeadm-config")


def detect_platform(inventory: Inventory) -> Platform:
    """Managed or self-managed, from API server pods, kubeadm-config, then node evidence."""
    pods = apiserver_pods(inventory)
    if pods:
        return Platform(False, None, f"kube-apiserver pod {pods[0].ref} found", True)
    kubeadm = kubeadm_config(inventory)
    if kubeadm is not None:
        return Platform(False, None, f"{kubeadm.ref} found (kubeadm cluster)", True)

    strong = _strong_signal(inventory)
    if strong is not None:
        return Platform(True, strong[0], strong[1])
    if inventory.get("ConfigMap", "kube-system", "aws-auth") is not None:
        return Platform(True, "eks", "ConfigMap/kube-system/aws-auth exists (EKS authenticator)")
    weak = _provider_id_signal(inventory)
    if weak is not None:
        return Platform(True, weak[0], weak[1])
    return Platform(False, None, "no control-plane or managed-provider evidence in the input")


def _nodes(inventory: Inventory) -> Iterator[Resource]:
    yield from sorted(inventory.of_kind("Node", group=""), key=lambda node: node.name)


def _strong_signal(inventory: Inventory) -> tuple[str, str] | None:
    for node in _nodes(inventory):
        labels = node.labels
        for label, provider in _PROVIDER_LABELS:
            if label in labels:
                return provider, f"Node/{node.name} has label {label}"
        version = _kubelet_version(node)
        for marker, provider in _PROVIDER_VERSIONS:
            if marker in version:
                return provider, f"Node/{node.name} runs kubelet {version}"
        provider_id = node.spec.get("providerID")
        # AKS puts its nodes in a resource group it names MC_<group>_<cluster>_<region>.
        if isinstance(provider_id, str) and "/resourcegroups/mc_" in provider_id.lower():
            return "aks", f"Node/{node.name} is in an AKS-managed resource group"
    return None


def _provider_id_signal(inventory: Inventory) -> tuple[str, str] | None:
    for node in _nodes(inventory):
        provider_id = node.spec.get("providerID")
        if not isinstance(provider_id, str):
            continue
        for prefix, provider in _PROVIDER_IDS:
            if provider_id.startswith(prefix):
                reason = f"Node/{node.name} has providerID {prefix}... and no kube-apiserver pod"
                return provider, f"{reason} is visible"
    return None


def _kubelet_version(node: Resource) -> str:
    status = node.obj.get("status")
    info = status.get("nodeInfo") if isinstance(status, dict) else None
    version = info.get("kubeletVersion") if isinstance(info, dict) else None
    return version if isinstance(version, str) else ""


# Flags


def apiserver_configs(inventory: Inventory) -> list[ApiServerConfig]:
    """Every readable API server configuration: static pods first, else kubeadm-config."""
    configs = [config for pod in apiserver_pods(inventory) if (config := _from_pod(pod))]
    if configs:
        return configs
    kubeadm = kubeadm_config(inventory)
    if kubeadm is not None:
        config = _from_kubeadm(kubeadm)
        if config is not None:
            return [config]
    return []


def apiserver_flags(inventory: Inventory) -> dict[str, str] | None:
    """The flags of the first API server (by pod name), or None when none is visible.

    Keys are flag names without dashes (``anonymous-auth``); the last occurrence of a
    repeated flag wins.
    """
    configs = apiserver_configs(inventory)
    return dict(configs[0].flags) if configs else None


def _apiserver_container(pod: Resource) -> tuple[int, dict[str, Any]] | None:
    containers = pod.spec.get("containers")
    if not isinstance(containers, list):
        return None
    entries = [(i, c) for i, c in enumerate(containers) if isinstance(c, dict)]
    for index, container in entries:
        if container.get("name") == "kube-apiserver":
            return index, container
    return entries[0] if entries else None


def _from_pod(pod: Resource) -> ApiServerConfig | None:
    found = _apiserver_container(pod)
    if found is None:
        return None
    index, container = found
    flags: dict[str, str] = {}
    paths: dict[str, FieldPath] = {"": ("spec", "containers", index, "command")}
    for list_name in ("command", "args"):
        items = container.get(list_name)
        if not isinstance(items, list):
            continue
        for position, name, value in parse_flags(items):
            flags[name] = value
            paths[name] = ("spec", "containers", index, list_name, position)
    return ApiServerConfig(pod, "static-pod", flags, paths)


def parse_flags(items: list[Any]) -> Iterator[tuple[int, str, str]]:
    """(list index, flag name, value) for each ``--flag[=value]`` of a command line.

    A shell wrapper (``sh -c "kube-apiserver --a=b"``) is split as the shell would.
    """
    tokens: list[tuple[int, str]] = []
    for position, item in enumerate(items):
        if not isinstance(item, str):
            continue
        if " " in item.strip() and "--" in item:
            try:
                tokens.extend((position, part) for part in shlex.split(item))
            except ValueError:
                tokens.extend((position, part) for part in item.split())
        else:
            tokens.append((position, item))
    skip = False
    for number, (position, token) in enumerate(tokens):
        if skip:
            skip = False
            continue
        if not token.startswith("--") or len(token) <= 2:
            continue
        name, equals, value = token[2:].partition("=")
        if not equals:
            following = tokens[number + 1][1] if number + 1 < len(tokens) else None
            if (
                name not in _BOOLEAN_FLAGS
                and following is not None
                and not following.startswith("-")
            ):
                value, skip = following, True
            else:
                value = "true"
        yield position, name, value


def _from_kubeadm(configmap: Resource) -> ApiServerConfig | None:
    data = configmap.obj.get("data")
    text = data.get("ClusterConfiguration") if isinstance(data, dict) else None
    if not isinstance(text, str):
        return None
    document = load_embedded_yaml(text)
    if not isinstance(document, dict):
        return None  # unreadable: kubeadm's defaults cannot be assumed either
    api_server = document.get("apiServer")
    extra = api_server.get("extraArgs") if isinstance(api_server, dict) else None
    flags = dict(KUBEADM_DEFAULT_FLAGS)
    flags.update(_extra_args(extra))
    path: FieldPath = ("data", "ClusterConfiguration")
    return ApiServerConfig(configmap, "kubeadm-config", flags, {"": path})


def _extra_args(extra: Any) -> dict[str, str]:
    """kubeadm v1beta3 writes extraArgs as a mapping, v1beta4 as a list of name/value."""
    found: dict[str, str] = {}
    if isinstance(extra, dict):
        for name, value in extra.items():
            found[str(name)] = _text(value)
    elif isinstance(extra, list):
        for entry in extra:
            if isinstance(entry, dict) and isinstance(entry.get("name"), str):
                found[entry["name"]] = _text(entry.get("value"))
    return found


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)
