"""Managed control-plane detection and API server flag parsing (zt_audit.analysis.platform)."""

from __future__ import annotations

import pytest
from conftest import FIXTURES

from zt_audit.analysis.platform import (
    apiserver_configs,
    apiserver_flags,
    detect_platform,
    parse_flags,
)
from zt_audit.inventory import load_inventory

PLATFORM = FIXTURES / "identity" / "platform"
CHECKOV = FIXTURES / "identity" / "controlplane" / "checkov"


def _inventory(*names: str):
    return load_inventory([str(PLATFORM / name) for name in names])


@pytest.mark.parametrize(
    ("fixture", "provider", "evidence"),
    [
        (
            "eks-nodes.yaml",
            "eks",
            "Node/ip-192-168-12-34.eu-west-1.compute.internal has label "
            "eks.amazonaws.com/nodegroup",
        ),
        (
            "gke-nodes.yaml",
            "gke",
            "Node/gke-prod-default-pool-3f2a1b4c-x9kq has label cloud.google.com/gke-nodepool",
        ),
        (
            "aks-nodes.yaml",
            "aks",
            "Node/aks-nodepool1-12345678-vmss000000 has label kubernetes.azure.com/cluster",
        ),
        (
            "ec2-only.yaml",
            "eks",
            "Node/ip-10-0-1-5.ec2.internal has providerID aws://... and no kube-apiserver "
            "pod is visible",
        ),
    ],
)
def test_managed_providers_are_detected_from_nodes(fixture, provider, evidence):
    platform = detect_platform(_inventory(fixture))
    assert (platform.managed, platform.provider, platform.evidence) == (True, provider, evidence)
    assert platform.apiserver_visible is False
    assert platform.hint is not None and "\n" not in platform.hint
    assert apiserver_flags(_inventory(fixture)) is None


def test_a_kube_apiserver_pod_wins_over_a_cloud_provider_id():
    platform = detect_platform(_inventory("kops-aws.yaml"))
    assert platform.managed is False
    assert platform.provider is None
    assert platform.apiserver_visible is True
    assert platform.evidence == (
        "kube-apiserver pod Pod/kube-system/kube-apiserver-i-0f1e2d3c4b5a69788 found"
    )


def test_flags_are_read_through_a_shell_wrapper():
    flags = apiserver_flags(_inventory("kops-aws.yaml"))
    assert flags is not None
    assert flags["anonymous-auth"] == "false"
    assert flags["authorization-mode"] == "Node,RBAC"
    assert flags["oidc-issuer-url"] == "https://login.example.com"
    config = apiserver_configs(_inventory("kops-aws.yaml"))[0]
    assert config.path("anonymous-auth") == ("spec", "containers", 0, "command", 2)
    assert config.values("authorization-mode") == ["Node", "RBAC"]


def test_kubeadm_config_mapping_extra_args_merge_over_kubeadm_defaults():
    platform = detect_platform(_inventory("kubeadm-config.yaml"))
    assert (platform.managed, platform.apiserver_visible) == (False, True)
    config = apiserver_configs(_inventory("kubeadm-config.yaml"))[0]
    assert config.source == "kubeadm-config"
    assert config.flags["anonymous-auth"] == "false"
    assert config.flags["oidc-issuer-url"] == "https://accounts.example.com"
    # kubeadm always passes --authorization-mode=Node,RBAC unless extraArgs overrides it.
    assert config.flags["authorization-mode"] == "Node,RBAC"
    assert config.path("anonymous-auth") == ("data", "ClusterConfiguration")


def test_kubeadm_config_v1beta4_list_extra_args():
    flags = apiserver_flags(_inventory("kubeadm-config-v1beta4.yaml"))
    assert flags is not None
    assert flags["authorization-mode"] == "Node,RBAC,Webhook"
    assert flags["token-auth-file"] == "/etc/kubernetes/tokens.csv"


def test_checkov_static_pod_flags():
    inventory = load_inventory(
        [
            str(
                CHECKOV
                / "example_ApiServerAuthorizationModeNotAlwaysAllow"
                / "ApiServer-FAILED-2.yaml"
            )
        ]
    )
    assert apiserver_flags(inventory) == {"authorization-mode": "RBAC,AlwaysAllow"}
    assert detect_platform(inventory).managed is False


def test_no_evidence_is_neither_managed_nor_visible():
    platform = detect_platform(load_inventory([]))
    assert (platform.managed, platform.provider, platform.apiserver_visible) == (
        False,
        None,
        False,
    )
    assert apiserver_flags(load_inventory([])) is None


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        (["kube-apiserver", "--a=b", "--c="], [(1, "a", "b"), (2, "c", "")]),
        # pflag: a non-boolean flag takes the next argument as its value.
        (["kube-apiserver", "--token-auth-file", "/x.csv"], [(1, "token-auth-file", "/x.csv")]),
        # A boolean flag alone means true and never consumes the next argument.
        (
            ["--anonymous-auth", "--profiling=false"],
            [(0, "anonymous-auth", "true"), (1, "profiling", "false")],
        ),
        ([42, None, {"x": 1}, "--v=2"], [(3, "v", "2")]),
        (["sh", "-c", "exec kube-apiserver --x='a b' --y=1"], [(2, "x", "a b"), (2, "y", "1")]),
    ],
)
def test_parse_flags(items, expected):
    assert list(parse_flags(items)) == expected


def test_malformed_pods_do_not_crash():
    from zt_audit.inventory import Inventory, Resource

    pod = Resource(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": "kube-apiserver-x",
                "namespace": "kube-system",
                "labels": {"component": "kube-apiserver"},
            },
            "spec": {"containers": "x"},
        }
    )
    inventory = Inventory([pod])
    assert apiserver_flags(inventory) is None
    assert detect_platform(inventory).managed is False


def test_embedded_yaml_with_aliases_is_refused():
    from zt_audit.inventory import Inventory, Resource

    bomb = "a: &a [x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\n"
    kubeadm = Resource(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "kubeadm-config", "namespace": "kube-system"},
            "data": {"ClusterConfiguration": bomb},
        }
    )
    inventory = Inventory([kubeadm])
    # Still a kubeadm cluster, but its flags cannot be read, so none are assumed.
    assert detect_platform(inventory).managed is False
    assert apiserver_flags(inventory) is None
