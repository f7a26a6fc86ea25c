"""Network segmentation: NET-01 to NET-06 and NET-08."""

from __future__ import annotations

from zt_audit.engine.registry import Implementation

CHECKS: list[Implementation] = []
