"""Risky-permission catalogues of other scanners, as coverage lists for IAM-01 to IAM-04.

krane's rules (appvia/krane ``config/rules.yaml``) are read from the shared corpora; each
becomes a ClusterRole bound cluster-wide to one user. rbac-police's policies
(PaloAltoNetworks/rbac-police ``docs/policies.md``) describe their permissions in prose,
so their rules are written out here. Where zt-audit deliberately does not flag a
permission, the reason is stated from the Kubernetes documentation.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from conftest import CORPORA
from identity_support import identity_registry

from zt_audit.engine.config import ScanConfig
from zt_audit.inventory import Inventory, Resource
from zt_audit.scan import run_scan

RBAC = "rbac.authorization.k8s.io"
# Creating a binding is refused unless the creator holds the role's permissions or may
# "bind" it (RBAC documentation, "Restrictions on role binding creation or update").
BINDING_NEEDS_BIND = (
    "binding creation alone cannot escalate (#restrictions-on-role-binding-creation-or-update)"
)

KRANE = {
    "risky-get-secrets": {"IAM-03"},
    "risky-list-secrets": {"IAM-03"},
    "risky-impersonate-privileged-groups": {"IAM-04:impersonate"},
    "risky-any-verb-secrets": {"IAM-02", "IAM-03", "IAM-04:token-secret"},
    "risky-any-verb-pods": {"IAM-02", "IAM-04:pod-create", "IAM-04:pod-exec"},
    "risky-any-verb-deployments": {"IAM-02", "IAM-04:pod-create"},
    "risky-any-verb-daemonsets": {"IAM-02", "IAM-04:pod-create"},
    "risky-any-verb-statefulsets": {"IAM-02", "IAM-04:pod-create"},
    "risky-any-verb-replicationcontrollers": {"IAM-02", "IAM-04:pod-create"},
    "risky-any-verb-replicasets": {"IAM-02", "IAM-04:pod-create"},
    "risky-any-verb-cronjobs": {"IAM-02", "IAM-04:pod-create"},
    "risky-any-verb-jobs": {"IAM-02", "IAM-04:pod-create"},
    "risky-any-verb-roles": {"IAM-02", "IAM-04:bind-escalate"},
    "risky-any-verb-clusterroles": {"IAM-02", "IAM-04:bind-escalate"},
    "risky-any-verb-rolebindings": {"IAM-02"},
    "risky-any-verb-clusterrolebindings": {"IAM-02"},
    "risky-any-verb-users": {"IAM-02", "IAM-04:impersonate"},
    "risky-any-verb-groups": {"IAM-02", "IAM-04:impersonate"},
    "risky-any-resource-delete": {"IAM-02"},
    "risky-any-resource-deletecollection": {"IAM-02"},
    # "*" covers subresources: create pods/exec and nodes/proxy too. Token requests lead
    # to no account more powerful than nodes/proxy already is, so no sa-token chain.
    "risky-any-resource-create": {
        "IAM-02",
        "IAM-04:nodes-proxy",
        "IAM-04:pod-create",
        "IAM-04:pod-exec",
        "IAM-04:pv-create",
        "IAM-04:webhook-write",
    },
    "risky-any-resource-list": {"IAM-02", "IAM-03"},
    "risky-any-resource-get": {"IAM-02", "IAM-03", "IAM-04:nodes-proxy", "IAM-04:pod-exec"},
    "risky-any-resource-impersonate": {"IAM-02", "IAM-04:impersonate"},
    "risky-create-deployments": {"IAM-04:pod-create"},
    "risky-update-deployments": {"IAM-04:pod-create"},
    "risky-create-daemonsets": {"IAM-04:pod-create"},
    "risky-update-daemonsets": {"IAM-04:pod-create"},
    "risky-create-statefulsets": {"IAM-04:pod-create"},
    "risky-update-statefulsets": {"IAM-04:pod-create"},
    "risky-create-replicationcontrollers": {"IAM-04:pod-create"},
    "risky-update-replicationcontrollers": {"IAM-04:pod-create"},
    "risky-create-replicasets": {"IAM-04:pod-create"},
    "risky-update-replicasets": {"IAM-04:pod-create"},
    "risky-create-jobs": {"IAM-04:pod-create"},
    "risky-update-jobs": {"IAM-04:pod-create"},
    "risky-create-cronjobs": {"IAM-04:pod-create"},
    "risky-update-cronjobs": {"IAM-04:pod-create"},
    "risky-create-rolebinding-role": {"IAM-04:bind-escalate"},
    "risky-create-rolebinding-clusterrole": {"IAM-04:bind-escalate"},
    "risky-create-clusterrolebinding": set(),  # BINDING_NEEDS_BIND
    "risky-exec-pods": {"IAM-04:pod-exec"},
    "risky-attach-pods": {"IAM-04:pod-exec"},
    "risky-add-rolebinding": set(),  # BINDING_NEEDS_BIND
}


def _rule(groups: list[str], resources: list[str], verbs: list[str], **extra: Any):
    return {"apiGroups": groups, "resources": resources, "verbs": verbs, **extra}


# rbac-police policy -> (rules, what flags it). Policies about cloud IAM roles, pod or
# node status and service status are outside RBAC escalation and not listed.
RBAC_POLICE = {
    "approve_csrs": (
        [
            _rule(["certificates.k8s.io"], ["certificatesigningrequests"], ["create"]),
            _rule(["certificates.k8s.io"], ["certificatesigningrequests/approval"], ["update"]),
            _rule(["certificates.k8s.io"], ["signers"], ["approve"]),
        ],
        {"IAM-04:csr-approve"},
    ),
    "assign_sa": ([_rule(["apps"], ["daemonsets"], ["create"])], {"IAM-04:pod-create"}),
    "bind_roles": ([_rule([RBAC], ["clusterroles"], ["bind"])], {"IAM-04:bind-escalate"}),
    "cluster_admin": ([_rule(["*"], ["*"], ["*"])], {"IAM-01", "IAM-02", "IAM-03"}),
    "control_webhooks": (
        [_rule(["admissionregistration.k8s.io"], ["validatingwebhookconfigurations"], ["patch"])],
        {"IAM-04:webhook-write"},
    ),
    "eks_modify_aws_auth": (
        [_rule([""], ["configmaps"], ["update"], resourceNames=["aws-auth"])],
        {"IAM-04:aws-auth-write"},
    ),
    "escalate_roles": ([_rule([RBAC], ["clusterroles"], ["escalate"])], {"IAM-04:bind-escalate"}),
    "impersonate": ([_rule([""], ["serviceaccounts"], ["impersonate"])], {"IAM-04:impersonate"}),
    "issue_token_secrets": (
        [_rule([""], ["secrets"], ["create", "get"])],
        {"IAM-03", "IAM-04:token-secret"},
    ),
    "list_secrets": ([_rule([""], ["secrets"], ["list"])], {"IAM-03"}),
    "modify_pods": ([_rule([""], ["pods"], ["patch"])], {"IAM-04:pod-exec"}),
    "nodes_proxy": ([_rule([""], ["nodes/proxy"], ["create"])], {"IAM-04:nodes-proxy"}),
    "pods_ephemeral_ctrs": (
        [_rule([""], ["pods/ephemeralcontainers"], ["patch"])],
        {"IAM-04:pod-exec"},
    ),
    "pods_exec": ([_rule([""], ["pods/exec"], ["create"])], {"IAM-04:pod-exec"}),
    "token_request": ([_rule([""], ["serviceaccounts/token"], ["create"])], {"IAM-04:sa-token"}),
}


def _objects(name: str, rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    role = {
        "apiVersion": f"{RBAC}/v1",
        "kind": "ClusterRole",
        "metadata": {"name": name},
        "rules": rules,
    }
    binding = {
        "apiVersion": f"{RBAC}/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": name},
        "subjects": [{"kind": "User", "apiGroup": RBAC, "name": f"{name}@example.com"}],
        "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": name},
    }
    return [role, binding]


def _platform() -> list[dict[str, Any]]:
    """A powerful account to steal, and the aws-auth ConfigMap of an EKS cluster."""
    admin = _objects("platform-admin", [])
    admin[1]["subjects"] = [{"kind": "ServiceAccount", "name": "admin", "namespace": "platform"}]
    admin[1]["roleRef"]["name"] = "cluster-admin"
    aws_auth = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "aws-auth", "namespace": "kube-system"},
        "data": {"mapRoles": "[]"},
    }
    return [admin[1], aws_auth]


def _flagged(name: str, rules: list[dict[str, Any]]) -> set[str]:
    inventory = Inventory(Resource(obj) for obj in [*_objects(name, rules), *_platform()])
    outcome = run_scan(
        inventory,
        identity_registry().select(["IAM-01", "IAM-02", "IAM-03", "IAM-04"]),
        ScanConfig(bundle_is_complete=True),
    )
    found = set()
    for item in outcome.evaluated:
        for finding in item.result.findings:
            if str(finding.object) not in (f"ClusterRoleBinding/{name}", f"ClusterRole/{name}"):
                continue
            path = finding.details.get("path")
            found.add(f"{item.check.id}:{path['permission']}" if path else item.check.id)
    return found


def _krane_rules() -> dict[str, list[dict[str, Any]]]:
    rules = yaml.safe_load((CORPORA / "krane" / "config" / "rules.yaml").read_text())
    return {r["id"]: r["match_rules"] for r in rules["rules"] if r.get("match_rules")}


def test_every_krane_rule_is_classified():
    assert sorted(_krane_rules()) == sorted(KRANE)


@pytest.mark.parametrize("rule_id", sorted(KRANE))
def test_krane_risky_permission(rule_id):
    assert _flagged(rule_id, _krane_rules()[rule_id]) == KRANE[rule_id], BINDING_NEEDS_BIND


@pytest.mark.parametrize("policy", sorted(RBAC_POLICE))
def test_rbac_police_policy(policy):
    rules, expected = RBAC_POLICE[policy]
    assert _flagged(policy, rules) == expected
