"""Waivers: accepted risks, each with a reason, an owner and an end date.

A waiver names a check and, optionally, the objects it covers (``Kind/namespace/name`` or
``Kind/name``, each part a glob). It never changes a check's status or the score: it
changes what fails a CI gate, and every report shows it beside the findings it covers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from fnmatch import fnmatchcase
from typing import Any

from zt_audit.errors import UsageError

FIELDS = ("check", "objects", "reason", "owner", "expires")


@dataclass(frozen=True)
class Waiver:
    check: str
    objects: tuple[str, ...]  # empty: the whole check
    reason: str
    owner: str
    expires: date

    def covers(self, check_id: str, obj: dict[str, Any] | None) -> bool:
        if check_id != self.check:
            return False
        if not self.objects:
            return True
        return obj is not None and any(_object_matches(p, obj) for p in self.objects)

    def as_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "objects": list(self.objects),
            "reason": self.reason,
            "owner": self.owner,
            "expires": self.expires.isoformat(),
        }


def parse_waivers(value: Any, where: str) -> tuple[Waiver, ...]:
    """The ``waivers`` setting, or a one-line error naming the entry and its field."""
    if not isinstance(value, list):
        raise UsageError(f"{where}: waivers must be a list")
    return tuple(_parse_one(entry, f"{where}: waivers[{i}]") for i, entry in enumerate(value))


def _parse_one(entry: Any, where: str) -> Waiver:
    if not isinstance(entry, dict):
        raise UsageError(f"{where} must be a mapping with {', '.join(FIELDS)}")
    unknown = sorted(str(key) for key in entry if key not in FIELDS)
    if unknown:
        raise UsageError(f"{where}: unknown field {unknown[0]!r} (known: {', '.join(FIELDS)})")
    text = {}
    for name in ("check", "reason", "owner"):
        field = entry.get(name)
        if not isinstance(field, str) or not field.strip():
            raise UsageError(f"{where}: {name} is required (a non-empty string)")
        text[name] = field.strip()
    objects = entry.get("objects", [])
    if not isinstance(objects, list) or not all(_valid_pattern(p) for p in objects):
        raise UsageError(f"{where}: objects must be a list of Kind/namespace/name or Kind/name")
    return Waiver(
        check=text["check"],
        objects=tuple(objects),
        reason=text["reason"],
        owner=text["owner"],
        expires=_expiry(entry.get("expires"), where),
    )


def _valid_pattern(pattern: Any) -> bool:
    return isinstance(pattern, str) and pattern.count("/") in (1, 2) and all(pattern.split("/"))


def _expiry(value: Any, where: str) -> date:
    # YAML reads an unquoted 2027-03-31 as a date already.
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise UsageError(f"{where}: expires is required (a date, YYYY-MM-DD): no waiver lasts forever")


def _object_matches(pattern: str, obj: dict[str, Any]) -> bool:
    parts = pattern.split("/")
    kind, name = parts[0], parts[-1]
    namespace = parts[1] if len(parts) == 3 else None
    if not fnmatchcase(str(obj.get("kind", "")), kind):
        return False
    if not fnmatchcase(str(obj.get("name", "")), name):
        return False
    # Kind/name is for cluster-scoped objects, Kind/namespace/name for namespaced ones.
    if namespace is None:
        return not obj.get("namespace")
    return bool(obj.get("namespace")) and fnmatchcase(str(obj["namespace"]), namespace)
