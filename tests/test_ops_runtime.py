"""Runtime sensors: RT-01 presence, RT-02 node coverage, RT-03 enforcement and response."""

from __future__ import annotations

import pytest

from tests.conftest import CORPORA, FIXTURES, result_of, run_cli, scan_files
from zt_audit.analysis.scheduling import placement
from zt_audit.engine.model import Stage, Status
from zt_audit.exitcodes import ExitStatus
from zt_audit.inventory import Resource

FALCO = CORPORA / "falco-deploy-kubernetes" / "kubernetes"
RUNTIME = FIXTURES / "ops" / "runtime"
KUBEADM_NODES = RUNTIME / "nodes-kubeadm.yaml"
EKS_NODES = RUNTIME / "nodes-eks-fargate.yaml"


def _node(labels=None, taints=None) -> Resource:
    spec = {"taints": taints} if taints is not None else {}
    obj = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n", "labels": labels or {}}}
    return Resource({**obj, "spec": spec})


# Each case cites the rule of the Kubernetes documentation it exercises:
# TT = "Taints and Tolerations", AP = "Assigning Pods to Nodes", DS = "DaemonSet".
PLACEMENT_CASES = [
    # TT: a NoSchedule taint keeps away pods without a matching toleration.
    ({}, [{"key": "gpu", "value": "a", "effect": "NoSchedule"}], {}, False),
    # TT: PreferNoSchedule is a preference, never a barrier.
    ({}, [{"key": "gpu", "effect": "PreferNoSchedule"}], {}, True),
    # TT: operator Exists with an empty key tolerates every taint.
    (
        {},
        [{"key": "x", "value": "y", "effect": "NoExecute"}],
        {"tolerations": [{"operator": "Exists"}]},
        True,
    ),
    # TT: an empty effect matches all effects of that key.
    (
        {},
        [{"key": "x", "effect": "NoExecute"}],
        {"tolerations": [{"key": "x", "operator": "Exists"}]},
        True,
    ),
    # TT: Equal (the default operator) needs the same value.
    (
        {},
        [{"key": "x", "value": "a", "effect": "NoSchedule"}],
        {"tolerations": [{"key": "x", "value": "b"}]},
        False,
    ),
    (
        {},
        [{"key": "x", "value": "a", "effect": "NoSchedule"}],
        {"tolerations": [{"key": "x", "value": "a"}]},
        True,
    ),
    # TT: a toleration for NoSchedule does not tolerate NoExecute.
    (
        {},
        [{"key": "x", "effect": "NoExecute"}],
        {"tolerations": [{"key": "x", "operator": "Exists", "effect": "NoSchedule"}]},
        False,
    ),
    # DS: the controller adds a toleration for node.kubernetes.io/unschedulable.
    ({}, [{"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}], {}, True),
    # DS: network-unavailable is tolerated only by host-network DaemonSet pods.
    ({}, [{"key": "node.kubernetes.io/network-unavailable", "effect": "NoSchedule"}], {}, False),
    (
        {},
        [{"key": "node.kubernetes.io/network-unavailable", "effect": "NoSchedule"}],
        {"hostNetwork": True},
        True,
    ),
    # AP: every nodeSelector pair must be a node label.
    ({"disk": "ssd"}, None, {"nodeSelector": {"disk": "ssd"}}, True),
    ({"disk": "hdd"}, None, {"nodeSelector": {"disk": "ssd"}}, False),
    # AP: required node affinity terms are ORed, expressions within a term ANDed.
    (
        {"zone": "b"},
        None,
        {
            "affinity": {
                "nodeAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": {
                        "nodeSelectorTerms": [
                            {
                                "matchExpressions": [
                                    {"key": "zone", "operator": "In", "values": ["a"]}
                                ]
                            },
                            {
                                "matchExpressions": [
                                    {"key": "zone", "operator": "In", "values": ["b"]}
                                ]
                            },
                        ]
                    }
                }
            }
        },
        True,
    ),
    (
        {"zone": "b"},
        None,
        {
            "affinity": {
                "nodeAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": {
                        "nodeSelectorTerms": [
                            {
                                "matchExpressions": [
                                    {"key": "zone", "operator": "In", "values": ["b"]},
                                    {"key": "gpu", "operator": "Exists"},
                                ]
                            }
                        ]
                    }
                }
            }
        },
        False,
    ),
    # AP: NotIn and DoesNotExist match nodes without the label.
    (
        {},
        None,
        {
            "affinity": {
                "nodeAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": {
                        "nodeSelectorTerms": [
                            {
                                "matchExpressions": [
                                    {"key": "spot", "operator": "DoesNotExist"},
                                    {"key": "zone", "operator": "NotIn", "values": ["a"]},
                                ]
                            }
                        ]
                    }
                }
            }
        },
        True,
    ),
    # AP: Gt compares integers.
    (
        {"cores": "16"},
        None,
        {
            "affinity": {
                "nodeAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": {
                        "nodeSelectorTerms": [
                            {
                                "matchExpressions": [
                                    {"key": "cores", "operator": "Gt", "values": ["8"]}
                                ]
                            }
                        ]
                    }
                }
            }
        },
        True,
    ),
    # AP: an empty list of terms selects no node.
    (
        {},
        None,
        {
            "affinity": {
                "nodeAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": []}
                }
            }
        },
        False,
    ),
    # Untrusted input: malformed fields are ignored, never a crash.
    ({}, "x", {"tolerations": "x", "nodeSelector": "x", "affinity": "x"}, True),
]


