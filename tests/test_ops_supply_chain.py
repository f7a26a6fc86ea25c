"""Supply chain: IMG-04 admission provenance, IMG-05 scanner coverage, IMG-06 running
vulnerabilities, IMG-07 SBOM and provenance attestations."""

from __future__ import annotations

import pytest

from tests.conftest import CORPORA, FIXTURES, result_of, scan_files
from zt_audit.analysis.admission.controls import ImageControl
from zt_audit.engine.model import Status
from zt_audit.inventory import Resource

SUPPLY = FIXTURES / "ops" / "supply-chain"
WORKLOADS = SUPPLY / "workloads.yaml"
GATEKEEPER = CORPORA / "gatekeeper-library" / "library" / "general"


def _messages(result) -> list[tuple[str, str, str]]:
    return [(str(f.object), f.field, f.message) for f in result.findings]


def test_enforced_kyverno_verification_covers_all_but_the_excluded_namespace() -> None:
    outcome = scan_files(WORKLOADS, SUPPLY / "kyverno-verify-enforce.yaml")
    result = result_of(outcome, "IMG-04")
    assert result.status is Status.WARN
    assert result.reason == (
        "3 of 4 containers and 2 of 3 namespaces under enforced signature verification"
    )
    assert _messages(result) == [
        (
            "CronJob/legacy/reconcile",
            "spec.jobTemplate.spec.template.spec.containers[0].image",
            "container reconcile of CronJob legacy/reconcile: nginx:1.27 is not "
            "signature-verified by an enforcing admission policy",
        )
    ]
    assert result.facts["namespaces_covered"] == ["payments", "shop"]
    provenance = result_of(outcome, "IMG-07")
    assert provenance.status is Status.PASS
    assert provenance.reason == (
        "attestations (https://slsa.dev/provenance/v1) verified at admission by "
        "Kyverno ClusterPolicy/verify-acme-images"
    )


def test_full_enforced_coverage_passes(tmp_path) -> None:
    policy = (SUPPLY / "kyverno-verify-enforce.yaml").read_text()
    policy = policy.replace('["ghcr.io/acme/*"]', '["ghcr.io/acme/*", "docker.io/*"]')
    policy = policy.replace("namespaces: [legacy]", "namespaces: [kube-system]")
    path = tmp_path / "policy.yaml"
    path.write_text(policy)
    result = result_of(scan_files(WORKLOADS, path), "IMG-04")
    assert (result.status, result.reason) == (
        Status.PASS,
        "4 of 4 containers and 3 of 3 namespaces under enforced signature verification",
    )


def test_audit_mode_and_fail_open_kyverno_verification_only_warns() -> None:
    result = result_of(scan_files(WORKLOADS, SUPPLY / "kyverno-verify-audit.yaml"), "IMG-04")
    assert result.status is Status.WARN
    assert result.ratio.passed == 0
    assert _messages(result)[0] == (
        "ClusterPolicy/verify-acme-images-audit",
        "spec.rules[0].verifyImages[0]",
        "Kyverno ClusterPolicy/verify-acme-images-audit verifies signatures in Audit mode, "
        "which does not block",
    )


def test_an_audit_policy_enforces_where_an_override_says_enforce(tmp_path) -> None:
    """Kyverno: validationFailureActionOverrides set the mode per namespace, both ways."""
    policy = (SUPPLY / "kyverno-verify-audit.yaml").read_text()
    policy = policy.replace("  failurePolicy: Ignore\n", "")
    policy = policy.replace(
        "  validationFailureAction: Audit\n",
        "  validationFailureAction: Audit\n  validationFailureActionOverrides:\n"
        "    - {action: Enforce, namespaces: [payments]}\n",
    )
    path = tmp_path / "policy.yaml"
    path.write_text(policy)
    result = result_of(scan_files(WORKLOADS, path), "IMG-04")
    assert result.facts["namespaces_covered"] == ["payments"]
    assert result.reason.endswith("1 of 3 namespaces under enforced signature verification")


