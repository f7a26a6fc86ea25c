"""The error hierarchy: one base class, one subclass per layer.

Messages lead with the thing at fault (``manifests/app.yaml:14: ...``) so that a user can
go straight to it; the CLI prints them on one line.
"""

from __future__ import annotations


class ZtAuditError(Exception):
    """Base class of every error zt-audit raises on purpose."""


class UsageError(ZtAuditError):
    """The command line or a configuration value is wrong."""


class InputError(ZtAuditError):
    """An input file or stream cannot be read as Kubernetes objects."""

    def __init__(self, source: str, line: int | None, reason: str) -> None:
        self.source = source
        self.line = line
        self.reason = reason
        where = f"{source}:{line}" if line else source
        super().__init__(f"{where}: {reason}")


class CheckDefinitionError(ZtAuditError):
    """A check definition is invalid, duplicated or cannot be loaded."""


class SourceError(ZtAuditError):
    """A source of evidence (a cluster, a snapshot) cannot be reached or read."""
