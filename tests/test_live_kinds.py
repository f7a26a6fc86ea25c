"""What is read from a cluster, and under which names what could not be read is reported."""

from __future__ import annotations

import pytest

from zt_audit.sources.kinds import CATALOG, bare_names, evidence_key

CALICO_FORBIDDEN = (
    'missing RBAC permission: list "networkpolicies" in API group "crd.projectcalico.org"'
)


def test_the_catalogue_is_sorted_and_without_duplicates():
    assert list(CATALOG) == sorted(CATALOG)
    assert len({(e.group, e.resource) for e in CATALOG}) == len(CATALOG)


def test_only_secrets_are_read_as_metadata_only():
    assert [(e.group, e.resource) for e in CATALOG if e.metadata_only] == [("", "secrets")]


@pytest.mark.parametrize(
    ("group", "kind", "key"),
    [
        ("networking.k8s.io", "NetworkPolicy", "NetworkPolicy"),  # the built-in keeps the name
        ("crd.projectcalico.org", "NetworkPolicy", "NetworkPolicy.crd.projectcalico.org"),
        ("policy.linkerd.io", "AuthorizationPolicy", "AuthorizationPolicy.policy.linkerd.io"),
        ("security.istio.io", "PeerAuthentication", "PeerAuthentication"),  # unique name
        ("", "Secret", "Secret"),
    ],
)
def test_evidence_keys(group: str, kind: str, key: str):
    assert evidence_key(group, kind) == key


@pytest.mark.parametrize(
    ("not_collected", "missing", "expected_not_collected", "expected_missing"),
    [
        # A refused Calico list leaves NetworkPolicy evidence incomplete (Calico policies
        # with a lower order are evaluated before Kubernetes ones and may allow traffic).
        (
            {"NetworkPolicy.crd.projectcalico.org": CALICO_FORBIDDEN},
            set(),
            {
                "NetworkPolicy": f"{CALICO_FORBIDDEN} (crd.projectcalico.org)",
                "NetworkPolicy.crd.projectcalico.org": CALICO_FORBIDDEN,
            },
            set(),
        ),
        # Istio absent but Linkerd served: AuthorizationPolicy as such is not absent.
        (
            {},
            {"AuthorizationPolicy.security.istio.io"},
            {},
            {"AuthorizationPolicy.security.istio.io"},
        ),
        # Both meshes absent: no API serves AuthorizationPolicy at all.
        (
            {},
            {"AuthorizationPolicy.security.istio.io", "AuthorizationPolicy.policy.linkerd.io"},
            {},
            {
                "AuthorizationPolicy",
                "AuthorizationPolicy.policy.linkerd.io",
                "AuthorizationPolicy.security.istio.io",
            },
        ),
        # Calico absent: the built-in NetworkPolicy API is never absent.
        (
            {},
            {"NetworkPolicy.crd.projectcalico.org", "NetworkPolicy.projectcalico.org"},
            {},
            {"NetworkPolicy.crd.projectcalico.org", "NetworkPolicy.projectcalico.org"},
        ),
    ],
)
def test_bare_names_are_conservative(
    not_collected, missing, expected_not_collected, expected_missing
):
    assert bare_names(not_collected, missing) == (expected_not_collected, expected_missing)


def test_the_sources_stay_below_the_command_line():
    """Progress reaches the terminal through a callback: sources never import the CLI,
    rich, typer or jinja2, and only the cluster module imports the Kubernetes client."""
    import ast
    from pathlib import Path

    import zt_audit.sources

    banned = ("zt_audit.cli", "zt_audit.report", "zt_audit.rules", "rich", "typer", "jinja2")
    problems = []
    for path in sorted(Path(zt_audit.sources.__file__).parent.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                if name.startswith(banned) or (
                    name.startswith("kubernetes") and path.name != "cluster.py"
                ):
                    problems.append(f"{path.name} imports {name}")
    assert problems == []


def _served(group: str, kind: str) -> bool:
    return any(e.group == group and e.kind in (kind, "*") for e in CATALOG)


def test_every_kind_the_analyses_read_is_collected_from_a_cluster():
    """A kind a check reads but a live scan never lists would turn a pass into a fail."""
    from zt_audit.analysis.admission import gatekeeper, webhooks
    from zt_audit.analysis.netpol.policies import POLICY_KINDS
    from zt_audit.rules.runtime import ENFORCEMENT

    read = set(POLICY_KINDS)
    read |= {(group, kind) for kinds, group, *_ in ENFORCEMENT.values() for kind in kinds}
    read |= {(webhooks.GROUP, kind) for kind in webhooks.KINDS}
    read |= {(gatekeeper.GROUP, kind) for kind in gatekeeper.RESTRICTING + gatekeeper.VERIFYING}
    read.add(("config.gatekeeper.sh", "Config"))
    assert sorted(pair for pair in read if not _served(*pair)) == []
