"""The network engine: endpoints, policies and who selects whom, built once per scan."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

from zt_audit.analysis.netpol.bits import from_bits, to_bits
from zt_audit.analysis.netpol.bulk import GroupReach, group_reach, transpose
from zt_audit.analysis.netpol.evaluate import DirectionVerdict, Target, evaluate_direction
from zt_audit.analysis.netpol.index import EndpointIndex
from zt_audit.analysis.netpol.model import DIRECTIONS, EGRESS, INGRESS, Endpoint, Policy
from zt_audit.analysis.netpol.policies import load_policies
from zt_audit.analysis.netpol.ports import PortSet
from zt_audit.inventory import Inventory, Workload


@dataclass
class Connection:
    """The answer to "may SRC open a connection to DST": both sides must allow it."""

    source: Target
    destination: Target
    egress: DirectionVerdict | None  # None when the source is outside the cluster
    ingress: DirectionVerdict | None  # None when the destination is outside the cluster
    protocol: str | None
    port: int | None

    @property
    def ports(self) -> PortSet:
        ports = PortSet.all()
        for side in (self.egress, self.ingress):
            if side is not None:
                ports = ports & side.ports
        return ports

    @property
    def certain_ports(self) -> PortSet:
        ports = PortSet.all()
        for side in (self.egress, self.ingress):
            if side is not None:
                ports = ports & side.certain_ports
        return ports

    def _covers(self, ports: PortSet) -> bool:
        if self.port is None:
            if self.protocol is None:
                return bool(ports)
            return self.protocol in ports.ranges
        return bool(ports & PortSet({self.protocol or "TCP": [(self.port, self.port)]}))

    @property
    def allowed(self) -> bool:
        return self._covers(self.ports)

    @property
    def certain(self) -> bool:
        """False when the answer rests on namespace labels that the input does not show."""
        return self.allowed == self._covers(self.certain_ports)


class NetworkEngine:
    """Policies and endpoints of an inventory, indexed for queries and whole-cluster facts."""

    def __init__(self, inventory: Inventory, workloads: Iterable[Workload] | None = None):
        self.inventory = inventory
        self.index = EndpointIndex(
            inventory, inventory.workloads if workloads is None else workloads
        )
        self.policies: list[Policy] = load_policies(inventory)
        self._applicable: list[dict[str, list[Policy]]] = [
            {INGRESS: [], EGRESS: []} for _ in self.index.endpoints
        ]
        self._subjects: dict[int, frozenset[int]] = {}
        self._groups: dict[str, list[tuple[GroupReach, int]]] = {}
        for policy in self.policies:
            subjects = self.index.subjects(policy)
            self._subjects[id(policy)] = subjects
            for direction in DIRECTIONS:
                if policy.affects(direction) or policy.rules_for(direction):
                    for i in subjects:
                        self._applicable[i][direction].append(policy)

    @property
    def endpoints(self) -> list[Endpoint]:
        return self.index.endpoints

    def subjects(self, policy: Policy) -> list[Endpoint]:
        return [self.index.endpoints[i] for i in sorted(self._subjects[id(policy)])]

    def applicable(self, endpoint: Endpoint, direction: str) -> list[Policy]:
        return self._applicable[endpoint.index][direction]

    def isolated(self, endpoint: Endpoint, direction: str) -> bool:
        return self.reach(direction)[endpoint.index].isolated

    # One connection

    def verdict(self, endpoint: Endpoint, direction: str, peer: Target) -> DirectionVerdict:
        policies = self.applicable(endpoint, direction)
        return evaluate_direction(self.index, endpoint, direction, policies, peer)

    def connection(
        self,
        source: Target,
        destination: Target,
        protocol: str | None = None,
        port: int | None = None,
    ) -> Connection:
        egress = self.verdict(source, EGRESS, destination) if isinstance(source, Endpoint) else None
        ingress = (
            self.verdict(destination, INGRESS, source)
            if isinstance(destination, Endpoint)
            else None
        )
        return Connection(source, destination, egress, ingress, protocol, port)

    # The whole cluster

    def reach(self, direction: str) -> list[GroupReach]:
        """For each endpoint, the peers its own policies allow in ``direction``."""
        return self._reach[direction]

    @cached_property
    def _reach(self) -> dict[str, list[GroupReach]]:
        result: dict[str, list[GroupReach]] = {}
        for direction in DIRECTIONS:
            groups: dict[tuple[int, ...], GroupReach] = {}
            members: dict[tuple[int, ...], list[int]] = {}
            values = []
            for endpoint in self.index.endpoints:
                policies = [] if endpoint.host_network else self.applicable(endpoint, direction)
                key = tuple(id(p) for p in policies)
                if key not in groups:
                    groups[key] = group_reach(self.index, policies, direction)
                members.setdefault(key, []).append(endpoint.index)
                values.append(groups[key])
            result[direction] = values
            self._groups[direction] = [
                (groups[key], to_bits(indices, self.index.size)) for key, indices in members.items()
            ]
        return result

    def _transposed(self, direction: str) -> list[int]:
        self.reach(direction)
        return transpose(self._groups[direction], self.index.size, self.index.all_bits)

    @cached_property
    def reachers(self) -> list[int]:
        """For each endpoint, the other endpoints that may connect to it on some port."""
        egress_ok = self._transposed(EGRESS)
        return [r.peers & egress_ok[i] & ~(1 << i) for i, r in enumerate(self.reach(INGRESS))]

    @cached_property
    def reachable(self) -> list[int]:
        """For each endpoint, the other endpoints it may connect to on some port."""
        ingress_ok = self._transposed(INGRESS)
        return [r.peers & ingress_ok[i] & ~(1 << i) for i, r in enumerate(self.reach(EGRESS))]

    def endpoints_of(self, bits: int) -> list[Endpoint]:
        return [self.index.endpoints[i] for i in from_bits(bits)]
