"""No secret value reaches any report: planted markers never appear in any output format."""

from __future__ import annotations

import base64

import pytest

from tests.conftest import run_cli
from zt_audit.cli.app import ReportFormat

MARKERS = {
    "secret_data": "ztMarkerSecretData7f3a9c",
    "string_data": "ztMarkerStringData2b81de",
    "env_password": "ztMarkerEnvPassword5c0e44",
    "env_url": "ztMarkerEnvUrlPass93ab10",
    "configmap_key": "ztMarkerConfigMapKey61d2f7",
    "configmap_file": "ztMarkerConfigMapFile0a9be3",
    "trivy_match": "ztMarkerTrivyMatch4e7c21",
    "argument": "ztMarkerArgument8d5f06",
}
ENCODED = base64.b64encode(MARKERS["secret_data"].encode()).decode()

MANIFEST = f"""
apiVersion: v1
kind: Secret
metadata: {{name: api-credentials, namespace: shop}}
type: Opaque
data:
  password: {ENCODED}
stringData:
  token: {MARKERS["string_data"]}
---
apiVersion: v1
kind: ConfigMap
metadata: {{name: shop-config, namespace: shop}}
data:
  db_password: {MARKERS["configmap_key"]}
  app.properties: |
    spring.datasource.password={MARKERS["configmap_file"]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: web, namespace: shop}}
spec:
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      containers:
        - name: web
          image: ghcr.io/acme/web:1.0
          args: [--api-token={MARKERS["argument"]}]
          env:
            - name: ADMIN_PASSWORD
              value: {MARKERS["env_password"]}
            - name: CACHE_URL
              value: redis://default:{MARKERS["env_url"]}@cache:6379/0
---
apiVersion: aquasecurity.github.io/v1alpha1
kind: ExposedSecretReport
metadata:
  name: replicaset-web-5d4f-web
  namespace: shop
report:
  secrets:
    - ruleID: generic-api-key
      category: Generic
      severity: CRITICAL
      title: Generic API key
      target: /app/config.json
      match: 'api_key = "{MARKERS["trivy_match"]}"'
"""


@pytest.mark.parametrize("report_format", [f.value for f in ReportFormat])
def test_no_planted_secret_appears_in_any_format(tmp_path, report_format) -> None:
    path = tmp_path / "leaky.yaml"
    path.write_text(MANIFEST)
    result = run_cli("scan", str(path), "-f", report_format, "--bundle-is-complete")
    output = result.stdout + result.stderr
    assert "DATA-02" in output  # the check ran and is in the report
    for name, marker in MARKERS.items():
        assert marker not in output, f"{name} leaked into the {report_format} report"
    assert ENCODED not in output
