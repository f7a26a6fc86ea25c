"""DestinationRule downgrades (MTLS-03), case by case.

Istio's DestinationRule reference: ``host`` short names are read in the rule's namespace,
``name.namespace`` and the full ``.svc.cluster.local`` form name a Service, wildcards
cover a namespace or the mesh; ``trafficPolicy.tls`` applies to all ports, per
``portLevelSettings`` port and per subset; ``ISTIO_MUTUAL`` keeps mesh mTLS, ``DISABLE``
sends plaintext, ``SIMPLE``/``MUTUAL`` originate the application's own TLS.
"""

from __future__ import annotations

from typing import Any

import pytest

from zt_audit.analysis.mesh import MeshAnalysis
from zt_audit.analysis.mesh.destination_rules import downgrades
from zt_audit.inventory import Inventory, Resource


def namespace(name: str, injected: bool = True) -> dict:
    labels = {"istio-injection": "enabled"} if injected else {}
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}


RATINGS = [
    {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "ratings", "namespace": "prod"},
        "spec": {"selector": {"app": "ratings"}, "ports": [{"port": 9080}]},
    },
    {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "ratings", "namespace": "prod"},
        "spec": {
            "template": {
                "metadata": {"labels": {"app": "ratings"}},
                "spec": {"containers": [{"name": "r", "image": "a:1"}]},
            }
        },
    },
]


def rule(host: str, namespace: str = "prod", **spec: Any) -> dict:
    return {
        "apiVersion": "networking.istio.io/v1",
        "kind": "DestinationRule",
        "metadata": {"name": "dr", "namespace": namespace},
        "spec": {"host": host, **spec},
    }


def tls(mode: str) -> dict:
    return {"tls": {"mode": mode}}


CASES = [
    (
        "short-name-in-rule-namespace",
        [rule("ratings", trafficPolicy=tls("DISABLE"))],
        [("DISABLE", "all ports")],
    ),
    (
        "short-name-elsewhere-is-another-service",
        [rule("ratings", "web", trafficPolicy=tls("DISABLE"))],
        [],
    ),
    (
        "name-dot-namespace",
        [rule("ratings.prod", "web", trafficPolicy=tls("DISABLE"))],
        [("DISABLE", "all ports")],
    ),
    (
        "fully-qualified",
        [rule("ratings.prod.svc.cluster.local", "web", trafficPolicy=tls("DISABLE"))],
        [("DISABLE", "all ports")],
    ),
    (
        "namespace-wildcard",
        [rule("*.prod.svc.cluster.local", "web", trafficPolicy=tls("DISABLE"))],
        [("DISABLE", "all ports")],
    ),
    (
        "mesh-wildcard",
        [rule("*.local", "web", trafficPolicy=tls("SIMPLE"))],
        [("SIMPLE", "all ports")],
    ),
    ("external-host", [rule("api.example.com", trafficPolicy=tls("DISABLE"))], []),
    ("istio-mutual-keeps-mtls", [rule("ratings", trafficPolicy=tls("ISTIO_MUTUAL"))], []),
    (
        "port-level",
        [
            rule(
                "ratings",
                trafficPolicy={"portLevelSettings": [{"port": {"number": 9080}, **tls("DISABLE")}]},
            )
        ],
        [("DISABLE", "port 9080")],
    ),
    (
        "subset",
        [
            rule(
                "ratings",
                subsets=[
                    {"name": "v1", "labels": {"version": "v1"}, "trafficPolicy": tls("MUTUAL")}
                ],
            )
        ],
        [("MUTUAL", "subset v1")],
    ),
]


@pytest.mark.parametrize(("objects", "expected"), [pytest.param(*c[1:], id=c[0]) for c in CASES])
def test_downgrade(objects, expected):
    inventory = Inventory(
        [Resource(o) for o in [namespace("prod"), namespace("web"), *RATINGS, *objects]]
    )
    analysis = MeshAnalysis(inventory, inventory.workloads, "istio-system")
    found = [(d.setting.mode, d.setting.scope) for d in downgrades(inventory, analysis.results)]
    assert found == expected


def test_unmeshed_server_is_not_a_downgrade():
    objects = [
        namespace("prod", injected=False),
        *RATINGS,
        rule("ratings", trafficPolicy=tls("DISABLE")),
    ]
    inventory = Inventory([Resource(o) for o in objects])
    analysis = MeshAnalysis(inventory, inventory.workloads, "istio-system")
    assert list(downgrades(inventory, analysis.results)) == []
