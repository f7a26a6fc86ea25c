"""Every recipe of ahmetb/kubernetes-network-policy-recipes, as the recipe states it.

Each recipe's ``.md`` says which connections its policy blocks and which it lets
through; its YAML blocks are in the corpus's ``_derived/`` folder, and the pods it runs
with ``kubectl run`` are written out under ``fixtures/network/recipes/``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from conftest import CORPORA, FIXTURES

from zt_audit.analysis.netpol import NetworkEngine
from zt_audit.analysis.netpol.model import parse_address
from zt_audit.inventory import load_inventory
from zt_audit.inventory.loader import load_text

RECIPES = CORPORA / "network-policy-recipes"
DERIVED = RECIPES / "_derived"
PODS = FIXTURES / "network" / "recipes"
EXAMPLE_COM = "93.184.216.34"  # what www.example.com resolved to in the recipes


def engine_for(recipe: str, *policies: str) -> NetworkEngine:
    paths = [PODS / f"{recipe}.yaml", *(DERIVED / name for name in policies)]
    return NetworkEngine(load_inventory([str(p) for p in paths]))


def spliced(recipe: str, policy: str, fragment: str) -> NetworkEngine:
    """A recipe whose policy takes its ingress rules from a YAML fragment of the text."""
    document = yaml.safe_load((DERIVED / policy).read_text(encoding="utf-8"))
    rules = yaml.safe_load((DERIVED / fragment).read_text(encoding="utf-8"))
    document["spec"]["ingress"] = rules["ingress"]
    text = (PODS / f"{recipe}.yaml").read_text(encoding="utf-8")
    return NetworkEngine(load_text(text + "\n---\n" + yaml.safe_dump(document), recipe))


def verdict(engine: NetworkEngine, src: str, dst: str, port: int, protocol: str = "TCP"):
    def find(name: str):
        address = parse_address(name)
        if address is not None:
            return address
        (endpoint,) = [e for e in engine.endpoints if e.key == name]
        return endpoint

    return engine.connection(find(src), find(dst), protocol, port).allowed


ALLOWED, BLOCKED = True, False
R01, R02, R02A = (
    "01-deny-all-traffic-to-an-application",
    "02-limit-traffic-to-an-application",
    ("02a-allow-all-traffic-to-an-application"),
)
R03 = "03-deny-all-non-whitelisted-traffic-in-the-namespace"
R04, R05 = "04-deny-traffic-from-other-namespaces", "05-allow-traffic-from-all-namespaces"
R06 = "06-allow-traffic-from-a-namespace"
R07 = "07-allow-traffic-from-some-pods-in-another-namespace"
R08, R09 = "08-allow-external-traffic", "09-allow-traffic-only-to-a-port"
R10 = "10-allowing-traffic-with-multiple-selectors"
R11 = "11-deny-egress-traffic-from-an-application"
R12 = "12-deny-all-non-whitelisted-traffic-from-the-namespace"
R14 = "14-deny-external-egress-traffic"

# (recipe, policy files, source, destination, port, protocol, what the recipe says)
# fmt: off
CASES = [
    (R01, [f"{R01}.1.yaml"], "default/test-1", "default/web", 80, "TCP", BLOCKED),
    (R02, [f"{R02}.1.yaml"], "default/test-1", "default/apiserver", 80, "TCP", BLOCKED),
    (R02, [f"{R02}.1.yaml"], "default/test-2", "default/apiserver", 80, "TCP", ALLOWED),
    (R02A, [f"{R02A}.1.yaml", f"{R01}.1.yaml"], "default/test-1", "default/web", 80, "TCP",
     ALLOWED),
    (R03, [f"{R03}.1.yaml"], "default/test-1", "default/web", 80, "TCP", BLOCKED),
    (R04, [f"{R04}.1.yaml"], "foo/test-1", "default/web", 80, "TCP", BLOCKED),
    (R04, [f"{R04}.1.yaml"], "default/test-2", "default/web", 80, "TCP", ALLOWED),
    (R05, [f"{R05}.1.yaml"], "secondary/test-1", "default/web", 80, "TCP", ALLOWED),
    (R05, [f"{R05}.1.yaml"], "bar/test-2", "default/web", 80, "TCP", ALLOWED),
    (R06, [f"{R06}.1.yaml"], "dev/test-1", "default/web", 80, "TCP", BLOCKED),
    (R06, [f"{R06}.1.yaml"], "prod/test-2", "default/web", 80, "TCP", ALLOWED),
    (R07, [f"{R07}.1.yaml"], "default/test-1", "default/web", 80, "TCP", BLOCKED),
    (R07, [f"{R07}.1.yaml"], "default/test-2", "default/web", 80, "TCP", BLOCKED),
    (R07, [f"{R07}.1.yaml"], "other/test-3", "default/web", 80, "TCP", BLOCKED),
    (R07, [f"{R07}.1.yaml"], "other/test-4", "default/web", 80, "TCP", ALLOWED),
    (R08, [f"{R08}.1.yaml"], "198.51.100.20", "default/web", 80, "TCP", ALLOWED),
    (R09, [f"{R09}.1.yaml"], "default/test-1", "default/apiserver", 8000, "TCP", BLOCKED),
    (R09, [f"{R09}.1.yaml"], "default/test-1", "default/apiserver", 5000, "TCP", BLOCKED),
    (R09, [f"{R09}.1.yaml"], "default/test-2", "default/apiserver", 8000, "TCP", BLOCKED),
    (R09, [f"{R09}.1.yaml"], "default/test-2", "default/apiserver", 5000, "TCP", ALLOWED),
    (R10, [f"{R10}.1.yaml"], "default/test-1", "default/db", 6379, "TCP", ALLOWED),
    (R10, [f"{R10}.1.yaml"], "default/search", "default/db", 6379, "TCP", ALLOWED),
    (R10, [f"{R10}.1.yaml"], "default/api", "default/db", 6379, "TCP", ALLOWED),
    (R10, [f"{R10}.1.yaml"], "default/test-2", "default/db", 6379, "TCP", BLOCKED),
    # Without the DNS rule the name does not even resolve ("bad address").
    (R11, [f"{R11}.1.yaml"], "default/test", "kube-system/coredns", 53, "UDP", BLOCKED),
    (R11, [f"{R11}.1.yaml"], "default/test", "default/web", 80, "TCP", BLOCKED),
    (R11, [f"{R11}.1.yaml"], "default/test", EXAMPLE_COM, 80, "TCP", BLOCKED),
    (R11, [f"{R11}.2.yaml"], "default/test", "kube-system/coredns", 53, "UDP", ALLOWED),
    (R11, [f"{R11}.2.yaml"], "default/test", "kube-system/coredns", 53, "TCP", ALLOWED),
    (R11, [f"{R11}.2.yaml"], "default/test", "default/web", 80, "TCP", BLOCKED),
    (R11, [f"{R11}.2.yaml"], "default/test", EXAMPLE_COM, 80, "TCP", BLOCKED),
    (R12, [f"{R12}.1.yaml"], "default/test-1", "kube-system/coredns", 53, "UDP", BLOCKED),
    (R12, [f"{R12}.1.yaml"], "default/web", "default/test-1", 80, "TCP", BLOCKED),
    (R14, [f"{R14}.1.yaml"], "default/test", "kube-system/coredns", 53, "UDP", ALLOWED),
    (R14, [f"{R14}.1.yaml"], "default/test", EXAMPLE_COM, 80, "TCP", BLOCKED),
]
# fmt: on


@pytest.mark.parametrize(
    ("recipe", "policies", "src", "dst", "port", "protocol", "expected"),
    CASES,
    ids=[f"{c[0][:3]}-{c[2]}->{c[3]}:{c[4]}/{c[5]}" for c in CASES],
)
def test_recipe(recipe, policies, src, dst, port, protocol, expected):
    assert verdict(engine_for(recipe, *policies), src, dst, port, protocol) is expected


def test_recipe_08_port_restricted_variant():
    # "To restrict external access only to port 80, you can deploy an ingress rule such as"
    engine = spliced(R08, f"{R08}.1.yaml", f"{R08}.2.yaml")
    assert verdict(engine, "198.51.100.20", "default/web", 80) is ALLOWED
    assert verdict(engine, "198.51.100.20", "default/web", 443) is BLOCKED


def test_recipe_09_named_port_variant():
    # The recipe's named-port form: `port: api-port`, the container port named api-port.
    engine = spliced(R09, f"{R09}.1.yaml", f"{R09}.2.yaml")
    assert verdict(engine, "default/test-2", "default/apiserver", 5000) is ALLOWED
    assert verdict(engine, "default/test-2", "default/apiserver", 8000) is BLOCKED
    # The fragment has no `from`, so every source may use that one port.
    assert verdict(engine, "default/test-1", "default/apiserver", 5000) is ALLOWED


def test_recipe_14_in_cluster_claim_follows_the_policy_not_the_prose():
    # The recipe's prose says app=foo still reaches the web Service, but its policy's only
    # egress rule names kube-dns pods on port 53; by the NetworkPolicy rules ("traffic
    # must match both ports and to") web:80 is denied. The engine follows the rules.
    engine = engine_for(R14, f"{R14}.1.yaml")
    assert verdict(engine, "default/test", "default/web", 80) is BLOCKED


def test_every_recipe_is_encoded():
    recipes = {p.stem for p in RECIPES.glob("[0-9]*.md")} - {"00-create-cluster"}
    encoded = {case[0] for case in CASES}
    assert recipes == encoded
    fixtures = {p.stem for p in Path(PODS).glob("*.yaml")}
    assert recipes == fixtures
