"""Framework catalogues and per-control views."""

from __future__ import annotations

import copy
from importlib import resources

import pytest
import yaml
from conftest import FIXTURES

from zt_audit.errors import UsageError
from zt_audit.report.frameworks import (
    STATES,
    catalogue,
    control_state,
    crosswalk_domains,
    expand_reference,
    framework_view,
    get_framework,
    resolve_frameworks,
    with_frameworks,
)
from zt_audit.report.saved import load_report, validate_report

CIS = [control.id for control in get_framework("cis-kubernetes").controls]


@pytest.fixture(scope="module")
def example() -> dict:
    return load_report(FIXTURES / "reports" / "example-report.json")


def test_every_catalogue_the_reference_names_ships():
    assert list(catalogue()) == [
        "cis-kubernetes", "cisa-ztmm", "dod-zt", "iso-27001", "nist-800-207",
        "nist-800-53", "nsa-cisa", "pci-dss", "soc2",
    ]  # fmt: skip
    assert [c.id for c in get_framework("nist-800-207").controls] == [f"T{n}" for n in range(1, 8)]
    assert [c.id for c in get_framework("nsa-cisa").controls] == ["PS", "NS", "AA", "LG", "UP"]


def test_catalogue_files_are_well_formed():
    folder = resources.files("zt_audit").joinpath("data", "frameworks")
    domains = crosswalk_domains()
    for item in folder.iterdir():
        if not item.name.endswith(".yaml") or item.name == "crosswalk-domains.yaml":
            continue
        data = yaml.safe_load(item.read_text(encoding="utf-8"))
        ids = [str(control["id"]) for control in data["controls"]]
        assert len(ids) == len(set(ids)), item.name
        for control in data["controls"]:
            # An unquoted comma in a flow mapping would split a title into stray keys.
            assert set(control) <= {"id", "title", "group", "domains"}, (item.name, control)
            assert isinstance(control["id"], str), (item.name, control)
            assert set(control.get("domains", ())) <= set(domains), (item.name, control)
        assert (data["basis"] == "crosswalk") == all("domains" in c for c in data["controls"])


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("5.2.2", ["5.2.2"]),
        # The catalogue cites CIS ranges with an en dash, and families as ".x".
        ("1.2.6–1.2.8", ["1.2.6", "1.2.7", "1.2.8"]),
        ("1.2.16-1.2.19", ["1.2.16", "1.2.17", "1.2.18", "1.2.19"]),
        ("3.1.x", ["3.1.1", "3.1.2", "3.1.3"]),
        ("EKS 5.1.4", []),  # another benchmark's numbering names nothing here
        ("9.9.9", []),
    ],
)
def test_mapping_values_expand_against_the_catalogue(value, expected):
    assert expand_reference(value, CIS) == expected


@pytest.mark.parametrize(
    ("statuses", "state"),
    [
        ([], "not_covered"),
        (["pass", "pass"], "evidenced"),
        (["pass", "not_applicable"], "evidenced"),
        (["pass", "warn"], "gap"),
        (["fail", "not_observable"], "gap"),
        # Unread evidence is never support, even beside a pass.
        (["pass", "not_observable"], "not_observable"),
        (["pass", "error"], "not_observable"),
        (["not_applicable"], "not_applicable"),
    ],
)
def test_control_state_from_supporting_checks(statuses, state):
    assert control_state([{"status": s} for s in statuses]) == state


def test_cis_view_of_the_example(example):
    view = framework_view(example, get_framework("cis-kubernetes"))
    controls = {c["id"]: c for c in view["controls"]}
    assert controls["5.2.2"] == {
        "id": "5.2.2",
        "title": "Privileged containers are kept out",
        "group": "Pod security",
        "state": "gap",
        "checks": [{"id": "RT-05", "status": "fail"}],
    }
    assert controls["5.3.1"]["state"] == "evidenced"  # NET-01 passes: Calico enforces
    # Anonymous auth is off in the example's API server flags.
    assert controls["1.2.1"]["state"] == "evidenced"
    assert [c["id"] for c in controls["1.2.1"]["checks"]] == ["IAM-05", "IAM-06"]
    assert sum(view["summary"].values()) == len(view["controls"])
    assert list(view["summary"]) == list(STATES)
    # A control whose checks did not run is not covered, never evidenced.
    thinner = {**example, "checks": [c for c in example["checks"] if c["id"][:3] != "IAM"]}
    thin_view = framework_view(thinner, get_framework("cis-kubernetes"))
    assert {c["id"]: c for c in thin_view["controls"]}["1.2.1"]["state"] == "not_covered"


def test_crosswalk_ties_every_check_of_a_domain(example):
    view = framework_view(example, get_framework("pci-dss"))
    segmentation = next(c for c in view["controls"] if c["id"] == "1.3.1")
    assert [c["id"] for c in segmentation["checks"]] == [
        c["id"] for c in sorted(example["checks"], key=lambda c: c["id"])
        if c["id"].startswith("NET-")
    ]  # fmt: skip
    assert segmentation["state"] == "gap"
    iam = next(c for c in view["controls"] if c["id"] == "7.2.1")
    assert [c["id"] for c in iam["checks"]] == [f"IAM-{n:02d}" for n in range(1, 15)]
    assert iam["state"] == "gap"


def test_explicit_mappings_to_a_crosswalk_framework_count_too(example):
    report = copy.deepcopy(example)
    check = next(c for c in report["checks"] if c["id"] == "NET-01")
    check["mappings"]["soc2"] = ["CC6.8", "CC9.9"]
    view = framework_view(report, get_framework("soc2"))
    cc68 = next(c for c in view["controls"] if c["id"] == "CC6.8")
    assert {"id": "NET-01", "status": "pass"} in cc68["checks"]
    assert view["unknown_references"] == [{"check": "NET-01", "reference": "CC9.9"}]


def test_views_in_the_json_report_validate(example):
    report = with_frameworks(example, resolve_frameworks(["all"]))
    assert [v["key"] for v in report["frameworks"]] == list(catalogue())
    validate_report(report, "in-memory report")


def test_framework_names_resolve_by_key_or_mapping_key():
    assert resolve_frameworks(["NIST_800_53", "nist-800-53", "cis-kubernetes"]) == (
        "nist-800-53",
        "cis-kubernetes",
    )
    with pytest.raises(UsageError, match=r"unknown framework 'hipaa': choose one of cis-kub"):
        get_framework("hipaa")
