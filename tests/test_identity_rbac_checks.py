"""IAM-01 to IAM-05 on RBAC fixtures: exact findings, and the escalation chains' steps."""

from __future__ import annotations

import json

import pytest
from conftest import CORPORA
from identity_support import IDENTITY, run, summary

from zt_audit.engine.model import Severity, Status

ESCALATION = IDENTITY / "rbac" / "escalation.yaml"
CLEAN = IDENTITY / "rbac" / "least-privilege.yaml"
BROAD = IDENTITY / "rbac" / "broad-groups.yaml"


def _triples(result):
    return [(status, obj, field) for status, obj, field, _ in summary(result)]


@pytest.mark.parametrize("check_id", ["IAM-01", "IAM-02", "IAM-03", "IAM-04", "IAM-05"])
def test_least_privilege_cluster_passes(check_id):
    result = run(check_id, CLEAN)
    assert result.status is Status.PASS, result.reason
    assert result.findings == ()


def test_iam01_cluster_admin_grants():
    result = run("IAM-01", ESCALATION)
    assert result.status is Status.FAIL
    # A workload account with cluster-admin makes the result critical.
    assert result.severity is Severity.CRITICAL
    assert summary(result) == [
        (
            "fail",
            "ClusterRoleBinding/admin-bot-cluster-admin",
            "subjects[0]",
            "workload account ServiceAccount/apps/admin-bot holds cluster-admin rights "
            "(ClusterRoleBinding/admin-bot-cluster-admin -> ClusterRole/cluster-admin)",
        ),
        (
            "fail",
            "ClusterRoleBinding/breakglass",
            "subjects[0]",
            "human User/breakglass@example.com holds cluster-admin rights "
            "(ClusterRoleBinding/breakglass -> ClusterRole/cluster-admin)",
        ),
    ]
    assert [str(f.location) for f in result.findings] == [
        f"{ESCALATION}:13",
        f"{ESCALATION}:337",
    ]


def test_iam01_break_glass_subjects_only_warn():
    result = run("IAM-01", ESCALATION, break_glass_subjects=("User/breakglass@example.com",))
    assert _triples(result) == [
        ("fail", "ClusterRoleBinding/admin-bot-cluster-admin", "subjects[0]"),
        ("warn", "ClusterRoleBinding/breakglass", "subjects[0]"),
    ]


def test_iam01_broad_group_is_critical():
    result = run("IAM-01", BROAD)
    assert result.severity is Severity.CRITICAL
    assert _triples(result) == [
        ("fail", "ClusterRoleBinding/all-serviceaccounts-admin", "subjects[0]")
    ]


def test_iam01_not_observable_without_cluster_role_bindings():
    result = run("IAM-01", IDENTITY / "platform" / "kops-aws.yaml")
    assert result.status is Status.NOT_OBSERVABLE
    assert "ClusterRoleBinding" in result.reason


def test_iam02_wildcards_point_at_the_rule():
    result = run("IAM-02", IDENTITY / "rbac" / "who-can.yaml")
    assert summary(result) == [
        (
            "fail",
            "ClusterRole/platform-superuser",
            "rules[0]",
            "ClusterRole/platform-superuser rule 0 grants verbs [*] on * (apiGroups *), "
            "bound to Group/platform-admins",
        ),
        (
            "warn",
            "ClusterRole/platform-superuser",
            "rules[1]",
            "ClusterRole/platform-superuser rule 1 grants verbs [*] on URLs *, "
            "bound to Group/platform-admins",
        ),
        (
            "warn",
            "Role/dev/deployer",
            "rules[1]",
            'Role/dev/deployer rule 1 grants verbs [*] on pods (apiGroups ""), '
            "bound to User/bob@example.com",
        ),
    ]


def test_iam03_secret_readers():
    result = run("IAM-03", ESCALATION)
    assert _triples(result) == [
        ("fail", "ClusterRoleBinding/admin-bot-cluster-admin", "subjects[0]"),
        ("fail", "ClusterRoleBinding/breakglass", "subjects[0]"),
        ("fail", "ClusterRoleBinding/cert-exporter", "subjects[0]"),
        # A person reading the Secrets of one namespace warns.
        ("warn", "RoleBinding/apps/reader-secrets", "subjects[0]"),
    ]
    assert result.facts["secret_readers_by_class"] == {"human": 2, "workload": 2}


