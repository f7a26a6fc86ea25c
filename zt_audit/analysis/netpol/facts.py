"""Report facts: segmentation coverage, blast radius, and each workload's reach.

All of it comes from the port-blind bitset view (see ``bulk``), so it costs a few
integer operations per workload, however many policies there are.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from zt_audit.analysis.netpol.engine import NetworkEngine
from zt_audit.analysis.netpol.model import EGRESS, INGRESS, Endpoint

WORST = 10  # workloads listed under blast radius
LISTED = 50  # peers named per workload before only counting them


def segmentation(engine: NetworkEngine, endpoints: Iterable[Endpoint]) -> dict[str, Any]:
    """How many workloads are isolated in each direction and in both."""
    endpoints = list(endpoints)
    ingress, egress = engine.reach(INGRESS), engine.reach(EGRESS)
    both = sum(1 for e in endpoints if ingress[e.index].isolated and egress[e.index].isolated)
    total = len(endpoints)
    return {
        "workloads": total,
        "ingress_isolated": sum(1 for e in endpoints if ingress[e.index].isolated),
        "egress_isolated": sum(1 for e in endpoints if egress[e.index].isolated),
        "isolated_both": both,
        "coverage": round(both / total, 4) if total else None,
    }


def blast_radius(engine: NetworkEngine, endpoints: Iterable[Endpoint]) -> dict[str, Any]:
    """The workloads that the most others may connect to, worst first."""
    endpoints = list(endpoints)
    counts = [(engine.reachers[e.index].bit_count(), e) for e in endpoints]
    counts.sort(key=lambda item: (-item[0], item[1].key, item[1].kind))
    total = len(engine.endpoints) - 1
    return {
        "other_workloads": total,
        "worst": [
            {
                "workload": e.key,
                "kind": e.kind,
                "reachable_from": count,
                "external": list(engine.reach(INGRESS)[e.index].external),
            }
            for count, e in counts[:WORST]
        ],
    }


def _peers(engine: NetworkEngine, bits: int) -> dict[str, Any]:
    count = bits.bit_count()
    summary: dict[str, Any] = {"workloads": count}
    if count <= LISTED:
        found = engine.endpoints_of(bits)
        summary["namespaces"] = sorted({e.namespace for e in found})
        summary["names"] = sorted(e.key for e in found)
    return summary


def workload_facts(engine: NetworkEngine, endpoint: Endpoint) -> dict[str, Any]:
    ingress = engine.reach(INGRESS)[endpoint.index]
    egress = engine.reach(EGRESS)[endpoint.index]
    return {
        "outside_policy": endpoint.host_network,
        "ingress_isolated": ingress.isolated,
        "egress_isolated": egress.isolated,
        "ingress_policies": sorted(p.name for p in engine.applicable(endpoint, INGRESS)),
        "egress_policies": sorted(p.name for p in engine.applicable(endpoint, EGRESS)),
        "reachable_from": {
            **_peers(engine, engine.reachers[endpoint.index]),
            "external": list(ingress.external),
        },
        "reaches": {
            **_peers(engine, engine.reachable[endpoint.index]),
            "external": list(egress.external),
        },
    }
