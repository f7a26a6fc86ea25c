"""Time the RBAC graph, the escalation finder and the identity checks on a large cluster.

Usage: python benchmarks/bench_identity.py [--objects 100000]

The synthetic cluster is RBAC-heavy on purpose: every namespace has accounts, workloads,
Roles and RoleBindings (some granting pod creation to people), and a share of the objects
are ClusterRoles (some aggregated) and ClusterRoleBindings granting cluster-wide rights,
which is the worst case for escalation search.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from identity_support import identity_registry  # noqa: E402

from zt_audit.analysis.rbac import EscalationFinder, RbacGraph  # noqa: E402
from zt_audit.engine.config import ScanConfig  # noqa: E402
from zt_audit.inventory import Inventory, Resource  # noqa: E402
from zt_audit.scan import run_scan  # noqa: E402

RBAC = "rbac.authorization.k8s.io"
PER_NAMESPACE = 10


def _namespace(index: int) -> list[dict[str, Any]]:
    ns = f"team-{index:05d}"
    account = {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {"name": "app", "namespace": ns},
    }
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "app", "namespace": ns},
        "spec": {
            "selector": {"matchLabels": {"app": "app"}},
            "template": {
                "metadata": {"labels": {"app": "app"}},
                "spec": {
                    "serviceAccountName": "app",
                    "containers": [{"name": "app", "image": f"registry.example.com/app:{index}"}],
                },
            },
        },
    }
    role = {
        "apiVersion": f"{RBAC}/v1",
        "kind": "Role",
        "metadata": {"name": "developer", "namespace": ns},
        "rules": [
            {"apiGroups": [""], "resources": ["pods", "pods/exec"], "verbs": ["get", "create"]},
            {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["*"]},
        ],
    }
    reader = {
        "apiVersion": f"{RBAC}/v1",
        "kind": "Role",
        "metadata": {"name": "reader", "namespace": ns},
        "rules": [{"apiGroups": [""], "resources": ["configmaps", "secrets"], "verbs": ["get"]}],
    }
    objects = [account, deployment, role, reader]
    for number, (subject, role_name) in enumerate(
        [
            ({"kind": "Group", "name": f"{ns}-devs@example.com"}, "developer"),
            ({"kind": "ServiceAccount", "name": "app", "namespace": ns}, "reader"),
            ({"kind": "User", "name": f"lead-{index}@example.com"}, "developer"),
            ({"kind": "ServiceAccount", "name": "default", "namespace": ns}, "reader"),
            ({"kind": "Group", "name": f"{ns}-ops@example.com"}, "reader"),
            ({"kind": "User", "name": f"auditor-{index}@example.com"}, "reader"),
        ]
    ):
        objects.append(
            {
                "apiVersion": f"{RBAC}/v1",
                "kind": "RoleBinding",
                "metadata": {"name": f"binding-{number}", "namespace": ns},
                "subjects": [subject],
                "roleRef": {"apiGroup": RBAC, "kind": "Role", "name": role_name},
            }
        )
    return objects


def _cluster(index: int) -> list[dict[str, Any]]:
    """A ClusterRole (every tenth aggregated into 'aggregate') and a binding to it."""
    name = f"operator-{index:05d}"
    labels = {"rbac.example.com/aggregate": "true"} if index % 10 == 0 else {}
    verbs = ["create"] if index % 50 == 0 else ["get", "list", "watch"]
    role = {
        "apiVersion": f"{RBAC}/v1",
        "kind": "ClusterRole",
        "metadata": {"name": name, "labels": labels},
        "rules": [{"apiGroups": [""], "resources": ["pods", "configmaps"], "verbs": verbs}],
    }
    binding = {
        "apiVersion": f"{RBAC}/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": name},
        "subjects": [{"kind": "ServiceAccount", "name": "operator", "namespace": f"ops-{index}"}],
        "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": name},
    }
    return [role, binding]


def generate(objects: int) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = [
        {
            "apiVersion": f"{RBAC}/v1",
            "kind": "ClusterRole",
            "metadata": {"name": "aggregate"},
            "aggregationRule": {
                "clusterRoleSelectors": [{"matchLabels": {"rbac.example.com/aggregate": "true"}}]
            },
        }
    ]
    namespaces = int(objects * 0.8) // PER_NAMESPACE
    for index in range(namespaces):
        found += _namespace(index)
    index = 0
    while len(found) < objects:
        found += _cluster(index)
        index += 1
    return found[:objects]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=100_000)
    args = parser.parse_args()
    inventory = Inventory(Resource(obj) for obj in generate(args.objects))
    counts = inventory.kind_counts()
    print(f"{len(inventory)} objects: " + ", ".join(f"{k} {v}" for k, v in counts.items()))

    # CPU time: the machine may be shared, and wall time would measure the neighbours.
    started = time.process_time()
    graph = RbacGraph(inventory)
    built = time.process_time()
    paths = EscalationFinder(graph, inventory).paths()
    searched = time.process_time()
    print(f"graph {built - started:.2f}s CPU ({len(graph.grants)} grants)")
    print(f"escalation search {searched - built:.2f}s CPU ({len(paths)} paths)")

    started = time.process_time()
    run_scan(inventory, identity_registry(), ScanConfig(bundle_is_complete=True))
    print(f"IAM-01..14 in a fresh scan {time.process_time() - started:.2f}s CPU")


if __name__ == "__main__":
    main()
