"""Running checks: a check that crashes is recorded as an error and the scan goes on."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from zt_audit.engine.context import ScanContext
from zt_audit.engine.model import Check, CheckResult, Status
from zt_audit.engine.registry import Registry
from zt_audit.gcpause import collector_paused

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Evaluated:
    check: Check
    result: CheckResult


def run_checks(registry: Registry, ctx: ScanContext) -> list[Evaluated]:
    with collector_paused():
        return [Evaluated(check, _evaluate(check, ctx)) for check in registry]


def _evaluate(check: Check, ctx: ScanContext) -> CheckResult:
    try:
        result = check.evaluate(ctx)
        if not isinstance(result, CheckResult):
            raise TypeError(f"returned {type(result).__name__}, not CheckResult")
    except Exception as error:  # one broken check must not cost the others' results
        log.error("check %s failed: %s", check.id, error, exc_info=log.isEnabledFor(10))
        return CheckResult(Status.ERROR, f"the check crashed: {type(error).__name__}: {error}")
    return result
