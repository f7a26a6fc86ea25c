"""``zt-audit reach`` on the microservices-demo NetworkPolicy variant.

Its policies state, service by service, who may call it and on which port; every other
connection between two of its workloads must be denied. The matrix below is read off
those policies by hand.
"""

from __future__ import annotations

import json

import pytest
from conftest import CORPORA, FIXTURES, run_cli

from zt_audit.analysis.netpol import NetworkEngine
from zt_audit.analysis.netpol.connectivity import connectivity_map
from zt_audit.inventory import load_inventory

DEMO = str(CORPORA / "microservices-demo" / "_derived" / "rendered-base+network-policies.yaml")

# destination: (its container port, the workloads its policy admits)
CALLERS = {
    "adservice": (9555, {"frontend"}),
    "cartservice": (7070, {"frontend", "checkoutservice"}),
    "checkoutservice": (5050, {"frontend"}),
    "currencyservice": (7000, {"frontend", "checkoutservice"}),
    "emailservice": (8080, {"checkoutservice"}),
    "frontend": (8080, "everyone"),  # ingress: [{}]
    "loadgenerator": (8089, set()),  # selected only by deny-all for ingress
    "paymentservice": (50051, {"checkoutservice"}),
    "productcatalogservice": (3550, {"frontend", "checkoutservice", "recommendationservice"}),
    "recommendationservice": (8080, {"frontend"}),
    "redis-cart": (6379, {"cartservice"}),
    "shippingservice": (50051, {"frontend", "checkoutservice"}),
}
PAIRS = [(src, dst) for src in sorted(CALLERS) for dst in sorted(CALLERS) if src != dst]


@pytest.fixture(scope="module")
def engine() -> NetworkEngine:
    return NetworkEngine(load_inventory([DEMO]))


def expected(src: str, dst: str) -> bool:
    callers = CALLERS[dst][1]
    return callers == "everyone" or src in callers


@pytest.mark.parametrize(("src", "dst"), PAIRS, ids=[f"{s}->{d}" for s, d in PAIRS])
def test_matrix_agrees_with_the_policies(engine, src, dst):
    endpoints = {e.workload.name: e for e in engine.endpoints}
    port = CALLERS[dst][0]
    connection = engine.connection(endpoints[src], endpoints[dst], "TCP", port)
    assert connection.allowed is expected(src, dst)
    assert connection.certain
    # Any other port of the destination stays closed, whoever calls.
    other = engine.connection(endpoints[src], endpoints[dst], "TCP", port + 1)
    assert other.allowed is (CALLERS[dst][1] == "everyone")


def test_allowed_connection_exits_0_and_names_the_rules():
    result = run_cli(
        "reach", DEMO, "--from", "default/frontend", "--to", "default/cartservice", "--port", "7070"
    )
    assert (result.code, result.stderr) == (0, "")
    assert result.stdout.splitlines() == [
        "ALLOWED: default/frontend (Deployment) -> default/cartservice (Deployment) on TCP/7070",
        "egress of default/frontend (Deployment) allows: allowed by the rules listed",
        "  isolated by: NetworkPolicy default/deny-all, NetworkPolicy default/frontend",
        "  allow: NetworkPolicy default/frontend spec.egress.0 (all ports)",
        "ingress of default/cartservice (Deployment) allows: allowed by the rules listed",
        "  isolated by: NetworkPolicy default/cartservice, NetworkPolicy default/deny-all",
        "  allow: NetworkPolicy default/cartservice spec.ingress.0 (TCP/7070)",
    ]


