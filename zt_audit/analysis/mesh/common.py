"""Small readers shared by the mesh analyses: ports, ages, annotation values."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from zt_audit.analysis.mesh.model import Port
from zt_audit.inventory import Resource, Workload

# Proxy containers: their own ports (admin, metrics) are not the application's.
PROXY_CONTAINERS = frozenset({"istio-proxy", "linkerd-proxy", "istio-init", "linkerd-init"})


def workload_ports(workload: Workload) -> list[Port]:
    """The TCP ports the application containers declare, by number, without duplicates."""
    found: dict[int, Port] = {}
    for container in workload.containers(include_init=False):
        if container.name in PROXY_CONTAINERS:
            continue
        entries = container.spec.get("ports")
        if not isinstance(entries, list):
            continue
        for index, entry in enumerate(entries):
            if not isinstance(entry, dict):
                continue
            number = port_number(entry.get("containerPort"))
            protocol = entry.get("protocol", "TCP")
            if number is None or protocol not in ("TCP", None) or number in found:
                continue
            name = entry.get("name") if isinstance(entry.get("name"), str) else None
            found[number] = Port(number, name, (*container.path, "ports", index))
    return [found[number] for number in sorted(found)]


def port_number(value: Any) -> int | None:
    """A port given as a number or a numeric string; None for names or nonsense."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and value.strip().isdigit():
        number = int(value.strip())
    else:
        return None
    return number if 0 < number < 65536 else None


def port_set(text: str) -> set[int]:
    """``"4190,4191,9000-9002"`` as {4190, 4191, 9000, 9001, 9002}; bad items are skipped."""
    ports: set[int] = set()
    for item in text.split(","):
        low, dash, high = item.strip().partition("-")
        start, end = port_number(low), port_number(high) if dash else port_number(low)
        if start is not None and end is not None and start <= end:
            ports.update(range(start, min(end, start + 65535) + 1))
    return ports


def age_key(resource: Resource) -> tuple[int, str, str]:
    """Oldest first: by ``creationTimestamp``, then by name.

    Objects from manifests carry no timestamp; they would be created after every object
    that has one, so they sort last, and by name among themselves.
    """
    stamp = resource.metadata.get("creationTimestamp")
    if isinstance(stamp, str) and stamp:
        return (0, stamp, resource.name)
    return (1, "", resource.name)


def oldest(resources: Iterable[Resource]) -> list[Resource]:
    return sorted(resources, key=age_key)


def flag(value: str | None) -> bool | None:
    """An annotation or ConfigMap flag: True, False, or None when unset or unreadable."""
    if value is None:
        return None
    text = value.strip().lower()
    if text in ("true", "enabled", "yes", "1", "on"):
        return True
    if text in ("false", "disabled", "no", "0", "off"):
        return False
    return None


def describe(resource: Resource, detail: str = "") -> str:
    return f"{resource.ref}: {detail}" if detail else str(resource.ref)
