"""Data: DATA-01 encryption at rest, DATA-02 exposed credentials, DATA-03 external stores."""

from __future__ import annotations

import pytest

from tests.conftest import CORPORA, FIXTURES, result_of, scan_files
from zt_audit.analysis.secrets import detect
from zt_audit.engine.model import Stage, Status

DATA = FIXTURES / "ops" / "data"
CHECKOV = CORPORA / "checkov-controlplane" / "tests" / "kubernetes" / "checks"
ENCRYPTION = CHECKOV / "example_ApiServerEncryptionProviders"
WITH_FLAG = ENCRYPTION / "ApiServerEncryptionProviders-PASSED.yaml"
WITHOUT_FLAG = ENCRYPTION / "ApiServerEncryptionProviders-FAILED.yaml"


def test_checkov_encryption_corpus() -> None:
    # Checkov fails the pod without --encryption-provider-config: so do we.
    failed = result_of(scan_files(WITHOUT_FLAG), "DATA-01")
    assert failed.status is Status.FAIL
    assert [(f.field, f.location.line, f.message) for f in failed.findings] == [
        (
            "spec.containers[0].command",
            12,
            "kube-apiserver (static-pod) has no --encryption-provider-config: Secrets are "
            "stored in etcd as plain text",
        )
    ]
    # Disagreement: Checkov passes on the flag alone. The Kubernetes documentation
    # ("Encrypting Confidential Data at Rest") shows that a configuration whose first
    # provider is identity stores plain text, so without the file the verdict is a warning.
    flagged = result_of(scan_files(WITH_FLAG), "DATA-01")
    assert flagged.status is Status.WARN
    assert flagged.findings[0].field == "spec.containers[0].command[1]"


# "Encrypting Confidential Data at Rest": the first provider of the first entry listing
# the resource (or "*." / "*.*") encrypts it; identity means none; kms v2 is envelope.
@pytest.mark.parametrize(
    ("document", "status", "reason"),
    [
        ("encryption-kms-v2.yaml", Status.PASS, "Secrets are envelope-encrypted with KMS v2"),
        (
            "encryption-identity-first.yaml",
            Status.FAIL,
            "Secrets are not encrypted at rest (identity comes first)",
        ),
        (
            "encryption-aesgcm-wildcard.yaml",
            Status.WARN,
            "Secrets are encrypted with aesgcm, whose key sits on the control-plane disk",
        ),
    ],
)
def test_encryption_configuration_first_provider(document, status, reason) -> None:
    result = result_of(scan_files(WITH_FLAG, DATA / document), "DATA-01")
    assert (result.status, result.reason) == (status, reason)
    if status is Status.WARN:  # a local key evidences Initial, not Advanced
        assert result.stage_scores == {Stage.INITIAL: 1.0, Stage.ADVANCED: 0.5}


def test_managed_control_plane_is_not_observable() -> None:
    result = result_of(
        scan_files(FIXTURES / "ops" / "runtime" / "nodes-eks-fargate.yaml"), "DATA-01"
    )
    assert result.status is Status.NOT_OBSERVABLE
    assert "aws eks describe-cluster" in result.hint


@pytest.mark.parametrize(
    ("key", "value", "found"),
    [
        ("DB_PASSWORD", "hunter2-prod", "a literal credential (by its name)"),
        ("DB_PASSWORD", "$(DB_PASSWORD_FROM_SECRET)", None),  # a dependent variable reference
        ("DB_PASSWORD_FILE", "/run/secrets/db", None),  # a pointer, not the value
        ("OAUTH_TOKEN_URL", "https://login.example.com/token", None),
        ("AUTH_ENABLED", "true", None),
        ("SESSION_TTL", "3600", None),
        ("DATABASE_URL", "postgres://app:pa55word@db:5432/app", "a URL with an embedded password"),
        ("DATABASE_URL", "postgres://db:5432/app", None),
        ("AWS_KEY", "AKIAIOSFODNN7EXAMPLE", "an AWS access key ID"),
        ("tls.key", "-----BEGIN EC PRIVATE KEY-----\nMHc...\n", "a private key"),
        ("ca.crt", "-----BEGIN CERTIFICATE-----\nMIIB...\n", None),
        ("LOG_LEVEL", "debug", None),
        # etcd: --initial-cluster-token names the cluster, it grants nothing.
        ("initial-cluster-token", "etcd-cluster-1", None),
        ("client-secret", "Zq8~xP2vLk9", "a literal credential (by its name)"),
        # microservices-demo's README substitutes this placeholder with sed before applying.
        ("GOOGLE_API_KEY", "GOOGLE_API_KEY_VAL", None),
        # istio-samples bookinfo ratings-v2-mysql: a real, if weak, hard-coded password.
        ("MYSQL_DB_PASSWORD", "password", "a literal credential (by its name)"),
        ("PASSWORD", 12345, None),  # not a string: the API server would reject it
    ],
)
def test_credential_detection(key, value, found) -> None:
    kinds = [d.kind for d in detect(key, value)]
    assert kinds == ([found] if found else [])


