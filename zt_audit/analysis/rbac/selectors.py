"""Label selectors of ClusterRole aggregation rules."""

from __future__ import annotations

from typing import Any


def selector_matches(selector: Any, labels: dict[str, str]) -> bool:
    """Whether ``labels`` satisfy a LabelSelector.

    An empty selector matches every object; a malformed one matches none, since the API
    server would have refused it and nothing can be aggregated through it.
    """
    if not isinstance(selector, dict):
        return False
    match_labels = selector.get("matchLabels", {})
    expressions = selector.get("matchExpressions", [])
    if not isinstance(match_labels, dict) or not isinstance(expressions, list):
        return False
    for key, value in match_labels.items():
        if labels.get(str(key)) != str(value):
            return False
    return all(_expression_matches(expression, labels) for expression in expressions)


def _expression_matches(expression: Any, labels: dict[str, str]) -> bool:
    if not isinstance(expression, dict):
        return False
    key, operator = expression.get("key"), expression.get("operator")
    values = expression.get("values") or []
    if not isinstance(key, str) or not isinstance(values, list):
        return False
    values = [str(value) for value in values]
    if operator == "In":
        return key in labels and labels[key] in values
    if operator == "NotIn":
        return key not in labels or labels[key] not in values
    if operator == "Exists":
        return key in labels
    if operator == "DoesNotExist":
        return key not in labels
    return False
