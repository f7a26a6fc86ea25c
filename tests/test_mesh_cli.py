"""``zt-audit mtls`` end to end, and its agreement with the scan report."""

from __future__ import annotations

import json

import jsonschema
import pytest
from conftest import CORPORA, FIXTURES, run_cli

from zt_audit.report.document import report_schema

MESH = FIXTURES / "mesh"
SHOP = str(MESH / "istio-shop.yaml")
INPUTS = {
    "istio": [SHOP],
    "linkerd": [str(MESH / "linkerd-emojivoto.yaml")],
    "cilium": [str(MESH / "cilium-wireguard.yaml")],
    "bookinfo": [
        str(CORPORA / "istio-samples/samples/bookinfo/platform/kube/bookinfo.yaml"),
        str(MESH / "namespace-default-injected.yaml"),
    ],
    "no-namespaces": [str(CORPORA / "istio-samples/samples/httpbin/httpbin.yaml")],
}


def test_table_lists_every_port_with_its_reasons():
    result = run_cli("mtls", SHOP)
    assert result.code == 0
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["WORKLOAD", "PORT", "MODE", "MESH", "DECIDED", "BY"]
    rows = [line.split()[:4] for line in lines[1:] if line.strip() and not line.startswith(" ")]
    assert rows == [
        ["CronJob/batch/report-gen", "8080", "PERMISSIVE", "istio-ambient"],
        ["Deployment/legacy/legacy-api", "8080", "none", "-"],
        ["Deployment/shop/cart", "7070/grpc", "STRICT", "istio"],
        ["Deployment/shop/frontend", "8080/http", "STRICT", "istio"],
    ]
    assert "9090/metrics  PERMISSIVE" in result.stdout


def test_json_names_the_deciding_objects():
    result = run_cli("mtls", SHOP, "-f", "json", "-n", "shop")
    assert result.code == 0
    document = json.loads(result.stdout)
    assert document["root_namespace"] == "istio-system"
    cart = document["workloads"][0]
    assert cart == {
        "workload": "Deployment/shop/cart",
        "mesh": "istio",
        "data_plane": "intended",
        "mode": "PERMISSIVE",
        "ports": [
            {
                "port": "7070/grpc",
                "mode": "STRICT",
                "decided_by": [
                    "PeerAuthentication/istio-system/default (mesh-wide): mtls.mode=STRICT",
                    "PeerAuthentication/shop/default (namespace-wide): mtls.mode unset, inherits",
                    "PeerAuthentication/shop/cart-metrics (workload): mtls.mode unset, inherits",
                ],
            },
            {
                "port": "9090/metrics",
                "mode": "PERMISSIVE",
                "decided_by": [
                    "PeerAuthentication/shop/cart-metrics (workload): "
                    "portLevelMtls[9090].mode=PERMISSIVE"
                ],
            },
        ],
        "decided_by": ["Namespace/shop: label istio-injection=enabled"],
        "encryption": None,
        "notes": [],
    }
    assert [w["workload"] for w in document["workloads"]] == [
        "Deployment/shop/cart",
        "Deployment/shop/frontend",
    ]


def test_root_namespace_option():
    result = run_cli("mtls", SHOP, "-f", "json", "--mesh-root-namespace", "mesh-config")
    frontend = next(
        w for w in json.loads(result.stdout)["workloads"] if w["workload"].endswith("frontend")
    )
    # The istio-system policy is no longer mesh-wide: nothing sets a mode.
    assert frontend["mode"] == "PERMISSIVE"


def test_unknown_namespaces_are_reported_as_unknown():
    result = run_cli("mtls", *INPUTS["no-namespaces"], "-f", "json")
    workloads = json.loads(result.stdout)["workloads"]
    assert [(w["workload"], w["mode"], w["data_plane"]) for w in workloads] == [
        ("Deployment/default/httpbin", "unknown", "unknown")
    ]
    assert workloads[0]["notes"] == ["if Istio injects it, PeerAuthentication gives PERMISSIVE"]


def test_no_input_is_a_usage_error():
    result = run_cli("mtls")
    assert result.code == 2
    assert result.stdout == ""
    assert "no input" in result.stderr


def test_unreadable_input_exits_2():
    result = run_cli("mtls", str(MESH / "does-not-exist.yaml"))
    assert result.code == 2
    assert "does-not-exist.yaml" in result.stderr


@pytest.mark.parametrize("name", sorted(INPUTS))
def test_mtls_and_report_agree_on_every_workload(name):
    paths = INPUTS[name]
    mtls = json.loads(run_cli("mtls", *paths, "-f", "json").stdout)
    scan = run_cli("scan", *paths, "-f", "json")
    report = json.loads(scan.stdout)
    from_report = {
        f"{w['kind']}/{w['namespace']}/{w['name']}": w["mtls"] for w in report["workloads"]
    }
    from_command = {row.pop("workload"): row for row in mtls["workloads"]}
    assert from_command == from_report
    assert from_command


@pytest.mark.parametrize("name", sorted(INPUTS))
def test_report_with_mtls_section_matches_schema(name):
    report = json.loads(run_cli("scan", *INPUTS[name], "-f", "json").stdout)
    jsonschema.validate(report, report_schema())


def test_reads_standard_input():
    manifest = (MESH / "istio-shop.yaml").read_bytes()
    result = run_cli("mtls", "-", "-f", "json", "-n", "legacy", stdin=manifest)
    assert result.code == 0
    rows = json.loads(result.stdout)["workloads"]
    assert [(r["workload"], r["mode"]) for r in rows] == [("Deployment/legacy/legacy-api", "none")]