@pytest.mark.parametrize(("labels", "taints", "pod_spec", "expected"), PLACEMENT_CASES)
def test_placement_follows_the_scheduling_rules(labels, taints, pod_spec, expected) -> None:
    assert placement(pod_spec, _node(labels, taints)).schedulable is expected


def test_falco_corpus_is_found_and_its_node_coverage_judged() -> None:
    outcome = scan_files(FALCO, KUBEADM_NODES)

    detection = result_of(outcome, "RT-01")
    assert detection.status is Status.PASS
    assert detection.reason == (
        "runtime detection by Falco DaemonSet default/falco "
        "(readiness not in the input: no DaemonSet status)"
    )
    assert (
        detection.facts["agents"][0]["matched_by"] == "image docker.io/falcosecurity/falco:0.44.1"
    )

    # Falco tolerates the control-plane taints only: the GPU and infra nodes are missed.
    coverage = result_of(outcome, "RT-02")
    assert coverage.status is Status.FAIL
    assert coverage.reason == "4 of 6 nodes covered by Falco DaemonSet default/falco (67%)"
    assert [(f.object.name, f.field, f.message) for f in coverage.findings] == [
        (
            "falco",
            "spec.template.spec.tolerations",
            "Falco DaemonSet default/falco cannot run on node gpu-1: "
            "taint nvidia.com/gpu=present:NoSchedule is not tolerated",
        ),
        (
            "falco",
            "spec.template.spec.tolerations",
            "Falco DaemonSet default/falco cannot run on node infra-1: "
            "taint dedicated=infra:NoExecute is not tolerated",
        ),
    ]
    assert coverage.findings[0].location.line == 29
    assert coverage.facts["uncovered_nodes"] == ["gpu-1", "infra-1"]
    assert (coverage.facts["eligible_nodes"], coverage.facts["schedulable_nodes"]) == (6, 4)

    # Falcosidekick is deployed with every output empty: detection only.
    response = result_of(outcome, "RT-03")
    assert response.status is Status.WARN
    assert response.facts["forwarders"] == ["Falcosidekick Deployment default/falcosidekick"]


def test_fargate_nodes_are_excluded_and_full_coverage_reaches_optimal() -> None:
    outcome = scan_files(FALCO, EKS_NODES)
    coverage = result_of(outcome, "RT-02")
    assert coverage.status is Status.PASS
    assert coverage.reason == "2 of 2 nodes covered by Falco DaemonSet default/falco (100%)"
    assert coverage.facts["virtual_nodes_excluded"] == [
        "fargate-ip-10-0-3-5.eu-west-1.compute.internal"
    ]
    assert coverage.stage_scores == {Stage.ADVANCED: 1.0, Stage.OPTIMAL: 1.0}


def test_ready_pods_cap_coverage_and_a_sigkill_policy_is_enforcement() -> None:
    outcome = scan_files(RUNTIME / "tetragon-enforcing.yaml", KUBEADM_NODES)
    coverage = result_of(outcome, "RT-02")
    assert coverage.status is Status.WARN
    assert (
        coverage.reason == "5 of 6 nodes covered by Tetragon DaemonSet kube-system/tetragon (83%)"
    )
    assert [(f.field, f.message) for f in coverage.findings] == [
        (
            "status.numberReady",
            "Tetragon DaemonSet kube-system/tetragon has 5 ready pods for 6 schedulable nodes",
        )
    ]
    response = result_of(outcome, "RT-03")
    assert response.status is Status.PASS
    assert "enforces TracingPolicy" in response.reason and "block-etc-writes" in response.reason


