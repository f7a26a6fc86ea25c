"""Image supply chain beyond the basics: IMG-04 to IMG-07."""

from __future__ import annotations

from zt_audit.engine.registry import Implementation

CHECKS: list[Implementation] = []