def test_denied_connection_exits_1_with_json_reasons():
    result = run_cli(
        "reach",
        DEMO,
        "--from",
        "default/frontend",
        "--to",
        "default/paymentservice",
        "--port",
        "50051",
        "-f",
        "json",
    )
    assert (result.code, result.stderr) == (1, "")
    document = json.loads(result.stdout)
    assert document["allowed"] is False
    assert document["egress"]["allowed"] is True
    assert document["ingress"] == {
        "allowed": False,
        "applies": True,
        "isolated_by": ["NetworkPolicy default/deny-all", "NetworkPolicy default/paymentservice"],
        "ports": [],  # nothing is open to frontend
        "reason": "isolated, and no rule allows this peer and port",
        "rules": [],
    }


def test_external_address_reaches_only_the_frontend():
    frontend = run_cli("reach", DEMO, "--from", "203.0.113.10", "--to", "default/frontend")
    cart = run_cli("reach", DEMO, "--from", "203.0.113.10", "--to", "default/cartservice")
    assert (frontend.code, cart.code) == (0, 1)


def test_usage_errors_exit_2():
    unknown = run_cli("reach", DEMO, "--from", "default/nope", "--to", "default/frontend")
    assert unknown.code == 2
    assert "default/nope: no workload or pod of that name" in unknown.stderr
    half = run_cli("reach", DEMO, "--from", "default/frontend")
    assert half.code == 2
    protocol = run_cli(
        "reach",
        DEMO,
        "--from",
        "default/frontend",
        "--to",
        "default/adservice",
        "--protocol",
        "ICMP",
    )
    assert protocol.code == 2


def test_connectivity_map_lists_exactly_the_allowed_pairs():
    result = run_cli("reach", DEMO, "-f", "json")
    assert (result.code, result.stderr) == (0, "")
    document = json.loads(result.stdout)
    between = {
        (c["from"]["workload"].split("/")[1], c["to"]["workload"].split("/")[1]): c["ports"]
        for c in document["connections"]
        if "workload" in c["from"] and "workload" in c["to"]
    }
    assert set(between) == {(s, d) for s, d in PAIRS if expected(s, d)}
    assert between[("frontend", "cartservice")] == [{"port": 7070, "protocol": "TCP"}]
    assert between[("loadgenerator", "frontend")] == "all"
    inbound = sorted(c["to"]["workload"] for c in document["connections"] if "address" in c["from"])
    assert inbound == ["default/frontend", "default/frontend"]  # IPv4 and IPv6
    assert document["truncated"] is False
    assert document["connections"] == sorted(
        document["connections"],
        key=lambda c: (
            c["from"].get("workload") or c["from"].get("address"),
            c["to"].get("workload") or c["to"].get("address"),
        ),
    )


def test_connectivity_map_cap_summarises_the_rest(engine):
    full = connectivity_map(engine)
    capped = connectivity_map(engine, limit=5)
    assert len(capped.connections) == 5
    assert capped.truncated and not full.truncated
    # Past the cap, connections are counted port-blind, so the total may only grow.
    assert capped.total >= full.total
    assert sum(capped.namespace_pairs.values()) >= sum(full.namespace_pairs.values())


SAME_NAMES = str(FIXTURES / "network" / "same-names.yaml")


def test_ambiguous_name_exits_2_and_kind_disambiguates():
    ambiguous = run_cli("reach", SAME_NAMES, "--from", "shop/api", "--to", "203.0.113.9")
    assert ambiguous.code == 2
    assert "ambiguous (Deployment/shop/api, StatefulSet/shop/api)" in ambiguous.stderr
    chosen = run_cli(
        "reach",
        SAME_NAMES,
        "--from",
        "203.0.113.9",
        "--to",
        "Deployment/shop/api",
        "--port",
        "8080",
    )
    assert chosen.code == 0


def test_a_pod_is_named_by_its_own_name_too():
    result = run_cli(
        "reach",
        SAME_NAMES,
        "--from",
        "203.0.113.9",
        "--to",
        "shop/api-7c9d5b8f4-x2kqp",
        "--port",
        "9090",
        "-f",
        "json",
    )
    assert result.code == 1
    assert json.loads(result.stdout)["to"] == {"kind": "Deployment", "workload": "shop/api"}
