"""Encryption in transit on the control plane: API server flags and kubelet settings.

The API server must serve TLS, verify client certificates, and use certificates toward
etcd and the kubelets (CIS 1.2.4, 1.2.5, 1.2.23 to 1.2.26); its cipher suites should be
AEAD suites with forward secrecy (CIS 1.2.29). kubeadm writes the certificate flags into
the static pod itself, so a ``kubeadm-config`` that does not list them still has them,
except ``--kubelet-certificate-authority``. The kubelet rotates its client certificate
only with ``rotateCertificates: true``, which kubeadm sets and the kubelet's own default
does not.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import yaml

from zt_audit.analysis.platform import ApiServerConfig
from zt_audit.inventory import FieldPath, Inventory, Resource

TLS_FLAGS = (
    "tls-cert-file",
    "tls-private-key-file",
    "client-ca-file",
    "etcd-cafile",
    "etcd-certfile",
    "etcd-keyfile",
    "kubelet-client-certificate",
    "kubelet-client-key",
    "kubelet-certificate-authority",
)
KUBEADM_TLS_FLAGS = frozenset(TLS_FLAGS) - {"kubelet-certificate-authority"}
# TLS 1.3 suites and the TLS 1.2 AEAD suites with forward secrecy; the API server's own
# list of "insecure values" and every CBC suite fall outside it.
STRONG_CIPHERS = frozenset(
    {
        "TLS_AES_128_GCM_SHA256",
        "TLS_AES_256_GCM_SHA384",
        "TLS_CHACHA20_POLY1305_SHA256",
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305",
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305",
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
    }
)
WEAK_VERSIONS = ("VersionTLS10", "VersionTLS11")


@dataclass(frozen=True)
class Problem:
    resource: Resource
    path: FieldPath
    message: str
    failing: bool  # False: a weakness worth a warning


def apiserver_problems(config: ApiServerConfig) -> Iterator[Problem]:
    resource = config.resource
    implied = KUBEADM_TLS_FLAGS if config.source == "kubeadm-config" else frozenset()
    for name in TLS_FLAGS:
        if not config.has(name) and name not in implied:
            yield Problem(resource, config.path(""), f"{resource.ref}: --{name} is not set", True)
    weak = sorted(set(config.values("tls-cipher-suites")) - STRONG_CIPHERS)
    if weak:
        message = f"{resource.ref}: weak or unknown TLS cipher suites {', '.join(weak)}"
        yield Problem(resource, config.path("tls-cipher-suites"), message, False)
    version = config.flags.get("tls-min-version")
    if version in WEAK_VERSIONS:
        message = f"{resource.ref}: --tls-min-version={version} allows old TLS"
        yield Problem(resource, config.path("tls-min-version"), message, False)


def kubelet_configs(inventory: Inventory) -> list[tuple[Resource, dict[str, Any]]]:
    """KubeletConfiguration documents that kubeadm keeps in ``kube-system`` ConfigMaps."""
    found = []
    for config in sorted(inventory.of_kind("ConfigMap", group=""), key=lambda r: r.name):
        if config.namespace != "kube-system" or not config.name.startswith("kubelet-config"):
            continue
        data = config.obj.get("data")
        text = data.get("kubelet") if isinstance(data, dict) else None
        try:
            document = yaml.safe_load(text) if isinstance(text, str) else None
        except yaml.YAMLError:
            document = None
        if isinstance(document, dict):
            found.append((config, document))
    return found


def kubelet_problems(resource: Resource, config: dict[str, Any]) -> Iterator[Problem]:
    path = ("data", "kubelet")
    if config.get("rotateCertificates") is not True:
        message = f"{resource.ref}: rotateCertificates is not true, so client certificates expire"
        yield Problem(resource, path, message, True)
    suites = config.get("tlsCipherSuites")
    listed = {str(s) for s in suites} if isinstance(suites, list) else set()
    weak = sorted(listed - STRONG_CIPHERS)
    if weak:
        message = f"{resource.ref}: weak or unknown kubelet TLS cipher suites {', '.join(weak)}"
        yield Problem(resource, path, message, False)
    if config.get("tlsMinVersion") in WEAK_VERSIONS:
        message = f"{resource.ref}: tlsMinVersion={config['tlsMinVersion']} allows old TLS"
        yield Problem(resource, path, message, False)
