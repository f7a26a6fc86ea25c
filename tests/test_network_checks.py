"""NET-01 to NET-06 and NET-08 on two clusters: a segmented shop and a flat cluster."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from conftest import CORPORA, FIXTURES, result_of, scan_files

from zt_audit.analysis.netpol import EGRESS, INGRESS, NetworkEngine
from zt_audit.analysis.netpol.environment import network_plugins
from zt_audit.engine.config import ScanConfig
from zt_audit.engine.evidence import EvidenceSources
from zt_audit.engine.model import Status
from zt_audit.engine.registry import discover
from zt_audit.inventory import load_inventory
from zt_audit.inventory.loader import load_text
from zt_audit.report.document import build_report
from zt_audit.scan import run_scan

CHECKS = FIXTURES / "network" / "checks"
SEGMENTED, FLAT = CHECKS / "segmented.yaml", CHECKS / "flat.yaml"
NET_IDS = ["NET-01", "NET-02", "NET-03", "NET-04", "NET-05", "NET-06", "NET-08"]


@pytest.fixture(scope="module")
def segmented():
    return scan_files(SEGMENTED)


@pytest.fixture(scope="module")
def flat():
    return scan_files(FLAT)


def findings(result) -> list[tuple[str, str, str | None, int | None]]:
    return [
        (
            f.status.value,
            str(f.object) if f.object else "",
            f.field,
            f.location.line if f.location else None,
        )
        for f in result.findings
    ]


def test_segmented_cluster(segmented):
    statuses = {i: result_of(segmented, i).status for i in NET_IDS}
    assert statuses == {
        "NET-01": Status.PASS,
        "NET-02": Status.PASS,
        "NET-03": Status.PASS,
        "NET-04": Status.PASS,
        "NET-05": Status.WARN,  # the edge namespace's internet-facing rule
        "NET-06": Status.PASS,
        "NET-08": Status.PASS,
    }
    assert findings(result_of(segmented, "NET-05")) == [
        ("warn", "NetworkPolicy/ingress-nginx/controller", "spec.ingress[0]", 101)
    ]


def test_segmented_coverage_and_blast_radius(segmented):
    result = result_of(segmented, "NET-04")
    assert result.facts["segmentation"] == {
        "workloads": 3,
        "ingress_isolated": 3,
        "egress_isolated": 3,
        "isolated_both": 3,
        "coverage": 1.0,
    }
    worst = result.facts["blast_radius"]["worst"]
    # frontend is reached only by the ingress controller, api only by frontend.
    assert [(w["workload"], w["reachable_from"]) for w in worst][1:] == [
        ("shop/api", 1),
        ("shop/frontend", 1),
    ]
    assert "segmentation coverage 3 of 3 isolated both ways" in result.reason


def test_segmented_default_deny_facts(segmented):
    assert result_of(segmented, "NET-03").facts["namespaces"] == {
        "ingress-nginx": {
            "default_deny": True,
            "policies": ["NetworkPolicy ingress-nginx/default-deny"],
            "open_workloads": [],
        },
        "shop": {
            "default_deny": True,
            "policies": ["NetworkPolicy shop/default-deny"],
            "open_workloads": [],
        },
    }


def test_default_deny_reopened_by_every_service_is_reported():
    # microservices-demo denies all egress by default, then each service's policy allows
    # `egress: [{}]`: the default deny stands, but no workload's egress is restricted.
    demo = CORPORA / "microservices-demo" / "_derived" / "rendered-base+network-policies.yaml"
    outcome = scan_files(demo)
    net03 = result_of(outcome, "NET-03")
    assert net03.status is Status.PASS
    assert len(net03.facts["namespaces"]["default"]["open_workloads"]) == 12
    net05 = result_of(outcome, "NET-05")
    assert net05.status is Status.FAIL
    assert len(net05.findings) == 13  # twelve egress: [{}] rules and the frontend's ingress


def test_flat_cni_fails_and_makes_policies_ineffective(flat):
    net01 = result_of(flat, "NET-01")
    assert net01.status is Status.FAIL
    assert findings(net01) == [
        ("fail", "DaemonSet/kube-system/kube-flannel-ds", "spec.template.spec.containers", 27)
    ]
    for check_id in ("NET-02", "NET-03", "NET-04"):
        result = result_of(flat, check_id)
        assert result.status is Status.FAIL
        assert "does not enforce NetworkPolicy" in result.reason
        assert result.facts["enforced"] is False


def test_flat_default_deny_gaps(flat):
    net02 = result_of(flat, "NET-02")
    assert net02.reason.startswith("1 of 3 namespaces deny ingress by default (33%)")
    assert findings(net02) == [
        ("fail", "Pod/legacy/old-app", "metadata.namespace", 144),
        ("fail", "NetworkPolicy/team-a/allow-all", "spec.ingress[0]", 44),
    ]
    assert [f.message for f in net02.findings][1] == (
        "namespace team-a: the default deny of ingress is cancelled by NetworkPolicy "
        "team-a/allow-all, whose rule allows every peer on every port"
    )
    # Namespaces are cluster-scoped objects, so they sort first.
    assert findings(result_of(flat, "NET-03")) == [
        ("fail", "Namespace/team-a", "metadata.name", 34),
        ("fail", "Namespace/team-b", "metadata.name", 83),
        ("fail", "Pod/legacy/old-app", "metadata.namespace", 144),
    ]


def test_flat_isolation_and_broad_rules(flat):
    net04 = result_of(flat, "NET-04")
    assert findings(net04) == [("warn", "Pod/legacy/old-app", "metadata.labels", 145)]
    assert net04.facts["segmentation"]["isolated_both"] == 0
    net05 = result_of(flat, "NET-05")
    assert net05.status is Status.FAIL
    assert findings(net05) == [
        ("warn", "NetworkPolicy/team-a/allow-all", "spec.ingress[0]", 44),
        ("fail", "NetworkPolicy/team-b/api-open", "spec.ingress[0]", 104),
    ]
    assert net05.findings[1].message == (
        "NetworkPolicy team-b/api-open ingress rule 0 allows every pod of every namespace; "
        "it reopens the default deny of ingress in team-b"
    )


def test_flat_metadata_endpoint_reachable_on_gcp(flat):
    net06 = result_of(flat, "NET-06")
    assert net06.status is Status.FAIL
    assert net06.facts == {"cloud": "gcp"}
    assert findings(net06) == [
        ("fail", "Pod/legacy/old-app", "spec", 147),
        ("fail", "Deployment/team-a/web", "spec.template.spec", 59),
        ("fail", "Deployment/team-b/api", "spec.template.spec", 120),
    ]


def test_flat_exposure(flat):
    assert findings(result_of(flat, "NET-08")) == [
        ("fail", "Service/legacy/old-app", "spec.externalIPs", 160),
        ("fail", "Deployment/team-a/web", "spec.template.spec.containers[0].ports[0].hostPort", 65),
        ("warn", "Service/team-a/web-lb", "spec.type", 73),
        ("warn", "Service/team-b/api-nodeport", "spec.type", 133),
    ]


def test_partial_bundle_without_policies_is_not_observable():
    demo = FIXTURES / "network" / "recipes" / "01-deny-all-traffic-to-an-application.yaml"
    outcome = scan_files(demo)
    for check_id in ("NET-01", "NET-02", "NET-03", "NET-04", "NET-05"):
        result = result_of(outcome, check_id)
        assert result.status is Status.NOT_OBSERVABLE, check_id
        assert result.hint
    # Declared complete, the absence of policies is evidence.
    complete = scan_files(demo, bundle_is_complete=True)
    assert result_of(complete, "NET-02").status is Status.FAIL
    assert result_of(complete, "NET-04").status is Status.FAIL


def test_cloud_unknown_warns_and_off_cloud_is_not_applicable():
    demo = FIXTURES / "network" / "recipes" / "01-deny-all-traffic-to-an-application.yaml"
    assert result_of(scan_files(demo), "NET-06").status is Status.NOT_OBSERVABLE
    policy = (
        CORPORA
        / "network-policy-recipes"
        / "_derived"
        / "01-deny-all-traffic-to-an-application.1.yaml"
    )
    outcome = scan_files(demo, policy)
    net06 = result_of(outcome, "NET-06")
    # No Node objects: the cloud is unknown, so reachable metadata only warns.
    assert net06.status is Status.WARN
    assert net06.facts == {"cloud": None}


def test_report_network_section(segmented):
    report = build_report(segmented)
    by_name = {w["name"]: w for w in report["workloads"]}
    frontend = by_name["frontend"]["network"]
    assert frontend == {
        "outside_policy": False,
        "ingress_isolated": True,
        "egress_isolated": True,
        "ingress_policies": ["NetworkPolicy shop/default-deny", "NetworkPolicy shop/frontend"],
        "egress_policies": ["NetworkPolicy shop/default-deny", "NetworkPolicy shop/frontend"],
        "reachable_from": {
            "workloads": 1,
            "namespaces": ["ingress-nginx"],
            "names": ["ingress-nginx/ingress-nginx-controller"],
            "external": [],
        },
        "reaches": {
            "workloads": 2,
            "namespaces": ["kube-system", "shop"],
            "names": ["kube-system/coredns", "shop/api"],
            "external": [],
        },
    }


def test_malformed_inputs_do_not_crash():
    text = FLAT.read_text(encoding="utf-8") + (
        "\n---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
        "metadata: {name: odd, namespace: team-a}\n"
        "spec: {podSelector: {matchLabels: x}, ingress: [{from: [{ipBlock: 7}]}], egress: 3}\n"
        "---\napiVersion: v1\nkind: Service\nmetadata: {name: odd, namespace: team-a}\n"
        "spec: {type: LoadBalancer, externalIPs: x, loadBalancerSourceRanges: 5}\n"
        "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: odd, namespace: team-a}\n"
        "spec: {template: {spec: {containers: x}}}\n"
    )
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "odd.yaml"
        path.write_text(text, encoding="utf-8")
        outcome = scan_files(path)
    for check_id in NET_IDS:
        assert result_of(outcome, check_id).status is not Status.ERROR, check_id


PLUGIN_DAEMONSETS = """
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: %(name)s, namespace: kube-system}
spec:
  selector: {matchLabels: {k8s-app: %(name)s}}
  template:
    metadata: {labels: {k8s-app: %(name)s}}
    spec:
      hostNetwork: true
      containers:
