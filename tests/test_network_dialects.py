"""Calico, Cilium and admin policies, normalised into the engine's model.

Each case cites the rule of the dialect's documentation it exercises: Calico's ordered
Allow/Deny rules and selector expressions, Cilium's deny-over-allow and entities, and
AdminNetworkPolicy's priority, Pass, and the baseline tier.
"""

from __future__ import annotations

import pytest
from conftest import FIXTURES

from zt_audit.analysis.netpol import NetworkEngine
from zt_audit.analysis.netpol.calico_selectors import parse_calico_selector
from zt_audit.analysis.netpol.model import parse_address
from zt_audit.inventory import load_inventory
from zt_audit.inventory.loader import load_text

NETWORK = FIXTURES / "network"


def engine(dialect: str) -> NetworkEngine:
    paths = [NETWORK / "world.yaml", NETWORK / "dialects" / f"{dialect}.yaml"]
    return NetworkEngine(load_inventory([str(p) for p in paths]))


def allowed(net: NetworkEngine, src: str, dst: str, port: int, protocol: str = "TCP") -> bool:
    def find(name: str):
        address = parse_address(name)
        if address is not None:
            return address
        (endpoint,) = [e for e in net.endpoints if e.key == name]
        return endpoint

    return net.connection(find(src), find(dst), protocol, port).allowed


# fmt: off
CASES = [
    ("calico", "GlobalNetworkPolicy selector: projectcalico.org/namespace not in {...}",
     "dev/client", "default/db", 5432, "TCP", False),
    ("calico", "GlobalNetworkPolicy: namespaces it excludes stay open",
     "default/client", "kube-system/coredns", 53, "UDP", True),
    ("calico", "policy order: a lower order's Deny is read before a later Allow",
     "default/client", "default/web", 80, "TCP", False),
    ("calico", "rule without source: the Allow admits every other peer on its ports",
     "default/monitor", "default/web", 80, "TCP", True),
    ("calico", "destination.ports limits the Allow",
     "default/monitor", "default/web", 9090, "TCP", False),
    ("calico", "named destination ports resolve on the pod",
     "default/api", "default/db", 5432, "TCP", True),
    ("calico", "source selector limits the Allow",
     "default/monitor", "default/db", 5432, "TCP", False),
    ("cilium", "fromEndpoints picks pods of the policy's namespace",
     "default/report", "default/web", 80, "TCP", True),
    ("cilium", "toPorts limits the rule",
     "default/report", "default/web", 9090, "TCP", False),
    ("cilium", "an egress policy isolates its endpoints' egress",
     "default/client", "default/web", 80, "TCP", False),
    ("cilium", "k8s:io.kubernetes.pod.namespace selects another namespace",
     "prod/client", "default/web", 9090, "TCP", True),
    ("cilium", "ingressDeny takes precedence over allows",
     "prod/monitor", "default/web", 80, "TCP", False),
    ("cilium", "a selected endpoint is denied what no rule allows",
     "dev/client", "default/web", 80, "TCP", False),
    ("cilium", "ingress: [{}] turns on default deny and allows nothing",
     "default/report", "default/api", 8080, "TCP", False),
    ("cilium", "toEntities world admits addresses outside the cluster",
     "default/client", "203.0.113.7", 443, "TCP", True),
    ("cilium", "world does not include cluster endpoints",
     "default/client", "default/db", 5432, "TCP", False),
    ("cilium", "protocol ANY covers UDP",
     "default/client", "kube-system/coredns", 53, "UDP", True),
    ("admin", "ANP Allow at priority 10 admits DNS",
     "default/client", "kube-system/coredns", 53, "UDP", True),
    ("admin", "ANP Deny after it denies the rest, whatever NetworkPolicies say",
     "default/client", "kube-system/coredns", 53, "TCP", False),
    ("admin", "ANP Deny for a namespace label",
     "dev/client", "default/web", 80, "TCP", False),
    ("admin", "ANP Pass hands over to NetworkPolicy, which allows",
     "prod/client", "default/web", 80, "TCP", True),
    ("admin", "Pass to a pod no NetworkPolicy isolates falls to the baseline Deny",
     "prod/client", "default/db", 5432, "TCP", False),
    ("admin", "BaselineAdminNetworkPolicy denies pods that nothing else decides",
     "default/client", "default/db", 5432, "TCP", False),
    ("admin", "a namespaces peer never matches addresses outside the cluster",
     "203.0.113.7", "default/db", 5432, "TCP", True),
]
# fmt: on


@pytest.mark.parametrize(
    ("dialect", "rule", "src", "dst", "port", "protocol", "expected"),
    CASES,
    ids=[f"{c[0]}: {c[1]}" for c in CASES],
)
def test_dialect_case(dialect, rule, src, dst, port, protocol, expected):
    assert allowed(engine(dialect), src, dst, port, protocol) is expected, rule


@pytest.mark.parametrize(
    ("text", "labels", "expected"),
    [
        ("all()", {}, True),
        ("app == 'web'", {"app": "web"}, True),
        ("app != 'web'", {}, True),
        ("has(tier) && !has(role)", {"tier": "x"}, True),
        ("app in {'a', 'b'}", {"app": "b"}, True),
        ("app not in {'a', 'b'}", {"app": "b"}, False),
    ],
)
def test_calico_selector_expressions(text, labels, expected):
    assert parse_calico_selector(text).matches(labels) is expected


def test_untranslatable_calico_selectors_are_reported():
    assert parse_calico_selector("a == 'x' || b == 'y'") is None
    assert parse_calico_selector("starts_with(app, 'x')") is None


def test_calico_peers_by_service_account_are_not_taken_as_everyone():
    text = (
        (NETWORK / "world.yaml").read_text(encoding="utf-8")
        + """
---
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: web-from-sa, namespace: default}
spec:
  selector: app == 'web'
  ingress:
    - action: Allow
      source:
        serviceAccounts:
          names: [monitoring]
"""
    )
    net = NetworkEngine(load_text(text, "calico-sa.yaml"))
    assert allowed(net, "default/client", "default/web", 80) is False
    (policy,) = [p for p in net.policies if p.resource.name == "web-from-sa"]
    assert policy.notes == ["peers by serviceAccounts are not modelled"]
