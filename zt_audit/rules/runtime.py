"""Runtime security agents: RT-01 to RT-03."""

from __future__ import annotations

from zt_audit.engine.registry import Implementation

CHECKS: list[Implementation] = []
