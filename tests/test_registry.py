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
            "'resources' is a required property",
        )
    ]
    assert result_of(outcome, "ACME-11").status is Status.PASS


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