def test_sigstore_counts_only_opted_in_namespaces_and_ignores_warn_mode() -> None:
    outcome = scan_files(WORKLOADS, SUPPLY / "sigstore.yaml")
    result = result_of(outcome, "IMG-04")
    assert result.reason == (
        "2 of 4 containers and 1 of 3 namespaces under enforced signature verification"
    )
    assert _messages(result)[0] == (
        "ClusterImagePolicy/dockerhub-warn",
        "spec.authorities",
        "Sigstore policy-controller ClusterImagePolicy/dockerhub-warn verifies signatures in "
        "warn mode, which does not block",
    )
    assert result_of(outcome, "IMG-07").status is Status.PASS


def test_validating_admission_policy_restricts_but_does_not_verify() -> None:
    result = result_of(scan_files(WORKLOADS, SUPPLY / "vap-registry.yaml"), "IMG-04")
    assert result.status is Status.WARN
    assert _messages(result)[0] == (
        "ValidatingAdmissionPolicyBinding/acme-registry-only-payments",
        "spec.validationActions",
        "policy acme-registry-only through ValidatingAdmissionPolicyBinding/"
        "acme-registry-only-payments only restricts image names, tags or digests (mode Deny)",
    )


def test_gatekeeper_library_constraints_are_enforced_restrictions() -> None:
    # The library's suites state that these constraints reject their disallowed samples:
    # enforcementAction is absent, which Gatekeeper reads as deny.
    outcome = scan_files(
        GATEKEEPER / "allowedrepos" / "samples",
        GATEKEEPER / "imagedigests" / "samples",
        GATEKEEPER / "disallowedtags" / "samples",
    )
    result = result_of(outcome, "IMG-04")
    assert result.status is Status.WARN
    controls = {(c["object"], c["mode"], c["verifies"]) for c in result.facts["controls"]}
    assert controls == {
        ("K8sAllowedRepos/repo-is-openpolicyagent", "deny", False),
        ("K8sDisallowedTags/container-image-must-not-have-latest-tag", "deny", False),
        ("K8sImageDigests/container-image-must-have-digest", "deny", False),
    }


GATEKEEPER_WEBHOOK = """
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {{name: gatekeeper-validating-webhook-configuration}}
webhooks:
  - name: validation.gatekeeper.sh
    failurePolicy: {policy}
    clientConfig: {{service: {{name: gatekeeper-webhook-service, namespace: gatekeeper-system}}}}
    rules:
      - {{apiGroups: ["*"], apiVersions: ["*"], operations: [CREATE, UPDATE], resources: ["*"]}}
---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: RatifyVerification
metadata: {{name: ratify-constraint}}
spec:
  enforcementAction: {action}
  match: {{kinds: [{{apiGroups: [""], kinds: [Pod]}}], namespaces: ["*"]}}
"""


# Gatekeeper docs: enforcementAction deny blocks, dryrun and warn do not; the webhook's
# failurePolicy (Ignore in the default install) decides whether an outage admits pods.
@pytest.mark.parametrize(
    ("policy", "action", "status"),
    [
        ("Fail", "deny", Status.PASS),
        ("Ignore", "deny", Status.WARN),
        ("Fail", "dryrun", Status.WARN),
        ("Fail", "warn", Status.WARN),
    ],
)
def test_ratify_through_gatekeeper(tmp_path, policy, action, status) -> None:
    path = tmp_path / "ratify.yaml"
    path.write_text(GATEKEEPER_WEBHOOK.format(policy=policy, action=action))
    assert result_of(scan_files(WORKLOADS, path), "IMG-04").status is status


def _control(**changes) -> ImageControl:
    resource = Resource({"apiVersion": "v1", "kind": "X", "metadata": {"name": "x"}})
    values = {"resource": resource, "path": (), "engine": "e", "verifies": True}
    return ImageControl(**{**values, "enforced": True, "mode": "m", **changes})


