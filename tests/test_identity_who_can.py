"""``who-can``: expectations derived from the Kubernetes RBAC documentation, case by case.

Each case cites the rule it exercises, under
https://kubernetes.io/docs/reference/access-authn-authz/rbac/ unless stated otherwise.
"""

from __future__ import annotations

import json

import pytest
from conftest import FIXTURES, run_cli

from zt_audit.analysis.rbac import RbacGraph
from zt_audit.cli.who_can import parse_request
from zt_audit.inventory import load_inventory

WHO_CAN = FIXTURES / "identity" / "rbac" / "who-can.yaml"

RESOURCES = "#referring-to-resources: subresources are named resource/subresource"
NAMES = "#referring-to-resources: resourceNames restricts by name; list/create carry none"
WILDCARD = "#referring-to-resources: * matches all verbs, resources or API groups"
SCALE = "#referring-to-resources: */scale matches the scale subresource of any resource"
GROUPS = "#role-examples: apiGroups must match the request's API group"
ROLEBINDING = "#rolebinding-and-clusterrolebinding: a RoleBinding to a ClusterRole is scoped"
CLUSTERWIDE = "#clusterrolebinding-example: a ClusterRoleBinding grants in every namespace"
CLUSTER_SCOPED = "#clusterrole-example: cluster-scoped resources need a ClusterRoleBinding"
NON_RESOURCE = "#role-examples: nonResourceURLs, a trailing * matches every subpath"
NON_RESOURCE_RB = "#clusterrole-example: non-resource URLs are granted cluster-wide only"
AGGREGATION = "#aggregated-clusterroles: aggregationRule selectors add matching rules"
DEFAULT_ROLES = "#user-facing-roles: edit/view exist in every cluster and aggregate"
SA_GROUPS = "#referring-to-subjects: system:serviceaccounts:NS holds the namespace's accounts"
SA_USER = "#referring-to-subjects: system:serviceaccount:NS:NAME is a ServiceAccount's name"
AUTHENTICATED = "#referring-to-subjects: system:authenticated holds every authenticated user"
NAMESPACE_OBJECT = (
    "authorization/#review-your-request-attributes: a namespace object is authorized within itself"
)
IMPERSONATE = "authentication/#user-impersonation: impersonate on users, groups, serviceaccounts"
VERBS = "#referring-to-resources: a verb in a rule matches only that verb"
CRD_SCOPE = "#clusterrole-example: a CRD with scope Cluster is cluster-scoped like nodes"

ADMINS = "Group/platform-admins"
SRE = "Group/sre@example.com"
ALICE = "User/alice@example.com"

