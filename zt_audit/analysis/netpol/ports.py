"""Ports: rule port specs, named-port resolution and sets of (protocol, port range).

A rule's port may be a number, a range (``port`` to ``endPort``) or a name. A name is
resolved against the destination pod's container ports with the same protocol, so the
same rule can mean different numbers on different pods, or nothing at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

PROTOCOLS = ("TCP", "UDP", "SCTP")
MIN_PORT, MAX_PORT = 1, 65535

# Named ports of one pod: (protocol, name) -> container port numbers.
NamedPorts = Mapping[tuple[str, str], frozenset[int]]


@dataclass(frozen=True, slots=True)
class PortSpec:
    """One entry of a rule's ``ports``: a protocol and a number, range or name.

    ``port`` None means every port of the protocol. ``valid`` is False for specs the API
    server would reject, which then match nothing.
    """

    protocol: str = "TCP"
    port: int | str | None = None
    end_port: int | None = None
    valid: bool = True

    def numbers(self, named: NamedPorts) -> list[tuple[int, int]]:
        """The port ranges this spec covers on a destination with ``named`` ports."""
        if not self.valid:
            return []
        if self.port is None:
            return [(MIN_PORT, MAX_PORT)]
        if isinstance(self.port, str):
            return [(n, n) for n in sorted(named.get((self.protocol, self.port), ()))]
        return [(self.port, self.end_port or self.port)]

    def covers(self, protocol: str, port: int, named: NamedPorts) -> bool:
        if protocol != self.protocol:
            return False
        return any(low <= port <= high for low, high in self.numbers(named))

    def __str__(self) -> str:
        if self.port is None:
            return f"{self.protocol}/*"
        if self.end_port:
            return f"{self.protocol}/{self.port}-{self.end_port}"
        return f"{self.protocol}/{self.port}"


def parse_port_spec(value: Any) -> PortSpec:
    """A ``NetworkPolicyPort`` mapping. Protocol defaults to TCP."""
    if not isinstance(value, dict):
        return PortSpec(valid=False)
    protocol = value.get("protocol", "TCP")
    if protocol is None:
        protocol = "TCP"
    if not isinstance(protocol, str) or protocol.upper() not in PROTOCOLS:
        return PortSpec(valid=False)
    protocol = protocol.upper()
    port = value.get("port")
    end_port = value.get("endPort")
    if port is None:
        # endPort needs a numeric port; without a port every port of the protocol matches.
        return PortSpec(protocol, valid=end_port is None)
    if isinstance(port, bool):
        return PortSpec(protocol, valid=False)
    if isinstance(port, str) and port.isdigit():
        port = int(port)
    if isinstance(port, str):
        return PortSpec(protocol, port, valid=bool(port) and end_port is None)
    if not isinstance(port, int) or not MIN_PORT <= port <= MAX_PORT:
        return PortSpec(protocol, valid=False)
    if end_port is None:
        return PortSpec(protocol, port)
    if isinstance(end_port, bool) or not isinstance(end_port, int):
        return PortSpec(protocol, port, valid=False)
    if not port <= end_port <= MAX_PORT:
        return PortSpec(protocol, port, end_port, valid=False)
    return PortSpec(protocol, port, end_port)


def named_ports(pod_spec: Mapping[str, Any]) -> NamedPorts:
    """The named container ports of a pod spec, by (protocol, name)."""
    found: dict[tuple[str, str], set[int]] = {}
    for list_name in ("containers", "initContainers"):
        containers = pod_spec.get(list_name)
        if not isinstance(containers, list):
            continue
        for container in containers:
            ports = container.get("ports") if isinstance(container, dict) else None
            if not isinstance(ports, list):
                continue
            for port in ports:
                if not isinstance(port, dict):
                    continue
                name, number = port.get("name"), port.get("containerPort")
                protocol = port.get("protocol") or "TCP"
                if isinstance(name, str) and isinstance(number, int) and isinstance(protocol, str):
                    found.setdefault((protocol.upper(), name), set()).add(number)
    return {key: frozenset(numbers) for key, numbers in found.items()}


class PortSet:
    """A set of ports per protocol, as sorted disjoint ranges; ``PortSet.all()`` is all."""

    __slots__ = ("ranges",)

    def __init__(self, ranges: Mapping[str, Iterable[tuple[int, int]]] | None = None) -> None:
        self.ranges: dict[str, tuple[tuple[int, int], ...]] = {}
        for protocol, items in (ranges or {}).items():
            merged = _merge(items)
            if merged:
                self.ranges[protocol] = merged

    @classmethod
    def all(cls) -> PortSet:
        return cls({p: [(MIN_PORT, MAX_PORT)] for p in PROTOCOLS})

    @classmethod
    def of(cls, specs: Iterable[PortSpec] | None, named: NamedPorts) -> PortSet:
        """The ports of a rule's specs (None: every port) on a destination."""
        if specs is None:
            return cls.all()
        ranges: dict[str, list[tuple[int, int]]] = {}
        for spec in specs:
            ranges.setdefault(spec.protocol, []).extend(spec.numbers(named))
        return cls(ranges)

    @property
    def is_all(self) -> bool:
        full = ((MIN_PORT, MAX_PORT),)
        return all(self.ranges.get(p) == full for p in PROTOCOLS)

    def __bool__(self) -> bool:
        return bool(self.ranges)

    def __or__(self, other: PortSet) -> PortSet:
        keys = set(self.ranges) | set(other.ranges)
        return PortSet({k: (*self.ranges.get(k, ()), *other.ranges.get(k, ())) for k in keys})

    def __and__(self, other: PortSet) -> PortSet:
        result: dict[str, list[tuple[int, int]]] = {}
        for protocol in set(self.ranges) & set(other.ranges):
            for low, high in self.ranges[protocol]:
                for other_low, other_high in other.ranges[protocol]:
                    start, end = max(low, other_low), min(high, other_high)
                    if start <= end:
                        result.setdefault(protocol, []).append((start, end))
        return PortSet(result)

    def __sub__(self, other: PortSet) -> PortSet:
        result: dict[str, list[tuple[int, int]]] = {}
        for protocol, ranges in self.ranges.items():
            remaining = list(ranges)
            for cut_low, cut_high in other.ranges.get(protocol, ()):
                remaining = [
                    piece
                    for low, high in remaining
                    for piece in ((low, min(high, cut_low - 1)), (max(low, cut_high + 1), high))
                    if piece[0] <= piece[1]
                ]
            result[protocol] = remaining
        return PortSet(result)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PortSet) and self.ranges == other.ranges

    def __hash__(self) -> int:
        return hash(tuple(sorted(self.ranges.items())))

    def describe(self) -> str | list[dict[str, Any]]:
        """``"all"`` or a sorted list of {protocol, port, endPort}, as the JSON output has it."""
        if self.is_all:
            return "all"
        items = []
        for protocol in sorted(self.ranges):
            for low, high in self.ranges[protocol]:
                entry: dict[str, Any] = {"protocol": protocol, "port": low}
                if high != low:
                    entry["endPort"] = high
                items.append(entry)
        return items

    def __str__(self) -> str:
        described = self.describe()
        if described == "all":
            return "all ports"
        parts = []
        for item in described:
            end = f"-{item['endPort']}" if "endPort" in item else ""
            parts.append(f"{item['protocol']}/{item['port']}{end}")
        return ", ".join(parts) or "no ports"


def _merge(items: Iterable[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    merged: list[tuple[int, int]] = []
    for low, high in sorted(items):
        if merged and low <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], high))
        else:
            merged.append((low, high))
    return tuple(merged)
