"""IAM-06 to IAM-10 and IAM-12 to IAM-14: authentication evidence, tokens, accounts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from identity_support import IDENTITY, run, summary

from zt_audit.engine.model import Severity, Stage, Status
from zt_audit.inventory import Inventory, Resource

CHECKOV = IDENTITY / "controlplane" / "checkov"
HARDENED = IDENTITY / "controlplane" / "hardened.yaml"
WEAK = IDENTITY / "controlplane" / "weak.yaml"
EKS = IDENTITY / "platform" / "eks-nodes.yaml"
KUBECONFIG = IDENTITY / "authn" / "kubeconfig.yaml"
AWS_AUTH = IDENTITY / "authn" / "aws-auth.yaml"
TOKENS = IDENTITY / "tokens" / "legacy-tokens.yaml"

# (file under checkov/, check, our status, critical). Where checkov's verdict differs, the
# kube-apiserver reference wins: an unset --authorization-mode is AlwaysAllow, and mode
# names are case-sensitive (the API server refuses "node").
CHECKOV_CASES = [
    (
        "example_ApiServerAnonymousAuth/ApiServer-AnonymousAuth-True-FAILED.yaml",
        "IAM-06",
        "fail",
        False,
    ),
    (
        "example_ApiServerAnonymousAuth/ApiServer-AnonymousAuth-False-PASSED.yaml",
        "IAM-06",
        "pass",
        False,
    ),
    # --anonymous-auth defaults to true.
    (
        "example_ApiServerAnonymousAuth/ApiServer-AnonymousAuth-Missing-FAILED.yaml",
        "IAM-06",
        "fail",
        False,
    ),
    ("example_ApiServerAuthorizationModeNode/ApiServer-FAILED-2.yaml", "IAM-07", "fail", True),
    ("example_ApiServerAuthorizationModeNode/ApiServer-FAILED.yaml", "IAM-07", "fail", False),
    ("example_ApiServerAuthorizationModeNode/ApiServer-PASSED.yaml", "IAM-07", "pass", False),
    (
        "example_ApiServerAuthorizationModeNotAlwaysAllow/ApiServer-FAILED-2.yaml",
        "IAM-07",
        "fail",
        True,
    ),
    (
        "example_ApiServerAuthorizationModeNotAlwaysAllow/ApiServer-FAILED.yaml",
        "IAM-07",
        "fail",
        True,
    ),
    # checkov passes both: unset means AlwaysAllow; "node" is not the Node authorizer.
    (
        "example_ApiServerAuthorizationModeNotAlwaysAllow/ApiServer-PASSED-2.yaml",
        "IAM-07",
        "fail",
        True,
    ),
    (
        "example_ApiServerAuthorizationModeNotAlwaysAllow/ApiServer-PASSED.yaml",
        "IAM-07",
        "fail",
        False,
    ),
    ("example_ApiServerAuthorizationModeRBAC/ApiServer-FAILED-2.yaml", "IAM-07", "fail", True),
    ("example_ApiServerAuthorizationModeRBAC/ApiServer-FAILED.yaml", "IAM-07", "fail", False),
    # checkov's RBAC-only check passes; IAM-07 also needs the Node authorizer.
    ("example_ApiServerAuthorizationModeRBAC/ApiServer-PASSED-2.yaml", "IAM-07", "fail", False),
    ("example_ApiServerAuthorizationModeRBAC/ApiServer-PASSED.yaml", "IAM-07", "pass", False),
    ("example_ApiServerTokenAuthFile/ApiServerTokenAuthFile-FAILED.yaml", "IAM-08", "fail", False),
    ("example_ApiServerTokenAuthFile/ApiServerTokenAuthFile-PASSED.yaml", "IAM-08", "pass", False),
    ("example_ApiServerBasicAuthFile/ApiServerBasicAuthFile-FAILED.yaml", "IAM-08", "fail", False),
    ("example_ApiServerBasicAuthFile/ApiServerBasicAuthFile-PASSED.yaml", "IAM-08", "pass", False),
]


@pytest.mark.parametrize(("name", "check_id", "status", "critical"), CHECKOV_CASES)
def test_checkov_control_plane_pods(name, check_id, status, critical):
    result = run(check_id, CHECKOV / name)
    assert result.status.value == status, result.reason
    assert (result.severity is Severity.CRITICAL) == critical
    for finding in result.findings:
        assert finding.object is not None and finding.object.kind == "Pod"
        assert finding.location is not None and finding.location.line


def test_checkov_node_case_message():
    result = run(
        "IAM-07", CHECKOV / "example_ApiServerAuthorizationModeNotAlwaysAllow/ApiServer-PASSED.yaml"
    )
    assert summary(result) == [
        (
            "fail",
            "Pod/kube-system/kube-apiserver-no-allow",
            "spec.containers[0].command[1]",
            "--authorization-mode of Pod/kube-system/kube-apiserver-no-allow (RBAC,node) lacks "
            "Node (mode names are case-sensitive)",
        )
    ]


@pytest.mark.parametrize("check_id", ["IAM-06", "IAM-07", "IAM-08", "IAM-09", "IAM-10"])
def test_hardened_control_plane_passes(check_id):
    result = run(check_id, HARDENED)
    assert result.status is Status.PASS, result.reason


def test_phishing_resistant_mfa_earns_advanced():
    result = run("IAM-10", HARDENED)
    assert result.stage_scores == {Stage.INITIAL: 1.0, Stage.ADVANCED: 1.0}


def test_weak_control_plane():
    assert summary(run("IAM-06", WEAK)) == [
        (
            "fail",
            "ConfigMap/kube-system/kubelet-config",
            "data.kubelet",
            "the kubelet serves anonymous requests",
        ),
        (
            "fail",
            "Pod/kube-system/kube-apiserver-master",
            "spec.containers[0].command",
            "--anonymous-auth is unset on Pod/kube-system/kube-apiserver-master: anonymous "
            "requests are served (the default is true)",
        ),
    ]
    authorization = run("IAM-07", WEAK)
    assert authorization.severity is Severity.CRITICAL
    assert [m for _, _, _, m in summary(authorization)] == [
        "the kubelet authorizes every request (authorization.mode: AlwaysAllow)",
        "--authorization-mode of Pod/kube-system/kube-apiserver-master (AlwaysAllow) lacks "
        "Node and RBAC",
        "--authorization-mode of Pod/kube-system/kube-apiserver-master includes AlwaysAllow: "
        "every request is authorized",
    ]
    assert summary(run("IAM-08", WEAK)) == [
        (
            "fail",
            "Pod/kube-system/kube-apiserver-master",
            "spec.containers[0].command[2]",
            "Pod/kube-system/kube-apiserver-master accepts static bearer tokens from "
            "--token-auth-file",
        )
    ]
    federation = run("IAM-09", WEAK)
    assert [(s, o) for s, o, _, _ in summary(federation)] == [
        ("warn", "ClusterRoleBinding/ops-admins"),  # User "admin" is a local name
        ("fail", "Pod/kube-system/kube-apiserver-master"),
    ]
    assert run("IAM-10", WEAK).status is Status.FAIL


def test_kubeadm_config_without_static_pod():
    result = run("IAM-06", IDENTITY / "platform" / "kubeadm-config.yaml")
    assert result.status is Status.PASS
    # kubeadm passes --authorization-mode=Node,RBAC unless extraArgs say otherwise.
    assert run("IAM-07", IDENTITY / "platform" / "kubeadm-config.yaml").status is Status.PASS
    v1beta4 = run("IAM-08", IDENTITY / "platform" / "kubeadm-config-v1beta4.yaml")
    assert [(s, o, f) for s, o, f, _ in summary(v1beta4)] == [
        ("fail", "ConfigMap/kube-system/kubeadm-config", "data.ClusterConfiguration")
    ]


@pytest.mark.parametrize("check_id", ["IAM-06", "IAM-07", "IAM-10"])
def test_managed_control_plane_is_not_observable(check_id):
    result = run(check_id, EKS)
    assert result.status is Status.NOT_OBSERVABLE
    assert "Amazon EKS" in result.reason
    assert result.hint and "\n" not in result.hint


@pytest.mark.parametrize("check_id", ["IAM-06", "IAM-07", "IAM-08", "IAM-09", "IAM-10"])
def test_no_control_plane_evidence_is_not_observable(check_id):
    result = run(check_id, IDENTITY / "rbac" / "least-privilege.yaml")
    assert result.status is Status.NOT_OBSERVABLE, result.reason
    assert result.hint


def test_kubeconfig_users_never_leak_credentials():
    for check_id in ("IAM-08", "IAM-09", "IAM-14"):
        result = run(check_id, KUBECONFIG)
        text = repr(result)
        assert "REDACTED-NOT-A-REAL-TOKEN" not in text
        assert "LS0t" not in text  # base64 of "---", the start of every PEM block
    assert [(s, f, m) for s, _, f, m in summary(run("IAM-08", KUBECONFIG))] == [
        ("warn", "users[0].user", "kubeconfig user ci-bot authenticates with a token"),
        (
            "warn",
            "users[1].user",
            "kubeconfig user kubernetes-admin authenticates with a client-certificate",
        ),
        ("warn", "users[2].user", "kubeconfig user dana authenticates with a client-certificate"),
        (
            "warn",
            "users[4].user",
            "kubeconfig user clusterAdmin_prod-rg_prod-aks is an AKS local admin account",
        ),
    ]
    # The kubelogin user shows an identity provider, so static users only warn.
    assert run("IAM-09", KUBECONFIG).status is Status.WARN


def test_system_masters_uses():
    assert [(s, f, m) for s, _, f, m in summary(run("IAM-14", KUBECONFIG))] == [
        (
            "fail",
            "users[1].user.client-certificate-data",
            "kubeconfig user kubernetes-admin holds a system:masters client certificate",
        )
    ]
    assert [m for _, _, _, m in summary(run("IAM-14", AWS_AUTH))] == [
        "aws-auth mapRoles maps arn:aws:iam::111122223333:role/PlatformAdmins into system:masters"
    ]
    assert [(o, f) for _, o, f, _ in summary(run("IAM-14", IDENTITY / "authn" / "csr.yaml"))] == [
        ("CertificateSigningRequest/legacy-admin", "spec.request"),
        ("ClusterRoleBinding/masters-again", "subjects[0]"),
    ]
    assert run("IAM-14", IDENTITY / "rbac" / "least-privilege.yaml").status is Status.PASS


def test_eks_aws_auth():
    static = run("IAM-08", AWS_AUTH)
    assert [(s, f) for s, _, f, _ in summary(static)] == [("warn", "data.mapUsers")]
    # Subjects mapped by aws-auth come from IAM: federated.
    assert run("IAM-09", AWS_AUTH).status is Status.PASS


def test_legacy_and_long_lived_tokens():
    result = run("IAM-12", TOKENS)
    assert summary(result) == [
        (
            "warn",
            "CronJob/billing/ledger-export",
            "spec.jobTemplate.spec.template.spec.volumes[0].projected.sources[0]"
            ".serviceAccountToken.expirationSeconds",
            "CronJob billing/ledger-export projects a service-account token valid for 48 h",
        ),
        (
            "fail",
            "Deployment/billing/invoicer",
            "spec.template.spec.volumes[0]",
            "Deployment billing/invoicer mounts the legacy token Secret invoicer-token",
        ),
        (
            "warn",
            "Secret/billing/reporter-token",
            "type",
            "legacy token Secret/billing/reporter-token never expires (last used 2023-01-10)",
        ),
    ]
    flags = run("IAM-12", WEAK)
    assert [m for _, _, _, m in summary(flags)] == [
        "Pod/kube-system/kube-apiserver-master does not check that token Secrets still exist",
        "Pod/kube-system/kube-apiserver-master allows service-account tokens valid for 720h",
    ]


def test_recently_used_legacy_token_fails():
    from identity_support import identity_registry

    from zt_audit.engine.config import ScanConfig
    from zt_audit.scan import run_scan

    used = (datetime.now(UTC) - timedelta(days=3)).date().isoformat()
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "kubernetes.io/service-account-token",
        "metadata": {
            "name": "ci-token",
            "namespace": "ci",
            "labels": {"kubernetes.io/legacy-token-last-used": used},
            "annotations": {"kubernetes.io/service-account.name": "ci"},
        },
    }
    outcome = run_scan(
        Inventory([Resource(secret)]), identity_registry().select(["IAM-12"]), ScanConfig()
    )
    result = outcome.evaluated[0].result
    assert result.status is Status.FAIL
    assert result.findings[0].message == f"legacy token Secret/ci/ci-token was used on {used}"


def test_default_accounts_and_unneeded_tokens():
    assert summary(run("IAM-13", TOKENS)) == [
        (
            "fail",
            "RoleBinding/billing/default-can-read-config",
            "subjects[0]",
            "the default ServiceAccount of billing is granted ClusterRole/view "
            "(RoleBinding/billing/default-can-read-config -> ClusterRole/view); every pod "
            "without its own account gets it",
        ),
        (
            "warn",
            "StatefulSet/billing/worker",
            "spec.template.spec.serviceAccountName",
            "StatefulSet billing/worker mounts a token for ServiceAccount worker, which has no "
            "role bindings",
        ),
    ]
    assert run("IAM-13", IDENTITY / "rbac" / "least-privilege.yaml").status is Status.PASS


def test_just_in_time_access():
    result = run("IAM-11", IDENTITY / "rbac" / "just-in-time.yaml")
    assert result.status is Status.WARN
    assert [(s, o) for s, o, _, _ in summary(result)] == [
        ("warn", "ClusterRoleBinding/platform-leads")
    ]
    assert result.facts["brokers"] == ["Deployment/teleport/teleport-kube-agent"]
    # Standing admin grants and no sign of JIT: possibly PIM elsewhere, never a failure.
    standing = run("IAM-11", IDENTITY / "rbac" / "escalation.yaml")
    assert standing.status is Status.NOT_OBSERVABLE
    # breakglass (cluster-admin), oncall (impersonation), node-debug (nodes/proxy)
    assert standing.reason.startswith("3 standing privileged human grant(s)")


def test_malformed_objects_do_not_crash():
    broken = [
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": "kube-apiserver-x",
                "namespace": "kube-system",
                "labels": {"component": "kube-apiserver"},
            },
            "spec": {"containers": [{"command": "kube-apiserver --anonymous-auth"}]},
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": "x"},
            "subjects": "everyone",
            "roleRef": ["cluster-admin"],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": "y"},
            "rules": [{"verbs": "*", "resources": 7}, None],
            "aggregationRule": {"clusterRoleSelectors": "all"},
        },
        {
            "apiVersion": "apiserver.config.k8s.io/v1",
            "kind": "AuthenticationConfiguration",
            "jwt": [{"issuer": "x", "claimValidationRules": "amr"}],
            "anonymous": [],
        },
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "aws-auth", "namespace": "kube-system"},
            "data": {"mapRoles": "{not: [valid", "mapUsers": 5},
        },
        {"apiVersion": "v1", "kind": "Config", "users": [{"name": 3, "user": "token"}]},
        {
            "apiVersion": "certificates.k8s.io/v1",
            "kind": "CertificateSigningRequest",
            "metadata": {"name": "z"},
            "spec": {"request": "%%%not-base64"},
        },
    ]
    from identity_support import identity_registry

    from zt_audit.engine.config import ScanConfig
    from zt_audit.scan import run_scan

    outcome = run_scan(
        Inventory([Resource(obj) for obj in broken]), identity_registry(), ScanConfig()
    )
    assert all(item.result.status is not Status.ERROR for item in outcome.evaluated), [
        (item.check.id, item.result.reason) for item in outcome.evaluated
    ]


def test_structured_authorization_configuration():
    # Authorizers come from the AuthorizationConfiguration document: Node and a webhook,
    # without RBAC (authorization #configuring-the-api-server-using-an-authorization-config-file).
    result = run("IAM-07", IDENTITY / "controlplane" / "structured-authz.yaml")
    assert summary(result) == [
        (
            "fail",
            "AuthorizationConfiguration/<unnamed>",
            "authorizers",
            "AuthorizationConfiguration/<unnamed> (Node,Webhook) lacks RBAC",
        )
    ]
    # --oidc-required-claim=acr=... makes the API server reject tokens without it.
    mfa_result = run("IAM-10", IDENTITY / "controlplane" / "structured-authz.yaml")
    assert mfa_result.status is Status.PASS
    assert mfa_result.stage_scores == {Stage.INITIAL: 1.0, Stage.ADVANCED: 0.5}


@pytest.mark.parametrize("check_id", ["IAM-07", "IAM-09", "IAM-10"])
def test_configuration_files_outside_the_input_are_not_observable(check_id):
    result = run(check_id, IDENTITY / "controlplane" / "authz-file-missing.yaml")
    assert result.status is Status.NOT_OBSERVABLE
    assert "not in" in result.reason and result.hint
