"""API discovery: which of the kinds zt-audit reads this cluster serves, and where.

An add-on's kinds (Istio, Calico, Kyverno, ...) are listed only when its API group is
served. A known kind whose API is absent is remembered, so that a check for the tool's
presence can fail honestly instead of calling the evidence unobservable.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from zt_audit.errors import SourceError
from zt_audit.sources.fetch import RequestFailed, RetryPolicy, get_json
from zt_audit.sources.kinds import CATALOG, ApiKind, evidence_key
from zt_audit.sources.transport import Transport

log = logging.getLogger(__name__)


@dataclass(frozen=True, order=True)
class Target:
    """A kind as this cluster serves it."""

    group_version: str  # "v1", "apps/v1"
    resource: str
    kind: str
    namespaced: bool
    entry: ApiKind

    @property
    def key(self) -> str:
        return evidence_key(self.entry.group, self.kind)

    def path(self, namespace: str | None = None, name: str | None = None) -> str:
        base = "/api/v1" if self.group_version == "v1" else f"/apis/{self.group_version}"
        scope = f"/namespaces/{namespace}" if namespace and self.namespaced else ""
        item = f"/{name}" if name else ""
        return f"{base}{scope}/{self.resource}{item}"


@dataclass
class Discovery:
    version: str = "unknown"
    targets: list[Target] = field(default_factory=list)
    missing: set[str] = field(default_factory=set)  # keys of known kinds whose API is absent
    unavailable: dict[str, str] = field(default_factory=dict)  # key -> why it is unreadable


def discover(transport: Transport, retry: RetryPolicy) -> Discovery:
    found = Discovery(version=_server_version(transport, retry))
    by_group: dict[str, list[ApiKind]] = {}
    for entry in CATALOG:
        by_group.setdefault(entry.group, []).append(entry)

    groups = {"": ["v1"], **_served_groups(transport, retry)}
    for group, entries in sorted(by_group.items()):
        versions = groups.get(group)
        if not versions:
            found.missing.update(evidence_key(e.group, e.kind) for e in entries if e.kind != "*")
            continue
        _resolve_group(transport, retry, group, versions, entries, found)
    found.targets.sort()
    return found


def _server_version(transport: Transport, retry: RetryPolicy) -> str:
    """The first request: it tells an unreachable server from a reachable one."""
    try:
        data = get_json(transport, "/version", retry=RetryPolicy(2, retry.first_wait))
    except RequestFailed as error:
        if error.status == 0:
            reason = f"{transport.server}: cannot reach the API server: {error}"
            raise SourceError(reason) from error
        if error.status == 404:
            raise SourceError(f"{transport.server}: not a Kubernetes API server") from error
        log.warning("cluster version unknown: /version answered %s", error)
        return "unknown"
    version = data.get("gitVersion")
    return version if isinstance(version, str) and version else "unknown"


def _served_groups(transport: Transport, retry: RetryPolicy) -> dict[str, list[str]]:
    """API group -> its versions, preferred first."""
    try:
        data = get_json(transport, "/apis", retry=retry)
    except RequestFailed as error:
        raise SourceError(f"{transport.server}: API discovery failed: {error}") from error
    served: dict[str, list[str]] = {}
    for group in _list(data.get("groups")):
        name = group.get("name")
        if not isinstance(name, str):
            continue
        versions = [
            v["groupVersion"]
            for v in _list(group.get("versions"))
            if isinstance(v.get("groupVersion"), str)
        ]
        preferred = group.get("preferredVersion")
        if isinstance(preferred, dict) and preferred.get("groupVersion") in versions:
            versions.remove(preferred["groupVersion"])
            versions.insert(0, preferred["groupVersion"])
        served[name] = versions
    return served


def _resolve_group(
    transport: Transport,
    retry: RetryPolicy,
    group: str,
    versions: list[str],
    entries: list[ApiKind],
    found: Discovery,
) -> None:
    """Find each entry's resource in the group's versions, the preferred one first."""
    wanted = {entry.resource: entry for entry in entries}
    failure: str | None = None
    for group_version in versions:
        path = "/api/v1" if group_version == "v1" else f"/apis/{group_version}"
        try:
            resources = _list(get_json(transport, path, retry=retry).get("resources"))
        except RequestFailed as error:
            # An aggregated API whose backend is down answers 503 here.
            failure = failure or f"API {group_version} did not answer discovery ({error})"
            continue
        for resource in resources:
            target = _target(group_version, resource, wanted)
            if target is not None:
                found.targets.append(target)
                if target.entry.resource != "*":
                    del wanted[target.entry.resource]
        wanted.pop("*", None)  # every kind of the preferred version is enough
        if not wanted:
            return
    for entry in wanted.values():
        if entry.kind == "*":
            continue
        key = evidence_key(group, entry.kind)
        if failure is not None:
            found.unavailable[key] = failure  # it may exist: we could not tell
        else:
            found.missing.add(key)


def _target(group_version: str, resource: dict[str, Any], wanted: dict[str, ApiKind]):
    name, kind = resource.get("name"), resource.get("kind")
    if not (isinstance(name, str) and isinstance(kind, str)) or "/" in name:
        return None  # subresources such as pods/status
    verbs = resource.get("verbs")
    if not isinstance(verbs, list) or "list" not in verbs:
        return None
    entry = wanted.get(name) or wanted.get("*")
    if entry is None or (entry.resource != "*" and entry.kind != kind):
        return None
    namespaced = resource.get("namespaced") is True
    return Target(group_version, name, kind, namespaced, entry)


def _list(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []
