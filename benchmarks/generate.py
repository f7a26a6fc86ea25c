"""Generate a synthetic cluster export, shaped like ``kubectl get -A -o yaml``.

Usage: python benchmarks/generate.py OBJECTS OUTPUT.yaml [--seed N]

The export mixes namespaces, Deployments with their ReplicaSets and Pods (owner references
set, as a live cluster lists them), Services, ServiceAccounts, ConfigMaps, NetworkPolicies
and RBAC. About one app in five is deliberately insecure, so checks have findings to make.
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path
from typing import Any

import yaml

APPS_PER_NAMESPACE = 20
OBJECTS_PER_APP = 9  # Deployment, ReplicaSet, 2 Pods, Service, SA, ConfigMap, policy, binding
OBJECTS_PER_NAMESPACE = 3  # Namespace, default-deny policy, Role


def _container(rng: random.Random, name: str, insecure: bool) -> dict[str, Any]:
    digest = "".join(rng.choice("0123456789abcdef") for _ in range(64))
    image = f"registry.example.com/team/{name}:1.{rng.randint(0, 9)}.{rng.randint(0, 30)}"
    container: dict[str, Any] = {
        "name": name,
        "image": image if insecure else f"{image}@sha256:{digest}",
        "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
        "resources": {"limits": {"cpu": "500m", "memory": "256Mi"}},
    }
    if insecure:
        container["securityContext"] = {"privileged": rng.random() < 0.3, "runAsUser": 0}
    else:
        container["securityContext"] = {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        }
    return container


def _app(rng: random.Random, namespace: str, index: int) -> list[dict[str, Any]]:
    name = f"app-{index}"
    insecure = rng.random() < 0.2
    labels = {"app.kubernetes.io/name": name, "tier": rng.choice(["web", "api", "worker"])}
    pod_spec: dict[str, Any] = {
        "serviceAccountName": name,
        "containers": [_container(rng, name, insecure)],
    }
    if insecure and rng.random() < 0.5:
        pod_spec["hostNetwork"] = True
        pod_spec["volumes"] = [{"name": "host", "hostPath": {"path": "/var/log"}}]
    meta = {"namespace": namespace, "labels": labels}
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, **meta, "uid": f"{namespace}-{name}-d"},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app.kubernetes.io/name": name}},
            "template": {"metadata": {"labels": labels}, "spec": pod_spec},
        },
    }
    owner = {"apiVersion": "apps/v1", "controller": True}
    replica_set = {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": f"{name}-7d9f8",
            **meta,
            "ownerReferences": [{**owner, "kind": "Deployment", "name": name}],
        },
        "spec": {"replicas": 2, "template": {"metadata": {"labels": labels}, "spec": pod_spec}},
    }
    pods = [
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": f"{name}-7d9f8-{suffix}",
                **meta,
                "ownerReferences": [{**owner, "kind": "ReplicaSet", "name": f"{name}-7d9f8"}],
            },
            "spec": {**pod_spec, "nodeName": f"node-{rng.randint(0, 49)}"},
            "status": {"phase": "Running", "podIP": f"10.{rng.randint(0, 255)}.0.{suffix}"},
        }
        for suffix in (1, 2)
    ]
    peer = f"app-{rng.randint(0, APPS_PER_NAMESPACE - 1)}"
    return [
        deployment,
        replica_set,
        *pods,
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {
                "type": "LoadBalancer" if insecure and rng.random() < 0.2 else "ClusterIP",
                "selector": {"app.kubernetes.io/name": name},
                "ports": [{"port": 80, "targetPort": "http"}],
            },
        },
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": name, "namespace": namespace},
        },
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": f"{name}-config", "namespace": namespace},
            "data": {"LOG_LEVEL": "info", "FEATURE_FLAGS": "a,b,c"},
        },
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": f"allow-{name}", "namespace": namespace},
            "spec": {
                "podSelector": {"matchLabels": {"app.kubernetes.io/name": name}},
                "policyTypes": ["Ingress"],
                "ingress": [
                    {
                        "from": [
                            {"podSelector": {"matchLabels": {"app.kubernetes.io/name": peer}}}
                        ],
                        "ports": [{"port": "http", "protocol": "TCP"}],
                    }
                ],
            },
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": f"{name}-reader", "namespace": namespace},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "reader"},
            "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": namespace}],
        },
    ]


def _namespace(rng: random.Random, index: int) -> list[dict[str, Any]]:
    name = f"team-{index}"
    labels = {"kubernetes.io/metadata.name": name}
    if rng.random() < 0.6:
        labels["pod-security.kubernetes.io/enforce"] = rng.choice(["baseline", "restricted"])
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}},
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": "default-deny", "namespace": name},
            "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": {"name": "reader", "namespace": name},
            "rules": [
                {
                    "apiGroups": [""],
                    "resources": ["configmaps", "pods"],
                    "verbs": ["get", "list", "watch"],
                }
            ],
        },
    ]


def generate(objects: int, seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    items: list[dict[str, Any]] = []
    namespace = 0
    while len(items) < objects:
        items.extend(_namespace(rng, namespace))
        apps = min(APPS_PER_NAMESPACE, max(1, (objects - len(items)) // OBJECTS_PER_APP))
        for app in range(apps):
            items.extend(_app(rng, f"team-{namespace}", app))
        namespace += 1
    return items[:objects]


class _Dumper(yaml.CSafeDumper):
    """Write shared objects out in full, as kubectl does, instead of as YAML aliases."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def write_export(objects: int, path: Path, seed: int = 7) -> Path:
    export = {"apiVersion": "v1", "kind": "List", "items": generate(objects, seed)}
    with path.open("w", encoding="utf-8") as stream:
        yaml.dump(export, stream, Dumper=_Dumper, sort_keys=False, width=120)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("objects", type=int)
    parser.add_argument("output", type=Path)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    write_export(args.objects, args.output, args.seed)


if __name__ == "__main__":
    main()
