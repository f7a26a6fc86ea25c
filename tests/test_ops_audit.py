"""Audit logging: AUD-01 to AUD-05."""

from __future__ import annotations

import json

import pytest

from tests.conftest import CORPORA, FIXTURES, result_of, run_cli, scan_files
from zt_audit.analysis.auditpolicy import AuditPolicy, Probe
from zt_audit.engine.model import Status
from zt_audit.exitcodes import ExitStatus
from zt_audit.inventory import Resource

AUDIT = FIXTURES / "ops" / "audit"
NODES = FIXTURES / "ops" / "runtime" / "nodes-kubeadm.yaml"
EKS_NODES = FIXTURES / "ops" / "runtime" / "nodes-eks-fargate.yaml"
CHECKOV = CORPORA / "checkov-controlplane" / "tests" / "kubernetes" / "checks"
GKE_POLICY = CORPORA / "gke-audit-policy" / "_derived" / "gke-master-audit-policy.yaml"
FALCO = CORPORA / "falco-deploy-kubernetes" / "kubernetes"


def _findings(result) -> list[tuple[str, str, str, str]]:
    return [(str(f.object), f.field, f.status.value, f.message) for f in result.findings]


def test_audited_kubeadm_control_plane_passes_flags_and_retention() -> None:
    outcome = scan_files(AUDIT / "apiserver-audited.yaml")
    on = result_of(outcome, "AUD-01")
    assert (on.status, on.reason) == (
        Status.PASS,
        "API audit logging is on (policy /etc/kubernetes/audit/policy.yaml, backend "
        "--audit-log-path)",
    )
    assert result_of(outcome, "AUD-02").status is Status.PASS
    assert result_of(outcome, "AUD-03").hint == (
        "pass it with --audit-policy FILE (an audit.k8s.io/v1 Policy document)"
    )


def test_checkov_audit_log_corpus() -> None:
    # Checkov passes this pod because --audit-log-path is set. The Kubernetes audit
    # documentation says the API server records nothing without --audit-policy-file, so
    # audit is off: we fail it, and judge its (missing) retention flags as warnings.
    passed = scan_files(CHECKOV / "example_ApiServerAuditLog" / "ApiServer-PASSED.yaml")
    assert _findings(result_of(passed, "AUD-01")) == [
        (
            "Pod/kube-system/kube-apiserver-pass",
            "spec.containers[0].command",
            "fail",
            "kube-apiserver has no --audit-policy-file: the API server records no audit "
            "events at all",
        )
    ]
    assert result_of(passed, "AUD-02").reason == "3 of 3 retention settings affected"
    failed = scan_files(CHECKOV / "example_ApiServerAuditLog" / "ApiServer-FAILED.yaml")
    assert result_of(failed, "AUD-01").status is Status.FAIL
    # Checkov judges --audit-log-maxage=10 alone; with no --audit-log-path there is no
    # log file to retain, so retention does not apply.
    low = scan_files(CHECKOV / "example_ApiServerAuditLogMaxAge" / "ApiServer-FAILED.yaml")
    assert result_of(low, "AUD-02").status is Status.NOT_APPLICABLE


def test_kubeadm_dynamic_auditing_from_falco_corpus_is_audit_off() -> None:
    outcome = scan_files(AUDIT / "kubeadm-config-dynamic-audit.yaml")
    assert _findings(result_of(outcome, "AUD-01")) == [
        (
            "ConfigMap/kube-system/kubeadm-config",
            "data.ClusterConfiguration",
            "fail",
            "kube-apiserver has no --audit-policy-file: the API server records no audit "
            "events at all",
        )
    ]


def test_managed_control_plane_is_not_observable_with_provider_hint() -> None:
    result = result_of(scan_files(EKS_NODES), "AUD-01")
    assert result.status is Status.NOT_OBSERVABLE
    assert result.hint.startswith("EKS: enable the 'audit' log type")


def test_gke_production_policy_passes() -> None:
    result = result_of(scan_files(GKE_POLICY), "AUD-03")
    assert (result.status, result.reason) == (
        Status.PASS,
        "1 of 1 audit policies log every request, keep Secret values out and record exec "
        "and RBAC changes",
    )


def test_flawed_policy_findings_point_at_the_rule_that_matches_first() -> None:
    result = result_of(scan_files(AUDIT / "policy-flawed.yaml"), "AUD-03")
    assert result.status is Status.FAIL
    assert _findings(result) == [
        (
            "Policy/<unnamed>",
            "rules",
            "fail",
            "no catch-all rule at Metadata or above: create probes.zt-audit.example.com/widgets "
            "is not logged (no rule matches)",
        ),
        (
            "Policy/<unnamed>",
            "rules[1]",
            "fail",
            "get, list, watch of secrets are not logged (rule 2 matches first)",
        ),
        (
            "Policy/<unnamed>",
            "rules[2]",
            "fail",
            "configmaps are logged with request bodies: their values would be copied into the "
            "audit log (log them at Metadata)",
        ),
        (
            "Policy/<unnamed>",
            "rules[2]",
            "fail",
            "secrets are logged with request bodies: their values would be copied into the "
            "audit log (log them at Metadata)",
        ),
        (
            "Policy/<unnamed>",
            "rules[3]",
            "warn",
            "RBAC changes not logged (rule 4 matches first): create, update, patch, delete on "
            "rbac.authorization.k8s.io/roles, rbac.authorization.k8s.io/rolebindings, "
            "rbac.authorization.k8s.io/clusterroles, "
            "rbac.authorization.k8s.io/clusterrolebindings",
        ),
    ]
    assert [f.location.line for f in result.findings] == [7, 10, 15, 15, 19]


