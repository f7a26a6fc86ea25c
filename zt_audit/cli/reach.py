"""``zt-audit reach``: may one workload (or address) connect to another, and why.

Without ``--from`` and ``--to`` it prints the whole connectivity map instead. Both come
from the same engine as the NET checks and the report's ``network`` section.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from zt_audit.analysis.netpol import NetworkEngine
from zt_audit.analysis.netpol.connectivity import DEFAULT_LIMIT, connectivity_map
from zt_audit.analysis.netpol.engine import Connection
from zt_audit.analysis.netpol.evaluate import DirectionVerdict, Target
from zt_audit.analysis.netpol.model import Endpoint, parse_address
from zt_audit.cli.environment import Environment
from zt_audit.errors import UsageError
from zt_audit.exitcodes import ExitStatus
from zt_audit.inventory import Inventory, load_inventory

log = logging.getLogger(__name__)
OWNER_HOPS = 4  # Pod -> ReplicaSet -> Deployment, Pod -> Job -> CronJob


@dataclass
class ReachRequest:
    paths: list[str]
    source: str | None
    destination: str | None
    port: int | None = None
    protocol: str | None = None
    output_format: str = "table"
    limit: int = DEFAULT_LIMIT


def run_reach_command(request: ReachRequest, env: Environment) -> int:
    if not request.paths:
        raise UsageError("no input: give manifest files or folders, a snapshot, or '-'")
    if (request.source is None) != (request.destination is None):
        raise UsageError("give both --from and --to, or neither for the connectivity map")
    inventory = load_inventory(request.paths, stdin=env.stdin)
    for problem in inventory.errors:
        env.stderr.write(f"zt-audit: {problem}\n")
    for problem in inventory.warnings:
        log.warning("%s", problem)
    engine = NetworkEngine(inventory)
    if request.source is None or request.destination is None:
        return _print_map(engine, request, env, inventory)
    source = resolve(engine, inventory, request.source, "--from")
    destination = resolve(engine, inventory, request.destination, "--to")
    protocol = request.protocol or ("TCP" if request.port is not None else None)
    connection = engine.connection(source, destination, protocol, request.port)
    document = connection_document(connection)
    if request.output_format == "json":
        env.stdout.write(json.dumps(document, indent=2, sort_keys=True) + "\n")
    else:
        env.stdout.write(render_connection(document))
    if inventory.errors:
        return ExitStatus.USAGE_ERROR
    return ExitStatus.OK if connection.allowed else ExitStatus.GATE_FAILED


# Naming the two ends


def resolve(engine: NetworkEngine, inventory: Inventory, text: str, option: str) -> Target:
    """An endpoint from [KIND/]NAMESPACE/NAME (a workload or one of its pods), or an address."""
    address = parse_address(text)
    if address is not None:
        return address
    parts = text.split("/")
    if len(parts) not in (2, 3) or not all(parts):
        raise UsageError(f"{option} {text}: expected NAMESPACE/NAME, KIND/NAMESPACE/NAME or an IP")
    kind = parts[0] if len(parts) == 3 else None
    namespace, name = parts[-2], parts[-1]
    found = [
        e
        for e in engine.endpoints
        if e.namespace == namespace
        and e.workload.name == name
        and (kind is None or e.kind.lower() == kind.lower())
    ]
    if not found:
        found = _owning_endpoints(engine, inventory, namespace, name)
    if not found:
        raise UsageError(f"{option} {text}: no workload or pod of that name in the input")
    if len(found) > 1:
        kinds = ", ".join(sorted(f"{e.kind}/{e.key}" for e in found))
        raise UsageError(f"{option} {text}: ambiguous ({kinds}); name it as KIND/NAMESPACE/NAME")
    return found[0]


def _owning_endpoints(
    engine: NetworkEngine, inventory: Inventory, namespace: str, name: str
) -> list[Endpoint]:
    """A pod folded into its controller is named by its own name too."""
    resource = inventory.get("Pod", namespace, name)
    by_ref = {(e.kind, e.namespace, e.workload.name): e for e in engine.endpoints}
    for _ in range(OWNER_HOPS):
        if resource is None:
            return []
        owners = resource.metadata.get("ownerReferences")
        owner = (
            next((o for o in owners if isinstance(o, dict) and o.get("controller") is True), None)
            if isinstance(owners, list)
            else None
        )
        if owner is None:
            return []
        kind, owner_name = owner.get("kind"), owner.get("name")
        if not isinstance(kind, str) or not isinstance(owner_name, str):
            return []
        endpoint = by_ref.get((kind, namespace, owner_name))
        if endpoint is not None:
            return [endpoint]
        group = "apps" if kind in ("ReplicaSet", "Deployment", "StatefulSet") else "batch"
        resource = inventory.get(kind, namespace, owner_name, group)
    return []


# One connection


def _side(target: Target) -> dict[str, Any]:
    if isinstance(target, Endpoint):
        return {"workload": target.key, "kind": target.kind}
    return {"address": str(target)}


def _direction(
    verdict: DirectionVerdict | None, protocol: str | None, port: int | None, outside: str
) -> dict[str, Any]:
    if verdict is None:
        return {
            "applies": False,
            "allowed": True,
            "reason": outside,
            "isolated_by": [],
            "rules": [],
            "ports": "all",
        }
    if not verdict.policies_apply:
        return {
            "applies": False,
            "allowed": True,
            "reason": "hostNetwork pods are outside NetworkPolicy",
            "isolated_by": [],
            "rules": [],
            "ports": "all",
        }
    steps = verdict.steps_for(protocol, port)
    if port is not None:
        allowed = bool(verdict.ports.ranges.get(protocol or "TCP")) and any(
            low <= port <= high for low, high in verdict.ports.ranges.get(protocol or "TCP", ())
        )
    elif protocol is not None:
        allowed = protocol in verdict.ports.ranges
    else:
        allowed = bool(verdict.ports)
    if not verdict.isolated and not steps:
        reason = "not isolated: no policy selects it in this direction"
    elif allowed:
        reason = "allowed by the rules listed"
    elif verdict.isolated and not steps:
        reason = "isolated, and no rule allows this peer and port"
    else:
        reason = "denied by the rules listed"
    return {
        "applies": True,
        "allowed": allowed,
        "reason": reason,
        "isolated_by": [p.name for p in verdict.isolated_by],
        "rules": [
            {
                "policy": s.policy.name,
                "rule": ".".join(str(p) for p in s.rule.path),
                "action": s.rule.action.value,
                "ports": s.ports.describe(),
                "certain": s.certain,
            }
            for s in steps
        ],
        "ports": verdict.ports.describe(),
    }


def connection_document(connection: Connection) -> dict[str, Any]:
    protocol, port = connection.protocol, connection.port
    return {
        "allowed": connection.allowed,
        "certain": connection.certain,
        "from": _side(connection.source),
        "to": _side(connection.destination),
        "protocol": protocol,
        "port": port,
        "ports": connection.ports.describe(),
        "egress": _direction(
            connection.egress, protocol, port, "the source is outside the cluster"
        ),
        "ingress": _direction(
            connection.ingress, protocol, port, "the destination is outside the cluster"
        ),
    }


def _name(side: dict[str, Any]) -> str:
    if "address" in side:
        return side["address"]
    return f"{side['workload']} ({side['kind']})"


def _ports_text(ports: Any) -> str:
    if ports == "all":
        return "all ports"
    if not ports:
        return "no port"
    return ", ".join(
        f"{p['protocol']}/{p['port']}" + (f"-{p['endPort']}" if "endPort" in p else "")
        for p in ports
    )


def render_connection(document: dict[str, Any]) -> str:
    what = "any port"
    if document["port"] is not None:
        what = f"{document['protocol']}/{document['port']}"
    elif document["protocol"] is not None:
        what = f"any {document['protocol']} port"
    verdict = "ALLOWED" if document["allowed"] else "DENIED"
    lines = [f"{verdict}: {_name(document['from'])} -> {_name(document['to'])} on {what}"]
    if not document["certain"]:
        lines.append("  (depends on namespace labels that the input does not show)")
    if document["allowed"] and document["port"] is None:
        lines.append(f"  open ports: {_ports_text(document['ports'])}")
    for direction, end in (("egress", "from"), ("ingress", "to")):
        side = document[direction]
        mark = "allows" if side["allowed"] else "denies"
        lines.append(f"{direction} of {_name(document[end])} {mark}: {side['reason']}")
        if side["isolated_by"]:
            lines.append(f"  isolated by: {', '.join(side['isolated_by'])}")
        for rule in side["rules"]:
            lines.append(
                f"  {rule['action']}: {rule['policy']} {rule['rule']} "
                f"({_ports_text(rule['ports'])})"
            )
    return "\n".join(lines) + "\n"


# The whole cluster


def _print_map(
    engine: NetworkEngine, request: ReachRequest, env: Environment, inventory: Inventory
) -> int:
    result = connectivity_map(engine, limit=request.limit)
    if request.output_format == "json":
        env.stdout.write(json.dumps(result.as_dict(), indent=2, sort_keys=True) + "\n")
    else:
        for entry in result.connections:
            env.stdout.write(
                f"{_name(entry['from'])} -> {_name(entry['to'])}: {_ports_text(entry['ports'])}\n"
            )
    if result.truncated:
        env.stderr.write(
            f"zt-audit: {result.total} connections; the first {len(result.connections)} are "
            "listed (the JSON form summarises all of them per namespace pair)\n"
        )
    return ExitStatus.USAGE_ERROR if inventory.errors else ExitStatus.OK
