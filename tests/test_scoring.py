"""The maturity model of the check catalogue, Part 4, recomputed by hand."""

from __future__ import annotations

import pytest
from conftest import run_cli, scan_files

from zt_audit.engine.model import (
    Check,
    CheckResult,
    CheckSpec,
    Pillar,
    Severity,
    Stage,
    Status,
)
from zt_audit.engine.runner import Evaluated
from zt_audit.scoring import score

H, M, C, L = Severity.HIGH, Severity.MEDIUM, Severity.CRITICAL, Severity.LOW
INI, ADV = Stage.INITIAL, Stage.ADVANCED


def item(
    check_id: str,
    severity: Severity,
    stage: Stage,
    status: Status,
    value: float | None = None,
    *,
    pillar: Pillar = Pillar.NETWORKS,
    secondary: tuple[Pillar, ...] = (),
    upper: Stage | None = None,
    stage_scores: dict[Stage, float] | None = None,
) -> Evaluated:
    spec = CheckSpec(
        id=check_id,
        title=check_id,
        pillar=pillar,
        severity=severity,
        stage=stage,
        upper_stage=upper,
        description="d",
        rationale="r",
        remediation="f",
        secondary_pillars=secondary,
    )
    result = CheckResult(status, "because", score=value, stage_scores=stage_scores)
    return Evaluated(Check(spec, lambda ctx: result, "test"), result)


def worked_example(mtls02: Status, mtls02_score: float | None) -> list[Evaluated]:
    """Catalogue §4.6: managed EKS, Networks pillar (secondary contributions omitted)."""
    return [
        item("NET-01", H, INI, Status.PASS),
        item("NET-08", M, INI, Status.PASS),
        item("MTLS-06", M, INI, Status.PASS),
        item("NET-02", H, ADV, Status.WARN, 0.85),
        item("NET-04", H, ADV, Status.PASS),
        item("NET-05", M, ADV, Status.WARN, 0.5),
        item("NET-06", M, ADV, Status.FAIL),
        item("MTLS-01", H, ADV, Status.PASS),
        item("MTLS-02", H, ADV, mtls02, mtls02_score),
        item("MTLS-03", M, ADV, Status.PASS),
    ]


def test_catalogue_worked_example_is_initial_and_names_mtls02():
    networks = score(worked_example(Status.WARN, 0.5)).pillars[Pillar.NETWORKS]
    advanced = networks.stages[1]
    assert advanced.pass_ratio == pytest.approx(21.25 / 29)
    assert networks.stage is Stage.INITIAL
    assert networks.next_stage_blockers[:3] == ("NET-06", "MTLS-02", "NET-05")
    # Score: every weight of the pillar, I and A alike.
    total = 5 + 3 + 3 + 29
    assert networks.score == pytest.approx(100 * (11 + 21.25) / total)


def test_making_the_namespaces_strict_reaches_advanced():
    networks = score(worked_example(Status.PASS, None)).pillars[Pillar.NETWORKS]
    assert networks.stages[1].pass_ratio == pytest.approx(23.75 / 29)
    assert networks.stage is Stage.ADVANCED
    # No optimal-tagged check exists, so Optimal cannot be evidenced.
    assert networks.indeterminate_above


def test_not_observable_and_not_applicable_never_count_as_pass():
    evaluated = [
        item("NET-01", H, INI, Status.FAIL),
        item("NET-02", H, INI, Status.NOT_OBSERVABLE),
        item("NET-03", H, INI, Status.NOT_APPLICABLE),
        item("NET-04", H, INI, Status.ERROR),
    ]
    networks = score(evaluated).pillars[Pillar.NETWORKS]
    assert networks.score == 0.0
    # Observed 5 of the 15 applicable weight (N/A leaves the denominator).
    assert networks.coverage == pytest.approx(5 / 15)


def test_a_pillar_under_30_percent_coverage_is_left_out():
    evaluated = [
        item("NET-01", L, INI, Status.PASS),
        item("NET-02", C, INI, Status.NOT_OBSERVABLE),
        item("RT-05", H, INI, Status.PASS, pillar=Pillar.APPLICATIONS),
    ]
    card = score(evaluated)
    assert card.pillars[Pillar.NETWORKS].insufficient
    assert card.in_scope == (Pillar.APPLICATIONS,)
    assert card.overall_score == 100.0


