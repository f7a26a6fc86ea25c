"""Which mesh carries a workload and which mTLS mode each port gets, case by case.

Every case names the documentation rule it exercises:

- [istio-inject]: Istio, "Installing the Sidecar", controlling the injection policy (either
  label disabled: no sidecar; either enabled: sidecar; ``istio-injection`` wins over
  ``istio.io/rev``; host-network pods are never injected).
- [istio-ambient]: Istio, "Add workloads to the mesh" (ambient): ``istio.io/dataplane-mode``
  on namespace or pod, ``none`` opting out; a sidecar pod is not captured.
- [istio-pa]: Istio, PeerAuthentication reference and "Authentication policy" task:
  mesh (root namespace, no selector) < namespace < workload; ``UNSET`` inherits; the
  default is PERMISSIVE; the oldest policy wins at a level; selector policies in the
  root namespace are ignored; ``portLevelMtls`` only with a selector, on workload ports;
  DISABLE unsupported in ambient.
- [istio-capture]: Istio, resource annotations ``traffic.sidecar.istio.io/includeInboundPorts``
  (default ``*``) and ``excludeInboundPorts``: ports the sidecar does not capture bypass it.
- [linkerd-*]: Linkerd, "Authorization Policy" feature and reference pages, and
  "Automatic mTLS" (skip ports bypass the proxy; opaque ports are still mTLS).
- [cilium-auth]: Cilium, "Mutual Authentication" (``authentication.mode: required``
  with ``mesh-auth-mutual-enabled``).
"""

from __future__ import annotations

from typing import Any

import pytest

from zt_audit.analysis.mesh import DataPlane, MeshAnalysis
from zt_audit.inventory import Inventory, Resource

ROOT = "istio-system"


def ns(name: str = "app", labels: dict | None = None, annotations: dict | None = None) -> dict:
    metadata: dict[str, Any] = {"name": name}
    if labels:
        metadata["labels"] = labels
    if annotations:
        metadata["annotations"] = annotations
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": metadata}


def deploy(
    name: str = "web",
    namespace: str = "app",
    *,
    labels: dict | None = None,
    annotations: dict | None = None,
    ports: tuple = (8080,),
    extra: dict | None = None,
) -> dict:
    container = {
        "name": "app",
        "image": "ghcr.io/acme/web:1.0",
        "ports": [
            {"containerPort": p, "name": n} if n else {"containerPort": p}
            for p, n in (port if isinstance(port, tuple) else (port, None) for port in ports)
        ],
    }
    pod_metadata: dict[str, Any] = {"labels": labels or {"app": name}}
    if annotations:
        pod_metadata["annotations"] = annotations
    spec: dict[str, Any] = {"containers": [container], **(extra or {})}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "selector": {"matchLabels": labels or {"app": name}},
            "template": {"metadata": pod_metadata, "spec": spec},
        },
    }


def pa(
    name: str,
    namespace: str,
    mode: str | None = None,
    *,
    selector: dict | None = None,
    ports: dict | None = None,
    created: str | None = None,
) -> dict:
    spec: dict[str, Any] = {}
    if mode is not None:
        spec["mtls"] = {"mode": mode}
    if selector is not None:
        spec["selector"] = {"matchLabels": selector}
    if ports is not None:
        spec["portLevelMtls"] = {k: {"mode": v} if v else {} for k, v in ports.items()}
    metadata: dict[str, Any] = {"name": name, "namespace": namespace}
    if created:
        metadata["creationTimestamp"] = created
    return {
        "apiVersion": "security.istio.io/v1",
        "kind": "PeerAuthentication",
        "metadata": metadata,
        "spec": spec,
    }


def linkerd_obj(kind: str, name: str, spec: dict, namespace: str = "app") -> dict:
    version = "v1beta3" if kind == "Server" else "v1alpha1"
    if kind == "ServerAuthorization":
        version = "v1beta1"
    return {
        "apiVersion": f"policy.linkerd.io/{version}",
        "kind": kind,
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }


def linkerd_config(policy: str) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "linkerd-config", "namespace": "linkerd"},
        "data": {"values": f"proxy:\n  defaultInboundPolicy: {policy}\n"},
    }