def test_sensor_without_ready_pods_fails_and_audit_policy_is_not_enforcement() -> None:
    outcome = scan_files(RUNTIME / "kubearmor-audit-only.yaml", EKS_NODES)
    detection = result_of(outcome, "RT-01")
    assert detection.status is Status.FAIL
    assert [f.message for f in detection.findings] == [
        "KubeArmor DaemonSet kubearmor/kubearmor has no ready pod"
    ]
    assert result_of(outcome, "RT-02").status is Status.FAIL
    response = result_of(outcome, "RT-03")
    assert response.status is Status.WARN
    assert response.facts["detect_only"] == ["KubeArmor DaemonSet kubearmor/kubearmor"]


def test_absence_is_not_observable_in_a_partial_bundle_and_fails_in_a_complete_one() -> None:
    partial = scan_files(KUBEADM_NODES)
    for check_id in ("RT-01", "RT-02", "RT-03"):
        assert result_of(partial, check_id).status is Status.NOT_OBSERVABLE
    complete = scan_files(KUBEADM_NODES, bundle_is_complete=True)
    assert result_of(complete, "RT-01").status is Status.FAIL
    coverage = result_of(complete, "RT-02")
    assert (coverage.status, coverage.ratio.total) == (Status.FAIL, 6)


def test_without_nodes_coverage_is_not_observable() -> None:
    result = result_of(scan_files(FALCO), "RT-02")
    assert result.status is Status.NOT_OBSERVABLE
    assert result.hint == "add the nodes: kubectl get nodes -o yaml"


def test_users_extend_the_signatures(tmp_path) -> None:
    manifest = tmp_path / "agent.yaml"
    manifest.write_text(
        "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: sentinel, namespace: sec}\n"
        "spec:\n  template:\n    spec:\n      containers:\n"
        "        - {name: s, image: registry.example.com/acme/sentinel-sensor:2.1}\n"
    )
    signatures = tmp_path / "signatures.yaml"
    signatures.write_text(
        "runtime:\n  - id: acme-sentinel\n    product: ACME Sentinel\n"
        "    images: ['acme/sentinel-*']\n    response: opaque\n"
    )
    assert result_of(scan_files(manifest), "RT-01").status is Status.NOT_OBSERVABLE
    outcome = scan_files(manifest, signature_files=(str(signatures),))
    assert (
        result_of(outcome, "RT-01").reason
        == "runtime detection by ACME Sentinel DaemonSet sec/sentinel "
        "(readiness not in the input: no DaemonSet status)"
    )
    assert result_of(outcome, "RT-03").status is Status.NOT_OBSERVABLE


def test_malformed_daemonsets_do_not_crash(tmp_path) -> None:
    manifest = tmp_path / "bad.yaml"
    manifest.write_text(
        "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: falco, namespace: falco}\n"
        "spec:\n  template:\n    spec:\n      containers: x\n      tolerations: 3\n"
        "status: {numberReady: 'many'}\n"
    )
    outcome = scan_files(manifest, KUBEADM_NODES)
    for check_id in ("RT-01", "RT-02", "RT-03"):
        assert result_of(outcome, check_id).status is not Status.ERROR


def test_a_broken_signature_file_stops_the_scan(tmp_path) -> None:
    signatures = tmp_path / "signatures.yaml"
    signatures.write_text("runtime: 3\n")
    config = tmp_path / "zt-audit.yaml"
    config.write_text(f"signature_files: [{signatures}]\n")
    result = run_cli("scan", "--config", str(config), str(RUNTIME / "tetragon-enforcing.yaml"))
    assert result.code == ExitStatus.USAGE_ERROR
    assert result.stderr == f"zt-audit: error: {signatures}: section runtime must be a list\n"


def test_nodes_missed_for_one_reason_make_one_finding(tmp_path) -> None:
    nodes = "".join(
        f"---\napiVersion: v1\nkind: Node\nmetadata: {{name: gpu-{n}}}\n"
        "spec: {taints: [{key: nvidia.com/gpu, value: present, effect: NoSchedule}]}\n"
        for n in range(1, 6)
    )
    path = tmp_path / "nodes.yaml"
    path.write_text(nodes)
    result = result_of(scan_files(FALCO, path), "RT-02")
    assert [f.message for f in result.findings] == [
        "Falco DaemonSet default/falco cannot run on 5 nodes (gpu-1, gpu-2, gpu-3 and 2 more): "
        "taint nvidia.com/gpu=present:NoSchedule is not tolerated"
    ]