def test_exposed_credentials_are_named_by_key_never_by_value() -> None:
    result = result_of(scan_files(DATA / "app-secrets.yaml"), "DATA-02")
    assert result.status is Status.FAIL
    assert [(str(f.object), f.field, f.status, f.message) for f in result.findings] == [
        (
            "ConfigMap/orders/orders-config",
            "data.application.properties",
            Status.FAIL,
            "ConfigMap orders/orders-config: key application.properties (line setting "
            "spring.datasource.password) holds a literal credential (by its name)",
        ),
        (
            "Deployment/orders/orders",
            "spec.template.spec.containers[0].env",
            Status.WARN,
            "container orders of Deployment orders/orders receives Secrets as environment "
            "variables (DB_PASSWORD); mount them as files instead",
        ),
        (
            "Deployment/orders/orders",
            "spec.template.spec.containers[0].env[2].value",
            Status.FAIL,
            "container orders of Deployment orders/orders: env CACHE_URL holds a URL with an "
            "embedded password",
        ),
        (
            "Deployment/orders/orders",
            "spec.template.spec.containers[0].env[3].value",
            Status.FAIL,
            "container orders of Deployment orders/orders: env STRIPE_API_KEY holds a Stripe "
            "live key",
        ),
        (
            "Secret/orders/orders-db",
            "stringData",
            Status.FAIL,
            "Secret orders/orders-db carries 2 value(s) in the manifests (keys: password, "
            "username); keep values out of Git",
        ),
    ]
    assert result.reason == "3 of 4 workloads, ConfigMaps and Secrets affected"


def test_external_stores_count_refreshing_sources_only() -> None:
    only_app = result_of(scan_files(DATA / "app-secrets.yaml"), "DATA-03")
    # invoices uses the Vault injector; orders reads a Secret nothing manages.
    assert only_app.reason == "1 of 2 secret consumers on a refreshing external secret store (50%)"
    assert only_app.status is Status.PASS

    with_stores = result_of(
        scan_files(DATA / "app-secrets.yaml", DATA / "external-stores.yaml"), "DATA-03"
    )
    assert with_stores.reason == (
        "2 of 3 secret consumers on a refreshing external secret store (67%)"
    )
    assert [f.message for f in with_stores.findings] == [
        "Deployment orders/shipping reads Secrets that no refreshing external store manages: "
        "shipping-api (SealedSecret: encrypted in Git, never rotated)"
    ]


def test_external_secret_with_refresh_off_does_not_count(tmp_path) -> None:
    stores = (
        (DATA / "external-stores.yaml")
        .read_text()
        .replace("refreshInterval: 1h", 'refreshInterval: "0"')
    )
    path = tmp_path / "stores.yaml"
    path.write_text(stores)
    result = result_of(scan_files(DATA / "app-secrets.yaml", path), "DATA-03")
    assert result.ratio.passed == 1


def test_malformed_data_does_not_crash(tmp_path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: a}\ndata: [1, 2]\n---\n"
        "apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: a}\nstringData: x\n---\n"
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: a}\n"
        "spec: {containers: [{name: c, env: [{name: 1, value: 2}, 3], envFrom: x}], volumes: x}\n"
        "---\napiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources: 3\n"
    )
    outcome = scan_files(path, WITH_FLAG)
    for check_id in ("DATA-01", "DATA-02", "DATA-03"):
        assert result_of(outcome, check_id).status is not Status.ERROR


def test_falcosidekick_chart_secret_is_a_bundled_secret_with_a_short_message() -> None:
    falco = CORPORA / "falco-deploy-kubernetes" / "kubernetes" / "falcosidekick"
    result = result_of(scan_files(falco), "DATA-02")
    messages = {(str(f.object), f.field): f.message for f in result.findings}
    assert messages[("Secret/default/falcosidekick", "data")] == (
        "Secret default/falcosidekick carries 143 value(s) in the manifests (keys: "
        "ALERTMANAGER_CHECKCERT, ALERTMANAGER_DROPEVENTDEFAULTPRIORITY, "
        "ALERTMANAGER_DROPEVENTTHRESHOLDS, ALERTMANAGER_ENDPOINT, ALERTMANAGER_MUTUALTLS "
        "and 138 more); keep values out of Git"
    )
    assert ("Deployment/default/falcosidekick", "spec.template.spec.containers[0].envFrom") in (
        messages
    )


def test_credentials_on_the_command_line(tmp_path) -> None:
    path = tmp_path / "job.yaml"
    path.write_text(
        "apiVersion: batch/v1\nkind: Job\nmetadata: {name: backup, namespace: ops}\n"
        "spec:\n  template:\n    spec:\n      containers:\n        - name: dump\n"
        "          image: postgres:16.4\n"
        "          command: [pg_dump, --dbname=postgresql://backup:Bk-2024-secret@db/app]\n"
        "          args: [--password=Hunter-22, --password-file=/run/secrets/pw, --verbose]\n"
    )
    result = result_of(scan_files(path), "DATA-02")
    assert [(f.field, f.message) for f in result.findings] == [
        (
            "spec.template.spec.containers[0].args[0]",
            "container dump of Job ops/backup: argument password holds a literal credential "
            "(by its name)",
        ),
        (
            "spec.template.spec.containers[0].command[1]",
            "container dump of Job ops/backup: argument dbname holds a URL with an embedded "
            "password",
        ),
    ]
