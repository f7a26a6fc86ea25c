"""The whole-cluster connectivity map: every allowed connection, with its ports.

Candidate pairs come from the bitset view, so pairs that no policy lets through are
never examined; each candidate is then evaluated exactly, ports intersected on both
sides. Address ranges appear where rules name them, and as "any address" where a side
is not isolated. A cap keeps a huge open cluster from printing millions of lines: past
it, connections are summarised per namespace pair.
"""

from __future__ import annotations

import ipaddress
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from zt_audit.analysis.netpol.bits import from_bits
from zt_audit.analysis.netpol.engine import NetworkEngine
from zt_audit.analysis.netpol.evaluate import Address
from zt_audit.analysis.netpol.model import EGRESS, INGRESS, Action, Endpoint, IPBlock
from zt_audit.analysis.netpol.ports import PortSet

ANYWHERE = ("0.0.0.0/0", "::/0")
DEFAULT_LIMIT = 20000


@dataclass
class ConnectivityMap:
    connections: list[dict[str, Any]] = field(default_factory=list)
    total: int = 0
    estimated: int = 0  # connections past the cap, counted port-blind rather than listed
    namespace_pairs: Counter = field(default_factory=Counter)

    @property
    def truncated(self) -> bool:
        return self.total > len(self.connections)

    def as_dict(self) -> dict[str, Any]:
        return {
            "connections": self.connections,
            "total": self.total,
            "estimated": self.estimated,
            "truncated": self.truncated,
            "namespaces": [
                {"from": src, "to": dst, "connections": count}
                for (src, dst), count in sorted(self.namespace_pairs.items())
            ],
        }


def workload_ref(endpoint: Endpoint) -> dict[str, str]:
    return {"workload": endpoint.key, "kind": endpoint.kind}


def connectivity_map(engine: NetworkEngine, limit: int = DEFAULT_LIMIT) -> ConnectivityMap:
    """Every allowed connection, exactly, up to ``limit``; past it, counted per namespace."""
    result = ConnectivityMap()
    namespace_of = [e.namespace for e in engine.endpoints]
    for source in sorted(engine.endpoints, key=lambda e: (e.key, e.kind)):
        destinations = from_bits(engine.reachable[source.index])
        if len(result.connections) >= limit:
            _count(result, source, destinations, namespace_of, engine)
            continue
        for index in destinations:
            destination = engine.endpoints[index]
            ports = engine.connection(source, destination).ports
            if ports:
                result.connections.append(
                    _entry(workload_ref(source), workload_ref(destination), ports)
                )
                result.namespace_pairs[(source.namespace, destination.namespace)] += 1
        for block, ports in external_ports(engine, source, EGRESS):
            result.connections.append(_entry(workload_ref(source), {"address": block}, ports))
        for block, ports in external_ports(engine, source, INGRESS):
            result.connections.append(_entry({"address": block}, workload_ref(source), ports))
    result.total = len(result.connections) + result.estimated
    del result.connections[limit:]
    result.connections.sort(key=_sort_key)
    return result


def _count(
    result: ConnectivityMap,
    source: Endpoint,
    destinations: list[int],
    namespace_of: list[str],
    engine: NetworkEngine,
) -> None:
    """Past the cap: count a source's connections without evaluating their ports."""
    for namespace, count in Counter(namespace_of[i] for i in destinations).items():
        result.namespace_pairs[(source.namespace, namespace)] += count
    external = sum(
        len(ANYWHERE) if block == "any" else 1
        for direction in (EGRESS, INGRESS)
        for block in engine.reach(direction)[source.index].external
    )
    result.estimated += len(destinations) + external


def _entry(source: dict[str, str], destination: dict[str, str], ports: PortSet) -> dict:
    return {"from": source, "to": destination, "ports": ports.describe()}


def _sort_key(entry: dict[str, Any]) -> tuple[str, str]:
    def name(side: dict[str, str]) -> str:
        return side.get("workload") or side.get("address") or ""

    return name(entry["from"]), name(entry["to"])


def external_ports(
    engine: NetworkEngine, endpoint: Endpoint, direction: str
) -> list[tuple[str, PortSet]]:
    """Address ranges the endpoint's own policies allow in ``direction``, with ports.

    Each range is probed at one representative address; ranges come from the rules
    themselves, plus every address when the endpoint is not isolated.
    """
    blocks: dict[str, Address] = {}
    for policy in engine.applicable(endpoint, direction):
        for rule in policy.rules_for(direction):
            if rule.action is not Action.ALLOW:
                continue
            for peer in rule.peers:
                if peer.ip_block is not None:
                    probe = representative(peer.ip_block)
                    if probe is not None:
                        blocks[str(peer.ip_block)] = probe
                elif peer.any_peer:
                    blocks.update(_anywhere())
    if not engine.reach(direction)[endpoint.index].isolated:
        blocks.update(_anywhere())
    found = []
    for block, probe in sorted(blocks.items()):
        ports = engine.verdict(endpoint, direction, probe).ports
        if ports:
            found.append((block, ports))
    return found


def _anywhere() -> dict[str, Address]:
    return {
        "0.0.0.0/0": ipaddress.ip_address("203.0.113.1"),
        "::/0": ipaddress.ip_address("2001:db8::1"),
    }


# Limitation: a range is probed at one address, so ranges whose rules differ inside them
# (overlapping blocks with different ports) are reported with the probe's ports.
def representative(block: IPBlock) -> Address | None:
    """An address inside the block and outside its exceptions, if one is easy to find."""
    network = block.cidr
    candidates = [network.network_address, network.broadcast_address]
    if network.num_addresses > 2:
        candidates.insert(0, network.network_address + 1)
    for candidate in candidates:
        if block.contains(candidate):
            return candidate
    return None
