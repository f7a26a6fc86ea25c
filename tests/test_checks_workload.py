"""Pod hardening and image checks on real manifests, with their exact findings."""

from __future__ import annotations

import pytest
from conftest import FIXTURES, result_of, scan_files

from zt_audit.engine.model import Severity, Stage, Status

WORKLOAD = FIXTURES / "workload"
INSECURE = WORKLOAD / "insecure.yaml"
HARDENED = WORKLOAD / "hardened.yaml"
ALLOWED = ("ghcr.io/acme",)


@pytest.fixture(scope="module")
def insecure():
    return scan_files(INSECURE, allowed_registries=ALLOWED)


@pytest.fixture(scope="module")
def hardened():
    return scan_files(HARDENED, allowed_registries=ALLOWED)


def findings(outcome, check_id):
    return [
        (f.status.value, f.location.line if f.location else None, f.field, f.message)
        for f in result_of(outcome, check_id).findings
    ]


P = "spec.template.spec"
C = f"{P}.containers[0]"
J = "spec.jobTemplate.spec.template.spec"
JC = f"{J}.containers[0]"

EXPECTED = {
    "RT-04": (
        Status.FAIL,
        [
            (
                "fail",
                5,
                "metadata",
                "namespace legacy has no Pod Security enforce label; the unobservable cluster "
                "default is assumed to be privileged",
            )
        ],
    ),
    "RT-05": (
        Status.FAIL,
        [
            (
                "fail",
                57,
                f"{P}.hostPID",
                "DaemonSet legacy/node-exporter shares the node's PID namespace (hostPID: true)",
            ),
            (
                "fail",
                27,
                f"{C}.securityContext.privileged",
                "container agent of Deployment legacy/build-agent is privileged",
            ),
            (
                "fail",
                22,
                f"{P}.hostNetwork",
                "Deployment legacy/build-agent shares the node's network namespace "
                "(hostNetwork: true)",
            ),
        ],
    ),
    "RT-06": (
        Status.FAIL,
        [
            (
                "warn",
                95,
                f"{JC}.securityContext",
                "container report of CronJob legacy/report does not set allowPrivilegeEscalation: "
                "false (unset means allowed)",
            ),
            (
                "warn",
                95,
                f"{JC}.securityContext",
                "container report of CronJob legacy/report may run as root: neither "
                "runAsNonRoot: true nor a non-zero runAsUser",
            ),
            (
                "fail",
                65,
                f"{C}.securityContext.allowPrivilegeEscalation",
                "container node-exporter of DaemonSet legacy/node-exporter sets "
                "allowPrivilegeEscalation: true",
            ),
            (
                "warn",
                26,
                f"{C}.securityContext",
                "container agent of Deployment legacy/build-agent does not set "
                "allowPrivilegeEscalation: false (unset means allowed)",
            ),
            (
                "fail",
                28,
                f"{C}.securityContext.runAsUser",
                "container agent of Deployment legacy/build-agent runs as UID 0 (root)",
            ),
        ],
    ),
    "RT-07": (
        Status.FAIL,
        [
            (
                "warn",
                95,
                f"{JC}.securityContext",
                "container report of CronJob legacy/report does not drop ALL capabilities",
            ),
            (
                "warn",
                29,
                f"{C}.securityContext.capabilities",
                "container agent of Deployment legacy/build-agent does not drop ALL capabilities",
            ),
            (
                "fail",
                30,
                f"{C}.securityContext.capabilities.add[0]",
                "container agent of Deployment legacy/build-agent adds SYS_ADMIN",
            ),
            (
                "fail",
                30,
                f"{C}.securityContext.capabilities.add[1]",
                "container agent of Deployment legacy/build-agent adds NET_RAW",
            ),
            (
                "warn",
                30,
                f"{C}.securityContext.capabilities.add[2]",
                "container agent of Deployment legacy/build-agent adds CHOWN",
            ),
        ],
    ),
    "RT-08": (
        Status.FAIL,
        [
            (
                "fail",
                77,
                f"{P}.volumes[0].hostPath.path",
                "DaemonSet legacy/node-exporter mounts the node path /var/lib/node-exporter/",
            ),
            (
                "fail",
                33,
                f"{C}.ports[0].hostPort",
                "container agent of Deployment legacy/build-agent binds node port 50000",
            ),
            (
                "fail",
                40,
                f"{P}.volumes[0].hostPath.path",
                "Deployment legacy/build-agent mounts the node path /var/run/docker.sock "
                "(node or container-runtime takeover)",
            ),
        ],
    ),
    "RT-09": (
        Status.FAIL,
        [
            (
                "fail",
                90,
                "spec.jobTemplate.spec.template.metadata.annotations",
                "container report of CronJob legacy/report runs AppArmor Unconfined",
            ),
            (
                "warn",
                95,
                f"{JC}.securityContext",
                "container report of CronJob legacy/report has no seccomp profile (the runtime "
                "default is Unconfined)",
            ),
            (
                "fail",
                60,
                f"{P}.securityContext.seccompProfile.type",
                "container node-exporter of DaemonSet legacy/node-exporter runs seccomp Unconfined",
            ),
            (
                "warn",
                26,
                f"{C}.securityContext",
                "container agent of Deployment legacy/build-agent has no seccomp profile (the "
                "runtime default is Unconfined)",
            ),
        ],
    ),
    "RT-10": (
        Status.WARN,
        [
            (
                "warn",
                95,
                JC,
                "container report of CronJob legacy/report has a writable root filesystem: "
                "securityContext is not set",
            ),
            (
                "warn",
                26,
                f"{C}.securityContext",
                "container agent of Deployment legacy/build-agent has a writable root filesystem: "
                "securityContext.readOnlyRootFilesystem is not set",
            ),
        ],
    ),
    "IMG-01": (
        Status.FAIL,
        [
            (
                "fail",
                96,
                f"{JC}.image",
                "container report of CronJob legacy/report uses python:3.12-slim without a digest",
            ),
            (
                "fail",
                63,
                f"{C}.image",
                "container node-exporter of DaemonSet legacy/node-exporter uses "
                "quay.io/prometheus/node-exporter:latest without a digest",
            ),
            (
                "fail",
                25,
                f"{C}.image",
                "container agent of Deployment legacy/build-agent uses jenkins/inbound-agent "
                "without a digest",
            ),
        ],
    ),
    "IMG-02": (
        Status.FAIL,
        [
            (
                "fail",
                63,
                f"{C}.image",
                "container node-exporter of DaemonSet legacy/node-exporter image "
                "quay.io/prometheus/node-exporter:latest uses the mutable tag :latest",
            ),
            (
                "fail",
                25,
                f"{C}.image",
                "container agent of Deployment legacy/build-agent image jenkins/inbound-agent has "
                "no tag, so it pulls :latest",
            ),
        ],
    ),
    "IMG-03": (
        Status.FAIL,
        [
            (
                "fail",
                96,
                f"{JC}.image",
                "container report of CronJob legacy/report pulls python:3.12-slim from docker.io, "
                "outside the allow-list",
            ),
            (
                "fail",
                63,
                f"{C}.image",
                "container node-exporter of DaemonSet legacy/node-exporter pulls "
                "quay.io/prometheus/node-exporter:latest from quay.io, outside the allow-list",
            ),
            (
                "fail",
                25,
                f"{C}.image",
                "container agent of Deployment legacy/build-agent pulls jenkins/inbound-agent from "
                "docker.io, outside the allow-list",
            ),
        ],
    ),
}


