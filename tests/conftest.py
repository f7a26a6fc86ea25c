"""Shared test helpers: scan real manifests through the real registry."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import pytest

from zt_audit.cli.app import main
from zt_audit.cli.environment import Environment
from zt_audit.engine.config import ScanConfig
from zt_audit.engine.registry import Registry, discover
from zt_audit.inventory import load_inventory
from zt_audit.scan import ScanOutcome, run_scan

FIXTURES = Path(__file__).parent / "fixtures"
# Manifests written by other projects, at their upstream paths, each with its licence.
CORPORA = FIXTURES / "corpora"


@pytest.fixture
def registry() -> Registry:
    """A fresh registry for every test."""
    return discover()


def scan_files(*paths: Path | str, registry: Registry | None = None, **config) -> ScanOutcome:
    inventory = load_inventory([str(p) for p in paths])
    return run_scan(inventory, registry or discover(), ScanConfig(**config))


def result_of(outcome: ScanOutcome, check_id: str):
    for item in outcome.evaluated:
        if item.check.id == check_id:
            return item.result
    raise AssertionError(f"{check_id} did not run")


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str


class _Stdin(io.StringIO):
    def __init__(self, data: bytes) -> None:
        super().__init__()
        self.buffer = io.BytesIO(data)


def run_cli(*args: str, stdin: bytes = b"") -> CliResult:
    """Run ``zt-audit`` in-process with its own streams, as a user would from a shell."""
    out, err = io.StringIO(), io.StringIO()
    code = main(list(args), Environment(_Stdin(stdin), out, err))
    return CliResult(int(code), out.getvalue(), err.getvalue())
