"""Identity-tier authorization (NET-07) of an Istio workload, case by case.

Each case follows Istio's AuthorizationPolicy reference and the "Authorization" concept
page: without an ALLOW policy every request passes; with one, only matching requests do;
``spec: {}`` allows nothing; an empty rule matches everything; root-namespace policies
apply mesh-wide; ``targetRef(s)`` bind to gateways and waypoints, not to the sidecar.
"""

from __future__ import annotations

from typing import Any

import pytest

from zt_audit.analysis.mesh import MeshAnalysis
from zt_audit.analysis.mesh.authorization import AuthorizationIndex
from zt_audit.inventory import Inventory, Resource

NAMESPACE = {
    "apiVersion": "v1",
    "kind": "Namespace",
    "metadata": {"name": "app", "labels": {"istio-injection": "enabled"}},
}
WORKLOAD = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "web", "namespace": "app"},
    "spec": {
        "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "web", "image": "ghcr.io/acme/web:1.0"}]},
        }
    },
}
PRINCIPALS = {"from": [{"source": {"principals": ["cluster.local/ns/app/sa/client"]}}]}


def policy(name: str, spec: dict[str, Any], namespace: str = "app") -> dict[str, Any]:
    return {
        "apiVersion": "security.istio.io/v1",
        "kind": "AuthorizationPolicy",
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }


CASES = [
    ("no-policy-allows-everyone", [], "open"),
    ("allow-nothing", [policy("deny", {})], "identity"),
    (
        "allow-nothing-plus-principals",
        [policy("deny", {}), policy("web", {"action": "ALLOW", "rules": [PRINCIPALS]})],
        "identity",
    ),
    ("empty-rule-allows-all", [policy("all", {"rules": [{}]})], "allow-all"),
    ("empty-from-allows-all", [policy("all", {"rules": [{"from": []}]})], "allow-all"),
    (
        "operations-only-is-not-identity",
        [policy("get", {"rules": [{"to": [{"operation": {"methods": ["GET"]}}]}]})],
        "partial",
    ),
    (
        "ip-blocks-are-network-tier",
        [policy("ips", {"rules": [{"from": [{"source": {"ipBlocks": ["10.0.0.0/8"]}}]}]})],
        "partial",
    ),
    (
        "namespaces-are-identities",
        [policy("ns", {"rules": [{"from": [{"source": {"namespaces": ["front"]}}]}]})],
        "identity",
    ),
    (
        "when-source-principal",
        [
            policy(
                "when",
                {"rules": [{"when": [{"key": "source.principal", "values": ["a/b"]}]}]},
            )
        ],
        "identity",
    ),
    (
        "request-principals",
        [policy("jwt", {"rules": [{"from": [{"source": {"requestPrincipals": ["*"]}}]}]})],
        "identity",
    ),
    ("deny-only-keeps-default-allow", [policy("d", {"action": "DENY", "rules": [{}]})], "open"),
    (
        "root-namespace-selector-applies-across-namespaces",
        [
            policy(
                "web",
                {"selector": {"matchLabels": {"app": "web"}}, "rules": [PRINCIPALS]},
                namespace="istio-system",
            )
        ],
        "identity",
    ),
    ("other-namespace-does-not-apply", [policy("x", {}, namespace="other")], "open"),
    (
        "target-ref-binds-elsewhere",
        [policy("gw", {"targetRefs": [{"kind": "Gateway", "name": "gw"}], "rules": [{}]})],
        "open",
    ),
    (
        "selector-not-matching",
        [policy("api", {"selector": {"matchLabels": {"app": "api"}}, "rules": [{}]})],
        "open",
    ),
    (
        "one-rule-without-identity-makes-partial",
        [policy("mixed", {"rules": [PRINCIPALS, {"to": [{"operation": {"ports": ["80"]}}]}]})],
        "partial",
    ),
]


@pytest.mark.parametrize(("objects", "posture"), [pytest.param(*c[1:], id=c[0]) for c in CASES])
def test_posture(objects, posture):
    inventory = Inventory([Resource(o) for o in [NAMESPACE, WORKLOAD, *objects]])
    analysis = MeshAnalysis(inventory, inventory.workloads, "istio-system")
    result = analysis.results["Deployment/app/web"]
    authz = AuthorizationIndex(inventory, "istio-system").evaluate(result)
    assert authz.posture.value == posture