@pytest.mark.parametrize("check_id", sorted(EXPECTED))
def test_insecure_manifests_give_the_exact_findings(insecure, check_id):
    status, expected = EXPECTED[check_id]
    assert result_of(insecure, check_id).status is status
    assert findings(insecure, check_id) == expected


@pytest.mark.parametrize("check_id", sorted(EXPECTED))
def test_hardened_manifests_pass_every_check(hardened, check_id):
    result = result_of(hardened, check_id)
    assert result.status is Status.PASS, result.reason
    assert result.findings == ()


def test_ratios_count_the_units_each_check_judges(insecure):
    assert str(result_of(insecure, "RT-05").ratio) == "1 of 3 workloads"
    assert str(result_of(insecure, "RT-10").ratio) == "1 of 3 containers"
    assert str(result_of(insecure, "IMG-01").ratio) == "0 of 3 containers"


def test_a_runtime_socket_mount_raises_rt08_to_critical(insecure):
    result = result_of(insecure, "RT-08")
    assert result.severity is Severity.CRITICAL
    critical = [f for f in result.findings if f.severity is Severity.CRITICAL]
    assert [f.object.name for f in critical] == ["build-agent"]


def test_without_an_allow_list_img03_warns_and_names_the_registries():
    outcome = scan_files(INSECURE)
    result = result_of(outcome, "IMG-03")
    assert result.status is Status.WARN
    assert result.facts["registries"] == ["docker.io", "quay.io"]


