"""One scan, start to finish: inventory in, checks run, scores out."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from zt_audit.engine.config import ScanConfig
from zt_audit.engine.context import ScanContext
from zt_audit.engine.evidence import EvidenceSources
from zt_audit.engine.model import Severity, Status
from zt_audit.engine.registry import Registry
from zt_audit.engine.runner import Evaluated, run_checks
from zt_audit.inventory import Inventory
from zt_audit.scoring import Scorecard, score


@dataclass(frozen=True)
class ScanOutcome:
    inventory: Inventory
    config: ScanConfig
    evidence: EvidenceSources
    context: ScanContext
    evaluated: list[Evaluated]
    scorecard: Scorecard
    generated_at: str = field(
        default_factory=lambda: datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    )

    def failing(self, at_least: Severity) -> list[Evaluated]:
        """Failed checks whose effective severity is ``at_least`` or worse."""
        return [
            item
            for item in self.evaluated
            if item.result.status is Status.FAIL
            and (item.result.severity or item.check.spec.severity).rank >= at_least.rank
        ]


def run_scan(
    inventory: Inventory,
    registry: Registry,
    config: ScanConfig | None = None,
    evidence: EvidenceSources | None = None,
) -> ScanOutcome:
    config = config or ScanConfig()
    evidence = evidence or EvidenceSources(complete=config.bundle_is_complete)
    context = ScanContext(inventory, config, evidence)
    evaluated = run_checks(registry, context)
    scorecard = score(evaluated, config.pillar_weights)
    return ScanOutcome(inventory, config, evidence, context, evaluated, scorecard)
