"""Snapshots: written from a live collection, re-scored offline with the same verdicts."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import yaml
from apiserver.server import ApiServer
from conftest import run_cli

from zt_audit.sources.snapshot import read_header

pytest_plugins = ["apiserver.fixtures"]


def report_of(*args: str) -> dict:
    result = run_cli("scan", "-f", "json", *args)
    assert result.code in (0, 1), result.stderr
    return json.loads(result.stdout)


def findings(report: dict) -> list[tuple[str, str, int | None]]:
    return [
        (check["id"], finding["message"], (finding.get("location") or {}).get("line"))
        for check in report["checks"]
        for finding in check.get("findings", [])
    ]


def test_a_snapshot_rescan_gives_the_live_verdicts(kubeconfig: Path, tmp_path: Path):
    snapshot = tmp_path / "cluster.json"
    written = run_cli("snapshot", "--kubeconfig", str(kubeconfig), "-o", str(snapshot))
    assert written.code == 0, written.stderr
    assert written.stderr.startswith("zt-audit: wrote ")

    live = report_of("--kubeconfig", str(kubeconfig))
    offline = report_of(str(snapshot))

    assert {c["id"]: c["status"] for c in offline["checks"]} == {
        c["id"]: c["status"] for c in live["checks"]
    }
    assert offline["score"] == live["score"]
    # The live scan reads its collection as snapshot text: the same findings, same lines.
    assert findings(offline) == findings(live)
    assert offline["source"]["mode"] == "snapshot"
    assert offline["source"]["description"].startswith(f"snapshot {snapshot}: context fixture")


def test_a_snapshot_keeps_what_could_not_be_collected(
    apiserver: ApiServer, kubeconfig: Path, tmp_path: Path
):
    apiserver.forbidden.add(("rbac.authorization.k8s.io", "clusterroles", None))
    snapshot = tmp_path / "cluster.json"
    run_cli("snapshot", "--kubeconfig", str(kubeconfig), "-o", str(snapshot))

    live = report_of("--kubeconfig", str(kubeconfig))
    offline = report_of(str(snapshot))

    expected = 'missing RBAC permission: list "clusterroles" in API group ' + (
        '"rbac.authorization.k8s.io" cluster-wide'
    )
    assert offline["source"]["forbidden"] == {"ClusterRole": expected}
    assert {c["id"]: c["status"] for c in offline["checks"]} == {
        c["id"]: c["status"] for c in live["checks"]
    }


def test_a_snapshot_says_where_and_when_it_was_taken(kubeconfig: Path, tmp_path: Path):
    snapshot = tmp_path / "cluster.json"
    run_cli("snapshot", "--kubeconfig", str(kubeconfig), "-n", "payments", "-o", str(snapshot))

    header = read_header(snapshot)
    assert header is not None
    assert header.cluster_version == "v1.31.2"
    assert header.namespaces == ("payments",)
    assert header.collected_at.endswith("Z")
    assert "Kyverno" not in header.source
    assert "ClusterPolicy" in header.missing_apis  # Kyverno is not installed
    # Owner-only: a snapshot maps the cluster even without Secret data.
    assert stat.S_IMODE(snapshot.stat().st_mode) == 0o600

    document = yaml.safe_load(snapshot.read_text())
    assert document["kind"] == "List"
    assert {item["metadata"].get("namespace") for item in document["items"]} == {
        None,
        "payments",
    }
    offline = report_of(str(snapshot))
    assert offline["source"]["bundle_is_complete"] is False


def test_plain_manifests_are_not_taken_for_a_snapshot(tmp_path: Path):
    manifests = tmp_path / "list.yaml"
    manifests.write_text("apiVersion: v1\nkind: List\nmetadata: {}\nitems: []\n")
    assert read_header(manifests) is None
    assert report_of(str(manifests))["source"]["mode"] == "manifests"


def test_a_snapshot_is_scanned_on_its_own(kubeconfig: Path, tmp_path: Path):
    snapshot = tmp_path / "cluster.json"
    run_cli("snapshot", "--kubeconfig", str(kubeconfig), "-o", str(snapshot))
    other = tmp_path / "extra.yaml"
    other.write_text("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: extra\n")

    result = run_cli("scan", str(snapshot), str(other))
    assert result.code == 2
    assert "a snapshot is scanned on its own" in result.stderr


def test_a_snapshot_converted_to_yaml_is_still_a_snapshot(kubeconfig: Path, tmp_path: Path):
    snapshot = tmp_path / "cluster.json"
    run_cli("snapshot", "--kubeconfig", str(kubeconfig), "-o", str(snapshot))
    converted = tmp_path / "cluster.yaml"
    converted.write_text(yaml.safe_dump(yaml.safe_load(snapshot.read_text()), sort_keys=False))

    original, as_yaml = report_of(str(snapshot)), report_of(str(converted))
    assert as_yaml["source"]["mode"] == "snapshot"
    assert {c["id"]: c["status"] for c in as_yaml["checks"]} == {
        c["id"]: c["status"] for c in original["checks"]
    }
