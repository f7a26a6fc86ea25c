"""Istio DestinationRules that make clients downgrade from Istio mutual TLS.

A DestinationRule's ``trafficPolicy.tls`` (at the top, per port, per subset) is the
client side of a connection. ``ISTIO_MUTUAL`` (or no setting, with auto mTLS on) sends
mesh mTLS; ``DISABLE`` sends plaintext; ``SIMPLE`` and ``MUTUAL`` originate the
application's own TLS, which toward a meshed server bypasses the mesh identity. Short
host names are read in the DestinationRule's namespace.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import yaml

from zt_audit.analysis.mesh.model import DataPlane, Mesh, WorkloadMtls
from zt_audit.analysis.selectors import parse_equality_map
from zt_audit.inventory import FieldPath, Inventory, Resource

GROUP = "networking.istio.io"
ISTIO_MESHES = (Mesh.ISTIO, Mesh.ISTIO_AMBIENT)


@dataclass(frozen=True)
class TlsSetting:
    rule: Resource
    mode: str
    path: FieldPath
    scope: str  # "all ports", "port 8080", "subset v1"


@dataclass(frozen=True)
class Downgrade:
    setting: TlsSetting
    host: str
    meshed: tuple[str, ...]  # the meshed workloads behind the host
    uncertain: tuple[str, ...] = ()  # workloads whose mesh membership is unknown

    @property
    def confirmed(self) -> bool:
        return bool(self.meshed)


def tls_settings(rule: Resource) -> Iterator[TlsSetting]:
    """Every client TLS mode a DestinationRule sets, with the field that sets it."""
    yield from _policy_settings(rule, rule.spec.get("trafficPolicy"), ("spec", "trafficPolicy"), "")
    subsets = rule.spec.get("subsets")
    for index, subset in enumerate(subsets if isinstance(subsets, list) else []):
        if not isinstance(subset, dict):
            continue
        name = subset.get("name", index)
        path = ("spec", "subsets", index, "trafficPolicy")
        yield from _policy_settings(rule, subset.get("trafficPolicy"), path, f"subset {name}")


def _policy_settings(
    rule: Resource, policy: Any, path: FieldPath, scope: str
) -> Iterator[TlsSetting]:
    if not isinstance(policy, dict):
        return
    tls = policy.get("tls")
    if isinstance(tls, dict) and isinstance(tls.get("mode"), str):
        yield TlsSetting(rule, tls["mode"], (*path, "tls", "mode"), scope or "all ports")
    settings = policy.get("portLevelSettings")
    for index, setting in enumerate(settings if isinstance(settings, list) else []):
        tls = setting.get("tls") if isinstance(setting, dict) else None
        if not isinstance(tls, dict) or not isinstance(tls.get("mode"), str):
            continue
        port = setting.get("port")
        number = port.get("number") if isinstance(port, dict) else None
        where = f"port {number}" + (f" of {scope}" if scope else "")
        yield TlsSetting(
            rule, tls["mode"], (*path, "portLevelSettings", index, "tls", "mode"), where
        )


def host_services(host: str, namespace: str, inventory: Inventory) -> list[Resource]:
    """The Services a DestinationRule host names, by Istio's host-name rules."""
    services = inventory.of_kind("Service", group="")
    if host in ("*", "*.local", "*.cluster.local", "*.svc.cluster.local"):
        return services
    parts = host.split(".")
    if host.startswith("*."):
        # "*.ns.svc.cluster.local" and "*.ns" cover every Service of a namespace.
        target = parts[1] if len(parts) > 1 else ""
        return [s for s in services if s.namespace == target]
    name = parts[0]
    if len(parts) == 1:
        target_namespace = namespace
    elif len(parts) == 2 or parts[2:3] == ["svc"]:
        target_namespace = parts[1]
    else:
        return []  # an external name: not a cluster Service
    return [s for s in services if s.name == name and s.namespace == target_namespace]


def downgrades(inventory: Inventory, results: dict[str, WorkloadMtls]) -> Iterator[Downgrade]:
    """TLS settings other than ISTIO_MUTUAL toward hosts whose workloads are in Istio."""
    for rule in sorted(inventory.of_kind("DestinationRule", group=GROUP), key=lambda r: str(r.ref)):
        host = rule.spec.get("host")
        if not isinstance(host, str):
            continue
        settings = [s for s in tls_settings(rule) if s.mode != "ISTIO_MUTUAL"]
        if not settings:
            continue
        behind = _behind(host, rule.namespace or "default", inventory, results)
        meshed = tuple(k for k, r in behind if r.mesh in ISTIO_MESHES)
        uncertain = tuple(k for k, r in behind if r.data_plane.state is DataPlane.UNKNOWN)
        if not meshed and not uncertain:
            continue
        for setting in settings:
            yield Downgrade(setting, host, meshed, uncertain)


def _behind(
    host: str, namespace: str, inventory: Inventory, results: dict[str, WorkloadMtls]
) -> list[tuple[str, WorkloadMtls]]:
    """The in-scope workloads that serve a host, by the selectors of its Services."""
    found: dict[str, WorkloadMtls] = {}
    for service in host_services(host, namespace, inventory):
        selector = service.spec.get("selector")
        if not isinstance(selector, dict) or not selector:
            continue
        matcher = parse_equality_map(selector)
        for key, result in results.items():
            workload = result.workload
            if workload.namespace == service.namespace and matcher.matches(workload.pod_labels):
                found[key] = result
    return sorted(found.items())


def auto_mtls_setting(inventory: Inventory, root: str) -> tuple[Resource, FieldPath] | None:
    """Where ``meshConfig.enableAutoMtls`` is turned off, if it is."""
    config = inventory.get("ConfigMap", root, "istio")
    data = config.obj.get("data") if config is not None else None
    text = data.get("mesh") if isinstance(data, dict) else None
    if config is not None and isinstance(text, str):
        try:
            mesh = yaml.safe_load(text)
        except yaml.YAMLError:
            mesh = None
        if isinstance(mesh, dict) and mesh.get("enableAutoMtls") is False:
            return config, ("data", "mesh")
    for operator in inventory.of_kind("IstioOperator", group="install.istio.io"):
        mesh_config = operator.spec.get("meshConfig")
        if isinstance(mesh_config, dict) and mesh_config.get("enableAutoMtls") is False:
            return operator, ("spec", "meshConfig", "enableAutoMtls")
    return None
