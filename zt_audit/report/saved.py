"""Reading a saved JSON report back, so that archived evidence can be rendered again."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema

from zt_audit.errors import ZtAuditError
from zt_audit.report.document import report_schema


class ReportError(ZtAuditError):
    """A saved report cannot be read or is not a zt-audit report."""


def load_report(path: Path) -> dict[str, Any]:
    """The report document in ``path``, validated against the published report schema."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ReportError(f"{path}: cannot read report: {error.strerror}") from error
    except UnicodeDecodeError as error:
        raise ReportError(f"{path}: not a zt-audit JSON report: not UTF-8 text") from error
    try:
        report = json.loads(text)
    except json.JSONDecodeError as error:
        raise ReportError(
            f"{path}:{error.lineno}: not a zt-audit JSON report: {error.msg}"
        ) from error
    validate_report(report, str(path))
    return report


def validate_report(report: Any, name: str) -> None:
    """Raise ``ReportError`` naming ``name`` and the first field at fault."""
    validator = jsonschema.Draft202012Validator(report_schema())
    errors = sorted(validator.iter_errors(report), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        error = errors[0]
        field = _field(error.absolute_path) or "document"
        # jsonschema echoes the offending value; a report may hold anything, so keep it short.
        message = error.message if len(error.message) <= 160 else error.message[:157] + "..."
        raise ReportError(f"{name}: not a valid zt-audit report: {field}: {message}")


def _field(path: Any) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text
