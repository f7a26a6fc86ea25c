"""Calico's selector expressions (``role == 'db' && has(tier)``) as label selectors.

Conjunctions of the common terms are translated exactly: ``all()``, ``has(k)``,
``!has(k)``, ``k == 'v'``, ``k != 'v'``, ``k in {...}`` and ``k not in {...}``.
Disjunctions (``||``), parentheses and the string-match functions are not: the caller
decides how to treat an untranslatable selector and says so.
"""

from __future__ import annotations

import re

from zt_audit.analysis.selectors import EVERYTHING, Requirement, Selector

_VALUE = r"""(?:'([^']*)'|"([^"]*)")"""
_TERMS = [
    (re.compile(r"^all\(\)$"), "all"),
    (re.compile(r"^has\(\s*([\w./-]+)\s*\)$"), "Exists"),
    (re.compile(r"^!\s*has\(\s*([\w./-]+)\s*\)$"), "DoesNotExist"),
    (re.compile(rf"^([\w./-]+)\s*==\s*{_VALUE}$"), "In"),
    (re.compile(rf"^([\w./-]+)\s*!=\s*{_VALUE}$"), "NotIn"),
    (re.compile(r"^([\w./-]+)\s+not\s+in\s*\{([^}]*)\}$"), "NotInSet"),
    (re.compile(r"^([\w./-]+)\s+in\s*\{([^}]*)\}$"), "InSet"),
]


def parse_calico_selector(text: object) -> Selector | None:
    """The selector, EVERYTHING for an empty one, or None when it cannot be translated."""
    if text is None:
        return EVERYTHING
    if not isinstance(text, str):
        return None
    text = text.strip()
    if not text:
        return EVERYTHING
    if "||" in text or "(" in text.replace("has(", "").replace("all(", ""):
        return None
    requirements: list[Requirement] = []
    for term in text.split("&&"):
        requirement = _term(term.strip())
        if requirement is None:
            return None
        if requirement is not EVERYTHING:
            requirements.append(requirement)
    requirements.sort(key=lambda r: (r.key, r.operator, sorted(r.values)))
    return Selector(tuple(requirements))


def _term(term: str):
    for pattern, operator in _TERMS:
        found = pattern.match(term)
        if not found:
            continue
        if operator == "all":
            return EVERYTHING
        key = found.group(1)
        if operator in ("Exists", "DoesNotExist"):
            return Requirement(key, operator)
        if operator in ("In", "NotIn"):
            value = found.group(2) if found.group(2) is not None else found.group(3)
            return Requirement(key, operator, frozenset({value}))
        values = frozenset(v.strip().strip("'\"") for v in found.group(2).split(",") if v.strip())
        return Requirement(key, "In" if operator == "InSet" else "NotIn", values)
    return None