def test_iam03_named_secrets_are_not_flagged_but_broad_groups_are():
    result = run("IAM-03", IDENTITY / "rbac" / "who-can.yaml")
    triples = _triples(result)
    assert ("warn", "RoleBinding/payments/alice-secrets", "subjects[0]") in triples
    assert all("api-db-creds" not in obj for _, obj, _ in triples)
    broad = run("IAM-03", BROAD)
    assert ("fail", "ClusterRoleBinding/everyone-reads-config", "subjects[0]") in _triples(broad)


ESCALATIONS = [
    # (binding, status, permission, target)
    ("ClusterRoleBinding/cert-exporter", "fail", "secrets-read", "ServiceAccount/apps/admin-bot"),
    ("ClusterRoleBinding/csr-approver", "fail", "csr-approve", None),
    # Every pod of every node: the chain shows the most powerful one; the gain is admin.
    ("ClusterRoleBinding/node-debuggers", "fail", "nodes-proxy", None),
    ("ClusterRoleBinding/oncall-impersonation", "fail", "impersonate", "Group/system:masters"),
    ("ClusterRoleBinding/rbac-manager", "fail", "bind-escalate", "ClusterRole/cluster-admin"),
    ("ClusterRoleBinding/webhook-installer", "fail", "webhook-write", None),
    ("RoleBinding/apps/ci-deployer", "fail", "pod-create", "ServiceAccount/apps/admin-bot"),
    ("RoleBinding/apps/reader-secrets", "fail", "secrets-read", "ServiceAccount/apps/admin-bot"),
    ("RoleBinding/apps/vault-token-issuer", "fail", "sa-token", "ServiceAccount/apps/admin-bot"),
    # Developers in a sandbox with nothing more powerful to steal: everyday rights, a warning.
    ("RoleBinding/sandbox/developers", "warn", "pod-create", None),
    ("RoleBinding/sandbox/developers", "warn", "pod-exec", None),
]


def test_iam04_reports_each_escalation_chain():
    result = run("IAM-04", ESCALATION)
    assert result.status is Status.FAIL
    found = [
        (
            str(f.object),
            f.status.value,
            f.details["path"]["permission"],
            f.details["path"].get("target"),
        )
        for f in result.findings
    ]
    assert found == ESCALATIONS
    # The platform's aggregation controller holds escalate, and is not reported.
    assert all("aggregation" not in str(f.object) for f in result.findings)
    # Holders of cluster-admin are IAM-01's; they are not repeated here.
    assert all("breakglass" not in str(f.object) for f in result.findings)


def test_iam04_pod_create_chain_steps():
    result = run("IAM-04", ESCALATION)
    chain = next(f for f in result.findings if str(f.object) == "RoleBinding/apps/ci-deployer")
    path = chain.details["path"]
    assert path["holder"] == {"kind": "ServiceAccount", "name": "deployer", "namespace": "ci"}
    assert path["scope"] == "apps"
    assert path["gains"] == "cluster-admin rights"
    assert path["steps"] == [
        {
            "step": 1,
            "action": "create pods or workload controllers (apps)",
            "object": "ServiceAccount/ci/deployer",
            "via": "RoleBinding/apps/ci-deployer -> Role/apps/deployer",
        },
        {
            "step": 2,
            "action": "start a pod with serviceAccountName admin-bot; its token is mounted",
            "object": "ServiceAccount/apps/admin-bot",
        },
        {
            "step": 3,
            "action": "act with cluster-admin rights",
            "object": "ServiceAccount/apps/admin-bot",
            "via": "ClusterRoleBinding/admin-bot-cluster-admin -> ClusterRole/cluster-admin",
        },
    ]
    json.dumps(path)  # JSON-safe


def test_iam04_impersonation_and_node_proxy_chains():
    result = run("IAM-04", ESCALATION)
    by_binding = {str(f.object): f.details["path"] for f in result.findings}
    impersonate = by_binding["ClusterRoleBinding/oncall-impersonation"]
    assert [s["action"] for s in impersonate["steps"][1:]] == [
        "send requests with Impersonate-Group: system:masters",
        "members of system:masters bypass RBAC: cluster-admin",
    ]
    proxy = by_binding["ClusterRoleBinding/node-debuggers"]
    assert proxy["steps"][2] == {
        "step": 3,
        "action": "run a command in the pod and read its token",
        "object": "Deployment/apps/admin-bot",
    }
    csr = by_binding["ClusterRoleBinding/csr-approver"]
    assert csr["resourceNames"] == ["kubernetes.io/kube-apiserver-client"]


