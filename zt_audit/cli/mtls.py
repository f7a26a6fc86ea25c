"""``zt-audit mtls``: the effective mTLS mode of every workload port, and why.

It reads the same mesh analysis as the scan's MTLS checks and the report's ``mtls``
posture section, so the three always agree.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from rich.table import Table

from zt_audit.cli.environment import Environment
from zt_audit.cli.live import read_snapshot
from zt_audit.engine.config import ScanConfig
from zt_audit.engine.context import ScanContext
from zt_audit.engine.evidence import EvidenceSources
from zt_audit.errors import UsageError
from zt_audit.exitcodes import ExitStatus
from zt_audit.inventory import load_inventory
from zt_audit.rules.mesh import mesh_of

log = logging.getLogger(__name__)


@dataclass
class MtlsRequest:
    paths: list[str]
    namespaces: list[str]
    output_format: str = "table"
    config: ScanConfig | None = None


def run_mtls_command(request: MtlsRequest, env: Environment) -> int:
    if not request.paths:
        raise UsageError("no input: give manifest files or folders, a snapshot, or '-'")
    inventory = load_inventory(request.paths, stdin=env.stdin)
    for problem in inventory.errors:
        env.stderr.write(f"zt-audit: {problem}\n")
    for problem in inventory.warnings:
        log.warning("%s", problem)
    config = request.config or ScanConfig()
    evidence = read_snapshot(request.paths, inventory) or EvidenceSources(mode="manifests")
    ctx = ScanContext(inventory, config, evidence)

    rows = mtls_rows(ctx, request.namespaces)
    if request.output_format == "json":
        document = {"root_namespace": config.mesh_root_namespace, "workloads": rows}
        env.stdout.write(json.dumps(document, indent=2, sort_keys=True) + "\n")
    else:
        _print_table(rows, env)
    return ExitStatus.USAGE_ERROR if inventory.errors else ExitStatus.OK


def mtls_rows(ctx: ScanContext, namespaces: list[str]) -> list[dict[str, Any]]:
    """One entry per in-scope workload, sorted, with the report's ``mtls`` facts."""
    wanted = set(namespaces)
    rows = []
    for key, result in sorted(mesh_of(ctx).results.items()):
        if wanted and result.workload.namespace not in wanted:
            continue
        rows.append({"workload": key, **result.as_facts()})
    return rows


def _print_table(rows: list[dict[str, Any]], env: Environment) -> None:
    if not rows:
        env.stderr.write("zt-audit: no workloads in scope\n")
        return
    table = Table(show_lines=False, box=None, pad_edge=False)
    for column in ("WORKLOAD", "PORT", "MODE", "MESH", "DECIDED BY"):
        table.add_column(column, overflow="fold")
    for row in rows:
        mesh = row["mesh"] or "-"
        for index, port in enumerate(row["ports"]):
            reasons = [*row["decided_by"], *port["decided_by"]] if index == 0 else []
            reasons = reasons or port["decided_by"]
            decided = "; ".join(dict.fromkeys(reasons))
            name = row["workload"] if index == 0 else ""
            table.add_row(name, port["port"], port["mode"], mesh, decided)
        for note in row["notes"]:
            table.add_row("", "", "", "", f"note: {note}")
    env.out.print(table)
