"""Helpers for the identity tests: a registry of the identity checks alone."""

from __future__ import annotations

from importlib.metadata import entry_points
from pathlib import Path

from conftest import FIXTURES, result_of, scan_files

from zt_audit.engine.registry import ENTRY_POINT_GROUP, Registry, discover

IDENTITY = FIXTURES / "identity"
DEFINITIONS = Path(__file__).resolve().parents[1] / "checks" / "identity"


def identity_registry() -> Registry:
    """A fresh registry of IAM-01 to IAM-14, loaded through their real entry point."""
    return discover(
        [DEFINITIONS],
        include_builtin=False,
        load_entry_points=lambda: [
            ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name == "identity"
        ],
    )


def run(check_id: str, *paths: Path | str, **config):
    """The result of one identity check over the given inputs."""
    outcome = scan_files(*paths, registry=identity_registry().select([check_id]), **config)
    return result_of(outcome, check_id)


def summary(result) -> list[tuple[str, str, str | None, str]]:
    """(status, object, field, message) of every finding, in report order."""
    return [(f.status.value, str(f.object), f.field, f.message) for f in result.findings]
