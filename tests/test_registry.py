"""The check registry: built-in and third-party checks arrive the same way."""

from __future__ import annotations

import shutil
from importlib.metadata import EntryPoint, entry_points

import pytest
from conftest import FIXTURES, result_of, scan_files

from zt_audit.engine.definitions import load_definitions
from zt_audit.engine.model import Status
from zt_audit.engine.registry import ENTRY_POINT_GROUP, check_sort_key, discover
from zt_audit.errors import CheckDefinitionError, UsageError

PLUGINS = FIXTURES / "plugins"
WORKLOADS = FIXTURES / "workload" / "insecure.yaml"


def _with_acme():
    acme = EntryPoint(name="acme", value="acme_plugin:CHECKS", group=ENTRY_POINT_GROUP)
    return lambda: [*entry_points(group=ENTRY_POINT_GROUP), acme]


def test_builtin_checks_come_through_the_entry_point_group():
    names = {e.name for e in entry_points(group=ENTRY_POINT_GROUP)}
    assert {"workload", "images"} <= names
    registry = discover()
    ids = [c.id for c in registry]
    assert {"RT-04", "RT-05", "RT-10", "IMG-01", "IMG-02", "IMG-03"} <= set(ids)
    assert ids == sorted(ids, key=check_sort_key)
    assert registry.get("RT-05").origin == "entry point workload"


def test_every_builtin_definition_is_valid_and_bound():
    registry = discover()
    for check in registry:
        assert check.spec.definition is not None
        assert check.spec.definition.name == f"{check.id}.yaml"
        assert check.spec.rationale and check.spec.remediation and check.spec.mappings


def test_a_third_party_python_plugin_runs_like_a_builtin():
    registry = discover(load_entry_points=_with_acme())
    assert "ACME-01" in registry
    outcome = scan_files(WORKLOADS, registry=registry)
    result = result_of(outcome, "ACME-01")
    assert result.status is Status.FAIL
    assert [f.message for f in result.findings] == [
        "CronJob legacy/report has no acme.example/owner label",
        "DaemonSet legacy/node-exporter has no acme.example/owner label",
        "Deployment legacy/build-agent has no acme.example/owner label",
    ]


def test_a_crashing_check_is_recorded_and_the_scan_goes_on():
    outcome = scan_files(WORKLOADS, registry=discover(load_entry_points=_with_acme()))
    crashed = result_of(outcome, "ACME-02")
    assert crashed.status is Status.ERROR
    assert crashed.reason == "the check crashed: ZeroDivisionError: plugin bug"
    assert result_of(outcome, "RT-05").status is Status.FAIL


def test_declarative_checks_from_a_checks_dir():
    registry = discover([PLUGINS / "declarative"])
    outcome = scan_files(FIXTURES / "corpora" / "kube-score" / "list.yaml", registry=registry)
    limits = result_of(outcome, "ACME-10")
    assert limits.status is Status.FAIL
    assert [(f.field, f.message) for f in limits.findings] == [
        (
            "spec.template.spec.containers[0]",
            "container nginx of Deployment default/list-deployment-test has no memory limit: "
            "resources is not set",
        )
    ]
    assert result_of(outcome, "ACME-11").status is Status.PASS


DEVIATIONS = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - name: web
          image: ghcr.io/acme/web:1.0
          resources: {limits: {memory: 1Gi}}
          securityContext: {readOnlyRootFilesystem: false}
        - name: sidecar
          image: ghcr.io/acme/sidecar:1.0
          resources: {limits: "1Gi"}
          securityContext: {readOnlyRootFilesystem: "yes"}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec: {type: NodePort, selector: {app: web}, ports: [{port: 80}]}
