"""The layers of the architecture hold: checked on the source, import by import."""

from __future__ import annotations

import ast
from pathlib import Path

import zt_audit

PACKAGE = Path(zt_audit.__file__).parent

# What each layer must never import (the package prefixes are zt_audit.<layer>).
FORBIDDEN = {
    "inventory": {
        "zt_audit.engine",
        "zt_audit.rules",
        "zt_audit.scoring",
        "zt_audit.report",
        "zt_audit.cli",
        "rich",
        "jinja2",
        "typer",
    },
    "analysis": {
        "zt_audit.rules",
        "zt_audit.scoring",
        "zt_audit.report",
        "zt_audit.cli",
        "rich",
        "jinja2",
        "typer",
    },
    "engine": {
        "zt_audit.rules",
        "zt_audit.scoring",
        "zt_audit.report",
        "zt_audit.cli",
        "rich",
        "jinja2",
        "typer",
    },
    "rules": {"zt_audit.scoring", "zt_audit.report", "zt_audit.cli", "rich", "jinja2", "typer"},
    "scoring": {"zt_audit.rules", "zt_audit.report", "zt_audit.cli", "rich", "jinja2", "typer"},
    "report": {"zt_audit.cli", "typer"},
}
# Only the live-cluster source talks to the Kubernetes API client.
KUBERNETES_CLIENT_ALLOWED = {"sources/cluster.py"}


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _violations(module: str, banned: set[str]) -> bool:
    return any(module == b or module.startswith(b + ".") for b in banned)


def test_each_layer_imports_only_what_it_may():
    problems = []
    for layer, banned in FORBIDDEN.items():
        for path in sorted((PACKAGE / layer).rglob("*.py")):
            for module in imports_of(path):
                if _violations(module, banned):
                    problems.append(f"{path.relative_to(PACKAGE)} imports {module}")
    assert problems == []


def test_only_the_cluster_source_imports_the_kubernetes_client():
    offenders = [
        str(path.relative_to(PACKAGE))
        for path in sorted(PACKAGE.rglob("*.py"))
        if str(path.relative_to(PACKAGE)) not in KUBERNETES_CLIENT_ALLOWED
        and any(_violations(m, {"kubernetes"}) for m in imports_of(path))
    ]
    assert offenders == []
