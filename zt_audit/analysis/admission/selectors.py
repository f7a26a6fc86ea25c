"""Kubernetes label selectors and the name globs that policy engines use for namespaces."""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any


def selector_matches(selector: Any, labels: dict[str, str]) -> bool:
    """``metav1.LabelSelector`` semantics: an absent or empty selector matches everything.

    Requirements are ANDed; a malformed requirement matches nothing, as the API server
    would reject it rather than ignore it.
    """
    if selector is None:
        return True
    if not isinstance(selector, dict):
        return False
    match_labels = selector.get("matchLabels")
    if isinstance(match_labels, dict):
        for key, value in match_labels.items():
            if labels.get(str(key)) != str(value):
                return False
    expressions = selector.get("matchExpressions")
    if isinstance(expressions, list):
        return all(_expression(e, labels) for e in expressions)
    return True


def _expression(expression: Any, labels: dict[str, str]) -> bool:
    if not isinstance(expression, dict) or not isinstance(expression.get("key"), str):
        return False
    key, operator = expression["key"], expression.get("operator")
    values = expression.get("values")
    values = [str(v) for v in values] if isinstance(values, list) else []
    if operator == "In":
        return key in labels and labels[key] in values
    if operator == "NotIn":
        return key not in labels or labels[key] not in values
    if operator == "Exists":
        return key in labels
    if operator == "DoesNotExist":
        return key not in labels
    return False


def name_matches(patterns: Any, name: str) -> bool:
    """Whether ``name`` matches one of the glob patterns (``*`` and ``?``)."""
    if not isinstance(patterns, list):
        return False
    return any(isinstance(p, str) and fnmatchcase(name, p) for p in patterns)