"""


def test_declarative_findings_say_what_the_manifest_holds(tmp_path):
    """Violations are explained in the manifest's terms, not in JSON Schema's."""
    manifest = tmp_path / "deviations.yaml"
    manifest.write_text(DEVIATIONS)
    outcome = scan_files(manifest, registry=discover([PLUGINS / "declarative"]))
    messages = {
        check: [f.message.split(": ", 1)[1] for f in result_of(outcome, check).findings]
        for check in ("RT-10", "ACME-10", "ACME-11")
    }
    assert messages == {
        "RT-10": [
            "securityContext.readOnlyRootFilesystem is false, not true",
            "securityContext.readOnlyRootFilesystem is 'yes', not true",
        ],
        "ACME-10": ["resources.limits is '1Gi', not of type object"],
        "ACME-11": ["spec.type is 'NodePort'"],
    }


def test_an_invalid_definition_is_rejected_with_its_file_and_field():
    with pytest.raises(CheckDefinitionError) as error:
        discover([PLUGINS / "invalid"])
    message = str(error.value)
    assert message.startswith(str(PLUGINS / "invalid" / "BAD.yaml") + ": id: ")
    assert "does not match" in message


def test_a_duplicate_id_is_rejected_naming_both_files(tmp_path):
    shutil.copy(PLUGINS / "declarative" / "ACME-10.yaml", tmp_path / "ACME-10.yaml")
    with pytest.raises(CheckDefinitionError, match=r"duplicate check ID ACME-10"):
        discover([PLUGINS / "declarative", tmp_path])


def test_a_python_definition_without_implementation_is_rejected(tmp_path):
    shutil.copy(PLUGINS / "acme" / "ACME-01.yaml", tmp_path / "ACME-01.yaml")
    with pytest.raises(CheckDefinitionError, match=r"no installed 'zt_audit\.checks' entry point"):
        discover([tmp_path])


def test_a_broken_entry_point_is_named():
    broken = EntryPoint(name="broken", value="no_such_module:CHECKS", group=ENTRY_POINT_GROUP)
    with pytest.raises(CheckDefinitionError, match=r"entry point broken .* failed to load"):
        discover(load_entry_points=lambda: [broken])


def test_an_invalid_match_schema_is_rejected(tmp_path):
    text = (PLUGINS / "declarative" / "ACME-10.yaml").read_text()
    (tmp_path / "ACME-10.yaml").write_text(text.replace("type: object", "type: 12", 1))
    with pytest.raises(CheckDefinitionError, match=r"match\.schema is not a valid JSON Schema"):
        load_definitions(tmp_path)


def test_select_and_skip():
    registry = discover()
    assert [c.id for c in registry.select(["RT-05", "IMG-01"])] == ["IMG-01", "RT-05"]
    assert "RT-05" not in registry.select(skip=["RT-05"])
    with pytest.raises(UsageError, match="unknown check ID"):
        registry.select(["RT-99"])
    with pytest.raises(UsageError, match="unknown check ID"):
        registry.select(skip=["nope"])


TOKEN_CHECK = """
id: ACME-12
title: Containers take no token from a literal environment value
pillar: data
severity: high
stage: initial
logic: declarative
description: No container sets API_TOKEN to a literal value.
rationale: Literal tokens end up in every copy of the manifest.
remediation: Read the token from a Secret through valueFrom.
match:
  target: Container
  message: "container {container} of {kind} {namespace}/{name} has a literal API_TOKEN"
  schema:
    properties:
      env:
        items:
          properties: {value: {type: "null"}}
"""


def test_a_declarative_finding_never_quotes_a_value_that_may_be_a_credential(tmp_path):
    checks = tmp_path / "checks"
    checks.mkdir()
    (checks / "ACME-12.yaml").write_text(TOKEN_CHECK)
    manifest = tmp_path / "pod.yaml"
    manifest.write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: shop}\nspec:\n"
        "  containers:\n    - name: c\n      image: ghcr.io/acme/c:1.0\n"
        "      env: [{name: API_TOKEN, value: s3cr3t-canary-0042}]\n"
    )
    outcome = scan_files(manifest, registry=discover([checks]))
    [finding] = result_of(outcome, "ACME-12").findings
    assert finding.field == "spec.containers[0].env[0].value"
    assert finding.message == (
        "container c of Pod shop/p has a literal API_TOKEN: env.0.value is a string, "
        "not of type null"
    )
    assert "s3cr3t" not in finding.message
