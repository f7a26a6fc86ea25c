"""Audit logging: AUD-01 to AUD-05."""

from __future__ import annotations

from zt_audit.engine.registry import Implementation

CHECKS: list[Implementation] = []
