"""The README stays true to the code: its catalogue and its commands."""

from __future__ import annotations

import re
from pathlib import Path

from zt_audit.cli.catalogue import markdown_catalogue
from zt_audit.engine.registry import discover

README = Path(__file__).resolve().parents[1] / "README.md"


def _section(name: str) -> str:
    text = README.read_text(encoding="utf-8")
    match = re.search(rf"<!-- {name}:start -->\n(.*?)<!-- {name}:end -->", text, re.S)
    assert match, f"README has no {name} section"
    return match.group(1)


def test_the_catalogue_table_lists_every_registered_check():
    # Regenerate with: zt-audit checks list -f markdown
    assert _section("checks") == markdown_catalogue(discover())


def test_the_first_lines_hold_the_two_commands():
    head = README.read_text(encoding="utf-8").split("## ")[0]
    assert "pip install . && zt-audit scan examples/cluster" in head
    assert "./scripts/test" in head
    assert Path(README.parent, "scripts", "test").exists()
    assert "./scripts/test" in Path(README.parent, ".ci", "run").read_text()
