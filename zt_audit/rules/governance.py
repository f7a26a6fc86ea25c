"""Governance and automation: GOV-01 and GOV-02."""

from __future__ import annotations

from zt_audit.engine.registry import Implementation

CHECKS: list[Implementation] = []
