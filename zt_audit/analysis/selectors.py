"""Label selectors: ``matchLabels`` and ``matchExpressions`` as Kubernetes evaluates them,
for every analysis that selects objects (network policies, meshes, admission, RBAC
aggregation).

A selector's requirements are ANDed. An empty selector (``{}``) selects everything; a
selector that the API server would reject (an unknown operator, ``In`` without values)
selects nothing, so that a malformed policy never widens what it allows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")


class Match(Enum):
    """A three-valued match: labels that are not known can make the answer unknown."""

    NO = 0
    MAYBE = 1
    YES = 2

    def __and__(self, other: Match) -> Match:
        return self if self.value <= other.value else other

    def __or__(self, other: Match) -> Match:
        return self if self.value >= other.value else other

    def __bool__(self) -> bool:
        return self is not Match.NO


@dataclass(frozen=True, slots=True)
class Requirement:
    key: str
    operator: str
    values: frozenset[str] = frozenset()

    def matches(self, labels: Mapping[str, str]) -> bool:
        present = self.key in labels
        if self.operator == "In":
            return present and labels[self.key] in self.values
        if self.operator == "NotIn":
            # NotIn also selects objects that lack the key altogether.
            return not present or labels[self.key] not in self.values
        if self.operator == "Exists":
            return present
        return not present  # DoesNotExist

    def __str__(self) -> str:
        if self.operator in ("Exists", "DoesNotExist"):
            return f"{'!' if self.operator == 'DoesNotExist' else ''}{self.key}"
        values = ",".join(sorted(self.values))
        if self.operator == "In" and len(self.values) == 1:
            return f"{self.key}={values}"
        return f"{self.key} {self.operator.lower()} ({values})"


@dataclass(frozen=True, slots=True)
class Selector:
    """A parsed label selector. ``valid`` is False when the API server would reject it."""

    requirements: tuple[Requirement, ...] = ()
    valid: bool = True

    @property
    def empty(self) -> bool:
        """Selects every object (``{}``)."""
        return self.valid and not self.requirements

    @property
    def keys(self) -> frozenset[str]:
        return frozenset(r.key for r in self.requirements)

    def matches(self, labels: Mapping[str, str]) -> bool:
        return self.valid and all(r.matches(labels) for r in self.requirements)

    def match_partial(self, labels: Mapping[str, str], known: frozenset[str] | None) -> Match:
        """Match labels of which only the keys in ``known`` are certain (None: all are).

        A requirement on an unknown key could go either way, so it yields MAYBE unless
        another requirement already rules the object out.
        """
        if not self.valid:
            return Match.NO
        result = Match.YES
        for requirement in self.requirements:
            if known is not None and requirement.key not in known:
                result = Match.MAYBE
            elif not requirement.matches(labels):
                return Match.NO
        return result

    def equality_labels(self) -> dict[str, str]:
        """Requirements of the form key=value, which an index can look up directly."""
        return {
            r.key: next(iter(r.values))
            for r in self.requirements
            if r.operator == "In" and len(r.values) == 1
        }

    def __str__(self) -> str:
        if not self.valid:
            return "<invalid selector>"
        return ",".join(str(r) for r in self.requirements) or "{}"


EVERYTHING = Selector()
NOTHING = Selector(valid=False)


def parse_selector(value: Any) -> Selector:
    """A ``LabelSelector`` mapping as a Selector; None and ``{}`` select everything."""
    if value is None:
        return EVERYTHING
    if not isinstance(value, dict):
        return NOTHING
    requirements: list[Requirement] = []
    labels = value.get("matchLabels")
    if labels is not None:
        if not isinstance(labels, dict):
            return NOTHING
        for key, label in labels.items():
            if not isinstance(key, str) or not isinstance(label, str | int | float | bool):
                return NOTHING
            requirements.append(Requirement(key, "In", frozenset({_label_text(label)})))
    expressions = value.get("matchExpressions")
    if expressions is not None:
        if not isinstance(expressions, list):
            return NOTHING
        for expression in expressions:
            requirement = _parse_expression(expression)
            if requirement is None:
                return NOTHING
            requirements.append(requirement)
    requirements.sort(key=lambda r: (r.key, r.operator, sorted(r.values)))
    return Selector(tuple(requirements))


def selector_matches(value: Any, labels: Mapping[str, str]) -> bool:
    """Whether an object with ``labels`` is selected by a ``LabelSelector`` mapping."""
    return parse_selector(value).matches(labels)


def parse_equality_map(value: Any) -> Selector:
    """A plain label map (as in Service ``selector``) as a Selector."""
    if not isinstance(value, dict):
        return NOTHING
    return parse_selector({"matchLabels": value})


def _parse_expression(expression: Any) -> Requirement | None:
    if not isinstance(expression, dict):
        return None
    key, operator = expression.get("key"), expression.get("operator")
    values = expression.get("values")
    if not isinstance(key, str) or operator not in OPERATORS:
        return None
    if operator in ("In", "NotIn"):
        # The API server requires values for In and NotIn and forbids them otherwise.
        if not isinstance(values, list) or not values:
            return None
        return Requirement(key, operator, frozenset(_label_text(v) for v in values))
    if values:
        return None
    return Requirement(key, operator)


def _label_text(value: Any) -> str:
    # YAML may parse `version: 1` or `enabled: true` as numbers and booleans.
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