CASES = [
    ("get", "secrets", "payments", None, [ADMINS, SRE, ALICE], ROLEBINDING),
    (
        "get",
        "secrets",
        "payments",
        "db-creds",
        [ADMINS, SRE, ALICE, "ServiceAccount/payments/api"],
        NAMES,
    ),
    ("get", "secrets", "payments", "other", [ADMINS, SRE, ALICE], NAMES),
    ("list", "secrets", "payments", None, [ADMINS, SRE, ALICE], NAMES),
    ("get", "secrets", "dev", None, [ADMINS, SRE], ROLEBINDING),
    ("get", "secrets", None, None, [ADMINS, SRE, ALICE, "Group/team-a-devs"], CLUSTERWIDE),
    ("delete", "secrets", "payments", None, [ADMINS], VERBS),
    (
        "create",
        "pods/exec",
        "payments",
        None,
        [ADMINS, "ServiceAccount/payments/debugger"],
        RESOURCES,
    ),
    ("create", "pods", "payments", None, [ADMINS], RESOURCES),
    (
        "get",
        "pods",
        "payments",
        None,
        [ADMINS, "ServiceAccount/monitoring/prometheus", "ServiceAccount/payments/debugger"],
        AGGREGATION,
    ),
    ("get", "pods/exec", "payments", None, [ADMINS], VERBS),
    ("create", "pods/exec", "dev", None, [ADMINS], RESOURCES),
    ("patch", "pods/status", "dev", None, [ADMINS], RESOURCES),
    ("delete", "pods", "dev", None, [ADMINS, "User/bob@example.com"], WILDCARD),
    ("update", "deployments.apps/scale", "dev", None, [ADMINS, "User/scaler-bot"], SCALE),
    ("update", "statefulsets.apps/scale", "dev", None, [ADMINS, "User/scaler-bot"], SCALE),
    ("update", "deployments/scale", "dev", None, [ADMINS, "User/scaler-bot"], SCALE),
    ("update", "deployments.extensions/scale", "dev", None, [ADMINS], GROUPS),
    ("create", "deployments", "dev", None, [ADMINS, "User/bob@example.com"], GROUPS),
    ("create", "deployments.extensions", "dev", None, [ADMINS], GROUPS),
    ("*", "*", None, None, [ADMINS], WILDCARD),
    ("escalate", "clusterroles", None, None, [ADMINS], WILDCARD),
    ("get", "/healthz", None, None, [ADMINS], NON_RESOURCE),
    (
        "get",
        "/metrics",
        None,
        None,
        [ADMINS, "ServiceAccount/monitoring/prometheus"],
        NON_RESOURCE_RB,
    ),
    (
        "get",
        "/logs/kube-apiserver.log",
        None,
        None,
        [ADMINS, "ServiceAccount/monitoring/prometheus"],
        NON_RESOURCE,
    ),
    ("get", "/logs", None, None, [ADMINS], NON_RESOURCE),
    ("post", "/metrics", None, None, [ADMINS], NON_RESOURCE),
    ("list", "nodes", None, None, [ADMINS, "Group/system:authenticated"], CLUSTER_SCOPED),
    ("list", "nodes", "payments", None, [ADMINS, "Group/system:authenticated"], CLUSTER_SCOPED),
    (
        "get",
        "namespaces",
        None,
        "payments",
        [ADMINS, "Group/system:authenticated", "User/erin@example.com"],
        NAMESPACE_OBJECT,
    ),
    ("get", "namespaces", None, "dev", [ADMINS, "Group/system:authenticated"], NAMESPACE_OBJECT),
    ("list", "namespaces", None, None, [ADMINS, "Group/system:authenticated"], CLUSTER_SCOPED),
    ("get", "nodes/proxy", None, None, [ADMINS, "User/frank@example.com"], CLUSTER_SCOPED),
    ("impersonate", "users", None, None, [ADMINS, "Group/support"], IMPERSONATE),
    ("impersonate", "serviceaccounts", "payments", None, [ADMINS], IMPERSONATE),
    (
        "impersonate",
        "serviceaccounts",
        "team-a",
        None,
        [ADMINS, "Group/team-a-devs"],
        DEFAULT_ROLES,
    ),
    ("create", "pods", "team-a", None, [ADMINS, "Group/team-a-devs"], DEFAULT_ROLES),
    ("get", "secrets", "team-a", None, [ADMINS, SRE, "Group/team-a-devs"], DEFAULT_ROLES),
    (
        "get",
        "configmaps",
        "team-a",
        None,
        [ADMINS, "Group/team-a-devs", "User/carol@example.com"],
        DEFAULT_ROLES,
    ),
    (
        "get",
        "pods",
        "team-a",
        None,
        [
            ADMINS,
            "Group/team-a-devs",
            "ServiceAccount/monitoring/prometheus",
            "User/carol@example.com",
        ],
        DEFAULT_ROLES,
    ),
    (
        "list",
        "certificates",
        "team-a",
        None,
        [ADMINS, "Group/team-a-devs", "User/carol@example.com"],
        AGGREGATION,
    ),
    ("list", "certificates.cert-manager.io", "dev", None, [ADMINS], AGGREGATION),
    (
        "create",
        "serviceaccounts/token",
        "team-a",
        None,
        [ADMINS, "Group/team-a-devs"],
        DEFAULT_ROLES,
    ),
    (
        "create",
        "pods",
        "ci",
        None,
        [ADMINS, "Group/system:serviceaccounts:ci", "ServiceAccount/ci/builder"],
        SA_GROUPS,
    ),
    (
        "delete",
        "pods",
        "ci",
        None,
        [ADMINS, "Group/system:serviceaccounts:ci", "ServiceAccount/ci/builder"],
        SA_USER,
    ),
    (
        "watch",
        "services",
        "monitoring",
        None,
        [ADMINS, "ServiceAccount/monitoring/prometheus"],
        AGGREGATION,
    ),
    ("update", "clusterissuers", None, None, [ADMINS, "User/issuer-admin@example.com"], CRD_SCOPE),
    (
        "update",
        "clusterissuers.cert-manager.io",
        "payments",
        None,
        [ADMINS, "User/issuer-admin@example.com"],
        CRD_SCOPE,
    ),
    (
        "get",
        "namespaces",
        "team-a",
        "team-a",
        [ADMINS, "Group/system:authenticated", "Group/team-a-devs", "User/carol@example.com"],
        NAMESPACE_OBJECT,
    ),
]