def test_a_configured_mutable_tag_fails_img02(tmp_path):
    manifest = tmp_path / "stable.yaml"
    manifest.write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: shop}\n"
        "spec:\n  containers:\n  - {name: web, image: 'ghcr.io/acme/web:stable'}\n"
        "  - {name: side, image: 'ghcr.io/acme/side:stable@sha256:" + "a" * 64 + "'}\n"
    )
    default = result_of(scan_files(manifest), "IMG-02")
    assert default.status is Status.PASS
    configured = result_of(scan_files(manifest, mutable_tags=("latest", "stable")), "IMG-02")
    # The digest pins the second container, whatever its tag says.
    assert [f.message for f in configured.findings] == [
        "container web of Pod shop/web image ghcr.io/acme/web:stable uses the mutable tag :stable"
    ]


def test_pod_security_baseline_evidences_initial_only(tmp_path):
    manifest = tmp_path / "ns.yaml"
    manifest.write_text(
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: web\n  labels:\n"
        "    pod-security.kubernetes.io/enforce: baseline\n"
    )
    result = result_of(scan_files(manifest), "RT-04")
    assert result.status is Status.WARN
    assert result.stage_scores == {Stage.INITIAL: 1.0, Stage.ADVANCED: 0.5}


def test_pod_security_is_not_observable_without_namespace_objects():
    outcome = scan_files(FIXTURES / "corpora" / "microservices-demo" / "kubernetes-manifests")
    result = result_of(outcome, "RT-04")
    assert result.status is Status.NOT_OBSERVABLE
    assert result.reason == "no Namespace objects in the input for default"
    # Declaring the bundle complete makes the missing label a finding.
    complete = scan_files(
        FIXTURES / "corpora" / "microservices-demo" / "kubernetes-manifests",
        bundle_is_complete=True,
    )
    assert result_of(complete, "RT-04").status is Status.FAIL


def test_kyverno_enforcing_restricted_satisfies_pod_security(tmp_path):
    manifest = tmp_path / "kyverno.yaml"
    manifest.write_text(
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: web}\n---\n"
        "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: psa}\n"
        "spec:\n  validationFailureAction: Enforce\n  rules:\n  - name: restricted\n"
        "    match: {any: [{resources: {kinds: [Pod]}}]}\n"
        "    validate:\n      podSecurity: {level: restricted, version: latest}\n"
    )
    assert result_of(scan_files(manifest), "RT-04").status is Status.PASS


NAMESPACES = "".join(
    f"apiVersion: v1\nkind: Namespace\nmetadata: {{name: {name}, labels: {{tier: {tier}}}}}\n---\n"
    for name, tier in (("web", "front"), ("legacy", "old"), ("batch", "back"), ("tools", "back"))
)