def cilium_config(**data: str) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "cilium-config", "namespace": "kube-system"},
        "data": data,
    }


def cnp(name: str, selector: dict, authenticated: bool = True) -> dict:
    rule: dict[str, Any] = {"fromEndpoints": [{"matchLabels": {"app": "client"}}]}
    if authenticated:
        rule["authentication"] = {"mode": "required"}
    return {
        "apiVersion": "cilium.io/v2",
        "kind": "CiliumNetworkPolicy",
        "metadata": {"name": name, "namespace": "app"},
        "spec": {"endpointSelector": {"matchLabels": selector}, "ingress": [rule]},
    }


ISTIO_NS = ns(labels={"istio-injection": "enabled"})
LINKERD_NS = ns(annotations={"linkerd.io/inject": "enabled"})
T1, T2 = "2024-01-01T00:00:00Z", "2024-06-01T00:00:00Z"
PROXY = {"name": "istio-proxy", "image": "docker.io/istio/proxyv2:1.24.0"}

# (id, rule, objects, workload "kind/ns/name", expected mesh, expected {port: mode})
CASES: list[tuple[str, str, list[dict], str, str | None, dict[str, str]]] = [
    # Istio sidecar injection
    (
        "ns-enabled",
        "istio-inject",
        [ISTIO_NS, deploy()],
        "app/web",
        "istio",
        {"8080": "PERMISSIVE"},
    ),
    (
        "ns-disabled-beats-pod-true",
        "istio-inject",
        [
            ns(labels={"istio-injection": "disabled"}),
            deploy(labels={"app": "web", "sidecar.istio.io/inject": "true"}),
        ],
        "app/web",
        None,
        {"8080": "none"},
    ),
    (
        "pod-false-beats-ns-enabled",
        "istio-inject",
        [ISTIO_NS, deploy(labels={"app": "web", "sidecar.istio.io/inject": "false"})],
        "app/web",
        None,
        {"8080": "none"},
    ),
    (
        "pod-true-unlabelled-ns",
        "istio-inject",
        [ns(), deploy(labels={"app": "web", "sidecar.istio.io/inject": "true"})],
        "app/web",
        "istio",
        {"8080": "PERMISSIVE"},
    ),
    ("no-label-anywhere", "istio-inject", [ns(), deploy()], "app/web", None, {"8080": "none"}),
    (
        "ns-revision",
        "istio-inject",
        [ns(labels={"istio.io/rev": "canary"}), deploy()],
        "app/web",
        "istio",
        {"8080": "PERMISSIVE"},
    ),
    (
        "injection-label-beats-revision",
        "istio-inject",
        [ns(labels={"istio-injection": "disabled", "istio.io/rev": "canary"}), deploy()],
        "app/web",
        None,
        {"8080": "none"},
    ),
    (
        "pod-annotation-false",
        "istio-inject",
        [ISTIO_NS, deploy(annotations={"sidecar.istio.io/inject": "false"})],
        "app/web",
        None,
        {"8080": "none"},
    ),
    (
        "pod-label-beats-annotation",
        "istio-inject",
        [
            ISTIO_NS,
            deploy(
                labels={"app": "web", "sidecar.istio.io/inject": "true"},
                annotations={"sidecar.istio.io/inject": "false"},
            ),
        ],
        "app/web",
        "istio",
        {"8080": "PERMISSIVE"},
    ),
    (
        "host-network-never-injected",
        "istio-inject",
        [ISTIO_NS, deploy(extra={"hostNetwork": True})],
        "app/web",
        None,
        {"8080": "none"},
    ),
    (
        "kube-system-never-injected",
        "istio-inject",
        [ns("kube-system", labels={"istio-injection": "enabled"}), deploy(namespace="kube-system")],
        "kube-system/web",
        None,
        {"8080": "none"},
    ),
    (
        "ns-injection-value-not-enabled",
        "istio-inject",
        [ns(labels={"istio-injection": "true"}), deploy()],
        "app/web",
        None,
        {"8080": "none"},
    ),
    (
        "proxy-container-present",
        "istio-inject",
        [
            ns(),
            deploy(
                extra={
                    "initContainers": [],
                    "containers": [
                        {"name": "app", "image": "a:1", "ports": [{"containerPort": 8080}]},
                        PROXY,
                    ],
                }
            ),
        ],
        "app/web",
        "istio",
        {"8080": "PERMISSIVE"},
    ),
    (
        "native-sidecar-present",
        "istio-inject",
        [ns(), deploy(extra={"initContainers": [{**PROXY, "restartPolicy": "Always"}]})],
        "app/web",
        "istio",
        {"8080": "PERMISSIVE"},
    ),
    (
        "init-proxy-without-always-is-not-a-sidecar",
        "istio-inject",
        [ns(), deploy(extra={"initContainers": [PROXY]})],
        "app/web",
        None,
        {"8080": "none"},
    ),
    ("namespace-not-in-input", "istio-inject", [deploy()], "app/web", None, {"8080": "unknown"}),
    # Istio ambient
    (
        "ambient-namespace",
        "istio-ambient",
        [ns(labels={"istio.io/dataplane-mode": "ambient"}), deploy()],
        "app/web",
        "istio-ambient",
        {"8080": "PERMISSIVE"},
    ),
    (
        "ambient-pod-opt-out",
        "istio-ambient",
        [
            ns(labels={"istio.io/dataplane-mode": "ambient"}),
            deploy(labels={"app": "web", "istio.io/dataplane-mode": "none"}),
        ],
        "app/web",
        None,
        {"8080": "none"},
    ),
    (
        "ambient-pod-opt-in",
        "istio-ambient",
        [ns(), deploy(labels={"app": "web", "istio.io/dataplane-mode": "ambient"})],
        "app/web",
        "istio-ambient",
        {"8080": "PERMISSIVE"},
    ),
    (
        "sidecar-beats-ambient",
        "istio-ambient",
        [ns(labels={"istio.io/dataplane-mode": "ambient", "istio-injection": "enabled"}), deploy()],
        "app/web",
        "istio",
        {"8080": "PERMISSIVE"},
    ),
    (
        "ambient-disable-unsupported",
        "istio-pa",
        [
            ns(labels={"istio.io/dataplane-mode": "ambient"}),
            deploy(),
            pa("default", "app", "DISABLE"),
        ],
        "app/web",
        "istio-ambient",
        {"8080": "PERMISSIVE"},
    ),
    (
        "ambient-mesh-strict",
        "istio-pa",
        [
            ns(labels={"istio.io/dataplane-mode": "ambient"}),
            deploy(),
            pa("default", ROOT, "STRICT"),
        ],
        "app/web",
        "istio-ambient",
        {"8080": "STRICT"},
    ),
    # PeerAuthentication levels
    (
        "mesh-strict",
        "istio-pa",
        [ISTIO_NS, deploy(), pa("default", ROOT, "STRICT")],
        "app/web",
        "istio",
        {"8080": "STRICT"},
    ),
    (
        "namespace-beats-mesh",
        "istio-pa",
        [ISTIO_NS, deploy(), pa("default", ROOT, "STRICT"), pa("default", "app", "PERMISSIVE")],
        "app/web",
        "istio",
        {"8080": "PERMISSIVE"},
    ),
    (
        "workload-beats-namespace",
        "istio-pa",
        [
            ISTIO_NS,
            deploy(),
            pa("default", ROOT, "PERMISSIVE"),
            pa("default", "app", "STRICT"),
            pa("web", "app", "DISABLE", selector={"app": "web"}),
        ],
        "app/web",
        "istio",
        {"8080": "DISABLE"},
    ),
    (
        "namespace-unset-inherits-mesh",
        "istio-pa",
        [ISTIO_NS, deploy(), pa("default", ROOT, "STRICT"), pa("default", "app", "UNSET")],
        "app/web",
        "istio",
        {"8080": "STRICT"},
    ),
    (
        "namespace-without-mtls-inherits",
        "istio-pa",
        [ISTIO_NS, deploy(), pa("default", ROOT, "STRICT"), pa("default", "app")],
        "app/web",
        "istio",
        {"8080": "STRICT"},
    ),
    (
        "mesh-unset-defaults-permissive",
        "istio-pa",
        [ISTIO_NS, deploy(), pa("default", ROOT, "UNSET")],
        "app/web",
        "istio",
        {"8080": "PERMISSIVE"},
    ),
    (
        "workload-unset-inherits-namespace",
        "istio-pa",
        [
            ISTIO_NS,
            deploy(),
            pa("default", "app", "STRICT"),
            pa("web", "app", "UNSET", selector={"app": "web"}),
        ],
        "app/web",
        "istio",
        {"8080": "STRICT"},
    ),
    (
        "root-selector-not-mesh-wide",
        "istio-pa",
        [ISTIO_NS, deploy(), pa("web", ROOT, "STRICT", selector={"app": "web"})],
        "app/web",
        "istio",
        {"8080": "PERMISSIVE"},
    ),
    (
        "root-selector-ignored-in-root",
        "istio-pa",
        [
            ns(ROOT, labels={"istio-injection": "enabled"}),
            deploy(namespace=ROOT),
            pa("web", ROOT, "STRICT", selector={"app": "web"}),
        ],
        f"{ROOT}/web",
        "istio",
        {"8080": "PERMISSIVE"},
    ),
    (
        "other-namespace-policy-ignored",
        "istio-pa",
        [ISTIO_NS, deploy(), pa("default", "other", "STRICT")],
        "app/web",
        "istio",
        {"8080": "PERMISSIVE"},
    ),
    (
        "selector-not-matching",
        "istio-pa",
        [
            ISTIO_NS,
            deploy(),
            pa("default", "app", "STRICT"),
            pa("api", "app", "DISABLE", selector={"app": "api"}),
        ],
        "app/web",
        "istio",
        {"8080": "STRICT"},
    ),
    (
        "empty-match-labels-is-namespace-wide",
        "istio-pa",
        [ISTIO_NS, deploy(), pa("default", "app", "STRICT", selector={})],
        "app/web",
        "istio",
        {"8080": "STRICT"},
    ),
    # Oldest wins
    (
        "oldest-namespace-policy-wins",
        "istio-pa",
        [
            ISTIO_NS,
            deploy(),
            pa("b-old", "app", "STRICT", created=T1),
            pa("a-new", "app", "PERMISSIVE", created=T2),
        ],
        "app/web",
        "istio",
        {"8080": "STRICT"},
    ),
    (
        "oldest-wins-whatever-its-mode",
        "istio-pa",
        [
            ISTIO_NS,
            deploy(),
            pa("z-old", "app", "PERMISSIVE", created=T1),
            pa("a-new", "app", "STRICT", created=T2),
        ],
        "app/web",
        "istio",
        {"8080": "PERMISSIVE"},
    ),
    (
        "same-age-name-decides",
        "istio-pa",
        [
            ISTIO_NS,
            deploy(),
            pa("b", "app", "PERMISSIVE", created=T1),
            pa("a", "app", "STRICT", created=T1),
        ],
        "app/web",
        "istio",
        {"8080": "STRICT"},
    ),
    (
        "oldest-workload-policy-wins",
        "istio-pa",
        [
            ISTIO_NS,
            deploy(),
            pa("w2", "app", "PERMISSIVE", selector={"app": "web"}, created=T2),
            pa("w1", "app", "STRICT", selector={"app": "web"}, created=T1),
        ],
        "app/web",
        "istio",
        {"8080": "STRICT"},
    ),
    (
        "oldest-mesh-policy-wins",
        "istio-pa",
        [
            ISTIO_NS,
            deploy(),
            pa("a", ROOT, "PERMISSIVE", created=T2),
            pa("b", ROOT, "STRICT", created=T1),
        ],
        "app/web",
        "istio",
        {"8080": "STRICT"},
    ),
    (
        "existing-policy-older-than-manifest",
        "istio-pa",
        [
            ISTIO_NS,
            deploy(),
            pa("a-manifest", "app", "PERMISSIVE"),
            pa("z-live", "app", "STRICT", created=T1),
        ],
        "app/web",
        "istio",
        {"8080": "STRICT"},
    ),
    (
        "manifests-without-age-by-name",
        "istio-pa",
        [ISTIO_NS, deploy(), pa("b", "app", "PERMISSIVE"), pa("a", "app", "STRICT")],
        "app/web",
        "istio",
        {"8080": "STRICT"},
    ),
    # Port level
    (
        "port-level-overrides",
        "istio-pa",
        [
            ISTIO_NS,
            deploy(ports=(8080, 9090)),
            pa("web", "app", "STRICT", selector={"app": "web"}, ports={8080: "DISABLE"}),
        ],
        "app/web",
        "istio",
        {"8080": "DISABLE", "9090": "STRICT"},
    ),
    (
        "port-level-unset-inherits",
        "istio-pa",
        [
            ISTIO_NS,
            deploy(ports=(8080,)),
            pa("default", "app", "STRICT"),
            pa("web", "app", selector={"app": "web"}, ports={8080: None}),
        ],
        "app/web",
        "istio",
        {"8080": "STRICT"},
    ),
    (
        "port-level-ignored-without-selector",
        "istio-pa",
        [ISTIO_NS, deploy(ports=(8080,)), pa("default", "app", "STRICT", ports={8080: "DISABLE"})],
        "app/web",
        "istio",
        {"8080": "STRICT"},
    ),
    (
        "port-level-undeclared-port-listed",
        "istio-pa",
        [
            ISTIO_NS,
            deploy(ports=(8080,)),
            pa("web", "app", "STRICT", selector={"app": "web"}, ports={9000: "PERMISSIVE"}),
        ],
        "app/web",
        "istio",
        {"8080": "STRICT", "9000": "PERMISSIVE"},
    ),
    (
        "port-level-over-inherited-mode",
        "istio-pa",
        [
            ISTIO_NS,
            deploy(ports=(8080, 9090)),
            pa("default", "app", "STRICT"),
            pa("web", "app", selector={"app": "web"}, ports={"8080": "PERMISSIVE"}),
        ],
        "app/web",
        "istio",
        {"8080": "PERMISSIVE", "9090": "STRICT"},
    ),
    (
        "port-names-shown",
        "istio-pa",
        [ISTIO_NS, deploy(ports=((8080, "http"),)), pa("default", ROOT, "STRICT")],
        "app/web",
        "istio",
        {"8080/http": "STRICT"},
    ),
    (
        "no-declared-ports",
        "istio-pa",
        [ISTIO_NS, deploy(ports=()), pa("default", ROOT, "STRICT")],
        "app/web",
        "istio",
        {"*": "STRICT"},
    ),
    # Sidecar capture
    (
        "excluded-inbound-port-bypasses",
        "istio-capture",
        [
            ISTIO_NS,
            deploy(
                ports=(8080, 9090),
                annotations={"traffic.sidecar.istio.io/excludeInboundPorts": "9090"},
            ),
            pa("default", ROOT, "STRICT"),
        ],
        "app/web",
        "istio",
        {"8080": "STRICT", "9090": "DISABLE"},
    ),
    (
        "include-list-leaves-others-uncaptured",
        "istio-capture",
        [
            ISTIO_NS,
            deploy(
                ports=(8080, 9090),
                annotations={"traffic.sidecar.istio.io/includeInboundPorts": "8080"},
            ),
            pa("default", ROOT, "STRICT"),
        ],
        "app/web",
        "istio",
        {"8080": "STRICT", "9090": "DISABLE"},
    ),
    (
        "include-star-captures-all",
        "istio-capture",
        [
            ISTIO_NS,
            deploy(annotations={"traffic.sidecar.istio.io/includeInboundPorts": "*"}),
            pa("default", ROOT, "STRICT"),
        ],
        "app/web",
        "istio",
        {"8080": "STRICT"},
    ),
    # Linkerd
    (
        "linkerd-ns-annotation",
        "linkerd-policy",
        [LINKERD_NS, deploy()],
        "app/web",
        "linkerd",
        {"8080": "PERMISSIVE"},
    ),
    (
        "linkerd-pod-disabled-beats-ns",
        "linkerd-policy",
        [LINKERD_NS, deploy(annotations={"linkerd.io/inject": "disabled"})],
        "app/web",
        None,
        {"8080": "none"},
    ),
    (
        "linkerd-pod-enabled",
        "linkerd-policy",
        [ns(), deploy(annotations={"linkerd.io/inject": "enabled"})],
        "app/web",
        "linkerd",
        {"8080": "PERMISSIVE"},
    ),
    (
        "linkerd-pod-policy",
        "linkerd-policy",
        [
            LINKERD_NS,
            deploy(annotations={"config.linkerd.io/default-inbound-policy": "all-authenticated"}),
        ],
        "app/web",
        "linkerd",
        {"8080": "STRICT"},
    ),
    (
        "linkerd-pod-policy-beats-ns",
        "linkerd-policy",
        [
            ns(
                annotations={
                    "linkerd.io/inject": "enabled",
                    "config.linkerd.io/default-inbound-policy": "deny",
                }
            ),
            deploy(annotations={"config.linkerd.io/default-inbound-policy": "all-unauthenticated"}),
        ],
        "app/web",
        "linkerd",
        {"8080": "PERMISSIVE"},
    ),
    (
        "linkerd-ns-policy-deny",
        "linkerd-policy",
        [
            ns(
                annotations={
                    "linkerd.io/inject": "enabled",
                    "config.linkerd.io/default-inbound-policy": "deny",
                }
            ),
            deploy(),
        ],
        "app/web",
        "linkerd",
        {"8080": "STRICT"},
    ),
    (
        "linkerd-cluster-default",
        "linkerd-policy",
        [LINKERD_NS, deploy(), linkerd_config("cluster-authenticated")],
        "app/web",
        "linkerd",
        {"8080": "STRICT"},
    ),
    (
        "linkerd-cluster-unauthenticated",
        "linkerd-policy",
        [LINKERD_NS, deploy(), linkerd_config("cluster-unauthenticated")],
        "app/web",
        "linkerd",
        {"8080": "PERMISSIVE"},
    ),
    (
        "linkerd-audit",
        "linkerd-policy",
        [LINKERD_NS, deploy(annotations={"config.linkerd.io/default-inbound-policy": "audit"})],
        "app/web",
        "linkerd",
        {"8080": "PERMISSIVE"},
    ),
    (
        "linkerd-skip-port",
        "linkerd-mtls",
        [
            LINKERD_NS,
            deploy(
                ports=(8080, 9090),
                annotations={
                    "config.linkerd.io/default-inbound-policy": "all-authenticated",
                    "config.linkerd.io/skip-inbound-ports": "9090",
                },
            ),
        ],
        "app/web",
        "linkerd",
        {"8080": "STRICT", "9090": "DISABLE"},
    ),
    (
        "linkerd-skip-range",
        "linkerd-mtls",
        [
            LINKERD_NS,
            deploy(
                ports=(8080, 9090),
                annotations={"config.linkerd.io/skip-inbound-ports": "8000-8999"},
            ),
        ],
        "app/web",
        "linkerd",
        {"8080": "DISABLE", "9090": "PERMISSIVE"},
    ),
    (
        "linkerd-opaque-still-mtls",
        "linkerd-mtls",
        [
            LINKERD_NS,
            deploy(
                ports=(3306,),
                annotations={
                    "config.linkerd.io/default-inbound-policy": "all-authenticated",
                    "config.linkerd.io/opaque-ports": "3306",
                },
            ),
        ],
        "app/web",
        "linkerd",
        {"3306": "STRICT"},
    ),
    (
        "linkerd-server-denies-by-default",
        "linkerd-policy",
        [
            LINKERD_NS,
            deploy(ports=(8080, 9090)),
            linkerd_obj(
                "Server", "web-http", {"podSelector": {"matchLabels": {"app": "web"}}, "port": 8080}
            ),
        ],
        "app/web",
        "linkerd",
        {"8080": "STRICT", "9090": "PERMISSIVE"},
    ),
    (
        "linkerd-server-audit",
        "linkerd-policy",
        [
            LINKERD_NS,
            deploy(),
            linkerd_obj(
                "Server",
                "web-http",
                {
                    "podSelector": {"matchLabels": {"app": "web"}},
                    "port": 8080,
                    "accessPolicy": "audit",
                },
            ),
        ],
        "app/web",
        "linkerd",
        {"8080": "PERMISSIVE"},
    ),
    (
        "linkerd-network-authn-only",
        "linkerd-policy",
        [
            LINKERD_NS,
            deploy(),
            linkerd_obj(
                "Server", "web-http", {"podSelector": {"matchLabels": {"app": "web"}}, "port": 8080}
            ),
            linkerd_obj(
                "AuthorizationPolicy",
                "web-any",
                {
                    "targetRef": {
                        "group": "policy.linkerd.io",
                        "kind": "Server",
                        "name": "web-http",
                    },
                    "requiredAuthenticationRefs": [
                        {
                            "kind": "NetworkAuthentication",
                            "name": "all",
                            "group": "policy.linkerd.io",
                        }
                    ],
                },
            ),
        ],
        "app/web",
        "linkerd",
        {"8080": "PERMISSIVE"},
    ),
    (
        "linkerd-meshtls-authn",
        "linkerd-policy",
        [
            LINKERD_NS,
            deploy(),
            linkerd_obj(
                "Server", "web-http", {"podSelector": {"matchLabels": {"app": "web"}}, "port": 8080}
            ),
            linkerd_obj(
                "MeshTLSAuthentication",
                "clients",
                {"identityRefs": [{"kind": "ServiceAccount", "name": "client"}]},
            ),
            linkerd_obj(
                "AuthorizationPolicy",
                "web-clients",
                {
                    "targetRef": {
                        "group": "policy.linkerd.io",
                        "kind": "Server",
                        "name": "web-http",
                    },
                    "requiredAuthenticationRefs": [
                        {
                            "kind": "MeshTLSAuthentication",
                            "name": "clients",
                            "group": "policy.linkerd.io",
                        }
                    ],
                },
            ),
        ],
        "app/web",
        "linkerd",
        {"8080": "STRICT"},
    ),
    (
        "linkerd-serverauthorization-unauthenticated",
        "linkerd-policy",
        [
            LINKERD_NS,
            deploy(),
            linkerd_obj(
                "Server", "web-http", {"podSelector": {"matchLabels": {"app": "web"}}, "port": 8080}
            ),
            linkerd_obj(
                "ServerAuthorization",
                "web-public",
                {"server": {"name": "web-http"}, "client": {"unauthenticated": True}},
            ),
        ],
        "app/web",
        "linkerd",
        {"8080": "PERMISSIVE"},
    ),
    (
        "linkerd-server-by-port-name",
        "linkerd-policy",
        [
            LINKERD_NS,
            deploy(ports=((8080, "http"),)),
            linkerd_obj(
                "Server",
                "web-http",
                {"podSelector": {"matchLabels": {"app": "web"}}, "port": "http"},
            ),
        ],
        "app/web",
        "linkerd",
        {"8080/http": "STRICT"},
    ),
    (
        "linkerd-proxy-env-is-authoritative",
        "linkerd-policy",
        [
            LINKERD_NS,
            deploy(
                annotations={"config.linkerd.io/default-inbound-policy": "all-unauthenticated"},
                extra={
                    "containers": [
                        {"name": "app", "image": "a:1", "ports": [{"containerPort": 8080}]},
                        {
                            "name": "linkerd-proxy",
                            "image": "cr.l5d.io/linkerd/proxy:edge",
                            "env": [
                                {
                                    "name": "LINKERD2_PROXY_INBOUND_DEFAULT_POLICY",
                                    "value": "all-authenticated",
                                }
                            ],
                        },
                    ]
                },
            ),
        ],
        "app/web",
        "linkerd",
        {"8080": "STRICT"},
    ),
    # Cilium
    (
        "cilium-mutual-auth",
        "cilium-auth",
        [
            ns(),
            deploy(),
            cilium_config(**{"mesh-auth-mutual-enabled": "true"}),
            cnp("web-auth", {"app": "web"}),
        ],
        "app/web",
        "cilium",
        {"8080": "STRICT"},
    ),
    (
        "cilium-auth-feature-off",
        "cilium-auth",
        [
            ns(),
            deploy(),
            cilium_config(**{"mesh-auth-mutual-enabled": "false"}),
            cnp("web-auth", {"app": "web"}),
        ],
        "app/web",
        None,
        {"8080": "none"},
    ),
    (
        "cilium-source-prefixed-labels",
        "cilium-auth",
        [
            ns(),
            deploy(),
            cilium_config(**{"mesh-auth-mutual-enabled": "true"}),
            cnp("web-auth", {"k8s:app": "web"}),
        ],
        "app/web",
        "cilium",
        {"8080": "STRICT"},
    ),
]


