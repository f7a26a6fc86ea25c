"""Polaris's RBAC fixtures (FairwindsOps/polaris ``test/checks``), judged by zt-audit.

Polaris asks one question per check (a cluster-admin binding, a role allowing exec or
attach); the same question is asked here of IAM-01, IAM-04 and the authorizer. Where the
verdicts differ, the Kubernetes documentation is the reason, given beside each case.
"""

from __future__ import annotations

import csv

import pytest
from conftest import CORPORA
from identity_support import run

from zt_audit.analysis.rbac import RbacGraph, Request, rule_allows
from zt_audit.analysis.rbac.defaults import PLATFORM_PREFIXES
from zt_audit.inventory import load_inventory

POLARIS = CORPORA / "polaris"
EXEC = [Request(v, "pods", s) for v in ("create", "get") for s in ("exec", "attach")]

BY_SUBJECT = (
    "a binding's name says nothing about its subject: User testuser is not a platform "
    "identity, whatever the binding is called (RBAC #referring-to-subjects)"
)
MISSING_ROLE = (
    "a binding to a missing role grants nothing (the authorizer finds no rules); zt-audit "
    "reports it as a dangling binding instead"
)
OTHER_CHECK = "polaris checks RoleBinding->ClusterRole in another check; exec is allowed"

DISAGREEMENTS = {
    "clusterrolebindingClusterAdmin/success.gce_calico_binding.yaml": BY_SUBJECT,
    "clusterrolebindingClusterAdmin/success.system_prefix_binding.yaml": BY_SUBJECT,
    "clusterrolebindingPodExecAttach/failure.binding_points_to_missing_ref.yaml": MISSING_ROLE,
    "clusterrolebindingPodExecAttach/success.defaultclusterrolebinding_clusteradmin.yaml": (
        BY_SUBJECT
    ),
    "clusterrolebindingPodExecAttach/"
    "success.defaultclusterrolebinding_system-controller-generic-garbage-collector.yaml": (
        BY_SUBJECT
    ),
    "clusterrolebindingPodExecAttach/success.gce_calico_binding.yaml": BY_SUBJECT,
    "clusterrolebindingPodExecAttach/success.system_prefix_binding.yaml": BY_SUBJECT,
    "rolebindingClusterAdminClusterRole/success.gce_calico_binding.yaml": BY_SUBJECT,
    "rolebindingClusterAdminClusterRole/success.system_prefix_binding.yaml": BY_SUBJECT,
    "rolebindingClusterAdminRole/success.gce_calico_binding.yaml": BY_SUBJECT,
    "rolebindingClusterAdminRole/success.system_prefix_binding.yaml": BY_SUBJECT,
    "rolebindingClusterRolePodExecAttach/failure.binding_points_to_missing_ref.yaml": (
        MISSING_ROLE
    ),
    "rolebindingClusterRolePodExecAttach/success.gce_calico_binding.yaml": BY_SUBJECT,
    "rolebindingClusterRolePodExecAttach/success.system_prefix_binding.yaml": BY_SUBJECT,
    "rolebindingRolePodExecAttach/failure.binding_points_to_missing_ref.yaml": MISSING_ROLE,
    "rolebindingRolePodExecAttach/success.gce_calico_binding.yaml": BY_SUBJECT,
    "rolebindingRolePodExecAttach/success.role_binding_cluster_role_binding.yaml": OTHER_CHECK,
    "rolebindingRolePodExecAttach/success.system_prefix_binding.yaml": BY_SUBJECT,
}


def _cases() -> list[tuple[str, str, str]]:
    rows = csv.DictReader((POLARIS / "_derived" / "expectations.tsv").open(), delimiter="\t")
    return [
        (row["check"], row["file"], row["expected"])
        for row in rows
        if "role" in row["check"].lower() and row["file"].endswith(".yaml")
    ]


def _role_allows_exec(path) -> bool:
    """Role-level checks: does any non-platform role's rule authorize exec or attach?"""
    inventory = load_inventory([str(path)])
    graph = RbacGraph(inventory)
    for raw in inventory.of_kind("ClusterRole", "Role"):
        if raw.name.startswith(PLATFORM_PREFIXES) or raw.name in ("admin", "edit", "cluster-admin"):
            continue  # default roles and provider roles, as polaris also skips them
        role = (
            graph.cluster_role(raw.name)
            if raw.kind == "ClusterRole"
            else graph.role(raw.namespace, raw.name)
        )
        if role and any(rule_allows(s.rule, q) for s in role.rules for q in EXEC):
            return True
    return False


def _verdict(check: str, path) -> str:
    if check in ("clusterrolePodExecAttach", "rolePodExecAttach"):
        return "fail" if _role_allows_exec(path) else "pass"
    admin = run("IAM-01", path)
    if "PodExecAttach" in check:
        escalation = run("IAM-04", path)
        exec_paths = [
            f
            for f in escalation.findings
            if f.details.get("path", {}).get("permission") == "pod-exec"
        ]
        # cluster-admin rights include exec; IAM-01 reports them instead of IAM-04.
        return "fail" if exec_paths or admin.findings else "pass"
    namespaced = check.startswith("rolebinding")
    hits = [f for f in admin.findings if (f.object.kind == "RoleBinding") == namespaced]
    return "fail" if hits else "pass"


@pytest.mark.parametrize(("check", "file", "expected"), _cases())
def test_polaris_rbac_fixture(check, file, expected):
    relative = file.removeprefix("test/checks/")
    ours = _verdict(check, POLARIS / file)
    if relative in DISAGREEMENTS:
        assert ours != expected, f"no longer a disagreement: {relative}"
    else:
        assert ours == expected, relative


def test_polaris_cases_are_all_read():
    assert len(_cases()) >= 90


def test_dangling_binding_is_reported():
    path = (
        POLARIS
        / "test/checks/clusterrolebindingPodExecAttach/failure.binding_points_to_missing_ref.yaml"
    )
    # In a complete bundle (or a live cluster) the role is known not to exist.
    result = run("IAM-04", path, bundle_is_complete=True)
    assert [(f.status.value, str(f.object), f.field) for f in result.findings] == [
        ("warn", "ClusterRoleBinding/test", "roleRef")
    ]
    # In a partial bundle it may be defined elsewhere: recorded as a fact only.
    partial = run("IAM-04", path)
    assert partial.findings == ()
    assert partial.facts["bindings_to_missing_roles"] == [
        "ClusterRoleBinding/test -> ClusterRole/does-not-exist"
    ]