def test_policy_in_a_configmap_is_read() -> None:
    result = result_of(scan_files(AUDIT / "policy-configmap.yaml"), "AUD-03")
    assert result.status is Status.PASS


def _policy(*rules) -> AuditPolicy:
    obj = {"apiVersion": "audit.k8s.io/v1", "kind": "Policy", "rules": list(rules)}
    return AuditPolicy(Resource(obj), (), obj)


# "Auditing" task page and the audit.k8s.io/v1 PolicyRule reference: first match wins;
# "pods" does not match subresources, "pods/*" and "*/exec" do; resources need the group;
# namespaces do not match cluster-scoped requests unless "" is listed; nonResourceURLs
# take a trailing "*" as a prefix; an unmatched request is not logged.
RULE_CASES = [
    ([{"level": "Metadata"}], Probe("get", "", "pods"), 1),
    ([], Probe("get", "", "pods"), 0),
    (
        [
            {"level": "None", "resources": [{"group": "", "resources": ["pods"]}]},
            {"level": "Request"},
        ],
        Probe("create", "", "pods", "exec"),
        2,
    ),
    (
        [
            {"level": "None", "resources": [{"group": "", "resources": ["pods/*"]}]},
            {"level": "Request"},
        ],
        Probe("create", "", "pods", "exec"),
        0,
    ),
    (
        [
            {"level": "None", "resources": [{"group": "", "resources": ["*/exec"]}]},
            {"level": "Request"},
        ],
        Probe("create", "", "pods", "exec"),
        0,
    ),
    (
        [
            {"level": "None", "resources": [{"group": "", "resources": ["secrets"]}]},
            {"level": "Metadata"},
        ],
        Probe("get", "apps", "secrets"),
        1,
    ),
    (
        [{"level": "None", "namespaces": ["kube-system"]}, {"level": "Metadata"}],
        Probe("get", "", "secrets", namespace="kube-system"),
        0,
    ),
    (
        [{"level": "None", "namespaces": ["kube-system"]}, {"level": "Metadata"}],
        Probe("get", "", "nodes", namespace=""),
        1,
    ),
    (
        [{"level": "None", "nonResourceURLs": ["/healthz*"]}, {"level": "Metadata"}],
        Probe("get", path="/healthz/etcd"),
        0,
    ),
    (
        [{"level": "None", "nonResourceURLs": ["/healthz*"]}, {"level": "Metadata"}],
        Probe("get", "", "pods"),
        1,
    ),
    (
        [{"level": "None", "users": ["system:kube-proxy"]}, {"level": "Metadata"}],
        Probe("get", "", "endpoints"),
        1,
    ),
    (
        [{"level": "None", "userGroups": ["system:authenticated"]}, {"level": "Metadata"}],
        Probe("get", "", "endpoints"),
        0,
    ),
    (
        [
            {
                "level": "RequestResponse",
                "resources": [{"group": "", "resources": ["secrets"], "resourceNames": ["x"]}],
            }
        ],
        Probe("get", "", "secrets"),
        0,
    ),
    # Every stage omitted: the rule matches, and nothing is written.
    (
        [
            {
                "level": "Metadata",
                "omitStages": ["RequestReceived", "ResponseStarted", "ResponseComplete", "Panic"],
            }
        ],
        Probe("get", "", "pods"),
        0,
    ),
]


@pytest.mark.parametrize(("rules", "probe", "level"), RULE_CASES)
def test_first_match_semantics(rules, probe, level) -> None:
    assert _policy(*rules).decide(probe)[1] == level


def test_fluent_bit_with_tls_covering_every_node_passes_and_carries_falco_events() -> None:
    outcome = scan_files(AUDIT / "fluent-bit.yaml", NODES, FALCO)
    shipping = result_of(outcome, "AUD-04")
    assert (shipping.status, shipping.reason) == (
        Status.PASS,
        "node and audit logs are shipped to a remote TLS sink from every node",
    )
    assert shipping.facts["shippers"][0]["sinks"] == [{"type": "es", "remote": True, "tls": True}]
    events = result_of(outcome, "AUD-05")
    assert events.reason == (
        "security events leave the cluster through Fluent Bit DaemonSet logging/fluent-bit"
    )


