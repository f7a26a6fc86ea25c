"""The NetworkPolicy engine, case by case, against the rules of the Kubernetes docs.

Each case adds policies to the cluster in ``fixtures/network/world.yaml`` and asks one
question: may SRC open a connection to DST (on PORT/PROTOCOL)? The first field cites the
rule of https://kubernetes.io/docs/concepts/services-networking/network-policies/ (``#``
anchors) or of the NetworkPolicy API reference (``api:``) that the case exercises.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from conftest import FIXTURES

from zt_audit.analysis.netpol import NetworkEngine
from zt_audit.analysis.netpol.model import parse_address
from zt_audit.inventory.loader import load_text

WORLD = (FIXTURES / "network" / "world.yaml").read_text(encoding="utf-8")


def netpol(name: str, spec: dict[str, Any], namespace: str = "default") -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }


def engine_with(*policies: dict[str, Any]) -> NetworkEngine:
    text = WORLD + "".join("\n---\n" + yaml.safe_dump(p) for p in policies)
    return NetworkEngine(load_text(text, "world.yaml"))


def target(engine: NetworkEngine, name: str):
    address = parse_address(name)
    if address is not None:
        return address
    namespace, _, workload = name.partition("/")
    (found,) = [e for e in engine.endpoints if e.key == f"{namespace}/{workload}"]
    return found


def allowed(engine: NetworkEngine, src: str, dst: str, port=None, protocol=None):
    connection = engine.connection(
        target(engine, src),
        target(engine, dst),
        protocol or ("TCP" if port else None),
        port,
    )
    return connection.allowed, connection.certain


WEB = {"matchLabels": {"app": "web"}}
DENY_ALL_INGRESS = netpol("default-deny", {"podSelector": {}, "policyTypes": ["Ingress"]})
DENY_ALL_EGRESS = netpol("deny-egress", {"podSelector": {}, "policyTypes": ["Egress"]})


def web_from(*peers: dict[str, Any], ports: list | None = None) -> dict[str, Any]:
    rule: dict[str, Any] = {"from": list(peers)}
    if ports is not None:
        rule["ports"] = ports
    return netpol("web-allow", {"podSelector": WEB, "ingress": [rule]})


def web_ports(*ports: dict[str, Any]) -> dict[str, Any]:
    return netpol("web-ports", {"podSelector": WEB, "ingress": [{"ports": list(ports)}]})


def client_egress(*rules: dict[str, Any]) -> dict[str, Any]:
    spec = {"podSelector": {"matchLabels": {"app": "client"}}, "policyTypes": ["Egress"]}
    return netpol("client-egress", {**spec, "egress": list(rules)})


POD = {"podSelector": {"matchLabels": {"app": "client"}}}
PROD = {"namespaceSelector": {"matchLabels": {"purpose": "production"}}}

# (rule cited, policies, source, destination, port, protocol, allowed)
# fmt: off
CASES = [
    # Isolation
    ("#the-two-sorts-of-pod-isolation: a pod no policy selects accepts everything",
     [], "default/client", "default/web", 80, None, True),
    ("#the-two-sorts-of-pod-isolation: non-isolated pods accept external peers",
     [], "203.0.113.7", "default/web", 80, None, True),
    ("#default-deny-all-ingress-traffic: podSelector {} with Ingress and no rules denies",
     [DENY_ALL_INGRESS], "default/client", "default/web", 80, None, False),
    ("#default-deny-all-ingress-traffic: the deny covers other namespaces' peers too",
     [DENY_ALL_INGRESS], "prod/client", "default/web", None, None, False),
    ("#default-deny-all-ingress-traffic: it does not change egress isolation",
     [DENY_ALL_INGRESS], "default/web", "prod/client", 80, None, True),
    ("#default-deny-all-egress-traffic: podSelector {} with Egress and no rules denies",
     [DENY_ALL_EGRESS], "default/client", "prod/client", 80, None, False),
    ("#default-deny-all-egress-traffic: external destinations are denied too",
     [DENY_ALL_EGRESS], "default/client", "203.0.113.7", 443, None, False),
    ("#default-deny-all-egress-traffic: it does not isolate ingress",
     [DENY_ALL_EGRESS], "prod/client", "default/web", 80, None, True),
    ("#the-two-sorts-of-pod-isolation: a connection needs the source's egress too",
     [client_egress()], "default/client", "default/web", 80, None, False),
    ("#the-two-sorts-of-pod-isolation: and the destination's ingress",
     [client_egress({"to": [{"podSelector": WEB}]}), DENY_ALL_INGRESS],
     "default/client", "default/web", 80, None, False),
    ("#the-two-sorts-of-pod-isolation: both sides allowing lets the connection through",
     [client_egress({"to": [{"podSelector": WEB}]}), DENY_ALL_INGRESS, web_from(POD)],
     "default/client", "default/web", 80, None, True),
    ("#the-two-sorts-of-pod-isolation: policies are additive (union of allows)",
     [DENY_ALL_INGRESS, web_from(POD),
      netpol("web-monitor", {"podSelector": WEB,
                             "ingress": [{"from": [{"podSelector": {"matchLabels": {
                                 "role": "monitoring"}}}]}]})],
     "default/monitor", "default/web", 80, None, True),
    ("#the-two-sorts-of-pod-isolation: a deny-all policy cannot take back another's allow",
     [web_from(POD), netpol("web-deny", {"podSelector": WEB, "ingress": []})],
     "default/client", "default/web", 80, None, True),
    ("#the-two-sorts-of-pod-isolation: a policy selecting other pods does not isolate this one",
     [netpol("api-only", {"podSelector": {"matchLabels": {"app": "api"}}, "ingress": []})],
     "default/client", "default/web", 80, None, True),
    # policyTypes defaulting
    ("api:policyTypes: absent, Ingress is always set",
     [netpol("p", {"podSelector": WEB})], "default/client", "default/web", 80, None, False),
    ("api:policyTypes: absent, Egress is set only when egress rules exist",
     [netpol("p", {"podSelector": {"matchLabels": {"app": "client"}},
                   "egress": [{"to": [{"podSelector": WEB}]}]})],
     "default/client", "default/db", 5432, None, False),
    ("api:policyTypes: absent, egress rules allow what they name",
     [netpol("p", {"podSelector": {"matchLabels": {"app": "client"}},
                   "egress": [{"to": [{"podSelector": WEB}]}]})],
     "default/client", "default/web", 80, None, True),
    ("api:policyTypes: absent with only ingress rules, egress stays open",
     [netpol("p", {"podSelector": {"matchLabels": {"app": "client"}},
                   "ingress": [{"from": [{"podSelector": WEB}]}]})],
     "default/client", "default/db", 5432, None, True),
    ("api:policyTypes: absent with an empty egress list, egress is not isolated",
     [netpol("p", {"podSelector": {"matchLabels": {"app": "client"}}, "egress": []})],
     "default/client", "default/db", 5432, None, True),
    ("api:policyTypes: [Egress] alone does not isolate ingress despite ingress rules",
     [netpol("p", {"podSelector": WEB, "policyTypes": ["Egress"],
                   "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "x"}}}]}]})],
     "default/client", "default/web", 80, None, True),
    ("api:policyTypes: [Egress] ignores ingress rules, so they allow nothing either",
     [DENY_ALL_INGRESS,
      netpol("p", {"podSelector": WEB, "policyTypes": ["Egress"],
                   "ingress": [{"from": [POD]}]})],
     "default/client", "default/web", 80, None, False),
    # Empty versus absent
    ("#allow-all-ingress-traffic: ingress: [{}] allows every source",
     [DENY_ALL_INGRESS, netpol("all", {"podSelector": WEB, "ingress": [{}]})],
     "dev/client", "default/web", 80, None, True),
    ("#allow-all-ingress-traffic: including addresses outside the cluster",
     [DENY_ALL_INGRESS, netpol("all", {"podSelector": WEB, "ingress": [{}]})],
     "198.51.100.9", "default/web", 9090, None, True),
    ("api:NetworkPolicyIngressRule.from: an empty list matches all sources",
     [netpol("p", {"podSelector": WEB, "ingress": [{"from": []}]})],
     "dev/client", "default/web", 80, None, True),
    ("api:NetworkPolicyIngressRule.ports: absent matches all ports",
     [web_from(POD)], "default/client", "default/web", 9090, None, True),
    ("api:NetworkPolicyIngressRule: ports without from admit every source on those ports",
     [web_ports({"port": 80})], "dev/client", "default/web", 80, None, True),
    ("api:NetworkPolicyIngressRule: and no other port",
     [web_ports({"port": 80})], "dev/client", "default/web", 9090, None, False),
    ("#allow-all-egress-traffic: egress: [{}] allows every destination",
     [DENY_ALL_EGRESS, netpol("all", {"podSelector": {}, "egress": [{}],
                                     "policyTypes": ["Egress"]})],
     "default/client", "203.0.113.7", 443, None, True),
    # Peers
    ("#behavior-of-to-and-from-selectors: podSelector picks pods of the policy's namespace",
     [web_from(POD)], "default/client", "default/web", 80, None, True),
    ("#behavior-of-to-and-from-selectors: podSelector alone never reaches other namespaces",
     [web_from(POD)], "prod/client", "default/web", 80, None, False),
    ("#behavior-of-to-and-from-selectors: namespaceSelector picks every pod there",
     [web_from(PROD)], "prod/monitor", "default/web", 80, None, True),
    ("#behavior-of-to-and-from-selectors: and none of a namespace it does not match",
     [web_from(PROD)], "dev/client", "default/web", 80, None, False),
    ("#behavior-of-to-and-from-selectors: namespaceSelector {} picks every namespace",
     [web_from({"namespaceSelector": {}})], "dev/client", "default/web", 80, None, True),
    ("#behavior-of-to-and-from-selectors: but no address outside the cluster",
     [web_from({"namespaceSelector": {}})], "203.0.113.7", "default/web", 80, None, False),
    ("#behavior-of-to-and-from-selectors: both selectors in one peer are ANDed",
     [web_from({"namespaceSelector": {"matchLabels": {"team": "operations"}},
                "podSelector": {"matchLabels": {"type": "monitoring"}}})],
     "prod/monitor", "default/web", 80, None, True),
    ("#behavior-of-to-and-from-selectors: AND excludes other pods of that namespace",
     [web_from({"namespaceSelector": {"matchLabels": {"team": "operations"}},
                "podSelector": {"matchLabels": {"type": "monitoring"}}})],
     "prod/client", "default/web", 80, None, False),
    ("#behavior-of-to-and-from-selectors: AND excludes matching pods of other namespaces",
     [web_from({"namespaceSelector": {"matchLabels": {"team": "operations"}},
                "podSelector": {"matchLabels": {"type": "monitoring"}}})],
     "default/monitor", "default/web", 80, None, False),
    ("#behavior-of-to-and-from-selectors: separate peers are ORed (namespace side)",
     [web_from({"namespaceSelector": {"matchLabels": {"team": "operations"}}},
               {"podSelector": {"matchLabels": {"type": "monitoring"}}})],
     "prod/client", "default/web", 80, None, True),
    ("#behavior-of-to-and-from-selectors: separate peers are ORed (pod side)",
     [web_from({"namespaceSelector": {"matchLabels": {"team": "operations"}}},
               {"podSelector": {"matchLabels": {"type": "monitoring"}}})],
     "default/monitor", "default/web", 80, None, True),
    ("#targeting-a-namespace-by-its-name: kubernetes.io/metadata.name is always set",
     [web_from({"namespaceSelector": {"matchLabels": {
         "kubernetes.io/metadata.name": "kube-system"}}})],
     "kube-system/coredns", "default/web", 80, None, True),
    ("#targeting-a-namespace-by-its-name: and is known without a Namespace object",
     [web_from({"namespaceSelector": {"matchLabels": {
         "kubernetes.io/metadata.name": "ghost"}}})],
     "ghost/client", "default/web", 80, None, True),
    ("#targeting-a-namespace-by-its-name: another name does not match",
     [web_from({"namespaceSelector": {"matchLabels": {
         "kubernetes.io/metadata.name": "prod"}}})],
     "dev/client", "default/web", 80, None, False),
    # Label selector operators
    ("api:LabelSelectorRequirement: In matches any listed value",
     [web_from({"podSelector": {"matchExpressions": [
         {"key": "app", "operator": "In", "values": ["client", "api"]}]}})],
     "default/client", "default/web", 80, None, True),
    ("api:LabelSelectorRequirement: In does not match a pod without the key",
     [web_from({"podSelector": {"matchExpressions": [
         {"key": "app", "operator": "In", "values": ["client"]}]}})],
     "default/monitor", "default/web", 80, None, False),
    ("api:LabelSelectorRequirement: NotIn matches a pod without the key",
     [web_from({"podSelector": {"matchExpressions": [
         {"key": "app", "operator": "NotIn", "values": ["client"]}]}})],
     "default/monitor", "default/web", 80, None, True),
    ("api:LabelSelectorRequirement: NotIn excludes the listed values",
     [web_from({"podSelector": {"matchExpressions": [
         {"key": "app", "operator": "NotIn", "values": ["client"]}]}})],
     "default/client", "default/web", 80, None, False),
    ("api:LabelSelectorRequirement: Exists needs the key, whatever its value",
     [web_from({"podSelector": {"matchExpressions": [
         {"key": "role", "operator": "Exists"}]}})],
     "default/monitor", "default/web", 80, None, True),
    ("api:LabelSelectorRequirement: Exists fails without the key",
     [web_from({"podSelector": {"matchExpressions": [
         {"key": "role", "operator": "Exists"}]}})],
     "default/client", "default/web", 80, None, False),
    ("api:LabelSelectorRequirement: DoesNotExist matches pods without the key",
     [web_from({"podSelector": {"matchExpressions": [
         {"key": "role", "operator": "DoesNotExist"}]}})],
     "default/client", "default/web", 80, None, True),
    ("api:LabelSelectorRequirement: DoesNotExist excludes pods with the key",
     [web_from({"podSelector": {"matchExpressions": [
         {"key": "role", "operator": "DoesNotExist"}]}})],
     "default/monitor", "default/web", 80, None, False),
    ("api:LabelSelector: matchLabels and matchExpressions are ANDed",
     [web_from({"podSelector": {"matchLabels": {"type": "monitoring"}, "matchExpressions": [
         {"key": "role", "operator": "NotIn", "values": ["monitoring"]}]}})],
     "default/monitor", "default/web", 80, None, False),
    ("api:LabelSelector: namespaceSelector expressions work on namespace labels",
     [web_from({"namespaceSelector": {"matchExpressions": [
         {"key": "purpose", "operator": "In", "values": ["production", "testing"]}]}})],
     "dev/client", "default/web", 80, None, True),
    ("api:LabelSelectorRequirement: an invalid operator selects nothing (rejected by the API)",
     [web_from({"podSelector": {"matchExpressions": [
         {"key": "app", "operator": "Equals", "values": ["client"]}]}})],
     "default/client", "default/web", 80, None, False),
    ("api:LabelSelectorRequirement: In without values selects nothing",
     [web_from({"podSelector": {"matchExpressions": [
         {"key": "app", "operator": "In", "values": []}]}})],
     "default/client", "default/web", 80, None, False),
    ("#networkpolicy-resource: the policy's own podSelector uses the same operators",
     [netpol("p", {"podSelector": {"matchExpressions": [
         {"key": "tier", "operator": "In", "values": ["frontend"]}]}, "ingress": []})],
     "default/client", "default/web", 80, None, False),
    # ipBlock
    ("api:IPBlock: a CIDR admits external addresses inside it",
     [web_from({"ipBlock": {"cidr": "203.0.113.0/24"}})],
     "203.0.113.7", "default/web", 80, None, True),
    ("api:IPBlock: and no address outside it",
     [web_from({"ipBlock": {"cidr": "203.0.113.0/24"}})],
     "198.51.100.9", "default/web", 80, None, False),
    ("api:IPBlock: except carves addresses out of the CIDR",
     [web_from({"ipBlock": {"cidr": "203.0.113.0/24", "except": ["203.0.113.0/28"]}})],
     "203.0.113.7", "default/web", 80, None, False),
    ("api:IPBlock: addresses outside the except stay allowed",
     [web_from({"ipBlock": {"cidr": "203.0.113.0/24", "except": ["203.0.113.0/28"]}})],
     "203.0.113.100", "default/web", 80, None, True),
    ("api:IPBlock: IPv6 blocks hold IPv6 addresses",
     [web_from({"ipBlock": {"cidr": "2001:db8::/32"}})],
     "2001:db8::15", "default/web", 80, None, True),
    ("api:IPBlock: an IPv4 block never holds an IPv6 address",
     [web_from({"ipBlock": {"cidr": "0.0.0.0/0"}})],
     "2001:db8::15", "default/web", 80, None, False),
    ("api:IPBlock: a public block does not cover pods, whose addresses are private",
     [web_from({"ipBlock": {"cidr": "203.0.113.0/24"}})],
     "default/client", "default/web", 80, None, False),
    ("api:IPBlock: egress to a block with the metadata address excepted",
     [client_egress({"to": [{"ipBlock": {"cidr": "0.0.0.0/0",
                                         "except": ["169.254.169.254/32"]}}]})],
     "default/client", "169.254.169.254", 80, None, False),
    ("api:IPBlock: egress to 0.0.0.0/0 reaches the metadata address",
     [client_egress({"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}]})],
     "default/client", "169.254.169.254", 80, None, True),
    # Ports
    ("api:NetworkPolicyPort: a numeric port admits only that port",
     [web_from(POD, ports=[{"port": 80}])], "default/client", "default/web", 9090, None, False),
    ("api:NetworkPolicyPort: protocol defaults to TCP",
     [web_from(POD, ports=[{"port": 80}])], "default/client", "default/web", 80, "UDP", False),
    ("api:NetworkPolicyPort: an explicit UDP port admits UDP",
     [web_from(POD, ports=[{"port": 53, "protocol": "UDP"}])],
     "default/client", "default/web", 53, "UDP", True),
    ("api:NetworkPolicyPort: SCTP is a protocol of its own",
     [netpol("p", {"podSelector": {"matchLabels": {"app": "api"}},
                   "ingress": [{"ports": [{"port": "sctp-feed", "protocol": "SCTP"}]}]})],
     "default/client", "default/api", 9899, "SCTP", True),
    ("api:NetworkPolicyPort: a port without a number admits every port of the protocol",
     [web_from(POD, ports=[{"protocol": "UDP"}])],
     "default/client", "default/web", 5000, "UDP", True),
    ("#targeting-a-range-of-ports: endPort admits the whole range",
     [web_from(POD, ports=[{"port": 8000, "endPort": 8100}])],
     "default/client", "default/web", 8100, None, True),
    ("#targeting-a-range-of-ports: and nothing past it",
     [web_from(POD, ports=[{"port": 8000, "endPort": 8100}])],
     "default/client", "default/web", 8101, None, False),
    ("#targeting-a-range-of-ports: endPort below port is invalid and admits nothing",
     [web_from(POD, ports=[{"port": 8100, "endPort": 8000}])],
     "default/client", "default/web", 8050, None, False),
    ("api:NetworkPolicyPort: a named port resolves on the destination pod",
     [web_from(POD, ports=[{"port": "metrics"}])],
     "default/client", "default/web", 9090, None, True),
    ("api:NetworkPolicyPort: a named port admits only its number",
     [web_from(POD, ports=[{"port": "metrics"}])],
     "default/client", "default/web", 80, None, False),
    ("api:NetworkPolicyPort: a name the destination lacks admits nothing",
     [netpol("p", {"podSelector": {}, "ingress": [{"ports": [{"port": "api-port"}]}]})],
     "default/client", "default/web", 8080, None, False),
    ("api:NetworkPolicyPort: the same name admits on the pod that has it",
     [netpol("p", {"podSelector": {}, "ingress": [{"ports": [{"port": "api-port"}]}]})],
     "default/client", "default/api", 8080, None, True),
    ("api:NetworkPolicyPort: a named port must match the container port's protocol",
     [netpol("p", {"podSelector": {},
                   "ingress": [{"ports": [{"port": "dns", "protocol": "TCP"}]}]},
             namespace="kube-system")],
     "default/client", "kube-system/coredns", 53, "TCP", False),
    ("api:NetworkPolicyPort: named ports in egress rules resolve on the destination",
     [client_egress({"to": [{"podSelector": {}}], "ports": [{"port": "postgres"}]})],
     "default/client", "default/db", 5432, None, True),
    ("api:NetworkPolicyPort: and admit nothing on a destination without that name",
     [client_egress({"to": [{"podSelector": {}}], "ports": [{"port": "postgres"}]})],
     "default/client", "default/web", 5432, None, False),
    ("#allow-egress-dns: DNS to kube-dns by namespace name and pod label, UDP",
     [client_egress({"to": [{"namespaceSelector": {"matchLabels": {
         "kubernetes.io/metadata.name": "kube-system"}},
         "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
         "ports": [{"port": 53, "protocol": "UDP"}]})],
     "default/client", "kube-system/coredns", 53, "UDP", True),
    # Workloads through their pod templates
    ("#networkpolicy-resource: a StatefulSet's pods are selected through its template",
     [netpol("p", {"podSelector": {"matchLabels": {"app": "db"}}, "ingress": []})],
     "default/api", "default/db", 5432, None, False),
    ("#networkpolicy-resource: a CronJob's pods are peers through its job template",
     [web_from({"podSelector": {"matchLabels": {"app": "report"}}})],
     "default/report", "default/web", 80, None, True),
    # hostNetwork
    ("#networkpolicy-and-hostnetwork-pods: policies do not isolate hostNetwork pods",
     [DENY_ALL_INGRESS], "default/client", "default/hostnet", 9100, None, True),
    ("#networkpolicy-and-hostnetwork-pods: a hostNetwork source is not a certain pod peer",
     [DENY_ALL_INGRESS, web_from({"podSelector": {"matchLabels": {"app": "hostnet"}}})],
     "default/hostnet", "default/web", 80, None, True),
]


@pytest.mark.parametrize(
    ("rule", "policies", "src", "dst", "port", "protocol", "expected"),
    CASES,
    ids=[case[0] for case in CASES],
)
def test_engine_case(rule, policies, src, dst, port, protocol, expected):
    verdict, _ = allowed(engine_with(*policies), src, dst, port, protocol)
    assert verdict is expected, rule


def test_enough_documented_cases():
    assert len(CASES) >= 60


def test_hostnetwork_source_is_uncertain():
    # Whether a plugin sees a hostNetwork pod's traffic as the pod's or the node's is
    # left open by the docs, so the answer is allowed but not certain.
    engine = engine_with(
        DENY_ALL_INGRESS, web_from({"podSelector": {"matchLabels": {"app": "hostnet"}}})
    )
    assert allowed(engine, "default/hostnet", "default/web", 80) == (True, False)


def test_unknown_namespace_labels_are_uncertain():
    # ghost has no Namespace object: a selector on another label may or may not match it.
    engine = engine_with(DENY_ALL_INGRESS, web_from(PROD))
    assert allowed(engine, "ghost/client", "default/web", 80) == (True, False)
    assert allowed(engine, "dev/client", "default/web", 80) == (False, True)


def test_private_ip_block_may_cover_pods():
    engine = engine_with(DENY_ALL_INGRESS, web_from({"ipBlock": {"cidr": "10.0.0.0/8"}}))
    assert allowed(engine, "default/client", "default/web", 80) == (True, False)


def test_explanation_names_isolating_policies_and_rules():
    engine = engine_with(DENY_ALL_INGRESS, web_from(POD, ports=[{"port": "http"}]))
    connection = engine.connection(
        target(engine, "default/client"), target(engine, "default/web"), "TCP", 80
    )
    assert [p.name for p in connection.ingress.isolated_by] == [
        "NetworkPolicy default/default-deny",
        "NetworkPolicy default/web-allow",
    ]
    assert [s.describe() for s in connection.ingress.steps_for("TCP", 80)] == [
        "NetworkPolicy default/web-allow spec.ingress.0 allows TCP/80"
    ]
    assert connection.egress.isolated_by == []


def test_malformed_policies_do_not_crash_and_allow_nothing():
    broken = [
        netpol("a", {"podSelector": WEB, "ingress": "everything"}),
        netpol("b", {"podSelector": WEB, "ingress": [{"from": "x", "ports": 7}]}),
        netpol("c", {"podSelector": WEB, "ingress": [{"from": [{"ipBlock": {"cidr": "x"}}]}]}),
        netpol("d", {"podSelector": WEB, "ingress": [None, 3],
                     "policyTypes": "Ingress"}),
        {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
         "metadata": {"name": "e"}, "spec": "nope"},
    ]
    engine = engine_with(*broken)
    assert allowed(engine, "default/client", "default/web", 80) == (False, True)
    # A spec that is not a mapping never reaches a cluster: it isolates nothing.
    engine = engine_with(broken[-1])
    assert allowed(engine, "default/client", "default/web", 80) == (True, True)


@pytest.mark.parametrize(
    "policies",
    [
        [],
        [DENY_ALL_INGRESS, web_from(POD, ports=[{"port": "http"}])],
        [DENY_ALL_INGRESS, DENY_ALL_EGRESS, client_egress({"to": [{"podSelector": WEB}]})],
        [web_from(PROD), client_egress({"to": [{"namespaceSelector": {}}]})],
        [netpol("p", {"podSelector": {}, "ingress": [{"from": [{"podSelector": {}}]}]})],
    ],
    ids=["open", "named-port", "both-directions", "namespaces", "same-namespace"],
)
def test_whole_cluster_view_covers_every_exact_answer(policies):
    # The bitset view is port-blind, so it may only overstate: every pair the exact
    # evaluation allows on some port must be in it, and rules without ports agree fully.
    engine = engine_with(*policies)
    has_ports = any(
        rule.ports is not None for p in engine.policies for d in ("ingress", "egress")
        for rule in p.rules_for(d)
    )
    for source in engine.endpoints:
        for destination in engine.endpoints:
            if source is destination:
                continue
            exact = engine.connection(source, destination).allowed
            bulk = bool(engine.reachers[destination.index] >> source.index & 1)
            assert bulk is exact or (bulk and not exact and has_ports), (
                source.key, destination.key
            )
            assert bool(engine.reachable[source.index] >> destination.index & 1) is bulk