%(containers)s
"""


@pytest.mark.parametrize(
    ("name", "containers", "expected"),
    [
        (
            "cilium",
            "        - {name: cilium-agent, image: quay.io/cilium/cilium:v1.16.1}",
            [("Cilium", True)],
        ),
        (
            "anetd",
            "        - {name: cilium-agent, image: gke.gcr.io/cilium/cilium:v1.14}",
            [("Cilium", True)],
        ),
        (
            "antrea-agent",
            "        - {name: antrea-agent, image: antrea/antrea-agent-ubuntu:v2.1.0}",
            [("Antrea", True)],
        ),
        (
            "aws-node",
            "        - {name: aws-node, image: 602401143452.dkr.ecr.us-west-2.amazonaws.com/"
            "amazon-k8s-cni:v1.18.3}\n"
            "        - {name: aws-eks-nodeagent, "
            "image: 602401143452.dkr.ecr.us-west-2.amazonaws.com/"
            "amazon/aws-network-policy-agent:v1.1.2, "
            "args: [--enable-network-policy=true]}",
            [("AWS VPC CNI with network policy agent", True)],
        ),
        (
            "aws-node",
            "        - {name: aws-node, image: 602401143452.dkr.ecr.us-west-2.amazonaws.com/"
            "amazon-k8s-cni:v1.18.3}",
            [("AWS VPC CNI", False)],
        ),
        (
            "kindnet",
            "        - {name: kindnet-cni, image: docker.io/kindest/kindnetd:v20240202}",
            [("kindnet", False)],
        ),
        (
            "node-exporter",
            "        - {name: node-exporter, image: quay.io/prometheus/node-exporter}",
            [],
        ),
    ],
)
def test_network_plugin_recognition(name, containers, expected):
    text = PLUGIN_DAEMONSETS % {"name": name, "containers": containers}
    plugins = network_plugins(load_text(text, f"{name}.yaml"))
    assert [(p.name, p.enforcing) for p in plugins] == expected


def test_unknown_plugin_warns_and_cilium_always_mode_is_a_default_deny():
    config = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cilium-config, "
        "namespace: kube-system}\ndata: {enable-policy: always}\n"
    )
    text = (FIXTURES / "network" / "world.yaml").read_text(encoding="utf-8")
    inventory = load_text(text + "\n---\n" + config, "cluster.yaml")
    engine = NetworkEngine(inventory)
    (web,) = [e for e in engine.endpoints if e.key == "default/web"]
    assert engine.reach(INGRESS)[web.index].isolated
    assert engine.reach(EGRESS)[web.index].isolated


def test_hostnetwork_ports_are_exposure_warnings():
    outcome = scan_files(FIXTURES / "network" / "world.yaml")
    assert findings(result_of(outcome, "NET-08")) == [
        ("warn", "DaemonSet/default/hostnet", "spec.template.spec.containers[0].ports[0]", 165)
    ]


def test_forbidden_policy_listing_is_not_observable():
    inventory = load_inventory([str(SEGMENTED)])
    evidence = EvidenceSources(
        mode="cluster", forbidden={"CiliumNetworkPolicy": "list ciliumnetworkpolicies.cilium.io"}
    )
    outcome = run_scan(inventory, discover(), ScanConfig(), evidence)
    for check_id in ("NET-02", "NET-03", "NET-04", "NET-05", "NET-06"):
        result = result_of(outcome, check_id)
        assert result.status is Status.NOT_OBSERVABLE, check_id
        assert "CiliumNetworkPolicy could not be listed" in result.reason