def test_vector_console_sink_and_missing_tolerations_are_gaps() -> None:
    result = result_of(scan_files(AUDIT / "vector-console.yaml", NODES), "AUD-04")
    assert result.status is Status.WARN
    assert _findings(result) == [
        (
            "ConfigMap/observability/vector",
            "data",
            "warn",
            "Vector DaemonSet observability/vector writes only to the node itself (no remote sink)",
        ),
        (
            "DaemonSet/observability/vector",
            "spec.template.spec.tolerations",
            "warn",
            "Vector DaemonSet observability/vector cannot run on the control-plane nodes "
            "(cp-1), where the audit log is written",
        ),
        (
            "DaemonSet/observability/vector",
            "spec.template.spec.tolerations",
            "warn",
            "Vector DaemonSet observability/vector covers 3 of 6 nodes",
        ),
    ]


def test_falco_events_stay_local_without_outputs_or_shipper() -> None:
    result = result_of(scan_files(FALCO), "AUD-05")
    assert result.status is Status.WARN
    assert result.facts["sources"] == ["Falco"]


def test_no_shipper_fails_only_in_a_complete_bundle() -> None:
    assert result_of(scan_files(NODES), "AUD-04").status is Status.NOT_OBSERVABLE
    complete = scan_files(NODES, AUDIT / "apiserver-audited.yaml", bundle_is_complete=True)
    assert result_of(complete, "AUD-04").status is Status.FAIL


def test_malformed_audit_inputs_do_not_crash(tmp_path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: [1, {level: 3, resources: x}]\n---\n"
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: kube-system}\n"
        "data: {p: 'apiVersion: audit.k8s.io/v1\\nkind: Policy\\nrules: x'}\n"
    )
    outcome = scan_files(path, AUDIT / "vector-console.yaml")
    for check_id in ("AUD-01", "AUD-02", "AUD-03", "AUD-04", "AUD-05"):
        assert result_of(outcome, check_id).status is not Status.ERROR


def test_audit_policy_option_adds_the_policy_with_its_own_locations() -> None:
    result = run_cli(
        "scan",
        str(AUDIT / "apiserver-audited.yaml"),
        "--audit-policy",
        str(AUDIT / "policy-flawed.yaml"),
        "-f",
        "json",
    )
    report = json.loads(result.stdout)
    check = next(c for c in report["checks"] if c["id"] == "AUD-03")
    assert check["status"] == "fail"
    locations = [f["location"] for f in check["findings"]]
    assert locations[1] == {"file": str(AUDIT / "policy-flawed.yaml"), "line": 10}


def test_audit_policy_option_rejects_a_file_without_a_policy() -> None:
    result = run_cli("scan", str(AUDIT / "apiserver-audited.yaml"), "--audit-policy", str(NODES))
    assert result.code == ExitStatus.USAGE_ERROR
    assert f"{NODES}: no audit.k8s.io Policy document (--audit-policy)" in result.stderr


def test_managed_clusters_defer_audit_policy_and_shipping_to_the_provider() -> None:
    outcome = scan_files(EKS_NODES, AUDIT / "fluent-bit.yaml")
    policy = result_of(outcome, "AUD-03")
    assert policy.status is Status.NOT_OBSERVABLE
    assert policy.reason == "Amazon EKS sets the audit policy of its API servers"
    shipping = result_of(outcome, "AUD-04")
    assert (shipping.status, shipping.reason) == (
        Status.WARN,
        "node logs are shipped; audit log shipping by Amazon EKS is not observable",
    )


def test_one_complete_shipper_is_enough() -> None:
    # A local debug Vector beside a complete Fluent Bit does not undo Fluent Bit's shipping.
    outcome = scan_files(AUDIT / "fluent-bit.yaml", AUDIT / "vector-console.yaml", NODES)
    result = result_of(outcome, "AUD-04")
    assert (result.status, result.findings) == (Status.PASS, ())


def test_every_api_server_of_an_ha_control_plane_is_judged(tmp_path) -> None:
    second = (AUDIT / "apiserver-audited.yaml").read_text()
    second = second.replace("kube-apiserver-cp-1", "kube-apiserver-cp-2")
    second = second.replace("        - --audit-policy-file=/etc/kubernetes/audit/policy.yaml\n", "")
    second = second.replace("        - --audit-log-maxage=30\n", "")
    path = tmp_path / "cp-2.yaml"
    path.write_text(second)
    outcome = scan_files(AUDIT / "apiserver-audited.yaml", path)
    on = result_of(outcome, "AUD-01")
    assert on.reason == "1 of 2 API servers do not record audit events"
    assert [str(f.object) for f in on.findings] == ["Pod/kube-system/kube-apiserver-cp-2"]
    retention = result_of(outcome, "AUD-02")
    assert [(str(f.object), f.message) for f in retention.findings] == [
        (
            "Pod/kube-system/kube-apiserver-cp-2",
            "--audit-log-maxage is not set (no rotation limit is configured)",
        )
    ]
