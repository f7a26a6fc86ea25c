"""The maturity model: pillar scores, evidence coverage and gated stages."""

from zt_audit.scoring.maturity import AreaScore, Scorecard, StageAssessment, score

__all__ = ["AreaScore", "Scorecard", "StageAssessment", "score"]
