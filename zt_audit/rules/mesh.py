"""Service mesh and encryption in transit: MTLS-01 to MTLS-07 and NET-07."""

from __future__ import annotations

from zt_audit.engine.registry import Implementation

CHECKS: list[Implementation] = []