# Kyverno wildcards cross "/"; policy-controller's "*" stays within a path component and
# "**" spans them; Docker Hub images are also known as index.docker.io/library/...
@pytest.mark.parametrize(
    ("style", "glob", "image", "expected"),
    [
        ("kyverno", "ghcr.io/acme/*", "ghcr.io/acme/team/app:1", True),
        ("kyverno", "docker.io/*", "nginx", True),
        ("kyverno", "ghcr.io/acme/*", "ghcr.io/other/app:1", False),
        ("sigstore", "ghcr.io/acme/*", "ghcr.io/acme/team/app:1", False),
        ("sigstore", "ghcr.io/acme/**", "ghcr.io/acme/team/app:1", True),
        ("sigstore", "index.docker.io/library/*", "nginx:1.27", True),
    ],
)
def test_image_globs(style, glob, image, expected) -> None:
    assert _control(image_globs=(glob,), glob_style=style).covers_image(image) is expected


def test_no_policy_is_not_observable_in_a_partial_bundle_and_fails_in_a_complete_one() -> None:
    assert result_of(scan_files(WORKLOADS), "IMG-04").status is Status.NOT_OBSERVABLE
    complete = scan_files(WORKLOADS, bundle_is_complete=True)
    assert result_of(complete, "IMG-04").status is Status.FAIL
    assert result_of(complete, "IMG-05").status is Status.FAIL
    assert result_of(complete, "IMG-07").status is Status.FAIL


def test_trivy_reports_coverage_freshness_and_fixable_vulnerabilities() -> None:
    outcome = scan_files(WORKLOADS, SUPPLY / "trivy-reports.yaml")
    coverage = result_of(outcome, "IMG-05")
    assert coverage.status is Status.WARN
    assert coverage.reason == "2 of 4 containers have a vulnerability report from the last 7 days"
    assert coverage.facts["reference_time"] == "2026-11-30T10:00:00+00:00"
    assert [f.message for f in coverage.findings] == [
        "container gateway of Deployment payments/gateway has no vulnerability report",
        "container migrate of Deployment shop/checkout: its vulnerability report is stale "
        "(updated 2026-11-18T10:00:00+00:00, more than 7 days before 2026-11-30T10:00:00+00:00)",
    ]

    vulnerabilities = result_of(outcome, "IMG-06")
    assert vulnerabilities.status is Status.FAIL
    assert [(f.status, f.message) for f in vulnerabilities.findings] == [
        (
            Status.WARN,
            "container reconcile of CronJob legacy/reconcile (library/nginx:1.27): "
            "1 critical vulnerabilities without a fix",
        ),
        (
            Status.FAIL,
            "container app of Deployment shop/checkout (ghcr.io/acme/checkout:2.3.1): "
            "1 critical vulnerabilities have a fixed version",
        ),
    ]


def test_reference_time_setting_makes_every_report_stale() -> None:
    outcome = scan_files(
        WORKLOADS, SUPPLY / "trivy-reports.yaml", reference_time="2027-01-15T00:00:00Z"
    )
    result = result_of(outcome, "IMG-05")
    assert result.ratio.passed == 0
    assert result.status is Status.WARN


def test_malformed_policies_and_reports_do_not_crash(tmp_path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: bad}\n"
        "spec: {rules: [{match: x, verifyImages: [3, {attestors: x}]}]}\n---\n"
        "apiVersion: policy.sigstore.dev/v1beta1\nkind: ClusterImagePolicy\n"
        "metadata: {name: bad}\nspec: {images: x, authorities: [1]}\n---\n"
        "apiVersion: aquasecurity.github.io/v1alpha1\nkind: VulnerabilityReport\n"
        "metadata: {name: bad, namespace: shop, labels: {a: b}}\nreport: [1]\n"
    )
    outcome = scan_files(WORKLOADS, path)
    for check_id in ("IMG-04", "IMG-05", "IMG-06", "IMG-07"):
        assert result_of(outcome, check_id).status is not Status.ERROR