def test_only_evidence_blocking_a_stage_reads_as_indeterminate():
    evaluated = [
        item("NET-01", H, INI, Status.PASS),
        item("NET-02", H, INI, Status.PASS),
        item("NET-03", H, ADV, Status.PASS),
        item("NET-04", H, ADV, Status.NOT_OBSERVABLE),
        item("NET-05", H, ADV, Status.NOT_OBSERVABLE),
    ]
    networks = score(evaluated).pillars[Pillar.NETWORKS]
    assert networks.stage is Stage.INITIAL
    assert networks.indeterminate_above
    assert networks.stage_label == "≥ Initial (higher indeterminate)"


def test_a_critical_failure_vetoes_the_stage_whatever_the_average():
    evaluated = [item(f"NET-{n:02d}", H, INI, Status.PASS) for n in range(1, 10)]
    evaluated.append(item("NET-10", C, INI, Status.FAIL))
    networks = score(evaluated).pillars[Pillar.NETWORKS]
    assert networks.stages[0].pass_ratio == pytest.approx(45 / 55)
    assert networks.stages[0].critical_failures == ("NET-10",)
    assert networks.stage is Stage.TRADITIONAL
    assert not networks.indeterminate_above
    assert networks.next_stage_blockers[0] == "NET-10"


def test_secondary_pillars_count_half():
    evaluated = [
        item(
            "IMG-01", M, INI, Status.FAIL, pillar=Pillar.APPLICATIONS, secondary=(Pillar.DEVICES,)
        ),
        item("RT-01", H, INI, Status.PASS, pillar=Pillar.DEVICES),
    ]
    devices = score(evaluated).pillars[Pillar.DEVICES]
    assert [(c.check_id, c.weight) for c in devices.contributions] == [
        ("IMG-01", 1.5),
        ("RT-01", 5.0),
    ]
    assert devices.score == pytest.approx(100 * 5 / 6.5)


def test_dual_tagged_checks_score_each_stage_separately():
    evaluated = [
        item(
            "RT-04",
            H,
            INI,
            Status.WARN,
            upper=ADV,
            pillar=Pillar.APPLICATIONS,
            stage_scores={INI: 1.0, ADV: 0.5},
        ),
        item("RT-06", M, ADV, Status.PASS, pillar=Pillar.APPLICATIONS),
    ]
    apps = score(evaluated).pillars[Pillar.APPLICATIONS]
    assert apps.stages[0].pass_ratio == 1.0
    assert apps.stages[1].pass_ratio == pytest.approx((5 * 0.5 + 3) / 8)
    assert apps.stage is Stage.INITIAL


def test_overall_is_the_mean_of_pillars_and_the_lowest_stage():
    evaluated = [
        item("NET-01", H, INI, Status.PASS),
        item("RT-05", H, INI, Status.FAIL, pillar=Pillar.APPLICATIONS),
        item("RT-06", H, INI, Status.PASS, pillar=Pillar.APPLICATIONS),
    ]
    card = score(evaluated)
    assert card.overall_score == pytest.approx((100 + 50) / 2)
    assert card.overall_stage is Stage.TRADITIONAL
    weighted = score(evaluated, {"networks": 3, "applications": 1})
    assert weighted.overall_score == pytest.approx((300 + 50) / 4)


def test_an_empty_input_has_no_score_and_fails_the_score_gate(tmp_path):
    outcome = scan_files(tmp_path)
    assert outcome.scorecard.overall_score is None
    assert outcome.scorecard.overall_stage is None
    result = run_cli("scan", str(tmp_path), "--fail-under", "10")
    assert result.code == 1
    assert "no overall score" in result.stderr


def test_irrelevant_input_does_not_score_100(tmp_path):
    (tmp_path / "cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {a: b}\n"
    )
    assert scan_files(tmp_path).scorecard.overall_score is None


def test_a_thin_evidence_base_withholds_the_overall_score():
    evaluated = [item("NET-01", M, INI, Status.PASS)]
    evaluated += [item(f"NET-{n:02d}", H, INI, Status.NOT_APPLICABLE) for n in range(2, 9)]
    card = score(evaluated)
    assert card.pillars[Pillar.NETWORKS].score == 100.0
    assert card.evidence_base == pytest.approx(3 / 38)
    assert card.overall_score is None