def analyse(objects: list[dict], root: str = ROOT) -> MeshAnalysis:
    inventory = Inventory([Resource(obj) for obj in objects])
    return MeshAnalysis(inventory, inventory.workloads, root)


@pytest.mark.parametrize(
    ("rule", "objects", "workload", "mesh", "expected"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_effective_mode(rule, objects, workload, mesh, expected):
    assert rule
    result = analyse(objects).results[f"Deployment/{workload}"]
    assert (result.mesh.value if result.mesh else None) == mesh
    assert {p.label: p.mode.value for p in result.ports} == expected


def test_enough_documented_cases():
    assert len(CASES) >= 40
    assert {case[1] for case in CASES} >= {"istio-inject", "istio-ambient", "istio-pa"}


def test_root_namespace_is_configurable():
    """[istio-pa] the mesh-wide policy lives in meshConfig.rootNamespace."""
    objects = [ISTIO_NS, deploy(), pa("default", "istio-config", "STRICT")]
    assert analyse(objects).results["Deployment/app/web"].mode.value == "PERMISSIVE"
    strict = analyse(objects, root="istio-config").results["Deployment/app/web"]
    assert strict.mode.value == "STRICT"


def test_decisions_name_the_winning_policy():
    objects = [ISTIO_NS, deploy(), pa("default", ROOT, "STRICT"), pa("default", "app", "UNSET")]
    result = analyse(objects).results["Deployment/app/web"]
    assert [d.text for d in result.ports[0].decided_by] == [
        "PeerAuthentication/istio-system/default (mesh-wide): mtls.mode=STRICT",
        "PeerAuthentication/app/default (namespace-wide): mtls.mode unset, inherits",
    ]
    assert [d.text for d in result.data_plane.decided_by] == [
        "Namespace/app: label istio-injection=enabled"
    ]


def test_running_pod_without_requested_sidecar_is_missing():
    """[istio-inject] a pod created before its namespace was labelled keeps no sidecar."""
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web-1", "namespace": "app", "labels": {"app": "web"}},
        "spec": {"containers": [{"name": "app", "image": "a:1"}]},
        "status": {"phase": "Running"},
    }
    result = analyse([ISTIO_NS, pod]).results["Pod/app/web-1"]
    assert result.data_plane.state is DataPlane.MISSING
    assert result.mode.value == "none"


def test_malformed_values_do_not_crash():
    objects = [
        ns(labels={"istio-injection": "enabled"}),
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "odd", "namespace": "app"},
            "spec": {"template": {"metadata": {"labels": "x"}, "spec": {"containers": "x"}}},
        },
        {
            "apiVersion": "security.istio.io/v1",
            "kind": "PeerAuthentication",
            "metadata": {"name": "bad", "namespace": "app"},
            "spec": {"selector": "x", "mtls": "STRICT", "portLevelMtls": ["x"]},
        },
        {
            "apiVersion": "security.istio.io/v1",
            "kind": "PeerAuthentication",
            "metadata": {"name": "worse", "namespace": "app"},
            "spec": "x",
        },
    ]
    result = analyse(objects).results["Deployment/app/odd"]
    assert result.mesh is not None
    assert [(p.label, p.mode.value) for p in result.ports] == [("*", "PERMISSIVE")]
