"""A live scan through the official client against the API stand-in gives the verdicts of a
scan of the same objects as files, and never asks for a Secret's data."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from apiserver.server import ApiServer, Fault
from apiserver.store import CLUSTER
from conftest import run_cli

from zt_audit.sources.cluster import ConnectOptions, connect
from zt_audit.sources.collect import CollectOptions, collect

pytest_plugins = ["apiserver.fixtures"]

METADATA_ONLY = "as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"


def verdicts(report: dict) -> dict[str, str]:
    return {check["id"]: check["status"] for check in report["checks"]}


def findings(report: dict) -> list[tuple]:
    """Every finding without its location: the same objects, fields and messages."""
    return sorted(
        (check["id"], f["status"], f["message"], f.get("field"), json.dumps(f["object"]))
        for check in report["checks"]
        for f in check.get("findings", [])
    )


def live_report(kubeconfig: Path, *args: str) -> dict:
    result = run_cli("scan", "--kubeconfig", str(kubeconfig), "-f", "json", *args)
    assert result.code in (0, 1), result.stderr
    return json.loads(result.stdout)


def test_live_scan_gives_the_verdicts_and_scores_of_a_file_scan(kubeconfig: Path):
    live = live_report(kubeconfig)
    files = run_cli("scan", str(CLUSTER), "--bundle-is-complete", "-f", "json")
    assert files.code in (0, 1), files.stderr
    offline = json.loads(files.stdout)

    assert verdicts(live) == verdicts(offline)
    assert findings(live) == findings(offline)
    assert live["score"] == offline["score"]
    assert live["summary"] == offline["summary"]
    assert live["source"]["mode"] == "cluster"
    assert live["source"]["bundle_is_complete"] is True
    assert live["source"]["forbidden"] == {}
    assert live["inventory"]["workloads"] == offline["inventory"]["workloads"]


def test_findings_point_at_lines_of_the_collection(kubeconfig: Path):
    live = live_report(kubeconfig)
    locations = [
        finding["location"]
        for check in live["checks"]
        for finding in check.get("findings", [])
        if finding.get("location")
    ]
    assert locations, "the fixture cluster has findings"
    assert {loc["file"] for loc in locations} == {"<cluster>"}
    assert all(isinstance(loc["line"], int) and loc["line"] > 1 for loc in locations)


def test_no_request_ever_asks_for_secret_data(apiserver: ApiServer, kubeconfig: Path):
    scan = run_cli("scan", "--kubeconfig", str(kubeconfig), "-f", "json")
    snapshot = run_cli("snapshot", "--kubeconfig", str(kubeconfig), "-o", "-")

    secret_requests = apiserver.requests_to(r"/secrets")
    assert secret_requests, "Secrets are collected (as metadata)"
    assert [r.path for r in secret_requests if METADATA_ONLY not in r.accept] == []
    values = apiserver.store.secret_values()
    assert len(values) == 2 * 8  # the server does hold Secret values
    for output in (scan.stdout, scan.stderr, snapshot.stdout, snapshot.stderr):
        assert [value for value in values if value in output] == []
        assert apiserver.token not in output


def test_secrets_keep_their_type_without_their_data(kubeconfig: Path):
    """Secret types come from field selectors on metadata-only lists (type is a field
    selector the API server supports for Secrets), not from reading the Secrets."""
    snapshot = run_cli("snapshot", "--kubeconfig", str(kubeconfig), "-o", "-")
    items = yaml.safe_load(snapshot.stdout)["items"]
    secrets = {item["metadata"]["name"]: item for item in items if item["kind"] == "Secret"}
    assert {name: s.get("type") for name, s in secrets.items()} == {
        "build-robot-token": "kubernetes.io/service-account-token",
        "frontend-tls": "kubernetes.io/tls",
        "ledger-db": "Opaque",
        "regcred": "kubernetes.io/dockerconfigjson",
        "webhook-signing": None,  # a custom type: known to exist, type not guessed
    }
    assert all(set(s) <= {"apiVersion", "kind", "metadata", "type"} for s in secrets.values())
    token = secrets["build-robot-token"]["metadata"]
    assert token["annotations"] == {"kubernetes.io/service-account.name": "build-robot"}
    assert "managedFields" not in token


def test_lists_are_paged_with_limit_and_continue(apiserver: ApiServer, kubeconfig: Path):
    transport = connect(ConnectOptions(kubeconfig=kubeconfig))
    try:
        paged = collect(transport, CollectOptions(page_size=2))
        whole = collect(transport, CollectOptions(page_size=500))
    finally:
        transport.close()

    assert paged.objects == whole.objects
    pages = [r for r in apiserver.requests_to(r"^/apis/apps/v1/deployments$")]
    assert [r.query.get("limit") for r in pages][:1] == ["2"]
    continued = [r for r in pages if "continue" in r.query]
    # 13 Deployments at 2 a page: 1 first page and 6 continued ones in the paged run.
    assert len(continued) == 6
    assert len([o for o in paged.objects if o["kind"] == "Deployment"]) == 13


def test_custom_resources_are_listed_only_when_served(apiserver: ApiServer, kubeconfig: Path):
    report = live_report(kubeconfig)
    assert report["inventory"]["kinds"]["PeerAuthentication"] == 1
    assert apiserver.requests_to(r"/apis/security\.istio\.io/v1/peerauthentications$")
    assert not apiserver.requests_to(r"/apis/kyverno\.io/")


def test_namespace_scope_lists_only_inside_the_namespaces(apiserver: ApiServer, kubeconfig: Path):
    report = live_report(kubeconfig, "-n", "payments")

    namespaced = {"pods", "deployments", "secrets", "networkpolicies", "roles"}
    for request in apiserver.requests:
        resource = request.path.rsplit("/", 1)[-1]
        if resource in namespaced:
            assert "/namespaces/payments/" in request.path, request.path
    assert apiserver.requests_to(r"^/api/v1/namespaces/payments$")  # a GET, not a list
    assert report["source"]["bundle_is_complete"] is False
    assert report["inventory"]["namespaces"] == ["payments"]


def test_secret_data_sent_anyway_is_never_kept(apiserver: ApiServer, kubeconfig: Path):
    """A server that ignores the metadata-only request (API servers before 1.15 did) and
    sends whole Secrets: their data, and the annotation that copies it, are dropped."""
    leaked = {
        "kind": "SecretList",
        "apiVersion": "v1",
        "metadata": {},
        "items": [
            {
                "metadata": {
                    "name": "ignored-accept",
                    "namespace": "default",
                    "annotations": {
                        "kubectl.kubernetes.io/last-applied-configuration": "canary-annotation"
                    },
                },
                "type": "Opaque",
                "data": {"password": "Y2FuYXJ5LWlnbm9yZWQtYWNjZXB0"},
                "stringData": {"token": "canary-ignored-accept-plain"},
            }
        ],
    }
    apiserver.faults.append(Fault(r"^/api/v1/secrets$", body=json.dumps(leaked).encode()))
    snapshot = run_cli("snapshot", "--kubeconfig", str(kubeconfig), "-o", "-")

    assert snapshot.code == 0, snapshot.stderr
    assert "ignored-accept" in snapshot.stdout  # the Secret is known to exist
    for value in ("canary-annotation", "Y2FuYXJ5LWlnbm9yZWQtYWNjZXB0", "canary-ignored-accept"):
        assert value not in snapshot.stdout


def test_debug_logs_carry_neither_token_nor_secret_values(apiserver: ApiServer, kubeconfig: Path):
    apiserver.faults.append(Fault(r"^/api/v1/pods$", status=429, times=1, retry_after=0))
    result = run_cli("scan", "--kubeconfig", str(kubeconfig), "-f", "json", "-vv")

    assert "retry 1" in result.stderr  # the logs are on
    assert apiserver.token not in result.stderr
    assert [v for v in apiserver.store.secret_values() if v in result.stderr] == []