def _pod_security(tmp_path, spec: str, rule: str, podsecurity: str) -> dict[str, str]:
    """The level RT-04 finds in each namespace under one Kyverno podSecurity rule."""
    manifest = tmp_path / "kyverno.yaml"
    manifest.write_text(
        NAMESPACES + "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: psa}\n"
        f"spec:\n{spec}  rules:\n  - name: pss\n{rule}"
        f"    validate:\n      podSecurity: {podsecurity}\n"
    )
    return result_of(scan_files(manifest), "RT-04").facts["levels"]


ALL_PODS = "    match: {any: [{resources: {kinds: [Pod]}}]}\n"


@pytest.mark.parametrize(
    ("spec", "rule", "podsecurity", "expected"),
    [
        # Kyverno docs (policy settings): an excluded namespace is not validated at all.
        (
            "  validationFailureAction: Enforce\n",
            ALL_PODS + "    exclude: {any: [{resources: {namespaces: [legacy]}}]}\n",
            "{level: restricted, version: latest}",
            {"web": "restricted", "legacy": "none", "batch": "restricted", "tools": "restricted"},
        ),
        # match by namespaceSelector: only the selected namespaces are covered.
        (
            "  validationFailureAction: Enforce\n",
            "    match: {any: [{resources: {kinds: [Pod], namespaceSelector: "
            "{matchLabels: {tier: back}}}}]}\n",
            "{level: baseline, version: latest}",
            {"web": "none", "legacy": "none", "batch": "baseline", "tools": "baseline"},
        ),
        # validationFailureActionOverrides: Audit in one namespace takes it out of enforcement.
        (
            "  validationFailureAction: Enforce\n  validationFailureActionOverrides:\n"
            "  - {action: Audit, namespaces: [tools]}\n",
            ALL_PODS,
            "{level: restricted, version: latest}",
            {"web": "restricted", "legacy": "restricted", "batch": "restricted", "tools": "none"},
        ),
        # ... and Enforce in one namespace enforces there only, under an Audit policy.
        (
            "  validationFailureAction: Audit\n  validationFailureActionOverrides:\n"
            "  - {action: Enforce, namespaces: [web]}\n",
            ALL_PODS,
            "{level: restricted, version: latest}",
            {"web": "restricted", "legacy": "none", "batch": "none", "tools": "none"},
        ),
        # podSecurity.exclude exempts controls: restricted with exemptions is not restricted.
        (
            "  validationFailureAction: Enforce\n",
            ALL_PODS,
            "{level: restricted, version: latest, exclude: "
            "[{controlName: Capabilities, images: ['*']}]}",
            {"web": "baseline", "legacy": "baseline", "batch": "baseline", "tools": "baseline"},
        ),
        # The default mode is Audit: nothing is enforced.
        (
            "",
            ALL_PODS,
            "{level: restricted, version: latest}",
            {"web": "none", "legacy": "none", "batch": "none", "tools": "none"},
        ),
    ],
)
def test_kyverno_pod_security_counts_only_where_it_enforces(
    tmp_path, spec, rule, podsecurity, expected
):
    assert _pod_security(tmp_path, spec, rule, podsecurity) == expected


def test_wrong_field_types_do_not_crash_any_check(tmp_path):
    manifest = tmp_path / "odd.yaml"
    manifest.write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: odd, labels: [x]}\n"
        "spec:\n  template:\n    metadata: {annotations: 7}\n    spec:\n"
        "      containers: x\n      initContainers: [3, {name: i, image: 5, securityContext: 4}]\n"
        "      volumes: {a: b}\n      securityContext: []\n---\n"
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: [1, 2]\n"
    )
    outcome = scan_files(manifest)
    assert [i.check.id for i in outcome.evaluated if i.result.status is Status.ERROR] == []


def test_kube_score_fixture_with_template_placeholders_scans_cleanly():
    outcome = scan_files(FIXTURES / "corpora" / "kube-score" / "invalid-yaml.yaml")
    assert outcome.inventory.errors == []
    assert [i.check.id for i in outcome.evaluated if i.result.status is Status.ERROR] == []
