"""Governance: GOV-01 admission integrity, GOV-02 GitOps drift correction."""

from __future__ import annotations

import pytest

from tests.conftest import FIXTURES, result_of, scan_files
from zt_audit.engine.model import Status

SUPPLY = FIXTURES / "ops" / "supply-chain"
GOVERNANCE = FIXTURES / "ops" / "governance"
WORKLOADS = SUPPLY / "workloads.yaml"


def test_fail_open_gatekeeper_and_kyverno_and_an_opted_out_namespace() -> None:
    outcome = scan_files(
        WORKLOADS,
        GOVERNANCE / "gatekeeper-install.yaml",
        SUPPLY / "sigstore.yaml",
        SUPPLY / "kyverno-verify-audit.yaml",
    )
    result = result_of(outcome, "GOV-01")
    assert result.status is Status.FAIL
    assert result.reason == "2 of 3 security webhooks and policies affected"
    assert [(str(f.object), f.field, f.status, f.message) for f in result.findings] == [
        (
            "ClusterPolicy/verify-acme-images-audit",
            "spec.failurePolicy",
            Status.FAIL,
            "Kyverno ClusterPolicy verify-acme-images-audit fails open (failurePolicy: Ignore)",
        ),
        (
            "ValidatingWebhookConfiguration/gatekeeper-validating-webhook-configuration",
            "webhooks[0].failurePolicy",
            Status.FAIL,
            "OPA Gatekeeper webhook validation.gatekeeper.sh fails open (failurePolicy: "
            "Ignore): requests are admitted unchecked whenever the webhook is unreachable",
        ),
        (
            "ValidatingWebhookConfiguration/gatekeeper-validating-webhook-configuration",
            "webhooks[0].namespaceSelector",
            Status.FAIL,
            "OPA Gatekeeper webhook validation.gatekeeper.sh does not see in-scope "
            "namespaces: batch",
        ),
        (
            "Deployment/gatekeeper-system/gatekeeper-controller-manager",
            "spec.replicas",
            Status.WARN,
            "OPA Gatekeeper webhook validation.gatekeeper.sh is served by a single replica of "
            "Deployment/gatekeeper-system/gatekeeper-controller-manager",
        ),
    ]
    # policy-controller selects opted-in namespaces by design: no namespace finding.
    products = {w["product"]: w["failure_policy"] for w in result.facts["webhooks"]}
    assert products == {"OPA Gatekeeper": "Ignore", "Sigstore policy-controller": "Fail"}


def test_closed_webhooks_pass(tmp_path) -> None:
    text = (GOVERNANCE / "gatekeeper-install.yaml").read_text()
    text = text.replace("failurePolicy: Ignore", "failurePolicy: Fail")
    text = text.replace("replicas: 1", "replicas: 3")
    text = text.replace("admission.gatekeeper.sh/ignore: no-self-managing", "team: batch")
    path = tmp_path / "gatekeeper.yaml"
    path.write_text(text)
    result = result_of(scan_files(WORKLOADS, path), "GOV-01")
    assert (result.status, result.reason) == (
        Status.PASS,
        "all 1 of 1 security webhooks and policies fail closed and see every in-scope namespace",
    )


def test_no_webhook_is_not_observable_or_not_applicable() -> None:
    assert result_of(scan_files(WORKLOADS), "GOV-01").status is Status.NOT_OBSERVABLE
    complete = scan_files(WORKLOADS, bundle_is_complete=True)
    assert result_of(complete, "GOV-01").status is Status.NOT_APPLICABLE


def test_gitops_self_heal_counts_and_helm_without_drift_detection_does_not() -> None:
    result = result_of(scan_files(WORKLOADS, GOVERNANCE / "gitops.yaml"), "GOV-02")
    assert result.status is Status.WARN
    assert result.reason == "1 of 3 workloads under GitOps drift correction (33%)"
    assert result.facts["corrected"] == ["Deployment/shop/checkout"]
    assert [(str(f.object), f.message) for f in result.findings] == [
        (
            "Deployment/payments/gateway",
            "Deployment payments/gateway is deployed by HelmRelease gateway, which does not "
            "correct drift (driftDetection.mode is not enabled)",
        ),
        (
            "HelmRelease/payments/gateway",
            "HelmRelease gateway does not correct drift (driftDetection.mode is not enabled)",
        ),
    ]


# Argo CD "Automated sync policy" and "Automatic self-healing"; Flux helm-controller
# "Drift detection"; Flux kustomize-controller reconciles unless suspended.
@pytest.mark.parametrize(
    ("document", "status"),
    [
        (
            "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: all}\n"
            "spec: {destination: {namespace: legacy}, syncPolicy: {automated: {prune: true}}}",
            Status.FAIL,
        ),
        (
            "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\n"
            "metadata: {name: r, namespace: legacy}\nspec: {driftDetection: {mode: enabled}}",
            Status.WARN,
        ),
        (
            "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\n"
            "metadata: {name: k, namespace: flux-system}\nspec: {targetNamespace: legacy}",
            Status.WARN,
        ),
        (
            "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\n"
            "metadata: {name: k, namespace: flux-system}\n"
            "spec: {targetNamespace: legacy, suspend: true}",
            Status.FAIL,
        ),
    ],
)
def test_drift_correction_rules(tmp_path, document, status) -> None:
    path = tmp_path / "controller.yaml"
    path.write_text(document)
    assert result_of(scan_files(WORKLOADS, path), "GOV-02").status is status


def test_tracking_labels_tie_workloads_to_their_controller(tmp_path) -> None:
    path = tmp_path / "tracked.yaml"
    path.write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\n  namespace: web\n"
        "  labels: {kustomize.toolkit.fluxcd.io/name: apps, "
        "kustomize.toolkit.fluxcd.io/namespace: flux-system}\n"
        "spec: {template: {spec: {containers: [{name: api, image: ghcr.io/acme/api:1}]}}}\n"
        "---\napiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\n"
        "metadata: {name: apps, namespace: flux-system}\nspec: {interval: 10m}\n"
    )
    result = result_of(scan_files(path), "GOV-02")
    assert (result.status, result.facts["corrected"]) == (Status.PASS, ["Deployment/web/api"])
