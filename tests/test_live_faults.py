"""How a live scan behaves when the API server refuses, fails, throttles or stalls.

Rules exercised (Kubernetes API concepts and RBAC documentation): a list the credentials
may not make is answered 403 and costs only that kind; 401 means the credentials are not
accepted at all; 429 carries Retry-After, which a client honours before retrying; 5xx
and timeouts are transient and retried with backoff.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from apiserver.kubeconfig import write_kubeconfig
from apiserver.server import ApiServer, Fault
from conftest import CliResult, run_cli

from zt_audit.cli.app import main
from zt_audit.cli.environment import Environment
from zt_audit.sources import cluster
from zt_audit.sources.cluster import ConnectOptions, connect
from zt_audit.sources.collect import CollectOptions, collect
from zt_audit.sources.fetch import RetryPolicy

pytest_plugins = ["apiserver.fixtures"]

RBAC_KINDS = {
    ("rbac.authorization.k8s.io", "clusterroles"): "ClusterRole",
    ("rbac.authorization.k8s.io", "clusterrolebindings"): "ClusterRoleBinding",
    ("rbac.authorization.k8s.io", "roles"): "Role",
    ("rbac.authorization.k8s.io", "rolebindings"): "RoleBinding",
}


def scan(kubeconfig: Path, *args: str) -> tuple[CliResult, dict]:
    result = run_cli("scan", "--kubeconfig", str(kubeconfig), "-f", "json", *args)
    assert result.code in (0, 1), result.stderr
    return result, json.loads(result.stdout)


def verdicts(report: dict) -> dict[str, str]:
    return {check["id"]: check["status"] for check in report["checks"]}


def changed_to(before: dict, after: dict) -> set[str]:
    """The statuses that checks changed to between two reports."""
    old, new = verdicts(before), verdicts(after)
    return {new[check] for check in new if new[check] != old[check]}


def test_forbidden_secrets_leave_the_scan_complete_and_say_what_is_missing(
    apiserver: ApiServer, kubeconfig: Path
):
    _, allowed = scan(kubeconfig)
    apiserver.forbidden.add(("", "secrets", None))
    result, report = scan(kubeconfig)

    assert report["source"]["forbidden"] == {
        "Secret": 'missing RBAC permission: list "secrets" in API group "" cluster-wide'
    }
    assert "Secret" not in report["inventory"]["kinds"]
    assert "Secret not collected" in result.stderr
    # Whatever needed Secrets is now unobservable; nothing turned into a pass or a fail.
    assert changed_to(allowed, report) <= {"not_observable"}


def test_forbidden_rbac_makes_identity_checks_unobservable(apiserver: ApiServer, kubeconfig: Path):
    _, allowed = scan(kubeconfig)
    apiserver.forbidden.update((group, plural, None) for group, plural in RBAC_KINDS)
    _, report = scan(kubeconfig)

    assert sorted(report["source"]["forbidden"]) == sorted(RBAC_KINDS.values())
    assert changed_to(allowed, report) <= {"not_observable"}
    rbac_checks = [c for c in report["checks"] if c["id"] in {"IAM-01", "IAM-02", "IAM-03"}]
    for check in rbac_checks:
        assert check["status"] == "not_observable", check["id"]
        assert "could not be listed" in check["reason"]


def test_rejected_credentials_are_a_one_line_error(apiserver: ApiServer, tmp_path: Path):
    kubeconfig = write_kubeconfig(apiserver, tmp_path / "bad", token="expired-token-0000")
    result = run_cli("scan", "--kubeconfig", str(kubeconfig))

    assert result.code == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert "credentials were rejected (401 Unauthorized)" in result.stderr
    assert "expired-token-0000" not in result.stderr


def test_an_unreachable_server_is_a_one_line_error(kubeconfig: Path):
    result = run_cli("scan", "--kubeconfig", str(kubeconfig), "--context", "unreachable")

    assert result.code == 2
    assert result.stderr.startswith(
        "zt-audit: error: https://127.0.0.1:1: cannot reach the API server: "
        "connection refused or host unreachable"
    )
    assert result.stderr.count("\n") == 1


def test_an_unknown_context_is_named(kubeconfig: Path):
    result = run_cli("scan", "--kubeconfig", str(kubeconfig), "--context", "prod")
    assert result.code == 2
    assert result.stderr == f"zt-audit: error: {kubeconfig}: no context named 'prod'\n"


def test_no_kubeconfig_and_no_pod_is_a_one_line_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    result = run_cli("scan")
    assert result.code == 2
    assert result.stderr.startswith("zt-audit: error: no kubeconfig found")
    assert result.stderr.count("\n") == 1


def test_throttling_is_retried_after_the_time_the_server_asks(
    apiserver: ApiServer, kubeconfig: Path
):
    apiserver.faults.append(Fault(r"^/api/v1/pods$", status=429, times=2, retry_after=1))
    _, report = scan(kubeconfig)

    attempts = apiserver.requests_to(r"^/api/v1/pods$")
    assert len(attempts) == 3
    # Retry-After: 1 is a lower bound on each wait, whatever our own backoff would be.
    assert attempts[1].at - attempts[0].at >= 1.0
    assert attempts[2].at - attempts[1].at >= 1.0
    assert report["inventory"]["kinds"]["Pod"] == 1
    assert report["source"]["forbidden"] == {}


def test_server_errors_are_retried(apiserver: ApiServer, kubeconfig: Path):
    apiserver.faults.append(Fault(r"^/apis/networking\.k8s\.io/v1/networkpolicies$", 500, 1))
    _, report = scan(kubeconfig)
    assert len(apiserver.requests_to(r"^/apis/networking\.k8s\.io/v1/networkpolicies$")) == 2
    assert report["inventory"]["kinds"]["NetworkPolicy"] == 14


def test_a_slow_answer_times_out_and_is_retried(apiserver: ApiServer, kubeconfig: Path):
    apiserver.faults.append(Fault(r"^/apis/apps/v1/deployments$", delay=3.0, times=1))
    _, report = scan(kubeconfig, "--request-timeout", "1")
    assert len(apiserver.requests_to(r"^/apis/apps/v1/deployments$")) >= 2
    assert report["inventory"]["kinds"]["Deployment"] == 13


def test_a_list_that_keeps_failing_costs_only_its_kind(apiserver: ApiServer, kubeconfig: Path):
    apiserver.faults.append(Fault(r"^/apis/apps/v1/daemonsets$", delay=2.0))
    apiserver.faults.append(Fault(r"^/apis/batch/v1/cronjobs$", status=503))
    transport = connect(ConnectOptions(kubeconfig=kubeconfig, read_timeout=0.5))
    try:
        collection = collect(transport, CollectOptions(retry=RetryPolicy(2, first_wait=0.05)))
    finally:
        transport.close()

    assert collection.not_collected == {
        "CronJob": "HTTP 503 server error (after 2 attempts)",
        "DaemonSet": "timed out waiting for the response (after 2 attempts)",
    }
    assert any(o["kind"] == "Deployment" for o in collection.objects)


def test_an_api_group_that_fails_discovery_is_unobservable(apiserver: ApiServer, kubeconfig: Path):
    """An aggregated or broken API answers 503 to discovery: its kinds were not seen."""
    apiserver.faults.append(Fault(r"^/apis/security\.istio\.io/v1(beta1)?$", status=503))
    _, report = scan(kubeconfig)
    forbidden = report["source"]["forbidden"]
    assert forbidden["PeerAuthentication"].startswith("API security.istio.io/v1 did not answer")
    assert "AuthorizationPolicy.security.istio.io" in forbidden


def test_progress_is_drawn_only_on_a_terminal(kubeconfig: Path):
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    err = Terminal()
    args = ["scan", "--kubeconfig", str(kubeconfig), "-f", "json"]
    code = main(args, Environment(io.StringIO(), io.StringIO(), err))
    assert code in (0, 1)
    assert "collecting" in err.getvalue()

    plain = run_cli(*args)
    assert "collecting" not in plain.stderr


# Answers a broken or hostile API server could give; none may crash the scan.
MALFORMED = [
    # items is not a list: nothing is collected from it
    (r"^/api/v1/pods$", b'{"kind": "PodList", "items": "x"}', "Pod", 0),
    # items that are not objects are skipped; the one object-shaped item is kept
    (
        r"^/apis/apps/v1/deployments$",
        b'{"items": ["x", 7, {"metadata": {"name": "odd", "namespace": "default"},'
        b' "spec": {"template": {"spec": {"containers": "x"}}}}]}',
        "Deployment",
        1,
    ),
    # a continue token that is not a string ends the list
    (
        r"^/api/v1/serviceaccounts$",
        b'{"items": [{"metadata": {"name": "a", "namespace": "default"}}],'
        b' "metadata": {"continue": 12}}',
        "ServiceAccount",
        1,
    ),
    # metadata that is not a mapping, or no name: not an object the API could store
    (
        r"^/api/v1/configmaps$",
        b'{"items": [{"metadata": "x"}, {"metadata": {"namespace": "a"}}]}',
        "ConfigMap",
        0,
    ),
]


@pytest.mark.parametrize(("path", "body", "kind", "count"), MALFORMED)
def test_malformed_answers_do_not_crash_the_scan(
    apiserver: ApiServer, kubeconfig: Path, path: str, body: bytes, kind: str, count: int
):
    apiserver.faults.append(Fault(path, body=body))
    _, report = scan(kubeconfig)
    assert report["inventory"]["kinds"].get(kind, 0) == count
    assert report["source"]["forbidden"] == {}


def test_an_answer_that_is_not_json_costs_only_its_kind(apiserver: ApiServer, kubeconfig: Path):
    apiserver.faults.append(Fault(r"^/api/v1/services$", body=b"<html>proxy error</html>"))
    _, report = scan(kubeconfig)
    assert report["source"]["forbidden"] == {"Service": "GET /api/v1/services: answer is not JSON"}


def test_a_401_in_the_middle_of_the_scan_ends_it(apiserver: ApiServer, kubeconfig: Path):
    apiserver.faults.append(Fault(r"^/apis/batch/v1/jobs$", status=401))
    result = run_cli("scan", "--kubeconfig", str(kubeconfig))
    assert result.code == 2
    assert "credentials were rejected" in result.stderr


def test_a_list_that_never_ends_costs_only_its_kind(apiserver: ApiServer, kubeconfig: Path):
    endless = b'{"items": [], "metadata": {"continue": "again"}}'
    apiserver.faults.append(Fault(r"^/api/v1/services$", body=endless))
    _, report = scan(kubeconfig)
    assert report["source"]["forbidden"] == {
        "Service": "GET /api/v1/services: the list does not end"
    }
    assert len(apiserver.requests_to(r"^/api/v1/services$")) == 2


def test_a_namespace_that_does_not_exist_is_named(kubeconfig: Path):
    result, report = scan(kubeconfig, "-n", "payments", "-n", "paymnets")
    assert "zt-audit: warning: namespace paymnets does not exist\n" in result.stderr
    assert report["inventory"]["namespaces"] == ["payments"]


def test_inside_a_pod_the_service_account_is_used(
    apiserver: ApiServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    """With no kubeconfig, a pod's mounted token and CA and the KUBERNETES_SERVICE_* env
    variables are used, as the kubelet provides them."""
    mount = tmp_path / "serviceaccount"
    mount.mkdir()
    (mount / "token").write_text(apiserver.token)
    (mount / "ca.crt").write_text(apiserver.ca_pem)
    monkeypatch.setattr(cluster, "SERVICE_ACCOUNT", mount)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", apiserver.url.rsplit(":", 1)[1])

    result = run_cli("scan", "-f", "json")
    assert result.code in (0, 1), result.stderr
    report = json.loads(result.stdout)
    assert report["source"]["description"].startswith("cluster: in-cluster service account")
    assert all(request.authorized for request in apiserver.requests)
    assert run_cli("scan", "--context", "x").stderr == (
        "zt-audit: error: --context needs a kubeconfig; none was found\n"
    )


def test_an_object_nested_too_deeply_is_dropped_not_the_scan(
    apiserver: ApiServer, kubeconfig: Path
):
    """A custom resource can nest without bound; one such object must not make the whole
    collection unreadable (the inventory refuses documents nested 200 levels deep)."""
    deep: object = "leaf"
    for _ in range(150):
        deep = {"d": deep}
    items = [
        {"metadata": {"name": "deep", "namespace": "default"}, "data": deep},
        {"metadata": {"name": "fine", "namespace": "default"}, "data": {"k": "v"}},
    ]
    body = json.dumps({"items": items}).encode()
    apiserver.faults.append(Fault(r"^/api/v1/configmaps$", body=body))
    result, report = scan(kubeconfig)

    assert report["inventory"]["kinds"]["ConfigMap"] == 1
    assert report["inventory"]["kinds"]["Deployment"] == 13
    assert "zt-audit: warning: 1 ConfigMap item(s) dropped" in result.stderr


def test_an_answer_nested_beyond_the_parser_costs_only_its_kind(
    apiserver: ApiServer, kubeconfig: Path
):
    body = b'{"items": [' + b"[" * 100_000 + b"]" * 100_000 + b"]}"
    apiserver.faults.append(Fault(r"^/api/v1/configmaps$", body=body))
    _, report = scan(kubeconfig)
    assert report["source"]["forbidden"] == {
        "ConfigMap": "GET /api/v1/configmaps: answer nested too deeply"
    }


def test_connection_flags_are_refused_with_files(tmp_path: Path):
    manifest = tmp_path / "ns.yaml"
    manifest.write_text("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n")
    for flags in (["-n", "a"], ["-A"], ["--context", "prod"]):
        result = run_cli("scan", str(manifest), *flags)
        assert result.code == 2, flags
        assert "are for live scans, not with PATH" in result.stderr
    both = run_cli("scan", "-n", "a", "-A")
    assert both.stderr == (
        "zt-audit: error: -n/--namespace and -A/--all-namespaces cannot be used together\n"
    )


def test_a_user_bound_in_one_namespace_scans_it(apiserver: ApiServer, kubeconfig: Path):
    """A RoleBinding grants nothing cluster-wide: with -n, the namespace's own kinds are
    collected, and every cluster-scoped kind is reported not collected, naming the grant."""
    apiserver.only_namespace = "payments"
    _, report = scan(kubeconfig, "-n", "payments")

    forbidden = report["source"]["forbidden"]
    assert forbidden["ClusterRole"] == (
        'missing RBAC permission: list "clusterroles" in API group '
        '"rbac.authorization.k8s.io" cluster-wide'
    )
    assert {"Node", "ClusterRoleBinding", "CustomResourceDefinition"} <= set(forbidden)
    assert not {"Pod", "Deployment", "Secret", "Namespace", "Role"} & set(forbidden)
    kinds = report["inventory"]["kinds"]
    assert (kinds["Namespace"], kinds["Deployment"], kinds["Secret"]) == (1, 1, 2)
    assert report["inventory"]["namespaces"] == ["payments"]

    # Without -n the same user sees nothing, and the report says so instead of passing.
    result, whole = scan(kubeconfig)
    assert "scan those with -n NAMESPACE" in result.stderr
    assert {"Pod", "Deployment", "Namespace"} <= set(whole["source"]["forbidden"])
    assert {c["status"] for c in whole["checks"]} <= {"not_observable", "not_applicable"}
