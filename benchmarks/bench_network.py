"""Time the network engine on a synthetic cluster with thousands of policies.

Usage: python benchmarks/bench_network.py [--objects 100000] [--queries 2000] [--map]

The cluster comes from ``generate.py`` (a default deny per namespace and an allow policy
per app); each namespace also gets a DNS egress policy, a policy with namespace
selectors and match expressions, and an egress ipBlock, so that every kind of peer is
exercised. Objects are built in memory, so the figures are the engine's alone: building
the indexes, the whole-cluster bitset view, the NET checks and posture, single
``reach`` queries, and optionally the connectivity map.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

sys.path.insert(0, str(Path(__file__).parent))
from generate import generate

from zt_audit.analysis.netpol import EGRESS, INGRESS, NetworkEngine
from zt_audit.analysis.netpol.connectivity import connectivity_map
from zt_audit.engine.context import ScanContext
from zt_audit.inventory import Inventory, Resource
from zt_audit.rules import network

T = TypeVar("T")


def _extra_policies(namespace: str, rng: random.Random) -> list[dict[str, Any]]:
    def policy(name: str, spec: dict[str, Any]) -> dict[str, Any]:
        return {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": name, "namespace": namespace},
            "spec": spec,
        }

    tiers = rng.sample(["web", "api", "worker"], 2)
    return [
        policy(
            "allow-dns",
            {
                "podSelector": {},
                "policyTypes": ["Egress"],
                "egress": [
                    {
                        "to": [
                            {
                                "namespaceSelector": {
                                    "matchLabels": {"kubernetes.io/metadata.name": "kube-system"}
                                },
                                "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
                            }
                        ],
                        "ports": [{"port": 53, "protocol": "UDP"}, {"port": 53}],
                    }
                ],
            },
        ),
        policy(
            "from-enforced-namespaces",
            {
                "podSelector": {
                    "matchExpressions": [{"key": "tier", "operator": "In", "values": tiers}]
                },
                "ingress": [
                    {
                        "from": [
                            {
                                "namespaceSelector": {
                                    "matchExpressions": [
                                        {
                                            "key": "pod-security.kubernetes.io/enforce",
                                            "operator": "Exists",
                                        }
                                    ]
                                },
                                "podSelector": {"matchLabels": {"tier": "web"}},
                            }
                        ],
                        "ports": [{"port": 8000, "endPort": 8100}],
                    }
                ],
            },
        ),
        policy(
            "egress-internet",
            {
                "podSelector": {"matchLabels": {"tier": "api"}},
                "policyTypes": ["Egress"],
                "egress": [
                    {
                        "to": [
                            {
                                "ipBlock": {
                                    "cidr": "0.0.0.0/0",
                                    "except": [
                                        "10.0.0.0/8",
                                        "172.16.0.0/12",
                                        "192.168.0.0/16",
                                        "169.254.169.254/32",
                                    ],
                                }
                            }
                        ],
                        "ports": [{"port": 443}],
                    }
                ],
            },
        ),
    ]


def build_inventory(objects: int, seed: int = 7) -> Inventory:
    rng = random.Random(seed)
    items = generate(objects, seed)
    namespaces = sorted({i["metadata"]["namespace"] for i in items if "namespace" in i["metadata"]})
    for namespace in namespaces:
        items.extend(_extra_policies(namespace, rng))
    return Inventory([Resource(item) for item in items])


def timed(label: str, action: Callable[[], T]) -> T:
    start = time.perf_counter()
    result = action()
    print(f"  {label:<34} {time.perf_counter() - start:8.2f} s", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--map", action="store_true", help="also build the connectivity map")
    args = parser.parse_args()

    inventory = build_inventory(args.objects)
    policies = len(inventory.of_kind("NetworkPolicy"))
    print(f"{len(inventory)} objects, {policies} NetworkPolicies", flush=True)
    total = time.perf_counter()
    engine = timed("index and normalise", lambda: NetworkEngine(inventory))
    print(f"  ({len(engine.endpoints)} workloads, {len(engine.policies)} policies)")
    timed("bitset view, both directions", lambda: (engine.reach(INGRESS), engine.reach(EGRESS)))
    timed("reachers and reachable", lambda: (engine.reachers, engine.reachable))

    ctx = ScanContext(inventory)
    ctx.analysis("network.engine", lambda: engine)
    for implementation in network.CHECKS:
        timed(f"check {implementation.check_id}", lambda i=implementation: i.evaluate(ctx))
    timed("posture section", lambda: network.network_posture(ctx))
    print(f"  scan path total                    {time.perf_counter() - total:8.2f} s")

    rng = random.Random(1)
    pairs = [
        (rng.choice(engine.endpoints), rng.choice(engine.endpoints)) for _ in range(args.queries)
    ]
    timed(
        f"{args.queries} reach queries",
        lambda: [engine.connection(a, b, "TCP", 8080).allowed for a, b in pairs],
    )
    if args.map:
        result = timed("connectivity map", lambda: connectivity_map(engine))
        print(f"  ({result.total} connections, truncated: {result.truncated})")


if __name__ == "__main__":
    main()