def test_iam04_break_glass_holders_are_allowlisted():
    result = run("IAM-04", ESCALATION, break_glass_subjects=("Group/oncall@example.com",))
    assert "ClusterRoleBinding/oncall-impersonation" not in {str(f.object) for f in result.findings}


def test_iam05_broad_groups_beyond_defaults():
    result = run("IAM-05", BROAD)
    assert result.status is Status.FAIL
    assert _triples(result) == [
        ("fail", "ClusterRoleBinding/all-serviceaccounts-admin", "subjects[0]"),
        ("fail", "ClusterRoleBinding/anonymous-pod-viewer", "subjects[0]"),
        # Discovery was granted to unauthenticated users before Kubernetes 1.14; no longer.
        ("fail", "ClusterRoleBinding/discovery-for-everyone", "subjects[0]"),
        ("fail", "ClusterRoleBinding/everyone-reads-config", "subjects[0]"),
    ]
    # Public service-account issuer discovery is documented and passes.
    assert "oidc-reviewer" not in str(result.findings)


def test_iam04_impersonation_limited_by_resource_names():
    # Impersonating one named user reaches that user's rights, not system:masters; naming
    # a group with no sensitive rights reaches nothing (authentication #user-impersonation).
    result = run("IAM-04", IDENTITY / "rbac" / "impersonation.yaml", bundle_is_complete=True)
    assert [
        (f.status.value, str(f.object), f.details["path"]["target"]) for f in result.findings
    ] == [("fail", "ClusterRoleBinding/helpdesk-as-alice", "User/alice@example.com")]
    steps = result.findings[0].details["path"]["steps"]
    assert steps[2]["via"] == "ClusterRoleBinding/alice-secrets -> ClusterRole/secret-reader"


GATEKEEPER_ANONYMOUS = (
    CORPORA / "gatekeeper-library/library/general/disallowanonymous/samples/no-anonymous-bindings"
)


def test_iam05_broad_groups_bound_to_an_unknown_role_warn():
    # gatekeeper-library's disallowed sample binds everyone to a role not in the input.
    result = run("IAM-05", GATEKEEPER_ANONYMOUS / "example_disallowed.yaml")
    assert [(s, o, f) for s, o, f, _ in summary(result)] == [
        ("warn", "ClusterRoleBinding/cluster-role-binding-2", "subjects[0]"),
        ("warn", "ClusterRoleBinding/cluster-role-binding-2", "subjects[1]"),
    ]
    # Group/system:anonymous names no group (anonymous requests are the *user*
    # system:anonymous in the group system:unauthenticated), so it is not reported.
    # The "allowed" sample is allowed by the constraint's parameters (the role is trusted
    # there); zt-audit cannot see that role either, so it warns the same way.
    allowed = run("IAM-05", GATEKEEPER_ANONYMOUS / "example_allowed.yaml")
    assert allowed.status is Status.WARN


def test_iam05_pod_security_policy_use_is_not_a_grant_of_access():
    # Binding a restrictive PodSecurityPolicy to all service accounts was the documented
    # way to apply it; "use" of a policy constrains pods rather than granting access.
    result = run("IAM-05", CORPORA / "istio-samples/samples/security/psp/sidecar-psp.yaml")
    assert result.status is Status.PASS


def test_iam01_provider_identities_are_the_platform():
    # EKS authenticates its own components as "eks:" users; a group a user created is not.
    result = run("IAM-01", IDENTITY / "rbac" / "eks-platform.yaml")
    assert _triples(result) == [
        ("fail", "ClusterRoleBinding/eks-console-dashboard-full-access", "subjects[0]")
    ]


def test_iam04_every_permission_has_a_remediation():
    from zt_audit.analysis.rbac import PRIMITIVES
    from zt_audit.rules.identity import REMEDIATIONS

    assert set(REMEDIATIONS) == set(PRIMITIVES)
    result = run("IAM-04", ESCALATION)
    assert all(f.remediation for f in result.findings if "path" in f.details)
