"""Scores and stages, as the check catalogue's Part 4 defines them.

Every figure here can be recomputed by hand from the per-check table of a report:
``zt-audit explain-scoring`` prints the formulas and the README works an example.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from zt_audit.engine.model import Capability, Pillar, Severity, Stage, Status
from zt_audit.engine.runner import Evaluated

# A stage S is reached when, over checks tagged S or lower, the weighted pass ratio is at
# least THRESHOLDS[S], at least MIN_OBSERVED of their weight was observable, and no check
# failed critically.
THRESHOLDS = {Stage.INITIAL: 0.70, Stage.ADVANCED: 0.80, Stage.OPTIMAL: 0.90}
MIN_OBSERVED = 0.5
# Below this evidence coverage a pillar is "insufficient evidence" and left out overall.
MIN_COVERAGE = 0.30
# Below this share of all the check weight a scan ran (not applicable included), the input
# says too little about a cluster for an overall figure: a lone ConfigMap that passes one
# data check must not read as a perfect score.
MIN_EVIDENCE_BASE = 0.10
SECONDARY_FACTOR = 0.5


@dataclass(frozen=True)
class Contribution:
    """One check's part in one area's score."""

    check_id: str
    title: str
    status: Status
    weight: float
    score: float | None  # None when not observable
    stage_scores: dict[Stage, float | None]
    critical_failure: bool
    role: str  # primary, secondary or tag

    @property
    def applicable(self) -> bool:
        return self.status is not Status.NOT_APPLICABLE

    @property
    def observable(self) -> bool:
        return self.status.observable


@dataclass(frozen=True)
class StageAssessment:
    stage: Stage
    pass_ratio: float | None  # A_S: weighted pass ratio over observable checks tagged S
    observed_share: float | None  # O_S: observable share of the applicable weight tagged S
    critical_failures: tuple[str, ...]
    met: bool
    blocked_by_evidence: bool  # only observability kept this stage from being met

    def as_dict(self) -> dict[str, object]:
        return {
            "stage": self.stage.value,
            "threshold": THRESHOLDS[self.stage],
            "pass_ratio": _round(self.pass_ratio),
            "observed_share": _round(self.observed_share),
            "critical_failures": list(self.critical_failures),
            "met": self.met,
            "blocked_by_evidence": self.blocked_by_evidence,
        }


@dataclass(frozen=True)
class AreaScore:
    """A pillar's or a cross-cutting capability's result."""

    key: str
    title: str
    score: float | None
    coverage: float | None
    stage: Stage
    indeterminate_above: bool
    insufficient: bool
    stages: tuple[StageAssessment, ...]
    contributions: tuple[Contribution, ...]
    next_stage_blockers: tuple[str, ...]

    @property
    def stage_label(self) -> str:
        if self.insufficient:
            return "Insufficient evidence"
        if self.indeterminate_above:
            return f"≥ {self.stage.title} (higher indeterminate)"
        return self.stage.title

    def counts(self) -> dict[str, int]:
        counts = {status.value: 0 for status in Status}
        for contribution in self.contributions:
            counts[contribution.status.value] += 1
        return counts

    def as_dict(self) -> dict[str, object]:
        return {
            "title": self.title,
            "score": _round(self.score, 1),
            "coverage": _round(self.coverage),
            "stage": self.stage.value,
            "stage_label": self.stage_label,
            "indeterminate_above": self.indeterminate_above,
            "insufficient_evidence": self.insufficient,
            "stages": [s.as_dict() for s in self.stages],
            "next_stage_blockers": list(self.next_stage_blockers),
            "counts": self.counts(),
            "contributions": [
                {
                    "check": c.check_id,
                    "role": c.role,
                    "status": c.status.value,
                    "weight": c.weight,
                    "score": _round(c.score),
                }
                for c in self.contributions
            ],
        }


@dataclass(frozen=True)
class Scorecard:
    pillars: dict[Pillar, AreaScore]
    cross_cutting: dict[Capability, AreaScore]
    overall_score: float | None
    overall_stage: Stage | None
    coverage: float | None
    in_scope: tuple[Pillar, ...]
    evidence_base: float | None = None
    weights: dict[Pillar, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {
            "overall": _round(self.overall_score, 1),
            "stage": self.overall_stage.value if self.overall_stage else None,
            "coverage": _round(self.coverage),
            "evidence_base": _round(self.evidence_base),
            "in_scope_pillars": [p.value for p in self.in_scope],
            "pillar_weights": {p.value: w for p, w in self.weights.items()},
            "pillars": {p.value: a.as_dict() for p, a in self.pillars.items()},
            "cross_cutting": {c.value: a.as_dict() for c, a in self.cross_cutting.items()},
        }


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


def score(
    evaluated: Sequence[Evaluated], pillar_weights: dict[str, float] | None = None
) -> Scorecard:
    pillars = {
        pillar: score_area(pillar.value, pillar.title, _pillar_contributions(evaluated, pillar))
        for pillar in Pillar
    }
    cross = {
        cap: score_area(cap.value, cap.title, _tag_contributions(evaluated, cap))
        for cap in Capability
    }
    in_scope = tuple(p for p, area in pillars.items() if not area.insufficient)
    weights = {p: float((pillar_weights or {}).get(p.value, 1.0)) for p in in_scope}
    total_weight = sum(weights.values())
    overall_score = None
    overall_stage = None
    primaries = [c for area in pillars.values() for c in area.contributions if c.role == "primary"]
    total = sum(c.weight for c in primaries)
    base = sum(c.weight for c in primaries if c.observable) / total if total else None
    if in_scope and total_weight > 0 and base is not None and base >= MIN_EVIDENCE_BASE:
        weighted = sum(pillars[p].score * weights[p] for p in in_scope)  # type: ignore[operator]
        overall_score = weighted / total_weight
        overall_stage = min((pillars[p].stage for p in in_scope), key=lambda s: s.order)
    return Scorecard(
        pillars=pillars,
        cross_cutting=cross,
        overall_score=overall_score,
        overall_stage=overall_stage,
        coverage=_coverage(primaries),
        in_scope=in_scope,
        evidence_base=base,
        weights=weights,
    )


def _contribution(item: Evaluated, weight: float, role: str) -> Contribution:
    spec, result = item.check.spec, item.result
    value = result.effective_score()
    stage_scores: dict[Stage, float | None] = {}
    for stage in spec.stages:
        if value is None:
            stage_scores[stage] = None
        elif result.stage_scores and stage in result.stage_scores:
            stage_scores[stage] = result.stage_scores[stage]
        else:
            stage_scores[stage] = value
    severity = result.severity or spec.severity
    return Contribution(
        check_id=spec.id,
        title=spec.title,
        status=result.status,
        weight=weight,
        score=value,
        stage_scores=stage_scores,
        critical_failure=result.status is Status.FAIL and severity is Severity.CRITICAL,
        role=role,
    )


def _pillar_contributions(evaluated: Iterable[Evaluated], pillar: Pillar) -> list[Contribution]:
    found = []
    for item in evaluated:
        spec = item.check.spec
        weight = float(spec.severity.weight)
        if spec.pillar is pillar:
            found.append(_contribution(item, weight, "primary"))
        elif pillar in spec.secondary_pillars:
            found.append(_contribution(item, weight * SECONDARY_FACTOR, "secondary"))
    return found


def _tag_contributions(
    evaluated: Iterable[Evaluated], capability: Capability
) -> list[Contribution]:
    return [
        _contribution(item, float(item.check.spec.severity.weight), "tag")
        for item in evaluated
        if capability in item.check.spec.cross_cutting
    ]


def _coverage(contributions: Sequence[Contribution]) -> float | None:
    applicable = sum(c.weight for c in contributions if c.applicable)
    if applicable == 0:
        return None
    return sum(c.weight for c in contributions if c.observable) / applicable


def score_area(key: str, title: str, contributions: Sequence[Contribution]) -> AreaScore:
    observable = [c for c in contributions if c.observable]
    observed_weight = sum(c.weight for c in observable)
    value = (
        100.0 * sum(c.weight * (c.score or 0.0) for c in observable) / observed_weight
        if observed_weight
        else None
    )
    coverage = _coverage(contributions)
    insufficient = value is None or coverage is None or coverage < MIN_COVERAGE

    stage = Stage.TRADITIONAL
    indeterminate = False
    assessments: list[StageAssessment] = []
    blockers: tuple[str, ...] = ()
    reached = True
    for candidate in (Stage.INITIAL, Stage.ADVANCED, Stage.OPTIMAL):
        assessment = _assess(candidate, contributions)
        assessments.append(assessment)
        if not reached:
            continue
        if assessment.met:
            stage = candidate
            continue
        reached = False
        indeterminate = assessment.blocked_by_evidence
        blockers = _blockers(candidate, contributions)
    return AreaScore(
        key=key,
        title=title,
        score=value,
        coverage=coverage,
        stage=stage,
        indeterminate_above=indeterminate,
        insufficient=insufficient,
        stages=tuple(assessments),
        contributions=tuple(contributions),
        next_stage_blockers=blockers,
    )


def _tagged(stage: Stage, contributions: Iterable[Contribution]) -> list[Contribution]:
    return [c for c in contributions if stage in c.stage_scores]


def _assess(stage: Stage, contributions: Sequence[Contribution]) -> StageAssessment:
    tagged = [c for c in _tagged(stage, contributions) if c.applicable]
    observed = [c for c in tagged if c.observable]
    applicable_weight = sum(c.weight for c in tagged)
    observed_weight = sum(c.weight for c in observed)
    pass_ratio = (
        sum(c.weight * (c.stage_scores[stage] or 0.0) for c in observed) / observed_weight
        if observed_weight
        else None
    )
    share = observed_weight / applicable_weight if applicable_weight else None
    lower = [s for s in THRESHOLDS if s.order <= stage.order]
    critical = tuple(
        sorted(
            c.check_id
            for c in contributions
            if c.critical_failure and any(s in c.stage_scores for s in lower)
        )
    )
    evidence_ok = share is not None and share >= MIN_OBSERVED
    ratio_ok = pass_ratio is not None and pass_ratio >= THRESHOLDS[stage]
    met = evidence_ok and ratio_ok and not critical
    # When evidence is short, the ratio over what was seen cannot settle the stage.
    blocked_by_evidence = not evidence_ok and not critical and (pass_ratio is None or ratio_ok)
    return StageAssessment(stage, pass_ratio, share, critical, met, blocked_by_evidence)


def _blockers(stage: Stage, contributions: Sequence[Contribution]) -> tuple[str, ...]:
    """Checks tagged ``stage`` or lower that are not passing, the largest loss first."""
    lost = []
    for c in contributions:
        scores = [v for s, v in c.stage_scores.items() if s.order <= stage.order]
        if not scores or not c.applicable:
            continue
        value = min((v for v in scores if v is not None), default=None)
        loss = c.weight * (1.0 - value) if value is not None else c.weight
        if c.critical_failure:
            loss += 1000.0
        if loss > 0:
            lost.append((-loss, c.check_id))
    return tuple(check_id for _, check_id in sorted(lost))
