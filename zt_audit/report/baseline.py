"""Comparing a report with a baseline report, so CI can fail only on what is new.

A finding is identified by its check, its object, its field and its message, never by
its file or line: moving a manifest within a file, or into another file, does not make
its findings new.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema

from zt_audit.errors import UsageError

SEVERITY_RANK = {"critical": 3, "high": 2, "medium": 1, "low": 0}


def fingerprint(check_id: str, finding: dict[str, Any]) -> str:
    obj = finding.get("object") or {}
    group = str(obj.get("apiVersion", "")).rpartition("/")[0]
    parts = [
        check_id,
        group,
        str(obj.get("kind", "")),
        str(obj.get("namespace") or ""),
        str(obj.get("name", "")),
        str(finding.get("field") or ""),
        str(finding.get("message", "")),
    ]
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:20]


@dataclass(frozen=True)
class BaselineDiff:
    source: str
    new: list[dict[str, Any]]
    fixed: int
    unchanged: int
    waived: frozenset[str] = field(default=frozenset())  # fingerprints a waiver covers

    def new_at_least(self, severity: str) -> list[dict[str, Any]]:
        """New failing findings of ``severity`` or worse that no waiver covers."""
        floor = SEVERITY_RANK[severity]
        return [
            f
            for f in self.new
            if f["status"] == "fail"
            and SEVERITY_RANK[f["severity"]] >= floor
            and f["fingerprint"] not in self.waived
        ]

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "new": len(self.new),
            "fixed": self.fixed,
            "unchanged": self.unchanged,
            "new_findings": self.new,
        }


def _entries(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    entries: dict[str, dict[str, Any]] = {}
    for check in report.get("checks", []):
        for finding in check.get("findings", []):
            key = fingerprint(check["id"], finding)
            entries[key] = {
                "fingerprint": key,
                "check": check["id"],
                "status": finding["status"],
                "severity": finding.get("severity") or check["severity"],
                "message": finding["message"],
                "location": finding.get("location"),
            }
    return entries


def compare(report: dict[str, Any], baseline: dict[str, Any], source: str) -> BaselineDiff:
    current, before = _entries(report), _entries(baseline)
    new = [
        current[key]
        for key in sorted(current, key=lambda k: (current[k]["check"], k))
        if key not in before
    ]
    return BaselineDiff(
        source=source,
        new=new,
        fixed=len(before.keys() - current.keys()),
        unchanged=len(current.keys() & before.keys()),
        waived=frozenset(
            fingerprint(check["id"], finding)
            for check in report["checks"]
            for finding in check["findings"]
            if "waived_by" in finding
        ),
    )


def load_baseline(path: Path, schema: dict[str, Any]) -> dict[str, Any]:
    """A saved JSON report, validated, or a one-line error naming the file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise UsageError(f"{path}: cannot read baseline: {error.strerror}") from error
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        line = getattr(error, "lineno", None)
        where = f"{path}:{line}" if line else str(path)
        raise UsageError(f"{where}: baseline is not a JSON report") from error
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(data), key=lambda e: e.path)
    if errors:
        field = "/".join(str(p) for p in errors[0].absolute_path) or "document"
        raise UsageError(
            f"{path}: baseline is not a zt-audit report ({field}: {errors[0].message[:120]})"
        )
    return data
