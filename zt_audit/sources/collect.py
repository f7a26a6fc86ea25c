"""Collecting a cluster: every discovered kind listed in pages, a few lists at a time.

A list the credentials may not make (403), or that keeps failing, costs only that kind:
it is recorded with the reason, and the checks that need it report not observable.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from zt_audit.sources.discovery import Target, discover
from zt_audit.sources.fetch import JSON, METADATA_ONLY, RequestFailed, RetryPolicy, get_json
from zt_audit.sources.kinds import bare_names, permission
from zt_audit.sources.sanitise import normalise
from zt_audit.sources.transport import Transport

log = logging.getLogger(__name__)

# Secrets are listed once per built-in type (a field selector the API server supports),
# so that the type is known without reading a single Secret; the last list takes the rest.
SECRET_TYPES = (
    "Opaque",
    "bootstrap.kubernetes.io/token",
    "kubernetes.io/basic-auth",
    "kubernetes.io/dockercfg",
    "kubernetes.io/dockerconfigjson",
    "kubernetes.io/service-account-token",
    "kubernetes.io/ssh-auth",
    "kubernetes.io/tls",
)
OTHER_SECRET_TYPES = ",".join(f"type!={name}" for name in SECRET_TYPES)
MAX_PAGES = 20_000  # ten million objects of one kind at the default page size


class Progress(Protocol):
    """Told how many lists there are, then of each one done. Called from one thread."""

    def start(self, total: int) -> None: ...

    def advance(self, label: str) -> None: ...


@dataclass(frozen=True)
class CollectOptions:
    namespaces: tuple[str, ...] = ()  # empty: the whole cluster
    workers: int = 4
    page_size: int = 500
    retry: RetryPolicy = field(default_factory=RetryPolicy)


@dataclass
class Collection:
    """Everything read from a cluster, and what could not be read."""

    objects: list[dict[str, Any]]
    server_version: str
    collected_at: str
    source: str
    namespaces: tuple[str, ...] = ()
    not_collected: dict[str, str] = field(default_factory=dict)  # kind key -> reason
    missing_apis: set[str] = field(default_factory=set)
    missing_namespaces: tuple[str, ...] = ()  # asked for with -n, and not found
    dropped: dict[str, int] = field(default_factory=dict)  # kind key -> malformed items

    @property
    def complete(self) -> bool:
        return not self.namespaces


@dataclass(frozen=True)
class _Task:
    target: Target
    namespace: str | None = None
    name: str | None = None  # a single GET instead of a list
    secret_type: str | None = None  # for Secrets: the type this list selects
    selector: str | None = None

    @property
    def label(self) -> str:
        where = f" in {self.namespace}" if self.namespace else ""
        return f"{self.target.resource}{where}"


def collect(
    transport: Transport, options: CollectOptions, progress: Progress | None = None
) -> Collection:
    found = discover(transport, options.retry)
    collected_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    tasks = _plan(found.targets, options.namespaces)
    if progress is not None:
        progress.start(len(tasks))

    objects: list[dict[str, Any]] = []
    dropped: dict[str, int] = {}
    not_collected = dict(found.unavailable)
    workers = max(1, min(options.workers, len(tasks) or 1))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="zt-audit-list") as pool:
        futures = {pool.submit(_run, transport, task, options): task for task in tasks}
        try:
            for future in as_completed(futures):
                task = futures[future]
                try:
                    kept, malformed = future.result()
                    objects.extend(kept)
                    if malformed:
                        dropped[task.target.key] = dropped.get(task.target.key, 0) + malformed
                except RequestFailed as error:
                    reason = _reason(task, error)
                    log.info("%s: not collected: %s", task.label, reason)
                    not_collected.setdefault(task.target.key, reason)
                if progress is not None:
                    progress.advance(task.label)
        except BaseException:
            # A 401 or an interrupt ends the scan: lists not yet started are not sent.
            pool.shutdown(wait=False, cancel_futures=True)
            raise

    objects.sort(key=_identity)
    not_collected, missing = bare_names(not_collected, found.missing)
    namespaces = tuple(sorted(set(options.namespaces)))
    present = {_identity(o)[3] for o in objects if o.get("kind") == "Namespace"}
    return Collection(
        objects=objects,
        server_version=found.version,
        collected_at=collected_at,
        source=transport.description,
        namespaces=namespaces,
        not_collected=not_collected,
        missing_apis=missing,
        dropped=dict(sorted(dropped.items())),
        missing_namespaces=tuple(
            ns for ns in namespaces if ns not in present and "Namespace" not in not_collected
        ),
    )


def _plan(targets: Sequence[Target], namespaces: Sequence[str]) -> list[_Task]:
    scopes: list[str | None] = sorted(set(namespaces)) or [None]
    tasks: list[_Task] = []
    for target in targets:
        if target.kind == "Namespace" and target.group_version == "v1" and namespaces:
            # Listing namespaces needs a cluster-wide grant a namespaced user lacks.
            tasks.extend(_Task(target, name=name) for name in sorted(set(namespaces)))
            continue
        for scope in scopes if target.namespaced else [None]:
            if target.entry.metadata_only and target.kind == "Secret":
                tasks.extend(
                    _Task(target, scope, secret_type=name, selector=f"type={name}")
                    for name in SECRET_TYPES
                )
                tasks.append(_Task(target, scope, selector=OTHER_SECRET_TYPES))
            else:
                tasks.append(_Task(target, scope))
    return tasks


def _run(
    transport: Transport, task: _Task, options: CollectOptions
) -> tuple[list[dict[str, Any]], int]:
    """The objects a task collects, and how many items it had to drop as malformed."""
    target = task.target
    accept = METADATA_ONLY if target.entry.metadata_only else JSON
    if task.name is not None:
        try:
            path = target.path(name=task.name)
            item = get_json(transport, path, accept=accept, retry=options.retry)
        except RequestFailed as error:
            if error.status == 404:
                return [], 0  # reported from the collection: it holds no such Namespace
            raise
        return _keep([item], task)
    return _keep(_paged(transport, task, accept, options), task)


def _paged(transport: Transport, task: _Task, accept: str, options: CollectOptions) -> list[Any]:
    """Every item of a list, page by page. An expired continue token restarts it once."""
    path = task.target.path(task.namespace)
    base = [("limit", str(options.page_size))]
    if task.selector:
        base.append(("fieldSelector", task.selector))
    for restart in (False, True):
        items: list[Any] = []
        token: str | None = None
        seen: set[str] = set()
        try:
            while True:
                query = [*base, ("continue", token)] if token else base
                page = get_json(transport, path, query, accept=accept, retry=options.retry)
                page_items = page.get("items")
                items.extend(page_items if isinstance(page_items, list) else [])
                metadata = page.get("metadata")
                token = metadata.get("continue") if isinstance(metadata, dict) else None
                if not token or not isinstance(token, str):
                    return items
                if token in seen or len(seen) >= MAX_PAGES:
                    # A server that never ends a list must not hold the scan forever.
                    raise RequestFailed(200, f"GET {path}: the list does not end")
                seen.add(token)
        except RequestFailed as error:
            if error.status != 410 or restart:
                raise
            log.info("%s: the list changed too much while paging; starting again", path)
    return []  # not reached: the second pass returns or raises


def _keep(items: list[Any], task: _Task) -> tuple[list[dict[str, Any]], int]:
    target = task.target
    kept = []
    for item in items:
        obj = normalise(
            item,
            target.group_version,
            target.kind,
            metadata_only=target.entry.metadata_only,
            secret_type=task.secret_type,
        )
        if obj is not None:
            kept.append(obj)
    return kept, len(items) - len(kept)


def _reason(task: _Task, error: RequestFailed) -> str:
    if error.status == 403:
        return permission(task.target.entry.group, task.target.resource, task.namespace)
    return f"{error}"


def _identity(obj: dict[str, Any]) -> tuple[str, str, str, str]:
    metadata = obj.get("metadata")
    metadata = metadata if isinstance(metadata, dict) else {}
    return (
        str(obj.get("apiVersion")),
        str(obj.get("kind")),
        str(metadata.get("namespace") or ""),
        str(metadata.get("name") or ""),
    )
