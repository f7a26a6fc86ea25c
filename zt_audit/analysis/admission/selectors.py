"""The name globs that policy engines use to pick namespaces."""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any


def name_matches(patterns: Any, name: str) -> bool:
    """Whether ``name`` matches one of the glob patterns (``*`` and ``?``)."""
    if not isinstance(patterns, list):
        return False
    return any(isinstance(p, str) and fnmatchcase(name, p) for p in patterns)
