"""Per-workload posture facts for the report's ``workloads`` list.

Each analysis that knows something about a workload (its network isolation, its mTLS
mode) adds a key here; the JSON Schema describes every key.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from zt_audit.engine.context import ScanContext
from zt_audit.inventory import Workload

PostureSection = Callable[[ScanContext], dict[str, dict[str, Any]]]


def _basics(ctx: ScanContext) -> dict[str, dict[str, Any]]:
    facts = {}
    for workload in ctx.workloads:
        location = ctx.inventory.locator.locate(workload.resource.origin)
        facts[_key(workload)] = {
            "kind": workload.kind,
            "namespace": workload.namespace,
            "name": workload.name,
            "location": {"file": location.source, "line": location.line} if location else None,
            "service_account": workload.service_account,
            "host_network": workload.host_network,
            "containers": sorted(c.name for c in workload.containers()),
        }
    return facts


def _key(workload: Workload) -> str:
    return f"{workload.kind}/{workload.namespace}/{workload.name}"


# Sections in report order. Analyses append theirs here.
SECTIONS: list[tuple[str | None, PostureSection]] = [(None, _basics)]


def _mtls(ctx: ScanContext) -> dict[str, dict[str, Any]]:
    """Each workload's mesh, data plane and per-port mTLS mode (as ``zt-audit mtls``)."""
    from zt_audit.rules.mesh import mesh_of

    return {key: result.as_facts() for key, result in mesh_of(ctx).results.items()}


SECTIONS.append(("mtls", _mtls))


def _network(ctx: ScanContext) -> dict[str, dict[str, Any]]:
    """Each workload's network isolation and reach (as ``zt-audit reach``)."""
    from zt_audit.rules.network import network_posture

    return network_posture(ctx)


SECTIONS.append(("network", _network))


def _operations(ctx: ScanContext) -> dict[str, dict[str, Any]]:
    """Each workload's image verification, vulnerabilities, secret sources and GitOps state."""
    from zt_audit.analysis.ops_posture import operations_posture

    return operations_posture(ctx)


SECTIONS.append(("operations", _operations))


def _identity(ctx: ScanContext) -> dict[str, dict[str, Any]]:
    """Each workload's service account, token mounting and effective RBAC rights."""
    from zt_audit.rules.identity_access import identity_posture

    return identity_posture(ctx)


SECTIONS.append(("identity", _identity))


def workload_posture(ctx: ScanContext) -> list[dict[str, Any]]:
    merged: dict[str, dict[str, Any]] = {}
    for name, section in SECTIONS:
        for key, facts in section(ctx).items():
            entry = merged.setdefault(key, {})
            if name is None:
                entry.update(facts)
            else:
                entry[name] = facts
    return [merged[key] for key in sorted(merged)]