@pytest.fixture(scope="module")
def graph_and_inventory():
    inventory = load_inventory([str(WHO_CAN)])
    return RbacGraph(inventory), inventory


@pytest.mark.parametrize(
    ("verb", "resource", "namespace", "name", "expected", "rule"),
    CASES,
    ids=[f"{c[0]} {c[1]} -n {c[2]} {c[3] or ''}".strip() for c in CASES],
)
def test_who_can(graph_and_inventory, verb, resource, namespace, name, expected, rule):
    graph, inventory = graph_and_inventory
    request = parse_request(verb, resource, namespace, name, inventory)
    matches = graph.matches(request, any_namespace=namespace is None)
    assert sorted(str(m.grant.subject) for m in matches) == sorted(expected), rule


def test_at_least_forty_cases():
    assert len(CASES) >= 40


def test_binding_to_a_missing_role_is_reported_and_grants_nothing(graph_and_inventory):
    graph, _ = graph_and_inventory
    missing = [(str(m.binding.ref), m.role_kind, m.role_name) for m in graph.missing]
    assert missing == [("RoleBinding/payments/orphan", "Role", "deleted-role")]
    assert all("mallory" not in str(s) for s in graph.subjects)


def test_service_account_subject_without_namespace_in_a_cluster_binding_matches_nobody(
    graph_and_inventory,
):
    graph, _ = graph_and_inventory
    assert all(s.name != "ghost" for s in graph.subjects)


def test_cli_table_names_binding_and_role():
    result = run_cli("who-can", "get", "secrets", "-n", "payments", str(WHO_CAN))
    assert result.code == 0
    assert "RoleBinding/payments/alice-secrets" in result.stdout
    assert "ClusterRole/secret-reader" in result.stdout
    assert "User/alice@example.com" in result.stdout
    assert "RoleBinding/payments/orphan references Role 'deleted-role'" in result.stderr


def test_cli_json():
    result = run_cli("who-can", "create", "pods/exec", "-n", "payments", "-f", "json", str(WHO_CAN))
    assert result.code == 0
    document = json.loads(result.stdout)
    assert document["bindings_to_missing_roles"] == [
        "RoleBinding/payments/orphan -> Role/deleted-role"
    ]
    assert document["request"] == {
        "apiGroup": "",
        "name": None,
        "namespace": "payments",
        "nonResourceURL": None,
        "resource": "pods/exec",
        "verb": "create",
    }
    assert document["subjects"] == [
        {
            "binding": "ClusterRoleBinding/platform-admins",
            "role": "ClusterRole/platform-superuser",
            "rule": "verbs [*] on * (apiGroups *)",
            "scope": "cluster-wide",
            "subject": {"kind": "Group", "name": "platform-admins"},
        },
        {
            "binding": "RoleBinding/payments/debugger-exec",
            "role": "Role/payments/pod-exec",
            "rule": 'verbs [create] on pods/exec (apiGroups "")',
            "scope": "payments",
            "subject": {"kind": "ServiceAccount", "name": "debugger", "namespace": "payments"},
        },
    ]


def test_cli_without_input_is_a_usage_error():
    result = run_cli("who-can", "get", "pods")
    assert result.code == 2
    assert "no input" in result.stderr


def test_cli_help():
    # Help is printed by the command-line framework itself; it must render without error.
    result = run_cli("who-can", "--help")
    assert result.code == 0
    assert result.stderr == ""
