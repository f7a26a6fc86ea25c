"""Identity and access: IAM-01 to IAM-14."""

from __future__ import annotations

from zt_audit.engine.registry import Implementation

CHECKS: list[Implementation] = []