KYVERNO_WEBHOOK = """
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: kyverno-resource-validating-webhook-cfg}
webhooks:
  - name: validate.kyverno.svc-fail
    failurePolicy: Fail
    clientConfig: {service: {name: kyverno-svc, namespace: kyverno}}
    namespaceSelector:
      matchExpressions:
        - {key: kubernetes.io/metadata.name, operator: NotIn, values: [kyverno, payments]}
    rules:
      - {apiGroups: [""], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [pods]}
"""


def test_engine_webhook_namespace_selector_narrows_coverage(tmp_path) -> None:
    # Dynamic Admission Control: a webhook is called only for namespaces its
    # namespaceSelector matches, whatever the policy says.
    path = tmp_path / "webhook.yaml"
    path.write_text(KYVERNO_WEBHOOK)
    outcome = scan_files(WORKLOADS, SUPPLY / "kyverno-verify-enforce.yaml", path)
    result = result_of(outcome, "IMG-04")
    assert result.facts["namespaces_covered"] == ["shop"]
    assert result.reason == (
        "2 of 4 containers and 1 of 3 namespaces under enforced signature verification"
    )


def test_engine_webhook_object_selector_lets_labelled_pods_through(tmp_path) -> None:
    # Dynamic Admission Control: objects the objectSelector does not match are not sent.
    webhook = KYVERNO_WEBHOOK.replace(
        "values: [kyverno, payments]}",
        "values: [kyverno]}\n    objectSelector:\n"
        "      matchExpressions: [{key: app, operator: NotIn, values: [checkout]}]",
    )
    path = tmp_path / "webhook.yaml"
    path.write_text(webhook)
    outcome = scan_files(WORKLOADS, SUPPLY / "kyverno-verify-enforce.yaml", path)
    result = result_of(outcome, "IMG-04")
    assert result.reason == (
        "1 of 4 containers and 2 of 3 namespaces under enforced signature verification"
    )


def test_kyverno_pod_security_corpus_has_no_image_rules_and_fails_closed() -> None:
    # Kyverno's pod-security policies exempt images inside podSecurity; that is not an
    # image restriction. failurePolicy is unset, and Kyverno's default is Fail.
    outcome = scan_files(CORPORA / "kyverno-policies-mesh-podsec" / "pod-security", WORKLOADS)
    assert result_of(outcome, "IMG-04").status is Status.NOT_OBSERVABLE
    integrity = result_of(outcome, "GOV-01")
    assert integrity.status is Status.PASS


def test_kyverno_skip_image_references_are_not_covered(tmp_path) -> None:
    # Kyverno verifyImages: skipImageReferences lists images the rule does not verify.
    policy = (SUPPLY / "kyverno-verify-enforce.yaml").read_text()
    policy = policy.replace(
        '- imageReferences: ["ghcr.io/acme/*"]',
        '- imageReferences: ["ghcr.io/acme/*"]\n'
        '          skipImageReferences: ["ghcr.io/acme/payment-*"]',
    )
    path = tmp_path / "policy.yaml"
    path.write_text(policy)
    result = result_of(scan_files(WORKLOADS, path), "IMG-04")
    assert result.ratio.passed == 2


def test_gatekeeper_mutating_webhook_does_not_decide_enforcement(tmp_path) -> None:
    # Gatekeeper rejects in its validating webhook; its mutating webhook only rewrites.
    mutating = GATEKEEPER_WEBHOOK.format(policy="Fail", action="deny").replace(
        "kind: ValidatingWebhookConfiguration", "kind: MutatingWebhookConfiguration"
    )
    mutating = mutating.replace("failurePolicy: Fail", "failurePolicy: Ignore")
    validating = GATEKEEPER_WEBHOOK.format(policy="Fail", action="deny").split("---")[0]
    validating = validating.replace("name: validation.gatekeeper.sh", "name: v.gatekeeper.sh")
    mutating = mutating.replace("gatekeeper-validating-webhook", "gatekeeper-mutating-webhook")
    path = tmp_path / "gatekeeper.yaml"
    path.write_text(validating + "---\n" + mutating)
    assert result_of(scan_files(WORKLOADS, path), "IMG-04").status is Status.PASS
