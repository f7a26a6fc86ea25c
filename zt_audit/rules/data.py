"""Data and secrets: DATA-01 to DATA-03."""

from __future__ import annotations

from zt_audit.engine.registry import Implementation

CHECKS: list[Implementation] = []
